//! The effective add-ons of a cluster (see `resolve::addons`): chart, release,
//! namespace, values, identity and footprint, resolved from `[addons.<name>]` and its
//! per-cluster and overlay layers.

use std::collections::BTreeMap;

use super::{Resources, Toleration};
use crate::addons::{Footprint, Preset};
pub use crate::input::PodSecurityLevel;
use crate::source::Origin;
use crate::spec::WorkloadIdentity;

/// The typed settings of an add-on, resolved (templates rendered), for a preset's
/// `values` and `footprint`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddonSettings {
    /// The add-on's release name and namespace (a preset's values and footprint name objects after them).
    pub release: String,
    pub namespace: String,
    /// The cluster's name.
    pub cluster: String,
    /// The cluster's Kubernetes version, `(1, 30)` (`[clusters.<name>] kubernetes_version`);
    /// `(0, 0)` when unknown. Some charts' images follow it (cluster-autoscaler).
    pub kubernetes_version: (u32, u32),
    pub replicas: Option<u32>,
    pub resources: Option<Resources>,
    pub priority_class: Option<String>,
    pub tolerations: Vec<Toleration>,
    /// Where the typed `node_selector`, else `tolerations`, were written, when they
    /// were (what decides whether the pods fit a NodePool).
    pub placement_origin: Option<Origin>,
    /// Where the typed `tolerations` were written, when they were.
    pub tolerations_origin: Option<Origin>,
    pub node_selector: BTreeMap<String, String>,
    pub cluster_name: Option<String>,
    pub region: Option<String>,
    pub vpc_id: Option<String>,
    pub domain_filters: Vec<String>,
    pub txt_owner_id: Option<String>,
    pub policy: Option<String>,
    pub service_type: Option<super::ServiceType>,
    pub node_ports: (Option<u16>, Option<u16>),
    pub ingress_class: Option<String>,
    pub install_crds: Option<bool>,
    pub log_group: Option<String>,
    pub interruption_queue: Option<String>,
    pub sync_secrets: Option<bool>,
    pub rotation_interval: Option<String>,
    /// The IAM role its pods assume through IRSA (the annotation on its ServiceAccount).
    pub irsa_role: Option<String>,
}

impl AddonSettings {
    /// `self` with the typed setting `key` (a key of `[addons.<name>]`, or `iam_role`)
    /// taken from `from`: what that setting alone decides, for KG034.
    pub fn with_setting(&self, key: &str, from: &AddonSettings) -> AddonSettings {
        let mut s = self.clone();
        match key {
            "replicas" => s.replicas = from.replicas,
            "resources" => s.resources = from.resources.clone(),
            "priority_class" => s.priority_class = from.priority_class.clone(),
            "tolerations" => s.tolerations = from.tolerations.clone(),
            "node_selector" => s.node_selector = from.node_selector.clone(),
            "cluster_name" => s.cluster_name = from.cluster_name.clone(),
            "region" => s.region = from.region.clone(),
            "vpc_id" => s.vpc_id = from.vpc_id.clone(),
            "domain_filters" => s.domain_filters = from.domain_filters.clone(),
            "txt_owner_id" => s.txt_owner_id = from.txt_owner_id.clone(),
            "policy" => s.policy = from.policy.clone(),
            "service_type" => s.service_type = from.service_type,
            "node_ports" => s.node_ports = from.node_ports,
            "ingress_class" => s.ingress_class = from.ingress_class.clone(),
            "install_crds" => s.install_crds = from.install_crds,
            "log_group" => s.log_group = from.log_group.clone(),
            "interruption_queue" => s.interruption_queue = from.interruption_queue.clone(),
            "sync_secrets" => s.sync_secrets = from.sync_secrets,
            "rotation_interval" => s.rotation_interval = from.rotation_interval.clone(),
            "iam_role" => s.irsa_role = from.irsa_role.clone(),
            _ => {}
        }
        s
    }

    /// `self` with the typed setting `key` set to values no one writes (each value of a
    /// boolean or a choice): the Helm values that change from `self`'s are the ones the
    /// setting decides, even when what was written equals the chart's default (KG034).
    /// None for the settings of a structured type (`resources`, `tolerations`), whose
    /// written value is what is compared.
    pub fn probes(&self, key: &str) -> Vec<AddonSettings> {
        const PROBE: &str = "kgen-probe";
        let with = |f: &dyn Fn(&mut AddonSettings)| {
            let mut s = self.clone();
            f(&mut s);
            s
        };
        let text = Some(PROBE.to_string());
        // A boolean setting, both ways.
        let both = |f: &dyn Fn(&mut AddonSettings, bool)| {
            [true, false]
                .into_iter()
                .map(|b| with(&|s| f(s, b)))
                .collect::<Vec<_>>()
        };
        match key {
            "replicas" => vec![with(&|s| s.replicas = Some(7919))],
            "priority_class" => vec![with(&|s| s.priority_class = text.clone())],
            "node_selector" => vec![with(&|s| {
                s.node_selector = BTreeMap::from([(format!("kgen.dev/{PROBE}"), PROBE.into())]);
            })],
            "cluster_name" => vec![with(&|s| s.cluster_name = text.clone())],
            "region" => vec![with(&|s| s.region = text.clone())],
            "vpc_id" => vec![with(&|s| s.vpc_id = text.clone())],
            "domain_filters" => vec![with(&|s| s.domain_filters = vec![PROBE.into()])],
            "txt_owner_id" => vec![with(&|s| s.txt_owner_id = text.clone())],
            "policy" => vec![with(&|s| s.policy = text.clone())],
            "service_type" => [
                super::ServiceType::ClusterIP,
                super::ServiceType::NodePort,
                super::ServiceType::LoadBalancer,
            ]
            .into_iter()
            .map(|t| with(&|s| s.service_type = Some(t)))
            .collect(),
            "node_ports" => vec![with(&|s| s.node_ports = (Some(30999), Some(30998)))],
            "ingress_class" => vec![with(&|s| s.ingress_class = text.clone())],
            "install_crds" => both(&|s, b| s.install_crds = Some(b)),
            "log_group" => vec![with(&|s| s.log_group = text.clone())],
            "interruption_queue" => vec![with(&|s| s.interruption_queue = text.clone())],
            "sync_secrets" => both(&|s, b| s.sync_secrets = Some(b)),
            "rotation_interval" => vec![with(&|s| s.rotation_interval = text.clone())],
            "iam_role" => vec![with(&|s| {
                s.irsa_role = Some(format!("arn:aws:iam::000000000000:role/{PROBE}"));
            })],
            _ => Vec::new(),
        }
    }
}

/// How an add-on's pods assume their IAM role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonIdentity {
    pub role_arn: String,
    pub mode: WorkloadIdentity,
    /// The ServiceAccount the role is for, in the add-on's namespace.
    pub service_account: String,
}

/// One add-on of one cluster.
#[derive(Debug, Clone)]
pub struct AddonSpec {
    pub name: String,
    pub preset: Option<&'static Preset>,
    pub repo: String,
    pub chart: String,
    pub version: String,
    pub release: String,
    pub namespace: String,
    /// The Helm values kgen writes (the preset's, then `values`).
    pub values: serde_json::Value,
    pub wave: i32,
    pub server_side_apply: bool,
    pub pod_security: PodSecurityLevel,
    pub identity: Option<AddonIdentity>,
    /// What the chart creates beyond its release namespace.
    pub footprint: Footprint,
    /// Where the add-on is declared (its table header).
    pub origin: Origin,
}

impl AddonSpec {
    /// The chart's repository as Argo CD wants it: an OCI repository without its
    /// `oci://` scheme (Argo CD's Helm OCI sources name the registry and path).
    pub fn argocd_repo(&self) -> &str {
        self.repo.strip_prefix("oci://").unwrap_or(&self.repo)
    }
}
