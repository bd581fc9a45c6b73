//! Where an edit goes in the text: the splice that replaces a value, adds a key next
//! to its sibling or at the end of its table, adds the missing tables in the form of
//! their parent, or removes a key; and the positions in the text it is placed by.

use std::ops::Range;

use toml_edit::{InlineTable, Item, Table};

use super::locate::{child, Container};
use super::quote::{key_text, quote_style, quoted, QuoteStyle};
use super::{parse, EditError, Placement, Slot};
/// Replace `range` of the text with `insert`.
#[derive(Debug)]
pub(super) struct Splice {
    range: Range<usize>,
    insert: String,
}

impl Splice {
    pub(super) fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + self.insert.len());
        out.push_str(&text[..self.range.start]);
        out.push_str(&self.insert);
        out.push_str(&text[self.range.end..]);
        out
    }

    fn insert(at: usize, text: impl Into<String>) -> Splice {
        Splice {
            range: at..at,
            insert: text.into(),
        }
    }
}

pub(super) fn plan(text: &str, edit: &Slot<'_>) -> Result<Splice, EditError> {
    let doc = parse(text)?;
    let nl = line_ending(text);
    let key = edit.key;
    let path = &edit.path;

    // Down to the table that holds the field; what is missing is created in the form
    // of the last table found.
    let mut svc = Container::Table(doc.as_table());
    for (i, name) in path.iter().enumerate() {
        match child(svc, name, &path[..=i])? {
            Some(c) => svc = c,
            None => {
                let Some(value) = edit.value else {
                    unreachable!("removing an absent key changes nothing and is skipped")
                };
                let entry = format!("{} = {}", key_text(key), quoted(value, QuoteStyle::Basic));
                if i == 0 {
                    return Ok(append_block(text, nl, path, &entry));
                }
                return add_tables(text, nl, svc, &path[..i], &path[i..], &entry);
            }
        }
    }

    // The key exists: replace or remove exactly its bytes.
    if let Some((key_span, value_span, _)) = svc.string(key)? {
        return Ok(match edit.value {
            Some(value) => Splice {
                insert: quoted(value, quote_style(&text[value_span.clone()])),
                range: value_span,
            },
            None => remove_entry(text, svc, key_span, value_span)?,
        });
    }
    let Some(value) = edit.value else {
        unreachable!("removing an absent key changes nothing and is skipped")
    };

    // The key is missing: add it next to its sibling, or at the end of the table.
    let (sibling, placement) = match edit.sibling {
        Some((k, placement)) => (svc.string(k)?, placement),
        None => (None, Placement::After),
    };
    let style = sibling
        .as_ref()
        .map_or(QuoteStyle::Basic, |(_, v, _)| quote_style(&text[v.clone()]));
    let entry = format!("{} = {}", key_text(key), quoted(value, style));
    match svc {
        Container::Inline(t) => Ok(add_to_inline(t, sibling.as_ref(), placement, &entry)),
        Container::Table(t) if t.is_dotted() => {
            let span = t
                .span()
                .ok_or_else(|| EditError::new("cannot locate the dotted key", None))?;
            let prefix = format!("{}.", &text[line_start(text, span.start)..span.end]);
            let line = format!("{prefix}{entry}");
            Ok(add_line(text, nl, t, sibling.as_ref(), placement, &line))
        }
        Container::Table(t) if !t.is_implicit() => {
            let indent = first_value_indent(text, t).unwrap_or_default();
            let line = format!("{indent}{entry}");
            Ok(add_line(text, nl, t, sibling.as_ref(), placement, &line))
        }
        Container::Table(t) => {
            // Only sub-tables (`[services.x.autoscaling]`) exist: define `[services.x]`
            // right before the first of them.
            let first = min_header_start(&Item::Table(t.clone())).ok_or_else(|| {
                EditError::new(
                    format!("cannot find where `{}` is defined", path.join(".")),
                    None,
                )
            })?;
            let at = line_start(text, first);
            Ok(Splice::insert(
                at,
                format!("[{}]{nl}{entry}{nl}{nl}", header(path)),
            ))
        }
    }
}

/// `services."a b".sidecars.proxy`: keys as TOML text, joined by dots.
fn header(path: &[&str]) -> String {
    path.iter()
        .map(|k| key_text(k))
        .collect::<Vec<_>>()
        .join(".")
}

/// `a = { b = { entry } }` for the keys `[a, b]`.
fn nested_inline(keys: &[&str], entry: &str) -> String {
    match keys.split_first() {
        None => entry.to_string(),
        Some((first, rest)) => {
            format!("{} = {{ {} }}", key_text(first), nested_inline(rest, entry))
        }
    }
}

/// Adds the tables `missing` (a service the file does not mention yet, or a
/// container of a service) under `parent` (at `found`), holding `entry`, in the form
/// `parent` uses.
fn add_tables(
    text: &str,
    nl: &str,
    parent: Container<'_>,
    found: &[&str],
    missing: &[&str],
    entry: &str,
) -> Result<Splice, EditError> {
    match parent {
        Container::Inline(t) => Ok(append_inline(t, &nested_inline(missing, entry))),
        Container::Table(t) if t.is_dotted() => {
            // `services.a.tag = "1"` lines: add one more.
            let span = t.span().ok_or_else(|| {
                EditError::new(
                    format!("cannot locate the dotted key `{}`", found.join(".")),
                    None,
                )
            })?;
            let prefix = &text[line_start(text, span.start)..span.end];
            let end = max_end_own(t).unwrap_or(span.end);
            Ok(insert_line_after(
                text,
                nl,
                end,
                &format!("{prefix}.{}.{entry}", header(missing)),
            ))
        }
        Container::Table(t) => {
            // `[services.a]` tables (or a `[services]` table): a new table after the
            // last line of the parent (its last service, its last sub-table).
            let end = max_end_all(&Item::Table(t.clone())).unwrap_or(0);
            let at = after_line(text, end);
            let full: Vec<&str> = found.iter().chain(missing).copied().collect();
            let block = format!("[{}]{nl}{entry}", header(&full));
            let mut insert = String::new();
            if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
                insert.push_str(nl);
            }
            insert.push_str(nl);
            insert.push_str(&block);
            insert.push_str(nl);
            let rest = &text[at..];
            if !rest.is_empty() && !rest.starts_with(nl) {
                insert.push_str(nl);
            }
            Ok(Splice::insert(at, insert))
        }
    }
}

/// A new `[services.x]` (or `[services.x.sidecars.y]`) table at the end of a file
/// that has no services at all.
fn append_block(text: &str, nl: &str, path: &[&str], entry: &str) -> Splice {
    let mut insert = String::new();
    if !text.is_empty() {
        if !text.ends_with('\n') {
            insert.push_str(nl);
        }
        let blank = format!("{nl}{nl}");
        if !(text.ends_with(&blank) || text.trim().is_empty()) {
            insert.push_str(nl);
        }
    }
    insert.push_str(&format!("[{}]{nl}{entry}{nl}", header(path)));
    Splice::insert(text.len(), insert)
}

/// Adds a `key = value` line to a standard or dotted table.
fn add_line(
    text: &str,
    nl: &str,
    t: &Table,
    sibling: Option<&(Range<usize>, Range<usize>, String)>,
    placement: Placement,
    line: &str,
) -> Splice {
    match (sibling, placement) {
        (Some((key_span, _, _)), Placement::Before) => {
            Splice::insert(line_start(text, key_span.start), format!("{line}{nl}"))
        }
        (Some((_, value_span, _)), Placement::After) => {
            insert_line_after(text, nl, value_span.end, line)
        }
        (None, _) => {
            let end = max_end_own(t)
                .or_else(|| t.span().map(|s| s.end))
                .unwrap_or(text.len());
            insert_line_after(text, nl, end, line)
        }
    }
}

/// Adds `entry` to an inline table, next to its sibling when there is one.
fn add_to_inline(
    t: &InlineTable,
    sibling: Option<&(Range<usize>, Range<usize>, String)>,
    placement: Placement,
    entry: &str,
) -> Splice {
    match (sibling, placement) {
        (Some((key_span, _, _)), Placement::Before) => {
            Splice::insert(key_span.start, format!("{entry}, "))
        }
        (Some((_, value_span, _)), Placement::After) => {
            Splice::insert(value_span.end, format!(", {entry}"))
        }
        (None, _) => append_inline(t, entry),
    }
}

/// Appends `entry` as the last entry of an inline table.
fn append_inline(t: &InlineTable, entry: &str) -> Splice {
    let last = t.iter().filter_map(|(_, v)| v.span()).map(|s| s.end).max();
    match (last, t.span()) {
        (Some(end), _) => Splice::insert(end, format!(", {entry}")),
        (None, Some(span)) => Splice {
            range: span,
            insert: format!("{{ {entry} }}"),
        },
        (None, None) => Splice::insert(0, String::new()),
    }
}

/// Removes one key and its value: the whole line in a table, the entry in an inline table.
fn remove_entry(
    text: &str,
    svc: Container<'_>,
    key_span: Range<usize>,
    value_span: Range<usize>,
) -> Result<Splice, EditError> {
    match svc {
        Container::Table(_) => {
            let start = line_start(text, key_span.start);
            let before = &text[start..key_span.start];
            let end = after_line(text, value_span.end);
            let after = text[value_span.end..end].trim();
            let alone = !before.contains(['=', ',', '{', '[', '#'])
                && (after.is_empty() || after.starts_with('#'));
            if !alone {
                return Err(EditError::new(
                    "cannot remove this key without touching its neighbours; remove it by hand",
                    Some(key_span),
                ));
            }
            Ok(Splice {
                range: start..end,
                insert: String::new(),
            })
        }
        Container::Inline(t) => {
            let mut entries: Vec<(Range<usize>, Range<usize>)> = t
                .iter()
                .filter_map(|(k, v)| Some((t.key(k)?.span()?, v.span()?)))
                .collect();
            entries.sort_by_key(|(k, _)| k.start);
            let i = entries
                .iter()
                .position(|(k, _)| *k == key_span)
                .ok_or_else(|| EditError::new("cannot locate the key", Some(key_span.clone())))?;
            let range = if i + 1 < entries.len() {
                key_span.start..entries[i + 1].0.start
            } else if i > 0 {
                entries[i - 1].1.end..value_span.end
            } else {
                let end = if text[value_span.end..].starts_with(' ') {
                    value_span.end + 1
                } else {
                    value_span.end
                };
                key_span.start..end
            };
            // A multi-line inline table may hold comments between entries: removing
            // one of those would change more than the value, so refuse instead.
            let around = [
                &text[range.start..value_span.start.max(range.start)],
                &text[value_span.end.min(range.end)..range.end],
            ];
            if around.iter().any(|t| t.contains('#')) {
                return Err(EditError::new(
                    "cannot remove this key without removing the comment next to it; remove it by hand",
                    Some(key_span),
                ));
            }
            Ok(Splice {
                range,
                insert: String::new(),
            })
        }
    }
}

/// The file's line ending: CRLF if it uses it anywhere, LF otherwise.
fn line_ending(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// Offset of the start of the line holding `pos`.
fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// Offset just after the line ending of the line holding `pos` (the text's end if none).
fn after_line(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1)
}

/// Inserts a whole line after the line holding `pos`.
fn insert_line_after(text: &str, nl: &str, pos: usize, line: &str) -> Splice {
    let at = after_line(text, pos);
    if at == text.len() && !text.ends_with('\n') {
        Splice::insert(at, format!("{nl}{line}"))
    } else {
        Splice::insert(at, format!("{line}{nl}"))
    }
}

/// Leading whitespace of the first key/value line of a table, to indent a new one alike.
fn first_value_indent(text: &str, t: &Table) -> Option<String> {
    let start = t
        .iter()
        .filter(|(_, item)| matches!(item, Item::Value(_)))
        .filter_map(|(k, _)| t.key(k)?.span())
        .map(|s| s.start)
        .min()?;
    let ls = line_start(text, start);
    let indent = &text[ls..start];
    indent
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then(|| indent.to_string())
}

/// End of the last key/value written under a table's own header (including dotted
/// keys, excluding sub-tables that have headers of their own).
fn max_end_own(t: &Table) -> Option<usize> {
    t.iter()
        .filter_map(|(_, item)| match item {
            Item::Value(v) => v.span().map(|s| s.end),
            Item::Table(sub) if sub.is_dotted() => max_end_own(sub),
            _ => None,
        })
        .max()
}

/// End of the last thing (header or value) anywhere under `item`.
fn max_end_all(item: &Item) -> Option<usize> {
    let own = item.span().map(|s| s.end);
    let children = match item {
        Item::Table(t) => t.iter().filter_map(|(_, i)| max_end_all(i)).max(),
        Item::ArrayOfTables(a) => a
            .iter()
            .filter_map(|t| max_end_all(&Item::Table(t.clone())))
            .max(),
        _ => None,
    };
    own.max(children)
}

/// Start of the first table header under `item`.
fn min_header_start(item: &Item) -> Option<usize> {
    match item {
        Item::Table(t) => {
            let own = (!t.is_implicit() && !t.is_dotted())
                .then(|| t.span().map(|s| s.start))
                .flatten();
            let children = t.iter().filter_map(|(_, i)| min_header_start(i)).min();
            match (own, children) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        Item::ArrayOfTables(a) => a.iter().filter_map(|t| t.span().map(|s| s.start)).min(),
        _ => None,
    }
}
