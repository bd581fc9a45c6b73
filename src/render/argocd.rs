//! Argo CD objects of an environment, under `generated/argocd/<env>/`:
//!
//! - `appproject.yaml`: the AppProject of the environment's project (written once per
//!   project, in the first environment using it, with the destinations of all of them):
//!   sources limited to the platform repository (and the monitoring chart's), destinations
//!   to exactly the namespaces kgen generates on the environment's cluster (and those the
//!   monitoring chart writes into), cluster-scoped kinds to what kgen (and the monitoring
//!   chart) create, orphaned-resource warnings on.
//! - `applicationset.yaml`: one Application per service (`<env>-<service>`), with
//!   `goTemplate` and `missingkey=error`.
//! - `monitoring.yaml`: the kube-prometheus-stack Application (chart + values + namespace).
//! - `bootstrap.yaml`: the app of apps that syncs this directory.
//!
//! With `[argocd] mode = "plugin"` the service Applications are rendered by kgen's
//! config management plugin instead of read from `generated/<env>/<service>` (see
//! `service_source` and docs/argocd-cmp.md).
//!
//! Namespaces come from kgen's own Namespace objects (never `CreateNamespace=true`), so
//! their labels (Pod Security) are reviewed like everything else.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::labels;
use crate::cmp_params;
use crate::crd::argocd::{
    AppProject, AppProjectSpec, Application, ApplicationDestination, ApplicationSet,
    ApplicationSetGenerator, ApplicationSetSpec, ApplicationSetSyncPolicy, ApplicationSetTemplate,
    ApplicationSetTemplateMeta, ApplicationSource, ApplicationSourceDirectory,
    ApplicationSourceHelm, ApplicationSpec, ApplicationsSyncPolicy, Backoff, GroupKind,
    OrphanedResources, RetryStrategy, SyncPolicy, SyncPolicyAutomated, RESOURCES_FINALIZER,
};
use crate::crd::argocd::{ApplicationSourcePlugin, EnvEntry};
use crate::input::ArgoCdMode;
use crate::render::monitoring;
use crate::spec::{EnvSpec, PlatformSpec, SyncMode};
use crate::workspace::GENERATED_DIR;

/// Label naming the environment of an Argo CD object.
pub const ENVIRONMENT_LABEL: &str = "kgen.dev/environment";
/// Argo CD's own cluster, where Applications and projects live.
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// The chart of the monitoring stack.
pub const MONITORING_CHART: &str = "kube-prometheus-stack";

fn env_labels(platform: &PlatformSpec, env: &EnvSpec) -> BTreeMap<String, String> {
    let mut l = labels::platform(platform);
    l.insert(ENVIRONMENT_LABEL.into(), env.name.clone());
    l
}

fn meta(
    platform: &PlatformSpec,
    env: &EnvSpec,
    name: &str,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    super::meta(
        name,
        Some(&platform.argocd_namespace),
        env_labels(platform, env),
    )
}

/// Sync policy shared by every Application kgen generates.
pub fn sync_policy(env: &EnvSpec, extra_options: &[&str]) -> SyncPolicy {
    let mut sync_options: Vec<String> = vec![
        "PrunePropagationPolicy=foreground".into(),
        "PruneLast=true".into(),
        "ApplyOutOfSyncOnly=true".into(),
    ];
    sync_options.extend(extra_options.iter().map(|s| s.to_string()));
    SyncPolicy {
        automated: (env.sync == SyncMode::Auto).then_some(SyncPolicyAutomated {
            prune: Some(true),
            self_heal: Some(true),
            allow_empty: Some(false),
        }),
        sync_options,
        retry: Some(RetryStrategy {
            limit: Some(5),
            backoff: Some(Backoff {
                duration: Some("5s".into()),
                factor: Some(2),
                max_duration: Some("3m".into()),
            }),
        }),
        ..Default::default()
    }
}

/// The namespaces kgen creates in an environment, sorted.
pub fn namespaces(env: &EnvSpec) -> BTreeSet<String> {
    let mut ns: BTreeSet<String> = env.services.iter().map(|s| s.namespace.clone()).collect();
    if let Some(m) = &env.monitoring {
        ns.insert(m.namespace.clone());
    }
    ns
}

/// The AppProject of `project`, covering every environment in `envs` that uses it.
pub fn app_project(platform: &PlatformSpec, project: &str, envs: &[&EnvSpec]) -> AppProject {
    let first = envs[0];
    let mut source_repos = vec![platform.repo.clone()];
    let mut destinations = Vec::new();
    let mut cluster_kinds = vec![GroupKind::new("", "Namespace")];
    let mut names: Vec<&str> = Vec::new();
    for env in envs {
        names.push(&env.name);
        for ns in namespaces(env) {
            destinations.push(ApplicationDestination {
                server: Some(env.cluster.clone()),
                namespace: Some(ns),
                ..Default::default()
            });
        }
        if let Some(m) = &env.monitoring {
            source_repos.push(m.chart_repo.clone());
            // What the kube-prometheus-stack chart creates, with the values kgen writes:
            // the namespaces it writes into (the monitoring namespace, and kube-system for
            // the CoreDNS and kube-proxy exporter Services) and its cluster-scoped kinds.
            let footprint = &monitoring::CHART_FOOTPRINT;
            for ns in footprint.namespaces(m) {
                destinations.push(ApplicationDestination {
                    server: Some(env.cluster.clone()),
                    namespace: Some(ns),
                    ..Default::default()
                });
            }
            cluster_kinds.extend(
                footprint
                    .cluster_kinds()
                    .into_iter()
                    .map(|(group, kind)| GroupKind::new(group, kind)),
            );
        }
    }
    source_repos.sort();
    source_repos.dedup();
    destinations.sort_by(|a, b| (&a.server, &a.namespace).cmp(&(&b.server, &b.namespace)));
    destinations.dedup();
    cluster_kinds.sort_by(|a, b| (&a.group, &a.kind).cmp(&(&b.group, &b.kind)));
    cluster_kinds.dedup();
    let mut m = meta(platform, first, project);
    if envs.len() > 1 {
        // Shared by several environments: not one environment's object.
        m.labels
            .get_or_insert_with(Default::default)
            .remove(ENVIRONMENT_LABEL);
    }
    AppProject::new(
        m,
        AppProjectSpec {
            description: Some(format!(
                "{}: environment{} {} (generated by kgen)",
                platform.name,
                if names.len() > 1 { "s" } else { "" },
                names.join(", ")
            )),
            source_repos,
            destinations,
            cluster_resource_whitelist: cluster_kinds,
            orphaned_resources: Some(OrphanedResources { warn: Some(true) }),
            ..Default::default()
        },
    )
    .with_sync_wave(-1)
}

/// Where Argo CD reads a service's manifests: the committed directory
/// `generated/<env>/<service>` (`[argocd] mode = "committed"`), or the platform's own
/// directory, rendered by kgen's config management plugin (`mode = "plugin"`), which
/// reads the environment and service from the plugin's `KGEN_ENV` / `KGEN_SERVICE`.
pub fn service_source(platform: &PlatformSpec, env: &EnvSpec, service: &str) -> ApplicationSource {
    let mut source = ApplicationSource {
        repo_url: platform.repo.clone(),
        target_revision: Some(platform.revision.clone()),
        ..Default::default()
    };
    match platform.argocd_mode {
        ArgoCdMode::Committed => {
            source.path =
                Some(platform.repo_path_of(&format!("{GENERATED_DIR}/{}/{service}", env.name)));
        }
        ArgoCdMode::Plugin => {
            source.path = Some(if platform.repo_path.is_empty() {
                ".".to_string()
            } else {
                platform.repo_path.clone()
            });
            let mut vars = vec![
                EnvEntry::new(cmp_params::ENV_VAR, env.name.clone()),
                EnvEntry::new(cmp_params::SERVICE_VAR, service),
            ];
            // The platform file, when it is not the plugin's default `platform.toml`.
            if let Some(file) = env
                .inputs
                .first()
                .filter(|f| *f != cmp_params::PLATFORM_FILE)
            {
                vars.push(EnvEntry::new(cmp_params::PLATFORM_VAR, file.clone()));
            }
            source.plugin = Some(ApplicationSourcePlugin {
                name: Some(cmp_params::application_plugin_name()),
                env: vars,
            });
        }
    }
    source
}

/// Annotation limiting what Argo CD regenerates (and, with
/// `reposerver.plugin.use.manifest.generate.paths`, sends to the plugin) to the files
/// an application is rendered from.
pub const MANIFEST_GENERATE_PATHS: &str = "argocd.argoproj.io/manifest-generate-paths";

/// Plugin mode: the input files of `env` (relative to the source path), which are
/// all `kgen cmp generate` reads, as `MANIFEST_GENERATE_PATHS` wants them.
fn plugin_annotations(platform: &PlatformSpec, env: &EnvSpec) -> BTreeMap<String, String> {
    match platform.argocd_mode {
        ArgoCdMode::Committed => BTreeMap::new(),
        ArgoCdMode::Plugin => {
            BTreeMap::from([(MANIFEST_GENERATE_PATHS.to_string(), env.inputs.join(";"))])
        }
    }
}

/// One Application per service, from a list generator.
pub fn application_set(platform: &PlatformSpec, env: &EnvSpec) -> ApplicationSet {
    let elements: Vec<BTreeMap<String, Value>> = env
        .services
        .iter()
        .map(|s| {
            BTreeMap::from([
                ("service".to_string(), Value::from(s.name.clone())),
                ("namespace".to_string(), Value::from(s.namespace.clone())),
            ])
        })
        .collect();
    let mut template_labels = env_labels(platform, env);
    template_labels.insert(labels::NAME.into(), "{{.service}}".into());
    ApplicationSet::new(
        meta(platform, env, &env.name),
        ApplicationSetSpec {
            go_template: Some(true),
            go_template_options: vec!["missingkey=error".into()],
            generators: vec![ApplicationSetGenerator::list(elements)],
            template: ApplicationSetTemplate {
                metadata: ApplicationSetTemplateMeta {
                    name: format!("{}-{{{{.service}}}}", env.name),
                    labels: template_labels,
                    annotations: plugin_annotations(platform, env),
                    finalizers: vec![RESOURCES_FINALIZER.into()],
                    ..Default::default()
                },
                spec: ApplicationSpec {
                    project: env.project.clone(),
                    source: Some(service_source(platform, env, "{{.service}}")),
                    destination: ApplicationDestination {
                        server: Some(env.cluster.clone()),
                        namespace: Some("{{.namespace}}".into()),
                        ..Default::default()
                    },
                    sync_policy: Some(sync_policy(env, &[])),
                    revision_history_limit: Some(10),
                    ..Default::default()
                },
            },
            // Removing a service from a manually synced environment must not delete its
            // Application (and, through the finalizer, its resources) on its own.
            sync_policy: (env.sync == SyncMode::Manual).then_some(ApplicationSetSyncPolicy {
                applications_sync: Some(ApplicationsSyncPolicy::CreateUpdate),
                ..Default::default()
            }),
        },
    )
}

/// The kube-prometheus-stack Application: the pinned chart, the values file from this
/// repository, and the monitoring namespace object.
pub fn monitoring_application(platform: &PlatformSpec, env: &EnvSpec) -> Option<Application> {
    let m = env.monitoring.as_ref()?;
    let dir = platform.repo_path_of(&format!("{GENERATED_DIR}/{}/{}", env.name, monitoring::DIR));
    let spec = ApplicationSpec {
        project: env.project.clone(),
        sources: vec![
            ApplicationSource {
                repo_url: m.chart_repo.clone(),
                chart: Some(MONITORING_CHART.into()),
                target_revision: Some(m.chart_version.clone()),
                helm: Some(ApplicationSourceHelm {
                    release_name: Some(MONITORING_CHART.into()),
                    value_files: vec![format!("$values/{dir}/{}", monitoring::VALUES_FILE)],
                    ..Default::default()
                }),
                ..Default::default()
            },
            ApplicationSource {
                repo_url: platform.repo.clone(),
                target_revision: Some(platform.revision.clone()),
                ref_: Some("values".into()),
                ..Default::default()
            },
            ApplicationSource {
                repo_url: platform.repo.clone(),
                target_revision: Some(platform.revision.clone()),
                path: Some(dir),
                directory: Some(ApplicationSourceDirectory {
                    exclude: Some(monitoring::VALUES_FILE.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ],
        destination: ApplicationDestination {
            server: Some(env.cluster.clone()),
            namespace: Some(m.namespace.clone()),
            ..Default::default()
        },
        // The chart's CRDs are too large for client-side apply's annotation.
        sync_policy: Some(sync_policy(env, &["ServerSideApply=true"])),
        revision_history_limit: Some(10),
        ..Default::default()
    };
    Some(
        Application::new(
            meta(platform, env, &format!("{}-monitoring", env.name)),
            spec,
        )
        .with_finalizer(RESOURCES_FINALIZER),
    )
}

/// The app of apps: `kubectl apply -f generated/argocd/<env>/bootstrap.yaml` brings the
/// environment up; from then on it keeps this directory in sync (itself included).
pub fn bootstrap(platform: &PlatformSpec, env: &EnvSpec) -> Application {
    let spec = ApplicationSpec {
        project: "default".into(),
        source: Some(ApplicationSource {
            repo_url: platform.repo.clone(),
            target_revision: Some(platform.revision.clone()),
            path: Some(platform.repo_path_of(&format!("{GENERATED_DIR}/argocd/{}", env.name))),
            ..Default::default()
        }),
        destination: ApplicationDestination {
            server: Some(IN_CLUSTER.into()),
            namespace: Some(platform.argocd_namespace.clone()),
            ..Default::default()
        },
        sync_policy: Some(sync_policy(env, &[])),
        revision_history_limit: Some(10),
        ..Default::default()
    };
    Application::new(
        meta(platform, env, &format!("{}-bootstrap", env.name)),
        spec,
    )
}
