//! Schema validation: each object against the JSON Schema of its kind.
//!
//! Core kinds use the schemas k8s-openapi derives from the Kubernetes OpenAPI
//! document (its `schemars` feature); custom resources kgen emits use the schemas of
//! kgen's typed structs (`crd`), which the conformance test holds against the
//! upstream CRDs. Every schema goes through [`strict_schema`], so an unknown field is
//! an error as under `kubectl apply --validate=strict`. Each kind's validator is
//! compiled once per process, on first use ([`OnceLock`]), and shared by all threads.
//!
//! Two adjustments make the generated core schemas accept what the API server
//! accepts: a `Quantity` may be a number (`cpu: 0.5`), and a `Time` may be null
//! (`creationTimestamp: null`, as `kubectl create --dry-run -o yaml` writes).
//!
//! [`strict_schema`]: crate::schema_dir::strict_schema

use std::sync::OnceLock;

use k8s_openapi::api::{
    apps, autoscaling, batch, core, networking, policy, rbac, scheduling, storage,
};
use k8s_openapi::Resource;
use schemars::JsonSchema;
use serde_json::{json, Value};

use super::{FieldPath, Finding};
use crate::crd::{self, CustomResource};
use crate::rules;
use crate::schema_dir::{type_meta_problems, Problem, StrictValidator};

/// Where a built-in schema comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// k8s-openapi: the whole kind, as the API server knows it.
    Core,
    /// kgen's typed struct: only the fields kgen emits (upstream CRD schemas,
    /// given with `--schema-dir`, take precedence for hand-written files).
    Kgen,
}

/// A kind kgen has a schema for.
pub struct BuiltinKind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub source: Source,
    schema: fn() -> Value,
}

const fn core_kind<T: Resource + JsonSchema>() -> BuiltinKind {
    BuiltinKind {
        api_version: T::API_VERSION,
        kind: T::KIND,
        source: Source::Core,
        schema: generated::<T>,
    }
}

const fn kgen_kind<T: CustomResource + JsonSchema>() -> BuiltinKind {
    BuiltinKind {
        api_version: T::API_VERSION,
        kind: T::KIND,
        source: Source::Kgen,
        schema: generated::<T>,
    }
}

/// A kgen kind under another version of its API whose schema, for the fields kgen
/// emits, is the same (the External Secrets Operator's `v1beta1`, for older operators).
const fn kgen_kind_as<T: CustomResource + JsonSchema>(api_version: &'static str) -> BuiltinKind {
    BuiltinKind {
        api_version,
        kind: T::KIND,
        source: Source::Kgen,
        schema: generated::<T>,
    }
}

const N: usize = 39;

/// Every kind with a built-in schema.
pub static KINDS: [BuiltinKind; N] = [
    core_kind::<core::v1::ConfigMap>(),
    core_kind::<core::v1::Endpoints>(),
    core_kind::<core::v1::LimitRange>(),
    core_kind::<core::v1::Namespace>(),
    core_kind::<core::v1::PersistentVolumeClaim>(),
    core_kind::<core::v1::Pod>(),
    core_kind::<core::v1::ResourceQuota>(),
    core_kind::<core::v1::Secret>(),
    core_kind::<core::v1::Service>(),
    core_kind::<core::v1::ServiceAccount>(),
    core_kind::<apps::v1::DaemonSet>(),
    core_kind::<apps::v1::Deployment>(),
    core_kind::<apps::v1::StatefulSet>(),
    core_kind::<autoscaling::v2::HorizontalPodAutoscaler>(),
    core_kind::<batch::v1::CronJob>(),
    core_kind::<batch::v1::Job>(),
    core_kind::<networking::v1::Ingress>(),
    core_kind::<networking::v1::IngressClass>(),
    core_kind::<networking::v1::NetworkPolicy>(),
    core_kind::<policy::v1::PodDisruptionBudget>(),
    core_kind::<rbac::v1::ClusterRole>(),
    core_kind::<rbac::v1::ClusterRoleBinding>(),
    core_kind::<rbac::v1::Role>(),
    core_kind::<rbac::v1::RoleBinding>(),
    core_kind::<scheduling::v1::PriorityClass>(),
    core_kind::<storage::v1::StorageClass>(),
    kgen_kind::<crd::secret_provider_class::SecretProviderClass>(),
    kgen_kind::<crd::argocd::Application>(),
    kgen_kind::<crd::argocd::ApplicationSet>(),
    kgen_kind::<crd::argocd::AppProject>(),
    kgen_kind::<crd::monitoring::ServiceMonitor>(),
    kgen_kind::<crd::monitoring::PrometheusRule>(),
    kgen_kind::<crd::external_secrets::ExternalSecret>(),
    kgen_kind_as::<crd::external_secrets::ExternalSecret>(
        crd::external_secrets::API_VERSION_V1BETA1,
    ),
    kgen_kind::<crd::external_secrets::ClusterSecretStore>(),
    kgen_kind_as::<crd::external_secrets::ClusterSecretStore>(
        crd::external_secrets::API_VERSION_V1BETA1,
    ),
    kgen_kind::<crd::cert_manager::ClusterIssuer>(),
    kgen_kind::<crd::karpenter::NodePool>(),
    kgen_kind::<crd::karpenter::Ec2NodeClass>(),
];

/// The compiled validators, index for index with [`KINDS`].
static VALIDATORS: [OnceLock<Result<StrictValidator, String>>; N] = [const { OnceLock::new() }; N];

/// The built-in kind for `apiVersion` and `kind`, if any.
pub fn builtin(api_version: &str, kind: &str) -> Option<&'static BuiltinKind> {
    KINDS
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind)
}

/// Whether `group` is an API group the Kubernetes API server serves itself (kgen has
/// the schema of at least one of its kinds), as opposed to one a CRD adds.
pub fn is_builtin_group(group: &str) -> bool {
    KINDS.iter().any(|k| {
        matches!(k.source, Source::Core)
            && k.api_version
                .rsplit_once('/')
                .map_or(group.is_empty(), |(g, _)| g == group)
    })
}

/// The compiled validator of a built-in kind (compiled on first use).
pub fn validator(kind: &'static BuiltinKind) -> Result<&'static StrictValidator, String> {
    let i = KINDS
        .iter()
        .position(|k| std::ptr::eq(k, kind))
        .expect("a built-in kind");
    VALIDATORS[i]
        .get_or_init(|| StrictValidator::new(&(kind.schema)()))
        .as_ref()
        .map_err(|e| {
            format!(
                "cannot compile the schema of {} {}: {e}",
                kind.api_version, kind.kind
            )
        })
}

/// Schema findings for one object against kgen's built-in schemas: KG101 per
/// problem, or KG102 when kgen has no schema for the kind.
pub fn builtin_findings(object: &Value) -> Vec<Finding> {
    match type_meta(object) {
        Err(findings) => findings,
        Ok((api_version, kind)) => match builtin(api_version, kind) {
            Some(b) => match validator(b) {
                Ok(v) => findings(object, api_version, kind, v.problems(object)),
                Err(e) => vec![Finding::error(rules::SCHEMA, &FieldPath::root(), e)],
            },
            None => vec![unknown_kind(api_version, kind, false)],
        },
    }
}

/// `apiVersion` and `kind` of an object, or the KG101 findings saying why not.
pub fn type_meta(object: &Value) -> Result<(&str, &str), Vec<Finding>> {
    let Some(map) = object.as_object() else {
        return Err(vec![Finding::error(
            rules::SCHEMA,
            &FieldPath::root(),
            format!(
                "a Kubernetes object must be a mapping with apiVersion, kind and metadata, not {}",
                json_type(object)
            ),
        )]);
    };
    let problems = type_meta_problems(map);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| {
                Finding::error(rules::SCHEMA, &FieldPath::from(p.path.as_str()), format!("{p}"))
                    .help("every Kubernetes object names its `apiVersion` and `kind`, e.g. `apiVersion: apps/v1` and `kind: Deployment`")
            })
            .collect());
    }
    Ok((
        map["apiVersion"].as_str().unwrap_or_default(),
        map["kind"].as_str().unwrap_or_default(),
    ))
}

/// KG102: no schema known for a kind. `schema_dir` says whether a schema
/// directory was searched.
pub fn unknown_kind(api_version: &str, kind: &str, schema_dir: bool) -> Finding {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let file = format!("{group}/{}_{version}.json", kind.to_lowercase());
    let help = if schema_dir {
        format!("the schema directory has no {file}; add the CRD's openAPIV3Schema there")
    } else {
        format!("kgen knows the core Kubernetes kinds and the custom resources it emits; for other kinds pass `--schema-dir DIR` with the CRD schema at DIR/{file}")
    };
    Finding::error(
        rules::UNKNOWN_KIND,
        &FieldPath::from("kind"),
        format!("no schema for {api_version} {kind}: it cannot be validated"),
    )
    .help(help)
}

/// Turns schema problems into KG101 findings.
pub fn findings(
    object: &Value,
    api_version: &str,
    kind: &str,
    problems: Vec<Problem>,
) -> Vec<Finding> {
    problems
        .into_iter()
        .map(|p| {
            let mut f = Finding::error(
                rules::SCHEMA,
                &FieldPath::from(p.path.as_str()),
                format!("{p} (schema of {api_version} {kind})"),
            );
            f.keys = origin_keys(object, kind, &p.path);
            if p.message == "unknown field" {
                f = f.help("Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference");
            }
            f
        })
        .collect()
}

/// The service inputs that may have produced a field of a rendered object, best
/// first (see `ServiceSpec.origins`).
pub fn origin_keys(object: &Value, kind: &str, path: &str) -> Vec<String> {
    let keys: &[&str] = match () {
        _ if kind == "HorizontalPodAutoscaler" && path.starts_with("spec.minReplicas") => {
            &["autoscaling.min"]
        }
        _ if kind == "HorizontalPodAutoscaler" && path.starts_with("spec.maxReplicas") => {
            &["autoscaling.max"]
        }
        _ if kind == "HorizontalPodAutoscaler" => &["autoscaling.max", "autoscaling.min"],
        _ if path == "spec.replicas" => &["replicas"],
        _ if path == "metadata.namespace" => &["namespace"],
        _ if path.ends_with(".image") => &["image", "tag", "digest"],
        _ if path.contains("livenessProbe") => &["probes.liveness"],
        _ if path.contains("readinessProbe") => &["probes.readiness"],
        _ if path.contains(".ports") => &["port"],
        _ => &[],
    };
    let mut out: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    for section in ["requests", "limits"] {
        if let Some(rest) = path
            .split_once(&format!(".resources.{section}"))
            .map(|(_, r)| r)
        {
            let resource = rest
                .trim_start_matches('.')
                .split(['.', '['])
                .next()
                .unwrap_or("");
            if !resource.is_empty() {
                out.push(format!("resources.{section}.{resource}"));
            }
        }
    }
    if let Some((prefix, rest)) = path.split_once(".env[") {
        if let Some(i) = rest.split(']').next().and_then(|i| i.parse::<usize>().ok()) {
            let name =
                pointer(object, prefix).and_then(|c| c.get("env")?.get(i)?.get("name")?.as_str());
            if let Some(name) = name {
                out.push(format!("env.{name}"));
            }
        }
    }
    if kind == "ConfigMap" {
        if let Some(key) = path
            .strip_prefix("data[\"")
            .and_then(|k| k.strip_suffix("\"]"))
            .or_else(|| path.strip_prefix("data."))
        {
            out.push(format!("config.{key}"));
        }
    }
    out
}

/// The value at a rendered path made of plain keys and indices (`spec.containers[0]`).
fn pointer<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = object;
    for part in path.split('.') {
        let (key, indices) = part.split_once('[').map_or((part, ""), |(k, i)| (k, i));
        v = v.get(key)?;
        for i in indices.split('[').filter(|s| !s.is_empty()) {
            v = v.get(i.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(v)
}

/// The JSON Schema of a generated type, adjusted to accept what the API server accepts.
fn generated<T: JsonSchema>() -> Value {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    let mut value = serde_json::to_value(schema).expect("schemas serialise");
    if let Some(defs) = value.get_mut("$defs").and_then(Value::as_object_mut) {
        if let Some(q) = defs.get_mut("io.k8s.apimachinery.pkg.api.resource.Quantity") {
            *q = json!({"type": ["string", "number"]});
        }
        for time in [
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
            "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
        ] {
            if let Some(t) = defs.get_mut(time) {
                *t = json!({"type": ["string", "null"]});
            }
        }
    }
    value
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "an empty document",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "api"},
            "spec": {
                "selector": {"matchLabels": {"app": "api"}},
                "template": {
                    "metadata": {"labels": {"app": "api"}, "creationTimestamp": null},
                    "spec": {"containers": [{
                        "name": "api",
                        "image": "registry.example.com/api:1.0.0",
                        "resources": {"requests": {"cpu": 0.5, "memory": "128Mi"}}
                    }]}
                }
            }
        })
    }

    #[test]
    fn every_builtin_schema_compiles() {
        for k in &KINDS {
            assert!(
                validator(k).is_ok(),
                "{} {}: {:?}",
                k.api_version,
                k.kind,
                validator(k).err()
            );
        }
    }

    #[test]
    fn a_valid_deployment_passes() {
        assert_eq!(builtin_findings(&deployment()), vec![]);
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_reported_with_their_path() {
        let mut d = deployment();
        d["spec"]["replicas"] = json!("2");
        d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
        let f = builtin_findings(&d);
        let got: Vec<(&str, &str)> = f
            .iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("spec.replicas", "spec.replicas: expected integer, got string (schema of apps/v1 Deployment)"),
                (
                    "spec.template.spec.containers[0].imagePullPolicyy",
                    "spec.template.spec.containers[0].imagePullPolicyy: unknown field (schema of apps/v1 Deployment)"
                ),
            ]
        );
        assert_eq!(f[0].keys, vec!["replicas".to_string()]);
    }

    #[test]
    fn unknown_kinds_and_missing_type_meta() {
        let f = builtin_findings(
            &json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "KG102");
        assert_eq!(
            f[0].message,
            "no schema for example.com/v1 Widget: it cannot be validated"
        );
        let f = builtin_findings(&json!({"metadata": {"name": "w"}}));
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].message, "apiVersion: required field missing");
    }

    #[test]
    fn origin_keys_of_rendered_fields() {
        let d = json!({"spec": {"template": {"spec": {"containers": [{"env": [{"name": "LOG_LEVEL", "value": "x"}]}]}}}});
        assert_eq!(
            origin_keys(
                &d,
                "Deployment",
                "spec.template.spec.containers[0].env[0].value"
            ),
            vec!["env.LOG_LEVEL".to_string()]
        );
        assert_eq!(
            origin_keys(
                &d,
                "Deployment",
                "spec.template.spec.containers[0].resources.limits.cpu"
            ),
            vec!["resources.limits.cpu".to_string()]
        );
        assert_eq!(
            origin_keys(&d, "HorizontalPodAutoscaler", "spec.minReplicas"),
            vec!["autoscaling.min".to_string()]
        );
    }
}
