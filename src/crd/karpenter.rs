//! Karpenter's [`NodePool`] (`karpenter.sh/v1`) and the AWS provider's
//! [`Ec2NodeClass`] (`karpenter.k8s.aws/v1`), restricted to the fields kgen emits.
//!
//! Mirrors the CRDs of kubernetes-sigs/karpenter (`nodepools.karpenter.sh`) and
//! aws/karpenter-provider-aws (`ec2nodeclasses.karpenter.k8s.aws`), kept verbatim in
//! `shared/schemas/crds/karpenter.sh/nodepool_v1.json` and
//! `shared/schemas/crds/karpenter.k8s.aws/ec2nodeclass_v1.json`.

use std::collections::BTreeMap;

use super::custom_resource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// A pool of nodes Karpenter launches for pending pods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePool {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: NodePoolSpec,
}
custom_resource!(NodePool, NodePoolSpec, "karpenter.sh/v1", "NodePool");

/// `NodePool.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePoolSpec {
    pub template: NodeClaimTemplate,
    pub disruption: Disruption,
    /// Total resources the pool may launch (`cpu`, `memory`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub limits: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weight: Option<i32>,
}

/// `spec.template`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClaimTemplate {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub metadata: Option<TemplateMeta>,
    pub spec: NodeClaimSpec,
}

/// `spec.template.metadata`: labels of the nodes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateMeta {
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
}

/// `spec.template.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClaimSpec {
    pub node_class_ref: NodeClassRef,
    pub requirements: Vec<Requirement>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub taints: Vec<Taint>,
    /// How long a node lives before it is replaced (`720h`, `Never`).
    pub expire_after: String,
}

/// `nodeClassRef`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClassRef {
    pub group: String,
    pub kind: String,
    pub name: String,
}

/// A node selector requirement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// A node taint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value: Option<String>,
    pub effect: String,
}

/// `spec.disruption`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Disruption {
    pub consolidation_policy: String,
    pub consolidate_after: String,
}

/// How the AWS provider launches a pool's nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ec2NodeClass {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: Ec2NodeClassSpec,
}
custom_resource!(
    Ec2NodeClass,
    Ec2NodeClassSpec,
    "karpenter.k8s.aws/v1",
    "EC2NodeClass"
);

/// `EC2NodeClass.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ec2NodeClassSpec {
    /// The IAM role (name) of the nodes' instance profile.
    pub role: String,
    pub subnet_selector_terms: Vec<SelectorTerm>,
    pub security_group_selector_terms: Vec<SelectorTerm>,
    pub ami_selector_terms: Vec<AmiSelectorTerm>,
}

/// A subnet or security group selector: resources with all these tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelectorTerm {
    pub tags: BTreeMap<String, String>,
}

/// An AMI selector by alias (`al2023@v20240807`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmiSelectorTerm {
    pub alias: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::test_support::assert_conforms;

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn node_pool_and_class_conform() {
        let pool = NodePool::new(
            meta("general"),
            NodePoolSpec {
                template: NodeClaimTemplate {
                    metadata: Some(TemplateMeta {
                        labels: BTreeMap::from([("workload".into(), "general".into())]),
                    }),
                    spec: NodeClaimSpec {
                        node_class_ref: NodeClassRef {
                            group: "karpenter.k8s.aws".into(),
                            kind: "EC2NodeClass".into(),
                            name: "default".into(),
                        },
                        requirements: vec![Requirement {
                            key: "karpenter.sh/capacity-type".into(),
                            operator: "In".into(),
                            values: vec!["spot".into()],
                        }],
                        taints: vec![Taint {
                            key: "dedicated".into(),
                            value: Some("batch".into()),
                            effect: "NoSchedule".into(),
                        }],
                        expire_after: "720h".into(),
                    },
                },
                disruption: Disruption {
                    consolidation_policy: "WhenEmptyOrUnderutilized".into(),
                    consolidate_after: "0s".into(),
                },
                limits: BTreeMap::from([("cpu".into(), "20".into())]),
                weight: Some(10),
            },
        );
        assert_conforms(&pool);
        let class = Ec2NodeClass::new(
            meta("default"),
            Ec2NodeClassSpec {
                role: "KarpenterNodeRole-prod".into(),
                subnet_selector_terms: vec![SelectorTerm {
                    tags: BTreeMap::from([("karpenter.sh/discovery".into(), "prod".into())]),
                }],
                security_group_selector_terms: vec![SelectorTerm {
                    tags: BTreeMap::from([("karpenter.sh/discovery".into(), "prod".into())]),
                }],
                ami_selector_terms: vec![AmiSelectorTerm {
                    alias: "al2023@v20240807".into(),
                }],
            },
        );
        assert_conforms(&class);
    }
}
