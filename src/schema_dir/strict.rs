//! Schema rewriting: an upstream `openAPIV3Schema` (or a generated schema) made
//! strict, so that a JSON Schema validator rejects what a strict API server rejects
//! (see the parent module's documentation for the rules).

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Rewrites an upstream `openAPIV3Schema` so that a JSON Schema validator
/// rejects what a strict API server rejects (see the module documentation).
pub fn strict_schema(upstream: &Value) -> Value {
    strict_schema_owned(upstream.clone())
}

/// [`strict_schema`] of a schema the caller no longer needs (no copy).
pub fn strict_schema_owned(mut schema: Value) -> Value {
    if let Some(meta) = schema
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .and_then(|props| props.get_mut("metadata"))
    {
        let mut object_meta = object_meta_schema();
        harden(&mut object_meta);
        *meta = if meta.get("properties").is_some() {
            // Upstream constrains metadata itself (e.g. a name length): keep both.
            json!({"allOf": [meta.take(), object_meta]})
        } else {
            object_meta
        };
    }
    harden(&mut schema);
    // Generated schemas (schemars: k8s-openapi kinds, kgen's CRD structs) keep
    // their types in definitions, reached through `$ref`.
    for key in ["$defs", "definitions"] {
        if let Some(defs) = schema.get_mut(key).and_then(Value::as_object_mut) {
            defs.values_mut().for_each(harden);
        }
    }
    schema
}

/// True when a mapping anywhere in `value` has one of `keys`.
pub fn has_key(value: &Value, keys: &[&str]) -> bool {
    match value {
        Value::Object(map) => {
            keys.iter().any(|k| map.contains_key(*k)) || map.values().any(|v| has_key(v, keys))
        }
        Value::Array(items) => items.iter().any(|v| has_key(v, keys)),
        _ => false,
    }
}

/// Applies the Kubernetes extensions to `node` and its structural children, and
/// drops their descriptions: most of a Kubernetes schema's bytes, never used in a
/// message, and walked by the validator's compiler for nothing.
fn harden(node: &mut Value) {
    let Some(obj) = node.as_object_mut() else {
        return;
    };
    if matches!(obj.get("description"), Some(Value::String(_))) {
        obj.remove("description");
    }
    let is_true = |obj: &Map<String, Value>, key: &str| obj.get(key) == Some(&Value::Bool(true));

    if is_true(obj, "x-kubernetes-int-or-string") {
        obj.insert("type".into(), json!(["integer", "string"]));
        let plain_int_or_string =
            obj.get("anyOf")
                .and_then(Value::as_array)
                .is_some_and(|branches| {
                    let types: BTreeSet<_> = branches
                        .iter()
                        .map(|b| b.as_object().map(|o| o.len()))
                        .collect();
                    let names: BTreeSet<_> = branches
                        .iter()
                        .filter_map(|b| b.get("type")?.as_str())
                        .collect();
                    branches.len() == 2
                        && types == BTreeSet::from([Some(1)])
                        && names == BTreeSet::from(["integer", "string"])
                });
        if plain_int_or_string {
            obj.remove("anyOf");
        }
    }

    if is_true(obj, "nullable") {
        match obj.get_mut("type") {
            Some(Value::String(t)) => {
                let t = std::mem::take(t);
                obj.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(types)) if !types.contains(&json!("null")) => {
                types.push(json!("null"))
            }
            _ => {}
        }
        if let Some(Value::Array(options)) = obj.get_mut("enum") {
            if !options.contains(&Value::Null) {
                options.push(Value::Null);
            }
        }
    }

    if is_true(obj, "x-kubernetes-embedded-resource") {
        let props = obj.entry("properties").or_insert_with(|| json!({}));
        if let Some(props) = props.as_object_mut() {
            for (field, schema) in [
                ("apiVersion", json!({"type": "string"})),
                ("kind", json!({"type": "string"})),
                ("metadata", json!({"type": "object"})),
            ] {
                props.entry(field).or_insert(schema);
            }
        }
    }

    if obj.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set") {
        obj.insert("uniqueItems".into(), Value::Bool(true));
    }

    if obj.contains_key("properties")
        && !obj.contains_key("additionalProperties")
        && !is_true(obj, "x-kubernetes-preserve-unknown-fields")
    {
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }

    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        props.values_mut().for_each(harden);
    }
    match obj.get_mut("items") {
        Some(Value::Array(items)) => items.iter_mut().for_each(harden),
        Some(items) => harden(items),
        None => {}
    }
    if let Some(additional) = obj.get_mut("additionalProperties") {
        harden(additional);
    }
}

/// ObjectMeta as the API server validates it on create (the fields a client may
/// send; server-populated ones are accepted as strings/integers).
const DNS_SUBDOMAIN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const DNS_LABEL: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const QUALIFIED_NAME: &str = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
const LABEL_VALUE: &str = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

/// The patterns of [`object_meta_schema`] (`schema_fast` evaluates these itself).
pub(crate) const OBJECT_META_PATTERNS: [&str; 4] =
    [DNS_SUBDOMAIN, DNS_LABEL, QUALIFIED_NAME, LABEL_VALUE];

fn object_meta_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 253, "pattern": DNS_SUBDOMAIN},
            "generateName": {"type": "string"},
            "namespace": {"type": "string", "maxLength": 63, "pattern": DNS_LABEL},
            "labels": {
                "type": "object",
                "propertyNames": {"maxLength": 317, "pattern": QUALIFIED_NAME},
                "additionalProperties": {"type": "string", "maxLength": 63, "pattern": LABEL_VALUE}
            },
            "annotations": {
                "type": "object",
                "propertyNames": {"maxLength": 317, "pattern": QUALIFIED_NAME},
                "additionalProperties": {"type": "string"}
            },
            "finalizers": {
                "type": "array",
                "items": {"type": "string", "pattern": QUALIFIED_NAME},
                "uniqueItems": true
            },
            "ownerReferences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["apiVersion", "kind", "name", "uid"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                        "uid": {"type": "string"},
                        "controller": {"type": "boolean"},
                        "blockOwnerDeletion": {"type": "boolean"}
                    }
                }
            },
            "uid": {"type": "string"},
            "resourceVersion": {"type": "string"},
            "generation": {"type": "integer"},
            "selfLink": {"type": "string"},
            "creationTimestamp": {"type": ["string", "null"]},
            "deletionTimestamp": {"type": "string"},
            "deletionGracePeriodSeconds": {"type": "integer"},
            "managedFields": {
                "type": "array",
                "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }
        }
    })
}

/// The `byte` format: standard, padded base64 (as the API server checks it).
pub(crate) fn is_base64(s: &str) -> bool {
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let body = s.trim_end_matches('=');
    bytes.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
