//! `kgen diff`'s risks and info for the platform layer: the add-ons' and the monitoring
//! stack's Argo CD Applications, and the cluster baseline (StorageClasses,
//! PriorityClasses, role bindings, Karpenter's NodePools and EC2NodeClasses,
//! cert-manager's ClusterIssuers, External Secrets' ClusterSecretStores).
//!
//! Each rule says what the API server, Argo CD or the operator does with the change,
//! and cites the upstream code or documentation it follows (docs/diff.md lists them
//! too). `diff::findings` calls in here for every changed, removed and added resource;
//! the rules only read the two manifests (and, for an EC2NodeClass, the head's
//! NodePools), never the platform's inputs: the base is what is deployed.
//!
//! This module sends each resource to the rules of its kind, one kind (or operator)
//! per submodule:
//!
//! - `storage_class`: a StorageClass's immutable fields, and the default class;
//! - `priority_class`: a PriorityClass's immutable fields;
//! - `role_binding`: a (Cluster)RoleBinding's immutable `roleRef`;
//! - `karpenter`: NodePools and EC2NodeClasses: what Karpenter's drift replaces, and
//!   their removal;
//! - `cluster_issuer`: cert-manager's ClusterIssuers: another ACME server, a removal;
//! - `external_dns`: external-dns's Helm values: another record owner, deleting records;
//! - `secret_store`: External Secrets' ClusterSecretStores: another provider, a removal;
//! - `application`: chart Applications: another chart, version or namespace, a removal;
//! - `chart_crds`: the CRDs a removed chart Application leaves behind;
//! - `app_project`: AppProjects that allow more (or less) kinds, destinations and
//!   source repositories;
//! - `sync_policy`: Applications and ApplicationSets whose sync becomes automated, an
//!   ApplicationSet that starts deleting Applications, and a cluster that syncs by hand
//!   at the base.

mod app_project;
mod application;
mod chart_crds;
mod cluster_issuer;
mod config_map;
mod external_dns;
mod karpenter;
mod network_policy;
mod priority_class;
mod role_binding;
mod secret_store;
mod storage_class;
mod sync_policy;

use std::collections::BTreeMap;

use crate::diff::{and_list, verb, RiskKind};
use crate::manifest_set::{Identity, Resource};

pub use storage_class::default_class_change;
pub use sync_policy::base_manual_clusters;

/// What one rule found: its kind and a complete sentence.
pub type Finding = (RiskKind, String);

/// NodePools at the head, by cluster: pool name → the EC2NodeClass it names. Read from every head NodePool, changed or not (see `ops::diff`).
pub type HeadNodePools = BTreeMap<String, BTreeMap<String, String>>;

/// StorageClasses at the head, by environment (those of its cluster): class name →
/// the class's name and whether it allows volume expansion (`allowVolumeExpansion`,
/// false when unset); the cluster's default class also under "" (claims that name no
/// class get it). Read from every head StorageClass, changed or not (see `ops::diff`).
pub type HeadStorageClasses = BTreeMap<String, BTreeMap<String, (String, bool)>>;

fn group(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(g, _)| g)
}

fn is(id: &Identity, api_group: &str, kind: &str) -> bool {
    id.kind == kind && group(&id.api_version) == api_group
}

/// `a changes`, `a and b change`.
fn changes(fields: &[String]) -> String {
    format!(
        "{} {}",
        and_list(fields),
        verb(fields.len(), "changes", "change")
    )
}

/// Risks and info of a resource of the platform layer that changed in place.
pub fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let id = &h.id;
    if is(id, "storage.k8s.io", "StorageClass") {
        storage_class::changed(b, h, out);
    } else if is(id, "scheduling.k8s.io", "PriorityClass") {
        priority_class::changed(b, h, out);
    } else if is(id, "rbac.authorization.k8s.io", "RoleBinding")
        || is(id, "rbac.authorization.k8s.io", "ClusterRoleBinding")
    {
        role_binding::changed(b, h, out);
    } else if is(id, "karpenter.sh", "NodePool") {
        karpenter::node_pool_changed(b, h, out);
    } else if is(id, "karpenter.k8s.aws", "EC2NodeClass") {
        karpenter::node_class_changed(b, h, out);
    } else if is(id, "cert-manager.io", "ClusterIssuer") {
        cluster_issuer::changed(b, h, out);
    } else if is(id, "external-secrets.io", "ClusterSecretStore") {
        secret_store::changed(b, h, out);
    } else if is(id, "argoproj.io", "Application") {
        sync_policy::application_changed(b, h, out);
        application::changed(b, h, out);
    } else if is(id, "argoproj.io", "AppProject") {
        app_project::changed(b, h, out);
    } else if is(id, "argoproj.io", "ApplicationSet") {
        sync_policy::application_set_changed(b, h, out);
    } else if is(id, "networking.k8s.io", "NetworkPolicy") {
        network_policy::changed(b, h, out);
    } else if is(id, "", "ConfigMap") {
        config_map::changed(b, h, out);
    } else if !id.is_object() {
        // A chart's values (`values/<cluster>/<add-on>.yaml`).
        external_dns::changed(b, h, out);
    }
}

/// What the removal of a resource of the platform layer means; None for the generic
/// rules of `diff::findings`.
pub fn removed(
    r: &Resource,
    d_removed: &[Resource],
    head_pools: &HeadNodePools,
) -> Option<Finding> {
    let id = &r.id;
    if is(id, "argoproj.io", "Application") {
        application::removed(r, d_removed)
    } else if is(id, "karpenter.sh", "NodePool") {
        Some(karpenter::node_pool_removed())
    } else if is(id, "karpenter.k8s.aws", "EC2NodeClass") {
        Some(karpenter::node_class_removed(id, head_pools))
    } else if is(id, "cert-manager.io", "ClusterIssuer") {
        Some(cluster_issuer::removed())
    } else if is(id, "external-secrets.io", "ClusterSecretStore") {
        Some(secret_store::removed())
    } else {
        None
    }
}
