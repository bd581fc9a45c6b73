//! `generated/terraform/<cluster>.json`: what the AWS side of a cluster needs from the
//! same source of truth, for Terraform.
//!
//! IAM roles and EKS Pod Identity associations are AWS objects, not Kubernetes ones:
//! Argo CD cannot create them. kgen lists them, per cluster, in JSON (which Terraform
//! reads natively with `jsondecode(file(...))`), outside every directory that holds
//! Kubernetes objects, so `kubectl apply -R` and directory validators never see it:
//!
//! - `irsa`: every service and add-on whose pods assume an IAM role through IRSA, with the role
//!   ARN kgen annotates and the trust policy's subject
//!   (`system:serviceaccount:<namespace>:<service account>`);
//! - `pod_identity_associations`: every association to create, with the argument
//!   names of `aws_eks_pod_identity_association`;
//! - `secret_prefixes`: per environment, the secret paths its roles may read;
//! - `karpenter`: the IAM roles of the nodes its EC2NodeClasses launch (each needs an
//!   instance profile and an EKS access entry of type `EC2_LINUX`) and its interruption
//!   queue (SQS, fed by EventBridge rules), when the cluster declares node classes or runs
//!   the `karpenter` chart;
//! - `assumed_roles`: roles the baseline's objects name for an operator to assume
//!   (a ClusterSecretStore's `role`, a DNS-01 solver's `role`): each must trust the
//!   operator's own role.
//!
//! The first key, `//`, is the header every generated file has (JSON has no comments).
//! docs/output.md shows a Terraform snippet that reads the file.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::{ClusterSpec, PlatformSpec, WorkloadIdentity};

/// Version of the file's format; bumped when a key changes meaning.
pub const FORMAT_VERSION: u32 = 1;

/// `terraform/<cluster>.json`
pub fn file(cluster: &str) -> String {
    format!("{}/{cluster}.json", super::TERRAFORM_DIR)
}

/// The document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandOff {
    pub format_version: u32,
    pub cluster: String,
    pub irsa: Vec<IrsaRole>,
    pub pod_identity_associations: Vec<Association>,
    /// Environment → the secret paths it may read (`secret_prefixes`); empty means any.
    pub secret_prefixes: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub karpenter: Option<Karpenter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumed_roles: Vec<AssumedRole>,
}

/// What Karpenter needs on the AWS side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Karpenter {
    /// IAM role names of the nodes (the EC2NodeClasses' `role`), sorted.
    pub node_roles: Vec<String>,
    /// The SQS queue of interruption events (the chart's `settings.interruptionQueue`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interruption_queue: Option<String>,
}

/// A role a baseline object tells an operator to assume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssumedRole {
    /// `ClusterSecretStore/<name>` or `ClusterIssuer/<name>`.
    pub object: String,
    pub role_arn: String,
}

/// A role assumed through IRSA, and the subject its trust policy must allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IrsaRole {
    /// The environment of the service, or none for an add-on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The add-on the role is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon: Option<String>,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub subject: String,
}

/// One Pod Identity association, with the argument names of `aws_eks_pod_identity_association`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Association {
    /// The environment of the service, or none for an add-on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The add-on the association is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon: Option<String>,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
}

pub fn build(platform: &PlatformSpec, cluster: &ClusterSpec) -> HandOff {
    let mut irsa = Vec::new();
    let mut associations = Vec::new();
    let mut secret_prefixes = BTreeMap::new();
    for env in platform.environments_on(&cluster.name) {
        secret_prefixes.insert(env.name.clone(), env.secret_prefixes.clone());
        for s in &env.services {
            let Some(role) = &s.iam_role else { continue };
            match env.workload_identity {
                WorkloadIdentity::Irsa => irsa.push(IrsaRole {
                    environment: Some(env.name.clone()),
                    addon: None,
                    namespace: s.namespace.clone(),
                    service_account: s.name.clone(),
                    role_arn: role.clone(),
                    subject: format!("system:serviceaccount:{}:{}", s.namespace, s.name),
                }),
                WorkloadIdentity::PodIdentity => associations.push(Association {
                    environment: Some(env.name.clone()),
                    addon: None,
                    namespace: s.namespace.clone(),
                    service_account: s.name.clone(),
                    role_arn: role.clone(),
                }),
            }
        }
    }
    for a in &cluster.addons {
        let Some(id) = &a.identity else { continue };
        match id.mode {
            WorkloadIdentity::Irsa => irsa.push(IrsaRole {
                environment: None,
                addon: Some(a.name.clone()),
                namespace: a.namespace.clone(),
                service_account: id.service_account.clone(),
                role_arn: id.role_arn.clone(),
                subject: format!(
                    "system:serviceaccount:{}:{}",
                    a.namespace, id.service_account
                ),
            }),
            WorkloadIdentity::PodIdentity => associations.push(Association {
                environment: None,
                addon: Some(a.name.clone()),
                namespace: a.namespace.clone(),
                service_account: id.service_account.clone(),
                role_arn: id.role_arn.clone(),
            }),
        }
    }
    let node_roles: std::collections::BTreeSet<String> = cluster
        .baseline
        .node_classes
        .iter()
        .map(|c| c.role.clone())
        .collect();
    let interruption_queue = cluster
        .addons
        .iter()
        .filter(|a| a.chart == "karpenter")
        .find_map(|a| a.values["settings"]["interruptionQueue"].as_str())
        .map(str::to_string);
    let karpenter = (!node_roles.is_empty() || interruption_queue.is_some()).then(|| Karpenter {
        node_roles: node_roles.into_iter().collect(),
        interruption_queue,
    });
    let mut assumed_roles = Vec::new();
    for s in &cluster.baseline.secret_stores {
        if let Some(role) = &s.role {
            assumed_roles.push(AssumedRole {
                object: format!("ClusterSecretStore/{}", s.name),
                role_arn: role.clone(),
            });
        }
    }
    for i in &cluster.baseline.issuers {
        let crate::spec::IssuerKind::Acme { solvers, .. } = &i.kind else {
            continue;
        };
        for solver in solvers {
            if let crate::spec::AcmeSolver::Dns01 {
                role: Some(role), ..
            } = solver
            {
                assumed_roles.push(AssumedRole {
                    object: format!("ClusterIssuer/{}", i.name),
                    role_arn: role.clone(),
                });
            }
        }
    }
    HandOff {
        format_version: FORMAT_VERSION,
        cluster: cluster.name.clone(),
        irsa,
        pod_identity_associations: associations,
        secret_prefixes,
        karpenter,
        assumed_roles,
    }
}
