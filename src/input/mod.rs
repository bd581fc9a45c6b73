//! The typed shape of the input files: `platform.toml` and `overlays/<env>.toml`.
//!
//! These are plain serde structs that reject unknown keys. Every leaf keeps its
//! source span (`Spanned`) so later stages can point at the line that caused a
//! problem. Almost every field is optional here: the same `ServiceLayer` type is
//! used for `[defaults]`, `[services.<name>]` and an overlay's `[services.<name>]`,
//! and `merge` combines the layers. Required values are checked after merging, in
//! `resolve`. The JSON Schema in `docs/platform.schema.json` is derived from these
//! types (`kgen schema`), so the doc comments here are what editors show.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::spanned::Spanned;

pub mod addons;
pub mod baseline;
pub mod escape_hatch;
pub mod workload;
pub use addons::*;
pub use baseline::*;
pub use escape_hatch::*;
pub use workload::*;

/// A map whose keys and values keep their spans.
pub type SpannedMap<V> = BTreeMap<Spanned<String>, Spanned<V>>;

/// The services of a file, by name. Each layer is boxed: a `ServiceLayer` is a few
/// kilobytes of mostly empty fields, and a map's nodes hold their values inline, half
/// of them unused (at 1,000 services and three overlays, 19 MB instead of 9 MB).
pub type ServiceLayers = BTreeMap<Spanned<String>, Spanned<Box<ServiceLayer>>>;

/// `platform.toml`: the whole platform, described once.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "kgen platform.toml")]
pub struct PlatformFile {
    /// Platform-wide settings.
    pub platform: Spanned<PlatformSection>,
    /// Values every service starts from (merged under each `[services.<name>]`).
    #[serde(default)]
    pub defaults: Option<Spanned<ServiceLayer>>,
    /// The environments (`dev`, `staging`, `prod`, ...). Each gets its own tree under `generated/<env>/`.
    pub environments: SpannedMap<EnvironmentLayer>,
    /// The services, by name. A name must be a DNS-1123 label: it becomes object names and a directory name.
    #[serde(default)]
    pub services: ServiceLayers,
    /// The Kubernetes clusters environments run on, by name (a DNS-1123 label). Several
    /// environments may share one cluster; what is installed once per cluster (the
    /// monitoring stack, its Argo CD project and bootstrap) is rendered once per cluster,
    /// under `generated/clusters/<cluster>/` and `generated/argocd/<cluster>/`. Without
    /// this table, every environment is a cluster of its own, named after it.
    #[serde(default)]
    pub clusters: SpannedMap<ClusterLayer>,
    /// kube-prometheus-stack settings, one stack per cluster (`generated/values/<cluster>/monitoring.yaml`).
    #[serde(default)]
    pub monitoring: Option<Spanned<MonitoringLayer>>,
    /// Third-party Helm charts installed once per cluster (cert-manager, external-dns,
    /// ...), by name: kgen's presets, or any chart. See docs/platform.md#add-ons.
    #[serde(default)]
    pub addons: SpannedMap<AddonLayer>,
    /// Cluster-wide objects rendered on every cluster (ClusterIssuers, ClusterSecretStores,
    /// StorageClasses, Karpenter NodePools and EC2NodeClasses, platform roles,
    /// PriorityClasses), and what the clusters have without kgen. References to them
    /// are checked. See docs/baseline.md.
    #[serde(default)]
    pub baseline: Option<Spanned<BaselineLayer>>,
    /// Argo CD settings (`generated/argocd/<env>/`).
    #[serde(default)]
    pub argocd: Option<Spanned<ArgoCdSection>>,
    /// How public services are exposed (Ingress class, TLS, DNS). An environment can
    /// override any key in `[environments.<env>] ingress`.
    #[serde(default)]
    pub ingress: Option<Spanned<IngressLayer>>,
    /// NetworkPolicies for every service namespace. Present means on; an environment can
    /// override any key in `[environments.<env>] network_policy`.
    #[serde(default)]
    pub network_policy: Option<Spanned<NetworkPolicyLayer>>,
    /// External Secrets Operator settings, used when `secrets_backend = "external-secrets"`.
    /// An environment can override any key in `[environments.<env>] external_secrets`.
    #[serde(default)]
    pub external_secrets: Option<Spanned<ExternalSecretsLayer>>,
    /// How hand-written manifests (`manifests/` next to platform.toml) and patched
    /// objects are validated: CRD schema directories, kinds allowed without a schema.
    /// See docs/escape-hatch.md.
    #[serde(default)]
    pub manifests: Option<Spanned<ManifestsSection>>,
}

/// `overlays/<env>.toml`: what differs in one environment. It may only name
/// services and keys that exist in `platform.toml`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "kgen overlay (overlays/<env>.toml)")]
pub struct OverlayFile {
    /// Merged over `[environments.<env>]` of platform.toml.
    #[serde(default)]
    pub environment: Option<Spanned<EnvironmentLayer>>,
    /// Merged over `[services.<name>]` of platform.toml, for this environment only.
    #[serde(default)]
    pub services: ServiceLayers,
    /// Merged over `[monitoring]` of platform.toml (and the cluster's `monitoring`), for
    /// this environment's cluster. Only when the environment has its cluster to itself:
    /// the stack of a shared cluster is configured under `[clusters.<name>] monitoring`.
    #[serde(default)]
    pub monitoring: Option<Spanned<MonitoringLayer>>,
    /// Merged over `[addons.<name>]` (and the cluster's), for this environment's
    /// cluster, when the environment has its cluster to itself.
    #[serde(default)]
    pub addons: SpannedMap<AddonLayer>,
}

/// `[platform]`
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformSection {
    /// Name of the platform (DNS-1123 label). Set as the `app.kubernetes.io/part-of` label.
    pub name: Spanned<String>,
    /// Git repository that holds this platform and its `generated/` tree (Argo CD's source).
    pub repo: Spanned<String>,
    /// Directory of platform.toml inside `repo`, when it is not the repository's root
    /// (e.g. `platforms/kontaxa`). Argo CD source paths start with it. Default: the root.
    #[serde(default)]
    pub repo_path: Option<Spanned<String>>,
    /// Git revision Argo CD deploys from. Default: `HEAD`.
    #[serde(default)]
    pub revision: Option<Spanned<String>>,
    /// Default image registry, prepended to every service image that does not name its own
    /// registry host, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`.
    #[serde(default)]
    pub registry: Option<Spanned<String>>,
    /// Namespace of each service, a template. Default: `{{ service }}` (one namespace per service).
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
    /// AWS region passed to the Secrets Store CSI driver's AWS provider. Default: the node's region.
    #[serde(default)]
    pub aws_region: Option<Spanned<String>>,
    /// How pods get their IAM role: `irsa` (role ARN annotation on the ServiceAccount) or
    /// `pod-identity` (EKS Pod Identity: no annotation, the association is listed in
    /// `generated/<env>/pod-identity-associations.yaml` for Terraform). Default: `irsa`.
    /// An environment can override it.
    #[serde(default)]
    pub workload_identity: Option<Spanned<WorkloadIdentity>>,
    /// How secrets reach pods: `csi` (Secrets Store CSI driver, files under
    /// `/mnt/secrets-store`) or `external-secrets` (an ExternalSecret per service, loaded
    /// with `envFrom`). Default: `csi`. An environment can override it.
    #[serde(default)]
    pub secrets_backend: Option<Spanned<SecretsBackend>>,
    /// More registries images may come from, besides `registry` (policy rule KG209), e.g.
    /// `["ghcr.io/acme", "public.ecr.aws/acme"]`.
    #[serde(default)]
    pub allowed_registries: Option<Spanned<Vec<Spanned<String>>>>,
    /// Policy rules waived for every service, each with a written reason:
    /// `[{ rule = "KG202", reason = "..." }]`. Shown in the header of the files they affect.
    #[serde(default)]
    pub waivers: Option<Spanned<Vec<WaiverLayer>>>,
}

/// Argo CD sync mode of an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// Automated sync with prune and self-heal.
    Auto,
    /// No automated sync: somebody presses Sync.
    Manual,
}

/// `[environments.<env>]` in platform.toml, or `[environment]` in `overlays/<env>.toml`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentLayer {
    /// The cluster this environment runs on: the name of a `[clusters.<name>]` table, or
    /// an API server URL Argo CD deploys to (the environment is then a cluster of its own,
    /// named after the environment). Default: `https://kubernetes.default.svc`.
    #[serde(default)]
    pub cluster: Option<Spanned<String>>,
    /// Namespace of every service in this environment, a template (e.g.
    /// `"{{ env.name }}-{{ service }}"` when environments share a cluster). Overrides
    /// `[platform] namespace`; a service's own `namespace` overrides it.
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
    /// Argo CD project of this environment's applications. Default: the environment's name.
    #[serde(default)]
    pub project: Option<Spanned<String>>,
    /// `auto` (automated sync with prune and self-heal) or `manual`. Default: `manual`.
    #[serde(default)]
    pub sync: Option<Spanned<SyncMode>>,
    /// Marks a production environment: stricter policy checks apply. Default: `false`.
    #[serde(default)]
    pub production: Option<Spanned<bool>>,
    /// Free variables for templates, available as `{{ env.<name> }}` (account ids, domains, ...).
    #[serde(default)]
    pub vars: SpannedMap<String>,
    /// The only secret paths this environment may reference, e.g. `["dev/", "staging/"]`
    /// or `["production/"]`: every secret `key` must start with one of them (a leading `/`
    /// of an SSM parameter name is ignored). Default: no restriction.
    #[serde(default)]
    pub secret_prefixes: Option<Spanned<Vec<Spanned<String>>>>,
    /// Overrides `[platform] workload_identity` in this environment.
    #[serde(default)]
    pub workload_identity: Option<Spanned<WorkloadIdentity>>,
    /// Overrides `[platform] secrets_backend` in this environment.
    #[serde(default)]
    pub secrets_backend: Option<Spanned<SecretsBackend>>,
    /// Merged over `[ingress]` in this environment.
    #[serde(default)]
    pub ingress: Option<Spanned<IngressLayer>>,
    /// Merged over `[network_policy]` in this environment.
    #[serde(default)]
    pub network_policy: Option<Spanned<NetworkPolicyLayer>>,
    /// Merged over `[external_secrets]` in this environment.
    #[serde(default)]
    pub external_secrets: Option<Spanned<ExternalSecretsLayer>>,
}

/// `[clusters.<name>]`: one Kubernetes cluster, as Argo CD reaches it.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterLayer {
    /// API server URL Argo CD deploys to (`destination.server`), e.g.
    /// `https://kubernetes.default.svc` for the cluster Argo CD runs in. Set this or
    /// `destination_name`. Default: `https://kubernetes.default.svc`.
    #[serde(default)]
    pub server: Option<Spanned<String>>,
    /// The cluster's name as registered in Argo CD (`destination.name`), instead of `server`.
    #[serde(default)]
    pub destination_name: Option<Spanned<String>>,
    /// Kubernetes minor version the cluster runs, e.g. `"1.30"`; older than the oldest
    /// version kgen's output supports is an error. Add-ons follow it (the Cluster
    /// Autoscaler's image). Default: `"1.29"`, the oldest version kgen supports.
    #[serde(default)]
    pub kubernetes_version: Option<Spanned<String>>,
    /// Argo CD project of what is installed once per cluster (the monitoring stack).
    /// Default: the project of the cluster's environment when it hosts one, else the
    /// cluster's name.
    #[serde(default)]
    pub project: Option<Spanned<String>>,
    /// Free variables for templates, available as `{{ cluster.<name> }}` (account id,
    /// region, VPC id, the EKS cluster name, ...).
    #[serde(default)]
    pub vars: SpannedMap<String>,
    /// Merged over the top-level `[monitoring]` for this cluster: one kube-prometheus-stack
    /// per cluster scrapes every environment on it.
    #[serde(default)]
    pub monitoring: Option<Spanned<MonitoringLayer>>,
    /// Merged over `[addons.<name>]` for this cluster (`enabled = false` leaves one out);
    /// an add-on only this cluster runs can be declared here alone.
    #[serde(default)]
    pub addons: SpannedMap<AddonLayer>,
    /// Merged over `[baseline]` for this cluster, object by object and key by key
    /// (`enabled = false` leaves one object out); objects only this cluster has can be
    /// declared here alone.
    #[serde(default)]
    pub baseline: Option<Spanned<BaselineLayer>>,
}

/// One layer of a service: `[defaults]`, `[services.<name>]`, or an overlay's `[services.<name>]`.
// The tables are boxed: most layers set a few keys (an overlay often only `tag`),
// and a layer held them all inline (about 4 KB each, 4,000 layers at 1,000 services).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceLayer {
    /// Set to `false` to leave the service out (typically in one environment's overlay). Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// Image repository, e.g. `kontaxa/main-api`. The platform registry is prepended unless the
    /// first component is a registry host (`ghcr.io/org/app`). No tag or digest here: use `tag`/`digest`.
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    /// Image tag, e.g. `1.4.2`. Usually set per environment in the overlay. `latest` is refused.
    #[serde(default)]
    pub tag: Option<Spanned<String>>,
    /// Image digest, `sha256:<64 hex>`. When set, the image is pinned by digest (the tag stays readable).
    #[serde(default)]
    pub digest: Option<Spanned<String>>,
    /// Container port, also the Service port. Built-in default: 8080.
    #[serde(default)]
    pub port: Option<Spanned<i64>>,
    /// Replica count when there is no autoscaling. Built-in default: 2.
    #[serde(default)]
    pub replicas: Option<Spanned<i64>>,
    /// Namespace override for this service, a template. Default: `[platform] namespace`.
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
    /// CPU and memory requests and limits.
    #[serde(default)]
    pub resources: Option<Box<Spanned<ResourcesLayer>>>,
    /// HTTP probe paths on the container port.
    #[serde(default)]
    pub probes: Option<Box<Spanned<ProbesLayer>>>,
    /// Environment variables, `NAME = "value"` (values are templates). Literal secrets are refused: use `secrets`.
    #[serde(default)]
    pub env: SpannedMap<Scalar>,
    /// Entries of the service's ConfigMap (`<service>-config`), loaded with `envFrom`. Values are templates.
    #[serde(default)]
    pub config: SpannedMap<Scalar>,
    /// Horizontal Pod Autoscaler. Present with `max` set means an HPA owns the replica count.
    #[serde(default)]
    pub autoscaling: Option<Box<Spanned<AutoscalingLayer>>>,
    /// IAM role ARN for IRSA (`eks.amazonaws.com/role-arn` on the ServiceAccount), a template.
    #[serde(default)]
    pub iam_role: Option<Spanned<String>>,
    /// Secrets mounted from AWS Secrets Manager or SSM Parameter Store at `/mnt/secrets-store/<name>`.
    #[serde(default)]
    pub secrets: Option<Spanned<Vec<SecretLayer>>>,
    /// Numeric user and group the container runs as. Built-in default: 10001.
    #[serde(default)]
    pub run_as_user: Option<Spanned<i64>>,
    /// Prometheus scraping of this service (a ServiceMonitor). Off unless set.
    #[serde(default)]
    pub metrics: Option<Box<Spanned<MetricsLayer>>>,
    /// Makes the service public: an Ingress for `host`, with TLS and DNS. Off unless set.
    #[serde(default)]
    pub ingress: Option<Box<Spanned<ServiceIngressLayer>>>,
    /// Services this one calls. Their NetworkPolicies admit this service's pods. Default: none.
    #[serde(default)]
    pub calls: Option<Spanned<Vec<Spanned<String>>>>,
    /// PodDisruptionBudget, written whenever the service can run more than one replica.
    #[serde(default)]
    pub disruption_budget: Option<Box<Spanned<DisruptionBudgetLayer>>>,
    /// topologySpreadConstraints of the pods across zones and nodes.
    #[serde(default)]
    pub spread: Option<Box<Spanned<SpreadLayer>>>,
    /// Policy rules waived for this service, each with a written reason:
    /// `[{ rule = "KG202", reason = "..." }]`. Only under `[services.<name>]` in platform.toml.
    #[serde(default)]
    pub waivers: Option<Spanned<Vec<WaiverLayer>>>,
    /// The kind of workload: `deployment` (the default), `worker`, `statefulset`,
    /// `cronjob`, `job` or `daemonset`.
    #[serde(default)]
    pub kind: Option<Spanned<WorkloadKind>>,
    /// The main container's command (the image's entrypoint when not set).
    #[serde(default)]
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    /// Arguments to the main container's command.
    #[serde(default)]
    pub args: Option<Spanned<Vec<Spanned<String>>>>,
    /// More named container ports besides `http` (`port`): `{ grpc = 9090 }`, or
    /// `{ admin = { port = 9901, expose = false } }`. Exposed on the Service unless `expose = false`.
    #[serde(default)]
    pub ports: SpannedMap<PortLayer>,
    /// The service's Service: `{ type = "NodePort", port = 80 }`, or `{ enabled = false }`.
    #[serde(default)]
    pub service: Option<Box<Spanned<ServicePortLayer>>>,
    /// Containers running beside the main one, by name (native sidecars: init
    /// containers that keep running).
    #[serde(default)]
    pub sidecars: SpannedMap<ContainerLayer>,
    /// Containers that run to completion before the others start, by name.
    #[serde(default)]
    pub init_containers: SpannedMap<ContainerLayer>,
    /// Volumes by name: `{ cache = { mount = "/cache", empty_dir = {} } }`.
    #[serde(default)]
    pub volumes: SpannedMap<VolumeLayer>,
    /// Files mounted read-only in the main container, from the ConfigMap `<service>-files`,
    /// by file name: `{ "app.yaml" = { path = "/etc/app/app.yaml", content = "..." } }`.
    #[serde(default)]
    pub files: SpannedMap<FileLayer>,
    /// Node labels the pods must run on: `{ "kubernetes.io/arch" = "arm64" }`.
    #[serde(default)]
    pub node_selector: SpannedMap<String>,
    /// Taints the pods tolerate.
    #[serde(default)]
    pub tolerations: Option<Spanned<Vec<TolerationLayer>>>,
    /// Required and preferred node labels.
    #[serde(default)]
    pub node_affinity: Option<Box<Spanned<NodeAffinityLayer>>>,
    /// PriorityClass of the pods. Default: none (the cluster's default).
    #[serde(default)]
    pub priority_class: Option<Spanned<String>>,
    /// Seconds between SIGTERM and SIGKILL when a pod stops. Default: Kubernetes' (30).
    #[serde(default)]
    pub termination_grace_period: Option<Spanned<i64>>,
    /// Names of Secrets (of type `kubernetes.io/dockerconfigjson`, created outside kgen,
    /// e.g. by the External Secrets Operator) holding credentials for a private registry.
    #[serde(default)]
    pub image_pull_secrets: Option<Spanned<Vec<Spanned<String>>>>,
    /// Labels added to every object of the service and to its pods (not the keys kgen
    /// sets; never to selectors).
    #[serde(default)]
    pub labels: SpannedMap<String>,
    /// Annotations added to every object of the service (not the ones kgen sets).
    #[serde(default)]
    pub annotations: SpannedMap<String>,
    /// Labels added to the pods only.
    #[serde(default)]
    pub pod_labels: SpannedMap<String>,
    /// Annotations added to the pods only.
    #[serde(default)]
    pub pod_annotations: SpannedMap<String>,
    /// The ServiceAccount's settings.
    #[serde(default)]
    pub service_account: Option<Box<Spanned<ServiceAccountLayer>>>,
    /// How new versions replace old pods.
    #[serde(default)]
    pub rollout: Option<Box<Spanned<RolloutLayer>>>,
    /// `cronjob` only: the schedule, five cron fields (`"0 3 * * *"`) or a macro such as `@daily`.
    #[serde(default)]
    pub schedule: Option<Spanned<String>>,
    /// `cronjob` only: time zone, concurrency, history, deadline, suspension.
    #[serde(default)]
    pub cron: Option<Box<Spanned<CronLayer>>>,
    /// `job` and `cronjob`: retries, deadlines, completions.
    #[serde(default)]
    pub job: Option<Box<Spanned<JobLayer>>>,
    /// `job` only: run it as an Argo CD hook (e.g. `{ phase = "PreSync" }` for a migration).
    #[serde(default)]
    pub hook: Option<Box<Spanned<HookLayer>>>,
    /// `statefulset` only: pod management and volume claim retention.
    #[serde(default)]
    pub statefulset: Option<Box<Spanned<StatefulSetLayer>>>,
    /// Patches on the service's rendered objects, by name (applied in name order, after
    /// rendering and before validation): a JSON merge patch (`merge`), a JSON Patch
    /// (`json`) or a YAML file of either (`file`). See docs/escape-hatch.md.
    #[serde(default)]
    pub patches: SpannedMap<PatchLayer>,
}

/// `{ rule = "KG202", reason = "batch worker: no HTTP endpoint to probe" }`
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverLayer {
    /// The policy rule waived (KG201-KG216, see docs/rules.md).
    pub rule: Spanned<String>,
    /// Why the rule does not apply here (required, not empty).
    pub reason: Spanned<String>,
}

/// `resources = { requests = { cpu, memory }, limits = { cpu, memory } }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcesLayer {
    /// Built-in default: `{ cpu = "100m", memory = "128Mi" }`.
    #[serde(default)]
    pub requests: Option<Spanned<CpuMemLayer>>,
    /// Built-in default: `{ cpu = "500m", memory = "256Mi" }`.
    #[serde(default)]
    pub limits: Option<Spanned<CpuMemLayer>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuMemLayer {
    /// Kubernetes quantity, e.g. `250m` or `1`.
    #[serde(default)]
    pub cpu: Option<Spanned<String>>,
    /// Kubernetes quantity, e.g. `256Mi`.
    #[serde(default)]
    pub memory: Option<Spanned<String>>,
}

/// `probes = { liveness = "/health", readiness = "/ready", startup = { http = "/health", failure_threshold = 30 } }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbesLayer {
    /// Restarts the container when it fails: an HTTP path on `http`, or a table.
    #[serde(default)]
    pub liveness: Option<Spanned<ProbeLayer>>,
    /// Takes the pod out of its Service while it fails: an HTTP path on `http`, or a table.
    #[serde(default)]
    pub readiness: Option<Spanned<ProbeLayer>>,
    /// Holds the other probes until it succeeds once (slow starters): a path or a table.
    #[serde(default)]
    pub startup: Option<Spanned<ProbeLayer>>,
}

/// `autoscaling = { min = 2, max = 5, cpu = 70 }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingLayer {
    /// Set to `false` to turn off autoscaling inherited from `[defaults]`. Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// Minimum replicas (≥ 1). Default: 1.
    #[serde(default)]
    pub min: Option<Spanned<i64>>,
    /// Maximum replicas (≥ min). Required for an HPA.
    #[serde(default)]
    pub max: Option<Spanned<i64>>,
    /// Target average CPU utilisation, percent of requests.
    #[serde(default)]
    pub cpu: Option<Spanned<i64>>,
    /// Target average memory utilisation, percent of requests.
    #[serde(default)]
    pub memory: Option<Spanned<i64>>,
    /// How fast the autoscaler scales up and down.
    #[serde(default)]
    pub behavior: Option<Spanned<ScalingBehaviorLayer>>,
}

/// Where a secret lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    /// AWS Secrets Manager.
    Secretsmanager,
    /// AWS Systems Manager Parameter Store.
    Ssm,
}

/// `{ name = "db-password", from = "secretsmanager", key = "{{ env.name }}/aux-service/db", json_key = "password" }`
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretLayer {
    /// File name under `/mnt/secrets-store/`.
    pub name: Spanned<String>,
    /// `secretsmanager` or `ssm`.
    pub from: Spanned<SecretSource>,
    /// Secret name or ARN (Secrets Manager) or parameter name (SSM), a template.
    pub key: Spanned<String>,
    /// For a JSON secret: the key to extract (a JMESPath), mounted as `name`.
    #[serde(default)]
    pub json_key: Option<Spanned<String>>,
}

/// `metrics = { path = "/metrics", port = 9090 }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsLayer {
    /// Set to `false` to stop scraping a service that inherits metrics from `[defaults]`. Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// HTTP path of the metrics endpoint. Default: `/metrics`.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// Port of the metrics endpoint. Default: the service's `port`.
    #[serde(default)]
    pub port: Option<Spanned<i64>>,
    /// Scrape interval, e.g. `30s`. Default: `30s`.
    #[serde(default)]
    pub interval: Option<Spanned<String>>,
}

/// `[monitoring]`: kube-prometheus-stack in the `monitoring` namespace.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringLayer {
    /// Set to `false` for no monitoring tree and no monitoring Application. Default: `true` when `[monitoring]` exists.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// kube-prometheus-stack chart version (semver), e.g. `77.0.0`.
    #[serde(default)]
    pub chart_version: Option<Spanned<String>>,
    /// Helm repository of the chart. Default: `https://prometheus-community.github.io/helm-charts`.
    #[serde(default)]
    pub chart_repo: Option<Spanned<String>>,
    /// Namespace of the stack. Default: `monitoring`.
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
    /// Prometheus retention, e.g. `15d`. Default: `15d`.
    #[serde(default)]
    pub retention: Option<Spanned<String>>,
    /// Prometheus volume size (quantity). Default: `50Gi`.
    #[serde(default)]
    pub prometheus_storage: Option<Spanned<String>>,
    /// Prometheus replicas. Default: 1.
    #[serde(default)]
    pub prometheus_replicas: Option<Spanned<i64>>,
    /// Grafana volume size (quantity). Default: `10Gi`.
    #[serde(default)]
    pub grafana_storage: Option<Spanned<String>>,
    /// Alertmanager volume size (quantity). Default: `10Gi`.
    #[serde(default)]
    pub alertmanager_storage: Option<Spanned<String>>,
    /// Alertmanager replicas. Default: 1.
    #[serde(default)]
    pub alertmanager_replicas: Option<Spanned<i64>>,
    /// StorageClass of every volume. Default: `gp3`.
    #[serde(default)]
    pub storage_class: Option<Spanned<String>>,
}

/// `[argocd]`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgoCdSection {
    /// Namespace Argo CD runs in. Default: `argocd`.
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
    /// The Argo CD projects environments may use. When set, an environment naming any
    /// other project is an error (a typo would otherwise create a new project).
    #[serde(default)]
    pub projects: Option<Spanned<Vec<Spanned<String>>>>,
    /// Where the generated Applications take their manifests from: `committed` (the
    /// files under `generated/<env>/<service>`) or `plugin` (kgen's config management
    /// plugin renders them in the repo-server, see docs/argocd-cmp.md). Default: `committed`.
    #[serde(default)]
    pub mode: Option<Spanned<ArgoCdMode>>,
    /// Template of the name of each service's Argo CD Application, with the variables
    /// of platform.toml strings (`env`, `service`, `cluster`, `platform`), like
    /// `"{{ service }}-{{ env.name }}"`. Must render to a DNS-1123 label (Argo CD
    /// writes the name into each object's tracking label), distinct per Argo CD.
    /// Default: `{{ env.name }}-{{ service }}`.
    #[serde(default)]
    pub application_name: Option<Spanned<String>>,
}

/// Where Argo CD Applications take their manifests from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArgoCdMode {
    /// The committed files under `generated/<env>/<service>`.
    #[default]
    Committed,
    /// kgen's config management plugin (`kgen cmp generate`) in the repo-server.
    Plugin,
}

/// How pods authenticate to AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadIdentity {
    /// IAM Roles for Service Accounts: `eks.amazonaws.com/role-arn` on the ServiceAccount.
    Irsa,
    /// EKS Pod Identity: the role is associated with the ServiceAccount in AWS (Terraform).
    PodIdentity,
}

/// Where pods get their secrets from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretsBackend {
    /// Secrets Store CSI driver (AWS provider): files under `/mnt/secrets-store/<name>`.
    Csi,
    /// External Secrets Operator: an `ExternalSecret` syncs a Secret, loaded with `envFrom`.
    ExternalSecrets,
}

/// Ingress controller of public services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IngressClass {
    /// ingress-nginx (IngressClass `nginx`); TLS terminated by nginx with cert-manager's certificate.
    Nginx,
    /// AWS Load Balancer Controller (IngressClass `alb`): one ALB, TLS from ACM.
    Alb,
}

/// `[ingress]`, or `ingress = { ... }` in `[environments.<env>]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressLayer {
    /// `nginx` or `alb`. Default: `nginx`.
    #[serde(default)]
    pub class: Option<Spanned<IngressClass>>,
    /// Namespace of the ingress controller's pods, admitted by public services'
    /// NetworkPolicies (class `nginx`). Default: `ingress-nginx`.
    #[serde(default)]
    pub controller_namespace: Option<Spanned<String>>,
    /// Serve HTTPS: a `tls` section with the Secret `<service>-tls`. Default: `true`.
    #[serde(default)]
    pub tls: Option<Spanned<bool>>,
    /// Let cert-manager issue the TLS certificate (the `cert-manager.io/cluster-issuer`
    /// annotation). Default: `true` with `nginx`; `false` with `alb`, where it cannot be
    /// turned on: an ALB serves only ACM certificates, never a cert-manager Secret.
    #[serde(default)]
    pub cert_manager: Option<Spanned<bool>>,
    /// cert-manager ClusterIssuer that issues the TLS certificate. Default: `letsencrypt-prod`.
    #[serde(default)]
    pub cluster_issuer: Option<Spanned<String>>,
    /// Settings of the AWS Load Balancer Controller, used when `class = "alb"`.
    #[serde(default)]
    pub alb: Option<Spanned<AlbLayer>>,
}

/// Scheme of an ALB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AlbScheme {
    /// Reachable from the internet.
    InternetFacing,
    /// Reachable from inside the VPC only.
    Internal,
}

/// `alb = { scheme = "internet-facing", certificate_arn = "...", ... }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbLayer {
    /// `internet-facing` or `internal`. Default: `internet-facing`.
    #[serde(default)]
    pub scheme: Option<Spanned<AlbScheme>>,
    /// ACM certificate ARN served by the ALB, a template. Default: none (the controller
    /// discovers an ACM certificate matching the host).
    #[serde(default)]
    pub certificate_arn: Option<Spanned<String>>,
    /// Redirect HTTP to HTTPS. Default: `true` (when `tls` is on).
    #[serde(default)]
    pub ssl_redirect: Option<Spanned<bool>>,
    /// IngressGroup name: services with the same group share one ALB. Default: none (one ALB per service).
    #[serde(default)]
    pub group: Option<Spanned<String>>,
    /// CIDR blocks the ALB connects from (its subnets), admitted by NetworkPolicies.
    /// Default: none (any source may reach the service's port).
    #[serde(default)]
    pub source_cidrs: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Egress part of NetworkPolicies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EgressPolicy {
    /// No egress rules: pods reach anything (AWS APIs, databases, the internet).
    Open,
    /// Default-deny egress, allowing DNS, the services a service `calls`, HTTPS (443) anywhere
    /// and the EKS Pod Identity agent.
    Restricted,
}

/// `[network_policy]`, or `network_policy = { ... }` in `[environments.<env>]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkPolicyLayer {
    /// `false` writes no NetworkPolicies. Default: `true` when the table exists.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// `open` or `restricted`. Default: `open`.
    #[serde(default)]
    pub egress: Option<Spanned<EgressPolicy>>,
}

/// `[external_secrets]`, or `external_secrets = { ... }` in `[environments.<env>]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalSecretsLayer {
    /// ClusterSecretStore for `secretsmanager` secrets. Default: `aws-secrets-manager`.
    #[serde(default)]
    pub store: Option<Spanned<String>>,
    /// ClusterSecretStore for `ssm` secrets (AWS Parameter Store). Default: `aws-parameter-store`.
    #[serde(default)]
    pub ssm_store: Option<Spanned<String>>,
    /// How often the operator re-reads the secrets, a Go duration. Default: `1h`.
    #[serde(default)]
    pub refresh_interval: Option<Spanned<String>>,
    /// API version of the ExternalSecrets kgen writes: `v1` (served by the External
    /// Secrets Operator since v0.16) or `v1beta1` (for releases before v0.16, which serve
    /// only that; v0.17 stopped serving it). Default: `v1`.
    #[serde(default)]
    pub api_version: Option<Spanned<EsoApiVersion>>,
}

/// API version of the External Secrets Operator's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EsoApiVersion {
    /// `external-secrets.io/v1`.
    V1,
    /// `external-secrets.io/v1beta1`.
    V1beta1,
}

/// `ingress = { host = "api.{{ env.domain }}" }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIngressLayer {
    /// Set to `false` to keep a service private in one environment. Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// Public host name, a template, e.g. `api.{{ env.domain }}`. Required.
    #[serde(default)]
    pub host: Option<Spanned<String>>,
    /// URL path prefix routed to the service. Default: `/`.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
}

/// `disruption_budget = { max_unavailable = 1 }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisruptionBudgetLayer {
    /// Set to `false` for no PodDisruptionBudget. Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// Pods that may be down at once during voluntary disruptions (drains): a count
    /// (≥ 1) or a percentage such as `"25%"`. Default: `1`.
    #[serde(default)]
    pub max_unavailable: Option<Spanned<IntOrPercent>>,
    /// Instead of `max_unavailable`: pods that must stay up (a count or a percentage).
    #[serde(default)]
    pub min_available: Option<Spanned<IntOrPercent>>,
}

/// How strictly pods are spread over a topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SpreadMode {
    /// `whenUnsatisfiable: ScheduleAnyway`: prefer spreading, never leave a pod pending.
    Soft,
    /// `whenUnsatisfiable: DoNotSchedule`: a pod stays pending rather than skew the spread.
    Hard,
    /// No constraint for this topology.
    Off,
}

/// `spread = { zones = "soft", nodes = "soft" }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpreadLayer {
    /// Across availability zones (`topology.kubernetes.io/zone`). Default: `soft`.
    #[serde(default)]
    pub zones: Option<Spanned<SpreadMode>>,
    /// Across nodes (`kubernetes.io/hostname`). Default: `soft`.
    #[serde(default)]
    pub nodes: Option<Spanned<SpreadMode>>,
}

/// An integer or a percentage string (`1`, `"25%"`), as Kubernetes' IntOrString.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(with = "IntOrPercentSchema")]
pub enum IntOrPercent {
    Int(i64),
    /// The text as written, e.g. `25%` (checked in resolve).
    Str(String),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum IntOrPercentSchema {
    Integer(i64),
    /// A percentage, e.g. `"25%"`.
    Percent(String),
}

impl<'de> Deserialize<'de> for IntOrPercent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = IntOrPercent;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an integer or a percentage such as \"25%\"")
            }
            fn visit_i64<E>(self, v: i64) -> Result<IntOrPercent, E> {
                Ok(IntOrPercent::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IntOrPercent, E> {
                i64::try_from(v)
                    .map(IntOrPercent::Int)
                    .map_err(|_| E::custom("number too large"))
            }
            fn visit_str<E>(self, v: &str) -> Result<IntOrPercent, E> {
                Ok(IntOrPercent::Str(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A scalar written as a string, integer, float or boolean; kept as its string form.
/// Lets users write `WORKERS = 4` for an environment variable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[schemars(with = "ScalarSchema")]
pub struct Scalar(pub String);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ScalarSchema {
    String(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}
