//! Sidecars and init containers: name, image, command and arguments, environment,
//! ports, probes, resources and mounts.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::input::{ContainerLayer, EnvValue, MountLayer};
use crate::merge::{Layers, Located};
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{ContainerSpec, CpuMem, Mount, Resources, VolumeSpec};
use crate::{names, quantity, rules};

impl<'a> Resolver<'a> {
    /// Sidecars or init containers (`key`: `sidecars` or `init_containers`), with
    /// where each is named in each layer (`defined`, [`Layers::entry_keys`]).
    ///
    /// The origin of the container's table (`sidecars.<name>`, which a finding about
    /// a setting the container lacks points at: no liveness probe, no resources, no
    /// image) is where it is defined ([`definition`]), not the highest layer that names
    /// it: an overlay that only sets a sidecar's `tag` is not where its probes are
    /// missing, and every environment's finding then has one place, and is reported
    /// once. A value it sets has its own origin (`sidecars.<name>.tag`, ...).
    #[allow(clippy::too_many_arguments)]
    pub(in crate::resolve) fn containers(
        &mut self,
        service: &str,
        key: &str,
        entries: BTreeMap<&'a str, (Origin, Layers<'a, ContainerLayer>)>,
        defined: &BTreeMap<&'a str, Vec<(Origin, bool)>>,
        (volumes, declared_volumes): (&[VolumeSpec], &[&str]),
        own_volumes: &[&str],
        has_secrets: bool,
        ctx: &Value,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<ContainerSpec> {
        let mut out = Vec::new();
        for (name, (highest, layers)) in entries {
            let field = format!("{key}.{name}");
            let key_origin = defined
                .get(name)
                .and_then(|keys| definition(self.pf, keys))
                .unwrap_or(highest);
            origins.insert(field.clone(), key_origin.clone());
            if layers
                .pick(|l| l.enabled.as_ref())
                .is_some_and(|e| !*e.value)
            {
                continue;
            }
            if let Err(e) = names::check_dns1123_label(name) {
                self.error(
                    rules::INVALID_NAME,
                    key_origin.clone(),
                    format!("container name: {e}"),
                );
                continue;
            }
            if name == service {
                self.error(
                    rules::DUPLICATE,
                    key_origin.clone(),
                    format!("`{field}` has the name of the main container (the service's name)"),
                )
                .help("give the container another name");
                continue;
            }
            let image = match layers.pick(|l| l.image.as_ref()) {
                Some(img) => {
                    origins.insert(format!("{field}.image"), img.origin.clone());
                    self.full_image(img)
                }
                None => {
                    self.error(
                        rules::MISSING_KEY,
                        key_origin.clone(),
                        format!("`{field}` has no `image`"),
                    )
                    .help("add `image = \"<repository>\"` and a `tag` (or `digest`)");
                    continue;
                }
            };
            let (tag, digest) = self.image_version(
                &field.to_string(),
                layers.pick(|l| l.tag.as_ref()),
                layers.pick(|l| l.digest.as_ref()),
                &key_origin,
                origins,
            );
            let command = self.string_list(
                &format!("{field}.command"),
                layers.pick(|l| l.command.as_ref()),
                ctx,
                origins,
            );
            let args = self.string_list(
                &format!("{field}.args"),
                layers.pick(|l| l.args.as_ref()),
                ctx,
                origins,
            );
            let mut env = BTreeMap::new();
            let mut env_refs = BTreeMap::new();
            for (k, e) in layers.map(|l| Some(&l.env)) {
                origins.insert(format!("{field}.env.{k}"), e.value.origin.clone());
                if let Err(err) = names::check_env_var_name(k) {
                    let help = names::env_var_name_help(k);
                    let message = help.map_or(err, |_| names::env_var_name_problem(k));
                    let d = self.error(rules::INVALID_KEY, e.key.clone(), message);
                    if let Some(help) = help {
                        d.help(help);
                    }
                    continue;
                }
                match e.value.value {
                    EnvValue::Literal(crate::input::Scalar(raw)) => {
                        self.scan_secret(k, raw, &e.value.origin);
                        self.check_number_text(k, raw, &e.value.origin);
                        if let Some(v) = self.render_keyed(k, raw, &e.value.origin, ctx) {
                            env.insert(k.to_string(), crate::resolve::kubelet_literal(&v));
                        }
                    }
                    EnvValue::From(t) => {
                        let f = format!("{field}.env");
                        if let Some(s) = self.env_source(&f, k, t, &e.value.origin, ctx) {
                            env_refs.insert(k.to_string(), s);
                        }
                    }
                }
            }
            let mut flag = |what: &str, v: Option<Located<&bool>>| {
                v.map(|v| {
                    origins.insert(format!("{field}.{what}"), v.origin.clone());
                    *v.value
                })
            };
            let secrets = flag("secrets", layers.pick(|l| l.secrets.as_ref())).unwrap_or(false);
            let config = flag("config", layers.pick(|l| l.config.as_ref())).unwrap_or(false);
            if secrets && !has_secrets {
                let at = origins[&format!("{field}.secrets")].clone();
                self.error(
                    rules::INVALID_VALUE,
                    at,
                    format!("`{field}.secrets = true`, but the service has no `secrets`"),
                )
                .help("list the secrets under the service's `secrets`, or remove `secrets = true`");
            }
            let ports = self.ports(
                &format!("{field}.ports"),
                layers.map(|l| Some(&l.ports)),
                origins,
            );
            let [liveness, readiness, startup] =
                self.probes(&format!("{field}.probes"), &layers, false, origins);
            if key == "init_containers"
                && (liveness.is_some() || readiness.is_some() || startup.is_some())
            {
                let at = origins
                    .get(&format!("{field}.probes.liveness"))
                    .or_else(|| origins.get(&format!("{field}.probes.readiness")))
                    .or_else(|| origins.get(&format!("{field}.probes.startup")))
                    .cloned()
                    .unwrap_or_else(|| key_origin.clone());
                self.error(
                    rules::INVALID_VALUE,
                    at,
                    format!("init container `{name}` has probes: an init container runs to completion, and the API server refuses probes on it"),
                )
                .help("remove `probes`, or make it a sidecar (`sidecars.<name>`), which keeps running");
            }
            let resources = self.container_resources(&field, &layers, origins);
            let mut mounts = BTreeMap::new();
            for (vol, e) in layers.map(|l| Some(&l.mounts)) {
                origins.insert(format!("{field}.mounts.{vol}"), e.value.origin.clone());
                if !volumes.iter().any(|v| v.name == vol) && !own_volumes.contains(&vol) {
                    if declared_volumes.contains(&vol) {
                        // Declared, with an error of its own, reported at the volume.
                        continue;
                    }
                    let known: Vec<&str> = declared_volumes
                        .iter()
                        .chain(own_volumes)
                        .copied()
                        .collect();
                    let hint = crate::diagnostic::did_you_mean(vol, known.iter().copied());
                    let d = self.error(
                        rules::UNKNOWN_REFERENCE,
                        e.key.clone(),
                        format!(
                            "`{field}` mounts volume `{vol}`, which the service does not declare"
                        ),
                    );
                    if let Some(h) = hint {
                        d.label = Some(h);
                    }
                    d.help = Some(format!(
                        "declare it under `volumes` of the service (known: {})",
                        known.join(", ")
                    ));
                    continue;
                }
                let (path, read_only) = match e.value.value {
                    MountLayer::Path(p) => (p, None),
                    MountLayer::Table(t) => {
                        let Some(p) = &t.path else {
                            self.error(
                                rules::MISSING_KEY,
                                e.value.origin.clone(),
                                format!("`{field}.mounts.{vol}` has no `path`"),
                            )
                            .help(
                                "add `path = \"/<dir>\"`: { path = \"/<dir>\", read_only = true }",
                            );
                            continue;
                        };
                        let ro = t.read_only.as_ref();
                        if let Some(ro) = ro {
                            let at = Origin::new(e.value.origin.file, ro.span.clone());
                            origins.insert(format!("{field}.mounts.{vol}.read_only"), at.clone());
                            let volume_ro = volumes.iter().any(|v| v.name == vol && v.read_only);
                            if !ro.value && volume_ro {
                                self.error(
                                    rules::INVALID_VALUE,
                                    at,
                                    format!("`{field}` mounts volume `{vol}` writable, but the volume is read-only (`volumes.{vol}.read_only`)"),
                                )
                                .help("remove `read_only = false`: the container mounts it read-only, as the volume is");
                                continue;
                            }
                        }
                        (&p.value, ro.map(|r| r.value))
                    }
                };
                if !path.starts_with('/') {
                    self.error(
                        rules::INVALID_PATH,
                        e.value.origin.clone(),
                        format!("mount path `{path}` is not absolute"),
                    );
                    continue;
                }
                mounts.insert(
                    vol.to_string(),
                    Mount {
                        path: path.clone(),
                        read_only,
                    },
                );
            }
            out.push(ContainerSpec {
                name: name.to_string(),
                image,
                tag,
                digest,
                command,
                args,
                env,
                env_refs,
                secrets,
                config,
                ports,
                liveness,
                readiness,
                startup,
                resources,
                mounts,
            });
        }
        out
    }

    /// A list of strings (a command or arguments), each rendered as a template and
    /// scanned for secrets.
    pub(in crate::resolve) fn string_list(
        &mut self,
        field: &str,
        list: Option<Located<&Vec<Spanned<String>>>>,
        ctx: &Value,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<String> {
        let Some(list) = list else { return Vec::new() };
        origins.insert(field.to_string(), list.origin.clone());
        let mut out = Vec::new();
        for item in list.value {
            let at = Origin::new(list.origin.file, item.span.clone());
            let key = field.rsplit('.').next().unwrap_or(field);
            self.scan_secret(key, &item.value, &at);
            if let Some(v) = self.render_keyed(key, &item.value, &at, ctx) {
                out.push(v);
            }
        }
        out
    }

    /// A sidecar's or init container's resources: no built-in defaults (a container
    /// without them is a policy finding, KG201), each quantity checked.
    fn container_resources(
        &mut self,
        field: &str,
        layers: &Layers<'a, ContainerLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Resources {
        let rq = |l: &'a ContainerLayer| l.resources.as_ref().and_then(|r| r.requests.as_ref());
        let lm = |l: &'a ContainerLayer| l.resources.as_ref().and_then(|r| r.limits.as_ref());
        let mut q = |this: &mut Self, path: &str, v: Option<Located<&String>>| {
            v.map(|v| {
                origins.insert(format!("{field}.{path}"), v.origin.clone());
                match quantity::parse_non_negative(v.value) {
                    Ok(_) => this.unit_slip(&format!("{field}.{path}"), v.value, &v.origin),
                    Err(e) => {
                        this.error(rules::INVALID_QUANTITY, v.origin.clone(), e);
                    }
                }
                v.value.clone()
            })
        };
        Resources {
            requests: CpuMem {
                cpu: q(
                    self,
                    "resources.requests.cpu",
                    layers.pick(|l| rq(l)?.cpu.as_ref()),
                ),
                memory: q(
                    self,
                    "resources.requests.memory",
                    layers.pick(|l| rq(l)?.memory.as_ref()),
                ),
            },
            limits: CpuMem {
                cpu: q(
                    self,
                    "resources.limits.cpu",
                    layers.pick(|l| lm(l)?.cpu.as_ref()),
                ),
                memory: q(
                    self,
                    "resources.limits.memory",
                    layers.pick(|l| lm(l)?.memory.as_ref()),
                ),
            },
        }
    }
}

/// Where a sidecar or init container is defined, from where it is named in each layer
/// (lowest first, with whether the layer is `[defaults]`): the service's own table in
/// platform.toml (`pf`), else `[defaults]`, else the lowest layer (an overlay that
/// adds a container of its own).
fn definition(pf: crate::source::FileId, keys: &[(Origin, bool)]) -> Option<Origin> {
    keys.iter()
        .find(|(o, base)| !base && o.file == pf)
        .or_else(|| keys.iter().find(|(_, base)| *base))
        .or_else(|| keys.first())
        .map(|(o, _)| o.clone())
}
