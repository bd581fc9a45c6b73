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
//! This module holds the judgment of a literal under a name (3); its submodules hold
//! the rest: `shapes` (the value shapes of (1)), `embedded` (the pairs of (2)), `keys`
//! (what a key name says), `benign` (literals that are clearly no secret, random-looking values),
//! `mask` (masking what kgen prints), `toml_scan` (every string and key of a TOML
//! file) and `memo` (the per-thread memo tables that keep the per-value checks cheap).

mod benign;
mod embedded;
mod keys;
mod mask;
mod memo;
#[cfg(test)]
mod oracle;
mod shapes;
#[cfg(test)]
mod tests;
mod toml_scan;

pub use benign::is_random_token;
use benign::{is_benign, is_long_hex, is_reference, looks_random, reference_len, MAX_REFERENCE};
use embedded::*;
pub use mask::{looks_secret, mask_line, mask_message};
use shapes::*;
pub use toml_scan::{scan_document, scan_toml, Located};

/// What KG010's help tells the user to do instead, by where the value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Remedy {
    /// A service's value where `secrets_backend` is `csi`.
    #[default]
    Csi,
    /// A service's value where `secrets_backend` is `external-secrets`.
    ExternalSecrets,
    /// A service's value in platform.toml, whose environments use both backends.
    EitherBackend,
    /// An add-on's `values`.
    AddonValues,
}

impl Remedy {
    /// The backend of each environment a value applies to, as one remedy.
    pub fn of_backends<'b>(backends: impl IntoIterator<Item = &'b str>) -> Remedy {
        let (mut csi, mut eso) = (false, false);
        for b in backends {
            if b == "external-secrets" {
                eso = true;
            } else {
                csi = true;
            }
        }
        match (csi, eso) {
            (false, true) => Remedy::ExternalSecrets,
            (true, true) => Remedy::EitherBackend,
            _ => Remedy::Csi,
        }
    }

    /// The help line of KG010 (docs/platform.md#secrets says how each backend
    /// delivers a service's secrets).
    pub fn help(self) -> &'static str {
        match self {
            Remedy::Csi => "store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets` (mounted at /mnt/secrets-store/<name>); see docs/platform.md#secrets",
            Remedy::ExternalSecrets => "store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets`: with `secrets_backend = \"external-secrets\"` it reaches the pods as the environment variable `<name>`, from the Secret `<service>-secrets` (envFrom); see docs/platform.md#secrets",
            Remedy::EitherBackend => "store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets`: mounted at /mnt/secrets-store/<name> where `secrets_backend` is `csi`, the environment variable `<name>` (from the Secret `<service>-secrets`) where it is `external-secrets`; see docs/platform.md#secrets",
            Remedy::AddonValues => "store the value in AWS Secrets Manager or SSM Parameter Store, bring it into the add-on's namespace as a Secret with an ExternalSecret (or write a SealedSecret) under manifests/clusters/<cluster>/, and give the chart that Secret's name: most charts take the name of an existing Secret instead of the value (`existingSecret`, `auth.existingSecret`: see the chart's values.yaml); see docs/security.md#secrets",
        }
    }
}

/// Whether a value at `path` (dotted, as [`Located::path`]) of platform.toml or an
/// overlay is in an add-on's `values`.
pub fn in_addon_values(path: &str) -> bool {
    let seg: Vec<&str> = path.splitn(6, '.').collect();
    matches!(
        seg.as_slice(),
        ["addons", _, "values", ..]
            | ["clusters", _, "addons", _, "values", ..]
            | ["monitoring", "values", ..]
            | ["clusters", _, "monitoring", "values", ..]
    )
}

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
// Key names
// ---------------------------------------------------------------------------------

use keys::{key_info, Class, KeyInfo, Kind};

fn keyed(key: &str, value: &str) -> Option<&'static str> {
    let found = literal_finding(key_info(key), value)?;
    // A digest under a name that says so (`checksum/config`, `ARTIFACT_SHA512`,
    // `integrity`): an MD5 or SHA hex digest, or its base64 (Subresource Integrity's
    // `sha384-…` too), is random by nature. Judged only once the value looked random:
    // most values never get here.
    if found == RANDOM_VALUE && names_a_digest(key) && is_digest(value.trim()) {
        return None;
    }
    Some(found)
}

/// Whether a key names a digest: one of its words is `checksum`, `hash`, `digest`,
/// `sha` (`sha256`), `md5`, `etag`, `integrity` or `fingerprint`.
fn names_a_digest(key: &str) -> bool {
    keys::split_words(key).iter().any(|w| {
        let w = w.trim_end_matches(|c: char| c.is_ascii_digit());
        matches!(
            w,
            "checksum"
                | "checksums"
                | "hash"
                | "digest"
                | "sha"
                | "md"
                | "etag"
                | "integrity"
                | "fingerprint"
        )
    })
}

/// A digest of 128 to 512 bits: hex of 32, 40, 56, 64, 96 or 128 digits, or base64 of
/// 16, 20, 28, 32, 48 or 64 bytes, optionally behind an algorithm (`sha256-`, `sha256:`).
fn is_digest(v: &str) -> bool {
    let body = v
        .split_once(['-', ':'])
        .filter(|(alg, _)| alg.starts_with("sha") || alg.starts_with("md5"))
        .map_or(v, |(_, b)| b);
    let bytes = body.len();
    if body.bytes().all(|c| c.is_ascii_hexdigit()) {
        return matches!(bytes, 32 | 40 | 56 | 64 | 96 | 128);
    }
    shapes::decode_base64(body).is_some_and(|d| matches!(d.len(), 16 | 20 | 28 | 32 | 48 | 64))
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

/// Judges the elements of a list of arguments (a container's `args` or `command`, an
/// exec probe, a chart's `extraArgs`) by the flag before each: `["--password",
/// "hunter2"]` holds a literal password as `--password=hunter2` does. Returns the
/// index of each element that looks like a secret that way, and what it looks like;
/// `None` stands for an element that is not a string.
pub fn scan_flag_values<'a>(
    args: impl IntoIterator<Item = Option<&'a str>>,
) -> Vec<(usize, Finding)> {
    let mut out = Vec::new();
    let mut prev: Option<&str> = None;
    for (i, arg) in args.into_iter().enumerate() {
        if let (Some(flag), Some(v)) = (prev, arg) {
            if let Some(what) = flag_value(flag, v.trim()) {
                out.push((i, Finding { what }));
            }
        }
        prev = arg;
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
