//! Resolution: from parsed layers to one effective `ServiceSpec` per service and
//! environment.
//!
//! For every environment and service this merges the layers (see `merge`), applies
//! built-in defaults, evaluates templates, and checks every value it can check on
//! its own (names, quantities, ports, image tags, secret-looking literals). Every
//! problem becomes a located diagnostic; all of them are collected before returning.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::error::{Error, Result};
use crate::input::{EnvironmentLayer, PlatformFile, Scalar, ServiceLayer, SyncMode};
use crate::merge::{Layers, Located};
use crate::source::{FileId, Origin};
use crate::spec::{
    Autoscaling, CpuMem, EnvSpec, Metrics, PlatformSpec, Probes, Resources, Secret, ServiceSpec,
    Waiver,
};
use crate::template::Templates;
use crate::workspace::Workspace;
use crate::{image_ref, names, quantity, rules, secret_scan};

mod addons;
mod availability;
mod baseline;
mod clusters;
mod env_settings;
mod env_vars;
mod monitoring;
mod pod;
mod references;
mod secret_paths;
mod traffic;
mod workload;

pub use clusters::{OLDEST_KUBERNETES, RESERVED_CLUSTER_NAMES};
pub use env_settings::{is_cidr, is_go_duration};
pub use env_vars::{kubelet_expand, kubelet_literal, kubelet_order};
pub use secret_paths::secret_path;
pub use traffic::check_host;
pub use workload::{check_schedule, check_time_zone};

/// Adds help and labels to a diagnostic already pushed.
trait Amend {
    fn help(self, help: impl Into<String>) -> Self;
    fn label(self, label: impl Into<String>) -> Self;
    fn redacted(self) -> Self;
}

impl Amend for &mut Diagnostic {
    fn help(self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    fn label(self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    fn redacted(self) -> Self {
        self.redact = true;
        self
    }
}

/// Built-in defaults, the lowest layer. Documented in docs/platform.md.
pub mod builtin {
    pub const CLUSTER: &str = "https://kubernetes.default.svc";
    pub const NAMESPACE: &str = "{{ service }}";
    pub const REVISION: &str = "HEAD";
    pub const PORT: u16 = 8080;
    pub const REPLICAS: u32 = 2;
    pub const REQUEST_CPU: &str = "100m";
    pub const REQUEST_MEMORY: &str = "128Mi";
    pub const LIMIT_CPU: &str = "500m";
    pub const LIMIT_MEMORY: &str = "256Mi";
    pub const AUTOSCALING_MIN: u32 = 1;
    pub const AUTOSCALING_CPU: u32 = 80;
    pub const RUN_AS_USER: i64 = 10001;
    pub const METRICS_PATH: &str = "/metrics";
    pub const METRICS_INTERVAL: &str = "30s";
    pub const ARGOCD_NAMESPACE: &str = "argocd";
    pub const MONITORING_NAMESPACE: &str = "monitoring";
    pub const CHART_REPO: &str = "https://prometheus-community.github.io/helm-charts";
    pub const RETENTION: &str = "15d";
    pub const PROMETHEUS_STORAGE: &str = "50Gi";
    pub const GRAFANA_STORAGE: &str = "10Gi";
    pub const ALERTMANAGER_STORAGE: &str = "10Gi";
    pub const STORAGE_CLASS: &str = "gp3";
    pub const INGRESS_CONTROLLER_NAMESPACE: &str = "ingress-nginx";
    pub const CLUSTER_ISSUER: &str = "letsencrypt-prod";
    pub const SECRET_STORE: &str = "aws-secrets-manager";
    pub const SSM_SECRET_STORE: &str = "aws-parameter-store";
    pub const REFRESH_INTERVAL: &str = "1h";
    pub const MAX_UNAVAILABLE: u32 = 1;
}

/// ConfigMap key that carries the service's version (its image tag).
pub const VERSION_KEY: &str = "VERSION";
/// Names an environment cannot have: they are directories of their own under generated/
/// (`argocd/`) or under generated/argocd/ (`cmp/`, the plugin configuration).
pub const RESERVED_ENV_NAMES: &[&str] = &["argocd", "cmp", "clusters", "values", "terraform"];
/// Names `[environments.<env>.vars]` cannot use: they are already in `env`.
pub const RESERVED_VARS: &[&str] = &["name", "cluster", "project", "sync", "production"];
/// Names `[clusters.<name>] vars` cannot use: they are already in `cluster`.
pub const RESERVED_CLUSTER_VARS: &[&str] =
    &["name", "server", "destination_name", "kubernetes_version"];

/// The usage error for an `--env` that platform.toml does not define.
pub fn unknown_environment(name: &str, known: &[&str]) -> Error {
    let hint = did_you_mean(name, known.iter().copied())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    Error::Usage(format!(
        "unknown environment `{name}`{hint}; platform.toml defines: {}\n  help: pass one of those, or declare it with `[environments.{name}]` in platform.toml",
        known.join(", ")
    ))
}

/// Resolves every environment (or only `only`, when not empty).
pub fn resolve(ws: &Workspace, only: &[String]) -> Result<PlatformSpec> {
    let known = ws.environment_names();
    if let Some(name) = only.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(unknown_environment(name, &known));
    }
    let mut r = Resolver {
        ws,
        pf: ws.platform_file,
        templates: Templates::new(),
        // What reading found and left for this run to report with its own.
        diags: ws.deferred.clone(),
        refs: Vec::new(),
    };
    let mut spec = r.platform(only);
    // What follows from a key or value that reading left out is not a mistake of
    // its own (an `autoscaling` whose mistyped `max` was left out has no `max`).
    // When reading found errors, resolving's warnings are left for a later run:
    // judged on what reading left out, they may be wrong.
    let read = ws.deferred.len();
    let read_failed = ws.deferred.iter().any(Diagnostic::is_error);
    let found = r.diags.split_off(read);
    r.diags.extend(found.into_iter().filter(|d| {
        (d.is_error() || !read_failed)
            && d.origin.as_ref().is_none_or(|o| {
                !ws.poisoned.iter().any(|p| {
                    p.file == o.file
                        && p.span.start < o.span.end.max(o.span.start + 1)
                        && o.span.start < p.span.end.max(p.span.start + 1)
                })
            })
    }));
    crate::diagnostic::sort(&mut r.diags);
    // The same mistake in a shared layer shows up once per environment: report it once.
    r.diags.dedup();
    r.diags = once_per_place(std::mem::take(&mut r.diags));
    if r.diags.iter().any(Diagnostic::is_error) {
        return Err(Error::invalid(r.diags, ws.sources.clone()));
    }
    spec.warnings = r.diags;
    Ok(spec)
}

/// One error per place and rule: a template in a shared layer that is wrong in
/// every environment (`host = "API.{{ env.domain }}"`) gives one message per
/// environment, each naming its own value; the first is kept and says how many more
/// there were. Warnings stay one per environment or cluster (KG032 names the cluster
/// whose baseline lacks the object). `diags` is sorted ([`crate::diagnostic::sort`]).
fn once_per_place(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut out: Vec<(Diagnostic, usize)> = Vec::new();
    for d in diags {
        if let Some((last, more)) = out.last_mut() {
            if d.is_error()
                && d.origin.is_some()
                && last.origin == d.origin
                && last.code == d.code
                && last.severity == d.severity
                && last.help == d.help
                && last.label == d.label
            {
                *more += 1;
                continue;
            }
        }
        out.push((d, 0));
    }
    out.into_iter()
        .map(|(mut d, more)| {
            if more > 0 {
                // Before the advice, which renders as the help line.
                if d.help.is_none() {
                    if let Some((problem, advice)) = crate::diagnostic::split_advice(&d.message) {
                        d.message = problem;
                        d.help = Some(advice);
                    }
                }
                d.message
                    .push_str(&format!(" (and {more} more like it from this line)"));
            }
            d
        })
        .collect()
}

/// The usage error for a service that platform.toml does not define.
pub fn unknown_service(name: &str, known: &[&str]) -> Error {
    let hint = did_you_mean(name, known.iter().copied())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    Error::Usage(format!(
        "unknown service `{name}`{hint}; platform.toml defines: {}",
        known.join(", ")
    ))
}

struct Resolver<'a> {
    ws: &'a Workspace,
    pf: FileId,
    templates: Templates,
    diags: Vec<Diagnostic>,
    /// References to baseline objects found while resolving clusters, checked last.
    refs: Vec<references::BaselineRef>,
}

impl<'a> Resolver<'a> {
    fn platform_file(&self) -> &'a PlatformFile {
        &self.ws.platform
    }

    fn at(&self, span: &std::ops::Range<usize>) -> Origin {
        Origin::new(self.pf, span.clone())
    }

    fn error(&mut self, code: &'static str, origin: Origin, message: String) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(code, message).at(origin));
        self.diags.last_mut().expect("just pushed")
    }

    fn warning(&mut self, code: &'static str, origin: Origin, message: String) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::warning(code, message).at(origin));
        self.diags.last_mut().expect("just pushed")
    }

    fn platform(&mut self, only: &[String]) -> PlatformSpec {
        let p = &self.platform_file().platform;
        let name = p.name.value.clone();
        if let Err(e) = names::check_dns1123_label(&name) {
            let d = self.error(
                rules::INVALID_NAME,
                self.at(&p.name.span),
                format!("platform name: {e}"),
            );
            if let Some(n) = names::nearest_dns1123_label(&name) {
                d.label(format!("did you mean `{n}`?"));
            }
        }
        let repo = p.repo.value.clone();
        self.check_repo_url(&repo, self.at(&p.repo.span));
        let registry = p.registry.as_ref().map(|r| r.value.clone());
        if let Some(r) = &p.registry {
            if r.value.is_empty()
                || r.value.contains(char::is_whitespace)
                || r.value.contains(':') && !r.value.contains('.')
            {
                self.error(
                    rules::INVALID_IMAGE,
                    self.at(&r.span),
                    format!("`{}` is not a registry host", r.value),
                )
                .help("write a host and optional path, like `123456789012.dkr.ecr.eu-west-1.amazonaws.com` or `ghcr.io/acme`");
            }
        }
        let argocd_namespace = self
            .platform_file()
            .argocd
            .as_ref()
            .and_then(|a| a.namespace.as_ref())
            .map(|n| {
                if let Err(e) = names::check_dns1123_label(&n.value) {
                    let d = self.error(
                        rules::INVALID_NAME,
                        self.at(&n.span),
                        format!("Argo CD namespace: {e}"),
                    );
                    if let Some(n) = names::nearest_dns1123_label(&n.value) {
                        d.label(format!("did you mean `{n}`?"));
                    }
                }
                n.value.clone()
            })
            .unwrap_or_else(|| builtin::ARGOCD_NAMESPACE.to_string());

        let placements = self.placements();
        let clusters = self.clusters(&placements, only);
        // Environments are resolved on all cores, each by a resolver of its own (an
        // environment reads the platform and its cluster, never another
        // environment); what they found is taken in platform order, as one resolver
        // going through them would have found it.
        let todo: Vec<_> = self
            .platform_file()
            .environments
            .iter()
            .filter(|(env_key, _)| only.is_empty() || only.contains(&env_key.value))
            .filter_map(|(env_key, env_layer)| {
                let cluster = clusters
                    .iter()
                    .find(|c| c.name == placements[&env_key.value].cluster)?;
                Some((env_key, env_layer, cluster))
            })
            .collect();
        let (ws, pf) = (self.ws, self.pf);
        let resolved: Vec<(
            Option<EnvSpec>,
            Vec<Diagnostic>,
            Vec<references::BaselineRef>,
        )> = {
            use rayon::prelude::*;
            todo.par_iter()
                .map(|(env_key, env_layer, cluster)| {
                    let mut r = Resolver {
                        ws,
                        pf,
                        templates: Templates::new(),
                        diags: Vec::new(),
                        refs: Vec::new(),
                    };
                    let env = r.environment(&env_key.value, &env_key.span, env_layer, cluster);
                    (env, r.diags, r.refs)
                })
                .collect()
        };
        let mut environments = Vec::new();
        for (env, mut diags, mut refs) in resolved {
            self.diags.append(&mut diags);
            self.refs.append(&mut refs);
            environments.extend(env);
        }
        self.check_projects(&environments, &clusters);
        self.check_external_secrets_api_version(&clusters, &environments);
        self.check_references(&clusters, &environments);
        if self.platform_file().environments.is_empty() {
            self.error(
                rules::MISSING_KEY,
                self.at(&p.span),
                "platform.toml defines no environments".into(),
            )
            .help("add at least one `[environments.<name>]` table, e.g. `[environments.dev]`");
        }
        let repo_path = match &p.repo_path {
            Some(rp) => {
                let v = rp.value.trim_matches('/').to_string();
                let bad = rp.value.starts_with('/')
                    || v.split('/').any(|c| c.is_empty() || c == "." || c == "..")
                    || v.contains(char::is_whitespace);
                if bad && !rp.value.is_empty() {
                    self.error(
                        rules::INVALID_VALUE,
                        self.at(&rp.span),
                        format!("`{}` is not a directory inside the repository", rp.value),
                    )
                    .help("write a relative path without `..`, like `platforms/kontaxa`, or leave `repo_path` out for the root");
                }
                v
            }
            None => String::new(),
        };
        let (allowed_registries, waivers) = self.policy_settings();
        PlatformSpec {
            name,
            repo,
            repo_path,
            revision: p
                .revision
                .as_ref()
                .map(|r| r.value.clone())
                .unwrap_or_else(|| builtin::REVISION.into()),
            registry,
            aws_region: p.aws_region.as_ref().map(|r| r.value.clone()),
            argocd_namespace,
            argocd_mode: self
                .platform_file()
                .argocd
                .as_ref()
                .and_then(|a| a.mode.as_ref())
                .map(|m| m.value)
                .unwrap_or_default(),
            environments,
            clusters,
            allowed_registries,
            waivers,
            warnings: Vec::new(),
            manifest_components: Default::default(),
        }
    }

    /// `[platform] allowed_registries` and `waivers`; waivers anywhere else than
    /// `[platform]` and `[services.<name>]` of platform.toml are refused (KG200).
    fn policy_settings(&mut self) -> (Vec<String>, Vec<Waiver>) {
        let p = &self.platform_file().platform;
        let mut allowed = Vec::new();
        for r in p.allowed_registries.iter().flat_map(|l| &l.value) {
            if r.value.is_empty()
                || r.value.contains(char::is_whitespace)
                || r.value.contains("://")
            {
                self.error(
                    rules::INVALID_IMAGE,
                    self.at(&r.span),
                    format!("`{}` is not a registry host", r.value),
                )
                .help("write a host and optional path, like `ghcr.io/acme` (no scheme)");
            }
            allowed.push(r.value.trim_end_matches('/').to_string());
        }
        let waivers = waivers(self.pf, p.waivers.as_ref());
        if let Some(w) = self
            .platform_file()
            .defaults
            .as_ref()
            .and_then(|d| d.value.waivers.as_ref())
        {
            self.error(
                rules::WAIVER,
                self.at(&w.span),
                "waivers cannot be set in [defaults]".into(),
            )
            .help("waive a rule for every service under `[platform] waivers`, or for one service under its `[services.<name>]`");
        }
        for overlay in self.ws.overlays.values() {
            for layer in overlay.data.services.values() {
                if let Some(w) = &layer.value.waivers {
                    self.error(
                        rules::WAIVER,
                        Origin::new(overlay.file, w.span.clone()),
                        "waivers cannot be set in an overlay".into(),
                    )
                    .help("write waivers in platform.toml, under `[platform]` or `[services.<name>]`, where reviewers see them in one place");
                }
            }
        }
        (allowed, waivers)
    }

    fn check_repo_url(&mut self, url: &str, origin: Origin) {
        let ok = (url.starts_with("https://")
            || url.starts_with("http://")
            || url.starts_with("ssh://")
            || url.starts_with("git@"))
            && !url.contains(char::is_whitespace);
        if !ok {
            self.error(
                rules::INVALID_VALUE,
                origin,
                format!("`{url}` is not a git repository URL"),
            )
            .help("write the URL Argo CD clones, like `https://github.com/acme/platform.git`");
        }
    }

    fn environment(
        &mut self,
        name: &str,
        name_span: &std::ops::Range<usize>,
        layer: &'a crate::spanned::Spanned<EnvironmentLayer>,
        cluster: &crate::spec::ClusterSpec,
    ) -> Option<EnvSpec> {
        let name_origin = self.at(name_span);
        let errors_before = self.error_count();
        if let Err(e) = names::check_dns1123_label(name) {
            let d = self.error(
                rules::INVALID_NAME,
                name_origin.clone(),
                format!("environment name: {e}"),
            );
            if let Some(n) = names::nearest_dns1123_label(name) {
                d.label(format!("did you mean `{n}`?"));
            }
        }
        if RESERVED_ENV_NAMES.contains(&name) {
            self.error(
                rules::RESERVED,
                name_origin.clone(),
                format!("`{name}` cannot be an environment name: kgen writes generated/{name}/ or generated/argocd/{name}/ for its own use"),
            )
            .help("choose another name, such as `ops` or `tools`");
        }
        let overlay = self.ws.overlays.get(name);
        let mut layers: Layers<EnvironmentLayer> = Layers::new();
        layers.push(self.pf, &layer.value);
        if let Some(o) = overlay {
            if let Some(e) = &o.data.environment {
                layers.push(o.file, &e.value);
            }
        }
        let project_at = layers.pick(|l| l.project.as_ref());
        let project = project_at
            .as_ref()
            .map_or_else(|| name.to_string(), |p| p.value.clone());
        let project_origin = project_at
            .as_ref()
            .map_or_else(|| name_origin.clone(), |p| p.origin.clone());
        if let Some(p) = &project_at {
            self.check_project_name(p.value, project_origin.clone());
        }
        if let Some(declared) = self
            .platform_file()
            .argocd
            .as_ref()
            .and_then(|a| a.projects.as_ref())
        {
            let known: Vec<&str> = declared.value.iter().map(|p| p.value.as_str()).collect();
            if !known.contains(&project.as_str()) {
                let hint = did_you_mean(&project, known.iter().copied());
                let d = self.error(
                    rules::UNKNOWN_PROJECT,
                    project_origin,
                    format!("environment `{name}` uses Argo CD project `{project}`, which `[argocd] projects` does not list"),
                );
                if let Some(h) = hint {
                    d.label = Some(h);
                }
                d.help = Some(format!(
                    "use one of: {}; or add `{project}` to `[argocd] projects`",
                    known.join(", ")
                ));
            }
        }
        let sync = layers
            .pick(|l| l.sync.as_ref())
            .map_or(SyncMode::Manual, |s| *s.value);
        let production = layers
            .pick(|l| l.production.as_ref())
            .is_some_and(|p| *p.value);

        let mut vars = BTreeMap::new();
        for (key, entry) in layers.map(|l| Some(&l.vars)) {
            if RESERVED_VARS.contains(&key) {
                self.error(
                    rules::RESERVED,
                    entry.key.clone(),
                    format!("`{key}` is a built-in field of `env` and cannot be a variable"),
                )
                .help(format!("rename the variable; `{{{{ env.{key} }}}}` already means the environment's {key}"));
                continue;
            }
            if !is_identifier(key) {
                self.error(
                    rules::INVALID_KEY,
                    entry.key.clone(),
                    format!("variable name `{key}` cannot be used in templates"),
                )
                .help("use letters, digits and `_`, starting with a letter, e.g. `aws_account`");
                continue;
            }
            self.scan_secret(key, entry.value.value, &entry.value.origin);
            vars.insert(key.to_string(), entry.value.value.clone());
        }

        let mut inputs = vec![self.ws.sources.get(self.pf).display.clone()];
        if let Some(o) = overlay {
            inputs.push(self.ws.sources.get(o.file).display.clone());
        }
        let mut env = EnvSpec {
            name: name.to_string(),
            cluster: cluster.name.clone(),
            kubernetes_version: cluster.kubernetes_version,
            destination: cluster.destination.clone(),
            project,
            sync,
            production,
            vars,
            services: Vec::new(),
            monitoring: None,
            inputs,
            // Set by `env_settings` below (it needs the template context).
            workload_identity: crate::spec::WorkloadIdentity::Irsa,
            secrets_backend: crate::spec::SecretsBackend::Csi,
            external_secrets: crate::spec::ExternalSecretsSpec {
                store: String::new(),
                ssm_store: String::new(),
                refresh_interval: String::new(),
                api_version: String::new(),
            },
            secret_prefixes: Vec::new(),
            ingress: crate::spec::IngressSpec {
                class: crate::spec::IngressClass::Nginx,
                controller_namespace: String::new(),
                tls: true,
                cluster_issuer: None,
                alb: crate::spec::AlbSpec {
                    scheme: crate::spec::AlbScheme::InternetFacing,
                    certificate_arn: None,
                    ssl_redirect: true,
                    group: None,
                    source_cidrs: Vec::new(),
                },
            },
            network_policy: None,
            origin: name_origin.clone(),
            origins: BTreeMap::new(),
            cluster_namespaces: Default::default(),
        };
        // The cluster's stack scrapes every environment on it.
        env.monitoring = cluster.monitoring.clone();
        env.cluster_namespaces = cluster
            .monitoring
            .iter()
            .map(|m| m.namespace.clone())
            .chain(cluster.addons.iter().map(|a| a.namespace.clone()))
            .collect();
        let ctx_env = env_context(&env);
        let ctx_cluster = cluster_context(cluster);
        self.env_settings(
            &mut env,
            &layer.value,
            overlay.and_then(|o| o.data.environment.as_ref().map(|e| (o.file, &e.value))),
            &ctx_env,
            &ctx_cluster,
        );
        // Every enabled service's layers, then their namespaces (which other
        // templates may read as `namespaces['<service>']`), then the services.
        let mut enabled = Vec::new();
        for (svc_key, svc_layer) in &self.platform_file().services {
            let mut layers: Layers<ServiceLayer> = Layers::new();
            if let Some(d) = &self.platform_file().defaults {
                layers.push_base(self.pf, &d.value);
            }
            layers.push(self.pf, &svc_layer.value);
            let mut header = self.at(&svc_key.span);
            if let Some(o) = overlay {
                if let Some((k, l)) = o.data.services.get_key_value(svc_key.value.as_str()) {
                    layers.push(o.file, &l.value);
                    header = Origin::new(o.file, k.span.clone());
                }
            }
            if layers
                .pick(|l| l.enabled.as_ref())
                .is_some_and(|e| !*e.value)
            {
                continue;
            }
            enabled.push((svc_key, layers, header));
        }
        let env_namespace = self.env_layers(name).pick(|l| l.namespace.as_ref());
        let mut namespaces = BTreeMap::new();
        for (svc_key, layers, _) in &enabled {
            if names::check_dns1123_label(&svc_key.value).is_err() {
                continue;
            }
            let ctx = self.template_context(&svc_key.value, &ctx_env, &ctx_cluster, None);
            let ns = self.namespace(&svc_key.value, layers, env_namespace.clone(), &env, &ctx);
            namespaces.insert(svc_key.value.clone(), ns);
        }
        let ctx_namespaces = Value::from(
            namespaces
                .iter()
                .map(|(k, (v, _))| (k.clone(), Value::from(v.clone())))
                .collect::<BTreeMap<String, Value>>(),
        );
        // Enabled, whether or not they resolve: a service with an error is not
        // "disabled" for its callers.
        let enabled_names: Vec<String> = enabled.iter().map(|(k, _, _)| k.value.clone()).collect();
        for (svc_key, layers, header) in enabled {
            let ns = namespaces.remove(&svc_key.value);
            if let Some(s) = self.service(
                &svc_key.value,
                self.at(&svc_key.span),
                header,
                &layers,
                &env,
                Contexts {
                    env: &ctx_env,
                    cluster: &ctx_cluster,
                    namespaces: &ctx_namespaces,
                    namespace: ns,
                },
            ) {
                env.services.push(s);
            }
        }
        self.check_routes(&env);
        self.check_calls(&env, &enabled_names);
        (self.error_count() == errors_before).then_some(env)
    }

    /// The string a layer sets (`v`), reported as error `code` ("{what}: {problem}")
    /// when `check` refuses it, or `default` when no layer sets it.
    fn checked_or(
        &mut self,
        v: Option<Located<&String>>,
        default: &str,
        code: &'static str,
        what: &str,
        check: impl Fn(&str) -> std::result::Result<(), String>,
    ) -> String {
        let Some(v) = v else {
            return default.to_string();
        };
        if let Err(e) = check(v.value) {
            self.error(code, v.origin.clone(), format!("{what}: {e}"));
        }
        v.value.clone()
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// Refuses a literal that looks like a secret, judged by its shape and by `key`;
    /// in a template, the string literals inside it are judged so (its output is
    /// judged after rendering, by [`Resolver::render_keyed`]).
    fn scan_secret(&mut self, key: &str, value: &str, origin: &Origin) {
        let found = if Templates::is_template(value) {
            secret_scan::scan_template_literals(key, value)
        } else {
            secret_scan::scan(key, value)
        };
        if let Some(f) = found {
            self.error(
                rules::SECRET_LITERAL,
                origin.clone(),
                format!("`{key}` looks like it holds a secret ({}); kgen refuses secrets in plain text", f.what),
            )
            .redacted()
            .label("secret-looking value")
            .help("store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets` (mounted at /mnt/secrets-store/<name>); see docs/platform.md#secrets");
        }
    }

    /// Renders the template `value` stored under `key` (a literal is returned as is);
    /// what a template renders to is judged as a literal under `key` would be, so
    /// that `{{ 'literal' }}` or `{{ x | default('literal') }}` is no way around
    /// the secret scan.
    pub(crate) fn render_keyed(
        &mut self,
        key: &str,
        value: &str,
        origin: &Origin,
        ctx: &Value,
    ) -> Option<String> {
        let out = self.render_template(value, origin, ctx)?;
        if Templates::is_template(value) {
            if let Some(f) = secret_scan::scan(key, &out) {
                self.error(
                    rules::SECRET_LITERAL,
                    origin.clone(),
                    format!(
                        "`{key}`: this template renders to what looks like a secret ({}); kgen refuses secrets in plain text",
                        f.what
                    ),
                )
                .redacted()
                .help("store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets`; see docs/platform.md#secrets");
                return None;
            }
        }
        Some(out)
    }

    fn render_template(&mut self, value: &str, origin: &Origin, ctx: &Value) -> Option<String> {
        match self.templates.render(value, ctx) {
            // A template can assemble a secret from harmless pieces: check what it made.
            Ok(s) if Templates::is_template(value) && secret_scan::scan("", &s).is_some() => {
                let what = secret_scan::scan("", &s).map_or("", |f| f.what);
                self.error(
                    rules::SECRET_LITERAL,
                    origin.clone(),
                    format!("this template renders to what looks like a secret ({what}); kgen refuses secrets in plain text"),
                )
                .redacted()
                .help("store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets`; see docs/platform.md#secrets");
                None
            }
            Ok(s) => Some(s),
            Err(e) => {
                self.error(rules::TEMPLATE, origin.clone(), e).help(
                    "templates can use `service`, `env.name`, `env.cluster`, `env.project`, the environment's `vars` as `env.<var>`, `cluster.name`, the cluster's `vars` as `cluster.<var>`, `namespaces['<service>']`, and `platform.name`, `platform.repo`, `platform.registry`",
                );
                None
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn service(
        &mut self,
        name: &str,
        name_origin: Origin,
        header: Origin,
        layers: &Layers<'a, ServiceLayer>,
        env: &EnvSpec,
        contexts: Contexts<'_>,
    ) -> Option<ServiceSpec> {
        let before = self.error_count();
        let mut origins = BTreeMap::new();
        origins.insert(
            crate::validate::SERVICE_ORIGIN.to_string(),
            name_origin.clone(),
        );
        if let Err(e) = names::check_dns1123_label(name) {
            let d = self.error(
                rules::INVALID_NAME,
                name_origin.clone(),
                format!("service name: {e}"),
            );
            if let Some(n) = names::nearest_dns1123_label(name) {
                d.label(format!("did you mean `{n}`?"));
            }
            return None;
        }
        let p = &self.platform_file().platform;
        let ctx = self.template_context(
            name,
            contexts.env,
            contexts.cluster,
            Some(contexts.namespaces),
        );
        let rec = |origins: &mut BTreeMap<String, Origin>, key: &str, o: &Origin| {
            origins.insert(key.to_string(), o.clone());
        };

        // Namespace (rendered before the services, see `environment`).
        let (namespace, ns_origin) = contexts.namespace?;
        rec(&mut origins, "namespace", &ns_origin);

        let app_name = self.app_name(&ctx);

        // The kind of workload decides which settings apply (see `workload`).
        let kind = self.kind(layers, &mut origins);

        // Image.
        let image = match layers.pick(|l| l.image.as_ref()) {
            Some(img) => {
                rec(&mut origins, "image", &img.origin);
                if let Err(e) = image_ref::check_repository(img.value) {
                    self.error(rules::INVALID_IMAGE, img.origin.clone(), e);
                    String::new()
                } else if image_ref::has_registry_host(img.value) {
                    img.value.clone()
                } else if let Some(reg) = &p.registry {
                    format!("{}/{}", reg.value.trim_end_matches('/'), img.value)
                } else {
                    img.value.clone()
                }
            }
            None => {
                self.error(
                    rules::MISSING_KEY,
                    name_origin.clone(),
                    format!("service `{name}` has no `image`"),
                )
                .help("add `image = \"<repository>\"` to the service, e.g. `image = \"acme/api\"`");
                String::new()
            }
        };
        let tag = layers.pick(|l| l.tag.as_ref()).map(|t| {
            rec(&mut origins, "tag", &t.origin);
            if let Err(e) = image_ref::check_tag(t.value) {
                self.error(rules::INVALID_IMAGE, t.origin.clone(), e);
            } else if t.value == "latest" {
                self.error(rules::NO_IMAGE_VERSION, t.origin.clone(), format!("service `{name}` uses the tag `latest`, which does not pin a version"))
                    .help("set an immutable tag such as a version or commit SHA (`kgen bump-image` does this from CI)");
            }
            t.value.clone()
        });
        let digest = layers.pick(|l| l.digest.as_ref()).map(|d| {
            rec(&mut origins, "digest", &d.origin);
            if let Err(e) = image_ref::check_digest(d.value) {
                self.error(rules::INVALID_IMAGE, d.origin.clone(), e);
            }
            d.value.clone()
        });
        if tag.is_none() && digest.is_none() {
            self.error(
                rules::NO_IMAGE_VERSION,
                header.clone(),
                format!("service `{name}` has no image `tag` or `digest` in environment `{}`", env.name),
            )
            .help(format!(
                "set `tag = \"1.2.3\"` under [services.{name}] in overlays/{}.toml (or in platform.toml for every environment)",
                env.name
            ));
        }

        // Port and replicas.
        let port = match layers
            .pick(|l| l.port.as_ref())
            .filter(|v| self.fits_kind(kind, "port", Some((&v.origin, v.base))))
        {
            Some(v) => {
                rec(&mut origins, "port", &v.origin);
                self.int_in_range(*v.value, 1, 65535, &v.origin, "port")
                    .unwrap_or(builtin::PORT as i64) as u16
            }
            None => builtin::PORT,
        };
        let replicas = match layers
            .pick(|l| l.replicas.as_ref())
            .filter(|v| self.fits_kind(kind, "replicas", Some((&v.origin, v.base))))
        {
            Some(v) => {
                rec(&mut origins, "replicas", &v.origin);
                self.int_in_range(*v.value, 0, 10_000, &v.origin, "replicas")
                    .unwrap_or(0) as u32
            }
            None => builtin::REPLICAS,
        };

        // Resources.
        let rq = |l: &'a ServiceLayer| l.resources.as_ref().and_then(|r| r.requests.as_ref());
        let lm = |l: &'a ServiceLayer| l.resources.as_ref().and_then(|r| r.limits.as_ref());
        let req_cpu = layers.pick(|l| rq(l)?.cpu.as_ref());
        let req_mem = layers.pick(|l| rq(l)?.memory.as_ref());
        let lim_cpu = layers.pick(|l| lm(l)?.cpu.as_ref());
        let lim_mem = layers.pick(|l| lm(l)?.memory.as_ref());
        let mut quantities = Vec::new();
        for (path, v, default) in [
            ("resources.requests.cpu", req_cpu, builtin::REQUEST_CPU),
            (
                "resources.requests.memory",
                req_mem,
                builtin::REQUEST_MEMORY,
            ),
            ("resources.limits.cpu", lim_cpu, builtin::LIMIT_CPU),
            ("resources.limits.memory", lim_mem, builtin::LIMIT_MEMORY),
        ] {
            let parsed = match &v {
                Some(v) => {
                    origins.insert(path.to_string(), v.origin.clone());
                    match quantity::parse_non_negative(v.value) {
                        Ok(q) => Some(q),
                        Err(e) => {
                            self.error(rules::INVALID_QUANTITY, v.origin.clone(), e);
                            None
                        }
                    }
                }
                None => quantity::Quantity::parse(default).ok(),
            };
            let text = v
                .as_ref()
                .map_or_else(|| default.to_string(), |v| v.value.clone());
            quantities.push((path, text, parsed, v.map(|v| v.origin)));
        }
        for (req, lim, what) in [(0, 2, "cpu"), (1, 3, "memory")] {
            if let (Some(r), Some(l)) = (quantities[req].2, quantities[lim].2) {
                if r > l {
                    let origin = quantities[req]
                        .3
                        .clone()
                        .or_else(|| quantities[lim].3.clone())
                        .unwrap_or_else(|| name_origin.clone());
                    self.error(
                        rules::REQUESTS_EXCEED_LIMITS,
                        origin,
                        format!("{what} request {} is larger than its limit {}", quantities[req].1, quantities[lim].1),
                    )
                    .help(format!("the API server rejects a request above its limit: lower `resources.requests.{what}` or raise `resources.limits.{what}`"));
                }
            }
        }
        let resources = Resources {
            requests: CpuMem {
                cpu: Some(quantities[0].1.clone()),
                memory: Some(quantities[1].1.clone()),
            },
            limits: CpuMem {
                cpu: Some(quantities[2].1.clone()),
                memory: Some(quantities[3].1.clone()),
            },
        };

        // Probes. Inherited from [defaults] by a kind without the `http` port they
        // usually probe, they are left out.
        let probes = {
            let [liveness, readiness, startup] =
                self.probes("probes", layers, !kind.can_have_service(), &mut origins);
            Probes {
                liveness,
                readiness,
                startup,
            }
        };

        // Environment variables and config entries.
        let mut env_vars = BTreeMap::new();
        for (key, entry) in layers.map(|l| Some(&l.env)) {
            let path = format!("env.{key}");
            origins.insert(path, entry.value.origin.clone());
            if let Err(e) = names::check_env_var_name(key) {
                let d = self.error(rules::INVALID_KEY, entry.key.clone(), e);
                if let Some(n) = names::nearest_env_var_name(key) {
                    d.label(format!("did you mean `{n}`?"));
                }
                continue;
            }
            let Scalar(raw) = entry.value.value;
            self.scan_secret(key, raw, &entry.value.origin);
            if let Some(v) = self.render_keyed(key, raw, &entry.value.origin, &ctx) {
                env_vars.insert(key.to_string(), v);
            }
        }
        let mut config = BTreeMap::new();
        for (key, entry) in layers.map(|l| Some(&l.config)) {
            origins.insert(format!("config.{key}"), entry.value.origin.clone());
            if let Err(e) = names::check_config_map_key(key) {
                let d = self.error(rules::INVALID_KEY, entry.key.clone(), e);
                if let Some(n) = names::nearest_config_map_key(key) {
                    d.label(format!("did you mean `{n}`?"));
                }
                continue;
            }
            if key == VERSION_KEY {
                self.error(
                    rules::RESERVED,
                    entry.key.clone(),
                    format!(
                        "config key `{VERSION_KEY}` is reserved: kgen sets it to the image tag"
                    ),
                )
                .help("remove it; the running version is in the ConfigMap already");
                continue;
            }
            let Scalar(raw) = entry.value.value;
            self.scan_secret(key, raw, &entry.value.origin);
            if let Some(v) = self.render_keyed(key, raw, &entry.value.origin, &ctx) {
                config.insert(key.to_string(), v);
            }
        }
        // `${NAME}` references, checked; values written the way the kubelet reads them.
        let (env_vars, config) = self.kubelet_env(env, layers, env_vars, config, &origins);

        // Autoscaling.
        let autoscaling = if self.uses(kind, layers, "autoscaling") {
            self.autoscaling(name, layers, &mut origins)
        } else {
            None
        };

        // IRSA role.
        let iam_role = layers.pick(|l| l.iam_role.as_ref()).and_then(|r| {
            origins.insert("iam_role".into(), r.origin.clone());
            let v = self.render_template(r.value, &r.origin, &ctx)?;
            if !is_iam_role_arn(&v) {
                self.error(rules::INVALID_VALUE, r.origin.clone(), format!("`{v}` is not an IAM role ARN"))
                    .help("write `arn:aws:iam::<12-digit account>:role/<name>`; templates like `{{ env.aws_account }}` help");
                return None;
            }
            Some(v)
        });

        // Secrets.
        let mut secrets = Vec::new();
        if let Some(list) = layers.pick(|l| l.secrets.as_ref()) {
            origins.insert("secrets".into(), list.origin.clone());
            let file = list.origin.file;
            let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
            for s in list.value {
                let o = |span: &std::ops::Range<usize>| Origin::new(file, span.clone());
                if let Err(e) = names::check_config_map_key(&s.name.value) {
                    let d = self.error(
                        rules::INVALID_NAME,
                        o(&s.name.span),
                        format!("secret name: {e}"),
                    );
                    if let Some(n) = names::nearest_config_map_key(&s.name.value) {
                        d.label(format!("did you mean `{n}`?"));
                    }
                }
                if seen.insert(&s.name.value, ()).is_some() {
                    self.error(rules::DUPLICATE, o(&s.name.span), format!("secret `{}` is listed twice", s.name.value))
                        .help("each secret becomes a file /mnt/secrets-store/<name>; give each a distinct name");
                }
                let Some(key) = self.render_template(&s.key.value, &o(&s.key.span), &ctx) else {
                    continue;
                };
                if key.trim().is_empty() {
                    self.error(
                        rules::INVALID_VALUE,
                        o(&s.key.span),
                        "secret `key` is empty".into(),
                    );
                }
                self.check_secret(env, s, &key, file);
                secrets.push(Secret {
                    name: s.name.value.clone(),
                    from: s.from.value,
                    key,
                    json_key: s.json_key.as_ref().map(|j| j.value.clone()),
                });
            }
        }

        let run_as_user = match layers.pick(|l| l.run_as_user.as_ref()) {
            Some(v) => {
                origins.insert("run_as_user".into(), v.origin.clone());
                self.int_in_range(*v.value, 1, i32::MAX as i64, &v.origin, "run_as_user")
                    .unwrap_or(builtin::RUN_AS_USER)
            }
            None => builtin::RUN_AS_USER,
        };

        let metrics = if self.uses(kind, layers, "metrics") {
            self.metrics(layers, port, &mut origins)
        } else {
            None
        };
        let ingress = if self.uses(kind, layers, "ingress") {
            self.service_ingress(name, layers, env, &ctx, &mut origins)
        } else {
            None
        };
        let calls = self.calls(name, layers, &mut origins);
        let disruption_budget = if self.uses(kind, layers, "disruption_budget") {
            self.disruption_budget(layers, &mut origins)
        } else {
            None
        };
        let spread = if self.uses(kind, layers, "spread") {
            self.spread(layers, &mut origins)
        } else {
            crate::spec::Spread {
                zones: crate::input::SpreadMode::Off,
                nodes: crate::input::SpreadMode::Off,
            }
        };

        // What the pods are made of (see `pod` and `workload`).
        let workload = self.workload(name, kind, &header, layers, &mut origins);
        let command = self.string_list(
            "command",
            layers.pick(|l| l.command.as_ref()),
            &ctx,
            &mut origins,
        );
        let args = self.string_list("args", layers.pick(|l| l.args.as_ref()), &ctx, &mut origins);
        let mut ports = self.ports("ports", layers.map(|l| Some(&l.ports)), &mut origins);
        if !kind.can_have_service() {
            // No Service: the ports are the container's only.
            for p in &mut ports {
                p.service_port = None;
            }
        }
        // A DaemonSet (a node agent) gets a Service only when it asks for one: a
        // `service` table or its own `port`.
        let asks = kind != crate::spec::WorkloadKind::Daemonset
            || layers
                .pick(|l| l.service.as_deref())
                .is_some_and(|s| !s.base)
            || layers.pick(|l| l.port.as_ref()).is_some_and(|p| !p.base);
        let wants_service = kind.can_have_service()
            && asks
            && layers
                .pick(|l| l.service.as_ref()?.enabled.as_ref())
                .is_none_or(|e| *e.value);
        let service = if self.uses(kind, layers, "service") && wants_service {
            Some(self.service_exposure(layers, port, &mut origins))
        } else {
            None
        };
        if service.is_none() {
            if let Some(i) = layers
                .pick(|l| l.ingress.as_deref())
                .filter(|_| ingress.is_some())
            {
                self.error(rules::KIND_MISMATCH, i.origin.clone(), format!("service `{name}` has an `ingress` but no Service (`service.enabled = false`)"))
                    .help("an Ingress routes to the Service: remove `service.enabled = false`, or the `ingress`");
            }
        }
        let volumes = self.volumes(
            layers.entries(|l| Some(&l.volumes)),
            matches!(
                kind,
                crate::spec::WorkloadKind::Deployment
                    | crate::spec::WorkloadKind::Worker
                    | crate::spec::WorkloadKind::Statefulset
            ),
            kind.as_str(),
            &mut origins,
        );
        let files = self.files(
            layers.entries(|l| Some(&l.files)),
            &volumes,
            &ctx,
            &mut origins,
        );
        let sidecars = self.containers(
            name,
            "sidecars",
            layers.entries(|l| Some(&l.sidecars)),
            &volumes,
            &ctx,
            &mut origins,
        );
        let init_containers = self.containers(
            name,
            "init_containers",
            layers.entries(|l| Some(&l.init_containers)),
            &volumes,
            &ctx,
            &mut origins,
        );
        let placement = self.placement(layers, &mut origins);
        let image_pull_secrets = self.image_pull_secrets(layers, &mut origins);
        let labels = self.metadata_map("labels", layers.map(|l| Some(&l.labels)), &mut origins);
        let annotations = self.metadata_map(
            "annotations",
            layers.map(|l| Some(&l.annotations)),
            &mut origins,
        );
        let pod_labels = self.metadata_map(
            "pod_labels",
            layers.map(|l| Some(&l.pod_labels)),
            &mut origins,
        );
        let pod_annotations = self.metadata_map(
            "pod_annotations",
            layers.map(|l| Some(&l.pod_annotations)),
            &mut origins,
        );
        let automount_token = layers
            .pick(|l| l.service_account.as_ref()?.automount_token.as_ref())
            .map(|a| {
                origins.insert("service_account.automount_token".into(), a.origin.clone());
                *a.value
            });
        let rollout = self.rollout(kind, layers, env, &mut origins);

        (self.error_count() == before).then(|| ServiceSpec {
            name: name.to_string(),
            namespace,
            app_name,
            image,
            tag,
            digest,
            port,
            replicas,
            resources,
            probes,
            env: env_vars,
            config,
            autoscaling,
            iam_role,
            secrets,
            run_as_user,
            metrics,
            ingress,
            calls,
            disruption_budget,
            spread,
            workload,
            command,
            args,
            ports,
            service,
            sidecars,
            init_containers,
            volumes,
            files,
            placement,
            image_pull_secrets,
            labels,
            annotations,
            pod_labels,
            pod_annotations,
            automount_token,
            rollout,
            waivers: waivers(
                self.pf,
                self.platform_file()
                    .services
                    .get(name)
                    .and_then(|l| l.value.waivers.as_ref()),
            ),
            origins,
        })
    }

    /// What templates of service `name` see: `service`, `env`, `cluster`, `platform`
    /// and, once every namespace is known, `namespaces` (service → namespace).
    fn template_context(
        &self,
        name: &str,
        env: &Value,
        cluster: &Value,
        namespaces: Option<&Value>,
    ) -> Value {
        let p = &self.platform_file().platform;
        minijinja::context! {
            service => name,
            env => env.clone(),
            cluster => cluster.clone(),
            namespaces => namespaces.cloned(),
            platform => minijinja::context! {
                name => p.name.value.clone(),
                repo => p.repo.value.clone(),
                registry => p.registry.as_ref().map(|r| r.value.clone()),
            },
        }
    }

    /// The name of a service's Argo CD Application, from `[argocd] application_name`
    /// rendered in the service's context; `None` when it is not set.
    fn app_name(&mut self, ctx: &Value) -> Option<String> {
        let t = self
            .platform_file()
            .argocd
            .as_ref()?
            .application_name
            .as_ref()?;
        let origin = self.at(&t.span);
        let name = self.render_template(&t.value, &origin, ctx)?;
        if let Err(e) = names::check_dns1123_label(&name) {
            self.error(
                rules::INVALID_NAME,
                origin,
                format!("application_name: {e}"),
            )
            .help("Argo CD writes an Application's name into the tracking label of every object it deploys, so it must be a DNS-1123 label of at most 63 characters: shorten the template or its variables");
        }
        Some(name)
    }

    /// The namespace of service `name`: its layers' `namespace`, else the
    /// environment's, else `[platform] namespace`, else `{{ service }}`; rendered and
    /// checked. Also where the value came from.
    fn namespace(
        &mut self,
        name: &str,
        layers: &Layers<'a, ServiceLayer>,
        env_namespace: Option<Located<&'a String>>,
        env: &EnvSpec,
        ctx: &Value,
    ) -> (String, Origin) {
        let p = &self.platform_file().platform;
        let name_origin = self
            .platform_file()
            .services
            .get_key_value(name)
            .map(|(k, _)| self.at(&k.span))
            .unwrap_or_else(|| Origin::new(self.pf, 0..0));
        let (source, origin) = layers
            .pick(|l| l.namespace.as_ref())
            .or(env_namespace)
            .map(|n| (n.value.clone(), Some(n.origin)))
            .or_else(|| {
                p.namespace
                    .as_ref()
                    .map(|n| (n.value.clone(), Some(self.at(&n.span))))
            })
            .unwrap_or_else(|| (builtin::NAMESPACE.to_string(), None));
        let origin = origin.unwrap_or(name_origin);
        let namespace = self
            .render_template(&source, &origin, ctx)
            .unwrap_or_default();
        if !namespace.is_empty() {
            if let Err(e) = names::check_dns1123_label(&namespace) {
                let d = self.error(
                    rules::INVALID_NAME,
                    origin.clone(),
                    format!("namespace of `{name}` in {}: {e}", env.name),
                );
                // Only under a name written as is: a template is not fixed that way.
                if let Some(n) =
                    names::nearest_dns1123_label(&namespace).filter(|_| source == namespace)
                {
                    d.label(format!("did you mean `{n}`?"));
                }
            }
        }
        (namespace, origin)
    }

    fn int_in_range(
        &mut self,
        v: i64,
        min: i64,
        max: i64,
        origin: &Origin,
        what: &str,
    ) -> Option<i64> {
        if (min..=max).contains(&v) {
            Some(v)
        } else {
            self.error(
                rules::OUT_OF_RANGE,
                origin.clone(),
                format!("{what} {v} is out of range"),
            )
            .help(format!("`{what}` must be between {min} and {max}"));
            None
        }
    }

    fn autoscaling(
        &mut self,
        name: &str,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Option<Autoscaling> {
        let table = layers.pick(|l| l.autoscaling.as_deref())?;
        if layers
            .pick(|l| l.autoscaling.as_ref()?.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            return None;
        }
        let get =
            |f: fn(&crate::input::AutoscalingLayer) -> Option<&crate::spanned::Spanned<i64>>| {
                layers.pick(move |l| f(l.autoscaling.as_ref()?))
            };
        let Some(max) = get(|a| a.max.as_ref()) else {
            self.error(
                rules::MISSING_KEY,
                table.origin.clone(),
                format!("autoscaling of `{name}` has no `max`"),
            )
            .help("add `max = <replicas>`, or `enabled = false` to turn autoscaling off");
            return None;
        };
        origins.insert("autoscaling.max".into(), max.origin.clone());
        let min = get(|a| a.min.as_ref());
        if let Some(m) = &min {
            origins.insert("autoscaling.min".into(), m.origin.clone());
        }
        let min_v = min
            .as_ref()
            .map_or(builtin::AUTOSCALING_MIN as i64, |m| *m.value);
        let mut ok = true;
        if min_v < 1 {
            let o = min
                .as_ref()
                .map_or(table.origin.clone(), |m| m.origin.clone());
            self.error(
                rules::AUTOSCALING_BOUNDS,
                o,
                format!("autoscaling min {min_v} is below 1"),
            )
            .help("an HPA needs `min` of at least 1; to stop a service use `enabled = false`");
            ok = false;
        }
        if *max.value < min_v {
            self.error(
                rules::AUTOSCALING_BOUNDS,
                max.origin.clone(),
                format!("autoscaling max {} is less than min {min_v}", max.value),
            )
            .label(format!("must be at least {min_v}"))
            .help("raise `max` or lower `min` (tables merge: check `[defaults]`, the service and the overlay)");
            ok = false;
        }
        if *max.value > 10_000 {
            self.int_in_range(*max.value, 1, 10_000, &max.origin, "autoscaling max");
            ok = false;
        }
        let mut pct = |this: &mut Self, key: &str, v: Option<Located<&i64>>| -> Option<u32> {
            let v = v?;
            origins.insert(format!("autoscaling.{key}"), v.origin.clone());
            this.int_in_range(
                *v.value,
                1,
                1000,
                &v.origin,
                &format!("autoscaling {key} target"),
            )
            .map(|v| v as u32)
        };
        let cpu = pct(self, "cpu", get(|a| a.cpu.as_ref()));
        let memory = pct(self, "memory", get(|a| a.memory.as_ref()));
        let cpu = if cpu.is_none() && memory.is_none() {
            Some(builtin::AUTOSCALING_CPU)
        } else {
            cpu
        };
        let behavior = self.scaling_behavior(layers, origins);
        ok.then_some(Autoscaling {
            min: min_v as u32,
            max: *max.value as u32,
            cpu,
            memory,
            behavior,
        })
    }

    fn metrics(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        port: u16,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Option<Metrics> {
        let table = layers.pick(|l| l.metrics.as_deref())?;
        origins.insert("metrics".into(), table.origin.clone());
        if layers
            .pick(|l| l.metrics.as_ref()?.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            return None;
        }
        let path = match layers.pick(|l| l.metrics.as_ref()?.path.as_ref()) {
            Some(p) => {
                if let Err(e) = names::check_http_path(p.value) {
                    self.error(rules::INVALID_PATH, p.origin.clone(), e);
                }
                p.value.clone()
            }
            None => builtin::METRICS_PATH.into(),
        };
        let mport = match layers.pick(|l| l.metrics.as_ref()?.port.as_ref()) {
            Some(p) => self
                .int_in_range(*p.value, 1, 65535, &p.origin, "metrics port")
                .unwrap_or(0) as u16,
            None => port,
        };
        let interval = match layers.pick(|l| l.metrics.as_ref()?.interval.as_ref()) {
            Some(i) => {
                if !is_duration(i.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        i.origin.clone(),
                        format!("`{}` is not a Prometheus duration", i.value),
                    )
                    .help("write a duration like `30s`, `1m` or `1m30s`");
                }
                i.value.clone()
            }
            None => builtin::METRICS_INTERVAL.into(),
        };
        Some(Metrics {
            path,
            port: mport,
            interval,
        })
    }
}

/// The waivers of one `waivers = [...]` list of platform.toml (checked in `validate`).
fn waivers(
    file: FileId,
    list: Option<&crate::spanned::Spanned<Vec<crate::input::WaiverLayer>>>,
) -> Vec<Waiver> {
    list.iter()
        .flat_map(|l| &l.value)
        .map(|w| Waiver {
            rule: w.rule.value.clone(),
            reason: w.reason.value.clone(),
            rule_origin: Origin::new(file, w.rule.span.clone()),
            reason_origin: Origin::new(file, w.reason.span.clone()),
        })
        .collect()
}

/// The template contexts of one service (see `Resolver::template_context`), and its
/// namespace, rendered before the services.
struct Contexts<'x> {
    env: &'x Value,
    cluster: &'x Value,
    namespaces: &'x Value,
    namespace: Option<(String, Origin)>,
}

/// The `env` object templates see: built-in fields plus the environment's vars.
pub(crate) fn env_context(env: &EnvSpec) -> Value {
    let mut m: BTreeMap<String, Value> = env
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    m.insert("name".into(), Value::from(env.name.clone()));
    // Where Argo CD deploys (the API server URL, or the registered cluster name), as
    // before clusters were declared; the cluster's own name is `cluster.name`.
    m.insert(
        "cluster".into(),
        Value::from(env.destination.as_str().to_string()),
    );
    m.insert("project".into(), Value::from(env.project.clone()));
    m.insert(
        "sync".into(),
        Value::from(match env.sync {
            SyncMode::Auto => "auto",
            SyncMode::Manual => "manual",
        }),
    );
    m.insert("production".into(), Value::from(env.production));
    Value::from(m)
}

/// The `cluster` object templates see: its name, destination, version and vars.
pub(crate) fn cluster_context(c: &crate::spec::ClusterSpec) -> Value {
    let mut m: BTreeMap<String, Value> = c
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    m.insert("name".into(), Value::from(c.name.clone()));
    let (server, dest_name) = match &c.destination {
        crate::spec::Destination::Server(s) => (Some(s.clone()), None),
        crate::spec::Destination::Name(n) => (None, Some(n.clone())),
    };
    m.insert("server".into(), Value::from(server));
    m.insert("destination_name".into(), Value::from(dest_name));
    m.insert(
        "kubernetes_version".into(),
        Value::from(format!(
            "{}.{}",
            c.kubernetes_version.0, c.kubernetes_version.1
        )),
    );
    Value::from(m)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_iam_role_arn(s: &str) -> bool {
    // arn:<partition>:iam::<account>:role/<path/name>
    let mut parts = s.splitn(6, ':');
    parts.next() == Some("arn")
        && parts.next().is_some_and(|p| p.starts_with("aws"))
        && parts.next() == Some("iam")
        && parts.next() == Some("")
        && parts
            .next()
            .is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_some_and(|r| {
            r.strip_prefix("role/").is_some_and(|n| {
                !n.is_empty()
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
            })
        })
}

/// Prometheus duration: one or more `<number><unit>` with units y w d h m s ms.
pub fn is_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "y", "w", "d", "h", "m", "s"]
            .iter()
            .find(|u| rest.starts_with(**u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// An exact Helm chart version: a semantic version, optionally with a leading `v`
/// (cert-manager's charts are `v1.16.2`).
pub fn is_chart_version(s: &str) -> bool {
    is_semver(s.strip_prefix('v').unwrap_or(s))
}

/// Exact semantic version `MAJOR.MINOR.PATCH` with optional pre-release/build.
pub fn is_semver(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-+".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_versions() {
        assert!(is_duration("15d"));
        assert!(is_duration("1m30s"));
        assert!(!is_duration("15 days"));
        assert!(!is_duration(""));
        assert!(is_semver("77.0.0"));
        assert!(is_semver("1.2.3-rc.1"));
        assert!(!is_semver("^77.0"));
        assert!(!is_semver("77.0"));
    }

    #[test]
    fn role_arns() {
        assert!(is_iam_role_arn(
            "arn:aws:iam::123456789012:role/dev-aux-service"
        ));
        assert!(!is_iam_role_arn("arn:aws:iam::1234:role/x"));
        assert!(!is_iam_role_arn("aux-service-role"));
    }
}
