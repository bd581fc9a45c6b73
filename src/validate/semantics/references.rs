//! Checks between the objects of one set: the same object defined twice, a Service
//! port listed twice (judged with the pods it selects: `pod_ports`), and, when the set
//! is complete (a compiled environment), references that lead nowhere: the
//! ServiceAccount, ConfigMaps (and the keys a volume maps), SecretProviderClass and
//! PersistentVolumeClaims a pod uses; then what selects or scales what (`targets`).
//!
//! A ConfigMap key a volume maps that the ConfigMap lacks, or a claim that does not
//! exist, leaves the pod unable to start (the kubelet's `configmap references
//! non-existent config key`, a pod Pending on its claim), so both are errors.

use serde_json::Value;

use super::{containers, pod_ports, pod_template, targets};
use crate::rules;
use crate::validate::{arr_at, map_at, str_at, FieldPath, Finding, SetIndex, Subject};

/// Findings between the objects of one set (see the module documentation).
pub fn check_set(set: &[Subject], index: &SetIndex, complete: bool) -> Vec<(usize, Finding)> {
    let mut out = Vec::new();
    for &(i, first) in &index.duplicates {
        let s = &set[i];
        if set[first].group() != s.group() {
            continue;
        }
        let ns = s.namespace().unwrap_or("");
        let where_ = if ns.is_empty() {
            String::new()
        } else {
            format!(" in namespace `{ns}`")
        };
        out.push((
            i,
            Finding::error(
                rules::DUPLICATE_OBJECT,
                &FieldPath::root().key("metadata").key("name"),
                format!(
                    "{} `{}`{where_} is defined more than once: the last one applied wins",
                    s.kind(),
                    s.name()
                ),
            ),
        ));
    }
    for (i, s) in set.iter().enumerate() {
        if (s.group(), s.kind()) == ("", "Service") {
            pod_ports::service_ports_twice(set, index, i, s, &mut out);
            // In a set that is not complete (`kgen validate PATH`), the pods it selects
            // may be elsewhere; the ones it holds must still have the named ports,
            // or they are no endpoints of it.
            if !complete {
                targets::service_targets(set, index, i, s, false, &mut out);
            }
        }
    }
    if complete {
        references(set, index, &mut out);
    }
    out
}

/// The keys a ConfigMap volume maps (`items`) are keys of the ConfigMap (`data` or
/// `binaryData`): the kubelet refuses to set up the volume otherwise.
fn config_map_items(
    vp: &FieldPath,
    v: &Value,
    cm: &Value,
    name: &str,
    config_map: &Value,
    i: usize,
    out: &mut Vec<(usize, Finding)>,
) {
    let has_key = |k: &str| {
        ["data", "binaryData"]
            .iter()
            .any(|section| map_at(config_map, section).is_some_and(|m| m.contains_key(k)))
    };
    let volume = str_at(v, "name").unwrap_or("");
    for (j, item) in arr_at(cm, "items").iter().enumerate() {
        let Some(key) = str_at(item, "key").filter(|k| !k.is_empty()) else {
            continue;
        };
        if !has_key(key) {
            out.push((
                i,
                Finding::error(
                    rules::REFERENCES,
                    &vp.key("configMap").key("items").index(j).key("key"),
                    format!("volume `{volume}` maps the key `{key}` of ConfigMap `{name}`, which has no such key: the kubelet cannot set up the volume and the pods never start"),
                ),
            ));
        }
    }
}

/// References between the objects of a complete set.
fn references(set: &[Subject], index: &SetIndex, out: &mut Vec<(usize, Finding)>) {
    let has = |kind: &str, ns: &str, name: &str| index.get(kind, ns, name).is_some();
    let missing = |what: &str, kind: &str, name: &str, ns: &str| {
        format!("{what} {kind} `{name}`, which is not among the objects of namespace `{ns}`")
    };
    let not_optional = |r: &&Value| r.get("optional") != Some(&Value::Bool(true));
    for (i, s) in set.iter().enumerate() {
        let ns = s.namespace().unwrap_or("");
        if let Some((pp, _, pod)) = pod_template(s) {
            if let Some(sa) = str_at(pod, "serviceAccountName").filter(|sa| *sa != "default") {
                if !has("ServiceAccount", ns, sa) {
                    out.push((
                        i,
                        Finding::error(
                            rules::REFERENCES,
                            &pp.key("serviceAccountName"),
                            missing("the pods run as", "ServiceAccount", sa, ns),
                        ),
                    ));
                }
            }
            for (vi, v) in arr_at(pod, "volumes").iter().enumerate() {
                let vp = pp.key("volumes").index(vi);
                if let Some(cm) = v.get("configMap").filter(not_optional) {
                    if let Some(name) = str_at(cm, "name") {
                        match index.get("ConfigMap", ns, name) {
                            None => out.push((
                                i,
                                Finding::error(
                                    rules::REFERENCES,
                                    &vp.key("configMap").key("name"),
                                    missing("volume mounts", "ConfigMap", name, ns),
                                ),
                            )),
                            Some(o) => {
                                config_map_items(&vp, v, cm, name, set[o].value, i, out);
                            }
                        }
                    }
                }
                if let Some(claim) = v
                    .get("persistentVolumeClaim")
                    .and_then(|c| str_at(c, "claimName"))
                    .filter(|n| !n.is_empty() && !has("PersistentVolumeClaim", ns, n))
                {
                    out.push((
                        i,
                        Finding::error(
                            rules::REFERENCES,
                            &vp.key("persistentVolumeClaim").key("claimName"),
                            missing("volume mounts", "PersistentVolumeClaim", claim, ns),
                        )
                        .help("the pods stay Pending until the claim exists; kgen renders a claim for each `claim` volume of a `deployment` or `worker`"),
                    ));
                }
                let csi = v
                    .get("csi")
                    .filter(|c| str_at(c, "driver") == Some("secrets-store.csi.k8s.io"));
                let spc = csi
                    .and_then(|c| c.get("volumeAttributes"))
                    .and_then(|a| str_at(a, "secretProviderClass"));
                if let Some(name) = spc.filter(|n| !has("SecretProviderClass", ns, n)) {
                    out.push((
                        i,
                        Finding::error(
                            rules::REFERENCES,
                            &vp.key("csi")
                                .key("volumeAttributes")
                                .key("secretProviderClass"),
                            missing("volume mounts", "SecretProviderClass", name, ns),
                        )
                        .key("secrets"),
                    ));
                }
            }
            for (cp, c) in containers(&pp, pod, true) {
                for (ei, e) in arr_at(c, "envFrom").iter().enumerate() {
                    let cm = e.get("configMapRef").filter(not_optional);
                    if let Some(name) = cm
                        .and_then(|r| str_at(r, "name"))
                        .filter(|n| !has("ConfigMap", ns, n))
                    {
                        out.push((
                            i,
                            Finding::error(
                                rules::REFERENCES,
                                &cp.key("envFrom").index(ei).key("configMapRef").key("name"),
                                missing("the container loads", "ConfigMap", name, ns),
                            ),
                        ));
                    }
                }
            }
        }
        match (s.group(), s.kind()) {
            ("autoscaling", "HorizontalPodAutoscaler") => {
                targets::hpa_target(set, index, i, s, out);
            }
            ("", "Service") => targets::service_targets(set, index, i, s, true, out),
            ("monitoring.coreos.com", "ServiceMonitor") => {
                targets::service_monitor_targets(set, index, i, s, out);
            }
            ("apps", "StatefulSet") => targets::governing_service(set, index, i, s, out),
            ("policy", "PodDisruptionBudget") => targets::budget_targets(set, index, i, s, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicates_and_references() {
        let d = deployment();
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "api"},
            "spec": {"selector": {"app": "nope"}, "ports": [{"port": 80, "targetPort": "http"}]}});
        let values = [d.clone(), d, svc];
        let set: Vec<Subject> = values.iter().map(Subject::bare).collect();
        let index = SetIndex::new(&set);
        let got: Vec<(usize, String)> = check_set(&set, &index, true)
            .into_iter()
            .map(|(i, f)| (i, f.message))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "Deployment `api` in namespace `api` is defined more than once: the last one applied wins".to_string()),
                (2, "the Service selects no pods: no workload in namespace `api` has all of its selector's labels".to_string()),
            ]
        );
        assert_eq!(check_set(&set, &index, false).len(), 1);
    }

    /// The findings between the objects `values` (a complete set): (object, message).
    fn between(values: &[Value]) -> Vec<(usize, String)> {
        let set: Vec<Subject> = values.iter().map(Subject::bare).collect();
        let index = SetIndex::new(&set);
        check_set(&set, &index, true)
            .into_iter()
            .map(|(i, f)| (i, f.message))
            .collect()
    }

    fn in_ns(mut v: Value) -> Value {
        v["metadata"]["namespace"] = json!("x");
        v
    }

    #[test]
    fn config_map_keys_and_claims_a_pod_mounts() {
        let d = workload(
            "Deployment",
            json!({
                "volumes": [
                    {"name": "files-0", "configMap": {"name": "x-files", "items": [
                        {"key": "app.yaml", "path": "app.yaml"}, {"key": "log.yaml", "path": "log.yaml"}]}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": "x-data"}},
                    {"name": "opt", "configMap": {"name": "x-other", "optional": true, "items": [{"key": "k", "path": "k"}]}}
                ],
                "containers": [{"name": "x", "image": "x:1"}]
            }),
        );
        let cm = in_ns(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x-files"}, "data": {"app.yaml": "a: 1"}}),
        );
        assert_eq!(
            between(&[d.clone(), cm.clone()]),
            vec![
                (0, "volume `files-0` maps the key `log.yaml` of ConfigMap `x-files`, which has no such key: the kubelet cannot set up the volume and the pods never start".to_string()),
                (0, "volume mounts PersistentVolumeClaim `x-data`, which is not among the objects of namespace `x`".to_string()),
            ]
        );
        let pvc = in_ns(
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "x-data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        );
        let mut cm = cm;
        cm["binaryData"] = json!({"log.yaml": "YQ=="});
        assert_eq!(between(&[d, cm, pvc]), vec![]);
    }
}
