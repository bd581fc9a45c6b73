//! Bad input to the workload kinds (issue 15): settings a kind does not take (KG028),
//! references to nothing (KG029), CronJob schedules and time zones (KG030), and the
//! checks of probes, containers, volumes, files, placement, metadata, rollout and
//! the kinds' own settings. Each case: the exact message with file, line and column,
//! exit 2, nothing written (`common::fails`).
//!
//! Tests marked `#[ignore = "bug: ..."]` state the behaviour kgen should have and does
//! not yet.

mod common;

use common::{fails, MINIMAL};

/// MINIMAL with the service's `port = 8080` line replaced by `body`, which starts on
/// line 12 (the service's table header is line 9).
fn service(body: &str) -> String {
    assert!(MINIMAL.ends_with("port = 8080\n"));
    MINIMAL.replace("port = 8080\n", body)
}

/// The message of a setting on a kind that does not take it, at `line`:`col`.
fn kind_mismatch(key: &str, kind: &str, takes: &str, line: usize, text: &str) -> String {
    let col = key.len() + 4;
    let value = &text[key.len() + 3..];
    format!(
        "error[KG028]: `{key}` does not apply to a `{kind}`
  --> platform.toml:{line}:{col}
   |
{line} | {text}
   | {pad}{carets}
   = help: `{key}` is for a {takes}; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
",
        pad = " ".repeat(col - 1),
        carets = "^".repeat(value.chars().count()),
    )
}

#[test]
fn settings_a_kind_does_not_take() {
    const SERVED: &str = "deployment, statefulset, daemonset";
    const REPLICATED: &str = "deployment, worker, statefulset";
    let settings = [
        ("port", "8080", SERVED, &["worker", "job", "cronjob"][..]),
        (
            "service",
            "{ type = \"NodePort\" }",
            SERVED,
            &["worker", "job", "cronjob"],
        ),
        (
            "ingress",
            "{ host = \"api.example.com\" }",
            SERVED,
            &["worker", "job", "cronjob"],
        ),
        (
            "metrics",
            "{ path = \"/metrics\" }",
            SERVED,
            &["worker", "job", "cronjob"],
        ),
        (
            "replicas",
            "3",
            REPLICATED,
            &["job", "cronjob", "daemonset"],
        ),
        (
            "autoscaling",
            "{ max = 3 }",
            REPLICATED,
            &["job", "cronjob", "daemonset"],
        ),
        (
            "disruption_budget",
            "{ max_unavailable = 1 }",
            REPLICATED,
            &["job", "cronjob", "daemonset"],
        ),
        (
            "spread",
            "{ zones = \"hard\" }",
            REPLICATED,
            &["job", "cronjob", "daemonset"],
        ),
    ];
    for (key, value, takes, kinds) in settings {
        for kind in kinds {
            // A cronjob needs its schedule: the setting moves one line down.
            let schedule = if *kind == "cronjob" {
                "schedule = \"@daily\"\n"
            } else {
                ""
            };
            let line = if *kind == "cronjob" { 14 } else { 13 };
            let text = format!("{key} = {value}");
            let err = fails(
                &service(&format!("kind = \"{kind}\"\n{schedule}{text}\n")),
                &[],
            );
            assert_eq!(
                err,
                kind_mismatch(key, kind, takes, line, &text),
                "{key} on a {kind}"
            );
        }
    }
}

#[test]
fn probe_port_without_http() {
    let err = fails(
        &service("port = 8080\nprobes = { readiness = { tcp = \"http\", port = \"admin\" } }\n"),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `probes.readiness` sets `port` without `http`
  --> platform.toml:13:47
   |
13 | probes = { readiness = { tcp = "http", port = "admin" } }
   |                                               ^^^^^^^
   = help: `port` is the port of an `http` probe; `tcp` and `grpc` name their port themselves (`tcp = "admin"`)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn secret_looking_annotation_under_a_dotted_key() {
    let err = fails(
        &service("port = 8080\nannotations = { \"acme.com/token\" = \"ghp_abcdefghijklmnopqrstuvwxyz0123456789\" }\n"),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG010]: `acme.com/token` looks like it holds a secret (a GitHub token); kgen refuses secrets in plain text
  --> platform.toml:13:36
   |
13 | annotations = { "acme.com/token" = "****************************************" }
   |                                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ secret-looking value
   = help: store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets` (mounted at /mnt/secrets-store/<name>); see docs/platform.md#secrets

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn two_volumes_at_one_path_written_differently() {
    let err = fails(
        &service(
            "port = 8080\nvolumes = { a = { mount = \"/data\" }, b = { mount = \"/data/\" } }\n",
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG015]: volumes `a` and `b` are both mounted at `/data`
  --> platform.toml:13:52
   |
13 | volumes = { a = { mount = "/data" }, b = { mount = "/data/" } }
   |                                                    ^^^^^^^^
   = help: a directory holds one volume: mount this one elsewhere, or use one volume for both (sidecars mount it under `mounts` too)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A `config` key with dots is named whole too.
#[test]
fn secret_looking_config_value_under_a_dotted_key() {
    let err = fails(
        &service("port = 8080\nconfig = { \"db.password\" = \"hunter2-Xk9#mQ2$vL7\" }\n"),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG010]: `db.password` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
  --> platform.toml:13:28
   |
13 | config = { "db.password" = "*******************" }
   |                            ^^^^^^^^^^^^^^^^^^^^^ secret-looking value
   = help: store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets` (mounted at /mnt/secrets-store/<name>); see docs/platform.md#secrets

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn time_zone_that_does_not_exist() {
    let err = fails(
        &service("kind = \"cronjob\"\nschedule = \"0 3 * * *\"\ncron = { time_zone = \"Europe/Pariss\" }\n"),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG030]: time zone `Europe/Pariss`: it is not in the IANA time zone database
  --> platform.toml:14:22
   |
14 | cron = { time_zone = "Europe/Pariss" }
   |                      ^^^^^^^^^^^^^^^ did you mean `Europe/Paris`?
   = help: write a name of the IANA time zone database, such as `Europe/Paris`, `America/New_York` or `UTC`, as the API server spells it

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn max_unavailable_and_max_surge_both_zero() {
    for (body, written) in [
        (
            "rollout = { max_unavailable = 0, max_surge = 0 }",
            "`max_unavailable = 0` with `max_surge = 0`",
        ),
        (
            "rollout = { max_unavailable = \"0%\", max_surge = \"0%\" }",
            "`max_unavailable = \"0%\"` with `max_surge = \"0%\"`",
        ),
    ] {
        let err = fails(&service(&format!("port = 8080\n{body}\n")), &[]);
        assert_eq!(
            err,
            format!(
                "error[KG019]: {written}: the rollout could never replace a pod
  --> platform.toml:13:31
   |
13 | {body}
   |                               ^{carets}
   = help: allow one extra pod (`max_surge = 1`, or no `max_surge`: Kubernetes then allows 25%) or one unavailable pod (`max_unavailable = 1`)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
",
                carets = "^".repeat(body[30..].find(',').unwrap() - 1),
            ),
            "{body}"
        );
    }
}

#[test]
fn daemonset_rollout_the_api_server_refuses() {
    const HELP: &str = "   = help: a DaemonSet replaces a node's pod one of two ways: `max_unavailable = 1` (the default) stops the old pod first; `max_surge = 1, max_unavailable = 0` starts the new pod first\n";
    for (body, at, message) in [
        // maxUnavailable defaults to 1: both non-zero.
        (
            "rollout = { max_surge = 1 }",
            "14:25",
            "`max_surge = 1` with `max_unavailable` unset (1 for a DaemonSet): a DaemonSet takes exactly one of them above 0",
        ),
        (
            "rollout = { max_surge = 1, max_unavailable = \"10%\" }",
            "14:25",
            "`max_surge = 1` with `max_unavailable = \"10%\"`: a DaemonSet takes exactly one of them above 0",
        ),
        // maxSurge defaults to 0: both zero.
        (
            "rollout = { max_unavailable = 0 }",
            "14:31",
            "`max_unavailable = 0` with `max_surge` unset (0 for a DaemonSet): the rollout could never replace a pod",
        ),
        (
            "rollout = { max_unavailable = \"0%\", max_surge = 0 }",
            "14:31",
            "`max_unavailable = \"0%\"` with `max_surge = 0`: the rollout could never replace a pod",
        ),
    ] {
        let err = fails(
            &service(&format!(
                "kind = \"daemonset\"\nprobes = {{ liveness = \"/health\", readiness = \"/ready\" }}\n{body}\n"
            )),
            &[],
        );
        assert!(
            err.starts_with(&format!(
                "error[KG019]: {message}\n  --> platform.toml:{at}\n   |\n14 | {body}\n"
            )) && err.contains(HELP),
            "{body}\n{err}"
        );
    }
}

/// `labels` go on the Namespace too, where kgen sets Pod Security Admission's level.
#[test]
fn label_kgen_sets_on_the_namespace() {
    let err = fails(
        &service("port = 8080\nlabels = { team = \"payments\", \"pod-security.kubernetes.io/enforce\" = \"privileged\" }\n"),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG018]: `pod-security.kubernetes.io/enforce` is a label kgen sets on the service's Namespace
  --> platform.toml:13:31
   |
13 | labels = { team = "payments", "pod-security.kubernetes.io/enforce" = "privileged" }
   |                               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: `labels` go on every object of the service, its Namespace too, where kgen sets `pod-security.kubernetes.io/enforce` (Pod Security Admission) and Kubernetes `kubernetes.io/metadata.name`; choose another key

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn statefulset_max_unavailable_before_kubernetes_1_35() {
    let err = fails(
        &service(
            "kind = \"statefulset\"\nport = 5432\nprobes = { liveness = { tcp = \"http\" }, readiness = { tcp = \"http\" } }\nrollout = { max_unavailable = 2 }\n",
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `rollout.max_unavailable` on a `statefulset` needs Kubernetes 1.35; cluster `dev` runs 1.29
  --> platform.toml:15:31
   |
15 | rollout = { max_unavailable = 2 }
   |                               ^
   = help: before 1.35 the field is behind the alpha MaxUnavailableStatefulSet feature gate, off by default: the API server drops it and the pods are replaced one at a time; remove it, or set the cluster's `kubernetes_version = "1.35"` once it runs 1.35

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// The overlay that sets it is the one pointed at.
#[test]
fn port_set_in_an_overlay_on_a_worker() {
    let err = fails(
        &service(
            r#"kind = "worker"
"#,
        ),
        &[(
            "dev",
            r#"[services.api]
port = 9090
"#,
        )],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `port` does not apply to a `worker`
 --> overlays/dev.toml:2:8
  |
2 | port = 9090
  |        ^^^^
  = help: `port` is for a deployment, statefulset, daemonset; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// `metrics` and `ingress` need the service's Service: KG028 at the key, saying why
/// there is none (`service.enabled = false`, or a daemonset that asks for no Service)
/// and how to have one, rather than a ServiceMonitor that selects nothing (KG113).
#[test]
fn metrics_or_ingress_on_a_service_without_a_service() {
    let err = fails(
        &service("service = { enabled = false }\nmetrics = { port = 9090 }\n"),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: service `api` has `metrics` but no Service (`service.enabled = false`)
  --> platform.toml:13:11
   |
13 | metrics = { port = 9090 }
   |           ^^^^^^^^^^^^^^^
   = help: Prometheus scrapes the pods through their Service: remove `service.enabled = false`, or remove `metrics`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // A daemonset has a Service only when it asks for one; both keys are reported.
    let err = fails(
        &service(
            "kind = \"daemonset\"\nmetrics = { port = 9100 }\ningress = { host = \"agent.example.com\" }\n",
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: service `api` has `metrics` but no Service: a `daemonset` has a Service only when it sets `port` or a `service` table itself (not from [defaults])
  --> platform.toml:13:11
   |
13 | metrics = { port = 9100 }
   |           ^^^^^^^^^^^^^^^
   = help: Prometheus scrapes the pods through their Service: give the service a `port` or `service = {}`, or remove `metrics`

error[KG028]: service `api` has an `ingress` but no Service: a `daemonset` has a Service only when it sets `port` or a `service` table itself (not from [defaults])
  --> platform.toml:14:11
   |
14 | ingress = { host = "agent.example.com" }
   |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: an Ingress routes to the Service: give the service a `port` or `service = {}`, or remove the `ingress`

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A port number and protocol is the pod's: declared twice (by one container, or by
/// the main container and a sidecar) is KG106 at the second declaration. The same
/// number with another protocol is another port, and a plain init container, which
/// runs before the others, is left out.
#[test]
fn a_port_declared_twice_in_a_pod() {
    let err = fails(
        &service(
            r#"port = 8080
probes = { liveness = "/health", readiness = "/ready" }
ports = { admin = { port = 8080, expose = false }, dns = { port = 5353, protocol = "UDP" } }

[services.api.sidecars.proxy]
image = "acme/proxy"
tag = "1.0.0"
ports = { proxy = { port = 8080, expose = false }, dns-tcp = 5353 }
probes = { liveness = { tcp = "dns-tcp" } }
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "64Mi" } }

[services.api.init_containers.wait]
image = "acme/wait"
tag = "1.0.0"
ports = { wait = 8080 }
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "64Mi" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG106]: container `api` declares port 8080/TCP twice, as `http` and `admin`: only one process can listen on a port
  --> platform.toml:14:19
   |
14 | ports = { admin = { port = 8080, expose = false }, dns = { port = 5353, protocol = "UDP" } }
   |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/dev/api/deployment.yaml: spec.template.spec.containers[0].ports[1].containerPort
   = help: give one of them another port number, or remove one of them

error[KG106]: sidecar `proxy` declares port 8080/TCP (`proxy`), which container `api` declares already (`http`): the containers of a pod share its network, and only one of them can listen on a port
  --> platform.toml:19:19
   |
19 | ports = { proxy = { port = 8080, expose = false }, dns-tcp = 5353 }
   |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/dev/api/deployment.yaml: spec.template.spec.initContainers[0].ports[1].containerPort
   = help: give one of them another port number, or declare it on one container only (a pod's containers reach each other on `localhost`)

error: 2 errors and 0 warnings; nothing was written
"#
    );
}

/// A container port declared twice that is also on the Service (and, for a
/// statefulset, on its headless Service) is one error, at the second declaration: the
/// Service's port listed twice follows from it and is not reported again (rules.md
/// KG106). Two environments with the same mistake still make one error.
#[test]
fn a_port_declared_twice_and_exposed_is_one_error() {
    let err = fails(
        r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[environments.prod]
cluster = "https://prod.example.com"

[services.db]
kind = "statefulset"
image = "acme/db"
tag = "1.0.0"
port = 5432
probes = { liveness = { tcp = "http" }, readiness = { tcp = "http" } }
ports = { grpc = { port = 5432 } }

[services.web]
image = "acme/web"
tag = "1.0.0"
port = 8080
probes = { liveness = "/health", readiness = "/ready" }

[services.web.sidecars.proxy]
image = "acme/proxy"
tag = "1.0.0"
ports = { proxy = 8080 }
probes = { liveness = { tcp = "proxy" } }
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "64Mi" } }
"#,
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG106]: container `db` declares port 5432/TCP twice, as `http` and `grpc`: only one process can listen on a port
  --> platform.toml:18:18
   |
18 | ports = { grpc = { port = 5432 } }
   |                  ^^^^^^^^^^^^^^^
   = in: generated/{dev,prod}/db/statefulset.yaml: spec.template.spec.containers[0].ports[1].containerPort
   = help: give one of them another port number, or remove one of them

error[KG106]: sidecar `proxy` declares port 8080/TCP (`proxy`), which container `web` declares already (`http`): the containers of a pod share its network, and only one of them can listen on a port
  --> platform.toml:29:19
   |
29 | ports = { proxy = 8080 }
   |                   ^^^^
   = in: generated/{dev,prod}/web/deployment.yaml: spec.template.spec.initContainers[0].ports[0].containerPort
   = help: give one of them another port number, or declare it on one container only (a pod's containers reach each other on `localhost`)

error: 2 errors and 0 warnings; nothing was written
"#
    );
}

/// A Service port number listed twice without a container port declared twice (a
/// `service_port` or `service.port` that repeats another port) is KG106 at the value
/// that makes the second Service port.
#[test]
fn a_service_port_listed_twice_is_reported_at_its_value() {
    let err = fails(
        &service(
            r#"port = 8080
service = { port = 9090 }
probes = { liveness = "/health", readiness = "/ready" }
ports = { grpc = 9090, admin = { port = 9901, service_port = 9090 } }
"#,
        ),
        &[],
    );
    let help = "the API server refuses a Service with a port number and protocol twice: give one of them another number (`service.port` for `http`, `service_port` for a port of `ports`)";
    assert_eq!(
        err,
        format!(
            r#"error[KG106]: Service port 9090/TCP is listed twice
  --> platform.toml:15:18
   |
15 | ports = {{ grpc = 9090, admin = {{ port = 9901, service_port = 9090 }} }}
   |                  ^^^^
   = in: generated/dev/api/service.yaml: spec.ports[2].port
   = help: {help}

error[KG106]: Service port 9090/TCP is listed twice
  --> platform.toml:15:62
   |
15 | ports = {{ grpc = 9090, admin = {{ port = 9901, service_port = 9090 }} }}
   |                                                              ^^^^
   = in: generated/dev/api/service.yaml: spec.ports[1].port
   = help: {help}

error: 2 errors and 0 warnings; nothing was written
"#
        )
    );
}

#[test]
fn schedule_on_a_deployment() {
    let err = fails(
        &service(
            r#"schedule = "@daily"
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `schedule` does not apply to a `deployment` (the default `kind`)
  --> platform.toml:12:12
   |
12 | schedule = "@daily"
   |            ^^^^^^^^
   = help: `schedule` is for a cronjob; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A misspelt `kind` is one error: the settings of the kind meant are not reported as
/// not applying to the default kind the service would be without it.
#[test]
fn a_misspelt_kind_hides_the_settings_of_the_kind_meant() {
    let err = fails(
        &service(
            r#"kind = "cronjb"
schedule = "@daily"
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG003]: unknown value `cronjb`
  --> platform.toml:12:8
   |
12 | kind = "cronjb"
   |        ^^^^^^^^ did you mean `cronjob`?
   = help: write one of: deployment, worker, statefulset, cronjob, job, daemonset

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A misspelt `schedule` in platform.toml is one error: the service it leaves without
/// a schedule is not reported again at an overlay's table of the service (newcomer
/// review 5, #4).
#[test]
fn a_misspelt_schedule_is_one_error_with_an_overlay() {
    let err = fails(
        &service(
            r#"kind = "cronjob"
schedul = "@daily"
"#,
        ),
        &[("dev", "[services.api]\ntag = \"1.0.1\"\n")],
    );
    assert_eq!(
        err,
        r#"error[KG002]: unknown key `schedul`
  --> platform.toml:13:1
   |
13 | schedul = "@daily"
   | ^^^^^^^ did you mean `schedule`?
   = help: the keys allowed here are: enabled, image, tag, digest, port, port_name, replicas, namespace, resources, probes, env, config, autoscaling, iam_role, secrets, run_as_user, metrics, ingress, calls, disruption_budget, spread, waivers, kind, command, args, ports, service, sidecars, init_containers, volumes, files, node_selector, tolerations, node_affinity, priority_class, pod_security, termination_grace_period, image_pull_secrets, labels, annotations, pod_labels, pod_annotations, service_account, rollout, schedule, cron, job, hook, statefulset, patches

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A misspelt `tag` in an overlay is one error, not also "has no image `tag`" at the
/// table that holds it; a service that has no tag for another reason is still
/// reported in the same run.
#[test]
fn a_misspelt_tag_in_an_overlay_is_one_error() {
    let text = format!(
        "{}\n[services.web]\nimage = \"acme/web\"\nport = 8080\n",
        MINIMAL.replace("tag = \"1.0.0\"\n", "")
    );
    let err = fails(&text, &[("dev", "[services.api]\ntagg = \"1.0.1\"\n")]);
    assert_eq!(
        err,
        r#"error[KG014]: service `web` has no image `tag` or `digest` in environment `dev`
  --> platform.toml:13:11
   |
13 | [services.web]
   |           ^^^
   = help: set `tag = "1.2.3"` under [services.web] in overlays/dev.toml (or in platform.toml for every environment)

error[KG002]: unknown key `tagg`
 --> overlays/dev.toml:2:1
  |
2 | tagg = "1.0.1"
  | ^^^^ did you mean `tag`?
  = help: the keys allowed here are: enabled, image, tag, digest, port, port_name, replicas, namespace, resources, probes, env, config, autoscaling, iam_role, secrets, run_as_user, metrics, ingress, calls, disruption_budget, spread, waivers, kind, command, args, ports, service, sidecars, init_containers, volumes, files, node_selector, tolerations, node_affinity, priority_class, pod_security, termination_grace_period, image_pull_secrets, labels, annotations, pod_labels, pod_annotations, service_account, rollout, schedule, cron, job, hook, statefulset, patches

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A key written one table too high, where a table inside takes it, is named where it
/// belongs (newcomer review 6, #21).
#[test]
fn a_key_of_a_nested_table_written_too_high() {
    let err = fails(
        &service(
            r#"kind = "statefulset"
port = 8080
volumes.data = { mount = "/data", storage_class = "gp3", claim = { size = "20Gi" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG002]: unknown key `storage_class`
  --> platform.toml:14:35
   |
14 | volumes.data = { mount = "/data", storage_class = "gp3", claim = { size = "20Gi" } }
   |                                   ^^^^^^^^^^^^^ did you mean `claim.storage_class`?
   = help: the keys allowed here are: mount, read_only, empty_dir, claim

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn cron_on_a_job() {
    let err = fails(
        &service(
            r#"kind = "job"
cron = { suspend = true }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `cron` does not apply to a `job`
  --> platform.toml:13:8
   |
13 | cron = { suspend = true }
   |        ^^^^^^^^^^^^^^^^^^
   = help: `cron` is for a cronjob; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn job_settings_on_a_worker() {
    let err = fails(
        &service(
            r#"kind = "worker"
job = { backoff_limit = 1 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `job` does not apply to a `worker`
  --> platform.toml:13:7
   |
13 | job = { backoff_limit = 1 }
   |       ^^^^^^^^^^^^^^^^^^^^^
   = help: `job` is for a job, cronjob; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn hook_on_a_cronjob() {
    let err = fails(
        &service(
            r#"kind = "cronjob"
schedule = "@daily"
hook = { phase = "PreSync" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `hook` does not apply to a `cronjob`
  --> platform.toml:14:8
   |
14 | hook = { phase = "PreSync" }
   |        ^^^^^^^^^^^^^^^^^^^^^
   = help: `hook` is for a job; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn statefulset_table_on_a_deployment() {
    let err = fails(
        &service(
            r#"statefulset = { pod_management = "Parallel" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `statefulset` does not apply to a `deployment` (the default `kind`)
  --> platform.toml:12:15
   |
12 | statefulset = { pod_management = "Parallel" }
   |               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: `statefulset` is for a statefulset; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn rollout_on_a_job() {
    let err = fails(
        &service(
            r#"kind = "job"
rollout = { max_surge = 1 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `rollout` does not apply to a `job`
  --> platform.toml:13:11
   |
13 | rollout = { max_surge = 1 }
   |           ^^^^^^^^^^^^^^^^^
   = help: `rollout` is for a deployment, worker, statefulset, daemonset; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn recreate_on_a_statefulset() {
    let err = fails(
        &service(
            r#"kind = "statefulset"
rollout = { strategy = "recreate" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: a `statefulset` cannot roll out with this strategy
  --> platform.toml:13:24
   |
13 | rollout = { strategy = "recreate" }
   |                        ^^^^^^^^^^
   = help: `recreate` is for a deployment or worker, `on-delete` for a statefulset or daemonset; `rolling` fits every kind

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// What `recreate` and `on-delete` have no use for is refused at its value, not
/// dropped: a rolling update's `partition`, `max_surge` and `max_unavailable`.
#[test]
fn rollout_settings_the_strategy_cannot_use() {
    let err = fails(
        &service(
            r#"kind = "statefulset"
rollout = { strategy = "on-delete", partition = 1 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `rollout.partition` has no use with `strategy = "on-delete"`: a pod is replaced only when it is deleted, so no rolling update holds pods back or replaces several at once
  --> platform.toml:13:49
   |
13 | rollout = { strategy = "on-delete", partition = 1 }
   |                                                 ^
   = help: remove `partition`, or roll out with `strategy = "rolling"` (the default), which keeps the pods with an ordinal below `partition` at the old version

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    let err = fails(
        &service(
            r#"kind = "daemonset"
rollout = { strategy = "on-delete", max_surge = 1, max_unavailable = 0 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("error") || l.starts_with("  -->"))
            .collect::<Vec<_>>(),
        [
            "error[KG019]: `rollout.max_surge` has no use with `strategy = \"on-delete\"`: a node's pod is replaced only when it is deleted, so nothing surges or is counted unavailable",
            "  --> platform.toml:13:49",
            "error[KG019]: `rollout.max_unavailable` has no use with `strategy = \"on-delete\"`: a node's pod is replaced only when it is deleted, so nothing surges or is counted unavailable",
            "  --> platform.toml:13:70",
            "error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)",
        ]
    );
    let err = fails(
        &service(
            r#"rollout = { strategy = "recreate", max_unavailable = 1 }
"#,
        ),
        &[],
    );
    assert!(
        err.starts_with("error[KG019]: `rollout.max_unavailable` has no use with `strategy = \"recreate\"`: every old pod stops before the new ones start, so nothing surges or is counted unavailable\n  --> platform.toml:12:54\n"),
        "{err}"
    );
}

/// A setting written below the layer that chose the strategy is left out, not refused:
/// an overlay cannot remove the service's `max_surge` when it switches one environment
/// to `recreate`, and `[defaults]` is every kind's.
#[test]
fn rollout_settings_below_the_strategy_are_left_out() {
    let text = service(
        r#"rollout = { max_surge = 1, max_unavailable = 0 }
"#,
    )
    .replace("[services.api]", "[defaults]\nrollout = { partition = 1 }\n\n[services.api]")
    + "\n[services.db]\nkind = \"statefulset\"\nimage = \"acme/db\"\ntag = \"1.0.0\"\nrollout = { strategy = \"on-delete\" }\n";
    let p = common::Platform::new(
        &text,
        &[(
            "dev",
            "[services.api]\nrollout = { strategy = \"recreate\" }\n",
        )],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let deployment = p.read("generated/dev/api/deployment.yaml");
    assert!(
        deployment.contains("  strategy:\n    type: Recreate\n"),
        "{deployment}"
    );
    assert!(!deployment.contains("rollingUpdate"), "{deployment}");
    let statefulset = p.read("generated/dev/db/statefulset.yaml");
    assert!(
        statefulset.contains("  updateStrategy:\n    type: OnDelete\n"),
        "{statefulset}"
    );
    assert!(!statefulset.contains("partition"), "{statefulset}");
}

#[test]
fn partition_on_a_deployment() {
    let err = fails(
        &service(
            r#"rollout = { partition = 1 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `rollout.partition` does not apply to a `deployment` (the default `kind`)
  --> platform.toml:12:25
   |
12 | rollout = { partition = 1 }
   |                         ^
   = help: `rollout.partition` is for a statefulset

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn max_surge_on_a_statefulset() {
    let err = fails(
        &service(
            r#"kind = "statefulset"
rollout = { max_surge = 1 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `rollout.max_surge` does not apply to a `statefulset`
  --> platform.toml:13:25
   |
13 | rollout = { max_surge = 1 }
   |                         ^
   = help: `rollout.max_surge` is for a deployment, worker, daemonset

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn progress_deadline_on_a_daemonset() {
    let err = fails(
        &service(
            r#"kind = "daemonset"
rollout = { progress_deadline = 60 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `rollout.progress_deadline` does not apply to a `daemonset`
  --> platform.toml:13:33
   |
13 | rollout = { progress_deadline = 60 }
   |                                 ^^
   = help: `rollout.progress_deadline` is for a deployment, worker

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn volume_claim_on_a_daemonset() {
    let err = fails(
        &service(
            r#"kind = "daemonset"
volumes = { data = { mount = "/data", claim = { size = "1Gi" } } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: a `daemonset` cannot have a volume claim (`volumes.data.claim`)
  --> platform.toml:13:47
   |
13 | volumes = { data = { mount = "/data", claim = { size = "1Gi" } } }
   |                                               ^^^^^^^^^^^^^^^^
   = help: persistent volumes belong to a `deployment`, `worker` or `statefulset`; use `empty_dir` for scratch space

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn sidecar_mounts_an_unknown_volume() {
    let err = fails(
        &service(
            r#"volumes = { cache = { mount = "/cache" } }
sidecars.proxy = { image = "acme/proxy", tag = "1.0", mounts = { cahce = "/cache" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG029]: `sidecars.proxy` mounts volume `cahce`, which the service does not declare
  --> platform.toml:13:66
   |
13 | sidecars.proxy = { image = "acme/proxy", tag = "1.0", mounts = { cahce = "/cache" } }
   |                                                                  ^^^^^ did you mean `cache`?
   = help: declare it under `volumes` of the service (known: cache, tmp)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A volume with an error of its own (here no `mount`) is reported once, at the
/// volume: a sidecar that mounts it gets no KG029 "which the service does not
/// declare" as well (verification review 30, F9), while an independent mistake in
/// the same sidecar (a misspelt volume) is still reported with it.
#[test]
fn a_sidecar_mounting_a_volume_in_error_is_not_a_second_error() {
    let err = fails(
        &service(
            r#"volumes = { logs = { empty_dir = {} } }
sidecars.shipper = { image = "acme/shipper", tag = "1.0", mounts = { logs = "/logs", lgos = "/lgos" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG004]: volume `logs` has no `mount`
  --> platform.toml:12:13
   |
12 | volumes = { logs = { empty_dir = {} } }
   |             ^^^^
   = help: add the path the main container mounts it at, e.g. `mount = "/var/lib/app"`

error[KG029]: `sidecars.shipper` mounts volume `lgos`, which the service does not declare
  --> platform.toml:13:86
   |
13 | sidecars.shipper = { image = "acme/shipper", tag = "1.0", mounts = { logs = "/logs", lgos = "/lgos" } }
   |                                                                                      ^^^^ did you mean `logs`?
   = help: declare it under `volumes` of the service (known: logs, tmp)

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // The same for a volume refused for its name: reported once, at the name.
    let err = fails(
        &service(
            r#"volumes = { files-cache = { mount = "/cache" } }
init_containers.warm = { image = "acme/warm", tag = "1.0", mounts = { files-cache = "/cache" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG018]: volume name `files-cache` is kgen's own
  --> platform.toml:12:13
   |
12 | volumes = { files-cache = { mount = "/cache" } }
   |             ^^^^^^^^^^^
   = help: kgen uses `tmp`, `secrets-store` and `files*` itself; choose another name

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// `secrets-store` is a volume of the pod only when the CSI driver mounts the
/// service's secrets: without secrets, a sidecar that mounts it is KG029 at the
/// mount, with the volumes there are, not a KG112 about the rendered pod (newcomer
/// review 6, #22); with them, the mount renders.
#[test]
fn secrets_store_is_a_volume_only_with_secrets() {
    let sidecar = r#"sidecars.proxy = { image = "acme/proxy", tag = "1.0", mounts = { secrets-store = "/secrets" } }
"#;
    assert_eq!(
        fails(&service(sidecar), &[]),
        r#"error[KG029]: `sidecars.proxy` mounts volume `secrets-store`, which the service does not declare
  --> platform.toml:12:66
   |
12 | sidecars.proxy = { image = "acme/proxy", tag = "1.0", mounts = { secrets-store = "/secrets" } }
   |                                                                  ^^^^^^^^^^^^^
   = help: declare it under `volumes` of the service (known: tmp)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    let sidecar = sidecar.replace(
        " }\n",
        ", resources = { requests = { cpu = \"10m\", memory = \"16Mi\" }, limits = { memory = \"32Mi\" } } }\n",
    );
    let with_secrets = format!(
        "{sidecar}secrets = [{{ name = \"db\", from = \"secretsmanager\", key = \"dev/api/db\" }}]\niam_role = \"arn:aws:iam::123456789012:role/api\"\n"
    );
    let p = common::Platform::new(&service(&with_secrets), &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn schedule_with_a_seconds_field() {
    let err = fails(
        &service(
            r#"kind = "cronjob"
schedule = "0 0 3 * * *"
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG030]: schedule `0 0 3 * * *`: 6 fields, where a schedule has 5
  --> platform.toml:13:12
   |
13 | schedule = "0 0 3 * * *"
   |            ^^^^^^^^^^^^^
   = help: Kubernetes schedules have no seconds field: drop the first one, to keep five fields, minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-6 or SUN-SAT), e.g. "30 2 * * 1-5", or a macro such as @daily

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn schedule_field_out_of_range() {
    let err = fails(
        &service(
            r#"kind = "cronjob"
schedule = "0 24 * * *"
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG030]: schedule `0 24 * * *`: hour 24 is outside 0-23
  --> platform.toml:13:12
   |
13 | schedule = "0 24 * * *"
   |            ^^^^^^^^^^^^
   = help: write five fields, minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-6 or SUN-SAT), e.g. "30 2 * * 1-5", or a macro such as @daily

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn schedule_with_a_time_zone_prefix() {
    let err = fails(
        &service(
            r#"kind = "cronjob"
schedule = "CRON_TZ=Europe/Paris 0 3 * * *"
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG030]: schedule `CRON_TZ=Europe/Paris 0 3 * * *`: a time zone in the schedule is refused by the API server
  --> platform.toml:13:12
   |
13 | schedule = "CRON_TZ=Europe/Paris 0 3 * * *"
   |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: remove `TZ=...`/`CRON_TZ=...` and set `cron = { time_zone = "Europe/Paris" }`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn time_zone_that_is_no_zone_name() {
    let err = fails(
        &service(
            r#"kind = "cronjob"
schedule = "0 3 * * *"
cron = { time_zone = "Europe/ Paris" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG030]: time zone `Europe/ Paris`: it is not an IANA time zone name
  --> platform.toml:14:22
   |
14 | cron = { time_zone = "Europe/ Paris" }
   |                      ^^^^^^^^^^^^^^^ did you mean `Europe/Paris`?
   = help: write a name of the IANA time zone database, such as `Europe/Paris`, `America/New_York` or `UTC`, as the API server spells it

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn local_time_zone() {
    let err = fails(
        &service(
            r#"kind = "cronjob"
schedule = "0 3 * * *"
cron = { time_zone = "Local" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG030]: time zone `Local`: `Local` depends on the controller's machine, and the API server refuses it
  --> platform.toml:14:22
   |
14 | cron = { time_zone = "Local" }
   |                      ^^^^^^^
   = help: write a name of the IANA time zone database, such as `Europe/Paris`, `America/New_York` or `UTC`, as the API server spells it

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn probe_with_two_handlers() {
    let err = fails(
        &service(
            r#"port = 8080
probes = { liveness = { http = "/health", tcp = "http" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `probes.liveness` has 2 handlers; a probe has exactly one of `http`, `tcp`, `grpc`, `exec`
  --> platform.toml:13:49
   |
13 | probes = { liveness = { http = "/health", tcp = "http" } }
   |                                                 ^^^^^^
   = help: e.g. `{ http = "/health" }`, `{ tcp = "http" }`, `{ grpc = 9090 }` or `{ exec = ["cat", "/tmp/ready"] }`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn grpc_service_without_grpc() {
    let err = fails(
        &service("port = 8080\nprobes = { readiness = { http = \"/ready\", grpc_service = \"api.v1\" } }\n"),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `probes.readiness` sets `grpc_service` without `grpc`
  --> platform.toml:13:58
   |
13 | probes = { readiness = { http = "/ready", grpc_service = "api.v1" } }
   |                                                          ^^^^^^^^
   = help: `grpc_service` names the service a `grpc` probe asks about: add `grpc = <port number>`, or remove it

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn probe_with_no_handler() {
    let err = fails(
        &service(
            r#"port = 8080
probes = { liveness = { period = 5 } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `probes.liveness` has 0 handlers; a probe has exactly one of `http`, `tcp`, `grpc`, `exec`
  --> platform.toml:13:23
   |
13 | probes = { liveness = { period = 5 } }
   |                       ^^^^^^^^^^^^^^
   = help: e.g. `{ http = "/health" }`, `{ tcp = "http" }`, `{ grpc = 9090 }` or `{ exec = ["cat", "/tmp/ready"] }`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn grpc_probe_with_a_port_name() {
    let err = fails(
        &service(
            r#"port = 8080
probes = { readiness = { grpc = "grpc" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: a gRPC probe takes a port number, not the name `grpc`
  --> platform.toml:13:33
   |
13 | probes = { readiness = { grpc = "grpc" } }
   |                                 ^^^^^^
   = help: write the number, e.g. `grpc = 9090`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn success_threshold_on_a_liveness_probe() {
    let err = fails(
        &service(
            r#"port = 8080
probes = { liveness = { http = "/health", success_threshold = 2 } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `probes.liveness.success_threshold` must be 1: the API server allows more only for readiness probes
  --> platform.toml:13:63
   |
13 | probes = { liveness = { http = "/health", success_threshold = 2 } }
   |                                                               ^
   = help: remove `success_threshold` (a liveness or startup probe succeeds at its first success), or set it on the readiness probe

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn init_container_with_probes() {
    let err = fails(
        &service(
            r#"port = 8080
init_containers.setup = { image = "acme/setup", tag = "1.0", probes = { readiness = "/ready" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: init container `setup` has probes: an init container runs to completion, and the API server refuses probes on it
  --> platform.toml:13:85
   |
13 | init_containers.setup = { image = "acme/setup", tag = "1.0", probes = { readiness = "/ready" } }
   |                                                                                     ^^^^^^^^
   = help: remove `probes`, or make it a sidecar (`sidecars.<name>`), which keeps running

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn sidecar_without_image() {
    let err = fails(
        &service(
            r#"port = 8080
sidecars.proxy = { tag = "1.0" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG004]: `sidecars.proxy` has no `image`
  --> platform.toml:13:10
   |
13 | sidecars.proxy = { tag = "1.0" }
   |          ^^^^^
   = help: add `image = "<repository>"` and a `tag` (or `digest`)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn sidecar_without_tag() {
    let err = fails(
        &service(
            r#"port = 8080
sidecars.proxy = { image = "acme/proxy" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG014]: `sidecars.proxy` has no image `tag` or `digest`
  --> platform.toml:13:10
   |
13 | sidecars.proxy = { image = "acme/proxy" }
   |          ^^^^^
   = help: set `tag = "1.2.3"` (or `digest = "sha256:..."`) for the container

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn sidecar_tagged_latest() {
    let err = fails(
        &service(
            r#"port = 8080
sidecars.proxy = { image = "acme/proxy", tag = "latest" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG014]: `sidecars.proxy` uses the tag `latest`, which does not pin a version
  --> platform.toml:13:48
   |
13 | sidecars.proxy = { image = "acme/proxy", tag = "latest" }
   |                                                ^^^^^^^^
   = help: set an immutable tag such as a version or commit SHA

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn sidecar_tagged_latest_in_an_overlay() {
    let err = fails(
        &service(
            r#"port = 8080
sidecars.proxy = { image = "acme/proxy", tag = "1.0" }
"#,
        ),
        &[(
            "dev",
            r#"[services.api]
sidecars.proxy = { tag = "latest" }
"#,
        )],
    );
    assert_eq!(
        err,
        r#"error[KG014]: `sidecars.proxy` uses the tag `latest`, which does not pin a version
 --> overlays/dev.toml:2:26
  |
2 | sidecars.proxy = { tag = "latest" }
  |                          ^^^^^^^^
  = help: set an immutable tag such as a version or commit SHA

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// One claim serves every pod of a `deployment` or `worker`: a ReadWriteOnce claim
/// only on one node, a ReadWriteOncePod claim only one pod. Refused wherever more than
/// one pod can run (`replicas`, which defaults to 2, or `autoscaling.max`).
#[test]
fn a_claim_one_node_or_pod_uses_shared_by_several_pods() {
    let err = fails(
        &service(
            r#"port = 8080
volumes = { data = { mount = "/data", claim = { size = "1Gi" } } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: volume `data` is one ReadWriteOnce claim shared by up to 2 pods of this deployment in environment `dev`: it attaches to one node at a time (as an EBS volume does), so pods scheduled on other nodes would wait on Multi-Attach errors
  --> platform.toml:13:47
   |
13 | volumes = { data = { mount = "/data", claim = { size = "1Gi" } } }
   |                                               ^^^^^^^^^^^^^^^^
   = help: run one replica (`replicas = 1`, and no `autoscaling` or `autoscaling.max = 1`; with `rollout.strategy = "recreate"` a new pod does not wait for the old one's volume), give the claim a `ReadWriteMany` storage class such as EFS (`access_mode = "ReadWriteMany"`), or make the service a `statefulset`, whose pods get a claim each

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // A worker that autoscales to 5 pods, with a ReadWriteOncePod claim.
    let err = fails(
        &service(
            r#"kind = "worker"
autoscaling = { max = 5 }
volumes = { data = { mount = "/data", claim = { size = "1Gi", access_mode = "ReadWriteOncePod" } } }
"#,
        ),
        &[],
    );
    assert!(
        err.starts_with("error[KG019]: volume `data` is one ReadWriteOncePod claim shared by up to 5 pods of this worker in environment `dev`: only one pod at a time can use it: the others would never start\n  --> platform.toml:14:47\n"),
        "{err}"
    );
    // Judged per environment: one pod in dev, three in prod (an overlay).
    let two = service(
        r#"replicas = 1
volumes = { data = { mount = "/data", claim = { size = "1Gi" } } }
"#,
    ) + "\n[environments.prod]\ncluster = \"https://prod.example.com\"\n";
    let err = fails(&two, &[("prod", "[services.api]\nreplicas = 3\n")]);
    assert!(
        err.starts_with("error[KG019]: volume `data` is one ReadWriteOnce claim shared by up to 3 pods of this deployment in environment `prod`"),
        "{err}"
    );
    // The note says where the count comes from: the overlay, not the claim's table
    // (newcomer review 17, #6).
    assert!(
        err.contains(
            "   = note: the pod count comes from `replicas = 3` at overlays/prod.toml:2\n"
        ),
        "{err}"
    );
    assert!(err.contains("error: 1 error; nothing was written"), "{err}");
}

/// What a shared claim can serve: one pod, a ReadWriteMany or ReadOnlyMany claim, a
/// claim per pod (a StatefulSet), or every pod held on one node.
#[test]
fn a_claim_its_pods_can_share() {
    let volume = r#"volumes = { data = { mount = "/data", claim = { size = "1Gi" } } }
"#;
    for body in [
        format!("replicas = 1\n{volume}"),
        format!("replicas = 3\nautoscaling = {{ max = 1 }}\n{volume}"),
        format!("kind = \"statefulset\"\nreplicas = 3\n{volume}"),
        format!("node_selector = {{ \"kubernetes.io/hostname\" = \"ip-10-0-1-23.eu-west-1.compute.internal\" }}\n{volume}"),
        "volumes = { data = { mount = \"/data\", claim = { size = \"1Gi\", access_mode = \"ReadWriteMany\" } } }\n".to_string(),
        "volumes = { data = { mount = \"/data\", read_only = true, claim = { size = \"1Gi\", access_mode = \"ReadOnlyMany\" } } }\n".to_string(),
    ] {
        let p = common::Platform::new(&service(&body), &[]);
        let out = p.kgen(&["validate"]);
        assert!(!out.stderr.contains("KG019"), "{body}\n{}", out.stderr);
        assert_eq!(out.code, 0, "{body}\n{}", out.stderr);
    }
}

#[test]
fn volume_with_empty_dir_and_claim() {
    let err = fails(
        &service(
            r#"port = 8080
volumes = { data = { mount = "/data", empty_dir = {}, claim = { size = "1Gi" } } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: volume `data` sets both `empty_dir` and `claim`
  --> platform.toml:13:63
   |
13 | volumes = { data = { mount = "/data", empty_dir = {}, claim = { size = "1Gi" } } }
   |                                                               ^^^^^^^^^^^^^^^^
   = help: a volume is a scratch directory (`empty_dir`) or a persistent claim (`claim`), not both

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn claim_without_size() {
    let err = fails(
        &service(
            r#"port = 8080
volumes = { data = { mount = "/data", claim = {} } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG004]: volume claim `data` has no `size`
  --> platform.toml:13:47
   |
13 | volumes = { data = { mount = "/data", claim = {} } }
   |                                               ^^
   = help: add the size to request, e.g. `size = "10Gi"`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn claim_size_that_is_no_quantity() {
    let err = fails(
        &service(
            r#"port = 8080
volumes = { data = { mount = "/data", claim = { size = "10GB" } } }
replicas = 1
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG006]: "10GB" is not a Kubernetes quantity: write 10G for powers of 1000 or 10Gi for powers of 1024
  --> platform.toml:13:56
   |
13 | volumes = { data = { mount = "/data", claim = { size = "10GB" } } }
   |                                                        ^^^^^^
   = help: a size is a number with a suffix: `Ki`, `Mi`, `Gi`, `Ti` for powers of 1024 (as disks and memory are usually counted) or `k`, `M`, `G`, `T` for powers of 1000, e.g. `"10Gi"`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn volume_mounted_at_tmp() {
    let err = fails(
        &service(
            r#"port = 8080
volumes = { scratch = { mount = "/tmp" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG018]: `/tmp` is where kgen mounts its own volume
  --> platform.toml:13:33
   |
13 | volumes = { scratch = { mount = "/tmp" } }
   |                                 ^^^^^^
   = help: kgen mounts a writable `/tmp` and the secrets at `/mnt/secrets-store`; mount this volume elsewhere

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn two_volumes_at_one_path() {
    let err = fails(
        &service(
            r#"port = 8080
volumes = { a = { mount = "/data" }, b = { mount = "/data" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG015]: volumes `a` and `b` are both mounted at `/data`
  --> platform.toml:13:52
   |
13 | volumes = { a = { mount = "/data" }, b = { mount = "/data" } }
   |                                                    ^^^^^^^
   = help: a directory holds one volume: mount this one elsewhere, or use one volume for both (sidecars mount it under `mounts` too)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn file_without_path() {
    let err = fails(
        &service(
            r#"port = 8080
files = { "app.yaml" = { content = "a: 1" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG004]: file `app.yaml` has no `path`
  --> platform.toml:13:11
   |
13 | files = { "app.yaml" = { content = "a: 1" } }
   |           ^^^^^^^^^^
   = help: add the absolute path of the file in the container, e.g. `path = "/etc/app/app.yaml"`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn file_with_a_relative_path() {
    let err = fails(
        &service(
            r#"port = 8080
files = { "app.yaml" = { path = "etc/app/app.yaml", content = "a: 1" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG016]: `etc/app/app.yaml` is not an absolute file path in a directory
  --> platform.toml:13:33
   |
13 | files = { "app.yaml" = { path = "etc/app/app.yaml", content = "a: 1" } }
   |                                 ^^^^^^^^^^^^^^^^^^
   = help: write the file's full path, e.g. `/etc/app/app.yaml` (the directory /etc/app is mounted with kgen's files only)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn file_in_a_volume_directory() {
    let err = fails(
        &service(
            r#"port = 8080
volumes = { conf = { mount = "/etc/app" } }
files = { "app.yaml" = { path = "/etc/app/app.yaml", content = "a: 1" } }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG015]: `/etc/app` is already a mount (a volume, `/tmp` or the secrets)
  --> platform.toml:14:33
   |
14 | files = { "app.yaml" = { path = "/etc/app/app.yaml", content = "a: 1" } }
   |                                 ^^^^^^^^^^^^^^^^^^^
   = help: put the file in a directory of its own

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn toleration_exists_with_a_value() {
    let err = fails(
        &service(
            r#"port = 8080
tolerations = [{ key = "dedicated", operator = "Exists", value = "api" }]
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: a toleration with `operator = "Exists"` has no `value`
  --> platform.toml:13:66
   |
13 | tolerations = [{ key = "dedicated", operator = "Exists", value = "api" }]
   |                                                                  ^^^^^
   = help: remove `value`, or use `operator = "Equal"`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn toleration_seconds_without_no_execute() {
    let err = fails(
        &service(
            r#"port = 8080
tolerations = [{ key = "dedicated", value = "api", effect = "NoSchedule", seconds = 30 }]
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `seconds` applies to `effect = "NoExecute"` only
  --> platform.toml:13:85
   |
13 | tolerations = [{ key = "dedicated", value = "api", effect = "NoSchedule", seconds = 30 }]
   |                                                                                     ^^
   = help: `seconds` is how long the pod stays on a node after a `NoExecute` taint appears on it: add `effect = "NoExecute"`, or remove `seconds`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn required_node_term_with_a_weight() {
    let err = fails(
        &service(
            r#"port = 8080
node_affinity = { required = [{ key = "kubernetes.io/arch", operator = "In", values = ["arm64"], weight = 10 }] }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: a required node term has no `weight`
  --> platform.toml:13:107
   |
13 | node_affinity = { required = [{ key = "kubernetes.io/arch", operator = "In", values = ["arm64"], weight = 10 }] }
   |                                                                                                           ^^
   = help: `weight` ranks `preferred` terms; a `required` term must hold

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn node_term_in_without_values() {
    let err = fails(
        &service(
            r#"port = 8080
node_affinity = { required = [{ key = "kubernetes.io/arch", operator = "In" }] }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `In` and `NotIn` need at least one value
  --> platform.toml:13:72
   |
13 | node_affinity = { required = [{ key = "kubernetes.io/arch", operator = "In" }] }
   |                                                                        ^^^^
   = help: list the label's values, e.g. `values = ["arm64"]`, or use `operator = "Exists"` for any value of `kubernetes.io/arch`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn node_term_in_with_an_empty_list() {
    let err = fails(
        &service(
            r#"port = 8080
node_affinity = { preferred = [{ key = "kubernetes.io/arch", operator = "In", values = [] }] }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `In` and `NotIn` need at least one value
  --> platform.toml:13:88
   |
13 | node_affinity = { preferred = [{ key = "kubernetes.io/arch", operator = "In", values = [] }] }
   |                                                                                        ^^
   = help: list the label's values, e.g. `values = ["arm64"]`, or use `operator = "Exists"` for any value of `kubernetes.io/arch`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn reserved_label_key() {
    let err = fails(
        &service(
            r#"port = 8080
labels = { "app.kubernetes.io/name" = "other" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG018]: `app.kubernetes.io/name` is a key kgen sets itself
  --> platform.toml:13:12
   |
13 | labels = { "app.kubernetes.io/name" = "other" }
   |            ^^^^^^^^^^^^^^^^^^^^^^^^
   = help: kgen owns the `app.kubernetes.io/`, `kgen.dev/` and `argocd.argoproj.io/` keys (selectors, versions, sync waves); choose another key

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn secret_looking_pod_annotation() {
    let err = fails(
        &service(
            r#"port = 8080
pod_annotations = { note = "AKIAIOSFODNN7EXAMPLE" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG010]: `note` looks like it holds a secret (an AWS access key id); kgen refuses secrets in plain text
  --> platform.toml:13:28
   |
13 | pod_annotations = { note = "********************" }
   |                            ^^^^^^^^^^^^^^^^^^^^^^ secret-looking value
   = help: store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets` (mounted at /mnt/secrets-store/<name>); see docs/platform.md#secrets

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn bad_image_pull_secret_name() {
    let err = fails(
        &service(
            r#"port = 8080
image_pull_secrets = ["GHCR_Pull"]
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG005]: image pull secret: "GHCR_Pull" is not a valid DNS-1123 subdomain: use at most 253 lowercase letters, digits, '-' and '.', in dot-separated parts that each start and end with a letter or digit
  --> platform.toml:13:23
   |
13 | image_pull_secrets = ["GHCR_Pull"]
   |                       ^^^^^^^^^^^
   = help: name the Secret (of type kubernetes.io/dockerconfigjson) in the service's namespace, e.g. `ghcr-pull`; its content never goes in platform.toml

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn disruption_budget_with_max_unavailable_and_min_available() {
    let err = fails(
        &service(
            r#"port = 8080
disruption_budget = { max_unavailable = 1, min_available = 1 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: a disruption budget sets both `max_unavailable` and `min_available`
  --> platform.toml:13:60
   |
13 | disruption_budget = { max_unavailable = 1, min_available = 1 }
   |                                                            ^
   = help: the API server takes one of them: keep `max_unavailable` (kgen's default, 1) or `min_available`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn cronjob_without_schedule() {
    let err = fails(
        &service(
            r#"kind = "cronjob"
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG004]: cronjob `api` has no `schedule`
 --> platform.toml:9:11
  |
9 | [services.api]
  |           ^^^
  = help: add `schedule = "0 3 * * *"` (minute hour day-of-month month day-of-week), or a macro such as `@daily`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn hook_without_phase() {
    let err = fails(
        &service(
            r#"kind = "job"
hook = { delete_policy = "HookSucceeded" }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG004]: service `api`'s `hook` has no `phase`
  --> platform.toml:13:8
   |
13 | hook = { delete_policy = "HookSucceeded" }
   |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: write `hook = { phase = "PreSync" }` to run the Job before the rest of the Application is applied (a migration), `Sync` with it, or `PostSync` after it

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn ttl_after_finished_on_a_plain_job() {
    let err = fails(
        &service(
            r#"kind = "job"
job = { ttl_after_finished = 600 }
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG019]: `ttl_after_finished` on a `job` that is not an Argo CD hook: once Kubernetes deletes the finished Job, Argo CD re-creates it from Git and it runs again
  --> platform.toml:13:30
   |
13 | job = { ttl_after_finished = 600 }
   |                              ^^^
   = help: make it a hook (`hook = { phase = "PreSync" }`), whose deletion Argo CD manages (`delete_policy`), or remove `ttl_after_finished`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn unknown_kind() {
    let err = fails(
        &service(
            r#"kind = "cronjobs"
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG003]: unknown value `cronjobs`
  --> platform.toml:12:8
   |
12 | kind = "cronjobs"
   |        ^^^^^^^^^^ did you mean `cronjob`?
   = help: write one of: deployment, worker, statefulset, cronjob, job, daemonset

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn kind_written_as_the_kubernetes_kind() {
    let err = fails(
        &service(
            r#"kind = "StatefulSet"
"#,
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG003]: unknown value `StatefulSet`
  --> platform.toml:12:8
   |
12 | kind = "StatefulSet"
   |        ^^^^^^^^^^^^^ did you mean `statefulset`?
   = help: write one of: deployment, worker, statefulset, cronjob, job, daemonset

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A name kgen derives from a service's that is too long for its kind says how long
/// the service's name may be (k8s21 review, C3).
#[test]
fn a_derived_name_too_long_says_how_long_the_service_name_may_be() {
    // (service name length, settings, help), `{long}` the service name; a StatefulSet's
    // headless Service adds `-headless` (verification review 22).
    let cases = [
        (58, "kind = \"job\"\n", "kgen names the Job `{long}-<hash of its pod template>` (9 characters more): rename service `{long}` (58 characters) to at most 54; a hook Job (`hook`) keeps the service's name"),
        (53, "kind = \"cronjob\"\nschedule = \"0 3 * * *\"\n", "kgen names the CronJob after the service: rename service `{long}` (53 characters) to at most 52"),
        (55, "kind = \"statefulset\"\n", "kgen names the headless Service `{long}-headless` (9 characters more than the service): rename service `{long}` (55 characters) to at most 54"),
    ];
    for (len, body, help) in cases {
        let long = "a".repeat(len);
        let text = service(body).replace("[services.api]", &format!("[services.{long}]"));
        let err = fails(&text, &[]);
        let help = format!("  = help: {}\n", help.replace("{long}", &long));
        assert!(err.contains(&help), "{help}\n{err}");
    }
}
