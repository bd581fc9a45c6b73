//! Container fields the API server bounds beyond ports, probes' handlers and
//! quantities: a readiness probe's grace period, the header names of an HTTP probe
//! or hook, the pod field an environment variable reads, and the names of the
//! resources a container requests (with the request-equals-limit rule of extended
//! resources and huge pages).
//!
//! Each follows kubernetes `pkg/apis/core/validation/validation.go`:
//! `validateReadinessProbe` (no `terminationGracePeriodSeconds`),
//! `validateHTTPGetAction` (`IsHTTPHeaderName`: letters, digits and `-`, the Go HTTP
//! library's subset of RFC 7230 token characters),
//! `validateEnvVarValueFrom` with `validateObjectFieldSelector` (the downward API
//! paths an environment variable may read), and `ValidateResourceRequirements` with
//! `validateContainerResourceName` (a name without a domain is a standard resource;
//! a resource the node cannot overcommit, an extended resource or huge pages, has a
//! limit equal to its request).

use serde_json::Value;

use super::Checker;
use crate::names;
use crate::quantity::Quantity;
use crate::rules;
use crate::validate::{
    arr_at, map_at, scalar_text, str_at, ContainerOrigin, ContainerRole, FieldPath, Finding,
};

/// The pod fields an environment variable's `fieldRef` may read without a subscript
/// (kubernetes `pkg/apis/core/validation`: `validEnvDownwardAPIFieldPathExpressions`; the
/// whole `metadata.labels` and `metadata.annotations` are for downward API volumes only,
/// a variable reads one key of them with a subscript).
pub(crate) const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    // Old clients' name of `spec.nodeName` (`ConvertDownwardAPIFieldLabel`, which
    // `validateObjectFieldSelector` applies first).
    "spec.host",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

impl Checker<'_, '_> {
    pub(super) fn container_fields(
        &mut self,
        path: &FieldPath,
        c: &Value,
        o: &ContainerOrigin,
        name: &str,
    ) {
        // A plain init container's probes and hooks are refused whole (container.rs).
        if o.role != ContainerRole::Init {
            if let Some(p) = c.get("readinessProbe") {
                if p.get("terminationGracePeriodSeconds")
                    .is_some_and(|v| !v.is_null())
                {
                    self.push(
                        Finding::error(
                            rules::PROBE,
                            &path.key("readinessProbe").key("terminationGracePeriodSeconds"),
                            format!("the readiness probe of container `{name}` sets terminationGracePeriodSeconds; the API server refuses it on a readiness probe, which never kills the container"),
                        )
                        .keys(o.keys("probes.readiness"))
                        .help("remove it, or set it on the liveness or startup probe"),
                    );
                }
            }
            for (field, key) in [
                ("livenessProbe", "probes.liveness"),
                ("readinessProbe", "probes.readiness"),
                ("startupProbe", "probes.startup"),
            ] {
                if let Some(h) = c.get(field).and_then(|p| p.get("httpGet")) {
                    self.http_headers(|| path.key(field).key("httpGet"), h, || o.keys(key));
                }
            }
            if let Some(l) = c.get("lifecycle") {
                for hook in ["postStart", "preStop"] {
                    if let Some(h) = l.get(hook).and_then(|p| p.get("httpGet")) {
                        let hp = || path.key("lifecycle").key(hook).key("httpGet");
                        self.http_headers(hp, h, Vec::new);
                    }
                }
            }
        }
        for (i, e) in arr_at(c, "env").iter().enumerate() {
            let Some(fp) = e
                .get("valueFrom")
                .and_then(|f| f.get("fieldRef"))
                .and_then(|r| str_at(r, "fieldPath"))
            else {
                continue;
            };
            if let Some(problem) = env_field_path_problem(fp) {
                let var = str_at(e, "name").unwrap_or("");
                let message = match problem {
                    FieldPathProblem::Unknown => format!("environment variable `{var}` reads pod field {fp:?}, which the downward API does not offer; use metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP(s) or status.podIP(s)"),
                    FieldPathProblem::Key(why) => format!("environment variable `{var}` reads pod field {fp:?}, whose key the API server refuses: {why}"),
                };
                self.push(
                    Finding::error(
                        rules::FIELD_VALUE,
                        &path
                            .key("env")
                            .index(i)
                            .key("valueFrom")
                            .key("fieldRef")
                            .key("fieldPath"),
                        message,
                    )
                    .keys(o.keys(&format!("env.{var}"))),
                );
            }
        }
        if let Some(r) = c.get("resources") {
            self.resource_names(|| path.key("resources"), r, o);
        }
    }

    /// The header names of an HTTP probe or hook.
    fn http_headers(
        &mut self,
        hp: impl Fn() -> FieldPath,
        h: &Value,
        keys: impl Fn() -> Vec<String>,
    ) {
        for (j, header) in arr_at(h, "httpHeaders").iter().enumerate() {
            let Some(n) = str_at(header, "name") else {
                continue;
            };
            if !is_http_header_name(n) {
                self.push(
                    Finding::error(
                        rules::PROBE,
                        &hp().key("httpHeaders").index(j).key("name"),
                        format!("{n:?} is not an HTTP header name the API server accepts; use letters, digits and '-', like X-Probe"),
                    )
                    .keys(keys()),
                );
            }
        }
    }

    /// The names of the resources a container requests or limits, and the limit an
    /// extended resource or huge pages need.
    fn resource_names(&mut self, path: impl Fn() -> FieldPath, r: &Value, o: &ContainerOrigin) {
        let requests = map_at(r, "requests");
        let limits = map_at(r, "limits");
        for (section, map) in [("requests", requests), ("limits", limits)] {
            for res in map.into_iter().flatten().map(|(k, _)| k) {
                let Some(message) = resource_name_problem(res) else {
                    continue;
                };
                self.push(
                    Finding::error(
                        rules::RESOURCES,
                        &path().key(section).key(res),
                        format!("{section}.{res} {message}"),
                    )
                    .keys(o.keys(&format!("resources.{section}.{res}"))),
                );
            }
        }
        for (res, req) in requests.into_iter().flatten() {
            if overcommit_allowed(res) {
                continue;
            }
            let at = path().key("limits").key(res);
            let keys = || {
                o.keys_of(&[
                    &format!("resources.requests.{res}"),
                    &format!("resources.limits.{res}"),
                ])
            };
            match limits.and_then(|l| l.get(res)) {
                None => self.push(
                    Finding::error(
                        rules::RESOURCES,
                        &at,
                        format!("{res} is requested without a limit; the node cannot overcommit it, so the API server requires a limit equal to the request"),
                    )
                    .also(&path().key("requests").key(res))
                    .keys(keys())
                    .help(format!("set limits.{res} to the request, or set only the limit (the request defaults to it)")),
                ),
                Some(lim) => {
                    let q = |v: &Value| scalar_text(v).and_then(|t| Quantity::parse(&t).ok());
                    if let (Some(rq), Some(lq)) = (q(req), q(lim)) {
                        // A request above its limit is refused already (container.rs).
                        if rq < lq {
                            self.push(
                                Finding::error(
                                    rules::RESOURCES,
                                    &path().key("requests").key(res),
                                    format!("{res} request {} is not equal to its limit {}; the node cannot overcommit it, so the API server requires them equal", text(req), text(lim)),
                                )
                                .also(&at)
                                .keys(keys()),
                            );
                        }
                    }
                }
            }
        }
    }
}

fn text(v: &Value) -> String {
    scalar_text(v).unwrap_or_else(|| v.to_string())
}

/// What the API server refuses in the name of a resource a container requests or
/// limits (`validateContainerResourceName`): a name without a domain that is not a
/// standard container resource, a name that is not a qualified name
/// (`validateResourceName`), and an extended resource (a domain other than
/// `kubernetes.io`) that `IsExtendedResourceName` refuses: one starting with
/// `requests.`, or one that is not a qualified name behind that prefix.
fn resource_name_problem(res: &str) -> Option<String> {
    const USE: &str = "use cpu, memory, ephemeral-storage or hugepages-<size>, or an extended resource with a domain, like nvidia.com/gpu";
    if !res.contains('/') {
        return (!is_standard_container_resource(res))
            .then(|| format!("is not a standard container resource; {USE}"));
    }
    if let Err(why) = names::check_label_key(res) {
        return Some(format!(
            "is not a resource name the API server accepts: {why}"
        ));
    }
    if res.contains("kubernetes.io/") {
        return None;
    }
    if let Some(rest) = res.strip_prefix("requests.") {
        return Some(format!("is not an extended resource name the API server accepts: the prefix `requests.` is reserved for quotas; name the resource itself, like {rest}"));
    }
    names::check_label_key(&format!("requests.{res}")).err().map(|_| {
        "is not an extended resource name the API server accepts: its domain must leave room for the `requests.` prefix of quotas (at most 244 characters)".to_string()
    })
}

/// A standard resource a container may request (`IsStandardContainerResourceName`).
fn is_standard_container_resource(res: &str) -> bool {
    matches!(res, "cpu" | "memory" | "ephemeral-storage") || res.starts_with("hugepages-")
}

/// Whether the node may overcommit a resource (`IsOvercommitAllowed`): a native
/// resource (no domain, or a `kubernetes.io` one) other than huge pages.
fn overcommit_allowed(res: &str) -> bool {
    let native = !res.contains('/') || res.contains("kubernetes.io/");
    native && !res.starts_with("hugepages-")
}

/// Why the API server refuses an environment variable's downward API field path.
pub(crate) enum FieldPathProblem {
    /// Not a field the downward API offers to environment variables.
    Unknown,
    /// A label or annotation subscript that is not a qualified name.
    Key(String),
}

/// What is wrong with an environment variable's downward API field path, if anything
/// (`validateObjectFieldSelector`: a subscript of `metadata.labels` must be a qualified
/// name, one of `metadata.annotations` a qualified name once lowercased, as
/// kubernetes/pkg/fieldpath `ExtractFieldPathAsString` reads them).
pub(crate) fn env_field_path_problem(fp: &str) -> Option<FieldPathProblem> {
    if ENV_FIELD_PATHS.contains(&fp) {
        return None;
    }
    let subscript = |p: &str| fp.strip_prefix(p).and_then(|k| k.strip_suffix("']"));
    let checked = if let Some(k) = subscript("metadata.labels['") {
        (!k.is_empty()).then(|| names::check_label_key(k))
    } else if let Some(k) = subscript("metadata.annotations['") {
        (!k.is_empty()).then(|| names::check_label_key(&k.to_ascii_lowercase()))
    } else {
        None
    };
    match checked {
        None => Some(FieldPathProblem::Unknown),
        Some(Ok(())) => None,
        Some(Err(why)) => Some(FieldPathProblem::Key(why)),
    }
}

/// An HTTP header name as apimachinery's `IsHTTPHeaderName` accepts it:
/// `[-A-Za-z0-9]+`, the Go HTTP library's subset of RFC 7230's token characters.
fn is_http_header_name(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    const C: &str = "spec.template.spec.containers[0]";

    #[test]
    fn probes_headers_and_hooks() {
        let got = pod_findings(json!({"containers": [{"name": "a", "image": "a:1",
            "readinessProbe": {"httpGet": {"path": "/", "port": 80, "httpHeaders": [{"name": "X-Ok-1", "value": "1"}]},
                "terminationGracePeriodSeconds": 10},
            "livenessProbe": {"httpGet": {"path": "/", "port": 80, "httpHeaders": [{"name": "Host:", "value": "x"}]},
                "terminationGracePeriodSeconds": 10},
            "lifecycle": {"preStop": {"httpGet": {"path": "/", "port": 80, "httpHeaders": [{"name": "X_Drain", "value": "1"}]}}}
        }]}));
        assert_eq!(
            got,
            vec![
                pair(&format!("{C}.readinessProbe.terminationGracePeriodSeconds"), "the readiness probe of container `a` sets terminationGracePeriodSeconds; the API server refuses it on a readiness probe, which never kills the container"),
                pair(&format!("{C}.livenessProbe.httpGet.httpHeaders[0].name"), "\"Host:\" is not an HTTP header name the API server accepts; use letters, digits and '-', like X-Probe"),
                pair(&format!("{C}.lifecycle.preStop.httpGet.httpHeaders[0].name"), "\"X_Drain\" is not an HTTP header name the API server accepts; use letters, digits and '-', like X-Probe"),
            ]
        );
    }

    #[test]
    fn env_field_paths() {
        let got = pod_findings(json!({"containers": [{"name": "a", "image": "a:1", "env": [
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}},
            {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "spec.host"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodename"}}},
            {"name": "LBL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels.app"}}},
            {"name": "ALL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels"}}},
            {"name": "SPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['a b']"}}},
            {"name": "UPPER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['Example.COM/Owner']"}}},
            {"name": "SLASH", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['/owner']"}}}
        ]}]}));
        let m = |var: &str, fp: &str| {
            format!("environment variable `{var}` reads pod field {fp:?}, which the downward API does not offer; use metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP(s) or status.podIP(s)")
        };
        assert_eq!(
            got,
            vec![
                pair(
                    &format!("{C}.env[4].valueFrom.fieldRef.fieldPath"),
                    &m("NODE", "spec.nodename")
                ),
                pair(
                    &format!("{C}.env[5].valueFrom.fieldRef.fieldPath"),
                    &m("LBL", "metadata.labels.app")
                ),
                pair(
                    &format!("{C}.env[6].valueFrom.fieldRef.fieldPath"),
                    &m("ALL", "metadata.labels")
                ),
                pair(
                    &format!("{C}.env[7].valueFrom.fieldRef.fieldPath"),
                    "environment variable `SPACE` reads pod field \"metadata.labels['a b']\", whose key the API server refuses: \"a b\" is not a valid label key: the key must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
                ),
                pair(
                    &format!("{C}.env[9].valueFrom.fieldRef.fieldPath"),
                    "environment variable `SLASH` reads pod field \"metadata.annotations['/owner']\", whose key the API server refuses: \"/owner\" is not a valid label key: remove the leading '/' or put a DNS subdomain prefix before it, like example.com/owner"
                ),
            ]
        );
    }

    #[test]
    fn resource_names_and_extended_resources() {
        let got = pod_findings(
            json!({"containers": [{"name": "a", "image": "a:1", "resources": {
                "requests": {"cpu": "1", "foo": "1", "nvidia.com/gpu": 1, "example.com/fpga": 1, "hugepages-2Mi": "64Mi"},
                "limits": {"cpu": "2", "example.com/fpga": 2, "hugepages-2Mi": "64Mi", "example.com/nic": 1,
                           "requests.example.com/nic": 1, "Example.com/nic": 1, "example.com/a/b": 1, "kubernetes.io/x": 1}
            }}]}),
        );
        let r = format!("{C}.resources");
        assert_eq!(
            got,
            vec![
                pair(&format!("{r}.requests.foo"), "requests.foo is not a standard container resource; use cpu, memory, ephemeral-storage or hugepages-<size>, or an extended resource with a domain, like nvidia.com/gpu"),
                pair(&format!("{r}.limits[\"Example.com/nic\"]"), "limits.Example.com/nic is not a resource name the API server accepts: \"Example.com/nic\" is not a valid label key: the prefix \"Example.com\" must be a DNS-1123 subdomain of at most 253 lowercase letters, digits, '-' and '.', like example.com"),
                pair(&format!("{r}.limits[\"example.com/a/b\"]"), "limits.example.com/a/b is not a resource name the API server accepts: \"example.com/a/b\" is not a valid label key: use at most one '/', between an optional DNS subdomain prefix and the name, like app.kubernetes.io/name"),
                pair(&format!("{r}.limits[\"requests.example.com/nic\"]"), "limits.requests.example.com/nic is not an extended resource name the API server accepts: the prefix `requests.` is reserved for quotas; name the resource itself, like example.com/nic"),
                pair(&format!("{r}.requests[\"example.com/fpga\"]"), "example.com/fpga request 1 is not equal to its limit 2; the node cannot overcommit it, so the API server requires them equal"),
                pair(&format!("{r}.limits[\"nvidia.com/gpu\"]"), "nvidia.com/gpu is requested without a limit; the node cannot overcommit it, so the API server requires a limit equal to the request"),
            ]
        );
    }
}
