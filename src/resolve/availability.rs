//! How a service survives node drains and zone failures: its PodDisruptionBudget
//! (`disruption_budget`) and the spread of its pods (`spread`).
//!
//! Whether a PDB and spread constraints are written at all depends on the replica
//! count (more than one possible replica), which the renderer decides; here the
//! settings are merged and checked.

use std::collections::BTreeMap;

use super::{builtin, Amend, Resolver};
use crate::input::{IntOrPercent, ServiceLayer, SpreadMode};
use crate::merge::Layers;
use crate::rules;
use crate::source::Origin;
use crate::spec::{MaxUnavailable, Spread};

impl<'a> Resolver<'a> {
    /// `maxUnavailable` of the service's PDB, `None` when switched off.
    pub(super) fn disruption_budget(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Option<MaxUnavailable> {
        if let Some(t) = layers.pick(|l| l.disruption_budget.as_ref()) {
            origins.insert("disruption_budget".into(), t.origin);
        }
        if layers
            .pick(|l| l.disruption_budget.as_ref()?.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            return None;
        }
        let Some(v) = layers.pick(|l| l.disruption_budget.as_ref()?.max_unavailable.as_ref())
        else {
            return Some(MaxUnavailable::Count(builtin::MAX_UNAVAILABLE));
        };
        origins.insert("disruption_budget.max_unavailable".into(), v.origin.clone());
        match v.value {
            IntOrPercent::Int(n) => self
                .int_in_range(*n, 1, 10_000, &v.origin, "max_unavailable")
                .map(|n| MaxUnavailable::Count(n as u32)),
            IntOrPercent::Str(s) => {
                let pct = s
                    .strip_suffix('%')
                    .filter(|d| {
                        !d.is_empty() && d.len() <= 3 && d.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|d| d.parse::<u32>().ok());
                match pct {
                    Some(p) if (1..=100).contains(&p) => {
                        Some(MaxUnavailable::Percent(format!("{p}%")))
                    }
                    _ => {
                        self.error(
                            rules::INVALID_VALUE,
                            v.origin.clone(),
                            format!("`{s}` is not a pod count or a percentage from 1% to 100%"),
                        )
                        .help("write a count (`max_unavailable = 1`) or a percentage (`max_unavailable = \"25%\"`); `enabled = false` removes the budget");
                        None
                    }
                }
            }
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
