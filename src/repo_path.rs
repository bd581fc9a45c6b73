//! Paths as GitHub names them: relative to the top level of the git repository.
//!
//! kgen shows paths relative to the platform directory (`overlays/prod.toml`). A
//! GitHub annotation must name the file relative to the repository root, or it lands
//! on the wrong file (or none) whenever the platform is not at the root
//! (`--platform infra/platform.toml`, the action's `working-directory`).

use std::path::{Component, Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::rules;
use crate::source::Origin;
use crate::workspace::Workspace;

/// The repository's top level (canonical), found upward from `start`, if any.
pub fn git_toplevel(start: &Path) -> Option<PathBuf> {
    discover(start).map(|(_, top)| top)
}

/// The repository holding `start`, and its top level (canonical).
fn discover(start: &Path) -> Option<(git2::Repository, PathBuf)> {
    let repo = git2::Repository::discover(absolute(start)).ok()?;
    let top = std::fs::canonicalize(repo.workdir()?).ok()?;
    Some((repo, top))
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

/// For a platform read from `root` (its directory, a real path) in the git repository
/// `[platform] repo` names (a remote's URL is it): the warning that the Argo CD
/// Applications take their manifests from where there are none, when platform.toml is
/// below the repository's top level and `[platform] repo_path` is not set, or when
/// `repo_path` names another directory. A repository whose remotes are all elsewhere
/// is taken to be another (a platform kept in one repository and published to
/// another); `repo_path = ""` says the root is meant.
pub fn repo_path_warning(ws: &Workspace, root: &Path) -> Option<Diagnostic> {
    let section = &ws.platform.platform.value;
    let set = section
        .repo_path
        .as_ref()
        .map(|r| r.value.trim_matches('/'));
    if set == Some("") {
        return None;
    }
    let (repo, top) = discover(root)?;
    let rel = relative_to(root, &top)?;
    if set.is_none() && rel.is_empty() || set == Some(rel.as_str()) {
        return None;
    }
    let wanted = same_repository_key(&section.repo.value);
    let remotes = repo.remotes().ok()?;
    let is_it = remotes
        .iter()
        .filter_map(|name| name.ok().flatten())
        .filter_map(|name| repo.find_remote(name).ok())
        .any(|r| r.url().is_ok_and(|url| same_repository_key(url) == wanted));
    if !is_it {
        return None;
    }
    let shown = if rel.is_empty() { "the root" } else { &rel };
    let d = match (&section.repo_path, set) {
        (Some(rp), Some(set)) => Diagnostic::warning(
            rules::INVALID_VALUE,
            format!(
                "`repo_path` is `{set}`, but platform.toml is in {} of its git repository: the Argo CD Applications take their manifests from `{set}/generated/…`, where there are none",
                if rel.is_empty() { "the root".to_string() } else { format!("`{rel}`") }
            ),
        )
        .at(Origin::new(ws.platform_file, rp.span.clone()))
        .help(if rel.is_empty() {
            "remove `repo_path` (platform.toml is at the repository's root)".to_string()
        } else {
            format!("write `repo_path = \"{rel}\"`")
        }),
        _ => Diagnostic::warning(
            rules::INVALID_VALUE,
            format!(
                "platform.toml is in `{shown}` of its git repository, but `[platform] repo_path` is not set: the Argo CD Applications take their manifests from `generated/…` at the repository's root, where there are none"
            ),
        )
        .at(Origin::new(ws.platform_file, section.repo.span.clone()))
        .label("Argo CD reads the paths from this repository's root")
        .help(format!(
            "set `repo_path = \"{rel}\"` under [platform]; if Argo CD reads another repository that holds this directory at its root, say so with `repo_path = \"\"`"
        )),
    };
    Some(d)
}

/// A git URL reduced to host and path, so that the ways of writing one repository
/// compare equal: `https://github.com/acme/p.git`, `git@github.com:acme/p` and
/// `ssh://git@github.com/acme/p/` are all `github.com/acme/p`.
fn same_repository_key(url: &str) -> String {
    let url = url.trim();
    let (rest, scp) = match url.split_once("://") {
        Some((_, rest)) => (rest, false),
        None => (url, true),
    };
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    // `host:path` (scp-like) when there was no scheme; else `host[:port]/path`.
    let (host, path) = if scp {
        rest.split_once(':').unwrap_or((rest, ""))
    } else {
        rest.split_once('/').unwrap_or((rest, ""))
    };
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let path = path.trim_matches('/').to_ascii_lowercase();
    let path = path.strip_suffix(".git").unwrap_or(&path);
    format!("{host}/{path}")
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
    fn one_repository_written_several_ways_is_one() {
        for url in [
            "https://github.com/acme/platform.git",
            "https://GitHub.com/acme/platform/",
            "git@github.com:acme/platform.git",
            "ssh://git@github.com/acme/platform",
            "https://token@github.com/acme/platform",
            "https://github.com/ACME/Platform.GIT",
            "ssh://git@github.com:22/acme/platform.git",
            "https://github.com:443/acme/platform",
            "https://www.github.com/acme/platform",
            "git@github.com:/acme/platform.git",
        ] {
            assert_eq!(
                same_repository_key(url),
                "github.com/acme/platform",
                "{url}"
            );
        }
        assert_ne!(
            same_repository_key("https://github.com/acme/other.git"),
            "github.com/acme/platform"
        );
    }

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
