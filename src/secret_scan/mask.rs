//! Masking of secret-looking words in the lines and messages kgen prints.

use super::*;

/// A value (not a key/value pair) that looks like a secret by its shape alone: a
/// known secret shape ([`scan`] without a name) or [`is_random_token`].
pub fn looks_secret(v: &str) -> bool {
    !v.trim().is_empty() && (scan("", v).is_some() || is_random_token(v))
}

/// A line of an input file with every secret-looking value masked by as many `*` (so
/// that a caret under the line still points at the right column); `None` when
/// nothing is masked. Each quoted string on the line (TOML or YAML, escapes decoded)
/// that [`scan`] would refuse under the key written before it, or whose value or
/// one of its lines [`looks_secret`], is masked whole, quotes kept (a private key
/// written on one line with `\n` escapes, whose words are not secrets one by one);
/// then every other secret-looking word (split at whitespace and TOML punctuation).
pub fn mask_line(line: &str) -> Option<String> {
    let literals = string_literals(line);
    let secret: Vec<std::ops::Range<usize>> = literals
        .iter()
        .filter(|l| is_secret_literal(l) && !is_secret_name(l, &literals, line))
        .map(|l| l.content.clone())
        .collect();
    // The strings are in the order of the line, apart: one pass.
    let whole = (!secret.is_empty()).then(|| {
        let mut out = String::with_capacity(line.len());
        let mut from = 0;
        for r in &secret {
            out.push_str(&line[from..r.start]);
            out.extend(line[r.clone()].chars().map(|_| '*'));
            from = r.end;
        }
        out.push_str(&line[from..]);
        out
    });
    let text = whole.as_deref().unwrap_or(line);
    mask_words(text, true, |c| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '{' | '}' | '[' | ']' | '=')
    })
    .or(whole)
}

/// A quoted string on one line of an input file.
#[derive(Debug, PartialEq, Eq)]
struct Literal<'a> {
    /// The key written before it (`KEY = "…"`, `key: "…"`), quotes taken off; empty
    /// when there is none (an element of an array).
    key: &'a str,
    /// Byte range of the text between the quotes (to the end of the line when the
    /// string goes on, or is not closed, there).
    content: std::ops::Range<usize>,
    /// The value, escapes of a double-quoted string decoded.
    value: String,
}

/// Whether the secret scanner refuses the string: by its key and value ([`scan`]),
/// or by its value, or a line of it, alone ([`looks_secret`]).
fn is_secret_literal(l: &Literal<'_>) -> bool {
    scan(l.key, &l.value).is_some()
        || looks_secret(&l.value)
        || (l.value.contains('\n') && l.value.lines().any(looks_secret))
}

/// Whether `l` is the name of a Secret an environment variable reads, as in
/// `env.X = { secret = "shop-shared", key = "currency" }`: a reference to an object,
/// not a secret, which the scan judges by its shape only (it is no value of a named
/// table), so the snippet shows it unless its shape is a secret's. Narrowly: under
/// `secret` in an inline table (`{ … }` on the line) that also has a `key`, and a
/// valid object name (DNS-1123 subdomain). Anything else under `secret` (a variable
/// named so in `[...env]`, the table written over several lines) stays masked by
/// its key, and a name refused elsewhere in the run is masked on every line anyway.
fn is_secret_name(l: &Literal<'_>, literals: &[Literal<'_>], line: &str) -> bool {
    if l.key != "secret"
        || looks_secret(&l.value)
        || crate::names::check_dns1123_subdomain(&l.value).is_err()
    {
        return false;
    }
    // Braces inside strings do not count.
    let outside = |i: usize| !literals.iter().any(|o| o.content.contains(&i));
    let start = l.content.start;
    let Some(open) = line[..start]
        .char_indices()
        .rev()
        .filter(|&(i, _)| outside(i))
        .try_fold(0usize, |depth, (i, c)| match c {
            '}' => Ok(depth + 1),
            '{' if depth == 0 => Err(i),
            '{' => Ok(depth - 1),
            _ => Ok(depth),
        })
        .err()
    else {
        return false;
    };
    let end = l.content.end;
    let close = line[end..]
        .char_indices()
        .filter(|&(i, _)| outside(end + i))
        .try_fold(0usize, |depth, (i, c)| match c {
            '{' => Ok(depth + 1),
            '}' if depth == 0 => Err(end + i),
            '}' => Ok(depth - 1),
            _ => Ok(depth),
        })
        .err()
        .unwrap_or(line.len());
    // The table is an environment variable's source, not a table of named values
    // (`env = { secret = "…", key = "…" }` sets two variables, `secret` and `key`).
    let table = key_before(&line[..open]);
    let table = table.rsplit('.').next().unwrap_or(table);
    if toml_scan::NAMED_VALUE_TABLES.contains(&table) || table == "values" {
        return false;
    }
    let inside: Vec<&Literal<'_>> = literals
        .iter()
        .filter(|o| o.content.start > open && o.content.end <= close)
        .collect();
    inside.iter().any(|o| o.key == "key") && inside.iter().all(|o| ENV_SOURCE_KEYS.contains(&o.key))
}

/// The keys of an environment variable's source table (docs/platform.md).
const ENV_SOURCE_KEYS: &[&str] = &[
    "field",
    "resource",
    "container",
    "divisor",
    "config_map",
    "secret",
    "key",
    "optional",
];

/// The quoted strings of one line (`"…"` with backslash escapes, `'…'`, and the
/// triple-quoted ones of TOML), outside comments. A quote inside a word (`it's`)
/// starts no string.
fn string_literals(line: &str) -> Vec<Literal<'_>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let starts = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            break;
        }
        if !(matches!(c, b'"' | b'\'') && starts) {
            i += 1;
            continue;
        }
        let triple = b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c);
        let open = if triple { 3 } else { 1 };
        let start = i + open;
        let mut j = start;
        let mut value = String::new();
        while j < b.len() {
            if triple && b[j..].starts_with(&[c, c, c]) {
                break;
            }
            if !triple && b[j] == c {
                break;
            }
            if c == b'"' && b[j] == b'\\' && j + 1 < b.len() {
                match b[j + 1] {
                    b'n' => value.push('\n'),
                    b't' => value.push('\t'),
                    b'r' => value.push('\r'),
                    b'"' => value.push('"'),
                    b'\\' => value.push('\\'),
                    other if other.is_ascii() => {
                        value.push('\\');
                        value.push(other as char);
                    }
                    _ => {
                        value.push('\\');
                        j += 1;
                        continue;
                    }
                }
                j += 2;
                continue;
            }
            // Whole characters: `j` stays on a character boundary.
            let ch = line[j..].chars().next().expect("j is inside the line");
            value.push(ch);
            j += ch.len_utf8();
        }
        let end = j.min(b.len());
        out.push(Literal {
            key: key_before(&line[..i]),
            content: start.min(end)..end,
            value,
        });
        i = end + open;
    }
    out
}

/// The key of a `key = ` (TOML) or `key: ` (YAML) that `before` ends with, quotes
/// taken off; empty when it ends with neither.
fn key_before(before: &str) -> &str {
    let t = before.trim_end();
    let Some(t) = t.strip_suffix('=').or_else(|| t.strip_suffix(':')) else {
        return "";
    };
    let t = t.trim_end();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_suffix(q) {
            return inner.rfind(q).map_or("", |i| &inner[i + 1..]);
        }
    }
    let from = t
        .rfind(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')))
        .map_or(0, |i| i + t[i..].chars().next().map_or(1, char::len_utf8));
    &t[from..]
}

/// Characters trimmed from a word before it is judged, and at which a word is split
/// into pieces (`host.example.com`, `a/b`, `k=v`) when it is not a secret as a whole.
pub(super) fn is_piece_separator(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ';'
            | ':'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '<'
            | '>'
            | '"'
            | '\''
            | '!'
            | '?'
            | '/'
            | '@'
            | '='
            | '&'
            | '#'
            | '|'
    )
}

/// `word` masked when it looks like a secret as a whole (trimmed of punctuation), or
/// with each random-looking piece of it masked; `None` when nothing is. With `fill`,
/// a masked part becomes as many `*` as it has characters, else `***`.
pub(super) fn mask_word(word: &str, fill: bool) -> Option<String> {
    let stars = |s: &str| {
        if fill {
            "*".repeat(s.chars().count())
        } else {
            "***".to_string()
        }
    };
    let core = word.trim_matches(is_piece_separator);
    if core.is_empty() {
        return None;
    }
    if looks_secret(core) {
        let at = word.find(core).unwrap_or(0);
        return Some(format!(
            "{}{}{}",
            &word[..at],
            stars(core),
            &word[at + core.len()..]
        ));
    }
    let mut out = String::with_capacity(word.len());
    let mut changed = false;
    let mut rest = word;
    while !rest.is_empty() {
        let sep = rest
            .find(|c: char| !is_piece_separator(c))
            .unwrap_or(rest.len());
        out.push_str(&rest[..sep]);
        rest = &rest[sep..];
        let end = rest.find(is_piece_separator).unwrap_or(rest.len());
        let piece = &rest[..end];
        if is_random_token(piece) {
            out.push_str(&stars(piece));
            changed = true;
        } else {
            out.push_str(piece);
        }
        rest = &rest[end..];
    }
    changed.then_some(out)
}

/// `text` with every word (split where `separator` says) passed through [`mask_word`].
pub(super) fn mask_words(
    text: &str,
    fill: bool,
    separator: impl Fn(char) -> bool,
) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while !rest.is_empty() {
        let sep = rest.find(|c: char| !separator(c)).unwrap_or(rest.len());
        out.push_str(&rest[..sep]);
        rest = &rest[sep..];
        let end = rest.find(&separator).unwrap_or(rest.len());
        let word = &rest[..end];
        match mask_word(word, fill) {
            Some(m) => {
                out.push_str(&m);
                changed = true;
            }
            None => out.push_str(word),
        }
        rest = &rest[end..];
    }
    changed.then_some(out)
}

/// Masks every secret-looking piece of a message (`***`), by one rule, for every
/// message kgen prints: the text between two backticks is judged whole (a value
/// with spaces in it), then every word (split at whitespace) and every piece of a
/// word (split at punctuation): a piece is masked when [`looks_secret`] (a known
/// secret shape, or [`is_random_token`]). Returns `None` when nothing is masked.
pub fn mask_message(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    for (k, part) in parts.iter().enumerate() {
        if k > 0 {
            out.push('`');
        }
        let quoted = k % 2 == 1 && k + 1 < parts.len();
        if quoted && part.contains(char::is_whitespace) && looks_secret(part) {
            out.push_str("***");
            changed = true;
            continue;
        }
        match mask_words(part, false, char::is_whitespace) {
            Some(m) => {
                out.push_str(&m);
                changed = true;
            }
            None => out.push_str(part),
        }
    }
    changed.then_some(out)
}
