//! Sealed Secrets (bitnami-labs/sealed-secrets, chart `sealed-secrets` from
//! https://bitnami-labs.github.io/sealed-secrets): a controller that decrypts
//! `SealedSecret`s (encrypted with its public key by `kubeseal`, safe to commit) into
//! Kubernetes Secrets. A SealedSecret holds only ciphertext, which is why a platform may
//! keep it in Git next to kgen's output.
//!
//! Checked against chart 2.18.5 (tag `helm-v2.18.5`, commit e12ae8217, controller
//! 0.36.6; `helm/sealed-secrets/`: `values.yaml`, `README.md`, `templates/_helpers.tpl`,
//! `deployment.yaml`, `cluster-role.yaml`, `cluster-role-binding.yaml`, `role.yaml`,
//! `role-binding.yaml`, `service-account.yaml`, `pdb.yaml`, `tls-secret.yaml`, and
//! `crds/bitnami.com_sealedsecrets.yaml`).
//!
//! - Namespace: `secrets-management`, as the seed's platform runs it, rather than the
//!   `kube-system` that `kubeseal` assumes: the sealing keys (Secrets labelled
//!   `sealedsecrets.bitnami.com/sealed-secrets-key`, which must be backed up) then live
//!   in a namespace of their own, whose Secrets only the platform team reads, under
//!   the `restricted` Pod Security level. `kubeseal` needs
//!   `--controller-namespace secrets-management --controller-name sealed-secrets`
//!   (the chart names the controller after its fullname, `sealed-secrets` for the
//!   default release; `kubeseal` assumes `sealed-secrets-controller`).
//! - One replica: the Deployment hard-codes `replicas: 1` (the controller has no leader
//!   election): no `replicas` setting, and no PodDisruptionBudget (`pdb.create`), which
//!   would block every drain of its node.
//! - `priorityClassName` (kgen: `system-cluster-critical`: new and changed Secrets wait
//!   for it), `resources`, `tolerations`, `nodeSelector` are top-level.
//! - Pod Security: the chart's container is non-root (1001), read-only and drops all
//!   capabilities, but neither forbids privilege escalation nor sets a seccomp
//!   profile, which `restricted` requires: kgen adds
//!   `containerSecurityContext.allowPrivilegeEscalation: false` and
//!   `podSecurityContext.seccompProfile.type: RuntimeDefault`.
//! - Cluster-scoped: the CRD `sealedsecrets.bitnami.com` from `crds/` (7 kB), the
//!   ClusterRole `secrets-unsealer` (`rbac.clusterRoleName`, not named after the
//!   release: one release per cluster) and the ClusterRoleBinding `<fullname>`. The
//!   Roles and RoleBindings `<fullname>-key-admin` and `<fullname>-service-proxier`
//!   (which lets any authenticated user fetch the public certificate through the API
//!   server's service proxy) are in the release namespace.
//! - No AWS access: no IAM role.

use serde_json::{json, Value};

use super::{
    crd, helm_fullname, kinds, object, resources_or, set, tolerations_value, Footprint, Preset,
    APIEXTENSIONS, RBAC, SYSTEM_CLUSTER_CRITICAL,
};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "sealed-secrets",
    chart: "sealed-secrets",
    repo: "https://bitnami-labs.github.io/sealed-secrets",
    checked_version: "2.18.5",
    namespace: "secrets-management",
    pod_security: PodSecurityLevel::Restricted,
    server_side_apply: false,
    // Its CRD before the SealedSecrets of the services.
    wave: crate::render::argocd::bootstrap_wave::OPERATORS,
    service_account: None,
    settings: &[
        "resources",
        "priority_class",
        "tolerations",
        "node_selector",
    ],
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

/// The chart's ClusterRole (`rbac.clusterRoleName`).
const CLUSTER_ROLE: &str = "secrets-unsealer";

fn values(s: &AddonSettings) -> Value {
    let mut v = json!({
        "priorityClassName": s.priority_class.as_deref().unwrap_or(SYSTEM_CLUSTER_CRITICAL),
        "resources": resources_or(s, json!({ "requests": { "cpu": "10m", "memory": "64Mi" } })),
        "podSecurityContext": { "seccompProfile": { "type": "RuntimeDefault" } },
        "containerSecurityContext": { "allowPrivilegeEscalation": false },
    });
    if !s.tolerations.is_empty() {
        set(&mut v, &["tolerations"], tolerations_value(&s.tolerations));
    }
    if !s.node_selector.is_empty() {
        set(&mut v, &["nodeSelector"], json!(s.node_selector));
    }
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = helm_fullname(&s.release, "sealed-secrets");
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds: kinds(&[
            (APIEXTENSIONS, "CustomResourceDefinition"),
            (RBAC, "ClusterRole"),
            (RBAC, "ClusterRoleBinding"),
        ]),
        crd_groups: vec!["bitnami.com".into()],
        objects: vec![
            crd("sealedsecrets.bitnami.com"),
            object(RBAC, "ClusterRole", "", CLUSTER_ROLE),
            object(RBAC, "ClusterRoleBinding", "", f),
        ],
        ..Footprint::default()
    }
}

/// A ServiceMonitor with `metrics.serviceMonitor.enabled` (off by default; chart
/// 2.18.5, `helm/sealed-secrets/templates/servicemonitor.yaml`).
fn custom_resources(values: &serde_json::Value) -> Vec<super::CustomResource> {
    super::service_monitor_when(values, &["metrics", "serviceMonitor", "enabled"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, TaintEffect, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "sealed-secrets".into(),
            namespace: "secrets-management".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values_are_restricted_and_critical() {
        assert_eq!(
            values(&settings()),
            json!({
                "priorityClassName": "system-cluster-critical",
                "resources": { "requests": { "cpu": "10m", "memory": "64Mi" } },
                "podSecurityContext": { "seccompProfile": { "type": "RuntimeDefault" } },
                "containerSecurityContext": { "allowPrivilegeEscalation": false },
            })
        );
    }

    #[test]
    fn settings_become_values() {
        let s = AddonSettings {
            priority_class: Some("platform".into()),
            resources: Some(Resources {
                requests: CpuMem {
                    cpu: Some("20m".into()),
                    memory: Some("32Mi".into()),
                },
                limits: CpuMem {
                    cpu: None,
                    memory: Some("128Mi".into()),
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
                "priorityClassName": "platform",
                "resources": {
                    "requests": { "cpu": "20m", "memory": "32Mi" },
                    "limits": { "memory": "128Mi" },
                },
                "podSecurityContext": { "seccompProfile": { "type": "RuntimeDefault" } },
                "containerSecurityContext": { "allowPrivilegeEscalation": false },
                "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule" }],
                "nodeSelector": { "role": "system" },
            })
        );
    }

    #[test]
    fn footprint_is_its_crd_and_cluster_role() {
        let f = footprint(&settings());
        assert!(f.namespaces.is_empty());
        assert_eq!(f.crd_groups, vec!["bitnami.com".to_string()]);
        assert_eq!(
            f.objects,
            vec![
                crd("sealedsecrets.bitnami.com"),
                object(RBAC, "ClusterRole", "", "secrets-unsealer"),
                object(RBAC, "ClusterRoleBinding", "", "sealed-secrets"),
            ]
        );
        let other = footprint(&AddonSettings {
            release: "sealer".into(),
            ..settings()
        });
        assert_eq!(
            other.objects[2],
            object(RBAC, "ClusterRoleBinding", "", "sealer-sealed-secrets")
        );
        assert_eq!(other.objects[1].3, "secrets-unsealer");
    }
}
