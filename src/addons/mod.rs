//! kgen's add-on presets: the third-party components a platform runs once per cluster
//! (cert-manager, external-dns, the AWS Load Balancer Controller, ...), each as a
//! Helm chart kgen knows.
//!
//! A [`Preset`] knows its chart and repository, the chart version its knowledge was
//! checked against, its default namespace and the Pod Security level its pods need,
//! where its ServiceAccount's annotations go in the chart's values (for IRSA), which of
//! the typed add-on settings it takes and how they become values (with the defaults a
//! careful operator would choose), and its [`Footprint`]: what the chart creates
//! beyond its release namespace, which the cluster's AppProject admits exactly and the
//! offline admission checks (`admission`).
//!
//! One file per preset; [`PRESETS`] lists them. A chart that is not a preset is
//! installed from `chart`, `repo` and `chart_version`, with `values` only.

mod aws_load_balancer_controller;
mod cert_manager;
mod cluster_autoscaler;
mod external_dns;
mod external_secrets;
mod fluent_bit;
mod helm_names;
mod ingress_nginx;
mod karpenter;
mod metrics_server;
mod sealed_secrets;
mod secrets_store_csi_driver;
mod secrets_store_csi_driver_provider_aws;

use serde_json::{json, Map, Value};

use crate::crd::argocd::ResourceIgnoreDifferences;

pub use external_secrets::{
    serves_v1 as external_secrets_serves_v1, serves_v1beta1 as external_secrets_serves_v1beta1,
    UNSAFE_SERVE_V1BETA1_SINCE as ESO_UNSAFE_SERVE_V1BETA1_SINCE,
    V1BETA1_UNSERVED_SINCE as ESO_V1BETA1_UNSERVED_SINCE, V1_SERVED_SINCE as ESO_V1_SERVED_SINCE,
};

use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

/// What a chart creates outside its release namespace, as far as Argo CD's checks go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Namespaces other than the release namespace it writes objects into.
    pub namespaces: Vec<String>,
    /// Cluster-scoped kinds it creates, `(group, kind)`.
    pub cluster_kinds: Vec<(String, String)>,
    /// API groups of the CRDs it installs.
    pub crd_groups: Vec<String>,
    /// Objects it creates outside its release namespace, `(group, kind, namespace or "", name)`,
    /// when their names are known (for the shared-object check).
    pub objects: Vec<(String, String, String, String)>,
    /// Custom resources of another chart's CRDs it creates with the add-on's final
    /// values ([`Preset::custom_resources`]), each with where the values that ask for
    /// it were written (the `values` table, else the add-on's header): their CRDs
    /// must be installed before it (KG306).
    pub custom_resources: Vec<(CustomResource, crate::source::Origin)>,
}

/// A custom resource a chart creates under some values, of a CRD another chart
/// installs (cert-manager's Certificate, the Prometheus Operator's ServiceMonitor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomResource {
    pub group: &'static str,
    pub kind: &'static str,
    /// The values path that makes the chart create it (`enableCertManager`): where
    /// the finding points.
    pub because: &'static [&'static str],
}

/// Go templates' truth (`if`), as Helm's charts test a value: false, 0, "", an
/// empty list or map and a missing value are false (text/template `exec.go`
/// `isTrue`). `default` is the chart's values.yaml default, for a path `values`
/// does not set.
pub fn helm_true(values: &Value, path: &[&str], default: bool) -> bool {
    match path.iter().try_fold(values, |v, k| v.get(*k)) {
        None => default,
        Some(Value::Null | Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
    }
}

/// API group of the Prometheus Operator's ServiceMonitor, PodMonitor and PrometheusRule.
pub const MONITORING: &str = "monitoring.coreos.com";

/// A ServiceMonitor, created when `path` is true (the charts' `serviceMonitor.enabled`,
/// off by default).
pub fn service_monitor_when(values: &Value, path: &'static [&'static str]) -> Vec<CustomResource> {
    monitoring_when(values, path, "ServiceMonitor")
}

/// A `kind` of the Prometheus Operator, created when `path` is true (off by default).
pub fn monitoring_when(
    values: &Value,
    path: &'static [&'static str],
    kind: &'static str,
) -> Vec<CustomResource> {
    if helm_true(values, path, false) {
        vec![CustomResource {
            group: MONITORING,
            kind,
            because: path,
        }]
    } else {
        Vec::new()
    }
}

/// Where a chart's ServiceAccount is configured in its values.
#[derive(Debug, Clone, Copy)]
pub struct ServiceAccount {
    /// Values path of the ServiceAccount's annotations (`serviceAccount.annotations`).
    pub annotations: &'static [&'static str],
    /// The ServiceAccount's name with kgen's values (for Pod Identity and IRSA trust);
    /// `{release}` is replaced by the release name.
    pub name: &'static str,
    /// Values path of the ServiceAccount's name (`serviceAccount.name`), which kgen
    /// sets and `values` must not change while the add-on has an IAM role.
    pub name_path: &'static [&'static str],
}

/// A typed setting a preset needs (or should have), and why: the chart refuses to
/// render, renders nothing or does something unsafe without it.
#[derive(Debug, Clone, Copy)]
pub struct Needed {
    /// The setting (a key of `[addons.<name>]`).
    pub key: &'static str,
    /// Where the preset's values write it: `values` that set this path (to a
    /// non-empty value) give the chart what it needs as well as the setting would.
    pub values_path: &'static [&'static str],
    /// What goes wrong without it, as the diagnostic says it.
    pub why: &'static str,
}

/// What a range of a chart's releases needs of the cluster's Kubernetes version, as
/// read from those releases (their `Chart.yaml` `kubeVersion`, the project's
/// compatibility table). Versions outside every range are not checked: kgen only
/// encodes what was read.
#[derive(Debug, Clone, Copy)]
pub struct KubeSupport {
    /// The first and last chart versions of the range, both released and both read.
    pub first: &'static str,
    pub last: &'static str,
    /// The oldest Kubernetes minor version they install or run on.
    pub min: Option<(u32, u32)>,
    /// The newest Kubernetes minor version they support.
    pub max: Option<(u32, u32)>,
    /// Where it was read, as the diagnostic cites it.
    pub source: &'static str,
}

/// The oldest Kubernetes version a preset's chart needs from a release on, in every
/// later release too: a chart raises its `kubeVersion` floor, it does not lower it, so
/// unlike [`KubeSupport`] this also holds for releases kgen did not read.
#[derive(Debug, Clone, Copy)]
pub struct MinKubernetes {
    /// The first chart version that needs it (read).
    pub since: &'static str,
    /// The oldest Kubernetes minor version it installs on.
    pub min: (u32, u32),
    /// Where it was read, as the diagnostic cites it.
    pub source: &'static str,
}

/// A problem a preset finds in its final values: a value the chart or the cluster
/// cannot work with. Reported at the `values` table that sets `path`, else at the
/// add-on's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesProblem {
    /// Values path of the offending value.
    pub path: Vec<&'static str>,
    pub message: String,
    pub help: String,
}

/// The settings of `[addons.<name>]` that only some presets take, and their key.
pub const TYPED_SETTINGS: &[&str] = &[
    "replicas",
    "resources",
    "priority_class",
    "tolerations",
    "node_selector",
    "cluster_name",
    "region",
    "vpc_id",
    "domain_filters",
    "txt_owner_id",
    "policy",
    "service_type",
    "node_ports",
    "ingress_class",
    "install_crds",
    "log_group",
    "interruption_queue",
    "sync_secrets",
    "rotation_interval",
];

/// Narrows the help of an unknown key of `[addons.<name>]` (KG002, made where the TOML
/// is read, which lists the keys of every preset) to the keys `preset` takes, and
/// its "did you mean" to them.
pub fn narrow_unknown_key(d: &mut crate::diagnostic::Diagnostic, key: &str, preset: &Preset) {
    const PREFIX: &str = "the keys allowed here are: ";
    let Some(list) = d.help.as_deref().and_then(|h| h.strip_prefix(PREFIX)) else {
        return;
    };
    let all: Vec<&str> = list.split(", ").collect();
    // Only the add-on's own table, whose list holds every preset's typed settings (a
    // nested table's does not, nor `[monitoring]`'s, which may follow an add-on's
    // table in the file).
    if !TYPED_SETTINGS.iter().all(|t| all.contains(t)) {
        return;
    }
    let keys: Vec<&str> = all
        .into_iter()
        .filter(|k| !TYPED_SETTINGS.contains(k) || preset.settings.contains(k))
        // A chart that is not a preset says what it creates; a preset knows.
        .filter(|k| !PLAIN_CHART_KEYS.contains(k))
        .collect();
    d.label = crate::diagnostic::did_you_mean(key, keys.iter().copied());
    d.help = Some(format!(
        "the keys the `{}` preset takes are: {}",
        preset.name,
        keys.join(", ")
    ));
}
/// One preset.
pub struct Preset {
    pub name: &'static str,
    pub chart: &'static str,
    pub repo: &'static str,
    /// The chart version whose values.yaml and templates this preset was checked against.
    pub checked_version: &'static str,
    pub namespace: &'static str,
    pub pod_security: PodSecurityLevel,
    /// The chart's CRDs need server-side apply (too large for the last-applied annotation).
    pub server_side_apply: bool,
    /// Sync wave of its Application in the cluster's bootstrap.
    pub wave: i32,
    /// Its ServiceAccount, when it calls AWS (`iam_role`).
    pub service_account: Option<ServiceAccount>,
    /// The typed settings it takes (keys of `[addons.<name>]`).
    pub settings: &'static [&'static str],
    /// The settings it cannot do without (after kgen's defaults): an error when unset.
    pub required: &'static [Needed],
    /// The settings it should have: a warning when unset (an explicit empty value
    /// silences it).
    pub recommended: &'static [Needed],
    /// What its chart versions need of the cluster's Kubernetes version.
    pub kubernetes: &'static [KubeSupport],
    /// The oldest Kubernetes version its charts need from some release on (checked
    /// where no range of `kubernetes` covers the pinned version); `None` where no
    /// release needs more than the oldest Kubernetes kgen supports.
    pub min_kubernetes: Option<MinKubernetes>,
    /// Problems in its final values (the preset's, then `values`).
    pub check_values: fn(&AddonSettings, &Value) -> Vec<ValuesProblem>,
    /// Its values from the resolved settings (kgen's defaults included).
    pub values: fn(&AddonSettings) -> Value,
    /// What it creates beyond its release namespace, with these settings.
    pub footprint: fn(&AddonSettings) -> Footprint,
    /// The custom resources of other charts' CRDs it creates with these final values
    /// (the preset's, then `values`; the chart's own defaults for what they leave unset).
    pub custom_resources: fn(&Value) -> Vec<CustomResource>,
    /// The fields of the chart's objects it renders differently each time (a
    /// certificate Helm generates with `genCA`), from its final values and release
    /// namespace: the Application ignores them and keeps their live values
    /// (`ignoreDifferences` with `RespectIgnoreDifferences=true`), else every render
    /// Argo CD makes (each commit of the repository) would be a change to sync.
    pub render_time_fields: fn(&Value, &str) -> Vec<ResourceIgnoreDifferences>,
}

/// For a chart that renders the same objects from the same values.
pub fn no_render_time_fields(_: &Value, _: &str) -> Vec<ResourceIgnoreDifferences> {
    Vec::new()
}

impl std::fmt::Debug for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preset({})", self.name)
    }
}

/// Every preset, by name.
pub const PRESETS: &[&Preset] = &[
    &aws_load_balancer_controller::PRESET,
    &cert_manager::PRESET,
    &cluster_autoscaler::PRESET,
    &external_dns::PRESET,
    &external_secrets::PRESET,
    &fluent_bit::PRESET,
    &ingress_nginx::PRESET,
    &karpenter::PRESET,
    &metrics_server::PRESET,
    &sealed_secrets::PRESET,
    &secrets_store_csi_driver::PRESET,
    &secrets_store_csi_driver_provider_aws::PRESET,
];

/// The preset named `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().copied().find(|p| p.name == name)
}

/// The typed settings every preset with a controller takes.
pub const CONTROLLER_SETTINGS: &[&str] = &[
    "replicas",
    "resources",
    "priority_class",
    "tolerations",
    "node_selector",
];

/// `value` at `path` in `root` (objects created on the way).
pub fn set(root: &mut Value, path: &[&str], value: Value) {
    let mut at = root;
    for key in &path[..path.len() - 1] {
        if !at.get(*key).is_some_and(Value::is_object) {
            at[*key] = Value::Object(Map::new());
        }
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
}

/// `over` merged into `base`, deeply: objects merge key by key, anything else replaces.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

/// The common controller values at the usual paths of a chart (`replicaCount`,
/// `resources`, `priorityClassName`, `tolerations`, `nodeSelector`), under `prefix`.
pub fn controller_values(s: &AddonSettings, prefix: &[&str], replicas_key: &str) -> Value {
    let mut v = json!({});
    fn at<'k>(prefix: &[&'k str], key: &'k str) -> Vec<&'k str> {
        let mut p: Vec<&str> = prefix.to_vec();
        p.push(key);
        p
    }
    let at = |key: &'static str| at(prefix, key);
    if let Some(n) = s.replicas {
        let mut key: Vec<&str> = prefix.to_vec();
        key.push(replicas_key);
        set(&mut v, &key, json!(n));
    }
    if let Some(r) = &s.resources {
        set(&mut v, &at("resources"), resources_value(r));
    }
    if let Some(p) = &s.priority_class {
        set(&mut v, &at("priorityClassName"), json!(p));
    }
    if !s.tolerations.is_empty() {
        set(
            &mut v,
            &at("tolerations"),
            tolerations_value(&s.tolerations),
        );
    }
    if !s.node_selector.is_empty() {
        set(&mut v, &at("nodeSelector"), json!(s.node_selector));
    }
    v
}

/// Requests and limits as Kubernetes writes them.
pub fn resources_value(r: &crate::spec::Resources) -> Value {
    let cm = |c: &crate::spec::CpuMem| {
        let mut m = Map::new();
        if let Some(cpu) = &c.cpu {
            m.insert("cpu".into(), json!(cpu));
        }
        if let Some(mem) = &c.memory {
            m.insert("memory".into(), json!(mem));
        }
        Value::Object(m)
    };
    let mut out = Map::new();
    let req = cm(&r.requests);
    if req.as_object().is_some_and(|m| !m.is_empty()) {
        out.insert("requests".into(), req);
    }
    let lim = cm(&r.limits);
    if lim.as_object().is_some_and(|m| !m.is_empty()) {
        out.insert("limits".into(), lim);
    }
    Value::Object(out)
}

/// Tolerations as Kubernetes writes them.
pub fn tolerations_value(ts: &[crate::spec::Toleration]) -> Value {
    Value::Array(
        ts.iter()
            .map(|t| {
                let mut m = Map::new();
                if let Some(k) = &t.key {
                    m.insert("key".into(), json!(k));
                }
                m.insert("operator".into(), json!(format!("{:?}", t.operator)));
                if let Some(v) = &t.value {
                    m.insert("value".into(), json!(v));
                }
                if let Some(e) = t.effect {
                    m.insert("effect".into(), json!(format!("{e:?}")));
                }
                if let Some(s) = t.seconds {
                    m.insert("tolerationSeconds".into(), json!(s));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// The keys only a chart that is not a preset takes: what it creates, which kgen
/// knows of its presets (`resolve/addons/footprint.rs`).
pub const PLAIN_CHART_KEYS: [&str; 4] = [
    "crd_groups",
    "cluster_kinds",
    "other_namespaces",
    "service_account",
];

/// `group/Kind` pairs as a footprint's cluster kinds.
pub fn kinds(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(g, k)| (g.to_string(), k.to_string()))
        .collect()
}

/// The PriorityClass kgen gives the pods of the add-ons the platform depends on (every
/// cluster has it; since Kubernetes 1.17 any namespace may use it).
pub const SYSTEM_CLUSTER_CRITICAL: &str = "system-cluster-critical";

/// API group of ClusterRoles, ClusterRoleBindings, Roles and RoleBindings.
pub const RBAC: &str = "rbac.authorization.k8s.io";
/// API group of CustomResourceDefinitions.
pub const APIEXTENSIONS: &str = "apiextensions.k8s.io";
/// API group of Validating- and MutatingWebhookConfigurations.
pub const ADMISSIONREGISTRATION: &str = "admissionregistration.k8s.io";

/// Helm's `trunc n | trimSuffix "-"`: the first `n` characters, less one trailing `-`.
pub fn helm_trunc(s: &str, n: usize) -> String {
    let cut: String = s.chars().take(n).collect();
    match cut.strip_suffix('-') {
        Some(trimmed) => trimmed.to_string(),
        None => cut,
    }
}

/// For presets whose charts create no custom resource of another chart's CRDs.
pub fn no_custom_resources(_: &Value) -> Vec<CustomResource> {
    Vec::new()
}

/// For presets whose values kgen has nothing more to check.
pub fn no_values_problems(_: &AddonSettings, _: &Value) -> Vec<ValuesProblem> {
    Vec::new()
}

/// A chart version as `(major, minor, patch, released)`, for ordering: a pre-release
/// (`1.6.0-rc.1`) sorts before its release. A leading `v` is ignored.
pub fn chart_version_order(v: &str) -> Option<(u64, u64, u64, bool)> {
    let v = v.strip_prefix('v').unwrap_or(v);
    let core_len = v.find(['-', '+']).unwrap_or(v.len());
    let (core, released) = (&v[..core_len], !v[core_len..].starts_with('-'));
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let (Some(Some(a)), Some(Some(b)), Some(Some(c)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some((a, b, c, released))
}

/// What a chart version needs of the cluster's Kubernetes version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KubeNeeds {
    pub min: Option<(u32, u32)>,
    pub max: Option<(u32, u32)>,
    /// Where it was read, as the diagnostic cites it.
    pub source: &'static str,
}

/// What `preset`'s chart at `version` needs of the cluster's Kubernetes version, when
/// kgen knows it: the range of [`Preset::kubernetes`] it was read in, else the
/// preset's [`Preset::min_kubernetes`] from its release on.
pub fn kube_support(preset: &Preset, version: &str) -> Option<KubeNeeds> {
    let v = chart_version_order(version)?;
    let order = |s: &str| chart_version_order(s).expect("a valid version");
    let read = preset
        .kubernetes
        .iter()
        .find(|k| order(k.first) <= v && v <= order(k.last));
    if let Some(k) = read {
        return Some(KubeNeeds {
            min: k.min,
            max: k.max,
            source: k.source,
        });
    }
    let floor = preset.min_kubernetes.filter(|m| order(m.since) <= v)?;
    Some(KubeNeeds {
        min: Some(floor.min),
        max: None,
        source: floor.source,
    })
}

/// The `<chart>.fullname` helper most charts share (without `fullnameOverride` and
/// `nameOverride`): the release name when it contains the chart's name, otherwise
/// `<release>-<chart>`, cut to 63 characters.
pub fn helm_fullname(release: &str, chart: &str) -> String {
    if release.contains(chart) {
        helm_trunc(release, 63)
    } else {
        helm_trunc(&format!("{release}-{chart}"), 63)
    }
}

/// One named object of a footprint: `(group, kind, namespace or "", name)`.
pub fn object(
    group: &str,
    kind: &str,
    namespace: &str,
    name: impl Into<String>,
) -> (String, String, String, String) {
    (
        group.to_string(),
        kind.to_string(),
        namespace.to_string(),
        name.into(),
    )
}

/// The CustomResourceDefinition `name` (`<plural>.<group>`) as a footprint object.
pub fn crd(name: &str) -> (String, String, String, String) {
    object(APIEXTENSIONS, "CustomResourceDefinition", "", name)
}

/// The user's `resources`, or kgen's default for the preset's main container.
pub fn resources_or(s: &AddonSettings, default: Value) -> Value {
    s.resources.as_ref().map_or(default, resources_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_unique_names_and_pinned_versions() {
        let mut names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PRESETS.len());
        for p in PRESETS {
            assert!(
                crate::resolve::is_chart_version(p.checked_version),
                "{}: {}",
                p.name,
                p.checked_version
            );
        }
    }

    #[test]
    fn presets_name_their_service_account_as_they_declare_it() {
        for p in PRESETS {
            if let Some(sa) = p.service_account {
                // The annotations and the name are keys of one ServiceAccount table
                // (`serviceAccount`, or `rbac.serviceAccount` for cluster-autoscaler).
                let (last, table) = sa.annotations.split_last().expect("a path");
                assert_eq!(*last, "annotations", "{}", p.name);
                assert_eq!(sa.name_path.last(), Some(&"name"), "{}", p.name);
                assert_eq!(table, &sa.name_path[..sa.name_path.len() - 1], "{}", p.name);
                // kgen's values name the ServiceAccount after the release.
                let s = AddonSettings {
                    release: "r".into(),
                    namespace: p.namespace.into(),
                    cluster: "c".into(),
                    cluster_name: Some("c".into()),
                    region: Some("eu-west-1".into()),
                    ..Default::default()
                };
                let values = (p.values)(&s);
                let at = sa.name_path.iter().fold(&values, |v, k| &v[*k]);
                assert_eq!(at, &json!(sa.name.replace("{release}", "r")), "{}", p.name);
            }
        }
    }

    #[test]
    fn required_and_recommended_settings_are_settings_the_preset_takes() {
        for p in PRESETS {
            for n in p.required.iter().chain(p.recommended) {
                assert!(p.settings.contains(&n.key), "{}: {}", p.name, n.key);
                assert!(!n.why.is_empty() && !n.why.ends_with('.'), "{}", p.name);
            }
        }
    }

    #[test]
    fn kubernetes_ranges_are_ordered_and_disjoint() {
        for p in PRESETS {
            let mut previous: Option<(u64, u64, u64, bool)> = None;
            for k in p.kubernetes {
                let first = chart_version_order(k.first).expect(k.first);
                let last = chart_version_order(k.last).expect(k.last);
                assert!(first <= last, "{}: {}..{}", p.name, k.first, k.last);
                assert!(
                    previous.is_none_or(|prev| prev < first),
                    "{}: {}",
                    p.name,
                    k.first
                );
                assert!(
                    k.min.is_some() || k.max.is_some(),
                    "{}: {}",
                    p.name,
                    k.first
                );
                assert!(!k.source.is_empty());
                previous = Some(last);
            }
        }
    }

    #[test]
    fn a_minimum_kubernetes_holds_in_the_ranges_it_covers() {
        for p in PRESETS {
            let Some(m) = p.min_kubernetes else { continue };
            let since = chart_version_order(m.since).expect(m.since);
            // Above the oldest Kubernetes kgen supports, or it would never refuse.
            assert!(m.min > crate::resolve::OLDEST_KUBERNETES, "{}", p.name);
            assert!(!m.source.is_empty());
            for k in p.kubernetes {
                if chart_version_order(k.first).expect(k.first) >= since {
                    assert!(
                        k.min.is_some_and(|min| min >= m.min),
                        "{}: {}",
                        p.name,
                        k.first
                    );
                }
            }
        }
    }

    #[test]
    fn a_minimum_kubernetes_applies_from_its_release_on() {
        let csi = preset("secrets-store-csi-driver").expect("a preset");
        let floor = |v: &str| kube_support(csi, v).and_then(|k| k.min);
        assert_eq!(floor("1.5.6"), None);
        assert_eq!(floor("1.6.0"), Some((1, 30)));
        // A release kgen did not read keeps the floor (and says nothing of a maximum).
        assert_eq!(floor("1.7.0"), Some((1, 30)));
        assert_eq!(kube_support(csi, "1.7.0").and_then(|k| k.max), None);
        assert_eq!(floor("1.6.0-rc.1"), None);
        // Ranges read at a release win over the floor.
        let karpenter = preset("karpenter").expect("a preset");
        assert_eq!(
            kube_support(karpenter, "1.5.0").and_then(|k| k.max),
            Some((1, 33))
        );
        assert_eq!(kube_support(karpenter, "1.15.0"), None);
    }

    #[test]
    fn needed_settings_name_where_the_preset_writes_them() {
        for p in PRESETS {
            let s = AddonSettings {
                release: "r".into(),
                namespace: p.namespace.into(),
                cluster: "c".into(),
                cluster_name: Some("the-cluster".into()),
                region: Some("the-region".into()),
                domain_filters: vec!["the.zone".into()],
                ..Default::default()
            };
            let values = (p.values)(&s);
            for n in p.required.iter().chain(p.recommended) {
                let want = match n.key {
                    "cluster_name" => json!("the-cluster"),
                    "region" => json!("the-region"),
                    "domain_filters" => json!(["the.zone"]),
                    other => panic!("{}: add `{other}` to this test", p.name),
                };
                let at = n.values_path.iter().fold(&values, |v, k| &v[*k]);
                assert_eq!(at, &want, "{}: {}", p.name, n.key);
            }
        }
    }

    #[test]
    fn chart_versions_order_as_semver() {
        assert_eq!(chart_version_order("1.6.0"), Some((1, 6, 0, true)));
        assert_eq!(chart_version_order("v1.21.1"), Some((1, 21, 1, true)));
        assert_eq!(chart_version_order("1.6.0-rc.1"), Some((1, 6, 0, false)));
        assert_eq!(chart_version_order("1.6.0+build.5"), Some((1, 6, 0, true)));
        assert!(chart_version_order("1.6.0-rc.1") < chart_version_order("1.6.0"));
        assert!(chart_version_order("9.9.0") < chart_version_order("9.10.0"));
        assert_eq!(chart_version_order("1.6"), None);
        assert_eq!(chart_version_order("1.6.0.1"), None);
        assert_eq!(chart_version_order("latest"), None);
    }

    #[test]
    fn helm_names_are_cut_as_helm_cuts_them() {
        assert_eq!(helm_trunc("abc", 63), "abc");
        assert_eq!(helm_trunc("ab-cd", 3), "ab");
        assert_eq!(helm_trunc("ab--cd", 4), "ab-");
        assert_eq!(
            helm_fullname("cert-manager", "cert-manager"),
            "cert-manager"
        );
        assert_eq!(
            helm_fullname("my-cert-manager-1", "cert-manager"),
            "my-cert-manager-1"
        );
        assert_eq!(helm_fullname("certs", "cert-manager"), "certs-cert-manager");
        // Cut to 63 (`<53 x>-external-`), then the trailing `-` dropped.
        let long = "x".repeat(53);
        assert_eq!(
            helm_fullname(&long, "external-secrets"),
            format!("{long}-external")
        );
        let release = "y".repeat(62);
        assert_eq!(helm_fullname(&release, "ingress-nginx"), release);
    }

    #[test]
    fn merge_is_deep() {
        let mut a = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge(&mut a, json!({"a": {"b": 3}, "d": [2]}));
        assert_eq!(a, json!({"a": {"b": 3, "c": 2}, "d": [2]}));
    }
}
