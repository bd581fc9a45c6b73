//! The service's ConfigMap (`<service>-config`): its config entries plus `VERSION`,
//! the image tag (the seeds' "version ConfigMap"). Loaded into the container with
//! `envFrom`; its hash goes on the pod template so a change rolls the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use sha2::{Digest, Sha256};

use super::{labels, meta, wave, with_wave};
use crate::resolve::VERSION_KEY;
use crate::spec::{PlatformSpec, ServiceSpec};

pub fn name(svc: &ServiceSpec) -> String {
    format!("{}-config", svc.name)
}

pub fn build(platform: &PlatformSpec, svc: &ServiceSpec) -> ConfigMap {
    let mut data: BTreeMap<String, String> = svc.config.clone();
    data.insert(VERSION_KEY.to_string(), svc.version().to_string());
    ConfigMap {
        metadata: with_wave(
            meta(
                &name(svc),
                Some(&svc.namespace),
                labels::service(platform, svc),
            ),
            wave::SUPPORT,
        ),
        data: Some(data),
        ..Default::default()
    }
}

/// Name of the ConfigMap holding the service's `files`.
pub fn files_name(svc: &ServiceSpec) -> String {
    format!("{}-files", svc.name)
}

/// The service's files ConfigMap (`<service>-files`), when it has `files`: one key per
/// file, mounted read-only (never loaded as environment variables).
pub fn build_files(platform: &PlatformSpec, svc: &ServiceSpec) -> Option<ConfigMap> {
    if svc.files.is_empty() {
        return None;
    }
    Some(ConfigMap {
        metadata: with_wave(
            meta(
                &files_name(svc),
                Some(&svc.namespace),
                labels::service(platform, svc),
            ),
            wave::SUPPORT,
        ),
        data: Some(
            svc.files
                .iter()
                .map(|f| (f.key.clone(), f.content.clone()))
                .collect(),
        ),
        ..Default::default()
    })
}

/// A short, stable hash of the ConfigMap's data (sorted key/value pairs).
pub fn hash(cm: &ConfigMap) -> String {
    hash_all(&[cm])
}

/// A short, stable hash of the data of several ConfigMaps, in order. With one
/// ConfigMap it is [`hash`]'s, so services without files keep their hash.
pub fn hash_all(cms: &[&ConfigMap]) -> String {
    let mut h = Sha256::new();
    for (i, cm) in cms.iter().enumerate() {
        if i > 0 {
            // A separator no key/value pair can produce (lengths come first).
            h.update(u64::MAX.to_le_bytes());
        }
        for (k, v) in cm.data.iter().flatten() {
            h.update((k.len() as u64).to_le_bytes());
            h.update(k.as_bytes());
            h.update((v.len() as u64).to_le_bytes());
            h.update(v.as_bytes());
        }
    }
    let digest = h.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
