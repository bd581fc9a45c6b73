//! The effective baseline of a cluster (see `resolve::baseline`): its ClusterIssuers,
//! ClusterSecretStores, StorageClasses, Karpenter NodePools and EC2NodeClasses,
//! platform roles and PriorityClasses, and the names of what the cluster has without
//! kgen, which references may name too.

use std::collections::{BTreeMap, BTreeSet};

pub use crate::input::{BindingMode, ReclaimPolicy, SecretStoreProvider, TaintEffect};
use crate::source::Origin;

/// Let's Encrypt's production ACME directory.
pub const LETSENCRYPT_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging ACME directory (untrusted certificates, generous limits).
pub const LETSENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// PriorityClasses every cluster has (the API server creates them).
pub const BUILTIN_PRIORITY_CLASSES: &[&str] = &["system-cluster-critical", "system-node-critical"];

/// The baseline of one cluster.
#[derive(Debug, Clone, Default)]
pub struct BaselineSpec {
    pub issuers: Vec<IssuerSpec>,
    pub secret_stores: Vec<SecretStoreSpec>,
    pub storage_classes: Vec<StorageClassSpec>,
    pub node_pools: Vec<NodePoolSpec>,
    pub node_classes: Vec<NodeClassSpec>,
    pub roles: Vec<RoleSpec>,
    pub priority_classes: Vec<PriorityClassSpec>,
    pub provided: Provided,
    /// Objects declared but not resolved for errors of their own, as
    /// `<baseline key>/<name>` (`secret_stores/aws`): a reference to one is not a
    /// second error.
    pub unresolved: BTreeSet<String>,
}

impl BaselineSpec {
    /// Whether the cluster has no baseline object at all.
    pub fn is_empty(&self) -> bool {
        self.core_len() == 0 && self.custom_len() == 0
    }

    /// Objects of core kinds (StorageClasses, PriorityClasses, roles): they need no
    /// add-on, so they are applied before the add-ons.
    pub fn core_len(&self) -> usize {
        self.storage_classes.len() + self.priority_classes.len() + self.roles.len()
    }

    /// Custom resources (issuers, stores, node pools and classes): applied once the
    /// add-ons that define their kinds are healthy.
    pub fn custom_len(&self) -> usize {
        self.issuers.len()
            + self.secret_stores.len()
            + self.node_pools.len()
            + self.node_classes.len()
    }

    /// The developer role, when declared: bound in every namespace of the cluster's services.
    pub fn developer(&self) -> Option<&RoleSpec> {
        self.roles
            .iter()
            .find(|r| r.role == PlatformRole::Developer)
    }
}

/// Names of objects the cluster has without kgen, by kind.
#[derive(Debug, Clone, Default)]
pub struct Provided {
    pub issuers: BTreeSet<String>,
    pub secret_stores: BTreeSet<String>,
    pub storage_classes: BTreeSet<String>,
    pub priority_classes: BTreeSet<String>,
    /// `key` or `key=value`.
    pub node_labels: BTreeSet<String>,
    pub node_taints: BTreeSet<String>,
    /// API groups whose CRDs exist without kgen.
    pub crd_groups: BTreeSet<String>,
    /// Whether `provided` lists anything of each kind (then references of that kind are checked).
    pub declared: BTreeSet<&'static str>,
}

/// A ClusterIssuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerSpec {
    pub name: String,
    pub kind: IssuerKind,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerKind {
    Acme {
        server: String,
        email: String,
        /// One or two solvers: HTTP-01, DNS-01, or both (DNS-01 then answers for its
        /// `dns_zones` and HTTP-01 for every other name).
        solvers: Vec<AcmeSolver>,
    },
    SelfSigned,
}

/// How an ACME issuer proves it controls a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcmeSolver {
    /// HTTP-01 through an Ingress of this class.
    Http01 { ingress_class: String },
    /// DNS-01 in Route 53.
    Dns01 {
        region: Option<String>,
        hosted_zone_id: Option<String>,
        role: Option<String>,
        dns_zones: Vec<String>,
    },
}

impl IssuerSpec {
    /// Whether the issuer can issue a certificate for an Ingress of `class`: a
    /// self-signed or DNS-01 issuer serves any; an HTTP-01 solver only its own class.
    pub fn serves_class(&self, class: &str) -> bool {
        match &self.kind {
            IssuerKind::Acme { solvers, .. } => solvers.iter().any(|s| match s {
                AcmeSolver::Http01 { ingress_class } => ingress_class == class,
                AcmeSolver::Dns01 { .. } => true,
            }),
            IssuerKind::SelfSigned => true,
        }
    }
}

/// A ClusterSecretStore reading AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretStoreSpec {
    pub name: String,
    pub provider: SecretStoreProvider,
    pub region: String,
    pub role: Option<String>,
    /// Exact namespace names that may use the store.
    pub namespaces: Vec<String>,
    /// `*` patterns, as regular expressions.
    pub namespace_regexes: Vec<String>,
    /// The patterns as written, to check a namespace against.
    pub namespace_patterns: Vec<String>,
    pub origin: Origin,
    /// Where `namespaces` is written, when it is.
    pub namespaces_origin: Option<Origin>,
}

impl SecretStoreSpec {
    /// Whether a namespace may use the store.
    pub fn admits(&self, namespace: &str) -> bool {
        self.namespace_patterns.is_empty()
            || self
                .namespace_patterns
                .iter()
                .any(|p| crate::admission::glob::glob(p, namespace, None))
    }
}

/// An EBS CSI StorageClass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageClassSpec {
    pub name: String,
    /// `type`, `encrypted`, `kmsKeyId`, `iops`, `throughput`: the driver's parameters.
    pub parameters: BTreeMap<String, String>,
    pub reclaim_policy: ReclaimPolicy,
    pub binding_mode: BindingMode,
    pub allow_expansion: bool,
    pub default: bool,
    pub origin: Origin,
}

/// A Karpenter NodePool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePoolSpec {
    pub name: String,
    pub node_class: String,
    /// `(key, values)`, operator `In`.
    pub requirements: Vec<(String, Vec<String>)>,
    pub limits: BTreeMap<String, String>,
    pub consolidation: String,
    pub consolidate_after: String,
    pub expire_after: String,
    pub taints: Vec<Taint>,
    pub labels: BTreeMap<String, String>,
    pub weight: Option<i32>,
    pub origin: Origin,
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    pub effect: TaintEffect,
}

/// A Karpenter EC2NodeClass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeClassSpec {
    pub name: String,
    pub role: String,
    pub subnet_tags: BTreeMap<String, String>,
    pub security_group_tags: BTreeMap<String, String>,
    pub ami_alias: String,
    pub origin: Origin,
}

/// The platform roles of seed 002.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PlatformRole {
    Admin,
    Developer,
    Viewer,
    MonitoringReader,
}

impl PlatformRole {
    pub const ALL: [PlatformRole; 4] = [
        PlatformRole::Admin,
        PlatformRole::Developer,
        PlatformRole::Viewer,
        PlatformRole::MonitoringReader,
    ];

    /// The key under `[baseline.roles]`.
    pub fn key(self) -> &'static str {
        match self {
            PlatformRole::Admin => "admin",
            PlatformRole::Developer => "developer",
            PlatformRole::Viewer => "viewer",
            PlatformRole::MonitoringReader => "monitoring_reader",
        }
    }

    /// The name of its binding (and of its ClusterRole, when kgen writes one).
    pub fn object_name(self) -> &'static str {
        match self {
            PlatformRole::Admin => "platform-admin",
            PlatformRole::Developer => "platform-developer",
            PlatformRole::Viewer => "platform-viewer",
            PlatformRole::MonitoringReader => "monitoring-reader",
        }
    }
}

/// A platform role bound to groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    pub role: PlatformRole,
    pub groups: Vec<String>,
    pub origin: Origin,
}

/// A PriorityClass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityClassSpec {
    pub name: String,
    pub value: i32,
    pub preempt: bool,
    pub global_default: bool,
    pub description: Option<String>,
    pub origin: Origin,
}
