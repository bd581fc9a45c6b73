//! Which schema a hand-written or patched object is validated against, and whether a
//! kind is cluster-scoped.
//!
//! The order, first match wins: the core Kubernetes kinds kgen knows (k8s-openapi's
//! schemas); then `[manifests] schema_dirs`, in order (upstream CRD schemas,
//! kubeconform layout, hardened by `schema_dir` so unknown fields are errors); then
//! kgen's own schemas of the custom resources it emits (which know only the fields
//! kgen sets); then `[manifests] unchecked_kinds` (no schema check, on purpose, with a
//! reason); else KG102. kgen's own, unpatched objects keep kgen's built-in schemas.

use std::sync::Mutex;

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::rules;
use crate::schema_dir::{SchemaDir, SchemaError};
use crate::source::Origin;
use crate::validate::{schema, FieldPath, Finding};
use crate::workspace::Workspace;

/// A kind allowed without a schema.
#[derive(Debug, Clone)]
pub struct Unchecked {
    pub api_version: String,
    pub kind: String,
    pub reason: String,
}

/// The schemas of one run.
#[derive(Debug, Default)]
pub struct Schemas {
    /// Each directory as written (for messages) and opened.
    dirs: Vec<(String, Mutex<SchemaDir>)>,
    unchecked: Vec<Unchecked>,
}

impl Schemas {
    /// Reads `[manifests]`; problems with it (KG047) go to `diags`.
    pub fn new(ws: &Workspace, diags: &mut Vec<Diagnostic>) -> Schemas {
        let mut out = Schemas::default();
        let Some(section) = ws.platform.manifests.as_ref() else {
            return out;
        };
        let pf = ws.platform_file;
        for d in section.value.schema_dirs.iter().flat_map(|l| &l.value) {
            let origin = Origin::new(pf, d.span.clone());
            let Some(rel) = super::files::inside(&d.value) else {
                diags.push(
                    Diagnostic::error(
                        rules::ESCAPE_HATCH_SETTING,
                        format!("schema directory `{}` is not a path inside the platform directory", d.value),
                    )
                    .at(origin)
                    .help("write it relative to platform.toml, without `..`, e.g. `schemas/crds`; copy the CRD schemas into the repository"),
                );
                continue;
            };
            let path = ws.root.join(&rel);
            let inside = match (path.canonicalize(), ws.root.canonicalize()) {
                (Ok(real), Ok(root)) => real.starts_with(root),
                _ => false,
            };
            match SchemaDir::open(&path) {
                Ok(dir) if inside => out.dirs.push((rel, Mutex::new(dir))),
                Ok(_) => diags.push(
                    Diagnostic::error(
                        rules::ESCAPE_HATCH_SETTING,
                        format!(
                            "schema directory `{}` leads outside the platform directory",
                            d.value
                        ),
                    )
                    .at(origin)
                    .help("copy the CRD schemas into the repository: kgen reads only files inside the platform directory"),
                ),
                Err(e) => diags.push(
                    Diagnostic::error(
                        rules::ESCAPE_HATCH_SETTING,
                        format!("schema directory `{}` cannot be read: {e}", d.value),
                    )
                    .at(origin)
                    .help("create it with the CRD schemas, laid out `{group}/{kind-lowercase}_{version}.json` (kubeconform's layout), or remove it from `schema_dirs`"),
                ),
            }
        }
        for u in section.value.unchecked_kinds.iter().flat_map(|l| &l.value) {
            let reason = u.reason.as_ref().filter(|r| !r.value.trim().is_empty());
            let Some(reason) = reason else {
                // At the blank reason, or at the kind of an entry without one.
                let at = u.reason.as_ref().map_or(&u.kind.span, |r| &r.span);
                diags.push(
                    Diagnostic::error(
                        rules::ESCAPE_HATCH_SETTING,
                        format!(
                            "`{} {}` is allowed without a schema, but with no reason",
                            u.api_version.value, u.kind.value
                        ),
                    )
                    .at(Origin::new(pf, at.clone()))
                    .help("write why its objects cannot be validated, e.g. reason = \"the vendor publishes no CRD schema\"; or add its schema to a `schema_dirs` directory"),
                );
                continue;
            };
            if schema::builtin(&u.api_version.value, &u.kind.value).is_some() {
                diags.push(
                    Diagnostic::error(
                        rules::ESCAPE_HATCH_SETTING,
                        format!(
                            "`{} {}` has a schema kgen knows: it cannot be unchecked",
                            u.api_version.value, u.kind.value
                        ),
                    )
                    .at(Origin::new(pf, u.kind.span.clone()))
                    .help("remove the entry"),
                );
                continue;
            }
            // The directories win (see the module doc): the entry is dead.
            let (api, kind) = (&u.api_version.value, &u.kind.value);
            if let Some((name, _)) = out.dirs.iter().find(|(_, d)| {
                d.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .has_schema(api, kind)
            }) {
                diags.push(
                    Diagnostic::warning(
                        rules::ESCAPE_HATCH_SETTING,
                        format!("`{api} {kind}` is allowed without a schema, but `{name}` of `schema_dirs` has its schema, which wins: the entry has no effect"),
                    )
                    .at(Origin::new(pf, u.kind.span.clone()))
                    .help("remove the entry: its objects are validated against the schema"),
                );
            }
            out.unchecked.push(Unchecked {
                api_version: u.api_version.value.clone(),
                kind: u.kind.value.clone(),
                reason: reason.value.clone(),
            });
        }
        out
    }

    /// The directories, as written.
    pub fn dir_names(&self) -> Vec<&str> {
        self.dirs.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The schema findings of a hand-written or patched object (see the module doc).
    pub fn findings(&self, object: &Value) -> Vec<Finding> {
        let stripped = schema::without_nulls(object);
        let object = stripped.as_ref().unwrap_or(object);
        let (api, kind) = match schema::type_meta(object) {
            Ok(t) => t,
            Err(found) => return found,
        };
        let builtin = schema::builtin(api, kind);
        if let Some(b) = builtin.filter(|b| b.source == schema::Source::Core) {
            return match schema::validator(b) {
                Ok(v) => schema::findings(object, api, kind, v.problems_static(object)),
                Err(e) => vec![Finding::error(rules::SCHEMA, &FieldPath::root(), e)],
            };
        }
        for (name, dir) in &self.dirs {
            let mut dir = dir.lock().unwrap_or_else(|e| e.into_inner());
            if !dir.has_schema(api, kind) {
                continue;
            }
            return match dir.problems(object) {
                Ok(problems) => {
                    let mut found = schema::findings(object, api, kind, problems);
                    for f in &mut found {
                        f.message = f.message.replace(
                            &format!("(schema of {api} {kind})"),
                            &format!("(schema of {api} {kind} in {name})"),
                        );
                    }
                    found
                }
                Err(e) => vec![schema_error(e)],
            };
        }
        if let Some(b) = builtin {
            return match schema::validator(b) {
                Ok(v) => schema::findings(object, api, kind, v.problems(object))
                    .into_iter()
                    .map(|f| {
                        f.help(format!(
                            "kgen's built-in schema of {kind} covers the fields kgen emits; for the full CRD, add its schema to a directory of `[manifests] schema_dirs`"
                        ))
                    })
                    .collect(),
                Err(e) => vec![Finding::error(rules::SCHEMA, &FieldPath::root(), e)],
            };
        }
        if self
            .unchecked
            .iter()
            .any(|u| u.api_version == api && u.kind == kind)
        {
            return Vec::new();
        }
        let file = schema::schema_file(api, kind);
        let searched = if self.dirs.is_empty() {
            "`[manifests] schema_dirs` lists no directory".to_string()
        } else {
            format!(
                "no directory of `[manifests] schema_dirs` ({}) has {file}",
                self.dir_names().join(", ")
            )
        };
        vec![schema::unknown_kind_finding(
            api,
            kind,
            format!("{searched}: add the CRD's openAPIV3Schema there as {file}, or allow the kind without a schema, with a reason, in `[manifests] unchecked_kinds` (docs/escape-hatch.md#schemas)"),
        )]
    }
}

/// KG101 at the object's `kind`: its schema file cannot be used (see `schema_dir`).
pub fn schema_error(e: SchemaError) -> Finding {
    let f = Finding::error(rules::SCHEMA, &FieldPath::from("kind"), e.message);
    match e.help {
        Some(help) => f.help(help),
        None => f,
    }
}

/// Kinds every cluster serves cluster-scoped, by (group, kind).
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("networking.k8s.io", "IngressClass"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("apiregistration.k8s.io", "APIService"),
    ("node.k8s.io", "RuntimeClass"),
    ("karpenter.sh", "NodePool"),
    ("karpenter.k8s.aws", "EC2NodeClass"),
];

/// Whether objects of `kind` in `group` are cluster-scoped: the kinds above, and by
/// convention every kind named `Cluster...` (ClusterIssuer, ClusterSecretStore,
/// ClusterTriggerAuthentication).
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&(group, kind))
        || (kind.starts_with("Cluster") && kind.len() > "Cluster".len())
}
