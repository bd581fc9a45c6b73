//! A quick, one-sided answer to "does this object conform to this schema?", before
//! any validator is compiled.
//!
//! [`certainly_valid`] walks an instance and a hardened schema (see
//! [`crate::schema_dir::strict_schema`]) together, following `$ref`s into the schema's
//! definitions as the instance needs them. It answers `true` only when the
//! `jsonschema` validator that [`crate::schema_dir::StrictValidator`] compiles from the
//! same schema would find the instance valid; `false` means "invalid, or cannot
//! tell", and the caller then asks the compiled validator, which produces the
//! problems. So the outcome of validation never depends on this module: only how
//! much work it takes. A valid object costs a walk of its own fields instead of the
//! compilation of every definition its kind's schema reaches (tens of millions of
//! instructions for a Deployment's pod spec, paid by every command).
//!
//! Soundness rests on evaluating every keyword the validator would evaluate:
//! keywords this module does not implement (`oneOf`, `not`, `if`, `patternProperties`,
//! `multipleOf`, `$id`, ...), formats the validator checks (`date-time`, `email`,
//! ...), patterns other than the ObjectMeta ones kgen writes, and numbers that are
//! not integers all give `false`. Keywords the validator ignores (annotations such
//! as `description`, `default`, `nullable`, `x-kubernetes-*`) are ignored here too.

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use serde_json::{Map, Value};

use crate::names;
use crate::schema_dir::{is_base64, OBJECT_META_PATTERNS};
use crate::validate::FxHasher;

mod plan;
pub use plan::Plan;

/// Where `#/$defs/<name>` references resolve for a root schema kept without its
/// definitions (kgen's built-in schemas, parsed one definition at a time). `name` is
/// taken as written: a store must hold no name with `/`, `~` or `%`, which a JSON
/// pointer would escape.
pub type Defs = fn(&str) -> Option<&'static Value>;

/// Whether `instance` certainly conforms to `schema` (a root schema: `$ref`s resolve
/// against it, or `#/$defs/<name>` through `defs` when given). `false` when it does
/// not, or when this check cannot tell.
pub fn certainly_valid(schema: &Value, defs: Option<Defs>, instance: &Value) -> bool {
    Walk {
        root: schema,
        defs,
        depth: 0,
    }
    .valid(schema, instance)
}

/// Deepest nesting of schemas walked for one instance (a `$ref` that leads back to
/// itself without descending into the instance would otherwise never end).
const MAX_DEPTH: u32 = 200;

struct Walk<'s> {
    root: &'s Value,
    defs: Option<Defs>,
    depth: u32,
}

impl<'s> Walk<'s> {
    fn valid(&mut self, schema: &'s Value, instance: &Value) -> bool {
        let map = match schema {
            Value::Bool(b) => return *b,
            Value::Object(map) => map,
            _ => return false,
        };
        if self.depth >= MAX_DEPTH {
            return false;
        }
        self.depth += 1;
        let ok = map
            .iter()
            .all(|(keyword, value)| self.keyword(map, keyword, value, instance));
        self.depth -= 1;
        ok
    }

    /// One keyword of the schema `map` applied to `instance`.
    fn keyword(
        &mut self,
        map: &'s Map<String, Value>,
        keyword: &str,
        value: &'s Value,
        instance: &Value,
    ) -> bool {
        match keyword {
            "type" => type_matches(value, instance),
            "enum" => value
                .as_array()
                .is_some_and(|options| options.contains(instance)),
            "const" => value == instance,
            // Both in one pass over the instance's fields (`additionalProperties`
            // applies to the fields `properties` does not name).
            "properties" => {
                let Some(props) = value.as_object() else {
                    return false;
                };
                let Some(object) = instance.as_object() else {
                    return true;
                };
                let additional = map.get("additionalProperties");
                object.iter().all(|(k, v)| match props.get(k) {
                    Some(sub) => self.valid(sub, v),
                    None => additional.is_none_or(|a| self.valid(a, v)),
                })
            }
            "additionalProperties" => {
                if map.contains_key("properties") {
                    // Evaluated with `properties`.
                    return true;
                }
                match instance.as_object() {
                    Some(object) => object.values().all(|v| self.valid(value, v)),
                    None => true,
                }
            }
            "required" => {
                let Some(names) = value.as_array() else {
                    return false;
                };
                match instance.as_object() {
                    Some(object) => names
                        .iter()
                        .all(|n| n.as_str().is_some_and(|n| object.contains_key(n))),
                    None => names.iter().all(Value::is_string),
                }
            }
            "items" => {
                if !matches!(value, Value::Object(_) | Value::Bool(_)) {
                    return false;
                }
                match instance.as_array() {
                    Some(items) => items.iter().all(|item| self.valid(value, item)),
                    None => true,
                }
            }
            "propertyNames" => match instance.as_object() {
                Some(object) => object.keys().all(|k| match key_valid(value, k) {
                    Some(ok) => ok,
                    None => self.valid(value, &Value::String(k.clone())),
                }),
                None => true,
            },
            "allOf" => value
                .as_array()
                .is_some_and(|all| all.iter().all(|s| self.valid(s, instance))),
            "anyOf" => value
                .as_array()
                .is_some_and(|any| any.iter().any(|s| self.valid(s, instance))),
            "$ref" => match value.as_str().and_then(|r| self.resolve(r)) {
                Some(target) => self.valid(target, instance),
                None => false,
            },
            "minLength" | "maxLength" => match (value.as_u64(), instance.as_str()) {
                (Some(limit), Some(s)) => {
                    let n = s.chars().count() as u64;
                    if keyword == "minLength" {
                        n >= limit
                    } else {
                        n <= limit
                    }
                }
                (Some(_), None) => true,
                (None, _) => false,
            },
            "minItems" | "maxItems" => match (value.as_u64(), instance.as_array()) {
                (Some(limit), Some(items)) => within(keyword == "minItems", items.len(), limit),
                (Some(_), None) => true,
                (None, _) => false,
            },
            "minProperties" | "maxProperties" => match (value.as_u64(), instance.as_object()) {
                (Some(limit), Some(object)) => {
                    within(keyword == "minProperties", object.len(), limit)
                }
                (Some(_), None) => true,
                (None, _) => false,
            },
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                if !value.is_number() {
                    return false;
                }
                if !instance.is_number() {
                    return true;
                }
                bound_holds(keyword, value, instance)
            }
            "uniqueItems" => match (value, instance.as_array()) {
                (Value::Bool(false), _) | (Value::Bool(true), None) => true,
                (Value::Bool(true), Some(items)) => unique_strings(items),
                _ => false,
            },
            "pattern" => match (value.as_str(), instance.as_str()) {
                (Some(pattern), Some(s)) => known_pattern(pattern).is_some_and(|m| m(s)),
                (Some(_), None) => true,
                (None, _) => false,
            },
            "format" => match (value.as_str(), instance.as_str()) {
                (Some("byte"), Some(s)) => is_base64(s),
                (Some(format), Some(_)) => !CHECKED_FORMATS.contains(&format),
                (Some(_), None) => true,
                (None, _) => false,
            },
            // Annotations: the validator evaluates nothing for them.
            "$schema" | "$defs" | "definitions" | "description" | "title" | "default"
            | "examples" | "readOnly" | "writeOnly" | "deprecated" | "$comment" | "nullable" => {
                true
            }
            k if k.starts_with("x-kubernetes-") => true,
            _ => false,
        }
    }

    fn resolve(&self, reference: &str) -> Option<&'s Value> {
        resolve(self.root, self.defs, reference)
    }
}

/// The target of a local `$ref` of `root` into its definitions (`#/$defs/<name>`,
/// `#/definitions/<name>`, `#`); `None` for anything else.
pub(crate) fn resolve<'s>(
    root: &'s Value,
    defs: Option<Defs>,
    reference: &str,
) -> Option<&'s Value> {
    if let (Some(defs), Some(name)) = (defs, reference.strip_prefix("#/$defs/")) {
        // `defs` holds no name with `/`, `~` or `%` (see `Defs`): an escaped
        // reference finds nothing and is left to the validator.
        return defs(name);
    }
    if reference == "#" {
        return Some(root);
    }
    let rest = reference.strip_prefix("#/")?;
    let (section, name) = rest.split_once('/')?;
    if !matches!(section, "$defs" | "definitions")
        || name.is_empty()
        || name.contains(['/', '~', '%'])
    {
        return None;
    }
    root.get(section)?.get(name)
}

/// Formats the validator checks (its built-in ones for draft 2020-12); any other
/// format but `byte` (registered by kgen) is an annotation.
const CHECKED_FORMATS: &[&str] = &[
    "date",
    "date-time",
    "duration",
    "email",
    "hostname",
    "idn-email",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "iri",
    "iri-reference",
    "json-pointer",
    "regex",
    "relative-json-pointer",
    "time",
    "uri",
    "uri-reference",
    "uri-template",
    "uuid",
];

/// `n` against a `minItems`-like (`min`) or `maxItems`-like limit.
fn within(min: bool, n: usize, limit: u64) -> bool {
    if min {
        n as u64 >= limit
    } else {
        n as u64 <= limit
    }
}

/// `type`: one name or a list of names. A number that is not an integer never
/// certainly matches `integer` (the validator accepts `1.0`; this check leaves it to
/// the validator).
fn type_matches(types: &Value, instance: &Value) -> bool {
    let one = |name: &Value| match name.as_str() {
        Some("object") => instance.is_object(),
        Some("array") => instance.is_array(),
        Some("string") => instance.is_string(),
        Some("boolean") => instance.is_boolean(),
        Some("null") => instance.is_null(),
        Some("number") => instance.is_number(),
        Some("integer") => instance.is_i64() || instance.is_u64(),
        _ => false,
    };
    match types {
        Value::String(_) => one(types),
        Value::Array(names) => names.iter().any(one),
        _ => false,
    }
}

/// `minimum`, `maximum` and the exclusive ones, when limit and instance are both
/// integers (anything else is left to the validator).
fn bound_holds(keyword: &str, limit: &Value, instance: &Value) -> bool {
    let (Some(limit), Some(n)) = (as_i128(limit), as_i128(instance)) else {
        return false;
    };
    match keyword {
        "minimum" => n >= limit,
        "maximum" => n <= limit,
        "exclusiveMinimum" => n > limit,
        "exclusiveMaximum" => n < limit,
        _ => false,
    }
}

fn as_i128(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}

/// `uniqueItems: true`, certain only for a list of strings (the validator's
/// equality, e.g. `1` = `1.0`, is left to it otherwise).
fn unique_strings(items: &[Value]) -> bool {
    if items.len() < 2 {
        return true;
    }
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items
        .iter()
        .all(|item| item.as_str().is_some_and(|s| seen.insert(s)))
}

/// A matcher of a pattern whose meaning is certain: the ObjectMeta patterns of
/// `strict_schema`, checked byte by byte (the same shapes as `names`; a test holds
/// them to the validator on every short string). `None` for any other pattern.
fn known_pattern(pattern: &str) -> Option<fn(&str) -> bool> {
    let matchers: [fn(&str) -> bool; 4] = [
        names::is_subdomain_shape,
        names::is_label_shape,
        is_qualified_name,
        |s| s.is_empty() || names::is_name_shape(s),
    ];
    let i = OBJECT_META_PATTERNS.iter().position(|p| *p == pattern)?;
    Some(matchers[i])
}

/// `([subdomain]/)?[name]`: a label or annotation key. The keys found to match are
/// remembered per thread (up to 1,024): every object carries the same few.
fn is_qualified_name(s: &str) -> bool {
    thread_local! {
        static MATCHING: RefCell<HashSet<String, BuildHasherDefault<FxHasher>>> =
            RefCell::default();
    }
    if MATCHING.with_borrow(|known| known.contains(s)) {
        return true;
    }
    let matches = match s.split_once('/') {
        Some((prefix, name)) => names::is_subdomain_shape(prefix) && names::is_name_shape(name),
        None => names::is_name_shape(s),
    };
    if matches {
        MATCHING.with_borrow_mut(|known| {
            if known.len() < 1024 {
                known.insert(s.to_string());
            }
        });
    }
    matches
}

/// `propertyNames` of a key without making a value of it, when its schema is only
/// about strings (`maxLength`, `minLength`, `pattern`, `type`); `None` otherwise.
fn key_valid(schema: &Value, key: &str) -> Option<bool> {
    let map = schema.as_object()?;
    let mut ok = true;
    for (keyword, value) in map {
        ok &= match keyword.as_str() {
            // At most as many characters as bytes: a short key needs no counting.
            "maxLength" => {
                let limit = value.as_u64()?;
                key.len() as u64 <= limit || key.chars().count() as u64 <= limit
            }
            "minLength" => key.chars().count() as u64 >= value.as_u64()?,
            "pattern" => known_pattern(value.as_str()?)?(key),
            "type" if value == "string" => true,
            _ => return None,
        };
    }
    Some(ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_dir::strict_schema;
    use serde_json::json;

    /// The compiled validator's verdict, the oracle of this module.
    fn oracle(schema: &Value, instance: &Value) -> bool {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_format("byte", is_base64)
            .build(schema)
            .unwrap()
            .is_valid(instance)
    }

    /// `certainly_valid` never says valid where the validator says invalid.
    fn check(schema: &Value, instance: &Value) -> bool {
        let fast = certainly_valid(schema, None, instance);
        if fast {
            assert!(
                oracle(schema, instance),
                "certainly_valid but invalid: {instance} against {schema}"
            );
        }
        fast
    }

    /// The matchers of the ObjectMeta patterns agree with the validator on every
    /// string of up to 4 characters over an alphabet with each kind of character,
    /// and on longer samples; and so does `propertyNames` on keys.
    #[test]
    fn object_meta_patterns_agree_with_the_validator() {
        let alphabet = ['a', 'Z', '0', '-', '.', '_', '/', 'é', '\n'];
        let mut strings = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(last.iter().cloned());
        }
        strings.extend(
            [
                "app.kubernetes.io/name",
                "kgen.dev/waive-KG202",
                "a.b-c.d/x_y.z",
                "a..b/c",
                "a/b/c",
                "-a.b/c",
                "a.b-/c",
                "A.b/c",
                "1.2.3",
                "x\n",
                "\nx",
            ]
            .map(String::from),
        );
        strings.push("x".repeat(300));
        for pattern in OBJECT_META_PATTERNS {
            let schema = json!({"pattern": pattern});
            let keys = json!({"propertyNames": {"maxLength": 317, "pattern": pattern}});
            let compiled = |schema: &Value| {
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(schema)
                    .unwrap()
            };
            let (by_value, by_key) = (compiled(&schema), compiled(&keys));
            for s in &strings {
                let instance = json!(s);
                assert_eq!(
                    certainly_valid(&schema, None, &instance),
                    by_value.is_valid(&instance),
                    "{pattern} on {s:?}"
                );
                let object = json!({ s.as_str(): 1 });
                assert_eq!(
                    certainly_valid(&keys, None, &object),
                    by_key.is_valid(&object),
                    "propertyNames {pattern} on {s:?}"
                );
            }
        }
    }

    #[test]
    fn keywords_it_cannot_evaluate_are_left_to_the_validator() {
        for schema in [
            json!({"oneOf": [{"type": "string"}]}),
            json!({"not": {"type": "integer"}}),
            json!({"patternProperties": {"^a": {"type": "string"}}}),
            json!({"multipleOf": 2}),
            json!({"format": "date-time"}),
            json!({"pattern": "^x$"}),
            json!({"$ref": "https://example.com/x.json"}),
            json!({"$id": "https://example.com/x.json"}),
            json!({"type": "integer"}),
        ] {
            let instance = json!("1.5");
            assert!(!certainly_valid(&schema, None, &instance) || oracle(&schema, &instance));
        }
        assert!(!certainly_valid(
            &json!({"type": "integer"}),
            None,
            &json!(1.0)
        ));
        assert!(!certainly_valid(
            &json!({"uniqueItems": true}),
            None,
            &json!([1, 1.0])
        ));
        // A $ref loop ends.
        let looped = json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"});
        assert!(!certainly_valid(&looped, None, &json!({})));
    }

    #[test]
    fn hardened_schemas_agree_with_the_validator() {
        let schema = strict_schema(&json!({
            "type": "object",
            "required": ["spec"],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {"$ref": "#/$defs/spec"}
            },
            "$defs": {"spec": {
                "type": "object",
                "properties": {
                    "n": {"type": "integer", "minimum": 1, "maximum": 3},
                    "s": {"type": ["string", "null"], "enum": ["a", "b", null], "maxLength": 1},
                    "b": {"type": "string", "format": "byte"},
                    "l": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "minItems": 1},
                    "m": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 2},
                    "any": {"anyOf": [{"type": "integer"}, {"type": "string"}]}
                }
            }}
        }));
        let base = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x", "labels": {"a": "b"}}, "spec": {}});
        let with = |field: &str, value: Value| {
            let mut o = base.clone();
            o["spec"][field] = value;
            o
        };
        let cases = [
            (base.clone(), true),
            (with("n", json!(2)), true),
            (with("n", json!(0)), false),
            (with("n", json!(4)), false),
            (with("n", json!("2")), false),
            (with("s", json!(null)), true),
            (with("s", json!("c")), false),
            (with("b", json!("aGk=")), true),
            (with("b", json!("aGk")), false),
            (with("l", json!(["a", "b"])), true),
            (with("l", json!(["a", "a"])), false),
            (with("l", json!([])), false),
            (with("m", json!({"a": "1", "b": "2"})), true),
            (with("m", json!({"a": "1", "b": "2", "c": "3"})), false),
            (with("m", json!({"a": 1})), false),
            (with("any", json!(1)), true),
            (with("any", json!(true)), false),
            (with("typo", json!(1)), false),
            (
                json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "Not_Valid"}, "spec": {}}),
                false,
            ),
            (
                json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x", "labelz": {}}, "spec": {}}),
                false,
            ),
            (
                json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x"}}),
                false,
            ),
        ];
        for (instance, expected) in cases {
            assert_eq!(oracle(&schema, &instance), expected, "{instance}");
            assert_eq!(check(&schema, &instance), expected, "{instance}");
        }
    }
}

#[cfg(test)]
mod corpus_tests;
