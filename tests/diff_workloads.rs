//! `kgen diff` and the workload kinds: what Kubernetes and Argo CD do with a changed
//! StatefulSet, Job, CronJob, DaemonSet, Service port and PersistentVolumeClaim, on
//! real temporary git repositories (built with git2), with exact outputs.
//!
//! Each test commits a rendered platform, changes its inputs (or, to stand for an
//! object deployed by an older kgen, the committed YAML), renders and commits again,
//! then diffs the two commits. Commit ids are the only moving part of the outputs:
//! `<base>` and `<head>` stand for the short ids.

mod common;

use common::{kgen_in, Output, Platform};
use git2::{Repository, Signature, Time};

/// One environment; a Deployment with a claim its pods share and a second port, a StatefulSet with a
/// volume per pod, a migration run as an Argo CD PreSync hook, a one-off Job, a
/// CronJob and a DaemonSet.
const PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[defaults]
resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "500m", memory = "256Mi" } }

[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080
replicas = 2
probes = { liveness = "/health", readiness = "/health" }
ports = { grpc = 9090, admin = 9901 }
volumes = { cache = { mount = "/cache", claim = { size = "10Gi", access_mode = "ReadWriteMany" } } }

[services.db]
kind = "statefulset"
image = "acme/db"
tag = "15.4"
port = 5432
replicas = 3
probes = { liveness = { tcp = "http" }, readiness = { tcp = "http" } }
volumes = { data = { mount = "/var/lib/db", claim = { size = "20Gi" } } }

[services.migrate]
kind = "job"
image = "acme/api"
tag = "1.0.0"
command = ["/app/migrate"]
hook = { phase = "PreSync" }

[services.seed]
kind = "job"
image = "acme/seed"
tag = "1.0.0"

[services.report]
kind = "cronjob"
image = "acme/report"
tag = "1.0.0"
schedule = "0 3 * * *"

[services.agent]
kind = "daemonset"
image = "acme/agent"
tag = "1.0.0"
waivers = [{ rule = "KG202", reason = "a node agent with no endpoint to probe" }]
"#;

/// A git repository holding the platform, rendered and committed.
struct Repo {
    p: Platform,
    git: Repository,
    commits: i64,
    ids: Vec<String>,
}

impl Repo {
    /// `PLATFORM` with `edits` (pairs of text to replace, which must occur) applied,
    /// rendered and committed on `main`.
    fn new(edits: &[(&str, &str)]) -> Repo {
        let p = Platform::new(&edited(PLATFORM, edits), &[]);
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

    /// `kgen diff --base HEAD~1 --head HEAD --env dev` and more arguments.
    fn diff(&self, more: &[&str]) -> Output {
        let mut args = vec!["diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev"];
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

    /// `expected` with `<base>` and `<head>` replaced by the last two short commit ids.
    fn expand(&self, expected: &str) -> String {
        let n = self.ids.len();
        expected
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
    match text.find("\n\ndev: ") {
        Some(i) => &text[..i + 1],
        None => text,
    }
}

#[test]
fn statefulset_immutable_fields_need_an_orphan_delete() {
    let mut r = Repo::new(&[]);
    // Deployed by an older kgen: the headless Service had another name.
    r.edit(
        "generated/dev/db/statefulset.yaml",
        &[("serviceName: db-headless", "serviceName: db")],
    );
    r.commit("deployed");
    r.change(&[(
        "claim = { size = \"20Gi\" } } }",
        "claim = { size = \"30Gi\" } } }\nstatefulset = { pod_management = \"Parallel\" }",
    )]);
    let out = r.diff(&["--exit-code"]);
    assert_eq!(out.code, 1);
    assert_text(&out.stdout, &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (1):
  ! dev: StatefulSet db/db: spec.podManagementPolicy, spec.serviceName and spec.volumeClaimTemplates change; a StatefulSet's spec is immutable but for replicas, ordinals, template, updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds, so the sync fails until it is recreated: `kubectl delete statefulset -n db db --cascade=orphan` (its pods and volume claims stay), then sync; the claims that exist (`data-db-<ordinal>`, 20Gi in the template, 30Gi now) keep their size: grow each one by hand, if its StorageClass allows volume expansion

Summary:
               added  changed  removed  unchanged
  dev              0        1        0         30
  cluster dev      0        0        0          3
  total            0        1        0         33

Changed (1):
  ~ dev: StatefulSet db/db  (generated/dev/db/statefulset.yaml)

dev: StatefulSet db/db
--- a/generated/dev/db/statefulset.yaml
+++ b/generated/dev/db/statefulset.yaml
@@ -10,12 +10,13 @@
   name: db
   namespace: db
 spec:
+  podManagementPolicy: Parallel
   replicas: 3
   selector:
     matchLabels:
       app.kubernetes.io/instance: db
       app.kubernetes.io/name: db
-  serviceName: db
+  serviceName: db-headless
   template:
     metadata:
       annotations:
@@ -104,4 +105,4 @@
       - ReadWriteOnce
       resources:
         requests:
-          storage: 20Gi
+          storage: 30Gi
"#));
}

#[test]
fn a_job_with_a_new_pod_template_runs_again() {
    let mut r = Repo::new(&[]);
    r.change(&[
        (
            "image = \"acme/seed\"\ntag = \"1.0.0\"",
            "image = \"acme/seed\"\ntag = \"1.1.0\"",
        ),
        (
            "command = [\"/app/migrate\"]",
            "command = [\"/app/migrate\", \"--all\"]",
        ),
    ]);
    let out = r.diff(&[]);
    assert_eq!(out.code, 0);
    assert_text(&out.stdout, &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Info (2):
  i dev: Job migrate/migrate: an Argo CD PreSync hook: at the next sync Argo CD deletes the previous run and runs the changed Job (as at every sync)
  i dev: Job seed/seed-764bf07e: replaces Job `seed-54f4051f` (its pod template changed): the new Job runs once when Argo CD syncs, and the old one is pruned with its pods

Summary:
               added  changed  removed  unchanged
  dev              0        5        0         26
  cluster dev      0        0        0          3
  total            0        5        0         29

Changed (5):
  ~ dev: ConfigMap migrate/migrate-hooks  (generated/dev/migrate/configmap-hooks.yaml)
  ~ dev: Job migrate/migrate  (generated/dev/migrate/job.yaml)
  ~ dev: service seed: version 1.0.0 → 1.1.0; nothing else changes in 2 of its objects but kgen's version label and the ConfigMap's VERSION; Job `seed-764bf07e` changes more, shown on its own  (generated/dev/seed/)
  ~ dev: Job seed/seed-764bf07e  (generated/dev/seed/job.yaml, replaces seed-54f4051f: the Job runs again)

dev: ConfigMap migrate/migrate-hooks
--- a/generated/dev/migrate/configmap-hooks.yaml
+++ b/generated/dev/migrate/configmap-hooks.yaml
@@ -11,5 +11,5 @@
   namespace: migrate
 data:
   configmap.yaml: "597df1ab"
-  job.yaml: "50075196"
+  job.yaml: "1b947e29"
   serviceaccount.yaml: "33e7cbf9"

dev: Job migrate/migrate
--- a/generated/dev/migrate/job.yaml
+++ b/generated/dev/migrate/job.yaml
@@ -27,6 +27,7 @@
       containers:
       - command:
         - /app/migrate
+        - "--all"
         envFrom:
         - configMapRef:
             name: migrate-config

dev: Job seed/seed-764bf07e
--- a/generated/dev/seed/job.yaml
+++ b/generated/dev/seed/job.yaml
@@ -6,26 +6,26 @@
     app.kubernetes.io/managed-by: kgen
     app.kubernetes.io/name: seed
     app.kubernetes.io/part-of: acme
-    app.kubernetes.io/version: "1.0.0"
-  name: seed-54f4051f
+    app.kubernetes.io/version: "1.1.0"
+  name: seed-764bf07e
   namespace: seed
 spec:
   template:
     metadata:
       annotations:
-        kgen.dev/config-hash: "8c315d73d4eb141a"
+        kgen.dev/config-hash: "7959b5bf12f99cd1"
       labels:
         app.kubernetes.io/instance: seed
         app.kubernetes.io/managed-by: kgen
         app.kubernetes.io/name: seed
         app.kubernetes.io/part-of: acme
-        app.kubernetes.io/version: "1.0.0"
+        app.kubernetes.io/version: "1.1.0"
     spec:
       containers:
       - envFrom:
         - configMapRef:
             name: seed-config
-        image: registry.example.com/acme/seed:1.0.0
+        image: registry.example.com/acme/seed:1.1.0
         imagePullPolicy: IfNotPresent
         name: seed
         resources:
"#));

    let json: serde_json::Value =
        serde_json::from_str(&r.diff(&["--format", "json"]).stdout).unwrap();
    assert_text(
        &serde_json::to_string_pretty(&json["info"]).unwrap(),
        r#"[
  {
    "cluster": null,
    "code": "job-runs",
    "environment": "dev",
    "message": "an Argo CD PreSync hook: at the next sync Argo CD deletes the previous run and runs the changed Job (as at every sync)",
    "resource": {
      "apiVersion": "batch/v1",
      "cluster": null,
      "environment": "dev",
      "kind": "Job",
      "name": "migrate",
      "namespace": "migrate"
    },
    "service": null
  },
  {
    "cluster": null,
    "code": "job-runs",
    "environment": "dev",
    "message": "replaces Job `seed-54f4051f` (its pod template changed): the new Job runs once when Argo CD syncs, and the old one is pruned with its pods",
    "resource": {
      "apiVersion": "batch/v1",
      "cluster": null,
      "environment": "dev",
      "kind": "Job",
      "name": "seed-764bf07e",
      "namespace": "seed"
    },
    "service": null
  }
]"#,
    );
    assert_eq!(json["risks"], serde_json::json!([]));
    assert_eq!(json["removed"], serde_json::json!([]));
    assert_eq!(json["added"], serde_json::json!([]));
    let seed = json["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "Job" && c["namespace"] == "seed")
        .unwrap();
    assert_text(
        &serde_json::to_string_pretty(&seed["replaces"]).unwrap(),
        r#"{
  "apiVersion": "batch/v1",
  "cluster": null,
  "environment": "dev",
  "kind": "Job",
  "name": "seed-54f4051f",
  "namespace": "seed"
}"#,
    );
    assert_eq!(seed["base_path"], "dev/seed/job.yaml");
    assert_eq!(seed["path"], "dev/seed/job.yaml");

    let md = r.diff(&["--format", "markdown"]).stdout;
    assert_text(md.split("#### Changed").next().unwrap(), &r.expand(r#"### kgen diff

Base: `HEAD~1` (`<base>`) → head: `HEAD` (`<head>`)

| Where | Added | Changed | Removed | Unchanged |
|---|---:|---:|---:|---:|
| dev | 0 | 5 | 0 | 26 |
| cluster dev | 0 | 0 | 0 | 3 |
| **Total** | **0** | **5** | **0** | **29** |

#### ℹ️ Info (2)

- **dev** · `Job migrate/migrate`: an Argo CD PreSync hook: at the next sync Argo CD deletes the previous run and runs the changed Job (as at every sync)
- **dev** · `Job seed/seed-764bf07e`: replaces Job `seed-54f4051f` (its pod template changed): the new Job runs once when Argo CD syncs, and the old one is pruned with its pods

"#));
    assert!(
        md.contains("<summary><b>dev</b> · <code>Job seed/seed-"),
        "{md}"
    );
}

#[test]
fn immutable_job_fields_fail_the_sync() {
    let mut r = Repo::new(&[(
        "hook = { phase = \"PreSync\" }",
        "hook = { phase = \"PreSync\", delete_policy = \"HookFailed\" }",
    )]);
    r.change(&[
        (
            "image = \"acme/seed\"",
            "image = \"acme/seed\"\njob = { completions = 2 }",
        ),
        (
            "command = [\"/app/migrate\"]",
            "command = [\"/app/migrate\", \"--all\"]",
        ),
    ]);
    let out = r.diff(&[]);
    assert_text(head_of(&out.stdout), &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (1):
  ! dev: Job migrate/migrate: spec.template changes; with hook-delete-policy HookFailed Argo CD keeps a run that succeeded, and a Job's pod template and completions are immutable: if that run is still in the cluster, the sync fails until it is deleted (`kubectl delete job -n migrate migrate`)

Info (2):
  i dev: Job migrate/migrate: an Argo CD PreSync hook: the changed Job runs at the next sync, unless the previous run succeeded and is still in the cluster (hook-delete-policy HookFailed keeps it)
  i dev: Job seed/seed-73d4eebc: replaces Job `seed-54f4051f` (its `spec.completions` changed): the new Job runs once when Argo CD syncs, and the old one is pruned with its pods

Summary:
               added  changed  removed  unchanged
  dev              0        3        0         28
  cluster dev      0        0        0          3
  total            0        3        0         31

Changed (3):
  ~ dev: ConfigMap migrate/migrate-hooks  (generated/dev/migrate/configmap-hooks.yaml)
  ~ dev: Job migrate/migrate  (generated/dev/migrate/job.yaml)
  ~ dev: Job seed/seed-73d4eebc  (generated/dev/seed/job.yaml, replaces seed-54f4051f: the Job runs again)
"#));
}

/// The run in the cluster was left by the base's policy, BeforeHookCreation, which
/// keeps every finished run; Argo CD decides whether to delete it first from the
/// head's policy (gitops-engine `deleteBeforeCreation`), so a changed template over it
/// fails for certain, and the Job does not "run at the next sync" (review 26).
#[test]
fn leaving_before_hook_creation_with_a_new_template_fails_for_certain() {
    let mut r = Repo::new(&[]);
    r.change(&[
        (
            "hook = { phase = \"PreSync\" }",
            "hook = { phase = \"PreSync\", delete_policy = \"HookSucceeded\" }",
        ),
        (
            "command = [\"/app/migrate\"]",
            "command = [\"/app/migrate\", \"--verbose\"]",
        ),
    ]);
    let out = r.diff(&[]);
    assert_text(head_of(&out.stdout), &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (1):
  ! dev: Job migrate/migrate: spec.template changes, and hook-delete-policy changes BeforeHookCreation → HookSucceeded: the last run, created under BeforeHookCreation, is still in the cluster whatever its outcome, and Argo CD reads the new policy, which does not delete it before the sync, so it applies the changed Job over it; a Job's pod template and completions are immutable, so the sync fails until it is deleted (`kubectl delete job -n migrate migrate`)

Summary:
               added  changed  removed  unchanged
  dev              0        2        0         29
  cluster dev      0        0        0          3
  total            0        2        0         32

Changed (2):
  ~ dev: ConfigMap migrate/migrate-hooks  (generated/dev/migrate/configmap-hooks.yaml)
  ~ dev: Job migrate/migrate  (generated/dev/migrate/job.yaml)
"#));
}

#[test]
fn a_cronjob_schedule_and_suspension_are_info_not_risks() {
    let mut r = Repo::new(&[]);
    r.change(&[(
        "schedule = \"0 3 * * *\"",
        "schedule = \"30 3 * * *\"\ncron = { time_zone = \"Europe/Paris\", suspend = true }",
    )]);
    let out = r.diff(&["--exit-code"]);
    assert_eq!(out.code, 1, "a difference, without a risk");
    assert_text(head_of(&out.stdout), &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Info (1):
  i dev: CronJob report/report: schedule changes `0 3 * * *` → `30 3 * * *` (Europe/Paris); suspended: no new run starts (a run in progress finishes)

Summary:
               added  changed  removed  unchanged
  dev              0        1        0         30
  cluster dev      0        0        0          3
  total            0        1        0         33

Changed (1):
  ~ dev: CronJob report/report  (generated/dev/report/cronjob.yaml)
"#));

    // Resumed, with no starting deadline: the missed run starts at once.
    r.change(&[("suspend = true", "suspend = false")]);
    assert_text(head_of(&r.diff(&[]).stdout), &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Info (1):
  i dev: CronJob report/report: resumed: with no startingDeadlineSeconds, a run missed while it was suspended starts at once

Summary:
               added  changed  removed  unchanged
  dev              0        1        0         30
  cluster dev      0        0        0          3
  total            0        1        0         33

Changed (1):
  ~ dev: CronJob report/report  (generated/dev/report/cronjob.yaml)
"#));
    r.change(&[("suspend = false", "suspend = true")]);
    r.change(&[("suspend = true", "suspend = false, starting_deadline = 300")]);
    assert_text(
        head_of(&r.diff(&[]).stdout),
        &r.expand(
            r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Info (1):
  i dev: CronJob report/report: resumed: runs start again on schedule

Summary:
               added  changed  removed  unchanged
  dev              0        1        0         30
  cluster dev      0        0        0          3
  total            0        1        0         33

Changed (1):
  ~ dev: CronJob report/report  (generated/dev/report/cronjob.yaml)
"#,
        ),
    );
}

#[test]
fn service_ports_claims_and_a_daemonset_selector() {
    let mut r = Repo::new(&[]);
    // Deployed by an older kgen: the DaemonSet selected its pods by name only.
    r.edit(
        "generated/dev/agent/daemonset.yaml",
        &[(
            "  selector:\n    matchLabels:\n      app.kubernetes.io/instance: agent\n",
            "  selector:\n    matchLabels:\n",
        )],
    );
    r.commit("deployed");
    r.change(&[
        (
            "ports = { grpc = 9090, admin = 9901 }",
            "ports = { grpc = 9091 }",
        ),
        (
            "claim = { size = \"10Gi\", access_mode = \"ReadWriteMany\" }",
            "claim = { size = \"5Gi\", storage_class = \"efs\", access_mode = \"ReadWriteMany\" }",
        ),
    ]);
    let out = r.diff(&[]);
    assert_text(head_of(&out.stdout), &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (5):
  ! dev: DaemonSet agent/agent: spec.selector changes; it is immutable, so the sync fails until the DaemonSet is deleted and recreated
  ! dev: PersistentVolumeClaim api/api-cache: spec.resources.requests.storage shrinks 10Gi → 5Gi; the API server refuses to shrink a claim, so the sync fails
  ! dev: PersistentVolumeClaim api/api-cache: spec.storageClassName changes; a claim's spec is immutable but for a bigger storage request, so the sync fails: a new claim (another volume name) is the way to change it
  ! dev: Service api/api: port `admin` (9901/TCP) is removed; clients calling it fail
  ! dev: Service api/api: port `grpc` changes 9090/TCP → 9091/TCP; clients still calling 9090/TCP fail

Info (1):
  i dev: Deployment api/api: the pod template changes with the same images: a rolling update replaces its 2 pods when Argo CD syncs

Summary:
               added  changed  removed  unchanged
  dev              0        4        0         27
  cluster dev      0        0        0          3
  total            0        4        0         30

Changed (4):
  ~ dev: DaemonSet agent/agent  (generated/dev/agent/daemonset.yaml)
  ~ dev: Deployment api/api  (generated/dev/api/deployment.yaml)
  ~ dev: PersistentVolumeClaim api/api-cache  (generated/dev/api/pvc-cache.yaml)
  ~ dev: Service api/api  (generated/dev/api/service.yaml)
"#));
}

#[test]
fn removed_claims_and_hooks_stay_in_the_cluster() {
    let mut r = Repo::new(&[]);
    // The claim volume goes; the migration stops being a hook (a Job of its own). The
    // record of the hooks goes with the hook: listed as removed, no risk (nothing reads
    // it).
    r.change(&[
        (
            "volumes = { cache = { mount = \"/cache\", claim = { size = \"10Gi\", access_mode = \"ReadWriteMany\" } } }\n",
            "",
        ),
        ("hook = { phase = \"PreSync\" }\n", ""),
    ]);
    let out = r.diff(&[]);
    assert_text(head_of(&out.stdout), &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Info (3):
  i dev: Deployment api/api: the pod template changes with the same images: a rolling update replaces its 2 pods when Argo CD syncs
  i dev: Job migrate/migrate: removed; Argo CD never prunes a hook, so a run still in the cluster stays there until deleted by hand (`kubectl delete job -n migrate migrate`)
  i dev: PersistentVolumeClaim api/api-cache: removed; Argo CD does not prune it (sync option Prune=false), so the claim and its data stay: delete it by hand (`kubectl delete persistentvolumeclaim -n api api-cache`) once the data is no longer needed

Summary:
               added  changed  removed  unchanged
  dev              1        3        3         25
  cluster dev      0        0        0          3
  total            1        3        3         28

Added (1):
  + dev: Job migrate/migrate-f582e7fa  (generated/dev/migrate/job.yaml)

Removed (3):
  - dev: PersistentVolumeClaim api/api-cache  (generated/dev/api/pvc-cache.yaml)
  - dev: ConfigMap migrate/migrate-hooks  (generated/dev/migrate/configmap-hooks.yaml)
  - dev: Job migrate/migrate  (generated/dev/migrate/job.yaml)

Changed (3):
  ~ dev: Deployment api/api  (generated/dev/api/deployment.yaml)
  ~ dev: ConfigMap migrate/migrate-config  (generated/dev/migrate/configmap.yaml)
  ~ dev: ServiceAccount migrate/migrate  (generated/dev/migrate/serviceaccount.yaml)
"#));
    let md = r.diff(&["--format", "markdown"]).stdout;
    assert_text(md.split("#### Added").next().unwrap(), &r.expand(r#"### kgen diff

Base: `HEAD~1` (`<base>`) → head: `HEAD` (`<head>`)

| Where | Added | Changed | Removed | Unchanged |
|---|---:|---:|---:|---:|
| dev | 1 | 3 | 3 | 25 |
| cluster dev | 0 | 0 | 0 | 3 |
| **Total** | **1** | **3** | **3** | **28** |

#### ℹ️ Info (3)

- **dev** · `Deployment api/api`: the pod template changes with the same images: a rolling update replaces its 2 pods when Argo CD syncs
- **dev** · `Job migrate/migrate`: removed; Argo CD never prunes a hook, so a run still in the cluster stays there until deleted by hand (`kubectl delete job -n migrate migrate`)
- **dev** · `PersistentVolumeClaim api/api-cache`: removed; Argo CD does not prune it (sync option Prune=false), so the claim and its data stay: delete it by hand (`kubectl delete persistentvolumeclaim -n api api-cache`) once the data is no longer needed

"#));
}

#[test]
fn a_removed_namespace_takes_the_claims_with_it() {
    let mut r = Repo::new(&[]);
    // db becomes a Deployment: the StatefulSet goes, its namespace stays. Its 3 pods
    // then share one claim, which must be ReadWriteMany. The project no longer ignores
    // the claims the StatefulSet kept: they are orphans now, to delete by hand.
    r.change(&[
        (
            "kind = \"statefulset\"\nimage = \"acme/db\"",
            "image = \"acme/db\"",
        ),
        (
            "claim = { size = \"20Gi\" }",
            "claim = { size = \"20Gi\", access_mode = \"ReadWriteMany\" }",
        ),
    ]);
    assert_text(head_of(&r.diff(&[]).stdout), &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (2):
  ! dev: StatefulSet db/db: removed; a prune deletes it, but its pods' claims (`data-db-<ordinal>`) stay (whenDeleted: Retain): delete them by hand once the data is no longer needed
  ! dev: Service db/db-headless: removed; a prune deletes it from the cluster

Summary:
               added  changed  removed  unchanged
  dev              2        0        2         29
  cluster dev      0        1        0          2
  total            2        1        2         31

Added (2):
  + dev: Deployment db/db  (generated/dev/db/deployment.yaml)
  + dev: PersistentVolumeClaim db/db-data  (generated/dev/db/pvc-data.yaml)

Removed (2):
  - dev: Service db/db-headless  (generated/dev/db/service-headless.yaml)
  - dev: StatefulSet db/db  (generated/dev/db/statefulset.yaml)

Changed (1):
  ~ cluster dev: AppProject argocd/dev  (generated/argocd/dev/appproject-dev.yaml)

cluster dev: AppProject argocd/dev
--- a/generated/argocd/dev/appproject-dev.yaml
+++ b/generated/argocd/dev/appproject-dev.yaml
@@ -29,10 +29,6 @@
   - namespace: seed
     server: https://kubernetes.default.svc
   orphanedResources:
-    ignore:
-    - group: ""
-      kind: PersistentVolumeClaim
-      name: data-db-*
     warn: true
   sourceRepos:
   - https://github.com/acme/platform.git
"#));

    // api and a StatefulSet db are switched off in dev: their namespaces go, and
    // every claim in them.
    let mut r = Repo::new(&[]);
    r.p.write(
        "overlays/dev.toml",
        "[services.api]\nenabled = false\n\n[services.db]\nenabled = false\n",
    );
    r.render();
    r.commit("off");
    let out = r.diff(&[]);
    let risks = out.stdout.split("\n\nSummary:").next().unwrap();
    // The services' roles leave dev's Terraform hand-off (a note, not a risk).
    assert_text(risks, &r.expand(r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)
note: generated/terraform/dev.json, the Terraform hand-off of cluster dev, changes: Argo CD does not apply it and this diff does not compare it; review it and apply it with Terraform

Risks (4):
  ! dev: service api: removed: a prune deletes its 7 objects (one with a risk of its own, below) from the cluster, namespace `api` with everything in it
  ! dev: service db: removed: a prune deletes its 7 objects (one with a risk of its own, below) from the cluster, namespace `db` with everything in it
  ! dev: StatefulSet db/db: removed with its namespace: deleting the namespace deletes its pods' claims (`data-db-<ordinal>`) too, and their volumes' data unless their reclaim policy is Retain
  ! dev: PersistentVolumeClaim api/api-cache: removed with its namespace: Argo CD does not prune the claim itself (Prune=false), but deleting the namespace deletes it, and its volume's data unless the reclaim policy is Retain"#));
}

/// A claim that grows on a StorageClass the head declares: info when the class allows
/// expansion, a risk when it does not (newcomer review 9, #11).
#[test]
fn a_growing_claim_knows_whether_its_class_allows_expansion() {
    let class = "[baseline.storage_classes.gp3]\n";
    let claim = "claim = { size = \"10Gi\", access_mode = \"ReadWriteMany\" }";
    let with_class =
        "claim = { size = \"10Gi\", access_mode = \"ReadWriteMany\", storage_class = \"gp3\" }";
    for (allow, expected) in [
        ("", "i dev: PersistentVolumeClaim api/api-cache: storage grows 10Gi → 20Gi: StorageClass `gp3` allows volume expansion, so the volume is expanded in place"),
        ("allow_expansion = false\n", "! dev: PersistentVolumeClaim api/api-cache: storage grows 10Gi → 20Gi, but StorageClass `gp3` does not allow volume expansion (no allowVolumeExpansion: true): the API server refuses it and the sync fails; allow expansion on the class first (`allow_expansion = true`, a change the API server accepts), or keep the size"),
    ] {
        let mut r = Repo::new(&[
            (claim, with_class),
            ("[services.api]\n", &format!("{class}{allow}\n[services.api]\n")),
        ]);
        r.change(&[("size = \"10Gi\"", "size = \"20Gi\"")]);
        let out = r.diff(&[]);
        assert!(out.stdout.contains(expected), "{}", out.stdout);
    }
    // A claim that names no class gets the cluster's default (newcomer review 10, #8).
    let mut r = Repo::new(&[(
        "[services.api]\n",
        &format!("{class}default = true\nallow_expansion = false\n\n[services.api]\n"),
    )]);
    r.change(&[("size = \"10Gi\"", "size = \"20Gi\"")]);
    let out = r.diff(&[]);
    assert!(
        out.stdout.contains(
            "storage grows 10Gi → 20Gi, but StorageClass `gp3` does not allow volume expansion"
        ),
        "{}",
        out.stdout
    );
}

/// Egress turned to `restricted` is a risk once per namespace, at its default deny
/// (newcomer review 9, #12); opening it again is none.
#[test]
fn restricting_egress_is_a_risk_once_per_namespace() {
    let mut r = Repo::new(&[(
        "[environments.dev]\nsync = \"auto\"\n",
        "[environments.dev]\nsync = \"auto\"\n\n[network_policy]\n",
    )]);
    r.change(&[(
        "[network_policy]\n",
        "[network_policy]\negress = \"restricted\"\n",
    )]);
    let out = r.diff(&["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let egress: Vec<String> = report["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "egress-restricted")
        .map(|r| r["resource"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        egress,
        [
            "agent-default-deny",
            "api-default-deny",
            "db-default-deny",
            "migrate-default-deny",
            "report-default-deny",
            "seed-default-deny"
        ]
    );
    r.change(&[("egress = \"restricted\"\n", "")]);
    let out = r.diff(&[]);
    assert!(
        !out.stdout.contains("policyTypes gains Egress"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_capped_markdown_counts_the_info_it_leaves_out() {
    let mut r = Repo::new(&[]);
    r.change(&[
        (
            "volumes = { cache = { mount = \"/cache\", claim = { size = \"10Gi\", access_mode = \"ReadWriteMany\" } } }\n",
            "",
        ),
        ("hook = { phase = \"PreSync\" }\n", ""),
    ]);
    let report = kgen::ops::diff::diff(&kgen::ops::diff::DiffOptions {
        platform: r.p.path().join("platform.toml"),
        base: Some("HEAD~1".into()),
        head: Some("HEAD".into()),
        envs: vec!["dev".into()],
        ignore: Vec::new(),
    })
    .unwrap();
    // The Deployment rolls (its claim volume goes), the hook and the claim stay.
    assert_eq!(report.diff.info.len(), 3);
    let full = kgen::diff_format::markdown(&report, kgen::diff_format::MARKDOWN_LIMIT);
    // Room for the first two info lines only.
    let limit = full.find("- **dev** · `PersistentVolumeClaim").unwrap() + 10;
    let capped = kgen::diff_format::markdown(&report, limit);
    assert_text(
        &capped[full.find("#### ℹ️").unwrap()..],
        "#### ℹ️ Info (3)\n\n\
         - **dev** · `Deployment api/api`: the pod template changes with the same images: a rolling update replaces its 2 pods when Argo CD syncs\n\
         - **dev** · `Job migrate/migrate`: removed; Argo CD never prunes a hook, so a run still in the cluster stays there until deleted by hand (`kubectl delete job -n migrate migrate`)\n\
         \n… 1 more info line and 7 more resources not shown (the comment is capped below GitHub's 65,536-character limit; in GitHub Actions the job summary of the `kgen diff` run holds up to 1 MB of it, and `kgen diff --format json` or the text output all of it)\n",
    );
}

// db removed as a whole from a manual environment: its ApplicationSet never deletes
// its Application, so nothing is pruned; the StatefulSet's own line says who deletes
// it (deleting the Application) and does not contradict the service's line.
#[test]
fn a_statefulset_removed_with_its_service_in_a_manual_environment() {
    // db shares api's namespace, which stays.
    let mut r = Repo::new(&[
        ("sync = \"auto\"", "sync = \"manual\""),
        (
            "kind = \"statefulset\"\n",
            "kind = \"statefulset\"\nnamespace = \"api\"\n",
        ),
    ]);
    let start = r.p.read("platform.toml").find("[services.db]").unwrap();
    let end =
        r.p.read("platform.toml")
            .find("[services.migrate]")
            .unwrap();
    let db = r.p.read("platform.toml")[start..end].to_string();
    r.change(&[(&db, "")]);
    let out = r.diff(&[]).stdout;
    assert_text(
        &out[out.find("Risks (").unwrap()..out.find("\nSummary:").unwrap()],
        r#"Risks (6):
  ! dev: service db: removed, but the environment's ApplicationSet never deletes an Application (applicationsSync: create-update): `dev-db` stays, cannot render (its source is gone) and keeps its 6 objects (one with a risk of its own, below) running; delete it by hand once this is merged (`argocd app delete dev-db`, which deletes them through its resources finalizer)
  ! dev: StatefulSet api/db: removed; only deleting its Application (`argocd app delete dev-db`, see the service's risk) deletes it, but its pods' claims (`data-db-<ordinal>`) stay (whenDeleted: Retain): delete them by hand once the data is no longer needed
  ! cluster dev: Application argocd/dev-namespaces: removed; nothing deletes it until someone syncs with prune, which deletes it from the cluster
  ! cluster dev: Namespace api: removed; nothing deletes it until someone syncs with prune, which deletes the namespace and everything in it
  ! dev: Argo CD syncs this environment manually: 7 changes (1 added, 0 changed, 6 removed) wait until someone syncs it
  ! cluster dev: Argo CD syncs this cluster's Applications manually: 4 changes (0 added, 2 changed, 2 removed) wait until someone syncs them
"#,
    );
}
