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
use crate::spec::{DisruptionBudget, MaxUnavailable, Spread};

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
                self.int_or_percent(v, 1, "max_unavailable")
                    .map(DisruptionBudget::MaxUnavailable)
            }
            (None, None) => Some(DisruptionBudget::MaxUnavailable(MaxUnavailable::Count(
                builtin::MAX_UNAVAILABLE,
            ))),
        }
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
