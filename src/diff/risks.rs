//! Risks and info: the changes Kubernetes or Argo CD will not apply in place, or that
//! deserve a second look, and what a reviewer wants to know that is not a risk.
//!
//! `findings` goes through every changed, added and removed resource: an immutable
//! selector, a Service's clusterIP or type, an image tag moving backwards, a removal
//! (prune deletes it; once for a whole service), a namespace move (delete and
//! recreate), a removed HPA, anything in an environment or cluster synced by hand. The
//! rules of one kind of object are in `workloads` (StatefulSets, Jobs, CronJobs,
//! Services, claims), what a change does to running pods in `pods`, and `diff_platform` (add-ons, monitoring, the cluster baseline);
//! docs/diff.md cites the Kubernetes and Argo CD code behind each.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::compare::{service_dir, ServiceUnit};
use super::images::image_downgrades;
use super::pods::{autoscaled, replicas_dropped, rollout};
use super::report::ManifestDiff;
use super::workloads::{
    claim_findings, claim_templates, cronjob_findings, has_sync_option, hook, job_findings,
    service_port_findings, statefulset_findings,
};
use crate::diff_platform::HeadNodePools;
use crate::manifest_set::{Group, Identity, Resource};

/// Kinds whose `spec.selector` cannot change once created.
const IMMUTABLE_SELECTOR_KINDS: [&str; 5] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicaSet",
];

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
    /// An immutable ConfigMap's data changes, or it becomes mutable.
    ConfigMapImmutable,
    /// A Service's `spec.clusterIP` changes.
    ServiceClusterIp,
    /// A Service's `spec.type` changes.
    ServiceType,
    /// A Service port is removed, or its number, protocol or target changes.
    ServicePort,
    /// A NetworkPolicy that selects every pod of its namespace starts restricting
    /// egress (`policyTypes` gains `Egress`).
    EgressRestricted,
    /// A resource moves to another namespace.
    NamespaceChange,
    /// An add-on's Application moves its release to another namespace.
    AddonNamespace,
    /// external-dns's record owner (`txtOwnerId`) changes, or its policy becomes
    /// `sync` (it deletes records).
    DnsOwner,
    /// A HorizontalPodAutoscaler is removed.
    HpaRemoved,
    /// A Deployment or StatefulSet loses `spec.replicas` (autoscaling turned on): a
    /// client-side apply removes the field and the API server defaults it to 1.
    ReplicasDropped,
    /// An Application's or an ApplicationSet template's sync becomes automated, or
    /// gains prune or selfHeal.
    SyncAutomated,
    /// An ApplicationSet starts deleting the Applications it no longer generates
    /// (`applicationsSync: create-only` or `create-update` dropped).
    ApplicationsSync,
    /// An AppProject allows more: a cluster-scoped kind, a destination, a source
    /// repository.
    ProjectWidened,
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
    /// Info: a workload's pod template changes with no new image (an environment
    /// variable, the config hash): its pods are replaced.
    Rollout,
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
    /// Info: an AppProject allows less.
    ProjectNarrowed,
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
            RiskKind::ConfigMapImmutable => "configmap-immutable",
            RiskKind::ServiceClusterIp => "service-cluster-ip",
            RiskKind::ServiceType => "service-type",
            RiskKind::ServicePort => "service-port",
            RiskKind::EgressRestricted => "egress-restricted",
            RiskKind::NamespaceChange => "namespace-change",
            RiskKind::AddonNamespace => "addon-namespace",
            RiskKind::DnsOwner => "dns-owner",
            RiskKind::HpaRemoved => "hpa-removed",
            RiskKind::ReplicasDropped => "replicas-dropped",
            RiskKind::SyncAutomated => "sync-automated",
            RiskKind::ApplicationsSync => "applications-sync",
            RiskKind::ProjectWidened => "project-widened",
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
            RiskKind::Rollout => "rollout",
            RiskKind::CronJobSchedule => "cronjob-schedule",
            RiskKind::PvcResize => "pvc-resize",
            RiskKind::Kept => "kept",
            RiskKind::AddonRemoved => "addon-removed",
            RiskKind::ChartVersion => "chart-version",
            RiskKind::AcmeServer => "acme-server",
            RiskKind::DefaultStorageClass => "default-storageclass",
            RiskKind::ProjectNarrowed => "project-narrowed",
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

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `change` after one field, `changes` after several (`spec.x changes`).
pub(crate) fn verb(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `kubectl delete <kind> [-n <namespace>] <name><extra>`, quoted (no `-n` for a
/// cluster-scoped object).
pub(crate) fn kubectl_delete(id: &Identity, extra: &str) -> String {
    let namespace = if id.namespace.is_empty() {
        String::new()
    } else {
        format!(" -n {}", id.namespace)
    };
    format!(
        "`kubectl delete {}{namespace} {}{extra}`",
        id.kind.to_lowercase(),
        id.name
    )
}

/// Risks and info, sorted: risks by kind (most likely to fail first), then info.
pub(super) fn findings(
    d: &ManifestDiff,
    changed: &[(&Resource, &Resource)],
    manual: &BTreeSet<Group>,
    head_pools: &HeadNodePools,
    head_storage: &crate::diff_platform::HeadStorageClasses,
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
    let autoscaled = autoscaled(d, changed);
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
            // An update that leaves clusterIP empty keeps the allocated one
            // (`patchAllocatedValues` in kubernetes
            // `pkg/registry/core/service/storage/storage.go`): X → unset is no change.
            // Between two set values, `None` included, `ValidateServiceUpdate` refuses it.
            let unset = |v: &Value| v.is_null() || *v == "";
            if bs["clusterIP"] != hs["clusterIP"] && !unset(&hs["clusterIP"]) {
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
        if matches!(id.kind.as_str(), "Deployment" | "StatefulSet") {
            if let Some(m) = replicas_dropped(b, h, &autoscaled) {
                out.push(risk(RiskKind::ReplicasDropped, id, m));
            }
        }
        if b.id == h.id && matches!(id.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") {
            if let Some(m) = rollout(b, h, manual.contains(&id.group)) {
                out.push(risk(RiskKind::Rollout, id, m));
            }
        }
        let mut found = Vec::new();
        match id.kind.as_str() {
            "StatefulSet" => statefulset_findings(b, h, &mut found),
            "Job" => job_findings(b, h, &mut found),
            "CronJob" => cronjob_findings(b, h, &mut found),
            "Service" => service_port_findings(b, h, &mut found),
            "PersistentVolumeClaim" => {
                // Whether the claim's class (at the head) allows expansion, when known.
                let expandable =
                    h.id.group
                        .environment()
                        .and_then(|env| head_storage.get(env))
                        .and_then(|classes| {
                            // No class named: the cluster's default.
                            let class = h.value["spec"]["storageClassName"].as_str().unwrap_or("");
                            classes.get(class).map(|(name, ok)| (name.as_str(), *ok))
                        });
                claim_findings(b, h, expandable, &mut found)
            }
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
    // A service moved to another namespace is one risk, and its objects none of their own.
    let moved = super::moves::namespace_moves(d, manual, &mut out);
    for r in &d.removed {
        let id = &r.id;
        if moved.contains(id) {
            continue;
        }
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
                } else if manual.contains(&id.group) {
                    "a sync creates a new one, and the old one stays until someone syncs with prune, which deletes it"
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
        let unit = service_dir(&r.path)
            .and_then(|(e, s)| removed_units.get(format!("{e}/{s}/").as_str()).copied());
        let prune = prune_phrase(&id.group, unit, manual);
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
                        "removed; {prune} it, and its pods' claims ({claims}) with it (persistentVolumeClaimRetentionPolicy whenDeleted: Delete)"
                    )
                } else {
                    format!(
                        "removed; {prune} it, but its pods' claims ({claims}) stay (whenDeleted: Retain): delete them by hand once the data is no longer needed"
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
        } else if let Some(unit) = unit {
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
                format!("removed; {prune} the namespace and everything in it"),
            ));
        } else {
            out.push(risk(
                RiskKind::Removed,
                id,
                format!("removed; {prune} it from the cluster"),
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
        // Every object of the service goes; those with a risk of their own (a
        // StatefulSet's claims) are said so, not left out of the count.
        let total = unit.objects.len();
        let own = match total - ids.len().min(total) {
            0 => String::new(),
            1 => " (one with a risk of its own, below)".to_string(),
            n => format!(" ({n} with risks of their own, below)"),
        };
        let objects = crate::diagnostic::plural(total, "object");
        let with_namespaces = if namespaces.is_empty() {
            String::new()
        } else {
            format!(
                ", {} {} with everything in {}",
                if namespaces.len() == 1 {
                    "namespace"
                } else {
                    "namespaces"
                },
                and_list(&namespaces),
                if namespaces.len() == 1 { "it" } else { "them" },
            )
        };
        // A manual environment's ApplicationSet creates and updates Applications but
        // never deletes one (`applicationsSync: create-update`, docs/argocd.md): the
        // service's Application stays, with nothing to render, and no sync prunes.
        let env = Group::Environment(unit.environment.clone());
        let message = if manual.contains(&env) {
            let app = format!("{}-{}", unit.environment, unit.service);
            format!(
                "removed, but the environment's ApplicationSet never deletes an Application (applicationsSync: create-update): `{app}` stays, cannot render (its source is gone) and keeps its {objects}{own}{with_namespaces} running; delete it by hand once this is merged (`argocd app delete {app}`, which deletes them through its resources finalizer)"
            )
        } else {
            format!("removed: a prune deletes its {objects}{own} from the cluster{with_namespaces}")
        };
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
    group_sync_automated(&mut out);
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

/// Who deletes a removed object: a prune (automated sync), a sync with prune (manual
/// sync), or, for a service removed as a whole from a manual environment, only the
/// deletion of its Application (its ApplicationSet never deletes it).
fn prune_phrase(group: &Group, unit: Option<&ServiceUnit>, manual: &BTreeSet<Group>) -> String {
    if !manual.contains(group) {
        return "a prune deletes".into();
    }
    match unit {
        Some(u) => format!(
            "only deleting its Application (`argocd app delete {}-{}`, see the service's risk) deletes",
            u.environment, u.service
        ),
        None => "nothing deletes it until someone syncs with prune, which deletes".into(),
    }
}

/// Applications of one group whose sync becomes automated in the same way are one
/// risk naming them (a cluster turned automatic changes every add-on's Application).
fn group_sync_automated(out: &mut Vec<Risk>) {
    let mut same: BTreeMap<(Group, String), Vec<String>> = BTreeMap::new();
    for r in out.iter() {
        if let (RiskKind::SyncAutomated, Some(id)) = (r.kind, &r.resource) {
            if id.kind == "Application" {
                same.entry((r.group.clone(), r.message.clone()))
                    .or_default()
                    .push(format!("`{}`", id.name));
            }
        }
    }
    for ((group, message), names) in same {
        if names.len() < 2 {
            continue;
        }
        out.retain(|r| {
            !(r.kind == RiskKind::SyncAutomated
                && r.group == group
                && r.message == message
                && r.resource
                    .as_ref()
                    .is_some_and(|id| id.kind == "Application"))
        });
        out.push(Risk {
            kind: RiskKind::SyncAutomated,
            group,
            resource: None,
            service: None,
            message: format!(
                "{} Applications ({}): {}",
                names.len(),
                and_list(&names),
                message.replace("this Application", "each of them")
            ),
        });
    }
}

/// A value as a finding shows it: `(unset)` for null, a string as it is, anything else
/// as JSON.
pub(crate) fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "(unset)".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `scalar`, or `default` for null (a field the API server defaults).
pub(crate) fn scalar_or(v: &Value, default: &str) -> String {
    if v.is_null() {
        default.into()
    } else {
        scalar(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::diff::compare::{compare, compare_with};
    use crate::diff::testing::set;

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
    fn a_cluster_ip_left_unset_is_kept() {
        let svc = |ip: Option<&str>| {
            let mut v = json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "web"}, "spec": {"ports": []}});
            if let Some(ip) = ip {
                v["spec"]["clusterIP"] = json!(ip);
            }
            v
        };
        let codes = |b: Option<&str>, h: Option<&str>| -> Vec<String> {
            let base = set(&[("dev/web/service.yaml", svc(b))]);
            let head = set(&[("dev/web/service.yaml", svc(h))]);
            compare(&base, &head, &BTreeSet::new())
                .risks
                .iter()
                .map(|r| format!("{}: {}", r.kind.code(), r.message))
                .collect()
        };
        // The API server keeps the allocated address when an update leaves it empty.
        assert!(codes(Some("10.0.0.1"), None).is_empty());
        assert!(codes(Some("None"), None).is_empty());
        assert_eq!(
            codes(Some("10.0.0.1"), Some("10.0.0.2")),
            ["service-cluster-ip: spec.clusterIP changes 10.0.0.1 → 10.0.0.2; it is immutable, so the sync fails until the Service is deleted and recreated"]
        );
        assert_eq!(codes(Some("10.0.0.1"), Some("None")).len(), 1);
        assert_eq!(codes(Some("None"), Some("10.0.0.1")).len(), 1);
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
}
