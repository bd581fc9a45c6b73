//! Paths as GitHub names them: relative to the top level of the git repository.
//!
//! kgen shows paths relative to the platform directory (`overlays/prod.toml`). A
//! GitHub annotation must name the file relative to the repository root, or it lands
//! on the wrong file (or none) whenever the platform is not at the root
//! (`--platform infra/platform.toml`, the action's `working-directory`).

use std::path::{Component, Path, PathBuf};

/// The repository's top level (canonical), found upward from `start`, if any.
pub fn git_toplevel(start: &Path) -> Option<PathBuf> {
    let start = absolute(start);
    let repo = git2::Repository::discover(&start).ok()?;
    let workdir = repo.workdir()?;
    std::fs::canonicalize(workdir).ok()
}

/// `path` relative to `root` (canonical), `/`-separated; `None` when it is outside.
/// The path need not exist (a file `render --check` reports missing): its longest
/// existing ancestor is resolved, and the rest appended.
pub fn relative_to(path: &Path, root: &Path) -> Option<String> {
    let abs = canonical_prefix(&absolute(path));
    let rel = abs.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// Maps paths on disk to the names GitHub annotations use.
#[derive(Debug, Clone, Default)]
pub struct RepoPaths {
    root: Option<PathBuf>,
}

impl RepoPaths {
    /// The repository holding `start` (a file or directory); outside a repository,
    /// paths are left as kgen shows them.
    pub fn discover(start: &Path) -> RepoPaths {
        let dir = if start.is_dir() {
            start.to_path_buf()
        } else {
            start
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."))
        };
        RepoPaths {
            root: git_toplevel(&dir),
        }
    }

    /// `path` (on disk) relative to the repository root, or `shown` when there is no
    /// repository or the file is outside it.
    pub fn name(&self, path: &Path, shown: &str) -> String {
        self.root
            .as_deref()
            .and_then(|root| relative_to(path, root))
            .unwrap_or_else(|| shown.to_string())
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Canonicalises the longest existing ancestor of `p` and appends the rest
/// (normalising `.` and `..` in the rest).
fn canonical_prefix(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(&existing) {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => {
                return p
                    .components()
                    .filter(|c| !matches!(c, Component::CurDir))
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_named_relative_to_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("infra")).unwrap();
        let p = root.join("infra/generated/dev/api/service.yaml");
        assert_eq!(
            relative_to(&p, &root).as_deref(),
            Some("infra/generated/dev/api/service.yaml")
        );
        assert_eq!(relative_to(Path::new("/elsewhere/x"), &root), None);
    }
}
