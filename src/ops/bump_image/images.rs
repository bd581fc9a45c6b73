//! Where a service's images are written: its layers in an environment, the tag and
//! digest each image deploys with (or its overlay states), its sidecars and init
//! containers, the images of a repository; and the checks of `--env`, `--service` and
//! `--container`.

use super::report::ImageVersion;
use super::ImageSlot;
use crate::diagnostic::did_you_mean;
use crate::error::{Error, Result};
use crate::image_ref;
use crate::input::{ContainerLayer, ServiceLayer, SpannedMap};
use crate::overlay_edit::{ContainerList, ContainerRef};
use crate::spanned::Spanned;
use crate::workspace::Workspace;
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

/// The full repository (the platform registry applied) of an image in `env`: the
/// service's own, or its sidecar's or init container's; None when no layer names one.
pub(crate) fn repository(
    ws: &Workspace,
    env: &str,
    service: &str,
    container: Option<&ContainerRef>,
) -> Option<String> {
    version_in(&layers(ws, env, service), container)
        .1
        .map(|image| full_repository(ws, &image))
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
    image_ref::with_registry(registry.map(|r| r.value.as_str()), repository)
}

/// The images (services' own, sidecars', init containers') whose full repository in
/// `env` equals `repository` (after the platform registry is applied to both), by
/// service, each service's own first.
pub(super) fn matching_slots(
    ws: &Workspace,
    env: &str,
    repository: &str,
) -> Result<Vec<ImageSlot>> {
    let wanted = full_repository(ws, repository);
    let registry = ws.platform.platform.value.registry.as_ref();
    let registry = registry.map(|r| r.value.as_str());
    let mut found = Vec::new();
    let mut known = Vec::new();
    let mut repositories = Vec::new();
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
                if image_ref::same_repository(registry, &image, repository) {
                    found.push(slot);
                } else {
                    repositories.push(full);
                }
            }
        }
    }
    if found.is_empty() {
        let hint =
            crate::diagnostic::closest_path(&wanted, '/', repositories.iter().map(String::as_str))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
        return Err(Error::Usage(format!(
            "no service in `{env}` uses the image repository `{wanted}`{hint}; the images are: {}",
            known.join(", ")
        )));
    }
    Ok(found)
}
