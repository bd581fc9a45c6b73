//! RoleBindings and ClusterRoleBindings: a changed `roleRef`, which the API server will
//! not update (the binding must be replaced).

use serde_json::Value;

use super::Finding;
use crate::diff::{kubectl_delete, scalar, RiskKind};
use crate::manifest_set::Resource;

/// A binding's `roleRef` cannot change: `ValidateRoleBindingUpdate` and
/// `ValidateClusterRoleBindingUpdate` (kubernetes `pkg/apis/rbac/validation/validation.go`,
/// "cannot change roleRef").
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (br, hr) = (&b.value["roleRef"], &h.value["roleRef"]);
    if br == hr {
        return;
    }
    let show = |r: &Value| format!("{} `{}`", scalar(&r["kind"]), scalar(&r["name"]));
    out.push((
        RiskKind::RoleRefImmutable,
        format!(
            "roleRef changes {} → {}; a binding's roleRef is immutable, so the sync fails until it is replaced: {}, then sync (its subjects lose the role in between)",
            show(br),
            show(hr),
            kubectl_delete(&h.id, "")
        ),
    ));
}
