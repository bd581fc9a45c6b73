//! The effective specification: one fully resolved, validated value per service and
//! environment, after merging layers and evaluating templates.
//!
//! Renderers read only these types; they never see layers, spans or templates. The
//! `origins` map of each service remembers where every value came from, so checks
//! on rendered objects can still point at the input line.

use std::collections::BTreeMap;

pub use crate::input::{
    AlbScheme, EgressPolicy, IngressClass, SecretSource, SecretsBackend, SpreadMode, SyncMode,
    WorkloadIdentity,
};
use crate::source::Origin;

pub mod addons;
pub mod baseline;
mod origins;
pub mod workload;
pub use addons::*;
pub use baseline::*;
pub use origins::Origins;
pub use workload::*;

/// `repo:tag`, `repo@digest` or `repo:tag@digest`.
pub fn image_ref(image: &str, tag: Option<&str>, digest: Option<&str>) -> String {
    let mut s = image.to_string();
    if let Some(t) = tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = digest {
        s.push('@');
        s.push_str(d);
    }
    s
}

#[derive(Debug, Clone)]
pub struct PlatformSpec {
    pub name: String,
    pub repo: String,
    /// Directory of platform.toml inside the repository, `""` for the root.
    pub repo_path: String,
    pub revision: String,
    pub registry: Option<String>,
    pub aws_region: Option<String>,
    pub argocd_namespace: String,
    /// Where generated Applications take their manifests from (`[argocd] mode`).
    pub argocd_mode: crate::input::ArgoCdMode,
    pub environments: Vec<EnvSpec>,
    /// The clusters the environments run on, sorted by name.
    pub clusters: Vec<ClusterSpec>,
    /// Registries images may come from besides `registry` (`[platform] allowed_registries`).
    pub allowed_registries: Vec<String>,
    /// Policy waivers for every service (`[platform] waivers`).
    pub waivers: Vec<Waiver>,
    /// Warnings found while resolving (reported with the validation warnings).
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
    /// The components of hand-written manifests of each cluster, by cluster name
    /// (`manifests/clusters/<cluster>/<component>/`): filled by `escape_hatch`.
    pub manifest_components: BTreeMap<String, Vec<ManifestComponent>>,
}

/// A component of hand-written manifests of a cluster
/// (`manifests/clusters/<cluster>/<component>/`), deployed by the Application
/// `<cluster>-<component>` in the cluster's project, which admits what it deploys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestComponent {
    pub name: String,
    /// The bootstrap sync wave of its Application (`[manifests] sync_waves`).
    pub wave: i32,
    /// Namespaces of its namespaced objects.
    pub namespaces: std::collections::BTreeSet<String>,
    /// (group, kind) of its cluster-scoped objects.
    pub cluster_kinds: std::collections::BTreeSet<(String, String)>,
}

impl PlatformSpec {
    /// Path inside the repository of `rel` (a path relative to platform.toml's directory).
    pub fn repo_path_of(&self, rel: &str) -> String {
        if self.repo_path.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.repo_path)
        }
    }
}

impl PlatformSpec {
    /// The cluster named `name`.
    pub fn cluster(&self, name: &str) -> Option<&ClusterSpec> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The environments on `cluster`, by name.
    pub fn environments_on<'a>(&'a self, cluster: &'a str) -> impl Iterator<Item = &'a EnvSpec> {
        self.environments
            .iter()
            .filter(move |e| e.cluster == cluster)
    }
}

/// Where Argo CD deploys: `destination.server` or `destination.name` of an Application.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    /// An API server URL.
    Server(String),
    /// A cluster registered in Argo CD under this name.
    Name(String),
}

impl Destination {
    /// The URL or the name, as written.
    pub fn as_str(&self) -> &str {
        match self {
            Destination::Server(s) | Destination::Name(s) => s,
        }
    }
}

/// One Kubernetes cluster: how Argo CD reaches it, and what is installed once on it.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// `[clusters.<name>]`, or the environment's name for an environment that names no
    /// declared cluster (`implicit`).
    pub name: String,
    pub destination: Destination,
    /// Kubernetes minor version, `(1, 30)`.
    pub kubernetes_version: (u32, u32),
    /// Argo CD project of the cluster's own Applications (monitoring).
    pub project: String,
    /// How its own Applications sync, when `[clusters.<name>] sync` says (else as its
    /// environments do: `render::argocd::cluster_sync`).
    pub sync: Option<SyncMode>,
    pub vars: BTreeMap<String, String>,
    /// The monitoring stack of the cluster, scraping every environment on it.
    pub monitoring: Option<MonitoringSpec>,
    /// The add-ons installed on the cluster, by name.
    pub addons: Vec<AddonSpec>,
    /// Its ClusterIssuers, ClusterSecretStores, StorageClasses, NodePools, roles, ...
    pub baseline: BaselineSpec,
    /// Not declared in `[clusters]`: one environment's cluster, named after it.
    pub implicit: bool,
    /// Input files the cluster's files are rendered from, for file headers.
    pub inputs: Vec<String>,
    /// Where the cluster is declared (its table header, or the environment's).
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct EnvSpec {
    pub name: String,
    /// Name of the cluster the environment runs on (see [`ClusterSpec`]).
    pub cluster: String,
    /// Its cluster's Kubernetes minor version, `(1, 30)` (what the API server accepts).
    pub kubernetes_version: (u32, u32),
    /// Where Argo CD deploys the environment's Applications: its cluster's destination.
    pub destination: Destination,
    pub project: String,
    pub sync: SyncMode,
    pub production: bool,
    pub vars: BTreeMap<String, String>,
    /// Enabled services, sorted by name.
    pub services: Vec<ServiceSpec>,
    /// The monitoring stack of the environment's cluster (which scrapes this environment).
    pub monitoring: Option<MonitoringSpec>,
    /// Namespaces the cluster's own Applications (monitoring, add-ons) deploy into: a
    /// service in one of them shares it (see `render::shared_namespaces`).
    pub cluster_namespaces: std::collections::BTreeSet<String>,
    /// Input files this environment was rendered from, for file headers.
    pub inputs: Vec<String>,
    /// Every path `kgen cmp generate` reads for this environment, relative to the
    /// platform directory (`escape_hatch::files::plugin_reads`).
    pub plugin_reads: Vec<String>,
    /// How pods get their IAM role (`workload_identity`).
    pub workload_identity: WorkloadIdentity,
    /// How secrets reach pods (`secrets_backend`).
    pub secrets_backend: SecretsBackend,
    /// External Secrets Operator settings (used with `SecretsBackend::ExternalSecrets`).
    pub external_secrets: ExternalSecretsSpec,
    /// Prefixes every secret key must start with; empty means no restriction.
    pub secret_prefixes: Vec<String>,
    /// How public services are exposed.
    pub ingress: IngressSpec,
    /// NetworkPolicies, when on.
    pub network_policy: Option<NetworkPolicySpec>,
    /// The environment's table header in platform.toml.
    pub origin: Origin,
    /// Where environment-wide references were written (`ingress.cluster_issuer`,
    /// `external_secrets.store`, `external_secrets.ssm_store`), for the baseline checks.
    pub origins: BTreeMap<String, Origin>,
}

#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    pub namespace: String,
    /// The name of its Argo CD Application, from `[argocd] application_name`; `None`
    /// for the default, `<env>-<service>`.
    pub app_name: Option<String>,
    /// Full image repository including the registry, without tag or digest.
    pub image: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub port: u16,
    /// Name of the main port (`http` unless `port_name` says otherwise).
    pub port_name: String,
    pub replicas: u32,
    pub resources: Resources,
    pub probes: Probes,
    /// Environment variables by name, values as the kubelet reads them: a literal `$` is
    /// doubled where the kubelet would expand it, a reference is `$(NAME)`. The container
    /// lists them in `resolve::kubelet_order` (dependencies first).
    pub env: BTreeMap<String, String>,
    /// Variables whose value is read when the pod starts (`valueFrom`), by name.
    pub env_refs: BTreeMap<String, EnvSource>,
    /// ConfigMap entries, values as the container gets them (`envFrom` expands nothing).
    pub config: BTreeMap<String, String>,
    pub autoscaling: Option<Autoscaling>,
    pub iam_role: Option<String>,
    pub secrets: Vec<Secret>,
    pub run_as_user: i64,
    pub metrics: Option<Metrics>,
    /// The public route of the service, when it is public.
    pub ingress: Option<IngressRoute>,
    /// Services this one calls (names, as written; they exist in platform.toml).
    pub calls: Vec<String>,
    /// The PodDisruptionBudget's limit; `None` when switched off.
    pub disruption_budget: Option<DisruptionBudget>,
    /// topologySpreadConstraints across zones and nodes.
    pub spread: Spread,
    /// Policy waivers of this service (`waivers` under `[services.<name>]` in platform.toml).
    pub waivers: Vec<Waiver>,
    /// The Pod Security Admission level its namespace enforces (`pod_security`).
    pub pod_security: PodSecurityLevel,
    /// The kind of workload, and what it adds.
    pub workload: Workload,
    /// The main container's command and arguments (empty: the image's).
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Named container ports besides `http` (and `metrics`).
    pub ports: Vec<Port>,
    /// The Service; `None`: no Service (workers, jobs, `service.enabled = false`).
    pub service: Option<ServiceExposure>,
    pub sidecars: Vec<ContainerSpec>,
    pub init_containers: Vec<ContainerSpec>,
    pub volumes: Vec<VolumeSpec>,
    /// Files of the `<service>-files` ConfigMap, by key.
    pub files: Vec<FileSpec>,
    pub placement: Placement,
    pub image_pull_secrets: Vec<String>,
    /// Labels and annotations of every object of the service, and of its pods only.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
    /// `automountServiceAccountToken`; `None`: Kubernetes' default (mounted).
    pub automount_token: Option<bool>,
    pub rollout: Rollout,
    /// Where each value came from, by field path (`replicas`, `autoscaling.min`, `env.LOG_LEVEL`),
    /// plus `service`: the service's table header in platform.toml.
    pub origins: Origins,
}

/// The most replicas a service with `replicas` and `autoscaling` can run: the HPA's
/// `max`, else `replicas` ([`ServiceSpec::max_replicas`]; for resolving, which checks
/// this before the spec exists).
pub fn max_replicas(replicas: u32, autoscaling: Option<&Autoscaling>) -> u32 {
    autoscaling.map_or(replicas, |a| a.max)
}

impl ServiceSpec {
    /// `repo:tag`, `repo@digest` or `repo:tag@digest`.
    pub fn image_ref(&self) -> String {
        image_ref(&self.image, self.tag.as_deref(), self.digest.as_deref())
    }

    /// The kind of workload.
    pub fn kind(&self) -> WorkloadKind {
        self.workload.kind()
    }

    /// The most replicas the service can run: the HPA's `max`, else `replicas`.
    pub fn max_replicas(&self) -> u32 {
        max_replicas(self.replicas, self.autoscaling.as_ref())
    }

    /// Whether it can run more than one pod of a replicated kind (a PodDisruptionBudget
    /// applies; a claim of the pod template is shared).
    pub fn runs_several_pods(&self) -> bool {
        self.kind().replicated() && self.max_replicas() > 1
    }

    /// The version recorded in the version ConfigMap and labels: the tag, else the digest.
    pub fn version(&self) -> &str {
        self.tag
            .as_deref()
            .or(self.digest.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuMem {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub requests: CpuMem,
    pub limits: CpuMem,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probes {
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub startup: Option<Probe>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub behavior: Option<ScalingBehavior>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub from: SecretSource,
    pub key: String,
    pub json_key: Option<String>,
}

/// A written exception to a policy rule: `{ rule = "KG202", reason = "..." }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    pub rule: String,
    pub reason: String,
    pub rule_origin: Origin,
    pub reason_origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    pub path: String,
    pub port: u16,
    pub interval: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoringSpec {
    pub namespace: String,
    pub chart_repo: String,
    pub chart_version: String,
    pub retention: String,
    pub prometheus_storage: String,
    pub prometheus_replicas: u32,
    pub grafana_storage: String,
    pub alertmanager_storage: String,
    pub alertmanager_replicas: u32,
    pub storage_class: String,
    /// `values` of every layer, merged in order, templates rendered (an empty object
    /// when none): merged over the values kgen writes.
    pub values: serde_json::Value,
}

/// How public services are exposed in one environment (`[ingress]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressSpec {
    pub class: IngressClass,
    /// Namespace of the ingress controller (admitted by NetworkPolicies with class `nginx`).
    pub controller_namespace: String,
    pub tls: bool,
    /// cert-manager ClusterIssuer; `None` when TLS or cert-manager is off.
    pub cluster_issuer: Option<String>,
    pub alb: AlbSpec,
}

/// AWS Load Balancer Controller settings (`[ingress] alb`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbSpec {
    pub scheme: AlbScheme,
    pub certificate_arn: Option<String>,
    pub ssl_redirect: bool,
    pub group: Option<String>,
    /// CIDRs admitted by NetworkPolicies for ALB traffic; empty means any source.
    pub source_cidrs: Vec<String>,
}

/// NetworkPolicy settings of one environment (`[network_policy]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicySpec {
    pub egress: EgressPolicy,
}

/// External Secrets Operator settings of one environment (`[external_secrets]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSecretsSpec {
    /// ClusterSecretStore of Secrets Manager secrets.
    pub store: String,
    /// ClusterSecretStore of SSM parameters.
    pub ssm_store: String,
    /// Go duration, e.g. `1h`.
    pub refresh_interval: String,
    /// `apiVersion` of the ExternalSecrets: `external-secrets.io/v1` or `.../v1beta1`.
    pub api_version: String,
}

/// The public route of a service (`ingress = { host, path }`, or `hosts` and `paths`):
/// every host routes every path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRoute {
    /// The hosts, rendered, in the order written; at least one, each once.
    pub hosts: Vec<String>,
    /// The path prefixes, in the order written; at least one (`/` by default), each once.
    pub paths: Vec<String>,
}

/// A count or a percentage (`25%`), as Kubernetes' IntOrString.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntOrPercentValue {
    Count(u32),
    Percent(String),
}

/// `maxUnavailable` of a PodDisruptionBudget.
pub type MaxUnavailable = IntOrPercentValue;

/// The limit of a PodDisruptionBudget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisruptionBudget {
    MaxUnavailable(IntOrPercentValue),
    MinAvailable(IntOrPercentValue),
}

/// topologySpreadConstraints of a service's pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub zones: SpreadMode,
    pub nodes: SpreadMode,
}
