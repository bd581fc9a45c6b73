//! When the input has errors: the escape hatch's checks of what could be resolved
//! without them, in the same run, so that one run reports every problem it can.
//!
//! The services that resolved without errors (and whose rendering no error may
//! change: [`Partial`]) are rendered, patched and given their hand-written
//! objects; what the escape hatch finds, and what validation finds at a line of a
//! hand-written file or at a patch, is added to the input's errors. What needs the
//! whole platform waits for the errors to be fixed, and the closing line says so
//! ([`crate::error::Invalid::waiting`]): the patches and manifests of the services
//! with errors, the Argo CD checks (`admission`), a `[defaults]` patch that matches
//! nothing. docs/cli.md#problem-formats lists them.

use std::sync::Mutex;

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::emit::Notes;
use crate::error::Error;
use crate::escape_hatch::{self, Batch, Hatch};
use crate::render::{self, Object};
use crate::resolve::Partial;
use crate::source::Origin;
use crate::spec::PlatformSpec;
use crate::validate::{self, Finding, Provenance, Report};
use crate::workspace::Workspace;

/// `e` (the input's errors) with the errors of the escape hatch that `partial` lets
/// check; `waiting` set when the platform has patches or hand-written manifests.
pub fn add_hatch_errors(ws: &Workspace, e: Error, partial: Option<Box<Partial>>) -> Error {
    let Error::Invalid(mut inv) = e else {
        return e;
    };
    let Some(mut partial) = partial else {
        inv.waiting = !ws.escape_hatch.manifests.is_empty() || escape_hatch::has_patches(ws);
        return Error::Invalid(inv);
    };
    let hatch = Hatch::prepare(ws, &mut partial.spec);
    if hatch.is_idle() {
        return Error::Invalid(inv);
    }
    inv.waiting = true;
    let spec = &partial.spec;
    let mut report = Report::default();
    for env in &spec.environments {
        let mut fit = env.clone();
        fit.services
            .retain(|s| !partial.unfit.contains(&(env.name.clone(), s.name.clone())));
        let owners = render::namespace_owners(&fit);
        let peers = render::network_policy::Peers::of(&fit);
        let mut known = Batch::new(&hatch);
        let mut notes = Notes::new();
        let mut objects = Vec::new();
        for (i, svc) in fit.services.iter().enumerate() {
            let rendered = render::service_objects(spec, &fit, &peers, svc, owners[i]);
            let mut out = hatch.service(spec, &fit, svc, rendered);
            known.add(&mut out, &mut notes);
            objects.append(&mut out.objects);
        }
        check(spec, &objects, &known, &mut report);
    }
    for cluster in &spec.clusters {
        let mut out = hatch.cluster(&cluster.name);
        let mut known = Batch::new(&hatch);
        known.add(&mut out, &mut Notes::new());
        check(spec, &out.objects, &known, &mut report);
    }
    report.diagnostics.extend(hatch.finish(false));
    let mut found = validate::finish(report).diagnostics;
    found.retain(Diagnostic::is_error);
    inv.diagnostics.append(&mut found);
    crate::diagnostic::sort(&mut inv.diagnostics);
    crate::diagnostic::dedup(&mut inv.diagnostics);
    Error::Invalid(inv)
}

/// Validates `objects`, keeping what is found at a line of a hand-written file or at
/// a patch: kgen's own objects may differ from what the fixed input renders.
fn check(spec: &PlatformSpec, objects: &[Object], known: &Batch, report: &mut Report) {
    let recording = Recording {
        batch: known,
        origins: Mutex::new(Vec::new()),
    };
    let mut part = Report::default();
    validate::check_into_with(spec, objects, &recording, &mut part);
    let origins = recording
        .origins
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    report.diagnostics.extend(
        part.diagnostics
            .into_iter()
            .filter(|d| d.origin.as_ref().is_some_and(|o| origins.contains(o))),
    );
}

/// A [`Batch`] that records where it located findings.
struct Recording<'b, 'a, 'w> {
    batch: &'b Batch<'a, 'w>,
    origins: Mutex<Vec<Origin>>,
}

impl Provenance for Recording<'_, '_, '_> {
    fn schema_findings(&self, path: &str, object: &Value) -> Option<Vec<Finding>> {
        self.batch.schema_findings(path, object)
    }

    fn origin(&self, path: &str, finding: &Finding) -> Option<Origin> {
        let origin = self.batch.origin(path, finding)?;
        self.origins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(origin.clone());
        Some(origin)
    }
}
