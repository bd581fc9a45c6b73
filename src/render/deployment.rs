//! The Deployment of a service: where the pod a careful reviewer would ask for is built.
//!
//! - recommended labels, and a selector that never changes with the version;
//! - the image pinned by tag or digest; a named `http` container port;
//! - `envFrom` the service's ConfigMap, plus explicit `env`, each variable after the
//!   variables it references (see `resolve::kubelet_order`);
//! - resources, liveness and readiness probes;
//! - a restricted security context (non-root, no privilege escalation, read-only
//!   root filesystem with a writable `/tmp`, all capabilities dropped, RuntimeDefault seccomp);
//! - the service account; secrets mounted read-only at `/mnt/secrets-store` via the CSI driver,
//!   or, with the External Secrets backend, loaded with `envFrom` from the synced Secret;
//! - when the service can run more than one replica, topologySpreadConstraints across zones
//!   and nodes (see [`spread_constraints`]);
//! - a pod-template annotation with the ConfigMap's hash, so a config change rolls the pods;
//! - no `replicas` when an HPA owns the count.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    CSIVolumeSource, Capabilities, ConfigMap, ConfigMapEnvSource, Container, ContainerPort,
    EmptyDirVolumeSource, EnvFromSource, EnvVar, HTTPGetAction, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecretEnvSource, SecurityContext,
    TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{config_map, external_secret, labels, meta, secret_provider_class};
use crate::resolve::kubelet_order;
use crate::spec::{CpuMem, EnvSpec, PlatformSpec, SecretsBackend, ServiceSpec, SpreadMode};

/// Where the Secrets Store CSI driver mounts a service's secrets.
pub const SECRETS_MOUNT: &str = "/mnt/secrets-store";
/// Pod-template annotation holding the ConfigMap's hash.
pub const CONFIG_HASH_ANNOTATION: &str = "kgen.dev/config-hash";
pub const CONTAINER_PORT_NAME: &str = "http";
pub const METRICS_PORT_NAME: &str = "metrics";

/// Topology keys of the spread constraints: zones first, then nodes.
pub const ZONE_KEY: &str = "topology.kubernetes.io/zone";
pub const NODE_KEY: &str = "kubernetes.io/hostname";

pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    cm: &ConfigMap,
) -> Deployment {
    let csi_secrets = !svc.secrets.is_empty() && env.secrets_backend == SecretsBackend::Csi;
    let env_secrets =
        !svc.secrets.is_empty() && env.secrets_backend == SecretsBackend::ExternalSecrets;
    let labels = labels::service(platform, svc);
    let mut volumes = vec![Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    }];
    let mut mounts = vec![VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        ..Default::default()
    }];
    if csi_secrets {
        volumes.push(Volume {
            name: "secrets-store".into(),
            csi: Some(CSIVolumeSource {
                driver: "secrets-store.csi.k8s.io".into(),
                read_only: Some(true),
                volume_attributes: Some(BTreeMap::from([(
                    "secretProviderClass".to_string(),
                    secret_provider_class::name(svc),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "secrets-store".into(),
            mount_path: SECRETS_MOUNT.into(),
            read_only: Some(true),
            ..Default::default()
        });
    }

    let mut ports = vec![ContainerPort {
        name: Some(CONTAINER_PORT_NAME.into()),
        container_port: i32::from(svc.port),
        protocol: Some("TCP".into()),
        ..Default::default()
    }];
    if let Some(m) = svc.metrics.as_ref().filter(|m| m.port != svc.port) {
        ports.push(ContainerPort {
            name: Some(METRICS_PORT_NAME.into()),
            container_port: i32::from(m.port),
            protocol: Some("TCP".into()),
            ..Default::default()
        });
    }

    let probe = |path: &Option<String>| {
        path.as_ref().map(|p| Probe {
            http_get: Some(HTTPGetAction {
                path: Some(p.clone()),
                port: IntOrString::String(CONTAINER_PORT_NAME.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
    };

    // Every variable after the ones its value references (`$(NAME)`), else by name:
    // the kubelet expands a reference only to a variable defined earlier in the list.
    let env: Vec<EnvVar> = kubelet_order(&svc.env)
        .into_iter()
        .map(|(k, v)| EnvVar {
            name: k.to_string(),
            value: Some(v.to_string()),
            ..Default::default()
        })
        .collect();

    let container = Container {
        name: svc.name.clone(),
        image: Some(svc.image_ref()),
        image_pull_policy: Some("IfNotPresent".into()),
        ports: Some(ports),
        env_from: Some(
            [EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: config_map::name(svc),
                    ..Default::default()
                }),
                ..Default::default()
            }]
            .into_iter()
            .chain(env_secrets.then(|| EnvFromSource {
                secret_ref: Some(SecretEnvSource {
                    name: external_secret::name(svc),
                    ..Default::default()
                }),
                ..Default::default()
            }))
            .collect(),
        ),
        env: (!env.is_empty()).then_some(env),
        resources: Some(ResourceRequirements {
            requests: quantities(&svc.resources.requests),
            limits: quantities(&svc.resources.limits),
            ..Default::default()
        }),
        liveness_probe: probe(&svc.probes.liveness),
        readiness_probe: probe(&svc.probes.readiness),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        volume_mounts: Some(mounts),
        ..Default::default()
    };

    let pod = PodSpec {
        service_account_name: Some(svc.name.clone()),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(svc.run_as_user),
            run_as_group: Some(svc.run_as_user),
            fs_group: Some(svc.run_as_user),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        containers: vec![container],
        volumes: Some(volumes),
        topology_spread_constraints: spread_constraints(svc),
        ..Default::default()
    };

    Deployment {
        metadata: meta(&svc.name, Some(&svc.namespace), labels.clone()),
        spec: Some(DeploymentSpec {
            replicas: svc.autoscaling.is_none().then_some(svc.replicas as i32),
            selector: LabelSelector {
                match_labels: Some(labels::selector(svc)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(
                        CONFIG_HASH_ANNOTATION.to_string(),
                        config_map::hash(cm),
                    )])),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Spread of the pods when the service can run more than one replica: over zones
/// (`topology.kubernetes.io/zone`) and nodes (`kubernetes.io/hostname`), `soft`
/// (`ScheduleAnyway`) by default so a full zone or node never leaves a pod pending.
/// Tainted nodes the pods cannot use do not count (`nodeTaintsPolicy: Honor`), and
/// each rollout's ReplicaSet is spread on its own (`matchLabelKeys: [pod-template-hash]`).
pub fn spread_constraints(svc: &ServiceSpec) -> Option<Vec<TopologySpreadConstraint>> {
    if svc.max_replicas() <= 1 {
        return None;
    }
    let constraints: Vec<TopologySpreadConstraint> =
        [(ZONE_KEY, svc.spread.zones), (NODE_KEY, svc.spread.nodes)]
            .into_iter()
            .filter_map(|(key, mode)| {
                let when = match mode {
                    SpreadMode::Soft => "ScheduleAnyway",
                    SpreadMode::Hard => "DoNotSchedule",
                    SpreadMode::Off => return None,
                };
                Some(TopologySpreadConstraint {
                    label_selector: Some(LabelSelector {
                        match_labels: Some(labels::selector(svc)),
                        ..Default::default()
                    }),
                    match_label_keys: Some(vec!["pod-template-hash".into()]),
                    max_skew: 1,
                    node_taints_policy: Some("Honor".into()),
                    topology_key: key.into(),
                    when_unsatisfiable: when.into(),
                    ..Default::default()
                })
            })
            .collect();
    (!constraints.is_empty()).then_some(constraints)
}

fn quantities(c: &CpuMem) -> Option<BTreeMap<String, Quantity>> {
    let mut m = BTreeMap::new();
    if let Some(cpu) = &c.cpu {
        m.insert("cpu".to_string(), Quantity(cpu.clone()));
    }
    if let Some(mem) = &c.memory {
        m.insert("memory".to_string(), Quantity(mem.clone()));
    }
    (!m.is_empty()).then_some(m)
}
