//! `compile` validates and emits an environment in batches of whole namespaces, to
//! keep memory low. These tests hold it to the straightforward way on platforms
//! large enough for several batches: render everything, validate it all at once,
//! emit it all. Same files, same bytes, same warnings and errors.

mod common;

use common::Platform;
use kgen::diagnostic::{render_human, Diagnostic};

/// A platform of `n` services over two environments, each on a cluster of its own.
/// Namespaces are mixed so that batches must keep them whole: every third service
/// shares one of five team namespaces (spread over the whole name range; with
/// `teams`), one service lives in the `argocd` namespace beside the Argo CD objects,
/// the rest in their own. Every seventh service calls the next one (NetworkPolicies
/// between namespaces), and every fifth has secrets and an IAM role. `extra` is
/// appended to platform.toml.
fn platform_text(n: usize, extra: &str) -> String {
    platform_text_with(n, extra, true)
}

fn platform_text_with(n: usize, extra: &str, teams: bool) -> String {
    let mut p = String::from(
        r#"[platform]
name = "big"
repo = "https://github.com/acme/big.git"
registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
aws_region = "eu-west-1"

[defaults]
port = 8000
probes = { liveness = "/health", readiness = "/ready" }
resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "500m", memory = "256Mi" } }
autoscaling = { min = 2, max = 5, cpu = 70 }

[environments.dev]
sync = "auto"
vars = { aws_account = "111111111111" }

[environments.prod]
cluster = "https://prod.example.com"
sync = "manual"
vars = { aws_account = "333333333333" }

"#,
    );
    for i in 0..n {
        let s = format!("svc-{i:04}");
        p.push_str(&format!(
            "[services.{s}]\nimage = \"acme/{s}\"\ntag = \"1.0.{i}\"\n"
        ));
        if i == n / 2 {
            p.push_str("namespace = \"argocd\"\n");
        } else if teams && i % 3 == 0 {
            p.push_str(&format!("namespace = \"team-{}\"\n", i % 5));
        }
        if i % 7 == 0 && i + 1 < n {
            p.push_str(&format!("calls = [\"svc-{:04}\"]\n", i + 1));
        }
        if i % 5 == 0 {
            p.push_str(
                "iam_role = \"arn:aws:iam::{{ env.aws_account }}:role/{{ env.name }}-{{ service }}\"\n\
                 secrets = [{ name = \"db-password\", from = \"secretsmanager\", key = \"{{ env.name }}/{{ service }}/db\", json_key = \"password\" }]\n",
            );
        }
        p.push('\n');
    }
    p.push_str(extra);
    p
}

/// What `compile` gives, as comparable text: every file with its bytes, then the
/// warnings; or the errors.
fn streamed(ws: &kgen::Workspace) -> String {
    match kgen::compile::compile(ws, &[]) {
        Ok(c) => tree_text(&c.tree) + &render_human(&c.run.warnings, &ws.sources, false),
        Err(kgen::Error::Invalid(inv)) => render_human(&inv.diagnostics, &inv.sources, false),
        Err(e) => panic!("{e}"),
    }
}

/// The same, the straightforward way: the whole platform (every environment and
/// cluster) rendered, validated and admitted (the Argo CD checks) at once, and
/// emitted.
fn all_at_once(ws: &kgen::Workspace) -> String {
    let spec = kgen::resolve::resolve(ws, &[]).unwrap();
    let objects = kgen::render::platform(&spec);
    let mut report = kgen::validate::Report::default();
    report.diagnostics.extend(spec.warnings.iter().cloned());
    report
        .diagnostics
        .extend(kgen::validate::check_platform(&spec));
    kgen::validate::check_into(&spec, &objects, &mut report);
    let mut inventory = kgen::admission::Inventory::default();
    inventory.record(&objects);
    report
        .diagnostics
        .extend(kgen::admission::check(&spec, inventory, &|_| true));
    let report = kgen::validate::finish(report);
    if report.diagnostics.iter().any(Diagnostic::is_error) {
        return render_human(&report.diagnostics, &ws.sources, false);
    }
    let mut tree = kgen::emit::emit_with_waivers(&spec, &objects, &report.waived);
    let platform_file = ws.sources.get(ws.platform_file).display.clone();
    let (path, text) = kgen::render::cmp_plugin::file(&[platform_file]);
    tree.files.insert(path, text);
    tree_text(&tree) + &render_human(&report.diagnostics, &ws.sources, false)
}

fn tree_text(tree: &kgen::emit::Tree) -> String {
    tree.files
        .iter()
        .map(|(path, text)| format!("==> {path}\n{text}"))
        .collect()
}

#[test]
fn batches_give_the_same_files_and_warnings_as_validating_everything_at_once() {
    let p = Platform::new(&platform_text(400, ""), &[]);
    let ws = kgen::Workspace::load(&p.path().join("platform.toml")).unwrap();
    let streamed = streamed(&ws);
    assert!(
        streamed.contains("==> prod/svc-0399/deployment.yaml"),
        "{}",
        &streamed[..streamed.len().min(3000)]
    );
    assert_eq!(streamed, all_at_once(&ws));
    // Each team namespace is written once per cluster, by the cluster's
    // `<cluster>-namespaces` Application, although its services are spread over
    // every batch; none of its services writes it.
    assert!(streamed.contains("==> clusters/dev/namespaces/team-0.yaml\n"));
    assert!(streamed.contains("==> clusters/prod/namespaces/team-0.yaml\n"));
    assert!(!streamed.contains("==> dev/svc-0000/namespace.yaml\n"));
    assert!(!streamed.contains("==> dev/svc-0015/namespace.yaml\n"));
    assert!(streamed.contains("==> dev/svc-0001/namespace.yaml\n"));
    assert!(streamed.matches("==> dev/").count() > 400 * 5);
}

#[test]
fn batches_give_the_same_files_and_warnings_without_shared_namespaces() {
    let p = Platform::new(&platform_text_with(400, "", false), &[]);
    let ws = kgen::Workspace::load(&p.path().join("platform.toml")).unwrap();
    let streamed = streamed(&ws);
    assert!(
        streamed.contains("==> prod/svc-0399/deployment.yaml"),
        "{}",
        &streamed[..streamed.len().min(3000)]
    );
    assert_eq!(streamed, all_at_once(&ws));
    assert!(streamed.contains("==> dev/svc-0000/namespace.yaml\n"));
    assert!(streamed.contains("==> argocd/prod/applicationset-prod.yaml\n"));
    assert!(streamed.contains("==> terraform/dev.json\n"));
    assert!(streamed.matches("==> dev/").count() > 400 * 5);
}

#[test]
fn batches_give_the_same_errors_as_validating_everything_at_once() {
    // In production, a late service (a later batch) and an early one run one
    // replica without an autoscaler: KG210, found by the checks between objects.
    let text = platform_text(300, "")
        .replace(
            "[environments.prod]\n",
            "[environments.prod]\nproduction = true\n",
        )
        .replace(
            "[services.svc-0290]\n",
            "[services.svc-0290]\nreplicas = 1\nautoscaling = { enabled = false }\n",
        )
        .replace(
            "[services.svc-0001]\n",
            "[services.svc-0001]\nreplicas = 1\nautoscaling = { enabled = false }\n",
        );
    let p = Platform::new(&text, &[]);
    let ws = match kgen::Workspace::load(&p.path().join("platform.toml")) {
        Ok(ws) => ws,
        Err(e) => panic!("{e}"),
    };
    let streamed = streamed(&ws);
    assert!(
        streamed.contains("error[KG210]: Deployment `svc-0290` runs 1 replica"),
        "{streamed}"
    );
    assert_eq!(streamed, all_at_once(&ws));
}
