//! The baseline of a cluster, as objects: under `generated/clusters/<cluster>/baseline/`
//! the kinds every cluster serves (StorageClasses, PriorityClasses, the platform roles'
//! ClusterRoles and bindings), synced by `<cluster>-baseline` before the add-ons; under
//! `generated/clusters/<cluster>/baseline-custom/` the custom resources the add-ons
//! define (ClusterIssuers, ClusterSecretStores, NodePools, EC2NodeClasses), synced by
//! `<cluster>-baseline-custom` once the add-ons that define them are healthy (see
//! `argocd::bootstrap_wave`).
//!
//! The developer role is bound where the services live: a `platform-developer`
//! RoleBinding in every namespace of the cluster's services, written next to the
//! Namespace object ([`developer_binding`]).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::Value;

use super::{cluster_dir, labels, meta, Object};
use crate::crd::cert_manager::{
    Acme, ClusterIssuer, Dns01, Http01, Http01Ingress, IssuerSpec as IssuerObjectSpec, Route53,
    SecretKeySelector, SelfSigned, Solver, SolverSelector,
};
use crate::crd::external_secrets::{
    AwsProvider, ClusterSecretStore, ClusterSecretStoreCondition,
    SecretStoreProvider as StoreProvider, SecretStoreSpec as StoreObjectSpec, API_VERSION_V1BETA1,
};
use crate::crd::karpenter::{
    AmiSelectorTerm, Disruption, Ec2NodeClass, Ec2NodeClassSpec, NodeClaimSpec, NodeClaimTemplate,
    NodeClassRef, NodePool, NodePoolSpec as PoolObjectSpec, Requirement, SelectorTerm,
    TemplateMeta,
};
use crate::crd::CustomResource;
use crate::spec::{
    AcmeSolver, BindingMode, ClusterSpec, IssuerKind, IssuerSpec, NodeClassSpec, NodePoolSpec,
    PlatformRole, PlatformSpec, PriorityClassSpec, ReclaimPolicy, RoleSpec, SecretStoreProvider,
    SecretStoreSpec, StorageClassSpec,
};

/// The component (directory and Application suffix) of the core baseline objects.
pub const CORE: &str = "baseline";
/// The component of the baseline's custom resources.
pub const CUSTOM: &str = "baseline-custom";
/// The RBAC API group.
const RBAC: &str = "rbac.authorization.k8s.io";
/// The EBS CSI driver's provisioner name.
pub const EBS_PROVISIONER: &str = "ebs.csi.aws.com";
/// The annotation that makes a StorageClass the default.
const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";

/// Every baseline object of `cluster`, in `baseline/` and `baseline-custom/`.
pub fn objects(platform: &PlatformSpec, cluster: &ClusterSpec) -> Vec<Object> {
    let b = &cluster.baseline;
    let at = |component: &str, kind: &str, name: &str| {
        format!(
            "{}/{}-{name}.yaml",
            cluster_dir(&cluster.name, component),
            kind.to_ascii_lowercase()
        )
    };
    let mut out = Vec::new();
    let mut push = |component: &str, value: Value| {
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        out.push(Object::of_cluster(
            &cluster.name,
            at(component, &kind, &name),
            &value,
        ));
    };
    let json = |v: &dyn erased::Ser| v.to_json();
    for s in &b.storage_classes {
        push(CORE, json(&storage_class(platform, s)));
    }
    for p in &b.priority_classes {
        push(CORE, json(&priority_class(platform, p)));
    }
    for r in &b.roles {
        for v in role_objects(platform, r) {
            push(CORE, v);
        }
    }
    for i in &b.issuers {
        push(CUSTOM, json(&issuer(platform, i)));
    }
    // The operator of a cluster serves one version: the one its environments' setting
    // names (`[external_secrets] api_version`), whatever backend they use.
    let eso_v1beta1 = platform
        .environments_on(&cluster.name)
        .any(|e| e.external_secrets.api_version == API_VERSION_V1BETA1);
    for s in &b.secret_stores {
        let mut store = secret_store(platform, s);
        if eso_v1beta1 {
            store.api_version = API_VERSION_V1BETA1.to_string();
        }
        push(CUSTOM, json(&store));
    }
    for c in &b.node_classes {
        push(CUSTOM, json(&node_class(platform, c)));
    }
    for p in &b.node_pools {
        push(CUSTOM, json(&node_pool(platform, p)));
    }
    out
}

/// The cluster-scoped kinds the baseline Applications create, `(group, kind)`.
pub fn cluster_kinds(b: &crate::spec::BaselineSpec) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if !b.storage_classes.is_empty() {
        out.push(("storage.k8s.io", "StorageClass"));
    }
    if !b.priority_classes.is_empty() {
        out.push(("scheduling.k8s.io", "PriorityClass"));
    }
    if b.roles.iter().any(|r| r.role != PlatformRole::Developer) {
        out.push((RBAC, "ClusterRoleBinding"));
    }
    if b.roles
        .iter()
        .any(|r| r.role == PlatformRole::MonitoringReader)
    {
        out.push((RBAC, "ClusterRole"));
    }
    if !b.issuers.is_empty() {
        out.push(("cert-manager.io", ClusterIssuer::KIND));
    }
    if !b.secret_stores.is_empty() {
        out.push(("external-secrets.io", ClusterSecretStore::KIND));
    }
    if !b.node_pools.is_empty() {
        out.push(("karpenter.sh", NodePool::KIND));
    }
    if !b.node_classes.is_empty() {
        out.push(("karpenter.k8s.aws", Ec2NodeClass::KIND));
    }
    out
}

/// Serialising the different object types through one closure.
mod erased {
    pub trait Ser {
        fn to_json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("Kubernetes objects serialise to JSON")
        }
    }
}

fn storage_class(platform: &PlatformSpec, s: &StorageClassSpec) -> StorageClass {
    let mut metadata = meta(&s.name, None, labels::platform(platform));
    if s.default {
        metadata.annotations = Some(BTreeMap::from([(
            DEFAULT_CLASS.to_string(),
            "true".to_string(),
        )]));
    }
    StorageClass {
        metadata,
        provisioner: EBS_PROVISIONER.to_string(),
        parameters: Some(s.parameters.clone()),
        reclaim_policy: Some(
            match s.reclaim_policy {
                ReclaimPolicy::Delete => "Delete",
                ReclaimPolicy::Retain => "Retain",
            }
            .to_string(),
        ),
        volume_binding_mode: Some(
            match s.binding_mode {
                BindingMode::WaitForFirstConsumer => "WaitForFirstConsumer",
                BindingMode::Immediate => "Immediate",
            }
            .to_string(),
        ),
        allow_volume_expansion: Some(s.allow_expansion),
        ..Default::default()
    }
}

fn priority_class(platform: &PlatformSpec, p: &PriorityClassSpec) -> PriorityClass {
    PriorityClass {
        metadata: meta(&p.name, None, labels::platform(platform)),
        value: p.value,
        global_default: p.global_default.then_some(true),
        preemption_policy: (!p.preempt).then(|| "Never".to_string()),
        description: p.description.clone(),
    }
}

/// The built-in ClusterRole a role binds, or the one kgen writes for it.
fn role_ref(role: PlatformRole) -> &'static str {
    match role {
        PlatformRole::Admin => "cluster-admin",
        PlatformRole::Developer => "edit",
        PlatformRole::Viewer => "view",
        PlatformRole::MonitoringReader => PlatformRole::MonitoringReader.object_name(),
    }
}

fn subjects(r: &RoleSpec) -> Vec<Subject> {
    r.groups
        .iter()
        .map(|g| Subject {
            api_group: Some(RBAC.into()),
            kind: "Group".into(),
            name: g.clone(),
            namespace: None,
        })
        .collect()
}

/// The cluster-wide objects of a role: its binding, and for the monitoring reader its
/// ClusterRole. The developer role has none (see [`developer_binding`]).
fn role_objects(platform: &PlatformSpec, r: &RoleSpec) -> Vec<Value> {
    let name = r.role.object_name();
    let mut out = Vec::new();
    if r.role == PlatformRole::Developer {
        return out;
    }
    if r.role == PlatformRole::MonitoringReader {
        let rule = |groups: &[&str], resources: &[&str]| PolicyRule {
            api_groups: Some(groups.iter().map(|s| (*s).to_string()).collect()),
            resources: Some(resources.iter().map(|s| (*s).to_string()).collect()),
            verbs: ["get", "list", "watch"]
                .iter()
                .map(|s| (*s).to_string())
                .collect(),
            ..Default::default()
        };
        let role = ClusterRole {
            metadata: meta(name, None, labels::platform(platform)),
            rules: Some(vec![
                rule(
                    &[""],
                    &["endpoints", "namespaces", "nodes", "pods", "services"],
                ),
                rule(
                    &["monitoring.coreos.com"],
                    &[
                        "alertmanagers",
                        "podmonitors",
                        "probes",
                        "prometheuses",
                        "prometheusrules",
                        "servicemonitors",
                    ],
                ),
                // The kubelet's metrics (`/metrics`, `/metrics/cadvisor`), read from the
                // kubelet itself. Not `nodes/proxy`: a `get` on it reaches the whole
                // kubelet API, exec included (over a WebSocket upgrade), far more
                // than reading metrics.
                PolicyRule {
                    api_groups: Some(vec![String::new()]),
                    resources: Some(vec!["nodes/metrics".into()]),
                    verbs: vec!["get".into()],
                    ..Default::default()
                },
                PolicyRule {
                    non_resource_urls: Some(vec!["/metrics".into()]),
                    verbs: vec!["get".into()],
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        out.push(serde_json::to_value(role).expect("serialises"));
    }
    let binding = ClusterRoleBinding {
        metadata: meta(name, None, labels::platform(platform)),
        role_ref: RoleRef {
            api_group: RBAC.into(),
            kind: "ClusterRole".into(),
            name: role_ref(r.role).into(),
        },
        subjects: Some(subjects(r)),
    };
    out.push(serde_json::to_value(binding).expect("serialises"));
    out
}

/// The developer role's RoleBinding in `namespace` (to the built-in `edit` ClusterRole),
/// when the cluster declares the role.
pub fn developer_binding(
    platform: &PlatformSpec,
    cluster: &ClusterSpec,
    namespace: &str,
) -> Option<RoleBinding> {
    let r = cluster.baseline.developer()?;
    Some(RoleBinding {
        metadata: super::with_wave(
            meta(
                PlatformRole::Developer.object_name(),
                Some(namespace),
                labels::platform(platform),
            ),
            super::wave::SUPPORT,
        ),
        role_ref: RoleRef {
            api_group: RBAC.into(),
            kind: "ClusterRole".into(),
            name: role_ref(PlatformRole::Developer).into(),
        },
        subjects: Some(subjects(r)),
    })
}

/// The file of the developer RoleBinding next to a shared namespace's file in
/// `clusters/<cluster>/namespaces/` (a `.` cannot be in a namespace name, so it cannot
/// collide with another namespace's file).
pub fn developer_binding_file(namespace: &str) -> String {
    format!("{namespace}.rolebinding.yaml")
}

/// The file of the developer RoleBinding in a service's directory.
pub const DEVELOPER_BINDING_FILE: &str = "rolebinding-platform-developer.yaml";

fn issuer(platform: &PlatformSpec, i: &IssuerSpec) -> ClusterIssuer {
    let spec = match &i.kind {
        IssuerKind::SelfSigned => IssuerObjectSpec {
            acme: None,
            self_signed: Some(SelfSigned {}),
        },
        IssuerKind::Acme {
            server,
            email,
            solvers,
        } => {
            let solvers = solvers.iter().map(|solver| match solver {
                AcmeSolver::Http01 { ingress_class } => Solver {
                    http01: Some(Http01 {
                        ingress: Http01Ingress {
                            ingress_class_name: ingress_class.clone(),
                        },
                    }),
                    ..Default::default()
                },
                AcmeSolver::Dns01 {
                    region,
                    hosted_zone_id,
                    role,
                    dns_zones,
                } => Solver {
                    dns01: Some(Dns01 {
                        route53: Route53 {
                            region: region.clone(),
                            hosted_zone_id: hosted_zone_id.clone(),
                            role: role.clone(),
                        },
                    }),
                    selector: (!dns_zones.is_empty()).then(|| SolverSelector {
                        dns_zones: dns_zones.clone(),
                    }),
                    ..Default::default()
                },
            });
            IssuerObjectSpec {
                acme: Some(Acme {
                    server: server.clone(),
                    email: email.clone(),
                    private_key_secret_ref: SecretKeySelector {
                        name: format!("{}-account-key", i.name),
                    },
                    solvers: solvers.collect(),
                }),
                self_signed: None,
            }
        }
    };
    // The CRDs of the baseline's custom resources are add-ons'.
    ClusterIssuer::new(
        super::skipping_dry_run(meta(&i.name, None, labels::platform(platform))),
        spec,
    )
}

fn secret_store(platform: &PlatformSpec, s: &SecretStoreSpec) -> ClusterSecretStore {
    let conditions = if s.namespaces.is_empty() && s.namespace_regexes.is_empty() {
        Vec::new()
    } else {
        vec![ClusterSecretStoreCondition {
            namespaces: s.namespaces.clone(),
            namespace_regexes: s.namespace_regexes.clone(),
        }]
    };
    ClusterSecretStore::new(
        super::skipping_dry_run(meta(&s.name, None, labels::platform(platform))),
        StoreObjectSpec {
            provider: StoreProvider {
                aws: AwsProvider {
                    service: match s.provider {
                        SecretStoreProvider::SecretsManager => "SecretsManager",
                        SecretStoreProvider::ParameterStore => "ParameterStore",
                    }
                    .to_string(),
                    region: s.region.clone(),
                    role: s.role.clone(),
                },
            },
            conditions,
        },
    )
}

fn node_class(platform: &PlatformSpec, c: &NodeClassSpec) -> Ec2NodeClass {
    Ec2NodeClass::new(
        super::skipping_dry_run(meta(&c.name, None, labels::platform(platform))),
        Ec2NodeClassSpec {
            role: c.role.clone(),
            subnet_selector_terms: vec![SelectorTerm {
                tags: c.subnet_tags.clone(),
            }],
            security_group_selector_terms: vec![SelectorTerm {
                tags: c.security_group_tags.clone(),
            }],
            ami_selector_terms: vec![AmiSelectorTerm {
                alias: c.ami_alias.clone(),
            }],
        },
    )
}

fn node_pool(platform: &PlatformSpec, p: &NodePoolSpec) -> NodePool {
    NodePool::new(
        super::skipping_dry_run(meta(&p.name, None, labels::platform(platform))),
        PoolObjectSpec {
            template: NodeClaimTemplate {
                metadata: (!p.labels.is_empty()).then(|| TemplateMeta {
                    labels: p.labels.clone(),
                }),
                spec: NodeClaimSpec {
                    node_class_ref: NodeClassRef {
                        group: Ec2NodeClass::API_VERSION
                            .split('/')
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                        kind: Ec2NodeClass::KIND.to_string(),
                        name: p.node_class.clone(),
                    },
                    requirements: p
                        .requirements
                        .iter()
                        .map(|(k, v)| Requirement {
                            key: k.clone(),
                            operator: "In".into(),
                            values: v.clone(),
                        })
                        .collect(),
                    taints: p
                        .taints
                        .iter()
                        .map(|t| crate::crd::karpenter::Taint {
                            key: t.key.clone(),
                            value: t.value.clone(),
                            effect: format!("{:?}", t.effect),
                        })
                        .collect(),
                    expire_after: p.expire_after.clone(),
                },
            },
            disruption: Disruption {
                consolidation_policy: p.consolidation.clone(),
                consolidate_after: p.consolidate_after.clone(),
            },
            limits: p.limits.clone(),
            weight: p.weight,
        },
    )
}
