//! `kgen render` and `kgen render --check`.

use std::time::Duration;

use crate::compile::compile_into;
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::stages::{self, Stage};
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
    pub clusters: usize,
    /// Kubernetes objects rendered (and validated).
    pub objects: usize,
    /// Files of the render (objects, Helm values, the Terraform hand-off, ...).
    pub files: usize,
    pub outcome: Outcome,
    pub warnings: Vec<Diagnostic>,
    /// The run's time on the clock of `--verbose` (load included): [`stages::elapsed`].
    pub elapsed: Duration,
}

impl RenderSummary {
    /// The one-line summary printed after a render; the warnings printed above it are
    /// counted, when there are any.
    pub fn line(&self) -> String {
        let o = &self.outcome;
        let warnings = match self.warnings.len() {
            0 => String::new(),
            n => format!("; {}", crate::diagnostic::plural(n, "warning")),
        };
        format!(
            "rendered {} on {} into generated/: {} ({} Kubernetes objects; {} added, {} changed, {} removed, {} unchanged{warnings}) in {} ms",
            crate::diagnostic::plural(self.environments, "environment"),
            crate::diagnostic::plural(self.clusters, "cluster"),
            crate::diagnostic::plural(self.files, "file"),
            self.objects,
            o.added.len(),
            o.changed.len(),
            o.removed.len(),
            o.unchanged,
            stages::millis(self.elapsed)
        )
    }
}

/// The checkout lock for a writing render of `platform` (src/lock.rs), to take
/// before the workspace is loaded: `bump-image`, `promote` and `bump-chart` hold it
/// from reading their inputs to writing `generated/`, so a render waits for them
/// and then reads what they wrote, instead of writing files from older inputs over
/// theirs. None where the lock file cannot be created nor opened (a read-only
/// checkout, which no bump can edit either).
///
/// From here on, SIGINT, SIGTERM and SIGHUP stop the render cleanly: the files it
/// has not finished are removed and kgen exits with 128 + the signal
/// (src/interrupt.rs).
pub fn lock(
    platform: &std::path::Path,
    on_wait: impl FnOnce(&std::path::Path),
) -> Result<Option<crate::lock::CheckoutLock>> {
    crate::interrupt::install();
    // No platform file: nothing to lock (and no lock file left where there is no
    // platform); loading it reports the missing path.
    if !platform.is_file() {
        return Ok(None);
    }
    let dir = crate::ops::bump_image::transaction::platform_dir(platform);
    crate::lock::CheckoutLock::acquire_if_possible(&dir, on_wait)
}

/// Renders and validates everything in memory, then writes only what changed.
pub fn render(ws: &Workspace, opts: &RenderOptions) -> Result<RenderSummary> {
    let dir = ws.generated_dir();
    // Compared with the disk as the files are emitted; only missing and stale ones
    // are kept, to write once every environment validated.
    let mut comparer = write::Comparer::new(&dir);
    let run = compile_into(ws, &opts.envs, &mut comparer)?;
    let (comparison, to_write) = stages::time(Stage::Write, || comparer.finish())?;
    if !comparison.foreign.is_empty() {
        return Err(foreign_files(ws, &comparison, run.warnings));
    }
    let outcome = stages::time(Stage::Write, || {
        write::apply_pending(&dir, &to_write, &comparison)
    })?;
    let summary = RenderSummary {
        environments: run.environments,
        clusters: run.clusters,
        objects: run.object_count,
        files: run.files,
        outcome,
        warnings: run.warnings,
        elapsed: stages::elapsed(),
    };
    crate::compile::drop_in_background(run.spec);
    Ok(summary)
}

/// The error for the foreign entries of `c` (manifest files kgen did not write in
/// directories Argo CD deploys, symbolic links): each file located at its first
/// line, with the run's `warnings`. Links and other entries that are not regular
/// files are never read.
pub(crate) fn foreign_files(
    ws: &Workspace,
    c: &Comparison,
    warnings: Vec<Diagnostic>,
) -> crate::Error {
    use crate::source::Origin;
    let mut sources = ws.sources.clone();
    let dir = ws.generated_dir();
    let envs = ws.environment_names();
    let mut diags: Vec<Diagnostic> = c
        .foreign
        .iter()
        .map(|f| {
            let path = dir.join(f);
            let shown = format!("{}/{f}", crate::workspace::GENERATED_DIR);
            // `manifests/` mirrors the directories of environments and clusters.
            let top = f.split('/').next().unwrap_or("");
            let in_env = top == "clusters" || envs.contains(&top);
            let link = c.links.contains(f);
            if link || c.special.contains(f) {
                let (what, help) = if link {
                    (
                        format!("{shown} is a symbolic link: kgen writes none in generated/, and Argo CD follows links, so what it points to would reach the cluster without kgen's checks"),
                        "delete the link (kgen will not remove what it did not write)",
                    )
                } else {
                    (
                        format!("{shown} is not a regular file, in a directory Argo CD deploys: kgen writes only regular files there"),
                        "delete it (kgen will not remove what it did not write)",
                    )
                };
                let help = if in_env {
                    format!("{help}; to deploy a hand-written manifest, put the file itself at `manifests/{f}`: kgen then validates it and writes it here with a header (docs/escape-hatch.md)")
                } else {
                    help.to_string()
                };
                return Diagnostic::error(crate::rules::FOREIGN_FILE, what).help(help);
            }
            // The file's first line, for the snippet (never more than a line).
            let first = std::fs::read(&path)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .map(|t| t.lines().next().unwrap_or("").chars().take(200).collect::<String>());
            let help = if in_env {
                format!("to keep it, move it to `manifests/{f}`: kgen then validates it and writes it here with a header (docs/escape-hatch.md); or delete it. kgen will not remove a file it did not write")
            } else {
                "move hand-written manifests out of generated/ (kgen owns that tree; docs/escape-hatch.md says where they go), or delete the file; kgen will not remove a file it did not write".to_string()
            };
            let d = Diagnostic::error(
                crate::rules::FOREIGN_FILE,
                format!("{shown} was not written by kgen, but Argo CD deploys every manifest in its directory: it would reach the cluster without kgen's checks"),
            )
            .help(help);
            match first {
                Some(line) => {
                    let len = line.len();
                    let secret = crate::secret_scan::scan("", &line).is_some();
                    let id = sources.add(shown, path, line);
                    let d = d.at(Origin::new(id, 0..len));
                    if secret {
                        d.redacted()
                    } else {
                        d
                    }
                }
                None => d,
            }
        })
        .collect();
    diags.extend(warnings);
    crate::diagnostic::sort(&mut diags);
    crate::Error::invalid(diags, sources)
}

#[derive(Debug, Clone)]
pub struct CheckSummary {
    pub comparison: Comparison,
    pub warnings: Vec<Diagnostic>,
}

impl CheckSummary {
    /// One line per stale, missing, extra or foreign file, then a verdict.
    pub fn report(&self) -> String {
        self.list() + &self.verdict()
    }

    /// One line per stale, missing, extra or foreign file: all that `--quiet` prints.
    pub fn list(&self) -> String {
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
        for f in &c.foreign {
            let why = if c.links.contains(f) {
                "a symbolic link: kgen writes none in generated/, and Argo CD follows links"
            } else if c.special.contains(f) {
                "not a regular file, in a directory Argo CD deploys"
            } else {
                "not written by kgen, in a directory Argo CD deploys"
            };
            out.push_str(&format!("foreign: generated/{f} ({why})\n"));
        }
        out
    }

    /// The closing line: up to date, or how far out of date (a summary line:
    /// `--quiet` leaves it out).
    pub fn verdict(&self) -> String {
        let c = &self.comparison;
        let mut out = String::new();
        let n = c.stale.len() + c.missing.len() + c.extra.len() + c.foreign.len();
        if n == 0 {
            out.push_str(&format!(
                "generated/ is up to date ({} checked)\n",
                crate::diagnostic::plural(c.unchanged, "file")
            ));
        } else {
            out.push_str(&format!(
                "generated/ is out of date: {} stale, {} missing, {} extra{}; run `kgen render` and commit the result\n",
                c.stale.len(),
                c.missing.len(),
                c.extra.len(),
                if c.foreign.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} foreign (move hand-written files out of generated/ first)",
                        c.foreign.len()
                    )
                }
            ));
        }
        out
    }
}

/// Renders in memory and compares with `generated/`, writing nothing.
pub fn check(ws: &Workspace, opts: &RenderOptions) -> Result<CheckSummary> {
    let dir = ws.generated_dir();
    let mut comparer = write::Comparer::without_files(&dir);
    let run = compile_into(ws, &opts.envs, &mut comparer)?;
    let (mut comparison, _) = stages::time(Stage::Write, || comparer.finish())?;
    // The temporary files a killed kgen left (`git add -A` would commit them): extra,
    // which `kgen render` removes.
    let temp = write::abandoned_temp_files(&dir, &comparison);
    if !temp.is_empty() {
        comparison.extra.extend(temp);
        comparison.extra.sort();
    }
    crate::compile::drop_in_background(run.spec);
    Ok(CheckSummary {
        comparison,
        warnings: run.warnings,
    })
}
