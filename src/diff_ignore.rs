//! `kgen diff --ignore`: leaving objects, or fields of objects, out of a diff.
//!
//! A rule is a comma-separated list of `key=value` filters, all of which must match:
//!
//! | key | matches |
//! |---|---|
//! | `kind` | the object's kind (`Deployment`; case does not matter) |
//! | `name` | the object's name (`main-api`) |
//! | `namespace` | the object's namespace (`""` for a cluster-scoped object) |
//! | `field` | a field path, written as `kgen diff` prints them (`spec.replicas`, `spec.template.spec.containers[main-api].image`, `metadata.labels["app.kubernetes.io/version"]`) |
//!
//! Values may use the globs `*` (any run of characters) and `?` (one character). A
//! rule without `field` leaves the objects it matches out entirely (not added, changed,
//! removed or at risk); a rule with `field` makes that field and everything under it
//! count as unchanged in the objects it matches (on both sides the base's value is
//! used), so an object whose only differences are ignored fields is unchanged.
//!
//! Rules are checked before anything is compared: an unknown key, an empty value or
//! a malformed field path is a usage error, with "did you mean" for a misspelt key;
//! so is a kind that neither side has (the check `ops::diff` makes with
//! [`check_against`], which also catches a misspelt name or field close to one of
//! the objects that differ).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::diagnostic::{closest, did_you_mean};
use crate::error::{Error, Result};
use crate::manifest_set::{Identity, Resource};

const KEYS: [&str; 4] = ["kind", "name", "namespace", "field"];

/// One `--ignore` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    /// As written on the command line.
    pub text: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// The field path, parsed; None for the whole object.
    pub field: Option<Vec<Segment>>,
}

/// One step of a field path: `.key` or `[key]` (a map key, a list item's `name`, or a
/// list index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Bracket(String),
}

impl IgnoreRule {
    /// Parses `kind=Deployment,name=main-api,field=spec.replicas`.
    pub fn parse(text: &str) -> Result<IgnoreRule> {
        let bad = |why: String| {
            Error::Usage(format!(
                "--ignore `{text}`: {why}; a rule is `key=value` filters separated by commas, with the keys kind, name, namespace and field (e.g. `--ignore kind=Deployment,name=main-api,field=spec.replicas`; see docs/diff.md)"
            ))
        };
        let mut rule = IgnoreRule {
            text: text.to_string(),
            kind: None,
            name: None,
            namespace: None,
            field: None,
        };
        if text.trim().is_empty() {
            return Err(bad("the rule is empty".into()));
        }
        for part in split_outside_brackets(text) {
            let Some((key, value)) = part.split_once('=') else {
                let word = part.trim();
                if KEYS.contains(&word) {
                    return Err(bad(format!("`{word}` needs a value: `{word}=VALUE`")));
                }
                let hint = closest(word, KEYS)
                    .map(|k| format!(" (did you mean `{k}=VALUE`?)"))
                    .unwrap_or_default();
                return Err(bad(format!("`{part}` is not `key=value`{hint}")));
            };
            let (key, value) = (key.trim(), value.trim());
            if value.is_empty() && key != "namespace" {
                return Err(bad(format!("`{key}` has no value")));
            }
            let slot = match key {
                "kind" => &mut rule.kind,
                "name" => &mut rule.name,
                "namespace" => &mut rule.namespace,
                "field" => {
                    if rule.field.is_some() {
                        return Err(bad(
                            "`field` is given twice (repeat --ignore for another field)".into(),
                        ));
                    }
                    rule.field = Some(parse_field(value).map_err(&bad)?);
                    continue;
                }
                other => {
                    let hint = did_you_mean(other, KEYS)
                        .map(|d| format!("; {d}"))
                        .unwrap_or_default();
                    return Err(bad(format!("unknown key `{other}`{hint}")));
                }
            };
            if slot.is_some() {
                return Err(bad(format!("`{key}` is given twice")));
            }
            *slot = Some(value.to_string());
        }
        Ok(rule)
    }

    /// Whether the rule applies to the object `id` (its field, if any, aside).
    pub fn matches(&self, id: &Identity) -> bool {
        id.is_object()
            && self
                .kind
                .as_deref()
                .is_none_or(|k| glob(&k.to_ascii_lowercase(), &id.kind.to_ascii_lowercase()))
            && self.name.as_deref().is_none_or(|n| glob(n, &id.name))
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| glob(n, &id.namespace))
    }

    /// Leaves the whole object out (a rule without a field).
    pub fn drops(&self, id: &Identity) -> bool {
        self.field.is_none() && self.matches(id)
    }

    /// Makes the rule's field of `head` equal to the base's (removed when the base has
    /// none), when the rule applies to the object; returns whether `head` changed.
    pub fn mask(&self, base: &Value, head: &mut Value, id: &Identity) -> bool {
        match &self.field {
            Some(path) if self.matches(id) => mask(base, head, path),
            _ => false,
        }
    }
}

/// Splits at commas that are not inside `[...]` or a quoted string.
fn split_outside_brackets(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0);
    let mut prev = '\0';
    for (i, c) in s.char_indices() {
        match c {
            '"' if prev != '\\' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        prev = c;
    }
    out.push(&s[start..]);
    out
}

/// `spec.template.spec.containers[main-api].image`, `metadata.labels["a/b"]`.
pub fn parse_field(text: &str) -> std::result::Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    let malformed = |why: &str| format!("field path `{text}` {why}");
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let (inner, after) = if let Some(q) = r.strip_prefix('"') {
                // A quoted key, with JSON escapes.
                let mut end = None;
                let mut escaped = false;
                for (i, c) in q.char_indices() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => {
                            end = Some(i);
                            break;
                        }
                        _ => escaped = false,
                    }
                }
                let end = end.ok_or_else(|| malformed("has an unclosed quote"))?;
                let key: String = serde_json::from_str(&format!("\"{}\"", &q[..end]))
                    .map_err(|_| malformed("has a bad escape in a quoted key"))?;
                let after = q[end + 1..]
                    .strip_prefix(']')
                    .ok_or_else(|| malformed("has a quoted key not followed by `]`"))?;
                (key, after)
            } else {
                let end = r
                    .find(']')
                    .ok_or_else(|| malformed("has an unclosed `[`"))?;
                (r[..end].to_string(), &r[end + 1..])
            };
            if inner.is_empty() {
                return Err(malformed("has an empty `[]`"));
            }
            out.push(Segment::Bracket(inner));
            rest = after;
        } else {
            let r = if out.is_empty() {
                rest
            } else {
                rest.strip_prefix('.')
                    .ok_or_else(|| malformed("needs a `.` or `[` between its parts"))?
            };
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(malformed("has an empty part"));
            }
            out.push(Segment::Key(r[..end].to_string()));
            rest = &r[end..];
        }
    }
    if out.is_empty() {
        return Err(malformed("is empty"));
    }
    Ok(out)
}

/// `*` matches any run of characters, `?` any one.
pub fn glob(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn segment_text(s: &Segment) -> &str {
    match s {
        Segment::Key(k) | Segment::Bracket(k) => k,
    }
}

/// Sets `head` at `path` to `base`'s value there (removing what the base lacks);
/// returns whether `head` changed.
fn mask(base: &Value, head: &mut Value, path: &[Segment]) -> bool {
    let Some((seg, rest)) = path.split_first() else {
        if head != base {
            *head = base.clone();
            return true;
        }
        return false;
    };
    let pattern = segment_text(seg);
    let mut changed = false;
    match head {
        Value::Object(hm) => {
            let empty = serde_json::Map::new();
            let bm = base.as_object().unwrap_or(&empty);
            let keys: BTreeSet<String> = hm
                .keys()
                .chain(bm.keys())
                .filter(|k| glob(pattern, k))
                .cloned()
                .collect();
            for k in keys {
                let b = bm.get(&k);
                if rest.is_empty() {
                    match b {
                        Some(bv) if hm.get(&k) != Some(bv) => {
                            hm.insert(k, bv.clone());
                            changed = true;
                        }
                        None if hm.remove(&k).is_some() => changed = true,
                        _ => {}
                    }
                } else if let Some(hv) = hm.get_mut(&k) {
                    changed |= mask(b.unwrap_or(&Value::Null), hv, rest);
                    let emptied = match &*hv {
                        Value::Object(m) => m.is_empty(),
                        Value::Array(a) => a.is_empty(),
                        _ => false,
                    };
                    if emptied && b.is_none() {
                        hm.remove(&k);
                    }
                }
            }
        }
        Value::Array(ha) => {
            let Segment::Bracket(pattern) = seg else {
                return false;
            };
            let empty = Vec::new();
            let ba = base.as_array().unwrap_or(&empty);
            let named = |v: &[Value]| !v.is_empty() && v.iter().all(|i| i["name"].is_string());
            if named(ha) || named(ba) {
                let names: BTreeSet<String> = ha
                    .iter()
                    .chain(ba.iter())
                    .filter_map(|i| i["name"].as_str())
                    .filter(|n| glob(pattern, n))
                    .map(str::to_string)
                    .collect();
                for n in names {
                    let bi = ba.iter().position(|i| i["name"] == n.as_str());
                    let hi = ha.iter().position(|i| i["name"] == n.as_str());
                    match (bi, hi) {
                        (Some(b), Some(h)) => {
                            changed |= if rest.is_empty() {
                                mask(&ba[b], &mut ha[h], &[])
                            } else {
                                mask(&ba[b], &mut ha[h], rest)
                            }
                        }
                        (None, Some(h)) if rest.is_empty() => {
                            ha.remove(h);
                            changed = true;
                        }
                        (Some(b), None) if rest.is_empty() => {
                            ha.insert(b.min(ha.len()), ba[b].clone());
                            changed = true;
                        }
                        _ => {}
                    }
                }
            } else if let Ok(i) = pattern.parse::<usize>() {
                match (ba.get(i), i < ha.len()) {
                    (Some(bv), true) => changed |= mask(bv, &mut ha[i], rest),
                    (None, true) if rest.is_empty() => {
                        ha.remove(i);
                        changed = true;
                    }
                    (Some(bv), false) if rest.is_empty() && i == ha.len() => {
                        ha.push(bv.clone());
                        changed = true;
                    }
                    _ => {}
                }
            } else if pattern == "*" {
                for (i, hv) in ha.iter_mut().enumerate() {
                    if let Some(bv) = ba.get(i) {
                        changed |= mask(bv, hv, rest);
                    }
                }
            }
        }
        _ => {}
    }
    changed
}

/// Every field path of `v` (as `kgen diff` prints them), for "did you mean".
fn field_paths(v: &Value, path: &mut String, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let len = path.len();
                crate::diff::push_key(path, k);
                out.insert(path.clone());
                field_paths(child, path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            let named = items.iter().all(|i| i["name"].is_string());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                match item["name"].as_str() {
                    Some(n) if named => path.push_str(&format!("[{n}]")),
                    _ => path.push_str(&format!("[{i}]")),
                }
                out.insert(path.clone());
                field_paths(item, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Whether `pattern` (a parsed field path) names `path` or one of its parents.
fn field_matches(pattern: &[Segment], path: &str) -> bool {
    parse_field(path).is_ok_and(|p| {
        p.len() >= pattern.len()
            && pattern
                .iter()
                .zip(&p)
                .all(|(a, b)| glob(segment_text(a), segment_text(b)))
    })
}

/// Checks the rules against what the diff will look at: `kinds`, every kind of the
/// head's render and of the base's objects that differ; `objects`, the objects that
/// differ on either side. A kind that is on neither side is an error (with "did you
/// mean"); a name or field path that matches none of the objects but is close to one
/// of theirs is an error too (a typo); one that is not is fine (what differs changes
/// from one pull request to the next), and `compare` notes the rules that matched
/// nothing.
pub fn check_against<'a>(
    rules: &[IgnoreRule],
    kinds: &BTreeSet<String>,
    objects: impl Iterator<Item = &'a Resource> + Clone,
) -> Result<()> {
    for rule in rules {
        if let Some(k) = &rule.kind {
            if !is_glob(k) && !kinds.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                let hint = did_you_mean(k, kinds.iter().map(String::as_str))
                    .map(|d| format!("; {d}"))
                    .unwrap_or_else(|| {
                        format!(
                            "; the kinds here are {}",
                            kinds.iter().cloned().collect::<Vec<_>>().join(", ")
                        )
                    });
                return Err(Error::Usage(format!(
                    "--ignore `{}`: no object of kind `{k}` is rendered at the head or differs at the base{hint}",
                    rule.text
                )));
            }
        }
        let of_kind: Vec<&Resource> = objects
            .clone()
            .filter(|r| {
                r.id.is_object()
                    && rule.kind.as_deref().is_none_or(|k| {
                        glob(&k.to_ascii_lowercase(), &r.id.kind.to_ascii_lowercase())
                    })
            })
            .collect();
        if let Some(n) = &rule.name {
            if !is_glob(n) && !of_kind.iter().any(|r| r.id.name == *n) {
                let names: BTreeSet<&str> = of_kind.iter().map(|r| r.id.name.as_str()).collect();
                if let Some(d) = did_you_mean(n, names.iter().copied()) {
                    return Err(Error::Usage(format!(
                        "--ignore `{}`: no object that differs is named `{n}`; {d}",
                        rule.text
                    )));
                }
            }
        }
        if let Some(field) = &rule.field {
            let mut paths = BTreeSet::new();
            for r in of_kind.iter().filter(|r| rule.matches(&r.id)) {
                field_paths(&r.value, &mut String::new(), &mut paths);
            }
            let written = field_text(field);
            if !paths.is_empty() && !paths.iter().any(|p| field_matches(field, p)) {
                if let Some(d) = meant_field(&written, &paths) {
                    return Err(Error::Usage(format!(
                        "--ignore `{}`: no object it applies to has the field `{written}`; {d}",
                        rule.text
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The "did you mean" for a field path no object has (see
/// [`crate::diagnostic::closest_path`]: `spec.replicas` for `spec.replcas`, never
/// `spec.template`).
fn meant_field(written: &str, paths: &BTreeSet<String>) -> Option<String> {
    crate::diagnostic::closest_path(written, '.', paths.iter().map(String::as_str))
        .map(|p| format!("did you mean `{p}`?"))
}

/// A parsed field path, written back (`spec.containers[web].image`).
fn field_text(path: &[Segment]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Segment::Bracket(k) => {
                s.push('[');
                s.push_str(k);
                s.push(']');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misspelt_field_is_meant_among_its_siblings() {
        let mut paths = BTreeSet::new();
        field_paths(
            &json!({"spec": {"replicas": 2, "template": {"spec": {}}, "selector": {}}}),
            &mut String::new(),
            &mut paths,
        );
        let replicas = Some("did you mean `spec.replicas`?".to_string());
        assert_eq!(meant_field("spec.replcas", &paths), replicas);
        assert_eq!(meant_field("spce.replicas", &paths), replicas);
        paths.remove("spec.replicas");
        // Without `replicas`, nothing beside it is close: no guess at `spec.template`.
        assert_eq!(meant_field("spec.replcas", &paths), None);
    }

    #[test]
    fn rules_parse_and_refuse_typos() {
        let r = IgnoreRule::parse(
            "kind=Deployment,name=main-*,field=metadata.labels[\"app.kubernetes.io/version\"]",
        )
        .unwrap();
        assert_eq!(r.kind.as_deref(), Some("Deployment"));
        assert_eq!(
            r.field,
            Some(vec![
                Segment::Key("metadata".into()),
                Segment::Key("labels".into()),
                Segment::Bracket("app.kubernetes.io/version".into())
            ])
        );
        let e = IgnoreRule::parse("knd=Deployment").unwrap_err().to_string();
        assert!(e.contains("unknown key `knd`; did you mean `kind`?"), "{e}");
        let e = IgnoreRule::parse("kind").unwrap_err().to_string();
        assert!(
            e.starts_with("--ignore `kind`: `kind` needs a value: `kind=VALUE`; a rule is"),
            "{e}"
        );
        let e = IgnoreRule::parse("nmae").unwrap_err().to_string();
        assert!(
            e.starts_with(
                "--ignore `nmae`: `nmae` is not `key=value` (did you mean `name=VALUE`?); a rule is"
            ),
            "{e}"
        );
        let e = IgnoreRule::parse("Deployment").unwrap_err().to_string();
        assert!(
            e.starts_with("--ignore `Deployment`: `Deployment` is not `key=value`; a rule is"),
            "{e}"
        );
        let e = IgnoreRule::parse("field=spec..x").unwrap_err().to_string();
        assert!(e.contains("has an empty part"), "{e}");
        let e = IgnoreRule::parse("field=spec[a").unwrap_err().to_string();
        assert!(e.contains("unclosed `[`"), "{e}");
    }

    #[test]
    fn globs() {
        assert!(glob("main-*", "main-api"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(glob("*-config", "main-api-config"));
    }

    #[test]
    fn masking_takes_the_base_value() {
        let base = json!({"metadata": {"labels": {"v": "1", "a": "x"}},
            "spec": {"containers": [{"name": "web", "image": "i:1"}, {"name": "side", "image": "s:1"}]}});
        let mut head = json!({"metadata": {"labels": {"v": "2", "a": "x", "new": "y"}},
            "spec": {"containers": [{"name": "web", "image": "i:2"}, {"name": "side", "image": "s:2"}]}});
        assert!(mask(
            &base,
            &mut head,
            &parse_field("metadata.labels[v]").unwrap()
        ));
        assert!(mask(
            &base,
            &mut head,
            &parse_field("metadata.labels.new").unwrap()
        ));
        assert!(mask(
            &base,
            &mut head,
            &parse_field("spec.containers[*].image").unwrap()
        ));
        assert_eq!(head, base);
        // A field only at the head, under a parent only at the head: both go.
        let base = json!({"metadata": {}});
        let mut head = json!({"metadata": {"annotations": {"x": "1"}}});
        assert!(mask(
            &base,
            &mut head,
            &parse_field("metadata.annotations[x]").unwrap()
        ));
        assert_eq!(head, base);
    }

    #[test]
    fn checks_suggest_the_kind_name_or_field_meant() {
        let objects = [Resource {
            id: Identity {
                group: crate::manifest_set::Group::Environment("dev".into()),
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "n".into(),
                name: "main-api".into(),
            },
            path: "dev/main-api/deployment.yaml".into(),
            value: json!({"spec": {"replicas": 2}}),
        }];
        let kinds: BTreeSet<String> = ["Deployment".to_string(), "Service".to_string()].into();
        let check = |rule: &str| {
            check_against(&[IgnoreRule::parse(rule).unwrap()], &kinds, objects.iter())
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(check("kind=deployment"), None);
        assert!(check("kind=Deploymnet")
            .unwrap()
            .ends_with("did you mean `Deployment`?"));
        assert!(check("kind=Deployment,name=main-apj")
            .unwrap()
            .ends_with("did you mean `main-api`?"));
        assert!(check("kind=Deployment,field=spec.replcas")
            .unwrap()
            .ends_with("did you mean `spec.replicas`?"));
        // Not close to anything that differs: nothing to say.
        assert_eq!(check("kind=Service,name=other"), None);
        assert_eq!(check("field=spec.template"), None);
    }
}
