//! Policy rules about pods and their containers: resources (KG201), probes (KG202),
//! security (KG203-KG207), images (KG208, KG209), host access (KG206), literal
//! secrets (KG214); each finding names the container by its role (container,
//! sidecar, init container) and points at its input (`sidecars.<name>...`).

use serde_json::Value;

use crate::validate::semantics::{containers, pod_template};
use crate::validate::{
    arr_at, bool_at, int_at, map_at, str_at, ContainerOrigin, ContainerRole, FieldPath, Finding,
    SetIndex, Subject,
};
use crate::{image_ref, rules, secret_scan};

/// How the pods of `pod` (at `pp`) use the node (KG206), each with the field and what
/// it does: the node's network, process or IPC namespace, a `hostPath` volume, a
/// privileged container, a `hostPort`. Pod Security Admission refuses all of them
/// below `privileged` (KG117).
pub(crate) fn host_uses(pp: &FieldPath, pod: &Value) -> Vec<(FieldPath, String)> {
    let mut out = Vec::new();
    for (key, what) in [
        ("hostNetwork", "the node's network"),
        ("hostPID", "the node's process namespace"),
        ("hostIPC", "the node's IPC namespace"),
    ] {
        if bool_at(pod, key) == Some(true) {
            out.push((pp.key(key), format!("the pods share {what} ({key}: true)")));
        }
    }
    for (i, v) in arr_at(pod, "volumes").iter().enumerate() {
        if v.get("hostPath").is_some() {
            out.push((
                pp.key("volumes").index(i).key("hostPath"),
                format!(
                    "volume `{}` mounts a directory of the node (hostPath)",
                    str_at(v, "name").unwrap_or("")
                ),
            ));
        }
    }
    for list in ["initContainers", "containers"] {
        for (i, c) in arr_at(pod, list).iter().enumerate() {
            // Its path and name are made only when it uses the node (most do not).
            let cp = || pp.key(list).index(i);
            let who = || {
                let name = str_at(c, "name").unwrap_or("");
                let o = ContainerOrigin::of(c, list == "initContainers");
                format!("{} `{name}`", role_noun(o.role))
            };
            let privileged = c
                .get("securityContext")
                .and_then(|x| bool_at(x, "privileged"));
            if privileged == Some(true) {
                out.push((
                    cp().key("securityContext").key("privileged"),
                    format!("{} is privileged", who()),
                ));
            }
            for (j, p) in arr_at(c, "ports").iter().enumerate() {
                if int_at(p, "hostPort").is_some_and(|h| h != 0) {
                    out.push((
                        cp().key("ports").index(j).key("hostPort"),
                        format!("{} binds a port of the node (hostPort)", who()),
                    ));
                }
            }
        }
    }
    out
}

/// The effective value of a security setting: the container's, else the pod's.
fn effective<'a>(c: &'a Value, pod: &'a Value, key: &str) -> Option<&'a Value> {
    c.get("securityContext")
        .and_then(|sc| sc.get(key))
        .or_else(|| pod.get("securityContext").and_then(|sc| sc.get(key)))
}

pub(super) fn pod_rules(s: &Subject, pp: &FieldPath, pod: &Value, out: &mut Vec<Finding>) {
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
    for (field, what) in host_uses(pp, pod) {
        out.push(Finding::policy(rules::HOST_ACCESS, &field, what));
    }
    let seccomp_ok = |c: &Value| {
        effective(c, pod, "seccompProfile")
            .and_then(|p| str_at(p, "type"))
            .is_some_and(|t| t == "RuntimeDefault" || t == "Localhost")
    };
    for (cp, c) in containers(pp, pod, true) {
        let name = str_at(c, "name").unwrap_or("");
        let o = ContainerOrigin::of(c, cp.as_str().contains("initContainers"));
        let who = format!("{} `{name}`", role_noun(o.role));
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
            let help = match o.role {
                ContainerRole::Regular => "without requests the scheduler packs pods blindly, and without a memory limit one pod can starve the node".to_string(),
                _ if hand_written(s) => format!("without requests the scheduler packs pods blindly, and without a memory limit one pod can starve the node: set its resources ({})", unset_fields(&unset)),
                _ => format!("without requests the scheduler packs pods blindly, and without a memory limit one pod can starve the node: set `{}.resources` (kgen gives sidecars and init containers no defaults)", container_table(&o, name)),
            };
            out.push(
                Finding::policy(
                    rules::RESOURCES_UNSET,
                    &cp.key("resources"),
                    format!(
                        "{} `{name}` sets no {}",
                        role_noun(o.role),
                        unset.join(", no ")
                    ),
                )
                .keys(o.keys_of(&[
                    "resources.requests.cpu",
                    "resources.requests.memory",
                    "resources.limits.memory",
                ]))
                .help(help),
            );
        }

        // KG202: a liveness probe on what keeps running (readiness: `check_set`).
        if long_running && o.role != ContainerRole::Init && c.get("livenessProbe").is_none() {
            out.push(liveness_unset(s, &cp, c, &o, name));
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
                    format!("{who} {why}"),
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
                    format!("{who} can write to its root filesystem"),
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
                format!("{who} may gain privileges (allowPrivilegeEscalation is not false)"),
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
                format!(
                    "{who} keeps the default Linux capabilities (capabilities.drop has no ALL)"
                ),
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
                    format!("{who} adds the capability {add}"),
                ));
            }
        }

        // KG207: seccomp.
        if !seccomp_ok(c) {
            out.push(
                Finding::policy(
                    rules::SECCOMP_UNSET,
                    &sc().key("seccompProfile"),
                    format!("{who} runs without a seccomp profile"),
                )
                .help("set seccompProfile: { type: RuntimeDefault } in the pod's securityContext"),
            );
        }

        // KG208 and KG209: images.
        if let Some(image) = str_at(c, "image") {
            image_rules(s, &cp.key("image"), (name, &o), image, out);
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
                    .keys(o.keys(&format!("env.{var}")))
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
    (container, o): (&str, &ContainerOrigin),
    image: &str,
    out: &mut Vec<Finding>,
) {
    // An image that does not parse is a semantic error (KG116) already.
    let Ok(parsed) = image_ref::parse_image_ref(image) else {
        return;
    };
    let parsed = Some(parsed);
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
            Finding::policy(
                rules::MUTABLE_IMAGE,
                path,
                format!(
                    "the image of {} `{container}` {why}, so what runs can change without a commit",
                    role_noun(o.role)
                ),
            )
            .keys(o.keys_of(&["tag", "digest", "image"]))
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
    // A registry host is a DNS name, whatever its case (`GHCR.io` is `ghcr.io`); the
    // path after it is lower-case by the image grammar.
    let ok = allowed.iter().any(|r| {
        repository.len() > r.len()
            && repository.as_bytes()[..r.len()].eq_ignore_ascii_case(r.as_bytes())
            && repository.as_bytes()[r.len()] == b'/'
    });
    if !ok {
        out.push(
            Finding::policy(
                rules::IMAGE_REGISTRY,
                path,
                format!("the image of {} `{container}` comes from outside the platform's registries ({})", role_noun(o.role), allowed.join(", ")),
            )
            .keys(o.keys("image"))
            .help("push the image to the platform registry, or add its registry to `[platform] allowed_registries`"),
        );
    }
}

/// "container", "sidecar" or "init container".
pub(super) fn role_noun(role: ContainerRole) -> &'static str {
    match role {
        ContainerRole::Regular => "container",
        ContainerRole::Sidecar => "sidecar",
        ContainerRole::Init => "init container",
    }
}

/// The input table of a sidecar or init container (`sidecars.<name>`), or `probes`'
/// owner for the main container (the service itself).
fn container_table(o: &ContainerOrigin, name: &str) -> String {
    match o.role {
        ContainerRole::Regular => String::new(),
        ContainerRole::Sidecar => format!("sidecars.{name}"),
        ContainerRole::Init => format!("init_containers.{name}"),
    }
}

/// Whether a container declares a port named `http` (kgen's main container of a
/// kind with a Service), which an HTTP probe path can use.
fn serves_http(c: &Value) -> bool {
    arr_at(c, "ports")
        .iter()
        .any(|p| str_at(p, "name") == Some("http"))
}

/// A probe handler to suggest for a container without an HTTP port: a TCP check of
/// its first named port, else a command.
fn suggested_handler(c: &Value) -> String {
    match arr_at(c, "ports").iter().find_map(|p| str_at(p, "name")) {
        Some(port) => format!("{{ tcp = \"{port}\" }}"),
        None => "{ exec = [\"/bin/healthcheck\"] }".to_string(),
    }
}

/// Whether `s` is a hand-written manifest (under `manifests/`, or `kgen validate
/// PATH`): its help speaks of manifest fields and annotations, not of platform.toml.
fn hand_written(s: &Subject) -> bool {
    s.hand_written
}

/// The manifest fields behind KG201's "no cpu request, no memory limit" list.
fn unset_fields(unset: &[String]) -> String {
    unset
        .iter()
        .map(|u| match u.split_once(' ') {
            Some((r, section)) => format!("`{section}s.{r}`"),
            None => u.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A probe handler to suggest in a manifest: `httpGet` on the `http` port, else a TCP
/// check of the first named port, else a command.
fn manifest_handler(c: &Value) -> String {
    if serves_http(c) {
        return "`httpGet: { path: /health, port: http }`".to_string();
    }
    match arr_at(c, "ports").iter().find_map(|p| str_at(p, "name")) {
        Some(port) => format!("`tcpSocket: {{ port: {port} }}`"),
        None => "`exec: { command: [/bin/healthcheck] }`".to_string(),
    }
}

/// The way to waive KG202 in a manifest.
const WAIVE_KG202_ANNOTATION: &str =
    "or waive KG202 with the annotation `kgen.dev/waive-KG202: \"<reason>\"`";

/// KG202 for a missing liveness probe, with a help line for the container's role.
fn liveness_unset(
    s: &Subject,
    cp: &FieldPath,
    c: &Value,
    o: &ContainerOrigin,
    name: &str,
) -> Finding {
    let help = match o.role {
        _ if hand_written(s) => format!(
            "a {} that hangs is never restarted without one: add a livenessProbe ({}), {WAIVE_KG202_ANNOTATION}",
            role_noun(o.role),
            manifest_handler(c)
        ),
        ContainerRole::Sidecar => format!(
            "a sidecar that hangs is never restarted without one: set `{}.probes = {{ liveness = {} }}`, or waive KG202 with a reason",
            container_table(o, name),
            suggested_handler(c)
        ),
        _ if serves_http(c) => "set `probes = { liveness = \"/health\" }` (an HTTP path on the service's port), or waive KG202 with a reason".to_string(),
        _ => format!(
            "a process that hangs is never restarted without one: set `probes = {{ liveness = {} }}` (the container serves no HTTP port; `grpc` works too), or waive KG202 with a reason",
            suggested_handler(c)
        ),
    };
    Finding::policy(
        rules::PROBES_UNSET,
        &cp.key("livenessProbe"),
        format!("{} `{name}` has no liveness probe", role_noun(o.role)),
    )
    .keys(o.keys("probes.liveness"))
    .help(help)
}

/// KG202 readiness: the regular containers of the pods a Service of the set sends
/// traffic to need a readiness probe, or every rollout sends requests to pods that
/// are not ready yet. In a set that is not complete (`kgen validate PATH`), pods no
/// Service of the files selects but whose containers declare ports may have their
/// Service elsewhere, and are held to the same rule.
pub(super) fn readiness_rules(
    set: &[Subject],
    index: &SetIndex,
    complete: bool,
    i: usize,
    s: &Subject,
    out: &mut Vec<(usize, Finding)>,
) {
    if !matches!(
        (s.group(), s.kind()),
        (
            "apps",
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        )
    ) {
        return;
    }
    let Some((pp, meta, pod)) = pod_template(s) else {
        return;
    };
    let labels = meta.and_then(|m| map_at(m, "labels"));
    let ns = s.namespace().unwrap_or("");
    let service = index.services(ns).iter().find_map(|&j| {
        let sel = set[j]
            .value
            .get("spec")
            .and_then(|sp| map_at(sp, "selector"))?;
        let selects = !sel.is_empty()
            && sel
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
        selects.then(|| set[j].name())
    });
    let regular = containers(&pp, pod, false);
    let serves = match service {
        Some(_) => true,
        None => !complete && regular.iter().any(|(_, c)| !arr_at(c, "ports").is_empty()),
    };
    if !serves {
        return;
    }
    for (cp, c) in regular {
        if c.get("readinessProbe").is_some() {
            continue;
        }
        let name = str_at(c, "name").unwrap_or("");
        let o = ContainerOrigin::of(c, false);
        let help = match service {
            Some(svc) if hand_written(s) => format!(
                "Service `{svc}` sends it traffic before it is ready without one: add a readinessProbe ({}), {WAIVE_KG202_ANNOTATION}",
                manifest_handler(c)
            ),
            Some(_) if serves_http(c) => "set `probes = { readiness = \"/health\" }` (an HTTP path on the service's port), or waive KG202 with a reason".to_string(),
            Some(svc) => format!(
                "Service `{svc}` sends it traffic before it is ready without one: set `probes = {{ readiness = {} }}`, or waive KG202 with a reason",
                suggested_handler(c)
            ),
            None => format!("its ports may receive traffic from a Service outside these files: add a readinessProbe (httpGet, tcpSocket or exec), {WAIVE_KG202_ANNOTATION}"),
        };
        out.push((
            i,
            Finding::policy(
                rules::PROBES_UNSET,
                &cp.key("readinessProbe"),
                format!("container `{name}` has no readiness probe"),
            )
            .keys(o.keys("probes.readiness"))
            .help(help),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::severity;
    use super::super::testing::*;
    use crate::diagnostic::Severity;
    use crate::rules;
    use serde_json::json;

    #[test]
    fn probes_where_they_do_something() {
        let mut app = good("app");
        app["livenessProbe"] = json!({"exec": {"command": ["true"]}});
        let mut proxy = good("proxy");
        proxy["restartPolicy"] = json!("Always");
        let pod = json!({"initContainers": [proxy, good("init")], "containers": [app]});
        // Behind a Service: readiness on the regular container; liveness on the sidecar.
        assert_eq!(
            all(&[workload("Deployment", pod.clone()), service("x")], true),
            vec![
                (
                    0,
                    "KG202".into(),
                    "sidecar `proxy` has no liveness probe".into()
                ),
                (
                    0,
                    "KG202".into(),
                    "container `app` has no readiness probe".into()
                ),
            ]
        );
        // A worker (no Service selects it): no readiness probe needed.
        assert_eq!(
            all(&[workload("Deployment", pod.clone()), service("y")], true)
                .into_iter()
                .filter(|f| f.0 == 0)
                .collect::<Vec<_>>(),
            vec![(
                0,
                "KG202".into(),
                "sidecar `proxy` has no liveness probe".into()
            )]
        );
        // Jobs and CronJobs run to completion: no probes at all.
        for kind in ["Job", "CronJob"] {
            let mut p = pod.clone();
            p["restartPolicy"] = json!("Never");
            p["containers"][0]
                .as_object_mut()
                .unwrap()
                .remove("livenessProbe");
            assert_eq!(
                all(&[workload(kind, p), service("x")], true),
                vec![],
                "{kind}"
            );
        }
    }

    #[test]
    fn readiness_when_the_service_may_be_elsewhere() {
        let mut app = good("app");
        app["livenessProbe"] = json!({"tcpSocket": {"port": 8080}});
        app["ports"] = json!([{"name": "web", "containerPort": 8080}]);
        let d = workload("Deployment", json!({"containers": [app.clone()]}));
        // `kgen validate PATH`: a container with a port may be behind a Service of
        // other files.
        assert_eq!(
            all(std::slice::from_ref(&d), false),
            vec![(
                0,
                "KG202".into(),
                "container `app` has no readiness probe".into()
            )]
        );
        // A compiled environment is complete: no Service, no traffic.
        assert_eq!(all(std::slice::from_ref(&d), true), vec![]);
        app.as_object_mut().unwrap().remove("ports");
        assert_eq!(
            all(
                &[workload("Deployment", json!({"containers": [app]}))],
                false
            ),
            vec![]
        );
    }

    #[test]
    fn container_rules_cover_every_container_of_every_kind() {
        let mut bad = json!({"name": "init", "image": "busybox"});
        bad["securityContext"] = json!({"runAsUser": 0});
        let mut proxy = json!({"name": "proxy", "image": "r.example.com/proxy:latest", "restartPolicy": "Always",
            "livenessProbe": {"tcpSocket": {"port": 1}}});
        proxy["env"] =
            json!([{"name": "API_TOKEN", "value": "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"}]);
        let c = workload(
            "CronJob",
            json!({"restartPolicy": "OnFailure", "initContainers": [bad, proxy], "containers": [good("job")]}),
        );
        let got: Vec<String> = all(&[c], true)
            .into_iter()
            .map(|(_, code, m)| format!("{code} {m}"))
            .collect();
        assert_eq!(
            got,
            vec![
                "KG201 init container `init` sets no cpu request, no memory request, no memory limit",
                "KG203 init container `init` runs as root (runAsUser: 0)",
                "KG204 init container `init` can write to its root filesystem",
                "KG205 init container `init` may gain privileges (allowPrivilegeEscalation is not false)",
                "KG205 init container `init` keeps the default Linux capabilities (capabilities.drop has no ALL)",
                "KG207 init container `init` runs without a seccomp profile",
                "KG208 the image of init container `init` has no tag or digest, so what runs can change without a commit",
                "KG201 sidecar `proxy` sets no cpu request, no memory request, no memory limit",
                "KG203 sidecar `proxy` may run as root (no runAsNonRoot: true and no runAsUser)",
                "KG204 sidecar `proxy` can write to its root filesystem",
                "KG205 sidecar `proxy` may gain privileges (allowPrivilegeEscalation is not false)",
                "KG205 sidecar `proxy` keeps the default Linux capabilities (capabilities.drop has no ALL)",
                "KG207 sidecar `proxy` runs without a seccomp profile",
                "KG208 the image of sidecar `proxy` is tagged `latest`, so what runs can change without a commit",
                "KG214 environment variable `API_TOKEN` looks like it holds a secret (a GitHub token)",
            ]
        );
    }

    #[test]
    fn a_daemonset_on_the_node_is_host_access() {
        let mut agent = good("agent");
        agent["livenessProbe"] = json!({"exec": {"command": ["true"]}});
        let ds = workload(
            "DaemonSet",
            json!({"hostNetwork": true, "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}],
                "containers": [agent]}),
        );
        assert_eq!(
            all(&[ds], true),
            vec![
                (
                    0,
                    "KG206".into(),
                    "the pods share the node's network (hostNetwork: true)".into()
                ),
                (
                    0,
                    "KG206".into(),
                    "volume `logs` mounts a directory of the node (hostPath)".into()
                ),
            ]
        );
        assert_eq!(severity(rules::HOST_ACCESS), Severity::Error);
    }
}
