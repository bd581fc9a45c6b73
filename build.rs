//! Records the commit kgen is built from, for `kgen --version`
//! (`kgen 0.1.0 (commit 3d12ab4c9f0e, 2026-12-06)`).
//!
//! Where the commit comes from, first found wins:
//! 1. `KGEN_BUILD_COMMIT` (the release workflow, or a packager building from a tarball);
//! 2. git, when the source is a git checkout (`cargo install --git`, `--path .` in a clone);
//! 3. `.cargo_vcs_info.json`, which `cargo package` writes into a crates.io package;
//! 4. nothing: the version alone, with "commit unknown" (a tarball without .git).
//!
//! Never fails the build: every step falls back to the next one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KGEN_BUILD_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let version = std::env::var("CARGO_PKG_VERSION").expect("set by cargo");

    let commit = from_env()
        .or_else(|| from_git(&dir))
        .or_else(|| from_vcs_info(&dir));
    let long = match commit {
        Some(Commit { hash, date, dirty }) => {
            let short: String = hash.chars().take(12).collect();
            let mut s = format!("{version} (commit {short}");
            if dirty {
                s.push_str("-dirty");
            }
            if let Some(date) = date {
                s.push_str(&format!(", {date}"));
            }
            s.push(')');
            s
        }
        None => format!("{version} (commit unknown)"),
    };
    println!("cargo:rustc-env=KGEN_VERSION={long}");
}

struct Commit {
    hash: String,
    date: Option<String>,
    dirty: bool,
}

fn from_env() -> Option<Commit> {
    let hash = std::env::var("KGEN_BUILD_COMMIT").ok()?;
    let hash = hash.trim();
    (!hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit())).then(|| Commit {
        hash: hash.to_string(),
        date: None,
        dirty: false,
    })
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn from_git(dir: &Path) -> Option<Commit> {
    // Only when this package is the top of the checkout: a kgen source tree vendored
    // inside another repository must not report that repository's commit.
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    let hash = git(dir, &["rev-parse", "HEAD"])?;
    let date = git(dir, &["log", "-1", "--format=%cs", "HEAD"]);
    // Rebuild when HEAD moves (a commit, a checkout). Only for release builds: in a
    // debug build this would recompile the whole library on every commit, for a
    // version line nobody ships.
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        let mut watched = vec!["HEAD".to_string(), "logs/HEAD".into(), "packed-refs".into()];
        watched.extend(git(dir, &["rev-parse", "--symbolic-full-name", "HEAD"]));
        for rel in &watched {
            if let Some(p) = git(dir, &["rev-parse", "--git-path", rel]) {
                let p = dir.join(p);
                if p.exists() {
                    println!("cargo:rerun-if-changed={}", p.display());
                }
            }
        }
    }
    // No "-dirty" mark: this script does not rerun when a source file changes, so it
    // could not keep such a mark true.
    Some(Commit {
        hash,
        date,
        dirty: false,
    })
}

/// `{"git": {"sha1": "…", "dirty": true}, "path_in_vcs": ""}`, read without a JSON parser.
fn from_vcs_info(dir: &Path) -> Option<Commit> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let at = text.find("\"sha1\"")?;
    let rest = &text[at + 6..];
    let start = rest.find('"')? + 1;
    let len = rest[start..].find('"')?;
    let hash = &rest[start..start + len];
    hash.chars().all(|c| c.is_ascii_hexdigit()).then(|| Commit {
        hash: hash.to_string(),
        date: None,
        dirty: text.contains("\"dirty\": true") || text.contains("\"dirty\":true"),
    })
}
