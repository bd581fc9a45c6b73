//! The config hash of a pod template (`kgen.dev/config-hash`) also covers the other
//! ConfigMaps its final pod template uses.
//!
//! The renderer hashes a service's own ConfigMaps (`<service>-config`,
//! `<service>-files`: `render::config_map::hash_all`). A pod template may use others
//! once the escape hatch has run: a hand-written ConfigMap a patch mounts (a
//! sidecar's config file), one an `env` entry's `config_map` names, another
//! service's. [`cover`] mixes the data of each ConfigMap that is rendered in the same
//! environment and namespace and that the pod template references (a `configMap` or
//! `projected` volume, `envFrom[].configMapRef`, `env[].valueFrom.configMapKeyRef`, in
//! every container, init and ephemeral ones included) into the hash, so a change to
//! it rolls the pods as a change to the service's own does. A pod template that
//! references none keeps its hash, byte for byte. docs/output.md.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::render::pod::CONFIG_HASH_ANNOTATION;
use crate::render::Object;

/// The pod templates of a workload, as JSON pointers (a CronJob's is in its job
/// template).
const POD_TEMPLATES: &[&str] = &["/spec/template", "/spec/jobTemplate/spec/template"];

/// The files of a service's own ConfigMaps, which the rendered hash covers.
const OWN_FILES: &[&str] = &["configmap.yaml", "configmap-files.yaml"];

/// Whether `o` is a ConfigMap.
pub fn is_config_map(o: &Object) -> bool {
    o.value["apiVersion"] == "v1" && o.kind() == "ConfigMap"
}

/// The directory of an object's file under `generated/` and its file name.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// The pod template of `o` with kgen's config hash, if it has one. Runs on every
/// object of every render: key lookups only (`Value::pointer` allocates per token).
fn template(o: &Value) -> Option<(&'static str, &Value)> {
    let spec = o.get("spec")?;
    let (at, t) = match spec.get("template") {
        Some(t) => (POD_TEMPLATES[0], t),
        None => (
            POD_TEMPLATES[1],
            spec.get("jobTemplate")?.get("spec")?.get("template")?,
        ),
    };
    t.get("metadata")?
        .get("annotations")?
        .get(CONFIG_HASH_ANNOTATION)?
        .is_string()
        .then_some((at, t))
}

/// The names of the ConfigMaps a pod template references.
pub fn references(template: &Value) -> BTreeSet<String> {
    let spec = &template["spec"];
    let mut out = BTreeSet::new();
    let mut add = |v: &Value| {
        if let Some(n) = v["name"].as_str() {
            out.insert(n.to_string());
        }
    };
    for v in spec["volumes"].as_array().into_iter().flatten() {
        if v["configMap"].is_object() {
            add(&v["configMap"]);
        }
        for s in v["projected"]["sources"].as_array().into_iter().flatten() {
            if s["configMap"].is_object() {
                add(&s["configMap"]);
            }
        }
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec[list].as_array().into_iter().flatten() {
            for e in c["envFrom"].as_array().into_iter().flatten() {
                if e["configMapRef"].is_object() {
                    add(&e["configMapRef"]);
                }
            }
            for e in c["env"].as_array().into_iter().flatten() {
                let r = &e["valueFrom"]["configMapKeyRef"];
                if r.is_object() {
                    add(r);
                }
            }
        }
    }
    out
}

/// The ConfigMaps the pod templates of `objects` reference that are not among
/// `objects`: whether [`cover`] needs the other objects of their namespaces.
pub fn references_elsewhere(objects: &[Object]) -> bool {
    let here: BTreeSet<(&str, &str)> = objects
        .iter()
        .filter(|o| is_config_map(o))
        .filter_map(|o| {
            Some((
                o.value["metadata"]["namespace"].as_str()?,
                o.value["metadata"]["name"].as_str()?,
            ))
        })
        .collect();
    objects.iter().any(|o| {
        let ns = o.value["metadata"]["namespace"].as_str().unwrap_or("");
        template(&o.value).is_some_and(|(_, t)| {
            references(t)
                .iter()
                .any(|n| !here.contains(&(ns, n.as_str())))
        })
    })
}

/// The data and binary data of a ConfigMap, canonically: each entry's key and value
/// with their lengths first, sorted by key, whatever the order of the input.
fn canonical(cm: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |b: &[u8]| {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    };
    for field in ["data", "binaryData"] {
        put(field.as_bytes());
        let entries: BTreeMap<&str, String> = cm[field]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.as_str(), text)
            })
            .collect();
        put(&(entries.len() as u64).to_le_bytes());
        for (k, v) in entries {
            put(k.as_bytes());
            put(v.as_bytes());
        }
    }
    out
}

/// `hash` extended with the named ConfigMaps' canonical data, sorted by name.
fn extend(hash: &str, cms: &BTreeMap<&str, Vec<u8>>) -> String {
    let mut h = Sha256::new();
    h.update((hash.len() as u64).to_le_bytes());
    h.update(hash.as_bytes());
    for (name, data) in cms {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((data.len() as u64).to_le_bytes());
        h.update(data);
    }
    let digest = h.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Extends the config hash of every pod template of kgen's in `objects` (whole
/// namespaces of one environment: its services' final objects, hand-written ones
/// included) with the ConfigMaps it references among `objects` and `more` (other
/// objects of the same namespaces, for a run that emits only some of them), other
/// than the service's own two.
///
/// Runs on every render: the references are looked up first, and a ConfigMap's data
/// is read only for a pod template that uses one besides its service's own (most use
/// none, and then this costs a few lookups per pod template).
pub fn cover(objects: &mut [Object], more: &[Object]) {
    let mut updates: Vec<(usize, &'static str, String)> = Vec::new();
    {
        // (namespace, name) → (file, object); the first of two with one name (an
        // error validation reports).
        let mut cms: BTreeMap<&str, BTreeMap<&str, (&str, &Value)>> = BTreeMap::new();
        for o in objects.iter().chain(more).filter(|o| is_config_map(o)) {
            let meta = &o.value["metadata"];
            if let (Some(ns), Some(name)) = (meta["namespace"].as_str(), meta["name"].as_str()) {
                cms.entry(ns)
                    .or_default()
                    .entry(name)
                    .or_insert((o.path.as_str(), &o.value));
            }
        }
        if cms.is_empty() {
            return;
        }
        for (i, o) in objects.iter().enumerate() {
            let Some((at, t)) = template(&o.value) else {
                continue;
            };
            let ns = o.value["metadata"]["namespace"].as_str().unwrap_or("");
            let Some(in_ns) = cms.get(ns) else {
                continue;
            };
            let (dir, _) = split(&o.path);
            let mut used: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
            for name in references(t) {
                let Some((&name, &(path, cm))) = in_ns.get_key_value(name.as_str()) else {
                    continue;
                };
                let (cm_dir, file) = split(path);
                if cm_dir == dir && OWN_FILES.contains(&file) {
                    continue;
                }
                used.insert(name, canonical(cm));
            }
            if used.is_empty() {
                continue;
            }
            let annotations = &t["metadata"]["annotations"];
            let hash = extend(
                annotations[CONFIG_HASH_ANNOTATION].as_str().unwrap_or(""),
                &used,
            );
            updates.push((i, at, hash));
        }
    }
    for (i, at, hash) in updates {
        if let Some(a) = objects[i]
            .value
            .pointer_mut(&format!("{at}/metadata/annotations"))
            .and_then(Value::as_object_mut)
        {
            a.insert(CONFIG_HASH_ANNOTATION.to_string(), Value::String(hash));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(path: &str, value: Value) -> Object {
        Object {
            env: "dev".into(),
            per_cluster: false,
            path: path.into(),
            service: Some("api".into()),
            value,
        }
    }

    fn deployment(volumes: Value) -> Object {
        obj(
            "dev/api/deployment.yaml",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "api", "namespace": "api"},
                "spec": {"template": {
                    "metadata": {"annotations": {CONFIG_HASH_ANNOTATION: "0123456789abcdef"}},
                    "spec": {"volumes": volumes, "containers": [{"name": "api"}]}}}}),
        )
    }

    fn cm(path: &str, name: &str, data: Value) -> Object {
        obj(
            path,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "api"}, "data": data}),
        )
    }

    fn hash(objects: &[Object]) -> String {
        objects[0].value["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn own_config_maps_and_unknown_ones_keep_the_hash() {
        let mut objects = vec![
            deployment(json!([{"name": "c", "configMap": {"name": "api-config"}},
                {"name": "r", "configMap": {"name": "kube-root-ca.crt"}}])),
            cm("dev/api/configmap.yaml", "api-config", json!({"A": "1"})),
        ];
        cover(&mut objects, &[]);
        assert_eq!(hash(&objects), "0123456789abcdef");
    }

    #[test]
    fn a_referenced_config_map_changes_the_hash_whatever_the_order() {
        let vols = json!([{"name": "e", "configMap": {"name": "envoy"}}]);
        let make = |data: Value| {
            vec![
                deployment(vols.clone()),
                cm("dev/api/manifest-configmap-envoy.yaml", "envoy", data),
            ]
        };
        let mut a = make(json!({"x": "1", "y": "2"}));
        let mut b = make(json!({"y": "2", "x": "1"}));
        let mut c = make(json!({"x": "1", "y": "3"}));
        cover(&mut a, &[]);
        cover(&mut b, &[]);
        cover(&mut c, &[]);
        assert_ne!(hash(&a), "0123456789abcdef");
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&c));
    }
}
