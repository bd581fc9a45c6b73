//! Monitoring: kube-prometheus-stack per cluster, and per-service scraping and alerts.
//!
//! - `generated/values/<cluster>/monitoring.yaml`: Helm values for the chart, built from
//!   the typed `Values` struct below (not a free-form map): retention, replicas, volumes
//!   on the platform's StorageClass, Grafana persistence, Alertmanager, and selectors
//!   that pick up ServiceMonitors and PrometheusRules from every namespace, not only the
//!   chart's own release. Not a Kubernetes object, so not under a directory Argo CD
//!   applies.
//! - `generated/clusters/<cluster>/monitoring/namespace.yaml`: the monitoring namespace
//!   (privileged: node-exporter needs host access), unless a service shares it (then
//!   the cluster's namespaces Application creates it).
//! - `generated/<env>/<service>/servicemonitor.yaml` for services with `metrics`, and
//!   `prometheusrule.yaml` for every service: they live and die with the service's
//!   Application.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use super::{labels, meta};
use crate::crd::monitoring::{
    Endpoint, NamespaceSelector, PrometheusRule, PrometheusRuleSpec, Rule, RuleGroup,
    ServiceMonitor, ServiceMonitorSpec,
};
use crate::render::deployment::{CONTAINER_PORT_NAME, METRICS_PORT_NAME};
use crate::spec::{EnvSpec, MonitoringSpec, PlatformSpec, ServiceSpec};

/// The stack's component name: its directory under `generated/clusters/<cluster>/` and
/// its values file `generated/values/<cluster>/monitoring.yaml`.
pub const DIR: &str = "monitoring";

/// Cluster-scoped kinds the chart creates with the values kgen writes (group, kind).
pub const CHART_CLUSTER_KINDS: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
];

/// Namespaces the chart writes objects into with the values kgen writes.
pub fn chart_namespaces(m: &MonitoringSpec) -> Vec<&str> {
    vec![m.namespace.as_str()]
}

/// API groups of the CRDs the chart installs (the Prometheus Operator's).
pub const CHART_CRD_GROUPS: &[&str] = &["monitoring.coreos.com"];

/// Whether the stack's Application creates the monitoring namespace: yes, unless a
/// service of the cluster deploys into it too.
pub fn owns_namespace(platform: &PlatformSpec, cluster: &crate::spec::ClusterSpec) -> bool {
    cluster.monitoring.as_ref().is_some_and(|m| {
        !platform
            .environments_on(&cluster.name)
            .any(|e| e.services.iter().any(|s| s.namespace == m.namespace))
    })
}
/// Lets a service's Application sync before the Prometheus Operator CRDs exist.
const SKIP_DRY_RUN: (&str, &str) = (
    "argocd.argoproj.io/sync-options",
    "SkipDryRunOnMissingResource=true",
);

/// kube-prometheus-stack values kgen sets. Field names are the chart's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub prometheus: PrometheusValues,
    pub grafana: GrafanaValues,
    pub alertmanager: AlertmanagerValues,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusValues {
    pub prometheus_spec: PrometheusSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSpec {
    pub replicas: u32,
    pub retention: String,
    /// `false`: select ServiceMonitors/PodMonitors/rules/probes of every release, not only the chart's.
    pub service_monitor_selector_nil_uses_helm_values: bool,
    pub pod_monitor_selector_nil_uses_helm_values: bool,
    pub rule_selector_nil_uses_helm_values: bool,
    pub probe_selector_nil_uses_helm_values: bool,
    pub storage_spec: StorageSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageSpec {
    pub volume_claim_template: VolumeClaimTemplate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeClaimTemplate {
    pub spec: VolumeClaimSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeClaimSpec {
    pub storage_class_name: String,
    pub access_modes: Vec<String>,
    pub resources: StorageResources,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageResources {
    pub requests: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaValues {
    pub persistence: GrafanaPersistence,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaPersistence {
    pub enabled: bool,
    #[serde(rename = "type")]
    pub type_: String,
    pub storage_class_name: String,
    pub access_modes: Vec<String>,
    pub size: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerValues {
    pub enabled: bool,
    pub alertmanager_spec: AlertmanagerSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerSpec {
    pub replicas: u32,
    pub storage: StorageSpec,
}

fn volume(m: &MonitoringSpec, size: &str) -> StorageSpec {
    StorageSpec {
        volume_claim_template: VolumeClaimTemplate {
            spec: VolumeClaimSpec {
                storage_class_name: m.storage_class.clone(),
                access_modes: vec!["ReadWriteOnce".into()],
                resources: StorageResources {
                    requests: BTreeMap::from([("storage".to_string(), size.to_string())]),
                },
            },
        },
    }
}

pub fn values(m: &MonitoringSpec) -> Values {
    Values {
        prometheus: PrometheusValues {
            prometheus_spec: PrometheusSpec {
                replicas: m.prometheus_replicas,
                retention: m.retention.clone(),
                service_monitor_selector_nil_uses_helm_values: false,
                pod_monitor_selector_nil_uses_helm_values: false,
                rule_selector_nil_uses_helm_values: false,
                probe_selector_nil_uses_helm_values: false,
                storage_spec: volume(m, &m.prometheus_storage),
            },
        },
        grafana: GrafanaValues {
            persistence: GrafanaPersistence {
                enabled: true,
                type_: "pvc".into(),
                storage_class_name: m.storage_class.clone(),
                access_modes: vec!["ReadWriteOnce".into()],
                size: m.grafana_storage.clone(),
            },
        },
        alertmanager: AlertmanagerValues {
            enabled: true,
            alertmanager_spec: AlertmanagerSpec {
                replicas: m.alertmanager_replicas,
                storage: volume(m, &m.alertmanager_storage),
            },
        },
    }
}

/// The monitoring namespace. Privileged: node-exporter uses the host's network and PID namespace.
pub fn namespace(platform: &PlatformSpec, m: &MonitoringSpec) -> Namespace {
    let mut l = labels::platform(platform);
    l.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "privileged".into(),
    );
    l.insert("kubernetes.io/metadata.name".into(), m.namespace.clone());
    Namespace {
        metadata: super::with_wave(meta(&m.namespace, None, l), super::wave::NAMESPACE),
        ..Default::default()
    }
}

/// Scrapes the service's metrics port and path.
pub fn service_monitor(platform: &PlatformSpec, svc: &ServiceSpec) -> Option<ServiceMonitor> {
    let metrics = svc.metrics.as_ref()?;
    let port = if metrics.port == svc.port {
        CONTAINER_PORT_NAME
    } else {
        METRICS_PORT_NAME
    };
    let mut m = meta(
        &svc.name,
        Some(&svc.namespace),
        labels::service(platform, svc),
    );
    m.annotations = Some(BTreeMap::from([(
        SKIP_DRY_RUN.0.into(),
        SKIP_DRY_RUN.1.into(),
    )]));
    Some(ServiceMonitor::new(
        m,
        ServiceMonitorSpec {
            selector: LabelSelector {
                match_labels: Some(labels::selector(svc)),
                ..Default::default()
            },
            namespace_selector: Some(NamespaceSelector {
                match_names: vec![svc.namespace.clone()],
                ..Default::default()
            }),
            endpoints: vec![Endpoint {
                port: Some(port.into()),
                path: Some(metrics.path.clone()),
                interval: Some(metrics.interval.clone()),
                ..Default::default()
            }],
        },
    ))
}

/// Alerts every service gets, from kube-state-metrics: replicas unavailable, restart
/// loops, and (with an HPA) autoscaling pinned at its maximum.
pub fn prometheus_rule(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
) -> PrometheusRule {
    let ns = &svc.namespace;
    let name = &svc.name;
    let mut rules = vec![
        Rule::alert(
            "KgenDeploymentReplicasUnavailable",
            format!("kube_deployment_status_replicas_unavailable{{namespace=\"{ns}\", deployment=\"{name}\"}} > 0"),
            "10m",
            "warning",
            format!("{name} in {} has unavailable replicas", env.name),
        ),
        Rule::alert(
            "KgenContainerRestartLoop",
            format!("increase(kube_pod_container_status_restarts_total{{namespace=\"{ns}\", container=\"{name}\"}}[15m]) > 3"),
            "5m",
            "warning",
            format!("{name} in {} is restarting repeatedly", env.name),
        ),
    ];
    if svc.autoscaling.is_some() {
        rules.push(Rule::alert(
            "KgenHpaPinnedAtMax",
            format!(
                "kube_horizontalpodautoscaler_status_current_replicas{{namespace=\"{ns}\", horizontalpodautoscaler=\"{name}\"}} >= kube_horizontalpodautoscaler_spec_max_replicas{{namespace=\"{ns}\", horizontalpodautoscaler=\"{name}\"}}"
            ),
            "15m",
            "warning",
            format!("{name} in {} has run at its autoscaling maximum for 15 minutes", env.name),
        ));
    }
    for r in &mut rules {
        r.labels.insert("service".into(), name.clone());
        r.labels.insert("environment".into(), env.name.clone());
        r.annotations.insert(
            "description".into(),
            format!(
                "Alert generated by kgen for {name} (namespace {ns}, environment {})",
                env.name
            ),
        );
    }
    let mut m = meta(name, Some(ns), labels::service(platform, svc));
    m.annotations = Some(BTreeMap::from([(
        SKIP_DRY_RUN.0.into(),
        SKIP_DRY_RUN.1.into(),
    )]));
    PrometheusRule::new(
        m,
        PrometheusRuleSpec {
            groups: vec![RuleGroup {
                name: format!("{name}.rules"),
                rules,
            }],
        },
    )
}
