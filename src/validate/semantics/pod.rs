//! The pod spec: volumes (names, one source each, what a ConfigMap or claim volume
//! must name), the restart policy its kind allows, the service account and priority
//! class, placement (node selector, node affinity, tolerations), and the list of
//! containers with their roles.
//!
//! Placement follows kubernetes `pkg/apis/core/validation`: `ValidateTolerations`
//! (a toleration with no key must use `Exists`; `Exists` takes no value; an `Equal`
//! value is a label value; `tolerationSeconds` only with `effect: NoExecute`),
//! `ValidateNodeSelectorRequirement` (`In`/`NotIn` need values, `Exists`/
//! `DoesNotExist` take none, `Gt`/`Lt` take exactly one, which the scheduler parses as
//! an integer), `validateNodeAffinity` (at least one required term, preferred
//! weights 1-100), and `ValidateLabels` for the node selector.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Checker, Restart};
use crate::validate::{arr_at, int_at, map_at, str_at, FieldPath, Finding};
use crate::{names, rules};

impl Checker<'_, '_> {
    /// A pod spec; `claims` are the names of a StatefulSet's volume claim templates,
    /// which its pods mount like volumes.
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
        let mut pod_volumes: BTreeSet<String> = BTreeSet::new();
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
            if !pod_volumes.insert(name.to_string()) {
                self.push(Finding::error(
                    rules::VOLUMES,
                    &vp().key("name"),
                    format!("volume `{name}` is defined twice in the pod"),
                ));
            } else if claims.iter().any(|c| c == name) {
                // The StatefulSet controller gives each pod the claim of a template in
                // place of a volume of the same name (`updateStorage`).
                self.push(
                    Finding::error(
                        rules::VOLUMES,
                        &vp().key("name"),
                        format!("volume `{name}` has the name of a volumeClaimTemplate: the StatefulSet controller replaces it with the claim, so this volume is never used"),
                    )
                    .help("rename the volume, or remove it and mount the claim by the template's name"),
                );
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
            self.volume_source(&vp(), name, v);
        }
        let volumes: BTreeSet<String> = pod_volumes
            .into_iter()
            .chain(claims.iter().cloned())
            .collect();
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
            ).key("kind")),
            (Restart::Job, Some(p)) if p != "OnFailure" && p != "Never" => self.push(Finding::error(
                rules::FIELD_VALUE,
                &rp,
                format!("the pods of a Job need restartPolicy OnFailure or Never, not {p}"),
            ).key("kind")),
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
        if let Some(pc) = str_at(pod, "priorityClassName") {
            if let Err(e) = names::check_dns1123_subdomain(pc) {
                self.push(
                    Finding::error(
                        rules::OBJECT_NAME,
                        &path.key("priorityClassName"),
                        format!("priority class name: {e}"),
                    )
                    .key("priority_class"),
                );
            }
        }
        self.placement(path, pod);
        self.pod_fields(path, pod);
        if pod.get("containers").is_some() && arr_at(pod, "containers").is_empty() {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path.key("containers"),
                "the pod has no containers",
            ));
        }
        let mut container_names = BTreeSet::new();
        for (list, init) in [("initContainers", true), ("containers", false)] {
            for (i, c) in arr_at(pod, list).iter().enumerate() {
                self.container(
                    &path.key(list).index(i),
                    c,
                    init,
                    &volumes,
                    &mut container_names,
                );
            }
        }
        self.pod_ports(path, pod);
    }

    /// What a ConfigMap or claim volume must name, and the files a ConfigMap volume
    /// maps (`validateKeyToPath`: a key, and a relative path without `..`).
    fn volume_source(&mut self, vp: &FieldPath, name: &str, v: &Value) {
        if let Some(cm) = v.get("configMap") {
            let cp = vp.key("configMap");
            if str_at(cm, "name").is_none_or(str::is_empty) {
                self.push(Finding::error(
                    rules::VOLUMES,
                    &cp.key("name"),
                    format!("volume `{name}` names no ConfigMap"),
                ));
            }
            self.file_mode(&cp.key("defaultMode"), cm.get("defaultMode"), name);
            for (j, item) in arr_at(cm, "items").iter().enumerate() {
                let ip = cp.key("items").index(j);
                if str_at(item, "key").is_none_or(str::is_empty) {
                    self.push(Finding::error(
                        rules::VOLUMES,
                        &ip.key("key"),
                        format!("item {j} of volume `{name}` names no key of the ConfigMap"),
                    ));
                }
                match str_at(item, "path") {
                    None | Some("") => self.push(Finding::error(
                        rules::VOLUMES,
                        &ip.key("path"),
                        format!("item {j} of volume `{name}` has no file path"),
                    )),
                    Some(p) if p.starts_with('/') || p.split('/').any(|c| c == "..") => {
                        self.push(Finding::error(
                            rules::VOLUMES,
                            &ip.key("path"),
                            format!("the file path {p:?} of volume `{name}` must be relative and without '..' (it is a file under the mount)"),
                        ));
                    }
                    Some(_) => {}
                }
                self.file_mode(&ip.key("mode"), item.get("mode"), name);
            }
        }
        if let Some(claim) = v.get("persistentVolumeClaim") {
            if str_at(claim, "claimName").is_none_or(str::is_empty) {
                self.push(
                    Finding::error(
                        rules::VOLUMES,
                        &vp.key("persistentVolumeClaim").key("claimName"),
                        format!("volume `{name}` names no PersistentVolumeClaim"),
                    )
                    .key(format!("volumes.{name}.claim")),
                );
            }
        }
    }

    /// A file mode: 0 to 0777 (octal), as `validateKeyToPath` accepts it.
    fn file_mode(&mut self, at: &FieldPath, mode: Option<&Value>, volume: &str) {
        if let Some(m) = mode.and_then(Value::as_i64) {
            if !(0..=0o777).contains(&m) {
                self.push(Finding::error(
                    rules::VOLUMES,
                    at,
                    format!("file mode {m} of volume `{volume}` is outside 0-0777 (octal; 511 in decimal)"),
                ));
            }
        }
    }

    /// Node selector, node affinity and tolerations.
    fn placement(&mut self, path: &FieldPath, pod: &Value) {
        if let Some(sel) = map_at(pod, "nodeSelector") {
            for (k, v) in sel {
                let fp = path.key("nodeSelector").key(k);
                let key = format!("node_selector.{k}");
                if let Err(e) = names::check_label_key(k) {
                    self.push(
                        Finding::error(rules::SELECTOR, &fp, format!("node selector: {e}"))
                            .key(key),
                    );
                } else if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                    self.push(
                        Finding::error(rules::SELECTOR, &fp, format!("node selector `{k}`: {e}"))
                            .key(key),
                    );
                }
            }
        }
        if let Some(na) = pod.get("affinity").and_then(|a| a.get("nodeAffinity")) {
            let ap = path.key("affinity").key("nodeAffinity");
            let rkey = "requiredDuringSchedulingIgnoredDuringExecution";
            if let Some(req) = na.get(rkey) {
                let rp = ap.key(rkey);
                let terms = arr_at(req, "nodeSelectorTerms");
                if terms.is_empty() {
                    self.push(
                        Finding::error(
                            rules::SELECTOR,
                            &rp.key("nodeSelectorTerms"),
                            "the required node affinity has no node selector term (the API server requires at least one)",
                        )
                        .key("node_affinity.required"),
                    );
                }
                for (i, t) in terms.iter().enumerate() {
                    self.node_term(
                        &rp.key("nodeSelectorTerms").index(i),
                        t,
                        "node_affinity.required",
                    );
                }
            }
            let pkey = "preferredDuringSchedulingIgnoredDuringExecution";
            for (i, t) in arr_at(na, pkey).iter().enumerate() {
                let tp = ap.key(pkey).index(i);
                if let Some(w) = int_at(t, "weight") {
                    if !(1..=100).contains(&w) {
                        self.push(
                            Finding::error(
                                rules::SELECTOR,
                                &tp.key("weight"),
                                format!("the weight {w} of a preferred node term is outside 1-100"),
                            )
                            .key("node_affinity.preferred"),
                        );
                    }
                }
                if let Some(pref) = t.get("preference") {
                    self.node_term(&tp.key("preference"), pref, "node_affinity.preferred");
                }
            }
        }
        for (i, t) in arr_at(pod, "tolerations").iter().enumerate() {
            self.toleration(&path.key("tolerations").index(i), t);
        }
    }

    /// A node selector term: its `matchExpressions` (node labels) and `matchFields`
    /// (`metadata.name` only, `In`/`NotIn` with one value).
    fn node_term(&mut self, tp: &FieldPath, term: &Value, key: &str) {
        for (j, r) in arr_at(term, "matchExpressions").iter().enumerate() {
            let rp = tp.key("matchExpressions").index(j);
            let k = str_at(r, "key").unwrap_or("");
            if let Err(e) = names::check_label_key(k) {
                self.push(
                    Finding::error(rules::SELECTOR, &rp.key("key"), format!("node label: {e}"))
                        .key(key),
                );
            }
            let op = str_at(r, "operator").unwrap_or("");
            let values: Vec<&Value> = arr_at(r, "values").iter().collect();
            let problem = match op {
                "In" | "NotIn" if values.is_empty() => {
                    Some(format!("operator {op} on node label `{k}` needs at least one value"))
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => Some(format!(
                    "operator {op} on node label `{k}` takes no values, not {}",
                    values.len()
                )),
                "Gt" | "Lt" if values.len() != 1 => Some(format!(
                    "operator {op} on node label `{k}` takes exactly one value, not {}",
                    values.len()
                )),
                "Gt" | "Lt" if values[0].as_str().and_then(|v| v.parse::<i64>().ok()).is_none() => {
                    Some(format!(
                        "operator {op} on node label `{k}` compares integers, and {} is not one: the scheduler matches no node",
                        values[0]
                    ))
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => None,
                other => Some(format!(
                    "unsupported node selector operator {other:?}: use In, NotIn, Exists, DoesNotExist, Gt or Lt"
                )),
            };
            if let Some(p) = problem {
                self.push(Finding::error(rules::SELECTOR, &rp, p).key(key));
            }
            for (vi, v) in values.iter().enumerate() {
                if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                    self.push(
                        Finding::error(
                            rules::SELECTOR,
                            &rp.key("values").index(vi),
                            format!("node label `{k}`: {e}"),
                        )
                        .key(key),
                    );
                }
            }
        }
        for (j, f) in arr_at(term, "matchFields").iter().enumerate() {
            let fp = tp.key("matchFields").index(j);
            let field = str_at(f, "key").unwrap_or("");
            let op = str_at(f, "operator").unwrap_or("");
            let n = arr_at(f, "values").len();
            if field != "metadata.name" {
                self.push(
                    Finding::error(
                        rules::SELECTOR,
                        &fp.key("key"),
                        format!("node field selector `{field}`: the only node field a pod can select on is metadata.name"),
                    )
                    .key(key),
                );
            } else if !matches!(op, "In" | "NotIn") || n != 1 {
                self.push(
                    Finding::error(
                        rules::SELECTOR,
                        &fp,
                        format!("a metadata.name field selector takes operator In or NotIn and exactly one value, not {op} with {n}"),
                    )
                    .key(key),
                );
            }
        }
    }

    /// One toleration, as `ValidateTolerations` checks it.
    fn toleration(&mut self, tp: &FieldPath, t: &Value) {
        let key = str_at(t, "key").unwrap_or("");
        let op = match str_at(t, "operator") {
            None | Some("") => "Equal",
            Some(op) => op,
        };
        let value = str_at(t, "value").unwrap_or("");
        let effect = str_at(t, "effect").unwrap_or("");
        let err = |at: FieldPath, m: String| {
            Finding::error(rules::FIELD_VALUE, &at, m).key("tolerations")
        };
        if !key.is_empty() {
            if let Err(e) = names::check_label_key(key) {
                self.push(err(tp.key("key"), format!("toleration key: {e}")));
            }
        }
        match op {
            "Exists" if !value.is_empty() => self.push(
                err(
                    tp.key("value"),
                    format!("the toleration of `{key}` has operator Exists and value {value:?}: Exists matches any value and takes none"),
                )
                .help("remove the value, or use operator Equal to tolerate that value only"),
            ),
            "Exists" => {}
            "Equal" if key.is_empty() => self.push(
                err(
                    tp.key("operator"),
                    "a toleration without a key must use operator Exists (it then tolerates every taint)".to_string(),
                ),
            ),
            "Equal" => {
                if let Err(e) = names::check_label_value(value) {
                    self.push(err(tp.key("value"), format!("toleration of `{key}`: {e}")));
                }
            }
            other => self.push(err(
                tp.key("operator"),
                format!("unsupported toleration operator {other:?}: use Equal or Exists"),
            )),
        }
        if !matches!(effect, "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
            self.push(err(
                tp.key("effect"),
                format!("unsupported taint effect {effect:?}: use NoSchedule, PreferNoSchedule or NoExecute (or none, for all three)"),
            ));
        }
        if t.get("tolerationSeconds").is_some() && effect != "NoExecute" {
            self.push(
                err(
                    tp.key("tolerationSeconds"),
                    format!("the toleration of `{key}` sets tolerationSeconds with effect {}: only a NoExecute toleration expires", if effect.is_empty() { "unset" } else { effect }),
                )
                .help("set effect NoExecute, or remove tolerationSeconds"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    #[test]
    fn tolerations_as_the_api_server_checks_them() {
        let d = workload(
            "Deployment",
            json!({"containers": [{"name": "a", "image": "a:1"}], "tolerations": [
                {"key": "dedicated", "operator": "Exists", "value": "web"},
                {"operator": "Equal", "value": "x"},
                {"key": "spot", "operator": "Equal", "value": "true", "effect": "NoSchedule", "tolerationSeconds": 60},
                {"key": "a", "operator": "In", "effect": "Never"},
                {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]}),
        );
        assert_eq!(
            findings(&d)
                .into_iter()
                .map(|f| (f.1, f.2))
                .collect::<Vec<_>>(),
            vec![
                ("spec.template.spec.tolerations[0].value".to_string(), "the toleration of `dedicated` has operator Exists and value \"web\": Exists matches any value and takes none".to_string()),
                ("spec.template.spec.tolerations[1].operator".to_string(), "a toleration without a key must use operator Exists (it then tolerates every taint)".to_string()),
                ("spec.template.spec.tolerations[2].tolerationSeconds".to_string(), "the toleration of `spot` sets tolerationSeconds with effect NoSchedule: only a NoExecute toleration expires".to_string()),
                ("spec.template.spec.tolerations[3].operator".to_string(), "unsupported toleration operator \"In\": use Equal or Exists".to_string()),
                ("spec.template.spec.tolerations[3].effect".to_string(), "unsupported taint effect \"Never\": use NoSchedule, PreferNoSchedule or NoExecute (or none, for all three)".to_string()),
            ]
        );
    }

    #[test]
    fn node_selectors_and_node_affinity() {
        let d = workload(
            "StatefulSet",
            json!({
                "containers": [{"name": "a", "image": "a:1"}],
                "nodeSelector": {"pool/": "general"},
                "affinity": {"nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{
                        "matchExpressions": [
                            {"key": "zone", "operator": "In"},
                            {"key": "gpu", "operator": "Exists", "values": ["true"]},
                            {"key": "cores", "operator": "Gt", "values": ["4", "8"]},
                            {"key": "mem", "operator": "Lt", "values": ["lots"]},
                            {"key": "arch", "operator": "Is", "values": ["arm64"]}
                        ],
                        "matchFields": [{"key": "metadata.labels", "operator": "In", "values": ["a"]}]
                    }]},
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 0, "preference": {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}}
                    ]
                }}
            }),
        );
        let got = messages(&d);
        assert_eq!(got.len(), 8, "{got:#?}");
        assert!(got[0].starts_with("node selector: "), "{}", got[0]);
        assert_eq!(
            got[1..],
            [
                "operator In on node label `zone` needs at least one value",
                "operator Exists on node label `gpu` takes no values, not 1",
                "operator Gt on node label `cores` takes exactly one value, not 2",
                "operator Lt on node label `mem` compares integers, and \"lots\" is not one: the scheduler matches no node",
                "unsupported node selector operator \"Is\": use In, NotIn, Exists, DoesNotExist, Gt or Lt",
                "node field selector `metadata.labels`: the only node field a pod can select on is metadata.name",
                "the weight 0 of a preferred node term is outside 1-100",
            ]
        );
        let empty = workload(
            "Deployment",
            json!({"containers": [{"name": "a", "image": "a:1"}], "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}}),
        );
        assert_eq!(
            messages(&empty),
            vec!["the required node affinity has no node selector term (the API server requires at least one)"]
        );
    }

    #[test]
    fn config_map_and_claim_volumes() {
        let d = workload(
            "Deployment",
            json!({
                "volumes": [
                    {"name": "files-0", "configMap": {"name": "api-files", "items": [
                        {"key": "app.yaml", "path": "/etc/app.yaml"},
                        {"key": "", "path": "../x", "mode": 1000}
                    ]}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": ""}}
                ],
                "containers": [{"name": "a", "image": "a:1"}],
                "priorityClassName": "High_Priority"
            }),
        );
        let got = messages(&d);
        assert_eq!(
            got[..5],
            [
                "the file path \"/etc/app.yaml\" of volume `files-0` must be relative and without '..' (it is a file under the mount)",
                "item 1 of volume `files-0` names no key of the ConfigMap",
                "the file path \"../x\" of volume `files-0` must be relative and without '..' (it is a file under the mount)",
                "file mode 1000 of volume `files-0` is outside 0-0777 (octal; 511 in decimal)",
                "volume `data` names no PersistentVolumeClaim",
            ]
        );
        assert!(
            got[5].starts_with("priority class name: \"High_Priority\""),
            "{}",
            got[5]
        );
        assert_eq!(got.len(), 6, "{got:#?}");
    }

    #[test]
    fn a_volume_named_like_a_claim_template_is_replaced() {
        let mut s = workload(
            "StatefulSet",
            json!({
                "volumes": [{"name": "data", "emptyDir": {}}],
                "containers": [{"name": "db", "image": "d:1", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]
            }),
        );
        s["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]);
        assert_eq!(
            messages(&s),
            vec!["volume `data` has the name of a volumeClaimTemplate: the StatefulSet controller replaces it with the claim, so this volume is never used"]
        );
    }
}
