//! The typed shape of `[addons.<name>]`: a third-party Helm chart kgen installs once
//! per cluster as an Argo CD Application, either one of kgen's presets (which know the
//! chart, its namespace, where its service account's annotations go, and what it
//! creates) or any chart named by repository, chart and version.
//!
//! The same table appears under `[clusters.<name>.addons.<addon>]` (per-cluster
//! overrides, including `enabled = false`) and in an overlay's `[addons.<addon>]` (for
//! the cluster of that one environment). Layers merge leaf by leaf; `values` tables merge
//! key by key, deeply.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ResourcesLayer, SpannedMap, TolerationLayer, WorkloadIdentity};
use crate::spanned::Spanned;

/// `[addons.<name>]`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddonLayer {
    /// `false` leaves the add-on out (typically for one cluster, under
    /// `[clusters.<name>.addons.<addon>]`). Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// One of kgen's presets (see docs/platform.md#add-on-presets). Default: the
    /// add-on's name, when it is a preset; otherwise set `chart` and `repo`.
    #[serde(default)]
    pub preset: Option<Spanned<String>>,
    /// Helm chart name (a preset knows it).
    #[serde(default)]
    pub chart: Option<Spanned<String>>,
    /// Helm repository: an `https://` chart repository, or an OCI registry
    /// `oci://public.ecr.aws/karpenter` (a preset knows it).
    #[serde(default)]
    pub repo: Option<Spanned<String>>,
    /// The exact chart version, e.g. `1.16.2` or `v1.16.2`. Required: ranges and
    /// `latest` are refused (an upgrade is a reviewed change; `kgen bump-chart` makes it).
    #[serde(default)]
    pub chart_version: Option<Spanned<String>>,
    /// Namespace of the release (a preset has a default).
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
    /// Helm release name. Default: the add-on's name.
    #[serde(default)]
    pub release: Option<Spanned<String>>,
    /// Helm values, passed through as written (strings are templates: `{{ cluster.<var> }}`).
    /// For what a preset types (`replicas`, `resources`, ...), use the typed key.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub values: Option<Spanned<toml::Table>>,
    /// Sync wave of the add-on's Application in the cluster's bootstrap, from `-4`
    /// (right after the AppProjects) up. Default: `-1`, after the baseline's custom
    /// resources and before the services; `-3` for the presets whose kinds or webhooks
    /// others need (see docs/argocd.md#sync-waves).
    #[serde(default)]
    pub sync_wave: Option<Spanned<i64>>,
    /// Apply with server-side apply (charts with CRDs too large for client-side apply's
    /// annotation). Default: the preset's choice; `false` for other charts.
    #[serde(default)]
    pub server_side_apply: Option<Spanned<bool>>,
    /// IAM role the add-on's pods assume (a template), for presets that call AWS.
    #[serde(default)]
    pub iam_role: Option<Spanned<String>>,
    /// How the add-on's pods get `iam_role`: `irsa` (annotation on its ServiceAccount)
    /// or `pod-identity` (an association in the Terraform hand-off). Default:
    /// `[platform] workload_identity`.
    #[serde(default)]
    pub workload_identity: Option<Spanned<WorkloadIdentity>>,
    /// Pod Security Admission level of the add-on's namespace: `restricted`,
    /// `baseline` or `privileged`. Default: what the preset's pods need.
    #[serde(default)]
    pub pod_security: Option<Spanned<PodSecurityLevel>>,
    /// API groups of the CRDs a chart that is not a preset installs (`["example.com"]`):
    /// custom resources of these groups are then known to be installed by it, in its
    /// sync wave (KG306). Presets know their own.
    #[serde(default)]
    pub crd_groups: Option<Spanned<Vec<Spanned<String>>>>,
    /// Cluster-scoped kinds a chart that is not a preset creates, as `group/Kind`
    /// (`"storage.k8s.io/CSIDriver"`, `"rbac.authorization.k8s.io/ClusterRole"`; a
    /// kind of the core group alone: `"PersistentVolume"`): its Argo CD project admits
    /// them. `[]` when it creates none. Presets know their own.
    #[serde(default)]
    pub cluster_kinds: Option<Spanned<Vec<Spanned<String>>>>,
    /// Namespaces besides its own that a chart that is not a preset writes objects
    /// into (`["kube-system"]`): its Argo CD project's destinations. Presets know
    /// their own.
    #[serde(default)]
    pub other_namespaces: Option<Spanned<Vec<Spanned<String>>>>,
    /// The ServiceAccount (in the add-on's namespace) that `iam_role` is for, on a
    /// chart that is not a preset: with it the chart takes `iam_role`, and the role's
    /// trust (IRSA) or association (Pod Identity) is in the Terraform hand-off. Presets
    /// know their own.
    #[serde(default)]
    pub service_account: Option<Spanned<String>>,

    // Settings every controller preset takes.
    /// Replicas of the add-on's controller (presets with one). Default: the preset's
    /// (2 for the controllers the platform depends on, with a PodDisruptionBudget).
    #[serde(default)]
    pub replicas: Option<Spanned<i64>>,
    /// Requests and limits of the add-on's controller.
    #[serde(default)]
    pub resources: Option<Spanned<ResourcesLayer>>,
    /// PriorityClass of the add-on's pods. Default: the preset's
    /// (`system-cluster-critical` for the components the cluster needs to work).
    #[serde(default)]
    pub priority_class: Option<Spanned<String>>,
    /// Taints the add-on's pods tolerate (e.g. `CriticalAddonsOnly` system nodes).
    #[serde(default)]
    pub tolerations: Option<Spanned<Vec<TolerationLayer>>>,
    /// Node labels the add-on's pods must run on.
    #[serde(default)]
    pub node_selector: SpannedMap<String>,

    // Settings of one preset each (docs/platform.md lists which).
    /// EKS cluster name (aws-load-balancer-controller, karpenter, cluster-autoscaler),
    /// a template. Default: `{{ cluster.eks_name }}` when the cluster defines that variable.
    #[serde(default)]
    pub cluster_name: Option<Spanned<String>>,
    /// AWS region (aws-load-balancer-controller, cluster-autoscaler, fluent-bit), a
    /// template. Default: `[platform] aws_region`.
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    /// VPC id (aws-load-balancer-controller), a template.
    #[serde(default)]
    pub vpc_id: Option<Spanned<String>>,
    /// DNS zones external-dns manages, e.g. `["example.com"]`.
    #[serde(default)]
    pub domain_filters: Option<Spanned<Vec<Spanned<String>>>>,
    /// external-dns ownership id (TXT records), unique per cluster. Default: the cluster's name.
    #[serde(default)]
    pub txt_owner_id: Option<Spanned<String>>,
    /// external-dns policy: `sync` (also deletes records) or `upsert-only`. Default: `upsert-only`.
    #[serde(default)]
    pub policy: Option<Spanned<String>>,
    /// ingress-nginx: the controller Service's type, `LoadBalancer` or `NodePort`
    /// (behind an ALB). Default: `LoadBalancer`.
    #[serde(default)]
    pub service_type: Option<Spanned<super::ServiceType>>,
    /// ingress-nginx with `NodePort`: the node ports, `{ http = 30080, https = 30443 }`.
    #[serde(default)]
    pub node_ports: Option<Spanned<NodePortsLayer>>,
    /// ingress-nginx: the IngressClass it serves. Default: `nginx`.
    #[serde(default)]
    pub ingress_class: Option<Spanned<String>>,
    /// Install the chart's CRDs with it (cert-manager, external-secrets). Default: `true`.
    #[serde(default)]
    pub install_crds: Option<Spanned<bool>>,
    /// fluent-bit: CloudWatch Logs group, a template. Default: `/aws/eks/{{ cluster.name }}/containers`.
    #[serde(default)]
    pub log_group: Option<Spanned<String>>,
    /// karpenter: the SQS queue of interruption events, a template. Default: the cluster's name.
    #[serde(default)]
    pub interruption_queue: Option<Spanned<String>>,
    /// secrets-store-csi-driver: sync mounted secrets into Kubernetes Secrets too. Default: `false`.
    #[serde(default)]
    pub sync_secrets: Option<Spanned<bool>>,
    /// secrets-store-csi-driver: re-read secrets on this interval (a Go duration) and
    /// update the mounted files. Default: off.
    #[serde(default)]
    pub rotation_interval: Option<Spanned<String>>,
}

/// `node_ports = { http = 30080, https = 30443 }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodePortsLayer {
    /// Node port of HTTP (30000–32767).
    #[serde(default)]
    pub http: Option<Spanned<i64>>,
    /// Node port of HTTPS (30000–32767).
    #[serde(default)]
    pub https: Option<Spanned<i64>>,
}

/// Pod Security Admission level of a namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// The hardened profile kgen's own pods satisfy.
    #[default]
    Restricted,
    /// No known privilege escalation, but host ports and some capabilities allowed.
    Baseline,
    /// No restriction: node agents that use the host (CSI drivers, log collectors).
    Privileged,
}

impl PodSecurityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurityLevel::Restricted => "restricted",
            PodSecurityLevel::Baseline => "baseline",
            PodSecurityLevel::Privileged => "privileged",
        }
    }
}
