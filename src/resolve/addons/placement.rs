//! Where an add-on's pods run (its typed `tolerations` and `node_selector`, else those
//! at the top of its Helm values), recorded to be checked against the cluster's
//! NodePools with the services' placement.

use std::collections::BTreeMap;

use crate::resolve::Resolver;
use crate::source::Origin;
use crate::spec::AddonSettings;

impl Resolver<'_> {
    /// Records where the add-on's pods run, checked against the cluster's NodePools
    /// with the services' placement: the typed `tolerations` and `node_selector`, else
    /// the `tolerations` and `nodeSelector` at the top of its Helm values, else none
    /// (the chart's defaults: most charts set neither). Values that place pods deeper
    /// in the tree (per component, as kube-prometheus-stack does) are not guessed at:
    /// such an add-on is not checked.
    pub(super) fn addon_placement(
        &mut self,
        cluster: &str,
        name: &str,
        header: &Origin,
        s: &AddonSettings,
        values: &serde_json::Value,
    ) {
        let (node_selector, tolerations, origin, written) = if let Some(origin) =
            &s.placement_origin
        {
            (
                s.node_selector.clone(),
                s.tolerations.clone(),
                origin.clone(),
                true,
            )
        } else {
            let top = values.as_object();
            let selector = top.and_then(|t| t.get("nodeSelector"));
            let tolerations = top.and_then(|t| t.get("tolerations"));
            if selector.is_none() && tolerations.is_none() && nested_placement(values, 0) {
                return;
            }
            let Some(node_selector) = selector.map_or(Some(BTreeMap::new()), |v| {
                v.as_object().map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
            }) else {
                return;
            };
            let Some(tolerations) = tolerations.map_or(Some(Vec::new()), json_tolerations) else {
                return;
            };
            (node_selector, tolerations, header.clone(), false)
        };
        self.refs.push(crate::resolve::references::BaselineRef {
            cluster: cluster.to_string(),
            target: crate::resolve::references::Target::Placement {
                who: format!("add-on `{name}`"),
                node_selector,
                tolerations,
                written,
                tolerations_origin: s.tolerations_origin.clone(),
            },
            origin,
        });
    }
}

/// Whether Helm values set `nodeSelector`, `tolerations` or `affinity` below their top
/// level (per component).
fn nested_placement(v: &serde_json::Value, depth: usize) -> bool {
    match v {
        serde_json::Value::Object(m) => m.iter().any(|(k, v)| {
            (depth > 0 && matches!(k.as_str(), "nodeSelector" | "tolerations" | "affinity"))
                || nested_placement(v, depth + 1)
        }),
        serde_json::Value::Array(a) => a.iter().any(|v| nested_placement(v, depth + 1)),
        _ => false,
    }
}

/// Tolerations written as Helm values (Kubernetes' own shape), or `None` when they are
/// not a list of objects kgen can read.
fn json_tolerations(v: &serde_json::Value) -> Option<Vec<crate::spec::Toleration>> {
    use crate::spec::TolerationOperator;
    v.as_array()?
        .iter()
        .map(|t| {
            let t = t.as_object()?;
            let text = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
            Some(crate::spec::Toleration {
                key: text("key"),
                operator: match text("operator").as_deref() {
                    Some("Exists") => TolerationOperator::Exists,
                    None | Some("Equal") => TolerationOperator::Equal,
                    Some(_) => return None,
                },
                value: text("value"),
                effect: match text("effect").as_deref() {
                    None => None,
                    Some(e) => Some(serde_json::from_value(serde_json::json!(e)).ok()?),
                },
                seconds: t.get("tolerationSeconds").and_then(|v| v.as_i64()),
            })
        })
        .collect()
}
