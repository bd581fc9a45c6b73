//! The Namespace of a service, with Pod Security Admission set to `restricted`
//! (kgen's pods already satisfy it, so the namespace enforces it).

use k8s_openapi::api::core::v1::Namespace;

use super::{labels, meta, wave, with_wave};
use crate::spec::PlatformSpec;

pub fn build(platform: &PlatformSpec, name: &str) -> Namespace {
    let mut l = labels::platform(platform);
    l.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "restricted".into(),
    );
    l.insert("kubernetes.io/metadata.name".into(), name.into());
    Namespace {
        metadata: with_wave(meta(name, None, l), wave::NAMESPACE),
        ..Default::default()
    }
}
