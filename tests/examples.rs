//! The platforms under `examples/`: each renders without error, and its committed
//! `generated/` is byte for byte what a fresh render writes (`.ci/run` checks the same
//! with `kgen render --check`).

mod common;

use std::path::{Path, PathBuf};

use common::Platform;

/// Every directory under `examples/`, sorted. Each must hold a platform: none is skipped.
fn examples() -> Vec<PathBuf> {
    let root = common::repo_root().join("examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("read {}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// A temporary copy of the example's inputs (platform.toml, overlays/, and what the
/// escape hatch reads: manifests/, patch files, CRD schemas), without its generated/
/// tree.
fn copy_inputs(example: &Path) -> Platform {
    let p = Platform::empty();
    copy_dir(example, example, &p);
    p
}

fn copy_dir(root: &Path, dir: &Path, p: &Platform) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "generated" || rel == "README.md" {
            continue;
        }
        if path.is_dir() {
            copy_dir(root, &path, p);
        } else {
            p.write(&rel, &std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_example_has_a_platform_a_readme_and_a_generated_tree() {
    let all = examples();
    assert!(
        all.len() >= 3,
        "expected the examples under examples/, found {all:?}"
    );
    for example in &all {
        for needed in ["platform.toml", "README.md", "overlays", "generated"] {
            assert!(
                example.join(needed).exists(),
                "{} has no {needed}",
                example.display()
            );
        }
    }
}

#[test]
fn every_example_matches_its_committed_generated_tree() {
    for example in examples() {
        let name = example.file_name().unwrap().to_string_lossy().into_owned();
        let p = copy_inputs(&example);
        let out = p.kgen(&["render"]);
        assert_eq!(
            out.code, 0,
            "examples/{name} does not render:\n{}",
            out.stderr
        );
        let expected = common::snapshot(&example.join("generated"), &[]);
        let actual = common::snapshot(&p.path().join("generated"), &[]);
        assert_eq!(
            actual.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "examples/{name}/generated: file lists differ: run `kgen render --platform examples/{name}/platform.toml` and commit"
        );
        for (file, bytes) in &actual {
            assert!(
                expected[file] == *bytes,
                "examples/{name}/generated/{file} differs from a fresh render: run `kgen render --platform examples/{name}/platform.toml` and commit"
            );
        }
    }
}

#[test]
fn render_check_passes_on_every_example_in_place() {
    // What `.ci/run` runs: the committed tree, checked where it is.
    for example in examples() {
        let out = common::kgen_in(
            &common::repo_root(),
            &[
                "render",
                "--check",
                "--platform",
                example.join("platform.toml").to_str().unwrap(),
            ],
        );
        assert_eq!(
            out.code,
            0,
            "{}: kgen render --check failed:\n{}{}",
            example.display(),
            out.stdout,
            out.stderr
        );
    }
}

/// A Windows checkout (`core.autocrlf=true`) has CRLF line endings in every input:
/// platform.toml, the overlays, hand-written manifests and patch files. It renders
/// the same bytes as the LF checkout: the committed generated/ tree is up to date.
#[test]
fn crlf_inputs_render_the_same_bytes() {
    for name in ["worker-cronjob", "escape-hatch"] {
        let example = common::repo_root().join("examples").join(name);
        let p = copy_inputs(&example);
        let mut crlf = 0;
        for (rel, text) in common::read_tree(p.path()) {
            if !rel.ends_with(".json") {
                p.write(&rel, &text.replace('\n', "\r\n"));
                crlf += 1;
            }
        }
        assert!(crlf >= 3, "{name}: {crlf} files");
        let generated = example.join("generated");
        for (rel, text) in common::read_tree(&generated) {
            p.write(&format!("generated/{rel}"), &text);
        }
        let out = p.kgen(&["render", "--check"]);
        assert_eq!(out.code, 0, "{name}: {}{}", out.stdout, out.stderr);
    }
}
