//! Matching two manifest sets resource by resource.
//!
//! `compare` matches resources by identity (see `manifest_set`): a resource only in
//! the head is added, only in the base removed, in both with different parsed values
//! changed (key order and formatting never count), in both with equal values but
//! another file path moved (not a change). Changed resources carry a unified diff of
//! their deterministic YAML (`fields`).
//!
//! A Job that is not an Argo CD hook carries a hash of its pod template in its name
//! (`render::job`), so changing it renders a Job of another name in the same file:
//! `compare` pairs the two and reports one changed Job that `replaces` the old one
//! (the Job runs again), not an unrelated removal and addition. A service directory
//! on one side only is one `ServiceUnit`, added or removed as a whole.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::fields::{field_changes, field_diff, unified_diff};
use super::report::ManifestDiff;
use super::risks::{findings, Risk};
use super::versions::{churn, version_changes, Churn};
use super::workloads::hook;
use crate::diff_ignore::IgnoreRule;
use crate::diff_platform::HeadNodePools;
use crate::manifest_set::{Group, Identity, ManifestSet, Resource};

/// A resource present on both sides with different values.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The resource at the head.
    pub id: Identity,
    /// For a Job kgen renamed because its pod template changed: the Job it replaces
    /// (Argo CD prunes that one and runs the new one). None for a change in place.
    pub replaces: Option<Identity>,
    /// File path under `generated/` at the base.
    pub base_path: String,
    /// File path under `generated/` at the head.
    pub path: String,
    /// The paths of the fields that differ (`spec.replicas`,
    /// `spec.template.spec.containers[main-api].image`), sorted.
    pub fields: Vec<String>,
    /// Unified diff of the deterministic YAML of both values.
    pub diff: String,
    /// Each differing field (the paths of `fields`) with its value at the base and at
    /// the head (`null` where missing).
    pub changes: Vec<(String, serde_json::Value, serde_json::Value)>,
    /// When every differing field follows from the service's version (kgen's version
    /// label, the ConfigMap's `VERSION`, the pods' config hash, container images):
    /// what they are.
    pub churn: Option<Churn>,
    /// Shown only as part of its service's [`VersionChange`] line.
    pub version_only: bool,
}

/// A service (`generated/<env>/<service>/`) that is only at the head (added) or only
/// at the base (removed): shown once, with its objects inside.
#[derive(Debug, Clone)]
pub struct ServiceUnit {
    pub environment: String,
    pub service: String,
    /// `staging/aux-service/`, under `generated/`.
    pub dir: String,
    /// True when added, false when removed.
    pub added: bool,
    /// Its objects, in file order.
    pub objects: Vec<Resource>,
}

/// A resource whose file moved, with the same value: not a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub id: Identity,
    pub from: String,
    pub to: String,
}

/// Compares `base` with `head`. `manual` are the environments and clusters whose
/// sync is manual (from the head's platform).
pub fn compare(base: &ManifestSet, head: &ManifestSet, manual: &BTreeSet<Group>) -> ManifestDiff {
    compare_with(base, head, manual, &HeadNodePools::new())
}

/// `compare`, knowing the head's NodePools (changed or not), for the risk of an
/// EC2NodeClass removed while a pool still names it.
pub fn compare_with(
    base: &ManifestSet,
    head: &ManifestSet,
    manual: &BTreeSet<Group>,
    head_pools: &HeadNodePools,
) -> ManifestDiff {
    compare_opts(
        base,
        head,
        &CompareOptions {
            manual: manual.clone(),
            head_pools: head_pools.clone(),
            ..CompareOptions::default()
        },
    )
}

/// (base, head) resources.
type Pairs<'a> = Vec<(&'a Resource, &'a Resource)>;

/// What `compare_opts` needs to know beyond the two sets.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    /// The environments whose sync is manual, and the clusters whose own
    /// Applications sync manually (from the head's platform).
    pub manual: BTreeSet<Group>,
    /// The head's NodePools, changed or not.
    pub head_pools: HeadNodePools,
    /// The head's StorageClasses, changed or not, by environment.
    pub head_storage: crate::diff_platform::HeadStorageClasses,
    /// The service directories (`dev/main-api`, see [`service_dir`]) that hold a file
    /// at the base, counting the files identical on both sides, which are not in the
    /// sets; None: those of the base set.
    pub base_dirs: Option<BTreeSet<String>>,
    /// The same at the head.
    pub head_dirs: Option<BTreeSet<String>>,
    /// `--ignore` rules.
    pub ignore: Vec<IgnoreRule>,
}

/// The service directory of a file under `generated/`: `dev/main-api` for
/// `dev/main-api/deployment.yaml`; None for what is rendered once per cluster or
/// directly in an environment.
pub fn service_dir(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.split('/');
    let (env, svc, _file) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && crate::manifest_set::group_of(path).environment() == Some(env))
        .then_some((env, svc))
}

fn dirs_of(set: &ManifestSet) -> BTreeSet<String> {
    set.resources
        .values()
        .filter_map(|r| service_dir(&r.path))
        .map(|(e, s)| format!("{e}/{s}"))
        .collect()
}

/// Compares `base` with `head` (see the module's documentation).
pub fn compare_opts(base: &ManifestSet, head: &ManifestSet, opts: &CompareOptions) -> ManifestDiff {
    let manual = &opts.manual;
    let head_pools = &opts.head_pools;
    let rules = &opts.ignore;
    let mut d = ManifestDiff::default();
    // What each rule left out: (objects dropped, objects whose field it masked).
    let mut used = vec![(0usize, 0usize); rules.len()];
    let kept = |r: &Resource, used: &mut Vec<(usize, usize)>| {
        let mut keep = true;
        for (i, rule) in rules.iter().enumerate() {
            if rule.drops(&r.id) {
                used[i].0 += 1;
                keep = false;
            }
        }
        keep
    };
    let mut pairs: Vec<(&Resource, &Resource)> = Vec::new();
    for (id, b) in &base.resources {
        d.groups.entry(id.group.clone()).or_default();
        if !kept(b, &mut used) {
            continue;
        }
        match head.resources.get(id) {
            None => d.removed.push(b.clone()),
            Some(h) => pairs.push((b, h)),
        }
    }
    for (id, h) in &head.resources {
        d.groups.entry(id.group.clone()).or_default();
        if !base.resources.contains_key(id) && kept(h, &mut used) {
            d.added.push(h.clone());
        }
    }
    // A Job renamed because its pod template changed is one Job that runs again.
    let replaced: Vec<(&Resource, &Resource)> = take_replaced_jobs(&mut d.removed, &mut d.added)
        .into_iter()
        .filter_map(|(b, h)| Some((base.resources.get(&b)?, head.resources.get(&h)?)))
        .collect();
    // Ignored fields take the base's value at the head.
    let mask = |b: &Resource, h: &Resource, used: &mut Vec<(usize, usize)>| -> Resource {
        let mut h = h.clone();
        for (i, rule) in rules.iter().enumerate() {
            if rule.mask(&b.value, &mut h.value, &h.id) {
                used[i].1 += 1;
            }
        }
        h
    };
    let masked: Vec<Resource> = if rules.iter().any(|r| r.field.is_some()) {
        pairs
            .iter()
            .chain(&replaced)
            .map(|(b, h)| mask(b, h, &mut used))
            .collect()
    } else {
        Vec::new()
    };
    let (pairs, replaced): (Pairs, Pairs) = if masked.is_empty() {
        (pairs, replaced)
    } else {
        let all: Vec<(&Resource, &Resource)> = pairs
            .iter()
            .chain(&replaced)
            .zip(&masked)
            .map(|((b, _), h)| (*b, h))
            .collect();
        let n = pairs.len();
        (all[..n].to_vec(), all[n..].to_vec())
    };
    for (rule, (dropped, masked)) in rules.iter().zip(&used) {
        d.ignore_notes.push(match (dropped, masked) {
            (0, 0) => format!("--ignore `{}` matched nothing that differs", rule.text),
            (n, 0) => format!(
                "--ignore `{}` left out {} that {}",
                rule.text,
                crate::diagnostic::plural(*n, "object"),
                if *n == 1 { "differs" } else { "differ" }
            ),
            (_, n) => format!(
                "--ignore `{}`: the field is ignored in {}",
                rule.text,
                crate::diagnostic::plural(*n, "object")
            ),
        });
    }
    /// What one pair of resources turned out to be.
    enum Pair {
        Same(Option<Moved>),
        Changed(Box<Changed>),
    }
    let compared: Vec<Pair> = pairs
        .par_iter()
        .map(|(b, h)| {
            if b.value == h.value {
                Pair::Same((b.path != h.path).then(|| Moved {
                    id: b.id.clone(),
                    from: b.path.clone(),
                    to: h.path.clone(),
                }))
            } else {
                Pair::Changed(Box::new(changed(b, h)))
            }
        })
        .collect();
    let mut changed_pairs = Vec::new();
    for (c, (b, h)) in compared.into_iter().zip(&pairs) {
        let counts = d.groups.get_mut(&b.id.group).expect("seen above");
        match c {
            Pair::Same(moved) => {
                counts.unchanged += 1;
                d.moved.extend(moved);
            }
            Pair::Changed(ch) => {
                counts.changed += 1;
                d.changed.push(*ch);
                changed_pairs.push((*b, *h));
            }
        }
    }
    for (b, h) in replaced {
        let mut ch = changed(b, h);
        ch.replaces = Some(b.id.clone());
        d.groups.get_mut(&h.id.group).expect("seen").changed += 1;
        d.changed.push(ch);
        changed_pairs.push((b, h));
    }
    for r in &d.added {
        d.groups.get_mut(&r.id.group).expect("seen").added += 1;
    }
    for r in &d.removed {
        d.groups.get_mut(&r.id.group).expect("seen").removed += 1;
    }
    // Listed by group (environments, then clusters), then file: a service's
    // resources stay together.
    d.added
        .sort_by(|a, b| (&a.id.group, &a.path, &a.id).cmp(&(&b.id.group, &b.path, &b.id)));
    d.removed
        .sort_by(|a, b| (&a.id.group, &a.path, &a.id).cmp(&(&b.id.group, &b.path, &b.id)));
    d.changed
        .sort_by(|a, b| (&a.id.group, &a.path, &a.id).cmp(&(&b.id.group, &b.path, &b.id)));
    d.moved
        .sort_by(|a, b| (&a.id.group, &a.to, &a.id).cmp(&(&b.id.group, &b.to, &b.id)));
    let base_dirs = opts.base_dirs.clone().unwrap_or_else(|| dirs_of(base));
    let head_dirs = opts.head_dirs.clone().unwrap_or_else(|| dirs_of(head));
    d.services = service_units(&d.added, &d.removed, &base_dirs, &head_dirs);
    d.versions = version_changes(&mut d.changed);
    let (info, risks): (Vec<Risk>, Vec<Risk>) =
        findings(&d, &changed_pairs, manual, head_pools, &opts.head_storage)
            .into_iter()
            .partition(|r| r.kind.is_info());
    d.risks = risks;
    d.info = info;
    d
}

/// Services only at the head (added) or only at the base (removed), with their objects.
fn service_units(
    added: &[Resource],
    removed: &[Resource],
    base_dirs: &BTreeSet<String>,
    head_dirs: &BTreeSet<String>,
) -> Vec<ServiceUnit> {
    let mut units: BTreeMap<(String, bool), ServiceUnit> = BTreeMap::new();
    for (list, is_added, other) in [(added, true, base_dirs), (removed, false, head_dirs)] {
        for r in list {
            let Some((env, svc)) = service_dir(&r.path) else {
                continue;
            };
            let dir = format!("{env}/{svc}");
            if other.contains(&dir) {
                continue;
            }
            units
                .entry((dir.clone(), is_added))
                .or_insert_with(|| ServiceUnit {
                    environment: env.to_string(),
                    service: svc.to_string(),
                    dir: format!("{dir}/"),
                    added: is_added,
                    objects: Vec::new(),
                })
                .objects
                .push(r.clone());
        }
    }
    units.into_values().collect()
}

/// Removed and added Jobs that are one Job renamed by kgen (same file, same namespace,
/// neither an Argo CD hook): taken out of both lists, returned as (base, head)
/// identities.
fn take_replaced_jobs(
    removed: &mut Vec<Resource>,
    added: &mut Vec<Resource>,
) -> Vec<(Identity, Identity)> {
    let renamable = |r: &Resource| r.id.kind == "Job" && hook(&r.value).is_none();
    let mut out = Vec::new();
    let mut i = 0;
    while i < removed.len() {
        let r = &removed[i];
        let twin = renamable(r)
            .then(|| {
                added.iter().position(|a| {
                    renamable(a)
                        && a.path == r.path
                        && a.id.group == r.id.group
                        && a.id.api_version == r.id.api_version
                        && a.id.namespace == r.id.namespace
                })
            })
            .flatten();
        match twin {
            Some(j) => {
                let (b, h) = (removed.remove(i), added.remove(j));
                out.push((b.id, h.id));
            }
            None => i += 1,
        }
    }
    out
}

fn changed(b: &Resource, h: &Resource) -> Changed {
    let mut fields = Vec::new();
    field_diff(&b.value, &h.value, &mut String::new(), &mut fields);
    fields.sort();
    Changed {
        id: h.id.clone(),
        replaces: None,
        base_path: b.path.clone(),
        path: h.path.clone(),
        churn: churn(b, h, &fields),
        version_only: false,
        fields,
        changes: field_changes(&b.value, &h.value),
        diff: unified_diff(
            &b.value,
            &h.value,
            &format!("a/generated/{}", b.path),
            &format!("b/generated/{}", h.path),
        ),
    }
}
