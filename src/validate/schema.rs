//! Schema validation: each object against the JSON Schema of its kind.
//!
//! Core kinds use the schemas k8s-openapi derives from the Kubernetes OpenAPI
//! document (its `schemars` feature); custom resources kgen emits use the schemas of
//! kgen's typed structs (`crd`), which the conformance test holds against the
//! upstream CRDs. Every schema goes through [`strict_schema`], so an unknown field is
//! an error as under `kubectl apply --validate=strict`. The hardened schemas are kept
//! as JSON text in `builtin_schemas` (generated from the types; a test holds them
//! equal): a kind's root is parsed on first use ([`OnceLock`], shared by all threads),
//! a definition when an object first reaches it, and the `jsonschema` validator is
//! compiled (from the types) only for an object the quick walk of
//! [`crate::schema_fast`] does not pass.
//!
//! Two adjustments make the generated core schemas accept what the API server
//! accepts: a `Quantity` may be a number (`cpu: 0.5`), and a `Time` may be null
//! (`creationTimestamp: null`, as `kubectl create --dry-run -o yaml` writes).
//!
//! [`strict_schema`]: crate::schema_dir::strict_schema

use std::sync::{LazyLock, OnceLock};

use k8s_openapi::api::{
    apps, autoscaling, batch, core, networking, policy, rbac, scheduling, storage,
};
use k8s_openapi::Resource;
use schemars::JsonSchema;
use serde_json::{json, Value};

use super::builtin_schemas;
use super::locate::{segments, Segment};
use super::{str_at, ContainerOrigin, FastMap, FieldPath, Finding};
use crate::crd::{self, CustomResource};
use crate::diagnostic::closest;
use crate::rules;
use crate::schema_dir::{strict_schema_owned, type_meta_problems, Problem, StrictValidator};

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
    pub(super) schema: fn() -> Value,
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
static VALIDATORS: [OnceLock<StrictValidator>; N] = [const { OnceLock::new() }; N];

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

/// The validator of a built-in kind. Its hardened schema comes from
/// [`builtin_schemas`] (generated from the types, kept up to date by a test): the root
/// is parsed on first use, each definition when an object first reaches it, and the
/// validator is compiled (from the types) only when an object needs it (see
/// [`StrictValidator::split`]; every built-in schema compiles, as a test checks).
pub fn validator(kind: &'static BuiltinKind) -> Result<&'static StrictValidator, String> {
    let i = KINDS
        .iter()
        .position(|k| std::ptr::eq(k, kind))
        .expect("a built-in kind");
    Ok(VALIDATORS[i].get_or_init(|| {
        let (api_version, k, prepare, root) = builtin_schemas::ROOTS[i];
        debug_assert_eq!((api_version, k), (kind.api_version, kind.kind));
        let root = serde_json::from_str(root).expect("built-in schemas are JSON");
        StrictValidator::split(
            root,
            prepare,
            builtin_def,
            Box::new(|| strict_schema_owned((kind.schema)())),
        )
    }))
}

/// The fields kgen's built-in schema of `object`'s kind allows in the object at
/// `pointer` (a JSON pointer); none for a kind without a built-in schema.
pub fn builtin_known_fields(object: &Value, pointer: &str) -> Vec<String> {
    let Ok((api_version, kind)) = type_meta(object) else {
        return Vec::new();
    };
    match builtin(api_version, kind).map(validator) {
        Some(Ok(v)) => v
            .known_fields(object, pointer)
            .into_iter()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// A definition of the built-in schemas, by name (parsed on first use).
fn builtin_def(name: &str) -> Option<&'static Value> {
    static PARSED: [OnceLock<Value>; builtin_schemas::N_DEFS] =
        [const { OnceLock::new() }; builtin_schemas::N_DEFS];
    static INDEX: LazyLock<FastMap<&str, usize>> = LazyLock::new(|| {
        (builtin_schemas::DEFS.iter().enumerate())
            .map(|(i, (name, _))| (*name, i))
            .collect()
    });
    let i = *INDEX.get(name)?;
    Some(PARSED[i].get_or_init(|| {
        serde_json::from_str(builtin_schemas::DEFS[i].1).expect("built-in schemas are JSON")
    }))
}

/// Schema findings for one object against kgen's built-in schemas: KG101 per
/// problem, or KG102 when kgen has no schema for the kind.
pub fn builtin_findings(object: &Value) -> Vec<Finding> {
    match type_meta(object) {
        Err(findings) => findings,
        Ok((api_version, kind)) => match builtin(api_version, kind) {
            Some(b) => match validator(b) {
                Ok(v) => findings(object, api_version, kind, v.problems_static(object)),
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

/// `object` without the fields whose value is `null`, when it has any (else `None`):
/// what the API server validates. It reads a `null` as the field left out (JSON `null`
/// decodes to an unset field of a built-in kind; a custom resource's is pruned unless
/// its schema says `nullable`), so an optional field set to `null` is valid and a
/// required one is missing. Nulls inside lists are kept (they are items). For
/// hand-written and patched objects: kgen's own never hold a `null`.
pub fn without_nulls(object: &Value) -> Option<Value> {
    fn has_null(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.values().any(|v| v.is_null() || has_null(v)),
            Value::Array(items) => items.iter().any(has_null),
            _ => false,
        }
    }
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|_, v| !v.is_null());
                m.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    has_null(object).then(|| {
        let mut v = object.clone();
        strip(&mut v);
        v
    })
}

/// KG102: no schema known for a kind. `schema_dir` says whether a schema
/// directory was searched.
pub fn unknown_kind(api_version: &str, kind: &str, schema_dir: bool) -> Finding {
    let file = schema_file(api_version, kind);
    let help = if schema_dir {
        format!("the schema directory has no {file}; add the CRD's openAPIV3Schema there")
    } else {
        format!("kgen knows the core Kubernetes kinds and the custom resources it emits; for other kinds pass `--schema-dir DIR` with the CRD schema at DIR/{file}")
    };
    unknown_kind_finding(api_version, kind, help)
}

/// KG102's finding, with `help` saying where a schema would go; when the kind looks
/// misspelt (a did-you-mean), correcting it comes first.
pub fn unknown_kind_finding(api_version: &str, kind: &str, help: String) -> Finding {
    let meant = meant_kind(api_version, kind);
    let help = match &meant {
        Some(m) => {
            format!("if the kind is misspelt, correct it ({m}); if it is a custom resource, {help}")
        }
        None => help,
    };
    let mut f = Finding::error(
        rules::UNKNOWN_KIND,
        &FieldPath::from("kind"),
        format!("no schema for {api_version} {kind}: it cannot be validated"),
    )
    .help(help);
    f.label = meant;
    f
}

/// Where a kind's schema goes in a schema directory (kubeconform's CRD catalog layout):
/// `<group>/<kind>_<version>.json`, or `<kind>_<version>.json` in the core group.
pub fn schema_file(api_version: &str, kind: &str) -> String {
    let kind = kind.to_lowercase();
    match api_version.rsplit_once('/') {
        Some((group, version)) => format!("{group}/{kind}_{version}.json"),
        None => format!("{kind}_{api_version}.json"),
    }
}

/// "did you mean ...?" for a kind without a schema: a built-in kind of the same
/// `apiVersion` spelt alike (`ConfigMapp`), or, in a Kubernetes API group, a kind
/// written under another group's `apiVersion` (`v1` `Deployment`) or misspelt there.
/// A custom resource of another group is left alone: its kinds are not kgen's to know.
pub fn meant_kind(api_version: &str, kind: &str) -> Option<String> {
    let same = KINDS.iter().filter(|k| k.api_version == api_version);
    if let Some(k) = closest(kind, same.map(|k| k.kind)) {
        return Some(format!("did you mean `kind: {k}`?"));
    }
    fn group(api: &str) -> &str {
        api.rsplit_once('/').map_or("", |(g, _)| g)
    }
    let kubernetes = KINDS
        .iter()
        .any(|k| k.source == Source::Core && group(k.api_version) == group(api_version));
    if !kubernetes {
        return None;
    }
    let core = KINDS.iter().filter(|k| k.source == Source::Core);
    let meant = core
        .clone()
        .find(|k| k.kind.eq_ignore_ascii_case(kind))
        .or_else(|| {
            let name = closest(kind, core.clone().map(|k| k.kind))?;
            core.clone().find(|k| k.kind == name)
        })?;
    Some(format!(
        "did you mean `apiVersion: {}` and `kind: {}`?",
        meant.api_version, meant.kind
    ))
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
            if let Some(meant) = &p.meant {
                f.label = Some(format!("did you mean `{meant}`?"));
            }
            if p.message == "unknown field" {
                f = f.help("Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference");
            } else if let Some(help) = value_at(object, &segments(&p.path))
                .and_then(Value::as_str)
                .and_then(|v| yaml_1_1_help(&p.message, v))
            {
                f = f.help(help);
            }
            f
        })
        .collect()
}

/// Help for a string where the schema wants a number or a boolean, when YAML 1.1
/// (kubectl's reader, PyYAML, Go yaml.v2) would have read it so: a leading-zero
/// octal (`0644`, 420 there) or a `yes`/`no`/`on`/`off` boolean. kgen reads YAML
/// 1.2 (serde_norway: `0o644` is the octal integer 420, `0644` and `yes` are
/// strings), as kubectl's apply decodes JSON-compatible YAML into the same types.
fn yaml_1_1_help(message: &str, value: &str) -> Option<String> {
    let wants =
        |t: &str| message.starts_with(&format!("expected {t}")) && message.ends_with("got string");
    let octal = value.len() > 1
        && value.starts_with('0')
        && value.bytes().all(|b| (b'0'..=b'7').contains(&b));
    if octal && (wants("integer") || wants("number")) {
        let digits = &value[1..];
        let decimal = i64::from_str_radix(digits, 8).ok()?;
        return Some(format!(
            "`{value}` is a string here: kgen reads YAML 1.2, where a leading 0 does not make an octal number (YAML 1.1, as kubectl reads it, takes it as {decimal}); write `0o{digits}` (YAML 1.2's octal, also TOML's) or the decimal `{decimal}`"
        ));
    }
    let boolean = match value.to_ascii_lowercase().as_str() {
        "yes" | "y" | "on" => Some(true),
        "no" | "n" | "off" => Some(false),
        _ => None,
    };
    if let (Some(b), true) = (boolean, wants("boolean")) {
        return Some(format!(
            "`{value}` is a string here: kgen reads YAML 1.2, where only `true` and `false` are booleans (YAML 1.1 takes `{value}` as {b}); write `{b}`"
        ));
    }
    None
}

/// The service inputs that may have produced a field of a rendered object, best
/// first (see `ServiceSpec.origins`): `replicas`, `autoscaling.min`, a container's
/// `image`/`probes.liveness`/`env.LOG_LEVEL`/`resources.requests.cpu` (under
/// `sidecars.<name>` or `init_containers.<name>` for those containers, see
/// [`ContainerOrigin`]), `volumes.<name>`, `files.<key>.path`, `tolerations`,
/// `node_affinity.required`, `schedule`, `hook`, `autoscaling.behavior.scale_up`...
pub fn origin_keys(object: &Value, kind: &str, path: &str) -> Vec<String> {
    let segs = segments(path);
    let key = |i: usize| match segs.get(i) {
        Some(Segment::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    let index = |i: usize| match segs.get(i) {
        Some(Segment::Index(n)) => Some(*n),
        _ => None,
    };
    let owned = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();

    // A container: everything after `containers[i]` or `initContainers[i]`.
    if let Some(at) = (0..segs.len()).find(|&i| {
        matches!(key(i), Some("containers" | "initContainers")) && index(i + 1).is_some()
    }) {
        let init = key(at) == Some("initContainers");
        let Some(c) = value_at(object, &segs[..at + 2]) else {
            return Vec::new();
        };
        return container_keys(&ContainerOrigin::of(c, init), c, &segs[at + 2..]);
    }

    // The pod spec of a workload (`spec.template.spec.…`, a CronJob's, a Pod's own).
    let pod_at = match (key(0), key(1), key(2), key(3)) {
        (Some("spec"), Some("template"), Some("spec"), _) => Some(3),
        (Some("spec"), Some("jobTemplate"), Some("spec"), Some("template")) => Some(5),
        (Some("spec"), _, _, _) if kind == "Pod" => Some(1),
        _ => None,
    };
    if let Some(p) = pod_at.filter(|&p| segs.len() > p) {
        let keys = match key(p) {
            Some("tolerations") => owned(&["tolerations"]),
            Some("nodeSelector") => match key(p + 1) {
                Some(k) => vec![format!("node_selector.{k}")],
                None => Vec::new(),
            },
            Some("affinity") if path.contains("requiredDuringScheduling") => {
                owned(&["node_affinity.required"])
            }
            Some("affinity") => owned(&["node_affinity.preferred", "node_affinity.required"]),
            Some("priorityClassName") => owned(&["priority_class"]),
            Some("terminationGracePeriodSeconds") => owned(&["termination_grace_period"]),
            Some("imagePullSecrets") => owned(&["image_pull_secrets"]),
            // `volumes` itself (not a list, say) names no volume.
            Some("volumes") => match segs.get(..p + 2).and_then(|s| value_at(object, s)) {
                Some(v) => volume_keys(v, &segs[p + 2..]),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        return keys;
    }

    let mut out: Vec<String> = match (kind, key(0), key(1)) {
        ("HorizontalPodAutoscaler", Some("spec"), Some("minReplicas")) => {
            owned(&["autoscaling.min"])
        }
        ("HorizontalPodAutoscaler", Some("spec"), Some("maxReplicas")) => {
            owned(&["autoscaling.max"])
        }
        ("HorizontalPodAutoscaler", Some("spec"), Some("behavior")) => {
            let dir = match key(2) {
                Some("scaleUp") => "autoscaling.behavior.scale_up",
                Some("scaleDown") => "autoscaling.behavior.scale_down",
                _ => "autoscaling.behavior",
            };
            owned(&[dir, "autoscaling.behavior"])
        }
        ("HorizontalPodAutoscaler", _, _) => owned(&["autoscaling.max", "autoscaling.min"]),
        ("PodDisruptionBudget", Some("spec"), Some("minAvailable")) => {
            owned(&["disruption_budget.min_available", "disruption_budget"])
        }
        ("PodDisruptionBudget", Some("spec"), Some("maxUnavailable")) => {
            owned(&["disruption_budget.max_unavailable", "disruption_budget"])
        }
        ("PodDisruptionBudget", _, _) => owned(&["disruption_budget"]),
        ("CronJob", Some("spec"), Some("schedule")) => owned(&["schedule"]),
        ("CronJob", Some("spec"), Some("timeZone")) => owned(&["cron.time_zone", "schedule"]),
        ("StatefulSet", Some("spec"), Some("volumeClaimTemplates")) => {
            match index(2).and_then(|i| {
                object
                    .get("spec")?
                    .get("volumeClaimTemplates")?
                    .get(i)?
                    .get("metadata")?
                    .get("name")?
                    .as_str()
            }) {
                Some(name) => {
                    let mut keys = Vec::new();
                    if path.contains("storage") {
                        keys.push(format!("volumes.{name}.claim.size"));
                    }
                    keys.push(format!("volumes.{name}.claim"));
                    keys.push(format!("volumes.{name}"));
                    keys
                }
                None => Vec::new(),
            }
        }
        ("Service", Some("spec"), Some("ports")) => owned(&["service.port", "port"]),
        ("Service", Some("spec"), Some("type")) => owned(&["service.type"]),
        (_, Some("spec"), Some("replicas")) => owned(&["replicas"]),
        (_, Some("metadata"), Some("namespace")) => owned(&["namespace"]),
        (_, Some("metadata"), Some("annotations")) => match key(2) {
            Some(a) if a.starts_with("argocd.argoproj.io/hook") => owned(&["hook"]),
            Some(a) => vec![format!("annotations.{a}")],
            None => Vec::new(),
        },
        (_, Some("metadata"), Some("labels")) => match key(2) {
            Some(l) => vec![format!("labels.{l}")],
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    if kind == "ConfigMap" {
        if let (Some("data"), Some(k)) = (key(0), key(1)) {
            out.push(format!("config.{k}"));
        }
    }
    out
}

/// The origin keys of a field of a container (`rest`: the path after
/// `containers[i]`).
fn container_keys(o: &ContainerOrigin, c: &Value, rest: &[Segment]) -> Vec<String> {
    let key = |i: usize| match rest.get(i) {
        Some(Segment::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    let named = |list: &str| -> Option<&str> {
        let Some(Segment::Index(i)) = rest.get(1) else {
            return None;
        };
        c.get(list)?.get(*i)?.get("name")?.as_str()
    };
    match key(0) {
        Some("image") => o.keys_of(&["image", "tag", "digest"]),
        Some("livenessProbe") => o.keys("probes.liveness"),
        Some("readinessProbe") => o.keys("probes.readiness"),
        Some("startupProbe") => o.keys("probes.startup"),
        Some("ports") => match named("ports") {
            Some(name) => o.port_keys(name),
            None => o.port_keys("http"),
        },
        Some("resources") => match (key(1), key(2)) {
            (Some(section), Some(res)) => o.keys(&format!("resources.{section}.{res}")),
            _ => o.keys_of(&[
                "resources.requests.cpu",
                "resources.requests.memory",
                "resources.limits.memory",
                "resources.limits.cpu",
            ]),
        },
        Some("env") => match named("env") {
            Some(var) => o.keys(&format!("env.{var}")),
            None => o.keys_of(&[]),
        },
        Some("volumeMounts") => match named("volumeMounts") {
            Some(vol) => o.mount_keys(vol),
            None => o.keys_of(&[]),
        },
        Some(k @ ("command" | "args")) => o.keys(k),
        _ => o.keys_of(&[]),
    }
}

/// The origin keys of a field of a pod volume (`rest`: the path after `volumes[i]`):
/// a service volume is `volumes.<name>`, a files volume (`files-<n>`) maps each item
/// to `files.<key>.path`.
fn volume_keys(v: &Value, rest: &[Segment]) -> Vec<String> {
    let name = str_at(v, "name").unwrap_or("");
    if name.starts_with("files-") {
        let items = v.get("configMap").and_then(|c| c.get("items"));
        let item = match rest {
            [Segment::Key(cm), Segment::Key(items_key), Segment::Index(i), ..]
                if cm == "configMap" && items_key == "items" =>
            {
                items.and_then(|list| list.get(*i))
            }
            _ => None,
        };
        let files: Vec<String> = match item {
            Some(item) => str_at(item, "key")
                .into_iter()
                .map(str::to_string)
                .collect(),
            None => items
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|i| str_at(i, "key").map(str::to_string))
                .collect(),
        };
        return files.iter().map(|k| format!("files.{k}.path")).collect();
    }
    vec![format!("volumes.{name}.claim"), format!("volumes.{name}")]
        .into_iter()
        .skip(usize::from(v.get("persistentVolumeClaim").is_none()))
        .collect()
}

/// The value at a path of segments.
fn value_at<'a>(object: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    path.iter().try_fold(object, |v, s| match s {
        Segment::Key(k) => v.get(k),
        Segment::Index(i) => v.get(*i),
    })
}

/// The JSON Schema of a generated type, adjusted to accept what the API server accepts.
fn generated<T: JsonSchema>() -> Value {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    let mut value = schema.to_value();
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
            let compiled = validator(k).and_then(|v| v.compiled().map(|_| ()));
            assert!(
                compiled.is_ok(),
                "{} {}: {compiled:?}",
                k.api_version,
                k.kind
            );
        }
    }

    /// `generated` takes the schema's value as it is (no serialisation round trip).
    #[test]
    fn generated_schemas_are_the_serialised_ones() {
        fn serialised<T: JsonSchema>() -> Value {
            let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
            serde_json::to_value(schema).unwrap()
        }
        assert_eq!(
            schemars::SchemaGenerator::default()
                .into_root_schema_for::<apps::v1::Deployment>()
                .to_value(),
            serialised::<apps::v1::Deployment>()
        );
        assert_eq!(
            schemars::SchemaGenerator::default()
                .into_root_schema_for::<crd::argocd::Application>()
                .to_value(),
            serialised::<crd::argocd::Application>()
        );
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
    fn a_kind_without_a_schema_names_the_kubernetes_kind_it_was_meant_to_be() {
        let meant = |api, kind| meant_kind(api, kind);
        assert_eq!(
            meant("v1", "ConfigMapp").as_deref(),
            Some("did you mean `kind: ConfigMap`?")
        );
        assert_eq!(
            meant("batch/v1", "Cronjob").as_deref(),
            Some("did you mean `kind: CronJob`?")
        );
        assert_eq!(
            meant("v1", "Deployment").as_deref(),
            Some("did you mean `apiVersion: apps/v1` and `kind: Deployment`?")
        );
        assert_eq!(
            meant("apps/v1", "HorizontalPodAutoscaller").as_deref(),
            Some("did you mean `apiVersion: autoscaling/v2` and `kind: HorizontalPodAutoscaler`?")
        );
        // Another group's custom resources are not kgen's to know.
        assert_eq!(meant("keda.sh/v1alpha1", "ScaledObject"), None);
        assert_eq!(meant("example.com/v1", "Deployment"), None);
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
        assert_eq!(f[0].label, None);
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

    #[test]
    fn origin_keys_of_sidecars_volumes_files_and_placement() {
        let s = json!({"spec": {
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
            "template": {"spec": {
                "initContainers": [
                    {"name": "proxy", "restartPolicy": "Always", "ports": [{"name": "admin"}],
                     "env": [{"name": "MODE", "value": "x"}], "volumeMounts": [{"name": "cache"}]},
                    {"name": "migrate"}
                ],
                "containers": [{"name": "db", "ports": [{"name": "http"}, {"name": "metrics"}],
                    "volumeMounts": [{"name": "data"}]}],
                "volumes": [
                    {"name": "files-0", "configMap": {"name": "db-files", "items": [{"key": "app.yaml", "path": "app.yaml"}]}},
                    {"name": "cache", "persistentVolumeClaim": {"claimName": "db-cache"}},
                    {"name": "scratch", "emptyDir": {}}
                ]
            }}
        }});
        let keys = |path: &str| origin_keys(&s, "StatefulSet", path);
        let owned = |k: &[&str]| k.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let pod = "spec.template.spec";
        assert_eq!(
            keys(&format!(
                "{pod}.initContainers[0].livenessProbe.successThreshold"
            )),
            owned(&["sidecars.proxy.probes.liveness", "sidecars.proxy"])
        );
        assert_eq!(
            keys(&format!("{pod}.initContainers[0].image")),
            owned(&[
                "sidecars.proxy.image",
                "sidecars.proxy.tag",
                "sidecars.proxy.digest",
                "sidecars.proxy"
            ])
        );
        assert_eq!(
            keys(&format!("{pod}.initContainers[0].ports[0].containerPort")),
            owned(&["sidecars.proxy.ports.admin", "sidecars.proxy"])
        );
        assert_eq!(
            keys(&format!("{pod}.initContainers[0].env[0].value")),
            owned(&["sidecars.proxy.env.MODE", "sidecars.proxy"])
        );
        assert_eq!(
            keys(&format!(
                "{pod}.initContainers[0].volumeMounts[0].mountPath"
            )),
            owned(&["sidecars.proxy.mounts.cache", "sidecars.proxy"])
        );
        assert_eq!(
            keys(&format!("{pod}.initContainers[1].securityContext")),
            owned(&["init_containers.migrate"])
        );
        assert_eq!(
            keys(&format!("{pod}.containers[0].ports[0].name")),
            owned(&["port"])
        );
        assert_eq!(
            keys(&format!("{pod}.containers[0].ports[1].name")),
            owned(&["metrics.port", "metrics"])
        );
        assert_eq!(
            keys(&format!("{pod}.containers[0].startupProbe")),
            owned(&["probes.startup"])
        );
        assert_eq!(
            keys(&format!("{pod}.containers[0].volumeMounts[0].name")),
            owned(&["volumes.data.mount", "volumes.data"])
        );
        assert_eq!(
            keys(&format!("{pod}.volumes[0].configMap.items[0].path")),
            owned(&["files.app.yaml.path"])
        );
        assert_eq!(
            keys(&format!("{pod}.volumes[1].persistentVolumeClaim.claimName")),
            owned(&["volumes.cache.claim", "volumes.cache"])
        );
        assert_eq!(
            keys(&format!("{pod}.volumes[2].emptyDir")),
            owned(&["volumes.scratch"])
        );
        assert_eq!(
            keys("spec.volumeClaimTemplates[0].spec.resources.requests.storage"),
            owned(&[
                "volumes.data.claim.size",
                "volumes.data.claim",
                "volumes.data"
            ])
        );
        assert_eq!(
            keys(&format!("{pod}.tolerations[0].value")),
            owned(&["tolerations"])
        );
        assert_eq!(
            keys(&format!("{pod}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")),
            owned(&["node_affinity.required"])
        );
        assert_eq!(
            keys(&format!("{pod}.nodeSelector[\"node.kubernetes.io/pool\"]")),
            owned(&["node_selector.node.kubernetes.io/pool"])
        );
        assert_eq!(
            origin_keys(
                &s,
                "Job",
                "metadata.annotations[\"argocd.argoproj.io/hook\"]"
            ),
            owned(&["hook"])
        );
        assert_eq!(
            origin_keys(&s, "CronJob", "spec.timeZone"),
            owned(&["cron.time_zone", "schedule"])
        );
        assert_eq!(
            origin_keys(
                &s,
                "CronJob",
                "spec.jobTemplate.spec.template.spec.priorityClassName"
            ),
            owned(&["priority_class"])
        );
    }
}
