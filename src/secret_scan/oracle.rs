//! Test-only: the secret scan as it was before its per-value checks were made
//! cheaper (pre-filters, memo tables, one judgment per TOML key), kept verbatim as
//! the oracle of the faster version, and the tests that prove both answer the same
//! on every string of the fuzz corpora, the seeds, the repository's platforms and
//! generated edge cases (`crate::test_corpus`). The helpers that did not change are
//! shared with the module under test.
#![allow(dead_code)]

use super::keys::{classify, key_info, key_info_uncached, split_words};
use super::toml_scan::{Place, NAMED_VALUE_TABLES};
use super::*;

pub fn scan(key: &str, value: &str) -> Option<Finding> {
    if value.trim().is_empty() {
        return None;
    }
    let what = scan_value(value)
        .or_else(|| scan_embedded(value))
        .or_else(|| keyed(key, value))?;
    Some(Finding { what })
}

/// Checks that need no key name.
fn scan_value(value: &str) -> Option<&'static str> {
    if let Some(what) = scan_prefixed(value) {
        return Some(what);
    }
    // The other shapes start at a fixed marker; most values have none.
    let marked = MARKERS.is_match(value);
    if marked {
        for &(marker, what) in WEBHOOKS {
            if let Some(i) = value.find(marker) {
                let rest = &value[i + marker.len()..];
                if rest
                    .bytes()
                    .take_while(|&c| c.is_ascii_alphanumeric())
                    .count()
                    >= 6
                {
                    return Some(what);
                }
            }
        }
        if has_private_key(value) {
            return Some("a private key");
        }
    }
    if has_jwt(value) {
        return Some("a JSON Web Token");
    }
    if !marked {
        return None;
    }
    if has_url_password(value) {
        return Some("a password inside a URL");
    }
    scan_authorization(value)
}

fn has_private_key(value: &str) -> bool {
    value.match_indices("-----BEGIN ").any(|(i, _)| {
        let rest = &value[i + 11..];
        rest.find("-----")
            .is_some_and(|end| rest[..end].contains("PRIVATE KEY"))
    }) || value.contains("PuTTY-User-Key-File-")
}

/// Three or more base64url segments separated by '.', the first a JSON header (`eyJ`).
/// One pass over each run of base64url characters and dots (linear time).
fn has_jwt(value: &str) -> bool {
    let b = value.as_bytes();
    let in_run = |c: u8| is_base64url(c) || c == b'.';
    let mut i = 0;
    while i < b.len() {
        if !in_run(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && in_run(b[i]) {
            i += 1;
        }
        let parts: Vec<&str> = value[start..i].split('.').collect();
        if (0..parts.len().saturating_sub(2)).any(|k| {
            parts[k].starts_with("eyJ") && parts[k].len() >= 10 && parts[k + 1].len() >= 10
        }) {
            return true;
        }
    }
    false
}

fn keyed(key: &str, value: &str) -> Option<&'static str> {
    let words = split_words(key);
    let found = literal_finding(classify(&words), &words, value)?;
    if found == RANDOM_VALUE && names_a_digest(key) && is_digest(value.trim()) {
        return None;
    }
    Some(found)
}

/// Judges a literal stored under a name of the given class.
fn literal_finding(class: Class, words: &[String], value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.is_empty() || class == Class::Reference {
        return None;
    }
    let aws = words.iter().any(|w| w == "aws" || w.starts_with("aws"));
    if aws && is_aws_secret_shape(v) {
        return Some(AWS_SECRET_KEY);
    }
    match class {
        Class::Reference => None,
        // A neutral name: only a value that is random in shape and entropy.
        Class::Plain => is_random_token(v).then_some(RANDOM_VALUE),
        Class::Weak => {
            ((looks_random(v) || is_long_hex(v)) && !is_benign(v, false)).then_some(HIGH_ENTROPY)
        }
        Class::Auth => {
            if is_benign(v, false) || is_mode_name(v) {
                None
            } else if is_user_password_pair(v) {
                Some("a user:password pair")
            } else {
                Some("a literal credential")
            }
        }
        Class::Direct(kind) => (!is_benign(v, kind == Kind::Password)).then(|| kind.what()),
    }
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// Judges the string literals inside a template source stored under `key`: by shape,
/// and, when at least [`MIN_KEYED_TEMPLATE_LITERAL`] bytes long, by the name.
pub fn scan_template_literals(key: &str, v: &str) -> Option<Finding> {
    template_literals(v).into_iter().find_map(|lit| {
        if lit.trim().is_empty() {
            return None;
        }
        if lit.len() >= MIN_KEYED_TEMPLATE_LITERAL {
            scan(key, lit)
        } else {
            scan_value(lit)
                .or_else(|| scan_embedded(lit))
                .map(|what| Finding { what })
        }
    })
}

/// Finds `name = literal`, `name: literal` and `"name": "literal"` inside the value, as
/// in config files, connection strings and query strings, and judges secret-ish names
/// like keys.
fn scan_embedded(value: &str) -> Option<&'static str> {
    scan_pairs(value)
        .or_else(|| scan_xml(value))
        .or_else(|| scan_flags(value))
}

/// `<password>literal</password>`, as in Maven's settings.xml.
fn scan_xml(value: &str) -> Option<&'static str> {
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
        let words = split_words(name);
        let class = classify(&words);
        if matches!(class, Class::Plain | Class::Reference) {
            continue;
        }
        let literal = &value[start + open.len()..i];
        if literal.contains('<') {
            continue;
        }
        if let Some(what) = literal_finding(class, &words, literal) {
            return Some(what);
        }
    }
    None
}

/// `name = literal`, `name: literal` and `"name": "literal"`.
fn scan_pairs(value: &str) -> Option<&'static str> {
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
        let words = split_words(&value[j..name_end]);
        let class = classify(&words);
        if matches!(class, Class::Plain | Class::Reference) {
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
        if let Some(what) = literal_finding(class, &words, literal) {
            return Some(what);
        }
    }
    None
}

pub fn scan_toml(text: &str) -> Vec<Located> {
    match toml::de::DeTable::parse(text) {
        Ok(doc) => scan_document(doc.get_ref()),
        Err(_) => Vec::new(),
    }
}

/// [`scan_toml`] on a document already parsed (with spans), so that a file is
/// parsed once for scanning and reading.
pub fn scan_document(doc: &toml::de::DeTable<'_>) -> Vec<Located> {
    let mut out = Vec::new();
    scan_table(doc, "", "", Place::Other, &mut out);
    out
}

type DeKey<'i> = toml::Spanned<toml::de::DeString<'i>>;
type DeItem<'i> = toml::Spanned<toml::de::DeValue<'i>>;

fn scan_key(key: &DeKey<'_>, path: &str, out: &mut Vec<Located>) {
    let k = key.get_ref();
    if let Some(what) = scan_value(k).or_else(|| scan_embedded(k)) {
        out.push(Located {
            span: key.span(),
            path: path.to_string(),
            key: shown_key(key.get_ref()).to_string(),
            finding: Finding { what },
        });
    }
}

/// A table (standard or inline) whose dotted path is `path` and whose own key is
/// `table_key` (empty for the document).
fn scan_table(
    table: &toml::de::DeTable<'_>,
    path: &str,
    table_key: &str,
    place: Place,
    out: &mut Vec<Located>,
) {
    let pair = super::toml_scan::value_pair_name(table, place);
    for (key, item) in table.iter() {
        let child = join_path(path, key.get_ref());
        scan_key(key, &child, out);
        let named = place == Place::Values || NAMED_VALUE_TABLES.contains(&table_key);
        let judged = match pair {
            Some(name) if key.get_ref() == "value" => name,
            _ => key.get_ref(),
        };
        scan_item(item, named, judged, place.child(key.get_ref()), &child, out);
    }
}

/// The value of `key` in the table whose own key is `table_key`; `path` is the
/// value's path. Every element of an array is under the array's key and path.
fn scan_item(
    item: &DeItem<'_>,
    named: bool,
    key: &str,
    place: Place,
    path: &str,
    out: &mut Vec<Located>,
) {
    match item.get_ref() {
        toml::de::DeValue::String(v) => {
            let templated = v.contains("{{") || v.contains("{%") || v.contains("{#");
            let what = if named && !templated {
                scan(key, v).map(|f| f.what)
            } else if named {
                // A template: its text by shape, and its string literals as literals.
                scan_value(v)
                    .or_else(|| scan_embedded(v))
                    .or_else(|| scan_template_literals(key, v).map(|f| f.what))
            } else if v.trim().is_empty() {
                None
            } else {
                scan_value(v).or_else(|| scan_embedded(v))
            };
            if let Some(what) = what {
                out.push(Located {
                    span: item.span(),
                    path: path.to_string(),
                    key: shown_key(key).to_string(),
                    finding: Finding { what },
                });
            }
        }
        toml::de::DeValue::Array(items) => {
            let before = out.len();
            for v in items {
                scan_item(v, named, key, place, path, out);
            }
            let strings = items.iter().map(|v| match v.get_ref() {
                toml::de::DeValue::String(s) => Some(s.as_ref()),
                _ => None,
            });
            for (i, finding) in scan_flag_values(strings) {
                let span = items[i].span();
                if out[before..].iter().all(|l| l.span != span) {
                    out.push(Located {
                        span,
                        path: path.to_string(),
                        key: shown_key(items[i - 1].get_ref().as_str().unwrap_or(key)).to_string(),
                        finding,
                    });
                }
            }
        }
        toml::de::DeValue::Table(t) => scan_table(t, path, key, place, out),
        _ => {}
    }
}

/// A key as messages show it: itself, or `***` when it looks like a secret.
fn shown_key(key: &str) -> &str {
    if scan_value(key).or_else(|| scan_embedded(key)).is_some() {
        "***"
    } else {
        key
    }
}

fn join_path(path: &str, key: &str) -> String {
    // A key that is itself a secret is not repeated in messages.
    let key = shown_key(key);
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::super as new;
    use super::*;

    /// Key names that reach every class and the `aws` rule.
    const KEYS: &[&str] = &[
        "",
        "LOG_LEVEL",
        "DB_PASSWORD",
        "PASSWORD_FILE",
        "api_key",
        "apiKey",
        "KEY",
        "SALT",
        "AUTH",
        "BASIC_AUTH",
        "AWS_SECRET_ACCESS_KEY",
        "aws_sk",
        "awsKey",
        "MAX_TOKENS",
        "PUBLIC_KEY",
        "client-secret",
        "TOKEN",
        "GOOGLE_CREDENTIALS",
        "X",
        "\u{212A}EY",
    ];

    /// Values that reach every rule, for the keys taken from the corpus.
    fn values() -> Vec<String> {
        let mut v: Vec<String> = [
            "",
            " ",
            "hunter2",
            "x",
            "true",
            "12345",
            "30s",
            "/mnt/secrets/x",
            "prod/db",
            "{{ env.name }}",
            "$(DB_PASSWORD)",
            "admin:hunter2",
            "oidc",
            "q8Xk2LmN9pR4sT7vW1yZ3bD6fH0jK5nP",
            "9f86d081884c7d659a2feaa0c55ad015",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            "postgres://app:s3cr3t@db:5432/app",
            "password: s3cr3t",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(format!("ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"));
        v.push(format!("AKIA{}", "IOSFODNN7EXAMPLE"));
        v
    }

    fn inputs() -> Vec<String> {
        let mut inputs = crate::test_corpus::strings();
        inputs.extend(crate::test_corpus::all_strings(
            &[
                "a", "A", "0", "e", "y", "J", ".", "-", "_", ":", "/", "=", " ", "{", "%", "<",
            ],
            3,
        ));
        inputs.extend(values());
        inputs
    }

    /// `scan`, and the checks it is made of, answer as before on every input, under
    /// keys of every class; the memo tables answer as the uncached functions do
    /// (asked twice: the second answer comes from the tables).
    #[test]
    fn scan_matches_the_oracle() {
        let inputs = inputs();
        let values = values();
        assert!(inputs.len() > 1000);
        for (i, s) in inputs.iter().enumerate() {
            let shape = scan_value(s).or_else(|| scan_embedded(s));
            assert_eq!(new::shape(s), shape, "{s:?}");
            assert_eq!(new::has_jwt(s), has_jwt(s), "{s:?}");
            assert_eq!(new::benign::is_uuid(s), is_uuid(s), "{s:?}");
            let key = KEYS[i % KEYS.len()];
            assert_eq!(new::scan(key, s), scan(key, s), "{key:?} = {s:?}");
            let value = &values[i % values.len()];
            assert_eq!(new::scan(s, value), scan(s, value), "{s:?} = {value:?}");
            if s.contains('{') {
                assert_eq!(
                    new::scan_template_literals(key, s),
                    scan_template_literals(key, s),
                    "{key:?} = {s:?}"
                );
            }
            // Again: now from the memo tables.
            assert_eq!(new::shape(s), shape, "{s:?}");
            assert_eq!(key_info(s), key_info_uncached(s), "{s:?}");
            assert_eq!(key_info(s), key_info_uncached(s), "{s:?}");
        }
    }

    /// Every key of [`KEYS`] with every value of [`values`].
    #[test]
    fn keyed_scan_matches_the_oracle() {
        for key in KEYS {
            for value in values() {
                assert_eq!(
                    new::scan(key, &value),
                    scan(key, &value),
                    "{key:?} = {value:?}"
                );
            }
        }
    }

    /// The tokens of `PREFIXED` are made of token bytes, so the cheap run test in
    /// front of the automaton never hides one.
    #[test]
    fn token_run_prefilter_is_sound() {
        for t in PREFIXED {
            assert!(t.prefix.bytes().all(is_token_byte), "{}", t.prefix);
            assert!(t.prefix.len() + t.min >= MIN_TOKEN_LEN);
            assert!((0..=255u8).all(|c| !t.charset.accepts(c) || is_token_byte(c)));
        }
        assert_eq!(MIN_TOKEN_LEN, 15);
        // `is_plain_short`: the markers of `scan_value` are longer, or hold a byte
        // that it looks for.
        let needs = |m: &str| m.len() >= MIN_TOKEN_LEN || m.contains([':', ' ', '=', '<']);
        for (marker, _) in WEBHOOKS {
            assert!(needs(marker), "{marker}");
        }
        for marker in [
            "-----BEGIN ",
            "PuTTY-User-Key-File-",
            "://",
            "bearer ",
            "basic ",
        ] {
            assert!(needs(marker), "{marker}");
        }
    }

    /// `find_bytes` finds what `str::find` does.
    #[test]
    fn find_bytes_matches_str_find() {
        let hays = crate::test_corpus::all_strings(&["a", "b", "é"], 5);
        let needles = crate::test_corpus::all_strings(&["a", "b"], 3);
        for h in &hays {
            for n in &needles {
                assert_eq!(new::find_bytes(h, n), h.find(n.as_str()), "{h:?} {n:?}");
            }
        }
    }

    /// `scan_toml` reports the same findings, paths and keys as before on every TOML
    /// text of the corpora (each platform and overlay of a fuzz input on its own).
    #[test]
    fn scan_toml_matches_the_oracle() {
        let mut texts = 0;
        for s in crate::test_corpus::texts() {
            for part in s.split("\n#@overlay ").flat_map(|p| p.split("\n#@file ")) {
                let (a, b) = (new::scan_toml(part), scan_toml(part));
                assert_eq!(a, b, "{part:?}");
                texts += 1;
            }
        }
        assert!(texts > 10);
        let secret_key = format!(
            "[env]\n\"ghp_{}\" = \"x\"\n",
            "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
        );
        assert_eq!(new::scan_toml(&secret_key), scan_toml(&secret_key));
        assert_eq!(new::scan_toml(&secret_key).len(), 1);
    }
}
