//! Comparing two manifest sets, resource by resource, and calling out the risks.
//!
//! `compare` matches resources by identity (see `manifest_set`): a resource only in
//! the head is added, only in the base removed, in both with different parsed values
//! changed (key order and formatting never count), in both with equal values but
//! another file path moved (not a change). Changed resources carry a unified diff of
//! their deterministic YAML (`yaml::to_string`, 3 lines of context).
//!
//! Risks are the changes Kubernetes or Argo CD will not apply in place, or that
//! deserve a second look: an immutable selector, a StatefulSet's, Job's or
//! PersistentVolumeClaim's immutable fields, a Service type, clusterIP or port change,
//! a removal (prune deletes it), a namespace move (delete and recreate), an image tag
//! moving backwards, a removed HPA, and anything in an environment or cluster synced
//! by hand.
//! Info is what happens that is not a risk but that a reviewer wants to know: a Job
//! that runs again, a CronJob's new schedule, a claim that grows, a removed object
//! that Argo CD keeps (docs/diff.md cites the Kubernetes and Argo CD code behind each).
//!
//! A Job that is not an Argo CD hook carries a hash of its pod template in its name
//! (`render::job`), so changing it renders a Job of another name in the same file:
//! `compare` pairs the two and reports one changed Job that `replaces` the old one
//! (the Job runs again), not an unrelated removal and addition.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

pub use crate::diff_ignore::IgnoreRule;
pub use crate::diff_platform::HeadNodePools;
pub use crate::manifest_set::Group;
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
    /// When every differing field follows from the service's version (kgen's version
    /// label, the ConfigMap's `VERSION`, the pods' config hash, container images):
    /// what they are.
    pub churn: Option<Churn>,
    /// Shown only as part of its service's [`VersionChange`] line.
    pub version_only: bool,
}

/// The differences of one object that follow from its service's version alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Churn {
    /// kgen's version label (`app.kubernetes.io/version`) before and after, when it
    /// changes (None on a side without the label).
    pub label: Option<(Option<String>, Option<String>)>,
    /// (container, old image, new image) of each container whose image changes.
    pub images: Vec<(String, String, String)>,
    /// The ConfigMap's `VERSION` changes.
    pub version_data: bool,
    /// The pods' `kgen.dev/config-hash` changes (a hash of the ConfigMaps, which carry
    /// the version label and `VERSION`).
    pub config_hash: bool,
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

/// The changes of a service that follow from its new version alone (a tag bump): one
/// line instead of one diff per object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionChange {
    pub environment: String,
    pub service: String,
    /// `prod/main-api/`, under `generated/`.
    pub dir: String,
    /// The version label before and after.
    pub from: Option<String>,
    pub to: Option<String>,
    /// (container, old image, new image), once per container.
    pub images: Vec<(String, String, String)>,
    pub version_data: bool,
    pub config_hash: bool,
    /// The objects whose changes this line stands for, in file order.
    pub objects: Vec<Identity>,
}

impl VersionChange {
    /// `version 1.3.2 → 1.3.1 (container `main-api`: image tag 1.3.2 → 1.3.1); nothing
    /// else changes in its 10 objects but kgen's version label, the ConfigMap's VERSION
    /// and the pods' config hash`.
    pub fn summary(&self) -> String {
        let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(none)".into());
        let mut s = format!("version {} → {}", v(&self.from), v(&self.to));
        let images: Vec<String> = self
            .images
            .iter()
            .map(|(c, old, new)| match (split_image(old), split_image(new)) {
                (Some((or, ot)), Some((nr, nt)))
                    if or == nr
                        && ot != nt
                        && old.contains('@') == new.contains('@')
                        && !old.contains('@') =>
                {
                    format!("container `{c}`: image tag {ot} → {nt}")
                }
                _ => format!("container `{c}`: image {old} → {new}"),
            })
            .collect();
        if !images.is_empty() {
            s.push_str(&format!(" ({})", images.join(", ")));
        }
        let mut what = vec!["kgen's version label".to_string()];
        if self.version_data {
            what.push("the ConfigMap's VERSION".into());
        }
        if self.config_hash {
            what.push("the pods' config hash".into());
        }
        s.push_str(&format!(
            "; nothing else changes in its {} but {}",
            crate::diagnostic::plural(self.objects.len(), "object"),
            and_list(&what)
        ));
        s
    }
}

/// A resource whose file moved, with the same value: not a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub id: Identity,
    pub from: String,
    pub to: String,
}

/// What kind of risk (or info), in the order they are listed (most likely to fail
/// first; info after every risk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    /// An add-on's (or the monitoring stack's) Application is removed and its chart
    /// installed CRDs: they stay, with every custom resource of them, and no controller.
    AddonCrdsLeft,
    /// `spec.selector` of a Deployment, StatefulSet, DaemonSet or Job changes.
    ImmutableSelector,
    /// A StatefulSet's spec changes beyond what the API server lets change
    /// (`serviceName`, `volumeClaimTemplates`, `podManagementPolicy`, ...).
    StatefulSetImmutable,
    /// A Job's pod template or completions change while it keeps its name.
    JobImmutable,
    /// A PersistentVolumeClaim's spec changes beyond a bigger storage request.
    PvcImmutable,
    /// A StorageClass's parameters, provisioner, reclaimPolicy or volumeBindingMode change.
    StorageClassImmutable,
    /// A PriorityClass's value or preemptionPolicy changes.
    PriorityClassImmutable,
    /// A RoleBinding's or ClusterRoleBinding's roleRef changes.
    RoleRefImmutable,
    /// A Service's `spec.clusterIP` changes.
    ServiceClusterIp,
    /// A Service's `spec.type` changes.
    ServiceType,
    /// A Service port is removed, or its number, protocol or target changes.
    ServicePort,
    /// A resource moves to another namespace.
    NamespaceChange,
    /// An add-on's Application moves its release to another namespace.
    AddonNamespace,
    /// A HorizontalPodAutoscaler is removed.
    HpaRemoved,
    /// A Karpenter NodePool is removed: its nodes are drained and terminated.
    NodePoolRemoved,
    /// An EC2NodeClass is removed while a NodePool at the head still names it.
    NodeClassInUse,
    /// A cert-manager ClusterIssuer is removed: its certificates stop renewing.
    IssuerRemoved,
    /// An External Secrets ClusterSecretStore is removed.
    SecretStoreRemoved,
    /// An External Secrets ClusterSecretStore reads from another provider.
    SecretStoreProvider,
    /// A resource is removed.
    Removed,
    /// A NodePool's or EC2NodeClass's change makes Karpenter replace nodes (drift).
    NodeDrift,
    /// An Application installs its chart from another repository or another chart.
    ChartSource,
    /// An Application's chart moves to a new major version.
    ChartMajor,
    /// An Application's chart moves to an older version.
    ChartDowngrade,
    /// A container image tag moves to a lower version.
    ImageDowngrade,
    /// Something changes in an environment whose Argo CD sync is manual, or in a
    /// cluster whose own Applications sync manually.
    ManualSync,
    /// Info: a Job runs again (a new Job, or an Argo CD hook that changed).
    JobRuns,
    /// Info: a CronJob's schedule or time zone changes, or it is suspended or resumed.
    CronJobSchedule,
    /// Info: a PersistentVolumeClaim's storage request grows.
    PvcResize,
    /// Info: a removed object that Argo CD does not delete (`Prune=false`, a hook).
    Kept,
    /// Info: an add-on's (or the monitoring stack's) Application is removed, and with
    /// it what its chart installed.
    AddonRemoved,
    /// Info: an Application's chart moves to a new minor or patch version.
    ChartVersion,
    /// Info: a ClusterIssuer moves to another ACME server.
    AcmeServer,
    /// Info: a StorageClass becomes, or stops being, the cluster's default.
    DefaultStorageClass,
}

impl RiskKind {
    /// The stable code used in JSON output (`immutable-selector`, ...).
    pub fn code(self) -> &'static str {
        match self {
            RiskKind::AddonCrdsLeft => "addon-crds-left",
            RiskKind::ImmutableSelector => "immutable-selector",
            RiskKind::StatefulSetImmutable => "statefulset-immutable",
            RiskKind::JobImmutable => "job-immutable",
            RiskKind::PvcImmutable => "pvc-immutable",
            RiskKind::StorageClassImmutable => "storageclass-immutable",
            RiskKind::PriorityClassImmutable => "priorityclass-immutable",
            RiskKind::RoleRefImmutable => "roleref-immutable",
            RiskKind::ServiceClusterIp => "service-cluster-ip",
            RiskKind::ServiceType => "service-type",
            RiskKind::ServicePort => "service-port",
            RiskKind::NamespaceChange => "namespace-change",
            RiskKind::AddonNamespace => "addon-namespace",
            RiskKind::HpaRemoved => "hpa-removed",
            RiskKind::NodePoolRemoved => "nodepool-removed",
            RiskKind::NodeClassInUse => "nodeclass-in-use",
            RiskKind::IssuerRemoved => "issuer-removed",
            RiskKind::SecretStoreRemoved => "secret-store-removed",
            RiskKind::SecretStoreProvider => "secret-store-provider",
            RiskKind::Removed => "removed",
            RiskKind::NodeDrift => "node-drift",
            RiskKind::ChartSource => "chart-source",
            RiskKind::ChartMajor => "chart-major",
            RiskKind::ChartDowngrade => "chart-downgrade",
            RiskKind::ImageDowngrade => "image-downgrade",
            RiskKind::ManualSync => "manual-sync",
            RiskKind::JobRuns => "job-runs",
            RiskKind::CronJobSchedule => "cronjob-schedule",
            RiskKind::PvcResize => "pvc-resize",
            RiskKind::Kept => "kept",
            RiskKind::AddonRemoved => "addon-removed",
            RiskKind::ChartVersion => "chart-version",
            RiskKind::AcmeServer => "acme-server",
            RiskKind::DefaultStorageClass => "default-storageclass",
        }
    }

    /// True for what is worth knowing but is not a risk (listed under "Info").
    pub fn is_info(self) -> bool {
        self >= RiskKind::JobRuns
    }
}

/// One change that will not apply cleanly or deserves a second look (a risk), or
/// that a reviewer wants to know about (info: `kind.is_info()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risk {
    pub kind: RiskKind,
    /// The environment or cluster concerned (a service's risk: its environment).
    pub group: Group,
    /// The resource concerned; None for a risk of a whole environment or cluster
    /// (manual sync) or a whole service's.
    pub resource: Option<Identity>,
    /// The service concerned, for a risk of a whole service (removed with its objects).
    pub service: Option<String>,
    /// A complete sentence, without the resource's name.
    pub message: String,
}

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
    let (info, risks): (Vec<Risk>, Vec<Risk>) = findings(&d, &changed_pairs, manual, head_pools)
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

/// Groups the changes that follow from a service's version alone (one version label
/// change in the service, every other difference derived from it), marking them
/// `version_only`. A Job that replaces another is never grouped: it runs again.
fn version_changes(changed: &mut [Changed]) -> Vec<VersionChange> {
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, c) in changed.iter().enumerate() {
        if c.churn.is_none() || c.replaces.is_some() {
            continue;
        }
        if let Some((env, svc)) = service_dir(&c.path) {
            groups
                .entry((env.to_string(), svc.to_string()))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for ((env, svc), members) in groups {
        let labels: BTreeSet<&(Option<String>, Option<String>)> = members
            .iter()
            .filter_map(|&i| changed[i].churn.as_ref()?.label.as_ref())
            .collect();
        let [(from, to)] = labels.into_iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        let mut v = VersionChange {
            environment: env.clone(),
            service: svc.clone(),
            dir: format!("{env}/{svc}/"),
            from: from.clone(),
            to: to.clone(),
            images: Vec::new(),
            version_data: false,
            config_hash: false,
            objects: Vec::new(),
        };
        for &i in &members {
            let c = &mut changed[i];
            let churn = c.churn.as_ref().expect("grouped");
            for img in &churn.images {
                if !v.images.iter().any(|x| x.0 == img.0) {
                    v.images.push(img.clone());
                }
            }
            v.version_data |= churn.version_data;
            v.config_hash |= churn.config_hash;
            v.objects.push(c.id.clone());
            c.version_only = true;
        }
        out.push(v);
    }
    out
}

/// Whether every differing field of an object follows from its service's version, and
/// if so, what they are.
fn churn(b: &Resource, h: &Resource, fields: &[String]) -> Option<Churn> {
    let quoted = |k: &str| format!("[{}]", Value::String(k.to_string()));
    let label = quoted(crate::render::labels::VERSION);
    let hash = quoted(crate::render::pod::CONFIG_HASH_ANNOTATION);
    let mut c = Churn::default();
    let mut label_changes = false;
    for f in fields {
        if f.ends_with(&format!("labels{label}")) {
            label_changes = true;
        } else if f.ends_with(&format!("annotations{hash}")) {
            c.config_hash = true;
        } else if h.id.kind == "ConfigMap" && f == "data.VERSION" {
            c.version_data = true;
        } else if f.ends_with(".image")
            && (f.contains("containers[") || f.contains("initContainers["))
        {
            // Images are listed below, from both values.
        } else {
            return None;
        }
    }
    if label_changes {
        let version = |v: &Value| {
            v["metadata"]["labels"][crate::render::labels::VERSION]
                .as_str()
                .map(str::to_string)
        };
        c.label = Some((version(&b.value), version(&h.value)));
    }
    let (mut bi, mut hi) = (BTreeMap::new(), BTreeMap::new());
    container_images(&b.value, &mut bi);
    container_images(&h.value, &mut hi);
    for (name, new) in &hi {
        if let Some(old) = bi.get(name) {
            if old != new {
                c.images.push((name.clone(), old.clone(), new.clone()));
            }
        }
    }
    Some(c)
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

pub(crate) fn push_key(path: &mut String, key: &str) {
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

/// Argo CD's annotations that kgen reads back from the manifests.
const SYNC_OPTIONS_ANNOTATION: &str = crate::render::volume_claim::KEEP.0;
const HOOK_ANNOTATION: &str = crate::render::job::HOOK_ANNOTATION;
const HOOK_DELETE_POLICY_ANNOTATION: &str = crate::render::job::HOOK_DELETE_POLICY_ANNOTATION;

/// The fields of a StatefulSet's spec that an update may change
/// (`ValidateStatefulSetUpdate`, kubernetes pkg/apis/apps/validation).
const STATEFULSET_MUTABLE: [&str; 7] = [
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// The fields of a Job's spec that an update may not change (`ValidateJobSpecUpdate`,
/// kubernetes pkg/apis/batch/validation), but the selector (an `immutable-selector`).
/// `completions` may change on an Indexed Job together with `parallelism`
/// (`validateCompletions`, elastic Indexed Jobs).
const JOB_IMMUTABLE: [&str; 7] = [
    "template",
    "completions",
    "completionMode",
    "podFailurePolicy",
    "backoffLimitPerIndex",
    "managedBy",
    "successPolicy",
];

fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v["metadata"]["annotations"][key].as_str()
}

/// Whether `v` carries the Argo CD sync option `option` (`Prune=false`).
fn has_sync_option(v: &Value, option: &str) -> bool {
    annotation(v, SYNC_OPTIONS_ANNOTATION).is_some_and(|o| o.split(',').any(|x| x.trim() == option))
}

/// An Argo CD hook: its phase (`PreSync`, ...) and delete policies (default
/// `BeforeHookCreation`).
struct Hook<'a> {
    phase: &'a str,
    policies: Vec<&'a str>,
}

impl Hook<'_> {
    /// Argo CD deletes the previous run before creating the new one.
    fn recreated(&self) -> bool {
        self.policies.contains(&"BeforeHookCreation")
    }
}

fn hook(v: &Value) -> Option<Hook<'_>> {
    let phase = annotation(v, HOOK_ANNOTATION)?;
    let policies = annotation(v, HOOK_DELETE_POLICY_ANNOTATION)
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect()
        })
        .filter(|p: &Vec<&str>| !p.is_empty())
        .unwrap_or_else(|| vec!["BeforeHookCreation"]);
    Some(Hook { phase, policies })
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `change` after one field, `changes` after several (`spec.x changes`).
fn verb(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// The `spec.<key>` fields of two specs that differ, among the keys `keep` accepts
/// (`null` and a missing key being equal).
fn spec_fields(bs: &Value, hs: &Value, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let keys: BTreeSet<&String> = [bs, hs]
        .iter()
        .filter_map(|s| s.as_object())
        .flat_map(|m| m.keys())
        .filter(|k| keep(k))
        .collect();
    keys.into_iter()
        .filter(|k| bs[k.as_str()] != hs[k.as_str()])
        .map(|k| format!("spec.{k}"))
        .collect()
}

/// `kubectl delete <kind> -n <namespace> <name>`.
fn kubectl_delete(id: &Identity, extra: &str) -> String {
    format!(
        "`kubectl delete {} -n {} {}{extra}`",
        id.kind.to_lowercase(),
        id.namespace,
        id.name
    )
}

/// Storage requested by a claim (or a claim template), parsed.
fn claim_storage(spec: &Value) -> Option<(String, Option<crate::quantity::Quantity>)> {
    let s = spec["resources"]["requests"]["storage"].as_str()?;
    Some((s.to_string(), crate::quantity::Quantity::parse(s).ok()))
}

/// The names of a StatefulSet's volume claim templates.
fn claim_templates(v: &Value) -> Vec<String> {
    v["spec"]["volumeClaimTemplates"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t["metadata"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Risks of a StatefulSet whose spec changes beyond its mutable fields.
fn statefulset_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    let (bs, hs) = (&b.value["spec"], &h.value["spec"]);
    // The API server defaults podManagementPolicy to OrderedReady, which kgen omits.
    let normal = |s: &Value| {
        let mut s = s.clone();
        if s.is_object() && s["podManagementPolicy"].is_null() {
            s["podManagementPolicy"] = "OrderedReady".into();
        }
        s
    };
    let (bs, hs) = (normal(bs), normal(hs));
    let fields = spec_fields(&bs, &hs, |k| {
        k != "selector" && !STATEFULSET_MUTABLE.contains(&k)
    });
    if fields.is_empty() {
        return;
    }
    let id = &h.id;
    let mut message = format!(
        "{} {}; a StatefulSet's spec is immutable but for replicas, ordinals, template, updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds, so the sync fails until it is recreated: {} (its pods and volume claims stay), then sync",
        and_list(&fields),
        verb(fields.len(), "changes", "change"),
        kubectl_delete(id, " --cascade=orphan"),
    );
    // A bigger claim template does not grow the claims that exist.
    let templates = |s: &Value| -> BTreeMap<String, Value> {
        s["volumeClaimTemplates"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .filter_map(|t| {
                        Some((
                            t["metadata"]["name"].as_str()?.to_string(),
                            t["spec"].clone(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (bt, ht) = (templates(&bs), templates(&hs));
    let resized: Vec<String> = ht
        .iter()
        .filter_map(|(name, spec)| {
            let (old, _) = claim_storage(bt.get(name)?)?;
            let (new, _) = claim_storage(spec)?;
            (old != new).then(|| {
                format!(
                    "`{name}-{}-<ordinal>`, {old} in the template, {new} now",
                    id.name
                )
            })
        })
        .collect();
    if !resized.is_empty() {
        message.push_str(&format!(
            "; the claims that exist ({}) keep their size: grow each one by hand, if its StorageClass allows volume expansion",
            and_list(&resized)
        ));
    }
    out.push((RiskKind::StatefulSetImmutable, message));
}

/// What a changed Job does: runs again (renamed, or an Argo CD hook), or fails to
/// apply (an immutable field of a Job that keeps its name).
fn job_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    let id = &h.id;
    if b.id != h.id {
        out.push((
            RiskKind::JobRuns,
            format!(
                "replaces Job `{}` (its pod template changed): the new Job runs once when Argo CD syncs, and the old one is pruned with its pods",
                b.id.name
            ),
        ));
        return;
    }
    let (bs, hs) = (&b.value["spec"], &h.value["spec"]);
    // An elastic Indexed Job scales by changing completions and parallelism together.
    let elastic = hs["completionMode"] == "Indexed"
        && bs["completionMode"] == "Indexed"
        && !hs["completions"].is_null()
        && hs["completions"] == hs["parallelism"];
    let fields = spec_fields(bs, hs, |k| {
        JOB_IMMUTABLE.contains(&k) && !(elastic && k == "completions")
    });
    // `a Job's pod template and completions are immutable`, or the fields themselves.
    let immutable = if fields
        .iter()
        .all(|f| f == "spec.template" || f == "spec.completions")
    {
        "a Job's pod template and completions are immutable".to_string()
    } else {
        format!(
            "a Job's {} {} immutable",
            and_list(&fields),
            verb(fields.len(), "is", "are")
        )
    };
    let what = format!(
        "{} {}",
        and_list(&fields),
        verb(fields.len(), "changes", "change")
    );
    match hook(&h.value) {
        Some(hk) => {
            // What is left of the previous run when the next sync starts.
            let kept = if hk.recreated() {
                None
            } else {
                match (
                    hk.policies.contains(&"HookSucceeded"),
                    hk.policies.contains(&"HookFailed"),
                ) {
                    (true, true) => None,
                    (true, false) => Some("failed"),
                    _ => Some("succeeded"),
                }
            };
            let policy = hk.policies.join(",");
            out.push((
                RiskKind::JobRuns,
                match kept {
                    None if hk.recreated() => format!(
                        "an Argo CD {} hook: at the next sync Argo CD deletes the previous run and runs the changed Job (as at every sync)",
                        hk.phase
                    ),
                    None => format!(
                        "an Argo CD {} hook: the changed Job runs at the next sync (Argo CD deleted the previous run when it finished)",
                        hk.phase
                    ),
                    Some(outcome) => format!(
                        "an Argo CD {} hook: the changed Job runs at the next sync, unless the previous run {outcome} and is still in the cluster (hook-delete-policy {policy} keeps it)",
                        hk.phase
                    ),
                },
            ));
            if let (Some(outcome), false) = (kept, fields.is_empty()) {
                out.push((
                    RiskKind::JobImmutable,
                    format!(
                        "{what}; with hook-delete-policy {policy} Argo CD keeps a run that {outcome}, and {immutable}: if that run is still in the cluster, the sync fails until it is deleted ({})",
                        kubectl_delete(id, "")
                    ),
                ));
            }
        }
        None if !fields.is_empty() => out.push((
            RiskKind::JobImmutable,
            format!(
                "{what}; {immutable}, so the sync fails until the Job is deleted ({}), after which it runs again",
                kubectl_delete(id, "")
            ),
        )),
        None => {}
    }
}

/// A CronJob's new schedule, time zone or suspension.
fn cronjob_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    let (bs, hs) = (&b.value["spec"], &h.value["spec"]);
    let schedule = |s: &Value| match s["timeZone"].as_str() {
        Some(tz) => format!("`{}` ({tz})", scalar(&s["schedule"])),
        None => format!("`{}`", scalar(&s["schedule"])),
    };
    let mut parts = Vec::new();
    if bs["schedule"] != hs["schedule"] || bs["timeZone"] != hs["timeZone"] {
        parts.push(format!(
            "schedule changes {} → {}",
            schedule(bs),
            schedule(hs)
        ));
    }
    let suspended = |s: &Value| s["suspend"].as_bool().unwrap_or(false);
    match (suspended(bs), suspended(hs)) {
        (false, true) => {
            parts.push("suspended: no new run starts (a run in progress finishes)".into())
        }
        (true, false) if hs["startingDeadlineSeconds"].is_null() => parts.push(
            "resumed: with no startingDeadlineSeconds, a run missed while it was suspended starts at once".into(),
        ),
        (true, false) => parts.push("resumed: runs start again on schedule".into()),
        _ => {}
    }
    if !parts.is_empty() {
        out.push((RiskKind::CronJobSchedule, parts.join("; ")));
    }
}

/// Removed Service ports and ports whose number, protocol or target changes.
fn service_port_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    struct Port {
        port: String,
        protocol: String,
        target: String,
    }
    let ports = |v: &Value| -> Vec<(String, Port)> {
        v["spec"]["ports"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let port = scalar(&p["port"]);
                        let key = p["name"]
                            .as_str()
                            .filter(|n| !n.is_empty())
                            .map_or_else(|| port.clone(), str::to_string);
                        let target = if p["targetPort"].is_null() {
                            port.clone()
                        } else {
                            scalar(&p["targetPort"])
                        };
                        let protocol = scalar_or(&p["protocol"], "TCP");
                        (
                            key,
                            Port {
                                port,
                                protocol,
                                target,
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (old, new) = (ports(&b.value), ports(&h.value));
    for (name, o) in &old {
        match new.iter().find(|(n, _)| n == name) {
            None => out.push((
                RiskKind::ServicePort,
                format!(
                    "port `{name}` ({}/{}) is removed; clients calling it fail",
                    o.port, o.protocol
                ),
            )),
            Some((_, n)) => {
                if (&o.port, &o.protocol) != (&n.port, &n.protocol) {
                    out.push((
                        RiskKind::ServicePort,
                        format!(
                            "port `{name}` changes {}/{} → {}/{}; clients still calling {}/{} fail",
                            o.port, o.protocol, n.port, n.protocol, o.port, o.protocol
                        ),
                    ));
                }
                if o.target != n.target {
                    out.push((
                        RiskKind::ServicePort,
                        format!(
                            "port `{name}` now sends its traffic to the pods' port `{}` instead of `{}`",
                            n.target, o.target
                        ),
                    ));
                }
            }
        }
    }
}

/// A claim's spec is immutable but for a bigger storage request.
fn claim_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    let (mut bs, mut hs) = (b.value["spec"].clone(), h.value["spec"].clone());
    let (old, new) = (claim_storage(&bs), claim_storage(&hs));
    for s in [&mut bs, &mut hs] {
        if let Some(r) = s["resources"]["requests"].as_object_mut() {
            r.remove("storage");
            if r.is_empty() {
                s["resources"]
                    .as_object_mut()
                    .expect("an object")
                    .remove("requests");
            }
        }
        if s["resources"].as_object().is_some_and(|r| r.is_empty()) {
            s.as_object_mut().expect("an object").remove("resources");
        }
    }
    let mut fields = Vec::new();
    field_diff(&bs, &hs, &mut "spec".to_string(), &mut fields);
    fields.sort();
    if !fields.is_empty() {
        out.push((
            RiskKind::PvcImmutable,
            format!(
                "{} {}; a claim's spec is immutable but for a bigger storage request, so the sync fails: a new claim (another volume name) is the way to change it",
                and_list(&fields),
                verb(fields.len(), "changes", "change")
            ),
        ));
    }
    let (Some((old_text, old_q)), Some((new_text, new_q))) = (old, new) else {
        return;
    };
    if old_text == new_text {
        return;
    }
    match (old_q, new_q) {
        (Some(o), Some(n)) if n < o => out.push((
            RiskKind::PvcImmutable,
            format!(
                "spec.resources.requests.storage shrinks {old_text} → {new_text}; the API server refuses to shrink a claim, so the sync fails"
            ),
        )),
        (Some(o), Some(n)) if n == o => {}
        (Some(_), Some(_)) => out.push((
            RiskKind::PvcResize,
            format!(
                "storage grows {old_text} → {new_text}: the volume is expanded in place if its StorageClass allows volume expansion (allowVolumeExpansion), else the API server refuses it and the sync fails"
            ),
        )),
        _ => out.push((
            RiskKind::PvcImmutable,
            format!(
                "spec.resources.requests.storage changes {old_text} → {new_text}; a claim's storage request may only grow"
            ),
        )),
    }
}

/// Risks and info, sorted: risks by kind (most likely to fail first), then info.
fn findings(
    d: &ManifestDiff,
    changed: &[(&Resource, &Resource)],
    manual: &BTreeSet<Group>,
    head_pools: &HeadNodePools,
) -> Vec<Risk> {
    let mut out = Vec::new();
    let risk = |kind, id: &Identity, message: String| Risk {
        kind,
        group: id.group.clone(),
        resource: Some(id.clone()),
        service: None,
        message,
    };
    // A removed service is one risk, not one per object: its objects' own risks are
    // kept only when they say more than that a prune deletes them.
    let removed_units: BTreeMap<&str, &ServiceUnit> = d
        .services
        .iter()
        .filter(|u| !u.added)
        .map(|u| (u.dir.as_str(), u))
        .collect();
    let mut pruned_with_unit: BTreeMap<&str, Vec<&Identity>> = BTreeMap::new();
    for (b, h) in changed {
        let id = &h.id;
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
        let mut found = Vec::new();
        match id.kind.as_str() {
            "StatefulSet" => statefulset_findings(b, h, &mut found),
            "Job" => job_findings(b, h, &mut found),
            "CronJob" => cronjob_findings(b, h, &mut found),
            "Service" => service_port_findings(b, h, &mut found),
            "PersistentVolumeClaim" => claim_findings(b, h, &mut found),
            _ => crate::diff_platform::changed(b, h, &mut found),
        }
        for (kind, message) in found {
            out.push(risk(kind, id, message));
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
    let removed_namespaces: BTreeSet<(&Group, &str)> = d
        .removed
        .iter()
        .filter(|r| r.id.kind == "Namespace" && r.id.api_version == "v1")
        .map(|r| (&r.id.group, r.id.name.as_str()))
        .collect();
    for r in &d.added {
        if r.id.kind == "StorageClass" {
            let mut found = Vec::new();
            crate::diff_platform::default_class_change(None, &r.value, &mut found);
            for (kind, message) in found {
                out.push(risk(kind, &r.id, message));
            }
        }
    }
    for r in &d.removed {
        let id = &r.id;
        // A plain YAML file (Helm values) is read by an Application, not applied: the
        // Application's own change says what happens.
        if !id.is_object() {
            continue;
        }
        let kept = has_sync_option(&r.value, "Prune=false");
        if let Some(a) = added_elsewhere.get(&id.without_namespace()) {
            if id.is_object() {
                let what = if kept {
                    "Argo CD creates a new one and keeps the old one (sync option Prune=false)"
                } else {
                    "Argo CD deletes it and creates a new one"
                };
                out.push(risk(
                    RiskKind::NamespaceChange,
                    id,
                    format!(
                        "moves from namespace `{}` to `{}`; {what}",
                        id.namespace, a.id.namespace
                    ),
                ));
                continue;
            }
        }
        if let Some((kind, message)) = crate::diff_platform::removed(r, &d.removed, head_pools) {
            out.push(risk(kind, id, message));
            continue;
        }
        // Pruning a namespace deletes everything in it, whatever Argo CD keeps.
        let namespace_removed = !id.namespace.is_empty()
            && removed_namespaces.contains(&(&id.group, id.namespace.as_str()));
        let claims = claim_templates(&r.value);
        if id.kind == "StatefulSet" && !claims.is_empty() {
            let claims = and_list(
                &claims
                    .iter()
                    .map(|c| format!("`{c}-{}-<ordinal>`", id.name))
                    .collect::<Vec<_>>(),
            );
            let deleted =
                r.value["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete";
            out.push(risk(
                RiskKind::Removed,
                id,
                if namespace_removed {
                    format!(
                        "removed with its namespace: deleting the namespace deletes its pods' claims ({claims}) too, and their volumes' data unless their reclaim policy is Retain"
                    )
                } else if deleted {
                    format!(
                        "removed; a prune deletes it, and its pods' claims ({claims}) with it (persistentVolumeClaimRetentionPolicy whenDeleted: Delete)"
                    )
                } else {
                    format!(
                        "removed; a prune deletes it, but its pods' claims ({claims}) stay (whenDeleted: Retain): delete them by hand once the data is no longer needed"
                    )
                },
            ));
        } else if (kept || hook(&r.value).is_some()) && namespace_removed {
            out.push(risk(
                RiskKind::Removed,
                id,
                if id.kind == "PersistentVolumeClaim" {
                    "removed with its namespace: Argo CD does not prune the claim itself (Prune=false), but deleting the namespace deletes it, and its volume's data unless the reclaim policy is Retain".into()
                } else {
                    "removed with its namespace, which deletes it (Argo CD would not prune it itself)".into()
                },
            ));
        } else if hook(&r.value).is_some() {
            out.push(risk(
                RiskKind::Kept,
                id,
                format!(
                    "removed; Argo CD never prunes a hook, so a run still in the cluster stays there until deleted by hand ({})",
                    kubectl_delete(id, "")
                ),
            ));
        } else if kept && id.kind == "PersistentVolumeClaim" {
            out.push(risk(
                RiskKind::Kept,
                id,
                format!(
                    "removed; Argo CD does not prune it (sync option Prune=false), so the claim and its data stay: delete it by hand ({}) once the data is no longer needed",
                    kubectl_delete(id, "")
                ),
            ));
        } else if kept {
            out.push(risk(
                RiskKind::Kept,
                id,
                "removed; Argo CD does not prune it (sync option Prune=false): it stays in the cluster until deleted by hand".into(),
            ));
        } else if let Some(unit) =
            service_dir(&r.path).and_then(|(e, s)| removed_units.get(format!("{e}/{s}/").as_str()))
        {
            // Said once for the whole service, below.
            pruned_with_unit
                .entry(unit.dir.as_str())
                .or_default()
                .push(id);
        } else if id.kind == "ConfigMap"
            && r.path.rsplit('/').next() == Some(crate::render::job::HOOKS_RECORD_FILE)
        {
            // kgen's record of a service's hooks (`render::job::hooks_record`): nothing
            // reads it, so pruning it is no risk; it is still listed as removed.
        } else if id.kind == "HorizontalPodAutoscaler" {
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

    for (dir, ids) in pruned_with_unit {
        let unit = removed_units[dir];
        let namespaces: Vec<String> = ids
            .iter()
            .filter(|id| id.kind == "Namespace" && id.api_version == "v1")
            .map(|id| format!("`{}`", id.name))
            .collect();
        let total = unit.objects.len();
        let count = if ids.len() == total {
            format!("its {}", crate::diagnostic::plural(total, "object"))
        } else {
            format!(
                "{} of its {}",
                ids.len(),
                crate::diagnostic::plural(total, "object")
            )
        };
        let mut message = format!("removed: a prune deletes {count} from the cluster");
        if !namespaces.is_empty() {
            message.push_str(&format!(
                ", {} {} with everything in {}",
                if namespaces.len() == 1 {
                    "namespace"
                } else {
                    "namespaces"
                },
                and_list(&namespaces),
                if namespaces.len() == 1 { "it" } else { "them" },
            ));
        }
        out.push(Risk {
            kind: RiskKind::Removed,
            group: Group::Environment(unit.environment.clone()),
            resource: None,
            service: Some(unit.service.clone()),
            message,
        });
    }

    for (group, counts) in &d.groups {
        if manual.contains(group) && counts.differences() > 0 {
            let (what, them) = match group {
                Group::Cluster(_) => ("this cluster's Applications", "them"),
                _ => ("this environment", "it"),
            };
            out.push(Risk {
                kind: RiskKind::ManualSync,
                group: group.clone(),
                resource: None,
                service: None,
                message: format!(
                    "Argo CD syncs {what} manually: {} ({} added, {} changed, {} removed) {} until someone syncs {them}",
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
        (a.kind, &a.group, &a.resource, &a.message).cmp(&(
            b.kind,
            &b.group,
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
pub(crate) fn parse_version(tag: &str) -> Option<(Vec<u64>, Option<&str>)> {
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

    fn set(resources: &[(&str, Value)]) -> ManifestSet {
        let files: Vec<(String, String)> = resources
            .iter()
            .map(|(path, v)| (path.to_string(), serde_json::to_string(v).unwrap()))
            .collect();
        ManifestSet::parse(&files).unwrap()
    }

    /// (code, message) of every risk and info of a change of one object.
    fn findings_of(base: Value, head: Value) -> Vec<(&'static str, String)> {
        let d = compare(
            &set(&[("dev/x/a.yaml", base)]),
            &set(&[("dev/x/a.yaml", head)]),
            &BTreeSet::new(),
        );
        d.risks
            .iter()
            .chain(&d.info)
            .map(|r| (r.kind.code(), r.message.clone()))
            .collect()
    }

    fn job(annotations: Value, command: &str) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "m", "namespace": "n", "annotations": annotations},
            "spec": {"template": {"spec": {"containers": [{"name": "m", "command": [command]}]}}}})
    }

    #[test]
    fn hooks_by_delete_policy() {
        let hook = |policy: Option<&str>| {
            let mut a = json!({"argocd.argoproj.io/hook": "PreSync"});
            if let Some(p) = policy {
                a["argocd.argoproj.io/hook-delete-policy"] = p.into();
            }
            findings_of(job(a.clone(), "a"), job(a, "b"))
        };
        // BeforeHookCreation (the default): re-created at every sync, never a risk.
        assert_eq!(hook(None), hook(Some("BeforeHookCreation")));
        assert_eq!(hook(None).len(), 1);
        assert_eq!(hook(Some("HookSucceeded,BeforeHookCreation")), hook(None));
        // Deleted whatever the outcome: runs again, no risk either.
        let both = hook(Some("HookSucceeded,HookFailed"));
        assert_eq!(both.len(), 1);
        assert!(both[0].1.contains("deleted the previous run"), "{both:?}");
        // A failed run is kept: a changed template may fail the sync.
        let kept = hook(Some("HookSucceeded"));
        assert_eq!(kept[0].0, "job-immutable");
        assert!(kept[0].1.contains("keeps a run that failed"), "{kept:?}");
        assert_eq!(kept[1].0, "job-runs");
        // Only labels change: the Job is updated in place, no risk.
        let labels = findings_of(
            job(
                json!({"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "HookFailed"}),
                "a",
            ),
            {
                let mut j = job(
                    json!({"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "HookFailed"}),
                    "a",
                );
                j["metadata"]["labels"] = json!({"x": "1"});
                j
            },
        );
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].0, "job-runs");
        // A Job that is not a hook, changed in place but for immutable fields: nothing.
        let mut a = job(json!({}), "a");
        a["spec"]["backoffLimit"] = 3.into();
        assert_eq!(findings_of(job(json!({}), "a"), a), []);
    }

    #[test]
    fn immutable_job_fields_beyond_the_template() {
        let with = |spec: Value| {
            let mut j = job(json!({}), "a");
            for (k, v) in spec.as_object().unwrap() {
                j["spec"][k] = v.clone();
            }
            j
        };
        let f = findings_of(
            with(json!({"backoffLimitPerIndex": 1, "completionMode": "Indexed", "completions": 2})),
            with(
                json!({"backoffLimitPerIndex": 2, "completionMode": "Indexed", "completions": 2,
                "podFailurePolicy": {"rules": []}}),
            ),
        );
        assert_eq!(
            f,
            [("job-immutable", "spec.backoffLimitPerIndex and spec.podFailurePolicy change; a Job's spec.backoffLimitPerIndex and spec.podFailurePolicy are immutable, so the sync fails until the Job is deleted (`kubectl delete job -n n m`), after which it runs again".to_string())]
        );
        // An elastic Indexed Job scales completions with parallelism.
        assert_eq!(
            findings_of(
                with(json!({"completionMode": "Indexed", "completions": 2, "parallelism": 2})),
                with(json!({"completionMode": "Indexed", "completions": 3, "parallelism": 3})),
            ),
            []
        );
        // Not so a NonIndexed one.
        assert_eq!(
            findings_of(
                with(json!({"completions": 2, "parallelism": 2})),
                with(json!({"completions": 3, "parallelism": 3})),
            )[0]
            .0,
            "job-immutable"
        );
    }

    #[test]
    fn a_tag_bump_is_one_version_change_per_service() {
        let labels =
            |v: &str| json!({"app.kubernetes.io/version": v, "app.kubernetes.io/name": "web"});
        let deploy = |v: &str, hash: &str, replicas: u32| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "n", "labels": labels(v)},
                "spec": {"replicas": replicas, "template": {
                    "metadata": {"labels": labels(v), "annotations": {"kgen.dev/config-hash": hash}},
                    "spec": {"containers": [{"name": "web", "image": format!("reg/web:{v}")}]}}}})
        };
        let config = |v: &str| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "web-config", "namespace": "n", "labels": labels(v)},
                "data": {"VERSION": v, "A": "1"}})
        };
        let service = |v: &str| {
            json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "n", "labels": labels(v)},
                "spec": {"ports": [{"name": "http", "port": 80}]}})
        };
        let side = |v: &str, hash: &str, replicas: u32| {
            set(&[
                ("dev/web/configmap.yaml", config(v)),
                ("dev/web/deployment.yaml", deploy(v, hash, replicas)),
                ("dev/web/service.yaml", service(v)),
            ])
        };
        let d = compare(&side("1.0", "a", 2), &side("1.1", "b", 2), &BTreeSet::new());
        assert_eq!(d.changed.len(), 3);
        assert!(d.changed.iter().all(|c| c.version_only));
        assert_eq!(d.versions.len(), 1);
        let v = &d.versions[0];
        assert_eq!(
            v.summary(),
            "version 1.0 → 1.1 (container `web`: image tag 1.0 → 1.1); nothing else changes in its 3 objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash"
        );
        // Another change keeps the Deployment out of the line.
        let d = compare(&side("1.0", "a", 2), &side("1.1", "b", 3), &BTreeSet::new());
        assert_eq!(d.versions[0].objects.len(), 2);
        assert!(
            !d.changed
                .iter()
                .find(|c| c.id.kind == "Deployment")
                .unwrap()
                .version_only
        );
        assert_eq!(
            d.versions[0].summary(),
            "version 1.0 → 1.1; nothing else changes in its 2 objects but kgen's version label and the ConfigMap's VERSION"
        );
        // No version label change: nothing collapses (a config hash alone is a change).
        let d = compare(&side("1.0", "a", 2), &side("1.0", "b", 2), &BTreeSet::new());
        assert!(d.versions.is_empty() && !d.changed[0].version_only);
    }

    #[test]
    fn a_removed_service_is_one_risk() {
        let obj = |kind: &str, name: &str, ns: &str| {
            json!({"apiVersion": if kind == "HorizontalPodAutoscaler" { "autoscaling/v2" } else { "v1" },
                "kind": kind, "metadata": {"name": name, "namespace": ns}})
        };
        let base = set(&[
            (
                "dev/web/namespace.yaml",
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}),
            ),
            (
                "dev/web/hpa.yaml",
                obj("HorizontalPodAutoscaler", "web", "web"),
            ),
            ("dev/web/service.yaml", obj("Service", "web", "web")),
            ("dev/other/service.yaml", obj("Service", "other", "other")),
            (
                "dev/other/hpa.yaml",
                obj("HorizontalPodAutoscaler", "other", "other"),
            ),
        ]);
        let head = set(&[("dev/other/service.yaml", obj("Service", "other", "other"))]);
        let d = compare(&base, &head, &BTreeSet::new());
        assert_eq!(d.services.len(), 1);
        assert_eq!(d.services[0].dir, "dev/web/");
        assert_eq!(d.services[0].objects.len(), 3);
        let risks: Vec<(&str, Option<&str>, &str)> = d
            .risks
            .iter()
            .map(|r| (r.kind.code(), r.service.as_deref(), r.message.as_str()))
            .collect();
        // other's HPA is removed alone: its own risk.
        assert_eq!(
            risks,
            [
                ("hpa-removed", None, "removed; autoscaling stops and the replica count falls back to the workload's spec.replicas"),
                ("removed", Some("web"), "removed: a prune deletes its 3 objects from the cluster, namespace `web` with everything in it"),
            ]
        );
    }

    #[test]
    fn statefulset_defaults_and_mutable_fields() {
        let sts = |spec: Value| {
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "db"}, "spec": spec})
        };
        // podManagementPolicy absent is OrderedReady; mutable fields are no risk.
        assert_eq!(
            findings_of(
                sts(json!({"serviceName": "db", "replicas": 1})),
                sts(
                    json!({"serviceName": "db", "replicas": 3, "podManagementPolicy": "OrderedReady",
                    "minReadySeconds": 5, "updateStrategy": {"type": "OnDelete"},
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}})
                ),
            ),
            []
        );
        let f = findings_of(
            sts(json!({"serviceName": "db"})),
            sts(json!({"serviceName": "db", "podManagementPolicy": "Parallel"})),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "statefulset-immutable");
        assert!(
            f[0].1.starts_with("spec.podManagementPolicy changes; "),
            "{f:?}"
        );
    }

    #[test]
    fn service_ports_and_claims() {
        let svc = |ports: Value| {
            json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s", "namespace": "n"}, "spec": {"ports": ports}})
        };
        assert_eq!(
            findings_of(
                svc(json!([
                    {"name": "http", "port": 80, "targetPort": "http"},
                    {"port": 53, "protocol": "UDP"},
                    {"name": "x", "port": 1}
                ])),
                svc(json!([
                    {"name": "http", "port": 80, "targetPort": "admin", "protocol": "TCP"},
                    {"port": 53, "protocol": "TCP"}
                ])),
            ),
            [
                // An unnamed port is known by its number.
                (
                    "service-port",
                    "port `53` changes 53/UDP → 53/TCP; clients still calling 53/UDP fail".into()
                ),
                (
                    "service-port",
                    "port `http` now sends its traffic to the pods' port `admin` instead of `http`"
                        .into()
                ),
                (
                    "service-port",
                    "port `x` (1/TCP) is removed; clients calling it fail".into()
                ),
            ]
        );
        let pvc = |size: &str| {
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "c", "namespace": "n"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}})
        };
        // Same size written another way: no change of size.
        assert_eq!(findings_of(pvc("1Gi"), pvc("1024Mi")), []);
        assert_eq!(
            findings_of(pvc("1Gi"), pvc("2G")),
            [("pvc-resize", "storage grows 1Gi → 2G: the volume is expanded in place if its StorageClass allows volume expansion (allowVolumeExpansion), else the API server refuses it and the sync fails".into())]
        );
        assert_eq!(findings_of(pvc("1Gi"), pvc("1G"))[0].0, "pvc-immutable");
    }

    #[test]
    fn a_node_class_removed_while_a_pool_names_it() {
        let class = json!({"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
            "metadata": {"name": "default"}, "spec": {"role": "r"}});
        let base = set(&[(
            "clusters/prod/baseline-custom/ec2nodeclass-default.yaml",
            class,
        )]);
        let head = set(&[]);
        let pools: HeadNodePools = [(
            "prod".to_string(),
            [("general".to_string(), "default".to_string())].into(),
        )]
        .into();
        let d = compare_with(&base, &head, &BTreeSet::new(), &pools);
        assert_eq!(
            d.risks
                .iter()
                .map(|r| (r.kind.code(), r.message.as_str()))
                .collect::<Vec<_>>(),
            [(
                "nodeclass-in-use",
                "removed while NodePool `general` still names it: Karpenter launches no node for that pool, and the class stays (Terminating) until the nodes launched from it are gone"
            )]
        );
        // No pool names it: an ordinary removal, which waits for its nodes.
        let d = compare_with(&base, &head, &BTreeSet::new(), &HeadNodePools::new());
        assert_eq!(d.risks[0].kind.code(), "removed");
        assert!(d.risks[0]
            .message
            .contains("once no node launched from it is left"));
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
