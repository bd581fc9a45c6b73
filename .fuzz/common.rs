//! What the fuzz targets check, shared with `tests/regressions.rs` (which includes
//! this file with `#[path]`), so that every crash the fuzzer found is replayed by
//! `cargo test` through exactly the same code.
//!
//! Input format of `parse` and `compile`: the bytes of platform.toml, then for each
//! overlay a line `#@overlay <env>` followed by the overlay's text, then for each file
//! of the escape hatch (`manifests/...`, a patch file) a line `#@file <path>` followed
//! by its text (`compile` only; `parse` ignores them). Seeds are the repository's,
//! the examples' and the tests' platforms in this format (.fuzz/seeds/).
//!
//! Input format of `overlay_edit`: one control byte (bit 0: field `tag`/`digest`;
//! bit 1: remove instead of set; bits 2-5: which service (and container); bit 6:
//! `init_containers` instead of `sidecars`; bit 7: edit a container of the service
//! instead of its own image), the new value up to the first `\n`, then the overlay
//! text.
#![allow(dead_code)]

use kgen::diagnostic::{self, Format};
use kgen::emit::{HEADER_PREFIX, JSON_HEADER_PREFIX};
use kgen::overlay_edit::{self, ContainerList, ContainerRef, Edit, Field};
use kgen::workspace::{InputFiles, Workspace};

/// Marks the start of an overlay in a fuzz input.
pub const OVERLAY_MARK: &str = "\n#@overlay ";

/// Marks the start of an escape-hatch file in a fuzz input.
pub const FILE_MARK: &str = "\n#@file ";

/// Splits a fuzz input into the texts `Workspace::parse` takes.
pub fn split(data: &[u8]) -> Option<InputFiles> {
    split_all(data).map(|(files, _)| files)
}

/// Splits a fuzz input into the texts `Workspace::parse` takes and the escape
/// hatch's files (path as written, text).
pub fn split_all(data: &[u8]) -> Option<(InputFiles, MemReader)> {
    let text = std::str::from_utf8(data).ok()?;
    let mut sections = text.split(FILE_MARK);
    let text = sections.next()?;
    let mut files = std::collections::BTreeMap::new();
    for part in sections {
        let (path, body) = part.split_once('\n').unwrap_or((part, ""));
        if let Some(rel) = kgen::escape_hatch::files::inside(path.trim()) {
            files.insert(rel, body.to_string());
        }
    }
    let mut parts = text.split(OVERLAY_MARK);
    let platform = parts.next()?.to_string();
    let overlays = parts
        .map(|part| {
            let (env, body) = part.split_once('\n').unwrap_or((part, ""));
            let env = env.trim().to_string();
            (
                env.clone(),
                format!("overlays/{env}.toml"),
                body.to_string(),
            )
        })
        .collect();
    Some((
        InputFiles {
            platform: ("platform.toml".into(), platform),
            overlays,
        },
        MemReader(files),
    ))
}

/// The escape hatch's files of a fuzz input, read as `kgen render` reads them from
/// the working tree (by relative path; no file system).
pub struct MemReader(pub std::collections::BTreeMap<String, String>);

impl kgen::escape_hatch::files::Reader for MemReader {
    fn list(&self, dir: &str) -> kgen::error::Result<Vec<String>> {
        let prefix = format!("{dir}/");
        Ok(self
            .0
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect())
    }

    fn read(&self, rel: &str) -> kgen::error::Result<Option<String>> {
        Ok(self.0.get(rel).cloned())
    }
}

/// Joins a platform and its overlays into one fuzz input (for seeds and tests).
pub fn join(platform: &str, overlays: &[(&str, &str)]) -> Vec<u8> {
    let mut out = platform.to_string();
    for (env, text) in overlays {
        out.push_str(OVERLAY_MARK);
        out.push_str(env);
        out.push('\n');
        out.push_str(text);
    }
    out.into_bytes()
}

/// Target `parse`: loading never panics, and an error renders in every format.
pub fn check_parse(data: &[u8]) {
    let Some(files) = split(data) else { return };
    if let Err(e) = Workspace::parse("/platform".into(), files) {
        check_error(&e);
    }
}

/// Target `compile`: the whole pipeline never panics; on success every file has a
/// relative path that stays inside `generated/`, starts with kgen's header and is
/// valid YAML (a `.json` file starts with kgen's JSON header; JSON is YAML); on
/// failure the diagnostics render and redacted values are not shown.
pub fn check_compile(data: &[u8]) {
    let Some((files, escape_hatch)) = split_all(data) else {
        return;
    };
    let mut ws = match Workspace::parse(platform_root().to_path_buf(), files) {
        Ok(ws) => ws,
        Err(e) => return check_error(&e),
    };
    if let Err(e) = kgen::escape_hatch::files::read(&mut ws, &escape_hatch, None) {
        return check_error(&e);
    }
    let compiled = match kgen::compile::compile(&ws, &[]) {
        Ok(c) => c,
        Err(e) => return check_error(&e),
    };
    for (path, contents) in &compiled.tree.files {
        check_tree_path(path);
        let header = if path.ends_with(".json") {
            JSON_HEADER_PREFIX
        } else {
            HEADER_PREFIX
        };
        assert!(contents.starts_with(header), "{path} has no kgen header");
        for doc in serde_norway::Deserializer::from_str(contents) {
            let parsed: Result<serde_norway::Value, _> = serde::Deserialize::deserialize(doc);
            if let Err(e) = parsed {
                panic!("{path} is not valid YAML: {e}\n{contents}");
            }
        }
    }
}

/// The platform directory `compile` gives the workspace: examples/escape-hatch, so
/// that `[manifests] schema_dirs = ["schemas"]` finds that example's CRD schemas (the
/// only files the pipeline reads from disk; the escape hatch's files come from the
/// input, through [`MemReader`]).
pub fn platform_root() -> &'static std::path::Path {
    static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        // Included by the fuzz crate (fuzz/) and by tests/regressions.rs (the root).
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let repo = if here.join("fuzz_targets").is_dir() {
            here.parent().expect("fuzz/ has a parent")
        } else {
            here
        };
        repo.join("examples/escape-hatch")
    })
}

/// A path of the generated tree: relative, `/`-separated normal components only.
pub fn check_tree_path(path: &str) {
    assert!(!path.is_empty(), "empty path in the tree");
    assert!(!path.starts_with('/'), "absolute path {path:?}");
    assert!(!path.contains('\\'), "backslash in {path:?}");
    assert!(!path.contains('\0'), "NUL in {path:?}");
    for c in path.split('/') {
        assert!(
            !c.is_empty() && c != "." && c != "..",
            "path {path:?} has component {c:?}"
        );
    }
}

/// An error renders in every format without panicking, and a redacted value does
/// not appear in what is printed about it.
pub fn check_error(e: &kgen::Error) {
    let kgen::Error::Invalid(inv) = e else {
        let _ = e.to_string();
        return;
    };
    for format in [Format::Human, Format::Json, Format::Github] {
        let _ = diagnostic::render(&inv.diagnostics, &inv.sources, format, true);
    }
    for d in inv.diagnostics.iter().filter(|d| d.redact) {
        let Some(origin) = &d.origin else { continue };
        let text = &inv.sources.get(origin.file).text;
        let Some(value) = text.get(origin.span.clone()) else {
            continue;
        };
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        let first_line = value.lines().next().unwrap_or("");
        if first_line.len() < 8 {
            continue;
        }
        for format in [Format::Human, Format::Json, Format::Github] {
            let out = diagnostic::render(std::slice::from_ref(d), &inv.sources, format, false);
            assert!(
                !out.contains(first_line),
                "a redacted value is shown ({format:?}):\n{out}"
            );
        }
    }
}

/// Target `overlay_edit`: an edit never panics; a successful edit parses, means the
/// old document with exactly that value changed, and keeps every comment line.
pub fn check_overlay_edit(data: &[u8]) {
    let Some((&ctrl, rest)) = data.split_first() else {
        return;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let (value, text) = rest.split_once('\n').unwrap_or((rest, ""));
    let field = if ctrl & 1 == 0 {
        Field::Tag
    } else {
        Field::Digest
    };
    let remove = ctrl & 2 != 0;
    let n = usize::from((ctrl >> 2) & 0x0f);
    let service = pick_service(text, n);
    let container = (ctrl & 0x80 != 0).then(|| {
        let list = if ctrl & 0x40 == 0 {
            ContainerList::Sidecars
        } else {
            ContainerList::InitContainers
        };
        ContainerRef::new(list, &pick_container(text, &service, list, n))
    });
    let edit = if remove {
        Edit::remove(&service, field)
    } else {
        Edit::set(&service, field, value)
    };
    check_edit(text, &edit.in_container(container));
}

/// The container to edit: one the file names for the service, or a fixed name.
fn pick_container(text: &str, service: &str, list: ContainerList, n: usize) -> String {
    let mut names: Vec<String> = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| {
            t.get("services")?
                .get(service)?
                .get(list.key())?
                .as_table()
                .cloned()
        })
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();
    names.extend(["proxy", "migrate"].map(String::from));
    names[n % names.len()].clone()
}

/// The service to edit: one the file names, or a fixed name.
fn pick_service(text: &str, n: usize) -> String {
    let mut names: Vec<String> = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("services")?.as_table().cloned())
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();
    names.extend(["api", "main-api", "new-service"].map(String::from));
    names[n % names.len()].clone()
}

/// Applies one edit and checks the invariants of a successful edit.
pub fn check_edit(text: &str, edit: &Edit) {
    let Ok(edited) = overlay_edit::apply(text, std::slice::from_ref(edit)) else {
        return;
    };
    if !edited.changed() {
        assert_eq!(
            edited.text, text,
            "an edit that changed nothing changed the text"
        );
        return;
    }
    let old: toml::Table = toml::from_str(text).expect("apply accepted a file toml rejects");
    let new: toml::Table = toml::from_str(&edited.text).unwrap_or_else(|e| {
        panic!(
            "the edited file does not parse: {e}\n--- before\n{text}\n--- after\n{}",
            edited.text
        )
    });
    let mut expected = old.clone();
    let key = edit.field.key();
    match &edit.value {
        Some(v) => {
            // Every table on the way (`services`, the service, and for a container
            // its list and itself), created if missing.
            let mut table = &mut expected;
            for k in edit.table_path() {
                table = table
                    .entry(k)
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .expect("a table on the way");
            }
            table.insert(key.to_string(), toml::Value::String(v.clone()));
        }
        None => {
            let mut table = Some(&mut expected);
            for k in edit.table_path() {
                table = table
                    .and_then(|t| t.get_mut(k))
                    .and_then(|t| t.as_table_mut());
            }
            if let Some(t) = table {
                t.remove(key);
            }
        }
    }
    assert_eq!(
        new,
        expected,
        "the edit changed more than `{}`\n--- before\n{text}\n--- after\n{}",
        edit.key_path(),
        edited.text
    );
    assert_eq!(
        overlay_edit::read_in(
            &edited.text,
            &edit.service,
            edit.container.as_ref(),
            edit.field
        )
        .ok(),
        Some(edit.value.clone()),
        "reading the edited value back gives something else"
    );
    let comments = |t: &str| -> Vec<String> {
        t.lines()
            .map(str::trim)
            .filter(|l| l.starts_with('#'))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        comments(text),
        comments(&edited.text),
        "a comment line was lost or changed\n--- before\n{text}\n--- after\n{}",
        edited.text
    );
}

/// Target `template`: any template source renders or fails with a message, within
/// the output limit, and never panics.
pub fn check_template(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    // A service's context (`resolve.rs`, `escape_hatch/manifests.rs`): `cluster` has
    // its built-in keys and a few `vars`, `namespaces` every service's namespace.
    let ctx = minijinja::context! {
        service => "api",
        env => minijinja::context! { name => "dev", production => false, aws_account => "123456789012", domain => "dev.example.com" },
        cluster => minijinja::context! {
            name => "nonprod", server => "https://kubernetes.default.svc", destination_name => (),
            kubernetes_version => "1.31", eks_name => "nonprod-eks", aws_account => "123456789012",
            account => "123456789012", vpc_id => "vpc-0abc",
        },
        namespaces => minijinja::Value::from(
            ["api", "aux-service", "postgres"]
                .map(|s| (s.to_string(), minijinja::Value::from(format!("dev-{s}"))))
                .into_iter()
                .collect::<std::collections::BTreeMap<String, minijinja::Value>>()
        ),
        platform => minijinja::context! { name => "acme", repo => "https://github.com/acme/p.git", registry => () },
    };
    let t = kgen::template::Templates::new();
    if let Ok(out) = t.render(source, &ctx) {
        assert!(
            out.len() <= kgen::template::MAX_OUTPUT,
            "{} bytes of output",
            out.len()
        );
    }
}
