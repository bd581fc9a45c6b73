//! The service's ConfigMap (`<service>-config`): its config entries plus `VERSION`,
//! the image tag (the seeds' "version ConfigMap"). Loaded into the container with
//! `envFrom`; its hash goes on the pod template so a change rolls the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
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
    let entries = data.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    ConfigMap {
        metadata: metadata(platform, svc, &name(svc), entries),
        data: Some(data),
        ..Default::default()
    }
}

/// The metadata of a service's ConfigMap `name` holding `entries`: in the wave before
/// its pods, and with the sync option that applies it server-side when its data is too
/// large for client-side apply ([`CLIENT_SIDE_APPLY_DATA_LIMIT`]).
fn metadata<'a>(
    platform: &PlatformSpec,
    svc: &ServiceSpec,
    name: &str,
    entries: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> ObjectMeta {
    let mut metadata = with_wave(
        meta(name, Some(&svc.namespace), labels::service(platform, svc)),
        wave::SUPPORT,
    );
    if too_large_for_client_side_apply(entries).is_some() {
        metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(
                SYNC_OPTIONS_ANNOTATION.to_string(),
                SERVER_SIDE_APPLY.to_string(),
            );
    }
    metadata
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
    let entries = svc
        .files
        .iter()
        .map(|f| (f.key.as_str(), f.content.as_str()));
    Some(ConfigMap {
        metadata: metadata(platform, svc, &files_name(svc), entries),
        data: Some(
            svc.files
                .iter()
                .map(|f| (f.key.clone(), f.content.clone()))
                .collect(),
        ),
        ..Default::default()
    })
}

/// Argo CD's annotation of sync options for one object.
pub const SYNC_OPTIONS_ANNOTATION: &str = "argocd.argoproj.io/sync-options";
/// The sync option that applies one object server-side.
pub const SERVER_SIDE_APPLY: &str = "ServerSideApply=true";

/// Client-side apply (`kubectl apply`, Argo CD's default) copies the whole object into
/// its `kubectl.kubernetes.io/last-applied-configuration` annotation, and the API server
/// refuses more than 256 KiB of annotations (apimachinery `ValidateAnnotations`,
/// `TotalAnnotationSizeLimitB`; argoproj/argo-cd#820). Above this many bytes of data
/// (as JSON writes them), an object needs server-side apply; the rest of the limit is
/// room for its metadata.
pub const CLIENT_SIDE_APPLY_DATA_LIMIT: usize = 256 * 1024 - 8 * 1024;

/// The JSON size of `entries` (see [`json_data_size`]) when it is over
/// [`CLIENT_SIDE_APPLY_DATA_LIMIT`]. A bound first: JSON writes a byte in at most 6, and
/// 6 more for each entry, so most data costs only a sum of lengths.
pub fn too_large_for_client_side_apply<'a>(
    entries: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Option<usize> {
    let (raw, n) = entries
        .clone()
        .fold((0, 0), |(raw, n), (k, v)| (raw + k.len() + v.len(), n + 1));
    if 6 * (raw + n) <= CLIENT_SIDE_APPLY_DATA_LIMIT {
        return None;
    }
    let size = json_data_size(entries);
    (size > CLIENT_SIDE_APPLY_DATA_LIMIT).then_some(size)
}

/// The bytes `entries` take as JSON strings, as Go writes them for the annotation
/// (apimachinery `unstructured.go`, `unstructuredJSONScheme.doEncode`:
/// `json.NewEncoder`, which escapes HTML): keys and values with their escapes, `<`, `>`
/// and `&` as `\u003c` and the like, so an HTML or XML file takes up to six times its
/// size.
fn json_data_size<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> usize {
    let escaped = |s: &str| {
        s.len()
            + s.bytes()
                .map(|b| match b {
                    b'"' | b'\\' | b'\n' | b'\r' | b'\t' => 1,
                    b'<' | b'>' | b'&' | 0..0x20 => 5,
                    _ => 0,
                })
                .sum::<usize>()
            // U+2028 and U+2029 (3 bytes) are escaped too, as `\u2028` (6).
            + 3 * s.matches(['\u{2028}', '\u{2029}']).count()
            + 2
    };
    entries.map(|(k, v)| escaped(k) + escaped(v) + 2).sum()
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
