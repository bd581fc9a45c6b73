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

mod keys;
mod memo;
#[cfg(test)]
mod oracle;

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

/// True when a literal under a secret-ish name is clearly not a secret: a reference, a
/// path, an ARN, a URL without credentials, a boolean, a number or a duration.
fn is_benign(v: &str, password: bool) -> bool {
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
    if is_duration(v) || is_arn(v) {
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
fn is_reference(v: &str) -> bool {
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
fn strip_references(v: &str) -> (String, bool) {
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
const MAX_REFERENCE: usize = 256;

fn reference_len(s: &str) -> Option<usize> {
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

fn is_number(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    let mut parts = digits.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

/// `30s`, `15m`, `1h30m`, `500ms`, `7d`.
fn is_duration(v: &str) -> bool {
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

fn is_arn(v: &str) -> bool {
    v.starts_with("arn:") && v.matches(':').count() >= 5 && !v.contains(char::is_whitespace)
}

/// An absolute or relative file path whose parts do not look random.
fn is_path(v: &str) -> bool {
    let rel = ["/", "./", "../", "~/"].iter().any(|p| v.starts_with(p));
    rel && v.bytes().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'_' | b'-' | b'~' | b'@' | b':')
    }) && !v.split('/').any(looks_random)
}

/// `scheme://…` without a password and without random-looking parts.
fn is_url_without_secret(v: &str) -> bool {
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
fn entropy(s: &str) -> f64 {
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
fn looks_random(s: &str) -> bool {
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
        return is_long_hex(v) && !matches!(b.len(), 40 | 64) && entropy(v) >= 3.0;
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
    !decodes_to_public_material(body)
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(v: &str) -> bool {
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
fn decodes_to_public_material(body: &str) -> bool {
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
fn is_piece_separator(c: char) -> bool {
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
fn mask_word(word: &str, fill: bool) -> Option<String> {
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
fn mask_words(text: &str, fill: bool, separator: impl Fn(char) -> bool) -> Option<String> {
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

/// At least 32 hex digits of one case, with both letters and digits.
fn is_long_hex(s: &str) -> bool {
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

/// A secret-looking string somewhere in a TOML file: where it is and what it looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Byte range of the value (or key) in the file.
    pub span: std::ops::Range<usize>,
    /// Dotted path of the value, e.g. `services.api.image` (a key holding a dot makes
    /// it ambiguous: for messages use `key`).
    pub path: String,
    /// The key of the value as written, dots included (`acme.com/token`); `***` when
    /// the key itself looks like a secret.
    pub key: String,
    pub finding: Finding,
}

/// Tables whose keys are names the user chose (environment variables, ConfigMap keys,
/// template variables): a value there is also judged by its key, like [`scan`] does.
const NAMED_VALUE_TABLES: &[&str] = &["env", "config", "vars"];

/// Scans every string of a TOML file, whatever field it is in, and every key. This
/// runs before the file is interpreted, so that no later message (a type error, an
/// invalid name, a template error) can echo a secret: a value is judged by its
/// shape (a token, a private key, a password in a URL, ...), and a value in `env`,
/// `config` or `vars` also by its key, as [`scan`] does. Returns nothing when the
/// file is not valid TOML (the parse error is reported instead).
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
    scan_table(doc, "", "", &mut out);
    out
}

type DeItem<'i> = toml::Spanned<toml::de::DeValue<'i>>;

/// A table (standard or inline) whose dotted path is `path` and whose own key is
/// `table_key` (empty for the document). Each key is judged once: by its shape, for
/// a finding of its own and for how paths and messages show it.
fn scan_table(table: &toml::de::DeTable<'_>, path: &str, table_key: &str, out: &mut Vec<Located>) {
    for (key, item) in table.iter() {
        let k = key.get_ref();
        let found = shape(k);
        // A key that is itself a secret is not repeated in messages.
        let shown = if found.is_some() { "***" } else { k.as_ref() };
        let child = if path.is_empty() {
            shown.to_string()
        } else {
            format!("{path}.{shown}")
        };
        if let Some(what) = found {
            out.push(Located {
                span: key.span(),
                path: child.clone(),
                key: shown.to_string(),
                finding: Finding { what },
            });
        }
        scan_item(item, table_key, k, &child, out);
    }
}

/// The value of `key` in the table whose own key is `table_key`; `path` is the
/// value's path. Every element of an array is under the array's key and path.
fn scan_item(item: &DeItem<'_>, table_key: &str, key: &str, path: &str, out: &mut Vec<Located>) {
    match item.get_ref() {
        toml::de::DeValue::String(v) => {
            // The table's key as written: `files."app.env"` is not an `env` table.
            let named = NAMED_VALUE_TABLES.contains(&table_key);
            let templated = crate::template::Templates::is_template(v);
            let what = if named && !templated {
                scan(key, v).map(|f| f.what)
            } else if named {
                // A template: its text by shape, and its string literals as literals.
                shape(v).or_else(|| scan_template_literals(key, v).map(|f| f.what))
            } else if v.trim().is_empty() {
                None
            } else {
                shape(v)
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
            for v in items {
                scan_item(v, table_key, key, path, out);
            }
        }
        toml::de::DeValue::Table(t) => scan_table(t, path, key, out),
        _ => {}
    }
}

/// A key as messages show it: itself, or `***` when it looks like a secret.
fn shown_key(key: &str) -> &str {
    if shape(key).is_some() {
        "***"
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use super::keys::{classify, split_words};
    use super::*;

    /// (key, value) pairs that must be refused. Token bodies are built at run time so
    /// that the source does not itself trip secret scanners.
    #[rustfmt::skip]
    fn must_catch() -> Vec<(String, String, &'static str)> {
        let alnum36 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
        let b64_40 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let jwt = format!(
            "{}.{}.{}",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        );
        let pem = format!(
            "-----BEGIN {} PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END RSA PRIVATE KEY-----",
            "RSA"
        );
        let c = |k: &str, v: &str, what: &'static str| (k.to_string(), v.to_string(), what);
        vec![
            c("AWS_ACCESS_KEY_ID", &format!("AKIA{}", "IOSFODNN7EXAMPLE"), "an AWS access key id"),
            c("NOTES", &format!("use ASIA{} for now", "Y34FZKBOKMUTVV7A"), "an AWS access key id"),
            c("AWS_SECRET_ACCESS_KEY", b64_40, AWS_SECRET_KEY),
            c("AWS_SK", b64_40, AWS_SECRET_KEY),
            c("credentials.ini", &format!("[default]\naws_secret_access_key = {b64_40}\n"), AWS_SECRET_KEY),
            c("CI_NOTE", &format!("ghp_{alnum36}"), GITHUB),
            c("X", &format!("token gho_{alnum36}"), GITHUB),
            c("X", &format!("ghs_{alnum36}"), GITHUB),
            c("X", &format!("github_pat_11ABCDEFG0{}_{}", alnum36, alnum36), GITHUB),
            c("CHAT", &format!("xoxb-{}-{}", "1234567890", "AbCdEfGhIjKlMnOp"), SLACK),
            c("ALERT_HOOK", &format!("https://hooks.slack.com/services/T0{}/B0{}/XyZ", "1234567", "7654321"), "a Slack webhook URL"),
            c("TLS_KEY", &pem, "a private key"),
            c("SSH", &format!("-----BEGIN OPENSSH PRIVATE {}-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "KEY"), "a private key"),
            c("SIGNING", &format!("-----BEGIN PGP PRIVATE KEY {}-----", "BLOCK"), "a private key"),
            c("SAMPLE_HEADER", &jwt, "a JSON Web Token"),
            c("Authorization", &format!("Bearer {jwt}"), "a JSON Web Token"),
            c("UPSTREAM_AUTHORIZATION", &format!("Bearer {}", "7f3kQ92xLmN0pR5sT8vW"), "a bearer token"),
            c("PROXY_HEADER", &format!("Basic {}", "YWRtaW46aHVudGVyMg=="), "HTTP basic-auth credentials"),
            c("DATABASE_URL", "postgres://app:s3cr3t@db:5432/app", "a password inside a URL"),
            c("CACHE_URL", "redis://:hunter2@redis:6379/0", "a password inside a URL"),
            c("MONGO", "mongodb+srv://u:p%40ss@cluster0.example.net/db?retryWrites=true", "a password inside a URL"),
            c("AMQP", "amqp://guest:guest@rabbit:5672", "a password inside a URL"),
            c("BROKERS", "kafka://a:b/c@broker:9092", "a password inside a URL"),
            c("PAYMENTS", &format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc"), STRIPE),
            c("MAPS", &format!("AIza{}", "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"), "a Google API key"),
            c("GITLAB", &format!("glpat-{}", "xxXXxx1234567890abcdEF"), "a GitLab token"),
            c("NPMRC", &format!("//registry.npmjs.org/:_authToken=npm_{alnum36}"), "an npm token"),
            c("VAULT", &format!("hvs.{}", "CAESIJ3kP9xQ2mRz7LwYb4NvTf8s"), "a HashiCorp Vault token"),
            c("LLM", &format!("sk-proj-{}", "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"), "an OpenAI API key"),
            c("DB_PASSWORD", "hunter2", "a literal password"),
            c("db.password", "correct horse battery staple", "a literal password"),
            c("client-secret", "abc", "a literal secret"),
            c("apiKey", "12345abcde", "a literal API key"),
            c("SSH_PRIVATE_KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "a literal private key"),
            c("SLACK_TOKEN", "xyz-plain-text-value", "a literal token"),
            c("GOOGLE_CREDENTIALS", r#"{"type": "service_account"}"#, "literal credentials"),
            c("REDIS_PASSWORD", "123456", "a literal password"),
            c("MYSQL_ROOT_PASSWORD", "changeme", "a literal password"),
            c("DB_PASS", "postgres", "a literal password"),
            c("BASIC_AUTH", "admin:hunter2", "a user:password pair"),
            c("REDIS_AUTH", "Zx8kP2mQ9vL4", "a literal credential"),
            c("SESSION_SECRET", "Zx8!kP2#mQ9$vL4@nR7^", "a literal secret"),
            c("SECRET_KEY_BASE", "a".repeat(64).as_str(), "a literal secret"),
            c("SIGNING_KEY", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "a literal secret"),
            c("KEY", "q8Xk2LmN9pR4sT7vW1yZ3bD6fH0jK5nP", HIGH_ENTROPY),
            c("STRIPE_KEY", "9f86d081884c7d659a2feaa0c55ad015", HIGH_ENTROPY),
            c("DB_PASSWORD", "{{ env.name }}-Zk8p2Lx9Qm4Rt7Vw1Yz3", "a literal password"),
            c("NEXTAUTH_SECRET", "x", "a literal secret"),
            c("PGPASSWORD", "x", "a literal password"),
            c("X-Api-Key", "abc", "a literal API key"),
            c("application.properties", "spring.datasource.password=hunter2\nserver.port=8080", "a literal password"),
            c("config.yaml", "db:\n  host: db\n  password: s3cr3t\n", "a literal password"),
            c("config.json", r#"{"api_key": "abc123def456", "region": "eu"}"#, "a literal API key"),
            c("PG_DSN", "host=db user=app password=s3cr3t dbname=app", "a literal password"),
            c("CONNECTION", "Server=tcp:x;Database=y;User Id=u;Password=p4ss;", "a literal password"),
            c("CALLBACK", "https://api.example.com/v1?access_token=abc123def456ghi789&x=1", "a literal token"),
            c("AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc123+/==;", "a literal secret"),
            c("ARGS", "--db-password=hunter2 --verbose", "a literal password"),
            c("entrypoint.sh", "#!/bin/sh\nexport API_TOKEN=abc123\nexec app", "a literal token"),
            c("dockerconfig", r#"{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}}}"#, "a literal credential"),
            c("settings.xml", "<server>\n  <id>nexus</id>\n  <password>hunter2</password>\n</server>", "a literal password"),
        ]
    }

    /// (key, value) pairs that look a bit like secrets but must pass.
    #[rustfmt::skip]
    fn must_pass() -> Vec<(&'static str, String)> {
        let c = |k: &'static str, v: &str| (k, v.to_string());
        vec![
            c("ROLE_ARN", "arn:aws:iam::123456789012:role/x"),
            c("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/kgen-main-api"),
            c("AWS_ACCOUNT_ID", "123456789012"),
            c("AWS_REGION", "eu-west-1"),
            c("REGISTRY", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            c("GIT_SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"),
            c("REQUEST_ID", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
            c("IMAGE_DIGEST", &format!("sha256:{}", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")),
            c("HOMEPAGE", "https://example.com/path?x=1&y=two"),
            c("DB_PASSWORD_FILE", "/mnt/secrets-store/db-password"),
            c("SECRET_PATH", "/var/run/secrets/x"),
            c("TOKEN_URL", "https://auth.example.com/oauth/token"),
            c("SECRET_NAME", "prod/db"),
            c("DB_PASSWORD_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"),
            c("TOKEN_AUDIENCE", "sts.amazonaws.com"),
            c("DB_PASSWORD", ""),
            c("DB_PASSWORD", "$(DB_PASSWORD)"),
            c("DB_PASSWORD", "${DB_PASSWORD}"),
            c("API_KEY", "{{ secrets.api_key }}"),
            c("DB_PASSWORD", "/mnt/secrets-store/db-password"),
            c("DB_PASSWORD", "prod/db-password"),
            c("REQUIRE_PASSWORD", "true"),
            c("PASSWORD_AUTH_ENABLED", "false"),
            c("MAX_TOKENS", "4096"),
            c("TOKEN_TTL", "3600"),
            c("AUTH_TOKEN_LIFETIME", "15m"),
            c("PASSWORD_MIN_LENGTH", "12"),
            c("DATABASE_URL", "postgres://app@db:5432/app"),
            c("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db:5432/app"),
            c("DATABASE_URL", "postgres://app:{{ db_password }}@db/app"),
            c("DATABASE_URL", "postgres://app:@db/app"),
            c("SENTRY_DSN", "https://abc123@o1.ingest.sentry.io/42"),
            c("REGISTRY_URL", "https://registry.example.com:5000/v2/@scope/pkg"),
            c("METRICS_URL", "http://[::1]:9090/api/@v1"),
            c("CONNECTION_TEMPLATE", "Server={host};User Id={user};Password={password};"),
            c("DATABASE_URL", "postgres://app:<password>@db/app"),
            c("values.yaml", "auth:\n  existingSecret: db-credentials\n  existingSecretPasswordKey: password\n"),
            c("PASSWORD_HASHER", "argon2"),
            c("TLS_CERT", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"),
            c("AUTH_MODE", "oidc"),
            c("SMTP_AUTH", "login"),
            c("KAFKA_AUTH", "scram-sha-512"),
            c("GOOGLE_APPLICATION_CREDENTIALS", "/var/secrets/google/key.json"),
            c("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"),
            c("TOKENIZER_MODEL", "bert-base-uncased"),
            c("KEYCLOAK_URL", "https://sso.example.com"),
            c("CACHE_KEY", "user-sessions-v2"),
            c("S3_KEY", "uploads/2024/report.csv"),
            c("KMS_KEY_ID", "mrk-1234abcd12ab34cd56ef1234567890ab"),
            c("ACCESS_KEY_ID", "minioadmin"),
            c("PUBLIC_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0a2V5cGxhY2Vob2xkZXJmb3J0ZXN0cw user@host"),
            c("STRIPE_PUBLISHABLE_KEY", "pk_live_51H8a2bC3d4E5f6G7h8I9j0K"),
            c("JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"),
            c("LOG_LEVEL", "info"),
            c("DESCRIPTION", "Enter your password: then press enter"),
            c("DESCRIPTION", "Rotate the API token every 90 days; the token is stored in SSM."),
            c("SCOPES", "openid profile token:exchange api:read"),
            c("config.yaml", "password_file: /run/secrets/db\nport: 5432\n"),
            c("config.yaml", "db:\n  password: ${DB_PASSWORD}\n"),
            c("workflow.yaml", "permissions:\n  id-token: write\n  contents: read\n"),
            c("GIT_REPO", "git@github.com:org/repo.git"),
            c("JAVA_OPTS", "-Xmx512m -Dfile.encoding=UTF-8 -Djavax.net.ssl.trustStore=/etc/ssl/truststore.jks"),
            c("PWD", "/app"),
            c("NODE_OPTIONS", "--max-old-space-size=4096"),
            c("TIME", "12:30:45"),
            c("BOOT", "sh -c 'if [ \"$X\" == \"y\" ]; then echo ok; fi'"),
            c("NEXTAUTH_URL", "https://app.example.com"),
            c("OAUTH_CLIENT_ID", "0oa1b2c3d4e5f6g7h8i9"),
            c("SECRETS_MANAGER_REGION", "eu-west-1"),
            c("ENCRYPTION_KEY_ARN", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            c("SERVICE_ACCOUNT", "main-api"),
            c("FEATURE_FLAGS", "new-checkout=true,auth=oidc"),
            c("QUERY", "SELECT * FROM users WHERE token_hash = $1"),
            c("BUILD_URL", "https://ci.example.com/job/main-api/1234/"),
            c("settings.xml", "<server><id>nexus</id><password>${env.NEXUS_PASSWORD}</password></server>"),
            c("CHECKSUM", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ]
    }

    #[test]
    fn red_team_secrets_are_caught() {
        let cases = must_catch();
        assert!(cases.len() >= 30);
        let mut failures = Vec::new();
        for (key, value, want) in &cases {
            match scan(key, value) {
                Some(f) if f.what == *want => {}
                got => failures.push(format!("{key} = {value:?}: want {want:?}, got {got:?}")),
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn look_alikes_pass() {
        let cases = must_pass();
        assert!(cases.len() >= 20);
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(key, value)| {
                scan(key, value).map(|f| format!("{key} = {value:?}: flagged as {:?}", f.what))
            })
            .collect();
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn findings_never_contain_the_value() {
        for (key, value, _) in must_catch() {
            let f = scan(&key, &value).expect("caught");
            let text = format!("{f:?} {}", f.what);
            assert!(!text.contains(value.as_str()), "{key}");
            // Nor any secret-looking piece of it.
            for token in value.split(|c: char| !c.is_ascii_alphanumeric()) {
                if token.len() >= 6 && token.contains(|c: char| c.is_ascii_digit()) {
                    assert!(!text.contains(token), "{key}: {token}");
                }
            }
        }
    }

    #[test]
    fn key_words() {
        let w = |k: &str| split_words(k).join(" ");
        assert_eq!(w("DB_PASSWORD"), "db password");
        assert_eq!(w("dbPassword"), "db password");
        assert_eq!(w("db.password"), "db password");
        assert_eq!(w("client-secret"), "client secret");
        assert_eq!(w("APIKey"), "api key");
        assert_eq!(w("OAuth2Token"), "o auth2 token");
        assert_eq!(w("S3Key"), "s3 key");
        let class = |k: &str| classify(&split_words(k));
        assert_eq!(class("DB_PASSWORD"), Class::Direct(Kind::Password));
        assert_eq!(class("PASSWORD_FILE"), Class::Reference);
        assert_eq!(class("SECRET_KEY_BASE"), Class::Direct(Kind::Secret));
        assert_eq!(
            class("AWS_SECRET_ACCESS_KEY"),
            Class::Direct(Kind::AccessKey)
        );
        assert_eq!(class("TOKEN_AUDIENCE"), Class::Reference);
        assert_eq!(class("MAX_TOKENS"), Class::Reference);
        assert_eq!(class("PUBLIC_KEY"), Class::Reference);
        assert_eq!(class("BASIC_AUTH"), Class::Auth);
        assert_eq!(class("CACHE_KEY"), Class::Weak);
        assert_eq!(class("TOKENIZER"), Class::Plain);
        assert_eq!(class("PASSWORDLESS"), Class::Plain);
        assert_eq!(class("BYPASS"), Class::Plain);
    }

    #[test]
    fn helpers() {
        assert!(looks_random("q8Xk2LmN9pR4sT7vW1yZ3bD6fH0jK5nP"));
        assert!(!looks_random("9fceb02d0ae598e95dc970b74767f19372d61af8"));
        assert!(!looks_random("my-service-name-production-eu"));
        assert!(!looks_random("short"));
        assert!(is_reference("$(DB_PASSWORD)"));
        assert!(is_reference("{{ a }}{{ b }}"));
        assert!(is_reference("$DB_PASSWORD"));
        assert!(!is_reference("pa$$word"));
        assert!(!is_reference("$(unclosed"));
        assert!(is_duration("1h30m") && is_duration("500ms") && !is_duration("h1"));
        assert_eq!(
            decode_base64("YWRtaW46aHVudGVyMg==").as_deref(),
            Some(&b"admin:hunter2"[..])
        );
        assert_eq!(scan("ANY", "   "), None);
    }
}
