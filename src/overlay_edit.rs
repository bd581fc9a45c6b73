//! Format-preserving edits of one string value of a TOML file: the image fields
//! (`tag`, `digest`) of an overlay (a service's own, `services.<svc>.tag`, or one of its
//! sidecars' or init containers', `services.<svc>.sidecars.<name>.tag`,
//! `services.<svc>.init_containers.<name>.tag`), and any other string key at a table
//! path ([`KeyEdit`]: an add-on's `chart_version` in platform.toml,
//! `addons.<name>.chart_version` or `clusters.<c>.addons.<name>.chart_version`).
//!
//! This is the pure part of `kgen bump-image`, `kgen promote` and `kgen bump-chart`:
//! text in, text out, plus what changed. The file is parsed with toml_edit's
//! span-keeping parser only to *locate* things; the edit itself is a splice of the
//! original text, so every byte that is not the value stays as it was: comments, blank
//! lines, key order, quoting style, odd spacing, CRLF line endings.
//!
//! The value is found in each of the forms TOML allows, at every level:
//! `[services.x]` + `tag = …`, a dotted key `services.x.tag = …`, or an inline table
//! `x = { tag = … }` (and `[services.x.sidecars.proxy]`, `sidecars.proxy.tag = …`,
//! `proxy = { tag = … }` for a container). A missing key is added next to its
//! sibling (`digest` after `tag`, `tag` before `digest`) or after the table's last
//! line; a missing table gets a header of its own (`[services.x]` after the last
//! service, `[services.x.sidecars.proxy]` after the service's last line,
//! `[clusters.prod.addons.x]` after the cluster's last line), or a dotted line, or an
//! inline entry, matching how the file writes its parent.
//!
//! Every edit is checked before it is returned: the new text must parse, and must
//! mean exactly the old document with that one value changed. An edit that would
//! do anything else is refused with an error instead of being guessed at.

use std::fmt;
use std::ops::Range;

use toml_edit::{Document, InlineTable, Item, Table, Value};

/// An image field of a service that these edits may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Tag,
    Digest,
}

impl Field {
    /// The TOML key.
    pub fn key(self) -> &'static str {
        match self {
            Field::Tag => "tag",
            Field::Digest => "digest",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The two lists of containers beside a service's main one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContainerList {
    Sidecars,
    InitContainers,
}

impl ContainerList {
    /// The TOML key (`sidecars`, `init_containers`).
    pub fn key(self) -> &'static str {
        match self {
            ContainerList::Sidecars => "sidecars",
            ContainerList::InitContainers => "init_containers",
        }
    }
}

/// A sidecar or an init container of a service, by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerRef {
    pub list: ContainerList,
    pub name: String,
}

impl ContainerRef {
    pub fn new(list: ContainerList, name: &str) -> ContainerRef {
        ContainerRef {
            list,
            name: name.to_string(),
        }
    }
}

/// One requested change: set `services.<service>.<field>` (or
/// `services.<service>.<list>.<container>.<field>`) to `value`, or remove it (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub service: String,
    /// The sidecar or init container whose image this is; None for the service's own.
    pub container: Option<ContainerRef>,
    pub field: Field,
    pub value: Option<String>,
}

impl Edit {
    pub fn set(service: &str, field: Field, value: &str) -> Edit {
        Edit {
            service: service.to_string(),
            container: None,
            field,
            value: Some(value.to_string()),
        }
    }

    pub fn remove(service: &str, field: Field) -> Edit {
        Edit {
            service: service.to_string(),
            container: None,
            field,
            value: None,
        }
    }

    /// The same edit of one of the service's sidecars or init containers instead.
    pub fn in_container(mut self, container: Option<ContainerRef>) -> Edit {
        self.container = container;
        self
    }

    /// The keys of the table that holds the field, from the top of the file.
    pub fn table_path(&self) -> Vec<&str> {
        table_path(&self.service, self.container.as_ref())
    }

    /// `services.api.tag`, `services.api.sidecars.proxy.tag`.
    pub fn key_path(&self) -> String {
        format!("{}.{}", self.table_path().join("."), self.field)
    }
}

/// `["services", service]`, or `["services", service, list, container]`.
pub fn table_path<'a>(service: &'a str, container: Option<&'a ContainerRef>) -> Vec<&'a str> {
    let mut path = vec!["services", service];
    if let Some(c) = container {
        path.push(c.list.key());
        path.push(&c.name);
    }
    path
}

/// Where a new key goes relative to a sibling key that is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Before,
    After,
}

/// One value to set or remove, in the terms every edit shares: the table that holds
/// it, its key, the sibling it is placed next to when added, and the new value.
struct Slot<'a> {
    path: Vec<&'a str>,
    key: &'a str,
    sibling: Option<(&'a str, Placement)>,
    value: Option<&'a str>,
}

impl Slot<'_> {
    /// `services.api.tag`, `addons.cert-manager.chart_version`.
    fn key_path(&self) -> String {
        format!("{}.{}", self.path.join("."), self.key)
    }
}

impl Edit {
    fn slot(&self) -> Slot<'_> {
        let sibling = match self.field {
            // `tag` goes right before `digest`, `digest` right after `tag`.
            Field::Tag => (Field::Digest.key(), Placement::Before),
            Field::Digest => (Field::Tag.key(), Placement::After),
        };
        Slot {
            path: self.table_path(),
            key: self.field.key(),
            sibling: Some(sibling),
            value: self.value.as_deref(),
        }
    }
}

/// Sets (or removes, with `None`) the string at `key` of the table at `table`, e.g.
/// `chart_version` of `["clusters", "prod", "addons", "cert-manager"]`. Missing tables
/// are created like a missing service's (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEdit {
    pub table: Vec<String>,
    pub key: String,
    pub value: Option<String>,
}

impl KeyEdit {
    pub fn set(table: &[&str], key: &str, value: &str) -> KeyEdit {
        KeyEdit {
            table: table.iter().map(|t| t.to_string()).collect(),
            key: key.to_string(),
            value: Some(value.to_string()),
        }
    }

    /// `addons.cert-manager.chart_version`.
    pub fn key_path(&self) -> String {
        self.slot().key_path()
    }

    fn slot(&self) -> Slot<'_> {
        Slot {
            path: self.table.iter().map(String::as_str).collect(),
            key: &self.key,
            sibling: None,
            value: self.value.as_deref(),
        }
    }
}

/// The string at `key` of the table at `table`, if the file sets it.
pub fn read_key(text: &str, table: &[&str], key: &str) -> Result<Option<String>, EditError> {
    read_slot(text, table, key)
}

/// Applies one [`KeyEdit`]: the new text, and the value before (`None` when the key
/// was absent). Setting the value that is already there returns the text unchanged.
pub fn apply_key(text: &str, edit: &KeyEdit) -> Result<(String, Option<String>), EditError> {
    parse(text)?;
    let slot = edit.slot();
    let previous = read_slot(text, &slot.path, slot.key)?;
    if previous.as_deref() == slot.value {
        return Ok((text.to_string(), previous));
    }
    let new_text = plan(text, &slot)?.apply(text);
    verify(text, &new_text, &slot)?;
    Ok((new_text, previous))
}

/// A change that was made: the value in this file before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub service: String,
    pub container: Option<ContainerRef>,
    pub field: Field,
    pub previous: Option<String>,
    pub current: Option<String>,
}

/// The result of `apply`: the new text and the edits that changed something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub text: String,
    /// Only the edits that changed the file, in request order.
    pub applied: Vec<Applied>,
}

impl Edited {
    pub fn changed(&self) -> bool {
        !self.applied.is_empty()
    }
}

/// Why an edit could not be made. `span` is a byte range of the input text, when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    pub message: String,
    pub span: Option<Range<usize>>,
    /// True when the input is not valid TOML (as opposed to a form kgen cannot edit).
    pub syntax: bool,
}

impl EditError {
    fn new(message: impl Into<String>, span: Option<Range<usize>>) -> EditError {
        EditError {
            message: message.into(),
            span,
            syntax: false,
        }
    }
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EditError {}

/// The value of `services.<service>.<field>` in `text`, if the file sets it.
pub fn read(text: &str, service: &str, field: Field) -> Result<Option<String>, EditError> {
    read_in(text, service, None, field)
}

/// The value of `services.<service>.<field>`, or of
/// `services.<service>.<list>.<container>.<field>`, if the file sets it.
pub fn read_in(
    text: &str,
    service: &str,
    container: Option<&ContainerRef>,
    field: Field,
) -> Result<Option<String>, EditError> {
    read_slot(text, &table_path(service, container), field.key())
}

/// The string at `key` of the table at `path`, if the file sets it.
fn read_slot(text: &str, path: &[&str], key: &str) -> Result<Option<String>, EditError> {
    let doc = parse(text)?;
    let mut cur = Container::Table(doc.as_table());
    for (i, name) in path.iter().enumerate() {
        match child(cur, name, &path[..=i])? {
            Some(c) => cur = c,
            None => return Ok(None),
        }
    }
    Ok(cur.string(key)?.map(|(_, _, v)| v))
}

/// Applies `edits` in order. Edits that change nothing (the value is already there,
/// or a removed key is already absent) are skipped and not reported.
pub fn apply(text: &str, edits: &[Edit]) -> Result<Edited, EditError> {
    let mut text = text.to_string();
    let mut applied = Vec::new();
    // Parse once up front so that a file that is not TOML fails before anything else.
    parse(&text)?;
    for edit in edits {
        let previous = read_in(&text, &edit.service, edit.container.as_ref(), edit.field)?;
        if previous == edit.value {
            continue;
        }
        let slot = edit.slot();
        let splice = plan(&text, &slot)?;
        let new_text = splice.apply(&text);
        verify(&text, &new_text, &slot)?;
        applied.push(Applied {
            service: edit.service.clone(),
            container: edit.container.clone(),
            field: edit.field,
            previous,
            current: edit.value.clone(),
        });
        text = new_text;
    }
    Ok(Edited { text, applied })
}

fn parse(text: &str) -> Result<Document<&str>, EditError> {
    Document::parse(text).map_err(|e| EditError {
        message: format!("invalid TOML: {}", e.message().trim()),
        span: e.span(),
        syntax: true,
    })
}

/// Replace `range` of the text with `insert`.
#[derive(Debug)]
struct Splice {
    range: Range<usize>,
    insert: String,
}

impl Splice {
    fn apply(&self, text: &str) -> String {
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

/// A table in either of its two syntaxes.
#[derive(Clone, Copy)]
enum Container<'a> {
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
    fn string(self, key: &str) -> Result<Option<(Range<usize>, Range<usize>, String)>, EditError> {
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
fn child<'a>(
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

fn plan(text: &str, edit: &Slot<'_>) -> Result<Splice, EditError> {
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

/// Checks that `new` means exactly `old` with the edit applied, and nothing else.
fn verify(old: &str, new: &str, edit: &Slot<'_>) -> Result<(), EditError> {
    let what = edit.key_path();
    let refuse = |why: String| {
        EditError::new(
            format!("kgen could not edit `{what}` safely ({why}); edit the file by hand"),
            None,
        )
    };
    let mut expected: toml::Table = toml::from_str(old).map_err(|e| EditError {
        message: format!("invalid TOML: {}", e.message().trim()),
        span: e.span(),
        syntax: true,
    })?;
    let got: toml::Table = toml::from_str(new).map_err(|e| {
        refuse(format!(
            "the result would not parse: {}",
            e.message().trim()
        ))
    })?;
    let path = &edit.path;
    let mut svc = &mut expected;
    for (i, key) in path.iter().enumerate() {
        let v = svc
            .entry(key.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(t) = v else {
            return Err(refuse(format!("`{}` is not a table", path[..=i].join("."))));
        };
        svc = t;
    }
    match edit.value {
        Some(v) => {
            svc.insert(edit.key.to_string(), toml::Value::String(v.to_string()));
        }
        None => {
            svc.remove(edit.key);
        }
    }
    if expected != got {
        return Err(refuse("the result would change other values".into()));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteStyle {
    Basic,
    Literal,
    MultiBasic,
    MultiLiteral,
}

fn quote_style(raw: &str) -> QuoteStyle {
    if raw.starts_with("\"\"\"") {
        QuoteStyle::MultiBasic
    } else if raw.starts_with("'''") {
        QuoteStyle::MultiLiteral
    } else if raw.starts_with('\'') {
        QuoteStyle::Literal
    } else {
        QuoteStyle::Basic
    }
}

/// `value` as a TOML string in `style`. Values that a style cannot hold as they are
/// (quotes, backslashes, control characters) are written as escaped basic strings.
fn quoted(value: &str, style: QuoteStyle) -> String {
    let plain = !value
        .chars()
        .any(|c| c == '"' || c == '\'' || c == '\\' || c.is_control());
    match style {
        _ if !plain => basic(value),
        QuoteStyle::Basic => format!("\"{value}\""),
        QuoteStyle::Literal => format!("'{value}'"),
        QuoteStyle::MultiBasic => format!("\"\"\"{value}\"\"\""),
        QuoteStyle::MultiLiteral => format!("'''{value}'''"),
    }
}

fn basic(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key as TOML text: bare when it can be, quoted otherwise.
fn key_text(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        key.to_string()
    } else {
        basic(key)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str, service: &str, field: Field, value: &str) -> String {
        apply(text, &[Edit::set(service, field, value)])
            .unwrap()
            .text
    }

    #[test]
    fn replaces_only_the_value_bytes() {
        let t = "[services.a]\ntag   =   '1.0'   # pinned\n";
        assert_eq!(
            set(t, "a", Field::Tag, "2.0"),
            "[services.a]\ntag   =   '2.0'   # pinned\n"
        );
    }

    #[test]
    fn same_value_changes_nothing() {
        let t = "[services.a]\ntag = \"1.0\"\n";
        let e = apply(t, &[Edit::set("a", Field::Tag, "1.0")]).unwrap();
        assert!(!e.changed());
        assert_eq!(e.text, t);
    }

    #[test]
    fn dotted_inline_and_missing() {
        assert_eq!(
            set("services.a.tag = \"1\"\n", "a", Field::Tag, "2"),
            "services.a.tag = \"2\"\n"
        );
        assert_eq!(
            set("services.a.replicas = 1\n", "a", Field::Tag, "2"),
            "services.a.replicas = 1\nservices.a.tag = \"2\"\n"
        );
        assert_eq!(
            set("services.a.tag = \"1\"\n", "b", Field::Tag, "2"),
            "services.a.tag = \"1\"\nservices.b.tag = \"2\"\n"
        );
        assert_eq!(
            set(
                "[services]\na = { tag = \"1\" }\n",
                "a",
                Field::Digest,
                "sha256:x"
            ),
            "[services]\na = { tag = \"1\", digest = \"sha256:x\" }\n"
        );
        assert_eq!(
            set("[services]\na = { replicas = 1 }\n", "b", Field::Tag, "2"),
            "[services]\na = { replicas = 1 }\n\n[services.b]\ntag = \"2\"\n"
        );
        assert_eq!(
            set("services = { a = { tag = \"1\" } }\n", "b", Field::Tag, "2"),
            "services = { a = { tag = \"1\" }, b = { tag = \"2\" } }\n"
        );
        assert_eq!(set("", "a", Field::Tag, "1"), "[services.a]\ntag = \"1\"\n");
        assert_eq!(
            set("# hi\n", "a", Field::Tag, "1"),
            "# hi\n\n[services.a]\ntag = \"1\"\n"
        );
    }

    #[test]
    fn sub_table_only() {
        assert_eq!(
            set("[services.a.autoscaling]\nmin = 1\n", "a", Field::Tag, "2"),
            "[services.a]\ntag = \"2\"\n\n[services.a.autoscaling]\nmin = 1\n"
        );
    }

    #[test]
    fn tag_goes_before_digest_and_digest_after_tag() {
        assert_eq!(
            set(
                "[services.a]\nreplicas = 1\ndigest = 'sha256:1'\nport = 1\n",
                "a",
                Field::Tag,
                "2"
            ),
            "[services.a]\nreplicas = 1\ntag = '2'\ndigest = 'sha256:1'\nport = 1\n"
        );
        assert_eq!(
            set(
                "[services.a]\ntag = \"1\" # c\nport = 1\n",
                "a",
                Field::Digest,
                "sha256:2"
            ),
            "[services.a]\ntag = \"1\" # c\ndigest = \"sha256:2\"\nport = 1\n"
        );
    }

    #[test]
    fn removes() {
        let r = |t: &str| apply(t, &[Edit::remove("a", Field::Digest)]).unwrap().text;
        assert_eq!(
            r("[services.a]\ntag = \"1\"\ndigest = \"sha256:1\" # x\nport = 1\n"),
            "[services.a]\ntag = \"1\"\nport = 1\n"
        );
        assert_eq!(
            r("[services]\na = { tag = \"1\", digest = \"d\" }\n"),
            "[services]\na = { tag = \"1\" }\n"
        );
        assert_eq!(
            r("[services]\na = { digest = \"d\", tag = \"1\" }\n"),
            "[services]\na = { tag = \"1\" }\n"
        );
        assert_eq!(
            r("[services.a]\ntag = \"1\"\n"),
            "[services.a]\ntag = \"1\"\n"
        );
    }

    #[test]
    fn more_forms() {
        // `[services]` with dotted children.
        assert_eq!(
            set(
                "[services]\na.tag = \"1\"\na.port = 1\n",
                "a",
                Field::Digest,
                "d"
            ),
            "[services]\na.tag = \"1\"\na.digest = \"d\"\na.port = 1\n"
        );
        assert_eq!(
            set("[services]\na.port = 1\n", "a", Field::Tag, "2"),
            "[services]\na.port = 1\na.tag = \"2\"\n"
        );
        // Quoted keys, a multi-line string, no newline at the end of the file.
        assert_eq!(
            set(
                "[services.\"a\"]\ntag = \"\"\"1\"\"\"",
                "a",
                Field::Tag,
                "2"
            ),
            "[services.\"a\"]\ntag = \"\"\"2\"\"\""
        );
        assert_eq!(
            set("[services.a]\nport = 1", "a", Field::Tag, "2"),
            "[services.a]\nport = 1\ntag = \"2\""
        );
        // An empty table and an empty inline table.
        assert_eq!(
            set("[services.a]\n\n[monitoring]\n", "a", Field::Tag, "2"),
            "[services.a]\ntag = \"2\"\n\n[monitoring]\n"
        );
        assert_eq!(
            set("[services]\na = {}\n", "a", Field::Tag, "2"),
            "[services]\na = { tag = \"2\" }\n"
        );
        // Indented keys keep their indentation.
        assert_eq!(
            set("[services.a]\n  port = 1\n", "a", Field::Tag, "2"),
            "[services.a]\n  port = 1\n  tag = \"2\"\n"
        );
        // A new service between services and a following table, with CRLF.
        assert_eq!(
            set("[services.a]\r\ntag = \"1\"\r\n[monitoring]\r\n", "b", Field::Tag, "2"),
            "[services.a]\r\ntag = \"1\"\r\n\r\n[services.b]\r\ntag = \"2\"\r\n\r\n[monitoring]\r\n"
        );
        // `read` sees every form.
        assert_eq!(
            read("services = { a = { tag = \"1\" } }", "a", Field::Tag).unwrap(),
            Some("1".into())
        );
        assert_eq!(read("[services.b]\n", "a", Field::Tag).unwrap(), None);
    }

    #[test]
    fn not_a_table_is_an_error() {
        let e = apply("services = 1\n", &[Edit::set("a", Field::Tag, "1")]).unwrap_err();
        assert!(e.message.contains("must be a table"), "{e}");
        let e = apply("[services.a\n", &[Edit::set("a", Field::Tag, "1")]).unwrap_err();
        assert!(e.syntax);
    }
}

#[cfg(test)]
mod container_tests {
    use super::*;

    fn proxy() -> Option<ContainerRef> {
        Some(ContainerRef::new(ContainerList::Sidecars, "proxy"))
    }

    fn set(text: &str, field: Field, value: &str) -> String {
        apply(
            text,
            &[Edit::set("api", field, value).in_container(proxy())],
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .text
    }

    #[test]
    fn a_container_is_found_and_created_in_every_form() {
        // The value exists: only its bytes change.
        assert_eq!(
            set(
                "[services.api.sidecars.proxy]\ntag = '2.1' # pinned\n",
                Field::Tag,
                "2.2"
            ),
            "[services.api.sidecars.proxy]\ntag = '2.2' # pinned\n"
        );
        assert_eq!(
            set(
                "[services.api]\nsidecars.proxy.tag = \"2.1\"\n",
                Field::Tag,
                "2.2"
            ),
            "[services.api]\nsidecars.proxy.tag = \"2.2\"\n"
        );
        assert_eq!(
            set(
                "[services]\napi = { sidecars = { proxy = { tag = \"2.1\" } } }\n",
                Field::Tag,
                "2.2"
            ),
            "[services]\napi = { sidecars = { proxy = { tag = \"2.2\" } } }\n"
        );
        // The key is missing: next to its sibling, or at the end of the table.
        assert_eq!(
            set("[services.api.sidecars.proxy]\nimage = \"envoy\"\ntag = \"2.1\"\nport = 1\n", Field::Digest, "sha256:x"),
            "[services.api.sidecars.proxy]\nimage = \"envoy\"\ntag = \"2.1\"\ndigest = \"sha256:x\"\nport = 1\n"
        );
        assert_eq!(
            set(
                "[services.api]\nsidecars.proxy.image = \"envoy\"\n",
                Field::Tag,
                "2.2"
            ),
            "[services.api]\nsidecars.proxy.image = \"envoy\"\nsidecars.proxy.tag = \"2.2\"\n"
        );
        // The container is missing: a table of its own after the service's last line,
        // a dotted line, or an inline entry, as the service is written.
        assert_eq!(
            set("[services.api]\ntag = \"1\"\n\n[services.web]\ntag = \"2\"\n", Field::Tag, "2.2"),
            "[services.api]\ntag = \"1\"\n\n[services.api.sidecars.proxy]\ntag = \"2.2\"\n\n[services.web]\ntag = \"2\"\n"
        );
        assert_eq!(
            set("services.api.tag = \"1\"\n", Field::Tag, "2.2"),
            "services.api.tag = \"1\"\nservices.api.sidecars.proxy.tag = \"2.2\"\n"
        );
        assert_eq!(
            set("[services]\napi = { tag = \"1\" }\n", Field::Tag, "2.2"),
            "[services]\napi = { tag = \"1\", sidecars = { proxy = { tag = \"2.2\" } } }\n"
        );
        // Only a sub-table of the container exists: its table goes right before it.
        assert_eq!(
            set("[services.api.sidecars.proxy.resources]\ncpu = 1\n", Field::Tag, "2.2"),
            "[services.api.sidecars.proxy]\ntag = \"2.2\"\n\n[services.api.sidecars.proxy.resources]\ncpu = 1\n"
        );
        // No services at all.
        assert_eq!(
            set("# dev\n", Field::Tag, "2.2"),
            "# dev\n\n[services.api.sidecars.proxy]\ntag = \"2.2\"\n"
        );
    }

    #[test]
    fn init_containers_and_removal() {
        let migrate = Some(ContainerRef::new(ContainerList::InitContainers, "migrate"));
        let text = "[services.api]\ntag = \"1\"\n\n[services.api.init_containers.migrate]\ntag = \"1\"\ndigest = \"sha256:1\"\n";
        let e = apply(
            text,
            &[
                Edit::set("api", Field::Tag, "2").in_container(migrate.clone()),
                Edit::remove("api", Field::Digest).in_container(migrate.clone()),
            ],
        )
        .unwrap();
        assert_eq!(
            e.text,
            "[services.api]\ntag = \"1\"\n\n[services.api.init_containers.migrate]\ntag = \"2\"\n"
        );
        assert_eq!(e.applied.len(), 2);
        assert_eq!(e.applied[0].container, migrate);
        assert_eq!(
            read_in(&e.text, "api", migrate.as_ref(), Field::Tag).unwrap(),
            Some("2".into())
        );
        // The service's own tag is another value.
        assert_eq!(read(&e.text, "api", Field::Tag).unwrap(), Some("1".into()));
        assert_eq!(
            read_in(&e.text, "api", proxy().as_ref(), Field::Tag).unwrap(),
            None
        );
    }

    #[test]
    fn a_list_that_is_not_a_table_is_an_error() {
        let e = apply(
            "[services.api]\nsidecars = 1\n",
            &[Edit::set("api", Field::Tag, "2").in_container(proxy())],
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "`services.api.sidecars` must be a table, but the file has integer"
        );
        let e = apply(
            "[services]\napi = { sidecars = { proxy = \"envoy\" } }\n",
            &[Edit::set("api", Field::Tag, "2").in_container(proxy())],
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "`services.api.sidecars.proxy` must be a table, but the file has string"
        );
    }

    fn chart(text: &str, table: &[&str], value: &str) -> String {
        let (new, _) = apply_key(text, &KeyEdit::set(table, "chart_version", value)).unwrap();
        new
    }

    #[test]
    fn a_key_at_any_table_path() {
        let cm = ["addons", "cert-manager"];
        // Replaced in place, in each form.
        assert_eq!(
            chart(
                "[addons.cert-manager]\nchart_version = \"v1.21.1\" # pinned\n",
                &cm,
                "v1.22.0"
            ),
            "[addons.cert-manager]\nchart_version = \"v1.22.0\" # pinned\n"
        );
        assert_eq!(
            chart(
                "addons.cert-manager.chart_version = '1.0.0'\n",
                &cm,
                "1.1.0"
            ),
            "addons.cert-manager.chart_version = '1.1.0'\n"
        );
        assert_eq!(
            chart(
                "[addons]\ncert-manager = { chart_version = \"1.0.0\", replicas = 1 }\n",
                &cm,
                "1.1.0"
            ),
            "[addons]\ncert-manager = { chart_version = \"1.1.0\", replicas = 1 }\n"
        );
        // A missing key goes at the end of its table.
        assert_eq!(
            chart(
                "[addons.cert-manager]\nreplicas = 1\n\n[monitoring]\n",
                &cm,
                "1.1.0"
            ),
            "[addons.cert-manager]\nreplicas = 1\nchart_version = \"1.1.0\"\n\n[monitoring]\n"
        );
        // A missing table after its parent's last line.
        let prod = ["clusters", "prod", "addons", "cert-manager"];
        assert_eq!(
            chart(
                "[clusters.prod]\nserver = \"s\"\n\n[clusters.prod.baseline.storage_classes.gp3]\ndefault = true\n\n[environments.prod]\ncluster = \"prod\"\n",
                &prod,
                "1.1.0"
            ),
            "[clusters.prod]\nserver = \"s\"\n\n[clusters.prod.baseline.storage_classes.gp3]\ndefault = true\n\n[clusters.prod.addons.cert-manager]\nchart_version = \"1.1.0\"\n\n[environments.prod]\ncluster = \"prod\"\n"
        );
        assert_eq!(
            chart("[clusters]\nprod = { server = \"s\" }\n", &prod, "1.1.0"),
            "[clusters]\nprod = { server = \"s\", addons = { cert-manager = { chart_version = \"1.1.0\" } } }\n"
        );
        // The same value: nothing changes, and the previous value is returned.
        let t = "[monitoring]\nchart_version = \"77.0.0\"\n";
        assert_eq!(
            apply_key(t, &KeyEdit::set(&["monitoring"], "chart_version", "77.0.0")).unwrap(),
            (t.to_string(), Some("77.0.0".to_string()))
        );
        assert_eq!(
            read_key(t, &["monitoring"], "chart_version").unwrap(),
            Some("77.0.0".into())
        );
        // A key that is not a string is refused.
        let e = apply_key(
            "[monitoring]\nchart_version = 77\n",
            &KeyEdit::set(&["monitoring"], "chart_version", "78.0.0"),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "`chart_version` must be a string, but the file has integer"
        );
    }
}
