//! ingress-nginx (kubernetes/ingress-nginx, chart `ingress-nginx` from
//! https://kubernetes.github.io/ingress-nginx): NGINX as the Ingress controller of one
//! IngressClass, exposed by a `LoadBalancer` Service or, behind an ALB as in the seed's
//! platform, by a `NodePort` one.
//!
//! Checked against chart 4.15.1 (tag `helm-chart-4.15.1`, commit 0a5901f3c, controller
//! v1.15.1; `charts/ingress-nginx/`: `values.yaml`, `templates/_helpers.tpl`,
//! `_params.tpl`, `controller-deployment.yaml`, `controller-service.yaml`,
//! `controller-poddisruptionbudget.yaml`, `controller-ingressclass.yaml`,
//! `clusterrole.yaml`, `clusterrolebinding.yaml`, `controller-role.yaml`,
//! `admission-webhooks/validating-webhook.yaml` and `admission-webhooks/job-patch/*`).
//!
//! **The project is retired**: its README says best-effort maintenance ended in March
//! 2026 and no further release, bug fix or security fix will follow; 4.15.1 is the
//! last chart. The preset exists for platforms that run it today (the seed's does);
//! new platforms should choose a Gateway API implementation.
//!
//! - `controller.replicaCount`: kgen runs 2 (the chart 1); with more than one replica
//!   the chart writes a PodDisruptionBudget itself (`controller.minAvailable: 1`).
//! - `controller.service.type` (`LoadBalancer`, kgen's default and the chart's, or
//!   `NodePort` behind an ALB, or `ClusterIP`); `controller.service.nodePorts.http` and
//!   `.https` (the chart applies them to `NodePort` and `LoadBalancer` Services).
//! - The IngressClass: `controller.ingressClassResource.name` (the object),
//!   `controller.ingressClass` (`--ingress-class`, for the legacy annotation) and
//!   `controller.ingressClassResource.controllerValue` (`--controller-class`), which
//!   kgen makes `k8s.io/ingress-nginx` for the class `nginx` and
//!   `k8s.io/ingress-nginx-<class>` for another, so that a second controller does not
//!   claim the first one's Ingresses.
//! - `controller.resources` (kgen: 100m–500m CPU, 128Mi–512Mi memory, as the seed's
//!   platform runs it; the chart requests 100m and 90Mi), `controller.priorityClassName`
//!   (kgen: `system-cluster-critical`: every HTTP request of the cluster goes through
//!   it), `controller.tolerations`, `controller.nodeSelector` (merged into the chart's
//!   `kubernetes.io/os: linux`); the admission webhook's Jobs get the same tolerations
//!   and node selector (`controller.admissionWebhooks.patch.tolerations`,
//!   `.nodeSelector`), so that they can run where the controller runs.
//! - Admission webhook (on by default): the ValidatingWebhookConfiguration
//!   `<fullname>-admission` checks every Ingress (`failurePolicy: Fail`). Its
//!   certificate is made by two hook Jobs with the `kube-webhook-certgen` image:
//!   `<fullname>-admission-create` (`pre-install,pre-upgrade`: Argo CD runs it as a
//!   PreSync hook; it creates the Secret only if it is missing) and
//!   `<fullname>-admission-patch` (`post-install,post-upgrade`: a PostSync hook that
//!   writes the `caBundle`), with their own ServiceAccount, Role, RoleBinding and the
//!   hook ClusterRole and ClusterRoleBinding `<fullname>-admission`, deleted when they
//!   succeed.
//! - Pod Security: the controller drops all capabilities and adds only
//!   `NET_BIND_SERVICE` (to bind ports 80 and 443 as user 101), without privilege
//!   escalation, with `RuntimeDefault` seccomp: `restricted` allows exactly that
//!   capability, so `restricted` it is; the Jobs are `restricted` too. Host ports,
//!   `hostNetwork` or the chroot image (`SYS_CHROOT`, `SYS_ADMIN`) need `privileged`.
//! - Cluster-scoped: the ClusterRole and ClusterRoleBinding `<fullname>`, the
//!   IngressClass, the ValidatingWebhookConfiguration and the hook ClusterRole and
//!   ClusterRoleBinding `<fullname>-admission`. No CRDs; nothing in another namespace.
//! - No AWS access: no IAM role.

use serde_json::{json, Value};

use super::{
    helm_fullname, helm_trunc, kinds, object, resources_or, set, tolerations_value, Footprint,
    Preset, ADMISSIONREGISTRATION, RBAC, SYSTEM_CLUSTER_CRITICAL,
};
use crate::input::PodSecurityLevel;
use crate::spec::{AddonSettings, ServiceType};

pub const PRESET: Preset = Preset {
    name: "ingress-nginx",
    chart: "ingress-nginx",
    repo: "https://kubernetes.github.io/ingress-nginx",
    checked_version: "4.15.1",
    namespace: "ingress-nginx",
    pod_security: PodSecurityLevel::Restricted,
    server_side_apply: false,
    wave: crate::render::argocd::bootstrap_wave::ADDONS,
    service_account: None,
    settings: &[
        "replicas",
        "resources",
        "priority_class",
        "tolerations",
        "node_selector",
        "service_type",
        "node_ports",
        "ingress_class",
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

/// kgen's default IngressClass (the chart's too).
pub const DEFAULT_CLASS: &str = "nginx";

fn class(s: &AddonSettings) -> &str {
    s.ingress_class.as_deref().unwrap_or(DEFAULT_CLASS)
}

fn values(s: &AddonSettings) -> Value {
    let class = class(s);
    let controller_value = if class == DEFAULT_CLASS {
        "k8s.io/ingress-nginx".to_string()
    } else {
        format!("k8s.io/ingress-nginx-{class}")
    };
    let service_type = s.service_type.unwrap_or(ServiceType::LoadBalancer);
    let mut v = json!({
        "controller": {
            "replicaCount": s.replicas.unwrap_or(2),
            "ingressClass": class,
            "ingressClassResource": { "name": class, "controllerValue": controller_value },
            "service": { "type": service_type.as_str() },
            "resources": resources_or(s, json!({
                "requests": { "cpu": "100m", "memory": "128Mi" },
                "limits": { "cpu": "500m", "memory": "512Mi" },
            })),
            "priorityClassName": s.priority_class.as_deref().unwrap_or(SYSTEM_CLUSTER_CRITICAL),
        }
    });
    if service_type != ServiceType::ClusterIP {
        let (http, https) = s.node_ports;
        if let Some(p) = http {
            set(
                &mut v,
                &["controller", "service", "nodePorts", "http"],
                json!(p),
            );
        }
        if let Some(p) = https {
            set(
                &mut v,
                &["controller", "service", "nodePorts", "https"],
                json!(p),
            );
        }
    }
    if !s.tolerations.is_empty() {
        let t = tolerations_value(&s.tolerations);
        set(&mut v, &["controller", "tolerations"], t.clone());
        set(
            &mut v,
            &["controller", "admissionWebhooks", "patch", "tolerations"],
            t,
        );
    }
    if !s.node_selector.is_empty() {
        let n = json!(s.node_selector);
        set(&mut v, &["controller", "nodeSelector"], n.clone());
        set(
            &mut v,
            &["controller", "admissionWebhooks", "patch", "nodeSelector"],
            n,
        );
    }
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = helm_fullname(&s.release, "ingress-nginx");
    let admission = helm_trunc(&format!("{f}-admission"), 63);
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds: kinds(&[
            (RBAC, "ClusterRole"),
            (RBAC, "ClusterRoleBinding"),
            ("networking.k8s.io", "IngressClass"),
            (ADMISSIONREGISTRATION, "ValidatingWebhookConfiguration"),
        ]),
        crd_groups: Vec::new(),
        objects: vec![
            object(RBAC, "ClusterRole", "", f.clone()),
            object(RBAC, "ClusterRoleBinding", "", f),
            object("networking.k8s.io", "IngressClass", "", class(s)),
            object(
                ADMISSIONREGISTRATION,
                "ValidatingWebhookConfiguration",
                "",
                admission.clone(),
            ),
            object(RBAC, "ClusterRole", "", admission.clone()),
            object(RBAC, "ClusterRoleBinding", "", admission),
        ],
        ..Footprint::default()
    }
}

/// With `controller.metrics.enabled` (off by default), a ServiceMonitor with
/// `controller.metrics.serviceMonitor.enabled` and a PrometheusRule with
/// `controller.metrics.prometheusRule.enabled` (chart 4.15.1,
/// `templates/controller-servicemonitor.yaml`, `controller-prometheusrule.yaml`).
fn custom_resources(values: &serde_json::Value) -> Vec<super::CustomResource> {
    if !super::helm_true(values, &["controller", "metrics", "enabled"], false) {
        return Vec::new();
    }
    let mut out = super::service_monitor_when(
        values,
        &["controller", "metrics", "serviceMonitor", "enabled"],
    );
    out.extend(super::monitoring_when(
        values,
        &["controller", "metrics", "prometheusRule", "enabled"],
        "PrometheusRule",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, TaintEffect, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "ingress-nginx".into(),
            namespace: "ingress-nginx".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values_are_two_load_balanced_replicas_of_class_nginx() {
        assert_eq!(
            values(&settings()),
            json!({
                "controller": {
                    "replicaCount": 2,
                    "ingressClass": "nginx",
                    "ingressClassResource": { "name": "nginx", "controllerValue": "k8s.io/ingress-nginx" },
                    "service": { "type": "LoadBalancer" },
                    "resources": {
                        "requests": { "cpu": "100m", "memory": "128Mi" },
                        "limits": { "cpu": "500m", "memory": "512Mi" },
                    },
                    "priorityClassName": "system-cluster-critical",
                }
            })
        );
    }

    #[test]
    fn node_port_behind_an_alb() {
        let s = AddonSettings {
            service_type: Some(ServiceType::NodePort),
            node_ports: (Some(30080), Some(30443)),
            replicas: Some(1),
            ingress_class: Some("internal".into()),
            priority_class: Some("platform".into()),
            resources: Some(Resources {
                requests: CpuMem {
                    cpu: Some("200m".into()),
                    memory: Some("256Mi".into()),
                },
                limits: CpuMem::default(),
            }),
            tolerations: vec![Toleration {
                key: Some("ingress".into()),
                operator: TolerationOperator::Exists,
                value: None,
                effect: Some(TaintEffect::NoExecute),
                seconds: Some(60),
            }],
            node_selector: [("role".to_string(), "edge".to_string())].into(),
            ..settings()
        };
        let t = json!([{ "key": "ingress", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60 }]);
        assert_eq!(
            values(&s),
            json!({
                "controller": {
                    "replicaCount": 1,
                    "ingressClass": "internal",
                    "ingressClassResource": {
                        "name": "internal",
                        "controllerValue": "k8s.io/ingress-nginx-internal",
                    },
                    "service": { "type": "NodePort", "nodePorts": { "http": 30080, "https": 30443 } },
                    "resources": { "requests": { "cpu": "200m", "memory": "256Mi" } },
                    "priorityClassName": "platform",
                    "tolerations": t,
                    "nodeSelector": { "role": "edge" },
                    "admissionWebhooks": { "patch": { "tolerations": t, "nodeSelector": { "role": "edge" } } },
                }
            })
        );
    }

    #[test]
    fn cluster_ip_takes_no_node_ports() {
        let s = AddonSettings {
            service_type: Some(ServiceType::ClusterIP),
            node_ports: (Some(30080), None),
            ..settings()
        };
        assert_eq!(
            values(&s)["controller"]["service"],
            json!({ "type": "ClusterIP" })
        );
    }

    #[test]
    fn footprint_names_its_class_and_webhook() {
        let f = footprint(&settings());
        assert!(f.namespaces.is_empty() && f.crd_groups.is_empty());
        assert_eq!(
            f.objects,
            vec![
                object(RBAC, "ClusterRole", "", "ingress-nginx"),
                object(RBAC, "ClusterRoleBinding", "", "ingress-nginx"),
                object("networking.k8s.io", "IngressClass", "", "nginx"),
                object(
                    ADMISSIONREGISTRATION,
                    "ValidatingWebhookConfiguration",
                    "",
                    "ingress-nginx-admission"
                ),
                object(RBAC, "ClusterRole", "", "ingress-nginx-admission"),
                object(RBAC, "ClusterRoleBinding", "", "ingress-nginx-admission"),
            ]
        );
        let internal = footprint(&AddonSettings {
            release: "internal".into(),
            ingress_class: Some("internal".into()),
            ..settings()
        });
        assert_eq!(
            internal.objects[0],
            object(RBAC, "ClusterRole", "", "internal-ingress-nginx")
        );
        assert_eq!(
            internal.objects[2],
            object("networking.k8s.io", "IngressClass", "", "internal")
        );
        assert_eq!(
            internal.objects[3].3,
            "internal-ingress-nginx-admission".to_string()
        );
    }
}
