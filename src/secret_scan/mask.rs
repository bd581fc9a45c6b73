//! Masking of secret-looking words in the lines and messages kgen prints.

use super::*;

/// A value (not a key/value pair) that looks like a secret by its shape alone: a
/// known secret shape ([`scan`] without a name) or [`is_random_token`].
pub fn looks_secret(v: &str) -> bool {
    !v.trim().is_empty() && (scan("", v).is_some() || is_random_token(v))
}

/// A line of an input file with every secret-looking word masked by as many `*` (so
/// that a caret under the line still points at the right column); `None` when
/// nothing is masked. Words are split at whitespace and TOML punctuation.
pub fn mask_line(line: &str) -> Option<String> {
    mask_words(line, true, |c| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '{' | '}' | '[' | ']' | '=')
    })
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
