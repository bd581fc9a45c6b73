//! The value shapes that are secrets wherever they appear (check (1) of
//! [`super::scan`]): tokens with a known prefix, private key blocks, JWTs, bearer and
//! basic credentials, passwords in URLs, webhook URLs.

use super::*;

#[derive(Clone, Copy)]
pub(super) enum Charset {
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
    pub(super) fn accepts(self, c: u8) -> bool {
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
pub(super) struct Prefixed {
    pub(super) prefix: &'static str,
    pub(super) charset: Charset,
    pub(super) min: usize,
    pub(super) max: usize,
    pub(super) what: &'static str,
}

pub(super) const fn p(
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

pub(super) const ANY: usize = usize::MAX;
pub(super) const GITHUB: &str = "a GitHub token";
pub(super) const SLACK: &str = "a Slack token";
pub(super) const STRIPE: &str = "a Stripe secret key";

#[rustfmt::skip]
pub(super) const PREFIXED: &[Prefixed] = &[
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
pub(super) const WEBHOOKS: &[(&str, &str)] = &[
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
pub(super) fn scan_value(value: &str) -> Option<&'static str> {
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

/// The kind of both automata below: a contiguous NFA. The library would choose a
/// DFA for so few patterns, whose construction (about 2 M instructions for the two)
/// was a quarter of the Argo CD plugin's `cmp generate`; the values searched are
/// short input strings, where the two search about as fast.
pub(super) const AUTOMATON: aho_corasick::AhoCorasickKind =
    aho_corasick::AhoCorasickKind::ContiguousNFA;

/// Every fixed marker the checks after [`scan_prefixed`] (but the JWT one) start
/// from, ignoring case: a value with none of them cannot match those checks.
pub(super) static MARKERS: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AUTOMATON))
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
pub(super) const MIN_TOKEN_LEN: usize = {
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
pub(super) fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Whether `value` has a run of at least [`MIN_TOKEN_LEN`] token bytes: a value
/// without one holds no token of [`PREFIXED`] (most values: a cheap pass instead of
/// the automaton).
pub(super) fn has_token_run(value: &str) -> bool {
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
pub(super) fn find_bytes(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return Some(0);
    };
    let last_start = h.len().checked_sub(n.len())?;
    (0..=last_start).find(|&i| h[i] == first && &h[i + 1..i + n.len()] == rest)
}

/// Every prefix of [`PREFIXED`], searched for at once (one pass over the value,
/// instead of one per prefix: this runs on every string of every input file).
pub(super) static PREFIX_FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .kind(Some(AUTOMATON))
            .build(PREFIXED.iter().map(|t| t.prefix))
            .expect("the token prefixes are a valid automaton")
    });

/// The first token kind of [`PREFIXED`] (in its order) found in `value`.
pub(super) fn scan_prefixed(value: &str) -> Option<&'static str> {
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

pub(super) fn has_private_key(value: &str) -> bool {
    (find_bytes(value, "-----BEGIN ").is_some()
        && value.match_indices("-----BEGIN ").any(|(i, _)| {
            let rest = &value[i + 11..];
            rest.find("-----")
                .is_some_and(|end| rest[..end].contains("PRIVATE KEY"))
        }))
        || find_bytes(value, "PuTTY-User-Key-File-").is_some()
}

pub(super) fn is_base64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Three or more base64url segments separated by '.', the first a JSON header (`eyJ`).
/// One pass over each run of base64url characters and dots (linear time).
pub(super) fn has_jwt(value: &str) -> bool {
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
pub(super) fn has_url_password(value: &str) -> bool {
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
pub(super) fn scan_authorization(value: &str) -> Option<&'static str> {
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
pub(super) fn find_ci<'a>(hay: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    (0..(h.len() + 1).saturating_sub(n.len())).filter(move |&i| {
        (i == 0 || !h[i - 1].is_ascii_alphanumeric()) && h[i..i + n.len()].eq_ignore_ascii_case(n)
    })
}

/// The run of bytes accepted by `f` at `start`, after skipping spaces.
pub(super) fn token_at(value: &str, start: usize, f: impl Fn(u8) -> bool) -> &str {
    let b = value.as_bytes();
    let mut s = start;
    while s < b.len() && b[s] == b' ' {
        s += 1;
    }
    let len = b[s..].iter().take_while(|&&c| f(c)).count();
    &value[s..s + len]
}

pub(super) fn decode_base64(s: &str) -> Option<Vec<u8>> {
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
