//! ConfigMaps marked `immutable: true`: the API server refuses a change to their data
//! and a way back to mutable (the ConfigMap must be replaced, or given a new name).

use super::Finding;
use crate::diff::{kubectl_delete, RiskKind};
use crate::manifest_set::Resource;

/// `ValidateConfigMapUpdate` (kubernetes `pkg/apis/core/validation/validation.go`):
/// once `immutable` is true, `data` and `binaryData` may not change ("field is
/// immutable when `immutable` is set") and `immutable` may not be unset.
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    if b.value["immutable"] != true {
        return;
    }
    let mut what = Vec::new();
    if b.value["data"] != h.value["data"] || b.value["binaryData"] != h.value["binaryData"] {
        what.push("its data changes");
    }
    if h.value["immutable"] != true {
        what.push("`immutable` is taken off");
    }
    if what.is_empty() {
        return;
    }
    out.push((
        RiskKind::ConfigMapImmutable,
        format!(
            "the ConfigMap is immutable (`immutable: true`) and {}; the API server refuses the update, so the sync fails until it is replaced ({}, then sync) or the new data gets a ConfigMap of a new name (and the pods mount that)",
            what.join(" and "),
            kubectl_delete(&h.id, "")
        ),
    ));
}
