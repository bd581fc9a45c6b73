//! Offline sync admission (KG301–KG307): what Argo CD would refuse when it syncs
//! kgen's output, refused by kgen before anything is written. Each test reproduces the
//! failure the real Argo CD shows, and cites the part of Argo CD's source it follows
//! (v3.6; see src/admission/).

mod common;

use common::{fails, Platform, GRAFANA_ADMIN, MINIMAL, MINIMAL_WARNINGS};
use kgen::admission::{self, Inventory};
use kgen::compile::compile_with_objects;
use kgen::render::Object;
use kgen::Workspace;

/// The platform this repository described before clusters were declared: dev and
/// staging on the same API server with the same namespaces. Its clusters provide the
/// monitoring stack's StorageClass (`gp3`, the default), so that no KG032 warning
/// (docs/baseline.md) mixes in with what these tests are about.
fn two_environments_one_server() -> String {
    format!(
        "{MINIMAL}probes = {{ liveness = \"/health\", readiness = \"/ready\" }}\n\n[monitoring]\nchart_version = \"77.0.0\"\n\n[baseline]\nprovided = {{ storage_classes = [\"gp3\"] }}\n{GRAFANA_ADMIN}"
    )
    .replace(
        "[environments.dev]\nsync = \"auto\"\n",
        "[environments.dev]\nsync = \"auto\"\n\n[environments.staging]\nsync = \"auto\"\n",
    )
}

// Argo CD: two Applications tracking one object fight over it; the controller only
// reports `SharedResourceWarning` once the object exists with the other's tracking id
// (controller/state.go), and both keep applying their version.
#[test]
fn two_environments_on_one_cluster_with_the_same_namespaces_are_refused() {
    let err = fails(&two_environments_one_server(), &[]);
    assert_eq!(
        err,
        "error[KG303]: Namespace `monitoring` would be managed by two Argo CD Applications on cluster `https://kubernetes.default.svc`: `dev-monitoring` and `staging-monitoring`; each sync would overwrite the other's (SharedResourceWarning)
 --> platform.toml:9:15
  |
9 | [environments.staging]
  |               ^^^^^^^
  = in: generated/clusters/staging/monitoring/namespace.yaml: metadata.name
  = help: `dev` and `staging` are one cluster (the same server): declare it once under [clusters.<name>] and set `cluster = \"<name>\"` in both environments, so what runs once per cluster is rendered once (see docs/platform.md#clusters)

error[KG303]: the kube-prometheus-stack chart of `dev-monitoring` and that of `staging-monitoring` would both create ClusterRole `kube-prometheus-stack-admission` on cluster `https://kubernetes.default.svc`: one cluster runs one release of it
 --> platform.toml:9:15
  |
9 | [environments.staging]
  |               ^^^^^^^
  = in: generated/argocd/staging/application-monitoring.yaml: spec.sources
  = help: declare the cluster once under [clusters] so that its monitoring stack is rendered once (see docs/platform.md#clusters)

error[KG303]: Namespace `api` and 6 more object(s) would be managed by two Argo CD Applications on cluster `https://kubernetes.default.svc`: `dev-api` and `staging-api`; each sync would overwrite the other's (SharedResourceWarning)
  --> platform.toml:12:11
   |
12 | [services.api]
   |           ^^^
   = in: generated/staging/api/namespace.yaml: metadata.name
   = help: environments `dev` and `staging` share the cluster: give each its own namespaces, e.g. `namespace = \"{{ env.name }}-{{ service }}\"` under [environments.staging] (see docs/platform.md#clusters)

error: 3 errors and 0 warnings; nothing was written
"
    );
}

/// The error is at the environment whose namespaces are named after the other one,
/// even when it comes first (newcomer review 11, #1).
#[test]
fn a_namespace_named_after_the_other_environment_is_blamed_on_its_own() {
    let text = two_environments_one_server()
        .replace(
            "[environments.dev]\n",
            "[clusters.nonprod]\nkubernetes_version = \"1.30\"\n\n[environments.dev]\ncluster = \"nonprod\"\nnamespace = \"staging-{{ service }}\"\n",
        )
        .replace(
            "[environments.staging]\n",
            "[environments.staging]\ncluster = \"nonprod\"\nnamespace = \"{{ env.name }}-{{ service }}\"\n",
        );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG303]: Namespace `staging-api` and 6 more object(s) would be managed by two Argo CD Applications on cluster `https://kubernetes.default.svc`: `dev-api` and `staging-api`; each sync would overwrite the other's (SharedResourceWarning)
  --> platform.toml:11:13
   |
11 | namespace = "staging-{{ service }}"
   |             ^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/dev/api/namespace.yaml: metadata.name
   = help: environments `dev` and `staging` share the cluster, and `staging-api` is named after `staging`: give `dev` namespaces of its own, e.g. `namespace = "{{ env.name }}-{{ service }}"` under [environments.dev] (see docs/platform.md#clusters)

error: 1 error and 0 warnings; nothing was written
"#
    );
}

/// Named after both (`dev-eu-api` holds `dev` and `dev-eu`): after the longer, so the
/// error is `dev`'s (verification 13, #2).
#[test]
fn a_namespace_named_after_both_environments_is_the_longer_ones() {
    let text = two_environments_one_server()
        .replace("[environments.staging]\n", "[environments.dev-eu]\n")
        .replace(
            "[environments.dev]\n",
            "[clusters.nonprod]\nkubernetes_version = \"1.30\"\n\n[environments.dev]\ncluster = \"nonprod\"\nnamespace = \"dev-eu-{{ service }}\"\n",
        )
        .replace(
            "[environments.dev-eu]\n",
            "[environments.dev-eu]\ncluster = \"nonprod\"\nnamespace = \"dev-eu-{{ service }}\"\n",
        );
    let err = fails(&text, &[]);
    let help = err
        .lines()
        .find(|l| l.contains("= help:"))
        .unwrap_or_default();
    assert_eq!(
        help,
        r#"   = help: environments `dev` and `dev-eu` share the cluster, and `dev-eu-api` is named after `dev-eu`: give `dev` namespaces of its own, e.g. `namespace = "{{ env.name }}-{{ service }}"` under [environments.dev] (see docs/platform.md#clusters)"#
    );
}

#[test]
fn one_declared_cluster_hosting_two_environments_renders_one_monitoring_stack() {
    let text = two_environments_one_server()
        .replace(
            "[environments.dev]\n",
            "[clusters.nonprod]\nkubernetes_version = \"1.30\"\n\n[environments.dev]\ncluster = \"nonprod\"\nnamespace = \"dev-{{ service }}\"\n",
        )
        .replace(
            "[environments.staging]\n",
            "[environments.staging]\ncluster = \"nonprod\"\nnamespace = \"staging-{{ service }}\"\n",
        );
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    let files: Vec<String> = p
        .generated()
        .into_iter()
        .map(|(f, _)| f)
        .filter(|f| !f.starts_with("dev/") && !f.starts_with("staging/"))
        .collect();
    assert_eq!(
        files,
        [
            "argocd/cmp/plugin.yaml",
            "argocd/nonprod/application-monitoring.yaml",
            "argocd/nonprod/applicationset-dev.yaml",
            "argocd/nonprod/applicationset-staging.yaml",
            "argocd/nonprod/appproject-dev.yaml",
            "argocd/nonprod/appproject-nonprod.yaml",
            "argocd/nonprod/appproject-staging.yaml",
            "argocd/nonprod/bootstrap.yaml",
            "clusters/nonprod/monitoring/namespace.yaml",
            "terraform/nonprod.json",
            "values/nonprod/monitoring.yaml",
        ]
    );
    // Both environments' ServiceMonitors are there, for the one stack.
    assert!(p.exists("generated/dev/api/prometheusrule.yaml"));
    assert!(p.exists("generated/staging/api/prometheusrule.yaml"));
    // The same platform in plugin mode passes the same checks.
    let plugin = text.replace(
        "[platform]\n",
        "[argocd]\nmode = \"plugin\"\n\n[platform]\n",
    );
    let p = Platform::new(&plugin, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

// Argo CD: an Application whose project does not exist gets the condition
// "Application referencing project X which does not exist" (controller/appcontroller.go,
// projectErrorToCondition) and never syncs; kgen writes each project in the bootstrap
// of its one cluster, so a project two clusters use cannot be in both.
#[test]
fn a_project_used_on_two_clusters_is_refused() {
    let text = MINIMAL.replace(
        "[environments.dev]\nsync = \"auto\"\n",
        "[environments.dev]\nsync = \"auto\"\nproject = \"apps\"\n\n[environments.prod]\ncluster = \"https://prod.example.com\"\nproject = \"apps\"\n",
    );
    let err = fails(&text, &[]);
    assert_eq!(
        err,
        "error[KG301]: Argo CD project `apps` is used on 2 clusters: environment `dev` on cluster `dev`; environment `prod` on cluster `prod`
  --> platform.toml:10:15
   |
10 | [environments.prod]
   |               ^^^^
   = help: kgen writes each project in the bootstrap of the one cluster that uses it (so each bootstrap alone is syncable): give each cluster its own project, e.g. `project = \"<cluster>-apps\"`, or place these environments on one cluster under [clusters]

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"
    );
}

// Argo CD keeps one Application per name in its namespace; the ApplicationSet
// controller creates neither of two generated Applications with one name
// (applicationset/controllers/applicationset_controller.go, validateGeneratedApplications).
#[test]
fn application_names_that_collide_are_refused() {
    // A service named `bootstrap` next to the bootstrap Application.
    let text = format!("{MINIMAL}\n[services.bootstrap]\nimage = \"acme/b\"\ntag = \"1.0.0\"\n");
    let err = fails(&text, &[]);
    assert!(
        err.contains("error[KG305]: two Argo CD Applications would be named `dev-bootstrap`: service `bootstrap` of environment `dev` and `dev-bootstrap` (generated/argocd/dev/bootstrap.yaml)\n")
            || err.contains("error[KG305]: two Argo CD Applications would be named `dev-bootstrap`: `dev-bootstrap` (generated/argocd/dev/bootstrap.yaml) and service `bootstrap` of environment `dev`\n"),
        "{err}"
    );
    // At the service, whose name can change (newcomer review 13).
    assert!(
        err.contains("and service `bootstrap` of environment `dev`\n  --> platform.toml:14:11\n")
            || err.contains("(generated/argocd/dev/bootstrap.yaml)\n  --> platform.toml:14:11\n"),
        "{err}"
    );
    // Environment `dev-main` with service `api` and environment `dev` with service `main-api`.
    let text = format!(
        "{MINIMAL}\n[services.main-api]\nimage = \"acme/m\"\ntag = \"1.0.0\"\n\n[environments.dev-main]\ncluster = \"https://main.example.com\"\n"
    );
    let err = fails(&text, &[]);
    assert!(
        err.contains("two Argo CD Applications would be named `dev-main-api`: service `main-api` of environment `dev` and service `api` of environment `dev-main`"),
        "{err}"
    );
}

#[test]
fn application_names_longer_than_a_label_value_are_refused() {
    let long = "a".repeat(60);
    let text = MINIMAL.replace("[services.api]", &format!("[services.{long}]"));
    let err = fails(&text, &[]);
    assert!(
        err.contains(&format!(
            "error[KG305]: Argo CD Application name `dev-{long}` is 64 characters; with label tracking Argo CD writes it as the `app.kubernetes.io/instance` label, which holds at most 63"
        )),
        "{err}"
    );
}

/// Compiles the repository's platform, returning the spec and every object.
fn example_objects() -> (kgen::spec::PlatformSpec, Vec<Object>) {
    let p = Platform::example();
    let ws = Workspace::load(&p.path().join("platform.toml")).unwrap();
    let (compiled, objects) = compile_with_objects(&ws, &[]).unwrap();
    (compiled.run.spec, objects)
}

fn admission_of(spec: &kgen::spec::PlatformSpec, objects: &[Object]) -> Vec<String> {
    let mut inv = Inventory::default();
    inv.record(objects);
    // As the render reports them: the same finding in several environments once.
    let report = kgen::validate::Report {
        diagnostics: admission::check(spec, inv, &|_| true),
        ..Default::default()
    };
    kgen::validate::finish(report)
        .diagnostics
        .into_iter()
        .map(|d| {
            format!(
                "{}[{}]: {}",
                if d.is_error() { "error" } else { "warning" },
                d.code,
                d.message
            )
        })
        .collect()
}

/// `text` with `from` (which must be there, once) replaced by `to`.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} once in:\n{text}");
    text.replacen(from, to, 1)
}

/// Compiles `text` as a copy of the repository's platform (with its overlays) and
/// returns what admission finds.
fn admission_of_example_with(text: &str) -> Vec<String> {
    let p = Platform::example();
    p.write("platform.toml", text);
    let ws = Workspace::load(&p.path().join("platform.toml")).unwrap();
    let (compiled, objects) = compile_with_objects(&ws, &[]).unwrap();
    admission_of(&compiled.run.spec, &objects)
}

// The repository's platform runs the Secrets Store CSI driver preset, which installs the
// CRD of the services' SecretProviderClasses (so no KG306), and its projects admit
// everything its add-ons and the monitoring stack create.
#[test]
fn the_example_platform_passes_without_warnings() {
    let (spec, objects) = example_objects();
    assert_eq!(admission_of(&spec, &objects), Vec::<String>::new());
}

// With the Secrets Store CSI driver and its AWS provider as add-ons (bootstrap wave -3,
// before the services' ApplicationSets), the CRD of the services' SecretProviderClasses
// is installed first, and the projects admit everything the two charts create; without
// them (the repository's platform less its two presets), nothing installs the CRD.
#[test]
fn the_secrets_store_csi_driver_preset_installs_the_crd_the_services_use() {
    let p = Platform::example();
    let text = p.read("platform.toml");
    let presets = "[addons.secrets-store-csi-driver]\nchart_version = \"1.5.6\"\n\n[addons.secrets-store-csi-driver-provider-aws]\nchart_version = \"3.1.1\"\n\n";
    assert_eq!(admission_of_example_with(&text), Vec::<String>::new());
    assert_eq!(
        admission_of_example_with(&edit(&text, presets, "")),
        ["warning[KG306]: SecretProviderClass (secrets-store.csi.x-k8s.io) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap generated/argocd/nonprod/, generated/argocd/prod/): the apply fails until the CRD exists"]
    );
}

// The node agents and autoscalers together on every cluster: their footprints fit the
// projects kgen writes, and no two charts create the same object.
#[test]
fn the_node_and_autoscaling_presets_are_admitted_together() {
    // The repository's platform already runs the CSI driver, its AWS provider and the
    // Cluster Autoscaler: set their tables' settings in place, add Fluent Bit and Karpenter.
    let p = Platform::example();
    let text = p.read("platform.toml");
    let text = edit(
        &text,
        "[addons.secrets-store-csi-driver]\nchart_version = \"1.5.6\"\n",
        "[addons.secrets-store-csi-driver]\nchart_version = \"1.5.6\"\nsync_secrets = true\nrotation_interval = \"2m\"\n",
    );
    let text = edit(
        &text,
        "[addons.cluster-autoscaler]\nchart_version = \"9.59.0\"\n",
        "[addons.cluster-autoscaler]\nchart_version = \"9.59.0\"\nregion = \"eu-west-1\"\n",
    );
    let text = text
        + "
[addons.fluent-bit]
chart_version = \"0.2.0\"
region = \"eu-west-1\"
iam_role = \"arn:aws:iam::123456789012:role/fluent-bit\"

[addons.karpenter]
chart_version = \"1.14.1\"
cluster_name = \"kontaxa-{{ cluster.name }}\"
iam_role = \"arn:aws:iam::123456789012:role/karpenter\"
";
    p.write("platform.toml", &text);
    let ws = Workspace::load(&p.path().join("platform.toml")).unwrap();
    let (compiled, objects) = compile_with_objects(&ws, &[]).unwrap();
    assert_eq!(
        admission_of(&compiled.run.spec, &objects),
        Vec::<String>::new()
    );
    // Nor does KG215 flag `logging`, privileged for Fluent Bit: the only warnings are
    // that each cluster runs both node autoscalers (KG035).
    let warnings: Vec<&str> = compiled.run.warnings.iter().map(|d| d.code).collect();
    assert_eq!(warnings, ["KG035", "KG035"]);
}
// The monitoring Application could not sync: kube-prometheus-stack puts the CoreDNS
// and kube-proxy exporter Services in kube-system, which the project did not permit.
// Argo CD checks every resource's own namespace at sync time (controller/sync.go,
// validateSyncPermissions → AppProject.IsDestinationPermitted) and fails the whole
// operation ("namespace kube-system is not permitted in project ..."). The repository's
// platform also runs add-ons in kube-system (the Cluster Autoscaler, metrics-server, the
// Secrets Store CSI driver and its AWS provider) or whose charts write there
// (cert-manager's leader-election Role): each is refused too (an add-on released into
// kube-system for its destination and for its chart's objects), each finding once.
#[test]
fn a_project_that_does_not_admit_what_the_chart_creates_is_refused() {
    let (spec, mut objects) = example_objects();
    for o in &mut objects {
        if o.kind() == "AppProject" {
            let dests = o.value["spec"]["destinations"].as_array_mut().unwrap();
            dests.retain(|d| d["namespace"] != "kube-system");
        }
    }
    let found = admission_of(&spec, &objects);
    let mut want = Vec::new();
    for (cluster, server) in [
        ("nonprod", "https://kubernetes.default.svc"),
        ("prod", "https://prod.eks.kontaxa.io"),
    ] {
        let chart = |chart: &str, app: &str| {
            format!("error[KG302]: the {chart} chart of `{cluster}-{app}` creates objects in namespace `kube-system`, which project `{cluster}` does not permit on `{server}`")
        };
        let app = |app: &str| {
            format!("error[KG302]: Application `{cluster}-{app}` deploys to server `{server}` and namespace `kube-system`, which do not match any destination of project `{cluster}`")
        };
        want.push(chart("cert-manager", "cert-manager"));
        for addon in [
            "cluster-autoscaler",
            "metrics-server",
            "secrets-store-csi-driver",
            "secrets-store-csi-driver-provider-aws",
        ] {
            want.push(app(addon));
            want.push(chart(addon, addon));
        }
        want.push(chart("kube-prometheus-stack", "monitoring"));
    }
    // In the order the render reports them (by file and place).
    let mut want_sorted = want.clone();
    want_sorted.sort();
    let mut found_sorted = found;
    found_sorted.sort();
    assert_eq!(found_sorted, want_sorted);
}

// Argo CD: an empty clusterResourceWhitelist permits no cluster-scoped kind
// (app_project_types.go, IsGroupKindNamePermitted), and a sync with one such resource
// fails before anything is applied ("resource :Namespace is not permitted in project").
#[test]
fn a_cluster_scoped_kind_the_project_does_not_list_is_refused() {
    let (spec, mut objects) = example_objects();
    for o in &mut objects {
        if o.kind() == "AppProject" && o.value["metadata"]["name"] == "dev" {
            o.value["spec"]["clusterResourceWhitelist"] = serde_json::json!([]);
        }
    }
    let found = admission_of(&spec, &objects);
    assert!(
        found.contains(&"error[KG302]: Namespace `dev-aux-service` is a kind project `dev` does not permit (`clusterResourceWhitelist`): Argo CD fails the sync of `dev-aux-service` (\"resource :Namespace is not permitted in project dev\")".to_string()),
        "{found:#?}"
    );
}

// Argo CD creates only the destination namespace, and only from a Namespace in the
// Application or with CreateNamespace=true (gitops-engine sync_context.go,
// autoCreateNamespace / getNamespaceCreationTask); an object in a namespace nothing
// creates fails to apply with `namespaces "x" not found`.
#[test]
fn an_object_whose_namespace_nothing_creates_is_refused() {
    let (spec, mut objects) = example_objects();
    objects.retain(|o| !(o.kind() == "Namespace" && o.path == "prod/main-api/namespace.yaml"));
    let found = admission_of(&spec, &objects);
    assert!(
        found.contains(&"error[KG304]: NetworkPolicy `main-api-default-deny` is in namespace `main-api`, which neither `prod-main-api` nor an Application synced before it creates: the apply fails (namespaces \"main-api\" not found)".to_string()),
        "{found:#?}"
    );
}

// Argo CD reads every .yaml/.yml/.json file of a directory source
// (reposerver/repository/repository.go, findManifests): a file kgen did not write there
// reaches the cluster without kgen's checks.
#[test]
fn a_hand_written_file_in_a_deployed_directory_is_refused() {
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render"]).code, 0);
    p.write(
        "generated/dev/api/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
    );
    let before = p.generated();
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        MINIMAL_WARNINGS.to_string()
            + r#"error[KG307]: generated/dev/api/extra.yaml was not written by kgen, but Argo CD deploys every manifest in its directory: it would reach the cluster without kgen's checks
 --> generated/dev/api/extra.yaml:1:1
  |
1 | apiVersion: v1
  | ^^^^^^^^^^^^^^
  = help: to keep it, move it to `manifests/dev/api/extra.yaml`: kgen then validates it and writes it here with a header (docs/escape-hatch.md); or delete it. kgen will not remove a file it did not write

error: 1 error and 2 warnings; nothing was written
"#
    );
    assert_eq!(p.generated(), before, "nothing may be written");
    // `kgen validate` refuses it as `render` does (newcomer review 8, #1).
    let validate = p.kgen(&["validate"]);
    assert_eq!(validate.code, 2);
    assert_eq!(
        validate.stderr,
        out.stderr.replace("; nothing was written", "")
    );
    let check = p.kgen(&["render", "--check"]);
    assert_eq!(check.code, 1);
    assert_eq!(
        check.stdout,
        "foreign: generated/dev/api/extra.yaml (not written by kgen, in a directory Argo CD deploys)
generated/ is out of date: 0 stale, 0 missing, 0 extra, 1 foreign (move hand-written files out of generated/ first); run `kgen render` and commit the result
"
    );
    // Outside an environment's directory, the help cannot name a place under
    // `manifests/`; the run's warnings come with the error, and are counted.
    std::fs::remove_file(p.path().join("generated/dev/api/extra.yaml")).unwrap();
    p.write(
        "generated/argocd/dev/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
    );
    let warned = p.kgen(&["render"]);
    assert_eq!(warned.code, 2);
    assert_eq!(
        warned.stderr,
        MINIMAL_WARNINGS.to_string()
            + r#"error[KG307]: generated/argocd/dev/extra.yaml was not written by kgen, but Argo CD deploys every manifest in its directory: it would reach the cluster without kgen's checks
 --> generated/argocd/dev/extra.yaml:1:1
  |
1 | apiVersion: v1
  | ^^^^^^^^^^^^^^
  = help: move hand-written manifests out of generated/ (kgen owns that tree; docs/escape-hatch.md says where they go), or delete the file; kgen will not remove a file it did not write

error: 1 error and 2 warnings; nothing was written
"#
    );
    std::fs::remove_file(p.path().join("generated/argocd/dev/extra.yaml")).unwrap();
    // Elsewhere under generated/ (a README) is fine.
    p.write("generated/README.md", "# generated by kgen\n");
    assert_eq!(p.kgen(&["render", "--check"]).code, 0);
}

#[test]
fn every_file_under_an_environment_directory_is_a_kubernetes_object() {
    // What `kubectl apply -R -f generated/<env>` (and every directory-wide validator)
    // reads: each document has apiVersion, kind and metadata.name.
    for (path, text) in common::read_tree(&common::repo_root().join("generated")) {
        let object_dir = !path.starts_with("values/")
            && !path.starts_with("terraform/")
            && path != "argocd/cmp/plugin.yaml";
        if !object_dir {
            assert!(
                text.lines()
                    .nth(1)
                    .is_some_and(|l| l.starts_with("# Not a Kubernetes object: "))
                    || path.ends_with(".json"),
                "{path} is not a Kubernetes object and must say so"
            );
            continue;
        }
        let v: serde_json::Value = serde_norway::from_str(&text).unwrap();
        assert!(
            v["apiVersion"].is_string()
                && v["kind"].is_string()
                && v["metadata"]["name"].is_string(),
            "generated/{path} is not a Kubernetes object"
        );
    }
}

/// A cluster's component moved by `sync_waves` to its operator's wave: KG306's help
/// says which Application installs the CRD, in which wave, and to sync later, instead
/// of to install what is installed (verification of session 14).
#[test]
fn a_component_at_its_operators_wave_is_told_to_sync_later() {
    let text = format!(
        "{MINIMAL}\n[addons.external-secrets]\nchart_version = \"2.9.0\"\niam_role = \"arn:aws:iam::111122223333:role/dev-external-secrets\"\n\n[manifests]\nsync_waves = {{ tools = -3 }}\n"
    );
    let p = Platform::new(&text, &[]);
    p.write(
        "manifests/clusters/dev/tools/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tools\n",
    );
    p.write(
        "manifests/clusters/dev/tools/es.yaml",
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: cfg\n  namespace: tools\nspec:\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: store\n  target:\n    name: cfg\n  data:\n  - secretKey: url\n    remoteRef:\n      key: dev/cfg\n",
    );
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let found = common::diagnostics_with(&out.stderr, "KG306");
    assert_eq!(found.len(), 1, "{}", out.stderr);
    assert!(
        found[0].ends_with("= help: `dev-external-secrets` installs it in sync wave -3, not before `dev-tools` (wave -3): sync `dev-tools` later (a cluster's component: `[manifests] sync_waves`, from -2; an add-on: `sync_wave`) (docs/argocd.md#crds)"),
        "{}",
        found[0]
    );
}

/// Two clusters given the same project for their own Applications (add-ons here): each
/// bootstrap would write the AppProject, so KG301 refuses it at the second cluster's
/// table, naming what uses it (verification review 22, #6; it was a KG303 saying the
/// clusters were one).
#[test]
fn two_clusters_with_one_project_name_are_told_to_rename_one() {
    let text = MINIMAL.replace(
        "[environments.dev]\nsync = \"auto\"\n",
        "[clusters.nonprod]\nproject = \"platform\"\n\n[clusters.prod]\ndestination_name = \"prod\"\nproject = \"platform\"\n\n[environments.dev]\nsync = \"auto\"\ncluster = \"nonprod\"\n\n[environments.prod]\nsync = \"auto\"\ncluster = \"prod\"\n",
    );
    assert_ne!(text, MINIMAL);
    let text = format!("{text}\n[addons.metrics-server]\nchart_version = \"3.13.1\"\n");
    let err = fails(&text, &[]);
    assert!(
        err.starts_with("error[KG301]: Argo CD project `platform` is used on 2 clusters: the add-ons of cluster `nonprod` on cluster `nonprod`; the add-ons of cluster `prod` on cluster `prod`\n --> platform.toml:9:11\n"),
        "{err}"
    );
}
