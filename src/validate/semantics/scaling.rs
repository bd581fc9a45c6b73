//! Scaling and availability: HorizontalPodAutoscaler (autoscaling/v2) bounds, targets
//! and metrics; PodDisruptionBudget fields.

use serde_json::Value;

use super::{int_or_percent, Checker};
use crate::quantity::Quantity;
use crate::rules;
use crate::validate::{arr_at, int_at, scalar_text, str_at, FieldPath, Finding};

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
            let key = format!("autoscaling.{resource}");
            let tp = mp.key(field).key("target");
            let Some(target) = source.get("target") else {
                continue;
            };
            let ttype = str_at(target, "type").unwrap_or("");
            let resource_metric = field == "resource" || field == "containerResource";
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
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "minReplicas": 5, "maxReplicas": 3,
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
}
