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
//!
//! A `PreSync` hook runs before the Sync phase, in which Argo CD applies the rest of
//! its Application: what its pod needs from that Application (ServiceAccount,
//! ConfigMaps, the secrets object, its NetworkPolicy) is then made a `PreSync` hook too,
//! ordered before the Job (see [`presync_support`]), and a regular ConfigMap,
//! `<service>-hooks`, records what the hooks are, so that a change to them is a change
//! Argo CD sees (see [`hooks_record`]).

use k8s_openapi::api::batch::v1::{Job, JobSpec as K8sJobSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest, Sha256};

use super::{labels, meta, pod};
use crate::spec::{
    EnvSpec, Hook, HookDeletePolicy, HookPhase, JobSpec, PlatformSpec, ServiceSpec, Workload,
};

/// Annotations that make an object an Argo CD hook.
pub const HOOK_ANNOTATION: &str = "argocd.argoproj.io/hook";
pub const HOOK_DELETE_POLICY_ANNOTATION: &str = "argocd.argoproj.io/hook-delete-policy";

/// Kinds of a service's objects its pods need to start or run: the ServiceAccount
/// (the API server refuses a pod whose ServiceAccount does not exist), the ConfigMaps
/// (`envFrom` and the files volume), the secrets object (the CSI volume's
/// SecretProviderClass, or the ExternalSecret behind `envFrom`), and its own
/// NetworkPolicy (its egress rules, when egress is restricted). A `job` has no volume
/// claim (claims are for `deployment`, `worker` and `statefulset`, KG019).
const NEEDED_BY_PODS: &[&str] = &[
    "ServiceAccount",
    "ConfigMap",
    "SecretProviderClass",
    "ExternalSecret",
    "NetworkPolicy",
];

/// Whether `svc` is a `job` run as a `PreSync` hook.
/// Whether `svc` is a `job` run as an Argo CD hook, in any phase.
pub fn is_hook(svc: &ServiceSpec) -> bool {
    matches!(&svc.workload, Workload::Job { hook: Some(_), .. })
}

pub fn is_presync_hook(svc: &ServiceSpec) -> bool {
    matches!(
        &svc.workload,
        Workload::Job {
            hook: Some(Hook {
                phase: HookPhase::PreSync,
                ..
            }),
            ..
        }
    )
}

/// Makes what the pod of a `PreSync` hook Job needs a `PreSync` hook of its own, in an
/// earlier sync wave than the Job (`-1`, the Job's is `0`), re-created at every sync.
/// `objects` are the service's objects; nothing changes unless [`is_presync_hook`].
///
/// Argo CD runs a sync phase by phase, then wave by wave: it sorts the sync tasks by
/// phase, then wave, then kind and name (argo-cd `gitops-engine/pkg/sync/sync_tasks.go`,
/// `syncTasks.Less`), runs the tasks of the first phase and wave that are not done, and
/// waits for them (`sync_context.go`, `Sync`); the Application's objects that are not
/// hooks belong to the Sync phase, which starts once every PreSync hook has succeeded.
/// So a regular ServiceAccount or ConfigMap of the Job's own Application is applied
/// after the Job ran: on the first sync its pod cannot start (the ServiceAccount, the
/// SecretProviderClass do not exist yet), and later it runs with the previous sync's
/// configuration. As hooks of the PreSync phase, they are applied before the Job, from
/// this sync's manifests. A hook that is not a Job or a Pod is done once it is created,
/// or once it is healthy when Argo CD has a health check for its kind (an ExternalSecret:
/// once its Secret is synced; `sync_context.go`, `getOperationPhase`), so the Job waits
/// for them.
///
/// Their delete policy is always `BeforeHookCreation`, whatever the Job's: they must
/// outlive the Job's run (`HookSucceeded` would delete a ConfigMap as soon as it is
/// created), and they are deleted and re-created at the next sync, with its
/// configuration. An object that was a regular object before is deleted and re-created
/// as a hook the same way (a hook's task carries the live object of its name).
///
/// The Namespace is not made a hook (`BeforeHookCreation` would delete it, and all in
/// it, at every sync). A service's own Namespace is in its Application: Argo CD applies
/// a Namespace of the same sync before the first object in it, in that object's phase
/// and wave (`syncTasks.Sort`, `adjustDeps`; gitops-engine's
/// `TestSyncTasksSort_NamespaceAndObjectInNamespace` is a PreSync hook Job in a
/// Namespace of the same sync), and creates the Application's destination namespace
/// from it before the dry run (`sync_context.go`, `getNamespaceCreationTask`). A shared
/// namespace is created by `<cluster>-namespaces`, an Application of an earlier bootstrap
/// wave than the services' ApplicationSets (see `argocd::bootstrap_wave`). The
/// namespace-wide default-deny policy stays a regular object too: it is the namespace's,
/// not the pods', and the service's own policy isolates its pods in the same directions.
pub fn presync_support(svc: &ServiceSpec, objects: &mut [super::Object]) {
    if !is_presync_hook(svc) {
        return;
    }
    for o in objects {
        let kind = o.kind().to_string();
        if !NEEDED_BY_PODS.contains(&kind.as_str()) {
            continue;
        }
        // The service's own NetworkPolicy, not its namespace's default-deny.
        if kind == "NetworkPolicy" && o.value["metadata"]["name"] != svc.name.as_str() {
            continue;
        }
        let meta = &mut o.value["metadata"];
        if !meta["annotations"].is_object() {
            meta["annotations"] = serde_json::Value::Object(Default::default());
        }
        let annotations = &mut meta["annotations"];
        annotations[HOOK_ANNOTATION] = "PreSync".into();
        annotations[HOOK_DELETE_POLICY_ANNOTATION] = "BeforeHookCreation".into();
        annotations[super::wave::ANNOTATION] = super::wave::SUPPORT.into();
    }
}

/// File name of the ConfigMap that records the hooks of a service ([`hooks_record`]).
pub const HOOKS_RECORD_FILE: &str = "configmap-hooks.yaml";

/// Name of the ConfigMap that records the hooks of a service ([`hooks_record`]).
pub fn hooks_record_name(svc: &ServiceSpec) -> String {
    format!("{}-hooks", svc.name)
}

/// `<service>-hooks`, a regular ConfigMap with one entry per hook of the service (its
/// file name, e.g. `job.yaml`) and a hash of that hook's object.
///
/// Argo CD keeps no sync status for hooks (argo-cd `controller/state.go`,
/// `CompareAppState`: "For resource hooks ... don't store sync status, and do not affect
/// overall sync status"), and an automated sync starts only when the Application is
/// OutOfSync (`controller/appcontroller.go`, `autoSync`: "Skipping auto-sync:
/// application status is Synced"; argo-cd issue #9830). Once a `PreSync` hook's
/// ServiceAccount and ConfigMaps are hooks too, a new tag or configuration for it may
/// change only hooks; in any phase, a change to the Job alone (its `command`, `args`,
/// `backoff_limit`) changes only a hook. Without a regular object that changes with
/// them, an `auto` environment would never run the new hook. This one changes
/// whenever a hook does, makes the Application OutOfSync, and is applied in the Sync
/// phase; a manually synced Application shows OutOfSync while a run is due.
pub fn hooks_record(
    platform: &PlatformSpec,
    svc: &ServiceSpec,
    objects: &[super::Object],
) -> k8s_openapi::api::core::v1::ConfigMap {
    let data = objects
        .iter()
        .filter(|o| o.value["metadata"]["annotations"][HOOK_ANNOTATION].is_string())
        .map(|o| {
            let file = o.path.rsplit('/').next().unwrap_or(&o.path).to_string();
            // serde_json's maps are sorted by key: the text is canonical.
            let json = serde_json::to_string(&o.value).expect("an object serialises");
            (file, short_hash(&json))
        })
        .collect();
    k8s_openapi::api::core::v1::ConfigMap {
        metadata: meta(
            &hooks_record_name(svc),
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        data: Some(data),
        ..Default::default()
    }
}

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
