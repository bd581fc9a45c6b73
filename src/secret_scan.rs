//! Secret detection for literal strings in `platform.toml` and overlays (env vars,
//! config entries, free text): kgen refuses values that look like secrets and points
//! users to the `secrets` section (Secrets Manager / SSM) instead.
//!
//! [`scan`] runs three kinds of checks, in this order:
//!
//! 1. Value shapes that are secrets wherever they appear: cloud and SaaS tokens with a
//!    known prefix (AWS `AKIA…`, GitHub `ghp_…`, Slack `xoxb-…`, Stripe `sk_live_…`,
//!    Google `AIza…`, …), private key blocks, JWTs, bearer and basic credentials, and
//!    passwords in URLs (`scheme://user:pass@host`).
//! 2. Key/value pairs embedded in the value, as in config files, connection strings
//!    and query strings (`password: …`, `Password=…;`, `?access_token=…`,
//!    `<password>…</password>`), judged like (3).
//! 3. The name the value is stored under: any literal under a secret-ish name
//!    (`DB_PASSWORD`, `client-secret`, `apiKey`, …) unless the value is clearly a
//!    reference (empty, a path, a template, an ARN, `$(VAR)`, a boolean or number, a
//!    URL without credentials). Names whose last words qualify the secret word
//!    (`PASSWORD_FILE`, `TOKEN_URL`, `SECRET_NAME`, `KMS_KEY_ARN`) or whose first
//!    words make it a setting or a public value (`MAX_TOKENS`, `PUBLIC_KEY`) hold no
//!    secret and are only checked by (1) and (2). `AUTH`-like names refuse anything
//!    but a mode name (`oidc`, `login`); a bare `KEY`, `SALT` or `TOKENS` refuses only
//!    random-looking values (at least 20 characters, 4 bits of entropy per character,
//!    mixed character classes) and long hex strings.
//!
//! (3) runs last so that a config file stored under a secret-ish name reports what is
//! inside it. Everything is hand-written scanning without allocation-heavy regexes:
//! it runs on every string of every service.
//!
//! A [`Finding`] only names the kind of secret; it never contains the value.
//!
//! This module holds the value shapes (1), the embedded pairs (2) and the judgment of
//! a literal under a name (3); its submodules hold the rest: `keys` (what a key name
//! says), `benign` (literals that are clearly no secret, random-looking values),
//! `mask` (masking what kgen prints), `toml_scan` (every string and key of a TOML
//! file) and `memo` (the per-thread memo tables that keep the per-value checks cheap).

mod benign;
mod keys;
mod mask;
mod memo;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;
mod toml_scan;

pub use benign::is_random_token;
use benign::{is_benign, is_long_hex, is_reference, looks_random, reference_len, MAX_REFERENCE};
pub use mask::{looks_secret, mask_line, mask_message};
pub use toml_scan::{scan_document, scan_toml, Located};

/// What a scanned value looks like. It never contains the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A noun phrase such as "an AWS access key id" or "a literal password".
    pub what: &'static str,
}

/// Scans one literal. `key` is the name the value is stored under (env var name,
/// config key, field name), `value` the literal. Returns `Some` when the value looks
/// like a secret.
pub fn scan(key: &str, value: &str) -> Option<Finding> {
    if value.trim().is_empty() {
        return None;
    }
    let what = shape(value).or_else(|| keyed(key, value))?;
    Some(Finding { what })
}

thread_local! {
    static SHAPES: std::cell::RefCell<memo::Memo<Option<&'static str>>> =
        std::cell::RefCell::new(memo::Memo::default());
}

/// Whether `value` is too short for any shape of [`scan_value`] and without the bytes
/// that every other one needs: shorter than [`MIN_TOKEN_LEN`] (a token, a webhook
/// URL, a PuTTY key and a JWT are longer), and without `:`, ` `, `=` and `<` (an
/// URL, the `-----BEGIN ` of a key, `Bearer `/`Basic ` and the pairs of
/// [`scan_embedded`] need one). Most values and keys are (`info`, `8080`, `image`).
fn is_plain_short(value: &str) -> bool {
    value.len() < MIN_TOKEN_LEN
        && !value
            .bytes()
            .any(|c| matches!(c, b':' | b' ' | b'=' | b'<'))
}

/// What `value` looks like by its shape and the key/value pairs inside it, whatever
/// name it is stored under: the checks (1) and (2) of [`scan`], remembered per
/// distinct value (the same raw value is scanned in every environment, a rendered
/// one twice).
fn shape(value: &str) -> Option<&'static str> {
    if is_plain_short(value) {
        return None;
    }
    memo::Memo::cached(&SHAPES, value, |v| {
        scan_value(v).or_else(|| scan_embedded(v))
    })
}

const AWS_SECRET_KEY: &str = "an AWS secret access key";
const RANDOM_VALUE: &str = "a random-looking value, as keys and tokens are";
const HIGH_ENTROPY: &str = "a high-entropy secret";

// ---------------------------------------------------------------------------------
// Value shapes
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Charset {
    UpperAlnum,
    Alnum,
    /// `[A-Za-z0-9_]`
    Word,
    /// `[A-Za-z0-9_-]`
    Base64Url,
    /// `[A-Za-z0-9-]`
    Dashed,
    /// `[A-Za-z0-9_.-]`
    Dotted,
    LowerHex,
}

impl Charset {
    fn accepts(self, c: u8) -> bool {
        match self {
            Charset::UpperAlnum => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Charset::Alnum => c.is_ascii_alphanumeric(),
            Charset::Word => c.is_ascii_alphanumeric() || c == b'_',
            Charset::Base64Url => c.is_ascii_alphanumeric() || c == b'_' || c == b'-',
            Charset::Dashed => c.is_ascii_alphanumeric() || c == b'-',
            Charset::Dotted => c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'),
            Charset::LowerHex => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        }
    }
}

/// A token that starts with `prefix` followed by `min..=max` characters of `charset`.
struct Prefixed {
    prefix: &'static str,
    charset: Charset,
    min: usize,
    max: usize,
    what: &'static str,
}

const fn p(
    prefix: &'static str,
    charset: Charset,
    min: usize,
    max: usize,
    what: &'static str,
) -> Prefixed {
    Prefixed {
        prefix,
        charset,
        min,
        max,
        what,
    }
}

const ANY: usize = usize::MAX;
const GITHUB: &str = "a GitHub token";
const SLACK: &str = "a Slack token";
const STRIPE: &str = "a Stripe secret key";

#[rustfmt::skip]
const PREFIXED: &[Prefixed] = &[
    p("AKIA", Charset::UpperAlnum, 16, 16, "an AWS access key id"),
    p("ASIA", Charset::UpperAlnum, 16, 16, "an AWS access key id"),
    p("ghp_", Charset::Alnum, 30, ANY, GITHUB),
    p("gho_", Charset::Alnum, 30, ANY, GITHUB),
    p("ghu_", Charset::Alnum, 30, ANY, GITHUB),
    p("ghs_", Charset::Alnum, 30, ANY, GITHUB),
    p("ghr_", Charset::Alnum, 30, ANY, GITHUB),
    p("github_pat_", Charset::Word, 40, ANY, GITHUB),
    p("xoxa-", Charset::Dashed, 10, ANY, SLACK),
    p("xoxb-", Charset::Dashed, 10, ANY, SLACK),
    p("xoxp-", Charset::Dashed, 10, ANY, SLACK),
    p("xoxo-", Charset::Dashed, 10, ANY, SLACK),
    p("xoxr-", Charset::Dashed, 10, ANY, SLACK),
    p("xoxs-", Charset::Dashed, 10, ANY, SLACK),
    p("xapp-", Charset::Dashed, 20, ANY, SLACK),
    p("sk_live_", Charset::Alnum, 10, ANY, STRIPE),
    p("rk_live_", Charset::Alnum, 10, ANY, STRIPE),
    p("sk_test_", Charset::Alnum, 10, ANY, STRIPE),
    p("rk_test_", Charset::Alnum, 10, ANY, STRIPE),
    p(
        "whsec_",
        Charset::Alnum,
        20,
        ANY,
        "a webhook signing secret",
    ),
    p("AIza", Charset::Base64Url, 35, 35, "a Google API key"),
    p("glpat-", Charset::Base64Url, 20, ANY, "a GitLab token"),
    p("npm_", Charset::Alnum, 36, 36, "an npm token"),
    p(
        "hvs.",
        Charset::Base64Url,
        24,
        ANY,
        "a HashiCorp Vault token",
    ),
    p(
        "hvb.",
        Charset::Base64Url,
        24,
        ANY,
        "a HashiCorp Vault token",
    ),
    p(
        "dckr_pat_",
        Charset::Base64Url,
        20,
        ANY,
        "a Docker Hub token",
    ),
    p("pypi-AgE", Charset::Base64Url, 50, ANY, "a PyPI token"),
    p(
        "sk-ant-",
        Charset::Base64Url,
        30,
        ANY,
        "an Anthropic API key",
    ),
    p("sk-proj-", Charset::Base64Url, 30, ANY, "an OpenAI API key"),
    p("sk-", Charset::Alnum, 40, ANY, "an OpenAI API key"),
    p("hf_", Charset::Alnum, 30, ANY, "a Hugging Face token"),
    p("SG.", Charset::Dotted, 60, ANY, "a SendGrid API key"),
    p("shpat_", Charset::LowerHex, 32, ANY, "a Shopify token"),
    p("shpss_", Charset::LowerHex, 32, ANY, "a Shopify token"),
];

#[rustfmt::skip]
const WEBHOOKS: &[(&str, &str)] = &[
    ("hooks.slack.com/services/", "a Slack webhook URL"),
    ("hooks.slack.com/workflows/", "a Slack webhook URL"),
    ("discord.com/api/webhooks/", "a Discord webhook URL"),
    ("discordapp.com/api/webhooks/", "a Discord webhook URL"),
    (
        ".webhook.office.com/webhookb2/",
        "a Microsoft Teams webhook URL",
    ),
];

/// Checks that need no key name.
fn scan_value(value: &str) -> Option<&'static str> {
    if has_token_run(value) {
        if let Some(what) = scan_prefixed(value) {
            return Some(what);
        }
    }
    // The other shapes start at a fixed marker; most values have none.
    let marked = MARKERS.is_match(value);
    if marked {
        for &(marker, what) in WEBHOOKS {
            if let Some(i) = find_bytes(value, marker) {
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

/// Every fixed marker the checks after [`scan_prefixed`] (but the JWT one) start
/// from, ignoring case: a value with none of them cannot match those checks.
static MARKERS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(WEBHOOKS.iter().map(|(marker, _)| *marker).chain([
            "-----BEGIN ",
            "PuTTY-User-Key-File-",
            "://",
            "bearer ",
            "basic ",
        ]))
        .expect("the markers are a valid automaton")
});

/// The fewest bytes a token of [`PREFIXED`] has, prefix included.
const MIN_TOKEN_LEN: usize = {
    let mut min = usize::MAX;
    let mut i = 0;
    while i < PREFIXED.len() {
        let len = PREFIXED[i].prefix.len() + PREFIXED[i].min;
        if len < min {
            min = len;
        }
        i += 1;
    }
    min
};

/// A byte that a token of [`PREFIXED`] may hold: every prefix and every [`Charset`]
/// is made of them.
fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Whether `value` has a run of at least [`MIN_TOKEN_LEN`] token bytes: a value
/// without one holds no token of [`PREFIXED`] (most values: a cheap pass instead of
/// the automaton).
fn has_token_run(value: &str) -> bool {
    let mut run = 0;
    for &c in value.as_bytes() {
        if is_token_byte(c) {
            run += 1;
            if run >= MIN_TOKEN_LEN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// The first byte offset of `needle` in `hay`, as `str::find` gives it, by a plain
/// loop: the needles are short constants and most values are short, where setting
/// up `str::find`'s searcher costs more than the search.
fn find_bytes(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return Some(0);
    };
    let last_start = h.len().checked_sub(n.len())?;
    (0..=last_start).find(|&i| h[i] == first && &h[i + 1..i + n.len()] == rest)
}

/// Every prefix of [`PREFIXED`], searched for at once (one pass over the value,
/// instead of one per prefix: this runs on every string of every input file).
static PREFIX_FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::new(PREFIXED.iter().map(|t| t.prefix))
            .expect("the token prefixes are a valid automaton")
    });

/// The first token kind of [`PREFIXED`] (in its order) found in `value`.
fn scan_prefixed(value: &str) -> Option<&'static str> {
    let b = value.as_bytes();
    let mut best: Option<usize> = None;
    for m in PREFIX_FINDER.find_overlapping_iter(value) {
        let index = m.pattern().as_usize();
        if best.is_some_and(|found| found <= index) {
            continue;
        }
        let (t, i) = (&PREFIXED[index], m.start());
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let start = i + t.prefix.len();
        let run = b[start..]
            .iter()
            .take_while(|&&c| t.charset.accepts(c))
            .count();
        let next = b.get(start + run);
        if run >= t.min && run <= t.max && !next.is_some_and(u8::is_ascii_alphanumeric) {
            best = Some(index);
        }
    }
    best.map(|index| PREFIXED[index].what)
}

fn has_private_key(value: &str) -> bool {
    (find_bytes(value, "-----BEGIN ").is_some()
        && value.match_indices("-----BEGIN ").any(|(i, _)| {
            let rest = &value[i + 11..];
            rest.find("-----")
                .is_some_and(|end| rest[..end].contains("PRIVATE KEY"))
        }))
        || find_bytes(value, "PuTTY-User-Key-File-").is_some()
}

fn is_base64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Three or more base64url segments separated by '.', the first a JSON header (`eyJ`).
/// One pass over each run of base64url characters and dots (linear time).
fn has_jwt(value: &str) -> bool {
    // The header starts with `eyJ`: most values have none.
    if find_bytes(value, "eyJ").is_none() {
        return false;
    }
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

/// `scheme://user:password@host` with a literal (non-template) password.
fn has_url_password(value: &str) -> bool {
    let b = value.as_bytes();
    // Where the run of URL characters that starts after a `://` ends: the same for
    // every `://` inside one run, so it is found once per run (linear time).
    let mut run_end = 0;
    let mut next_at = 0;
    for (i, _) in value.match_indices("://") {
        if i == 0 || !b[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        if run_end < i + 3 {
            run_end = i
                + 3
                + value[i + 3..]
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
                    .unwrap_or(value.len() - i - 3);
        }
        let run = &value[i + 3..run_end];
        let authority = &run[..run.find(['/', '?', '#']).unwrap_or(run.len())];
        let password = if let Some(at) = authority.rfind('@') {
            // The usual case: userinfo up to the last '@' of the authority.
            match authority[..at].split_once(':') {
                Some((_, password)) => password,
                None => continue,
            }
        } else {
            // A password with an unescaped '/', '?' or '#' ends the authority early:
            // look for "user:…@" up to the first '@' instead.
            if next_at < i + 3 {
                next_at = value[i + 3..].find('@').map_or(value.len(), |a| i + 3 + a);
            }
            if next_at >= run_end {
                continue;
            }
            let at = next_at - (i + 3);
            let Some((user, password)) = run[..at].split_once(':') else {
                continue;
            };
            if user.contains(['/', '?', '#', '[']) {
                continue;
            }
            // "host:8080/path@x" is a port followed by a path, not a password.
            let head = &password[..password.find('/').unwrap_or(password.len())];
            if !head.is_empty() && head.bytes().all(|c| c.is_ascii_digit()) {
                continue;
            }
            password
        };
        // A very long "password" is no reference either (and checking it for every
        // `://` of a long value would take quadratic time).
        if !password.is_empty() && (password.len() > MAX_REFERENCE || !is_reference(password)) {
            return true;
        }
    }
    false
}

/// `Bearer <token>` and `Basic <base64 user:password>`, as in an Authorization header.
fn scan_authorization(value: &str) -> Option<&'static str> {
    for i in find_ci(value, "bearer ") {
        let token = token_at(value, i + 7, |c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-')
        });
        let has_digit = token.bytes().any(|c| c.is_ascii_digit());
        let has_alpha = token.bytes().any(|c| c.is_ascii_alphabetic());
        if token.len() >= 16 && has_digit && has_alpha {
            return Some("a bearer token");
        }
    }
    for i in find_ci(value, "basic ") {
        let token = token_at(value, i + 6, |c| {
            c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=')
        });
        if token.len() >= 8 {
            if let Some(decoded) = decode_base64(token) {
                let text = String::from_utf8_lossy(&decoded);
                if text
                    .split_once(':')
                    .is_some_and(|(u, p)| !u.is_empty() && !p.is_empty())
                {
                    return Some("HTTP basic-auth credentials");
                }
            }
        }
    }
    None
}

/// Byte offsets of case-insensitive ASCII matches of `needle` in `hay` that start a
/// word.
fn find_ci<'a>(hay: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    (0..(h.len() + 1).saturating_sub(n.len())).filter(move |&i| {
        (i == 0 || !h[i - 1].is_ascii_alphanumeric()) && h[i..i + n.len()].eq_ignore_ascii_case(n)
    })
}

/// The run of bytes accepted by `f` at `start`, after skipping spaces.
fn token_at(value: &str, start: usize, f: impl Fn(u8) -> bool) -> &str {
    let b = value.as_bytes();
    let mut s = start;
    while s < b.len() && b[s] == b' ' {
        s += 1;
    }
    let len = b[s..].iter().take_while(|&&c| f(c)).count();
    &value[s..s + len]
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = ((acc << 6) | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------
// Key names
// ---------------------------------------------------------------------------------

use keys::{key_info, Class, KeyInfo, Kind};

fn keyed(key: &str, value: &str) -> Option<&'static str> {
    literal_finding(key_info(key), value)
}

/// Judges a literal stored under a name of the given class.
fn literal_finding(key: KeyInfo, value: &str) -> Option<&'static str> {
    let (class, aws) = (key.class, key.aws);
    let v = value.trim();
    if v.is_empty() || class == Class::Reference {
        return None;
    }
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

/// 40 characters of `[A-Za-z0-9/+]` with upper case, lower case and digits.
fn is_aws_secret_shape(v: &str) -> bool {
    v.len() == 40
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+')
        && v.bytes().any(|c| c.is_ascii_uppercase())
        && v.bytes().any(|c| c.is_ascii_lowercase())
        && v.bytes().any(|c| c.is_ascii_digit())
}

/// A lowercase identifier that names a mode or a thing (`oidc`, `login`,
/// `sts.amazonaws.com`), as found under `AUTH`-like names.
fn is_mode_name(v: &str) -> bool {
    const WITH_DIGITS: &[&str] = &[
        "oauth2",
        "sigv4",
        "x509",
        "md5",
        "cram-md5",
        "digest-md5",
        "scram-sha-1",
        "scram-sha-256",
        "scram-sha-512",
        "http2",
        "s3",
    ];
    let b = v.as_bytes();
    (b.len() <= 32
        && b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || matches!(c, b'-' | b'_' | b'.')))
        || WITH_DIGITS.contains(&v)
}

/// `user:password` with both parts non-empty and no whitespace.
fn is_user_password_pair(v: &str) -> bool {
    !v.contains(char::is_whitespace)
        && v.split_once(':')
            .is_some_and(|(u, p)| !u.is_empty() && !p.is_empty() && !p.starts_with("//"))
}

/// Every string literal (`'…'` or `"…"`) inside the `{{ … }}` and `{% … %}` tags of a
/// template source, unescaped as far as the scanner needs (backslash escapes kept).
/// A template literal is judged as a literal is: `{{ 'hunter2-but-longer' }}` under
/// `DB_PASSWORD` is a literal password.
pub fn template_literals(v: &str) -> Vec<&str> {
    let b = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_tag: Option<u8> = None;
    while i < b.len() {
        match in_tag {
            None => {
                if b[i] == b'{' && matches!(b.get(i + 1), Some(b'{' | b'%')) {
                    in_tag = Some(if b[i + 1] == b'{' { b'}' } else { b'%' });
                    i += 2;
                } else {
                    i += 1;
                }
            }
            Some(close) => {
                let c = b[i];
                if c == b'\'' || c == b'"' {
                    let start = i + 1;
                    let mut j = start;
                    while j < b.len() && b[j] != c {
                        j += if b[j] == b'\\' { 2 } else { 1 };
                    }
                    let end = j.min(b.len());
                    if let Some(lit) = v.get(start..end) {
                        out.push(lit);
                    }
                    i = end + 1;
                } else if c == close && b.get(i + 1) == Some(&b'}') {
                    in_tag = None;
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
    }
    out
}

/// Smallest template literal judged by the name it is stored under (shorter ones,
/// such as the `'-'` of `replace('_', '-')` or `'prod'` in a comparison, are judged by
/// their shape only).
pub const MIN_KEYED_TEMPLATE_LITERAL: usize = 8;

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
            shape(lit).map(|what| Finding { what })
        }
    })
}

// ---------------------------------------------------------------------------------
// Key/value pairs inside the value
// ---------------------------------------------------------------------------------

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// Finds `name = literal`, `name: literal` and `"name": "literal"` inside the value, as
/// in config files, connection strings and query strings, and judges secret-ish names
/// like keys.
fn scan_embedded(value: &str) -> Option<&'static str> {
    scan_pairs(value).or_else(|| scan_xml(value))
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
