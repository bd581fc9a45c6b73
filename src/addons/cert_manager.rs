//! cert-manager (cert-manager/cert-manager, chart `cert-manager` from
//! https://charts.jetstack.io): issues and renews TLS certificates (`Certificate`,
//! `Issuer`, `ClusterIssuer`), from Let's Encrypt over ACME among others; with an IAM
//! role (IRSA or Pod Identity) its controller solves DNS-01 challenges in Route 53.
//!
//! Checked against chart v1.21.1 (tag `v1.21.1`, commit 24e33194f; the chart's sources
//! are `deploy/charts/cert-manager/`: `values.yaml`, `templates/_helpers.tpl`,
//! `rbac.yaml`, `cainjector-rbac.yaml`, `webhook-rbac.yaml`, `startupapicheck-*.yaml`,
//! `deployment.yaml`, `webhook-*.yaml`, `cainjector-*.yaml`, `poddisruptionbudget.yaml`,
//! and the six `crd-*.yaml` templates).
//!
//! - CRDs: templates gated by `crds.enabled` (the deprecated `installCRDs` still works,
//!   but the chart fails when both are set); `crds.keep` (default on) marks them
//!   `helm.sh/resource-policy: keep`, which Argo CD honours as `Delete=false`, so
//!   deleting the Application does not delete every Certificate with its CRD. The
//!   `clusterissuers` and `issuers` CRDs are about 325 kB each, over the 256 kB of
//!   client-side apply's last-applied annotation: the preset applies server-side.
//! - High availability, as the seed's platform runs it: the controller (`replicaCount`),
//!   the webhook (`webhook.replicaCount`) and the CA injector
//!   (`cainjector.replicaCount`) run 2 replicas each, with a PodDisruptionBudget each
//!   (`podDisruptionBudget`, `webhook.podDisruptionBudget`,
//!   `cainjector.podDisruptionBudget`; off in the chart). The controller and the CA
//!   injector elect a leader.
//! - `global.priorityClassName` applies to every pod of the chart;
//!   `global.nodeSelector` is merged into each component's (which default to
//!   `kubernetes.io/os: linux`); tolerations are per component (`tolerations`,
//!   `webhook.tolerations`, `cainjector.tolerations`, `startupapicheck.tolerations`).
//! - Leader election: `global.leaderElection.namespace` defaults to `kube-system`, so
//!   the chart writes the Roles and RoleBindings `<fullname>:leaderelection` and
//!   `<fullname>-cainjector:leaderelection` there. kgen keeps that default: every
//!   existing installation holds its leases there, and moving them would let old and
//!   new pods both lead during the rollout.
//! - Cluster-scoped: the ClusterRoles and ClusterRoleBindings of the controller
//!   (`<fullname>-controller-*`, `-cluster-view`, `-view`, `-edit`), the webhook
//!   (`<fullname>-webhook:subjectaccessreviews`) and the CA injector
//!   (`<fullname>-cainjector`), and the Mutating- and ValidatingWebhookConfiguration
//!   `<fullname>-webhook` (their CA bundle is injected at run time, from a Secret the
//!   webhook creates itself). No PodSecurityPolicy (`global.podSecurityPolicy` off).
//! - Pods: every container runs as non-root with `RuntimeDefault` seccomp, no
//!   privilege escalation and all capabilities dropped: `restricted`.
//! - `startupapicheck` is a `post-install` Helm hook: Argo CD runs it as a PostSync
//!   hook on every sync, checking that the webhook answers.
//! - The controller's ServiceAccount (`serviceAccount.annotations` for IRSA) is named by
//!   `serviceAccount.name`; kgen sets it to the release name, so that the IAM role's
//!   trust names it whatever the release is called (the chart's default is the
//!   fullname, which is the release name when it contains `cert-manager`).

use serde_json::{json, Value};

use super::{
    crd, helm_fullname, helm_trunc, kinds, object, resources_or, set, tolerations_value, Footprint,
    Preset, ServiceAccount, ADMISSIONREGISTRATION, APIEXTENSIONS, RBAC, SYSTEM_CLUSTER_CRITICAL,
};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "cert-manager",
    chart: "cert-manager",
    repo: "https://charts.jetstack.io",
    checked_version: "v1.21.1",
    namespace: "cert-manager",
    pod_security: PodSecurityLevel::Restricted,
    server_side_apply: true,
    // Before the AWS Load Balancer Controller (whose webhook certificate it may issue)
    // and the services (whose Certificates need its CRDs and webhook).
    wave: crate::render::argocd::bootstrap_wave::OPERATORS,
    service_account: Some(ServiceAccount {
        annotations: &["serviceAccount", "annotations"],
        name: "{release}",
        name_path: &["serviceAccount", "name"],
    }),
    settings: &[
        "replicas",
        "resources",
        "priority_class",
        "tolerations",
        "node_selector",
        "install_crds",
    ],
    required: &[],
    recommended: &[],
    kubernetes: &[],
    min_kubernetes: None,
    check_values: super::no_values_problems,
    values,
    footprint,
    custom_resources,
    render_time_fields: super::no_render_time_fields,
};

/// The chart's CRDs (`crd-*.yaml`).
const CRDS: &[&str] = &[
    "certificaterequests.cert-manager.io",
    "certificates.cert-manager.io",
    "challenges.acme.cert-manager.io",
    "clusterissuers.cert-manager.io",
    "issuers.cert-manager.io",
    "orders.acme.cert-manager.io",
];

fn values(s: &AddonSettings) -> Value {
    let replicas = s.replicas.unwrap_or(2);
    let crds = if s.install_crds.unwrap_or(true) {
        json!({ "enabled": true, "keep": true })
    } else {
        json!({ "enabled": false })
    };
    let mut v = json!({
        "crds": crds,
        "global": {
            "priorityClassName": s.priority_class.as_deref().unwrap_or(SYSTEM_CLUSTER_CRITICAL),
        },
        "serviceAccount": { "name": s.release },
        "replicaCount": replicas,
        "resources": resources_or(s, json!({ "requests": { "cpu": "10m", "memory": "64Mi" } })),
        "webhook": {
            "replicaCount": replicas,
            "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
        },
        "cainjector": {
            "replicaCount": replicas,
            "resources": { "requests": { "cpu": "10m", "memory": "64Mi" } },
        },
    });
    if replicas > 1 {
        let pdb = json!({ "enabled": true, "maxUnavailable": 1 });
        set(&mut v, &["podDisruptionBudget"], pdb.clone());
        set(&mut v, &["webhook", "podDisruptionBudget"], pdb.clone());
        set(&mut v, &["cainjector", "podDisruptionBudget"], pdb);
    }
    if !s.tolerations.is_empty() {
        let t = tolerations_value(&s.tolerations);
        set(&mut v, &["tolerations"], t.clone());
        set(&mut v, &["webhook", "tolerations"], t.clone());
        set(&mut v, &["cainjector", "tolerations"], t.clone());
        set(&mut v, &["startupapicheck", "tolerations"], t);
    }
    if !s.node_selector.is_empty() {
        set(&mut v, &["global", "nodeSelector"], json!(s.node_selector));
    }
    v
}

/// The chart's `webhook.fullname` and `cainjector.fullname`.
fn component(fullname: &str, keep: usize, suffix: &str) -> String {
    helm_trunc(&format!("{}-{suffix}", helm_trunc(fullname, keep)), 63)
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = helm_fullname(&s.release, "cert-manager");
    let webhook = component(&f, 55, "webhook");
    let cainjector = component(&f, 52, "cainjector");
    let crds = s.install_crds.unwrap_or(true);

    let mut cluster_kinds = kinds(&[
        (RBAC, "ClusterRole"),
        (RBAC, "ClusterRoleBinding"),
        (ADMISSIONREGISTRATION, "MutatingWebhookConfiguration"),
        (ADMISSIONREGISTRATION, "ValidatingWebhookConfiguration"),
    ]);
    let mut objects = Vec::new();
    if crds {
        cluster_kinds.extend(kinds(&[(APIEXTENSIONS, "CustomResourceDefinition")]));
        objects.extend(CRDS.iter().map(|n| crd(n)));
    }
    // The controller's ClusterRoles, each bound to its ServiceAccount but the
    // aggregated view/edit roles.
    let bound = [
        "controller-issuers",
        "controller-clusterissuers",
        "controller-certificates",
        "controller-orders",
        "controller-challenges",
        "controller-ingress-shim",
        "controller-approve:cert-manager-io",
        "controller-certificatesigningrequests",
    ];
    for r in bound {
        objects.push(object(RBAC, "ClusterRole", "", format!("{f}-{r}")));
        objects.push(object(RBAC, "ClusterRoleBinding", "", format!("{f}-{r}")));
    }
    for r in ["cluster-view", "view", "edit"] {
        objects.push(object(RBAC, "ClusterRole", "", format!("{f}-{r}")));
    }
    let sar = format!("{webhook}:subjectaccessreviews");
    objects.push(object(RBAC, "ClusterRole", "", sar.clone()));
    objects.push(object(RBAC, "ClusterRoleBinding", "", sar));
    objects.push(object(RBAC, "ClusterRole", "", cainjector.clone()));
    objects.push(object(RBAC, "ClusterRoleBinding", "", cainjector.clone()));
    for who in [&f, &cainjector] {
        let name = format!("{who}:leaderelection");
        objects.push(object(RBAC, "Role", "kube-system", name.clone()));
        objects.push(object(RBAC, "RoleBinding", "kube-system", name));
    }
    for kind in [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        objects.push(object(ADMISSIONREGISTRATION, kind, "", webhook.clone()));
    }
    Footprint {
        namespaces: vec!["kube-system".into()],
        cluster_kinds,
        crd_groups: if crds {
            vec!["cert-manager.io".into(), "acme.cert-manager.io".into()]
        } else {
            Vec::new()
        },
        objects,
        ..Footprint::default()
    }
}

/// With `prometheus.enabled` (on by default), a ServiceMonitor with
/// `prometheus.servicemonitor.enabled` or a PodMonitor with
/// `prometheus.podmonitor.enabled` (both off; the chart fails with both; chart
/// v1.21.1, `deploy/charts/cert-manager/templates/servicemonitor.yaml`, `podmonitor.yaml`).
fn custom_resources(values: &serde_json::Value) -> Vec<super::CustomResource> {
    if !super::helm_true(values, &["prometheus", "enabled"], true) {
        return Vec::new();
    }
    let mut out = super::service_monitor_when(values, &["prometheus", "servicemonitor", "enabled"]);
    out.extend(super::monitoring_when(
        values,
        &["prometheus", "podmonitor", "enabled"],
        "PodMonitor",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, TaintEffect, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "cert-manager".into(),
            namespace: "cert-manager".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values_run_two_of_each_with_budgets_and_crds() {
        assert_eq!(
            values(&settings()),
            json!({
                "crds": { "enabled": true, "keep": true },
                "global": { "priorityClassName": "system-cluster-critical" },
                "serviceAccount": { "name": "cert-manager" },
                "replicaCount": 2,
                "podDisruptionBudget": { "enabled": true, "maxUnavailable": 1 },
                "resources": { "requests": { "cpu": "10m", "memory": "64Mi" } },
                "webhook": {
                    "replicaCount": 2,
                    "podDisruptionBudget": { "enabled": true, "maxUnavailable": 1 },
                    "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
                },
                "cainjector": {
                    "replicaCount": 2,
                    "podDisruptionBudget": { "enabled": true, "maxUnavailable": 1 },
                    "resources": { "requests": { "cpu": "10m", "memory": "64Mi" } },
                },
            })
        );
    }

    #[test]
    fn settings_reach_every_component() {
        let s = AddonSettings {
            release: "certs".into(),
            replicas: Some(1),
            install_crds: Some(false),
            priority_class: Some("platform".into()),
            resources: Some(Resources {
                requests: CpuMem {
                    cpu: Some("50m".into()),
                    memory: None,
                },
                limits: CpuMem {
                    cpu: None,
                    memory: Some("256Mi".into()),
                },
            }),
            tolerations: vec![Toleration {
                key: Some("CriticalAddonsOnly".into()),
                operator: TolerationOperator::Exists,
                value: None,
                effect: Some(TaintEffect::NoSchedule),
                seconds: None,
            }],
            node_selector: [("role".to_string(), "system".to_string())].into(),
            ..settings()
        };
        let t =
            json!([{ "key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule" }]);
        assert_eq!(
            values(&s),
            json!({
                "crds": { "enabled": false },
                "global": { "priorityClassName": "platform", "nodeSelector": { "role": "system" } },
                "serviceAccount": { "name": "certs" },
                "replicaCount": 1,
                "resources": { "requests": { "cpu": "50m" }, "limits": { "memory": "256Mi" } },
                "tolerations": t,
                "webhook": {
                    "replicaCount": 1,
                    "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
                    "tolerations": t,
                },
                "cainjector": {
                    "replicaCount": 1,
                    "resources": { "requests": { "cpu": "10m", "memory": "64Mi" } },
                    "tolerations": t,
                },
                "startupapicheck": { "tolerations": t },
            })
        );
    }

    #[test]
    fn footprint_names_the_charts_objects() {
        let f = footprint(&settings());
        assert_eq!(f.namespaces, vec!["kube-system".to_string()]);
        assert_eq!(
            f.crd_groups,
            vec!["cert-manager.io".to_string(), "acme.cert-manager.io".into()]
        );
        assert_eq!(
            f.cluster_kinds,
            kinds(&[
                (RBAC, "ClusterRole"),
                (RBAC, "ClusterRoleBinding"),
                (ADMISSIONREGISTRATION, "MutatingWebhookConfiguration"),
                (ADMISSIONREGISTRATION, "ValidatingWebhookConfiguration"),
                (APIEXTENSIONS, "CustomResourceDefinition"),
            ])
        );
        let has = |g: &str, k: &str, ns: &str, n: &str| {
            assert!(
                f.objects.contains(&object(g, k, ns, n)),
                "{k} {ns}/{n} missing"
            );
        };
        has(
            APIEXTENSIONS,
            "CustomResourceDefinition",
            "",
            "clusterissuers.cert-manager.io",
        );
        has(RBAC, "ClusterRole", "", "cert-manager-controller-issuers");
        has(
            RBAC,
            "ClusterRoleBinding",
            "",
            "cert-manager-controller-approve:cert-manager-io",
        );
        has(RBAC, "ClusterRole", "", "cert-manager-edit");
        has(
            RBAC,
            "ClusterRoleBinding",
            "",
            "cert-manager-webhook:subjectaccessreviews",
        );
        has(RBAC, "ClusterRoleBinding", "", "cert-manager-cainjector");
        has(RBAC, "Role", "kube-system", "cert-manager:leaderelection");
        has(
            RBAC,
            "RoleBinding",
            "kube-system",
            "cert-manager-cainjector:leaderelection",
        );
        has(
            ADMISSIONREGISTRATION,
            "ValidatingWebhookConfiguration",
            "",
            "cert-manager-webhook",
        );
        // 6 CRDs, 8 bound ClusterRoles, 3 aggregated, 2 webhook, 2 cainjector,
        // 4 leader-election objects, 2 webhook configurations.
        assert_eq!(f.objects.len(), 6 + 16 + 3 + 2 + 2 + 4 + 2);
    }

    #[test]
    fn footprint_follows_the_release_name_and_crds() {
        let s = AddonSettings {
            release: "certs".into(),
            install_crds: Some(false),
            ..settings()
        };
        let f = footprint(&s);
        assert!(f.crd_groups.is_empty());
        assert!(!f
            .cluster_kinds
            .contains(&(APIEXTENSIONS.into(), "CustomResourceDefinition".into())));
        assert!(f.objects.contains(&object(
            RBAC,
            "Role",
            "kube-system",
            "certs-cert-manager:leaderelection"
        )));
        assert!(f.objects.contains(&object(
            ADMISSIONREGISTRATION,
            "MutatingWebhookConfiguration",
            "",
            "certs-cert-manager-webhook"
        )));
        assert!(f
            .objects
            .iter()
            .all(|(_, k, _, _)| k != "CustomResourceDefinition"));
    }

    #[test]
    fn long_release_names_are_cut_as_the_chart_cuts_them() {
        // 50 characters: `<release>-cert-manager` is 63, the webhook's prefix is cut to 55.
        let release = "a".repeat(50);
        let f = helm_fullname(&release, "cert-manager");
        assert_eq!(f.len(), 63);
        assert_eq!(
            component(&f, 55, "webhook"),
            format!("{}-webhook", &f[..55])
        );
        assert_eq!(
            component(&f, 52, "cainjector"),
            format!("{}-cainjector", &f[..52])
        );
    }
}
