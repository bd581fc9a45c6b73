//! Every error of a run at once: mistakes in the input (platform.toml, overlays)
//! hide neither each other nor the escape hatch's own errors (patches, hand-written
//! manifests) where those can be checked without the mistaken values; what must
//! wait is said in the closing line (docs/cli.md#problem-formats).

mod common;

use common::Platform;

const PLATFORM: &str = r###"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[environments.prod]
sync = "manual"

[baseline.priority_classes.high]
value = 100000

[services.api]
image = "acme/api"
tag = "1.0.0"
probes = { liveness = "/health", readiness = "/ready" }
priority_class = "hihg"

[services.api.patches.gomemlimit]
kind = "Deployment"
file = "patches/gomemlimit.yaml"

[services.api.patches.waf]
kind = "Ingres"
merge = { metadata = { annotations = { "acme.com/waf" = "on" } } }
"###;

/// A JSON Patch whose path does not exist (KG044).
const PATCH: &str = r###"- op: add
  path: /spec/template/spec/containers/0/envv/-
  value: { name: GOMEMLIMIT, value: "200MiB" }
"###;

/// A hand-written ConfigMap with a misspelt `data` (KG101).
const MANIFEST: &str = r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: api-extra
dta:
  a: "1"
"###;

/// A reading error in dev's layer of `api` (KG002): `api` in dev waits, prod does not.
const DEV: &str = r###"[services.api]
replica = 3
"###;

/// [`PLATFORM`] without the escape hatch and without its mistake: a clean platform
/// for the tests that add one mistake of their own.
fn clean() -> String {
    PLATFORM
        .split("[services.api.patches")
        .next()
        .unwrap()
        .replace("priority_class = \"hihg\"\n", "")
}

fn platform() -> Platform {
    let p = Platform::new(PLATFORM, &[("dev", DEV)]);
    p.write("patches/gomemlimit.yaml", PATCH);
    p.write("manifests/_all/api/extra.yaml", MANIFEST);
    p
}

/// A reading error (KG002) and a reference error (KG031) hide neither the patch
/// errors (KG043, KG044) nor the hand-written manifest's (KG101) of the services and
/// environments they are not in; the closing line says that the rest waits.
#[test]
fn input_errors_hide_no_patch_or_manifest_error_they_do_not_cause() {
    let p = platform();
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        !p.exists("generated"),
        "nothing may be written on bad input"
    );
    let expected = r###"error[KG031]: PriorityClass `hihg` is not declared in the cluster's baseline
  --> platform.toml:19:18
   |
19 | priority_class = "hihg"
   |                  ^^^^^^ did you mean `high`?
   = help: declared: high, system-cluster-critical, system-node-critical; or declare `hihg` under `[baseline.priority_classes.hihg]`, or list it in `[baseline] provided` if something else creates it

error[KG043]: patch `waf` matches no object: service `api` has no Ingres
  --> platform.toml:26:8
   |
26 | kind = "Ingres"
   |        ^^^^^^^^
   = in: generated/prod/api: kind
   = help: its objects: Namespace, ServiceAccount api, ConfigMap api-config, Deployment api, Service api, PodDisruptionBudget api; patch one of them, or move the patch to the overlays of the environments that have it

error[KG002]: unknown key `replica`
 --> overlays/dev.toml:2:1
  |
2 | replica = 3
  | ^^^^^^^ did you mean `replicas`?
  = help: the keys allowed here are: enabled, image, tag, digest, port, port_name, replicas, namespace, resources, probes, env, config, autoscaling, iam_role, secrets, run_as_user, metrics, ingress, calls, disruption_budget, spread, waivers, kind, command, args, ports, service, sidecars, init_containers, volumes, files, node_selector, tolerations, node_affinity, priority_class, pod_security, termination_grace_period, image_pull_secrets, labels, annotations, pod_labels, pod_annotations, service_account, rollout, schedule, cron, job, hook, statefulset, patches

error[KG101]: dta: unknown field (schema of v1 ConfigMap)
 --> manifests/_all/api/extra.yaml:5:1
  |
5 | dta:
  | ^^^ did you mean `data`?
  = in: generated/prod/api/manifest-configmap-api-extra.yaml: dta
  = help: Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference

error[KG044]: operation 0 of JSON Patch `gomemlimit` does not apply to Deployment `api`: the path `/spec/template/spec/containers/0/envv/-` does not exist in the object
 --> patches/gomemlimit.yaml:2:9
  |
2 |   path: /spec/template/spec/containers/0/envv/-
  |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ did you mean `/spec/template/spec/containers/0/env/-`?
  = in: generated/prod/api/deployment.yaml: (root)
  = help: `add` needs the parent to exist: `/-` appends to a list that must be there (a container without `env` has no `env` list: add it whole, `path: .../env` with a list as `value`); `remove` and `replace` need the path itself. To see the object as kgen renders it, take the patch out and run `kgen render`

error: 5 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"###;
    assert!(
        out.stderr == expected,
        "stderr differs:\n--- expected\n{expected}\n--- actual\n{}",
        out.stderr
    );
}

/// `kgen validate` writes nothing, and says which checks wait all the same.
#[test]
fn validate_says_which_checks_wait() {
    let out = platform().kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr.lines().last(),
        Some("error: 5 errors; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)")
    );
}

/// Runs the Argo CD plugin (`kgen cmp generate`) for `env`'s `service` as the plugin
/// server does, expecting the application to fail: exit 2, nothing on stdout.
/// Returns stderr.
fn plugin_fails(p: &Platform, env: &str, service: &str) -> String {
    let app = format!("{env}-{service}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(["cmp", "generate"])
        .current_dir(p.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs([
            ("ARGOCD_APP_NAME", app.as_str()),
            ("ARGOCD_APP_SOURCE_PATH", "."),
            ("ARGOCD_ENV_KGEN_ENV", env),
            ("ARGOCD_ENV_KGEN_SERVICE", service),
        ])
        .output()
        .expect("run kgen");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout when the application fails"
    );
    stderr
}

/// Runs the Argo CD plugin (`kgen cmp generate`) for `env`'s `service` as the plugin
/// server does (only the environment variables it sets).
fn plugin(p: &Platform, env: &str, service: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(["cmp", "generate"])
        .current_dir(p.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs([
            ("ARGOCD_ENV_KGEN_ENV", env),
            ("ARGOCD_ENV_KGEN_SERVICE", service),
        ])
        .output()
        .expect("run kgen")
}

/// The rule codes of the errors in `stderr`, in order.
fn error_codes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error[")?.split(']').next())
        .collect()
}

/// The Argo CD plugin reports them the same way for the application it renders: the
/// input's errors with the escape hatch's errors of its environment (dev's reading
/// error is not the plugin's: it reads prod's overlay only), nothing on stdout.
#[test]
fn the_plugin_reports_the_escape_hatch_errors_with_the_input_errors() {
    let p = platform();
    let stderr = plugin_fails(&p, "prod", "api");
    let codes = error_codes(&stderr);
    assert_eq!(codes, ["KG031", "KG043", "KG101", "KG044"], "{stderr}");
    assert_eq!(
        stderr.lines().last(),
        Some("error: 4 errors; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)")
    );
}

/// The plugin reads one environment's overlay: with a reading error, the other
/// environments are not resolved without theirs (prod's tag is set in
/// overlays/prod.toml only; resolved without it, prod would seem to have none).
#[test]
fn the_plugin_reports_no_error_of_an_overlay_it_did_not_read() {
    let p = Platform::new(
        r###"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[environments.prod]
sync = "manual"

[services.api]
image = "acme/api"
prot = 8080
"###,
        &[
            ("dev", "[services.api]\ntag = \"1.0.0\"\n"),
            ("prod", "[services.api]\ntag = \"0.9.0\"\n"),
        ],
    );
    let stderr = plugin_fails(&p, "dev", "api");
    let codes = error_codes(&stderr);
    assert_eq!(codes, ["KG002"], "{stderr}");
    // `kgen render`, which reads every overlay, reports the same.
    let render = p.kgen(&["render"]);
    assert_eq!(render.code, 2);
    assert_eq!(
        render
            .stderr
            .lines()
            .filter(|l| l.starts_with("error["))
            .count(),
        1,
        "{}",
        render.stderr
    );
}

/// `--format json` says so too, in `waiting`: the closing line's note, null when
/// nothing waits.
#[test]
fn json_says_which_checks_wait() {
    let out = platform().kgen(&["validate", "--format", "json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(v["outcome"], "invalid");
    assert_eq!(
        v["waiting"],
        "the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)"
    );
    // Errors of the rendered objects of clean input: nothing waits.
    let text = clean().replace("image = \"acme/api\"", "image = \"docker.io/acme/api\"");
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render", "--format", "json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(v["outcome"], "invalid");
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"KG209"), "{v}");
    assert_eq!(v["waiting"], serde_json::Value::Null);
    assert!(v.as_object().unwrap().contains_key("waiting"));
}

/// Without patches or hand-written manifests, the checks of the whole platform and
/// the warnings wait all the same, and the closing line says so rather than count
/// no warnings.
#[test]
fn without_an_escape_hatch_the_checks_of_the_whole_platform_wait() {
    let p = Platform::new(PLATFORM.split("[services.api.patches").next().unwrap(), &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr.lines().last(),
        Some("error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)")
    );
}

/// An error that may change what every service renders (here `[platform] registry`,
/// the images' registry) makes every patch and hand-written manifest wait.
#[test]
fn an_error_outside_the_services_makes_every_patch_wait() {
    let p = Platform::new(
        &PLATFORM.replace(
            "registry = \"registry.example.com\"",
            "registry = \"registry example\"",
        ),
        &[],
    );
    p.write("patches/gomemlimit.yaml", PATCH);
    p.write("manifests/_all/api/extra.yaml", MANIFEST);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let heads: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(
        heads,
        [
            "error[KG008]: `registry example` is not a registry host",
            "error[KG031]: PriorityClass `hihg` is not declared in the cluster's baseline",
            "error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)",
        ],
        "{}",
        out.stderr
    );
}

/// A service with no error is checked in the same run as another's input error: the
/// checks of its own objects one at a time (here the policy's registry, KG209) do not
/// wait for an unrelated mistake (newcomer review 15).
#[test]
fn a_clean_service_s_own_objects_are_checked_with_another_s_input_error() {
    let text = clean()
        + "\n[services.web]\nimage = \"docker.io/acme/web\"\ntag = \"2.0.0\"\nprobes = { liveness = \"/health\", readiness = \"/ready\" }\n";
    let p = Platform::new(&text, &[("dev", "[services.api]\nreplicas = -1\n")]);
    let stderr = p.refused();
    assert_eq!(error_codes(&stderr), ["KG209", "KG007"], "{}", stderr);
    assert!(
        stderr.contains("   = in: generated/{dev,prod}/web/deployment.yaml: spec.template.spec.containers[0].image\n"),
        "{}",
        stderr
    );
    assert!(!p.exists("generated"), "nothing is written");
}

/// An environment on a misspelt cluster is one error (KG023): the variables and
/// baseline objects its implicit cluster lacks follow from it and are not reported.
#[test]
fn a_misspelt_cluster_hides_what_follows_from_it() {
    let text = PLATFORM
        .split("[services.api.patches")
        .next()
        .unwrap()
        .replace("priority_class = \"hihg\"\n", "priority_class = \"high\"\nenv = { ACCOUNT = \"{{ cluster.account }}\" }\n")
        .replace(
            "[environments.prod]\nsync = \"manual\"\n",
            "[environments.prod]\nsync = \"manual\"\ncluster = \"prd\"\n\n[clusters.prod]\nserver = \"https://prod.example.com\"\nvars = { account = \"111111111111\" }\n\n[clusters.dev]\nserver = \"https://kubernetes.default.svc\"\nvars = { account = \"222222222222\" }\n",
        )
        .replace("[environments.dev]\nsync = \"auto\"\n", "[environments.dev]\nsync = \"auto\"\ncluster = \"dev\"\n");
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(error_codes(&out.stderr), ["KG023"], "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean `prod`?"),
        "{}",
        out.stderr
    );
}

/// An overlay that cannot be read (a TOML syntax error) leaves its environment
/// unchecked, not the others: platform.toml's mistakes are reported with it.
#[test]
fn an_unreadable_overlay_hides_only_its_environment() {
    let text = PLATFORM
        .split("[services.api.patches")
        .next()
        .unwrap()
        .replace(
            "priority_class = \"hihg\"\n",
            "port = 8080\nports = { http = 9090 }\n",
        );
    let p = Platform::new(&text, &[("prod", "[services.api\ntag = \"1.0.1\"\n")]);
    let stderr = p.refused();
    assert_eq!(error_codes(&stderr), ["KG005", "KG001"], "{}", stderr);
    assert!(stderr.contains(" --> overlays/prod.toml:1:"), "{}", stderr);
    assert!(!p.exists("generated"), "nothing is written");
}

/// In the Argo CD plugin, a hand-written file of another service that is not YAML
/// fails that service's application, not this one (docs/argocd-cmp.md, newcomer
/// review 15).
#[test]
fn the_plugin_leaves_another_service_s_broken_manifest_to_its_application() {
    let text = clean()
        + "\n[services.web]\nimage = \"acme/web\"\ntag = \"2.0.0\"\nprobes = { liveness = \"/health\", readiness = \"/ready\" }\n";
    let p = Platform::new(&text, &[]);
    p.write(
        "manifests/dev/web/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ncpu = \"2\"\n",
    );
    let run = |service: &str| plugin(&p, "dev", service);
    let api = run("api");
    assert_eq!(
        api.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&api.stderr)
    );
    assert!(String::from_utf8_lossy(&api.stdout).contains("kind: Deployment\n"));
    let web = run("web");
    let stderr = String::from_utf8_lossy(&web.stderr);
    assert_eq!(web.status.code(), Some(2), "{stderr}");
    assert_eq!(error_codes(&stderr), ["KG115"], "{stderr}");
    assert!(
        stderr.contains(" --> manifests/dev/web/broken.yaml:5:"),
        "{stderr}"
    );
}

/// A production autoscaler's minimum of one (KG210) is judged on the autoscaler alone,
/// so it comes with another service's input error; under `--env`, an overlay of
/// another environment that cannot be read says it is that environment's.
#[test]
fn an_autoscaler_minimum_and_another_environment_s_syntax_error_in_one_run() {
    let text = clean()
        .replace("[environments.prod]\nsync = \"manual\"\n", "[environments.prod]\nsync = \"manual\"\nproduction = true\n")
        + "\n[services.web]\nimage = \"acme/web\"\ntag = \"2.0.0\"\nprobes = { liveness = \"/health\", readiness = \"/ready\" }\n";
    let p = Platform::new(
        &text,
        &[
            (
                "prod",
                "[services.api]\nautoscaling = { min = 1, max = 4 }\n",
            ),
            ("dev", "[services.web]\nreplicas = \"two\"\n"),
        ],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        error_codes(&out.stderr),
        ["KG003", "KG210"],
        "{}",
        out.stderr
    );

    p.write("overlays/dev.toml", "[services.web\nreplicas = 2\n");
    let out = p.kgen(&["render", "--env", "prod"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        error_codes(&out.stderr),
        ["KG001", "KG210"],
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("  = note: this is in environment `dev`, which this run does not render;"),
        "{}",
        out.stderr
    );
}

/// seed-002's platform with production's `cluster` misspelt: one KG023, none of what
/// the made-up cluster lacks (its add-ons' settings, the `cluster.<var>` of their
/// templates, the cluster `shared` hosting no environment) (adversarial review 16, #1).
#[test]
fn a_platform_with_a_misspelt_cluster_is_one_error() {
    let dir = common::repo_root().join("examples/seed-002-shared-services");
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap();
    let text = read("platform.toml");
    let (before, after) = text.rsplit_once("cluster = \"shared\"\n").unwrap();
    let p = Platform::new(
        &format!("{before}cluster = \"sharedd\"\n{after}"),
        &[
            ("staging", &read("overlays/staging.toml")),
            ("production", &read("overlays/production.toml")),
        ],
    );
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(error_codes(&out.stderr), ["KG023"], "{}", out.stderr);
    assert!(!out.stderr.contains("warning["), "{}", out.stderr);
}

/// A hand-written file that is not YAML leaves its objects out: what kgen's objects
/// refer to in it is not reported missing (KG113) on top of its KG115 (adversarial
/// review 16, #3).
#[test]
fn an_unreadable_manifest_hides_no_reference_to_what_it_holds() {
    let text = clean()
        + "\n[services.api.patches.extra]\nkind = \"Deployment\"\njson = [{ op = \"add\", path = \"/spec/template/spec/containers/0/envFrom\", value = [{ configMapRef = { name = \"extra\" } }] }]\n";
    let p = Platform::new(&text, &[]);
    p.write(
        "manifests/_all/api/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  A: \"1\"\n",
    );
    let codes = |out: &common::Output| -> Vec<String> {
        error_codes(&out.stderr)
            .into_iter()
            .map(String::from)
            .collect()
    };
    let fine = p.kgen(&["validate"]);
    assert!(
        !codes(&fine).contains(&"KG113".to_string()),
        "{}",
        fine.stderr
    );
    p.write(
        "manifests/_all/api/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  A: [1\n",
    );
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let codes = codes(&out);
    assert!(codes.contains(&"KG115".to_string()), "{}", out.stderr);
    assert!(!codes.contains(&"KG113".to_string()), "{}", out.stderr);
}

/// A reading error in another environment's table of platform.toml is that
/// environment's: the plugin renders this one, and `--env` says where the error is
/// (verification review 18, #4), with the environments as tables of their own or as
/// inline tables under `[environments]`.
#[test]
fn another_environment_s_reading_error_is_not_this_application_s() {
    let headers = clean().replace(
        "[environments.prod]\nsync = \"manual\"\n",
        "[environments.prod]\nsync = \"sometimes\"\n",
    );
    let inline = clean().replace(
        "[environments.dev]\nsync = \"auto\"\n\n[environments.prod]\nsync = \"manual\"\n",
        "[environments]\ndev = { sync = \"auto\" }\nprod = { sync = \"sometimes\" }\n",
    );
    assert!(inline.contains("prod = { sync = \"sometimes\" }"));
    for text in [headers, inline] {
        let p = Platform::new(&text, &[]);
        let out = plugin(&p, "dev", "api");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("kind: Deployment\n"));
        let stderr = plugin_fails(&p, "prod", "api");
        assert_eq!(error_codes(&stderr), ["KG003"], "{stderr}");
        let out = p.kgen(&["validate", "--env", "dev"]);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains(
                "  = note: this is in environment `prod`, which this run does not render;"
            ),
            "{text}\n{}",
            out.stderr
        );
    }
}

/// `host` and `hosts` (or `path` and `paths`) in one table: one error, at the key
/// written second, saying to pick one; a list that is empty or names a host twice
/// (after rendering) is an error too, each in the same run.
#[test]
fn an_ingress_with_host_and_hosts_and_lists_that_cannot_be() {
    let text = format!(
        "{}ingress = {{ host = \"api.example.com\", hosts = [\"api.example.org\"], paths = [] }}\n",
        clean()
    );
    common::assert_stderr(
        &common::fails(&text, &[]),
        r#"error[KG019]: `ingress` of `api` sets both `host` and `hosts`
  --> platform.toml:20:39
   |
20 | ingress = { host = "api.example.com", hosts = ["api.example.org"], paths = [] }
   |                                       ^^^^^ `host` is set too
   = help: pick one: `host = "..."` for one host, or `hosts = [...]` for several

error[KG019]: `ingress.paths` of `api` is empty
  --> platform.toml:20:76
   |
20 | ingress = { host = "api.example.com", hosts = ["api.example.org"], paths = [] }
   |                                                                            ^^ no path listed
   = help: list at least one path (`paths = ["..."]`), or write `path = "..."` for one

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#,
    );
    let text = format!(
        "{}[services.api.ingress]\npaths = [\"/api\"]\nhosts = [\"www.{{{{ env.name }}}}.example.com\", \"www.dev.example.com\"]\npath = \"/\"\n",
        clean()
    );
    common::assert_stderr(
        &common::fails(&text, &[]),
        r#"error[KG015]: `ingress.hosts` of `api` lists the host `www.dev.example.com` twice
  --> platform.toml:22:44
   |
22 | hosts = ["www.{{ env.name }}.example.com", "www.dev.example.com"]
   |                                            ^^^^^^^^^^^^^^^^^^^^^ listed again
   = help: remove this entry (each is routed once)

error[KG019]: `ingress` of `api` sets both `paths` and `path`
  --> platform.toml:23:1
   |
23 | path = "/"
   | ^^^^ `paths` is set too
   = help: pick one: `path = "..."` for one path, or `paths = [...]` for several

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#,
    );
}

/// A host of `hosts` that is not a DNS name: the error points at that element, in
/// platform.toml or in the overlay that lists it.
#[test]
fn a_bad_host_in_the_list_is_pointed_at() {
    let text = format!(
        "{}ingress = {{ hosts = [\"api.example.com\", \"10.0.0.1\", \"api.example.org\"] }}\n",
        clean()
    );
    common::assert_stderr(
        &common::fails(
            &text,
            &[(
                "prod",
                "[services.api]\ningress.hosts = [\"api.example.com\", \"API.example.org\"]\n",
            )],
        ),
        r#"error[KG005]: ingress host of `api` in dev: `10.0.0.1` is an IP address; an Ingress host must be a DNS name
  --> platform.toml:20:41
   |
20 | ingress = { hosts = ["api.example.com", "10.0.0.1", "api.example.org"] }
   |                                         ^^^^^^^^^^
   = help: write a lower-case DNS name such as `api.example.com` (a leading `*.` is allowed)

error[KG005]: ingress host of `api` in prod: "API.example.org" is not a valid DNS-1123 subdomain: use at most 253 lowercase letters, digits, '-' and '.', in dot-separated parts that each start and end with a letter or digit
 --> overlays/prod.toml:2:37
  |
2 | ingress.hosts = ["api.example.com", "API.example.org"]
  |                                     ^^^^^^^^^^^^^^^^^
  = help: write a lower-case DNS name such as `api.example.com` (a leading `*.` is allowed)

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#,
    );
}

/// KG003 names the key a wrong type is about, as a dotted path from the file's root,
/// and says how to write the value: integers and booleans in quotes, a string where
/// a list or a table goes, a list where a string goes, a fraction where an integer
/// goes; in inline tables, dotted keys, arrays and overlays alike (newcomer review
/// 33, F3).
#[test]
fn a_wrong_type_names_its_key_and_how_to_write_the_value() {
    let text = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"

[environments.dev]
sync = "auto"

[services.api]
image = "acme/api"
tag = "1.0.0"
autoscaling = { min = 2, max = "6", cpu = 70 }
calls = "web"
ingress = "yes"
args = ["serve", 3]
metrics.enabled = "true"

[services.web]
image = "acme/web"
tag = ["2.0.0"]
replicas = 2.0
"#;
    let dev = "[services.api]\nautoscaling.max = \"7\"\n\n[services.web.disruption_budget]\nenabled = \"no\"\n";
    let p = Platform::new(text, &[("dev", dev)]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        r#"error[KG003]: invalid type for `services.api.autoscaling.max`: string "6", expected an integer
  --> platform.toml:11:32
   |
11 | autoscaling = { min = 2, max = "6", cpu = 70 }
   |                                ^^^
   = help: write `6` without quotes (a number)

error[KG003]: invalid type for `services.api.calls`: string "web", expected a sequence
  --> platform.toml:12:9
   |
12 | calls = "web"
   |         ^^^^^
   = help: write a list, in square brackets: `["web"]`

error[KG003]: invalid type for `services.api.ingress`: string "yes", expected a table
  --> platform.toml:13:11
   |
13 | ingress = "yes"
   |           ^^^^^
   = help: write a table: `{ ... }` with its keys, or a section `[services.api.ingress]` with a key a line (see docs/platform.md)

error[KG003]: invalid type for `services.api.args[1]`: integer `3`, expected a string in quotes
  --> platform.toml:14:18
   |
14 | args = ["serve", 3]
   |                  ^
   = help: a string is written in quotes: `"3"` (see docs/platform.md for the type of every key)

error[KG003]: invalid type for `services.api.metrics.enabled`: string "true", expected `true` or `false`
  --> platform.toml:15:19
   |
15 | metrics.enabled = "true"
   |                   ^^^^^^
   = help: write `true` without quotes (a boolean)

error[KG003]: invalid type for `services.web.tag`: sequence, expected a string in quotes
  --> platform.toml:19:7
   |
19 | tag = ["2.0.0"]
   |       ^^^^^^^^^
   = help: write one string in quotes, not a list: `"..."`

error[KG003]: invalid type for `services.web.replicas`: floating point `2.0`, expected an integer
  --> platform.toml:20:12
   |
20 | replicas = 2.0
   |            ^^^
   = help: write `2`: an integer has no decimal point

error[KG003]: invalid type for `services.api.autoscaling.max`: string "7", expected an integer
 --> overlays/dev.toml:2:19
  |
2 | autoscaling.max = "7"
  |                   ^^^
  = help: write `7` without quotes (a number)

error[KG003]: invalid type for `services.web.disruption_budget.enabled`: string "no", expected `true` or `false`
 --> overlays/dev.toml:5:11
  |
5 | enabled = "no"
  |           ^^^^
  = help: write `false` without quotes (a boolean)

error: 9 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // In the JSON too: the message names the key, the help says what to write.
    let out = p.kgen(&["render", "--format", "json"]);
    assert!(
        out.stdout.contains(r#""message": "invalid type for `services.api.autoscaling.max`: string \"6\", expected an integer""#)
            && out.stdout.contains(r#""help": "write `6` without quotes (a number)""#),
        "{}",
        out.stdout
    );
}

/// The same mistake found once per environment, in each environment's words (KG022
/// names the environment whose `secret_prefixes` a key is outside, and its
/// prefixes), is one diagnostic that names every environment, as the findings of
/// rendered objects are: the message and help name them as `{dev,prod,staging}`,
/// the label gives each environment's prefixes (newcomer review 33, F2).
#[test]
fn a_mistake_in_every_environment_is_one_diagnostic_naming_them() {
    let text = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"

[environments.dev]
sync = "auto"
secret_prefixes = ["dev/"]

[environments.staging]
sync = "auto"
secret_prefixes = ["staging/"]

[environments.prod]
sync = "manual"
secret_prefixes = ["production/"]
cluster = "https://prod.example.com"

[services.api]
image = "acme/api"
tag = "1.0.0"
iam_role = "arn:aws:iam::123456789012:role/api"
secrets = [{ name = "DB", key = "acme/api/db", from = "secretsmanager" }]
"#;
    let p = Platform::new(text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        r#"error[KG022]: secret key `acme/api/db` is outside the secret paths of environment `{dev,prod,staging}`
  --> platform.toml:22:33
   |
22 | secrets = [{ name = "DB", key = "acme/api/db", from = "secretsmanager" }]
   |                                 ^^^^^^^^^^^^^ dev may only read `dev/`; prod may only read `production/`; staging may only read `staging/`
   = help: point `key` at a secret of this environment (a template such as `{{ env.<var> }}/...` keeps one entry right for every environment); the allowed prefixes are `secret_prefixes` of [environments.{dev,prod,staging}]

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // One in the JSON too, with every environment.
    let out = p.kgen(&["render", "--format", "json"]);
    assert_eq!(
        out.stdout.matches("\"code\": \"KG022\"").count(),
        1,
        "{}",
        out.stdout
    );
}
