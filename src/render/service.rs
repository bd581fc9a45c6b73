//! The Service in front of a service's pods (`ClusterIP` by default, `NodePort` or
//! `LoadBalancer` with `service.type`): its named `http` port (on `service.port`, the
//! container port by default), a `metrics` port when metrics are served on a port of
//! their own (the ServiceMonitor scrapes Service ports by name), and every other named
//! port of the pod that is exposed. Each Service port targets the main container's port
//! by name, so the number inside the pod can change without touching callers; a
//! sidecar's port is targeted by number, because sidecars are native (init containers
//! with `restartPolicy: Always`) and a Service reaches a native sidecar's *named* port
//! only from Kubernetes 1.32 (kubernetes#127976), newer than the oldest kgen supports.
//!
//! A `statefulset` also gets a headless Service (`<service>-headless`, no cluster IP),
//! which gives each of its pods a stable DNS name (`<pod>.<service>-headless`), even
//! when its ClusterIP Service is off. It carries the label `kgen.dev/headless: "true"`,
//! the one label that tells it from the ClusterIP Service (the ServiceMonitor leaves it
//! out: see `monitoring::service_monitor`).

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec as K8sServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::deployment::METRICS_PORT_NAME;
use super::{labels, meta};
use crate::spec::{PlatformSpec, ServiceExposure, ServiceSpec, ServiceType};

/// Name of a StatefulSet's headless Service.
pub fn headless_name(svc: &ServiceSpec) -> String {
    format!("{}-headless", svc.name)
}

/// The Service ports of a service: `http`, `metrics`, and every exposed named port of
/// the main container and the sidecars.
pub fn ports(svc: &ServiceSpec, exposure: &ServiceExposure) -> Vec<ServicePort> {
    let port =
        |name: &str, number: u16, target: IntOrString, protocol: &str, app: Option<&String>| {
            ServicePort {
                name: Some(name.into()),
                port: i32::from(number),
                target_port: Some(target),
                protocol: Some(protocol.into()),
                app_protocol: app.cloned(),
                ..Default::default()
            }
        };
    let by_name = |name: &str| IntOrString::String(name.into());
    let mut ports = vec![port(
        &svc.port_name,
        exposure.port,
        by_name(&svc.port_name),
        "TCP",
        exposure.app_protocol.as_ref(),
    )];
    if let Some(m) = svc.metrics.as_ref().filter(|m| m.port != svc.port) {
        ports.push(port(
            METRICS_PORT_NAME,
            m.port,
            by_name(METRICS_PORT_NAME),
            "TCP",
            None,
        ));
    }
    let main = svc.ports.iter().map(|p| (p, by_name(&p.name)));
    // Native sidecars: by number (see the module doc).
    let sidecars = svc
        .sidecars
        .iter()
        .flat_map(|c| &c.ports)
        .map(|p| (p, IntOrString::Int(i32::from(p.port))));
    for (p, target) in main.chain(sidecars) {
        if let Some(sp) = p.service_port {
            ports.push(port(
                &p.name,
                sp,
                target,
                p.protocol.as_str(),
                p.app_protocol.as_ref(),
            ));
        }
    }
    ports
}

pub fn build(platform: &PlatformSpec, svc: &ServiceSpec, exposure: &ServiceExposure) -> Service {
    let mut metadata = meta(
        &svc.name,
        Some(&svc.namespace),
        labels::service(platform, svc),
    );
    if !exposure.annotations.is_empty() {
        metadata.annotations = Some(exposure.annotations.clone());
    }
    Service {
        metadata,
        spec: Some(K8sServiceSpec {
            type_: Some(exposure.type_.as_str().into()),
            selector: Some(labels::selector(svc)),
            ports: Some(ports(svc, exposure)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The headless Service of a `statefulset`: every pod gets a DNS name, ready or not
/// (members of a cluster find each other while they start). It is the StatefulSet's
/// governing Service (`serviceName`, which cannot change once the StatefulSet exists),
/// so it is rendered whether or not the ClusterIP Service is (`service.enabled`);
/// `http` is on the Service port when there is a Service, else on the container port.
pub fn headless(platform: &PlatformSpec, svc: &ServiceSpec) -> Service {
    let plain = ServiceExposure {
        type_: ServiceType::ClusterIP,
        port: svc.service.as_ref().map_or(svc.port, |e| e.port),
        app_protocol: svc.service.as_ref().and_then(|e| e.app_protocol.clone()),
        annotations: Default::default(),
        source_cidrs: Vec::new(),
    };
    let mut labels = labels::service(platform, svc);
    labels.insert(labels::HEADLESS.into(), "true".into());
    Service {
        metadata: meta(&headless_name(svc), Some(&svc.namespace), labels),
        spec: Some(K8sServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(labels::selector(svc)),
            ports: Some(ports(svc, &plain)),
            ..Default::default()
        }),
        ..Default::default()
    }
}
