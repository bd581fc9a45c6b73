//! Rendering: from effective specs to typed Kubernetes objects.
//!
//! One file per kind builds that kind from a `ServiceSpec` (or an `EnvSpec` for
//! environment-wide objects). Objects are built from k8s-openapi types and kgen's
//! typed CRD structs, then turned into `serde_json::Value` once, here, so the later
//! stages (validate, emit, diff) work on one representation.

pub mod argocd;
pub mod cmp_plugin;
mod config_map;
pub mod deployment;
mod external_secret;
mod hpa;
pub mod ingress;
pub mod labels;
pub mod monitoring;
mod namespace;
pub mod network_policy;
mod pdb;
pub mod pod_identity;
mod secret_provider_class;
mod service;
mod service_account;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::spec::{EnvSpec, PlatformSpec, SecretsBackend, ServiceSpec, WorkloadIdentity};

/// Argo CD sync waves: what must exist before the Deployment that uses it.
pub mod wave {
    pub const ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
    pub const NAMESPACE: &str = "-2";
    pub const SUPPORT: &str = "-1";
}

/// One rendered object and where it goes.
#[derive(Debug, Clone)]
pub struct Object {
    /// Environment it belongs to.
    pub env: String,
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
            path,
            service: service.map(str::to_string),
            value: serde_json::to_value(value).expect("Kubernetes objects serialise to JSON"),
        }
    }

    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
}

/// Renders every object of every environment, plus the Argo CD objects. Environments
/// are rendered in parallel; the order of the result is fixed (environments by name,
/// then `environment`'s order, then the Argo CD objects).
pub fn platform(platform: &PlatformSpec) -> Vec<Object> {
    use rayon::prelude::*;
    let per_env: Vec<Vec<Object>> = platform
        .environments
        .par_iter()
        .map(|env| {
            let mut out = environment(platform, env);
            out.extend(argocd_objects(platform, env));
            out
        })
        .collect();
    per_env.into_iter().flatten().collect()
}

/// Renders the workloads of one environment, services in name order, and its monitoring stack.
pub fn environment(platform: &PlatformSpec, env: &EnvSpec) -> Vec<Object> {
    let owners = namespace_owners(env);
    let mut out = Vec::new();
    {
        use rayon::prelude::*;
        let per_service: Vec<Vec<Object>> = env
            .services
            .par_iter()
            .zip(owners.par_iter())
            .map(|(svc, owns)| service_objects(platform, env, svc, *owns))
            .collect();
        out.extend(per_service.into_iter().flatten());
    }
    out.extend(environment_extras(platform, env));
    out
}

/// For each service of `env` (in order), whether it owns its namespace: a namespace
/// shared by several services is emitted once, with the first of them by name.
pub fn namespace_owners(env: &EnvSpec) -> Vec<bool> {
    let mut namespaces = BTreeSet::new();
    env.services
        .iter()
        .map(|svc| namespaces.insert(svc.namespace.as_str()))
        .collect()
}

/// The objects of `env` that belong to no service: its monitoring stack and the
/// Pod Identity associations.
pub fn environment_extras(platform: &PlatformSpec, env: &EnvSpec) -> Vec<Object> {
    let mut out = Vec::new();
    if let Some(m) = &env.monitoring {
        let path = |file: &str| format!("{}/{}/{file}", env.name, monitoring::DIR);
        if !env.services.iter().any(|s| s.namespace == m.namespace) {
            out.push(Object::new(
                &env.name,
                None,
                path("namespace.yaml"),
                &monitoring::namespace(platform, m),
            ));
        }
        out.push(Object::new(
            &env.name,
            None,
            path(monitoring::VALUES_FILE),
            &monitoring::values(m),
        ));
    }
    if env.workload_identity == WorkloadIdentity::PodIdentity {
        out.push(Object::new(
            &env.name,
            None,
            format!("{}/{}", env.name, pod_identity::FILE),
            &pod_identity::build(env),
        ));
    }
    out
}

/// Renders the objects of one service of `env` (`None` when it is not among the
/// environment's enabled services): exactly what `environment` renders for it. A
/// namespace shared by several services belongs to the first of them, by name.
pub fn one_service(platform: &PlatformSpec, env: &EnvSpec, name: &str) -> Option<Vec<Object>> {
    let i = env.services.iter().position(|s| s.name == name)?;
    let svc = &env.services[i];
    let owns_namespace = !env.services[..i]
        .iter()
        .any(|s| s.namespace == svc.namespace);
    Some(service_objects(platform, env, svc, owns_namespace))
}

/// The Argo CD objects of one environment, under `argocd/<env>/`. A project shared by
/// several environments is written once, with the first of them (by name).
pub fn argocd_objects(platform: &PlatformSpec, env: &EnvSpec) -> Vec<Object> {
    let path = |file: &str| format!("argocd/{}/{file}", env.name);
    let mut out = Vec::new();
    let sharing: Vec<&EnvSpec> = platform
        .environments
        .iter()
        .filter(|e| e.project == env.project)
        .collect();
    if sharing.first().is_some_and(|first| first.name == env.name) {
        out.push(Object::new(
            &env.name,
            None,
            path("appproject.yaml"),
            &argocd::app_project(platform, &env.project, &sharing),
        ));
    }
    out.push(Object::new(
        &env.name,
        None,
        path("applicationset.yaml"),
        &argocd::application_set(platform, env),
    ));
    if let Some(app) = argocd::monitoring_application(platform, env) {
        out.push(Object::new(&env.name, None, path("monitoring.yaml"), &app));
    }
    out.push(Object::new(
        &env.name,
        None,
        path("bootstrap.yaml"),
        &argocd::bootstrap(platform, env),
    ));
    out
}

/// Renders the objects of one service in one environment.
pub fn service_objects(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    owns_namespace: bool,
) -> Vec<Object> {
    let path = |file: &str| format!("{}/{}/{file}", env.name, svc.name);
    let obj = |file: &str, value: &dyn erased::Ser| Object {
        env: env.name.clone(),
        path: path(file),
        service: Some(svc.name.clone()),
        value: value.to_json(),
    };
    let mut out = Vec::new();
    if owns_namespace {
        out.push(obj(
            "namespace.yaml",
            &namespace::build(platform, &svc.namespace),
        ));
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
    out.push(obj(
        "deployment.yaml",
        &deployment::build(platform, env, svc, &config_map),
    ));
    out.push(obj("service.yaml", &service::build(platform, svc)));
    if let Some(route) = &svc.ingress {
        out.push(obj(
            "ingress.yaml",
            &ingress::build(platform, env, svc, route),
        ));
    }
    if let Some(np) = &env.network_policy {
        out.push(obj(
            "networkpolicy.yaml",
            &network_policy::build(platform, env, svc, np.egress),
        ));
    }
    if let Some(max_unavailable) = svc.disruption_budget.as_ref().filter(|_| pdb::wanted(svc)) {
        out.push(obj("pdb.yaml", &pdb::build(platform, svc, max_unavailable)));
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
    out
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
