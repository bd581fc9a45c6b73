//! The ClusterIP Service in front of a service's pods, on its named `http` port.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec as K8sServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{labels, meta};
use crate::spec::{PlatformSpec, ServiceSpec};

pub fn build(platform: &PlatformSpec, svc: &ServiceSpec) -> Service {
    Service {
        metadata: meta(
            &svc.name,
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        spec: Some(K8sServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(labels::selector(svc)),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: i32::from(svc.port),
                target_port: Some(IntOrString::String("http".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}
