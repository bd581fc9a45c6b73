//! stub
pub mod secret_provider_class {
    use std::collections::BTreeMap;
    #[derive(Debug, Default, serde::Serialize)]
    pub struct SecretProviderClassSpec {
        pub provider: String,
        pub parameters: BTreeMap<String, String>,
    }
    #[derive(Debug, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SecretProviderClass {
        pub api_version: String,
        pub kind: String,
        pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        pub spec: SecretProviderClassSpec,
    }
    impl SecretProviderClass {
        pub fn new(
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
            spec: SecretProviderClassSpec,
        ) -> Self {
            Self {
                api_version: "secrets-store.csi.x-k8s.io/v1".into(),
                kind: "SecretProviderClass".into(),
                metadata,
                spec,
            }
        }
    }
}
