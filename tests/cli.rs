//! The command line's conventions (issue 19): installing (one binary package,
//! `--version` with the commit), shell completions and man pages, `--color`,
//! `--quiet`, `--verbose`, finding platform.toml upward, carets under wide characters
//! and tabs, the versioned JSON output of every command and outcome, and GitHub
//! annotations named from the repository root.

mod common;

use std::path::Path;
use std::process::Command;

use common::{kgen_in, Output, Platform, MINIMAL};
use serde_json::Value;

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", out.stdout, out.stderr))
}

fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kgen"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for v in remove {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Appends to a generated file (it keeps kgen's header, so it is stale, not foreign).
fn append(path: &Path, text: &str) {
    let mut s = std::fs::read_to_string(path).unwrap();
    s.push_str(text);
    std::fs::write(path, s).unwrap();
}

// ------------------------------------------------------------------ install

#[test]
fn version_names_the_version_and_the_commit() {
    let out = kgen_in(Path::new(env!("CARGO_MANIFEST_DIR")), &["--version"]);
    assert_eq!(out.code, 0);
    let line = out.stdout.trim_end();
    let prefix = format!("kgen {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&prefix), "{line}");
    let rest = &line[prefix.len()..];
    let commit = rest.split([',', ')']).next().unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
}

/// `cargo install --git` looks at every Cargo.toml in the repository (hidden
/// directories and target/ aside) and refuses to choose when two packages have
/// binaries. Only kgen may.
#[test]
fn the_repository_holds_one_binary_package_for_cargo_install() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let with_bins: Vec<&str> = m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["targets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        })
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(with_bins, ["kgen"]);

    // What `cargo install --git` walks: no other manifest outside hidden directories.
    fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            if name.starts_with('.') || (name == "target" && dir == root) {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                walk(&p, root, found);
            } else if name == "Cargo.toml" && dir != root {
                found.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(root, root, &mut found);
    assert!(
        found.is_empty(),
        "packages cargo install --git would see: {found:?}"
    );
    assert!(root.join("LICENSE").is_file());
    let license = std::fs::read_to_string(root.join("LICENSE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0, January 2004"));
}

#[test]
fn bash_completions_load_in_bash() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipped: no bash");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = kgen_in(dir.path(), &["completions", "bash"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = dir.path().join("kgen.bash");
    std::fs::write(&file, &out.stdout).unwrap();
    let sourced = Command::new("bash")
        .arg("-c")
        .arg(format!("source '{}' && complete -p kgen", file.display()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&sourced.stdout);
    assert!(
        sourced.status.success() && said.contains("complete") && said.trim_end().ends_with(" kgen"),
        "{said}{}",
        String::from_utf8_lossy(&sourced.stderr)
    );
    // And it completes the commands.
    let words = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}'; COMP_WORDS=(kgen ren); COMP_CWORD=1; COMP_LINE='kgen ren'; COMP_POINT=8; _kgen kgen ren kgen; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file.display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&words.stdout)
            .lines()
            .any(|l| l == "render"),
        "{}",
        String::from_utf8_lossy(&words.stdout)
    );
}

#[test]
fn completions_for_every_shell_and_man_pages_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = kgen_in(dir.path(), &["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(
            out.stdout.contains("kgen") && out.stdout.contains("render"),
            "{shell}"
        );
    }
    let out = kgen_in(dir.path(), &["completions", "tcsh"]);
    assert_eq!(out.code, 2);
    // A name is not a file: bash offers no file names for `--env` (newcomer review 9,
    // #13), and does for `--platform`.
    let bash = kgen_in(dir.path(), &["completions", "bash"]).stdout;
    let env = bash
        .split("--env)")
        .nth(1)
        .unwrap()
        .split(";;")
        .next()
        .unwrap();
    assert!(!env.contains("compgen -f"), "{env}");
    let platform = bash
        .split("--platform)")
        .nth(1)
        .unwrap()
        .split(";;")
        .next()
        .unwrap();
    assert!(platform.contains("compgen -f"), "{platform}");

    let out = kgen_in(dir.path(), &["man"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains(".TH kgen 1"), "{}", out.stdout);
    let out = kgen_in(dir.path(), &["man", "--dir", "man"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for page in [
        "kgen.1",
        "kgen-render.1",
        "kgen-validate.1",
        "kgen-bump-image.1",
        "kgen-completions.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join("man").join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
}

/// `completions --help` and docs/cli.md install PowerShell's completions the same
/// way: appended to `$PROFILE`, which persists.
#[test]
fn completions_help_and_cli_md_agree_on_powershell() {
    let dir = tempfile::tempdir().unwrap();
    let out = kgen_in(dir.path(), &["completions", "--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let help = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("PowerShell: `kgen completions powershell >> $PROFILE` (every new session; `kgen completions powershell | Out-String | Invoke-Expression` loads it in this one only)."),
        "{help}"
    );
    let doc = std::fs::read_to_string(common::repo_root().join("docs/cli.md")).unwrap();
    assert!(
        doc.contains("kgen completions powershell >> $PROFILE              # PowerShell, every new session\n"),
        "docs/cli.md"
    );
}

/// `render --help` says what `--check` lists, foreign files included
/// (docs/cli.md#kgen-render---check), and so do the man page and completions made
/// from it.
#[test]
fn render_check_help_names_every_kind_of_difference() {
    let dir = tempfile::tempdir().unwrap();
    let out = kgen_in(dir.path(), &["render", "--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "      --check\n          Write nothing; exit 1 listing every stale, missing, extra or foreign file (foreign: a manifest kgen did not write, in a directory Argo CD deploys)\n"
        ),
        "{}",
        out.stdout
    );
    let out = kgen_in(dir.path(), &["man", "--dir", "man"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = std::fs::read_to_string(dir.path().join("man/kgen-render.1")).unwrap();
    assert!(
        page.contains("stale, missing, extra or foreign file"),
        "{page}"
    );
    let out = kgen_in(dir.path(), &["completions", "fish"]);
    assert!(
        out.stdout.contains("stale, missing, extra or foreign file"),
        "{}",
        out.stdout
    );
}

// ------------------------------------------------------------------ terminal

#[test]
fn color_follows_the_flag_no_color_and_clicolor_force() {
    let p = Platform::new(&MINIMAL.replace("port = 8080", "port = 0"), &[]);
    let esc = |o: &Output| o.stderr.contains("\x1b[");
    // Not a terminal: no colour by default.
    assert!(!esc(&run_with(p.path(), &["render"], &[], &[])));
    assert!(esc(&run_with(
        p.path(),
        &["render", "--color", "always"],
        &[],
        &[]
    )));
    assert!(esc(&run_with(
        p.path(),
        &["render"],
        &[("CLICOLOR_FORCE", "1")],
        &[]
    )));
    assert!(!esc(&run_with(
        p.path(),
        &["render"],
        &[("CLICOLOR_FORCE", "0")],
        &[]
    )));
    assert!(!esc(&run_with(
        p.path(),
        &["render"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &[]
    )));
    assert!(!esc(&run_with(
        p.path(),
        &["render", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")],
        &[]
    )));
    // The option goes before or after the command.
    assert!(esc(&run_with(
        p.path(),
        &["--color=always", "render"],
        &[],
        &[]
    )));
}

#[test]
fn quiet_prints_only_problems_and_verbose_times_every_stage() {
    let p = Platform::new(MINIMAL, &[]);
    // Warnings are problems: they stay; the summary line goes.
    let out = p.kgen(&["render", "--quiet"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert!(out.stderr.starts_with("warning[KG202]"), "{}", out.stderr);
    assert!(!out.stderr.contains("rendered"), "{}", out.stderr);
    assert!(p.exists("generated/dev/api/deployment.yaml"));
    let out = p.kgen(&["render", "--check", "-q"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));

    let out = p.kgen(&["render", "--verbose"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("rendered 1 environment"),
        "{}",
        out.stdout
    );
    for stage in [
        "load", "resolve", "render", "validate", "emit", "write", "total",
    ] {
        assert!(
            out.stderr
                .lines()
                .any(|l| l.trim_start().starts_with(stage) && l.ends_with(" ms")),
            "{stage}: {}",
            out.stderr
        );
    }
    let out = p.kgen(&["render", "--quiet", "--verbose"]);
    assert_eq!(out.code, 2, "the two conflict");
    // Not a terminal: never a progress line.
    let out = p.kgen(&["validate"]);
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains("\x1b["),
        "{}",
        out.stderr
    );
}

#[test]
fn platform_toml_is_found_from_any_subdirectory() {
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render"]).code, 0);
    let deep = p.path().join("generated/dev/api");
    let out = kgen_in(&deep, &["render", "--check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);
    append(&deep.join("deployment.yaml"), "# edited\n");
    let out = kgen_in(&deep, &["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("1 changed"), "{}", out.stdout);
    assert!(
        !deep.join("generated").exists(),
        "nothing written beside the cwd"
    );
    // Nowhere to be found: the usual error about platform.toml.
    let empty = tempfile::tempdir().unwrap();
    let out = kgen_in(empty.path(), &["render"]);
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("platform.toml"), "{}", out.stderr);
}

#[test]
fn carets_line_up_under_wide_characters_and_tabs() {
    use kgen::diagnostic::{render_human, Diagnostic};
    use kgen::source::{Origin, Sources};
    let cases = [
        // (line, the value the caret marks)
        ("name = \"日本語\" # 東京 = 1", "東京"),
        ("tag = \"🚀\"; bad = 🦀🦀", "🦀🦀"),
        ("\tport =\t0", "0"),
        ("a = \"e\u{301}\" x", "x"),
    ];
    for (line, marked) in cases {
        let mut sources = Sources::default();
        let start = line.find(marked).unwrap();
        let id = sources.add("t.toml".into(), "t.toml".into(), line.to_string());
        let d = Diagnostic::error("KG007", "bad").at(Origin::new(id, start..start + marked.len()));
        let out = render_human(&[d], &sources, false);
        let lines: Vec<&str> = out.lines().collect();
        let shown = lines.iter().find(|l| l.starts_with("1 | ")).unwrap();
        let carets = lines.iter().find(|l| l.contains('^')).unwrap();
        assert!(!shown.contains('\t') && !carets.contains('\t'), "{out}");
        let text = &shown[4..];
        let under = &carets[4..];
        let col = under.find('^').unwrap();
        let width = under.matches('^').count();
        // The columns of `marked` in the printed line, by display width.
        let before = &text[..text.find(marked).unwrap()];
        let w = |s: &str| unicode_width::UnicodeWidthStr::width(s);
        assert_eq!((col, width), (w(before), w(marked)), "{out}");
    }
}

// ------------------------------------------------------------------ JSON

fn envelope(v: &Value, command: &str, outcome: &str, code: i64) {
    assert_eq!(v["version"], 1, "{v}");
    assert_eq!(v["command"], command, "{v}");
    assert_eq!(v["outcome"], outcome, "{v}");
    assert_eq!(v["exit_code"], code, "{v}");
    assert!(v["diagnostics"].is_array(), "{v}");
}

#[test]
fn json_output_covers_every_outcome_of_render_and_check() {
    let p = Platform::new(MINIMAL, &[]);
    let out = p.kgen(&["render", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = json(&out);
    envelope(&v, "render", "ok", 0);
    assert_eq!(v["summary"]["environments"], 1);
    assert!(v["written"]["added"]
        .as_array()
        .unwrap()
        .contains(&Value::from("generated/dev/api/deployment.yaml")));

    let out = p.kgen(&["render", "--check", "--format", "json"]);
    assert_eq!(out.code, 0);
    let v = json(&out);
    envelope(&v, "render-check", "fresh", 0);
    assert_eq!(v["files"]["stale"], serde_json::json!([]));

    append(
        &p.path().join("generated/dev/api/deployment.yaml"),
        "# edited by hand\n",
    );
    std::fs::remove_file(p.path().join("generated/dev/api/service.yaml")).unwrap();
    let out = p.kgen(&["render", "--check", "--format", "json"]);
    assert_eq!(out.code, 1);
    let v = json(&out);
    envelope(&v, "render-check", "stale", 1);
    assert_eq!(
        v["files"]["stale"],
        serde_json::json!(["generated/dev/api/deployment.yaml"])
    );
    assert_eq!(
        v["files"]["missing"],
        serde_json::json!(["generated/dev/api/service.yaml"])
    );

    // An I/O error: JSON too, with the path.
    let out = p.kgen(&[
        "render",
        "--platform",
        "nowhere/platform.toml",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 3);
    let v = json(&out);
    envelope(&v, "render", "error", 3);
    assert_eq!(v["error"]["kind"], "io");
    assert!(
        v["error"]["path"].as_str().unwrap().contains("nowhere"),
        "{v}"
    );

    // No platform here or above: said so (as cargo says of Cargo.toml), JSON too.
    let empty = tempfile::tempdir().unwrap();
    let out = common::kgen_in(empty.path(), &["validate"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let dir = std::fs::canonicalize(empty.path()).unwrap();
    assert_eq!(
        out.stderr,
        format!(
            "kgen: error: no platform.toml in {} or any of its parents: run kgen inside a platform's directory, or pass --platform FILE\n",
            dir.display()
        )
    );
    let out = common::kgen_in(empty.path(), &["render", "--format", "json"]);
    assert_eq!(out.code, 3);
    let v = json(&out);
    envelope(&v, "render", "error", 3);
    assert_eq!(v["error"]["kind"], "io");
    assert_eq!(v["error"]["path"], "platform.toml");
    // Named and missing: the file's own error, not a search's.
    let out = common::kgen_in(empty.path(), &["validate", "--platform", "platform.toml"]);
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("cannot read platform.toml: No such file"),
        "{}",
        out.stderr
    );

    // A usage error kgen finds, and one clap finds.
    let out = p.kgen(&["render", "--env", "nope", "--format", "json"]);
    assert_eq!(out.code, 2);
    let v = json(&out);
    assert_eq!(v["exit_code"], 2);
    let out = p.kgen(&["render", "--format", "json", "--no-such-flag"]);
    assert_eq!(out.code, 2);
    let v = json(&out);
    envelope(&v, "render", "error", 2);
    assert_eq!(v["error"]["kind"], "usage");
}

#[test]
fn json_output_of_validate_and_bump_image() {
    let p = Platform::new(MINIMAL, &[]);
    let out = p.kgen(&["validate", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = json(&out);
    envelope(&v, "validate", "ok", 0);
    assert_eq!(v["summary"]["environments"], 1);

    assert_eq!(p.kgen(&["render", "-q"]).code, 0);
    let out = p.kgen(&[
        "bump-image",
        "api",
        "--env",
        "dev",
        "--tag",
        "1.0.1",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = json(&out);
    envelope(&v, "bump-image", "ok", 0);
    assert_eq!(v["summary"]["changed"], true);
    assert_eq!(v["summary"]["changes"][0]["after"]["tag"], "1.0.1");
    let out = p.kgen(&[
        "bump-image",
        "api",
        "--env",
        "dev",
        "--tag",
        "1.0.1",
        "--format",
        "json",
    ]);
    assert_eq!(json(&out)["summary"]["changed"], false);
    let out = p.kgen(&[
        "bump-image",
        "nope",
        "--env",
        "dev",
        "--tag",
        "1.0.1",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 2);
    envelope(&json(&out), "bump-image", "error", 2);

    let out = p.kgen(&["diff", "--format", "json"]);
    assert_eq!(out.code, 3, "not a git repository: {}", out.stderr);
    envelope(&json(&out), "diff", "error", 3);
}

// ------------------------------------------------------------------ GitHub

/// A git repository with the platform in `infra/`.
fn repo_with_platform_in_subdir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git2::Repository::init(dir.path()).unwrap();
    std::fs::create_dir_all(dir.path().join("infra")).unwrap();
    std::fs::write(dir.path().join("infra/platform.toml"), text).unwrap();
    dir
}

#[test]
fn github_annotations_name_files_from_the_repository_root() {
    let dir = repo_with_platform_in_subdir(&MINIMAL.replace("port = 8080", "port = 0"));
    let root = dir.path();
    let expect = "::error file=infra/platform.toml,line=12,col=8,title=kgen KG007::";
    // From the root, with --platform; from the platform's directory; from below it.
    for (cwd, args) in [
        (
            root.to_path_buf(),
            vec![
                "render",
                "--platform",
                "infra/platform.toml",
                "--format",
                "github",
            ],
        ),
        (root.join("infra"), vec!["render", "--format", "github"]),
        (root.join("infra"), vec!["validate", "--format", "github"]),
    ] {
        let out = kgen_in(&cwd, &args);
        assert_eq!(out.code, 2);
        assert!(out.stderr.starts_with(expect), "{args:?}: {}", out.stderr);
    }
    // validate PATH: named from the root too.
    std::fs::write(
        root.join("infra/bad.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: Bad_Name\n",
    )
    .unwrap();
    let out = kgen_in(
        &root.join("infra"),
        &["validate", "bad.yaml", "--format", "github"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("file=infra/bad.yaml,"),
        "{}",
        out.stderr
    );
}

#[test]
fn github_annotations_for_stale_files_and_io_errors() {
    let dir = repo_with_platform_in_subdir(MINIMAL);
    let root = dir.path();
    let out = kgen_in(root, &["render", "--platform", "infra/platform.toml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    append(
        &root.join("infra/generated/dev/api/deployment.yaml"),
        "# edited\n",
    );
    std::fs::remove_file(root.join("infra/generated/dev/api/service.yaml")).unwrap();
    let out = kgen_in(
        root,
        &[
            "render",
            "--check",
            "--platform",
            "infra/platform.toml",
            "--format",
            "github",
        ],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "::error file=infra/generated/dev/api/deployment.yaml,title=kgen render --check::"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "::error file=infra/generated/dev/api/service.yaml,title=kgen render --check::"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("stale:   generated/dev/api/deployment.yaml"),
        "{}",
        out.stdout
    );

    std::fs::create_dir_all(root.join("infra/overlays")).unwrap();
    std::fs::write(root.join("infra/overlays/dev.toml"), "").unwrap();
    let unreadable = root.join("infra/overlays/dev.toml");
    std::fs::remove_file(&unreadable).unwrap();
    std::os::unix::fs::symlink("/nonexistent/kgen-target", &unreadable).unwrap();
    // An input file kgen will not read (exit 2), and an I/O error (exit 3): each
    // annotation names its file from the repository's root.
    let out = kgen_in(&root.join("infra"), &["render", "--format", "github"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("::error file=infra/overlays/dev.toml,title=kgen::overlays/dev.toml is a symbolic link to /nonexistent/kgen-target, which does not exist"),
        "{}",
        out.stderr
    );
    std::fs::remove_file(&unreadable).unwrap();
    std::fs::write(&unreadable, "").unwrap();
    std::fs::remove_dir_all(root.join("infra/generated/dev")).unwrap();
    std::fs::write(root.join("infra/generated/dev"), "not a directory\n").unwrap();
    let out = kgen_in(&root.join("infra"), &["render", "--format", "github"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("::error file=infra/generated/dev"),
        "{}",
        out.stderr
    );
}

/// The reader of kgen's output goes away (`kgen schema | head -c 1`; the schema is
/// larger than a pipe's buffer, so kgen writes into a closed pipe): kgen stops
/// quietly with 141, the status of a process killed by SIGPIPE, not as a bug (101).
#[test]
fn a_closed_pipe_is_a_quiet_exit() {
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#""$KGEN" schema 2>"$ERR" | head -c 1 >/dev/null; echo "${PIPESTATUS[0]}""#)
        .env("KGEN", env!("CARGO_BIN_EXE_kgen"))
        .env(
            "ERR",
            std::env::temp_dir().join(format!("kgen-pipe-{}.err", std::process::id())),
        )
        .output()
        .unwrap();
    let err_file = std::env::temp_dir().join(format!("kgen-pipe-{}.err", std::process::id()));
    let err = std::fs::read_to_string(&err_file).unwrap_or_default();
    let _ = std::fs::remove_file(&err_file);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "141",
        "stderr: {err}"
    );
    assert_eq!(err, "");
}

/// platform.toml below the top level of the repository `[platform] repo` names, with
/// no `repo_path`: the Applications' paths would start at the repository's root, and
/// KG019 says so; not when `repo_path` is set (`""` included) or when no remote is
/// that repository (newcomer review 13).
#[test]
fn a_platform_below_its_repositorys_root_needs_repo_path() {
    let top = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| common::git::run(top.path(), args);
    git(&["init", "-q"]);
    let dir = top.path().join("platforms/acme");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |text: &str| std::fs::write(dir.join("platform.toml"), text).unwrap();
    write(MINIMAL);
    let warned = |out: &Output| out.stderr.contains("warning[KG019]: platform.toml is in");
    // No remote is the repository `repo` names: nothing to say.
    let out = kgen_in(&dir, &["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!warned(&out), "{}", out.stderr);
    git(&[
        "remote",
        "add",
        "origin",
        "git@github.com:acme/platform.git",
    ]);
    let out = kgen_in(&dir, &["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let found = common::diagnostics_with(&out.stderr, "KG019");
    assert_eq!(
        found,
        [
            r#"warning[KG019]: platform.toml is in `platforms/acme` of its git repository, but `[platform] repo_path` is not set: the Argo CD Applications take their manifests from `generated/…` at the repository's root, where there are none
 --> platform.toml:3:8
  |
3 | repo = "https://github.com/acme/platform.git"
  |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ Argo CD reads the paths from this repository's root
  = help: set `repo_path = "platforms/acme"` under [platform]; if Argo CD reads another repository that holds this directory at its root, say so with `repo_path = ""`"#
        ]
    );
    for set in ["platforms/acme", ""] {
        write(&MINIMAL.replace(
            "registry = ",
            &format!("repo_path = \"{set}\"\nregistry = "),
        ));
        let out = kgen_in(&dir, &["validate"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(!warned(&out), "{set:?}: {}", out.stderr);
    }
    // A `repo_path` naming another directory: said, with the right one.
    write(&MINIMAL.replace("registry = ", "repo_path = \"platforms\"\nregistry = "));
    let out = kgen_in(&dir, &["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let found = common::diagnostics_with(&out.stderr, "KG019");
    assert_eq!(found.len(), 1, "{}", out.stderr);
    assert!(
        found[0].starts_with("warning[KG019]: `repo_path` is `platforms`, but platform.toml is in `platforms/acme` of its git repository"),
        "{}",
        found[0]
    );
    assert!(
        found[0].ends_with("= help: write `repo_path = \"platforms/acme\"`"),
        "{}",
        found[0]
    );
}

// ------------------------------------------------------------------ review 29

/// Runs `script` so that kgen's stdout and stderr are one terminal: what a person
/// sees, bytes in order (progress line, colour).
fn on_a_terminal(dir: &Path, command: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", command, "/dev/null"])
        .current_dir(dir)
        .env("KGEN", env!("CARGO_BIN_EXE_kgen"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("run `script` (util-linux) for a pseudo-terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// On a terminal the progress line is cleared before anything is printed: the
/// summary (or the JSON) starts a clean line, never the spinner's (cli29 #1).
#[test]
fn the_progress_line_is_cleared_before_the_output() {
    // KGEN_TEST_PROGRESS (show the line at once, not after a second) is read by
    // debug builds only.
    if !cfg!(debug_assertions) {
        return;
    }
    let p = Platform::example();
    let env = [("KGEN_TEST_PROGRESS", "1")];
    for (args, first) in [
        ("render", "rendered 3 environments"),
        ("render --check --format json", "{"),
        ("validate", "valid: "),
    ] {
        let screen = on_a_terminal(p.path(), &format!("\"$KGEN\" {args}"), &env);
        // The spinner was shown, and cleared: nothing of it is on the line the
        // output starts.
        assert!(screen.contains("\x1b[2K"), "{args}: {screen:?}");
        let at = screen
            .find(first)
            .unwrap_or_else(|| panic!("{args}: {screen:?}"));
        let line = &screen[screen[..at].rfind('\n').map_or(0, |i| i + 1)..at];
        let last_clear = line.rfind("\x1b[2K").map_or(0, |i| i + "\x1b[2K".len());
        assert_eq!(
            line[last_clear..].trim_start_matches('\r'),
            "",
            "{args}: {screen:?}"
        );
        // The stage only moves forward. `working` is the label before the first stage
        // is known: a run quicker than the spinner's tick (100 ms) shows only that.
        let order = ["working", "load", "resolve", "render+validate", "write"];
        let ranks: Vec<usize> = screen
            .split("\r\x1b[2K")
            .filter_map(|frame| {
                let label = frame.split_whitespace().nth(2)?.trim_end_matches(':');
                order.iter().position(|l| *l == label)
            })
            .collect();
        assert!(!ranks.is_empty(), "{args}: {screen:?}");
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{args}: {screen:?}");
    }
}

/// `TERM=dumb` and `CLICOLOR=0` turn colour off in `--color auto`; CLICOLOR_FORCE
/// and `--color always` still turn it on (cli29 #5).
#[test]
fn term_dumb_and_clicolor_0_turn_colour_off() {
    let p = Platform::new(&MINIMAL.replace("port = 8080", "port = 0"), &[]);
    let colour = |command: &str, env: &[(&str, &str)]| {
        on_a_terminal(p.path(), command, env).contains("\x1b[1m")
    };
    assert!(colour("\"$KGEN\" validate", &[]));
    assert!(!colour("\"$KGEN\" validate", &[("TERM", "dumb")]));
    assert!(!colour("\"$KGEN\" validate", &[("CLICOLOR", "0")]));
    assert!(colour("\"$KGEN\" validate", &[("CLICOLOR", "1")]));
    assert!(colour(
        "\"$KGEN\" validate",
        &[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")]
    ));
    assert!(colour(
        "\"$KGEN\" validate --color always",
        &[("TERM", "dumb")]
    ));
}

/// The exit status of `kgen ARGS` writing into a pipe whose reader has gone, and
/// what it printed on stderr.
fn into_a_closed_pipe(dir: &Path, args: &str, env: &[(&str, &str)]) -> (String, String) {
    let err = dir.join("kgen-pipe.err");
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!(
            r#"(sleep 0.3; exec "$KGEN" {args} 2>"$ERR") | true; echo "${{PIPESTATUS[0]}}""#
        ))
        .current_dir(dir)
        .env("KGEN", env!("CARGO_BIN_EXE_kgen"))
        .env("ERR", &err);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let _ = std::fs::remove_file(&err);
    (
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        stderr,
    )
}

/// The `cmp` commands, clap's own output (help, version) and the generated
/// scripts and pages stop quietly with 141 too (cli29 #2).
#[test]
fn every_command_exits_141_into_a_closed_pipe() {
    let p = Platform::new(MINIMAL, &[]);
    let plugin = [
        ("ARGOCD_ENV_KGEN_ENV", "dev"),
        ("ARGOCD_ENV_KGEN_SERVICE", "api"),
    ];
    for args in [
        "cmp parameters",
        "cmp discover",
        "cmp generate",
        "--help",
        "render --help",
        "--version",
        "man",
        "completions bash",
        "render",
        "diff --help",
    ] {
        // No error on stderr (the platform's warnings are diagnostics, printed).
        let (code, stderr) = into_a_closed_pipe(p.path(), args, &plugin);
        assert_eq!(code, "141", "{args}: {stderr}");
        assert!(
            !stderr.contains("error") && !stderr.contains("Broken pipe"),
            "{args}: {stderr}"
        );
    }
}

/// The plugin's stdout holds manifests only: `--format json` (which `cmp` does not
/// take) is a usage error on stderr, not a JSON object on stdout (cli29 #3).
#[test]
fn cmp_never_prints_a_json_error() {
    let p = Platform::new(MINIMAL, &[]);
    let out = run_with(
        p.path(),
        &["cmp", "generate", "--format", "json"],
        &[
            ("ARGOCD_ENV_KGEN_ENV", "dev"),
            ("ARGOCD_ENV_KGEN_SERVICE", "api"),
        ],
        &[],
    );
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert!(
        out.stderr
            .starts_with("error: unexpected argument '--format' found"),
        "{}",
        out.stderr
    );
    // Other commands still answer a usage error in JSON, named after their command
    // (also after `--color WHEN`).
    let out = p.kgen(&["--color", "never", "render", "--format", "json", "--chek"]);
    assert_eq!(out.code, 2);
    let v = json(&out);
    assert_eq!(
        (v["command"].as_str(), v["error"]["kind"].as_str()),
        (Some("render"), Some("usage"))
    );
}

/// `kgen validate -` reads standard input, named `<stdin>`; a pipe given as a path
/// (`/dev/stdin`, `<(...)`) is read as a file (cli29 #6).
#[test]
fn validate_reads_standard_input_and_pipes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: notalist\n";
    std::fs::write(dir.path().join("bad.yaml"), bad).unwrap();
    let sh = |script: &str| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(dir.path())
            .env("KGEN", env!("CARGO_BIN_EXE_kgen"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = sh(r#""$KGEN" validate - < bad.yaml"#);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(" --> <stdin>:6:"), "{stderr}");
    for script in [
        r#"cat bad.yaml | "$KGEN" validate /dev/stdin"#,
        r#""$KGEN" validate <(cat bad.yaml)"#,
    ] {
        let (code, _, stderr) = sh(script);
        assert_eq!(code, 2, "{script}: {stderr}");
        assert!(stderr.contains(":6:"), "{script}: {stderr}");
        assert!(!stderr.contains("directory"), "{script}: {stderr}");
    }
    let good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n";
    let (code, stdout, stderr) = sh(&format!("printf '{good}' | \"$KGEN\" validate -"));
    assert_eq!(
        (code, stdout.as_str()),
        (0, "valid: 1 object in 1 file, 0 warnings\n"),
        "{stderr}"
    );
}

/// A path that cannot be read is an I/O error naming it, exit 3 (cli29 #7).
#[test]
fn a_missing_path_is_an_io_error_naming_it() {
    let p = Platform::new(MINIMAL, &[]);
    let out = p.kgen(&["validate", "--schema-dir", "nope", "--format", "json"]);
    assert_eq!(out.code, 3);
    let v = json(&out);
    assert_eq!(v["error"]["kind"], "io");
    assert_eq!(v["error"]["path"], "nope");
    let out = p.kgen(&["validate", "--schema-dir", "nope"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            3,
            "kgen: error: cannot read --schema-dir nope: No such file or directory (os error 2)\n"
        )
    );
    let out = p.kgen(&["render", "--platform", "/nonexist/platform.toml"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            3,
            "kgen: error: cannot read /nonexist/platform.toml: No such file or directory (os error 2)\n"
        )
    );

    // A hand-written file at a path kgen writes: `io`, with that file.
    assert_eq!(p.kgen(&["render", "-q"]).code, 0);
    p.write(
        "generated/dev/api/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n",
    );
    let out = p.kgen(&["render", "--check", "--format", "json"]);
    assert_eq!(out.code, 3);
    let v = json(&out);
    assert_eq!(v["error"]["kind"], "io");
    assert_eq!(v["error"]["path"], "generated/dev/api/service.yaml");
}

/// `render --check -q` prints the stale files, not the closing line (cli29 #11).
#[test]
fn check_quiet_lists_the_stale_files_only() {
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render", "-q"]).code, 0);
    append(
        &p.path().join("generated/dev/api/service.yaml"),
        "# edited\n",
    );
    let out = p.kgen(&["render", "--check", "-q"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, "stale:   generated/dev/api/service.yaml\n")
    );
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            "stale:   generated/dev/api/service.yaml\ngenerated/ is out of date: 1 stale, 0 missing, 0 extra; run `kgen render` and commit the result\n"
        )
    );
}

/// `-v`: `render`'s summary and the table's total come from one clock; `cmp` times
/// no stage and prints no table (cli29 #13).
#[test]
fn verbose_agrees_with_the_summary_and_skips_cmp() {
    let p = Platform::new(MINIMAL, &[]);
    let out = p.kgen(&["render", "-v"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ms: u64 = out
        .stdout
        .trim_end()
        .rsplit(" in ")
        .next()
        .unwrap()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    let total: f64 = out
        .stderr
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("total"))
        .unwrap()
        .trim()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    assert_eq!(ms, total.round() as u64, "{}{}", out.stdout, out.stderr);

    let out = run_with(
        p.path(),
        &["cmp", "generate", "-v"],
        &[
            ("ARGOCD_ENV_KGEN_ENV", "dev"),
            ("ARGOCD_ENV_KGEN_SERVICE", "api"),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("time by stage"), "{}", out.stderr);
}

/// Every command's long help ends with examples that docs/cli.md#examples lists,
/// and each man page has EXAMPLES, EXIT STATUS and ENVIRONMENT (cli29 #14).
#[test]
fn help_and_man_pages_have_examples_exit_status_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let doc = std::fs::read_to_string(common::repo_root().join("docs/cli.md")).unwrap();
    let commands = [
        "render",
        "validate",
        "diff",
        "bump-image",
        "bump-chart",
        "promote",
        "cmp",
        "cmp generate",
        "cmp discover",
        "cmp parameters",
        "schema",
        "completions",
        "man",
    ];
    for command in commands {
        let args: Vec<&str> = command.split(' ').chain(["--help"]).collect();
        let out = kgen_in(dir.path(), &args);
        assert_eq!(out.code, 0, "{command}: {}", out.stderr);
        let examples = out
            .stdout
            .split("\nExamples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{command}: {}", out.stdout));
        for line in examples.lines().filter(|l| !l.trim().is_empty()) {
            let example = line.trim().split("  #").next().unwrap().trim_end();
            assert!(
                doc.lines()
                    .any(|l| l.split("  #").next().unwrap().trim_end() == example),
                "{command}: `{example}` is not in docs/cli.md#examples"
            );
        }
        // `-h` is the short help, without them.
        let short: Vec<&str> = command.split(' ').chain(["-h"]).collect();
        assert!(!kgen_in(dir.path(), &short).stdout.contains("Examples:"));
    }
    let out = kgen_in(dir.path(), &["man", "--dir", "man"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "wrote man pages into man\n", "")
    );
    for page in ["kgen-render.1", "kgen-cmp-generate.1", "kgen-man.1"] {
        let text = std::fs::read_to_string(dir.path().join("man").join(page)).unwrap();
        for section in [".SH EXAMPLES", ".SH \"EXIT STATUS\"", ".SH ENVIRONMENT"] {
            assert!(text.contains(section), "{page}: {section}\n{text}");
        }
    }
    let top = kgen_in(dir.path(), &["man"]).stdout;
    assert!(
        top.contains(".SH FILES") && top.contains("NO_COLOR") && top.contains("141"),
        "{top}"
    );
    assert!(
        top.contains("\\fBkgen\\-render\\fR") || top.contains("kgen\\-render"),
        "{top}"
    );
}

/// docs/cli.md's bump-chart transcript is what kgen prints on this repository's
/// platform (stdout, then stderr: the `note:`) (cli29 #8).
#[test]
fn the_bump_chart_transcript_in_cli_md_is_true() {
    let doc = std::fs::read_to_string(common::repo_root().join("docs/cli.md")).unwrap();
    let start = doc
        .find("```\n$ kgen bump-chart cert-manager --version v1.22.0\n")
        .unwrap()
        + 4;
    let block = &doc[start..start + doc[start..].find("```\n").unwrap()];
    let p = Platform::example();
    assert_eq!(p.kgen(&["render", "-q"]).code, 0);
    let mut expected = String::new();
    let mut actual = String::new();
    for step in block.split("\n\n") {
        let (command, output) = step.split_once('\n').unwrap();
        let args: Vec<&str> = command
            .strip_prefix("$ kgen ")
            .unwrap()
            .split(' ')
            .collect();
        let out = p.kgen(&args);
        expected.push_str(&format!("{command}\n{}", output.trim_end()));
        actual.push_str(format!("{command}\n{}{}", out.stdout, out.stderr).trim_end());
        expected.push('\n');
        actual.push('\n');
    }
    assert_eq!(actual, expected);
}
