//! Where the pods run: node selector, tolerations, node affinity, priority class and
//! termination grace period.

use std::collections::BTreeMap;

use crate::input::ServiceLayer;
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spec::{NodeTerm, Placement, Toleration};
use crate::{names, rules};

impl<'a> Resolver<'a> {
    /// Node selector, tolerations, node affinity, priority class, grace period.
    pub(in crate::resolve) fn placement(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Placement {
        let mut p = Placement::default();
        let selector = layers.map(|l| Some(&l.node_selector));
        for (k, e) in &selector {
            origins.insert(format!("node_selector.{k}"), e.value.origin.clone());
        }
        p.node_selector = self.node_selector(selector);
        if let Some(list) = layers.pick(|l| l.tolerations.as_ref()) {
            origins.insert("tolerations".into(), list.origin.clone());
            p.tolerations = self.tolerations(list);
        }
        for (which, list) in [
            (
                "required",
                layers.pick(|l| l.node_affinity.as_ref()?.required.as_ref()),
            ),
            (
                "preferred",
                layers.pick(|l| l.node_affinity.as_ref()?.preferred.as_ref()),
            ),
        ] {
            let Some(list) = list else { continue };
            origins.insert(format!("node_affinity.{which}"), list.origin.clone());
            let file = list.origin.file;
            for term in list.value {
                let at = |s: &std::ops::Range<usize>| Origin::new(file, s.clone());
                if let Err(e) = names::check_label_key(&term.key.value) {
                    self.error(
                        rules::INVALID_KEY,
                        at(&term.key.span),
                        format!("node label key: {e}"),
                    );
                }
                let values: Vec<String> = term
                    .values
                    .iter()
                    .flat_map(|v| &v.value)
                    .map(|v| v.value.clone())
                    .collect();
                use crate::spec::NodeOperator as Op;
                let values_at = term
                    .values
                    .as_ref()
                    .map_or(at(&term.operator.span), |v| at(&v.span));
                match term.operator.value {
                    Op::In | Op::NotIn if values.is_empty() => {
                        self.error(
                            rules::INVALID_VALUE,
                            values_at,
                            "`In` and `NotIn` need at least one value".into(),
                        )
                        .help(format!("list the label's values, e.g. `values = [\"arm64\"]`, or use `operator = \"Exists\"` for any value of `{}`", term.key.value));
                    }
                    Op::Exists | Op::DoesNotExist if !values.is_empty() => {
                        self.error(
                            rules::INVALID_VALUE,
                            values_at,
                            "`Exists` and `DoesNotExist` take no values".into(),
                        )
                        .help("remove `values`, or use `operator = \"In\"` (or `\"NotIn\"`) to match them");
                    }
                    Op::Gt | Op::Lt if values.len() != 1 || values[0].parse::<i64>().is_err() => {
                        self.error(
                            rules::INVALID_VALUE,
                            values_at,
                            "`Gt` and `Lt` take one integer value".into(),
                        )
                        .help("write one whole number as a string, e.g. `values = [\"4\"]`: the node label's value is compared as an integer");
                    }
                    _ => {}
                }
                let weight = match (&term.weight, which) {
                    (Some(w), "required") => {
                        self.error(
                            rules::INVALID_VALUE,
                            at(&w.span),
                            "a required node term has no `weight`".into(),
                        )
                        .help("`weight` ranks `preferred` terms; a `required` term must hold");
                        0
                    }
                    (Some(w), _) => self
                        .int_in_range(w.value, 1, 100, &at(&w.span), "weight")
                        .unwrap_or(1) as i32,
                    (None, "required") => 0,
                    (None, _) => 1,
                };
                let t = NodeTerm {
                    key: term.key.value.clone(),
                    operator: term.operator.value,
                    values,
                    weight,
                };
                if which == "required" {
                    p.required.push(t);
                } else {
                    p.preferred.push(t);
                }
            }
        }
        p.priority_class = layers.pick(|l| l.priority_class.as_ref()).map(|c| {
            origins.insert("priority_class".into(), c.origin.clone());
            if let Err(e) = names::check_dns1123_subdomain(c.value) {
                self.error(
                    rules::INVALID_NAME,
                    c.origin.clone(),
                    format!("priority_class: {e}"),
                );
            }
            c.value.clone()
        });
        p.termination_grace_period = layers
            .pick(|l| l.termination_grace_period.as_ref())
            .and_then(|g| {
                origins.insert("termination_grace_period".into(), g.origin.clone());
                self.int_in_range(*g.value, 0, 86_400, &g.origin, "termination_grace_period")
            });
        p
    }

    /// The labels of a node selector that the API server accepts; each other one is an
    /// error at its key (KG017) or value (KG019). Services' and add-ons' alike.
    pub(in crate::resolve) fn node_selector(
        &mut self,
        entries: BTreeMap<&str, crate::merge::MapEntry<'_, String>>,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (k, e) in entries {
            if let Err(err) = names::check_label_key(k) {
                self.error(
                    rules::INVALID_KEY,
                    e.key.clone(),
                    format!("node label key: {err}"),
                );
                continue;
            }
            if let Err(err) = names::check_label_value(e.value.value) {
                self.error(
                    rules::INVALID_VALUE,
                    e.value.origin.clone(),
                    format!("node label value: {err}"),
                );
                continue;
            }
            out.insert(k.to_string(), e.value.value.clone());
        }
        out
    }

    /// Tolerations as written, each checked as the API server checks them (a taint key,
    /// `Exists` without a value, `Equal` with a key, `seconds` with `NoExecute`).
    /// Services' and add-ons' alike.
    pub(in crate::resolve) fn tolerations(
        &mut self,
        list: crate::merge::Located<&Vec<crate::input::TolerationLayer>>,
    ) -> Vec<Toleration> {
        let mut out = Vec::new();
        let file = list.origin.file;
        for t in list.value {
            let at = |s: &std::ops::Range<usize>| Origin::new(file, s.clone());
            let operator = t
                .operator
                .as_ref()
                .map_or(crate::spec::TolerationOperator::Equal, |o| o.value);
            if let Some(k) = &t.key {
                if let Err(e) = names::check_label_key(&k.value) {
                    self.error(rules::INVALID_KEY, at(&k.span), format!("taint key: {e}"));
                }
            }
            if operator == crate::spec::TolerationOperator::Exists {
                if let Some(v) = &t.value {
                    self.error(
                        rules::INVALID_VALUE,
                        at(&v.span),
                        "a toleration with `operator = \"Exists\"` has no `value`".into(),
                    )
                    .help("remove `value`, or use `operator = \"Equal\"`");
                }
            } else if t.key.is_none() {
                self.error(rules::MISSING_KEY, list.origin.clone(), "a toleration with `operator = \"Equal\"` needs a `key`".into())
                        .help("add the taint's `key` (and `value`), or use `operator = \"Exists\"` without a key to tolerate every taint");
            }
            if let Some(s) = &t.seconds {
                if t.effect.as_ref().map(|e| e.value) != Some(crate::spec::TaintEffect::NoExecute) {
                    self.error(
                            rules::INVALID_VALUE,
                            at(&s.span),
                            "`seconds` applies to `effect = \"NoExecute\"` only".into(),
                        )
                        .help("`seconds` is how long the pod stays on a node after a `NoExecute` taint appears on it: add `effect = \"NoExecute\"`, or remove `seconds`");
                }
            }
            out.push(Toleration {
                key: t.key.as_ref().map(|k| k.value.clone()),
                operator,
                value: t.value.as_ref().map(|v| v.value.clone()),
                effect: t.effect.as_ref().map(|e| e.value),
                seconds: t.seconds.as_ref().map(|s| s.value),
            });
        }
        out
    }
}
