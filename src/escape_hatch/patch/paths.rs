//! Paths into patches and objects: JSON pointers (their escaped tokens, the value at
//! one, one as a rendered field path), and the span of a path in a TOML or YAML body.

use std::ops::Range;

use serde_json::Value;

use super::Seg;
use crate::validate::FieldPath;
/// A path into a YAML document, as `locate` reads it.
pub(super) fn yaml_path(segs: &[Seg]) -> String {
    segs.iter()
        .fold(FieldPath::root(), |p, s| match s {
            Seg::Key(k) => p.key(k),
            Seg::Index(i) => p.index(*i),
        })
        .as_str()
        .to_string()
}

pub(super) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The value at a JSON pointer.
pub(super) fn pointer<'a>(v: &'a Value, p: &str) -> Option<&'a Value> {
    v.pointer(p)
}

/// A JSON pointer as a rendered field path of `object` (`spec.template.spec.containers[0].env`).
pub fn field_of(pointer: &str, object: &Value) -> String {
    let mut path = FieldPath::root();
    let mut cur = Some(object);
    for token in pointer.split('/').skip(1) {
        let token = unescape(token);
        match cur {
            Some(Value::Array(items)) => {
                let i = if token == "-" {
                    items.len().saturating_sub(1)
                } else {
                    token.parse().unwrap_or(0)
                };
                path = path.index(i);
                cur = items.get(i);
            }
            _ => {
                cur = cur.and_then(|c| c.get(&token));
                path = path.key(&token);
            }
        }
    }
    path.as_str().to_string()
}

/// The span of the deepest part of `path` found in a TOML text: a key's span, or an
/// array element's (a JSON Patch operation's `path` and `from`: their values).
pub fn toml_span(text: &str, path: &[Seg]) -> Option<Range<usize>> {
    toml_span_at(text, path, false)
}

/// Like [`toml_span`]; with `value`, the span of the last key's value.
pub(super) fn toml_span_at(text: &str, path: &[Seg], value: bool) -> Option<Range<usize>> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut best: Option<Range<usize>> = None;
    let mut table: Option<&toml::de::DeTable<'_>> = Some(doc.get_ref());
    let mut array: Option<&[toml::Spanned<toml::de::DeValue<'_>>]> = None;
    for (n, seg) in path.iter().enumerate() {
        let last = n + 1 == path.len();
        let item = match seg {
            Seg::Key(k) => {
                let (key, item) = table?
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())?;
                let value_wanted = last && (value || k == "path" || k == "from");
                best = Some(if value_wanted {
                    item.span()
                } else {
                    key.span()
                });
                item
            }
            Seg::Index(i) => {
                let item = array?.get(*i)?;
                best = Some(item.span());
                item
            }
        };
        table = None;
        array = None;
        match item.get_ref() {
            toml::de::DeValue::Table(t) => table = Some(t),
            toml::de::DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_pointers() {
        let v = serde_json::json!({"spec": {"containers": [{"env": [{"name": "A"}]}]}, "metadata": {"annotations": {"a/b": "x"}}});
        assert_eq!(
            field_of("/spec/containers/0/env/-", &v),
            "spec.containers[0].env[0]"
        );
        assert_eq!(
            field_of("/metadata/annotations/a~1b", &v),
            "metadata.annotations[\"a/b\"]"
        );
    }

    #[test]
    fn toml_spans() {
        let text = "[services.api.patches.waf]\nkind = \"Ingress\"\nmerge = { metadata = { annotations = { x = \"1\" } } }\njson = [{ op = \"add\", path = \"/a\" }]\n";
        let keys = |s: &[&str]| {
            s.iter()
                .map(|k| Seg::Key(k.to_string()))
                .collect::<Vec<_>>()
        };
        let mut p = keys(&[
            "services",
            "api",
            "patches",
            "waf",
            "merge",
            "metadata",
            "annotations",
            "x",
        ]);
        let r = toml_span(text, &p).unwrap();
        assert_eq!(&text[r], "x");
        p = keys(&["services", "api", "patches", "waf", "json"]);
        p.push(Seg::Index(0));
        p.push(Seg::Key("path".into()));
        let r = toml_span(text, &p).unwrap();
        assert_eq!(&text[r], "\"/a\"");
    }
}
