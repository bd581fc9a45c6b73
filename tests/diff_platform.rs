//! `kgen diff` and the platform layer: what Argo CD, the API server and the operators
//! (Karpenter, cert-manager, External Secrets) do with a changed or removed add-on, the
//! monitoring stack, and the cluster baseline, on real temporary git repositories
//! (built with git2), with exact text, JSON and Markdown outputs.
//!
//! Each test commits a rendered platform, changes its inputs (or, to stand for objects
//! deployed by an older kgen, the committed YAML), renders and commits again, then
//! diffs the two commits. Commit ids are the only moving part of the outputs: `<base>`
//! and `<head>` stand for the short ids.

mod common;

use common::{kgen_in, Output, Platform};
use git2::{Repository, Signature, Time};

/// One cluster, `prod`, with one environment; four presets (two of them installing
/// CRDs), a chart kgen does not know, the monitoring stack, and a baseline of each kind.
const PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"
aws_region = "eu-west-1"

[clusters.prod]
server = "https://prod.example.com"
kubernetes_version = "1.30"

[environments.prod]
cluster = "prod"
sync = "auto"

[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080
probes = { liveness = "/health", readiness = "/health" }
resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "500m", memory = "256Mi" } }

[monitoring]
chart_version = "77.0.0"

[addons.cert-manager]
chart_version = "v1.21.1"

[addons.external-secrets]
chart_version = "2.9.0"

[addons.ingress-nginx]
chart_version = "4.15.1"

[addons.karpenter]
chart_version = "1.14.1"
cluster_name = "acme-prod"

[addons.podinfo]
chart = "podinfo"
repo = "https://stefanprodan.github.io/podinfo"
chart_version = "6.9.0"
namespace = "podinfo"

[baseline.issuers.letsencrypt]
acme = { server = "staging", email = "platform@example.com", http01 = { ingress_class = "nginx" } }

[baseline.secret_stores.aws-secrets-manager]
provider = "secrets-manager"

[baseline.storage_classes.gp3]
default = true

[baseline.storage_classes.gp3-fast]
iops = 6000
throughput = 500

[baseline.node_classes.default]
role = "KarpenterNodeRole-prod"
subnet_tags = { "karpenter.sh/discovery" = "prod" }
security_group_tags = { "karpenter.sh/discovery" = "prod" }
ami_alias = "al2023@v20250101"

[baseline.node_pools.general]
instance_families = ["t3", "t3a", "t2"]
capacity_types = ["spot"]

[baseline.node_pools.batch]
instance_families = ["c5"]

[baseline.roles]
admin = { groups = ["platform-admins"] }
viewer = { groups = ["platform-viewers"] }

[baseline.priority_classes.critical]
value = 1000000
"#;

/// A git repository holding the platform, rendered and committed.
struct Repo {
    p: Platform,
    git: Repository,
    commits: i64,
    ids: Vec<String>,
}

impl Repo {
    /// `PLATFORM`, rendered and committed on `main`.
    fn new() -> Repo {
        let p = Platform::new(PLATFORM, &[]);
        let git = common::git::init(p.path());
        let mut r = Repo {
            p,
            git,
            commits: 0,
            ids: Vec::new(),
        };
        r.render();
        r.commit("base");
        r
    }

    /// Replaces text in a file (the text must occur).
    fn edit(&self, rel: &str, edits: &[(&str, &str)]) {
        self.p.write(rel, &edited(&self.p.read(rel), edits));
    }

    fn render(&self) {
        let out = self.kgen(&["render"]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    }

    fn commit(&mut self, message: &str) {
        self.commits += 1;
        let sig = Signature::new(
            "kgen test",
            "test@kgen.dev",
            &Time::new(1_700_000_000 + self.commits * 60, 0),
        )
        .unwrap();
        let id = common::git::commit_all(&self.git, &sig, message);
        self.ids.push(id.to_string());
    }

    /// Changes the platform, renders and commits.
    fn change(&mut self, edits: &[(&str, &str)]) {
        self.edit("platform.toml", edits);
        self.render();
        self.commit("change");
    }

    fn kgen(&self, args: &[&str]) -> Output {
        kgen_in(self.p.path(), args)
    }

    /// `kgen diff --base HEAD~1 --head HEAD` and more arguments.
    fn diff(&self, more: &[&str]) -> Output {
        let mut args = vec!["diff", "--base", "HEAD~1", "--head", "HEAD"];
        args.extend_from_slice(more);
        let out = self.kgen(&args);
        assert!(
            out.code == 0 || out.code == 1,
            "{}{}",
            out.stdout,
            out.stderr
        );
        assert_eq!(out.stderr, "");
        out
    }

    /// `expected` with `<base>` and `<head>` replaced by the last two short commit ids
    /// (`<base-full>` and `<head-full>` by the full ones).
    fn expand(&self, expected: &str) -> String {
        let n = self.ids.len();
        expected
            .replace("<base-full>", &self.ids[n - 2])
            .replace("<head-full>", &self.ids[n - 1])
            .replace("<base>", &self.ids[n - 2][..7])
            .replace("<head>", &self.ids[n - 1][..7])
    }
}

fn edited(text: &str, edits: &[(&str, &str)]) -> String {
    let mut text = text.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} is not in:\n{text}");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Compares whole texts, printing the actual one in full when they differ.
#[track_caller]
fn assert_text(actual: &str, expected: &str) {
    if actual != expected {
        panic!("---- actual\n{actual}---- expected\n{expected}----");
    }
}

/// The output up to the first changed resource's diff (risks, info, summary, lists).
fn head_of(text: &str) -> &str {
    match text.find("\n\nprod: ") {
        Some(i) => &text[..i + 1],
        None => text,
    }
}

#[test]
fn probe() {
    let mut r = Repo::new();
    r.change(&[("iops = 6000", "iops = 8000")]);
    let out = r.diff(&[]);
    println!("{}", out.stdout);
    panic!();
}
