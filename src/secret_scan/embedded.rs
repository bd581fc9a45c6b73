//! Key/value pairs embedded in a value (check (2) of [`super::scan`]): config files,
//! connection strings, query strings, XML elements and command-line flags followed by
//! their value (`--password hunter2`), whose names are judged like keys.

use super::*;

pub(super) fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// Finds `name = literal`, `name: literal` and `"name": "literal"` inside the value, as
/// in config files, connection strings and query strings, and judges secret-ish names
/// like keys.
pub(super) fn scan_embedded(value: &str) -> Option<&'static str> {
    scan_pairs(value)
        .or_else(|| scan_xml(value))
        .or_else(|| scan_flags(value))
}

/// The name of a command-line flag (`--db-password`, `-u`): what follows its one or
/// two dashes, when the rest is a name and carries no `=` (`--token=x` is a pair,
/// judged by [`scan_pairs`]).
pub(super) fn flag_name(arg: &str) -> Option<&str> {
    let name = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    (!name.is_empty()
        && name.as_bytes()[0].is_ascii_alphabetic()
        && name.bytes().all(is_ident_byte))
    .then_some(name)
}

/// A flag's value judged by the flag's name, as a value is by its key: `--password`
/// followed by `hunter2`, `--api-key` by a key; `-u` or `--user` (curl's) by a
/// `user:password` pair. None for a flag whose name says nothing secret, and for a
/// value that is itself a flag.
pub(super) fn flag_value(flag: &str, value: &str) -> Option<&'static str> {
    let name = flag_name(flag)?;
    if value.starts_with('-') || crate::template::Templates::is_template(value) {
        return None;
    }
    if matches!(name, "u" | "user") {
        // curl's `-u user:password`, but also docker's and many tools' `--user
        // user:group` (`1000:1000`, `app:app`): a second part that could name a group
        // (digits, or a POSIX group name) is taken for one.
        let group = value.split_once(':').is_some_and(|(_, g)| {
            g.len() <= 32
                && (g.bytes().all(|c| c.is_ascii_digit())
                    || (g.as_bytes()[0].is_ascii_lowercase() || g.starts_with('_'))
                        && g.bytes().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-')
                        }))
        });
        return (is_user_password_pair(value) && !group && !is_benign(value, false))
            .then_some("a user:password pair");
    }
    let key = key_info(name);
    if matches!(key.class, Class::Plain | Class::Reference) {
        return None;
    }
    literal_finding(key, value)
}

/// `--name value` inside one string, as a shell command line writes it (`sh -c "app
/// --password hunter2"`): each flag and the word after it, judged by [`flag_value`].
pub(super) fn scan_flags(value: &str) -> Option<&'static str> {
    if !value.contains(" -") && !value.starts_with('-') {
        return None;
    }
    let words: Vec<&str> = value.split_ascii_whitespace().collect();
    words.windows(2).find_map(|w| {
        let literal = w[1].trim_matches(|c| c == '"' || c == '\'');
        flag_value(w[0], literal)
    })
}

/// `<password>literal</password>`, as in Maven's settings.xml.
pub(super) fn scan_xml(value: &str) -> Option<&'static str> {
    if !value.as_bytes().contains(&b'<') {
        return None;
    }
    for (i, _) in value.match_indices("</") {
        let name_len = value[i + 2..]
            .bytes()
            .take_while(|&c| is_ident_byte(c))
            .count();
        let name = &value[i + 2..i + 2 + name_len];
        if name_len == 0 || value.as_bytes().get(i + 2 + name_len) != Some(&b'>') {
            continue;
        }
        let open = format!("<{name}>");
        let Some(start) = value[..i].rfind(&open) else {
            continue;
        };
        let key = key_info(name);
        if matches!(key.class, Class::Plain | Class::Reference) {
            continue;
        }
        let literal = &value[start + open.len()..i];
        if literal.contains('<') {
            continue;
        }
        if let Some(what) = literal_finding(key, literal) {
            return Some(what);
        }
    }
    None
}

/// `name = literal`, `name: literal` and `"name": "literal"`.
pub(super) fn scan_pairs(value: &str) -> Option<&'static str> {
    let b = value.as_bytes();
    for (i, &sep) in b.iter().enumerate() {
        if sep != b'=' && sep != b':' {
            continue;
        }
        if sep == b':' && value[i + 1..].starts_with("//") {
            continue;
        }
        if sep == b'='
            && (b.get(i + 1) == Some(&b'=')
                || (i > 0 && matches!(b[i - 1], b'=' | b'!' | b'<' | b'>')))
        {
            continue;
        }
        // The name: optional spaces and a closing quote before the separator.
        let mut j = i;
        while j > 0 && matches!(b[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        let quote = (j > 0 && matches!(b[j - 1], b'"' | b'\'')).then(|| b[j - 1]);
        if quote.is_some() {
            j -= 1;
        }
        let name_end = j;
        while j > 0 && is_ident_byte(b[j - 1]) {
            j -= 1;
        }
        if j == name_end || (quote.is_some() && (j == 0 || Some(b[j - 1]) != quote)) {
            continue;
        }
        let key = key_info(&value[j..name_end]);
        if matches!(key.class, Class::Plain | Class::Reference) {
            continue;
        }
        // The literal.
        let mut k = i + 1;
        if sep == b':' && quote.is_none() && k < b.len() && !matches!(b[k], b' ' | b'\t') {
            continue; // YAML needs a space after ':'; `scope:read` is not a pair.
        }
        while k < b.len() && matches!(b[k], b' ' | b'\t') {
            k += 1;
        }
        let literal = if k < b.len() && matches!(b[k], b'"' | b'\'') {
            let q = b[k];
            let Some(len) = b[k + 1..].iter().position(|&c| c == q || c == b'\n') else {
                continue;
            };
            if b[k + 1 + len] != q {
                continue;
            }
            &value[k + 1..k + 1 + len]
        } else if let Some(len) = reference_len(&value[k..]) {
            &value[k..k + len]
        } else {
            let len = b[k..]
                .iter()
                .position(|&c| {
                    c.is_ascii_whitespace()
                        || matches!(c, b';' | b',' | b'&' | b'"' | b'\'' | b'}' | b')' | b']')
                })
                .unwrap_or(b.len() - k);
            let literal = &value[k..k + len];
            if sep == b':' {
                // Prose like "enter your password: then …" is not a pair: after a ':'
                // the literal must end its line.
                let line_rest = &value[k + len..];
                let line_rest = &line_rest[..line_rest.find('\n').unwrap_or(line_rest.len())];
                if !line_rest
                    .bytes()
                    .all(|c| c.is_ascii_whitespace() || matches!(c, b',' | b';' | b'}' | b']'))
                {
                    continue;
                }
            }
            literal
        };
        if let Some(what) = literal_finding(key, literal) {
            return Some(what);
        }
    }
    None
}
