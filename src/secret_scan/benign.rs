//! Literals stored under a secret-ish name that are clearly no secret (a reference,
//! a path, an ARN, a URL without credentials, a boolean, a number, a duration), and
//! values that are random-looking by their shape and entropy, as keys and tokens are.

use super::*;

/// True when a literal under a secret-ish name is clearly not a secret: a reference, a
/// path, an ARN, a URL without credentials, a boolean, a number or a duration.
pub(super) fn is_benign(v: &str, password: bool) -> bool {
    if is_reference(v) {
        return true;
    }
    let (rest, had_reference) = strip_references(v);
    if had_reference {
        // A template with some literal text around it: only refuse random-looking text.
        return !rest.split_whitespace().any(looks_random);
    }
    const WORDS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "null", "nil",
        "~", "read", "write", "optional", "required", "auto", "default",
    ];
    if WORDS.iter().any(|w| v.eq_ignore_ascii_case(w)) {
        return true;
    }
    if is_number(v) {
        // A numeric password is still a password; short numbers are settings.
        let digits = v.bytes().filter(u8::is_ascii_digit).count();
        return if password { digits < 4 } else { v.len() <= 12 };
    }
    if is_duration(v) || is_arn(v) || is_public_key(v) {
        return true;
    }
    if v.contains(char::is_whitespace) {
        return false;
    }
    if is_path(v) || is_url_without_secret(v) {
        return true;
    }
    // A hierarchical name such as `prod/db` or `team/app/db-password`.
    v.contains('/')
        && !v.starts_with('/')
        && v.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.')
                })
                && !looks_random(part)
        })
}

/// The whole value is one or more template or variable references and nothing else:
/// `{{ … }}`, `{% … %}`, `$(VAR)`, `${VAR}`, `$VAR`, or a query placeholder (`$1`, `?`,
/// `%s`).
pub(super) fn is_reference(v: &str) -> bool {
    let (rest, had_reference) = strip_references(v);
    if had_reference && rest.trim().is_empty() {
        return true;
    }
    if matches!(v, "?" | "%s") {
        return true;
    }
    let b = v.as_bytes();
    b.len() >= 2
        && b[0] == b'$'
        && (b[1].is_ascii_alphanumeric() || b[1] == b'_')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Removes template, variable and placeholder references: `{{ … }}`, `{% … %}`,
/// `{# … #}`, `$(…)`, `${…}`, `{name}` and `<name>`.
pub(super) fn strip_references(v: &str) -> (String, bool) {
    let mut out = String::with_capacity(v.len());
    let mut found = false;
    let mut rest = v;
    while !rest.is_empty() {
        if let Some(len) = reference_len(rest) {
            found = true;
            rest = &rest[len..];
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    (out, found)
}

/// The length of the reference at the start of `s`, if any (see [`strip_references`]).
/// Longest reference (`{{ … }}`, `$(…)`, …) recognised, in bytes: bounds the search
/// for its closing delimiter, so scanning stays linear on long values.
pub(super) const MAX_REFERENCE: usize = 256;

pub(super) fn reference_len(s: &str) -> Option<usize> {
    const SPANS: &[(&str, &str)] = &[
        ("{{", "}}"),
        ("{%", "%}"),
        ("{#", "#}"),
        ("$(", ")"),
        ("${", "}"),
    ];
    let spans = SPANS.iter().find_map(|&(open, close)| {
        let after = s.strip_prefix(open)?;
        let mut window = after.len().min(MAX_REFERENCE);
        while !after.is_char_boundary(window) {
            window -= 1;
        }
        let end = after[..window].find(close)?;
        (!after[..end].contains('\n')).then_some(open.len() + end + close.len())
    });
    spans.or_else(|| {
        // `{password}` and `<password>` placeholders.
        let close = match s.as_bytes().first()? {
            b'{' => b'}',
            b'<' => b'>',
            _ => return None,
        };
        let b = s.as_bytes();
        let name = b[1..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
            .count();
        (name > 0 && b.get(1 + name) == Some(&close)).then_some(name + 2)
    })
}

pub(super) fn is_number(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    let mut parts = digits.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

/// `30s`, `15m`, `1h30m`, `500ms`, `7d`.
pub(super) fn is_duration(v: &str) -> bool {
    let b = v.as_bytes();
    let mut i = 0;
    let mut groups = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        let unit_start = i;
        while i < b.len() && b[i].is_ascii_lowercase() {
            i += 1;
        }
        if !matches!(
            &v[unit_start..i],
            "ns" | "us" | "ms" | "s" | "m" | "h" | "d" | "w"
        ) {
            return false;
        }
        groups += 1;
    }
    groups > 0
}

pub(super) fn is_arn(v: &str) -> bool {
    v.starts_with("arn:") && v.matches(':').count() >= 5 && !v.contains(char::is_whitespace)
}

/// An absolute or relative file path whose parts do not look random.
pub(super) fn is_path(v: &str) -> bool {
    let rel = ["/", "./", "../", "~/"].iter().any(|p| v.starts_with(p));
    rel && v.bytes().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'_' | b'-' | b'~' | b'@' | b':')
    }) && !v.split('/').any(looks_random)
}

/// `scheme://…` without a password and without random-looking parts.
pub(super) fn is_url_without_secret(v: &str) -> bool {
    let Some(i) = v.find("://") else {
        return false;
    };
    i > 0
        && v[..i]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
        && !has_url_password(v)
        && !v[i + 3..]
            .split(['/', '?', '&', '=', '#', '@', ':'])
            .any(looks_random)
}

/// Shannon entropy in bits per byte.
pub(super) fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for c in s.bytes() {
        counts[usize::from(c)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&k| k > 0)
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum()
}

/// At least 20 characters without whitespace, at least 4.0 bits of entropy per
/// character, and a mix of at least two of lower case, upper case, digits and symbols.
pub(super) fn looks_random(s: &str) -> bool {
    if s.len() < 20 || s.contains(char::is_whitespace) {
        return false;
    }
    let b = s.as_bytes();
    let classes = [
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_digit),
        b.iter().any(|c| !c.is_ascii_alphanumeric()),
    ];
    classes.iter().filter(|&&x| x).count() >= 2 && entropy(s) >= 4.0
}

/// A value that is a key or a token by its shape and entropy alone, whatever name it
/// is stored under (the approach of gitleaks' and trufflehog's generic detectors):
///
/// - hex (one case, letters and digits) of 32 or more digits, but not exactly 40 or
///   64 (a git commit id, a SHA-256 checksum), with at least 3 bits of entropy per
///   digit;
/// - or 20 or more characters of the base64 / base64url alphabet (`=` only at the
///   end) with lower case, upper case and digits, an entropy close to that of random
///   text of its length (4 bits per character from 40 characters on), and a change of
///   character class at least every 2.5 characters on average (identifiers in
///   camelCase change far less often).
///
/// Look-alikes that pass: digests (`sha256:…`), git commit ids, UUIDs, ARNs, URLs,
/// paths, DNS names and image references (they hold `:`, `.` or `/` in places
/// base64 has none, or fail the class test), Stripe publishable keys, and base64 that
/// decodes to a certificate, a public key or an SSH public key. Values longer than
/// 8 KiB are not judged (a certificate bundle, a config file).
pub fn is_random_token(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < 20 || b.len() > 8 * 1024 {
        return false;
    }
    if ["pk_live_", "pk_test_"].iter().any(|p| v.starts_with(p)) || is_uuid(v) {
        return false;
    }
    let lower_hex = b
        .iter()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
    let upper_hex = b
        .iter()
        .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
    if lower_hex || upper_hex {
        // A git commit id, and the SHA-2 digests (224, 256, 384 and 512 bits).
        return is_long_hex(v) && !matches!(b.len(), 40 | 56 | 64 | 96 | 128) && entropy(v) >= 3.0;
    }
    let body = v.trim_end_matches('=');
    if v.len() - body.len() > 2
        || !body
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'_' | b'-'))
    {
        return false;
    }
    let bb = body.as_bytes();
    // One encoding: base64 (`+`, `/`) or base64url (`-`, `_`), not both (a path
    // such as `Team/app-name/x1` mixes them).
    if bb.iter().any(|c| matches!(c, b'+' | b'/')) && bb.iter().any(|c| matches!(c, b'-' | b'_')) {
        return false;
    }
    if !(bb.iter().any(u8::is_ascii_lowercase)
        && bb.iter().any(u8::is_ascii_uppercase)
        && bb.iter().any(u8::is_ascii_digit))
    {
        return false;
    }
    let n = bb.len() as f64;
    if entropy(body) < 4.0_f64.min(n.log2() - 0.75) {
        return false;
    }
    let class = |c: u8| match c {
        b'a'..=b'z' => 0,
        b'A'..=b'Z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let changes = bb.windows(2).filter(|w| class(w[0]) != class(w[1])).count();
    if (changes as f64) < (n - 1.0) * 0.4 {
        return false;
    }
    if let Some(json) = decodes_to_json(body) {
        // Base64 of a JSON document (feature flags, a config): random-looking only
        // when the document holds a secret, judged as a manifest's strings are.
        return json_holds_secret("", &json);
    }
    !decodes_to_public_material(body)
}

/// Base64 of a JSON object or array (`eyJmbGFnQSI6dHJ1ZX0=`).
fn decodes_to_json(body: &str) -> Option<serde_json::Value> {
    let d = decode_base64(body)?;
    if !matches!(d.first(), Some(b'{' | b'[')) {
        return None;
    }
    serde_json::from_slice(&d).ok()
}

/// Whether a string of a JSON document looks like a secret, by its shape or the key
/// it is under.
fn json_holds_secret(key: &str, v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => super::scan(key, s).is_some(),
        serde_json::Value::Array(items) => items.iter().any(|i| json_holds_secret(key, i)),
        serde_json::Value::Object(map) => map.iter().any(|(k, i)| json_holds_secret(k, i)),
        _ => false,
    }
}

/// An OpenSSH public key line (`ssh-ed25519 AAAA… comment`, as `ssh-keygen` writes
/// the `.pub` file), whose base64 holds the same key type, or a PEM block of a public
/// key or certificate: public, whatever name it is stored under.
pub(super) fn is_public_key(v: &str) -> bool {
    let v = v.trim();
    if v.starts_with("-----BEGIN ") {
        let head = &v[..v.find('\n').unwrap_or(v.len()).min(64)];
        return (head.contains("PUBLIC KEY") || head.contains("CERTIFICATE"))
            && !head.contains("PRIVATE")
            && !v.contains("PRIVATE KEY");
    }
    let mut parts = v.split_ascii_whitespace();
    let (Some(kind), Some(blob)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !(kind.starts_with("ssh-") || kind.starts_with("ecdsa-") || kind.starts_with("sk-")) {
        return false;
    }
    decode_base64(blob).is_some_and(|d| {
        d.len() > 4 && {
            let len = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize;
            d.get(4..4 + len) == Some(kind.as_bytes())
        }
    })
}

/// `8-4-4-4-12` hex digits.
pub(super) fn is_uuid(v: &str) -> bool {
    // 8 + 4 + 4 + 4 + 12 digits and 4 dashes (checked first: no allocation for others).
    if v.len() != 36 {
        return false;
    }
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// Base64 of a certificate or public key: PEM text that is not a private key, DER
/// whose outer SEQUENCE starts with a SEQUENCE (a certificate, a public key; private
/// keys start with an INTEGER version), or an SSH public key blob.
pub(super) fn decodes_to_public_material(body: &str) -> bool {
    let Some(d) = decode_base64(body) else {
        return false;
    };
    if d.starts_with(b"-----BEGIN ") {
        let head = String::from_utf8_lossy(&d[..d.len().min(64)]).into_owned();
        return !head.contains("PRIVATE");
    }
    if d.len() > 4 && d[0] == 0x30 {
        let header = match d[1] {
            0x80..=0x84 => 2 + usize::from(d[1] - 0x80),
            _ => 2,
        };
        return d.get(header) == Some(&0x30);
    }
    d.len() > 8 && d[..3] == [0, 0, 0] && {
        let len = usize::from(d[3]);
        d.get(4..4 + len)
            .is_some_and(|name| name.starts_with(b"ssh-") || name.starts_with(b"ecdsa-"))
    }
}

/// At least 32 hex digits of one case, with both letters and digits.
pub(super) fn is_long_hex(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 32
        && (b
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
            || b.iter()
                .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)))
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_alphabetic)
}
