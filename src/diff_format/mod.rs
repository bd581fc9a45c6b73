//! Printing a `DiffReport`: text for a terminal (`text`), Markdown for a pull-request
//! comment (`markdown`), JSON for bots (`json`).
//!
//! All three put the risks, then the info, before the diffs. Text and Markdown say the
//! same change in many services or objects once (`diff::groups`); JSON lists every one.
//! Markdown is capped below GitHub's 65,536-character comment limit, keeps a line for
//! every change before any diff or list, and says honestly how much it left out and
//! where the rest is. The JSON
//! shape is documented in docs/diff.md and versioned (`"version": 2`); fields are
//! only ever added within a version. This module holds what the three share: the
//! entries of the added, removed and changed lists (a whole service, a version line)
//! and the no-differences line. `failure` is the Markdown written instead of a diff
//! when there is none (the head does not validate).

mod failure;
mod json;
mod markdown;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::diagnostic::plural;
use crate::diff::{
    same_changes, version_groups, Changed, Counts, DiffReport, Group, ManifestDiff, SameChange,
    ServiceUnit, VersionChange, VersionGroup,
};
use crate::manifest_set::Resource;

pub use failure::markdown_failure;
pub use json::{json, JSON_VERSION};
pub use markdown::{markdown, MARKDOWN_LIMIT, STEP_SUMMARY_LIMIT};
pub use text::text;

/// Output format of `kgen diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

/// Renders `report` in `format`; `color` only applies to text.
pub fn render(report: &DiffReport, format: DiffFormat, color: bool) -> String {
    match format {
        DiffFormat::Text => text(report, color),
        DiffFormat::Markdown => markdown(report, MARKDOWN_LIMIT),
        DiffFormat::Json => json(report),
    }
}

/// What an added or removed list shows, in order: a whole service (once, with its
/// objects), or one object.
enum Entry<'a> {
    Unit(&'a ServiceUnit),
    Object(&'a Resource),
}

/// The entries of `items` (added or removed), each service that is added or removed
/// as a whole in the place of its first object.
fn entries<'a>(d: &'a ManifestDiff, items: &'a [Resource], added: bool) -> Vec<Entry<'a>> {
    let mut out = Vec::new();
    let mut shown = BTreeSet::new();
    for r in items {
        let unit = d.services.iter().find(|u| {
            u.added == added
                && r.path.starts_with(&u.dir)
                && r.id.group.environment() == Some(u.environment.as_str())
        });
        match unit {
            Some(u) => {
                if shown.insert(u.dir.as_str()) {
                    out.push(Entry::Unit(u));
                }
            }
            None => out.push(Entry::Object(r)),
        }
    }
    out
}

/// What the changed list shows, in order: a service's version change (once, where
/// its first object is), services with the same version change, one changed object,
/// or objects with the same change (each once, where its first member is).
enum ChangeEntry<'a> {
    Version(&'a VersionChange),
    Versions(&'a VersionGroup),
    Object(&'a Changed),
    Same(&'a SameChange),
}

/// The groups of a diff: services with the same version change, objects with the
/// same change.
struct Groups {
    versions: Vec<VersionGroup>,
    same: Vec<SameChange>,
    /// The group of each version line and changed object, by index.
    version_of: BTreeMap<usize, usize>,
    same_of: BTreeMap<usize, usize>,
}

impl Groups {
    fn of(d: &ManifestDiff) -> Groups {
        let versions = version_groups(&d.versions);
        let same = same_changes(d);
        let index = |members: &mut dyn Iterator<Item = (usize, &Vec<usize>)>| {
            members
                .flat_map(|(g, m)| m.iter().map(move |&i| (i, g)))
                .collect::<BTreeMap<usize, usize>>()
        };
        let version_of = index(&mut versions.iter().map(|g| &g.members).enumerate());
        let same_of = index(&mut same.iter().map(|g| &g.members).enumerate());
        Groups {
            versions,
            same,
            version_of,
            same_of,
        }
    }
}

fn change_entries<'a>(d: &'a ManifestDiff, g: &'a Groups) -> Vec<ChangeEntry<'a>> {
    let mut out = Vec::new();
    let mut shown = BTreeSet::new();
    let mut groups_shown = BTreeSet::new();
    for (i, c) in d.changed.iter().enumerate() {
        if !c.version_only {
            match g.same_of.get(&i) {
                Some(&s) => {
                    if groups_shown.insert(("same", s)) {
                        out.push(ChangeEntry::Same(&g.same[s]));
                    }
                }
                None => out.push(ChangeEntry::Object(c)),
            }
            continue;
        }
        if let Some((vi, v)) = d
            .versions
            .iter()
            .enumerate()
            .find(|(_, v)| v.objects.contains(&c.id))
        {
            if !shown.insert(v.dir.as_str()) {
                continue;
            }
            match g.version_of.get(&vi) {
                Some(&s) => {
                    if groups_shown.insert(("versions", s)) {
                        out.push(ChangeEntry::Versions(&g.versions[s]));
                    }
                }
                None => out.push(ChangeEntry::Version(v)),
            }
        }
    }
    out
}

/// `items` after `first`, then on lines of at most 100 characters, each after
/// `indent`, separated by `sep`.
fn wrapped(first: &str, indent: &str, items: &[String], sep: &str) -> String {
    let mut out = first.to_string();
    let mut line = first.len();
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item}{sep}")
        } else {
            item.clone()
        };
        if line + piece.len() > 100 && line > indent.len() {
            out.truncate(out.trim_end().len());
            out.push('\n');
            out.push_str(indent);
            line = indent.len();
        }
        out.push_str(&piece);
        line += piece.len();
    }
    out.push('\n');
    out
}

/// An object's file, relative to its service's directory.
fn in_dir<'a>(path: &'a str, dir: &str) -> &'a str {
    path.strip_prefix(dir).unwrap_or(path)
}

/// How many stale files text and Markdown name (JSON lists them all).
const STALE_FILES_SHOWN: usize = 20;

fn no_differences(report: &DiffReport) -> String {
    let t = report.diff.totals();
    if report.base_is_head.is_some() {
        return format!(
            "nothing to compare: the base is the head ({} rendered the same as committed)",
            plural(t.unchanged, "resource")
        );
    }
    let mut s = format!(
        "no differences: {} {} the same",
        plural(t.unchanged, "resource"),
        if t.unchanged == 1 { "is" } else { "are" }
    );
    let parts = breakdown(&report.diff);
    if !parts.is_empty() {
        let _ = write!(s, " ({})", parts.join(", "));
    }
    s
}

/// `72 in 3 environments`, `59 in 2 clusters`, `1 platform-wide`: the resources of
/// each kind of group (unchanged, added, changed and removed alike).
fn breakdown(d: &ManifestDiff) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |groups: Vec<&Counts>, what: Option<&str>| {
        if groups.is_empty() {
            return;
        }
        let n: usize = groups.iter().map(|c| c.differences() + c.unchanged).sum();
        out.push(match what {
            Some(what) => format!("{n} in {}", plural(groups.len(), what)),
            None => format!("{n} platform-wide"),
        });
    };
    let of = |keep: fn(&Group) -> bool| -> Vec<&Counts> {
        d.groups
            .iter()
            .filter(|(g, _)| keep(g))
            .map(|(_, c)| c)
            .collect()
    };
    add(
        of(|g| matches!(g, Group::Environment(_))),
        Some("environment"),
    );
    add(of(|g| matches!(g, Group::Cluster(_))), Some("cluster"));
    add(of(|g| matches!(g, Group::Platform)), None);
    out
}
