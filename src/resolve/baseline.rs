//! The baseline of a cluster: `[baseline]` < `[clusters.<name>.baseline]`, merged
//! object by object (by name) and, inside each object, leaf by leaf. Every value is
//! checked against what the API server, cert-manager, the External Secrets Operator,
//! the EBS CSI driver and Karpenter's v1 API accept, with the upstream CRD schemas in
//! `shared/schemas/crds/` as the reference. References to these objects are checked in
//! `resolve::references`.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Value;

use super::{Amend, Resolver};
use crate::input::{
    AcmeLayer, BaselineLayer, IssuerLayer, NodeClassLayer, NodePoolLayer, PriorityClassLayer,
    RoleLayer, SecretStoreLayer, SpannedMap, StorageClassLayer,
};
use crate::merge::{Layers, Located};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{
    AcmeSolver, BaselineSpec, BindingMode, IssuerKind, IssuerSpec, NodeClassSpec, NodePoolSpec,
    PlatformRole, PriorityClassSpec, Provided, ReclaimPolicy, RoleSpec, SecretStoreSpec,
    StorageClassSpec, Taint, LETSENCRYPT_PRODUCTION, LETSENCRYPT_STAGING,
};
use crate::{names, quantity, rules};

/// EBS volume types the EBS CSI driver provisions.
const EBS_TYPES: &[&str] = &["gp3", "gp2", "io1", "io2", "st1", "sc1"];
/// Karpenter v1's consolidation policies (`NodePool.spec.disruption.consolidationPolicy`).
const CONSOLIDATION_POLICIES: &[&str] = &["WhenEmptyOrUnderutilized", "WhenEmpty", "Balanced"];
/// The AMI families an EC2NodeClass alias may name (its CRD's `amiSelectorTerms.alias` rule).
const AMI_FAMILIES: &[&str] = &[
    "al2",
    "al2023",
    "bottlerocket",
    "windows2019",
    "windows2022",
    "windows2025",
];
/// The largest priority a user-defined PriorityClass may have (the API server's `HighestUserDefinablePriority`).
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

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

/// A `*` pattern as the anchored regular expression ESO's `namespaceRegexes` wants.
fn glob_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c if c.is_ascii_alphanumeric() || c == '-' => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out.push('$');
    out
}

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
            if let Some(i) = self.issuer(name, origin, &l, ctx) {
                spec.issuers.push(i);
            }
        }
        for (name, (origin, l)) in enabled(layers.entries(|l| Some(&l.secret_stores)), |l| {
            l.enabled.as_ref()
        }) {
            if let Some(s) = self.secret_store(name, origin, &l, ctx) {
                spec.secret_stores.push(s);
            }
        }
        for (name, (origin, l)) in enabled(layers.entries(|l| Some(&l.storage_classes)), |l| {
            l.enabled.as_ref()
        }) {
            if let Some(s) = self.storage_class(name, origin, &l, ctx) {
                spec.storage_classes.push(s);
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
            if let Some(p) = self.priority_class(name, origin, &l) {
                spec.priority_classes.push(p);
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
        let lists: [(&'static str, List); 6] = [
            ("issuers", |l| l.issuers.as_ref()),
            ("secret_stores", |l| l.secret_stores.as_ref()),
            ("storage_classes", |l| l.storage_classes.as_ref()),
            ("priority_classes", |l| l.priority_classes.as_ref()),
            ("node_labels", |l| l.node_labels.as_ref()),
            ("node_taints", |l| l.node_taints.as_ref()),
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

    fn issuer(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, IssuerLayer>,
        ctx: &Value,
    ) -> Option<IssuerSpec> {
        self.object_name("ClusterIssuer", name, &header);
        let acme = l.any(|l| l.acme.as_ref());
        let self_signed = l.pick(|l| l.self_signed.as_ref());
        let kind = match (acme, self_signed) {
            (true, Some(s)) if *s.value => {
                self.error(
                    rules::INVALID_VALUE,
                    s.origin.clone(),
                    format!("ClusterIssuer `{name}` sets both `acme` and `self_signed`"),
                )
                .help("an issuer is one kind: keep `acme = { ... }` or `self_signed = true`");
                return None;
            }
            (true, _) => self.acme(name, &header, l, ctx)?,
            (false, Some(s)) if *s.value => IssuerKind::SelfSigned,
            (false, _) => {
                self.error(
                    rules::MISSING_KEY,
                    header.clone(),
                    format!("ClusterIssuer `{name}` sets neither `acme` nor `self_signed`"),
                )
                .help("add `acme = { email = \"ops@example.com\", http01 = { ingress_class = \"nginx\" } }` (Let's Encrypt), or `self_signed = true`");
                return None;
            }
        };
        Some(IssuerSpec {
            name: name.to_string(),
            kind,
            origin: header,
        })
    }

    fn acme(
        &mut self,
        name: &str,
        header: &Origin,
        l: &Layers<'a, IssuerLayer>,
        ctx: &Value,
    ) -> Option<IssuerKind> {
        let acme =
            |get: fn(&AcmeLayer) -> bool| l.any(|l| l.acme.as_ref().filter(|a| get(&a.value)));
        let server = match l.pick(|l| l.acme.as_ref()?.value.server.as_ref()) {
            None => LETSENCRYPT_PRODUCTION.to_string(),
            Some(s) => match s.value.as_str() {
                "production" => LETSENCRYPT_PRODUCTION.to_string(),
                "staging" => LETSENCRYPT_STAGING.to_string(),
                url if url.starts_with("https://") && !url.contains(char::is_whitespace) => {
                    url.to_string()
                }
                other => {
                    self.error(
                        rules::INVALID_VALUE,
                        s.origin.clone(),
                        format!("`{other}` is not an ACME server"),
                    )
                    .help("write `production` or `staging` (Let's Encrypt's), or the https:// URL of another ACME directory");
                    return None;
                }
            },
        };
        let email = match l.pick(|l| l.acme.as_ref()?.value.email.as_ref()) {
            Some(e) => {
                if !is_email(e.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        e.origin.clone(),
                        format!("`{}` is not an email address", e.value),
                    )
                    .help("Let's Encrypt writes to this address before a certificate expires: write one your team reads, like `platform@example.com`");
                }
                e.value.clone()
            }
            None => {
                self.error(
                    rules::MISSING_KEY,
                    header.clone(),
                    format!("ACME issuer `{name}` has no `email`"),
                )
                .help("add `email = \"platform@example.com\"` to its `acme` table: the ACME account's contact");
                return None;
            }
        };
        let http = acme(|a| a.http01.is_some());
        let dns = acme(|a| a.dns01.is_some());
        if !http && !dns {
            self.error(
                rules::MISSING_KEY,
                header.clone(),
                format!("ACME issuer `{name}` has no solver"),
            )
            .help("add `http01 = { ingress_class = \"nginx\" }` or `dns01 = { region = \"eu-west-1\" }` to its `acme` table");
            return None;
        }
        let mut solvers = Vec::new();
        if http {
            let class = l.pick(|l| {
                l.acme
                    .as_ref()?
                    .value
                    .http01
                    .as_ref()?
                    .value
                    .ingress_class
                    .as_ref()
            });
            let Some(class) = class else {
                self.error(
                        rules::MISSING_KEY,
                        header.clone(),
                        format!("the HTTP-01 solver of issuer `{name}` has no `ingress_class`"),
                    )
                    .help("write `http01 = { ingress_class = \"nginx\" }`: the IngressClass that serves the challenge");
                return None;
            };
            if class.value == "alb" {
                self.error(
                        rules::INVALID_VALUE,
                        class.origin.clone(),
                        format!("issuer `{name}` cannot answer HTTP-01 challenges through the `alb` ingress class"),
                    )
                    .help("the AWS Load Balancer Controller makes a new, internal load balancer for cert-manager's challenge Ingress, which Let's Encrypt cannot reach, and an ALB serves certificates from ACM rather than from Secrets: use `dns01 = { ... }` (Route 53) for this issuer");
            }
            if let Err(e) = names::check_dns1123_subdomain(class.value) {
                self.error(
                    rules::INVALID_NAME,
                    class.origin.clone(),
                    format!("ingress_class: {e}"),
                );
            }
            solvers.push(AcmeSolver::Http01 {
                ingress_class: class.value.clone(),
            });
        }
        if dns {
            let dns = |get: fn(&crate::input::Dns01Layer) -> Option<&Spanned<String>>| {
                l.pick(move |l| get(&l.acme.as_ref()?.value.dns01.as_ref()?.value))
            };
            let region = match dns(|d| d.region.as_ref()) {
                Some(r) => self.region(Some(r), ctx, "DNS-01 solver", header),
                None => self
                    .platform_file()
                    .platform
                    .value
                    .aws_region
                    .as_ref()
                    .map(|r| r.value.clone()),
            };
            let hosted_zone_id = dns(|d| d.hosted_zone_id.as_ref()).and_then(|z| {
                    let id = self.render_template(z.value, &z.origin, ctx)?;
                    let ok = id.starts_with('Z')
                        && id.len() <= 32
                        && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                    if !ok {
                        self.error(
                            rules::INVALID_VALUE,
                            z.origin.clone(),
                            format!("`{id}` is not a Route 53 hosted zone id"),
                        )
                        .help("write the zone's id as Route 53 shows it, like `Z0123456789ABCDEFGHIJ` (or a template such as `{{ cluster.vars.zone_id }}`), or leave it out to let cert-manager find the zone");
                    }
                    Some(id)
                });
            let role = self.role_arn(dns(|d| d.role.as_ref()), ctx);
            let mut dns_zones = Vec::new();
            if let Some(list) = l.pick(|l| {
                l.acme
                    .as_ref()?
                    .value
                    .dns01
                    .as_ref()?
                    .value
                    .dns_zones
                    .as_ref()
            }) {
                for z in list.value {
                    if let Err(e) = names::check_dns1123_subdomain(&z.value) {
                        self.error(
                            rules::INVALID_VALUE,
                            Origin::new(list.origin.file, z.span.clone()),
                            format!("dns_zones: {e}"),
                        );
                    }
                    dns_zones.push(z.value.clone());
                }
            }
            if http && dns_zones.is_empty() {
                self.error(
                    rules::INVALID_VALUE,
                    header.clone(),
                    format!("ACME issuer `{name}` sets both `http01` and `dns01`, and both would answer for every name"),
                )
                .help("give `dns01` the zones it answers for, like `dns_zones = [\"example.com\"]` (HTTP-01 then answers for every other name), or declare a second issuer for the other solver");
                return None;
            }
            solvers.push(AcmeSolver::Dns01 {
                region,
                hosted_zone_id,
                role,
                dns_zones,
            });
        }
        Some(IssuerKind::Acme {
            server,
            email,
            solvers,
        })
    }

    fn secret_store(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, SecretStoreLayer>,
        ctx: &Value,
    ) -> Option<SecretStoreSpec> {
        self.object_name("ClusterSecretStore", name, &header);
        let Some(provider) = l.pick(|l| l.provider.as_ref()) else {
            self.error(
                rules::MISSING_KEY,
                header,
                format!("ClusterSecretStore `{name}` has no `provider`"),
            )
            .help("add `provider = \"secrets-manager\"` (AWS Secrets Manager) or `provider = \"parameter-store\"` (SSM Parameter Store)");
            return None;
        };
        let region = self.region(
            l.pick(|l| l.region.as_ref()),
            ctx,
            &format!("ClusterSecretStore `{name}`"),
            &header,
        )?;
        let role = self.role_arn(l.pick(|l| l.role.as_ref()), ctx);
        let mut namespaces = Vec::new();
        let mut namespace_regexes = Vec::new();
        let mut namespace_patterns = Vec::new();
        if let Some(list) = l.pick(|l| l.namespaces.as_ref()) {
            for ns in list.value {
                let origin = Origin::new(list.origin.file, ns.span.clone());
                let pattern = ns.value.contains(['*', '?']);
                let plain = ns.value.replace(['*', '?'], "a");
                if let Err(e) = names::check_dns1123_label(&plain) {
                    self.error(rules::INVALID_NAME, origin, format!("namespaces: {e}"))
                        .help("write namespace names, or patterns with `*`, like `dev-*`");
                    continue;
                }
                if pattern {
                    namespace_regexes.push(glob_regex(&ns.value));
                } else {
                    namespaces.push(ns.value.clone());
                }
                namespace_patterns.push(ns.value.clone());
            }
        }
        Some(SecretStoreSpec {
            name: name.to_string(),
            provider: *provider.value,
            region,
            role,
            namespaces,
            namespace_regexes,
            namespace_patterns,
            origin: header,
        })
    }

    fn storage_class(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, StorageClassLayer>,
        ctx: &Value,
    ) -> Option<StorageClassSpec> {
        self.object_name("StorageClass", name, &header);
        let type_ = match l.pick(|l| l.type_.as_ref()) {
            Some(t) if EBS_TYPES.contains(&t.value.as_str()) => t.value.clone(),
            Some(t) => {
                let hint = crate::diagnostic::did_you_mean(t.value, EBS_TYPES.iter().copied());
                let d = self.error(
                    rules::INVALID_VALUE,
                    t.origin.clone(),
                    format!("`{}` is not an EBS volume type", t.value),
                );
                d.label = hint;
                d.help = Some(format!("use one of: {}", EBS_TYPES.join(", ")));
                return None;
            }
            None => "gp3".to_string(),
        };
        let mut parameters = BTreeMap::from([("type".to_string(), type_.clone())]);
        let encrypted = l.pick(|l| l.encrypted.as_ref()).is_none_or(|e| *e.value);
        parameters.insert("encrypted".into(), encrypted.to_string());
        if let Some(k) = l.pick(|l| l.kms_key.as_ref()) {
            if !encrypted {
                self.error(
                    rules::INVALID_VALUE,
                    k.origin.clone(),
                    format!("StorageClass `{name}` names a KMS key but `encrypted = false`"),
                )
                .help("remove `kms_key`, or encrypt the volumes");
            }
            if let Some(key) = self.template_value(&k, ctx) {
                if !key.starts_with("arn:aws") || !key.contains(":kms:") {
                    self.error(
                        rules::INVALID_VALUE,
                        k.origin.clone(),
                        format!("`{key}` is not a KMS key ARN"),
                    )
                    .help("write `arn:aws:kms:<region>:<account>:key/<id>`; the EBS CSI driver wants the full ARN");
                }
                parameters.insert("kmsKeyId".into(), key);
            }
        }
        let iops = l.pick(|l| l.iops.as_ref());
        let throughput = l.pick(|l| l.throughput.as_ref());
        // The EBS limits (AWS documentation, "Amazon EBS volume types"; gp3 raised in 2025).
        let iops_range = match type_.as_str() {
            "gp3" => Some((3000, 80_000)),
            "io1" => Some((100, 64_000)),
            "io2" => Some((100, 256_000)),
            _ => None,
        };
        match (&iops, iops_range) {
            (Some(i), Some((min, max))) => {
                self.int_in_range(*i.value, min, max, &i.origin, &format!("iops of {type_}"));
                parameters.insert("iops".into(), i.value.to_string());
            }
            (Some(i), None) => {
                self.error(
                    rules::INVALID_VALUE,
                    i.origin.clone(),
                    format!("`{type_}` volumes have no provisioned IOPS"),
                )
                .help("remove `iops`, or use `type = \"gp3\"`, `\"io1\"` or `\"io2\"`");
            }
            (None, _) if type_ == "io1" || type_ == "io2" => {
                self.error(
                    rules::MISSING_KEY,
                    header.clone(),
                    format!("StorageClass `{name}` of type `{type_}` has no `iops`"),
                )
                .help("provisioned-IOPS volumes need their IOPS: add `iops = 3000`, say");
            }
            (None, _) => {}
        }
        if let Some(t) = &throughput {
            if type_ == "gp3" {
                if self
                    .int_in_range(*t.value, 125, 2000, &t.origin, "throughput of gp3")
                    .is_some()
                {
                    // gp3 allows 0.25 MiB/s per provisioned IOPS.
                    let iops = iops.as_ref().map_or(3000, |i| *i.value);
                    if *t.value * 4 > iops {
                        self.error(
                            rules::OUT_OF_RANGE,
                            t.origin.clone(),
                            format!("{} MiB/s is more than gp3 allows with {iops} IOPS (0.25 MiB/s per IOPS)", t.value),
                        )
                        .help(format!("raise `iops` to at least {}, or lower `throughput`", *t.value * 4));
                    }
                }
                parameters.insert("throughput".into(), t.value.to_string());
            } else {
                self.error(
                    rules::INVALID_VALUE,
                    t.origin.clone(),
                    format!("only gp3 volumes take a `throughput`, not `{type_}`"),
                )
                .help("remove `throughput`, or use `type = \"gp3\"`");
            }
        }
        Some(StorageClassSpec {
            name: name.to_string(),
            parameters,
            reclaim_policy: l
                .pick(|l| l.reclaim_policy.as_ref())
                .map_or(ReclaimPolicy::Delete, |r| *r.value),
            binding_mode: l
                .pick(|l| l.binding_mode.as_ref())
                .map_or(BindingMode::WaitForFirstConsumer, |b| *b.value),
            allow_expansion: l
                .pick(|l| l.allow_expansion.as_ref())
                .is_none_or(|a| *a.value),
            default: l.pick(|l| l.default.as_ref()).is_some_and(|d| *d.value),
            origin: header,
        })
    }

    fn node_class(
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
                    AMI_FAMILIES.contains(&family)
                        && !version.is_empty()
                        && (!family.starts_with("windows") || version == "latest")
                });
                if !ok {
                    self.error(
                        rules::INVALID_VALUE,
                        a.origin.clone(),
                        format!("`{}` is not an AMI alias", a.value),
                    )
                    .help(format!("write `family@version`, like `al2023@v20240807` or `bottlerocket@latest`; families: {} (Windows only `@latest`)", AMI_FAMILIES.join(", ")));
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

    fn node_pool(
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
                        "[baseline.node_classes.<name>]",
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

    fn priority_class(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, PriorityClassLayer>,
    ) -> Option<PriorityClassSpec> {
        self.object_name("PriorityClass", name, &header);
        if name.starts_with("system-") {
            self.error(
                rules::RESERVED,
                header.clone(),
                format!("`{name}`: PriorityClass names starting with `system-` are Kubernetes'"),
            )
            .help("`system-cluster-critical` and `system-node-critical` exist on every cluster: name them without declaring them, and give yours another name");
            return None;
        }
        let Some(value) = l.pick(|l| l.value.as_ref()) else {
            self.error(
                rules::MISSING_KEY,
                header,
                format!("PriorityClass `{name}` has no `value`"),
            )
            .help("add `value = 100000`: pods of higher priority are scheduled first and may preempt lower ones");
            return None;
        };
        let v = self.int_in_range(
            *value.value,
            -2_147_483_648,
            HIGHEST_USER_PRIORITY,
            &value.origin,
            "value",
        )?;
        let description = l.pick(|l| l.description.as_ref()).map(|d| d.value.clone());
        Some(PriorityClassSpec {
            name: name.to_string(),
            value: v as i32,
            preempt: l.pick(|l| l.preempt.as_ref()).is_none_or(|p| *p.value),
            global_default: l
                .pick(|l| l.global_default.as_ref())
                .is_some_and(|g| *g.value),
            description,
            origin: header,
        })
    }

    fn roles(&mut self, layers: &Layers<'a, BaselineLayer>) -> Vec<RoleSpec> {
        let mut out = Vec::new();
        for role in PlatformRole::ALL {
            let get = |l: &'a BaselineLayer| -> Option<&'a Spanned<RoleLayer>> {
                let r = &l.roles.as_ref()?.value;
                match role {
                    PlatformRole::Admin => r.admin.as_ref(),
                    PlatformRole::Developer => r.developer.as_ref(),
                    PlatformRole::Viewer => r.viewer.as_ref(),
                    PlatformRole::MonitoringReader => r.monitoring_reader.as_ref(),
                }
            };
            if !layers.any(get) {
                continue;
            }
            let header = layers.pick(get).map(|r| r.origin).expect("declared");
            let Some(groups) = layers.pick(|l| get(l)?.value.groups.as_ref()) else {
                self.error(
                    rules::MISSING_KEY,
                    header,
                    format!("role `{}` has no `groups`", role.key()),
                )
                .help("add `groups = [\"platform-admins\"]`: the Kubernetes groups your EKS access entries map IAM principals to");
                continue;
            };
            let mut seen = BTreeSet::new();
            let mut list = Vec::new();
            for g in groups.value {
                let origin = Origin::new(groups.origin.file, g.span.clone());
                if g.value.trim().is_empty() || g.value.starts_with("system:") {
                    self.error(
                        rules::INVALID_VALUE,
                        origin,
                        format!("`{}` cannot be a platform role's group", g.value),
                    )
                    .help("name a group of your own (`system:` groups are Kubernetes'), like `platform-admins`");
                    continue;
                }
                if seen.insert(g.value.clone()) {
                    list.push(g.value.clone());
                }
            }
            if groups.value.is_empty() {
                self.error(
                    rules::INVALID_VALUE,
                    groups.origin.clone(),
                    format!("role `{}` binds no group", role.key()),
                )
                .help("list at least one group, or remove the role");
                continue;
            }
            out.push(RoleSpec {
                role,
                groups: list,
                origin: header,
            });
        }
        out
    }

    /// A reference to a baseline object that does not exist: error with did-you-mean.
    pub(super) fn unknown_object<'n>(
        &mut self,
        kind: &str,
        name: &str,
        origin: &Origin,
        known: impl Iterator<Item = &'n str> + Clone,
        declare: &str,
    ) {
        let hint = crate::diagnostic::did_you_mean(name, known.clone());
        let known: Vec<&str> = known.collect();
        let d = self.error(
            rules::UNKNOWN_BASELINE_OBJECT,
            origin.clone(),
            format!("{kind} `{name}` is not declared in the cluster's baseline"),
        );
        d.label = hint;
        d.help = Some(if known.is_empty() {
            format!("declare it under `{declare}`, or list it in `[baseline] provided` if something else creates it")
        } else {
            format!(
                "declared: {}; or declare `{name}` under `{declare}`, or list it in `[baseline] provided` if something else creates it",
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

/// `name@domain.tld`, without spaces.
fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.contains(char::is_whitespace)
            && !domain.contains('@')
    })
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

#[allow(dead_code)]
fn _unused(_: &SpannedMap<String>) {}

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

    #[test]
    fn namespace_patterns_as_regexes() {
        assert_eq!(glob_regex("dev-*"), "^dev-.*$");
        assert_eq!(glob_regex("team?"), "^team.$");
    }

    #[test]
    fn regions_and_emails() {
        assert!(is_aws_region("eu-west-1"));
        assert!(is_aws_region("us-gov-west-1"));
        assert!(!is_aws_region("europe"));
        assert!(!is_aws_region("eu-west-1a"));
        assert!(is_email("ops@example.com"));
        assert!(!is_email("ops@example"));
        assert!(!is_email("ops example.com"));
    }
}
