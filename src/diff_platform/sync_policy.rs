//! How Argo CD syncs: an Application's or an ApplicationSet template's
//! `syncPolicy.automated` (manual → automatic, prune and selfHeal turned on), an
//! ApplicationSet's `applicationsSync` (whether it deletes the Applications it no
//! longer generates), and whether a cluster's own Argo CD objects sync by hand at the
//! base (what is deployed now decides when the change is applied).

use std::collections::BTreeSet;

use serde_json::Value;

use super::Finding;
use crate::diff::{and_list, RiskKind};
use crate::manifest_set::{Group, ManifestSet, Resource};

/// A sync policy's automation: (automated, prune, selfHeal). Argo CD syncs
/// automatically when `automated` is set and `enabled` is not false
/// (`SyncPolicy.IsAutomatedSyncEnabled`, argo-cd `pkg/apis/application/v1alpha1/types.go`);
/// prune and selfHeal default to false (`GetPrune`, `GetSelfHeal`).
fn automation(sync_policy: &Value) -> (bool, bool, bool) {
    let a = &sync_policy["automated"];
    if !a.is_object() || a["enabled"] == false {
        return (false, false, false);
    }
    (true, a["prune"] == true, a["selfHeal"] == true)
}

/// What turning automation on means, from `base` to `head` (each `syncPolicy`);
/// None when nothing is turned on. `what` names the Applications concerned.
/// argo-cd `controller/appcontroller.go` `autoSync`: an automated Application is synced
/// whenever it is OutOfSync with its source, pruning only with `prune`, and synced
/// again after a change in the cluster only with `selfHeal`.
fn automation_gained(base: &Value, head: &Value, what: &str) -> Option<String> {
    let (b_auto, b_prune, b_heal) = automation(base);
    let (h_auto, h_prune, h_heal) = automation(head);
    if !h_auto {
        return None;
    }
    let mut parts = Vec::new();
    if !b_auto {
        parts.push(format!(
            "sync becomes automated: once this is applied, Argo CD syncs {what} as soon as it is OutOfSync, so every change merged earlier and never synced by hand is applied at once"
        ));
    }
    if h_prune && !b_prune {
        parts.push(
            "prune: every object its source no longer has is deleted, including those deliberately left in the cluster until now".into(),
        );
    }
    if h_heal && !b_heal {
        parts.push(
            "selfHeal: any change made by hand in the cluster (a hotfix applied with kubectl) is reverted".into(),
        );
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// An Application whose sync is automated or gains prune or selfHeal.
pub(super) fn application_changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    if let Some(m) = automation_gained(
        &b.value["spec"]["syncPolicy"],
        &h.value["spec"]["syncPolicy"],
        "this Application",
    ) {
        out.push((RiskKind::SyncAutomated, m));
    }
}

/// The names of the Applications an ApplicationSet's list generators generate:
/// `metadata.name` of its template with each element's `{{.key}}` (or `{{ .key }}`)
/// replaced. None when it has another generator, or a name kgen cannot fill in.
fn generated_names(set: &Value) -> Option<Vec<String>> {
    let template = set["spec"]["template"]["metadata"]["name"].as_str()?;
    let mut names = Vec::new();
    for g in set["spec"]["generators"].as_array()? {
        for e in g["list"]["elements"].as_array()? {
            let mut name = template.to_string();
            for (k, v) in e.as_object()? {
                let v = v.as_str()?;
                name = name
                    .replace(&format!("{{{{.{k}}}}}"), v)
                    .replace(&format!("{{{{ .{k} }}}}"), v);
            }
            if name.contains("{{") {
                return None;
            }
            names.push(name);
        }
    }
    Some(names)
}

/// Whether the ApplicationSet controller deletes the Applications a set no longer
/// generates: its `applicationsSync` (unset: `sync`) allows delete for `sync` and
/// `create-delete` (argo-cd `applicationset/utils/policy.go` `Policies`,
/// `ApplicationsSyncPolicy.AllowDelete` in `pkg/apis/application/v1alpha1`), when the
/// controller lets a set override its policy (docs/argocd.md).
fn deletes_applications(set: &Value) -> bool {
    !matches!(
        set["spec"]["syncPolicy"]["applicationsSync"].as_str(),
        Some("create-only" | "create-update")
    )
}

/// An ApplicationSet whose template's sync is automated or gains prune or selfHeal,
/// or that starts deleting the Applications it no longer generates.
pub(super) fn application_set_changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let names = generated_names(&h.value);
    let what = match &names {
        Some(n) if !n.is_empty() && n.len() <= 12 => format!(
            "every Application it generates ({})",
            and_list(&n.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>())
        ),
        Some(n) if !n.is_empty() => format!("every Application it generates ({})", n.len()),
        _ => "every Application it generates".to_string(),
    };
    if let Some(m) = automation_gained(
        &b.value["spec"]["template"]["spec"]["syncPolicy"],
        &h.value["spec"]["template"]["spec"]["syncPolicy"],
        &what,
    ) {
        out.push((RiskKind::SyncAutomated, m));
    }
    if !deletes_applications(&b.value) && deletes_applications(&h.value) {
        // `deleteInCluster` (argo-cd `applicationset/controllers/applicationset_controller.go`)
        // deletes every Application of the set that it does not generate any more.
        let policy = b.value["spec"]["syncPolicy"]["applicationsSync"]
            .as_str()
            .unwrap_or("create-update");
        let gone: Vec<String> = match (generated_names(&b.value), &names) {
            (Some(before), Some(after)) => before
                .into_iter()
                .filter(|n| !after.contains(n))
                .map(|n| format!("`{n}`"))
                .collect(),
            _ => Vec::new(),
        };
        let named = if gone.is_empty() {
            String::new()
        } else {
            format!(
                " ({} among them, no longer generated at the head)",
                and_list(&gone)
            )
        };
        out.push((
            RiskKind::ApplicationsSync,
            format!(
                "applicationsSync: {policy} is dropped: the ApplicationSet controller now deletes every Application of this set that it no longer generates{named}, including any kept after its service was removed earlier, and each one's resources finalizer deletes all its objects from the cluster; list them first (`argocd app list -l app.kubernetes.io/managed-by=kgen`)"
            ),
        ));
    }
}

/// Corrects `manual` (from the head's platform) for each cluster whose bootstrap
/// Application (`argocd/<cluster>/bootstrap.yaml`) changes: what applies this
/// pull request's change to the cluster's Argo CD objects is the bootstrap as deployed
/// now, so the base's policy decides whether the change waits for a sync by hand.
/// A bootstrap that does not change is the same on both sides.
pub fn base_manual_clusters(base: &ManifestSet, manual: &mut BTreeSet<Group>) {
    for r in base.resources.values() {
        let Group::Cluster(cluster) = &r.id.group else {
            continue;
        };
        if r.id.kind != "Application" || r.path != format!("argocd/{cluster}/bootstrap.yaml") {
            continue;
        }
        let group = r.id.group.clone();
        if automation(&r.value["spec"]["syncPolicy"]).0 {
            manual.remove(&group);
        } else {
            manual.insert(group);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_of_a_list_generator() {
        let set = json!({"spec": {"generators": [{"list": {"elements": [
            {"service": "a", "namespace": "x"}, {"service": "b", "namespace": "y"}]}}],
            "template": {"metadata": {"name": "prod-{{.service}}"}}}});
        assert_eq!(
            generated_names(&set),
            Some(vec!["prod-a".to_string(), "prod-b".to_string()])
        );
        let other = json!({"spec": {"generators": [{"git": {}}],
            "template": {"metadata": {"name": "{{.path.basename}}"}}}});
        assert_eq!(generated_names(&other), None);
    }

    #[test]
    fn automation_read_as_argo_cd_does() {
        assert_eq!(automation(&json!({})), (false, false, false));
        assert_eq!(automation(&json!({"automated": {}})), (true, false, false));
        assert_eq!(
            automation(&json!({"automated": {"prune": true, "enabled": false}})),
            (false, false, false)
        );
        assert_eq!(
            automation(&json!({"automated": {"prune": true, "selfHeal": true}})),
            (true, true, true)
        );
    }
}
