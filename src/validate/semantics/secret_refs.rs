//! The secrets an object reads or writes, against its environment's
//! `secret_prefixes` (KG022): every key of an ExternalSecret, every `objectName` of a
//! SecretProviderClass (called from `data`, which parses its `objects`), and every
//! `remoteKey` a PushSecret writes.
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

    /// The secrets a PushSecret (external-secrets.io) writes into the store:
    /// `spec.data[].match.remoteRef.remoteKey` (external-secrets,
    /// apis/externalsecrets/v1alpha1/pushsecret_types.go: `PushSecretData.Match`,
    /// `PushSecretRemoteRef.RemoteKey`). Writing another environment's secret is as
    /// much out of bounds as reading it: the same prefixes hold.
    pub(super) fn push_secret_keys(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        if self.s.env.is_none_or(|e| e.secret_prefixes.is_empty()) {
            return;
        }
        let data = path.key("data");
        for (i, d) in arr_at(spec, "data").iter().enumerate() {
            let remote = d.get("match").and_then(|m| m.get("remoteRef"));
            if let Some(key) = remote.and_then(|r| str_at(r, "remoteKey")) {
                let at = data.index(i).key("match").key("remoteRef").key("remoteKey");
                self.secret_key_written(&at, key);
            }
        }
    }

    /// One secret `key` the object reads, at `at` (`what` names it in the help: the
    /// field of an ExternalSecret, or `objectName`).
    pub(super) fn secret_key(&mut self, at: &FieldPath, key: &str, what: &str) {
        self.secret_key_as(at, key, what, "read");
    }

    /// One secret `key` a PushSecret writes, at `at`.
    fn secret_key_written(&mut self, at: &FieldPath, key: &str) {
        self.secret_key_as(at, key, "remoteRef.remoteKey", "write");
    }

    fn secret_key_as(&mut self, at: &FieldPath, key: &str, what: &str, verb: &str) {
        let Some(env) = self.s.env else {
            return;
        };
        let Some(outside) = outside_prefixes(env, key) else {
            return;
        };
        let label = format!("{} may only {verb} {}", env.name, prefix_list(env));
        let mut f = Finding::error(rules::SECRET_PREFIX, at, outside.message)
            .label(label)
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
