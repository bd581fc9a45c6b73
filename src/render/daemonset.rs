//! The DaemonSet of a `daemonset` service: one pod per node the pods may run on
//! (node selector, tolerations), and its update strategy.

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, RollingUpdateDaemonSet,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{labels, meta, pod};
use crate::spec::{EnvSpec, PlatformSpec, RolloutStrategy, ServiceSpec};

pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    config_hash: String,
) -> DaemonSet {
    let labels = labels::service(platform, svc);
    let r = &svc.rollout;
    let update = match r.strategy {
        RolloutStrategy::OnDelete => Some(DaemonSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: None,
        }),
        _ if r.max_surge.is_some() || r.max_unavailable.is_some() => {
            Some(DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDaemonSet {
                    max_surge: r.max_surge.as_ref().map(super::int_or_string),
                    max_unavailable: r.max_unavailable.as_ref().map(super::int_or_string),
                }),
            })
        }
        _ => None,
    };
    DaemonSet {
        metadata: meta(&svc.name, Some(&svc.namespace), labels.clone()),
        spec: Some(DaemonSetSpec {
            selector: LabelSelector {
                match_labels: Some(labels::selector(svc)),
                ..Default::default()
            },
            update_strategy: update,
            min_ready_seconds: r.min_ready_seconds,
            revision_history_limit: r.revision_history_limit,
            template: pod::template(env, svc, labels, config_hash),
        }),
        ..Default::default()
    }
}
