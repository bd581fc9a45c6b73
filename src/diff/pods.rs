//! What a change does to a workload's running pods: a pod template that changes with
//! the same images (a rolling update replaces every pod), and a `spec.replicas` that
//! goes when an autoscaler takes over (client-side apply deletes it, and the API server
//! defaults it to 1). Called by `risks` for each changed workload.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::report::ManifestDiff;
use super::risks::and_list;
use crate::manifest_set::{Group, Resource};

/// The workloads an added or changed HorizontalPodAutoscaler scales at the head:
/// (group, namespace, kind, name).
pub(super) fn autoscaled(
    d: &ManifestDiff,
    changed: &[(&Resource, &Resource)],
) -> BTreeSet<(Group, String, String, String)> {
    d.added
        .iter()
        .chain(changed.iter().map(|(_, h)| *h))
        .filter(|r| r.id.kind == "HorizontalPodAutoscaler")
        .filter_map(|r| {
            let target = &r.value["spec"]["scaleTargetRef"];
            Some((
                r.id.group.clone(),
                r.id.namespace.clone(),
                target["kind"].as_str()?.to_string(),
                target["name"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// A Deployment or StatefulSet that loses `spec.replicas` (autoscaling turned on).
/// Argo CD applies a service's objects client-side (kgen sets no `ServerSideApply`
/// on them), so kubectl's three-way merge (`CreateThreeWayMergePatch` in
/// `k8s.io/apimachinery/pkg/util/strategicpatch`, called from kubectl
/// `pkg/cmd/apply/patcher.go`) deletes a field that the last applied configuration has
/// and the new one does not; the API server then defaults it to 1
/// (`SetDefaults_Deployment`, `SetDefaults_StatefulSet` in kubernetes
/// `pkg/apis/apps/v1/defaults.go`). The Kubernetes documentation (*Horizontal Pod
/// Autoscaling*, "Migrating Deployments and StatefulSets to horizontal autoscaling")
/// gives the way out: remove the field from the last applied configuration first.
pub(super) fn replicas_dropped(
    b: &Resource,
    h: &Resource,
    autoscaled: &BTreeSet<(Group, String, String, String)>,
) -> Option<String> {
    let before = b.value["spec"]["replicas"].as_u64()?;
    if !h.value["spec"]["replicas"].is_null() || before <= 1 {
        return None;
    }
    let id = &h.id;
    let hpa = autoscaled.contains(&(
        id.group.clone(),
        id.namespace.clone(),
        id.kind.clone(),
        id.name.clone(),
    ));
    let until = if hpa {
        "until the HorizontalPodAutoscaler scales it up again"
    } else {
        "and it stays at 1"
    };
    Some(format!(
        "spec.replicas ({before}) is removed: Argo CD applies it client-side, so the sync deletes the field and the API server defaults it to 1: all but one of its {before} pods terminate {until}; to avoid it, before syncing remove `replicas` from its last applied configuration (`kubectl apply edit-last-applied {}/{} -n {}`), and the sync leaves the live count alone",
        id.kind.to_lowercase(),
        id.name,
        id.namespace
    ))
}

/// The containers of a pod template by name (init containers too).
fn containers(template: &Value) -> BTreeMap<String, &Value> {
    let spec = &template["spec"];
    spec["initContainers"]
        .as_array()
        .into_iter()
        .chain(spec["containers"].as_array())
        .flatten()
        .filter_map(|c| Some((c["name"].as_str()?.to_string(), c)))
        .collect()
}

/// A pod template that changes with the same images: the workload controller replaces
/// every pod (a Deployment's new ReplicaSet, a StatefulSet's or DaemonSet's rolling
/// update). A new image is said by the version line and the image itself.
pub(super) fn rollout(b: &Resource, h: &Resource, manual: bool) -> Option<String> {
    let (bt, ht) = (&b.value["spec"]["template"], &h.value["spec"]["template"]);
    if bt == ht {
        return None;
    }
    let (bc, hc) = (containers(bt), containers(ht));
    let image = |c: &BTreeMap<String, &Value>| -> BTreeMap<String, Value> {
        c.iter()
            .map(|(n, v)| (n.clone(), v["image"].clone()))
            .collect()
    };
    if image(&bc) != image(&hc) {
        return None;
    }
    let mut what: Vec<String> = Vec::new();
    let mut env_names = BTreeSet::new();
    for (name, h_c) in &hc {
        let Some(b_c) = bc.get(name) else { continue };
        let by_name = |c: &Value| -> BTreeMap<String, Value> {
            c["env"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| Some((e["name"].as_str()?.to_string(), e.clone())))
                .collect()
        };
        let (be, he) = (by_name(b_c), by_name(h_c));
        for k in be.keys().chain(he.keys()) {
            if be.get(k) != he.get(k) {
                env_names.insert(k.clone());
            }
        }
    }
    if !env_names.is_empty() {
        what.push(format!(
            "env {}",
            and_list(&env_names.into_iter().collect::<Vec<_>>())
        ));
    }
    let hash = |t: &Value| t["metadata"]["annotations"]["kgen.dev/config-hash"].clone();
    if hash(bt) != hash(ht) {
        what.push("config hash".into());
    }
    let why = if what.is_empty() {
        String::new()
    } else {
        format!(" ({})", what.join(", "))
    };
    let pods = match (h.id.kind.as_str(), h.value["spec"]["replicas"].as_u64()) {
        ("DaemonSet", _) => "its pod on every node".to_string(),
        (_, Some(n)) => format!("its {}", crate::diagnostic::plural(n as usize, "pod")),
        _ => "its pods".to_string(),
    };
    let when = if manual {
        "at the next sync by hand"
    } else {
        "when Argo CD syncs"
    };
    Some(format!(
        "the pod template changes{why} with the same images: a rolling update replaces {pods} {when}"
    ))
}
