//! Regressions: every input that made kgen crash, hang or misbehave, replayed through
//! the same checks as the fuzz targets (.fuzz/common.rs). Crash inputs the fuzzer
//! finds go under `.fuzz/regressions/<target>/` (replayed by `fuzz_regressions`) and get a
//! named test here when they teach something. The seed corpora are replayed too, so
//! the fuzz harness itself is tested by `cargo test`.

#[path = "../.fuzz/common.rs"]
mod fuzz;

use std::path::Path;

/// Runs `check` on every file under `dir` (a missing directory is fine).
fn replay(dir: &Path, check: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries {
        let path = e.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(result.is_ok(), "{} fails its fuzz check", path.display());
            n += 1;
        }
    }
    n
}

fn fuzz_dir(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".fuzz")
        .join(rel)
}

/// A fuzz target: its name and the check it runs on one input.
type Target = (&'static str, fn(&[u8]));

const TARGETS: &[Target] = &[
    ("parse", fuzz::check_parse),
    ("compile", fuzz::check_compile),
    ("overlay_edit", fuzz::check_overlay_edit),
    ("template", fuzz::check_template),
];

#[test]
fn fuzz_regressions() {
    for (target, check) in TARGETS {
        replay(&fuzz_dir(&format!("regressions/{target}")), *check);
    }
}

#[test]
fn fuzz_seeds_pass_their_checks() {
    for (target, check) in TARGETS {
        let n = replay(&fuzz_dir(&format!("seeds/{target}")), *check);
        assert!(n > 0, "no seeds for {target}");
    }
}

#[test]
fn the_example_platform_compiles_through_the_fuzz_harness() {
    // The harness must reach the end of the pipeline, or the fuzzer only tests errors.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let platform = std::fs::read_to_string(root.join("platform.toml")).unwrap();
    let mut overlays = Vec::new();
    for env in ["dev", "staging", "prod"] {
        let text = std::fs::read_to_string(root.join(format!("overlays/{env}.toml"))).unwrap();
        overlays.push((env, text));
    }
    let ov: Vec<(&str, &str)> = overlays.iter().map(|(e, t)| (*e, t.as_str())).collect();
    let data = fuzz::join(&platform, &ov);
    let files = fuzz::split(&data).unwrap();
    assert_eq!(files.overlays.len(), 3);
    let ws = kgen::Workspace::parse("/platform".into(), files).unwrap();
    assert!(kgen::compile::compile(&ws, &[]).is_ok());
    fuzz::check_compile(&data);
}

// Bugs found by hand while adding the fuzz targets and limits (docs/testing.md).

/// The secret scanner took quadratic time on long values: `has_jwt` rescanned the rest
/// of the value for every `eyJ`, `has_url_password` for every `://`, and
/// `reference_len` searched to the end for a closing `}}` or `)` at every `{{` / `$(`.
/// An 8 MiB value took hours. Now each is one pass.
#[test]
fn secret_scanner_is_linear_on_long_values() {
    for unit in ["eyJ.", "a://", "a://x:", "$(", "{{", "${", "{%", "a://b/"] {
        let value = unit.repeat(200_000 / unit.len());
        let _ = kgen::secret_scan::scan("DB_PASSWORD", &value);
        let _ = kgen::secret_scan::scan("LOG_LEVEL", &value);
    }
    // What they find is unchanged.
    let jwt = "x eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl y";
    assert!(kgen::secret_scan::scan("", jwt).is_some());
    assert!(kgen::secret_scan::scan("", &format!("eyJ.{jwt}")).is_some());
    assert!(kgen::secret_scan::scan("", "eyJ.eyJ.eyJ").is_none());
    assert!(kgen::secret_scan::scan("", "a://a://u:pw@host").is_some());
    assert!(kgen::secret_scan::scan("DB_PASSWORD", "{{ env.db }}").is_none());
    assert!(kgen::secret_scan::scan("DB_PASSWORD", "$(DB_PASSWORD)").is_none());
}

/// Templates could allocate without bound before the sandbox: `[1] * 99999999`
/// (2.4 GB at once), `{% set %}` doubling, recursive macros, and filter chains.
#[test]
fn templates_cannot_allocate_without_bound() {
    for source in [
        "{{ [1] * 99999999 }}",
        "{{ 'x' * 100000000 }}",
        "{% set a = 'xxxxxxxx' %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a }}",
        "{% macro d(s) %}{{ s }}{{ s }}{% endmacro %}{{ d(d(d(d(d(d(d(d('x')))))))) }}",
        "{{ 'x'|center(1000000000) }}",
        "{{ 'x'|indent(1000000000) }}",
    ] {
        fuzz::check_template(source.as_bytes());
        let t = kgen::template::Templates::new();
        assert!(
            t.render(source, &minijinja::context! {}).is_err(),
            "{source}"
        );
    }
}

/// A redacted diagnostic may not show its value in any format (the fuzz check).
#[test]
fn redacted_values_are_not_shown_in_any_format() {
    let platform = "[platform]\nname = \"a\"\nrepo = \"https://github.com/a/b.git\"\n\
        [environments.dev]\n[services.api]\nimage = \"a/b\"\ntag = \"1\"\n\
        env = { TOKEN = \"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\" }\n";
    fuzz::check_compile(platform.as_bytes());
}

/// An internal error is one line naming it a bug, with exit code 101 and no
/// backtrace, even when RUST_BACKTRACE asks for one.
#[test]
fn a_panic_is_reported_as_a_bug_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(["validate"])
        .current_dir(dir.path())
        .env("KGEN_TEST_PANIC", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(101));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "kgen: internal error (a bug in kgen {}, please report it): KGEN_TEST_PANIC is set at src/main.rs:",
            // The version and the commit, as `kgen --version` says them (build.rs).
            env!("KGEN_VERSION")
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
}

/// Found by the `overlay_edit` target: removing a key from a multi-line inline table
/// (TOML 1.1) deleted everything up to the next key, comments included. The edit now
/// refuses when a comment sits between the entries.
#[test]
fn removing_a_key_keeps_comments_in_multiline_inline_tables() {
    use kgen::overlay_edit::{apply, Edit, Field};
    let text = "[services]\naux-service = { tag = \"2.2.0\",\n  # pinned by hand\n  digest = \"sha256:0f2b\" }\n";
    let err = apply(text, &[Edit::remove("aux-service", Field::Tag)]).unwrap_err();
    assert!(err.message.contains("remove it by hand"), "{}", err.message);
    fuzz::check_edit(text, &Edit::remove("aux-service", Field::Tag));
    // Without a comment in the way it still works, on one line or several.
    for text in [
        "[services]\naux-service = { tag = \"2.2.0\", digest = \"sha256:0f2b\" }\n",
        "[services]\naux-service = { tag = \"2.2.0\",\n  digest = \"sha256:0f2b\" }\n",
    ] {
        let edited = apply(text, &[Edit::remove("aux-service", Field::Tag)]).unwrap();
        assert!(!edited.text.contains("tag"), "{}", edited.text);
        fuzz::check_edit(text, &Edit::remove("aux-service", Field::Tag));
    }
}

/// Found by the `compile` target: a value refused as a secret (by its key) was masked
/// in the snippet, but the same text elsewhere on the line, inside another value,
/// was shown. Every occurrence on the line is masked now.
#[test]
fn a_redacted_value_is_masked_wherever_it_appears_on_its_line() {
    let platform = "[platform]\nname = \"a\"\nrepo = \"https://github.com/a/b.git\"\n\
        [environments.dev]\n[services.api]\nimage = \"a/b\"\ntag = \"1\"\n\
        config = { DB_PASSWORD = \"hunter2-secret\", GREETING = \"hello hunter2-secret\" }\n";
    fuzz::check_compile(platform.as_bytes());
    let result = kgen::Workspace::parse(
        "/p".into(),
        kgen::workspace::InputFiles {
            platform: ("platform.toml".into(), platform.into()),
            overlays: vec![],
        },
    );
    let Err(kgen::Error::Invalid(inv)) = result else {
        panic!("the password must be refused");
    };
    let out = kgen::diagnostic::render(
        &inv.diagnostics,
        &inv.sources,
        kgen::diagnostic::Format::Human,
        false,
    );
    assert!(!out.contains("hunter2-secret"), "{out}");
    assert!(out.contains("GREETING = \"hello **************\""), "{out}");
}

#[test]
fn the_escape_hatch_example_compiles_through_the_fuzz_harness() {
    // Its manifests and patch file come from the input (`#@file`), its CRD schemas
    // from the platform directory the harness gives the workspace.
    let data = std::fs::read(fuzz_dir("seeds/compile/examples-escape-hatch")).unwrap();
    let (files, reader) = fuzz::split_all(&data).unwrap();
    assert_eq!(reader.0.len(), 4);
    let mut ws = kgen::Workspace::parse(fuzz::platform_root().to_path_buf(), files).unwrap();
    kgen::escape_hatch::files::read(&mut ws, &reader, None).unwrap();
    assert_eq!(
        ws.escape_hatch.manifests.len() + ws.escape_hatch.patch_files.len(),
        4
    );
    assert!(kgen::compile::compile(&ws, &[]).is_ok());
    fuzz::check_compile(&data);
}

/// Found by the `compile` target (issue 21's campaign): a secret-looking value of a
/// hand-written manifest (or a YAML patch file) written on the line after its key
/// (`token:` then the value, indented, or a `|` block) was located at its key: the
/// snippet masked the key's name, which the message prints anyway, and pointed at no
/// value. A value to mask is located on its own line now (`locate::locate_value`).
#[test]
fn a_secret_on_the_line_after_its_key_is_located_and_masked_there() {
    let platform = "[platform]\nname = \"a\"\nrepo = \"https://github.com/a/b.git\"\n\
        [environments.dev]\n[services.api]\nimage = \"a/b\"\ntag = \"1\"\nport = 80\n";
    for (manifest, line) in [
        ("spec:\n  token:\n    nameySYZZA9rO43cGDEq\n", 7),
        ("spec:\n  token: |\n    nameySYZZA9rO43cGDEq\n", 7),
        ("spec:\n  token: nameySYZZA9rO43cGDEq\n", 6),
    ] {
        let file =
            format!("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n{manifest}");
        let data = format!(
            "{platform}{}manifests/_all/api/w.yaml\n{file}",
            fuzz::FILE_MARK
        );
        fuzz::check_compile(data.as_bytes());
        let (files, reader) = fuzz::split_all(data.as_bytes()).unwrap();
        let mut ws = kgen::Workspace::parse(fuzz::platform_root().to_path_buf(), files).unwrap();
        kgen::escape_hatch::files::read(&mut ws, &reader, None).unwrap();
        let Err(kgen::Error::Invalid(inv)) = kgen::compile::compile(&ws, &[]) else {
            panic!("the token must be refused");
        };
        let d = inv
            .diagnostics
            .iter()
            .find(|d| d.code == "KG010")
            .expect("KG010");
        let out = kgen::diagnostic::render(
            std::slice::from_ref(d),
            &inv.sources,
            kgen::diagnostic::Format::Human,
            false,
        );
        assert!(!out.contains("nameySYZZA9rO43cGDEq"), "{out}");
        assert!(
            out.contains(&format!("manifests/_all/api/w.yaml:{line}:")),
            "{out}"
        );
        assert!(
            out.contains(&format!("{line} |     ****")) || line == 6,
            "{out}"
        );
    }
}
