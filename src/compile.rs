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
//! validates.

use crate::diagnostic::Diagnostic;
use crate::emit::{self, Tree};
use crate::error::{Error, Result};
use crate::render::{self, Object};
use crate::resolve;
use crate::spec::PlatformSpec;
use crate::validate::{self, Report};
use crate::workspace::Workspace;

/// Everything one run produces, in memory.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub spec: PlatformSpec,
    /// How many objects were rendered (and validated) for the files of `tree`.
    pub object_count: usize,
    pub tree: Tree,
    /// Non-blocking diagnostics.
    pub warnings: Vec<Diagnostic>,
    /// Directories under `generated/` this run owns (`""` means all of it).
    pub scopes: Vec<String>,
}

/// Compiles the platform. Every environment is resolved and validated (an AppProject
/// can span several environments); with `envs`, only their files are kept.
pub fn compile(ws: &Workspace, envs: &[String]) -> Result<Compiled> {
    compile_inner(ws, envs, false).map(|(compiled, _)| compiled)
}

/// Like [`compile`], also returning the rendered objects (of `envs`, or all) for
/// callers that look at them (`kgen validate --schema-dir`, tests). Keeps every
/// object tree in memory at once.
pub fn compile_with_objects(ws: &Workspace, envs: &[String]) -> Result<(Compiled, Vec<Object>)> {
    compile_inner(ws, envs, true)
}

fn compile_inner(ws: &Workspace, envs: &[String], keep: bool) -> Result<(Compiled, Vec<Object>)> {
    let spec = resolve::resolve(ws, &[])?;
    if let Some(unknown) = envs
        .iter()
        .find(|e| !spec.environments.iter().any(|s| &&s.name == e))
    {
        return Err(resolve::unknown_environment(
            unknown,
            &ws.environment_names(),
        ));
    }
    let mut report = Report::default();
    report.diagnostics.extend(validate::check_platform(&spec));
    let mut tree = Tree::default();
    let mut kept = Vec::new();
    let mut object_count = 0;
    for env in &spec.environments {
        let wanted = envs.is_empty() || envs.contains(&env.name);
        let owners = render::namespace_owners(env);
        // The objects of no service (Argo CD, monitoring) go last, with every
        // cluster-scoped object and the services that share a namespace with them.
        let mut last = render::environment_extras(&spec, env);
        last.extend(render::argocd_objects(&spec, env));
        let (batches, last_services) = batches(env, &last);
        for batch in batches.iter().chain(std::iter::once(&last_services)) {
            let mut objects: Vec<Object> = {
                use rayon::prelude::*;
                batch
                    .par_iter()
                    .flat_map_iter(|&i| {
                        render::service_objects(&spec, env, &env.services[i], owners[i])
                    })
                    .collect()
            };
            if std::ptr::eq(batch, &last_services) {
                objects.append(&mut last);
            } else {
                let (cluster, namespaced): (Vec<Object>, Vec<Object>) = objects
                    .into_iter()
                    .partition(|o| o.value["metadata"].get("namespace").is_none());
                last.extend(cluster);
                objects = namespaced;
            }
            // Checks between objects stay within a namespace, so a batch of whole
            // namespaces is validated on its own; its waivers are needed to emit it.
            let mut part = Report::default();
            validate::check_into(&spec, &objects, &mut part);
            let failed = report.diagnostics.iter().any(Diagnostic::is_error)
                || part.diagnostics.iter().any(Diagnostic::is_error);
            if wanted && !failed {
                object_count += objects.len();
                // One insert per file (`append` would merge the whole map every batch).
                for (path, text) in emit::emit_with_waivers(&spec, &objects, &part.waived).files {
                    tree.insert_new(path, text);
                }
                if keep {
                    kept.append(&mut objects);
                }
            }
            report.diagnostics.append(&mut part.diagnostics);
            report.waived.extend(part.waived);
            // Freeing thousands of object trees takes time: on both cores.
            use rayon::prelude::*;
            objects.into_par_iter().for_each(drop);
        }
    }
    let report = validate::finish(report);
    // Nothing is emitted (let alone written) unless every object validates.
    if report.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Error::invalid(report.diagnostics, ws.sources.clone()));
    }
    let scopes = if envs.is_empty() {
        vec![String::new()]
    } else {
        envs.iter()
            .flat_map(|e| [e.clone(), format!("argocd/{e}")])
            .collect()
    };
    if envs.is_empty() {
        // Platform-level: the Argo CD plugin's configuration (full renders only).
        let platform_file = ws.sources.get(ws.platform_file).display.clone();
        let (path, text) = render::cmp_plugin::file(&[platform_file]);
        tree.files.insert(path, text);
    }
    let compiled = Compiled {
        spec,
        object_count,
        tree,
        warnings: report.diagnostics,
        scopes,
    };
    Ok((compiled, kept))
}

/// About this many services' objects are in memory at once.
const BATCH: usize = 128;

/// Splits the services of `env` (indices) into batches of whole namespaces, about
/// [`BATCH`] services each, and the services whose namespace one of `last` (the
/// objects of no service) is in. Every check between objects stays within a
/// namespace (references, selectors, duplicates) or among cluster-scoped objects,
/// which are validated last, all together; so validating batch by batch finds
/// exactly what validating the whole environment at once finds.
fn batches(env: &crate::spec::EnvSpec, last: &[Object]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let special: std::collections::BTreeSet<&str> = last
        .iter()
        .filter_map(|o| o.value["metadata"].get("namespace")?.as_str())
        .collect();
    let mut by_namespace: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    let mut order = Vec::new();
    let mut last_services = Vec::new();
    for (i, svc) in env.services.iter().enumerate() {
        let ns = svc.namespace.as_str();
        if special.contains(ns) {
            last_services.push(i);
            continue;
        }
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
    (batches, last_services)
}

/// Compiles one Argo CD application: the files of `service` in `env` (those under
/// `generated/<env>/<service>/`), validated and emitted exactly as `compile` does
/// them, so the bytes are the same. For `kgen cmp generate`.
///
/// Only `env` is resolved, and all of it: a service's objects depend on the others
/// (a shared namespace, the NetworkPolicy admitting the services that call it), so a
/// problem anywhere in the environment fails every application of it. Other
/// environments are not resolved. Only this application's objects are validated.
/// `scopes` is empty: it owns nothing on disk.
pub fn compile_service(ws: &Workspace, env: &str, service: &str) -> Result<Compiled> {
    let services = ws.service_names();
    if !services.contains(&service) {
        return Err(resolve::unknown_service(service, &services));
    }
    let spec = resolve::resolve(ws, &[env.to_string()])?;
    let Some(env_spec) = spec.environments.iter().find(|e| e.name == env) else {
        return Err(resolve::unknown_environment(env, &ws.environment_names()));
    };
    let Some(objects) = render::one_service(&spec, env_spec, service) else {
        return Err(Error::Usage(format!(
            "service `{service}` is disabled in environment `{env}` (`enabled = false`), so it has no manifests; remove its Application, or enable the service"
        )));
    };
    let report = validate::check(&spec, &objects);
    if report.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Error::invalid(report.diagnostics, ws.sources.clone()));
    }
    let tree = emit::emit_with_waivers(&spec, &objects, &report.waived);
    Ok(Compiled {
        spec,
        object_count: objects.len(),
        tree,
        warnings: report.diagnostics,
        scopes: Vec::new(),
    })
}
