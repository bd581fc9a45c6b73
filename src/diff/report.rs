//! What `kgen diff` reports: the two sides (`Side`), the stale warning (`Stale`), the
//! result of a comparison (`ManifestDiff`, with its counts per group) and the whole
//! report (`DiffReport`) that `diff_format` prints.

use std::collections::BTreeMap;

use serde::Serialize;

use super::compare::{Changed, Moved, ServiceUnit};
use super::risks::Risk;
use super::versions::VersionChange;
use crate::manifest_set::{Group, Resource};

/// Counts for one group (environment, cluster or platform), or for all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl Counts {
    pub fn differences(&self) -> usize {
        self.added + self.changed + self.removed
    }
}

/// One side of a diff: a commit, or the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// The ref as given or chosen (`main`, `HEAD~1`); None for the working tree.
    pub name: Option<String>,
    /// Full commit id; None for the working tree.
    pub commit: Option<String>,
    /// How the commit was chosen (`merge base of HEAD and main`), if not given.
    pub how: Option<String>,
}

impl Side {
    pub fn working_tree() -> Side {
        Side {
            name: None,
            commit: None,
            how: None,
        }
    }

    /// `main (1a2b3c4)`, `1a2b3c4 (merge base of HEAD and main)`, `working tree`.
    pub fn describe(&self) -> String {
        let short = self.commit.as_deref().map(|c| &c[..c.len().min(7)]);
        match (self.shown_name(), short, &self.how) {
            (_, Some(c), Some(how)) => format!("{c} ({how})"),
            (Some(n), Some(c), None) => format!("{n} ({c})"),
            (Some(n), None, _) => n.clone(),
            (None, Some(c), None) => c.to_string(),
            (None, None, _) => "working tree".into(),
        }
    }

    /// The name to show beside the commit: none when it is the commit itself, or
    /// the start of it (`--base fb810dd`), which would be said twice.
    pub fn shown_name(&self) -> Option<&String> {
        self.name.as_ref().filter(|n| {
            !(n.len() >= 4
                && n.bytes().all(|b| b.is_ascii_hexdigit())
                && self
                    .commit
                    .as_deref()
                    .is_some_and(|c| c.starts_with(n.as_str())))
        })
    }
}

/// The head's committed (or working) `generated/` does not match its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// Where: `HEAD (working tree)` or the head ref.
    pub place: String,
    /// Files under `generated/` that differ, are missing or are left over.
    pub files: Vec<String>,
}

impl Stale {
    /// "generated/ at HEAD (working tree) is stale: 2 files differ from its inputs".
    pub fn headline(&self) -> String {
        let n = self.files.len();
        format!(
            "generated/ at {} is stale: {} {} from its inputs",
            self.place,
            crate::diagnostic::plural(n, "file"),
            if n == 1 { "differs" } else { "differ" }
        )
    }
}

/// Everything `kgen diff` reports.
#[derive(Debug, Clone)]
pub struct DiffReport {
    pub base: Side,
    pub head: Side,
    /// Set when no base was given and none could be chosen but `HEAD` itself (no
    /// default branch shares history with it, or a shallow clone): why. Changes
    /// already committed are not compared.
    pub base_is_head: Option<String>,
    /// Set when the head's `generated/` does not match the render of its inputs.
    pub stale: Option<Stale>,
    pub diff: ManifestDiff,
    /// Other things worth knowing (a resource defined twice).
    pub notes: Vec<String>,
}

impl DiffReport {
    /// "the base is HEAD itself, so changes already committed are not compared: ...".
    pub fn base_is_head_warning(&self) -> Option<String> {
        self.base_is_head.as_ref().map(|why| {
            format!(
                "nothing compared: the base is HEAD itself, so changes already committed do not show: {why}; pass `--base REF`, or fetch the history"
            )
        })
    }

    /// What makes `--exit-code` fail besides differences: the base is the head
    /// (exit 3: nothing was compared), generated/ at the head is stale (exit 1).
    pub fn exit_status(&self, exit_code: bool, in_github_actions: bool) -> u8 {
        if self.base_is_head.is_some() && (exit_code || in_github_actions) {
            3
        } else if exit_code && (self.diff.differences() > 0 || self.stale.is_some()) {
            1
        } else {
            0
        }
    }
}

/// The result of comparing two manifest sets.
#[derive(Debug, Clone, Default)]
pub struct ManifestDiff {
    /// Every group (environment, cluster, platform) seen on either side, with its counts.
    pub groups: BTreeMap<Group, Counts>,
    pub added: Vec<Resource>,
    pub removed: Vec<Resource>,
    pub changed: Vec<Changed>,
    pub moved: Vec<Moved>,
    pub risks: Vec<Risk>,
    /// What is worth knowing but is not a risk (a Job that runs again, ...).
    pub info: Vec<Risk>,
    /// Services added or removed as a whole (their objects are in `added` and
    /// `removed` too).
    pub services: Vec<ServiceUnit>,
    /// Services whose changes follow from their version alone (their objects are in
    /// `changed` too, marked `version_only`).
    pub versions: Vec<VersionChange>,
    /// What each `--ignore` rule left out.
    pub ignore_notes: Vec<String>,
}

impl ManifestDiff {
    /// Number of added, changed and removed resources.
    pub fn differences(&self) -> usize {
        self.added.len() + self.changed.len() + self.removed.len()
    }

    pub fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for c in self.groups.values() {
            t.added += c.added;
            t.changed += c.changed;
            t.removed += c.removed;
            t.unchanged += c.unchanged;
        }
        t
    }

    /// Records `n` resources known to be unchanged without being parsed (identical files).
    pub fn count_unchanged(&mut self, group: &Group, n: usize) {
        self.groups.entry(group.clone()).or_default().unchanged += n;
    }
}

#[cfg(test)]
mod tests {
    use super::Side;

    #[test]
    fn a_ref_that_is_the_commit_is_said_once() {
        let commit = Some("fb810dd0c2a1e0b7e6a9f1d2c3b4a5968778695a".to_string());
        let side = |name: &str| Side {
            name: Some(name.into()),
            commit: commit.clone(),
            how: None,
        };
        assert_eq!(side("fb810dd").describe(), "fb810dd");
        assert_eq!(side("main").describe(), "main (fb810dd)");
        assert_eq!(side("HEAD~1").describe(), "HEAD~1 (fb810dd)");
        // A branch named like hex that is not this commit keeps its name.
        assert_eq!(side("beef").describe(), "beef (fb810dd)");
    }
}
