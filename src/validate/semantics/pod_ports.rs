//! Ports declared twice: one port number and protocol in a pod, across its
//! containers, and in a Service.
//!
//! The containers of a pod share one network namespace: a port is the pod's, and only
//! one process of the pod can listen on it. The API server warns about a second
//! declaration of a `containerPort`/`protocol` (kubernetes `pkg/api/pod/warnings.go`,
//! `warningsForPodSpecAndMeta`: "duplicate port definition with ..."), and keeps it;
//! the second container then fails to bind it, or the port is one container's under
//! the other's name. kgen refuses it (KG106) for the containers that run together: the
//! regular containers, then the native sidecars (init containers with
//! `restartPolicy: Always`), in that order, so that a sidecar's port that repeats the
//! main container's is the one pointed at. A plain init container runs alone, before
//! the others, and is left out.
//!
//! A Service with one port number and protocol twice is refused by the API server
//! (kubernetes `pkg/apis/core/validation/validation.go`, `ValidateService`: "Duplicate
//! value"). When both of its ports are the very container port they target, and the
//! pods declare that port twice, the Service only repeats the pod's mistake: that one
//! is reported, at its second declaration, and the Service's is not (fixing the pod
//! fixes both).

use std::collections::BTreeMap;

use serde_json::Value;

use super::targets::{protocol_of, running_containers, running_ports, selected_pods};
use super::Checker;
use crate::rules;
use crate::validate::{
    arr_at, int_at, map_at, str_at, ContainerOrigin, ContainerRole, FieldPath, Finding, SetIndex,
    Subject,
};

/// Where a port was first declared: the container, its role and the port's name.
struct First {
    container: String,
    role: ContainerRole,
    name: Option<String>,
}

impl Checker<'_, '_> {
    /// Each `containerPort`/`protocol` declared once in the pod (`path`: the pod spec).
    pub(super) fn pod_ports(&mut self, path: &FieldPath, pod: &Value) {
        let running = arr_at(pod, "containers")
            .iter()
            .enumerate()
            .map(|(i, c)| ("containers", i, c, false))
            .chain(
                arr_at(pod, "initContainers")
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ("initContainers", i, c, true)),
            )
            .filter(|(_, _, c, init)| ContainerOrigin::of(c, *init).role != ContainerRole::Init);
        let mut seen: BTreeMap<(i64, String), First> = BTreeMap::new();
        for (list, ci, c, init) in running {
            let o = ContainerOrigin::of(c, init);
            let container = str_at(c, "name").unwrap_or("").to_string();
            for (pi, p) in arr_at(c, "ports").iter().enumerate() {
                let Some(number) = int_at(p, "containerPort") else {
                    continue;
                };
                let protocol = protocol_of(p).to_string();
                let name = str_at(p, "name").map(str::to_string);
                let Some(first) = seen.get(&(number, protocol.clone())) else {
                    seen.insert(
                        (number, protocol),
                        First {
                            container: container.clone(),
                            role: o.role,
                            name,
                        },
                    );
                    continue;
                };
                let field = path
                    .key(list)
                    .index(ci)
                    .key("ports")
                    .index(pi)
                    .key("containerPort");
                let this = described(o.role, &container);
                let message = if first.container == container {
                    let names = match (&first.name, &name) {
                        (Some(a), Some(b)) => format!(", as `{a}` and `{b}`"),
                        _ => String::new(),
                    };
                    format!(
                        "{this} declares port {number}/{protocol} twice{names}: only one process can listen on a port"
                    )
                } else {
                    format!(
                        "{this} declares port {number}/{protocol}{}, which {} declares already{}: the containers of a pod share its network, and only one of them can listen on a port",
                        named(name.as_deref()),
                        described(first.role, &first.container),
                        named(first.name.as_deref()),
                    )
                };
                let finding = Finding::error(rules::PORTS, &field, message)
                    .keys(o.port_keys(name.as_deref().unwrap_or("")))
                    .help(if first.container == container {
                        "give one of them another port number, or remove one of them".to_string()
                    } else {
                        help(first, o.role)
                    });
                self.push(finding);
            }
        }
    }
}

/// Each port number and protocol listed once in Service `s` (object `i` of `set`),
/// unless it repeats a port its pods declare twice (see the module documentation).
pub(super) fn service_ports_twice(
    set: &[Subject],
    index: &SetIndex,
    i: usize,
    s: &Subject,
    out: &mut Vec<(usize, Finding)>,
) {
    let Some(spec) = s.value.get("spec") else {
        return;
    };
    let ports = arr_at(spec, "ports");
    let mut first: BTreeMap<(i64, &str), usize> = BTreeMap::new();
    let mut pods: Option<Vec<&Value>> = None;
    for (pi, p) in ports.iter().enumerate() {
        let Some(number) = int_at(p, "port") else {
            continue;
        };
        let protocol = protocol_of(p);
        let Some(&fi) = first.get(&(number, protocol)) else {
            first.insert((number, protocol), pi);
            continue;
        };
        let pods = pods.get_or_insert_with(|| {
            map_at(spec, "selector")
                .filter(|sel| !sel.is_empty())
                .map(|sel| selected_pods(set, index, s.namespace().unwrap_or(""), sel))
                .unwrap_or_default()
        });
        let repeats_pod = pods.iter().any(|pod| {
            target_number(pod, &ports[fi], protocol) == Some(number)
                && target_number(pod, p, protocol) == Some(number)
                && declarations(pod, number, protocol) > 1
        });
        if repeats_pod {
            continue;
        }
        let finding = Finding::error(
            rules::PORTS,
            &FieldPath::root()
                .key("spec")
                .key("ports")
                .index(pi)
                .key("port"),
            format!("Service port {number}/{protocol} is listed twice"),
        )
        .keys(service_port_keys(pods, str_at(p, "name").unwrap_or("")))
        .help("the API server refuses a Service with a port number and protocol twice: give one of them another number (`service.port` for `http`, `service_port` for a port of `ports`)");
        out.push((i, finding));
    }
}

/// The container port a Service port reaches in `pod`: its `targetPort` number, the
/// number of the running container port of that name and protocol, or (no
/// `targetPort`) the Service port's own number.
fn target_number(pod: &Value, port: &Value, protocol: &str) -> Option<i64> {
    match port.get("targetPort") {
        None => int_at(port, "port"),
        Some(Value::String(name)) => running_ports(pod)
            .find(|cp| str_at(cp, "name") == Some(name.as_str()) && protocol_of(cp) == protocol)
            .and_then(|cp| int_at(cp, "containerPort")),
        Some(n) => n.as_i64(),
    }
}

/// How many times the running containers of `pod` declare `number`/`protocol`.
fn declarations(pod: &Value, number: i64, protocol: &str) -> usize {
    running_ports(pod)
        .filter(|cp| int_at(cp, "containerPort") == Some(number) && protocol_of(cp) == protocol)
        .count()
}

/// The input keys of the Service port named `name`, best first: `http` is
/// `service.port` (else `port`), `metrics` is `metrics.port`, another port is
/// `ports.<name>.service_port` (else `ports.<name>`) of the container of `pods` that
/// declares it (a sidecar's under `sidecars.<sidecar>`).
fn service_port_keys(pods: &[&Value], name: &str) -> Vec<String> {
    match name {
        "http" => vec!["service.port".into(), "port".into()],
        "metrics" => vec!["metrics.port".into(), "metrics".into()],
        _ => {
            let keys = [
                format!("ports.{name}.service_port"),
                format!("ports.{name}"),
            ];
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            pods.iter()
                .flat_map(|pod| running_containers(&FieldPath::root(), pod))
                .find(|(_, c)| {
                    arr_at(c, "ports")
                        .iter()
                        .any(|cp| str_at(cp, "name") == Some(name))
                })
                .map_or_else(
                    || keys.iter().map(|k| k.to_string()).collect(),
                    |(path, c)| {
                        ContainerOrigin::of(c, path.as_str().contains("initContainers"))
                            .keys_of(&keys)
                    },
                )
        }
    }
}

/// `container `api``, `sidecar `exporter``.
fn described(role: ContainerRole, container: &str) -> String {
    match role {
        ContainerRole::Sidecar => format!("sidecar `{container}`"),
        _ => format!("container `{container}`"),
    }
}

/// ` (`metrics`)`: the name of a port, when it has one.
fn named(port: Option<&str>) -> String {
    port.map(|p| format!(" (`{p}`)")).unwrap_or_default()
}

/// What to do: declare the port once. When the first declaration is the main
/// container's metrics port and the second a sidecar's, the sidecar is likely an
/// exporter serving the metrics: `metrics.port` is a port of the main container, and
/// the port reaches whichever container listens on it.
fn help(first: &First, role: ContainerRole) -> String {
    let metrics = first.role == ContainerRole::Regular
        && first.name.as_deref() == Some("metrics")
        && role == ContainerRole::Sidecar;
    if metrics {
        "`metrics.port` is a port of the main container; to scrape a sidecar that serves the metrics (an exporter), keep `metrics.port` and remove this port from the sidecar's `ports` (its probes can name the port by number): the Service's `metrics` port then reaches the sidecar, which listens on it (docs/platform.md#metrics-served-by-a-sidecar)".into()
    } else {
        "give one of them another port number, or declare it on one container only (a pod's containers reach each other on `localhost`)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_set;
    use super::super::testing::workload;
    use crate::validate::{SetIndex, Subject};
    use serde_json::{json, Value};

    /// The messages of `service_ports_twice` about a set of objects (complete or not).
    fn twice(values: &[Value], complete: bool) -> Vec<(usize, String)> {
        let set: Vec<Subject> = values.iter().map(Subject::bare).collect();
        let index = SetIndex::new(&set);
        check_set(&set, &index, complete)
            .into_iter()
            .map(|(i, f)| (i, f.message))
            .filter(|(_, m)| m.contains("listed twice"))
            .collect()
    }

    fn service(ports: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "namespace": "x"},
            "spec": {"selector": {"app": "x"}, "ports": ports}})
    }

    #[test]
    fn a_service_port_twice_unless_it_repeats_the_pods() {
        // The pod declares 8080 twice (`http`, `grpc`).
        let pods = workload(
            "Deployment",
            json!({"containers": [{"name": "x", "image": "x:1", "ports": [
                {"name": "http", "containerPort": 8080}, {"name": "grpc", "containerPort": 8080}
            ]}]}),
        );
        let mirrored = service(json!([
            {"name": "http", "port": 8080, "targetPort": "http"},
            {"name": "grpc", "port": 8080, "targetPort": "grpc"}
        ]));
        assert_eq!(twice(&[pods.clone(), mirrored.clone()], true), vec![]);
        // Alone, the Service cannot be told from a mistake of its own.
        assert_eq!(
            twice(&[mirrored], false),
            vec![(0, "Service port 8080/TCP is listed twice".to_string())]
        );
        // Port 80 twice is the Service's own: fixing the pod would not fix it.
        let own = service(json!([
            {"name": "http", "port": 80, "targetPort": "http"},
            {"name": "grpc", "port": 80, "targetPort": 8080}
        ]));
        assert_eq!(
            twice(&[pods, own], true),
            vec![(1, "Service port 80/TCP is listed twice".to_string())]
        );
        // One container port behind two Service ports of one number: the Service's.
        let once = workload(
            "Deployment",
            json!({"containers": [{"name": "x", "image": "x:1", "ports": [{"name": "http", "containerPort": 8080}]}]}),
        );
        let both = service(json!([
            {"name": "a", "port": 8080, "targetPort": "http"},
            {"name": "b", "port": 8080, "protocol": "TCP"}
        ]));
        assert_eq!(
            twice(&[once, both], true),
            vec![(1, "Service port 8080/TCP is listed twice".to_string())]
        );
    }
}
