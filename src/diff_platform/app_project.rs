//! Argo CD AppProjects: what a project lets its Applications deploy. A project that
//! grows (a cluster-scoped kind, a destination, a source repository) is a risk: anyone
//! who can create or edit an Application in the project gets it. A project that
//! shrinks is info: its Applications that still deploy there stop syncing.
//!
//! Argo CD checks every resource of an Application against its project before a sync:
//! `IsGroupKindNamePermitted` (the cluster- and namespace-scoped allow and deny lists),
//! `IsDestinationPermitted` and `IsSourcePermitted` in argo-cd
//! `pkg/apis/application/v1alpha1/app_project_types.go`.

use serde_json::Value;

use super::Finding;
use crate::diff::{and_list, RiskKind};
use crate::manifest_set::Resource;

/// Namespaces whose objects run the cluster: a project that may deploy there is no
/// longer confined to its services.
const SYSTEM_NAMESPACES: [&str; 5] = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "argocd",
    "default",
];

/// Cluster-scoped kinds that amount to control of the whole cluster, and why.
fn why_dangerous(group: &str, kind: &str) -> Option<&'static str> {
    match (group, kind) {
        ("*", _) | (_, "*") => Some("every cluster-scoped kind"),
        ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding") => {
            Some("cluster-admin equivalent, a binding can grant any role")
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            Some("defines or redefines API types cluster-wide")
        }
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
        ) => Some("can change or refuse any API request"),
        ("apiregistration.k8s.io", "APIService") => Some("routes a whole API group to a service"),
        _ => None,
    }
}

/// `group/kind` entries of an allow list (`""` is the core group).
fn kinds(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .map(|l| {
            l.iter()
                .filter_map(|e| {
                    Some((
                        e["group"].as_str().unwrap_or("").to_string(),
                        e["kind"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `namespace` on `server` (or the cluster `name`) of a destinations list.
fn destinations(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|d| {
                    let ns = match d["namespace"].as_str().unwrap_or("*") {
                        "*" => "every namespace".to_string(),
                        ns => format!("`{ns}`"),
                    };
                    let at = d["server"]
                        .as_str()
                        .or_else(|| d["name"].as_str())
                        .unwrap_or("*");
                    format!("{ns} on {at}")
                })
                .collect()
        })
        .unwrap_or_default()
}

fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .filter_map(|s| s.as_str().map(|s| format!("`{s}`")))
                .collect()
        })
        .unwrap_or_default()
}

fn gained<T: PartialEq + Clone>(base: &[T], head: &[T]) -> Vec<T> {
    head.iter().filter(|x| !base.contains(x)).cloned().collect()
}

/// A changed AppProject: what it now allows (a risk), what it no longer allows (info).
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (bs, hs) = (&b.value["spec"], &h.value["spec"]);
    let mut more = Vec::new();
    let mut less = Vec::new();
    let (bk, hk) = (
        kinds(&bs["clusterResourceWhitelist"]),
        kinds(&hs["clusterResourceWhitelist"]),
    );
    let name = |(g, k): &(String, String)| {
        if g.is_empty() || g == "*" && k == "*" {
            format!("`{k}`")
        } else {
            format!("`{k}` ({g})")
        }
    };
    let added = gained(&bk, &hk);
    if !added.is_empty() {
        // The kinds, then why the dangerous ones matter, one reason once.
        let mut dangers: Vec<(&str, Vec<String>)> = Vec::new();
        for (g, k) in &added {
            if let Some(why) = why_dangerous(g, k) {
                match dangers.iter_mut().find(|(w, _)| *w == why) {
                    Some((_, ks)) => ks.push(format!("`{k}`")),
                    None => dangers.push((why, vec![format!("`{k}`")])),
                }
            }
        }
        let mut text = format!(
            "cluster-scoped {}",
            and_list(&added.iter().map(name).collect::<Vec<_>>())
        );
        if !dangers.is_empty() {
            let said: Vec<String> = dangers
                .iter()
                .map(|(why, ks)| format!("{}: {why}", and_list(ks)))
                .collect();
            text.push_str(&format!(" (of these, {})", said.join("; ")));
        }
        more.push(text);
    }
    let removed: Vec<String> = gained(&hk, &bk).iter().map(name).collect();
    if !removed.is_empty() {
        less.push(format!("cluster-scoped {}", and_list(&removed)));
    }
    let (bd, hd) = (
        destinations(&bs["destinations"]),
        destinations(&hs["destinations"]),
    );
    let added = gained(&bd, &hd);
    // A new service's own namespace is routine: the other gains decide.
    let wide_destination = added.iter().any(|d| {
        d.starts_with("every namespace")
            || d.contains('*')
            || SYSTEM_NAMESPACES
                .iter()
                .any(|ns| d.starts_with(&format!("`{ns}` ")))
    });
    let routine = more.is_empty() && !wide_destination;
    if !added.is_empty() {
        more.push(format!("destinations {}", and_list(&added)));
    }
    // A removed service's namespace goes with its Application: only said beside the
    // other losses.
    let removed = gained(&hd, &bd);
    let routine_loss = less.is_empty();
    if !removed.is_empty() {
        less.push(format!("destinations {}", and_list(&removed)));
    }
    let (br, hr) = (strings(&bs["sourceRepos"]), strings(&hs["sourceRepos"]));
    let added = gained(&br, &hr);
    let routine = routine && added.is_empty();
    if !added.is_empty() {
        more.push(format!("source repositories {}", and_list(&added)));
    }
    let removed = gained(&hr, &br);
    let routine_loss = routine_loss && removed.is_empty();
    if !removed.is_empty() {
        less.push(format!("source repositories {}", and_list(&removed)));
    }
    if !more.is_empty() && !routine {
        out.push((
            RiskKind::ProjectWidened,
            format!(
                "the project now allows {}: every Application in it may deploy these from now on, and so may anyone who can create or edit an Application in the project",
                more.join("; ")
            ),
        ));
    }
    if !less.is_empty() && !routine_loss {
        out.push((
            RiskKind::ProjectNarrowed,
            format!(
                "the project no longer allows {}: an Application in it that still deploys there fails to sync (`not permitted in project`)",
                less.join("; ")
            ),
        ));
    }
}
