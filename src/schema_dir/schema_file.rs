//! What a schema file of a schema directory holds: the `openAPIV3Schema` of one CRD
//! version (kubeconform's layout), or the whole CustomResourceDefinition, as
//! `kubectl get crd <plural>.<group> -o json` prints it, from which the schema of the
//! file's version is taken. A schema that declares no field (`{}`, `true`, a bare
//! `{"type": "object"}`) would accept every object: it is refused, since it would
//! silently turn off the check that a kind without a schema needs a written reason
//! (`[manifests] unchecked_kinds`).

use std::path::Path;

use serde_json::Value;

/// Why a schema file cannot be used, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub message: String,
    pub help: Option<String>,
}

impl SchemaError {
    pub fn new(message: impl Into<String>) -> SchemaError {
        SchemaError {
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> SchemaError {
        self.help = Some(help.into());
        self
    }
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The schema of `api_version` `kind` in the parsed file `upstream` (at `path`).
pub fn schema_of(
    upstream: Value,
    path: &Path,
    api_version: &str,
    kind: &str,
) -> Result<Value, SchemaError> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let schema = if is_crd(&upstream) {
        crd_version_schema(upstream, path, group, version, kind)?
    } else {
        upstream
    };
    if declares_nothing(&schema) {
        return Err(SchemaError::new(format!(
            "schema {} accepts every object: it declares no fields (no `properties`), so nothing of {api_version} {kind} would be checked",
            path.display()
        ))
        .help(format!(
            "write the CRD's schema there: the whole CRD (`kubectl get crd <plural>.{group} -o json`), or its version's openAPIV3Schema (`... | jq '.spec.versions[] | select(.name==\"{version}\") | .schema.openAPIV3Schema'`); to use the kind without a schema, remove the file and give a reason in `[manifests] unchecked_kinds`"
        )));
    }
    Ok(schema)
}

fn is_crd(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("apiextensions.k8s.io/"))
}

/// The `openAPIV3Schema` of `version` of a CRD: `spec.versions[].schema` (v1), else
/// the schema shared by every version, `spec.validation` (v1beta1), as the API
/// server reads them (apiextensions-apiserver, `CustomResourceDefinitionVersion` and
/// `CustomResourceValidation`).
fn crd_version_schema(
    mut crd: Value,
    path: &Path,
    group: &str,
    version: &str,
    kind: &str,
) -> Result<Value, SchemaError> {
    let spec = crd.get_mut("spec").map(Value::take).unwrap_or_default();
    let crd_group = spec.get("group").and_then(Value::as_str).unwrap_or("");
    let crd_kind = spec
        .get("names")
        .and_then(|n| n.get("kind"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if crd_group != group || crd_kind != kind {
        return Err(SchemaError::new(format!(
            "schema {} is the CustomResourceDefinition of {crd_kind} ({crd_group}), not of {kind} ({group})",
            path.display()
        ))
        .help(format!(
            "save each CRD as {{group}}/{{kind-lowercase}}_{{version}}.json: this one as {crd_group}/{}_<version>.json",
            crd_kind.to_lowercase()
        )));
    }
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let named: Vec<&str> = versions
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    let served =
        named.contains(&version) || spec.get("version").and_then(Value::as_str) == Some(version);
    let own = versions
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(version))
        .and_then(|v| v.get("schema"))
        .and_then(|s| s.get("openAPIV3Schema"));
    let shared = spec
        .get("validation")
        .and_then(|s| s.get("openAPIV3Schema"));
    match (served, own.or(shared)) {
        (true, Some(schema)) => Ok(schema.clone()),
        (true, None) => Err(SchemaError::new(format!(
            "schema {} is the CustomResourceDefinition of {kind} ({group}), whose version {version} has no openAPIV3Schema",
            path.display()
        ))
        .help("a CRD version without a schema checks nothing: remove the file and allow the kind without a schema, with a reason, in `[manifests] unchecked_kinds`")),
        (false, _) => Err(SchemaError::new(format!(
            "schema {} is the CustomResourceDefinition of {kind} ({group}), which has no version {version} (it has {})",
            path.display(),
            if named.is_empty() { "none".to_string() } else { named.join(", ") }
        ))
        .help("write an apiVersion the CRD serves, or save the CRD of the version the objects use")),
    }
}

/// A schema that declares no field of the object: it accepts any object, unknown
/// fields included. A root that keeps unknown fields on purpose
/// (`x-kubernetes-preserve-unknown-fields: true`) is the CRD's author's choice.
fn declares_nothing(schema: &Value) -> bool {
    match schema {
        Value::Bool(b) => *b,
        Value::Object(m) => {
            !m.contains_key("properties")
                && m.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(versions: Value) -> Value {
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"},
                "scope": "Namespaced", "versions": versions}})
    }

    #[test]
    fn a_whole_crd_gives_its_versions_schema() {
        let v1 = json!({"type": "object", "properties": {"spec": {"type": "object"}}});
        let file = crd(json!([
            {"name": "v1alpha1", "served": true, "storage": false, "schema": {"openAPIV3Schema": {"type": "object", "properties": {}}}},
            {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": v1}}
        ]));
        let p = Path::new("s/example.com/widget_v1.json");
        assert_eq!(
            schema_of(file.clone(), p, "example.com/v1", "Widget"),
            Ok(v1)
        );
        assert_eq!(
            schema_of(file.clone(), p, "example.com/v2", "Widget").unwrap_err().message,
            "schema s/example.com/widget_v1.json is the CustomResourceDefinition of Widget (example.com), which has no version v2 (it has v1alpha1, v1)"
        );
        assert_eq!(
            schema_of(file, p, "example.com/v1", "Gadget").unwrap_err().message,
            "schema s/example.com/widget_v1.json is the CustomResourceDefinition of Widget (example.com), not of Gadget (example.com)"
        );
    }

    #[test]
    fn a_schema_that_declares_nothing_is_refused() {
        let p = Path::new("s/example.com/widget_v1.json");
        for s in [json!({}), json!(true), json!({"type": "object"})] {
            let e = schema_of(s.clone(), p, "example.com/v1", "Widget").unwrap_err();
            assert_eq!(e.message, "schema s/example.com/widget_v1.json accepts every object: it declares no fields (no `properties`), so nothing of example.com/v1 Widget would be checked", "{s}");
        }
        let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        assert_eq!(
            schema_of(open.clone(), p, "example.com/v1", "Widget"),
            Ok(open)
        );
    }
}
