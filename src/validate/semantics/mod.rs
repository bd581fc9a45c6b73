//! Semantic checks: what the API server, a controller or the CSI driver enforces
//! that a JSON Schema cannot say.
//!
//! Per object ([`check`]): name rules and length limits per kind (a Service name is a
//! DNS-1035 label, a CronJob name at most 52 characters), label and annotation syntax,
//! selectors that match their pod template, container and Service ports, probes,
//! resource quantities and requests ≤ limits, environment variable and ConfigMap
//! keys, volumes and mount paths, autoscaler bounds and targets, disruption budgets,
//! Ingress paths, the AWS provider's `objects` parameter of a SecretProviderClass
//! (parsed as the provider parses it), and the secret keys an ExternalSecret or a
//! SecretProviderClass reads (within the environment's `secret_prefixes`).
//!
//! Per set of objects ([`check_set`]): the same object defined twice, a Service port
//! listed twice (unless it repeats a port its pods declare twice), and, when the
//! set is everything that will be applied (a compiled environment), references that
//! lead nowhere: a ServiceAccount, ConfigMap or SecretProviderClass a pod uses, the
//! Deployment an autoscaler scales, the pods a Service selects, the Service a
//! ServiceMonitor scrapes.
//!
//! Many of these are checked on the input already (`resolve`, codes KG0xx); they
//! are checked again on the objects, so that a renderer bug or a hand-written file
//! is caught too.
//!
//! One module per subject, each adding its methods to the one `Checker`:
//! - `names`: object names per kind, labels and annotations;
//! - `workload`: workload specs (replicas, selector, rollout strategy, claim
//!   templates, CronJob schedule), and where a workload's pod template and
//!   containers are;
//! - `container_fields`: a readiness probe's grace period, HTTP header names, the
//!   pod field an environment variable reads, resource names and the limits of
//!   extended resources;
//! - `controllers`: the controller fields of each workload kind (strategy types,
//!   history limits, a Job's counts and completion mode, a CronJob's concurrency);
//! - `pod`: the pod spec (volumes, restart policy, service account, placement);
//! - `pod_fields`: the pod's DNS policy, hostname, security context IDs, emptyDir
//!   size limits and topology spread constraints;
//! - `pod_ports`: one port declared twice, in a pod across its containers, or in a
//!   Service;
//! - `container`: each container (its role, ports, probes, resources, environment,
//!   mounts);
//! - `service`: Services, Ingresses, NetworkPolicies;
//! - `data`: ConfigMaps, Secrets, SecretProviderClasses;
//! - `secret_refs`: the secrets an ExternalSecret or a SecretProviderClass reads,
//!   against the environment's `secret_prefixes`;
//! - `scaling`: HorizontalPodAutoscalers and PodDisruptionBudgets;
//! - `storage`: PersistentVolumeClaims and a StatefulSet's claim templates;
//! - `references`: checks between the objects of a set (duplicates, what a pod
//!   refers to);
//! - `targets`: what selects or scales what (autoscalers, Services, budgets,
//!   ServiceMonitors, a StatefulSet's governing Service);
//! - `feature_gates`: fields behind a feature gate the cluster's Kubernetes version
//!   leaves off, which its API server drops.

mod container;
pub(crate) mod container_fields;
mod controllers;
mod data;
mod feature_gates;
mod names;
mod pod;
mod pod_fields;
mod pod_ports;
mod pod_security;
mod references;
mod scaling;
mod secret_refs;
mod service;
mod storage;
mod targets;
mod workload;

use serde_json::Value;

use super::{FieldPath, Finding, Subject};

pub use container::check_env_var_name;
pub use names::check_dns1035_label;
pub use references::check_set;
pub use workload::{containers, pod_template, selector_matches};

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
        ("batch", "CronJob") => c.cronjob(&spec_path, spec),
        ("", "Pod") => c.pod_spec(&spec_path, spec, Restart::Any, &[]),
        ("", "Service") => c.service(&spec_path, spec),
        ("", "PersistentVolumeClaim") => c.claim(&spec_path, spec),
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
        ("external-secrets.io", "ExternalSecret") => c.external_secret_keys(&spec_path, spec),
        ("external-secrets.io", "PushSecret") => c.push_secret_keys(&spec_path, spec),
        _ => {}
    }
    c.pod_security();
    c.feature_gates();
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
    fn push(&mut self, mut f: Finding) {
        if f.label.is_none() {
            f.label = meant(&f.message).map(|m| format!("did you mean `{m}`?"));
        }
        self.out.push(f);
    }

    fn kind(&self) -> &str {
        self.s.kind()
    }
}

/// The option a value outside a fixed set was meant to be, from a message of the
/// checks' form for it: `unsupported <what> "<value>": use A, B or C` (the value
/// quoted or a word; a note in parentheses after the options).
fn meant(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unsupported ")?;
    let (head, options) = rest.split_once(": use ")?;
    let value = match head.strip_suffix('"') {
        Some(h) => &h[h.rfind('"')? + 1..],
        None => head.rsplit(' ').next()?,
    };
    let options = options.split(" (").next()?;
    let options: Vec<&str> = options.split(", ").flat_map(|o| o.split(" or ")).collect();
    crate::diagnostic::meant_option(value, &options).map(str::to_string)
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

#[cfg(test)]
mod testing {
    //! Helpers shared by the tests of every semantic check.
    use super::*;
    use serde_json::json;

    /// The findings about `v`, a hand-written object.
    pub fn all(v: &Value) -> Vec<Finding> {
        check(&Subject::bare(v))
    }

    /// The messages of the findings about `v`.
    pub fn messages(v: &Value) -> Vec<String> {
        check(&Subject::bare(v))
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    /// A workload of `kind` (Deployment, StatefulSet, DaemonSet, Job, CronJob) whose
    /// pods have the spec `pod`, selected by `app: x`.
    pub fn workload(kind: &str, pod: Value) -> Value {
        let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": pod});
        let api = if matches!(kind, "Job" | "CronJob") {
            "batch/v1"
        } else {
            "apps/v1"
        };
        let spec = match kind {
            "CronJob" => {
                json!({"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}})
            }
            "Job" => json!({"template": template}),
            _ => json!({"selector": {"matchLabels": {"app": "x"}}, "template": template}),
        };
        json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "x"}, "spec": spec})
    }

    pub fn findings(v: &Value) -> Vec<(String, String, String)> {
        check(&Subject::bare(v))
            .into_iter()
            .map(|f| (f.code.to_string(), f.field, f.message))
            .collect()
    }

    /// (field, message) of the findings about `v`.
    pub fn at(v: Value) -> Vec<(String, String)> {
        findings(&v).into_iter().map(|f| (f.1, f.2)).collect()
    }

    /// (field, message) of the findings about a Deployment whose pods have the spec `pod`.
    pub fn pod_findings(pod: Value) -> Vec<(String, String)> {
        at(workload("Deployment", pod))
    }

    /// An expected (field, message).
    pub fn pair(field: &str, message: &str) -> (String, String) {
        (field.to_string(), message.to_string())
    }

    pub fn deployment() -> Value {
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
}
