//! Every unknown key, wrong type and missing key of an input file, not just the first.
//!
//! serde stops at the first error: `PlatformFile::deserialize` returns one error and
//! nothing else. This module runs only after that has happened (the happy path never
//! comes here), and finds the others by *isolation*: it deserialises the same type
//! from small documents made of one subtree of the file and the tables on the path to
//! it, so that every message and span comes from serde and the toml crate themselves,
//! exactly as when a file has a single error, and no list of keys or types is kept by
//! hand.
//!
//! - **A subtree** (a value with its key) is checked by deserialising the whole type
//!   from a document holding only that subtree, under copies of its ancestor tables
//!   that hold nothing else. The ancestors' keys and tables get a span that points
//!   nowhere (`NOWHERE`), so an error with a real span is one of the subtree's, and
//!   an error that points nowhere (a key the stripped ancestors now lack) is not.
//! - **A subtree with an error** is split: each of its entries (or array elements) is
//!   checked alone, recursively. If none has an error, the error is the subtree's own:
//!   its key is unknown, its value has the wrong type, or its table lacks a key.
//! - **Missing keys**: serde names the first missing key of a table only, and only once
//!   everything inside the table is correct. The others come from the `required` list
//!   of that table in the JSON Schema derived from the same types (`kgen schema`), in
//!   declaration order, which is serde's order; the message is serde's own
//!   ("missing field \`x\`"), at the span toml gives that error (the table's).
//!
//! Cost: a subtree without errors is deserialised once; only a subtree with an error
//! is split, and each level of splitting deserialises at most the subtree again, so a
//! file costs O(size × depth), the depth being that of the input types (five or six
//! tables: below a value of the wrong type nothing is split). The search stops after
//! [`MAX_ERRORS`].

use std::cell::OnceCell;
use std::marker::PhantomData;
use std::ops::Range;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use toml::de::{DeString, DeTable, DeValue};
use toml::Spanned;

/// Most errors looked for in one input file: the search stops there, and the errors
/// found are reported (the human format shows the first 50 of a run, see
/// `diagnostic::MAX_SHOWN_INPUT_ERRORS`). It bounds the work on a hostile file (every
/// error is located by counting the characters before it on its line, and an 8 MiB
/// file can be one line).
pub const MAX_ERRORS: usize = 1_000;

/// The span given to the copies of a subtree's ancestors: no error of the file is there.
const NOWHERE: Range<usize> = usize::MAX..usize::MAX;

/// An error of the input file: serde's message and the span toml gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub message: String,
    pub span: Range<usize>,
    /// For an unknown key that a table of this one takes (`storage_class` in a
    /// volume, which its `claim` takes), the dotted key meant: `claim.storage_class`.
    pub meant: Option<String>,
    /// The dotted path of the value a wrong type or value is about, from the file's
    /// root (`services.api.autoscaling.max`, `services.api.args[1]`).
    pub key: Option<String>,
}

type Key<'i> = Spanned<DeString<'i>>;
type Item<'i> = Spanned<DeValue<'i>>;

/// One step from a table or array to the subtree below it.
#[derive(Clone, Copy)]
enum Step<'a, 'i> {
    /// The entry with this key.
    Key(&'a Key<'i>),
    /// The element of an array at this index (the copy holds that element only).
    Element(usize),
}

/// Every error of `text` read as a `T`, given the error `first` that deserialising
/// it returned: in the order of the file, at most [`MAX_ERRORS`]. Contains `first`
/// (or is just `first` when the file cannot be parsed again, which does not happen:
/// a syntax error never gets here).
pub fn every_error<T: DeserializeOwned + JsonSchema>(
    text: &str,
    first: &toml::de::Error,
) -> Vec<Found> {
    let first_found = || Found {
        message: first.message().to_string(),
        span: first.span().unwrap_or(0..0),
        meant: None,
        key: None,
    };
    let Ok(doc) = DeTable::parse(text) else {
        return vec![first_found()];
    };
    let span = doc.span();
    let root = Spanned::new(span, DeValue::Table(doc.into_inner()));
    let mut search = Search::<T> {
        schema: OnceCell::new(),
        found: Vec::new(),
        _type: PhantomData,
    };
    search.check(&mut Vec::new(), &root, Some(first.clone()));
    let mut found = search.found;
    if found.is_empty() {
        found.push(first_found());
    }
    // Stable: the missing keys of one table stay in declaration order.
    found.sort_by_key(|f| f.span.start);
    found.dedup();
    found
}

struct Search<T> {
    /// The JSON Schema of `T`, made on first use (for missing keys).
    schema: OnceCell<Value>,
    found: Vec<Found>,
    _type: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + JsonSchema> Search<T> {
    /// Checks the subtree `node` at `path` (the steps from the root; the last one is
    /// the node's own key or array position). `known` is its error, when known.
    fn check<'a, 'i>(
        &mut self,
        path: &mut Vec<Step<'a, 'i>>,
        node: &'a Item<'i>,
        known: Option<toml::de::Error>,
    ) {
        if self.found.len() >= MAX_ERRORS {
            return;
        }
        let Some(error) = known.or_else(|| self.run(path, node)) else {
            return;
        };
        let before = self.found.len();
        match node.get_ref() {
            DeValue::Table(table) => {
                for (key, value) in table.iter() {
                    path.push(Step::Key(key));
                    self.check(path, value, None);
                    path.pop();
                }
            }
            DeValue::Array(array) => {
                for (i, value) in array.iter().enumerate() {
                    path.push(Step::Element(i));
                    self.check(path, value, None);
                    path.pop();
                }
            }
            _ => {}
        }
        let table = match node.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
        if self.found.len() > before {
            // Errors inside: the table's own missing keys, which serde would name next.
            if let Some(table) = table {
                self.missing(path, table, node.span(), None);
            }
            return;
        }
        // Nothing inside: the error is the node's own.
        let missing = missing_key(error.message()).map(str::to_string);
        let meant = self.nested_key(path, error.message());
        self.push(Found {
            message: error.message().to_string(),
            span: error.span().unwrap_or(0..0),
            meant,
            key: dotted(path),
        });
        if let (Some(table), Some(first)) = (table, missing) {
            if error.span() == Some(node.span()) {
                self.missing(path, table, node.span(), Some(&first));
            }
        }
    }

    /// Deserialises `T` from `node` alone under copies of its ancestors, and returns
    /// the error if it is the node's (it has a real span).
    fn run(&self, path: &[Step<'_, '_>], node: &Item<'_>) -> Option<toml::de::Error> {
        let mut value = node.clone();
        for (i, step) in path.iter().enumerate().rev() {
            let container = match step {
                Step::Key(key) => {
                    // The node's own key keeps its span (it may be the unknown one).
                    let span = if i + 1 == path.len() {
                        key.span()
                    } else {
                        NOWHERE
                    };
                    let mut table = DeTable::new();
                    table.insert(Spanned::new(span, key.get_ref().clone()), value);
                    DeValue::Table(table)
                }
                Step::Element(_) => DeValue::Array(std::iter::once(value).collect()),
            };
            value = Spanned::new(NOWHERE, container);
        }
        let DeValue::Table(root) = value.into_inner() else {
            return None;
        };
        let error =
            T::deserialize(toml::de::Deserializer::from(Spanned::new(NOWHERE, root))).err()?;
        error.span().filter(|s| *s != NOWHERE)?;
        Some(error)
    }

    /// The required keys of the table at `path` that it lacks (but `skip`), as the
    /// errors serde gives, at `span`.
    fn missing(
        &mut self,
        path: &[Step<'_, '_>],
        table: &DeTable<'_>,
        span: Range<usize>,
        skip: Option<&str>,
    ) {
        let schema = self
            .schema
            .get_or_init(|| schemars::schema_for!(T).to_value());
        let Some(node) = path
            .iter()
            .try_fold(schema, |s, step| child(schema, s, *step))
        else {
            return;
        };
        let missing: Vec<String> = required(schema, node)
            .into_iter()
            .filter(|k| Some(*k) != skip && !table.contains_key(*k))
            // serde's `Error::missing_field` (which needs a `&'static str`) says this.
            .map(|k| format!("missing field `{k}`"))
            .collect();
        for message in missing {
            self.push(Found {
                message,
                span: span.clone(),
                meant: None,
                key: None,
            });
        }
    }

    /// For serde's "unknown field `k`" about the key `path` ends with: the key of the
    /// enclosing table whose own table takes `k`, dotted (`claim.storage_class`), when
    /// exactly one does.
    fn nested_key(&self, path: &[Step<'_, '_>], message: &str) -> Option<String> {
        let key = message.strip_prefix("unknown field `")?.split('`').next()?;
        let (Step::Key(last), parent) = path.split_last()? else {
            return None;
        };
        if last.get_ref().as_ref() != key {
            return None;
        }
        let schema = self
            .schema
            .get_or_init(|| schemars::schema_for!(T).to_value());
        let table = parent
            .iter()
            .try_fold(schema, |s, step| child(schema, s, *step))?;
        let mut found = properties(schema, table)
            .into_iter()
            .filter(|(_, sub)| properties(schema, sub).iter().any(|(k, _)| *k == key))
            .map(|(name, _)| format!("{name}.{key}"));
        let meant = found.next()?;
        found.next().is_none().then_some(meant)
    }

    fn push(&mut self, found: Found) {
        if self.found.len() < MAX_ERRORS {
            self.found.push(found);
        }
    }
}

/// `services.api.autoscaling.max`, `services.api.args[1]`, `env."A.B"`: `path` as
/// TOML would write the key (a key that is not bare in quotes); `None` at the root.
fn dotted(path: &[Step<'_, '_>]) -> Option<String> {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                let k: &str = k.get_ref().as_ref();
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                out.push_str(&if bare {
                    k.to_string()
                } else {
                    format!("{k:?}")
                });
            }
            Step::Element(i) => out.push_str(&format!("[{i}]")),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `x` of serde's "missing field `x`".
fn missing_key(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// `schema` with `$ref`s followed.
fn resolve<'s>(root: &'s Value, mut schema: &'s Value) -> &'s Value {
    // Bounded: schemars never makes a `$ref` to a `$ref`, but a loop must not hang.
    for _ in 0..8 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match root.pointer(r.trim_start_matches('#')) {
                Some(s) => schema = s,
                None => break,
            },
            None => break,
        }
    }
    schema
}

/// The properties of an object schema, through `$ref`s and the alternatives of an
/// optional table (`anyOf`/`oneOf`).
fn properties<'s>(root: &'s Value, schema: &'s Value) -> Vec<(&'s str, &'s Value)> {
    let schema = resolve(root, schema);
    let mut out: Vec<(&str, &Value)> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default();
    for alt in ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k)?.as_array())
        .flatten()
    {
        out.extend(properties(root, alt));
    }
    out
}

/// The schema of what `step` leads to from `schema` (through `anyOf`/`oneOf`, as for
/// an optional table).
fn child<'s>(root: &'s Value, schema: &'s Value, step: Step<'_, '_>) -> Option<&'s Value> {
    let schema = resolve(root, schema);
    let direct = match step {
        Step::Key(key) => schema
            .get("properties")
            .and_then(|p| p.get(key.get_ref().as_ref()))
            .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object())),
        Step::Element(_) => schema.get("items"),
    };
    direct.or_else(|| {
        ["anyOf", "oneOf"]
            .iter()
            .filter_map(|k| schema.get(*k)?.as_array())
            .flatten()
            .find_map(|alt| child(root, alt, step))
    })
}

/// The `required` keys of an object schema, in declaration order. The alternatives
/// of a union (an optional table: `anyOf` of the table and null) are looked into; those
/// of a table with properties of its own are constraints between its keys (an env
/// source's `oneOf`: exactly one of `field`, `resource`, `config_map`, `secret`),
/// which kgen checks itself with a better message, not keys it requires.
fn required<'s>(root: &'s Value, schema: &'s Value) -> Vec<&'s str> {
    let schema = resolve(root, schema);
    if let Some(list) = schema.get("required").and_then(Value::as_array) {
        return list.iter().filter_map(Value::as_str).collect();
    }
    if schema.get("properties").is_some() {
        return Vec::new();
    }
    ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k)?.as_array())
        .flatten()
        .map(|alt| required(root, alt))
        .find(|r| !r.is_empty())
        .unwrap_or_default()
}

/// What [`repaired`] left out of a file. What a later stage finds there follows from
/// the errors that made it leave them out (an `autoscaling` whose mistyped `max` was
/// left out has no `max`), so it is not reported again; what it finds next to them is
/// reported, so that a mistaken value hides nothing but itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// The key and the value of each entry left out, and each array element left out.
    pub entries: Vec<Range<usize>>,
    /// Each table or array that lost an entry or element.
    pub holders: Vec<Holder>,
}

/// A table or array that lost an entry or element to [`repaired`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// What a finding about the whole table is located at: a standard table's header
    /// (`[services.api.cron]`), an inline table's braces, an array's brackets.
    pub span: Range<usize>,
    /// From its span to the end of its last entry: a standard table's entries follow
    /// its header.
    pub extent: Range<usize>,
    /// The keys left out of it (none for an array).
    pub keys: Vec<String>,
    /// The keys from the file's root to it (`["services", "api", "cron"]`).
    pub path: Vec<String>,
}

impl LeftOut {
    /// Whether a finding at `span` that says `message` follows from what was left out:
    /// it is inside an entry left out; or it is about a table that lost one (located at
    /// the table, or at what holds it: "`autoscaling` has no `max`"); or it is inside
    /// such a table and names a key left out of it, as a check between two keys of a
    /// table does, naming both ("`port` without `http`", where the mistaken `http` was
    /// left out). Any other finding inside the table is about a sibling of the
    /// mistaken value, checked as if the mistake were not there: it is reported.
    ///
    /// A key left out is named by its own name or by the one it misspells (a
    /// `schedul` left out hides "has no `schedule`").
    pub fn hides(&self, span: &Range<usize>, message: &str) -> bool {
        self.entries.iter().any(|e| overlaps(e, span))
            || self.holders.iter().any(|h| {
                (span.start <= h.span.start && h.span.end <= span.end)
                    || (h.extent.start <= span.start
                        && span.end <= h.extent.end
                        && h.keys.iter().any(|k| names_key_or_meant(message, k)))
            })
    }

    /// Whether a finding outside the table that lost a key follows from it, in this
    /// file, which every environment reads (platform.toml), or in an overlay: a
    /// `schedul` left out of `[services.report]` leaves the service without
    /// `schedule` in every overlay, and the finding is located at an overlay's
    /// `[services.report]`; a store whose misspelt `provider` was left out "has no
    /// `provider`" where a cluster's table overrides it. It is when its message names
    /// the table (its own key: the service `report`, the store) and a key left out of
    /// it.
    pub fn hides_elsewhere(&self, message: &str) -> bool {
        self.holders.iter().any(|h| {
            h.path.len() >= 2
                && h.path.last().is_some_and(|t| names_key(message, t))
                && h.keys.iter().any(|k| names_key_or_meant(message, k))
        })
    }
}

/// Whether `message` names the key `key` ([`names_key`]), or a key that `key`
/// misspells: one it is close to, as "did you mean" judges.
fn names_key_or_meant(message: &str, key: &str) -> bool {
    names_key(message, key)
        || message.split('`').skip(1).step_by(2).any(|quoted| {
            let name = quoted.split([' ', '=', '[']).next().unwrap_or_default();
            let name = name.rsplit('.').next().unwrap_or_default();
            !name.is_empty() && name != key && crate::diagnostic::closest(key, [name]).is_some()
        })
}

/// Whether two spans share a character (an empty span counts as its first one).
fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
}

/// Whether `message` names the key `key` as messages do: in backticks, alone or at
/// the end of a dotted path, maybe with its value (`` `http` ``, `` `probes.http` ``,
/// `` `max_surge = 1` ``).
fn names_key(message: &str, key: &str) -> bool {
    message.match_indices(key).any(|(i, _)| {
        let before = message[..i].chars().next_back();
        let after = message[i + key.len()..].chars().next();
        matches!(before, Some('`' | '.')) && matches!(after, Some('`' | ' ' | '=' | '.' | '['))
    })
}

/// `text` read as a `T` without the parts that `found` (its errors, from
/// [`every_error`]) point at: each entry whose key or value is an error's span, and
/// each such array element, is left out. When what is left is still not a `T` (an
/// entry left out was required: `from` of a secret whose `from` was misspelt), the
/// table or element that now misses it is left out too, and so on, a few times at
/// most; `None` when that does not end in a `T`. Reading goes on with what is left,
/// so that the mistakes the next stages find are reported in the same run; the
/// errors in `found` still fail it (the errors of leaving out are not reported: they
/// are the same mistakes).
///
/// Also returns what was left out, for the later stages ([`LeftOut::hides`]).
pub fn repaired<T: DeserializeOwned>(text: &str, found: &[Found]) -> (Option<T>, LeftOut) {
    /// How many times a table or element is left out for what was left out before.
    const MAX_ROUNDS: usize = 8;
    let mut spans: Vec<Range<usize>> = found.iter().map(|f| f.span.clone()).collect();
    let Some(named) = named_entries(text) else {
        return (None, LeftOut::default());
    };
    for _ in 0..=MAX_ROUNDS {
        let Ok(doc) = DeTable::parse(text) else {
            return (None, LeftOut::default());
        };
        let span = doc.span();
        let mut root = doc.into_inner();
        let mut left_out = LeftOut::default();
        let refs: Vec<&Range<usize>> = spans.iter().collect();
        prune_table(&mut root, span.clone(), &[], &refs, &mut left_out);
        match T::deserialize(toml::de::Deserializer::from(Spanned::new(span, root))) {
            Ok(value) => return (Some(value), left_out),
            // Leave out what now fails, unless it was already left out, or is a
            // whole section or a whole named entry of one (`[services.api]`): later
            // stages would report everything that names it as naming nothing.
            Err(e) => match e.span() {
                Some(s) if !spans.contains(&s) && !named.contains(&s) => spans.push(s),
                _ => return (None, left_out),
            },
        }
    }
    (None, LeftOut::default())
}

/// The spans of the whole document, of its top-level tables (`[services]`) and of
/// their entries (`[services.api]`, `[environments.dev]`); `None` when it does not parse.
fn named_entries(text: &str) -> Option<Vec<Range<usize>>> {
    let doc = DeTable::parse(text).ok()?;
    let mut out = vec![doc.span()];
    for section in doc.get_ref().values() {
        out.push(section.span());
        if let DeValue::Table(t) = section.get_ref() {
            out.extend(t.values().map(|entry| entry.span()));
        }
    }
    Some(out)
}

fn prune_table(
    table: &mut DeTable<'_>,
    span: Range<usize>,
    path: &[String],
    spans: &[&Range<usize>],
    left_out: &mut LeftOut,
) {
    let old = std::mem::replace(table, DeTable::new());
    let mut extent = span.clone();
    let mut keys = Vec::new();
    for (key, mut value) in old {
        extent.start = extent.start.min(key.span().start);
        extent.end = extent.end.max(value.span().end);
        if spans.contains(&&key.span()) || spans.contains(&&value.span()) {
            left_out.entries.push(key.span());
            left_out.entries.push(value.span());
            keys.push(key.get_ref().to_string());
            continue;
        }
        let mut below = path.to_vec();
        below.push(key.get_ref().to_string());
        prune_value(&mut value, &below, spans, left_out);
        table.insert(key, value);
    }
    if !keys.is_empty() {
        left_out.holders.push(Holder {
            span,
            extent,
            keys,
            path: path.to_vec(),
        });
    }
}

fn prune_value(
    value: &mut Item<'_>,
    path: &[String],
    spans: &[&Range<usize>],
    left_out: &mut LeftOut,
) {
    let span = value.span();
    match value.get_mut() {
        DeValue::Table(t) => prune_table(t, span, path, spans, left_out),
        DeValue::Array(a) => {
            let old = std::mem::replace(a, std::iter::empty().collect());
            let mut lost = false;
            for mut v in old {
                if spans.contains(&&v.span()) {
                    left_out.entries.push(v.span());
                    lost = true;
                    continue;
                }
                prune_value(&mut v, path, spans, left_out);
                a.push(v);
            }
            if lost {
                left_out.holders.push(Holder {
                    extent: span.clone(),
                    span,
                    keys: Vec::new(),
                    path: path.to_vec(),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{OverlayFile, PlatformFile};
    use serde::Deserialize;

    /// Every error of `text` read as `T`, as `line:column: message`.
    fn errors<T: DeserializeOwned + JsonSchema>(text: &str) -> Vec<String> {
        let doc = DeTable::parse(text).expect("valid TOML");
        let first = T::deserialize(toml::de::Deserializer::from(doc))
            .err()
            .expect("an error");
        every_error::<T>(text, &first)
            .into_iter()
            .map(|f| {
                let line = text[..f.span.start].matches('\n').count() + 1;
                let col = f.span.start - text[..f.span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{line}:{col}: {}", f.message)
            })
            .collect()
    }

    const BASE: &str =
        "[platform]\nname = \"acme\"\nrepo = \"https://x.test/r.git\"\n\n[environments.dev]\n";

    #[test]
    fn a_single_error_is_serdes() {
        let text = format!("{BASE}sync = \"automatic\"\n");
        assert_eq!(
            errors::<PlatformFile>(&text),
            ["6:8: unknown variant `automatic`, expected `auto` or `manual`"]
        );
    }

    #[test]
    fn every_wrong_type_unknown_key_and_missing_key() {
        let text = format!(
            "{BASE}sync = \"automatc\"\n[environments.prod]\nsync = \"manul\"\nproducton = true\n\n\
             [services.api]\nreplicas = \"3\"\nport = 8080\nsecrets = [{{ name = \"a\", from = \"ssm\", key = \"k\", jsonkey = \"x\" }}, {{ name = \"b\" }}]\n\
             [services.web.resources.requests]\ncpu = 1\n"
        );
        assert_eq!(
            errors::<PlatformFile>(&text),
            [
                "6:8: unknown variant `automatc`, expected `auto` or `manual`",
                "8:8: unknown variant `manul`, expected `auto` or `manual`",
                "9:1: unknown field `producton`, expected one of `cluster`, `namespace`, `project`, `sync`, `production`, `vars`, `secret_prefixes`, `workload_identity`, `secrets_backend`, `ingress`, `network_policy`, `external_secrets`",
                "12:12: invalid type: string \"3\", expected i64",
                "14:51: unknown field `jsonkey`, expected one of `name`, `from`, `key`, `json_key`",
                "14:68: missing field `from`",
                "14:68: missing field `key`",
                "16:7: invalid type: integer `1`, expected a string",
            ]
        );
    }

    #[test]
    fn missing_keys_of_the_root_and_of_a_table_with_errors_inside() {
        assert_eq!(
            errors::<PlatformFile>("[defaults]\nport = \"x\"\n"),
            [
                "1:1: missing field `platform`",
                "1:1: missing field `environments`",
                "2:8: invalid type: string \"x\", expected i64",
            ]
        );
        assert_eq!(
            errors::<PlatformFile>("[platform]\nregistry = 1\n[environments]\n"),
            [
                "1:1: missing field `name`",
                "1:1: missing field `repo`",
                "2:12: invalid type: integer `1`, expected a string",
            ]
        );
    }

    #[test]
    fn a_wrong_table_is_one_error_not_one_per_entry() {
        // `port` is a table here: one error, its entries are not looked at.
        let text = format!(
            "{BASE}[services.api]\nport = {{ a = 1, b = \"x\" }}\nwaivers = {{ rule = 1 }}\n"
        );
        assert_eq!(
            errors::<PlatformFile>(&text),
            [
                "7:8: invalid type: map, expected i64",
                "8:11: invalid type: map, expected a sequence",
            ]
        );
    }

    #[test]
    fn implicit_tables_dotted_keys_and_arrays_of_tables() {
        let text = format!(
            "{BASE}[services.api.resources.requests]\ncpu = 1\nmemory = 2\n\
             [services.api.probes]\nliveness = 3\n\
             [[services.api.secrets]]\nname = \"a\"\n\
             [[services.api.secrets]]\nname = \"b\"\nfrom = \"x\"\nkey = \"k\"\n\
             [services.web]\nautoscaling.mx = 3\nautoscaling.min = \"1\"\n"
        );
        assert_eq!(
            errors::<PlatformFile>(&text),
            [
                "7:7: invalid type: integer `1`, expected a string",
                "8:10: invalid type: integer `2`, expected a string",
                "10:12: invalid type: integer `3`, expected an HTTP path such as \"/health\", or a table such as { tcp = \"http\" }",
                "11:1: missing field `from`",
                "11:1: missing field `key`",
                "15:8: unknown variant `x`, expected `secretsmanager` or `ssm`",
                "18:13: unknown field `mx`, expected one of `enabled`, `min`, `max`, `cpu`, `memory`, `behavior`",
                "19:19: invalid type: string \"1\", expected i64",
            ]
        );
    }

    #[test]
    fn overlays() {
        assert_eq!(
            errors::<OverlayFile>(
                "[environment]\nsync = 1\n[services.api]\ntag = 1\nautoscaling = { mx = 3, min = \"2\" }\n"
            ),
            [
                "2:8: wanted string or table",
                "4:7: invalid type: integer `1`, expected a string",
                "5:17: unknown field `mx`, expected one of `enabled`, `min`, `max`, `cpu`, `memory`, `behavior`",
                "5:31: invalid type: string \"2\", expected i64",
            ]
        );
    }

    /// What `repaired` leaves out hides the findings it causes, and no other: not a
    /// sibling's in an inline table, nor one in the table that names no key left out.
    #[test]
    fn a_mistaken_value_hides_nothing_but_itself() {
        let text = format!(
            "{BASE}[services.api]\ncron = {{ concurrency = \"forbid\", time_zone = \"x\" }}\ncalls = [\"a\", 5]\n\
             [services.api.probes.readiness]\nhttp = 5\nport = \"admin\"\n"
        );
        let doc = DeTable::parse(&text).expect("valid TOML");
        let first =
            PlatformFile::deserialize(toml::de::Deserializer::from(doc)).expect_err("an error");
        let found = every_error::<PlatformFile>(&text, &first);
        let (value, left) = repaired::<PlatformFile>(&text, &found);
        assert!(value.is_some());
        let at = |s: &str| {
            let i = text.find(s).expect(s);
            i..i + s.len()
        };
        // What was left out, and what is about its whole table.
        assert!(left.hides(&at("\"forbid\""), "unknown value"));
        assert!(left.hides(
            &at("{ concurrency = \"forbid\", time_zone = \"x\" }"),
            "`cron` does not apply to a `deployment`"
        ));
        assert!(left.hides(&at("[\"a\", 5]"), "calls"));
        // Its siblings: a time zone, another element.
        assert!(!left.hides(&at("\"x\""), "time zone `x`: not an IANA time zone name"));
        assert!(!left.hides(
            &at("\"a\""),
            "service `api` calls `a`, which platform.toml does not define"
        ));
        // In a standard table, a check that names the key left out (`http`) is hidden,
        // a check of the sibling alone is not.
        let admin = at("\"admin\"");
        assert!(left.hides(&admin, "`probes.readiness` sets `port` without `http`"));
        assert!(!left.hides(&admin, "probe port: `admin` is not a port name"));
    }

    /// A key left out hides the findings that name the key it misspells; a table of
    /// platform.toml that lost one hides, in other files, the findings that name the
    /// table's path and that key, and no other.
    #[test]
    fn a_misspelt_key_hides_what_names_the_key_meant() {
        let text = format!("{BASE}[services.report]\nkind = \"cronjob\"\nschedul = \"@daily\"\n");
        let doc = DeTable::parse(&text).expect("valid TOML");
        let first =
            PlatformFile::deserialize(toml::de::Deserializer::from(doc)).expect_err("an error");
        let found = every_error::<PlatformFile>(&text, &first);
        let (_, left) = repaired::<PlatformFile>(&text, &found);
        let header = text.find("report]").expect("header");
        let header = header..header + "report".len();
        assert!(left.hides(&header, "cronjob `report` has no `schedule`"));
        assert!(!left.hides(&header, "cronjob `report` has no `cron`"));
        assert!(left.hides_elsewhere("cronjob `report` has no `schedule`"));
        assert!(!left.hides_elsewhere("cronjob `nightly` has no `schedule`"));
        assert!(!left.hides_elsewhere("`report` has no `image`"));
        assert!(!left.hides_elsewhere("cronjob `report` has no `image`"));
    }

    #[test]
    fn a_message_names_a_key_in_backticks_alone_dotted_or_with_its_value() {
        for m in [
            "`http`",
            "`probes.http` is",
            "`max_surge = 1` with",
            "sets `port` without `http`",
        ] {
            assert!(
                names_key(
                    m,
                    if m.contains("max_surge") {
                        "max_surge"
                    } else {
                        "http"
                    }
                ),
                "{m}"
            );
        }
        for m in ["an http probe", "`https`", "`http_port`", "`xhttp`"] {
            assert!(!names_key(m, "http"), "{m}");
        }
    }

    #[test]
    fn the_search_stops_at_the_limit() {
        let mut text = String::from(BASE);
        text.push_str("[services.api]\n");
        for i in 0..MAX_ERRORS + 5 {
            text.push_str(&format!("k{i} = 1\n"));
        }
        let found = errors::<PlatformFile>(&text);
        assert_eq!(found.len(), MAX_ERRORS);
        assert!(
            found[0].starts_with("7:1: unknown field `k0`"),
            "{}",
            found[0]
        );
    }
}
