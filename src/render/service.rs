//! The ClusterIP Service in front of a service's pods: its named `http` port, and a
//! `metrics` port when metrics are served on a port of their own (the ServiceMonitor
//! scrapes Service ports by name).

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec as K8sServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::deployment::{CONTAINER_PORT_NAME, METRICS_PORT_NAME};
use super::{labels, meta};
use crate::spec::{PlatformSpec, ServiceSpec};

pub fn build(platform: &PlatformSpec, svc: &ServiceSpec) -> Service {
    let port = |name: &str, number: u16| ServicePort {
        name: Some(name.into()),
        port: i32::from(number),
        target_port: Some(IntOrString::String(name.into())),
        protocol: Some("TCP".into()),
        ..Default::default()
    };
    let mut ports = vec![port(CONTAINER_PORT_NAME, svc.port)];
    if let Some(m) = svc.metrics.as_ref().filter(|m| m.port != svc.port) {
        ports.push(port(METRICS_PORT_NAME, m.port));
    }
    Service {
        metadata: meta(
            &svc.name,
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        spec: Some(K8sServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(labels::selector(svc)),
            ports: Some(ports),
            ..Default::default()
        }),
        ..Default::default()
    }
}
