//! Named container ports (of the main container or a sidecar) and the Service of a
//! service that has one: its type, port and annotations.

use std::collections::BTreeMap;

use crate::input::{PortLayer, ServiceLayer};
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spec::{Port, Protocol, ServiceExposure, ServiceType};
use crate::{names, rules};
/// Container port names kgen gives the main container itself.
pub const OWN_PORT_NAMES: &[&str] = &["http", "metrics"];

impl<'a> Resolver<'a> {
    /// Named container ports of a container (`key`: `ports` or `sidecars.<name>.ports`).
    pub(in crate::resolve) fn ports(
        &mut self,
        key: &str,
        entries: BTreeMap<&'a str, crate::merge::MapEntry<'a, PortLayer>>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<Port> {
        let mut out = Vec::new();
        for (name, entry) in entries {
            origins.insert(format!("{key}.{name}"), entry.value.origin.clone());
            let bad_name = names::check_port_name(name).err().or_else(|| {
                if name == self.main_port {
                    Some(format!("`{name}` is the name of the main port (`port`)"))
                } else {
                    OWN_PORT_NAMES.contains(&name).then(|| {
                        format!("`{name}` is the name of a port kgen sets (`port`, `metrics.port`)")
                    })
                }
            });
            if let Some(e) = bad_name {
                let help = format!("port names are at most 15 lowercase letters, digits and `-`, with a letter; `{}` is the main port (`port`, named by `port_name`), `metrics` the metrics port", self.main_port);
                self.error(
                    rules::INVALID_NAME,
                    entry.key.clone(),
                    format!("port name: {e}"),
                )
                .help(help);
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
                        t.app_protocol.as_ref(),
                    )
                }
            };
            let Some(port) = port.and_then(|p| self.int_in_range(p, 1, 65535, &origin, "port"))
            else {
                continue;
            };
            if let Some(Err(e)) = app_protocol.map(|a| names::check_app_protocol(&a.value)) {
                let at = app_protocol.expect("checked");
                self.error(
                    rules::PORTS,
                    Origin::new(origin.file, at.span.clone()),
                    format!("port `{name}`: {e}"),
                )
                .help("the Service port's appProtocol: an IANA service name such as `http`, `https`, `grpc`, or a prefixed name such as `kubernetes.io/h2c`");
                continue;
            }
            let app_protocol = app_protocol.map(|a| a.value.clone());
            if let Some(sp) = service_port {
                origins.insert(
                    format!("{key}.{name}.service_port"),
                    Origin::new(origin.file, sp.span.clone()),
                );
            }
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
    pub(in crate::resolve) fn service_exposure(
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
        let app_protocol = layers
            .pick(|l| l.service.as_ref()?.app_protocol.as_ref())
            .and_then(|a| {
                origins.insert("service.app_protocol".into(), a.origin.clone());
                match names::check_app_protocol(a.value) {
                    Ok(()) => Some(a.value.clone()),
                    Err(e) => {
                        self.error(rules::PORTS, a.origin.clone(), format!("`service.app_protocol`: {e}"))
                            .help("an IANA service name such as `tcp`, `http`, `grpc`, or a prefixed name such as `kubernetes.io/h2c`");
                        None
                    }
                }
            });
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
        let mut source_cidrs = Vec::new();
        if let Some(list) = layers.pick(|l| l.service.as_ref()?.source_cidrs.as_ref()) {
            origins.insert("service.source_cidrs".into(), list.origin.clone());
            if type_ == ServiceType::ClusterIP {
                // Where the type was made `ClusterIP` (an overlay, say), when it was.
                let typed_at = origins.get("service.type").map(|o| {
                    let (line, _) = self.ws.sources.line_col(o.file, o.span.start);
                    format!(
                        " (`service.type = \"ClusterIP\"` at {}:{line})",
                        self.ws.sources.get(o.file).display
                    )
                });
                self.error(
                    rules::INVALID_VALUE,
                    list.origin.clone(),
                    format!("`service.source_cidrs` applies to a `NodePort` or `LoadBalancer` Service only: this one is a `ClusterIP` Service{}, reached from inside the cluster", typed_at.unwrap_or_default()),
                )
                .help("set `service.type = \"LoadBalancer\"` (or `\"NodePort\"`) in the same place, or remove `source_cidrs`; callers inside the cluster are admitted by `calls`");
            }
            for c in list.value {
                if crate::resolve::is_cidr(&c.value) {
                    self.host_bits_warning(&c.value, Origin::new(list.origin.file, c.span.clone()));
                    source_cidrs.push(c.value.clone());
                } else {
                    self.error(
                        rules::INVALID_VALUE,
                        Origin::new(list.origin.file, c.span.clone()),
                        format!("`{}` is not a CIDR block", c.value),
                    )
                    .help("write an address and prefix length, like `10.0.0.0/16` (the VPC or the load balancer's subnets)");
                }
            }
        }
        ServiceExposure {
            type_,
            port: service_port,
            app_protocol,
            annotations,
            source_cidrs,
        }
    }
}
