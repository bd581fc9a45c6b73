//! Karpenter's EC2NodeClasses and the NodePools that use them: IAM role, subnet and
//! security-group selectors, AMI alias; requirements, limits, disruption, taints and
//! labels, checked against Karpenter's v1 CRDs.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::input::{NodeClassLayer, NodePoolLayer};
use crate::merge::{Layers, Located};
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{NodeClassSpec, NodePoolSpec, Taint};
use crate::{names, quantity, rules};
/// Karpenter v1's consolidation policies (`NodePool.spec.disruption.consolidationPolicy`).
const CONSOLIDATION_POLICIES: &[&str] = &["WhenEmptyOrUnderutilized", "WhenEmpty", "Balanced"];
/// The AMI families an EC2NodeClass alias may name (its CRD's `amiSelectorTerms.alias`
/// rule), but the Windows ones (`windows2019`, `windows2022`, `windows2025`), which
/// kgen's NodePools cannot use.
const AMI_FAMILIES: &[&str] = &["al2", "al2023", "bottlerocket"];

/// Karpenter's duration pattern (`consolidateAfter`, `expireAfter`): `30s`, `1h30m`, `Never`.
fn is_karpenter_duration(s: &str) -> bool {
    if s == "Never" {
        return true;
    }
    let mut digits = false;
    let mut units = 0;
    for c in s.chars() {
        match c {
            '0'..='9' => digits = true,
            's' | 'm' | 'h' if digits => {
                digits = false;
                units += 1;
            }
            _ => return false,
        }
    }
    !digits && units > 0
}

/// A value of a NodePool requirement or taint (Karpenter's CRD pattern).
fn is_label_like_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
}

impl<'a> Resolver<'a> {
    pub(super) fn node_class(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, NodeClassLayer>,
        ctx: &Value,
    ) -> Option<NodeClassSpec> {
        self.object_name("EC2NodeClass", name, &header);
        let role = match l.pick(|l| l.role.as_ref()) {
            Some(r) => {
                let role = self.template_value(&r, ctx)?;
                if role.starts_with("arn:") {
                    self.error(
                        rules::INVALID_VALUE,
                        r.origin.clone(),
                        format!("`{role}` is an ARN; an EC2NodeClass names its nodes' IAM role by name"),
                    )
                    .help("write the role's name, the part after `role/`, like `KarpenterNodeRole-{{ cluster.name }}`");
                } else if role.is_empty()
                    || role.len() > 64
                    || !role
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
                {
                    self.error(
                        rules::INVALID_VALUE,
                        r.origin.clone(),
                        format!("`{role}` is not an IAM role name"),
                    )
                    .help("IAM role names have up to 64 letters, digits and `+=,.@_-`");
                }
                role
            }
            None => {
                self.error(
                    rules::MISSING_KEY,
                    header.clone(),
                    format!("EC2NodeClass `{name}` has no `role`"),
                )
                .help("add `role = \"KarpenterNodeRole-{{ cluster.name }}\"`: the IAM role of the nodes (kgen lists it in the Terraform hand-off)");
                return None;
            }
        };
        let subnet_tags = self.selector_tags(
            name,
            "subnet_tags",
            &header,
            l.map(|l| Some(&l.subnet_tags)),
            ctx,
        );
        let security_group_tags = self.selector_tags(
            name,
            "security_group_tags",
            &header,
            l.map(|l| Some(&l.security_group_tags)),
            ctx,
        );
        let ami_alias = match l.pick(|l| l.ami_alias.as_ref()) {
            Some(a) => {
                let ok = a.value.split_once('@').is_some_and(|(family, version)| {
                    AMI_FAMILIES.contains(&family) && !version.is_empty()
                });
                if a.value.starts_with("windows") {
                    // Karpenter labels a Windows AMI's instances `kubernetes.io/os:
                    // windows` (karpenter-provider-aws pkg/providers/amifamily/windows.go,
                    // v1.14.1), and every NodePool kgen writes requires `linux`.
                    self.error(
                        rules::INVALID_VALUE,
                        a.origin.clone(),
                        format!("node class `{name}` uses the Windows AMI `{}`, but the NodePools kgen writes require `kubernetes.io/os: linux`: no pool of this class could launch a node", a.value),
                    )
                    .help("use a Linux family (`al2023`, `al2`, `bottlerocket`); a Windows EC2NodeClass and NodePool go under manifests/clusters/<cluster>/ (docs/escape-hatch.md)");
                } else if !ok {
                    self.error(
                        rules::INVALID_VALUE,
                        a.origin.clone(),
                        format!("`{}` is not an AMI alias", a.value),
                    )
                    .help(format!("write `family@version`, like `al2023@v20240807` or `bottlerocket@latest`; families: {}", AMI_FAMILIES.join(", ")));
                } else if a.value.len() > 30 {
                    // The EC2NodeClass CRD: `spec.amiSelectorTerms[].alias` has
                    // `maxLength: 30`.
                    self.error(
                        rules::INVALID_VALUE,
                        a.origin.clone(),
                        format!("AMI alias `{}` is {} characters long; Karpenter's EC2NodeClass accepts at most 30", a.value, a.value.len()),
                    )
                    .help("pin a version with a shorter name, like `al2023@v20250101`, or `@latest`");
                }
                a.value.clone()
            }
            None => "al2023@latest".to_string(),
        };
        Some(NodeClassSpec {
            name: name.to_string(),
            role,
            subnet_tags,
            security_group_tags,
            ami_alias,
            origin: header,
        })
    }

    fn selector_tags(
        &mut self,
        name: &str,
        key: &str,
        header: &Origin,
        map: BTreeMap<&'a str, crate::merge::MapEntry<'a, String>>,
        ctx: &Value,
    ) -> BTreeMap<String, String> {
        if map.is_empty() {
            self.error(
                rules::MISSING_KEY,
                header.clone(),
                format!("EC2NodeClass `{name}` has no `{key}`"),
            )
            .help(format!("add `{key} = {{ \"karpenter.sh/discovery\" = \"{{{{ cluster.name }}}}\" }}`: the tags that select them"));
        }
        let mut out = BTreeMap::new();
        for (k, e) in map {
            if let Some(v) = self.template_value(&e.value, ctx) {
                if k.is_empty() || v.is_empty() {
                    self.error(
                        rules::INVALID_VALUE,
                        e.key.clone(),
                        format!("{key}: tag keys and values cannot be empty"),
                    )
                    .help("Karpenter refuses an empty tag key or value in a selector term");
                }
                out.insert(k.to_string(), v);
            }
        }
        out
    }

    pub(super) fn node_pool(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, NodePoolLayer>,
        classes: &[NodeClassSpec],
    ) -> Option<NodePoolSpec> {
        self.object_name("NodePool", name, &header);
        let node_class = match l.pick(|l| l.node_class.as_ref()) {
            Some(c) => {
                if !classes.iter().any(|k| &k.name == c.value) {
                    self.unknown_object(
                        "EC2NodeClass",
                        c.value,
                        &c.origin,
                        classes.iter().map(|k| k.name.as_str()),
                        &format!("[baseline.node_classes.{}]", c.value),
                        false,
                    );
                }
                c.value.clone()
            }
            None => {
                if !classes.iter().any(|k| k.name == "default") {
                    self.error(
                        rules::UNKNOWN_REFERENCE,
                        header.clone(),
                        format!("NodePool `{name}` uses EC2NodeClass `default`, which the baseline does not declare"),
                    )
                    .help("declare `[baseline.node_classes.default]`, or set `node_class` to a declared one");
                }
                "default".to_string()
            }
        };
        let mut requirements = Vec::new();
        type List = fn(&NodePoolLayer) -> Option<&Spanned<Vec<Spanned<String>>>>;
        /// Key, requirement key, the list, its allowed values, its default.
        type Requirement = (
            &'static str,
            &'static str,
            List,
            Option<&'static [&'static str]>,
            &'static [&'static str],
        );
        let lists: [Requirement; 5] = [
            (
                "instance_families",
                "karpenter.k8s.aws/instance-family",
                |l| l.instance_families.as_ref(),
                None,
                &[],
            ),
            (
                "instance_categories",
                "karpenter.k8s.aws/instance-category",
                |l| l.instance_categories.as_ref(),
                None,
                &[],
            ),
            (
                "capacity_types",
                "karpenter.sh/capacity-type",
                |l| l.capacity_types.as_ref(),
                Some(&["spot", "on-demand", "reserved"]),
                &["on-demand"],
            ),
            (
                "architectures",
                "kubernetes.io/arch",
                |l| l.architectures.as_ref(),
                Some(&["amd64", "arm64"]),
                &["amd64"],
            ),
            (
                "zones",
                "topology.kubernetes.io/zone",
                |l| l.zones.as_ref(),
                None,
                &[],
            ),
        ];
        for (key, label, get, allowed, default) in lists {
            let values: Vec<String> = match l.pick(get) {
                Some(list) => {
                    if list.value.is_empty() {
                        self.error(
                            rules::INVALID_VALUE,
                            list.origin.clone(),
                            format!("`{key}` is empty"),
                        )
                        .help(format!("list at least one, or leave `{key}` out"));
                    }
                    let mut out = Vec::new();
                    for v in list.value {
                        let origin = Origin::new(list.origin.file, v.span.clone());
                        if let Some(allowed) = allowed {
                            if !allowed.contains(&v.value.as_str()) {
                                let hint = crate::diagnostic::did_you_mean(
                                    &v.value,
                                    allowed.iter().copied(),
                                );
                                let d = self.error(
                                    rules::INVALID_VALUE,
                                    origin,
                                    format!("`{}` is not one of Karpenter's {key}", v.value),
                                );
                                d.label = hint;
                                d.help = Some(format!("use: {}", allowed.join(", ")));
                                continue;
                            }
                        } else if !is_label_like_value(&v.value) || v.value.is_empty() {
                            self.error(
                                rules::INVALID_VALUE,
                                origin,
                                format!("`{}` is not a label value", v.value),
                            )
                            .help(format!(
                                "{key} are node label values, like `m5` or `eu-west-1a`"
                            ));
                            continue;
                        }
                        out.push(v.value.clone());
                    }
                    out
                }
                None => default.iter().map(|s| (*s).to_string()).collect(),
            };
            if !values.is_empty() {
                requirements.push((label.to_string(), values));
            }
        }
        requirements.push(("kubernetes.io/os".into(), vec!["linux".into()]));
        let mut limits = BTreeMap::new();
        for (key, resource, v) in [
            ("cpu_limit", "cpu", l.pick(|l| l.cpu_limit.as_ref())),
            (
                "memory_limit",
                "memory",
                l.pick(|l| l.memory_limit.as_ref()),
            ),
        ] {
            let Some(v) = v else { continue };
            let v = Located {
                value: &v.value.0,
                origin: v.origin,
                base: v.base,
            };
            if let Err(e) = quantity::parse_non_negative(v.value) {
                self.error(
                    rules::INVALID_QUANTITY,
                    v.origin.clone(),
                    format!("{key}: {e}"),
                )
                .help(if resource == "cpu" {
                    "write vCPUs, like `20` or `1500m`"
                } else {
                    "write a size, like `80Gi`"
                });
                continue;
            }
            limits.insert(resource.to_string(), v.value.clone());
        }
        let consolidation = match l.pick(|l| l.consolidation.as_ref()) {
            Some(c) if CONSOLIDATION_POLICIES.contains(&c.value.as_str()) => c.value.clone(),
            Some(c) if c.value == "WhenUnderutilized" => {
                self.error(
                    rules::INVALID_VALUE,
                    c.origin.clone(),
                    "`WhenUnderutilized` is Karpenter v1beta1's name; v1 calls it `WhenEmptyOrUnderutilized`".into(),
                )
                .help("write `consolidation = \"WhenEmptyOrUnderutilized\"` (the same policy: remove or replace nodes that are empty or underused)");
                return None;
            }
            Some(c) => {
                let hint = crate::diagnostic::did_you_mean(
                    c.value,
                    CONSOLIDATION_POLICIES.iter().copied(),
                );
                let d = self.error(
                    rules::INVALID_VALUE,
                    c.origin.clone(),
                    format!("`{}` is not a Karpenter consolidation policy", c.value),
                );
                d.label = hint;
                d.help = Some(format!("use one of: {}", CONSOLIDATION_POLICIES.join(", ")));
                return None;
            }
            None => "WhenEmptyOrUnderutilized".to_string(),
        };
        let mut duration = |v: Option<Located<&String>>, key: &str, default: &str| match v {
            Some(v) if is_karpenter_duration(v.value) => v.value.clone(),
            Some(v) => {
                self.error(
                    rules::INVALID_VALUE,
                    v.origin.clone(),
                    format!("`{}` is not a Karpenter duration", v.value),
                )
                .help(format!("write `{key}` in seconds, minutes and hours, like `30s`, `720h` or `1h30m`, or `Never`"));
                default.to_string()
            }
            None => default.to_string(),
        };
        let consolidate_after = duration(
            l.pick(|l| l.consolidate_after.as_ref()),
            "consolidate_after",
            "0s",
        );
        let expire_after = duration(l.pick(|l| l.expire_after.as_ref()), "expire_after", "720h");
        let mut taints = Vec::new();
        if let Some(list) = l.pick(|l| l.taints.as_ref()) {
            for t in list.value {
                let origin = Origin::new(list.origin.file, t.key.span.clone());
                if let Err(e) = names::check_label_key(&t.key.value) {
                    self.error(
                        rules::INVALID_KEY,
                        origin.clone(),
                        format!("taint key: {e}"),
                    );
                }
                if let Some(v) = &t.value {
                    if !is_label_like_value(&v.value) {
                        self.error(
                            rules::INVALID_VALUE,
                            Origin::new(list.origin.file, v.span.clone()),
                            format!("`{}` is not a taint value", v.value),
                        )
                        .help("a taint value is a label value: letters, digits, `-`, `_`, `.`, up to 63 characters");
                    }
                }
                taints.push(Taint {
                    key: t.key.value.clone(),
                    value: t.value.as_ref().map(|v| v.value.clone()),
                    effect: t.effect.value,
                });
            }
        }
        let mut labels = BTreeMap::new();
        for (k, e) in l.map(|l| Some(&l.labels)) {
            let problem = if k == "karpenter.sh/nodepool" || k == "kubernetes.io/hostname" {
                Some(format!("Karpenter sets `{k}` itself"))
            } else if let Some(domain) = k.split_once('/').map(|(d, _)| d).filter(|d| {
                k != "karpenter.sh/capacity-type"
                    && (d.ends_with("karpenter.sh") || d.ends_with("karpenter.k8s.aws"))
            }) {
                // The NodePool CRDs refuse them (karpenter.sh: `nodepool_v1.json`'s
                // label rules; karpenter.k8s.aws: the AWS provider's restricted domain).
                let owner = if domain.ends_with("karpenter.sh") {
                    "karpenter.sh"
                } else {
                    "karpenter.k8s.aws"
                };
                Some(format!(
                    "label domain `{owner}` is Karpenter's (`{k}`); it sets those labels itself"
                ))
            } else {
                names::check_label_key(k)
                    .and_then(|()| names::check_label_value(e.value.value))
                    .err()
            };
            if let Some(p) = problem {
                self.error(
                    rules::INVALID_KEY,
                    e.key.clone(),
                    format!("node label: {p}"),
                )
                .help(
                    "label the pool's nodes with your own keys, like `workload-type = \"batch\"`",
                );
                continue;
            }
            labels.insert(k.to_string(), e.value.value.clone());
        }
        let weight = l.pick(|l| l.weight.as_ref()).and_then(|w| {
            self.int_in_range(*w.value, 1, 100, &w.origin, "weight")
                .map(|w| w as i32)
        });
        Some(NodePoolSpec {
            name: name.to_string(),
            node_class,
            requirements,
            limits,
            consolidation,
            consolidate_after,
            expire_after,
            taints,
            labels,
            weight,
            origin: header,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn karpenter_durations() {
        for ok in ["0s", "30s", "720h", "1h30m", "Never"] {
            assert!(is_karpenter_duration(ok), "{ok}");
        }
        for bad in ["", "1d", "h", "30", "1.5h", "never", "30 s"] {
            assert!(!is_karpenter_duration(bad), "{bad}");
        }
    }
}
