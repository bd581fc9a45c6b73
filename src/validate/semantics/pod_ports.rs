//! The ports of a pod, across its containers: one port number and protocol declared
//! twice.
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

use std::collections::BTreeMap;

use serde_json::Value;

use super::Checker;
use crate::rules;
use crate::validate::{arr_at, int_at, str_at, ContainerOrigin, ContainerRole, FieldPath, Finding};

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
                let protocol = str_at(p, "protocol").unwrap_or("TCP").to_string();
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
