//! The object names charts derive from their release name, as their `_helpers.tpl`
//! compute them, so that a preset's footprint names exactly what the chart creates.

/// Helm's `trunc 63 | trimSuffix "-"`: at most 63 bytes (names are ASCII), then one
/// trailing `-` removed.
pub fn trunc63(s: &str) -> String {
    let cut = &s[..s.len().min(63)];
    cut.strip_suffix('-').unwrap_or(cut).to_string()
}

/// The usual `<chart>.fullname` of `helm create`: the release name when it contains the
/// chart's name, `<release>-<chart>` otherwise, truncated to 63 characters (no
/// `fullnameOverride`, no `nameOverride`).
pub fn fullname(release: &str, chart: &str) -> String {
    if release.contains(chart) {
        trunc63(release)
    } else {
        trunc63(&format!("{release}-{chart}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fullname_follows_helm_create() {
        assert_eq!(fullname("karpenter", "karpenter"), "karpenter");
        assert_eq!(fullname("my-karpenter-1", "karpenter"), "my-karpenter-1");
        assert_eq!(
            fullname("logs", "aws-for-fluent-bit"),
            "logs-aws-for-fluent-bit"
        );
        let long = "a".repeat(53);
        let f = fullname(&long, "secrets-store-csi-driver-provider-aws");
        assert_eq!(f.len(), 63);
        assert!(f.starts_with(&long));
        // A cut that ends on `-` loses it.
        assert_eq!(trunc63(&format!("{}-b", "a".repeat(62))), "a".repeat(62));
    }
}
