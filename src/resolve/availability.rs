//! How a service survives node drains and zone failures: its PodDisruptionBudget
//! (`disruption_budget`) and the spread of its pods (`spread`).
//!
//! Whether a PDB and spread constraints are written at all depends on the replica
//! count (more than one possible replica), which the renderer decides; here the
//! settings are merged and checked.

use std::collections::BTreeMap;

use super::{builtin, Amend, Resolver};
use crate::input::{ServiceLayer, SpreadMode};
use crate::merge::Layers;
use crate::rules;
use crate::source::Origin;
use crate::spec::{DisruptionBudget, IntOrPercentValue, MaxUnavailable, Spread};

impl<'a> Resolver<'a> {
    /// The limit of the service's PDB (`max_unavailable`, or `min_available`), `None`
    /// when switched off.
    pub(super) fn disruption_budget(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Option<DisruptionBudget> {
        if let Some(t) = layers.pick(|l| l.disruption_budget.as_deref()) {
            origins.insert("disruption_budget".into(), t.origin);
        }
        if layers
            .pick(|l| l.disruption_budget.as_ref()?.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            return None;
        }
        let max = layers.pick(|l| l.disruption_budget.as_ref()?.max_unavailable.as_ref());
        let min = layers.pick(|l| l.disruption_budget.as_ref()?.min_available.as_ref());
        match (max, min) {
            (Some(_), Some(m)) => {
                self.error(
                    rules::INVALID_VALUE,
                    m.origin.clone(),
                    "a disruption budget sets both `max_unavailable` and `min_available`".into(),
                )
                .help("the API server takes one of them: keep `max_unavailable` (kgen's default, 1) or `min_available`");
                None
            }
            (None, Some(m)) => {
                origins.insert("disruption_budget.min_available".into(), m.origin.clone());
                self.int_or_percent(m, 0, "min_available")
                    .map(DisruptionBudget::MinAvailable)
            }
            (Some(v), None) => {
                origins.insert("disruption_budget.max_unavailable".into(), v.origin.clone());
                // The API server takes 0, which lets no pod be evicted: say why kgen
                // does not, rather than "out of range".
                let zero = match v.value {
                    crate::input::IntOrPercent::Int(n) => (*n == 0).then(|| "0".to_string()),
                    crate::input::IntOrPercent::Str(s) => {
                        (s.trim_end_matches('%') == "0").then(|| format!("{s:?}"))
                    }
                };
                if let Some(written) = zero {
                    self.error(
                        rules::INVALID_VALUE,
                        v.origin.clone(),
                        format!("`max_unavailable = {written}` lets no pod be evicted: node drains (cluster upgrades, Karpenter's consolidation) wait on this service for ever"),
                    )
                    .help("let one pod go at a time (`max_unavailable = 1`, kgen's default), or turn the budget off with `disruption_budget = { enabled = false }`");
                    return None;
                }
                self.int_or_percent(v, 1, "max_unavailable")
                    .map(DisruptionBudget::MaxUnavailable)
            }
            (None, None) => Some(DisruptionBudget::MaxUnavailable(MaxUnavailable::Count(
                builtin::MAX_UNAVAILABLE,
            ))),
        }
    }

    /// KG036: a `min_available` that the service's fewest replicas do not exceed
    /// (`"100%"`, or at least `replicas`, or `autoscaling.min`): the budget allows no
    /// eviction, always or while the autoscaler keeps the minimum, so node drains,
    /// consolidation and cluster upgrades wait on it. Services that run one replica at
    /// most get no budget, and none is checked.
    pub(super) fn budget_that_blocks(
        &mut self,
        name: &str,
        budget: &DisruptionBudget,
        (fewest, most): (u32, u32),
        origins: &BTreeMap<String, Origin>,
    ) {
        let DisruptionBudget::MinAvailable(min) = budget else {
            return;
        };
        let (blocks, always) = match min {
            IntOrPercentValue::Count(n) => (*n >= fewest, *n >= most),
            IntOrPercentValue::Percent(p) => (p == "100%", p == "100%"),
        };
        let Some(at) = origins.get("disruption_budget.min_available") else {
            return;
        };
        if !blocks || most <= 1 {
            return;
        }
        let shown = match min {
            IntOrPercentValue::Count(n) => n.to_string(),
            IntOrPercentValue::Percent(p) => format!("\"{p}\""),
        };
        let message = if always {
            format!(
                "the disruption budget of `{name}` keeps `min_available = {shown}` of at most {most} replicas: it never allows an eviction, so every node drain, Karpenter consolidation and cluster upgrade waits on it until someone deletes a pod by hand"
            )
        } else {
            format!(
                "the disruption budget of `{name}` keeps `min_available = {shown}`, and the autoscaler may keep it at {fewest} replicas (`autoscaling.min`): then it allows no eviction, and node drains, Karpenter consolidation and cluster upgrades wait until the load adds a replica"
            )
        };
        self.warning(rules::BUDGET_BLOCKS, at.clone(), message).help(format!(
            "allow one pod to go at a time: `max_unavailable = 1` (kgen's default), or a `min_available` below {fewest}"
        ));
    }

    /// topologySpreadConstraints settings: soft spreading over zones and nodes by default.
    pub(super) fn spread(
        &self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Spread {
        let mut mode = |key: &str, v: Option<crate::merge::Located<&SpreadMode>>| {
            v.map_or(SpreadMode::Soft, |v| {
                origins.insert(format!("spread.{key}"), v.origin.clone());
                *v.value
            })
        };
        Spread {
            zones: mode("zones", layers.pick(|l| l.spread.as_ref()?.zones.as_ref())),
            nodes: mode("nodes", layers.pick(|l| l.spread.as_ref()?.nodes.as_ref())),
        }
    }
}
