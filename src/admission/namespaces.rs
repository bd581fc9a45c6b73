//! KG304 and KG306: every namespaced object's namespace, and every custom resource's
//! CRD, exists before the Application that needs it syncs (created by the same
//! Application, by one synced before it in the bootstrap, or present on every cluster).

use std::collections::{BTreeMap, BTreeSet};

use super::project::{self, Cluster};
use super::{crd_source, App, Checker, Deployed, SYSTEM_NAMESPACES};
use crate::diagnostic::Diagnostic;
use crate::rules;
use crate::source::{FileId, Origin};
use crate::workspace::GENERATED_DIR;

/// The objects (Application, inventory entry) of a custom resource kind whose CRD is
/// not installed before them, the bootstrap directories of those Applications, and
/// where an Application of the cluster installs the CRD too late: (installer, its
/// wave, the Application using it, its wave).
type MissingCrd = (
    Vec<(usize, usize)>,
    BTreeSet<String>,
    BTreeSet<(String, i32, String, i32)>,
);

impl Checker<'_> {
    /// Namespaces exist before the objects in them; CRDs before their resources (a
    /// warning, about the objects `focus` keeps: each missing CRD is reported at the
    /// first of them, with the bootstraps of those).
    pub(super) fn namespaces_and_crds(
        &self,
        apps: &[App],
        deployed: &[Deployed],
        focus: &(dyn Fn(&str) -> bool + Sync),
        out: &mut Vec<Diagnostic>,
    ) {
        // (group, kind) → its objects (Application, entry), and every bootstrap missing it.
        let mut missing_crds: BTreeMap<(String, String), MissingCrd> = BTreeMap::new();
        // (bootstrap directory, first index of the same-or-later waves, cluster,
        // group) → the Application installing the group there, if any: looked for once,
        // not for each of the thousands of objects that may miss it.
        let mut late_installers: BTreeMap<(&str, usize, &Cluster, String), Option<usize>> =
            BTreeMap::new();
        let mut ns_reported = BTreeSet::new();
        // (add-on, where its values are, group) → the custom resources of that group
        // its chart creates whose CRDs nothing installs before it.
        let mut addon_missing: BTreeMap<(String, FileId, usize, &str), AddonMiss> = BTreeMap::new();
        // Each Application's bootstrap directory and cluster, and the Applications of
        // each directory by sync wave: the earlier waves are looked for among those
        // alone, and only in the part of the list before the Application's own wave (an
        // environment's ApplicationSet makes thousands of Applications in one wave:
        // looking through all of them for each was quadratic). What is collected goes
        // into sets, so the order it is collected in changes nothing.
        let clusters: Vec<Cluster> = apps.iter().map(|a| a.destination()).collect();
        let mut same_dir: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, app) in apps.iter().enumerate() {
            same_dir.entry(app.dir()).or_default().push(i);
        }
        for list in same_dir.values_mut() {
            list.sort_by_key(|&o| apps[o].wave);
        }
        for (a, (app, d)) in apps.iter().zip(deployed).enumerate() {
            let cluster = &clusters[a];
            // Namespaces this Application creates, or finds created before it.
            let mut available: BTreeSet<String> =
                SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect();
            if cluster.server == project::IN_CLUSTER_SERVER {
                available.insert(self.spec.argocd_namespace.clone());
            }
            if app.creates_namespace() {
                available.insert(app.destination_namespace().to_string());
            }
            let mut crds: BTreeSet<(String, String)> = BTreeSet::new();
            // The groups the cluster has without kgen (`[baseline] provided`).
            let mut crd_groups: BTreeSet<String> = app
                .dir()
                .strip_prefix("argocd/")
                .or(app.cluster.as_deref())
                .and_then(|c| self.spec.clusters.iter().find(|s| s.name == c))
                .map(|c| c.baseline.provided.crd_groups.clone())
                .unwrap_or_default();
            let mut collect = |d: &Deployed, available: &mut BTreeSet<String>| {
                for &i in &d.entries {
                    let e = &self.inv.entries[i];
                    if e.group().is_empty() && e.kind() == "Namespace" {
                        available.insert(e.name().to_string());
                    }
                    if let Some(def) = e.defines.as_deref() {
                        crds.insert(def.clone());
                    }
                }
                for f in &d.footprints {
                    crd_groups.extend(f.crd_groups.iter().cloned());
                }
            };
            collect(d, &mut available);
            let list = &same_dir[app.dir()];
            let earlier = list.partition_point(|&o| apps[o].wave < app.wave);
            for &o in &list[..earlier] {
                if clusters[o] == *cluster {
                    collect(&deployed[o], &mut available);
                }
            }
            // Custom resources an add-on's chart creates with its values.
            for (r, at) in d.footprints.iter().flat_map(|f| &f.custom_resources) {
                let installed = crds.contains(&(r.group.to_string(), r.kind.to_string()))
                    || crd_groups.contains(r.group);
                if installed || !focus(&app.path) {
                    continue;
                }
                let key = (
                    app.addon.clone().unwrap_or_default(),
                    at.file,
                    at.span.start,
                    r.group,
                );
                let miss = addon_missing.entry(key).or_insert_with(|| AddonMiss {
                    origin: at.clone(),
                    app_path: app.path.clone(),
                    kinds: BTreeSet::new(),
                    because: BTreeSet::new(),
                    dirs: BTreeSet::new(),
                    fixes: BTreeMap::new(),
                });
                miss.kinds.insert(r.kind);
                miss.because.insert(r.because.join("."));
                miss.dirs.insert(app.dir().to_string());
                // Who installs them on this cluster, in the same wave or later.
                let installer = list[earlier..].iter().find(|&&o| {
                    o != a
                        && clusters[o] == *cluster
                        && (deployed[o].entries.iter().any(|&i| {
                            self.inv.entries[i]
                                .defines
                                .as_ref()
                                .is_some_and(|def| def.0 == r.group)
                        }) || deployed[o]
                            .footprints
                            .iter()
                            .any(|f| f.crd_groups.iter().any(|g| g == r.group)))
                });
                // What to do, the same for every cluster in the same case: the
                // installer's wave (or none) and the add-on's → the Applications or
                // clusters.
                let (fix, who) = match installer {
                    Some(&o) => (Some(apps[o].wave), apps[o].name.clone()),
                    None => (None, app.cluster.clone().unwrap_or_default()),
                };
                miss.fixes.entry((fix, app.wave)).or_default().insert(who);
            }
            for &i in &d.entries {
                let e = &self.inv.entries[i];
                if let Some(ns) = e.namespace() {
                    if !available.contains(ns)
                        && ns_reported.insert((app.name.clone(), ns.to_string()))
                    {
                        let epath = e.path().to_string();
                        let d = self.error(
                            out,
                            rules::NAMESPACE_MISSING,
                            app,
                            "namespace",
                            (&epath, "metadata.namespace"),
                            format!(
                                "{} `{}` is in namespace `{ns}`, which neither `{}` nor an Application synced before it creates: the apply fails (namespaces \"{ns}\" not found)",
                                e.kind(), e.name(), app.name
                            ),
                        );
                        // An Application of the cluster that creates it, not before
                        // this one: the object belongs there (a second Namespace
                        // object would be managed by two Applications, KG303).
                        let creator = list.iter().find(|&&o| {
                            o != a
                                && clusters[o] == *cluster
                                && deployed[o].entries.iter().any(|&i| {
                                    let n = &self.inv.entries[i];
                                    n.group().is_empty()
                                        && n.kind() == "Namespace"
                                        && n.name() == ns
                                })
                        });
                        // A cluster component (`clusters/<cluster>/<component>/...`)
                        // can move to a later wave, after an add-on that creates the
                        // namespace (a service's namespace takes the object itself).
                        let component = epath
                            .strip_prefix(crate::render::CLUSTERS_DIR)
                            .and_then(|rest| rest.strip_prefix('/'))
                            .and_then(|rest| rest.split('/').nth(1));
                        let component = component
                            .filter(|_| creator.is_some_and(|&o| apps[o].service.is_none()));
                        d.help = Some(match (creator, component) {
                            // A Secret the add-on's own pods may need (Grafana's admin
                            // Secret): a later wave would never come, as the add-on waits.
                            (Some(&o), Some(component))
                                if matches!(e.kind(), "Secret" | "SealedSecret" | "ExternalSecret") =>
                            {
                                format!("`{}` creates namespace `{ns}` in sync wave {}, not before `{}` (wave {}). If `{}`'s own pods need this Secret (one its values name, like Grafana's admin Secret), no later wave helps, since they wait for it: create the namespace and the Secret with the cluster, before Argo CD's first sync; otherwise sync component `{component}` after it with `[manifests] sync_waves = {{ {component} = {} }}` (docs/escape-hatch.md#cluster-components-and-their-wave)", apps[o].name, apps[o].wave, app.name, app.wave, apps[o].name, apps[o].wave + 1)
                            }
                            (Some(&o), Some(component)) => format!("`{}` creates namespace `{ns}` in sync wave {}, not before `{}` (wave {}): sync component `{component}` after it with `[manifests] sync_waves = {{ {component} = {} }}` (docs/escape-hatch.md#cluster-components-and-their-wave)", apps[o].name, apps[o].wave, app.name, app.wave, apps[o].wave + 1),
                            (Some(&o), None) => format!("`{}` creates namespace `{ns}`, but is not synced before `{}`: put the object in it (an object of a service's namespace goes under `manifests/<env>/<service>/`, without `namespace:`; see docs/argocd.md#namespaces)", apps[o].name, app.name),
                            (None, _) => format!("put the object in the Application that creates its namespace (an object of a service's namespace goes under `manifests/<env>/<service>/`, without `namespace:`), or create the namespace in this one: a hand-written `kind: Namespace` named `{ns}` next to it (see docs/argocd.md#namespaces)"),
                        });
                    }
                }
                if e.group().is_empty()
                    || e.group() == "argoproj.io"
                    || crate::validate::schema::is_builtin_group(e.group())
                {
                    continue;
                }
                let installed = crds.contains(&(e.group().to_string(), e.kind().to_string()))
                    || crd_groups.contains(e.group());
                if !installed && focus(e.path()) {
                    let found = missing_crds
                        .entry((e.group().to_string(), e.kind().to_string()))
                        .or_insert_with(|| (Vec::new(), BTreeSet::new(), BTreeSet::new()));
                    found.0.push((a, i));
                    found.1.insert(app.dir().to_string());
                    // An Application of the cluster installing it in the same wave
                    // or later (an operator next to a component moved to its wave).
                    let installer = *late_installers
                        .entry((app.dir(), earlier, cluster, e.group().to_string()))
                        .or_insert_with(|| {
                            list[earlier..].iter().copied().find(|&o| {
                                clusters[o] == *cluster
                                    && (deployed[o].entries.iter().any(|&j| {
                                        self.inv.entries[j]
                                            .defines
                                            .as_ref()
                                            .is_some_and(|def| def.0 == e.group())
                                    }) || deployed[o]
                                        .footprints
                                        .iter()
                                        .any(|f| f.crd_groups.iter().any(|g| g == e.group())))
                            })
                        });
                    if let Some(o) = installer.filter(|&o| o != a) {
                        found.2.insert((
                            apps[o].name.clone(),
                            apps[o].wave,
                            app.name.clone(),
                            app.wave,
                        ));
                    }
                }
            }
        }
        self.addon_crds_missing(addon_missing, out);
        for ((group, kind), (found, dirs, late)) in missing_crds {
            let dirs: Vec<String> = dirs.iter().map(|d| format!("generated/{d}/")).collect();
            let origin_of = |&(a, i): &(usize, usize)| {
                let e = &self.inv.entries[i];
                self.inv
                    .hand_written(e.path(), "kind")
                    .or_else(|| self.origin(&apps[a], crate::validate::SERVICE_ORIGIN))
            };
            // One warning for the kind, at its first object; where that object's
            // source (a file under `manifests/_all/`) is rendered in several
            // environments, one for each, which `validate::finish` makes one naming
            // them all (`generated/{dev,prod}/...`).
            let first = origin_of(&found[0]);
            // The same source in other environments is at the same path below the
            // environment's directory: only those are looked up.
            let below_env = |&(_, i): &(usize, usize)| {
                let path = self.inv.entries[i].path();
                path.split_once('/').map_or(path, |(_, rest)| rest)
            };
            let first_below = below_env(&found[0]);
            let same_source =
                |f: &&(usize, usize)| below_env(f) == first_below && origin_of(f) == first;
            for &(_, i) in found.iter().filter(same_source) {
                let e = &self.inv.entries[i];
                let d = Diagnostic::warning(
                    rules::CRD_ORDER,
                    format!(
                        "{kind} ({group}) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap {}): the apply fails until the CRD exists",
                        dirs.join(", ")
                    ),
                )
                .at_opt(first.clone())
                .target(format!("{GENERATED_DIR}/{}", e.path()), "kind")
                .help(match late.iter().next() {
                    // Installed, but not before: the order is what to change.
                    Some((installer, w, user, v)) => format!(
                        "`{installer}` installs it in sync wave {w}, not before `{user}` (wave {v}): sync `{user}` later (a cluster's component: `[manifests] sync_waves`, from {}; an add-on: `sync_wave`) (docs/argocd.md#crds)",
                        w + 1
                    ),
                    None => format!(
                        "install {} on the cluster before syncing; if the cluster has it without this platform, say so: `[baseline] provided = {{ crd_groups = [\"{group}\"] }}` (docs/argocd.md#crds)",
                        crd_source(&group)
                    ),
                });
                out.push(d);
            }
        }
    }

    /// KG306 for the custom resources an add-on's chart creates with its values
    /// (`addons::Preset::custom_resources`): one warning per add-on, place its values
    /// are written and API group, at those values.
    fn addon_crds_missing(
        &self,
        missing: BTreeMap<(String, FileId, usize, &str), AddonMiss>,
        out: &mut Vec<Diagnostic>,
    ) {
        for ((addon, _, _, group), m) in missing {
            let dirs: Vec<String> = m.dirs.iter().map(|d| format!("generated/{d}/")).collect();
            let kinds: Vec<&str> = m.kinds.into_iter().collect();
            let because: Vec<String> = m.because.iter().map(|b| format!("`{b}`")).collect();
            let fixes: Vec<String> = m
                .fixes
                .into_iter()
                .map(|((installer, wave), who)| {
                    let who: Vec<String> = who.iter().map(|w| format!("`{w}`")).collect();
                    match installer {
                        Some(w) => format!(
                            "{} {} them in sync wave {w}, not before this add-on's {wave}: set `sync_wave = {}` on the add-on so that it syncs after",
                            who.join(" and "),
                            if who.len() == 1 { "installs" } else { "install" },
                            w + 1
                        ),
                        // The installer's own wave when kgen knows it: not before
                        // this add-on's, the add-on must move too.
                        None => match crate::admission::installer_wave(group).filter(|w| *w >= wave) {
                            Some(w) => format!(
                                "install {} on cluster{} {} (it syncs at wave {w}) and set `sync_wave = {}` on this add-on so that it syncs after",
                                crd_source(group),
                                if who.len() == 1 { "" } else { "s" },
                                who.join(", "),
                                w + 1
                            ),
                            None => format!(
                                "install {} on cluster{} {}, in an earlier sync wave than this add-on's {wave}",
                                crd_source(group),
                                if who.len() == 1 { "" } else { "s" },
                                who.join(", ")
                            ),
                        },
                    }
                })
                .collect();
            out.push(
                Diagnostic::warning(
                    rules::CRD_ORDER,
                    format!(
                        "add-on `{addon}` creates {} ({group}) with its values ({}), custom resources whose CRDs no Application installs before it (bootstrap {}): its sync fails until they exist",
                        kinds.join(", "),
                        because.join(", "),
                        dirs.join(", ")
                    ),
                )
                .at(m.origin)
                .target(format!("{GENERATED_DIR}/{}", m.app_path), "spec")
                .help(format!(
                    "{}; or leave out the values that create them",
                    fixes.join("; ")
                )),
            );
        }
    }
}

/// The custom resources of one API group an add-on's chart creates without their CRDs.
struct AddonMiss {
    origin: Origin,
    /// The add-on's Application (its file under `generated/`).
    app_path: String,
    kinds: BTreeSet<&'static str>,
    /// The values paths that create them.
    because: BTreeSet<String>,
    /// Bootstrap directories.
    dirs: BTreeSet<String>,
    /// What to do: (the wave of the Application that installs the CRDs, if any, the
    /// add-on's wave) → those Applications, or the clusters without one.
    fixes: BTreeMap<(Option<i32>, i32), BTreeSet<String>>,
}
