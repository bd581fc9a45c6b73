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

/// A map whose keys and values keep their spans.
pub type SpannedMap<V> = BTreeMap<Spanned<String>, Spanned<V>>;

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
    pub services: SpannedMap<ServiceLayer>,
    /// kube-prometheus-stack settings (`generated/<env>/monitoring/`).
    #[serde(default)]
    pub monitoring: Option<Spanned<MonitoringLayer>>,
    /// Argo CD settings (`generated/argocd/<env>/`).
    #[serde(default)]
    pub argocd: Option<Spanned<ArgoCdSection>>,
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
    pub services: SpannedMap<ServiceLayer>,
    /// Merged over `[monitoring]` of platform.toml, for this environment only.
    #[serde(default)]
    pub monitoring: Option<Spanned<MonitoringLayer>>,
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
    /// Kubernetes API server URL Argo CD deploys to. Default: `https://kubernetes.default.svc`.
    #[serde(default)]
    pub cluster: Option<Spanned<String>>,
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
}

/// One layer of a service: `[defaults]`, `[services.<name>]`, or an overlay's `[services.<name>]`.
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
    pub resources: Option<Spanned<ResourcesLayer>>,
    /// HTTP probe paths on the container port.
    #[serde(default)]
    pub probes: Option<Spanned<ProbesLayer>>,
    /// Environment variables, `NAME = "value"` (values are templates). Literal secrets are refused: use `secrets`.
    #[serde(default)]
    pub env: SpannedMap<Scalar>,
    /// Entries of the service's ConfigMap (`<service>-config`), loaded with `envFrom`. Values are templates.
    #[serde(default)]
    pub config: SpannedMap<Scalar>,
    /// Horizontal Pod Autoscaler. Present with `max` set means an HPA owns the replica count.
    #[serde(default)]
    pub autoscaling: Option<Spanned<AutoscalingLayer>>,
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
    pub metrics: Option<Spanned<MetricsLayer>>,
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

/// `probes = { liveness = "/health", readiness = "/ready" }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbesLayer {
    /// HTTP path of the liveness probe.
    #[serde(default)]
    pub liveness: Option<Spanned<String>>,
    /// HTTP path of the readiness probe.
    #[serde(default)]
    pub readiness: Option<Spanned<String>>,
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
