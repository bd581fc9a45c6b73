//! The Kubernetes objects of a hand-written YAML file, as `kgen validate PATH` and the
//! escape hatch's `manifests/` read them: every document that holds something, a
//! `v1 List` as its items, each with where it starts in the file. A document that is
//! not valid YAML, or not a mapping, is an error located in the file.

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::rules;
use crate::source::{FileId, Origin};
use crate::validate::{locate, FieldPath};

/// One object of a file.
pub struct ManifestDoc<'t> {
    /// Byte offset of its document in the file.
    pub start: usize,
    /// The document's text.
    pub text: &'t str,
    /// Path inside the document (`items[2]` for an item of a List).
    pub prefix: FieldPath,
    pub value: Value,
}

/// The help of a YAML syntax error (KG115) in a manifest or a patch file.
pub const YAML_SYNTAX_HELP: &str = "the caret is where the parser gave up, which may be after the mistake: look above it for an unclosed `{`, `[` or quote, a tab in the indentation, or a `key: value` indented differently from its siblings (kgen reads YAML 1.2, docs/escape-hatch.md)";

/// The objects of `text` (file `file`); YAML problems go to `diags`.
pub fn read<'t>(file: FileId, text: &'t str, diags: &mut Vec<Diagnostic>) -> Vec<ManifestDoc<'t>> {
    let mut out = Vec::new();
    for (start, doc) in locate::documents(text) {
        let blank = doc
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if blank {
            continue;
        }
        let first = doc.len() - doc.trim_start().len();
        let value: Value = match crate::yaml_input::from_str(doc) {
            Ok(v) => v,
            Err(e) => {
                let at = e.index.unwrap_or(0).min(doc.len());
                if let Some(d) = &e.duplicate {
                    diags.push(crate::yaml_input::duplicate_key_diagnostic(
                        file, text, start, doc, at, d,
                    ));
                    continue;
                }
                let message = e.message;
                let at = if at == 0 { first } else { at };
                diags.push(
                    Diagnostic::error(rules::YAML, format!("not valid YAML: {message}"))
                        .at(Origin::new(file, start + at..start + at + 1))
                        .help(YAML_SYNTAX_HELP),
                );
                continue;
            }
        };
        if value.is_null() {
            continue;
        }
        if !value.is_object() {
            diags.push(
                Diagnostic::error(
                    rules::YAML,
                    "the document is not a mapping, so it is not a Kubernetes object",
                )
                .at(Origin::new(file, start + first..start + first + 1))
                .help("a manifest is a mapping with apiVersion, kind and metadata; separate documents with `---`"),
            );
            continue;
        }
        let is_list = value.get("kind").and_then(Value::as_str) == Some("List")
            && value.get("apiVersion").and_then(Value::as_str) == Some("v1")
            && value.get("items").is_some_and(Value::is_array);
        if is_list {
            let items = value["items"].as_array().cloned().unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                out.push(ManifestDoc {
                    start,
                    text: doc,
                    prefix: FieldPath::root().key("items").index(i),
                    value: item,
                });
            }
        } else {
            out.push(ManifestDoc {
                start,
                text: doc,
                prefix: FieldPath::root(),
                value,
            });
        }
    }
    out
}
