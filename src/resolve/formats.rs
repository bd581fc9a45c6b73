//! The shapes of single values resolution checks: identifiers (template variable
//! names), IAM role ARNs, durations, chart versions and semantic versions.

pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn is_iam_role_arn(s: &str) -> bool {
    // arn:<partition>:iam::<account>:role/<path/name>
    let mut parts = s.splitn(6, ':');
    parts.next() == Some("arn")
        && parts.next().is_some_and(|p| p.starts_with("aws"))
        && parts.next() == Some("iam")
        && parts.next() == Some("")
        && parts
            .next()
            .is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_some_and(|r| {
            r.strip_prefix("role/").is_some_and(|n| {
                !n.is_empty()
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
            })
        })
}

/// Prometheus duration: one or more `<number><unit>` with units y w d h m s ms.
pub fn is_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "y", "w", "d", "h", "m", "s"]
            .iter()
            .find(|u| rest.starts_with(**u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// An exact Helm chart version: a semantic version, optionally with a leading `v`
/// (cert-manager's charts are `v1.16.2`).
pub fn is_chart_version(s: &str) -> bool {
    is_semver(s.strip_prefix('v').unwrap_or(s))
}

/// Exact semantic version `MAJOR.MINOR.PATCH` with optional pre-release/build.
pub fn is_semver(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-+".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_versions() {
        assert!(is_duration("15d"));
        assert!(is_duration("1m30s"));
        assert!(!is_duration("15 days"));
        assert!(!is_duration(""));
        assert!(is_semver("77.0.0"));
        assert!(is_semver("1.2.3-rc.1"));
        assert!(!is_semver("^77.0"));
        assert!(!is_semver("77.0"));
    }

    #[test]
    fn role_arns() {
        assert!(is_iam_role_arn(
            "arn:aws:iam::123456789012:role/dev-aux-service"
        ));
        assert!(!is_iam_role_arn("arn:aws:iam::1234:role/x"));
        assert!(!is_iam_role_arn("aux-service-role"));
    }
}
