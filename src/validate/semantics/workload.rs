//! Workloads: replicas, the selector and its pod template's labels, a Deployment's
//! rollout strategy, a StatefulSet's volume claim templates, a CronJob's schedule
//! and time zone; and where the pod template and the containers of any kind of
//! workload are ([`pod_template`], [`containers`]).
//!
//! The API server does not validate a StatefulSet's pod template
//! (`ValidatePodTemplateSpecForStatefulSet` leaves the pod spec out) nor its claim
//! templates: a mistake there surfaces only when the controller fails to create a
//! pod or a claim, as an event. They are checked here like any pod and claim.

use serde_json::{Map, Value};

use super::{int_or_percent, Checker, Restart};
use crate::resolve::{check_schedule, check_time_zone};
use crate::validate::{arr_at, int_at, map_at, str_at, FieldPath, Finding, Subject};
use crate::{names, rules};

impl Checker<'_, '_> {
    pub(super) fn workload(&mut self, path: &FieldPath, spec: Option<&Value>, restart: Restart) {
        let Some(spec) = spec else {
            return;
        };
        if let Some(r) = int_at(spec, "replicas") {
            if r < 0 {
                self.push(
                    Finding::error(
                        rules::FIELD_VALUE,
                        &path.key("replicas"),
                        format!("replicas {r} is negative"),
                    )
                    .key("replicas"),
                );
            }
        }
        self.deployment_strategy(path, spec);
        let subject = self.s;
        match (restart, subject.kind()) {
            (Restart::Job, _) => self.job_fields(path, spec),
            (_, "Deployment") => self.deployment_fields(path, spec),
            (_, "StatefulSet") => self.statefulset_fields(path, spec),
            _ => {}
        }
        let tpath = path.key("template");
        let template = spec.get("template");
        let tmeta = template.and_then(|t| t.get("metadata"));
        self.metadata(&tpath.key("metadata"), tmeta, false);
        let labels = tmeta.and_then(|m| map_at(m, "labels"));
        if let Some(sel) = spec.get("selector") {
            self.label_selector(&path.key("selector"), sel, true);
            if !selector_matches(sel, labels) {
                self.push(
                    Finding::error(
                        rules::SELECTOR,
                        &path.key("selector"),
                        "the selector does not match the pod template's labels",
                    )
                    .help("every `matchLabels` entry must also be in spec.template.metadata.labels (and a Deployment's selector cannot change after it is created)"),
                );
            }
        }
        // A StatefulSet's pods also mount their volume claim templates, by name.
        let claims = self.volume_claim_templates(path, spec);
        self.pod_spec(
            &tpath.key("spec"),
            template.and_then(|t| t.get("spec")),
            restart,
            &claims,
        );
    }

    /// A CronJob: its schedule (as the CronJob controller parses it) and time zone
    /// (`validateTimeZone`: an IANA name, not `Local`), then its Job's pods.
    pub(super) fn cronjob(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        match str_at(spec, "schedule") {
            Some(s) if s.trim().is_empty() => self.push(
                Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("schedule"),
                    "the CronJob's schedule is empty",
                )
                .key("schedule"),
            ),
            Some(s) => {
                if let Err((e, help)) = check_schedule(s) {
                    self.push(
                        Finding::error(
                            rules::FIELD_VALUE,
                            &path.key("schedule"),
                            format!("schedule {s:?}: {e}"),
                        )
                        .key("schedule")
                        .help(help),
                    );
                }
            }
            None => {}
        }
        if let Some(tz) = str_at(spec, "timeZone") {
            if let Err((e, close)) = check_time_zone(tz) {
                let help = match close {
                    Some(c) => format!("did you mean `{c}`? Write an IANA time zone name such as `Europe/Paris`, `America/New_York` or `UTC`; the API server refuses others, and `Local`"),
                    None => "write an IANA time zone name such as `Europe/Paris`, `America/New_York` or `UTC`; the API server refuses others, and `Local`".to_string(),
                };
                self.push(
                    Finding::error(
                        rules::FIELD_VALUE,
                        &path.key("timeZone"),
                        format!("time zone {tz:?}: {e}"),
                    )
                    .key("cron.time_zone")
                    .help(help),
                );
            }
        }
        self.cronjob_fields(path, spec);
        let job = path.key("jobTemplate").key("spec");
        self.workload(
            &job,
            spec.get("jobTemplate").and_then(|t| t.get("spec")),
            Restart::Job,
        );
    }

    /// A StatefulSet's volume claim templates: each name is the name of a pod volume
    /// (a DNS-1123 label, used once: a second template of the same name is silently
    /// dropped) and each spec a valid claim. Returns their names.
    fn volume_claim_templates(&mut self, path: &FieldPath, spec: &Value) -> Vec<String> {
        let mut names_seen: Vec<String> = Vec::new();
        for (i, c) in arr_at(spec, "volumeClaimTemplates").iter().enumerate() {
            let cp = path.key("volumeClaimTemplates").index(i);
            let Some(name) = c.get("metadata").and_then(|m| str_at(m, "name")) else {
                self.push(Finding::error(
                    rules::VOLUMES,
                    &cp.key("metadata").key("name"),
                    format!("volume claim template {i} has no name: the pods mount it by name"),
                ));
                continue;
            };
            let np = cp.key("metadata").key("name");
            let vol = format!("volumes.{name}");
            if let Err(e) = names::check_dns1123_label(name) {
                self.push(
                    Finding::error(
                        rules::VOLUMES,
                        &np,
                        format!("volume claim template name (a volume name of the pods): {e}"),
                    )
                    .key(&vol),
                );
            }
            if names_seen.iter().any(|n| n == name) {
                self.push(
                    Finding::error(
                        rules::VOLUMES,
                        &np,
                        format!("volume claim template `{name}` is defined twice: the StatefulSet controller keeps one of them"),
                    )
                    .key(&vol),
                );
            } else {
                names_seen.push(name.to_string());
            }
            let claim = format!("volume claim template `{name}`");
            self.claim_spec(&cp.key("spec"), c.get("spec"), &claim, &vol);
        }
        names_seen
    }

    fn deployment_strategy(&mut self, path: &FieldPath, spec: &Value) {
        if self.kind() != "Deployment" {
            return;
        }
        if let (Some(deadline), min_ready) = (
            int_at(spec, "progressDeadlineSeconds"),
            int_at(spec, "minReadySeconds").unwrap_or(0),
        ) {
            if deadline <= min_ready {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("progressDeadlineSeconds"),
                    format!("progressDeadlineSeconds {deadline} must be greater than minReadySeconds {min_ready}"),
                ));
            }
        }
        let Some(ru) = spec.get("strategy").and_then(|s| s.get("rollingUpdate")) else {
            return;
        };
        let zero = |v: Option<&Value>| match v {
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s == "0%" || s == "0",
            _ => false,
        };
        let rp = path.key("strategy").key("rollingUpdate");
        for field in ["maxSurge", "maxUnavailable"] {
            if let Some(v) = ru.get(field) {
                if let Err(e) = int_or_percent(v) {
                    self.push(Finding::error(
                        rules::FIELD_VALUE,
                        &rp.key(field),
                        format!("{field}: {e}"),
                    ));
                }
            }
        }
        if zero(ru.get("maxSurge")) && zero(ru.get("maxUnavailable")) {
            self.push(Finding::error(
                rules::FIELD_VALUE,
                &rp.key("maxUnavailable"),
                "maxSurge and maxUnavailable are both 0: a rolling update could never make progress",
            ));
        }
    }

    pub(super) fn label_selector(&mut self, path: &FieldPath, sel: &Value, required: bool) {
        let labels = map_at(sel, "matchLabels");
        let exprs = arr_at(sel, "matchExpressions");
        if required && labels.is_none_or(Map::is_empty) && exprs.is_empty() {
            self.push(Finding::error(
                rules::SELECTOR,
                path,
                "the selector is empty: it would select every pod in the namespace",
            ));
        }
        for (k, v) in labels.into_iter().flatten() {
            let fp = || path.key("matchLabels").key(k);
            if let Err(e) = names::check_label_key(k) {
                self.push(Finding::error(rules::SELECTOR, &fp(), e));
            } else if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                self.push(Finding::error(rules::SELECTOR, &fp(), e));
            }
        }
        for (i, e) in exprs.iter().enumerate() {
            let ep = || path.key("matchExpressions").index(i);
            let op = str_at(e, "operator").unwrap_or("");
            let values = arr_at(e, "values");
            let problem = match op {
                "In" | "NotIn" if values.is_empty() => {
                    Some(format!("operator {op} needs at least one value"))
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    Some(format!("operator {op} takes no values"))
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" => None,
                other => Some(format!(
                    "unsupported operator {other:?}: use In, NotIn, Exists or DoesNotExist"
                )),
            };
            if let Some(p) = problem {
                self.push(Finding::error(rules::SELECTOR, &ep(), p));
            }
        }
    }
}

/// Whether a label selector selects pods with `labels`.
pub fn selector_matches(sel: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let labels_ok = map_at(sel, "matchLabels")
        .into_iter()
        .flatten()
        .all(|(k, v)| get(k) == v.as_str());
    let exprs_ok = arr_at(sel, "matchExpressions").iter().all(|e| {
        let key = str_at(e, "key").unwrap_or("");
        let values: Vec<&str> = arr_at(e, "values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        match str_at(e, "operator") {
            Some("In") => get(key).is_some_and(|v| values.contains(&v)),
            Some("NotIn") => get(key).is_none_or(|v| !values.contains(&v)),
            Some("Exists") => get(key).is_some(),
            Some("DoesNotExist") => get(key).is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// The pod template of a workload: (path of the pod spec, pod metadata, pod spec).
pub fn pod_template<'a>(s: &Subject<'a>) -> Option<(FieldPath, Option<&'a Value>, &'a Value)> {
    let at = match (s.group(), s.kind()) {
        ("", "Pod") => "spec",
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => {
            "spec.template.spec"
        }
        ("batch", "CronJob") => "spec.jobTemplate.spec.template.spec",
        _ => return None,
    };
    let spec = s.value.get("spec")?;
    let template = match at {
        "spec" => return Some((FieldPath::fixed(at), s.value.get("metadata"), spec)),
        "spec.template.spec" => spec.get("template")?,
        _ => spec.get("jobTemplate")?.get("spec")?.get("template")?,
    };
    Some((
        FieldPath::fixed(at),
        template.get("metadata"),
        template.get("spec")?,
    ))
}

/// The containers of a pod spec with their paths (init containers first).
pub fn containers<'a>(path: &FieldPath, pod: &'a Value, init: bool) -> Vec<(FieldPath, &'a Value)> {
    let lists: &[&str] = if init {
        &["initContainers", "containers"]
    } else {
        &["containers"]
    };
    lists
        .iter()
        .flat_map(|list| {
            arr_at(pod, list)
                .iter()
                .enumerate()
                .map(move |(i, c)| (path.key(list).index(i), c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_good_deployment_has_no_findings() {
        assert_eq!(findings(&deployment()), vec![]);
    }

    #[test]
    fn deployment_problems() {
        let mut d = deployment();
        d["spec"]["selector"]["matchLabels"]["app"] = json!("other");
        let c = &mut d["spec"]["template"]["spec"]["containers"][0];
        c["ports"][0]["name"] = json!("a-very-long-port-name");
        c["readinessProbe"]["httpGet"]["path"] = json!("ready");
        c["resources"]["requests"]["cpu"] = json!("2");
        c["volumeMounts"] =
            json!([{"name": "tmp", "mountPath": "/tmp"}, {"name": "data", "mountPath": "/tmp/"}]);
        let got = findings(&d);
        let codes: Vec<&str> = got.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            codes,
            vec!["KG105", "KG106", "KG109", "KG109", "KG107", "KG112", "KG112"],
            "{got:#?}"
        );
        assert_eq!(
            got[0].2,
            "the selector does not match the pod template's labels"
        );
        assert_eq!(got[4].2, "cpu request 2 is larger than its limit 1");
        assert_eq!(
            got[4].1,
            "spec.template.spec.containers[0].resources.requests.cpu"
        );
        assert_eq!(
            got[5].2,
            "container `api` mounts volume `data`, which the pod does not define"
        );
        assert_eq!(
            got[6].2,
            "mount path `/tmp/` is used twice in container `api` (volumeMounts 0 and 1)"
        );
    }

    #[test]
    fn cronjob_names_and_restart_policy() {
        let msgs = |v: Value| findings(&v).into_iter().map(|f| f.2).collect::<Vec<_>>();
        let long = "c".repeat(53);
        let got = msgs(
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": long},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}}}),
        );
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(
            got[0].ends_with(
                "a CronJob name is at most 52, because its Jobs' names add an 11-character suffix"
            ),
            "{}",
            got[0]
        );
        assert_eq!(got[1], "the pods of a Job need restartPolicy OnFailure or Never (the default, Always, is refused)");
    }

    #[test]
    fn statefulset_names_and_claim_templates() {
        let mut s = workload(
            "StatefulSet",
            json!({"containers": [{"name": "db", "image": "d:1",
                "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "logs", "mountPath": "/logs"}]}]}),
        );
        s["metadata"]["name"] = json!("d".repeat(53));
        s["spec"]["volumeClaimTemplates"] = json!([
            {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}},
            {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
            {"metadata": {"name": "Logs"}, "spec": {"accessModes": ["ReadWriteOncePod", "ReadOnlyMany"]}}
        ]);
        let got = findings(&s);
        let msgs: Vec<&str> = got.iter().map(|f| f.2.as_str()).collect();
        assert_eq!(msgs.len(), 6, "{got:#?}");
        assert!(
            msgs[0].ends_with("a StatefulSet name is at most 52, because its pods' `controller-revision-hash` label is the name and an 11-character suffix"),
            "{}",
            msgs[0]
        );
        assert_eq!(
            msgs[1..5],
            [
                "volume claim template `data` is defined twice: the StatefulSet controller keeps one of them",
                "volume claim template name (a volume name of the pods): \"Logs\" is not a valid DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
                "volume claim template `Logs` combines ReadWriteOncePod with other access modes, which the API server refuses",
                "volume claim template `Logs` requests no storage (resources.requests.storage is required)",
            ]
        );
        // The mount of `logs` finds no volume: the template is `Logs`.
        assert_eq!(
            msgs[5],
            "container `db` mounts volume `logs`, which the pod does not define"
        );
        assert_eq!(
            got[4].1,
            "spec.volumeClaimTemplates[2].spec.resources.requests.storage"
        );
    }

    #[test]
    fn cronjob_schedules_and_time_zones() {
        let mut c = workload(
            "CronJob",
            json!({"restartPolicy": "Never", "containers": [{"name": "c", "image": "c:1"}]}),
        );
        c["spec"]["schedule"] = json!("0 0 3 * * *");
        c["spec"]["timeZone"] = json!("Local");
        let got = findings(&c);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(got[0].1, "spec.schedule");
        assert!(
            got[0].2.starts_with("schedule \"0 0 3 * * *\": "),
            "{}",
            got[0].2
        );
        assert_eq!(
            (got[1].1.as_str(), got[1].2.as_str()),
            (
                "spec.timeZone",
                "time zone \"Local\": `Local` depends on the controller's machine, and the API server refuses it"
            )
        );
        c["spec"]["schedule"] = json!(" ");
        c["spec"]["timeZone"] = json!("Europe/Paris");
        assert_eq!(messages(&c), vec!["the CronJob's schedule is empty"]);
    }

    #[test]
    fn jobs_and_cronjobs_run_their_pods_to_completion() {
        for kind in ["Job", "CronJob"] {
            let j = workload(
                kind,
                json!({"restartPolicy": "Always", "containers": [{"name": "c", "image": "c:1"}]}),
            );
            assert_eq!(
                messages(&j),
                vec!["the pods of a Job need restartPolicy OnFailure or Never, not Always"],
                "{kind}"
            );
        }
    }
}
