//! Namespaces, with Pod Security Admission set: `restricted` for a service's (kgen's
//! pods satisfy it, so the namespace enforces it) unless it sets `pod_security`, and
//! the level the add-ons in it need.
//!
//! Also who creates each namespace: the one Application that deploys into it, or, when
//! several do, the cluster's `<cluster>-namespaces` Application (see [`shared`]). The
//! namespaces every cluster has ([`SYSTEM`]) are never created by kgen.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Namespace;

use super::{labels, meta, wave, with_wave};
use crate::spec::{ClusterSpec, EnvSpec, PlatformSpec, PodSecurityLevel, ServiceSpec};

/// Namespaces every cluster has: kgen never creates (nor would prune) them.
pub const SYSTEM: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The namespace of `svc`, at its `pod_security` level.
pub fn of_service(platform: &PlatformSpec, svc: &ServiceSpec) -> Namespace {
    let mut ns = plain(platform, &svc.namespace, svc.pod_security);
    if svc.pod_security == PodSecurityLevel::Privileged {
        waive_privileged(&mut ns, &privileged_services(&[svc.name.as_str()]));
    }
    ns
}

/// Why a namespace of the services `names` is privileged: they say so.
fn privileged_services(names: &[&str]) -> String {
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("pod_security = \"privileged\" of service {list}, for pods that use the node")
}

/// A namespace enforcing Pod Security Admission `level`, privileged for the add-ons
/// in it.
pub fn with_level(platform: &PlatformSpec, name: &str, level: PodSecurityLevel) -> Namespace {
    let mut ns = plain(platform, name, level);
    if level == PodSecurityLevel::Privileged {
        waive_privileged(
            &mut ns,
            "an add-on in it runs pods that use the host, at the level its chart needs",
        );
    }
    ns
}

/// A namespace enforcing `level`, without a reason for it.
fn plain(platform: &PlatformSpec, name: &str, level: PodSecurityLevel) -> Namespace {
    let mut l = labels::platform(platform);
    l.insert(
        "pod-security.kubernetes.io/enforce".into(),
        level.as_str().into(),
    );
    l.insert("kubernetes.io/metadata.name".into(), name.into());
    Namespace {
        metadata: with_wave(meta(name, None, l), wave::NAMESPACE),
        ..Default::default()
    }
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
/// deploy into. A namespace enforces the least strict level of the services and
/// Applications in it.
pub fn shared(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
) -> BTreeMap<String, PodSecurityLevel> {
    shared_namespaces(platform, cluster)
        .into_iter()
        .map(|(ns, s)| (ns, s.level))
        .collect()
}

/// A shared namespace's level, and the services that ask for privileged.
#[derive(Debug, Default)]
pub struct SharedLevel {
    pub level: PodSecurityLevel,
    pub privileged_services: BTreeSet<String>,
}

/// [`shared`], with the privileged services of each namespace.
pub fn shared_namespaces(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
) -> BTreeMap<String, SharedLevel> {
    let apps = cluster_apps(cluster);
    let mut out: BTreeMap<String, SharedLevel> = BTreeMap::new();
    for env in platform.environments_on(&cluster.name) {
        for ns in shared_in_env(env) {
            let e = out.entry(ns.to_string()).or_default();
            e.level = e
                .level
                .max(apps.get(ns).map_or(PodSecurityLevel::Restricted, |a| a.1));
            for svc in env.services.iter().filter(|s| s.namespace == ns) {
                e.level = e.level.max(svc.pod_security);
                if svc.pod_security == PodSecurityLevel::Privileged {
                    e.privileged_services.insert(svc.name.clone());
                }
            }
        }
    }
    for (ns, (users, level)) in &apps {
        if *users > 1 && !SYSTEM.contains(ns) {
            let e = out.entry(ns.to_string()).or_default();
            e.level = e.level.max(*level);
        }
    }
    out
}

/// A shared namespace at its level, with the reason when it is privileged.
pub fn shared_namespace(platform: &PlatformSpec, name: &str, s: &SharedLevel) -> Namespace {
    if s.privileged_services.is_empty() {
        return with_level(platform, name, s.level);
    }
    let mut ns = plain(platform, name, s.level);
    let names: Vec<&str> = s.privileged_services.iter().map(String::as_str).collect();
    waive_privileged(&mut ns, &privileged_services(&names));
    ns
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
