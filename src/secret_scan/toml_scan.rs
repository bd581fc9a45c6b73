//! The scan of every string and key of a TOML file, before it is interpreted.

use super::*;

/// A secret-looking string somewhere in a TOML file: where it is and what it looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Byte range of the value (or key) in the file.
    pub span: std::ops::Range<usize>,
    /// Dotted path of the value, e.g. `services.api.image` (a key holding a dot makes
    /// it ambiguous: for messages use `key`).
    pub path: String,
    /// The key of the value as written, dots included (`acme.com/token`); `***` when
    /// the key itself looks like a secret.
    pub key: String,
    pub finding: Finding,
}

/// Tables whose keys are names the user chose (environment variables, ConfigMap keys,
/// template variables): a value there is also judged by its key, like [`scan`] does.
pub(super) const NAMED_VALUE_TABLES: &[&str] = &["env", "config", "vars"];

/// Where a table is, for which of its strings are also judged by their key: an
/// add-on's `values` (`[addons.<name>] values`, `[clusters.<c>.addons.<name>]
/// values`, and the same in an overlay) and the monitoring stack's (`[monitoring]
/// values`, a cluster's, an overlay's) hold a chart's settings under the chart's own
/// names (`adminPassword`, `auth.password`), judged as `env` is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Other,
    /// The `addons` table: its keys are add-ons.
    Addons,
    /// One add-on's table.
    Addon,
    /// A `monitoring` table (`[monitoring]`, a cluster's, an overlay's): its `values`
    /// are kube-prometheus-stack's, judged as an add-on's.
    Monitoring,
    /// An add-on's or the monitoring stack's `values`, or a table inside them.
    Values,
}

impl Place {
    /// The place of the table under `key` in a table at `self`.
    pub(super) fn child(self, key: &str) -> Place {
        match self {
            Place::Values => Place::Values,
            Place::Addon | Place::Monitoring if key == "values" => Place::Values,
            Place::Addons => Place::Addon,
            _ if key == "addons" => Place::Addons,
            _ if key == "monitoring" => Place::Monitoring,
            _ => Place::Other,
        }
    }
}

/// Scans every string of a TOML file, whatever field it is in, and every key. This
/// runs before the file is interpreted, so that no later message (a type error, an
/// invalid name, a template error) can echo a secret: a value is judged by its
/// shape (a token, a private key, a password in a URL, ...), and a value in `env`,
/// `config` or `vars`, or anywhere in an add-on's `values`, also by its key, as
/// [`scan`] does. Returns nothing when the
/// file is not valid TOML (the parse error is reported instead).
pub fn scan_toml(text: &str) -> Vec<Located> {
    match toml::de::DeTable::parse(text) {
        Ok(doc) => scan_document(doc.get_ref()),
        Err(_) => Vec::new(),
    }
}

/// [`scan_toml`] on a document already parsed (with spans), so that a file is
/// parsed once for scanning and reading.
pub fn scan_document(doc: &toml::de::DeTable<'_>) -> Vec<Located> {
    let mut out = Vec::new();
    scan_table(doc, &mut String::new(), "", Place::Other, &mut out);
    out
}

type DeItem<'i> = toml::Spanned<toml::de::DeValue<'i>>;

/// A table (standard or inline) whose dotted path is `path` and whose own key is
/// `table_key` (empty for the document). Each key is judged once: by its shape, for
/// a finding of its own and for how paths and messages show it. `path` is one
/// buffer for the whole walk: each key's path is appended to it and taken off again.
pub(super) fn scan_table(
    table: &toml::de::DeTable<'_>,
    path: &mut String,
    table_key: &str,
    place: Place,
    out: &mut Vec<Located>,
) {
    let parent = path.len();
    let pair = value_pair_name(table, place);
    for (key, item) in table.iter() {
        let k = key.get_ref();
        let found = shape(k);
        // A key that is itself a secret is not repeated in messages.
        let shown = if found.is_some() { "***" } else { k.as_ref() };
        if parent > 0 {
            path.push('.');
        }
        path.push_str(shown);
        if let Some(what) = found {
            out.push(Located {
                span: key.span(),
                path: path.clone(),
                key: shown.to_string(),
                finding: Finding { what },
            });
        }
        let named = place == Place::Values || NAMED_VALUE_TABLES.contains(&table_key);
        let judged = match pair {
            Some(name) if k == "value" => name,
            _ => k,
        };
        scan_item(item, named, judged, place.child(k), path, out);
        path.truncate(parent);
    }
}

/// In an add-on's `values`, the `name` of a `{ name, value }` table (a chart's `env`
/// or `extraEnv` entry: `{ name = "DB_PASSWORD", value = "..." }`): its `value` is
/// judged by that name, as a container's environment variable is in a hand-written
/// manifest.
pub(super) fn value_pair_name<'t>(
    table: &'t toml::de::DeTable<'_>,
    place: Place,
) -> Option<&'t str> {
    if place != Place::Values {
        return None;
    }
    let string = |k: &str| match table.get(k).map(|v| v.get_ref()) {
        Some(toml::de::DeValue::String(s)) => Some(s.as_ref()),
        _ => None,
    };
    string("value")?;
    string("name")
}

/// The value of `key` in a table whose strings are judged by their key too when
/// `named` (an `env`, `config` or `vars` table, by its key as written: `files."app.env"`
/// is not an `env` table; an add-on's `values`); `place` is the value's own, if it is
/// a table; `path` is the value's path. Every element of an array is under the
/// array's key and path.
pub(super) fn scan_item(
    item: &DeItem<'_>,
    named: bool,
    key: &str,
    place: Place,
    path: &mut String,
    out: &mut Vec<Located>,
) {
    match item.get_ref() {
        toml::de::DeValue::String(v) => {
            let templated = crate::template::Templates::is_template(v);
            let what = if named && !templated {
                scan(key, v).map(|f| f.what)
            } else if named {
                // A template: its text by shape, and its string literals as literals.
                shape(v).or_else(|| scan_template_literals(key, v).map(|f| f.what))
            } else if v.trim().is_empty() {
                None
            } else {
                shape(v)
            };
            if let Some(what) = what {
                out.push(Located {
                    span: item.span(),
                    path: path.clone(),
                    key: shown_key(key).to_string(),
                    finding: Finding { what },
                });
            }
        }
        toml::de::DeValue::Array(items) => {
            let before = out.len();
            for v in items {
                scan_item(v, named, key, place, path, out);
            }
            // An element judged by the flag before it (`["--password", "hunter2"]`),
            // unless it was found on its own.
            let strings = items.iter().map(|v| match v.get_ref() {
                toml::de::DeValue::String(s) => Some(s.as_ref()),
                _ => None,
            });
            for (i, finding) in scan_flag_values(strings) {
                let span = items[i].span();
                if out[before..].iter().all(|l| l.span != span) {
                    out.push(Located {
                        span,
                        path: path.clone(),
                        key: shown_key(items[i - 1].get_ref().as_str().unwrap_or(key)).to_string(),
                        finding,
                    });
                }
            }
        }
        toml::de::DeValue::Table(t) => scan_table(t, path, key, place, out),
        _ => {}
    }
}

/// A key as messages show it: itself, or `***` when it looks like a secret.
pub(super) fn shown_key(key: &str) -> &str {
    if shape(key).is_some() {
        "***"
    } else {
        key
    }
}
