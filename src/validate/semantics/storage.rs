//! Storage: a PersistentVolumeClaim's spec, and the claim templates a StatefulSet's
//! controller creates one claim per pod from, as `ValidatePersistentVolumeClaimSpec`
//! (kubernetes `pkg/apis/core/validation`) checks them: at least one access mode,
//! each one Kubernetes knows, `ReadWriteOncePod` alone; a storage request that is a
//! quantity greater than zero; a storage class name that is a DNS-1123 subdomain.

use serde_json::Value;

use super::Checker;
use crate::quantity::{self, Quantity};
use crate::validate::{arr_at, scalar_text, str_at, FieldPath, Finding};
use crate::{names, rules};

/// The access modes of a claim.
const ACCESS_MODES: &[&str] = &[
    "ReadWriteOnce",
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOncePod",
];

impl Checker<'_, '_> {
    /// A PersistentVolumeClaim object (kgen names a service's claims
    /// `<service>-<volume>`: its origin is `volumes.<volume>`).
    pub(super) fn claim(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let name = self.s.name();
        let volume = self
            .s
            .service
            .and_then(|svc| name.strip_prefix(&format!("{}-", svc.name)))
            .unwrap_or(name);
        let what = format!("PersistentVolumeClaim `{name}`");
        let key = format!("volumes.{volume}");
        match spec {
            Some(spec) => self.claim_spec(path, Some(spec), &what, &key),
            None => self.push(
                Finding::error(rules::FIELD_VALUE, path, format!("{what} has no spec"))
                    .key(format!("{key}.claim")),
            ),
        }
    }

    /// The spec of a claim (`what` names it in messages; `key` is the origin key of
    /// its volume, `volumes.<name>`).
    pub(super) fn claim_spec(
        &mut self,
        path: &FieldPath,
        spec: Option<&Value>,
        what: &str,
        key: &str,
    ) {
        let keys = |extra: &str| {
            [
                format!("{key}.claim.{extra}"),
                format!("{key}.claim"),
                key.to_string(),
            ]
        };
        let Some(spec) = spec else {
            self.push(
                Finding::error(rules::VOLUMES, path, format!("{what} has no spec"))
                    .keys(keys("size")),
            );
            return;
        };
        let modes: Vec<&str> = arr_at(spec, "accessModes")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mp = path.key("accessModes");
        if modes.is_empty() {
            self.push(
                Finding::error(
                    rules::VOLUMES,
                    &mp,
                    format!("{what} has no access mode (the API server requires at least one)"),
                )
                .keys(keys("access_mode")),
            );
        }
        for (i, m) in modes.iter().enumerate() {
            if !ACCESS_MODES.contains(m) {
                self.push(
                    Finding::error(
                        rules::VOLUMES,
                        &mp.index(i),
                        format!("{what} has the unknown access mode {m:?}: use ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod"),
                    )
                    .keys(keys("access_mode")),
                );
            }
        }
        if modes.contains(&"ReadWriteOncePod") && modes.len() > 1 {
            self.push(
                Finding::error(
                    rules::VOLUMES,
                    &mp,
                    format!("{what} combines ReadWriteOncePod with other access modes, which the API server refuses"),
                )
                .keys(keys("access_mode")),
            );
        }
        let sp = path.key("resources").key("requests").key("storage");
        match spec
            .get("resources")
            .and_then(|r| r.get("requests"))
            .and_then(|r| r.get("storage"))
        {
            None => self.push(
                Finding::error(
                    rules::RESOURCES,
                    &sp,
                    format!("{what} requests no storage (resources.requests.storage is required)"),
                )
                .keys(keys("size")),
            ),
            Some(v) => {
                let text = scalar_text(v).unwrap_or_default();
                let problem = match quantity::parse_non_negative(&text) {
                    Err(e) => Some(format!("{what} requests storage {text:?}: {e}")),
                    Ok(q) if q <= Quantity::ZERO => Some(format!(
                        "{what} requests storage {text}: it must be greater than 0"
                    )),
                    Ok(_) => None,
                };
                if let Some(m) = problem {
                    self.push(Finding::error(rules::RESOURCES, &sp, m).keys(keys("size")));
                }
            }
        }
        if let Some(class) = str_at(spec, "storageClassName").filter(|c| !c.is_empty()) {
            if let Err(e) = names::check_dns1123_subdomain(class) {
                self.push(
                    Finding::error(
                        rules::VOLUMES,
                        &path.key("storageClassName"),
                        format!("storage class name: {e}"),
                    )
                    .keys(keys("storage_class")),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    #[test]
    fn persistent_volume_claims() {
        let pvc = |spec: serde_json::Value| {
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "api-cache", "namespace": "api"}, "spec": spec})
        };
        assert_eq!(
            messages(&pvc(
                json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}})
            )),
            Vec::<String>::new()
        );
        assert_eq!(
            messages(&pvc(json!({"accessModes": ["ReadWriteAlways"], "storageClassName": "Fast SSD",
                "resources": {"requests": {"storage": "0"}}}))),
            vec![
                "PersistentVolumeClaim `api-cache` has the unknown access mode \"ReadWriteAlways\": use ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod",
                "PersistentVolumeClaim `api-cache` requests storage 0: it must be greater than 0",
                "storage class name: \"Fast SSD\" is not a valid DNS-1123 subdomain: use at most 253 lowercase letters, digits, '-' and '.', in dot-separated parts that each start and end with a letter or digit",
            ]
        );
        assert_eq!(
            messages(&pvc(json!({"resources": {"requests": {"storage": "1 Gi"}}}))),
            vec![
                "PersistentVolumeClaim `api-cache` has no access mode (the API server requires at least one)",
                "PersistentVolumeClaim `api-cache` requests storage \"1 Gi\": \"1 Gi\" is not a Kubernetes quantity: remove the whitespace, like 1Gi",
            ]
        );
    }
}
