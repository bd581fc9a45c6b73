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
use crate::input::{EnvValue, EnvironmentLayer, PlatformFile, Scalar, ServiceLayer, SyncMode};
use crate::merge::{Layers, Located};
use crate::source::{FileId, Origin};
use crate::spec::{
    Autoscaling, CpuMem, EnvSpec, Metrics, PlatformSpec, Probes, Resources, Secret, ServiceSpec,
    Waiver,
};
use crate::template::Templates;
use crate::workspace::Workspace;
use crate::{names, quantity, rules, secret_scan};

mod addons;
mod autoscaling;
mod availability;
mod baseline;
mod clusters;
mod env_settings;
mod env_vars;
mod environment;
mod formats;
mod monitoring;
mod once;
mod partial;
mod pod;
mod references;
mod route;
mod secret_paths;
mod service;
mod traffic;
mod workload;

pub use clusters::{OLDEST_KUBERNETES, RESERVED_CLUSTER_NAMES};
pub use env_settings::is_cidr;
pub use env_vars::{kubelet_expand, kubelet_literal, kubelet_order};
pub use formats::{is_chart_version, is_duration, is_go_duration, is_semver};
use formats::{is_iam_role_arn, is_identifier};
use once::once_per_place;
pub(crate) use partial::header_key;
pub use partial::Partial;
use partial::Resolved;
pub use route::check_host;
pub use secret_paths::{outside_prefixes, prefix_list, secret_path, OutsidePrefixes};
pub use workload::schedule::{check_schedule, check_time_zone};

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
    resolve_partial(ws, only).map_err(|(e, _)| e)
}

/// [`resolve`]; when it fails, also what of the platform can still be rendered for
/// the checks that need no more ([`Partial`]), unless nothing can.
pub fn resolve_partial(
    ws: &Workspace,
    only: &[String],
) -> std::result::Result<PlatformSpec, (Error, Option<Box<Partial>>)> {
    let known = ws.environment_names();
    if let Some(name) = only.iter().find(|n| !known.contains(&n.as_str())) {
        return Err((unknown_environment(name, &known), None));
    }
    let mut r = Resolver {
        ws,
        pf: ws.platform_file,
        templates: Templates::new(),
        // What reading found and left for this run to report with its own.
        diags: ws.deferred.clone(),
        refs: Vec::new(),
        remedy: secret_scan::Remedy::default(),
        unfit: Vec::new(),
        main_port: crate::render::deployment::CONTAINER_PORT_NAME.to_string(),
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
                !ws.left_out
                    .get(&o.file)
                    .is_some_and(|l| l.hides(&o.span, &d.message))
                    && !ws
                        .left_out
                        .get(&ws.platform_file)
                        .is_some_and(|l| l.hides_elsewhere(&d.message))
            })
    }));
    crate::diagnostic::sort(&mut r.diags);
    // The same mistake in a shared layer shows up once per environment: report it once.
    crate::diagnostic::dedup(&mut r.diags);
    // The same mistake named in each environment's words (KG022 naming the
    // environment whose prefixes a key is outside): one diagnostic naming them all.
    r.diags = crate::validate::collapse::collapse_environments(std::mem::take(&mut r.diags));
    r.diags = once_per_place(std::mem::take(&mut r.diags));
    if r.diags.iter().any(Diagnostic::is_error) {
        let partial = Partial::of(ws, spec, std::mem::take(&mut r.unfit), &r.diags).map(Box::new);
        return Err((Error::invalid_input(r.diags, ws.sources.clone()), partial));
    }
    spec.warnings = r.diags;
    Ok(spec)
}

/// Says that `diags` are about `envs`, those that do not say already.
fn tag_envs(diags: &mut [Diagnostic], envs: &[&str]) {
    for d in diags.iter_mut().filter(|d| d.envs.is_empty()) {
        let mut envs: Vec<String> = envs.iter().map(|e| e.to_string()).collect();
        envs.sort();
        envs.dedup();
        d.envs = envs;
    }
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
    /// What KG010's help says to do instead of a secret, where this resolver is (a
    /// service of an environment with some `secrets_backend`, an add-on's values).
    remedy: secret_scan::Remedy,
    /// The environments with errors, for a [`Partial`] when the run fails.
    unfit: Vec<Resolved<EnvSpec>>,
    /// The name of the main port of the service being resolved (`port_name`, `http`
    /// by default), which an HTTP probe uses unless it names a port.
    main_port: String,
}

/// What a part of the platform resolved on a thread of its own gives back: its result
/// (none when it could not be resolved at all), and what its resolver found
/// ([`Resolver::absorb`]).
type Part<T> = (Option<T>, Vec<Diagnostic>, Vec<references::BaselineRef>);

impl<'a> Resolver<'a> {
    /// A resolver for a part of the platform (an environment, some of its services)
    /// resolved on a thread of its own.
    fn for_part(ws: &'a Workspace, pf: FileId) -> Resolver<'a> {
        Resolver {
            ws,
            pf,
            templates: Templates::new(),
            diags: Vec::new(),
            refs: Vec::new(),
            remedy: secret_scan::Remedy::default(),
            unfit: Vec::new(),
            main_port: crate::render::deployment::CONTAINER_PORT_NAME.to_string(),
        }
    }

    /// The parts' results, taking what their resolvers found in the parts' order: as
    /// one resolver going through them in that order would have found it.
    fn absorb<T>(&mut self, parts: Vec<Part<T>>) -> Vec<T> {
        let mut out = Vec::with_capacity(parts.len());
        for (result, mut diags, mut refs) in parts {
            self.diags.append(&mut diags);
            self.refs.append(&mut refs);
            out.extend(result);
        }
        out
    }

    /// Runs `f`; what it finds is about `envs` (`Diagnostic::envs`, for runs that
    /// render some environments: see `selection`), unless it already says.
    fn about<T>(&mut self, envs: &[&str], f: impl FnOnce(&mut Self) -> T) -> T {
        let before = self.diags.len();
        let out = f(self);
        tag_envs(&mut self.diags[before..], envs);
        out
    }

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
        self.check_label("platform name", &name, self.at(&p.name.span));
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
                self.check_label("Argo CD namespace", &n.value, self.at(&n.span));
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
        let resolved: Vec<Part<Resolved<EnvSpec>>> = {
            use rayon::prelude::*;
            todo.par_iter()
                .map(|(env_key, env_layer, cluster)| {
                    let mut r = Resolver::for_part(ws, pf);
                    let env = r.environment(&env_key.value, &env_key.span, env_layer, cluster);
                    tag_envs(&mut r.diags, &[env_key.value.as_str()]);
                    (env, r.diags, r.refs)
                })
                .collect()
        };
        let (environments, unfit): (Vec<_>, Vec<_>) =
            self.absorb(resolved).into_iter().partition(|e| e.ok);
        let environments: Vec<EnvSpec> = environments.into_iter().map(|e| e.spec).collect();
        self.check_projects(&environments, &clusters);
        // Its errors hold for an environment with other errors as well.
        self.check_external_secrets_api_version(
            &clusters,
            &environments
                .iter()
                .chain(unfit.iter().map(|e| &e.spec))
                .collect::<Vec<_>>(),
        );
        self.check_references(&clusters, &environments.iter().collect::<Vec<_>>());
        self.check_source_cidrs(&environments);
        // The environments with errors: their errors only (warnings judged on values
        // left out may be wrong; they come once the errors are fixed).
        let before = self.diags.len();
        self.check_references(
            &clusters,
            &unfit.iter().map(|e| &e.spec).collect::<Vec<_>>(),
        );
        let found = self.diags.split_off(before);
        self.diags
            .extend(found.into_iter().filter(Diagnostic::is_error));
        self.unfit = unfit;
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
        // Settings for the services that need them, never for all: waivers, and Pod
        // Security (for node agents; it would loosen every namespace).
        let defaults = self.platform_file().defaults.as_ref().map(|d| &d.value);
        let refused = [
            (
                defaults.and_then(|d| d.waivers.as_ref()).map(|w| w.span.clone()),
                rules::WAIVER,
                "waivers cannot be set in [defaults]",
                "waive a rule for every service under `[platform] waivers`, or for one service under its `[services.<name>]`",
            ),
            (
                defaults.and_then(|d| d.pod_security.as_ref()).map(|p| p.span.clone()),
                rules::INVALID_VALUE,
                "pod_security cannot be set in [defaults]: it would loosen the namespace of every service",
                "set it under `[services.<name>]` of the node agents whose pods use the node (docs/platform.md#kinds, daemonset)",
            ),
        ];
        for (span, code, message, help) in refused {
            if let Some(span) = span {
                self.error(code, self.at(&span), message.into()).help(help);
            }
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

    /// A name that must be a DNS-1123 label (`what`: "service name", "Argo CD
    /// namespace"): KG005 at `origin` with a did-you-mean when it is not. Whether it is.
    fn check_label(&mut self, what: &str, name: &str, origin: Origin) -> bool {
        let Err(e) = names::check_dns1123_label(name) else {
            return true;
        };
        let d = self.error(rules::INVALID_NAME, origin, format!("{what}: {e}"));
        if let Some(n) = names::nearest_dns1123_label(name) {
            d.label(format!("did you mean `{n}`?"));
        }
        false
    }

    /// A warning for a resource quantity without a unit that is surely a slip
    /// (`memory = "256"`, `cpu = "500"`: [`quantity::unit_slip`]); `path` ends in
    /// `.cpu` or `.memory`.
    fn unit_slip(&mut self, path: &str, value: &str, origin: &Origin) {
        let resource = path.rsplit('.').next().unwrap_or_default();
        if let Some((problem, meant)) = crate::quantity::unit_slip(resource, value) {
            self.warning(rules::INVALID_QUANTITY, origin.clone(), format!("`{path}`: {problem}"))
                .label(format!("did you mean `{meant}`?"))
                .help("write the unit: `m` for thousandths of a CPU (`250m`), `Mi` or `Gi` for memory (`256Mi`); a bare number counts whole CPUs or bytes");
        }
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// Refuses a literal that looks like a secret, judged by its shape and by `key`;
    /// in a template, the string literals inside it are judged so (its output is
    /// judged after rendering, by [`Resolver::render_keyed`]).
    /// KG039: a literal of `env` or `config` written as a TOML number whose text kgen
    /// cannot keep: TOML reads `1.10` as the float 1.1, `0x1F` as 31, `1_000` as 1000,
    /// and kgen writes the number, not what was typed (a version-like `1.10` becomes
    /// `"1.1"`). A warning at the value; quoting keeps the text.
    fn check_number_text(&mut self, key: &str, raw: &str, origin: &Origin) {
        let text = &self.ws.sources.get(origin.file).text;
        let Some(written) = text.get(origin.span.clone()).map(str::trim) else {
            return;
        };
        let number = written
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == b'+' || c == b'-')
            || matches!(written, "inf" | "nan");
        if !number || written == raw {
            return;
        }
        self.warning(
            rules::NUMBER_TEXT,
            origin.clone(),
            format!("`{key}` is written `{written}`, a TOML number, which kgen writes as \"{raw}\""),
        )
        .help(format!(
            "quote it to keep the text (`{key} = \"{written}\"`), or write the number as kgen writes it (`{key} = {raw}`)"
        ));
    }

    fn scan_secret(&mut self, key: &str, value: &str, origin: &Origin) {
        let found = if Templates::is_template(value) {
            secret_scan::scan_template_literals(key, value)
        } else {
            secret_scan::scan(key, value)
        };
        if let Some(f) = found {
            let help = self.remedy.help();
            self.error(
                rules::SECRET_LITERAL,
                origin.clone(),
                format!(
                    "`{key}` looks like it holds a secret ({}); kgen refuses secrets in plain text",
                    f.what
                ),
            )
            .redacted()
            .label("secret-looking value")
            .help(help);
        }
    }

    /// KG010's help for what a template renders to.
    fn rendered_remedy(&self) -> &'static str {
        match self.remedy {
            secret_scan::Remedy::Csi => "store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets`; see docs/platform.md#secrets",
            other => other.help(),
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
                let help = self.rendered_remedy();
                self.error(
                    rules::SECRET_LITERAL,
                    origin.clone(),
                    format!(
                        "`{key}`: this template renders to what looks like a secret ({}); kgen refuses secrets in plain text",
                        f.what
                    ),
                )
                .redacted()
                .help(help);
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
                let help = self.rendered_remedy();
                self.error(
                    rules::SECRET_LITERAL,
                    origin.clone(),
                    format!("this template renders to what looks like a secret ({what}); kgen refuses secrets in plain text"),
                )
                .redacted()
                .help(help);
                None
            }
            Ok(s) => Some(s),
            Err(e) => {
                // What the template could use, where it is: a cluster's settings (an
                // add-on's, the baseline's) have no environment or service.
                let has = |name: &str| ctx.get_attr(name).is_ok_and(|v| !v.is_undefined());
                // A cluster's variable in an environment placed on a cluster that
                // does not exist: that error (KG023) says it all.
                let env = ctx.get_attr("env").and_then(|e| e.get_attr("name")).ok();
                if e.undefined
                    .as_deref()
                    .is_some_and(|u| u.starts_with("cluster."))
                    && env
                        .as_ref()
                        .and_then(|n| n.as_str())
                        .is_some_and(|n| self.on_unknown_cluster(n))
                {
                    return None;
                }
                let help = if has("env") {
                    "templates can use `service`, `env.name`, `env.cluster`, `env.project`, `env.sync`, `env.production`, the environment's `vars` as `env.<var>`, `cluster.name`, `cluster.server`, `cluster.destination_name`, `cluster.kubernetes_version`, the cluster's `vars` as `cluster.<var>`, `namespaces['<service>']`, and `platform.name`, `platform.repo`, `platform.registry`"
                } else {
                    "templates of a cluster's settings can use `cluster.name`, `cluster.server`, `cluster.destination_name`, `cluster.kubernetes_version`, the cluster's `vars` as `cluster.<var>`, and `platform.name`, `platform.repo`, `platform.registry`"
                };
                let named = e.undefined.as_deref().and_then(|name| {
                    self.cluster_without(name, ctx)
                        .or_else(|| self.service_not_in_env(name, ctx))
                });
                let (e, help) = named.unwrap_or_else(|| (e.message, help.to_string()));
                self.error(rules::TEMPLATE, origin.clone(), e).help(help);
                None
            }
        }
    }

    /// A template's `cluster.<var>` undefined in this cluster but one of another
    /// cluster's `vars`: the message and help for it, naming the cluster without it and
    /// those with it, as the template itself is right for them. (A variable no cluster
    /// has keeps one message for all of them, reported once.)
    fn cluster_without(&self, undefined: &str, ctx: &Value) -> Option<(String, String)> {
        let var = undefined.strip_prefix("cluster.")?;
        let cluster = ctx
            .get_attr("cluster")
            .and_then(|c| c.get_attr("name"))
            .ok()?;
        let cluster = cluster.as_str()?;
        let having: Vec<String> = self
            .platform_file()
            .clusters
            .iter()
            .filter(|(name, c)| {
                name.value != cluster && c.value.vars.keys().any(|k| k.value == var)
            })
            .map(|(name, _)| format!("`{}`", name.value))
            .collect();
        let has = match having.len() {
            0 => return None,
            1 => "has",
            _ => "have",
        };
        Some((
            format!(
                "undefined value in template: `cluster.{var}` is undefined for cluster `{cluster}`, whose `vars` have no `{var}` ({} {has} it)",
                having.join(", ")
            ),
            format!(
                "add `{var} = \"...\"` to the `vars` of `[clusters.{cluster}]`"
            ),
        ))
    }

    /// `namespaces['<service>']` of a service the platform does not declare (a typo:
    /// "did you mean"), or has but this environment does not (`enabled = false` in
    /// it): the message and help say so.
    fn service_not_in_env(&self, undefined: &str, ctx: &Value) -> Option<(String, String)> {
        let service = undefined.strip_prefix("namespaces['")?.strip_suffix("']")?;
        // In a `namespace` template, `namespaces` is not known yet (it is made of them).
        if ctx.get_attr("namespaces").is_ok_and(|n| n.is_none()) {
            return Some((
                format!("undefined value in template: `namespaces['{service}']`: a `namespace` template cannot use `namespaces`, which is made of the namespaces"),
                "write the namespace from `service`, `env.<var>` and `cluster.<var>`; `namespaces['<service>']` works in the other settings of a service".to_string(),
            ));
        }
        let declared = || {
            self.platform_file()
                .services
                .keys()
                .map(|k| k.value.as_str())
        };
        if !declared().any(|k| k == service) {
            let known: Vec<&str> = declared().collect();
            let meant = did_you_mean(service, declared())
                .map(|s| format!("{s} "))
                .unwrap_or_default();
            return Some((
                format!("undefined value in template: `namespaces['{service}']`: platform.toml declares no service `{service}`"),
                format!(
                    "{meant}`namespaces` has the namespace of each service enabled in the environment, by its name under [services] ({})",
                    known.join(", ")
                ),
            ));
        }
        let env = ctx.get_attr("env").and_then(|e| e.get_attr("name")).ok()?;
        let env = env.as_str()?;
        declared()
            .any(|k| k == service)
            .then(|| {
                (
                    format!(
                        "undefined value in template: `namespaces['{service}']` is undefined in environment `{env}`, where service `{service}` is not enabled"
                    ),
                    format!(
                        "`namespaces` has the services enabled in the environment: enable `{service}` in `{env}`, or set this value in `{env}`'s overlay without `namespaces['{service}']`"
                    ),
                )
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
