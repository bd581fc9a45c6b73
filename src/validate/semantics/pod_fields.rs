//! Pod spec fields the API server bounds beyond volumes and placement: the DNS
//! policy, hostname and subdomain, the user and group IDs of the pod's and its
//! containers' security contexts, an `emptyDir`'s size limit, and topology spread
//! constraints.
//!
//! Each follows kubernetes `pkg/apis/core/validation/validation.go`:
//! `validateDNSPolicy`, `ValidatePodSpec` (hostname and subdomain are DNS-1123
//! labels), `validatePodSpecSecurityContext` and `ValidateSecurityContext`
//! (`ValidateNonnegativeField` on the IDs), `validateEmptyDirVolumeSource`, and
//! `validateTopologySpreadConstraints` with `validateMinDomains` and
//! `validateMatchLabelKeysInTopologySpread`.

use serde_json::Value;

use super::Checker;
use crate::quantity::Quantity;
use crate::validate::{arr_at, int_at, map_at, scalar_text, str_at, FieldPath, Finding};
use crate::{names, rules};

impl Checker<'_, '_> {
    pub(super) fn pod_fields(&mut self, path: &FieldPath, pod: &Value) {
        if let Some(p) = str_at(pod, "dnsPolicy") {
            if !matches!(
                p,
                "" | "ClusterFirst" | "ClusterFirstWithHostNet" | "Default" | "None"
            ) {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key("dnsPolicy"),
                    format!("unsupported dnsPolicy {p:?}: use ClusterFirst, ClusterFirstWithHostNet, Default or None"),
                ));
            }
        }
        for field in ["hostname", "subdomain"] {
            if let Some(Err(e)) = str_at(pod, field)
                .filter(|h| !h.is_empty())
                .map(names::check_dns1123_label)
            {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path.key(field),
                    format!("pod {field}: {e}"),
                ));
            }
        }
        if let Some(sc) = pod.get("securityContext") {
            self.ids(|| path.key("securityContext"), sc, "the pod's");
        }
        for list in ["initContainers", "containers"] {
            for (i, c) in arr_at(pod, list).iter().enumerate() {
                if let Some(sc) = c.get("securityContext") {
                    self.ids(
                        || path.key(list).index(i).key("securityContext"),
                        sc,
                        "a container's",
                    );
                }
            }
        }
        for (i, v) in arr_at(pod, "volumes").iter().enumerate() {
            let Some(limit) = v.get("emptyDir").and_then(|e| e.get("sizeLimit")) else {
                continue;
            };
            // Only a quantity written with a '-' can be negative (parsed then, so the
            // happy path allocates nothing); one that does not parse is the schema's.
            let minus = match limit {
                Value::String(t) => t.trim_start().starts_with('-'),
                Value::Number(n) => n.as_f64().is_some_and(|n| n < 0.0),
                _ => false,
            };
            if let Some(q) = minus
                .then(|| scalar_text(limit))
                .flatten()
                .and_then(|t| Quantity::parse(&t).ok())
            {
                if q.is_negative() {
                    self.push(Finding::error(
                        rules::VOLUMES,
                        &path.key("volumes").index(i).key("emptyDir").key("sizeLimit"),
                        format!(
                            "the sizeLimit {limit} of volume `{}` is negative; use a size like 1Gi, or none for no limit",
                            str_at(v, "name").unwrap_or("")
                        ),
                    ));
                }
            }
        }
        for (i, t) in arr_at(pod, "topologySpreadConstraints").iter().enumerate() {
            self.topology_spread(|| path.key("topologySpreadConstraints").index(i), t);
        }
    }

    /// The user and group IDs of a security context, which may not be negative.
    fn ids(&mut self, path: impl Fn() -> FieldPath, sc: &Value, whose: &str) {
        for field in ["runAsUser", "runAsGroup", "fsGroup"] {
            if let Some(id) = int_at(sc, field).filter(|id| *id < 0) {
                self.push(Finding::error(
                    rules::FIELD_VALUE,
                    &path().key(field),
                    format!("{field} {id} of {whose} security context is negative; user and group IDs are 0 or more"),
                ));
            }
        }
    }

    /// One topology spread constraint.
    fn topology_spread(&mut self, tp: impl Fn() -> FieldPath, t: &Value) {
        let err = |at: FieldPath, m: String| Finding::error(rules::FIELD_VALUE, &at, m);
        if let Some(skew) = int_at(t, "maxSkew").filter(|s| *s < 1) {
            self.push(err(
                tp().key("maxSkew"),
                format!("maxSkew {skew} of a topology spread constraint is below 1; it is the largest difference of pod counts allowed between domains"),
            ));
        }
        let when = str_at(t, "whenUnsatisfiable");
        if let Some(w) = when.filter(|w| !matches!(*w, "DoNotSchedule" | "ScheduleAnyway")) {
            self.push(err(
                tp().key("whenUnsatisfiable"),
                format!("unsupported whenUnsatisfiable {w:?}: use DoNotSchedule or ScheduleAnyway"),
            ));
        }
        if let Some(min) = int_at(t, "minDomains") {
            if min < 1 {
                self.push(err(
                    tp().key("minDomains"),
                    format!("minDomains {min} of a topology spread constraint is below 1; leave it unset for the default (1)"),
                ));
            } else if when == Some("ScheduleAnyway") {
                self.push(err(
                    tp().key("minDomains"),
                    "minDomains is set with whenUnsatisfiable ScheduleAnyway; the API server accepts it only with DoNotSchedule".to_string(),
                ));
            }
        }
        let keys = arr_at(t, "matchLabelKeys");
        if keys.is_empty() {
            return;
        }
        let selector = t.get("labelSelector").filter(|s| !s.is_null());
        if selector.is_none() {
            self.push(err(
                tp().key("matchLabelKeys"),
                "matchLabelKeys is set without a labelSelector; the API server requires the selector it adds to".to_string(),
            ));
            return;
        }
        // Before Kubernetes 1.33 `ValidateMatchLabelKeysInTopologySpread` refuses the
        // template itself; from 1.33 (`MatchLabelKeysInPodTopologySpreadSelectorMerge`)
        // the pod strategy merges each key into the selector as an `In` expression when
        // a pod is created, and `ValidateMatchLabelKeysAndMismatchLabelKeys` refuses the
        // pod, whose selector then names the key twice.
        let labels = selector.and_then(|s| map_at(s, "matchLabels"));
        let expressions = selector
            .map(|s| arr_at(s, "matchExpressions"))
            .unwrap_or_default();
        for (i, k) in keys.iter().enumerate() {
            let Some(k) = k.as_str() else { continue };
            let place = if labels.is_some_and(|l| l.contains_key(k)) {
                "matchLabels"
            } else if expressions.iter().any(|e| str_at(e, "key") == Some(k)) {
                "matchExpressions"
            } else {
                continue;
            };
            self.push(err(
                tp().key("matchLabelKeys").index(i),
                format!("label `{k}` is both in matchLabelKeys and in the labelSelector's {place}; keep it in one of them (the API server refuses the workload before Kubernetes 1.33, and the pods it creates from 1.33)"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    #[test]
    fn dns_policy_hostname_and_ids() {
        let got = pod_findings(json!({
            "dnsPolicy": "ClusterFirstWithHostNetwork",
            "hostname": "Web_1",
            "subdomain": "headless",
            "securityContext": {"runAsUser": -1, "fsGroup": 1000},
            "containers": [{"name": "a", "image": "a:1", "securityContext": {"runAsGroup": -2}}],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "-1Gi"}}]
        }));
        assert_eq!(got.len(), 5, "{got:#?}");
        assert_eq!(
            got[0],
            pair("spec.template.spec.dnsPolicy", "unsupported dnsPolicy \"ClusterFirstWithHostNetwork\": use ClusterFirst, ClusterFirstWithHostNet, Default or None")
        );
        assert_eq!(got[1].0, "spec.template.spec.hostname");
        assert!(
            got[1]
                .1
                .starts_with("pod hostname: \"Web_1\" is not a valid DNS-1123 label"),
            "{}",
            got[1].1
        );
        assert_eq!(
            got[2..],
            [
                pair("spec.template.spec.securityContext.runAsUser", "runAsUser -1 of the pod's security context is negative; user and group IDs are 0 or more"),
                pair("spec.template.spec.containers[0].securityContext.runAsGroup", "runAsGroup -2 of a container's security context is negative; user and group IDs are 0 or more"),
                pair("spec.template.spec.volumes[0].emptyDir.sizeLimit", "the sizeLimit \"-1Gi\" of volume `tmp` is negative; use a size like 1Gi, or none for no limit"),
            ]
        );
        let ok = pod_findings(json!({
            "dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.1.1.1"]},
            "hostname": "web-1", "subdomain": "",
            "securityContext": {"runAsUser": 0, "runAsGroup": 0, "fsGroup": 0},
            "containers": [{"name": "a", "image": "a:1"}],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]
        }));
        assert!(ok.is_empty(), "{ok:#?}");
    }

    #[test]
    fn topology_spread_constraints() {
        let got = pod_findings(json!({
            "containers": [{"name": "a", "image": "a:1"}],
            "topologySpreadConstraints": [
                {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                 "labelSelector": {"matchLabels": {"app": "x"}}, "minDomains": 0},
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
                 "labelSelector": {"matchLabels": {"app": "x"}}, "minDomains": 2,
                 "matchLabelKeys": ["pod-template-hash", "app"]},
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Never",
                 "matchLabelKeys": ["pod-template-hash"]},
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                 "labelSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]},
                 "matchLabelKeys": ["tier"]}
            ]
        }));
        let p = "spec.template.spec.topologySpreadConstraints";
        assert_eq!(
            got,
            vec![
                pair(&format!("{p}[0].maxSkew"), "maxSkew 0 of a topology spread constraint is below 1; it is the largest difference of pod counts allowed between domains"),
                pair(&format!("{p}[0].minDomains"), "minDomains 0 of a topology spread constraint is below 1; leave it unset for the default (1)"),
                pair(&format!("{p}[1].minDomains"), "minDomains is set with whenUnsatisfiable ScheduleAnyway; the API server accepts it only with DoNotSchedule"),
                pair(&format!("{p}[1].matchLabelKeys[1]"), "label `app` is both in matchLabelKeys and in the labelSelector's matchLabels; keep it in one of them (the API server refuses the workload before Kubernetes 1.33, and the pods it creates from 1.33)"),
                pair(&format!("{p}[2].whenUnsatisfiable"), "unsupported whenUnsatisfiable \"Never\": use DoNotSchedule or ScheduleAnyway"),
                pair(&format!("{p}[2].matchLabelKeys"), "matchLabelKeys is set without a labelSelector; the API server requires the selector it adds to"),
                pair(&format!("{p}[3].matchLabelKeys[0]"), "label `tier` is both in matchLabelKeys and in the labelSelector's matchExpressions; keep it in one of them (the API server refuses the workload before Kubernetes 1.33, and the pods it creates from 1.33)"),
            ]
        );
        let ok = pod_findings(json!({
            "containers": [{"name": "a", "image": "a:1"}],
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "minDomains": 3,
                 "labelSelector": {"matchLabels": {"app": "x"}}, "matchLabelKeys": ["pod-template-hash"]}
            ]
        }));
        assert!(ok.is_empty(), "{ok:#?}");
    }
}
