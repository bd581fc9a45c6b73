//! The SecretProviderClass (secrets-store.csi.x-k8s.io/v1, provider `aws`) that
//! tells the Secrets Store CSI driver which Secrets Manager secrets and SSM
//! parameters to mount. Secrets that share a key become one object with several
//! `jmesPath` entries (the AWS provider refuses duplicate objects). With EKS Pod
//! Identity the provider is told so (`usePodIdentity: "true"`); it uses IRSA otherwise.

use std::fmt::Write as _;

use super::{labels, meta, wave, with_wave};
use crate::crd::secret_provider_class::{SecretProviderClass, SecretProviderClassSpec};
use crate::spec::{EnvSpec, PlatformSpec, SecretSource, ServiceSpec, WorkloadIdentity};

pub fn name(svc: &ServiceSpec) -> String {
    format!("{}-secrets", svc.name)
}

pub fn build(platform: &PlatformSpec, env: &EnvSpec, svc: &ServiceSpec) -> SecretProviderClass {
    // The CRD is an add-on's (or installed outside the platform).
    let metadata = super::skipping_dry_run(with_wave(
        meta(
            &name(svc),
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        wave::SUPPORT,
    ));
    SecretProviderClass::new(
        metadata,
        SecretProviderClassSpec::aws(
            objects(svc),
            platform.aws_region.as_deref(),
            env.workload_identity == WorkloadIdentity::PodIdentity,
        ),
    )
}

/// The provider's `objects` parameter: a YAML list, written by hand in a fixed form.
pub fn objects(svc: &ServiceSpec) -> String {
    // Group by (type, key), keeping the first-listed order of groups.
    let mut groups: Vec<((SecretSource, &str), Vec<&crate::spec::Secret>)> = Vec::new();
    for s in &svc.secrets {
        let k = (s.from, s.key.as_str());
        match groups.iter_mut().find(|(gk, _)| *gk == k) {
            Some((_, v)) => v.push(s),
            None => groups.push((k, vec![s])),
        }
    }
    let mut out = String::new();
    for ((from, key), secrets) in groups {
        let object_type = match from {
            SecretSource::Secretsmanager => "secretsmanager",
            SecretSource::Ssm => "ssmparameter",
        };
        let _ = writeln!(out, "- objectName: {}", quote(key));
        let _ = writeln!(out, "  objectType: {}", quote(object_type));
        let whole: Vec<_> = secrets.iter().filter(|s| s.json_key.is_none()).collect();
        let parts: Vec<_> = secrets.iter().filter(|s| s.json_key.is_some()).collect();
        if let Some(first) = whole.first() {
            let _ = writeln!(out, "  objectAlias: {}", quote(&first.name));
        }
        if !parts.is_empty() {
            let _ = writeln!(out, "  jmesPath:");
            for p in parts {
                let _ = writeln!(
                    out,
                    "  - path: {}\n    objectAlias: {}",
                    quote(p.json_key.as_deref().unwrap_or_default()),
                    quote(&p.name)
                );
            }
        }
    }
    out
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}
