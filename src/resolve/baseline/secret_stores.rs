//! External Secrets Operator ClusterSecretStores of the baseline: AWS Secrets Manager
//! or SSM Parameter Store, and the namespaces (names or `*` patterns) they serve.

use minijinja::Value;

use crate::input::SecretStoreLayer;
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spec::SecretStoreSpec;
use crate::{names, rules};
/// A `*` pattern as the anchored regular expression ESO's `namespaceRegexes` wants.
fn glob_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c if c.is_ascii_alphanumeric() || c == '-' => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out.push('$');
    out
}

impl<'a> Resolver<'a> {
    pub(super) fn secret_store(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, SecretStoreLayer>,
        ctx: &Value,
    ) -> Option<SecretStoreSpec> {
        self.object_name("ClusterSecretStore", name, &header);
        let Some(provider) = l.pick(|l| l.provider.as_ref()) else {
            self.error(
                rules::MISSING_KEY,
                header,
                format!("ClusterSecretStore `{name}` has no `provider`"),
            )
            .help("add `provider = \"secrets-manager\"` (AWS Secrets Manager) or `provider = \"parameter-store\"` (SSM Parameter Store)");
            return None;
        };
        let region = self.region(
            l.pick(|l| l.region.as_ref()),
            ctx,
            &format!("ClusterSecretStore `{name}`"),
            &header,
        )?;
        let role = self.role_arn(l.pick(|l| l.role.as_ref()), ctx);
        let mut namespaces = Vec::new();
        let mut namespace_regexes = Vec::new();
        let mut namespace_patterns = Vec::new();
        let namespaces_origin = l.pick(|l| l.namespaces.as_ref()).map(|n| n.origin);
        if let Some(list) = l.pick(|l| l.namespaces.as_ref()) {
            for ns in list.value {
                let origin = Origin::new(list.origin.file, ns.span.clone());
                let pattern = ns.value.contains(['*', '?']);
                let plain = ns.value.replace(['*', '?'], "a");
                if let Err(e) = names::check_dns1123_label(&plain) {
                    self.error(rules::INVALID_NAME, origin, format!("namespaces: {e}"))
                        .help("write namespace names, or patterns with `*`, like `dev-*`");
                    continue;
                }
                if pattern {
                    namespace_regexes.push(glob_regex(&ns.value));
                } else {
                    namespaces.push(ns.value.clone());
                }
                namespace_patterns.push(ns.value.clone());
            }
        }
        Some(SecretStoreSpec {
            name: name.to_string(),
            provider: *provider.value,
            region,
            role,
            namespaces,
            namespace_regexes,
            namespace_patterns,
            origin: header,
            namespaces_origin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_patterns_as_regexes() {
        assert_eq!(glob_regex("dev-*"), "^dev-.*$");
        assert_eq!(glob_regex("team?"), "^team.$");
    }
}
