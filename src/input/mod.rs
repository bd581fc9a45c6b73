//! The typed shape of the input files: `platform.toml` and `overlays/<env>.toml`.
//!
//! These are plain serde structs that reject unknown keys. Every leaf keeps its
//! source span (`Spanned`) so later stages can point at the line that caused a
//! problem. Almost every field is optional here: the same `ServiceLayer` type is
//! used for `[defaults]`, `[services.<name>]` and an overlay's `[services.<name>]`,
//! and `merge` combines the layers. Required values are checked after merging, in
//! `resolve`. The JSON Schema in `docs/platform.schema.json` is derived from these
//! types (`kgen schema`), so the doc comments here are what editors show.
//!
//! This module holds the two files and their top-level sections (platform,
//! environments, clusters, monitoring, Argo CD) and the scalars every table shares; a
//! service's tables are in `service`, the environment-wide choices in `env_settings`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::spanned::Spanned;

pub mod addons;
pub mod baseline;
pub mod env_settings;
pub mod escape_hatch;
pub mod service;
pub mod workload;
pub use addons::*;
pub use baseline::*;
pub use env_settings::*;
pub use escape_hatch::*;
pub use service::*;
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
    /// How the cluster's own Applications (the bootstrap, its namespaces, baseline,
    /// add-ons and monitoring) sync: `auto` or `manual`, whatever its environments do
    /// (a production cluster with self-healing add-ons and services synced by hand).
    /// Default: `auto` when every environment on the cluster syncs automatically, else
    /// `manual`.
    #[serde(default)]
    pub sync: Option<Spanned<SyncMode>>,
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
    /// Helm values of kube-prometheus-stack passed through (strings are templates, as
    /// an add-on's), merged over what kgen writes, last: Alertmanager's routes and
    /// receivers, Grafana's admin Secret, resources. A value here that a typed key
    /// also sets is used instead of it.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub values: Option<Spanned<toml::Table>>,
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
