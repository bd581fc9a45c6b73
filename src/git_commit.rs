//! Committing exactly the files a command changed (`bump-image --commit`,
//! `promote --commit`), with git2.
//!
//! Two steps, so that the refusal comes before anything is written:
//! `prepare` finds the repository and checks that the index holds no staged changes
//! to *other* files, and that the files to commit have no uncommitted changes of
//! their own yet (either would be swept into the deploy commit); `Prepared::commit`
//! then stages exactly the given paths (adds, modifications and deletions) and
//! commits on top of `HEAD`, a branch or a detached `HEAD` alike. Pushing stays with
//! the caller (the workflow).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use git2::{Repository, Signature};

use crate::error::{Error, Result};

/// Name and e-mail of the author or the committer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

/// The identity GitHub uses for commits made with the workflow's `GITHUB_TOKEN`.
pub const BOT_NAME: &str = "github-actions[bot]";
pub const BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";

impl Identity {
    pub fn bot() -> Identity {
        Identity {
            name: BOT_NAME.into(),
            email: BOT_EMAIL.into(),
        }
    }

    /// The author or committer (`role`: `AUTHOR` or `COMMITTER`) git itself would
    /// use: `GIT_<role>_NAME` / `GIT_<role>_EMAIL` when both are set, else the
    /// repository's configuration (`author.name` / `committer.name`, then
    /// `user.name`, and the e-mails alike; local, global and system files); the
    /// github-actions bot only when running in GitHub Actions (`GITHUB_ACTIONS=true`)
    /// with no identity configured. Anywhere else without one: an error, as git gives.
    pub fn resolve(repo: &Repository, role: &str) -> Result<Identity> {
        if let Some(id) = Identity::from_env(role) {
            return Ok(id);
        }
        if let Ok(cfg) = repo.config() {
            let lower = role.to_ascii_lowercase();
            let get = |what: &str| {
                cfg.get_string(&format!("{lower}.{what}"))
                    .or_else(|_| cfg.get_string(&format!("user.{what}")))
                    .ok()
                    .filter(|v| !v.trim().is_empty())
            };
            if let (Some(name), Some(email)) = (get("name"), get("email")) {
                return Ok(Identity { name, email });
            }
        }
        if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
            return Ok(Identity::bot());
        }
        Err(Error::Git(format!(
            "--commit needs a git identity and this repository has none: set one with `git config user.name \"Your Name\"` and `git config user.email you@example.com` (or GIT_{role}_NAME and GIT_{role}_EMAIL); kgen commits as github-actions[bot] only in GitHub Actions"
        )))
    }

    fn from_env(role: &str) -> Option<Identity> {
        let get = |what: &str| {
            std::env::var(format!("GIT_{role}_{what}"))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        Some(Identity {
            name: get("NAME")?,
            email: get("EMAIL")?,
        })
    }

    fn signature(&self) -> Result<Signature<'static>> {
        Signature::now(&self.name, &self.email).map_err(|e| {
            Error::Git(format!(
                "invalid git identity `{} <{}>`: {}",
                self.name,
                self.email,
                e.message()
            ))
        })
    }
}

/// A repository checked and ready to commit a set of paths.
pub struct Prepared {
    repo: Repository,
    /// Paths relative to the repository's working directory, `/`-separated.
    paths: Vec<String>,
    author: Identity,
    committer: Identity,
    /// `commit.gpgSign` is set: the commit is made by `git commit`, which signs it
    /// as configured (`gpg.format` openpgp, ssh or x509, `user.signingKey`).
    sign: bool,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("paths", &self.paths)
            .finish()
    }
}

fn git_err(what: &str) -> impl Fn(git2::Error) -> Error + '_ {
    move |e| Error::Git(format!("{what}: {}", git_message(&e)))
}

/// libgit2's whole message: some end in "...: " with the cause left in the OS error
/// (a lock file that exists), which is then added, so that the message is complete.
fn git_message(e: &git2::Error) -> String {
    let m = e.message().trim_end();
    let m = m.strip_suffix(':').unwrap_or(m).trim_end();
    let cause = match e.code() {
        git2::ErrorCode::Locked => Some(
            "another git process seems to be running in this repository, or one crashed and left its lock file: if none is running, remove the `.lock` file named above and retry",
        ),
        git2::ErrorCode::Exists => Some("it already exists"),
        _ => None,
    };
    match cause {
        Some(c) => format!("{m}: {c}"),
        None => m.to_string(),
    }
}

/// Puts the index entries of `before` back as they were (an absent entry is removed).
fn restore_index(
    index: &mut git2::Index,
    before: &[(String, Option<git2::IndexEntry>)],
) -> std::result::Result<(), String> {
    index.read(true).map_err(|e| git_message(&e))?;
    for (rel, entry) in before {
        let r = match entry {
            Some(entry) => index.add(entry),
            None if index.get_path(Path::new(rel), 0).is_some() => {
                index.remove_path(Path::new(rel))
            }
            None => Ok(()),
        };
        r.map_err(|e| format!("{rel}: {}", git_message(&e)))?;
    }
    index.write().map_err(|e| git_message(&e))
}

/// Finds the repository holding `dir` (the platform directory) and checks that
/// committing `paths` (relative to `dir`) would commit nothing else.
pub fn prepare(dir: &Path, paths: &[String]) -> Result<Prepared> {
    let repo = Repository::discover(dir).map_err(|e| {
        Error::Git(format!(
            "--commit needs a git repository, and {} is not in one: {}",
            dir.display(),
            e.message()
        ))
    })?;
    let workdir = repo.workdir().ok_or_else(|| {
        Error::Git("--commit needs a working tree, and this repository is bare".into())
    })?;
    let workdir = workdir
        .canonicalize()
        .map_err(|e| Error::io("resolve", workdir, e))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| Error::io("resolve", dir, e))?;
    let prefix = dir.strip_prefix(&workdir).map_err(|_| {
        Error::Git(format!(
            "{} is outside the repository's working tree {}",
            dir.display(),
            workdir.display()
        ))
    })?;
    let prefix: PathBuf = prefix.to_path_buf();
    let mut rel: Vec<String> = paths
        .iter()
        .map(|p| {
            let joined = prefix.join(p);
            joined
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    rel.sort();
    rel.dedup();

    let ours: BTreeSet<&str> = rel.iter().map(String::as_str).collect();
    let others = staged_paths(&repo)?
        .into_iter()
        .filter(|p| !ours.contains(p.as_str()))
        .collect::<Vec<_>>();
    if !others.is_empty() {
        let shown: Vec<&str> = others.iter().take(10).map(String::as_str).collect();
        let more = if others.len() > shown.len() {
            format!(" and {} more", others.len() - shown.len())
        } else {
            String::new()
        };
        return Err(Error::Usage(format!(
            "refusing to commit: the index has staged changes to {} that this command did not make, and --commit would sweep them into the deploy commit: {}{more}. Commit or unstage them first (`git restore --staged <path>`), or run without --commit",
            crate::diagnostic::plural(others.len(), "other file"),
            shown.join(", ")
        )));
    }
    let mut dirty = Vec::new();
    for path in &rel {
        match repo.status_file(Path::new(path)) {
            Ok(st) if st.is_empty() || st == git2::Status::IGNORED => {}
            Ok(_) => dirty.push(path.as_str()),
            Err(e) if e.code() == git2::ErrorCode::NotFound => {}
            Err(e) => {
                return Err(Error::Git(format!(
                    "read the status of {path}: {}",
                    e.message()
                )))
            }
        }
    }
    if !dirty.is_empty() {
        return Err(Error::Usage(format!(
            "refusing to commit: {} already {} uncommitted changes that this command did not make, and --commit would put them in the deploy commit. Commit or stash them first, or run without --commit",
            dirty.join(", "),
            if dirty.len() == 1 { "has" } else { "have" }
        )));
    }
    // Who commits, and whether to sign, is settled before anything is written.
    let author = Identity::resolve(&repo, "AUTHOR")?;
    let committer = Identity::resolve(&repo, "COMMITTER")?;
    let sign = repo
        .config()
        .and_then(|c| c.get_bool("commit.gpgsign"))
        .unwrap_or(false);
    Ok(Prepared {
        repo,
        paths: rel,
        author,
        committer,
        sign,
    })
}

/// Paths whose index entry differs from `HEAD` (or every indexed path on an unborn branch).
fn staged_paths(repo: &Repository) -> Result<Vec<String>> {
    let head_tree = match repo.head() {
        Ok(h) => Some(h.peel_to_tree().map_err(git_err("read HEAD"))?),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(e) => return Err(git_err("read HEAD")(e)),
    };
    let index = repo.index().map_err(git_err("read the index"))?;
    let diff = repo
        .diff_tree_to_index(head_tree.as_ref(), Some(&index), None)
        .map_err(git_err("compare the index with HEAD"))?;
    let mut out: Vec<String> = diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .or_else(|| d.old_file().path())
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

impl Prepared {
    /// Repository-relative paths that will be committed.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// Stages exactly the prepared paths as they are on disk (deleted files are
    /// removed from the index) and commits them on top of `HEAD`. Returns the new
    /// commit's id, or `None` when the files were already committed as they are.
    pub fn commit(self, message: &str) -> Result<Option<String>> {
        let repo = &self.repo;
        let workdir = repo.workdir().expect("checked in prepare").to_path_buf();
        let mut index = repo.index().map_err(git_err("read the index"))?;
        // The index entries of the paths as they were, put back if the commit fails:
        // a failed commit leaves the index as it found it (nothing staged), so that
        // a retry is not refused for "uncommitted changes" this command made.
        let before: Vec<(String, Option<git2::IndexEntry>)> = self
            .paths
            .iter()
            .map(|rel| (rel.clone(), index.get_path(Path::new(rel), 0)))
            .collect();
        match self.stage_and_commit(&mut index, &workdir, message) {
            Ok(oid) => Ok(oid),
            Err(e) => match restore_index(&mut index, &before) {
                Ok(()) => Err(e),
                Err(note) => Err(Error::Git(format!(
                    "{e}; restoring the index also failed ({note}): check `git status`"
                ))),
            },
        }
    }

    fn stage_and_commit(
        &self,
        index: &mut git2::Index,
        workdir: &Path,
        message: &str,
    ) -> Result<Option<String>> {
        let repo = &self.repo;
        for rel in &self.paths {
            let p = Path::new(rel);
            if std::fs::symlink_metadata(workdir.join(p)).is_ok() {
                index
                    .add_path(p)
                    .map_err(|e| Error::Git(format!("stage {rel}: {}", git_message(&e))))?;
            } else if index.get_path(p, 0).is_some() {
                index.remove_path(p).map_err(|e| {
                    Error::Git(format!("stage the removal of {rel}: {}", git_message(&e)))
                })?;
            }
        }
        index.write().map_err(git_err("write the index"))?;
        let tree_id = index.write_tree().map_err(git_err("write the tree"))?;
        let tree = repo.find_tree(tree_id).map_err(git_err("read the tree"))?;
        let parent = match repo.head() {
            Ok(h) => Some(h.peel_to_commit().map_err(git_err("read HEAD"))?),
            Err(_) => None,
        };
        if parent.as_ref().is_some_and(|p| p.tree_id() == tree_id) {
            return Ok(None);
        }
        if self.sign {
            return git_commit_signed(workdir, message, &self.author, &self.committer);
        }
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let oid = repo
            .commit(
                Some("HEAD"),
                &self.author.signature()?,
                &self.committer.signature()?,
                message,
                &tree,
                &parents,
            )
            .map_err(git_err("commit"))?;
        Ok(Some(oid.to_string()))
    }

    /// Who the commit will name as author and committer.
    pub fn identities(&self) -> (&Identity, &Identity) {
        (&self.author, &self.committer)
    }

    /// True when the commit will be signed (`commit.gpgSign`).
    pub fn signs(&self) -> bool {
        self.sign
    }
}

/// Commits the index with `git commit`, which signs as the repository configures
/// (libgit2 cannot run gpg or ssh-keygen). The index holds exactly the prepared
/// changes; hooks are not run, as for the unsigned commit.
fn git_commit_signed(
    workdir: &Path,
    message: &str,
    author: &Identity,
    committer: &Identity,
) -> Result<Option<String>> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(workdir)
        .args([
            "commit",
            "--quiet",
            "--no-verify",
            "--gpg-sign",
            "--cleanup=verbatim",
            "--file=-",
        ])
        .env("GIT_AUTHOR_NAME", &author.name)
        .env("GIT_AUTHOR_EMAIL", &author.email)
        .env("GIT_COMMITTER_NAME", &committer.name)
        .env("GIT_COMMITTER_EMAIL", &committer.email)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(message.as_bytes())?;
            child.wait_with_output()
        })
        .map_err(|e| {
            Error::Git(format!(
                "commit.gpgSign is set, so kgen commits with `git commit` to sign, and it could not run git: {e}"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Git(format!(
            "git commit (signed, as commit.gpgSign asks) failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let repo = Repository::open(workdir).map_err(git_err("open the repository"))?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(git_err("read HEAD"))?;
    Ok(Some(head.id().to_string()))
}
