//! Key names: what the name a value is stored under (`DB_PASSWORD`, `apiKey`,
//! `TOKEN_URL`) says about the value, as a [`Class`], for the keyed checks of the
//! secret scan. A key is split into words and classified once per distinct key and
//! thread ([`key_info`]): every service has the same few keys (`LOG_LEVEL`, `PORT`,
//! the names inside config files), and the split is the costly part.

use super::memo::Memo;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Password,
    Token,
    ApiKey,
    PrivateKey,
    AccessKey,
    Credentials,
    Secret,
}

impl Kind {
    pub(super) fn what(self) -> &'static str {
        match self {
            Kind::Password => "a literal password",
            Kind::Token => "a literal token",
            Kind::ApiKey => "a literal API key",
            Kind::PrivateKey => "a literal private key",
            Kind::AccessKey => "a literal access key",
            Kind::Credentials => "literal credentials",
            Kind::Secret => "a literal secret",
        }
    }
}

/// How much a key name says about its value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Class {
    /// Nothing secret-ish in the name.
    Plain,
    /// A secret word qualified into a reference or setting (`PASSWORD_FILE`, `MAX_TOKENS`).
    Reference,
    /// The value is the secret (`DB_PASSWORD`): any literal that is not clearly a
    /// reference is refused.
    Direct(Kind),
    /// `AUTH`, `BASIC_AUTH`: a secret unless it names a mode (`oidc`, `login`).
    Auth,
    /// `KEY`, `SALT`: a secret only when the value looks random.
    Weak,
}

/// Words that make `<word> key` a secret key.
fn key_pair_kind(prev: &str) -> Option<Kind> {
    Some(match prev {
        "api" => Kind::ApiKey,
        "private" | "ssh" | "deploy" => Kind::PrivateKey,
        "access" => Kind::AccessKey,
        "secret" | "signing" | "encryption" | "master" | "license" | "account" | "storage"
        | "hmac" | "jwt" | "session" | "app" | "auth" | "crypto" | "cipher" | "aes" | "shared"
        | "subscription" | "webhook" | "client" | "root" => Kind::Secret,
        _ => return None,
    })
}

/// Words after the secret word that turn the name into a reference or a setting.
const POST_QUALIFIERS: &str = "\
    file files path paths dir directory folder url uri urls uris endpoint endpoints \
    host hostname server port domain realm tenant name names arn id ids uuid ref \
    reference mount location audience aud issuer iss header type mode method enabled \
    enable disabled required optional ttl expiry expires expiration exp lifetime \
    validity age timeout duration seconds secs minutes mins hours days ms interval \
    period length len size min max count limit policy scope scopes permissions role \
    roles claim claims format encoding version store stores provider manager backend engine \
    algorithm alg field prefix suffix rotation region kind source namespace bucket \
    table param parameter env var variable label annotation selector class strategy \
    hint description regex pattern digest checksum fingerprint sha template schema \
    attribute attr user username login callback redirect protocol scheme flow grant \
    introspection revocation validation verification retries leeway skew cache client \
    hasher hashing complexity strength reset rules validator generator encoder
";

/// Words before the secret word that turn the name into a setting or a public value.
const PRE_QUALIFIERS: &str = "\
    max min num number count enable enabled disable disabled use require required skip \
    allow has is no ignore without public publishable pub existing
";

fn is_listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

enum Term {
    Direct(Kind),
    Auth,
    Weak,
}

/// The secret term ending at word `i`, and the index of its first word.
fn term_at(words: &[String], i: usize) -> Option<(usize, Term)> {
    let w = words[i].as_str();
    if w == "key" || w == "keys" {
        if let Some(kind) = i.checked_sub(1).and_then(|j| key_pair_kind(&words[j])) {
            return Some((i - 1, Term::Direct(kind)));
        }
        return Some((i, Term::Weak));
    }
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| w.ends_with(s));
    let term =
        if w == "pass" || w == "pwd" || ends(&["password", "passwd", "passphrase", "passwords"]) {
            Term::Direct(Kind::Password)
        } else if w == "pat" || w.ends_with("token") {
            Term::Direct(Kind::Token)
        } else if w == "tokens" || w == "salt" || w == "hmac" {
            Term::Weak
        } else if ends(&["apikey", "apikeys"]) {
            Term::Direct(Kind::ApiKey)
        } else if ends(&["privatekey"]) {
            Term::Direct(Kind::PrivateKey)
        } else if ends(&["accesskey"]) {
            Term::Direct(Kind::AccessKey)
        } else if ends(&["credential", "credentials", "creds"]) {
            Term::Direct(Kind::Credentials)
        } else if ends(&["secret", "secrets", "secretkey"]) || w == "psk" {
            Term::Direct(Kind::Secret)
        } else if w.ends_with("auth") || w == "authorization" || w == "authentication" {
            Term::Auth
        } else {
            return None;
        };
    Some((i, term))
}

/// Splits a key into lowercase words at non-alphanumerics and camelCase boundaries:
/// `dbPassword`, `DB_PASSWORD`, `db.password` and `db-password` all give `db password`.
pub(super) fn split_words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

pub(super) fn classify(words: &[String]) -> Class {
    // A numbered name says what its word says: `DB_PASSWORD2`, `token1`, `apiKey2`.
    let words: Vec<String> = words.iter().map(|w| unnumbered(w).to_string()).collect();
    let words = words.as_slice();
    let mut last: Option<(usize, usize, Term)> = None;
    for i in 0..words.len() {
        if let Some((start, term)) = term_at(words, i) {
            last = Some((start, i, term));
        }
    }
    let Some((start, end, term)) = last else {
        return Class::Plain;
    };
    let qualified = words[end + 1..]
        .iter()
        .any(|w| is_listed(POST_QUALIFIERS, w))
        || words[..start].iter().any(|w| is_listed(PRE_QUALIFIERS, w));
    if qualified {
        return Class::Reference;
    }
    match term {
        Term::Direct(kind) => Class::Direct(kind),
        Term::Auth => Class::Auth,
        Term::Weak => Class::Weak,
    }
}

/// A word without the number it ends with (`password2` → `password`, `sha256` →
/// `sha`), when at least two letters are left (`s3`, `v2` stay).
fn unnumbered(word: &str) -> &str {
    let letters = word.trim_end_matches(|c: char| c.is_ascii_digit());
    if letters.chars().count() >= 2 {
        letters
    } else {
        word
    }
}

/// What a key says about its value: its [`Class`], and whether one of its words
/// starts with `aws` (then a value of the shape of an AWS secret access key is one).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct KeyInfo {
    pub class: Class,
    pub aws: bool,
}

/// [`KeyInfo`] of `key`, computed.
pub(super) fn key_info_uncached(key: &str) -> KeyInfo {
    let words = split_words(key);
    KeyInfo {
        class: classify(&words),
        aws: words.iter().any(|w| w == "aws" || w.starts_with("aws")),
    }
}

thread_local! {
    static KEYS: std::cell::RefCell<Memo<KeyInfo>> = std::cell::RefCell::new(Memo::default());
}

/// Whether `b` starts with the lowercase `piece`, ignoring ASCII case.
fn starts_with_ci(b: &[u8], piece: &str) -> bool {
    b.len() >= piece.len() && b[..piece.len()].eq_ignore_ascii_case(piece.as_bytes())
}

/// Whether an ASCII `key` holds none of the pieces `key`, `pass`, `pwd`, `pat`,
/// `token`, `salt`, `hmac`, `cred`, `secret`, `psk`, `auth` and `aws`, ignoring case:
/// every word that [`term_at`] recognises, or that starts with `aws`, holds one. Then
/// it has no secret term and no `aws` word (for ASCII, every word is a lowercased piece of
/// the key), and is [`Class::Plain`] without being split. Most keys are
/// (`LOG_LEVEL`, `image`, `replicas`). One pass, each piece tried only where its
/// first letter is.
fn is_plain_ascii(key: &str) -> bool {
    let b = key.as_bytes();
    key.is_ascii()
        && !(0..b.len()).any(|i| {
            let rest = &b[i..];
            let pieces: &[&str] = match b[i].to_ascii_lowercase() {
                b'k' => &["key"],
                b'p' => &["pass", "pwd", "pat", "psk"],
                b't' => &["token"],
                b's' => &["salt", "secret"],
                b'h' => &["hmac"],
                b'c' => &["cred"],
                b'a' => &["auth", "aws"],
                _ => return false,
            };
            pieces.iter().any(|piece| starts_with_ci(rest, piece))
        })
}

/// [`KeyInfo`] of `key`, remembered per distinct key (see [`Memo`]).
pub(super) fn key_info(key: &str) -> KeyInfo {
    if is_plain_ascii(key) {
        // No secret word and no `aws` (the empty key has no word at all).
        return KeyInfo {
            class: Class::Plain,
            aws: false,
        };
    }
    Memo::cached(&KEYS, key, key_info_uncached)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces [`is_plain_ascii`] looks for.
    const TERM_PIECES: &[&str] = &[
        "key", "pass", "pwd", "pat", "token", "salt", "hmac", "cred", "secret", "psk", "auth",
        "aws",
    ];

    /// Every piece of [`TERM_PIECES`] is found by [`is_plain_ascii`], in any case and
    /// place.
    #[test]
    fn plain_keys_hold_no_term_piece() {
        for piece in TERM_PIECES {
            for key in [
                piece.to_string(),
                piece.to_uppercase(),
                format!("x_{piece}_y"),
                format!("X{}Y", piece.to_uppercase()),
            ] {
                assert!(!is_plain_ascii(&key), "{key}");
            }
        }
        assert!(is_plain_ascii("LOG_LEVEL") && is_plain_ascii(""));
        assert!(!is_plain_ascii("\u{212A}EY"));
    }
}
