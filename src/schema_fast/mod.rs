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

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::schema_dir::{is_base64, OBJECT_META_PATTERNS};

/// Where `#/$defs/<name>` references resolve for a root schema kept without its
/// definitions (kgen's built-in schemas, parsed one definition at a time).
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
            "properties" => {
                let (Some(props), Some(object)) = (value.as_object(), instance.as_object()) else {
                    return value.is_object();
                };
                object
                    .iter()
                    .all(|(k, v)| props.get(k).is_none_or(|sub| self.valid(sub, v)))
            }
            "additionalProperties" => {
                let Some(object) = instance.as_object() else {
                    return true;
                };
                let props = match map.get("properties") {
                    None => None,
                    Some(Value::Object(props)) => Some(props),
                    Some(_) => return false,
                };
                object
                    .iter()
                    .filter(|(k, _)| props.is_none_or(|p| !p.contains_key(k.as_str())))
                    .all(|(_, v)| self.valid(value, v))
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
                Some(object) => object
                    .keys()
                    .all(|k| self.valid(value, &Value::String(k.clone()))),
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
                (Some(pattern), Some(s)) => known_pattern(pattern).is_some_and(|re| re.is_match(s)),
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

    /// The target of a local `$ref` into the root's definitions (`#/$defs/<name>`,
    /// `#/definitions/<name>`, `#`); `None` for anything else.
    fn resolve(&self, reference: &str) -> Option<&'s Value> {
        if reference == "#" {
            return Some(self.root);
        }
        let rest = reference.strip_prefix("#/")?;
        let (section, name) = rest.split_once('/')?;
        if !matches!(section, "$defs" | "definitions")
            || name.is_empty()
            || name.contains(['/', '~', '%'])
        {
            return None;
        }
        match self.defs {
            Some(defs) if section == "$defs" => defs(name),
            _ => self.root.get(section)?.get(name),
        }
    }
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

/// The compiled regex of a pattern whose meaning is the same under the validator's
/// ECMA-262 dialect and the `regex` crate's: the ObjectMeta patterns of
/// `strict_schema` (ASCII classes, anchors, groups, `?`, `*`, `\.`). `None` for any
/// other pattern.
fn known_pattern(pattern: &str) -> Option<&'static Regex> {
    static COMPILED: [OnceLock<Regex>; OBJECT_META_PATTERNS.len()] =
        [const { OnceLock::new() }; OBJECT_META_PATTERNS.len()];
    let i = OBJECT_META_PATTERNS.iter().position(|p| *p == pattern)?;
    Some(COMPILED[i].get_or_init(|| Regex::new(OBJECT_META_PATTERNS[i]).expect("a valid pattern")))
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

    #[test]
    fn object_meta_patterns_agree_with_the_validator() {
        let samples = [
            "",
            "a",
            "A",
            "a-b",
            "-a",
            "a-",
            "a.b",
            "a..b",
            "a.b-c.d",
            "app.kubernetes.io/name",
            "app.kubernetes.io/",
            "/name",
            "a/b/c",
            "x_y",
            "_x",
            "x_",
            "x.y_z-1",
            "é",
            "a b",
            "a\n",
            "\na",
            "ab\r",
            "kgen.dev/waive-KG202",
            "UPPER",
            "0",
            "1.2.3",
            "a.",
            ".a",
        ];
        for pattern in OBJECT_META_PATTERNS {
            let schema = json!({"pattern": pattern});
            for s in samples {
                let instance = json!(s);
                assert_eq!(
                    certainly_valid(&schema, None, &instance),
                    oracle(&schema, &instance),
                    "{pattern} on {s:?}"
                );
            }
        }
        let long = json!("x".repeat(300));
        assert!(check(&json!({"pattern": OBJECT_META_PATTERNS[0]}), &long));
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
