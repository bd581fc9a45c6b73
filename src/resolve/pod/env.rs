//! Environment variables whose value is read when the pod starts (`valueFrom`): a field
//! of the pod, a container's request or limit, a key of a ConfigMap or of a Secret.
//! The same forms for the main container (`env`) and for sidecars and init containers
//! (`sidecars.<name>.env`, `init_containers.<name>.env`).
//!
//! The checks follow kubernetes `pkg/apis/core/validation`: `validateEnvVarValueFrom`
//! (exactly one source), `validateObjectFieldSelector` (the downward API paths offered to
//! environment variables), `validateContainerResourceFieldSelector` and
//! `validateContainerResourceDivisor` (the resources and the divisors of each), and a
//! ConfigMap's or Secret's key (`IsConfigMapKey`).

use std::collections::BTreeMap;

use minijinja::Value;

use crate::input::EnvSourceTable;
use crate::quantity::Quantity;
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{ContainerSpec, EnvSource};
use crate::validate::semantics::container_fields::{
    env_field_path_problem, FieldPathProblem, ENV_FIELD_PATHS,
};
use crate::{names, rules};

/// The resources a variable may read (`validEnvResourceFieldPathExpressions`), besides
/// `requests.hugepages-<size>` and `limits.hugepages-<size>`.
const ENV_RESOURCES: &[&str] = &[
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
];

const CPU_DIVISORS: &[&str] = &["1m", "1"];
const MEMORY_DIVISORS: &[&str] = &[
    "1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei",
];

/// The forms of a table under `env`, for help texts.
pub const ENV_TABLE_FORMS: &str = "{ field = \"metadata.name\" }, { resource = \"limits.cpu\" }, { config_map = \"<name>\", key = \"<key>\" } or { secret = \"<name>\", key = \"<key>\" }";

impl Resolver<'_> {
    /// The `container` of every variable read from `resource` names a container of the
    /// pod: the main one (`service`), a sidecar or an init container.
    pub(in crate::resolve) fn env_resource_containers(
        &mut self,
        service: &str,
        env_refs: &BTreeMap<String, EnvSource>,
        sidecars: &[ContainerSpec],
        init_containers: &[ContainerSpec],
        origins: &BTreeMap<String, Origin>,
    ) {
        let known: Vec<&str> = std::iter::once(service)
            .chain(
                sidecars
                    .iter()
                    .chain(init_containers)
                    .map(|c| c.name.as_str()),
            )
            .collect();
        let main = std::iter::once(("env".to_string(), env_refs));
        let others = sidecars
            .iter()
            .map(|c| (format!("sidecars.{}.env", c.name), &c.env_refs))
            .chain(
                init_containers
                    .iter()
                    .map(|c| (format!("init_containers.{}.env", c.name), &c.env_refs)),
            );
        for (field, refs) in main.chain(others) {
            for (var, source) in refs {
                let EnvSource::Resource {
                    container: Some(c), ..
                } = source
                else {
                    continue;
                };
                if known.contains(&c.as_str()) {
                    continue;
                }
                let Some(at) = origins.get(&format!("{field}.{var}")) else {
                    continue;
                };
                let d = self.error(
                    rules::UNKNOWN_REFERENCE,
                    at.clone(),
                    format!("`{field}.{var}` reads the resources of container `{c}`, which the pod does not have"),
                );
                if let Some(h) = crate::diagnostic::did_you_mean(c, known.iter().copied()) {
                    d.label(h);
                }
                d.help(format!("the pod's containers are: {}", known.join(", ")));
            }
        }
    }

    /// The source of the variable `var` of `field` (`env`, `sidecars.<name>.env`), written
    /// as a table at `at`; `None` (with an error) when the table is not one.
    pub(in crate::resolve) fn env_source(
        &mut self,
        field: &str,
        var: &str,
        t: &EnvSourceTable,
        at: &Origin,
        ctx: &Value,
    ) -> Option<EnvSource> {
        let o = |s: &Spanned<String>| Origin::new(at.file, s.span.clone());
        let sources: Vec<(&str, &Spanned<String>)> = [
            ("field", &t.field),
            ("resource", &t.resource),
            ("config_map", &t.config_map),
            ("secret", &t.secret),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        let (kind, value) = match sources.as_slice() {
            [] => {
                let in_platform = at.file == self.pf;
                self.error(
                    rules::MISSING_KEY,
                    at.clone(),
                    format!("`{field}.{var}` says nothing to read: a table under `env` reads the variable's value from one of `field`, `resource`, `config_map` or `secret`"),
                )
                .help(if in_platform {
                    format!("write one of {ENV_TABLE_FORMS}, or a literal value such as `{var} = \"text\"`")
                } else {
                    // An overlay's table is not merged key by key into platform.toml's.
                    format!("an overlay's table for `{var}` replaces platform.toml's whole (tables are not merged key by key): give where it reads from (its `config_map`, or the Secret's name) beside the `key`; the forms are {ENV_TABLE_FORMS}")
                });
                return None;
            }
            [one] => *one,
            [(a, _), (b, second), ..] => {
                self.error(
                    rules::INVALID_VALUE,
                    o(second),
                    format!(
                        "`{field}.{var}` sets both `{a}` and `{b}`; a variable reads one source"
                    ),
                )
                .help("keep one of them; for two values, use two variables");
                return None;
            }
        };
        // Keys that belong to another source.
        let stray: Vec<(&str, Origin)> = [
            ("divisor", t.divisor.as_ref().map(&o), kind != "resource"),
            (
                "container",
                t.container.as_ref().map(&o),
                kind != "resource",
            ),
            (
                "key",
                t.key.as_ref().map(&o),
                kind == "field" || kind == "resource",
            ),
            (
                "optional",
                t.optional
                    .as_ref()
                    .map(|s| Origin::new(at.file, s.span.clone())),
                kind == "field" || kind == "resource",
            ),
        ]
        .into_iter()
        .filter_map(|(k, origin, wrong)| origin.filter(|_| wrong).map(|origin| (k, origin)))
        .collect();
        if let Some((k, origin)) = stray.into_iter().next() {
            self.error(
                rules::UNKNOWN_KEY,
                origin,
                format!("`{k}` does not apply to a variable read from `{kind}` (`{field}.{var}`)"),
            )
            .help("`divisor` and `container` go with `resource`; `key` and `optional` with `config_map` and `secret`");
            return None;
        }
        match kind {
            "field" => self.env_field(field, var, value, &o(value)),
            "resource" => {
                let resource = self.env_resource(field, var, value, &o(value))?;
                let divisor = match &t.divisor {
                    Some(d) => Some(self.env_divisor(&resource, d, &o(d))?),
                    None => None,
                };
                let container = match &t.container {
                    Some(c) => {
                        if let Err(e) = names::check_dns1123_label(&c.value) {
                            self.error(
                                rules::INVALID_NAME,
                                o(c),
                                format!("`{field}.{var}.container`: {e}"),
                            )
                            .help("name a container of the pod: the service's name (the main container), a sidecar or an init container");
                            return None;
                        }
                        Some(c.value.clone())
                    }
                    None => None,
                };
                Some(EnvSource::Resource {
                    resource,
                    divisor,
                    container,
                })
            }
            _ => {
                let Some(key) = &t.key else {
                    self.error(
                        rules::MISSING_KEY,
                        at.clone(),
                        format!(
                            "`{field}.{var}` reads {} `{}` but not which key",
                            if kind == "secret" {
                                "the Secret"
                            } else {
                                "the ConfigMap"
                            },
                            value.value
                        ),
                    )
                    .help(format!(
                        "add `key = \"<key>\"`: {{ {kind} = \"{}\", key = \"<key>\" }}",
                        value.value
                    ));
                    return None;
                };
                let name = self.render_keyed(var, &value.value, &o(value), ctx)?;
                if let Err(e) = names::check_dns1123_subdomain(&name) {
                    let d = self.error(
                        rules::INVALID_NAME,
                        o(value),
                        format!("`{field}.{var}.{kind}`: {e}"),
                    );
                    if let Some(n) = names::nearest_dns1123_subdomain(&name) {
                        d.label(format!("did you mean `{n}`?"));
                    }
                    return None;
                }
                if let Err(e) = names::check_config_map_key(&key.value) {
                    let d = self.error(
                        rules::INVALID_KEY,
                        o(key),
                        format!("`{field}.{var}.key`: {e}"),
                    );
                    if let Some(n) = names::nearest_config_map_key(&key.value) {
                        d.label(format!("did you mean `{n}`?"));
                    }
                    return None;
                }
                let optional = t.optional.as_ref().map(|b| b.value);
                Some(if kind == "secret" {
                    EnvSource::SecretKey {
                        name,
                        key: key.value.clone(),
                        optional,
                    }
                } else {
                    EnvSource::ConfigMapKey {
                        name,
                        key: key.value.clone(),
                        optional,
                    }
                })
            }
        }
    }

    fn env_field(
        &mut self,
        field: &str,
        var: &str,
        value: &Spanned<String>,
        at: &Origin,
    ) -> Option<EnvSource> {
        let fp = value.value.as_str();
        match env_field_path_problem(fp) {
            None => Some(EnvSource::Field(fp.to_string())),
            Some(FieldPathProblem::Key(why)) => {
                self.error(
                    rules::INVALID_VALUE,
                    at.clone(),
                    format!("`{field}.{var}` reads pod field {fp:?}, whose key the API server refuses: {why}"),
                );
                None
            }
            Some(FieldPathProblem::Unknown) => {
                // `metadata.labels.app` for `metadata.labels['app']`.
                let subscript = ["metadata.labels.", "metadata.annotations."]
                    .iter()
                    .find_map(|p| fp.strip_prefix(p).map(|k| (p.trim_end_matches('.'), k)))
                    .filter(|(_, k)| !k.is_empty())
                    .map(|(p, k)| format!("{p}['{k}']"));
                let hint = subscript.or_else(|| {
                    crate::diagnostic::closest(fp, ENV_FIELD_PATHS.iter().copied())
                        .map(str::to_string)
                });
                let d = self.error(
                    rules::INVALID_VALUE,
                    at.clone(),
                    format!("`{field}.{var}` reads pod field {fp:?}, which the downward API does not offer to environment variables"),
                );
                if let Some(h) = hint {
                    d.label(format!("did you mean `{h}`?"));
                }
                d.help("use metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP or status.podIPs");
                None
            }
        }
    }

    fn env_resource(
        &mut self,
        field: &str,
        var: &str,
        value: &Spanned<String>,
        at: &Origin,
    ) -> Option<String> {
        let r = value.value.as_str();
        let hugepages = ["requests.hugepages-", "limits.hugepages-"]
            .iter()
            .any(|p| r.strip_prefix(p).is_some_and(|s| !s.is_empty()));
        if ENV_RESOURCES.contains(&r) || hugepages {
            return Some(r.to_string());
        }
        let d = self.error(
            rules::INVALID_VALUE,
            at.clone(),
            format!("`{field}.{var}` reads resource {r:?}, which a variable cannot read"),
        );
        if let Some(h) = crate::diagnostic::did_you_mean(r, ENV_RESOURCES.iter().copied()) {
            d.label(h);
        }
        d.help("use limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory, requests.ephemeral-storage, or requests.hugepages-<size> or limits.hugepages-<size>");
        None
    }

    fn env_divisor(&mut self, resource: &str, d: &Spanned<String>, at: &Origin) -> Option<String> {
        let cpu = resource.ends_with(".cpu");
        let allowed = if cpu { CPU_DIVISORS } else { MEMORY_DIVISORS };
        let ok = Quantity::parse(&d.value)
            .ok()
            .is_some_and(|q| allowed.iter().any(|a| Quantity::parse(a).ok() == Some(q)));
        if ok {
            return Some(d.value.clone());
        }
        self.error(
            rules::INVALID_VALUE,
            at.clone(),
            format!(
                "divisor {:?} is not one the API server accepts for {resource}",
                d.value
            ),
        )
        .help(format!("write one of: {}", allowed.join(", ")));
        None
    }
}
