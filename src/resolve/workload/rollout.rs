//! How new versions of a service replace its old pods (`rollout`): the strategy and
//! its settings for each kind, the pairs of `max_surge` and `max_unavailable` the
//! API server refuses, and the settings `recreate` and `on-delete` have no use for.

use std::collections::BTreeMap;

use crate::input::{IntOrPercent, ServiceLayer, WorkloadKind};
use crate::merge::{Layers, Located};
use crate::resolve::{Amend, Resolver};
use crate::rules;
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{EnvSpec, IntOrPercentValue, Rollout, RolloutStrategy};
/// The first Kubernetes version whose API server keeps a StatefulSet's
/// `maxUnavailable` by default (the MaxUnavailableStatefulSet feature gate is beta, on,
/// from 1.35; alpha, off, from 1.24).
pub const MAX_UNAVAILABLE_STATEFULSET: (u32, u32) = (1, 35);

impl<'a> Resolver<'a> {
    /// How new versions replace old pods, for the settings each kind takes.
    pub(in crate::resolve) fn rollout(
        &mut self,
        kind: WorkloadKind,
        layers: &Layers<'a, ServiceLayer>,
        env: &EnvSpec,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Rollout {
        let mut r = Rollout::default();
        if !self.uses(kind, layers, "rollout") {
            return r;
        }
        use WorkloadKind as K;
        let only = |this: &mut Self, key: &str, v: Option<(Origin, bool)>, kinds: &[K]| -> bool {
            match v {
                Some((o, base)) if !kinds.contains(&kind) => {
                    if !base {
                        let takes: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                        this.error(
                            rules::KIND_MISMATCH,
                            o,
                            format!(
                                "`rollout.{key}` does not apply to {}",
                                super::kind_phrase(kind, layers)
                            ),
                        )
                        .help(format!("`rollout.{key}` is for a {}", takes.join(", ")));
                    }
                    false
                }
                Some(_) => true,
                None => false,
            }
        };
        if let Some(s) = layers.pick(|l| l.rollout.as_ref()?.strategy.as_ref()) {
            origins.insert("rollout.strategy".into(), s.origin.clone());
            let fits = match s.value {
                RolloutStrategy::Rolling => true,
                RolloutStrategy::Recreate => matches!(kind, K::Deployment | K::Worker),
                RolloutStrategy::OnDelete => matches!(kind, K::Statefulset | K::Daemonset),
            };
            if fits {
                r.strategy = *s.value;
            } else if !s.base {
                self.error(rules::KIND_MISMATCH, s.origin.clone(), format!("a `{}` cannot roll out with this strategy", kind.as_str()))
                    .help("`recreate` is for a deployment or worker, `on-delete` for a statefulset or daemonset; `rolling` fits every kind");
            }
        }
        let mut pct = |this: &mut Self,
                       key: &str,
                       v: Located<&IntOrPercent>,
                       min: i64|
         -> Option<IntOrPercentValue> {
            origins.insert(format!("rollout.{key}"), v.origin.clone());
            this.int_or_percent(v, min, key)
        };
        let surge_at = layers.pick(|l| l.rollout.as_ref()?.max_surge.as_ref());
        if let Some(v) = surge_at.clone() {
            if only(
                self,
                "max_surge",
                Some((v.origin.clone(), v.base)),
                &[K::Deployment, K::Worker, K::Daemonset],
            ) {
                r.max_surge = pct(self, "max_surge", v, 0);
            }
        }
        let unavailable_at = layers.pick(|l| l.rollout.as_ref()?.max_unavailable.as_ref());
        if let Some(v) = unavailable_at.clone() {
            if kind == K::Statefulset && env.kubernetes_version < MAX_UNAVAILABLE_STATEFULSET {
                // Before 1.35 the field is behind the alpha MaxUnavailableStatefulSet
                // feature gate (off by default, and not switchable on EKS): the API
                // server drops it, so the pods would still be replaced one at a time,
                // and Argo CD would compare against a field the cluster never keeps.
                if !v.base {
                    let (major, minor) = env.kubernetes_version;
                    let (need_major, need_minor) = MAX_UNAVAILABLE_STATEFULSET;
                    self.error(
                        rules::KIND_MISMATCH,
                        v.origin.clone(),
                        format!(
                            "`rollout.max_unavailable` on a `statefulset` needs Kubernetes {need_major}.{need_minor}; cluster `{}` runs {major}.{minor}",
                            env.cluster
                        ),
                    )
                    .help(format!(
                        "before {need_major}.{need_minor} the field is behind the alpha MaxUnavailableStatefulSet feature gate, off by default: the API server drops it and the pods are replaced one at a time; remove it, or set the cluster's `kubernetes_version = \"{need_major}.{need_minor}\"` once it runs {need_major}.{need_minor}"
                    ));
                }
            } else {
                // A StatefulSet's `maxUnavailable` cannot be 0 (it is a count of pods
                // updated at once); the other kinds weigh it against `max_surge` below.
                let min = if kind == K::Statefulset { 1 } else { 0 };
                r.max_unavailable = pct(self, "max_unavailable", v, min);
            }
        }
        if r.strategy == RolloutStrategy::Rolling {
            self.check_rolling_update(kind, &r, surge_at, unavailable_at);
        }
        let mut n = |this: &mut Self, key: &str, v: Option<Located<&i64>>, max: i64| {
            v.and_then(|v| {
                origins.insert(format!("rollout.{key}"), v.origin.clone());
                this.int_in_range(*v.value, 0, max, &v.origin, key)
                    .map(|n| n as i32)
            })
        };
        r.min_ready_seconds = n(
            self,
            "min_ready_seconds",
            layers.pick(|l| l.rollout.as_ref()?.min_ready_seconds.as_ref()),
            3600,
        );
        r.revision_history_limit = n(
            self,
            "revision_history_limit",
            layers.pick(|l| l.rollout.as_ref()?.revision_history_limit.as_ref()),
            100,
        );
        if let Some(v) = layers.pick(|l| l.rollout.as_ref()?.progress_deadline.as_ref()) {
            if only(
                self,
                "progress_deadline",
                Some((v.origin.clone(), v.base)),
                &[K::Deployment, K::Worker],
            ) {
                r.progress_deadline = n(self, "progress_deadline", Some(v), 86_400);
            }
        }
        if let Some(v) = layers.pick(|l| l.rollout.as_ref()?.partition.as_ref()) {
            if only(
                self,
                "partition",
                Some((v.origin.clone(), v.base)),
                &[K::Statefulset],
            ) {
                r.partition = n(self, "partition", Some(v), 10_000);
            }
        }
        if r.strategy != RolloutStrategy::Rolling {
            self.check_unused_by_strategy(kind, layers, &mut r);
        }
        r
    }

    /// The settings of a rolling update, which `recreate` and `on-delete` do not do:
    /// `max_surge` and `max_unavailable` (a Deployment, a DaemonSet), `max_unavailable`
    /// and `partition` (a StatefulSet). Each is refused at its value, as the API server
    /// refuses a `rollingUpdate` next to `type: Recreate` (a Deployment) or `OnDelete`
    /// (a StatefulSet), and as the DaemonSet controller ignores it with `OnDelete`
    /// (kubernetes `pkg/apis/apps/validation`: `ValidateDeploymentStrategy`,
    /// `ValidateStatefulSetSpec`, `ValidateDaemonSetUpdateStrategy`). Unless it comes
    /// from `[defaults]` or from a layer below the one that chose the strategy (a
    /// service's `max_surge` that one environment's overlay turns off with `recreate`,
    /// as an overlay cannot remove a key): it is then left out, as a setting a kind does
    /// not take is. What is refused or left out is not written.
    fn check_unused_by_strategy(
        &mut self,
        kind: WorkloadKind,
        layers: &Layers<'a, ServiceLayer>,
        r: &mut Rollout,
    ) {
        let chosen = layers.height_of(|l| l.rollout.as_ref()?.strategy.as_ref());
        let (name, what) = match (r.strategy, kind) {
            (RolloutStrategy::Recreate, _) => (
                "recreate",
                "every old pod stops before the new ones start, so nothing surges or is counted unavailable",
            ),
            (_, WorkloadKind::Statefulset) => (
                "on-delete",
                "a pod is replaced only when it is deleted, so no rolling update holds pods back or replaces several at once",
            ),
            _ => (
                "on-delete",
                "a node's pod is replaced only when it is deleted, so nothing surges or is counted unavailable",
            ),
        };
        let mut unused = Vec::new();
        if r.max_surge.take().is_some() {
            unused.extend(setting_written(layers, "max_surge", |l: &ServiceLayer| {
                l.rollout.as_ref()?.max_surge.as_ref()
            }));
        }
        if r.max_unavailable.take().is_some() {
            unused.extend(setting_written(
                layers,
                "max_unavailable",
                |l: &ServiceLayer| l.rollout.as_ref()?.max_unavailable.as_ref(),
            ));
        }
        if r.partition.take().is_some() {
            unused.extend(setting_written(layers, "partition", |l: &ServiceLayer| {
                l.rollout.as_ref()?.partition.as_ref()
            }));
        }
        for (key, origin, base, height) in unused {
            if base || height < chosen {
                continue;
            }
            let d = self.error(
                rules::INVALID_VALUE,
                origin,
                format!("`rollout.{key}` has no use with `strategy = \"{name}\"`: {what}"),
            );
            d.help = Some(format!(
                "remove `{key}`, or roll out with `strategy = \"rolling\"` (the default), which {}",
                match key {
                    "partition" =>
                        "keeps the pods with an ordinal below `partition` at the old version",
                    "max_surge" => "starts up to `max_surge` extra pods",
                    _ => "replaces up to `max_unavailable` pods at once",
                }
            ));
        }
    }

    /// The pairs of `max_surge` and `max_unavailable` the API server refuses, with the
    /// defaults it fills in for what is not written (kubernetes
    /// `pkg/apis/apps/validation`: `ValidateRollingUpdateDeployment` and
    /// `ValidateRollingUpdateDaemonSet`), each at the value that breaks the rule.
    ///
    /// - Deployment (and worker): not both 0. Unset, each is 25%, which is never 0.
    /// - DaemonSet: exactly one of them above 0. Unset, `maxSurge` is 0 and
    ///   `maxUnavailable` 1.
    fn check_rolling_update(
        &mut self,
        kind: WorkloadKind,
        r: &Rollout,
        surge_at: Option<Located<&IntOrPercent>>,
        unavailable_at: Option<Located<&IntOrPercent>>,
    ) {
        use WorkloadKind as K;
        let zero = |v: &Option<IntOrPercentValue>| match v {
            Some(IntOrPercentValue::Count(n)) => *n == 0,
            Some(IntOrPercentValue::Percent(p)) => p == "0%",
            None => false,
        };
        // A value that was refused already (out of range, wrong kind) is not weighed.
        let surge = surge_at.filter(|_| r.max_surge.is_some());
        let unavailable = unavailable_at.filter(|_| r.max_unavailable.is_some());
        match kind {
            K::Deployment | K::Worker => {
                let (Some(s), Some(u)) = (&surge, &unavailable) else {
                    return;
                };
                if zero(&r.max_surge) && zero(&r.max_unavailable) {
                    self.error(
                        rules::INVALID_VALUE,
                        u.origin.clone(),
                        format!(
                            "`max_unavailable = {}` with `max_surge = {}`: the rollout could never replace a pod",
                            written(u.value),
                            written(s.value)
                        ),
                    )
                    .help("allow one extra pod (`max_surge = 1`, or no `max_surge`: Kubernetes then allows 25%) or one unavailable pod (`max_unavailable = 1`)");
                }
            }
            K::Daemonset => {
                let surging = surge.is_some() && !zero(&r.max_surge);
                let stopping = unavailable.is_none() || !zero(&r.max_unavailable);
                let unavailable_text = unavailable.as_ref().map_or(
                    "`max_unavailable` unset (1 for a DaemonSet)".to_string(),
                    |u| format!("`max_unavailable = {}`", written(u.value)),
                );
                let surge_text = surge
                    .as_ref()
                    .map_or("`max_surge` unset (0 for a DaemonSet)".to_string(), |s| {
                        format!("`max_surge = {}`", written(s.value))
                    });
                let help = "a DaemonSet replaces a node's pod one of two ways: `max_unavailable = 1` (the default) stops the old pod first; `max_surge = 1, max_unavailable = 0` starts the new pod first";
                match (surging, stopping, &surge, &unavailable) {
                    (true, true, Some(s), _) => {
                        self.error(
                            rules::INVALID_VALUE,
                            s.origin.clone(),
                            format!("{surge_text} with {unavailable_text}: a DaemonSet takes exactly one of them above 0"),
                        )
                        .help(help);
                    }
                    (false, false, _, Some(u)) => {
                        self.error(
                            rules::INVALID_VALUE,
                            u.origin.clone(),
                            format!("{unavailable_text} with {surge_text}: the rollout could never replace a pod"),
                        )
                        .help(help);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// A count (≥ `min`) or a percentage `"N%"` (0–100).
    pub(in crate::resolve) fn int_or_percent(
        &mut self,
        v: Located<&IntOrPercent>,
        min: i64,
        what: &str,
    ) -> Option<IntOrPercentValue> {
        match v.value {
            IntOrPercent::Int(n) => self
                .int_in_range(*n, min, 10_000, &v.origin, what)
                .map(|n| IntOrPercentValue::Count(n as u32)),
            IntOrPercent::Str(s) => {
                let pct = s
                    .strip_suffix('%')
                    .filter(|d| {
                        !d.is_empty() && d.len() <= 3 && d.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|d| d.parse::<u32>().ok());
                match pct {
                    Some(p) if p <= 100 && i64::from(p) >= min => {
                        Some(IntOrPercentValue::Percent(format!("{p}%")))
                    }
                    _ => {
                        self.error(
                            rules::INVALID_VALUE,
                            v.origin.clone(),
                            format!("`{what}`: `{s}` is not a pod count or a percentage from {min}% to 100%"),
                        )
                        .help(format!("write a count (`{what} = 1`) or a percentage (`{what} = \"25%\"`)"));
                        None
                    }
                }
            }
        }
    }
}

/// A count or percentage as it is written in TOML: `0`, `"0%"`.
fn written(v: &IntOrPercent) -> String {
    match v {
        IntOrPercent::Int(n) => n.to_string(),
        IntOrPercent::Str(s) => format!("{s:?}"),
    }
}

/// Where the highest layer that writes a rollout setting (`key`) writes it, whether
/// that layer is `[defaults]`, and its height among the layers.
fn setting_written<'a, V: 'a>(
    layers: &Layers<'a, ServiceLayer>,
    key: &'static str,
    get: impl Fn(&'a ServiceLayer) -> Option<&'a Spanned<V>> + Copy,
) -> Option<(&'static str, Origin, bool, Option<usize>)> {
    let v = layers.pick(get)?;
    Some((key, v.origin, v.base, layers.height_of(get)))
}
