//! The same change in many places, said once: services whose version lines are the
//! same but for the service's name (`VersionGroup`), and changed objects whose changes
//! are the same once their own name, namespace and service are factored out
//! (`SameChange`). A tag bump across 200 services, or one env var changed in
//! `[defaults]`, is then a few lines long. Only text and Markdown group; JSON lists
//! every object.

use std::collections::BTreeMap;

use serde_json::Value;

use super::compare::{service_dir, Changed};
use super::report::ManifestDiff;
use super::risks::{and_list, Risk, RiskKind};
use super::versions::VersionChange;
use crate::diagnostic::plural;

/// Fewer services or objects than this with the same change are shown one by one.
pub const GROUP_MIN: usize = 3;

/// Services whose version lines are the same but for the service's name.
#[derive(Debug, Clone)]
pub struct VersionGroup {
    /// The line they share (`VersionChange::line(true)`).
    pub line: String,
    /// Indices into `ManifestDiff::versions`, in order.
    pub members: Vec<usize>,
}

/// Changed objects of one kind whose changes are the same once their own name,
/// namespace and service are factored out (`{name}`, `{namespace}`, `{service}`).
#[derive(Debug, Clone)]
pub struct SameChange {
    pub kind: String,
    /// Indices into `ManifestDiff::changed`, in order; the first one's diff is shown.
    pub members: Vec<usize>,
    /// (field, before, after) of each change, factored out, besides a new version.
    pub fields: Vec<(String, String, String)>,
    /// Whether the objects also take their service's new version (whose changes are
    /// left out of `fields`).
    pub with_version: bool,
}

impl VersionGroup {
    /// `600 services in 3 environments (dev, prod and staging): version 1.0.0 → 1.0.1 …`.
    pub fn headline(&self, d: &ManifestDiff) -> String {
        let envs = environments(self.members.iter().map(|&i| &d.versions[i].environment));
        format!(
            "{} in {}: {}",
            plural(self.members.len(), "service"),
            envs,
            self.line
        )
    }

    /// (environment, its services), in order.
    pub fn by_environment<'a>(&self, d: &'a ManifestDiff) -> Vec<(&'a str, Vec<&'a str>)> {
        let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
        for &i in &self.members {
            let v = &d.versions[i];
            match out.last_mut() {
                Some((e, list)) if *e == v.environment => list.push(&v.service),
                _ => out.push((&v.environment, vec![&v.service])),
            }
        }
        out
    }
}

impl SameChange {
    /// `the same change in 600 Deployments in 3 environments (dev, prod and staging),
    /// besides their service's new version: `containers[{name}].env[LOG_LEVEL].value` info → warn`.
    pub fn headline(&self, d: &ManifestDiff) -> String {
        let envs = environments(
            self.members
                .iter()
                .map(|&i| d.changed[i].id.group.to_string()),
        );
        format!(
            "the same change in {} {} in {}{}: {}",
            self.members.len(),
            plural_kind(&self.kind),
            envs,
            if self.with_version {
                ", besides their service's new version"
            } else {
                ""
            },
            fields_line(&self.fields)
        )
    }

    /// (group, the objects' `namespace/name`), in order.
    pub fn by_group(&self, d: &ManifestDiff) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for &i in &self.members {
            let id = &d.changed[i].id;
            let name = if id.namespace.is_empty() {
                id.name.clone()
            } else {
                format!("{}/{}", id.namespace, id.name)
            };
            let g = id.group.to_string();
            match out.last_mut() {
                Some((e, list)) if *e == g => list.push(name),
                _ => out.push((g, vec![name])),
            }
        }
        out
    }
}

/// `3 environments (dev, prod and staging)`, or `dev` for one.
fn environments<S: AsRef<str>>(names: impl Iterator<Item = S>) -> String {
    let mut all: Vec<String> = names.map(|s| s.as_ref().to_string()).collect();
    all.sort();
    all.dedup();
    if all.len() == 1 {
        return all.remove(0);
    }
    let n = all.len();
    let what = if all.iter().all(|g| !g.contains(' ')) {
        "environment"
    } else {
        "place"
    };
    format!("{} ({})", plural(n, what), and_list(&all))
}

/// `Deployments`, `NetworkPolicies`, `Ingresses`.
pub fn plural_kind(kind: &str) -> String {
    if kind.ends_with('s') {
        format!("{kind}es")
    } else if let Some(stem) = kind.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{kind}s")
    }
}

/// A value as a one-line summary shows it: `(unset)`, a string as it is, anything
/// else as JSON.
fn shown(v: &Value) -> String {
    crate::diff::scalar(v)
}

/// A value cut after 60 characters.
fn cut(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s.to_string()
    }
}

/// A field as a one-line summary shows it: the pod template's prefix left out.
fn short_path(path: &str) -> &str {
    [
        "spec.jobTemplate.spec.template.spec.",
        "spec.template.spec.",
    ]
    .iter()
    .find_map(|p| path.strip_prefix(p))
    .unwrap_or(path)
}

/// `` `spec.replicas` 2 → 3, `containers[web].env[A].value` (unset) → x and 2 more fields ``.
pub fn fields_line(fields: &[(String, String, String)]) -> String {
    const SHOWN: usize = 3;
    let mut parts: Vec<String> = fields
        .iter()
        .take(SHOWN)
        .map(|(p, b, h)| format!("`{}` {} → {}", short_path(p), cut(b), cut(h)))
        .collect();
    if fields.len() > SHOWN {
        parts.push(plural(fields.len() - SHOWN, "more field"));
    }
    parts.join(", ")
}

/// The one-line summary of one changed object's fields.
pub fn changed_line(c: &Changed) -> String {
    fields_line(
        &c.changes
            .iter()
            .map(|(p, b, h)| (p.clone(), shown(b), shown(h)))
            .collect::<Vec<_>>(),
    )
}

/// Services whose version lines are the same but for their name, at least
/// `GROUP_MIN` of them, in the order of their first member.
pub fn version_groups(versions: &[VersionChange]) -> Vec<VersionGroup> {
    let mut by_line: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, v) in versions.iter().enumerate() {
        by_line.entry(v.line(true)).or_default().push(i);
    }
    let mut out: Vec<VersionGroup> = by_line
        .into_iter()
        .filter(|(_, m)| m.len() >= GROUP_MIN)
        .map(|(line, members)| VersionGroup { line, members })
        .collect();
    out.sort_by_key(|g| g.members[0]);
    out
}

/// Whether a field of an object that takes its service's new version follows from
/// that version (the version label, the config hash, the ConfigMap's `VERSION`, an
/// image).
fn follows_version(kind: &str, path: &str) -> bool {
    let quoted = |k: &str| format!("[{}]", Value::String(k.to_string()));
    path.ends_with(&format!("labels{}", quoted(crate::render::labels::VERSION)))
        || path.ends_with(&format!(
            "annotations{}",
            quoted(crate::render::pod::CONFIG_HASH_ANNOTATION)
        ))
        || (kind == "ConfigMap" && path == "data.VERSION")
        || (path.ends_with(".image")
            && (path.contains("containers[") || path.contains("initContainers[")))
}

/// Changed objects (not in a version line, not a Job that runs again) whose changes
/// are the same once their own name, namespace and service are factored out, at least
/// `GROUP_MIN` of them, in the order of their first member.
pub fn same_changes(d: &ManifestDiff) -> Vec<SameChange> {
    type Key = (String, String, Vec<(String, String, String)>);
    let mut groups: BTreeMap<Key, (Vec<usize>, bool)> = BTreeMap::new();
    let hash = crate::render::pod::CONFIG_HASH_ANNOTATION;
    for (i, c) in d.changed.iter().enumerate() {
        if c.version_only || c.replaces.is_some() {
            continue;
        }
        let versioned = d.versions.iter().any(|v| v.others.contains(&c.id));
        let service = service_dir(&c.path).map(|(_, s)| s).unwrap_or("");
        let mut names: Vec<(&str, &str)> = [
            (c.id.name.as_str(), "{name}"),
            (c.id.namespace.as_str(), "{namespace}"),
            (service, "{service}"),
        ]
        .into_iter()
        .filter(|(n, _)| !n.is_empty())
        .collect();
        // Longest first (`dev-web` before `web`); of equal ones, the name (stable sort).
        names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        names.dedup_by_key(|(n, _)| *n);
        let factor = |s: String| factor_out(s, &names);
        let mut fields = Vec::new();
        let mut with_version = false;
        for (p, b, h) in &c.changes {
            if versioned && follows_version(&c.id.kind, p) {
                with_version = true;
                continue;
            }
            let (b, h) = if p.contains(hash) {
                ("(a hash)".to_string(), "(another hash)".to_string())
            } else {
                (factor(shown(b)), factor(shown(h)))
            };
            fields.push((factor(p.clone()), b, h));
        }
        if fields.is_empty() {
            continue;
        }
        let e = groups
            .entry((c.id.api_version.clone(), c.id.kind.clone(), fields))
            .or_default();
        e.0.push(i);
        e.1 |= with_version;
    }
    let mut out: Vec<SameChange> = groups
        .into_iter()
        .filter(|(_, (m, _))| m.len() >= GROUP_MIN)
        .map(|((_, kind, fields), (members, with_version))| SameChange {
            kind,
            members,
            fields,
            with_version,
        })
        .collect();
    out.sort_by_key(|g| g.members[0]);
    out
}

/// `s` with each of `names` (longest first) replaced by its placeholder where it is a
/// whole word (no letter or digit on either side: `dev-web` and `web-config` hold `web`,
/// `webhook` does not).
fn factor_out(s: String, names: &[(&str, &str)]) -> String {
    names.iter().fold(s, |s, (word, with)| {
        let mut out = String::with_capacity(s.len());
        let mut rest = s.as_str();
        while let Some(i) = rest.find(word) {
            out.push_str(&rest[..i]);
            let after = rest[i + word.len()..].chars().next();
            let apart = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
            if apart(out.chars().next_back()) && apart(after) {
                out.push_str(with);
            } else {
                out.push_str(word);
            }
            rest = &rest[i + word.len()..];
        }
        out.push_str(rest);
        out
    })
}

/// The `kind` of a group of whole services' findings (`FindingGroup::kind`).
const SERVICE: &str = "service";

/// Risks or info lines of one kind about objects of one kind whose messages are the
/// same once the object's own name and namespace are written `{name}` and
/// `{namespace}` (600 Deployments whose pod template changes alike), or about whole
/// services, the same once the service's name is written `{service}` (60 services that
/// move from `{service}` to `prod-{service}`).
#[derive(Debug, Clone)]
pub struct FindingGroup {
    /// The objects' kind.
    pub kind: String,
    /// The message they share.
    pub message: String,
    /// Indices into the list of findings, in order.
    pub members: Vec<usize>,
}

impl FindingGroup {
    /// `400 Deployments in 2 environments (dev and staging): the pod template changes …`.
    pub fn headline(&self, findings: &[Risk]) -> String {
        let envs = environments(self.members.iter().map(|&i| findings[i].group.to_string()));
        format!(
            "{} {} in {}: {}",
            self.members.len(),
            plural_kind(&self.kind),
            envs,
            self.message
        )
    }

    /// (group, the objects' `namespace/name`), in order.
    pub fn by_group(&self, findings: &[Risk]) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for &i in &self.members {
            let name = match (&findings[i].resource, &findings[i].service) {
                (Some(id), _) if id.namespace.is_empty() => id.name.clone(),
                (Some(id), _) => format!("{}/{}", id.namespace, id.name),
                (None, Some(service)) => service.clone(),
                (None, None) => continue,
            };
            let g = findings[i].group.to_string();
            match out.last_mut() {
                Some((e, list)) if *e == g => list.push(name),
                _ => out.push((g, vec![name])),
            }
        }
        out
    }
}

/// The findings about one object each whose messages are the same but for the object's
/// name and namespace, at least `GROUP_MIN` of them, in the order of their first member.
pub fn finding_groups(findings: &[Risk]) -> Vec<FindingGroup> {
    let mut groups: BTreeMap<(RiskKind, String, String), Vec<usize>> = BTreeMap::new();
    for (i, r) in findings.iter().enumerate() {
        // An object's finding, or a whole service's (a namespace move): the service's
        // name is factored out as `{service}` (`dev-{service}`).
        let (kind, mut names): (&str, Vec<(&str, &str)>) = match (&r.resource, &r.service) {
            (Some(id), _) => (
                id.kind.as_str(),
                vec![
                    (id.name.as_str(), "{name}"),
                    (id.namespace.as_str(), "{namespace}"),
                ],
            ),
            (None, Some(service)) => (SERVICE, vec![(service.as_str(), "{service}")]),
            (None, None) => continue,
        };
        names.retain(|(n, _)| !n.is_empty());
        names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        names.dedup_by_key(|(n, _)| *n);
        let message = factor_out(r.message.clone(), &names);
        groups
            .entry((r.kind, kind.to_string(), message))
            .or_default()
            .push(i);
    }
    let mut out: Vec<FindingGroup> = groups
        .into_iter()
        .filter(|(_, m)| m.len() >= GROUP_MIN)
        .map(|((_, kind, message), members)| FindingGroup {
            kind,
            message,
            members,
        })
        .collect();
    out.sort_by_key(|g| g.members[0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest_set::Group;

    fn moved(service: &str) -> Risk {
        Risk {
            kind: RiskKind::NamespaceChange,
            group: Group::Environment("dev".into()),
            resource: None,
            service: Some(service.into()),
            message: format!(
                "moves from namespace `{service}` to `dev-{service}` (7 objects): the old ones stay"
            ),
        }
    }

    /// Whole services' findings that differ only by the service's name are one group,
    /// from three on (verification review 34, F8).
    #[test]
    fn services_moving_alike_are_one_group() {
        let findings: Vec<Risk> = ["api", "web", "worker"].into_iter().map(moved).collect();
        let groups = finding_groups(&findings);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].headline(&findings),
            "3 services in dev: moves from namespace `{service}` to `dev-{service}` (7 objects): the old ones stay"
        );
        assert_eq!(
            groups[0].by_group(&findings),
            vec![(
                "dev".to_string(),
                vec!["api".to_string(), "web".to_string(), "worker".to_string()]
            )]
        );
        assert!(finding_groups(&findings[..2]).is_empty());
    }
}
