//! StorageClasses: the fields the API server will not update (the class must be
//! replaced), and a class becoming, or ceasing to be, the cluster's default.

use serde_json::Value;

use super::{changes, Finding};
use crate::diff::{differing_keys, kubectl_delete, scalar, RiskKind};
use crate::manifest_set::Resource;

/// The annotation that makes a StorageClass the cluster's default
/// (`storageclass.kubernetes.io/is-default-class`, read by the DefaultStorageClass
/// admission plugin, kubernetes `plugin/pkg/admission/storage/storageclass/setdefault`,
/// through `GetDefaultClass` in `pkg/volume/util/storageclass.go`).
const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";

fn is_default_class(v: &Value) -> bool {
    v["metadata"]["annotations"][DEFAULT_CLASS_ANNOTATION] == "true"
}

/// A StorageClass's `parameters`, `provisioner`, `reclaimPolicy` and
/// `volumeBindingMode` cannot change: `ValidateStorageClassUpdate` (kubernetes
/// `pkg/apis/storage/validation/validation.go`) forbids the first three ("updates to
/// parameters are forbidden.") and checks the last with `ValidateImmutableField`. The
/// API server defaults `reclaimPolicy` to `Delete` and `volumeBindingMode` to
/// `Immediate` (`SetDefaults_StorageClass`, `pkg/apis/storage/v1/defaults.go`), so an
/// unset field counts as its default. A PersistentVolume copies the class's parameters
/// and reclaim policy when it is provisioned, so replacing the class changes no
/// existing volume.
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let normal = |v: &Value| {
        let mut v = v.clone();
        if v["reclaimPolicy"].is_null() {
            v["reclaimPolicy"] = "Delete".into();
        }
        if v["volumeBindingMode"].is_null() {
            v["volumeBindingMode"] = "Immediate".into();
        }
        v
    };
    let (bv, hv) = (normal(&b.value), normal(&h.value));
    // `parameters.iops (6000 → 8000)`, `reclaimPolicy (Delete → Retain)`.
    let from_to =
        |field: &str, b: &Value, h: &Value| format!("{field} ({} → {})", scalar(b), scalar(h));
    let (bp, hp) = (&bv["parameters"], &hv["parameters"]);
    let mut fields: Vec<String> = differing_keys(bp, hp, "parameters.", |_| true)
        .into_iter()
        .map(|f| {
            let k = &f["parameters.".len()..];
            from_to(&f, &bp[k], &hp[k])
        })
        .collect();
    for k in ["provisioner", "reclaimPolicy", "volumeBindingMode"] {
        if bv[k] != hv[k] {
            fields.push(from_to(k, &bv[k], &hv[k]));
        }
    }
    if !fields.is_empty() {
        out.push((
            RiskKind::StorageClassImmutable,
            format!(
                "{}; a StorageClass's parameters, provisioner, reclaimPolicy and volumeBindingMode are immutable, so the sync fails until it is replaced: {}, then sync (Argo CD creates it again); volumes already provisioned keep the parameters and reclaim policy they were made with, only new claims get the new ones",
                changes(&fields),
                kubectl_delete(&h.id, "")
            ),
        ));
    }
    default_class_change(Some(&b.value), &h.value, out);
}

/// Info when a StorageClass becomes, or stops being, the cluster's default (`base` is
/// None for an added class).
pub fn default_class_change(base: Option<&Value>, head: &Value, out: &mut Vec<Finding>) {
    let was = base.is_some_and(is_default_class);
    match (was, is_default_class(head)) {
        (false, true) => out.push((
            RiskKind::DefaultStorageClass,
            "becomes the cluster's default StorageClass: claims created without a storageClassName get it from now on (claims that exist keep their class)".into(),
        )),
        (true, false) => out.push((
            RiskKind::DefaultStorageClass,
            "is no longer the cluster's default StorageClass: claims created without a storageClassName get the class that is the default now, and stay Pending if there is none".into(),
        )),
        _ => {}
    }
}
