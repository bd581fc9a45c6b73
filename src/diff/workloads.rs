//! Risks and info of changed workload objects: a StatefulSet's, Job's or
//! PersistentVolumeClaim's immutable fields, a Job that runs again (renamed, or an
//! Argo CD hook), a CronJob's new schedule, a Service port removed or re-targeted, a
//! claim that grows; and the Argo CD annotations kgen reads back (a sync option such as
//! `Prune=false`, a hook and its delete policy), which `risks` uses for removals too.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fields::{differing_keys, field_diff};
use super::risks::{and_list, kubectl_delete, scalar, scalar_or, verb, RiskKind};
use crate::manifest_set::Resource;

/// Argo CD's annotations that kgen reads back from the manifests.
const SYNC_OPTIONS_ANNOTATION: &str = crate::render::volume_claim::KEEP.0;

const HOOK_ANNOTATION: &str = crate::render::job::HOOK_ANNOTATION;

const HOOK_DELETE_POLICY_ANNOTATION: &str = crate::render::job::HOOK_DELETE_POLICY_ANNOTATION;

/// The fields of a StatefulSet's spec that an update may change
/// (`ValidateStatefulSetUpdate`, kubernetes pkg/apis/apps/validation).
const STATEFULSET_MUTABLE: [&str; 7] = [
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// The fields of a Job's spec that an update may not change (`ValidateJobSpecUpdate`,
/// kubernetes pkg/apis/batch/validation), but the selector (an `immutable-selector`).
/// `completions` may change on an Indexed Job together with `parallelism`
/// (`validateCompletions`, elastic Indexed Jobs).
const JOB_IMMUTABLE: [&str; 7] = [
    "template",
    "completions",
    "completionMode",
    "podFailurePolicy",
    "backoffLimitPerIndex",
    "managedBy",
    "successPolicy",
];

fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v["metadata"]["annotations"][key].as_str()
}

/// Whether `v` carries the Argo CD sync option `option` (`Prune=false`).
pub(super) fn has_sync_option(v: &Value, option: &str) -> bool {
    annotation(v, SYNC_OPTIONS_ANNOTATION).is_some_and(|o| o.split(',').any(|x| x.trim() == option))
}

/// An Argo CD hook: its phase (`PreSync`, ...) and delete policies (default
/// `BeforeHookCreation`).
#[derive(Clone)]
pub(super) struct Hook<'a> {
    phase: &'a str,
    policies: Vec<&'a str>,
}

impl Hook<'_> {
    /// Argo CD deletes the previous run before creating the new one.
    fn recreated(&self) -> bool {
        self.policies.contains(&"BeforeHookCreation")
    }
}

pub(super) fn hook(v: &Value) -> Option<Hook<'_>> {
    let phase = annotation(v, HOOK_ANNOTATION)?;
    let policies = annotation(v, HOOK_DELETE_POLICY_ANNOTATION)
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect()
        })
        .filter(|p: &Vec<&str>| !p.is_empty())
        .unwrap_or_else(|| vec!["BeforeHookCreation"]);
    Some(Hook { phase, policies })
}

/// Storage requested by a claim (or a claim template), parsed.
fn claim_storage(spec: &Value) -> Option<(String, Option<crate::quantity::Quantity>)> {
    let s = spec["resources"]["requests"]["storage"].as_str()?;
    Some((s.to_string(), crate::quantity::Quantity::parse(s).ok()))
}

/// The names of a StatefulSet's volume claim templates.
pub(super) fn claim_templates(v: &Value) -> Vec<String> {
    v["spec"]["volumeClaimTemplates"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t["metadata"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Risks of a StatefulSet whose spec changes beyond its mutable fields.
pub(super) fn statefulset_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    let (bs, hs) = (&b.value["spec"], &h.value["spec"]);
    // The API server defaults podManagementPolicy to OrderedReady, which kgen omits.
    let normal = |s: &Value| {
        let mut s = s.clone();
        if s.is_object() && s["podManagementPolicy"].is_null() {
            s["podManagementPolicy"] = "OrderedReady".into();
        }
        s
    };
    let (bs, hs) = (normal(bs), normal(hs));
    let fields = differing_keys(&bs, &hs, "spec.", |k| {
        k != "selector" && !STATEFULSET_MUTABLE.contains(&k)
    });
    if fields.is_empty() {
        return;
    }
    let id = &h.id;
    let mut message = format!(
        "{} {}; a StatefulSet's spec is immutable but for replicas, ordinals, template, updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds, so the sync fails until it is recreated: {} (its pods and volume claims stay), then sync",
        and_list(&fields),
        verb(fields.len(), "changes", "change"),
        kubectl_delete(id, " --cascade=orphan"),
    );
    // A bigger claim template does not grow the claims that exist.
    let templates = |s: &Value| -> BTreeMap<String, Value> {
        s["volumeClaimTemplates"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .filter_map(|t| {
                        Some((
                            t["metadata"]["name"].as_str()?.to_string(),
                            t["spec"].clone(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (bt, ht) = (templates(&bs), templates(&hs));
    let resized: Vec<String> = ht
        .iter()
        .filter_map(|(name, spec)| {
            let (old, _) = claim_storage(bt.get(name)?)?;
            let (new, _) = claim_storage(spec)?;
            (old != new).then(|| {
                format!(
                    "`{name}-{}-<ordinal>`, {old} in the template, {new} now",
                    id.name
                )
            })
        })
        .collect();
    if !resized.is_empty() {
        message.push_str(&format!(
            "; the claims that exist ({}) keep their size: grow each one by hand, if its StorageClass allows volume expansion",
            and_list(&resized)
        ));
    }
    out.push((RiskKind::StatefulSetImmutable, message));
}

/// What a changed Job does: runs again (renamed, or an Argo CD hook), or fails to
/// apply (an immutable field of a Job that keeps its name).
pub(super) fn job_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    let id = &h.id;
    if b.id != h.id {
        // kgen names such a Job after a hash of its immutable fields
        // (`render::job::immutable_hash`): say which of them changed.
        let changed: Vec<String> =
            differing_keys(&b.value["spec"], &h.value["spec"], "spec.", |k| {
                JOB_IMMUTABLE.contains(&k)
            })
            .into_iter()
            .map(|f| {
                if f == "spec.template" {
                    "pod template".to_string()
                } else {
                    format!("`{f}`")
                }
            })
            .collect();
        let what = if changed.is_empty() {
            "its spec changed".to_string()
        } else {
            format!("its {} changed", and_list(&changed))
        };
        out.push((
            RiskKind::JobRuns,
            format!(
                "replaces Job `{}` ({what}): the new Job runs once when Argo CD syncs, and the old one is pruned with its pods",
                b.id.name
            ),
        ));
        return;
    }
    let (bs, hs) = (&b.value["spec"], &h.value["spec"]);
    // An elastic Indexed Job scales by changing completions and parallelism together.
    let elastic = hs["completionMode"] == "Indexed"
        && bs["completionMode"] == "Indexed"
        && !hs["completions"].is_null()
        && hs["completions"] == hs["parallelism"];
    let fields = differing_keys(bs, hs, "spec.", |k| {
        JOB_IMMUTABLE.contains(&k) && !(elastic && k == "completions")
    });
    // `a Job's pod template and completions are immutable`, or the fields themselves.
    let immutable = if fields
        .iter()
        .all(|f| f == "spec.template" || f == "spec.completions")
    {
        "a Job's pod template and completions are immutable".to_string()
    } else {
        format!(
            "a Job's {} {} immutable",
            and_list(&fields),
            verb(fields.len(), "is", "are")
        )
    };
    let what = format!(
        "{} {}",
        and_list(&fields),
        verb(fields.len(), "changes", "change")
    );
    match hook(&h.value) {
        Some(hk) => {
            // What is left of the previous run when the next sync starts: the base's
            // policy decided that when it finished. Whether Argo CD deletes it before
            // creating the new one is the head's: gitops-engine `pkg/sync/sync_task.go`
            // `deleteBeforeCreation` reads `hook.DeletePolicies(t.obj())`, and `obj()`
            // is the target object when there is one.
            let base_policies = hook(&b.value).map_or_else(|| hk.policies.clone(), |bh| bh.policies);
            let kept = if hk.recreated() {
                None
            } else {
                match (
                    base_policies.contains(&"HookSucceeded"),
                    base_policies.contains(&"HookFailed"),
                ) {
                    (true, true) => None,
                    (true, false) => Some("failed"),
                    (false, true) => Some("succeeded"),
                    (false, false) => Some("finished"),
                }
            };
            let policy = hk.policies.join(",");
            let base_policy = base_policies.join(",");
            if kept == Some("finished") && !fields.is_empty() {
                // The run in the cluster was created under a policy that keeps every
                // finished run, and the new policy does not delete it first.
                out.push((
                    RiskKind::JobImmutable,
                    format!(
                        "{what}, and hook-delete-policy changes {base_policy} → {policy}: the last run, created under {base_policy}, is still in the cluster whatever its outcome, and Argo CD reads the new policy, which does not delete it before the sync, so it applies the changed Job over it; {immutable}, so the sync fails until it is deleted ({})",
                        kubectl_delete(id, "")
                    ),
                ));
                return;
            }
            out.push((
                RiskKind::JobRuns,
                match kept {
                    None if hk.recreated() => format!(
                        "an Argo CD {} hook: at the next sync Argo CD deletes the previous run and runs the changed Job (as at every sync)",
                        hk.phase
                    ),
                    None => format!(
                        "an Argo CD {} hook: the changed Job runs at the next sync (Argo CD deleted the previous run when it finished)",
                        hk.phase
                    ),
                    Some("finished") => format!(
                        "an Argo CD {} hook: the previous run is still in the cluster (hook-delete-policy {base_policy} keeps it) and the new policy {policy} does not delete it before the sync",
                        hk.phase
                    ),
                    Some(outcome) => format!(
                        "an Argo CD {} hook: the changed Job runs at the next sync, unless the previous run {outcome} and is still in the cluster (hook-delete-policy {base_policy} keeps it)",
                        hk.phase
                    ),
                },
            ));
            if let (Some(outcome), false) = (kept, fields.is_empty()) {
                out.push((
                    RiskKind::JobImmutable,
                    format!(
                        "{what}; with hook-delete-policy {base_policy} Argo CD keeps a run that {outcome}, and {immutable}: if that run is still in the cluster, the sync fails until it is deleted ({})",
                        kubectl_delete(id, "")
                    ),
                ));
            }
        }
        None if !fields.is_empty() => out.push((
            RiskKind::JobImmutable,
            format!(
                "{what}; {immutable}, so the sync fails until the Job is deleted ({}), after which it runs again",
                kubectl_delete(id, "")
            ),
        )),
        None => {}
    }
}

/// A CronJob's new schedule, time zone or suspension.
pub(super) fn cronjob_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    let (bs, hs) = (&b.value["spec"], &h.value["spec"]);
    let schedule = |s: &Value| match s["timeZone"].as_str() {
        Some(tz) => format!("`{}` ({tz})", scalar(&s["schedule"])),
        None => format!("`{}`", scalar(&s["schedule"])),
    };
    let mut parts = Vec::new();
    if bs["schedule"] != hs["schedule"] || bs["timeZone"] != hs["timeZone"] {
        parts.push(format!(
            "schedule changes {} → {}",
            schedule(bs),
            schedule(hs)
        ));
    }
    let suspended = |s: &Value| s["suspend"].as_bool().unwrap_or(false);
    match (suspended(bs), suspended(hs)) {
        (false, true) => {
            parts.push("suspended: no new run starts (a run in progress finishes)".into())
        }
        (true, false) if hs["startingDeadlineSeconds"].is_null() => parts.push(
            "resumed: with no startingDeadlineSeconds, a run missed while it was suspended starts at once".into(),
        ),
        (true, false) => parts.push("resumed: runs start again on schedule".into()),
        _ => {}
    }
    if !parts.is_empty() {
        out.push((RiskKind::CronJobSchedule, parts.join("; ")));
    }
}

/// Removed Service ports and ports whose number, protocol or target changes.
pub(super) fn service_port_findings(b: &Resource, h: &Resource, out: &mut Vec<(RiskKind, String)>) {
    struct Port {
        port: String,
        protocol: String,
        target: String,
    }
    let ports = |v: &Value| -> Vec<(String, Port)> {
        v["spec"]["ports"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let port = scalar(&p["port"]);
                        let key = p["name"]
                            .as_str()
                            .filter(|n| !n.is_empty())
                            .map_or_else(|| port.clone(), str::to_string);
                        let target = if p["targetPort"].is_null() {
                            port.clone()
                        } else {
                            scalar(&p["targetPort"])
                        };
                        let protocol = scalar_or(&p["protocol"], "TCP");
                        (
                            key,
                            Port {
                                port,
                                protocol,
                                target,
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (old, new) = (ports(&b.value), ports(&h.value));
    for (name, o) in &old {
        match new.iter().find(|(n, _)| n == name) {
            None => out.push((
                RiskKind::ServicePort,
                format!(
                    "port `{name}` ({}/{}) is removed; clients calling it fail",
                    o.port, o.protocol
                ),
            )),
            Some((_, n)) => {
                if (&o.port, &o.protocol) != (&n.port, &n.protocol) {
                    out.push((
                        RiskKind::ServicePort,
                        format!(
                            "port `{name}` changes {}/{} → {}/{}; clients still calling {}/{} fail",
                            o.port, o.protocol, n.port, n.protocol, o.port, o.protocol
                        ),
                    ));
                }
                if o.target != n.target {
                    out.push((
                        RiskKind::ServicePort,
                        format!(
                            "port `{name}` now sends its traffic to the pods' port `{}` instead of `{}`",
                            n.target, o.target
                        ),
                    ));
                }
            }
        }
    }
}

/// A claim's spec is immutable but for a bigger storage request.
/// `expandable`: the claim's StorageClass at the head and whether it allows volume
/// expansion, when the head declares it.
pub(super) fn claim_findings(
    b: &Resource,
    h: &Resource,
    expandable: Option<(&str, bool)>,
    out: &mut Vec<(RiskKind, String)>,
) {
    let (mut bs, mut hs) = (b.value["spec"].clone(), h.value["spec"].clone());
    let (old, new) = (claim_storage(&bs), claim_storage(&hs));
    for s in [&mut bs, &mut hs] {
        if let Some(r) = s["resources"]["requests"].as_object_mut() {
            r.remove("storage");
            if r.is_empty() {
                s["resources"]
                    .as_object_mut()
                    .expect("an object")
                    .remove("requests");
            }
        }
        if s["resources"].as_object().is_some_and(|r| r.is_empty()) {
            s.as_object_mut().expect("an object").remove("resources");
        }
    }
    let mut fields = Vec::new();
    field_diff(&bs, &hs, &mut "spec".to_string(), &mut fields);
    fields.sort();
    if !fields.is_empty() {
        out.push((
            RiskKind::PvcImmutable,
            format!(
                "{} {}; a claim's spec is immutable but for a bigger storage request, so the sync fails: a new claim (another volume name) is the way to change it",
                and_list(&fields),
                verb(fields.len(), "changes", "change")
            ),
        ));
    }
    let (Some((old_text, old_q)), Some((new_text, new_q))) = (old, new) else {
        return;
    };
    if old_text == new_text {
        return;
    }
    match (old_q, new_q) {
        (Some(o), Some(n)) if n < o => out.push((
            RiskKind::PvcImmutable,
            format!(
                "spec.resources.requests.storage shrinks {old_text} → {new_text}; the API server refuses to shrink a claim, so the sync fails"
            ),
        )),
        (Some(o), Some(n)) if n == o => {}
        (Some(_), Some(_)) => out.push(match expandable {
            Some((class, true)) => (
                RiskKind::PvcResize,
                format!(
                    "storage grows {old_text} → {new_text}: StorageClass `{class}` allows volume expansion, so the volume is expanded in place"
                ),
            ),
            Some((class, false)) => (
                RiskKind::PvcImmutable,
                format!(
                    "storage grows {old_text} → {new_text}, but StorageClass `{class}` does not allow volume expansion (no allowVolumeExpansion: true): the API server refuses it and the sync fails; allow expansion on the class first (`allow_expansion = true`, a change the API server accepts), or keep the size"
                ),
            ),
            None => (
                RiskKind::PvcResize,
                format!(
                    "storage grows {old_text} → {new_text}: the volume is expanded in place if its StorageClass allows volume expansion (allowVolumeExpansion), else the API server refuses it and the sync fails"
                ),
            ),
        }),
        _ => out.push((
            RiskKind::PvcImmutable,
            format!(
                "spec.resources.requests.storage changes {old_text} → {new_text}; a claim's storage request may only grow"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::diff::testing::findings_of;

    fn job(annotations: Value, command: &str) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "m", "namespace": "n", "annotations": annotations},
            "spec": {"template": {"spec": {"containers": [{"name": "m", "command": [command]}]}}}})
    }

    #[test]
    fn hooks_by_delete_policy() {
        let hook = |policy: Option<&str>| {
            let mut a = json!({"argocd.argoproj.io/hook": "PreSync"});
            if let Some(p) = policy {
                a["argocd.argoproj.io/hook-delete-policy"] = p.into();
            }
            findings_of(job(a.clone(), "a"), job(a, "b"))
        };
        // BeforeHookCreation (the default): re-created at every sync, never a risk.
        assert_eq!(hook(None), hook(Some("BeforeHookCreation")));
        assert_eq!(hook(None).len(), 1);
        assert_eq!(hook(Some("HookSucceeded,BeforeHookCreation")), hook(None));
        // Deleted whatever the outcome: runs again, no risk either.
        let both = hook(Some("HookSucceeded,HookFailed"));
        assert_eq!(both.len(), 1);
        assert!(both[0].1.contains("deleted the previous run"), "{both:?}");
        // A failed run is kept: a changed template may fail the sync.
        let kept = hook(Some("HookSucceeded"));
        assert_eq!(kept[0].0, "job-immutable");
        assert!(kept[0].1.contains("keeps a run that failed"), "{kept:?}");
        assert_eq!(kept[1].0, "job-runs");
        // Only labels change: the Job is updated in place, no risk.
        let labels = findings_of(
            job(
                json!({"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "HookFailed"}),
                "a",
            ),
            {
                let mut j = job(
                    json!({"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "HookFailed"}),
                    "a",
                );
                j["metadata"]["labels"] = json!({"x": "1"});
                j
            },
        );
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].0, "job-runs");
        // A Job that is not a hook, changed in place but for immutable fields: nothing.
        let mut a = job(json!({}), "a");
        a["spec"]["backoffLimit"] = 3.into();
        assert_eq!(findings_of(job(json!({}), "a"), a), []);
    }

    #[test]
    fn immutable_job_fields_beyond_the_template() {
        let with = |spec: Value| {
            let mut j = job(json!({}), "a");
            for (k, v) in spec.as_object().unwrap() {
                j["spec"][k] = v.clone();
            }
            j
        };
        let f = findings_of(
            with(json!({"backoffLimitPerIndex": 1, "completionMode": "Indexed", "completions": 2})),
            with(
                json!({"backoffLimitPerIndex": 2, "completionMode": "Indexed", "completions": 2,
                "podFailurePolicy": {"rules": []}}),
            ),
        );
        assert_eq!(
            f,
            [("job-immutable", "spec.backoffLimitPerIndex and spec.podFailurePolicy change; a Job's spec.backoffLimitPerIndex and spec.podFailurePolicy are immutable, so the sync fails until the Job is deleted (`kubectl delete job -n n m`), after which it runs again".to_string())]
        );
        // An elastic Indexed Job scales completions with parallelism.
        assert_eq!(
            findings_of(
                with(json!({"completionMode": "Indexed", "completions": 2, "parallelism": 2})),
                with(json!({"completionMode": "Indexed", "completions": 3, "parallelism": 3})),
            ),
            []
        );
        // Not so a NonIndexed one.
        assert_eq!(
            findings_of(
                with(json!({"completions": 2, "parallelism": 2})),
                with(json!({"completions": 3, "parallelism": 3})),
            )[0]
            .0,
            "job-immutable"
        );
    }

    #[test]
    fn statefulset_defaults_and_mutable_fields() {
        let sts = |spec: Value| {
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "db"}, "spec": spec})
        };
        // podManagementPolicy absent is OrderedReady; mutable fields are no risk.
        assert_eq!(
            findings_of(
                sts(json!({"serviceName": "db", "replicas": 1})),
                sts(
                    json!({"serviceName": "db", "replicas": 3, "podManagementPolicy": "OrderedReady",
                    "minReadySeconds": 5, "updateStrategy": {"type": "OnDelete"},
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}})
                ),
            ),
            []
        );
        let f = findings_of(
            sts(json!({"serviceName": "db"})),
            sts(json!({"serviceName": "db", "podManagementPolicy": "Parallel"})),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "statefulset-immutable");
        assert!(
            f[0].1.starts_with("spec.podManagementPolicy changes; "),
            "{f:?}"
        );
    }

    #[test]
    fn service_ports_and_claims() {
        let svc = |ports: Value| {
            json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s", "namespace": "n"}, "spec": {"ports": ports}})
        };
        assert_eq!(
            findings_of(
                svc(json!([
                    {"name": "http", "port": 80, "targetPort": "http"},
                    {"port": 53, "protocol": "UDP"},
                    {"name": "x", "port": 1}
                ])),
                svc(json!([
                    {"name": "http", "port": 80, "targetPort": "admin", "protocol": "TCP"},
                    {"port": 53, "protocol": "TCP"}
                ])),
            ),
            [
                // An unnamed port is known by its number.
                (
                    "service-port",
                    "port `53` changes 53/UDP → 53/TCP; clients still calling 53/UDP fail".into()
                ),
                (
                    "service-port",
                    "port `http` now sends its traffic to the pods' port `admin` instead of `http`"
                        .into()
                ),
                (
                    "service-port",
                    "port `x` (1/TCP) is removed; clients calling it fail".into()
                ),
            ]
        );
        let pvc = |size: &str| {
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "c", "namespace": "n"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}})
        };
        // Same size written another way: no change of size.
        assert_eq!(findings_of(pvc("1Gi"), pvc("1024Mi")), []);
        assert_eq!(
            findings_of(pvc("1Gi"), pvc("2G")),
            [("pvc-resize", "storage grows 1Gi → 2G: the volume is expanded in place if its StorageClass allows volume expansion (allowVolumeExpansion), else the API server refuses it and the sync fails".into())]
        );
        assert_eq!(findings_of(pvc("1Gi"), pvc("1G"))[0].0, "pvc-immutable");
    }
}
