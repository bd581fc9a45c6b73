//! Typed custom resources that kgen emits.
//!
//! Core Kubernetes kinds come from `k8s-openapi`; the custom resources below are
//! mirrored by hand from the upstream CustomResourceDefinitions, restricted to the
//! fields kgen actually sets. Every struct denies unknown fields, skips unset
//! optional fields and uses `BTreeMap` so that serialisation is deterministic.
//!
//! | module | kinds | upstream schema |
//! |---|---|---|
//! | [`argocd`] | `Application`, `ApplicationSet`, `AppProject` | `argoproj.io/*_v1alpha1.json` |
//! | [`cert_manager`] | `ClusterIssuer` | `cert-manager.io/clusterissuer_v1.json` |
//! | [`external_secrets`] | `ExternalSecret`, `ClusterSecretStore` | `external-secrets.io/{externalsecret,clustersecretstore}_v1.json` |
//! | [`karpenter`] | `NodePool`, `EC2NodeClass` | `karpenter.sh/nodepool_v1.json`, `karpenter.k8s.aws/ec2nodeclass_v1.json` |
//! | [`monitoring`] | `ServiceMonitor`, `PrometheusRule` | `monitoring.coreos.com/*_v1.json` |
//! | [`secret_provider_class`] | `SecretProviderClass` | `secrets-store.csi.x-k8s.io/secretproviderclass_v1.json` |
//!
//! The upstream `openAPIV3Schema`s live in `shared/schemas/crds/` next to this
//! repository; [`crate::schema_dir::SchemaDir`] validates the serialised objects
//! against them in the conformance tests.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub mod argocd;
pub mod cert_manager;
pub mod external_secrets;
pub mod karpenter;
pub mod monitoring;
pub mod secret_provider_class;

/// The type information of a custom resource kind: what its `apiVersion` and
/// `kind` fields must say.
pub trait CustomResource {
    /// `group/version`, e.g. `argoproj.io/v1alpha1`.
    const API_VERSION: &'static str;
    /// The kind, e.g. `Application`.
    const KIND: &'static str;
}

/// `ObjectMeta` with only `name` and `namespace` set.
pub fn object_meta(name: impl Into<String>, namespace: impl Into<String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(namespace.into()),
        ..ObjectMeta::default()
    }
}

/// Implements [`CustomResource`] and the `new` / `named` constructors for a
/// top-level kind with fields `api_version`, `kind`, `metadata` and `spec`.
macro_rules! custom_resource {
    ($ty:ident, $spec:ty, $api_version:literal, $kind:literal) => {
        impl $crate::crd::CustomResource for $ty {
            const API_VERSION: &'static str = $api_version;
            const KIND: &'static str = $kind;
        }

        impl $ty {
            #[doc = concat!("A `", $kind, "` with the given metadata, with `apiVersion` and `kind` filled in.")]
            pub fn new(
                metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                spec: $spec,
            ) -> Self {
                Self {
                    api_version: $api_version.to_string(),
                    kind: $kind.to_string(),
                    metadata,
                    spec,
                }
            }

            #[doc = concat!("A `", $kind, "` named `name` in `namespace` (no other metadata), with `apiVersion` and `kind` filled in.")]
            pub fn named(name: impl Into<String>, namespace: impl Into<String>, spec: $spec) -> Self {
                Self::new($crate::crd::object_meta(name, namespace), spec)
            }
        }
    };
}
pub(crate) use custom_resource;

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers shared by the conformance tests of the CRD modules.
    use crate::schema_dir::upstream_schema_dir;
    use serde::{de::DeserializeOwned, Serialize};
    use std::fmt::Debug;

    /// Serialises `object`, checks the JSON round-trips to an equal value, and
    /// validates it against the upstream schema (when present).
    pub fn assert_conforms<T>(object: &T) -> serde_json::Value
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug,
    {
        let json = serde_json::to_value(object).expect("serialise");
        let back: T = serde_json::from_value(json.clone()).expect("deserialise own output");
        assert_eq!(&back, object, "round trip changed the object");
        if let Some(mut dir) = upstream_schema_dir() {
            if let Err(problems) = dir.validate(&json) {
                panic!(
                    "object does not conform to the upstream schema:\n  {}\nobject: {}",
                    problems.join("\n  "),
                    serde_json::to_string_pretty(&json).unwrap()
                );
            }
        }
        json
    }

    /// Validates a hand-modified JSON object and returns the problems (`None`,
    /// after the skip notice, when the schema directory is absent).
    pub fn problems(json: &serde_json::Value) -> Option<Vec<String>> {
        let mut dir = upstream_schema_dir()?;
        Some(dir.validate(json).err().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_meta_sets_name_and_namespace_only() {
        let meta = object_meta("main-api", "argocd");
        assert_eq!(meta.name.as_deref(), Some("main-api"));
        assert_eq!(meta.namespace.as_deref(), Some("argocd"));
        assert_eq!(
            serde_json::to_value(&meta).unwrap(),
            serde_json::json!({"name": "main-api", "namespace": "argocd"})
        );
    }
}
