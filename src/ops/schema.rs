//! `kgen schema`: the JSON Schemas of platform.toml and of overlay files, derived
//! from the input types. TOML has no null, so optional keys are made plain (not
//! nullable) after generation. Keys one struct serves in several places but that
//! kgen refuses in some of them (`waivers` of a service, KG200, in `[defaults]` or an
//! overlay) are taken out of the schema there, so an editor flags them as kgen does.

use schemars::JsonSchema;
use serde_json::Value;

use crate::input::{OverlayFile, PlatformFile};

fn schema_of<T: JsonSchema>(adjust: impl FnOnce(&mut Value)) -> String {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialise");
    drop_null(&mut schema);
    adjust(&mut schema);
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
    schema_of::<PlatformFile>(|schema| {
        // `[defaults]` shares `ServiceLayer` with `[services.<name>]` but refuses
        // `waivers` (resolve.rs, KG200): it gets a copy without them.
        let mut defaults = schema["$defs"]["ServiceLayer"].clone();
        without_property(&mut defaults, "waivers");
        schema["$defs"]["DefaultsLayer"] = defaults;
        schema["properties"]["defaults"]["$ref"] = "#/$defs/DefaultsLayer".into();
    })
}

/// The JSON Schema of `overlays/<env>.toml` (committed as docs/overlay.schema.json).
pub fn overlay_schema() -> String {
    // An overlay's services refuse `waivers` (resolve.rs, KG200).
    schema_of::<OverlayFile>(|schema| {
        without_property(&mut schema["$defs"]["ServiceLayer"], "waivers")
    })
}

/// Removes property `key` of an object schema (a key kgen refuses where it is used).
fn without_property(schema: &mut Value, key: &str) {
    let props = schema["properties"]
        .as_object_mut()
        .expect("an object schema with properties");
    assert!(props.remove(key).is_some(), "the schema has `{key}`");
}
