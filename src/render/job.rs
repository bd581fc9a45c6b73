//! The Job of a `job` service (a one-off run, e.g. a database migration), and the
//! JobSpec a `cronjob`'s runs share.
//!
//! A Job's pod template is immutable once created, so a changed Job cannot be applied
//! in place. kgen handles that two ways:
//! - as an Argo CD hook (`hook = { phase = "PreSync" }`), the Job is re-created at every
//!   sync: Argo CD deletes the previous one first (`BeforeHookCreation`, the default
//!   delete policy) and waits for the new one to succeed before the phase ends;
//! - otherwise its name carries a hash of every field of its spec the API server
//!   refuses to change (`<service>-<hash>`, see [`immutable_hash`]): such a change is a
//!   new Job (which runs once), and the old one is pruned; a change to a field that can
//!   change (`backoffLimit`, `activeDeadlineSeconds`, `parallelism`, ...) keeps the name
//!   and is applied in place.

use k8s_openapi::api::batch::v1::{Job, JobSpec as K8sJobSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest, Sha256};

use super::{labels, meta, pod};
use crate::spec::{EnvSpec, Hook, HookDeletePolicy, HookPhase, JobSpec, PlatformSpec, ServiceSpec};

/// Annotations that make an object an Argo CD hook.
pub const HOOK_ANNOTATION: &str = "argocd.argoproj.io/hook";
pub const HOOK_DELETE_POLICY_ANNOTATION: &str = "argocd.argoproj.io/hook-delete-policy";

/// The `JobSpec` of a run: retries, deadlines, completions, and the pod template.
pub fn spec(job: &JobSpec, template: PodTemplateSpec) -> K8sJobSpec {
    K8sJobSpec {
        backoff_limit: job.backoff_limit,
        active_deadline_seconds: job.active_deadline,
        ttl_seconds_after_finished: job.ttl_after_finished,
        completions: job.completions,
        parallelism: job.parallelism,
        template,
        ..Default::default()
    }
}

pub fn build(
    platform: &PlatformSpec,
    env: &EnvSpec,
    svc: &ServiceSpec,
    job: &JobSpec,
    hook: Option<&Hook>,
    config_hash: String,
) -> Job {
    let labels = labels::service(platform, svc);
    let template = pod::template(env, svc, labels.clone(), config_hash);
    let spec = spec(job, template);
    let (name, annotations) = match hook {
        Some(h) => (
            svc.name.clone(),
            Some(
                [
                    (
                        HOOK_ANNOTATION.to_string(),
                        match h.phase {
                            HookPhase::PreSync => "PreSync",
                            HookPhase::Sync => "Sync",
                            HookPhase::PostSync => "PostSync",
                        }
                        .to_string(),
                    ),
                    (
                        HOOK_DELETE_POLICY_ANNOTATION.to_string(),
                        match h.delete_policy {
                            HookDeletePolicy::BeforeHookCreation => "BeforeHookCreation",
                            HookDeletePolicy::HookSucceeded => "HookSucceeded",
                            HookDeletePolicy::HookFailed => "HookFailed",
                        }
                        .to_string(),
                    ),
                ]
                .into_iter()
                .collect(),
            ),
        ),
        None => (format!("{}-{}", svc.name, immutable_hash(&spec)), None),
    };
    let mut metadata: ObjectMeta = meta(&name, Some(&svc.namespace), labels);
    metadata.annotations = annotations;
    Job {
        metadata,
        spec: Some(spec),
        ..Default::default()
    }
}

/// A short, stable hash of the fields of `spec` the API server refuses to change once
/// the Job exists (kubernetes `pkg/apis/batch/validation`, `ValidateJobSpecUpdate`):
/// the pod template, `completions` (immutable unless the Job is `Indexed`, which kgen
/// never writes), `selector`, `completionMode`, `podFailurePolicy`,
/// `backoffLimitPerIndex`, `managedBy` and `successPolicy`. A plain Job is named with
/// it, so a change to any of them is a new Job rather than an update the API server
/// refuses.
///
/// When only the pod template is set (kgen writes `completions` only when
/// `job.completions` is), it is the template's own hash, as it was before the other
/// fields were hashed: existing Jobs keep their names (a renamed Job runs again).
pub fn immutable_hash(spec: &K8sJobSpec) -> String {
    let immutable = K8sJobSpec {
        template: spec.template.clone(),
        completions: spec.completions,
        selector: spec.selector.clone(),
        completion_mode: spec.completion_mode.clone(),
        pod_failure_policy: spec.pod_failure_policy.clone(),
        backoff_limit_per_index: spec.backoff_limit_per_index,
        managed_by: spec.managed_by.clone(),
        success_policy: spec.success_policy.clone(),
        ..Default::default()
    };
    let template_only = K8sJobSpec {
        template: spec.template.clone(),
        ..Default::default()
    };
    if immutable == template_only {
        template_hash(&spec.template)
    } else {
        short_hash(&serde_json::to_string(&immutable).expect("a JobSpec serialises"))
    }
}

/// A short, stable hash of a pod template (its JSON, whose keys serde_json sorts).
pub fn template_hash(template: &PodTemplateSpec) -> String {
    short_hash(&serde_json::to_string(template).expect("a pod template serialises"))
}

/// The first 4 bytes of the SHA-256 of `json`, in hex.
fn short_hash(json: &str) -> String {
    let digest = Sha256::digest(json.as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}
