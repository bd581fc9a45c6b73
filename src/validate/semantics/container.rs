//! Each container: its name and image, its role (a regular container, a native
//! sidecar or an init container, and what each may set), ports, probes, resources,
//! environment variables and volume mounts.
//!
//! What only some roles may set follows kubernetes `pkg/apis/core/validation`
//! (`validateContainers`, `validateInitContainers`, Kubernetes 1.29-1.33): a regular
//! container sets no `restartPolicy` ("may not be set for non-init containers"); an
//! init container's `restartPolicy` is `Always` or unset; probes and `lifecycle` are
//! refused on an init container that is not a native sidecar ("may not be set for
//! init containers without restartPolicy=Always"). Origin keys follow the role (see
//! `ContainerOrigin`): a sidecar's probe points at `sidecars.<name>.probes.liveness`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Checker;
use crate::quantity::{self, Quantity};
use crate::validate::{
    arr_at, int_at, map_at, scalar_text, str_at, ContainerOrigin, ContainerRole, FieldPath, Finding,
};
use crate::{names, rules};

impl Checker<'_, '_> {
    /// One container of the list `initContainers` (`init`) or `containers`.
    pub(super) fn container(
        &mut self,
        path: &FieldPath,
        c: &Value,
        init: bool,
        volumes: &BTreeSet<String>,
        seen: &mut BTreeSet<String>,
    ) {
        let o = ContainerOrigin::of(c, init);
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
        match str_at(c, "image") {
            Some(image) if !image.trim().is_empty() => {
                // The kubelet parses it as a Docker reference and refuses what does not
                // parse (InvalidImageName): the API server accepts the pod, which never
                // starts.
                if let Err(e) = crate::image_ref::parse_image_ref(image) {
                    self.push(
                        Finding::error(
                            rules::FIELD_VALUE,
                            &path.key("image"),
                            format!("container `{name}`: {e}; the kubelet refuses it (InvalidImageName) and the pod never starts"),
                        )
                        .keys(o.keys("image")),
                    );
                }
            }
            _ => self.push(
                Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("image"),
                    format!("container `{name}` has no image"),
                )
                .keys(o.keys("image")),
            ),
        }

        // Ports.
        let mut port_names: BTreeSet<String> = BTreeSet::new();
        for (i, p) in arr_at(c, "ports").iter().enumerate() {
            let pp = || path.key("ports").index(i);
            // A number that is no 64-bit integer (`1e20`) is out of range too.
            if let Some(Value::Number(n)) = p.get("containerPort") {
                if !n.as_i64().is_some_and(|n| (1..=65535).contains(&n)) {
                    self.push(
                        Finding::error(
                            rules::PORTS,
                            &pp().key("containerPort"),
                            format!("container port {n} is out of range 1-65535"),
                        )
                        .keys(o.port_keys(str_at(p, "name").unwrap_or("http"))),
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
                    self.push(
                        Finding::error(rules::PORTS, &pp().key("name"), e).keys(o.port_keys(n)),
                    );
                } else if !port_names.insert(n.to_string()) {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("name"),
                        format!("port name `{n}` is used twice in container `{name}`"),
                    ));
                }
            }
        }

        self.container_role(path, c, &o, &name);

        // Probes (a plain init container's are refused above: not checked further).
        if o.role != ContainerRole::Init {
            for (field, which, key) in [
                ("livenessProbe", "liveness probe", "probes.liveness"),
                ("readinessProbe", "readiness probe", "probes.readiness"),
                ("startupProbe", "startup probe", "probes.startup"),
            ] {
                if let Some(p) = c.get(field).filter(|p| p.is_object()) {
                    let probe = Probe {
                        which,
                        keys: o.keys(key),
                        ports: &port_names,
                        container: &name,
                    };
                    self.probe(&path.key(field), p, &probe);
                }
            }
        }

        self.resources(&path.key("resources"), c.get("resources"), &o);
        self.container_fields(path, c, &o, &name);

        // Environment.
        for (i, e) in arr_at(c, "env").iter().enumerate() {
            let ep = || path.key("env").index(i);
            let Some(var) = str_at(e, "name") else {
                continue;
            };
            let key = || o.keys(&format!("env.{var}"));
            if let Err(msg) = check_env_var_name(var) {
                self.push(Finding::error(rules::DATA_KEYS, &ep().key("name"), msg).keys(key()));
            }
            if e.get("value").is_some() && e.get("valueFrom").is_some() {
                self.push(
                    Finding::error(
                        rules::FIELD_VALUE,
                        &ep(),
                        format!("environment variable `{var}` sets both value and valueFrom"),
                    )
                    .keys(key()),
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
                                .keys(key()),
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
            let vol = str_at(m, "name").unwrap_or("");
            if !vol.is_empty() && !volumes.contains(vol) {
                self.push(
                    Finding::error(
                        rules::VOLUMES,
                        &mp().key("name"),
                        format!(
                            "container `{name}` mounts volume `{vol}`, which the pod does not define"
                        ),
                    )
                    .keys(o.mount_keys(vol)),
                );
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
                        .keys(o.mount_keys(vol))
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

    /// What the container's role allows: `restartPolicy` only on init containers,
    /// and only `Always`; no probes and no `lifecycle` on a plain init container.
    fn container_role(&mut self, path: &FieldPath, c: &Value, o: &ContainerOrigin, name: &str) {
        let rp = path.key("restartPolicy");
        match (o.role, c.get("restartPolicy")) {
            (ContainerRole::Regular, Some(p)) => self.push(
                Finding::error(
                    rules::FIELD_VALUE,
                    &rp,
                    format!("container `{name}` sets restartPolicy {p}: the API server refuses it on a regular container (it may not be set for non-init containers)"),
                )
                .help("a container that keeps running beside the main one is a native sidecar: an init container with restartPolicy: Always (kgen: `sidecars.<name>`)"),
            ),
            (ContainerRole::Init, Some(p)) => self.push(Finding::error(
                rules::FIELD_VALUE,
                &rp,
                format!("init container `{name}` has restartPolicy {p}: the only value an init container takes is Always (a native sidecar)"),
            )),
            _ => {}
        }
        if o.role != ContainerRole::Init {
            return;
        }
        for (field, what, key) in [
            ("livenessProbe", "a liveness probe", "probes.liveness"),
            ("readinessProbe", "a readiness probe", "probes.readiness"),
            ("startupProbe", "a startup probe", "probes.startup"),
            ("lifecycle", "lifecycle hooks", ""),
        ] {
            if c.get(field).is_some() {
                self.push(
                    Finding::error(
                        rules::PROBE,
                        &path.key(field),
                        format!("init container `{name}` has {what}: the API server refuses them on an init container without restartPolicy: Always, which runs to completion"),
                    )
                    .keys(if key.is_empty() { o.keys_of(&[]) } else { o.keys(key) })
                    .help("remove it, or make the container a native sidecar (restartPolicy: Always; kgen: `sidecars.<name>`), which keeps running and may be probed"),
                );
            }
        }
    }

    fn probe(&mut self, path: &FieldPath, p: &Value, probe: &Probe) {
        let Probe {
            which, container, ..
        } = *probe;
        let with_key = |f: Finding| f.keys(probe.keys.iter().cloned());
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
            self.probe_port(&hp().key("port"), h.get("port"), probe);
        }
        if let Some(t) = p.get("tcpSocket") {
            self.probe_port(&path.key("tcpSocket").key("port"), t.get("port"), probe);
        }
        // A gRPC probe's port is a number (GRPCAction.port is an int32, validated
        // like any port number: 1-65535); there is no named gRPC port.
        if let Some(g) = p.get("grpc") {
            let gp = path.key("grpc").key("port");
            let problem = match g.get("port") {
                Some(Value::Number(n)) if n.as_i64().is_some_and(|n| (1..=65535).contains(&n)) => {
                    None
                }
                Some(Value::Number(n)) => {
                    Some(format!("the {which} of container `{container}` uses gRPC port {n}, outside 1-65535"))
                }
                Some(Value::String(name)) => Some(format!(
                    "the {which} of container `{container}` names gRPC port `{name}`: a gRPC probe takes a port number"
                )),
                _ => None,
            };
            if let Some(m) = problem {
                self.push(with_key(Finding::error(rules::PROBE, &gp, m)).help(
                    "give the port number the gRPC health service listens on, e.g. `grpc = 9090`",
                ));
            }
        }
        if let Some(e) = p.get("exec") {
            if arr_at(e, "command").is_empty() {
                self.push(with_key(Finding::error(
                    rules::PROBE,
                    &path.key("exec").key("command"),
                    format!("the exec {which} of container `{container}` has no command"),
                )));
            }
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

    fn probe_port(&mut self, path: &FieldPath, port: Option<&Value>, probe: &Probe) {
        let Probe {
            which,
            ports,
            container,
            ..
        } = *probe;
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
            self.push(f.keys(probe.keys.iter().cloned()));
        }
    }

    fn resources(&mut self, path: &FieldPath, r: Option<&Value>, o: &ContainerOrigin) {
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
                        .keys(o.keys(&format!("resources.{section}.{res}"))),
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
                        .also(&path.key("limits").key(res))
                        .keys(o.keys_of(&[
                            &format!("resources.requests.{res}"),
                            &format!("resources.limits.{res}"),
                        ]))
                        .help(format!("the API server refuses a request above its limit: lower the {res} request or raise the limit")),
                    );
                }
            }
        }
    }
}

/// A probe under check: which one, the origin keys of its input, and the container's
/// named ports (a probe may name one).
struct Probe<'p> {
    which: &'p str,
    keys: Vec<String>,
    ports: &'p BTreeSet<String>,
    container: &'p str,
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
    use super::super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn env_var_names_follow_the_api_server() {
        assert_eq!(check_env_var_name("my.var-1"), Ok(()));
        assert!(check_env_var_name("1X").is_err());
        assert!(check_env_var_name("A=B").is_err());
    }

    fn keys_of(v: &serde_json::Value) -> Vec<(String, Vec<String>)> {
        super::super::check(&crate::validate::Subject::bare(v))
            .into_iter()
            .map(|f| (f.message, f.keys))
            .collect()
    }

    #[test]
    fn restart_policies_follow_the_container_role() {
        let d = workload(
            "Deployment",
            json!({
                "initContainers": [
                    {"name": "proxy", "image": "p:1", "restartPolicy": "Always",
                     "livenessProbe": {"tcpSocket": {"port": 9901}}},
                    {"name": "wait", "image": "w:1", "restartPolicy": "OnFailure"}
                ],
                "containers": [{"name": "app", "image": "a:1", "restartPolicy": "Always"}]
            }),
        );
        assert_eq!(
            messages(&d),
            vec![
                "init container `wait` has restartPolicy \"OnFailure\": the only value an init container takes is Always (a native sidecar)",
                "container `app` sets restartPolicy \"Always\": the API server refuses it on a regular container (it may not be set for non-init containers)",
            ]
        );
    }

    #[test]
    fn a_plain_init_container_takes_no_probes_and_a_sidecar_does() {
        let d = workload(
            "StatefulSet",
            json!({
                "initContainers": [
                    {"name": "migrate", "image": "m:1",
                     "readinessProbe": {"exec": {"command": ["true"]}},
                     "lifecycle": {"preStop": {"exec": {"command": ["true"]}}}},
                    {"name": "proxy", "image": "p:1", "restartPolicy": "Always",
                     "readinessProbe": {"httpGet": {"path": "/ready", "port": 9901}},
                     "livenessProbe": {"tcpSocket": {"port": 9901}, "successThreshold": 2}}
                ],
                "containers": [{"name": "db", "image": "d:1"}]
            }),
        );
        let got = keys_of(&d);
        assert_eq!(
            got,
            vec![
                (
                    "init container `migrate` has a readiness probe: the API server refuses them on an init container without restartPolicy: Always, which runs to completion".to_string(),
                    vec!["init_containers.migrate.probes.readiness".to_string(), "init_containers.migrate".to_string()]
                ),
                (
                    "init container `migrate` has lifecycle hooks: the API server refuses them on an init container without restartPolicy: Always, which runs to completion".to_string(),
                    vec!["init_containers.migrate".to_string()]
                ),
                (
                    "successThreshold of a liveness probe must be 1, not 2".to_string(),
                    vec!["sidecars.proxy.probes.liveness".to_string(), "sidecars.proxy".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn grpc_and_exec_probes() {
        let d = workload(
            "DaemonSet",
            json!({"containers": [{
                "name": "agent", "image": "a:1",
                "livenessProbe": {"grpc": {"port": 0}},
                "readinessProbe": {"exec": {"command": []}},
                "startupProbe": {"grpc": {"port": 9090}, "successThreshold": 3}
            }]}),
        );
        assert_eq!(
            keys_of(&d),
            vec![
                (
                    "the liveness probe of container `agent` uses gRPC port 0, outside 1-65535"
                        .to_string(),
                    vec!["probes.liveness".to_string()]
                ),
                (
                    "the exec readiness probe of container `agent` has no command".to_string(),
                    vec!["probes.readiness".to_string()]
                ),
                (
                    "successThreshold of a startup probe must be 1, not 3".to_string(),
                    vec!["probes.startup".to_string()]
                ),
            ]
        );
        // A named gRPC port is a schema error too; the semantic check says why.
        let named = workload(
            "Deployment",
            json!({"containers": [{"name": "api", "image": "a:1", "livenessProbe": {"grpc": {"port": "grpc"}}}]}),
        );
        assert_eq!(
            messages(&named),
            vec!["the liveness probe of container `api` names gRPC port `grpc`: a gRPC probe takes a port number"]
        );
    }

    #[test]
    fn findings_about_a_sidecar_carry_its_keys() {
        let d = workload(
            "Deployment",
            json!({
                "volumes": [{"name": "tmp", "emptyDir": {}}],
                "initContainers": [{
                    "name": "proxy", "image": "p:1", "restartPolicy": "Always",
                    "ports": [{"name": "admin", "containerPort": 70000}],
                    "resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "64Mi"}},
                    "env": [{"name": "1X", "value": "a"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]
                }],
                "containers": [{"name": "api", "image": "a:1"}]
            }),
        );
        assert_eq!(
            keys_of(&d),
            vec![
                (
                    "container port 70000 is out of range 1-65535".to_string(),
                    vec!["sidecars.proxy.ports.admin".to_string(), "sidecars.proxy".to_string()]
                ),
                (
                    "memory request 1Gi is larger than its limit 64Mi".to_string(),
                    vec![
                        "sidecars.proxy.resources.requests.memory".to_string(),
                        "sidecars.proxy.resources.limits.memory".to_string(),
                        "sidecars.proxy".to_string()
                    ]
                ),
                (
                    "\"1X\" is not a valid environment variable name: use letters, digits, '_', '-' and '.', not starting with a digit".to_string(),
                    vec!["sidecars.proxy.env.1X".to_string(), "sidecars.proxy".to_string()]
                ),
                (
                    "container `proxy` mounts volume `data`, which the pod does not define".to_string(),
                    vec!["sidecars.proxy.mounts.data".to_string(), "sidecars.proxy".to_string()]
                ),
            ]
        );
    }

    /// An image the kubelet cannot parse is an error at the image, and not a KG208
    /// "no tag" (k8s21 review, C1).
    #[test]
    fn an_image_the_kubelet_cannot_parse() {
        let d = workload(
            "Deployment",
            json!({"containers": [{"name": "web", "image": "registry.example.com/Web:1.0.0"}]}),
        );
        let messages: Vec<String> = keys_of(&d).into_iter().map(|(m, _)| m).collect();
        assert_eq!(
            messages,
            ["container `web`: \"registry.example.com/Web\" is not a valid image repository: the path component \"Web\" must be lowercase letters and digits, optionally separated by '.', '_', '__' or '-', like \"web\"; the kubelet refuses it (InvalidImageName) and the pod never starts"]
        );
        let d = workload(
            "Deployment",
            json!({"containers": [{"name": "web", "image": "Registry.Example.com:5000/web@sha384:" .to_string() + &"a".repeat(96)}]}),
        );
        assert!(keys_of(&d).is_empty());
    }
}
