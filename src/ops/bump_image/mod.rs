//! `kgen bump-image`: set one service's (or every matching service's) image tag
//! and/or digest in one environment's overlay, re-render that environment, and
//! optionally commit exactly the changed files. An image is a service's own (its main
//! container) or one of its sidecars' or init containers' (`--container`), named
//! `service` or `service/container` in everything it prints; `--image` matches all
//! of them.
//!
//! This module holds the command's options and the choice of images; where an image's
//! version is written is in `images`, the transaction that writes the edit (shared with
//! `promote` and `bump-chart`) in `transaction`, and what a run did in `report`.

pub(crate) mod images;
pub mod report;
pub(crate) mod transaction;

use std::fmt;
use std::path::Path;

use self::images::{
    check_container, check_env, check_service, effective, matching_slots, repository,
};
use self::report::{ImageVersion, Unchanged, Update};
use self::transaction::{platform_dir, update};
use crate::error::{Error, Result};
use crate::image_ref;
use crate::lock::CheckoutLock;
use crate::overlay_edit::{ContainerRef, Edit, Field};
use crate::workspace::Workspace;

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
        // Said of the flag, not of the overlay line it would have been written to.
        if let Some(f) = crate::secret_scan::scan("", t) {
            return Err(Error::Usage(format!(
                "--tag: the value looks like a secret ({}); kgen refuses secrets in plain text, and a tag names an image version: pass the tag the image was pushed with",
                f.what
            )));
        }
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
            unchanged.push(Unchanged {
                name: slot.to_string(),
                version: before,
                repository: repository(&ws, &opts.env, service, container),
            });
        } else {
            edits.extend(slot_edits);
        }
    }
    // `bump-image SERVICE` moves the service's own container: say which of its
    // sidecars and init containers run the same repository and stay behind (a
    // migration at the old version would run against the new code).
    let left_behind = match &opts.target {
        Target::Service(name) => left_behind(&ws, opts, name),
        _ => Vec::new(),
    };
    let mut done = update(
        &ws,
        &opts.env,
        &edits,
        unchanged,
        Kind::Bump,
        opts.render,
        opts.commit,
    )?;
    done.left_behind = left_behind;
    Ok(done)
}

/// The sidecars and init containers of `service` that run its image repository at a
/// version other than the one `opts` sets.
fn left_behind(
    ws: &Workspace,
    opts: &BumpOptions,
    service: &str,
) -> Vec<(String, ImageVersion, String)> {
    let Some(repo) = repository(ws, &opts.env, service, None) else {
        return Vec::new();
    };
    let slots = matching_slots(ws, &opts.env, &repo).unwrap_or_default();
    slots
        .into_iter()
        .filter(|s| s.service == service && s.container.is_some())
        .filter_map(|s| {
            let v = effective(ws, &opts.env, service, s.container.as_ref());
            let moves = opts.tag.as_ref().is_none_or(|t| v.tag.as_ref() == Some(t))
                && opts
                    .digest
                    .as_ref()
                    .is_none_or(|d| v.digest.as_ref() == Some(d));
            (!moves).then(|| (s.to_string(), v, repo.clone()))
        })
        .collect()
}

/// Which command is updating an overlay, for the commit message.
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    Bump,
    Promote { from: &'a str },
}
