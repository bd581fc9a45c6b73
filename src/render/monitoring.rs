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
//! - [`CHART_FOOTPRINT`]: what the chart creates outside the monitoring namespace with
//!   these values (namespaces, cluster-scoped kinds), which the AppProject admits.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use serde::Serialize;

use super::{labels, meta};
use crate::crd::monitoring::{
    Endpoint, NamespaceSelector, PrometheusRule, PrometheusRuleSpec, Rule, RuleGroup,
    ServiceMonitor, ServiceMonitorSpec,
};
use crate::render::deployment::METRICS_PORT_NAME;
use crate::spec::{EnvSpec, MonitoringSpec, PlatformSpec, ServiceSpec, WorkloadKind};

/// The stack's component name: its directory under `generated/clusters/<cluster>/` and
/// its values file `generated/values/<cluster>/monitoring.yaml`.
pub const DIR: &str = "monitoring";

/// Whether the stack's Application creates the monitoring namespace: yes, unless a
/// service of the cluster deploys into it too.
pub fn owns_namespace(platform: &PlatformSpec, cluster: &crate::spec::ClusterSpec) -> bool {
    cluster
        .monitoring
        .as_ref()
        .is_some_and(|m| super::namespace::owned_by_cluster_app(platform, cluster, &m.namespace))
}

/// kube-prometheus-stack values kgen sets. Field names are the chart's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub prometheus: PrometheusValues,
    pub grafana: GrafanaValues,
    pub alertmanager: AlertmanagerValues,
    /// The exporters whose Services the chart puts in `kube-system`
    /// (`templates/exporters/<name>/service.yaml`), each set explicitly rather than left
    /// to the chart's default: see `values` and [`CHART_FOOTPRINT`].
    pub kube_controller_manager: Toggle,
    pub kube_scheduler: Toggle,
    pub kube_etcd: Toggle,
    pub kube_dns: Toggle,
    pub core_dns: Toggle,
    pub kube_proxy: Toggle,
}

/// `<component>: {enabled: ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Toggle {
    pub enabled: bool,
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
    /// `Recreate`: Grafana's one pod holds a ReadWriteOnce claim (an EBS volume,
    /// attached to one node at a time), and the chart's default `RollingUpdate`
    /// (charts/grafana/values.yaml `deploymentStrategy`) starts the new pod before it
    /// stops the old one: scheduled on another node, it would wait on the volume's
    /// Multi-Attach error, and the rollout with it.
    pub deployment_strategy: Strategy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strategy {
    #[serde(rename = "type")]
    pub type_: String,
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
    let on = |enabled| Toggle { enabled };
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
            deployment_strategy: Strategy {
                type_: "Recreate".into(),
            },
        },
        alertmanager: AlertmanagerValues {
            enabled: true,
            alertmanager_spec: AlertmanagerSpec {
                replicas: m.alertmanager_replicas,
                storage: volume(m, &m.alertmanager_storage),
            },
        },
        // The exporters whose Services go to `kube-system`, on a managed EKS control plane:
        // AWS runs the controller manager, scheduler and etcd outside the cluster (no pods
        // to select; the chart's KubeControllerManagerDown/KubeSchedulerDown alerts, gated
        // on these keys, would fire forever); EKS runs CoreDNS, not kube-dns; CoreDNS and
        // kube-proxy run as pods in kube-system, and are worth watching. What stays on is
        // in CHART_FOOTPRINT, and the AppProject admits it.
        kube_controller_manager: on(false),
        kube_scheduler: on(false),
        kube_etcd: on(false),
        kube_dns: on(false),
        core_dns: on(true),
        kube_proxy: on(true),
    }
}

/// What kube-prometheus-stack creates outside its release namespace, with the values
/// `values` writes: the facts the AppProject (`argocd::app_project`) admits, and nothing
/// else. Read from the chart at `chart_version` and checked by rendering it:
/// `scripts/check-monitoring-chart.py` renders the real chart with kgen's values.yaml and
/// compares with tests/fixtures/monitoring/kube-prometheus-stack-<version>.txt, which
/// `cargo test` compares with this list. Object names assume the release name
/// `kube-prometheus-stack` (`argocd::MONITORING_CHART`).
pub struct ChartFootprint {
    /// The chart version the facts hold for (the one platform.toml pins).
    pub chart_version: &'static str,
    /// Every object outside the release namespace: cluster-scoped, or in another namespace.
    pub objects: &'static [ChartObject],
}

/// One object of [`ChartFootprint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartObject {
    /// `None`: cluster-scoped.
    pub namespace: Option<&'static str>,
    /// API group (`""` for the core group).
    pub group: &'static str,
    pub kind: &'static str,
    pub name: &'static str,
    /// The file in the chart that renders it.
    pub template: &'static str,
    /// `helm.sh/hook`, if it is a Helm hook. Argo CD runs pre/post-install and -upgrade
    /// hooks as PreSync/PostSync hooks, checked against the project like everything else;
    /// hooks it cannot map (the Grafana subchart's `test` Pod, ConfigMap and
    /// ServiceAccount) it never applies, so they are not listed.
    pub hook: Option<&'static str>,
}

impl ChartObject {
    /// `<namespace or -> <Kind.group> <name> <template>[ hook=<hooks>]`: one line of the
    /// fixture `scripts/check-monitoring-chart.py` writes.
    pub fn line(&self) -> String {
        let kind = if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        let mut line = format!(
            "{} {kind} {} {}",
            self.namespace.unwrap_or("-"),
            self.name,
            self.template
        );
        if let Some(hook) = self.hook {
            line.push_str(&format!(" hook={hook}"));
        }
        line
    }
}

impl ChartFootprint {
    /// Every namespace the chart writes into: the release namespace (the monitoring
    /// namespace) and the others of `objects`.
    pub fn namespaces(&self, m: &MonitoringSpec) -> BTreeSet<String> {
        let mut ns: BTreeSet<String> = self
            .objects
            .iter()
            .filter_map(|o| o.namespace.map(str::to_string))
            .collect();
        ns.insert(m.namespace.clone());
        ns
    }

    /// The API groups of the CRDs the chart installs (`monitoring.coreos.com`).
    pub fn crd_groups(&self) -> BTreeSet<&'static str> {
        self.objects
            .iter()
            .filter(|o| o.kind == "CustomResourceDefinition")
            .filter_map(|o| o.name.split_once('.').map(|(_, group)| group))
            .collect()
    }

    /// The cluster-scoped kinds the chart creates, as `(group, kind)`.
    pub fn cluster_kinds(&self) -> BTreeSet<(&'static str, &'static str)> {
        self.objects
            .iter()
            .filter(|o| o.namespace.is_none())
            .map(|o| (o.group, o.kind))
            .collect()
    }
}

const RBAC: &str = "rbac.authorization.k8s.io";
const ADMISSION: &str = "admissionregistration.k8s.io";
const CRD_GROUP: &str = "apiextensions.k8s.io";
/// The RBAC of the admission webhook's certificate Jobs is a Helm hook
/// (`templates/prometheus-operator/admission-webhooks/job-patch/`).
const WEBHOOK_JOB_HOOK: Option<&str> = Some("pre-install,pre-upgrade,post-install,post-upgrade");

const fn cluster(
    group: &'static str,
    kind: &'static str,
    name: &'static str,
    template: &'static str,
) -> ChartObject {
    ChartObject {
        namespace: None,
        group,
        kind,
        name,
        template,
        hook: None,
    }
}

const fn crd(name: &'static str, template: &'static str) -> ChartObject {
    cluster(CRD_GROUP, "CustomResourceDefinition", name, template)
}

/// kube-prometheus-stack 77.0.0 (prometheus-community/helm-charts commit 879e78b, with its
/// dependencies kube-state-metrics 6.1.4, prometheus-node-exporter 4.47.3, grafana 9.3.4;
/// prometheus-windows-exporter is off by default) with the values `values` writes:
///
/// - namespaced objects go to the release namespace (`kube-prometheus-stack.namespace`:
///   `namespaceOverride` is unset), except the exporter Services of
///   `templates/exporters/{core-dns,kube-proxy}/service.yaml`, which name `kube-system`.
///   (The controller-manager, scheduler and etcd Services, and their optional Endpoints,
///   would too: `values` turns them off. The ServiceMonitors stay in the release
///   namespace while `prometheus.prometheusSpec.ignoreNamespaceSelectors` is false, the
///   default.)
/// - The kubelet Service and Endpoints in `kube-system`
///   (`prometheusOperator.kubeletService`, on by default) are not rendered by the chart:
///   the operator creates and updates them at run time (`--kubelet-service`), so Argo CD
///   neither applies nor tracks them, and the project need not admit them.
/// - cluster-scoped: the CRDs (`charts/crds/crds/`, `crds.enabled`; Argo CD renders with
///   CRDs included), ClusterRoles and ClusterRoleBindings (operator, Prometheus, the
///   admission webhook's Jobs, kube-state-metrics, Grafana's sidecar), and the operator's
///   Mutating/ValidatingWebhookConfiguration. No PodSecurityPolicy (Grafana renders one
///   only where `policy/v1beta1` exists, gone since Kubernetes 1.25, the chart's minimum),
///   no PriorityClass; prometheus-node-exporter renders no cluster-scoped object by
///   default. `crds.upgradeJob` and `global.rbac.createAggregateClusterRoles` are off.
pub const CHART_FOOTPRINT: ChartFootprint = ChartFootprint {
    chart_version: "77.0.0",
    objects: &[
        ChartObject {
            hook: WEBHOOK_JOB_HOOK,
            ..cluster(RBAC, "ClusterRole", "kube-prometheus-stack-admission", "templates/prometheus-operator/admission-webhooks/job-patch/clusterrole.yaml")
        },
        cluster(RBAC, "ClusterRole", "kube-prometheus-stack-grafana-clusterrole", "charts/grafana/templates/clusterrole.yaml"),
        cluster(RBAC, "ClusterRole", "kube-prometheus-stack-kube-state-metrics", "charts/kube-state-metrics/templates/role.yaml"),
        cluster(RBAC, "ClusterRole", "kube-prometheus-stack-operator", "templates/prometheus-operator/clusterrole.yaml"),
        cluster(RBAC, "ClusterRole", "kube-prometheus-stack-prometheus", "templates/prometheus/clusterrole.yaml"),
        ChartObject {
            hook: WEBHOOK_JOB_HOOK,
            ..cluster(RBAC, "ClusterRoleBinding", "kube-prometheus-stack-admission", "templates/prometheus-operator/admission-webhooks/job-patch/clusterrolebinding.yaml")
        },
        cluster(RBAC, "ClusterRoleBinding", "kube-prometheus-stack-grafana-clusterrolebinding", "charts/grafana/templates/clusterrolebinding.yaml"),
        cluster(RBAC, "ClusterRoleBinding", "kube-prometheus-stack-kube-state-metrics", "charts/kube-state-metrics/templates/clusterrolebinding.yaml"),
        cluster(RBAC, "ClusterRoleBinding", "kube-prometheus-stack-operator", "templates/prometheus-operator/clusterrolebinding.yaml"),
        cluster(RBAC, "ClusterRoleBinding", "kube-prometheus-stack-prometheus", "templates/prometheus/clusterrolebinding.yaml"),
        crd("alertmanagerconfigs.monitoring.coreos.com", "charts/crds/crds/crd-alertmanagerconfigs.yaml"),
        crd("alertmanagers.monitoring.coreos.com", "charts/crds/crds/crd-alertmanagers.yaml"),
        crd("podmonitors.monitoring.coreos.com", "charts/crds/crds/crd-podmonitors.yaml"),
        crd("probes.monitoring.coreos.com", "charts/crds/crds/crd-probes.yaml"),
        crd("prometheusagents.monitoring.coreos.com", "charts/crds/crds/crd-prometheusagents.yaml"),
        crd("prometheuses.monitoring.coreos.com", "charts/crds/crds/crd-prometheuses.yaml"),
        crd("prometheusrules.monitoring.coreos.com", "charts/crds/crds/crd-prometheusrules.yaml"),
        crd("scrapeconfigs.monitoring.coreos.com", "charts/crds/crds/crd-scrapeconfigs.yaml"),
        crd("servicemonitors.monitoring.coreos.com", "charts/crds/crds/crd-servicemonitors.yaml"),
        crd("thanosrulers.monitoring.coreos.com", "charts/crds/crds/crd-thanosrulers.yaml"),
        cluster(ADMISSION, "MutatingWebhookConfiguration", "kube-prometheus-stack-admission", "templates/prometheus-operator/admission-webhooks/mutatingWebhookConfiguration.yaml"),
        cluster(ADMISSION, "ValidatingWebhookConfiguration", "kube-prometheus-stack-admission", "templates/prometheus-operator/admission-webhooks/validatingWebhookConfiguration.yaml"),
        ChartObject {
            namespace: Some("kube-system"),
            group: "",
            kind: "Service",
            name: "kube-prometheus-stack-coredns",
            template: "templates/exporters/core-dns/service.yaml",
            hook: None,
        },
        ChartObject {
            namespace: Some("kube-system"),
            group: "",
            kind: "Service",
            name: "kube-prometheus-stack-kube-proxy",
            template: "templates/exporters/kube-proxy/service.yaml",
            hook: None,
        },
    ],
};

/// The monitoring namespace. Privileged: node-exporter uses the host's network and PID namespace.
pub fn namespace(platform: &PlatformSpec, m: &MonitoringSpec) -> Namespace {
    let mut l = labels::platform(platform);
    l.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "privileged".into(),
    );
    l.insert("kubernetes.io/metadata.name".into(), m.namespace.clone());
    let mut ns = Namespace {
        metadata: super::with_wave(meta(&m.namespace, None, l), super::wave::NAMESPACE),
        ..Default::default()
    };
    super::namespace::waive_privileged(
        &mut ns,
        "kube-prometheus-stack's node-exporter uses the host's network, PID namespace and filesystem",
    );
    ns
}

/// Scrapes the service's metrics port and path, each pod once.
///
/// How the Prometheus Operator reads a ServiceMonitor (prometheus-operator
/// `pkg/prometheus/promcfg.go`, `generateServiceMonitorConfig`, at commit 6adcebc5): its
/// `selector` becomes relabelings on the labels of the Services of the namespace
/// (`matchLabels` a `keep`, `matchExpressions` `DoesNotExist` a `drop` on
/// `__meta_kubernetes_service_labelpresent_<key>`), and each `endpoints[].port` keeps
/// the endpoints whose *Service* port has that name (`__meta_kubernetes_endpoint_port_name`,
/// or `..._endpointslice_port_name`). Every selected Service's endpoints are targets
/// of their own, labelled with that Service's name (`service`, `job`). A StatefulSet's
/// pods are behind two Services with the same labels and ports: the ClusterIP Service
/// and the headless one (which lists not-ready pods too, `publishNotReadyAddresses`).
/// Selecting by the pod labels alone would scrape every pod twice, as two series. So
/// while the ClusterIP Service exists the selector leaves out the Service labelled
/// `kgen.dev/headless` ([`labels::HEADLESS`]); without it (`service.enabled = false`)
/// the headless Service is the only one, and is scraped. Taking the `metrics` port off
/// the headless Service would not do: with `metrics.port` left at `port`, the scraped
/// port is `http`, which the headless Service keeps. kgen writes no PodMonitor.
///
/// The Services are selected by [`labels::objects_of`], not by the pods' selector:
/// Argo CD's label tracking rewrites `app.kubernetes.io/instance` on the Services (not
/// on the pods), and a selector with it would select nothing there.
pub fn service_monitor(platform: &PlatformSpec, svc: &ServiceSpec) -> Option<ServiceMonitor> {
    let metrics = svc.metrics.as_ref()?;
    let port = if metrics.port == svc.port {
        svc.port_name.as_str()
    } else {
        METRICS_PORT_NAME
    };
    // A service can sync before the Prometheus Operator CRDs exist.
    let m = super::skipping_dry_run(meta(
        &svc.name,
        Some(&svc.namespace),
        labels::service(platform, svc),
    ));
    Some(ServiceMonitor::new(
        m,
        ServiceMonitorSpec {
            selector: LabelSelector {
                match_labels: Some(labels::objects_of(svc)),
                match_expressions: (svc.kind() == WorkloadKind::Statefulset
                    && svc.service.is_some())
                .then(|| {
                    vec![LabelSelectorRequirement {
                        key: labels::HEADLESS.into(),
                        operator: "DoesNotExist".into(),
                        values: None,
                    }]
                }),
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
    // What "not running as it should" means for each kind, from kube-state-metrics.
    let sel = |label: &str| format!("{{namespace=\"{ns}\", {label}=\"{name}\"}}");
    let availability = match svc.kind() {
        WorkloadKind::Deployment | WorkloadKind::Worker => Some(Rule::alert(
            "KgenDeploymentReplicasUnavailable",
            format!("kube_deployment_status_replicas_unavailable{} > 0", sel("deployment")),
            "10m",
            "warning",
            format!("{name} in {} has unavailable replicas", env.name),
        )),
        WorkloadKind::Statefulset => Some(Rule::alert(
            "KgenStatefulSetReplicasNotReady",
            format!(
                "kube_statefulset_status_replicas_ready{s} < kube_statefulset_replicas{s}",
                s = sel("statefulset")
            ),
            "10m",
            "warning",
            format!("{name} in {} has replicas that are not ready", env.name),
        )),
        WorkloadKind::Daemonset => Some(Rule::alert(
            "KgenDaemonSetPodsUnavailable",
            format!("kube_daemonset_status_number_unavailable{} > 0", sel("daemonset")),
            "10m",
            "warning",
            format!("{name} in {} has nodes without a running pod", env.name),
        )),
        // A Job has failed when it carries the condition `Failed=True` (its retries are
        // used up, or its deadline passed), not when one of its pods failed: a Job whose
        // retry succeeded keeps `status.failed > 0` (`kube_job_status_failed`, "the number
        // of pods which reached Phase Failed") for as long as it is kept. kube-state-metrics
        // `internal/store/job.go` (family `kube_job_failed`, at commit c92fe0c5) writes,
        // for a Job's `Failed` condition, one series per status with the labels
        // `namespace`, `job_name` and `condition` ("true", "false", "unknown";
        // `addConditionMetrics` in `internal/store/utils.go`), 1 for the condition's
        // status and 0 for the others; `kube_job_owner` (same file) carries `owner_kind`
        // and `owner_name` on the same `namespace` and `job_name`.
        // A Job's name carries a hash of its template (or is the service's, for a hook);
        // a CronJob's runs are named `<cronjob>-<time>`: match them by owner.
        WorkloadKind::Job => Some(Rule::alert(
            "KgenJobFailed",
            format!(
                "kube_job_failed{{namespace=\"{ns}\", job_name=~\"{name}(-[0-9a-f]{{8}})?\", condition=\"true\"}} > 0"
            ),
            "0m",
            "warning",
            format!("job {name} in {} failed", env.name),
        )),
        WorkloadKind::Cronjob => Some(Rule::alert(
            "KgenCronJobFailed",
            format!(
                "kube_job_failed{{namespace=\"{ns}\", condition=\"true\"}} * on (namespace, job_name) group_left(owner_name) kube_job_owner{{namespace=\"{ns}\", owner_kind=\"CronJob\", owner_name=\"{name}\"}} > 0"
            ),
            "0m",
            "warning",
            format!("a run of cronjob {name} in {} failed", env.name),
        )),
    };
    let mut rules: Vec<Rule> = availability.into_iter().collect();
    rules.push(Rule::alert(
        "KgenContainerRestartLoop",
        format!("increase(kube_pod_container_status_restarts_total{{namespace=\"{ns}\", container=\"{name}\"}}[15m]) > 3"),
        "5m",
        "warning",
        format!("{name} in {} is restarting repeatedly", env.name),
    ));
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
    // A service can sync before the Prometheus Operator CRDs exist.
    let m = super::skipping_dry_run(meta(name, Some(ns), labels::service(platform, svc)));
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
