//! The typed shape of a service's layer (`[defaults]`, `[services.<name>]`, an
//! overlay's `[services.<name>]`) and of the tables around its pods: resources,
//! autoscaling, secrets, metrics, its ingress, disruption budget, spread and waivers.
//! What its pods are made of is in `workload`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    ContainerLayer, CronLayer, EnvValue, FileLayer, HookLayer, IntOrPercent, JobLayer,
    NodeAffinityLayer, PatchLayer, PortLayer, ProbeLayer, RolloutLayer, Scalar,
    ScalingBehaviorLayer, ServiceAccountLayer, ServicePortLayer, SpannedMap, StatefulSetLayer,
    TolerationLayer, VolumeLayer, WorkloadKind,
};
use crate::spanned::Spanned;
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
    /// Image digest, `sha256:<64 hex>` (or `sha384:`, `sha512:`). When set, the image is pinned by digest (the tag stays readable).
    #[serde(default)]
    pub digest: Option<Spanned<String>>,
    /// Container port, also the Service port. Built-in default: 8080.
    #[serde(default)]
    pub port: Option<Spanned<i64>>,
    /// Name of the main port (`port`) on the container and the Service(s), which probes,
    /// the Ingress, the ServiceMonitor and the NetworkPolicy use: an IANA service name
    /// (lowercase letters, digits and `-`, at most 15 characters), e.g. `redis`.
    /// Built-in default: `http`.
    #[serde(default)]
    pub port_name: Option<Spanned<String>>,
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
    /// Environment variables, `NAME = "value"` (values are templates), or a value read
    /// when the pod starts: `{ field = "metadata.name" }`, `{ resource = "limits.cpu" }`,
    /// `{ config_map = "<name>", key = "<key>" }`, `{ secret = "<name>", key = "<key>" }`.
    /// Literal secrets are refused: use `secrets`, or a `secret` reference.
    #[serde(default)]
    pub env: SpannedMap<EnvValue>,
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
    /// Pod Security Admission level the service's namespace enforces: `restricted`
    /// (kgen's pods satisfy it), `baseline` or `privileged`, for a node agent whose
    /// pods use the node (a `hostPath` a patch adds, with KG206 waived: the other
    /// levels refuse such pods, KG117). A namespace that several services (or an
    /// add-on) share enforces the least strict level any of them needs. Not in
    /// `[defaults]`. Default: `restricted`.
    #[serde(default)]
    pub pod_security: Option<Spanned<super::PodSecurityLevel>>,
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
    /// The policy rule waived (KG201-KG218, see docs/rules.md).
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

/// `ingress = { host = "api.{{ env.domain }}" }`, or several hosts and paths:
/// `ingress = { hosts = ["api.example.com", "api.example.org"], paths = ["/api", "/v2"] }`.
/// `host` and `hosts` are one setting in two forms, and so are `path` and `paths`: a
/// table sets one form of each (kgen refuses both, KG019), and a layer that sets either
/// form replaces what a lower layer set in either.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("not" = { "anyOf": [{ "required": ["host", "hosts"] }, { "required": ["path", "paths"] }] }))]
pub struct ServiceIngressLayer {
    /// Set to `false` to keep a service private in one environment. Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// Public host name, a template, e.g. `api.{{ env.domain }}`. Required, or `hosts`.
    #[serde(default)]
    pub host: Option<Spanned<String>>,
    /// Instead of `host`: several public host names, each a template, e.g.
    /// `["api.example.com", "api.example.org"]`. Every host routes every path.
    #[serde(default)]
    #[schemars(extend("minItems" = 1, "uniqueItems" = true))]
    pub hosts: Option<Spanned<Vec<Spanned<String>>>>,
    /// URL path prefix routed to the service, a template. Default: `/`.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// Instead of `path`: several path prefixes, each a template, e.g. `["/api", "/v2"]`.
    #[serde(default)]
    #[schemars(extend("minItems" = 1, "uniqueItems" = true))]
    pub paths: Option<Spanned<Vec<Spanned<String>>>>,
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
