//! The ServiceAccount of a service, annotated for IRSA when it has an IAM role and the
//! environment uses IRSA. With EKS Pod Identity the role is associated with the
//! ServiceAccount in AWS instead (see `pod_identity`), so there is no annotation.

use k8s_openapi::api::core::v1::ServiceAccount;

use super::{labels, meta, wave, with_wave};
use crate::spec::{EnvSpec, PlatformSpec, ServiceSpec, WorkloadIdentity};

pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

pub fn build(platform: &PlatformSpec, env: &EnvSpec, svc: &ServiceSpec) -> ServiceAccount {
    let mut m = with_wave(
        meta(
            &svc.name,
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        wave::SUPPORT,
    );
    if let Some(role) = svc
        .iam_role
        .as_ref()
        .filter(|_| env.workload_identity == WorkloadIdentity::Irsa)
    {
        m.annotations
            .get_or_insert_with(Default::default)
            .insert(IRSA_ANNOTATION.into(), role.clone());
    }
    ServiceAccount {
        metadata: m,
        ..Default::default()
    }
}
