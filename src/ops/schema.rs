//! `kgen schema`: the JSON Schemas of platform.toml and of overlay files, derived
//! from the input types. TOML has no null, so optional keys are made plain (not
//! nullable) after generation.

use schemars::JsonSchema;
use serde_json::Value;

use crate::input::{OverlayFile, PlatformFile};

fn schema_of<T: JsonSchema>() -> String {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialise");
    drop_null(&mut schema);
    let mut s = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    s.push('\n');
    s
}

/// Removes `null` alternatives: `anyOf: [X, {type: null}]` becomes X, `type: [T, "null"]` becomes T.
fn drop_null(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let t = types.remove(0);
                    map.insert("type".into(), t);
                }
            }
            let single = match map.get("anyOf") {
                Some(Value::Array(alts))
                    if alts.len() == 2 && alts[1] == serde_json::json!({"type": "null"}) =>
                {
                    Some(alts[0].clone())
                }
                _ => None,
            };
            if let Some(Value::Object(inner)) = single {
                map.remove("anyOf");
                for (k, val) in inner {
                    map.entry(k).or_insert(val);
                }
            }
            map.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// The JSON Schema of platform.toml (committed as docs/platform.schema.json).
pub fn platform_schema() -> String {
    schema_of::<PlatformFile>()
}

/// The JSON Schema of `overlays/<env>.toml` (committed as docs/overlay.schema.json).
pub fn overlay_schema() -> String {
    schema_of::<OverlayFile>()
}
