//! What a `bump-image` or `promote` did (`Update`: each image's version before and
//! after, the files written, the commit) and how it is told: the report, the GitHub
//! Actions outputs and step summary, and the commit message.

use std::fmt;

use super::{slot_name, Kind};
use crate::diagnostic::{plural, Diagnostic};
use crate::error::{Error, Result};
use crate::github_actions::Note;
use crate::overlay_edit::{ContainerRef, Field};
use crate::source::Sources;
use crate::write;
/// An image version as the overlay states it: tag, digest, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageVersion {
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageVersion {
    pub fn is_empty(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// The tag, else the digest shortened to 12 hex digits (for one-line messages).
    pub fn short(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(t), _) => t.clone(),
            (None, Some(d)) => short_digest(d),
            (None, None) => "(none)".into(),
        }
    }

    pub(super) fn get(&self, field: Field) -> Option<&String> {
        match field {
            Field::Tag => self.tag.as_ref(),
            Field::Digest => self.digest.as_ref(),
        }
    }
}

/// `tag`, `digest`, or `tag@digest`; `(none)` when neither is set.
impl fmt::Display for ImageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.tag, &self.digest) {
            (Some(t), Some(d)) => write!(f, "{t}@{d}"),
            (Some(t), None) => f.write_str(t),
            (None, Some(d)) => f.write_str(d),
            (None, None) => f.write_str("(none)"),
        }
    }
}

fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((algo, hex)) if hex.len() > 12 => format!("{algo}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}

/// One service whose image changed (its own, or a sidecar's or init container's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceChange {
    pub service: String,
    /// The sidecar or init container whose image changed; None for the service's own.
    pub container: Option<ContainerRef>,
    /// Effective version before (overlay, else platform.toml), and after.
    pub before: ImageVersion,
    pub after: ImageVersion,
    /// The image's full repository in the environment (the platform registry applied);
    /// None when no layer names one.
    pub repository: Option<String>,
}

/// An image already at the version asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchanged {
    /// `service`, or `service/container` for a sidecar or init container.
    pub name: String,
    pub version: ImageVersion,
    /// The image's full repository in the environment, as [`ServiceChange::repository`].
    pub repository: Option<String>,
}

impl ServiceChange {
    /// `api`, or `api/proxy` for a sidecar or init container.
    pub fn name(&self) -> String {
        slot_name(&self.service, self.container.as_ref())
    }

    /// The tag moves to an older version (`2.3.0` → `2.2.0`), compared as `kgen diff`
    /// compares them (its risk `image-downgrade`); false when either is no version.
    pub fn moves_backwards(&self) -> bool {
        match (&self.before.tag, &self.after.tag) {
            (Some(b), Some(a)) => {
                crate::diff::compare_versions(a, b) == Some(std::cmp::Ordering::Less)
            }
            _ => false,
        }
    }
}

/// What a `bump-image` or `promote` did.
#[derive(Debug, Clone)]
pub struct Update {
    pub env: String,
    /// The overlay file, relative to the platform directory (`overlays/dev.toml`).
    pub overlay: String,
    /// True when the overlay file did not exist and was created.
    pub overlay_created: bool,
    /// Services whose image changed, in request order.
    pub changes: Vec<ServiceChange>,
    /// Images that were already the requested one.
    pub unchanged: Vec<Unchanged>,
    /// Every file written or removed, relative to the platform directory, sorted.
    pub files: Vec<String>,
    /// What happened in `generated/` (None with `--no-render` or when nothing changed).
    pub rendered: Option<write::Outcome>,
    /// The commit made with `--commit`.
    pub commit: Option<String>,
    /// Non-blocking diagnostics of the compile, and the sources they point into.
    pub warnings: Vec<Diagnostic>,
    pub sources: Sources,
    /// The sidecars and init containers that run the bumped service's own image
    /// repository and stay at another version (`bump-image SERVICE` moves the service's
    /// container only): `service/container`, its version, and the repository.
    pub left_behind: Vec<(String, ImageVersion, String)>,
}

impl Update {
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The notes of `bump-image`, for stderr ([`render_notes`](crate::github_actions::render_notes)
    /// prints them as `note:` lines or GitHub annotations): a tag that moves backwards
    /// (as `promote` says it), each sidecar or init container left at another version
    /// of the service's image repository (a warning), and a new overlay.
    pub fn notes(&self) -> Vec<Note> {
        let mut out = Vec::new();
        let back = self.changes.iter().filter(|c| c.moves_backwards()).count();
        if back > 0 {
            out.push(Note::warning(
                format!("kgen bump-image: {} moves backwards", self.env),
                format!(
                    "{} {} to an older version than it runs (a rollback? `kgen diff` shows it as the risk image-downgrade)",
                    if back == 1 {
                        "this moves".to_string()
                    } else {
                        format!("{back} of these move")
                    },
                    self.env
                ),
            ));
        }
        for (name, version, repository) in &self.left_behind {
            out.push(Note::warning(
                format!("kgen bump-image: {name} stays at {version} in {}", self.env),
                format!(
                    "`{name}` runs the same image repository and stays at {version} in {}: a migration that runs the service's image should move with it; `kgen bump-image --image {repository}:<tag> --env {}` moves every container of that repository",
                    self.env, self.env
                ),
            ));
        }
        out.extend(self.overlay_note("kgen bump-image"));
        out
    }

    /// The note that a new overlay changes the header of every file rendered for its
    /// environment (docs/output.md), if it does; `command` titles its annotation.
    pub fn overlay_note(&self, command: &str) -> Option<Note> {
        match &self.rendered {
            Some(o) if self.changed() && self.overlay_created && !o.changed.is_empty() => Some(Note::notice(
                format!("{command}: {} is new", self.overlay),
                format!(
                    "{} is new, so the header of every file rendered for {} now names it; commit an empty overlay before the first deploy to keep deploy commits to what the image changes (docs/github-actions.md)",
                    self.overlay, self.env
                ),
            )),
            _ => None,
        }
    }

    /// Human report, for stdout: one line per service, then what was written and
    /// committed ([`notes`](Self::notes) go to stderr).
    pub fn report(&self) -> String {
        let mut out = String::new();
        let width = self
            .changes
            .iter()
            .map(|c| c.name().len())
            .chain(self.unchanged.iter().map(|u| u.name.len()))
            .max()
            .unwrap_or(0);
        for c in &self.changes {
            let back = if c.moves_backwards() {
                "  (moves backwards)"
            } else {
                ""
            };
            out.push_str(&format!(
                "{}: {:width$}  {} → {}{back}\n",
                self.env,
                c.name(),
                c.before,
                c.after
            ));
        }
        for u in &self.unchanged {
            out.push_str(&format!(
                "{}: {:width$}  already at {}, nothing to do\n",
                self.env, u.name, u.version
            ));
        }
        out.push_str(&self.footer());
        out
    }

    /// What was written and committed (empty when nothing changed).
    pub fn footer(&self) -> String {
        let mut out = String::new();
        if !self.changed() {
            return out;
        }
        out.push_str(&format!(
            "{} {}",
            if self.overlay_created {
                "created"
            } else {
                "updated"
            },
            self.overlay
        ));
        match &self.rendered {
            Some(o) => out.push_str(&format!(
                "; rendered {} into generated/: {} added, {} changed, {} removed\n",
                self.env,
                o.added.len(),
                o.changed.len(),
                o.removed.len()
            )),
            None => out.push_str(" (not rendered: run `kgen render` before committing)\n"),
        }
        if let Some(c) = &self.commit {
            out.push_str(&format!(
                "committed {} ({})\n",
                &c[..c.len().min(12)],
                plural(self.files.len(), "file")
            ));
        }
        out
    }

    /// True when a sidecar's or init container's image is among the rows.
    fn names_containers(&self) -> bool {
        self.changes.iter().any(|c| c.container.is_some())
            || self.unchanged.iter().any(|u| u.name.contains('/'))
    }

    /// `previous` / `current` outputs: the version for one service's own image,
    /// `name=version` lines for several images or when a sidecar or init container is
    /// among them (`api/proxy=2.2`), so the outputs always say which container.
    fn versions(&self, after: bool) -> String {
        let mut rows: Vec<(String, String)> = self
            .changes
            .iter()
            .map(|c| {
                let v = if after { &c.after } else { &c.before };
                (c.name(), v.to_string())
            })
            .collect();
        rows.extend(
            self.unchanged
                .iter()
                .map(|u| (u.name.clone(), u.version.to_string())),
        );
        if rows.len() == 1 && !self.names_containers() {
            rows.remove(0).1
        } else {
            rows.iter()
                .map(|(s, v)| format!("{s}={v}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    }

    /// The step outputs: `changed`, `previous`, `current`, `files`, `commit`.
    pub fn github_outputs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("changed", self.changed().to_string()),
            ("previous", self.versions(false)),
            ("current", self.versions(true)),
            ("files", self.files.join("\n")),
            ("commit", self.commit.clone().unwrap_or_default()),
        ]
    }

    /// A short Markdown summary for `$GITHUB_STEP_SUMMARY`.
    pub fn step_summary(&self, title: &str) -> String {
        let mut md = format!("### {title}\n\n");
        if self.changes.is_empty() && self.unchanged.is_empty() {
            md.push_str("Nothing to do.\n\n");
            return md;
        }
        if self.names_containers() {
            md.push_str("| service / container | before | after |\n|---|---|---|\n");
        } else {
            md.push_str("| service | before | after |\n|---|---|---|\n");
        }
        for c in &self.changes {
            md.push_str(&format!(
                "| `{}` | `{}` | **`{}`** |\n",
                c.name(),
                c.before,
                c.after
            ));
        }
        for u in &self.unchanged {
            md.push_str(&format!("| `{}` | `{}` | unchanged |\n", u.name, u.version));
        }
        md.push('\n');
        if self.changed() {
            md.push_str(&format!("Changed {}", plural(self.files.len(), "file")));
            if let Some(c) = &self.commit {
                md.push_str(&format!(" in commit `{}`", &c[..c.len().min(12)]));
            }
            md.push_str(".\n\n");
        } else {
            md.push_str("Already up to date: nothing written.\n\n");
        }
        md
    }

    /// Writes the outputs and summary when running in GitHub Actions (no-op elsewhere).
    pub fn publish_to_github_actions(&self, title: &str) -> Result<()> {
        let outputs = self.github_outputs();
        let pairs: Vec<(&str, &str)> = outputs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::github_actions::set_outputs(&pairs)
            .map_err(|e| Error::io("append to", "$GITHUB_OUTPUT", e))?;
        crate::github_actions::append_step_summary(&self.step_summary(title))
            .map_err(|e| Error::io("append to", "$GITHUB_STEP_SUMMARY", e))?;
        Ok(())
    }
}

/// `deploy(dev): main-api 1.2.3 → 1.2.4`; for several services or digests, a
/// subject line and one line per service with the full versions.
pub fn commit_message(env: &str, changes: &[ServiceChange], kind: Kind<'_>) -> String {
    let brief = |c: &ServiceChange| {
        let (b, a) = (c.before.short(), c.after.short());
        if b == a {
            // Same tag, new digest: show the digests.
            let d = |v: &ImageVersion| {
                v.digest
                    .as_deref()
                    .map_or_else(|| "(none)".to_string(), short_digest)
            };
            format!("{} {b} ({} → {})", c.name(), d(&c.before), d(&c.after))
        } else {
            format!("{} {b} → {a}", c.name())
        }
    };
    let subject = match changes {
        [one] => format!("deploy({env}): {}", brief(one)),
        many => {
            let afters: Vec<String> = many.iter().map(|c| c.after.short()).collect();
            let names: Vec<String> = many.iter().map(ServiceChange::name).collect();
            if afters.iter().all(|a| *a == afters[0]) {
                format!("deploy({env}): {} → {}", names.join(", "), afters[0])
            } else if many.len() <= 3 {
                let each: Vec<String> = many
                    .iter()
                    .map(|c| format!("{} {}", c.name(), c.after.short()))
                    .collect();
                format!("deploy({env}): {}", each.join(", "))
            } else {
                let what = if many.iter().any(|c| c.container.is_some()) {
                    "image"
                } else {
                    "service"
                };
                format!("deploy({env}): {}", plural(many.len(), what))
            }
        }
    };
    let detailed = changes.len() > 1
        || changes
            .iter()
            .any(|c| c.before.digest.is_some() || c.after.digest.is_some());
    let mut paragraphs = Vec::new();
    if detailed {
        let lines: Vec<String> = changes
            .iter()
            .map(|c| format!("- {}: {} → {}", c.name(), c.before, c.after))
            .collect();
        paragraphs.push(lines.join("\n"));
    }
    if let Kind::Promote { from } = kind {
        paragraphs.push(format!("Promoted from {from} with `kgen promote`."));
    }
    if paragraphs.is_empty() {
        subject
    } else {
        format!("{subject}\n\n{}\n", paragraphs.join("\n\n"))
    }
}
