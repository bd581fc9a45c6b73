//! Temporary git repositories, built with git2, for the commands that read or write
//! git: `kgen diff`, `bump-image --commit`, `promote --commit`.

use std::path::Path;

use git2::{IndexAddOption, Oid, Repository, RepositoryInitOptions, Signature};

/// Makes `dir` a git repository whose HEAD is the branch `main` (no commit yet).
pub fn init(dir: &Path) -> Repository {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    Repository::init_opts(dir, &opts).unwrap()
}

/// Commits the whole working tree (additions, changes, deletions) on HEAD as `sig`,
/// on top of HEAD's commit if there is one.
pub fn commit_all(repo: &Repository, sig: &Signature<'_>, message: &str) -> Oid {
    let mut index = repo.index().unwrap();
    index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().ok().map(|h| h.peel_to_commit().unwrap());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), sig, sig, message, &tree, &parents)
        .unwrap()
}

/// Runs the `git` command line in `dir` (for what git2 does not do as git does: a
/// shallow clone, a remote), as a fixed identity; fails the test with git's message.
pub fn run(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
