//! external-dns (kubernetes-sigs/external-dns, chart `external-dns` from
//! https://kubernetes-sigs.github.io/external-dns/): writes the DNS records of Services
//! and Ingresses into Route 53, marking the records it owns with TXT records that name
//! this cluster (`txt_owner_id`), so that clusters sharing a zone leave each other's
//! records alone.
//!
//! Checked against chart 1.21.1 (tag `external-dns-helm-chart-1.21.1`, commit 9f2645134,
//! application v0.21.0; `charts/external-dns/`: `values.yaml`, `templates/_helpers.tpl`,
//! `deployment.yaml`, `clusterrole.yaml`, `clusterrolebinding.yaml`,
//! `serviceaccount.yaml`, `service.yaml`, `secret.yaml`, `servicemonitor.yaml`, and
//! `crds/dnsendpoints.externaldns.k8s.io.yaml`).
//!
//! - One replica: the Deployment hard-codes `replicas: 1` with the `Recreate` strategy
//!   (two writers would race on the same records), so the preset takes no `replicas`
//!   and the chart has no PodDisruptionBudget. A missed eviction only delays DNS
//!   changes, which is also why kgen sets no PriorityClass by default.
//! - `provider.name: aws`; `policy` (kgen's default `upsert-only`: never deletes a
//!   record; `sync` also deletes the records it owns); `txtOwnerId` (kgen's default:
//!   the cluster's name, unique per cluster); `domainFilters` (each becomes
//!   `--domain-filter`); `sources` stays the chart's `service` and `ingress`.
//! - `priorityClassName`, `resources`, `tolerations`, `nodeSelector` are top-level.
//! - Cluster-scoped: the ClusterRole `<fullname>` and the ClusterRoleBinding
//!   `<fullname>-viewer` (with `namespaced: false`, the default), and the CRD
//!   `dnsendpoints.externaldns.k8s.io` from the chart's `crds/` directory (Argo CD
//!   renders it: `skipCrds` is off), 4 kB, so no server-side apply.
//! - Pods: non-root (65532), `RuntimeDefault` seccomp, no privilege escalation, all
//!   capabilities dropped, read-only root: `restricted`.
//! - The ServiceAccount (`serviceAccount.annotations` for IRSA) is named by
//!   `serviceAccount.name`, which kgen sets to the release name (the chart's default is
//!   the fullname).

use serde_json::{json, Value};

use super::{
    crd, helm_fullname, kinds, object, resources_or, set, tolerations_value, Footprint, Needed,
    Preset, ServiceAccount, APIEXTENSIONS, RBAC,
};
use crate::input::PodSecurityLevel;
use crate::spec::AddonSettings;

pub const PRESET: Preset = Preset {
    name: "external-dns",
    chart: "external-dns",
    repo: "https://kubernetes-sigs.github.io/external-dns/",
    checked_version: "1.21.1",
    namespace: "external-dns",
    pod_security: PodSecurityLevel::Restricted,
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
        "domain_filters",
        "txt_owner_id",
        "policy",
    ],
    required: &[],
    recommended: &[Needed {
        key: "domain_filters",
        values_path: &["domainFilters"],
        why: "external-dns may then write records in every Route 53 zone its IAM role can reach",
    }],
    kubernetes: &[],
    min_kubernetes: None,
    check_values: super::no_values_problems,
    values,
    footprint,
    custom_resources,
    render_time_fields: super::no_render_time_fields,
};

fn values(s: &AddonSettings) -> Value {
    let mut v = json!({
        "provider": { "name": "aws" },
        "policy": s.policy.as_deref().unwrap_or("upsert-only"),
        "txtOwnerId": s.txt_owner_id.as_deref().unwrap_or(&s.cluster),
        "serviceAccount": { "name": s.release },
        "resources": resources_or(s, json!({ "requests": { "cpu": "10m", "memory": "64Mi" } })),
    });
    if !s.domain_filters.is_empty() {
        set(&mut v, &["domainFilters"], json!(s.domain_filters));
    }
    if let Some(p) = &s.priority_class {
        set(&mut v, &["priorityClassName"], json!(p));
    }
    if !s.tolerations.is_empty() {
        set(&mut v, &["tolerations"], tolerations_value(&s.tolerations));
    }
    if !s.node_selector.is_empty() {
        set(&mut v, &["nodeSelector"], json!(s.node_selector));
    }
    v
}

fn footprint(s: &AddonSettings) -> Footprint {
    let f = helm_fullname(&s.release, "external-dns");
    Footprint {
        namespaces: Vec::new(),
        cluster_kinds: kinds(&[
            (APIEXTENSIONS, "CustomResourceDefinition"),
            (RBAC, "ClusterRole"),
            (RBAC, "ClusterRoleBinding"),
        ]),
        crd_groups: vec!["externaldns.k8s.io".into()],
        objects: vec![
            crd("dnsendpoints.externaldns.k8s.io"),
            object(RBAC, "ClusterRole", "", f.clone()),
            object(RBAC, "ClusterRoleBinding", "", format!("{f}-viewer")),
        ],
        ..Footprint::default()
    }
}

/// A ServiceMonitor with `serviceMonitor.enabled` (off by default;
/// `charts/external-dns/templates/servicemonitor.yaml` at chart 1.21.1).
fn custom_resources(values: &serde_json::Value) -> Vec<super::CustomResource> {
    super::service_monitor_when(values, &["serviceMonitor", "enabled"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CpuMem, Resources, TaintEffect, Toleration, TolerationOperator};

    fn settings() -> AddonSettings {
        AddonSettings {
            release: "external-dns".into(),
            namespace: "external-dns".into(),
            cluster: "prod".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_values_own_records_as_the_cluster_and_never_delete() {
        assert_eq!(
            values(&settings()),
            json!({
                "provider": { "name": "aws" },
                "policy": "upsert-only",
                "txtOwnerId": "prod",
                "serviceAccount": { "name": "external-dns" },
                "resources": { "requests": { "cpu": "10m", "memory": "64Mi" } },
            })
        );
    }

    #[test]
    fn settings_become_values() {
        let s = AddonSettings {
            domain_filters: vec!["example.com".into(), "example.org".into()],
            txt_owner_id: Some("prod-eu".into()),
            policy: Some("sync".into()),
            priority_class: Some("platform".into()),
            resources: Some(Resources {
                requests: CpuMem {
                    cpu: Some("20m".into()),
                    memory: Some("100Mi".into()),
                },
                limits: CpuMem::default(),
            }),
            tolerations: vec![Toleration {
                key: Some("dedicated".into()),
                operator: TolerationOperator::Equal,
                value: Some("system".into()),
                effect: Some(TaintEffect::NoSchedule),
                seconds: None,
            }],
            node_selector: [("role".to_string(), "system".to_string())].into(),
            ..settings()
        };
        assert_eq!(
            values(&s),
            json!({
                "provider": { "name": "aws" },
                "policy": "sync",
                "txtOwnerId": "prod-eu",
                "domainFilters": ["example.com", "example.org"],
                "serviceAccount": { "name": "external-dns" },
                "resources": { "requests": { "cpu": "20m", "memory": "100Mi" } },
                "priorityClassName": "platform",
                "tolerations": [{
                    "key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule",
                }],
                "nodeSelector": { "role": "system" },
            })
        );
    }

    #[test]
    fn footprint_is_its_crd_and_cluster_role() {
        let f = footprint(&settings());
        assert!(f.namespaces.is_empty());
        assert_eq!(f.crd_groups, vec!["externaldns.k8s.io".to_string()]);
        assert_eq!(
            f.objects,
            vec![
                crd("dnsendpoints.externaldns.k8s.io"),
                object(RBAC, "ClusterRole", "", "external-dns"),
                object(RBAC, "ClusterRoleBinding", "", "external-dns-viewer"),
            ]
        );
        let other = footprint(&AddonSettings {
            release: "dns".into(),
            ..settings()
        });
        assert_eq!(
            other.objects[2],
            object(RBAC, "ClusterRoleBinding", "", "dns-external-dns-viewer")
        );
    }
}
