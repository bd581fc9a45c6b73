//! TOML and serde errors as kgen's diagnostics: the toml crate's and serde's words
//! turned into rule codes, "did you mean"s and helps, a duplicate key pointed at its
//! first definition, and secret-looking values masked in messages and snippets.

use std::ops::Range;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::source::{FileId, Origin};
use crate::{rules, secret_scan};

/// A TOML syntax error at `span` of `text` as a diagnostic; its snippet is masked
/// when its line holds a secret-looking value (a file that does not parse is not
/// scanned value by value).
pub(super) fn toml_diagnostic(
    text: &str,
    file: FileId,
    message: &str,
    span: Range<usize>,
) -> Diagnostic {
    let mut d = toml_error_diagnostic(message, Origin::new(file, span.clone()), None);
    if message.trim() == "duplicate key" {
        if let Some(help) = first_definition(text, &span) {
            d = d.help(help);
        }
    }
    // The snippet shows the line of the error: mask it if it holds a secret
    // (a file that is not valid TOML is not scanned by `scan_toml`).
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text.get(line_start..line_end).unwrap_or("");
    if d.code == rules::TOML_SYNTAX && message.trim() != "duplicate key" {
        if let Some(help) = unquoted_string(line, start - line_start) {
            d = d.help(help);
        }
    }
    let secret_line = secret_scan::scan("", line).is_some();
    if secret_line {
        // Mask the value, not the diagnosis: the message keeps what is wrong, with
        // any quoted value in it masked, and the snippet hides the whole line (a file
        // that does not parse could not be scanned value by value).
        d.message = mask_quoted(&d.message);
        d.redact_line = true;
    }
    d
}

/// For a syntax error at byte `at` of `line`, where a bare word stands for a value
/// (`tag = 2.0.2`, `tag = v1.4`, `{ class = nginx }`, `["a", b]`): the help to quote it,
/// as written, the usual slip (a tag looks like a number); to write `true` or `false`
/// for a boolean spelt `yes` or `True`. `None` when no such word is there.
fn unquoted_string(line: &str, at: usize) -> Option<String> {
    let word_byte = |b: u8| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+' | b':' | b'/' | b'@')
    };
    let bytes = line.as_bytes();
    let at = at.min(bytes.len());
    let start = bytes[..at]
        .iter()
        .rposition(|&b| !word_byte(b))
        .map_or(0, |i| i + 1);
    let end = bytes[at..]
        .iter()
        .position(|&b| !word_byte(b))
        .map_or(bytes.len(), |i| at + i);
    let value = line.get(start..end)?;
    // A value follows `=` (a key's) or `[`/`,` (an array's).
    let before = line[..start].trim_end();
    // A table header (`[services.api]`), not an array.
    if before.trim_start().starts_with('[') && !before.contains('=') {
        return None;
    }
    let key = if let Some(k) = before.strip_suffix('=') {
        let k = k.trim_end();
        let from = k
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(0, |i| i + 1);
        Some(&k[from..]).filter(|k| !k.is_empty())
    } else if before.ends_with('[') || before.ends_with(',') {
        None
    } else {
        return None;
    };
    if value.is_empty()
        || matches!(value, "true" | "false" | "inf" | "nan")
        || format!("v = {value}").parse::<toml::Table>().is_ok()
    {
        return None;
    }
    let written = |v: &str| match key {
        Some(k) => format!("`{k} = {v}`"),
        None => format!("`{v}`"),
    };
    // A boolean spelt as YAML or Python would (`yes`, `True`): lower-case TOML's.
    let truth = match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some("true"),
        "false" | "no" | "off" => Some("false"),
        _ => None,
    };
    if let Some(b) = truth {
        return Some(format!(
            "a boolean is `true` or `false`: {} (or, where a string goes, {})",
            written(b),
            written(&format!("\"{value}\""))
        ));
    }
    let tag = if key.is_some_and(|k| k == "tag" || k.ends_with(".tag")) {
        " (an image tag too, even one that looks like a number)"
    } else {
        ""
    };
    Some(format!(
        "a string is written in quotes: {}{tag}",
        written(&format!("\"{value}\""))
    ))
}

/// For a duplicate key at `span`: where the first definition is, and what to do.
/// A table header (`[services.worker]`) is looked for among the headers above it,
/// a key (`port = ...`) among the lines of its table above it.
fn first_definition(text: &str, span: &Range<usize>) -> Option<String> {
    let start = span.start.min(text.len());
    let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?.trim();
    let header = |l: &str| -> Option<String> {
        let l = l.trim();
        let inner = l.strip_prefix('[').filter(|r| !r.starts_with('['))?;
        Some(inner.split(']').next()?.split_whitespace().collect())
    };
    let above = text[..line_start].lines().enumerate().collect::<Vec<_>>();
    if let Some(name) = header(line) {
        let (n, _) = above
            .iter()
            .find(|(_, l)| header(l).as_deref() == Some(name.as_str()))?;
        return Some(format!(
            "`[{name}]` is already defined at line {}: merge the two tables into one",
            n + 1
        ));
    }
    let key = text.get(span.clone())?.trim();
    for (n, l) in above.iter().rev() {
        let l = l.trim();
        if l.starts_with('[') {
            break;
        }
        let set = l.strip_prefix(key).is_some_and(|rest| {
            let rest = rest.trim_start();
            rest.starts_with('=') || rest.starts_with('.')
        });
        if set {
            return Some(format!(
                "`{key}` is already set at line {} of this table: keep one of the two",
                n + 1
            ));
        }
    }
    None
}

/// `message` with the text of every `"…"` or `'…'` replaced by `***`: a toml or serde
/// message quotes the value it is about (`invalid type: string "…"`).
fn mask_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push_str("***");
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        out.push_str("***");
    }
    out
}

/// serde names a TOML date or time "map" (that is how the toml crate hands it over):
/// name it for what it is, quoting the value.
pub(super) fn name_the_type(message: &str, value: &str) -> String {
    let v = value.trim();
    let datetime = v.len() >= 5
        && v.bytes().next().is_some_and(|c| c.is_ascii_digit())
        && v.bytes().all(|c| {
            c.is_ascii_digit() || matches!(c, b'-' | b':' | b'.' | b'T' | b'Z' | b'+' | b' ')
        });
    match message.strip_prefix("invalid type: map") {
        Some(rest) if datetime => {
            let what = if v.contains(':') && v.contains('-') {
                "a date-time"
            } else if v.contains(':') {
                "a time"
            } else {
                "a date"
            };
            format!("invalid type: {what} `{v}`{rest}")
        }
        _ => message.to_string(),
    }
}

/// Classifies a toml/serde error message into a kgen diagnostic with a helpful hint.
/// `key` is the dotted path of the value a wrong type is about, when known
/// (`services.api.autoscaling.max`): the message names it, and the help says how to
/// write the value.
pub(super) fn toml_error_diagnostic(
    message: &str,
    origin: Origin,
    key: Option<&str>,
) -> Diagnostic {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, expected) = split_expected(rest);
        let mut d =
            Diagnostic::error(rules::UNKNOWN_KEY, format!("unknown key `{name}`")).at(origin);
        if let Some(s) = did_you_mean(&name, expected.iter().map(String::as_str)) {
            d = d.label(s);
        }
        if !expected.is_empty() {
            d = d.help(format!(
                "the keys allowed here are: {}",
                expected.join(", ")
            ));
        }
        return d;
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (name, expected) = split_expected(rest);
        let mut d =
            Diagnostic::error(rules::WRONG_TYPE, format!("unknown value `{name}`")).at(origin);
        if let Some(s) = did_you_mean(&name, expected.iter().map(String::as_str)) {
            d = d.label(s);
        }
        if !expected.is_empty() {
            d = d.help(format!("write one of: {}", expected.join(", ")));
        }
        return d;
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        return Diagnostic::error(rules::MISSING_KEY, format!("missing required key `{name}`"))
            .at(origin)
            .label(format!("add `{name} = ...` to this table"))
            .help("see docs/platform.md for every key, its type and its default");
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let friendly = message
            .replace("expected u32", "expected a non-negative integer")
            .replace("expected i64", "expected an integer")
            .replace("expected a boolean", "expected `true` or `false`")
            .replace("expected a string", "expected a string in quotes")
            .replace("expected a map", "expected a table");
        // serde names a table by its Rust type (`expected struct ServiceIngressLayer`).
        let friendly = match friendly.split_once("expected struct ") {
            Some((before, after)) => {
                let rest = after.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
                format!("{before}expected a table{rest}")
            }
            None => friendly,
        };
        // A number or boolean where a string belongs (`tag = 1.0`): say to quote it;
        // the other way round, say to unquote.
        let unquoted = [
            "floating point `",
            "integer `",
            "boolean `",
            "date-time `",
            "date `",
            "time `",
        ]
        .iter()
        .find_map(|t| message.split_once(t))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(literal, _)| literal)
        .filter(|_| message.contains("expected a string"));
        let env_table = message.contains(crate::input::ENV_VALUE_EXPECTING);
        let fix = key.and_then(|k| type_fix(message, k));
        let help = match unquoted {
            _ if env_table => "an environment variable is a literal (a string, number or boolean) or a table that reads its value when the pod starts: { field = \"metadata.name\" }, { resource = \"limits.cpu\" }, { config_map = \"<name>\", key = \"<key>\" } or { secret = \"<name>\", key = \"<key>\" } (docs/platform.md#environment-variables-and-references)".to_string(),
            Some(literal) => format!(
                "a string is written in quotes: `\"{literal}\"` (see docs/platform.md for the type of every key)"
            ),
            None if fix.is_some() => fix.unwrap_or_default(),
            None => "see docs/platform.md for the type of every key (numbers and booleans are written without quotes)".to_string(),
        };
        return Diagnostic::error(rules::WRONG_TYPE, with_key(&friendly, key))
            .at(origin)
            .help(help);
    }
    if message == "wanted string or table" {
        // The toml crate's words for a value of the wrong type where a choice (an
        // enum: `from`, `sync`, `kind`, ...) is expected.
        return Diagnostic::error(
            rules::WRONG_TYPE,
            with_key(
                "invalid type: expected a string in quotes (one of the values allowed here)",
                key,
            ),
        )
        .at(origin)
        .help("write the value in quotes, e.g. `from = \"ssm\"`; see docs/platform.md for the values each key allows");
    }
    Diagnostic::error(rules::TOML_SYNTAX, format!("invalid TOML: {message}"))
        .at(origin)
        .help("see https://toml.io for the syntax")
}

/// From "x`, expected one of `a`, `b`" returns ("x", ["a", "b"]).
fn split_expected(rest: &str) -> (String, Vec<String>) {
    let mut parts = rest.splitn(2, '`');
    let name = parts.next().unwrap_or("").to_string();
    let tail = parts.next().unwrap_or("");
    let expected = tail
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect();
    (name, expected)
}

/// `invalid type for `services.api.autoscaling.max`: string "6", …`: serde's
/// `invalid type: …` (or `invalid value: …`) naming the key it is about.
fn with_key(message: &str, key: Option<&str>) -> String {
    match (key, message.split_once(": ")) {
        (Some(k), Some((what, rest))) if what.starts_with("invalid ") => {
            format!("{what} for `{k}`: {rest}")
        }
        _ => message.to_string(),
    }
}

/// For a value of the wrong type at `path`, how to write it (`write `6` without
/// quotes (a number)`): a number or boolean in quotes, a string or a number where a
/// list or a table goes, a list or table where a string goes, a fraction where an
/// integer goes. The value alone, as the line may spell the key dotted
/// (`autoscaling.max = "6"`). `None` when serde's words say nothing that fixes it.
fn type_fix(message: &str, path: &str) -> Option<String> {
    let (got, expected) = message
        .strip_prefix("invalid type: ")?
        .split_once(", expected ")?;
    let quoted = got
        .strip_prefix("string \"")
        .and_then(|g| g.strip_suffix('"'));
    let integer = expected.contains("integer") || expected.starts_with(['u', 'i']);
    let float = expected.contains("float") || expected.starts_with('f');
    if let Some(text) = quoted.map(str::trim) {
        if (integer && text.parse::<i64>().is_ok()) || (float && text.parse::<f64>().is_ok()) {
            return Some(format!("write `{text}` without quotes (a number)"));
        }
        if expected.contains("boolean") {
            return Some(match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => "write `true` without quotes (a boolean)".to_string(),
                "false" | "no" | "off" => "write `false` without quotes (a boolean)".to_string(),
                _ => "write `true` or `false`, without quotes (a boolean)".to_string(),
            });
        }
    }
    let scalar = quoted.is_some()
        || ["integer", "floating", "boolean"]
            .iter()
            .any(|p| got.starts_with(p));
    if scalar && expected.contains("sequence") {
        let item = quoted.map_or("...".to_string(), |t| format!("\"{t}\""));
        return Some(format!("write a list, in square brackets: `[{item}]`"));
    }
    if scalar
        && ["struct", "a map", "a table"]
            .iter()
            .any(|t| expected.starts_with(t))
    {
        let section = if path.contains('[') {
            String::new()
        } else {
            format!(", or a section `[{path}]` with a key a line")
        };
        return Some(format!(
            "write a table: `{{ ... }}` with its keys{section} (see docs/platform.md)"
        ));
    }
    if (got == "sequence" || got == "map") && expected.contains("string") {
        let what = if got == "sequence" {
            "a list"
        } else {
            "a table"
        };
        return Some(format!("write one string in quotes, not {what}: `\"...\"`"));
    }
    if integer && got.starts_with("floating point `") {
        let f = got
            .trim_start_matches("floating point `")
            .trim_end_matches('`');
        return Some(
            match f.strip_suffix(".0").filter(|w| w.parse::<i64>().is_ok()) {
                Some(w) => format!("write `{w}`: an integer has no decimal point"),
                None => "write a whole number, without a fraction".to_string(),
            },
        );
    }
    None
}
