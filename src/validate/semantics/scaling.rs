//! Scaling and availability: HorizontalPodAutoscaler (autoscaling/v2) bounds, the
//! kind it scales, metrics and scaling behavior (kubernetes
//! `pkg/apis/autoscaling/validation`: stabilization windows 0-3600 seconds, policy
//! periods 1-1800 seconds, values above 0); PodDisruptionBudget fields.

use serde_json::Value;

use super::{int_or_percent, Checker};
use crate::quantity::Quantity;
use crate::validate::{arr_at, int_at, scalar_text, str_at, FieldPath, Finding};
use crate::{names, rules};

impl Checker<'_, '_> {
    pub(super) fn hpa(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        let min = int_at(spec, "minReplicas");
        let max = int_at(spec, "maxReplicas");
        if let Some(m) = min {
            if m < 1 {
                self.push(
                    Finding::error(
                        rules::AUTOSCALER,
                        &path.key("minReplicas"),
                        format!("minReplicas {m} is below 1"),
                    )
                    .key("autoscaling.min")
                    .help(
                        "an autoscaler keeps at least one replica; to stop a service, disable it",
                    ),
                );
            }
        }
        if let Some(m) = max {
            if m < 1 {
                self.push(
                    Finding::error(
                        rules::AUTOSCALER,
                        &path.key("maxReplicas"),
                        format!("maxReplicas {m} is below 1"),
                    )
                    .key("autoscaling.max"),
                );
            }
        }
        let min_v = min.unwrap_or(1);
        if let Some(m) = max.filter(|m| *m >= 1 && *m < min_v) {
            self.push(
                Finding::error(
                    rules::AUTOSCALER,
                    &path.key("maxReplicas"),
                    format!("maxReplicas {m} is less than minReplicas {min_v}"),
                )
                .also(&path.key("minReplicas"))
                .key("autoscaling.max")
                .key("autoscaling.min"),
            );
        }
        if let Some(t) = spec.get("scaleTargetRef") {
            for field in ["kind", "name"] {
                if str_at(t, field).is_none_or(str::is_empty) {
                    self.push(Finding::error(
                        rules::AUTOSCALER,
                        &path.key("scaleTargetRef").key(field),
                        format!("scaleTargetRef has no {field}"),
                    ));
                }
            }
            self.scale_target(&path.key("scaleTargetRef"), t);
        }
        if let Some(b) = spec.get("behavior") {
            for dir in ["scaleUp", "scaleDown"] {
                if let Some(rules) = b.get(dir) {
                    self.scaling_rules(&path.key("behavior").key(dir), rules, dir);
                }
            }
        }
        for (i, m) in arr_at(spec, "metrics").iter().enumerate() {
            let mp = path.key("metrics").index(i);
            let type_ = str_at(m, "type").unwrap_or("");
            let field = match type_ {
                "Resource" => "resource",
                "ContainerResource" => "containerResource",
                "Pods" => "pods",
                "Object" => "object",
                "External" => "external",
                other => {
                    self.push(Finding::error(
                        rules::AUTOSCALER,
                        &mp.key("type"),
                        format!("unsupported metric type {other:?}: use Resource, ContainerResource, Pods, Object or External"),
                    ));
                    continue;
                }
            };
            let Some(source) = m.get(field) else {
                self.push(Finding::error(
                    rules::AUTOSCALER,
                    &mp,
                    format!("a {type_} metric needs the `{field}` field"),
                ));
                continue;
            };
            let resource = str_at(source, "name").unwrap_or("");
            if field == "containerResource" {
                let problem = match str_at(source, "container") {
                    None | Some("") => Some(format!(
                        "the ContainerResource metric of {resource} names no container; set the container whose usage scales the workload"
                    )),
                    Some(c) => names::check_dns1123_label(c)
                        .err()
                        .map(|e| format!("ContainerResource metric container: {e}")),
                };
                if let Some(p) = problem {
                    self.push(Finding::error(
                        rules::AUTOSCALER,
                        &mp.key(field).key("container"),
                        p,
                    ));
                }
            }
            let key = format!("autoscaling.{resource}");
            let tp = mp.key(field).key("target");
            let Some(target) = source.get("target") else {
                continue;
            };
            let ttype = str_at(target, "type").unwrap_or("");
            let resource_metric = field == "resource" || field == "containerResource";
            // `validateResourceSource`, `validateContainerResourceSource` (kubernetes
            // `pkg/apis/autoscaling/validation`): a resource target sets a utilisation
            // or an average value, not both, whatever its type.
            if resource_metric
                && target
                    .get("averageUtilization")
                    .is_some_and(|v| !v.is_null())
                && target.get("averageValue").is_some_and(|v| !v.is_null())
            {
                self.push(
                    Finding::error(
                        rules::AUTOSCALER,
                        &tp.key("averageValue"),
                        format!("the {resource} target sets both averageUtilization and averageValue; the API server accepts one of them"),
                    )
                    .key(&key)
                    .help("keep averageUtilization with type Utilization, or averageValue with type AverageValue"),
                );
            }
            match ttype {
                "Utilization" if !resource_metric => self.push(Finding::error(
                    rules::AUTOSCALER,
                    &tp.key("type"),
                    format!(
                        "a {type_} metric cannot target Utilization: use AverageValue or Value"
                    ),
                )),
                "Value" if resource_metric => self.push(Finding::error(
                    rules::AUTOSCALER,
                    &tp.key("type"),
                    "a resource metric targets Utilization or AverageValue, not Value",
                )),
                "Utilization" | "Value" | "AverageValue" => {}
                other => self.push(Finding::error(
                    rules::AUTOSCALER,
                    &tp.key("type"),
                    format!(
                        "unsupported target type {other:?}: use Utilization, AverageValue or Value"
                    ),
                )),
            }
            let wanted = match ttype {
                "Utilization" => "averageUtilization",
                "AverageValue" => "averageValue",
                "Value" => "value",
                _ => continue,
            };
            match target.get(wanted) {
                None => self.push(
                    Finding::error(
                        rules::AUTOSCALER,
                        &tp,
                        format!("a {ttype} target needs `{wanted}`"),
                    )
                    .key(&key),
                ),
                Some(v) if wanted == "averageUtilization" => {
                    if v.as_i64().is_none_or(|n| n <= 0) {
                        self.push(
                            Finding::error(
                                rules::AUTOSCALER,
                                &tp.key(wanted),
                                format!(
                                    "the {resource} utilisation target {v} must be greater than 0"
                                ),
                            )
                            .key(&key),
                        );
                    }
                }
                Some(v) => {
                    let ok = scalar_text(v)
                        .and_then(|t| Quantity::parse(&t).ok())
                        .is_some_and(|q| q > Quantity::ZERO);
                    if !ok {
                        self.push(
                            Finding::error(
                                rules::AUTOSCALER,
                                &tp.key(wanted),
                                format!(
                                    "the {wanted} target {v} must be a quantity greater than 0"
                                ),
                            )
                            .key(&key),
                        );
                    }
                }
            }
        }
    }

    /// The kind an autoscaler scales, as the HPA controller resolves it
    /// (`reconcileAutoscaler`: the API group comes from `apiVersion`, then the kind's
    /// `scale` subresource).
    fn scale_target(&mut self, tp: &FieldPath, t: &Value) {
        let (Some(kind), api_version) = (str_at(t, "kind"), str_at(t, "apiVersion")) else {
            return;
        };
        let group = api_version.map_or("", |v| v.rsplit_once('/').map_or("", |(g, _)| g));
        let apps_kind = matches!(
            kind,
            "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet"
        );
        if apps_kind && group != "apps" {
            let said = match api_version {
                None => {
                    "without an apiVersion: the autoscaler looks the kind up in the core API group"
                        .to_string()
                }
                Some(v) => format!(
                    "with apiVersion {v}: the autoscaler looks the kind up in API group `{group}`"
                ),
            };
            self.push(
                Finding::error(
                    rules::AUTOSCALER,
                    &tp.key("apiVersion"),
                    format!("scaleTargetRef names {kind} {said}, finds none and never scales"),
                )
                .help("set apiVersion: apps/v1"),
            );
            return;
        }
        let unscalable = matches!(
            (group, kind),
            ("apps", "DaemonSet") | ("batch", "Job" | "CronJob") | ("", "Pod")
        );
        if unscalable {
            self.push(
                Finding::error(
                    rules::AUTOSCALER,
                    &tp.key("kind"),
                    format!("scaleTargetRef names a {kind}, which has no scale subresource: the autoscaler cannot scale it"),
                )
                .help("an autoscaler scales a Deployment, a StatefulSet or a ReplicaSet (or a custom resource with a scale subresource)"),
            );
        }
    }

    /// One direction of an autoscaler's behavior, as `validateScalingRules` checks it
    /// (a list of policies given must not be empty: only an absent one is defaulted).
    fn scaling_rules(&mut self, rp: &FieldPath, r: &Value, dir: &str) {
        if let Some(w) = int_at(r, "stabilizationWindowSeconds") {
            if !(0..=3600).contains(&w) {
                self.push(Finding::error(
                    rules::AUTOSCALER,
                    &rp.key("stabilizationWindowSeconds"),
                    format!("the {dir} stabilization window of {w} seconds is outside 0-3600"),
                ));
            }
        }
        if let Some(sel) = str_at(r, "selectPolicy") {
            if !matches!(sel, "Max" | "Min" | "Disabled") {
                self.push(Finding::error(
                    rules::AUTOSCALER,
                    &rp.key("selectPolicy"),
                    format!("unsupported {dir} selectPolicy {sel:?}: use Max, Min or Disabled"),
                ));
            }
        }
        let Some(policies) = r.get("policies").and_then(Value::as_array) else {
            return;
        };
        let pp = rp.key("policies");
        if policies.is_empty() {
            self.push(Finding::error(
                rules::AUTOSCALER,
                &pp,
                format!("the {dir} policies are an empty list: the API server requires at least one (leave the list out for the default policies)"),
            ));
        }
        for (i, p) in policies.iter().enumerate() {
            let ip = pp.index(i);
            let type_ = str_at(p, "type").unwrap_or("");
            if !matches!(type_, "Pods" | "Percent") {
                self.push(Finding::error(
                    rules::AUTOSCALER,
                    &ip.key("type"),
                    format!("unsupported {dir} policy type {type_:?}: use Pods or Percent"),
                ));
            }
            if let Some(v) = int_at(p, "value").filter(|v| *v <= 0) {
                self.push(Finding::error(
                    rules::AUTOSCALER,
                    &ip.key("value"),
                    format!("the value {v} of a {dir} policy must be greater than 0"),
                ));
            }
            if let Some(period) = int_at(p, "periodSeconds").filter(|p| !(1..=1800).contains(p)) {
                self.push(Finding::error(
                    rules::AUTOSCALER,
                    &ip.key("periodSeconds"),
                    format!("the period of {period} seconds of a {dir} policy is outside 1-1800"),
                ));
            }
        }
    }

    pub(super) fn pdb(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        if spec.get("minAvailable").is_some() && spec.get("maxUnavailable").is_some() {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path.key("maxUnavailable"),
                "a PodDisruptionBudget sets minAvailable or maxUnavailable, not both",
            ));
        }
        for field in ["minAvailable", "maxUnavailable"] {
            if let Some(v) = spec.get(field) {
                if let Err(e) = int_or_percent(v) {
                    self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &path.key(field),
                        format!("{field}: {e}"),
                    ));
                }
            }
        }
        if let Some(sel) = spec.get("selector") {
            self.label_selector(&path.key("selector"), sel, false);
        }
        // `ValidatePodDisruptionBudgetSpec` (kubernetes `pkg/apis/policy/validation`):
        // a set policy is one of the two (an empty string too is refused).
        if let Some(p) = str_at(spec, "unhealthyPodEvictionPolicy") {
            if !matches!(p, "IfHealthyBudget" | "AlwaysAllow") {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("unhealthyPodEvictionPolicy"),
                    format!("unsupported unhealthyPodEvictionPolicy {p:?}: use IfHealthyBudget or AlwaysAllow"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn hpa_bounds_and_targets() {
        let h = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}, "minReplicas": 5, "maxReplicas": 3,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 0}}}]}});
        let got = findings(&h);
        let msgs: Vec<&str> = got.iter().map(|f| f.2.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "maxReplicas 3 is less than minReplicas 5",
                "the cpu utilisation target 0 must be greater than 0"
            ]
        );
    }

    #[test]
    fn budgets() {
        let msgs = |v: Value| findings(&v).into_iter().map(|f| f.2).collect::<Vec<_>>();
        assert_eq!(
            msgs(
                json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
                "spec": {"minAvailable": 1, "maxUnavailable": "150%"}})
            ),
            vec![
                "a PodDisruptionBudget sets minAvailable or maxUnavailable, not both",
                "maxUnavailable: \"150%\" is neither a count nor a percentage like 25%",
            ]
        );
    }

    fn hpa(target: serde_json::Value, behavior: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
            "spec": {"scaleTargetRef": target, "minReplicas": 2, "maxReplicas": 4, "behavior": behavior}})
    }

    #[test]
    fn what_an_autoscaler_can_scale() {
        let msgs = |t: serde_json::Value| messages(&hpa(t, json!({})));
        assert_eq!(
            msgs(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"})),
            Vec::<String>::new()
        );
        assert_eq!(
            msgs(json!({"kind": "StatefulSet", "name": "db"})),
            vec!["scaleTargetRef names StatefulSet without an apiVersion: the autoscaler looks the kind up in the core API group, finds none and never scales"]
        );
        assert_eq!(
            msgs(json!({"apiVersion": "extensions/v1beta1", "kind": "Deployment", "name": "api"})),
            vec!["scaleTargetRef names Deployment with apiVersion extensions/v1beta1: the autoscaler looks the kind up in API group `extensions`, finds none and never scales"]
        );
        assert_eq!(
            msgs(json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent"})),
            vec!["scaleTargetRef names a DaemonSet, which has no scale subresource: the autoscaler cannot scale it"]
        );
        assert_eq!(
            msgs(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "api"})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn scaling_behavior_bounds() {
        let target = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"});
        let h = hpa(
            target.clone(),
            json!({
                "scaleUp": {"stabilizationWindowSeconds": 4000, "selectPolicy": "Maximum",
                    "policies": [{"type": "Replicas", "value": 0, "periodSeconds": 3600}]},
                "scaleDown": {"stabilizationWindowSeconds": 300, "policies": []}
            }),
        );
        let got = findings(&h);
        assert_eq!(
            got.iter().map(|f| (f.1.as_str(), f.2.as_str())).collect::<Vec<_>>(),
            vec![
                ("spec.behavior.scaleUp.stabilizationWindowSeconds", "the scaleUp stabilization window of 4000 seconds is outside 0-3600"),
                ("spec.behavior.scaleUp.selectPolicy", "unsupported scaleUp selectPolicy \"Maximum\": use Max, Min or Disabled"),
                ("spec.behavior.scaleUp.policies[0].type", "unsupported scaleUp policy type \"Replicas\": use Pods or Percent"),
                ("spec.behavior.scaleUp.policies[0].value", "the value 0 of a scaleUp policy must be greater than 0"),
                ("spec.behavior.scaleUp.policies[0].periodSeconds", "the period of 3600 seconds of a scaleUp policy is outside 1-1800"),
                ("spec.behavior.scaleDown.policies", "the scaleDown policies are an empty list: the API server requires at least one (leave the list out for the default policies)"),
            ]
        );
        // Findings about the behavior point at `autoscaling.behavior.<direction>`.
        assert_eq!(
            crate::validate::schema::origin_keys(&h, "HorizontalPodAutoscaler", &got[0].1),
            vec![
                "autoscaling.behavior.scale_up".to_string(),
                "autoscaling.behavior".to_string()
            ]
        );
        assert_eq!(
            messages(&hpa(
                target,
                json!({"scaleDown": {"stabilizationWindowSeconds": 0}})
            )),
            Vec::<String>::new()
        );
    }

    #[test]
    fn pdb_unhealthy_pod_eviction_policy() {
        let pdb = |p: &str| {
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "a"}}, "unhealthyPodEvictionPolicy": p}})
        };
        assert_eq!(
            findings(&pdb("Always")),
            vec![(
                "KG116".to_string(),
                "spec.unhealthyPodEvictionPolicy".to_string(),
                "unsupported unhealthyPodEvictionPolicy \"Always\": use IfHealthyBudget or AlwaysAllow".to_string()
            )]
        );
        assert!(findings(&pdb("AlwaysAllow")).is_empty());
    }

    #[test]
    fn container_resource_metrics_and_double_targets() {
        let hpa = |metric: serde_json::Value| {
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"},
                    "minReplicas": 1, "maxReplicas": 3, "metrics": [metric]}})
        };
        let got = findings(&hpa(
            json!({"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "",
            "target": {"type": "Utilization", "averageUtilization": 70, "averageValue": "500m"}}}),
        ));
        let got: Vec<(String, String)> = got.into_iter().map(|f| (f.1, f.2)).collect();
        assert_eq!(
            got,
            vec![
                ("spec.metrics[0].containerResource.container".to_string(), "the ContainerResource metric of cpu names no container; set the container whose usage scales the workload".to_string()),
                ("spec.metrics[0].containerResource.target.averageValue".to_string(), "the cpu target sets both averageUtilization and averageValue; the API server accepts one of them".to_string()),
            ]
        );
        assert!(findings(&hpa(json!({"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
            "target": {"type": "Utilization", "averageUtilization": 70}}}))).is_empty());
    }
}
