//! A set of rendered manifests keyed by resource identity.
//!
//! `kgen diff` matches resources by what they are, not by where their file is: the
//! identity of a resource is (group, apiVersion, kind, namespace, name). The group
//! comes from the file's place under `generated/` (see [`group_of`]): an environment
//! for an environment's files (`dev/main-api/deployment.yaml` → environment `dev`), a
//! cluster for what is rendered once per cluster (`argocd/nonprod/…`,
//! `clusters/nonprod/…`, `values/nonprod/…`, `terraform/nonprod.json` → cluster
//! `nonprod`), and the platform for the few files that belong to neither (kgen's Argo
//! CD plugin configuration). An environment and a cluster may share a name (a
//! platform that declares no clusters has one cluster per environment, named after
//! it): they are still two groups. Each file is parsed as a YAML stream, so a file
//! holding several documents contributes several resources.
//!
//! A document that is not a Kubernetes object (no `kind` or no `metadata.name`, for
//! example Helm values under `values/`) is identified by its file instead.

use std::collections::BTreeMap;
use std::fmt;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// What a file under `generated/` belongs to, as `kgen diff` groups, counts and
/// scopes resources. Ordered environments first, then clusters, then the platform.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// `generated/<env>/…`: an environment's services.
    Environment(String),
    /// What is rendered once per cluster: `argocd/<cluster>/…` (its Argo CD objects),
    /// `clusters/<cluster>/…` (add-on namespaces, shared namespaces, the baseline),
    /// `values/<cluster>/…` (its Helm values) and `terraform/<cluster>.json`.
    Cluster(String),
    /// Platform-wide: kgen's Argo CD plugin configuration (`argocd/cmp/plugin.yaml`),
    /// and any other file directly under `argocd/`, `values/` or `terraform/`.
    Platform,
}

impl Group {
    /// The environment's name, for an environment's group.
    pub fn environment(&self) -> Option<&str> {
        match self {
            Group::Environment(e) => Some(e),
            _ => None,
        }
    }

    /// The cluster's name, for a cluster's group.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Group::Cluster(c) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for Group {
    /// `dev`, `cluster nonprod`, `platform-wide`: an environment goes by its name
    /// alone (the common case, in every line), a cluster says it is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Group::Environment(e) => f.write_str(e),
            Group::Cluster(c) => write!(f, "cluster {c}"),
            Group::Platform => f.write_str("platform-wide"),
        }
    }
}

impl Serialize for Group {
    /// `"environment"` and `"cluster"`, one of them the name and the other null (both
    /// null for a platform-wide file): flattened into an identity or a risk.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Group", 2)?;
        st.serialize_field("environment", &self.environment())?;
        st.serialize_field("cluster", &self.cluster())?;
        st.end()
    }
}

/// What a resource is, independently of the file it lives in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Identity {
    /// The environment, cluster or platform the file belongs to.
    #[serde(flatten)]
    pub group: Group,
    /// Empty for a document that is not a Kubernetes object.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Empty for a document that is not a Kubernetes object.
    pub kind: String,
    /// Empty for a cluster-scoped object.
    pub namespace: String,
    /// The object's name; for a document that is not an object, its file path under
    /// `generated/` (with `#N` for the N-th document of a stream, from 2 on).
    pub name: String,
}

impl Identity {
    /// True for a Kubernetes object, false for a plain YAML document (Helm values).
    pub fn is_object(&self) -> bool {
        !self.kind.is_empty()
    }

    /// The same identity in another namespace: what a namespace move pairs up.
    pub fn without_namespace(&self) -> (&Group, &str, &str, &str) {
        (&self.group, &self.api_version, &self.kind, &self.name)
    }

    /// `Deployment main-api/main-api`, `Namespace main-api`, `Helm values monitoring`
    /// (for `values/<cluster>/monitoring.yaml`), `file <path>` (without the group).
    pub fn short(&self) -> String {
        if !self.is_object() {
            match helm_values_of(&self.name) {
                Some(chart) => format!("Helm values {chart}"),
                None => format!("file {}", self.name),
            }
        } else if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl fmt::Display for Identity {
    /// `dev: Deployment main-api/main-api`, `cluster nonprod: Helm values monitoring`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.group, self.short())
    }
}

/// `monitoring` for `values/<cluster>/monitoring.yaml`, a cluster's Helm values for
/// its monitoring stack or an add-on (`<addon>.yaml`); None for any other path.
fn helm_values_of(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix(crate::render::VALUES_DIR)?
        .strip_prefix('/')?;
    let (_cluster, file) = rest.split_once('/')?;
    let stem = file.strip_suffix(".yaml")?;
    (!stem.contains('/')).then_some(stem)
}

/// One parsed resource and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub id: Identity,
    /// File path under `generated/`.
    pub path: String,
    pub value: Value,
}

/// Resources by identity.
#[derive(Debug, Clone, Default)]
pub struct ManifestSet {
    pub resources: BTreeMap<Identity, Resource>,
    /// Resources defined a second time in another file (the first one, by path, is kept).
    pub duplicates: Vec<Resource>,
}

/// Directories under `generated/` whose second component is a cluster's name:
/// `argocd/<cluster>/…`, `clusters/<cluster>/…`, `values/<cluster>/…`.
const PER_CLUSTER_DIRS: &[&str] = &[
    crate::render::argocd::DIR,
    crate::render::CLUSTERS_DIR,
    crate::render::VALUES_DIR,
];

/// Directories under `generated/` that are not environments (environments may not
/// take these names: `resolve::RESERVED_ENV_NAMES`).
const NOT_ENVIRONMENTS: &[&str] = &[
    crate::render::argocd::DIR,
    crate::render::CLUSTERS_DIR,
    crate::render::VALUES_DIR,
    crate::render::TERRAFORM_DIR,
];

/// The group of a file under `generated/`: its environment (`dev/main-api/deployment.yaml`
/// → environment `dev`); for what is rendered once per cluster, the cluster:
/// `argocd/<cluster>/…`, `clusters/<cluster>/…`, `values/<cluster>/…` and
/// `terraform/<cluster>.json` belong to cluster `<cluster>`; kgen's plugin
/// configuration `argocd/cmp/plugin.yaml` (`cmp` is a name no cluster may have), and
/// anything else under those directories, to the platform.
pub fn group_of(path: &str) -> Group {
    let mut parts = path.split('/');
    let first = parts.next().unwrap_or("");
    let second = parts.next();
    let third = parts.next();
    if PER_CLUSTER_DIRS.contains(&first) {
        if let (Some(cluster), Some(_)) = (second, third) {
            if !(first == crate::render::argocd::DIR
                && crate::resolve::RESERVED_CLUSTER_NAMES.contains(&cluster))
            {
                return Group::Cluster(cluster.to_string());
            }
        }
    }
    if first == crate::render::TERRAFORM_DIR && third.is_none() {
        if let Some(cluster) = second.and_then(|f| f.strip_suffix(".json")) {
            return Group::Cluster(cluster.to_string());
        }
    }
    if NOT_ENVIRONMENTS.contains(&first) {
        return Group::Platform;
    }
    Group::Environment(first.to_string())
}

/// True for the files `kgen diff` reads: `.yaml` and `.yml`.
pub fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

impl ManifestSet {
    /// Parses files (path under `generated/`, text) into a set. Files are parsed in
    /// parallel; the result does not depend on the order of `files`.
    pub fn parse(files: &[(String, String)]) -> Result<ManifestSet> {
        let parsed: Vec<Vec<Resource>> = files
            .par_iter()
            .map(|(path, text)| parse_file(path, text))
            .collect::<Result<_>>()?;
        let mut all: Vec<Resource> = parsed.into_iter().flatten().collect();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        let mut set = ManifestSet::default();
        for r in all {
            if set.resources.contains_key(&r.id) {
                set.duplicates.push(r);
            } else {
                set.resources.insert(r.id.clone(), r);
            }
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// Parses one file as a YAML stream; empty documents are skipped.
pub fn parse_file(path: &str, text: &str) -> Result<Vec<Resource>> {
    let group = group_of(path);
    let mut out = Vec::new();
    for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(doc).map_err(|e| {
            Error::Other(format!(
                "cannot parse generated/{path} as YAML: {e}; fix or remove the file"
            ))
        })?;
        if value.is_null() {
            continue;
        }
        let id = identity(&group, path, i, &value);
        out.push(Resource {
            id,
            path: path.to_string(),
            value,
        });
    }
    Ok(out)
}

fn identity(group: &Group, path: &str, index: usize, value: &Value) -> Identity {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let kind = s(&value["kind"]);
    let name = s(&value["metadata"]["name"]);
    if kind.is_empty() || name.is_empty() {
        let name = if index == 0 {
            path.to_string()
        } else {
            format!("{path}#{}", index + 1)
        };
        return Identity {
            group: group.clone(),
            api_version: String::new(),
            kind: String::new(),
            namespace: String::new(),
            name,
        };
    }
    Identity {
        group: group.clone(),
        api_version: s(&value["apiVersion"]),
        kind,
        namespace: s(&value["metadata"]["namespace"]),
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_from_paths() {
        let env = |e: &str| Group::Environment(e.into());
        let cluster = |c: &str| Group::Cluster(c.into());
        assert_eq!(group_of("dev/main-api/deployment.yaml"), env("dev"));
        // What is rendered once per cluster belongs to the cluster, even when an
        // environment has the cluster's name.
        assert_eq!(
            group_of("argocd/prod/applicationset-prod.yaml"),
            cluster("prod")
        );
        assert_ne!(group_of("prod/api/deployment.yaml"), cluster("prod"));
        assert_eq!(
            group_of("argocd/nonprod/applicationset-dev.yaml"),
            cluster("nonprod")
        );
        assert_eq!(
            group_of("clusters/nonprod/monitoring/namespace.yaml"),
            cluster("nonprod")
        );
        assert_eq!(
            group_of("clusters/nonprod/namespaces/shared.yaml"),
            cluster("nonprod")
        );
        assert_eq!(
            group_of("values/nonprod/monitoring.yaml"),
            cluster("nonprod")
        );
        assert_eq!(group_of("terraform/nonprod.json"), cluster("nonprod"));
        // kgen's plugin configuration, and anything else under those directories, is
        // platform-wide: not an environment named `argocd`, `values` or `terraform`.
        assert_eq!(group_of("argocd/cmp/plugin.yaml"), Group::Platform);
        assert_eq!(group_of("argocd/projects.yaml"), Group::Platform);
        assert_eq!(group_of("values/README.md"), Group::Platform);
        assert_eq!(group_of("terraform/nonprod/main.tf"), Group::Platform);
        assert_eq!(group_of("clusters/x.yaml"), Group::Platform);
        // As printed.
        assert_eq!(env("dev").to_string(), "dev");
        assert_eq!(cluster("prod").to_string(), "cluster prod");
        assert_eq!(Group::Platform.to_string(), "platform-wide");
        // As JSON (flattened into identities and risks).
        assert_eq!(
            serde_json::to_value(cluster("prod")).unwrap(),
            serde_json::json!({"environment": null, "cluster": "prod"})
        );
        assert_eq!(
            serde_json::to_value(env("dev")).unwrap(),
            serde_json::json!({"environment": "dev", "cluster": null})
        );
        // Environments first, then clusters, then the platform.
        let mut groups = vec![Group::Platform, cluster("a"), env("z"), env("b")];
        groups.sort();
        assert_eq!(groups, [env("b"), env("z"), cluster("a"), Group::Platform]);
    }

    #[test]
    fn streams_and_plain_documents() {
        let text = "# header\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: n\n---\n---\nkind: Namespace\nmetadata: {name: n}\n";
        let rs = parse_file("dev/x/all.yaml", text).unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].id.to_string(), "dev: ConfigMap n/a");
        assert_eq!(rs[1].id.to_string(), "dev: Namespace n");
        let rs = parse_file("values/prod/monitoring.yaml", "retention: 15d\n").unwrap();
        assert_eq!(rs[0].id.to_string(), "cluster prod: Helm values monitoring");
        assert_eq!(rs[0].id.name, "values/prod/monitoring.yaml");
    }

    #[test]
    fn duplicates_keep_the_first_path() {
        let doc = "kind: Namespace\nmetadata:\n  name: n\n";
        let set = ManifestSet::parse(&[
            ("dev/b.yaml".into(), doc.into()),
            ("dev/a.yaml".into(), doc.into()),
        ])
        .unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.resources.values().next().unwrap().path, "dev/a.yaml");
        assert_eq!(set.duplicates[0].path, "dev/b.yaml");
    }
}
