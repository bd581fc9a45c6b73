//! References to a cluster's baseline, checked once everything is resolved: an
//! Ingress's ClusterIssuer (and whether its solver serves the ingress class), an
//! ExternalSecret's ClusterSecretStore (its provider, the namespaces it admits), the
//! StorageClass of a volume claim or of the monitoring stack, a PriorityClass, and
//! whether a pod's node selector, required node affinity and tolerations fit a
//! declared Karpenter NodePool.
//!
//! A reference to a kind the cluster declares (objects, or names under `provided`) must
//! name one of them: an error (KG031) with a did-you-mean. A reference to a kind the
//! cluster declares nothing of cannot be checked: a warning (KG032), once per cluster
//! and name, saying how to declare it. Placement that fits no NodePool is a warning
//! (KG033): the pods would stay Pending.

use std::collections::{BTreeMap, BTreeSet};

use super::{Amend, Resolver};
use crate::input::{NodeOperator, TolerationOperator};
use crate::rules;
use crate::source::Origin;
use crate::spec::{
    BaselineSpec, ClusterSpec, EnvSpec, IngressClass, NodePoolSpec, NodeTerm, SecretSource,
    SecretStoreProvider, SecretsBackend, Toleration, VolumeSource, BUILTIN_PRIORITY_CLASSES,
};

/// A reference found while resolving a cluster's own parts (its monitoring stack and
/// add-ons), checked with the services' at the end.
pub(super) struct BaselineRef {
    pub cluster: String,
    pub target: Target,
    pub origin: Origin,
}

pub(super) enum Target {
    StorageClass(String),
    PriorityClass(String),
    /// Where the pods of `who` may run.
    Placement {
        who: String,
        node_selector: BTreeMap<String, String>,
        tolerations: Vec<Toleration>,
        /// Whether to warn about tolerated taints no node has: for what the user
        /// wrote, not for a chart's or preset's defaults (tolerating more is harmless).
        written: bool,
        /// Where the tolerations were written (the reference's origin is the node
        /// selector's when there is one).
        tolerations_origin: Option<Origin>,
    },
}

/// The kinds a reference can name, as `[baseline]` keys.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Issuer,
    SecretStore,
    StorageClass,
    PriorityClass,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Issuer => "issuers",
            Kind::SecretStore => "secret_stores",
            Kind::StorageClass => "storage_classes",
            Kind::PriorityClass => "priority_classes",
        }
    }

    fn object(self) -> &'static str {
        match self {
            Kind::Issuer => "ClusterIssuer",
            Kind::SecretStore => "ClusterSecretStore",
            Kind::StorageClass => "StorageClass",
            Kind::PriorityClass => "PriorityClass",
        }
    }

    fn declared(self, b: &BaselineSpec) -> Vec<&str> {
        match self {
            Kind::Issuer => b.issuers.iter().map(|o| o.name.as_str()).collect(),
            Kind::SecretStore => b.secret_stores.iter().map(|o| o.name.as_str()).collect(),
            Kind::StorageClass => b.storage_classes.iter().map(|o| o.name.as_str()).collect(),
            Kind::PriorityClass => b.priority_classes.iter().map(|o| o.name.as_str()).collect(),
        }
    }

    fn provided(self, b: &BaselineSpec) -> &BTreeSet<String> {
        match self {
            Kind::Issuer => &b.provided.issuers,
            Kind::SecretStore => &b.provided.secret_stores,
            Kind::StorageClass => &b.provided.storage_classes,
            Kind::PriorityClass => &b.provided.priority_classes,
        }
    }
}

/// Checks the references of one run, reporting each unchecked name once per cluster.
struct Checker<'s> {
    clusters: BTreeMap<&'s str, &'s ClusterSpec>,
    unchecked: BTreeSet<(String, Kind, String)>,
}

impl<'a> Resolver<'a> {
    /// Checks every reference to a baseline object, of the clusters' own parts and of
    /// the environments' services, those with errors in their other values included
    /// (see `Resolved`).
    pub(super) fn check_references(&mut self, clusters: &[ClusterSpec], envs: &[&EnvSpec]) {
        let mut c = Checker {
            clusters: clusters.iter().map(|c| (c.name.as_str(), c)).collect(),
            unchecked: BTreeSet::new(),
        };
        // The environments each cluster hosts: what is wrong in a cluster's own
        // parts is about them.
        let mut hosted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for e in envs {
            hosted.entry(e.cluster.as_str()).or_default().push(&e.name);
        }
        for r in std::mem::take(&mut self.refs) {
            let Some(cluster) = c.clusters.get(r.cluster.as_str()).copied() else {
                continue;
            };
            // An environment on a cluster that does not exist (KG023): its implicit
            // cluster has no baseline to find anything in.
            if cluster.implicit && self.on_unknown_cluster(&cluster.name) {
                continue;
            }
            let on = hosted.get(r.cluster.as_str()).cloned().unwrap_or_default();
            self.about(&on, |s| s.cluster_reference(&mut c, cluster, &r));
        }
        for env in envs {
            let Some(cluster) = c.clusters.get(env.cluster.as_str()).copied() else {
                continue;
            };
            if cluster.implicit && self.on_unknown_cluster(&env.name) {
                continue;
            }
            self.about(&[&env.name], |s| s.env_references(&mut c, cluster, env));
        }
    }

    /// A reference of a cluster's own parts (its monitoring stack, its add-ons).
    fn cluster_reference(&mut self, c: &mut Checker<'_>, cluster: &ClusterSpec, r: &BaselineRef) {
        match &r.target {
            Target::StorageClass(name) => {
                self.reference(c, cluster, Kind::StorageClass, name, &r.origin);
            }
            Target::PriorityClass(name) => {
                self.reference(c, cluster, Kind::PriorityClass, name, &r.origin);
            }
            Target::Placement {
                who,
                node_selector,
                tolerations,
                written,
                tolerations_origin,
            } => {
                let tolerations_checked: &[Toleration] = if *written { tolerations } else { &[] };
                let at = tolerations_origin.as_ref().unwrap_or(&r.origin);
                self.check_taint_keys(cluster, who, tolerations_checked, at);
                self.check_placement(cluster, who, node_selector, &[], tolerations, &r.origin)
            }
        }
    }

    fn env_references(&mut self, c: &mut Checker<'_>, cluster: &ClusterSpec, env: &EnvSpec) {
        let b = &cluster.baseline;
        let at = |key: &str| {
            env.origins
                .get(key)
                .cloned()
                .unwrap_or_else(|| env.origin.clone())
        };
        if let Some(issuer) = &env.ingress.cluster_issuer {
            if let Some(svc) = env.services.iter().find(|s| s.ingress.is_some()) {
                let origin = at("ingress.cluster_issuer");
                if self.reference(c, cluster, Kind::Issuer, issuer, &origin) {
                    let class = match env.ingress.class {
                        IngressClass::Nginx => "nginx",
                        IngressClass::Alb => "alb",
                    };
                    if let Some(i) = b.issuers.iter().find(|i| &i.name == issuer) {
                        // An HTTP-01 solver on `alb` is refused where it is written
                        // (KG019): that error says what to do.
                        if !i.serves_class(class) && !i.serves_class("alb") {
                            // At the issuer, whose solver the help says to change.
                            self.error(
                                rules::UNKNOWN_BASELINE_OBJECT,
                                i.origin.clone(),
                                format!("ClusterIssuer `{issuer}` solves HTTP-01 challenges through another ingress class than `{class}`, the class of `{}`'s Ingress in `{}`", svc.name, env.name),
                            )
                            .help(format!("set the issuer's `http01 = {{ ingress_class = \"{class}\" }}`, use a DNS-01 issuer, or name an issuer that serves `{class}`"));
                        }
                    }
                }
            }
        }
        if env.secrets_backend == SecretsBackend::ExternalSecrets {
            for (from, store, key, provider) in [
                (
                    SecretSource::Secretsmanager,
                    &env.external_secrets.store,
                    "external_secrets.store",
                    SecretStoreProvider::SecretsManager,
                ),
                (
                    SecretSource::Ssm,
                    &env.external_secrets.ssm_store,
                    "external_secrets.ssm_store",
                    SecretStoreProvider::ParameterStore,
                ),
            ] {
                let users: Vec<&crate::spec::ServiceSpec> = env
                    .services
                    .iter()
                    .filter(|s| s.secrets.iter().any(|x| x.from == from))
                    .collect();
                if users.is_empty() {
                    continue;
                }
                let origin = at(key);
                if !self.reference(c, cluster, Kind::SecretStore, store, &origin) {
                    continue;
                }
                let Some(s) = b.secret_stores.iter().find(|s| &s.name == store) else {
                    continue;
                };
                if s.provider != provider {
                    let (want, wrote) = match provider {
                        SecretStoreProvider::SecretsManager => {
                            ("secrets-manager", "parameter-store")
                        }
                        SecretStoreProvider::ParameterStore => {
                            ("parameter-store", "secrets-manager")
                        }
                    };
                    self.error(
                        rules::UNKNOWN_BASELINE_OBJECT,
                        origin.clone(),
                        format!("ClusterSecretStore `{store}` reads {wrote}, but `{key}` names the store of {want} secrets (`{}` reads one in `{}`)", users[0].name, env.name),
                    )
                    .help(format!("name a store with `provider = \"{want}\"` here"));
                }
                for svc in users {
                    if !s.admits(&svc.namespace) {
                        // At the store's `namespaces`, which the help says to change.
                        let at = s
                            .namespaces_origin
                            .clone()
                            .unwrap_or_else(|| s.origin.clone());
                        self.error(
                            rules::UNKNOWN_BASELINE_OBJECT,
                            at,
                            format!(
                                "ClusterSecretStore `{store}` admits only namespaces {}, not `{}` of `{}` in `{}`",
                                s.namespace_patterns.join(", "),
                                svc.namespace,
                                svc.name,
                                env.name
                            ),
                        )
                        .help(format!("add `{}` (or a pattern matching it) to the store's `namespaces`", svc.namespace));
                    }
                }
            }
        }
        for svc in &env.services {
            let origin_of = |key: &str| {
                svc.origins
                    .get(key)
                    .cloned()
                    .or_else(|| svc.origins.get(crate::validate::SERVICE_ORIGIN).cloned())
                    .unwrap_or_else(|| env.origin.clone())
            };
            for v in &svc.volumes {
                if let VolumeSource::Claim { storage_class, .. } = &v.source {
                    match storage_class {
                        Some(sc) => {
                            let origin =
                                origin_of(&format!("volumes.{}.claim.storage_class", v.name));
                            self.reference(c, cluster, Kind::StorageClass, sc, &origin);
                        }
                        None => self.default_storage_class(
                            cluster,
                            &origin_of(&format!("volumes.{}.claim", v.name)),
                            &svc.name,
                            &v.name,
                        ),
                    }
                }
            }
            if let Some(pc) = &svc.placement.priority_class {
                self.reference(
                    c,
                    cluster,
                    Kind::PriorityClass,
                    pc,
                    &origin_of("priority_class"),
                );
            }
            let origin = ["node_selector", "node_affinity.required", "tolerations"]
                .iter()
                .find_map(|k| {
                    svc.origins
                        .iter()
                        .find(|(o, _)| o.starts_with(k))
                        .map(|(_, o)| o.clone())
                })
                .unwrap_or_else(|| origin_of(crate::validate::SERVICE_ORIGIN));
            let who = format!("`{}` in `{}`", svc.name, env.name);
            // A tolerated taint is a finding about the tolerations.
            let tolerations_at = svc.origins.get("tolerations").unwrap_or(&origin);
            self.check_taint_keys(cluster, &who, &svc.placement.tolerations, tolerations_at);
            self.check_placement(
                cluster,
                &who,
                &svc.placement.node_selector,
                &svc.placement.required,
                &svc.placement.tolerations,
                &origin,
            );
        }
    }

    /// Checks that `name` is an object of `kind` on `cluster`; returns whether it is
    /// declared or provided (false also when it cannot be checked).
    fn reference(
        &mut self,
        c: &mut Checker<'_>,
        cluster: &ClusterSpec,
        kind: Kind,
        name: &str,
        origin: &Origin,
    ) -> bool {
        let b = &cluster.baseline;
        let declared = kind.declared(b);
        if declared.contains(&name) || kind.provided(b).contains(name) {
            return true;
        }
        // Declared, with errors of its own: those are the report.
        if b.unresolved.contains(&format!("{}/{name}", kind.key())) {
            return false;
        }
        if kind == Kind::PriorityClass && BUILTIN_PRIORITY_CLASSES.contains(&name) {
            return true;
        }
        if !declared.is_empty() || b.provided.declared.contains(kind.key()) {
            let mut known: Vec<&str> = declared.clone();
            known.extend(kind.provided(b).iter().map(String::as_str));
            if kind == Kind::PriorityClass {
                known.extend(BUILTIN_PRIORITY_CLASSES);
            }
            self.unknown_object(
                kind.object(),
                name,
                origin,
                known.iter().copied(),
                &format!("[baseline.{}.{name}]", kind.key()),
                true,
            );
            return false;
        }
        if c.unchecked
            .insert((cluster.name.clone(), kind, name.to_string()))
        {
            self.warning(
                rules::UNCHECKED_REFERENCE,
                origin.clone(),
                format!(
                    "{} `{name}` is not declared for cluster `{}`, so kgen cannot check that it exists",
                    kind.object(),
                    cluster.name
                ),
            )
            .help(format!(
                "declare it under `[baseline.{}.{name}]` (kgen then creates and checks it), or write `provided = {{ {} = [\"{name}\"] }}` in `[baseline]` if something else creates it",
                kind.key(),
                kind.key()
            ));
        }
        false
    }

    /// A claim that names no class gets the cluster's default one: warn when the
    /// cluster declares classes, none of them the default, and provides none.
    fn default_storage_class(
        &mut self,
        cluster: &ClusterSpec,
        origin: &Origin,
        svc: &str,
        volume: &str,
    ) {
        let b = &cluster.baseline;
        if b.storage_classes.is_empty()
            || b.storage_classes.iter().any(|s| s.default)
            || !b.provided.storage_classes.is_empty()
        {
            return;
        }
        let names: Vec<&str> = b.storage_classes.iter().map(|s| s.name.as_str()).collect();
        self.warning(
            rules::UNCHECKED_REFERENCE,
            origin.clone(),
            format!("volume `{volume}` of `{svc}` names no storage class, and cluster `{}` declares no default one: its claim would stay Pending", cluster.name),
        )
        .help(format!("set `claim = {{ storage_class = \"{}\" }}`, or `default = true` on one of the cluster's StorageClasses", names[0]));
    }

    /// Warns about tolerated taints no NodePool of a cluster that declares some has,
    /// nor its `provided` nodes.
    fn check_taint_keys(
        &mut self,
        cluster: &ClusterSpec,
        who: &str,
        tolerations: &[Toleration],
        origin: &Origin,
    ) {
        let b = &cluster.baseline;
        if b.node_pools.is_empty() {
            return;
        }
        for t in tolerations {
            let Some(key) = &t.key else { continue };
            let known = key.starts_with("node.kubernetes.io/")
                || key.starts_with("node.cloudprovider.kubernetes.io/")
                || key.starts_with("karpenter.sh/")
                || b.provided.node_taints.contains(key)
                || b.node_pools
                    .iter()
                    .any(|p| p.taints.iter().any(|x| &x.key == key));
            if !known {
                self.warning(
                    rules::NODE_POOL_MISMATCH,
                    origin.clone(),
                    format!("{who} tolerates taint `{key}`, which no NodePool of cluster `{}` has", cluster.name),
                )
                .help(format!("check the key; if other nodes (a managed node group) have it, write `provided = {{ node_taints = [\"{key}\"] }}` in `[baseline]`"));
            }
        }
    }

    /// Warns when pods with this placement fit no NodePool of a cluster that declares
    /// some (and no nodes listed under `provided`), or tolerate a taint nothing has.
    fn check_placement(
        &mut self,
        cluster: &ClusterSpec,
        who: &str,
        node_selector: &BTreeMap<String, String>,
        required: &[NodeTerm],
        tolerations: &[Toleration],
        origin: &Origin,
    ) {
        let b = &cluster.baseline;
        if b.node_pools.is_empty() {
            return;
        }
        let provided_nodes =
            !b.provided.node_labels.is_empty() || !b.provided.node_taints.is_empty();
        if provided_nodes {
            let labels = &b.provided.node_labels;
            let has = |k: &str, v: &str| labels.contains(k) || labels.contains(&format!("{k}={v}"));
            // The provided nodes have the provided labels and taints: the pods must
            // tolerate every one of the taints (their effects are not known: any).
            let tolerated = |taint: &str| {
                tolerations.iter().any(|t| match &t.key {
                    Some(k) => k == taint,
                    None => t.operator == crate::spec::TolerationOperator::Exists,
                })
            };
            let labels_fit = node_selector.iter().all(|(k, v)| has(k, v))
                && required.iter().all(|t| match t.operator {
                    NodeOperator::In => t.values.iter().any(|v| has(&t.key, v)),
                    NodeOperator::Exists => labels
                        .iter()
                        .any(|l| l == &t.key || l.starts_with(&format!("{}=", t.key))),
                    _ => true,
                });
            let untolerated: Vec<&str> = b
                .provided
                .node_taints
                .iter()
                .filter(|t| !tolerated(t))
                .map(String::as_str)
                .collect();
            if labels_fit && untolerated.is_empty() {
                return;
            }
            // Pinned to the provided nodes (a label only they have), which are tainted.
            let pinned = !node_selector.is_empty() || !required.is_empty();
            if labels_fit
                && pinned
                && !b
                    .node_pools
                    .iter()
                    .any(|p| fits(p, node_selector, required, tolerations))
            {
                let tolerations: Vec<String> = untolerated
                    .iter()
                    .map(|t| format!("{{ key = \"{t}\", operator = \"Exists\" }}"))
                    .collect();
                self.warning(
                    rules::NODE_POOL_MISMATCH,
                    origin.clone(),
                    format!(
                        "the pods of {who} select the nodes listed under `provided` on cluster `{}`, but do not tolerate their taint{} `{}`, and fit no NodePool: they would stay Pending",
                        cluster.name,
                        if untolerated.len() == 1 { "" } else { "s" },
                        untolerated.join("`, `"),
                    ),
                )
                .help(format!(
                    "add `tolerations = [{}]`, or select other nodes",
                    tolerations.join(", ")
                ));
                return;
            }
        }
        if b.node_pools
            .iter()
            .any(|p| fits(p, node_selector, required, tolerations))
        {
            return;
        }
        let pools: Vec<&str> = b.node_pools.iter().map(|p| p.name.as_str()).collect();
        let provided: Vec<&str> = b.provided.node_labels.iter().map(String::as_str).collect();
        // A selector that misses a provided node's label by a typo (`role=sytem`).
        let hint = node_selector.iter().find_map(|(k, v)| {
            let pair = format!("{k}={v}");
            (!provided.contains(&pair.as_str()) && !provided.contains(&k.as_str()))
                .then(|| crate::diagnostic::did_you_mean(&pair, provided.iter().copied()))
                .flatten()
        });
        let (nodes, help) = if provided_nodes {
            (
                " nor the nodes listed under `provided`",
                format!(
                    "match a pool's labels and requirements and tolerate its taints, or the labels of the provided nodes ({})",
                    provided.join(", ")
                ),
            )
        } else {
            ("", "match a pool's labels and requirements and tolerate its taints; if other nodes (a managed node group) would run them, list their labels under `provided = { node_labels = [...] }` in `[baseline]`".to_string())
        };
        let d = self.warning(
            rules::NODE_POOL_MISMATCH,
            origin.clone(),
            format!(
                "the pods of {who} fit no NodePool of cluster `{}` ({}){nodes}: their node selector, required node affinity or tolerations exclude every one, so they would stay Pending",
                cluster.name,
                pools.join(", ")
            ),
        );
        d.label = hint;
        d.help = Some(help);
    }
}

/// Labels Karpenter gives a node from its instance type, whatever the pool says.
fn instance_label(key: &str) -> bool {
    key.starts_with("karpenter.k8s.aws/")
        || matches!(
            key,
            "node.kubernetes.io/instance-type"
                | "topology.kubernetes.io/region"
                | "topology.kubernetes.io/zone"
                | "kubernetes.io/arch"
                | "kubernetes.io/os"
                | "karpenter.sh/capacity-type"
        )
}

/// The values a pool's nodes may have for `key`: `Some(values)` when the pool fixes
/// them (its labels, its requirements), `None` when any value may come (a label of the
/// instance type the pool leaves open), and `Some([])` when its nodes never have it.
fn pool_values(p: &NodePoolSpec, key: &str) -> Option<Vec<String>> {
    if key == "karpenter.sh/nodepool" {
        return Some(vec![p.name.clone()]);
    }
    if let Some(v) = p.labels.get(key) {
        return Some(vec![v.clone()]);
    }
    if let Some((_, values)) = p.requirements.iter().find(|(k, _)| k == key) {
        return Some(values.clone());
    }
    if instance_label(key) {
        return None;
    }
    Some(Vec::new())
}

/// Whether pods with this placement can run on the pool's nodes.
fn fits(
    p: &NodePoolSpec,
    selector: &BTreeMap<String, String>,
    required: &[NodeTerm],
    tolerations: &[Toleration],
) -> bool {
    let labels_ok = selector
        .iter()
        .all(|(k, v)| pool_values(p, k).is_none_or(|vs| vs.contains(v)));
    let terms_ok = required
        .iter()
        .all(|t| match (t.operator, pool_values(p, &t.key)) {
            (_, None) => true,
            (NodeOperator::In, Some(vs)) => t.values.iter().any(|v| vs.contains(v)),
            (NodeOperator::Exists, Some(vs)) => !vs.is_empty(),
            (NodeOperator::NotIn, Some(vs)) => {
                vs.is_empty() || vs.iter().any(|v| !t.values.contains(v))
            }
            (NodeOperator::DoesNotExist, Some(vs)) => vs.is_empty(),
            _ => true,
        });
    let taints_ok = p
        .taints
        .iter()
        .filter(|t| t.effect != crate::spec::TaintEffect::PreferNoSchedule)
        .all(|taint| {
            tolerations.iter().any(|t| {
                let key_ok = t.key.as_ref().is_none_or(|k| k == &taint.key);
                let value_ok = t.operator == TolerationOperator::Exists
                    || t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("");
                let effect_ok = t.effect.is_none_or(|e| e == taint.effect);
                key_ok && value_ok && effect_ok
            })
        });
    labels_ok && terms_ok && taints_ok
}
