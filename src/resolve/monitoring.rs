//! The monitoring stack of a cluster (`[monitoring]`, kube-prometheus-stack): its
//! layers merged and every value checked, `values` passed through as an add-on's. Which layers apply to which cluster is
//! decided in `clusters`.

use super::{builtin, is_duration, is_semver, Amend, Resolver};
use crate::input::MonitoringLayer;
use crate::merge::{Layers, Located};
use crate::source::{FileId, Origin};
use crate::spec::MonitoringSpec;
use crate::{names, quantity, rules};

impl<'a> Resolver<'a> {
    /// The stack from `[monitoring]` and the layers above it (lowest first); `None`
    /// when no layer exists or the highest `enabled` is `false`.
    pub(super) fn monitoring(
        &mut self,
        cluster: &str,
        above: &[(FileId, &'a MonitoringLayer)],
        ctx: &minijinja::Value,
    ) -> Option<MonitoringSpec> {
        let base = self.platform_file().monitoring.as_ref();
        if base.is_none() && above.is_empty() {
            return None;
        }
        let mut layers: Layers<MonitoringLayer> = Layers::new();
        if let Some(b) = base {
            layers.push(self.pf, &b.value);
        }
        for (f, o) in above {
            layers.push(*f, o);
        }
        if layers
            .pick(|l| l.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            return None;
        }
        let table_origin = base.map_or_else(
            || Origin::new(above.first().map_or(self.pf, |o| o.0), 0..0),
            |b| self.at(&b.span),
        );
        let chart_version = match layers.pick(|l| l.chart_version.as_ref()) {
            Some(v) => {
                if !is_semver(v.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        v.origin.clone(),
                        format!("`{}` is not a chart version", v.value),
                    )
                    .help(
                        "pin an exact chart version such as `77.0.0` (semantic version, no ranges)",
                    );
                }
                v.value.clone()
            }
            None => {
                self.error(
                    rules::MISSING_KEY,
                    table_origin.clone(),
                    "[monitoring] has no `chart_version`".into(),
                )
                .help("pin the kube-prometheus-stack chart, e.g. `chart_version = \"77.0.0\"`");
                String::new()
            }
        };
        let quantity = |this: &mut Self, v: Option<Located<&String>>, default: &str, what: &str| {
            this.checked_or(v, default, rules::INVALID_QUANTITY, what, |q| {
                quantity::parse_non_negative(q).map(|_| ())
            })
        };
        let prometheus_storage = quantity(
            self,
            layers.pick(|l| l.prometheus_storage.as_ref()),
            builtin::PROMETHEUS_STORAGE,
            "prometheus_storage",
        );
        let grafana_storage = quantity(
            self,
            layers.pick(|l| l.grafana_storage.as_ref()),
            builtin::GRAFANA_STORAGE,
            "grafana_storage",
        );
        let alertmanager_storage = quantity(
            self,
            layers.pick(|l| l.alertmanager_storage.as_ref()),
            builtin::ALERTMANAGER_STORAGE,
            "alertmanager_storage",
        );
        let count = |this: &mut Self, v: Option<Located<&i64>>, what: &str| -> u32 {
            v.map_or(1, |v| {
                this.int_in_range(*v.value, 1, 10, &v.origin, what)
                    .unwrap_or(1) as u32
            })
        };
        let prometheus_replicas = count(
            self,
            layers.pick(|l| l.prometheus_replicas.as_ref()),
            "prometheus_replicas",
        );
        let alertmanager_replicas = count(
            self,
            layers.pick(|l| l.alertmanager_replicas.as_ref()),
            "alertmanager_replicas",
        );
        let retention = match layers.pick(|l| l.retention.as_ref()) {
            Some(r) => {
                if !is_duration(r.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        r.origin.clone(),
                        format!("`{}` is not a Prometheus duration", r.value),
                    )
                    .help("write a duration like `15d`, `12h` or `2w`");
                }
                r.value.clone()
            }
            None => builtin::RETENTION.into(),
        };
        // A namespace is a DNS-1123 label (no dots), a StorageClass's name a subdomain.
        let name = |this: &mut Self,
                    v: Option<Located<&String>>,
                    default: &str,
                    what: &str,
                    label: bool|
         -> String {
            match v {
                Some(v) => {
                    let (checked, nearest) = if label {
                        (
                            names::check_dns1123_label(v.value),
                            names::nearest_dns1123_label(v.value),
                        )
                    } else {
                        (
                            names::check_dns1123_subdomain(v.value),
                            names::nearest_dns1123_subdomain(v.value),
                        )
                    };
                    if let Err(e) = checked {
                        let d = this.error(
                            rules::INVALID_NAME,
                            v.origin.clone(),
                            format!("{what}: {e}"),
                        );
                        if let Some(n) = nearest {
                            d.label(format!("did you mean `{n}`?"));
                        }
                    }
                    v.value.clone()
                }
                None => default.into(),
            }
        };
        let namespace = name(
            self,
            layers.pick(|l| l.namespace.as_ref()),
            builtin::MONITORING_NAMESPACE,
            "monitoring namespace",
            true,
        );
        let storage_class_at = layers.pick(|l| l.storage_class.as_ref());
        let storage_class = name(
            self,
            storage_class_at.clone(),
            builtin::STORAGE_CLASS,
            "storage_class",
            false,
        );
        self.refs.push(super::references::BaselineRef {
            cluster: cluster.to_string(),
            target: super::references::Target::StorageClass(storage_class.clone()),
            origin: storage_class_at.map_or_else(|| table_origin.clone(), |s| s.origin),
        });
        let chart_repo = layers
            .pick(|l| l.chart_repo.as_ref())
            .map_or_else(|| builtin::CHART_REPO.to_string(), |r| r.value.clone());
        // `values`, as an add-on's: each layer's templates rendered, merged in order.
        let mut values = serde_json::Value::Object(Default::default());
        self.merge_values_tables(&mut values, layers.each(|l| l.values.as_ref()), ctx);
        self.grafana_admin(&values, &table_origin);
        Some(MonitoringSpec {
            namespace,
            chart_repo,
            chart_version,
            retention,
            prometheus_storage,
            prometheus_replicas,
            grafana_storage,
            alertmanager_storage,
            alertmanager_replicas,
            storage_class,
            values,
        })
    }
}

impl Resolver<'_> {
    /// KG038: Grafana's admin password is the chart's default
    /// (kube-prometheus-stack's values.yaml: `grafana.adminPassword: prom-operator`),
    /// known to anyone who reads the chart, unless `grafana.admin.existingSecret`
    /// names a Secret (or Grafana is off).
    fn grafana_admin(&mut self, values: &serde_json::Value, at: &Origin) {
        let grafana = &values["grafana"];
        let secret = grafana["admin"]["existingSecret"]
            .as_str()
            .is_some_and(|s| !s.is_empty());
        if grafana["enabled"] == false || secret {
            return;
        }
        // A password in the values is refused as a secret (KG010).
        let problem = "Grafana keeps the kube-prometheus-stack chart's default admin password (`prom-operator`), which anyone who reads the chart knows";
        self.warning(rules::DEFAULT_CREDENTIALS, at.clone(), problem.into())
            .help("give it a Secret: `values = { grafana = { admin = { existingSecret = \"grafana-admin\" } } }`, the Secret (keys `admin-user`, `admin-password`) made in the monitoring namespace with the cluster (docs/platform.md#monitoring); or turn Grafana off with `grafana = { enabled = false }`");
    }
}
