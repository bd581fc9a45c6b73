//! Deterministic YAML emitter for rendered Kubernetes objects.
//!
//! This module owns the last step of a render: turning one `serde_json::Value` into the
//! YAML text kgen writes to disk. kgen has its own small emitter instead of going through
//! a serde YAML serializer because the output has to be byte-identical on every run and
//! machine, and read back to exactly the same values by YAML 1.1 readers (PyYAML, Go
//! yaml.v2) and YAML 1.2 readers (serde_norway, kubectl) alike. That needs exact control
//! over three things a generic serializer decides for us:
//!
//! * key order: `apiVersion`, `kind`, `metadata`, `spec` first at the top level, every
//!   other mapping sorted by byte order, whatever order the map holds;
//! * quoting: a string is written plain only when no reader could take it for anything
//!   but a string (see `is_plain_safe`); otherwise it is double-quoted;
//! * layout: two-space indentation, kubectl-style lists (`- ` at the key's indentation),
//!   literal block scalars (`|`, `|-`, `|+`) for multi-line text.
//!
//! The classifier is hand-written and conservative: when a string is ambiguous in any
//! schema it is quoted, which costs two characters and never changes the value.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// Appends `value` as one YAML document (block style, no leading `---`, ending in a newline) to `out`.
/// Top-level mapping keys come in Kubernetes order: `apiVersion`, `kind`, `metadata`, `spec`, then the rest sorted by byte order.
/// Nested mapping keys are sorted by byte order (whatever order the serde_json Map holds: do not rely on it, sort explicitly).
pub fn write_document(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            write_map(top_level_entries(map).into_iter(), 0, false, out);
        }
        Value::Array(items) if !items.is_empty() => write_seq(items, 0, false, out),
        Value::String(s) if is_literal_block(s) => write_literal_block(s, 2, out),
        scalar => {
            write_scalar(scalar, out);
            out.push('\n');
        }
    }
}

/// Convenience: `write_document` into a fresh String.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_document(value, &mut out);
    out
}

/// Keys that lead a top-level mapping, in this order.
const K8S_KEY_ORDER: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];

/// Keys longer than this are written as explicit `? key` entries: YAML readers only
/// accept implicit (`key: value`) keys up to 1024 characters.
const MAX_IMPLICIT_KEY_LEN: usize = 1000;

type Entries<'a> = Vec<(&'a str, &'a Value)>;

fn sorted_entries(map: &Map<String, Value>) -> Entries<'_> {
    let mut entries: Entries<'_> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    entries
}

fn top_level_entries(map: &Map<String, Value>) -> Entries<'_> {
    let mut entries = sorted_entries(map);
    // A stable sort on the rank keeps the byte order among the remaining keys.
    entries.sort_by_key(|(key, _)| {
        K8S_KEY_ORDER
            .iter()
            .position(|k| k == key)
            .unwrap_or(K8S_KEY_ORDER.len())
    });
    entries
}

fn pad(indent: usize, out: &mut String) {
    const SPACES: &str = "                                                                ";
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        left -= n;
    }
}

/// True when serde_json's map iterates in byte order of its keys (a `BTreeMap`,
/// without serde_json's `preserve_order` feature, which another crate could turn
/// on): then a map is written as it iterates, with no check or sort. Found out once.
fn maps_are_sorted() -> bool {
    static SORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SORTED.get_or_init(|| {
        let mut probe = Map::new();
        for key in ["b", "a", "B", "c"] {
            probe.insert(key.to_string(), Value::Null);
        }
        probe.keys().map(String::as_str).eq(["B", "a", "b", "c"])
    })
}

/// Writes a non-empty mapping whose keys sit at `indent`. With `inline_first` the first
/// key goes on the current line (after a `- ` or `: ` already written).
fn write_map<'a>(
    entries: impl Iterator<Item = (&'a str, &'a Value)>,
    indent: usize,
    inline_first: bool,
    out: &mut String,
) {
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 || !inline_first {
            pad(indent, out);
        }
        let key_start = out.len();
        write_str_scalar(key, out);
        if out.len() - key_start > MAX_IMPLICIT_KEY_LEN {
            // `? "long key"` then `: value`, the value laid out like a list item.
            out.insert_str(key_start, "? ");
            out.push('\n');
            pad(indent, out);
            out.push(':');
            write_compact_value(value, indent, out);
        } else {
            out.push(':');
            write_mapping_value(value, indent, out);
        }
    }
}

/// Writes a nested mapping in byte order of its keys. serde_json's map is a sorted
/// `BTreeMap` unless its `preserve_order` feature is on, so this walks it directly and
/// only collects and sorts when the keys are out of order.
fn write_object(map: &Map<String, Value>, indent: usize, inline_first: bool, out: &mut String) {
    if maps_are_sorted() || map.keys().is_sorted() {
        write_map(
            map.iter().map(|(k, v)| (k.as_str(), v)),
            indent,
            inline_first,
            out,
        );
    } else {
        write_map(sorted_entries(map).into_iter(), indent, inline_first, out);
    }
}

/// Writes a non-empty sequence whose `-` sit at `indent`.
fn write_seq(items: &[Value], indent: usize, inline_first: bool, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(indent, out);
        }
        out.push('-');
        write_compact_value(item, indent, out);
    }
}

/// Writes the value of a `key:` at `indent`, starting right after the colon.
fn write_mapping_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_object(map, indent + 2, false, out);
        }
        // kubectl style: list items at the same indentation as their key.
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(items, indent, false, out);
        }
        _ => write_inline_value(value, indent, out),
    }
}

/// Writes a list item (after `-` at `indent`) or an explicit-key value (after `:`):
/// nested collections start on the same line, YAML's compact form.
fn write_compact_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push(' ');
            write_object(map, indent + 2, true, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push(' ');
            write_seq(items, indent + 2, true, out);
        }
        _ => write_inline_value(value, indent, out),
    }
}

/// Writes a scalar, empty collection or literal block after an indicator at `indent`.
fn write_inline_value(value: &Value, indent: usize, out: &mut String) {
    out.push(' ');
    match value {
        Value::String(s) if is_literal_block(s) => write_literal_block(s, indent + 2, out),
        _ => {
            write_scalar(value, out);
            out.push('\n');
        }
    }
}

/// Writes a scalar or an empty collection in flow form, without a newline.
fn write_scalar(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_str_scalar(s, out),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// Numbers are written as serde_json prints them, except that an exponent form gets a
/// `.0` and a signed exponent (`1e20` -> `1.0e+20`): YAML 1.1 readers need both to see
/// a float, and it is the same value for every reader.
fn write_number(n: &Number, out: &mut String) {
    let start = out.len();
    let _ = write!(out, "{n}");
    if !n.is_f64() {
        return;
    }
    let Some(e) = out[start..].find(['e', 'E']).map(|i| start + i) else {
        return;
    };
    let mut e = e;
    if !out[start..e].contains('.') {
        out.insert_str(e, ".0");
        e += 2;
    }
    if out[e + 1..].starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(e + 1, '+');
    }
}

/// Writes a string as a plain scalar when that is safe, else double-quoted.
fn write_str_scalar(s: &str, out: &mut String) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else {
        write_double_quoted(s, out);
    }
}

fn write_double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters that must never appear raw in the output: C0/C1 controls and DEL,
/// characters YAML 1.1 treats as line breaks (NEL, LS, PS), the byte-order mark and
/// the non-characters U+FFFE/U+FFFF. All are in the BMP, so `\uXXXX` covers them.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1F'
            | '\x7F'..='\u{9F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{FEFF}'
            | '\u{FFFE}'
            | '\u{FFFF}'
    )
}

/// Whether a multi-line string can be written as a literal block scalar (`|`, `|-`,
/// `|+`) and read back unchanged: it has a line break, no other character needing an
/// escape, no line ending in a space, and at least one non-empty line, the first of
/// which does not start with a space (the reader takes the indentation from it).
fn is_literal_block(s: &str) -> bool {
    if !s.contains('\n') || s.chars().any(|c| c != '\n' && needs_escape(c)) {
        return false;
    }
    if s.split('\n').any(|line| line.ends_with(' ')) {
        return false;
    }
    match s.split('\n').find(|line| !line.is_empty()) {
        Some(first) => !first.starts_with(' '),
        None => false,
    }
}

/// Writes the header (`|`, `|-` or `|+`) and the lines of a literal block scalar,
/// content at `indent`; empty lines are written without indentation.
fn write_literal_block(s: &str, indent: usize, out: &mut String) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-\n",
        1 => "|\n",
        _ => "|+\n",
    });
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(indent, out);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Whether `s` can be written unquoted and still be read as this same string by YAML
/// 1.1 and 1.2 readers, in block context, as a value or as a key. Conservative: it
/// refuses anything that is or may be a bool, null, number or timestamp in either
/// version, starts with an indicator or whitespace, ends with whitespace or `:`,
/// contains `: ` or ` #`, or contains a character that needs an escape.
fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false; // empty string
    };
    if matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    ) || last == b':'
    {
        return false;
    }
    // The usual string (a key, a name, an image): ASCII with no space, control or
    // DEL. Nothing in it needs an escape, and `: ` and ` #` need a space: only the
    // first and last bytes (above), and the words and numbers below, can make it
    // need quotes.
    let from = first_space_control_or_not_ascii(bytes);
    if from == bytes.len() {
        return !is_reserved_word(s) && !looks_numeric(s);
    }
    if s.is_ascii() {
        // In ASCII, the characters needing an escape are the controls and DEL, and
        // every whitespace character but the space is a control; `: ` and ` #` have a
        // space. So only from the first byte that is a space, control or DEL on
        // (`from`, found above) is there anything to look at, byte by byte.
        let mut prev = if from > 0 { bytes[from - 1] } else { 0 };
        for &b in &bytes[from..] {
            if b < 0x20 || b == 0x7F || (prev == b':' && b == b' ') || (prev == b' ' && b == b'#') {
                return false;
            }
            prev = b;
        }
        if first == b' ' || last == b' ' {
            return false;
        }
        return !is_reserved_word(s) && !looks_numeric(s);
    }
    // Leading or trailing whitespace of any kind (space, NBSP, ...) is quoted.
    let starts_or_ends_with_space =
        s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace);
    if starts_or_ends_with_space || s.chars().any(needs_escape) {
        return false;
    }
    if bytes.windows(2).any(|w| w == b": " || w == b" #") {
        return false;
    }
    !is_reserved_word(s) && !looks_numeric(s)
}

/// The index of the first byte that is a space, a control, DEL or not ASCII
/// (`bytes.len()` when there is none), looking at eight bytes at a time: a byte below
/// 0x21 or equal to 0x7F sets the high bit of its lane in `below | del` (the usual
/// "has less than" and "has zero" word tricks, exact for bytes below 0x80), and a
/// byte of 0x80 or more has it set already. Borrows only mark lanes above a lane that
/// is marked for its own byte, so the lowest marked lane is the first such byte.
fn first_space_control_or_not_ascii(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut lane = [0u8; 8];
        lane.copy_from_slice(&bytes[i..i + 8]);
        let x = u64::from_le_bytes(lane);
        let below = x.wrapping_sub(ONES * 0x21) & !x & HIGH;
        let y = x ^ (ONES * 0x7F);
        let del = y.wrapping_sub(ONES) & !y & HIGH;
        let marked = below | del | (x & HIGH);
        if marked != 0 {
            // The lowest set lane is the first such byte (little-endian).
            return i + (marked.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + bytes[i..]
        .iter()
        .position(|&b| b <= 0x20 || b >= 0x7F)
        .unwrap_or(bytes.len() - i)
}

/// Words some YAML version reads as bool, null, or a special key (`<<` merge, `=`
/// value), compared case-insensitively to be safe.
fn is_reserved_word(s: &str) -> bool {
    const WORDS: [&str; 12] = [
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "<<", "=",
    ];
    s.len() <= 5 && WORDS.iter().any(|w| s.eq_ignore_ascii_case(w))
}

/// Whether `s` is or might be read as a number or timestamp by some YAML reader:
/// after an optional sign it starts with a digit (or `.` then a digit, `_`, `.`, or
/// nothing) and uses only characters that YAML 1.1/1.2 ints, floats (`1e3`, `.5`,
/// `1_000`, sexagesimal `1:20`), hex/octal/binary (`0x1F`, `0o17`, `0b101`, `0755`)
/// and timestamps (`2024-01-01T10:00:00Z`, `2024-01-01 10:00:00 +1`) are made of. Also
/// the infinity and not-a-number spellings, with or without a leading dot.
fn looks_numeric(s: &str) -> bool {
    // Neither a sign, a digit, a dot nor the first letter of `inf` or `nan`: not a
    // number (most strings, decided at once).
    if !matches!(
        s.as_bytes().first(),
        Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N')
    ) {
        return false;
    }
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let word = t.strip_prefix('.').unwrap_or(t);
    if ["inf", "infinity", "nan"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
    {
        return true;
    }
    let b = t.as_bytes();
    let numeric_start = match b.first() {
        Some(c) if c.is_ascii_digit() => true,
        Some(b'.') => matches!(b.get(1), None | Some(b'0'..=b'9' | b'_' | b'.')),
        _ => false,
    };
    numeric_start
        && b.iter().all(|&c| {
            c.is_ascii_hexdigit()
                || matches!(
                    c,
                    b'_' | b'.'
                        | b':'
                        | b'+'
                        | b'-'
                        | b'x'
                        | b'X'
                        | b'o'
                        | b'O'
                        | b'B'
                        | b't'
                        | b'T'
                        | b'z'
                        | b'Z'
                        | b' '
                )
        })
}

#[cfg(test)]
mod tests;
