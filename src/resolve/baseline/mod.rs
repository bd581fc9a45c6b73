//! The baseline of a cluster: `[baseline]` < `[clusters.<name>.baseline]`, merged
//! object by object (by name) and, inside each object, leaf by leaf. Every value is
//! checked against what the API server, cert-manager, the External Secrets Operator,
//! the EBS CSI driver and Karpenter's v1 API accept, with the upstream CRD schemas in
//! `shared/schemas/crds/` as the reference. References to these objects are checked in
//! `resolve::references`.
//!
//! This module merges the layers and holds what the kinds share (names, templates,
//! IAM role ARNs, AWS regions, `provided`); each kind is checked in a module of its own.

mod issuers;
mod node_pools;
mod priority_classes;
mod roles;
mod secret_stores;
mod storage_classes;

use std::collections::BTreeMap;

use minijinja::Value;

use super::{Amend, Resolver};
use crate::input::BaselineLayer;
use crate::merge::{Layers, Located};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{BaselineSpec, PriorityClassSpec, Provided, StorageClassSpec};
use crate::{names, rules};

impl<'a> Resolver<'a> {
    /// The baseline of `cluster`: `[baseline]` with the cluster's `baseline` over it.
    pub(super) fn baseline(
        &mut self,
        cluster: &str,
        cluster_layer: Option<&'a Spanned<BaselineLayer>>,
        ctx: &Value,
    ) -> BaselineSpec {
        let mut layers: Layers<BaselineLayer> = Layers::new();
        if let Some(b) = &self.platform_file().baseline {
            layers.push(self.pf, &b.value);
        }
        if let Some(b) = cluster_layer {
            layers.push(self.pf, &b.value);
        }
        let mut spec = BaselineSpec {
            provided: self.provided(&layers),
            ..BaselineSpec::default()
        };
        for (name, (origin, l)) in
            enabled(layers.entries(|l| Some(&l.issuers)), |l| l.enabled.as_ref())
        {
            match self.issuer(name, origin, &l, ctx) {
                Some(i) => spec.issuers.push(i),
                None => {
                    spec.unresolved.insert(format!("issuers/{name}"));
                }
            }
        }
        for (name, (origin, l)) in enabled(layers.entries(|l| Some(&l.secret_stores)), |l| {
            l.enabled.as_ref()
        }) {
            match self.secret_store(name, origin, &l, ctx) {
                Some(s) => spec.secret_stores.push(s),
                None => {
                    spec.unresolved.insert(format!("secret_stores/{name}"));
                }
            }
        }
        for (name, (origin, l)) in enabled(layers.entries(|l| Some(&l.storage_classes)), |l| {
            l.enabled.as_ref()
        }) {
            match self.storage_class(name, origin, &l, ctx) {
                Some(s) => spec.storage_classes.push(s),
                None => {
                    spec.unresolved.insert(format!("storage_classes/{name}"));
                }
            }
        }
        for (name, (origin, l)) in enabled(layers.entries(|l| Some(&l.node_classes)), |l| {
            l.enabled.as_ref()
        }) {
            if let Some(c) = self.node_class(name, origin, &l, ctx) {
                spec.node_classes.push(c);
            }
        }
        for (name, (origin, l)) in enabled(layers.entries(|l| Some(&l.node_pools)), |l| {
            l.enabled.as_ref()
        }) {
            if let Some(p) = self.node_pool(name, origin, &l, &spec.node_classes) {
                spec.node_pools.push(p);
            }
        }
        for (name, (origin, l)) in enabled(layers.entries(|l| Some(&l.priority_classes)), |l| {
            l.enabled.as_ref()
        }) {
            match self.priority_class(name, origin, &l) {
                Some(p) => spec.priority_classes.push(p),
                None => {
                    spec.unresolved.insert(format!("priority_classes/{name}"));
                }
            }
        }
        spec.roles = self.roles(&layers);
        self.check_defaults(cluster, &spec);
        spec
    }

    /// At most one default StorageClass and one global-default PriorityClass.
    fn check_defaults(&mut self, cluster: &str, spec: &BaselineSpec) {
        let defaults: Vec<&StorageClassSpec> =
            spec.storage_classes.iter().filter(|s| s.default).collect();
        if let [first, rest @ ..] = defaults.as_slice() {
            for s in rest {
                self.error(
                    rules::DUPLICATE,
                    s.origin.clone(),
                    format!(
                        "StorageClasses `{}` and `{}` are both the default of cluster `{cluster}`",
                        first.name, s.name
                    ),
                )
                .help("a claim that names no class gets the default: keep `default = true` on one class");
            }
        }
        let globals: Vec<&PriorityClassSpec> = spec
            .priority_classes
            .iter()
            .filter(|p| p.global_default)
            .collect();
        if let [first, rest @ ..] = globals.as_slice() {
            for p in rest {
                self.error(
                    rules::DUPLICATE,
                    p.origin.clone(),
                    format!(
                        "PriorityClasses `{}` and `{}` are both the global default of cluster `{cluster}`",
                        first.name, p.name
                    ),
                )
                .help("the API server admits one global default: keep `global_default = true` on one class");
            }
        }
    }

    /// `provided = { ... }`: names of objects the cluster has without kgen.
    fn provided(&mut self, layers: &Layers<'a, BaselineLayer>) -> Provided {
        let mut p = Provided::default();
        type List = fn(&crate::input::ProvidedLayer) -> Option<&Spanned<Vec<Spanned<String>>>>;
        let lists: [(&'static str, List); 7] = [
            ("issuers", |l| l.issuers.as_ref()),
            ("secret_stores", |l| l.secret_stores.as_ref()),
            ("storage_classes", |l| l.storage_classes.as_ref()),
            ("priority_classes", |l| l.priority_classes.as_ref()),
            ("node_labels", |l| l.node_labels.as_ref()),
            ("node_taints", |l| l.node_taints.as_ref()),
            ("crd_groups", |l| l.crd_groups.as_ref()),
        ];
        for (key, get) in lists {
            let Some(list) = layers.pick(|l| get(&l.provided.as_ref()?.value)) else {
                continue;
            };
            p.declared.insert(key);
            for item in list.value {
                let origin = Origin::new(list.origin.file, item.span.clone());
                let check = match key {
                    "node_labels" => {
                        let (k, v) = item.value.split_once('=').unwrap_or((&item.value, ""));
                        names::check_label_key(k).and_then(|()| names::check_label_value(v))
                    }
                    "node_taints" => names::check_label_key(&item.value),
                    "crd_groups" => names::check_crd_group(&item.value),
                    _ => names::check_dns1123_subdomain(&item.value),
                };
                if let Err(e) = check {
                    self.error(rules::INVALID_NAME, origin, format!("provided.{key}: {e}"));
                    continue;
                }
                let set = match key {
                    "issuers" => &mut p.issuers,
                    "secret_stores" => &mut p.secret_stores,
                    "storage_classes" => &mut p.storage_classes,
                    "priority_classes" => &mut p.priority_classes,
                    "node_labels" => &mut p.node_labels,
                    "crd_groups" => &mut p.crd_groups,
                    _ => &mut p.node_taints,
                };
                set.insert(item.value.clone());
            }
        }
        p
    }

    /// An object's name, checked as a DNS-1123 subdomain (the name of every baseline kind).
    fn object_name(&mut self, kind: &str, name: &str, origin: &Origin) -> bool {
        match names::check_dns1123_subdomain(name) {
            Ok(()) => true,
            Err(e) => {
                self.error(
                    rules::INVALID_NAME,
                    origin.clone(),
                    format!("{kind} name `{name}`: {e}"),
                );
                false
            }
        }
    }

    /// A template value that must render.
    fn template_value(&mut self, v: &Located<&String>, ctx: &Value) -> Option<String> {
        self.scan_secret("", v.value, &v.origin);
        self.render_template(v.value, &v.origin, ctx)
    }

    /// An IAM role ARN, a template.
    fn role_arn(&mut self, v: Option<Located<&String>>, ctx: &Value) -> Option<String> {
        let v = v?;
        let arn = self.template_value(&v, ctx)?;
        if !super::is_iam_role_arn(&arn) {
            self.error(
                rules::INVALID_VALUE,
                v.origin.clone(),
                format!("`{arn}` is not an IAM role ARN"),
            )
            .help("write `arn:aws:iam::<account>:role/<name>`, e.g. `arn:aws:iam::{{ cluster.account }}:role/{{ cluster.name }}-cert-manager`");
        }
        Some(arn)
    }

    /// The AWS region of an object: its own, else `[platform] aws_region`.
    fn region(
        &mut self,
        v: Option<Located<&String>>,
        ctx: &Value,
        kind: &str,
        header: &Origin,
    ) -> Option<String> {
        if let Some(v) = v {
            let r = self.template_value(&v, ctx)?;
            if !is_aws_region(&r) {
                self.error(
                    rules::INVALID_VALUE,
                    v.origin.clone(),
                    format!("`{r}` is not an AWS region"),
                )
                .help("write a region like `eu-west-1` or `us-east-1`");
            }
            return Some(r);
        }
        let platform = self.platform_file().platform.value.aws_region.clone();
        match platform {
            Some(r) => Some(r.value),
            None => {
                self.error(
                    rules::MISSING_KEY,
                    header.clone(),
                    format!("{kind} has no AWS region"),
                )
                .help("set `region = \"eu-west-1\"` here, or `aws_region` in `[platform]` for every object");
                None
            }
        }
    }

    /// A reference to a baseline object that does not exist: error with did-you-mean.
    /// `providable`: whether `[baseline] provided` can list objects of this kind.
    pub(super) fn unknown_object<'n>(
        &mut self,
        kind: &str,
        name: &str,
        origin: &Origin,
        known: impl Iterator<Item = &'n str> + Clone,
        declare: &str,
        providable: bool,
    ) {
        let hint = crate::diagnostic::did_you_mean(name, known.clone());
        let known: Vec<&str> = known.collect();
        let d = self.error(
            rules::UNKNOWN_BASELINE_OBJECT,
            origin.clone(),
            format!("{kind} `{name}` is not declared in the cluster's baseline"),
        );
        d.label = hint;
        let or_provided = if providable {
            ", or list it in `[baseline] provided` if something else creates it"
        } else {
            ""
        };
        d.help = Some(if known.is_empty() {
            format!("declare it under `{declare}`{or_provided}")
        } else {
            format!(
                "declared: {}; or declare `{name}` under `{declare}`{or_provided}",
                known.join(", ")
            )
        });
    }
}

/// The entries not turned off by their highest `enabled`.
fn enabled<'a, V: 'a>(
    entries: BTreeMap<&'a str, (Origin, Layers<'a, V>)>,
    get: impl Fn(&'a V) -> Option<&'a Spanned<bool>>,
) -> Vec<(&'a str, (Origin, Layers<'a, V>))> {
    entries
        .into_iter()
        .filter(|(_, (_, l))| l.pick(&get).is_none_or(|e| *e.value))
        .collect()
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-4`.
pub fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        assert!(is_aws_region("eu-west-1"));
        assert!(is_aws_region("us-gov-west-1"));
        assert!(!is_aws_region("europe"));
        assert!(!is_aws_region("eu-west-1a"));
    }
}
