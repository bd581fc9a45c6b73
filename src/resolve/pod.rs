//! What a service's pods are made of, resolved and checked: probes, named ports, the
//! Service, sidecars and init containers, volumes, files, placement, image pull
//! secrets, extra labels and annotations.
//!
//! Every value keeps its origin (`origins`, by the same field paths validation uses),
//! so a problem found in a rendered object still points at the line that produced it.

use std::collections::BTreeMap;

use minijinja::Value;

use super::{Amend, Resolver};
use crate::input::{
    ContainerLayer, FileLayer, PortLayer, ProbeLayer, ProbesLayer, ServiceLayer, VolumeLayer,
};
use crate::merge::{Layers, Located};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{
    ContainerSpec, CpuMem, FileSpec, NodeTerm, Placement, Port, PortRef, Probe, ProbeHandler,
    Protocol, Resources, ServiceExposure, ServiceType, Toleration, VolumeSource, VolumeSpec,
};
use crate::{image_ref, names, quantity, rules};

/// Container port names kgen gives the main container itself.
pub const OWN_PORT_NAMES: &[&str] = &["http", "metrics"];
/// Volume names kgen uses itself.
pub const OWN_VOLUME_NAMES: &[&str] = &["tmp", "secrets-store"];
/// Mount paths kgen uses itself.
pub const OWN_MOUNTS: &[&str] = &["/tmp", "/mnt/secrets-store"];
/// The help of a volume size that is not a quantity.
const SIZE_HELP: &str = "a size is a number with a suffix: `Ki`, `Mi`, `Gi`, `Ti` for powers of 1024 (as disks and memory are usually counted) or `k`, `M`, `G`, `T` for powers of 1000, e.g. `\"10Gi\"`";
/// Label and annotation prefixes kgen owns: a service cannot set them.
const OWN_KEY_PREFIXES: &[&str] = &["app.kubernetes.io/", "kgen.dev/", "argocd.argoproj.io/"];
/// Labels kgen sets on a service's Namespace, which `labels` also goes on: Pod Security
/// Admission's level (`restricted`, which kgen's pods are built to satisfy) and the
/// name label the API server sets itself.
const NAMESPACE_LABELS: &[&str] = &["pod-security.kubernetes.io/", "kubernetes.io/metadata.name"];

impl<'a> Resolver<'a> {
    /// The probes of a container (`key` is `probes` for the main one, or
    /// `sidecars.<name>.probes`), each with its origin recorded.
    /// With `skip_base`, a probe from `[defaults]` is left out (a kind without the
    /// `http` port those usually probe).
    pub(super) fn probes<T: ProbesHolder + 'a>(
        &mut self,
        key: &str,
        layers: &Layers<'a, T>,
        skip_base: bool,
        origins: &mut BTreeMap<String, Origin>,
    ) -> [Option<Probe>; 3] {
        ["liveness", "readiness", "startup"].map(|w| {
            let v = layers.pick(|l| {
                let p = l.probes()?;
                match w {
                    "liveness" => p.liveness.as_ref(),
                    "readiness" => p.readiness.as_ref(),
                    _ => p.startup.as_ref(),
                }
            })?;
            if skip_base && v.base {
                return None;
            }
            let field = format!("{key}.{w}");
            origins.insert(field.clone(), v.origin.clone());
            self.probe(&field, v.value, &v.origin)
        })
    }

    /// One probe: a path (HTTP on `http`) or a table with exactly one handler.
    fn probe(&mut self, field: &str, layer: &ProbeLayer, origin: &Origin) -> Option<Probe> {
        let file = origin.file;
        let at = |span: &std::ops::Range<usize>| Origin::new(file, span.clone());
        match layer {
            ProbeLayer::Path(p) => {
                if let Err(e) = names::check_http_path(p) {
                    self.error(rules::INVALID_PATH, origin.clone(), e);
                    return None;
                }
                Some(Probe::http(p))
            }
            ProbeLayer::Table(t) => {
                let port_ref = |this: &mut Self, p: &Spanned<crate::input::PortRef>| match &p.value
                {
                    crate::input::PortRef::Name(n) => {
                        if let Err(e) = names::check_port_name(n) {
                            this.error(
                                rules::INVALID_NAME,
                                at(&p.span),
                                format!("probe port: {e}"),
                            );
                        }
                        Some(PortRef::Name(n.clone()))
                    }
                    crate::input::PortRef::Number(n) => this
                        .int_in_range(*n, 1, 65535, &at(&p.span), "probe port")
                        .map(|n| PortRef::Number(n as u16)),
                };
                let mut handlers = Vec::new();
                if let Some(path) = &t.http {
                    if let Err(e) = names::check_http_path(&path.value) {
                        self.error(rules::INVALID_PATH, at(&path.span), e);
                    }
                    let port = match &t.port {
                        Some(p) => port_ref(self, p)?,
                        None => {
                            PortRef::Name(crate::render::deployment::CONTAINER_PORT_NAME.into())
                        }
                    };
                    handlers.push(ProbeHandler::Http {
                        path: path.value.clone(),
                        port,
                    });
                }
                if let Some(p) = &t.tcp {
                    handlers.push(ProbeHandler::Tcp(port_ref(self, p)?));
                }
                if let Some(p) = &t.grpc {
                    // The API takes a number only (`GRPCAction.port` is an int32).
                    if let crate::input::PortRef::Name(n) = &p.value {
                        self.error(
                            rules::INVALID_VALUE,
                            at(&p.span),
                            format!("a gRPC probe takes a port number, not the name `{n}`"),
                        )
                        .help("write the number, e.g. `grpc = 9090`");
                        return None;
                    }
                    handlers.push(ProbeHandler::Grpc {
                        port: port_ref(self, p)?,
                        service: t.grpc_service.as_ref().map(|s| s.value.clone()),
                    });
                }
                if let Some(cmd) = &t.exec {
                    if cmd.value.is_empty() {
                        self.error(rules::INVALID_VALUE, at(&cmd.span), "an `exec` probe needs a command".into())
                            .help("write the command and its arguments, e.g. `exec = [\"pg_isready\", \"-U\", \"app\"]`");
                    }
                    handlers.push(ProbeHandler::Exec(
                        cmd.value.iter().map(|c| c.value.clone()).collect(),
                    ));
                }
                if let (Some(p), None) = (&t.port, &t.http) {
                    self.error(
                        rules::INVALID_VALUE,
                        at(&p.span),
                        format!("`{field}` sets `port` without `http`"),
                    )
                    .help("`port` is the port of an `http` probe; `tcp` and `grpc` name their port themselves (`tcp = \"admin\"`)");
                }
                if let (Some(s), None) = (&t.grpc_service, &t.grpc) {
                    self.error(
                        rules::INVALID_VALUE,
                        at(&s.span),
                        format!("`{field}` sets `grpc_service` without `grpc`"),
                    )
                    .help("`grpc_service` names the service a `grpc` probe asks about: add `grpc = <port number>`, or remove it");
                }
                if handlers.len() != 1 {
                    // Several: at the second one written; none: at the table.
                    let mut written: Vec<&std::ops::Range<usize>> = [
                        t.http.as_ref().map(|v| &v.span),
                        t.tcp.as_ref().map(|v| &v.span),
                        t.grpc.as_ref().map(|v| &v.span),
                        t.exec.as_ref().map(|v| &v.span),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    written.sort_by_key(|s| s.start);
                    self.error(
                        rules::INVALID_VALUE,
                        written.get(1).map_or(origin.clone(), |s| at(s)),
                        format!(
                            "`{field}` has {} handlers; a probe has exactly one of `http`, `tcp`, `grpc`, `exec`",
                            handlers.len()
                        ),
                    )
                    .help("e.g. `{ http = \"/health\" }`, `{ tcp = \"http\" }`, `{ grpc = 9090 }` or `{ exec = [\"cat\", \"/tmp/ready\"] }`");
                    return None;
                }
                let num =
                    |this: &mut Self, v: &Option<Spanned<i64>>, min: i64, max: i64, what: &str| {
                        v.as_ref().and_then(|v| {
                            this.int_in_range(v.value, min, max, &at(&v.span), what)
                                .map(|n| n as i32)
                        })
                    };
                let probe = Probe {
                    handler: handlers.pop().expect("one handler"),
                    initial_delay: num(self, &t.initial_delay, 0, 3600, "initial_delay"),
                    period: num(self, &t.period, 1, 3600, "period"),
                    timeout: num(self, &t.timeout, 1, 3600, "timeout"),
                    failure_threshold: num(
                        self,
                        &t.failure_threshold,
                        1,
                        1000,
                        "failure_threshold",
                    ),
                    success_threshold: num(
                        self,
                        &t.success_threshold,
                        1,
                        1000,
                        "success_threshold",
                    ),
                };
                if probe.success_threshold.is_some_and(|n| n != 1) && !field.ends_with("readiness")
                {
                    self.error(
                        rules::INVALID_VALUE,
                        t.success_threshold.as_ref().map_or(origin.clone(), |v| at(&v.span)),
                        format!("`{field}.success_threshold` must be 1: the API server allows more only for readiness probes"),
                    )
                    .help("remove `success_threshold` (a liveness or startup probe succeeds at its first success), or set it on the readiness probe");
                }
                Some(probe)
            }
        }
    }

    /// Named container ports of a container (`key`: `ports` or `sidecars.<name>.ports`).
    pub(super) fn ports(
        &mut self,
        key: &str,
        entries: BTreeMap<&'a str, crate::merge::MapEntry<'a, PortLayer>>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<Port> {
        let mut out = Vec::new();
        for (name, entry) in entries {
            origins.insert(format!("{key}.{name}"), entry.value.origin.clone());
            let bad_name = names::check_port_name(name).err().or_else(|| {
                OWN_PORT_NAMES.contains(&name).then(|| {
                    format!("`{name}` is the name of a port kgen sets (`port`, `metrics.port`)")
                })
            });
            if let Some(e) = bad_name {
                self.error(rules::INVALID_NAME, entry.key.clone(), format!("port name: {e}"))
                    .help("port names are at most 15 lowercase letters, digits and `-`, with a letter; `http` is the main port (`port`), `metrics` the metrics port");
                continue;
            }
            let origin = entry.value.origin.clone();
            let (port, protocol, service_port, expose, app_protocol) = match entry.value.value {
                PortLayer::Number(n) => (Some(*n), Protocol::Tcp, None, true, None),
                PortLayer::Table(t) => {
                    let Some(p) = &t.port else {
                        self.error(
                            rules::MISSING_KEY,
                            origin.clone(),
                            format!("port `{name}` has no `port`"),
                        )
                        .help("add the container port, e.g. `{ port = 9090 }`");
                        continue;
                    };
                    (
                        Some(p.value),
                        t.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value),
                        t.service_port.as_ref(),
                        t.expose.as_ref().is_none_or(|e| e.value),
                        t.app_protocol.as_ref().map(|a| a.value.clone()),
                    )
                }
            };
            let Some(port) = port.and_then(|p| self.int_in_range(p, 1, 65535, &origin, "port"))
            else {
                continue;
            };
            let service_port = match service_port {
                Some(sp) => self
                    .int_in_range(
                        sp.value,
                        1,
                        65535,
                        &Origin::new(origin.file, sp.span.clone()),
                        "service_port",
                    )
                    .map(|n| n as u16),
                None => Some(port as u16),
            };
            out.push(Port {
                name: name.to_string(),
                port: port as u16,
                protocol,
                service_port: service_port.filter(|_| expose),
                app_protocol,
            });
        }
        out
    }

    /// The Service of a service that has one: its type, the Service port of `http`
    /// and its annotations.
    pub(super) fn service_exposure(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        port: u16,
        origins: &mut BTreeMap<String, Origin>,
    ) -> ServiceExposure {
        let type_ = layers.pick(|l| l.service.as_ref()?.type_.as_ref()).map_or(
            ServiceType::ClusterIP,
            |t| {
                origins.insert("service.type".into(), t.origin.clone());
                *t.value
            },
        );
        let service_port = layers
            .pick(|l| l.service.as_ref()?.port.as_ref())
            .and_then(|p| {
                origins.insert("service.port".into(), p.origin.clone());
                self.int_in_range(*p.value, 1, 65535, &p.origin, "service port")
            })
            .map_or(port, |p| p as u16);
        let mut annotations = BTreeMap::new();
        for (k, e) in layers.map(|l| l.service.as_ref().map(|s| &s.value.annotations)) {
            origins.insert(format!("service.annotations.{k}"), e.value.origin.clone());
            if let Err(err) = names::check_label_key(k) {
                self.error(
                    rules::INVALID_KEY,
                    e.key.clone(),
                    format!("annotation key: {err}"),
                );
                continue;
            }
            self.scan_secret(k, e.value.value, &e.value.origin);
            annotations.insert(k.to_string(), e.value.value.clone());
        }
        ServiceExposure {
            type_,
            port: service_port,
            annotations,
        }
    }

    /// Sidecars or init containers (`key`: `sidecars` or `init_containers`).
    pub(super) fn containers(
        &mut self,
        service: &str,
        key: &str,
        entries: BTreeMap<&'a str, (Origin, Layers<'a, ContainerLayer>)>,
        volumes: &[VolumeSpec],
        ctx: &Value,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<ContainerSpec> {
        let mut out = Vec::new();
        for (name, (key_origin, layers)) in entries {
            let field = format!("{key}.{name}");
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
            for (k, e) in layers.map(|l| Some(&l.env)) {
                origins.insert(format!("{field}.env.{k}"), e.value.origin.clone());
                if let Err(err) = names::check_env_var_name(k) {
                    self.error(rules::INVALID_KEY, e.key.clone(), err);
                    continue;
                }
                let crate::input::Scalar(raw) = e.value.value;
                self.scan_secret(k, raw, &e.value.origin);
                if let Some(v) = self.render_keyed(k, raw, &e.value.origin, ctx) {
                    env.insert(k.to_string(), super::kubelet_literal(&v));
                }
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
                if !volumes.iter().any(|v| v.name == vol) && !OWN_VOLUME_NAMES.contains(&vol) {
                    let known: Vec<&str> = volumes
                        .iter()
                        .map(|v| v.name.as_str())
                        .chain(OWN_VOLUME_NAMES.iter().copied())
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
                if !e.value.value.starts_with('/') {
                    self.error(
                        rules::INVALID_PATH,
                        e.value.origin.clone(),
                        format!("mount path `{}` is not absolute", e.value.value),
                    );
                    continue;
                }
                mounts.insert(vol.to_string(), e.value.value.clone());
            }
            out.push(ContainerSpec {
                name: name.to_string(),
                image,
                tag,
                digest,
                command,
                args,
                env,
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

    /// An image repository with the platform registry prepended unless it names a registry host.
    pub(super) fn full_image(&mut self, img: Located<&String>) -> String {
        if let Err(e) = image_ref::check_repository(img.value) {
            self.error(rules::INVALID_IMAGE, img.origin.clone(), e);
            return String::new();
        }
        let p = &self.platform_file().platform;
        if image_ref::has_registry_host(img.value) {
            img.value.clone()
        } else if let Some(reg) = &p.registry {
            format!("{}/{}", reg.value.trim_end_matches('/'), img.value)
        } else {
            img.value.clone()
        }
    }

    /// A container's tag and digest, checked like the main container's: at least one,
    /// and never `latest`.
    pub(super) fn image_version(
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
    pub(super) fn check_image_tag(
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
    pub(super) fn check_image_digest(&mut self, d: &Located<&String>) -> String {
        if let Err(e) = image_ref::check_digest(d.value) {
            self.error(rules::INVALID_IMAGE, d.origin.clone(), e);
        }
        d.value.clone()
    }

    /// A list of strings (a command or arguments), each rendered as a template and
    /// scanned for secrets.
    pub(super) fn string_list(
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
                if let Err(e) = quantity::parse_non_negative(v.value) {
                    this.error(rules::INVALID_QUANTITY, v.origin.clone(), e);
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

    /// Volumes of the pods.
    pub(super) fn volumes(
        &mut self,
        entries: BTreeMap<&'a str, (Origin, Layers<'a, VolumeLayer>)>,
        claims_allowed: bool,
        kind: &str,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<VolumeSpec> {
        let mut out: Vec<VolumeSpec> = Vec::new();
        for (name, (key_origin, layers)) in entries {
            let field = format!("volumes.{name}");
            origins.insert(field.clone(), key_origin.clone());
            if let Err(e) = names::check_dns1123_label(name) {
                self.error(
                    rules::INVALID_NAME,
                    key_origin.clone(),
                    format!("volume name: {e}"),
                );
                continue;
            }
            if OWN_VOLUME_NAMES.contains(&name) || name.starts_with("files") {
                self.error(
                    rules::RESERVED,
                    key_origin.clone(),
                    format!("volume name `{name}` is kgen's own"),
                )
                .help("kgen uses `tmp`, `secrets-store` and `files*` itself; choose another name");
                continue;
            }
            let Some(mount) = layers.pick(|l| l.mount.as_ref()) else {
                self.error(
                    rules::MISSING_KEY,
                    key_origin.clone(),
                    format!("volume `{name}` has no `mount`"),
                )
                .help(
                    "add the path the main container mounts it at, e.g. `mount = \"/var/lib/app\"`",
                );
                continue;
            };
            origins.insert(format!("{field}.mount"), mount.origin.clone());
            if !mount.value.starts_with('/') || mount.value.split('/').any(|c| c == "..") {
                self.error(
                    rules::INVALID_PATH,
                    mount.origin.clone(),
                    format!(
                        "mount path `{}` is not an absolute path without `..`",
                        mount.value
                    ),
                );
                continue;
            }
            if OWN_MOUNTS
                .iter()
                .any(|m| mount.value.trim_end_matches('/') == *m)
            {
                self.error(rules::RESERVED, mount.origin.clone(), format!("`{}` is where kgen mounts its own volume", mount.value))
                    .help("kgen mounts a writable `/tmp` and the secrets at `/mnt/secrets-store`; mount this volume elsewhere");
                continue;
            }
            // `/data` and `/data/` are one directory.
            let path = normal_mount(mount.value);
            if let Some(other) = out.iter().find(|v| v.mount == path) {
                self.error(
                    rules::DUPLICATE,
                    mount.origin.clone(),
                    format!(
                        "volumes `{}` and `{name}` are both mounted at `{path}`",
                        other.name
                    ),
                )
                .help("a directory holds one volume: mount this one elsewhere, or use one volume for both (sidecars mount it under `mounts` too)");
                continue;
            }
            let read_only = layers
                .pick(|l| l.read_only.as_ref())
                .is_some_and(|r| *r.value);
            let empty = layers.pick(|l| l.empty_dir.as_ref());
            let claim = layers.pick(|l| l.claim.as_ref());
            let source = match (empty, claim) {
                (Some(_), Some(c)) => {
                    self.error(rules::INVALID_VALUE, c.origin.clone(), format!("volume `{name}` sets both `empty_dir` and `claim`"))
                        .help("a volume is a scratch directory (`empty_dir`) or a persistent claim (`claim`), not both");
                    continue;
                }
                (_, Some(c)) => {
                    origins.insert(format!("{field}.claim"), c.origin.clone());
                    if !claims_allowed {
                        self.error(
                            rules::KIND_MISMATCH,
                            c.origin.clone(),
                            format!("a `{kind}` cannot have a volume claim (`volumes.{name}.claim`)"),
                        )
                        .help("persistent volumes belong to a `deployment`, `worker` or `statefulset`; use `empty_dir` for scratch space");
                        continue;
                    }
                    let Some(size) = layers.pick(|l| l.claim.as_ref()?.size.as_ref()) else {
                        self.error(
                            rules::MISSING_KEY,
                            c.origin.clone(),
                            format!("volume claim `{name}` has no `size`"),
                        )
                        .help("add the size to request, e.g. `size = \"10Gi\"`");
                        continue;
                    };
                    origins.insert(format!("{field}.claim.size"), size.origin.clone());
                    match quantity::parse_non_negative(size.value) {
                        Ok(q) if q.is_zero() => {
                            self.error(
                                rules::INVALID_QUANTITY,
                                size.origin.clone(),
                                "a volume claim of size 0".into(),
                            )
                            .help("request the size the volume needs, e.g. `size = \"10Gi\"`");
                        }
                        Ok(_) => {}
                        Err(e) => {
                            self.error(rules::INVALID_QUANTITY, size.origin.clone(), e)
                                .help(SIZE_HELP);
                        }
                    }
                    let storage_class = layers
                        .pick(|l| l.claim.as_ref()?.storage_class.as_ref())
                        .map(|s| {
                            origins
                                .insert(format!("{field}.claim.storage_class"), s.origin.clone());
                            if let Err(e) = names::check_dns1123_subdomain(s.value) {
                                self.error(
                                    rules::INVALID_NAME,
                                    s.origin.clone(),
                                    format!("storage_class: {e}"),
                                );
                            }
                            s.value.clone()
                        });
                    VolumeSource::Claim {
                        size: size.value.clone(),
                        storage_class,
                        access_mode: layers
                            .pick(|l| l.claim.as_ref()?.access_mode.as_ref())
                            .map_or(crate::spec::AccessMode::ReadWriteOnce, |a| *a.value),
                    }
                }
                (_, None) => {
                    let size_limit = layers
                        .pick(|l| l.empty_dir.as_ref()?.size_limit.as_ref())
                        .map(|s| {
                            origins
                                .insert(format!("{field}.empty_dir.size_limit"), s.origin.clone());
                            if let Err(e) = quantity::parse_non_negative(s.value) {
                                self.error(rules::INVALID_QUANTITY, s.origin.clone(), e)
                                    .help(SIZE_HELP);
                            }
                            s.value.clone()
                        });
                    VolumeSource::EmptyDir {
                        size_limit,
                        memory: layers
                            .pick(|l| l.empty_dir.as_ref()?.memory.as_ref())
                            .is_some_and(|m| *m.value),
                    }
                }
            };
            out.push(VolumeSpec {
                name: name.to_string(),
                mount: path,
                read_only,
                source,
            });
        }
        out
    }

    /// Files of the `<service>-files` ConfigMap.
    pub(super) fn files(
        &mut self,
        entries: BTreeMap<&'a str, (Origin, Layers<'a, FileLayer>)>,
        volumes: &[VolumeSpec],
        ctx: &Value,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<FileSpec> {
        let mut out: Vec<FileSpec> = Vec::new();
        for (key, (key_origin, layers)) in entries {
            let field = format!("files.{key}");
            origins.insert(field.clone(), key_origin.clone());
            if let Err(e) = names::check_config_map_key(key) {
                self.error(
                    rules::INVALID_KEY,
                    key_origin.clone(),
                    format!("file name: {e}"),
                );
                continue;
            }
            let Some(path) = layers.pick(|l| l.path.as_ref()) else {
                self.error(rules::MISSING_KEY, key_origin.clone(), format!("file `{key}` has no `path`"))
                    .help(format!("add the absolute path of the file in the container, e.g. `path = \"/etc/app/{key}\"`"));
                continue;
            };
            origins.insert(format!("{field}.path"), path.origin.clone());
            let p = path.value.as_str();
            if !p.starts_with('/')
                || p.ends_with('/')
                || p.split('/').any(|c| c == ".." || c == ".")
                || p.matches('/').count() < 2
            {
                self.error(rules::INVALID_PATH, path.origin.clone(), format!("`{p}` is not an absolute file path in a directory"))
                    .help("write the file's full path, e.g. `/etc/app/app.yaml` (the directory /etc/app is mounted with kgen's files only)");
                continue;
            }
            let dir = p.rsplit_once('/').map(|(d, _)| d).unwrap_or("/");
            if OWN_MOUNTS.contains(&dir) || volumes.iter().any(|v| v.mount == dir) {
                self.error(
                    rules::DUPLICATE,
                    path.origin.clone(),
                    format!("`{dir}` is already a mount (a volume, `/tmp` or the secrets)"),
                )
                .help("put the file in a directory of its own");
                continue;
            }
            if let Some(other) = out.iter().find(|f| f.path == p) {
                self.error(
                    rules::DUPLICATE,
                    path.origin.clone(),
                    format!("files `{}` and `{key}` have the same path", other.key),
                );
                continue;
            }
            let Some(content) = layers.pick(|l| l.content.as_ref()) else {
                self.error(
                    rules::MISSING_KEY,
                    key_origin.clone(),
                    format!("file `{key}` has no `content`"),
                )
                .help("add the file's text, e.g. `content = \"\"\"...\"\"\"`");
                continue;
            };
            origins.insert(format!("{field}.content"), content.origin.clone());
            self.scan_secret(key, content.value, &content.origin);
            let Some(text) = self.render_keyed(key, content.value, &content.origin, ctx) else {
                continue;
            };
            out.push(FileSpec {
                key: key.to_string(),
                path: p.to_string(),
                content: text,
            });
        }
        out
    }

    /// Node selector, tolerations, node affinity, priority class, grace period.
    pub(super) fn placement(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Placement {
        let mut p = Placement::default();
        for (k, e) in layers.map(|l| Some(&l.node_selector)) {
            origins.insert(format!("node_selector.{k}"), e.value.origin.clone());
            if let Err(err) = names::check_label_key(k) {
                self.error(
                    rules::INVALID_KEY,
                    e.key.clone(),
                    format!("node label key: {err}"),
                );
                continue;
            }
            if let Err(err) = names::check_label_value(e.value.value) {
                self.error(
                    rules::INVALID_VALUE,
                    e.value.origin.clone(),
                    format!("node label value: {err}"),
                );
                continue;
            }
            p.node_selector.insert(k.to_string(), e.value.value.clone());
        }
        if let Some(list) = layers.pick(|l| l.tolerations.as_ref()) {
            origins.insert("tolerations".into(), list.origin.clone());
            let file = list.origin.file;
            for t in list.value {
                let at = |s: &std::ops::Range<usize>| Origin::new(file, s.clone());
                let operator = t
                    .operator
                    .as_ref()
                    .map_or(crate::spec::TolerationOperator::Equal, |o| o.value);
                if let Some(k) = &t.key {
                    if let Err(e) = names::check_label_key(&k.value) {
                        self.error(rules::INVALID_KEY, at(&k.span), format!("taint key: {e}"));
                    }
                }
                if operator == crate::spec::TolerationOperator::Exists {
                    if let Some(v) = &t.value {
                        self.error(
                            rules::INVALID_VALUE,
                            at(&v.span),
                            "a toleration with `operator = \"Exists\"` has no `value`".into(),
                        )
                        .help("remove `value`, or use `operator = \"Equal\"`");
                    }
                } else if t.key.is_none() {
                    self.error(rules::MISSING_KEY, list.origin.clone(), "a toleration with `operator = \"Equal\"` needs a `key`".into())
                        .help("add the taint's `key` (and `value`), or use `operator = \"Exists\"` without a key to tolerate every taint");
                }
                if let Some(s) = &t.seconds {
                    if t.effect.as_ref().map(|e| e.value)
                        != Some(crate::spec::TaintEffect::NoExecute)
                    {
                        self.error(
                            rules::INVALID_VALUE,
                            at(&s.span),
                            "`seconds` applies to `effect = \"NoExecute\"` only".into(),
                        )
                        .help("`seconds` is how long the pod stays on a node after a `NoExecute` taint appears on it: add `effect = \"NoExecute\"`, or remove `seconds`");
                    }
                }
                p.tolerations.push(Toleration {
                    key: t.key.as_ref().map(|k| k.value.clone()),
                    operator,
                    value: t.value.as_ref().map(|v| v.value.clone()),
                    effect: t.effect.as_ref().map(|e| e.value),
                    seconds: t.seconds.as_ref().map(|s| s.value),
                });
            }
        }
        for (which, list) in [
            (
                "required",
                layers.pick(|l| l.node_affinity.as_ref()?.required.as_ref()),
            ),
            (
                "preferred",
                layers.pick(|l| l.node_affinity.as_ref()?.preferred.as_ref()),
            ),
        ] {
            let Some(list) = list else { continue };
            origins.insert(format!("node_affinity.{which}"), list.origin.clone());
            let file = list.origin.file;
            for term in list.value {
                let at = |s: &std::ops::Range<usize>| Origin::new(file, s.clone());
                if let Err(e) = names::check_label_key(&term.key.value) {
                    self.error(
                        rules::INVALID_KEY,
                        at(&term.key.span),
                        format!("node label key: {e}"),
                    );
                }
                let values: Vec<String> = term
                    .values
                    .iter()
                    .flat_map(|v| &v.value)
                    .map(|v| v.value.clone())
                    .collect();
                use crate::spec::NodeOperator as Op;
                let values_at = term
                    .values
                    .as_ref()
                    .map_or(at(&term.operator.span), |v| at(&v.span));
                match term.operator.value {
                    Op::In | Op::NotIn if values.is_empty() => {
                        self.error(
                            rules::INVALID_VALUE,
                            values_at,
                            "`In` and `NotIn` need at least one value".into(),
                        )
                        .help(format!("list the label's values, e.g. `values = [\"arm64\"]`, or use `operator = \"Exists\"` for any value of `{}`", term.key.value));
                    }
                    Op::Exists | Op::DoesNotExist if !values.is_empty() => {
                        self.error(
                            rules::INVALID_VALUE,
                            values_at,
                            "`Exists` and `DoesNotExist` take no values".into(),
                        )
                        .help("remove `values`, or use `operator = \"In\"` (or `\"NotIn\"`) to match them");
                    }
                    Op::Gt | Op::Lt if values.len() != 1 || values[0].parse::<i64>().is_err() => {
                        self.error(
                            rules::INVALID_VALUE,
                            values_at,
                            "`Gt` and `Lt` take one integer value".into(),
                        )
                        .help("write one whole number as a string, e.g. `values = [\"4\"]`: the node label's value is compared as an integer");
                    }
                    _ => {}
                }
                let weight = match (&term.weight, which) {
                    (Some(w), "required") => {
                        self.error(
                            rules::INVALID_VALUE,
                            at(&w.span),
                            "a required node term has no `weight`".into(),
                        )
                        .help("`weight` ranks `preferred` terms; a `required` term must hold");
                        0
                    }
                    (Some(w), _) => self
                        .int_in_range(w.value, 1, 100, &at(&w.span), "weight")
                        .unwrap_or(1) as i32,
                    (None, "required") => 0,
                    (None, _) => 1,
                };
                let t = NodeTerm {
                    key: term.key.value.clone(),
                    operator: term.operator.value,
                    values,
                    weight,
                };
                if which == "required" {
                    p.required.push(t);
                } else {
                    p.preferred.push(t);
                }
            }
        }
        p.priority_class = layers.pick(|l| l.priority_class.as_ref()).map(|c| {
            origins.insert("priority_class".into(), c.origin.clone());
            if let Err(e) = names::check_dns1123_subdomain(c.value) {
                self.error(
                    rules::INVALID_NAME,
                    c.origin.clone(),
                    format!("priority_class: {e}"),
                );
            }
            c.value.clone()
        });
        p.termination_grace_period = layers
            .pick(|l| l.termination_grace_period.as_ref())
            .and_then(|g| {
                origins.insert("termination_grace_period".into(), g.origin.clone());
                self.int_in_range(*g.value, 0, 86_400, &g.origin, "termination_grace_period")
            });
        p
    }

    /// Extra labels or annotations (`field`: `labels`, `pod_annotations`, ...): keys
    /// checked, kgen's own refused, annotation values scanned for secrets.
    pub(super) fn metadata_map(
        &mut self,
        field: &str,
        entries: BTreeMap<&'a str, crate::merge::MapEntry<'a, String>>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> BTreeMap<String, String> {
        let labels = field.ends_with("labels");
        let mut out = BTreeMap::new();
        for (k, e) in entries {
            origins.insert(format!("{field}.{k}"), e.value.origin.clone());
            if let Err(err) = names::check_label_key(k) {
                self.error(
                    rules::INVALID_KEY,
                    e.key.clone(),
                    format!("{} key: {err}", if labels { "label" } else { "annotation" }),
                );
                continue;
            }
            if OWN_KEY_PREFIXES.iter().any(|p| k.starts_with(p)) {
                self.error(rules::RESERVED, e.key.clone(), format!("`{k}` is a key kgen sets itself"))
                    .help("kgen owns the `app.kubernetes.io/`, `kgen.dev/` and `argocd.argoproj.io/` keys (selectors, versions, sync waves); choose another key");
                continue;
            }
            if field == "labels" && NAMESPACE_LABELS.iter().any(|p| k.starts_with(p)) {
                self.error(rules::RESERVED, e.key.clone(), format!("`{k}` is a label kgen sets on the service's Namespace"))
                    .help("`labels` go on every object of the service, its Namespace too, where kgen sets `pod-security.kubernetes.io/enforce` (Pod Security Admission) and Kubernetes `kubernetes.io/metadata.name`; choose another key");
                continue;
            }
            if labels {
                if let Err(err) = names::check_label_value(e.value.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        e.value.origin.clone(),
                        format!("label value: {err}"),
                    );
                    continue;
                }
            } else {
                self.scan_secret(k, e.value.value, &e.value.origin);
            }
            out.insert(k.to_string(), e.value.value.clone());
        }
        out
    }

    /// Names of the Secrets holding registry credentials.
    pub(super) fn image_pull_secrets(
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

/// A mount path without its trailing slashes (`/data/` is `/data`), as it is rendered
/// and compared.
fn normal_mount(path: &str) -> String {
    match path.trim_end_matches('/') {
        "" => "/".to_string(),
        p => p.to_string(),
    }
}

/// Layers that carry a `probes` table (a service, or a sidecar).
pub(super) trait ProbesHolder {
    fn probes(&self) -> Option<&ProbesLayer>;
}

impl ProbesHolder for ServiceLayer {
    fn probes(&self) -> Option<&ProbesLayer> {
        self.probes.as_ref().map(|p| &p.value)
    }
}

impl ProbesHolder for ContainerLayer {
    fn probes(&self) -> Option<&ProbesLayer> {
        self.probes.as_ref().map(|p| &p.value)
    }
}
