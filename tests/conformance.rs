//! Conformance: every object kgen emits validates against the upstream CRD schemas
//! in `../shared/schemas/crds` (SecretProviderClass, Argo CD, Prometheus Operator),
//! read by `SchemaDir` the way a strict API server reads them, and against kgen's
//! own built-in schemas with zero findings. When `../shared` is absent the upstream
//! part is skipped with a printed reason.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{repo_root, Platform};
use kgen::schema_dir::SchemaDir;
use kgen::Workspace;

/// `$KGEN_SHARED_SCHEMAS`, else `../shared/schemas/crds` next to the repository.
fn upstream() -> Option<SchemaDir> {
    let path = match std::env::var_os("KGEN_SHARED_SCHEMAS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join("../shared/schemas/crds"),
    };
    if !path.is_dir() {
        eprintln!(
            "skipping upstream conformance: {} not found (set KGEN_SHARED_SCHEMAS to the CRD schema directory)",
            path.display()
        );
        return None;
    }
    Some(SchemaDir::open(&path).expect("open the upstream schema directory"))
}

/// A platform that uses more of kgen than the example: secrets of both kinds and
/// JSON keys, a digest, memory autoscaling, a namespace shared by two services (its
/// Namespace in generated/clusters/dev/namespaces/), two clusters, a StorageClass
/// something else creates (`provided`).
const WIDE: &str = r#"[platform]
name = "wide"
repo = "https://github.com/acme/wide.git"
registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
aws_region = "eu-west-1"

[defaults]
probes = { liveness = "/healthz", readiness = "/readyz" }

[environments.dev]
sync = "auto"
vars = { aws_account = "111111111111" }

[environments.prod]
production = true
cluster = "https://prod.example.com"
vars = { aws_account = "333333333333" }

[services.billing]
image = "acme/billing"
tag = "2.0.0"
namespace = "payments"
replicas = 3
port = 9000
metrics = { path = "/stats", interval = "15s", port = 9102 }
iam_role = "arn:aws:iam::{{ env.aws_account }}:role/{{ env.name }}-billing"
secrets = [
  { name = "db-user", from = "secretsmanager", key = "{{ env.name }}/billing/db", json_key = "username" },
  { name = "db-password", from = "secretsmanager", key = "{{ env.name }}/billing/db", json_key = "password" },
  { name = "api-key", from = "ssm", key = "/{{ env.name }}/billing/api-key" },
]
config = { CURRENCY = "EUR" }

[services.ledger]
image = "acme/ledger"
digest = "sha256:0f2b8e4d6a1c3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f"
namespace = "payments"
autoscaling = { min = 2, max = 4, memory = 75 }

[monitoring]
chart_version = "77.0.0"
values = { grafana = { admin = { existingSecret = "grafana-admin" } } }

[baseline]
provided = { storage_classes = ["gp3"] }
"#;

/// The warning of a platform with CSI secrets that does not run the Secrets Store CSI
/// driver preset (docs/argocd.md#crds): no Application installs the CRD of its
/// SecretProviderClasses before them.
const CSI_CRD_WARNING: &str = "warning[KG306]: SecretProviderClass (secrets-store.csi.x-k8s.io) is a custom resource whose CRD no Application installs before the Applications that use it";

/// Compiles `platform`, expecting exactly the warnings whose first lines start with
/// `warnings`, then holds every object to kgen's schemas and the upstream ones.
fn check(platform: &std::path::Path, label: &str, warnings: &[&str]) {
    let ws = Workspace::load(platform).unwrap_or_else(|e| panic!("{label}: load: {e}"));
    let (compiled, objects) =
        kgen::compile::compile_with_objects(&ws, &[]).unwrap_or_else(|e| match e {
            kgen::Error::Invalid(inv) => panic!(
                "{label}: invalid:\n{}",
                kgen::diagnostic::render_human(&inv.diagnostics, &inv.sources, false)
            ),
            other => panic!("{label}: {other}"),
        });
    let shown = kgen::diagnostic::render_human(&compiled.run.warnings, &ws.sources, false);
    let firsts: Vec<&str> = shown
        .lines()
        .filter(|l| l.starts_with("warning["))
        .collect();
    assert!(
        firsts.len() == warnings.len()
            && firsts.iter().zip(warnings).all(|(l, w)| l.starts_with(w)),
        "{label}: warnings:\n{shown}"
    );
    // kgen's own schemas: nothing to report for any object.
    for o in &objects {
        if o.value.get("kind").is_none() {
            continue;
        }
        let found = kgen::validate::schema::builtin_findings(&o.value);
        assert!(found.is_empty(), "{label}: {}: {found:#?}", o.path);
    }
    let Some(mut dir) = upstream() else {
        return;
    };
    let mut checked = BTreeSet::new();
    for o in &objects {
        let (Some(api), Some(kind)) = (
            o.value.get("apiVersion").and_then(|v| v.as_str()),
            o.value.get("kind").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        let group = api.rsplit_once('/').map_or("", |(g, _)| g);
        // Core groups have no CRD; every other kind kgen emits must have one upstream.
        let core = group.is_empty()
            || !group.contains('.')
            || group.ends_with(".k8s.io") && !group.contains("x-k8s");
        if core {
            continue;
        }
        match dir.validate(&o.value) {
            Ok(()) => {
                checked.insert(format!("{api} {kind}"));
            }
            Err(problems) => panic!(
                "{label}: generated/{} does not conform to the upstream schema:\n  {}",
                o.path,
                problems.join("\n  ")
            ),
        }
    }
    eprintln!("{label}: upstream schemas checked for {checked:?}");
    assert!(
        checked.contains("secrets-store.csi.x-k8s.io/v1 SecretProviderClass"),
        "{label}: {checked:?}"
    );
}

// The repository's platform runs the Secrets Store CSI driver preset and declares its
// baseline: no warning at all.
#[test]
fn the_example_platform_conforms() {
    check(&repo_root().join("platform.toml"), "example", &[]);
}

#[test]
fn a_wider_platform_conforms() {
    let p = Platform::new(WIDE, &[]);
    check(&p.path().join("platform.toml"), "wide", &[CSI_CRD_WARNING]);
}
