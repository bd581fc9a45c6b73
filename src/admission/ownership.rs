//! KG303: no object is managed by two Argo CD Applications on one cluster, a Helm
//! chart's own objects included (two releases of one chart on a cluster clash on
//! their cluster-scoped objects).

use std::collections::BTreeMap;

use super::project::Cluster;
use super::{App, Checker, Deployed};
use crate::diagnostic::Diagnostic;
use crate::rules;

impl Checker<'_> {
    /// No object is managed by two Applications on the same cluster.
    pub(super) fn ownership(&self, apps: &[App], deployed: &[Deployed], out: &mut Vec<Diagnostic>) {
        type Key = (Cluster, String, String, String, String);
        let mut clashes: BTreeMap<(usize, usize), Vec<(usize, usize)>> = BTreeMap::new();
        // A chart's own objects (known by name for the charts kgen configures): two
        // releases of one chart on a cluster clash on their cluster-scoped objects.
        let mut chart_owner: BTreeMap<Key, usize> = BTreeMap::new();
        for (a, (app, d)) in apps.iter().zip(deployed).enumerate() {
            let cluster = app.destination();
            for f in &d.footprints {
                for (g, k, ns, n) in &f.objects {
                    let key = (cluster.clone(), g.clone(), k.clone(), ns.clone(), n.clone());
                    match chart_owner.get(&key) {
                        Some(&first) if first != a => {
                            let first_app = &apps[first];
                            let what = if ns.is_empty() {
                                format!("{k} `{n}`")
                            } else {
                                format!("{k} `{n}` in namespace `{ns}`")
                            };
                            let path = app.path.clone();
                            self.error(
                                out,
                                rules::SHARED_OBJECT,
                                app,
                                "service",
                                (&path, "spec.sources"),
                                format!(
                                    "the {} chart of `{}` and that of `{}` would both create {what} on cluster `{}`: one cluster runs one release of it",
                                    f.chart, first_app.name, app.name, cluster.shown()
                                ),
                            )
                            .help = Some("declare the cluster once under [clusters] so that its monitoring stack is rendered once (see docs/platform.md#clusters)".into());
                            break;
                        }
                        Some(_) => {}
                        None => {
                            chart_owner.insert(key, a);
                        }
                    }
                }
            }
        }
        // Every object's owner: looked up, never walked, so hashed (a sorted map
        // compared the cluster's URL first in every step of every search, a sixth of
        // an admission check); the keys borrow the names rather than copy 22,000
        // objects' names, and are hashed with Fx.
        let clusters: Vec<Cluster> = apps.iter().map(|app| app.destination()).collect();
        let inv = self.inv;
        type Borrowed<'k> = (&'k Cluster, &'k str, &'k str, &'k str, &'k str);
        // Sized for every object at once: grown by doubling, the old table and the new
        // one were alive together at the end of admission, the run's peak of memory.
        let mut owner: crate::validate::FastMap<Borrowed<'_>, (usize, usize)> =
            crate::validate::FastMap::with_capacity_and_hasher(
                deployed.iter().map(|d| d.entries.len()).sum(),
                Default::default(),
            );
        for (a, d) in deployed.iter().enumerate() {
            let cluster = &clusters[a];
            for &i in &d.entries {
                let e = &inv.entries[i];
                let ns = e.namespace().unwrap_or("");
                let key = (cluster, e.group(), e.kind(), ns, e.name());
                match owner.get(&key) {
                    Some(&(first, fi)) if first != a => {
                        clashes.entry((first, a)).or_default().push((fi, i));
                    }
                    Some(_) => {}
                    None => {
                        owner.insert(key, (a, i));
                    }
                }
            }
        }
        for ((first, second), pairs) in clashes {
            let (a, b) = (&apps[first], &apps[second]);
            // Name the Namespace when it is among them: the root of the clash.
            let shown = pairs
                .iter()
                .find(|(_, i)| self.inv.entries[*i].kind() == "Namespace")
                .unwrap_or(&pairs[0]);
            let e = &self.inv.entries[shown.1];
            let what = match e.namespace() {
                Some(ns) => format!("{} `{}` in namespace `{ns}`", e.kind(), e.name()),
                None => format!("{} `{}`", e.kind(), e.name()),
            };
            let more = if pairs.len() > 1 {
                format!(" and {} more object(s)", pairs.len() - 1)
            } else {
                String::new()
            };
            let cluster = b.destination();
            let path = e.path().to_string();
            let d = self.error(
                out,
                rules::SHARED_OBJECT,
                b,
                "namespace",
                (&path, "metadata.name"),
                format!(
                    "{what}{more} would be managed by two Argo CD Applications on cluster `{}`: `{}` and `{}`; each sync would overwrite the other's (SharedResourceWarning)",
                    cluster.shown(),
                    a.name,
                    b.name
                ),
            );
            d.help = Some(match (&a.env, &b.env, &a.cluster, &b.cluster) {
                (Some(x), Some(y), _, _) if x != y => format!(
                    "environments `{x}` and `{y}` share the cluster: give each its own namespaces, e.g. `namespace = \"{{{{ env.name }}}}-{{{{ service }}}}\"` under [environments.{y}] (see docs/platform.md#clusters)"
                ),
                (None, None, Some(x), Some(y)) if x != y => format!(
                    "`{x}` and `{y}` are one cluster (the same server): declare it once under [clusters.<name>] and set `cluster = \"<name>\"` in both environments, so what runs once per cluster is rendered once (see docs/platform.md#clusters)"
                ),
                _ => "give each service its own namespace, or rename one of the objects".into(),
            });
        }
    }
}
