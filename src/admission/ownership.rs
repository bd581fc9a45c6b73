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
            // The error is the later Application's, unless the namespace is named
            // after the later one's environment and not the first's: then the first
            // took a name that is the other environment's (`namespace =
            // "staging-{{ service }}"` under [environments.prod]).
            let ns = {
                let e = &self.inv.entries[shown.1];
                e.namespace().unwrap_or(e.name())
            };
            // The environment it is named after: of the two, the one whose name it
            // holds, the longer when it holds both (`prod-eu-api` is `prod-eu`'s, not
            // `prod`'s).
            let named = |app: &App| {
                app.env
                    .as_deref()
                    .filter(|env| names_env(ns, env))
                    .map(str::len)
            };
            let owns = |app: &App, other: &App| named(app) > named(other);
            let first_is_wrong = owns(b, a);
            let (blamed, entry) = if first_is_wrong {
                (a, shown.0)
            } else {
                (b, shown.1)
            };
            let e = &self.inv.entries[entry];
            let what = match e.namespace() {
                Some(ns) => format!("{} `{}` in namespace `{ns}`", e.kind(), e.name()),
                None => format!("{} `{}`", e.kind(), e.name()),
            };
            let more = if pairs.len() > 1 {
                format!(" and {} more object(s)", pairs.len() - 1)
            } else {
                String::new()
            };
            let cluster = blamed.destination();
            let path = e.path().to_string();
            let d = self.error(
                out,
                rules::SHARED_OBJECT,
                blamed,
                "namespace",
                (&path, "metadata.name"),
                format!(
                    "{what}{more} would be managed by two Argo CD Applications on cluster `{}`: `{}` and `{}`; each sync would overwrite the other's (SharedResourceWarning)",
                    cluster.shown(),
                    a.name,
                    b.name
                ),
            );
            let other = if first_is_wrong { b } else { a };
            d.help = Some(match (&blamed.env, &other.env, &a.cluster, &b.cluster) {
                (Some(x), Some(y), _, _) if x != y && owns(other, blamed) => format!(
                    "environments `{x}` and `{y}` share the cluster, and `{ns}` is named after `{y}`: give `{x}` namespaces of its own, e.g. `namespace = \"{{{{ env.name }}}}-{{{{ service }}}}\"` under [environments.{x}] (see docs/platform.md#clusters)"
                ),
                (Some(x), Some(y), _, _) if x != y => format!(
                    "environments `{y}` and `{x}` share the cluster: give each its own namespaces, e.g. `namespace = \"{{{{ env.name }}}}-{{{{ service }}}}\"` under [environments.{x}] (see docs/platform.md#clusters)"
                ),
                // Every cluster's bootstrap writes its projects into Argo CD's own
                // namespace: the clusters need projects of different names.
                (None, None, Some(x), Some(y)) if x != y && e.kind() == "AppProject" => format!(
                    "the AppProjects of every cluster live in Argo CD's namespace, so clusters `{x}` and `{y}` cannot both have a project `{}`: give each its own, e.g. `project = \"{y}-{}\"` under [clusters.{y}] (see docs/argocd.md#appproject)",
                    e.name(),
                    e.name()
                ),
                (None, None, Some(x), Some(y)) if x != y => format!(
                    "`{x}` and `{y}` are one cluster (the same server): declare it once under [clusters.<name>] and set `cluster = \"<name>\"` in both environments, so what runs once per cluster is rendered once (see docs/platform.md#clusters)"
                ),
                _ => "give each service its own namespace, or rename one of the objects".into(),
            });
        }
    }
}

/// Whether namespace `ns` is named after environment `env`: `env` is one of its
/// `-`-separated parts (`staging-api`, `api-staging`, `shop-staging-eu` for
/// `staging`), or several of them (`prod-eu-api` for `prod-eu`).
fn names_env(ns: &str, env: &str) -> bool {
    ns == env
        || ns.starts_with(&format!("{env}-"))
        || ns.ends_with(&format!("-{env}"))
        || ns.contains(&format!("-{env}-"))
}

#[cfg(test)]
mod tests {
    use super::names_env;

    #[test]
    fn namespaces_named_after_an_environment() {
        assert!(names_env("staging-api", "staging"));
        assert!(names_env("api-staging", "staging"));
        assert!(names_env("shop-staging-eu", "staging"));
        assert!(names_env("prod-eu-api", "prod-eu"));
        assert!(names_env("prod", "prod"));
        assert!(!names_env("production-api", "prod"));
        assert!(!names_env("api", "prod"));
        // Both hold `prod`: the longer name is the one it is named after (see `ownership`).
        assert!(names_env("prod-eu-api", "prod"));
    }
}
