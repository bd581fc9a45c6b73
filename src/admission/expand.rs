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
    applications_into(appset, |app| app)
}

/// [`applications`], each Application given to `keep` as it is made and only what
/// `keep` returns kept (an environment's ApplicationSet makes one per service: the
/// checks keep a few fields of each, not all of them whole at once).
pub fn applications_into<T>(
    appset: &Value,
    mut keep: impl FnMut(Value) -> T,
) -> Result<Vec<T>, String> {
    let spec = &appset["spec"];
    if spec.get("goTemplate").and_then(Value::as_bool) != Some(true) {
        return Err("kgen expands only goTemplate ApplicationSets".into());
    }
    let template = &spec["template"];
    let (metadata, template_spec) = (Part::of(&template["metadata"]), Part::of(&template["spec"]));
    let mut out = Vec::new();
    for generator in spec["generators"].as_array().into_iter().flatten() {
        let Some(list) = generator.get("list") else {
            return Err("kgen expands only list generators".into());
        };
        for element in list["elements"].as_array().into_iter().flatten() {
            let Some(params) = element.as_object() else {
                return Err("a list element is not an object".into());
            };
            let metadata = metadata.render(params)?;
            let spec = template_spec.render(params)?;
            // Taken, not cloned: the rendered metadata is this Application's own.
            let mut meta = match metadata {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            meta.insert("namespace".into(), appset["metadata"]["namespace"].clone());
            let mut app = Map::new();
            app.insert("apiVersion".into(), "argoproj.io/v1alpha1".into());
            app.insert("kind".into(), "Application".into());
            app.insert("metadata".into(), Value::Object(meta));
            app.insert("spec".into(), spec);
            out.push(keep(Value::Object(app)));
        }
    }
    Ok(out)
}

/// A part of the template, with what holds no action marked once for all the
/// elements (an environment's ApplicationSet has one per service): such a part
/// renders to itself, so it is copied rather than rendered string by string.
enum Part<'t> {
    Fixed(&'t Value),
    Str(&'t str),
    Array(Vec<Part<'t>>),
    Object(Vec<(&'t str, Part<'t>)>),
}

impl<'t> Part<'t> {
    fn of(value: &'t Value) -> Self {
        if !has_action(value) {
            return Part::Fixed(value);
        }
        match value {
            Value::String(s) => Part::Str(s),
            Value::Array(items) => Part::Array(items.iter().map(Part::of).collect()),
            Value::Object(map) => {
                Part::Object(map.iter().map(|(k, v)| (k.as_str(), Part::of(v))).collect())
            }
            other => Part::Fixed(other),
        }
    }

    /// What [`render`] makes of the part's value: the same value, and the same first
    /// error, in the same order of keys and values.
    fn render(&self, params: &Map<String, Value>) -> Result<Value, String> {
        Ok(match self {
            Part::Fixed(v) => (*v).clone(),
            Part::Str(s) => Value::String(render_str(s, params)?),
            Part::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|p| p.render(params))
                    .collect::<Result<_, _>>()?,
            ),
            Part::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, p)| Ok((render_str(k, params)?, p.render(params)?)))
                    .collect::<Result<Map<_, _>, String>>()?,
            ),
        })
    }
}

/// Whether a string of `value` (a map key included) has a `{{`: only then can
/// rendering change it, or fail.
fn has_action(value: &Value) -> bool {
    match value {
        Value::String(s) => find_pair(s, b'{').is_some(),
        Value::Array(items) => items.iter().any(has_action),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| find_pair(k, b'{').is_some() || has_action(v)),
        _ => false,
    }
}

/// `value` with every `{{.key}}` replaced by the element's value for `key`.
#[cfg(test)]
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
    fn a_prepared_template_renders_as_the_template_does() {
        let template = json!({
            "fixed": {"a": [1, true, null, "x"], "b": {"c": "d"}},
            "mixed": ["plain", "{{.service}}", {"{{.namespace}}": "v", "k": "{{.n}}-{{.b}}"}],
            "bad": "{{ .missing }}",
            "later": "{{ printf }}",
            "unclosed": "a {{.service",
        });
        let params = |pairs: serde_json::Value| pairs.as_object().unwrap().clone();
        for p in [
            params(
                json!({"service": "api", "namespace": "ns", "n": 3, "b": false, "missing": "m"}),
            ),
            params(json!({"service": "api", "namespace": "ns", "n": 3, "b": false})),
            params(json!({"service": ["not", "a", "scalar"], "namespace": "ns"})),
            params(json!({})),
        ] {
            for part in [
                &template,
                &template["fixed"],
                &template["mixed"],
                &template["bad"],
                &template["later"],
                &template["unclosed"],
            ] {
                assert_eq!(
                    Part::of(part).render(&p),
                    render(part, &p),
                    "{part} with {p:?}"
                );
            }
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
