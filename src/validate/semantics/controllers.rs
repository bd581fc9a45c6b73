//! The controller fields of each workload kind that the API server bounds: a
//! Deployment's strategy type and history limit, a StatefulSet's pod management and
//! update strategy, a Job's counts, completion mode and deadlines, a CronJob's
//! concurrency policy and history limits.
//!
//! Each check follows kubernetes `pkg/apis/apps/validation/validation.go`
//! (`ValidateDeploymentSpec`, `ValidateDeploymentStrategy`, `ValidateStatefulSetSpec`)
//! or `pkg/apis/batch/validation/validation.go` (`validateJobSpec`,
//! `ValidateCronJobSpec`, `validateConcurrencyPolicy`): an unset field or an empty
//! string is defaulted before validation and is accepted; a `null` sub-object is
//! absent.

use serde_json::Value;

use super::Checker;
use crate::rules;
use crate::validate::{int_at, str_at, FieldPath, Finding};

/// `v[key]` unless absent or `null` (what the API server reads as nil).
fn set<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|v| !v.is_null())
}

impl Checker<'_, '_> {
    /// `field` of `spec`, when it is a negative integer (`ValidateNonnegativeField`).
    /// `path` makes the path of `spec`, called only for a finding.
    fn non_negative(&mut self, path: impl Fn() -> FieldPath, spec: &Value, field: &str, why: &str) {
        if let Some(v) = int_at(spec, field).filter(|v| *v < 0) {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path().key(field),
                format!("{field} {v} is negative; {why}"),
            ));
        }
    }

    /// `field` of `spec`, when it is a string outside `options` (the empty string is
    /// defaulted). `what` names the field in the message, `use_` lists the options.
    fn one_of(
        &mut self,
        path: impl Fn() -> FieldPath,
        spec: &Value,
        field: &str,
        options: &[&str],
        use_: &str,
    ) {
        if let Some(v) = str_at(spec, field).filter(|v| !v.is_empty() && !options.contains(v)) {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path().key(field),
                format!("unsupported {field} {v:?}: use {use_}"),
            ));
        }
    }

    /// A Deployment's strategy type and history limit (`ValidateDeploymentStrategy`:
    /// `Recreate` takes no `rollingUpdate`; `ValidateDeploymentSpec`:
    /// `revisionHistoryLimit` is not negative).
    pub(super) fn deployment_fields(&mut self, path: &FieldPath, spec: &Value) {
        self.non_negative(
            || path.clone(),
            spec,
            "revisionHistoryLimit",
            "use 0 to keep no old ReplicaSets",
        );
        let Some(strategy) = set(spec, "strategy") else {
            return;
        };
        let sp = || path.key("strategy");
        self.one_of(
            sp,
            strategy,
            "type",
            &["Recreate", "RollingUpdate"],
            "RollingUpdate or Recreate",
        );
        if str_at(strategy, "type") == Some("Recreate") && set(strategy, "rollingUpdate").is_some()
        {
            self.push(
                Finding::error(
                    rules::FIELD_VALUE,
                    &sp().key("rollingUpdate"),
                    "rollingUpdate is set on a Recreate strategy; the API server refuses it (it may not be specified when strategy `type` is 'Recreate')",
                )
                .help("remove strategy.rollingUpdate (a strategic-merge patch sets it to null), or use type RollingUpdate"),
            );
        }
    }

    /// A StatefulSet's pod management policy, update strategy and ordinals
    /// (`ValidateStatefulSetSpec`).
    pub(super) fn statefulset_fields(&mut self, path: &FieldPath, spec: &Value) {
        self.one_of(
            || path.clone(),
            spec,
            "podManagementPolicy",
            &["OrderedReady", "Parallel"],
            "OrderedReady or Parallel",
        );
        if let Some(us) = set(spec, "updateStrategy") {
            let up = || path.key("updateStrategy");
            self.one_of(
                up,
                us,
                "type",
                &["RollingUpdate", "OnDelete"],
                "RollingUpdate or OnDelete",
            );
            let ru = set(us, "rollingUpdate");
            if str_at(us, "type") == Some("OnDelete") && ru.is_some() {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &up().key("rollingUpdate"),
                    "rollingUpdate is set on an OnDelete update strategy; the API server refuses it (only type RollingUpdate takes it)",
                ));
            }
            if let Some(ru) = ru {
                self.non_negative(
                    || up().key("rollingUpdate"),
                    ru,
                    "partition",
                    "pods with an ordinal at or above the partition are updated, so 0 updates all",
                );
            }
        }
        if let Some(o) = set(spec, "ordinals") {
            self.non_negative(
                || path.key("ordinals"),
                o,
                "start",
                "the first pod's ordinal is 0 or more",
            );
        }
    }

    /// A Job's spec, alone or in a CronJob's `jobTemplate` (`validateJobSpec`): its
    /// counts and deadlines are not negative, and an `Indexed` Job sets
    /// `completions`.
    pub(super) fn job_fields(&mut self, path: &FieldPath, spec: &Value) {
        for field in [
            "parallelism",
            "completions",
            "activeDeadlineSeconds",
            "backoffLimit",
            "ttlSecondsAfterFinished",
        ] {
            self.non_negative(|| path.clone(), spec, field, "the API server refuses it");
        }
        self.one_of(
            || path.clone(),
            spec,
            "completionMode",
            &["NonIndexed", "Indexed"],
            "NonIndexed or Indexed",
        );
        if str_at(spec, "completionMode") == Some("Indexed") && set(spec, "completions").is_none() {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &path.key("completions"),
                "an Indexed Job has no completions; the API server requires them (the indexes are 0 to completions - 1)",
            ));
        }
    }

    /// A CronJob's own fields (`ValidateCronJobSpec`, `validateConcurrencyPolicy`).
    pub(super) fn cronjob_fields(&mut self, path: &FieldPath, spec: &Value) {
        self.one_of(
            || path.clone(),
            spec,
            "concurrencyPolicy",
            &["Allow", "Forbid", "Replace"],
            "Allow, Forbid or Replace",
        );
        for field in [
            "startingDeadlineSeconds",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit",
        ] {
            self.non_negative(|| path.clone(), spec, field, "the API server refuses it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    fn pod() -> serde_json::Value {
        json!({"containers": [{"name": "a", "image": "a:1"}], "restartPolicy": "Never"})
    }

    #[test]
    fn deployment_strategy_and_history() {
        let mut d = workload(
            "Deployment",
            json!({"containers": [{"name": "a", "image": "a:1"}]}),
        );
        d["spec"]["revisionHistoryLimit"] = json!(-1);
        d["spec"]["strategy"] = json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}});
        assert_eq!(
            findings(&d),
            vec![
                (
                    "KG116".to_string(),
                    "spec.revisionHistoryLimit".to_string(),
                    "revisionHistoryLimit -1 is negative; use 0 to keep no old ReplicaSets".to_string()
                ),
                (
                    "KG116".to_string(),
                    "spec.strategy.rollingUpdate".to_string(),
                    "rollingUpdate is set on a Recreate strategy; the API server refuses it (it may not be specified when strategy `type` is 'Recreate')".to_string()
                ),
            ]
        );
        d["spec"]["revisionHistoryLimit"] = json!(0);
        d["spec"]["strategy"] = json!({"type": "Rolling"});
        assert_eq!(
            messages(&d),
            vec!["unsupported type \"Rolling\": use RollingUpdate or Recreate"]
        );
        // Recreate with a null rollingUpdate (what a patch leaves) is accepted.
        d["spec"]["strategy"] = json!({"type": "Recreate", "rollingUpdate": null});
        assert!(messages(&d).is_empty());
    }

    #[test]
    fn statefulset_policies() {
        let mut s = workload(
            "StatefulSet",
            json!({"containers": [{"name": "a", "image": "a:1"}]}),
        );
        s["spec"]["podManagementPolicy"] = json!("Ordered");
        s["spec"]["updateStrategy"] =
            json!({"type": "OnDelete", "rollingUpdate": {"partition": -1}});
        s["spec"]["ordinals"] = json!({"start": -2});
        assert_eq!(
            findings(&s).into_iter().map(|f| (f.1, f.2)).collect::<Vec<_>>(),
            vec![
                ("spec.podManagementPolicy".to_string(), "unsupported podManagementPolicy \"Ordered\": use OrderedReady or Parallel".to_string()),
                ("spec.updateStrategy.rollingUpdate".to_string(), "rollingUpdate is set on an OnDelete update strategy; the API server refuses it (only type RollingUpdate takes it)".to_string()),
                ("spec.updateStrategy.rollingUpdate.partition".to_string(), "partition -1 is negative; pods with an ordinal at or above the partition are updated, so 0 updates all".to_string()),
                ("spec.ordinals.start".to_string(), "start -2 is negative; the first pod's ordinal is 0 or more".to_string()),
            ]
        );
        s["spec"]["podManagementPolicy"] = json!("Parallel");
        s["spec"]["updateStrategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}});
        s["spec"]["ordinals"] = json!({"start": 1});
        assert!(messages(&s).is_empty());
    }

    #[test]
    fn job_and_cronjob_fields() {
        let mut j = workload("Job", pod());
        j["spec"]["backoffLimit"] = json!(-1);
        j["spec"]["ttlSecondsAfterFinished"] = json!(-5);
        j["spec"]["completionMode"] = json!("Indexed");
        assert_eq!(
            findings(&j).into_iter().map(|f| (f.1, f.2)).collect::<Vec<_>>(),
            vec![
                ("spec.backoffLimit".to_string(), "backoffLimit -1 is negative; the API server refuses it".to_string()),
                ("spec.ttlSecondsAfterFinished".to_string(), "ttlSecondsAfterFinished -5 is negative; the API server refuses it".to_string()),
                ("spec.completions".to_string(), "an Indexed Job has no completions; the API server requires them (the indexes are 0 to completions - 1)".to_string()),
            ]
        );
        j["spec"]["backoffLimit"] = json!(0);
        j["spec"]["ttlSecondsAfterFinished"] = json!(0);
        j["spec"]["completions"] = json!(3);
        assert!(messages(&j).is_empty());
        j["spec"]["completionMode"] = json!("indexed");
        assert_eq!(
            messages(&j),
            vec!["unsupported completionMode \"indexed\": use NonIndexed or Indexed"]
        );

        let mut c = workload("CronJob", pod());
        c["spec"]["concurrencyPolicy"] = json!("Never");
        c["spec"]["failedJobsHistoryLimit"] = json!(-1);
        c["spec"]["jobTemplate"]["spec"]["parallelism"] = json!(-1);
        assert_eq!(
            findings(&c)
                .into_iter()
                .map(|f| (f.1, f.2))
                .collect::<Vec<_>>(),
            vec![
                (
                    "spec.concurrencyPolicy".to_string(),
                    "unsupported concurrencyPolicy \"Never\": use Allow, Forbid or Replace"
                        .to_string()
                ),
                (
                    "spec.failedJobsHistoryLimit".to_string(),
                    "failedJobsHistoryLimit -1 is negative; the API server refuses it".to_string()
                ),
                (
                    "spec.jobTemplate.spec.parallelism".to_string(),
                    "parallelism -1 is negative; the API server refuses it".to_string()
                ),
            ]
        );
        c["spec"]["concurrencyPolicy"] = json!("Forbid");
        c["spec"]["failedJobsHistoryLimit"] = json!(1);
        c["spec"]["jobTemplate"]["spec"]["parallelism"] = json!(1);
        assert!(messages(&c).is_empty());
    }
}
