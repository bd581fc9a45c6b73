//! KG218: the containers of one pod that run one image repository at different
//! versions (a service at 2.2.0, its `migrate` init container at 2.3.0), located at
//! the tag that lags, one diagnostic for every environment it is in, waivable with a
//! reason (newcomer review 33, F1).

mod common;

use common::Platform;

const PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[defaults]
probes = { liveness = "/health", readiness = "/ready" }

[environments.dev]
sync = "auto"

[environments.prod]
production = true
cluster = "https://prod.example.com"

[services.api]
image = "acme/api"
tag = "2.3.0"

[services.api.init_containers.migrate]
image = "registry.example.com/acme/api"
tag = "2.3.0"
command = ["/app/migrate"]
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { memory = "128Mi" } }
"#;

/// prod's overlay leaves the service behind its migration: the warning points at the
/// overlay's line, names both containers, their versions and the environment, and
/// says how to move them together. The repositories match once the platform's
/// `registry` is applied (`acme/api` is `registry.example.com/acme/api`).
#[test]
fn a_service_behind_its_migration_in_one_environment() {
    let p = Platform::new(PLATFORM, &[("prod", "[services.api]\ntag = \"2.2.0\"\n")]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        r#"warning[KG218]: container `api` runs registry.example.com/acme/api at 2.2.0 but init container `migrate` runs it at 2.3.0 in environment `prod`: one pod, two versions of one image (a migration ahead of or behind the code it migrates)
 --> overlays/prod.toml:2:7
  |
2 | tag = "2.2.0"
  |       ^^^^^^^ init container `migrate` runs 2.3.0
  = in: generated/prod/api/deployment.yaml: spec.template.spec.containers[0].image
  = help: run one version in every container of the repository: `kgen bump-image --image registry.example.com/acme/api:2.3.0 --env prod` moves them all; or set `tag = "2.3.0"` in `[services.api]` (at the line shown, or for prod alone in its overlay); if the skew is deliberate, waive it on the service with `waivers = [{ rule = "KG218", reason = "..." }]`

"#
    );
    // The fix it names removes it.
    let out = p.kgen(&[
        "bump-image",
        "--image",
        "registry.example.com/acme/api:2.3.0",
        "--env",
        "prod",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert_eq!(p.kgen(&["validate"]).stderr, "");
}

/// The same skew from platform.toml in every environment is one warning at the
/// migration's tag (the older one lags), listing the environments.
#[test]
fn a_skew_of_platform_toml_is_one_warning_for_every_environment() {
    let text = PLATFORM.replacen("tag = \"2.3.0\"\n\n", "tag = \"2.4.0\"\n\n", 1);
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        r#"warning[KG218]: init container `migrate` runs registry.example.com/acme/api at 2.3.0 but container `api` runs it at 2.4.0 in environment `{dev,prod}`: one pod, two versions of one image (a migration ahead of or behind the code it migrates)
  --> platform.toml:22:7
   |
22 | tag = "2.3.0"
   |       ^^^^^^^ container `api` runs 2.4.0
   = in: generated/{dev,prod}/api/deployment.yaml: spec.template.spec.initContainers[0].image
   = help: run one version in every container of the repository: `kgen bump-image --image registry.example.com/acme/api:2.4.0 --env {dev,prod}` moves them all; or set `tag = "2.4.0"` in `[services.api.init_containers.migrate]` (at the line shown, or for {dev,prod} alone in its overlay); if the skew is deliberate, waive it on the service with `waivers = [{ rule = "KG218", reason = "..." }]`

"#
    );
    let out = p.kgen(&["validate", "--format", "github"]);
    assert!(
        out.stderr.starts_with(
            "::warning file=platform.toml,line=22,col=7,title=kgen KG218::init container `migrate`"
        ),
        "{}",
        out.stderr
    );
}

/// A deliberate skew is waived on the service with a reason, which the header of
/// the deployment records.
#[test]
fn a_deliberate_skew_is_waived_with_a_reason() {
    let text = PLATFORM.replacen(
        "tag = \"2.3.0\"\n\n",
        "tag = \"2.2.0\"\nwaivers = [{ rule = \"KG218\", reason = \"migrations ship one release ahead\" }]\n\n",
        1,
    );
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert!(p
        .read("generated/prod/api/deployment.yaml")
        .contains("# Waived: KG218 (migrations ship one release ahead)\n"));
}

/// Not a skew: another repository at another version (a proxy sidecar), and one
/// tag with and without its digest.
#[test]
fn other_repositories_and_a_pinned_digest_are_no_skew() {
    let text = format!(
        "{PLATFORM}\n[services.api.sidecars.proxy]\nimage = \"acme/proxy\"\ntag = \"9.1.0\"\n\
         resources = {{ requests = {{ cpu = \"50m\", memory = \"64Mi\" }}, limits = {{ memory = \"128Mi\" }} }}\n\
         probes = {{ liveness = {{ exec = [\"/bin/ok\"] }} }}\n"
    );
    let digest = "sha256:0f2b8e4d6a1c3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f";
    let p = Platform::new(
        &text,
        &[(
            "dev",
            &format!("[services.api]\ntag = \"2.3.0\"\ndigest = \"{digest}\"\n"),
        )],
    );
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
}

/// A hand-written Deployment: the help speaks of its fields and the annotation.
#[test]
fn a_hand_written_pod_with_a_skew() {
    let p = Platform::empty();
    p.write(
        "deploy.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: api
  annotations:
    kgen.dev/waive-KG201: fixture
    kgen.dev/waive-KG202: fixture
    kgen.dev/waive-KG203: fixture
    kgen.dev/waive-KG204: fixture
    kgen.dev/waive-KG205: fixture
    kgen.dev/waive-KG207: fixture
    kgen.dev/waive-KG213: fixture
spec:
  selector:
    matchLabels: { app: api }
  template:
    metadata:
      labels: { app: api }
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/api:1.4.0
      containers:
        - name: api
          image: ghcr.io/acme/api:1.3.0
",
    );
    let out = p.kgen(&["validate", "deploy.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        r#"warning[KG218]: container `api` runs ghcr.io/acme/api at 1.3.0 but init container `migrate` runs it at 1.4.0: one pod, two versions of one image (a migration ahead of or behind the code it migrates)
  --> deploy.yaml:26:18
   |
26 |           image: ghcr.io/acme/api:1.3.0
   |                  ^^^^^^^^^^^^^^^^^^^^^^ init container `migrate` runs 1.4.0
   = in: deploy.yaml: spec.template.spec.containers[0].image
   = help: run one version in every container of the repository (`ghcr.io/acme/api:1.4.0` in both), or, if the skew is deliberate, waive it with the annotation `kgen.dev/waive-KG218: "<reason>"`

"#
    );
}
