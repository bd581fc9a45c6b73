//! The SecretProviderClass (secrets-store.csi.x-k8s.io/v1, provider `aws`) that
//! tells the Secrets Store CSI driver which Secrets Manager secrets and SSM
//! parameters to mount. Secrets that share a key become one object with several
//! `jmesPath` entries (the AWS provider refuses duplicate objects). With EKS Pod
//! Identity the provider is told so (`usePodIdentity: "true"`); it uses IRSA otherwise.

use std::fmt::Write as _;

use super::{labels, meta, wave, with_wave};
use crate::crd::secret_provider_class::{SecretProviderClass, SecretProviderClassSpec};
use crate::spec::{EnvSpec, PlatformSpec, Secret, SecretSource, ServiceSpec, WorkloadIdentity};

pub fn name(svc: &ServiceSpec) -> String {
    format!("{}-secrets", svc.name)
}

pub fn build(platform: &PlatformSpec, env: &EnvSpec, svc: &ServiceSpec) -> SecretProviderClass {
    // The CRD is an add-on's (or installed outside the platform).
    let metadata = super::skipping_dry_run(with_wave(
        meta(
            &name(svc),
            Some(&svc.namespace),
            labels::service(platform, svc),
        ),
        wave::SUPPORT,
    ));
    SecretProviderClass::new(
        metadata,
        SecretProviderClassSpec::aws(
            objects(svc),
            platform.aws_region.as_deref(),
            env.workload_identity == WorkloadIdentity::PodIdentity,
        ),
    )
}

/// The provider's `objects` parameter: a YAML list, written by hand in a fixed form.
pub fn objects(svc: &ServiceSpec) -> String {
    objects_of(&svc.secrets)
}

fn objects_of(secrets: &[Secret]) -> String {
    // Group by (type, key), keeping the first-listed order of groups.
    let mut groups: Vec<((SecretSource, &str), Vec<&Secret>)> = Vec::new();
    for s in secrets {
        let k = (s.from, s.key.as_str());
        match groups.iter_mut().find(|(gk, _)| *gk == k) {
            Some((_, v)) => v.push(s),
            None => groups.push((k, vec![s])),
        }
    }
    let mut out = String::new();
    for ((from, key), secrets) in groups {
        let object_type = match from {
            SecretSource::Secretsmanager => "secretsmanager",
            SecretSource::Ssm => "ssmparameter",
        };
        let _ = writeln!(out, "- objectName: {}", quote(key));
        let _ = writeln!(out, "  objectType: {}", quote(object_type));
        let whole: Vec<_> = secrets.iter().filter(|s| s.json_key.is_none()).collect();
        let parts: Vec<_> = secrets.iter().filter(|s| s.json_key.is_some()).collect();
        if let Some(first) = whole.first() {
            let _ = writeln!(out, "  objectAlias: {}", quote(&first.name));
        }
        if !parts.is_empty() {
            let _ = writeln!(out, "  jmesPath:");
            for p in parts {
                let _ = writeln!(
                    out,
                    "  - path: {}\n    objectAlias: {}",
                    quote(p.json_key.as_deref().unwrap_or_default()),
                    quote(&p.name)
                );
            }
        }
    }
    out
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// The `objects` parameter read back, when `text` is in the fixed form [`objects`]
/// writes: a YAML list of mappings whose values are double-quoted strings in JSON
/// syntax, and whose `jmesPath` is a list of such mappings. `None` for any other
/// text, which the caller reads with a YAML parser instead: this is what that parser
/// makes of the fixed form (the test below holds them together), at a fraction of
/// its cost (a YAML parser is about 70,000 instructions an object; issue 20).
///
/// Only printable ASCII without `\u` escapes is read this way: YAML refuses some
/// characters JSON takes as they are (C1 controls, for one) and some escapes JSON
/// reads (a surrogate pair), so anything else goes to the parser.
pub fn read_objects(text: &str) -> Option<serde_json::Value> {
    use serde_json::{Map, Value};
    if !text
        .bytes()
        .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
        || text.contains("\\u")
    {
        return None;
    }
    // `key: "value"` → the key and the string; a key of letters only.
    fn entry(line: &str) -> Option<(&str, String)> {
        let (key, value) = line.split_once(": ")?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        if !value.starts_with('"') {
            return None;
        }
        Some((key, serde_json::from_str::<String>(value).ok()?))
    }
    // Inserts a key once: a key twice is the parser's to refuse.
    fn insert(map: &mut Map<String, Value>, (key, value): (&str, String)) -> Option<()> {
        map.insert(key.to_string(), Value::String(value))
            .is_none()
            .then_some(())
    }
    let mut list: Vec<Value> = Vec::new();
    let mut object: Option<Map<String, Value>> = None;
    // The object's `jmesPath` entries, while they are being read.
    let mut paths: Option<Vec<Value>> = None;
    let finish = |object: &mut Option<Map<String, Value>>,
                  paths: &mut Option<Vec<Value>>,
                  list: &mut Vec<Value>|
     -> Option<()> {
        if let Some(mut o) = object.take() {
            if let Some(p) = paths.take() {
                if p.is_empty() || o.insert("jmesPath".into(), Value::Array(p)).is_some() {
                    return None;
                }
            }
            list.push(Value::Object(o));
        }
        Some(())
    };
    let mut lines = text.split('\n');
    // The text ends with a newline: the last piece is empty.
    if lines.next_back() != Some("") {
        return None;
    }
    for line in lines {
        if let Some(rest) = line.strip_prefix("- ") {
            finish(&mut object, &mut paths, &mut list)?;
            let mut o = Map::new();
            insert(&mut o, entry(rest)?)?;
            object = Some(o);
        } else if let Some(rest) = line.strip_prefix("  - ") {
            let mut p = Map::new();
            insert(&mut p, entry(rest)?)?;
            paths.as_mut()?.push(Value::Object(p));
        } else if let Some(rest) = line.strip_prefix("    ") {
            let last = paths.as_mut()?.last_mut()?.as_object_mut()?;
            insert(last, entry(rest)?)?;
        } else if line == "  jmesPath:" {
            if object.is_none() || paths.is_some() {
                return None;
            }
            paths = Some(Vec::new());
        } else if let Some(rest) = line.strip_prefix("  ") {
            // A key after `jmesPath` ends its list; the form has none.
            if paths.is_some() {
                return None;
            }
            insert(object.as_mut()?, entry(rest)?)?;
        } else {
            return None;
        }
    }
    finish(&mut object, &mut paths, &mut list)?;
    (!list.is_empty()).then_some(Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the YAML parser makes of `text` (the reference).
    fn parsed(text: &str) -> serde_json::Value {
        serde_norway::from_str(text).expect("valid YAML")
    }

    #[test]
    fn the_fixed_form_reads_as_the_yaml_parser_reads_it() {
        let texts = [
            "- objectName: \"dev/api/db\"\n  objectType: \"secretsmanager\"\n  jmesPath:\n  - path: \"password\"\n    objectAlias: \"db-password\"\n  - path: \"user\"\n    objectAlias: \"db-user\"\n- objectName: \"/dev/api/endpoint\"\n  objectType: \"ssmparameter\"\n  objectAlias: \"api-endpoint\"\n",
            "- objectName: \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x\"\n  objectType: \"secretsmanager\"\n  objectAlias: \"x\"\n",
            // Escapes JSON writes and YAML reads alike.
            "- objectName: \"a\\\"b\\\\c\\/d\\t\\b\\f\\r\\n\"\n  objectType: \"ssmparameter\"\n  objectAlias: \"#: {}[]&*!|>'%@`\"\n",
            "- objectName: \"only\"\n",
        ];
        for text in texts {
            assert_eq!(read_objects(text), Some(parsed(text)), "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_yaml_parser() {
        for text in [
            "",
            "[]\n",
            "- objectName: dev/api/db\n",
            "- objectName: \"a\"\n  objectName: \"b\"\n",
            "- objectName: \"a\"\n  jmesPath:\n",
            "- objectName: \"a\"\n  jmesPath:\n  - path: \"p\"\n  objectType: \"ssmparameter\"\n",
            "- objectName: \"a\"\n  jmesPath:\n  - path: \"p\"\n  jmesPath:\n  - path: \"q\"\n",
            "- objectName: \"a\"",
            "- objectName: \"a\" # note\n",
            "- objectName: \"caf\u{e9}\"\n",
            "- objectName: \"a\u{85}\"\n",
            "- objectName: \"\\u0041\"\n",
            "- objectName: \"\\ud83d\\ude00\"\n",
            "  objectType: \"ssmparameter\"\n",
            "    objectAlias: \"x\"\n",
            "- objectName: \"a\"\n   objectType: \"ssmparameter\"\n",
            "- object-name: \"a\"\n",
            "- objectName: \"a\"\n\n",
        ] {
            assert_eq!(read_objects(text), None, "{text:?}");
        }
    }

    #[test]
    fn what_objects_writes_is_read_the_fast_way() {
        let secret = |name: &str, from, key: &str, json_key: Option<&str>| Secret {
            name: name.into(),
            from,
            key: key.into(),
            json_key: json_key.map(str::to_string),
        };
        let text = objects_of(&[
            secret(
                "db-password",
                SecretSource::Secretsmanager,
                "dev/api/db",
                Some("pass\"word"),
            ),
            secret(
                "db-user",
                SecretSource::Secretsmanager,
                "dev/api/db",
                Some("user"),
            ),
            secret("db", SecretSource::Secretsmanager, "dev/api/db", None),
            secret("endpoint", SecretSource::Ssm, "/dev/api/endpoint", None),
        ]);
        assert!(text.contains("jmesPath"), "{text}");
        assert_eq!(read_objects(&text), Some(parsed(&text)), "{text}");
    }
}
