//! cert-manager ClusterIssuers of the baseline: ACME (Let's Encrypt or another
//! directory, with HTTP-01 and Route 53 DNS-01 solvers) or self-signed.

use minijinja::Value;

use crate::input::{AcmeLayer, IssuerLayer};
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{
    AcmeSolver, IssuerKind, IssuerSpec, LETSENCRYPT_PRODUCTION, LETSENCRYPT_STAGING,
};
use crate::{names, rules};

impl<'a> Resolver<'a> {
    pub(super) fn issuer(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("ops@example.com"));
        assert!(!is_email("ops@example"));
        assert!(!is_email("ops example.com"));
    }
}
