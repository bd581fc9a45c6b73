//! Kubernetes name and key syntax: DNS-1123 labels and subdomains, label keys and
//! values, environment variable names, ConfigMap keys, port names and HTTP probe paths.
//!
//! Every check is a pure function that returns `Err` with one sentence saying what is
//! wrong and what the rule is. The rules follow `k8s.io/apimachinery/pkg/util/validation`,
//! except environment variable names, where kgen is stricter than Kubernetes. For the
//! names users write (labels, subdomains, variable names, ConfigMap keys), a
//! `nearest_*` function proposes the closest valid one, the "did you mean" of the error.

const LABEL_RULE: &str =
    "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";
const SUBDOMAIN_RULE: &str = "use at most 253 lowercase letters, digits, '-' and '.', in dot-separated parts that each start and end with a letter or digit";
const NAME_RULE: &str =
    "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
const ENV_RULE: &str = "use letters, digits and '_', not starting with a digit, like DATABASE_URL";
const CONFIG_MAP_KEY_RULE: &str =
    "use at most 253 letters, digits, '-', '_' and '.', like app.properties";
const PORT_RULE: &str = "use at most 15 lowercase letters, digits and '-', with at least one letter and no leading, trailing or doubled '-', like http or grpc-web";

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` without a length limit.
pub(crate) fn is_label_shape(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Dot-separated labels without a length limit (Kubernetes limits only the whole name).
/// One pass over the bytes: the check of every label and key prefix of every object.
pub(crate) fn is_subdomain_shape(s: &str) -> bool {
    // The byte before `c`, `.` at the start (a label begins after it).
    let mut prev = b'.';
    for &c in s.as_bytes() {
        match c {
            b'a'..=b'z' | b'0'..=b'9' => {}
            // A label does not start with '-'.
            b'-' if prev != b'.' => {}
            // A label is not empty and does not end with '-'.
            b'.' if prev != b'.' && prev != b'-' => {}
            _ => return false,
        }
        prev = c;
    }
    prev != b'.' && prev != b'-'
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?` without a length limit.
pub(crate) fn is_name_shape(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Checks a DNS-1123 label (most object names, namespaces, container names).
pub fn check_dns1123_label(s: &str) -> Result<(), String> {
    if !is_label_shape(s) {
        return Err(format!("{s:?} is not a valid DNS-1123 label: {LABEL_RULE}"));
    }
    if s.len() > 63 {
        return Err(format!(
            "{s:?} is too long for a DNS-1123 label ({} characters): {LABEL_RULE}",
            s.len()
        ));
    }
    Ok(())
}

/// A CRD's API group (`crd_groups` of an add-on, `[baseline] provided`): a DNS-1123
/// subdomain with a dot, as the API server requires of a CRD's `spec.group`.
pub fn check_crd_group(group: &str) -> Result<(), String> {
    check_dns1123_subdomain(group).map_err(|e| {
        let lower = group.to_ascii_lowercase();
        match check_dns1123_subdomain(&lower) {
            Ok(()) if lower.contains('.') => format!("CRD group: {e} (did you mean `{lower}`?)"),
            _ => format!("CRD group: {e}"),
        }
    })?;
    if group.contains('.') {
        Ok(())
    } else {
        Err(format!(
            "`{group}` is not a CRD's API group: a CRD's group has a dot, like `example.com`"
        ))
    }
}

/// Checks a DNS-1123 subdomain (dot-separated labels, at most 253 characters in all).
pub fn check_dns1123_subdomain(s: &str) -> Result<(), String> {
    if !is_subdomain_shape(s) {
        return Err(format!(
            "{s:?} is not a valid DNS-1123 subdomain: {SUBDOMAIN_RULE}"
        ));
    }
    if s.len() > 253 {
        return Err(format!(
            "{s:?} is too long for a DNS-1123 subdomain ({} characters): {SUBDOMAIN_RULE}",
            s.len()
        ));
    }
    Ok(())
}

/// Label key prefixes found on almost every object, valid DNS-1123 subdomains: a key
/// with one of them needs no check of its prefix.
const KNOWN_PREFIXES: &[&str] = &["app.kubernetes.io", "argocd.argoproj.io", "kgen.dev"];

/// Checks a label or annotation key: an optional DNS-1123 subdomain prefix and '/',
/// then a name of at most 63 characters.
pub fn check_label_key(s: &str) -> Result<(), String> {
    check_qualified_name(s, "label key")
}

/// Checks a Service port's `appProtocol`: a qualified name, as a label key is
/// (kubernetes `validateServicePort`: `ValidateQualifiedName`), like `kubernetes.io/h2c`.
pub fn check_app_protocol(s: &str) -> Result<(), String> {
    check_qualified_name(s, "appProtocol")
}

/// A qualified name (`IsQualifiedName`: an optional DNS-1123 subdomain prefix and '/',
/// then a name of at most 63 characters); `what` names it in messages.
fn check_qualified_name(s: &str, what: &str) -> Result<(), String> {
    // '/' is ASCII: a byte search finds what `split_once('/')` would, for less.
    let (prefix, name) = match s.bytes().position(|c| c == b'/') {
        Some(i) => (Some(&s[..i]), &s[i + 1..]),
        None => (None, s),
    };
    if name.bytes().any(|c| c == b'/') {
        return Err(format!(
            "{s:?} is not a valid {what}: use at most one '/', between an optional DNS subdomain prefix and the name, like app.kubernetes.io/name"
        ));
    }
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err(format!(
                "{s:?} is not a valid {what}: remove the leading '/' or put a DNS subdomain prefix before it, like example.com/{name}"
            ));
        }
        let known = KNOWN_PREFIXES.contains(&prefix);
        if !known && (!is_subdomain_shape(prefix) || prefix.len() > 253) {
            return Err(format!(
                "{s:?} is not a valid {what}: the prefix {prefix:?} must be a DNS-1123 subdomain of at most 253 lowercase letters, digits, '-' and '.', like example.com"
            ));
        }
    }
    let part = if prefix.is_some() {
        "the name after the '/'"
    } else if what == "label key" {
        "the key"
    } else {
        "it"
    };
    if !is_name_shape(name) {
        return Err(format!(
            "{s:?} is not a valid {what}: {part} must be {NAME_RULE}"
        ));
    }
    if name.len() > 63 {
        return Err(format!(
            "{s:?} is not a valid {what}: {part} is {} characters long, but it must be {NAME_RULE}",
            name.len()
        ));
    }
    Ok(())
}

/// Checks a label value: empty, or a name of at most 63 characters.
pub fn check_label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    if !is_name_shape(s) {
        return Err(format!(
            "{s:?} is not a valid label value: use {NAME_RULE}, or leave it empty"
        ));
    }
    if s.len() > 63 {
        return Err(format!(
            "{s:?} is too long for a label value ({} characters): use {NAME_RULE}, or leave it empty",
            s.len()
        ));
    }
    Ok(())
}

/// Checks an environment variable name, C identifier style: `[A-Za-z_][A-Za-z0-9_]*`.
///
/// Kubernetes also accepts '-' and '.', but shells and most runtimes cannot read such
/// variables, so kgen only emits portable names.
pub fn check_env_var_name(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid environment variable name: {ENV_RULE}"
        ))
    }
}

/// Help for a name [`check_env_var_name`] refuses that Kubernetes accepts
/// (`IsEnvVarName`: letters, digits, '_', '-' and '.', not starting with a digit), such
/// as a Java system property's `spring.profiles.active`.
pub fn env_var_name_help(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    let kubernetes = !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    kubernetes.then_some(concat!(
        "use letters, digits and '_', not starting with a digit, like DATABASE_URL: ",
        "kgen writes only names a shell and every runtime can read; Kubernetes also accepts '-' and '.' ",
        "(a program that reads such a name, like a Spring property, may want one): set it with a patch of the workload (docs/escape-hatch.md#patches)"
    ))
}

/// The message of [`check_env_var_name`]'s error without its advice, for a diagnostic
/// whose help is [`env_var_name_help`].
pub fn env_var_name_problem(s: &str) -> String {
    format!("{s:?} is not a valid environment variable name")
}

/// Checks a ConfigMap or Secret data key: `[-._a-zA-Z0-9]+`, at most 253 characters,
/// not `.` or `..` and not starting with `..`.
pub fn check_config_map_key(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if !ok {
        return Err(format!(
            "{s:?} is not a valid ConfigMap key: {CONFIG_MAP_KEY_RULE}"
        ));
    }
    if s == "." || s.starts_with("..") {
        return Err(format!(
            "{s:?} is not a valid ConfigMap key: a key must not be '.' or '..' or start with '..', because Kubernetes uses those names inside mounted volumes, so pick another name"
        ));
    }
    if s.len() > 253 {
        return Err(format!(
            "{s:?} is too long for a ConfigMap key ({} characters): {CONFIG_MAP_KEY_RULE}",
            s.len()
        ));
    }
    Ok(())
}

/// Checks a container or service port name (IANA_SVC_NAME).
pub fn check_port_name(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b.iter().any(|c| c.is_ascii_lowercase())
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !s.contains("--");
    if !ok {
        return Err(format!("{s:?} is not a valid port name: {PORT_RULE}"));
    }
    if s.len() > 15 {
        return Err(format!(
            "{s:?} is too long for a port name ({} characters): {PORT_RULE}",
            s.len()
        ));
    }
    Ok(())
}

/// Checks the path of an HTTP probe: it starts with '/' and has no whitespace or
/// control characters.
pub fn check_http_path(s: &str) -> Result<(), String> {
    check_path(
        s,
        "probe path",
        "the probe always connects to the container's own port",
    )
}

/// Checks the path of a metrics endpoint, as [`check_http_path`] a probe's.
pub fn check_metrics_path(s: &str) -> Result<(), String> {
    check_path(s, "metrics path", "Prometheus scrapes the pods' own port")
}

/// Checks the path of an Ingress rule, as [`check_http_path`] a probe's.
pub fn check_ingress_path(s: &str) -> Result<(), String> {
    check_path(s, "ingress path", "the host is `ingress.host`")?;
    check_prefix_path(s)
}

/// What the API server refuses in the path of an Ingress path of type `Prefix` or
/// `Exact` (kubernetes `pkg/apis/networking/validation`: `validateHTTPIngressPath`,
/// `invalidPathSequences` and `invalidPathSuffixes`).
pub fn check_prefix_path(s: &str) -> Result<(), String> {
    for seq in ["//", "/./", "/../", "%2f", "%2F"] {
        if s.contains(seq) {
            return Err(format!(
                "{s:?} is not a valid ingress path: the API server refuses '{seq}' in a Prefix or Exact path"
            ));
        }
    }
    for suffix in ["/..", "/."] {
        if s.ends_with(suffix) {
            return Err(format!(
                "{s:?} is not a valid ingress path: the API server refuses a Prefix or Exact path ending in '{suffix}'"
            ));
        }
    }
    Ok(())
}

/// `s` is a URL path (`what`, e.g. "probe path"): it starts with '/' and has no
/// whitespace or control characters; `why` says why a whole URL is not one.
fn check_path(s: &str, what: &str, why: &str) -> Result<(), String> {
    if s.starts_with("http://") || s.starts_with("https://") {
        return Err(format!(
            "{s:?} is not a valid {what}: give only the path, like /healthz, because {why}"
        ));
    }
    if !s.starts_with('/') {
        return Err(format!(
            "{s:?} is not a valid {what}: start it with '/', like /healthz"
        ));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{s:?} is not a valid {what}: remove the whitespace and control characters, or percent-encode them (a space is %20)"
        ));
    }
    Ok(())
}

/// The valid DNS-1123 label nearest to `s`, to suggest when `s` is not one: letters
/// lowered, any other character that a label cannot hold turned into `-` (one `-` for
/// a run of them), leading and trailing `-` dropped, cut to 63 characters:
/// `Main_API` → `main-api`, `-api-` → `api`, `api.v2` → `api-v2`. `None` when `s` is
/// valid, or holds no letter or digit to make a label of.
pub fn nearest_dns1123_label(s: &str) -> Option<String> {
    if check_dns1123_label(s).is_ok() {
        return None;
    }
    let label = label_part(s, 63);
    (!label.is_empty()).then_some(label)
}

/// The valid port name nearest to `s`, like [`nearest_dns1123_label`] cut to 15
/// characters: `Redis_Main` → `redis-main`. `None` when `s` is valid, or when what is
/// left is not a port name (no letter).
pub fn nearest_port_name(s: &str) -> Option<String> {
    if check_port_name(s).is_ok() {
        return None;
    }
    let name = label_part(s, 15);
    check_port_name(&name).is_ok().then_some(name)
}

/// The valid DNS-1123 subdomain nearest to `s`, like [`nearest_dns1123_label`] for
/// each dot-separated part (empty parts dropped), cut to 253 characters:
/// `Example..COM` → `example.com`, `my_issuer` → `my-issuer`.
pub fn nearest_dns1123_subdomain(s: &str) -> Option<String> {
    if check_dns1123_subdomain(s).is_ok() {
        return None;
    }
    let mut out = String::new();
    for part in s.split('.') {
        let room = 253usize.saturating_sub(out.len() + usize::from(!out.is_empty()));
        let part = label_part(part, room);
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&part);
    }
    (!out.is_empty()).then_some(out)
}

/// `s` as a DNS-1123 label of at most `max` characters (possibly empty).
fn label_part(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(max);
    out.trim_end_matches('-').to_string()
}

/// The valid environment variable name nearest to `s`: any character other than a
/// letter, digit or `_` turned into `_`, and `_` put before a leading digit:
/// `MY-VAR` → `MY_VAR`, `1X` → `_1X`. `None` when `s` is valid or empty.
pub fn nearest_env_var_name(s: &str) -> Option<String> {
    if s.is_empty() || check_env_var_name(s).is_ok() {
        return None;
    }
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    Some(out)
}

/// The valid ConfigMap key nearest to `s`: any character other than a letter, digit,
/// `-`, `_` or `.` turned into `_`, leading dots dropped when `s` starts with `..`,
/// cut to 253 characters: `conf/app.yaml` → `conf_app.yaml`, `db password` →
/// `db_password`. `None` when `s` is valid, or nothing valid is left (`.`).
pub fn nearest_config_map_key(s: &str) -> Option<String> {
    if check_config_map_key(s).is_ok() {
        return None;
    }
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with("..") {
        out = out.trim_start_matches('.').to_string();
    }
    out.truncate(253);
    (check_config_map_key(&out).is_ok()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequences and suffixes `validateHTTPIngressPath` refuses in a Prefix or
    /// Exact path (k8s21 review, A1); what it admits stays admitted.
    #[test]
    fn an_ingress_path_has_no_sequence_the_api_server_refuses() {
        for bad in [
            "/a//b", "/a/./b", "/a/../b", "/a%2fb", "/a%2Fb", "/a/.", "/a/..",
        ] {
            assert!(check_ingress_path(bad).is_err(), "{bad}");
        }
        for good in [
            "/",
            "/api",
            "/api/",
            "/a.b/c",
            "/.well-known/x",
            "/a..b",
            "/a%20b",
        ] {
            assert_eq!(check_ingress_path(good), Ok(()), "{good}");
        }
        assert_eq!(
            check_ingress_path("/a//b").unwrap_err(),
            "\"/a//b\" is not a valid ingress path: the API server refuses '//' in a Prefix or Exact path"
        );
    }

    /// `appProtocol` is a qualified name (`validateServicePort`; k8s21 review, A2).
    #[test]
    fn an_app_protocol_is_a_qualified_name() {
        for good in [
            "http",
            "grpc",
            "kubernetes.io/h2c",
            "kubernetes.io/ws",
            "example.com/my_proto",
        ] {
            assert_eq!(check_app_protocol(good), Ok(()), "{good}");
        }
        assert_eq!(
            check_app_protocol("my proto").unwrap_err(),
            "\"my proto\" is not a valid appProtocol: it must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        );
        assert!(check_app_protocol("a/b/c").is_err());
    }

    /// `is_subdomain_shape` agrees with its definition, label by label, on every
    /// string of up to 6 characters over an alphabet with each kind of byte.
    #[test]
    fn subdomain_shape_is_dot_separated_labels() {
        let oracle = |s: &str| s.split('.').all(is_label_shape);
        let alphabet = ['a', '0', '-', '.', 'A', '_', '/', 'é'];
        let mut strings = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = strings
                .iter()
                .filter(|s| s.chars().count() == strings.last().unwrap().chars().count())
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
        }
        assert!(strings.len() > 200_000);
        for s in &strings {
            assert_eq!(is_subdomain_shape(s), oracle(s), "{s:?}");
        }
    }

    /// The previous `is_subdomain_shape`, the oracle of the one-pass version.
    fn is_subdomain_shape_oracle(s: &str) -> bool {
        s.split('.').all(is_label_shape)
    }

    /// The previous `check_label_key`, the oracle of the faster version.
    fn check_label_key_oracle(s: &str) -> Result<(), String> {
        let (prefix, name) = match s.split_once('/') {
            Some((prefix, name)) => (Some(prefix), name),
            None => (None, s),
        };
        if name.contains('/') {
            return Err(format!(
                "{s:?} is not a valid label key: use at most one '/', between an optional DNS subdomain prefix and the name, like app.kubernetes.io/name"
            ));
        }
        if let Some(prefix) = prefix {
            if prefix.is_empty() {
                return Err(format!(
                    "{s:?} is not a valid label key: remove the leading '/' or put a DNS subdomain prefix before it, like example.com/{name}"
                ));
            }
            if !is_subdomain_shape_oracle(prefix) || prefix.len() > 253 {
                return Err(format!(
                    "{s:?} is not a valid label key: the prefix {prefix:?} must be a DNS-1123 subdomain of at most 253 lowercase letters, digits, '-' and '.', like example.com"
                ));
            }
        }
        let part = if prefix.is_some() {
            "the name after the '/'"
        } else {
            "the key"
        };
        if !is_name_shape(name) {
            return Err(format!(
                "{s:?} is not a valid label key: {part} must be {NAME_RULE}"
            ));
        }
        if name.len() > 63 {
            return Err(format!(
                "{s:?} is not a valid label key: {part} is {} characters long, but it must be {NAME_RULE}",
                name.len()
            ));
        }
        Ok(())
    }

    #[test]
    fn known_prefixes_are_valid() {
        for p in KNOWN_PREFIXES {
            assert!(is_subdomain_shape_oracle(p) && p.len() <= 253, "{p}");
        }
    }

    /// The one-pass subdomain shape and the label key check answer as their previous
    /// versions did, error text included, on every corpus string and every short
    /// string over the characters that matter.
    #[test]
    fn label_checks_match_their_oracles() {
        let mut inputs = crate::test_corpus::strings();
        inputs.extend(crate::test_corpus::all_strings(
            &["a", "Z", "0", "-", ".", "/", "_", "é"],
            5,
        ));
        for s in &inputs {
            assert_eq!(is_subdomain_shape(s), is_subdomain_shape_oracle(s), "{s:?}");
            assert_eq!(check_label_key(s), check_label_key_oracle(s), "{s:?}");
            assert_eq!(
                check_dns1123_subdomain(s).is_ok(),
                is_subdomain_shape_oracle(s) && s.len() <= 253,
                "{s:?}"
            );
        }
    }

    fn err(r: Result<(), String>) -> String {
        r.expect_err("expected an error")
    }

    #[test]
    fn dns1123_label() {
        for ok in ["a", "main-api", "0", "a1-b2", &"a".repeat(63)] {
            assert_eq!(check_dns1123_label(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            err(check_dns1123_label("Main_API")),
            r#""Main_API" is not a valid DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"#
        );
        for bad in ["", "-a", "a-", "a.b", "a b", "ä", "a\n"] {
            assert!(check_dns1123_label(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            err(check_dns1123_label(&"a".repeat(64))),
            format!(
                "\"{}\" is too long for a DNS-1123 label (64 characters): use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
                "a".repeat(64)
            )
        );
        assert_eq!(
            err(check_dns1123_label("a\tb")),
            r#""a\tb" is not a valid DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"#
        );
    }

    #[test]
    fn dns1123_subdomain() {
        for ok in [
            "a",
            "example.com",
            "a-b.c-d.e",
            "kgen.dev",
            &"a".repeat(100),
        ] {
            assert_eq!(check_dns1123_subdomain(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            err(check_dns1123_subdomain("Example.com")),
            r#""Example.com" is not a valid DNS-1123 subdomain: use at most 253 lowercase letters, digits, '-' and '.', in dot-separated parts that each start and end with a letter or digit"#
        );
        for bad in ["", ".a", "a.", "a..b", "a.-b", "a_b.c"] {
            assert!(check_dns1123_subdomain(bad).is_err(), "{bad:?}");
        }
        let long = vec!["abcdefghij"; 24].join("."); // 263 characters
        assert!(err(check_dns1123_subdomain(&long))
            .contains("is too long for a DNS-1123 subdomain (263 characters)"));
    }

    #[test]
    fn label_key() {
        for ok in [
            "app",
            "app.kubernetes.io/name",
            "kgen.dev/service",
            "A_b.c-D",
            "example.com/Name_1",
        ] {
            assert_eq!(check_label_key(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            err(check_label_key("Example.com/app")),
            r#""Example.com/app" is not a valid label key: the prefix "Example.com" must be a DNS-1123 subdomain of at most 253 lowercase letters, digits, '-' and '.', like example.com"#
        );
        assert_eq!(
            err(check_label_key("example.com/-app")),
            r#""example.com/-app" is not a valid label key: the name after the '/' must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"#
        );
        assert_eq!(
            err(check_label_key("my key")),
            r#""my key" is not a valid label key: the key must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"#
        );
        assert_eq!(
            err(check_label_key("a/b/c")),
            r#""a/b/c" is not a valid label key: use at most one '/', between an optional DNS subdomain prefix and the name, like app.kubernetes.io/name"#
        );
        assert_eq!(
            err(check_label_key("/app")),
            r#""/app" is not a valid label key: remove the leading '/' or put a DNS subdomain prefix before it, like example.com/app"#
        );
        assert!(err(check_label_key(&format!("x/{}", "n".repeat(64))))
            .contains("the name after the '/' is 64 characters long"));
        assert!(check_label_key("").is_err());
        assert!(check_label_key("example.com/").is_err());
    }

    #[test]
    fn label_value() {
        for ok in ["", "v1.2.3", "main-api", "A_1", &"x".repeat(63)] {
            assert_eq!(check_label_value(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            err(check_label_value("1.2.3+build")),
            r#""1.2.3+build" is not a valid label value: use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or leave it empty"#
        );
        assert_eq!(
            err(check_label_value(&"x".repeat(64))),
            format!("\"{}\" is too long for a label value (64 characters): use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or leave it empty", "x".repeat(64))
        );
        for bad in ["-a", "a.", "a/b", " "] {
            assert!(check_label_value(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_var_name() {
        for ok in ["A", "_", "DATABASE_URL", "a1", "_X_9"] {
            assert_eq!(check_env_var_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            err(check_env_var_name("MY-VAR")),
            r#""MY-VAR" is not a valid environment variable name: use letters, digits and '_', not starting with a digit, like DATABASE_URL"#
        );
        for bad in ["", "1A", "A.B", "A B", "É", "A=B"] {
            assert!(check_env_var_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn config_map_key() {
        for ok in [
            "app.properties",
            ".env",
            "a-b_c.D",
            "x..y",
            &"k".repeat(253),
        ] {
            assert_eq!(check_config_map_key(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            err(check_config_map_key("conf/app.yaml")),
            r#""conf/app.yaml" is not a valid ConfigMap key: use at most 253 letters, digits, '-', '_' and '.', like app.properties"#
        );
        assert_eq!(
            err(check_config_map_key("..data")),
            r#""..data" is not a valid ConfigMap key: a key must not be '.' or '..' or start with '..', because Kubernetes uses those names inside mounted volumes, so pick another name"#
        );
        for bad in ["", ".", "..", "a b", "ü"] {
            assert!(check_config_map_key(bad).is_err(), "{bad:?}");
        }
        assert!(err(check_config_map_key(&"k".repeat(254)))
            .contains("is too long for a ConfigMap key (254 characters)"));
    }

    #[test]
    fn port_name() {
        for ok in [
            "http",
            "grpc-web",
            "h2c",
            "metrics9090",
            "a-b-c",
            "abcdefghijklmno",
        ] {
            assert_eq!(check_port_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            err(check_port_name("HTTP")),
            r#""HTTP" is not a valid port name: use at most 15 lowercase letters, digits and '-', with at least one letter and no leading, trailing or doubled '-', like http or grpc-web"#
        );
        assert_eq!(
            err(check_port_name("abcdefghijklmnop")),
            r#""abcdefghijklmnop" is too long for a port name (16 characters): use at most 15 lowercase letters, digits and '-', with at least one letter and no leading, trailing or doubled '-', like http or grpc-web"#
        );
        for bad in ["", "8080", "-http", "http-", "grpc--web", "my_port", "a.b"] {
            assert!(check_port_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn http_path() {
        for ok in ["/", "/healthz", "/ready?full=1", "/a/b%20c", "/ü"] {
            assert_eq!(check_http_path(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            err(check_http_path("healthz")),
            r#""healthz" is not a valid probe path: start it with '/', like /healthz"#
        );
        assert_eq!(
            err(check_http_path("/health check")),
            r#""/health check" is not a valid probe path: remove the whitespace and control characters, or percent-encode them (a space is %20)"#
        );
        assert_eq!(
            err(check_http_path("http://localhost:8080/healthz")),
            r#""http://localhost:8080/healthz" is not a valid probe path: give only the path, like /healthz, because the probe always connects to the container's own port"#
        );
        for bad in ["", "/a\u{7f}", "/a\tb", "/a\u{a0}b", "/a\nb"] {
            assert!(check_http_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nearest_valid_names() {
        let label = |s: &str| nearest_dns1123_label(s);
        assert_eq!(label("Main-API").as_deref(), Some("main-api"));
        assert_eq!(label("Main_API").as_deref(), Some("main-api"));
        assert_eq!(label("my_service").as_deref(), Some("my-service"));
        assert_eq!(label("-api-").as_deref(), Some("api"));
        assert_eq!(label("api.v2").as_deref(), Some("api-v2"));
        assert_eq!(label("api (v2)").as_deref(), Some("api-v2"));
        assert_eq!(label("A--b").as_deref(), Some("a-b"));
        assert_eq!(label("café").as_deref(), Some("caf"));
        let long = format!("{}-{}", "a".repeat(62), "b".repeat(10));
        assert_eq!(
            label(&long),
            Some("a".repeat(62)),
            "cut at 63, no trailing '-'"
        );
        assert_eq!(label(&"x".repeat(70)), Some("x".repeat(63)));
        for none in ["main-api", "0", "", "-", "__", "日本"] {
            assert_eq!(label(none), None, "{none:?}");
        }
        for s in ["Main-API", "-api-", "api.v2", &long, "a\tb", "ÄÖ-x"] {
            let n = label(s).unwrap();
            assert_eq!(check_dns1123_label(&n), Ok(()), "{s:?} -> {n:?}");
        }

        let sub = |s: &str| nearest_dns1123_subdomain(s);
        assert_eq!(sub("Example..COM").as_deref(), Some("example.com"));
        assert_eq!(sub("my_issuer").as_deref(), Some("my-issuer"));
        assert_eq!(sub(".a.-b-.").as_deref(), Some("a.b"));
        assert_eq!(sub("letsencrypt-prod"), None);
        assert_eq!(sub("..."), None);
        let long = vec!["Abcdefghij"; 30].join(".");
        let n = sub(&long).unwrap();
        assert!(n.len() <= 253 && check_dns1123_subdomain(&n).is_ok(), "{n}");

        let env = |s: &str| nearest_env_var_name(s);
        assert_eq!(env("MY-VAR").as_deref(), Some("MY_VAR"));
        assert_eq!(env("1X").as_deref(), Some("_1X"));
        assert_eq!(env("db.password").as_deref(), Some("db_password"));
        assert_eq!(env("DATABASE_URL"), None);
        assert_eq!(env(""), None);

        let key = |s: &str| nearest_config_map_key(s);
        assert_eq!(key("conf/app.yaml").as_deref(), Some("conf_app.yaml"));
        assert_eq!(key("db password").as_deref(), Some("db_password"));
        assert_eq!(key("..data").as_deref(), Some("data"));
        assert_eq!(key(&"k".repeat(300)), Some("k".repeat(253)));
        for none in ["app.properties", ".", "..", ""] {
            assert_eq!(key(none), None, "{none:?}");
        }
    }
}
