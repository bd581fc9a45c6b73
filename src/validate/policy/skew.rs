//! KG218: the containers of one pod that run one image repository at different
//! versions: a service's own container at 2.2.0 and its `migrate` init container at
//! 2.3.0, a migration ahead of (or behind) the code it migrates. `bump-image SERVICE
//! --tag` moves the service's own container only, so this is how the skew comes
//! about; `bump-image --image` moves every container of the repository.
//!
//! Repositories are compared as `bump-image --image` compares them
//! ([`image_ref::same_repository`], the platform's `registry` applied). The finding
//! is about the container that lags (the older version when both are versions, else
//! the one that is not the pod's main container) and points at its `tag` (or
//! `digest`) where the input sets it; a deliberate skew is waived with a reason.

use serde_json::Value;

use super::pods::role_noun;
use crate::diff::compare_versions;
use crate::image_ref::{self, ImageRef};
use crate::validate::semantics::containers;
use crate::validate::{str_at, ContainerOrigin, ContainerRole, FieldPath, Finding, Subject};

/// One container of the pod with a parsable image.
struct Running<'a> {
    path: FieldPath,
    name: &'a str,
    origin: ContainerOrigin,
    image: ImageRef,
}

impl Running<'_> {
    fn who(&self) -> String {
        format!("{} `{}`", role_noun(self.origin.role), self.name)
    }

    /// `2.3.0`, `2.3.0@sha256:…` or the digest alone.
    fn version(&self) -> String {
        match (&self.image.tag, &self.image.digest) {
            (Some(t), Some(d)) => format!("{t}@{d}"),
            (Some(t), None) => t.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => "(no tag)".into(),
        }
    }
}

/// Two versions of one repository differ: both tags given and not equal, or both
/// digests given and not equal (a tag beside the same tag with a digest is one image).
fn differ(a: &ImageRef, b: &ImageRef) -> bool {
    let both =
        |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x != y);
    both(&a.tag, &b.tag) || both(&a.digest, &b.digest)
}

pub(super) fn version_skew(s: &Subject, pp: &FieldPath, pod: &Value, out: &mut Vec<Finding>) {
    // Most pods run one container: nothing to compare, no image to parse.
    let count = |list: &str| pod.get(list).and_then(Value::as_array).map_or(0, Vec::len);
    if count("containers") + count("initContainers") < 2 {
        return;
    }
    let registry = s.platform.and_then(|p| p.registry.as_deref());
    let running: Vec<Running> = containers(pp, pod, true)
        .into_iter()
        .filter_map(|(cp, c)| {
            let image = image_ref::parse_image_ref(str_at(c, "image")?).ok()?;
            Some(Running {
                name: str_at(c, "name").unwrap_or(""),
                origin: ContainerOrigin::of(c, cp.as_str().contains("initContainers")),
                path: cp.key("image"),
                image,
            })
        })
        .collect();
    let mut grouped = vec![false; running.len()];
    for i in 0..running.len() {
        if grouped[i] {
            continue;
        }
        let group: Vec<&Running> = (i..running.len())
            .filter(|&j| {
                image_ref::same_repository(
                    registry,
                    &running[i].image.repository,
                    &running[j].image.repository,
                )
            })
            .inspect(|&j| grouped[j] = true)
            .map(|j| &running[j])
            .collect();
        let Some(ahead) = reference(&group) else {
            continue;
        };
        for lagging in group.iter().filter(|r| differ(&r.image, &ahead.image)) {
            out.push(finding(s, lagging, ahead));
        }
    }
}

/// The container whose version the others should run: the newest when every tag is a
/// version, else the pod's main container (the one `bump-image SERVICE` moves), else
/// the first. `None` when the group runs one version.
fn reference<'r, 'a>(group: &[&'r Running<'a>]) -> Option<&'r Running<'a>> {
    let first = group.first()?;
    if !group.iter().any(|r| differ(&r.image, &first.image)) {
        return None;
    }
    let mut newest = Some(*first);
    for r in &group[1..] {
        newest = match (newest, &r.image.tag) {
            (Some(n), Some(t)) => match n
                .image
                .tag
                .as_deref()
                .and_then(|nt| compare_versions(t, nt))
            {
                Some(std::cmp::Ordering::Greater) => Some(*r),
                Some(_) => Some(n),
                None => None,
            },
            _ => None,
        };
    }
    newest
        .or_else(|| {
            group
                .iter()
                .copied()
                .find(|r| r.origin.role == ContainerRole::Regular)
        })
        .or(Some(*first))
}

fn finding(s: &Subject, lagging: &Running, ahead: &Running) -> Finding {
    let repository = image_ref::with_registry(
        s.platform.and_then(|p| p.registry.as_deref()),
        &ahead.image.repository,
    );
    let env = s.env.map(|e| e.name.as_str());
    let message = format!(
        "{} runs {repository} at {} but {} runs it at {}{}: one pod, two versions of one image (a migration ahead of or behind the code it migrates)",
        lagging.who(),
        lagging.version(),
        ahead.who(),
        ahead.version(),
        env.map(|e| format!(" in environment `{e}`")).unwrap_or_default()
    );
    let by_digest = lagging.image.tag == ahead.image.tag;
    let (field, first) = if by_digest {
        ("digest", ["digest", "tag", "image"])
    } else {
        ("tag", ["tag", "digest", "image"])
    };
    let target = if by_digest {
        ahead.image.digest.clone().unwrap_or_default()
    } else {
        ahead.image.tag.clone().unwrap_or_default()
    };
    let help = match (env, s.service) {
        (Some(env), Some(svc)) if !s.hand_written => {
            let table = match lagging.origin.role {
                ContainerRole::Regular => format!("[services.{}]", svc.name),
                ContainerRole::Sidecar => format!("[services.{}.sidecars.{}]", svc.name, lagging.name),
                ContainerRole::Init => {
                    format!("[services.{}.init_containers.{}]", svc.name, lagging.name)
                }
            };
            format!(
                "run one version in every container of the repository: `kgen bump-image --image {repository}:{} --env {env}` moves them all; or set `{field} = \"{target}\"` in `{table}` (at the line shown, or for {env} alone in its overlay); if the skew is deliberate, waive it on the service with `waivers = [{{ rule = \"KG218\", reason = \"...\" }}]`",
                ahead.image.tag.as_deref().unwrap_or("<tag>"),
            )
        }
        _ => format!(
            "run one version in every container of the repository (`{repository}:{}` in both), or, if the skew is deliberate, waive it with the annotation `kgen.dev/waive-KG218: \"<reason>\"`",
            ahead.version()
        ),
    };
    Finding::policy(crate::rules::IMAGE_VERSION_SKEW, &lagging.path, message)
        .keys(lagging.origin.keys_of(&first))
        .label(format!("{} runs {}", ahead.who(), ahead.version()))
        .help(help)
}
