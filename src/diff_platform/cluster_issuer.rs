//! cert-manager's ClusterIssuers: a move to another ACME server, and a removed issuer
//! whose certificates are no longer renewed.

use super::Finding;
use crate::diff::RiskKind;
use crate::manifest_set::Resource;

/// Let's Encrypt's directories, by name.
fn acme_server_name(url: &str) -> Option<&'static str> {
    match url.trim_end_matches('/') {
        "https://acme-v02.api.letsencrypt.org/directory" => Some("production"),
        "https://acme-staging-v02.api.letsencrypt.org/directory" => Some("staging"),
        _ => None,
    }
}

/// A ClusterIssuer that moves to another ACME server: cert-manager registers the
/// account key with the new server (`registerAccount`, cert-manager
/// `pkg/issuer/acme/setup.go`: an account the server does not know is created), and a
/// certificate is issued again only when a re-issuance policy fires
/// (`pkg/controller/certificates/trigger/policies`), which an issuer's spec is not
/// part of: certificates already issued stay until they are renewed.
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (bs, hs) = (
        &b.value["spec"]["acme"]["server"],
        &h.value["spec"]["acme"]["server"],
    );
    let (Some(old), Some(new)) = (bs.as_str(), hs.as_str()) else {
        return;
    };
    if old == new {
        return;
    }
    let show = |url: &str| match acme_server_name(url) {
        Some(name) => format!("{name} ({url})"),
        None => url.to_string(),
    };
    let untrusted = match acme_server_name(old) {
        Some("staging") => "; the staging certificates browsers do not trust stay in use until then: renew them now with `cmctl renew --all --all-namespaces`",
        _ => "",
    };
    let trusting = match acme_server_name(new) {
        Some("staging") => {
            "; certificates from Let's Encrypt's staging directory are not trusted by browsers"
        }
        _ => "",
    };
    out.push((
        RiskKind::AcmeServer,
        format!(
            "ACME server changes {} → {}: cert-manager registers the issuer's account key with the new server, and certificates already issued are kept until they are renewed{untrusted}{trusting}",
            show(old),
            show(new)
        ),
    ));
}

/// A removed ClusterIssuer. A CertificateRequest whose issuer is missing stays Pending
/// (`IssuerNotFound`, "Referenced \"ClusterIssuer\" not found": cert-manager
/// `pkg/controller/certificaterequests/sync.go`).
pub(super) fn removed() -> Finding {
    (
        RiskKind::IssuerRemoved,
        "removed; the certificates it issued are no longer renewed (their next CertificateRequest stays Pending: `Referenced \"ClusterIssuer\" not found`) and expire at the end of their validity; an Ingress or Certificate made outside kgen may still name it".into(),
    )
}
