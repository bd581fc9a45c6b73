//! The contract between kgen and Argo CD's config management plugin server: the
//! variable names an Application sets, the parameters Argo CD passes in
//! `ARGOCD_APP_PARAMETERS` and `PARAM_<NAME>`, and the parameter announcements kgen
//! prints for the UI.
//!
//! What Argo CD's source does (read at argoproj/argo-cd, see docs/argocd-cmp.md for the
//! whole environment):
//!
//! - Every entry of an Application's `spec.source.plugin.env` reaches the plugin as
//!   `ARGOCD_ENV_<name>`, its value with `$VAR` references to the build variables
//!   expanded (reposerver/repository/repository.go, `getPluginParamEnvs`). Entries with
//!   an empty value are passed on, empty (the plugin server's `environ`, in
//!   cmpserver/plugin/plugin.go, drops only entries without a name).
//! - The Application's `spec.source.plugin.parameters` reach it twice
//!   (pkg/apis/application/v1alpha1/types.go, `ApplicationSourcePluginParameters.Environ`):
//!   as one JSON array in `ARGOCD_APP_PARAMETERS`, written by Go's `json.Marshal`
//!   (`[{"name":"env","string":"dev"},{"array":["a"],"name":"files"},{"map":{"k":"v"},"name":"m"}]`;
//!   `null` when the Application has no parameters, which is every Application kgen's
//!   ApplicationSets make), and as one variable per value: `PARAM_<NAME>` for a string,
//!   `PARAM_<NAME>_<INDEX>` for each item of an array, `PARAM_<NAME>_<KEY>` for each
//!   entry of a map, names escaped by [`param_var`].
//!
//! Announcements (the output of `parameters.dynamic.command`) are a JSON array of
//! `{name, title, tooltip, required, itemType, collectionType, string, array, map}`
//! (cmpserver/plugin/plugin.go, `getParametersAnnouncement`, unmarshals them into
//! `ParameterAnnouncement`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The plugin's name (`metadata.name` of its ConfigManagementPlugin).
pub const PLUGIN_NAME: &str = "kgen";
/// The plugin's version (`spec.version`): kgen's own version.
pub const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The platform file the plugin reads from the source directory unless `KGEN_PLATFORM` names another.
pub const PLATFORM_FILE: &str = "platform.toml";

/// Prefix Argo CD puts before every variable of `spec.source.plugin.env`.
pub const ARGOCD_ENV_PREFIX: &str = "ARGOCD_ENV_";
/// Variable naming the environment, as written in an Application (`KGEN_ENV`).
pub const ENV_VAR: &str = "KGEN_ENV";
/// Variable naming the service, as written in an Application (`KGEN_SERVICE`).
pub const SERVICE_VAR: &str = "KGEN_SERVICE";
/// Variable naming the platform file relative to the source directory (`KGEN_PLATFORM`).
pub const PLATFORM_VAR: &str = "KGEN_PLATFORM";
/// Where Argo CD puts the Application's plugin parameters, as JSON.
pub const PARAMETERS_VAR: &str = "ARGOCD_APP_PARAMETERS";
/// Prefix of the variable Argo CD sets for each plugin parameter value.
pub const PARAM_VAR_PREFIX: &str = "PARAM_";

/// Parameter naming the environment.
pub const ENV_PARAM: &str = "env";
/// Parameter naming the service.
pub const SERVICE_PARAM: &str = "service";
/// Informational parameters kgen announces (lists for the UI); ignored when set.
pub const INFO_PARAMS: [&str; 2] = ["environments", "services"];

/// The name an Application gives in `spec.source.plugin.name`. Argo CD registers a
/// plugin whose `spec.version` is set as `<metadata.name>-<spec.version>`, so this
/// name also pins the kgen version that renders the application.
pub fn application_plugin_name() -> String {
    format!("{PLUGIN_NAME}-{PLUGIN_VERSION}")
}

/// The name a plugin sees for an Application's `spec.source.plugin.env` entry `var`.
pub fn argocd_env(var: &str) -> String {
    format!("{ARGOCD_ENV_PREFIX}{var}")
}

/// The variable Argo CD sets for the string parameter `name`: `PARAM_` and the name
/// upper-cased, every character other than `A-Z`, `0-9` and `_` then replaced by `_`
/// (`env` → `PARAM_ENV`, `helm-parameters` → `PARAM_HELM_PARAMETERS`), as
/// `ApplicationSourcePluginParameters.Environ` and its helper `escaped` do in
/// pkg/apis/application/v1alpha1/types.go. Go's `strings.ToUpper` maps each character
/// to one character (simple case mapping): a character whose upper case is several
/// (`ß`) stays itself, and so becomes `_`.
pub fn param_var(name: &str) -> String {
    let escaped: String = name
        .chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            let u = match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            };
            match u {
                'A'..='Z' | '0'..='9' | '_' => u,
                _ => '_',
            }
        })
        .collect();
    format!("{PARAM_VAR_PREFIX}{escaped}")
}

/// One entry of `ARGOCD_APP_PARAMETERS`. Argo CD allows several of the values at
/// once; kgen's own parameters are strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Parameter {
    pub name: String,
    #[serde(default)]
    pub string: Option<String>,
    #[serde(default)]
    pub array: Option<Vec<String>>,
    #[serde(default)]
    pub map: Option<BTreeMap<String, String>>,
}

/// Parses `ARGOCD_APP_PARAMETERS`. `null` (what Argo CD sends for an Application
/// without parameters: Go's `json.Marshal` of a nil slice), `[]` and an empty value
/// all mean no parameters.
pub fn parse_parameters(json: &str) -> Result<Vec<Parameter>, String> {
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    // Syntax first (its errors have a position), then the shape.
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(serde_json::from_value::<Option<Vec<Parameter>>>)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            format!(
                "{PARAMETERS_VAR} is not the JSON Argo CD sends (a list of {{\"name\": ..., \"string\": ...}}, or null): {e}"
            )
        })
}

/// A parameter announcement, as `parameters.dynamic.command` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tooltip: String,
    pub required: bool,
    pub item_type: &'static str,
    pub collection_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub array: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<BTreeMap<String, String>>,
}

impl Announcement {
    /// A `string` parameter; `value` is what the plugin will use when it is not set.
    pub fn string(name: &str, title: &str, tooltip: String, value: Option<String>) -> Self {
        Announcement {
            name: name.to_string(),
            title: title.to_string(),
            tooltip,
            required: true,
            item_type: "string",
            collection_type: "string",
            string: value,
            ..Default::default()
        }
    }

    /// An `array` parameter listing `items` (for reference in the UI).
    pub fn list(name: &str, title: &str, tooltip: String, items: Vec<String>) -> Self {
        Announcement {
            name: name.to_string(),
            title: title.to_string(),
            tooltip,
            required: false,
            item_type: "string",
            collection_type: "array",
            array: Some(items),
            ..Default::default()
        }
    }
}

/// The announcements as the JSON Argo CD reads (one line, newline-terminated).
pub fn announcements_json(list: &[Announcement]) -> String {
    let mut s = serde_json::to_string(list).expect("announcements serialise");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_argocd_parameters() {
        let p = parse_parameters(
            r#"[{"name": "env", "string": "dev"}, {"name": "values-files", "array": ["a.yaml"]}, {"name": "m", "map": {"image.tag": "v1"}}]"#,
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].name, "env");
        assert_eq!(p[0].string.as_deref(), Some("dev"));
        assert_eq!(p[1].array.as_deref(), Some(&["a.yaml".to_string()][..]));
        assert_eq!(p[2].map.as_ref().unwrap()["image.tag"], "v1");
        assert!(parse_parameters("").unwrap().is_empty());
        // What Argo CD sends for an Application without parameters (issue 14).
        assert_eq!(parse_parameters("null"), Ok(Vec::new()));
        assert_eq!(parse_parameters("[]"), Ok(Vec::new()));
        // Go's json.Marshal writes a parameter's keys sorted, and `[]`/`{}` for a
        // present but empty array or map.
        let p = parse_parameters(r#"[{"array":[],"map":{},"name":"x","string":""}]"#).unwrap();
        assert_eq!(
            p,
            [Parameter {
                name: "x".into(),
                string: Some(String::new()),
                array: Some(Vec::new()),
                map: Some(BTreeMap::new()),
            }]
        );
        assert_eq!(
            parse_parameters("[{\"name\":").unwrap_err(),
            "ARGOCD_APP_PARAMETERS is not the JSON Argo CD sends (a list of {\"name\": ..., \"string\": ...}, or null): EOF while parsing a value at line 1 column 9"
        );
        assert_eq!(
            parse_parameters(r#"{"name":"env"}"#).unwrap_err(),
            "ARGOCD_APP_PARAMETERS is not the JSON Argo CD sends (a list of {\"name\": ..., \"string\": ...}, or null): invalid type: map, expected a sequence"
        );
    }

    #[test]
    fn param_vars_are_named_as_argocd_escapes_them() {
        // The cases of Argo CD's own tests (TestApplicationSourcePluginParameters_Environ_*
        // in pkg/apis/application/v1alpha1/types_test.go), and kgen's two parameters.
        assert_eq!(param_var("version"), "PARAM_VERSION");
        assert_eq!(param_var("helm-parameters"), "PARAM_HELM_PARAMETERS");
        assert_eq!(param_var("some-name"), "PARAM_SOME_NAME");
        assert_eq!(param_var("image.repo"), "PARAM_IMAGE_REPO");
        assert_eq!(param_var(ENV_PARAM), "PARAM_ENV");
        assert_eq!(param_var(SERVICE_PARAM), "PARAM_SERVICE");
        assert_eq!(param_var("Mixed_case9"), "PARAM_MIXED_CASE9");
        // One `_` per character, as Go's regexp replaces one rune at a time; `ı` and
        // `ſ` have ASCII upper cases, `ß` has no one-character upper case.
        assert_eq!(param_var("a b/ß"), "PARAM_A_B__");
        assert_eq!(param_var("ıſé"), "PARAM_IS_");
    }

    #[test]
    fn announcement_json_has_argocd_field_names() {
        let json = announcements_json(&[
            Announcement::string(
                "env",
                "Environment",
                "one of: dev".into(),
                Some("dev".into()),
            ),
            Announcement::list("services", "Services", String::new(), vec!["api".into()]),
        ]);
        assert_eq!(
            json,
            r#"[{"name":"env","title":"Environment","tooltip":"one of: dev","required":true,"itemType":"string","collectionType":"string","string":"dev"},{"name":"services","title":"Services","required":false,"itemType":"string","collectionType":"array","array":["api"]}]"#
                .to_string()
                + "\n"
        );
    }

    #[test]
    fn plugin_name_carries_the_version() {
        assert_eq!(
            application_plugin_name(),
            format!("kgen-{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(argocd_env(ENV_VAR), "ARGOCD_ENV_KGEN_ENV");
    }
}
