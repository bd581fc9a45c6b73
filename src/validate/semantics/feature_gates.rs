//! Fields behind a Kubernetes feature gate that is off by default in the version the
//! environment's cluster runs (`kubernetes_version`): the API server of that version
//! drops such a field when it creates the object (`dropDisabledFields` in kubernetes
//! `pkg/api/pod/util.go`, and the registries' `PrepareForCreate` for Services, Jobs,
//! StatefulSets and autoscalers), so the object runs without what it asks for, Argo CD
//! shows it OutOfSync for good, and a pod whose only lifecycle handler was a `sleep`
//! is refused outright ("must specify a handler type").
//!
//! The versions are those of kubernetes `pkg/features/kube_features.go`
//! (`defaultVersionedKubernetesFeatureGates`): the first release whose default turns
//! the gate on. A gate no release up to 1.35 turns on by default is not listed (its
//! on-version is unknown). Checked only where the version is known (a compiled
//! environment); `kgen validate PATH` has no cluster.

use serde_json::Value;

use super::{pod_template, Checker};
use crate::rules;
use crate::validate::{arr_at, FieldPath, Finding};

/// A feature gate and the first Kubernetes minor version that turns it on by default.
#[derive(Clone, Copy)]
struct Gate {
    /// The field, as the message names it.
    what: &'static str,
    name: &'static str,
    on_from: (u32, u32),
    /// What that version's API server does, when it is not only dropping the field.
    effect: Option<&'static str>,
}

const fn gate(what: &'static str, name: &'static str, minor: u32) -> Gate {
    Gate {
        what,
        name,
        on_from: (1, minor),
        effect: None,
    }
}

const SLEEP: Gate = Gate {
    what: "a lifecycle hook's `sleep` action",
    name: "PodLifecycleSleepAction",
    on_from: (1, 30),
    effect: Some(
        "drops the field, and then refuses the pod when the hook has no other handler (\"must specify a handler type\")",
    ),
};
/// kubernetes `validateSleepAction`: without the gate, `seconds` must be above 0.
const SLEEP_ZERO: Gate = Gate {
    what: "`sleep.seconds: 0`",
    name: "PodLifecycleSleepActionAllowZero",
    on_from: (1, 33),
    effect: Some("refuses the pod: a sleep must be longer than 0 seconds there"),
};
const APPARMOR: Gate = gate("`appArmorProfile`", "AppArmorFields", 30);
const RECURSIVE_READ_ONLY: Gate = gate(
    "a mount's `recursiveReadOnly`",
    "RecursiveReadOnlyMounts",
    31,
);
const TRAFFIC_DISTRIBUTION: Gate = gate(
    "a Service's `trafficDistribution`",
    "ServiceTrafficDistribution",
    31,
);
const JOB_SUCCESS_POLICY: Gate = gate("a Job's `successPolicy`", "JobSuccessPolicy", 31);
const MATCH_LABEL_KEYS_AFFINITY: Gate = gate(
    "`matchLabelKeys` or `mismatchLabelKeys` in pod (anti-)affinity",
    "MatchLabelKeysInPodAffinity",
    31,
);
const JOB_MANAGED_BY: Gate = gate("a Job's `managedBy`", "JobManagedBy", 32);
const USER_NAMESPACES: Gate = gate("`hostUsers`", "UserNamespacesSupport", 33);
const SUPPLEMENTAL_GROUPS_POLICY: Gate =
    gate("`supplementalGroupsPolicy`", "SupplementalGroupsPolicy", 33);
const SELINUX_CHANGE_POLICY: Gate = gate("`seLinuxChangePolicy`", "SELinuxChangePolicy", 33);
const IN_PLACE_RESIZE: Gate = gate(
    "a container's `resizePolicy`",
    "InPlacePodVerticalScaling",
    33,
);
const PROC_MOUNT: Gate = gate("`procMount`", "ProcMountType", 33);
const POD_LEVEL_RESOURCES: Gate = gate("pod-level `resources`", "PodLevelResources", 34);
const HPA_TOLERANCE: Gate = gate(
    "an autoscaler's `tolerance`",
    "HPAConfigurableTolerance",
    35,
);
const STATEFULSET_MAX_UNAVAILABLE: Gate = gate(
    "a StatefulSet's `maxUnavailable`",
    "MaxUnavailableStatefulSet",
    35,
);
const IMAGE_VOLUME: Gate = gate("an `image` volume", "ImageVolume", 35);

/// The newest `on_from` above: from this version on, nothing here is off.
const ALL_ON_FROM: (u32, u32) = (1, 35);

impl Checker<'_, '_> {
    pub(super) fn feature_gates(&mut self) {
        let Some(env) = self.s.env else {
            return;
        };
        let version = env.kubernetes_version;
        if version >= ALL_ON_FROM {
            return;
        }
        let mut found: Vec<(FieldPath, Gate)> = Vec::new();
        let mut check = |path: &dyn Fn() -> FieldPath, gate: Gate| {
            if version < gate.on_from {
                found.push((path(), gate));
            }
        };
        let root = FieldPath::root();
        let spec = self.s.value.get("spec");
        match (self.s.group(), self.s.kind()) {
            ("", "Service") if spec.is_some_and(|s| s.get("trafficDistribution").is_some()) => {
                check(
                    &|| root.key("spec").key("trafficDistribution"),
                    TRAFFIC_DISTRIBUTION,
                );
            }
            ("apps", "StatefulSet") => {
                let max_unavailable = spec
                    .and_then(|s| s.get("updateStrategy"))
                    .and_then(|u| u.get("rollingUpdate"))
                    .and_then(|r| r.get("maxUnavailable"));
                if max_unavailable.is_some() {
                    check(
                        &|| {
                            root.key("spec")
                                .key("updateStrategy")
                                .key("rollingUpdate")
                                .key("maxUnavailable")
                        },
                        STATEFULSET_MAX_UNAVAILABLE,
                    );
                }
            }
            ("batch", "Job" | "CronJob") => {
                let (job, at) = if self.s.kind() == "Job" {
                    (spec, root.key("spec"))
                } else {
                    (
                        spec.and_then(|s| s.get("jobTemplate"))
                            .and_then(|t| t.get("spec")),
                        root.key("spec").key("jobTemplate").key("spec"),
                    )
                };
                if let Some(job) = job {
                    for (field, gate) in [
                        ("successPolicy", JOB_SUCCESS_POLICY),
                        ("managedBy", JOB_MANAGED_BY),
                    ] {
                        if job.get(field).is_some() {
                            check(&|| at.key(field), gate);
                        }
                    }
                }
            }
            ("autoscaling", "HorizontalPodAutoscaler") => {
                if let Some(behavior) = spec.and_then(|s| s.get("behavior")) {
                    for rules in ["scaleUp", "scaleDown"] {
                        if behavior
                            .get(rules)
                            .is_some_and(|r| r.get("tolerance").is_some())
                        {
                            check(
                                &|| root.key("spec").key("behavior").key(rules).key("tolerance"),
                                HPA_TOLERANCE,
                            );
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some((path, _, pod)) = pod_template(self.s) {
            pod_gates(&path, pod, &mut check);
        }
        for (field, gate) in found {
            let (major, minor) = gate.on_from;
            let effect = gate.effect.unwrap_or("drops the field");
            self.push(
                Finding::error(
                    rules::FEATURE_GATE,
                    &field,
                    format!(
                        "{} needs the feature gate {}, on by default from Kubernetes {major}.{minor}; the cluster runs {}.{} (its `kubernetes_version`, 1.29 unless set), whose API server {effect}",
                        gate.what,
                        gate.name,
                        version.0,
                        version.1
                    ),
                )
                .help(format!(
                    "remove the field, or, once the cluster runs {major}.{minor}, set `kubernetes_version = \"{major}.{minor}\"` in `[clusters.{}]` (an environment that names its cluster by URL declares it there first, with that URL as `server`: docs/platform.md#clusters)",
                    env.cluster
                )),
            );
        }
    }
}

/// The gated fields of a pod spec and its containers.
fn pod_gates(path: &FieldPath, pod: &Value, check: &mut impl FnMut(&dyn Fn() -> FieldPath, Gate)) {
    if pod.get("hostUsers").is_some() {
        check(&|| path.key("hostUsers"), USER_NAMESPACES);
    }
    if pod.get("resources").is_some() {
        check(&|| path.key("resources"), POD_LEVEL_RESOURCES);
    }
    if let Some(sc) = pod.get("securityContext") {
        for (field, gate) in [
            ("appArmorProfile", APPARMOR),
            ("supplementalGroupsPolicy", SUPPLEMENTAL_GROUPS_POLICY),
            ("seLinuxChangePolicy", SELINUX_CHANGE_POLICY),
        ] {
            if sc.get(field).is_some() {
                check(&|| path.key("securityContext").key(field), gate);
            }
        }
    }
    if let Some(affinity) = pod.get("affinity") {
        for kind in ["podAffinity", "podAntiAffinity"] {
            let Some(terms) = affinity.get(kind) else {
                continue;
            };
            let required = "requiredDuringSchedulingIgnoredDuringExecution";
            let preferred = "preferredDuringSchedulingIgnoredDuringExecution";
            for (i, term) in arr_at(terms, required).iter().enumerate() {
                for keys in ["matchLabelKeys", "mismatchLabelKeys"] {
                    if term.get(keys).is_some() {
                        check(
                            &|| {
                                path.key("affinity")
                                    .key(kind)
                                    .key(required)
                                    .index(i)
                                    .key(keys)
                            },
                            MATCH_LABEL_KEYS_AFFINITY,
                        );
                    }
                }
            }
            for (i, weighted) in arr_at(terms, preferred).iter().enumerate() {
                let Some(term) = weighted.get("podAffinityTerm") else {
                    continue;
                };
                for keys in ["matchLabelKeys", "mismatchLabelKeys"] {
                    if term.get(keys).is_some() {
                        check(
                            &|| {
                                path.key("affinity")
                                    .key(kind)
                                    .key(preferred)
                                    .index(i)
                                    .key("podAffinityTerm")
                                    .key(keys)
                            },
                            MATCH_LABEL_KEYS_AFFINITY,
                        );
                    }
                }
            }
        }
    }
    for (i, v) in arr_at(pod, "volumes").iter().enumerate() {
        if v.get("image").is_some() {
            check(&|| path.key("volumes").index(i).key("image"), IMAGE_VOLUME);
        }
    }
    for list in ["initContainers", "containers"] {
        for (i, c) in arr_at(pod, list).iter().enumerate() {
            let at = || path.key(list).index(i);
            if let Some(lifecycle) = c.get("lifecycle") {
                for hook in ["preStop", "postStart"] {
                    let Some(sleep) = lifecycle.get(hook).and_then(|h| h.get("sleep")) else {
                        continue;
                    };
                    check(&|| at().key("lifecycle").key(hook).key("sleep"), SLEEP);
                    if sleep.get("seconds").and_then(Value::as_i64) == Some(0) {
                        check(
                            &|| at().key("lifecycle").key(hook).key("sleep").key("seconds"),
                            SLEEP_ZERO,
                        );
                    }
                }
            }
            if let Some(sc) = c.get("securityContext") {
                for (field, gate) in [("appArmorProfile", APPARMOR), ("procMount", PROC_MOUNT)] {
                    if sc.get(field).is_some() {
                        check(&|| at().key("securityContext").key(field), gate);
                    }
                }
            }
            if c.get("resizePolicy").is_some() {
                check(&|| at().key("resizePolicy"), IN_PLACE_RESIZE);
            }
            for (m, mount) in arr_at(c, "volumeMounts").iter().enumerate() {
                if mount.get("recursiveReadOnly").is_some() {
                    check(
                        &|| at().key("volumeMounts").index(m).key("recursiveReadOnly"),
                        RECURSIVE_READ_ONLY,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::super::testing::workload;
    use crate::spec::PlatformSpec;
    use crate::validate::Subject;
    use crate::workspace::{InputFiles, Workspace};
    use serde_json::json;
    use std::path::PathBuf;

    /// A one-environment platform whose cluster runs 1.`minor`.
    fn platform(minor: u32) -> PlatformSpec {
        let text = format!(
            "[platform]\nname = \"acme\"\nrepo = \"https://github.com/acme/platform.git\"\n\n[clusters.dev]\nkubernetes_version = \"1.{minor}\"\n\n[environments.dev]\ncluster = \"dev\"\n"
        );
        let ws = Workspace::parse(
            PathBuf::from("/nonexistent"),
            InputFiles {
                platform: ("platform.toml".into(), text),
                overlays: vec![],
            },
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        crate::resolve::resolve(&ws, &[]).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// (field, message) of the KG118 findings about `v` in an environment whose
    /// cluster runs 1.`minor`.
    fn gated(v: &serde_json::Value, minor: u32) -> Vec<(String, String)> {
        let spec = platform(minor);
        check(&Subject::new(v, None, Some(&spec.environments[0]), None))
            .into_iter()
            .filter(|f| f.code == "KG118")
            .map(|f| (f.field, f.message))
            .collect()
    }

    #[test]
    fn each_gate_is_checked_below_its_version_only() {
        let pod = json!({
            "hostUsers": false,
            "securityContext": {"supplementalGroupsPolicy": "Strict"},
            "containers": [{
                "name": "x", "image": "r/x:1",
                "lifecycle": {"preStop": {"sleep": {"seconds": 0}}},
                "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
                "volumeMounts": [{"name": "v", "mountPath": "/v", "readOnly": true, "recursiveReadOnly": "Enabled"}]
            }],
            "volumes": [{"name": "v", "emptyDir": {}}]
        });
        let d = workload("Deployment", pod);
        let fields = |minor| {
            gated(&d, minor)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>()
        };
        let c = "spec.template.spec.containers[0]";
        assert_eq!(
            fields(29),
            vec![
                "spec.template.spec.hostUsers".to_string(),
                "spec.template.spec.securityContext.supplementalGroupsPolicy".to_string(),
                format!("{c}.lifecycle.preStop.sleep"),
                format!("{c}.lifecycle.preStop.sleep.seconds"),
                format!("{c}.resizePolicy"),
                format!("{c}.volumeMounts[0].recursiveReadOnly"),
            ]
        );
        assert_eq!(
            fields(31),
            vec![
                "spec.template.spec.hostUsers".to_string(),
                "spec.template.spec.securityContext.supplementalGroupsPolicy".to_string(),
                format!("{c}.lifecycle.preStop.sleep.seconds"),
                format!("{c}.resizePolicy"),
            ]
        );
        assert!(fields(33).is_empty());
    }

    #[test]
    fn services_jobs_and_autoscalers() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
            "spec": {"ports": [{"port": 80}], "trafficDistribution": "PreferClose"}});
        assert_eq!(
            gated(&svc, 30),
            vec![(
                "spec.trafficDistribution".to_string(),
                "a Service's `trafficDistribution` needs the feature gate ServiceTrafficDistribution, on by default from Kubernetes 1.31; the cluster runs 1.30 (its `kubernetes_version`, 1.29 unless set), whose API server drops the field".to_string()
            )]
        );
        let mut cron = workload(
            "CronJob",
            json!({"restartPolicy": "Never", "containers": [{"name": "x", "image": "r/x:1"}]}),
        );
        cron["spec"]["jobTemplate"]["spec"]["managedBy"] = json!("example.com/queue");
        assert_eq!(
            gated(&cron, 31)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>(),
            vec!["spec.jobTemplate.spec.managedBy".to_string()]
        );
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"}, "maxReplicas": 3,
                     "behavior": {"scaleDown": {"tolerance": "0.05"}}}});
        assert_eq!(gated(&hpa, 34).len(), 1);
        assert!(gated(&hpa, 35).is_empty());
    }

    #[test]
    fn unknown_cluster_versions_are_not_checked() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
            "spec": {"ports": [{"port": 80}], "trafficDistribution": "PreferClose"}});
        assert!(!check(&Subject::bare(&svc))
            .iter()
            .any(|f| f.code == "KG118"));
    }
}
