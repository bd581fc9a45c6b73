//! The kind of a service's workload and what comes with it: which settings each kind
//! takes, and the settings of a StatefulSet, a CronJob and a Job (or Argo CD hook).
//! The rollout is in `rollout`, a CronJob's schedule and time zone in `schedule`.
//!
//! A setting a kind does not take (a `port` on a `worker`, a `schedule` on a
//! `deployment`) is an error where the service sets it (KG028), and is ignored where it
//! comes from `[defaults]`, which every kind of service shares.

mod rollout;
pub(super) mod schedule;

use std::collections::BTreeMap;

use self::schedule::{check_schedule, check_time_zone};
use super::{Amend, Resolver};
use crate::input::{ServiceLayer, WorkloadKind};
use crate::merge::{Layers, Located};
use crate::rules;
use crate::source::Origin;
use crate::spec::{
    ClaimRetention, Concurrency, CronSpec, Hook, HookDeletePolicy, JobRestartPolicy, JobSpec,
    PodManagement, StatefulSetSpec, Workload,
};

/// Settings only some kinds take: the key, and the kinds that take it.
const KIND_SETTINGS: &[(&str, &[WorkloadKind])] = {
    use WorkloadKind::*;
    &[
        ("port", &[Deployment, Statefulset, Daemonset]),
        ("port_name", &[Deployment, Statefulset, Daemonset]),
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

/// The kind of the service as its layers write it (`deployment` by default).
pub(super) fn written_kind(layers: &Layers<'_, ServiceLayer>) -> WorkloadKind {
    layers
        .pick(|l| l.kind.as_ref())
        .map_or(WorkloadKind::Deployment, |k| *k.value)
}

/// The kind a service is, for a message: "a `cronjob`", or "a `deployment` (the
/// default `kind`)" when no layer writes `kind` (also when the one written was left out
/// as a mistake: the message then names `kind`, and `input_check::LeftOut` hides it).
pub(super) fn kind_phrase(kind: WorkloadKind, layers: &Layers<'_, ServiceLayer>) -> String {
    if layers.pick(|l| l.kind.as_ref()).is_some() {
        format!("a `{}`", kind.as_str())
    } else {
        format!("a `{}` (the default `kind`)", kind.as_str())
    }
}

impl<'a> Resolver<'a> {
    /// The kind of the service (`deployment` by default).
    pub(super) fn kind(
        &mut self,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> WorkloadKind {
        if let Some(k) = layers.pick(|l| l.kind.as_ref()) {
            origins.insert("kind".into(), k.origin.clone());
        }
        written_kind(layers)
    }

    /// Whether a setting (`key`, set at `origin`) applies to `kind`: when it does not,
    /// an error if the service sets it, silently ignored if `[defaults]` does.
    pub(super) fn fits_kind(
        &mut self,
        kind: WorkloadKind,
        layers: &Layers<'a, ServiceLayer>,
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
                format!("`{key}` does not apply to {}", kind_phrase(kind, layers)),
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
            "port_name" => layers
                .pick(|l| l.port_name.as_ref())
                .map(|v| (v.origin, v.base)),
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
        self.fits_kind(kind, layers, key, at.as_ref().map(|(o, b)| (o, *b)))
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
                        } else if let Some(why) = schedule::never_fires(s.value) {
                            self.warning(
                                rules::CRON_SCHEDULE,
                                s.origin.clone(),
                                format!("schedule `{}`: {why}", s.value),
                            )
                            .help("the API server accepts it, but the CronJob never creates a Job: check the day of the month and the month (or restrict the day of the week too: a day matching either then fires)");
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
}
