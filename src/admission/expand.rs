//! The Applications an ApplicationSet makes, computed the way the ApplicationSet
//! controller computes them for the generators and templates kgen writes.
//!
//! Follows Argo CD v3.6 `applicationset/generators/list.go` (`GenerateParams`: each
//! list element is one parameter set) and `applicationset/utils/utils.go`
//! (`RenderTemplateParams`: every string of the template, map keys included, is
//! rendered with the parameters). With `goTemplate: true` and `missingkey=error` a
//! reference to a key the element lacks fails the whole ApplicationSet. Only the
//! template actions kgen writes, `{{.key}}`, are supported; anything else is reported
//! as unsupported rather than guessed at. The generated Application's namespace is
//! the ApplicationSet's (`template.go`), and its finalizers are the template's.

use serde_json::{Map, Value};

/// Expands an ApplicationSet object into Application objects, in element order.
pub fn applications(appset: &Value) -> Result<Vec<Value>, String> {
    let spec = &appset["spec"];
    if spec.get("goTemplate").and_then(Value::as_bool) != Some(true) {
        return Err("kgen expands only goTemplate ApplicationSets".into());
    }
    let template = &spec["template"];
    let mut out = Vec::new();
    for generator in spec["generators"].as_array().into_iter().flatten() {
        let Some(list) = generator.get("list") else {
            return Err("kgen expands only list generators".into());
        };
        for element in list["elements"].as_array().into_iter().flatten() {
            let Some(params) = element.as_object() else {
                return Err("a list element is not an object".into());
            };
            let metadata = render(&template["metadata"], params)?;
            let spec = render(&template["spec"], params)?;
            let mut meta = metadata.as_object().cloned().unwrap_or_default();
            meta.insert("namespace".into(), appset["metadata"]["namespace"].clone());
            let mut app = Map::new();
            app.insert("apiVersion".into(), "argoproj.io/v1alpha1".into());
            app.insert("kind".into(), "Application".into());
            app.insert("metadata".into(), Value::Object(meta));
            app.insert("spec".into(), spec);
            out.push(Value::Object(app));
        }
    }
    Ok(out)
}

/// `value` with every `{{.key}}` replaced by the element's value for `key`.
fn render(value: &Value, params: &Map<String, Value>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(render_str(s, params)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render(v, params))
                .collect::<Result<_, _>>()?,
        ),
        // Collected rather than inserted one by one: the map is built from the
        // sorted entries at once (a later duplicate key wins, as with `insert`).
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((render_str(k, params)?, render(v, params)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
        other => other.clone(),
    })
}

fn render_str(s: &str, params: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = find_pair(rest, b'{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end =
            find_pair(after, b'}').ok_or_else(|| format!("unclosed template action in `{s}`"))?;
        let action = after[..end].trim();
        let key = action
            .strip_prefix('.')
            .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .ok_or_else(|| format!("unsupported template action `{{{{{action}}}}}` in `{s}`"))?;
        match params.get(key) {
            Some(Value::String(v)) => out.push_str(v),
            Some(Value::Bool(b)) => out.push_str(&b.to_string()),
            Some(Value::Number(n)) => out.push_str(&n.to_string()),
            Some(_) => return Err(format!("parameter `{key}` is not a scalar")),
            // missingkey=error
            None => return Err(format!("map has no entry for key \"{key}\" (in `{s}`)")),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Where `{{` (or `}}`) first occurs in `s`: `str::find` with a two-byte pattern
/// sets up a substring searcher for every one of the template's strings, most of which
/// hold no action at all.
fn find_pair(s: &str, b: u8) -> Option<usize> {
    s.as_bytes().windows(2).position(|w| w[0] == b && w[1] == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_fill_the_template() {
        let set = json!({
            "metadata": {"name": "dev", "namespace": "argocd"},
            "spec": {
                "goTemplate": true,
                "generators": [{"list": {"elements": [
                    {"service": "api", "namespace": "api-ns"},
                    {"service": "web", "namespace": "web-ns"},
                ]}}],
                "template": {
                    "metadata": {"name": "dev-{{.service}}", "labels": {"app": "{{ .service }}"}},
                    "spec": {"destination": {"namespace": "{{.namespace}}"}, "project": "dev"},
                },
            },
        });
        let apps = applications(&set).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[1]["metadata"]["name"], "dev-web");
        assert_eq!(apps[1]["metadata"]["namespace"], "argocd");
        assert_eq!(apps[1]["metadata"]["labels"]["app"], "web");
        assert_eq!(apps[0]["spec"]["destination"]["namespace"], "api-ns");
    }

    #[test]
    fn pairs_are_found_as_str_find_finds_them() {
        for s in [
            "",
            "{",
            "{{",
            "a{{",
            "a{b{{c",
            "}}{{",
            "x}}",
            "{{.a}}{{.b}}",
            "é{{ü",
            "{{{",
        ] {
            assert_eq!(find_pair(s, b'{'), s.find("{{"), "{s:?}");
            assert_eq!(find_pair(s, b'}'), s.find("}}"), "{s:?}");
        }
    }

    #[test]
    fn a_missing_key_is_an_error() {
        let params = Map::new();
        let e = render_str("x-{{.service}}", &params).unwrap_err();
        assert!(e.contains("no entry for key \"service\""), "{e}");
        assert!(render_str("{{ printf \"%s\" .x }}", &params).is_err());
    }
}
