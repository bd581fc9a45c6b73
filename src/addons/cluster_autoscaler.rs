//! cluster-autoscaler (kubernetes/autoscaler, chart `cluster-autoscaler/charts/cluster-autoscaler`,
//! repository https://kubernetes.github.io/autoscaler): grows and shrinks the EC2 Auto
//! Scaling groups of a cluster's node groups, found by their tags
//! (`k8s.io/cluster-autoscaler/enabled`, `k8s.io/cluster-autoscaler/<cluster name>`).
//!
//! Checked against chart 9.59.0 (tag `cluster-autoscaler-chart-9.59.0`, commit 5a0b98e;
//! `values.yaml`, `templates/`), and the project's README (version compatibility) and
//! `cloudprovider/aws/README.md` and `examples/cluster-autoscaler-autodiscover.yaml`.
//!
//! - The chart renders no Deployment at all unless `autoDiscovery.clusterName` (or
//!   `autoscalingGroups`) is set: `cluster_name` is required. `awsRegion` ("required if
//!   `cloudProvider=aws`"): kgen's `region` (default `[platform] aws_region`).
//! - The image must match the cluster's Kubernetes minor version (README: use the latest
//!   Cluster Autoscaler release of the cluster's minor version); the chart's default is
//!   `v1.35.0`. kgen sets `image.tag` from the cluster's `kubernetes_version`, to the
//!   newest release of that minor version when the chart was checked ([`IMAGE_TAGS`]);
//!   for a version it does not list, the chart's tag stays (pin one under `values`).
//! - IRSA: the ServiceAccount is configured under `rbac.serviceAccount` in this chart
//!   (`rbac.serviceAccount.annotations`, rendered through `tpl`); kgen names it after
//!   the release (`rbac.serviceAccount.name`; the chart's default is
//!   `cluster-autoscaler.fullname`).
//! - `cluster-autoscaler.fullname` is not the usual one: the name is
//!   `<cloudProvider>-cluster-autoscaler` (`aws-cluster-autoscaler`), and the full name
//!   is `<release>-aws-cluster-autoscaler` unless the release is exactly that name.
//!   Outside the release namespace (`rbac.create` and `rbac.clusterScoped` on) the chart
//!   creates the ClusterRole and ClusterRoleBinding `<fullname>`; its Role, RoleBinding,
//!   Service, PodDisruptionBudget (`maxUnavailable: 1`) and Deployment are in the
//!   release namespace. No CRD (its ClusterRole reads `autoscaling.x-k8s.io`
//!   ProvisioningRequests and CapacityBuffers, whose CRDs it does not install), no
//!   Secret (no static AWS keys), no ServiceMonitor or PrometheusRule (off; they would go
//!   to the namespace `monitoring`).
//! - Defaults, after upstream's AWS example manifest: one replica (it is leader-elected;
//!   a second would only wait), `priorityClassName: system-cluster-critical` (the
//!   chart's default, written out), requests and limits of 100m CPU and 600Mi,
//!   a non-root, read-only, capability-free security context (the chart sets none), so
//!   the pod meets the `restricted` Pod Security Standard, and the `least-waste` expander
//!   and `skip-nodes-with-local-storage=false` (kgen's pods mount `emptyDir` for `/tmp`,
//!   which would otherwise keep every node from being scaled down), plus
//!   `balance-similar-node-groups` (one node group per zone, as the AWS README
//!   recommends). It tolerates `CriticalAddonsOnly`, to run on tainted system nodes.

use serde_json::{json, Value};

use super::helm_names::trunc63;
use super::{
    controller_values, kinds, merge, Footprint, KubeSupport, Needed, Preset, ServiceAccount,
    ValuesProblem,
};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "cluster-autoscaler",
    chart: "cluster-autoscaler",
    repo: "https://kubernetes.github.io/autoscaler",
    checked_version: "9.59.0",
    namespace: "kube-system",
    pod_security: PodSecurityLevel::Restricted,
    server_side_apply: false,
    wave: crate::render::argocd::bootstrap_wave::ADDONS,
    service_account: Some(ServiceAccount {
        annotations: &["rbac", "serviceAccount", "annotations"],
        name: "{release}",
        name_path: &["rbac", "serviceAccount", "name"],
    }),
    settings: &[
        "replicas",
        "resources",
        "priority_class",
        "tolerations",
        "node_selector",
        "cluster_name",
        "region",
    ],
    required: &[
        Needed {
            key: "cluster_name",
            values_path: &["autoDiscovery", "clusterName"],
            why: "without `autoDiscovery.clusterName` the chart renders no Deployment",
        },
        Needed {
            key: "region",
            values_path: &["awsRegion"],
            why: "the chart requires `awsRegion` with `cloudProvider: aws` (without it the autoscaler asks the instance metadata service, which pods often cannot reach)",
        },
    ],
    recommended: &[],
    kubernetes: KUBERNETES,
    min_kubernetes: None,
    check_values,
    values,
    footprint,
    custom_resources,
    render_time_fields: super::no_render_time_fields,
};

/// The newest Cluster Autoscaler release of each Kubernetes minor version kgen supports,
/// from the repository's `cluster-autoscaler-1.<minor>.<patch>` tags when chart 9.59.0
/// was checked.
pub const IMAGE_TAGS: &[((u32, u32), &str)] = &[
    ((1, 29), "v1.29.5"),
    ((1, 30), "v1.30.7"),
    ((1, 31), "v1.31.5"),
    ((1, 32), "v1.32.7"),
    ((1, 33), "v1.33.6"),
    ((1, 34), "v1.34.5"),
    ((1, 35), "v1.35.2"),
    ((1, 36), "v1.36.1"),
];

/// The newest Kubernetes minor version each range of chart releases is for, from the
/// "Releases" table of `cluster-autoscaler/README.md` (at tag
/// `cluster-autoscaler-chart-9.59.0`): Kubernetes 1.26 needs chart 9.28.0+, 1.27 9.29.0+,
/// 1.28 9.34.0+, 1.29 9.35.0+, 1.30 9.37.0+, 1.31 9.38.0+, 1.32 9.45.0+, 1.33 9.47.0+,
/// 1.34 9.51.0+; the ranges end at the last chart tag before the next row. The table
/// says nothing of 1.35 and later, so charts from 9.51.0 on are not listed. kgen runs
/// the image of the cluster's minor version ([`IMAGE_TAGS`]), which an older chart's
/// RBAC and arguments were not made for.
pub const KUBERNETES: &[KubeSupport] = &[
    kube("9.28.0", "9.28.0", (1, 26)),
    kube("9.29.0", "9.33.0", (1, 27)),
    kube("9.34.0", "9.34.1", (1, 28)),
    kube("9.35.0", "9.36.0", (1, 29)),
    kube("9.37.0", "9.37.0", (1, 30)),
    kube("9.38.0", "9.44.0", (1, 31)),
    kube("9.45.0", "9.46.6", (1, 32)),
    kube("9.47.0", "9.50.1", (1, 33)),
];

const fn kube(first: &'static str, last: &'static str, max: (u32, u32)) -> KubeSupport {
    KubeSupport {
        first,
        last,
        min: None,
        max: Some(max),
        source: "the Cluster Autoscaler's README pairs each Kubernetes version with the charts made for it, and kgen runs the autoscaler of the cluster's version",
    }
}

/// The image tag for a cluster of this Kubernetes version, when kgen knows one.
pub fn image_tag(kubernetes_version: (u32, u32)) -> Option<&'static str> {
    IMAGE_TAGS
        .iter()
        .find(|(v, _)| *v == kubernetes_version)
        .map(|(_, t)| *t)
}

fn values(s: &AddonSettings) -> Value {
    let mut v = json!({
        "cloudProvider": "aws",
        "rbac": { "serviceAccount": { "create": true, "name": s.release } },
        "replicaCount": 1,
        "priorityClassName": "system-cluster-critical",
        "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists" }],
        "resources": {
            "requests": { "cpu": "100m", "memory": "600Mi" },
            "limits": { "cpu": "100m", "memory": "600Mi" },
        },
        "securityContext": {
            "runAsNonRoot": true,
            "runAsUser": 65534,
            "fsGroup": 65534,
            "seccompProfile": { "type": "RuntimeDefault" },
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": { "drop": ["ALL"] },
            "readOnlyRootFilesystem": true,
        },
        "extraArgs": {
            "expander": "least-waste",
            "skip-nodes-with-local-storage": false,
            "balance-similar-node-groups": true,
        },
    });
    if let Some(name) = &s.cluster_name {
        v["autoDiscovery"] = json!({ "clusterName": name });
    }
    if let Some(region) = &s.region {
        v["awsRegion"] = json!(region);
    }
    if let Some(tag) = image_tag(s.kubernetes_version) {
        v["image"] = json!({ "tag": tag });
    }
    // Typed resources replace kgen's whole, rather than merging into them.
    if s.resources.is_some() {
        v.as_object_mut().expect("an object").remove("resources");
    }
    merge(&mut v, controller_values(s, &[], "replicaCount"));
    v
}

/// The Cluster Autoscaler's image must be of the cluster's Kubernetes minor version: a
/// tag set under `values` of another minor version is refused, and so is a cluster whose
/// version kgen knows no release of when `values` sets no tag (the chart's own tag,
/// `v1.35.0` in 9.59.0, would stay).
fn check_values(s: &AddonSettings, v: &Value) -> Vec<ValuesProblem> {
    let (major, minor) = s.kubernetes_version;
    if (major, minor) == (0, 0) {
        return Vec::new();
    }
    let want = format!("v{major}.{minor}.");
    let suggestion = image_tag(s.kubernetes_version)
        .map_or_else(|| format!("`{want}<patch>`"), |t| format!("`{t}`"));
    match v.pointer("/image/tag") {
        Some(Value::String(tag)) if tag.starts_with(&want) => Vec::new(),
        Some(tag) => {
            let tag = tag.as_str().map_or_else(|| tag.to_string(), str::to_string);
            vec![ValuesProblem {
                path: vec!["image", "tag"],
                message: format!(
                    "the Cluster Autoscaler image `{tag}` is not of Kubernetes {major}.{minor}, the cluster's version: the autoscaler must match the cluster's minor version"
                ),
                help: format!(
                    "leave `image.tag` out (kgen writes {suggestion}, the newest release of {major}.{minor} it knows), or set a {want}x tag"
                ),
            }]
        }
        None => vec![ValuesProblem {
            path: vec!["image", "tag"],
            message: format!(
                "kgen knows no Cluster Autoscaler release for Kubernetes {major}.{minor}, so the chart's own image would run, whatever its version: the autoscaler must match the cluster's minor version"
            ),
            help: format!(
                "set the newest release of {major}.{minor} (a `cluster-autoscaler-{major}.{minor}.<patch>` tag of kubernetes/autoscaler): `values = {{ image = {{ tag = \"{want}<patch>\" }} }}`"
            ),
        }],
    }
}

/// The chart's `cluster-autoscaler.fullname` with `cloudProvider: aws`.
fn fullname(release: &str) -> String {
    let name = "aws-cluster-autoscaler";
    if release == name {
        name.to_string()
    } else {
        trunc63(&format!("{release}-{name}"))
    }
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = fullname(&s.release);
    let rbac = "rbac.authorization.k8s.io";
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds: kinds(&[(rbac, "ClusterRole"), (rbac, "ClusterRoleBinding")]),
        crd_groups: Vec::new(),
        objects: vec![
            (rbac.into(), "ClusterRole".into(), String::new(), f.clone()),
            (rbac.into(), "ClusterRoleBinding".into(), String::new(), f),
        ],
        ..Footprint::default()
    }
}

/// A ServiceMonitor with `serviceMonitor.enabled` and a PrometheusRule with
/// `prometheusRule.enabled` (both off by default; chart 9.59.0,
/// `templates/servicemonitor.yaml`, `templates/prometheusrule.yaml`).
fn custom_resources(values: &serde_json::Value) -> Vec<super::CustomResource> {
    let mut out = super::service_monitor_when(values, &["serviceMonitor", "enabled"]);
    out.extend(super::monitoring_when(
        values,
        &["prometheusRule", "enabled"],
        "PrometheusRule",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "cluster-autoscaler".into(),
            namespace: "kube-system".into(),
            cluster: "prod".into(),
            kubernetes_version: (1, 30),
            cluster_name: Some("myapp-prod".into()),
            region: Some("eu-west-1".into()),
            ..Default::default()
        }
    }

    fn defaults() -> Value {
        json!({
            "cloudProvider": "aws",
            "autoDiscovery": { "clusterName": "myapp-prod" },
            "awsRegion": "eu-west-1",
            "image": { "tag": "v1.30.7" },
            "rbac": { "serviceAccount": { "create": true, "name": "cluster-autoscaler" } },
            "replicaCount": 1,
            "priorityClassName": "system-cluster-critical",
            "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists" }],
            "resources": {
                "requests": { "cpu": "100m", "memory": "600Mi" },
                "limits": { "cpu": "100m", "memory": "600Mi" },
            },
            "securityContext": {
                "runAsNonRoot": true,
                "runAsUser": 65534,
                "fsGroup": 65534,
                "seccompProfile": { "type": "RuntimeDefault" },
            },
            "containerSecurityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": { "drop": ["ALL"] },
                "readOnlyRootFilesystem": true,
            },
            "extraArgs": {
                "expander": "least-waste",
                "skip-nodes-with-local-storage": false,
                "balance-similar-node-groups": true,
            },
        })
    }

    #[test]
    fn default_values() {
        assert_eq!(values(&settings()), defaults());
    }

    #[test]
    fn without_cluster_name_or_region_the_chart_has_no_deployment() {
        // The resolver must require `cluster_name` and a region: without
        // `autoDiscovery.clusterName` the chart renders no Deployment.
        let mut s = settings();
        s.cluster_name = None;
        s.region = None;
        let v = values(&s);
        assert!(v.get("autoDiscovery").is_none());
        assert!(v.get("awsRegion").is_none());
    }

    #[test]
    fn the_image_follows_the_kubernetes_version() {
        let mut s = settings();
        s.kubernetes_version = (1, 29);
        assert_eq!(values(&s)["image"], json!({ "tag": "v1.29.5" }));
        s.kubernetes_version = (1, 36);
        assert_eq!(values(&s)["image"], json!({ "tag": "v1.36.1" }));
        // Unknown: the chart's own tag stays.
        s.kubernetes_version = (1, 37);
        assert!(values(&s).get("image").is_none());
        // Every minor version kgen supports has one.
        let oldest = crate::resolve::OLDEST_KUBERNETES;
        assert_eq!(IMAGE_TAGS[0].0, oldest);
        for (i, ((major, minor), tag)) in IMAGE_TAGS.iter().enumerate() {
            assert_eq!((*major, *minor), (1, oldest.1 + i as u32));
            assert!(tag.starts_with(&format!("v{major}.{minor}.")), "{tag}");
        }
    }

    #[test]
    fn values_with_every_setting() {
        let mut s = settings();
        s.replicas = Some(2);
        s.priority_class = Some("platform-critical".into());
        s.resources = Some(Resources {
            requests: CpuMem {
                cpu: Some("200m".into()),
                memory: Some("1Gi".into()),
            },
            limits: CpuMem {
                cpu: None,
                memory: Some("1Gi".into()),
            },
        });
        s.tolerations = vec![Toleration {
            key: Some("dedicated".into()),
            operator: TolerationOperator::Exists,
            value: None,
            effect: None,
            seconds: None,
        }];
        s.node_selector = [("role".to_string(), "system".to_string())].into();
        let mut want = defaults();
        want["replicaCount"] = json!(2);
        want["priorityClassName"] = json!("platform-critical");
        want["resources"] = json!({
            "requests": { "cpu": "200m", "memory": "1Gi" },
            "limits": { "memory": "1Gi" },
        });
        want["tolerations"] = json!([{ "key": "dedicated", "operator": "Exists" }]);
        want["nodeSelector"] = json!({ "role": "system" });
        assert_eq!(values(&s), want);
    }

    #[test]
    fn service_account_is_under_rbac() {
        let sa = PRESET.service_account.unwrap();
        assert_eq!(sa.annotations, ["rbac", "serviceAccount", "annotations"]);
        assert_eq!(sa.name.replace("{release}", "ca"), "ca");
        let mut s = settings();
        s.release = "ca".into();
        assert_eq!(values(&s)["rbac"]["serviceAccount"]["name"], "ca");
    }

    #[test]
    fn footprint_names_follow_the_charts_fullname() {
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
        let shown: Vec<String> = f
            .objects
            .iter()
            .map(|(_, k, ns, n)| format!("{k} {ns}/{n}"))
            .collect();
        assert_eq!(
            shown,
            [
                "ClusterRole /cluster-autoscaler-aws-cluster-autoscaler",
                "ClusterRoleBinding /cluster-autoscaler-aws-cluster-autoscaler",
            ]
        );
        assert_eq!(fullname("aws-cluster-autoscaler"), "aws-cluster-autoscaler");
        // Unlike `helm create`'s helper, containing the name is not enough.
        assert_eq!(
            fullname("my-aws-cluster-autoscaler"),
            "my-aws-cluster-autoscaler-aws-cluster-autoscaler"
        );
    }
}
