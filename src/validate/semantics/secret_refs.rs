//! The secrets an object reads, against its environment's `secret_prefixes` (KG022):
//! every key of an ExternalSecret and every `objectName` of a SecretProviderClass
//! (called from `data`, which parses its `objects`).
//!
//! platform.toml's `secrets` are checked when they are read (`resolve`); this checks
//! the final objects, so that a patch rewriting `remoteRef.key` or a hand-written
//! ExternalSecret in `manifests/<env>/<service>/` cannot read another environment's
//! secrets. The judgement is `resolve::outside_prefixes`, the one both use. Objects
//! of no environment (a cluster's components, `kgen validate PATH`) have no prefixes.

use serde_json::Value;

use super::Checker;
use crate::resolve::{outside_prefixes, prefix_list};
use crate::rules;
use crate::validate::{arr_at, str_at, FieldPath, Finding};

impl Checker<'_, '_> {
    /// The keys an ExternalSecret (external-secrets.io) reads: `spec.data[].remoteRef.key`,
    /// `spec.dataFrom[].extract.key`, and `spec.dataFrom[].find.path`. A `find` without
    /// a `path` lists every secret of the store its name or tags match, whatever its
    /// path (external-secrets, pkg/provider/aws/secretsmanager/secretsmanager.go:
    /// `findByName` and `findByTags` filter `ListSecrets` by name only when `Path` is
    /// set), so under `secret_prefixes` it needs one.
    pub(super) fn external_secret_keys(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        let Some(env) = self.s.env.filter(|e| !e.secret_prefixes.is_empty()) else {
            return;
        };
        let data = path.key("data");
        for (i, d) in arr_at(spec, "data").iter().enumerate() {
            if let Some(key) = d.get("remoteRef").and_then(|r| str_at(r, "key")) {
                let at = data.index(i).key("remoteRef").key("key");
                self.secret_key(&at, key, "remoteRef.key");
            }
        }
        let data_from = path.key("dataFrom");
        for (i, d) in arr_at(spec, "dataFrom").iter().enumerate() {
            if let Some(key) = d.get("extract").and_then(|r| str_at(r, "key")) {
                let at = data_from.index(i).key("extract").key("key");
                self.secret_key(&at, key, "extract.key");
            }
            let Some(find) = d.get("find") else {
                continue;
            };
            let at = data_from.index(i).key("find");
            match str_at(find, "path") {
                Some(p) => self.secret_key(&at.key("path"), p, "find.path"),
                None => self.push(
                    Finding::error(
                        rules::SECRET_PREFIX,
                        &at,
                        format!(
                            "`find` without a `path` reads the secrets its name or tags match under any path, outside the secret paths of environment `{}`",
                            env.name
                        ),
                    )
                    .label(format!("{} may only read {}", env.name, prefix_list(env)))
                    .help(format!(
                        "add `path` with a prefix of this environment's secrets (`secret_prefixes` of [environments.{}])",
                        env.name
                    ))
                    .key("secrets"),
                ),
            }
        }
    }

    /// One secret `key` the object reads, at `at` (`what` names it in the help: the
    /// field of an ExternalSecret, or `objectName`).
    pub(super) fn secret_key(&mut self, at: &FieldPath, key: &str, what: &str) {
        let Some(env) = self.s.env else {
            return;
        };
        let Some(outside) = outside_prefixes(env, key) else {
            return;
        };
        let mut f = Finding::error(rules::SECRET_PREFIX, at, outside.message)
            .label(outside.label)
            .help(format!(
                "point `{what}` at a secret of this environment; the allowed prefixes are `secret_prefixes` of [environments.{}]",
                env.name
            ))
            .key("secrets");
        if what == "objectName" {
            f = f.pointing_at(key);
        }
        self.push(f);
    }
}
