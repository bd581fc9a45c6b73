//! Namespaces, with Pod Security Admission set: `restricted` for a service's (kgen's
//! pods satisfy it, so the namespace enforces it), and the level the add-ons in it need.
//!
//! Also who creates each namespace: the one Application that deploys into it, or, when
//! several do, the cluster's `<cluster>-namespaces` Application (see [`shared`]). The
//! namespaces every cluster has ([`SYSTEM`]) are never created by kgen.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Namespace;

use super::{labels, meta, wave, with_wave};
use crate::spec::{ClusterSpec, EnvSpec, PlatformSpec, PodSecurityLevel};

/// Namespaces every cluster has: kgen never creates (nor would prune) them.
pub const SYSTEM: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

pub fn build(platform: &PlatformSpec, name: &str) -> Namespace {
    with_level(platform, name, PodSecurityLevel::Restricted)
}

/// A namespace enforcing Pod Security Admission `level`.
pub fn with_level(platform: &PlatformSpec, name: &str, level: PodSecurityLevel) -> Namespace {
    let mut l = labels::platform(platform);
    l.insert(
        "pod-security.kubernetes.io/enforce".into(),
        level.as_str().into(),
    );
    l.insert("kubernetes.io/metadata.name".into(), name.into());
    let mut ns = Namespace {
        metadata: with_wave(meta(name, None, l), wave::NAMESPACE),
        ..Default::default()
    };
    if level == PodSecurityLevel::Privileged {
        waive_privileged(
            &mut ns,
            "an add-on in it runs pods that use the host, at the level its chart needs",
        );
    }
    ns
}

/// The annotation that waives KG215 on a privileged namespace kgen makes on purpose,
/// with the reason, so that `kgen validate` on the generated files (which does not
/// know the platform) does not flag it, and a reviewer reads why.
pub fn waive_privileged(ns: &mut Namespace, reason: &str) {
    ns.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            format!("kgen.dev/waive-{}", crate::rules::POD_SECURITY_ADMISSION),
            reason.into(),
        );
}

/// Namespaces of `env` that several Applications deploy into: those of two services
/// or more, and those of a service and one of the cluster's own Applications (the
/// monitoring stack, an add-on). No one of them owns such a namespace (deleting it
/// would prune the others' objects): the cluster's `<cluster>-namespaces` Application
/// creates it, before them.
pub fn shared_in_env(env: &EnvSpec) -> BTreeSet<&str> {
    let mut seen: BTreeSet<&str> = env.cluster_namespaces.iter().map(String::as_str).collect();
    let mut shared = BTreeSet::new();
    for svc in &env.services {
        if !seen.insert(svc.namespace.as_str()) {
            shared.insert(svc.namespace.as_str());
        }
    }
    shared.retain(|ns| !SYSTEM.contains(ns));
    shared
}

/// The namespaces the cluster's own Applications deploy into, with the Pod Security
/// level each needs and how many of them use it.
fn cluster_apps(cluster: &ClusterSpec) -> BTreeMap<&str, (usize, PodSecurityLevel)> {
    // node-exporter uses the host's network, processes and filesystem.
    let monitoring = cluster
        .monitoring
        .iter()
        .map(|m| (m.namespace.as_str(), PodSecurityLevel::Privileged));
    let addons = cluster
        .addons
        .iter()
        .map(|a| (a.namespace.as_str(), a.pod_security));
    let mut out: BTreeMap<&str, (usize, PodSecurityLevel)> = BTreeMap::new();
    for (ns, level) in monitoring.chain(addons) {
        let e = out.entry(ns).or_insert((0, PodSecurityLevel::Restricted));
        e.0 += 1;
        e.1 = e.1.max(level);
    }
    out
}

/// Every shared namespace of `cluster`, with the Pod Security level it enforces: the
/// shared namespaces of its environments, and those several of its own Applications
/// deploy into.
pub fn shared(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
) -> BTreeMap<String, PodSecurityLevel> {
    let apps = cluster_apps(cluster);
    let mut out: BTreeMap<String, PodSecurityLevel> = BTreeMap::new();
    for env in platform.environments_on(&cluster.name) {
        for ns in shared_in_env(env) {
            let level = apps.get(ns).map_or(PodSecurityLevel::Restricted, |a| a.1);
            out.insert(ns.to_string(), level);
        }
    }
    for (ns, (users, level)) in &apps {
        if *users > 1 && !SYSTEM.contains(ns) {
            out.insert(ns.to_string(), *level);
        }
    }
    out
}

/// Whether the cluster-level Application that deploys into `namespace` creates it:
/// not a system namespace, and not shared.
pub fn owned_by_cluster_app(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    namespace: &str,
) -> bool {
    !SYSTEM.contains(&namespace) && !shared(platform, cluster).contains_key(namespace)
}
