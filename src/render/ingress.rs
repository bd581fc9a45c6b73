//! The Ingress (networking.k8s.io/v1) of a public service: its hosts and paths routed
//! to the service's `http` port, through the environment's ingress class. One rule
//! per host, in the order written, each with every path, in the order written.
//!
//! - `ingressClassName: nginx` (ingress-nginx) or `alb` (AWS Load Balancer Controller);
//! - TLS: one `tls` entry for all the hosts with the Secret `<service>-tls`, which
//!   cert-manager fills because of the `cert-manager.io/cluster-issuer` annotation
//!   (ingress-shim: one Certificate naming every host, no Certificate object needed);
//!   with `alb`, the hosts alone (the controller finds the ACM certificates by host,
//!   and reads no Secret);
//! - DNS: `external-dns.alpha.kubernetes.io/hostname`, the hosts comma-separated, so
//!   external-dns writes the Route53 record of each host;
//! - with `alb`: scheme, `target-type: ip` (Pods are targets directly, so the
//!   ClusterIP Service suffices; `instance` would need a NodePort Service),
//!   listen ports, the ACM certificate ARN when given, the HTTP→HTTPS redirect, the
//!   IngressGroup, and the health-check path from the readiness probe.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec as K8sIngressSpec, IngressTLS, ServiceBackendPort,
};

use super::{labels, meta};
use crate::spec::{AlbScheme, EnvSpec, IngressClass, IngressRoute, PlatformSpec, ServiceSpec};

/// cert-manager's ingress-shim issues the certificate of every `tls` entry with this issuer.
pub const CLUSTER_ISSUER_ANNOTATION: &str = "cert-manager.io/cluster-issuer";
/// external-dns creates a DNS record for this host.
pub const EXTERNAL_DNS_HOSTNAME_ANNOTATION: &str = "external-dns.alpha.kubernetes.io/hostname";

/// AWS Load Balancer Controller annotations.
pub mod alb {
    pub const SCHEME: &str = "alb.ingress.kubernetes.io/scheme";
    pub const TARGET_TYPE: &str = "alb.ingress.kubernetes.io/target-type";
    pub const LISTEN_PORTS: &str = "alb.ingress.kubernetes.io/listen-ports";
    pub const CERTIFICATE_ARN: &str = "alb.ingress.kubernetes.io/certificate-arn";
    pub const SSL_REDIRECT: &str = "alb.ingress.kubernetes.io/ssl-redirect";
    pub const GROUP_NAME: &str = "alb.ingress.kubernetes.io/group.name";
    pub const HEALTHCHECK_PATH: &str = "alb.ingress.kubernetes.io/healthcheck-path";
    /// Pods are the ALB's targets (needs no NodePort).
    pub const TARGET_TYPE_IP: &str = "ip";
    pub const LISTEN_HTTP: &str = r#"[{"HTTP": 80}]"#;
    pub const LISTEN_HTTP_HTTPS: &str = r#"[{"HTTP": 80}, {"HTTPS": 443}]"#;
}

/// Name of the IngressClass of each class.
pub fn class_name(class: IngressClass) -> &'static str {
    match class {
        IngressClass::Nginx => "nginx",
        IngressClass::Alb => "alb",
    }
}

/// The Secret holding the service's TLS certificate (written by cert-manager).
pub fn tls_secret_name(svc: &ServiceSpec) -> String {
    format!("{}-tls", svc.name)
}

pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    route: &IngressRoute,
) -> Ingress {
    let settings = &env.ingress;
    // external-dns splits the annotation at commas (and drops spaces):
    // kubernetes-sigs/external-dns `source/annotations/processors.go`,
    // `SplitHostnameAnnotation` ("splits a comma-separated hostname annotation
    // string into a slice of hostnames"), read by `HostnamesFromAnnotations`.
    let mut annotations = BTreeMap::from([(
        EXTERNAL_DNS_HOSTNAME_ANNOTATION.to_string(),
        route.hosts.join(","),
    )]);
    if let Some(issuer) = &settings.cluster_issuer {
        annotations.insert(CLUSTER_ISSUER_ANNOTATION.into(), issuer.clone());
    }
    if settings.class == IngressClass::Alb {
        let a = &settings.alb;
        let scheme = match a.scheme {
            AlbScheme::InternetFacing => "internet-facing",
            AlbScheme::Internal => "internal",
        };
        annotations.insert(alb::SCHEME.into(), scheme.into());
        annotations.insert(alb::TARGET_TYPE.into(), alb::TARGET_TYPE_IP.into());
        let listen = if settings.tls {
            alb::LISTEN_HTTP_HTTPS
        } else {
            alb::LISTEN_HTTP
        };
        annotations.insert(alb::LISTEN_PORTS.into(), listen.into());
        if let Some(arn) = &a.certificate_arn {
            annotations.insert(alb::CERTIFICATE_ARN.into(), arn.clone());
        }
        if a.ssl_redirect {
            annotations.insert(alb::SSL_REDIRECT.into(), "443".into());
        }
        if let Some(group) = &a.group {
            annotations.insert(alb::GROUP_NAME.into(), group.clone());
        }
        // The ALB checks the pods itself, on the port it sends traffic to: the
        // readiness (else liveness) probe's path, when it is an HTTP probe on the main
        // port, by name or by number.
        let on_http = |p: &&crate::spec::Probe| match &p.handler {
            crate::spec::ProbeHandler::Http { port, .. } => match port {
                crate::spec::PortRef::Name(name) => *name == svc.port_name,
                crate::spec::PortRef::Number(n) => *n == svc.port,
            },
            _ => false,
        };
        if let Some(path) = [&svc.probes.readiness, &svc.probes.liveness]
            .into_iter()
            .flatten()
            .find(on_http)
            .and_then(|p| p.http_path())
        {
            annotations.insert(alb::HEALTHCHECK_PATH.into(), path.to_string());
        }
    }
    let mut metadata = meta(
        &svc.name,
        Some(&svc.namespace),
        labels::service(platform, svc),
    );
    metadata.annotations = Some(annotations);
    Ingress {
        metadata,
        spec: Some(K8sIngressSpec {
            ingress_class_name: Some(class_name(settings.class).into()),
            rules: Some(
                route
                    .hosts
                    .iter()
                    .map(|host| IngressRule {
                        host: Some(host.clone()),
                        http: Some(HTTPIngressRuleValue {
                            paths: route.paths.iter().map(|p| path(svc, p)).collect(),
                        }),
                    })
                    .collect(),
            ),
            tls: settings.tls.then(|| {
                vec![IngressTLS {
                    hosts: Some(route.hosts.clone()),
                    // An ALB serves ACM certificates, found by host: no Secret.
                    secret_name: (settings.class != IngressClass::Alb)
                        .then(|| tls_secret_name(svc)),
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A path of a rule: the prefix, to the service's main port.
fn path(svc: &ServiceSpec, prefix: &str) -> HTTPIngressPath {
    HTTPIngressPath {
        path: Some(prefix.to_string()),
        path_type: "Prefix".into(),
        backend: IngressBackend {
            service: Some(IngressServiceBackend {
                name: svc.name.clone(),
                port: Some(ServiceBackendPort {
                    name: Some(svc.port_name.clone()),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        },
    }
}
