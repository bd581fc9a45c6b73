//! When the input has errors: the checks of what could be resolved without them, in
//! the same run, so that one run reports every problem it can.
//!
//! The services that resolved without errors (and whose rendering no error may
//! change: [`Partial`]) are rendered, patched and given their hand-written
//! objects, and validated. What is added to the input's errors: the escape hatch's
//! errors, the errors validation finds at a line of a hand-written file or at a
//! patch, and the errors the checks of one object at a time (schema, semantics,
//! policy) find in kgen's own objects of those services. What needs the whole
//! platform waits for the errors to be fixed, and the closing line says so
//! ([`crate::error::Invalid::waiting`]): the checks between objects of kgen's own
//! (they would report what only the missing objects cause), the patches and
//! manifests of the services with errors, the Argo CD checks (`admission`), a
//! `[defaults]` patch that matches nothing, and every warning.
//! docs/cli.md#problem-formats lists them.

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::emit::Notes;
use crate::error::Error;
use crate::escape_hatch::{Batch, Hatch};
use crate::render::{self, Object};
use crate::resolve::Partial;
use crate::source::Origin;
use crate::spec::PlatformSpec;
use crate::validate::{self, Finding, Provenance, Report};
use crate::workspace::Workspace;

/// `e` (the input's errors) with the errors found in what `partial` lets check, and
/// `waiting` set: some checks wait for these errors to be fixed.
pub fn add_clean_errors(ws: &Workspace, e: Error, partial: Option<Box<Partial>>) -> Error {
    let Error::Invalid(mut inv) = e else {
        return e;
    };
    inv.waiting = true;
    let Some(mut partial) = partial else {
        return Error::Invalid(inv);
    };
    let hatch = Hatch::prepare(ws, &mut partial.spec);
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
/// a patch, and what the checks of one object find in kgen's own objects: the
/// checks between them wait, for what is left out may change what they find (a
/// NetworkPolicy depends on the services that call it).
fn check(spec: &PlatformSpec, objects: &[Object], known: &Batch, report: &mut Report) {
    let mut part = Report::default();
    validate::check_into_with(spec, objects, &Partly(known), &mut part);
    report.diagnostics.append(&mut part.diagnostics);
}

/// A [`Batch`] of part of the platform's objects.
struct Partly<'b, 'a, 'w>(&'b Batch<'a, 'w>);

impl Provenance for Partly<'_, '_, '_> {
    fn is_hand_written(&self, path: &str) -> bool {
        self.0.is_hand_written(path)
    }

    fn schema_findings(&self, path: &str, object: &Value) -> Option<Vec<Finding>> {
        self.0.schema_findings(path, object)
    }

    fn origin(&self, path: &str, finding: &Finding) -> Option<Origin> {
        self.0.origin(path, finding)
    }

    fn judges(&self, path: &str, finding: &Finding, between: bool) -> bool {
        self.0.judges(path, finding, between)
    }

    fn reports_own(&self, _finding: &Finding, between: bool) -> bool {
        !between
    }
}
