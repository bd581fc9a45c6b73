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
//!
//! This module holds the edits and their checks; where a value is found is in `locate`,
//! how the text is spliced in `splice`, how a value or key is written in `quote`.

mod locate;
mod quote;
mod splice;

use std::fmt;
use std::ops::Range;

use toml_edit::Document;

use self::locate::{child, Container};
use self::splice::plan;

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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod container_tests;
