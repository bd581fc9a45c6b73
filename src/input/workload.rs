//! The typed shape of what a service's pods are: the kind of workload, containers
//! beside the main one, ports, probes, volumes and files, placement, rollout, and the
//! settings of each kind (StatefulSet, CronJob, Job).
//!
//! Like the rest of `input`, every field is optional here and merged across layers
//! (`[defaults]` < `[services.<name>]` < overlay) leaf by leaf; maps keyed by name
//! (`sidecars`, `ports`, `volumes`, `files`) merge entry by entry, and inside an entry
//! leaf by leaf, so an overlay can set one sidecar's `tag`. Values are checked in
//! `resolve`.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use super::{IntOrPercent, Scalar, SpannedMap};
use crate::spanned::Spanned;

/// What kind of workload a service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    /// A Deployment behind a Service (the default): an HTTP API, a web app.
    Deployment,
    /// A Deployment with no Service, no port and no Ingress: a queue consumer.
    Worker,
    /// A StatefulSet with a headless Service and volumes per pod: a database, a broker.
    Statefulset,
    /// A CronJob: a job on a schedule (`schedule`).
    Cronjob,
    /// A Job run once per change, e.g. a database migration, optionally as an Argo CD
    /// hook before the new version rolls out (`hook`).
    Job,
    /// A DaemonSet: one pod per node.
    Daemonset,
}

/// A probe: an HTTP path on the `http` port (`"/health"`), or a table.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(with = "ProbeSchema")]
pub enum ProbeLayer {
    /// `"/health"`: an HTTP GET of that path on the `http` port.
    Path(String),
    Table(Box<ProbeTable>),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)]
enum ProbeSchema {
    /// An HTTP path on the `http` port, e.g. `"/health"`.
    Path(String),
    Table(ProbeTable),
}

impl<'de> Deserialize<'de> for ProbeLayer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ProbeLayer;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "an HTTP path such as \"/health\", or a table such as { tcp = \"http\" }",
                )
            }
            fn visit_str<E>(self, v: &str) -> Result<ProbeLayer, E> {
                Ok(ProbeLayer::Path(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ProbeLayer, A::Error> {
                ProbeTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|t| ProbeLayer::Table(Box::new(t)))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `{ http = "/ready", port = "admin", period = 5 }`: exactly one of `http`, `tcp`,
/// `grpc`, `exec`, and the timing of the probe.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeTable {
    /// HTTP GET of this path.
    #[serde(default)]
    pub http: Option<Spanned<String>>,
    /// A TCP connection to this port (a port name such as `"http"`, or a number).
    #[serde(default)]
    pub tcp: Option<Spanned<PortRef>>,
    /// A gRPC health check on this port (name or number).
    #[serde(default)]
    pub grpc: Option<Spanned<PortRef>>,
    /// The gRPC health service name (`grpc` only). Default: none (the server's overall health).
    #[serde(default)]
    pub grpc_service: Option<Spanned<String>>,
    /// A command run in the container; healthy when it exits 0.
    #[serde(default)]
    pub exec: Option<Spanned<Vec<Spanned<String>>>>,
    /// Port of `http` (name or number). Default: `http`.
    #[serde(default)]
    pub port: Option<Spanned<PortRef>>,
    /// Seconds after start before the first probe. Default: Kubernetes' (0).
    #[serde(default)]
    pub initial_delay: Option<Spanned<i64>>,
    /// Seconds between probes. Default: Kubernetes' (10).
    #[serde(default)]
    pub period: Option<Spanned<i64>>,
    /// Seconds before a probe times out. Default: Kubernetes' (1).
    #[serde(default)]
    pub timeout: Option<Spanned<i64>>,
    /// Failures in a row before the probe fails. Default: Kubernetes' (3).
    #[serde(default)]
    pub failure_threshold: Option<Spanned<i64>>,
    /// Successes in a row after a failure (readiness only; 1 for the others). Default: 1.
    #[serde(default)]
    pub success_threshold: Option<Spanned<i64>>,
}

/// A port by name (`"http"`) or number (`8000`).
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(with = "PortRefSchema")]
pub enum PortRef {
    Name(String),
    Number(i64),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PortRefSchema {
    /// A port name, e.g. `"http"`.
    Name(String),
    /// A port number.
    Number(i64),
}

impl<'de> Deserialize<'de> for PortRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PortRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a port name such as \"http\" or a port number")
            }
            fn visit_str<E>(self, v: &str) -> Result<PortRef, E> {
                Ok(PortRef::Name(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<PortRef, E> {
                Ok(PortRef::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PortRef, E> {
                i64::try_from(v)
                    .map(PortRef::Number)
                    .map_err(|_| E::custom("port number too large"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A named container port: a number (`9090`), or a table.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(with = "PortSchema")]
pub enum PortLayer {
    Number(i64),
    Table(PortTable),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PortSchema {
    /// The container port; the Service exposes it on the same number.
    Number(i64),
    Table(PortTable),
}

impl<'de> Deserialize<'de> for PortLayer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PortLayer;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a port number, or a table such as { port = 9090, service_port = 90 }")
            }
            fn visit_i64<E>(self, v: i64) -> Result<PortLayer, E> {
                Ok(PortLayer::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PortLayer, E> {
                i64::try_from(v)
                    .map(PortLayer::Number)
                    .map_err(|_| E::custom("port number too large"))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<PortLayer, A::Error> {
                PortTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(PortLayer::Table)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `{ port = 9090, protocol = "TCP", service_port = 90, expose = true }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortTable {
    /// The container port (1–65535). Required.
    #[serde(default)]
    pub port: Option<Spanned<i64>>,
    /// `TCP`, `UDP` or `SCTP`. Default: `TCP`.
    #[serde(default)]
    pub protocol: Option<Spanned<Protocol>>,
    /// Port number on the Service. Default: the container port.
    #[serde(default)]
    pub service_port: Option<Spanned<i64>>,
    /// Expose the port on the Service. Default: `true`.
    #[serde(default)]
    pub expose: Option<Spanned<bool>>,
    /// `appProtocol` on the Service port, e.g. `grpc` or `kubernetes.io/h2c`. Default: none.
    #[serde(default)]
    pub app_protocol: Option<Spanned<String>>,
}

/// A network protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Protocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// `service = { type = "NodePort", port = 80 }`: the service's Service.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePortLayer {
    /// `false`: no Service (the pods are not reachable by name; a `statefulset` keeps
    /// its headless Service, which names its pods). Default: `true` for a `deployment`
    /// and a `statefulset`; for a `daemonset`, `true` when it sets `service` or its own
    /// `port`; the other kinds have none.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// `ClusterIP`, `NodePort` or `LoadBalancer`. Default: `ClusterIP`.
    #[serde(rename = "type", default)]
    pub type_: Option<Spanned<ServiceType>>,
    /// Port of `http` on the Service (clients call `<service>:<port>`). Default: the container port.
    #[serde(default)]
    pub port: Option<Spanned<i64>>,
    /// `appProtocol` of `http` on the Service (and the headless Service), e.g. `tcp`
    /// for a database, so that a service mesh does not take the port for HTTP from its
    /// name; a qualified name. Default: none.
    #[serde(default)]
    pub app_protocol: Option<Spanned<String>>,
    /// Annotations of the Service (a load balancer's settings, e.g.
    /// `service.beta.kubernetes.io/aws-load-balancer-type`).
    #[serde(default)]
    pub annotations: SpannedMap<String>,
    /// For a `NodePort` or `LoadBalancer` Service, with `[network_policy]` on: where its
    /// traffic comes from (the load balancer's subnets, the VPC, client ranges),
    /// admitted by the service's NetworkPolicy on the Service's ports. Default: any
    /// source.
    #[serde(default)]
    pub source_cidrs: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Type of a Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// A container beside the main one: `sidecars.<name>` or `init_containers.<name>`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerLayer {
    /// Image repository, as the service's `image` (the platform registry is prepended
    /// unless the first component is a registry host). Required.
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    /// Image tag (`kgen bump-image <service> --container <name>` sets it). `latest` is refused.
    #[serde(default)]
    pub tag: Option<Spanned<String>>,
    /// Image digest, `sha256:<64 hex>` (or `sha384:`, `sha512:`).
    #[serde(default)]
    pub digest: Option<Spanned<String>>,
    /// The command (the image's entrypoint when not set).
    #[serde(default)]
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    /// Arguments to the command.
    #[serde(default)]
    pub args: Option<Spanned<Vec<Spanned<String>>>>,
    /// Environment variables: literal values (templates are rendered), or tables
    /// reading a value from elsewhere, as the service's `env`.
    #[serde(default)]
    pub env: SpannedMap<EnvValue>,
    /// `true`: the container also gets the service's secrets, as the main container
    /// does (with the External Secrets backend, every secret as a variable; with the
    /// CSI backend, the files under `/mnt/secrets-store`), e.g. a migration init
    /// container that needs the database password. Default: `false`.
    #[serde(default)]
    pub secrets: Option<Spanned<bool>>,
    /// `true`: the container also loads the service's ConfigMap (`config` and
    /// `VERSION`) with `envFrom`, as the main container does. Default: `false`.
    #[serde(default)]
    pub config: Option<Spanned<bool>>,
    /// Named ports of the container (a sidecar's are exposed on the Service too).
    #[serde(default)]
    pub ports: SpannedMap<PortLayer>,
    /// Probes of the container (sidecars only).
    #[serde(default)]
    pub probes: Option<Spanned<super::ProbesLayer>>,
    /// CPU and memory requests and limits. Required by policy (KG201) like the main container's.
    #[serde(default)]
    pub resources: Option<Spanned<super::ResourcesLayer>>,
    /// Service volumes mounted in this container: `{ <volume> = "<path>" }`, or
    /// `{ <volume> = { path = "<path>", read_only = true } }` for a read-only mount.
    #[serde(default)]
    pub mounts: SpannedMap<MountLayer>,
    /// Set to `false` to leave the container out (typically in an overlay). Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
}

/// `volumes.<name> = { mount = "/data", claim = { size = "10Gi" } }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeLayer {
    /// Where the main container mounts it. Required.
    #[serde(default)]
    pub mount: Option<Spanned<String>>,
    /// Mount it read-only. Default: `false`.
    #[serde(default)]
    pub read_only: Option<Spanned<bool>>,
    /// A scratch directory that lives as long as the pod (the default kind of volume).
    #[serde(default)]
    pub empty_dir: Option<Spanned<EmptyDirLayer>>,
    /// A PersistentVolumeClaim: for a `statefulset` one per pod (a volume claim
    /// template), otherwise one shared by the pods.
    #[serde(default)]
    pub claim: Option<Spanned<ClaimLayer>>,
}

/// `empty_dir = { size_limit = "1Gi", memory = true }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyDirLayer {
    /// Largest size (a quantity). Default: no limit.
    #[serde(default)]
    pub size_limit: Option<Spanned<String>>,
    /// Back it with memory (tmpfs, counted against the memory limit). Default: `false`.
    #[serde(default)]
    pub memory: Option<Spanned<bool>>,
}

/// `claim = { size = "10Gi", storage_class = "gp3", access_mode = "ReadWriteOnce" }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimLayer {
    /// Requested size (a quantity). Required.
    #[serde(default)]
    pub size: Option<Spanned<String>>,
    /// StorageClass. Default: the cluster's default StorageClass.
    #[serde(default)]
    pub storage_class: Option<Spanned<String>>,
    /// `ReadWriteOnce`, `ReadWriteOncePod`, `ReadOnlyMany` or `ReadWriteMany`. Default: `ReadWriteOnce`.
    #[serde(default)]
    pub access_mode: Option<Spanned<AccessMode>>,
}

/// Access mode of a volume claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadWriteOncePod,
    ReadOnlyMany,
    ReadWriteMany,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
            AccessMode::ReadWriteMany => "ReadWriteMany",
        }
    }
}

/// `files."app.yaml" = { path = "/etc/app/app.yaml", content = "..." }`: a file in the
/// service's files ConfigMap (`<service>-files`), mounted read-only.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileLayer {
    /// Absolute path of the file in the container. Every file of one directory is
    /// mounted there together, and the directory holds nothing else. Required.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// The file's text, a template (secret-looking values are refused). Required.
    #[serde(default)]
    pub content: Option<Spanned<String>>,
}

/// `{ key = "CriticalAddonsOnly", operator = "Exists", effect = "NoSchedule" }`
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TolerationLayer {
    /// Taint key; empty with `Exists` tolerates every taint.
    #[serde(default)]
    pub key: Option<Spanned<String>>,
    /// `Equal` (the default) or `Exists`.
    #[serde(default)]
    pub operator: Option<Spanned<TolerationOperator>>,
    /// Taint value (`Equal` only).
    #[serde(default)]
    pub value: Option<Spanned<String>>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; none tolerates every effect.
    #[serde(default)]
    pub effect: Option<Spanned<TaintEffect>>,
    /// With `NoExecute`: seconds the pod stays after the taint appears.
    #[serde(default)]
    pub seconds: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum TolerationOperator {
    Equal,
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

/// `node_affinity = { required = [...], preferred = [...] }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeAffinityLayer {
    /// Node label conditions that must all hold.
    #[serde(default)]
    pub required: Option<Spanned<Vec<NodeTermLayer>>>,
    /// Node label conditions the scheduler prefers, each with a weight (1–100).
    #[serde(default)]
    pub preferred: Option<Spanned<Vec<NodeTermLayer>>>,
}

/// `{ key = "karpenter.sh/capacity-type", operator = "In", values = ["spot"], weight = 50 }`
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeTermLayer {
    pub key: Spanned<String>,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`.
    pub operator: Spanned<NodeOperator>,
    /// Values (none for `Exists` and `DoesNotExist`, one number for `Gt` and `Lt`).
    #[serde(default)]
    pub values: Option<Spanned<Vec<Spanned<String>>>>,
    /// Weight of a preferred term (1–100). Default: 1.
    #[serde(default)]
    pub weight: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum NodeOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

/// `service_account = { automount_token = false }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountLayer {
    /// Mount the ServiceAccount's API token in the pods. Default: `true` (IRSA and most
    /// clients need it); `false` for pods that never call the Kubernetes API.
    #[serde(default)]
    pub automount_token: Option<Spanned<bool>>,
}

/// `rollout = { strategy = "rolling", max_surge = "25%", max_unavailable = 0 }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutLayer {
    /// `rolling` (the default), `recreate` (every pod stops before new ones start; a
    /// Deployment only) or `on-delete` (a StatefulSet's or DaemonSet's pods are replaced
    /// only when deleted).
    #[serde(default)]
    pub strategy: Option<Spanned<RolloutStrategy>>,
    /// Extra pods during a rolling update (count or percentage; a Deployment or a
    /// DaemonSet). Default: Kubernetes' (25%; 0 for a DaemonSet).
    #[serde(default)]
    pub max_surge: Option<Spanned<IntOrPercent>>,
    /// Pods that may be unavailable during a rolling update. Default: Kubernetes' (25%;
    /// 1 for a DaemonSet and a StatefulSet). A StatefulSet takes it from Kubernetes 1.35.
    #[serde(default)]
    pub max_unavailable: Option<Spanned<IntOrPercent>>,
    /// Seconds a new pod must be ready before it counts as available. Default: 0.
    #[serde(default)]
    pub min_ready_seconds: Option<Spanned<i64>>,
    /// Old ReplicaSets (or revisions) kept for rollbacks. Default: Kubernetes' (10).
    #[serde(default)]
    pub revision_history_limit: Option<Spanned<i64>>,
    /// Seconds before a stalled Deployment rollout is reported failed. Default: Kubernetes' (600).
    #[serde(default)]
    pub progress_deadline: Option<Spanned<i64>>,
    /// StatefulSet only: pods with an ordinal below this keep the old version. Default: 0.
    #[serde(default)]
    pub partition: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutStrategy {
    /// Replace pods a few at a time.
    Rolling,
    /// Stop every pod, then start the new ones.
    Recreate,
    /// StatefulSet and DaemonSet: replace a pod only when it is deleted. (`ondelete`, the
    /// spelling the first version took, is still read.)
    #[serde(alias = "ondelete")]
    OnDelete,
}

/// `cron = { time_zone = "Europe/Paris", concurrency = "Forbid" }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CronLayer {
    /// IANA time zone of the schedule. Default: the controller's (UTC on EKS).
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
    /// `Allow`, `Forbid` (the default: a run never overlaps the previous one) or `Replace`.
    #[serde(default)]
    pub concurrency: Option<Spanned<Concurrency>>,
    /// Successful runs kept. Default: 3.
    #[serde(default)]
    pub successful_history: Option<Spanned<i64>>,
    /// Failed runs kept. Default: 1.
    #[serde(default)]
    pub failed_history: Option<Spanned<i64>>,
    /// Seconds after the scheduled time a missed run may still start. Default: none.
    #[serde(default)]
    pub starting_deadline: Option<Spanned<i64>>,
    /// Suspend future runs. Default: `false`.
    #[serde(default)]
    pub suspend: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Concurrency {
    Allow,
    Forbid,
    Replace,
}

/// `job = { backoff_limit = 2, active_deadline = 600 }`: a Job's run (also a CronJob's).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobLayer {
    /// Retries before the Job fails. Default: 3.
    #[serde(default)]
    pub backoff_limit: Option<Spanned<i64>>,
    /// Seconds the Job may run in all. Default: none.
    #[serde(default)]
    pub active_deadline: Option<Spanned<i64>>,
    /// Seconds a finished Job is kept before it is deleted. Default: none for a `job`
    /// (Argo CD would re-create a deleted one), Kubernetes' for a CronJob's.
    #[serde(default)]
    pub ttl_after_finished: Option<Spanned<i64>>,
    /// Successful pods needed. Default: Kubernetes' (1). A plain `job` with a new
    /// value is a new Job (the API server refuses to change it).
    #[serde(default)]
    pub completions: Option<Spanned<i64>>,
    /// Pods run at once. Default: 1.
    #[serde(default)]
    pub parallelism: Option<Spanned<i64>>,
    /// `OnFailure` (retry the container in place, the default) or `Never` (a new pod per retry).
    #[serde(default)]
    pub restart_policy: Option<Spanned<JobRestartPolicy>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum JobRestartPolicy {
    OnFailure,
    Never,
}

/// `hook = { phase = "PreSync" }`: run a `job` as an Argo CD sync hook.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HookLayer {
    /// `PreSync` (before the rest of the Application is applied: a migration),
    /// `Sync` (with it) or `PostSync` (after it is healthy). Required.
    #[serde(default)]
    pub phase: Option<Spanned<HookPhase>>,
    /// When Argo CD deletes the Job: `BeforeHookCreation` (the default: at the next
    /// sync, so its logs stay until then), `HookSucceeded` or `HookFailed`.
    #[serde(default)]
    pub delete_policy: Option<Spanned<HookDeletePolicy>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum HookPhase {
    PreSync,
    Sync,
    PostSync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum HookDeletePolicy {
    BeforeHookCreation,
    HookSucceeded,
    HookFailed,
}

/// `statefulset = { pod_management = "Parallel" }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatefulSetLayer {
    /// `OrderedReady` (the default: one pod at a time, in order) or `Parallel`.
    #[serde(default)]
    pub pod_management: Option<Spanned<PodManagement>>,
    /// Delete the pods' volume claims when the StatefulSet is deleted (`Delete`) or keep
    /// them (`Retain`, the default).
    #[serde(default)]
    pub when_deleted: Option<Spanned<ClaimRetention>>,
    /// Delete the volume claims of pods removed by scaling down (`Delete`) or keep them
    /// (`Retain`, the default).
    #[serde(default)]
    pub when_scaled: Option<Spanned<ClaimRetention>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum PodManagement {
    OrderedReady,
    Parallel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ClaimRetention {
    Retain,
    Delete,
}

/// `behavior = { scale_down = { stabilization_window = 300, policies = [...] } }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingBehaviorLayer {
    /// How fast the autoscaler adds pods.
    #[serde(default)]
    pub scale_up: Option<Spanned<ScalingRulesLayer>>,
    /// How fast it removes them.
    #[serde(default)]
    pub scale_down: Option<Spanned<ScalingRulesLayer>>,
}

/// `{ stabilization_window = 300, select = "Min", policies = [{ type = "Pods", value = 2, period = 60 }] }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingRulesLayer {
    /// Seconds of past recommendations considered (0–3600). Default: Kubernetes' (0 up, 300 down).
    #[serde(default)]
    pub stabilization_window: Option<Spanned<i64>>,
    /// Which policy wins: `Max`, `Min` or `Disabled` (no scaling this way). Default: `Max`.
    #[serde(default)]
    pub select: Option<Spanned<SelectPolicy>>,
    /// Limits on the change per period.
    #[serde(default)]
    pub policies: Option<Spanned<Vec<ScalingPolicyLayer>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

/// `{ type = "Percent", value = 100, period = 15 }`
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingPolicyLayer {
    /// `Pods` or `Percent`.
    #[serde(rename = "type")]
    pub type_: Spanned<ScalingPolicyType>,
    /// Pods, or percent of the current count (≥ 1).
    pub value: Spanned<i64>,
    /// Seconds the limit applies over (1–1800).
    pub period: Spanned<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ScalingPolicyType {
    Pods,
    Percent,
}

/// An environment variable: a literal (`"info"`, `4`, `true`; templates are rendered),
/// or a table reading its value from elsewhere when the pod starts.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(with = "EnvValueSchema")]
pub enum EnvValue {
    Literal(Scalar),
    From(Box<EnvSourceTable>),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)]
enum EnvValueSchema {
    /// A literal value (a string, number or boolean).
    Literal(Scalar),
    From(EnvSourceTable),
}

/// What `expecting` says of an environment variable's value; `toml_errors` adds the
/// help that names the tables.
pub const ENV_VALUE_EXPECTING: &str =
    "a string, number or boolean, or a table such as { field = \"metadata.name\" }";

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = EnvValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(ENV_VALUE_EXPECTING)
            }
            fn visit_str<E>(self, v: &str) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Scalar(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Scalar(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Scalar(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Scalar(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Scalar(v.to_string())))
            }
            fn visit_bool<E>(self, v: bool) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Scalar(v.to_string())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<EnvValue, A::Error> {
                EnvSourceTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|t| EnvValue::From(Box::new(t)))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Where an environment variable's value comes from, exactly one of: `{ field =
/// "metadata.name" }` (a field of the pod, the downward API), `{ resource =
/// "limits.cpu", divisor = "1m" }` (a request or limit of a container), `{ config_map =
/// "shared", key = "currency" }` (a key of a ConfigMap) or `{ secret = "db", key =
/// "password" }` (a key of a Secret, by reference: the value is never in kgen's output).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// Exactly one source, in the schema too, so that an editor flags `{}` or two sources
// as kgen does (verification review 30).
#[schemars(extend("oneOf" = [
    { "required": ["field"], "not": { "anyOf": [{ "required": ["resource"] }, { "required": ["config_map"] }, { "required": ["secret"] }] } },
    { "required": ["resource"], "not": { "anyOf": [{ "required": ["field"] }, { "required": ["config_map"] }, { "required": ["secret"] }] } },
    { "required": ["config_map", "key"], "not": { "anyOf": [{ "required": ["field"] }, { "required": ["resource"] }, { "required": ["secret"] }] } },
    { "required": ["secret", "key"], "not": { "anyOf": [{ "required": ["field"] }, { "required": ["resource"] }, { "required": ["config_map"] }] } }
]))]
pub struct EnvSourceTable {
    /// A field of the pod (`fieldRef`): `metadata.name`, `metadata.namespace`,
    /// `metadata.uid`, `metadata.labels['<key>']`, `metadata.annotations['<key>']`,
    /// `spec.nodeName`, `spec.serviceAccountName`, `status.hostIP`, `status.hostIPs`,
    /// `status.podIP` or `status.podIPs`.
    #[serde(default)]
    pub field: Option<Spanned<String>>,
    /// A request or limit of a container (`resourceFieldRef`): `limits.cpu`,
    /// `limits.memory`, `limits.ephemeral-storage`, `requests.cpu`, `requests.memory`,
    /// `requests.ephemeral-storage` (or `hugepages-<size>` of either).
    #[serde(default)]
    pub resource: Option<Spanned<String>>,
    /// With `resource`: the unit the value is given in (`1m` or `1` for CPU; `1`,
    /// `1Ki`, `1Mi`, `1Gi`, ... or `1k`, `1M`, `1G`, ... for memory and storage).
    /// Default: `1`.
    #[serde(default)]
    pub divisor: Option<Spanned<String>>,
    /// With `resource`: the container whose resources are read. Default: this one.
    #[serde(default)]
    pub container: Option<Spanned<String>>,
    /// A ConfigMap of the namespace (`configMapKeyRef`), a template; with `key`.
    #[serde(default)]
    pub config_map: Option<Spanned<String>>,
    /// A Secret of the namespace (`secretKeyRef`), a template; with `key`. Only the
    /// reference is written, never a value.
    #[serde(default)]
    pub secret: Option<Spanned<String>>,
    /// With `config_map` or `secret`: the key read.
    #[serde(default)]
    pub key: Option<Spanned<String>>,
    /// With `config_map` or `secret`: start the container even when the object or its
    /// key is missing (the variable is then unset). Default: `false`.
    #[serde(default)]
    pub optional: Option<Spanned<bool>>,
}

/// Where a container mounts a volume: a path (`"/cache"`), or a table.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(with = "MountSchema")]
pub enum MountLayer {
    Path(String),
    Table(MountTable),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum MountSchema {
    /// The absolute mount path; read-only when the volume is.
    Path(String),
    Table(MountTable),
}

impl<'de> Deserialize<'de> for MountLayer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = MountLayer;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mount path such as \"/cache\", or a table such as { path = \"/var/log/app\", read_only = true }")
            }
            fn visit_str<E>(self, v: &str) -> Result<MountLayer, E> {
                Ok(MountLayer::Path(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<MountLayer, A::Error> {
                MountTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(MountLayer::Table)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `{ path = "/var/log/app", read_only = true }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MountTable {
    /// The absolute mount path. Required.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// Mount it read-only in this container (`true`), e.g. a log shipper reading what
    /// the main container writes. Default: read-only when the volume is. A read-only
    /// volume cannot be mounted writable.
    #[serde(default)]
    pub read_only: Option<Spanned<bool>>,
}
