//! The quick walk over a schema that lives as long as the process (kgen's built-in
//! kinds), with each schema node read once rather than once per instance.
//!
//! [`Walk`](super::Walk) reads the schema as JSON for every instance: the keywords of
//! each node matched by name, `properties` searched in a sorted map, `$ref` resolved by
//! name. A [`Plan`] reads each node the first time an instance reaches it (nodes are
//! compiled on demand, as the walk parses definitions on demand) into what the walk
//! would do there, keeps it, and then answers from it: `properties` hashed, `$ref`
//! pointing at its target's node, the keywords reduced to the checks they make.
//!
//! Exactness by construction: a node is compiled only when every keyword in it is
//! one of those below, evaluated exactly as [`Walk::keyword`](super::Walk) does; a
//! node with any other keyword is handed to the walk, which then does that node and
//! everything under it, at the same depth. So [`Plan::certainly_valid`] answers what
//! [`certainly_valid`](super::certainly_valid) answers for the same schema, on every
//! instance (a test holds the two together on every rendered object of the test
//! platforms), and the outcome of validation still never depends on this module.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};

use super::{
    bound_holds, key_valid, known_pattern, unique_strings, within, Defs, Walk, CHECKED_FORMATS,
    MAX_DEPTH,
};
use crate::schema_dir::is_base64;
use crate::validate::{FastMap, FxHasher};

/// A root schema of the process's lifetime and its definitions, compiled as
/// instances reach them.
pub struct Plan {
    root: &'static Value,
    defs: Option<Defs>,
    node: Node,
}

impl Plan {
    pub fn new(root: &'static Value, defs: Option<Defs>) -> Plan {
        Plan {
            root,
            defs,
            node: Node::new(root),
        }
    }

    /// Whether `instance` certainly conforms (see [`super::certainly_valid`], whose
    /// answer this is).
    pub fn certainly_valid(&self, instance: &Value) -> bool {
        self.valid(&self.node, instance, 0)
    }

    /// [`Walk::valid`] of `node`'s schema, at `depth`.
    fn valid(&self, node: &Node, instance: &Value, depth: u32) -> bool {
        let map = match node.schema {
            Value::Bool(b) => return *b,
            Value::Object(map) => map,
            _ => return false,
        };
        if depth >= MAX_DEPTH {
            return false;
        }
        match node.compiled.get_or_init(|| Checks::of(map)) {
            Compiled::Walk => Walk {
                root: self.root,
                defs: self.defs,
                depth,
            }
            .valid(node.schema, instance),
            Compiled::Checks(c) => self.checks(c, instance, depth + 1),
        }
    }

    fn checks(&self, c: &Checks, instance: &Value, depth: u32) -> bool {
        if let Some(types) = c.types {
            if types & type_bits(instance) == 0 {
                return false;
            }
        }
        if let Some(options) = c.enumeration {
            if !options.contains(instance) {
                return false;
            }
        }
        if let Some(constant) = c.constant {
            if constant != instance {
                return false;
            }
        }
        if let Value::String(s) = instance {
            if let Some(matches) = c.pattern {
                if !matches(s) {
                    return false;
                }
            }
            if c.format_byte && !is_base64(s) {
                return false;
            }
            // A string has at most as many characters as bytes: under a `maxLength`
            // alone, a short enough string passes without counting them.
            let short = c.min_length.is_none() && c.max_length.is_some_and(|l| s.len() as u64 <= l);
            if (c.min_length.is_some() || c.max_length.is_some()) && !short {
                let n = s.chars().count() as u64;
                if c.min_length.is_some_and(|l| n < l) || c.max_length.is_some_and(|l| n > l) {
                    return false;
                }
            }
        }
        if instance.is_number()
            && !c
                .bounds
                .iter()
                .all(|(keyword, limit)| bound_holds(keyword, limit, instance))
        {
            return false;
        }
        if let Some(list) = instance.as_array() {
            if !c
                .item_counts
                .iter()
                .all(|&(min, limit)| within(min, list.len(), limit))
            {
                return false;
            }
            if c.unique && !unique_strings(list) {
                return false;
            }
        }
        if let (Some(names), Some(object)) = (c.property_names, instance.as_object()) {
            let ok = object.keys().all(|k| match key_valid(names, k) {
                Some(ok) => ok,
                None => Walk {
                    root: self.root,
                    defs: self.defs,
                    depth,
                }
                .valid(names, &Value::String(k.clone())),
            });
            if !ok {
                return false;
            }
        }
        if let Some(object) = instance.as_object() {
            if !c.required.iter().all(|n| object.contains_key(*n)) {
                return false;
            }
            if !c
                .property_counts
                .iter()
                .all(|&(min, limit)| within(min, object.len(), limit))
            {
                return false;
            }
            match (&c.properties, &c.additional) {
                (Some(props), additional) => {
                    let ok = object.iter().all(|(k, v)| match props.get(k.as_str()) {
                        Some(sub) => self.valid(sub, v, depth),
                        None => additional
                            .as_deref()
                            .is_none_or(|a| self.valid(a, v, depth)),
                    });
                    if !ok {
                        return false;
                    }
                }
                (None, Some(additional)) => {
                    if !object.values().all(|v| self.valid(additional, v, depth)) {
                        return false;
                    }
                }
                (None, None) => {}
            }
        }
        if let (Some(items), Some(list)) = (&c.items, instance.as_array()) {
            if !list.iter().all(|item| self.valid(items, item, depth)) {
                return false;
            }
        }
        if !c.all_of.iter().all(|s| self.valid(s, instance, depth)) {
            return false;
        }
        if let Some(any) = &c.any_of {
            if !any.iter().any(|s| self.valid(s, instance, depth)) {
                return false;
            }
        }
        if let Some(target) = &c.reference {
            let node = target.get_or_init(|| self.resolve(c.reference_text).map(Node::shared));
            match node {
                Some(node) => {
                    if !self.valid(node, instance, depth) {
                        return false;
                    }
                }
                None => return false,
            }
        }
        true
    }

    /// The target of a local `$ref`, as [`Walk::resolve`] finds it.
    fn resolve(&self, reference: &str) -> Option<&'static Value> {
        Walk {
            root: self.root,
            defs: self.defs,
            depth: 0,
        }
        .resolve(reference)
    }
}

/// One schema, compiled when an instance first reaches it.
struct Node {
    schema: &'static Value,
    compiled: OnceLock<Compiled>,
}

impl Node {
    fn new(schema: &'static Value) -> Node {
        Node {
            schema,
            compiled: OnceLock::new(),
        }
    }

    /// The node of a `$ref`'s target, one per target schema (every `$ref` to a
    /// definition shares its compiled node): kept for the rest of the process, like
    /// the schema it reads (one per definition the built-in kinds reach).
    fn shared(schema: &'static Value) -> &'static Node {
        static NODES: Mutex<Option<FastMap<usize, &'static Node>>> = Mutex::new(None);
        let mut nodes = NODES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        nodes
            .get_or_insert_with(FastMap::default)
            .entry(std::ptr::from_ref(schema) as usize)
            .or_insert_with(|| Box::leak(Box::new(Node::new(schema))))
    }
}

enum Compiled {
    /// A keyword this module does not compile: the walk does this node.
    Walk,
    Checks(Box<Checks>),
}

type Props = HashMap<&'static str, Node, BuildHasherDefault<FxHasher>>;

/// What the walk checks at one node, read from its keywords.
#[derive(Default)]
struct Checks {
    /// `type`, as the [`type_bits`] of the instances it admits.
    types: Option<u8>,
    enumeration: Option<&'static Vec<Value>>,
    pattern: Option<fn(&str) -> bool>,
    /// `format: byte` (every other format kgen's schemas carry is an annotation).
    format_byte: bool,
    required: Vec<&'static str>,
    properties: Option<Props>,
    additional: Option<Box<Node>>,
    items: Option<Box<Node>>,
    all_of: Vec<Node>,
    any_of: Option<Vec<Node>>,
    reference: Option<OnceLock<Option<&'static Node>>>,
    reference_text: &'static str,
    constant: Option<&'static Value>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    /// `minimum`, `maximum` and the exclusive ones: keyword and limit.
    bounds: Vec<(&'static str, &'static Value)>,
    /// `minItems` (`true`) and `maxItems`, with their limits.
    item_counts: Vec<(bool, u64)>,
    /// `minProperties` (`true`) and `maxProperties`, with their limits.
    property_counts: Vec<(bool, u64)>,
    /// `uniqueItems: true`.
    unique: bool,
    property_names: Option<&'static Value>,
}

impl Checks {
    /// The checks of a schema object, or [`Compiled::Walk`] when a keyword is not one
    /// this module compiles, or its value is not of the shape the walk accepts (the
    /// walk then answers `false` or evaluates it, as it would have).
    fn of(map: &'static Map<String, Value>) -> Compiled {
        let mut c = Checks::default();
        for (keyword, value) in map {
            let ok = match keyword.as_str() {
                "type" => type_mask(value).map(|m| c.types = Some(m)).is_some(),
                "enum" => value.as_array().map(|v| c.enumeration = Some(v)).is_some(),
                "properties" => value
                    .as_object()
                    .map(|props| {
                        c.properties = Some(
                            props
                                .iter()
                                .map(|(k, v)| (k.as_str(), Node::new(v)))
                                .collect(),
                        );
                    })
                    .is_some(),
                "additionalProperties" => {
                    c.additional = Some(Box::new(Node::new(value)));
                    true
                }
                "required" => value
                    .as_array()
                    .and_then(|names| names.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
                    .map(|names| c.required = names)
                    .is_some(),
                "items" => {
                    if matches!(value, Value::Object(_) | Value::Bool(_)) {
                        c.items = Some(Box::new(Node::new(value)));
                        true
                    } else {
                        false
                    }
                }
                "allOf" => value
                    .as_array()
                    .map(|all| c.all_of = all.iter().map(Node::new).collect())
                    .is_some(),
                "anyOf" => value
                    .as_array()
                    .map(|any| c.any_of = Some(any.iter().map(Node::new).collect()))
                    .is_some(),
                "$ref" => value
                    .as_str()
                    .map(|r| {
                        c.reference = Some(OnceLock::new());
                        c.reference_text = r;
                    })
                    .is_some(),
                "const" => {
                    c.constant = Some(value);
                    true
                }
                "minLength" => value.as_u64().map(|l| c.min_length = Some(l)).is_some(),
                "maxLength" => value.as_u64().map(|l| c.max_length = Some(l)).is_some(),
                "minItems" | "maxItems" => value
                    .as_u64()
                    .map(|l| c.item_counts.push((keyword == "minItems", l)))
                    .is_some(),
                "minProperties" | "maxProperties" => value
                    .as_u64()
                    .map(|l| c.property_counts.push((keyword == "minProperties", l)))
                    .is_some(),
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                    if value.is_number() {
                        c.bounds.push((keyword.as_str(), value));
                        true
                    } else {
                        false
                    }
                }
                "uniqueItems" => match value {
                    Value::Bool(unique) => {
                        c.unique = *unique;
                        true
                    }
                    _ => false,
                },
                "propertyNames" => {
                    c.property_names = Some(value);
                    true
                }
                "pattern" => value
                    .as_str()
                    .and_then(known_pattern)
                    .map(|m| c.pattern = Some(m))
                    .is_some(),
                "format" => match value.as_str() {
                    Some("byte") => {
                        c.format_byte = true;
                        true
                    }
                    Some(format) => !CHECKED_FORMATS.contains(&format),
                    None => false,
                },
                "$schema" | "$defs" | "definitions" | "description" | "title" | "default"
                | "examples" | "readOnly" | "writeOnly" | "deprecated" | "$comment"
                | "nullable" => true,
                k => k.starts_with("x-kubernetes-"),
            };
            if !ok {
                return Compiled::Walk;
            }
        }
        Compiled::Checks(Box::new(c))
    }
}

const OBJECT: u8 = 1;
const ARRAY: u8 = 2;
const STRING: u8 = 4;
const BOOLEAN: u8 = 8;
const NULL: u8 = 16;
const NUMBER: u8 = 32;
const INTEGER: u8 = 64;

/// The `type` names an instance answers to, as bits: a number that is an `i64` or a
/// `u64` is also an `integer` (what [`super::type_matches`] accepts).
fn type_bits(instance: &Value) -> u8 {
    match instance {
        Value::Object(_) => OBJECT,
        Value::Array(_) => ARRAY,
        Value::String(_) => STRING,
        Value::Bool(_) => BOOLEAN,
        Value::Null => NULL,
        Value::Number(n) if n.is_i64() || n.is_u64() => NUMBER | INTEGER,
        Value::Number(_) => NUMBER,
    }
}

/// The bits of the instances a `type` keyword admits (a name or a list of names; a
/// name `type_matches` does not know admits nothing), or `None` when it is neither,
/// which the walk answers `false` to.
fn type_mask(types: &Value) -> Option<u8> {
    let bit = |name: &Value| match name.as_str() {
        Some("object") => OBJECT,
        Some("array") => ARRAY,
        Some("string") => STRING,
        Some("boolean") => BOOLEAN,
        Some("null") => NULL,
        Some("number") => NUMBER,
        Some("integer") => INTEGER,
        _ => 0,
    };
    match types {
        Value::String(_) => Some(bit(types)),
        Value::Array(names) => Some(names.iter().fold(0, |m, n| m | bit(n))),
        _ => None,
    }
}
