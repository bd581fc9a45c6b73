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
        Repo::with(PLATFORM)
    }

    /// `platform`, rendered and committed on `main`.
    fn with(platform: &str) -> Repo {
        let p = Platform::new(platform, &[]);
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

/// The output up to the first changed resource's diff (risks, info, summary, lists):
/// its title names environment `prod` or cluster `prod`.
fn head_of(text: &str) -> &str {
    match ["\n\nprod: ", "\n\ncluster prod: "]
        .iter()
        .filter_map(|t| text.find(t))
        .min()
    {
        Some(i) => &text[..i + 1],
        None => text,
    }
}

// A StorageClass's parameters and reclaim policy, a PriorityClass's value and a
// binding's roleRef are refused by the API server (ValidateStorageClassUpdate,
// ValidatePriorityClassUpdate, ValidateClusterRoleBindingUpdate); the default class
// moving, and an issuer moving from Let's Encrypt's staging to production, are info.
#[test]
fn baseline_objects_the_api_server_will_not_update() {
    let mut r = Repo::new();
    // Deployed by an older kgen: the viewers were bound to another ClusterRole.
    r.edit(
        "generated/clusters/prod/baseline/clusterrolebinding-platform-viewer.yaml",
        &[("  name: view\n", "  name: edit\n")],
    );
    r.commit("deployed");
    r.change(&[
        (
            "iops = 6000",
            "iops = 8000\nreclaim_policy = \"Retain\"\ndefault = true",
        ),
        (
            "[baseline.storage_classes.gp3]\ndefault = true",
            "[baseline.storage_classes.gp3]",
        ),
        ("value = 1000000", "value = 2000000"),
        ("server = \"staging\"", "server = \"production\""),
        (
            "provider = \"secrets-manager\"",
            "provider = \"parameter-store\"",
        ),
    ]);
    let out = r.diff(&["--exit-code"]);
    assert_eq!(out.code, 1);
    assert_text(head_of(&out.stdout), &r.expand(r##"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (4):
  ! cluster prod: StorageClass gp3-fast: parameters.iops (6000 → 8000) and reclaimPolicy (Delete → Retain) change; a StorageClass's parameters, provisioner, reclaimPolicy and volumeBindingMode are immutable, so the sync fails until it is replaced: `kubectl delete storageclass gp3-fast`, then sync (Argo CD creates it again); volumes already provisioned keep the parameters and reclaim policy they were made with, only new claims get the new ones
  ! cluster prod: PriorityClass critical: value changes 1000000 → 2000000; a PriorityClass's value and preemptionPolicy are immutable, so the sync fails until it is replaced: `kubectl delete priorityclass critical`, then sync (meanwhile new pods that name it are refused); running pods keep the priority they were admitted with until they are re-created
  ! cluster prod: ClusterRoleBinding platform-viewer: roleRef changes ClusterRole `edit` → ClusterRole `view`; a binding's roleRef is immutable, so the sync fails until it is replaced: `kubectl delete clusterrolebinding platform-viewer`, then sync (its subjects lose the role in between)
  ! cluster prod: ClusterSecretStore aws-secrets-manager: spec.provider changes aws SecretsManager (eu-west-1) → aws ParameterStore (eu-west-1); every ExternalSecret that reads through it looks its keys up there at its next refresh, and fails where they are not (the Secrets it made keep their last values)

Info (3):
  i cluster prod: ClusterIssuer letsencrypt: ACME server changes staging (https://acme-staging-v02.api.letsencrypt.org/directory) → production (https://acme-v02.api.letsencrypt.org/directory): cert-manager registers the issuer's account key with the new server, and certificates already issued are kept until they are renewed; the staging certificates browsers do not trust stay in use until then: renew them now with `cmctl renew --all --all-namespaces`
  i cluster prod: StorageClass gp3: is no longer the cluster's default StorageClass: claims created without a storageClassName get the class that is the default now, and stay Pending if there is none
  i cluster prod: StorageClass gp3-fast: becomes the cluster's default StorageClass: claims created without a storageClassName get it from now on (claims that exist keep their class)

Summary:
                 added  changed  removed  unchanged
  prod               0        0        0          7
  cluster prod       0        6        0         26
  platform-wide      0        0        0          1
  total              0        6        0         34

Changed (6):
  ~ cluster prod: ClusterIssuer letsencrypt  (generated/clusters/prod/baseline-custom/clusterissuer-letsencrypt.yaml)
  ~ cluster prod: ClusterSecretStore aws-secrets-manager  (generated/clusters/prod/baseline-custom/clustersecretstore-aws-secrets-manager.yaml)
  ~ cluster prod: ClusterRoleBinding platform-viewer  (generated/clusters/prod/baseline/clusterrolebinding-platform-viewer.yaml)
  ~ cluster prod: PriorityClass critical  (generated/clusters/prod/baseline/priorityclass-critical.yaml)
  ~ cluster prod: StorageClass gp3-fast  (generated/clusters/prod/baseline/storageclass-gp3-fast.yaml)
  ~ cluster prod: StorageClass gp3  (generated/clusters/prod/baseline/storageclass-gp3.yaml)
"##));
}

// The same kinds in JSON, for bots: a PriorityClass whose value and preemption policy
// change.
#[test]
fn a_priority_class_change_in_json() {
    let mut r = Repo::new();
    r.change(&[("value = 1000000", "value = 2000000\npreempt = false")]);
    let out = r.diff(&["--format", "json"]);
    assert_text(&out.stdout, &r.expand(r##"{
  "version": 2,
  "base": {
    "source": "commit",
    "ref": "HEAD~1",
    "commit": "<base-full>",
    "how": null
  },
  "head": {
    "source": "commit",
    "ref": "HEAD",
    "commit": "<head-full>",
    "how": null
  },
  "base_is_head": null,
  "stale": null,
  "summary": {
    "added": 0,
    "changed": 1,
    "removed": 0,
    "unchanged": 39,
    "environments": {
      "prod": {
        "added": 0,
        "changed": 0,
        "removed": 0,
        "unchanged": 7
      }
    },
    "clusters": {
      "prod": {
        "added": 0,
        "changed": 1,
        "removed": 0,
        "unchanged": 31
      }
    },
    "platform": {
      "added": 0,
      "changed": 0,
      "removed": 0,
      "unchanged": 1
    }
  },
  "risks": [
    {
      "code": "priorityclass-immutable",
      "environment": null,
      "cluster": "prod",
      "resource": {
        "environment": null,
        "cluster": "prod",
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "namespace": "",
        "name": "critical"
      },
      "service": null,
      "message": "value changes 1000000 → 2000000, preemptionPolicy changes PreemptLowerPriority → Never; a PriorityClass's value and preemptionPolicy are immutable, so the sync fails until it is replaced: `kubectl delete priorityclass critical`, then sync (meanwhile new pods that name it are refused); running pods keep the priority they were admitted with until they are re-created"
    }
  ],
  "info": [],
  "added": [],
  "removed": [],
  "changed": [
    {
      "environment": null,
      "cluster": "prod",
      "apiVersion": "scheduling.k8s.io/v1",
      "kind": "PriorityClass",
      "namespace": "",
      "name": "critical",
      "path": "clusters/prod/baseline/priorityclass-critical.yaml",
      "base_path": "clusters/prod/baseline/priorityclass-critical.yaml",
      "fields": [
        "preemptionPolicy",
        "value"
      ],
      "diff": "--- a/generated/clusters/prod/baseline/priorityclass-critical.yaml\n+++ b/generated/clusters/prod/baseline/priorityclass-critical.yaml\n@@ -5,4 +5,5 @@\n     app.kubernetes.io/managed-by: kgen\n     app.kubernetes.io/part-of: acme\n   name: critical\n-value: 1000000\n+preemptionPolicy: Never\n+value: 2000000\n",
      "version_only": false
    }
  ],
  "moved": [],
  "services": [],
  "versions": [],
  "notes": []
}
"##));
}

// Karpenter: a removed NodePool's nodes are terminated at once; narrower requirements,
// a new AMI, a changed template replace nodes through drift (docs: disruption.md).
#[test]
fn karpenter_terminates_or_replaces_nodes() {
    let mut r = Repo::new();
    r.change(&[
        ("[\"t3\", \"t3a\", \"t2\"]", "[\"t3\", \"t3a\"]"),
        ("al2023@v20250101", "al2023@v20250301"),
        (
            "[baseline.node_pools.batch]\ninstance_families = [\"c5\"]\n",
            "",
        ),
    ]);
    let out = r.diff(&["--format", "markdown"]);
    assert_text(&out.stdout, &r.expand(r##"### kgen diff

Base: `HEAD~1` (`<base>`) → head: `HEAD` (`<head>`)

| Where | Added | Changed | Removed | Unchanged |
|---|---:|---:|---:|---:|
| prod | 0 | 0 | 0 | 7 |
| cluster prod | 0 | 2 | 1 | 29 |
| platform-wide | 0 | 0 | 0 | 1 |
| **Total** | **0** | **2** | **1** | **37** |

#### ⚠️ Risks (3)

- **cluster prod** · `NodePool batch`: removed; Karpenter terminates every node of this pool: the NodePool owns their NodeClaims, so deleting it deletes them, and each node is drained (its pods evicted within their PodDisruptionBudgets) and its instance terminated, all at once, without replacements launched first; pods that no other pool admits stay Pending
- **cluster prod** · `EC2NodeClass default`: spec.amiSelectorTerms changes; Karpenter's drift replaces the nodes launched from this EC2NodeClass whose AMI, subnet, security groups or capacity reservation the new terms no longer select: each one is tainted, its replacement launched first, then it is drained (its pods evicted within their PodDisruptionBudgets), a few at a time (the pool's spec.disruption.budgets, 10% of its nodes by default)
- **cluster prod** · `NodePool general`: spec.template.spec.requirements narrow (`karpenter.k8s.aws/instance-family` no longer admits t2); Karpenter's drift replaces the nodes of this pool that no longer satisfy them: each one is tainted, its replacement launched first, then it is drained (its pods evicted within their PodDisruptionBudgets), a few at a time (the pool's spec.disruption.budgets, 10% of its nodes by default)

#### Removed (1)

- **cluster prod** · `NodePool batch` (`generated/clusters/prod/baseline-custom/nodepool-batch.yaml`)

#### Changed (2)

<details>
<summary><b>cluster prod</b> · <code>EC2NodeClass default</code>: <code>spec.amiSelectorTerms[0].alias</code></summary>

```diff
--- a/generated/clusters/prod/baseline-custom/ec2nodeclass-default.yaml
+++ b/generated/clusters/prod/baseline-custom/ec2nodeclass-default.yaml
@@ -9,7 +9,7 @@
   name: default
 spec:
   amiSelectorTerms:
-  - alias: al2023@v20250101
+  - alias: al2023@v20250301
   role: KarpenterNodeRole-prod
   securityGroupSelectorTerms:
   - tags:
```

</details>

<details>
<summary><b>cluster prod</b> · <code>NodePool general</code>: <code>spec.template.spec.requirements[0].values[2]</code></summary>

```diff
--- a/generated/clusters/prod/baseline-custom/nodepool-general.yaml
+++ b/generated/clusters/prod/baseline-custom/nodepool-general.yaml
@@ -24,7 +24,6 @@
         values:
         - t3
         - t3a
-        - t2
       - key: karpenter.sh/capacity-type
         operator: In
         values:
```

</details>

"##));
    // Wider requirements replace nothing; a taint (the template's hash) replaces all.
    r.change(&[
        ("[\"t3\", \"t3a\"]", "[\"t3\", \"t3a\", \"m5\"]"),
        (
            "capacity_types = [\"spot\"]",
            "capacity_types = [\"spot\"]\ntaints = [{ key = \"dedicated\", value = \"general\", effect = \"NoSchedule\" }]\nexpire_after = \"360h\"",
        ),
    ]);
    let out = r.diff(&[]);
    assert_text(head_of(&out.stdout), &r.expand(r##"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (1):
  ! cluster prod: NodePool general: spec.template.spec.expireAfter and spec.template.spec.taints change; Karpenter's drift replaces every node of this pool (the pool's template hash changes): each one is tainted, its replacement launched first, then it is drained (its pods evicted within their PodDisruptionBudgets), a few at a time (the pool's spec.disruption.budgets, 10% of its nodes by default)

Summary:
                 added  changed  removed  unchanged
  prod               0        0        0          7
  cluster prod       0        1        0         30
  platform-wide      0        0        0          1
  total              0        1        0         38

Changed (1):
  ~ cluster prod: NodePool general  (generated/clusters/prod/baseline-custom/nodepool-general.yaml)
"##));
}

// Add-on Applications and the monitoring stack: a major version, a downgrade, another
// repository and another namespace are risks; a minor version is info.
#[test]
fn add_on_and_monitoring_charts() {
    let mut r = Repo::new();
    r.change(&[
        ("chart_version = \"4.15.1\"", "chart_version = \"4.15.2\""),
        ("chart_version = \"1.14.1\"", "chart_version = \"2.0.0\""),
        ("chart_version = \"77.0.0\"", "chart_version = \"78.0.0\""),
        ("chart_version = \"v1.21.1\"", "chart_version = \"v1.20.0\""),
        (
            "repo = \"https://stefanprodan.github.io/podinfo\"",
            "repo = \"oci://ghcr.io/stefanprodan/charts\"",
        ),
        (
            "chart_version = \"2.9.0\"",
            "chart_version = \"2.9.0\"\nnamespace = \"eso\"",
        ),
    ]);
    let out = r.diff(&[]);
    assert_text(head_of(&out.stdout), &r.expand(r##"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (7):
  ! cluster prod: Application argocd/prod-external-secrets: the release moves from namespace `external-secrets` to `eso`: at the next sync Argo CD creates the chart's namespaced objects in `eso` and prunes those in `external-secrets` (for a while both copies run, or neither); what the add-on created itself in `external-secrets` (Secrets, leases) does not move
  ! cluster prod: AppProject argocd/prod: the project now allows destinations `eso` on https://prod.example.com; source repositories `ghcr.io/stefanprodan/charts`: every Application in it may deploy these from now on, and so may anyone who can create or edit an Application in the project
  ! cluster prod: Namespace external-secrets: removed; a prune deletes the namespace and everything in it
  ! cluster prod: Application argocd/prod-podinfo: the chart changes from `podinfo` (https://stefanprodan.github.io/podinfo) to `podinfo` (ghcr.io/stefanprodan/charts): another repository may publish other contents under the same name and version, so read what the new chart renders; Argo CD must be able to pull from the new repository (a private one needs its credentials)
  ! cluster prod: Application argocd/prod-karpenter: chart `karpenter` moves to a new major version, 1.14.1 → 2.0.0: read the chart's upgrade notes before merging (renamed or removed values, CRDs to upgrade, objects that must be replaced); Argo CD applies it at the next sync
  ! cluster prod: Application argocd/prod-monitoring: chart `kube-prometheus-stack` moves to a new major version, 77.0.0 → 78.0.0: read the chart's upgrade notes before merging (renamed or removed values, CRDs to upgrade, objects that must be replaced); Argo CD applies it at the next sync
  ! cluster prod: Application argocd/prod-cert-manager: chart `cert-manager` moves back, v1.21.1 → v1.20.0: at the next sync Argo CD applies the older chart over the newer one's objects (its CRDs too, if it has any); make sure the chart supports going back

Info (2):
  i cluster prod: Application argocd/prod-ingress-nginx: chart `ingress-nginx` 4.15.1 → 4.15.2: Argo CD renders and applies the new version at the next sync
  i cluster prod: AppProject argocd/prod: the project no longer allows destinations `external-secrets` on https://prod.example.com; source repositories `https://stefanprodan.github.io/podinfo`: an Application in it that still deploys there fails to sync (`not permitted in project`)

Summary:
                 added  changed  removed  unchanged
  prod               0        0        0          7
  cluster prod       1        7        1         24
  platform-wide      0        0        0          1
  total              1        7        1         32

Added (1):
  + cluster prod: Namespace eso  (generated/clusters/prod/external-secrets/namespace.yaml)

Removed (1):
  - cluster prod: Namespace external-secrets  (generated/clusters/prod/external-secrets/namespace.yaml)

Changed (7):
  ~ cluster prod: Application argocd/prod-cert-manager  (generated/argocd/prod/application-cert-manager.yaml)
  ~ cluster prod: Application argocd/prod-external-secrets  (generated/argocd/prod/application-external-secrets.yaml)
  ~ cluster prod: Application argocd/prod-ingress-nginx  (generated/argocd/prod/application-ingress-nginx.yaml)
  ~ cluster prod: Application argocd/prod-karpenter  (generated/argocd/prod/application-karpenter.yaml)
  ~ cluster prod: Application argocd/prod-monitoring  (generated/argocd/prod/application-monitoring.yaml)
  ~ cluster prod: Application argocd/prod-podinfo  (generated/argocd/prod/application-podinfo.yaml)
  ~ cluster prod: AppProject argocd/prod  (generated/argocd/prod/appproject-prod.yaml)
"##));
}

// Removing an add-on's Application deletes what its chart installed, but never its
// CRDs (Argo CD's shouldBeDeleted skips them): for a chart that installs CRDs, every
// custom resource of them stays without a controller. The removed values files are
// not risks of their own.
#[test]
fn removed_add_ons_and_what_they_leave() {
    let mut r = Repo::new();
    // External Secrets without its CRDs (they come from elsewhere).
    r.change(&[(
        "chart_version = \"2.9.0\"",
        "chart_version = \"2.9.0\"\ninstall_crds = false",
    )]);
    r.change(&[
        ("[addons.cert-manager]\nchart_version = \"v1.21.1\"\n", ""),
        ("[addons.ingress-nginx]\nchart_version = \"4.15.1\"\n", ""),
        (
            "[addons.external-secrets]\n",
            "[addons.external-secrets]\nenabled = false\n",
        ),
        ("[addons.podinfo]\n", "[addons.podinfo]\nenabled = false\n"),
        ("[monitoring]\n", "[monitoring]\nenabled = false\n"),
        (
            "[baseline.issuers.letsencrypt]\n",
            "[baseline.issuers.letsencrypt]\nenabled = false\n",
        ),
        (
            "[baseline.secret_stores.aws-secrets-manager]\n",
            "[baseline.secret_stores.aws-secrets-manager]\nenabled = false\n",
        ),
    ]);
    let out = r.diff(&[]);
    assert_text(head_of(&out.stdout), &r.expand(r##"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (10):
  ! cluster prod: Application argocd/prod-cert-manager: removed; Argo CD deletes what chart `cert-manager` installed but its CustomResourceDefinitions (its cascade deletion skips CRDs), so the custom resources of `cert-manager.io` and `acme.cert-manager.io` stay in the cluster with no controller: nothing acts on them any more, and those that carry its finalizers cannot be deleted until it is back; delete them, then the CRDs, by hand if they are not wanted, or keep the add-on
  ! cluster prod: Application argocd/prod-monitoring: removed; Argo CD deletes what chart `kube-prometheus-stack` installed but its CustomResourceDefinitions (its cascade deletion skips CRDs), so the custom resources of `monitoring.coreos.com` stay in the cluster with no controller: nothing acts on them any more, and those that carry its finalizers cannot be deleted until it is back; delete them, then the CRDs, by hand if they are not wanted, or keep the add-on
  ! cluster prod: ClusterIssuer letsencrypt: removed; the certificates it issued are no longer renewed (their next CertificateRequest stays Pending: `Referenced "ClusterIssuer" not found`) and expire at the end of their validity; an Ingress or Certificate made outside kgen may still name it
  ! cluster prod: ClusterSecretStore aws-secrets-manager: removed; every ExternalSecret that reads through it fails at its next refresh (`could not get ClusterSecretStore`), and the Secrets they made keep their last values
  ! prod: PrometheusRule api/api: removed; a prune deletes it from the cluster
  ! 5 Namespaces in cluster prod: removed; a prune deletes the namespace and everything in it
      cluster prod (5): cert-manager, external-secrets, ingress-nginx, monitoring, podinfo

Info (4):
  i cluster prod: Application argocd/prod-external-secrets: removed; Argo CD deletes everything chart `external-secrets` installed (the Application's resources finalizer)
  i cluster prod: Application argocd/prod-ingress-nginx: removed; Argo CD deletes everything chart `ingress-nginx` installed (the Application's resources finalizer)
  i cluster prod: Application argocd/prod-podinfo: removed; Argo CD deletes everything chart `podinfo` installed (the Application's resources finalizer) but CustomResourceDefinitions: kgen knows nothing of this chart, so if it installs CRDs, their custom resources stay with no controller
  i cluster prod: AppProject argocd/prod: the project no longer allows cluster-scoped `MutatingWebhookConfiguration` (admissionregistration.k8s.io), `ValidatingWebhookConfiguration` (admissionregistration.k8s.io), `ClusterIssuer` (cert-manager.io), `ClusterSecretStore` (external-secrets.io) and `IngressClass` (networking.k8s.io); destinations `cert-manager` on https://prod.example.com, `external-secrets` on https://prod.example.com, `ingress-nginx` on https://prod.example.com, `monitoring` on https://prod.example.com and `podinfo` on https://prod.example.com; source repositories `https://charts.external-secrets.io`, `https://charts.jetstack.io`, `https://kubernetes.github.io/ingress-nginx`, `https://prometheus-community.github.io/helm-charts` and `https://stefanprodan.github.io/podinfo`: an Application in it that still deploys there fails to sync (`not permitted in project`)

Summary:
                 added  changed  removed  unchanged
  prod               0        0        1          6
  cluster prod       0        1       17         14
  platform-wide      0        0        0          1
  total              0        1       18         21

Removed (18):
  - prod: PrometheusRule api/api  (generated/prod/api/prometheusrule.yaml)
  - cluster prod: Application argocd/prod-cert-manager  (generated/argocd/prod/application-cert-manager.yaml)
  - cluster prod: Application argocd/prod-external-secrets  (generated/argocd/prod/application-external-secrets.yaml)
  - cluster prod: Application argocd/prod-ingress-nginx  (generated/argocd/prod/application-ingress-nginx.yaml)
  - cluster prod: Application argocd/prod-monitoring  (generated/argocd/prod/application-monitoring.yaml)
  - cluster prod: Application argocd/prod-podinfo  (generated/argocd/prod/application-podinfo.yaml)
  - cluster prod: ClusterIssuer letsencrypt  (generated/clusters/prod/baseline-custom/clusterissuer-letsencrypt.yaml)
  - cluster prod: ClusterSecretStore aws-secrets-manager  (generated/clusters/prod/baseline-custom/clustersecretstore-aws-secrets-manager.yaml)
  - cluster prod: Namespace cert-manager  (generated/clusters/prod/cert-manager/namespace.yaml)
  - cluster prod: Namespace external-secrets  (generated/clusters/prod/external-secrets/namespace.yaml)
  - cluster prod: Namespace ingress-nginx  (generated/clusters/prod/ingress-nginx/namespace.yaml)
  - cluster prod: Namespace monitoring  (generated/clusters/prod/monitoring/namespace.yaml)
  - cluster prod: Namespace podinfo  (generated/clusters/prod/podinfo/namespace.yaml)
  - cluster prod: Helm values cert-manager  (generated/values/prod/cert-manager.yaml)
  - cluster prod: Helm values external-secrets  (generated/values/prod/external-secrets.yaml)
  - cluster prod: Helm values ingress-nginx  (generated/values/prod/ingress-nginx.yaml)
  - cluster prod: Helm values monitoring  (generated/values/prod/monitoring.yaml)
  - cluster prod: Helm values podinfo  (generated/values/prod/podinfo.yaml)

Changed (1):
  ~ cluster prod: AppProject argocd/prod  (generated/argocd/prod/appproject-prod.yaml)
"##));
}

// external-dns changes only the records whose TXT record names its owner: a new
// `txt_owner_id` orphans every record it made, and `policy = "sync"` lets it delete
// records (newcomer review 19, #2).
#[test]
fn external_dns_record_owner_and_policy() {
    let mut r = Repo::new();
    r.change(&[(
        "[addons.podinfo]",
        "[addons.external-dns]\nchart_version = \"1.21.1\"\ndomain_filters = [\"acme.example.com\"]\n\n[addons.podinfo]",
    )]);
    r.change(&[(
        "domain_filters = [\"acme.example.com\"]\n",
        "domain_filters = [\"acme.example.com\"]\ntxt_owner_id = \"acme-prod\"\npolicy = \"sync\"\n",
    )]);
    let out = r.diff(&[]);
    assert_text(
        &out.stdout[..out.stdout.find("\nSummary:").unwrap()],
        &r.expand(r##"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (2):
  ! cluster prod: Helm values external-dns: external-dns's policy changes upsert-only → sync: it now deletes the records it owns that no Service or Ingress asks for
  ! cluster prod: Helm values external-dns: external-dns's txtOwnerId changes prod → acme-prod: the records it created name the old owner in their TXT records, so it no longer updates or deletes them, and cannot create a record whose name one of them holds; keep the old owner, or change the owner in those TXT records first
"##),
    );
}

/// Two environments on one cluster (dev synced automatically, prod by hand) and four
/// services alike: the same change in each is said once.
fn many_services() -> String {
    let mut text = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"
aws_region = "eu-west-1"

[clusters.prod]
server = "https://prod.example.com"
kubernetes_version = "1.30"

[environments.dev]
cluster = "prod"
namespace = "dev-{{ service }}"
sync = "auto"

[environments.prod]
cluster = "prod"
sync = "manual"

[defaults]
port = 8080
probes = { liveness = "/health", readiness = "/health" }
resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "500m", memory = "256Mi" } }
"#
    .to_string();
    for s in ["api", "billing", "mail", "web"] {
        text.push_str(&format!(
            "\n[services.{s}]\nimage = \"acme/{s}\"\ntag = \"1.0.0\"\nenv = {{ LOG_LEVEL = \"info\" }}\n"
        ));
    }
    text
}

/// The Changed section of a text or Markdown output, to its end or to the first diff.
fn changed_part<'a>(out: &'a str, from: &str, to: &str) -> &'a str {
    let start = out.find(from).unwrap();
    match out[start..].find(to) {
        Some(end) => &out[start..start + end],
        None => &out[start..],
    }
}

// A tag bump in every service of every environment: one line for the eight services,
// their names listed once (in Markdown, in one collapsed section).
#[test]
fn a_tag_bump_across_services_is_one_line() {
    let mut r = Repo::with(&many_services());
    let bumped = many_services().replace("tag = \"1.0.0\"", "tag = \"1.0.1\"");
    r.p.write("platform.toml", &bumped);
    r.render();
    r.commit("bump");
    let out = r.diff(&[]);
    assert_text(
        changed_part(&out.stdout, "Changed (", "\n\n"),
        r#"Changed (40):
  ~ 8 services in 2 environments (dev and prod): version 1.0.0 → 1.0.1 (container `{service}`: image tag 1.0.0 → 1.0.1); nothing else changes in their objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash
      dev (4): api, billing, mail, web
      prod (4): api, billing, mail, web
"#,
    );
    let md = r.diff(&["--format", "markdown"]);
    assert_text(
        changed_part(&md.stdout, "#### Changed", "\n\n\n"),
        r#"#### Changed (40)

- 8 services in 2 environments (dev and prod): version 1.0.0 → 1.0.1 (container `{service}`: image tag 1.0.0 → 1.0.1); nothing else changes in their objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash (listed below)

<details>
<summary>The 8 services</summary>

- **dev** (4): `api`, `billing`, `mail`, `web`
- **prod** (4): `api`, `billing`, `mail`, `web`

</details>

"#,
    );
}

// LOG_LEVEL changes in every service: the same change in eight Deployments, one diff
// shown, the objects listed; their rollouts are one info line per environment (dev
// synced automatically, prod by hand), the Deployments listed.
#[test]
fn the_same_env_change_in_many_services_is_one_diff() {
    let mut r = Repo::with(&many_services());
    let changed = many_services().replace("\"info\"", "\"warn\"");
    r.p.write("platform.toml", &changed);
    r.render();
    r.commit("warn");
    let out = r.diff(&[]);
    assert_text(
        &out.stdout[out.stdout.find("Info (").unwrap()..],
        r#"Info (8):
  i 4 Deployments in dev: the pod template changes (env LOG_LEVEL) with the same images: a rolling update replaces its 2 pods when Argo CD syncs
      dev (4): dev-api/api, dev-billing/billing, dev-mail/mail, dev-web/web
  i 4 Deployments in prod: the pod template changes (env LOG_LEVEL) with the same images: a rolling update replaces its 2 pods at the next sync by hand
      prod (4): api/api, billing/billing, mail/mail, web/web

Summary:
                 added  changed  removed  unchanged
  dev                0        4        0         20
  prod               0        4        0         20
  cluster prod       0        0        0          5
  platform-wide      0        0        0          1
  total              0        8        0         46

Changed (8):
  ~ the same change in 8 Deployments in 2 environments (dev and prod): `containers[{name}].env[LOG_LEVEL].value` info → warn
      dev (4): dev-api/api, dev-billing/billing, dev-mail/mail, dev-web/web
      prod (4): api/api, billing/billing, mail/mail, web/web

dev: Deployment dev-api/api (and 7 more Deployments with the same change, listed above)
--- a/generated/dev/api/deployment.yaml
+++ b/generated/dev/api/deployment.yaml
@@ -29,7 +29,7 @@
       containers:
       - env:
         - name: LOG_LEVEL
-          value: info
+          value: warn
         envFrom:
         - configMapRef:
             name: api-config
"#,
    );
    let md = r.diff(&["--format", "markdown"]);
    assert_text(
        &md.stdout[md.stdout.find("#### ℹ️ Info").unwrap()..],
        r#"#### ℹ️ Info (8)

- 4 Deployments in dev: the pod template changes (env LOG_LEVEL) with the same images: a rolling update replaces its 2 pods when Argo CD syncs (listed below)
- 4 Deployments in prod: the pod template changes (env LOG_LEVEL) with the same images: a rolling update replaces its 2 pods at the next sync by hand (listed below)

#### Changed (8)

- The same change in 8 Deployments in 2 environments (dev and prod): `containers[{name}].env[LOG_LEVEL].value` info → warn (one diff shown below)

<details>
<summary><b>The same change in 8 Deployments in 2 environments (dev and prod): <code>containers[{name}].env[LOG_LEVEL].value</code> info → warn</b></summary>

The diff of the first, **dev** · `Deployment dev-api/api`:

```diff
--- a/generated/dev/api/deployment.yaml
+++ b/generated/dev/api/deployment.yaml
@@ -29,7 +29,7 @@
       containers:
       - env:
         - name: LOG_LEVEL
-          value: info
+          value: warn
         envFrom:
         - configMapRef:
             name: api-config
```

All 8:

- **dev** (4): `dev-api/api`, `dev-billing/billing`, `dev-mail/mail`, `dev-web/web`
- **prod** (4): `api/api`, `billing/billing`, `mail/mail`, `web/web`

</details>

<details>
<summary>4 Deployments in dev: the pod template changes (env LOG_LEVEL) with the same images: a rolling update replaces its 2 pods when Argo CD syncs</summary>

- **dev** (4): `dev-api/api`, `dev-billing/billing`, `dev-mail/mail`, `dev-web/web`

</details>

<details>
<summary>4 Deployments in prod: the pod template changes (env LOG_LEVEL) with the same images: a rolling update replaces its 2 pods at the next sync by hand</summary>

- **prod** (4): `api/api`, `billing/billing`, `mail/mail`, `web/web`

</details>

"#,
    );
}

// A tag bump and an env change in every service, in a comment too small for the
// diffs: both changes keep their line; the diff and the list of services go, and the
// note says where the rest is.
#[test]
fn a_capped_comment_keeps_every_change_line() {
    let mut r = Repo::with(&many_services());
    let changed = many_services()
        .replace("tag = \"1.0.0\"", "tag = \"1.0.1\"")
        .replace("\"info\"", "\"warn\"");
    r.p.write("platform.toml", &changed);
    r.render();
    r.commit("bump and warn");
    let report = kgen::ops::diff::diff(&kgen::ops::diff::DiffOptions {
        platform: r.p.path().join("platform.toml"),
        base: Some("HEAD~1".into()),
        head: Some("HEAD".into()),
        envs: vec![],
        ignore: Vec::new(),
    })
    .unwrap();
    let full = kgen::diff_format::markdown(&report, kgen::diff_format::MARKDOWN_LIMIT);
    let limit = full.find("<details>").unwrap() + 100;
    let capped = kgen::diff_format::markdown(&report, limit);
    assert_text(
        &capped[capped.find("#### Changed").unwrap()..],
        r#"#### Changed (40)

- 8 services in 2 environments (dev and prod): version 1.0.0 → 1.0.1; nothing else changes in their other objects but kgen's version label and the ConfigMap's VERSION; in each, Deployment `{service}` changes more, shown on its own (listed below)
- The same change in 8 Deployments in 2 environments (dev and prod), besides their service's new version: `containers[{name}].env[LOG_LEVEL].value` info → warn (one diff shown below)

… the diff of 1 change listed above and the member list of 1 group listed above not shown (the comment is capped below GitHub's 65,536-character limit; in GitHub Actions the job summary of the `kgen diff` run holds up to 1 MB of it, and `kgen diff --format json` or the text output all of it)
"#,
    );
}

/// A ConfigMap deployed `immutable: true` whose data then changes: the API server
/// refuses the update (`ValidateConfigMapUpdate`), so the sync fails
/// (verification review 34, F15).
#[test]
fn an_immutable_config_map_that_changes() {
    let mut r = Repo::new();
    r.edit(
        "platform.toml",
        &[("port = 8080\n", "port = 8080\nconfig = { MODE = \"a\" }\n")],
    );
    r.render();
    r.edit(
        "generated/prod/api/configmap.yaml",
        &[("kind: ConfigMap\n", "immutable: true\nkind: ConfigMap\n")],
    );
    r.commit("deployed");
    r.change(&[("MODE = \"a\"", "MODE = \"b\"")]);
    let out = r.diff(&[]);
    assert!(
        out.stdout.contains("! prod: ConfigMap api/api-config: the ConfigMap is immutable (`immutable: true`) and its data changes and `immutable` is taken off; the API server refuses the update, so the sync fails until it is replaced (`kubectl delete configmap -n api api-config`, then sync) or the new data gets a ConfigMap of a new name (and the pods mount that)\n"),
        "{}",
        out.stdout
    );
}
