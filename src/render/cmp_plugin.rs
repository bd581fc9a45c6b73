//! `generated/argocd/cmp/plugin.yaml`: the configuration of kgen's Argo CD config
//! management plugin, for the repo-server sidecar (see `deploy/argocd-cmp/` and
//! docs/argocd-cmp.md).
//!
//! A `ConfigManagementPlugin` looks like a Kubernetes object but is not one (Argo CD
//! removed its CRD in 2.8): it is a file the sidecar reads from
//! `/home/argocd/cmp-server/config/plugin.yaml`, usually mounted from a ConfigMap. It
//! belongs to no environment: it is written by every full render, and never by (nor
//! deleted by) `kgen render --env X` (whose scopes are `<env>` and `argocd/<env>`; `cmp`
//! is a reserved environment name). Its content depends only on kgen's version.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::cmp_params::{PLUGIN_NAME, PLUGIN_VERSION};

/// Path of the plugin configuration under `generated/`.
pub const PATH: &str = "argocd/cmp/plugin.yaml";
/// Where the sidecar expects the configuration.
pub const SIDECAR_CONFIG_PATH: &str = "/home/argocd/cmp-server/config/plugin.yaml";

/// Argo CD's plugin configuration file (`argoproj.io/v1alpha1`, `ConfigManagementPlugin`),
/// restricted to the fields kgen sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigManagementPlugin {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: PluginSpec,
}

impl crate::crd::CustomResource for ConfigManagementPlugin {
    const API_VERSION: &'static str = "argoproj.io/v1alpha1";
    const KIND: &'static str = "ConfigManagementPlugin";
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginSpec {
    /// With a version, Applications name the plugin `<metadata.name>-<version>`.
    pub version: String,
    /// Prints the manifests; runs in the Application's source directory.
    pub generate: PluginCommand,
    /// Whether an Application's source is a kgen platform. kgen writes none: every
    /// Application it generates names the plugin, and with no discovery rule Argo CD
    /// gives a named plugin its Applications without asking it first, and never
    /// sends it the sources of Applications that do not name it
    /// (util/app/discovery/discovery.go, `cmpSupports`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub discover: Option<Discover>,
    /// Parameters the UI offers.
    pub parameters: Parameters,
}

/// A command and its arguments, run without a shell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginCommand {
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Discover {
    /// A glob in the source directory (evaluated by Argo CD, before `find`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub find: Option<PluginCommand>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    /// Prints the parameter announcements as JSON.
    pub dynamic: PluginCommand,
}

fn kgen(args: &[&str]) -> PluginCommand {
    PluginCommand {
        command: std::iter::once(PLUGIN_NAME)
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect(),
        args: Vec::new(),
    }
}

/// The plugin configuration of this kgen version.
pub fn plugin() -> ConfigManagementPlugin {
    use crate::crd::CustomResource;
    ConfigManagementPlugin {
        api_version: ConfigManagementPlugin::API_VERSION.into(),
        kind: ConfigManagementPlugin::KIND.into(),
        metadata: ObjectMeta {
            name: Some(PLUGIN_NAME.into()),
            ..Default::default()
        },
        spec: PluginSpec {
            version: PLUGIN_VERSION.into(),
            generate: kgen(&["cmp", "generate"]),
            // With a rule, Argo CD would run it (streaming the whole repository to the
            // sidecar) for every Application without a source type, other teams'
            // included, and once more before each generation of kgen's own.
            discover: None,
            parameters: Parameters {
                dynamic: kgen(&["cmp", "parameters"]),
            },
        },
    }
}

/// The file at [`PATH`]: header and `plugin()`. It is added to the tree of a full
/// render by `compile`, after validation: it is a configuration file, not an object
/// a cluster sees, so the Kubernetes schema and policy checks do not apply.
pub fn file(inputs: &[String]) -> (String, String) {
    let value = serde_json::to_value(plugin()).expect("the plugin configuration serialises");
    // Read by the repo-server sidecar from its own file system, never applied to a
    // cluster (there is no such CRD): say so, for readers and `kgen validate`.
    let mut text = crate::emit::header(inputs);
    text.push_str(crate::emit::NOT_AN_OBJECT);
    text.push_str("the configuration of kgen's config management plugin, mounted into Argo CD's repo-server sidecar (deploy/argocd-cmp/).\n");
    crate::yaml::write_document(&value, &mut text);
    (PATH.to_string(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_yaml() {
        let (path, yaml) = file(&["platform.toml".to_string()]);
        assert_eq!(path, "argocd/cmp/plugin.yaml");
        let expected = format!(
            "# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
# Not a Kubernetes object: the configuration of kgen's config management plugin, mounted into Argo CD's repo-server sidecar (deploy/argocd-cmp/).
apiVersion: argoproj.io/v1alpha1
kind: ConfigManagementPlugin
metadata:
  name: kgen
spec:
  generate:
    command:
    - kgen
    - cmp
    - generate
  parameters:
    dynamic:
      command:
      - kgen
      - cmp
      - parameters
  version: \"{}\"
",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(yaml, expected);
        let back: ConfigManagementPlugin =
            serde_json::from_value(serde_json::to_value(plugin()).unwrap()).unwrap();
        assert_eq!(back, plugin());
    }
}
