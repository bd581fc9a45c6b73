//! The Deployment of a service (`kind = "deployment"`, the default, and `worker`): the
//! pod template (`pod`), a selector that never changes with the version, the rollout
//! strategy, and no `replicas` when an HPA owns the count.

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{labels, meta, pod};
use crate::spec::{EnvSpec, PlatformSpec, RolloutStrategy, ServiceSpec};

pub use super::pod::{
    spread_constraints, CONFIG_HASH_ANNOTATION, CONTAINER_PORT_NAME, METRICS_PORT_NAME, NODE_KEY,
    SECRETS_MOUNT, ZONE_KEY,
};

pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    config_hash: String,
) -> Deployment {
    let labels = labels::service(platform, svc);
    let r = &svc.rollout;
    let strategy = match r.strategy {
        RolloutStrategy::Recreate => Some(DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        }),
        _ if r.max_surge.is_some() || r.max_unavailable.is_some() => Some(DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: r.max_surge.as_ref().map(super::int_or_string),
                max_unavailable: r.max_unavailable.as_ref().map(super::int_or_string),
            }),
        }),
        _ => None,
    };
    Deployment {
        metadata: meta(&svc.name, Some(&svc.namespace), labels.clone()),
        spec: Some(DeploymentSpec {
            replicas: svc.autoscaling.is_none().then_some(svc.replicas as i32),
            selector: LabelSelector {
                match_labels: Some(labels::selector(svc)),
                ..Default::default()
            },
            strategy,
            min_ready_seconds: r.min_ready_seconds,
            revision_history_limit: r.revision_history_limit,
            progress_deadline_seconds: r.progress_deadline,
            template: pod::template(env, svc, labels, config_hash),
            ..Default::default()
        }),
        ..Default::default()
    }
}
