//! Runs that render some environments (`render --env`, `validate --env`, `bump-image`,
//! `promote`): the summary counts what they render, the warnings printed are theirs
//! (and the platform's), and an error in another environment still fails them, with a
//! note saying where it is (docs/cli.md#kgen-render).

mod common;

use common::Platform;

/// dev and staging share the cluster `nonprod`, prod has its own. Warnings: the
/// SecretProviderClass of `api` has no CRD installer (KG306, on both clusters), `api`
/// calls `agent`, disabled in staging (KG011), and `tool` (dev and prod) has no probes
/// (KG202).
const PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[clusters.nonprod]
server = "https://kubernetes.default.svc"

[clusters.prod]
server = "https://prod.example.com"

[environments.dev]
cluster = "nonprod"
namespace = "dev-{{ service }}"

[environments.staging]
cluster = "nonprod"
namespace = "staging-{{ service }}"

[environments.prod]
cluster = "prod"
production = true

[services.api]
image = "acme/api"
tag = "1.0.0"
probes = { liveness = "/health", readiness = "/ready" }
calls = ["agent"]
iam_role = "arn:aws:iam::111111111111:role/api"
secrets = [{ name = "DB_PASSWORD", from = "secretsmanager", key = "{{ env.name }}/api/db" }]

[services.agent]
image = "acme/agent"
tag = "1.0.0"
probes = { liveness = "/health", readiness = "/ready" }

[services.tool]
image = "acme/tool"
tag = "1.0.0"
enabled = false
"#;

const OVERLAYS: &[(&str, &str)] = &[
    ("dev", "[services.tool]\nenabled = true\n"),
    ("staging", "[services.agent]\nenabled = false\n"),
    ("prod", "[services.tool]\nenabled = true\n"),
];

fn kg306(bootstraps: &str, env: &str) -> String {
    format!(
        "warning[KG306]: SecretProviderClass (secrets-store.csi.x-k8s.io) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap {bootstraps}): the apply fails until the CRD exists
  --> platform.toml:24:11
   |
24 | [services.api]
   |           ^^^
   = in: generated/{env}/api/secretproviderclass.yaml: kind
   = help: install the Secrets Store CSI driver (the add-on presets `secrets-store-csi-driver` and `secrets-store-csi-driver-provider-aws` under [addons], or its Helm chart `secrets-store-csi-driver`) on the cluster before syncing; if the cluster has it without this platform, say so: `[baseline] provided = {{ crd_groups = [\"secrets-store.csi.x-k8s.io\"] }}` (docs/argocd.md#crds)

"
    )
}

fn kg202(envs: &str) -> String {
    let one = |probe: &str, field: &str| {
        format!(
            "warning[KG202]: container `tool` has no {probe} probe
  --> platform.toml:37:11
   |
37 | [services.tool]
   |           ^^^^
   = in: generated/{envs}/tool/deployment.yaml: spec.template.spec.containers[0].{field}
   = help: set `probes = {{ {probe} = \"/health\" }}` (an HTTP path on the service's port), or waive KG202 with a reason

"
        )
    };
    one("liveness", "livenessProbe") + &one("readiness", "readinessProbe")
}

const KG011: &str = "warning[KG011]: service `api` calls `agent`, which is disabled in environment `staging` (`enabled = false`): its calls will fail there
  --> platform.toml:28:10
   |
28 | calls = [\"agent\"]
   |          ^^^^^^^ disabled in staging
   = help: enable `agent` in staging, or remove it from `api`'s `calls` in that environment's overlay

";

/// The summary line without its time.
fn summary(stdout: &str) -> &str {
    stdout.rsplit_once(" in ").map_or(stdout, |(line, _)| line)
}

#[test]
fn a_full_render_counts_and_warns_about_everything() {
    let p = Platform::new(PLATFORM, OVERLAYS);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        summary(&out.stdout),
        "rendered 3 environments on 2 clusters into generated/: 56 files (53 Kubernetes objects; 56 added, 0 changed, 0 removed, 0 unchanged; 4 warnings)"
    );
    assert_eq!(
        out.stderr,
        kg306(
            "generated/argocd/nonprod/, generated/argocd/prod/",
            "{dev,prod,staging}"
        ) + KG011
            + &kg202("{dev,prod}")
    );
    // The JSON summary counts them too (newcomer review 10, #11).
    let out = p.kgen(&["render", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["summary"]["warnings"], 4, "{}", out.stdout);
    assert_eq!(json["diagnostics"].as_array().unwrap().len(), 4);
}

#[test]
fn render_env_counts_and_warns_about_what_it_renders() {
    let p = Platform::new(PLATFORM, OVERLAYS);
    let out = p.kgen(&["render", "--env", "prod"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        summary(&out.stdout),
        "rendered 1 environment on 1 cluster into generated/: 23 files (22 Kubernetes objects; 23 added, 0 changed, 0 removed, 0 unchanged; 3 warnings)"
    );
    // prod's own: not staging's KG011, the SecretProviderClass of prod's bootstrap,
    // `tool` in prod only.
    assert_eq!(
        out.stderr,
        kg306("generated/argocd/prod/", "prod") + &kg202("prod")
    );
    assert!(!p.exists("generated/dev") && !p.exists("generated/argocd/nonprod"));

    // Two environments of one cluster.
    let out = p.kgen(&["render", "--env", "dev", "--env", "staging"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        summary(&out.stdout),
        "rendered 2 environments on 1 cluster into generated/: 32 files (31 Kubernetes objects; 32 added, 0 changed, 0 removed, 0 unchanged; 4 warnings)"
    );
    assert_eq!(
        out.stderr,
        kg306("generated/argocd/nonprod/", "{dev,staging}") + KG011 + &kg202("dev")
    );
}

#[test]
fn validate_env_counts_and_warns_about_what_it_validates() {
    let p = Platform::new(PLATFORM, OVERLAYS);
    let out = p.kgen(&["validate", "--env", "staging"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "valid: 12 objects in 1 environment, 2 warnings\n"
    );
    assert_eq!(
        out.stderr,
        kg306("generated/argocd/nonprod/", "staging") + KG011
    );

    let out = p.kgen(&["validate", "--env", "prod", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["summary"],
        serde_json::json!({"objects": 22, "environments": 1, "warnings": 3, "skipped": []})
    );
    let files: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["generated_file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "generated/prod/api/secretproviderclass.yaml",
            "generated/prod/tool/deployment.yaml",
            "generated/prod/tool/deployment.yaml"
        ]
    );

    let out = p.kgen(&["render", "--env", "dev", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let s = &v["summary"];
    assert_eq!(
        (
            &s["environments"],
            &s["clusters"],
            &s["files"],
            &s["objects"]
        ),
        (&1.into(), &1.into(), &25.into(), &24.into())
    );
}

#[test]
fn bump_image_and_promote_warn_about_the_environment_they_change() {
    let p = Platform::new(PLATFORM, OVERLAYS);
    assert_eq!(p.kgen(&["render"]).code, 0);
    let out = p.kgen(&["bump-image", "api", "--env", "prod", "--tag", "1.1.0"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        kg306("generated/argocd/prod/", "prod") + &kg202("prod")
    );
    let out = p.kgen(&["promote", "--from", "prod", "--to", "staging"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        kg306("generated/argocd/nonprod/", "staging") + KG011
    );
}

const NOTE_DEV: &str = "note: this is in environment `dev`, which this run does not render; kgen checks every environment and writes nothing while one has an error, so that generated/ stays consistent";

#[test]
fn an_error_in_another_environment_fails_the_run_and_says_where_it_is() {
    // Found reading an overlay, then validating a rendered object: prod's warnings
    // come first.
    let cases = [
        (
            "[services.tool]\nenabled = true\nreplicas = -1\n",
            format!(
                "error[KG007]: replicas -1 is out of range
 --> overlays/dev.toml:3:12
  |
3 | replicas = -1
  |            ^^
  = {NOTE_DEV}
  = help: `replicas` must be between 0 and 10000

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"
            ),
        ),
        (
            "[services.tool]\nenabled = true\nprobes.readiness = { tcp = \"nosuchport\" }\n",
            kg306("generated/argocd/prod/", "prod") + &kg202("prod") + &format!(
                "error[KG109]: the readiness probe uses port `nosuchport`, which container `tool` does not declare
 --> overlays/dev.toml:3:20
  |
3 | probes.readiness = {{ tcp = \"nosuchport\" }}
  |                    ^^^^^^^^^^^^^^^^^^^^^^
  = in: generated/dev/tool/deployment.yaml: spec.template.spec.containers[0].readinessProbe.tcpSocket.port
  = {NOTE_DEV}
  = help: name one of the container's ports (ports[].name), or give the port number; the kubelet fails the probe otherwise

error: 1 error and 3 warnings; nothing was written
"
            ),
        ),
    ];
    for (dev, expected) in cases {
        let mut overlays = OVERLAYS.to_vec();
        overlays[0] = ("dev", dev);
        let p = Platform::new(PLATFORM, &overlays);
        let out = p.kgen(&["render", "--env", "prod"]);
        assert_eq!((out.code, out.stderr.as_str()), (2, expected.as_str()));
        assert!(!p.exists("generated"), "nothing is written");
        // Rendering dev itself: the same error, without the note.
        let out = p.kgen(&["render", "--env", "dev"]);
        assert_eq!(out.code, 2);
        assert!(!out.stderr.contains("note:"), "{}", out.stderr);
    }

    // Found resolving a value of platform.toml, in the two environments that lack the
    // variable (tagged by the resolver: the value is not in an overlay, and no
    // generated file is named).
    let text = PLATFORM
        .replace(
            "enabled = false\n",
            "enabled = false\nconfig = { URL = \"{{ env.url }}\" }\n",
        )
        .replace(
            "production = true\n",
            "production = true\nvars = { url = \"https://x.example.com\" }\n",
        );
    let overlays = [
        ("dev", "[services.tool]\nenabled = true\n"),
        ("staging", "[services.tool]\nenabled = true\n"),
        ("prod", "[services.tool]\nenabled = true\n"),
    ];
    let p = Platform::new(&text, &overlays);
    let out = p.kgen(&["render", "--env", "prod", "--format", "json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 1, "{v}");
    let d = &v["diagnostics"][0];
    assert_eq!(
        (&d["code"], &d["file"], &d["line"], &d["note"]),
        (
            &"KG013".into(),
            &"platform.toml".into(),
            &42.into(),
            &"this is in environments `dev`, `staging`, which this run does not render; kgen checks every environment and writes nothing while one has an error, so that generated/ stays consistent".into()
        )
    );
    let out = p.kgen(&["render", "--env", "dev", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["note"], serde_json::Value::Null, "{v}");
}
