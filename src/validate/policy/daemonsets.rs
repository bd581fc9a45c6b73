//! KG217: a `daemonset` service enabled in several environments of one cluster.
//!
//! A service is rendered once per environment, each in its own namespace; a
//! DaemonSet runs a pod on every node it may schedule on, so two environments that
//! share a cluster run the node agent twice on each node (two log shippers reading
//! the node's `/var/log` ship every line twice). The rule is kept simple: two
//! DaemonSets of one service overlap unless their pod templates' `nodeSelector`s (as
//! rendered and patched) give different values to some key both set; affinity and
//! tolerations are not compared. It is a warning, waived by the service's
//! `waivers = [{ rule = "KG217", reason = "..." }]` or the platform's.
//! docs/rules.md#kg217.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::render::Object;
use crate::rules;
use crate::spec::{PlatformSpec, ServiceSpec};

/// A DaemonSet of kgen's in one environment: its service and its pod template's
/// node selector.
#[derive(Debug, Clone)]
pub struct Found {
    pub env: String,
    pub service: String,
    pub node_selector: BTreeMap<String, String>,
}

/// The DaemonSets of kgen's services among `objects` (final: patched).
pub fn record(objects: &[Object]) -> Vec<Found> {
    objects
        .iter()
        .filter(|o| !o.per_cluster && o.kind() == "DaemonSet")
        .filter(|o| o.path.rsplit('/').next() == Some("daemonset.yaml"))
        .filter_map(|o| {
            let node_selector = o.value["spec"]["template"]["spec"]["nodeSelector"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_string)))
                .collect();
            Some(Found {
                env: o.env.clone(),
                service: o.service.clone()?,
                node_selector,
            })
        })
        .collect()
}

/// Whether two node selectors may pick the same node: unless some key both set has
/// different values.
fn overlap(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> bool {
    a.iter()
        .all(|(k, v)| b.get(k).is_none_or(|other| other == v))
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// KG217 for each service whose DaemonSets, in two or more environments of one
/// cluster, may schedule on the same nodes, unless the service waives it.
pub fn check(spec: &PlatformSpec, found: &[Found]) -> Vec<Diagnostic> {
    // (cluster, service) → the environments' DaemonSets, in the order of the
    // environments.
    let order = |env: &str| spec.environments.iter().position(|e| e.name == env);
    let mut groups: BTreeMap<(&str, &str), Vec<&Found>> = BTreeMap::new();
    for f in found {
        let Some(env) = spec.environments.iter().find(|e| e.name == f.env) else {
            continue;
        };
        groups
            .entry((env.cluster.as_str(), f.service.as_str()))
            .or_default()
            .push(f);
    }
    let mut out = Vec::new();
    for ((cluster, service), mut sets) in groups {
        if sets.len() < 2 {
            continue;
        }
        sets.sort_by_key(|f| order(&f.env));
        sets.dedup_by(|a, b| a.env == b.env);
        let mut envs: Vec<&str> = Vec::new();
        for (i, a) in sets.iter().enumerate() {
            if sets
                .iter()
                .enumerate()
                .any(|(j, b)| i != j && overlap(&a.node_selector, &b.node_selector))
            {
                envs.push(&a.env);
            }
        }
        if envs.len() < 2 {
            continue;
        }
        let Some(svc) = service_in(spec, envs[0], service) else {
            continue;
        };
        // The service's waivers, then the platform's, as for every policy rule
        // (`waivers::applicable_waivers`).
        let waived = svc
            .waivers
            .iter()
            .chain(&spec.waivers)
            .any(|w| w.rule == rules::DAEMONSET_PER_ENVIRONMENT && !w.reason.trim().is_empty());
        if waived {
            continue;
        }
        let Some(at) = svc
            .origins
            .get("kind")
            .or_else(|| svc.origins.get(crate::validate::SERVICE_ORIGIN))
        else {
            continue;
        };
        let overlays: Vec<String> = envs[1..]
            .iter()
            .map(|e| format!("overlays/{e}.toml"))
            .collect();
        let overlays: Vec<&str> = overlays.iter().map(String::as_str).collect();
        let mut d = Diagnostic::warning(
            rules::DAEMONSET_PER_ENVIRONMENT,
            format!(
                "daemonset `{service}` runs {} on each node of cluster `{cluster}`: environments {} {} deploy it there, onto the same nodes",
                if envs.len() == 2 { "twice".to_string() } else { format!("{} times", envs.len()) },
                and_list(&envs),
                if envs.len() == 2 { "both" } else { "all" },
            ),
        )
        .at(at.clone())
        .label("one DaemonSet per environment")
        .help(format!(
            "a node agent belongs once on each node: keep it in one environment (`enabled = false` under `[services.{service}]` in {}), give each environment a `node_selector` of its own node pool, or install it once per cluster (the `fluent-bit` add-on, docs/addons.md, or `manifests/clusters/{cluster}/<component>/`); or waive KG217 with a reason",
            and_list(&overlays),
        ));
        d.envs = envs.iter().map(|e| e.to_string()).collect();
        out.push(d);
    }
    out
}

/// The service `name` of environment `env`.
fn service_in<'a>(spec: &'a PlatformSpec, env: &str, name: &str) -> Option<&'a ServiceSpec> {
    spec.environments
        .iter()
        .find(|e| e.name == env)?
        .services
        .iter()
        .find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_overlap_unless_a_shared_key_differs() {
        assert!(overlap(&sel(&[]), &sel(&[("pool", "dev")])));
        assert!(overlap(
            &sel(&[("pool", "dev")]),
            &sel(&[("arch", "arm64")])
        ));
        assert!(overlap(&sel(&[("pool", "dev")]), &sel(&[("pool", "dev")])));
        assert!(!overlap(
            &sel(&[("pool", "dev"), ("arch", "arm64")]),
            &sel(&[("pool", "staging")])
        ));
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(and_list(&["dev"]), "dev");
        assert_eq!(and_list(&["dev", "staging"]), "dev and staging");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }
}
