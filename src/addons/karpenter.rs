//! karpenter (aws/karpenter-provider-aws, chart `charts/karpenter`, published as the OCI
//! chart `oci://public.ecr.aws/karpenter/karpenter`): node autoscaling for EKS, which
//! launches EC2 instances for pending pods from NodePools and EC2NodeClasses.
//!
//! Checked against chart 1.14.1: the tree at tag `v1.14.1` (commit bde0065, on the
//! release branch: in git its `Chart.yaml` still says 1.13.0, the release pipeline
//! stamps the version; `main`'s "docs: update for patch release v1.14.1" carries
//! later, unreleased values such as `settings.awsFeatureGates`). Files read:
//! `charts/karpenter/values.yaml`, `templates/`, `crds/` (symbolic links to
//! `pkg/apis/crds/`), `charts/karpenter-crd/`, and the upgrade guide and getting-started
//! guide under `website/content/en/docs/`. Karpenter 1.14 supports Kubernetes 1.26 to
//! 1.36 (`hack/docs/compatibilitymatrix_gen/compatibility.yaml`).
//!
//! - Namespace `kube-system`, as upstream recommends since 0.33: there Karpenter's API
//!   requests fall under the `system-leader-election` and `kube-system-service-accounts`
//!   FlowSchemas (API Priority and Fairness); elsewhere it needs FlowSchemas of its own.
//!   Its pods meet the `restricted` Pod Security Standard (non-root, no capabilities,
//!   RuntimeDefault seccomp), for a user who installs it in a namespace of its own.
//! - `settings.clusterName` is required by the chart (`templates/deployment.yaml` fails
//!   to render without it) and is the EKS cluster's name: kgen's `cluster_name`.
//!   `settings.interruptionQueue`: `interruption_queue`, by default the same name, as
//!   upstream's CloudFormation template names the SQS queue.
//! - `replicas: 2` (leader election; the chart's `podAntiAffinity` puts them on two
//!   nodes) with the chart's PodDisruptionBudget `karpenter` (`podDisruptionBudget`,
//!   `maxUnavailable: 1`, always rendered). `priorityClassName: system-cluster-critical`
//!   and the `CriticalAddonsOnly` toleration are the chart's defaults, written out.
//!   `controller.resources` as upstream's getting-started guide installs it (1 CPU and
//!   1Gi, requests equal to limits): the chart sets none, and passes the memory limit
//!   to the controller (`MEMORY_LIMIT`).
//! - The ServiceAccount is named after the release (`serviceAccount.name`; the chart's
//!   default is `karpenter.fullname`, the same for the release `karpenter`), for the IAM
//!   role's trust (IRSA, `serviceAccount.annotations`) or the Pod Identity association
//!   (seed 003). Karpenter needs no value for Pod Identity.
//! - CRDs: the chart installs them from `crds/`: `nodepools.karpenter.sh`,
//!   `nodeclaims.karpenter.sh`, `nodeoverlays.karpenter.sh`,
//!   `ec2nodeclasses.karpenter.k8s.aws`, and `capacitybuffers.autoscaling.x-k8s.io`
//!   (the Kubernetes autoscaling SIG's CapacityBuffer, new in 1.14, behind the
//!   `capacityBuffer` feature gate). Helm never upgrades `crds/`, hence upstream's advice
//!   to manage them with the separate `karpenter-crd` chart; Argo CD, however, renders
//!   with CRDs included and applies them on every sync, so with kgen they are upgraded
//!   with the chart. The largest (ec2nodeclasses, 57 KB) fits client-side apply's
//!   annotation, so no server-side apply is needed.
//! - Outside its namespace: the ClusterRoles `<fullname>`, `<fullname>-core`,
//!   `<fullname>-admin` (aggregated to `admin`), the ClusterRoleBindings `<fullname>` and
//!   `<fullname>-core`, and the Role and RoleBinding `<fullname>-dns` in `kube-system`
//!   (read the `kube-dns` Service), hard-coded there whatever the release namespace;
//!   `karpenter.fullname` is the usual one. No webhook (gone since 1.0), no
//!   ServiceMonitor (`serviceMonitor.enabled` off).

use serde_json::{json, Value};

use super::helm_names::fullname;
use super::{
    controller_values, kinds, merge, Footprint, KubeSupport, Needed, Preset, ServiceAccount,
};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "karpenter",
    chart: "karpenter",
    repo: "oci://public.ecr.aws/karpenter",
    checked_version: "1.14.1",
    namespace: "kube-system",
    pod_security: PodSecurityLevel::Restricted,
    server_side_apply: false,
    wave: crate::render::argocd::bootstrap_wave::OPERATORS,
    service_account: Some(ServiceAccount {
        annotations: &["serviceAccount", "annotations"],
        name: "{release}",
        name_path: &["serviceAccount", "name"],
    }),
    settings: &[
        "replicas",
        "resources",
        "priority_class",
        "tolerations",
        "node_selector",
        "cluster_name",
        "interruption_queue",
    ],
    required: &[Needed {
        key: "cluster_name",
        values_path: &["settings", "clusterName"],
        why: "the chart refuses to render without `settings.clusterName`",
    }],
    recommended: &[],
    kubernetes: KUBERNETES,
    min_kubernetes: None,
    check_values: super::no_values_problems,
    values,
    footprint,
    custom_resources: super::no_custom_resources,
    render_time_fields: super::no_render_time_fields,
};

/// The Kubernetes versions each Karpenter release runs on: `MinK8sVersion` and
/// `MaxK8sVersion` of `pkg/providers/version/version.go`, read at every `v1.*` tag up to
/// v1.14.1. Its `providers.version` controller checks the cluster's version against
/// them every five minutes (`validateK8sVersion`) and reports "karpenter is not
/// compatible with kubernetes version" outside them. (The compatibility table of the docs,
/// `hack/docs/compatibilitymatrix_gen/compatibility.yaml`, rounds to minor releases:
/// it gives 1.6.x up to 1.34, but 1.6.0-1.6.5 and 1.7.0-1.7.3 stop at 1.33.) The chart's
/// version is the controller's.
pub const KUBERNETES: &[KubeSupport] = &[
    kube("1.0.0", "1.0.4", (1, 25), (1, 30)),
    kube("1.0.5", "1.1.10", (1, 25), (1, 31)),
    kube("1.2.0", "1.4.4", (1, 25), (1, 32)),
    kube("1.5.0", "1.6.5", (1, 26), (1, 33)),
    kube("1.6.6", "1.6.8", (1, 26), (1, 34)),
    kube("1.7.0", "1.7.3", (1, 26), (1, 33)),
    kube("1.7.4", "1.8.8", (1, 26), (1, 34)),
    kube("1.9.0", "1.12.2", (1, 26), (1, 35)),
    kube("1.13.0", "1.14.1", (1, 26), (1, 36)),
];

const fn kube(
    first: &'static str,
    last: &'static str,
    min: (u32, u32),
    max: (u32, u32),
) -> KubeSupport {
    KubeSupport {
        first,
        last,
        min: Some(min),
        max: Some(max),
        source: "Karpenter checks the cluster's version against its `MinK8sVersion` and `MaxK8sVersion` and refuses others (\"karpenter is not compatible with kubernetes version\")",
    }
}

fn values(s: &AddonSettings) -> Value {
    let mut settings = json!({});
    if let Some(name) = &s.cluster_name {
        settings["clusterName"] = json!(name);
    }
    let queue = s
        .interruption_queue
        .as_ref()
        .or(s.cluster_name.as_ref())
        .unwrap_or(&s.cluster);
    settings["interruptionQueue"] = json!(queue);
    let mut v = json!({
        "settings": settings,
        "replicas": 2,
        "priorityClassName": "system-cluster-critical",
        "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists" }],
        "serviceAccount": { "create": true, "name": s.release },
    });
    // The controller's resources are under `controller`; the rest at the usual paths.
    let mut common = controller_values(s, &[], "replicas");
    let resources = common
        .as_object_mut()
        .and_then(|m| m.remove("resources"))
        .unwrap_or_else(|| {
            json!({
                "requests": { "cpu": "1", "memory": "1Gi" },
                "limits": { "cpu": "1", "memory": "1Gi" },
            })
        });
    v["controller"] = json!({ "resources": resources });
    merge(&mut v, common);
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = fullname(&s.release, PRESET.chart);
    let rbac = "rbac.authorization.k8s.io";
    let crd = "apiextensions.k8s.io";
    let mut objects = Vec::new();
    for name in [f.clone(), format!("{f}-core"), format!("{f}-admin")] {
        objects.push((rbac.into(), "ClusterRole".into(), String::new(), name));
    }
    for name in [f.clone(), format!("{f}-core")] {
        objects.push((
            rbac.into(),
            "ClusterRoleBinding".into(),
            String::new(),
            name,
        ));
    }
    for kind in ["Role", "RoleBinding"] {
        objects.push((
            rbac.into(),
            kind.into(),
            "kube-system".into(),
            format!("{f}-dns"),
        ));
    }
    for name in [
        "capacitybuffers.autoscaling.x-k8s.io",
        "ec2nodeclasses.karpenter.k8s.aws",
        "nodeclaims.karpenter.sh",
        "nodeoverlays.karpenter.sh",
        "nodepools.karpenter.sh",
    ] {
        objects.push((
            crd.into(),
            "CustomResourceDefinition".into(),
            String::new(),
            name.into(),
        ));
    }
    Footprint {
        namespaces: vec!["kube-system".into()],
        cluster_kinds: kinds(&[
            (crd, "CustomResourceDefinition"),
            (rbac, "ClusterRole"),
            (rbac, "ClusterRoleBinding"),
        ]),
        crd_groups: vec![
            "autoscaling.x-k8s.io".into(),
            "karpenter.k8s.aws".into(),
            "karpenter.sh".into(),
        ],
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
            release: "karpenter".into(),
            namespace: "kube-system".into(),
            cluster: "prod".into(),
            cluster_name: Some("myapp-prod".into()),
            ..Default::default()
        }
    }

    #[test]
    fn default_values() {
        assert_eq!(
            values(&settings()),
            json!({
                "settings": { "clusterName": "myapp-prod", "interruptionQueue": "myapp-prod" },
                "replicas": 2,
                "priorityClassName": "system-cluster-critical",
                "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists" }],
                "serviceAccount": { "create": true, "name": "karpenter" },
                "controller": { "resources": {
                    "requests": { "cpu": "1", "memory": "1Gi" },
                    "limits": { "cpu": "1", "memory": "1Gi" },
                } },
            })
        );
    }

    #[test]
    fn without_cluster_name_the_chart_would_refuse_to_render() {
        // `settings.clusterName` stays unset (the resolver must require `cluster_name`);
        // the queue falls back to kgen's name of the cluster.
        let mut s = settings();
        s.cluster_name = None;
        assert_eq!(
            values(&s)["settings"],
            json!({ "interruptionQueue": "prod" })
        );
    }

    #[test]
    fn values_with_every_setting() {
        let mut s = settings();
        s.interruption_queue = Some("karpenter-interruptions".into());
        s.replicas = Some(3);
        s.priority_class = Some("platform-critical".into());
        s.resources = Some(Resources {
            requests: CpuMem {
                cpu: Some("500m".into()),
                memory: Some("512Mi".into()),
            },
            limits: CpuMem {
                cpu: None,
                memory: Some("512Mi".into()),
            },
        });
        s.tolerations = vec![Toleration {
            key: Some("CriticalAddonsOnly".into()),
            operator: TolerationOperator::Equal,
            value: Some("true".into()),
            effect: Some(TaintEffect::NoSchedule),
            seconds: None,
        }];
        s.node_selector = [("role".to_string(), "system".to_string())].into();
        s.irsa_role = Some("arn:aws:iam::123456789012:role/karpenter".into());
        assert_eq!(
            values(&s),
            json!({
                "settings": {
                    "clusterName": "myapp-prod",
                    "interruptionQueue": "karpenter-interruptions",
                },
                "replicas": 3,
                "priorityClassName": "platform-critical",
                "tolerations": [{
                    "key": "CriticalAddonsOnly", "operator": "Equal", "value": "true", "effect": "NoSchedule",
                }],
                "serviceAccount": { "create": true, "name": "karpenter" },
                "controller": { "resources": {
                    "requests": { "cpu": "500m", "memory": "512Mi" },
                    "limits": { "memory": "512Mi" },
                } },
                "nodeSelector": { "role": "system" },
            })
        );
    }

    #[test]
    fn identity() {
        let sa = PRESET.service_account.unwrap();
        assert_eq!(sa.annotations, ["serviceAccount", "annotations"]);
        assert_eq!(sa.name.replace("{release}", "karpenter"), "karpenter");
        assert_eq!(PRESET.repo, "oci://public.ecr.aws/karpenter");
    }

    #[test]
    fn footprint_by_default() {
        let f = footprint(&settings());
        assert_eq!(f.namespaces, ["kube-system"]);
        assert_eq!(
            f.crd_groups,
            ["autoscaling.x-k8s.io", "karpenter.k8s.aws", "karpenter.sh"]
        );
        assert_eq!(
            f.cluster_kinds,
            kinds(&[
                ("apiextensions.k8s.io", "CustomResourceDefinition"),
                ("rbac.authorization.k8s.io", "ClusterRole"),
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
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
                "ClusterRole /karpenter",
                "ClusterRole /karpenter-core",
                "ClusterRole /karpenter-admin",
                "ClusterRoleBinding /karpenter",
                "ClusterRoleBinding /karpenter-core",
                "Role kube-system/karpenter-dns",
                "RoleBinding kube-system/karpenter-dns",
                "CustomResourceDefinition /capacitybuffers.autoscaling.x-k8s.io",
                "CustomResourceDefinition /ec2nodeclasses.karpenter.k8s.aws",
                "CustomResourceDefinition /nodeclaims.karpenter.sh",
                "CustomResourceDefinition /nodeoverlays.karpenter.sh",
                "CustomResourceDefinition /nodepools.karpenter.sh",
            ]
        );
    }

    #[test]
    fn footprint_of_another_release() {
        let mut s = settings();
        s.release = "nodes".into();
        s.namespace = "karpenter".into();
        let f = footprint(&s);
        assert_eq!(f.namespaces, ["kube-system"]);
        assert_eq!(f.objects[0].3, "nodes-karpenter");
        assert_eq!(f.objects[5].3, "nodes-karpenter-dns");
        assert_eq!(f.objects[5].2, "kube-system");
    }
}
