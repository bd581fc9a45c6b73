//! Extra labels and annotations of a service's objects and pods: keys checked, the
//! keys kgen sets itself refused, annotation values scanned for secrets.

use std::collections::BTreeMap;

use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::{names, rules};
/// Label and annotation prefixes kgen owns: a service cannot set them.
const OWN_KEY_PREFIXES: &[&str] = &["app.kubernetes.io/", "kgen.dev/", "argocd.argoproj.io/"];
/// Labels kgen sets on a service's Namespace, which `labels` also goes on: Pod Security
/// Admission's level (`restricted`, which kgen's pods are built to satisfy) and the
/// name label the API server sets itself.
const NAMESPACE_LABELS: &[&str] = &["pod-security.kubernetes.io/", "kubernetes.io/metadata.name"];

impl<'a> Resolver<'a> {
    /// Extra labels or annotations (`field`: `labels`, `pod_annotations`, ...): keys
    /// checked, kgen's own refused, annotation values scanned for secrets.
    pub(in crate::resolve) fn metadata_map(
        &mut self,
        field: &str,
        entries: BTreeMap<&'a str, crate::merge::MapEntry<'a, String>>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> BTreeMap<String, String> {
        let labels = field.ends_with("labels");
        let mut out = BTreeMap::new();
        for (k, e) in entries {
            origins.insert(format!("{field}.{k}"), e.value.origin.clone());
            if let Err(err) = names::check_label_key(k) {
                self.error(
                    rules::INVALID_KEY,
                    e.key.clone(),
                    format!("{} key: {err}", if labels { "label" } else { "annotation" }),
                );
                continue;
            }
            if OWN_KEY_PREFIXES.iter().any(|p| k.starts_with(p)) {
                self.error(rules::RESERVED, e.key.clone(), format!("`{k}` is a key kgen sets itself"))
                    .help("kgen owns the `app.kubernetes.io/`, `kgen.dev/` and `argocd.argoproj.io/` keys (selectors, versions, sync waves); choose another key");
                continue;
            }
            if field == "labels" && NAMESPACE_LABELS.iter().any(|p| k.starts_with(p)) {
                self.error(rules::RESERVED, e.key.clone(), format!("`{k}` is a label kgen sets on the service's Namespace"))
                    .help("`labels` go on every object of the service, its Namespace too, where kgen sets `pod-security.kubernetes.io/enforce` (Pod Security Admission) and Kubernetes `kubernetes.io/metadata.name`; choose another key");
                continue;
            }
            if labels {
                if let Err(err) = names::check_label_value(e.value.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        e.value.origin.clone(),
                        format!("label value: {err}"),
                    );
                    continue;
                }
            } else {
                self.scan_secret(k, e.value.value, &e.value.origin);
            }
            out.insert(k.to_string(), e.value.value.clone());
        }
        out
    }
}
