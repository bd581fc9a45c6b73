//! The pipeline, in one place: resolve → render → validate → emit.
//!
//! Every command that needs rendered output (render, check, validate, diff, the
//! Argo CD plugin, bump-image) calls `compile`; nothing touches the disk here.
//!
//! Environments go through render → validate → emit one at a time, and within one,
//! batches of whole namespaces (see [`batches`]): objects are dropped once their
//! files are emitted, and only the bytes of the files are kept for the whole
//! platform, so memory grows with the output, not with the object trees (about ten
//! times larger). Nothing is returned (let alone written) unless every environment
//! validates. The files go to a [`Sink`] as they are emitted: a `Tree` that keeps
//! them, or `write::Comparer`, which compares them with `generated/` and keeps only
//! the ones to write (the disk is the write module's, not this one's).

mod partial;

pub use partial::add_clean_errors;

use crate::admission;
use crate::diagnostic::Diagnostic;
use crate::emit::{self, Notes, Sink, Tree};
use crate::error::{Error, Result};
use crate::escape_hatch::{self, Batch, Hatch};
use crate::render::{self, Object};
use crate::resolve;
use crate::selection::Selection;
use crate::spec::PlatformSpec;
use crate::stages::{self, Stage};
use crate::validate::{self, Report};
use crate::workspace::Workspace;

/// Everything one run produces, in memory: what [`compile_into`] gives, and the files.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub run: Run,
    pub tree: Tree,
}

/// What [`compile_into`] gives besides the files, which went to its sink.
#[derive(Debug, Clone)]
pub struct Run {
    pub spec: PlatformSpec,
    /// How many objects were rendered (and validated) for the files emitted.
    pub object_count: usize,
    /// How many files were emitted.
    pub files: usize,
    /// Non-blocking diagnostics: of the environments of the run, of their clusters
    /// and of the platform (see [`Selection::apply`]).
    pub warnings: Vec<Diagnostic>,
    /// Directories under `generated/` this run owns (`""` means all of it).
    pub scopes: Vec<String>,
    /// How many environments the files are of (all, or those asked for).
    pub environments: usize,
    /// How many clusters the files are of (those of the environments).
    pub clusters: usize,
}

/// Compiles the platform. Every environment is resolved and validated (an AppProject
/// can span several environments); with `envs`, only their files are kept, and only
/// their warnings (and the errors of every environment: see [`Selection`]).
pub fn compile(ws: &Workspace, envs: &[String]) -> Result<Compiled> {
    let mut tree = Tree::default();
    let (run, _) = compile_inner(ws, envs, false, &mut tree)?;
    Ok(Compiled { run, tree })
}

/// Like [`compile`], the files given to `sink` batch by batch as they are emitted,
/// after the scopes (`Sink::scopes`). The sink sees files of a run that then fails
/// validation: what it makes of them counts only when this returns `Ok`.
pub fn compile_into(ws: &Workspace, envs: &[String], sink: &mut dyn Sink) -> Result<Run> {
    compile_inner(ws, envs, false, sink).map(|(run, _)| run)
}

/// Like [`compile`], also returning the rendered objects (of `envs`, or all) for
/// callers that look at them (`kgen validate --schema-dir`, tests). Keeps every
/// object tree in memory at once.
pub fn compile_with_objects(ws: &Workspace, envs: &[String]) -> Result<(Compiled, Vec<Object>)> {
    let mut tree = Tree::default();
    let (run, objects) = compile_inner(ws, envs, true, &mut tree)?;
    Ok((Compiled { run, tree }, objects))
}

fn compile_inner(
    ws: &Workspace,
    envs: &[String],
    keep: bool,
    sink: &mut dyn Sink,
) -> Result<(Run, Vec<Object>)> {
    // A mistyped `--env` is a usage error whatever else is wrong: the run would
    // otherwise report the input's errors and nothing about it.
    let known = ws.environment_names();
    if let Some(unknown) = envs.iter().find(|e| !known.contains(&e.as_str())) {
        return Err(resolve::unknown_environment(unknown, &known));
    }
    let spec = stages::time(Stage::Resolve, || resolve::resolve_partial(ws, &[])).map_err(
        |(e, partial)| {
            // What of the escape hatch can be checked without what has errors.
            let e = stages::time(Stage::Validate, || {
                partial::add_clean_errors(ws, e, partial)
            });
            Selection::new(ws, None, envs).mark(e)
        },
    )?;
    let mut spec = spec;
    // Hand-written manifests and patches (see `escape_hatch`).
    let hatch = Hatch::prepare(ws, &mut spec);
    let idle = hatch.is_idle();
    let mut report = Report::default();
    report.diagnostics.append(&mut spec.warnings);
    report.diagnostics.extend(stages::time(Stage::Validate, || {
        validate::check_platform(&spec)
    }));
    stages::add_services_total(spec.environments.iter().map(|e| e.services.len()).sum());
    let selection = Selection::new(ws, Some(&spec), envs);
    let scopes = selection.scopes();
    sink.scopes(&scopes);
    let mut files = 0;
    let mut kept = Vec::new();
    let mut object_count = 0;
    let mut inventory = admission::Inventory::default();
    // kgen's DaemonSets of every environment, for KG217 (one agent per node).
    let mut daemonsets = Vec::new();
    // Validates and emits one batch of objects; `wanted` says whether its files are kept.
    let mut run_batch = |mut objects: Vec<Object>,
                         known: &Batch,
                         notes: &Notes,
                         wanted: bool,
                         report: &mut Report| {
        // Checks between objects stay within a namespace, so a batch of whole
        // namespaces is validated on its own; its waivers are needed to emit it.
        let mut part = Report::default();
        stages::time(Stage::Validate, || {
            // Recording the objects for admission needs nothing validation finds: on
            // another core meanwhile.
            rayon::join(
                || validate::check_into_with(&spec, &objects, known, &mut part),
                || {
                    inventory.record(&objects);
                    for o in &objects {
                        if let Some(locator) = known.hand_written(&o.path) {
                            inventory.locate(&o.path, locator);
                        }
                    }
                },
            )
        });
        let failed = report.diagnostics.iter().any(Diagnostic::is_error)
            || part.diagnostics.iter().any(Diagnostic::is_error);
        if wanted && !failed {
            object_count += objects
                .iter()
                .filter(|o| o.value.get("kind").is_some())
                .count();
            let emitted = stages::time(Stage::Emit, || {
                emit::emit_files(&spec, &objects, &part.waived, notes)
            });
            files += emitted.len();
            sink.files(emitted);
            if keep {
                kept.append(&mut objects);
            }
        }
        report.diagnostics.append(&mut part.diagnostics);
        report.waived.extend(part.waived);
        // Freeing thousands of object trees takes time: on both cores.
        use rayon::prelude::*;
        objects.into_par_iter().for_each(drop);
    };
    for env in &spec.environments {
        let wanted = envs.is_empty() || envs.contains(&env.name);
        let owners = render::namespace_owners(env);
        let peers = render::network_policy::Peers::of(env);
        // Cluster-scoped objects (Namespaces) are checked together, last.
        let mut cluster_scoped = Vec::new();
        // What validation and the headers need to know of the hand-written and
        // patched objects of the environment.
        let mut known = Batch::new(&hatch);
        let mut notes = Notes::new();
        for batch in batches(env) {
            let objects: Vec<Object> = stages::time(Stage::Render, || {
                if idle {
                    use rayon::prelude::*;
                    batch
                        .par_iter()
                        .flat_map_iter(|&i| {
                            render::service_objects(&spec, env, &peers, &env.services[i], owners[i])
                        })
                        .collect()
                } else {
                    use rayon::prelude::*;
                    let outputs: Vec<escape_hatch::Output> = batch
                        .par_iter()
                        .map(|&i| {
                            let svc = &env.services[i];
                            let rendered =
                                render::service_objects(&spec, env, &peers, svc, owners[i]);
                            hatch.service(&spec, env, svc, rendered)
                        })
                        .collect();
                    let mut objects = Vec::new();
                    for mut out in outputs {
                        known.add(&mut out, &mut notes);
                        objects.append(&mut out.objects);
                    }
                    objects
                }
            });
            // A pod template's config hash covers the ConfigMaps of its namespace it
            // uses (a hand-written one a patch mounts): the batch has them all.
            let mut objects = objects;
            stages::time(Stage::Render, || {
                escape_hatch::config_hash::cover(&mut objects, &[]);
                daemonsets.extend(validate::policy::daemonsets::record(&objects));
            });
            stages::add_services_done(batch.len());
            let (cluster, namespaced): (Vec<Object>, Vec<Object>) = objects
                .into_iter()
                .partition(|o| o.value["metadata"].get("namespace").is_none());
            cluster_scoped.extend(cluster);
            run_batch(namespaced, &known, &notes, wanted, &mut report);
        }
        run_batch(cluster_scoped, &known, &notes, wanted, &mut report);
    }
    // What is installed once per cluster, and the cluster's Argo CD objects.
    for cluster in &spec.clusters {
        let wanted = envs.is_empty()
            || spec
                .environments_on(&cluster.name)
                .any(|e| envs.contains(&e.name));
        let mut objects = stages::time(Stage::Render, || render::cluster_objects(&spec, cluster));
        let mut known = Batch::new(&hatch);
        let mut notes = Notes::new();
        let mut out = hatch.cluster(&cluster.name);
        known.add(&mut out, &mut notes);
        objects.append(&mut out.objects);
        run_batch(objects, &known, &notes, wanted, &mut report);
    }
    report.diagnostics.extend(stages::time(Stage::Validate, || {
        validate::policy::daemonsets::check(&spec, &daemonsets)
    }));
    report.diagnostics.extend(hatch.finish(true));
    // What Argo CD will check when it syncs all of it.
    let report = stages::time(Stage::Validate, || {
        report
            .diagnostics
            .extend(admission::check(&spec, inventory, &|path| {
                selection.concerns_path(path)
            }));
        validate::finish(report)
    });
    // Nothing is emitted (let alone written) unless every object validates.
    if report.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(selection.mark(Error::invalid(report.diagnostics, ws.sources.clone())));
    }
    if envs.is_empty() {
        // Platform-level: the Argo CD plugin's configuration (full renders only).
        let platform_file = ws.sources.get(ws.platform_file).display.clone();
        files += 1;
        sink.files(vec![render::cmp_plugin::file(&[platform_file])]);
    }
    let run = Run {
        object_count,
        files,
        warnings: selection.apply(report.diagnostics, &ws.sources),
        scopes,
        environments: selection.environments(),
        clusters: selection.clusters(),
        spec,
    };
    Ok((run, kept))
}

/// Frees `value` on the thread pool rather than on the caller's thread: a resolved
/// platform of thousands of services takes milliseconds to free, which nothing after
/// the render waits for (if the process exits first, the system frees it at once).
pub fn drop_in_background<T: Send + 'static>(value: T) {
    rayon::spawn(move || drop(value));
}

/// About this many services' objects are in memory at once.
const BATCH: usize = 128;

/// Splits the services of `env` (indices) into batches of whole namespaces, about
/// [`BATCH`] services each. Every check between objects stays within a namespace
/// (references, selectors, duplicates) or among cluster-scoped objects, which are
/// validated last, all together; so validating batch by batch finds exactly what
/// validating the whole environment at once finds.
fn batches(env: &crate::spec::EnvSpec) -> Vec<Vec<usize>> {
    let mut by_namespace: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    let mut order = Vec::new();
    for (i, svc) in env.services.iter().enumerate() {
        let ns = svc.namespace.as_str();
        let group = by_namespace.entry(ns).or_default();
        if group.is_empty() {
            order.push(ns);
        }
        group.push(i);
    }
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    for ns in order {
        current.extend(by_namespace.remove(ns).unwrap_or_default());
        if current.len() >= BATCH {
            batches.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Whether `d` concerns the Argo CD application of `service`: not when it is in a
/// hand-written file of another service (docs/argocd-cmp.md).
fn of_application(ws: &Workspace, service: &str, d: &Diagnostic) -> bool {
    d.origin
        .as_ref()
        .and_then(|o| crate::escape_hatch::manifests::service_of(ws, o.file))
        .is_none_or(|owner| owner == service)
}

/// Compiles one Argo CD application: the files of `service` in `env` (those under
/// `generated/<env>/<service>/`), validated and emitted exactly as `compile` does
/// them, so the bytes are the same. For `kgen cmp generate`.
///
/// Only `env` is resolved, and all of it: a service's objects depend on the others
/// (a shared namespace, the NetworkPolicy admitting the services that call it), so a
/// problem anywhere in the environment fails every application of it. Other
/// environments are not resolved. Only this application's objects are validated;
/// with errors in the input, the environment's escape-hatch errors that can be
/// checked without them come in the same report, as with [`compile`].
/// `scopes` is empty: it owns nothing on disk.
pub fn compile_service(ws: &Workspace, env: &str, service: &str) -> Result<Compiled> {
    let services = ws.service_names();
    if !services.contains(&service) {
        return Err(resolve::unknown_service(service, &services));
    }
    // With input errors, the escape hatch's errors that can be checked without them
    // come in the same report, as with `compile` (`partial`).
    let mut spec = resolve::resolve_partial(ws, &[env.to_string()]).map_err(|(e, partial)| {
        match partial::add_clean_errors(ws, e, partial) {
            Error::Invalid(mut inv) => {
                inv.diagnostics.retain(|d| of_application(ws, service, d));
                Error::Invalid(inv)
            }
            other => other,
        }
    })?;
    let hatch = Hatch::prepare(ws, &mut spec);
    let Some(env_spec) = spec.environments.iter().find(|e| e.name == env) else {
        return Err(resolve::unknown_environment(env, &ws.environment_names()));
    };
    let Some(objects) = render::one_service(&spec, env_spec, service) else {
        return Err(Error::Usage(format!(
            "service `{service}` is disabled in environment `{env}` (`enabled = false`), so it has no manifests; remove its Application, or enable the service"
        )));
    };
    let svc = env_spec
        .services
        .iter()
        .find(|s| s.name == service)
        .expect("one_service found it");
    let mut out = hatch.service(&spec, env_spec, svc, objects);
    let mut known = Batch::new(&hatch);
    let mut notes = Notes::new();
    known.add(&mut out, &mut notes);
    let mut objects = out.objects;
    // The config hash covers the ConfigMaps of the namespace the pod template uses:
    // those of the other services of the namespace too, as `compile` has them.
    let mut others = Vec::new();
    if escape_hatch::config_hash::references_elsewhere(&objects) {
        for other in env_spec
            .services
            .iter()
            .filter(|s| s.namespace == svc.namespace && s.name != svc.name)
        {
            if let Some(rendered) = render::one_service(&spec, env_spec, &other.name) {
                others.extend(hatch.config_maps(&spec, env_spec, other, rendered));
            }
        }
    }
    escape_hatch::config_hash::cover(&mut objects, &others);
    let mut report = if others.is_empty() {
        validate::check_with(&spec, &objects, &known)
    } else {
        // Those ConfigMaps are in the namespace (no KG113 for a reference to one), but
        // what is found in them is their own application's.
        let theirs: std::collections::BTreeSet<String> = others
            .iter()
            .map(|o| format!("{}/{}", crate::workspace::GENERATED_DIR, o.path))
            .collect();
        others.extend(objects.iter().cloned());
        let mut report = validate::check_with(&spec, &others, &known);
        report
            .diagnostics
            .retain(|d| d.target.as_ref().is_none_or(|t| !theirs.contains(&t.file)));
        report
    };
    drop(others);
    // A `[defaults]` patch may match nothing in this one service. What is wrong in
    // another service's hand-written file (not YAML, misplaced) fails that service's
    // application, not this one (docs/argocd-cmp.md).
    report.diagnostics.extend(
        hatch
            .finish(false)
            .into_iter()
            .filter(|d| of_application(ws, service, d)),
    );
    crate::diagnostic::sort(&mut report.diagnostics);
    if report.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Error::invalid(report.diagnostics, ws.sources.clone()));
    }
    let tree = emit::emit_noted(&spec, &objects, &report.waived, &notes);
    drop(known);
    drop(hatch);
    let run = Run {
        spec,
        object_count: objects.len(),
        files: tree.files.len(),
        warnings: report.diagnostics,
        scopes: Vec::new(),
        environments: 1,
        clusters: 1,
    };
    Ok(Compiled { run, tree })
}
