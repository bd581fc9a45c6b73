//! The External Secrets Operator's [`ExternalSecret`] (`external-secrets.io/v1`),
//! restricted to the fields kgen emits.
//!
//! Mirrors the CRD of external-secrets/external-secrets (the `v1` version of
//! `externalsecrets.external-secrets.io`), kept verbatim in
//! `shared/schemas/crds/external-secrets.io/externalsecret_v1.json`.
//!
//! An `ExternalSecret` tells the operator to read values from a (Cluster)SecretStore
//! (AWS Secrets Manager, SSM Parameter Store) and write them into a Kubernetes
//! Secret (`target`), refreshed every `refreshInterval`. Each `data` entry maps one
//! key of that Secret to one remote value; an entry can read from another store than
//! the object's own (`sourceRef.storeRef`), which kgen uses for SSM parameters.

use super::custom_resource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// The older API version (`ExternalSecretsSpec::api_version`), for External Secrets
/// Operator releases before v0.16, which serve only `v1beta1` (seed 003 writes it);
/// v0.16 serves both, v0.17 stopped serving it.
/// Its `ExternalSecret` has the same fields kgen emits as `v1`'s (compare
/// `shared/schemas/crds/external-secrets.io/externalsecret_v1beta1.json`).
pub const API_VERSION_V1BETA1: &str = "external-secrets.io/v1beta1";

/// `secretStoreRef.kind` of a cluster-wide store.
pub const CLUSTER_SECRET_STORE: &str = "ClusterSecretStore";
/// `target.creationPolicy` under which the operator owns (and garbage-collects) the Secret.
pub const CREATION_POLICY_OWNER: &str = "Owner";

/// An `ExternalSecret`: which remote secrets to sync into one Kubernetes Secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecret {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ExternalSecretSpec,
}
custom_resource!(
    ExternalSecret,
    ExternalSecretSpec,
    "external-secrets.io/v1",
    "ExternalSecret"
);

/// `ExternalSecret.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretSpec {
    /// The store every entry reads from unless it names its own.
    pub secret_store_ref: SecretStoreRef,
    /// The Kubernetes Secret to write.
    pub target: ExternalSecretTarget,
    /// Go duration between re-reads, e.g. `1h` (upstream default `1h0m0s`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refresh_interval: Option<String>,
    /// One entry per key of the target Secret.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub data: Vec<ExternalSecretData>,
}

/// A reference to a `SecretStore` or `ClusterSecretStore`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretStoreRef {
    pub name: String,
    /// `SecretStore` (upstream default) or `ClusterSecretStore`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kind: Option<String>,
}

impl SecretStoreRef {
    /// A reference to the `ClusterSecretStore` named `name`.
    pub fn cluster(name: impl Into<String>) -> Self {
        SecretStoreRef {
            name: name.into(),
            kind: Some(CLUSTER_SECRET_STORE.to_string()),
        }
    }
}

/// The Secret an `ExternalSecret` writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretTarget {
    /// Name of the Secret (upstream default: the ExternalSecret's name).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// `Owner` (upstream default), `Orphan`, `Merge`, `None` or `CreateOrMerge`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub creation_policy: Option<String>,
}

/// One key of the target Secret and the remote value it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretData {
    /// Key in the target Secret.
    pub secret_key: String,
    pub remote_ref: RemoteRef,
    /// Reads this entry from another store than `spec.secretStoreRef`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_ref: Option<SourceRef>,
}

/// The remote value: a secret (or parameter) and optionally one property of its JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteRef {
    /// Secret name or ARN, or parameter name.
    pub key: String,
    /// A key of a JSON secret.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub property: Option<String>,
}

/// `data[].sourceRef`: the store of one entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceRef {
    pub store_ref: SecretStoreRef,
}

/// A `ClusterSecretStore`: where ExternalSecrets of any (admitted) namespace read.
/// Mirrors `shared/schemas/crds/external-secrets.io/clustersecretstore_v1.json`; its
/// `v1beta1` has the same fields kgen emits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSecretStore {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: SecretStoreSpec,
}
custom_resource!(
    ClusterSecretStore,
    SecretStoreSpec,
    "external-secrets.io/v1",
    "ClusterSecretStore"
);

/// `ClusterSecretStore.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretStoreSpec {
    pub provider: SecretStoreProvider,
    /// Which namespaces may use the store; none means every namespace.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub conditions: Vec<ClusterSecretStoreCondition>,
}

/// `spec.provider`: kgen's stores read AWS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretStoreProvider {
    pub aws: AwsProvider,
}

/// `spec.provider.aws`. Without `auth`, the operator uses its own credentials (its
/// IRSA role or Pod Identity association), optionally assuming `role`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsProvider {
    /// `SecretsManager` or `ParameterStore`.
    pub service: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub role: Option<String>,
}

/// `spec.conditions[]`: namespaces by name or by regular expression.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSecretStoreCondition {
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub namespaces: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub namespace_regexes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::test_support::{assert_conforms, problems};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn es() -> ExternalSecret {
        ExternalSecret::new(
            ObjectMeta {
                name: Some("aux-service-secrets".into()),
                namespace: Some("aux-service".into()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/name".to_string(),
                    "aux-service".to_string(),
                )])),
                annotations: Some(BTreeMap::from([(
                    "argocd.argoproj.io/sync-wave".to_string(),
                    "-1".to_string(),
                )])),
                ..ObjectMeta::default()
            },
            ExternalSecretSpec {
                secret_store_ref: SecretStoreRef::cluster("aws-secrets-manager"),
                target: ExternalSecretTarget {
                    name: Some("aux-service-secrets".into()),
                    creation_policy: Some(CREATION_POLICY_OWNER.into()),
                },
                refresh_interval: Some("1h".into()),
                data: vec![
                    ExternalSecretData {
                        secret_key: "DB_PASSWORD".into(),
                        remote_ref: RemoteRef {
                            key: "production/aux-service/db".into(),
                            property: Some("password".into()),
                        },
                        source_ref: None,
                    },
                    ExternalSecretData {
                        secret_key: "APP_PARAMETER".into(),
                        remote_ref: RemoteRef {
                            key: "/production/aux-service/parameter".into(),
                            property: None,
                        },
                        source_ref: Some(SourceRef {
                            store_ref: SecretStoreRef::cluster("aws-parameter-store"),
                        }),
                    },
                ],
            },
        )
    }

    #[test]
    fn external_secret_conforms() {
        let json = assert_conforms(&es());
        assert_eq!(json["apiVersion"], "external-secrets.io/v1");
        assert_eq!(json["kind"], "ExternalSecret");
        assert_eq!(
            json["spec"]["secretStoreRef"],
            json!({"kind": "ClusterSecretStore", "name": "aws-secrets-manager"})
        );
        assert_eq!(
            json["spec"]["data"][1]["sourceRef"]["storeRef"]["name"],
            "aws-parameter-store"
        );
    }

    #[test]
    fn minimal_external_secret_conforms() {
        let json = assert_conforms(&ExternalSecret::named(
            "api-secrets",
            "api",
            ExternalSecretSpec {
                secret_store_ref: SecretStoreRef {
                    name: "store".into(),
                    kind: None,
                },
                ..Default::default()
            },
        ));
        assert_eq!(
            json["spec"],
            json!({"secretStoreRef": {"name": "store"}, "target": {}})
        );
    }

    #[test]
    fn upstream_schema_catches_mistakes() {
        let mut json = serde_json::to_value(es()).unwrap();
        json["spec"]["secretStoreRef"]["kind"] = json!("ClusterStore");
        json["spec"]["data"][0]["secretKey"] = json!("DB PASSWORD");
        json["spec"]["target"]["creationPolicy"] = json!("Owned");
        let Some(problems) = problems(&json) else {
            return;
        };
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems
            .iter()
            .any(|p| p.starts_with("spec.secretStoreRef.kind")));
        assert!(problems
            .iter()
            .any(|p| p.starts_with("spec.data[0].secretKey")));
        assert!(problems
            .iter()
            .any(|p| p.starts_with("spec.target.creationPolicy")));
    }

    #[test]
    fn json_schema_derives() {
        let schema = serde_json::to_value(schemars::schema_for!(ExternalSecret)).unwrap();
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema["$defs"]["ExternalSecretData"]["properties"]
            .get("remoteRef")
            .is_some());
    }
}
