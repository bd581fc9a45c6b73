//! The catalogue of diagnostic codes. Each code is stable and documented in
//! `docs/rules.md`; tests assert on codes, so never renumber one.

/// One entry of the catalogue.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
}

macro_rules! rules {
    ($($konst:ident = $code:literal, $name:literal, $summary:literal;)*) => {
        $(pub const $konst: &str = $code;)*
        /// Every rule, in code order.
        pub const ALL: &[Rule] = &[$(Rule { code: $code, name: $name, summary: $summary },)*];
    };
}

rules! {
    TOML_SYNTAX = "KG001", "toml-syntax", "the file is not valid TOML";
    UNKNOWN_KEY = "KG002", "unknown-key", "a key that kgen does not know (often a typo)";
    WRONG_TYPE = "KG003", "wrong-type", "a value of the wrong type or an unknown choice";
    MISSING_KEY = "KG004", "missing-key", "a required key is missing";
    INVALID_NAME = "KG005", "invalid-name", "a name that is not a DNS-1123 label or subdomain";
    INVALID_QUANTITY = "KG006", "invalid-quantity", "a CPU, memory or storage size that is not a Kubernetes quantity";
    OUT_OF_RANGE = "KG007", "out-of-range", "a number outside its allowed range (ports, replicas, percentages)";
    INVALID_IMAGE = "KG008", "invalid-image", "a malformed image repository, tag or digest";
    AUTOSCALING_BOUNDS = "KG009", "autoscaling-bounds", "autoscaling min greater than max, or no target";
    SECRET_LITERAL = "KG010", "secret-literal", "a value that looks like a secret, written in plain text";
    UNKNOWN_SERVICE = "KG011", "unknown-service", "an overlay or reference names a service that does not exist";
    UNKNOWN_ENVIRONMENT = "KG012", "unknown-environment", "an overlay file or option names an environment that does not exist";
    TEMPLATE = "KG013", "template", "a template that does not render (undefined variable, syntax, runaway)";
    NO_IMAGE_VERSION = "KG014", "no-image-version", "an image with neither tag nor digest, or tagged `latest`";
    DUPLICATE = "KG015", "duplicate", "two things that must be unique share a name";
    INVALID_PATH = "KG016", "invalid-path", "an HTTP path that does not start with `/`";
    INVALID_KEY = "KG017", "invalid-key", "an environment variable or ConfigMap key with invalid characters";
    RESERVED = "KG018", "reserved", "a name kgen reserves for itself";
    INVALID_VALUE = "KG019", "invalid-value", "a value that kgen cannot use (URL, duration, version)";
    REQUESTS_EXCEED_LIMITS = "KG020", "requests-exceed-limits", "a resource request larger than its limit";
    UNKNOWN_PROJECT = "KG021", "unknown-project", "an environment names an Argo CD project that `[argocd] projects` does not list";
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_is_documented() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md"))
            .expect("docs/rules.md");
        for r in super::ALL {
            assert!(
                docs.contains(&format!("### {}\n**{}.**", r.code, r.name)),
                "docs/rules.md lacks a section for {} ({})",
                r.code,
                r.name
            );
        }
    }

    #[test]
    fn codes_are_unique_and_ordered() {
        let codes: Vec<&str> = super::ALL.iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }
}
