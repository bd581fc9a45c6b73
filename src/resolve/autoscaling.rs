//! A service's `autoscaling` table (its HorizontalPodAutoscaler: bounds, targets,
//! behavior) and its `metrics` table (the port and path Prometheus scrapes).

use super::*;
use crate::spanned::Spanned;
use crate::spec::{ScalingBehavior, ScalingRules};

impl<'a> Resolver<'a> {
    /// `replicas` written in the environment's overlay, where `a` (the environment's
    /// autoscaling) sets the count: the HPA owns the replica count and kgen leaves
    /// `replicas` out of the workload, so the value changes nothing (KG037, a
    /// warning). A `replicas` of platform.toml may count in another environment.
    pub(super) fn replicas_beside_autoscaling(
        &mut self,
        env: &EnvSpec,
        layers: &Layers<'a, ServiceLayer>,
        a: &Autoscaling,
    ) {
        let Some(r) = layers.pick(|l| l.replicas.as_ref()) else {
            return;
        };
        if r.base || r.origin.file == self.pf {
            return;
        }
        self.warning(
            rules::IGNORED_SETTING,
            r.origin.clone(),
            format!(
                "`replicas` has no effect in environment `{}`: `autoscaling` sets the count there, between {} and {}",
                env.name, a.min, a.max
            ),
        )
        .help("remove `replicas`, and set `autoscaling.min` (and `max`) in this overlay instead; or turn autoscaling off here with `autoscaling.enabled = false`");
    }

    pub(super) fn autoscaling(
        &mut self,
        name: &str,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Option<Autoscaling> {
        let table = layers.pick(|l| l.autoscaling.as_deref())?;
        if layers
            .pick(|l| l.autoscaling.as_ref()?.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            return None;
        }
        let get =
            |f: fn(&crate::input::AutoscalingLayer) -> Option<&crate::spanned::Spanned<i64>>| {
                layers.pick(move |l| f(l.autoscaling.as_ref()?))
            };
        let Some(max) = get(|a| a.max.as_ref()) else {
            self.error(
                rules::MISSING_KEY,
                table.origin.clone(),
                format!("autoscaling of `{name}` has no `max`"),
            )
            .help("add `max = <replicas>`, or `enabled = false` to turn autoscaling off");
            return None;
        };
        origins.insert("autoscaling.max".into(), max.origin.clone());
        let min = get(|a| a.min.as_ref());
        if let Some(m) = &min {
            origins.insert("autoscaling.min".into(), m.origin.clone());
        }
        let min_v = min
            .as_ref()
            .map_or(builtin::AUTOSCALING_MIN as i64, |m| *m.value);
        let mut ok = true;
        if min_v < 1 {
            let o = min
                .as_ref()
                .map_or(table.origin.clone(), |m| m.origin.clone());
            self.error(
                rules::AUTOSCALING_BOUNDS,
                o,
                format!("autoscaling min {min_v} is below 1"),
            )
            .help("an HPA needs `min` of at least 1; to stop a service use `enabled = false`");
            ok = false;
        }
        if *max.value < min_v {
            self.error(
                rules::AUTOSCALING_BOUNDS,
                max.origin.clone(),
                format!("autoscaling max {} is less than min {min_v}", max.value),
            )
            .label(format!("must be at least {min_v}"))
            .help("raise `max` or lower `min` (tables merge: check `[defaults]`, the service and the overlay)");
            ok = false;
        }
        if *max.value > 10_000 {
            self.int_in_range(*max.value, 1, 10_000, &max.origin, "autoscaling max");
            ok = false;
        }
        let mut pct = |this: &mut Self, key: &str, v: Option<Located<&i64>>| -> Option<u32> {
            let v = v?;
            origins.insert(format!("autoscaling.{key}"), v.origin.clone());
            this.int_in_range(
                *v.value,
                1,
                1000,
                &v.origin,
                &format!("autoscaling {key} target"),
            )
            .map(|v| v as u32)
        };
        let cpu = pct(self, "cpu", get(|a| a.cpu.as_ref()));
        let memory = pct(self, "memory", get(|a| a.memory.as_ref()));
        let cpu = if cpu.is_none() && memory.is_none() {
            Some(builtin::AUTOSCALING_CPU)
        } else {
            cpu
        };
        let behavior = self.scaling_behavior(layers, origins);
        ok.then_some(Autoscaling {
            min: min_v as u32,
            max: *max.value as u32,
            cpu,
            memory,
            behavior,
        })
    }

    /// An autoscaler's scaling behaviour.
    fn scaling_behavior(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Option<ScalingBehavior> {
        let table = layers.pick(|l| l.autoscaling.as_ref()?.behavior.as_ref())?;
        origins.insert("autoscaling.behavior".into(), table.origin.clone());
        let mut rules_of = |this: &mut Self,
                            dir: &str,
                            get: fn(
            &'a crate::input::ScalingBehaviorLayer,
        )
            -> Option<&'a Spanned<crate::input::ScalingRulesLayer>>| {
            let t = layers.pick(|l| get(&l.autoscaling.as_ref()?.behavior.as_ref()?.value))?;
            origins.insert(format!("autoscaling.behavior.{dir}"), t.origin.clone());
            let file = t.origin.file;
            let window = layers
                .pick(|l| {
                    get(&l.autoscaling.as_ref()?.behavior.as_ref()?.value)?
                        .value
                        .stabilization_window
                        .as_ref()
                })
                .and_then(|w| {
                    this.int_in_range(*w.value, 0, 3600, &w.origin, "stabilization_window")
                })
                .map(|n| n as i32);
            let select = layers
                .pick(|l| {
                    get(&l.autoscaling.as_ref()?.behavior.as_ref()?.value)?
                        .value
                        .select
                        .as_ref()
                })
                .map(|s| *s.value);
            let mut policies = Vec::new();
            if let Some(list) = layers.pick(|l| {
                get(&l.autoscaling.as_ref()?.behavior.as_ref()?.value)?
                    .value
                    .policies
                    .as_ref()
            }) {
                for p in list.value {
                    let at = |s: &std::ops::Range<usize>| Origin::new(file, s.clone());
                    let value = this.int_in_range(
                        p.value.value,
                        1,
                        10_000,
                        &at(&p.value.span),
                        "policy value",
                    );
                    let period = this.int_in_range(
                        p.period.value,
                        1,
                        1800,
                        &at(&p.period.span),
                        "policy period",
                    );
                    if let (Some(v), Some(per)) = (value, period) {
                        policies.push((p.type_.value, v as i32, per as i32));
                    }
                }
            }
            Some(ScalingRules {
                stabilization_window: window,
                select,
                policies,
            })
        };
        let scale_up = rules_of(self, "scale_up", |b| b.scale_up.as_ref());
        let scale_down = rules_of(self, "scale_down", |b| b.scale_down.as_ref());
        Some(ScalingBehavior {
            scale_up,
            scale_down,
        })
    }

    pub(super) fn metrics(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        port: u16,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Option<Metrics> {
        let table = layers.pick(|l| l.metrics.as_deref())?;
        origins.insert("metrics".into(), table.origin.clone());
        if layers
            .pick(|l| l.metrics.as_ref()?.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            return None;
        }
        let path = match layers.pick(|l| l.metrics.as_ref()?.path.as_ref()) {
            Some(p) => {
                if let Err(e) = names::check_metrics_path(p.value) {
                    self.error(rules::INVALID_PATH, p.origin.clone(), e);
                }
                p.value.clone()
            }
            None => builtin::METRICS_PATH.into(),
        };
        let mport = match layers.pick(|l| l.metrics.as_ref()?.port.as_ref()) {
            Some(p) => {
                origins.insert("metrics.port".into(), p.origin.clone());
                self.int_in_range(*p.value, 1, 65535, &p.origin, "metrics port")
                    .unwrap_or(0) as u16
            }
            None => port,
        };
        let interval = match layers.pick(|l| l.metrics.as_ref()?.interval.as_ref()) {
            Some(i) => {
                if !is_duration(i.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        i.origin.clone(),
                        format!("`{}` is not a Prometheus duration", i.value),
                    )
                    .help("write a duration like `30s`, `1m` or `1m30s`");
                }
                i.value.clone()
            }
            None => builtin::METRICS_INTERVAL.into(),
        };
        Some(Metrics {
            path,
            port: mport,
            interval,
        })
    }
}
