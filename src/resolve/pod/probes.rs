//! Probes of the main container and of sidecars: an HTTP path, or a table with one
//! handler (HTTP, TCP, gRPC, exec) and its timings, checked as the API server checks them.

use std::collections::BTreeMap;

use crate::input::{ContainerLayer, ProbeLayer, ProbesLayer, ServiceLayer};
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{PortRef, Probe, ProbeHandler};
use crate::{names, rules};
impl<'a> Resolver<'a> {
    /// The probes of a container (`key` is `probes` for the main one, or
    /// `sidecars.<name>.probes`), each with its origin recorded.
    /// With `skip_base`, a probe from `[defaults]` is left out (a kind without the
    /// `http` port those usually probe).
    pub(in crate::resolve) fn probes<T: ProbesHolder + 'a>(
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

    /// An HTTP probe of the main container on the port `http`, which a `kind` without
    /// a Service (a worker, a job) does not have: the kubelet would fail it.
    pub(in crate::resolve) fn probe_without_http(
        &mut self,
        kind: crate::spec::WorkloadKind,
        which: &str,
        probe: Option<&Probe>,
        origins: &BTreeMap<String, Origin>,
    ) {
        let http = self.main_port.clone();
        let http = http.as_str();
        let Some(ProbeHandler::Http {
            path,
            port: PortRef::Name(port),
        }) = probe.map(|p| &p.handler)
        else {
            return;
        };
        let Some(origin) = origins.get(&format!("probes.{which}")) else {
            return;
        };
        if port != http {
            return;
        }
        let kind = kind.as_str();
        self.error(
            rules::KIND_MISMATCH,
            origin.clone(),
            format!("the {which} probe is an HTTP GET of `{path}` on the port `{http}`, which a `{kind}` does not have"),
        )
        .help(format!(
            "a `{kind}` has no Service, so no `{http}` port: probe a port of `ports` (`{{ http = \"{path}\", port = \"health\" }}` with `ports = {{ health = 8081 }}`), a TCP port (`{{ tcp = \"health\" }}`) or a command (`{{ exec = [...] }}`)"
        ));
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
                Some(Probe::http(p, &self.main_port))
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
                // One entry per handler written, `None` where it has an error: the
                // rest of the probe is checked all the same.
                let mut handlers: Vec<Option<ProbeHandler>> = Vec::new();
                if let Some(path) = &t.http {
                    if let Err(e) = names::check_http_path(&path.value) {
                        self.error(rules::INVALID_PATH, at(&path.span), e);
                    }
                    let port = match &t.port {
                        Some(p) => port_ref(self, p),
                        None => Some(PortRef::Name(self.main_port.clone())),
                    };
                    handlers.push(port.map(|port| ProbeHandler::Http {
                        path: path.value.clone(),
                        port,
                    }));
                }
                if let Some(p) = &t.tcp {
                    handlers.push(port_ref(self, p).map(ProbeHandler::Tcp));
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
                        handlers.push(None);
                    } else {
                        handlers.push(port_ref(self, p).map(|port| ProbeHandler::Grpc {
                            port,
                            service: t.grpc_service.as_ref().map(|s| s.value.clone()),
                        }));
                    }
                }
                if let Some(cmd) = &t.exec {
                    if cmd.value.is_empty() {
                        self.error(rules::INVALID_VALUE, at(&cmd.span), "an `exec` probe needs a command".into())
                            .help("write the command and its arguments, e.g. `exec = [\"pg_isready\", \"-U\", \"app\"]`");
                    }
                    handlers.push(Some(ProbeHandler::Exec(
                        cmd.value.iter().map(|c| c.value.clone()).collect(),
                    )));
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
                }
                let handler = match handlers.as_mut_slice() {
                    [one] => one.take(),
                    _ => None,
                };
                let num =
                    |this: &mut Self, v: &Option<Spanned<i64>>, min: i64, max: i64, what: &str| {
                        v.as_ref().and_then(|v| {
                            this.int_in_range(v.value, min, max, &at(&v.span), what)
                                .map(|n| n as i32)
                        })
                    };
                let initial_delay = num(self, &t.initial_delay, 0, 3600, "initial_delay");
                let period = num(self, &t.period, 1, 3600, "period");
                let timeout = num(self, &t.timeout, 1, 3600, "timeout");
                let failure_threshold =
                    num(self, &t.failure_threshold, 1, 1000, "failure_threshold");
                let success_threshold =
                    num(self, &t.success_threshold, 1, 1000, "success_threshold");
                if success_threshold.is_some_and(|n| n != 1) && !field.ends_with("readiness") {
                    self.error(
                        rules::INVALID_VALUE,
                        t.success_threshold.as_ref().map_or(origin.clone(), |v| at(&v.span)),
                        format!("`{field}.success_threshold` must be 1: the API server allows more only for readiness probes"),
                    )
                    .help("remove `success_threshold` (a liveness or startup probe succeeds at its first success), or set it on the readiness probe");
                }
                Some(Probe {
                    handler: handler?,
                    initial_delay,
                    period,
                    timeout,
                    failure_threshold,
                    success_threshold,
                })
            }
        }
    }
}

/// Layers that carry a `probes` table (a service, or a sidecar).
pub(in crate::resolve) trait ProbesHolder {
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
