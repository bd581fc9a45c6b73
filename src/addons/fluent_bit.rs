//! fluent-bit: Fluent Bit as a DaemonSet shipping every container's logs to CloudWatch
//! Logs, from AWS's chart `aws-for-fluent-bit` (aws/eks-charts, `stable/aws-for-fluent-bit`,
//! repository https://aws.github.io/eks-charts), not from fluent/helm-charts' `fluent-bit`.
//!
//! Why this chart: its CloudWatch Logs output is typed values (`cloudWatchLogs.region`,
//! `cloudWatchLogs.logGroupName`, ...), so kgen sets two keys and a user's `values`
//! merge over them key by key; fluent/helm-charts' `fluent-bit` takes its pipeline as
//! Fluent Bit configuration text (`config.outputs`, by default Elasticsearch outputs and
//! a systemd input), which kgen would have to write whole and a user could only replace
//! whole. The image is AWS's build of Fluent Bit (AWS for Fluent Bit 3.2.1, on Fluent
//! Bit 4.2.2), which AWS supports and patches for EKS, with the `cloudwatch_logs`
//! output on by default. Against it: the chart is released rarely (0.1.34 in July
//! 2024, then 0.2.0 in February 2026) and has fewer features (no PodDisruptionBudget,
//! no hot reload); for Elasticsearch, Loki or OpenTelemetry, use fluent/helm-charts'
//! chart as a plain add-on (`chart`, `repo`, `values`).
//!
//! Checked against chart 0.2.0 (aws/eks-charts commit 2942cdc, the last one changing
//! `stable/aws-for-fluent-bit`; `values.yaml`, `templates/`):
//!
//! - A DaemonSet tailing `/var/log/containers/*.log` (`input.*`) through `hostPath`
//!   volumes (`/var/log` read-write, for its position database, and
//!   `/var/lib/docker/containers`): the namespace must be Pod Security `privileged`.
//!   kgen uses `logging`, as seed 002 does: its own namespace, privileged for it alone,
//!   and the IAM role's trust names `system:serviceaccount:logging:<release>`.
//! - `cloudWatchLogs.region` defaults to `us-east-1` in the chart: kgen writes the
//!   add-on's `region` (default `[platform] aws_region`). `cloudWatchLogs.logGroupName`:
//!   kgen's `log_group`, default `/aws/eks/<cluster>/containers`. `autoCreateGroup`
//!   stays on (the chart's default: the role needs `logs:CreateLogGroup`).
//! - `tolerations: []` by default: kgen tolerates every taint, so that every node's
//!   logs are collected, and sets `priorityClassName: system-node-critical`.
//! - `templates/clusterrole.yaml` and `clusterrolebinding.yaml` (always rendered): the
//!   ClusterRole and ClusterRoleBinding `<fullname>`, where `aws-for-fluent-bit.fullname`
//!   is the usual one (the release name when it contains `aws-for-fluent-bit`,
//!   `<release>-aws-for-fluent-bit` otherwise). No other namespace
//!   (`global.namespaceOverride` unset), no CRD, no PodSecurityPolicy
//!   (`rbac.pspEnabled` off), no ServiceMonitor (`serviceMonitor.enabled` off). A
//!   ClusterIP Service `<fullname>` (port 2020) in the release namespace.
//! - The ServiceAccount (`serviceAccount.annotations` for IRSA) is named after the
//!   release (`serviceAccount.name`), so that its name is known for the IAM role's trust
//!   or the Pod Identity association.

use serde_json::{json, Value};

use super::helm_names::fullname;
use super::{controller_values, kinds, merge, Footprint, Needed, Preset, ServiceAccount};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "fluent-bit",
    chart: "aws-for-fluent-bit",
    repo: "https://aws.github.io/eks-charts",
    checked_version: "0.2.0",
    namespace: "logging",
    pod_security: PodSecurityLevel::Privileged,
    server_side_apply: false,
    wave: crate::render::argocd::bootstrap_wave::ADDONS,
    service_account: Some(ServiceAccount {
        annotations: &["serviceAccount", "annotations"],
        name: "{release}",
        name_path: &["serviceAccount", "name"],
    }),
    settings: &[
        "resources",
        "priority_class",
        "tolerations",
        "node_selector",
        "region",
        "log_group",
    ],
    required: &[Needed {
        key: "region",
        values_path: &["cloudWatchLogs", "region"],
        why: "the chart would send the logs to `us-east-1`, its default `cloudWatchLogs.region`",
    }],
    recommended: &[],
    kubernetes: &[],
    min_kubernetes: None,
    check_values: super::no_values_problems,
    values,
    footprint,
    custom_resources: super::no_custom_resources,
    render_time_fields: super::no_render_time_fields,
};

/// The log group when `log_group` is not set.
pub fn default_log_group(cluster: &str) -> String {
    format!("/aws/eks/{cluster}/containers")
}

fn values(s: &AddonSettings) -> Value {
    let mut cloudwatch = json!({
        "enabled": true,
        "logGroupName": s.log_group.clone().unwrap_or_else(|| default_log_group(&s.cluster)),
    });
    if let Some(region) = &s.region {
        cloudwatch["region"] = json!(region);
    }
    let mut v = json!({
        "serviceAccount": { "create": true, "name": s.release },
        "cloudWatchLogs": cloudwatch,
        "priorityClassName": "system-node-critical",
        "tolerations": [{ "operator": "Exists" }],
    });
    // A DaemonSet: no `replicas`; the other controller settings are at the usual paths.
    merge(&mut v, controller_values(s, &[], "replicaCount"));
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = fullname(&s.release, PRESET.chart);
    let rbac = "rbac.authorization.k8s.io";
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds: kinds(&[(rbac, "ClusterRole"), (rbac, "ClusterRoleBinding")]),
        crd_groups: Vec::new(),
        objects: vec![
            (rbac.into(), "ClusterRole".into(), String::new(), f.clone()),
            (rbac.into(), "ClusterRoleBinding".into(), String::new(), f),
        ],
        ..Footprint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, TaintEffect, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "fluent-bit".into(),
            namespace: "logging".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values() {
        // Without a region (no `region`, no `[platform] aws_region`) the chart's
        // `us-east-1` would stay: the resolver must require one.
        assert_eq!(
            values(&settings()),
            json!({
                "serviceAccount": { "create": true, "name": "fluent-bit" },
                "cloudWatchLogs": {
                    "enabled": true,
                    "logGroupName": "/aws/eks/prod/containers",
                },
                "priorityClassName": "system-node-critical",
                "tolerations": [{ "operator": "Exists" }],
            })
        );
    }

    #[test]
    fn values_with_every_setting() {
        let mut s = settings();
        s.region = Some("eu-west-1".into());
        s.log_group = Some("/platform/prod/logs".into());
        s.priority_class = Some("node-agents".into());
        s.resources = Some(Resources {
            requests: CpuMem {
                cpu: Some("100m".into()),
                memory: Some("100Mi".into()),
            },
            limits: CpuMem {
                cpu: None,
                memory: Some("500Mi".into()),
            },
        });
        s.tolerations = vec![Toleration {
            key: Some("CriticalAddonsOnly".into()),
            operator: TolerationOperator::Exists,
            value: None,
            effect: Some(TaintEffect::NoSchedule),
            seconds: None,
        }];
        s.node_selector = [("kubernetes.io/os".to_string(), "linux".to_string())].into();
        s.irsa_role = Some("arn:aws:iam::123456789012:role/fluent-bit".into());
        assert_eq!(
            values(&s),
            json!({
                "serviceAccount": { "create": true, "name": "fluent-bit" },
                "cloudWatchLogs": {
                    "enabled": true,
                    "region": "eu-west-1",
                    "logGroupName": "/platform/prod/logs",
                },
                "priorityClassName": "node-agents",
                "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule" }],
                "resources": {
                    "requests": { "cpu": "100m", "memory": "100Mi" },
                    "limits": { "memory": "500Mi" },
                },
                "nodeSelector": { "kubernetes.io/os": "linux" },
            })
        );
    }

    #[test]
    fn service_account_is_the_release() {
        let sa = PRESET.service_account.unwrap();
        assert_eq!(sa.annotations, ["serviceAccount", "annotations"]);
        assert_eq!(sa.name.replace("{release}", "logs"), "logs");
        let mut s = settings();
        s.release = "logs".into();
        assert_eq!(values(&s)["serviceAccount"]["name"], "logs");
    }

    #[test]
    fn footprint_names_follow_the_release() {
        let f = footprint(&settings());
        assert!(f.namespaces.is_empty());
        assert!(f.crd_groups.is_empty());
        assert_eq!(
            f.cluster_kinds,
            kinds(&[
                ("rbac.authorization.k8s.io", "ClusterRole"),
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            ])
        );
        assert_eq!(
            f.objects,
            [
                (
                    "rbac.authorization.k8s.io".to_string(),
                    "ClusterRole".to_string(),
                    String::new(),
                    "fluent-bit-aws-for-fluent-bit".to_string()
                ),
                (
                    "rbac.authorization.k8s.io".to_string(),
                    "ClusterRoleBinding".to_string(),
                    String::new(),
                    "fluent-bit-aws-for-fluent-bit".to_string()
                ),
            ]
        );
        let mut s = settings();
        s.release = "aws-for-fluent-bit".into();
        assert_eq!(footprint(&s).objects[0].3, "aws-for-fluent-bit");
    }
}
