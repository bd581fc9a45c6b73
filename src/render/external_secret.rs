//! The ExternalSecret (external-secrets.io/v1) of a service with secrets, when the
//! environment's `secrets_backend` is `external-secrets`.
//!
//! The External Secrets Operator reads every listed secret through the platform's
//! ClusterSecretStore (Secrets Manager; SSM parameters through the Parameter Store
//! store, per entry) and writes one Secret, `<service>-secrets`, owned by the
//! ExternalSecret. The Deployment loads it with `envFrom`, so each secret's `name` is
//! an environment variable; a `json_key` becomes the entry's `property`. The operator
//! re-reads the values every `refresh_interval`; pods see new values when they restart.

use super::{labels, meta, wave, with_wave};
use crate::crd::external_secrets::{
    ExternalSecret, ExternalSecretData, ExternalSecretSpec, ExternalSecretTarget, RemoteRef,
    SecretStoreRef, SourceRef, CREATION_POLICY_OWNER,
};
use crate::spec::{EnvSpec, PlatformSpec, SecretSource, ServiceSpec};

/// Name of the ExternalSecret and of the Secret it writes.
pub fn name(svc: &ServiceSpec) -> String {
    format!("{}-secrets", svc.name)
}

pub fn build(platform: &PlatformSpec, env: &EnvSpec, svc: &ServiceSpec) -> ExternalSecret {
    let settings = &env.external_secrets;
    let data = svc
        .secrets
        .iter()
        .map(|s| ExternalSecretData {
            secret_key: s.name.clone(),
            remote_ref: RemoteRef {
                key: s.key.clone(),
                property: s.json_key.clone(),
            },
            source_ref: (s.from == SecretSource::Ssm).then(|| SourceRef {
                store_ref: SecretStoreRef::cluster(settings.ssm_store.clone()),
            }),
        })
        .collect();
    // The CRD is an add-on's (or installed outside the platform).
    let metadata = super::skipping_dry_run(with_wave(
        meta(
            &name(svc),
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        wave::SUPPORT,
    ));
    let mut es = ExternalSecret::new(
        metadata,
        ExternalSecretSpec {
            secret_store_ref: SecretStoreRef::cluster(settings.store.clone()),
            target: ExternalSecretTarget {
                name: Some(name(svc)),
                creation_policy: Some(CREATION_POLICY_OWNER.into()),
            },
            refresh_interval: Some(settings.refresh_interval.clone()),
            data,
        },
    );
    es.api_version = settings.api_version.clone();
    es
}
