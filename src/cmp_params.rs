//! The contract between kgen and Argo CD's config management plugin server: the
//! variable names an Application sets, the parameters Argo CD passes in
//! `ARGOCD_APP_PARAMETERS`, and the parameter announcements kgen prints for the UI.
//!
//! Argo CD prefixes every variable of an Application's `spec.source.plugin.env` with
//! `ARGOCD_ENV_` before running a plugin command (users cannot set other variables),
//! and drops entries whose value is empty. Parameters set in
//! `spec.source.plugin.parameters` arrive as one JSON array:
//! `[{"name": "env", "string": "dev"}, {"name": "files", "array": ["a"]}, {"name": "m", "map": {"k": "v"}}]`.
//! Announcements (the output of `parameters.dynamic.command`) are a JSON array of
//! `{name, title, tooltip, required, itemType, collectionType, string, array, map}`.
//! Both formats are documented in Argo CD's "Config Management Plugins" page.

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

/// One entry of `ARGOCD_APP_PARAMETERS`. Only one of the values is set.
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

/// Parses `ARGOCD_APP_PARAMETERS`. An empty value means no parameters.
pub fn parse_parameters(json: &str) -> Result<Vec<Parameter>, String> {
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(json).map_err(|e| {
        format!(
            "{PARAMETERS_VAR} is not the JSON Argo CD sends (a list of {{\"name\": ..., \"string\": ...}}): {e}"
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
        assert!(parse_parameters("{").unwrap_err().contains(PARAMETERS_VAR));
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
