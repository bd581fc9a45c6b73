//! Argo CD Applications that install a Helm chart (the add-ons, the monitoring stack):
//! another chart or repository, another version (a downgrade, a new major), another
//! namespace, and a removed Application (what its finalizer deletes, and the CRDs it
//! leaves behind, found by `chart_crds`).

use serde_json::Value;

use super::chart_crds::crd_groups;
use super::Finding;
use crate::diff::{and_list, parse_version, scalar, RiskKind};
use crate::manifest_set::Resource;

/// An Application's Helm chart source: (repository, chart, version).
fn chart_source(app: &Value) -> Option<(String, String, String)> {
    let spec = &app["spec"];
    let sources: Vec<&Value> = match spec["sources"].as_array() {
        Some(s) => s.iter().collect(),
        None => vec![&spec["source"]],
    };
    sources.into_iter().find_map(|s| {
        Some((
            s["repoURL"].as_str()?.to_string(),
            s["chart"].as_str()?.to_string(),
            scalar(&s["targetRevision"]),
        ))
    })
}

/// (major, minor) of a chart version; None when it is not a version.
fn major_minor(version: &str) -> Option<(u64, u64)> {
    let (nums, _) = parse_version(version)?;
    Some((nums.first().copied()?, nums.get(1).copied().unwrap_or(0)))
}

/// A new major version: the first number grows, or for `0.x` versions (where
/// anything may change, semver §4) the second.
fn is_major_upgrade(old: &str, new: &str) -> Option<bool> {
    let ((om, on), (nm, nn)) = (major_minor(old)?, major_minor(new)?);
    Some(nm > om || (om == 0 && nm == 0 && nn > on))
}

/// An Argo CD Application that installs a Helm chart (an add-on, the monitoring stack)
/// and changes: another chart or repository, another version, another namespace.
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (Some((b_repo, b_chart, b_version)), Some((h_repo, h_chart, h_version))) =
        (chart_source(&b.value), chart_source(&h.value))
    else {
        return;
    };
    if (&b_repo, &b_chart) != (&h_repo, &h_chart) {
        out.push((
            RiskKind::ChartSource,
            format!(
                "the chart changes from `{b_chart}` ({b_repo}) to `{h_chart}` ({h_repo}): another repository may publish other contents under the same name and version, so read what the new chart renders; Argo CD must be able to pull from the new repository (a private one needs its credentials)"
            ),
        ));
    } else if b_version != h_version {
        let ordering = crate::diff::compare_versions(&h_version, &b_version);
        match (ordering, is_major_upgrade(&b_version, &h_version)) {
            (Some(std::cmp::Ordering::Less), _) => out.push((
                RiskKind::ChartDowngrade,
                format!(
                    "chart `{h_chart}` moves back, {b_version} → {h_version}: at the next sync Argo CD applies the older chart over the newer one's objects (its CRDs too, if it has any); make sure the chart supports going back"
                ),
            )),
            (_, Some(true)) => out.push((
                RiskKind::ChartMajor,
                format!(
                    "chart `{h_chart}` moves to a new major version, {b_version} → {h_version}: read the chart's upgrade notes before merging (renamed or removed values, CRDs to upgrade, objects that must be replaced); Argo CD applies it at the next sync"
                ),
            )),
            (Some(_), _) => out.push((
                RiskKind::ChartVersion,
                format!(
                    "chart `{h_chart}` {b_version} → {h_version}: Argo CD renders and applies the new version at the next sync"
                ),
            )),
            (None, _) => out.push((
                RiskKind::ChartVersion,
                format!(
                    "chart `{h_chart}` {b_version} → {h_version} (not versions kgen can compare: read the chart's changes); Argo CD renders and applies it at the next sync"
                ),
            )),
        }
    }
    let (b_ns, h_ns) = (
        &b.value["spec"]["destination"]["namespace"],
        &h.value["spec"]["destination"]["namespace"],
    );
    if b_ns != h_ns {
        out.push((
            RiskKind::AddonNamespace,
            format!(
                "the release moves from namespace `{}` to `{}`: at the next sync Argo CD creates the chart's namespaced objects in `{}` and prunes those in `{}` (for a while both copies run, or neither); what the add-on created itself in `{}` (Secrets, leases) does not move",
                scalar(b_ns),
                scalar(h_ns),
                scalar(h_ns),
                scalar(b_ns),
                scalar(b_ns)
            ),
        ));
    }
}

/// What a removed chart Application means. The bootstrap Application prunes it, and
/// its resources finalizer makes Argo CD delete what it manages first
/// (`finalizeApplicationDeletion`, argo-cd `controller/appcontroller.go`), but
/// `shouldBeDeleted` there skips CustomResourceDefinitions (`!kube.IsCRD(obj)`),
/// objects with `Delete=false` and those marked `helm.sh/resource-policy: keep`: the
/// chart's CRDs, and every custom resource of them, stay with nothing to act on them.
pub(super) fn removed(r: &Resource, removed: &[Resource]) -> Option<Finding> {
    let (repo, chart, _) = chart_source(&r.value)?;
    let finalizer = r.value["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| {
            f.iter()
                .any(|x| x == "resources-finalizer.argocd.argoproj.io")
        });
    if !finalizer {
        return Some((
            RiskKind::AddonRemoved,
            format!(
                "removed; the Application has no resources finalizer, so what chart `{chart}` installed stays in the cluster, unmanaged, until deleted by hand"
            ),
        ));
    }
    Some(match crd_groups(r, &repo, &chart, removed) {
        Some(groups) if !groups.is_empty() => (
            RiskKind::AddonCrdsLeft,
            format!(
                "removed; Argo CD deletes what chart `{chart}` installed but its CustomResourceDefinitions (its cascade deletion skips CRDs), so the custom resources of {} stay in the cluster with no controller: nothing acts on them any more, and those that carry its finalizers cannot be deleted until it is back; delete them, then the CRDs, by hand if they are not wanted, or keep the add-on",
                and_list(&groups.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>())
            ),
        ),
        Some(_) => (
            RiskKind::AddonRemoved,
            format!(
                "removed; Argo CD deletes everything chart `{chart}` installed (the Application's resources finalizer)"
            ),
        ),
        None => (
            RiskKind::AddonRemoved,
            format!(
                "removed; Argo CD deletes everything chart `{chart}` installed (the Application's resources finalizer) but CustomResourceDefinitions: kgen knows nothing of this chart, so if it installs CRDs, their custom resources stay with no controller"
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_versions() {
        assert_eq!(is_major_upgrade("77.0.0", "78.1.0"), Some(true));
        assert_eq!(is_major_upgrade("v1.21.1", "v1.22.0"), Some(false));
        assert_eq!(is_major_upgrade("0.2.0", "0.3.0"), Some(true));
        assert_eq!(is_major_upgrade("0.2.0", "0.2.1"), Some(false));
        assert_eq!(is_major_upgrade("latest", "1.0.0"), None);
    }
}
