//! NetworkPolicies: a namespace whose pods start being denied egress.

use super::Finding;
use crate::diff::RiskKind;
use crate::manifest_set::Resource;

/// A policy that selects every pod of its namespace (`podSelector: {}`, as kgen's
/// `<namespace>-default-deny`) and gains `Egress` in `policyTypes`: from then on the
/// pods may open only the connections some policy's egress rules allow (NetworkPolicy
/// semantics: a pod selected by a policy of type Egress is isolated for egress). With
/// kgen's `egress = "restricted"` that is DNS, the services a service `calls`, HTTPS and
/// the Pod Identity agent: a database on 5432 or any other endpoint stops answering.
/// Only the namespace-wide policy is reported, once per namespace, not each service's.
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let egress = |r: &Resource| {
        r.value["spec"]["policyTypes"]
            .as_array()
            .is_some_and(|t| t.iter().any(|v| v == "Egress"))
    };
    let whole_namespace = h.value["spec"]["podSelector"].as_object().is_none_or(|m| {
        m.values()
            .all(|v| v.as_object().is_none_or(|o| o.is_empty()))
    });
    if egress(b) || !egress(h) || !whole_namespace {
        return;
    }
    out.push((
        RiskKind::EgressRestricted,
        "policyTypes gains Egress for every pod of the namespace: from then on its pods open only the connections an egress rule allows (with kgen's `egress = \"restricted\"`: DNS, the services they `calls`, HTTPS on 443 and the Pod Identity agent); a database port or any other endpoint they use stops answering".to_string(),
    ));
}
