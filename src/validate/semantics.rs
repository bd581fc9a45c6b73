//! Semantic checks: what the API server, a controller or the CSI driver enforces
//! that a JSON Schema cannot say.
//!
//! Per object: name rules and length limits per kind (a Service name is a DNS-1035
//! label, a CronJob name at most 52 characters), label and annotation syntax,
//! selectors that match their pod template, container and Service ports, probes,
//! resource quantities and requests ≤ limits, environment variable and ConfigMap
//! keys, volumes and mount paths, autoscaler bounds and targets, disruption budgets,
//! Ingress paths, and the AWS provider's `objects` parameter of a
//! SecretProviderClass (parsed as the provider parses it).
//!
//! Per set of objects ([`check_set`]): the same object defined twice, and, when the
//! set is everything that will be applied (a compiled environment), references that
//! lead nowhere: a ServiceAccount, ConfigMap or SecretProviderClass a pod uses, the
//! Deployment an autoscaler scales, the pods a Service selects, the Service a
//! ServiceMonitor scrapes.
//!
//! Many of these are checked on the input already (`resolve`, codes KG0xx); they
//! are checked again on the objects, so that a renderer bug or a hand-written file
//! is caught too.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{arr_at, int_at, map_at, scalar_text, str_at, FieldPath, Finding, SetIndex, Subject};
use crate::quantity::{self, Quantity};
use crate::{names, rules};

/// The API server's limit on the total size of annotations (256 KiB).
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;
/// The API server's limit on the data of a ConfigMap or Secret (1 MiB).
pub const MAX_DATA_BYTES: usize = 1024 * 1024;

/// Findings about one object on its own.
pub fn check(s: &Subject) -> Vec<Finding> {
    let mut c = Checker { s, out: Vec::new() };
    let root = FieldPath::root();
    c.metadata(&root.key("metadata"), s.value.get("metadata"), true);
    let spec_path = root.key("spec");
    let spec = s.value.get("spec");
    match (s.group(), s.kind()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            c.workload(&spec_path, spec, Restart::Always);
        }
        ("batch", "Job") => c.workload(&spec_path, spec, Restart::Job),
        ("batch", "CronJob") => {
            if let Some(spec) = spec {
                if str_at(spec, "schedule").is_some_and(|s| s.trim().is_empty()) {
                    c.push(Finding::error(
                        rules::FIELD_VALUE,
                        &spec_path.key("schedule"),
                        "the CronJob's schedule is empty",
                    ));
                }
                let job = spec_path.key("jobTemplate").key("spec");
                c.workload(
                    &job,
                    spec.get("jobTemplate").and_then(|t| t.get("spec")),
                    Restart::Job,
                );
            }
        }
        ("", "Pod") => c.pod_spec(&spec_path, spec, Restart::Any, &[]),
        ("", "Service") => c.service(&spec_path, spec),
        ("", "ConfigMap") => c.data("ConfigMap", &["data", "binaryData"]),
        ("", "Secret") => c.data("Secret", &["data", "stringData"]),
        ("autoscaling", "HorizontalPodAutoscaler") if s.api_version() == "autoscaling/v2" => {
            c.hpa(&spec_path, spec);
        }
        ("policy", "PodDisruptionBudget") => c.pdb(&spec_path, spec),
        ("networking.k8s.io", "Ingress") => c.ingress(&spec_path, spec),
        ("networking.k8s.io", "NetworkPolicy") => c.network_policy(&spec_path, spec),
        ("secrets-store.csi.x-k8s.io", "SecretProviderClass") => {
            c.secret_provider_class(&spec_path, spec);
        }
        _ => {}
    }
    c.out
}

/// The restart policies a pod template may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Restart {
    /// Deployments, StatefulSets, DaemonSets, ReplicaSets: `Always` only.
    Always,
    /// Jobs: `OnFailure` or `Never`, and it must be set.
    Job,
    /// Bare pods: any of the three.
    Any,
}

struct Checker<'s, 'a> {
    s: &'s Subject<'a>,
    out: Vec<Finding>,
}

impl Checker<'_, '_> {
    fn push(&mut self, f: Finding) {
        self.out.push(f);
    }

    fn kind(&self) -> &str {
        self.s.kind()
    }

    // -- metadata -----------------------------------------------------------

    fn metadata(&mut self, path: &FieldPath, meta: Option<&Value>, top: bool) {
        let Some(meta) = meta else {
            return;
        };
        if top {
            if let Some(name) = str_at(meta, "name") {
                self.object_name(&path.key("name"), name);
            }
            if let Some(ns) = str_at(meta, "namespace") {
                if let Err(e) = names::check_dns1123_label(ns) {
                    self.push(
                        Finding::error(
                            rules::OBJECT_NAME,
                            &path.key("namespace"),
                            format!("namespace: {e}"),
                        )
                        .key("namespace"),
                    );
                }
            }
        }
        if let Some(labels) = map_at(meta, "labels") {
            let lp = path.key("labels");
            for (k, v) in labels {
                let fp = || lp.key(k);
                if let Err(e) = names::check_label_key(k) {
                    self.push(Finding::error(rules::METADATA, &fp(), e));
                } else if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                    self.push(
                        Finding::error(rules::METADATA, &fp(), format!("label `{k}`: {e}"))
                            .help("label values are at most 63 characters; keep long or free-form text in annotations"),
                    );
                }
            }
        }
        if let Some(annotations) = map_at(meta, "annotations") {
            let ap = || path.key("annotations");
            let mut size = 0;
            for (k, v) in annotations {
                size += k.len() + v.as_str().map_or(0, str::len);
                if let Err(e) = names::check_label_key(k) {
                    let e = e.replace("is not a valid label key", "is not a valid annotation key");
                    self.push(Finding::error(rules::METADATA, &ap().key(k), e));
                }
            }
            if size > MAX_ANNOTATIONS_BYTES {
                self.push(Finding::error(
                    rules::METADATA,
                    &ap(),
                    format!("the annotations hold {size} bytes; the API server refuses more than {MAX_ANNOTATIONS_BYTES} (256 KiB)"),
                ));
            }
        }
    }

    /// Name rules per kind.
    fn object_name(&mut self, path: &FieldPath, name: &str) {
        let kind = self.kind().to_string();
        let result = match kind.as_str() {
            "Namespace" => names::check_dns1123_label(name),
            "Service" => check_dns1035_label(name),
            "CronJob" => names::check_dns1123_subdomain(name).and_then(|()| {
                max_len(
                    name,
                    52,
                    "a CronJob name",
                    "its Jobs' names add an 11-character suffix",
                )
            }),
            "Job" => names::check_dns1123_subdomain(name).and_then(|()| {
                max_len(
                    name,
                    63,
                    "a Job name",
                    "it becomes the value of the `job-name` label",
                )
            }),
            _ => names::check_dns1123_subdomain(name),
        };
        if let Err(e) = result {
            let mut f = Finding::error(rules::OBJECT_NAME, path, format!("{kind} name: {e}"));
            if kind == "Service" {
                f = f.help("a Service name becomes a DNS name: rename the service so that it starts with a letter");
            }
            self.push(f);
        }
    }

    // -- workloads and pods -------------------------------------------------

    fn workload(&mut self, path: &FieldPath, spec: Option<&Value>, restart: Restart) {
        let Some(spec) = spec else {
            return;
        };
        if let Some(r) = int_at(spec, "replicas") {
            if r < 0 {
                self.push(
                    Finding::error(
                        rules::FIELD_VALUE,
                        &path.key("replicas"),
                        format!("replicas {r} is negative"),
                    )
                    .key("replicas"),
                );
            }
        }
        self.deployment_strategy(path, spec);
        let tpath = path.key("template");
        let template = spec.get("template");
        let tmeta = template.and_then(|t| t.get("metadata"));
        self.metadata(&tpath.key("metadata"), tmeta, false);
        let labels = tmeta.and_then(|m| map_at(m, "labels"));
        if let Some(sel) = spec.get("selector") {
            self.label_selector(&path.key("selector"), sel, true);
            if !selector_matches(sel, labels) {
                self.push(
                    Finding::error(
                        rules::SELECTOR,
                        &path.key("selector"),
                        "the selector does not match the pod template's labels",
                    )
                    .help("every `matchLabels` entry must also be in spec.template.metadata.labels (and a Deployment's selector cannot change after it is created)"),
                );
            }
        }
        // A StatefulSet's pods also mount their volume claim templates, by name.
        let claims: Vec<String> = arr_at(spec, "volumeClaimTemplates")
            .iter()
            .filter_map(|c| c.get("metadata").and_then(|m| str_at(m, "name")))
            .map(str::to_string)
            .collect();
        self.pod_spec(
            &tpath.key("spec"),
            template.and_then(|t| t.get("spec")),
            restart,
            &claims,
        );
    }

    fn deployment_strategy(&mut self, path: &FieldPath, spec: &Value) {
        if self.kind() != "Deployment" {
            return;
        }
        if let (Some(deadline), min_ready) = (
            int_at(spec, "progressDeadlineSeconds"),
            int_at(spec, "minReadySeconds").unwrap_or(0),
        ) {
            if deadline <= min_ready {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("progressDeadlineSeconds"),
                    format!("progressDeadlineSeconds {deadline} must be greater than minReadySeconds {min_ready}"),
                ));
            }
        }
        let Some(ru) = spec.get("strategy").and_then(|s| s.get("rollingUpdate")) else {
            return;
        };
        let zero = |v: Option<&Value>| match v {
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s == "0%" || s == "0",
            _ => false,
        };
        let rp = path.key("strategy").key("rollingUpdate");
        for field in ["maxSurge", "maxUnavailable"] {
            if let Some(v) = ru.get(field) {
                if let Err(e) = int_or_percent(v) {
                    self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &rp.key(field),
                        format!("{field}: {e}"),
                    ));
                }
            }
        }
        if zero(ru.get("maxSurge")) && zero(ru.get("maxUnavailable")) {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &rp.key("maxUnavailable"),
                "maxSurge and maxUnavailable are both 0: a rolling update could never make progress",
            ));
        }
    }

    fn label_selector(&mut self, path: &FieldPath, sel: &Value, required: bool) {
        let labels = map_at(sel, "matchLabels");
        let exprs = arr_at(sel, "matchExpressions");
        if required && labels.is_none_or(Map::is_empty) && exprs.is_empty() {
            self.push(Finding::error(
                rules::SELECTOR,
                path,
                "the selector is empty: it would select every pod in the namespace",
            ));
        }
        for (k, v) in labels.into_iter().flatten() {
            let fp = || path.key("matchLabels").key(k);
            if let Err(e) = names::check_label_key(k) {
                self.push(Finding::error(rules::SELECTOR, &fp(), e));
            } else if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                self.push(Finding::error(rules::SELECTOR, &fp(), e));
            }
        }
        for (i, e) in exprs.iter().enumerate() {
            let ep = || path.key("matchExpressions").index(i);
            let op = str_at(e, "operator").unwrap_or("");
            let values = arr_at(e, "values");
            let problem = match op {
                "In" | "NotIn" if values.is_empty() => {
                    Some(format!("operator {op} needs at least one value"))
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    Some(format!("operator {op} takes no values"))
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" => None,
                other => Some(format!(
                    "unsupported operator {other:?}: use In, NotIn, Exists or DoesNotExist"
                )),
            };
            if let Some(p) = problem {
                self.push(Finding::error(rules::SELECTOR, &ep(), p));
            }
        }
    }

    fn pod_spec(
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

    fn container(
        &mut self,
        path: &FieldPath,
        c: &Value,
        volumes: &BTreeSet<String>,
        seen: &mut BTreeSet<String>,
    ) {
        let name = str_at(c, "name").unwrap_or("").to_string();
        if !name.is_empty() {
            if let Err(e) = names::check_dns1123_label(&name) {
                self.push(Finding::error(
                    rules::OBJECT_NAME,
                    &path.key("name"),
                    format!("container name: {e}"),
                ));
            }
            if !seen.insert(name.clone()) {
                self.push(Finding::error(
                    rules::OBJECT_NAME,
                    &path.key("name"),
                    format!("container name `{name}` is used twice in the pod"),
                ));
            }
        }
        if str_at(c, "image").is_none_or(|i| i.trim().is_empty()) {
            self.push(
                Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("image"),
                    format!("container `{name}` has no image"),
                )
                .key("image"),
            );
        }

        // Ports.
        let mut port_names: BTreeSet<String> = BTreeSet::new();
        for (i, p) in arr_at(c, "ports").iter().enumerate() {
            let pp = || path.key("ports").index(i);
            if let Some(n) = int_at(p, "containerPort") {
                if !(1..=65535).contains(&n) {
                    self.push(
                        Finding::error(
                            rules::PORTS,
                            &pp().key("containerPort"),
                            format!("container port {n} is out of range 1-65535"),
                        )
                        .key("port"),
                    );
                }
            }
            if let Some(n) = int_at(p, "hostPort") {
                if !(0..=65535).contains(&n) {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("hostPort"),
                        format!("host port {n} is out of range 1-65535"),
                    ));
                }
            }
            self.protocol(pp, p);
            if let Some(n) = str_at(p, "name") {
                if let Err(e) = names::check_port_name(n) {
                    self.push(Finding::error(rules::PORTS, &pp().key("name"), e).key("port"));
                } else if !port_names.insert(n.to_string()) {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("name"),
                        format!("port name `{n}` is used twice in container `{name}`"),
                    ));
                }
            }
        }

        // Probes.
        for (field, which, key) in [
            ("livenessProbe", "liveness probe", "probes.liveness"),
            ("readinessProbe", "readiness probe", "probes.readiness"),
            ("startupProbe", "startup probe", ""),
        ] {
            if let Some(p) = c.get(field).filter(|p| p.is_object()) {
                self.probe(&path.key(field), p, which, key, &port_names, &name);
            }
        }

        self.resources(&path.key("resources"), c.get("resources"));

        // Environment.
        for (i, e) in arr_at(c, "env").iter().enumerate() {
            let ep = || path.key("env").index(i);
            let Some(var) = str_at(e, "name") else {
                continue;
            };
            let key = || format!("env.{var}");
            if let Err(msg) = check_env_var_name(var) {
                self.push(Finding::error(rules::DATA_KEYS, &ep().key("name"), msg).key(key()));
            }
            if e.get("value").is_some() && e.get("valueFrom").is_some() {
                self.push(
                    Finding::error(
                        rules::FIELD_VALUE,
                        &ep(),
                        format!("environment variable `{var}` sets both value and valueFrom"),
                    )
                    .key(key()),
                );
            }
            if let Some(from) = e.get("valueFrom") {
                for r in ["configMapKeyRef", "secretKeyRef"] {
                    if let Some(k) = from.get(r).and_then(|r| str_at(r, "key")) {
                        if let Err(msg) = names::check_config_map_key(k) {
                            self.push(
                                Finding::error(
                                    rules::DATA_KEYS,
                                    &ep().key("valueFrom").key(r).key("key"),
                                    msg,
                                )
                                .key(key()),
                            );
                        }
                    }
                }
            }
        }

        // Volume mounts.
        let mut mount_paths: BTreeMap<String, usize> = BTreeMap::new();
        for (i, m) in arr_at(c, "volumeMounts").iter().enumerate() {
            let mp = || path.key("volumeMounts").index(i);
            if let Some(v) = str_at(m, "name") {
                if !volumes.contains(v) {
                    self.push(Finding::error(
                        rules::VOLUMES,
                        &mp().key("name"),
                        format!(
                            "container `{name}` mounts volume `{v}`, which the pod does not define"
                        ),
                    ));
                }
            }
            if let Some(at) = str_at(m, "mountPath") {
                let at_path = || mp().key("mountPath");
                if at.is_empty() || at.contains(':') {
                    self.push(Finding::error(
                        rules::VOLUMES,
                        &at_path(),
                        format!("mount path {at:?} is not a path (it must be non-empty and contain no ':')"),
                    ));
                }
                let normal = at.trim_end_matches('/').to_string();
                if let Some(first) = mount_paths.insert(normal, i) {
                    self.push(
                        Finding::error(
                            rules::VOLUMES,
                            &at_path(),
                            format!("mount path `{at}` is used twice in container `{name}` (volumeMounts {first} and {i})"),
                        )
                        .key("secrets"),
                    );
                }
            }
            if let Some(sub) = str_at(m, "subPath") {
                if sub.starts_with('/') || sub.split('/').any(|p| p == "..") {
                    self.push(Finding::error(
                        rules::VOLUMES,
                        &mp().key("subPath"),
                        format!("subPath {sub:?} must be a relative path without '..'"),
                    ));
                }
            }
        }
    }

    fn protocol(&mut self, path: impl Fn() -> FieldPath, port: &Value) {
        if let Some(p) = str_at(port, "protocol") {
            if !["TCP", "UDP", "SCTP"].contains(&p) {
                self.push(Finding::error(
                    rules::PORTS,
                    &path().key("protocol"),
                    format!("unsupported protocol {p:?}: use TCP, UDP or SCTP"),
                ));
            }
        }
    }

    fn probe(
        &mut self,
        path: &FieldPath,
        p: &Value,
        which: &str,
        key: &str,
        ports: &BTreeSet<String>,
        container: &str,
    ) {
        let with_key = |f: Finding| if key.is_empty() { f } else { f.key(key) };
        let Some(fields) = p.as_object() else {
            return;
        };
        let handlers = fields
            .keys()
            .filter(|k| matches!(k.as_str(), "exec" | "httpGet" | "tcpSocket" | "grpc"))
            .count();
        if handlers != 1 {
            self.push(with_key(Finding::error(
                rules::PROBE,
                path,
                format!("the {which} of container `{container}` must have exactly one handler (exec, httpGet, tcpSocket or grpc), not {handlers}"),
            )));
        }
        if let Some(h) = p.get("httpGet") {
            let hp = || path.key("httpGet");
            if let Some(at) = str_at(h, "path") {
                if let Err(e) = names::check_http_path(at) {
                    self.push(with_key(Finding::error(rules::PROBE, &hp().key("path"), e)));
                }
            }
            if let Some(scheme) = str_at(h, "scheme") {
                if scheme != "HTTP" && scheme != "HTTPS" {
                    self.push(with_key(Finding::error(
                        rules::PROBE,
                        &hp().key("scheme"),
                        format!("unsupported scheme {scheme:?}: use HTTP or HTTPS"),
                    )));
                }
            }
            self.probe_port(
                &hp().key("port"),
                h.get("port"),
                which,
                key,
                ports,
                container,
            );
        }
        if let Some(t) = p.get("tcpSocket") {
            self.probe_port(
                &path.key("tcpSocket").key("port"),
                t.get("port"),
                which,
                key,
                ports,
                container,
            );
        }
        // One pass over the probe's fields (most have none of these set).
        for (field, v) in fields {
            let min = match field.as_str() {
                "initialDelaySeconds" => 0,
                "periodSeconds"
                | "timeoutSeconds"
                | "successThreshold"
                | "failureThreshold"
                | "terminationGracePeriodSeconds" => 1,
                _ => continue,
            };
            let Some(v) = v.as_i64() else {
                continue;
            };
            if v < min {
                self.push(with_key(Finding::error(
                    rules::PROBE,
                    &path.key(field),
                    format!("{field} of the {which} is {v}; it must be at least {min}"),
                )));
            } else if field == "successThreshold" && v > 1 && which != "readiness probe" {
                self.push(with_key(Finding::error(
                    rules::PROBE,
                    &path.key(field),
                    format!("successThreshold of a {which} must be 1, not {v}"),
                )));
            }
        }
    }

    fn probe_port(
        &mut self,
        path: &FieldPath,
        port: Option<&Value>,
        which: &str,
        key: &str,
        ports: &BTreeSet<String>,
        container: &str,
    ) {
        let finding = match port {
            Some(Value::Number(n)) => match n.as_i64() {
                Some(n) if (1..=65535).contains(&n) => None,
                _ => Some(Finding::error(
                    rules::PROBE,
                    path,
                    format!("the {which} uses port {n}, outside 1-65535"),
                )),
            },
            Some(Value::String(s)) => match names::check_port_name(s) {
                Err(e) => Some(Finding::error(rules::PROBE, path, e)),
                Ok(()) if !ports.contains(s) => Some(
                    Finding::error(
                        rules::PROBE,
                        path,
                        format!("the {which} uses port `{s}`, which container `{container}` does not declare"),
                    )
                    .help("name one of the container's ports (ports[].name), or give the port number; the kubelet fails the probe otherwise"),
                ),
                Ok(()) => None,
            },
            _ => None,
        };
        if let Some(f) = finding {
            self.push(if key.is_empty() { f } else { f.key(key) });
        }
    }

    fn resources(&mut self, path: &FieldPath, r: Option<&Value>) {
        let Some(r) = r else {
            return;
        };
        let mut parsed: [BTreeMap<String, (String, Quantity)>; 2] = Default::default();
        for (si, section) in ["requests", "limits"].iter().enumerate() {
            for (res, v) in map_at(r, section).into_iter().flatten() {
                let Some(text) = scalar_text(v) else {
                    continue;
                };
                match quantity::parse_non_negative(&text) {
                    Ok(q) => {
                        parsed[si].insert(res.clone(), (text, q));
                    }
                    Err(e) => self.push(
                        Finding::error(
                            rules::RESOURCES,
                            &path.key(section).key(res),
                            format!("{section}.{res}: {e}"),
                        )
                        .key(format!("resources.{section}.{res}")),
                    ),
                }
            }
        }
        for (res, (rt, rq)) in &parsed[0] {
            if let Some((lt, lq)) = parsed[1].get(res) {
                if rq > lq {
                    self.push(
                        Finding::error(
                            rules::RESOURCES,
                            &path.key("requests").key(res),
                            format!("{res} request {rt} is larger than its limit {lt}"),
                        )
                        .key(format!("resources.requests.{res}"))
                        .key(format!("resources.limits.{res}"))
                        .help(format!("the API server refuses a request above its limit: lower the {res} request or raise the limit")),
                    );
                }
            }
        }
    }

    // -- Services -----------------------------------------------------------

    fn service(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        let type_ = str_at(spec, "type").unwrap_or("ClusterIP");
        if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(&type_) {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path.key("type"),
                format!("unsupported Service type {type_:?}: use ClusterIP, NodePort, LoadBalancer or ExternalName"),
            ));
        }
        let ports = arr_at(spec, "ports");
        let headless = str_at(spec, "clusterIP") == Some("None");
        if ports.is_empty() && type_ != "ExternalName" && !headless {
            self.push(
                Finding::error(rules::PORTS, &path.key("ports"), "the Service has no ports")
                    .key("port"),
            );
        }
        let mut names_seen = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        for (i, p) in ports.iter().enumerate() {
            let pp = || path.key("ports").index(i);
            let number = int_at(p, "port");
            if let Some(n) = number {
                if !(1..=65535).contains(&n) {
                    self.push(
                        Finding::error(
                            rules::PORTS,
                            &pp().key("port"),
                            format!("Service port {n} is out of range 1-65535"),
                        )
                        .key("port"),
                    );
                }
                let proto = str_at(p, "protocol").unwrap_or("TCP").to_string();
                if !numbers.insert((n, proto.clone())) {
                    self.push(
                        Finding::error(
                            rules::PORTS,
                            &pp().key("port"),
                            format!("Service port {n}/{proto} is listed twice"),
                        )
                        .key("port"),
                    );
                }
            }
            self.protocol(pp, p);
            match str_at(p, "name") {
                Some(n) => {
                    if let Err(e) = names::check_dns1123_label(n) {
                        self.push(Finding::error(
                            rules::PORTS,
                            &pp().key("name"),
                            format!("Service port name: {e}"),
                        ));
                    } else if !names_seen.insert(n.to_string()) {
                        self.push(Finding::error(
                            rules::PORTS,
                            &pp().key("name"),
                            format!("Service port name `{n}` is used twice"),
                        ));
                    }
                }
                None if ports.len() > 1 => self.push(Finding::error(
                    rules::PORTS,
                    &pp(),
                    "every port of a Service with several ports needs a name",
                )),
                None => {}
            }
            match p.get("targetPort") {
                Some(Value::Number(n)) if !n.as_i64().is_some_and(|n| (1..=65535).contains(&n)) => {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("targetPort"),
                        format!("target port {n} is out of range 1-65535"),
                    ));
                }
                Some(Value::String(s)) => {
                    if let Err(e) = names::check_port_name(s) {
                        self.push(Finding::error(rules::PORTS, &pp().key("targetPort"), e));
                    }
                }
                _ => {}
            }
            if let Some(n) = int_at(p, "nodePort") {
                if type_ != "NodePort" && type_ != "LoadBalancer" {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("nodePort"),
                        format!("nodePort is only allowed on NodePort and LoadBalancer Services, not {type_}"),
                    ));
                } else if !(1..=65535).contains(&n) {
                    self.push(Finding::error(
                        rules::PORTS,
                        &pp().key("nodePort"),
                        format!("node port {n} is out of range"),
                    ));
                }
            }
        }
        if let Some(sel) = map_at(spec, "selector") {
            for (k, v) in sel {
                let fp = || path.key("selector").key(k);
                if let Err(e) = names::check_label_key(k) {
                    self.push(Finding::error(rules::SELECTOR, &fp(), e));
                } else if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                    self.push(Finding::error(rules::SELECTOR, &fp(), e));
                }
            }
        }
    }

    // -- ConfigMaps and Secrets ---------------------------------------------

    fn data(&mut self, kind: &str, sections: &[&str]) {
        let mut size = 0usize;
        let mut keys: BTreeMap<&str, &str> = BTreeMap::new();
        for section in sections {
            let Some(map) = map_at(self.s.value, section) else {
                continue;
            };
            for (k, v) in map {
                let fp = || FieldPath::root().key(section).key(k);
                if let Err(e) = names::check_config_map_key(k) {
                    self.push(
                        Finding::error(rules::DATA_KEYS, &fp(), e).key(format!("config.{k}")),
                    );
                }
                let len = v.as_str().map_or(0, |s| {
                    if *section == "binaryData" || (kind == "Secret" && *section == "data") {
                        s.len() / 4 * 3
                    } else {
                        s.len()
                    }
                });
                size += k.len() + len;
                if let Some(other) = keys.insert(k, section) {
                    if kind == "ConfigMap" {
                        self.push(Finding::error(
                            rules::DATA_KEYS,
                            &fp(),
                            format!("key `{k}` is in both {other} and {section}"),
                        ));
                    }
                }
            }
        }
        if size > MAX_DATA_BYTES {
            self.push(
                Finding::error(
                    rules::DATA_KEYS,
                    &FieldPath::root().key(sections[0]),
                    format!("the {kind} holds about {size} bytes; the API server refuses more than {MAX_DATA_BYTES} (1 MiB)"),
                )
                .help("keep large files out of ConfigMaps: bake them into the image or fetch them at start-up"),
            );
        }
    }

    // -- HorizontalPodAutoscaler ---------------------------------------------

    fn hpa(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        let min = int_at(spec, "minReplicas");
        let max = int_at(spec, "maxReplicas");
        if let Some(m) = min {
            if m < 1 {
                self.push(
                    Finding::error(
                        rules::AUTOSCALER,
                        &path.key("minReplicas"),
                        format!("minReplicas {m} is below 1"),
                    )
                    .key("autoscaling.min")
                    .help(
                        "an autoscaler keeps at least one replica; to stop a service, disable it",
                    ),
                );
            }
        }
        if let Some(m) = max {
            if m < 1 {
                self.push(
                    Finding::error(
                        rules::AUTOSCALER,
                        &path.key("maxReplicas"),
                        format!("maxReplicas {m} is below 1"),
                    )
                    .key("autoscaling.max"),
                );
            }
        }
        let min_v = min.unwrap_or(1);
        if let Some(m) = max.filter(|m| *m >= 1 && *m < min_v) {
            self.push(
                Finding::error(
                    rules::AUTOSCALER,
                    &path.key("maxReplicas"),
                    format!("maxReplicas {m} is less than minReplicas {min_v}"),
                )
                .key("autoscaling.max")
                .key("autoscaling.min"),
            );
        }
        if let Some(t) = spec.get("scaleTargetRef") {
            for field in ["kind", "name"] {
                if str_at(t, field).is_none_or(str::is_empty) {
                    self.push(Finding::error(
                        rules::AUTOSCALER,
                        &path.key("scaleTargetRef").key(field),
                        format!("scaleTargetRef has no {field}"),
                    ));
                }
            }
        }
        for (i, m) in arr_at(spec, "metrics").iter().enumerate() {
            let mp = path.key("metrics").index(i);
            let type_ = str_at(m, "type").unwrap_or("");
            let field = match type_ {
                "Resource" => "resource",
                "ContainerResource" => "containerResource",
                "Pods" => "pods",
                "Object" => "object",
                "External" => "external",
                other => {
                    self.push(Finding::error(
                        rules::AUTOSCALER,
                        &mp.key("type"),
                        format!("unsupported metric type {other:?}: use Resource, ContainerResource, Pods, Object or External"),
                    ));
                    continue;
                }
            };
            let Some(source) = m.get(field) else {
                self.push(Finding::error(
                    rules::AUTOSCALER,
                    &mp,
                    format!("a {type_} metric needs the `{field}` field"),
                ));
                continue;
            };
            let resource = str_at(source, "name").unwrap_or("");
            let key = format!("autoscaling.{resource}");
            let tp = mp.key(field).key("target");
            let Some(target) = source.get("target") else {
                continue;
            };
            let ttype = str_at(target, "type").unwrap_or("");
            let resource_metric = field == "resource" || field == "containerResource";
            match ttype {
                "Utilization" if !resource_metric => self.push(Finding::error(
                    rules::AUTOSCALER,
                    &tp.key("type"),
                    format!(
                        "a {type_} metric cannot target Utilization: use AverageValue or Value"
                    ),
                )),
                "Value" if resource_metric => self.push(Finding::error(
                    rules::AUTOSCALER,
                    &tp.key("type"),
                    "a resource metric targets Utilization or AverageValue, not Value",
                )),
                "Utilization" | "Value" | "AverageValue" => {}
                other => self.push(Finding::error(
                    rules::AUTOSCALER,
                    &tp.key("type"),
                    format!(
                        "unsupported target type {other:?}: use Utilization, AverageValue or Value"
                    ),
                )),
            }
            let wanted = match ttype {
                "Utilization" => "averageUtilization",
                "AverageValue" => "averageValue",
                "Value" => "value",
                _ => continue,
            };
            match target.get(wanted) {
                None => self.push(
                    Finding::error(
                        rules::AUTOSCALER,
                        &tp,
                        format!("a {ttype} target needs `{wanted}`"),
                    )
                    .key(&key),
                ),
                Some(v) if wanted == "averageUtilization" => {
                    if v.as_i64().is_none_or(|n| n <= 0) {
                        self.push(
                            Finding::error(
                                rules::AUTOSCALER,
                                &tp.key(wanted),
                                format!(
                                    "the {resource} utilisation target {v} must be greater than 0"
                                ),
                            )
                            .key(&key),
                        );
                    }
                }
                Some(v) => {
                    let ok = scalar_text(v)
                        .and_then(|t| Quantity::parse(&t).ok())
                        .is_some_and(|q| q > Quantity::ZERO);
                    if !ok {
                        self.push(
                            Finding::error(
                                rules::AUTOSCALER,
                                &tp.key(wanted),
                                format!(
                                    "the {wanted} target {v} must be a quantity greater than 0"
                                ),
                            )
                            .key(&key),
                        );
                    }
                }
            }
        }
    }

    // -- PodDisruptionBudget, Ingress, NetworkPolicy -------------------------

    fn pdb(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        if spec.get("minAvailable").is_some() && spec.get("maxUnavailable").is_some() {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path.key("maxUnavailable"),
                "a PodDisruptionBudget sets minAvailable or maxUnavailable, not both",
            ));
        }
        for field in ["minAvailable", "maxUnavailable"] {
            if let Some(v) = spec.get(field) {
                if let Err(e) = int_or_percent(v) {
                    self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &path.key(field),
                        format!("{field}: {e}"),
                    ));
                }
            }
        }
        if let Some(sel) = spec.get("selector") {
            self.label_selector(&path.key("selector"), sel, false);
        }
    }

    fn ingress(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        if let Some(b) = spec.get("defaultBackend") {
            self.ingress_backend(&path.key("defaultBackend"), b);
        }
        for (i, rule) in arr_at(spec, "rules").iter().enumerate() {
            let rp = path.key("rules").index(i);
            if let Some(host) = str_at(rule, "host") {
                let bare = host.strip_prefix("*.").unwrap_or(host);
                let ip = bare.parse::<std::net::IpAddr>().is_ok();
                if let Err(e) = names::check_dns1123_subdomain(bare).and_then(|()| {
                    if ip {
                        Err(format!(
                            "{host:?} is an IP address; an Ingress host must be a DNS name"
                        ))
                    } else {
                        Ok(())
                    }
                }) {
                    self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &rp.key("host"),
                        format!("host: {e}"),
                    ));
                }
            }
            let Some(http) = rule.get("http") else {
                continue;
            };
            for (j, p) in arr_at(http, "paths").iter().enumerate() {
                let pp = rp.key("http").key("paths").index(j);
                let pt = str_at(p, "pathType");
                match pt {
                    None => self.push(Finding::error(rules::FIELD_VALUE, &pp.key("pathType"), "pathType is required: use Prefix, Exact or ImplementationSpecific")),
                    Some("Prefix" | "Exact" | "ImplementationSpecific") => {}
                    Some(other) => self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &pp.key("pathType"),
                        format!("unsupported pathType {other:?}: use Prefix, Exact or ImplementationSpecific"),
                    )),
                }
                if let Some(at) = str_at(p, "path") {
                    if !at.starts_with('/') {
                        self.push(Finding::error(
                            rules::FIELD_VALUE,
                            &pp.key("path"),
                            format!("Ingress path {at:?} must start with '/'"),
                        ));
                    }
                }
                if let Some(b) = p.get("backend") {
                    self.ingress_backend(&pp.key("backend"), b);
                }
            }
        }
    }

    fn ingress_backend(&mut self, path: &FieldPath, b: &Value) {
        if b.get("service").is_some() && b.get("resource").is_some() {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                path,
                "a backend names a service or a resource, not both",
            ));
        }
        if let Some(port) = b.get("service").and_then(|s| s.get("port")) {
            if port.get("number").is_some() && port.get("name").is_some() {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("service").key("port"),
                    "a backend port has a number or a name, not both",
                ));
            }
        }
    }

    fn network_policy(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        for (i, t) in arr_at(spec, "policyTypes").iter().enumerate() {
            if !matches!(t.as_str(), Some("Ingress" | "Egress")) {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("policyTypes").index(i),
                    format!("unsupported policy type {t}: use Ingress or Egress"),
                ));
            }
        }
        for dir in ["ingress", "egress"] {
            for (i, r) in arr_at(spec, dir).iter().enumerate() {
                for (j, p) in arr_at(r, "ports").iter().enumerate() {
                    let pp = path.key(dir).index(i).key("ports").index(j);
                    self.protocol(|| pp.clone(), p);
                    match p.get("port") {
                        Some(Value::Number(n)) => {
                            let n = n.as_i64().unwrap_or(0);
                            if !(1..=65535).contains(&n) {
                                self.push(Finding::error(
                                    rules::PORTS,
                                    &pp.key("port"),
                                    format!("port {n} is out of range 1-65535"),
                                ));
                            }
                            if let Some(end) = int_at(p, "endPort") {
                                if end < n {
                                    self.push(Finding::error(
                                        rules::PORTS,
                                        &pp.key("endPort"),
                                        format!("endPort {end} is below port {n}"),
                                    ));
                                }
                            }
                        }
                        Some(Value::String(s)) => {
                            if let Err(e) = names::check_port_name(s) {
                                self.push(Finding::error(rules::PORTS, &pp.key("port"), e));
                            }
                            if p.get("endPort").is_some() {
                                self.push(Finding::error(
                                    rules::PORTS,
                                    &pp.key("endPort"),
                                    "endPort needs a numeric port",
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    // -- SecretProviderClass (AWS provider) ----------------------------------

    fn secret_provider_class(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        if str_at(spec, "provider") != Some("aws") {
            return;
        }
        let pp = path.key("parameters");
        let Some(text) = spec.get("parameters").and_then(|p| str_at(p, "objects")) else {
            self.push(
                Finding::error(
                    rules::SECRET_PROVIDER,
                    &pp,
                    "the aws provider needs an `objects` parameter listing what to mount",
                )
                .key("secrets"),
            );
            return;
        };
        let op = pp.key("objects");
        let err = |m: String| Finding::error(rules::SECRET_PROVIDER, &op, m).key("secrets");
        let list: Value = match serde_norway::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.push(err(format!(
                    "the `objects` parameter is not valid YAML: {e}"
                )));
                return;
            }
        };
        let Some(list) = list.as_array() else {
            self.push(err(
                "the `objects` parameter must be a YAML list of objects to mount".into(),
            ));
            return;
        };
        // As the AWS provider checks them (provider/secret_descriptor.go).
        let mut names_seen: Vec<(String, String, String)> = Vec::new();
        let mut aliases: BTreeSet<String> = BTreeSet::new();
        let mut files: BTreeSet<String> = BTreeSet::new();
        for (i, o) in list.iter().enumerate() {
            let n = i + 1;
            let Some(o) = o.as_object() else {
                self.push(err(format!("object {n} of `objects` is not a mapping")));
                continue;
            };
            let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let name = s("objectName");
            if name.is_empty() {
                self.push(err(format!("object {n} of `objects` has no objectName")));
                continue;
            }
            let type_ = s("objectType");
            if type_.is_empty() {
                if !name.starts_with("arn:") {
                    self.push(err(format!("object `{name}` has no objectType (secretsmanager or ssmparameter); it is required unless objectName is an ARN")));
                }
            } else if type_ != "secretsmanager" && type_ != "ssmparameter" {
                self.push(err(format!(
                    "object `{name}` has objectType {type_:?}; use secretsmanager or ssmparameter"
                )));
            }
            let alias = s("objectAlias");
            let label = s("objectVersionLabel");
            let file = if alias.is_empty() {
                name.trim_start_matches('/').replace('/', "_")
            } else {
                alias.clone()
            };
            if file.split('/').any(|p| p == "..") {
                self.push(err(format!("object `{name}` would be written outside the mount: its file name contains '..'")));
            }
            if let Some((_, a, l)) = names_seen.iter().find(|(nm, _, _)| *nm == name) {
                let clash = (alias.is_empty() && a.is_empty() && label == *l)
                    || (!alias.is_empty() && alias == *a && label == *l);
                if clash {
                    self.push(err(format!(
                        "objectName `{name}` is listed twice without a distinct objectAlias"
                    )));
                }
            }
            names_seen.push((name.clone(), alias.clone(), label));
            if !alias.is_empty() && !aliases.insert(alias.clone()) {
                self.push(err(format!("objectAlias `{alias}` is used twice: two objects would be written to the same file")));
            }
            files.insert(file);
            for (j, e) in o
                .get("jmesPath")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .enumerate()
            {
                let path = e.get("path").and_then(Value::as_str).unwrap_or("");
                let a = e.get("objectAlias").and_then(Value::as_str).unwrap_or("");
                if path.is_empty() || a.is_empty() {
                    self.push(err(format!(
                        "jmesPath entry {} of object `{name}` needs both `path` and `objectAlias`",
                        j + 1
                    )));
                    continue;
                }
                if !aliases.insert(a.to_string()) {
                    self.push(err(format!("objectAlias `{a}` is used twice: two objects would be written to the same file")));
                }
                files.insert(a.to_string());
            }
        }
        // Every secret the service declares must end up as a file.
        if let Some(svc) = self.s.service {
            for secret in &svc.secrets {
                if !files.contains(&secret.name) {
                    self.push(
                        err(format!(
                            "secret `{}` of service `{}` is not mounted: no object of the SecretProviderClass is written to the file `{}`",
                            secret.name, svc.name, secret.name
                        ))
                        .help("two secrets with the same `from` and `key` and no `json_key` are the same file; list the secret once, or use `json_key` to mount different parts"),
                    );
                }
            }
        }
    }
}

/// A DNS-1035 label (a Service name): a DNS-1123 label that starts with a letter.
pub fn check_dns1035_label(s: &str) -> Result<(), String> {
    names::check_dns1123_label(s)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "{s:?} is not a valid DNS-1035 label: it must start with a lowercase letter (use at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit)"
        ));
    }
    Ok(())
}

fn max_len(s: &str, max: usize, what: &str, why: &str) -> Result<(), String> {
    if s.len() > max {
        Err(format!(
            "{s:?} is {} characters long; {what} is at most {max}, because {why}",
            s.len()
        ))
    } else {
        Ok(())
    }
}

/// An environment variable name as the API server (Kubernetes 1.33) accepts it:
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn check_env_var_name(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid environment variable name: use letters, digits, '_', '-' and '.', not starting with a digit"
        ))
    }
}

/// An int-or-string that is a count (≥ 0) or a percentage (`25%`).
fn int_or_percent(v: &Value) -> Result<(), String> {
    match v {
        Value::Number(n) if n.as_i64().is_some_and(|n| n >= 0) => Ok(()),
        Value::String(s) => match s.strip_suffix('%').map(str::parse::<u32>) {
            Some(Ok(p)) if p <= 100 => Ok(()),
            _ => Err(format!(
                "{s:?} is neither a count nor a percentage like 25%"
            )),
        },
        other => Err(format!(
            "{other} is neither a count (0 or more) nor a percentage"
        )),
    }
}

/// Whether a label selector selects pods with `labels`.
pub fn selector_matches(sel: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let labels_ok = map_at(sel, "matchLabels")
        .into_iter()
        .flatten()
        .all(|(k, v)| get(k) == v.as_str());
    let exprs_ok = arr_at(sel, "matchExpressions").iter().all(|e| {
        let key = str_at(e, "key").unwrap_or("");
        let values: Vec<&str> = arr_at(e, "values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        match str_at(e, "operator") {
            Some("In") => get(key).is_some_and(|v| values.contains(&v)),
            Some("NotIn") => get(key).is_none_or(|v| !values.contains(&v)),
            Some("Exists") => get(key).is_some(),
            Some("DoesNotExist") => get(key).is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// Whether a map selector (a Service's `spec.selector`) selects pods with `labels`.
fn map_selects(sel: &Map<String, Value>, labels: Option<&Map<String, Value>>) -> bool {
    !sel.is_empty()
        && sel
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The pod template of a workload: (path of the pod spec, pod metadata, pod spec).
pub fn pod_template<'a>(s: &Subject<'a>) -> Option<(FieldPath, Option<&'a Value>, &'a Value)> {
    let at = match (s.group(), s.kind()) {
        ("", "Pod") => "spec",
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => {
            "spec.template.spec"
        }
        ("batch", "CronJob") => "spec.jobTemplate.spec.template.spec",
        _ => return None,
    };
    let spec = s.value.get("spec")?;
    let template = match at {
        "spec" => return Some((FieldPath::fixed(at), s.value.get("metadata"), spec)),
        "spec.template.spec" => spec.get("template")?,
        _ => spec.get("jobTemplate")?.get("spec")?.get("template")?,
    };
    Some((
        FieldPath::fixed(at),
        template.get("metadata"),
        template.get("spec")?,
    ))
}

/// The containers of a pod spec with their paths (init containers first).
pub fn containers<'a>(path: &FieldPath, pod: &'a Value, init: bool) -> Vec<(FieldPath, &'a Value)> {
    let lists: &[&str] = if init {
        &["initContainers", "containers"]
    } else {
        &["containers"]
    };
    lists
        .iter()
        .flat_map(|list| {
            arr_at(pod, list)
                .iter()
                .enumerate()
                .map(move |(i, c)| (path.key(list).index(i), c))
        })
        .collect()
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
    use super::*;
    use serde_json::json;

    fn findings(v: &Value) -> Vec<(String, String, String)> {
        check(&Subject::bare(v))
            .into_iter()
            .map(|f| (f.code.to_string(), f.field, f.message))
            .collect()
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "api"},
            "spec": {
                "selector": {"matchLabels": {"app": "api"}},
                "template": {
                    "metadata": {"labels": {"app": "api"}},
                    "spec": {
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                        "containers": [{
                            "name": "api", "image": "r.example.com/api:1",
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                            "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}},
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]
                        }]
                    }
                }
            }
        })
    }

    #[test]
    fn a_good_deployment_has_no_findings() {
        assert_eq!(findings(&deployment()), vec![]);
    }

    #[test]
    fn deployment_problems() {
        let mut d = deployment();
        d["spec"]["selector"]["matchLabels"]["app"] = json!("other");
        let c = &mut d["spec"]["template"]["spec"]["containers"][0];
        c["ports"][0]["name"] = json!("a-very-long-port-name");
        c["readinessProbe"]["httpGet"]["path"] = json!("ready");
        c["resources"]["requests"]["cpu"] = json!("2");
        c["volumeMounts"] =
            json!([{"name": "tmp", "mountPath": "/tmp"}, {"name": "data", "mountPath": "/tmp/"}]);
        let got = findings(&d);
        let codes: Vec<&str> = got.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            codes,
            vec!["KG105", "KG106", "KG109", "KG109", "KG107", "KG112", "KG112"],
            "{got:#?}"
        );
        assert_eq!(
            got[0].2,
            "the selector does not match the pod template's labels"
        );
        assert_eq!(got[4].2, "cpu request 2 is larger than its limit 1");
        assert_eq!(
            got[4].1,
            "spec.template.spec.containers[0].resources.requests.cpu"
        );
        assert_eq!(
            got[5].2,
            "container `api` mounts volume `data`, which the pod does not define"
        );
        assert_eq!(
            got[6].2,
            "mount path `/tmp/` is used twice in container `api` (volumeMounts 0 and 1)"
        );
    }

    #[test]
    fn service_names_are_dns_1035_labels() {
        let s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1api"}, "spec": {"ports": [{"port": 80}]}});
        let got = findings(&s);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "KG103");
        assert!(
            got[0]
                .2
                .starts_with("Service name: \"1api\" is not a valid DNS-1035 label"),
            "{}",
            got[0].2
        );
        assert_eq!(check_dns1035_label("api-1"), Ok(()));
    }

    #[test]
    fn hpa_bounds_and_targets() {
        let h = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "minReplicas": 5, "maxReplicas": 3,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 0}}}]}});
        let got = findings(&h);
        let msgs: Vec<&str> = got.iter().map(|f| f.2.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "maxReplicas 3 is less than minReplicas 5",
                "the cpu utilisation target 0 must be greater than 0"
            ]
        );
    }

    #[test]
    fn secret_provider_class_objects() {
        let spc = |objects: &str| {
            json!({"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
            "metadata": {"name": "s"}, "spec": {"provider": "aws", "parameters": {"objects": objects}}})
        };
        assert_eq!(
            findings(&spc("- objectName: a\n  objectType: ssmparameter\n")),
            vec![]
        );
        let msgs = |o: &str| {
            findings(&spc(o))
                .into_iter()
                .map(|f| f.2)
                .collect::<Vec<_>>()
        };
        assert!(
            msgs("- objectName: [")[0].starts_with("the `objects` parameter is not valid YAML: ")
        );
        assert_eq!(
            msgs("a: b"),
            vec!["the `objects` parameter must be a YAML list of objects to mount"]
        );
        assert_eq!(
            msgs("- objectName: a\n  objectType: ssm\n- objectName: b\n  objectType: ssmparameter\n  objectAlias: x\n  jmesPath: [{path: p, objectAlias: x}]\n- objectName: a\n  objectType: secretsmanager\n"),
            vec![
                "object `a` has objectType \"ssm\"; use secretsmanager or ssmparameter",
                "objectAlias `x` is used twice: two objects would be written to the same file",
                "objectName `a` is listed twice without a distinct objectAlias",
            ]
        );
    }

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

    #[test]
    fn services_cronjobs_budgets_and_ingresses() {
        let msgs = |v: Value| findings(&v).into_iter().map(|f| f.2).collect::<Vec<_>>();
        assert_eq!(
            msgs(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"ports": [{"port": 80}, {"port": 70000, "name": "Web", "targetPort": "http-port-too-long"}]}})),
            vec![
                "every port of a Service with several ports needs a name",
                "Service port 70000 is out of range 1-65535",
                "Service port name: \"Web\" is not a valid DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
                "\"http-port-too-long\" is too long for a port name (18 characters): use at most 15 lowercase letters, digits and '-', with at least one letter and no leading, trailing or doubled '-', like http or grpc-web",
            ]
        );
        let long = "c".repeat(53);
        let got = msgs(
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": long},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}}}),
        );
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(
            got[0].ends_with(
                "a CronJob name is at most 52, because its Jobs' names add an 11-character suffix"
            ),
            "{}",
            got[0]
        );
        assert_eq!(got[1], "the pods of a Job need restartPolicy OnFailure or Never (the default, Always, is refused)");
        assert_eq!(
            msgs(
                json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
                "spec": {"minAvailable": 1, "maxUnavailable": "150%"}})
            ),
            vec![
                "a PodDisruptionBudget sets minAvailable or maxUnavailable, not both",
                "maxUnavailable: \"150%\" is neither a count nor a percentage like 25%",
            ]
        );
        assert_eq!(
            msgs(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
                "spec": {"rules": [{"host": "10.0.0.1", "http": {"paths": [{"path": "api", "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]}})
            ),
            vec![
                "host: \"10.0.0.1\" is an IP address; an Ingress host must be a DNS name",
                "pathType is required: use Prefix, Exact or ImplementationSpecific",
                "Ingress path \"api\" must start with '/'",
            ]
        );
    }

    #[test]
    fn env_var_names_follow_the_api_server() {
        assert_eq!(check_env_var_name("my.var-1"), Ok(()));
        assert!(check_env_var_name("1X").is_err());
        assert!(check_env_var_name("A=B").is_err());
    }
}
