//! Comparing two manifest sets, resource by resource, and calling out the risks.
//!
//! `compare` matches resources by identity (see `manifest_set`): a resource only in
//! the head is added, only in the base removed, in both with different parsed values
//! changed (key order and formatting never count), in both with equal values but
//! another file path moved (not a change). Changed resources carry a unified diff of
//! their deterministic YAML (`yaml::to_string`, 3 lines of context).
//!
//! Risks are the changes Kubernetes or Argo CD will not apply in place, or that
//! deserve a second look: an immutable selector, a Service type or clusterIP change,
//! a removal (prune deletes it), a namespace move (delete and recreate), an image tag
//! moving backwards, a removed HPA, and anything in an environment synced by hand.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::manifest_set::{Identity, ManifestSet, Resource};

/// Lines of context around each change in a unified diff.
pub const CONTEXT_LINES: usize = 3;

/// Kinds whose `spec.selector` cannot change once created.
const IMMUTABLE_SELECTOR_KINDS: [&str; 5] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicaSet",
];

/// A resource present on both sides with different values.
#[derive(Debug, Clone)]
pub struct Changed {
    pub id: Identity,
    /// File path under `generated/` at the base.
    pub base_path: String,
    /// File path under `generated/` at the head.
    pub path: String,
    /// The paths of the fields that differ (`spec.replicas`,
    /// `spec.template.spec.containers[main-api].image`), sorted.
    pub fields: Vec<String>,
    /// Unified diff of the deterministic YAML of both values.
    pub diff: String,
}

/// A resource whose file moved, with the same value: not a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub id: Identity,
    pub from: String,
    pub to: String,
}

/// What kind of risk, in the order they are listed (most likely to fail first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    /// `spec.selector` of a Deployment, StatefulSet, DaemonSet or Job changes.
    ImmutableSelector,
    /// A Service's `spec.clusterIP` changes.
    ServiceClusterIp,
    /// A Service's `spec.type` changes.
    ServiceType,
    /// A resource moves to another namespace.
    NamespaceChange,
    /// A HorizontalPodAutoscaler is removed.
    HpaRemoved,
    /// A resource is removed.
    Removed,
    /// A container image tag moves to a lower version.
    ImageDowngrade,
    /// Something changes in an environment whose Argo CD sync is manual.
    ManualSync,
}

impl RiskKind {
    /// The stable code used in JSON output (`immutable-selector`, ...).
    pub fn code(self) -> &'static str {
        match self {
            RiskKind::ImmutableSelector => "immutable-selector",
            RiskKind::ServiceClusterIp => "service-cluster-ip",
            RiskKind::ServiceType => "service-type",
            RiskKind::NamespaceChange => "namespace-change",
            RiskKind::HpaRemoved => "hpa-removed",
            RiskKind::Removed => "removed",
            RiskKind::ImageDowngrade => "image-downgrade",
            RiskKind::ManualSync => "manual-sync",
        }
    }
}

/// One change that will not apply cleanly or deserves a second look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risk {
    pub kind: RiskKind,
    pub environment: String,
    /// The resource concerned; None for an environment-wide risk (manual sync).
    pub resource: Option<Identity>,
    /// A complete sentence, without the resource's name.
    pub message: String,
}

/// Counts for one environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EnvCounts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl EnvCounts {
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
        match (&self.name, short, &self.how) {
            (_, Some(c), Some(how)) => format!("{c} ({how})"),
            (Some(n), Some(c), None) => format!("{n} ({c})"),
            (Some(n), None, _) => n.clone(),
            (None, Some(c), None) => c.to_string(),
            (None, None, _) => "working tree".into(),
        }
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
    /// Set when the head's `generated/` does not match the render of its inputs.
    pub stale: Option<Stale>,
    pub diff: ManifestDiff,
    /// Other things worth knowing (a resource defined twice).
    pub notes: Vec<String>,
}

/// The result of comparing two manifest sets.
#[derive(Debug, Clone, Default)]
pub struct ManifestDiff {
    /// Every environment seen on either side, with its counts.
    pub environments: BTreeMap<String, EnvCounts>,
    pub added: Vec<Resource>,
    pub removed: Vec<Resource>,
    pub changed: Vec<Changed>,
    pub moved: Vec<Moved>,
    pub risks: Vec<Risk>,
}

impl ManifestDiff {
    /// Number of added, changed and removed resources.
    pub fn differences(&self) -> usize {
        self.added.len() + self.changed.len() + self.removed.len()
    }

    pub fn totals(&self) -> EnvCounts {
        let mut t = EnvCounts::default();
        for c in self.environments.values() {
            t.added += c.added;
            t.changed += c.changed;
            t.removed += c.removed;
            t.unchanged += c.unchanged;
        }
        t
    }

    /// Records `n` resources known to be unchanged without being parsed (identical files).
    pub fn count_unchanged(&mut self, environment: &str, n: usize) {
        self.environments
            .entry(environment.to_string())
            .or_default()
            .unchanged += n;
    }
}

/// Compares `base` with `head`. `manual_envs` are the environments whose sync is
/// manual (from the head's platform).
pub fn compare(
    base: &ManifestSet,
    head: &ManifestSet,
    manual_envs: &BTreeSet<String>,
) -> ManifestDiff {
    let mut d = ManifestDiff::default();
    let mut pairs = Vec::new();
    for (id, b) in &base.resources {
        d.environments.entry(id.environment.clone()).or_default();
        match head.resources.get(id) {
            None => d.removed.push(b.clone()),
            Some(h) => pairs.push((b, h)),
        }
    }
    for (id, h) in &head.resources {
        d.environments.entry(id.environment.clone()).or_default();
        if !base.resources.contains_key(id) {
            d.added.push(h.clone());
        }
    }
    /// What one pair of resources turned out to be.
    enum Pair {
        Same(Option<Moved>),
        Changed(Changed),
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
                Pair::Changed(changed(b, h))
            }
        })
        .collect();
    let mut changed_pairs = Vec::new();
    for (c, (b, h)) in compared.into_iter().zip(&pairs) {
        let counts = d
            .environments
            .get_mut(&b.id.environment)
            .expect("seen above");
        match c {
            Pair::Same(moved) => {
                counts.unchanged += 1;
                d.moved.extend(moved);
            }
            Pair::Changed(ch) => {
                counts.changed += 1;
                d.changed.push(ch);
                changed_pairs.push((*b, *h));
            }
        }
    }
    for r in &d.added {
        d.environments
            .get_mut(&r.id.environment)
            .expect("seen")
            .added += 1;
    }
    for r in &d.removed {
        d.environments
            .get_mut(&r.id.environment)
            .expect("seen")
            .removed += 1;
    }
    // Listed by environment, then file: a service's resources stay together.
    d.added.sort_by(|a, b| {
        (&a.id.environment, &a.path, &a.id).cmp(&(&b.id.environment, &b.path, &b.id))
    });
    d.removed.sort_by(|a, b| {
        (&a.id.environment, &a.path, &a.id).cmp(&(&b.id.environment, &b.path, &b.id))
    });
    d.changed.sort_by(|a, b| {
        (&a.id.environment, &a.path, &a.id).cmp(&(&b.id.environment, &b.path, &b.id))
    });
    d.moved
        .sort_by(|a, b| (&a.id.environment, &a.to, &a.id).cmp(&(&b.id.environment, &b.to, &b.id)));
    d.risks = risks(&d, &changed_pairs, manual_envs);
    d
}

fn changed(b: &Resource, h: &Resource) -> Changed {
    let mut fields = Vec::new();
    field_diff(&b.value, &h.value, &mut String::new(), &mut fields);
    fields.sort();
    Changed {
        id: b.id.clone(),
        base_path: b.path.clone(),
        path: h.path.clone(),
        fields,
        diff: unified_diff(
            &b.value,
            &h.value,
            &format!("a/generated/{}", b.path),
            &format!("b/generated/{}", h.path),
        ),
    }
}

/// The unified diff (3 lines of context) of two values' deterministic YAML.
pub fn unified_diff(base: &Value, head: &Value, base_name: &str, head_name: &str) -> String {
    let old = crate::yaml::to_string(base);
    let new = crate::yaml::to_string(head);
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(base_name, head_name)
        .to_string()
}

/// Collects the paths of the fields that differ. Lists of objects that all have a
/// `name` are matched by name (`containers[web]`), other lists by index.
fn field_diff(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let len = path.len();
                push_key(path, k);
                field_diff(
                    x.get(k.as_str()).unwrap_or(&Value::Null),
                    y.get(k.as_str()).unwrap_or(&Value::Null),
                    path,
                    out,
                );
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            let named = |v: &Vec<Value>| v.iter().all(|i| i["name"].is_string());
            if named(x) && named(y) && !(x.is_empty() && y.is_empty()) {
                let by_name = |v: &'_ Vec<Value>| -> BTreeMap<String, Value> {
                    v.iter()
                        .map(|i| (i["name"].as_str().unwrap_or("").to_string(), i.clone()))
                        .collect()
                };
                let (mx, my) = (by_name(x), by_name(y));
                let order_x: Vec<&str> = x.iter().filter_map(|i| i["name"].as_str()).collect();
                let order_y: Vec<&str> = y.iter().filter_map(|i| i["name"].as_str()).collect();
                let names: BTreeSet<&String> = mx.keys().chain(my.keys()).collect();
                for n in names {
                    let len = path.len();
                    path.push('[');
                    path.push_str(n);
                    path.push(']');
                    field_diff(
                        mx.get(n).unwrap_or(&Value::Null),
                        my.get(n).unwrap_or(&Value::Null),
                        path,
                        out,
                    );
                    path.truncate(len);
                }
                // Same items, another order: the list itself changed.
                let same_set: BTreeSet<&str> = order_x.iter().copied().collect();
                if mx == my && order_x != order_y && same_set.len() == order_x.len() {
                    out.push(path_or_root(path));
                }
            } else {
                for i in 0..x.len().max(y.len()) {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    field_diff(
                        x.get(i).unwrap_or(&Value::Null),
                        y.get(i).unwrap_or(&Value::Null),
                        path,
                        out,
                    );
                    path.truncate(len);
                }
            }
        }
        _ => out.push(path_or_root(path)),
    }
}

fn path_or_root(path: &str) -> String {
    if path.is_empty() {
        ".".into()
    } else {
        path.to_string()
    }
}

fn push_key(path: &mut String, key: &str) {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if simple {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push_str(&format!("[{}]", serde_json::Value::String(key.to_string())));
    }
}

fn risks(
    d: &ManifestDiff,
    changed: &[(&Resource, &Resource)],
    manual_envs: &BTreeSet<String>,
) -> Vec<Risk> {
    let mut out = Vec::new();
    let risk = |kind, id: &Identity, message: String| Risk {
        kind,
        environment: id.environment.clone(),
        resource: Some(id.clone()),
        message,
    };
    for (b, h) in changed {
        let id = &b.id;
        let (bs, hs) = (&b.value["spec"], &h.value["spec"]);
        if IMMUTABLE_SELECTOR_KINDS.contains(&id.kind.as_str()) && bs["selector"] != hs["selector"]
        {
            out.push(risk(
                RiskKind::ImmutableSelector,
                id,
                format!(
                    "spec.selector changes; it is immutable, so the sync fails until the {} is deleted and recreated",
                    id.kind
                ),
            ));
        }
        if id.kind == "Service" {
            if bs["clusterIP"] != hs["clusterIP"] {
                out.push(risk(
                    RiskKind::ServiceClusterIp,
                    id,
                    format!(
                        "spec.clusterIP changes {} → {}; it is immutable, so the sync fails until the Service is deleted and recreated",
                        scalar(&bs["clusterIP"]),
                        scalar(&hs["clusterIP"])
                    ),
                ));
            }
            if bs["type"] != hs["type"] {
                out.push(risk(
                    RiskKind::ServiceType,
                    id,
                    format!(
                        "spec.type changes {} → {}; the Service's ports and addresses change (a cloud load balancer may be created or deleted)",
                        scalar_or(&bs["type"], "ClusterIP"),
                        scalar_or(&hs["type"], "ClusterIP")
                    ),
                ));
            }
        }
        for (container, from, to) in image_downgrades(&b.value, &h.value) {
            out.push(risk(
                RiskKind::ImageDowngrade,
                id,
                format!("image tag of container `{container}` moves backwards: {from} → {to}"),
            ));
        }
    }

    // A removed resource with an added twin in another namespace is a move.
    let added_elsewhere: BTreeMap<_, &Resource> = d
        .added
        .iter()
        .map(|r| (r.id.without_namespace(), r))
        .collect();
    for r in &d.removed {
        let id = &r.id;
        if let Some(a) = added_elsewhere.get(&id.without_namespace()) {
            if id.is_object() {
                out.push(risk(
                    RiskKind::NamespaceChange,
                    id,
                    format!(
                        "moves from namespace `{}` to `{}`; Argo CD deletes it and creates a new one",
                        id.namespace, a.id.namespace
                    ),
                ));
                continue;
            }
        }
        if id.kind == "HorizontalPodAutoscaler" {
            out.push(risk(
                RiskKind::HpaRemoved,
                id,
                "removed; autoscaling stops and the replica count falls back to the workload's spec.replicas".into(),
            ));
        } else if id.kind == "Namespace" {
            out.push(risk(
                RiskKind::Removed,
                id,
                "removed; a prune deletes the namespace and everything in it".into(),
            ));
        } else {
            out.push(risk(
                RiskKind::Removed,
                id,
                "removed; a prune deletes it from the cluster".into(),
            ));
        }
    }

    for (env, counts) in &d.environments {
        if manual_envs.contains(env) && counts.differences() > 0 {
            out.push(Risk {
                kind: RiskKind::ManualSync,
                environment: env.clone(),
                resource: None,
                message: format!(
                    "Argo CD syncs this environment manually: {} ({} added, {} changed, {} removed) {} until someone syncs it",
                    crate::diagnostic::plural(counts.differences(), "change"),
                    counts.added,
                    counts.changed,
                    counts.removed,
                    if counts.differences() == 1 { "waits" } else { "wait" }
                ),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.kind, &a.environment, &a.resource, &a.message).cmp(&(
            b.kind,
            &b.environment,
            &b.resource,
            &b.message,
        ))
    });
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "(unset)".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn scalar_or(v: &Value, default: &str) -> String {
    if v.is_null() {
        default.into()
    } else {
        scalar(v)
    }
}

/// Containers (and init containers) anywhere in `v`, by name → image.
fn container_images(v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "containers" || k == "initContainers" {
                    if let Value::Array(items) = child {
                        for c in items {
                            if let (Some(n), Some(i)) = (c["name"].as_str(), c["image"].as_str()) {
                                out.insert(n.to_string(), i.to_string());
                            }
                        }
                    }
                } else {
                    container_images(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| container_images(i, out)),
        _ => {}
    }
}

/// (container, old tag, new tag) for each container whose image tag moves to a lower version.
fn image_downgrades(base: &Value, head: &Value) -> Vec<(String, String, String)> {
    let (mut b, mut h) = (BTreeMap::new(), BTreeMap::new());
    container_images(base, &mut b);
    container_images(head, &mut h);
    let mut out = Vec::new();
    for (name, old) in &b {
        let Some(new) = h.get(name) else { continue };
        let (Some((old_repo, old_tag)), Some((new_repo, new_tag))) =
            (split_image(old), split_image(new))
        else {
            continue;
        };
        if old_repo == new_repo && compare_versions(new_tag, old_tag) == Some(Ordering::Less) {
            out.push((name.clone(), old_tag.to_string(), new_tag.to_string()));
        }
    }
    out
}

/// `registry/repo:tag@digest` → (`registry/repo`, `tag`); None without a tag.
pub fn split_image(image: &str) -> Option<(&str, &str)> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    let colon = without_digest[slash..].rfind(':')? + slash;
    Some((&without_digest[..colon], &without_digest[colon + 1..]))
}

/// Compares semver-ish tags (`1.4.0`, `v2.10`, `1.0.0-rc.1`) numerically; None when
/// either is not a version (`latest`, a commit hash).
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let (an, ap) = parse_version(a)?;
    let (bn, bp) = parse_version(b)?;
    let len = an.len().max(bn.len());
    for i in 0..len {
        let (x, y) = (
            an.get(i).copied().unwrap_or(0),
            bn.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Equal => {}
            other => return Some(other),
        }
    }
    Some(match (ap, bp) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => compare_prerelease(x, y),
    })
}

/// `v1.2.3-rc.1+build` → ([1, 2, 3], Some("rc.1")).
fn parse_version(tag: &str) -> Option<(Vec<u64>, Option<&str>)> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let t = t.split('+').next().unwrap_or(t);
    let (core, pre) = match t.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (t, None),
    };
    let nums = core
        .split('.')
        .map(|p| {
            (!p.is_empty() && p.len() <= 18 && p.bytes().all(|c| c.is_ascii_digit()))
                .then(|| p.parse::<u64>().ok())
                .flatten()
        })
        .collect::<Option<Vec<u64>>>()?;
    // A bare number with 7+ digits is more likely a build id or a date than a version
    // tag, but it still orders numerically; plain hex hashes fail above.
    Some((nums, pre))
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let mut xs = a.split('.');
    let mut ys = b.split('.');
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.3.2", "1.4.0"), Some(Ordering::Less));
        assert_eq!(compare_versions("1.10.0", "1.9.9"), Some(Ordering::Greater));
        assert_eq!(compare_versions("v2", "2.0.0"), Some(Ordering::Equal));
        assert_eq!(
            compare_versions("1.0.0-rc.1", "1.0.0"),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_versions("1.0.0-rc.2", "1.0.0-rc.10"),
            Some(Ordering::Less)
        );
        assert_eq!(compare_versions("latest", "1.0"), None);
        assert_eq!(compare_versions("deadbeef", "1.0"), None);
    }

    #[test]
    fn images_split() {
        assert_eq!(
            split_image("reg.io:5000/team/app:1.2.3@sha256:abc"),
            Some(("reg.io:5000/team/app", "1.2.3"))
        );
        assert_eq!(split_image("reg.io:5000/team/app"), None);
    }

    #[test]
    fn field_paths() {
        let a = json!({"metadata": {"labels": {"app.kubernetes.io/version": "1"}}, "spec": {"containers": [{"name": "web", "image": "x:1"}], "ports": [1, 2]}});
        let b = json!({"metadata": {"labels": {"app.kubernetes.io/version": "2"}}, "spec": {"containers": [{"name": "web", "image": "x:2"}], "ports": [1]}});
        let mut out = Vec::new();
        field_diff(&a, &b, &mut String::new(), &mut out);
        assert_eq!(
            out,
            [
                "metadata.labels[\"app.kubernetes.io/version\"]",
                "spec.containers[web].image",
                "spec.ports[1]"
            ]
        );
    }
}
