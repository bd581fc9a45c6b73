//! The pod spec: volumes (names, one source each), the restart policy its kind allows,
//! the service account, the list of containers.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Checker, Restart};
use crate::validate::{arr_at, str_at, FieldPath, Finding};
use crate::{names, rules};

impl Checker<'_, '_> {
    pub(super) fn pod_spec(
        &mut self,
        path: &FieldPath,
        pod: Option<&Value>,
        restart: Restart,
        claims: &[String],
    ) {
        let Some(pod) = pod else {
            return;
        };
        let mut volumes: BTreeSet<String> = claims.iter().cloned().collect();
        for (i, v) in arr_at(pod, "volumes").iter().enumerate() {
            let vp = || path.key("volumes").index(i);
            let Some(name) = str_at(v, "name") else {
                continue;
            };
            if let Err(e) = names::check_dns1123_label(name) {
                self.push(Finding::error(
                    rules::VOLUMES,
                    &vp().key("name"),
                    format!("volume name: {e}"),
                ));
            }
            if !volumes.insert(name.to_string()) {
                self.push(Finding::error(
                    rules::VOLUMES,
                    &vp().key("name"),
                    format!("volume `{name}` is defined twice in the pod"),
                ));
            }
            let sources = v
                .as_object()
                .map_or(0, |m| m.keys().filter(|k| *k != "name").count());
            if sources != 1 {
                self.push(Finding::error(
                    rules::VOLUMES,
                    &vp(),
                    format!("volume `{name}` must have exactly one source (emptyDir, configMap, csi, ...), not {sources}"),
                ));
            }
        }
        let policy = str_at(pod, "restartPolicy");
        let rp = path.key("restartPolicy");
        let kind = self.kind().to_string();
        match (restart, policy) {
            (Restart::Always, Some(p)) if p != "Always" => self.push(Finding::error(
                rules::FIELD_VALUE,
                &rp,
                format!("the pods of a {kind} must have restartPolicy Always, not {p}"),
            )),
            (Restart::Job, None) => self.push(Finding::error(
                rules::FIELD_VALUE,
                &rp,
                "the pods of a Job need restartPolicy OnFailure or Never (the default, Always, is refused)",
            )),
            (Restart::Job, Some(p)) if p != "OnFailure" && p != "Never" => self.push(Finding::error(
                rules::FIELD_VALUE,
                &rp,
                format!("the pods of a Job need restartPolicy OnFailure or Never, not {p}"),
            )),
            (Restart::Any, Some(p)) if !["Always", "OnFailure", "Never"].contains(&p) => {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &rp,
                    format!("unsupported restartPolicy {p:?}: use Always, OnFailure or Never"),
                ));
            }
            _ => {}
        }
        if let Some(sa) = str_at(pod, "serviceAccountName") {
            if let Err(e) = names::check_dns1123_subdomain(sa) {
                self.push(Finding::error(
                    rules::OBJECT_NAME,
                    &path.key("serviceAccountName"),
                    format!("service account name: {e}"),
                ));
            }
        }
        if pod.get("containers").is_some() && arr_at(pod, "containers").is_empty() {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path.key("containers"),
                "the pod has no containers",
            ));
        }
        let mut container_names = BTreeSet::new();
        for list in ["initContainers", "containers"] {
            for (i, c) in arr_at(pod, list).iter().enumerate() {
                self.container(&path.key(list).index(i), c, &volumes, &mut container_names);
            }
        }
    }
}
