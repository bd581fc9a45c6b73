//! The PodDisruptionBudget (policy/v1) of a service that can run more than one
//! replica: voluntary disruptions (node drains, Karpenter consolidation, cluster
//! upgrades) take down at most `maxUnavailable` of its pods at once.
//!
//! `maxUnavailable` (default 1) rather than `minAvailable`: it never blocks a drain
//! outright, whatever the current replica count (an HPA at its minimum, a scaled-down
//! environment). `unhealthyPodEvictionPolicy: AlwaysAllow` lets pods that are not
//! ready anyway be evicted, so a crash-looping release cannot wedge a node drain.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{labels, meta};
use crate::spec::{DisruptionBudget, PlatformSpec, ServiceSpec};

pub const UNHEALTHY_POD_EVICTION_POLICY: &str = "AlwaysAllow";

/// True when the service gets a PDB: it has one configured and can run more than one replica.
pub fn wanted(svc: &ServiceSpec) -> bool {
    svc.disruption_budget.is_some() && svc.runs_several_pods()
}

pub fn build(
    platform: &PlatformSpec,
    svc: &ServiceSpec,
    budget: &DisruptionBudget,
) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(
            &svc.name,
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: match budget {
                DisruptionBudget::MaxUnavailable(v) => Some(super::int_or_string(v)),
                DisruptionBudget::MinAvailable(_) => None,
            },
            min_available: match budget {
                DisruptionBudget::MinAvailable(v) => Some(super::int_or_string(v)),
                DisruptionBudget::MaxUnavailable(_) => None,
            },
            selector: Some(LabelSelector {
                match_labels: Some(labels::selector(svc)),
                ..Default::default()
            }),
            unhealthy_pod_eviction_policy: Some(UNHEALTHY_POD_EVICTION_POLICY.into()),
        }),
        ..Default::default()
    }
}
