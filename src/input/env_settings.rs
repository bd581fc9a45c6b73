//! The typed shape of the environment-wide choices: how public services are exposed
//! (`[ingress]`, `[ingress.alb]`), NetworkPolicies (`[network_policy]`), how pods get
//! their IAM role (`workload_identity`) and where secrets come from
//! (`secrets_backend`, `[external_secrets]`).

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spanned::Spanned;
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
