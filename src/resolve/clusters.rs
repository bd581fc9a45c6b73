//! Clusters: where each environment runs, and what is installed once per cluster.
//!
//! An environment names a declared cluster (`cluster = "nonprod"`, a `[clusters.<name>]`
//! table) or an API server URL (`cluster = "https://..."`, the default being the
//! cluster Argo CD runs in). With a URL the environment is a cluster of its own, named
//! after the environment (an *implicit* cluster): platforms that declare no
//! `[clusters]` keep one cluster per environment.
//!
//! What is installed once per cluster (the monitoring stack) is resolved here, from
//! `[monitoring]` < `[clusters.<name>] monitoring` < the overlay's `[monitoring]` of the
//! cluster's environment, when the cluster hosts exactly one. An overlay cannot
//! configure the stack of a cluster it shares with other environments: which one
//! would win?

use std::collections::BTreeMap;

use super::{builtin, Amend, Resolver};
use crate::admission::project::Cluster;
use crate::diagnostic::did_you_mean;
use crate::input::{ClusterLayer, EnvironmentLayer, MonitoringLayer};
use crate::merge::{Layers, Located};
use crate::source::{FileId, Origin};
use crate::spanned::Spanned;
use crate::spec::{ClusterSpec, Destination};
use crate::{names, rules};

/// The oldest Kubernetes minor version kgen's output supports (EKS 1.29, seed 004).
pub const OLDEST_KUBERNETES: (u32, u32) = (1, 29);

/// Names a cluster cannot have: directories of kgen's own under `generated/argocd/`.
pub const RESERVED_CLUSTER_NAMES: &[&str] = &["cmp"];

/// Where one environment runs, as its layers say.
#[derive(Debug, Clone)]
pub(super) struct Placement<'a> {
    /// The cluster's name: a declared cluster's, or the environment's own.
    pub cluster: String,
    /// `cluster = ...` as written, when some layer sets it.
    pub written: Option<Located<&'a String>>,
    /// The API server URL of an implicit cluster.
    pub url: Option<String>,
    /// `cluster` names neither a declared cluster nor a URL (KG023): the environment
    /// is placed on a cluster of its own at the default URL only to go on checking,
    /// and what follows from that placement is not reported.
    pub refused: bool,
}

impl<'a> Resolver<'a> {
    /// The `[environments.<env>]` layers of `env`: platform.toml, then its overlay.
    pub(super) fn env_layers(&self, env: &str) -> Layers<'a, EnvironmentLayer> {
        let mut layers = Layers::new();
        if let Some(l) = self.platform_file().environments.get(env) {
            layers.push(self.pf, &l.value);
        }
        if let Some(o) = self.ws.overlays.get(env) {
            if let Some(e) = &o.data.environment {
                layers.push(o.file, &e.value);
            }
        }
        layers
    }

    /// Whether `env`'s `cluster` names neither a declared cluster nor a URL (KG023,
    /// [`Placement::refused`]): the environment is placed on an implicit cluster of
    /// its own name, which has none of the settings the platform's clusters have, so
    /// what is missing there (a `cluster.<var>` of a template, a baseline object)
    /// follows from that error and is not reported.
    pub(super) fn on_unknown_cluster(&self, env: &str) -> bool {
        self.env_layers(env)
            .pick(|l| l.cluster.as_ref())
            .is_some_and(|c| {
                !self
                    .platform_file()
                    .clusters
                    .keys()
                    .any(|k| k.value == *c.value)
                    && !c.value.starts_with("https://")
                    && !c.value.starts_with("http://")
            })
    }

    /// Where every environment of platform.toml runs (all of them, whatever `only`
    /// says: whether a cluster is shared depends on every environment).
    pub(super) fn placements(&mut self) -> BTreeMap<String, Placement<'a>> {
        let declared: Vec<&str> = self
            .platform_file()
            .clusters
            .keys()
            .map(|k| k.value.as_str())
            .collect();
        let mut out = BTreeMap::new();
        for env in self.platform_file().environments.keys() {
            let name = env.value.clone();
            let written = self.env_layers(&name).pick(|l| l.cluster.as_ref());
            let placement = match &written {
                Some(c) if declared.contains(&c.value.as_str()) => Placement {
                    cluster: c.value.clone(),
                    written: written.clone(),
                    url: None,
                    refused: false,
                },
                Some(c) if c.value.starts_with("https://") || c.value.starts_with("http://") => {
                    Placement {
                        cluster: name.clone(),
                        written: written.clone(),
                        url: Some(c.value.clone()),
                        refused: false,
                    }
                }
                Some(c) => {
                    let d = self.error(
                        rules::UNKNOWN_CLUSTER,
                        c.origin.clone(),
                        format!(
                            "environment `{name}` runs on cluster `{}`, which is neither a `[clusters.<name>]` table nor an API server URL",
                            c.value
                        ),
                    );
                    if let Some(s) = did_you_mean(c.value, declared.iter().copied()) {
                        d.label = Some(s);
                    }
                    d.help = Some(if declared.is_empty() {
                        "declare the cluster under `[clusters.<name>]` (see docs/platform.md#clusters), or write the API server URL Argo CD deploys to, e.g. `https://kubernetes.default.svc`".to_string()
                    } else {
                        format!(
                            "use one of the declared clusters ({}), or an API server URL such as `https://kubernetes.default.svc`",
                            declared.join(", ")
                        )
                    });
                    Placement {
                        cluster: name.clone(),
                        written: written.clone(),
                        url: Some(builtin::CLUSTER.into()),
                        refused: true,
                    }
                }
                None => Placement {
                    cluster: name.clone(),
                    written: None,
                    url: Some(builtin::CLUSTER.into()),
                    refused: false,
                },
            };
            if placement.url.is_some() && !placement.refused && declared.contains(&name.as_str()) {
                let origin = written
                    .as_ref()
                    .map_or_else(|| self.at(&env.span), |w| w.origin.clone());
                self.error(
                    rules::DUPLICATE,
                    origin,
                    format!(
                        "environment `{name}` runs on a cluster of its own, which would be named `{name}` like the declared `[clusters.{name}]`"
                    ),
                )
                .help(format!(
                    "set `cluster = \"{name}\"` to run the environment on the declared cluster, or rename the cluster"
                ));
            }
            out.insert(name, placement);
        }
        out
    }

    /// The clusters of the environments in `only` (all when empty), sorted by name.
    pub(super) fn clusters(
        &mut self,
        placements: &BTreeMap<String, Placement<'a>>,
        only: &[String],
    ) -> Vec<ClusterSpec> {
        let mut hosted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (env, p) in placements {
            hosted.entry(p.cluster.as_str()).or_default().push(env);
        }
        let mut out = Vec::new();
        for (cluster, envs) in &hosted {
            if !only.is_empty() && !envs.iter().any(|e| only.iter().any(|o| o == e)) {
                continue;
            }
            let declared = self.platform_file().clusters.get_key_value(*cluster);
            // What is wrong in a cluster is about its environments.
            let spec = self.about(envs, |r| match declared {
                Some((key, layer)) => r.declared_cluster(key, layer, envs),
                None => {
                    let env = envs[0];
                    r.implicit_cluster(env, &placements[env])
                }
            });
            out.push(spec);
        }
        let refused: Vec<&str> = placements
            .values()
            .filter(|p| p.refused)
            .map(|p| p.cluster.as_str())
            .collect();
        self.check_destinations(&out, &refused);
        // Clusters that host no environment still exist (nothing is rendered for them
        // but their name is checked): a typo in an environment's `cluster` shows here.
        let misspelt: Vec<&str> = placements
            .values()
            .filter(|p| p.refused)
            .filter_map(|p| p.written.as_ref().map(|w| w.value.as_str()))
            .collect();
        for (key, layer) in &self.platform_file().clusters {
            if hosted.contains_key(key.value.as_str()) {
                continue;
            }
            // The cluster an environment's misspelt `cluster` meant (KG023 says so).
            if misspelt
                .iter()
                .any(|m| crate::diagnostic::closest(m, [key.value.as_str()]).is_some())
            {
                continue;
            }
            let meant = crate::diagnostic::closest(&key.value, hosted.keys().copied());
            // A table of settings alone (no `server` or `destination_name`) named close
            // to a cluster that hosts environments is that cluster's, misspelt
            // (`[clusters.prd.addons.cert-manager]`): its settings would apply nowhere.
            let overrides_only =
                layer.value.server.is_none() && layer.value.destination_name.is_none();
            let message = format!(
                "cluster `{}` hosts no environment; nothing is rendered for it",
                key.value
            );
            let d = match meant {
                Some(_) if overrides_only => {
                    self.error(rules::UNKNOWN_CLUSTER, self.at(&key.span), message)
                }
                _ => self.warning(rules::UNKNOWN_CLUSTER, self.at(&key.span), message),
            };
            match meant {
                Some(m) => {
                    d.label = Some(format!("did you mean `{m}`?"));
                    d.help = Some(format!(
                        "its settings apply to no cluster: name the table after the cluster, `[clusters.{m}...]`, or place an environment on `{}`",
                        key.value
                    ));
                }
                None => {
                    d.help = Some(format!(
                        "place an environment on it with `cluster = \"{}\"` under `[environments.<env>]`, or remove the table",
                        key.value
                    ));
                }
            }
        }
        out
    }

    /// Two clusters are two destinations. One Argo CD deploys every cluster's
    /// Applications (docs/argocd.md, "The whole flow"), so two declared clusters with
    /// one destination, or an environment of its own on a declared cluster's
    /// destination, would put what runs once per cluster (monitoring, add-ons,
    /// baseline) on one cluster twice. Destinations compare as Argo CD resolves them
    /// ([`Cluster::of`]: the in-cluster URL and name are one). Two clusters of their
    /// own environments on one URL are left to KG303, which names what they share.
    /// `refused`: the implicit clusters of environments whose `cluster` was refused
    /// (KG023), whose default destination was never written.
    fn check_destinations(&mut self, clusters: &[ClusterSpec], refused: &[&str]) {
        let identity = |c: &ClusterSpec| match &c.destination {
            Destination::Server(s) => Cluster::of(s, ""),
            Destination::Name(n) => Cluster::of("", n),
        };
        let mut declared: BTreeMap<Cluster, &str> = BTreeMap::new();
        for c in clusters.iter().filter(|c| !c.implicit) {
            let Some(first) = declared.get(&identity(c)).copied() else {
                declared.insert(identity(c), &c.name);
                continue;
            };
            let layer = self.platform_file().clusters.get(c.name.as_str());
            let written = layer.and_then(|l| {
                l.value
                    .server
                    .as_ref()
                    .or(l.value.destination_name.as_ref())
            });
            let origin = written.map_or_else(|| c.origin.clone(), |w| self.at(&w.span));
            let help = if written.is_none() {
                format!(
                    "`server` defaults to `{}`, the cluster Argo CD runs in: set `server` (the API server URL) or `destination_name` (the name `argocd cluster list` shows) under [clusters.{}]; if they are one cluster, declare it once and place the environments of both on it",
                    builtin::CLUSTER,
                    c.name
                )
            } else {
                format!(
                    "correct the destination of one of them; if they are one cluster, declare it once and place the environments of both on it with `cluster = \"{first}\"`"
                )
            };
            self.error(
                rules::DUPLICATE,
                origin,
                format!(
                    "clusters `{first}` and `{}` both deploy to `{}`: Argo CD would sync what kgen renders once per cluster (monitoring, add-ons, baseline, namespaces) into one cluster twice",
                    c.name,
                    identity(c).shown()
                ),
            )
            .help(help);
        }
        for c in clusters
            .iter()
            .filter(|c| c.implicit && !refused.contains(&c.name.as_str()))
        {
            let Some(first) = declared.get(&identity(c)).copied() else {
                continue;
            };
            let env = &c.name;
            let written = self.env_layers(env).pick(|l| l.cluster.as_ref()).is_some();
            let how = if written {
                ""
            } else {
                " (the default `cluster`)"
            };
            self.error(
                rules::DUPLICATE,
                c.origin.clone(),
                format!(
                    "environment `{env}` runs on `{}`{how}, where the declared cluster `{first}` deploys: what kgen renders once per cluster would be rendered for both, into one cluster",
                    identity(c).shown()
                ),
            )
            .help(format!(
                "set `cluster = \"{first}\"` under [environments.{env}] to run it on the declared cluster, or declare its own cluster under [clusters.<name>] with that cluster's `server` or `destination_name`"
            ));
        }
    }

    fn declared_cluster(
        &mut self,
        key: &Spanned<String>,
        layer: &'a Spanned<ClusterLayer>,
        envs: &[&str],
    ) -> ClusterSpec {
        let name = key.value.clone();
        let origin = self.at(&key.span);
        self.check_cluster_name(&name, &origin);
        let c = &layer.value;
        let destination = match (&c.server, &c.destination_name) {
            (Some(s), Some(n)) => {
                self.error(
                    rules::INVALID_VALUE,
                    self.at(&n.span),
                    format!("cluster `{name}` sets both `server` and `destination_name`"),
                )
                .help("Argo CD refuses an Application whose destination has both a server and a name: keep one");
                Destination::Server(s.value.clone())
            }
            (Some(s), None) => {
                self.check_server_url(&s.value, self.at(&s.span));
                Destination::Server(s.value.clone())
            }
            (None, Some(n)) => {
                if n.value.trim().is_empty() {
                    self.error(
                        rules::INVALID_VALUE,
                        self.at(&n.span),
                        "`destination_name` is empty".into(),
                    )
                    .help("write the cluster's name as `argocd cluster list` shows it");
                }
                Destination::Name(n.value.clone())
            }
            (None, None) => Destination::Server(builtin::CLUSTER.into()),
        };
        let kubernetes_version = self.kubernetes_version(c.kubernetes_version.as_ref());
        let project = match &c.project {
            Some(p) => {
                self.check_project_name(&p.value, self.at(&p.span));
                p.value.clone()
            }
            None if envs.len() == 1 => self.env_project(envs[0]),
            None => name.clone(),
        };
        let mut vars = BTreeMap::new();
        for (k, v) in &c.vars {
            if !super::is_identifier(&k.value) {
                self.error(
                    rules::INVALID_KEY,
                    self.at(&k.span),
                    format!("variable name `{}` cannot be used in templates", k.value),
                )
                .help("use letters, digits and `_`, starting with a letter, e.g. `aws_account`");
                continue;
            }
            if super::RESERVED_CLUSTER_VARS.contains(&k.value.as_str()) {
                self.error(
                    rules::RESERVED,
                    self.at(&k.span),
                    format!(
                        "`{}` is a built-in field of `cluster` and cannot be a variable",
                        k.value
                    ),
                )
                .help(format!(
                    "rename the variable; `{{{{ cluster.{} }}}}` already means the cluster's {}",
                    k.value, k.value
                ));
                continue;
            }
            self.scan_secret(&k.value, &v.value, &self.at(&v.span));
            vars.insert(k.value.clone(), v.value.clone());
        }
        let only_env = (envs.len() == 1).then(|| envs[0]);
        let mut spec = ClusterSpec {
            name,
            destination,
            kubernetes_version,
            project,
            sync: c.sync.as_ref().map(|s| s.value),
            vars,
            monitoring: None,
            addons: Vec::new(),
            baseline: Default::default(),
            implicit: false,
            inputs: self.cluster_inputs(only_env),
            origin,
        };
        let ctx = self.cluster_template_context(&spec);
        spec.monitoring = self.cluster_monitoring(
            &spec.name,
            c.monitoring.as_ref().map(|m| (self.pf, &m.value)),
            only_env,
            envs,
            &ctx,
        );
        spec.baseline = self.baseline(&spec.name, c.baseline.as_ref(), &ctx);
        spec.addons = self.addons(
            &spec.name,
            spec.kubernetes_version,
            Some(&layer.value),
            only_env,
            envs,
            &ctx,
        );
        spec
    }

    /// What the templates of a cluster's add-ons see: `cluster` and `platform`.
    fn cluster_template_context(&self, c: &ClusterSpec) -> minijinja::Value {
        let p = &self.platform_file().platform;
        minijinja::context! {
            cluster => super::cluster_context(c),
            platform => minijinja::context! {
                name => p.name.value.clone(),
                repo => p.repo.value.clone(),
                registry => p.registry.as_ref().map(|r| r.value.clone()),
            },
        }
    }

    fn implicit_cluster(&mut self, env: &str, placement: &Placement<'a>) -> ClusterSpec {
        let origin = placement.written.as_ref().map_or_else(
            || {
                let key = self
                    .platform_file()
                    .environments
                    .get_key_value(env)
                    .map(|(k, _)| k.span.clone())
                    .unwrap_or(0..0);
                self.at(&key)
            },
            |w| w.origin.clone(),
        );
        let url = placement
            .url
            .clone()
            .unwrap_or_else(|| builtin::CLUSTER.into());
        if placement.written.is_some() {
            self.check_server_url(&url, origin.clone());
        }
        let mut spec = ClusterSpec {
            name: env.to_string(),
            destination: Destination::Server(url),
            kubernetes_version: OLDEST_KUBERNETES,
            project: self.env_project(env),
            sync: None,
            vars: BTreeMap::new(),
            monitoring: None,
            addons: Vec::new(),
            baseline: Default::default(),
            implicit: true,
            inputs: self.cluster_inputs(Some(env)),
            origin,
        };
        let ctx = self.cluster_template_context(&spec);
        // A cluster made up for an environment whose `cluster` names none (KG023) has
        // none of the declared clusters' variables: what its monitoring, baseline and
        // add-ons find missing follows from that error and is not reported.
        let before = self.diags.len();
        spec.monitoring = self.cluster_monitoring(env, None, Some(env), &[env], &ctx);
        spec.baseline = self.baseline(&spec.name, None, &ctx);
        spec.addons = self.addons(
            &spec.name,
            spec.kubernetes_version,
            None,
            Some(env),
            &[env],
            &ctx,
        );
        if placement.refused {
            self.diags.truncate(before);
        }
        spec
    }

    /// Input files of a cluster's files: platform.toml, and the overlay of the
    /// cluster's one environment (which may configure its monitoring).
    fn cluster_inputs(&self, only_env: Option<&str>) -> Vec<String> {
        let mut inputs = vec![self.ws.sources.get(self.pf).display.clone()];
        if let Some(o) = only_env.and_then(|e| self.ws.overlays.get(e)) {
            inputs.push(self.ws.sources.get(o.file).display.clone());
        }
        inputs
    }

    /// The project of `env` as its layers set it (default: its name), unchecked.
    pub(super) fn env_project(&self, env: &str) -> String {
        self.env_layers(env)
            .pick(|l| l.project.as_ref())
            .map_or_else(|| env.to_string(), |p| p.value.clone())
    }

    fn check_cluster_name(&mut self, name: &str, origin: &Origin) {
        if let Err(e) = names::check_dns1123_label(name) {
            self.error(
                rules::INVALID_NAME,
                origin.clone(),
                format!("cluster name: {e}"),
            );
        }
        if RESERVED_CLUSTER_NAMES.contains(&name) {
            self.error(
                rules::RESERVED,
                origin.clone(),
                format!("`{name}` cannot be a cluster name: kgen writes generated/argocd/{name}/ for its own use"),
            )
            .help("choose another name");
        }
    }

    pub(super) fn check_server_url(&mut self, url: &str, origin: Origin) {
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && !url.contains(char::is_whitespace)
            && url.len() > "https://".len();
        if !ok {
            self.error(rules::INVALID_VALUE, origin, format!("`{url}` is not a cluster API URL"))
                .help("write the API server URL as Argo CD knows it, e.g. `https://kubernetes.default.svc`");
        }
    }

    pub(super) fn check_project_name(&mut self, project: &str, origin: Origin) {
        self.check_label("Argo CD project", project, origin);
    }

    /// `"1.30"` as `(1, 30)`; the oldest supported version when not set.
    fn kubernetes_version(&mut self, v: Option<&Spanned<String>>) -> (u32, u32) {
        let Some(v) = v else {
            return OLDEST_KUBERNETES;
        };
        let parsed = v
            .value
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
            .filter(|_| v.value.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
        match parsed {
            Some(version) if version >= OLDEST_KUBERNETES && version.0 == 1 => version,
            Some(_) => {
                self.error(
                    rules::INVALID_VALUE,
                    self.at(&v.span),
                    format!(
                        "Kubernetes {} is older than {}.{}, the oldest version kgen's output supports",
                        v.value, OLDEST_KUBERNETES.0, OLDEST_KUBERNETES.1
                    ),
                )
                .help("upgrade the cluster, or use a kgen release that supports it; see docs/dependencies.md");
                OLDEST_KUBERNETES
            }
            None => {
                self.error(
                    rules::INVALID_VALUE,
                    self.at(&v.span),
                    format!("`{}` is not a Kubernetes minor version", v.value),
                )
                .help("write the major and minor version in quotes, e.g. `kubernetes_version = \"1.30\"`");
                OLDEST_KUBERNETES
            }
        }
    }

    /// The monitoring stack of a cluster: `[monitoring]` < the cluster's `monitoring`
    /// < the overlay's `[monitoring]` of its environment (`only_env`, when it hosts one).
    fn cluster_monitoring(
        &mut self,
        cluster: &str,
        cluster_layer: Option<(FileId, &'a MonitoringLayer)>,
        only_env: Option<&str>,
        envs: &[&str],
        ctx: &minijinja::Value,
    ) -> Option<crate::spec::MonitoringSpec> {
        let overlay_layer = |env: &str| {
            self.ws.overlays.get(env).and_then(|o| {
                o.data
                    .monitoring
                    .as_ref()
                    .map(|m| (o.file, &m.value, m.span.clone()))
            })
        };
        if only_env.is_none() {
            for env in envs {
                if let Some((file, _, span)) = overlay_layer(env) {
                    let others: Vec<&str> = envs.iter().copied().filter(|e| e != env).collect();
                    self.error(
                        rules::SHARED_CLUSTER_SETTING,
                        Origin::new(file, span),
                        format!(
                            "overlays/{env}.toml sets [monitoring], but `{env}` shares cluster `{cluster}` with {}, and the cluster runs one monitoring stack",
                            others.join(", ")
                        ),
                    )
                    .help(format!(
                        "configure the stack of the cluster under `[clusters.{cluster}.monitoring]` in platform.toml"
                    ));
                }
            }
        }
        let overlay = only_env.and_then(|e| overlay_layer(e).map(|(f, l, _)| (f, l)));
        let mut extra = Vec::new();
        if let Some(l) = cluster_layer {
            extra.push(l);
        }
        if let Some(l) = overlay {
            extra.push(l);
        }
        self.monitoring(cluster, &extra, ctx)
    }
}

impl Resolver<'_> {
    /// Every Argo CD project belongs to one cluster: kgen writes an AppProject in the
    /// bootstrap directory of the cluster whose Applications use it, so that each
    /// cluster's bootstrap alone is a complete, syncable set. A project used on two
    /// clusters would have to be managed by two bootstraps (two Applications fighting
    /// over one object).
    pub(super) fn check_projects(
        &mut self,
        environments: &[crate::spec::EnvSpec],
        clusters: &[ClusterSpec],
    ) {
        let mut users: BTreeMap<&str, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
        for env in environments {
            users
                .entry(env.project.as_str())
                .or_default()
                .entry(env.cluster.as_str())
                .or_default()
                .push(format!("environment `{}`", env.name));
        }
        // The cluster's own Applications: its monitoring stack, add-ons and baseline.
        for c in clusters {
            let mut own: Vec<String> = Vec::new();
            if c.monitoring.is_some() {
                own.push("monitoring stack".into());
            }
            if !c.addons.is_empty() {
                own.push("add-ons".into());
            }
            if !c.baseline.is_empty() {
                own.push("baseline".into());
            }
            if own.is_empty() {
                continue;
            }
            users
                .entry(c.project.as_str())
                .or_default()
                .entry(c.name.as_str())
                .or_default()
                .push(format!(
                    "the {} of cluster `{}`",
                    crate::diff::and_list(&own),
                    c.name
                ));
        }
        for (project, by_cluster) in users {
            if by_cluster.len() < 2 {
                continue;
            }
            let list: Vec<String> = by_cluster
                .iter()
                .map(|(c, who)| format!("{} on cluster `{c}`", who.join(" and ")))
                .collect();
            // At the second user, an environment's table or else a cluster's.
            let origin = environments
                .iter()
                .filter(|e| e.project == project)
                .map(|e| e.origin.clone())
                .chain(
                    clusters
                        .iter()
                        .filter(|c| c.project == project && !c.implicit)
                        .map(|c| c.origin.clone()),
                )
                .nth(1)
                .unwrap_or_else(|| Origin::new(self.pf, 0..0));
            self.error(
                rules::PROJECT_SCOPE,
                origin,
                format!(
                    "Argo CD project `{project}` is used on {} clusters: {}",
                    by_cluster.len(),
                    list.join("; ")
                ),
            )
            .help("kgen writes each project in the bootstrap of the one cluster that uses it (so each bootstrap alone is syncable): give each cluster its own project, e.g. `project = \"<cluster>-apps\"`, or place these environments on one cluster under [clusters]");
        }
    }
}
