//! PriorityClasses of the baseline: their value within what the API server lets a
//! user define, preemption, and names clear of Kubernetes' own `system-` classes.

use crate::input::PriorityClassLayer;
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::rules;
use crate::source::Origin;
use crate::spec::PriorityClassSpec;
/// The largest priority a user-defined PriorityClass may have (the API server's `HighestUserDefinablePriority`).
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

impl<'a> Resolver<'a> {
    pub(super) fn priority_class(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, PriorityClassLayer>,
    ) -> Option<PriorityClassSpec> {
        self.object_name("PriorityClass", name, &header);
        if name.starts_with("system-") {
            self.error(
                rules::RESERVED,
                header.clone(),
                format!("`{name}`: PriorityClass names starting with `system-` are Kubernetes'"),
            )
            .help("`system-cluster-critical` and `system-node-critical` exist on every cluster: name them without declaring them, and give yours another name");
            return None;
        }
        let Some(value) = l.pick(|l| l.value.as_ref()) else {
            self.error(
                rules::MISSING_KEY,
                header,
                format!("PriorityClass `{name}` has no `value`"),
            )
            .help("add `value = 100000`: pods of higher priority are scheduled first and may preempt lower ones");
            return None;
        };
        let v = self.int_in_range(
            *value.value,
            -2_147_483_648,
            HIGHEST_USER_PRIORITY,
            &value.origin,
            "value",
        )?;
        let description = l.pick(|l| l.description.as_ref()).map(|d| d.value.clone());
        Some(PriorityClassSpec {
            name: name.to_string(),
            value: v as i32,
            preempt: l.pick(|l| l.preempt.as_ref()).is_none_or(|p| *p.value),
            global_default: l
                .pick(|l| l.global_default.as_ref())
                .is_some_and(|g| *g.value),
            description,
            origin: header,
        })
    }
}
