//! Where the input of a rendered container is: a finding about a native sidecar or an
//! init container points at its own table in platform.toml (`sidecars.<name>`,
//! `init_containers.<name>`), not at the service's.

use serde_json::Value;

use super::str_at;

/// What a container of a rendered pod is, as the kubelet runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerRole {
    /// Listed in `containers`: the service's own container in kgen's pods.
    Regular,
    /// An init container with `restartPolicy: Always` (a native sidecar, Kubernetes
    /// 1.29+): started before the regular containers and kept running.
    Sidecar,
    /// An init container that runs to completion before the others start.
    Init,
}

impl ContainerRole {
    /// The role of container `c` of the list `initContainers` (`init`) or `containers`.
    pub fn of(c: &Value, init: bool) -> ContainerRole {
        match (init, str_at(c, "restartPolicy")) {
            (false, _) => ContainerRole::Regular,
            (true, Some("Always")) => ContainerRole::Sidecar,
            (true, _) => ContainerRole::Init,
        }
    }
}

/// Where the input of a container is in `ServiceSpec.origins`: the service's own
/// keys for its main (regular) container, `sidecars.<name>.…` for a native sidecar
/// and `init_containers.<name>.…` for an init container (the names
/// `resolve::pod` records), so that a finding about a sidecar's probe points at
/// `sidecars.<name>.probes.liveness` and not at the service's own probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerOrigin {
    pub role: ContainerRole,
    /// `sidecars.<name>` or `init_containers.<name>`; `None` for a regular container.
    table: Option<String>,
}

impl ContainerOrigin {
    /// The origin of container `c` of the list `initContainers` (`init`) or `containers`.
    pub fn of(c: &Value, init: bool) -> ContainerOrigin {
        let role = ContainerRole::of(c, init);
        let name = str_at(c, "name").unwrap_or("");
        let table = match role {
            ContainerRole::Regular => None,
            ContainerRole::Sidecar => Some(format!("sidecars.{name}")),
            ContainerRole::Init => Some(format!("init_containers.{name}")),
        };
        ContainerOrigin { role, table }
    }

    /// The origin keys of an input `key` of the container (`image`, `probes.liveness`,
    /// `env.LOG_LEVEL`, `resources.requests.cpu`), best first: for a sidecar or init
    /// container, `sidecars.<name>.<key>` then the container's table.
    pub fn keys(&self, key: &str) -> Vec<String> {
        self.keys_of(&[key])
    }

    /// Like [`ContainerOrigin::keys`] for several input keys, in order.
    pub fn keys_of(&self, keys: &[&str]) -> Vec<String> {
        match &self.table {
            None => keys.iter().map(|k| k.to_string()).collect(),
            Some(t) => keys
                .iter()
                .map(|k| format!("{t}.{k}"))
                .chain(std::iter::once(t.clone()))
                .collect(),
        }
    }

    /// The input key of a named container port: the main container's `http` is the
    /// service's `port`, `metrics` its `metrics.port` (else the `metrics` table); other
    /// ports are `ports.<name>`.
    pub fn port_keys(&self, port: &str) -> Vec<String> {
        match (&self.table, port) {
            (None, "http") => vec!["port".into()],
            (None, "metrics") => vec!["metrics.port".into(), "metrics".into()],
            _ => self.keys(&format!("ports.{port}")),
        }
    }

    /// The input key of a volume mount: the main container mounts `volumes.<name>` at
    /// `volumes.<name>.mount`; a sidecar or init container lists `mounts.<name>`.
    pub fn mount_keys(&self, volume: &str) -> Vec<String> {
        match &self.table {
            None => vec![
                format!("volumes.{volume}.mount"),
                format!("volumes.{volume}"),
            ],
            Some(_) => self.keys(&format!("mounts.{volume}")),
        }
    }
}
