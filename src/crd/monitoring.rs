//! Prometheus Operator custom resources (`monitoring.coreos.com/v1`):
//! [`ServiceMonitor`] and [`PrometheusRule`], restricted to the fields kgen emits.
//!
//! Mirrors the CRDs of prometheus-operator/prometheus-operator v0.93.0
//! (`example/prometheus-operator-crd-full/monitoring.coreos.com_servicemonitors.yaml`
//! and `monitoring.coreos.com_prometheusrules.yaml`), kept verbatim in
//! `shared/schemas/crds/monitoring.coreos.com/servicemonitor_v1.json` and
//! `shared/schemas/crds/monitoring.coreos.com/prometheusrule_v1.json`.
//!
//! Durations (`interval`, `scrapeTimeout`, `for`) are Prometheus duration strings
//! (`30s`, `5m`); upstream constrains them with a pattern, which the schema
//! referee checks. A rule's `expr` is int-or-string upstream; kgen always writes
//! PromQL strings.

use super::custom_resource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------
// ServiceMonitor
// ---------------------------------------------------------------------------

/// A `ServiceMonitor`: which Services Prometheus scrapes, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceMonitor {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ServiceMonitorSpec,
}
custom_resource!(
    ServiceMonitor,
    ServiceMonitorSpec,
    "monitoring.coreos.com/v1",
    "ServiceMonitor"
);

/// `ServiceMonitor.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceMonitorSpec {
    /// Selects the Services to scrape (required upstream); kgen sets `matchLabels`.
    pub selector: LabelSelector,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub namespace_selector: Option<NamespaceSelector>,
    /// Required upstream, so always serialised.
    pub endpoints: Vec<Endpoint>,
}

/// Namespaces in which to look for the selected Services.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespaceSelector {
    /// Select all namespaces.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub any: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub match_names: Vec<String>,
}

/// One scrape endpoint of the selected Services.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoint {
    /// Name of the Service port.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub port: Option<String>,
    /// HTTP path of the metrics (default `/metrics`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scrape_timeout: Option<String>,
}

// ---------------------------------------------------------------------------
// PrometheusRule
// ---------------------------------------------------------------------------

/// A `PrometheusRule`: alerting and recording rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusRule {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: PrometheusRuleSpec,
}
custom_resource!(
    PrometheusRule,
    PrometheusRuleSpec,
    "monitoring.coreos.com/v1",
    "PrometheusRule"
);

/// `PrometheusRule.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusRuleSpec {
    /// Group names must be unique (a list-map keyed by `name` upstream).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub groups: Vec<RuleGroup>,
}

/// A named group of rules evaluated together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleGroup {
    /// Non-empty, required upstream.
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub rules: Vec<Rule>,
}

/// An alerting rule (`alert`) or recording rule (`record`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub record: Option<String>,
    /// PromQL expression (required upstream).
    pub expr: String,
    /// How long the condition must hold before the alert fires.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none", default)]
    pub for_: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    /// An alerting rule with a `severity` label and a `summary` annotation.
    pub fn alert(
        name: impl Into<String>,
        expr: impl Into<String>,
        for_: impl Into<String>,
        severity: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            alert: Some(name.into()),
            expr: expr.into(),
            for_: Some(for_.into()),
            labels: BTreeMap::from([("severity".to_string(), severity.into())]),
            annotations: BTreeMap::from([("summary".to_string(), summary.into())]),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::test_support::{assert_conforms, problems};
    use serde_json::json;

    fn labels() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), "main-api".to_string()),
            (
                "app.kubernetes.io/instance".to_string(),
                "main-api-dev".to_string(),
            ),
        ])
    }

    fn service_monitor() -> ServiceMonitor {
        let mut sm = ServiceMonitor::named(
            "main-api",
            "main-api-dev",
            ServiceMonitorSpec {
                selector: LabelSelector {
                    match_labels: Some(labels()),
                    match_expressions: None,
                },
                namespace_selector: Some(NamespaceSelector {
                    any: None,
                    match_names: vec!["main-api-dev".into()],
                }),
                endpoints: vec![Endpoint {
                    port: Some("http-metrics".into()),
                    path: Some("/metrics".into()),
                    interval: Some("30s".into()),
                    scrape_timeout: Some("10s".into()),
                }],
            },
        );
        sm.metadata.labels = Some(labels());
        sm
    }

    fn prometheus_rule() -> PrometheusRule {
        let job = r#"job="main-api", namespace="main-api-dev""#;
        PrometheusRule::named(
            "main-api",
            "main-api-dev",
            PrometheusRuleSpec {
                groups: vec![RuleGroup {
                    name: "main-api.rules".into(),
                    rules: vec![
                        Rule::alert(
                            "MainApiDown",
                            format!("up{{{job}}} == 0"),
                            "5m",
                            "critical",
                            "main-api is down in dev",
                        ),
                        Rule::alert(
                            "MainApiHighErrorRate",
                            format!(
                                "sum(rate(http_requests_total{{{job}, code=~\"5..\"}}[5m]))\n  / sum(rate(http_requests_total{{{job}}}[5m])) > 0.05"
                            ),
                            "10m",
                            "warning",
                            "more than 5% of main-api requests fail",
                        ),
                        Rule::alert(
                            "MainApiHighLatency",
                            format!(
                                "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{job}}}[5m]))) > 1"
                            ),
                            "15m",
                            "warning",
                            "p99 latency of main-api above 1s",
                        ),
                    ],
                }],
            },
        )
    }

    #[test]
    fn service_monitor_conforms() {
        let json = assert_conforms(&service_monitor());
        assert_eq!(json["apiVersion"], "monitoring.coreos.com/v1");
        assert_eq!(
            json["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
            "main-api"
        );
        assert_eq!(json["spec"]["endpoints"][0]["scrapeTimeout"], "10s");
    }

    #[test]
    fn prometheus_rule_conforms() {
        let json = assert_conforms(&prometheus_rule());
        let rules = json["spec"]["groups"][0]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0]["for"], "5m");
        assert_eq!(rules[0]["labels"], json!({"severity": "critical"}));
        assert!(rules[0].get("record").is_none());
    }

    #[test]
    fn bad_duration_and_unknown_field_are_rejected() {
        let mut json = serde_json::to_value(service_monitor()).unwrap();
        json["spec"]["endpoints"][0]["interval"] = json!("30 seconds");
        json["spec"]["endpoints"][0]["scrapeTimout"] = json!("10s");
        let Some(problems) = problems(&json) else {
            return;
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("spec.endpoints[0].interval: "),
            "{problems:?}"
        );
        assert_eq!(problems[1], "spec.endpoints[0].scrapeTimout: unknown field");
    }

    #[test]
    fn duplicate_rule_group_names_are_rejected() {
        let mut rule = prometheus_rule();
        let group = rule.spec.groups[0].clone();
        rule.spec.groups.push(group);
        let Some(problems) = problems(&serde_json::to_value(rule).unwrap()) else {
            return;
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("spec.groups[1]: duplicate"),
            "{problems:?}"
        );
    }

    #[test]
    fn wrong_type_is_rejected() {
        let mut json = serde_json::to_value(prometheus_rule()).unwrap();
        json["spec"]["groups"][0]["rules"][1]["expr"] = json!(["up"]);
        json["spec"]["groups"][0]["rules"][2]["labels"]["severity"] = json!(3);
        let Some(problems) = problems(&json) else {
            return;
        };
        assert_eq!(
            problems,
            vec![
                "spec.groups[0].rules[1].expr: expected integer or string, got array".to_string(),
                "spec.groups[0].rules[2].labels.severity: expected string, got integer".to_string(),
            ]
        );
    }

    #[test]
    fn json_schemas_derive() {
        for schema in [
            schemars::schema_for!(ServiceMonitor),
            schemars::schema_for!(PrometheusRule),
        ] {
            let schema = serde_json::to_value(schema).unwrap();
            assert_eq!(schema["additionalProperties"], false);
            assert!(schema["properties"].get("spec").is_some());
        }
    }
}
