//! kgen's own output for every kind of service, validated as `kgen render` does:
//! the policy rules end to end, and where their findings point in platform.toml.
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::workspace::{InputFiles, Workspace};

/// The diagnostics of validating `platform` (one environment, `dev`), each as
/// `code message [field] @line input text at its origin | help: help`.
pub fn validate(platform: &str) -> Vec<String> {
    let ws = Workspace::parse(
        PathBuf::from("/nonexistent"),
        InputFiles {
            platform: ("platform.toml".into(), platform.to_string()),
            overlays: Vec::new(),
        },
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let spec = crate::resolve::resolve(&ws, &[]).unwrap_or_else(|e| panic!("{e:?}"));
    let env = &spec.environments[0];
    let owners = crate::render::namespace_owners(env);
    let peers = crate::render::network_policy::Peers::of(env);
    let objects: Vec<_> = env
        .services
        .iter()
        .enumerate()
        .flat_map(|(i, svc)| crate::render::service_objects(&spec, env, &peers, svc, owners[i]))
        .collect();
    let report = crate::validate::check(&spec, &objects);
    report.diagnostics.iter().map(|d| show(&ws, d)).collect()
}

fn show(ws: &Workspace, d: &Diagnostic) -> String {
    let at = d.origin.as_ref().map_or(String::new(), |o| {
        let text = &ws.sources.get(o.file).text;
        let line = text[..o.span.start].lines().count().max(1);
        let snippet = text[o.span.clone()]
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        format!(" @{line} {snippet}")
    });
    let target = d
        .target
        .as_ref()
        .map_or(String::new(), |t| format!(" [{}]", t.field));
    let help = d
        .help
        .as_ref()
        .map_or(String::new(), |h| format!(" | help: {h}"));
    format!("{} {}{target}{at}{help}", d.code, d.message)
}

const HEAD: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"
"#;

/// Every kind of service, with sidecars, init containers, volumes, files and
/// placement, all probed and with resources: nothing to report.
pub const EVERY_KIND: &str = r#"
[services.web]
image = "acme/web"
tag = "1.0.0"
port = 8080
replicas = 2
probes = { liveness = "/health", readiness = "/ready" }
tolerations = [{ key = "dedicated", operator = "Equal", value = "web", effect = "NoExecute", seconds = 60 }]
node_affinity = { required = [{ key = "kubernetes.io/arch", operator = "In", values = ["arm64"] }] }
node_selector = { "node.kubernetes.io/pool" = "general" }
autoscaling = { min = 2, max = 5, cpu = 70, behavior = { scale_down = { stabilization_window = 300, policies = [{ type = "Pods", value = 1, period = 60 }] } } }

[services.web.sidecars.proxy]
image = "acme/proxy"
tag = "2.0.0"
ports = { admin = 9901 }
probes = { liveness = { tcp = "admin" } }
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { memory = "64Mi" } }

[services.web.init_containers.migrate]
image = "acme/web"
tag = "1.0.0"
command = ["/web", "migrate"]
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { memory = "64Mi" } }

[services.web.files."app.yaml"]
path = "/etc/web/app.yaml"
content = "level: info"

[services.web.volumes.cache]
mount = "/var/cache/web"
claim = { size = "1Gi", access_mode = "ReadWriteMany" }

[services.db]
kind = "statefulset"
image = "acme/db"
tag = "15.0.0"
port = 5432
replicas = 3
probes = { liveness = { tcp = "http" }, readiness = { exec = ["/ready"] } }
autoscaling = { min = 3, max = 6, cpu = 80 }

[services.db.volumes.data]
mount = "/var/lib/db"
claim = { size = "10Gi" }

[services.queue]
kind = "worker"
image = "acme/queue"
tag = "1.0.0"
probes = { liveness = { exec = ["/alive"] } }

[services.nightly]
kind = "cronjob"
image = "acme/batch"
tag = "1.0.0"
schedule = "0 3 * * *"
cron = { time_zone = "Europe/Paris" }

[services.migrate]
kind = "job"
image = "acme/migrate"
tag = "1.0.0"
hook = { phase = "PreSync", delete_policy = "HookSucceeded" }

[services.agent]
kind = "daemonset"
image = "acme/agent"
tag = "1.0.0"
port = 9100
probes = { liveness = "/health", readiness = "/ready" }
"#;

#[test]
fn every_kind_renders_valid_objects() {
    assert_eq!(
        validate(&format!("{HEAD}{EVERY_KIND}")),
        Vec::<String>::new()
    );
}

#[test]
fn findings_about_sidecars_and_workers_point_at_their_input() {
    let platform = format!(
        r#"{HEAD}
[services.queue]
kind = "worker"
image = "acme/queue"
tag = "1.0.0"
ports = {{ debug = 6060 }}

[services.queue.sidecars.proxy]
image = "acme/proxy"
tag = "2.0.0"

[services.queue.init_containers.wait]
image = "acme/wait"
tag = "1.0.0"
"#
    );
    // A worker has no Service: a liveness probe, no readiness probe. Sidecars and
    // init containers get no default resources; a sidecar wants a liveness probe,
    // an init container none. Each points at its own table.
    assert_eq!(
        validate(&platform),
        vec![
            "KG202 container `queue` has no liveness probe [spec.template.spec.containers[0].livenessProbe] @9 queue | help: a process that hangs is never restarted without one: set `probes = { liveness = { tcp = \"debug\" } }` (the container serves no HTTP port; `grpc` works too), or waive KG202 with a reason",
            "KG201 sidecar `proxy` sets no cpu request, no memory request, no memory limit [spec.template.spec.initContainers[0].resources] @15 proxy | help: without requests the scheduler packs pods blindly, and without a memory limit one pod can starve the node: set `sidecars.proxy.resources` (kgen gives sidecars and init containers no defaults)",
            "KG202 sidecar `proxy` has no liveness probe [spec.template.spec.initContainers[0].livenessProbe] @15 proxy | help: a sidecar that hangs is never restarted without one: set `sidecars.proxy.probes = { liveness = { exec = [\"/bin/healthcheck\"] } }`, or waive KG202 with a reason",
            "KG201 init container `wait` sets no cpu request, no memory request, no memory limit [spec.template.spec.initContainers[1].resources] @19 wait | help: without requests the scheduler packs pods blindly, and without a memory limit one pod can starve the node: set `init_containers.wait.resources` (kgen gives sidecars and init containers no defaults)",
        ]
    );
}

#[test]
fn a_deployment_behind_a_service_needs_a_readiness_probe() {
    let platform = format!(
        r#"{HEAD}
[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080
probes = {{ liveness = "/health" }}

[services.api.sidecars.proxy]
image = "acme/proxy"
tag = "2.0.0"
probes = {{ liveness = {{ exec = ["/alive"] }}, startup = {{ exec = ["/started"] }} }}
resources = {{ requests = {{ cpu = "50m", memory = "64Mi" }}, limits = {{ memory = "64Mi" }} }}
"#
    );
    assert_eq!(
        validate(&platform),
        vec!["KG202 container `api` has no readiness probe [spec.template.spec.containers[0].readinessProbe] @9 api | help: set `probes = { readiness = \"/health\" }` (an HTTP path on the service's port), or waive KG202 with a reason"]
    );
}

#[test]
fn a_production_statefulset_runs_two_replicas() {
    let platform = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.prod]
sync = "auto"
production = true

[services.db]
kind = "statefulset"
image = "acme/db"
tag = "15.0.0"
port = 5432
replicas = 1
probes = { liveness = { tcp = "http" }, readiness = { tcp = "http" } }
"#;
    assert_eq!(
        validate(platform),
        vec!["KG210 StatefulSet `db` runs 1 replica in production environment `prod`: one node drain or crash takes it down [spec.replicas] @15 1 | help: run at least 2 replicas in production (`replicas`, or `autoscaling.min` when autoscaling is on); for a deliberate singleton (a leader-elected tool, a cache), waive it with `waivers = [{ rule = \"KG210\", reason = \"...\" }]` on the service"]
    );
}
