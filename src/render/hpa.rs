//! The HorizontalPodAutoscaler (autoscaling/v2) of a service. When it exists, the
//! Deployment has no `replicas`, so Argo CD and the HPA never fight over the count.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};

use super::{labels, meta};
use crate::spec::{
    Autoscaling, PlatformSpec, ScalingPolicyType, ScalingRules, SelectPolicy, ServiceSpec,
    WorkloadKind,
};

fn rules(r: &ScalingRules) -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: r.stabilization_window,
        select_policy: r.select.map(|s| {
            match s {
                SelectPolicy::Max => "Max",
                SelectPolicy::Min => "Min",
                SelectPolicy::Disabled => "Disabled",
            }
            .to_string()
        }),
        policies: (!r.policies.is_empty()).then(|| {
            r.policies
                .iter()
                .map(|(t, value, period)| HPAScalingPolicy {
                    type_: match t {
                        ScalingPolicyType::Pods => "Pods",
                        ScalingPolicyType::Percent => "Percent",
                    }
                    .into(),
                    value: *value,
                    period_seconds: *period,
                })
                .collect()
        }),
        ..Default::default()
    }
}

pub fn build(
    platform: &PlatformSpec,
    svc: &ServiceSpec,
    a: &Autoscaling,
) -> HorizontalPodAutoscaler {
    let metric = |name: &str, pct: u32| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: name.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(pct as i32),
                ..Default::default()
            },
        }),
        ..Default::default()
    };
    let mut metrics = Vec::new();
    if let Some(cpu) = a.cpu {
        metrics.push(metric("cpu", cpu));
    }
    if let Some(mem) = a.memory {
        metrics.push(metric("memory", mem));
    }
    HorizontalPodAutoscaler {
        metadata: meta(
            &svc.name,
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: match svc.kind() {
                    WorkloadKind::Statefulset => "StatefulSet",
                    _ => "Deployment",
                }
                .into(),
                name: svc.name.clone(),
            },
            behavior: a
                .behavior
                .as_ref()
                .map(|b| HorizontalPodAutoscalerBehavior {
                    scale_up: b.scale_up.as_ref().map(rules),
                    scale_down: b.scale_down.as_ref().map(rules),
                }),
            min_replicas: Some(a.min as i32),
            max_replicas: a.max as i32,
            metrics: Some(metrics),
        }),
        ..Default::default()
    }
}
