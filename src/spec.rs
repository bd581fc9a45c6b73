//! The effective specification: one fully resolved, validated value per service and
//! environment, after merging layers and evaluating templates.
//!
//! Renderers read only these types; they never see layers, spans or templates. The
//! `origins` map of each service remembers where every value came from, so checks
//! on rendered objects can still point at the input line.

use std::collections::BTreeMap;

pub use crate::input::{SecretSource, SyncMode};
use crate::source::Origin;

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
    pub environments: Vec<EnvSpec>,
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

#[derive(Debug, Clone)]
pub struct EnvSpec {
    pub name: String,
    pub cluster: String,
    pub project: String,
    pub sync: SyncMode,
    pub production: bool,
    pub vars: BTreeMap<String, String>,
    /// Enabled services, sorted by name.
    pub services: Vec<ServiceSpec>,
    pub monitoring: Option<MonitoringSpec>,
    /// Input files this environment was rendered from, for file headers.
    pub inputs: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    pub namespace: String,
    /// Full image repository including the registry, without tag or digest.
    pub image: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub port: u16,
    pub replicas: u32,
    pub resources: Resources,
    pub probes: Probes,
    pub env: BTreeMap<String, String>,
    pub config: BTreeMap<String, String>,
    pub autoscaling: Option<Autoscaling>,
    pub iam_role: Option<String>,
    pub secrets: Vec<Secret>,
    pub run_as_user: i64,
    pub metrics: Option<Metrics>,
    /// Where each value came from, by field path (`replicas`, `autoscaling.min`, `env.LOG_LEVEL`).
    pub origins: BTreeMap<String, Origin>,
}

impl ServiceSpec {
    /// `repo:tag`, `repo@digest` or `repo:tag@digest`.
    pub fn image_ref(&self) -> String {
        let mut s = self.image.clone();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
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
    pub liveness: Option<String>,
    pub readiness: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub from: SecretSource,
    pub key: String,
    pub json_key: Option<String>,
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
}
