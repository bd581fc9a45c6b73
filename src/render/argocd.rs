//! Argo CD objects of a cluster, under `generated/argocd/<cluster>/`:
//!
//! - `appproject-<project>.yaml`: every AppProject whose Applications run on the
//!   cluster, with exactly what they need: their source repositories, their
//!   destinations (the cluster and the namespaces kgen deploys into), the cluster-scoped
//!   kinds they create; orphaned-resource warnings on, but for the project of the
//!   cluster's own Applications. A project belongs to one cluster
//!   (see `resolve::clusters`), so each is written once.
//! - `applicationset-<env>.yaml`: one per environment on the cluster, creating one
//!   Application per service (`<env>-<service>`), with `goTemplate` and `missingkey=error`.
//! - `application-namespaces.yaml`: `<cluster>-namespaces`, the Namespaces several
//!   Applications deploy into (`generated/clusters/<cluster>/namespaces/`), when there are any.
//! - `application-monitoring.yaml`: `<cluster>-monitoring`, kube-prometheus-stack (chart +
//!   values + namespace), with `[monitoring]`.
//! - `bootstrap.yaml`: `<cluster>-bootstrap`, the app of apps that syncs this directory.
//!
//! Sync waves order the bootstrap: projects, then the Applications that create what
//! the others need (shared namespaces, then CRDs), then the ApplicationSets.
//!
//! Every Application comes from one builder, [`application`]; the ApplicationSet's
//! template is its spec. With `[argocd] mode = "plugin"` the service Applications are
//! rendered by kgen's config management plugin instead of read from
//! `generated/<env>/<service>` (see `service_source` and docs/argocd-cmp.md).
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
    ApplicationSetTemplateMeta, ApplicationSource, ApplicationSourceHelm, ApplicationSourcePlugin,
    ApplicationSpec, ApplicationsSyncPolicy, Backoff, EnvEntry, GroupKind, OrphanedResourceKey,
    OrphanedResources, RetryStrategy, SyncPolicy, SyncPolicyAutomated, RESOURCES_FINALIZER,
};
use crate::input::ArgoCdMode;
use crate::render::monitoring;
use crate::spec::{
    ClaimRetention, ClusterSpec, Destination, EnvSpec, PlatformSpec, SyncMode, VolumeSource,
    Workload,
};
use crate::workspace::GENERATED_DIR;

/// Label naming the environment of an Argo CD object.
pub const ENVIRONMENT_LABEL: &str = "kgen.dev/environment";
/// Label naming the cluster of an Argo CD object.
pub const CLUSTER_LABEL: &str = "kgen.dev/cluster";
/// Argo CD's own cluster, where Applications and projects live.
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// The chart of the monitoring stack.
pub const MONITORING_CHART: &str = "kube-prometheus-stack";
/// Directory of the Argo CD objects under `generated/`.
pub const DIR: &str = "argocd";
/// The bootstrap Application's file in a cluster's directory.
pub const BOOTSTRAP_FILE: &str = "bootstrap.yaml";

/// Sync waves of the objects in a cluster's bootstrap directory (its app of apps):
/// Argo CD applies a wave once the previous one is healthy (for Applications, with
/// the health check docs/argocd.md shows).
pub mod bootstrap_wave {
    /// AppProjects: before any Application that uses them.
    pub const PROJECTS: i32 = -5;
    /// `<cluster>-namespaces`: the Namespaces several Applications deploy into.
    pub const NAMESPACES: i32 = -4;
    /// `<cluster>-baseline`: StorageClasses, PriorityClasses and platform roles, which
    /// every later Application's pods and volumes may name.
    pub const BASELINE: i32 = -4;
    /// Add-ons that define kinds or admission webhooks others need (cert-manager, the
    /// External Secrets Operator, Karpenter, the AWS Load Balancer Controller, the
    /// Secrets Store CSI driver).
    pub const OPERATORS: i32 = -3;
    /// `<cluster>-baseline-custom`: ClusterIssuers, ClusterSecretStores, NodePools and
    /// EC2NodeClasses, once the operators that define them are healthy.
    pub const BASELINE_CUSTOM: i32 = -2;
    /// `<cluster>-monitoring`: it installs the CRDs of the ServiceMonitors and
    /// PrometheusRules the service Applications deploy; its pods may need the node pools
    /// of the same wave.
    pub const MONITORING: i32 = -2;
    /// The other add-ons (ingress controllers, external-dns, metrics-server, ...).
    pub const ADDONS: i32 = -1;
    /// `<cluster>-<component>`: a cluster's hand-written manifests
    /// (`manifests/clusters/<cluster>/<component>/`), once the operators whose
    /// custom resources they may be are healthy; `[manifests] sync_waves` moves one.
    pub const MANIFESTS: i32 = -1;
    /// The ApplicationSets of the environments: the services, last.
    pub const SERVICES: i32 = 0;
}

/// Path under `generated/` of a file in a cluster's Argo CD directory.
pub fn path(cluster: &str, file: &str) -> String {
    format!("{DIR}/{cluster}/{file}")
}

/// The `applicationset-<env>.yaml` file name.
pub fn application_set_file(env: &str) -> String {
    format!("applicationset-{env}.yaml")
}

/// The `appproject-<project>.yaml` file name.
pub fn project_file(project: &str) -> String {
    format!("appproject-{project}.yaml")
}

/// Name of the Application that deploys the shared Namespaces of a cluster.
pub fn namespaces_app_name(cluster: &str) -> String {
    format!("{cluster}-namespaces")
}

/// Name of the Application of a cluster's monitoring stack.
pub fn monitoring_app_name(cluster: &str) -> String {
    format!("{cluster}-monitoring")
}

/// Name of the Application of a cluster's baseline `component` (`baseline`, `baseline-custom`).
pub fn baseline_app_name(cluster: &str, component: &str) -> String {
    format!("{cluster}-{component}")
}

/// Name of a cluster's bootstrap Application.
pub fn bootstrap_name(cluster: &str) -> String {
    format!("{cluster}-bootstrap")
}

/// Name of the Application of `service` in `env` (what the ApplicationSet makes).
pub fn service_app_name(env: &str, service: &str) -> String {
    format!("{env}-{service}")
}

/// Labels of the Argo CD objects of a cluster (and of one environment, when given).
fn argo_labels(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    env: Option<&str>,
) -> BTreeMap<String, String> {
    let mut l = labels::platform(platform);
    l.insert(CLUSTER_LABEL.into(), cluster.name.clone());
    if let Some(env) = env {
        l.insert(ENVIRONMENT_LABEL.into(), env.to_string());
    }
    l
}

fn meta(
    platform: &PlatformSpec,
    name: &str,
    labels: BTreeMap<String, String>,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    super::meta(name, Some(&platform.argocd_namespace), labels)
}

/// `destination` of an Application on `d`, into `namespace`.
pub fn destination(d: &Destination, namespace: Option<&str>) -> ApplicationDestination {
    let (server, name) = match d {
        Destination::Server(s) => (Some(s.clone()), None),
        Destination::Name(n) => (None, Some(n.clone())),
    };
    ApplicationDestination {
        server,
        name,
        namespace: namespace.map(str::to_string),
    }
}

/// Sync policy shared by every Application kgen generates.
pub fn sync_policy(sync: SyncMode, extra_options: &[&str]) -> SyncPolicy {
    let mut sync_options: Vec<String> = vec![
        "PrunePropagationPolicy=foreground".into(),
        "PruneLast=true".into(),
        "ApplyOutOfSyncOnly=true".into(),
    ];
    sync_options.extend(extra_options.iter().map(|s| s.to_string()));
    SyncPolicy {
        automated: (sync == SyncMode::Auto).then_some(SyncPolicyAutomated {
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

/// How the cluster's own Applications (bootstrap, namespaces, monitoring) sync: as
/// `[clusters.<name>] sync` says, else automatically when every environment on the
/// cluster does, else by hand.
pub fn cluster_sync(platform: &PlatformSpec, cluster: &ClusterSpec) -> SyncMode {
    if let Some(sync) = cluster.sync {
        return sync;
    }
    if platform
        .environments_on(&cluster.name)
        .all(|e| e.sync == SyncMode::Auto)
    {
        SyncMode::Auto
    } else {
        SyncMode::Manual
    }
}

/// What one Application deploys, for [`application`].
pub struct AppDef {
    pub name: String,
    pub project: String,
    pub sources: Vec<ApplicationSource>,
    pub destination: ApplicationDestination,
    pub sync: SyncMode,
    /// Sync options beyond the shared ones.
    pub options: &'static [&'static str],
    /// Sync wave in the bootstrap directory.
    pub wave: i32,
    /// Delete the Application's resources with it.
    pub finalizer: bool,
}

/// The spec every Application kgen writes has: its sources, destination, project and
/// the shared sync policy.
fn application_spec(def: &AppDef) -> ApplicationSpec {
    let (source, sources) = if def.sources.len() == 1 {
        (Some(def.sources[0].clone()), Vec::new())
    } else {
        (None, def.sources.clone())
    };
    ApplicationSpec {
        project: def.project.clone(),
        source,
        sources,
        destination: def.destination.clone(),
        sync_policy: Some(sync_policy(def.sync, def.options)),
        revision_history_limit: Some(10),
        ..Default::default()
    }
}

/// One Application: the builder of every Application kgen writes.
pub fn application(
    platform: &PlatformSpec,
    labels: BTreeMap<String, String>,
    def: &AppDef,
) -> Application {
    let mut app = Application::new(meta(platform, &def.name, labels), application_spec(def))
        .with_sync_wave(def.wave);
    if def.finalizer {
        app = app.with_finalizer(RESOURCES_FINALIZER);
    }
    app
}

/// A source reading a directory of this repository (`path` relative to platform.toml).
fn repo_directory(platform: &PlatformSpec, path: &str) -> ApplicationSource {
    ApplicationSource {
        repo_url: platform.repo.clone(),
        target_revision: Some(platform.revision.clone()),
        path: Some(platform.repo_path_of(path)),
        ..Default::default()
    }
}

/// The namespaces the Applications of `env` deploy into, sorted.
pub fn namespaces(env: &EnvSpec) -> BTreeSet<String> {
    env.services.iter().map(|s| s.namespace.clone()).collect()
}

/// Every AppProject of a cluster: the projects of its environments and its own.
pub fn app_projects(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    shared_namespaces: &BTreeSet<String>,
) -> Vec<AppProject> {
    #[derive(Default)]
    struct Needs {
        repos: BTreeSet<String>,
        namespaces: BTreeSet<String>,
        kinds: BTreeSet<(String, String)>,
        users: Vec<String>,
    }
    let mut projects: BTreeMap<&str, Needs> = BTreeMap::new();
    for env in platform.environments_on(&cluster.name) {
        let p = projects.entry(env.project.as_str()).or_default();
        p.repos.insert(platform.repo.clone());
        p.namespaces.extend(namespaces(env));
        if env
            .services
            .iter()
            .any(|s| !shared_namespaces.contains(&s.namespace))
        {
            p.kinds.insert((String::new(), "Namespace".into()));
        }
        p.users.push(format!("environment {}", env.name));
    }
    let components = platform
        .manifest_components
        .get(&cluster.name)
        .map_or(&[][..], Vec::as_slice);
    let own_apps = !shared_namespaces.is_empty()
        || cluster.monitoring.is_some()
        || !cluster.addons.is_empty()
        || !cluster.baseline.is_empty()
        || !components.is_empty();
    if own_apps {
        let p = projects.entry(cluster.project.as_str()).or_default();
        p.repos.insert(platform.repo.clone());
        if !shared_namespaces.is_empty() {
            // `<cluster>-namespaces` deploys only cluster-scoped objects: its destination
            // has no namespace, which only a destination without one admits.
            p.kinds.insert((String::new(), "Namespace".into()));
            p.namespaces.insert(String::new());
            p.namespaces.extend(shared_namespaces.iter().cloned());
        }
        if !cluster.baseline.is_empty() {
            // The baseline Applications deploy only cluster-scoped objects.
            p.namespaces.insert(String::new());
            p.kinds.extend(
                super::baseline::cluster_kinds(&cluster.baseline)
                    .into_iter()
                    .map(|(g, k)| (g.to_string(), k.to_string())),
            );
        }
        if let Some(m) = &cluster.monitoring {
            // Exactly what the chart creates (see `monitoring::CHART_FOOTPRINT`).
            p.repos.insert(m.chart_repo.clone());
            p.namespaces
                .extend(monitoring::CHART_FOOTPRINT.namespaces(m));
            if !shared_namespaces.contains(&m.namespace) {
                p.kinds.insert((String::new(), "Namespace".into()));
            }
            p.kinds.extend(
                monitoring::CHART_FOOTPRINT
                    .cluster_kinds()
                    .into_iter()
                    .map(|(g, k)| (g.to_string(), k.to_string())),
            );
        }
        for a in &cluster.addons {
            // Exactly what the chart creates (its preset's footprint).
            p.repos.insert(a.argocd_repo().to_string());
            p.namespaces.insert(a.namespace.clone());
            p.namespaces.extend(a.footprint.namespaces.iter().cloned());
            if super::namespace::owned_by_cluster_app(platform, cluster, &a.namespace) {
                p.kinds.insert((String::new(), "Namespace".into()));
            }
            p.kinds.extend(a.footprint.cluster_kinds.iter().cloned());
        }
        for c in components {
            // A cluster's hand-written manifests: what they deploy, exactly.
            p.namespaces.insert(String::new());
            p.namespaces.extend(c.namespaces.iter().cloned());
            p.kinds.extend(c.cluster_kinds.iter().cloned());
        }
        p.users.push(format!("cluster {}", cluster.name));
    }
    projects
        .into_iter()
        .map(|(name, needs)| {
            let envs: Vec<&str> = platform
                .environments_on(&cluster.name)
                .filter(|e| e.project == name)
                .map(|e| e.name.as_str())
                .collect();
            let env_label =
                (envs.len() == 1 && !(own_apps && cluster.project == name)).then(|| envs[0]);
            let mut description = format!("{}: ", platform.name);
            description.push_str(&match envs.len() {
                0 => format!("cluster {}", cluster.name),
                1 => format!("environment {}", envs[0]),
                _ => format!("environments {}", envs.join(", ")),
            });
            if own_apps && cluster.project == name && !envs.is_empty() {
                description.push_str(&format!(" and cluster {}", cluster.name));
            }
            description.push_str(" (generated by kgen)");
            AppProject::new(
                meta(platform, name, argo_labels(platform, cluster, env_label)),
                AppProjectSpec {
                    description: Some(description),
                    source_repos: needs.repos.into_iter().collect(),
                    destinations: needs
                        .namespaces
                        .iter()
                        .map(|ns| {
                            destination(
                                &cluster.destination,
                                Some(ns.as_str()).filter(|n| !n.is_empty()),
                            )
                        })
                        .collect(),
                    cluster_resource_whitelist: needs
                        .kinds
                        .into_iter()
                        .map(|(g, k)| GroupKind::new(g, k))
                        .collect(),
                    // Not on the project of the cluster's own Applications: Argo CD
                    // looks for orphans in an Application's destination namespace,
                    // and in the whole cluster for one without a namespace (the
                    // baseline's, the namespaces'), where it would flag every object
                    // of the cluster kgen does not deploy (controller/appcontroller.go,
                    // `getResourceTree`); add-ons share `kube-system` with EKS's own.
                    orphaned_resources: (!(own_apps && cluster.project == name)).then(|| {
                        OrphanedResources {
                            warn: Some(true),
                            ignore: retained_claims(platform, &cluster.name, name),
                        }
                    }),
                    ..Default::default()
                },
            )
            .with_sync_wave(bootstrap_wave::PROJECTS)
        })
        .collect()
}

/// The claims the StatefulSets of a project's environments keep (`when_deleted` is
/// `Retain`, the default): the StatefulSet controller creates `<claim>-<set>-<ordinal>`
/// with no owner, and no Application manages them, so orphaned-resource monitoring
/// would warn about each for good (Argo CD `controller/appcontroller.go`,
/// `isKnownOrphanedResourceExclusion` knows only a few of the cluster's own objects).
fn retained_claims(
    platform: &PlatformSpec,
    cluster: &str,
    project: &str,
) -> Vec<OrphanedResourceKey> {
    let mut names = std::collections::BTreeSet::new();
    for env in platform
        .environments_on(cluster)
        .filter(|e| e.project == project)
    {
        for svc in &env.services {
            let Workload::StatefulSet(set) = &svc.workload else {
                continue;
            };
            if set.when_deleted != ClaimRetention::Retain {
                continue;
            }
            for v in &svc.volumes {
                if matches!(v.source, VolumeSource::Claim { .. }) {
                    names.insert(format!("{}-{}-*", v.name, svc.name));
                }
            }
        }
    }
    names
        .into_iter()
        .map(|name| OrphanedResourceKey {
            group: Some(String::new()),
            kind: Some("PersistentVolumeClaim".into()),
            name: Some(name),
        })
        .collect()
}

/// Where Argo CD reads a service's manifests: the committed directory
/// `generated/<env>/<service>` (`[argocd] mode = "committed"`), or the platform's own
/// directory, rendered by kgen's config management plugin (`mode = "plugin"`), which
/// reads the environment and service from the plugin's `KGEN_ENV` / `KGEN_SERVICE`.
pub fn service_source(platform: &PlatformSpec, env: &EnvSpec, service: &str) -> ApplicationSource {
    match platform.argocd_mode {
        ArgoCdMode::Committed => {
            repo_directory(platform, &format!("{GENERATED_DIR}/{}/{service}", env.name))
        }
        ArgoCdMode::Plugin => {
            let mut source = repo_directory(platform, "");
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
            source
        }
    }
}

/// Annotation limiting what Argo CD regenerates (and, with
/// `reposerver.plugin.use.manifest.generate.paths`, sends to the plugin) to the files
/// an application is rendered from.
pub const MANIFEST_GENERATE_PATHS: &str = "argocd.argoproj.io/manifest-generate-paths";

/// Plugin mode: every path `kgen cmp generate` reads for `env` (relative to the
/// source path, files and directories), as `MANIFEST_GENERATE_PATHS` wants them:
/// Argo CD's `util/app/path/path.go`, `AppFilesHaveChanged`, refreshes an application
/// when a changed file is one of them or under one.
fn plugin_annotations(platform: &PlatformSpec, env: &EnvSpec) -> BTreeMap<String, String> {
    match platform.argocd_mode {
        ArgoCdMode::Committed => BTreeMap::new(),
        ArgoCdMode::Plugin => BTreeMap::from([(
            MANIFEST_GENERATE_PATHS.to_string(),
            env.plugin_reads.join(";"),
        )]),
    }
}

/// One Application per service of `env`, from a list generator.
pub fn application_set(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    env: &EnvSpec,
) -> ApplicationSet {
    // `[argocd] application_name`: each element carries its Application's name.
    let named = env.services.iter().any(|s| s.app_name.is_some());
    let elements: Vec<BTreeMap<String, Value>> = env
        .services
        .iter()
        .map(|s| {
            let mut e = BTreeMap::from([
                ("service".to_string(), Value::from(s.name.clone())),
                ("namespace".to_string(), Value::from(s.namespace.clone())),
            ]);
            if let Some(name) = s.app_name.as_ref().filter(|_| named) {
                e.insert("name".to_string(), Value::from(name.clone()));
            }
            e
        })
        .collect();
    let labels = argo_labels(platform, cluster, Some(&env.name));
    let mut template_labels = labels.clone();
    template_labels.insert(labels::NAME.into(), "{{.service}}".into());
    let def = AppDef {
        name: if named {
            "{{.name}}".to_string()
        } else {
            service_app_name(&env.name, "{{.service}}")
        },
        project: env.project.clone(),
        sources: vec![service_source(platform, env, "{{.service}}")],
        destination: destination(&env.destination, Some("{{.namespace}}")),
        sync: env.sync,
        options: &[],
        wave: bootstrap_wave::SERVICES,
        finalizer: true,
    };
    ApplicationSet::new(
        meta(platform, &env.name, labels),
        ApplicationSetSpec {
            go_template: Some(true),
            go_template_options: vec!["missingkey=error".into()],
            generators: vec![ApplicationSetGenerator::list(elements)],
            template: ApplicationSetTemplate {
                metadata: ApplicationSetTemplateMeta {
                    name: def.name.clone(),
                    labels: template_labels,
                    annotations: plugin_annotations(platform, env),
                    finalizers: vec![RESOURCES_FINALIZER.into()],
                    ..Default::default()
                },
                spec: application_spec(&def),
            },
            // Removing a service from a manually synced environment must not delete its
            // Application (and, through the finalizer, its resources) on its own.
            sync_policy: (env.sync == SyncMode::Manual).then_some(ApplicationSetSyncPolicy {
                applications_sync: Some(ApplicationsSyncPolicy::CreateUpdate),
                ..Default::default()
            }),
        },
    )
    .with_sync_wave(bootstrap_wave::SERVICES)
}

/// `<cluster>-namespaces`: the Namespaces that several Applications of the cluster
/// deploy into, from `generated/clusters/<cluster>/namespaces/`.
pub fn namespaces_application(platform: &PlatformSpec, cluster: &ClusterSpec) -> Application {
    application(
        platform,
        argo_labels(platform, cluster, None),
        &AppDef {
            name: namespaces_app_name(&cluster.name),
            project: cluster.project.clone(),
            sources: vec![repo_directory(
                platform,
                &format!(
                    "{GENERATED_DIR}/{}",
                    super::cluster_dir(&cluster.name, "namespaces")
                ),
            )],
            destination: destination(&cluster.destination, None),
            sync: cluster_sync(platform, cluster),
            options: &[],
            wave: bootstrap_wave::NAMESPACES,
            finalizer: true,
        },
    )
}

/// `<cluster>-monitoring`: the pinned kube-prometheus-stack chart, its values file from
/// this repository, and the monitoring namespace object.
pub fn monitoring_application(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
) -> Option<Application> {
    let m = cluster.monitoring.as_ref()?;
    let values = platform.repo_path_of(&format!(
        "{GENERATED_DIR}/{}",
        super::values_file(&cluster.name, monitoring::DIR)
    ));
    let mut sources = vec![
        ApplicationSource {
            repo_url: m.chart_repo.clone(),
            chart: Some(MONITORING_CHART.into()),
            target_revision: Some(m.chart_version.clone()),
            helm: Some(ApplicationSourceHelm {
                release_name: Some(MONITORING_CHART.into()),
                value_files: vec![format!("$values/{values}")],
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
    ];
    if monitoring::owns_namespace(platform, cluster) {
        sources.push(repo_directory(
            platform,
            &format!(
                "{GENERATED_DIR}/{}",
                super::cluster_dir(&cluster.name, monitoring::DIR)
            ),
        ));
    }
    Some(application(
        platform,
        argo_labels(platform, cluster, None),
        &AppDef {
            name: monitoring_app_name(&cluster.name),
            project: cluster.project.clone(),
            sources,
            destination: destination(&cluster.destination, Some(&m.namespace)),
            sync: cluster_sync(platform, cluster),
            // The chart's CRDs are too large for client-side apply's annotation.
            options: &["ServerSideApply=true"],
            wave: bootstrap_wave::MONITORING,
            finalizer: true,
        },
    ))
}

/// `<cluster>-baseline` or `<cluster>-baseline-custom` (`component`): the cluster's
/// baseline objects, from `generated/clusters/<cluster>/<component>/`; `None` when the
/// cluster has none of that component.
pub fn baseline_application(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    component: &str,
) -> Option<Application> {
    let b = &cluster.baseline;
    let (count, wave) = if component == super::baseline::CORE {
        (b.core_len(), bootstrap_wave::BASELINE)
    } else {
        (b.custom_len(), bootstrap_wave::BASELINE_CUSTOM)
    };
    if count == 0 {
        return None;
    }
    Some(application(
        platform,
        argo_labels(platform, cluster, None),
        &AppDef {
            name: baseline_app_name(&cluster.name, component),
            project: cluster.project.clone(),
            sources: vec![repo_directory(
                platform,
                &format!(
                    "{GENERATED_DIR}/{}",
                    super::cluster_dir(&cluster.name, component)
                ),
            )],
            destination: destination(&cluster.destination, None),
            sync: cluster_sync(platform, cluster),
            options: &[],
            wave,
            // Pruning a StorageClass or a NodePool with its Application would drain
            // nodes and strand volumes: deleting the Application leaves them.
            finalizer: false,
        },
    ))
}

/// `<cluster>-<component>`: the hand-written manifests of a cluster's component,
/// `generated/clusters/<cluster>/<component>/` (see `escape_hatch`), in the cluster's
/// project. Deleting the Application leaves its objects, like the baseline's.
pub fn manifests_application(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    component: &crate::spec::ManifestComponent,
) -> Application {
    let (component, wave) = (component.name.as_str(), component.wave);
    application(
        platform,
        argo_labels(platform, cluster, None),
        &AppDef {
            name: format!("{}-{component}", cluster.name),
            project: cluster.project.clone(),
            sources: vec![repo_directory(
                platform,
                &format!(
                    "{GENERATED_DIR}/{}",
                    super::cluster_dir(&cluster.name, component)
                ),
            )],
            destination: destination(&cluster.destination, None),
            sync: cluster_sync(platform, cluster),
            options: &[],
            wave,
            finalizer: false,
        },
    )
}

/// Label naming the add-on an Application installs.
pub const ADDON_LABEL: &str = "kgen.dev/addon";

/// The `application-<addon>.yaml` file name.
pub fn addon_file(addon: &str) -> String {
    format!("application-{addon}.yaml")
}

/// `<cluster>-<addon>`: a Helm chart kgen installs on the cluster (cert-manager,
/// external-dns, ...): the pinned chart, its values file from this repository, and its
/// namespace.
pub fn addon_application(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    a: &crate::spec::AddonSpec,
) -> Application {
    let values = platform.repo_path_of(&format!(
        "{GENERATED_DIR}/{}",
        super::values_file(&cluster.name, &a.name)
    ));
    let mut sources = vec![
        ApplicationSource {
            repo_url: a.argocd_repo().to_string(),
            chart: Some(a.chart.clone()),
            target_revision: Some(a.version.clone()),
            helm: Some(ApplicationSourceHelm {
                release_name: Some(a.release.clone()),
                value_files: vec![format!("$values/{values}")],
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
    ];
    if super::namespace::owned_by_cluster_app(platform, cluster, &a.namespace) {
        sources.push(repo_directory(
            platform,
            &format!(
                "{GENERATED_DIR}/{}",
                super::cluster_dir(&cluster.name, &a.name)
            ),
        ));
    }
    let mut labels = argo_labels(platform, cluster, None);
    labels.insert(ADDON_LABEL.into(), a.name.clone());
    let ignore = a
        .preset
        .map(|p| (p.render_time_fields)(&a.values, &a.namespace))
        .unwrap_or_default();
    let mut app = application(
        platform,
        labels,
        &AppDef {
            name: format!("{}-{}", cluster.name, a.name),
            project: cluster.project.clone(),
            sources,
            destination: destination(&cluster.destination, Some(&a.namespace)),
            sync: cluster_sync(platform, cluster),
            options: match (a.server_side_apply, ignore.is_empty()) {
                (true, true) => &["ServerSideApply=true"],
                (true, false) => &["ServerSideApply=true", "RespectIgnoreDifferences=true"],
                (false, true) => &[],
                (false, false) => &["RespectIgnoreDifferences=true"],
            },
            wave: a.wave,
            finalizer: true,
        },
    );
    app.spec.ignore_differences = ignore;
    app
}

/// The app of apps: `kubectl apply -f generated/argocd/<cluster>/bootstrap.yaml` brings
/// the cluster up; from then on it keeps this directory in sync (itself included).
pub fn bootstrap(platform: &PlatformSpec, cluster: &ClusterSpec) -> Application {
    let mut app = application(
        platform,
        argo_labels(platform, cluster, None),
        &AppDef {
            name: bootstrap_name(&cluster.name),
            project: "default".into(),
            sources: vec![repo_directory(
                platform,
                &format!("{GENERATED_DIR}/{DIR}/{}", cluster.name),
            )],
            destination: destination(
                &Destination::Server(IN_CLUSTER.into()),
                Some(&platform.argocd_namespace),
            ),
            sync: cluster_sync(platform, cluster),
            options: &[],
            wave: 0,
            finalizer: false,
        },
    );
    // It is applied by hand, outside any wave.
    if let Some(a) = app.metadata.annotations.as_mut() {
        a.remove(crate::crd::argocd::SYNC_WAVE_ANNOTATION);
    }
    if app
        .metadata
        .annotations
        .as_ref()
        .is_some_and(BTreeMap::is_empty)
    {
        app.metadata.annotations = None;
    }
    app
}
