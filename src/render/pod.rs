//! The pod template of a service, built once for every kind of workload: where the
//! pod a careful reviewer would ask for is assembled.
//!
//! - recommended labels, a selector that never changes with the version, and the
//!   service's extra pod labels and annotations;
//! - the main container: the image pinned by tag or digest; named ports (`http` for
//!   the kinds with a Service, `metrics`, the service's `ports`); `envFrom` the
//!   service's ConfigMap (and, with the External Secrets backend, the synced Secret)
//!   plus explicit `env`, each variable after the variables it references (see
//!   `resolve::kubelet_order`); resources; liveness, readiness and startup probes;
//!   command and arguments;
//! - sidecars (native sidecars: init containers with `restartPolicy: Always`, started
//!   first and kept running) and init containers, with their own images, resources,
//!   env, ports and probes;
//! - a restricted security context for every container (non-root, no privilege
//!   escalation, read-only root filesystem with a writable `/tmp`, all capabilities
//!   dropped, RuntimeDefault seccomp);
//! - volumes: `/tmp`, the secrets (CSI driver, read-only at `/mnt/secrets-store`), the
//!   service's files (its `<service>-files` ConfigMap, one read-only mount per
//!   directory), its own volumes (scratch directories, and volume claims);
//! - the service account; placement (node selector, tolerations, node affinity,
//!   priority class, grace period); image pull secrets; spread constraints across zones
//!   and nodes for kinds that run several replicas;
//! - a pod-template annotation with the hash of the ConfigMaps, so a config change
//!   rolls the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, CSIVolumeSource, Capabilities, ConfigMapEnvSource, ConfigMapKeySelector,
    ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvFromSource, EnvVar,
    EnvVarSource, ExecAction, GRPCAction, HTTPGetAction, KeyToPath, LocalObjectReference,
    NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, ObjectFieldSelector,
    PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec,
    PreferredSchedulingTerm, Probe, ResourceFieldSelector, ResourceRequirements, SeccompProfile,
    SecretEnvSource, SecretKeySelector, SecurityContext, TCPSocketAction, Toleration,
    TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{config_map, external_secret, labels, secret_provider_class};
use crate::resolve::kubelet_order;
use crate::spec::{
    ContainerSpec, CpuMem, EnvSource, EnvSpec, NodeTerm, Port, PortRef, ProbeHandler,
    SecretsBackend, ServiceSpec, SpreadMode, VolumeSource, WorkloadKind,
};

/// Where the Secrets Store CSI driver mounts a service's secrets.
pub const SECRETS_MOUNT: &str = "/mnt/secrets-store";
/// Pod-template annotation holding the ConfigMaps' hash.
pub const CONFIG_HASH_ANNOTATION: &str = "kgen.dev/config-hash";
pub const CONTAINER_PORT_NAME: &str = "http";
pub const METRICS_PORT_NAME: &str = "metrics";

/// Topology keys of the spread constraints: zones first, then nodes.
pub const ZONE_KEY: &str = "topology.kubernetes.io/zone";
pub const NODE_KEY: &str = "kubernetes.io/hostname";

/// The pod template of `svc`; `config_hash` is the hash of its ConfigMaps.
pub fn template(
    env: &EnvSpec,
    svc: &ServiceSpec,
    labels: BTreeMap<String, String>,
    config_hash: String,
) -> PodTemplateSpec {
    let kind = svc.kind();
    let mut pod_labels = labels;
    pod_labels.extend(svc.pod_labels.clone());
    let mut annotations = svc.pod_annotations.clone();
    annotations.insert(CONFIG_HASH_ANNOTATION.to_string(), config_hash);

    let (volumes, mounts) = volumes(env, svc);
    let main = main_container(env, svc, mounts.clone());
    let sidecars = svc.sidecars.iter().map(|c| {
        let mut c = container(env, svc, c, &mounts);
        // A native sidecar (Kubernetes 1.29+): an init container that keeps running,
        // started before the others and stopped after the main container.
        c.restart_policy = Some("Always".into());
        c
    });
    let inits = svc
        .init_containers
        .iter()
        .map(|c| container(env, svc, c, &mounts));
    let init_containers: Vec<Container> = sidecars.chain(inits).collect();

    let p = &svc.placement;
    let pod = PodSpec {
        service_account_name: Some(svc.name.clone()),
        automount_service_account_token: svc.automount_token,
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
        init_containers: (!init_containers.is_empty()).then_some(init_containers),
        containers: vec![main],
        volumes: Some(volumes),
        restart_policy: match &svc.workload {
            crate::spec::Workload::Job { job, .. } | crate::spec::Workload::CronJob { job, .. } => {
                Some(match job.restart_policy {
                    crate::spec::JobRestartPolicy::OnFailure => "OnFailure".into(),
                    crate::spec::JobRestartPolicy::Never => "Never".into(),
                })
            }
            _ => None,
        },
        topology_spread_constraints: if kind.replicated() {
            spread_constraints(svc)
        } else {
            None
        },
        node_selector: (!p.node_selector.is_empty()).then(|| p.node_selector.clone()),
        tolerations: (!p.tolerations.is_empty()).then(|| {
            p.tolerations
                .iter()
                .map(|t| Toleration {
                    key: t.key.clone(),
                    operator: Some(format!("{:?}", t.operator)),
                    value: t.value.clone(),
                    effect: t.effect.map(|e| format!("{e:?}")),
                    toleration_seconds: t.seconds,
                })
                .collect()
        }),
        affinity: node_affinity(&p.required, &p.preferred),
        priority_class_name: p.priority_class.clone(),
        termination_grace_period_seconds: p.termination_grace_period,
        image_pull_secrets: (!svc.image_pull_secrets.is_empty()).then(|| {
            svc.image_pull_secrets
                .iter()
                .map(|n| LocalObjectReference { name: n.clone() })
                .collect()
        }),
        ..Default::default()
    };
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(pod_labels),
            annotations: Some(annotations),
            ..Default::default()
        }),
        spec: Some(pod),
    }
}

/// The pod's volumes, and the main container's mounts of them.
fn volumes(env: &EnvSpec, svc: &ServiceSpec) -> (Vec<Volume>, Vec<VolumeMount>) {
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
    if !svc.secrets.is_empty() && env.secrets_backend == SecretsBackend::Csi {
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
    // Files: one read-only mount of the files ConfigMap per directory, with only the
    // files of that directory.
    for (i, (dir, files)) in file_dirs(svc).into_iter().enumerate() {
        let name = format!("files-{i}");
        volumes.push(Volume {
            name: name.clone(),
            config_map: Some(ConfigMapVolumeSource {
                name: config_map::files_name(svc),
                items: Some(
                    files
                        .iter()
                        .map(|(key, file)| KeyToPath {
                            key: key.to_string(),
                            path: file.to_string(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name,
            mount_path: dir.to_string(),
            read_only: Some(true),
            ..Default::default()
        });
    }
    for v in &svc.volumes {
        match &v.source {
            VolumeSource::EmptyDir { size_limit, memory } => volumes.push(Volume {
                name: v.name.clone(),
                empty_dir: Some(EmptyDirVolumeSource {
                    medium: memory.then(|| "Memory".to_string()),
                    size_limit: size_limit.clone().map(Quantity),
                }),
                ..Default::default()
            }),
            // A StatefulSet's claims come from its volumeClaimTemplates, by name.
            VolumeSource::Claim { .. } if svc.kind() == WorkloadKind::Statefulset => {}
            VolumeSource::Claim { .. } => volumes.push(Volume {
                name: v.name.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: super::volume_claim::name(svc, &v.name),
                    read_only: v.read_only.then_some(true),
                }),
                ..Default::default()
            }),
        }
        mounts.push(VolumeMount {
            name: v.name.clone(),
            mount_path: v.mount.clone(),
            read_only: v.read_only.then_some(true),
            ..Default::default()
        });
    }
    (volumes, mounts)
}

/// The service's files by directory (in path order): directory → [(key, file name)].
pub fn file_dirs(svc: &ServiceSpec) -> BTreeMap<&str, Vec<(&str, &str)>> {
    let mut dirs: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for f in &svc.files {
        let (dir, file) = f.path.rsplit_once('/').unwrap_or(("/", &f.path));
        dirs.entry(dir).or_default().push((&f.key, file));
    }
    dirs
}

fn main_container(env: &EnvSpec, svc: &ServiceSpec, mounts: Vec<VolumeMount>) -> Container {
    let mut ports = Vec::new();
    if svc.kind().can_have_service() {
        ports.push(container_port(&svc.port_name, svc.port, "TCP"));
    }
    if let Some(m) = svc.metrics.as_ref().filter(|m| m.port != svc.port) {
        ports.push(container_port(METRICS_PORT_NAME, m.port, "TCP"));
    }
    ports.extend(svc.ports.iter().map(port_of));

    // Every variable after the ones its value references (`$(NAME)`), else by name:
    // the kubelet expands a reference only to a variable defined earlier in the list.
    let env_vars = env_list(&svc.env, &svc.env_refs);
    let env_secrets =
        !svc.secrets.is_empty() && env.secrets_backend == SecretsBackend::ExternalSecrets;
    Container {
        name: svc.name.clone(),
        image: Some(svc.image_ref()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: (!svc.command.is_empty()).then(|| svc.command.clone()),
        args: (!svc.args.is_empty()).then(|| svc.args.clone()),
        ports: (!ports.is_empty()).then_some(ports),
        env_from: Some(env_from(svc, true, env_secrets)),
        env: (!env_vars.is_empty()).then_some(env_vars),
        resources: Some(ResourceRequirements {
            requests: quantities(&svc.resources.requests),
            limits: quantities(&svc.resources.limits),
            ..Default::default()
        }),
        liveness_probe: svc.probes.liveness.as_ref().map(probe),
        readiness_probe: svc.probes.readiness.as_ref().map(probe),
        startup_probe: svc.probes.startup.as_ref().map(probe),
        security_context: Some(restricted()),
        volume_mounts: Some(mounts),
        ..Default::default()
    }
}

/// The main container's `envFrom`, or a sidecar's or init container's that asks for
/// the service's ConfigMap (`config`) or its synced Secret (`secrets`).
fn env_from(svc: &ServiceSpec, config: bool, secrets: bool) -> Vec<EnvFromSource> {
    config
        .then(|| EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: config_map::name(svc),
                ..Default::default()
            }),
            ..Default::default()
        })
        .into_iter()
        .chain(secrets.then(|| EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: external_secret::name(svc),
                ..Default::default()
            }),
            ..Default::default()
        }))
        .collect()
}

/// A container's `env` list: literal values and values read when the pod starts
/// (`valueFrom`), every variable after the ones its value references, else by name
/// (`resolve::kubelet_order`; a `valueFrom` variable references none).
fn env_list(values: &BTreeMap<String, String>, refs: &BTreeMap<String, EnvSource>) -> Vec<EnvVar> {
    let mut all = values.clone();
    all.extend(refs.keys().map(|k| (k.clone(), String::new())));
    kubelet_order(&all)
        .into_iter()
        .map(|(k, v)| match refs.get(k) {
            Some(source) => EnvVar {
                name: k.to_string(),
                value_from: Some(env_var_source(source)),
                ..Default::default()
            },
            None => EnvVar {
                name: k.to_string(),
                value: Some(v.to_string()),
                ..Default::default()
            },
        })
        .collect()
}

fn env_var_source(s: &EnvSource) -> EnvVarSource {
    match s {
        EnvSource::Field(path) => EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        EnvSource::Resource {
            resource,
            divisor,
            container,
        } => EnvVarSource {
            resource_field_ref: Some(ResourceFieldSelector {
                resource: resource.clone(),
                divisor: divisor.clone().map(Quantity),
                container_name: container.clone(),
            }),
            ..Default::default()
        },
        EnvSource::ConfigMapKey {
            name,
            key,
            optional,
        } => EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector {
                name: name.clone(),
                key: key.clone(),
                optional: *optional,
            }),
            ..Default::default()
        },
        EnvSource::SecretKey {
            name,
            key,
            optional,
        } => EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: name.clone(),
                key: key.clone(),
                optional: *optional,
            }),
            ..Default::default()
        },
    }
}

/// A sidecar or init container; it mounts `/tmp` and the volumes it names, and, with
/// `secrets`, the service's secrets (the CSI driver's volume, or the synced Secret).
fn container(
    env: &EnvSpec,
    svc: &ServiceSpec,
    c: &ContainerSpec,
    service_mounts: &[VolumeMount],
) -> Container {
    let mut mounts = vec![VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        ..Default::default()
    }];
    for (vol, m) in &c.mounts {
        let read_only = m.read_only.filter(|r| *r).or_else(|| {
            service_mounts
                .iter()
                .find(|sm| &sm.name == vol)
                .and_then(|sm| sm.read_only)
        });
        mounts.push(VolumeMount {
            name: vol.clone(),
            mount_path: m.path.clone(),
            read_only,
            ..Default::default()
        });
    }
    let has_secrets = c.secrets && !svc.secrets.is_empty();
    let csi = has_secrets && env.secrets_backend == SecretsBackend::Csi;
    if csi && !c.mounts.contains_key("secrets-store") {
        mounts.push(VolumeMount {
            name: "secrets-store".into(),
            mount_path: SECRETS_MOUNT.into(),
            read_only: Some(true),
            ..Default::default()
        });
    }
    let env_from = env_from(svc, c.config, has_secrets && !csi);
    let env = env_list(&c.env, &c.env_refs);
    let ports: Vec<ContainerPort> = c.ports.iter().map(port_of).collect();
    Container {
        name: c.name.clone(),
        image: Some(c.image_ref()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: (!c.command.is_empty()).then(|| c.command.clone()),
        args: (!c.args.is_empty()).then(|| c.args.clone()),
        ports: (!ports.is_empty()).then_some(ports),
        env_from: (!env_from.is_empty()).then_some(env_from),
        env: (!env.is_empty()).then_some(env),
        resources: {
            let requests = quantities(&c.resources.requests);
            let limits = quantities(&c.resources.limits);
            (requests.is_some() || limits.is_some()).then_some(ResourceRequirements {
                requests,
                limits,
                ..Default::default()
            })
        },
        liveness_probe: c.liveness.as_ref().map(probe),
        readiness_probe: c.readiness.as_ref().map(probe),
        startup_probe: c.startup.as_ref().map(probe),
        security_context: Some(restricted()),
        volume_mounts: Some(mounts),
        ..Default::default()
    }
}

/// The security context of every container kgen writes.
fn restricted() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn container_port(name: &str, port: u16, protocol: &str) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: i32::from(port),
        protocol: Some(protocol.into()),
        ..Default::default()
    }
}

fn port_of(p: &Port) -> ContainerPort {
    container_port(&p.name, p.port, p.protocol.as_str())
}

fn port_ref(p: &PortRef) -> IntOrString {
    match p {
        PortRef::Name(n) => IntOrString::String(n.clone()),
        PortRef::Number(n) => IntOrString::Int(i32::from(*n)),
    }
}

fn probe(p: &crate::spec::Probe) -> Probe {
    let mut out = Probe {
        initial_delay_seconds: p.initial_delay,
        period_seconds: p.period,
        timeout_seconds: p.timeout,
        failure_threshold: p.failure_threshold,
        success_threshold: p.success_threshold,
        ..Default::default()
    };
    match &p.handler {
        ProbeHandler::Http { path, port } => {
            out.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: port_ref(port),
                ..Default::default()
            })
        }
        ProbeHandler::Tcp(port) => {
            out.tcp_socket = Some(TCPSocketAction {
                port: port_ref(port),
                ..Default::default()
            })
        }
        ProbeHandler::Grpc { port, service } => {
            out.grpc = Some(GRPCAction {
                port: match port {
                    PortRef::Number(n) => i32::from(*n),
                    // A gRPC probe takes a number; resolve names are checked to be numbers.
                    PortRef::Name(_) => 0,
                },
                service: service.clone(),
            })
        }
        ProbeHandler::Exec(cmd) => {
            out.exec = Some(ExecAction {
                command: Some(cmd.clone()),
            })
        }
    }
    out
}

fn node_affinity(required: &[NodeTerm], preferred: &[NodeTerm]) -> Option<Affinity> {
    if required.is_empty() && preferred.is_empty() {
        return None;
    }
    let requirement = |t: &NodeTerm| NodeSelectorRequirement {
        key: t.key.clone(),
        operator: format!("{:?}", t.operator),
        values: (!t.values.is_empty()).then(|| t.values.clone()),
    };
    Some(Affinity {
        node_affinity: Some(NodeAffinity {
            // Every required condition in one term: they must all hold.
            required_during_scheduling_ignored_during_execution: (!required.is_empty()).then(
                || NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(required.iter().map(requirement).collect()),
                        ..Default::default()
                    }],
                },
            ),
            preferred_during_scheduling_ignored_during_execution: (!preferred.is_empty()).then(
                || {
                    preferred
                        .iter()
                        .map(|t| PreferredSchedulingTerm {
                            weight: t.weight,
                            preference: NodeSelectorTerm {
                                match_expressions: Some(vec![requirement(t)]),
                                ..Default::default()
                            },
                        })
                        .collect()
                },
            ),
        }),
        ..Default::default()
    })
}

/// Spread of the pods when the service can run more than one replica: over zones
/// (`topology.kubernetes.io/zone`) and nodes (`kubernetes.io/hostname`), `soft`
/// (`ScheduleAnyway`) by default so a full zone or node never leaves a pod pending.
/// Tainted nodes the pods cannot use do not count (`nodeTaintsPolicy: Honor`), and
/// each rollout's ReplicaSet is spread on its own (`matchLabelKeys: [pod-template-hash]`,
/// Deployments only: a StatefulSet's pods have no such label).
pub fn spread_constraints(svc: &ServiceSpec) -> Option<Vec<TopologySpreadConstraint>> {
    if svc.max_replicas() <= 1 {
        return None;
    }
    let per_rollout = matches!(svc.kind(), WorkloadKind::Deployment | WorkloadKind::Worker);
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
                    match_label_keys: per_rollout.then(|| vec!["pod-template-hash".into()]),
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

pub fn quantities(c: &CpuMem) -> Option<BTreeMap<String, Quantity>> {
    let mut m = BTreeMap::new();
    if let Some(cpu) = &c.cpu {
        m.insert("cpu".to_string(), Quantity(cpu.clone()));
    }
    if let Some(mem) = &c.memory {
        m.insert("memory".to_string(), Quantity(mem.clone()));
    }
    (!m.is_empty()).then_some(m)
}
