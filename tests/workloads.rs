//! Workload kinds (issue 15): the exact objects each kind renders (deployment with
//! everything a pod can have, worker, statefulset, cronjob, job as a hook and as a plain
//! job, daemonset with and without a Service), the exact list of files it produces,
//! what `[defaults]` a kind ignores, and how the named maps (`sidecars`, `volumes`)
//! merge across layers.
//!
//! Every golden platform renders with nothing on stderr: policy rules are satisfied (or
//! waived), so these tests do not depend on the policy warnings (KG2xx).

mod common;

use common::Platform;
use serde_json::{json, Value};

/// Renders `p`, expecting success with nothing on stderr (no error, no warning).
fn render(p: &Platform) {
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "render failed:\n{}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr, "", "render printed diagnostics");
}

/// Names of the files under `generated/<dir>`, sorted.
fn files_in(p: &Platform, dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(p.path().join("generated").join(dir))
        .unwrap_or_else(|e| panic!("list generated/{dir}: {e}"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `generated/<rel>`, as text.
fn generated(p: &Platform, rel: &str) -> String {
    p.read(&format!("generated/{rel}"))
}

/// `generated/<rel>`, parsed.
fn object(p: &Platform, rel: &str) -> Value {
    serde_norway::from_str(&generated(p, rel)).unwrap_or_else(|e| panic!("parse {rel}: {e}"))
}

/// The pod spec of a rendered workload (Deployment, StatefulSet, DaemonSet, Job).
fn pod_spec(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]
}

#[test]
fn deployment_with_sidecar_init_container_files_ports_probes_and_placement() {
    let p = Platform::new(DEPLOYMENT_PLATFORM, &[]);
    render(&p);
    assert_eq!(
        files_in(&p, "dev/api"),
        [
            "configmap-files.yaml",
            "configmap.yaml",
            "deployment.yaml",
            "namespace.yaml",
            "pdb.yaml",
            "service.yaml",
            "serviceaccount.yaml",
        ]
    );
    assert_eq!(generated(&p, "dev/api/deployment.yaml"), API_DEPLOYMENT);
    assert_eq!(generated(&p, "dev/api/service.yaml"), API_SERVICE);
    assert_eq!(generated(&p, "dev/api/configmap-files.yaml"), API_FILES);
    assert_eq!(generated(&p, "dev/api/pdb.yaml"), API_PDB);
}

#[test]
fn worker_with_a_shared_volume_claim_and_recreate() {
    let p = Platform::new(WORKER_PLATFORM, &[]);
    render(&p);
    // No Service: a worker has no port.
    assert_eq!(
        files_in(&p, "dev/worker"),
        [
            "configmap.yaml",
            "deployment.yaml",
            "namespace.yaml",
            "pdb.yaml",
            "pvc-spool.yaml",
            "serviceaccount.yaml",
        ]
    );
    assert_eq!(
        generated(&p, "dev/worker/deployment.yaml"),
        WORKER_DEPLOYMENT
    );
    assert_eq!(generated(&p, "dev/worker/pvc-spool.yaml"), WORKER_PVC);
}

#[test]
fn statefulset_with_claim_template_headless_service_hpa_and_min_available() {
    let p = Platform::new(STATEFULSET_PLATFORM, &[]);
    render(&p);
    // The claim is a volumeClaimTemplate: no pvc-*.yaml.
    assert_eq!(
        files_in(&p, "dev/db"),
        [
            "configmap.yaml",
            "hpa.yaml",
            "namespace.yaml",
            "pdb.yaml",
            "service-headless.yaml",
            "service.yaml",
            "serviceaccount.yaml",
            "statefulset.yaml",
        ]
    );
    assert_eq!(generated(&p, "dev/db/statefulset.yaml"), DB_STATEFULSET);
    assert_eq!(generated(&p, "dev/db/service.yaml"), DB_SERVICE);
    assert_eq!(
        generated(&p, "dev/db/service-headless.yaml"),
        DB_HEADLESS_SERVICE
    );
    assert_eq!(generated(&p, "dev/db/hpa.yaml"), DB_HPA);
    assert_eq!(generated(&p, "dev/db/pdb.yaml"), DB_PDB);
}

#[test]
fn cronjob_with_schedule_time_zone_policies_and_job_settings() {
    let p = Platform::new(CRONJOB_PLATFORM, &[]);
    render(&p);
    // No Service, no PodDisruptionBudget.
    assert_eq!(
        files_in(&p, "dev/nightly"),
        [
            "configmap.yaml",
            "cronjob.yaml",
            "namespace.yaml",
            "serviceaccount.yaml",
        ]
    );
    assert_eq!(generated(&p, "dev/nightly/cronjob.yaml"), NIGHTLY_CRONJOB);
}

#[test]
fn job_as_a_presync_hook_and_as_a_plain_job() {
    let p = Platform::new(JOBS_PLATFORM, &[]);
    render(&p);
    // The hook's service also has `<service>-hooks`, the record of its hooks.
    assert_eq!(
        files_in(&p, "dev/migrate"),
        [
            "configmap-hooks.yaml",
            "configmap.yaml",
            "job.yaml",
            "namespace.yaml",
            "serviceaccount.yaml",
        ]
    );
    assert_eq!(
        files_in(&p, "dev/seed"),
        [
            "configmap.yaml",
            "job.yaml",
            "namespace.yaml",
            "serviceaccount.yaml",
        ]
    );
    assert_eq!(generated(&p, "dev/migrate/job.yaml"), MIGRATE_JOB);
    assert_eq!(generated(&p, "dev/seed/job.yaml"), SEED_JOB);
}

/// The name of the plain Job of service `seed` in `p`.
fn seed_job_name(p: &Platform) -> String {
    render(p);
    object(p, "dev/seed/job.yaml")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_plain_job_is_renamed_when_its_pod_template_changes_and_only_then() {
    let p = Platform::new(JOBS_PLATFORM, &[]);
    let first = seed_job_name(&p);
    assert_eq!(first, "seed-bf42c1ba");

    // What is outside the pod template keeps the name: the Job's own settings, the
    // annotations of the service's objects.
    p.write(
        "platform.toml",
        &JOBS_PLATFORM.replace(
            "job = { backoff_limit = 1 }",
            "job = { backoff_limit = 4, active_deadline = 60, parallelism = 2 }\nannotations = { \"acme.com/owner\" = \"data\" }",
        ),
    );
    assert_eq!(seed_job_name(&p), first);
    assert_eq!(
        object(&p, "dev/seed/job.yaml")["metadata"]["annotations"],
        json!({ "acme.com/owner": "data" })
    );

    // A change to the pod template is a new Job: its arguments...
    p.write(
        "platform.toml",
        &JOBS_PLATFORM.replace("args = [\"--once\"]", "args = [\"--twice\"]"),
    );
    let args = seed_job_name(&p);
    assert_ne!(args, first);
    assert!(
        args.starts_with("seed-") && args.len() == "seed-".len() + 8,
        "{args}"
    );

    // ...its image tag (an overlay)...
    p.write("platform.toml", JOBS_PLATFORM);
    p.write("overlays/dev.toml", "[services.seed]\ntag = \"1.0.1\"\n");
    let tag = seed_job_name(&p);
    assert_ne!(tag, first);
    assert_ne!(tag, args);

    // ...its configuration (the ConfigMap's hash is on the pod template)...
    p.write(
        "overlays/dev.toml",
        "[services.seed]\nconfig = { BATCH = \"100\" }\n",
    );
    let config = seed_job_name(&p);
    assert_ne!(config, first);
    assert_ne!(config, tag);

    // ...and back to the same inputs, the same name.
    std::fs::remove_file(p.path().join("overlays/dev.toml")).unwrap();
    assert_eq!(seed_job_name(&p), first);
}

/// `completions` cannot change once the Job exists (the API server refuses the update,
/// like a change to the pod template): a new value is a new Job. Writing the value it
/// would have anyway is a change too (`completions: 1` appears in the spec).
#[test]
fn a_plain_job_is_renamed_when_completions_change() {
    let p = Platform::new(JOBS_PLATFORM, &[]);
    let first = seed_job_name(&p);
    let mut names = vec![first.clone()];
    for completions in [3, 4, 1] {
        p.write(
            "platform.toml",
            &JOBS_PLATFORM.replace(
                "job = { backoff_limit = 1 }",
                &format!("job = {{ backoff_limit = 1, completions = {completions} }}"),
            ),
        );
        let name = seed_job_name(&p);
        assert!(!names.contains(&name), "{completions}: {name} in {names:?}");
        assert_eq!(
            object(&p, "dev/seed/job.yaml")["spec"]["completions"],
            completions
        );
        names.push(name);
    }
    // The same inputs, the same name; and without `completions`, the name it had.
    p.write(
        "platform.toml",
        &JOBS_PLATFORM.replace(
            "job = { backoff_limit = 1 }",
            "job = { backoff_limit = 1, completions = 3 }",
        ),
    );
    assert_eq!(seed_job_name(&p), names[1]);
    p.write("platform.toml", JOBS_PLATFORM);
    assert_eq!(seed_job_name(&p), first);
}

/// A PreSync hook runs before the Sync phase, in which Argo CD applies the rest of its
/// Application: what its pod needs is a PreSync hook too, one wave before the Job, and
/// re-created at every sync (so the Job runs with this sync's configuration). The
/// Namespace stays a regular object: Argo CD applies it before the first object in it,
/// in that object's phase.
#[test]
fn a_presync_hook_job_finds_its_service_account_and_config_map() {
    let p = Platform::new(
        &JOBS_PLATFORM.replace(
            "hook = { phase = \"PreSync\" }\n",
            "hook = { phase = \"PreSync\", delete_policy = \"HookSucceeded\" }\nconfig = { DRY_RUN = \"false\" }\nfiles = { \"migrate.yaml\" = { path = \"/etc/migrate/migrate.yaml\", content = \"steps: all\\n\" } }\n",
        ),
        &[],
    );
    render(&p);
    assert_eq!(
        files_in(&p, "dev/migrate"),
        [
            "configmap-files.yaml",
            "configmap-hooks.yaml",
            "configmap.yaml",
            "job.yaml",
            "namespace.yaml",
            "serviceaccount.yaml",
        ]
    );
    let job = object(&p, "dev/migrate/job.yaml");
    assert_eq!(
        job["metadata"]["annotations"],
        json!({
            "argocd.argoproj.io/hook": "PreSync",
            "argocd.argoproj.io/hook-delete-policy": "HookSucceeded",
        })
    );
    // What the hook's pod needs is applied in the hook's phase, before it, and kept
    // until the next sync whatever the Job's delete policy.
    assert_eq!(
        generated(&p, "dev/migrate/serviceaccount.yaml"),
        "# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: ServiceAccount
metadata:
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
    argocd.argoproj.io/sync-wave: \"-1\"
  labels:
    app.kubernetes.io/instance: migrate
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: migrate
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: \"5.0.0\"
  name: migrate
  namespace: migrate
"
    );
    assert_eq!(
        generated(&p, "dev/migrate/configmap.yaml"),
        "# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
    argocd.argoproj.io/sync-wave: \"-1\"
  labels:
    app.kubernetes.io/instance: migrate
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: migrate
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: \"5.0.0\"
  name: migrate-config
  namespace: migrate
data:
  DRY_RUN: \"false\"
  VERSION: \"5.0.0\"
"
    );
    assert_eq!(
        object(&p, "dev/migrate/configmap-files.yaml")["metadata"]["annotations"],
        json!({
            "argocd.argoproj.io/hook": "PreSync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
            "argocd.argoproj.io/sync-wave": "-1",
        })
    );
    // The Namespace is no hook (Argo CD creates it first, in the hook's phase).
    assert_eq!(
        object(&p, "dev/migrate/namespace.yaml")["metadata"]["annotations"],
        json!({ "argocd.argoproj.io/sync-wave": "-2" })
    );
    // A plain Job's objects are regular objects.
    assert_eq!(
        object(&p, "dev/seed/serviceaccount.yaml")["metadata"]["annotations"],
        json!({ "argocd.argoproj.io/sync-wave": "-1" })
    );
}

/// Argo CD keeps no sync status for hooks and syncs an `auto` Application only when it
/// is OutOfSync: `<service>-hooks`, a regular ConfigMap, holds a hash of each hook, so a
/// change to any of them (here the Job's arguments alone, then a new tag) changes it.
#[test]
fn a_presync_hook_change_changes_the_regular_hooks_record() {
    let p = Platform::new(JOBS_PLATFORM, &[]);
    render(&p);
    assert_eq!(
        generated(&p, "dev/migrate/configmap-hooks.yaml"),
        "# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/instance: migrate
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: migrate
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: \"5.0.0\"
  name: migrate-hooks
  namespace: migrate
data:
  configmap.yaml: \"2ad77f09\"
  job.yaml: \"190cadc1\"
  serviceaccount.yaml: \"5b64d7e9\"
"
    );
    let record = |p: &Platform| object(p, "dev/migrate/configmap-hooks.yaml")["data"].clone();
    let first = record(&p);
    p.write(
        "platform.toml",
        &JOBS_PLATFORM.replace("args = [\"up\"]", "args = [\"up\", \"--all\"]"),
    );
    render(&p);
    let second = record(&p);
    assert_ne!(second["job.yaml"], first["job.yaml"]);
    for file in ["configmap.yaml", "serviceaccount.yaml"] {
        assert_eq!(second[file], first[file], "{file}");
    }
    p.write(
        "platform.toml",
        &JOBS_PLATFORM.replace("tag = \"5.0.0\"", "tag = \"5.0.1\""),
    );
    render(&p);
    let third = record(&p);
    for file in ["configmap.yaml", "job.yaml", "serviceaccount.yaml"] {
        assert_ne!(third[file], first[file], "{file}");
    }
    // A plain Job's service has no record: its objects are regular objects.
    assert!(!p.exists("generated/dev/seed/configmap-hooks.yaml"));
}

/// With secrets and NetworkPolicies, the secrets object and the service's own policy
/// (its egress rules) are hooks too; the namespace's default-deny policy is not.
#[test]
fn a_presync_hook_job_gets_its_secrets_and_network_policy_first() {
    let p = Platform::new(
        &JOBS_PLATFORM
            .replace(
                "sync = \"auto\"\n",
                "sync = \"auto\"\n\n[network_policy]\negress = \"restricted\"\n",
            )
            .replace(
                "hook = { phase = \"PreSync\" }\n",
                "hook = { phase = \"PreSync\" }\nsecrets = [{ name = \"db-password\", from = \"secretsmanager\", key = \"dev/migrate/db\" }]\niam_role = \"arn:aws:iam::123456789012:role/migrate\"\n",
            ),
        &[],
    );
    // The one diagnostic: the Secrets Store CSI driver's CRD is not installed by kgen.
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("warning[") || l.starts_with("error"))
            .collect::<Vec<_>>(),
        ["warning[KG306]: SecretProviderClass (secrets-store.csi.x-k8s.io) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap generated/argocd/dev/): the apply fails until the CRD exists"],
        "{}",
        out.stderr
    );
    assert_eq!(
        files_in(&p, "dev/migrate"),
        [
            "configmap-hooks.yaml",
            "configmap.yaml",
            "job.yaml",
            "namespace.yaml",
            "networkpolicy-default-deny.yaml",
            "networkpolicy.yaml",
            "secretproviderclass.yaml",
            "serviceaccount.yaml",
        ]
    );
    let hook = json!({
        "argocd.argoproj.io/hook": "PreSync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        "argocd.argoproj.io/sync-wave": "-1",
    });
    for file in [
        "configmap.yaml",
        "secretproviderclass.yaml",
        "networkpolicy.yaml",
    ] {
        // A custom resource whose CRD is an add-on's can wait for it (docs/argocd.md#crds).
        let mut expected = hook.clone();
        if file == "secretproviderclass.yaml" {
            expected["argocd.argoproj.io/sync-options"] = json!("SkipDryRunOnMissingResource=true");
        }
        assert_eq!(
            object(&p, &format!("dev/migrate/{file}"))["metadata"]["annotations"],
            expected,
            "{file}"
        );
    }
    // The ServiceAccount carries the role the CSI driver reads the secrets with.
    let mut account = hook.clone();
    account["eks.amazonaws.com/role-arn"] = json!("arn:aws:iam::123456789012:role/migrate");
    assert_eq!(
        object(&p, "dev/migrate/serviceaccount.yaml")["metadata"]["annotations"],
        account
    );
    assert_eq!(
        generated(&p, "dev/migrate/secretproviderclass.yaml"),
        "# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
    argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true
    argocd.argoproj.io/sync-wave: \"-1\"
  labels:
    app.kubernetes.io/instance: migrate
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: migrate
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: \"5.0.0\"
  name: migrate-secrets
  namespace: migrate
spec:
  parameters:
    objects: |
      - objectName: \"dev/migrate/db\"
        objectType: \"secretsmanager\"
        objectAlias: \"db-password\"
  provider: aws
"
    );
    // The namespace's default-deny policy is the namespace's, not the pod's: a regular
    // object, with no annotation at all. The Namespace keeps its wave (Argo CD moves it
    // into the hook's phase and wave); the Job is the hook's, with no wave (0).
    assert_eq!(
        object(&p, "dev/migrate/networkpolicy-default-deny.yaml")["metadata"].get("annotations"),
        None
    );
    assert_eq!(
        object(&p, "dev/migrate/namespace.yaml")["metadata"]["annotations"],
        json!({ "argocd.argoproj.io/sync-wave": "-2" })
    );
    assert_eq!(
        object(&p, "dev/migrate/job.yaml")["metadata"]["annotations"],
        json!({
            "argocd.argoproj.io/hook": "PreSync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        })
    );
    // The plain Job's objects stay regular, in wave -1.
    for file in [
        "serviceaccount.yaml",
        "configmap.yaml",
        "networkpolicy.yaml",
    ] {
        assert_eq!(
            object(&p, &format!("dev/seed/{file}"))["metadata"]
                .get("annotations")
                .cloned(),
            (file != "networkpolicy.yaml").then(|| json!({ "argocd.argoproj.io/sync-wave": "-1" })),
            "{file}"
        );
    }
}

/// With External Secrets, the ExternalSecret is the hook (Argo CD waits until it is
/// healthy, its Secret synced, before the Job's wave). A namespace several services
/// share is in none of their Applications: `<cluster>-namespaces` creates it, at an
/// earlier bootstrap wave than the ApplicationSet. Only a `PreSync` hook changes its
/// objects: a `PostSync` hook runs after the Sync phase, which applied them.
#[test]
fn a_presync_hook_job_in_a_shared_namespace_with_external_secrets() {
    let p = Platform::new(
        &JOBS_PLATFORM
            .replace(
                "registry = \"registry.example.com\"\n",
                "registry = \"registry.example.com\"\nsecrets_backend = \"external-secrets\"\nnamespace = \"ledger\"\n\n[baseline]\nprovided = { secret_stores = [\"aws-secrets-manager\"] }\n",
            )
            .replace(
                "hook = { phase = \"PreSync\" }\n",
                "hook = { phase = \"PreSync\" }\nsecrets = [{ name = \"DB_PASSWORD\", from = \"secretsmanager\", key = \"dev/migrate/db\" }]\n",
            )
            .replace(
                "job = { backoff_limit = 1 }\n",
                "job = { backoff_limit = 1 }\nhook = { phase = \"PostSync\" }\n",
            ),
        &[],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("warning[") || l.starts_with("error"))
            .collect::<Vec<_>>(),
        ["warning[KG306]: ExternalSecret (external-secrets.io) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap generated/argocd/dev/): the apply fails until the CRD exists"],
        "{}",
        out.stderr
    );
    assert_eq!(
        files_in(&p, "dev/migrate"),
        [
            "configmap-hooks.yaml",
            "configmap.yaml",
            "externalsecret.yaml",
            "job.yaml",
            "serviceaccount.yaml",
        ]
    );
    let hook = json!({
        "argocd.argoproj.io/hook": "PreSync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        "argocd.argoproj.io/sync-wave": "-1",
    });
    for file in [
        "serviceaccount.yaml",
        "configmap.yaml",
        "externalsecret.yaml",
    ] {
        // A custom resource whose CRD is an add-on's can wait for it (docs/argocd.md#crds).
        let mut expected = hook.clone();
        if file == "externalsecret.yaml" {
            expected["argocd.argoproj.io/sync-options"] = json!("SkipDryRunOnMissingResource=true");
        }
        assert_eq!(
            object(&p, &format!("dev/migrate/{file}"))["metadata"]["annotations"],
            expected,
            "{file}"
        );
    }
    // The PostSync hook's objects are regular objects of the Sync phase.
    for file in ["serviceaccount.yaml", "configmap.yaml"] {
        assert_eq!(
            object(&p, &format!("dev/seed/{file}"))["metadata"]["annotations"],
            json!({ "argocd.argoproj.io/sync-wave": "-1" }),
            "{file}"
        );
    }
    assert_eq!(
        object(&p, "dev/seed/job.yaml")["metadata"]["annotations"],
        json!({
            "argocd.argoproj.io/hook": "PostSync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        })
    );
    // Its record holds the one hook, the Job: a change to the Job alone (its
    // backoffLimit here) changes a regular object, so the Application is OutOfSync.
    assert_eq!(
        files_in(&p, "dev/seed"),
        [
            "configmap-hooks.yaml",
            "configmap.yaml",
            "job.yaml",
            "serviceaccount.yaml",
        ]
    );
    let record = |p: &Platform| object(p, "dev/seed/configmap-hooks.yaml")["data"].clone();
    let first = record(&p);
    assert_eq!(
        first.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["job.yaml"]
    );
    let text = std::fs::read_to_string(p.path().join("platform.toml")).unwrap();
    p.write(
        "platform.toml",
        &text.replace(
            "job = { backoff_limit = 1 }\nhook = { phase = \"PostSync\" }\n",
            "job = { backoff_limit = 2 }\nhook = { phase = \"PostSync\" }\n",
        ),
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_ne!(record(&p)["job.yaml"], first["job.yaml"]);
    // The shared namespace: `<cluster>-namespaces` (bootstrap wave -4) creates it before
    // the ApplicationSet (wave 0) creates the service's Application.
    assert_eq!(
        object(&p, "clusters/dev/namespaces/ledger.yaml")["metadata"]["name"],
        "ledger"
    );
    assert_eq!(
        object(&p, "argocd/dev/application-namespaces.yaml")["metadata"]["annotations"]
            ["argocd.argoproj.io/sync-wave"],
        "-4"
    );
    assert_eq!(
        object(&p, "argocd/dev/applicationset-dev.yaml")["metadata"]["annotations"]
            ["argocd.argoproj.io/sync-wave"],
        "0"
    );
}

#[test]
fn daemonset_without_and_with_a_service() {
    let p = Platform::new(DAEMONSETS_PLATFORM, &[]);
    render(&p);
    // A node agent without a port of its own has no Service...
    assert_eq!(
        files_in(&p, "dev/agent"),
        [
            "configmap.yaml",
            "daemonset.yaml",
            "namespace.yaml",
            "serviceaccount.yaml",
        ]
    );
    assert_eq!(generated(&p, "dev/agent/daemonset.yaml"), AGENT_DAEMONSET);
    // ...one with its own `port` has one. Neither has a PodDisruptionBudget.
    assert_eq!(
        files_in(&p, "dev/collector"),
        [
            "configmap.yaml",
            "daemonset.yaml",
            "namespace.yaml",
            "service.yaml",
            "serviceaccount.yaml",
        ]
    );
    assert_eq!(
        generated(&p, "dev/collector/daemonset.yaml"),
        COLLECTOR_DAEMONSET
    );
    assert_eq!(
        generated(&p, "dev/collector/service.yaml"),
        COLLECTOR_SERVICE
    );
}

#[test]
fn on_delete_rollout_as_documented() {
    let p = Platform::new(
        &DAEMONSETS_PLATFORM.replace(
            "rollout = { max_unavailable = \"10%\" }",
            "rollout = { strategy = \"on-delete\" }",
        ),
        &[],
    );
    render(&p);
    assert_eq!(
        object(&p, "dev/agent/daemonset.yaml")["spec"]["updateStrategy"],
        json!({ "type": "OnDelete" })
    );
    // `ondelete`, the spelling the first version took, still reads.
    let p = Platform::new(
        &DAEMONSETS_PLATFORM.replace(
            "rollout = { max_unavailable = \"10%\" }",
            "rollout = { strategy = \"ondelete\" }",
        ),
        &[],
    );
    render(&p);
    assert_eq!(
        object(&p, "dev/agent/daemonset.yaml")["spec"]["updateStrategy"],
        json!({ "type": "OnDelete" })
    );
}

#[test]
fn defaults_a_kind_does_not_take_are_ignored() {
    let p = Platform::new(
        r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[defaults]
port = 8000
probes = { liveness = "/health", readiness = "/ready" }
job = { backoff_limit = 2 }

[services.api]
image = "acme/api"
tag = "1.0.0"

[services.consumer]
kind = "worker"
image = "acme/consumer"
tag = "1.0.0"
waivers = [{ rule = "KG202", reason = "a queue consumer: nothing to probe" }]

[services.report]
kind = "cronjob"
image = "acme/report"
tag = "1.0.0"
schedule = "@daily"
"#,
        &[],
    );
    render(&p);

    // A deployment takes the port and the HTTP probes...
    let api = object(&p, "dev/api/deployment.yaml");
    let main = &pod_spec(&api)["containers"][0];
    assert_eq!(
        main["ports"],
        json!([{ "containerPort": 8000, "name": "http", "protocol": "TCP" }])
    );
    assert_eq!(
        main["livenessProbe"],
        json!({ "httpGet": { "path": "/health", "port": "http" } })
    );
    assert_eq!(
        main["readinessProbe"],
        json!({ "httpGet": { "path": "/ready", "port": "http" } })
    );
    assert!(api["spec"].get("backoffLimit").is_none());

    // ...a worker has no `http` port, no Service, and no probes of that port.
    assert_eq!(
        files_in(&p, "dev/consumer"),
        [
            "configmap.yaml",
            "deployment.yaml",
            "namespace.yaml",
            "pdb.yaml",
            "serviceaccount.yaml",
        ]
    );
    let consumer = object(&p, "dev/consumer/deployment.yaml");
    let main = &pod_spec(&consumer)["containers"][0];
    for key in ["ports", "livenessProbe", "readinessProbe", "startupProbe"] {
        assert!(main.get(key).is_none(), "worker container has `{key}`");
    }
    assert!(generated(&p, "dev/consumer/deployment.yaml")
        .starts_with("# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.\n# Waived: KG202 (a queue consumer: nothing to probe)\napiVersion: apps/v1\n"));

    // A cronjob takes the Job settings, and neither the port nor the probes.
    assert_eq!(
        files_in(&p, "dev/report"),
        [
            "configmap.yaml",
            "cronjob.yaml",
            "namespace.yaml",
            "serviceaccount.yaml",
        ]
    );
    let report = object(&p, "dev/report/cronjob.yaml");
    let job = &report["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["backoffLimit"], 2);
    let main = &job["template"]["spec"]["containers"][0];
    for key in ["ports", "livenessProbe", "readinessProbe", "startupProbe"] {
        assert!(main.get(key).is_none(), "cronjob container has `{key}`");
    }
}

const MERGE_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[environments.prod]
sync = "auto"
cluster = "https://prod.example.com"

[services.api]
image = "acme/api"
tag = "1.0.0"
probes = { liveness = "/health", readiness = "/ready" }
volumes = { cache = { mount = "/cache" } }

[services.api.sidecars.proxy]
image = "acme/proxy"
tag = "2.0.0"
args = ["--port", "15001"]
probes = { liveness = { exec = ["/bin/healthcheck"] } }
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { memory = "64Mi" } }
mounts = { cache = "/cache" }

[services.api.sidecars.logs]
image = "acme/logs"
tag = "1.0.0"
probes = { liveness = { exec = ["/bin/healthcheck"] } }
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "32Mi" } }
"#;

#[test]
fn named_maps_merge_entry_by_entry_across_layers() {
    let p = Platform::new(
        MERGE_PLATFORM,
        &[(
            "dev",
            r#"[services.api]
sidecars.proxy = { tag = "2.1.0" }
sidecars.logs = { enabled = false }
volumes.scratch = { mount = "/scratch", empty_dir = { size_limit = "2Gi" } }
"#,
        )],
    );
    render(&p);

    // prod: as platform.toml says.
    let prod = object(&p, "prod/api/deployment.yaml");
    let inits = pod_spec(&prod)["initContainers"].as_array().unwrap();
    let images: Vec<&str> = inits.iter().map(|c| c["image"].as_str().unwrap()).collect();
    assert_eq!(
        images,
        [
            "registry.example.com/acme/logs:1.0.0",
            "registry.example.com/acme/proxy:2.0.0"
        ]
    );
    let volumes: Vec<&str> = pod_spec(&prod)["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(volumes, ["tmp", "cache"]);

    // dev: the overlay set one sidecar's tag (the rest of its entry is platform.toml's),
    // switched the other off, and added a volume.
    let dev = object(&p, "dev/api/deployment.yaml");
    let inits = pod_spec(&dev)["initContainers"].as_array().unwrap();
    assert_eq!(inits.len(), 1, "{inits:?}");
    let proxy = &inits[0];
    assert_eq!(proxy["name"], "proxy");
    assert_eq!(proxy["image"], "registry.example.com/acme/proxy:2.1.0");
    assert_eq!(proxy["args"], json!(["--port", "15001"]));
    assert_eq!(proxy["restartPolicy"], "Always");
    assert_eq!(
        proxy["resources"],
        json!({ "limits": { "memory": "64Mi" }, "requests": { "cpu": "50m", "memory": "64Mi" } })
    );
    assert_eq!(
        proxy["volumeMounts"],
        json!([{ "mountPath": "/tmp", "name": "tmp" }, { "mountPath": "/cache", "name": "cache" }])
    );
    assert_eq!(
        pod_spec(&dev)["volumes"],
        json!([
            { "emptyDir": {}, "name": "tmp" },
            { "emptyDir": {}, "name": "cache" },
            { "emptyDir": { "sizeLimit": "2Gi" }, "name": "scratch" },
        ])
    );
    assert_eq!(
        pod_spec(&dev)["containers"][0]["volumeMounts"],
        json!([
            { "mountPath": "/tmp", "name": "tmp" },
            { "mountPath": "/cache", "name": "cache" },
            { "mountPath": "/scratch", "name": "scratch" },
        ])
    );
}

#[test]
fn extra_labels_go_on_every_object_of_the_service() {
    let p = Platform::new(
        &DEPLOYMENT_PLATFORM.replace(
            "annotations = { \"acme.com/owner\" = \"payments\" }",
            "annotations = { \"acme.com/owner\" = \"payments\" }\nlabels = { team = \"payments\" }",
        ),
        &[],
    );
    render(&p);
    for file in files_in(&p, "dev/api") {
        let o = object(&p, &format!("dev/api/{file}"));
        assert_eq!(o["metadata"]["labels"]["team"], "payments", "{file}");
    }
    // "every object": the pods too (`pod_labels` are the pods' only).
    let d = object(&p, "dev/api/deployment.yaml");
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        json!({
            "app.kubernetes.io/instance": "api",
            "app.kubernetes.io/managed-by": "kgen",
            "app.kubernetes.io/name": "api",
            "app.kubernetes.io/part-of": "acme",
            "app.kubernetes.io/version": "1.0.0",
            "team": "payments",
            "tier": "backend",
        })
    );
    // Never in a selector: those are immutable, and select on kgen's labels only.
    let selector = json!({ "app.kubernetes.io/instance": "api", "app.kubernetes.io/name": "api" });
    assert_eq!(d["spec"]["selector"]["matchLabels"], selector);
    assert_eq!(
        object(&p, "dev/api/service.yaml")["spec"]["selector"],
        selector
    );
    assert_eq!(
        object(&p, "dev/api/pdb.yaml")["spec"]["selector"]["matchLabels"],
        selector
    );
    // The Namespace keeps kgen's labels next to it.
    assert_eq!(
        generated(&p, "dev/api/namespace.yaml"),
        "# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: Namespace
metadata:
  annotations:
    acme.com/owner: payments
    argocd.argoproj.io/sync-wave: \"-2\"
  labels:
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/part-of: acme
    kubernetes.io/metadata.name: api
    pod-security.kubernetes.io/enforce: restricted
    team: payments
  name: api
"
    );
}

#[test]
fn a_templated_file_keeps_its_final_newline() {
    let p = Platform::new(
        &DEPLOYMENT_PLATFORM.replace(
            "content = \"listen: 8080\\nenv: {{ env.name }}\"",
            "content = \"listen: 8080\\nenv: {{ env.name }}\\n\"",
        ),
        &[],
    );
    render(&p);
    assert_eq!(
        object(&p, "dev/api/configmap-files.yaml")["data"]["app.yaml"],
        "listen: 8080\nenv: dev\n"
    );
}

#[test]
fn a_sidecar_port_is_exposed_on_the_service() {
    let p = Platform::new(
        &DEPLOYMENT_PLATFORM.replace(
            "ports = { proxy = { port = 15001, expose = false } }",
            "ports = { proxy = 15001 }",
        ),
        &[],
    );
    render(&p);
    let service = object(&p, "dev/api/service.yaml");
    let ports = service["spec"]["ports"].as_array().unwrap();
    let proxy = ports
        .iter()
        .find(|p| p["name"] == "proxy")
        .expect("a `proxy` port on the Service");
    assert_eq!(proxy["port"], 15001);
    // By number: every supported Kubernetes version routes it to the sidecar.
    assert_eq!(proxy["targetPort"], 15001);
}

#[test]
fn max_unavailable_zero_alone_is_a_valid_deployment_rollout() {
    let p = Platform::new(
        &DEPLOYMENT_PLATFORM.replace(
            "rollout = { max_surge = 1, max_unavailable = 0, ",
            "rollout = { max_unavailable = 0, ",
        ),
        &[],
    );
    render(&p);
    assert_eq!(
        object(&p, "dev/api/deployment.yaml")["spec"]["strategy"],
        json!({ "rollingUpdate": { "maxUnavailable": 0 }, "type": "RollingUpdate" })
    );
}

#[test]
fn statefulset_max_unavailable_from_kubernetes_1_35() {
    let p = Platform::new(
        &STATEFULSET_PLATFORM
            .replace(
                "sync = \"auto\"\n",
                "sync = \"auto\"\ncluster = \"main\"\n\n[clusters.main]\nkubernetes_version = \"1.35\"\n",
            )
            .replace(
                "rollout = { partition = 1 }",
                "rollout = { partition = 1, max_unavailable = \"50%\" }",
            ),
        &[],
    );
    render(&p);
    assert_eq!(
        object(&p, "dev/db/statefulset.yaml")["spec"]["updateStrategy"],
        json!({ "rollingUpdate": { "maxUnavailable": "50%", "partition": 1 }, "type": "RollingUpdate" })
    );
}

/// A StatefulSet's `serviceName` is its governing headless Service: it is rendered
/// even when the ClusterIP Service is off (`serviceName` cannot change once the
/// StatefulSet exists, and without it the pods get no DNS names).
#[test]
fn a_statefulset_names_only_a_rendered_service() {
    let p = Platform::new(
        &STATEFULSET_PLATFORM.replace(
            "port = 5432\n",
            "port = 5432\nservice = { enabled = false, port = 80 }\n",
        ),
        &[],
    );
    render(&p);
    assert_eq!(
        files_in(&p, "dev/db"),
        [
            "configmap.yaml",
            "hpa.yaml",
            "namespace.yaml",
            "pdb.yaml",
            "service-headless.yaml",
            "serviceaccount.yaml",
            "statefulset.yaml",
        ]
    );
    let sts = object(&p, "dev/db/statefulset.yaml");
    assert_eq!(sts["spec"]["serviceName"], "db-headless");
    // The same headless Service, `http` on the container port.
    assert_eq!(
        generated(&p, "dev/db/service-headless.yaml"),
        DB_HEADLESS_SERVICE
    );
    // With the ClusterIP Service on, `http` is on its port.
    let p = Platform::new(
        &STATEFULSET_PLATFORM.replace("port = 5432\n", "port = 5432\nservice = { port = 80 }\n"),
        &[],
    );
    render(&p);
    assert_eq!(
        object(&p, "dev/db/service-headless.yaml")["spec"]["ports"],
        json!([{ "name": "http", "port": 80, "protocol": "TCP", "targetPort": "http" }])
    );
}

/// A StatefulSet's pods are behind two Services with the same labels and ports, the
/// ClusterIP one and the headless one: its ServiceMonitor selects the ClusterIP
/// Service alone (the Prometheus Operator makes every selected Service's endpoints
/// targets of their own), so each pod is scraped once. Without the ClusterIP Service,
/// the headless one is the only one, and is scraped.
#[test]
fn a_statefulset_with_metrics_is_scraped_once_per_pod() {
    let text = STATEFULSET_PLATFORM
        .replace("port = 5432\n", "port = 5432\nmetrics = { port = 9187 }\n")
        .replace(
            "[baseline]\n",
            "[monitoring]\nchart_version = \"77.0.0\"\nvalues = { grafana = { admin = { existingSecret = \"grafana-admin\" } } }\n\n[baseline]\n",
        );
    let p = Platform::new(&text, &[]);
    render(&p);
    assert_eq!(
        generated(&p, "dev/db/servicemonitor.yaml"),
        r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  annotations:
    argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true
  labels:
    app.kubernetes.io/instance: db
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: db
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "16.2"
  name: db
  namespace: db
spec:
  endpoints:
  - interval: 30s
    path: /metrics
    port: metrics
  namespaceSelector:
    matchNames:
    - db
  selector:
    matchExpressions:
    - key: kgen.dev/headless
      operator: DoesNotExist
    matchLabels:
      app.kubernetes.io/managed-by: kgen
      app.kubernetes.io/name: db
"#
    );
    // Both Services carry the `metrics` port; only the headless one the label.
    let ports = json!([
        { "name": "http", "port": 5432, "protocol": "TCP", "targetPort": "http" },
        { "name": "metrics", "port": 9187, "protocol": "TCP", "targetPort": "metrics" }
    ]);
    let service = object(&p, "dev/db/service.yaml");
    assert_eq!(service["spec"]["ports"], ports);
    assert_eq!(
        service["metadata"]["labels"]["kgen.dev/headless"],
        Value::Null
    );
    let headless = object(&p, "dev/db/service-headless.yaml");
    assert_eq!(headless["spec"]["ports"], ports);
    assert_eq!(headless["metadata"]["labels"]["kgen.dev/headless"], "true");

    // No ClusterIP Service: the headless one is scraped.
    let p = Platform::new(
        &text.replace(
            "port = 5432\n",
            "port = 5432\nservice = { enabled = false }\n",
        ),
        &[],
    );
    render(&p);
    assert_eq!(
        object(&p, "dev/db/servicemonitor.yaml")["spec"]["selector"],
        json!({ "matchLabels": { "app.kubernetes.io/managed-by": "kgen", "app.kubernetes.io/name": "db" } })
    );
    assert!(!p.exists("generated/dev/db/service.yaml"));
}

/// docs/platform.md#metrics-served-by-a-sidecar: the exporter's port is declared once,
/// as `metrics.port`; the Service's `metrics` port reaches the pod on it, where the
/// sidecar listens, and Prometheus is admitted on it.
#[test]
fn metrics_served_by_a_sidecar_as_documented() {
    let text = STATEFULSET_PLATFORM
        .replace("port = 5432\n", "port = 5432\nmetrics = { port = 9187 }\n")
        .replace(
            "[baseline]\n",
            r#"[services.db.sidecars.exporter]
image = "acme/postgres-exporter"
tag = "0.17.1"
probes = { liveness = { http = "/", port = 9187 } }
resources = { requests = { cpu = "20m", memory = "32Mi" }, limits = { memory = "64Mi" } }

[network_policy]

[monitoring]
chart_version = "77.0.0"
values = { grafana = { admin = { existingSecret = "grafana-admin" } } }

[baseline]
"#,
        );
    let p = Platform::new(&text, &[]);
    render(&p);
    let pod = object(&p, "dev/db/statefulset.yaml");
    let pod = pod_spec(&pod);
    assert_eq!(
        pod["containers"][0]["ports"],
        json!([
            { "containerPort": 5432, "name": "http", "protocol": "TCP" },
            { "containerPort": 9187, "name": "metrics", "protocol": "TCP" }
        ])
    );
    assert_eq!(pod["initContainers"][0]["name"], "exporter");
    assert_eq!(pod["initContainers"][0]["ports"], Value::Null);
    assert_eq!(
        pod["initContainers"][0]["livenessProbe"],
        json!({ "httpGet": { "path": "/", "port": 9187 } })
    );
    assert_eq!(
        object(&p, "dev/db/service.yaml")["spec"]["ports"][1],
        json!({ "name": "metrics", "port": 9187, "protocol": "TCP", "targetPort": "metrics" })
    );
    assert_eq!(
        object(&p, "dev/db/networkpolicy.yaml")["spec"]["ingress"],
        json!([{
            "from": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "monitoring" } } }],
            "ports": [{ "port": 9187, "protocol": "TCP" }]
        }])
    );
}

// ---- Golden platforms and files -------------------------------------------------

const DEPLOYMENT_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"
allowed_registries = ["ghcr.io/acme"]

[environments.dev]
sync = "auto"

[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080
replicas = 3
command = ["/app/server"]
args = ["--listen", ":8080"]
ports = { grpc = { port = 9090, service_port = 90, app_protocol = "grpc" }, admin = { port = 9901, expose = false } }
service = { type = "NodePort", port = 80 }
probes = { liveness = { tcp = "http", initial_delay = 5, period = 10, timeout = 2, failure_threshold = 4 }, readiness = { grpc = 9090, grpc_service = "api.v1", success_threshold = 2 }, startup = { exec = ["cat", "/tmp/ready"], period = 2, failure_threshold = 30 } }
tolerations = [{ key = "dedicated", value = "api", effect = "NoSchedule" }, { operator = "Exists", effect = "NoExecute", seconds = 60 }]
node_affinity = { required = [{ key = "kubernetes.io/arch", operator = "In", values = ["arm64"] }], preferred = [{ key = "karpenter.sh/capacity-type", operator = "In", values = ["spot"], weight = 50 }] }
priority_class = "high"
termination_grace_period = 45
image_pull_secrets = ["ghcr-pull"]
annotations = { "acme.com/owner" = "payments" }
pod_labels = { tier = "backend" }
pod_annotations = { "acme.com/scrape" = "false" }
service_account = { automount_token = false }
rollout = { max_surge = 1, max_unavailable = 0, min_ready_seconds = 10, revision_history_limit = 5, progress_deadline = 300 }
volumes = { cache = { mount = "/var/cache/api", empty_dir = { size_limit = "1Gi", memory = true } } }
files = { "app.yaml" = { path = "/etc/api/app.yaml", content = "listen: 8080\nenv: {{ env.name }}" } }

[services.api.sidecars.proxy]
image = "acme/proxy"
tag = "2.1.0"
args = ["--upstream", "127.0.0.1:8080"]
env = { LOG_LEVEL = "info" }
ports = { proxy = { port = 15001, expose = false } }
probes = { readiness = { http = "/ready", port = "proxy" }, liveness = { tcp = "proxy" } }
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { cpu = "200m", memory = "128Mi" } }
mounts = { cache = "/cache" }

[services.api.init_containers.migrate]
image = "ghcr.io/acme/migrate"
digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
command = ["/migrate", "up"]
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { memory = "64Mi" } }

[baseline]
provided = { priority_classes = ["high"] }
"#;

const API_DEPLOYMENT: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    acme.com/owner: payments
  labels:
    app.kubernetes.io/instance: api
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: api
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: api
  namespace: api
spec:
  minReadySeconds: 10
  progressDeadlineSeconds: 300
  replicas: 3
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/instance: api
      app.kubernetes.io/name: api
  strategy:
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
    type: RollingUpdate
  template:
    metadata:
      annotations:
        acme.com/scrape: "false"
        kgen.dev/config-hash: "3f8ff3e263708e48"
      labels:
        app.kubernetes.io/instance: api
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: api
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "1.0.0"
        tier: backend
    spec:
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - preference:
              matchExpressions:
              - key: karpenter.sh/capacity-type
                operator: In
                values:
                - spot
            weight: 50
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: kubernetes.io/arch
                operator: In
                values:
                - arm64
      automountServiceAccountToken: false
      containers:
      - args:
        - "--listen"
        - ":8080"
        command:
        - /app/server
        envFrom:
        - configMapRef:
            name: api-config
        image: registry.example.com/acme/api:1.0.0
        imagePullPolicy: IfNotPresent
        livenessProbe:
          failureThreshold: 4
          initialDelaySeconds: 5
          periodSeconds: 10
          tcpSocket:
            port: http
          timeoutSeconds: 2
        name: api
        ports:
        - containerPort: 8080
          name: http
          protocol: TCP
        - containerPort: 9901
          name: admin
          protocol: TCP
        - containerPort: 9090
          name: grpc
          protocol: TCP
        readinessProbe:
          grpc:
            port: 9090
            service: api.v1
          successThreshold: 2
        resources:
          limits:
            cpu: 500m
            memory: 256Mi
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        startupProbe:
          exec:
            command:
            - cat
            - /tmp/ready
          failureThreshold: 30
          periodSeconds: 2
        volumeMounts:
        - mountPath: /tmp
          name: tmp
        - mountPath: /etc/api
          name: files-0
          readOnly: true
        - mountPath: /var/cache/api
          name: cache
      imagePullSecrets:
      - name: ghcr-pull
      initContainers:
      - args:
        - "--upstream"
        - "127.0.0.1:8080"
        env:
        - name: LOG_LEVEL
          value: info
        image: registry.example.com/acme/proxy:2.1.0
        imagePullPolicy: IfNotPresent
        livenessProbe:
          tcpSocket:
            port: proxy
        name: proxy
        ports:
        - containerPort: 15001
          name: proxy
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /ready
            port: proxy
        resources:
          limits:
            cpu: 200m
            memory: 128Mi
          requests:
            cpu: 50m
            memory: 64Mi
        restartPolicy: Always
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
        - mountPath: /cache
          name: cache
      - command:
        - /migrate
        - up
        image: ghcr.io/acme/migrate@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        imagePullPolicy: IfNotPresent
        name: migrate
        resources:
          limits:
            memory: 64Mi
          requests:
            cpu: 50m
            memory: 64Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
      priorityClassName: high
      securityContext:
        fsGroup: 10001
        runAsGroup: 10001
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: api
      terminationGracePeriodSeconds: 45
      tolerations:
      - effect: NoSchedule
        key: dedicated
        operator: Equal
        value: api
      - effect: NoExecute
        operator: Exists
        tolerationSeconds: 60
      topologySpreadConstraints:
      - labelSelector:
          matchLabels:
            app.kubernetes.io/instance: api
            app.kubernetes.io/name: api
        matchLabelKeys:
        - pod-template-hash
        maxSkew: 1
        nodeTaintsPolicy: Honor
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
      - labelSelector:
          matchLabels:
            app.kubernetes.io/instance: api
            app.kubernetes.io/name: api
        matchLabelKeys:
        - pod-template-hash
        maxSkew: 1
        nodeTaintsPolicy: Honor
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
      volumes:
      - emptyDir: {}
        name: tmp
      - configMap:
          items:
          - key: app.yaml
            path: app.yaml
          name: api-files
        name: files-0
      - emptyDir:
          medium: Memory
          sizeLimit: 1Gi
        name: cache
"#;

const API_SERVICE: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: Service
metadata:
  annotations:
    acme.com/owner: payments
  labels:
    app.kubernetes.io/instance: api
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: api
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: api
  namespace: api
spec:
  ports:
  - name: http
    port: 80
    protocol: TCP
    targetPort: http
  - appProtocol: grpc
    name: grpc
    port: 90
    protocol: TCP
    targetPort: grpc
  selector:
    app.kubernetes.io/instance: api
    app.kubernetes.io/name: api
  type: NodePort
"#;

const API_FILES: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    acme.com/owner: payments
    argocd.argoproj.io/sync-wave: "-1"
  labels:
    app.kubernetes.io/instance: api
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: api
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: api-files
  namespace: api
data:
  app.yaml: |-
    listen: 8080
    env: dev
"#;

const API_PDB: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  annotations:
    acme.com/owner: payments
  labels:
    app.kubernetes.io/instance: api
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: api
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: api
  namespace: api
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/instance: api
      app.kubernetes.io/name: api
  unhealthyPodEvictionPolicy: AlwaysAllow
"#;

const WORKER_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.worker]
kind = "worker"
image = "acme/worker"
tag = "1.0.0"
replicas = 2
probes = { liveness = { exec = ["/bin/healthcheck"] }, readiness = { exec = ["/bin/ready"], period = 5 } }
volumes = { spool = { mount = "/var/spool/worker", claim = { size = "5Gi", storage_class = "efs", access_mode = "ReadWriteMany" } } }
rollout = { strategy = "recreate" }

[baseline]
provided = { storage_classes = ["efs"] }
"#;

const WORKER_DEPLOYMENT: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app.kubernetes.io/instance: worker
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: worker
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: worker
  namespace: worker
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/instance: worker
      app.kubernetes.io/name: worker
  strategy:
    type: Recreate
  template:
    metadata:
      annotations:
        kgen.dev/config-hash: "8c315d73d4eb141a"
      labels:
        app.kubernetes.io/instance: worker
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: worker
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "1.0.0"
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: worker-config
        image: registry.example.com/acme/worker:1.0.0
        imagePullPolicy: IfNotPresent
        livenessProbe:
          exec:
            command:
            - /bin/healthcheck
        name: worker
        readinessProbe:
          exec:
            command:
            - /bin/ready
          periodSeconds: 5
        resources:
          limits:
            cpu: 500m
            memory: 256Mi
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
        - mountPath: /var/spool/worker
          name: spool
      securityContext:
        fsGroup: 10001
        runAsGroup: 10001
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: worker
      topologySpreadConstraints:
      - labelSelector:
          matchLabels:
            app.kubernetes.io/instance: worker
            app.kubernetes.io/name: worker
        matchLabelKeys:
        - pod-template-hash
        maxSkew: 1
        nodeTaintsPolicy: Honor
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
      - labelSelector:
          matchLabels:
            app.kubernetes.io/instance: worker
            app.kubernetes.io/name: worker
        matchLabelKeys:
        - pod-template-hash
        maxSkew: 1
        nodeTaintsPolicy: Honor
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
      volumes:
      - emptyDir: {}
        name: tmp
      - name: spool
        persistentVolumeClaim:
          claimName: worker-spool
"#;

const WORKER_PVC: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  annotations:
    argocd.argoproj.io/sync-options: Prune=false,Delete=false
  labels:
    app.kubernetes.io/instance: worker
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: worker
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: worker-spool
  namespace: worker
spec:
  accessModes:
  - ReadWriteMany
  resources:
    requests:
      storage: 5Gi
  storageClassName: efs
"#;

const STATEFULSET_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.db]
kind = "statefulset"
image = "acme/db"
tag = "16.2"
port = 5432
probes = { liveness = { tcp = "http" }, readiness = { exec = ["pg_isready"] } }
volumes = { data = { mount = "/var/lib/db", claim = { size = "20Gi", storage_class = "gp3" } } }
statefulset = { pod_management = "Parallel", when_deleted = "Delete", when_scaled = "Retain" }
rollout = { partition = 1 }
autoscaling = { min = 2, max = 4, cpu = 80, behavior = { scale_down = { stabilization_window = 600, select = "Min", policies = [{ type = "Pods", value = 1, period = 120 }] }, scale_up = { policies = [{ type = "Percent", value = 100, period = 30 }] } } }
disruption_budget = { min_available = 1 }

[baseline]
provided = { storage_classes = ["gp3"] }
"#;

const DB_STATEFULSET: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: apps/v1
kind: StatefulSet
metadata:
  labels:
    app.kubernetes.io/instance: db
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: db
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "16.2"
  name: db
  namespace: db
spec:
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: Delete
    whenScaled: Retain
  podManagementPolicy: Parallel
  selector:
    matchLabels:
      app.kubernetes.io/instance: db
      app.kubernetes.io/name: db
  serviceName: db-headless
  template:
    metadata:
      annotations:
        kgen.dev/config-hash: "5563691aefb62611"
      labels:
        app.kubernetes.io/instance: db
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: db
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "16.2"
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: db-config
        image: registry.example.com/acme/db:16.2
        imagePullPolicy: IfNotPresent
        livenessProbe:
          tcpSocket:
            port: http
        name: db
        ports:
        - containerPort: 5432
          name: http
          protocol: TCP
        readinessProbe:
          exec:
            command:
            - pg_isready
        resources:
          limits:
            cpu: 500m
            memory: 256Mi
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
        - mountPath: /var/lib/db
          name: data
      securityContext:
        fsGroup: 10001
        runAsGroup: 10001
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: db
      topologySpreadConstraints:
      - labelSelector:
          matchLabels:
            app.kubernetes.io/instance: db
            app.kubernetes.io/name: db
        maxSkew: 1
        nodeTaintsPolicy: Honor
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
      - labelSelector:
          matchLabels:
            app.kubernetes.io/instance: db
            app.kubernetes.io/name: db
        maxSkew: 1
        nodeTaintsPolicy: Honor
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
      volumes:
      - emptyDir: {}
        name: tmp
  updateStrategy:
    rollingUpdate:
      partition: 1
    type: RollingUpdate
  volumeClaimTemplates:
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      labels:
        app.kubernetes.io/instance: db
        app.kubernetes.io/name: db
      name: data
    spec:
      accessModes:
      - ReadWriteOnce
      resources:
        requests:
          storage: 20Gi
      storageClassName: gp3
"#;

const DB_SERVICE: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: Service
metadata:
  labels:
    app.kubernetes.io/instance: db
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: db
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "16.2"
  name: db
  namespace: db
spec:
  ports:
  - name: http
    port: 5432
    protocol: TCP
    targetPort: http
  selector:
    app.kubernetes.io/instance: db
    app.kubernetes.io/name: db
  type: ClusterIP
"#;

const DB_HEADLESS_SERVICE: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: Service
metadata:
  labels:
    app.kubernetes.io/instance: db
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: db
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "16.2"
    kgen.dev/headless: "true"
  name: db-headless
  namespace: db
spec:
  clusterIP: None
  ports:
  - name: http
    port: 5432
    protocol: TCP
    targetPort: http
  publishNotReadyAddresses: true
  selector:
    app.kubernetes.io/instance: db
    app.kubernetes.io/name: db
  type: ClusterIP
"#;

const DB_HPA: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  labels:
    app.kubernetes.io/instance: db
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: db
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "16.2"
  name: db
  namespace: db
spec:
  behavior:
    scaleDown:
      policies:
      - periodSeconds: 120
        type: Pods
        value: 1
      selectPolicy: Min
      stabilizationWindowSeconds: 600
    scaleUp:
      policies:
      - periodSeconds: 30
        type: Percent
        value: 100
  maxReplicas: 4
  metrics:
  - resource:
      name: cpu
      target:
        averageUtilization: 80
        type: Utilization
    type: Resource
  minReplicas: 2
  scaleTargetRef:
    apiVersion: apps/v1
    kind: StatefulSet
    name: db
"#;

const DB_PDB: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  labels:
    app.kubernetes.io/instance: db
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: db
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "16.2"
  name: db
  namespace: db
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/instance: db
      app.kubernetes.io/name: db
  unhealthyPodEvictionPolicy: AlwaysAllow
"#;

const CRONJOB_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.nightly]
kind = "cronjob"
image = "acme/report"
tag = "3.0.0"
args = ["--since", "24h"]
schedule = "30 2 * * 1-5"
cron = { time_zone = "Europe/Paris", concurrency = "Replace", successful_history = 5, failed_history = 2, starting_deadline = 300, suspend = true }
job = { backoff_limit = 2, active_deadline = 3600, ttl_after_finished = 86400, completions = 1, parallelism = 1, restart_policy = "Never" }
"#;

const NIGHTLY_CRONJOB: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: batch/v1
kind: CronJob
metadata:
  labels:
    app.kubernetes.io/instance: nightly
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: nightly
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "3.0.0"
  name: nightly
  namespace: nightly
spec:
  concurrencyPolicy: Replace
  failedJobsHistoryLimit: 2
  jobTemplate:
    metadata:
      labels:
        app.kubernetes.io/instance: nightly
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: nightly
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "3.0.0"
    spec:
      activeDeadlineSeconds: 3600
      backoffLimit: 2
      completions: 1
      parallelism: 1
      template:
        metadata:
          annotations:
            kgen.dev/config-hash: "32705b94fec9dde4"
          labels:
            app.kubernetes.io/instance: nightly
            app.kubernetes.io/managed-by: kgen
            app.kubernetes.io/name: nightly
            app.kubernetes.io/part-of: acme
            app.kubernetes.io/version: "3.0.0"
        spec:
          containers:
          - args:
            - "--since"
            - 24h
            envFrom:
            - configMapRef:
                name: nightly-config
            image: registry.example.com/acme/report:3.0.0
            imagePullPolicy: IfNotPresent
            name: nightly
            resources:
              limits:
                cpu: 500m
                memory: 256Mi
              requests:
                cpu: 100m
                memory: 128Mi
            securityContext:
              allowPrivilegeEscalation: false
              capabilities:
                drop:
                - ALL
              readOnlyRootFilesystem: true
              runAsNonRoot: true
            volumeMounts:
            - mountPath: /tmp
              name: tmp
          restartPolicy: Never
          securityContext:
            fsGroup: 10001
            runAsGroup: 10001
            runAsNonRoot: true
            runAsUser: 10001
            seccompProfile:
              type: RuntimeDefault
          serviceAccountName: nightly
          volumes:
          - emptyDir: {}
            name: tmp
      ttlSecondsAfterFinished: 86400
  schedule: 30 2 * * 1-5
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 5
  suspend: true
  timeZone: Europe/Paris
"#;

const JOBS_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.migrate]
kind = "job"
image = "acme/migrate"
tag = "5.0.0"
args = ["up"]
hook = { phase = "PreSync" }
job = { backoff_limit = 0, ttl_after_finished = 600 }

[services.seed]
kind = "job"
image = "acme/seed"
tag = "1.0.0"
args = ["--once"]
job = { backoff_limit = 1 }
"#;

const MIGRATE_JOB: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: batch/v1
kind: Job
metadata:
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
  labels:
    app.kubernetes.io/instance: migrate
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: migrate
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "5.0.0"
  name: migrate
  namespace: migrate
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
        kgen.dev/config-hash: "74e31a3ef91bf892"
      labels:
        app.kubernetes.io/instance: migrate
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: migrate
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "5.0.0"
    spec:
      containers:
      - args:
        - up
        envFrom:
        - configMapRef:
            name: migrate-config
        image: registry.example.com/acme/migrate:5.0.0
        imagePullPolicy: IfNotPresent
        name: migrate
        resources:
          limits:
            cpu: 500m
            memory: 256Mi
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
      restartPolicy: OnFailure
      securityContext:
        fsGroup: 10001
        runAsGroup: 10001
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: migrate
      volumes:
      - emptyDir: {}
        name: tmp
  ttlSecondsAfterFinished: 600
"#;

const SEED_JOB: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: batch/v1
kind: Job
metadata:
  labels:
    app.kubernetes.io/instance: seed
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: seed
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: seed-bf42c1ba
  namespace: seed
spec:
  backoffLimit: 1
  template:
    metadata:
      annotations:
        kgen.dev/config-hash: "8c315d73d4eb141a"
      labels:
        app.kubernetes.io/instance: seed
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: seed
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "1.0.0"
    spec:
      containers:
      - args:
        - "--once"
        envFrom:
        - configMapRef:
            name: seed-config
        image: registry.example.com/acme/seed:1.0.0
        imagePullPolicy: IfNotPresent
        name: seed
        resources:
          limits:
            cpu: 500m
            memory: 256Mi
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
      restartPolicy: OnFailure
      securityContext:
        fsGroup: 10001
        runAsGroup: 10001
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: seed
      volumes:
      - emptyDir: {}
        name: tmp
"#;

const DAEMONSETS_PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.agent]
kind = "daemonset"
image = "acme/agent"
tag = "0.9.0"
probes = { liveness = "/healthz", readiness = "/healthz" }
node_selector = { "kubernetes.io/os" = "linux" }
tolerations = [{ operator = "Exists" }]
rollout = { max_unavailable = "10%" }

[services.collector]
kind = "daemonset"
image = "acme/collector"
tag = "0.9.0"
port = 4317
probes = { liveness = { grpc = 4317 }, readiness = { grpc = 4317 } }
rollout = { max_surge = 1, max_unavailable = 0 }
"#;

const AGENT_DAEMONSET: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: apps/v1
kind: DaemonSet
metadata:
  labels:
    app.kubernetes.io/instance: agent
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: agent
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "0.9.0"
  name: agent
  namespace: agent
spec:
  selector:
    matchLabels:
      app.kubernetes.io/instance: agent
      app.kubernetes.io/name: agent
  template:
    metadata:
      annotations:
        kgen.dev/config-hash: e1d84138a5ea2350
      labels:
        app.kubernetes.io/instance: agent
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: agent
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "0.9.0"
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: agent-config
        image: registry.example.com/acme/agent:0.9.0
        imagePullPolicy: IfNotPresent
        livenessProbe:
          httpGet:
            path: /healthz
            port: http
        name: agent
        ports:
        - containerPort: 8080
          name: http
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
        resources:
          limits:
            cpu: 500m
            memory: 256Mi
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
      nodeSelector:
        kubernetes.io/os: linux
      securityContext:
        fsGroup: 10001
        runAsGroup: 10001
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: agent
      tolerations:
      - operator: Exists
      volumes:
      - emptyDir: {}
        name: tmp
  updateStrategy:
    rollingUpdate:
      maxUnavailable: 10%
    type: RollingUpdate
"#;

const COLLECTOR_DAEMONSET: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: apps/v1
kind: DaemonSet
metadata:
  labels:
    app.kubernetes.io/instance: collector
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: collector
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "0.9.0"
  name: collector
  namespace: collector
spec:
  selector:
    matchLabels:
      app.kubernetes.io/instance: collector
      app.kubernetes.io/name: collector
  template:
    metadata:
      annotations:
        kgen.dev/config-hash: e1d84138a5ea2350
      labels:
        app.kubernetes.io/instance: collector
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: collector
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "0.9.0"
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: collector-config
        image: registry.example.com/acme/collector:0.9.0
        imagePullPolicy: IfNotPresent
        livenessProbe:
          grpc:
            port: 4317
        name: collector
        ports:
        - containerPort: 4317
          name: http
          protocol: TCP
        readinessProbe:
          grpc:
            port: 4317
        resources:
          limits:
            cpu: 500m
            memory: 256Mi
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
      securityContext:
        fsGroup: 10001
        runAsGroup: 10001
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: collector
      volumes:
      - emptyDir: {}
        name: tmp
  updateStrategy:
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
    type: RollingUpdate
"#;

const COLLECTOR_SERVICE: &str = r#"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: v1
kind: Service
metadata:
  labels:
    app.kubernetes.io/instance: collector
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: collector
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "0.9.0"
  name: collector
  namespace: collector
spec:
  ports:
  - name: http
    port: 4317
    protocol: TCP
    targetPort: http
  selector:
    app.kubernetes.io/instance: collector
    app.kubernetes.io/name: collector
  type: ClusterIP
"#;

/// A node agent that reads the node: its hostPath (a patch, KG206 waived) is refused
/// by its namespace's `restricted` level until the service sets
/// `pod_security = "privileged"` (KG117; newcomer review 17, #2); a namespace shared
/// with another service enforces the least strict level of the two.
#[test]
fn a_node_agent_needs_a_privileged_namespace() {
    let agent = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.node-logs]
kind = "daemonset"
image = "acme/logs"
tag = "1.0.0"
probes = { liveness = { exec = ["true"] }, readiness = { exec = ["true"] } }
waivers = [{ rule = "KG206", reason = "a node log agent reads /var/log" }]

[services.node-logs.patches.varlog]
kind = "DaemonSet"
json = [
  { op = "add", path = "/spec/template/spec/volumes/-", value = { name = "varlog", hostPath = { path = "/var/log", type = "Directory" } } },
  { op = "add", path = "/spec/template/spec/containers/0/volumeMounts/-", value = { name = "varlog", mountPath = "/var/log", readOnly = true } },
]
"#;
    let p = Platform::new(agent, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        r#"error[KG117]: volume `varlog` mounts a directory of the node (hostPath), which namespace `node-logs` refuses at its Pod Security level `restricted`: DaemonSet `node-logs` would create no pod
  --> platform.toml:19:65
   |
19 |   { op = "add", path = "/spec/template/spec/volumes/-", value = { name = "varlog", hostPath = { path = "/var/log", type = "Directory" } } },
   |                                                                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/dev/node-logs/daemonset.yaml: spec.template.spec.volumes[1].hostPath
   = help: a node agent that needs the node: set `pod_security = "privileged"` on service `node-logs` (its namespace then admits such pods), with KG206 waived and its reason; otherwise remove the host access

error: 1 error and 0 warnings; nothing was written
"#
    );
    let privileged = agent.replace(
        "tag = \"1.0.0\"\n",
        "tag = \"1.0.0\"\npod_security = \"privileged\"\n",
    );
    let p = Platform::new(&privileged, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    let ns = object(&p, "dev/node-logs/namespace.yaml");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "privileged"
    );
    // `kgen validate` on the tree honours the waiver kgen wrote in the header.
    let out = p.kgen(&["validate", "generated"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("KG206"), "{}", out.stderr);
    assert_eq!(
        ns["metadata"]["annotations"]["kgen.dev/waive-KG215"],
        "pod_security = \"privileged\" of service `node-logs`, for pods that use the node"
    );
    // Sharing the namespace with a restricted service: the namespace (now the
    // cluster's) is privileged, and says which service asks for it.
    let shared = privileged.replace("kind = \"daemonset\"\n", "kind = \"daemonset\"\nnamespace = \"agents\"\n")
        + "\n[services.web]\nimage = \"acme/web\"\ntag = \"1.0.0\"\nnamespace = \"agents\"\nprobes = { liveness = \"/health\", readiness = \"/ready\" }\n";
    let p = Platform::new(&shared, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ns = object(&p, "clusters/dev/namespaces/agents.yaml");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "privileged"
    );
    assert_eq!(
        ns["metadata"]["annotations"]["kgen.dev/waive-KG215"],
        "pod_security = \"privileged\" of service `node-logs`, for pods that use the node"
    );
    // Not in [defaults]: it would loosen every service's namespace.
    let defaults = privileged.replace(
        "[services.node-logs]\n",
        "[defaults]\npod_security = \"privileged\"\n\n[services.node-logs]\n",
    );
    let out = Platform::new(&defaults, &[]).kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error[KG019]: pod_security cannot be set in [defaults]: it would loosen the namespace of every service\n"),
        "{}",
        out.stderr
    );
}

/// A pod run as root with KG203 waived: `restricted` refuses it (KG117), `baseline`
/// admits it. Unwaived, KG203 alone reports it.
#[test]
fn a_root_pod_needs_a_namespace_that_admits_root() {
    let base = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.legacy]
kind = "worker"
image = "acme/legacy"
tag = "1.0.0"
probes = { liveness = { exec = ["true"] }, readiness = { exec = ["true"] } }
waivers = [{ rule = "KG203", reason = "the vendor image runs as root" }]

[services.legacy.patches.root]
kind = "Deployment"
json = [
  { op = "replace", path = "/spec/template/spec/securityContext/runAsUser", value = 0 },
  { op = "replace", path = "/spec/template/spec/securityContext/runAsNonRoot", value = false },
  { op = "replace", path = "/spec/template/spec/containers/0/securityContext/runAsNonRoot", value = false },
]
"#;
    let p = Platform::new(base, &[]);
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let heads: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(
        heads,
        [
            "error[KG117]: the pods run as root (runAsUser: 0), which namespace `legacy` refuses at its Pod Security level `restricted`: Deployment `legacy` would create no pod",
            "error[KG117]: the pods may run as root (runAsNonRoot: false), which namespace `legacy` refuses at its Pod Security level `restricted`: Deployment `legacy` would create no pod",
            "error[KG117]: container `legacy` may run as root (runAsNonRoot is not true), which namespace `legacy` refuses at its Pod Security level `restricted`: Deployment `legacy` would create no pod",
            "error: 3 errors and 0 warnings",
        ],
        "{}",
        out.stderr
    );
    // In a user namespace (hostUsers: false), root in the pod is not the node's:
    // `restricted` admits it (pod-security-admission's relaxPolicyForUserNamespacePod).
    let user_namespace = base.replace(
        "json = [\n",
        "json = [\n  { op = \"add\", path = \"/spec/template/spec/hostUsers\", value = false },\n",
    );
    // User namespaces are on by default from Kubernetes 1.33 (KG118 before).
    let out = Platform::new(&user_namespace, &[]).kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error[KG118]: `hostUsers` needs the feature gate UserNamespacesSupport, on by default from Kubernetes 1.33; the cluster runs 1.29"),
        "{}",
        out.stderr
    );
    let user_namespace = user_namespace.replace(
        "[environments.dev]\nsync = \"auto\"\n",
        "[clusters.dev]\nkubernetes_version = \"1.33\"\n\n[environments.dev]\ncluster = \"dev\"\nsync = \"auto\"\n",
    );
    let out = Platform::new(&user_namespace, &[]).kgen(&["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let baseline = base.replace(
        "tag = \"1.0.0\"\n",
        "tag = \"1.0.0\"\npod_security = \"baseline\"\n",
    );
    let out = Platform::new(&baseline, &[]).kgen(&["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Without the waiver, KG203 says it, and KG117 does not repeat it.
    let unwaived = base.replace(
        "waivers = [{ rule = \"KG203\", reason = \"the vendor image runs as root\" }]\n",
        "",
    );
    let out = Platform::new(&unwaived, &[]).kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("error[KG203]"), "{}", out.stderr);
    assert!(!out.stderr.contains("KG117"), "{}", out.stderr);
}

/// A service's `files` too large for client-side apply's last-applied annotation
/// (256 KiB of annotations in all) make its ConfigMap apply server-side; smaller ones
/// keep the default (k8s21 review, A3). A hand-written one of that size without the
/// option is KG110.
#[test]
fn large_files_apply_server_side() {
    let content = "line of a large file\n".repeat(13_000);
    let text = DEPLOYMENT_PLATFORM.replacen(
        "files = { \"app.yaml\" = { path = \"/etc/api/app.yaml\", content = \"listen: 8080\\nenv: {{ env.name }}\" } }",
        &format!("files = {{ \"app.yaml\" = {{ path = \"/etc/api/app.yaml\", content = {content:?} }} }}"),
        1,
    );
    assert_ne!(text, DEPLOYMENT_PLATFORM);
    let p = Platform::new(&text, &[]);
    render(&p);
    let cm = object(&p, "dev/api/configmap-files.yaml");
    assert_eq!(
        cm["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
        "ServerSideApply=true"
    );
    // 8,000 lines (168,000 bytes, 176,000 as JSON) fit.
    let small = text.replace(
        &format!("{content:?}"),
        &format!("{:?}", "line of a large file\n".repeat(8_000)),
    );
    assert_ne!(small, text);
    let p = Platform::new(&small, &[]);
    render(&p);
    let cm = object(&p, "dev/api/configmap-files.yaml");
    assert!(cm["metadata"]["annotations"]
        .get("argocd.argoproj.io/sync-options")
        .is_none());

    // HTML is larger in the annotation: Go's JSON encoder writes `<`, `>` and `&` as
    // `\u003c` and the like (verification review 22).
    let html = "<a>&</a>".repeat(12_000);
    let p = Platform::new(
        &text.replace(&format!("{content:?}"), &format!("{html:?}")),
        &[],
    );
    render(&p);
    let cm = object(&p, "dev/api/configmap-files.yaml");
    assert_eq!(
        cm["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
        "ServerSideApply=true"
    );

    let p = Platform::empty();
    p.write(
        "big.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: x\ndata:\n  a.txt: {content:?}\n"
        ),
    );
    let out = p.kgen(&["validate", "big.yaml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with("error[KG110]: the ConfigMap's data takes about 286011 bytes as JSON: Argo CD applies it client-side, which copies the object into its last-applied-configuration annotation, and the API server refuses more than 262144 bytes of annotations\n"),
        "{}",
        out.stderr
    );
    p.write(
        "big.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: x\n  annotations:\n    argocd.argoproj.io/sync-options: ServerSideApply=true\ndata:\n  a.txt: {content:?}\n"
        ),
    );
    let out = p.kgen(&["validate", "big.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// `service.app_protocol` names the protocol of `http` on the Service and the headless
/// Service (a database's `tcp`, so that a mesh does not parse it as HTTP by its name;
/// newcomer review 19); a value that is not a qualified name is refused at its line.
#[test]
fn the_main_port_s_app_protocol() {
    let text = STATEFULSET_PLATFORM.replace(
        "port = 5432\n",
        "port = 5432\nservice = { app_protocol = \"tcp\" }\n",
    );
    let p = Platform::new(&text, &[]);
    render(&p);
    for file in ["dev/db/service.yaml", "dev/db/service-headless.yaml"] {
        let service = object(&p, file);
        assert_eq!(service["spec"]["ports"][0]["name"], "http", "{file}");
        assert_eq!(service["spec"]["ports"][0]["appProtocol"], "tcp", "{file}");
    }
    let text = STATEFULSET_PLATFORM.replace(
        "port = 5432\n",
        "port = 5432\nservice = { app_protocol = \"postgres sql\" }\n",
    );
    let err = common::fails(&text, &[]);
    assert!(
        err.starts_with("error[KG106]: `service.app_protocol`: \"postgres sql\" is not a valid appProtocol: it must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit\n  --> platform.toml:14:28\n"),
        "{err}"
    );
}

/// A log shipper as platform.md's node agent, on a cluster dev and staging share.
const SHARED_CLUSTER_AGENT: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[clusters.nonprod]
server = "https://nonprod.example.com"

[clusters.prod]
server = "https://prod.example.com"

[environments.dev]
cluster = "nonprod"
namespace = "dev-{{ service }}"
sync = "auto"

[environments.staging]
cluster = "nonprod"
namespace = "staging-{{ service }}"
sync = "auto"

[environments.prod]
cluster = "prod"
sync = "manual"

[services.log-shipper]
kind = "daemonset"
image = "acme/log-shipper"
tag = "1.0.0"
probes = { liveness = "/healthz", readiness = "/healthz" }
"#;

/// Newcomer review 33, F5: a daemonset enabled in two environments of one cluster runs
/// twice on each node: KG217, a warning at its `kind`, with the fixes; not when all but
/// one environment disable it, when their node selectors differ on a key both set, or
/// when the service waives it; environments on clusters of their own are fine.
#[test]
fn a_daemonset_in_two_environments_of_one_cluster_is_kg217() {
    let p = Platform::new(SHARED_CLUSTER_AGENT, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        r#"warning[KG217]: daemonset `log-shipper` runs twice on each node of cluster `nonprod`: environments dev and staging both deploy it there, onto the same nodes
  --> platform.toml:27:8
   |
27 | kind = "daemonset"
   |        ^^^^^^^^^^^ one DaemonSet per environment
   = help: a node agent belongs once on each node: keep it in one environment (`enabled = false` under `[services.log-shipper]` in overlays/staging.toml), give each environment a `node_selector` of its own node pool, or install it once per cluster (the `fluent-bit` add-on, docs/addons.md, or `manifests/clusters/nonprod/<component>/`); or waive KG217 with a reason

"#
    );
    // A run of prod alone does not show it; one of staging does.
    let out = p.kgen(&["render", "--env", "prod"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let out = p.kgen(&["render", "--env", "staging"]);
    assert!(out.stderr.starts_with("warning[KG217]"), "{}", out.stderr);

    // Disabled in staging.
    let p = Platform::new(
        SHARED_CLUSTER_AGENT,
        &[("staging", "[services.log-shipper]\nenabled = false\n")],
    );
    let out = p.kgen(&["render"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));

    // A node pool each: the selectors differ on `pool`.
    let p = Platform::new(
        SHARED_CLUSTER_AGENT,
        &[
            ("dev", "[services.log-shipper]\nnode_selector = { pool = \"dev\" }\n"),
            (
                "staging",
                "[services.log-shipper]\nnode_selector = { pool = \"staging\", \"kubernetes.io/os\" = \"linux\" }\n",
            ),
        ],
    );
    let out = p.kgen(&["render"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));

    // Selectors on different keys may pick the same node.
    let p = Platform::new(
        SHARED_CLUSTER_AGENT,
        &[(
            "dev",
            "[services.log-shipper]\nnode_selector = { pool = \"dev\" }\n",
        )],
    );
    let out = p.kgen(&["render"]);
    assert!(out.stderr.starts_with("warning[KG217]"), "{}", out.stderr);

    // Waived on the service.
    let waived = SHARED_CLUSTER_AGENT.replace(
        "probes = { liveness = \"/healthz\", readiness = \"/healthz\" }\n",
        "probes = { liveness = \"/healthz\", readiness = \"/healthz\" }\nwaivers = [{ rule = \"KG217\", reason = \"each environment ships its own namespaces' logs only\" }]\n",
    );
    let p = Platform::new(&waived, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));

    // Waived for the whole platform (verification review 34, F6).
    let waived = SHARED_CLUSTER_AGENT.replace(
        "registry = \"registry.example.com\"\n",
        "registry = \"registry.example.com\"\nwaivers = [{ rule = \"KG217\", reason = \"each environment ships its own namespaces' logs only\" }]\n",
    );
    let p = Platform::new(&waived, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}
