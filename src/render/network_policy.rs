//! NetworkPolicies (networking.k8s.io/v1), when `[network_policy]` is on.
//!
//! Two objects:
//! - `<namespace>-default-deny` per service namespace (written with the namespace):
//!   selects every pod of the namespace and allows nothing, so a pod kgen does not know
//!   about is isolated too (named after its namespace, so that one namespace's policy
//!   never looks like another's moved, in `kgen diff`);
//! - one policy per service, selecting its pods, that admits on the service's port
//!   exactly:
//!   - the pods of the services that declare they `calls` it (namespace and pod
//!     labels both have to match),
//!   - for a public service, the ingress controller: the controller's namespace
//!     (`nginx`), or the ALB (`alb`: its `source_cidrs`, else any source, since ALB
//!     traffic comes from VPC addresses, not from a namespace),
//!   - Prometheus (the monitoring namespace) on the metrics port, when monitoring is on
//!     and the service is scraped.
//!
//! Egress: `open` (the default) restricts nothing. Default-deny egress is easy to get
//! wrong on EKS: AWS API endpoints (STS, Secrets Manager, SSM, S3) have no fixed
//! addresses, and databases or third-party APIs differ per service. `restricted`
//! allows DNS to kube-dns, the services a service calls, HTTPS (443) anywhere and
//! the EKS Pod Identity agent (169.254.170.23:80) with Pod Identity.
//!
//! Ports are numbers, not names: every CNI resolves them the same way. The kubelet's
//! probes are always allowed (traffic from the pod's own node is never filtered).

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec as K8sNetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{labels, meta};
use crate::spec::{
    EgressPolicy, EnvSpec, IngressClass, PlatformSpec, ServiceSpec, WorkloadIdentity,
};

/// Name of the namespace-wide default-deny policy of `namespace`.
pub fn default_deny_name(namespace: &str) -> String {
    format!("{namespace}-default-deny")
}
/// Label every namespace carries with its own name (set by the API server).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Where cluster DNS runs on EKS (CoreDNS keeps the `k8s-app: kube-dns` label).
pub const DNS_NAMESPACE: &str = "kube-system";
pub const DNS_POD_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
/// The EKS Pod Identity agent's link-local address.
pub const POD_IDENTITY_AGENT_CIDR: &str = "169.254.170.23/32";

fn match_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        ..Default::default()
    }
}

fn namespace_selector(namespace: &str) -> LabelSelector {
    match_labels(BTreeMap::from([(
        NAMESPACE_NAME_LABEL.to_string(),
        namespace.to_string(),
    )]))
}

fn tcp(port: u16) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(port))),
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

/// The pods of `svc`, wherever they run.
fn pods_of(svc: &ServiceSpec) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(namespace_selector(&svc.namespace)),
        pod_selector: Some(match_labels(labels::selector(svc))),
        ..Default::default()
    }
}

fn policy_types(egress: EgressPolicy) -> Vec<String> {
    match egress {
        EgressPolicy::Open => vec!["Ingress".into()],
        EgressPolicy::Restricted => vec!["Ingress".into(), "Egress".into()],
    }
}

/// The namespace-wide default deny (ingress; egress too when restricted).
pub fn default_deny(
    platform: &PlatformSpec,
    egress: EgressPolicy,
    namespace: &str,
) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta(
            &default_deny_name(namespace),
            Some(namespace),
            labels::platform(platform),
        ),
        spec: Some(K8sNetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(policy_types(egress)),
            ..Default::default()
        }),
    }
}

/// The services of `env` that call `svc`, by name.
pub fn callers<'e>(env: &'e EnvSpec, svc: &ServiceSpec) -> Vec<&'e ServiceSpec> {
    env.services
        .iter()
        .filter(|s| s.calls.contains(&svc.name))
        .collect()
}

/// The pod ports behind a service's Service (what its callers may reach): `http`, and
/// every named port of the main container and the sidecars the Service exposes.
pub fn served_ports(svc: &ServiceSpec) -> Vec<NetworkPolicyPort> {
    if svc.service.is_none() {
        return Vec::new();
    }
    let mut ports = vec![tcp(svc.port)];
    for p in svc
        .ports
        .iter()
        .chain(svc.sidecars.iter().flat_map(|c| &c.ports))
    {
        if p.service_port.is_some() {
            ports.push(NetworkPolicyPort {
                port: Some(IntOrString::Int(i32::from(p.port))),
                protocol: Some(p.protocol.as_str().into()),
                ..Default::default()
            });
        }
    }
    ports
}

/// The policy of one service.
pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    egress: EgressPolicy,
) -> NetworkPolicy {
    let mut ingress = Vec::new();
    let callers = callers(env, svc);
    let served = served_ports(svc);
    if !callers.is_empty() && !served.is_empty() {
        ingress.push(NetworkPolicyIngressRule {
            from: Some(callers.into_iter().map(pods_of).collect()),
            ports: Some(served),
        });
    }
    if svc.ingress.is_some() {
        let from = match env.ingress.class {
            IngressClass::Nginx => Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(namespace_selector(&env.ingress.controller_namespace)),
                ..Default::default()
            }]),
            IngressClass::Alb if env.ingress.alb.source_cidrs.is_empty() => None,
            IngressClass::Alb => Some(
                env.ingress
                    .alb
                    .source_cidrs
                    .iter()
                    .map(|cidr| NetworkPolicyPeer {
                        ip_block: Some(IPBlock {
                            cidr: cidr.clone(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .collect(),
            ),
        };
        ingress.push(NetworkPolicyIngressRule {
            from,
            ports: Some(vec![tcp(svc.port)]),
        });
    }
    if let (Some(m), Some(metrics)) = (&env.monitoring, &svc.metrics) {
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(namespace_selector(&m.namespace)),
                ..Default::default()
            }]),
            ports: Some(vec![tcp(metrics.port)]),
        });
    }

    let egress_rules = (egress == EgressPolicy::Restricted).then(|| {
        let mut rules = vec![NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(namespace_selector(DNS_NAMESPACE)),
                pod_selector: Some(match_labels(BTreeMap::from([(
                    DNS_POD_LABEL.0.to_string(),
                    DNS_POD_LABEL.1.to_string(),
                )]))),
                ..Default::default()
            }]),
            ports: Some(vec![
                NetworkPolicyPort {
                    port: Some(IntOrString::Int(53)),
                    protocol: Some("UDP".into()),
                    ..Default::default()
                },
                tcp(53),
            ]),
        }];
        for callee in svc
            .calls
            .iter()
            .filter_map(|c| env.services.iter().find(|s| s.name == *c))
        {
            let ports = served_ports(callee);
            if ports.is_empty() {
                continue;
            }
            rules.push(NetworkPolicyEgressRule {
                to: Some(vec![pods_of(callee)]),
                ports: Some(ports),
            });
        }
        rules.push(NetworkPolicyEgressRule {
            to: None,
            ports: Some(vec![tcp(443)]),
        });
        if env.workload_identity == WorkloadIdentity::PodIdentity {
            rules.push(NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    ip_block: Some(IPBlock {
                        cidr: POD_IDENTITY_AGENT_CIDR.into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ports: Some(vec![tcp(80)]),
            });
        }
        rules
    });

    NetworkPolicy {
        metadata: meta(
            &svc.name,
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        spec: Some(K8sNetworkPolicySpec {
            pod_selector: Some(match_labels(labels::selector(svc))),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: egress_rules,
            policy_types: Some(policy_types(egress)),
        }),
    }
}
