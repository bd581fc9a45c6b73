//! Argo CD custom resources (`argoproj.io/v1alpha1`): [`Application`],
//! [`ApplicationSet`] and [`AppProject`], restricted to the fields kgen emits.
//!
//! Mirrors the upstream CRDs of argoproj/argo-cd v3.5.1
//! (`manifests/crds/application-crd.yaml`, `applicationset-crd.yaml`,
//! `appproject-crd.yaml`), whose schemas are kept verbatim in
//! `shared/schemas/crds/argoproj.io/application_v1alpha1.json`,
//! `shared/schemas/crds/argoproj.io/applicationset_v1alpha1.json` and
//! `shared/schemas/crds/argoproj.io/appproject_v1alpha1.json`.
//!
//! Field names follow the Go JSON tags upstream (note `repoURL`, `ref`), integer
//! fields are `int64` upstream and `i64` here (including `retry.backoff.factor`,
//! which is an integer, not a float), and status is never emitted.

use super::custom_resource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Annotation ordering resources within an Argo CD sync (a stringified integer).
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
/// Finalizer making Argo CD delete an Application's resources (cascading delete).
pub const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

// ---------------------------------------------------------------------------
// Application
// ---------------------------------------------------------------------------

/// An Argo CD `Application` (`argoproj.io/v1alpha1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Application {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ApplicationSpec,
}
custom_resource!(
    Application,
    ApplicationSpec,
    "argoproj.io/v1alpha1",
    "Application"
);

/// `Application.spec` (also the `spec` of an ApplicationSet's template).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSpec {
    /// The AppProject the application belongs to (`default` if unsure).
    pub project: String,
    /// Single source; mutually exclusive with `sources` in practice.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<ApplicationSource>,
    /// Multiple sources (e.g. a Helm chart plus a `ref` source for value files).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub sources: Vec<ApplicationSource>,
    pub destination: ApplicationDestination,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sync_policy: Option<SyncPolicy>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revision_history_limit: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ignore_differences: Vec<ResourceIgnoreDifferences>,
}

/// Where an application's manifests come from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSource {
    /// Git or Helm repository URL (required upstream).
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Directory inside a Git repository.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    /// Git revision, or Helm chart version when `chart` is set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_revision: Option<String>,
    /// Helm chart name (Helm repositories only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub chart: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub helm: Option<ApplicationSourceHelm>,
    /// Config management plugin to render with.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub plugin: Option<ApplicationSourcePlugin>,
    /// Options of a plain directory of manifests.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub directory: Option<ApplicationSourceDirectory>,
    /// Name under which other sources refer to this one (`$name/values.yaml`).
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none", default)]
    pub ref_: Option<String>,
}

/// Directory options of a source: which files are manifests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSourceDirectory {
    /// Glob of files to include, e.g. `{namespace.yaml}`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub include: Option<String>,
    /// Glob of files to leave out.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exclude: Option<String>,
    /// Whether to descend into subdirectories.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recurse: Option<bool>,
}

/// Helm options of a source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSourceHelm {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub release_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub value_files: Vec<String>,
    /// Helm values as a map; free-form upstream (`x-kubernetes-preserve-unknown-fields`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub values_object: Option<BTreeMap<String, serde_json::Value>>,
}

/// Config management plugin options of a source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSourcePlugin {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub env: Vec<EnvEntry>,
}

/// One plugin environment variable (both fields required upstream).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvEntry {
    pub name: String,
    pub value: String,
}

impl EnvEntry {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Target cluster and namespace (also an AppProject destination).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationDestination {
    /// API server URL, e.g. `https://kubernetes.default.svc`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub server: Option<String>,
    /// Cluster name (alternative to `server`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub namespace: Option<String>,
}

/// `spec.syncPolicy` of an Application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncPolicy {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub automated: Option<SyncPolicyAutomated>,
    /// e.g. `CreateNamespace=false`, `ServerSideApply=true`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub sync_options: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retry: Option<RetryStrategy>,
    /// Labels/annotations for the namespace when `CreateNamespace=true`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub managed_namespace_metadata: Option<ManagedNamespaceMetadata>,
}

/// Automated sync settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncPolicyAutomated {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prune: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub self_heal: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub allow_empty: Option<bool>,
}

/// Retry of failed syncs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryStrategy {
    /// Maximum number of attempts (negative: unlimited).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub backoff: Option<Backoff>,
}

/// Retry backoff; durations are Go duration strings (`5s`, `3m`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Backoff {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration: Option<String>,
    /// Multiplier per attempt; an integer (`int64`) upstream.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub factor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_duration: Option<String>,
}

/// Metadata Argo CD puts on a namespace it creates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedNamespaceMetadata {
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub annotations: BTreeMap<String, String>,
}

/// Differences Argo CD ignores when comparing live and desired state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceIgnoreDifferences {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub group: Option<String>,
    /// Required upstream.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub json_pointers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub jq_path_expressions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub managed_fields_managers: Vec<String>,
}

// ---------------------------------------------------------------------------
// ApplicationSet
// ---------------------------------------------------------------------------

/// An Argo CD `ApplicationSet` (`argoproj.io/v1alpha1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSet {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ApplicationSetSpec,
}
custom_resource!(
    ApplicationSet,
    ApplicationSetSpec,
    "argoproj.io/v1alpha1",
    "ApplicationSet"
);

/// `ApplicationSet.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSetSpec {
    /// Use Go templates (`{{.app}}`) instead of fasttemplate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub go_template: Option<bool>,
    /// e.g. `missingkey=error`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub go_template_options: Vec<String>,
    /// Required upstream, so always serialised.
    pub generators: Vec<ApplicationSetGenerator>,
    pub template: ApplicationSetTemplate,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sync_policy: Option<ApplicationSetSyncPolicy>,
}

/// One generator; kgen only uses the list generator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSetGenerator {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub list: Option<ListGenerator>,
}

impl ApplicationSetGenerator {
    /// A list generator over `elements`.
    pub fn list(elements: Vec<BTreeMap<String, serde_json::Value>>) -> Self {
        Self {
            list: Some(ListGenerator { elements }),
        }
    }
}

/// The list generator: one Application per element.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListGenerator {
    /// Template parameters; each element is free-form upstream
    /// (`x-kubernetes-preserve-unknown-fields`) but must be a map for Argo CD.
    pub elements: Vec<BTreeMap<String, serde_json::Value>>,
}

/// The Application template of an ApplicationSet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSetTemplate {
    pub metadata: ApplicationSetTemplateMeta,
    pub spec: ApplicationSpec,
}

/// The restricted metadata of an ApplicationSet template (upstream allows only
/// these five fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSetTemplateMeta {
    /// Usually a template, e.g. `{{.app}}-{{.env}}`.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub finalizers: Vec<String>,
}

/// `ApplicationSet.spec.syncPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSetSyncPolicy {
    /// Keep the generated Applications' resources when the set is deleted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub preserve_resources_on_deletion: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub applications_sync: Option<ApplicationsSyncPolicy>,
}

/// What the ApplicationSet controller may do to generated Applications
/// (an enum upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApplicationsSyncPolicy {
    CreateOnly,
    CreateUpdate,
    CreateDelete,
    Sync,
}

// ---------------------------------------------------------------------------
// AppProject
// ---------------------------------------------------------------------------

/// An Argo CD `AppProject` (`argoproj.io/v1alpha1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppProject {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: AppProjectSpec,
}
custom_resource!(
    AppProject,
    AppProjectSpec,
    "argoproj.io/v1alpha1",
    "AppProject"
);

/// `AppProject.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppProjectSpec {
    /// At most 255 characters upstream.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub source_repos: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub destinations: Vec<ApplicationDestination>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cluster_resource_whitelist: Vec<GroupKind>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub namespace_resource_whitelist: Vec<GroupKind>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub orphaned_resources: Option<OrphanedResources>,
    /// Namespaces outside the control plane's where Applications may live.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub source_namespaces: Vec<String>,
}

/// A group/kind pair (`""` is the core group, `*` matches everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl GroupKind {
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            kind: kind.into(),
        }
    }
}

/// Orphaned-resource monitoring of a project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrphanedResources {
    /// Raise a warning condition when orphaned resources exist.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub warn: Option<bool>,
    /// Resources that are not orphans, though no Application manages them.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ignore: Vec<OrphanedResourceKey>,
}

/// A resource orphaned-resource monitoring leaves alone: `group` and `kind`, and
/// `name` a glob (Argo CD `controller/appcontroller.go`, `glob.Match`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrphanedResourceKey {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

// ---------------------------------------------------------------------------
// Metadata helpers shared by the three kinds
// ---------------------------------------------------------------------------

macro_rules! argo_metadata_helpers {
    ($($ty:ident),*) => {$(
        impl $ty {
            /// Sets the `argocd.argoproj.io/sync-wave` annotation.
            pub fn with_sync_wave(mut self, wave: i32) -> Self {
                self.metadata
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert(SYNC_WAVE_ANNOTATION.to_string(), wave.to_string());
                self
            }

            /// Adds `finalizer` unless already present.
            pub fn with_finalizer(mut self, finalizer: impl Into<String>) -> Self {
                let finalizer = finalizer.into();
                let finalizers = self.metadata.finalizers.get_or_insert_with(Vec::new);
                if !finalizers.contains(&finalizer) {
                    finalizers.push(finalizer);
                }
                self
            }
        }
    )*};
}
argo_metadata_helpers!(Application, ApplicationSet, AppProject);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::test_support::{assert_conforms, problems};
    use crate::crd::CustomResource;
    use serde_json::json;

    const REPO: &str = "https://git.example.com/platform/deploy.git";
    const IN_CLUSTER: &str = "https://kubernetes.default.svc";

    fn sync_policy() -> SyncPolicy {
        SyncPolicy {
            automated: Some(SyncPolicyAutomated {
                prune: Some(true),
                self_heal: Some(true),
                allow_empty: Some(false),
            }),
            sync_options: vec![
                "CreateNamespace=false".into(),
                "PrunePropagationPolicy=foreground".into(),
                "PruneLast=true".into(),
                "ServerSideApply=true".into(),
            ],
            retry: Some(RetryStrategy {
                limit: Some(5),
                backoff: Some(Backoff {
                    duration: Some("5s".into()),
                    factor: Some(2),
                    max_duration: Some("3m".into()),
                }),
            }),
            managed_namespace_metadata: None,
        }
    }

    fn main_api_spec() -> ApplicationSpec {
        ApplicationSpec {
            project: "dev".into(),
            source: Some(ApplicationSource {
                repo_url: REPO.into(),
                path: Some("apps/main-api".into()),
                target_revision: Some("main".into()),
                plugin: Some(ApplicationSourcePlugin {
                    name: Some("kgen".into()),
                    env: vec![
                        EnvEntry::new("KGEN_ENV", "dev"),
                        EnvEntry::new("KGEN_APP", "main-api"),
                    ],
                }),
                ..Default::default()
            }),
            destination: ApplicationDestination {
                server: Some(IN_CLUSTER.into()),
                namespace: Some("main-api-dev".into()),
                name: None,
            },
            sync_policy: Some(sync_policy()),
            revision_history_limit: Some(10),
            ..Default::default()
        }
    }

    /// The Application kgen emits for app `main-api` in env `dev`.
    fn main_api_dev() -> Application {
        Application::named("main-api-dev", "argocd", main_api_spec())
            .with_sync_wave(10)
            .with_finalizer(RESOURCES_FINALIZER)
    }

    #[test]
    fn application_conforms() {
        let app = main_api_dev();
        assert_eq!(app.api_version, Application::API_VERSION);
        assert_eq!(app.kind, "Application");
        let json = assert_conforms(&app);
        assert_eq!(json["spec"]["source"]["repoURL"], REPO);
        assert_eq!(json["spec"]["syncPolicy"]["retry"]["backoff"]["factor"], 2);
        assert_eq!(json["metadata"]["annotations"][SYNC_WAVE_ANNOTATION], "10");
        assert_eq!(json["metadata"]["finalizers"], json!([RESOURCES_FINALIZER]));
        // Unset optionals and empty collections are not serialised.
        assert!(json["spec"].get("sources").is_none());
        assert!(json["spec"].get("ignoreDifferences").is_none());
        assert!(json["spec"]["source"].get("helm").is_none());
    }

    #[test]
    fn finalizer_is_not_duplicated() {
        let app = main_api_dev().with_finalizer(RESOURCES_FINALIZER);
        assert_eq!(app.metadata.finalizers.unwrap().len(), 1);
    }

    /// A multi-source Helm application exercising every remaining typed field.
    #[test]
    fn multi_source_helm_application_conforms() {
        let mut values = BTreeMap::new();
        values.insert("replicaCount".to_string(), json!(2));
        values.insert(
            "image".to_string(),
            json!({"repository": "ghcr.io/acme/main-api", "tag": "1.4.2"}),
        );
        let mut ns_labels = BTreeMap::new();
        ns_labels.insert("team".to_string(), "platform".to_string());
        let spec = ApplicationSpec {
            project: "dev".into(),
            sources: vec![
                ApplicationSource {
                    repo_url: "https://charts.example.com".into(),
                    chart: Some("main-api".into()),
                    target_revision: Some("1.4.2".into()),
                    helm: Some(ApplicationSourceHelm {
                        release_name: Some("main-api".into()),
                        value_files: vec!["$values/envs/dev/main-api.yaml".into()],
                        values_object: Some(values),
                    }),
                    ..Default::default()
                },
                ApplicationSource {
                    repo_url: REPO.into(),
                    target_revision: Some("main".into()),
                    ref_: Some("values".into()),
                    ..Default::default()
                },
            ],
            destination: ApplicationDestination {
                name: Some("in-cluster".into()),
                namespace: Some("main-api-dev".into()),
                server: None,
            },
            sync_policy: Some(SyncPolicy {
                managed_namespace_metadata: Some(ManagedNamespaceMetadata {
                    labels: ns_labels,
                    annotations: BTreeMap::from([("owner".to_string(), "platform".to_string())]),
                }),
                ..sync_policy()
            }),
            ignore_differences: vec![ResourceIgnoreDifferences {
                group: Some("apps".into()),
                kind: "Deployment".into(),
                name: Some("main-api".into()),
                namespace: Some("main-api-dev".into()),
                json_pointers: vec!["/spec/replicas".into()],
                jq_path_expressions: vec![".spec.template.metadata.annotations".into()],
                managed_fields_managers: vec!["kube-controller-manager".into()],
            }],
            ..Default::default()
        };
        let json = assert_conforms(&Application::named("main-api-dev", "argocd", spec));
        assert_eq!(json["spec"]["sources"][1]["ref"], "values");
        assert_eq!(
            json["spec"]["sources"][0]["helm"]["valuesObject"]["replicaCount"],
            2
        );
    }

    fn application_set() -> ApplicationSet {
        let elements = ["dev", "staging"]
            .iter()
            .map(|env| {
                BTreeMap::from([
                    ("app".to_string(), json!("main-api")),
                    ("env".to_string(), json!(env)),
                    ("wave".to_string(), json!("10")),
                ])
            })
            .collect();
        let mut template_spec = main_api_spec();
        template_spec.project = "{{.env}}".into();
        if let Some(source) = template_spec.source.as_mut() {
            source.path = Some("apps/{{.app}}".into());
        }
        template_spec.destination.namespace = Some("{{.app}}-{{.env}}".into());
        ApplicationSet::named(
            "main-api",
            "argocd",
            ApplicationSetSpec {
                go_template: Some(true),
                go_template_options: vec!["missingkey=error".into()],
                generators: vec![ApplicationSetGenerator::list(elements)],
                template: ApplicationSetTemplate {
                    metadata: ApplicationSetTemplateMeta {
                        name: "{{.app}}-{{.env}}".into(),
                        namespace: Some("argocd".into()),
                        labels: BTreeMap::from([(
                            "app.kubernetes.io/managed-by".to_string(),
                            "kgen".to_string(),
                        )]),
                        annotations: BTreeMap::from([(
                            SYNC_WAVE_ANNOTATION.to_string(),
                            "{{.wave}}".to_string(),
                        )]),
                        finalizers: vec![RESOURCES_FINALIZER.into()],
                    },
                    spec: template_spec,
                },
                sync_policy: Some(ApplicationSetSyncPolicy {
                    preserve_resources_on_deletion: Some(true),
                    applications_sync: Some(ApplicationsSyncPolicy::CreateUpdate),
                }),
            },
        )
        .with_sync_wave(5)
    }

    #[test]
    fn application_set_conforms() {
        let json = assert_conforms(&application_set());
        assert_eq!(json["kind"], "ApplicationSet");
        assert_eq!(json["spec"]["goTemplate"], true);
        assert_eq!(
            json["spec"]["goTemplateOptions"],
            json!(["missingkey=error"])
        );
        assert_eq!(
            json["spec"]["generators"][0]["list"]["elements"][1]["env"],
            "staging"
        );
        assert_eq!(
            json["spec"]["syncPolicy"]["applicationsSync"],
            "create-update"
        );
    }

    #[test]
    fn app_project_conforms() {
        let project = AppProject::named(
            "dev",
            "argocd",
            AppProjectSpec {
                description: Some("Applications of environment dev, generated by kgen".into()),
                source_repos: vec![REPO.into(), "https://charts.example.com".into()],
                destinations: vec![
                    ApplicationDestination {
                        server: Some(IN_CLUSTER.into()),
                        namespace: Some("*-dev".into()),
                        name: None,
                    },
                    ApplicationDestination {
                        server: None,
                        namespace: Some("monitoring".into()),
                        name: Some("in-cluster".into()),
                    },
                ],
                cluster_resource_whitelist: vec![GroupKind::new("", "Namespace")],
                namespace_resource_whitelist: vec![GroupKind::new("*", "*")],
                orphaned_resources: Some(OrphanedResources {
                    warn: Some(true),
                    ..Default::default()
                }),
                source_namespaces: vec!["argocd-apps".into()],
            },
        )
        .with_sync_wave(-1);
        let json = assert_conforms(&project);
        assert_eq!(json["spec"]["orphanedResources"], json!({"warn": true}));
        assert_eq!(
            json["spec"]["clusterResourceWhitelist"],
            json!([{"group": "", "kind": "Namespace"}])
        );
    }

    #[test]
    fn unknown_field_is_rejected_with_its_path() {
        let mut json = serde_json::to_value(application_set()).unwrap();
        let list = json["spec"]["generators"][0]["list"]
            .as_object_mut()
            .unwrap();
        let elements = list.remove("elements").unwrap();
        list.insert("elementz".into(), elements);
        let Some(problems) = problems(&json) else {
            return;
        };
        assert!(
            problems.contains(&"spec.generators[0].list.elementz: unknown field".to_string()),
            "{problems:?}"
        );
        // The typed struct refuses it too.
        assert!(serde_json::from_value::<ApplicationSet>(json).is_err());
    }

    #[test]
    fn unknown_field_in_template_metadata_is_rejected() {
        let mut json = serde_json::to_value(application_set()).unwrap();
        json["spec"]["template"]["metadata"]["labelz"] = json!({"a": "b"});
        let Some(problems) = problems(&json) else {
            return;
        };
        assert_eq!(
            problems,
            vec!["spec.template.metadata.labelz: unknown field".to_string()]
        );
    }

    #[test]
    fn wrong_type_is_rejected() {
        let mut json = serde_json::to_value(main_api_dev()).unwrap();
        json["spec"]["syncPolicy"]["retry"]["backoff"]["factor"] = json!("2");
        json["spec"]["syncPolicy"]["automated"]["prune"] = json!("yes");
        let Some(problems) = problems(&json) else {
            return;
        };
        assert_eq!(
            problems,
            vec![
                "spec.syncPolicy.automated.prune: expected boolean, got string".to_string(),
                "spec.syncPolicy.retry.backoff.factor: expected integer, got string".to_string(),
            ]
        );
    }

    #[test]
    fn missing_required_field_and_bad_enum_are_rejected() {
        let mut json = serde_json::to_value(application_set()).unwrap();
        json["spec"]["template"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("project");
        json["spec"]["syncPolicy"]["applicationsSync"] = json!("create-everything");
        let Some(problems) = problems(&json) else {
            return;
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("spec.syncPolicy.applicationsSync: "),
            "{problems:?}"
        );
        assert_eq!(
            problems[1],
            "spec.template.spec.project: required field missing"
        );
    }

    #[test]
    fn project_description_length_is_checked() {
        let mut json = serde_json::to_value(AppProject::named(
            "dev",
            "argocd",
            AppProjectSpec::default(),
        ))
        .unwrap();
        json["spec"]["description"] = json!("x".repeat(256));
        let Some(problems) = problems(&json) else {
            return;
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("spec.description: "),
            "{problems:?}"
        );
    }

    #[test]
    fn json_schemas_derive() {
        for schema in [
            schemars::schema_for!(Application),
            schemars::schema_for!(ApplicationSet),
            schemars::schema_for!(AppProject),
        ] {
            let schema = serde_json::to_value(schema).unwrap();
            assert_eq!(schema["type"], "object");
            assert_eq!(
                schema["additionalProperties"], false,
                "deny_unknown_fields is reflected"
            );
            for field in ["apiVersion", "kind", "metadata", "spec"] {
                assert!(schema["properties"].get(field).is_some(), "{field} missing");
            }
        }
        let set = serde_json::to_value(schemars::schema_for!(ApplicationSet)).unwrap();
        assert!(set["$defs"]["ApplicationSetSpec"]["properties"]
            .get("generators")
            .is_some());
    }
}
