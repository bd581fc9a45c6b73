//! Offline sync admission: what Argo CD checks when it syncs what kgen wrote, checked
//! before anything is written.
//!
//! The checks read kgen's output the way Argo CD does: the ApplicationSets are
//! expanded into Applications ([`expand`]), each Application's manifests are what its
//! sources point at (a directory of `generated/`, kgen's plugin for a service, or a
//! Helm chart kgen knows the footprint of), and its AppProject is the object in the
//! same bootstrap directory ([`project`]). Then, for every Application:
//!
//! - its project exists in its own cluster's bootstrap (so that bootstrap alone is
//!   a complete set) — KG301;
//! - the project permits its sources, its destination, every object's namespace and
//!   every kind it deploys, a chart's included — KG302;
//! - no object (group, kind, namespace, name) is managed by two Applications on one
//!   cluster — KG303;
//! - every namespaced object's namespace is created by the same Application, by an
//!   Application synced before it in the bootstrap, or exists in every cluster — KG304;
//! - names are unique and fit label tracking (63 characters) — KG305;
//! - every custom resource's CRD is installed by an Application synced before it in
//!   the bootstrap (a warning: it may be installed by hand) — KG306.
//!
//! docs/argocd.md shows an example of each error.

mod app;
pub mod expand;
pub mod glob;
mod inventory;
mod namespaces;
mod ownership;
pub mod project;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::render::{argocd, monitoring};
use crate::rules;
use crate::source::Origin;
use crate::spec::PlatformSpec;
use crate::workspace::GENERATED_DIR;
use app::{App, AppSpec, SourceKind};
pub use inventory::{Entry, Inventory, Locator};
use project::{Cluster, Project};

/// Namespaces every cluster has.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// What a Helm chart kgen configures creates, as far as the checks need.
struct Footprint {
    chart: String,
    namespaces: Vec<String>,
    cluster_kinds: Vec<(String, String)>,
    crd_groups: Vec<String>,
    /// The objects it creates outside its release namespace (group, kind, namespace, name).
    objects: Vec<(String, String, String, String)>,
    /// Custom resources of other charts' CRDs it creates, with where the values
    /// asking for them were written (an add-on preset's, see `addons::Footprint`).
    custom_resources: Vec<(crate::addons::CustomResource, Origin)>,
}

/// Runs every check; diagnostics are sorted by the caller. `focus` says which files
/// (paths under `generated/`) the run renders: the errors are of every file, the
/// warnings (KG306) of these (see `selection`).
pub fn check(
    spec: &PlatformSpec,
    mut inv: Inventory,
    focus: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Diagnostic> {
    let (apps, out) = {
        let mut c = Checker::new(spec, &inv);
        (c.applications(), c.out)
    };
    // Made into Applications, the Argo CD Applications and ApplicationSets whole (the
    // largest part of the inventory: an environment's ApplicationSet lists every
    // service) are not read again; only the AppProjects are. Dropped before the
    // checks that hold the most (the owner map, at the end of a run).
    inv.argo.retain(|(_, v)| v["kind"] == "AppProject");
    let mut c = Checker::new(spec, &inv);
    c.out = out;
    for (i, e) in inv.entries.iter().enumerate() {
        let dir = e.path().rsplit_once('/').map_or("", |(d, _)| d);
        c.by_dir.entry(dir).or_default().push(i);
    }
    c.names(&apps);
    c.read_destinations();
    let mut out = std::mem::take(&mut c.out);
    // The checks below read and never change the checker: on all cores, each into a
    // list of its own, joined in the order they ran in one after the other (the
    // report is sorted later; the order only breaks ties).
    use rayon::prelude::*;
    let deployed: Vec<Deployed> = apps.par_iter().map(|a| c.deployed(a)).collect();
    let c = &c;
    let (permissions, (owners, namespaces)) = rayon::join(
        || {
            apps.par_iter()
                .zip(&deployed)
                .map(|(app, d)| {
                    let mut out = Vec::new();
                    c.permissions(app, d, &mut out);
                    out
                })
                .collect::<Vec<_>>()
        },
        || {
            rayon::join(
                || {
                    let mut out = Vec::new();
                    c.ownership(&apps, &deployed, &mut out);
                    out
                },
                || {
                    let mut out = Vec::new();
                    c.namespaces_and_crds(&apps, &deployed, focus, &mut out);
                    out
                },
            )
        },
    );
    out.extend(permissions.into_iter().flatten());
    out.extend(owners);
    out.extend(namespaces);
    crate::compile::drop_in_background((apps, deployed, inv));
    out
}

/// What one Application deploys.
#[derive(Default)]
struct Deployed {
    /// Indices into the inventory.
    entries: Vec<usize>,
    footprints: Vec<Footprint>,
}

struct Checker<'a> {
    spec: &'a PlatformSpec,
    inv: &'a Inventory,
    by_dir: BTreeMap<&'a str, Vec<usize>>,
    out: Vec<Diagnostic>,
    /// Each AppProject's destinations, read once before the checks (by the address of
    /// its object in the inventory, which outlives the checker): an environment's
    /// Applications (one per service) share a project whose destinations list every
    /// namespace, indexed by namespace.
    project_destinations: crate::validate::FastMap<usize, project::Destinations<'a>>,
}

impl<'a> Checker<'a> {
    fn new(spec: &'a PlatformSpec, inv: &'a Inventory) -> Self {
        Checker {
            spec,
            inv,
            by_dir: BTreeMap::new(),
            out: Vec::new(),
            project_destinations: Default::default(),
        }
    }

    /// The Applications kgen writes: its own, and those its ApplicationSets make.
    fn applications(&mut self) -> Vec<App> {
        // The ApplicationSets are expanded on all cores (an environment's makes one
        // Application per service), each Application cut down to what the checks
        // read as it is made.
        type Made = Result<Vec<(String, Option<String>, AppSpec)>, String>;
        let expanded: Vec<Option<Made>> = {
            use rayon::prelude::*;
            self.inv
                .argo
                .par_iter()
                .map(|(_, v)| {
                    (v["kind"].as_str() == Some("ApplicationSet")).then(|| {
                        expand::applications_into(v, |app| {
                            let meta = &app["metadata"];
                            (
                                meta["name"].as_str().unwrap_or("").to_string(),
                                meta["labels"][crate::render::labels::NAME]
                                    .as_str()
                                    .map(str::to_string),
                                AppSpec::of(&app["spec"]),
                            )
                        })
                    })
                })
                .collect()
        };
        let mut apps = Vec::new();
        for ((path, v), made) in self.inv.argo.iter().zip(expanded) {
            let labels = &v["metadata"]["labels"];
            let label = |k: &str| labels.get(k).and_then(Value::as_str).map(str::to_string);
            let wave = v["metadata"]["annotations"][crate::crd::argocd::SYNC_WAVE_ANNOTATION]
                .as_str()
                .and_then(|w| w.parse().ok())
                .unwrap_or(0);
            match v["kind"].as_str() {
                Some("Application") => apps.push(App {
                    name: v["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    path: path.clone(),
                    spec: AppSpec::of(&v["spec"]),
                    wave,
                    env: label(argocd::ENVIRONMENT_LABEL),
                    service: None,
                    cluster: label(argocd::CLUSTER_LABEL),
                    addon: label(argocd::ADDON_LABEL),
                }),
                Some("ApplicationSet") => match made.expect("expanded above") {
                    Ok(list) => {
                        for (name, service, spec) in list {
                            apps.push(App {
                                name,
                                path: path.clone(),
                                spec,
                                wave,
                                env: label(argocd::ENVIRONMENT_LABEL),
                                service,
                                cluster: label(argocd::CLUSTER_LABEL),
                                addon: None,
                            });
                        }
                    }
                    Err(e) => {
                        let origin = self.env_origin(label(argocd::ENVIRONMENT_LABEL).as_deref());
                        self.out.push(
                            Diagnostic::error(
                                rules::APPLICATION_NAME,
                                format!(
                                    "ApplicationSet `{}` would not generate its Applications: {e}",
                                    v["metadata"]["name"].as_str().unwrap_or("")
                                ),
                            )
                            .at_opt(origin)
                            .target(format!("{GENERATED_DIR}/{path}"), "spec.template"),
                        );
                    }
                },
                _ => {}
            }
        }
        apps
    }

    fn env_origin(&self, env: Option<&str>) -> Option<Origin> {
        let env = env?;
        self.spec
            .environments
            .iter()
            .find(|e| e.name == env)
            .map(|e| e.origin.clone())
    }

    /// Where in the input an Application comes from: its service's `key` (or the
    /// service's header), its environment, or its cluster.
    fn origin(&self, app: &App, key: &str) -> Option<Origin> {
        let env = app
            .env
            .as_deref()
            .and_then(|e| self.spec.environments.iter().find(|x| x.name == e));
        if let (Some(env), Some(svc)) = (env, app.service.as_deref()) {
            if let Some(s) = env.services.iter().find(|s| s.name == svc) {
                return s
                    .origins
                    .get(key)
                    .or_else(|| s.origins.get(crate::validate::SERVICE_ORIGIN))
                    .cloned();
            }
        }
        if let Some(env) = env {
            return Some(env.origin.clone());
        }
        app.cluster
            .as_deref()
            .and_then(|c| self.spec.cluster(c))
            .map(|c| c.origin.clone())
    }

    /// Adds an error about `app` to `out`, located at the hand-written line of
    /// `target` (path, field) or the input `key` of the Application.
    fn error<'o>(
        &self,
        out: &'o mut Vec<Diagnostic>,
        code: &'static str,
        app: &App,
        key: &str,
        target: (&str, &str),
        message: String,
    ) -> &'o mut Diagnostic {
        let origin = self
            .inv
            .hand_written(target.0, target.1)
            .or_else(|| self.origin(app, key));
        let d = Diagnostic::error(code, message)
            .at_opt(origin)
            .target(format!("{GENERATED_DIR}/{}", target.0), target.1);
        out.push(d);
        out.last_mut().expect("just pushed")
    }

    /// Names: unique among the Applications (they share Argo CD's namespace), and
    /// short enough to be a label value (label tracking writes the name as
    /// `app.kubernetes.io/instance`).
    fn names(&mut self, apps: &[App]) {
        let mut out = std::mem::take(&mut self.out);
        let mut seen: BTreeMap<&str, &App> = BTreeMap::new();
        for app in apps {
            if let Some(first) = seen.get(app.name.as_str()) {
                let first_is = describe(first);
                // At a service's table when one of the two is a service's: its name
                // is what can change (a cluster's own Applications are named for it).
                let blamed = if app.service.is_none() && first.service.is_some() {
                    *first
                } else {
                    app
                };
                let d = self.error(
                    &mut out,
                    rules::APPLICATION_NAME,
                    blamed,
                    crate::validate::SERVICE_ORIGIN,
                    (&blamed.path, name_field(blamed)),
                    format!(
                        "two Argo CD Applications would be named `{}`: {} and {}",
                        app.name,
                        first_is,
                        describe(app)
                    ),
                );
                d.help = Some("Argo CD keeps one Application per name in its namespace, and the ApplicationSet controller creates neither of two with the same name: rename the service or the environment, or change `[argocd] application_name`, so that the names stay distinct".into());
                continue;
            }
            seen.insert(&app.name, app);
            if app.name.len() > 63 || crate::names::check_dns1123_subdomain(&app.name).is_err() {
                let d = self.error(
                    &mut out,
                    rules::APPLICATION_NAME,
                    app,
                    crate::validate::SERVICE_ORIGIN,
                    (&app.path, name_field(app)),
                    format!(
                        "Argo CD Application name `{}` is {} characters; with label tracking Argo CD writes it as the `app.kubernetes.io/instance` label, which holds at most 63",
                        app.name,
                        app.name.len()
                    ),
                );
                d.help = Some("shorten the service or environment name (the Application is `<environment>-<service>`)".into());
            }
        }
        self.out = out;
    }

    /// The objects an Application's sources point at.
    fn deployed(&self, app: &App) -> Deployed {
        let mut d = Deployed::default();
        let prefix = self.spec.repo_path_of(GENERATED_DIR);
        for source in app.sources() {
            match &source.kind {
                SourceKind::Plugin(Some((env, svc))) => {
                    let dir = format!("{env}/{svc}");
                    d.entries.extend(self.files_in(&dir));
                }
                SourceKind::Chart(chart) => {
                    if let Some(f) = self.footprint(app, chart) {
                        d.footprints.push(f);
                    }
                }
                SourceKind::Path(path) => {
                    if let Some(dir) = path
                        .strip_prefix(prefix.as_str())
                        .and_then(|p| p.strip_prefix('/'))
                    {
                        d.entries.extend(self.files_in(dir));
                    }
                }
                SourceKind::Plugin(None) | SourceKind::Other => {}
            }
        }
        d
    }

    /// Objects in `dir` (not below it: Argo CD reads a directory without recursing).
    fn files_in(&self, dir: &str) -> Vec<usize> {
        self.by_dir.get(dir).cloned().unwrap_or_default()
    }

    fn footprint(&self, app: &App, chart: &str) -> Option<Footprint> {
        if let Some(addon) = &app.addon {
            let a = app
                .cluster
                .as_deref()
                .and_then(|c| self.spec.cluster(c))
                .and_then(|c| c.addons.iter().find(|a| &a.name == addon))?;
            let f = &a.footprint;
            return Some(Footprint {
                chart: chart.to_string(),
                // The release namespace, then the others the chart writes to, once each.
                namespaces: std::iter::once(a.namespace.clone())
                    .chain(f.namespaces.iter().cloned())
                    .fold(Vec::new(), |mut v, ns| {
                        if !v.contains(&ns) {
                            v.push(ns);
                        }
                        v
                    }),
                cluster_kinds: f.cluster_kinds.clone(),
                crd_groups: f.crd_groups.clone(),
                objects: f.objects.clone(),
                custom_resources: f.custom_resources.clone(),
            });
        }
        if chart != argocd::MONITORING_CHART {
            return None;
        }
        let m = app
            .cluster
            .as_deref()
            .and_then(|c| self.spec.cluster(c))
            .and_then(|c| c.monitoring.as_ref())?;
        let f = &monitoring::CHART_FOOTPRINT;
        Some(Footprint {
            chart: chart.to_string(),
            namespaces: f.namespaces(m).into_iter().collect(),
            cluster_kinds: f
                .cluster_kinds()
                .into_iter()
                .map(|(g, k)| (g.to_string(), k.to_string()))
                .collect(),
            crd_groups: f.crd_groups().into_iter().map(String::from).collect(),
            objects: f
                .objects
                .iter()
                .map(|o| {
                    (
                        o.group.to_string(),
                        o.kind.to_string(),
                        o.namespace.unwrap_or("").to_string(),
                        o.name.to_string(),
                    )
                })
                .collect(),
            custom_resources: Vec::new(),
        })
    }

    /// The AppProject of `app` in its bootstrap directory (`None`: Argo CD's
    /// built-in `default`, which permits everything).
    fn project(&self, app: &App) -> Result<Option<&'a Value>, ()> {
        if app.project() == "default" {
            return Ok(None);
        }
        let dir = app.dir();
        self.inv
            .argo
            .iter()
            .find(|(p, v)| {
                v["kind"] == "AppProject"
                    && v["metadata"]["name"] == app.project()
                    && p.rsplit_once('/').map_or("", |(d, _)| d) == dir
            })
            .map(|(_, v)| Some(v))
            .ok_or(())
    }

    fn permissions(&self, app: &App, d: &Deployed, out: &mut Vec<Diagnostic>) {
        let project = match self.project(app) {
            Ok(p) => p,
            Err(()) => {
                let elsewhere = self
                    .inv
                    .argo
                    .iter()
                    .find(|(_, v)| {
                        v["kind"] == "AppProject" && v["metadata"]["name"] == app.project()
                    })
                    .map(|(p, _)| p.clone());
                let msg = match &elsewhere {
                    Some(p) => format!(
                        "Application `{}` uses Argo CD project `{}`, which only generated/{p} creates, outside its own bootstrap (generated/{}/): bootstrapping this cluster alone, Argo CD refuses it (\"Application referencing project {} which does not exist\")",
                        app.name, app.project(), app.dir(), app.project()
                    ),
                    None => format!(
                        "Application `{}` uses Argo CD project `{}`, which kgen does not write: Argo CD refuses it (\"Application referencing project {} which does not exist\")",
                        app.name, app.project(), app.project()
                    ),
                };
                let path = app.path.clone();
                self.error(
                    out,
                    rules::PROJECT_SCOPE,
                    app,
                    "project",
                    (&path, "spec.project"),
                    msg,
                );
                return;
            }
        };
        let Some(project) = project else { return };
        let p = Project::new(project);
        let path = app.path.clone();
        for source in app.sources() {
            let repo = source.repo_url.as_str();
            if !p.source_permitted(repo) {
                self.error(
                    out,
                    rules::NOT_PERMITTED,
                    app,
                    "service",
                    (&path, "spec.source.repoURL"),
                    format!(
                        "Application `{}` reads {repo}, which project `{}` does not permit (`sourceRepos`)",
                        app.name, p.name
                    ),
                );
            }
        }
        let cluster = app.destination();
        let dest_ns = app.destination_namespace().to_string();
        if !self.destination_permitted(project, &cluster, &dest_ns) {
            self.error(
                    out,
                rules::NOT_PERMITTED,
                app,
                "namespace",
                (&path, "spec.destination"),
                format!(
                    "Application `{}` deploys to server `{}` and namespace `{dest_ns}`, which do not match any destination of project `{}`",
                    app.name, cluster.shown(), p.name
                ),
            );
        }
        // Every object, as the sync's permission validator checks it.
        let mut reported = BTreeSet::new();
        for &i in &d.entries {
            let e = &self.inv.entries[i];
            let namespaced = e.namespace().is_some();
            if !p.kind_permitted(e.group(), e.kind(), e.name(), namespaced)
                && reported.insert((e.group().to_string(), e.kind().to_string()))
            {
                let list = if namespaced {
                    "namespaceResourceWhitelist"
                } else {
                    "clusterResourceWhitelist"
                };
                self.error(
                    out,
                    rules::NOT_PERMITTED,
                    app,
                    "service",
                    (e.path(), "kind"),
                    format!(
                        "{} `{}` is a kind project `{}` does not permit (`{list}`): Argo CD fails the sync of `{}` (\"resource {}:{} is not permitted in project {}\")",
                        e.kind(), e.name(), p.name, app.name, e.group(), e.kind(), p.name
                    ),
                );
            }
            if let Some(ns) = e.namespace() {
                if !self.destination_permitted(project, &cluster, ns)
                    && reported.insert((String::new(), format!("ns:{ns}")))
                {
                    self.error(
                    out,
                        rules::NOT_PERMITTED,
                        app,
                        "namespace",
                        (e.path(), "metadata.namespace"),
                        format!(
                            "{} `{}` is in namespace `{ns}`, which project `{}` does not permit on `{}`: Argo CD fails the sync of `{}` (\"namespace {ns} is not permitted in project '{}'\")",
                            e.kind(), e.name(), p.name, cluster.shown(), app.name, p.name
                        ),
                    );
                }
            }
        }
        for f in &d.footprints {
            for ns in &f.namespaces {
                if !self.destination_permitted(project, &cluster, ns) {
                    self.error(
                    out,
                        rules::NOT_PERMITTED,
                        app,
                        "service",
                        (&path, "spec.sources"),
                        format!(
                            "the {} chart of `{}` creates objects in namespace `{ns}`, which project `{}` does not permit on `{}`",
                            f.chart, app.name, p.name, cluster.shown()
                        ),
                    );
                }
            }
            for (g, k) in &f.cluster_kinds {
                if !p.kind_permitted(g, k, "", false) {
                    self.error(
                    out,
                        rules::NOT_PERMITTED,
                        app,
                        "service",
                        (&path, "spec.sources"),
                        format!(
                            "the {} chart of `{}` creates {k} ({g}), a cluster-scoped kind project `{}` does not permit (`clusterResourceWhitelist`)",
                            f.chart, app.name, p.name
                        ),
                    );
                }
            }
        }
    }

    /// Reads the destinations of every AppProject in the inventory, once.
    fn read_destinations(&mut self) {
        for (_, v) in &self.inv.argo {
            if v["kind"] == "AppProject" {
                self.project_destinations.insert(
                    std::ptr::from_ref(v) as usize,
                    project::Destinations::new(Project::new(v).destinations()),
                );
            }
        }
    }

    /// [`Project::destination_permitted`], on the destinations read beforehand.
    fn destination_permitted(&self, project: &'a Value, cluster: &Cluster, ns: &str) -> bool {
        match self
            .project_destinations
            .get(&(std::ptr::from_ref(project) as usize))
        {
            Some(list) => list.permit(cluster, ns),
            None => Project::new(project).destination_permitted(cluster, ns),
        }
    }
}

/// Who installs the CRDs of a group kgen writes resources of.
pub fn crd_source(group: &str) -> &'static str {
    match group {
        "secrets-store.csi.x-k8s.io" => {
            "the Secrets Store CSI driver (the add-on presets `secrets-store-csi-driver` and `secrets-store-csi-driver-provider-aws` under [addons], or its Helm chart `secrets-store-csi-driver`)"
        }
        "external-secrets.io" => {
            "the External Secrets Operator (the `external-secrets` add-on preset)"
        }
        "monitoring.coreos.com" => {
            "the Prometheus Operator (kube-prometheus-stack, `[monitoring]`)"
        }
        "cert-manager.io" => "cert-manager (the `cert-manager` add-on preset)",
        "karpenter.sh" | "karpenter.k8s.aws" => "Karpenter (the `karpenter` add-on preset)",
        _ => "its operator",
    }
}

/// The bootstrap wave at which kgen installs the CRDs of `group` by default: its
/// add-on preset's wave, or the monitoring stack's.
pub fn installer_wave(group: &str) -> Option<i32> {
    let preset = match group {
        "monitoring.coreos.com" => return Some(crate::render::argocd::bootstrap_wave::MONITORING),
        "cert-manager.io" => "cert-manager",
        "external-secrets.io" => "external-secrets",
        "karpenter.sh" | "karpenter.k8s.aws" => "karpenter",
        "secrets-store.csi.x-k8s.io" => "secrets-store-csi-driver",
        _ => return None,
    };
    crate::addons::preset(preset).map(|p| p.wave)
}

/// Where an Application's name is written: in its own file, or in the template of
/// the ApplicationSet that makes it (a service's).
fn name_field(app: &App) -> &'static str {
    if app.service.is_some() {
        "spec.template.metadata.name"
    } else {
        "metadata.name"
    }
}

fn describe(app: &App) -> String {
    match (&app.env, &app.service) {
        (Some(e), Some(s)) => format!("service `{s}` of environment `{e}`"),
        _ => format!("`{}` (generated/{})", app.name, app.path),
    }
}
