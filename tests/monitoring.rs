//! Per-service monitoring: the alerts of each workload kind's PrometheusRule, exactly as
//! rendered and as docs/argocd.md#monitoring lists them.

mod common;

use common::{repo_root, Platform};
use serde_json::Value;

/// One service of every kind, with an HPA on the deployment, and monitoring on.
const KINDS_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.api]
image = "acme/api"
tag = "1.0.0"
autoscaling = { min = 2, max = 4, cpu = 80 }

[services.worker]
kind = "worker"
image = "acme/worker"
tag = "1.0.0"

[services.db]
kind = "statefulset"
image = "acme/db"
tag = "16.2"
port = 5432

[services.agent]
kind = "daemonset"
image = "acme/agent"
tag = "0.9.0"

[services.nightly]
kind = "cronjob"
image = "acme/report"
tag = "3.0.0"
schedule = "30 2 * * 1-5"
job = { backoff_limit = 2, restart_policy = "Never" }

[services.seed]
kind = "job"
image = "acme/seed"
tag = "1.0.0"

[services.migrate]
kind = "job"
image = "acme/migrate"
tag = "5.0.0"
hook = { phase = "PreSync" }

[monitoring]
chart_version = "77.0.0"

[baseline]
provided = { storage_classes = ["gp3"] }
"#;

/// The services of `KINDS_PLATFORM` with their kind.
const KINDS: [(&str, &str); 7] = [
    ("api", "deployment"),
    ("worker", "worker"),
    ("db", "statefulset"),
    ("agent", "daemonset"),
    ("nightly", "cronjob"),
    ("seed", "job"),
    ("migrate", "job"),
];

fn rendered() -> Platform {
    let p = Platform::new(KINDS_PLATFORM, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    p
}

/// `(alert, expr, for, severity)` of each rule of `generated/dev/<service>/prometheusrule.yaml`.
fn alerts(p: &Platform, service: &str) -> Vec<[String; 4]> {
    let rule: Value =
        serde_norway::from_str(&p.read(&format!("generated/dev/{service}/prometheusrule.yaml")))
            .unwrap();
    let groups = rule["spec"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{rule}");
    groups[0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |v: &Value| v.as_str().unwrap_or_else(|| panic!("{r}")).to_string();
            [
                s(&r["alert"]),
                s(&r["expr"]),
                s(&r["for"]),
                s(&r["labels"]["severity"]),
            ]
        })
        .collect()
}

fn rows(rows: &[[&str; 4]]) -> Vec<[String; 4]> {
    rows.iter().map(|r| r.map(str::to_string)).collect()
}

const RESTART_LOOP_FOR: &str = "5m";

fn restart_loop(service: &str) -> [String; 4] {
    [
        "KgenContainerRestartLoop".into(),
        format!("increase(kube_pod_container_status_restarts_total{{namespace=\"{service}\", container=\"{service}\"}}[15m]) > 3"),
        RESTART_LOOP_FOR.into(),
        "warning".into(),
    ]
}

/// A Job or CronJob alerts on the Job's `Failed` condition (`kube_job_failed`), not on
/// its failed pods (`kube_job_status_failed`), which a Job that succeeded on a retry
/// also has: docs/argocd.md#monitoring.
#[test]
fn a_job_alerts_on_its_failed_condition_not_on_failed_pods() {
    let p = rendered();
    let mut want = rows(&[[
        "KgenCronJobFailed",
        r#"kube_job_failed{namespace="nightly", condition="true"} * on (namespace, job_name) group_left(owner_name) kube_job_owner{namespace="nightly", owner_kind="CronJob", owner_name="nightly"} > 0"#,
        "0m",
        "warning",
    ]]);
    want.push(restart_loop("nightly"));
    assert_eq!(alerts(&p, "nightly"), want);
    // A plain Job is named `<service>-<hash>`, a hook Job `<service>`: both match.
    for (job, _) in KINDS.iter().filter(|(_, kind)| *kind == "job") {
        let mut want = vec![[
            "KgenJobFailed".to_string(),
            format!(
                r#"kube_job_failed{{namespace="{job}", job_name=~"{job}(-[0-9a-f]{{8}})?", condition="true"}} > 0"#
            ),
            "0m".into(),
            "warning".into(),
        ]];
        want.push(restart_loop(job));
        assert_eq!(alerts(&p, job), want);
    }
    let seed: Value = serde_norway::from_str(&p.read("generated/dev/seed/job.yaml")).unwrap();
    let name = seed["metadata"]["name"].as_str().unwrap();
    assert!(
        regex::Regex::new("^seed(-[0-9a-f]{8})?$")
            .unwrap()
            .is_match(name),
        "{name}"
    );
    for file in p.generated() {
        assert!(!file.1.contains("kube_job_status_failed"), "{}", file.0);
    }
}

#[test]
fn each_kind_has_its_availability_alert() {
    let p = rendered();
    let mut api = rows(&[[
        "KgenDeploymentReplicasUnavailable",
        r#"kube_deployment_status_replicas_unavailable{namespace="api", deployment="api"} > 0"#,
        "10m",
        "warning",
    ]]);
    api.push(restart_loop("api"));
    api.extend(rows(&[[
        "KgenHpaPinnedAtMax",
        r#"kube_horizontalpodautoscaler_status_current_replicas{namespace="api", horizontalpodautoscaler="api"} >= kube_horizontalpodautoscaler_spec_max_replicas{namespace="api", horizontalpodautoscaler="api"}"#,
        "15m",
        "warning",
    ]]));
    assert_eq!(alerts(&p, "api"), api);
    for (service, alert, expr) in [
        (
            "worker",
            "KgenDeploymentReplicasUnavailable",
            r#"kube_deployment_status_replicas_unavailable{namespace="worker", deployment="worker"} > 0"#,
        ),
        (
            "db",
            "KgenStatefulSetReplicasNotReady",
            r#"kube_statefulset_status_replicas_ready{namespace="db", statefulset="db"} < kube_statefulset_replicas{namespace="db", statefulset="db"}"#,
        ),
        (
            "agent",
            "KgenDaemonSetPodsUnavailable",
            r#"kube_daemonset_status_number_unavailable{namespace="agent", daemonset="agent"} > 0"#,
        ),
    ] {
        let mut want = rows(&[[alert, expr, "10m", "warning"]]);
        want.push(restart_loop(service));
        assert_eq!(alerts(&p, service), want, "{service}");
    }
}
/// docs/argocd.md#monitoring has one table row per alert: `| `<alert>` | <kinds> |
/// `<expr>` | <for> | <severity> |`, the expression written for a service `<service>` in
/// namespace `<namespace>`. Every alert any kind renders is there, with the kinds that
/// get it, exactly as rendered; and the table lists no other alert.
#[test]
fn docs_list_every_alert_as_rendered() {
    let p = rendered();
    let docs = std::fs::read_to_string(repo_root().join("docs/argocd.md")).unwrap();
    let section = docs
        .split_once("\n### Monitoring\n")
        .expect("docs/argocd.md has ### Monitoring")
        .1;
    let section = section.split_once("\n## ").map_or(section, |(s, _)| s);
    let documented: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| `Kgen"))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for (service, kind) in KINDS {
        for [alert, expr, for_, severity] in alerts(&p, service) {
            let generic = expr
                .replace(
                    &format!("namespace=\"{service}\""),
                    "namespace=\"<namespace>\"",
                )
                .replace(&format!("\"{service}\""), "\"<service>\"")
                .replace(&format!("\"{service}("), "\"<service>(");
            let row = documented
                .iter()
                .find(|l| l.starts_with(&format!("| `{alert}` |")))
                .unwrap_or_else(|| panic!("docs/argocd.md#monitoring has no row for {alert}"));
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 5, "{row}");
            assert!(
                cells[1].split(", ").any(|k| k == format!("`{kind}`")),
                "the row of {alert} does not name the kind `{kind}`: {row}"
            );
            assert_eq!(
                cells[2..],
                [
                    format!("`{generic}`"),
                    format!("`{for_}`"),
                    format!("`{severity}`")
                ],
                "{row}"
            );
            seen.insert(alert);
        }
    }
    assert_eq!(documented.len(), seen.len(), "{documented:#?}");
}

/// Services with metrics of each kind that has a Service: a deployment, a statefulset
/// (ClusterIP and headless Services), a statefulset without its ClusterIP Service, and a
/// daemonset with a Service.
const SCRAPED_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.api]
image = "acme/api"
tag = "1.0.0"
metrics = { port = 9090 }

[services.db]
kind = "statefulset"
image = "acme/db"
tag = "16.2"
port = 5432
metrics = { port = 9187 }

[services.solo]
kind = "statefulset"
image = "acme/solo"
tag = "1.0.0"
port = 6379
service = { enabled = false }
metrics = { port = 9121 }

[services.agent]
kind = "daemonset"
image = "acme/agent"
tag = "0.9.0"
port = 4317
metrics = { port = 9100 }

[monitoring]
chart_version = "77.0.0"

[baseline]
provided = { storage_classes = ["gp3"] }
"#;

/// Argo CD's resource tracking methods (`application.resourceTrackingMethod`) and
/// whether each writes the tracking label.
const TRACKING: [(&str, bool); 3] = [
    ("annotation", false),
    ("label", true),
    ("annotation+label", true),
];

/// What Argo CD does to an object it applies under a tracking method that writes the
/// label (argo-cd `util/kube/kube.go`, `SetAppInstanceLabel`): the key
/// `app.kubernetes.io/instance` of `metadata.labels` gets the Application's name. Pod
/// templates keep theirs.
fn track_by_label(object: &mut Value, application: &str) {
    object["metadata"]["labels"]["app.kubernetes.io/instance"] = Value::from(application);
}

/// Whether a `LabelSelector` selects an object with `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let labels = labels.as_object().unwrap();
    let by_label = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let by_expression = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap();
            match e["operator"].as_str().unwrap() {
                "DoesNotExist" => !labels.contains_key(key),
                "Exists" => labels.contains_key(key),
                other => panic!("operator {other} not handled here"),
            }
        });
    by_label && by_expression
}

/// docs/argocd.md#resource-tracking: under every tracking method, each ServiceMonitor
/// selects the Services it selects under annotation tracking (the ClusterIP one of a
/// statefulset, not the headless one, unless there is no ClusterIP Service), and every
/// Service still selects its pods.
#[test]
fn service_monitors_select_their_services_under_every_tracking_method() {
    let p = Platform::new(SCRAPED_PLATFORM, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let parse = |rel: &str| -> Value { serde_norway::from_str(&p.read(rel)).unwrap() };
    for (method, writes_label) in TRACKING {
        for (service, workload, services, scraped) in [
            ("api", "deployment", &["service"][..], &["api"][..]),
            (
                "db",
                "statefulset",
                &["service", "service-headless"],
                &["db"],
            ),
            (
                "solo",
                "statefulset",
                &["service-headless"],
                &["solo-headless"],
            ),
            ("agent", "daemonset", &["service"], &["agent"]),
        ] {
            let application = format!("dev-{service}");
            let mut objects: Vec<Value> = services
                .iter()
                .map(|f| parse(&format!("generated/dev/{service}/{f}.yaml")))
                .collect();
            let pods = parse(&format!("generated/dev/{service}/{workload}.yaml"));
            if writes_label {
                objects
                    .iter_mut()
                    .for_each(|o| track_by_label(o, &application));
            }
            let monitor = parse(&format!("generated/dev/{service}/servicemonitor.yaml"));
            let selected: Vec<&str> = objects
                .iter()
                .filter(|s| selects(&monitor["spec"]["selector"], &s["metadata"]["labels"]))
                .map(|s| s["metadata"]["name"].as_str().unwrap())
                .collect();
            assert_eq!(selected, scraped, "{method}: {service}");
            for s in &objects {
                assert!(
                    selects(
                        &serde_json::json!({"matchLabels": s["spec"]["selector"]}),
                        &pods["spec"]["template"]["metadata"]["labels"]
                    ),
                    "{method}: {s}"
                );
            }
        }
    }
    // No ServiceMonitor selects by the label Argo CD writes.
    for (file, text) in p.generated() {
        if file.ends_with("servicemonitor.yaml") {
            let monitor: Value = serde_norway::from_str(&text).unwrap();
            let selector = monitor["spec"]["selector"].to_string();
            assert!(
                !selector.contains("app.kubernetes.io/instance"),
                "{file}: {selector}"
            );
        }
    }
}

/// `metrics` from `[defaults]` is ignored by a service without a Service (a daemonset
/// that asks for none, a deployment with `service.enabled = false`), as a kind ignores
/// what of `[defaults]` does not fit it; a statefulset without its ClusterIP Service is
/// scraped through the headless one. Written for the service itself, it is KG028
/// (tests/invalid/daemonset-metrics-without-a-service).
#[test]
fn metrics_from_defaults_skip_services_without_a_service() {
    let text = SCRAPED_PLATFORM
        .replace(
            "[services.api]\n",
            "[defaults]\nmetrics = { port = 9102 }\n\n[services.api]\nservice = { enabled = false }\n",
        )
        .replace("metrics = { port = 9090 }\n", "")
        .replace("metrics = { port = 9121 }\n", "")
        .replace("port = 4317\nmetrics = { port = 9100 }\n", "");
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for (service, scraped) in [
        ("api", false),
        ("agent", false),
        ("db", true),
        ("solo", true),
    ] {
        assert_eq!(
            p.exists(&format!("generated/dev/{service}/servicemonitor.yaml")),
            scraped,
            "{service}"
        );
    }
    let agent = p.read("generated/dev/agent/daemonset.yaml");
    assert!(!agent.contains("name: metrics"), "{agent}");
    assert!(!p.exists("generated/dev/agent/service.yaml"));
}

/// `[monitoring] values` pass through to the chart, merged over what kgen writes, with
/// templates rendered (newcomer review 12, #3): Alertmanager's receivers, Grafana's
/// admin Secret, and a typed value replaced.
#[test]
fn monitoring_values_are_merged_over_kgens() {
    let text = KINDS_PLATFORM.replace(
        "[monitoring]\nchart_version = \"77.0.0\"\n",
        r#"[monitoring]
chart_version = "77.0.0"
values = { grafana = { admin = { existingSecret = "grafana-admin" } }, prometheus = { prometheusSpec = { retention = "30d", externalLabels = { cluster = "{{ cluster.name }}" } } }, alertmanager = { config = { route = { receiver = "oncall" }, receivers = [{ name = "oncall" }] } } }
"#,
    );
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let values: Value =
        serde_norway::from_str(&p.read("generated/values/dev/monitoring.yaml")).unwrap();
    assert_eq!(
        values["grafana"]["admin"]["existingSecret"],
        "grafana-admin"
    );
    // kgen's own keys beside them stay.
    assert_eq!(values["grafana"]["persistence"]["enabled"], true);
    assert_eq!(values["prometheus"]["prometheusSpec"]["retention"], "30d");
    assert_eq!(
        values["prometheus"]["prometheusSpec"]["externalLabels"]["cluster"],
        "dev"
    );
    assert_eq!(values["prometheus"]["prometheusSpec"]["replicas"], 1);
    assert_eq!(
        values["alertmanager"]["config"]["receivers"][0]["name"],
        "oncall"
    );
    assert_eq!(values["alertmanager"]["enabled"], true);
    // A secret in them is refused where it is written, as in an add-on's.
    let text = text.replace(
        "receivers = [{ name = \"oncall\" }]",
        "receivers = [{ name = \"oncall\", slack_configs = [{ api_url = \"https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/cccccccccccccccccccccccc\" }] }]",
    );
    let out = Platform::new(&text, &[]).kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.starts_with("error[KG010]: "), "{}", out.stderr);
    // By its key too, with the add-on values' remedy (verification 13, #1).
    let text = KINDS_PLATFORM.replace(
        "[monitoring]\nchart_version = \"77.0.0\"\n",
        "[monitoring]\nchart_version = \"77.0.0\"\nvalues = { grafana = { adminPassword = \"Xk9#pL2vQ8mZ\" } }\n",
    );
    let out = Platform::new(&text, &[]).kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(
            "error[KG010]: `adminPassword` looks like it holds a secret (a literal password)"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("`existingSecret`"), "{}", out.stderr);
    assert!(!out.stderr.contains("Xk9#pL2vQ8mZ"), "{}", out.stderr);
}

/// Grafana with the chart's default admin password (or one in the values) is a
/// warning, once for every cluster; a Secret or Grafana off silences it.
#[test]
fn grafana_s_default_admin_password_is_a_warning() {
    let base = common::MINIMAL.to_string() + "\n[monitoring]\nchart_version = \"77.0.0\"\n\n[baseline]\nprovided = { storage_classes = [\"gp3\"] }\n";
    let p = Platform::new(&base, &[]);
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning[KG038]: Grafana keeps the kube-prometheus-stack chart's default admin password (`prom-operator`), which anyone who reads the chart knows\n"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("KG038").count(), 1, "{}", out.stderr);
    for values in [
        "values = { grafana = { admin = { existingSecret = \"grafana-admin\" } } }",
        "values = { grafana = { enabled = false } }",
    ] {
        let p = Platform::new(
            &base.replace(
                "chart_version = \"77.0.0\"\n",
                &format!("chart_version = \"77.0.0\"\n{values}\n"),
            ),
            &[],
        );
        let out = p.kgen(&["validate"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(!out.stderr.contains("KG038"), "{values}: {}", out.stderr);
    }
}
