//! Hand-written manifests: where they live, how they are read and templated, and
//! where their objects go.
//!
//! ```text
//! manifests/
//!   _all/<service>/*.yaml                   every environment the service is enabled in
//!   <env>/<service>/*.yaml                  one environment
//!   clusters/<cluster>/<component>/*.yaml   once per cluster (the platform layer)
//! ```
//!
//! Each file is a YAML stream; every document is one object (a `v1 List` is its
//! items), read with its position so that every problem points at the file's line
//! and column. A file named `*.tmpl.yaml` is a template: each string value in it is
//! rendered like a string of platform.toml (same variables, same limits). Each object
//! goes to its own file, `manifest-<kind>-<name>.yaml`, in the service's directory
//! `generated/<env>/<service>/` (deployed by the service's Application) or in
//! `generated/clusters/<cluster>/<component>/` (deployed by the Application
//! `<cluster>-<component>`, which kgen writes), and is then validated, admitted and
//! emitted like kgen's own objects.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::render::Object;
use crate::rules;
use crate::source::{FileId, Origin};
use crate::spec::{ClusterSpec, EnvSpec, PlatformSpec, ServiceSpec};
use crate::template::Templates;
use crate::validate::{self, locate, FieldPath};
use crate::workspace::{Workspace, GENERATED_DIR};

use super::{ALL_ENVIRONMENTS, CLUSTERS, FILE_PREFIX, MANIFESTS_DIR};

/// Whether kgen reads a file under `manifests/` (by its name).
pub fn is_read(rel: &str) -> bool {
    rel.ends_with(".yaml") || rel.ends_with(".yml")
}

/// Whether a file is a template (`*.tmpl.yaml`, `*.tmpl.yml`).
pub fn is_template(rel: &str) -> bool {
    rel.ends_with(".tmpl.yaml") || rel.ends_with(".tmpl.yml")
}

/// One document of a hand-written file.
#[derive(Debug)]
pub struct Doc {
    pub file: FileId,
    /// The file's path, as shown (`manifests/_all/api/vpa.yaml`).
    pub display: String,
    /// Byte offset of the document in the file.
    pub start: usize,
    /// The document's text.
    pub text: String,
    /// Path of the object inside the document (`items[2]` for an item of a List).
    pub prefix: FieldPath,
    pub value: Value,
    pub template: bool,
}

impl Doc {
    /// Where `field` of the object is in the file: its value, or its key with `key_only`.
    pub fn origin(&self, field: &str, key_only: bool) -> Origin {
        let full = join(&self.prefix, field);
        let span = locate::locate(&self.text, &full, !key_only);
        Origin::new(self.file, self.start + span.start..self.start + span.end)
    }

    /// Where the value of `field` is, also when it is written on the lines after its
    /// key: for a value that must be masked (`locate::locate_value`).
    pub fn value_origin(&self, field: &str) -> Origin {
        let full = join(&self.prefix, field);
        let span = locate::locate_value(&self.text, &full);
        Origin::new(self.file, self.start + span.start..self.start + span.end)
    }

    /// Where `text` is in the value of `field` (one `objectName` of a block of YAML in
    /// a string): its first occurrence there, else the value.
    pub fn origin_within(&self, field: &str, text: &str) -> Origin {
        let value = self.value_origin(field);
        let span = value.span.start - self.start..value.span.end - self.start;
        match self.text.get(span.clone()).and_then(|v| v.find(text)) {
            Some(i) => Origin::new(
                self.file,
                value.span.start + i..value.span.start + i + text.len(),
            ),
            None => value,
        }
    }

    /// The whole document's first line.
    pub fn head(&self) -> Origin {
        self.origin("", true)
    }
}

/// `prefix.field` as one rendered path.
pub fn join(prefix: &FieldPath, field: &str) -> String {
    match (prefix.as_str(), field) {
        ("", f) => f.to_string(),
        (p, "") => p.to_string(),
        (p, f) if f.starts_with('[') => format!("{p}{f}"),
        (p, f) => format!("{p}.{f}"),
    }
}

/// Every hand-written document, by where it goes.
#[derive(Debug, Default)]
pub struct Catalog {
    /// (environment, or `_all`; service) → documents, in file order.
    pub services: BTreeMap<(String, String), Vec<Arc<Doc>>>,
    /// (cluster, component) → documents.
    pub clusters: BTreeMap<(String, String), Vec<Arc<Doc>>>,
}

impl Catalog {
    /// Places and reads every file of `ws.escape_hatch`; problems go to `diags`.
    pub fn read(ws: &Workspace, spec: &PlatformSpec, diags: &mut Vec<Diagnostic>) -> Catalog {
        let mut out = Catalog::default();
        let envs: Vec<&str> = ws.environment_names();
        let services: Vec<&str> = ws.service_names();
        let clusters: Vec<&str> = spec.clusters.iter().map(|c| c.name.as_str()).collect();
        let resolved: BTreeSet<&str> = spec.environments.iter().map(|e| e.name.as_str()).collect();
        for (rel, id) in &ws.escape_hatch.manifests {
            let at = Origin::new(*id, 0..0);
            let parts: Vec<&str> = rel.split('/').collect();
            let place_error = |message: String, help: String| {
                Diagnostic::error(rules::MANIFEST_PLACE, message)
                    .at(at.clone())
                    .help(help)
            };
            if rel.ends_with(".json") {
                diags.push(place_error(
                    format!("{rel}: hand-written manifests are YAML files"),
                    "rename it to `.yaml` (JSON is YAML): kgen reads `*.yaml` and `*.yml` under manifests/".into(),
                ));
                continue;
            }
            // manifests/<a>/<b>/<file> or manifests/clusters/<cluster>/<component>/<file>.
            let layout = "hand-written manifests go in manifests/<env>/<service>/, manifests/_all/<service>/ (every environment) or manifests/clusters/<cluster>/<component>/ (docs/escape-hatch.md)";
            let is_cluster = parts.get(1) == Some(&CLUSTERS);
            let depth = if is_cluster { 5 } else { 4 };
            if parts.len() != depth || parts[0] != MANIFESTS_DIR {
                diags.push(place_error(
                    format!("{rel} is not where kgen reads hand-written manifests"),
                    layout.into(),
                ));
                continue;
            }
            let docs = read_docs(ws, *id, rel, diags);
            if is_cluster {
                let (cluster, component) = (parts[2], parts[3]);
                if !clusters.contains(&cluster) {
                    diags.push(place_error(
                        format!("{rel}: there is no cluster `{cluster}`"),
                        unknown(cluster, &clusters, "clusters"),
                    ));
                    continue;
                }
                if let Some(problem) = component_problem(spec, cluster, component) {
                    diags.push(place_error(format!("{rel}: {problem}"), "choose another directory name for the component, e.g. `extras`; kgen writes the Application `<cluster>-<component>` for it".into()));
                    continue;
                }
                out.clusters
                    .entry((cluster.to_string(), component.to_string()))
                    .or_default()
                    .extend(docs);
                continue;
            }
            let (env, service) = (parts[1], parts[2]);
            if env != ALL_ENVIRONMENTS && !envs.contains(&env) {
                let mut known = envs.clone();
                known.push(ALL_ENVIRONMENTS);
                let hint = did_you_mean(env, known.iter().copied())
                    .map(|s| format!("{s} "))
                    .unwrap_or_default();
                diags.push(place_error(
                    format!("{rel}: there is no environment `{env}`"),
                    format!(
                        "{hint}known environments: {}; or `{MANIFESTS_DIR}/{ALL_ENVIRONMENTS}/<service>/` for every environment",
                        envs.join(", ")
                    ),
                ));
                continue;
            }
            if !services.contains(&service) {
                diags.push(place_error(
                    format!("{rel}: there is no service `{service}`"),
                    unknown(service, &services, "services"),
                ));
                continue;
            }
            if env != ALL_ENVIRONMENTS && resolved.contains(env) {
                let enabled = spec
                    .environments
                    .iter()
                    .find(|e| e.name == env)
                    .is_some_and(|e| e.services.iter().any(|s| s.name == service));
                if !enabled {
                    diags.push(place_error(
                        format!("{rel}: service `{service}` is not enabled in environment `{env}`, so nothing would deploy it"),
                        "remove the file, or enable the service in the environment".into(),
                    ));
                    continue;
                }
            }
            out.services
                .entry((env.to_string(), service.to_string()))
                .or_default()
                .extend(docs);
        }
        out
    }

    /// The documents of `service` in `env`: every environment's, then the environment's own.
    pub fn of_service<'a>(
        &'a self,
        env: &str,
        service: &str,
    ) -> impl Iterator<Item = &'a Arc<Doc>> {
        let all = self
            .services
            .get(&(ALL_ENVIRONMENTS.to_string(), service.to_string()));
        let own = self.services.get(&(env.to_string(), service.to_string()));
        all.into_iter().chain(own).flatten()
    }
}

/// The environment (or `_all`) and service whose hand-written manifest the file
/// `file` is (`manifests/<env>/<service>/...`), if it is one.
pub fn place_of(ws: &Workspace, file: FileId) -> Option<(&str, &str)> {
    let (rel, _) = ws
        .escape_hatch
        .manifests
        .iter()
        .find(|(_, id)| *id == file)?;
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        [MANIFESTS_DIR, env, service, _] if *env != CLUSTERS => Some((env, service)),
        _ => None,
    }
}

/// The service whose hand-written manifest the file `file` is, if it is one.
pub fn service_of(ws: &Workspace, file: FileId) -> Option<&str> {
    place_of(ws, file).map(|(_, service)| service)
}

/// Why `component` cannot be a hand-written component of `cluster`, if it cannot.
fn component_problem(spec: &PlatformSpec, cluster: &str, component: &str) -> Option<String> {
    if crate::names::check_dns1123_label(component).is_err() {
        return Some(format!(
            "`{component}` cannot name a component: it names the Application `{cluster}-{component}`, so it must be a DNS-1123 label"
        ));
    }
    let c = spec.cluster(cluster)?;
    let mut taken: Vec<String> = vec![
        crate::render::NAMESPACES_COMPONENT.into(),
        crate::render::monitoring::DIR.into(),
        crate::render::baseline::CORE.into(),
        crate::render::baseline::CUSTOM.into(),
        "bootstrap".into(),
    ];
    taken.extend(c.addons.iter().map(|a| a.name.clone()));
    taken
        .contains(&component.to_string())
        .then(|| format!("kgen writes the component `{component}` of cluster `{cluster}` itself"))
}

fn unknown(name: &str, known: &[&str], what: &str) -> String {
    let hint = did_you_mean(name, known.iter().copied())
        .map(|s| format!("{s} "))
        .unwrap_or_default();
    format!("{hint}known {what}: {}", known.join(", "))
}

/// The documents of one file (YAML problems go to `diags`).
fn read_docs(ws: &Workspace, id: FileId, rel: &str, diags: &mut Vec<Diagnostic>) -> Vec<Arc<Doc>> {
    crate::manifest_docs::read(id, &ws.sources.get(id).text, diags)
        .into_iter()
        .map(|d| {
            Arc::new(Doc {
                file: id,
                display: rel.to_string(),
                start: d.start,
                text: d.text.to_string(),
                prefix: d.prefix,
                value: d.value,
                template: is_template(rel),
            })
        })
        .collect()
}

/// One hand-written object, ready for validation.
#[derive(Debug)]
pub struct Placed {
    pub object: Object,
    pub doc: Arc<Doc>,
    /// The inputs named in its file's header.
    pub inputs: Vec<String>,
}

/// Where the objects of one place go, and what they are rendered with.
pub struct Destination<'a> {
    /// Directory under `generated/`.
    pub dir: String,
    pub env: Option<&'a EnvSpec>,
    pub service: Option<&'a ServiceSpec>,
    pub cluster: &'a ClusterSpec,
    /// Template variables.
    pub context: minijinja::Value,
    /// Inputs its files are rendered from (besides the hand-written file).
    pub inputs: Vec<String>,
}

/// The template variables of a service in an environment: those of platform.toml's
/// strings.
pub fn service_context(
    spec: &PlatformSpec,
    env: &EnvSpec,
    cluster: &ClusterSpec,
    service: &str,
) -> minijinja::Value {
    let namespaces: BTreeMap<String, minijinja::Value> = env
        .services
        .iter()
        .map(|s| (s.name.clone(), minijinja::Value::from(s.namespace.clone())))
        .collect();
    minijinja::context! {
        service => service,
        env => crate::resolve::env_context(env),
        cluster => crate::resolve::cluster_context(cluster),
        namespaces => minijinja::Value::from(namespaces),
        platform => platform_context(spec),
    }
}

/// The template variables of a cluster's own files: `cluster` and `platform`.
pub fn cluster_context(spec: &PlatformSpec, cluster: &ClusterSpec) -> minijinja::Value {
    minijinja::context! {
        cluster => crate::resolve::cluster_context(cluster),
        platform => platform_context(spec),
    }
}

fn platform_context(spec: &PlatformSpec) -> minijinja::Value {
    minijinja::context! {
        name => spec.name.clone(),
        repo => spec.repo.clone(),
        registry => spec.registry.clone(),
    }
}

/// The objects of `docs` for one destination; problems go to `diags`.
pub fn place(
    docs: &[&Arc<Doc>],
    to: &Destination,
    templates: &Templates,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Placed> {
    let mut out: Vec<Placed> = Vec::new();
    // Each file written, and the hand-written file its object came from.
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    for doc in docs {
        let mut value = doc.value.clone();
        if doc.template {
            let mut failed = false;
            render_strings(
                &mut value,
                &FieldPath::root(),
                doc,
                templates,
                &to.context,
                diags,
                &mut failed,
            );
            if failed {
                continue;
            }
        }
        let Some(identity) = identity(&value, doc, diags) else {
            continue;
        };
        let (group, kind, name) = identity;
        let cluster_scoped = super::schema::is_cluster_scoped(&group, &kind);
        let has_namespace = value["metadata"].get("namespace").is_some();
        match to.service {
            Some(svc) if !cluster_scoped && !has_namespace => {
                value["metadata"]["namespace"] = Value::String(svc.namespace.clone());
            }
            None if !cluster_scoped && !has_namespace && is_core_namespaced(&value) => {
                diags.push(
                    Diagnostic::error(
                        rules::MANIFEST_OBJECT,
                        format!("{kind} `{name}` is namespaced, but has no `metadata.namespace`"),
                    )
                    .at(doc.origin("metadata", true))
                    .help("a cluster's component has no namespace of its own: write the namespace of each namespaced object"),
                );
                continue;
            }
            _ => {}
        }
        if !secret_free(&value, &group, &kind, &name, doc, diags) {
            continue;
        }
        check_waivers(&value, doc, diags);
        let file = format!("{FILE_PREFIX}{}-{}.yaml", kind.to_lowercase(), name);
        let path = format!("{}/{file}", to.dir);
        if let Some(first) = paths.get(&path) {
            diags.push(
                Diagnostic::error(
                    rules::MANIFEST_OBJECT,
                    format!("two hand-written objects would be written to one file: a {kind} named `{name}` is already defined"),
                )
                .at(doc.origin("metadata.name", false))
                .target(format!("{GENERATED_DIR}/{path}"), "metadata.name")
                .help(format!("kgen writes each hand-written object to `manifest-<kind>-<name>.yaml`; rename one of them (the other is in {first})")),
            );
            continue;
        }
        paths.insert(path.clone(), doc.display.clone());
        let object = match to.env {
            Some(env) => Object {
                env: env.name.clone(),
                per_cluster: false,
                path,
                service: to.service.map(|s| s.name.clone()),
                value,
            },
            None => Object {
                env: to.cluster.name.clone(),
                per_cluster: true,
                path,
                service: None,
                value,
            },
        };
        let mut inputs = vec![doc.display.clone()];
        if doc.template || to.service.is_some() {
            inputs.extend(to.inputs.iter().cloned());
        }
        out.push(Placed {
            object,
            doc: Arc::clone(doc),
            inputs,
        });
    }
    out
}

/// Whether an object's kind is a core namespaced kind kgen knows.
fn is_core_namespaced(value: &Value) -> bool {
    let api = value["apiVersion"].as_str().unwrap_or("");
    let kind = value["kind"].as_str().unwrap_or("");
    crate::validate::schema::builtin(api, kind)
        .is_some_and(|b| b.source == crate::validate::schema::Source::Core)
}

/// (group, kind, name) of a hand-written object, or why it has none (KG041).
fn identity(
    value: &Value,
    doc: &Doc,
    diags: &mut Vec<Diagnostic>,
) -> Option<(String, String, String)> {
    let api = value.get("apiVersion").and_then(Value::as_str);
    let kind = value.get("kind").and_then(Value::as_str);
    let (Some(api), Some(kind)) = (api, kind) else {
        let missing = if api.is_none() { "apiVersion" } else { "kind" };
        diags.push(
            Diagnostic::error(
                rules::MANIFEST_OBJECT,
                format!("this object has no `{missing}` string, so kgen cannot place it"),
            )
            .at(doc.head())
            .help("every Kubernetes object names its `apiVersion` and `kind`, e.g. `apiVersion: autoscaling.k8s.io/v1` and `kind: VerticalPodAutoscaler`"),
        );
        return None;
    };
    let meta = value.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str);
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        let generate = meta.and_then(|m| m.get("generateName")).is_some();
        let mut d = Diagnostic::error(
            rules::MANIFEST_OBJECT,
            format!("this {kind} has no `metadata.name`"),
        )
        .at(if meta.is_some() {
            doc.origin("metadata", true)
        } else {
            doc.head()
        });
        d = d.help(if generate {
            "Argo CD cannot track an object named by `generateName` (each sync would create another): give it a fixed `metadata.name`"
        } else {
            "name the object (`metadata.name`): kgen writes it to `manifest-<kind>-<name>.yaml`"
        });
        diags.push(d);
        return None;
    };
    if crate::names::check_dns1123_subdomain(name).is_err() {
        diags.push(
            Diagnostic::error(
                rules::MANIFEST_OBJECT,
                format!("`{name}` is not a valid object name (a DNS-1123 subdomain), so kgen cannot name its file after it"),
            )
            .at(doc.origin("metadata.name", false))
            .help("use lower-case letters, digits, `-` and `.`"),
        );
        return None;
    }
    if !kind.chars().all(|c| c.is_ascii_alphanumeric()) || kind.is_empty() {
        diags.push(
            Diagnostic::error(rules::MANIFEST_OBJECT, format!("`{kind}` is not a kind"))
                .at(doc.origin("kind", false))
                .help("a kind is a CamelCase word, e.g. `VerticalPodAutoscaler`"),
        );
        return None;
    }
    let group = api.rsplit_once('/').map_or("", |(g, _)| g).to_string();
    Some((group, kind.to_string(), name.to_string()))
}

/// Renders every templated string of `value` (at `path`) with `ctx`.
fn render_strings(
    value: &mut Value,
    path: &FieldPath,
    doc: &Doc,
    templates: &Templates,
    ctx: &minijinja::Value,
    diags: &mut Vec<Diagnostic>,
    failed: &mut bool,
) {
    match value {
        Value::String(s) if Templates::is_template(s) => match templates.render(s, ctx) {
            Ok(r) => {
                if crate::secret_scan::scan("", &r).is_some() {
                    let what = crate::secret_scan::scan("", &r).map_or("", |f| f.what);
                    diags.push(
                        Diagnostic::error(
                            rules::SECRET_LITERAL,
                            format!("this template renders to what looks like a secret ({what}); kgen refuses secrets in plain text"),
                        )
                        .at(doc.value_origin(path.as_str()))
                        .redacted()
                        .help("keep secrets in AWS Secrets Manager or SSM and reference them (an ExternalSecret, a SecretProviderClass); see docs/security.md#secrets"),
                    );
                    *failed = true;
                }
                *s = r;
            }
            Err(e) => {
                diags.push(
                    Diagnostic::error(rules::TEMPLATE, e.message)
                        .at(doc.origin(path.as_str(), false))
                        .help("templates in hand-written manifests see what platform.toml's strings see: `service`, `env.name`, `env.<var>`, `cluster.name`, `cluster.<var>`, `namespaces['<service>']`, `platform.name` (a cluster's component: `cluster` and `platform` only)"),
                );
                *failed = true;
            }
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                render_strings(item, &path.index(i), doc, templates, ctx, diags, failed);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                render_strings(v, &path.key(k), doc, templates, ctx, diags, failed);
            }
        }
        _ => {}
    }
}

/// Refuses a Secret with data (KG042) and secret-looking literals anywhere else
/// (KG010), both in one run: false when the object must not be written.
fn secret_free(
    value: &Value,
    group: &str,
    kind: &str,
    name: &str,
    doc: &Doc,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    // Fields not scanned for KG010: a refused Secret's data (KG042 already says it
    // all), a SealedSecret's `spec.encryptedData` (ciphertext, random by design and
    // safe to commit).
    let mut skipped: Vec<&[&str]> = Vec::new();
    let mut refused = false;
    if group.is_empty() && kind == "Secret" {
        let has = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
        };
        if let Some(section) = ["data", "stringData"].into_iter().find(|k| has(k)) {
            let d = Diagnostic::error(
                rules::PLAIN_SECRET,
                format!("Secret `{name}` holds data in `{section}`: a secret committed to git is no secret (base64 is not encryption)"),
            )
            .help("keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) instead, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets");
            // At the key, whose line shows no value; in flow style (`stringData:
            // {password: ...}`) the values are on the key's line: then at them, masked.
            let key = doc.origin(section, true);
            let values = doc.origin(section, false);
            diags.push(if values.span == key.span {
                d.at(key)
            } else {
                d.at(values).redacted().label("the Secret's data")
            });
            refused = true;
            skipped.extend([&["data"][..], &["stringData"][..]]);
        }
    }
    if group == "bitnami.com" && kind == "SealedSecret" {
        skipped.push(&["spec", "encryptedData"]);
    }
    let trimmed;
    let value = if skipped.is_empty() {
        value
    } else {
        let mut v = value.clone();
        for path in &skipped {
            let (last, parents) = path.split_last().expect("a path has a field");
            let parent = parents
                .iter()
                .try_fold(&mut v, |v, k| v.get_mut(*k))
                .and_then(Value::as_object_mut);
            if let Some(parent) = parent {
                parent.remove(*last);
            }
        }
        trimmed = v;
        &trimmed
    };
    let mut found = Vec::new();
    scan(value, &FieldPath::root(), &mut found);
    for (field, what) in &found {
        diags.push(
            Diagnostic::error(
                rules::SECRET_LITERAL,
                format!("`{field}` looks like it holds a secret ({what}); kgen refuses secrets in plain text"),
            )
            .at(doc.value_origin(field))
            .redacted()
            .label("secret-looking value")
            .help("keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) beside this manifest to bring it in, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets"),
        );
    }
    !refused && found.is_empty()
}

/// Secret-looking strings of `value`: by their shape everywhere, and by the key they
/// are stored under (`password`, `acme.com/api-token`, a ConfigMap's `data` key, the
/// `name` of a `{ name, value }` pair such as a container's environment variable),
/// as `secret_scan::scan` judges the `env`, `config` and `vars` of platform.toml: a
/// reference (`existingSecret`, `secretName`, `passwordFile`), an empty string, a
/// template or placeholder, a boolean or a number passes. An array's strings are
/// under the array's key.
pub(crate) fn scan(value: &Value, path: &FieldPath, out: &mut Vec<(String, &'static str)>) {
    scan_under("", value, path, out);
}

/// Keys whose value names a key of a Secret rather than holding a secret: an
/// ExternalSecret's `spec.data[].secretKey` (external-secrets `ExternalSecretData`,
/// "the key in the Kubernetes Secret to store the value": `DB_PASSWORD`).
const SECRET_KEY_NAMES: &[&str] = &["secretKey"];

fn scan_under(key: &str, value: &Value, path: &FieldPath, out: &mut Vec<(String, &'static str)>) {
    if let Value::Object(map) = value {
        let name = map.get("name").and_then(Value::as_str);
        let literal = map.get("value").and_then(Value::as_str);
        if let (Some(n), Some(v)) = (name, literal) {
            if crate::secret_scan::scan("", v).is_none() {
                if let Some(f) = crate::secret_scan::scan(n, v) {
                    out.push((path.key("value").as_str().to_string(), f.what));
                }
            }
        }
    }
    match value {
        Value::String(s) => {
            let key = if SECRET_KEY_NAMES.contains(&key) {
                ""
            } else {
                key
            };
            if let Some(f) = crate::secret_scan::scan(key, s) {
                out.push((path.as_str().to_string(), f.what));
            }
        }
        Value::Array(items) => {
            let before = out.len();
            for (i, item) in items.iter().enumerate() {
                scan_under(key, item, &path.index(i), out);
            }
            // An argument judged by the flag before it (`["--password", "hunter2"]`).
            for (i, f) in crate::secret_scan::scan_flag_values(items.iter().map(Value::as_str)) {
                let at = path.index(i).as_str().to_string();
                if out[before..].iter().all(|(p, _)| *p != at) {
                    out.push((at, f.what));
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                scan_under(k, v, &path.key(k), out);
            }
        }
        _ => {}
    }
}

/// KG200 for every malformed `kgen.dev/waive-<RULE>` annotation.
fn check_waivers(value: &Value, doc: &Doc, diags: &mut Vec<Diagnostic>) {
    for (rule, reason, key) in validate::annotation_waivers(value) {
        if let Some((_, message, help)) = validate::waiver_problem(&rule, &reason) {
            let field = FieldPath::root()
                .key("metadata")
                .key("annotations")
                .key(&key);
            diags.push(
                Diagnostic::error(rules::WAIVER, message)
                    .at(doc.origin(field.as_str(), false))
                    .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found(v: Value) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        scan(&v, &FieldPath::root(), &mut out);
        out
    }

    #[test]
    fn strings_are_judged_by_their_key_and_references_pass() {
        assert_eq!(
            found(json!({"spec": {"db_password": "xK9#mP2$vL5q", "tokens": ["t0ken-Literal-99"]}})),
            vec![("spec.db_password".to_string(), "a literal password")]
        );
        // An ExternalSecret names the keys of the Secret it writes, and the secrets it
        // reads: no value is a secret.
        assert_eq!(
            found(
                json!({"spec": {"data": [{"secretKey": "DB_PASSWORD", "remoteRef": {"key": "prod/api/db", "property": "password"}}]}})
            ),
            vec![]
        );
        assert_eq!(
            found(
                json!({"spec": {"existingSecret": "grafana-admin", "passwordSecretRef": {"name": "db", "key": "password"}, "password": "", "adminPassword": "{{ .password }}", "apiToken": true, "pin_password": 1234}})
            ),
            vec![]
        );
    }
}
