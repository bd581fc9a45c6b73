//! One Application as the admission checks see it: its name, file and labels, and
//! the few fields of its spec they read (sources, destination, project, whether it
//! creates its namespace), typed. An environment's ApplicationSet makes one
//! Application per service and all of them are kept for the whole check, so the spec
//! is read once into these fields rather than kept as a JSON tree.

use serde_json::Value;

use super::project::Cluster;

/// One Application, as Argo CD will see it.
pub(super) struct App {
    pub name: String,
    /// File that defines it (its ApplicationSet's, for a generated one).
    pub path: String,
    /// What the checks read of its spec.
    pub spec: AppSpec,
    /// Sync wave in its bootstrap directory.
    pub wave: i32,
    pub env: Option<String>,
    pub service: Option<String>,
    pub cluster: Option<String>,
    /// The add-on it installs (`kgen.dev/addon`).
    pub addon: Option<String>,
}

impl App {
    pub fn dir(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(d, _)| d)
    }

    pub fn sources(&self) -> &[Source] {
        &self.spec.sources
    }

    /// Where it deploys (`spec.destination`'s server and name).
    pub fn destination(&self) -> Cluster {
        Cluster::of(&self.spec.server, &self.spec.name)
    }

    pub fn destination_namespace(&self) -> &str {
        &self.spec.namespace
    }

    pub fn project(&self) -> &str {
        match self.spec.project.as_deref() {
            Some("") | None => "default",
            Some(p) => p,
        }
    }

    pub fn creates_namespace(&self) -> bool {
        self.spec.creates_namespace
    }
}

/// The parts of an Application's spec the checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AppSpec {
    /// `spec.sources` when it is a list of at least one, else `spec.source` (if any).
    pub sources: Vec<Source>,
    /// `spec.destination`'s `server`, `name` and `namespace` (`""` when not strings).
    pub server: String,
    pub name: String,
    pub namespace: String,
    /// `spec.project` when it is a string.
    pub project: Option<String>,
    /// `CreateNamespace=true` is among `spec.syncPolicy.syncOptions`.
    pub creates_namespace: bool,
}

/// One source of an Application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Source {
    /// `repoURL` (`""` when not a string).
    pub repo_url: String,
    pub kind: SourceKind,
}

/// What a source points at, read in this order: a `plugin` key, else a `chart`
/// string, else a `path` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SourceKind {
    /// kgen's plugin: the environment and service of its `KGEN_ENV` and
    /// `KGEN_SERVICE` variables, when it has both (the first of each name).
    Plugin(Option<(String, String)>),
    Chart(String),
    Path(String),
    Other,
}

impl AppSpec {
    /// Reads the fields the checks use from an Application's `spec`.
    pub fn of(spec: &Value) -> Self {
        let sources = match spec.get("sources").and_then(Value::as_array) {
            Some(list) if !list.is_empty() => list.iter().map(Source::of).collect(),
            _ => spec.get("source").into_iter().map(Source::of).collect(),
        };
        let destination = &spec["destination"];
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        AppSpec {
            sources,
            server: text(&destination["server"]),
            name: text(&destination["name"]),
            namespace: text(&destination["namespace"]),
            project: spec["project"].as_str().map(str::to_string),
            creates_namespace: spec["syncPolicy"]["syncOptions"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o == "CreateNamespace=true")),
        }
    }
}

impl Source {
    fn of(source: &Value) -> Self {
        let kind = if let Some(plugin) = source.get("plugin") {
            let var = |name: &str| {
                plugin["env"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find_map(|e| {
                        (e["name"] == name).then(|| e["value"].as_str().unwrap_or("").to_string())
                    })
            };
            SourceKind::Plugin(
                var(crate::cmp_params::ENV_VAR).zip(var(crate::cmp_params::SERVICE_VAR)),
            )
        } else if let Some(chart) = source.get("chart").and_then(Value::as_str) {
            SourceKind::Chart(chart.to_string())
        } else if let Some(path) = source.get("path").and_then(Value::as_str) {
            SourceKind::Path(path.to_string())
        } else {
            SourceKind::Other
        };
        Source {
            repo_url: source["repoURL"].as_str().unwrap_or("").to_string(),
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_the_checks_read() {
        let spec = AppSpec::of(&json!({
            "project": "dev",
            "sources": [
                {"repoURL": "https://x", "plugin": {"env": [
                    {"name": "KGEN_SERVICE", "value": "api"},
                    {"name": "KGEN_ENV", "value": "dev"},
                    {"name": "KGEN_ENV", "value": "other"}]}},
                {"repoURL": "https://charts", "chart": "c", "path": "p"},
                {"repoURL": 3, "path": "generated/dev"},
                {"plugin": {}},
                {}
            ],
            "source": {"repoURL": "ignored", "path": "ignored"},
            "destination": {"server": "https://k/", "namespace": "ns"},
            "syncPolicy": {"syncOptions": ["CreateNamespace=true"]}
        }));
        assert_eq!(spec.sources.len(), 5);
        assert_eq!(
            spec.sources[0].kind,
            SourceKind::Plugin(Some(("dev".into(), "api".into())))
        );
        assert_eq!(spec.sources[1].kind, SourceKind::Chart("c".into()));
        assert_eq!(spec.sources[2].repo_url, "");
        assert_eq!(
            spec.sources[2].kind,
            SourceKind::Path("generated/dev".into())
        );
        assert_eq!(spec.sources[3].kind, SourceKind::Plugin(None));
        assert_eq!(spec.sources[4].kind, SourceKind::Other);
        assert_eq!(
            (spec.server.as_str(), spec.name.as_str()),
            ("https://k/", "")
        );
        assert!(spec.creates_namespace);
        // An empty `sources` falls back to `source`; no project is `default`.
        let spec = AppSpec::of(&json!({"sources": [], "source": {"path": "a"}}));
        assert_eq!(spec.sources[0].kind, SourceKind::Path("a".into()));
        assert_eq!(spec.project, None);
        assert!(!spec.creates_namespace);
    }
}
