//! cert-manager's [`ClusterIssuer`] (`cert-manager.io/v1`), restricted to the fields
//! kgen emits: ACME issuers (HTTP-01 through an ingress class, DNS-01 in Route 53) and
//! self-signed ones.
//!
//! Mirrors the CRD of cert-manager/cert-manager (`clusterissuers.cert-manager.io`,
//! version `v1`), kept verbatim in `shared/schemas/crds/cert-manager.io/clusterissuer_v1.json`.

use super::custom_resource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// A cluster-wide certificate issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterIssuer {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: IssuerSpec,
}
custom_resource!(
    ClusterIssuer,
    IssuerSpec,
    "cert-manager.io/v1",
    "ClusterIssuer"
);

/// `ClusterIssuer.spec`: exactly one issuer type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerSpec {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub acme: Option<Acme>,
    /// `{}`: certificates signed by their own key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub self_signed: Option<SelfSigned>,
}

/// `spec.selfSigned` (no fields kgen sets).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelfSigned {}

/// `spec.acme`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Acme {
    /// The ACME directory URL.
    pub server: String,
    /// The account's contact address.
    pub email: String,
    /// The Secret cert-manager creates for the ACME account's private key (in its
    /// cluster resource namespace); never an input.
    pub private_key_secret_ref: SecretKeySelector,
    pub solvers: Vec<Solver>,
}

/// A reference to a Secret by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeySelector {
    pub name: String,
}

/// One way to solve challenges, for the names its selector matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Solver {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http01: Option<Http01>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dns01: Option<Dns01>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub selector: Option<SolverSelector>,
}

/// `solvers[].http01`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Http01 {
    pub ingress: Http01Ingress,
}

/// `solvers[].http01.ingress`: the challenge is served by an Ingress of this class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Http01Ingress {
    pub ingress_class_name: String,
}

/// `solvers[].dns01`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dns01 {
    pub route53: Route53,
}

/// `solvers[].dns01.route53`: credentials from cert-manager's own identity (IRSA or
/// Pod Identity), optionally assuming `role`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Route53 {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub region: Option<String>,
    #[serde(
        rename = "hostedZoneID",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub hosted_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub role: Option<String>,
}

/// `solvers[].selector`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SolverSelector {
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dns_zones: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::test_support::assert_conforms;

    fn meta() -> ObjectMeta {
        ObjectMeta {
            name: Some("letsencrypt-prod".into()),
            ..Default::default()
        }
    }

    #[test]
    fn acme_issuers_conform() {
        let http = ClusterIssuer::new(
            meta(),
            IssuerSpec {
                acme: Some(Acme {
                    server: "https://acme-v02.api.letsencrypt.org/directory".into(),
                    email: "ops@example.com".into(),
                    private_key_secret_ref: SecretKeySelector {
                        name: "letsencrypt-prod-account-key".into(),
                    },
                    solvers: vec![Solver {
                        http01: Some(Http01 {
                            ingress: Http01Ingress {
                                ingress_class_name: "nginx".into(),
                            },
                        }),
                        ..Default::default()
                    }],
                }),
                self_signed: None,
            },
        );
        let json = assert_conforms(&http);
        assert_eq!(
            json["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["ingressClassName"],
            "nginx"
        );
        let dns = ClusterIssuer::new(
            meta(),
            IssuerSpec {
                acme: Some(Acme {
                    server: "https://acme-staging-v02.api.letsencrypt.org/directory".into(),
                    email: "ops@example.com".into(),
                    private_key_secret_ref: SecretKeySelector { name: "k".into() },
                    solvers: vec![Solver {
                        dns01: Some(Dns01 {
                            route53: Route53 {
                                region: Some("eu-west-1".into()),
                                hosted_zone_id: Some("Z123".into()),
                                role: None,
                            },
                        }),
                        selector: Some(SolverSelector {
                            dns_zones: vec!["example.com".into()],
                        }),
                        ..Default::default()
                    }],
                }),
                self_signed: None,
            },
        );
        let json = assert_conforms(&dns);
        assert_eq!(
            json["spec"]["acme"]["solvers"][0]["dns01"]["route53"]["hostedZoneID"],
            "Z123"
        );
        assert_conforms(&ClusterIssuer::new(
            meta(),
            IssuerSpec {
                acme: None,
                self_signed: Some(SelfSigned {}),
            },
        ));
    }
}
