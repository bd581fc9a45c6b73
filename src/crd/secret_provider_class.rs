//! The Secrets Store CSI driver's [`SecretProviderClass`]
//! (`secrets-store.csi.x-k8s.io/v1`), restricted to the fields kgen emits.
//!
//! Mirrors the CRD of kubernetes-sigs/secrets-store-csi-driver v1.6.0
//! (`deploy/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml`), kept verbatim
//! in `shared/schemas/crds/secrets-store.csi.x-k8s.io/secretproviderclass_v1.json`.
//!
//! `spec.parameters` is a string-to-string map interpreted by the provider. For
//! the AWS provider kgen sets `objects` (a YAML document, as a string, listing the
//! secrets to mount), and optionally `region` and `usePodIdentity`.

use super::custom_resource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Parameter holding the provider's list of objects to mount (a YAML string).
pub const PARAM_OBJECTS: &str = "objects";
/// AWS provider parameter: the region of the secrets.
pub const PARAM_REGION: &str = "region";
/// AWS provider parameter: `"true"` to authenticate with EKS Pod Identity.
pub const PARAM_USE_POD_IDENTITY: &str = "usePodIdentity";

/// A `SecretProviderClass`: which external secrets a CSI volume mounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretProviderClass {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: SecretProviderClassSpec,
}
custom_resource!(
    SecretProviderClass,
    SecretProviderClassSpec,
    "secrets-store.csi.x-k8s.io/v1",
    "SecretProviderClass"
);

/// `SecretProviderClass.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretProviderClassSpec {
    /// Provider name, e.g. `aws`, `azure`, `gcp`, `vault`.
    pub provider: String,
    /// Provider-specific parameters (all values are strings).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub parameters: BTreeMap<String, String>,
    /// Kubernetes Secrets to sync the mounted content into.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub secret_objects: Option<Vec<SecretObject>>,
}

impl SecretProviderClassSpec {
    /// An `aws` provider spec mounting `objects` (the provider's YAML list of
    /// objects), with `region` and `usePodIdentity: "true"` when given.
    pub fn aws(objects: impl Into<String>, region: Option<&str>, use_pod_identity: bool) -> Self {
        let mut parameters = BTreeMap::from([(PARAM_OBJECTS.to_string(), objects.into())]);
        if let Some(region) = region {
            parameters.insert(PARAM_REGION.to_string(), region.to_string());
        }
        if use_pod_identity {
            parameters.insert(PARAM_USE_POD_IDENTITY.to_string(), "true".to_string());
        }
        Self {
            provider: "aws".to_string(),
            parameters,
            secret_objects: None,
        }
    }
}

/// A Kubernetes Secret synced from mounted objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretObject {
    pub secret_name: String,
    /// Secret type, e.g. `Opaque`.
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub data: Vec<SecretObjectData>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub annotations: BTreeMap<String, String>,
}

/// One key of a synced Secret and the mounted object (or alias) it comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretObjectData {
    pub object_name: String,
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::test_support::{assert_conforms, problems};
    use serde_json::json;

    const OBJECTS: &str = "- objectName: \"dev/main-api/database\"\n  objectType: \"secretsmanager\"\n  jmesPath:\n    - path: \"password\"\n      objectAlias: \"db-password\"\n";

    fn spc() -> SecretProviderClass {
        SecretProviderClass::named(
            "main-api",
            "main-api-dev",
            SecretProviderClassSpec {
                secret_objects: Some(vec![SecretObject {
                    secret_name: "main-api-db".into(),
                    type_: "Opaque".into(),
                    data: vec![SecretObjectData {
                        object_name: "db-password".into(),
                        key: "password".into(),
                    }],
                    labels: BTreeMap::from([(
                        "app.kubernetes.io/name".to_string(),
                        "main-api".to_string(),
                    )]),
                    annotations: BTreeMap::from([(
                        "kgen.dev/source".to_string(),
                        "aws".to_string(),
                    )]),
                }]),
                ..SecretProviderClassSpec::aws(OBJECTS, Some("eu-west-1"), true)
            },
        )
    }

    #[test]
    fn secret_provider_class_conforms() {
        let json = assert_conforms(&spc());
        assert_eq!(json["spec"]["provider"], "aws");
        assert_eq!(json["spec"]["parameters"]["objects"], OBJECTS);
        assert_eq!(json["spec"]["parameters"]["region"], "eu-west-1");
        assert_eq!(json["spec"]["parameters"]["usePodIdentity"], "true");
        assert_eq!(json["spec"]["secretObjects"][0]["type"], "Opaque");
    }

    #[test]
    fn minimal_aws_spec_has_only_objects() {
        let spec = SecretProviderClassSpec::aws(OBJECTS, None, false);
        let json = assert_conforms(&SecretProviderClass::named(
            "main-api",
            "main-api-dev",
            spec,
        ));
        assert_eq!(
            json["spec"],
            json!({"provider": "aws", "parameters": {"objects": OBJECTS}})
        );
    }

    /// Built the way kgen's renderer builds it: full metadata, struct-update spec.
    #[test]
    fn built_from_metadata_conforms() {
        let metadata = ObjectMeta {
            name: Some("main-api-secrets".into()),
            namespace: Some("main-api-dev".into()),
            labels: Some(BTreeMap::from([
                ("app.kubernetes.io/name".to_string(), "main-api".to_string()),
                (
                    "app.kubernetes.io/managed-by".to_string(),
                    "kgen".to_string(),
                ),
            ])),
            annotations: Some(BTreeMap::from([(
                "argocd.argoproj.io/sync-wave".to_string(),
                "-1".to_string(),
            )])),
            ..ObjectMeta::default()
        };
        let parameters = BTreeMap::from([
            (PARAM_OBJECTS.to_string(), OBJECTS.to_string()),
            (PARAM_REGION.to_string(), "eu-west-1".to_string()),
        ]);
        let spc = SecretProviderClass::new(
            metadata,
            SecretProviderClassSpec {
                provider: "aws".into(),
                parameters,
                ..Default::default()
            },
        );
        let json = assert_conforms(&spc);
        assert_eq!(json["apiVersion"], "secrets-store.csi.x-k8s.io/v1");
        assert_eq!(json["kind"], "SecretProviderClass");
        assert!(json["spec"].get("secretObjects").is_none());
    }

    #[test]
    fn parameters_must_be_strings() {
        let mut json = serde_json::to_value(spc()).unwrap();
        json["spec"]["parameters"]["usePodIdentity"] = json!(true);
        json["spec"]["secretObjects"][0]["secretname"] = json!("x");
        let Some(problems) = problems(&json) else {
            return;
        };
        assert_eq!(
            problems,
            vec![
                "spec.parameters.usePodIdentity: expected string, got boolean".to_string(),
                "spec.secretObjects[0].secretname: unknown field".to_string(),
            ]
        );
    }

    #[test]
    fn json_schema_derives() {
        let schema = serde_json::to_value(schemars::schema_for!(SecretProviderClass)).unwrap();
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema["$defs"]["SecretProviderClassSpec"]["properties"]
            .get("secretObjects")
            .is_some());
    }
}
