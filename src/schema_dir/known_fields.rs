//! The field names a schema allows where an instance has an unknown one, for the
//! "did you mean" of an unknown field (`lables` → `labels`).
//!
//! The walk follows the instance's path through the schema's `properties`,
//! `additionalProperties` and `items`, through local `$ref`s and the branches of
//! `allOf`, `anyOf` and `oneOf`, and gathers the `properties` of every schema that
//! applies at the end. It only names candidates: the validator has already said
//! the field is unknown.

use serde_json::Value;

use crate::schema_fast::{resolve, Defs};

/// How many `$ref`s and branches one step follows at most (a `$ref` that leads back to
/// itself would otherwise never end).
const MAX_SCHEMAS: usize = 64;

/// The property names the schemas at `pointer` (a JSON pointer into `instance`: the
/// object that has the unknown field) declare, sorted and without repeats.
pub fn known_fields<'s>(
    root: &'s Value,
    defs: Option<Defs>,
    instance: &Value,
    pointer: &str,
) -> Vec<&'s str> {
    let mut schemas = expand(root, defs, vec![root]);
    let mut at = instance;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next: Vec<&Value> = match at {
            Value::Array(items) => {
                at = match token.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(item) => item,
                    None => return Vec::new(),
                };
                schemas.iter().filter_map(|s| s.get("items")).collect()
            }
            Value::Object(map) => {
                at = match map.get(&token) {
                    Some(v) => v,
                    None => return Vec::new(),
                };
                schemas
                    .iter()
                    .filter_map(|s| {
                        s.get("properties")
                            .and_then(|p| p.get(&token))
                            .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
                    })
                    .collect()
            }
            _ => return Vec::new(),
        };
        schemas = expand(root, defs, next);
    }
    let mut names: Vec<&str> = schemas
        .iter()
        .filter_map(|s| s.get("properties")?.as_object())
        .flat_map(|p| p.keys().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// `schemas` and every schema they bring in at the same place: the targets of their
/// `$ref`s and the branches of their `allOf`, `anyOf` and `oneOf`.
fn expand<'s>(root: &'s Value, defs: Option<Defs>, mut schemas: Vec<&'s Value>) -> Vec<&'s Value> {
    let mut i = 0;
    while i < schemas.len() && schemas.len() < MAX_SCHEMAS {
        let s = schemas[i];
        if let Some(target) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(root, defs, r))
        {
            schemas.push(target);
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(branches) = s.get(key).and_then(Value::as_array) {
                schemas.extend(branches.iter());
            }
        }
        i += 1;
    }
    schemas
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_properties_items_refs_and_branches() {
        let schema = json!({
            "$defs": {
                "port": {"properties": {"port": {}, "protocol": {}}},
                "meta": {"allOf": [{"properties": {"name": {}}}, {"properties": {"labels": {}}}]}
            },
            "properties": {
                "metadata": {"$ref": "#/$defs/meta"},
                "spec": {"properties": {"ports": {"items": {"$ref": "#/$defs/port"}}}},
                "data": {"additionalProperties": {"properties": {"a": {}}}}
            }
        });
        let instance = json!({
            "metadata": {"lables": {}},
            "spec": {"ports": [{"port": 80}, {"protocl": "TCP"}]},
            "data": {"x": {"b": 1}}
        });
        assert_eq!(
            known_fields(&schema, None, &instance, ""),
            ["data", "metadata", "spec"]
        );
        assert_eq!(
            known_fields(&schema, None, &instance, "/metadata"),
            ["labels", "name"]
        );
        assert_eq!(
            known_fields(&schema, None, &instance, "/spec/ports/1"),
            ["port", "protocol"]
        );
        assert_eq!(known_fields(&schema, None, &instance, "/data/x"), ["a"]);
        // A path the instance does not have, or a schema that loops, ends quietly.
        assert!(known_fields(&schema, None, &instance, "/spec/ports/7").is_empty());
        let looped = json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"});
        assert!(known_fields(&looped, None, &json!({}), "").is_empty());
    }
}
