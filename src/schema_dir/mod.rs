//! Upstream schema referee: validates objects against CRD schemas the way a
//! strict API server would.
//!
//! [`SchemaDir`] reads `openAPIV3Schema`s laid out kubeconform-style,
//! `{dir}/{group}/{kind-lowercase}_{version}.json` (as in `shared/schemas/crds/`),
//! compiles each one once and validates objects against it. A file may also hold the
//! whole CRD, and a schema that declares no field is refused (`schema_file`).
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
//!
//! The rewriting is in `strict`; `schema_fast` answers "certainly valid" before any
//! validator is compiled.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// How many instances of a schema the quick walk ([`schema_fast`]) is tried on before
/// the schema's validator is compiled and used alone. The walk costs about a third
/// more per instance than a compiled validator and compiling a built-in kind's costs
/// as much as walking a few hundred instances: a command that validates a few objects
/// of a kind (the Argo CD plugin, a small platform) never compiles it, a large
/// platform compiles each of its main kinds once (docs/performance.md, session 4).
const WALKS_BEFORE_COMPILING: usize = 256;

use crate::schema_fast::{self, Defs};

mod known_fields;
mod schema_file;
mod strict;

pub use schema_file::SchemaError;
pub use strict::{has_key, strict_schema, strict_schema_owned};
pub(crate) use strict::{is_base64, OBJECT_META_PATTERNS};

/// Longest rendering of a validator message before it is cut.
const MAX_MESSAGE: usize = 300;

/// A directory of CRD schemas, with compiled validators cached per
/// (group, version, kind).
pub struct SchemaDir {
    dir: PathBuf,
    cache: BTreeMap<(String, String, String), Result<StrictValidator, SchemaError>>,
}

/// One compiled strict schema: the hardened schema (kept for defaulting and
/// list-map checks) and its validator. Built from an upstream CRD schema by
/// [`SchemaDir`], or from any in-memory schema with [`StrictValidator::new`]
/// (kgen's built-in kinds, see `validate::schema`).
pub struct StrictValidator {
    /// The hardened schema; with `defs`, its root alone (see
    /// [`StrictValidator::split`]).
    schema: Value,
    /// Where `#/$defs/<name>` references of `schema` resolve, when it is kept
    /// without its definitions.
    defs: Option<Defs>,
    /// Builds the whole hardened schema to compile, when `schema` is only its root.
    whole: Option<Box<dyn Fn() -> Value + Send + Sync>>,
    /// Compiled when first needed: at once by [`StrictValidator::new`], by
    /// [`StrictValidator::split`] only for an instance that
    /// [`schema_fast::certainly_valid`] does not pass.
    validator: OnceLock<Result<Validator, String>>,
    /// Instances the quick walk was tried on while nothing was compiled (see
    /// [`WALKS_BEFORE_COMPILING`]).
    walked: AtomicUsize,
    /// The schema declares defaults or list-map keys, so instances are prepared
    /// (defaulted, checked for duplicate keys) on a copy before validation.
    prepare: bool,
    /// The quick walk compiled, for a validator of the process's lifetime (see
    /// [`StrictValidator::problems_static`]).
    plan: OnceLock<schema_fast::Plan>,
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
    /// For an unknown field, the field it is closest to among those the schema
    /// allows there (`labels` for `lables`); for a string outside an `enum`, the
    /// option it is closest to.
    pub meant: Option<String>,
}

impl Problem {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            message: message.into(),
            meant: None,
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
                "not a directory",
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
            Err(no_schema) => Err(vec![no_schema.message]),
        }
    }

    /// Like [`SchemaDir::validate`], with structured problems. `Err` means there
    /// is no usable schema for the object's apiVersion/kind (the message says why).
    pub fn problems(&mut self, object: &Value) -> Result<Vec<Problem>, SchemaError> {
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

/// Reads, hardens and compiles the schema at `path` (an openAPIV3Schema, or a whole
/// CRD: see `schema_file`).
fn load(
    path: &Path,
    dir: &Path,
    api_version: &str,
    kind: &str,
) -> Result<StrictValidator, SchemaError> {
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
        return Err(SchemaError::new(format!(
            "no schema for {api_version} {kind} in {}",
            dir.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| SchemaError::new(format!("cannot read schema {}: {e}", path.display())))?;
    let upstream: Value = serde_json::from_str(&text)
        .map_err(|e| SchemaError::new(format!("invalid JSON in schema {}: {e}", path.display())))?;
    let schema = schema_file::schema_of(upstream, path, api_version, kind)?;
    StrictValidator::new(&schema)
        .map_err(|e| SchemaError::new(format!("cannot compile schema {}: {e}", path.display())))
}

impl StrictValidator {
    /// The field names the schema allows in the object at `pointer` (a JSON pointer)
    /// of `instance`: the candidates of a "did you mean" for a field it does not have.
    pub fn known_fields(&self, instance: &Value, pointer: &str) -> Vec<&str> {
        known_fields::known_fields(&self.schema, self.defs, instance, pointer)
    }

    /// Hardens `schema` with [`strict_schema`] and compiles it.
    pub fn new(schema: &Value) -> Result<StrictValidator, String> {
        let schema = strict_schema(schema);
        let prepare = has_key(&schema, &["default", "x-kubernetes-list-map-keys"]);
        let v = StrictValidator {
            schema,
            defs: None,
            whole: None,
            validator: OnceLock::new(),
            walked: AtomicUsize::new(0),
            prepare,
            plan: OnceLock::new(),
        };
        v.compiled()?;
        Ok(v)
    }

    /// A hardened schema kept in parts: `root`, the schema without its `$defs`;
    /// `defs`, its definitions by name; `whole`, a function that builds all of it.
    /// `prepare` is whether the whole schema has `default` or
    /// `x-kubernetes-list-map-keys` keys (as [`StrictValidator::new`] computes it).
    /// Nothing is compiled until an instance needs the compiled validator (one that
    /// [`schema_fast::certainly_valid`] does not pass): for schemas known to compile
    /// (kgen's built-in ones, see `validate::schema`), whose definitions are parsed
    /// only as objects reach them. A compilation error is then reported as a
    /// problem of the instance that needed it.
    pub fn split(
        root: Value,
        prepare: bool,
        defs: Defs,
        whole: Box<dyn Fn() -> Value + Send + Sync>,
    ) -> StrictValidator {
        StrictValidator {
            schema: root,
            defs: Some(defs),
            whole: Some(whole),
            validator: OnceLock::new(),
            walked: AtomicUsize::new(0),
            prepare,
            plan: OnceLock::new(),
        }
    }

    /// The compiled validator (compiled on first use).
    pub fn compiled(&self) -> Result<&Validator, String> {
        self.validator
            .get_or_init(|| {
                let whole = self.whole.as_ref().map(|w| w());
                jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .should_validate_formats(true)
                    .with_format("byte", is_base64)
                    .build(whole.as_ref().unwrap_or(&self.schema))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(String::clone)
    }

    /// Validates one object; an empty list means it conforms. Problems are
    /// sorted and deduplicated.
    pub fn problems(&self, object: &Value) -> Vec<Problem> {
        // The quick walk until the validator is compiled, which it is once the walk
        // has been tried on as many instances as make compiling cheaper than walking
        // the rest (a platform of a thousand services has three thousand
        // Deployments; the Argo CD plugin's one application has one). Either way the
        // problems are the compiled validator's, so which way is taken changes
        // nothing else.
        let walk = self.validator.get().is_none()
            && self.walked.fetch_add(1, Ordering::Relaxed) < WALKS_BEFORE_COMPILING;
        self.problems_with(object, walk)
    }

    /// [`StrictValidator::problems`] for a validator that lives as long as the process
    /// (kgen's built-in kinds): the quick walk's schema nodes are compiled once
    /// ([`schema_fast::Plan`]) and tried on every instance, cheaper than the compiled
    /// validator, which then only reports the problems of an instance the plan does
    /// not pass. The outcome is the same as [`StrictValidator::problems`]'.
    pub fn problems_static(&'static self, object: &Value) -> Vec<Problem> {
        let plan = self
            .plan
            .get_or_init(|| schema_fast::Plan::new(&self.schema, self.defs));
        self.problems_in(object, Quick::Plan(plan))
    }

    /// The problems as the compiled validator alone finds them, without the quick
    /// walk: the oracle [`StrictValidator::problems`] is tested against.
    #[cfg(test)]
    pub(crate) fn problems_compiled(&self, object: &Value) -> Vec<Problem> {
        self.problems_with(object, false)
    }

    /// The problems found with the quick walk first, however many instances were
    /// validated before: what [`StrictValidator::problems`] does while it walks.
    #[cfg(test)]
    pub(crate) fn problems_walked(&self, object: &Value) -> Vec<Problem> {
        self.problems_with(object, true)
    }

    /// The schema the quick walk starts from (the root alone, with `defs`).
    #[cfg(test)]
    pub(crate) fn root_schema(&self) -> &Value {
        &self.schema
    }

    /// A definition, as `#/$defs/<name>` resolves for the quick walk.
    #[cfg(test)]
    pub(crate) fn definition(&self, name: &str) -> Option<&Value> {
        match self.defs {
            Some(defs) => defs(name),
            None => self.schema.get("$defs")?.get(name),
        }
    }

    /// Whether the compiled quick walk passes `object` (as it stands, not prepared).
    #[cfg(test)]
    pub(crate) fn plan_passes(&'static self, object: &Value) -> bool {
        self.plan
            .get_or_init(|| schema_fast::Plan::new(&self.schema, self.defs))
            .certainly_valid(object)
    }

    /// Whether the quick walk passes `object` (as it stands, not prepared).
    #[cfg(test)]
    pub(crate) fn quick_passes(&self, object: &Value) -> bool {
        schema_fast::certainly_valid(&self.schema, self.defs, object)
    }

    fn problems_with(&self, object: &Value, quick: bool) -> Vec<Problem> {
        self.problems_in(object, if quick { Quick::Walk } else { Quick::No })
    }

    fn problems_in(&self, object: &Value, quick: Quick<'_>) -> Vec<Problem> {
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
        // The compiled validator only for an instance the quick walk does not pass:
        // its verdict `valid` is the validator's (see `schema_fast`).
        let certain = match quick {
            Quick::No => false,
            Quick::Walk => schema_fast::certainly_valid(&self.schema, self.defs, instance),
            Quick::Plan(plan) => plan.certainly_valid(instance),
        };
        if !certain {
            match self.compiled() {
                Ok(validator) => {
                    if !validator.is_valid(instance) {
                        for error in validator.iter_errors(instance) {
                            problems.extend(describe(&error, instance, |pointer, field| {
                                let known = self.known_fields(instance, pointer);
                                crate::diagnostic::closest(field, known).map(str::to_string)
                            }));
                        }
                    }
                }
                Err(e) => {
                    problems.push(Problem::new("", format!("cannot compile the schema: {e}")))
                }
            }
        }
        problems.sort();
        problems.dedup();
        problems
    }
}

/// How an instance is tried before the compiled validator.
enum Quick<'p> {
    No,
    Walk,
    Plan(&'p schema_fast::Plan),
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
/// `meant` names the known field an unknown one is closest to, given the JSON pointer
/// of the object that has it.
fn describe(
    error: &ValidationError<'_>,
    instance: &Value,
    meant: impl Fn(&str, &str) -> Option<String>,
) -> Vec<Problem> {
    let pointer = error.instance_path().as_str();
    let path = render_pointer(pointer, instance);
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|field| Problem {
                meant: meant(pointer, field),
                ..Problem::new(join_key(&path, field), "unknown field")
            })
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
        // A string outside an `enum` of strings: the option it is closest to.
        ValidationErrorKind::Enum { options } => {
            let options: Vec<&str> = options
                .as_array()
                .map(|o| o.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let meant = error
                .instance()
                .as_str()
                .and_then(|v| crate::diagnostic::meant_option(v, &options));
            vec![Problem {
                meant: meant.map(str::to_string),
                ..Problem::new(path, message(error))
            }]
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
mod tests;
