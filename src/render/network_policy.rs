//! NetworkPolicies (networking.k8s.io/v1), when `[network_policy]` is on.
//!
//! The objects:
//! - `<namespace>-default-deny` per service namespace (written with the namespace: by
//!   the service that owns it, or by the cluster's namespaces Application for a shared
//!   one):
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
//!   - for a `NodePort` or `LoadBalancer` Service, its `service.source_cidrs` (else any
//!     source) on the Service's ports,
//!   - Prometheus (the monitoring namespace) on the metrics port, when monitoring is on
//!     and the service is scraped;
//! - for a public service whose certificate a declared ACME issuer solves over HTTP-01
//!   through NGINX, `<service>-acme-http01`: cert-manager's solver pods in its
//!   namespace, admitted from the controller's namespace on their port ([`acme_http01`]).
//!
//! Egress: `open` (the default) restricts nothing. Default-deny egress is easy to get
//! wrong on EKS: AWS API endpoints (STS, Secrets Manager, SSM, S3) have no fixed
//! addresses, and databases or third-party APIs differ per service. `restricted`
//! allows DNS to kube-dns, the services a service calls, HTTPS (443) anywhere and
//! the EKS Pod Identity agent (169.254.170.23:80) with Pod Identity.
//!
//! Ports are numbers, not names: every CNI resolves them the same way. The kubelet's
//! probes are always allowed (traffic from the pod's own node is never filtered).

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec as K8sNetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{labels, meta};
use crate::spec::{
    AcmeSolver, EgressPolicy, EnvSpec, IngressClass, IssuerKind, PlatformSpec, ServiceSpec,
    ServiceType, WorkloadIdentity, WorkloadKind,
};

/// File of the default deny of a shared namespace, in the cluster's namespaces
/// directory (beside `<namespace>.yaml`).
pub fn default_deny_file(namespace: &str) -> String {
    format!("networkpolicy-{namespace}-default-deny.yaml")
}

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

/// Who calls whom in one environment, indexed once so that each service's policy
/// looks its peers up instead of scanning every service of the environment (which
/// made the policies of N services cost N² comparisons).
#[derive(Default)]
pub struct Peers<'e> {
    /// For each name in some service's `calls`: the services of the environment that
    /// call it, in `env.services` order, each once.
    callers: HashMap<&'e str, Vec<&'e ServiceSpec>>,
    /// The services of the environment by name.
    by_name: HashMap<&'e str, &'e ServiceSpec>,
}

impl<'e> Peers<'e> {
    /// The index of `env`; empty when its NetworkPolicies are off (nothing asks then).
    pub fn of(env: &'e EnvSpec) -> Self {
        if env.network_policy.is_none() {
            return Self::default();
        }
        let mut callers: HashMap<&'e str, Vec<&'e ServiceSpec>> = HashMap::new();
        for s in &env.services {
            for callee in &s.calls {
                let list = callers.entry(callee.as_str()).or_default();
                // `s` is the last one pushed when it names `callee` twice.
                if !list.last().is_some_and(|last| std::ptr::eq(*last, s)) {
                    list.push(s);
                }
            }
        }
        let by_name = env.services.iter().map(|s| (s.name.as_str(), s)).collect();
        Self { callers, by_name }
    }

    /// The services of the environment that call `svc`, by name, in `env.services`
    /// order.
    pub fn callers(&self, svc: &ServiceSpec) -> &[&'e ServiceSpec] {
        self.callers
            .get(svc.name.as_str())
            .map_or(&[], Vec::as_slice)
    }

    /// The service of the environment named `name` (`None` when it is disabled there).
    fn service(&self, name: &str) -> Option<&'e ServiceSpec> {
        self.by_name.get(name).copied()
    }
}

/// The pod ports behind a service's Service (what its callers may reach): `http`, and
/// every named port of the main container and the sidecars the Service exposes. A
/// `statefulset` always has its headless Service, which has those ports, even with
/// `service.enabled = false`: its callers reach each pod by its name through it.
pub fn served_ports(svc: &ServiceSpec) -> Vec<NetworkPolicyPort> {
    if svc.service.is_none() && svc.kind() != WorkloadKind::Statefulset {
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

/// Every address of `cidr`.
fn ip_block(cidr: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: cidr.to_string(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The policy of one service.
pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    peers: &Peers,
    svc: &ServiceSpec,
    egress: EgressPolicy,
) -> NetworkPolicy {
    let mut ingress = Vec::new();
    let callers = peers.callers(svc);
    let served = served_ports(svc);
    if !callers.is_empty() && !served.is_empty() {
        ingress.push(NetworkPolicyIngressRule {
            from: Some(callers.iter().copied().map(pods_of).collect()),
            ports: Some(served.clone()),
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
                    .map(|c| ip_block(c))
                    .collect(),
            ),
        };
        ingress.push(NetworkPolicyIngressRule {
            from,
            ports: Some(vec![tcp(svc.port)]),
        });
    }
    // A NodePort or LoadBalancer Service is reached from outside the cluster: through
    // a load balancer (from its subnets, or the clients' addresses), or on the nodes'
    // ports. Its sources (`service.source_cidrs`, else any) on the Service's ports.
    if let Some(e) = svc.service.as_ref().filter(|e| {
        matches!(e.type_, ServiceType::NodePort | ServiceType::LoadBalancer) && !served.is_empty()
    }) {
        ingress.push(NetworkPolicyIngressRule {
            from: (!e.source_cidrs.is_empty())
                .then(|| e.source_cidrs.iter().map(|c| ip_block(c)).collect()),
            ports: Some(served),
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
        for callee in svc.calls.iter().filter_map(|c| peers.service(c)) {
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

/// File of a public service's policy for cert-manager's HTTP-01 solver pods.
pub const ACME_HTTP01_FILE: &str = "networkpolicy-acme-http01.yaml";
/// The label cert-manager sets on its HTTP-01 solver pods
/// (`acme.cert-manager.io/http01-solver: "true"`: cert-manager
/// `pkg/apis/acme/v1/types.go`, `SolverIdentificationLabelKey`, set in
/// `pkg/issuer/acme/http/pod.go`), and the port they listen on
/// (`pkg/issuer/acme/http/http.go`, `acmeSolverListenPort`).
pub const ACME_SOLVER_LABEL: (&str, &str) = ("acme.cert-manager.io/http01-solver", "true");
pub const ACME_SOLVER_PORT: u16 = 8089;

/// For a public service whose certificate an ACME issuer of the cluster's baseline
/// solves over HTTP-01 through NGINX: cert-manager runs the solver pod in the
/// Ingress's namespace, the service's, whose default deny would keep the ingress
/// controller from it, and no certificate would ever be issued. This policy admits
/// the controller's namespace to the solver pods on their port. (DNS-01 needs none;
/// an issuer the baseline does not declare is not known here: docs/platform.md says
/// what to add.)
pub fn acme_http01(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
) -> Option<NetworkPolicy> {
    env.network_policy.as_ref()?;
    svc.ingress.as_ref()?;
    if env.ingress.class != IngressClass::Nginx {
        return None;
    }
    let issuer = env.ingress.cluster_issuer.as_ref()?;
    let issuer = platform
        .cluster(&env.cluster)?
        .baseline
        .issuers
        .iter()
        .find(|i| &i.name == issuer)?;
    let IssuerKind::Acme { solvers, .. } = &issuer.kind else {
        return None;
    };
    if !solvers
        .iter()
        .any(|s| matches!(s, AcmeSolver::Http01 { .. }))
    {
        return None;
    }
    Some(NetworkPolicy {
        // Not the service's pods: the labels of the platform alone, as the default
        // deny's (a tag bump leaves it alone).
        metadata: meta(
            &format!("{}-acme-http01", svc.name),
            Some(&svc.namespace),
            labels::platform(platform),
        ),
        spec: Some(K8sNetworkPolicySpec {
            pod_selector: Some(match_labels(BTreeMap::from([(
                ACME_SOLVER_LABEL.0.to_string(),
                ACME_SOLVER_LABEL.1.to_string(),
            )]))),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    namespace_selector: Some(namespace_selector(&env.ingress.controller_namespace)),
                    ..Default::default()
                }]),
                ports: Some(vec![tcp(ACME_SOLVER_PORT)]),
            }]),
            egress: None,
            policy_types: Some(vec!["Ingress".into()]),
        }),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::Peers;
    use crate::spec::{EnvSpec, PlatformSpec, ServiceSpec};
    use crate::workspace::{InputFiles, Workspace};

    /// The scan [`Peers`] replaced (N² per environment): the oracle.
    fn callers_by_scan<'e>(env: &'e EnvSpec, svc: &ServiceSpec) -> Vec<&'e ServiceSpec> {
        env.services
            .iter()
            .filter(|s| s.calls.contains(&svc.name))
            .collect()
    }

    fn names<'e>(services: &[&'e ServiceSpec]) -> Vec<&'e str> {
        services.iter().map(|s| s.name.as_str()).collect()
    }

    /// `api` calls itself and names `db` twice; `gone` is disabled in prod, where
    /// `cache` calls `api` too.
    fn platform() -> PlatformSpec {
        let platform = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[network_policy]

[environments.dev]
sync = "auto"

[environments.prod]
sync = "manual"

[defaults]
tag = "1.0.0"

[services.api]
image = "acme/api"
calls = ["db", "cache", "db", "api"]

[services.cache]
image = "acme/cache"

[services.db]
image = "acme/db"
calls = []

[services.gone]
image = "acme/gone"

[services.web]
image = "acme/web"
calls = ["api", "cache"]

[services.worker]
image = "acme/worker"
calls = ["db", "gone"]
"#;
        let prod = r#"[services.gone]
enabled = false

[services.cache]
calls = ["api"]
"#;
        let ws = Workspace::parse(
            PathBuf::from("/nonexistent"),
            InputFiles {
                platform: ("platform.toml".into(), platform.into()),
                overlays: vec![("prod".into(), "overlays/prod.toml".into(), prod.into())],
            },
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        crate::resolve::resolve(&ws, &[]).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn env<'p>(spec: &'p PlatformSpec, name: &str) -> &'p EnvSpec {
        spec.environments.iter().find(|e| e.name == name).unwrap()
    }

    /// Each service's callers, by name, as the index gives them; checked against the
    /// scan for every service.
    fn callers(env: &EnvSpec) -> Vec<(&str, Vec<&str>)> {
        let peers = Peers::of(env);
        env.services
            .iter()
            .map(|svc| {
                let indexed = names(peers.callers(svc));
                assert_eq!(
                    indexed,
                    names(&callers_by_scan(env, svc)),
                    "callers of {} in {}",
                    svc.name,
                    env.name
                );
                (svc.name.as_str(), indexed)
            })
            .collect()
    }

    #[test]
    fn the_index_gives_the_callers_the_scan_gives_in_the_same_order() {
        let mut spec = platform();
        assert_eq!(
            callers(env(&spec, "dev")),
            vec![
                ("api", vec!["api", "web"]),
                ("cache", vec!["api", "web"]),
                ("db", vec!["api", "worker"]),
                ("gone", vec!["worker"]),
                ("web", vec![]),
                ("worker", vec![]),
            ]
        );
        // `gone` is not there; `worker` still names it (with a warning).
        assert_eq!(
            callers(env(&spec, "prod")),
            vec![
                ("api", vec!["api", "cache", "web"]),
                ("cache", vec!["api", "web"]),
                ("db", vec!["api", "worker"]),
                ("web", vec![]),
                ("worker", vec![]),
            ]
        );
        let prod = env(&spec, "prod");
        assert_eq!(
            env(&spec, "prod").services[4].calls,
            vec!["db".to_string(), "gone".to_string()]
        );
        assert!(Peers::of(prod).service("gone").is_none());
        assert_eq!(Peers::of(prod).service("db").unwrap().name, "db");

        // What resolve never hands over, but the index must not care: a name called
        // twice, names of no service, a service calling itself, a caller listed
        // before and after its callees.
        let dev = spec
            .environments
            .iter_mut()
            .find(|e| e.name == "dev")
            .unwrap();
        let [api, cache, _db, _gone, web, worker] = &mut dev.services[..] else {
            panic!("six services in dev");
        };
        web.calls
            .extend(["api", "nope", "web", "api"].map(String::from));
        worker
            .calls
            .extend(["worker", "", "worker", "cache"].map(String::from));
        cache.calls.extend(["nope", "api"].map(String::from));
        api.calls.push("worker".into());
        assert_eq!(
            callers(env(&spec, "dev")),
            vec![
                ("api", vec!["api", "cache", "web"]),
                ("cache", vec!["api", "web", "worker"]),
                ("db", vec!["api", "worker"]),
                ("gone", vec!["worker"]),
                ("web", vec!["web"]),
                ("worker", vec!["api", "worker"]),
            ]
        );
    }

    #[test]
    fn without_network_policies_nothing_is_indexed() {
        let mut spec = platform();
        let dev = spec
            .environments
            .iter_mut()
            .find(|e| e.name == "dev")
            .unwrap();
        dev.network_policy = None;
        let peers = Peers::of(dev);
        assert!(peers.callers.is_empty() && peers.by_name.is_empty());
    }
}
