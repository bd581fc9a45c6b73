//! Finding a table, or a string and its key, in the parsed document, in whichever of
//! its syntaxes (a `[table]`, a dotted key, an inline table) the file writes it.

use std::ops::Range;

use toml_edit::{InlineTable, Item, Table, Value};

use super::EditError;
/// A table in either of its two syntaxes.
#[derive(Clone, Copy)]
pub(super) enum Container<'a> {
    Table(&'a Table),
    Inline(&'a InlineTable),
}

impl<'a> Container<'a> {
    fn of_item(item: &'a Item, path: &str) -> Result<Container<'a>, EditError> {
        match item {
            Item::Table(t) => Ok(Container::Table(t)),
            Item::Value(Value::InlineTable(t)) => Ok(Container::Inline(t)),
            other => Err(EditError::new(
                format!(
                    "`{path}` must be a table, but the file has {}",
                    other.type_name()
                ),
                other.span(),
            )),
        }
    }

    /// The string at `key`: key span, value span and value.
    #[allow(clippy::type_complexity)]
    pub(super) fn string(
        self,
        key: &str,
    ) -> Result<Option<(Range<usize>, Range<usize>, String)>, EditError> {
        let (key_span, value) = match self {
            Container::Table(t) => match t.get(key) {
                None => return Ok(None),
                Some(Item::Value(v)) => (t.key(key).and_then(|k| k.span()), v),
                Some(other) => {
                    return Err(EditError::new(
                        format!(
                            "`{key}` must be a string, but the file has {}",
                            other.type_name()
                        ),
                        other.span(),
                    ))
                }
            },
            Container::Inline(t) => match t.get(key) {
                None => return Ok(None),
                Some(v) => (t.key(key).and_then(|k| k.span()), v),
            },
        };
        let Some(s) = value.as_str() else {
            return Err(EditError::new(
                format!(
                    "`{key}` must be a string, but the file has {}",
                    value.type_name()
                ),
                value.span(),
            ));
        };
        match (key_span, value.span()) {
            (Some(k), Some(v)) => Ok(Some((k, v, s.to_string()))),
            _ => Err(EditError::new(
                format!("cannot locate `{key}` in the file"),
                None,
            )),
        }
    }
}

/// The table at `key` in `parent` (`path` is the whole path to it, for messages):
/// None when absent, an error when it is something else than a table.
pub(super) fn child<'a>(
    parent: Container<'a>,
    key: &str,
    path: &[&str],
) -> Result<Option<Container<'a>>, EditError> {
    match parent {
        Container::Table(t) => t
            .get(key)
            .map(|item| Container::of_item(item, &path.join(".")))
            .transpose(),
        Container::Inline(t) => match t.get(key) {
            None => Ok(None),
            Some(Value::InlineTable(t)) => Ok(Some(Container::Inline(t))),
            Some(other) => Err(EditError::new(
                format!(
                    "`{}` must be a table, but the file has {}",
                    path.join("."),
                    other.type_name()
                ),
                other.span(),
            )),
        },
    }
}
