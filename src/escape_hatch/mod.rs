//! The escape hatch: hand-written manifests and patches on kgen's objects, with every
//! guarantee kgen gives its own output.
//!
//! - [`files`] reads `manifests/` and the patch files into the workspace (from the
//!   working tree or a commit);
//! - [`manifests`] places each hand-written object (in a service's directory, or a
//!   cluster's component), renders its templates, refuses secrets;
//! - [`patch`] resolves a service's patches from its layers and applies them to its
//!   rendered objects, refusing changes to fields kgen owns;
//! - [`schema`] decides the schema of hand-written and patched objects
//!   (`[manifests] schema_dirs`, `unchecked_kinds`);
//! - [`config_hash`] extends a pod template's config hash with the other ConfigMaps
//!   its final template uses (a hand-written one a patch mounts), once the objects of
//!   its namespace are final.
//!
//! [`Hatch`] is what `compile` uses: prepared once per run, it turns a service's
//! rendered objects into its final objects (patched, plus its hand-written ones), and
//! tells validation where each came from ([`Batch`], a `validate::Provenance`), so
//! that every schema, semantic and policy finding points at the hand-written file's
//! line or at the patch. The objects are then admitted (AppProjects, shared objects,
//! namespaces) and emitted with the others: one file each, with kgen's header.
//! docs/escape-hatch.md.

pub mod config_hash;
pub mod files;
pub mod manifests;
pub mod patch;
pub mod schema;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::emit::{Note, Notes};
use crate::render::Object;
use crate::rules;
use crate::source::Origin;
use crate::spec::{EnvSpec, ManifestComponent, PlatformSpec, ServiceSpec};
use crate::template::Templates;
use crate::validate::{Finding, Provenance};
use crate::workspace::Workspace;

use manifests::{Catalog, Destination, Doc, Placed};

/// Directory of hand-written manifests, next to platform.toml.
pub const MANIFESTS_DIR: &str = "manifests";
/// `manifests/_all/<service>/`: for every environment.
pub const ALL_ENVIRONMENTS: &str = "_all";
/// `manifests/clusters/<cluster>/<component>/`: once per cluster.
pub const CLUSTERS: &str = "clusters";
/// Start of the name of every file kgen writes for a hand-written object.
pub const FILE_PREFIX: &str = "manifest-";

/// Where an object that is not kgen's rendering alone came from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A hand-written document.
    Hand(Arc<Doc>),
    /// kgen's object, patched: the fields the patches set and where each was written
    /// (its value, for a JSON Patch operation's), and where the keys of the values
    /// JSON Patch operations write are (what an unknown field is located at).
    Patched(Vec<(String, Origin)>, Vec<(String, Origin)>),
}

/// The earliest wave `[manifests] sync_waves` may give a component: the AppProjects
/// (-5), the shared Namespaces and the baseline (-4) come first.
const EARLIEST_COMPONENT_WAVE: i64 = crate::render::argocd::bootstrap_wave::OPERATORS as i64;

/// Gives the components of `spec` the waves `[manifests] sync_waves` sets; an entry
/// that names no component of any cluster, or a wave before the operators', is
/// KG047.
fn sync_waves(ws: &Workspace, spec: &mut PlatformSpec, diags: &mut Vec<Diagnostic>) {
    let Some(waves) = ws
        .platform
        .manifests
        .as_ref()
        .and_then(|m| m.value.sync_waves.as_ref())
    else {
        return;
    };
    let pf = ws.platform_file;
    let known: std::collections::BTreeSet<String> = spec
        .manifest_components
        .values()
        .flatten()
        .map(|c| c.name.clone())
        .collect();
    for (name, wave) in &waves.value {
        if !known.contains(&name.value) {
            let hint = known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(&name.value))
                .map(|k| format!("did you mean `{k}`?"))
                .or_else(|| did_you_mean(&name.value, known.iter().map(String::as_str)));
            let mut d = Diagnostic::error(
                rules::ESCAPE_HATCH_SETTING,
                format!(
                    "`sync_waves` names `{}`, which is no component of any cluster",
                    name.value
                ),
            )
            .at(Origin::new(pf, name.span.clone()))
            .help(if known.is_empty() {
                "a component is a directory `manifests/clusters/<cluster>/<component>/`; there is none".to_string()
            } else {
                format!(
                    "a component is a directory `manifests/clusters/<cluster>/<component>/`; the components: {}",
                    known.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
                )
            });
            if let Some(h) = hint {
                d = d.label(h);
            }
            diags.push(d);
            continue;
        }
        let at = Origin::new(pf, wave.span.clone());
        let Ok(w) = i32::try_from(wave.value) else {
            // Argo CD reads the annotation as a 32-bit integer.
            diags.push(
                Diagnostic::error(
                    rules::ESCAPE_HATCH_SETTING,
                    format!(
                        "component `{}` cannot sync at wave {}: Argo CD's waves are 32-bit integers",
                        name.value, wave.value
                    ),
                )
                .at(at)
                .help("a wave orders Applications; 1 syncs after the services (0), any later wave after that"),
            );
            continue;
        };
        if i64::from(w) < EARLIEST_COMPONENT_WAVE {
            diags.push(
                Diagnostic::error(
                    rules::ESCAPE_HATCH_SETTING,
                    format!(
                        "component `{}` cannot sync at wave {}: the earliest is {EARLIEST_COMPONENT_WAVE}",
                        name.value, wave.value
                    ),
                )
                .at(at)
                .help("waves -5 and -4 hold the AppProjects, the shared Namespaces and the baseline, which every Application needs first; -3 syncs with the operators, -2 with the monitoring stack (docs/argocd.md#sync-waves)"),
            );
            continue;
        }
        for c in spec.manifest_components.values_mut().flatten() {
            if c.name == name.value {
                c.wave = w;
            }
        }
    }
}

/// The escape hatch of one run.
pub struct Hatch<'w> {
    ws: &'w Workspace,
    pub schemas: schema::Schemas,
    catalog: Catalog,
    /// The hand-written objects of each cluster, placed once.
    cluster_objects: BTreeMap<String, Vec<Placed>>,
    /// Whether any layer has a patch (else patches are not looked for).
    any_patches: bool,
    diags: Mutex<Vec<Diagnostic>>,
    /// Objects each `[defaults]` patch matched.
    matched: Mutex<Vec<(Origin, String, usize)>>,
}

/// A service's or a cluster's objects after the escape hatch.
#[derive(Debug, Default)]
pub struct Output {
    pub objects: Vec<Object>,
    pub sources: Vec<(String, Source)>,
    pub notes: Vec<(String, Note)>,
}

impl<'w> Hatch<'w> {
    /// Reads the settings and the hand-written files, places the clusters' objects
    /// and records their components in `spec` (for their Applications and projects).
    pub fn prepare(ws: &'w Workspace, spec: &mut PlatformSpec) -> Hatch<'w> {
        let mut diags = Vec::new();
        let schemas = schema::Schemas::new(ws, &mut diags);
        let catalog = Catalog::read(ws, spec, &mut diags);
        let any_patches = has_patches(ws);
        let mut cluster_objects: BTreeMap<String, Vec<Placed>> = BTreeMap::new();
        if !catalog.clusters.is_empty() {
            let templates = Templates::new();
            for ((cluster, component), docs) in &catalog.clusters {
                let Some(c) = spec.cluster(cluster) else {
                    continue;
                };
                let to = Destination {
                    dir: crate::render::cluster_dir(cluster, component),
                    env: None,
                    service: None,
                    cluster: c,
                    context: manifests::cluster_context(spec, c),
                    inputs: c.inputs.clone(),
                };
                let docs: Vec<&Arc<Doc>> = docs.iter().collect();
                let placed = manifests::place(&docs, &to, &templates, &mut diags);
                let mut comp = ManifestComponent {
                    name: component.clone(),
                    wave: crate::render::argocd::bootstrap_wave::MANIFESTS,
                    ..Default::default()
                };
                for p in &placed {
                    let v = &p.object.value;
                    match v["metadata"]["namespace"].as_str() {
                        Some(ns) => {
                            comp.namespaces.insert(ns.to_string());
                        }
                        None => {
                            let api = v["apiVersion"].as_str().unwrap_or("");
                            let group = api.rsplit_once('/').map_or("", |(g, _)| g);
                            comp.cluster_kinds.insert((
                                group.to_string(),
                                v["kind"].as_str().unwrap_or("").to_string(),
                            ));
                        }
                    }
                }
                spec.manifest_components
                    .entry(cluster.clone())
                    .or_default()
                    .push(comp);
                cluster_objects
                    .entry(cluster.clone())
                    .or_default()
                    .extend(placed);
            }
        }
        sync_waves(ws, spec, &mut diags);
        Hatch {
            ws,
            schemas,
            catalog,
            cluster_objects,
            any_patches,
            diags: Mutex::new(diags),
            matched: Mutex::new(Vec::new()),
        }
    }

    /// Nothing to do: no hand-written manifest, no patch, no setting.
    pub fn is_idle(&self) -> bool {
        !self.any_patches
            && self.catalog.services.is_empty()
            && self.cluster_objects.is_empty()
            && self.diags.lock().map(|d| d.is_empty()).unwrap_or(false)
    }

    /// The final objects of `svc` in `env` from its rendered `objects`: patched, then
    /// its hand-written objects.
    pub fn service(
        &self,
        spec: &PlatformSpec,
        env: &EnvSpec,
        svc: &ServiceSpec,
        objects: Vec<Object>,
    ) -> Output {
        self.service_objects(spec, env, svc, objects, true)
    }

    /// The ConfigMaps among the final objects of `svc` in `env`, with nothing
    /// reported: what the config hash of another service of its namespace may cover
    /// ([`config_hash`]) when only that service is compiled.
    pub fn config_maps(
        &self,
        spec: &PlatformSpec,
        env: &EnvSpec,
        svc: &ServiceSpec,
        objects: Vec<Object>,
    ) -> Vec<Object> {
        let mut out = self.service_objects(spec, env, svc, objects, false);
        out.objects.retain(config_hash::is_config_map);
        out.objects
    }

    /// [`Hatch::service`]; with `report` false, its findings and the patches it
    /// matched are dropped.
    fn service_objects(
        &self,
        spec: &PlatformSpec,
        env: &EnvSpec,
        svc: &ServiceSpec,
        mut objects: Vec<Object>,
        report: bool,
    ) -> Output {
        let mut out = Output::default();
        let mut diags = Vec::new();
        let docs: Vec<&Arc<Doc>> = self.catalog.of_service(&env.name, &svc.name).collect();
        if self.any_patches {
            let patches = patch::resolve::resolve(self.ws, &env.name, &svc.name, &mut diags);
            if !patches.is_empty() {
                let mut matched = Vec::new();
                let hand_written: Vec<(&str, &str, &str)> = docs
                    .iter()
                    .map(|d| {
                        let name = d.value["metadata"]["name"].as_str().unwrap_or("");
                        (
                            d.value["kind"].as_str().unwrap_or(""),
                            name,
                            d.display.as_str(),
                        )
                    })
                    .collect();
                let patched = patch::apply::apply(
                    &patches,
                    &mut objects,
                    &hand_written,
                    &self.ws.sources,
                    &env.name,
                    &svc.name,
                    &mut matched,
                    &mut diags,
                );
                if report {
                    self.record_matches(matched);
                }
                for (path, p) in patched {
                    out.notes.push((
                        path.clone(),
                        Note {
                            inputs: None,
                            lines: p.applied.iter().map(|a| format!("Patched: {a}")).collect(),
                        },
                    ));
                    out.sources.push((path, Source::Patched(p.fields, p.keys)));
                }
            }
        }
        out.objects = objects;
        if !docs.is_empty() {
            if let Some(cluster) = spec.cluster(&env.cluster) {
                let to = Destination {
                    dir: format!("{}/{}", env.name, svc.name),
                    env: Some(env),
                    service: Some(svc),
                    cluster,
                    context: manifests::service_context(spec, env, cluster, &svc.name),
                    inputs: env.inputs.clone(),
                };
                let templates = Templates::new();
                for p in manifests::place(&docs, &to, &templates, &mut diags) {
                    self.push_placed(p, &mut out);
                }
            }
        }
        if report && !diags.is_empty() {
            self.diags
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(diags);
        }
        out
    }

    /// The hand-written objects of `cluster`.
    pub fn cluster(&self, cluster: &str) -> Output {
        let mut out = Output::default();
        for p in self.cluster_objects.get(cluster).into_iter().flatten() {
            self.push_placed(
                Placed {
                    object: p.object.clone(),
                    doc: Arc::clone(&p.doc),
                    inputs: p.inputs.clone(),
                },
                &mut out,
            );
        }
        out
    }

    fn push_placed(&self, p: Placed, out: &mut Output) {
        out.notes.push((
            p.object.path.clone(),
            Note {
                inputs: Some(p.inputs),
                lines: vec![format!(
                    "Hand-written: edit {} (docs/escape-hatch.md)",
                    p.doc.display
                )],
            },
        ));
        out.sources
            .push((p.object.path.clone(), Source::Hand(p.doc)));
        out.objects.push(p.object);
    }

    fn record_matches(&self, found: Vec<(Origin, String, usize)>) {
        let mut all = self.matched.lock().unwrap_or_else(|e| e.into_inner());
        for (o, n, c) in found {
            match all.iter_mut().find(|(ao, an, _)| *ao == o && *an == n) {
                Some(m) => m.2 += c,
                None => all.push((o, n, c)),
            }
        }
    }

    /// Whether a hand-written file of the service whose object is at `path`
    /// (`<env>/<service>/...` under `generated/`) has an error.
    pub fn failed_for(&self, path: &str) -> bool {
        let mut parts = path.split('/');
        let (Some(env), Some(service)) = (parts.next(), parts.next()) else {
            return false;
        };
        let diags = self.diags.lock().unwrap_or_else(|e| e.into_inner());
        diags.iter().filter(|d| d.is_error()).any(|d| {
            d.origin
                .as_ref()
                .and_then(|o| manifests::place_of(self.ws, o.file))
                .is_some_and(|(e, s)| s == service && (e == env || e == ALL_ENVIRONMENTS))
        })
    }

    /// Everything the escape hatch found, once each. With `whole`, the run rendered
    /// every service, so a `[defaults]` patch that matched nothing is reported.
    pub fn finish(&self, whole: bool) -> Vec<Diagnostic> {
        let mut out = std::mem::take(&mut *self.diags.lock().unwrap_or_else(|e| e.into_inner()));
        if whole {
            out.extend(patch::apply::unmatched_defaults(
                &self.matched.lock().unwrap_or_else(|e| e.into_inner()),
            ));
        }
        crate::diagnostic::sort(&mut out);
        crate::diagnostic::dedup(&mut out);
        out
    }
}

/// What validation knows of one batch's objects.
pub struct Batch<'a, 'w> {
    pub hatch: &'a Hatch<'w>,
    pub sources: HashMap<String, Source>,
}

impl<'a, 'w> Batch<'a, 'w> {
    pub fn new(hatch: &'a Hatch<'w>) -> Self {
        Batch {
            hatch,
            sources: HashMap::new(),
        }
    }

    /// How to find the fields of the hand-written object at `path` in its file, if it
    /// is one (for the Argo CD admission checks).
    pub fn hand_written(&self, path: &str) -> Option<crate::admission::Locator> {
        match self.sources.get(path)? {
            Source::Hand(doc) => {
                let doc = Arc::clone(doc);
                Some(Arc::new(move |field: &str| doc.origin(field, false)))
            }
            Source::Patched(..) => None,
        }
    }

    /// Adds an output's sources; returns its notes.
    pub fn add(&mut self, out: &mut Output, notes: &mut Notes) {
        self.sources.extend(out.sources.drain(..));
        notes.extend(out.notes.drain(..));
    }
}

impl Provenance for Batch<'_, '_> {
    fn is_hand_written(&self, path: &str) -> bool {
        matches!(self.sources.get(path), Some(Source::Hand(_)))
    }

    /// A reference to an object that is not rendered (KG113) is not judged in a
    /// service with an error in a hand-written file (not YAML, a template that does
    /// not render, a secret): the object may be the one it left out.
    fn judges(&self, path: &str, finding: &Finding, between: bool) -> bool {
        !(between && finding.code == rules::REFERENCES && self.hatch.failed_for(path))
    }

    fn schema_findings(&self, path: &str, object: &Value) -> Option<Vec<Finding>> {
        self.sources.get(path)?;
        Some(self.hatch.schemas.findings(object))
    }

    fn origin(&self, path: &str, finding: &Finding) -> Option<Origin> {
        let key_only = finding.code == rules::SCHEMA
            && (finding.message.contains(": unknown field")
                || finding.message.contains(": required field missing"));
        match self.sources.get(path)? {
            Source::Hand(doc) => match &finding.within {
                Some(text) => Some(doc.origin_within(&finding.field, text)),
                None => Some(doc.origin(&finding.field, key_only)),
            },
            // The patch that set the field, or a field inside it (a schema finding on
            // `metadata.annotations` when a patch added one of them): kgen's own
            // rendering passes every check, so a new finding is the patch's.
            // An unknown field a JSON Patch operation wrote: at its key.
            Source::Patched(_, keys)
                if key_only && keys.iter().any(|(f, _)| *f == finding.field) =>
            {
                keys.iter()
                    .find(|(f, _)| *f == finding.field)
                    .map(|(_, o)| o.clone())
            }
            Source::Patched(fields, _) => fields
                .iter()
                .filter(|(f, _)| within(&finding.field, f))
                .max_by_key(|(f, _)| f.len())
                .or_else(|| {
                    fields
                        .iter()
                        .filter(|(f, _)| !finding.field.is_empty() && within(f, &finding.field))
                        .min_by_key(|(f, _)| f.len())
                })
                .map(|(_, o)| o.clone()),
        }
    }
}

/// Whether any layer of the platform has a patch.
pub fn has_patches(ws: &Workspace) -> bool {
    ws.platform
        .defaults
        .iter()
        .map(|d| &d.value)
        .chain(ws.platform.services.values().map(|s| &*s.value))
        .chain(
            ws.overlays
                .values()
                .flat_map(|o| o.data.services.values().map(|s| &*s.value)),
        )
        .any(|l| !l.patches.is_empty())
}

/// Whether the field path `field` is `prefix` or inside it.
fn within(field: &str, prefix: &str) -> bool {
    field == prefix
        || field
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}
