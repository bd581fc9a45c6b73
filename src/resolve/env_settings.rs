//! Environment-wide choices of a production platform: how public services are
//! exposed (`[ingress]`), NetworkPolicies (`[network_policy]`), how pods get their IAM
//! role (`workload_identity`), where secrets come from (`secrets_backend`,
//! `[external_secrets]`) and which secret paths an environment may read
//! (`secret_prefixes`).
//!
//! The tables exist at the top of platform.toml and, with the same keys, inside
//! `[environments.<env>]` and an overlay's `[environment]`. They merge leaf by leaf
//! like a service's layers: top-level table < `[environments.<env>]` < overlay. The
//! scalars `workload_identity` and `secrets_backend` come from the environment when it
//! sets them, else from `[platform]`.

use minijinja::Value;

use super::{builtin, is_go_duration, Amend, Resolver};
use crate::cidr::Cidr;
use crate::input::{
    EgressPolicy, EnvironmentLayer, IngressClass, SecretsBackend, WorkloadIdentity,
};
use crate::merge::{Layers, Located};
use crate::source::{FileId, Origin};
use crate::spanned::Spanned;
use crate::spec::{
    AlbScheme, AlbSpec, EnvSpec, ExternalSecretsSpec, IngressSpec, NetworkPolicySpec,
};
use crate::{names, rules};

/// The layers of one environment-wide table: top-level, `[environments.<env>]`, overlay.
fn stack<'x, T>(
    pf: FileId,
    top: Option<&'x Spanned<T>>,
    env: &'x EnvironmentLayer,
    overlay: Option<(FileId, &'x EnvironmentLayer)>,
    get: impl Fn(&'x EnvironmentLayer) -> Option<&'x Spanned<T>>,
) -> Layers<'x, T> {
    let mut l = Layers::new();
    if let Some(t) = top {
        l.push(pf, &t.value);
    }
    if let Some(t) = get(env) {
        l.push(pf, &t.value);
    }
    if let Some((file, o)) = overlay {
        if let Some(t) = get(o) {
            l.push(file, &t.value);
        }
    }
    l
}

impl<'a> Resolver<'a> {
    /// Resolves the environment-wide settings into `env`. Runs before the services,
    /// which read `secrets_backend` and `secret_prefixes`.
    pub(super) fn env_settings(
        &mut self,
        env: &mut EnvSpec,
        layer: &'a EnvironmentLayer,
        overlay: Option<(FileId, &'a EnvironmentLayer)>,
        ctx_env: &Value,
        ctx_cluster: &Value,
    ) {
        let pf = self.pf;
        let platform = self.platform_file();
        let mut env_layers: Layers<EnvironmentLayer> = Layers::new();
        env_layers.push(pf, layer);
        if let Some((file, o)) = overlay {
            env_layers.push(file, o);
        }
        let p = &platform.platform.value;
        env.workload_identity = env_layers
            .pick(|l| l.workload_identity.as_ref())
            .map(|v| *v.value)
            .or_else(|| p.workload_identity.as_ref().map(|v| v.value))
            .unwrap_or(WorkloadIdentity::Irsa);
        env.secrets_backend = env_layers
            .pick(|l| l.secrets_backend.as_ref())
            .map(|v| *v.value)
            .or_else(|| p.secrets_backend.as_ref().map(|v| v.value))
            .unwrap_or(SecretsBackend::Csi);
        env.secret_prefixes = self.secret_prefixes(&env_layers);

        let ctx = minijinja::context! {
            env => ctx_env.clone(),
            cluster => ctx_cluster.clone(),
            platform => minijinja::context! {
                name => p.name.value.clone(),
                repo => p.repo.value.clone(),
                registry => p.registry.as_ref().map(|r| r.value.clone()),
            },
        };
        let ingress = stack(pf, platform.ingress.as_ref(), layer, overlay, |l| {
            l.ingress.as_ref()
        });
        env.ingress = self.ingress_settings(&ingress, &ctx);
        if let Some(i) = ingress.pick(|l| l.cluster_issuer.as_ref()) {
            env.origins
                .insert("ingress.cluster_issuer".into(), i.origin);
        }
        if let Some(c) = ingress.pick(|l| l.alb.as_ref()?.source_cidrs.as_ref()) {
            env.origins
                .insert("ingress.alb.source_cidrs".into(), c.origin);
        }

        let np = stack(pf, platform.network_policy.as_ref(), layer, overlay, |l| {
            l.network_policy.as_ref()
        });
        // Present at any level means on, unless the highest `enabled` says false.
        let np_on = np.any(Some) && np.pick(|l| l.enabled.as_ref()).is_none_or(|e| *e.value);
        env.network_policy = np_on.then(|| NetworkPolicySpec {
            egress: np
                .pick(|l| l.egress.as_ref())
                .map_or(EgressPolicy::Open, |e| *e.value),
        });

        let es = stack(
            pf,
            platform.external_secrets.as_ref(),
            layer,
            overlay,
            |l| l.external_secrets.as_ref(),
        );
        env.external_secrets = self.external_secrets_settings(&es);
        for (key, v) in [
            ("external_secrets.store", es.pick(|l| l.store.as_ref())),
            (
                "external_secrets.ssm_store",
                es.pick(|l| l.ssm_store.as_ref()),
            ),
        ] {
            if let Some(v) = v {
                env.origins.insert(key.into(), v.origin);
            }
        }
        // Where `api_version` is set (the add-on check of the operator's chart points there).
        if let Some(v) = es.pick(|l| l.api_version.as_ref()) {
            env.origins
                .insert("external_secrets.api_version".into(), v.origin);
        }
    }

    fn secret_prefixes(&mut self, env_layers: &Layers<'a, EnvironmentLayer>) -> Vec<String> {
        let Some(list) = env_layers.pick(|l| l.secret_prefixes.as_ref()) else {
            return Vec::new();
        };
        let file = list.origin.file;
        let mut out = Vec::new();
        for prefix in list.value {
            if prefix.value.trim_start_matches('/').is_empty()
                || prefix.value.contains(char::is_whitespace)
            {
                self.error(
                    rules::INVALID_VALUE,
                    crate::source::Origin::new(file, prefix.span.clone()),
                    format!("`{}` is not a secret path prefix", prefix.value),
                )
                .help("write the start of the secret paths this environment may read, like `\"dev/\"` or `\"production/\"`; to allow every path, leave `secret_prefixes` out");
                continue;
            }
            out.push(prefix.value.clone());
        }
        out
    }

    fn ingress_settings(
        &mut self,
        layers: &Layers<'a, crate::input::IngressLayer>,
        ctx: &Value,
    ) -> IngressSpec {
        let class = layers
            .pick(|l| l.class.as_ref())
            .map_or(IngressClass::Nginx, |c| *c.value);
        let controller_namespace = match layers.pick(|l| l.controller_namespace.as_ref()) {
            Some(ns) => {
                self.check_label("ingress controller namespace", ns.value, ns.origin.clone());
                ns.value.clone()
            }
            None => builtin::INGRESS_CONTROLLER_NAMESPACE.to_string(),
        };
        let tls = layers.pick(|l| l.tls.as_ref()).is_none_or(|t| *t.value);
        // An ALB terminates TLS itself, with an ACM certificate: a certificate
        // cert-manager writes into a Secret is never served (the AWS Load Balancer
        // Controller reads no TLS Secret). So cert-manager is off by default with
        // `alb`, and turning it on there is an error.
        let cert_manager = match layers.pick(|l| l.cert_manager.as_ref()) {
            Some(c) if *c.value && class == IngressClass::Alb && tls => {
                self.error(
                    rules::INVALID_VALUE,
                    c.origin.clone(),
                    "`cert_manager = true` with `class = \"alb\"`: an ALB serves only ACM certificates, so the certificate cert-manager would issue is never used".into(),
                )
                .help("remove `cert_manager` (with `alb` the ALB serves an ACM certificate: set `alb.certificate_arn`, or let the controller discover one by host), or use `class = \"nginx\"`, which serves cert-manager's certificate");
                false
            }
            Some(c) => *c.value,
            None => class == IngressClass::Nginx,
        };
        let cluster_issuer = match layers.pick(|l| l.cluster_issuer.as_ref()) {
            Some(ci) => {
                if let Err(e) = names::check_dns1123_subdomain(ci.value) {
                    let d = self.error(
                        rules::INVALID_NAME,
                        ci.origin.clone(),
                        format!("cluster_issuer: {e}"),
                    );
                    if let Some(n) = names::nearest_dns1123_subdomain(ci.value) {
                        d.label(format!("did you mean `{n}`?"));
                    }
                }
                ci.value.clone()
            }
            None => builtin::CLUSTER_ISSUER.to_string(),
        };
        self.unused_cluster_issuer(layers, class, tls, cert_manager);
        let scheme = layers
            .pick(|l| l.alb.as_ref()?.scheme.as_ref())
            .map_or(AlbScheme::InternetFacing, |s| *s.value);
        let ssl_redirect = layers
            .pick(|l| l.alb.as_ref()?.ssl_redirect.as_ref())
            .is_none_or(|s| *s.value);
        let certificate_arn = layers
            .pick(|l| l.alb.as_ref()?.certificate_arn.as_ref())
            .and_then(|c| {
                let v = self.render_template(c.value, &c.origin, ctx)?;
                let ok = v.split(',').all(|arn| {
                    let arn = arn.trim();
                    arn.starts_with("arn:aws")
                        && arn.contains(":acm:")
                        && arn.contains(":certificate/")
                });
                if !ok {
                    self.error(
                        rules::INVALID_VALUE,
                        c.origin.clone(),
                        format!("`{v}` is not an ACM certificate ARN"),
                    )
                    .help("write `arn:aws:acm:<region>:<account>:certificate/<id>` (several separated by commas), or leave `certificate_arn` out to let the controller find the certificate by host");
                    return None;
                }
                Some(v)
            });
        let group = layers.pick(|l| l.alb.as_ref()?.group.as_ref()).map(|g| {
            if let Err(e) = names::check_dns1123_subdomain(g.value).and_then(|()| {
                if g.value.len() > 63 {
                    Err("longer than 63 characters".to_string())
                } else {
                    Ok(())
                }
            }) {
                let d = self.error(
                    rules::INVALID_NAME,
                    g.origin.clone(),
                    format!("ALB group name: {e}"),
                );
                if let Some(n) = names::nearest_dns1123_subdomain(g.value).filter(|n| n.len() <= 63)
                {
                    d.label(format!("did you mean `{n}`?"));
                }
            }
            g.value.clone()
        });
        let mut source_cidrs = Vec::new();
        if let Some(list) = layers.pick(|l| l.alb.as_ref()?.source_cidrs.as_ref()) {
            for c in list.value {
                if !is_cidr(&c.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        Origin::new(list.origin.file, c.span.clone()),
                        format!("`{}` is not a CIDR block", c.value),
                    )
                    .help("write an address and prefix length, like `10.0.0.0/16` (the VPC or the ALB's subnets)");
                    continue;
                }
                self.host_bits_warning(&c.value, Origin::new(list.origin.file, c.span.clone()));
                source_cidrs.push(c.value.clone());
            }
        }
        IngressSpec {
            class,
            controller_namespace,
            tls,
            cluster_issuer: (tls && cert_manager).then_some(cluster_issuer),
            alb: AlbSpec {
                scheme,
                certificate_arn: certificate_arn.filter(|_| tls),
                ssl_redirect: tls && ssl_redirect,
                group,
                source_cidrs,
            },
        }
    }

    /// A `cluster_issuer` written where no certificate is issued (`tls = false`,
    /// `class = "alb"`, `cert_manager = false`) is a warning, when it is written in the
    /// same layer as what turns cert-manager off, or above it: a platform-wide issuer
    /// that one environment's overlay turns off is not.
    fn unused_cluster_issuer(
        &mut self,
        layers: &Layers<'a, crate::input::IngressLayer>,
        class: IngressClass,
        tls: bool,
        cert_manager: bool,
    ) {
        let Some(issuer) = layers.pick(|l| l.cluster_issuer.as_ref()) else {
            return;
        };
        let height = layers.height_of(|l| l.cluster_issuer.as_ref());
        let (why, off) = if !tls {
            ("`tls = false`", layers.height_of(|l| l.tls.as_ref()))
        } else if class == IngressClass::Alb {
            (
                "`class = \"alb\"`: the ALB serves an ACM certificate, so cert-manager issues none",
                layers.height_of(|l| l.class.as_ref()),
            )
        } else if !cert_manager {
            (
                "`cert_manager = false`",
                layers.height_of(|l| l.cert_manager.as_ref()),
            )
        } else {
            return;
        };
        if height >= off {
            self.warning(
                rules::INVALID_VALUE,
                issuer.origin,
                format!("`cluster_issuer` has no effect with {why}"),
            )
            .help("remove `cluster_issuer`, or turn cert-manager on (`tls = true` with `class = \"nginx\"`)");
        }
    }

    fn external_secrets_settings(
        &mut self,
        layers: &Layers<'a, crate::input::ExternalSecretsLayer>,
    ) -> ExternalSecretsSpec {
        let store_name = |this: &mut Self, v: Option<Located<&'a String>>, default: &str| {
            let nearest = v
                .as_ref()
                .and_then(|v| names::nearest_dns1123_subdomain(v.value));
            let name = this.checked_or(
                v,
                default,
                rules::INVALID_NAME,
                "ClusterSecretStore name",
                names::check_dns1123_subdomain,
            );
            // `nearest` is only found for an invalid name: the error just pushed.
            if let (Some(n), Some(d)) = (nearest, this.diags.last_mut()) {
                d.label = Some(format!("did you mean `{n}`?"));
            }
            name
        };
        let store = store_name(
            self,
            layers.pick(|l| l.store.as_ref()),
            builtin::SECRET_STORE,
        );
        let ssm_store = store_name(
            self,
            layers.pick(|l| l.ssm_store.as_ref()),
            builtin::SSM_SECRET_STORE,
        );
        let refresh_interval = match layers.pick(|l| l.refresh_interval.as_ref()) {
            Some(r) => {
                if !is_go_duration(r.value) {
                    self.error(
                        rules::INVALID_VALUE,
                        r.origin.clone(),
                        format!("`{}` is not a Go duration", r.value),
                    )
                    .help("write a duration like `1h`, `30m` or `1h30m` (`0s` syncs once)");
                }
                r.value.clone()
            }
            None => builtin::REFRESH_INTERVAL.to_string(),
        };
        let api_version = match layers.pick(|l| l.api_version.as_ref()).map(|v| *v.value) {
            Some(crate::input::EsoApiVersion::V1beta1) => {
                crate::crd::external_secrets::API_VERSION_V1BETA1.to_string()
            }
            _ => <crate::crd::external_secrets::ExternalSecret as crate::crd::CustomResource>::API_VERSION.to_string(),
        };
        ExternalSecretsSpec {
            store,
            ssm_store,
            refresh_interval,
            api_version,
        }
    }
}

impl Resolver<'_> {
    /// A warning for a CIDR block that sets host bits, with its network as the
    /// suggestion (`service.source_cidrs`, `alb.source_cidrs`).
    pub(super) fn host_bits_warning(&mut self, cidr: &str, at: Origin) {
        if let Some(network) = cidr_with_host_bits(cidr) {
            self.warning(
                rules::INVALID_VALUE,
                at,
                format!("`{cidr}` sets host bits: the NetworkPolicy admits all of `{network}`"),
            )
            .label(format!("did you mean `{network}`?"))
            .help("write the network address of the block (host bits zero), or a longer prefix length if a smaller range was meant");
        }
    }
}

/// `10.0.0.0/16` or `fd00::/8`.
pub fn is_cidr(s: &str) -> bool {
    Cidr::parse_strict(s).is_some()
}

/// The network of a CIDR block that sets host bits (`10.0.0.0/16` for
/// `10.0.1.0/16`), `None` when it sets none or is not a CIDR block. The API server
/// takes such a block as its network (and warns: KEP-4858 calls it ambiguous), which is
/// seldom what was meant: a typo in the address or in the prefix length.
pub fn cidr_with_host_bits(s: &str) -> Option<String> {
    let c = Cidr::parse_strict(s)?;
    let network = c.network();
    (network != c.addr).then(|| format!("{network}/{}", c.prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits() {
        assert_eq!(cidr_with_host_bits("10.0.0.0/16"), None);
        assert_eq!(
            cidr_with_host_bits("10.0.1.0/16").as_deref(),
            Some("10.0.0.0/16")
        );
        assert_eq!(
            cidr_with_host_bits("10.1.2.3/8").as_deref(),
            Some("10.0.0.0/8")
        );
        assert_eq!(cidr_with_host_bits("10.1.2.3/32"), None);
        assert_eq!(
            cidr_with_host_bits("10.1.2.3/0").as_deref(),
            Some("0.0.0.0/0")
        );
        assert_eq!(cidr_with_host_bits("0.0.0.0/0"), None);
        assert_eq!(
            cidr_with_host_bits("fd00::1/8").as_deref(),
            Some("fd00::/8")
        );
        assert_eq!(cidr_with_host_bits("fd12::/8").as_deref(), Some("fd00::/8"));
        assert_eq!(cidr_with_host_bits("fd00::/8"), None);
        assert_eq!(cidr_with_host_bits("10.0.0.0"), None);
    }

    #[test]
    fn cidrs() {
        assert!(is_cidr("10.0.0.0/16"));
        assert!(is_cidr("0.0.0.0/0"));
        assert!(is_cidr("fd00::/8"));
        assert!(!is_cidr("10.0.0.0"));
        assert!(!is_cidr("10.0.0.0/33"));
        assert!(!is_cidr("10.0.0/16"));
        assert!(!is_cidr("10.0.0.0/"));
    }
}
