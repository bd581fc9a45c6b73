//! Each container: its name and image, ports, probes, resources, environment
//! variables and volume mounts.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Checker;
use crate::quantity::{self, Quantity};
use crate::validate::{arr_at, int_at, map_at, scalar_text, str_at, FieldPath, Finding};
use crate::{names, rules};

impl Checker<'_, '_> {
    pub(super) fn container(
        &mut self,
        path: &FieldPath,
        c: &Value,
        volumes: &BTreeSet<String>,
        seen: &mut BTreeSet<String>,
    ) {
        let name = str_at(c, "name").unwrap_or("").to_string();
        if !name.is_empty() {
            if let Err(e) = names::check_dns1123_label(&name) {
                self.push(Finding::error(
                    rules::OBJECT_NAME,
                    &path.key("name"),
                    format!("container name: {e}"),
                ));
            }
            if !seen.insert(name.clone()) {
                self.push(Finding::error(
                    rules::OBJECT_NAME,
                    &path.key("name"),
                    format!("container name `{name}` is used twice in the pod"),
                ));
            }
        }
        if str_at(c, "image").is_none_or(|i| i.trim().is_empty()) {
            self.push(
                Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("image"),
                    format!("container `{name}` has no image"),
                )
                .key("image"),
            );
        }

        // Ports.
        let mut port_names: BTreeSet<String> = BTreeSet::new();
        for (i, p) in arr_at(c, "ports").iter().enumerate() {
            let pp = || path.key("ports").index(i);
            if let Some(n) = int_at(p, "containerPort") {
                if !(1..=65535).contains(&n) {
                    self.push(
                        Finding::error(
                            rules::PORTS,
                            &pp().key("containerPort"),
                            format!("container port {n} is out of range 1-65535"),
                        )
                        .key("port"),
                    );
                }
            }
            if let Some(n) = int_at(p, "hostPort") {
                if !(0..=65535).contains(&n) {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("hostPort"),
                        format!("host port {n} is out of range 1-65535"),
                    ));
                }
            }
            self.protocol(pp, p);
            if let Some(n) = str_at(p, "name") {
                if let Err(e) = names::check_port_name(n) {
                    self.push(Finding::error(rules::PORTS, &pp().key("name"), e).key("port"));
                } else if !port_names.insert(n.to_string()) {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("name"),
                        format!("port name `{n}` is used twice in container `{name}`"),
                    ));
                }
            }
        }

        // Probes.
        for (field, which, key) in [
            ("livenessProbe", "liveness probe", "probes.liveness"),
            ("readinessProbe", "readiness probe", "probes.readiness"),
            ("startupProbe", "startup probe", ""),
        ] {
            if let Some(p) = c.get(field).filter(|p| p.is_object()) {
                self.probe(&path.key(field), p, which, key, &port_names, &name);
            }
        }

        self.resources(&path.key("resources"), c.get("resources"));

        // Environment.
        for (i, e) in arr_at(c, "env").iter().enumerate() {
            let ep = || path.key("env").index(i);
            let Some(var) = str_at(e, "name") else {
                continue;
            };
            let key = || format!("env.{var}");
            if let Err(msg) = check_env_var_name(var) {
                self.push(Finding::error(rules::DATA_KEYS, &ep().key("name"), msg).key(key()));
            }
            if e.get("value").is_some() && e.get("valueFrom").is_some() {
                self.push(
                    Finding::error(
                        rules::FIELD_VALUE,
                        &ep(),
                        format!("environment variable `{var}` sets both value and valueFrom"),
                    )
                    .key(key()),
                );
            }
            if let Some(from) = e.get("valueFrom") {
                for r in ["configMapKeyRef", "secretKeyRef"] {
                    if let Some(k) = from.get(r).and_then(|r| str_at(r, "key")) {
                        if let Err(msg) = names::check_config_map_key(k) {
                            self.push(
                                Finding::error(
                                    rules::DATA_KEYS,
                                    &ep().key("valueFrom").key(r).key("key"),
                                    msg,
                                )
                                .key(key()),
                            );
                        }
                    }
                }
            }
        }

        // Volume mounts.
        let mut mount_paths: BTreeMap<String, usize> = BTreeMap::new();
        for (i, m) in arr_at(c, "volumeMounts").iter().enumerate() {
            let mp = || path.key("volumeMounts").index(i);
            if let Some(v) = str_at(m, "name") {
                if !volumes.contains(v) {
                    self.push(Finding::error(
                        rules::VOLUMES,
                        &mp().key("name"),
                        format!(
                            "container `{name}` mounts volume `{v}`, which the pod does not define"
                        ),
                    ));
                }
            }
            if let Some(at) = str_at(m, "mountPath") {
                let at_path = || mp().key("mountPath");
                if at.is_empty() || at.contains(':') {
                    self.push(Finding::error(
                        rules::VOLUMES,
                        &at_path(),
                        format!("mount path {at:?} is not a path (it must be non-empty and contain no ':')"),
                    ));
                }
                let normal = at.trim_end_matches('/').to_string();
                if let Some(first) = mount_paths.insert(normal, i) {
                    self.push(
                        Finding::error(
                            rules::VOLUMES,
                            &at_path(),
                            format!("mount path `{at}` is used twice in container `{name}` (volumeMounts {first} and {i})"),
                        )
                        .key("secrets"),
                    );
                }
            }
            if let Some(sub) = str_at(m, "subPath") {
                if sub.starts_with('/') || sub.split('/').any(|p| p == "..") {
                    self.push(Finding::error(
                        rules::VOLUMES,
                        &mp().key("subPath"),
                        format!("subPath {sub:?} must be a relative path without '..'"),
                    ));
                }
            }
        }
    }

    pub(super) fn protocol(&mut self, path: impl Fn() -> FieldPath, port: &Value) {
        if let Some(p) = str_at(port, "protocol") {
            if !["TCP", "UDP", "SCTP"].contains(&p) {
                self.push(Finding::error(
                    rules::PORTS,
                    &path().key("protocol"),
                    format!("unsupported protocol {p:?}: use TCP, UDP or SCTP"),
                ));
            }
        }
    }

    fn probe(
        &mut self,
        path: &FieldPath,
        p: &Value,
        which: &str,
        key: &str,
        ports: &BTreeSet<String>,
        container: &str,
    ) {
        let with_key = |f: Finding| if key.is_empty() { f } else { f.key(key) };
        let Some(fields) = p.as_object() else {
            return;
        };
        let handlers = fields
            .keys()
            .filter(|k| matches!(k.as_str(), "exec" | "httpGet" | "tcpSocket" | "grpc"))
            .count();
        if handlers != 1 {
            self.push(with_key(Finding::error(
                rules::PROBE,
                path,
                format!("the {which} of container `{container}` must have exactly one handler (exec, httpGet, tcpSocket or grpc), not {handlers}"),
            )));
        }
        if let Some(h) = p.get("httpGet") {
            let hp = || path.key("httpGet");
            if let Some(at) = str_at(h, "path") {
                if let Err(e) = names::check_http_path(at) {
                    self.push(with_key(Finding::error(rules::PROBE, &hp().key("path"), e)));
                }
            }
            if let Some(scheme) = str_at(h, "scheme") {
                if scheme != "HTTP" && scheme != "HTTPS" {
                    self.push(with_key(Finding::error(
                        rules::PROBE,
                        &hp().key("scheme"),
                        format!("unsupported scheme {scheme:?}: use HTTP or HTTPS"),
                    )));
                }
            }
            self.probe_port(
                &hp().key("port"),
                h.get("port"),
                which,
                key,
                ports,
                container,
            );
        }
        if let Some(t) = p.get("tcpSocket") {
            self.probe_port(
                &path.key("tcpSocket").key("port"),
                t.get("port"),
                which,
                key,
                ports,
                container,
            );
        }
        // One pass over the probe's fields (most have none of these set).
        for (field, v) in fields {
            let min = match field.as_str() {
                "initialDelaySeconds" => 0,
                "periodSeconds"
                | "timeoutSeconds"
                | "successThreshold"
                | "failureThreshold"
                | "terminationGracePeriodSeconds" => 1,
                _ => continue,
            };
            let Some(v) = v.as_i64() else {
                continue;
            };
            if v < min {
                self.push(with_key(Finding::error(
                    rules::PROBE,
                    &path.key(field),
                    format!("{field} of the {which} is {v}; it must be at least {min}"),
                )));
            } else if field == "successThreshold" && v > 1 && which != "readiness probe" {
                self.push(with_key(Finding::error(
                    rules::PROBE,
                    &path.key(field),
                    format!("successThreshold of a {which} must be 1, not {v}"),
                )));
            }
        }
    }

    fn probe_port(
        &mut self,
        path: &FieldPath,
        port: Option<&Value>,
        which: &str,
        key: &str,
        ports: &BTreeSet<String>,
        container: &str,
    ) {
        let finding = match port {
            Some(Value::Number(n)) => match n.as_i64() {
                Some(n) if (1..=65535).contains(&n) => None,
                _ => Some(Finding::error(
                    rules::PROBE,
                    path,
                    format!("the {which} uses port {n}, outside 1-65535"),
                )),
            },
            Some(Value::String(s)) => match names::check_port_name(s) {
                Err(e) => Some(Finding::error(rules::PROBE, path, e)),
                Ok(()) if !ports.contains(s) => Some(
                    Finding::error(
                        rules::PROBE,
                        path,
                        format!("the {which} uses port `{s}`, which container `{container}` does not declare"),
                    )
                    .help("name one of the container's ports (ports[].name), or give the port number; the kubelet fails the probe otherwise"),
                ),
                Ok(()) => None,
            },
            _ => None,
        };
        if let Some(f) = finding {
            self.push(if key.is_empty() { f } else { f.key(key) });
        }
    }

    fn resources(&mut self, path: &FieldPath, r: Option<&Value>) {
        let Some(r) = r else {
            return;
        };
        let mut parsed: [BTreeMap<String, (String, Quantity)>; 2] = Default::default();
        for (si, section) in ["requests", "limits"].iter().enumerate() {
            for (res, v) in map_at(r, section).into_iter().flatten() {
                let Some(text) = scalar_text(v) else {
                    continue;
                };
                match quantity::parse_non_negative(&text) {
                    Ok(q) => {
                        parsed[si].insert(res.clone(), (text, q));
                    }
                    Err(e) => self.push(
                        Finding::error(
                            rules::RESOURCES,
                            &path.key(section).key(res),
                            format!("{section}.{res}: {e}"),
                        )
                        .key(format!("resources.{section}.{res}")),
                    ),
                }
            }
        }
        for (res, (rt, rq)) in &parsed[0] {
            if let Some((lt, lq)) = parsed[1].get(res) {
                if rq > lq {
                    self.push(
                        Finding::error(
                            rules::RESOURCES,
                            &path.key("requests").key(res),
                            format!("{res} request {rt} is larger than its limit {lt}"),
                        )
                        .key(format!("resources.requests.{res}"))
                        .key(format!("resources.limits.{res}"))
                        .help(format!("the API server refuses a request above its limit: lower the {res} request or raise the limit")),
                    );
                }
            }
        }
    }
}

/// An environment variable name as the API server (Kubernetes 1.33) accepts it:
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn check_env_var_name(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid environment variable name: use letters, digits, '_', '-' and '.', not starting with a digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names_follow_the_api_server() {
        assert_eq!(check_env_var_name("my.var-1"), Ok(()));
        assert!(check_env_var_name("1X").is_err());
        assert!(check_env_var_name("A=B").is_err());
    }
}
