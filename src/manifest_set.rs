//! A set of rendered manifests keyed by resource identity.
//!
//! `kgen diff` matches resources by what they are, not by where their file is: the
//! identity of a resource is (environment, apiVersion, kind, namespace, name). The
//! environment comes from the file's place under `generated/` (see
//! [`environment_of`]): the first path component for an environment's files
//! (`dev/main-api/deployment.yaml` → `dev`), the cluster for what is rendered once per
//! cluster (`argocd/nonprod/…`, `clusters/nonprod/…`, `values/nonprod/…`,
//! `terraform/nonprod.json` → `nonprod`). A platform that declares no clusters has one
//! cluster per environment, named after it, so there the two are the same. Each file
//! is parsed as a YAML stream, so a file holding several documents contributes
//! several resources.
//!
//! A document that is not a Kubernetes object (no `kind` or no `metadata.name`, for
//! example Helm values under `values/`) is identified by its file instead.

use std::collections::BTreeMap;
use std::fmt;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// What a resource is, independently of the file it lives in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Identity {
    /// The environment, or for a file rendered once per cluster, the cluster.
    pub environment: String,
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
    pub fn without_namespace(&self) -> (&str, &str, &str, &str) {
        (&self.environment, &self.api_version, &self.kind, &self.name)
    }

    /// `Deployment main-api/main-api`, `Namespace main-api`, `file values/prod/monitoring.yaml`
    /// (without the environment).
    pub fn short(&self) -> String {
        if !self.is_object() {
            format!("file {}", self.name)
        } else if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl fmt::Display for Identity {
    /// `dev: Deployment main-api/main-api`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.environment, self.short())
    }
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

/// The environment a file under `generated/` belongs to: its first path component
/// (`dev/main-api/deployment.yaml` → `dev`); for what is rendered once per cluster,
/// the cluster: `argocd/<cluster>/…`, `clusters/<cluster>/…`, `values/<cluster>/…`
/// and `terraform/<cluster>.json` belong to `<cluster>` (kgen's plugin configuration
/// `argocd/cmp/plugin.yaml` to `cmp`, a name no cluster may have).
pub fn environment_of(path: &str) -> &str {
    let mut parts = path.split('/');
    let first = parts.next().unwrap_or("");
    let second = parts.next();
    let third = parts.next();
    if PER_CLUSTER_DIRS.contains(&first) {
        if let (Some(cluster), Some(_)) = (second, third) {
            return cluster;
        }
    }
    if first == crate::render::TERRAFORM_DIR && third.is_none() {
        if let Some(cluster) = second.and_then(|f| f.strip_suffix(".json")) {
            return cluster;
        }
    }
    first
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
    let env = environment_of(path);
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
        let id = identity(env, path, i, &value);
        out.push(Resource {
            id,
            path: path.to_string(),
            value,
        });
    }
    Ok(out)
}

fn identity(env: &str, path: &str, index: usize, value: &Value) -> Identity {
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
            environment: env.to_string(),
            api_version: String::new(),
            kind: String::new(),
            namespace: String::new(),
            name,
        };
    }
    Identity {
        environment: env.to_string(),
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
    fn environments_from_paths() {
        assert_eq!(environment_of("dev/main-api/deployment.yaml"), "dev");
        assert_eq!(
            environment_of("argocd/prod/applicationset-prod.yaml"),
            "prod"
        );
        assert_eq!(environment_of("argocd/projects.yaml"), "argocd");
        // What is rendered once per cluster belongs to the cluster.
        assert_eq!(
            environment_of("argocd/nonprod/applicationset-dev.yaml"),
            "nonprod"
        );
        assert_eq!(
            environment_of("clusters/nonprod/monitoring/namespace.yaml"),
            "nonprod"
        );
        assert_eq!(
            environment_of("clusters/nonprod/namespaces/shared.yaml"),
            "nonprod"
        );
        assert_eq!(environment_of("values/nonprod/monitoring.yaml"), "nonprod");
        assert_eq!(environment_of("terraform/nonprod.json"), "nonprod");
        assert_eq!(environment_of("argocd/cmp/plugin.yaml"), "cmp");
        // Anything else under those directories stays with its first component.
        assert_eq!(environment_of("values/README.md"), "values");
        assert_eq!(environment_of("terraform/nonprod/main.tf"), "terraform");
    }

    #[test]
    fn streams_and_plain_documents() {
        let text = "# header\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: n\n---\n---\nkind: Namespace\nmetadata: {name: n}\n";
        let rs = parse_file("dev/x/all.yaml", text).unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].id.to_string(), "dev: ConfigMap n/a");
        assert_eq!(rs[1].id.to_string(), "dev: Namespace n");
        let rs = parse_file("values/prod/monitoring.yaml", "retention: 15d\n").unwrap();
        assert_eq!(
            rs[0].id.to_string(),
            "prod: file values/prod/monitoring.yaml"
        );
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
