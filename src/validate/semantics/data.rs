//! Data: ConfigMap and Secret keys and sizes, and the AWS provider's `objects`
//! parameter of a SecretProviderClass (parsed as the provider parses it).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Checker, MAX_DATA_BYTES};
use crate::spec::SecretsBackend;
use crate::validate::{map_at, str_at, FieldPath, Finding};
use crate::{names, rules};

impl Checker<'_, '_> {
    pub(super) fn data(&mut self, kind: &str, sections: &[&str]) {
        let mut size = 0usize;
        let mut keys: BTreeMap<&str, &str> = BTreeMap::new();
        for section in sections {
            let Some(map) = map_at(self.s.value, section) else {
                continue;
            };
            for (k, v) in map {
                let fp = || FieldPath::root().key(section).key(k);
                if let Err(e) = names::check_config_map_key(k) {
                    self.push(
                        Finding::error(rules::DATA_KEYS, &fp(), e).key(format!("config.{k}")),
                    );
                }
                let len = v.as_str().map_or(0, |s| {
                    if *section == "binaryData" || (kind == "Secret" && *section == "data") {
                        s.len() / 4 * 3
                    } else {
                        s.len()
                    }
                });
                size += k.len() + len;
                if let Some(other) = keys.insert(k, section) {
                    if kind == "ConfigMap" {
                        self.push(Finding::error(
                            rules::DATA_KEYS,
                            &fp(),
                            format!("key `{k}` is in both {other} and {section}"),
                        ));
                    }
                }
            }
        }
        if size > MAX_DATA_BYTES {
            self.push(
                Finding::error(
                    rules::DATA_KEYS,
                    &FieldPath::root().key(sections[0]),
                    format!("the {kind} holds about {size} bytes; the API server refuses more than {MAX_DATA_BYTES} (1 MiB)"),
                )
                .help("keep large files out of ConfigMaps: bake them into the image or fetch them at start-up"),
            );
        } else {
            self.client_side_apply_size(kind, sections);
        }
    }

    /// KG110: data too large for the annotation client-side apply writes, without a
    /// sync option that applies the object otherwise.
    fn client_side_apply_size(&mut self, kind: &str, sections: &[&str]) {
        use crate::render::config_map::{too_large_for_client_side_apply, SYNC_OPTIONS_ANNOTATION};
        let entries = || {
            sections
                .iter()
                .filter_map(|section| map_at(self.s.value, section))
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
        };
        let Some(size) = too_large_for_client_side_apply(entries()) else {
            return;
        };
        let options = self
            .s
            .value
            .get("metadata")
            .and_then(|m| map_at(m, "annotations"))
            .and_then(|a| a.get(SYNC_OPTIONS_ANNOTATION))
            .and_then(Value::as_str)
            .unwrap_or("");
        if options
            .split(',')
            .any(|o| matches!(o.trim(), "ServerSideApply=true" | "Replace=true"))
        {
            return;
        }
        self.push(
            Finding::error(
                rules::DATA_KEYS,
                &FieldPath::root().key(sections[0]),
                format!("the {kind}'s data takes about {size} bytes as JSON: Argo CD applies it client-side, which copies the object into its last-applied-configuration annotation, and the API server refuses more than 262144 bytes of annotations"),
            )
            .help(format!("apply it server-side: annotate it `{SYNC_OPTIONS_ANNOTATION}: ServerSideApply=true` (kgen does so for a service's `config` and `files`), or keep large files out of it")),
        );
    }

    // -- SecretProviderClass (AWS provider) ----------------------------------

    pub(super) fn secret_provider_class(&mut self, path: &FieldPath, spec: Option<&Value>) {
        let Some(spec) = spec else {
            return;
        };
        if str_at(spec, "provider") != Some("aws") {
            return;
        }
        let pp = path.key("parameters");
        let Some(text) = spec.get("parameters").and_then(|p| str_at(p, "objects")) else {
            self.push(
                Finding::error(
                    rules::SECRET_PROVIDER,
                    &pp,
                    "the aws provider needs an `objects` parameter listing what to mount",
                )
                .key("secrets"),
            );
            return;
        };
        let op = pp.key("objects");
        let err = |m: String| Finding::error(rules::SECRET_PROVIDER, &op, m).key("secrets");
        // kgen's own fixed form without a YAML parser; anything else with one.
        let fast = crate::render::secret_provider_class::read_objects(text);
        let list: Value = match fast.map_or_else(|| serde_norway::from_str(text), Ok) {
            Ok(v) => v,
            Err(e) => {
                self.push(err(format!(
                    "the `objects` parameter is not valid YAML: {e}"
                )));
                return;
            }
        };
        let Some(list) = list.as_array() else {
            self.push(err(
                "the `objects` parameter must be a YAML list of objects to mount".into(),
            ));
            return;
        };
        // As the AWS provider checks them (provider/secret_descriptor.go).
        let mut names_seen: Vec<(String, String, String)> = Vec::new();
        let mut aliases: BTreeSet<String> = BTreeSet::new();
        let mut files: BTreeSet<String> = BTreeSet::new();
        for (i, o) in list.iter().enumerate() {
            let n = i + 1;
            let Some(o) = o.as_object() else {
                self.push(err(format!("object {n} of `objects` is not a mapping")));
                continue;
            };
            let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let name = s("objectName");
            if name.is_empty() {
                self.push(err(format!("object {n} of `objects` has no objectName")));
                continue;
            }
            let type_ = s("objectType");
            if type_.is_empty() {
                if !name.starts_with("arn:") {
                    self.push(err(format!("object `{name}` has no objectType (secretsmanager or ssmparameter); it is required unless objectName is an ARN")));
                }
            } else if type_ != "secretsmanager" && type_ != "ssmparameter" {
                self.push(err(format!(
                    "object `{name}` has objectType {type_:?}; use secretsmanager or ssmparameter"
                )));
            }
            let alias = s("objectAlias");
            let label = s("objectVersionLabel");
            let file = if alias.is_empty() {
                name.trim_start_matches('/').replace('/', "_")
            } else {
                alias.clone()
            };
            if file.split('/').any(|p| p == "..") {
                self.push(err(format!("object `{name}` would be written outside the mount: its file name contains '..'")));
            }
            if let Some((_, a, l)) = names_seen.iter().find(|(nm, _, _)| *nm == name) {
                let clash = (alias.is_empty() && a.is_empty() && label == *l)
                    || (!alias.is_empty() && alias == *a && label == *l);
                if clash {
                    self.push(err(format!(
                        "objectName `{name}` is listed twice without a distinct objectAlias"
                    )));
                }
            }
            // The provider reads the failover region's object too
            // (provider/secret_descriptor.go, `GetSecretName`).
            self.secret_key(&op, &name, "objectName");
            if let Some(failover) = o
                .get("failoverObject")
                .and_then(|f| f.get("objectName"))
                .and_then(Value::as_str)
            {
                self.secret_key(&op, failover, "objectName");
            }
            names_seen.push((name.clone(), alias.clone(), label));
            if !alias.is_empty() && !aliases.insert(alias.clone()) {
                self.push(err(format!("objectAlias `{alias}` is used twice: two objects would be written to the same file")));
            }
            files.insert(file);
            for (j, e) in o
                .get("jmesPath")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .enumerate()
            {
                let path = e.get("path").and_then(Value::as_str).unwrap_or("");
                let a = e.get("objectAlias").and_then(Value::as_str).unwrap_or("");
                if path.is_empty() || a.is_empty() {
                    self.push(err(format!(
                        "jmesPath entry {} of object `{name}` needs both `path` and `objectAlias`",
                        j + 1
                    )));
                    continue;
                }
                if !aliases.insert(a.to_string()) {
                    self.push(err(format!("objectAlias `{a}` is used twice: two objects would be written to the same file")));
                }
                files.insert(a.to_string());
            }
        }
        // Every secret the service declares must end up as a file of kgen's own
        // SecretProviderClass: the one it renders for the service under the csi
        // backend, `<service>-secrets` (a hand-written one of that name is a duplicate
        // of it, KG114). Any other one, hand-written next to the service, mounts what
        // it lists for whoever uses it, and is checked for itself only (above).
        let own = self.s.service.filter(|svc| {
            self.s.name() == crate::render::secret_provider_class::name(svc)
                && self
                    .s
                    .env
                    .is_none_or(|e| e.secrets_backend == SecretsBackend::Csi)
        });
        if let Some(svc) = own {
            for secret in &svc.secrets {
                if !files.contains(&secret.name) {
                    self.push(
                        err(format!(
                            "secret `{}` of service `{}` is not mounted: no object of the SecretProviderClass is written to the file `{}`",
                            secret.name, svc.name, secret.name
                        ))
                        .help("two secrets with the same `from` and `key` and no `json_key` are the same file; list the secret once, or use `json_key` to mount different parts"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    #[test]
    fn secret_provider_class_objects() {
        let spc = |objects: &str| {
            json!({"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
            "metadata": {"name": "s"}, "spec": {"provider": "aws", "parameters": {"objects": objects}}})
        };
        assert_eq!(
            findings(&spc("- objectName: a\n  objectType: ssmparameter\n")),
            vec![]
        );
        let msgs = |o: &str| {
            findings(&spc(o))
                .into_iter()
                .map(|f| f.2)
                .collect::<Vec<_>>()
        };
        assert!(
            msgs("- objectName: [")[0].starts_with("the `objects` parameter is not valid YAML: ")
        );
        assert_eq!(
            msgs("a: b"),
            vec!["the `objects` parameter must be a YAML list of objects to mount"]
        );
        assert_eq!(
            msgs("- objectName: a\n  objectType: ssm\n- objectName: b\n  objectType: ssmparameter\n  objectAlias: x\n  jmesPath: [{path: p, objectAlias: x}]\n- objectName: a\n  objectType: secretsmanager\n"),
            vec![
                "object `a` has objectType \"ssm\"; use secretsmanager or ssmparameter",
                "objectAlias `x` is used twice: two objects would be written to the same file",
                "objectName `a` is listed twice without a distinct objectAlias",
            ]
        );
    }
}
