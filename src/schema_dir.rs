//! Upstream schema referee: validates objects against CRD schemas the way a
//! strict API server would.
//!
//! [`SchemaDir`] reads `openAPIV3Schema`s laid out kubeconform-style,
//! `{dir}/{group}/{kind-lowercase}_{version}.json` (as in `shared/schemas/crds/`),
//! compiles each one once and validates objects against it.
//!
//! Upstream structural schemas never say `additionalProperties: false`: the API
//! server prunes unknown fields, or rejects them under strict field validation
//! (`kubectl apply --validate=strict`, Argo CD's server-side apply). A plain JSON
//! Schema validator would therefore accept any typo. [`strict_schema`] rewrites
//! an upstream schema so that a JSON Schema validator behaves like the strict API
//! server:
//!
//! * every object schema with `properties`, no `additionalProperties` and no
//!   `x-kubernetes-preserve-unknown-fields: true` gets `additionalProperties: false`
//!   (walking only structural positions: `properties`, `items`,
//!   `additionalProperties`; never inside `anyOf`/`allOf`/`oneOf`/`not`, whose
//!   branches only restate values);
//! * `x-kubernetes-int-or-string: true` becomes `type: [integer, string]`;
//! * `nullable: true` admits `null`;
//! * `x-kubernetes-embedded-resource: true` admits `apiVersion`, `kind`, `metadata`;
//! * `x-kubernetes-list-type: set` becomes `uniqueItems: true`;
//! * the root `metadata` schema (upstream just `{type: object}`, since the API
//!   server validates ObjectMeta itself) is replaced by a strict ObjectMeta
//!   schema: known fields only, DNS-1123 `name`/`namespace`, qualified label,
//!   annotation and finalizer names, label values of at most 63 characters.
//!
//! Before validation, defaults declared in the schema are applied to a copy of
//! the object (the API server defaults before it validates), duplicate keys of
//! `x-kubernetes-list-type: map` lists are reported, and `metadata.name` (or
//! `generateName`) is required. CEL rules (`x-kubernetes-validations`) are not
//! evaluated.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Longest rendering of a validator message before it is cut.
const MAX_MESSAGE: usize = 300;

/// A directory of CRD schemas, with compiled validators cached per
/// (group, version, kind).
pub struct SchemaDir {
    dir: PathBuf,
    cache: BTreeMap<(String, String, String), Result<StrictValidator, String>>,
}

/// One compiled strict schema: the hardened schema (kept for defaulting and
/// list-map checks) and its validator. Built from an upstream CRD schema by
/// [`SchemaDir`], or from any in-memory schema with [`StrictValidator::new`]
/// (kgen's built-in kinds, see `validate::schema`).
pub struct StrictValidator {
    schema: Value,
    validator: Validator,
    /// The schema declares defaults or list-map keys, so instances are prepared
    /// (defaulted, checked for duplicate keys) on a copy before validation.
    prepare: bool,
}

impl fmt::Debug for StrictValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StrictValidator").finish_non_exhaustive()
    }
}

/// One schema problem: the rendered path of the offending value
/// (`spec.generators[0].list`, empty for the root) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// `spec.mode: unsupported value ...`, `(root): expected object, got array`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", display_path(&self.path), self.message)
    }
}

impl fmt::Debug for SchemaDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaDir")
            .field("dir", &self.dir)
            .field("loaded", &self.cache.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SchemaDir {
    /// Opens a schema directory. Schemas are read lazily, on first use.
    pub fn open(dir: &Path) -> std::io::Result<SchemaDir> {
        let metadata = std::fs::metadata(dir)?;
        if !metadata.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(SchemaDir {
            dir: dir.to_path_buf(),
            cache: BTreeMap::new(),
        })
    }

    /// The directory the schemas are read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the schema of `group`/`version` `kind` is expected (the core group
    /// is `""`).
    pub fn schema_path(&self, group: &str, version: &str, kind: &str) -> PathBuf {
        self.dir
            .join(group)
            .join(format!("{}_{}.json", kind.to_lowercase(), version))
    }

    /// Validates one object (apiVersion/kind read from it). Err lists
    /// human-readable problems, each with the JSON path, e.g.
    /// `spec.generators[0].list.elementz: unknown field`. Unknown apiVersion/kind
    /// gives `Err(vec!["no schema for argoproj.io/v1alpha1 Foo in DIR"])`.
    ///
    /// Problems are sorted and deduplicated, so the result is deterministic.
    pub fn validate(&mut self, object: &Value) -> Result<(), Vec<String>> {
        match self.problems(object) {
            Ok(problems) if problems.is_empty() => Ok(()),
            Ok(problems) => Err(problems.iter().map(Problem::to_string).collect()),
            Err(no_schema) => Err(vec![no_schema]),
        }
    }

    /// Like [`SchemaDir::validate`], with structured problems. `Err` means there
    /// is no usable schema for the object's apiVersion/kind (the message says why).
    pub fn problems(&mut self, object: &Value) -> Result<Vec<Problem>, String> {
        let Some(map) = object.as_object() else {
            return Ok(vec![Problem::new(
                "",
                format!("expected object, got {}", type_name(object)),
            )]);
        };
        let api_version = map.get("apiVersion").and_then(Value::as_str);
        let kind = map.get("kind").and_then(Value::as_str);
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            return Ok(type_meta_problems(map));
        };
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let key = (group.to_string(), version.to_string(), kind.to_string());
        let path = self.schema_path(group, version, kind);
        let dir = &self.dir;
        let compiled = self
            .cache
            .entry(key)
            .or_insert_with(|| load(&path, dir, api_version, kind));
        match compiled {
            Ok(compiled) => Ok(compiled.problems(object)),
            Err(problem) => Err(problem.clone()),
        }
    }

    /// True when the directory has a schema file for `apiVersion` `kind`.
    pub fn has_schema(&self, api_version: &str, kind: &str) -> bool {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        self.schema_path(group, version, kind).is_file()
    }
}

/// Problems with an object's `apiVersion` and `kind` fields (missing or not strings).
pub fn type_meta_problems(map: &Map<String, Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for field in ["apiVersion", "kind"] {
        match map.get(field) {
            None => problems.push(Problem::new(field, "required field missing")),
            Some(Value::String(_)) => {}
            Some(other) => problems.push(Problem::new(
                field,
                format!("expected string, got {}", type_name(other)),
            )),
        }
    }
    problems
}

/// Reads, hardens and compiles the schema at `path`.
fn load(path: &Path, dir: &Path, api_version: &str, kind: &str) -> Result<StrictValidator, String> {
    // Only plain names map to files: no separators, no `..`, nothing hidden.
    let plain = |s: &str| {
        !s.starts_with('.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let names_ok = [group, version, kind]
        .iter()
        .all(|s| s.is_empty() || plain(s));
    if version.is_empty() || kind.is_empty() || !names_ok || !path.is_file() {
        return Err(format!(
            "no schema for {api_version} {kind} in {}",
            dir.display()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read schema {}: {e}", path.display()))?;
    let upstream: Value = serde_json::from_str(&text)
        .map_err(|e| format!("invalid JSON in schema {}: {e}", path.display()))?;
    StrictValidator::new(&upstream)
        .map_err(|e| format!("cannot compile schema {}: {e}", path.display()))
}

impl StrictValidator {
    /// Hardens `schema` with [`strict_schema`] and compiles it.
    pub fn new(schema: &Value) -> Result<StrictValidator, String> {
        let schema = strict_schema(schema);
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .with_format("byte", is_base64)
            .build(&schema)
            .map_err(|e| e.to_string())?;
        let prepare = has_key(&schema, &["default", "x-kubernetes-list-map-keys"]);
        Ok(StrictValidator {
            schema,
            validator,
            prepare,
        })
    }

    /// Validates one object; an empty list means it conforms. Problems are
    /// sorted and deduplicated.
    pub fn problems(&self, object: &Value) -> Vec<Problem> {
        let mut problems = Vec::new();
        let prepared;
        let instance = if self.prepare {
            let mut copy = object.clone();
            prepare_instance(&self.schema, &mut copy, "", &mut problems);
            prepared = copy;
            &prepared
        } else {
            object
        };
        // The API server requires a name (or generateName) of every object.
        match instance.get("metadata") {
            None => problems.push(Problem::new("metadata", "required field missing")),
            Some(Value::Object(meta))
                if !meta.contains_key("name") && !meta.contains_key("generateName") =>
            {
                problems.push(Problem::new("metadata.name", "required field missing"));
            }
            Some(_) => {}
        }
        if !self.validator.is_valid(instance) {
            for error in self.validator.iter_errors(instance) {
                problems.extend(describe(&error, instance));
            }
        }
        problems.sort();
        problems.dedup();
        problems
    }
}

// ---------------------------------------------------------------------------
// Schema rewriting
// ---------------------------------------------------------------------------

/// Rewrites an upstream `openAPIV3Schema` so that a JSON Schema validator
/// rejects what a strict API server rejects (see the module documentation).
pub fn strict_schema(upstream: &Value) -> Value {
    let mut schema = upstream.clone();
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
fn has_key(value: &Value, keys: &[&str]) -> bool {
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
fn object_meta_schema() -> Value {
    const DNS_SUBDOMAIN: &str =
        r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    const DNS_LABEL: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    const QUALIFIED_NAME: &str = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
    const LABEL_VALUE: &str = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
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
fn is_base64(s: &str) -> bool {
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

// ---------------------------------------------------------------------------
// Instance preparation: defaulting and list-map keys
// ---------------------------------------------------------------------------

/// Applies schema defaults to `value` (in place) and reports duplicate keys of
/// `x-kubernetes-list-type: map` lists; `path` is the rendered path of `value`.
fn prepare_instance(schema: &Value, value: &mut Value, path: &str, problems: &mut Vec<Problem>) {
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            if let Some(props) = props {
                for (name, sub) in props {
                    if !map.contains_key(name) {
                        if let Some(default) = sub.get("default") {
                            map.insert(name.clone(), default.clone());
                        }
                    }
                }
                for (name, sub) in props {
                    if let Some(child) = map.get_mut(name) {
                        prepare_instance(sub, child, &join_key(path, name), problems);
                    }
                }
            }
            if let Some(additional) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                for (name, child) in map.iter_mut() {
                    if props.is_none_or(|p| !p.contains_key(name)) {
                        prepare_instance(additional, child, &join_key(path, name), problems);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter_mut().enumerate() {
                    prepare_instance(item_schema, item, &format!("{path}[{i}]"), problems);
                }
            }
            if schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
                let keys: Vec<&str> = schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| keys.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let Some(item) = item.as_object() else {
                        continue;
                    };
                    let id: Vec<String> = keys
                        .iter()
                        .map(|k| format!("{k}={}", item.get(*k).unwrap_or(&Value::Null)))
                        .collect();
                    let id = id.join(", ");
                    if !seen.insert(id.clone()) {
                        problems.push(Problem::new(
                            format!("{path}[{i}]"),
                            format!("duplicate entry with key {id}"),
                        ));
                    }
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Error rendering
// ---------------------------------------------------------------------------

/// Turns one validator error into problems (one per unknown field).
fn describe(error: &ValidationError<'_>, instance: &Value) -> Vec<Problem> {
    let path = render_pointer(error.instance_path().as_str(), instance);
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|field| Problem::new(join_key(&path, field), "unknown field"))
            .collect(),
        ValidationErrorKind::Required { property } => {
            let field = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_string);
            vec![Problem::new(
                join_key(&path, &field),
                "required field missing",
            )]
        }
        ValidationErrorKind::PropertyNames { error: inner } => {
            vec![Problem::new(
                path,
                format!("invalid key: {}", message(inner)),
            )]
        }
        _ => vec![Problem::new(path, message(error))],
    }
}

/// What is wrong with the value an error points at, without its path.
fn message(error: &ValidationError<'_>) -> String {
    let value = error.instance();
    match error.kind() {
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .into_iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!("expected {expected}, got {}", type_name(value))
        }
        ValidationErrorKind::Enum { options } => {
            let options = match options.as_ref() {
                Value::Array(options) => options
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            format!(
                "unsupported value {}, expected one of {options}",
                short(value)
            )
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{} does not match \"{pattern}\"", short(value))
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("longer than {}", count(*limit, "character"))
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("shorter than {}", count(*limit, "character"))
        }
        ValidationErrorKind::MaxItems { limit } => format!("more than {}", count(*limit, "item")),
        ValidationErrorKind::MinItems { limit } => format!("fewer than {}", count(*limit, "item")),
        ValidationErrorKind::MaxProperties { limit } => {
            format!("more than {}", count(*limit, "entry"))
        }
        ValidationErrorKind::MinProperties { limit } => {
            format!("fewer than {}", count(*limit, "entry"))
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("{} is greater than {limit}", short(value))
        }
        ValidationErrorKind::Minimum { limit } => format!("{} is less than {limit}", short(value)),
        ValidationErrorKind::UniqueItems => "duplicate items".to_string(),
        ValidationErrorKind::Format { format } => {
            format!("{} is not a valid {format}", short(value))
        }
        _ => {
            let mut message = error.to_string();
            if message.chars().count() > MAX_MESSAGE {
                message = message.chars().take(MAX_MESSAGE).collect::<String>() + "…";
            }
            message
        }
    }
}

/// `1 character`, `2 characters`, `2 entries`.
fn count(n: u64, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {noun}s"),
    }
}

/// A value as JSON, cut to a readable length.
fn short(value: &Value) -> String {
    const MAX: usize = 80;
    let text = value.to_string();
    if text.chars().count() > MAX {
        text.chars().take(MAX).collect::<String>() + "…"
    } else {
        text
    }
}

/// JSON type name of a value, distinguishing integers from other numbers.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Renders a JSON pointer into `instance` as `spec.generators[0].list`, using
/// the instance to tell array indices from numeric keys.
fn render_pointer(pointer: &str, instance: &Value) -> String {
    let mut path = String::new();
    let mut current = Some(instance);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match (current, segment.parse::<usize>()) {
            (Some(Value::Array(items)), Ok(index)) => {
                path.push_str(&format!("[{index}]"));
                current = items.get(index);
            }
            (node, _) => {
                path = join_key(&path, &segment);
                current = node.and_then(|n| n.get(segment.as_str()));
            }
        }
    }
    path
}

/// Appends an object key to a rendered path: `.key`, or `["key"]` when the key is
/// not a plain identifier (e.g. `app.kubernetes.io/name`).
fn join_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.to_string())),
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "(root)"
    } else {
        path
    }
}

/// Environment variable that overrides where tests look for the upstream CRD
/// schemas (default: `../shared/schemas/crds` relative to the crate).
pub const SHARED_SCHEMAS_ENV: &str = "KGEN_SHARED_SCHEMAS";

/// Where tests look for the upstream CRD schemas: `$KGEN_SHARED_SCHEMAS` if set,
/// else `../shared/schemas/crds` relative to the crate's manifest.
pub fn upstream_schema_path() -> PathBuf {
    match std::env::var_os(SHARED_SCHEMAS_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/crds"),
    }
}

/// The upstream CRD schemas for conformance tests, or `None` after a loud
/// notice on stderr when the directory is absent (the test then returns early).
pub fn upstream_schema_dir() -> Option<SchemaDir> {
    let path = upstream_schema_path();
    if !path.is_dir() {
        eprintln!("skipping: ../shared/schemas not found (upstream CRD conformance not checked)");
        return None;
    }
    Some(SchemaDir::open(&path).expect("open the upstream CRD schema directory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private schema directory with one hand-written CRD schema.
    fn toy_dir(schema: &Value) -> (PathBuf, SchemaDir) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kgen-schema-dir-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(dir.join("example.com")).unwrap();
        std::fs::write(dir.join("example.com/widget_v1.json"), schema.to_string()).unwrap();
        let schema_dir = SchemaDir::open(&dir).unwrap();
        (dir, schema_dir)
    }

    fn toy_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {
                    "type": "object",
                    "required": ["mode"],
                    "properties": {
                        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                        "port": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true},
                        "note": {"type": "string", "nullable": true},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"x": {"type": "string"}}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "items": {
                            "type": "array",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["name"],
                            "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
                        },
                        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                        "embedded": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}},
                        "checked": {"type": "string", "x-kubernetes-validations": [{"rule": "self != 'x'", "message": "no x"}]},
                        "blob": {"type": "string", "format": "byte"}
                    }
                }
            }
        })
    }

    fn widget(spec: Value) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"}, "spec": spec})
    }

    #[test]
    fn injects_additional_properties_false_only_where_structural() {
        let strict = strict_schema(&toy_schema());
        assert_eq!(strict["additionalProperties"], false);
        let spec = &strict["properties"]["spec"];
        assert_eq!(spec["additionalProperties"], false);
        assert_eq!(
            spec["properties"]["items"]["items"]["additionalProperties"],
            false
        );
        // preserve-unknown-fields and explicit additionalProperties are left alone.
        assert!(spec["properties"]["free"]
            .get("additionalProperties")
            .is_none());
        assert_eq!(
            spec["properties"]["labels"]["additionalProperties"],
            json!({"type": "string"})
        );
        // int-or-string and nullable become type lists.
        assert_eq!(
            spec["properties"]["port"]["type"],
            json!(["integer", "string"])
        );
        assert!(spec["properties"]["port"].get("anyOf").is_none());
        assert_eq!(
            spec["properties"]["note"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(spec["properties"]["tags"]["uniqueItems"], true);
        // metadata becomes a strict ObjectMeta.
        assert_eq!(
            strict["properties"]["metadata"]["additionalProperties"],
            false
        );
        // The upstream value is untouched.
        assert!(toy_schema().get("additionalProperties").is_none());
    }

    #[test]
    fn toy_schema_behaves_like_a_strict_api_server() {
        let (tmp, mut dir) = toy_dir(&toy_schema());
        // Defaults fill the required `mode`; int-or-string, nullable, free-form,
        // embedded resources and CEL rules are accepted.
        let ok = widget(json!({
            "port": "http",
            "note": null,
            "free": {"x": "1", "anything": {"goes": true}},
            "labels": {"a": "b"},
            "items": [{"name": "one"}, {"name": "two"}],
            "tags": ["a", "b"],
            "embedded": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {}},
            "checked": "x",
            "blob": "aGVsbG8="
        }));
        assert_eq!(dir.validate(&ok), Ok(()));
        assert_eq!(dir.validate(&widget(json!({"port": 8080}))), Ok(()));

        let bad = widget(json!({
            "mode": "c",
            "port": 1.5,
            "items": [{"name": "one"}, {"name": "one"}],
            "tags": ["a", "a"],
            "embedded": {"apiVersion": "v1", "extra": 1},
            "blob": "not base64!",
            "labels": {"app.kubernetes.io/name": 3}
        }));
        let problems = dir.validate(&bad).unwrap_err();
        let expected_prefixes = [
            "spec.blob: ",
            "spec.embedded.extra: unknown field",
            "spec.items[1]: duplicate entry with key name=\"one\"",
            "spec.labels[\"app.kubernetes.io/name\"]: expected string, got integer",
            "spec.mode: ",
            "spec.port: expected integer or string, got number",
            "spec.tags: ",
        ];
        assert_eq!(problems.len(), expected_prefixes.len(), "{problems:#?}");
        for (problem, prefix) in problems.iter().zip(expected_prefixes) {
            assert!(
                problem.starts_with(prefix),
                "{problem:?} should start with {prefix:?}"
            );
        }

        // Without the default, a missing required field would be reported.
        let mut no_default = toy_schema();
        no_default["properties"]["spec"]["properties"]["mode"]
            .as_object_mut()
            .unwrap()
            .remove("default");
        let (tmp2, mut dir2) = toy_dir(&no_default);
        assert_eq!(
            dir2.validate(&widget(json!({}))),
            Err(vec!["spec.mode: required field missing".to_string()])
        );
        std::fs::remove_dir_all(tmp).unwrap();
        std::fs::remove_dir_all(tmp2).unwrap();
    }

    #[test]
    fn metadata_is_checked_like_object_meta() {
        let (tmp, mut dir) = toy_dir(&toy_schema());
        let mut object = widget(json!({}));
        object["metadata"] = json!({
            "namespace": "Not_A_Label",
            "labelz": {},
            "labels": {"ok": "yes", "bad key!": "v", "long": "x".repeat(64)},
            "annotations": {"argocd.argoproj.io/sync-wave": "1"}
        });
        let problems = dir.validate(&object).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("metadata.labels.long: ")),
            "{problems:#?}"
        );
        assert!(
            problems.contains(&"metadata.labelz: unknown field".to_string()),
            "{problems:#?}"
        );
        assert!(
            problems.contains(&"metadata.name: required field missing".to_string()),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("metadata.namespace: ")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("metadata.labels: ")),
            "{problems:#?}"
        );
        std::fs::remove_dir_all(tmp).unwrap();
    }

    #[test]
    fn unknown_kind_and_malformed_objects() {
        let (tmp, mut dir) = toy_dir(&toy_schema());
        let display = dir.dir().display().to_string();
        assert_eq!(
            dir.validate(&json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Foo", "metadata": {"name": "x"}})),
            Err(vec![format!("no schema for argoproj.io/v1alpha1 Foo in {display}")])
        );
        assert_eq!(
            dir.validate(&json!({"apiVersion": "v1", "kind": "ConfigMap"})),
            Err(vec![format!("no schema for v1 ConfigMap in {display}")])
        );
        assert_eq!(
            dir.validate(&json!({"kind": 3})),
            Err(vec![
                "apiVersion: required field missing".to_string(),
                "kind: expected string, got integer".to_string()
            ])
        );
        assert_eq!(
            dir.validate(&json!({"apiVersion": "example.com/../v1", "kind": "Widget"})),
            Err(vec![format!(
                "no schema for example.com/../v1 Widget in {display}"
            )])
        );
        assert_eq!(
            dir.validate(&json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}})),
            Err(vec!["metadata: required field missing".to_string()])
        );
        assert_eq!(
            dir.validate(&json!([])),
            Err(vec!["(root): expected object, got array".to_string()])
        );
        // Unknown top-level fields are rejected too.
        let mut object = widget(json!({}));
        object["status"] = json!({});
        assert_eq!(
            dir.validate(&object),
            Err(vec!["status: unknown field".to_string()])
        );
        std::fs::remove_dir_all(tmp).unwrap();
    }

    #[test]
    fn open_rejects_missing_directory() {
        assert!(SchemaDir::open(Path::new("/nonexistent/kgen/schemas")).is_err());
        let file =
            std::env::temp_dir().join(format!("kgen-schema-dir-file-{}", std::process::id()));
        std::fs::write(&file, "{}").unwrap();
        assert!(SchemaDir::open(&file).is_err());
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn paths_render_readably() {
        let instance = json!({"spec": {"list": [{"a.b/c": {"0": 1}}]}});
        assert_eq!(render_pointer("", &instance), "");
        assert_eq!(
            render_pointer("/spec/list/0/a.b~1c/0", &instance),
            "spec.list[0][\"a.b/c\"].0"
        );
        assert!(is_base64(""));
        assert!(is_base64("aGk="));
        assert!(!is_base64("aGk"));
        assert!(!is_base64("a=Gk"));
    }

    /// Every upstream schema in the shared directory compiles after hardening.
    #[test]
    fn every_upstream_schema_compiles() {
        let Some(mut dir) = upstream_schema_dir() else {
            return;
        };
        let index: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.dir().join("index.json")).unwrap())
                .unwrap();
        let entries: Vec<(String, String, String)> = index_entries(&index);
        assert!(entries.len() >= 20, "index lists {} schemas", entries.len());
        for (group, version, kind) in entries {
            // An object with only apiVersion/kind/metadata reaches the compiled
            // validator; its problems (missing spec, ...) are irrelevant here.
            let object = json!({"apiVersion": format!("{group}/{version}"), "kind": kind, "metadata": {"name": "x"}});
            if let Err(problems) = dir.validate(&object) {
                for problem in problems {
                    assert!(
                        !problem.starts_with("no schema") && !problem.starts_with("cannot"),
                        "{group}/{version} {kind}: {problem}"
                    );
                }
            }
        }
    }

    /// (group, version, kind) of every file listed in `index.json`.
    fn index_entries(index: &Value) -> Vec<(String, String, String)> {
        let list = index
            .get("schemas")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        list.iter()
            .filter_map(|e| {
                let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
                Some((s("group")?, s("version")?, s("kind")?))
            })
            .collect()
    }
}
