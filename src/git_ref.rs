//! Reading files at a git ref, straight from the object database.
//!
//! `kgen diff` compares what is committed at one ref with the render of another
//! ref's inputs. Both are read through git2 from the object database: no checkout,
//! no temporary worktree, nothing written. This module owns finding the repository
//! around a platform file, resolving refs (and the default base: the merge base of
//! `HEAD` with the default branch), and listing or reading files in a commit's tree.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use crate::error::{Error, Result};

/// A repository opened around a platform file.
pub struct GitRepo {
    repo: Repository,
    /// The working directory, canonical (None for a bare repository).
    workdir: Option<PathBuf>,
}

/// A commit that a ref resolved to, with how the user should read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRef {
    /// What was asked for or chosen (`main`, `HEAD`, `origin/main`).
    pub name: String,
    /// The commit id, full hex.
    pub commit: String,
    /// How the commit was chosen, for the default base ("merge base of HEAD and main").
    pub how: Option<String>,
}

impl ResolvedRef {
    /// The first 7 hex digits of the commit.
    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(7)]
    }
}

fn git_err(what: impl std::fmt::Display) -> impl FnOnce(git2::Error) -> Error {
    move |e| Error::Git(format!("{what}: {}", e.message()))
}

impl GitRepo {
    /// Finds the repository that contains `path` (a file or directory, existing or not).
    pub fn discover(path: &Path) -> Result<GitRepo> {
        let start = existing_ancestor(path);
        let repo = Repository::discover(&start).map_err(|e| {
            Error::Git(format!(
                "{} is not inside a git repository: {}",
                start.display(),
                e.message()
            ))
        })?;
        let workdir = repo
            .workdir()
            .map(|w| w.canonicalize().unwrap_or_else(|_| w.to_path_buf()));
        Ok(GitRepo { repo, workdir })
    }

    pub fn workdir(&self) -> Option<&Path> {
        self.workdir.as_deref()
    }

    /// The path of `file` inside the repository, with `/` separators
    /// (`platform.toml`, `platforms/eu/platform.toml`).
    pub fn path_in_repo(&self, file: &Path) -> Result<String> {
        let workdir = self.workdir.as_deref().ok_or_else(|| {
            Error::Git("the repository is bare; kgen diff needs a working directory".into())
        })?;
        let absolute = absolute_lexical(file);
        // Canonicalize the deepest existing ancestor (symlinked temp dirs, `..`), then
        // re-append the rest.
        let mut existing = absolute.clone();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.file_name(), existing.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name.to_os_string());
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut canonical = existing.canonicalize().unwrap_or(existing);
        for name in rest.iter().rev() {
            canonical.push(name);
        }
        let relative = canonical.strip_prefix(workdir).map_err(|_| {
            Error::Usage(format!(
                "{} is outside the git repository at {}",
                file.display(),
                workdir.display()
            ))
        })?;
        Ok(slash_path(relative))
    }

    /// Resolves a revision (`main`, `HEAD~2`, a commit id, a tag) to a commit.
    pub fn resolve(&self, spec: &str) -> Result<ResolvedRef> {
        let oid = self.commit_of(spec)?;
        Ok(ResolvedRef {
            name: spec.to_string(),
            commit: oid.to_string(),
            how: None,
        })
    }

    fn commit_of(&self, spec: &str) -> Result<Oid> {
        let object = self
            .repo
            .revparse_single(spec)
            .map_err(|e| self.unresolved(spec, e))?;
        let commit = object
            .peel_to_commit()
            .map_err(git_err(format_args!("`{spec}` is not a commit")))?;
        Ok(commit.id())
    }

    /// Why `spec` names no commit, in kgen's words where libgit2's are its own
    /// ("revspec 'x' not found", "parent 0 does not exist").
    fn unresolved(&self, spec: &str, e: git2::Error) -> Error {
        let shallow = if self.repo.is_shallow() {
            " (this is a shallow clone, which has only the commits it fetched: `git fetch --unshallow`, or `fetch-depth: 0` for actions/checkout)"
        } else {
            ""
        };
        // `main~3`, `HEAD^`: the part before the first `~` or `^` may resolve.
        let base = spec.split(['~', '^']).next().unwrap_or(spec);
        let why = if e.code() != git2::ErrorCode::NotFound {
            e.message().to_string()
        } else if base != spec && !base.is_empty() && self.repo.revparse_single(base).is_ok() {
            format!("`{base}` has no such ancestor (`~N` goes back N first parents, `^2` is a merge's second parent)")
        } else {
            "no branch, tag or commit of that name".to_string()
        };
        Error::Git(format!("cannot resolve `{spec}`: {why}{shallow}"))
    }

    /// The name of the default branch: `origin/HEAD`'s target, else `main`, else
    /// `origin/main`, else `master`, else `origin/master`; None if none exists.
    pub fn default_branch(&self) -> Option<String> {
        if let Ok(r) = self.repo.find_reference("refs/remotes/origin/HEAD") {
            if let Ok(Some(target)) = r.symbolic_target() {
                let short = target
                    .strip_prefix("refs/remotes/")
                    .unwrap_or(target)
                    .to_string();
                if self.commit_of(&short).is_ok() {
                    return Some(short);
                }
            }
        }
        ["main", "origin/main", "master", "origin/master"]
            .into_iter()
            .find(|b| self.commit_of(b).is_ok())
            .map(str::to_string)
    }

    /// Whether `HEAD` is the branch `branch` names (`main`, or `origin/main` for its
    /// local namesake) and that branch is `main` or `master`: a checkout of the
    /// default branch itself. (A shallow clone of another branch may have its
    /// `origin/HEAD` point at that branch: that one is not taken for the default.)
    pub fn head_is_main_branch(&self, branch: &str) -> bool {
        let short = branch.strip_prefix("origin/").unwrap_or(branch);
        if !matches!(short, "main" | "master") {
            return false;
        }
        self.repo
            .head()
            .ok()
            .filter(git2::Reference::is_branch)
            .and_then(|h| h.shorthand().ok().map(|s| s == short))
            .unwrap_or(false)
    }

    /// Whether the repository is a shallow clone (`git clone --depth`, what
    /// `actions/checkout` makes by default): its history stops short.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow()
    }

    /// The default base of a diff: the merge base of `HEAD` with the default branch,
    /// falling back to `HEAD` (no default branch, or no common history: `how` is
    /// then `None`).
    pub fn default_base(&self) -> Result<ResolvedRef> {
        let head = self
            .commit_of("HEAD")
            .map_err(|e| Error::Git(format!("{e} (the repository has no commit yet?)")))?;
        if let Some(branch) = self.default_branch() {
            let tip = self.commit_of(&branch)?;
            if let Ok(base) = self.repo.merge_base(head, tip) {
                return Ok(ResolvedRef {
                    name: branch.clone(),
                    commit: base.to_string(),
                    how: Some(format!("merge base of HEAD and {branch}")),
                });
            }
        }
        Ok(ResolvedRef {
            name: "HEAD".into(),
            commit: head.to_string(),
            how: None,
        })
    }

    /// Every regular file under `dir` (a directory path inside the repository, `""`
    /// for the root) at `commit`: path relative to `dir` → blob id. A missing
    /// directory gives an empty map.
    pub fn list_files(&self, commit: &str, dir: &str) -> Result<BTreeMap<String, Oid>> {
        let tree = self.tree_of(commit)?;
        let sub = if dir.is_empty() {
            tree
        } else {
            match tree.get_path(Path::new(dir)) {
                Ok(entry) if entry.kind() == Some(ObjectType::Tree) => self
                    .repo
                    .find_tree(entry.id())
                    .map_err(git_err(format_args!("cannot read {dir} at {commit}")))?,
                _ => return Ok(BTreeMap::new()),
            }
        };
        let mut out = BTreeMap::new();
        sub.walk(TreeWalkMode::PreOrder, |root, entry| {
            // Regular files only (not symlinks 0o120000, nor submodules).
            if entry.kind() == Some(ObjectType::Blob) && entry.filemode() & 0o170000 == 0o100000 {
                if let Ok(name) = entry.name() {
                    out.insert(format!("{root}{name}"), entry.id());
                }
            }
            TreeWalkResult::Ok
        })
        .map_err(git_err(format_args!("cannot list {dir} at {commit}")))?;
        Ok(out)
    }

    /// The contents of a blob.
    pub fn blob(&self, oid: Oid) -> Result<Vec<u8>> {
        let blob = self
            .repo
            .find_blob(oid)
            .map_err(git_err(format_args!("cannot read blob {oid}")))?;
        Ok(blob.content().to_vec())
    }

    /// The text of the file at `path` in `commit`, or None when there is no such file.
    pub fn read_text(&self, commit: &str, path: &str) -> Result<Option<String>> {
        let tree = self.tree_of(commit)?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(e) if e.kind() == Some(ObjectType::Blob) => e,
            _ => return Ok(None),
        };
        let bytes = self.blob(entry.id())?;
        crate::workspace::decode(&format!("{path} (at {commit})"), bytes).map(Some)
    }

    fn tree_of(&self, commit: &str) -> Result<git2::Tree<'_>> {
        let oid = Oid::from_str(commit).map_err(git_err(format_args!("bad commit id {commit}")))?;
        self.repo
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(git_err(format_args!("cannot read commit {commit}")))
    }
}

/// The git blob id of `bytes`, as `git hash-object` computes it.
pub fn blob_id(bytes: &[u8]) -> Oid {
    Oid::hash_object(ObjectType::Blob, bytes).expect("hashing bytes in memory cannot fail")
}

/// `path` relative to the current directory made absolute, `.` and `..` resolved lexically.
fn absolute_lexical(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("."))
            .join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The deepest existing directory at or above `path`.
fn existing_ancestor(path: &Path) -> PathBuf {
    let mut p = absolute_lexical(path);
    while !p.is_dir() {
        if !p.pop() {
            return PathBuf::from(".");
        }
    }
    p
}

/// A relative path with `/` separators.
fn slash_path(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `dir/name`, or `name` when `dir` is empty.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}
