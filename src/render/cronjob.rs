//! The CronJob of a `cronjob` service: its schedule, time zone, concurrency policy,
//! history limits, starting deadline and suspension, and the Job each run makes.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{job, labels, meta, pod};
use crate::spec::{Concurrency, CronSpec, EnvSpec, JobSpec, PlatformSpec, ServiceSpec};

pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    cron: &CronSpec,
    run: &JobSpec,
    config_hash: String,
) -> CronJob {
    let labels = labels::service(platform, svc);
    let template = pod::template(env, svc, labels.clone(), config_hash);
    CronJob {
        metadata: meta(&svc.name, Some(&svc.namespace), labels.clone()),
        spec: Some(CronJobSpec {
            schedule: cron.schedule.clone(),
            time_zone: cron.time_zone.clone(),
            concurrency_policy: Some(
                match cron.concurrency {
                    Concurrency::Allow => "Allow",
                    Concurrency::Forbid => "Forbid",
                    Concurrency::Replace => "Replace",
                }
                .into(),
            ),
            successful_jobs_history_limit: cron.successful_history,
            failed_jobs_history_limit: cron.failed_history,
            starting_deadline_seconds: cron.starting_deadline,
            suspend: cron.suspend.then_some(true),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(job::spec(run, template)),
            },
        }),
        ..Default::default()
    }
}
