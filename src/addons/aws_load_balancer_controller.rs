//! The AWS Load Balancer Controller (chart `aws-load-balancer-controller` in
//! aws/eks-charts, from https://aws.github.io/eks-charts): provisions Application Load
//! Balancers for Ingresses of class `alb` and Network Load Balancers for Services of
//! type `LoadBalancer`, and registers pods or nodes in their target groups
//! (`TargetGroupBinding`).
//!
//! Checked against chart 3.5.0 (application v3.5.0; aws/eks-charts commit 5239609,
//! "aws-load-balancer-controller: v3.5.0"; `stable/aws-load-balancer-controller/`:
//! `values.yaml`, `.helmignore`, `templates/_helpers.tpl`, `deployment.yaml`,
//! `rbac.yaml`, `webhook.yaml`, `ingressclass.yaml`, `pdb.yaml`, `service.yaml`,
//! `serviceaccount.yaml`, `cert-manager.yaml`, `hpa.yaml`, and `crds/crds.yaml`,
//! `crds/gateway-crds.yaml`).
//!
//! - Namespace: `ingress-system`, as the seed's platform runs it, rather than the
//!   `kube-system` of AWS's guide: its own namespace gets the `restricted` Pod Security
//!   level and keeps the webhook's private key and the leader-election Role out of
//!   `kube-system`; kgen's IRSA and Pod Identity hand-off names the ServiceAccount in
//!   whichever namespace it is. Set `namespace = "kube-system"` to adopt an existing
//!   installation.
//! - `clusterName` is required: the chart fails to render without it (`required`). The
//!   preset cannot report a missing setting, so it leaves the value out when
//!   `cluster_name` is unset and the resolver must require it. `region` (`--aws-region`)
//!   and `vpcId` (`--aws-vpc-id`) are optional; without them the controller asks the
//!   instance metadata service, which pods often cannot reach (hop limit 1): set both.
//! - 2 replicas (`replicaCount`, the chart's default too; the controller elects a
//!   leader) with a PodDisruptionBudget (`podDisruptionBudget: {maxUnavailable: 1}`;
//!   the chart writes one only when that value is not empty and `replicaCount > 1`).
//!   `priorityClassName` defaults to `system-cluster-critical` in the chart already:
//!   its webhooks mutate every new Service (`mservice`, `failurePolicy: Fail`) and
//!   validate every Ingress (`vingress`, `Fail`) in the cluster, so while it is down
//!   no Service or Ingress can be created anywhere.
//! - Pod Security: the chart's container runs as non-root, read-only, without
//!   privilege escalation, but neither drops all capabilities nor sets a seccomp
//!   profile, which `restricted` requires: kgen adds
//!   `securityContext.capabilities.drop: [ALL]` and
//!   `podSecurityContext.seccompProfile.type: RuntimeDefault` (Helm merges them into
//!   the chart's defaults).
//! - Webhook certificate: by default the chart generates a CA and serving certificate
//!   with Helm's `genCA` at render time (the Secret `aws-load-balancer-tls` and every
//!   webhook's `caBundle`). Argo CD renders again, producing new ones, on every commit
//!   of the platform repository (its manifest cache key includes the commit of the
//!   `$values` source: `reposerver/cache/cache.go`), when that cache expires, and on a
//!   hard refresh: the Application goes OutOfSync and each sync rotates the certificate. `keepTLSSecret` relies on Helm's `lookup`, which
//!   Argo CD does not run. With cert-manager on the cluster, set
//!   `values.enableCertManager = true` (a self-signed Issuer and a Certificate in the
//!   release namespace; cert-manager's CRDs must be installed first).
//! - Cluster-scoped: the ClusterRole `<fullname>-role` and ClusterRoleBinding
//!   `<fullname>-rolebinding`; the MutatingWebhookConfiguration and
//!   ValidatingWebhookConfiguration `aws-load-balancer-webhook` (named after the chart,
//!   not the release: one release per cluster); the IngressClass `alb` and its
//!   IngressClassParams `alb` (`ingressClass`, `ingressClassParams.create`; a `List`
//!   in `ingressclass.yaml`); seven CRDs from `crds/` (`elbv2.k8s.aws`:
//!   TargetGroupBinding, IngressClassParams, ALBTargetControlConfig; `aga.k8s.aws`:
//!   GlobalAccelerator; `gateway.k8s.aws`: LoadBalancerConfiguration,
//!   TargetGroupConfiguration, ListenerRuleConfiguration), the largest 49 kB, so
//!   client-side apply is fine. Nothing outside the release namespace besides these.
//! - The ServiceAccount (`serviceAccount.annotations` for IRSA) is named by
//!   `serviceAccount.name`, which kgen sets to the release name.

use serde_json::{json, Value};

use super::{
    crd, helm_fullname, helm_true, kinds, object, resources_or, service_monitor_when, set,
    tolerations_value, CustomResource, Footprint, Needed, Preset, ServiceAccount,
    ADMISSIONREGISTRATION, APIEXTENSIONS, RBAC, SYSTEM_CLUSTER_CRITICAL,
};
use crate::crd::argocd::ResourceIgnoreDifferences;
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "aws-load-balancer-controller",
    chart: "aws-load-balancer-controller",
    repo: "https://aws.github.io/eks-charts",
    checked_version: "3.5.0",
    namespace: "ingress-system",
    pod_security: PodSecurityLevel::Restricted,
    server_side_apply: false,
    // Its webhooks admit every Service and Ingress: up before ingress-nginx and the services.
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
        "cluster_name",
        "region",
        "vpc_id",
    ],
    required: &[Needed {
        key: "cluster_name",
        values_path: &["clusterName"],
        why: "the chart refuses to render without `clusterName`",
    }],
    recommended: &[],
    kubernetes: &[],
    min_kubernetes: None,
    check_values: super::no_values_problems,
    values,
    footprint,
    custom_resources,
    render_time_fields,
};

/// The chart's CRDs (`crds/crds.yaml`, `crds/gateway-crds.yaml`).
const CRDS: &[&str] = &[
    "albtargetcontrolconfigs.elbv2.k8s.aws",
    "globalaccelerators.aga.k8s.aws",
    "ingressclassparams.elbv2.k8s.aws",
    "targetgroupbindings.elbv2.k8s.aws",
    "listenerruleconfigurations.gateway.k8s.aws",
    "loadbalancerconfigurations.gateway.k8s.aws",
    "targetgroupconfigurations.gateway.k8s.aws",
];

/// The IngressClass (and IngressClassParams) the chart creates (`ingressClass`).
pub const INGRESS_CLASS: &str = "alb";

/// The chart's `namePrefix`: its name without `-controller` (not the release's).
const NAME_PREFIX: &str = "aws-load-balancer";

fn values(s: &AddonSettings) -> Value {
    let replicas = s.replicas.unwrap_or(2);
    let mut v = json!({
        "replicaCount": replicas,
        "priorityClassName": s.priority_class.as_deref().unwrap_or(SYSTEM_CLUSTER_CRITICAL),
        "resources": resources_or(s, json!({ "requests": { "cpu": "50m", "memory": "128Mi" } })),
        "serviceAccount": { "name": s.release },
        "securityContext": { "capabilities": { "drop": ["ALL"] } },
        "podSecurityContext": { "seccompProfile": { "type": "RuntimeDefault" } },
    });
    if replicas > 1 {
        set(
            &mut v,
            &["podDisruptionBudget"],
            json!({ "maxUnavailable": 1 }),
        );
    }
    if let Some(c) = &s.cluster_name {
        set(&mut v, &["clusterName"], json!(c));
    }
    if let Some(r) = &s.region {
        set(&mut v, &["region"], json!(r));
    }
    if let Some(id) = &s.vpc_id {
        set(&mut v, &["vpcId"], json!(id));
    }
    if !s.tolerations.is_empty() {
        set(&mut v, &["tolerations"], tolerations_value(&s.tolerations));
    }
    if !s.node_selector.is_empty() {
        set(&mut v, &["nodeSelector"], json!(s.node_selector));
    }
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = helm_fullname(&s.release, "aws-load-balancer-controller");
    let webhook = format!("{NAME_PREFIX}-webhook");
    let mut objects: Vec<_> = CRDS.iter().map(|n| crd(n)).collect();
    objects.extend([
        object(RBAC, "ClusterRole", "", format!("{f}-role")),
        object(RBAC, "ClusterRoleBinding", "", format!("{f}-rolebinding")),
        object(
            ADMISSIONREGISTRATION,
            "MutatingWebhookConfiguration",
            "",
            webhook.clone(),
        ),
        object(
            ADMISSIONREGISTRATION,
            "ValidatingWebhookConfiguration",
            "",
            webhook,
        ),
        object("networking.k8s.io", "IngressClass", "", INGRESS_CLASS),
        object("elbv2.k8s.aws", "IngressClassParams", "", INGRESS_CLASS),
    ]);
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds: kinds(&[
            (APIEXTENSIONS, "CustomResourceDefinition"),
            (RBAC, "ClusterRole"),
            (RBAC, "ClusterRoleBinding"),
            (ADMISSIONREGISTRATION, "MutatingWebhookConfiguration"),
            (ADMISSIONREGISTRATION, "ValidatingWebhookConfiguration"),
            ("networking.k8s.io", "IngressClass"),
            ("elbv2.k8s.aws", "IngressClassParams"),
        ]),
        crd_groups: vec![
            "elbv2.k8s.aws".into(),
            "aga.k8s.aws".into(),
            "gateway.k8s.aws".into(),
        ],
        objects,
        ..Footprint::default()
    }
}

/// What the chart creates of other charts' CRDs (chart 3.5.0, aws/eks-charts commit
/// 5239609, `stable/aws-load-balancer-controller/`): with `enableCertManager`, the
/// webhook's serving Certificate (`templates/webhook.yaml`, in place of the Secret
/// it generates otherwise) and, unless `certManager.issuerRef` names an issuer, a
/// self-signed Issuer, a root Certificate and a CA Issuer (`templates/cert-manager.yaml`:
/// `if and .Values.enableCertManager (not .Values.certManager.issuerRef)`); with
/// `serviceMonitor.enabled`, a ServiceMonitor (`templates/servicemonitor.yaml`).
/// Both values are off in the chart's values.yaml.
fn custom_resources(values: &Value) -> Vec<CustomResource> {
    const CERT_MANAGER: &[&str] = &["enableCertManager"];
    let mut out = Vec::new();
    if helm_true(values, CERT_MANAGER, false) {
        let of = |kind| CustomResource {
            group: "cert-manager.io",
            kind,
            because: CERT_MANAGER,
        };
        out.push(of("Certificate"));
        if !helm_true(values, &["certManager", "issuerRef"], false) {
            out.push(of("Issuer"));
        }
    }
    out.extend(service_monitor_when(values, &["serviceMonitor", "enabled"]));
    out
}

/// The webhook certificate the chart generates while rendering (chart 3.5.0,
/// `templates/_helpers.tpl` `webhookCerts`: Helm's `genCA` and `genSignedCert` unless
/// `webhookTLS` gives `caCert`, `cert` and `key`, or its `lookup` finds the Secret,
/// which Argo CD's `helm template` never does; `templates/webhook.yaml`): the Secret
/// `aws-load-balancer-tls` and the `caBundle` of every webhook, without
/// `enableCertManager`. Argo CD keeps the pair it applied first.
fn render_time_fields(values: &Value, namespace: &str) -> Vec<ResourceIgnoreDifferences> {
    let given = |key| helm_true(values, &["webhookTLS", key], false);
    if helm_true(values, &["enableCertManager"], false)
        || (given("caCert") && given("cert") && given("key"))
    {
        return Vec::new();
    }
    let webhooks = |kind: &str| ResourceIgnoreDifferences {
        group: Some(ADMISSIONREGISTRATION.into()),
        kind: kind.into(),
        name: Some("aws-load-balancer-webhook".into()),
        jq_path_expressions: vec![".webhooks[]?.clientConfig.caBundle".into()],
        ..Default::default()
    };
    vec![
        ResourceIgnoreDifferences {
            kind: "Secret".into(),
            name: Some("aws-load-balancer-tls".into()),
            namespace: Some(namespace.into()),
            json_pointers: vec!["/data".into()],
            ..Default::default()
        },
        webhooks("MutatingWebhookConfiguration"),
        webhooks("ValidatingWebhookConfiguration"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "aws-load-balancer-controller".into(),
            namespace: "ingress-system".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values_leave_out_the_required_cluster_name() {
        assert_eq!(
            values(&settings()),
            json!({
                "replicaCount": 2,
                "podDisruptionBudget": { "maxUnavailable": 1 },
                "priorityClassName": "system-cluster-critical",
                "resources": { "requests": { "cpu": "50m", "memory": "128Mi" } },
                "serviceAccount": { "name": "aws-load-balancer-controller" },
                "securityContext": { "capabilities": { "drop": ["ALL"] } },
                "podSecurityContext": { "seccompProfile": { "type": "RuntimeDefault" } },
            })
        );
    }

    #[test]
    fn settings_become_values() {
        let s = AddonSettings {
            release: "alb".into(),
            cluster_name: Some("prod-eks".into()),
            region: Some("eu-west-1".into()),
            vpc_id: Some("vpc-0123456789abcdef0".into()),
            replicas: Some(1),
            priority_class: Some("platform".into()),
            resources: Some(Resources {
                requests: CpuMem {
                    cpu: Some("100m".into()),
                    memory: Some("256Mi".into()),
                },
                limits: CpuMem {
                    cpu: None,
                    memory: Some("512Mi".into()),
                },
            }),
            tolerations: vec![Toleration {
                key: Some("CriticalAddonsOnly".into()),
                operator: TolerationOperator::Exists,
                value: None,
                effect: None,
                seconds: None,
            }],
            node_selector: [("role".to_string(), "system".to_string())].into(),
            ..settings()
        };
        assert_eq!(
            values(&s),
            json!({
                "replicaCount": 1,
                "priorityClassName": "platform",
                "resources": {
                    "requests": { "cpu": "100m", "memory": "256Mi" },
                    "limits": { "memory": "512Mi" },
                },
                "serviceAccount": { "name": "alb" },
                "securityContext": { "capabilities": { "drop": ["ALL"] } },
                "podSecurityContext": { "seccompProfile": { "type": "RuntimeDefault" } },
                "clusterName": "prod-eks",
                "region": "eu-west-1",
                "vpcId": "vpc-0123456789abcdef0",
                "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists" }],
                "nodeSelector": { "role": "system" },
            })
        );
    }

    #[test]
    fn footprint_names_its_webhooks_ingress_class_and_crds() {
        let f = footprint(&settings());
        assert!(f.namespaces.is_empty());
        assert_eq!(
            f.crd_groups,
            vec![
                "elbv2.k8s.aws".to_string(),
                "aga.k8s.aws".into(),
                "gateway.k8s.aws".into()
            ]
        );
        assert!(f
            .cluster_kinds
            .contains(&("networking.k8s.io".into(), "IngressClass".into())));
        assert!(f
            .cluster_kinds
            .contains(&("elbv2.k8s.aws".into(), "IngressClassParams".into())));
        assert_eq!(f.objects.len(), 7 + 6);
        for o in [
            crd("targetgroupbindings.elbv2.k8s.aws"),
            crd("ingressclassparams.elbv2.k8s.aws"),
            object(RBAC, "ClusterRole", "", "aws-load-balancer-controller-role"),
            object(
                RBAC,
                "ClusterRoleBinding",
                "",
                "aws-load-balancer-controller-rolebinding",
            ),
            object(
                ADMISSIONREGISTRATION,
                "MutatingWebhookConfiguration",
                "",
                "aws-load-balancer-webhook",
            ),
            object(
                ADMISSIONREGISTRATION,
                "ValidatingWebhookConfiguration",
                "",
                "aws-load-balancer-webhook",
            ),
            object("networking.k8s.io", "IngressClass", "", "alb"),
            object("elbv2.k8s.aws", "IngressClassParams", "", "alb"),
        ] {
            assert!(f.objects.contains(&o), "{o:?} missing");
        }
    }

    #[test]
    fn webhook_names_do_not_follow_the_release() {
        let f = footprint(&AddonSettings {
            release: "alb".into(),
            ..settings()
        });
        assert!(f.objects.contains(&object(
            RBAC,
            "ClusterRole",
            "",
            "alb-aws-load-balancer-controller-role"
        )));
        assert!(f.objects.contains(&object(
            ADMISSIONREGISTRATION,
            "MutatingWebhookConfiguration",
            "",
            "aws-load-balancer-webhook"
        )));
    }
}
