//! Karpenter's NodePools and EC2NodeClasses: which changes make its drift replace
//! nodes (every node of a pool or class, or those a narrower requirement excludes),
//! and what removing a pool or a class still in use does.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{changes, Finding, HeadNodePools};
use crate::diff::{and_list, differing_keys, scalar, verb, RiskKind};
use crate::manifest_set::{Identity, Resource};

/// How Karpenter replaces a drifted node: its disruption controller (the disruption
/// docs of aws/karpenter-provider-aws, `website/content/en/docs/concepts/disruption.md`,
/// "Control Flow" and "Drift") taints it, launches the replacement first, then drains it
/// through the Eviction API, within the NodePool's disruption budgets.
const DRIFT_HOW: &str = "each one is tainted, its replacement launched first, then it is drained (its pods evicted within their PodDisruptionBudgets), a few at a time (the pool's spec.disruption.budgets, 10% of its nodes by default)";

/// Karpenter's drift (kubernetes-sigs/karpenter `pkg/controllers/nodeclaim/disruption/drift.go`):
/// a NodeClaim is drifted when its NodePool's hash no longer matches the one it was
/// launched with (`areStaticFieldsDrifted`; `NodePool.Hash` in `pkg/apis/v1/nodepool.go`
/// hashes `spec.template` but its `requirements`, tagged `hash:"ignore"`), or when its
/// labels no longer satisfy the pool's requirements (`areRequirementsDrifted`). So a
/// changed template label, annotation, taint, startup taint, node class reference,
/// `expireAfter` or `terminationGracePeriod` replaces every node of the pool; narrower
/// requirements replace the nodes outside them; wider ones, `weight`, `limits` and
/// `disruption` (the "behavioral fields" of the disruption docs) replace none.
pub(super) fn node_pool_changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (bt, ht) = (&b.value["spec"]["template"], &h.value["spec"]["template"]);
    let mut fields = differing_keys(
        &bt["metadata"],
        &ht["metadata"],
        "spec.template.metadata.",
        |k| matches!(k, "labels" | "annotations"),
    );
    // The API server defaults expireAfter to 720h (the CRD's default); lists are
    // hashed as sets (`SlicesAsSets`).
    let normal = |s: &Value| {
        let mut s = s.clone();
        if let Some(m) = s.as_object_mut() {
            m.remove("requirements");
            m.remove("resources");
            m.entry("expireAfter").or_insert_with(|| "720h".into());
            for key in ["taints", "startupTaints"] {
                if let Some(Value::Array(items)) = m.get_mut(key) {
                    items.sort_by_key(|i| i.to_string());
                }
            }
            m.retain(|_, v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
        }
        s
    };
    fields.extend(differing_keys(
        &normal(&bt["spec"]),
        &normal(&ht["spec"]),
        "spec.template.spec.",
        |_| true,
    ));
    if !fields.is_empty() {
        out.push((
            RiskKind::NodeDrift,
            format!(
                "{}; Karpenter's drift replaces every node of this pool (the pool's template hash changes): {DRIFT_HOW}",
                changes(&fields)
            ),
        ));
        return;
    }
    let narrowed = narrowed_requirements(&bt["spec"]["requirements"], &ht["spec"]["requirements"]);
    if !narrowed.is_empty() {
        out.push((
            RiskKind::NodeDrift,
            format!(
                "spec.template.spec.requirements narrow ({}); Karpenter's drift replaces the nodes of this pool that no longer satisfy them: {DRIFT_HOW}",
                and_list(&narrowed)
            ),
        ));
    }
}

/// A requirement: its operator and values.
type Requirement = (String, BTreeSet<String>);

fn requirements(v: &Value) -> BTreeMap<String, Requirement> {
    v.as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| {
                    let values = r["values"]
                        .as_array()
                        .map(|vs| vs.iter().map(scalar).collect())
                        .unwrap_or_default();
                    Some((
                        r["key"].as_str()?.to_string(),
                        (scalar(&r["operator"]), values),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How the head's requirements exclude nodes the base's admitted, one phrase per key:
/// "`karpenter.sh/capacity-type` no longer admits spot".
fn narrowed_requirements(base: &Value, head: &Value) -> Vec<String> {
    let (b, h) = (requirements(base), requirements(head));
    let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    let show = |(op, values): &Requirement| {
        if values.is_empty() {
            op.clone()
        } else {
            format!("{op} [{}]", list(values))
        }
    };
    let mut out = Vec::new();
    for (key, new) in &h {
        match b.get(key) {
            None => out.push(format!("adds `{key}` {}", show(new))),
            Some(old) if old == new => {}
            Some((op_old, old)) if op_old == "In" && new.0 == "In" => {
                let dropped: BTreeSet<String> = old.difference(&new.1).cloned().collect();
                if !dropped.is_empty() {
                    out.push(format!("`{key}` no longer admits {}", list(&dropped)));
                }
            }
            Some((op_old, old)) if op_old == "NotIn" && new.0 == "NotIn" => {
                let added: BTreeSet<String> = new.1.difference(old).cloned().collect();
                if !added.is_empty() {
                    out.push(format!("`{key}` now excludes {}", list(&added)));
                }
            }
            Some(old) => out.push(format!("`{key}` {} → {}", show(old), show(new))),
        }
    }
    out
}

/// An EC2NodeClass's drift (aws/karpenter-provider-aws `pkg/cloudprovider/drift.go`):
/// its hash covers every field of `EC2NodeClassSpec` (`pkg/apis/v1/ec2nodeclass.go`) but
/// the selector terms, `amiFamily` and `ipPrefixCount` (`hash:"ignore"`), so a change to
/// any other field replaces every node launched from it; the subnet, security group,
/// AMI and capacity reservation terms are resolved, and a node is drifted when what it
/// runs with is no longer among what they select.
pub(super) fn node_class_changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    const RESOLVED: [&str; 4] = [
        "subnetSelectorTerms",
        "securityGroupSelectorTerms",
        "amiSelectorTerms",
        "capacityReservationSelectorTerms",
    ];
    let hashed = differing_keys(&b.value["spec"], &h.value["spec"], "spec.", |k| {
        !RESOLVED.contains(&k) && k != "amiFamily" && k != "ipPrefixCount"
    });
    let resolved = differing_keys(&b.value["spec"], &h.value["spec"], "spec.", |k| {
        RESOLVED.contains(&k)
    });
    let (fields, which) = if !hashed.is_empty() {
        let mut all = hashed;
        all.extend(resolved);
        all.sort();
        (
            all,
            "every node launched from this EC2NodeClass (its hash changes)",
        )
    } else if !resolved.is_empty() {
        (
            resolved,
            "the nodes launched from this EC2NodeClass whose AMI, subnet, security groups or capacity reservation the new terms no longer select",
        )
    } else {
        return;
    };
    out.push((
        RiskKind::NodeDrift,
        format!(
            "{}; Karpenter's drift replaces {which}: {DRIFT_HOW}",
            changes(&fields)
        ),
    ));
}

/// A removed NodePool. NodeClaims are owned by their NodePool: deleting it deletes them,
/// and each node is drained and terminated (disruption docs, "Manual Methods": "NodePool
/// Deletion"), all at once: no disruption budget applies to a deletion.
pub(super) fn node_pool_removed() -> Finding {
    (
        RiskKind::NodePoolRemoved,
        "removed; Karpenter terminates every node of this pool: the NodePool owns their NodeClaims, so deleting it deletes them, and each node is drained (its pods evicted within their PodDisruptionBudgets) and its instance terminated, all at once, without replacements launched first; pods that no other pool admits stay Pending".into(),
    )
}

/// A removed EC2NodeClass. The class's termination finalizer waits until no NodeClaim
/// uses it (`finalize`, aws/karpenter-provider-aws `pkg/controllers/nodeclass/controller.go`:
/// `WaitingOnNodeClaimTermination`), then deletes its instance profile and launch
/// templates; a NodePool naming a class that is gone or deleting launches nothing.
pub(super) fn node_class_removed(id: &Identity, head_pools: &HeadNodePools) -> Finding {
    let users: Vec<String> = id
        .group
        .cluster()
        .and_then(|c| head_pools.get(c))
        .into_iter()
        .flatten()
        .filter(|(_, class)| **class == id.name)
        .map(|(pool, _)| format!("`{pool}`"))
        .collect();
    if users.is_empty() {
        (
            RiskKind::Removed,
            "removed; Karpenter deletes it, with its instance profile and launch templates, once no node launched from it is left (its finalizer waits for them)".into(),
        )
    } else {
        (
            RiskKind::NodeClassInUse,
            format!(
                "removed while NodePool {} still {} it: Karpenter launches no node for {}, and the class stays (Terminating) until the nodes launched from it are gone",
                and_list(&users),
                verb(users.len(), "names", "name"),
                verb(users.len(), "that pool", "those pools"),
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requirements_narrow_per_key() {
        let reqs = |families: &[&str], extra: Option<Value>| {
            let mut r = vec![
                json!({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": families}),
                json!({"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}),
            ];
            r.extend(extra);
            Value::Array(r)
        };
        assert_eq!(
            narrowed_requirements(&reqs(&["t3", "t2"], None), &reqs(&["t3", "t3a"], None)),
            ["`karpenter.k8s.aws/instance-family` no longer admits t2"]
        );
        // Wider: nothing.
        assert!(narrowed_requirements(&reqs(&["t3"], None), &reqs(&["t3", "m5"], None)).is_empty());
        assert_eq!(
            narrowed_requirements(
                &reqs(&["t3"], None),
                &reqs(
                    &["t3"],
                    Some(
                        json!({"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]})
                    )
                )
            ),
            ["adds `karpenter.sh/capacity-type` In [spot]"]
        );
    }
}
