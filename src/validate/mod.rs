//! Validation: every rendered object checked the way a cluster would check it,
//! before anything is written.
//!
//! Three layers, one module each, all working on the JSON form of an object:
//! - [`schema`]: the JSON Schema of the object's kind (k8s-openapi's for core kinds,
//!   kgen's typed structs' for custom resources), hardened so unknown fields are
//!   errors, compiled once per kind;
//! - [`semantics`]: what the API server, a controller or the CSI driver enforces
//!   that a schema cannot say (name rules per kind, selectors, ports, quantities,
//!   autoscaler bounds, probes, keys, SecretProviderClass objects, mount paths,
//!   references between objects);
//! - [`policy`]: what kube-score, kube-linter and Polaris teach; every policy rule
//!   can be waived, with a written reason, and the waiver shows in the file header.
//!
//! A check returns [`Finding`]s: a rule, a message and the field of the object it is
//! about. This module turns them into [`Diagnostic`]s: for `kgen render`/`validate`
//! the input line comes from the service's `origins` (the value that produced the
//! field), for `kgen validate PATH` from the YAML text ([`locate`]); the target is the
//! generated file and field.

#[rustfmt::skip]
mod builtin_schemas;
#[cfg(test)]
mod builtin_schemas_gen;
pub(crate) mod collapse;
pub mod locate;
mod origin;
pub mod policy;
pub mod schema;
pub mod semantics;
mod waivers;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;
use serde_json::Value;

use crate::diagnostic::{Diagnostic, Severity, Target};
use crate::render::Object;
use crate::source::Origin;
use crate::spec::{EnvSpec, PlatformSpec, ServiceSpec};
use crate::workspace::GENERATED_DIR;

pub use origin::{ContainerOrigin, ContainerRole};
pub use waivers::{annotation_waivers, applicable_waivers, one_line, waiver_problem, WaiverPart};
use waivers::{check_waivers, waiver_for};

/// Key of `ServiceSpec.origins` holding the service's table header
/// (`[services.<name>]` in platform.toml): where a finding points when no input
/// value produced the field (a probe that was never set, a renderer bug).
pub const SERVICE_ORIGIN: &str = "service";

/// Annotation prefix that waives a policy rule on a hand-written object:
/// `kgen.dev/waive-KG202: "the batch worker has no HTTP endpoint"`.
pub const WAIVER_ANNOTATION_PREFIX: &str = "kgen.dev/waive-";

/// A path to a field inside an object, rendered like
/// `spec.template.spec.containers[0].image` or `metadata.labels["app.kubernetes.io/name"]`
/// (the same rendering as the schema validator's).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(Cow<'static, str>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Cow::Borrowed(""))
    }

    /// A path known in advance (`spec.template.spec`): no allocation.
    pub const fn fixed(path: &'static str) -> FieldPath {
        FieldPath(Cow::Borrowed(path))
    }

    /// `self.key`, or `self["key"]` when the key is not a plain identifier.
    pub fn key(&self, key: &str) -> FieldPath {
        let plain = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        // Built by hand, not with `format!`: paths are made for every field a check
        // walks, whether or not a finding needs them.
        FieldPath(Cow::Owned(match (self.0.is_empty(), plain) {
            (true, true) => key.to_string(),
            (false, true) => {
                let mut p = String::with_capacity(self.0.len() + 1 + key.len());
                p.push_str(&self.0);
                p.push('.');
                p.push_str(key);
                p
            }
            (_, false) => format!("{}[{}]", self.0, Value::String(key.to_string())),
        }))
    }

    pub fn index(&self, i: usize) -> FieldPath {
        use std::fmt::Write as _;
        let mut p = String::with_capacity(self.0.len() + 4);
        p.push_str(&self.0);
        p.push('[');
        let _ = write!(p, "{i}");
        p.push(']');
        FieldPath(Cow::Owned(p))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for FieldPath {
    fn from(s: &str) -> FieldPath {
        FieldPath(Cow::Owned(s.to_string()))
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "(root)" } else { &self.0 })
    }
}

/// One problem with one object, before it is located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The field of the object it is about.
    pub field: String,
    /// Keys of `ServiceSpec.origins` that may have produced the field, best first.
    pub keys: Vec<String>,
    pub label: Option<String>,
    pub help: Option<String>,
    /// The value must not be shown in snippets (a secret).
    pub redact: bool,
    /// The text inside the field's value the finding is about (one `objectName` of a
    /// SecretProviderClass's `objects` block): a hand-written file's finding points at
    /// it rather than at the whole value.
    pub within: Option<String>,
    /// Other fields the finding is about, best first: when [`Finding::field`] is
    /// neither hand-written nor patched but one of these is, the finding points at
    /// that line or patch (a patch's `minReplicas` above the typed `max`).
    pub also: Vec<Also>,
}

/// Another field a [`Finding`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Also {
    /// The object it is in, by its index in the set checked; `None`: the finding's.
    pub object: Option<usize>,
    pub field: String,
}

impl Finding {
    pub fn error(code: &'static str, field: &FieldPath, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: Severity::Error,
            message: message.into(),
            field: field.as_str().to_string(),
            keys: Vec::new(),
            label: None,
            help: None,
            redact: false,
            within: None,
            also: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, field: &FieldPath, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(code, field, message)
        }
    }

    /// With the severity a policy rule has (see [`policy::severity`]).
    pub fn policy(code: &'static str, field: &FieldPath, message: impl Into<String>) -> Finding {
        Finding {
            severity: policy::severity(code),
            ..Finding::error(code, field, message)
        }
    }

    /// Adds an origin key (`replicas`, `autoscaling.min`, `env.LOG_LEVEL`).
    pub fn key(mut self, key: impl Into<String>) -> Finding {
        self.keys.push(key.into());
        self
    }

    /// Adds origin keys, best first (see [`ContainerOrigin::keys`]).
    pub fn keys(mut self, keys: impl IntoIterator<Item = String>) -> Finding {
        self.keys.extend(keys);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Finding {
        self.label = Some(label.into());
        self
    }

    pub fn redacted(mut self) -> Finding {
        self.redact = true;
        self
    }

    /// Points at `text` inside the field's value (the field `within`).
    pub fn pointing_at(mut self, text: impl Into<String>) -> Finding {
        self.within = Some(text.into());
        self
    }

    /// Adds another field of the same object the finding is about.
    pub fn also(mut self, field: &FieldPath) -> Finding {
        self.also.push(Also {
            object: None,
            field: field.as_str().to_string(),
        });
        self
    }

    /// Adds a field of another object of the set (`object`, its index) the finding
    /// is about.
    pub fn also_in(mut self, object: usize, field: &FieldPath) -> Finding {
        self.also.push(Also {
            object: Some(object),
            field: field.as_str().to_string(),
        });
        self
    }
}

/// One object under validation, with what is known about where it came from.
/// Its type and identity (kind, apiVersion, name, namespace) are read once.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub value: &'a Value,
    /// The platform, for rules that need it (registries, production); `None` for
    /// hand-written files.
    pub platform: Option<&'a PlatformSpec>,
    pub env: Option<&'a EnvSpec>,
    pub service: Option<&'a ServiceSpec>,
    /// A hand-written manifest (under `manifests/`, or a file `kgen validate PATH`
    /// reads): what fixes a finding is a field of it, not a key of platform.toml.
    pub hand_written: bool,
    kind: &'a str,
    api_version: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
}

impl<'a> Subject<'a> {
    /// An object rendered for `env` and `service` of `platform`.
    pub fn new(
        value: &'a Value,
        platform: Option<&'a PlatformSpec>,
        env: Option<&'a EnvSpec>,
        service: Option<&'a ServiceSpec>,
    ) -> Subject<'a> {
        let meta = value.get("metadata");
        Subject {
            value,
            platform,
            env,
            service,
            hand_written: platform.is_none(),
            kind: str_at(value, "kind").unwrap_or(""),
            api_version: str_at(value, "apiVersion").unwrap_or(""),
            name: meta.and_then(|m| str_at(m, "name")).unwrap_or(""),
            namespace: meta.and_then(|m| str_at(m, "namespace")),
        }
    }

    /// A hand-written object: no platform context.
    pub fn bare(value: &'a Value) -> Subject<'a> {
        Subject::new(value, None, None, None)
    }

    pub fn kind(&self) -> &'a str {
        self.kind
    }

    pub fn api_version(&self) -> &'a str {
        self.api_version
    }

    /// The API group (`""` for core, `apps`, `secrets-store.csi.x-k8s.io`).
    pub fn group(&self) -> &'a str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    pub fn name(&self) -> &'a str {
        self.name
    }

    pub fn namespace(&self) -> Option<&'a str> {
        self.namespace
    }
}

/// A waiver that suppressed at least one finding in a file (shown in its header).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Waived {
    pub rule: String,
    pub reason: String,
}

/// The outcome of validating a compiled platform.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Errors and warnings, sorted; errors block the run.
    pub diagnostics: Vec<Diagnostic>,
    /// Waivers used, by object path under `generated/`.
    pub waived: BTreeMap<String, Vec<Waived>>,
}

/// Validates every rendered object of a compiled platform: errors and warnings.
pub fn validate(spec: &PlatformSpec, objects: &[Object]) -> Vec<Diagnostic> {
    check(spec, objects).diagnostics
}

/// Validates every rendered object and reports which waivers were used where.
pub fn check(spec: &PlatformSpec, objects: &[Object]) -> Report {
    let mut report = Report::default();
    report.diagnostics.extend(check_platform(spec));
    check_into(spec, objects, &mut report);
    finish(report)
}

/// The checks of the platform itself, independent of any object (malformed waivers).
/// Part of [`check`], for callers that validate the objects in parts.
pub fn check_platform(spec: &PlatformSpec) -> Vec<Diagnostic> {
    check_waivers(spec)
}

/// Validates `objects` (whole environments: checks between objects stay within each
/// environment) and adds what it finds to `report`, unsorted. Validating a platform
/// in parts (`check_platform`, then `check_into` per environment, then `finish`)
/// gives exactly what [`check`] gives for all of it.
pub fn check_into(spec: &PlatformSpec, objects: &[Object], report: &mut Report) {
    check_into_with(spec, objects, &NoProvenance, report)
}

/// What validation needs to know of objects that are not kgen's rendering alone:
/// hand-written manifests and patched objects (see `escape_hatch`).
pub trait Provenance: Sync {
    /// The schema findings of the object at `path` (under `generated/`), when it is
    /// not validated against kgen's built-in schema of its kind.
    fn schema_findings(&self, path: &str, object: &Value) -> Option<Vec<Finding>>;
    /// Where a finding about the object at `path` points, when not at a value of its
    /// service (a line of a hand-written file, a patch).
    fn origin(&self, path: &str, finding: &Finding) -> Option<Origin>;
    /// Whether the object at `path` is a hand-written manifest (its help lines then
    /// name manifest fields, not platform.toml keys).
    fn is_hand_written(&self, _path: &str) -> bool {
        false
    }
    /// Whether a finding about the object at `path` can be judged at all; `between`
    /// when a check between objects found it. Every one, unless some objects are
    /// missing (a hand-written file that could not be read).
    fn judges(&self, _path: &str, _finding: &Finding, _between: bool) -> bool {
        true
    }
    /// Whether a finding that [`origin`](Self::origin) did not locate (one about
    /// kgen's own rendering) is reported. Every one, unless the objects are only
    /// part of what would be applied (`compile::partial`).
    fn reports_own(&self, _finding: &Finding, _between: bool) -> bool {
        true
    }
}

/// Every object is kgen's own rendering.
pub struct NoProvenance;

impl Provenance for NoProvenance {
    fn schema_findings(&self, _: &str, _: &Value) -> Option<Vec<Finding>> {
        None
    }
    fn origin(&self, _: &str, _: &Finding) -> Option<Origin> {
        None
    }
}

/// Like [`check`], with what `provenance` knows of some objects.
pub fn check_with(spec: &PlatformSpec, objects: &[Object], provenance: &dyn Provenance) -> Report {
    let mut report = Report::default();
    report.diagnostics.extend(check_platform(spec));
    check_into_with(spec, objects, provenance, &mut report);
    finish(report)
}

/// Like [`check_into`], with what `provenance` knows of some objects.
pub fn check_into_with(
    spec: &PlatformSpec,
    objects: &[Object],
    provenance: &dyn Provenance,
    report: &mut Report,
) {
    let envs: FastMap<&str, &EnvSpec> = spec
        .environments
        .iter()
        .map(|e| (e.name.as_str(), e))
        .collect();
    // Only the services these objects come from (`compile` calls this once per
    // batch: indexing every service each time would grow with the square of them).
    let mut services: FastMap<(&str, &str), Option<&ServiceSpec>> = FastMap::default();
    for o in objects {
        if o.per_cluster {
            continue;
        }
        if let (Some(svc), Some(env)) = (o.service.as_deref(), envs.get(o.env.as_str())) {
            services.entry((o.env.as_str(), svc)).or_insert_with(|| {
                // Services are in name order; look further only if they are not.
                match env.services.binary_search_by(|s| s.name.as_str().cmp(svc)) {
                    Ok(i) => Some(&env.services[i]),
                    Err(_) => env.services.iter().find(|s| s.name == svc),
                }
            });
        }
    }
    let subjects: Vec<Subject> = objects
        .par_iter()
        .map(|o| {
            let service = o
                .service
                .as_deref()
                .and_then(|svc| services.get(&(o.env.as_str(), svc)).copied().flatten());
            let env = if o.per_cluster {
                None
            } else {
                envs.get(o.env.as_str()).copied()
            };
            let mut s = Subject::new(&o.value, Some(spec), env, service);
            s.hand_written = provenance.is_hand_written(&o.path);
            s
        })
        .collect();

    // Each object on its own (in parallel: the schema check dominates). A rendered
    // document with neither apiVersion nor kind is not a Kubernetes object but data
    // for another tool (the monitoring chart's Helm values): there is nothing to check.
    let mut findings: Vec<Vec<Finding>> = subjects
        .par_iter()
        .zip(objects)
        .map(|(s, o)| {
            if s.value.get("apiVersion").is_none() && s.value.get("kind").is_none() {
                return Vec::new();
            }
            let schema = provenance
                .schema_findings(&o.path, s.value)
                .unwrap_or_else(|| schema::builtin_findings(s.value));
            check_object(s, schema)
        })
        .collect();

    // Objects together, one environment at a time.
    let mut by_env: BTreeMap<(bool, &str), Vec<usize>> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        by_env
            .entry((o.per_cluster, o.env.as_str()))
            .or_default()
            .push(i);
    }
    let between: Vec<(usize, Finding)> = by_env
        .into_values()
        .collect::<Vec<_>>()
        .into_par_iter()
        .flat_map_iter(|indices| {
            let set: Vec<Subject> = indices.iter().map(|&i| subjects[i]).collect();
            check_set(&set, true)
                .into_iter()
                .map(move |(j, mut f)| {
                    for a in &mut f.also {
                        a.object = a.object.map(|k| indices[k]);
                    }
                    (indices[j], f)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // How many of an object's findings its own checks made; the rest are from the
    // checks between objects.
    let own: Vec<usize> = findings.iter().map(Vec::len).collect();
    for (i, f) in between {
        findings[i].push(f);
    }

    for (((object, subject), found), own) in objects.iter().zip(&subjects).zip(findings).zip(own) {
        if found.is_empty() {
            continue;
        }
        let waivers = applicable_waivers(subject);
        for (k, f) in found.into_iter().enumerate() {
            if !provenance.judges(&object.path, &f, k >= own) {
                continue;
            }
            if let Some(w) = waiver_for(&f, &waivers) {
                let list = report.waived.entry(object.path.clone()).or_default();
                if !list.contains(&w) {
                    list.push(w);
                }
                continue;
            }
            let located = provenance.origin(&object.path, &f).or_else(|| {
                // Another field it is about, hand-written or patched.
                f.also.iter().find_map(|a| {
                    let path = a.object.map_or(&object.path, |j| &objects[j].path);
                    let probe = Finding {
                        field: a.field.clone(),
                        ..f.clone()
                    };
                    provenance.origin(path, &probe)
                })
            });
            let origin = match located {
                Some(origin) => Some(origin),
                None if !provenance.reports_own(&f, k >= own) => continue,
                None => subject.service.and_then(|svc| origin_of(svc, subject, &f)),
            };
            let target = format!("{GENERATED_DIR}/{}", object.path);
            report.diagnostics.push(to_diagnostic(f, origin, target));
        }
    }
}

/// Completes a report built in parts: the same finding in several environments
/// becomes one diagnostic, and everything is sorted.
pub fn finish(mut report: Report) -> Report {
    for list in report.waived.values_mut() {
        list.sort();
    }
    report.diagnostics = collapse::collapse_environments(report.diagnostics);
    crate::diagnostic::sort(&mut report.diagnostics);
    report
}

/// Schema findings (given), then semantics and policy of one object. A field the
/// schema already reported is not reported again by the semantic checks.
pub fn check_object(subject: &Subject, schema: Vec<Finding>) -> Vec<Finding> {
    let mut out = schema;
    let reported: Vec<String> = out.iter().map(|f| f.field.clone()).collect();
    out.extend(
        semantics::check(subject)
            .into_iter()
            .filter(|f| !reported.contains(&f.field)),
    );
    out.extend(policy::check(subject));
    out
}

/// Checks between the objects of one set (one environment, or the files given to
/// `kgen validate PATH`): duplicates, references, autoscaler conflicts. With
/// `complete`, the set is everything that will be applied, so a reference to an
/// object outside it is an error.
pub fn check_set(set: &[Subject], complete: bool) -> Vec<(usize, Finding)> {
    let index = SetIndex::new(set);
    let (mut out, policy) = rayon::join(
        || semantics::check_set(set, &index, complete),
        || policy::check_set(set, &index, complete),
    );
    out.extend(policy);
    out
}

/// Lookups into a set of objects, built once so that checks between objects stay
/// linear in the size of the set.
#[derive(Debug, Default)]
pub struct SetIndex<'a> {
    /// (kind, namespace, name) → the first object with that identity.
    objects: FastMap<(&'a str, &'a str, &'a str), usize>,
    /// (object, first object) for every later object with the same identity.
    pub duplicates: Vec<(usize, usize)>,
    /// Namespace → objects with a pod template.
    pub workloads: FastMap<&'a str, Vec<usize>>,
    /// Namespace → Services.
    pub services: FastMap<&'a str, Vec<usize>>,
    /// (kind, namespace, name) of a scaled workload → its autoscaler.
    scalers: FastMap<(&'a str, &'a str, &'a str), usize>,
}

impl<'a> SetIndex<'a> {
    pub fn new(set: &[Subject<'a>]) -> SetIndex<'a> {
        let mut index = SetIndex::default();
        for (i, s) in set.iter().enumerate() {
            let ns = s.namespace().unwrap_or("");
            if !s.kind().is_empty() && !s.name().is_empty() {
                match index.objects.entry((s.kind(), ns, s.name())) {
                    std::collections::hash_map::Entry::Occupied(first) => {
                        index.duplicates.push((i, *first.get()));
                    }
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(i);
                    }
                }
            }
            if semantics::pod_template(s).is_some() {
                index.workloads.entry(ns).or_default().push(i);
            }
            match (s.group(), s.kind()) {
                ("", "Service") => index.services.entry(ns).or_default().push(i),
                ("autoscaling", "HorizontalPodAutoscaler") => {
                    let target = s.value.get("spec").and_then(|sp| sp.get("scaleTargetRef"));
                    if let (Some(kind), Some(name)) = (
                        target.and_then(|t| str_at(t, "kind")),
                        target.and_then(|t| str_at(t, "name")),
                    ) {
                        index.scalers.insert((kind, ns, name), i);
                    }
                }
                _ => {}
            }
        }
        index
    }

    /// The first object with this kind, namespace and name.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<usize> {
        self.objects.get(&(kind, namespace, name)).copied()
    }

    /// The autoscaler that scales this workload.
    pub fn scaler(&self, kind: &str, namespace: &str, name: &str) -> Option<usize> {
        self.scalers.get(&(kind, namespace, name)).copied()
    }

    /// Objects with a pod template in a namespace.
    pub fn workloads(&self, namespace: &str) -> &[usize] {
        self.workloads.get(namespace).map_or(&[], Vec::as_slice)
    }

    /// Services in a namespace.
    pub fn services(&self, namespace: &str) -> &[usize] {
        self.services.get(namespace).map_or(&[], Vec::as_slice)
    }
}

/// Turns a finding into a diagnostic located at `origin`, targeting `file`.
pub fn to_diagnostic(f: Finding, origin: Option<Origin>, file: String) -> Diagnostic {
    Diagnostic {
        severity: f.severity,
        code: f.code,
        message: f.message,
        origin,
        label: f.label,
        help: f.help,
        target: Some(Target {
            file,
            field: if f.field.is_empty() {
                "(root)".into()
            } else {
                f.field
            },
        }),
        redact: f.redact,
        redact_line: false,
        envs: Vec::new(),
        note: None,
    }
}

/// The input location of a finding: the first of its keys the service has an origin
/// for, then the keys its field maps to ([`schema::origin_keys`]: a field of a
/// sidecar is under `sidecars.<name>`), else the service's table header.
fn origin_of(svc: &ServiceSpec, subject: &Subject, f: &Finding) -> Option<Origin> {
    f.keys
        .iter()
        .find_map(|k| svc.origins.get(k))
        .or_else(|| {
            schema::origin_keys(subject.value, subject.kind(), &f.field)
                .iter()
                .find_map(|k| svc.origins.get(k))
        })
        .or_else(|| svc.origins.get(SERVICE_ORIGIN))
        .cloned()
}

/// A hash map with a fast, non-cryptographic hasher (FxHash): the keys are names
/// from the objects being validated, and these maps are on the hot path of
/// validating thousands of objects.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The Fx hash of rustc (Firefox's hash): rotate, xor, multiply, per word.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    fn write_usize(&mut self, i: usize) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

// ---------------------------------------------------------------------------
// Small helpers over JSON values, shared by the checks
// ---------------------------------------------------------------------------

/// `v[key]` as a string.
pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `v[key]` as an array (empty when absent or not an array).
pub(crate) fn arr_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `v[key]` as an object.
pub(crate) fn map_at<'a>(v: &'a Value, key: &str) -> Option<&'a serde_json::Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

/// `v[key]` as an integer.
pub(crate) fn int_at(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// `v[key]` as a boolean.
pub(crate) fn bool_at(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

/// A scalar as the string Kubernetes would read (quantities may be numbers).
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_render_like_the_schema_validator() {
        let p = FieldPath::root()
            .key("spec")
            .key("containers")
            .index(0)
            .key("image");
        assert_eq!(p.as_str(), "spec.containers[0].image");
        let l = FieldPath::root()
            .key("metadata")
            .key("labels")
            .key("app.kubernetes.io/name");
        assert_eq!(l.as_str(), "metadata.labels[\"app.kubernetes.io/name\"]");
        assert_eq!(FieldPath::root().to_string(), "(root)");
    }

    #[test]
    fn waiver_problems() {
        assert_eq!(waiver_problem("KG202", "no HTTP endpoint"), None);
        let (part, msg, help) = waiver_problem("KG2O2", "x").unwrap();
        assert_eq!(part, WaiverPart::Rule);
        assert_eq!(msg, "waiver names `KG2O2`, which is not a kgen rule");
        assert!(help.starts_with("did you mean `KG202`?"), "{help}");
        let (part, msg, _) = waiver_problem("KG101", "x").unwrap();
        assert_eq!(part, WaiverPart::Rule);
        assert_eq!(
            msg,
            "KG101 cannot be waived: only policy rules (KG201-KG218) can"
        );
        let (part, msg, _) = waiver_problem("KG202", "  ").unwrap();
        assert_eq!(part, WaiverPart::Reason);
        assert_eq!(msg, "the waiver of KG202 has no reason");
    }

    #[test]
    fn one_line_reasons() {
        assert_eq!(one_line(" a\n  b\tc "), "a b c");
    }
}
