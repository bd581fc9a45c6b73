//! secrets-store-csi-driver-provider-aws (aws/secrets-store-csi-driver-provider-aws,
//! chart `secrets-store-csi-driver-provider-aws`): the AWS provider (ASCP) of the
//! Secrets Store CSI driver, which reads Secrets Manager secrets and SSM parameters with
//! the mounting pod's own identity (IRSA or EKS Pod Identity). It is one half of a pair:
//! the driver (preset `secrets-store-csi-driver`) must run on the same nodes and in the
//! same namespace, since the provider talks to it over a socket in the host's
//! `/var/run/secrets-store-csi-providers`.
//!
//! Checked against chart 3.1.1 (tag `3.1.1`, commit 5f47771; `Chart.yaml`,
//! `Chart.lock`, `values.yaml`, `templates/`):
//!
//! - The chart bundles the driver as a dependency, on by default
//!   (`secrets-store-csi-driver.install: true`, driver chart 1.6.0 in 3.1.1's lock).
//!   kgen turns it off: the driver is its own preset, and two releases of it would
//!   both create the CSIDriver `secrets-store.csi.k8s.io` and its fixed-name
//!   ClusterRoles. The driver preset sets the `tokenRequests` this provider needs since
//!   3.0.0 (it no longer mints the pods' tokens itself).
//! - A DaemonSet (`templates/daemonset.yaml`) with `hostPath` volumes (the provider
//!   socket directory, the kubelet's pods directory with `HostToContainer`
//!   propagation): its container is not privileged, but `hostPath` alone needs Pod
//!   Security `privileged` (baseline forbids it). Default `tolerations: []`: kgen
//!   tolerates every taint, as the driver does, so that every node that mounts secrets
//!   has the provider, and adds `priorityClassName: system-node-critical`.
//! - `templates/rbac.yaml` (`rbac.install`, default on): the ClusterRole
//!   `<fullname>-cluster-role` (get ServiceAccounts, and pods and nodes while
//!   `awsRegion` is empty: the provider then reads the node's region), its
//!   ClusterRoleBinding `<fullname>-cluster-role-binding`, and the ServiceAccount
//!   `<fullname>` in the release namespace; `provider.fullname` is the usual one (the
//!   release name when it contains the chart's name). Nothing else outside the release
//!   namespace, no CRD.
//! - `awsRegion` is left empty: kgen's SecretProviderClasses carry `[platform]
//!   aws_region` themselves when it is set, and the provider falls back to the node's
//!   region.
//! - The provider needs no IAM role of its own (no `iam_role`).

use serde_json::{json, Value};

use super::helm_names::fullname;
use super::{kinds, resources_value, set, tolerations_value, Footprint, Preset};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "secrets-store-csi-driver-provider-aws",
    chart: "secrets-store-csi-driver-provider-aws",
    repo: "https://aws.github.io/secrets-store-csi-driver-provider-aws",
    checked_version: "3.1.1",
    namespace: "kube-system",
    pod_security: PodSecurityLevel::Privileged,
    server_side_apply: false,
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
    custom_resources: super::no_custom_resources,
    render_time_fields: super::no_render_time_fields,
};

fn values(s: &AddonSettings) -> Value {
    let tolerations = if s.tolerations.is_empty() {
        json!([{ "operator": "Exists" }])
    } else {
        tolerations_value(&s.tolerations)
    };
    let mut v = json!({
        "secrets-store-csi-driver": { "install": false },
        "priorityClassName": s.priority_class.as_deref().unwrap_or("system-node-critical"),
        "tolerations": tolerations,
    });
    if let Some(r) = &s.resources {
        set(&mut v, &["resources"], resources_value(r));
    }
    if !s.node_selector.is_empty() {
        set(&mut v, &["nodeSelector"], json!(s.node_selector));
    }
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = fullname(&s.release, PRESET.chart);
    let rbac = "rbac.authorization.k8s.io";
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds: kinds(&[(rbac, "ClusterRole"), (rbac, "ClusterRoleBinding")]),
        crd_groups: Vec::new(),
        objects: vec![
            (
                rbac.into(),
                "ClusterRole".into(),
                String::new(),
                format!("{f}-cluster-role"),
            ),
            (
                rbac.into(),
                "ClusterRoleBinding".into(),
                String::new(),
                format!("{f}-cluster-role-binding"),
            ),
        ],
        ..Footprint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "secrets-store-csi-driver-provider-aws".into(),
            namespace: "kube-system".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values() {
        assert_eq!(
            values(&settings()),
            json!({
                "secrets-store-csi-driver": { "install": false },
                "priorityClassName": "system-node-critical",
                "tolerations": [{ "operator": "Exists" }],
            })
        );
    }

    #[test]
    fn values_with_every_setting() {
        let mut s = settings();
        s.priority_class = Some("node-agents".into());
        s.resources = Some(Resources {
            requests: CpuMem {
                cpu: Some("50m".into()),
                memory: Some("100Mi".into()),
            },
            limits: CpuMem {
                cpu: None,
                memory: Some("200Mi".into()),
            },
        });
        s.tolerations = vec![Toleration {
            key: Some("CriticalAddonsOnly".into()),
            operator: TolerationOperator::Exists,
            value: None,
            effect: None,
            seconds: None,
        }];
        s.node_selector = [("kubernetes.io/arch".to_string(), "arm64".to_string())].into();
        assert_eq!(
            values(&s),
            json!({
                "secrets-store-csi-driver": { "install": false },
                "priorityClassName": "node-agents",
                "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists" }],
                "resources": {
                    "requests": { "cpu": "50m", "memory": "100Mi" },
                    "limits": { "memory": "200Mi" },
                },
                "nodeSelector": { "kubernetes.io/arch": "arm64" },
            })
        );
    }

    #[test]
    fn footprint_names_follow_the_release() {
        let f = footprint(&settings());
        assert!(f.namespaces.is_empty());
        assert!(f.crd_groups.is_empty());
        assert_eq!(
            f.cluster_kinds,
            kinds(&[
                ("rbac.authorization.k8s.io", "ClusterRole"),
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            ])
        );
        let names: Vec<&str> = f.objects.iter().map(|o| o.3.as_str()).collect();
        assert_eq!(
            names,
            [
                "secrets-store-csi-driver-provider-aws-cluster-role",
                "secrets-store-csi-driver-provider-aws-cluster-role-binding",
            ]
        );
        let mut s = settings();
        s.release = "ascp".into();
        let names: Vec<String> = footprint(&s).objects.into_iter().map(|o| o.3).collect();
        assert_eq!(
            names,
            [
                "ascp-secrets-store-csi-driver-provider-aws-cluster-role",
                "ascp-secrets-store-csi-driver-provider-aws-cluster-role-binding",
            ]
        );
    }
}
