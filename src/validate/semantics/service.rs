//! Traffic: Services (type, ports, selector), Ingresses (hosts, paths, backends) and
//! NetworkPolicies (policy types, ports).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{check_dns1035_label, Checker};
use crate::cidr::Cidr;
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
        self.service_fields(path, spec, type_);
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
            // A number that is no 64-bit integer (`1e20`) is out of range too.
            if let Some(Value::Number(n)) = p.get("port") {
                if !n.as_i64().is_some_and(|n| (1..=65535).contains(&n)) {
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

    /// What a Service's type allows (kubernetes `pkg/apis/core/validation`,
    /// `ValidateService`: an ExternalName Service names a DNS name, a NodePort or
    /// LoadBalancer Service is not headless, `loadBalancerSourceRanges` are CIDR
    /// blocks of a LoadBalancer Service; `validateServiceExternalTrafficPolicy`:
    /// only an externally accessible Service sets `externalTrafficPolicy`).
    fn service_fields(&mut self, path: &FieldPath, spec: &Value, type_: &str) {
        if type_ == "ExternalName" {
            match str_at(spec, "externalName").map(|n| n.strip_suffix('.').unwrap_or(n)) {
                None | Some("") => self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("externalName"),
                    "an ExternalName Service has no externalName; set the DNS name it stands for",
                )),
                Some(n) => {
                    if let Err(e) = names::check_dns1123_subdomain(n) {
                        self.push(Finding::error(
                            rules::FIELD_VALUE,
                            &path.key("externalName"),
                            format!("externalName: {e}"),
                        ));
                    }
                }
            }
        }
        if str_at(spec, "clusterIP") == Some("None") && matches!(type_, "NodePort" | "LoadBalancer")
        {
            self.push(
                Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("clusterIP"),
                    format!("clusterIP is None on a {type_} Service; the API server refuses a headless {type_} Service"),
                )
                .help("remove clusterIP: None, or use type ClusterIP for a headless Service"),
            );
        }
        let ranges = arr_at(spec, "loadBalancerSourceRanges");
        if !ranges.is_empty() && type_ != "LoadBalancer" {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path.key("loadBalancerSourceRanges"),
                format!("loadBalancerSourceRanges is set on a {type_} Service; only a LoadBalancer Service may use it"),
            ));
        }
        for (i, r) in ranges.iter().enumerate() {
            if let Some(r) = r.as_str().filter(|r| Cidr::parse(r.trim()).is_none()) {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("loadBalancerSourceRanges").index(i),
                    format!("load balancer source range {r:?} is not a CIDR block; write an address and a prefix length, like 203.0.113.0/24"),
                ));
            }
        }
        // An empty policy is none (`validateServiceExternalTrafficPolicy`: `!= ""`).
        if let Some(p) = str_at(spec, "externalTrafficPolicy").filter(|p| !p.is_empty()) {
            let external = matches!(type_, "NodePort" | "LoadBalancer")
                || (type_ == "ClusterIP" && !arr_at(spec, "externalIPs").is_empty());
            if !external {
                self.push(
                    Finding::error(
                        rules::FIELD_VALUE,
                        &path.key("externalTrafficPolicy"),
                        format!("externalTrafficPolicy is set on a {type_} Service; the API server accepts it only on an externally accessible one (NodePort, LoadBalancer, or with externalIPs)"),
                    )
                    .help("remove externalTrafficPolicy, or set the type the Service had"),
                );
            } else if !matches!(p, "Cluster" | "Local") {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("externalTrafficPolicy"),
                    format!("unsupported externalTrafficPolicy {p:?}: use Cluster or Local"),
                ));
            }
        }
    }

    pub(super) fn ingress(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        // `ValidateIngressSpec` and `validateIngressTLS` (kubernetes
        // `pkg/apis/networking/validation`): the class and a TLS secret are object
        // names, a TLS host a DNS name or a `*.` wildcard of one.
        if let Some(Err(e)) = str_at(spec, "ingressClassName").map(names::check_dns1123_subdomain) {
            self.push(Finding::error(
                rules::OBJECT_NAME,
                &path.key("ingressClassName"),
                format!("ingress class name: {e}"),
            ));
        }
        for (i, tls) in arr_at(spec, "tls").iter().enumerate() {
            let tp = || path.key("tls").index(i);
            for (j, h) in arr_at(tls, "hosts").iter().enumerate() {
                let Some(h) = h.as_str() else {
                    continue;
                };
                let bare = h.strip_prefix("*.").unwrap_or(h);
                if let Err(e) = names::check_dns1123_subdomain(bare) {
                    self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &tp().key("hosts").index(j),
                        format!("TLS host: {e} (a leading `*.` is allowed)"),
                    ));
                }
            }
            if let Some(Err(e)) = str_at(tls, "secretName")
                .filter(|n| !n.is_empty())
                .map(names::check_dns1123_subdomain)
            {
                self.push(Finding::error(
                    rules::OBJECT_NAME,
                    &tp().key("secretName"),
                    format!("TLS secret name: {e}"),
                ));
            }
        }
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
        // `validateIngressBackend`: the service is a Service name, its port a
        // number (1-65535) or a port name, one of them.
        let Some(service) = b.get("service") else {
            return;
        };
        let sp = || path.key("service");
        match str_at(service, "name") {
            None | Some("") => self.push(Finding::error(
                rules::OBJECT_NAME,
                &sp().key("name"),
                "a backend names no Service",
            )),
            Some(n) => {
                if let Err(e) = check_dns1035_label(n) {
                    self.push(Finding::error(
                        rules::OBJECT_NAME,
                        &sp().key("name"),
                        format!("backend Service name: {e}"),
                    ));
                }
            }
        }
        let port = service.get("port");
        let name = port
            .and_then(|p| str_at(p, "name"))
            .filter(|n| !n.is_empty());
        let number = port.and_then(|p| int_at(p, "number")).filter(|n| *n != 0);
        let pp = || sp().key("port");
        match (name, number) {
            (Some(_), Some(_)) => self.push(Finding::error(
                rules::FIELD_VALUE,
                &pp(),
                "a backend port has a number or a name, not both",
            )),
            (None, None) => self.push(Finding::error(
                rules::PORTS,
                &pp(),
                "a backend's Service port has neither a number nor a name; give the Service port's number (1-65535) or name",
            )),
            (Some(n), None) => {
                if let Err(e) = names::check_port_name(n) {
                    self.push(Finding::error(rules::PORTS, &pp().key("name"), e));
                }
            }
            (None, Some(n)) => {
                if !(1..=65535).contains(&n) {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("number"),
                        format!("backend port {n} is out of range 1-65535"),
                    ));
                }
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
            let peers = if dir == "ingress" { "from" } else { "to" };
            for (i, r) in arr_at(spec, dir).iter().enumerate() {
                for (j, peer) in arr_at(r, peers).iter().enumerate() {
                    self.network_peer(|| path.key(dir).index(i).key(peers).index(j), peer);
                }
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

    /// One peer of a NetworkPolicy rule (kubernetes `pkg/apis/networking/validation`,
    /// `ValidateNetworkPolicyPeer` and `ValidateIPBlock`): it selects pods,
    /// namespaces or an IP block, and an IP block alone; the block is a CIDR and
    /// each exception a strict subset of it.
    fn network_peer(&mut self, pp: impl Fn() -> FieldPath, peer: &Value) {
        let given = |k: &str| peer.get(k).is_some_and(|v| !v.is_null());
        let ip_block = peer.get("ipBlock").filter(|v| !v.is_null());
        let selectors = usize::from(given("podSelector")) + usize::from(given("namespaceSelector"));
        if selectors == 0 && ip_block.is_none() {
            self.push(
                Finding::error(
                    rules::SELECTOR,
                    &pp(),
                    "a NetworkPolicy peer selects nothing; the API server requires podSelector, namespaceSelector or ipBlock",
                )
                .help("to allow every pod of the namespace write `podSelector: {}`; to allow everything, leave the rule's from/to list out"),
            );
        } else if selectors > 0 && ip_block.is_some() {
            self.push(Finding::error(
                rules::SELECTOR,
                &pp().key("ipBlock"),
                "a NetworkPolicy peer sets ipBlock with a pod or namespace selector; the API server accepts ipBlock only alone (make it a peer of its own)",
            ));
        }
        let Some(block) = ip_block else {
            return;
        };
        let bp = || pp().key("ipBlock");
        let cidr = match str_at(block, "cidr") {
            None | Some("") => {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &bp().key("cidr"),
                    "an ipBlock has no cidr",
                ));
                None
            }
            Some(c) => {
                let parsed = Cidr::parse(c);
                if parsed.is_none() {
                    self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &bp().key("cidr"),
                        format!("ipBlock cidr {c:?} is not a CIDR block; write an address and a prefix length, like 10.0.0.0/16"),
                    ));
                }
                parsed
            }
        };
        for (k, e) in arr_at(block, "except").iter().enumerate() {
            let Some(e) = e.as_str() else {
                continue;
            };
            let problem = match (Cidr::parse(e), cidr) {
                (None, _) => format!("ipBlock exception {e:?} is not a CIDR block; write an address and a prefix length, like 10.0.1.0/24"),
                (Some(x), Some(c)) if !c.strictly_contains(&x) => format!(
                    "ipBlock exception {e:?} is not a strict subset of cidr {:?}; an exception lies inside the block, with a longer prefix",
                    str_at(block, "cidr").unwrap_or("")
                ),
                _ => continue,
            };
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &bp().key("except").index(k),
                problem,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::{json, Value};

    /// A whole number too large for 64 bits stays a float when read (`1e20`): out of
    /// range, not passed (verification review 34, F10).
    #[test]
    fn a_port_too_large_for_an_integer_is_out_of_range() {
        let msgs = |v: Value| findings(&v).into_iter().map(|f| f.2).collect::<Vec<_>>();
        assert_eq!(
            msgs(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"ports": [{"port": 1e20, "targetPort": 80}]}})
            ),
            vec!["Service port 1e+20 is out of range 1-65535"]
        );
    }

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

    fn svc(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": spec})
    }

    #[test]
    fn what_a_service_type_allows() {
        assert_eq!(
            at(svc(json!({"type": "ExternalName"}))),
            vec![pair(
                "spec.externalName",
                "an ExternalName Service has no externalName; set the DNS name it stands for"
            )]
        );
        assert!(at(svc(
            json!({"type": "ExternalName", "externalName": "db.example.com."})
        ))
        .is_empty());
        assert_eq!(
            at(svc(json!({"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}]}))),
            vec![pair("spec.clusterIP", "clusterIP is None on a NodePort Service; the API server refuses a headless NodePort Service")]
        );
        assert_eq!(
            at(svc(json!({"type": "LoadBalancer", "ports": [{"port": 80}],
                "loadBalancerSourceRanges": ["10.0.0.0/8", " 192.168.0.0/16", "10.0.0.1"],
                "externalTrafficPolicy": "local"}))),
            vec![
                pair("spec.loadBalancerSourceRanges[2]", "load balancer source range \"10.0.0.1\" is not a CIDR block; write an address and a prefix length, like 203.0.113.0/24"),
                pair("spec.externalTrafficPolicy", "unsupported externalTrafficPolicy \"local\": use Cluster or Local"),
            ]
        );
        assert_eq!(
            at(svc(json!({"ports": [{"port": 80}], "externalTrafficPolicy": "Local",
                "loadBalancerSourceRanges": ["10.0.0.0/8"]}))),
            vec![
                pair("spec.loadBalancerSourceRanges", "loadBalancerSourceRanges is set on a ClusterIP Service; only a LoadBalancer Service may use it"),
                pair("spec.externalTrafficPolicy", "externalTrafficPolicy is set on a ClusterIP Service; the API server accepts it only on an externally accessible one (NodePort, LoadBalancer, or with externalIPs)"),
            ]
        );
        // An empty policy is none (review 24).
        assert!(at(svc(
            json!({"ports": [{"port": 80}], "externalTrafficPolicy": ""})
        ))
        .is_empty());
        // A ClusterIP Service with external IPs is externally accessible.
        assert!(at(svc(
            json!({"ports": [{"port": 80}], "externalTrafficPolicy": "Local",
            "externalIPs": ["203.0.113.7"]})
        ))
        .is_empty());
        assert!(
            at(svc(json!({"type": "LoadBalancer", "ports": [{"port": 80}],
            "externalTrafficPolicy": "Local", "loadBalancerSourceRanges": ["010.0.0.0/8"]})))
            .is_empty()
        );
    }

    #[test]
    fn ingress_backends_class_and_tls() {
        let ing = |spec: Value| json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}, "spec": spec});
        let got = at(ing(json!({
            "ingressClassName": "Nginx",
            "tls": [{"hosts": ["*.example.com", "a.*.example.com"], "secretName": "tls_cert"}],
            "defaultBackend": {"service": {"name": "1api", "port": {"number": 0}}},
            "rules": [{"http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 70000}}}},
                {"path": "/x", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"name": "HTTP"}}}}
            ]}}]
        })));
        let fields: Vec<&str> = got.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.ingressClassName",
                "spec.tls[0].hosts[1]",
                "spec.tls[0].secretName",
                "spec.defaultBackend.service.name",
                "spec.defaultBackend.service.port",
                "spec.rules[0].http.paths[0].backend.service.port.number",
                "spec.rules[0].http.paths[1].backend.service.port.name",
            ]
        );
        assert!(
            got[0]
                .1
                .starts_with("ingress class name: \"Nginx\" is not a valid DNS-1123 subdomain"),
            "{}",
            got[0].1
        );
        assert!(
            got[1]
                .1
                .starts_with("TLS host: \"a.*.example.com\" is not a valid DNS-1123 subdomain"),
            "{}",
            got[1].1
        );
        assert!(
            got[1].1.ends_with(" (a leading `*.` is allowed)"),
            "{}",
            got[1].1
        );
        assert!(
            got[2].1.starts_with("TLS secret name: \"tls_cert\""),
            "{}",
            got[2].1
        );
        assert!(
            got[3]
                .1
                .starts_with("backend Service name: \"1api\" is not a valid DNS-1035 label"),
            "{}",
            got[3].1
        );
        assert_eq!(got[4].1, "a backend's Service port has neither a number nor a name; give the Service port's number (1-65535) or name");
        assert_eq!(got[5].1, "backend port 70000 is out of range 1-65535");
        let ok = at(ing(json!({
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["*.example.com", "example.com"], "secretName": "example-tls"}],
            "rules": [{"host": "example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"name": "http"}}}}
            ]}}]
        })));
        assert!(ok.is_empty(), "{ok:#?}");
    }

    #[test]
    fn network_policy_peers_and_ip_blocks() {
        let np = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"},
            "spec": {"podSelector": {}, "ingress": [{"from": [
                {},
                {"podSelector": {}, "ipBlock": {"cidr": "10.0.0.0/8"}},
                {"ipBlock": {"cidr": "10.0.0.0/33"}},
                {"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.1.0/24", "10.0.0.0/16", "192.168.0.0/24", "x"]}}
            ]}], "egress": [{"to": [{"namespaceSelector": {}}, {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]}]}});
        let p = "spec.ingress[0].from";
        assert_eq!(
            at(np),
            vec![
                pair(&format!("{p}[0]"), "a NetworkPolicy peer selects nothing; the API server requires podSelector, namespaceSelector or ipBlock"),
                pair(&format!("{p}[1].ipBlock"), "a NetworkPolicy peer sets ipBlock with a pod or namespace selector; the API server accepts ipBlock only alone (make it a peer of its own)"),
                pair(&format!("{p}[2].ipBlock.cidr"), "ipBlock cidr \"10.0.0.0/33\" is not a CIDR block; write an address and a prefix length, like 10.0.0.0/16"),
                pair(&format!("{p}[3].ipBlock.except[1]"), "ipBlock exception \"10.0.0.0/16\" is not a strict subset of cidr \"10.0.0.0/16\"; an exception lies inside the block, with a longer prefix"),
                pair(&format!("{p}[3].ipBlock.except[2]"), "ipBlock exception \"192.168.0.0/24\" is not a strict subset of cidr \"10.0.0.0/16\"; an exception lies inside the block, with a longer prefix"),
                pair(&format!("{p}[3].ipBlock.except[3]"), "ipBlock exception \"x\" is not a CIDR block; write an address and a prefix length, like 10.0.1.0/24"),
            ]
        );
    }
}
