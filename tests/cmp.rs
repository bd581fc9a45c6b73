//! kgen as an Argo CD config management plugin: `kgen cmp generate | discover |
//! parameters` run the way Argo CD's plugin server runs them (in a read-only copy of
//! the repository, with the environment Argo CD's source builds for an Application:
//! `common::argocd`), every Application of the plugin mode of the generated
//! ApplicationSets, `generated/argocd/cmp/plugin.yaml`, and the Kustomize component in
//! `deploy/argocd-cmp/`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::argocd::{self, Call};
use common::{repo_root, Platform, MINIMAL};
use serde::Deserialize;
use serde_json::Value;

/// What `kgen cmp ...` printed.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `kgen cmp <sub>` in `dir` with a cleared environment: `PATH`, then `vars` (a
/// later value for the same name wins, as with Go's os/exec).
fn run<K: AsRef<str>, V: AsRef<str>>(dir: &Path, sub: &str, vars: &[(K, V)]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kgen"));
    c.args(["cmp", sub])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in vars {
        c.env(k.as_ref(), v.as_ref());
    }
    let out = c.output().expect("run kgen");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `kgen cmp <sub>` for the Application `app` as Argo CD does: in the
/// Application's source path inside the checkout `repo`, with the sidecar's own
/// environment followed by the variables the plugin server passes
/// (`argocd::plugin_env`): `generate` and `discover` as manifest generation runs
/// them, `parameters` as the UI's application details do.
fn cmp(repo: &Path, sub: &str, app: &Value) -> Run {
    cmp_in_sidecar(repo, sub, app, &[])
}

/// [`cmp`] in a sidecar whose container also sets `extra` in its environment.
fn cmp_in_sidecar(repo: &Path, sub: &str, app: &Value, extra: &[(&str, &str)]) -> Run {
    let call = if sub == "parameters" {
        Call::AppDetails
    } else {
        Call::Manifests
    };
    let dir = repo.join(app["spec"]["source"]["path"].as_str().unwrap_or(""));
    // The repo-server would merge these files into the source before building the
    // environment (reposerver/repository/repository.go, `mergeSourceParameters`); the
    // stand-in does not model them.
    for f in [
        ".argocd-source.yaml".to_string(),
        format!(".argocd-source-{}.yaml", argocd::instance_name(app)),
    ] {
        assert!(!dir.join(&f).exists(), "{f} is not modelled");
    }
    let mut vars: Vec<(String, String)> = argocd::SIDECAR_ENV
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    vars.extend(argocd::plugin_env(app, call));
    run(&dir, sub, &vars)
}

/// `kgen cmp <sub>` run by hand in `dir` (not by Argo CD): only `PATH` and `vars`.
fn by_hand(dir: &Path, sub: &str, vars: &[(&str, &str)]) -> Run {
    run(dir, sub, vars)
}

fn generate(repo: &Path, app: &Value) -> Run {
    cmp(repo, "generate", app)
}

/// An Application using kgen's plugin, as YAML parsed: source path `.`, the given
/// `spec.source.plugin.env` entries and string `parameters`.
fn application_with(env: &[(&str, &str)], parameters: &[(&str, &str)]) -> Value {
    let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let (project, service) = (
        get("KGEN_ENV").unwrap_or("default"),
        get("KGEN_SERVICE").unwrap_or("default"),
    );
    let q = |s: &str| serde_json::to_string(s).unwrap();
    let mut yaml = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {}\n  namespace: argocd\nspec:\n  project: {}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {}\n  source:\n    repoURL: https://github.com/kontaxa/platform.git\n    targetRevision: main\n    path: \".\"\n    plugin:\n      name: kgen-{}\n",
        q(&format!("{project}-{service}")),
        q(project),
        q(service),
        env!("CARGO_PKG_VERSION")
    );
    if !env.is_empty() {
        yaml.push_str("      env:\n");
        for (k, v) in env {
            yaml.push_str(&format!("        - name: {k}\n          value: {}\n", q(v)));
        }
    }
    if !parameters.is_empty() {
        yaml.push_str("      parameters:\n");
        for (k, v) in parameters {
            yaml.push_str(&format!(
                "        - name: {k}\n          string: {}\n",
                q(v)
            ));
        }
    }
    serde_norway::from_str(&yaml).unwrap()
}

/// The Application kgen's ApplicationSets make for `service` in `env`.
fn application(env: &str, service: &str) -> Value {
    application_with(&[("KGEN_ENV", env), ("KGEN_SERVICE", service)], &[])
}

/// `app` with its source path set to `path`.
fn at_path(mut app: Value, path: &str) -> Value {
    app["spec"]["source"]["path"] = path.into();
    app
}

/// Makes a tree read-only for as long as it lives (the plugin server hands plugins a
/// checkout they must not change), and writable again when dropped, so it can be removed.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn new(dir: &Path) -> ReadOnly {
        set_writable(dir, false);
        ReadOnly(dir.to_path_buf())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        set_writable(&self.0, true);
    }
}

fn set_writable(path: &Path, writable: bool) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    if meta.is_dir() && writable {
        set_mode(path, &meta, true);
    }
    if meta.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            set_writable(&e.unwrap().path(), writable);
        }
    }
    if !(meta.is_dir() && writable) {
        set_mode(path, &meta, writable);
    }
}

fn set_mode(path: &Path, meta: &std::fs::Metadata, writable: bool) {
    let mut perms = meta.permissions();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if meta.is_dir() { 0o555 } else { 0o444 };
        perms.set_mode(if writable { mode | 0o200 } else { mode });
    }
    #[cfg(not(unix))]
    perms.set_readonly(!writable);
    std::fs::set_permissions(path, perms).unwrap();
}

/// The documents of a YAML stream, parsed.
fn documents(stream: &str) -> Vec<serde_json::Value> {
    serde_norway::Deserializer::from_str(stream)
        .map(|doc| serde_json::Value::deserialize(doc).expect("a YAML document"))
        .collect()
}

/// The committed files of one application, by path.
fn committed(p: &Platform, env: &str, service: &str) -> BTreeMap<String, String> {
    p.generated()
        .into_iter()
        .filter(|(path, _)| path.starts_with(&format!("{env}/{service}/")))
        .collect()
}

/// The repository's platform (platform.toml + overlays), rendered as `kgen render`
/// commits it.
fn example() -> Platform {
    let p = Platform::example();
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    p
}

/// Asserts that `kgen cmp generate` prints the committed files of each application
/// of `p`, byte for byte and document for document, and changes nothing.
fn assert_generate_matches_render(p: &Platform, apps: &[(&str, &str)]) {
    let before = common::snapshot(p.path(), &[]);
    let _ro = ReadOnly::new(p.path());
    for (env, service) in apps {
        let files = committed(p, env, service);
        assert!(!files.is_empty(), "{env}/{service} has no committed files");
        let out = generate(p.path(), &application(env, service));
        assert_eq!(out.code, 0, "{env}/{service}: {}", out.stderr);
        // Byte for byte: the committed files, in path order, joined by `---` lines.
        let joined = files.values().cloned().collect::<Vec<_>>().join("---\n");
        assert_eq!(out.stdout, joined, "{env}/{service}");
        // Parsed as a YAML stream: one document per committed file, equal to it.
        let docs = documents(&out.stdout);
        assert_eq!(docs.len(), files.len(), "{env}/{service}");
        for (doc, (path, text)) in docs.iter().zip(&files) {
            let file: serde_json::Value = serde_norway::from_str(text).unwrap();
            assert_eq!(doc, &file, "{path}");
            assert!(text.starts_with("# Generated by kgen from "), "{path}");
        }
    }
    assert_eq!(
        common::snapshot(p.path(), &[]),
        before,
        "kgen cmp generate changed the tree"
    );
}

#[test]
fn generate_prints_the_committed_files_of_every_application() {
    let p = example();
    let mut apps = Vec::new();
    for env in ["dev", "staging", "prod"] {
        for service in ["main-api", "aux-service"] {
            apps.push((env, service));
        }
    }
    assert_generate_matches_render(&p, &apps);
}

#[test]
fn generate_needs_neither_generated_nor_other_overlays() {
    let p = example();
    let expected = committed(&p, "prod", "aux-service");
    std::fs::remove_dir_all(p.path().join("generated")).unwrap();
    std::fs::remove_file(p.path().join("overlays/dev.toml")).unwrap();
    std::fs::remove_file(p.path().join("overlays/staging.toml")).unwrap();
    let _ro = ReadOnly::new(p.path());
    let out = generate(p.path(), &application("prod", "aux-service"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        expected.values().cloned().collect::<Vec<_>>().join("---\n")
    );
    assert!(!p.exists("generated"));
}

#[test]
fn disabled_services_match_render() {
    // web is disabled in prod; worker is in another namespace there; zeta comes
    // after the others. prod runs on a cluster of its own.
    let text = format!(
        "{MINIMAL}\n\
         [environments.prod]\nsync = \"manual\"\ncluster = \"https://prod.example.com\"\n\n\
         [services.worker]\nimage = \"acme/worker\"\ntag = \"2.0.0\"\n\n\
         [services.web]\nimage = \"acme/web\"\ntag = \"1.1.0\"\nnamespace = \"{{{{ env.name }}}}-web\"\n\n\
         [services.zeta]\nimage = \"acme/zeta\"\ntag = \"0.3.0\"\n"
    );
    let p = Platform::new(
        &text,
        &[(
            "prod",
            "[services.web]\nenabled = false\n\n[services.worker]\nnamespace = \"jobs\"\n",
        )],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(p.exists("generated/dev/web/namespace.yaml"));
    assert!(!p.exists("generated/prod/web"));
    assert!(p.exists("generated/prod/worker/namespace.yaml"));
    assert_generate_matches_render(
        &p,
        &[
            ("dev", "api"),
            ("dev", "web"),
            ("dev", "worker"),
            ("dev", "zeta"),
            ("prod", "api"),
            ("prod", "worker"),
            ("prod", "zeta"),
        ],
    );
    // No manifests for a disabled service: an error, never an empty success.
    let out = generate(p.path(), &application("prod", "web"));
    assert_fails(&out, "service `web` is disabled in environment `prod`");
}

#[test]
fn shared_namespaces_match_render() {
    // `shared` is used by api and worker in dev: neither Application owns it, the
    // cluster's `dev-namespaces` Application does. In prod worker moves to `jobs`, so
    // api has `shared` to itself and owns it.
    let text = format!(
        "{MINIMAL}namespace = \"shared\"\n\n\
         [environments.prod]\nsync = \"manual\"\ncluster = \"https://prod.example.com\"\n\n\
         [services.worker]\nimage = \"acme/worker\"\ntag = \"2.0.0\"\nnamespace = \"shared\"\n"
    );
    let p = Platform::new(
        &text,
        &[("prod", "[services.worker]\nnamespace = \"jobs\"\n")],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!p.exists("generated/dev/api/namespace.yaml"));
    assert!(!p.exists("generated/dev/worker/namespace.yaml"));
    assert!(p.exists("generated/clusters/dev/namespaces/shared.yaml"));
    assert!(p.exists("generated/argocd/dev/application-namespaces.yaml"));
    assert!(p.exists("generated/prod/api/namespace.yaml"));
    assert!(p.exists("generated/prod/worker/namespace.yaml"));
    assert!(!p.exists("generated/clusters/prod"));
    assert_generate_matches_render(
        &p,
        &[
            ("dev", "api"),
            ("dev", "worker"),
            ("prod", "api"),
            ("prod", "worker"),
        ],
    );
}

#[test]
fn parameters_select_the_application_too() {
    let p = example();
    let expected = committed(&p, "staging", "main-api");
    let params = [("env", "staging"), ("service", "main-api")];
    // Argo CD passes them as JSON and as PARAM_ENV / PARAM_SERVICE.
    let app = application_with(&[], &params);
    let env = argocd::plugin_env(&app, Call::Manifests);
    let param_vars: Vec<_> = env
        .iter()
        .filter(|(k, _)| k.starts_with("ARGOCD_APP_PARAMETERS") || k.starts_with("PARAM_"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        param_vars,
        [
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"env","string":"staging"},{"name":"service","string":"main-api"}]"#
            ),
            ("PARAM_ENV", "staging"),
            ("PARAM_SERVICE", "main-api"),
        ]
    );
    let out = generate(p.path(), &app);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        out.stdout,
        expected.values().cloned().collect::<Vec<_>>().join("---\n")
    );
    // Agreeing with the variables is fine too.
    let app = application_with(
        &[("KGEN_ENV", "staging"), ("KGEN_SERVICE", "main-api")],
        &params,
    );
    let out = generate(p.path(), &app);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        out.stdout,
        expected.values().cloned().collect::<Vec<_>>().join("---\n")
    );
}

#[test]
fn a_platform_file_named_by_kgen_platform() {
    let p = Platform::empty();
    p.write("platforms/acme/acme.toml", MINIMAL);
    p.write(
        "platforms/acme/overlays/dev.toml",
        "[services.api]\ntag = \"1.2.0\"\n",
    );
    let out = common::kgen_in(
        p.path(),
        &["render", "--platform", "platforms/acme/acme.toml"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // generated/ is next to the platform file.
    let dir = p.path().join("platforms/acme/generated/dev/api");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let joined = names
        .iter()
        .map(|n| std::fs::read_to_string(n).unwrap())
        .collect::<Vec<_>>()
        .join("---\n");
    assert!(joined.contains("1.2.0"));
    let app = application_with(
        &[
            ("KGEN_ENV", "dev"),
            ("KGEN_SERVICE", "api"),
            ("KGEN_PLATFORM", "platforms/acme/acme.toml"),
        ],
        &[],
    );
    let out = generate(p.path(), &app);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, joined);
}

/// A failed run: non-zero exit, nothing on stdout, `message` on stderr.
fn assert_fails(out: &Run, message: &str) {
    assert_ne!(out.code, 0, "stdout:\n{}", out.stdout);
    assert_eq!(out.stdout, "", "a failed run printed manifests");
    assert!(
        out.stderr.contains(message),
        "stderr lacks {message:?}:\n{}",
        out.stderr
    );
}

#[test]
fn unknown_environment_or_service_says_what_it_got_and_suggests() {
    let p = Platform::example();
    let _ro = ReadOnly::new(p.path());
    let out = generate(p.path(), &application("prdo", "main-api"));
    assert_fails(&out, "ARGOCD_ENV_KGEN_ENV: unknown environment `prdo` (did you mean `prod`?); platform.toml defines: dev, prod, staging\n  help: pass one of those, or declare it with `[environments.prdo]` in platform.toml\n");
    assert_eq!(out.code, 2);
    let out = generate(p.path(), &application("prod", "main-apu"));
    assert_fails(&out, "ARGOCD_ENV_KGEN_SERVICE: unknown service `main-apu` (did you mean `main-api`?); platform.toml defines: aux-service, main-api\n");
    let app = application_with(&[("KGEN_SERVICE", "main-api")], &[("env", "qa")]);
    let out = generate(p.path(), &app);
    assert_fails(&out, "parameter `env`: unknown environment `qa`");
}

#[test]
fn missing_or_conflicting_selection_is_refused() {
    let p = Platform::example();
    let out = generate(p.path(), &application_with(&[], &[]));
    assert_fails(
        &out,
        "set `KGEN_ENV` and `KGEN_SERVICE` in the Application's spec.source.plugin.env",
    );
    // One of the two: the message names the missing one.
    let out = generate(p.path(), &application_with(&[("KGEN_ENV", "dev")], &[]));
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (2, "", "kgen: error: kgen needs the service of the application too (the environment, `dev`, came from ARGOCD_ENV_KGEN_ENV): set `KGEN_SERVICE` in the Application's spec.source.plugin.env (Argo CD passes it as ARGOCD_ENV_KGEN_SERVICE), or the `service` parameter\n"));
    // An empty value is no value (Argo CD passes it on, empty).
    let app = application_with(&[("KGEN_ENV", ""), ("KGEN_SERVICE", "main-api")], &[]);
    assert!(argocd::plugin_env(&app, Call::Manifests)
        .contains(&("ARGOCD_ENV_KGEN_ENV".into(), String::new())));
    assert_fails(
        &generate(p.path(), &app),
        "kgen needs the environment of the application too (the service, `main-api`, came from ARGOCD_ENV_KGEN_SERVICE): set `KGEN_ENV` in the Application's spec.source.plugin.env (Argo CD passes it as ARGOCD_ENV_KGEN_ENV), or the `env` parameter",
    );
    // Without the prefix Argo CD adds, the variables are not the Application's.
    let out = by_hand(
        p.path(),
        "generate",
        &[("KGEN_ENV", "dev"), ("KGEN_SERVICE", "main-api")],
    );
    assert_fails(&out, "ARGOCD_ENV_KGEN_ENV");
    let app = application_with(
        &[("KGEN_ENV", "dev"), ("KGEN_SERVICE", "main-api")],
        &[("env", "prod")],
    );
    let out = generate(p.path(), &app);
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (2, "", "kgen: error: parameter `env` is `prod` but ARGOCD_ENV_KGEN_ENV is `dev`; set the env once (the ApplicationSets kgen generates set KGEN_ENV)\n"));
    let out = by_hand(
        p.path(),
        "generate",
        &[
            ("ARGOCD_ENV_KGEN_ENV", "dev"),
            ("ARGOCD_ENV_KGEN_SERVICE", "main-api"),
            ("ARGOCD_APP_PARAMETERS", "{not json"),
        ],
    );
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (2, "", "kgen: error: ARGOCD_APP_PARAMETERS is not the JSON Argo CD sends (a list of {\"name\": ..., \"string\": ...}, or null): key must be a string at line 1 column 2\n"));
}

#[test]
fn invalid_input_is_a_located_error() {
    // A wrong type in the environment's overlay.
    let p = Platform::example();
    p.write(
        "overlays/dev.toml",
        &(p.read("overlays/dev.toml") + "\n[services.aux-service]\nreplicas = \"two\"\n"),
    );
    let out = generate(p.path(), &application("dev", "aux-service"));
    assert_fails(&out, "error[KG");
    assert!(
        out.stderr.contains("--> overlays/dev.toml:"),
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 2);

    // TOML syntax.
    let p = Platform::new(&MINIMAL.replace("tag = \"1.0.0\"", "tag = \"1.0.0"), &[]);
    let out = generate(p.path(), &application("dev", "api"));
    assert_fails(&out, "--> platform.toml:11:13");

    // A value resolve refuses, in the selected service.
    let p = Platform::new(&MINIMAL.replace("port = 8080", "port = 80800"), &[]);
    let out = generate(p.path(), &application("dev", "api"));
    assert_fails(&out, "port 80800 is out of range");
    assert!(
        out.stderr.contains("--> platform.toml:12:8"),
        "{}",
        out.stderr
    );
}

#[test]
fn validation_errors_fail_the_application() {
    // Policy: one replica in a production environment.
    let text = MINIMAL.replace("sync = \"auto\"", "sync = \"auto\"\nproduction = true")
        + "replicas = 1\nprobes = { liveness = \"/health\", readiness = \"/health\" }\n";
    let p = Platform::new(&text, &[]);
    let out = generate(p.path(), &application("dev", "api"));
    assert_fails(&out, "error[KG210]");
    assert!(out.stderr.contains("--> platform.toml:"), "{}", out.stderr);
}

#[test]
fn other_environments_do_not_block_an_application_but_its_own_does() {
    // prod's overlay is broken: `kgen render` refuses the platform, but the files of
    // dev do not depend on prod (and the plugin does not even read overlays/prod.toml).
    let text = format!("{MINIMAL}\n[environments.prod]\nsync = \"manual\"\n");
    let p = Platform::new(&text, &[("prod", "[services.api]\nreplicas = \"x\"\n")]);
    assert_eq!(p.kgen(&["render"]).code, 2);
    let out = generate(p.path(), &application("dev", "api"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("kind: Deployment\n"));
    assert_fails(
        &generate(p.path(), &application("prod", "api")),
        "--> overlays/prod.toml:2:12",
    );

    // A broken service in the same environment fails its other applications too: their
    // objects depend on it (NetworkPolicies admit the services that call them), so
    // rendering without it could cut its traffic.
    let text = format!("{MINIMAL}\n[services.web]\nimage = \"acme/web\"\ntag = \"latest\"\n");
    let p = Platform::new(&text, &[]);
    assert_fails(
        &generate(p.path(), &application("dev", "api")),
        "service `web` uses the tag `latest`",
    );
}

#[test]
fn the_platform_file_must_be_in_the_source_directory() {
    let p = Platform::example();
    let dir = p.path().join("apps");
    std::fs::create_dir_all(&dir).unwrap();
    // Argo CD runs the plugin in the source path; here it holds no platform.
    let app = at_path(application("dev", "main-api"), "apps");
    let out = generate(p.path(), &app);
    assert_fails(&out, "no `platform.toml` in the source directory");
    let app = application_with(
        &[
            ("KGEN_ENV", "dev"),
            ("KGEN_SERVICE", "main-api"),
            ("KGEN_PLATFORM", "../platform.toml"),
        ],
        &[],
    );
    assert_fails(
        &generate(p.path(), &at_path(app, "apps")),
        "ARGOCD_ENV_KGEN_PLATFORM: `../platform.toml` is not a path inside the source directory",
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(p.path().join("platform.toml"), dir.join("platform.toml"))
            .unwrap();
        assert_fails(
            &generate(p.path(), &at_path(application("dev", "main-api"), "apps")),
            "leads outside the source directory",
        );
    }
}

/// An input file of `MAX_FILE_SIZE + 1` bytes of valid TOML, then a byte that is not
/// UTF-8: reading the file past the limit would fail on that byte instead.
fn oversized(start: &str) -> Vec<u8> {
    let limit = kgen::workspace::MAX_FILE_SIZE as usize;
    let mut bytes = start.as_bytes().to_vec();
    while bytes.len() <= limit {
        bytes.extend_from_slice(format!("# {}\n", "x".repeat(1021)).as_bytes());
    }
    bytes.truncate(limit + 1);
    bytes.push(0xff);
    bytes
}

#[test]
fn an_oversized_input_file_is_refused_as_render_refuses_it() {
    // The platform file.
    let p = Platform::new(MINIMAL, &[]);
    std::fs::write(p.path().join("platform.toml"), oversized(MINIMAL)).unwrap();
    let render = p.kgen(&["render"]);
    assert_eq!(render.code, 2, "{}", render.stderr);
    assert_eq!(
        render.stderr,
        "kgen: error: platform.toml is larger than 8 MiB, kgen's limit for an input file\n  help: split the platform into several platform directories, each with its own platform.toml (see docs/security.md#limits)\n"
    );
    let out = generate(p.path(), &application("dev", "api"));
    assert_fails(&out, &render.stderr);
    assert_eq!((out.code, out.stderr.as_str()), (2, render.stderr.as_str()));
    let out = cmp(p.path(), "parameters", &application_with(&[], &[]));
    assert_eq!((out.code, out.stderr.as_str()), (2, render.stderr.as_str()));
    assert_eq!(out.stdout, "");
    let out = cmp(p.path(), "discover", &application("dev", "api"));
    assert_fails(&out, "kgen: not a kgen platform: platform.toml is larger than 8 MiB, kgen's limit for an input file\n  help: split the platform into several platform directories, each with its own platform.toml (see docs/security.md#limits)\n");
    assert_eq!(out.code, 1);

    // The environment's overlay.
    let p = Platform::new(MINIMAL, &[("dev", "")]);
    std::fs::write(
        p.path().join("overlays/dev.toml"),
        oversized("[services.api]\nreplicas = 2\n"),
    )
    .unwrap();
    let render = p.kgen(&["render"]);
    assert_eq!(render.code, 2, "{}", render.stderr);
    assert!(
        render
            .stderr
            .ends_with("overlays/dev.toml is larger than 8 MiB, kgen's limit for an input file\n  help: split the platform into several platform directories, each with its own platform.toml (see docs/security.md#limits)\n"),
        "{}",
        render.stderr
    );
    let out = generate(p.path(), &application("dev", "api"));
    assert_fails(&out, &render.stderr);
    assert_eq!((out.code, out.stderr.as_str()), (2, render.stderr.as_str()));
}

#[test]
fn discover_recognises_a_kgen_platform() {
    let p = Platform::example();
    let app = application("dev", "main-api");
    let out = cmp(p.path(), "discover", &app);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "./platform.toml\n");
    // As the UI's application details run it, for an Application without variables.
    let out = cmp(p.path(), "discover", &application_with(&[], &[]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "./platform.toml\n");

    let other = Platform::empty();
    let out = cmp(other.path(), "discover", &app);
    assert_fails(&out, "no `platform.toml` in the source directory");
    assert_eq!(out.code, 1);
    other.write("platform.toml", "[tool.something]\nx = 1\n");
    assert_fails(
        &cmp(other.path(), "discover", &app),
        "has no [platform] table",
    );

    let named = Platform::empty();
    named.write("acme.toml", MINIMAL);
    let out = cmp(
        named.path(),
        "discover",
        &application_with(&[("KGEN_PLATFORM", "acme.toml")], &[]),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "./acme.toml\n");
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Announcement {
    name: String,
    title: String,
    tooltip: String,
    required: bool,
    item_type: String,
    collection_type: String,
    #[serde(default)]
    string: Option<String>,
    #[serde(default)]
    array: Option<Vec<String>>,
}

#[test]
fn parameters_announce_environments_and_services() {
    let p = Platform::example();
    let _ro = ReadOnly::new(p.path());
    let out = cmp(p.path(), "parameters", &application_with(&[], &[]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let list: Vec<Announcement> = serde_json::from_str(&out.stdout).unwrap();
    let names: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["env", "service", "environments", "services"]);
    let env = &list[0];
    assert!(env.required && env.item_type == "string" && env.collection_type == "string");
    assert_eq!(env.string, None);
    assert!(
        env.tooltip.ends_with("one of dev, prod, staging"),
        "{}",
        env.tooltip
    );
    assert_eq!(list[0].title, "Environment");
    assert_eq!(
        list[2].array.as_deref(),
        Some(&["dev".to_string(), "prod".into(), "staging".into()][..])
    );
    assert_eq!(list[3].collection_type, "array");
    assert_eq!(
        list[3].array.as_deref(),
        Some(&["aux-service".to_string(), "main-api".into()][..])
    );
    // With the application's variables, the current values are announced.
    let out = cmp(p.path(), "parameters", &application("prod", "main-api"));
    let list: Vec<Announcement> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(list[0].string.as_deref(), Some("prod"));
    assert_eq!(list[1].string.as_deref(), Some("main-api"));
    // A broken platform: an error, not an empty list.
    let broken = Platform::new("[platform\n", &[]);
    assert_fails(
        &cmp(broken.path(), "parameters", &application_with(&[], &[])),
        "--> platform.toml:1:",
    );
}

const PLUGIN_APPLICATIONSET: &str = r#"# Generated by kgen from platform.toml + overlays/dev.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  annotations:
    argocd.argoproj.io/sync-wave: "0"
  labels:
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/part-of: acme
    kgen.dev/cluster: dev
    kgen.dev/environment: dev
  name: dev
  namespace: argocd
spec:
  generators:
  - list:
      elements:
      - namespace: api
        service: api
  goTemplate: true
  goTemplateOptions:
  - missingkey=error
  template:
    metadata:
      annotations:
        argocd.argoproj.io/manifest-generate-paths: platform.toml;overlays/dev.toml;manifests/_all;manifests/dev
      finalizers:
      - resources-finalizer.argocd.argoproj.io
      labels:
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: "{{.service}}"
        app.kubernetes.io/part-of: acme
        kgen.dev/cluster: dev
        kgen.dev/environment: dev
      name: dev-{{.service}}
    spec:
      destination:
        namespace: "{{.namespace}}"
        server: https://kubernetes.default.svc
      project: dev
      revisionHistoryLimit: 10
      source:
        path: "."
        plugin:
          env:
          - name: KGEN_ENV
            value: dev
          - name: KGEN_SERVICE
            value: "{{.service}}"
          name: kgen-VERSION
        repoURL: https://github.com/acme/platform.git
        targetRevision: HEAD
      syncPolicy:
        automated:
          allowEmpty: false
          prune: true
          selfHeal: true
        retry:
          backoff:
            duration: 5s
            factor: 2
            maxDuration: 3m
          limit: 5
        syncOptions:
        - PrunePropagationPolicy=foreground
        - PruneLast=true
        - ApplyOutOfSyncOnly=true
"#;

/// The minimal platform in plugin mode, with probes (so that it renders without
/// warnings).
fn plugin_platform() -> Platform {
    Platform::new(
        &format!("{MINIMAL}probes = {{ liveness = \"/health\", readiness = \"/health\" }}\n\n[argocd]\nmode = \"plugin\"\n"),
        &[("dev", "[services.api]\nreplicas = 3\n")],
    )
}

#[test]
fn plugin_mode_applicationset_exact() {
    let p = plugin_platform();
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        p.read("generated/argocd/dev/applicationset-dev.yaml"),
        PLUGIN_APPLICATIONSET.replace("VERSION", env!("CARGO_PKG_VERSION"))
    );
    // The committed tree is still written in plugin mode, and it is what the plugin
    // prints (Argo CD reads generated/argocd/ and the monitoring values from git).
    assert!(p.exists("generated/dev/api/deployment.yaml"));
    assert_generate_matches_render(&p, &[("dev", "api")]);
}

#[test]
fn plugin_mode_with_repo_path_and_another_platform_file() {
    let p = Platform::empty();
    p.write(
        "platforms/acme/acme.toml",
        &(MINIMAL.replace("registry = ", "repo_path = \"platforms/acme\"\nregistry = ")
            + "\n[argocd]\nmode = \"plugin\"\n"),
    );
    let out = common::kgen_in(
        p.path(),
        &["render", "--platform", "platforms/acme/acme.toml"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let set = p.read("platforms/acme/generated/argocd/dev/applicationset-dev.yaml");
    assert!(
        set.contains(&format!(
            "      source:\n        path: platforms/acme\n        plugin:\n          env:\n          - name: KGEN_ENV\n            value: dev\n          - name: KGEN_SERVICE\n            value: \"{{{{.service}}}}\"\n          - name: KGEN_PLATFORM\n            value: acme.toml\n          name: kgen-{}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{set}"
    );
    assert!(
        set.contains("        argocd.argoproj.io/manifest-generate-paths: acme.toml;overlays/dev.toml;manifests/_all;manifests/dev\n"),
        "{set}"
    );
}

/// The repository's own platform (platform.toml + overlays), with `[argocd] mode =
/// "plugin"`, rendered.
fn example_in_plugin_mode() -> Platform {
    let p = Platform::example();
    let mut doc: toml_edit::DocumentMut = p.read("platform.toml").parse().unwrap();
    doc["argocd"]["mode"] = toml_edit::value("plugin");
    p.write("platform.toml", &doc.to_string());
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    p
}

/// Every Application Argo CD makes from what `kgen render` wrote under
/// generated/argocd/ (at any depth, in any file): the ApplicationSets as the
/// ApplicationSet controller expands them, and the Applications as they are.
fn argocd_applications(p: &Platform) -> Vec<Value> {
    let mut apps = Vec::new();
    for (path, text) in common::read_tree(&p.path().join("generated/argocd")) {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        for doc in documents(&text) {
            match doc["kind"].as_str() {
                Some("ApplicationSet") => apps.extend(argocd::expand_application_set(&doc)),
                Some("Application") => apps.push(doc),
                _ => {}
            }
        }
    }
    apps
}

/// The value of an Application's `spec.source.plugin.env` entry `name`.
fn plugin_var<'a>(app: &'a Value, name: &str) -> Option<&'a str> {
    app["spec"]["source"]["plugin"]["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
}

/// Runs every Application of `p` that uses the plugin through Argo CD's stand-in:
/// `discover` and `generate` as manifest generation runs them, `parameters` as the
/// UI does; each must succeed without a word on stderr, and `generate` must print
/// the application's committed files. Every committed application must have exactly
/// one such Application. Returns how many there are.
fn assert_every_plugin_application_renders(p: &Platform) -> usize {
    let apps: Vec<Value> = argocd_applications(p)
        .into_iter()
        .filter(|a| !a["spec"]["source"]["plugin"].is_null())
        .collect();
    let _ro = ReadOnly::new(p.path());
    let mut seen = BTreeSet::new();
    for app in &apps {
        let name = app["metadata"]["name"].as_str().unwrap();
        assert_eq!(
            app["spec"]["source"]["plugin"]["name"],
            format!("kgen-{}", env!("CARGO_PKG_VERSION")),
            "{name}: the sidecar serves kgen-<version>"
        );
        let (env, service) = (
            plugin_var(app, "KGEN_ENV").unwrap().to_string(),
            plugin_var(app, "KGEN_SERVICE").unwrap().to_string(),
        );
        assert!(
            seen.insert((env.clone(), service.clone())),
            "{name}: a second Application renders {env}/{service}"
        );

        let out = cmp(p.path(), "discover", app);
        let platform = plugin_var(app, "KGEN_PLATFORM").unwrap_or("platform.toml");
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (0, format!("./{platform}\n").as_str(), ""),
            "{name}: discover"
        );

        let out = generate(p.path(), app);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{name}: generate");
        let files = committed(p, &env, &service);
        assert!(!files.is_empty(), "{name}: no committed files");
        let joined = files
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .join(kgen::ops::cmp::Generated::SEPARATOR);
        assert_eq!(out.stdout, joined, "{name}: generate");

        let out = cmp(p.path(), "parameters", app);
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (0, ""),
            "{name}: parameters"
        );
        let list: Vec<Announcement> = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: parameters printed {}: {e}", out.stdout));
        let names: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["env", "service", "environments", "services"]);
        assert_eq!(list[0].string.as_deref(), Some(env.as_str()), "{name}");
        assert_eq!(list[1].string.as_deref(), Some(service.as_str()), "{name}");
        assert!(list[2].array.as_ref().unwrap().contains(&env), "{name}");
        assert!(list[3].array.as_ref().unwrap().contains(&service), "{name}");
    }
    // Every application kgen committed (each has a Deployment) has its Application.
    let expected: BTreeSet<(String, String)> = p
        .generated()
        .into_iter()
        .filter_map(|(path, _)| {
            let parts: Vec<&str> = path.split('/').collect();
            match parts[..] {
                [env, service, "deployment.yaml"] => Some((env.to_string(), service.to_string())),
                _ => None,
            }
        })
        .collect();
    assert_eq!(seen, expected);
    seen.len()
}

#[test]
fn every_generated_plugin_application_renders_through_argocd() {
    // Issue 14: every Application of the generated ApplicationSets failed (kgen
    // refused the `ARGOCD_APP_PARAMETERS=null` Argo CD sends them).
    assert_eq!(
        assert_every_plugin_application_renders(&example_in_plugin_mode()),
        6
    );
    let p = plugin_platform();
    assert_eq!(p.kgen(&["render"]).code, 0);
    assert_eq!(assert_every_plugin_application_renders(&p), 1);
}

#[test]
fn the_stand_in_builds_argocd_s_environment() {
    // What reposerver/repository/repository.go (newEnv, getPluginEnvs,
    // getPluginParamEnvs) and pkg/apis/application/v1alpha1/types.go
    // (ApplicationSourcePluginParameters.Environ) make of this Application.
    let app: Value = serde_norway::from_str(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dev-main-api
  namespace: argocd
spec:
  project: dev
  destination:
    server: https://kubernetes.default.svc
    namespace: main-api
  source:
    repoURL: https://github.com/kontaxa/platform.git
    targetRevision: main
    path: "."
    plugin:
      name: kgen-0.1.0
      env:
        - name: KGEN_ENV
          value: dev
        - name: KGEN_SERVICE
          value: main-api
        - name: GREETING
          value: "hi $ARGOCD_APP_NAME on $KUBE_VERSION, $$HOME ${ARGOCD_APP_REVISION_SHORT}"
        - name: EMPTY
          value: ""
      parameters:
        - name: env
          string: dev
        - name: environments
          array: [dev, prod]
        - name: helm-parameters
          map:
            image.tag: v1
            image.repo: "a<b&c \"q\""
"#,
    )
    .unwrap();
    let env = argocd::plugin_env(&app, Call::Manifests);
    let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let params = [
        r#"ARGOCD_APP_PARAMETERS=[{"name":"env","string":"dev"},{"array":["dev","prod"],"name":"environments"},{"map":{"image.repo":"a\u003cb\u0026c \"q\"","image.tag":"v1"},"name":"helm-parameters"}]"#,
        "PARAM_ENV=dev",
        "PARAM_ENVIRONMENTS_0=dev",
        "PARAM_ENVIRONMENTS_1=prod",
        "PARAM_HELM_PARAMETERS_IMAGE_REPO=a<b&c \"q\"",
        "PARAM_HELM_PARAMETERS_IMAGE_TAG=v1",
    ];
    let mut expected = vec![
        "ARGOCD_APP_NAME=dev-main-api",
        "ARGOCD_APP_NAMESPACE=main-api",
        "ARGOCD_APP_PROJECT_NAME=dev",
        "ARGOCD_APP_REVISION=4f1c9d0e2b7a6c5d8e9f0a1b2c3d4e5f6a7b8c9d",
        "ARGOCD_APP_REVISION_SHORT=4f1c9d0",
        "ARGOCD_APP_REVISION_SHORT_8=4f1c9d0e",
        "ARGOCD_APP_SOURCE_REPO_URL=https://github.com/kontaxa/platform.git",
        "ARGOCD_APP_SOURCE_PATH=.",
        "ARGOCD_APP_SOURCE_TARGET_REVISION=main",
        "KUBE_VERSION=1.33.1",
        "KUBE_API_VERSIONS=apps/v1,apps/v1/Deployment,argoproj.io/v1alpha1,argoproj.io/v1alpha1/AppProject,argoproj.io/v1alpha1/Application,argoproj.io/v1alpha1/ApplicationSet,autoscaling/v2,autoscaling/v2/HorizontalPodAutoscaler,monitoring.coreos.com/v1,monitoring.coreos.com/v1/PrometheusRule,monitoring.coreos.com/v1/ServiceMonitor,networking.k8s.io/v1,networking.k8s.io/v1/Ingress,networking.k8s.io/v1/NetworkPolicy,policy/v1,policy/v1/PodDisruptionBudget,secrets-store.csi.x-k8s.io/v1,secrets-store.csi.x-k8s.io/v1/SecretProviderClass,v1,v1/ConfigMap,v1/Namespace,v1/Secret,v1/Service,v1/ServiceAccount",
        "ARGOCD_ENV_KGEN_ENV=dev",
        "ARGOCD_ENV_KGEN_SERVICE=main-api",
        "ARGOCD_ENV_GREETING=hi dev-main-api on 1.33.1, $HOME 4f1c9d0",
        "ARGOCD_ENV_EMPTY=",
    ];
    expected.extend(params);
    assert_eq!(env, expected);

    // For the UI's application details: four build variables, no KUBE_*.
    let env = argocd::plugin_env(&app, Call::AppDetails);
    let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut expected = vec![
        "ARGOCD_APP_NAME=dev-main-api",
        "ARGOCD_APP_SOURCE_REPO_URL=https://github.com/kontaxa/platform.git",
        "ARGOCD_APP_SOURCE_PATH=.",
        "ARGOCD_APP_SOURCE_TARGET_REVISION=main",
        "ARGOCD_ENV_KGEN_ENV=dev",
        "ARGOCD_ENV_KGEN_SERVICE=main-api",
        "ARGOCD_ENV_GREETING=hi dev-main-api on , $HOME ",
        "ARGOCD_ENV_EMPTY=",
    ];
    expected.extend(params);
    assert_eq!(env, expected);

    // Outside the control plane's namespace, the name carries the namespace.
    let mut elsewhere = app.clone();
    elsewhere["metadata"]["namespace"] = "team-a".into();
    assert_eq!(argocd::instance_name(&elsewhere), "team-a_dev-main-api");
    assert_eq!(
        argocd::plugin_env(&elsewhere, Call::Manifests)[0],
        ("ARGOCD_APP_NAME".into(), "team-a_dev-main-api".into())
    );
    assert_eq!(
        argocd::plugin_env(&elsewhere, Call::AppDetails)[0],
        ("ARGOCD_APP_NAME".into(), "dev-main-api".into())
    );
    // As Argo CD's own tests have it (gitops-engine/pkg/utils/kube/ctl_test.go).
    let iks = argocd::Cluster {
        git_version: "v1.30.11+IKS",
        resources: &[],
    };
    assert_eq!(argocd::kube_version(&iks), "1.30.11");
    assert_eq!(argocd::escaped("some-name"), "SOME_NAME");
    // Go's os.Expand, as Env.Envsubst uses it.
    let vars = BTreeMap::from([("A".to_string(), "1".to_string())]);
    for (input, output) in [
        ("$A-${A}", "1-1"),
        ("a$", "a$"),
        ("$ b", "$ b"),
        ("${}x", "x"),
        ("${x", "x"),
        ("$-a$1b", "ab"),
        ("$$A", "$A"),
        ("$B.", "."),
    ] {
        assert_eq!(argocd::envsubst(input, &vars), output, "{input}");
    }
    assert_eq!(
        argocd::go_string("\u{8}\t\u{1}\u{2028}é"),
        r#""\b\t\u0001\u2028é""#
    );
}

#[test]
fn an_application_without_parameters_gets_null_and_renders() {
    // Issue 14, the exact bug: Argo CD sends `ARGOCD_APP_PARAMETERS=null` for every
    // Application without parameters (Go's json.Marshal of a nil list); kgen exited 2
    // with "invalid type: null, expected a sequence".
    let p = plugin_platform();
    assert_eq!(p.kgen(&["render"]).code, 0);
    let expected = committed(&p, "dev", "api")
        .into_values()
        .collect::<Vec<_>>()
        .join("---\n");
    let app = application("dev", "api");
    // `parameters: []` in the Application arrives the same way (protobuf drops it).
    let mut empty_list = app.clone();
    empty_list["spec"]["source"]["plugin"]["parameters"] = serde_json::json!([]);
    for app in [&app, &empty_list] {
        for call in [Call::Manifests, Call::AppDetails] {
            let env = argocd::plugin_env(app, call);
            let params: Vec<_> = env
                .iter()
                .filter(|(k, _)| k == "ARGOCD_APP_PARAMETERS" || k.starts_with("PARAM_"))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert_eq!(params, [("ARGOCD_APP_PARAMETERS", "null")]);
        }
        let out = generate(p.path(), app);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
        assert_eq!(out.stdout, expected);
        let out = cmp(p.path(), "parameters", app);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
        let list: Vec<Announcement> = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(list[0].string.as_deref(), Some("dev"));
        assert_eq!(list[1].string.as_deref(), Some("api"));
    }
}

#[test]
fn warnings_go_to_stderr_and_do_not_fail_the_application() {
    // MINIMAL has no probes: policy warnings, which Argo CD shows only for failed runs.
    let p = Platform::new(&format!("{MINIMAL}\n[argocd]\nmode = \"plugin\"\n"), &[]);
    let render = p.kgen(&["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    let out = generate(p.path(), &application("dev", "api"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        committed(&p, "dev", "api")
            .into_values()
            .collect::<Vec<_>>()
            .join("---\n")
    );
    assert!(
        out.stderr.starts_with(
            "warning[KG202]: container `api` has no liveness probe\n --> platform.toml:9:11\n"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
}

#[test]
fn absent_empty_or_empty_list_parameters_are_no_parameters() {
    let p = plugin_platform();
    assert_eq!(p.kgen(&["render"]).code, 0);
    let expected = committed(&p, "dev", "api")
        .into_values()
        .collect::<Vec<_>>()
        .join("---\n");
    let selection = [
        ("ARGOCD_ENV_KGEN_ENV", "dev"),
        ("ARGOCD_ENV_KGEN_SERVICE", "api"),
    ];
    for params in [None, Some("null"), Some("[]"), Some("")] {
        let mut vars = selection.to_vec();
        vars.extend(params.map(|v| ("ARGOCD_APP_PARAMETERS", v)));
        let out = by_hand(p.path(), "generate", &vars);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{params:?}");
        assert_eq!(out.stdout, expected, "{params:?}");
        let out = by_hand(p.path(), "parameters", &vars);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{params:?}");
        let list: Vec<Announcement> = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(list[0].string.as_deref(), Some("dev"), "{params:?}");
    }
}

#[test]
fn param_variables_alone_select_the_application() {
    let p = plugin_platform();
    assert_eq!(p.kgen(&["render"]).code, 0);
    let expected = committed(&p, "dev", "api")
        .into_values()
        .collect::<Vec<_>>()
        .join("---\n");
    let vars = [("PARAM_ENV", "dev"), ("PARAM_SERVICE", "api")];
    let out = by_hand(p.path(), "generate", &vars);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(out.stdout, expected);
    let out = by_hand(p.path(), "parameters", &vars);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let list: Vec<Announcement> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(list[0].string.as_deref(), Some("dev"));
    assert_eq!(list[1].string.as_deref(), Some("api"));
    // They name themselves in errors.
    let out = by_hand(
        p.path(),
        "generate",
        &[("PARAM_ENV", "prd"), ("PARAM_SERVICE", "api")],
    );
    assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("kgen: error: PARAM_ENV: unknown environment `prd`"),
        "{}",
        out.stderr
    );
    // Agreeing with the variables Argo CD sets from plugin.env.
    let mut vars = vars.to_vec();
    vars.extend([
        ("ARGOCD_ENV_KGEN_ENV", "dev"),
        ("ARGOCD_ENV_KGEN_SERVICE", "api"),
    ]);
    let out = by_hand(p.path(), "generate", &vars);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(out.stdout, expected);
}

#[test]
fn param_variables_that_disagree_with_the_json_are_refused() {
    let p = plugin_platform();
    assert_eq!(p.kgen(&["render"]).code, 0);
    let json = r#"[{"name":"env","string":"dev"},{"name":"service","string":"api"}]"#;
    for sub in ["generate", "parameters"] {
        let out = by_hand(
            p.path(),
            sub,
            &[
                ("ARGOCD_APP_PARAMETERS", json),
                ("PARAM_ENV", "prod"),
                ("PARAM_SERVICE", "api"),
            ],
        );
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (2, "", "kgen: error: PARAM_ENV is `prod` but parameter `env` in ARGOCD_APP_PARAMETERS is `dev`; Argo CD sets both from the Application's spec.source.plugin.parameters, so one of them was set elsewhere (the sidecar container's env, which the plugin server passes on, or a hand-run)\n"),
            "{sub}"
        );
    }
    // A PARAM_SERVICE left in the sidecar container's env: the plugin server passes
    // it on, next to the `null` of an Application without parameters.
    let app = application("dev", "api");
    for sub in ["generate", "parameters"] {
        let out = cmp_in_sidecar(p.path(), sub, &app, &[("PARAM_SERVICE", "aux")]);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (2, "", "kgen: error: PARAM_SERVICE is `aux` but ARGOCD_APP_PARAMETERS sets no parameter `service`; Argo CD sets both from the Application's spec.source.plugin.parameters, so PARAM_SERVICE was set elsewhere (the sidecar container's env, which the plugin server passes on, or a hand-run): remove it, or set the parameter `service` in the Application\n"),
            "{sub}"
        );
    }
    // The same variable set by the Application's parameter replaces the container's
    // (the plugin server appends the request's variables; the last value wins).
    let app = application_with(&[], &[("env", "dev"), ("service", "api")]);
    let out = cmp_in_sidecar(p.path(), "generate", &app, &[("PARAM_SERVICE", "aux")]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
fn plugin_mode_objects_conform_to_upstream_crd_schemas() {
    let Some(mut schemas) = kgen::schema_dir::upstream_schema_dir() else {
        return; // upstream_schema_dir printed why it is skipping
    };
    let p = plugin_platform();
    let ws = kgen::Workspace::load(&p.path().join("platform.toml")).unwrap();
    let (_, objects) = kgen::compile::compile_with_objects(&ws, &[]).unwrap();
    let set = objects
        .iter()
        .find(|o| o.path == "argocd/dev/applicationset-dev.yaml")
        .unwrap();
    assert_eq!(
        set.value["spec"]["template"]["spec"]["source"]["plugin"]["name"],
        format!("kgen-{}", env!("CARGO_PKG_VERSION"))
    );
    for o in &objects {
        if o.value["apiVersion"]
            .as_str()
            .unwrap_or("")
            .starts_with("argoproj.io/")
        {
            if let Err(problems) = schemas.validate(&o.value) {
                panic!("{}: {problems:#?}", o.path);
            }
        }
    }
}

#[test]
fn committed_mode_is_the_default() {
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render"]).code, 0);
    let set = p.read("generated/argocd/dev/applicationset-dev.yaml");
    assert!(
        set.contains("        path: generated/dev/{{.service}}\n"),
        "{set}"
    );
    assert!(!set.contains("plugin"), "{set}");
    let bad = Platform::new(&format!("{MINIMAL}\n[argocd]\nmode = \"plugins\"\n"), &[]);
    let out = bad.kgen(&["render"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown value `plugins`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `plugin`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn plugin_yaml_is_platform_level() {
    let p = Platform::new(
        &format!(
            "{MINIMAL}\n[environments.prod]\nsync = \"manual\"\ncluster = \"https://prod.example.com\"\n"
        ),
        &[],
    );
    assert_eq!(p.kgen(&["render"]).code, 0);
    let plugin = p.read("generated/argocd/cmp/plugin.yaml");
    assert!(
        plugin.starts_with("# Generated by kgen from platform.toml. Do not edit"),
        "{plugin}"
    );
    let doc: serde_json::Value = serde_norway::from_str(&plugin).unwrap();
    assert_eq!(doc["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(doc["kind"], "ConfigManagementPlugin");
    assert_eq!(doc["metadata"]["name"], "kgen");
    assert_eq!(doc["spec"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["spec"]["generate"]["command"],
        serde_json::json!(["kgen", "cmp", "generate"])
    );
    // No discovery rule: every Application kgen writes names the plugin, and Argo CD
    // then neither asks the plugin first nor streams it other Applications' sources
    // (util/app/discovery/discovery.go, `cmpSupports`).
    assert!(doc["spec"].get("discover").is_none(), "{plugin}");
    assert_eq!(
        doc["spec"]["parameters"]["dynamic"]["command"],
        serde_json::json!(["kgen", "cmp", "parameters"])
    );

    // `render --env` neither deletes it, nor writes it.
    let out = p.kgen(&["render", "--env", "dev"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(p.read("generated/argocd/cmp/plugin.yaml"), plugin);
    std::fs::remove_file(p.path().join("generated/argocd/cmp/plugin.yaml")).unwrap();
    assert_eq!(p.kgen(&["render", "--env", "prod"]).code, 0);
    assert!(!p.exists("generated/argocd/cmp/plugin.yaml"));
    assert_eq!(p.kgen(&["render", "--check", "--env", "dev"]).code, 0);
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("missing: generated/argocd/cmp/plugin.yaml\n"),
        "{}",
        out.stdout
    );
    assert_eq!(p.kgen(&["render"]).code, 0);
    assert_eq!(p.read("generated/argocd/cmp/plugin.yaml"), plugin);

    // `cmp` cannot be an environment: its Argo CD directory would be the plugin's.
    let bad = Platform::new(
        &MINIMAL.replace("[environments.dev]", "[environments.cmp]"),
        &[],
    );
    let out = bad.kgen(&["render"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("`cmp` cannot be an environment name"),
        "{}",
        out.stderr
    );
}

#[test]
fn deploy_plugin_yaml_is_the_rendered_one() {
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render"]).code, 0);
    let shipped =
        std::fs::read_to_string(repo_root().join("deploy/argocd-cmp/plugin.yaml")).unwrap();
    assert_eq!(
        shipped,
        p.read("generated/argocd/cmp/plugin.yaml"),
        "deploy/argocd-cmp/plugin.yaml is stale: copy generated/argocd/cmp/plugin.yaml over it"
    );
}

/// A stand-in for the `argocd-repo-server` Deployment of Argo CD's install manifest
/// (the parts the component touches); `scripts/ci-kustomize.sh` uses it too.
const REPO_SERVER: &str = include_str!("fixtures/argocd-repo-server.yaml");

#[test]
fn kustomize_component_adds_the_sidecar() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("skipping kustomize_component_adds_the_sidecar: kubectl is not installed");
        return;
    }
    let kustomize = |dir: &Path| {
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        documents(&String::from_utf8(out.stdout).unwrap())
    };
    // The component on its own: the plugin's ConfigMap.
    let deploy = repo_root().join("deploy/argocd-cmp");
    let docs = kustomize(&deploy);
    assert_eq!(docs.len(), 1);
    let plugin = std::fs::read_to_string(deploy.join("plugin.yaml")).unwrap();
    assert_eq!(docs[0]["kind"], "ConfigMap");
    assert_eq!(docs[0]["data"]["plugin.yaml"], plugin.as_str());

    // In an Argo CD installation.
    let t = Platform::empty();
    for f in [
        "kustomization.yaml",
        "repo-server-patch.yaml",
        "plugin.yaml",
    ] {
        t.write(
            &format!("argocd-cmp/{f}"),
            &std::fs::read_to_string(deploy.join(f)).unwrap(),
        );
    }
    t.write("install/repo-server.yaml", REPO_SERVER);
    t.write(
        "install/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: argocd\nresources:\n- repo-server.yaml\ncomponents:\n- ../argocd-cmp\n",
    );
    let docs = kustomize(&t.path().join("install"));
    let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let cm_name = cm["metadata"]["name"].as_str().unwrap();
    assert!(cm_name.starts_with("kgen-cmp-plugin-"), "{cm_name}");
    assert_eq!(cm["metadata"]["namespace"], "argocd");
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 2);
    let kgen = containers.iter().find(|c| c["name"] == "kgen").unwrap();
    assert_eq!(
        kgen["command"],
        serde_json::json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert_eq!(kgen["securityContext"]["runAsUser"], 999);
    // The stand-in's sidecar environment is the patch's (plus what Kubernetes adds).
    let env: Vec<(&str, &str)> = kgen["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    let stand_in: Vec<(&str, &str)> = argocd::SIDECAR_ENV
        .iter()
        .copied()
        .filter(|(k, _)| !k.starts_with("KUBERNETES_") && *k != "HOSTNAME")
        .collect();
    assert_eq!(env, stand_in);
    assert_eq!(kgen["securityContext"]["runAsNonRoot"], true);
    let image = kgen["image"].as_str().unwrap();
    assert!(
        image.ends_with(&format!(":{}", env!("CARGO_PKG_VERSION"))),
        "{image}"
    );
    let mounts: BTreeMap<&str, (&str, Option<&str>)> = kgen["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["mountPath"].as_str().unwrap(),
                (m["name"].as_str().unwrap(), m["subPath"].as_str()),
            )
        })
        .collect();
    assert_eq!(mounts["/var/run/argocd"], ("var-files", None));
    assert_eq!(mounts["/home/argocd/cmp-server/plugins"], ("plugins", None));
    assert_eq!(
        mounts["/home/argocd/cmp-server/config/plugin.yaml"],
        ("kgen-cmp-plugin", Some("plugin.yaml"))
    );
    assert_eq!(mounts["/tmp"].0, "kgen-cmp-tmp");
    let volumes = pod["volumes"].as_array().unwrap();
    let volume = |name: &str| volumes.iter().find(|v| v["name"] == name).unwrap();
    assert_eq!(volume("kgen-cmp-plugin")["configMap"]["name"], cm_name);
    assert!(volume("kgen-cmp-tmp").get("emptyDir").is_some());
    // The repo-server's own /tmp is not shared with the sidecar.
    let repo_server = containers
        .iter()
        .find(|c| c["name"] == "argocd-repo-server")
        .unwrap();
    assert!(!repo_server["volumeMounts"]
        .to_string()
        .contains("kgen-cmp-tmp"));
}

/// Copies the file or directory `rel` of `from` into `to`, when it exists.
fn copy_path(from: &Path, to: &Path, rel: &str) {
    let src = from.join(rel);
    if src.is_dir() {
        for e in std::fs::read_dir(&src).unwrap() {
            let name = e.unwrap().file_name();
            copy_path(from, to, &format!("{rel}/{}", name.to_string_lossy()));
        }
    } else if src.is_file() {
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
    }
}

/// The ApplicationSet's `manifest-generate-paths` lists every path the plugin reads:
/// Argo CD refreshes an application only when a commit touches one of them (with
/// webhooks: `util/app/path/path.go`, `AppFilesHaveChanged`). Proved the strong way:
/// a directory holding only those paths generates the same manifests as the whole
/// platform, for every application, so a change anywhere else cannot change them.
/// The escape-hatch example reads hand-written manifests, a patch file and a schema
/// directory besides platform.toml and the overlay.
#[test]
fn manifest_generate_paths_cover_everything_the_plugin_reads() {
    let p = Platform::empty();
    let example = repo_root().join("examples/escape-hatch");
    for top in [
        "platform.toml",
        "overlays",
        "manifests",
        "patches",
        "schemas",
    ] {
        copy_path(&example, p.path(), top);
    }
    let text = p.read("platform.toml") + "\n[argocd]\nmode = \"plugin\"\n";
    p.write("platform.toml", &text);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for env in ["staging", "prod"] {
        let set = p.read(&format!("generated/argocd/main/applicationset-{env}.yaml"));
        let expected = format!("platform.toml;overlays/{env}.toml;manifests/_all;manifests/{env};patches/storefront-drain.yaml;schemas");
        assert!(
            set.contains(&format!(
                "        argocd.argoproj.io/manifest-generate-paths: {expected}\n"
            )),
            "{set}"
        );
        let only = tempfile::tempdir().unwrap();
        for rel in expected.split(';') {
            copy_path(p.path(), only.path(), rel);
        }
        let services: Vec<String> = std::fs::read_dir(p.path().join("generated").join(env))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(services.len() >= 2, "{services:?}");
        for service in &services {
            let whole = generate(p.path(), &application(env, service));
            let listed = generate(only.path(), &application(env, service));
            assert_eq!(whole.code, 0, "{env}/{service}: {}", whole.stderr);
            assert_eq!(listed.code, 0, "{env}/{service}: {}", listed.stderr);
            assert_eq!(listed.stdout, whole.stdout, "{env}/{service}");
            assert_eq!(listed.stderr, whole.stderr, "{env}/{service}");
        }
    }
}
