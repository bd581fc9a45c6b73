//! Checks between the objects of one set: the same object defined twice, and, when
//! the set is complete (a compiled environment), references that lead nowhere.

use serde_json::{Map, Value};

use super::{containers, pod_template, selector_matches};
use crate::rules;
use crate::validate::{arr_at, map_at, str_at, FieldPath, Finding, SetIndex, Subject};

/// Whether a map selector (a Service's `spec.selector`) selects pods with `labels`.
fn map_selects(sel: &Map<String, Value>, labels: Option<&Map<String, Value>>) -> bool {
    !sel.is_empty()
        && sel
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

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
    if complete {
        references(set, index, &mut out);
    }
    out
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
                    if let Some(name) = str_at(cm, "name").filter(|n| !has("ConfigMap", ns, n)) {
                        out.push((
                            i,
                            Finding::error(
                                rules::REFERENCES,
                                &vp.key("configMap").key("name"),
                                missing("volume mounts", "ConfigMap", name, ns),
                            ),
                        ));
                    }
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
            ("autoscaling", "HorizontalPodAutoscaler") => hpa_target(set, index, i, s, out),
            ("", "Service") => service_targets(set, index, i, s, out),
            ("monitoring.coreos.com", "ServiceMonitor") => {
                service_monitor_targets(set, index, i, s, out);
            }
            _ => {}
        }
    }
}

/// The workload an autoscaler scales exists, and its containers request what the
/// autoscaler measures utilisation against.
fn hpa_target(
    set: &[Subject],
    index: &SetIndex,
    i: usize,
    s: &Subject,
    out: &mut Vec<(usize, Finding)>,
) {
    let ns = s.namespace().unwrap_or("");
    let spec = s.value.get("spec");
    let Some(target) = spec.and_then(|sp| sp.get("scaleTargetRef")) else {
        return;
    };
    let (Some(kind), Some(name)) = (str_at(target, "kind"), str_at(target, "name")) else {
        return;
    };
    let tp = FieldPath::root().key("spec").key("scaleTargetRef");
    let Some(t) = index.get(kind, ns, name) else {
        out.push((
            i,
            Finding::error(
                rules::REFERENCES,
                &tp.key("name"),
                format!("the autoscaler scales {kind} `{name}`, which is not among the objects of namespace `{ns}`"),
            ),
        ));
        return;
    };
    let Some((pp, _, pod)) = pod_template(&set[t]) else {
        return;
    };
    for (mi, m) in arr_at(spec.unwrap_or(&Value::Null), "metrics")
        .iter()
        .enumerate()
    {
        let Some(r) = m.get("resource") else {
            continue;
        };
        if r.get("target").and_then(|t| str_at(t, "type")) != Some("Utilization") {
            continue;
        }
        let res = str_at(r, "name").unwrap_or("");
        for (cp, c) in containers(&pp, pod, false) {
            let requested = c
                .get("resources")
                .and_then(|r| r.get("requests"))
                .and_then(|r| r.get(res))
                .is_some();
            if !requested {
                out.push((
                    i,
                    Finding::error(
                        rules::AUTOSCALER,
                        &FieldPath::root().key("spec").key("metrics").index(mi),
                        format!(
                            "the autoscaler targets {res} utilisation, but container `{}` of {kind} `{name}` has no {res} request ({})",
                            str_at(c, "name").unwrap_or(""),
                            cp.key("resources").key("requests")
                        ),
                    )
                    .key(format!("autoscaling.{res}"))
                    .help(format!("utilisation is a percentage of the request: set a {res} request, or target AverageValue instead")),
                ));
            }
        }
    }
}

/// Whether `holder` (a container, a Service's spec) has a port named `name`.
fn names_port(holder: &Value, name: &str) -> bool {
    arr_at(holder, "ports")
        .iter()
        .any(|p| str_at(p, "name") == Some(name))
}

/// A Service selects pods of some workload in its namespace, and a named target
/// port is a port of those pods.
fn service_targets(
    set: &[Subject],
    index: &SetIndex,
    i: usize,
    s: &Subject,
    out: &mut Vec<(usize, Finding)>,
) {
    let ns = s.namespace().unwrap_or("");
    let Some(spec) = s.value.get("spec") else {
        return;
    };
    let Some(sel) = map_at(spec, "selector").filter(|m| !m.is_empty()) else {
        return;
    };
    let pods: Vec<&Value> = index
        .workloads(ns)
        .iter()
        .filter_map(|&w| pod_template(&set[w]))
        .filter(|(_, meta, _)| map_selects(sel, meta.and_then(|m| map_at(m, "labels"))))
        .map(|(_, _, pod)| pod)
        .collect();
    let sp = FieldPath::root().key("spec");
    if pods.is_empty() {
        out.push((
            i,
            Finding::error(
                rules::REFERENCES,
                &sp.key("selector"),
                format!("the Service selects no pods: no workload in namespace `{ns}` has all of its selector's labels"),
            ),
        ));
        return;
    }
    for (pi, p) in arr_at(spec, "ports").iter().enumerate() {
        let Some(name) = str_at(p, "targetPort") else {
            continue;
        };
        let declared = pods.iter().any(|pod| {
            containers(&FieldPath::root(), pod, false)
                .iter()
                .any(|(_, c)| names_port(c, name))
        });
        if !declared {
            out.push((
                i,
                Finding::error(
                    rules::PORTS,
                    &sp.key("ports").index(pi).key("targetPort"),
                    format!(
                        "target port `{name}` is not a named port of the pods the Service selects"
                    ),
                )
                .key("port"),
            ));
        }
    }
}

/// A ServiceMonitor selects some Service, and scrapes a port that Service names.
fn service_monitor_targets(
    set: &[Subject],
    index: &SetIndex,
    i: usize,
    s: &Subject,
    out: &mut Vec<(usize, Finding)>,
) {
    let Some(spec) = s.value.get("spec") else {
        return;
    };
    let Some(sel) = spec.get("selector") else {
        return;
    };
    let ns_sel = spec.get("namespaceSelector");
    let any = ns_sel.and_then(|n| n.get("any")).and_then(Value::as_bool) == Some(true);
    let names: Vec<&str> = ns_sel
        .map(|n| {
            arr_at(n, "matchNames")
                .iter()
                .filter_map(Value::as_str)
                .collect()
        })
        .unwrap_or_default();
    let candidates: Vec<usize> = if any {
        index.services.values().flatten().copied().collect()
    } else if names.is_empty() {
        index.services(s.namespace().unwrap_or("")).to_vec()
    } else {
        names
            .iter()
            .flat_map(|n| index.services(n).iter().copied())
            .collect()
    };
    let services: Vec<&Subject> = candidates
        .iter()
        .map(|&c| &set[c])
        .filter(|o| {
            selector_matches(
                sel,
                o.value.get("metadata").and_then(|m| map_at(m, "labels")),
            )
        })
        .collect();
    let sp = FieldPath::root().key("spec");
    if services.is_empty() {
        out.push((
            i,
            Finding::error(
                rules::REFERENCES,
                &sp.key("selector"),
                "the ServiceMonitor selects no Service: Prometheus would scrape nothing",
            )
            .key("metrics"),
        ));
        return;
    }
    for (ei, e) in arr_at(spec, "endpoints").iter().enumerate() {
        let Some(port) = str_at(e, "port") else {
            continue;
        };
        let named = services
            .iter()
            .any(|svc| svc.value.get("spec").is_some_and(|sp| names_port(sp, port)));
        if !named {
            out.push((
                i,
                Finding::error(
                    rules::REFERENCES,
                    &sp.key("endpoints").index(ei).key("port"),
                    format!("endpoint port `{port}` is not a port name of the selected Service"),
                )
                .key("metrics"),
            ));
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
}
