//! Traffic: Services (type, ports, selector), Ingresses (hosts, paths, backends) and
//! NetworkPolicies (policy types, ports).

use std::collections::BTreeSet;

use serde_json::Value;

use super::Checker;
use crate::validate::{arr_at, int_at, map_at, str_at, FieldPath, Finding};
use crate::{names, rules};

impl Checker<'_, '_> {
    pub(super) fn service(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        let type_ = str_at(spec, "type").unwrap_or("ClusterIP");
        if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(&type_) {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path.key("type"),
                format!("unsupported Service type {type_:?}: use ClusterIP, NodePort, LoadBalancer or ExternalName"),
            ));
        }
        let ports = arr_at(spec, "ports");
        let headless = str_at(spec, "clusterIP") == Some("None");
        if ports.is_empty() && type_ != "ExternalName" && !headless {
            self.push(
                Finding::error(rules::PORTS, &path.key("ports"), "the Service has no ports")
                    .key("port"),
            );
        }
        // A port number listed twice is checked with the pods the Service selects
        // (`pod_ports::service_ports_twice`).
        let mut names_seen = BTreeSet::new();
        for (i, p) in ports.iter().enumerate() {
            let pp = || path.key("ports").index(i);
            let number = int_at(p, "port");
            if let Some(n) = number {
                if !(1..=65535).contains(&n) {
                    self.push(
                        Finding::error(
                            rules::PORTS,
                            &pp().key("port"),
                            format!("Service port {n} is out of range 1-65535"),
                        )
                        .key("port"),
                    );
                }
            }
            self.protocol(pp, p);
            if let Some(Err(e)) = str_at(p, "appProtocol").map(names::check_app_protocol) {
                self.push(Finding::error(rules::PORTS, &pp().key("appProtocol"), e));
            }
            match str_at(p, "name") {
                Some(n) => {
                    if let Err(e) = names::check_dns1123_label(n) {
                        self.push(Finding::error(
                            rules::PORTS,
                            &pp().key("name"),
                            format!("Service port name: {e}"),
                        ));
                    } else if !names_seen.insert(n.to_string()) {
                        self.push(Finding::error(
                            rules::PORTS,
                            &pp().key("name"),
                            format!("Service port name `{n}` is used twice"),
                        ));
                    }
                }
                None if ports.len() > 1 => self.push(Finding::error(
                    rules::PORTS,
                    &pp(),
                    "every port of a Service with several ports needs a name",
                )),
                None => {}
            }
            match p.get("targetPort") {
                Some(Value::Number(n)) if !n.as_i64().is_some_and(|n| (1..=65535).contains(&n)) => {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("targetPort"),
                        format!("target port {n} is out of range 1-65535"),
                    ));
                }
                Some(Value::String(s)) => {
                    if let Err(e) = names::check_port_name(s) {
                        self.push(Finding::error(rules::PORTS, &pp().key("targetPort"), e));
                    }
                }
                _ => {}
            }
            if let Some(n) = int_at(p, "nodePort") {
                if type_ != "NodePort" && type_ != "LoadBalancer" {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("nodePort"),
                        format!("nodePort is only allowed on NodePort and LoadBalancer Services, not {type_}"),
                    ));
                } else if !(1..=65535).contains(&n) {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("nodePort"),
                        format!("node port {n} is out of range"),
                    ));
                }
            }
        }
        if let Some(sel) = map_at(spec, "selector") {
            for (k, v) in sel {
                let fp = || path.key("selector").key(k);
                if let Err(e) = names::check_label_key(k) {
                    self.push(Finding::error(rules::SELECTOR, &fp(), e));
                } else if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                    self.push(Finding::error(rules::SELECTOR, &fp(), e));
                }
            }
        }
    }

    pub(super) fn ingress(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        if let Some(b) = spec.get("defaultBackend") {
            self.ingress_backend(&path.key("defaultBackend"), b);
        }
        for (i, rule) in arr_at(spec, "rules").iter().enumerate() {
            let rp = path.key("rules").index(i);
            if let Some(host) = str_at(rule, "host") {
                let bare = host.strip_prefix("*.").unwrap_or(host);
                let ip = bare.parse::<std::net::IpAddr>().is_ok();
                if let Err(e) = names::check_dns1123_subdomain(bare).and_then(|()| {
                    if ip {
                        Err(format!(
                            "{host:?} is an IP address; an Ingress host must be a DNS name"
                        ))
                    } else {
                        Ok(())
                    }
                }) {
                    self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &rp.key("host"),
                        format!("host: {e}"),
                    ));
                }
            }
            let Some(http) = rule.get("http") else {
                continue;
            };
            for (j, p) in arr_at(http, "paths").iter().enumerate() {
                let pp = rp.key("http").key("paths").index(j);
                let pt = str_at(p, "pathType");
                match pt {
                    None => self.push(Finding::error(rules::FIELD_VALUE, &pp.key("pathType"), "pathType is required: use Prefix, Exact or ImplementationSpecific")),
                    Some("Prefix" | "Exact" | "ImplementationSpecific") => {}
                    Some(other) => self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &pp.key("pathType"),
                        format!("unsupported pathType {other:?}: use Prefix, Exact or ImplementationSpecific"),
                    )),
                }
                if let Some(at) = str_at(p, "path") {
                    if !at.starts_with('/') {
                        self.push(Finding::error(
                            rules::FIELD_VALUE,
                            &pp.key("path"),
                            format!("Ingress path {at:?} must start with '/'"),
                        ));
                    } else if let (Some("Prefix" | "Exact"), Err(e)) =
                        (pt, names::check_prefix_path(at))
                    {
                        self.push(
                            Finding::error(rules::FIELD_VALUE, &pp.key("path"), e)
                                .key("ingress.path"),
                        );
                    }
                }
                if let Some(b) = p.get("backend") {
                    self.ingress_backend(&pp.key("backend"), b);
                }
            }
        }
    }

    fn ingress_backend(&mut self, path: &FieldPath, b: &Value) {
        if b.get("service").is_some() && b.get("resource").is_some() {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                path,
                "a backend names a service or a resource, not both",
            ));
        }
        if let Some(port) = b.get("service").and_then(|s| s.get("port")) {
            if port.get("number").is_some() && port.get("name").is_some() {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("service").key("port"),
                    "a backend port has a number or a name, not both",
                ));
            }
        }
    }

    pub(super) fn network_policy(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        for (i, t) in arr_at(spec, "policyTypes").iter().enumerate() {
            if !matches!(t.as_str(), Some("Ingress" | "Egress")) {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("policyTypes").index(i),
                    format!("unsupported policy type {t}: use Ingress or Egress"),
                ));
            }
        }
        for dir in ["ingress", "egress"] {
            for (i, r) in arr_at(spec, dir).iter().enumerate() {
                for (j, p) in arr_at(r, "ports").iter().enumerate() {
                    let pp = path.key(dir).index(i).key("ports").index(j);
                    self.protocol(|| pp.clone(), p);
                    match p.get("port") {
                        Some(Value::Number(n)) => {
                            let n = n.as_i64().unwrap_or(0);
                            if !(1..=65535).contains(&n) {
                                self.push(Finding::error(
                                    rules::PORTS,
                                    &pp.key("port"),
                                    format!("port {n} is out of range 1-65535"),
                                ));
                            }
                            if let Some(end) = int_at(p, "endPort") {
                                if end < n {
                                    self.push(Finding::error(
                                        rules::PORTS,
                                        &pp.key("endPort"),
                                        format!("endPort {end} is below port {n}"),
                                    ));
                                }
                            }
                        }
                        Some(Value::String(s)) => {
                            if let Err(e) = names::check_port_name(s) {
                                self.push(Finding::error(rules::PORTS, &pp.key("port"), e));
                            }
                            if p.get("endPort").is_some() {
                                self.push(Finding::error(
                                    rules::PORTS,
                                    &pp.key("endPort"),
                                    "endPort needs a numeric port",
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::{json, Value};

    #[test]
    fn services_and_ingresses() {
        let msgs = |v: Value| findings(&v).into_iter().map(|f| f.2).collect::<Vec<_>>();
        assert_eq!(
            msgs(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"ports": [{"port": 80}, {"port": 70000, "name": "Web", "targetPort": "http-port-too-long"}]}})),
            vec![
                "every port of a Service with several ports needs a name",
                "Service port 70000 is out of range 1-65535",
                "Service port name: \"Web\" is not a valid DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
                "\"http-port-too-long\" is too long for a port name (18 characters): use at most 15 lowercase letters, digits and '-', with at least one letter and no leading, trailing or doubled '-', like http or grpc-web",
            ]
        );
        assert_eq!(
            msgs(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
                "spec": {"rules": [{"host": "10.0.0.1", "http": {"paths": [{"path": "api", "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]}})
            ),
            vec![
                "host: \"10.0.0.1\" is an IP address; an Ingress host must be a DNS name",
                "pathType is required: use Prefix, Exact or ImplementationSpecific",
                "Ingress path \"api\" must start with '/'",
            ]
        );
    }
}
