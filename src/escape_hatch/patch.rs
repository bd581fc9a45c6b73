//! Patches on kgen's rendered objects: JSON merge patches (RFC 7386) and JSON
//! Patches (RFC 6902), written in TOML or as YAML files, per service and environment.
//!
//! A service's patches come from its layers (`[defaults]` < `[services.<name>]` < the
//! overlay's `[services.<name>]`), merged by name like sidecars ([`resolve`]). They
//! apply after rendering and before validation, in name order, to the service's own
//! objects of the patch's `kind` (and `name`), with the `json-patch` crate ([`apply`]).
//! Three things are errors, located at the patch: a patch that matches no object
//! (KG043; a `[defaults]` patch only when it matches nothing in any service), an
//! operation that does not apply (KG044), and a patch that touches a field kgen owns
//! (KG045): the object's identity, a selector, the labels kgen set, the image of a
//! container kgen rendered (what `bump-image` manages).

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::Value;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::input::{PatchLayer, ServiceLayer};
use crate::merge::Layers;
use crate::render::Object;
use crate::rules;
use crate::source::{FileId, Origin, Sources};
use crate::validate::FieldPath;
use crate::workspace::Workspace;

/// What a patch does.
#[derive(Debug, Clone)]
pub enum Body {
    /// RFC 7386.
    Merge(Value),
    /// RFC 6902: the operations as written (each checked to be one), and parsed.
    Json(Vec<Value>, Vec<json_patch::PatchOperation>),
}

/// Where a patch's body was written, to point at a part of it.
#[derive(Debug, Clone)]
pub enum BodyAt {
    /// In a TOML file, at this key path (`services.api.patches.waf.merge`).
    Toml { file: FileId, keys: Vec<Seg> },
    /// A whole YAML file.
    Yaml { file: FileId },
}

/// A segment of a path into TOML or YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// One resolved patch of a service in an environment.
#[derive(Debug, Clone)]
pub struct Patch {
    pub name: String,
    pub kind: String,
    pub target: Option<String>,
    pub body: Body,
    pub at: BodyAt,
    /// The patch's `kind` (or its table, when `kind` is missing).
    pub kind_origin: Origin,
    /// From `[defaults]`: it may match nothing in some services.
    pub from_defaults: bool,
    /// The file the body is in, for the header of patched files.
    pub source: String,
}

impl Patch {
    /// Where `segs` (a path inside the body) is written: its key, or for a JSON
    /// Patch operation's field, its value.
    pub fn origin(&self, sources: &Sources, segs: &[Seg]) -> Origin {
        match &self.at {
            BodyAt::Toml { file, keys } => {
                let mut all = keys.clone();
                all.extend_from_slice(segs);
                let text = &sources.get(*file).text;
                let span = toml_span(text, &all).unwrap_or(self.kind_origin.span.clone());
                Origin::new(*file, span)
            }
            BodyAt::Yaml { file } => {
                let text = &sources.get(*file).text;
                let path = segs.iter().fold(FieldPath::root(), |p, s| match s {
                    Seg::Key(k) => p.key(k),
                    Seg::Index(i) => p.index(*i),
                });
                let value = matches!(segs.last(), Some(Seg::Key(k)) if k == "path" || k == "from");
                let span = crate::validate::locate::locate(text, path.as_str(), value);
                Origin::new(*file, span)
            }
        }
    }

    /// Where the value at `segs` (a path inside the body) is written.
    pub fn value_origin(&self, sources: &Sources, segs: &[Seg]) -> Origin {
        match &self.at {
            BodyAt::Toml { file, keys } => {
                let mut all = keys.clone();
                all.extend_from_slice(segs);
                let text = &sources.get(*file).text;
                let span = toml_span_at(text, &all, true).unwrap_or(self.kind_origin.span.clone());
                Origin::new(*file, span)
            }
            BodyAt::Yaml { file } => {
                let text = &sources.get(*file).text;
                let span = crate::validate::locate::locate_value(text, &yaml_path(segs));
                Origin::new(*file, span)
            }
        }
    }

    fn describe(&self) -> &'static str {
        match self.body {
            Body::Merge(_) => "JSON merge patch",
            Body::Json(..) => "JSON Patch",
        }
    }
}

/// The patches of `service` in `env` (in name order); problems go to `diags`.
pub fn resolve(
    ws: &Workspace,
    env: &str,
    service: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Patch> {
    let pf = ws.platform_file;
    let mut layers: Layers<ServiceLayer> = Layers::new();
    if let Some(d) = &ws.platform.defaults {
        layers.push_base(pf, &d.value);
    }
    let Some(svc) = ws.platform.services.get(service) else {
        return Vec::new();
    };
    layers.push(pf, &svc.value);
    if let Some(o) = ws.overlays.get(env) {
        if let Some(l) = o.data.services.get(service) {
            layers.push(o.file, &l.value);
        }
    }
    let mut out = Vec::new();
    for (name, (key_origin, entry)) in layers.entries(|l| Some(&l.patches)) {
        if entry
            .pick(|p| p.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            continue;
        }
        let kind = entry.pick(|p| p.kind.as_ref());
        let Some(kind) = kind else {
            diags.push(
                Diagnostic::error(rules::PATCH_INVALID, format!("patch `{name}` has no `kind`"))
                    .at(key_origin.clone())
                    .help("name the kind of the objects it patches, e.g. `kind = \"Ingress\"` (and `name`, when the service has several)"),
            );
            continue;
        };
        let has_body = |p: &PatchLayer| p.merge.is_some() || p.json.is_some() || p.file.is_some();
        let Some((file, layer, base)) = entry.highest(has_body) else {
            diags.push(
                Diagnostic::error(
                    rules::PATCH_INVALID,
                    format!("patch `{name}` has no `merge`, `json` or `file`: it changes nothing"),
                )
                .at(key_origin.clone())
                .help("give it a JSON merge patch (`merge = { ... }`), a JSON Patch (`json = [{ op = ..., path = ... }]`) or a YAML file of either (`file = \"patches/x.yaml\"`)"),
            );
            continue;
        };
        let set = [
            layer.merge.is_some(),
            layer.json.is_some(),
            layer.file.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        let prefix: Vec<Seg> = if base {
            ["defaults", "patches", name]
                .iter()
                .map(|s| Seg::Key(s.to_string()))
                .collect()
        } else {
            ["services", service, "patches", name]
                .iter()
                .map(|s| Seg::Key(s.to_string()))
                .collect()
        };
        let layer_origin = |span: &Range<usize>| Origin::new(file, span.clone());
        if set > 1 {
            let span = layer
                .json
                .as_ref()
                .map(|j| j.span.clone())
                .or_else(|| layer.file.as_ref().map(|f| f.span.clone()))
                .unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    rules::PATCH_INVALID,
                    format!("patch `{name}` sets more than one of `merge`, `json` and `file`"),
                )
                .at(layer_origin(&span))
                .help("one patch is one merge patch, one JSON Patch or one file: split it into two patches"),
            );
            continue;
        }
        let shown = ws.sources.get(file).display.clone();
        let (body, at, source) = if let Some(m) = &layer.merge {
            if !m.value.is_object() {
                diags.push(
                    Diagnostic::error(rules::PATCH_INVALID, format!("the merge patch `{name}` is not a table"))
                        .at(layer_origin(&m.span))
                        .help("a merge patch on an object is a table of the fields it sets: `merge = { metadata = { annotations = { ... } } }`"),
                );
                continue;
            }
            let mut keys = prefix.clone();
            keys.push(Seg::Key("merge".into()));
            (
                Body::Merge(m.value.clone()),
                BodyAt::Toml { file, keys },
                shown,
            )
        } else if let Some(j) = &layer.json {
            let mut keys = prefix.clone();
            keys.push(Seg::Key("json".into()));
            let at = BodyAt::Toml { file, keys };
            let ops: Vec<Value> = j.value.iter().map(|o| o.value.clone()).collect();
            match parse_ops(&ops) {
                Ok(parsed) => (Body::Json(ops, parsed), at, shown),
                Err((i, e)) => {
                    let origin = Origin::new(file, j.value[i].span.clone());
                    diags.push(malformed(name, i, &e, origin));
                    continue;
                }
            }
        } else {
            let f = layer.file.as_ref().expect("one of the three is set");
            let origin = layer_origin(&f.span);
            let Some(rel) = super::files::inside(&f.value) else {
                diags.push(
                    Diagnostic::error(
                        rules::PATCH_INVALID,
                        format!(
                            "patch file `{}` is not a path inside the platform directory",
                            f.value
                        ),
                    )
                    .at(origin)
                    .help(
                        "write it relative to platform.toml, without `..`, e.g. `patches/waf.yaml`",
                    ),
                );
                continue;
            };
            let Some(&id) = ws.escape_hatch.patch_files.get(&rel) else {
                diags.push(
                    Diagnostic::error(
                        rules::PATCH_INVALID,
                        format!("patch file `{}` does not exist", f.value),
                    )
                    .at(origin)
                    .help("the path is relative to platform.toml's directory"),
                );
                continue;
            };
            let text = &ws.sources.get(id).text;
            let value: Value = match serde_norway::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    let at = e.location().map_or(0, |l| l.index()).min(text.len());
                    let mut message = e.to_string();
                    if let Some(i) = message.find(" at line ") {
                        message.truncate(i);
                    }
                    diags.push(
                        Diagnostic::error(rules::YAML, format!("not valid YAML: {message}"))
                            .at(Origin::new(id, at..at + 1)),
                    );
                    continue;
                }
            };
            let at = BodyAt::Yaml { file: id };
            let source = ws.sources.get(id).display.clone();
            match value {
                Value::Object(_) => (Body::Merge(value), at, source),
                Value::Array(ops) => match parse_ops(&ops) {
                    Ok(parsed) => (Body::Json(ops, parsed), at, source),
                    Err((i, e)) => {
                        let span = crate::validate::locate::locate(text, &format!("[{i}]"), false);
                        diags.push(malformed(name, i, &e, Origin::new(id, span)));
                        continue;
                    }
                },
                _ => {
                    diags.push(
                        Diagnostic::error(rules::PATCH_INVALID, format!("patch file `{}` holds neither a mapping (a JSON merge patch) nor a list (a JSON Patch)", f.value))
                            .at(Origin::new(id, 0..0))
                            .help("write the fields to set as a YAML mapping, or a list of `op`/`path`/`value` operations"),
                    );
                    continue;
                }
            }
        };
        let patch = Patch {
            name: name.to_string(),
            kind: kind.value.clone(),
            target: entry.pick(|p| p.name.as_ref()).map(|n| n.value.clone()),
            body,
            at,
            kind_origin: kind.origin.clone(),
            from_defaults: base,
            source,
        };
        // Secret-looking values: by their shape (the TOML files were scanned so before
        // they were read; a YAML patch file here), and an environment variable's by
        // its name (`{ name = "DB_PASSWORD", value = "..." }`).
        let mut found = Vec::new();
        match &patch.body {
            Body::Merge(m) => secrets_in(m, &mut Vec::new(), &mut found),
            Body::Json(ops, _) => {
                for (i, op) in ops.iter().enumerate() {
                    secrets_in(op, &mut vec![Seg::Index(i)], &mut found);
                }
            }
        }
        if !found.is_empty() {
            for (segs, what) in found {
                diags.push(
                    Diagnostic::error(
                        rules::SECRET_LITERAL,
                        format!("a value of patch `{name}` looks like a secret ({what}); kgen refuses secrets in plain text"),
                    )
                    .at(patch.value_origin(&ws.sources, &segs))
                    .redacted()
                    .label("secret-looking value")
                    .help("keep the value in AWS Secrets Manager or SSM and reference it (the service's `secrets`, an ExternalSecret, a SecretProviderClass); see docs/security.md#secrets"),
                );
            }
            continue;
        }
        // kgen does not template patches: a `{{ env.x }}` reaches the cluster as is.
        let mut templated = Vec::new();
        match &patch.body {
            Body::Merge(m) => kgen_templates_in(m, &mut Vec::new(), &mut templated),
            Body::Json(ops, _) => {
                for (i, op) in ops.iter().enumerate() {
                    kgen_templates_in(op, &mut vec![Seg::Index(i)], &mut templated);
                }
            }
        }
        for segs in templated {
            diags.push(
                Diagnostic::warning(
                    rules::PATCH_INVALID,
                    format!("a value of patch `{name}` holds a kgen template variable, which kgen does not expand: patch values are literal and reach the cluster as written"),
                )
                .at(patch.value_origin(&ws.sources, &segs))
                .help("write the value itself; for a value per environment, put the patch (or only its value) in each environment's overlay under `[services.<name>.patches.<patch>]`"),
            );
        }
        out.push(patch);
    }
    out
}

/// The strings of `v` that use one of kgen's template variables (`{{ env.x }}`,
/// `{{ cluster.name }}`, ...): other `{{ }}` (a PrometheusRule's `{{ $labels.x }}`, a
/// Helm-style annotation) are the object's own.
fn kgen_templates_in(v: &Value, segs: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    const VARIABLES: &[&str] = &["env", "cluster", "service", "platform", "namespaces"];
    match v {
        Value::String(s) => {
            let uses = s.match_indices("{{").any(|(i, _)| {
                let rest = s[i + 2..].trim_start();
                VARIABLES.iter().any(|var| {
                    rest.strip_prefix(var).is_some_and(|after| {
                        !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
                })
            });
            if uses {
                out.push(segs.clone());
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                segs.push(Seg::Index(i));
                kgen_templates_in(item, segs, out);
                segs.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                segs.push(Seg::Key(k.clone()));
                kgen_templates_in(item, segs, out);
                segs.pop();
            }
        }
        _ => {}
    }
}

fn malformed(name: &str, i: usize, e: &str, origin: Origin) -> Diagnostic {
    Diagnostic::error(
        rules::PATCH_FAILED,
        format!("operation {i} of JSON Patch `{name}` is not a JSON Patch operation: {e}"),
    )
    .at(origin)
    .help("an operation is `{ op = \"add\" | \"remove\" | \"replace\" | \"move\" | \"copy\" | \"test\", path = \"/a/b\", ... }` (RFC 6902): `value` for add, replace and test, `from` for move and copy")
}

fn parse_ops(ops: &[Value]) -> Result<Vec<json_patch::PatchOperation>, (usize, String)> {
    ops.iter()
        .enumerate()
        .map(|(i, o)| serde_json::from_value(o.clone()).map_err(|e| (i, e.to_string())))
        .collect()
}

/// What patches did to one object: for its header, and to point its findings at them.
#[derive(Debug, Clone, Default)]
pub struct Patched {
    /// `name (file)` of each patch applied.
    pub applied: Vec<String>,
    /// Fields the patches set (rendered paths) and where each was written.
    pub fields: Vec<(String, Origin)>,
}

/// Applies `patches` to the rendered `objects` of one service. Returns what was
/// patched, by object path; `matched` counts the objects each `[defaults]` patch
/// matched (by its kind's origin), for [`unmatched_defaults`].
pub fn apply(
    patches: &[Patch],
    objects: &mut [Object],
    sources: &Sources,
    env: &str,
    service: &str,
    matched: &mut Vec<(Origin, String, usize)>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Patched> {
    let mut out: BTreeMap<String, Patched> = BTreeMap::new();
    for patch in patches {
        let targets: Vec<usize> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.kind() == patch.kind
                    && patch
                        .target
                        .as_deref()
                        .is_none_or(|n| o.value["metadata"]["name"].as_str() == Some(n))
            })
            .map(|(i, _)| i)
            .collect();
        if patch.from_defaults {
            let key = (patch.kind_origin.clone(), patch.name.clone());
            match matched
                .iter_mut()
                .find(|(o, n, _)| (o, n) == (&key.0, &key.1))
            {
                Some(m) => m.2 += targets.len(),
                None => matched.push((key.0, key.1, targets.len())),
            }
        }
        if targets.is_empty() {
            if !patch.from_defaults {
                let present: Vec<String> = objects
                    .iter()
                    .filter(|o| !o.kind().is_empty())
                    .map(|o| match o.kind() {
                        // Named after the environment: the same list in every one.
                        "Namespace" => "Namespace".to_string(),
                        kind => format!(
                            "{kind} {}",
                            o.value["metadata"]["name"].as_str().unwrap_or("")
                        ),
                    })
                    .collect();
                let named = patch
                    .target
                    .as_ref()
                    .map(|n| format!(" named `{n}`"))
                    .unwrap_or_default();
                let mut d = Diagnostic::error(
                        rules::PATCH_NO_MATCH,
                        format!(
                            "patch `{}` matches no object: service `{service}` has no {}{named}",
                            patch.name, patch.kind
                        ),
                    )
                    .at(patch.kind_origin.clone())
                    .target(
                        format!("{}/{env}/{service}", crate::workspace::GENERATED_DIR),
                        "kind",
                    )
                    .help(format!(
                        "its objects: {}; patch one of them, or move the patch to the overlays of the environments that have it",
                        present.join(", ")
                    ));
                if let Some(hint) = near_miss(patch, objects) {
                    d = d.label(hint);
                }
                diags.push(d);
            }
            continue;
        }
        for i in targets {
            let object = &mut objects[i];
            let owned = owned_pointers(&object.value);
            let touched = touched(&patch.body, &object.value);
            let mut refused = false;
            for (pointer, segs) in &touched {
                if let Some(o) = owned.iter().find(|o| overlaps(pointer, o)) {
                    diags.push(
                        Diagnostic::error(
                            rules::PATCH_OWNED_FIELD,
                            format!(
                                "patch `{}` changes `{}` of {} `{}`, which kgen owns ({})",
                                patch.name,
                                field_of(pointer, &object.value),
                                object.kind(),
                                object.value["metadata"]["name"].as_str().unwrap_or(""),
                                why_owned(o)
                            ),
                        )
                        .at(patch.origin(sources, segs))
                        .target(
                            format!("{}/{}", crate::workspace::GENERATED_DIR, object.path),
                            field_of(o, &object.value),
                        )
                        .help(owned_help(o)),
                    );
                    refused = true;
                    break;
                }
            }
            if refused {
                continue;
            }
            match &patch.body {
                Body::Merge(m) => json_patch::merge(&mut object.value, m),
                Body::Json(_, ops) => {
                    if let Err(e) = json_patch::patch(&mut object.value, ops) {
                        let segs = vec![Seg::Index(e.operation), Seg::Key("path".into())];
                        let what = match e.kind {
                            json_patch::PatchErrorKind::TestFailed => format!(
                                "its `test` of `{}` failed: the value differs",
                                e.path.as_str()
                            ),
                            json_patch::PatchErrorKind::InvalidFromPointer => {
                                "its `from` does not exist in the object".to_string()
                            }
                            json_patch::PatchErrorKind::CannotMoveInsideItself => {
                                "it moves a value inside itself".to_string()
                            }
                            _ => format!(
                                "the path `{}` does not exist in the object",
                                e.path.as_str()
                            ),
                        };
                        diags.push(
                            Diagnostic::error(
                                rules::PATCH_FAILED,
                                format!(
                                    "operation {} of JSON Patch `{}` does not apply to {} `{}`: {what}",
                                    e.operation,
                                    patch.name,
                                    object.kind(),
                                    object.value["metadata"]["name"].as_str().unwrap_or("")
                                ),
                            )
                            .at(patch.origin(sources, &segs))
                            .target(format!("{}/{}", crate::workspace::GENERATED_DIR, object.path), "(root)")
                            .help("look at the rendered object (`kgen render`, then generated/...): `add` needs the parent to exist (`/-` appends to a list), `remove` and `replace` need the path itself"),
                        );
                        continue;
                    }
                }
            }
            let entry = out.entry(object.path.clone()).or_default();
            entry.applied.push(format!(
                "{} ({}, {})",
                patch.name,
                patch.describe(),
                patch.source
            ));
            for (pointer, segs) in &touched {
                entry.fields.push((
                    field_of(pointer, &object.value),
                    patch.origin(sources, segs),
                ));
            }
        }
    }
    out
}

/// The object a patch that matched nothing (KG043) was probably meant for: a kind
/// of the service's objects close to the patch's, or when the kind is right, a
/// name of that kind close to the patch's `name`.
fn near_miss(patch: &Patch, objects: &[Object]) -> Option<String> {
    if objects.iter().any(|o| o.kind() == patch.kind) {
        let target = patch.target.as_deref()?;
        let names = objects
            .iter()
            .filter(|o| o.kind() == patch.kind)
            .filter_map(|o| o.value["metadata"]["name"].as_str());
        did_you_mean(target, names).map(|h| format!("the kind matches, the name does not: {h}"))
    } else {
        did_you_mean(&patch.kind, objects.iter().map(Object::kind))
    }
}

/// `[defaults]` patches that matched no object of any service (KG043).
pub fn unmatched_defaults(matched: &[(Origin, String, usize)]) -> Vec<Diagnostic> {
    matched
        .iter()
        .filter(|(_, _, n)| *n == 0)
        .map(|(origin, name, _)| {
            Diagnostic::error(
                rules::PATCH_NO_MATCH,
                format!("patch `{name}` of [defaults] matches no object of any service"),
            )
            .at(origin.clone())
            .help("check its `kind` and `name` against the rendered objects; a [defaults] patch may match nothing in some services, but not in all")
        })
        .collect()
}

/// JSON pointers of the fields kgen owns in a rendered object.
fn owned_pointers(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = [
        "/apiVersion",
        "/kind",
        "/metadata/name",
        "/metadata/namespace",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let labels = |v: &Value, at: &str, out: &mut Vec<String>| {
        if let Some(m) = pointer(v, &format!("{at}/labels")).and_then(Value::as_object) {
            for k in m.keys() {
                out.push(format!("{at}/labels/{}", escape(k)));
            }
        }
    };
    labels(v, "/metadata", &mut out);
    for sel in [
        "/spec/selector",
        "/spec/podSelector",
        "/spec/jobTemplate/spec/selector",
    ] {
        if pointer(v, sel).is_some() {
            out.push(sel.to_string());
        }
    }
    for t in ["/spec/template", "/spec/jobTemplate/spec/template"] {
        if pointer(v, t).is_none() {
            continue;
        }
        labels(v, &format!("{t}/metadata"), &mut out);
        for list in ["containers", "initContainers"] {
            let at = format!("{t}/spec/{list}");
            for (i, c) in pointer(v, &at)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if c.get("image").is_some() {
                    out.push(format!("{at}/{i}/image"));
                }
            }
        }
    }
    out
}

fn why_owned(pointer: &str) -> &'static str {
    if pointer.ends_with("/image") {
        "the image kgen renders from `image`, `tag` and `digest`, which `kgen bump-image` sets"
    } else if pointer.contains("/labels/") {
        "a label kgen sets: selectors, NetworkPolicies and Argo CD rely on it"
    } else if pointer.ends_with("elector") {
        "the selector that matches the service's pods; a Deployment's is immutable"
    } else {
        "the object's identity: its file, references to it and Argo CD's tracking follow it"
    }
}

fn owned_help(pointer: &str) -> String {
    if pointer.ends_with("/image") {
        "set `image`, `tag` or `digest` in platform.toml or the overlay (or run `kgen bump-image`); to add a container, append it with a JSON Patch `add` at `/spec/template/spec/containers/-`; a merge patch replaces a whole list, so it cannot change one container: use a JSON Patch".into()
    } else if pointer.contains("/labels/") {
        "add labels of your own (they merge), or set `labels`/`pod_labels` of the service".into()
    } else {
        "kgen keeps these fields consistent across objects: change the service's settings instead"
            .into()
    }
}

/// Whether a patch at `touched` changes the owned `owned` (one is inside the other).
fn overlaps(touched: &str, owned: &str) -> bool {
    touched == owned
        || owned.starts_with(&format!("{touched}/"))
        || touched.starts_with(&format!("{owned}/"))
}

/// JSON pointers a patch writes, each with where it is written in the body.
fn touched(body: &Body, target: &Value) -> Vec<(String, Vec<Seg>)> {
    let mut out = Vec::new();
    match body {
        Body::Merge(m) => merge_leaves(m, Some(target), "", &mut Vec::new(), &mut out),
        Body::Json(_, ops) => {
            for (i, op) in ops.iter().enumerate() {
                let segs = vec![Seg::Index(i), Seg::Key("path".into())];
                match op {
                    json_patch::PatchOperation::Test(_) => {}
                    json_patch::PatchOperation::Move(m) => {
                        out.push((
                            m.from.as_str().to_string(),
                            vec![Seg::Index(i), Seg::Key("from".into())],
                        ));
                        out.push((op.path().as_str().to_string(), segs));
                    }
                    _ => out.push((op.path().as_str().to_string(), segs)),
                }
            }
        }
    }
    out
}

/// The leaves of a merge patch: where it replaces or removes a value.
fn merge_leaves(
    patch: &Value,
    target: Option<&Value>,
    at: &str,
    segs: &mut Vec<Seg>,
    out: &mut Vec<(String, Vec<Seg>)>,
) {
    let Some(map) = patch.as_object() else {
        out.push((at.to_string(), segs.clone()));
        return;
    };
    if !target.is_some_and(Value::is_object) && !at.is_empty() && target.is_some() {
        // An object replaces a value that is not one.
        out.push((at.to_string(), segs.clone()));
        return;
    }
    for (k, v) in map {
        segs.push(Seg::Key(k.clone()));
        let child = format!("{at}/{}", escape(k));
        merge_leaves(v, target.and_then(|t| t.get(k)), &child, segs, out);
        segs.pop();
    }
}

/// A path into a YAML document, as `locate` reads it.
fn yaml_path(segs: &[Seg]) -> String {
    segs.iter()
        .fold(FieldPath::root(), |p, s| match s {
            Seg::Key(k) => p.key(k),
            Seg::Index(i) => p.index(*i),
        })
        .as_str()
        .to_string()
}

/// Secret-looking strings of a patch body (see [`resolve`]), as paths into it.
fn secrets_in(v: &Value, segs: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, &'static str)>) {
    match v {
        Value::String(s) => {
            if let Some(f) = crate::secret_scan::scan("", s) {
                out.push((segs.clone(), f.what));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                segs.push(Seg::Index(i));
                secrets_in(item, segs, out);
                segs.pop();
            }
        }
        Value::Object(map) => {
            let name = map.get("name").and_then(Value::as_str);
            let literal = map.get("value").and_then(Value::as_str);
            if let (Some(n), Some(l)) = (name, literal) {
                if crate::secret_scan::scan("", l).is_none() {
                    if let Some(f) = crate::secret_scan::scan(n, l) {
                        segs.push(Seg::Key("value".into()));
                        out.push((segs.clone(), f.what));
                        segs.pop();
                    }
                }
            }
            for (k, item) in map {
                segs.push(Seg::Key(k.clone()));
                secrets_in(item, segs, out);
                segs.pop();
            }
        }
        _ => {}
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The value at a JSON pointer.
fn pointer<'a>(v: &'a Value, p: &str) -> Option<&'a Value> {
    v.pointer(p)
}

/// A JSON pointer as a rendered field path of `object` (`spec.template.spec.containers[0].env`).
pub fn field_of(pointer: &str, object: &Value) -> String {
    let mut path = FieldPath::root();
    let mut cur = Some(object);
    for token in pointer.split('/').skip(1) {
        let token = unescape(token);
        match cur {
            Some(Value::Array(items)) => {
                let i = if token == "-" {
                    items.len().saturating_sub(1)
                } else {
                    token.parse().unwrap_or(0)
                };
                path = path.index(i);
                cur = items.get(i);
            }
            _ => {
                cur = cur.and_then(|c| c.get(&token));
                path = path.key(&token);
            }
        }
    }
    path.as_str().to_string()
}

/// The span of the deepest part of `path` found in a TOML text: a key's span, or an
/// array element's (a JSON Patch operation's `path` and `from`: their values).
pub fn toml_span(text: &str, path: &[Seg]) -> Option<Range<usize>> {
    toml_span_at(text, path, false)
}

/// Like [`toml_span`]; with `value`, the span of the last key's value.
fn toml_span_at(text: &str, path: &[Seg], value: bool) -> Option<Range<usize>> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut best: Option<Range<usize>> = None;
    let mut table: Option<&toml::de::DeTable<'_>> = Some(doc.get_ref());
    let mut array: Option<&[toml::Spanned<toml::de::DeValue<'_>>]> = None;
    for (n, seg) in path.iter().enumerate() {
        let last = n + 1 == path.len();
        let item = match seg {
            Seg::Key(k) => {
                let (key, item) = table?
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())?;
                let value_wanted = last && (value || k == "path" || k == "from");
                best = Some(if value_wanted {
                    item.span()
                } else {
                    key.span()
                });
                item
            }
            Seg::Index(i) => {
                let item = array?.get(*i)?;
                best = Some(item.span());
                item
            }
        };
        table = None;
        array = None;
        match item.get_ref() {
            toml::de::DeValue::Table(t) => table = Some(t),
            toml::de::DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_overlap_when_one_is_inside_the_other() {
        assert!(overlaps("/spec/selector", "/spec/selector"));
        assert!(overlaps("/spec", "/spec/selector"));
        assert!(overlaps("/spec/selector/matchLabels/x", "/spec/selector"));
        assert!(!overlaps(
            "/spec/template/spec/containers/0/env/-",
            "/spec/template/spec/containers/0/image"
        ));
        assert!(!overlaps("/spec/selectorx", "/spec/selector"));
    }

    #[test]
    fn merge_patch_leaves() {
        let target = serde_json::json!({"metadata": {"annotations": {"a": "1"}}, "spec": {"x": 1}});
        let patch =
            serde_json::json!({"metadata": {"annotations": {"b": "2"}}, "spec": {"x": {"y": 1}}});
        let mut out = Vec::new();
        merge_leaves(&patch, Some(&target), "", &mut Vec::new(), &mut out);
        let ptrs: Vec<&str> = out.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(ptrs, ["/metadata/annotations/b", "/spec/x"]);
    }

    #[test]
    fn fields_of_pointers() {
        let v = serde_json::json!({"spec": {"containers": [{"env": [{"name": "A"}]}]}, "metadata": {"annotations": {"a/b": "x"}}});
        assert_eq!(
            field_of("/spec/containers/0/env/-", &v),
            "spec.containers[0].env[0]"
        );
        assert_eq!(
            field_of("/metadata/annotations/a~1b", &v),
            "metadata.annotations[\"a/b\"]"
        );
    }

    #[test]
    fn toml_spans() {
        let text = "[services.api.patches.waf]\nkind = \"Ingress\"\nmerge = { metadata = { annotations = { x = \"1\" } } }\njson = [{ op = \"add\", path = \"/a\" }]\n";
        let keys = |s: &[&str]| {
            s.iter()
                .map(|k| Seg::Key(k.to_string()))
                .collect::<Vec<_>>()
        };
        let mut p = keys(&[
            "services",
            "api",
            "patches",
            "waf",
            "merge",
            "metadata",
            "annotations",
            "x",
        ]);
        let r = toml_span(text, &p).unwrap();
        assert_eq!(&text[r], "x");
        p = keys(&["services", "api", "patches", "waf", "json"]);
        p.push(Seg::Index(0));
        p.push(Seg::Key("path".into()));
        let r = toml_span(text, &p).unwrap();
        assert_eq!(&text[r], "\"/a\"");
    }
}
