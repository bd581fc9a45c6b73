//! secrets-store-csi-driver (kubernetes-sigs/secrets-store-csi-driver, chart
//! `secrets-store-csi-driver`): the CSI driver that mounts the secrets a
//! SecretProviderClass names into pods, through a provider (kgen's SecretProviderClasses
//! are for the AWS provider: install the `secrets-store-csi-driver-provider-aws` preset
//! with it, in the same namespace). It installs the CRDs of `secrets-store.csi.x-k8s.io`
//! (SecretProviderClass, SecretProviderClassPodStatus), so with it in a cluster's
//! bootstrap kgen's KG306 no longer warns about the services' SecretProviderClasses.
//!
//! Checked against chart 1.5.6 (tag `v1.5.6`, commit 7ba4394; `values.yaml`,
//! `templates/`, `crds/`), the newest release that still installs on Kubernetes 1.29,
//! the oldest kgen supports: 1.6.0 declares `kubeVersion: >=1.30.0-0`, so Helm (and
//! Argo CD, which renders with the cluster's version) refuses it on 1.29. The values
//! kgen writes exist in 1.6.0 too.
//!
//! - A DaemonSet (`linux.*`) whose `secrets-store` container is `privileged` and mounts
//!   the kubelet's directories (`hostPath`): the namespace must be Pod Security
//!   `privileged`. kgen installs it in `kube-system`, as the driver's and the AWS
//!   provider's install guides do (no Pod Security label there on EKS, and no other
//!   namespace is made privileged for it); seed 002's `secrets-management` would have
//!   to be privileged, next to the Sealed Secrets controller.
//! - `linux.tolerations` defaults to one toleration with `operator: Exists` (every
//!   taint): a pod that mounts a secret can only start on a node running the driver.
//!   kgen keeps it and adds `linux.priorityClassName: system-node-critical`.
//! - `tokenRequests` (audiences `sts.amazonaws.com` and `pods.eks.amazonaws.com`): the
//!   AWS provider from 3.0.0 no longer mints the pods' tokens itself and needs the
//!   driver's CSIDriver to ask the kubelet for them (its README, "Separate CSI Driver
//!   Installation"; its own chart sets exactly these on its bundled driver).
//! - `linux.crds.enabled: false`: that switch only gates two Helm-hook Jobs
//!   (`templates/crds-upgrade-hook.yaml`, `keep-crds-upgrade-hook.yaml`) that
//!   `kubectl apply` the CRDs from an image and annotate them, with a ClusterRole that
//!   may write every CRD of the cluster. Argo CD renders with the chart's `crds/`
//!   included and applies them on every sync, so the Jobs would only repeat it.
//! - Cluster-scoped objects (fixed names, not derived from the release): the CSIDriver
//!   `secrets-store.csi.k8s.io` (`templates/csidriver.yaml`), the two CRDs, and with
//!   `rbac.install` (default on) the ClusterRoles `secretproviderclasses-role`,
//!   `secretproviderclasses-admin-role`, `secretproviderclasses-viewer-role`,
//!   `secretproviderclasspodstatuses-viewer-role` and the ClusterRoleBinding
//!   `secretproviderclasses-rolebinding`; with `tokenRequests`, the ClusterRole and
//!   ClusterRoleBinding `secretprovidertokenrequest-role(binding)`; with
//!   `syncSecret.enabled`, `secretprovidersyncing-role(binding)` (create/update/delete
//!   every Secret of the cluster); with `enableSecretRotation`,
//!   `secretproviderrotation-role(binding)` (read every Secret). The ServiceAccount is
//!   always `secrets-store-csi-driver`, in the release namespace. Nothing is written to
//!   another namespace. No PodSecurityPolicy (`rbac.pspEnabled` is off).

use serde_json::{json, Value};

use super::{kinds, resources_value, set, tolerations_value, Footprint, MinKubernetes, Preset};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "secrets-store-csi-driver",
    chart: "secrets-store-csi-driver",
    repo: "https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts",
    checked_version: "1.5.6",
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
        "sync_secrets",
        "rotation_interval",
    ],
    required: &[],
    recommended: &[],
    kubernetes: &[],
    min_kubernetes: Some(MIN_KUBERNETES),
    check_values: super::no_values_problems,
    values,
    footprint,
    custom_resources: super::no_custom_resources,
    render_time_fields: super::no_render_time_fields,
};

/// What its releases need of Kubernetes, from `charts/secrets-store-csi-driver/Chart.yaml`
/// at each release tag: `kubeVersion: ">=1.16.0-0"` up to v1.5.6, `">=1.30.0-0"` at v1.6.0
/// (commit 4960f96, the newest release; `main` says the same). Older releases never
/// exceed the oldest Kubernetes kgen supports; later ones keep the floor (a chart does
/// not lower its `kubeVersion`), so it holds from 1.6.0 on.
pub const MIN_KUBERNETES: MinKubernetes = MinKubernetes {
    since: "1.6.0",
    min: (1, 30),
    source: "its Chart.yaml says `kubeVersion: \">=1.30.0-0\"` since 1.6.0, and Argo CD renders the chart with the cluster's version",
};

/// The CSIDriver's name, which pods' CSI volumes name as their `driver`.
pub const DRIVER_NAME: &str = "secrets-store.csi.k8s.io";

fn values(s: &AddonSettings) -> Value {
    let tolerations = if s.tolerations.is_empty() {
        json!([{ "operator": "Exists" }])
    } else {
        tolerations_value(&s.tolerations)
    };
    let mut v = json!({
        "linux": {
            "crds": { "enabled": false },
            "priorityClassName": s.priority_class.as_deref().unwrap_or("system-node-critical"),
            "tolerations": tolerations,
        },
        "tokenRequests": [
            { "audience": "sts.amazonaws.com" },
            { "audience": "pods.eks.amazonaws.com" },
        ],
        "syncSecret": { "enabled": s.sync_secrets.unwrap_or(false) },
        "enableSecretRotation": s.rotation_interval.is_some(),
    });
    if let Some(r) = &s.resources {
        set(
            &mut v,
            &["linux", "driver", "resources"],
            resources_value(r),
        );
    }
    if !s.node_selector.is_empty() {
        set(&mut v, &["linux", "nodeSelector"], json!(s.node_selector));
    }
    if let Some(interval) = &s.rotation_interval {
        set(&mut v, &["rotationPollInterval"], json!(interval));
    }
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let rbac = "rbac.authorization.k8s.io";
    let crd = "apiextensions.k8s.io";
    let mut objects = vec![
        (
            "storage.k8s.io".to_string(),
            "CSIDriver".to_string(),
            String::new(),
            DRIVER_NAME.to_string(),
        ),
        (
            crd.into(),
            "CustomResourceDefinition".into(),
            String::new(),
            "secretproviderclasses.secrets-store.csi.x-k8s.io".into(),
        ),
        (
            crd.into(),
            "CustomResourceDefinition".into(),
            String::new(),
            "secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io".into(),
        ),
    ];
    let mut role = |name: &str| {
        objects.push((
            rbac.into(),
            "ClusterRole".into(),
            String::new(),
            name.into(),
        ));
    };
    role("secretproviderclasses-role");
    role("secretproviderclasses-admin-role");
    role("secretproviderclasses-viewer-role");
    role("secretproviderclasspodstatuses-viewer-role");
    role("secretprovidertokenrequest-role");
    if s.sync_secrets == Some(true) {
        role("secretprovidersyncing-role");
    }
    if s.rotation_interval.is_some() {
        role("secretproviderrotation-role");
    }
    let mut binding = |name: &str| {
        objects.push((
            rbac.into(),
            "ClusterRoleBinding".into(),
            String::new(),
            name.into(),
        ));
    };
    binding("secretproviderclasses-rolebinding");
    binding("secretprovidertokenrequest-rolebinding");
    if s.sync_secrets == Some(true) {
        binding("secretprovidersyncing-rolebinding");
    }
    if s.rotation_interval.is_some() {
        binding("secretproviderrotation-rolebinding");
    }
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds: kinds(&[
            (crd, "CustomResourceDefinition"),
            (rbac, "ClusterRole"),
            (rbac, "ClusterRoleBinding"),
            ("storage.k8s.io", "CSIDriver"),
        ]),
        crd_groups: vec!["secrets-store.csi.x-k8s.io".into()],
        objects,
        ..Footprint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, TaintEffect, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "secrets-store-csi-driver".into(),
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
                "linux": {
                    "crds": { "enabled": false },
                    "priorityClassName": "system-node-critical",
                    "tolerations": [{ "operator": "Exists" }],
                },
                "tokenRequests": [
                    { "audience": "sts.amazonaws.com" },
                    { "audience": "pods.eks.amazonaws.com" },
                ],
                "syncSecret": { "enabled": false },
                "enableSecretRotation": false,
            })
        );
    }

    #[test]
    fn values_with_every_setting() {
        let mut s = settings();
        s.sync_secrets = Some(true);
        s.rotation_interval = Some("2m".into());
        s.priority_class = Some("node-agents".into());
        s.resources = Some(Resources {
            requests: CpuMem {
                cpu: Some("50m".into()),
                memory: Some("128Mi".into()),
            },
            limits: CpuMem {
                cpu: None,
                memory: Some("256Mi".into()),
            },
        });
        s.tolerations = vec![Toleration {
            key: Some("dedicated".into()),
            operator: TolerationOperator::Equal,
            value: Some("gpu".into()),
            effect: Some(TaintEffect::NoSchedule),
            seconds: None,
        }];
        s.node_selector = [("kubernetes.io/arch".to_string(), "amd64".to_string())].into();
        assert_eq!(
            values(&s),
            json!({
                "linux": {
                    "crds": { "enabled": false },
                    "priorityClassName": "node-agents",
                    "tolerations": [{
                        "key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule",
                    }],
                    "driver": { "resources": {
                        "requests": { "cpu": "50m", "memory": "128Mi" },
                        "limits": { "memory": "256Mi" },
                    } },
                    "nodeSelector": { "kubernetes.io/arch": "amd64" },
                },
                "tokenRequests": [
                    { "audience": "sts.amazonaws.com" },
                    { "audience": "pods.eks.amazonaws.com" },
                ],
                "syncSecret": { "enabled": true },
                "enableSecretRotation": true,
                "rotationPollInterval": "2m",
            })
        );
    }

    fn names(f: &Footprint, kind: &str) -> Vec<String> {
        f.objects
            .iter()
            .filter(|o| o.1 == kind)
            .map(|o| {
                assert_eq!(o.2, "", "{o:?} is cluster-scoped");
                o.3.clone()
            })
            .collect()
    }

    #[test]
    fn footprint_by_default() {
        let f = footprint(&settings());
        assert!(f.namespaces.is_empty());
        assert_eq!(f.crd_groups, ["secrets-store.csi.x-k8s.io"]);
        assert_eq!(
            f.cluster_kinds,
            kinds(&[
                ("apiextensions.k8s.io", "CustomResourceDefinition"),
                ("rbac.authorization.k8s.io", "ClusterRole"),
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
                ("storage.k8s.io", "CSIDriver"),
            ])
        );
        assert_eq!(names(&f, "CSIDriver"), ["secrets-store.csi.k8s.io"]);
        assert_eq!(
            names(&f, "CustomResourceDefinition"),
            [
                "secretproviderclasses.secrets-store.csi.x-k8s.io",
                "secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io",
            ]
        );
        assert_eq!(
            names(&f, "ClusterRole"),
            [
                "secretproviderclasses-role",
                "secretproviderclasses-admin-role",
                "secretproviderclasses-viewer-role",
                "secretproviderclasspodstatuses-viewer-role",
                "secretprovidertokenrequest-role",
            ]
        );
        assert_eq!(
            names(&f, "ClusterRoleBinding"),
            [
                "secretproviderclasses-rolebinding",
                "secretprovidertokenrequest-rolebinding",
            ]
        );
    }

    #[test]
    fn footprint_with_sync_and_rotation_and_any_release_name() {
        let mut s = settings();
        s.release = "csi".into();
        s.sync_secrets = Some(true);
        s.rotation_interval = Some("1h".into());
        let f = footprint(&s);
        // The chart names these objects the same whatever the release.
        assert_eq!(
            names(&f, "ClusterRole")[5..],
            ["secretprovidersyncing-role", "secretproviderrotation-role"]
        );
        assert_eq!(
            names(&f, "ClusterRoleBinding")[2..],
            [
                "secretprovidersyncing-rolebinding",
                "secretproviderrotation-rolebinding",
            ]
        );
        assert_eq!(names(&f, "CSIDriver"), ["secrets-store.csi.k8s.io"]);
    }
}
