//! The differences inside one changed resource: the paths of the fields that differ
//! (`spec.template.spec.containers[main-api].image`) and the unified diff of both
//! values' deterministic YAML (`yaml::to_string`, 3 lines of context).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Lines of context around each change in a unified diff.
pub const CONTEXT_LINES: usize = 3;

/// The unified diff (3 lines of context) of two values' deterministic YAML.
pub fn unified_diff(base: &Value, head: &Value, base_name: &str, head_name: &str) -> String {
    let old = crate::yaml::to_string(base);
    let new = crate::yaml::to_string(head);
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(base_name, head_name)
        .to_string()
}

/// The keys of two objects whose values differ (a missing key and `null` being equal),
/// each after `prefix` (`spec.` gives `spec.replicas`), sorted; `keep` filters the keys.
pub(crate) fn differing_keys(
    b: &Value,
    h: &Value,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let keys: BTreeSet<&String> = [b, h]
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|m| m.keys())
        .filter(|k| keep(k))
        .collect();
    keys.into_iter()
        .filter(|k| b[k.as_str()] != h[k.as_str()])
        .map(|k| format!("{prefix}{k}"))
        .collect()
}

/// Collects the paths of the fields that differ. Lists of objects that all have a
/// `name` are matched by name (`containers[web]`), other lists by index.
pub(super) fn field_diff(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    walk(a, b, path, &mut |p, _, _| out.push(path_or_root(p)));
}

/// The fields that differ with their values at the base and the head (`null` where
/// missing), for the same paths as `field_diff`, sorted by path.
pub(super) fn field_changes(a: &Value, b: &Value) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    walk(a, b, &mut String::new(), &mut |p, x, y| {
        out.push((path_or_root(p), x.clone(), y.clone()))
    });
    out.sort_by(|x, y| x.0.cmp(&y.0));
    out
}

/// Calls `out` with the path and both values of each differing field.
fn walk(a: &Value, b: &Value, path: &mut String, out: &mut dyn FnMut(&str, &Value, &Value)) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let len = path.len();
                push_key(path, k);
                walk(
                    x.get(k.as_str()).unwrap_or(&Value::Null),
                    y.get(k.as_str()).unwrap_or(&Value::Null),
                    path,
                    out,
                );
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            let named = |v: &Vec<Value>| v.iter().all(|i| i["name"].is_string());
            if named(x) && named(y) && !(x.is_empty() && y.is_empty()) {
                let by_name = |v: &'_ Vec<Value>| -> BTreeMap<String, Value> {
                    v.iter()
                        .map(|i| (i["name"].as_str().unwrap_or("").to_string(), i.clone()))
                        .collect()
                };
                let (mx, my) = (by_name(x), by_name(y));
                let order_x: Vec<&str> = x.iter().filter_map(|i| i["name"].as_str()).collect();
                let order_y: Vec<&str> = y.iter().filter_map(|i| i["name"].as_str()).collect();
                let names: BTreeSet<&String> = mx.keys().chain(my.keys()).collect();
                for n in names {
                    let len = path.len();
                    path.push('[');
                    path.push_str(n);
                    path.push(']');
                    walk(
                        mx.get(n).unwrap_or(&Value::Null),
                        my.get(n).unwrap_or(&Value::Null),
                        path,
                        out,
                    );
                    path.truncate(len);
                }
                // Same items, another order: the list itself changed.
                let same_set: BTreeSet<&str> = order_x.iter().copied().collect();
                if mx == my && order_x != order_y && same_set.len() == order_x.len() {
                    out(path, a, b);
                }
            } else {
                for i in 0..x.len().max(y.len()) {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(
                        x.get(i).unwrap_or(&Value::Null),
                        y.get(i).unwrap_or(&Value::Null),
                        path,
                        out,
                    );
                    path.truncate(len);
                }
            }
        }
        _ => out(path, a, b),
    }
}

fn path_or_root(path: &str) -> String {
    if path.is_empty() {
        ".".into()
    } else {
        path.to_string()
    }
}

pub(crate) fn push_key(path: &mut String, key: &str) {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if simple {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push_str(&format!("[{}]", serde_json::Value::String(key.to_string())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_paths() {
        let a = json!({"metadata": {"labels": {"app.kubernetes.io/version": "1"}}, "spec": {"containers": [{"name": "web", "image": "x:1"}], "ports": [1, 2]}});
        let b = json!({"metadata": {"labels": {"app.kubernetes.io/version": "2"}}, "spec": {"containers": [{"name": "web", "image": "x:2"}], "ports": [1]}});
        let mut out = Vec::new();
        field_diff(&a, &b, &mut String::new(), &mut out);
        assert_eq!(
            out,
            [
                "metadata.labels[\"app.kubernetes.io/version\"]",
                "spec.containers[web].image",
                "spec.ports[1]"
            ]
        );
    }
}
