//! The shapes of single values resolution checks: identifiers (template variable
//! names), IAM role ARNs, Prometheus and Go durations, chart versions and semantic versions.

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
    unit_runs(
        s,
        |rest| rest.bytes().take_while(u8::is_ascii_digit).count(),
        &["ms", "y", "w", "d", "h", "m", "s"],
    )
}

/// A Go `time.Duration` string: `1h`, `30m`, `1h30m`, `1.5h`, `0s` (units ns us µs ms s m h).
pub fn is_go_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let number = |rest: &str| {
        let n = rest
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map_or(rest.len(), |(i, _)| i);
        let digits = &rest[..n];
        if digits == "." || digits.matches('.').count() > 1 {
            0
        } else {
            n
        }
    };
    unit_runs(s, number, &["ns", "us", "µs", "ms", "s", "m", "h"])
}

/// Whether `s` is one or more runs of a number (its length in bytes given by
/// `number`, 0 for none) followed by one of `units` (tried in order: a longer unit
/// before its prefix).
fn unit_runs(s: &str, number: impl Fn(&str) -> usize, units: &[&str]) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let n = number(rest);
        if n == 0 {
            return false;
        }
        rest = &rest[n..];
        match units.iter().find(|u| rest.starts_with(**u)) {
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

    #[test]
    fn go_durations() {
        for ok in [
            "1h", "30m", "1h30m", "1.5h", "0s", "0", "10m0s", "500ms", "1h0m0s",
        ] {
            assert!(is_go_duration(ok), "{ok}");
        }
        for bad in ["", "1d", "h", "1 h", "1.2.3s", "-1h", "1hour"] {
            assert!(!is_go_duration(bad), "{bad}");
        }
    }
}
