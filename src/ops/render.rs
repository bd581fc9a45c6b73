//! `kgen render` and `kgen render --check`.

use std::time::{Duration, Instant};

use crate::compile::compile;
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::workspace::Workspace;
use crate::write::{self, Comparison, Outcome};

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Only these environments (all when empty).
    pub envs: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RenderSummary {
    pub environments: usize,
    pub objects: usize,
    pub outcome: Outcome,
    pub warnings: Vec<Diagnostic>,
    pub elapsed: Duration,
}

impl RenderSummary {
    /// The one-line summary printed after a render.
    pub fn line(&self) -> String {
        let o = &self.outcome;
        format!(
            "rendered {} into generated/: {} ({} added, {} changed, {} removed, {} unchanged) in {} ms",
            crate::diagnostic::plural(self.environments, "environment"),
            crate::diagnostic::plural(self.objects, "object"),
            o.added.len(),
            o.changed.len(),
            o.removed.len(),
            o.unchanged,
            self.elapsed.as_millis()
        )
    }
}

/// Renders and validates everything in memory, then writes only what changed.
pub fn render(ws: &Workspace, opts: &RenderOptions) -> Result<RenderSummary> {
    let start = Instant::now();
    let compiled = compile(ws, &opts.envs)?;
    let dir = ws.generated_dir();
    let comparison = write::compare(&dir, &compiled.tree, &compiled.scopes)?;
    let outcome = write::apply(&dir, &compiled.tree, &comparison)?;
    Ok(RenderSummary {
        environments: compiled.spec.environments.len(),
        objects: compiled.object_count,
        outcome,
        warnings: compiled.warnings,
        elapsed: start.elapsed(),
    })
}

#[derive(Debug, Clone)]
pub struct CheckSummary {
    pub comparison: Comparison,
    pub warnings: Vec<Diagnostic>,
}

impl CheckSummary {
    /// One line per stale, missing or extra file, then a verdict.
    pub fn report(&self) -> String {
        let c = &self.comparison;
        let mut out = String::new();
        for f in &c.stale {
            out.push_str(&format!("stale:   generated/{f}\n"));
        }
        for f in &c.missing {
            out.push_str(&format!("missing: generated/{f}\n"));
        }
        for f in &c.extra {
            out.push_str(&format!("extra:   generated/{f}\n"));
        }
        let n = c.stale.len() + c.missing.len() + c.extra.len();
        if n == 0 {
            out.push_str(&format!(
                "generated/ is up to date ({} checked)\n",
                crate::diagnostic::plural(c.unchanged, "file")
            ));
        } else {
            out.push_str(&format!(
                "generated/ is out of date: {} stale, {} missing, {} extra; run `kgen render` and commit the result\n",
                c.stale.len(),
                c.missing.len(),
                c.extra.len()
            ));
        }
        out
    }
}

/// Renders in memory and compares with `generated/`, writing nothing.
pub fn check(ws: &Workspace, opts: &RenderOptions) -> Result<CheckSummary> {
    let compiled = compile(ws, &opts.envs)?;
    let comparison = write::compare(&ws.generated_dir(), &compiled.tree, &compiled.scopes)?;
    Ok(CheckSummary {
        comparison,
        warnings: compiled.warnings,
    })
}
