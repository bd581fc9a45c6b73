//! Policy: what kube-score, kube-linter and Polaris teach, as rules KG201-KG216.
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

use serde_json::Value;

use super::semantics::{containers, pod_template};
use super::{arr_at, bool_at, int_at, map_at, str_at, FieldPath, Finding, SetIndex, Subject};
use crate::diagnostic::Severity;
use crate::{image_ref, rules, secret_scan};

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
        pod_rules(s, &pp, pod, &mut out);
    }
    out
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
            .help("give every service a namespace of its own (the default `namespace = \"{{ service }}\"` does)"),
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

/// The effective value of a security setting: the container's, else the pod's.
fn effective<'a>(c: &'a Value, pod: &'a Value, key: &str) -> Option<&'a Value> {
    c.get("securityContext")
        .and_then(|sc| sc.get(key))
        .or_else(|| pod.get("securityContext").and_then(|sc| sc.get(key)))
}

fn pod_rules(s: &Subject, pp: &FieldPath, pod: &Value, out: &mut Vec<Finding>) {
    let long_running = matches!(
        s.kind(),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
    );
    let sa = str_at(pod, "serviceAccountName").or_else(|| str_at(pod, "serviceAccount"));
    if sa.is_none_or(|sa| sa == "default") {
        out.push(
            Finding::policy(
                rules::DEFAULT_SERVICE_ACCOUNT,
                &pp.key("serviceAccountName"),
                "the pods run as the namespace's `default` service account",
            )
            .help("give the workload a ServiceAccount of its own, so its permissions (and IAM role) are its own"),
        );
    }
    for (key, what) in [
        ("hostNetwork", "the node's network"),
        ("hostPID", "the node's process namespace"),
        ("hostIPC", "the node's IPC namespace"),
    ] {
        if bool_at(pod, key) == Some(true) {
            out.push(Finding::policy(
                rules::HOST_ACCESS,
                &pp.key(key),
                format!("the pods share {what} ({key}: true)"),
            ));
        }
    }
    for (i, v) in arr_at(pod, "volumes").iter().enumerate() {
        if v.get("hostPath").is_some() {
            out.push(Finding::policy(
                rules::HOST_ACCESS,
                &pp.key("volumes").index(i).key("hostPath"),
                format!(
                    "volume `{}` mounts a directory of the node (hostPath)",
                    str_at(v, "name").unwrap_or("")
                ),
            ));
        }
    }
    let seccomp_ok = |c: &Value| {
        effective(c, pod, "seccompProfile")
            .and_then(|p| str_at(p, "type"))
            .is_some_and(|t| t == "RuntimeDefault" || t == "Localhost")
    };
    for (cp, c) in containers(pp, pod, true) {
        let name = str_at(c, "name").unwrap_or("");
        let init = cp.as_str().contains("initContainers");
        let sc = || cp.key("securityContext");

        // KG201: resources.
        let res = c.get("resources");
        let set = |section: &str, r: &str| {
            res.and_then(|x| x.get(section))
                .and_then(|x| x.get(r))
                .is_some()
        };
        let mut unset = Vec::new();
        for (section, r) in [
            ("requests", "cpu"),
            ("requests", "memory"),
            ("limits", "memory"),
        ] {
            if !set(section, r) {
                unset.push(format!("{r} {}", &section[..section.len() - 1]));
            }
        }
        if !unset.is_empty() {
            out.push(
                Finding::policy(
                    rules::RESOURCES_UNSET,
                    &cp.key("resources"),
                    format!("container `{name}` sets no {}", unset.join(", no ")),
                )
                .key("resources.requests.cpu")
                .key("resources.requests.memory")
                .key("resources.limits.memory")
                .help("without requests the scheduler packs pods blindly, and without a memory limit one pod can starve the node"),
            );
        }

        // KG202: probes (long-running workloads only).
        if long_running && !init {
            for (field, which, key) in [
                ("readinessProbe", "readiness", "probes.readiness"),
                ("livenessProbe", "liveness", "probes.liveness"),
            ] {
                if c.get(field).is_none() {
                    out.push(
                        Finding::policy(rules::PROBES_UNSET, &cp.key(field), format!("container `{name}` has no {which} probe"))
                            .key(key)
                            .help(format!("set `probes = {{ {which} = \"/health\" }}` (an HTTP path on the service's port), or waive KG202 with a reason")),
                    );
                }
            }
        }

        // KG203: non-root.
        let non_root = effective(c, pod, "runAsNonRoot").and_then(Value::as_bool);
        let user = effective(c, pod, "runAsUser").and_then(Value::as_i64);
        if user == Some(0) || (non_root != Some(true) && user.is_none()) {
            let why = if user == Some(0) {
                "runs as root (runAsUser: 0)".to_string()
            } else {
                "may run as root (no runAsNonRoot: true and no runAsUser)".to_string()
            };
            out.push(
                Finding::policy(
                    rules::RUN_AS_ROOT,
                    &sc().key("runAsNonRoot"),
                    format!("container `{name}` {why}"),
                )
                .key("run_as_user")
                .help(
                    "set runAsNonRoot: true and a non-zero runAsUser in the pod's securityContext",
                ),
            );
        }

        // KG204: read-only root filesystem.
        if c.get("securityContext")
            .and_then(|x| bool_at(x, "readOnlyRootFilesystem"))
            != Some(true)
        {
            out.push(
                Finding::policy(
                    rules::WRITABLE_ROOT_FS,
                    &sc().key("readOnlyRootFilesystem"),
                    format!("container `{name}` can write to its root filesystem"),
                )
                .help("set readOnlyRootFilesystem: true and mount an emptyDir where the program writes (kgen mounts one at /tmp)"),
            );
        }

        // KG205: privilege escalation and capabilities.
        let csc = c.get("securityContext");
        if csc.and_then(|x| bool_at(x, "allowPrivilegeEscalation")) != Some(false) {
            out.push(Finding::policy(
                rules::PRIVILEGE_ESCALATION,
                &sc().key("allowPrivilegeEscalation"),
                format!("container `{name}` may gain privileges (allowPrivilegeEscalation is not false)"),
            ));
        }
        let caps = csc.and_then(|x| x.get("capabilities"));
        let drops_all = caps.map(|cp| arr_at(cp, "drop")).is_some_and(|d| {
            d.iter()
                .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("ALL")))
        });
        if !drops_all {
            out.push(Finding::policy(
                rules::PRIVILEGE_ESCALATION,
                &sc().key("capabilities").key("drop"),
                format!("container `{name}` keeps the default Linux capabilities (capabilities.drop has no ALL)"),
            ));
        }
        for (i, add) in caps
            .map(|cp| arr_at(cp, "add"))
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if add.as_str() != Some("NET_BIND_SERVICE") {
                out.push(Finding::policy(
                    rules::PRIVILEGE_ESCALATION,
                    &sc().key("capabilities").key("add").index(i),
                    format!("container `{name}` adds the capability {add}"),
                ));
            }
        }

        // KG206: privileged and host ports.
        if csc.and_then(|x| bool_at(x, "privileged")) == Some(true) {
            out.push(Finding::policy(
                rules::HOST_ACCESS,
                &sc().key("privileged"),
                format!("container `{name}` is privileged"),
            ));
        }
        for (i, p) in arr_at(c, "ports").iter().enumerate() {
            if int_at(p, "hostPort").is_some_and(|h| h != 0) {
                out.push(Finding::policy(
                    rules::HOST_ACCESS,
                    &cp.key("ports").index(i).key("hostPort"),
                    format!("container `{name}` binds a port of the node (hostPort)"),
                ));
            }
        }

        // KG207: seccomp.
        if !seccomp_ok(c) {
            out.push(
                Finding::policy(
                    rules::SECCOMP_UNSET,
                    &sc().key("seccompProfile"),
                    format!("container `{name}` runs without a seccomp profile"),
                )
                .help("set seccompProfile: { type: RuntimeDefault } in the pod's securityContext"),
            );
        }

        // KG208 and KG209: images.
        if let Some(image) = str_at(c, "image") {
            image_rules(s, &cp.key("image"), name, image, out);
        }

        // KG214: literal secrets in env.
        for (i, e) in arr_at(c, "env").iter().enumerate() {
            let (Some(var), Some(value)) = (str_at(e, "name"), str_at(e, "value")) else {
                continue;
            };
            if let Some(found) = secret_scan::scan(var, value) {
                out.push(
                    Finding::policy(
                        rules::SECRET_IN_ENV,
                        &cp.key("env").index(i).key("value"),
                        format!("environment variable `{var}` looks like it holds a secret ({})", found.what),
                    )
                    .key(format!("env.{var}"))
                    .label("secret-looking value")
                    .redacted()
                    .help("read it from a Secret (valueFrom.secretKeyRef) or a mounted file; with kgen, list it under the service's `secrets`"),
                );
            }
        }
    }
}

fn image_rules(
    s: &Subject,
    path: &FieldPath,
    container: &str,
    image: &str,
    out: &mut Vec<Finding>,
) {
    let parsed = image_ref::parse_image_ref(image).ok();
    let (tag, digest) = parsed
        .as_ref()
        .map_or((None, None), |r| (r.tag.as_deref(), r.digest.as_deref()));
    if digest.is_none() && tag.is_none_or(|t| t == "latest") {
        let why = if tag == Some("latest") {
            "is tagged `latest`"
        } else {
            "has no tag or digest"
        };
        out.push(
            Finding::policy(rules::MUTABLE_IMAGE, path, format!("the image of container `{container}` {why}, so what runs can change without a commit"))
                .key("tag")
                .key("digest")
                .key("image")
                .help("pin an immutable tag (a version or commit SHA) or a digest"),
        );
    }
    let Some(platform) = s.platform else {
        return;
    };
    let allowed: Vec<&str> = platform
        .registry
        .iter()
        .chain(platform.allowed_registries.iter())
        .map(|r| r.trim_end_matches('/'))
        .collect();
    if allowed.is_empty() {
        return;
    }
    let repository = parsed.as_ref().map_or(image, |r| r.repository.as_str());
    let ok = allowed.iter().any(|r| {
        repository
            .strip_prefix(r)
            .is_some_and(|rest| rest.starts_with('/'))
    });
    if !ok {
        out.push(
            Finding::policy(
                rules::IMAGE_REGISTRY,
                path,
                format!("the image of container `{container}` comes from outside the platform's registries ({})", allowed.join(", ")),
            )
            .key("image")
            .help("push the image to the platform registry, or add its registry to `[platform] allowed_registries`"),
        );
    }
}

/// Policy findings between the objects of one set: replicas in production, a
/// Deployment whose replica count an autoscaler also sets, and ConfigMap keys that
/// `envFrom` silently skips.
pub fn check_set(set: &[Subject], index: &SetIndex) -> Vec<(usize, Finding)> {
    let mut out = Vec::new();
    let production = |s: &Subject| s.env.is_some_and(|e| e.production);
    for (i, s) in set.iter().enumerate() {
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
        if kind == "HorizontalPodAutoscaler" && production(s) {
            let min = spec.and_then(|sp| int_at(sp, "minReplicas")).unwrap_or(1);
            if min < 2 {
                out.push((
                    i,
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
                ));
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
    .help("run at least 2 replicas in production (`replicas`, or `autoscaling.min` when autoscaling is on)")
}

#[cfg(test)]
mod tests {
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
    fn severities_and_waivability() {
        assert_eq!(severity("KG202"), Severity::Warning);
        assert_eq!(severity("KG201"), Severity::Error);
        assert!(is_waivable("KG210"));
        assert!(!is_waivable("KG101"));
        assert!(!is_waivable("KG200"));
    }
}
