//! The External Secrets Operator (external-secrets/external-secrets, chart
//! `external-secrets` from https://charts.external-secrets.io): turns `ExternalSecret`s
//! into Kubernetes Secrets read from AWS Secrets Manager or SSM Parameter Store through
//! a (Cluster)SecretStore; with an IAM role (IRSA or Pod Identity) on its controller, a
//! ClusterSecretStore needs no credentials of its own. kgen's
//! `secrets_backend = "external-secrets"` writes the ExternalSecrets.
//!
//! Checked against chart 2.9.0 (tag `helm-chart-2.9.0`, commit cc5bfbc22, operator
//! v2.9.0; `deploy/charts/external-secrets/`: `values.yaml`, `templates/_helpers.tpl`,
//! `deployment.yaml`, `rbac.yaml`, `webhook-*.yaml`, `cert-controller-*.yaml`,
//! `validatingwebhook.yaml`, `poddisruptionbudget.yaml`, `serviceaccount.yaml`,
//! `templates/crds/README.md`; and `hack/helm.generate.sh` with `deploy/crds/bundle.yaml`,
//! from which the CRD templates are generated when the chart is packaged).
//!
//! - CRDs: `installCRDs` (default on), 25 CRDs in `external-secrets.io` (ExternalSecret,
//!   SecretStore, ClusterSecretStore, ClusterExternalSecret, PushSecret,
//!   ClusterPushSecret) and `generators.external-secrets.io` (19 generators), each also
//!   behind its `crds.create*` flag (all on). `secretstores` and `clustersecretstores`
//!   are 690 kB each: the preset applies server-side. The CRDs serve `v1` only
//!   (`crds.unsafeServeV1Beta1` is off): ExternalSecrets must be `external-secrets.io/v1`.
//! - The controller (`replicaCount`) does not elect a leader unless `leaderElect` is on
//!   (off in the chart): kgen turns it on and runs 2 replicas with a
//!   PodDisruptionBudget (`podDisruptionBudget: {enabled, maxUnavailable: 1}`). The
//!   webhook (`webhook.replicaCount`) validates every SecretStore, ClusterSecretStore
//!   and ExternalSecret write (`failurePolicy: Fail`): 2 replicas with a budget too. The
//!   cert-controller, which keeps the webhook's certificate in the Secret
//!   `<fullname>-webhook` and its `caBundle` current, stays at 1 (the chart passes it
//!   `--enable-leader-election` from the same `leaderElect`: helm-chart-2.9.0
//!   `cert-controller-deployment.yaml`).
//! - `priorityClassName`, `webhook.priorityClassName`, `certController.priorityClassName`:
//!   kgen's default `system-cluster-critical` (services wait for their Secrets).
//!   `global.tolerations` and `global.nodeSelector` apply to every component that sets
//!   none of its own. `resources` is the controller's; the webhook and cert-controller
//!   get kgen's requests (`webhook.resources`, `certController.resources`).
//! - Cluster-scoped: the ClusterRoles `<fullname>-controller`, `-view`, `-edit`,
//!   `-servicebindings`, `-cert-controller`, the ClusterRoleBindings
//!   `<fullname>-controller` and `<fullname>-cert-controller`, the
//!   ValidatingWebhookConfigurations `secretstore-validate` and `externalsecret-validate`
//!   (fixed names: one release per cluster), and the CRDs. Nothing in another namespace.
//! - Pods: non-root (1000), read-only, no privilege escalation, all capabilities
//!   dropped, `RuntimeDefault` seccomp: `restricted`.
//! - The controller's ServiceAccount (`serviceAccount.annotations` for IRSA) is named by
//!   `serviceAccount.name`, which kgen sets to the release name (the chart's default is
//!   the fullname); the webhook's and cert-controller's keep their fixed names
//!   (`external-secrets-webhook`, `external-secrets-cert-controller`) and need no role.

use serde_json::{json, Value};

use super::{
    crd, helm_fullname, kinds, object, resources_or, set, tolerations_value, Footprint, Preset,
    ServiceAccount, ADMISSIONREGISTRATION, APIEXTENSIONS, RBAC, SYSTEM_CLUSTER_CRITICAL,
};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "external-secrets",
    chart: "external-secrets",
    repo: "https://charts.external-secrets.io",
    checked_version: "2.9.0",
    namespace: "external-secrets",
    pod_security: PodSecurityLevel::Restricted,
    server_side_apply: true,
    // Its CRDs and webhook before the services' ExternalSecrets.
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

/// The first chart whose CRDs no longer serve `external-secrets.io/v1beta1`
/// (ExternalSecret, ClusterSecretStore, ...): `deploy/crds/bundle.yaml` marks v1beta1
/// `served: true` up to helm-chart-0.16.2 and `served: false` from helm-chart-0.17.0
/// (commit 8c022d3) on, through 2.9.0.
pub const V1BETA1_UNSERVED_SINCE: &str = "0.17.0";

/// The first chart whose CRDs serve `external-secrets.io/v1`: `deploy/crds/bundle.yaml`
/// has only `v1alpha1` and `v1beta1` at helm-chart-0.15.1, and `v1` from
/// helm-chart-0.16.0 on (charts review 25).
pub const V1_SERVED_SINCE: &str = "0.16.0";

/// Whether the chart at `version` serves `external-secrets.io/v1`; `None` for a version
/// that does not parse.
pub fn serves_v1(version: &str) -> Option<bool> {
    let v = super::chart_version_order(version)?;
    Some(v >= super::chart_version_order(V1_SERVED_SINCE).expect("a valid version"))
}

/// The first chart whose values can serve v1beta1 again, `crds.unsafeServeV1Beta1`
/// (templated into the CRDs by `hack/helm.generate.sh`): helm-chart-1.3.1; 1.2.1 has no
/// such value. Its comment says it is deprecated and will be removed.
pub const UNSAFE_SERVE_V1BETA1_SINCE: &str = "1.3.1";

/// Whether the chart at `version`, with these final values, serves
/// `external-secrets.io/v1beta1`; `None` for a version that does not parse.
pub fn serves_v1beta1(version: &str, values: &Value) -> Option<bool> {
    let v = super::chart_version_order(version)?;
    let at = |s: &str| super::chart_version_order(s).expect("a valid version");
    if v < at(V1BETA1_UNSERVED_SINCE) {
        return Some(true);
    }
    Some(
        v >= at(UNSAFE_SERVE_V1BETA1_SINCE)
            && values.pointer("/crds/unsafeServeV1Beta1") == Some(&Value::Bool(true)),
    )
}

/// The CRDs of `deploy/crds/bundle.yaml`.
const CRDS: &[&str] = &[
    "clusterexternalsecrets.external-secrets.io",
    "clusterpushsecrets.external-secrets.io",
    "clustersecretstores.external-secrets.io",
    "externalsecrets.external-secrets.io",
    "pushsecrets.external-secrets.io",
    "secretstores.external-secrets.io",
    "acraccesstokens.generators.external-secrets.io",
    "beyondtrustworkloadcredentialsdynamicsecrets.generators.external-secrets.io",
    "cloudsmithaccesstokens.generators.external-secrets.io",
    "clustergenerators.generators.external-secrets.io",
    "ecrauthorizationtokens.generators.external-secrets.io",
    "fakes.generators.external-secrets.io",
    "gcraccesstokens.generators.external-secrets.io",
    "generatorstates.generators.external-secrets.io",
    "githubaccesstokens.generators.external-secrets.io",
    "gitlabdeploytokens.generators.external-secrets.io",
    "grafanas.generators.external-secrets.io",
    "mfas.generators.external-secrets.io",
    "passwords.generators.external-secrets.io",
    "quayaccesstokens.generators.external-secrets.io",
    "sshkeys.generators.external-secrets.io",
    "stssessiontokens.generators.external-secrets.io",
    "uuids.generators.external-secrets.io",
    "vaultdynamicsecrets.generators.external-secrets.io",
    "webhooks.generators.external-secrets.io",
];

fn values(s: &AddonSettings) -> Value {
    let replicas = s.replicas.unwrap_or(2);
    let priority = s
        .priority_class
        .as_deref()
        .unwrap_or(SYSTEM_CLUSTER_CRITICAL);
    let mut v = json!({
        "installCRDs": s.install_crds.unwrap_or(true),
        "replicaCount": replicas,
        "leaderElect": true,
        "priorityClassName": priority,
        "resources": resources_or(s, json!({ "requests": { "cpu": "10m", "memory": "64Mi" } })),
        "serviceAccount": { "name": s.release },
        "webhook": {
            "replicaCount": replicas,
            "priorityClassName": priority,
            "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
        },
        "certController": {
            "priorityClassName": priority,
            "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
        },
    });
    if replicas > 1 {
        let pdb = json!({ "enabled": true, "maxUnavailable": 1 });
        set(&mut v, &["podDisruptionBudget"], pdb.clone());
        set(&mut v, &["webhook", "podDisruptionBudget"], pdb);
    }
    if !s.tolerations.is_empty() {
        set(
            &mut v,
            &["global", "tolerations"],
            tolerations_value(&s.tolerations),
        );
    }
    if !s.node_selector.is_empty() {
        set(&mut v, &["global", "nodeSelector"], json!(s.node_selector));
    }
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = helm_fullname(&s.release, "external-secrets");
    let crds = s.install_crds.unwrap_or(true);
    let mut cluster_kinds = kinds(&[
        (RBAC, "ClusterRole"),
        (RBAC, "ClusterRoleBinding"),
        (ADMISSIONREGISTRATION, "ValidatingWebhookConfiguration"),
    ]);
    let mut objects = Vec::new();
    if crds {
        cluster_kinds.extend(kinds(&[(APIEXTENSIONS, "CustomResourceDefinition")]));
        objects.extend(CRDS.iter().map(|n| crd(n)));
    }
    for r in [
        "controller",
        "view",
        "edit",
        "servicebindings",
        "cert-controller",
    ] {
        objects.push(object(RBAC, "ClusterRole", "", format!("{f}-{r}")));
    }
    for r in ["controller", "cert-controller"] {
        objects.push(object(RBAC, "ClusterRoleBinding", "", format!("{f}-{r}")));
    }
    for w in ["secretstore-validate", "externalsecret-validate"] {
        objects.push(object(
            ADMISSIONREGISTRATION,
            "ValidatingWebhookConfiguration",
            "",
            w,
        ));
    }
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds,
        crd_groups: if crds {
            vec![
                "external-secrets.io".into(),
                "generators.external-secrets.io".into(),
            ]
        } else {
            Vec::new()
        },
        objects,
        ..Footprint::default()
    }
}

/// ServiceMonitors with `serviceMonitor.enabled` and `serviceMonitor.renderMode =
/// "alwaysRender"` (chart 2.9.0, `templates/servicemonitor.yaml` and `_helpers.tpl`
/// `external-secrets.shouldRenderServiceMonitor`): the default `skipIfMissing` leaves
/// them out when the cluster has no ServiceMonitor CRD at render time, and
/// `failIfMissing` fails the render.
fn custom_resources(values: &serde_json::Value) -> Vec<super::CustomResource> {
    if values["serviceMonitor"]["renderMode"] != "alwaysRender" {
        return Vec::new();
    }
    super::service_monitor_when(values, &["serviceMonitor", "enabled"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, TaintEffect, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "external-secrets".into(),
            namespace: "external-secrets".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values_elect_a_leader_among_two() {
        let budget = json!({ "enabled": true, "maxUnavailable": 1 });
        assert_eq!(
            values(&settings()),
            json!({
                "installCRDs": true,
                "replicaCount": 2,
                "leaderElect": true,
                "podDisruptionBudget": budget,
                "priorityClassName": "system-cluster-critical",
                "resources": { "requests": { "cpu": "10m", "memory": "64Mi" } },
                "serviceAccount": { "name": "external-secrets" },
                "webhook": {
                    "replicaCount": 2,
                    "podDisruptionBudget": budget,
                    "priorityClassName": "system-cluster-critical",
                    "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
                },
                "certController": {
                    "priorityClassName": "system-cluster-critical",
                    "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
                },
            })
        );
    }

    #[test]
    fn settings_become_values() {
        let s = AddonSettings {
            release: "eso".into(),
            install_crds: Some(false),
            replicas: Some(1),
            priority_class: Some("platform".into()),
            resources: Some(Resources {
                requests: CpuMem::default(),
                limits: CpuMem {
                    cpu: None,
                    memory: Some("1Gi".into()),
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
        assert_eq!(
            values(&s),
            json!({
                "installCRDs": false,
                "replicaCount": 1,
                "leaderElect": true,
                "priorityClassName": "platform",
                "resources": { "limits": { "memory": "1Gi" } },
                "serviceAccount": { "name": "eso" },
                "webhook": {
                    "replicaCount": 1,
                    "priorityClassName": "platform",
                    "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
                },
                "certController": {
                    "priorityClassName": "platform",
                    "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
                },
                "global": {
                    "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule" }],
                    "nodeSelector": { "role": "system" },
                },
            })
        );
    }

    #[test]
    fn footprint_names_crds_roles_and_webhooks() {
        let f = footprint(&settings());
        assert!(f.namespaces.is_empty());
        assert_eq!(
            f.crd_groups,
            vec![
                "external-secrets.io".to_string(),
                "generators.external-secrets.io".into()
            ]
        );
        assert_eq!(f.objects.len(), 25 + 5 + 2 + 2);
        for o in [
            crd("externalsecrets.external-secrets.io"),
            crd("clustersecretstores.external-secrets.io"),
            crd("passwords.generators.external-secrets.io"),
            object(RBAC, "ClusterRole", "", "external-secrets-controller"),
            object(RBAC, "ClusterRole", "", "external-secrets-servicebindings"),
            object(
                RBAC,
                "ClusterRoleBinding",
                "",
                "external-secrets-cert-controller",
            ),
            object(
                ADMISSIONREGISTRATION,
                "ValidatingWebhookConfiguration",
                "",
                "secretstore-validate",
            ),
            object(
                ADMISSIONREGISTRATION,
                "ValidatingWebhookConfiguration",
                "",
                "externalsecret-validate",
            ),
        ] {
            assert!(f.objects.contains(&o), "{o:?} missing");
        }
    }

    #[test]
    fn v1beta1_is_served_before_0_17_or_when_asked_for_from_1_3_1() {
        let none = json!({});
        let asked = json!({ "crds": { "unsafeServeV1Beta1": true } });
        assert_eq!(serves_v1beta1("0.16.2", &none), Some(true));
        assert_eq!(serves_v1beta1("0.17.0", &none), Some(false));
        assert_eq!(serves_v1beta1("2.9.0", &none), Some(false));
        assert_eq!(serves_v1beta1("2.9.0", &asked), Some(true));
        assert_eq!(serves_v1beta1("1.3.1", &asked), Some(true));
        // 1.2.1 has no such value: asking changes nothing.
        assert_eq!(serves_v1beta1("1.2.1", &asked), Some(false));
        assert_eq!(serves_v1beta1("latest", &none), None);
        assert_eq!(serves_v1("0.15.1"), Some(false));
        assert_eq!(serves_v1("0.16.0"), Some(true));
        assert_eq!(serves_v1("2.9.0"), Some(true));
    }

    #[test]
    fn without_crds_the_footprint_has_none() {
        let f = footprint(&AddonSettings {
            release: "eso".into(),
            install_crds: Some(false),
            ..settings()
        });
        assert!(f.crd_groups.is_empty());
        assert_eq!(f.objects.len(), 5 + 2 + 2);
        assert!(f.objects.contains(&object(
            RBAC,
            "ClusterRole",
            "",
            "eso-external-secrets-edit"
        )));
        assert!(!f
            .cluster_kinds
            .contains(&(APIEXTENSIONS.into(), "CustomResourceDefinition".into())));
    }
}
