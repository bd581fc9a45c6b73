//! Container images: the repository with the platform registry, the tag (never
//! `latest`) and digest, and the Secrets that hold registry credentials.

use std::collections::BTreeMap;

use crate::input::ServiceLayer;
use crate::merge::{Layers, Located};
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::{image_ref, names, rules};

impl<'a> Resolver<'a> {
    /// An image repository with the platform registry prepended unless it names a registry host.
    pub(in crate::resolve) fn full_image(&mut self, img: Located<&String>) -> String {
        if let Err(e) = image_ref::check_repository(img.value) {
            let lower = img.value.to_lowercase();
            let d = self.error(rules::INVALID_IMAGE, img.origin.clone(), e);
            if image_ref::check_repository(&lower).is_ok() {
                d.label = Some(format!("did you mean `{lower}`?"));
                d.help = Some("a repository's name is lower case (the registry may be written in any case, its path never): write the path as it is pushed, in lower case".into());
            }
            return String::new();
        }
        let registry = self.platform_file().platform.registry.as_ref();
        image_ref::with_registry(registry.map(|r| r.value.as_str()), img.value)
    }

    /// A container's tag and digest, checked like the main container's: at least one,
    /// and never `latest`.
    pub(in crate::resolve) fn image_version(
        &mut self,
        field: &str,
        tag: Option<Located<&String>>,
        digest: Option<Located<&String>>,
        fallback: &Origin,
        origins: &mut BTreeMap<String, Origin>,
    ) -> (Option<String>, Option<String>) {
        let tag = tag.map(|t| {
            origins.insert(format!("{field}.tag"), t.origin.clone());
            self.check_image_tag(
                &t,
                &format!("`{field}`"),
                "set an immutable tag such as a version or commit SHA",
            )
        });
        let digest = digest.map(|d| {
            origins.insert(format!("{field}.digest"), d.origin.clone());
            self.check_image_digest(&d)
        });
        if tag.is_none() && digest.is_none() {
            self.error(
                rules::NO_IMAGE_VERSION,
                fallback.clone(),
                format!("`{field}` has no image `tag` or `digest`"),
            )
            .help("set `tag = \"1.2.3\"` (or `digest = \"sha256:...\"`) for the container");
        }
        (tag, digest)
    }

    /// An image tag (of the main container, a sidecar or an init container: `who`):
    /// one a registry accepts, and not `latest`, which pins nothing (`help` says what
    /// to set instead). Returns the tag.
    pub(in crate::resolve) fn check_image_tag(
        &mut self,
        t: &Located<&String>,
        who: &str,
        help: &str,
    ) -> String {
        if let Err(e) = image_ref::check_tag(t.value) {
            self.error(rules::INVALID_IMAGE, t.origin.clone(), e);
        } else if t.value == "latest" {
            self.error(
                rules::NO_IMAGE_VERSION,
                t.origin.clone(),
                format!("{who} uses the tag `latest`, which does not pin a version"),
            )
            .help(help);
        }
        t.value.clone()
    }

    /// An image digest (`sha256:` and its hex digits, see [`image_ref::check_digest`]).
    /// Returns the digest.
    pub(in crate::resolve) fn check_image_digest(&mut self, d: &Located<&String>) -> String {
        if let Err(e) = image_ref::check_digest(d.value) {
            self.error(rules::INVALID_IMAGE, d.origin.clone(), e);
        }
        d.value.clone()
    }

    /// Names of the Secrets holding registry credentials.
    pub(in crate::resolve) fn image_pull_secrets(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<String> {
        let Some(list) = layers.pick(|l| l.image_pull_secrets.as_ref()) else {
            return Vec::new();
        };
        origins.insert("image_pull_secrets".into(), list.origin.clone());
        let mut out = Vec::new();
        for s in list.value {
            let at = Origin::new(list.origin.file, s.span.clone());
            if let Err(e) = names::check_dns1123_subdomain(&s.value) {
                self.error(rules::INVALID_NAME, at, format!("image pull secret: {e}"))
                    .help("name the Secret (of type kubernetes.io/dockerconfigjson) in the service's namespace, e.g. `ghcr-pull`; its content never goes in platform.toml");
                continue;
            }
            if !out.contains(&s.value) {
                out.push(s.value.clone());
            }
        }
        out
    }
}
