//! The effective shape of a service's pods: its kind, containers, ports, probes,
//! volumes, files, placement and rollout, resolved and checked (see `resolve::workload`).
//! Renderers build the pod template from these once, for every kind (`render::pod`).

use std::collections::BTreeMap;

pub use crate::input::{
    AccessMode, ClaimRetention, Concurrency, HookDeletePolicy, HookPhase, JobRestartPolicy,
    NodeOperator, PodManagement, Protocol, RolloutStrategy, ScalingPolicyType, SelectPolicy,
    ServiceType, TaintEffect, TolerationOperator, WorkloadKind,
};

use super::{IntOrPercentValue, Resources};

impl WorkloadKind {
    /// The name users write (`deployment`, `worker`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::Worker => "worker",
            WorkloadKind::Statefulset => "statefulset",
            WorkloadKind::Cronjob => "cronjob",
            WorkloadKind::Job => "job",
            WorkloadKind::Daemonset => "daemonset",
        }
    }

    /// Whether its pods run until stopped (not to completion).
    pub fn long_running(self) -> bool {
        !matches!(self, WorkloadKind::Cronjob | WorkloadKind::Job)
    }

    /// Whether it can have a Service (and so ports and an Ingress).
    pub fn can_have_service(self) -> bool {
        matches!(
            self,
            WorkloadKind::Deployment | WorkloadKind::Statefulset | WorkloadKind::Daemonset
        )
    }

    /// Whether it runs several replicas (so a PodDisruptionBudget and spreading apply).
    pub fn replicated(self) -> bool {
        matches!(
            self,
            WorkloadKind::Deployment | WorkloadKind::Worker | WorkloadKind::Statefulset
        )
    }
}

/// A port by name or number, as a probe names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Name(String),
    Number(u16),
}

/// One named container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
    /// Port on the Service; `None`: not exposed.
    pub service_port: Option<u16>,
    pub app_protocol: Option<String>,
}

/// The Service of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceExposure {
    pub type_: ServiceType,
    /// Port of `http` on the Service.
    pub port: u16,
    /// `appProtocol` of `http` on the Service.
    pub app_protocol: Option<String>,
    pub annotations: BTreeMap<String, String>,
    /// Where the traffic of a `NodePort` or `LoadBalancer` Service comes from (empty:
    /// any source), for its NetworkPolicy.
    pub source_cidrs: Vec<String>,
}

/// What a probe does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeHandler {
    Http {
        path: String,
        port: PortRef,
    },
    Tcp(PortRef),
    Grpc {
        port: PortRef,
        service: Option<String>,
    },
    Exec(Vec<String>),
}

/// One probe, with its timing (`None`: Kubernetes' default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub handler: ProbeHandler,
    pub initial_delay: Option<i32>,
    pub period: Option<i32>,
    pub timeout: Option<i32>,
    pub failure_threshold: Option<i32>,
    pub success_threshold: Option<i32>,
}

impl Probe {
    /// An HTTP GET of `path` on the port named `port` (the main port), with
    /// Kubernetes' timing.
    pub fn http(path: &str, port: &str) -> Probe {
        Probe {
            handler: ProbeHandler::Http {
                path: path.to_string(),
                port: PortRef::Name(port.into()),
            },
            initial_delay: None,
            period: None,
            timeout: None,
            failure_threshold: None,
            success_threshold: None,
        }
    }

    /// The HTTP path of an HTTP probe.
    pub fn http_path(&self) -> Option<&str> {
        match &self.handler {
            ProbeHandler::Http { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// A container beside the main one (a sidecar or an init container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    pub name: String,
    /// Full image repository, without tag or digest.
    pub image: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Values in the kubelet's syntax (a `$` that would expand is escaped).
    pub env: BTreeMap<String, String>,
    /// Variables whose value is read when the pod starts (`valueFrom`), by name.
    pub env_refs: BTreeMap<String, EnvSource>,
    /// Loads the service's secrets (`secrets = true`).
    pub secrets: bool,
    /// Loads the service's ConfigMap (`config = true`).
    pub config: bool,
    pub ports: Vec<Port>,
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub startup: Option<Probe>,
    pub resources: Resources,
    /// Volume name → where it is mounted.
    pub mounts: BTreeMap<String, Mount>,
}

/// Where a sidecar or init container mounts a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub path: String,
    /// `Some(true)`: read-only in this container; `None`: as the volume.
    pub read_only: Option<bool>,
}

/// Where an environment variable's value comes from when the pod starts (`valueFrom`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// A field of the pod (`fieldRef.fieldPath`).
    Field(String),
    /// A request or limit (`resourceFieldRef`).
    Resource {
        resource: String,
        divisor: Option<String>,
        container: Option<String>,
    },
    /// A key of a ConfigMap (`configMapKeyRef`).
    ConfigMapKey {
        name: String,
        key: String,
        optional: Option<bool>,
    },
    /// A key of a Secret (`secretKeyRef`): a reference, never a value.
    SecretKey {
        name: String,
        key: String,
        optional: Option<bool>,
    },
}

impl ContainerSpec {
    /// `repo:tag`, `repo@digest` or `repo:tag@digest`.
    pub fn image_ref(&self) -> String {
        super::image_ref(&self.image, self.tag.as_deref(), self.digest.as_deref())
    }
}

/// What backs a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSource {
    EmptyDir {
        size_limit: Option<String>,
        memory: bool,
    },
    Claim {
        size: String,
        storage_class: Option<String>,
        access_mode: AccessMode,
    },
}

/// A volume of the pods, mounted in the main container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    pub name: String,
    pub mount: String,
    pub read_only: bool,
    pub source: VolumeSource,
}

/// A file of the files ConfigMap, mounted in the main container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// Key in the ConfigMap (the file name as written).
    pub key: String,
    /// Absolute path in the container.
    pub path: String,
    pub content: String,
}

/// A toleration of the pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator: TolerationOperator,
    pub value: Option<String>,
    pub effect: Option<TaintEffect>,
    pub seconds: Option<i64>,
}

/// A node label condition (a weight for a preferred one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTerm {
    pub key: String,
    pub operator: NodeOperator,
    pub values: Vec<String>,
    pub weight: i32,
}

/// Where the pods may run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub required: Vec<NodeTerm>,
    pub preferred: Vec<NodeTerm>,
    pub priority_class: Option<String>,
    pub termination_grace_period: Option<i64>,
}

/// How new versions replace old pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub strategy: RolloutStrategy,
    pub max_surge: Option<IntOrPercentValue>,
    pub max_unavailable: Option<IntOrPercentValue>,
    pub min_ready_seconds: Option<i32>,
    pub revision_history_limit: Option<i32>,
    pub progress_deadline: Option<i32>,
    pub partition: Option<i32>,
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout {
            strategy: RolloutStrategy::Rolling,
            max_surge: None,
            max_unavailable: None,
            min_ready_seconds: None,
            revision_history_limit: None,
            progress_deadline: None,
            partition: None,
        }
    }
}

/// A Job's run (a `job`'s, or each run of a `cronjob`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    pub backoff_limit: Option<i32>,
    pub active_deadline: Option<i64>,
    pub ttl_after_finished: Option<i32>,
    pub completions: Option<i32>,
    pub parallelism: Option<i32>,
    pub restart_policy: JobRestartPolicy,
}

/// An Argo CD hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hook {
    pub phase: HookPhase,
    pub delete_policy: HookDeletePolicy,
}

/// A CronJob's schedule and policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSpec {
    pub schedule: String,
    pub time_zone: Option<String>,
    pub concurrency: Concurrency,
    pub successful_history: Option<i32>,
    pub failed_history: Option<i32>,
    pub starting_deadline: Option<i64>,
    pub suspend: bool,
}

/// A StatefulSet's own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatefulSetSpec {
    pub pod_management: PodManagement,
    pub when_deleted: ClaimRetention,
    pub when_scaled: ClaimRetention,
}

/// What a kind of workload adds to the pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workload {
    Deployment,
    Worker,
    StatefulSet(StatefulSetSpec),
    CronJob { cron: CronSpec, job: JobSpec },
    Job { job: JobSpec, hook: Option<Hook> },
    DaemonSet,
}

impl Workload {
    pub fn kind(&self) -> WorkloadKind {
        match self {
            Workload::Deployment => WorkloadKind::Deployment,
            Workload::Worker => WorkloadKind::Worker,
            Workload::StatefulSet(_) => WorkloadKind::Statefulset,
            Workload::CronJob { .. } => WorkloadKind::Cronjob,
            Workload::Job { .. } => WorkloadKind::Job,
            Workload::DaemonSet => WorkloadKind::Daemonset,
        }
    }
}

/// An HPA's scaling behaviour, one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingRules {
    pub stabilization_window: Option<i32>,
    pub select: Option<SelectPolicy>,
    pub policies: Vec<(ScalingPolicyType, i32, i32)>,
}

/// An HPA's scaling behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScalingBehavior {
    pub scale_up: Option<ScalingRules>,
    pub scale_down: Option<ScalingRules>,
}
