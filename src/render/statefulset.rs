//! The StatefulSet of a `statefulset` service: stable pod names
//! (`<service>-0`, `<service>-1`, ...), the headless Service that gives each pod a DNS
//! name (`serviceName`), one volume claim per pod and volume (`volumeClaimTemplates`),
//! pod management, update strategy and claim retention.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{labels, meta, pod, service};
use crate::spec::{
    ClaimRetention, EnvSpec, PlatformSpec, PodManagement, RolloutStrategy, ServiceSpec,
    StatefulSetSpec as Settings, VolumeSource,
};

pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    settings: &Settings,
    config_hash: String,
) -> StatefulSet {
    let labels = labels::service(platform, svc);
    let r = &svc.rollout;
    let update = match r.strategy {
        RolloutStrategy::OnDelete => Some(StatefulSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: None,
        }),
        _ if r.partition.is_some() || r.max_unavailable.is_some() => {
            Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateStatefulSetStrategy {
                    partition: r.partition,
                    max_unavailable: r.max_unavailable.as_ref().map(super::int_or_string),
                }),
            })
        }
        _ => None,
    };
    let retention = |r: ClaimRetention| match r {
        ClaimRetention::Retain => "Retain".to_string(),
        ClaimRetention::Delete => "Delete".to_string(),
    };
    let claims: Vec<PersistentVolumeClaim> = svc
        .volumes
        .iter()
        .filter_map(|v| match &v.source {
            VolumeSource::Claim {
                size,
                storage_class,
                access_mode,
            } => Some(PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(v.name.clone()),
                    labels: Some(labels::selector(svc)),
                    ..Default::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec![access_mode.as_str().into()]),
                    storage_class_name: storage_class.clone(),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".to_string(),
                            Quantity(size.clone()),
                        )])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            _ => None,
        })
        .collect();
    StatefulSet {
        metadata: meta(&svc.name, Some(&svc.namespace), labels.clone()),
        spec: Some(StatefulSetSpec {
            replicas: svc.autoscaling.is_none().then_some(svc.replicas as i32),
            selector: LabelSelector {
                match_labels: Some(labels::selector(svc)),
                ..Default::default()
            },
            service_name: Some(service::headless_name(svc)),
            pod_management_policy: match settings.pod_management {
                PodManagement::OrderedReady => None,
                PodManagement::Parallel => Some("Parallel".into()),
            },
            update_strategy: update,
            min_ready_seconds: r.min_ready_seconds,
            revision_history_limit: r.revision_history_limit,
            persistent_volume_claim_retention_policy: (settings.when_deleted
                != ClaimRetention::Retain
                || settings.when_scaled != ClaimRetention::Retain)
                .then(|| StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some(retention(settings.when_deleted)),
                    when_scaled: Some(retention(settings.when_scaled)),
                }),
            volume_claim_templates: (!claims.is_empty()).then_some(claims),
            template: pod::template(env, svc, labels, config_hash),
            ..Default::default()
        }),
        ..Default::default()
    }
}
