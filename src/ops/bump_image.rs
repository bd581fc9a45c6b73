//! `kgen bump-image`: set one service's (or every matching service's) image tag
//! and/or digest in one environment's overlay, re-render that environment, and
//! optionally commit exactly the changed files. An image is a service's own (its main
//! container) or one of its sidecars' or init containers' (`--container`), named
//! `service` or `service/container` in everything it prints; `--image` matches all
//! of them.
//!
//! The transaction (`update`, shared with `kgen promote`) is ordered so that
//! nothing is ever half-done:
//! 1. take the checkout lock (`lock`), then load the workspace: the overlay is read
//!    *after* the lock, so a concurrent bump's update is never lost;
//! 2. edit the overlay text in memory (`overlay_edit`: only the value's bytes change);
//! 3. parse and compile the environment with the edited text: if anything is
//!    invalid, report it (located in the edited file) and write nothing;
//! 4. with `--commit`, check the git index before writing anything;
//! 5. write the overlay atomically (and remove the temporary files a killed run left
//!    next to it), then the changed files of `generated/<env>/`; if any of that
//!    fails, every file is put back as it was;
//! 6. commit exactly the changed files.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::compile::compile;
use crate::diagnostic::{did_you_mean, plural, Diagnostic};
use crate::error::{Error, Result};
use crate::git_commit;
use crate::image_ref;
use crate::input::{ContainerLayer, ServiceLayer, SpannedMap};
use crate::lock::CheckoutLock;
use crate::overlay_edit::{self, ContainerList, ContainerRef, Edit, EditError, Field};
use crate::rules;
use crate::source::{Origin, Sources};
use crate::spanned::Spanned;
use crate::workspace::{InputFiles, Workspace, OVERLAY_DIR};
use crate::write;

/// What `bump-image` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One service, by name.
    Service(String),
    /// One sidecar or init container of a service, by name (`--container`).
    Container { service: String, container: String },
    /// Every service, sidecar and init container whose full image repository
    /// (registry included) is this one, the way `kustomize edit set image` matches by
    /// name.
    Repository(String),
}

/// Whose image: a service's own (its main container), or one of its sidecars or init
/// containers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageSlot {
    pub service: String,
    pub container: Option<ContainerRef>,
}

impl ImageSlot {
    /// A service's own image.
    pub fn service(service: &str) -> ImageSlot {
        ImageSlot {
            service: service.to_string(),
            container: None,
        }
    }
}

/// `api`, or `api/proxy` for a sidecar or init container.
impl fmt::Display for ImageSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        slot_name(&self.service, self.container.as_ref()).fmt(f)
    }
}

fn slot_name(service: &str, container: Option<&ContainerRef>) -> String {
    match container {
        Some(c) => format!("{service}/{}", c.name),
        None => service.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BumpOptions {
    pub env: String,
    pub target: Target,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Re-render the environment into `generated/` (default). When false the
    /// environment is still compiled, so an invalid value is still refused.
    pub render: bool,
    /// Commit the changed files with git.
    pub commit: bool,
}

impl BumpOptions {
    /// Options for `--image REPOSITORY[:TAG][@DIGEST]`.
    pub fn from_image(env: &str, image: &str) -> Result<BumpOptions> {
        let (repository, tag, digest) = split_image(image)?;
        Ok(BumpOptions {
            env: env.to_string(),
            target: Target::Repository(repository),
            tag,
            digest,
            render: true,
            commit: false,
        })
    }
}

/// Splits `REPOSITORY[:TAG][@DIGEST]` and checks each part against the OCI grammar.
pub fn split_image(image: &str) -> Result<(String, Option<String>, Option<String>)> {
    let r = image_ref::parse_image_ref(image).map_err(|e| Error::Usage(format!("--image: {e}")))?;
    if r.tag.is_none() && r.digest.is_none() {
        return Err(Error::Usage(format!(
            "--image `{image}` has neither a tag nor a digest; write `{image}:1.2.3`, `{image}@sha256:…`, or both"
        )));
    }
    Ok((r.repository, r.tag, r.digest))
}

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

    fn get(&self, field: Field) -> Option<&String> {
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
}

impl ServiceChange {
    /// `api`, or `api/proxy` for a sidecar or init container.
    pub fn name(&self) -> String {
        slot_name(&self.service, self.container.as_ref())
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
    /// Images that were already the requested one (`service` or
    /// `service/container`), with it.
    pub unchanged: Vec<(String, ImageVersion)>,
    /// Every file written or removed, relative to the platform directory, sorted.
    pub files: Vec<String>,
    /// What happened in `generated/` (None with `--no-render` or when nothing changed).
    pub rendered: Option<write::Outcome>,
    /// The commit made with `--commit`.
    pub commit: Option<String>,
    /// Non-blocking diagnostics of the compile, and the sources they point into.
    pub warnings: Vec<Diagnostic>,
    pub sources: Sources,
}

impl Update {
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Human report, one line per service, then what was written and committed.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let width = self
            .changes
            .iter()
            .map(|c| c.name().len())
            .chain(self.unchanged.iter().map(|(s, _)| s.len()))
            .max()
            .unwrap_or(0);
        for c in &self.changes {
            out.push_str(&format!(
                "{}: {:width$}  {} → {}\n",
                self.env,
                c.name(),
                c.before,
                c.after
            ));
        }
        for (s, v) in &self.unchanged {
            out.push_str(&format!(
                "{}: {s:width$}  already at {v}, nothing to do\n",
                self.env
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
            || self.unchanged.iter().any(|(s, _)| s.contains('/'))
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
                .map(|(s, v)| (s.clone(), v.to_string())),
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
        for (s, v) in &self.unchanged {
            md.push_str(&format!("| `{s}` | `{v}` | unchanged |\n"));
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

/// Runs `kgen bump-image`. `on_wait` is called if another kgen holds the checkout lock.
pub fn bump_image(
    platform: &Path,
    opts: &BumpOptions,
    on_wait: impl FnOnce(&Path),
) -> Result<Update> {
    // Validate the new values before touching (or even locking) anything.
    if opts.tag.is_none() && opts.digest.is_none() {
        return Err(Error::Usage(
            "nothing to set: pass --tag, --digest, or both".into(),
        ));
    }
    if let Some(t) = &opts.tag {
        image_ref::check_tag(t).map_err(|e| Error::Usage(format!("--tag: {e}")))?;
        if t == "latest" {
            return Err(Error::Usage(
                "--tag latest: `latest` does not pin a version, and kgen refuses it; use a version or a commit SHA".into(),
            ));
        }
    }
    if let Some(d) = &opts.digest {
        image_ref::check_digest(d).map_err(|e| Error::Usage(format!("--digest: {e}")))?;
    }

    let root = platform_dir(platform);
    let _lock = CheckoutLock::acquire(&root, on_wait)?;
    let ws = Workspace::load(platform)?;
    check_env(&ws, &opts.env)?;

    let slots: Vec<ImageSlot> = match &opts.target {
        Target::Service(name) => {
            check_service(&ws, name)?;
            vec![ImageSlot::service(name)]
        }
        Target::Container { service, container } => {
            check_service(&ws, service)?;
            vec![ImageSlot {
                service: service.clone(),
                container: Some(check_container(&ws, &opts.env, service, container)?),
            }]
        }
        Target::Repository(repo) => matching_slots(&ws, &opts.env, repo)?,
    };

    let mut edits = Vec::new();
    let mut unchanged = Vec::new();
    for slot in &slots {
        let (service, container) = (&slot.service, slot.container.as_ref());
        let before = effective(&ws, &opts.env, service, container);
        let mut slot_edits = Vec::new();
        for (field, value) in [(Field::Tag, &opts.tag), (Field::Digest, &opts.digest)] {
            if let Some(v) = value {
                if before.get(field) != Some(v) {
                    slot_edits.push(Edit::set(service, field, v).in_container(container.cloned()));
                }
            }
        }
        // A new tag alone would keep deploying a pinned digest: refuse rather than mislead.
        if opts.digest.is_none() && before.digest.is_some() && before.tag != opts.tag {
            return Err(Error::Usage(format!(
                "`{slot}` is pinned to digest {} in {}; a new tag alone would keep deploying that digest. Pass the new image's --digest as well",
                before.digest.as_deref().unwrap_or_default(),
                opts.env
            )));
        }
        if slot_edits.is_empty() {
            unchanged.push((slot.to_string(), before));
        } else {
            edits.extend(slot_edits);
        }
    }
    update(
        &ws,
        &opts.env,
        &edits,
        unchanged,
        Kind::Bump,
        opts.render,
        opts.commit,
    )
}

/// Which command is updating an overlay, for the commit message.
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    Bump,
    Promote { from: &'a str },
}

/// The platform directory (where `overlays/`, `generated/` and the lock live).
pub(crate) fn platform_dir(platform: &Path) -> PathBuf {
    platform
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

pub(crate) fn check_env(ws: &Workspace, env: &str) -> Result<()> {
    let known = ws.environment_names();
    if known.contains(&env) {
        return Ok(());
    }
    Err(crate::resolve::unknown_environment(env, &known))
}

pub(crate) fn check_service(ws: &Workspace, service: &str) -> Result<()> {
    let known = ws.service_names();
    if known.contains(&service) {
        return Ok(());
    }
    let hint = did_you_mean(service, known.iter().copied())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    Err(Error::Usage(format!(
        "unknown service `{service}`{hint}; platform.toml defines: {}",
        known.join(", ")
    )))
}

/// The layers of a service in an environment, highest first: overlay, service, `[defaults]`.
fn layers<'a>(ws: &'a Workspace, env: &str, service: &str) -> Vec<&'a ServiceLayer> {
    let mut out = Vec::new();
    if let Some(l) = ws
        .overlays
        .get(env)
        .and_then(|o| o.data.services.get(service))
    {
        out.push(&*l.value);
    }
    if let Some(l) = ws.platform.services.get(service) {
        out.push(&*l.value);
    }
    if let Some(d) = &ws.platform.defaults {
        out.push(&d.value);
    }
    out
}

fn pick<L>(layers: &[&L], get: impl Fn(&L) -> Option<&Spanned<String>>) -> Option<String> {
    layers.iter().find_map(|l| get(l)).map(|s| s.value.clone())
}

fn list_of(l: &ServiceLayer, list: ContainerList) -> &SpannedMap<ContainerLayer> {
    match list {
        ContainerList::Sidecars => &l.sidecars,
        ContainerList::InitContainers => &l.init_containers,
    }
}

/// A container's layers among a service's layers, highest first.
fn container_layers<'a>(layers: &[&'a ServiceLayer], c: &ContainerRef) -> Vec<&'a ContainerLayer> {
    layers
        .iter()
        .filter_map(|l| list_of(l, c.list).get(c.name.as_str()).map(|v| &v.value))
        .collect()
}

/// The tag, digest (and repository) of an image in some layers.
fn version_in(
    layers: &[&ServiceLayer],
    container: Option<&ContainerRef>,
) -> (ImageVersion, Option<String>) {
    match container {
        None => (
            ImageVersion {
                tag: pick(layers, |l| l.tag.as_ref()),
                digest: pick(layers, |l| l.digest.as_ref()),
            },
            pick(layers, |l| l.image.as_ref()),
        ),
        Some(c) => {
            let cl = container_layers(layers, c);
            (
                ImageVersion {
                    tag: pick(&cl, |l| l.tag.as_ref()),
                    digest: pick(&cl, |l| l.digest.as_ref()),
                },
                pick(&cl, |l| l.image.as_ref()),
            )
        }
    }
}

/// The tag and digest an image deploys with in `env` (overlay, else platform.toml):
/// the service's own, or its sidecar's or init container's.
pub(crate) fn effective(
    ws: &Workspace,
    env: &str,
    service: &str,
    container: Option<&ContainerRef>,
) -> ImageVersion {
    version_in(&layers(ws, env, service), container).0
}

/// The tag and digest written in the environment's overlay itself.
pub(crate) fn overlay_version(
    ws: &Workspace,
    env: &str,
    service: &str,
    container: Option<&ContainerRef>,
) -> ImageVersion {
    let own: Vec<&ServiceLayer> = ws
        .overlays
        .get(env)
        .and_then(|o| o.data.services.get(service))
        .map(|l| &*l.value)
        .into_iter()
        .collect();
    version_in(&own, container).0
}

/// The sidecars and init containers a service has in `env` (named in any of its
/// layers, enabled or not), sorted: sidecars first, then by name.
pub(crate) fn containers_of(ws: &Workspace, env: &str, service: &str) -> Vec<ContainerRef> {
    let mut out: Vec<ContainerRef> = Vec::new();
    for l in layers(ws, env, service) {
        for list in [ContainerList::Sidecars, ContainerList::InitContainers] {
            for name in list_of(l, list).keys() {
                out.push(ContainerRef::new(list, &name.value));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `--container NAME` of `service` in `env`: one of its sidecars or init containers.
pub(crate) fn check_container(
    ws: &Workspace,
    env: &str,
    service: &str,
    name: &str,
) -> Result<ContainerRef> {
    let known = containers_of(ws, env, service);
    let found: Vec<&ContainerRef> = known.iter().filter(|c| c.name == name).collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] if known.is_empty() => Err(Error::Usage(format!(
            "service `{service}` has no sidecars or init containers in {env}; --container names one of them (`[services.{service}.sidecars.<name>]` or `[services.{service}.init_containers.<name>]`); to set the service's own image, leave --container out"
        ))),
        [] => {
            let hint = did_you_mean(name, known.iter().map(|c| c.name.as_str()))
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            let list: Vec<String> = known
                .iter()
                .map(|c| {
                    format!(
                        "{} ({})",
                        c.name,
                        match c.list {
                            ContainerList::Sidecars => "sidecar",
                            ContainerList::InitContainers => "init container",
                        }
                    )
                })
                .collect();
            Err(Error::Usage(format!(
                "unknown container `{name}` in service `{service}`{hint}; its sidecars and init containers in {env}: {}",
                list.join(", ")
            )))
        }
        _ => Err(Error::Usage(format!(
            "`{name}` is both a sidecar and an init container of `{service}` in {env}; a pod's containers need distinct names: rename one of them"
        ))),
    }
}

/// `repository` with the platform registry prepended unless it names a registry host
/// (the rule `resolve` applies to every service's `image`).
fn full_repository(ws: &Workspace, repository: &str) -> String {
    let registry = ws.platform.platform.value.registry.as_ref();
    match registry {
        Some(reg) if !image_ref::has_registry_host(repository) => {
            format!("{}/{}", reg.value.trim_end_matches('/'), repository)
        }
        _ => repository.to_string(),
    }
}

/// The images (services' own, sidecars', init containers') whose full repository in
/// `env` equals `repository` (after the platform registry is applied to both), by
/// service, each service's own first.
fn matching_slots(ws: &Workspace, env: &str, repository: &str) -> Result<Vec<ImageSlot>> {
    let wanted = full_repository(ws, repository);
    let mut found = Vec::new();
    let mut known = Vec::new();
    for service in ws.service_names() {
        let l = layers(ws, env, service);
        let slots =
            std::iter::once(None).chain(containers_of(ws, env, service).into_iter().map(Some));
        for container in slots {
            if let (_, Some(image)) = version_in(&l, container.as_ref()) {
                let full = full_repository(ws, &image);
                let slot = ImageSlot {
                    service: service.to_string(),
                    container,
                };
                known.push(format!("{full} ({slot})"));
                if full == wanted {
                    found.push(slot);
                }
            }
        }
    }
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "no service in `{env}` uses the image repository `{wanted}`; the images are: {}",
            known.join(", ")
        )));
    }
    Ok(found)
}

/// Turns an overlay edit error into a located diagnostic.
pub(crate) fn edit_error(e: EditError, display: &str, path: PathBuf, text: &str) -> Error {
    let mut sources = Sources::default();
    let file = sources.add(display.to_string(), path, text.to_string());
    let code = if e.syntax {
        rules::TOML_SYNTAX
    } else {
        rules::WRONG_TYPE
    };
    let d = Diagnostic::error(code, e.message).at(Origin::new(file, e.span.unwrap_or(0..0)));
    Error::invalid(vec![d], sources)
}

/// Files put back as they were when a later step fails.
#[derive(Default)]
struct Rollback {
    /// Path and original bytes (`None`: the file did not exist).
    saved: Vec<(PathBuf, Option<Vec<u8>>)>,
    generated: PathBuf,
}

impl Rollback {
    fn save(&mut self, path: PathBuf) -> Result<()> {
        let bytes = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        self.saved.push((path, bytes));
        Ok(())
    }

    /// Restores every saved file; returns a note on anything that could not be restored.
    fn restore(self) -> Option<String> {
        let mut failed = Vec::new();
        for (path, bytes) in self.saved.into_iter().rev() {
            let r = match &bytes {
                Some(b) => write::write_atomic(&path, b).err().map(|e| e.to_string()),
                None => match std::fs::remove_file(&path) {
                    Ok(()) => {
                        remove_empty_dirs(&self.generated, &path);
                        None
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => Some(format!("cannot remove {}: {e}", path.display())),
                },
            };
            failed.extend(r);
        }
        (!failed.is_empty()).then(|| failed.join("; "))
    }
}

/// Removes directories under `root` left empty by a rollback.
fn remove_empty_dirs(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Applies `edits` to the overlay of `env` as one transaction (see the module doc).
/// The caller holds the checkout lock and loaded `ws` after taking it.
pub(crate) fn update(
    ws: &Workspace,
    env: &str,
    edits: &[Edit],
    unchanged: Vec<(String, ImageVersion)>,
    kind: Kind<'_>,
    render: bool,
    commit: bool,
) -> Result<Update> {
    let display = format!("{OVERLAY_DIR}/{env}.toml");
    let overlay_path = ws.root.join(&display);
    let original: Option<&str> = ws
        .overlays
        .get(env)
        .map(|o| ws.sources.get(o.file).text.as_str());
    let old_text = original.unwrap_or("");

    let edited = overlay_edit::apply(old_text, edits)
        .map_err(|e| edit_error(e, &display, overlay_path.clone(), old_text))?;
    let mut result = Update {
        env: env.to_string(),
        overlay: display.clone(),
        overlay_created: original.is_none(),
        changes: Vec::new(),
        unchanged,
        files: Vec::new(),
        rendered: None,
        commit: None,
        warnings: Vec::new(),
        sources: ws.sources.clone(),
    };
    if !edited.changed() {
        result.overlay_created = false;
        return Ok(result);
    }

    // Compile the environment with the edited overlay, in memory.
    let mut overlays: Vec<(String, String, String)> = ws
        .overlays
        .iter()
        .filter(|(name, _)| name.as_str() != env)
        .map(|(name, o)| {
            let f = ws.sources.get(o.file);
            (name.clone(), f.display.clone(), f.text.clone())
        })
        .collect();
    overlays.push((env.to_string(), display.clone(), edited.text.clone()));
    overlays.sort();
    let pf = ws.sources.get(ws.platform_file);
    let files = InputFiles {
        platform: (pf.display.clone(), pf.text.clone()),
        overlays,
    };
    let mut new_ws = Workspace::parse(ws.root.clone(), files)?;
    crate::escape_hatch::files::carry_over(ws, &mut new_ws);
    let compiled = compile(&new_ws, &[env.to_string()])?;

    let mut seen = Vec::new();
    for a in &edited.applied {
        let key = (&a.service, &a.container);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let c = a.container.as_ref();
        result.changes.push(ServiceChange {
            service: a.service.clone(),
            container: a.container.clone(),
            before: effective(ws, env, &a.service, c),
            after: effective(&new_ws, env, &a.service, c),
        });
    }
    result.warnings = compiled.run.warnings.clone();
    result.sources = new_ws.sources.clone();

    let written = write_edit(
        ws,
        &EditedInput {
            display: &display,
            path: overlay_path,
            text: &edited.text,
        },
        &compiled,
        render,
        commit,
        || commit_message(env, &result.changes, kind),
    )?;
    result.files = written.files;
    result.rendered = written.rendered;
    result.commit = written.commit;
    Ok(result)
}

/// An input file (an overlay, platform.toml) with its new text.
pub(crate) struct EditedInput<'a> {
    /// Relative to the platform directory: `overlays/dev.toml`, `platform.toml`.
    pub display: &'a str,
    pub path: PathBuf,
    pub text: &'a str,
}

/// What `write_edit` wrote and committed.
pub(crate) struct Written {
    /// Every file written or removed, relative to the platform directory, sorted.
    pub files: Vec<String>,
    /// What happened in `generated/` (None without `render`).
    pub rendered: Option<write::Outcome>,
    /// The commit made with `commit`.
    pub commit: Option<String>,
}

/// Writes an edited input file and (with `render`) the files of `compiled` that
/// differ from `generated/`, as one transaction, then (with `commit`) commits exactly
/// those files with `message()`. The git index is checked before anything is written;
/// if a write or the commit fails, every file is put back as it was. Shared by
/// `bump-image`, `promote` and `bump-chart`.
pub(crate) fn write_edit(
    ws: &Workspace,
    input: &EditedInput<'_>,
    compiled: &crate::compile::Compiled,
    render: bool,
    commit: bool,
    message: impl FnOnce() -> String,
) -> Result<Written> {
    let generated = ws.generated_dir();
    let comparison = if render {
        Some(write::compare(
            &generated,
            &compiled.tree,
            &compiled.run.scopes,
        )?)
    } else {
        None
    };
    // A manifest kgen did not write in a directory Argo CD deploys: refused as by
    // `kgen render` (KG307), before anything is written.
    if let Some(c) = comparison.as_ref().filter(|c| !c.foreign.is_empty()) {
        return Err(super::render::foreign_files(ws, &c.foreign));
    }
    let mut files = vec![input.display.to_string()];
    if let Some(c) = &comparison {
        for rel in c.missing.iter().chain(&c.stale).chain(&c.extra) {
            files.push(format!("{}/{rel}", crate::workspace::GENERATED_DIR));
        }
    }
    files.sort();
    files.dedup();

    // Refuse to commit before anything is written.
    let prepared = if commit {
        Some(git_commit::prepare(&ws.root, &files)?)
    } else {
        None
    };

    let mut rollback = Rollback {
        generated: generated.clone(),
        ..Rollback::default()
    };
    rollback.save(input.path.clone())?;
    if let Some(c) = &comparison {
        for rel in c.missing.iter().chain(&c.stale).chain(&c.extra) {
            rollback.save(generated.join(rel))?;
        }
    }
    let fail = |rollback: Rollback, e: Error| -> Error {
        match rollback.restore() {
            None => e,
            Some(note) => Error::Other(format!(
                "{e}; restoring the previous files also failed ({note}): check `git status`"
            )),
        }
    };

    if let Err(e) = write::write_atomic(&input.path, input.text.as_bytes()) {
        return Err(fail(rollback, e));
    }
    if let Some(dir) = input.path.parent() {
        // A run killed between writing the new file and renaming it left its
        // temporary file here.
        write::remove_abandoned_temp_files_in(dir);
    }
    let mut written = Written {
        files: Vec::new(),
        rendered: None,
        commit: None,
    };
    if let Some(c) = &comparison {
        match write::apply(&generated, &compiled.tree, c) {
            Ok(outcome) => written.rendered = Some(outcome),
            Err(e) => return Err(fail(rollback, e)),
        }
    }
    written.files = files;
    if let Some(prepared) = prepared {
        match prepared.commit(&message()) {
            Ok(oid) => written.commit = oid,
            Err(e) => return Err(fail(rollback, e)),
        }
    }
    Ok(written)
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
