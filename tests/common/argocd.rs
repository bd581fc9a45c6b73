//! A stand-in for the parts of Argo CD between an Application and kgen's plugin
//! commands, written from Argo CD's source (github.com/argoproj/argo-cd, master of
//! August 2026; the file and function each step follows are named where it is done):
//!
//! - [`plugin_env`]: the environment `argocd-cmp-server` gives `kgen cmp generate`,
//!   `discover` and `parameters` for an Application;
//! - [`expand_application_set`]: the Applications the ApplicationSet controller makes
//!   from the ApplicationSets kgen writes.
//!
//! It models what kgen's Applications use and refuses (panics on) what it does not
//! model, rather than guessing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// The namespace Argo CD runs in (`argocd`, the install manifests' namespace).
pub const CONTROL_PLANE_NAMESPACE: &str = "argocd";

/// The commit the repo-server resolves `targetRevision` to.
pub const REVISION: &str = "4f1c9d0e2b7a6c5d8e9f0a1b2c3d4e5f6a7b8c9d";

/// The destination cluster, as the application controller's cluster cache sees it.
pub struct Cluster {
    /// The API server's `gitVersion` (what `kubectl version` prints).
    pub git_version: &'static str,
    /// Its API resources: (group/version, kind).
    pub resources: &'static [(&'static str, &'static str)],
}

/// An EKS cluster with the CRDs kgen's objects use.
pub const CLUSTER: Cluster = Cluster {
    git_version: "v1.33.1-eks-7308294",
    resources: &[
        ("v1", "ConfigMap"),
        ("v1", "Namespace"),
        ("v1", "Secret"),
        ("v1", "Service"),
        ("v1", "ServiceAccount"),
        ("apps/v1", "Deployment"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "Ingress"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("argoproj.io/v1alpha1", "AppProject"),
        ("argoproj.io/v1alpha1", "Application"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass"),
    ],
};

/// The environment of the sidecar container itself. The plugin server starts each
/// command with its own environment followed by the request's variables
/// (cmpserver/plugin/plugin.go, `generateManifest`, `matchRepository`,
/// `getParametersAnnouncement`: `append(os.Environ(), environ(envEntries)...)`; for a
/// name given twice, Go's os/exec uses the last value). Here: what
/// deploy/argocd-cmp/repo-server-patch.yaml sets, and what Kubernetes adds to every
/// container. `PATH` is the test process's.
pub const SIDECAR_ENV: &[(&str, &str)] = &[
    ("HOSTNAME", "argocd-repo-server-7d9f8c6b5-x2x9q"),
    ("MIMALLOC_ALLOW_THP", "0"),
    ("KUBERNETES_SERVICE_HOST", "172.20.0.1"),
    ("KUBERNETES_SERVICE_PORT", "443"),
];

/// Which repo-server request runs the plugin command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// Manifest generation (every reconciliation): `discover`, then `generate`.
    /// reposerver/repository/repository.go, `GenerateManifests` →
    /// `runConfigManagementPluginSidecars` → `getPluginEnvs`.
    Manifests,
    /// Application details (the UI's Parameters tab): `discover`, then
    /// `parameters`. reposerver/repository/repository.go, `populatePluginAppDetails`.
    AppDetails,
}

/// A string field of an Application, or Go's zero value `""` when it is absent.
fn field<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut v = v;
    for k in path {
        v = &v[*k];
    }
    match v {
        Value::Null => "",
        Value::String(s) => s,
        other => panic!("{path:?} is not a string: {other}"),
    }
}

/// The name the controller gives the repo-server for an Application:
/// pkg/apis/application/v1alpha1/types.go, `Application.InstanceName` (the name, or
/// `<namespace>_<name>` outside the control plane's namespace).
pub fn instance_name(app: &Value) -> String {
    let name = field(app, &["metadata", "name"]);
    match field(app, &["metadata", "namespace"]) {
        "" | CONTROL_PLANE_NAMESPACE => name.to_string(),
        ns => format!("{ns}_{name}"),
    }
}

/// The environment `argocd-cmp-server` gives a plugin command for `app` (parsed from
/// YAML), in order, as (name, value) pairs; to run the command, start from
/// [`SIDECAR_ENV`] and add these (a later value for the same name wins).
pub fn plugin_env(app: &Value, call: Call) -> Vec<(String, String)> {
    assert_eq!(field(app, &["kind"]), "Application");
    let spec = &app["spec"];
    assert!(
        spec.get("sources").is_none() && spec.get("sourceHydrator").is_none(),
        "the stand-in models single-source Applications only"
    );
    let source = &spec["source"];
    assert!(source.is_object(), "the Application has no spec.source");
    let name = instance_name(app);
    let repo_url = field(source, &["repoURL"]);
    let path = field(source, &["path"]);
    let target_revision = field(source, &["targetRevision"]);

    // The build environment.
    let build: Vec<String> = match call {
        Call::Manifests => {
            // reposerver/repository/repository.go, `newEnv`: the request's app name,
            // destination namespace (controller/state.go, `GetRepoObjs`: Namespace is
            // spec.destination.namespace), project, the resolved revision and its
            // 7- and 8-character prefixes (`shortenRevision`), and the source's
            // repository URL (the repository record's, which is the source's),
            // path and target revision, as written.
            let newenv = [
                ("ARGOCD_APP_NAME", name.as_str()),
                (
                    "ARGOCD_APP_NAMESPACE",
                    field(spec, &["destination", "namespace"]),
                ),
                ("ARGOCD_APP_PROJECT_NAME", field(spec, &["project"])),
                ("ARGOCD_APP_REVISION", REVISION),
                ("ARGOCD_APP_REVISION_SHORT", &REVISION[..7]),
                ("ARGOCD_APP_REVISION_SHORT_8", &REVISION[..8]),
                ("ARGOCD_APP_SOURCE_REPO_URL", repo_url),
                ("ARGOCD_APP_SOURCE_PATH", path),
                ("ARGOCD_APP_SOURCE_TARGET_REVISION", target_revision),
            ];
            // pkg/apis/application/v1alpha1/types.go, `Env.Environ`: drops only
            // entries with neither a name nor a value (`EnvEntry.IsZero`), so empty
            // values stay.
            let mut env: Vec<String> = newenv
                .iter()
                .filter(|(k, v)| !(k.is_empty() && v.is_empty()))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            // reposerver/repository/repository.go, `getPluginEnvs`.
            env.push(format!("KUBE_VERSION={}", kube_version(&CLUSTER)));
            env.push(format!("KUBE_API_VERSIONS={}", kube_api_versions(&CLUSTER)));
            env
        }
        // reposerver/repository/repository.go, `populatePluginAppDetails`: only these
        // four, no KUBE_*. The name is the Application's as the API server receives it
        // (server/repository/repository.go, `GetAppDetails`: the UI's `appName`;
        // server/application/application.go: `q.GetName()`), without the namespace.
        Call::AppDetails => vec![
            format!("ARGOCD_APP_NAME={}", field(app, &["metadata", "name"])),
            format!("ARGOCD_APP_SOURCE_REPO_URL={repo_url}"),
            format!("ARGOCD_APP_SOURCE_PATH={path}"),
            format!("ARGOCD_APP_SOURCE_TARGET_REVISION={target_revision}"),
        ],
    };

    // reposerver/repository/repository.go, `getPluginParamEnvs`: the build variables,
    // then (when the source has a `plugin`) each plugin.env entry as
    // ARGOCD_ENV_<name>, its value expanded against the build variables
    // (`Env.Envsubst`), then the parameters (`ApplicationSourcePluginParameters.Environ`).
    let vars: BTreeMap<String, String> = build
        .iter()
        .map(|e| {
            let (k, v) = e.split_once('=').expect("name=value");
            (k.to_string(), v.to_string())
        })
        .collect();
    let mut env = build.clone();
    if let Some(plugin) = source.get("plugin").filter(|p| !p.is_null()) {
        for entry in plugin["env"].as_array().into_iter().flatten() {
            let value = envsubst(field(entry, &["value"]), &vars);
            env.push(format!("ARGOCD_ENV_{}={value}", field(entry, &["name"])));
        }
        env.extend(parameters_environ(&plugin["parameters"]));
    }

    // util/cmp/stream.go, `toEnvEntry`: each `name=value` is split at its first `=`
    // (and dropped without one) to travel to the sidecar; cmpserver/plugin/plugin.go,
    // `environ`, drops the entries without a name and keeps empty values.
    env.iter()
        .filter_map(|e| e.split_once('='))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `Env.Envsubst` (pkg/apis/application/v1alpha1/types.go): Go's `os.Expand` with a
/// mapping that gives `$` for `$$` and a build variable's value (or "") for a name.
pub fn envsubst(s: &str, vars: &BTreeMap<String, String>) -> String {
    let lookup = |name: &str| -> String {
        if name == "$" {
            "$".into()
        } else {
            vars.get(name).cloned().unwrap_or_default()
        }
    };
    // os.Expand, byte for byte: `$name`, `${name}`, `$` + a special character
    // (`*#$@!?-0123456789`); invalid `${...` syntax is eaten; a lone `$` stays.
    let special = |c: u8| b"*#$@!?-0123456789".contains(&c);
    let alnum = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[i..j]);
            let rest = &b[j + 1..];
            // (name, bytes consumed after the `$`)
            let (name, w): (&str, usize) = if rest[0] == b'{' {
                if rest.len() > 2 && special(rest[1]) && rest[2] == b'}' {
                    (&s[j + 2..j + 3], 3)
                } else {
                    match rest.iter().skip(1).position(|&c| c == b'}') {
                        Some(0) => ("", 2),
                        Some(n) => (&s[j + 2..j + 2 + n], n + 2),
                        None => ("", 1),
                    }
                }
            } else if special(rest[0]) {
                (&s[j + 1..j + 2], 1)
            } else {
                let n = rest.iter().take_while(|&&c| alnum(c)).count();
                (&s[j + 1..j + 1 + n], n)
            };
            if name.is_empty() && w == 0 {
                out.push('$');
            } else if !name.is_empty() {
                out.push_str(&lookup(name));
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    out.push_str(&s[i.min(s.len())..]);
    out
}

/// `ApplicationSourcePluginParameters.Environ` (pkg/apis/application/v1alpha1/types.go)
/// for `spec.source.plugin.parameters`: `ARGOCD_APP_PARAMETERS=<json.Marshal of the
/// list>`, then for each parameter `PARAM_<NAME>=<string>`, `PARAM_<NAME>_<KEY>=<value>`
/// for each map entry and `PARAM_<NAME>_<INDEX>=<item>` for each array item, names
/// escaped by `escaped`.
pub fn parameters_environ(parameters: &Value) -> Vec<String> {
    // The controller sends the source to the repo-server in protobuf
    // (reposerver/apiclient, `ManifestRequest`), where an empty list is not written
    // (generated.pb.go, `ApplicationSourcePlugin.MarshalToSizedBuffer`: `if
    // len(m.Parameters) > 0`): absent and `[]` both arrive as a nil slice, which
    // json.Marshal writes `null`.
    let list: &[Value] = match parameters {
        Value::Null => &[],
        Value::Array(l) => l,
        other => panic!("plugin.parameters is not a list: {other}"),
    };
    let json = if list.is_empty() {
        "null".to_string()
    } else {
        let items: Vec<String> = list.iter().map(marshal_parameter).collect();
        format!("[{}]", items.join(","))
    };
    let mut env = vec![format!("ARGOCD_APP_PARAMETERS={json}")];
    for p in list {
        let base = format!("PARAM_{}", escaped(field(p, &["name"])));
        if let Some(s) = p.get("string").and_then(Value::as_str) {
            env.push(format!("{base}={s}"));
        }
        if let Some(map) = p.get("map") {
            // Go ranges over the map in random order: the stand-in refuses maps where
            // the order could matter (two keys with the same escaped name).
            let map = map.as_object().cloned().unwrap_or_default();
            let names: BTreeSet<String> = map.keys().map(|k| escaped(k)).collect();
            assert_eq!(
                names.len(),
                map.len(),
                "map keys that escape alike: Argo CD's order is random"
            );
            for (k, v) in &map {
                env.push(format!("{base}_{}={}", escaped(k), v.as_str().unwrap()));
            }
        }
        if let Some(array) = p.get("array") {
            for (i, v) in array.as_array().into_iter().flatten().enumerate() {
                env.push(format!("{base}_{i}={}", v.as_str().unwrap()));
            }
        }
    }
    env
}

/// `escaped` (pkg/apis/application/v1alpha1/types.go): `strings.ToUpper` (one
/// character for one: a character without a one-character upper case stays), then
/// each character outside `[A-Z0-9_]` becomes `_`.
pub fn escaped(name: &str) -> String {
    name.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            let u = match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            };
            if u.is_ascii_uppercase() || u.is_ascii_digit() || u == '_' {
                u
            } else {
                '_'
            }
        })
        .collect()
}

/// One parameter as `ApplicationSourcePluginParameter.MarshalJSON`
/// (pkg/apis/application/v1alpha1/types.go) writes it: a Go map, so its keys sorted
/// (`array`, `map`, `name`, `string`); `name` always; `string` when set (even "");
/// `array` and `map` when present, as `[]` and `{}` when present but empty (the
/// protobuf encoding keeps their presence: generated.pb.go writes the
/// `OptionalArray`/`OptionalMap` field whenever the pointer is set).
fn marshal_parameter(p: &Value) -> String {
    let mut fields = Vec::new();
    if let Some(array) = p.get("array") {
        let items: Vec<String> = array
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| go_string(v.as_str().expect("array items are strings")))
            .collect();
        fields.push(format!("\"array\":[{}]", items.join(",")));
    }
    if let Some(map) = p.get("map") {
        let entries: BTreeMap<&String, &Value> = map.as_object().into_iter().flatten().collect();
        let entries: Vec<String> = entries
            .iter()
            .map(|(k, v)| {
                let v = v.as_str().expect("map values are strings");
                format!("{}:{}", go_string(k), go_string(v))
            })
            .collect();
        fields.push(format!("\"map\":{{{}}}", entries.join(",")));
    }
    fields.push(format!("\"name\":{}", go_string(field(p, &["name"]))));
    if let Some(s) = p.get("string").and_then(Value::as_str) {
        fields.push(format!("\"string\":{}", go_string(s)));
    }
    format!("{{{}}}", fields.join(","))
}

/// A string as Go's `encoding/json` writes it (`appendString` with HTML escaping,
/// json.Marshal's default): `"` and `\` escaped, `\b \f \n \r \t` as such, other
/// control characters and `<`, `>`, `&` as `\u00XX`, U+2028 and U+2029 as `\u2028`
/// and `\u2029`, everything else as is.
pub fn go_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The components of a Kubernetes version as k8s.io/apimachinery's
/// `version.ParseGeneric` reads them: optional leading spaces and `v`, then two or more
/// dot-separated numbers (the first without a leading zero); what follows
/// (`-eks-...`, `+k3s1`) is dropped.
fn parse_generic(version: &str) -> Vec<u64> {
    let s = version.trim_start();
    let s = s.strip_prefix('v').unwrap_or(s);
    let mut numbers = Vec::new();
    let mut rest = s;
    loop {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            break;
        }
        let comp = &rest[..n];
        assert!(
            !(numbers.is_empty() && comp.starts_with('0') && comp != "0"),
            "zero-prefixed version {version}"
        );
        numbers.push(comp.parse().unwrap());
        rest = &rest[n..];
        match rest.strip_prefix('.') {
            Some(r) if r.bytes().next().is_some_and(|c| c.is_ascii_digit()) => rest = r,
            _ => break,
        }
    }
    assert!(numbers.len() >= 2, "illegal version string {version:?}");
    numbers
}

fn join(numbers: &[u64]) -> String {
    numbers
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// `KUBE_VERSION`: the controller's cluster cache keeps `"v" + ParseGeneric(gitVersion)`
/// (gitops-engine/pkg/utils/kube/ctl.go, `GetServerVersion`), and the repo-server
/// writes it parsed again, without the `v` (reposerver/repository/repository.go,
/// `parseKubeVersion`): `v1.33.1-eks-7308294` → `1.33.1`.
pub fn kube_version(cluster: &Cluster) -> String {
    let server_version = format!("v{}", join(&parse_generic(cluster.git_version)));
    join(&parse_generic(&server_version))
}

/// `KUBE_API_VERSIONS`: every `group/version` and `group/version/Kind` of the
/// cluster's API resources (the core group is just `v1`), sorted, without duplicates
/// (util/argo/argo.go, `APIResourcesToStrings` with kinds, called by
/// controller/state.go), joined by `,` (reposerver/repository/repository.go,
/// `getPluginEnvs`).
pub fn kube_api_versions(cluster: &Cluster) -> String {
    let mut all = BTreeSet::new();
    for (group_version, kind) in cluster.resources {
        all.insert(group_version.to_string());
        all.insert(format!("{group_version}/{kind}"));
    }
    all.into_iter().collect::<Vec<_>>().join(",")
}

/// The Applications the ApplicationSet controller makes from `set`, for the
/// ApplicationSets kgen writes: list generators, `goTemplate: true`, templates that
/// use only `{{.key}}`. Stands in for applicationset/generators/list.go,
/// `ListGenerator.GenerateParams` (each element is the parameters as they are, with
/// goTemplate), applicationset/utils/utils.go, `Render.RenderTemplateParams` (every
/// string, and every map key, of the template is run through text/template; with no
/// finalizer in the template and no `preserveResourcesOnDeletion`, the
/// `resources-finalizer.argocd.argoproj.io` finalizer is added) and
/// applicationset/controllers/template/template.go, `GenerateApplications` (the
/// Application goes in the ApplicationSet's namespace). Anything else panics.
pub fn expand_application_set(set: &Value) -> Vec<Value> {
    assert_eq!(set["kind"], "ApplicationSet");
    let spec = &set["spec"];
    assert_eq!(
        spec["goTemplate"], true,
        "the stand-in expands goTemplate ApplicationSets only"
    );
    let missingkey_error = spec["goTemplateOptions"]
        .as_array()
        .is_some_and(|o| o.iter().any(|o| o == "missingkey=error"));
    assert!(
        spec.get("templatePatch").is_none(),
        "templatePatch is not modelled"
    );
    let template = &spec["template"];
    let mut apps = Vec::new();
    for generator in spec["generators"].as_array().expect("generators") {
        let list = generator
            .get("list")
            .unwrap_or_else(|| panic!("only list generators are modelled: {generator}"));
        assert_eq!(
            generator.as_object().unwrap().len(),
            1,
            "generator-level options are not modelled: {generator}"
        );
        assert!(
            list.get("template").is_none() && list.get("elementsYaml").is_none(),
            "list.template and list.elementsYaml are not modelled"
        );
        for element in list["elements"].as_array().expect("elements") {
            let params: BTreeMap<String, String> = element
                .as_object()
                .expect("an element is an object")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("string parameters").into()))
                .collect();
            let t = render(template, &params, missingkey_error);
            let mut metadata = t["metadata"].as_object().cloned().unwrap_or_default();
            metadata.insert("namespace".into(), set["metadata"]["namespace"].clone());
            let preserve = spec["syncPolicy"]["preserveResourcesOnDeletion"] == true;
            let no_finalizers = metadata
                .get("finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
            if no_finalizers && !preserve {
                metadata.insert(
                    "finalizers".into(),
                    Value::from(vec!["resources-finalizer.argocd.argoproj.io"]),
                );
            }
            let mut app = Map::new();
            app.insert("apiVersion".into(), "argoproj.io/v1alpha1".into());
            app.insert("kind".into(), "Application".into());
            app.insert("metadata".into(), Value::Object(metadata));
            app.insert("spec".into(), t["spec"].clone());
            apps.push(Value::Object(app));
        }
    }
    apps
}

/// Runs every string (and map key) of `v` through the template engine, as far as
/// `{{.key}}` goes.
fn render(v: &Value, params: &BTreeMap<String, String>, missingkey_error: bool) -> Value {
    match v {
        Value::String(s) => Value::String(render_str(s, params, missingkey_error)),
        Value::Array(a) => a
            .iter()
            .map(|x| render(x, params, missingkey_error))
            .collect(),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    (
                        render_str(k, params, missingkey_error),
                        render(x, params, missingkey_error),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn render_str(s: &str, params: &BTreeMap<String, String>, missingkey_error: bool) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed action in {s:?}"))
            + start;
        let action = rest[start + 2..end].trim();
        let key = action
            .strip_prefix('.')
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .unwrap_or_else(|| {
                panic!("the stand-in expands only {{{{.key}}}}, not {{{{{action}}}}} in {s:?}")
            });
        match params.get(key) {
            Some(v) => out.push_str(v),
            None if missingkey_error => panic!("map has no entry for key {key:?} ({s:?})"),
            // text/template's default for a missing map key.
            None => out.push_str("<no value>"),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}
