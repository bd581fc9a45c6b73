//! What selects or scales what, in a complete set: the workload an autoscaler scales
//! (and the requests its utilisation targets divide by), the pods a Service or a
//! PodDisruptionBudget selects and the named ports a Service targets, the Service a
//! ServiceMonitor scrapes, and the headless Service that governs a StatefulSet.
//!
//! Pods are matched the way the controllers match them: a Service's named target
//! port is resolved in the regular containers, then in the native sidecars, with
//! the same protocol (`FindPort`, used by the EndpointSlice controller); an
//! autoscaler's utilisation is a percentage of the summed requests of the regular
//! containers and native sidecars (`calculatePodRequests` in the HPA controller),
//! and fails if one of them has no request. A StatefulSet's pods get their DNS names
//! (`<pod>.<serviceName>`) only from a headless Service (`clusterIP: None`) of that
//! name that selects them.

use serde_json::{Map, Value};

use super::{containers, pod_template, selector_matches};
use crate::rules;
use crate::validate::{
    arr_at, map_at, str_at, ContainerRole, FieldPath, Finding, SetIndex, Subject,
};

/// Whether a map selector (a Service's `spec.selector`) selects pods with `labels`.
fn map_selects(sel: &Map<String, Value>, labels: Option<&Map<String, Value>>) -> bool {
    !sel.is_empty()
        && sel
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The containers of a pod that run all along (regular containers and native
/// sidecars), with their paths.
pub(super) fn running_containers<'a>(
    path: &FieldPath,
    pod: &'a Value,
) -> Vec<(FieldPath, &'a Value)> {
    containers(path, pod, true)
        .into_iter()
        .filter(|(p, c)| {
            ContainerRole::of(c, p.as_str().contains("initContainers")) != ContainerRole::Init
        })
        .collect()
}

/// The ports the running containers of a pod declare.
pub(super) fn running_ports(pod: &Value) -> impl Iterator<Item = &Value> {
    running_containers(&FieldPath::root(), pod)
        .into_iter()
        .flat_map(|(_, c)| arr_at(c, "ports"))
}

/// A port's protocol (a container's or a Service's): TCP when unset, as the API
/// server defaults it.
pub(super) fn protocol_of(port: &Value) -> &str {
    str_at(port, "protocol").unwrap_or("TCP")
}

/// The pod specs of the workloads in `ns` whose pod labels the map selector `sel`
/// (a Service's) selects.
pub(super) fn selected_pods<'a>(
    set: &[Subject<'a>],
    index: &SetIndex,
    ns: &str,
    sel: &Map<String, Value>,
) -> Vec<&'a Value> {
    index
        .workloads(ns)
        .iter()
        .filter_map(|&w| pod_template(&set[w]))
        .filter(|(_, meta, _)| map_selects(sel, meta.and_then(|m| map_at(m, "labels"))))
        .map(|(_, _, pod)| pod)
        .collect()
}

/// The workload an autoscaler scales exists, and its containers request what the
/// autoscaler measures utilisation against.
pub(super) fn hpa_target(
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
        for (cp, c) in running_containers(&pp, pod) {
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
                            "the autoscaler targets {res} utilisation, but {} `{}` of {kind} `{name}` has no {res} request ({})",
                            if cp.as_str().contains("initContainers") { "sidecar" } else { "container" },
                            str_at(c, "name").unwrap_or(""),
                            cp.key("resources").key("requests")
                        ),
                    )
                    .also_in(t, &cp.key("resources").key("requests").key(res))
                    .key(format!("autoscaling.{res}"))
                    .help(format!("utilisation is a percentage of the pods' request, the sum over their containers and native sidecars (the controller gives up if one has none): set a {res} request on each, or target AverageValue instead")),
                ));
            }
        }
    }
}

/// Whether `holder` (a container, a Service's spec) has a port named `name` with
/// `protocol` (TCP when unset).
fn names_port(holder: &Value, name: &str, protocol: &str) -> bool {
    arr_at(holder, "ports")
        .iter()
        .any(|p| str_at(p, "name") == Some(name) && protocol_of(p) == protocol)
}

/// A Service selects pods of some workload in its namespace, and a named target
/// port is a port of those pods. In a set that is not `complete`, a Service that
/// selects none of its pods is not reported (they may be elsewhere).
pub(super) fn service_targets(
    set: &[Subject],
    index: &SetIndex,
    i: usize,
    s: &Subject,
    complete: bool,
    out: &mut Vec<(usize, Finding)>,
) {
    let ns = s.namespace().unwrap_or("");
    let Some(spec) = s.value.get("spec") else {
        return;
    };
    let Some(sel) = map_at(spec, "selector").filter(|m| !m.is_empty()) else {
        return;
    };
    let pods = selected_pods(set, index, ns, sel);
    let sp = FieldPath::root().key("spec");
    if pods.is_empty() && !complete {
        return;
    }
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
        let protocol = protocol_of(p);
        let declared = pods.iter().any(|pod| {
            running_containers(&FieldPath::root(), pod)
                .iter()
                .any(|(_, c)| names_port(c, name, protocol))
        });
        if declared {
            sidecar_only_port(s, &pods, name, protocol, &sp.key("ports").index(pi), i, out);
        } else {
            // The named ports the pods have, for a "did you mean".
            let named: Vec<&str> = pods
                .iter()
                .flat_map(|pod| running_containers(&FieldPath::root(), pod))
                .flat_map(|(_, c)| arr_at(c, "ports"))
                .filter(|p| protocol_of(p) == protocol)
                .filter_map(|p| str_at(p, "name"))
                .collect();
            let meant = crate::diagnostic::closest(name, named.iter().copied())
                .map(|m| format!(" (did you mean `{m}`?)"))
                .unwrap_or_default();
            out.push((
                i,
                Finding::error(
                    rules::PORTS,
                    &sp.key("ports").index(pi).key("targetPort"),
                    format!(
                        "target port `{name}` ({protocol}) is not a named {protocol} port of the containers or native sidecars of the pods the Service selects{meant}"
                    ),
                )
                .key("port"),
            ));
        }
    }
}

/// The first Kubernetes version whose endpoints controller finds a named target
/// port among the native sidecars (kubernetes/kubernetes#127976, `FindPort` in
/// pkg/api/v1/pod/util.go); before it only `containers` are searched.
const SIDECAR_NAMED_PORTS: (u32, u32) = (1, 32);

/// A Service's named target port that only native sidecars of the selected pods
/// declare: before Kubernetes 1.32 the Service gets no endpoint for it. An error on
/// a cluster kgen knows is older (an environment's `kubernetes_version`), a warning
/// where the version is unknown (`kgen validate PATH`); a number works everywhere.
fn sidecar_only_port(
    s: &Subject,
    pods: &[&Value],
    name: &str,
    protocol: &str,
    port: &FieldPath,
    i: usize,
    out: &mut Vec<(usize, Finding)>,
) {
    let in_containers = pods.iter().any(|pod| {
        arr_at(pod, "containers")
            .iter()
            .any(|c| names_port(c, name, protocol))
    });
    let version = s.env.map(|e| e.kubernetes_version);
    if in_containers || version.is_some_and(|v| v >= SIDECAR_NAMED_PORTS) {
        return;
    }
    let number = pods.iter().find_map(|pod| {
        running_containers(&FieldPath::root(), pod)
            .iter()
            .flat_map(|(_, c)| arr_at(c, "ports"))
            .find(|p| str_at(p, "name") == Some(name) && protocol_of(p) == protocol)
            .and_then(|p| p.get("containerPort"))
            .and_then(Value::as_i64)
    });
    let by_number = match number {
        Some(n) => format!("target the port by number (`targetPort: {n}`)"),
        None => "target the port by number".to_string(),
    };
    let field = port.key("targetPort");
    let finding = match (s.env, version) {
        (Some(env), Some((major, minor))) => Finding::error(
            rules::PORTS,
            &field,
            format!(
                "target port `{name}` is a port of native sidecars only: Services route to those from Kubernetes 1.32 on, and the cluster of environment `{}` runs {major}.{minor}",
                env.name
            ),
        )
        .help(format!(
            "{by_number}, or set the cluster's `kubernetes_version = \"1.32\"` once it runs 1.32"
        )),
        _ => Finding::warning(
            rules::PORTS,
            &field,
            format!(
                "target port `{name}` is a port of native sidecars only: Services route to those from Kubernetes 1.32 on, and on an older cluster this one gets no endpoint for it"
            ),
        )
        .help(format!("{by_number}, which every version routes")),
    };
    out.push((i, finding.key("port")));
}

/// A ServiceMonitor selects some Service, and scrapes a port that Service names.
pub(super) fn service_monitor_targets(
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
        let named = services.iter().any(|svc| {
            svc.value.get("spec").is_some_and(|sp| {
                arr_at(sp, "ports")
                    .iter()
                    .any(|p| str_at(p, "name") == Some(port))
            })
        });
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

/// A StatefulSet's `serviceName` names a headless Service of its namespace that
/// selects its pods: the Service that gives them their DNS names.
pub(super) fn governing_service(
    set: &[Subject],
    index: &SetIndex,
    i: usize,
    s: &Subject,
    out: &mut Vec<(usize, Finding)>,
) {
    let ns = s.namespace().unwrap_or("");
    let Some(name) = s
        .value
        .get("spec")
        .and_then(|sp| str_at(sp, "serviceName"))
        .filter(|n| !n.is_empty())
    else {
        return;
    };
    let at = FieldPath::root().key("spec").key("serviceName");
    let Some(svc) = index.get("Service", ns, name) else {
        out.push((
            i,
            Finding::error(
                rules::REFERENCES,
                &at,
                format!("the StatefulSet's serviceName is `{name}`, which is not a Service among the objects of namespace `{ns}`: its pods get no DNS names"),
            )
            .help("the governing Service is a headless Service (clusterIP: None) selecting the pods; kgen renders `<service>-headless`"),
        ));
        return;
    };
    let spec = set[svc].value.get("spec");
    if spec.and_then(|sp| str_at(sp, "clusterIP")) != Some("None") {
        out.push((
            i,
            Finding::error(
                rules::REFERENCES,
                &at,
                format!("the StatefulSet's serviceName `{name}` is not a headless Service (clusterIP: None): its pods get no DNS names of their own"),
            )
            .help("set clusterIP: None on the governing Service, or name the headless one"),
        ));
        return;
    }
    let labels = pod_template(s).and_then(|(_, meta, _)| meta.and_then(|m| map_at(m, "labels")));
    let selects = spec
        .and_then(|sp| map_at(sp, "selector"))
        .is_some_and(|sel| map_selects(sel, labels));
    if !selects {
        out.push((
            i,
            Finding::error(
                rules::REFERENCES,
                &at,
                format!("the headless Service `{name}` does not select the StatefulSet's pods: they get no DNS names"),
            ),
        ));
    }
}

/// A PodDisruptionBudget selects the pods of some workload of its namespace (one that
/// selects none protects nothing).
pub(super) fn budget_targets(
    set: &[Subject],
    index: &SetIndex,
    i: usize,
    s: &Subject,
    out: &mut Vec<(usize, Finding)>,
) {
    let ns = s.namespace().unwrap_or("");
    let Some(sel) = s.value.get("spec").and_then(|sp| sp.get("selector")) else {
        return;
    };
    let selects = index.workloads(ns).iter().any(|&w| {
        pod_template(&set[w]).is_some_and(|(_, meta, _)| {
            selector_matches(sel, meta.and_then(|m| map_at(m, "labels")))
        })
    });
    if !selects {
        out.push((
            i,
            Finding::error(
                rules::REFERENCES,
                &FieldPath::root().key("spec").key("selector"),
                format!("the PodDisruptionBudget selects no pods: no workload in namespace `{ns}` has the labels of its selector, so it protects nothing"),
            )
            .key("disruption_budget"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_set;
    use super::super::testing::*;
    use crate::validate::{SetIndex, Subject};
    use serde_json::{json, Value};

    /// The findings between the objects `values` (a complete set): (object, message).
    fn between(values: &[Value]) -> Vec<(usize, String)> {
        let set: Vec<Subject> = values.iter().map(Subject::bare).collect();
        let index = SetIndex::new(&set);
        check_set(&set, &index, true)
            .into_iter()
            .map(|(i, f)| (i, f.message))
            .collect()
    }

    fn service(name: &str, spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "x"}, "spec": spec})
    }

    fn statefulset() -> Value {
        let mut s = workload(
            "StatefulSet",
            json!({"containers": [{"name": "db", "image": "d:1", "ports": [{"name": "sql", "containerPort": 5432}]}]}),
        );
        s["spec"]["serviceName"] = json!("x-headless");
        s
    }

    #[test]
    fn a_statefulset_is_governed_by_a_headless_service_that_selects_it() {
        let headless = |selector: Value| {
            service(
                "x-headless",
                json!({"clusterIP": "None", "selector": selector, "ports": [{"port": 5432, "targetPort": "sql"}]}),
            )
        };
        assert_eq!(
            between(&[statefulset(), headless(json!({"app": "x"}))]),
            vec![]
        );
        assert_eq!(
            between(&[statefulset()]),
            vec![(0, "the StatefulSet's serviceName is `x-headless`, which is not a Service among the objects of namespace `x`: its pods get no DNS names".to_string())]
        );
        let plain = service(
            "x-headless",
            json!({"selector": {"app": "x"}, "ports": [{"port": 5432, "targetPort": "sql"}]}),
        );
        assert_eq!(
            between(&[statefulset(), plain]),
            vec![(0, "the StatefulSet's serviceName `x-headless` is not a headless Service (clusterIP: None): its pods get no DNS names of their own".to_string())]
        );
        assert_eq!(
            between(&[statefulset(), headless(json!({"app": "y"}))]),
            vec![
                (0, "the headless Service `x-headless` does not select the StatefulSet's pods: they get no DNS names".to_string()),
                (1, "the Service selects no pods: no workload in namespace `x` has all of its selector's labels".to_string()),
            ]
        );
    }

    #[test]
    fn an_autoscaler_divides_by_the_requests_of_containers_and_sidecars() {
        let mut sts = statefulset();
        sts["spec"]["template"]["spec"]["containers"][0]["resources"] =
            json!({"requests": {"cpu": "1"}});
        sts["spec"]["template"]["spec"]["initContainers"] = json!([
            {"name": "proxy", "image": "p:1", "restartPolicy": "Always"},
            {"name": "init", "image": "i:1"}
        ]);
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x", "namespace": "x"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "x"}, "minReplicas": 2, "maxReplicas": 4,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}});
        let headless = service(
            "x-headless",
            json!({"clusterIP": "None", "selector": {"app": "x"}}),
        );
        assert_eq!(
            between(&[sts.clone(), headless.clone(), hpa.clone()]),
            vec![(2, "the autoscaler targets cpu utilisation, but sidecar `proxy` of StatefulSet `x` has no cpu request (spec.template.spec.initContainers[0].resources.requests)".to_string())]
        );
        sts["spec"]["template"]["spec"]["initContainers"][0]["resources"] =
            json!({"requests": {"cpu": "100m"}});
        assert_eq!(between(&[sts, headless, hpa]), vec![]);
    }

    #[test]
    fn a_service_may_target_a_sidecar_port_of_the_same_protocol() {
        let mut d = workload(
            "Deployment",
            json!({"containers": [{"name": "x", "image": "x:1"}]}),
        );
        d["spec"]["template"]["spec"]["initContainers"] = json!([
            {"name": "proxy", "image": "p:1", "restartPolicy": "Always",
             "ports": [{"name": "admin", "containerPort": 9901}, {"name": "dns", "containerPort": 53, "protocol": "UDP"}]},
            {"name": "init", "image": "i:1", "ports": [{"name": "setup", "containerPort": 8000}]}
        ]);
        let svc = service(
            "x",
            json!({"selector": {"app": "x"}, "ports": [
                {"name": "admin", "port": 9901, "targetPort": "admin"},
                {"name": "dns", "port": 53, "targetPort": "dns"},
                {"name": "setup", "port": 8000, "targetPort": "setup"}
            ]}),
        );
        assert_eq!(
            between(&[d, svc]),
            vec![
                // The cluster's version is unknown here (`kgen validate PATH`).
                (1, "target port `admin` is a port of native sidecars only: Services route to those from Kubernetes 1.32 on, and on an older cluster this one gets no endpoint for it".to_string()),
                (1, "target port `dns` (TCP) is not a named TCP port of the containers or native sidecars of the pods the Service selects".to_string()),
                (1, "target port `setup` (TCP) is not a named TCP port of the containers or native sidecars of the pods the Service selects".to_string()),
            ]
        );
    }

    #[test]
    fn a_disruption_budget_selects_some_pods() {
        let d = workload(
            "Deployment",
            json!({"containers": [{"name": "x", "image": "x:1"}]}),
        );
        let pdb = |app: &str| {
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "x", "namespace": "x"},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": app}}}})
        };
        assert_eq!(between(&[d.clone(), pdb("x")]), vec![]);
        assert_eq!(
            between(&[d, pdb("y")]),
            vec![(1, "the PodDisruptionBudget selects no pods: no workload in namespace `x` has the labels of its selector, so it protects nothing".to_string())]
        );
    }
}
