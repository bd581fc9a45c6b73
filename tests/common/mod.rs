//! Test helpers: temporary platforms, running the built `kgen` binary, (in `git`)
//! temporary git repositories and (in `argocd`) a stand-in for Argo CD's side of the
//! config management plugin.
#![allow(dead_code)]

pub mod argocd;
pub mod git;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (where the example platform lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary directory holding a platform.
pub struct Platform {
    pub dir: tempfile::TempDir,
}

impl Platform {
    /// An empty temporary platform directory.
    pub fn empty() -> Platform {
        Platform {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A platform with `platform.toml` set to `text` and the given overlays.
    pub fn new(text: &str, overlays: &[(&str, &str)]) -> Platform {
        let p = Platform::empty();
        p.write("platform.toml", text);
        for (env, t) in overlays {
            p.write(&format!("overlays/{env}.toml"), t);
        }
        p
    }

    /// A copy of the repository's own platform (platform.toml + overlays, no generated/).
    pub fn example() -> Platform {
        let p = Platform::empty();
        let root = repo_root();
        p.write(
            "platform.toml",
            &std::fs::read_to_string(root.join("platform.toml")).unwrap(),
        );
        for entry in std::fs::read_dir(root.join("overlays")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            p.write(
                &format!("overlays/{name}"),
                &std::fs::read_to_string(&path).unwrap(),
            );
        }
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel))
            .unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.dir.path().join(rel).exists()
    }

    /// Runs kgen with `args` in this directory.
    pub fn kgen(&self, args: &[&str]) -> Output {
        kgen_in(self.path(), args)
    }

    /// Every file under generated/, as (relative path, contents), sorted.
    pub fn generated(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        collect(
            &self.path().join("generated"),
            &self.path().join("generated"),
            &mut out,
        );
        out.sort();
        out
    }
}

/// Every file under `dir`, as (path relative to `dir` with `/` separators, contents), sorted.
pub fn read_tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    collect(dir, dir, &mut out);
    out.sort();
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the built kgen binary in `dir` with a clean, colourless environment.
pub fn kgen_in(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run kgen");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The diagnostics of human-format `stderr` (its blocks between blank lines) that
/// contain `needle`, in order.
pub fn diagnostics_with<'a>(stderr: &'a str, needle: &str) -> Vec<&'a str> {
    stderr
        .split("\n\n")
        .filter(|d| d.contains(needle))
        .collect()
}

/// Renders a platform made of `text` and `overlays`, expecting it to be refused:
/// exit 2, nothing on stdout, nothing written. Returns stderr.
pub fn fails(text: &str, overlays: &[(&str, &str)]) -> String {
    Platform::new(text, overlays).refused()
}

impl Platform {
    /// Renders this platform, expecting it to be refused: exit 2, nothing on stdout,
    /// no `generated/` written. Returns stderr.
    pub fn refused(&self) -> String {
        let out = self.kgen(&["render"]);
        assert_eq!(
            out.code, 2,
            "expected exit 2, got {}:\n{}{}",
            out.code, out.stdout, out.stderr
        );
        assert_eq!(out.stdout, "");
        assert!(
            !self.exists("generated"),
            "nothing may be written on bad input"
        );
        out.stderr
    }
}

/// Asserts that stderr is exactly `expected`, showing both when it is not.
pub fn assert_stderr(actual: &str, expected: &str) {
    assert!(
        actual == expected,
        "stderr differs:\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// Grafana's admin login from a Secret: appended to a platform whose `[monitoring]` sets
/// no `values`, it silences KG038 (the chart's default password) without moving a line.
pub const GRAFANA_ADMIN: &str =
    "\n[monitoring.values.grafana.admin]\nexistingSecret = \"grafana-admin\"\n";

/// A small valid platform used as the base of bad-input cases.
pub const MINIMAL: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080
"#;

/// What a render of [`MINIMAL`] warns about: its service has no probes (KG202).
pub const MINIMAL_WARNINGS: &str = r#"warning[KG202]: container `api` has no liveness probe
 --> platform.toml:9:11
  |
9 | [services.api]
  |           ^^^
  = in: generated/dev/api/deployment.yaml: spec.template.spec.containers[0].livenessProbe
  = help: set `probes = { liveness = "/health" }` (an HTTP path on the service's port), or waive KG202 with a reason

warning[KG202]: container `api` has no readiness probe
 --> platform.toml:9:11
  |
9 | [services.api]
  |           ^^^
  = in: generated/dev/api/deployment.yaml: spec.template.spec.containers[0].readinessProbe
  = help: set `probes = { readiness = "/health" }` (an HTTP path on the service's port), or waive KG202 with a reason

"#;

/// Every file under `dir` but the names in `skip` (at any depth): relative path →
/// bytes. Links are not followed: a link is recorded as `symlink to <target>`. A file
/// that vanishes while it is read (a render running meanwhile) reads as empty.
pub fn snapshot(dir: &Path, skip: &[&str]) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(
        root: &Path,
        dir: &Path,
        skip: &[&str],
        out: &mut std::collections::BTreeMap<String, Vec<u8>>,
    ) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            if skip.contains(&e.file_name().to_string_lossy().as_ref()) {
                continue;
            }
            let Ok(ft) = e.file_type() else { continue };
            let path = e.path();
            let rel = || {
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            };
            if ft.is_symlink() {
                let target = std::fs::read_link(&path).unwrap_or_default();
                out.insert(
                    rel(),
                    format!("symlink to {}", target.display()).into_bytes(),
                );
            } else if ft.is_dir() {
                walk(root, &path, skip, out);
            } else {
                out.insert(rel(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, skip, &mut out);
    out
}

/// Whether `rel` names one of kgen's temporary files.
pub fn is_temp(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.starts_with(kgen::write::TEMP_PREFIX) && name.ends_with(kgen::write::TEMP_SUFFIX)
}

/// A synthetic platform of `n` services (scripts/gen-platform.py), with its
/// overlays in two versions that differ in every image tag.
pub fn synthetic(n: usize) -> (Platform, [Vec<(String, String)>; 2]) {
    let p = Platform::empty();
    let status = Command::new("python3")
        .arg(repo_root().join("scripts/gen-platform.py"))
        .arg(n.to_string())
        .arg(p.path())
        .status()
        .expect("python3");
    assert!(status.success());
    let a: Vec<(String, String)> = ["dev", "staging", "prod"]
        .iter()
        .map(|env| {
            let rel = format!("overlays/{env}.toml");
            let text = p.read(&rel);
            (rel, text)
        })
        .collect();
    let b = a
        .iter()
        .map(|(rel, text)| (rel.clone(), text.replace("tag = \"1.", "tag = \"2.")))
        .collect();
    (p, [a, b])
}

/// Writes each (relative path, text) into the platform.
pub fn set_files(p: &Platform, files: &[(String, String)]) {
    for (rel, text) in files {
        p.write(rel, text);
    }
}
