//! Rendering: from effective specs to typed Kubernetes objects.
//!
//! One file per kind builds that kind from a `ServiceSpec` (or an `EnvSpec` for
//! environment-wide objects). Objects are built from k8s-openapi types and kgen's
//! typed CRD structs, then turned into `serde_json::Value` once, here, so the later
//! stages (validate, emit, diff) work on one representation.

pub mod argocd;
pub mod baseline;
pub mod cmp_plugin;
pub(crate) mod config_map;
mod cronjob;
mod daemonset;
pub mod deployment;
mod external_secret;
mod hpa;
pub mod ingress;
pub mod job;
pub mod labels;
pub mod monitoring;
mod namespace;
pub mod network_policy;
mod pdb;
pub mod pod;
pub mod secret_provider_class;
pub mod service;
mod service_account;
pub use service_account::IRSA_ANNOTATION;
mod statefulset;
pub mod terraform;
pub mod volume_claim;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::spec::{
    ClusterSpec, EnvSpec, PlatformSpec, SecretsBackend, ServiceSpec, Workload, WorkloadKind,
};

/// Argo CD sync waves: what must exist before the Deployment that uses it.
pub mod wave {
    pub const ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
    pub const NAMESPACE: &str = "-2";
    pub const SUPPORT: &str = "-1";
}

/// One rendered object and where it goes.
#[derive(Debug, Clone)]
pub struct Object {
    /// Environment it belongs to; for what is rendered once per cluster
    /// (`per_cluster`), the cluster's name.
    pub env: String,
    /// Rendered once per cluster (the cluster's Argo CD objects, monitoring, shared
    /// namespaces, the Terraform hand-off), not for one environment.
    pub per_cluster: bool,
    /// Path under `generated/`, e.g. `dev/main-api/deployment.yaml`.
    pub path: String,
    /// Service it was rendered from, if any.
    pub service: Option<String>,
    pub value: serde_json::Value,
}

impl Object {
    pub fn new(env: &str, service: Option<&str>, path: String, value: &impl Serialize) -> Object {
        Object {
            env: env.to_string(),
            per_cluster: false,
            path,
            service: service.map(str::to_string),
            value: serde_json::to_value(value).expect("Kubernetes objects serialise to JSON"),
        }
    }

    /// An object of `cluster`, rendered once for all its environments.
    pub fn of_cluster(cluster: &str, path: String, value: &impl Serialize) -> Object {
        Object {
            per_cluster: true,
            ..Object::new(cluster, None, path, value)
        }
    }

    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
}

/// Directory under `generated/` of what is installed once per cluster.
pub const CLUSTERS_DIR: &str = "clusters";
/// Directory under `generated/` of Helm values files (not Kubernetes objects).
pub const VALUES_DIR: &str = "values";
/// Directory under `generated/` of the hand-offs to Terraform (JSON).
pub const TERRAFORM_DIR: &str = "terraform";
/// The component of a cluster's shared Namespaces.
pub const NAMESPACES_COMPONENT: &str = "namespaces";

/// `clusters/<cluster>/<component>`: the objects of one of a cluster's Applications.
pub fn cluster_dir(cluster: &str, component: &str) -> String {
    format!("{CLUSTERS_DIR}/{cluster}/{component}")
}

/// `values/<cluster>/<component>.yaml`: the Helm values of a chart on a cluster.
pub fn values_file(cluster: &str, component: &str) -> String {
    format!("{VALUES_DIR}/{cluster}/{component}.yaml")
}

/// Renders every object of every environment and cluster. The order of the result
/// is fixed: environments by name, then clusters by name.
pub fn platform(platform: &PlatformSpec) -> Vec<Object> {
    use rayon::prelude::*;
    let mut out: Vec<Object> = platform
        .environments
        .par_iter()
        .map(|env| environment(platform, env))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    for cluster in &platform.clusters {
        out.extend(cluster_objects(platform, cluster));
    }
    out
}

/// Renders the services of one environment, in name order.
pub fn environment(platform: &PlatformSpec, env: &EnvSpec) -> Vec<Object> {
    let owners = namespace_owners(env);
    let peers = network_policy::Peers::of(env);
    use rayon::prelude::*;
    let per_service: Vec<Vec<Object>> = env
        .services
        .par_iter()
        .zip(owners.par_iter())
        .map(|(svc, owns)| service_objects(platform, env, &peers, svc, *owns))
        .collect();
    per_service.into_iter().flatten().collect()
}

/// The shared namespaces of `env` (see [`namespace::shared_in_env`]).
pub fn shared_namespaces(env: &EnvSpec) -> BTreeSet<&str> {
    namespace::shared_in_env(env)
}

/// The shared namespaces of `cluster` (see [`namespace::shared`]).
pub fn cluster_shared_namespaces(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
) -> BTreeSet<String> {
    namespace::shared(platform, cluster).into_keys().collect()
}

/// For each service of `env` (in order), whether its Application creates its
/// namespace: yes, unless the namespace is shared or one every cluster has.
pub fn namespace_owners(env: &EnvSpec) -> Vec<bool> {
    let shared = shared_namespaces(env);
    env.services
        .iter()
        .map(|svc| {
            !shared.contains(svc.namespace.as_str())
                && !namespace::SYSTEM.contains(&svc.namespace.as_str())
        })
        .collect()
}

/// What is rendered once per cluster: its shared namespaces, its monitoring stack
/// (namespace and Helm values), the Terraform hand-off, and its Argo CD objects.
pub fn cluster_objects(platform: &PlatformSpec, cluster: &ClusterSpec) -> Vec<Object> {
    let mut out = Vec::new();
    let shared_levels = namespace::shared_namespaces(platform, cluster);
    let shared: BTreeSet<String> = shared_levels.keys().cloned().collect();
    let service_namespaces: BTreeSet<&str> = platform
        .environments_on(&cluster.name)
        .flat_map(|e| e.services.iter().map(|s| s.namespace.as_str()))
        .collect();
    for (ns, level) in &shared_levels {
        let dir = cluster_dir(&cluster.name, NAMESPACES_COMPONENT);
        out.push(Object::of_cluster(
            &cluster.name,
            format!("{dir}/{ns}.yaml"),
            &namespace::shared_namespace(platform, ns, level),
        ));
        if service_namespaces.contains(ns.as_str()) {
            if let Some(rb) = baseline::developer_binding(platform, cluster, ns) {
                out.push(Object::of_cluster(
                    &cluster.name,
                    format!("{dir}/{}", baseline::developer_binding_file(ns)),
                    &rb,
                ));
            }
            // The namespace's default deny, as a namespace a service owns has it: with
            // the namespace, here, when an environment whose services are in it has
            // NetworkPolicies on.
            if let Some(egress) = shared_namespace_egress(platform, cluster, ns) {
                out.push(Object::of_cluster(
                    &cluster.name,
                    format!("{dir}/{}", network_policy::default_deny_file(ns)),
                    &network_policy::default_deny(platform, egress, ns),
                ));
            }
        }
    }
    out.extend(baseline::objects(platform, cluster));
    if let Some(m) = &cluster.monitoring {
        if monitoring::owns_namespace(platform, cluster) {
            out.push(Object::of_cluster(
                &cluster.name,
                format!(
                    "{}/namespace.yaml",
                    cluster_dir(&cluster.name, monitoring::DIR)
                ),
                &monitoring::namespace(platform, m),
            ));
        }
        // The typed values, then `values` over them (as an add-on's).
        let mut values =
            serde_json::to_value(monitoring::values(m)).expect("monitoring values serialise");
        crate::addons::merge(&mut values, m.values.clone());
        out.push(Object::of_cluster(
            &cluster.name,
            values_file(&cluster.name, monitoring::DIR),
            &values,
        ));
    }
    for a in &cluster.addons {
        if namespace::owned_by_cluster_app(platform, cluster, &a.namespace) {
            out.push(Object::of_cluster(
                &cluster.name,
                format!("{}/namespace.yaml", cluster_dir(&cluster.name, &a.name)),
                &namespace::with_level(platform, &a.namespace, a.pod_security),
            ));
        }
        out.push(Object::of_cluster(
            &cluster.name,
            values_file(&cluster.name, &a.name),
            &a.values,
        ));
    }
    out.push(Object::of_cluster(
        &cluster.name,
        terraform::file(&cluster.name),
        &terraform::build(platform, cluster),
    ));
    out.extend(argocd_objects(platform, cluster, &shared));
    out
}

/// The egress of the default deny of shared namespace `ns` of `cluster`: `None` when
/// no environment whose services are in it has NetworkPolicies on; `open` when one of
/// them leaves egress open (a deny of egress there would cut its pods off), else
/// `restricted`.
fn shared_namespace_egress(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    ns: &str,
) -> Option<crate::spec::EgressPolicy> {
    platform
        .environments_on(&cluster.name)
        .filter(|e| e.services.iter().any(|s| s.namespace == ns))
        .filter_map(|e| e.network_policy.as_ref().map(|np| np.egress))
        .min_by_key(|egress| *egress != crate::spec::EgressPolicy::Open)
}

/// Renders the objects of one service of `env` (`None` when it is not among the
/// environment's enabled services): exactly what `environment` renders for it.
pub fn one_service(platform: &PlatformSpec, env: &EnvSpec, name: &str) -> Option<Vec<Object>> {
    let i = env.services.iter().position(|s| s.name == name)?;
    let owns = namespace_owners(env)[i];
    let peers = network_policy::Peers::of(env);
    Some(service_objects(
        platform,
        env,
        &peers,
        &env.services[i],
        owns,
    ))
}

/// The Argo CD objects of one cluster, under `argocd/<cluster>/`.
pub fn argocd_objects(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    shared: &BTreeSet<String>,
) -> Vec<Object> {
    let at = |file: &str| argocd::path(&cluster.name, file);
    let mut out = Vec::new();
    for project in argocd::app_projects(platform, cluster, shared) {
        let name = project.metadata.name.clone().unwrap_or_default();
        out.push(Object::of_cluster(
            &cluster.name,
            at(&argocd::project_file(&name)),
            &project,
        ));
    }
    for env in platform.environments_on(&cluster.name) {
        // Its header names the environment's inputs, like its services' files.
        out.push(Object {
            env: env.name.clone(),
            per_cluster: false,
            ..Object::of_cluster(
                &cluster.name,
                at(&argocd::application_set_file(&env.name)),
                &argocd::application_set(platform, cluster, env),
            )
        });
    }
    if !shared.is_empty() {
        out.push(Object::of_cluster(
            &cluster.name,
            at("application-namespaces.yaml"),
            &argocd::namespaces_application(platform, cluster),
        ));
    }
    for a in &cluster.addons {
        out.push(Object::of_cluster(
            &cluster.name,
            at(&argocd::addon_file(&a.name)),
            &argocd::addon_application(platform, cluster, a),
        ));
    }
    for component in [baseline::CORE, baseline::CUSTOM] {
        if let Some(app) = argocd::baseline_application(platform, cluster, component) {
            out.push(Object::of_cluster(
                &cluster.name,
                at(&format!("application-{component}.yaml")),
                &app,
            ));
        }
    }
    for c in platform
        .manifest_components
        .get(&cluster.name)
        .into_iter()
        .flatten()
    {
        out.push(Object::of_cluster(
            &cluster.name,
            at(&format!("application-{}.yaml", c.name)),
            &argocd::manifests_application(platform, cluster, c),
        ));
    }
    if let Some(app) = argocd::monitoring_application(platform, cluster) {
        out.push(Object::of_cluster(
            &cluster.name,
            at("application-monitoring.yaml"),
            &app,
        ));
    }
    out.push(Object::of_cluster(
        &cluster.name,
        at(argocd::BOOTSTRAP_FILE),
        &argocd::bootstrap(platform, cluster),
    ));
    out
}

/// Renders the objects of one service in one environment (`peers`: the environment's
/// [`network_policy::Peers`], built once for all its services).
pub fn service_objects(
    platform: &PlatformSpec,
    env: &EnvSpec,
    peers: &network_policy::Peers,
    svc: &ServiceSpec,
    owns_namespace: bool,
) -> Vec<Object> {
    // By hand, not with `format!`: one path per object of every service.
    let path = |file: &str| {
        let mut p = String::with_capacity(env.name.len() + svc.name.len() + file.len() + 2);
        p.push_str(&env.name);
        p.push('/');
        p.push_str(&svc.name);
        p.push('/');
        p.push_str(file);
        p
    };
    let obj = |file: &str, value: &dyn erased::Ser| {
        let mut value = value.to_json();
        // The service's own labels go on every object of it, also those whose labels
        // are not the service's (its Namespace, the namespace's default-deny policy);
        // kgen's own keys win.
        if !svc.labels.is_empty() {
            let meta = &mut value["metadata"];
            if !meta["labels"].is_object() {
                meta["labels"] = serde_json::Value::Object(Default::default());
            }
            if let Some(labels) = meta["labels"].as_object_mut() {
                for (k, v) in &svc.labels {
                    labels
                        .entry(k.clone())
                        .or_insert_with(|| serde_json::Value::from(v.clone()));
                }
            }
        }
        // The service's own annotations go on every object of it.
        if !svc.annotations.is_empty() {
            let meta = &mut value["metadata"];
            if !meta["annotations"].is_object() {
                meta["annotations"] = serde_json::Value::Object(Default::default());
            }
            for (k, v) in &svc.annotations {
                meta["annotations"][k] = serde_json::Value::from(v.clone());
            }
        }
        Object {
            env: env.name.clone(),
            per_cluster: false,
            path: path(file),
            service: Some(svc.name.clone()),
            value,
        }
    };
    let mut out = Vec::new();
    if owns_namespace {
        out.push(obj("namespace.yaml", &namespace::of_service(platform, svc)));
        if let Some(rb) = platform
            .cluster(&env.cluster)
            .and_then(|c| baseline::developer_binding(platform, c, &svc.namespace))
        {
            out.push(obj(baseline::DEVELOPER_BINDING_FILE, &rb));
        }
        if let Some(np) = &env.network_policy {
            out.push(obj(
                "networkpolicy-default-deny.yaml",
                &network_policy::default_deny(platform, np.egress, &svc.namespace),
            ));
        }
    }
    out.push(obj(
        "serviceaccount.yaml",
        &service_account::build(platform, env, svc),
    ));
    let config_map = config_map::build(platform, svc);
    out.push(obj("configmap.yaml", &config_map));
    let files = config_map::build_files(platform, svc);
    if let Some(files) = &files {
        out.push(obj("configmap-files.yaml", files));
    }
    // A change to either ConfigMap rolls the pods.
    let config_hash = match &files {
        Some(f) => config_map::hash_all(&[&config_map, f]),
        None => config_map::hash(&config_map),
    };
    if !svc.secrets.is_empty() {
        match env.secrets_backend {
            SecretsBackend::Csi => out.push(obj(
                "secretproviderclass.yaml",
                &secret_provider_class::build(platform, env, svc),
            )),
            SecretsBackend::ExternalSecrets => out.push(obj(
                "externalsecret.yaml",
                &external_secret::build(platform, env, svc),
            )),
        }
    }
    if svc.kind() != WorkloadKind::Statefulset {
        for v in &svc.volumes {
            if let Some(claim) = volume_claim::build(platform, svc, v) {
                out.push(obj(&format!("pvc-{}.yaml", v.name), &claim));
            }
        }
    }
    match &svc.workload {
        Workload::Deployment | Workload::Worker => out.push(obj(
            "deployment.yaml",
            &deployment::build(platform, env, svc, config_hash),
        )),
        Workload::StatefulSet(settings) => out.push(obj(
            "statefulset.yaml",
            &statefulset::build(platform, env, svc, settings, config_hash),
        )),
        Workload::DaemonSet => out.push(obj(
            "daemonset.yaml",
            &daemonset::build(platform, env, svc, config_hash),
        )),
        Workload::Job { job: run, hook } => out.push(obj(
            "job.yaml",
            &job::build(platform, env, svc, run, hook.as_ref(), config_hash),
        )),
        Workload::CronJob { cron, job: run } => out.push(obj(
            "cronjob.yaml",
            &cronjob::build(platform, env, svc, cron, run, config_hash),
        )),
    }
    if let Some(exposure) = &svc.service {
        out.push(obj(
            "service.yaml",
            &service::build(platform, svc, exposure),
        ));
    }
    // A StatefulSet's governing Service (its `serviceName`), with or without the
    // ClusterIP Service.
    if svc.kind() == WorkloadKind::Statefulset {
        out.push(obj(
            "service-headless.yaml",
            &service::headless(platform, svc),
        ));
    }
    if let Some(route) = &svc.ingress {
        out.push(obj(
            "ingress.yaml",
            &ingress::build(platform, env, svc, route),
        ));
    }
    if let Some(np) = &env.network_policy {
        out.push(obj(
            "networkpolicy.yaml",
            &network_policy::build(platform, env, peers, svc, np.egress),
        ));
        if let Some(solver) = network_policy::acme_http01(platform, env, svc) {
            out.push(obj(network_policy::ACME_HTTP01_FILE, &solver));
        }
    }
    if let Some(budget) = svc.disruption_budget.as_ref().filter(|_| pdb::wanted(svc)) {
        out.push(obj("pdb.yaml", &pdb::build(platform, svc, budget)));
    }
    if let Some(a) = &svc.autoscaling {
        out.push(obj("hpa.yaml", &hpa::build(platform, svc, a)));
    }
    if env.monitoring.is_some() {
        if let Some(sm) = monitoring::service_monitor(platform, svc) {
            out.push(obj("servicemonitor.yaml", &sm));
        }
        out.push(obj(
            "prometheusrule.yaml",
            &monitoring::prometheus_rule(platform, env, svc),
        ));
    }
    // A PreSync hook Job's pod needs its ServiceAccount, ConfigMaps, ... before the Sync
    // phase: they become PreSync hooks too. The hooks of every phase are recorded by a
    // regular ConfigMap that makes a change to them an OutOfSync Application.
    if job::is_presync_hook(svc) {
        job::presync_support(svc, &mut out);
    }
    if job::is_hook(svc) {
        let record = job::hooks_record(platform, svc, &out);
        out.push(obj(job::HOOKS_RECORD_FILE, &record));
    }
    out
}

/// A count or a percentage as Kubernetes' IntOrString.
pub fn int_or_string(
    v: &crate::spec::IntOrPercentValue,
) -> k8s_openapi::apimachinery::pkg::util::intstr::IntOrString {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    match v {
        crate::spec::IntOrPercentValue::Count(n) => IntOrString::Int(*n as i32),
        crate::spec::IntOrPercentValue::Percent(p) => IntOrString::String(p.clone()),
    }
}

/// Object-safe serialisation to JSON, so builders of different types fit one list.
mod erased {
    pub trait Ser {
        fn to_json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("Kubernetes objects serialise to JSON")
        }
    }
}

/// `ObjectMeta` with name, namespace and labels set.
pub fn meta(
    name: &str,
    namespace: Option<&str>,
    labels: std::collections::BTreeMap<String, String>,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: (!labels.is_empty()).then_some(labels),
        ..Default::default()
    }
}

/// Adds `SkipDryRunOnMissingResource=true` to the metadata of a custom resource whose CRD
/// another Application installs (an add-on's, the monitoring stack's): without Argo CD's
/// health check for Applications (deploy/argocd-health), the bootstrap's waves do not
/// wait for the CRDs, and the dry run of a sync that holds a resource of a kind the
/// cluster does not know yet fails the whole sync, the objects kgen could apply
/// included (gitops-engine pkg/sync/sync_context.go, `getSyncTasks`).
pub fn skipping_dry_run(
    mut meta: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(
            "argocd.argoproj.io/sync-options".to_string(),
            "SkipDryRunOnMissingResource=true".to_string(),
        );
    meta
}

/// Adds the sync-wave annotation to an object's metadata.
pub fn with_wave(
    mut meta: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    wave: &str,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(self::wave::ANNOTATION.to_string(), wave.to_string());
    meta
}
