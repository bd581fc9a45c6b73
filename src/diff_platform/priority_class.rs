//! PriorityClasses: the fields the API server will not update (the class must be
//! replaced, and pods naming it are refused meanwhile).

use super::Finding;
use crate::diff::{kubectl_delete, scalar, scalar_or, RiskKind};
use crate::manifest_set::Resource;

/// A PriorityClass's `value` and `preemptionPolicy` cannot change:
/// `ValidatePriorityClassUpdate` (kubernetes `pkg/apis/scheduling/validation/validation.go`:
/// "may not be changed in an update.", and `ValidateImmutableField` on
/// `preemptionPolicy`, which the API server defaults to `PreemptLowerPriority`,
/// `pkg/apis/scheduling/v1/defaults.go`). A pod's priority is resolved when it is
/// admitted (the Priority admission plugin, `plugin/pkg/admission/priority`), which
/// also refuses pods naming a class that does not exist.
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let mut parts = Vec::new();
    if b.value["value"] != h.value["value"] {
        parts.push(format!(
            "value changes {} → {}",
            scalar(&b.value["value"]),
            scalar(&h.value["value"])
        ));
    }
    let policy = |r: &Resource| scalar_or(&r.value["preemptionPolicy"], "PreemptLowerPriority");
    let (bp, hp) = (policy(b), policy(h));
    if bp != hp {
        parts.push(format!("preemptionPolicy changes {bp} → {hp}"));
    }
    if parts.is_empty() {
        return;
    }
    out.push((
        RiskKind::PriorityClassImmutable,
        format!(
            "{}; a PriorityClass's value and preemptionPolicy are immutable, so the sync fails until it is replaced: {}, then sync (meanwhile new pods that name it are refused); running pods keep the priority they were admitted with until they are re-created",
            parts.join(", "),
            kubectl_delete(&h.id, "")
        ),
    ));
}
