//! The typed shape of `[baseline]`: the cluster-wide objects a platform team owns
//! beside its add-ons — cert-manager ClusterIssuers, External Secrets
//! ClusterSecretStores, StorageClasses, Karpenter NodePools and EC2NodeClasses, platform
//! roles, PriorityClasses — rendered once per cluster, and what they may be referred
//! to by (an Ingress's issuer, an ExternalSecret's store, a volume's storage class).
//!
//! The same table appears under `[clusters.<name>.baseline]` (per-cluster overrides,
//! merged object by object and leaf by leaf, `enabled = false` to leave one out).

use schemars::JsonSchema;
use serde::Deserialize;

use super::{SpannedMap, TaintEffect};
use crate::spanned::Spanned;

/// `[baseline]`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineLayer {
    /// cert-manager ClusterIssuers, by name.
    #[serde(default)]
    pub issuers: SpannedMap<IssuerLayer>,
    /// External Secrets ClusterSecretStores, by name.
    #[serde(default)]
    pub secret_stores: SpannedMap<SecretStoreLayer>,
    /// StorageClasses (EBS CSI), by name.
    #[serde(default)]
    pub storage_classes: SpannedMap<StorageClassLayer>,
    /// Karpenter NodePools, by name.
    #[serde(default)]
    pub node_pools: SpannedMap<NodePoolLayer>,
    /// Karpenter EC2NodeClasses, by name.
    #[serde(default)]
    pub node_classes: SpannedMap<NodeClassLayer>,
    /// Platform roles: ClusterRoles and their bindings to groups, by role.
    #[serde(default)]
    pub roles: Option<Spanned<RolesLayer>>,
    /// PriorityClasses, by name.
    #[serde(default)]
    pub priority_classes: SpannedMap<PriorityClassLayer>,
    /// Objects of these kinds that exist in the clusters without kgen (installed by
    /// hand, by Terraform, by EKS): references to them are not errors.
    #[serde(default)]
    pub provided: Option<Spanned<ProvidedLayer>>,
}

/// `provided = { storage_classes = ["gp2"], issuers = ["corp-ca"] }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvidedLayer {
    #[serde(default)]
    pub issuers: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub secret_stores: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub storage_classes: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub priority_classes: Option<Spanned<Vec<Spanned<String>>>>,
    /// Labels of nodes kgen does not declare (an EKS managed node group's), `key=value`
    /// or `key`: node selectors and affinities that name them are not warnings.
    #[serde(default)]
    pub node_labels: Option<Spanned<Vec<Spanned<String>>>>,
    /// Taint keys of nodes kgen does not declare (`CriticalAddonsOnly` on a system
    /// node group): tolerations of them are not warnings.
    #[serde(default)]
    pub node_taints: Option<Spanned<Vec<Spanned<String>>>>,
    /// API groups whose CRDs the cluster has without kgen (an operator installed by
    /// Terraform, an EKS add-on, by hand): custom resources of them are not KG306
    /// warnings.
    #[serde(default)]
    pub crd_groups: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[baseline.issuers.<name>]`: exactly one of `acme` and `self_signed`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerLayer {
    /// `false` leaves the issuer out (per cluster). Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// An ACME issuer (Let's Encrypt).
    #[serde(default)]
    pub acme: Option<Spanned<AcmeLayer>>,
    /// A self-signed issuer (internal certificates, tests).
    #[serde(default)]
    pub self_signed: Option<Spanned<bool>>,
}

/// `acme = { server = "production", email = "ops@example.com", http01 = { ingress_class = "nginx" } }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcmeLayer {
    /// `production` or `staging` (Let's Encrypt's), or another ACME directory URL.
    #[serde(default)]
    pub server: Option<Spanned<String>>,
    /// The ACME account's contact address. Required.
    #[serde(default)]
    pub email: Option<Spanned<String>>,
    /// Solve challenges over HTTP through this ingress class.
    #[serde(default)]
    pub http01: Option<Spanned<Http01Layer>>,
    /// Solve challenges in DNS through Route 53.
    #[serde(default)]
    pub dns01: Option<Spanned<Dns01Layer>>,
}

/// `http01 = { ingress_class = "nginx" }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http01Layer {
    /// The IngressClass serving the challenge (`nginx`). Required.
    #[serde(default)]
    pub ingress_class: Option<Spanned<String>>,
}

/// `dns01 = { region = "eu-west-1", hosted_zone_id = "Z123", role = "arn:..." }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns01Layer {
    /// AWS region of Route 53's API. Default: `[platform] aws_region`.
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    /// The hosted zone's id (a template allowed, like `{{ cluster.vars.zone_id }}`). Default: found from the domain.
    #[serde(default)]
    pub hosted_zone_id: Option<Spanned<String>>,
    /// An IAM role cert-manager assumes for Route 53, a template. Default: none
    /// (cert-manager's own identity: its IRSA role).
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// Domains this solver answers for. Default: every domain.
    #[serde(default)]
    pub dns_zones: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[baseline.secret_stores.<name>]`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretStoreLayer {
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// `secrets-manager` or `parameter-store`. Required.
    #[serde(default)]
    pub provider: Option<Spanned<SecretStoreProvider>>,
    /// AWS region, a template. Default: `[platform] aws_region`.
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    /// An IAM role the operator assumes to read, a template. Default: none (the
    /// operator's own identity: its IRSA role or Pod Identity association).
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// Only these namespaces may use the store (names or `*` patterns). Default: every namespace.
    #[serde(default)]
    pub namespaces: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Where a ClusterSecretStore reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretStoreProvider {
    /// AWS Secrets Manager (`secretsmanager` secrets).
    SecretsManager,
    /// AWS Systems Manager Parameter Store (`ssm` secrets).
    ParameterStore,
}

/// `[baseline.storage_classes.<name>]`: an EBS CSI StorageClass.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageClassLayer {
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// EBS volume type: `gp3`, `gp2`, `io1`, `io2`, `st1`, `sc1`. Default: `gp3`.
    #[serde(rename = "type", default)]
    pub type_: Option<Spanned<String>>,
    /// Encrypt volumes. Default: `true`.
    #[serde(default)]
    pub encrypted: Option<Spanned<bool>>,
    /// KMS key ARN for encryption, a template. Default: the account's EBS key.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// Provisioned IOPS (gp3: 3000–80000; io1: 100–64000; io2: 100–256000). Default:
    /// the type's baseline.
    #[serde(default)]
    pub iops: Option<Spanned<i64>>,
    /// Throughput in MiB/s (gp3 only: 125–2000, at most 0.25 per IOPS). Default: 125.
    #[serde(default)]
    pub throughput: Option<Spanned<i64>>,
    /// `Delete` (the default) or `Retain`: what happens to a volume when its claim goes.
    #[serde(default)]
    pub reclaim_policy: Option<Spanned<ReclaimPolicy>>,
    /// `WaitForFirstConsumer` (the default: the volume is made in the zone of the pod)
    /// or `Immediate`.
    #[serde(default)]
    pub binding_mode: Option<Spanned<BindingMode>>,
    /// Let claims grow. Default: `true`.
    #[serde(default)]
    pub allow_expansion: Option<Spanned<bool>>,
    /// The cluster's default StorageClass (one at most). Default: `false`.
    #[serde(default)]
    pub default: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ReclaimPolicy {
    Delete,
    Retain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum BindingMode {
    WaitForFirstConsumer,
    Immediate,
}

/// `[baseline.node_pools.<name>]`: a Karpenter NodePool.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodePoolLayer {
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// The EC2NodeClass its nodes use. Default: `default`.
    #[serde(default)]
    pub node_class: Option<Spanned<String>>,
    /// Instance families (`m5`, `m6i`, `t3`). Default: any.
    #[serde(default)]
    pub instance_families: Option<Spanned<Vec<Spanned<String>>>>,
    /// Instance categories (`c`, `m`, `r`, `t`). Default: any.
    #[serde(default)]
    pub instance_categories: Option<Spanned<Vec<Spanned<String>>>>,
    /// `spot`, `on-demand` (and `reserved`). Default: `["on-demand"]`.
    #[serde(default)]
    pub capacity_types: Option<Spanned<Vec<Spanned<String>>>>,
    /// `amd64`, `arm64`. Default: `["amd64"]`.
    #[serde(default)]
    pub architectures: Option<Spanned<Vec<Spanned<String>>>>,
    /// Availability zones. Default: any.
    #[serde(default)]
    pub zones: Option<Spanned<Vec<Spanned<String>>>>,
    /// Total vCPUs the pool may run (a quantity: `20`, `"1500m"`). Default: no limit.
    #[serde(default)]
    pub cpu_limit: Option<Spanned<super::Scalar>>,
    /// Total memory the pool may run (a quantity, `"80Gi"`). Default: no limit.
    #[serde(default)]
    pub memory_limit: Option<Spanned<super::Scalar>>,
    /// `WhenEmptyOrUnderutilized` (the default) or `WhenEmpty`.
    #[serde(default)]
    pub consolidation: Option<Spanned<String>>,
    /// How long a node must be underused before it is consolidated (`1m`, `Never`). Default: `0s`.
    #[serde(default)]
    pub consolidate_after: Option<Spanned<String>>,
    /// How long a node lives before it is replaced (`720h`, `Never`). Default: `720h`.
    #[serde(default)]
    pub expire_after: Option<Spanned<String>>,
    /// Taints of the pool's nodes: `[{ key, value, effect }]`.
    #[serde(default)]
    pub taints: Option<Spanned<Vec<TaintLayer>>>,
    /// Labels of the pool's nodes.
    #[serde(default)]
    pub labels: SpannedMap<String>,
    /// Priority among pools (higher first). Default: none.
    #[serde(default)]
    pub weight: Option<Spanned<i64>>,
}

/// `{ key = "CriticalAddonsOnly", value = "true", effect = "NoSchedule" }`
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaintLayer {
    pub key: Spanned<String>,
    #[serde(default)]
    pub value: Option<Spanned<String>>,
    pub effect: Spanned<TaintEffect>,
}

/// `[baseline.node_classes.<name>]`: a Karpenter EC2NodeClass.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeClassLayer {
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// IAM role of the nodes (its name), a template. Required.
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// Tags selecting the subnets, `{ "karpenter.sh/discovery" = "{{ cluster.eks_name }}" }`. Required.
    #[serde(default)]
    pub subnet_tags: SpannedMap<String>,
    /// Tags selecting the security groups. Required.
    #[serde(default)]
    pub security_group_tags: SpannedMap<String>,
    /// The EKS-optimised AMI, `family@version`: `al2023@v20240807` (pin it; `@latest`
    /// replaces every node at each new AMI). Default: `al2023@latest`.
    #[serde(default)]
    pub ami_alias: Option<Spanned<String>>,
}

/// `[baseline.roles]`: platform roles bound to groups (EKS access entries map IAM
/// principals to these groups).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesLayer {
    /// Full access to the cluster (`cluster-admin`).
    #[serde(default)]
    pub admin: Option<Spanned<RoleLayer>>,
    /// Create and manage workloads in the services' namespaces (`edit` there).
    #[serde(default)]
    pub developer: Option<Spanned<RoleLayer>>,
    /// Read everything but Secrets (`view`).
    #[serde(default)]
    pub viewer: Option<Spanned<RoleLayer>>,
    /// Read-only access to monitoring objects and metrics, for dashboards and tools.
    #[serde(default)]
    pub monitoring_reader: Option<Spanned<RoleLayer>>,
}

/// `admin = { groups = ["platform-admins"] }`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleLayer {
    /// The Kubernetes groups bound to the role. Required.
    #[serde(default)]
    pub groups: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[baseline.priority_classes.<name>]`
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityClassLayer {
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// Priority (higher runs first; below 1,000,000,000, which Kubernetes reserves). Required.
    #[serde(default)]
    pub value: Option<Spanned<i64>>,
    /// Pods may preempt lower-priority pods. Default: `true`.
    #[serde(default)]
    pub preempt: Option<Spanned<bool>>,
    /// The priority of pods that name none (one class at most). Default: `false`.
    #[serde(default)]
    pub global_default: Option<Spanned<bool>>,
    /// What the class is for.
    #[serde(default)]
    pub description: Option<Spanned<String>>,
}
