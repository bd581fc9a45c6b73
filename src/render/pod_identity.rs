//! `generated/<env>/pod-identity-associations.yaml`: the EKS Pod Identity associations
//! of an environment whose `workload_identity` is `pod-identity`.
//!
//! A Pod Identity association (namespace + service account → IAM role) is an AWS
//! object, not a Kubernetes one: Argo CD cannot create it. kgen lists them for
//! Terraform, which reads the file with `yamldecode(file(...))` and creates one
//! `aws_eks_pod_identity_association` per entry (see docs/output.md). The file is not
//! under any service's directory, so no Argo CD Application applies it.

use serde::Serialize;

use crate::spec::EnvSpec;

pub const FILE: &str = "pod-identity-associations.yaml";

/// The document: the environment and its associations, by service name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Associations {
    pub environment: String,
    pub associations: Vec<Association>,
}

/// One association, with the argument names of `aws_eks_pod_identity_association`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Association {
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
}

pub fn build(env: &EnvSpec) -> Associations {
    Associations {
        environment: env.name.clone(),
        associations: env
            .services
            .iter()
            .filter_map(|s| {
                Some(Association {
                    namespace: s.namespace.clone(),
                    service_account: s.name.clone(),
                    role_arn: s.iam_role.clone()?,
                })
            })
            .collect(),
    }
}
