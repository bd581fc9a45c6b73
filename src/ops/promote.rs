//! `kgen promote --from staging --to prod [SERVICE...]`: copy image tags and
//! digests from one environment to another.
//!
//! For each service the *effective* image of the source environment (its overlay,
//! else platform.toml) is made the effective image of the target environment, by
//! editing only the target's overlay: values are set where they differ, and a
//! digest (or tag) that the target's overlay pins but the source does not have is
//! removed, so the target really runs what the source runs. The same goes for each
//! sidecar and init container the service has in the source environment
//! (`services.<svc>.sidecars.<name>.tag`, ...), named `service/container`. Everything else (the
//! lock, the in-memory compile, atomic writes, rollback, `--commit`) is the
//! `bump-image` transaction (`ops::bump_image::transaction::update`).

use std::path::Path;

use crate::error::{Error, Result};
use crate::github_actions::Note;
use crate::lock::CheckoutLock;
use crate::ops::bump_image::images::{
    check_env, check_service, containers_of, effective, overlay_version, repository,
};
use crate::ops::bump_image::report::{Unchanged, Update};
use crate::ops::bump_image::transaction::{self, platform_dir};
use crate::ops::bump_image::{ImageSlot, Kind};
use crate::overlay_edit::{Edit, Field};
use crate::workspace::Workspace;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromoteOptions {
    pub from: String,
    pub to: String,
    /// Services to promote; every service of platform.toml when empty.
    pub services: Vec<String>,
    pub render: bool,
    pub commit: bool,
}

/// What `promote` did.
#[derive(Debug, Clone)]
pub struct Promotion {
    pub from: String,
    pub to: String,
    pub update: Update,
    /// Images not promoted (`service` or `service/container`), and why (no image
    /// version in the source environment).
    pub skipped: Vec<(String, String)>,
}

impl Promotion {
    /// Human report, for stdout: what moves, what is already equal, what was skipped;
    /// then what was written ([`notes`](Self::notes) go to stderr).
    pub fn report(&self) -> String {
        let u = &self.update;
        let width = u
            .changes
            .iter()
            .map(|c| c.name().len())
            .chain(u.unchanged.iter().map(|x| x.name.len()))
            .chain(self.skipped.iter().map(|(s, _)| s.len()))
            .max()
            .unwrap_or(0);
        let mut out = format!("promote {} → {}\n", self.from, self.to);
        for c in &u.changes {
            let back = if c.moves_backwards() {
                "  (moves backwards)"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {:width$}  {} → {}{back}\n",
                c.name(),
                c.before,
                c.after
            ));
        }
        for x in &u.unchanged {
            out.push_str(&format!(
                "  {:width$}  {} (already equal)\n",
                x.name, x.version
            ));
        }
        for (s, why) in &self.skipped {
            out.push_str(&format!("  {s:width$}  skipped: {why}\n"));
        }
        if !u.changed() {
            out.push_str(&format!(
                "{} already runs what {} runs: nothing to do\n",
                self.to, self.from
            ));
        }
        out.push_str(&u.footer());
        out
    }

    /// The notes, for stderr (`note:` lines or GitHub annotations): versions that move
    /// backwards (a warning), and a new overlay that changes every header.
    pub fn notes(&self) -> Vec<Note> {
        let u = &self.update;
        let mut out = Vec::new();
        let back = u.changes.iter().filter(|c| c.moves_backwards()).count();
        if back > 0 {
            out.push(Note::warning(
                format!("kgen promote: {} moves backwards", self.to),
                format!(
                    "{back} of these move{} {} to an older version than it runs: promote the other way, or name only the services meant (`kgen diff` shows it as the risk image-downgrade)",
                    if back == 1 { "s" } else { "" },
                    self.to
                ),
            ));
        }
        out.extend(u.overlay_note("kgen promote"));
        out
    }

    pub fn publish_to_github_actions(&self) -> Result<()> {
        self.update
            .publish_to_github_actions(&format!("kgen promote: {} → {}", self.from, self.to))
    }
}

/// Runs `kgen promote`. `on_wait` is called if another kgen holds the checkout lock.
pub fn promote(
    platform: &Path,
    opts: &PromoteOptions,
    on_wait: impl FnOnce(&Path),
) -> Result<Promotion> {
    if opts.from == opts.to {
        return Err(Error::Usage(format!(
            "--from and --to are both `{}`; promote copies images between two environments",
            opts.from
        )));
    }
    let root = platform_dir(platform);
    let _lock = CheckoutLock::acquire(&root, on_wait)?;
    let ws = Workspace::load(platform)?;
    check_env(&ws, &opts.from)?;
    check_env(&ws, &opts.to)?;
    let services: Vec<String> = if opts.services.is_empty() {
        ws.service_names().iter().map(|s| s.to_string()).collect()
    } else {
        for s in &opts.services {
            check_service(&ws, s)?;
        }
        let mut v: Vec<String> = Vec::new();
        for s in &opts.services {
            if !v.contains(s) {
                v.push(s.clone());
            }
        }
        v
    };

    // Each service's own image, then its sidecars' and init containers' (those it has
    // in the source environment).
    let slots: Vec<ImageSlot> = services
        .iter()
        .flat_map(|service| {
            std::iter::once(ImageSlot::service(service)).chain(
                containers_of(&ws, &opts.from, service)
                    .into_iter()
                    .map(|c| ImageSlot {
                        service: service.clone(),
                        container: Some(c),
                    }),
            )
        })
        .collect();

    let mut edits = Vec::new();
    let mut unchanged: Vec<Unchanged> = Vec::new();
    let mut skipped = Vec::new();
    for slot in &slots {
        let (service, container) = (&slot.service, slot.container.as_ref());
        let source = effective(&ws, &opts.from, service, container);
        let target = effective(&ws, &opts.to, service, container);
        if source.is_empty() {
            skipped.push((
                slot.to_string(),
                format!("no tag or digest in {}", opts.from),
            ));
            continue;
        }
        if source == target {
            unchanged.push(Unchanged {
                name: slot.to_string(),
                version: source,
                repository: repository(&ws, &opts.to, service, container),
            });
            continue;
        }
        let pinned = overlay_version(&ws, &opts.to, service, container);
        for (field, want, have, own) in [
            (Field::Tag, &source.tag, &target.tag, &pinned.tag),
            (
                Field::Digest,
                &source.digest,
                &target.digest,
                &pinned.digest,
            ),
        ] {
            let edit = match (want, have) {
                (Some(v), h) if h.as_ref() != Some(v) => Edit::set(service, field, v),
                (None, Some(_)) if own.is_some() => Edit::remove(service, field),
                (None, Some(h)) => {
                    return Err(Error::Other(format!(
                        "cannot promote `{slot}`: {} has no {field}, but {} gets {field} `{h}` from platform.toml, which an overlay cannot unset",
                        opts.from, opts.to
                    )))
                }
                _ => continue,
            };
            edits.push(edit.in_container(container.cloned()));
        }
    }
    let update = transaction::update(
        &ws,
        &opts.to,
        &edits,
        unchanged,
        Kind::Promote { from: &opts.from },
        opts.render,
        opts.commit,
    )?;
    Ok(Promotion {
        from: opts.from.clone(),
        to: opts.to.clone(),
        update,
        skipped,
    })
}
