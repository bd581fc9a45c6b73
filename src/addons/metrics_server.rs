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

use super::{
    controller_values, helm_fullname, kinds, merge, object, set, Footprint, Preset,
    CONTROLLER_SETTINGS, RBAC,
};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

/// API group of APIServices.
const APIREGISTRATION: &str = "apiregistration.k8s.io";

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
    required: &[],
    recommended: &[],
    kubernetes: &[],
    min_kubernetes: None,
    check_values: super::no_values_problems,
    values,
    footprint,
    custom_resources,
    render_time_fields: super::no_render_time_fields,
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

fn footprint(s: &AddonSettings) -> Footprint {
    // The chart's `metrics-server.fullname` is `helm create`'s: cut to 63 like Helm.
    let f = helm_fullname(&s.release, "metrics-server");
    Footprint {
        namespaces: vec!["kube-system".into()],
        cluster_kinds: kinds(&[
            (APIREGISTRATION, "APIService"),
            (RBAC, "ClusterRole"),
            (RBAC, "ClusterRoleBinding"),
        ]),
        crd_groups: Vec::new(),
        objects: vec![
            object(RBAC, "ClusterRole", "", format!("system:{f}")),
            object(
                RBAC,
                "ClusterRole",
                "",
                format!("system:{f}-aggregated-reader"),
            ),
            object(
                RBAC,
                "ClusterRoleBinding",
                "",
                format!("{f}:system:auth-delegator"),
            ),
            object(RBAC, "ClusterRoleBinding", "", format!("system:{f}")),
            object(
                RBAC,
                "RoleBinding",
                "kube-system",
                format!("{f}-auth-reader"),
            ),
            object(APIREGISTRATION, "APIService", "", "v1beta1.metrics.k8s.io"),
        ],
        ..Footprint::default()
    }
}

/// A ServiceMonitor with `serviceMonitor.enabled` and `metrics.enabled` (both off by
/// default; chart 3.13.1, `charts/metrics-server/templates/servicemonitor.yaml`).
fn custom_resources(values: &serde_json::Value) -> Vec<super::CustomResource> {
    if !super::helm_true(values, &["metrics", "enabled"], false) {
        return Vec::new();
    }
    super::service_monitor_when(values, &["serviceMonitor", "enabled"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, TaintEffect, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "metrics-server".into(),
            namespace: "kube-system".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values_are_two_replicas_with_a_budget() {
        assert_eq!(
            values(&settings()),
            json!({
                "replicas": 2,
                "podDisruptionBudget": { "enabled": true, "maxUnavailable": 1 },
            })
        );
    }

    #[test]
    fn one_replica_has_no_budget() {
        let s = AddonSettings {
            replicas: Some(1),
            ..settings()
        };
        assert_eq!(values(&s), json!({ "replicas": 1 }));
    }

    #[test]
    fn values_with_every_setting() {
        let s = AddonSettings {
            replicas: Some(3),
            priority_class: Some("platform-critical".into()),
            resources: Some(Resources {
                requests: CpuMem {
                    cpu: Some("100m".into()),
                    memory: Some("200Mi".into()),
                },
                limits: CpuMem {
                    cpu: None,
                    memory: Some("400Mi".into()),
                },
            }),
            tolerations: vec![Toleration {
                key: Some("CriticalAddonsOnly".into()),
                operator: TolerationOperator::Exists,
                value: None,
                effect: Some(TaintEffect::NoSchedule),
                seconds: None,
            }],
            node_selector: [("role".to_string(), "system".to_string())].into(),
            ..settings()
        };
        assert_eq!(
            values(&s),
            json!({
                "replicas": 3,
                "podDisruptionBudget": { "enabled": true, "maxUnavailable": 1 },
                "priorityClassName": "platform-critical",
                "resources": {
                    "requests": { "cpu": "100m", "memory": "200Mi" },
                    "limits": { "memory": "400Mi" },
                },
                "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule" }],
                "nodeSelector": { "role": "system" },
            })
        );
    }

    #[test]
    fn footprint_names_its_roles_and_api_service() {
        let f = footprint(&settings());
        assert_eq!(f.namespaces, ["kube-system"]);
        assert!(f.crd_groups.is_empty());
        assert_eq!(
            f.cluster_kinds,
            kinds(&[
                (APIREGISTRATION, "APIService"),
                (RBAC, "ClusterRole"),
                (RBAC, "ClusterRoleBinding"),
            ])
        );
        let shown: Vec<String> = f
            .objects
            .iter()
            .map(|(_, k, ns, n)| format!("{k} {ns}/{n}"))
            .collect();
        assert_eq!(
            shown,
            [
                "ClusterRole /system:metrics-server",
                "ClusterRole /system:metrics-server-aggregated-reader",
                "ClusterRoleBinding /metrics-server:system:auth-delegator",
                "ClusterRoleBinding /system:metrics-server",
                "RoleBinding kube-system/metrics-server-auth-reader",
                "APIService /v1beta1.metrics.k8s.io",
            ]
        );
    }

    #[test]
    fn footprint_of_another_release() {
        let f = footprint(&AddonSettings {
            release: "metrics".into(),
            ..settings()
        });
        assert_eq!(f.objects[0].3, "system:metrics-metrics-server");
        assert_eq!(f.objects[4].3, "metrics-metrics-server-auth-reader");
        assert_eq!(f.objects[4].2, "kube-system");
        // The APIService is named after its group, not the release: one per cluster.
        assert_eq!(f.objects[5].3, "v1beta1.metrics.k8s.io");
    }

    #[test]
    fn long_release_names_are_cut_to_63_like_helm() {
        // `<release>-metrics-server` over 63 characters: Helm's fullname cuts it (and a
        // trailing `-`), and the objects are named from the cut name.
        let release = "r".repeat(54);
        let f = footprint(&AddonSettings {
            release: release.clone(),
            ..settings()
        });
        let fullname = format!("{release}-metrics-"); // 63, then `-` trimmed
        assert_eq!(fullname.len(), 63);
        let fullname = fullname.trim_end_matches('-');
        assert_eq!(f.objects[0].3, format!("system:{fullname}"));
        assert_eq!(f.objects[2].3, format!("{fullname}:system:auth-delegator"));
        // A release containing the chart's name is the full name, cut the same way.
        let release = format!("{}-metrics-server", "m".repeat(60));
        let f = footprint(&AddonSettings {
            release: release.clone(),
            ..settings()
        });
        assert_eq!(f.objects[3].3, format!("system:{}", &release[..63]));
    }
}
