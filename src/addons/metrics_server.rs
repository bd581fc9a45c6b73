//! metrics-server (kubernetes-sigs/metrics-server, chart `metrics-server`): the resource
//! metrics API (`metrics.k8s.io`) HorizontalPodAutoscalers read CPU and memory from.
//! Every HPA kgen writes depends on it, so kgen runs two replicas with a
//! PodDisruptionBudget, as the project's high-availability guide recommends.
//!
//! Checked against chart 3.13.1 (`charts/metrics-server/values.yaml` and `templates/`,
//! commit 5ed5d3a): `replicas`, `resources`, `priorityClassName` (default
//! `system-cluster-critical`), `tolerations`, `nodeSelector`, `podDisruptionBudget`;
//! with `rbac.create` and `apiService.create` on (the defaults) the chart creates the
//! ClusterRoles `system:<fullname>` and `system:<fullname>-aggregated-reader`, the
//! ClusterRoleBindings `<fullname>:system:auth-delegator` and `system:<fullname>`, the
//! RoleBinding `<fullname>-auth-reader` in `kube-system` (`templates/rolebinding.yaml`
//! hard-codes it), and the APIService `v1beta1.metrics.k8s.io`; no PodSecurityPolicy
//! (`rbac.pspEnabled` is off), no Secret (`tls.type: metrics-server`).

use serde_json::json;

use super::{controller_values, kinds, merge, set, Footprint, Preset, CONTROLLER_SETTINGS};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "metrics-server",
    chart: "metrics-server",
    repo: "https://kubernetes-sigs.github.io/metrics-server/",
    checked_version: "3.13.1",
    namespace: "kube-system",
    pod_security: PodSecurityLevel::Restricted,
    server_side_apply: false,
    wave: crate::render::argocd::bootstrap_wave::ADDONS,
    service_account: None,
    settings: CONTROLLER_SETTINGS,
    values,
    footprint,
};

fn values(s: &AddonSettings) -> serde_json::Value {
    let replicas = s.replicas.unwrap_or(2);
    let mut v = json!({ "replicas": replicas });
    if replicas > 1 {
        set(
            &mut v,
            &["podDisruptionBudget"],
            json!({ "enabled": true, "maxUnavailable": 1 }),
        );
    }
    merge(&mut v, controller_values(s, &[], "replicas"));
    v
}

/// The chart's `metrics-server.fullname`: the release name when it contains the chart's.
fn fullname(release: &str) -> String {
    if release.contains("metrics-server") {
        release.to_string()
    } else {
        format!("{release}-metrics-server")
    }
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = fullname(&s.release);
    let rbac = "rbac.authorization.k8s.io";
    Footprint {
        namespaces: vec!["kube-system".into()],
        cluster_kinds: kinds(&[
            ("apiregistration.k8s.io", "APIService"),
            (rbac, "ClusterRole"),
            (rbac, "ClusterRoleBinding"),
        ]),
        crd_groups: Vec::new(),
        objects: vec![
            (
                rbac.into(),
                "ClusterRole".into(),
                String::new(),
                format!("system:{f}"),
            ),
            (
                rbac.into(),
                "ClusterRole".into(),
                String::new(),
                format!("system:{f}-aggregated-reader"),
            ),
            (
                rbac.into(),
                "ClusterRoleBinding".into(),
                String::new(),
                format!("{f}:system:auth-delegator"),
            ),
            (
                rbac.into(),
                "ClusterRoleBinding".into(),
                String::new(),
                format!("system:{f}"),
            ),
            (
                rbac.into(),
                "RoleBinding".into(),
                "kube-system".into(),
                format!("{f}-auth-reader"),
            ),
            (
                "apiregistration.k8s.io".into(),
                "APIService".into(),
                String::new(),
                "v1beta1.metrics.k8s.io".into(),
            ),
        ],
    }
}
