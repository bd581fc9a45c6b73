//! Policy: what kube-score, kube-linter and Polaris teach, as rules KG201-KG218.
//!
//! A schema or semantic error is something the cluster refuses; a policy finding is
//! something the cluster accepts but a careful reviewer would not: containers
//! without resources or probes, running as root or with a writable root
//! filesystem, mutable images or images from unknown registries, a production
//! service with a single replica. Each rule has a fixed severity ([`RULES`]); an
//! error blocks the run unless it is waived. A waiver names the rule and gives a
//! written reason (`waivers = [{ rule = "KG202", reason = "..." }]` under
//! `[platform]` or `[services.<name>]`, or a `kgen.dev/waive-KG202` annotation on a
//! hand-written object), and the reason is written into the header of every
//! generated file whose findings it waived.
//!
//! Rules that need the platform (registries, production environments) only run
//! when an object comes from a platform, not on hand-written files.
//!
//! The container rules (KG201, KG203-KG209, KG214) cover every container of every
//! kind of workload: regular containers, native sidecars and init containers, in
//! Deployments, StatefulSets, DaemonSets, Jobs and CronJobs alike. KG202 asks for
//! probes only where they do something: on containers that keep running (not in a
//! Job's or CronJob's pods, not on init containers, which run to completion) a
//! liveness probe, which restarts a hung process, on regular containers and native
//! sidecars; and a readiness probe only on the regular containers of pods that
//! receive traffic, i.e. that a Service of the set selects ([`check_set`]): a
//! `worker` (a Deployment no Service selects) needs no readiness probe.
//!
//! `daemonsets` holds KG217, which compares a service's DaemonSets across the
//! environments of a cluster (`compile` records them as it renders, and checks them
//! once every environment is rendered).
//!
//! `pods` holds the rules about pods and their containers; `rendered` (tests) runs
//! the rules on kgen's own output for every kind of service.

pub mod daemonsets;
mod pods;
pub(crate) use pods::host_uses;
#[cfg(test)]
mod rendered;
mod skew;

use serde_json::Value;

use super::semantics::{containers, pod_template};
use super::{arr_at, int_at, map_at, str_at, FieldPath, Finding, SetIndex, Subject};
use crate::diagnostic::Severity;
use crate::rules;

/// Every policy rule and its severity.
pub const RULES: &[(&str, Severity)] = &[
    (rules::RESOURCES_UNSET, Severity::Error),
    (rules::PROBES_UNSET, Severity::Warning),
    (rules::RUN_AS_ROOT, Severity::Error),
    (rules::WRITABLE_ROOT_FS, Severity::Error),
    (rules::PRIVILEGE_ESCALATION, Severity::Error),
    (rules::HOST_ACCESS, Severity::Error),
    (rules::SECCOMP_UNSET, Severity::Warning),
    (rules::MUTABLE_IMAGE, Severity::Error),
    (rules::IMAGE_REGISTRY, Severity::Error),
    (rules::PRODUCTION_REPLICAS, Severity::Error),
    (rules::HPA_REPLICAS, Severity::Warning),
    (rules::DEFAULT_NAMESPACE, Severity::Warning),
    (rules::DEFAULT_SERVICE_ACCOUNT, Severity::Warning),
    (rules::SECRET_IN_ENV, Severity::Error),
    (rules::POD_SECURITY_ADMISSION, Severity::Warning),
    (rules::ENV_FROM_KEY, Severity::Warning),
    (rules::DAEMONSET_PER_ENVIRONMENT, Severity::Warning),
    (rules::IMAGE_VERSION_SKEW, Severity::Warning),
];

/// The severity of a policy rule (errors for anything else).
pub fn severity(code: &str) -> Severity {
    RULES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(Severity::Error, |(_, s)| *s)
}

/// Only policy rules can be waived.
pub fn is_waivable(code: &str) -> bool {
    RULES.iter().any(|(c, _)| *c == code)
}

/// Policy findings about one object on its own.
pub fn check(s: &Subject) -> Vec<Finding> {
    let mut out = Vec::new();
    namespace_rules(s, &mut out);
    if let Some((pp, _, pod)) = pod_template(s) {
        pods::pod_rules(s, &pp, pod, &mut out);
        skew::version_skew(s, &pp, pod, &mut out);
    }
    autoscaler_minimum(s, &mut out);
    out
}

/// KG210 of an autoscaler in production that may scale down to one replica: judged
/// on the HorizontalPodAutoscaler alone (a workload's own count needs the set, to
/// know whether an autoscaler owns it: [`check_set`]).
fn autoscaler_minimum(s: &Subject, out: &mut Vec<Finding>) {
    if s.kind() != "HorizontalPodAutoscaler" || !s.env.is_some_and(|e| e.production) {
        return;
    }
    let min = s
        .value
        .get("spec")
        .and_then(|sp| int_at(sp, "minReplicas"))
        .unwrap_or(1);
    if min < 2 {
        out.push(
            production_finding(
                &FieldPath::root().key("spec").key("minReplicas"),
                &format!(
                    "the autoscaler of `{}` may scale down to {min} replica",
                    s.name()
                ),
                s,
            )
            .key("autoscaling.min")
            .key("autoscaling.max"),
        );
    }
}

fn namespace_rules(s: &Subject, out: &mut Vec<Finding>) {
    let meta = FieldPath::root().key("metadata");
    // Reported on workloads (what a namespace isolates), not on each of their objects.
    if s.namespace() == Some("default") && pod_template(s).is_some() {
        out.push(
            Finding::policy(
                rules::DEFAULT_NAMESPACE,
                &meta.key("namespace"),
                format!("{} `{}` runs in the `default` namespace", s.kind(), s.name()),
            )
            .key("namespace")
            .help(if s.hand_written {
                "give every workload a namespace of its own"
            } else {
                "give every service a namespace of its own (the default `namespace = \"{{ service }}\"` does)"
            }),
        );
    }
    // The monitoring namespace kgen renders is privileged on purpose: the chart's
    // node-exporter uses the host's network, PID namespace and filesystem.
    let monitoring = s.platform.is_some_and(|p| {
        p.clusters
            .iter()
            .filter_map(|c| c.monitoring.as_ref())
            .any(|m| m.namespace == s.name())
    });
    // So is an add-on's namespace at the level its preset's pods need (the Secrets Store
    // CSI driver and Fluent Bit use the host): the level is the chart's, not a choice.
    let node_agent = s.platform.is_some_and(|p| {
        p.clusters.iter().flat_map(|c| &c.addons).any(|a| {
            a.namespace == s.name() && a.preset.is_some_and(|p| p.pod_security == a.pod_security)
        })
    });
    if s.group().is_empty() && s.kind() == "Namespace" && !monitoring && !node_agent {
        let level = s
            .value
            .get("metadata")
            .and_then(|m| map_at(m, "labels"))
            .and_then(|l| l.get("pod-security.kubernetes.io/enforce"))
            .and_then(Value::as_str);
        if !matches!(level, Some("restricted" | "baseline")) {
            let what = level.map_or("no Pod Security Admission level".to_string(), |l| {
                format!("Pod Security Admission level `{l}`")
            });
            out.push(
                Finding::policy(
                    rules::POD_SECURITY_ADMISSION,
                    &meta.key("labels"),
                    format!("namespace `{}` enforces {what}", s.name()),
                )
                .key("namespace")
                .help("label it `pod-security.kubernetes.io/enforce: restricted` (or `baseline`) so the cluster refuses privileged pods"),
            );
        }
    }
}

/// Policy findings between the objects of one set: readiness probes on the pods a
/// Service sends traffic to, replicas in production, a Deployment or StatefulSet
/// whose replica count an autoscaler also sets, and ConfigMap keys that `envFrom`
/// silently skips. With `complete`, the set is everything that will be applied.
pub fn check_set(set: &[Subject], index: &SetIndex, complete: bool) -> Vec<(usize, Finding)> {
    let mut out = Vec::new();
    let production = |s: &Subject| s.env.is_some_and(|e| e.production);
    for (i, s) in set.iter().enumerate() {
        pods::readiness_rules(set, index, complete, i, s, &mut out);
        let kind = s.kind();
        let spec = s.value.get("spec");
        if matches!(kind, "Deployment" | "StatefulSet") && s.group() == "apps" {
            let hpa = index.scaler(kind, s.namespace().unwrap_or(""), s.name());
            let replicas_field = FieldPath::root().key("spec").key("replicas");
            match hpa {
                Some(_) if spec.is_some_and(|sp| sp.get("replicas").is_some()) => out.push((
                    i,
                    Finding::policy(
                        rules::HPA_REPLICAS,
                        &replicas_field,
                        format!("{kind} `{}` sets replicas although an autoscaler scales it: every sync resets the count", s.name()),
                    )
                    .key("replicas")
                    .help("leave spec.replicas out of a workload that an autoscaler owns (kgen does this when `autoscaling` is set)"),
                )),
                None if production(s) => {
                    let replicas = spec.and_then(|sp| int_at(sp, "replicas")).unwrap_or(1);
                    if replicas < 2 {
                        out.push((i, production_finding(&replicas_field, &format!("{kind} `{}` runs {replicas} replica", s.name()), s).key("replicas")));
                    }
                }
                _ => {}
            }
        }

        // ConfigMap keys loaded with envFrom must be environment variable names.
        if let Some((pp, _, pod)) = pod_template(s) {
            for (cp, c) in containers(&pp, pod, true) {
                for (ei, e) in arr_at(c, "envFrom").iter().enumerate() {
                    let Some(cm) = e.get("configMapRef").and_then(|r| str_at(r, "name")) else {
                        continue;
                    };
                    let prefix = str_at(e, "prefix").unwrap_or("");
                    let Some(data) = index
                        .get("ConfigMap", s.namespace().unwrap_or(""), cm)
                        .and_then(|o| map_at(set[o].value, "data"))
                    else {
                        continue;
                    };
                    for key in data.keys() {
                        let var = format!("{prefix}{key}");
                        if super::semantics::check_env_var_name(&var).is_err() {
                            out.push((
                                i,
                                Finding::policy(
                                    rules::ENV_FROM_KEY,
                                    &cp.key("envFrom").index(ei),
                                    format!("ConfigMap `{cm}` has the key `{key}`, which is not an environment variable name: envFrom silently skips it"),
                                )
                                .key(format!("config.{key}"))
                                .help("use letters, digits and '_' in config keys that the program reads from its environment"),
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

fn production_finding(field: &FieldPath, what: &str, s: &Subject) -> Finding {
    let env = s.env.map_or("", |e| e.name.as_str());
    Finding::policy(
        rules::PRODUCTION_REPLICAS,
        field,
        format!("{what} in production environment `{env}`: one node drain or crash takes it down"),
    )
    .help("run at least 2 replicas in production (`replicas`, or `autoscaling.min` when autoscaling is on); for a deliberate singleton (a leader-elected tool, a cache), waive it with `waivers = [{ rule = \"KG210\", reason = \"...\" }]` on the service")
}

#[cfg(test)]
mod testing {
    //! Helpers shared by the policy tests.
    use serde_json::{json, Value};

    use super::{check, check_set};
    use crate::validate::{SetIndex, Subject};

    /// A workload of `kind` whose pods are `pod`, in namespace `x`, labelled `app: x`.
    pub fn workload(kind: &str, pod: Value) -> Value {
        let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": pod});
        let (api, spec) = match kind {
            "CronJob" => (
                "batch/v1",
                json!({"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}),
            ),
            "Job" => ("batch/v1", json!({"template": template})),
            _ => (
                "apps/v1",
                json!({"selector": {"matchLabels": {"app": "x"}}, "template": template}),
            ),
        };
        json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "x"}, "spec": spec})
    }

    /// A container that passes every container rule.
    pub fn good(name: &str) -> Value {
        json!({
            "name": name, "image": "r.example.com/x:1",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "16Mi"}},
            "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true,
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"}}
        })
    }

    /// Findings of `values` as a set (`complete` or not), then on their own:
    /// (object, code, message).
    pub fn all(values: &[Value], complete: bool) -> Vec<(usize, String, String)> {
        let set: Vec<Subject> = values.iter().map(Subject::bare).collect();
        let index = SetIndex::new(&set);
        let mut out: Vec<(usize, String, String)> = set
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                check(s)
                    .into_iter()
                    .map(move |f| (i, f.code.to_string(), f.message))
            })
            .collect();
        out.extend(
            check_set(&set, &index, complete)
                .into_iter()
                .map(|(i, f)| (i, f.code.to_string(), f.message)),
        );
        out.retain(|(_, code, _)| code != "KG213");
        out
    }

    pub fn service(selector: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "namespace": "x"},
            "spec": {"selector": {"app": selector}, "ports": [{"port": 80}]}})
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use serde_json::json;

    fn codes(v: &Value) -> Vec<(String, String)> {
        check(&Subject::bare(v))
            .into_iter()
            .map(|f| (f.code.to_string(), f.message))
            .collect()
    }

    #[test]
    fn a_bare_pod_breaks_most_rules() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx", "env": [{"name": "DB_PASSWORD", "value": "hunter2hunter2"}]}]}});
        let got: Vec<String> = codes(&pod).into_iter().map(|(c, _)| c).collect();
        assert_eq!(
            got,
            vec![
                "KG212", "KG213", "KG201", "KG203", "KG204", "KG205", "KG205", "KG207", "KG208",
                "KG214"
            ]
        );
    }

    #[test]
    fn an_autoscaled_statefulset_sets_no_replicas() {
        let mut db = good("db");
        db["livenessProbe"] = json!({"exec": {"command": ["true"]}});
        let mut sts = workload("StatefulSet", json!({"containers": [db]}));
        sts["spec"]["replicas"] = json!(3);
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "x", "namespace": "x"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "x"}, "minReplicas": 2, "maxReplicas": 4}});
        assert_eq!(
            all(&[sts, hpa], false),
            vec![(0, "KG211".into(), "StatefulSet `x` sets replicas although an autoscaler scales it: every sync resets the count".into())]
        );
    }

    #[test]
    fn severities_and_waivability() {
        assert_eq!(severity("KG202"), Severity::Warning);
        assert_eq!(severity("KG201"), Severity::Error);
        assert!(is_waivable("KG210"));
        assert!(!is_waivable("KG101"));
        assert!(!is_waivable("KG200"));
    }
}
