//! Security properties (docs/security.md): secrets are refused wherever they are
//! written and never echoed; templates cannot reach files, the environment or the
//! network; no input makes kgen read or write outside the platform directory and
//! `generated/`.

mod common;

use std::path::Path;

use common::{Platform, MINIMAL};
use kgen::diagnostic::{self, Format};
use kgen::template::Templates;
use kgen::workspace::{InputFiles, Workspace};

// ---------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------

/// The red-team corpus: values that are secrets wherever they appear.
const SECRETS: &[(&str, &str)] = &[
    ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
    ("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "a GitHub token"),
    (
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
        "a GitHub token",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAzQ7b\n-----END RSA PRIVATE KEY-----",
        "a private key",
    ),
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "a JSON Web Token",
    ),
    (
        "postgres://app:s3cr3tpw@db.internal:5432/app",
        "a password inside a URL",
    ),
    ("xoxb-123456789012-abcdefghijkl", "a Slack token"),
    ("sk_live_abcdefghij0123456789", "a Stripe secret key"),
    ("Bearer abcdef0123456789abcdef", "a bearer token"),
];

/// High-entropy values: secrets under a secret-ish name (env, config, vars).
const KEYED: &[(&str, &str)] = &[
    (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("DB_PASSWORD", "hunter2-but-longer"),
    ("SIGNING_KEY", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ("client_secret", "Zx8vQ2mN7pL4kJ9hG6fD3sA1"),
];

/// A platform that sets every free-text field kgen knows of (besides what the
/// repository's own platform uses), used as a base for the red-team corpus.
const FULL: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
repo_path = "platforms/acme"
revision = "main"
registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
namespace = "{{ service }}"
aws_region = "eu-west-1"

[defaults]
probes = { liveness = "/health", readiness = "/ready" }
resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "500m", memory = "256Mi" } }

[environments.dev]
cluster = "https://kubernetes.default.svc"
project = "dev"
sync = "auto"
vars = { aws_account = "111111111111", domain = "dev.acme.io" }

[services.api]
image = "acme/api"
tag = "1.0.0"
digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
namespace = "api-{{ env.name }}"
env = { LOG_LEVEL = "info", PEER = "http://db.db.svc.cluster.local:5432" }
config = { APP_NAME = "api", ENVIRONMENT = "{{ env.name }}" }
iam_role = "arn:aws:iam::{{ env.aws_account }}:role/{{ env.name }}-api"
secrets = [{ name = "db-password", from = "secretsmanager", key = "{{ env.name }}/api/db", json_key = "password" }]
metrics = { path = "/metrics", interval = "30s" }

[monitoring]
chart_version = "77.0.0"
chart_repo = "https://prometheus-community.github.io/helm-charts"
namespace = "monitoring"
retention = "15d"
prometheus_storage = "200Gi"
grafana_storage = "20Gi"
alertmanager_storage = "10Gi"
storage_class = "gp3"

[argocd]
namespace = "argocd"
projects = ["dev"]
"#;

const FULL_OVERLAY: &str = r#"[environment]
cluster = "https://dev.eks.acme.io"
vars = { extra = "x" }

[services.api]
tag = "1.0.1"
env = { LOG_LEVEL = "debug" }
"#;

fn parse(platform: &str, overlays: &[(&str, &str)]) -> kgen::Result<Workspace> {
    Workspace::parse(
        "/platform".into(),
        InputFiles {
            platform: ("platform.toml".into(), platform.to_string()),
            overlays: overlays
                .iter()
                .map(|(e, t)| (e.to_string(), format!("overlays/{e}.toml"), t.to_string()))
                .collect(),
        },
    )
}

fn compile(platform: &str, overlays: &[(&str, &str)]) -> kgen::Result<kgen::compile::Compiled> {
    let ws = parse(platform, overlays)?;
    kgen::compile::compile(&ws, &[])
}

/// Byte spans of every string value in a TOML text, with its dotted path.
fn string_values(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    fn value(v: &toml_edit::Value, path: String, out: &mut Vec<(std::ops::Range<usize>, String)>) {
        match v {
            toml_edit::Value::String(s) => out.push((s.span().unwrap(), path)),
            toml_edit::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    value(v, format!("{path}[{i}]"), out);
                }
            }
            toml_edit::Value::InlineTable(t) => {
                for (k, v) in t.iter() {
                    value(v, format!("{path}.{k}"), out);
                }
            }
            _ => {}
        }
    }
    fn table(t: &toml_edit::Table, path: &str, out: &mut Vec<(std::ops::Range<usize>, String)>) {
        for (k, item) in t.iter() {
            let p = if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            };
            match item {
                toml_edit::Item::Value(v) => value(v, p, out),
                toml_edit::Item::Table(t) => table(t, &p, out),
                toml_edit::Item::ArrayOfTables(a) => {
                    for t in a.iter() {
                        table(t, &p, out);
                    }
                }
                toml_edit::Item::None => {}
            }
        }
    }
    let doc = toml_edit::Document::parse(text).unwrap();
    let mut out = Vec::new();
    table(doc.as_table(), "", &mut out);
    out
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    toml_edit::Value::from(value).to_string().trim().to_string()
}

/// Puts every secret of the corpus into every string value of `files` (one at a
/// time) and checks that each is refused, located, and never shown.
fn red_team(platform: &str, overlays: &[(&str, &str)]) -> usize {
    assert!(
        compile(platform, overlays).is_ok(),
        "the base platform must be valid: {:?}",
        compile(platform, overlays).err()
    );
    let mut cases = 0;
    for file in 0..=overlays.len() {
        let text = if file == 0 {
            platform
        } else {
            overlays[file - 1].1
        };
        for (span, path) in string_values(text) {
            for (secret, what) in SECRETS {
                let mutated = format!(
                    "{}{}{}",
                    &text[..span.start],
                    toml_string(secret),
                    &text[span.end..]
                );
                let mut ov: Vec<(&str, &str)> = overlays.to_vec();
                let p = if file == 0 {
                    mutated.as_str()
                } else {
                    ov[file - 1].1 = mutated.as_str();
                    platform
                };
                let where_ = format!("{secret:?} in {path} (file {file})");
                let inv = match compile(p, &ov) {
                    Ok(_) => panic!("{where_} was accepted"),
                    Err(kgen::Error::Invalid(inv)) => inv,
                    Err(other) => panic!("{where_}: {other}"),
                };
                let d = inv
                    .diagnostics
                    .iter()
                    .find(|d| d.code == "KG010")
                    .unwrap_or_else(|| panic!("{where_}: no KG010 among {:?}", inv.diagnostics));
                assert!(d.message.contains(what), "{where_}: {}", d.message);
                let origin = d.origin.as_ref().expect("located");
                assert_eq!(origin.span.start, span.start, "{where_}: wrong location");
                for format in [Format::Human, Format::Json, Format::Github] {
                    let out = diagnostic::render(&inv.diagnostics, &inv.sources, format, false);
                    for line in secret.lines() {
                        assert!(
                            !out.contains(line),
                            "{where_} is echoed ({format:?}):\n{out}"
                        );
                    }
                }
                cases += 1;
            }
        }
    }
    cases
}

#[test]
fn secrets_in_every_field_of_the_example_platform_are_refused() {
    let p = Platform::example();
    let platform = p.read("platform.toml");
    let mut overlays = Vec::new();
    for env in ["dev", "staging", "prod"] {
        if p.exists(&format!("overlays/{env}.toml")) {
            overlays.push((env, p.read(&format!("overlays/{env}.toml"))));
        }
    }
    let ov: Vec<(&str, &str)> = overlays.iter().map(|(e, t)| (*e, t.as_str())).collect();
    let cases = red_team(&platform, &ov);
    assert!(cases > 100, "only {cases} cases");
}

#[test]
fn secrets_in_every_free_text_field_are_refused() {
    let cases = red_team(FULL, &[("dev", FULL_OVERLAY)]);
    assert!(cases > 300, "only {cases} cases");
}

#[test]
fn secrets_in_non_string_fields_and_keys_are_refused_without_echo() {
    for (text, secret) in [
        // A type error would echo the value: the secret check comes first.
        (
            MINIMAL.replace(
                "port = 8080",
                "port = \"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\"",
            ),
            "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        ),
        (
            MINIMAL.replace("sync = \"auto\"", "sync = \"AKIAIOSFODNN7EXAMPLE\""),
            "AKIAIOSFODNN7EXAMPLE",
        ),
        // An invalid name would echo it too.
        (
            MINIMAL.replace(
                "[services.api]",
                "[services.xoxb-123456789012-abcdefghijkl]",
            ),
            "xoxb-123456789012-abcdefghijkl",
        ),
        // A syntax error shows its line.
        (
            MINIMAL.replace(
                "tag = \"1.0.0\"",
                "tag = \"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            ),
            "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        ),
    ] {
        let err =
            match parse(&text, &[]).and_then(|ws| kgen::compile::compile(&ws, &[]).map(|_| ())) {
                Err(kgen::Error::Invalid(inv)) => inv,
                other => panic!("{secret}: expected invalid input, got {:?}", other.err()),
            };
        for format in [Format::Human, Format::Json, Format::Github] {
            let out = diagnostic::render(&err.diagnostics, &err.sources, format, false);
            assert!(!out.contains(secret), "{secret} is echoed:\n{out}");
        }
    }
}

#[test]
fn high_entropy_values_under_secret_names_are_refused() {
    for (key, value) in KEYED {
        for table in ["env", "config"] {
            let text = MINIMAL.replace(
                "port = 8080",
                &format!("{table} = {{ {key} = {} }}", toml_string(value)),
            );
            let err = match compile(&text, &[]) {
                Err(kgen::Error::Invalid(inv)) => inv,
                other => panic!("{key} in {table}: {:?}", other.err()),
            };
            assert!(err.diagnostics.iter().any(|d| d.code == "KG010"), "{key}");
            let out = diagnostic::render(&err.diagnostics, &err.sources, Format::Human, false);
            assert!(!out.contains(value), "{key} is echoed:\n{out}");
        }
    }
}

#[test]
fn a_template_cannot_assemble_a_secret() {
    let text = MINIMAL.replace(
        "port = 8080",
        // Pieces under 8 characters: no piece is judged a secret by itself.
        "env = { X = \"{{ 'ghp_' }}{{ 'aBcDeFg' }}{{ 'HiJkLmN' }}{{ 'oPqRsTu' }}{{ 'VwXyZ01' }}{{ '2345678' }}{{ '9' }}\" }",
    );
    let err = match compile(&text, &[]) {
        Err(kgen::Error::Invalid(inv)) => inv,
        other => panic!("{:?}", other.err()),
    };
    let d = &err.diagnostics[0];
    assert_eq!(d.code, "KG010", "{d:?}");
    assert!(
        d.message
            .contains("renders to what looks like a secret (a GitHub token)"),
        "{}",
        d.message
    );
}

#[test]
fn legitimate_look_alikes_pass() {
    let text = FULL.replace(
        "env = { LOG_LEVEL = \"info\", PEER = \"http://db.db.svc.cluster.local:5432\" }",
        "env = { KMS_KEY_ARN = \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\", \
         PUBLIC_KEY_ID = \"3AA5C34371567BD2\", STRIPE_PUBLISHABLE_KEY = \"pk_live_51HabcdefghijABCDEFGHIJ\", \
         DB_PASSWORD_FILE = \"/mnt/secrets-store/db-password\", DB_URL = \"postgres://db.internal:5432/app\", \
         ROLE = \"arn:aws:iam::123456789012:role/api\", IMAGE_DIGEST = \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", \
         REGISTRY = \"123456789012.dkr.ecr.eu-west-1.amazonaws.com\", COMMIT = \"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12\" }",
    )
    .replace(
        "key = \"{{ env.name }}/api/db\"",
        "key = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api/db-AbCdEf\"",
    )
    .replace("tag = \"1.0.0\"", "tag = \"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12\"");
    let compiled = compile(&text, &[("dev", FULL_OVERLAY)]);
    assert!(
        compiled.is_ok(),
        "{:?}",
        compiled.err().map(|e| match e {
            kgen::Error::Invalid(inv) =>
                diagnostic::render(&inv.diagnostics, &inv.sources, Format::Human, false),
            other => other.to_string(),
        })
    );
}

#[test]
fn the_binary_never_prints_a_secret_in_any_format() {
    let secret = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    let p = Platform::new(
        &MINIMAL.replace("image = \"acme/api\"", &format!("image = \"{secret}\"")),
        &[],
    );
    for format in ["human", "json", "github"] {
        for cmd in ["render", "validate"] {
            let out = p.kgen(&[cmd, "--format", format]);
            assert_eq!(out.code, 2, "{cmd} --format {format}: {}", out.stderr);
            assert!(out.stderr.contains("KG010") || out.stdout.contains("KG010"));
            assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
        }
    }
    assert!(!p.exists("generated"));
}

// ---------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------

fn render(source: &str) -> Result<String, String> {
    let ctx = minijinja::context! {
        service => "api",
        env => minijinja::context! { name => "dev", big => "x".repeat(1000) },
    };
    Templates::new().render(source, &ctx).map_err(|e| e.message)
}

#[test]
fn templates_cannot_read_files() {
    for src in [
        "{% include '/etc/passwd' %}",
        "{% include 'platform.toml' %}",
        "{% import '/etc/passwd' as x %}",
        "{% from '/etc/passwd' import x %}",
        "{% extends '/etc/passwd' %}",
        "{%- include \"../../.git/config\" -%}",
    ] {
        let err = render(src).unwrap_err();
        assert!(
            err.contains("is not available in kgen templates"),
            "{src}: {err}"
        );
    }
}

#[test]
fn templates_cannot_read_the_environment() {
    std::env::set_var("KGEN_TEST_SECRET", "leaked");
    for src in [
        "{{ env.KGEN_TEST_SECRET }}",
        "{{ env.HOME }}",
        "{{ KGEN_TEST_SECRET }}",
        "{{ env['PATH'] }}",
        "{{ getenv('HOME') }}",
        "{{ environ }}",
        "{{ debug() }}",
    ] {
        let out = render(src);
        assert!(out.is_err(), "{src} rendered {out:?}");
        assert!(!out.unwrap_err().contains("leaked"));
    }
}

#[test]
fn templates_have_no_network_or_other_functions() {
    for src in [
        "{{ fetch('http://169.254.169.254/latest/meta-data/') }}",
        "{{ url('http://example.com') }}",
        "{{ lipsum() }}",
        "{{ namespace() }}",
        "{{ cycler(1, 2) }}",
        "{{ dict(a=1) }}",
        "{{ 'x'|format(1) }}",
        "{{ 'x'|center(1000000000) }}",
        "{{ 'x'|indent(1000000000) }}",
        "{{ [1]|batch(1000000000, 'x') }}",
    ] {
        let err = render(src).unwrap_err();
        assert!(err.contains("unknown"), "{src}: {err}");
    }
    // What is documented works.
    assert_eq!(
        render("{{ env.name|upper }}-{{ service|replace('a', 'A') }}").unwrap(),
        "DEV-Api"
    );
    assert_eq!(
        render("{% if env.name == 'dev' %}d{% else %}o{% endif %}{% for i in range(3) %}{{ i }}{% endfor %}").unwrap(),
        "d012"
    );
}

#[test]
fn template_fuel_and_output_limits() {
    let err =
        render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
            .unwrap_err();
    assert!(err.contains("ran for too long"), "{err}");
    let err = render("{% for i in range(1000) %}{{ env.big }}{% endfor %}").unwrap_err();
    assert!(err.contains("more than the limit of 65536 bytes"), "{err}");
    let err = render(&format!(
        "{{{{ '{}' }}}}",
        "x".repeat(kgen::template::MAX_SOURCE)
    ))
    .unwrap_err();
    assert!(err.contains("more than the limit of 8192"), "{err}");
}

// ---------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(unix)]
#[test]
fn a_platform_file_linked_outside_the_directory_is_not_read() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("credentials");
    std::fs::write(
        &secret,
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .unwrap();
    let p = Platform::empty();
    symlink(&secret, &p.path().join("platform.toml"));
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("outside the platform directory"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wJalrXUtnFEMI"), "{}", out.stderr);
    assert!(!p.exists("generated"));
}

#[cfg(unix)]
#[test]
fn overlays_linked_outside_the_directory_are_not_read() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("dev.toml"),
        "[services.api]\ntag = \"6.6.6\"\n",
    )
    .unwrap();
    // A linked overlay file.
    let p = Platform::new(MINIMAL, &[]);
    std::fs::create_dir(p.path().join("overlays")).unwrap();
    symlink(
        &outside.path().join("dev.toml"),
        &p.path().join("overlays/dev.toml"),
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("overlays/dev.toml is a symbolic link to"),
        "{}",
        out.stderr
    );
    // A linked overlays directory.
    let p = Platform::new(MINIMAL, &[]);
    symlink(outside.path(), &p.path().join("overlays"));
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("outside the platform directory"),
        "{}",
        out.stderr
    );
    assert!(!p.exists("generated"));
}

#[cfg(unix)]
#[test]
fn links_inside_the_platform_directory_are_followed() {
    let p = Platform::new(MINIMAL, &[]);
    p.write("shared/dev.toml", "[services.api]\ntag = \"1.0.1\"\n");
    std::fs::create_dir(p.path().join("overlays")).unwrap();
    symlink(
        Path::new("../shared/dev.toml"),
        &p.path().join("overlays/dev.toml"),
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(p
        .read("generated/dev/api/deployment.yaml")
        .contains("1.0.1"));
}

#[cfg(unix)]
#[test]
fn platform_through_a_linked_directory_writes_next_to_the_real_files() {
    let p = Platform::new(MINIMAL, &[]);
    let other = tempfile::tempdir().unwrap();
    symlink(p.path(), &other.path().join("link"));
    let out = common::kgen_in(
        other.path(),
        &["render", "--platform", "link/platform.toml"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(p.exists("generated/dev/api/deployment.yaml"));
}

#[cfg(unix)]
#[test]
fn a_linked_generated_directory_is_refused() {
    let elsewhere = tempfile::tempdir().unwrap();
    let p = Platform::new(MINIMAL, &[]);
    symlink(elsewhere.path(), &p.path().join("generated"));
    for args in [&["render"][..], &["render", "--check"]] {
        let out = p.kgen(args);
        assert_eq!(out.code, 3, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("is a symbolic link"), "{}", out.stderr);
    }
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn a_linked_directory_inside_generated_is_never_followed() {
    let elsewhere = tempfile::tempdir().unwrap();
    let p = Platform::new(MINIMAL, &[]);
    std::fs::create_dir(p.path().join("generated")).unwrap();
    symlink(elsewhere.path(), &p.path().join("generated/dev"));
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("generated/dev is a symbolic link"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "wrote through the link"
    );
}

#[cfg(unix)]
#[test]
fn a_linked_file_inside_generated_is_never_written_through() {
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("victim.yaml");
    std::fs::write(
        &target,
        "# Generated by kgen from x. Do not edit\nkeep: me\n",
    )
    .unwrap();
    let p = Platform::new(MINIMAL, &[]);
    std::fs::create_dir_all(p.path().join("generated/dev/api")).unwrap();
    symlink(&target, &p.path().join("generated/dev/api/deployment.yaml"));
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("is a symbolic link"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "# Generated by kgen from x. Do not edit\nkeep: me\n"
    );
}

#[test]
fn names_cannot_leave_the_tree() {
    for (from, to) in [
        ("[services.api]", "[services.\"../../etc\"]"),
        ("[services.api]", "[services.\"a/b\"]"),
        ("[environments.dev]", "[environments.\"..\"]"),
        ("[environments.dev]", "[environments.\"/tmp/x\"]"),
        ("[platform]", "[platform]\nrepo_path = \"../../..\""),
    ] {
        let text = MINIMAL.replace(from, to);
        match compile(&text, &[]) {
            Err(kgen::Error::Invalid(_)) => {}
            other => panic!(
                "{to}: {:?}",
                other.map(|c| c.tree.files.keys().cloned().collect::<Vec<_>>())
            ),
        }
    }
}

// ---------------------------------------------------------------------------------
// The Argo CD plugin
// ---------------------------------------------------------------------------------

/// `kgen cmp generate` as the repo-server sidecar runs it, for `api` in `dev`.
fn plugin_generate(dir: &Path) -> common::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(["cmp", "generate"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ARGOCD_APP_NAME", "dev-api")
        .env("ARGOCD_APP_SOURCE_PATH", ".")
        .env("ARGOCD_ENV_KGEN_ENV", "dev")
        .env("ARGOCD_ENV_KGEN_SERVICE", "api")
        .output()
        .unwrap();
    common::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn the_plugin_never_prints_a_secret() {
    let p = Platform::new(MINIMAL, &[]);
    let ok = plugin_generate(p.path());
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    for (secret, _) in SECRETS {
        let p = Platform::new(
            &MINIMAL.replace(
                "tag = \"1.0.0\"",
                &format!("tag = \"1.0.0\"\nenv = {{ X = {} }}", toml_string(secret)),
            ),
            &[],
        );
        let out = plugin_generate(p.path());
        assert_ne!(out.code, 0, "{secret}: {}", out.stdout);
        assert!(out.stderr.contains("KG010"), "{secret}: {}", out.stderr);
        for line in secret.lines() {
            assert!(
                !out.stdout.contains(line) && !out.stderr.contains(line),
                "{secret} printed"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn the_plugin_reads_no_overlay_from_outside_the_source_directory() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("dev.toml"),
        "[services.api]\ntag = \"6.6.6\"\n",
    )
    .unwrap();
    let p = Platform::new(MINIMAL, &[]);
    std::fs::create_dir(p.path().join("overlays")).unwrap();
    symlink(
        &outside.path().join("dev.toml"),
        &p.path().join("overlays/dev.toml"),
    );
    let out = plugin_generate(p.path());
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stderr.contains("outside the source directory"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("6.6.6"));
}

// ---------------------------------------------------------------------------------
// Issue 21: the promises a red team broke
// ---------------------------------------------------------------------------------

/// MINIMAL with `extra` added to `[services.api]`.
fn minimal_with(extra: &str) -> String {
    MINIMAL.replace("port = 8080", &format!("port = 8080\n{extra}"))
}

/// Item 1: a literal inside a template, and what a template renders to, are judged
/// as the same literal written plainly would be (in `config`, `env` and `vars`).
#[test]
fn template_literals_and_template_outputs_are_scanned_like_literals() {
    for extra in [
        "config = { DB_PASSWORD = \"{{ env.x | default('Tr1cky-Passw0rd-2024') }}\" }",
        "config = { TOKEN = \"{{ 'Tr1cky-Passw0rd-2024' }}\" }",
        "env = { TOKEN = \"{{ 'Tr1cky-Passw0rd-2024' }}\" }",
        "config = { SETTING = \"{{ 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }}\" }",
    ] {
        let p = Platform::new(&minimal_with(extra), &[]);
        let out = p.kgen(&["render"]);
        assert_eq!(out.code, 2, "{extra}: {}", out.stderr);
        assert!(
            out.stderr.contains("error[KG010]"),
            "{extra}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("Tr1cky"), "{extra}: {}", out.stderr);
        assert!(!p.exists("generated"), "{extra}");
    }
    // Assembled from a variable: only the rendered value shows it.
    let text = minimal_with("config = { DB_PASSWORD = \"{{ env.x }}\" }").replace(
        "sync = \"auto\"",
        "sync = \"auto\"\nvars = { x = \"hunter2-but-longer\" }",
    );
    match compile(&text, &[]) {
        Err(kgen::Error::Invalid(inv)) => assert!(
            inv.diagnostics
                .iter()
                .any(|d| d.code == "KG010" && d.message.contains("renders to")),
            "{:?}",
            inv.diagnostics
        ),
        other => panic!("accepted: {:?}", other.map(|_| ())),
    }
    // Short literals (separators, comparisons) and references still pass.
    let ok = minimal_with(
        "config = { DB_PASSWORD_FILE = \"/mnt/{{ env.name | replace('-', '_') }}\", MODE = \"{% if env.name == 'prod' %}strict{% else %}lax{% endif %}\" }",
    );
    assert!(compile(&ok, &[]).is_ok(), "{:?}", compile(&ok, &[]).err());
}

/// The red team's random key (KG022), a host (KG005) and an Azure connection string
/// used as an environment variable name (KG017/KG010).
const ECHO_BAIT: &str = "NYAAvjIrXTa9kQ2mZp7LwX4bR8sT";

/// Item 2: whichever rule fires first, no message, label, help or snippet shows a
/// secret-looking value, in any format.
#[test]
fn no_rule_echoes_a_secret_looking_value_in_any_format() {
    let cases = [
        minimal_with(&format!(
            "secrets = [{{ name = \"db\", from = \"secretsmanager\", key = \"{ECHO_BAIT}\" }}]"
        ))
        .replace("[environments.dev]", "[environments.dev]\nsecret_prefixes = [\"dev/\"]"),
        minimal_with(&format!("ingress = {{ host = \"{ECHO_BAIT}.example.com\" }}")),
        minimal_with(&format!("namespace = \"{ECHO_BAIT}-Ns\"")),
        minimal_with(
            "env = { \"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A=;EndpointSuffix=core.windows.net\" = \"x\" }",
        ),
    ];
    for text in &cases {
        let p = Platform::new(text, &[]);
        for format in ["human", "json", "github"] {
            let out = p.kgen(&["render", "--format", format]);
            assert_eq!(out.code, 2, "{text}\n{}{}", out.stdout, out.stderr);
            let all = format!("{}{}", out.stdout, out.stderr);
            assert!(!all.contains(ECHO_BAIT), "{format}:\n{all}");
            assert!(!all.contains("Zm9vYmFyYmF6"), "{format}:\n{all}");
            assert!(all.contains("KG0"), "{format}: no diagnosis:\n{all}");
        }
    }
}

/// Item 3: random values under a neutral name are refused; the look-alikes kgen must
/// accept are all accepted (no false positive in this corpus; see docs/security.md).
#[test]
fn random_values_under_neutral_names_are_refused_and_look_alikes_pass() {
    use kgen::secret_scan::scan;
    let secrets = [
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "q8Xk2LmN9pR4sT7vW1yZ3bD6fH0jK5nPa2Ze7Yc4Vb1Nx9Qw",
        "3f9a1c7e5b2d8f4a6c0e9b1d7a3f5c2e",
        "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A=",
        "xK3_mP9-qL2_vN8-tR5_wZ1-yB4_cF7",
    ];
    for s in secrets {
        assert!(scan("SETTING_VALUE", s).is_some(), "{s} passed");
    }
    let look_alikes = [
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "9fceb02",
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
        "arn:aws:iam::123456789012:role/kgen-main-api",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/kontaxa/main-api:1.2.4",
        "ghcr.io/acme/api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ3Jvb3QtY2VydGlmaWNhdGUtZm9yLXRlc3Rz\n-----END CERTIFICATE-----",
        // base64 of a PEM certificate, of a DER certificate, of an SSH public key
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJzekNDQVZtZ0F3SUJBZ0lV",
        "MIIBszCCAVmgAwIBAgIUZ3Jvb3QtY2VydGlmaWNhdGUtZm9yLXRlc3Rz",
        "AAAAC3NzaC1lZDI1NTE5AAAAIGx0a2V5cGxhY2Vob2xkZXJmb3J0ZXN0cw",
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
        "pk_live_51H8a2bC3d4E5f6G7h8I9j0K",
        "https://prometheus-community.github.io/helm-charts",
        "/mnt/secrets-store/db-password",
        "main-api-7d9f8b6c5d-x2x9z",
        "MyApplicationServiceName2024",
        "io.kontaxa.platform.MainApiApplication",
        "00000000000000000000000000000000",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "1.2.4-rc.1+build.20240101",
        "eu-west-1a,eu-west-1b,eu-west-1c",
    ];
    let false_positives: Vec<&str> = look_alikes
        .iter()
        .copied()
        .filter(|v| scan("SETTING_VALUE", v).is_some())
        .collect();
    assert!(
        false_positives.is_empty(),
        "false positives: {false_positives:?}"
    );
    // Through the whole pipeline: refused under a neutral name in config.
    let text = minimal_with("config = { SETTING_VALUE = \"3f9a1c7e5b2d8f4a6c0e9b1d7a3f5c2e\" }");
    assert!(matches!(compile(&text, &[]), Err(kgen::Error::Invalid(_))));
}

/// An RSA private key made for this test (`openssl genrsa 2048`) and used nowhere
/// else: the real shape, 25 lines of base64 between the BEGIN and END lines.
const PEM_KEY: &str = "\
-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCpjX1M/o3fbSHJ
SlmnM28+QMQR4Ivb86W/6/Z+eZ0usZzFPiPbVQzF+wKIa1Nv+WrJvETUBFYMT3zi
caEpKULHznpcOMLAus9gx8Fh3itpBKxzWW+EQh+2fqo9sDbHoFKDCieSmAZfH4HC
M+nYv3gHfSQ0+YQaH069GbjFial0WgwQYVyT/ImfwmXfjXRh2keZhwF/un/VNaGz
+10lnNsEt4wLkZhVZjHW8SLRq6ADBE209vel1LwUYBVRTGqGmIR+Migs6EFJvJrt
XtUyq0LZ/N0hGzzFl60or7juQbgw9CcQLgYVABQcLeNXyhV0PkmpTEvB5zwT7YGv
s4e737/dAgMBAAECggEABa4zhCXZyPeAtJwPaYuj7s5VWKf7kjs/0rCWyeFMg9Oi
20oxV1gqcmOYz8s7Y2VUJOga145Bom3zUtQtwGbyfCaNxj3cldUXEjiptkau5k4o
HOvifD2Jjx//7MsqOqvuDRfaVY35q1bZ47trhT3SSVCcVZivyqmWhhKw3xAKo6w8
BL11lB6GP74OoFuGdUbM3tkRIIbkjq4ZKO/vbz9l8ciIF2vALGRuuo19k/FT/ucV
Rgi8q1bsP2Tw379FdgLqkBLvbCUxMA5enEefdlPqHlcGJhMB+BiCTu24DTAY8mWL
4T1KCaJCcdpla06bu8PjeRIIkSE6pGrrD8pNKLPKoQKBgQDRWQ10HpgAAKMikHqF
+8zmIGR4hjoDwQIfYKdFKBJ6333xjttemlEgN1HPPF7zCy70WzMFVBg8SwO+IEd0
RBGWPskwkSebttlck6Gq/RyRvkhWJ7S6DdJmAJaWlkmamHC0uK1hEhcRnutly6Jl
1d4aYOHSd4P0SDYtD3voCqHeNQKBgQDPVjBPV84M6dKePf6qXsEmhJtx+bGja6+z
GKHRbhyFtMYJBevx0J7KTxvLRiTE4bXZKX6brnm9RaCOJK6ykF4OWdGSPZcP1svs
xrAFGXQOeEN9ym8YN54iG08AqLZNa0uk2gdHC9B6I8YDx+zhIJOm/XcRvJhlVcZk
mCFIXREwCQKBgACwonK3hxi459C9WSoH4mz/vlUHXDmW8ULZNrPrpePxyKB7MA3n
xEyu4f4k3MtARi9X/ZsO4+WO+bwurw2bC9PK8S7Py6mfuKetdOLzYpy4W9Ss3NOg
KAleByEH7cYsqnJuCWRAgwLz2yLCwQ5E3i6IEzZ2XmD3u/X6DxZ8snvhAoGAYjJg
2QMt/KG1derItWoBMrv1XyqyPkLfSQRuh2EOMykl7doXIET9H7YN5N1IxtJbrQlh
BFzDHahfXVL0Rm/njAZwIkH3TLIfjPmhHhkrBTtiQ65fpWmaBG9IoHhHNy2M+vuk
HLr0txRAUUQb5ZfnNlyvSwA2cTAJsVT31mz1mfkCgYAcu3kXMWX6wwRlFAoAuxZS
ZwYGn+Yb8a4MgNldkYRRXsvjUqjAjsj9Iq45YnCqMDYiKAFMnbeNqmlgc8bnfhrv
VNDtQ+FchXOpOY6m7vfuktN8TtPytdvVEKfRa34OrqDNRmpgnpuY3fmz3jbfVv7U
S8Oi434PZSqTvNZDjm+6QA==
-----END PRIVATE KEY-----";

/// The base64 lines of [`PEM_KEY`], which no output may hold.
fn pem_body_lines() -> Vec<&'static str> {
    let lines: Vec<&str> = PEM_KEY.lines().collect();
    assert_eq!(lines.len(), 28, "a 2048-bit key in PEM");
    lines[1..lines.len() - 1].to_vec()
}

/// [`PEM_KEY`] as a TOML string on one line (`\n` escapes), under `TLS_KEY` in `env`
/// next to a literal password, the key first or second.
fn key_next_to_password(key_first: bool) -> String {
    let key = format!("TLS_KEY = \"{}\"", PEM_KEY.replace('\n', "\\n"));
    let password = "A_PASSWORD = \"hunter2hunter2\"";
    let (a, b) = if key_first {
        (&*key, password)
    } else {
        (password, &*key)
    };
    minimal_with(&format!("env = {{ {a}, {b} }}"))
}

/// A private key written on one line with `\n` escapes, on the line of another
/// error: the snippet of that error masks the whole key (no base64 line of it at
/// either end of the window), and no format prints a line of it.
#[test]
fn a_private_key_on_the_line_of_another_error_is_masked_whole() {
    // The line is cut to 160 characters around the column: the window starts at the
    // line's start (both columns are within 53 of it) and ends inside the key.
    let p = Platform::new(&key_next_to_password(false), &[]);
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    common::assert_stderr(&out.stderr, &format!("\
error[KG010]: `A_PASSWORD` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
  --> platform.toml:13:22
   |
13 | {line}
   |                      ^^^^^^^^^^^^^^^^ secret-looking value
   = help: {help}

error[KG010]: `TLS_KEY` looks like it holds a secret (a private key); kgen refuses secrets in plain text
  --> platform.toml:13:50
   |
13 | {line}
   |                                                  {carets} secret-looking value
   = help: {help}

error: 2 errors; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
",
        line = format!("env = {{ A_PASSWORD = \"**************\", TLS_KEY = \"{}…", "*".repeat(110)),
        carets = "^".repeat(112),
        help = KG010_CSI_HELP,
    ));

    let p = Platform::new(&key_next_to_password(true), &[]);
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    // The password's window starts 53 characters before it, inside the key.
    common::assert_stderr(&out.stderr, &format!("\
error[KG010]: `TLS_KEY` looks like it holds a secret (a private key); kgen refuses secrets in plain text
  --> platform.toml:13:19
   |
13 | env = {{ TLS_KEY = \"{key_stars}…
   |                   {carets} secret-looking value
   = help: {help}

error[KG010]: `A_PASSWORD` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
  --> platform.toml:13:1766
   |
13 | …{key_tail}\", A_PASSWORD = \"**************\" }}
   |                                                       ^^^^^^^^^^^^^^^^ secret-looking value
   = help: {help}

error: 2 errors; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
",
        key_stars = "*".repeat(141),
        carets = "^".repeat(143),
        key_tail = "*".repeat(37),
        help = KG010_CSI_HELP,
    ));

    for key_first in [false, true] {
        let p = Platform::new(&key_next_to_password(key_first), &[]);
        for format in ["human", "json", "github"] {
            let out = p.kgen(&["validate", "--format", format]);
            assert_eq!(out.code, 2, "{format}: {}{}", out.stdout, out.stderr);
            let all = format!("{}{}", out.stdout, out.stderr);
            assert!(all.contains("KG010"), "{format}: no diagnosis:\n{all}");
            for line in pem_body_lines() {
                assert!(!all.contains(line), "{format} prints {line}:\n{all}");
            }
            assert!(!all.contains("hunter2hunter2"), "{format}:\n{all}");
        }
    }
}

/// The help line of KG010 for a service's value where `secrets_backend` is `csi`.
const KG010_CSI_HELP: &str = "store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets` (mounted at /mnt/secrets-store/<name>); see docs/platform.md#secrets";

/// Item 4: a type error or an unknown key on a line that mentions secrets keeps its
/// diagnosis; only a secret-looking value would be masked.
#[test]
fn masking_keeps_the_diagnosis() {
    for (extra, want) in [
        ("secrets = \"db-password\"", "expected a sequence"),
        (
            "secrets = [{ name = \"db\", from = \"ssm\", key = \"/dev/db\", bogus = 1 }]",
            "unknown key `bogus`",
        ),
        ("image_pull_secrets = \"regcred\"", "expected a sequence"),
        (
            "ingress = { host = \"api.example.com\", tls_secret = 1 }",
            "unknown key `tls_secret`",
        ),
    ] {
        let err = common::fails(&minimal_with(extra), &[]);
        assert!(err.contains(want), "{extra}: {err}");
        assert!(!err.contains("not shown"), "{extra}: {err}");
    }
    // A syntax error on a line that holds a secret: the diagnosis stays, the line is masked.
    let err = common::fails(
        &minimal_with("env = { DB_URL = \"postgres://app:s3cr3tpw@db/app\" "),
        &[],
    );
    assert!(err.contains("error[KG001]: invalid TOML"), "{err}");
    assert!(!err.contains("s3cr3tpw"), "{err}");
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// Item 5: an overlay path that exists but is not a readable regular file is an
/// error in every command, `kgen cmp generate` included; none renders without it.
#[cfg(unix)]
#[test]
fn an_overlay_that_cannot_be_read_is_an_error_in_every_command() {
    type Make = fn(&Path);
    let kinds: [(&str, Make, &str); 3] = [
        (
            "fifo",
            |p| mkfifo(p),
            "is a FIFO (named pipe), not a regular file",
        ),
        (
            "dangling link",
            |p| std::os::unix::fs::symlink("missing.toml", p).unwrap(),
            "is a symbolic link to missing.toml, which does not exist",
        ),
        (
            "directory",
            |p| std::fs::create_dir(p).unwrap(),
            "is a directory, not a regular file",
        ),
    ];
    for (kind, make, want) in kinds {
        let p = Platform::new(MINIMAL, &[]);
        std::fs::create_dir_all(p.path().join("overlays")).unwrap();
        make(&p.path().join("overlays/dev.toml"));
        for args in [
            &["render"][..],
            &["render", "--check"],
            &["validate"],
            &["bump-image", "api", "--env", "dev", "--tag", "1.0.1"],
        ] {
            let out = p.kgen(args);
            assert_eq!(out.code, 2, "{kind} {args:?}: {}", out.stderr);
            assert!(
                out.stderr.contains(&format!("overlays/dev.toml {want}")),
                "{kind} {args:?}: {}",
                out.stderr
            );
        }
        let out = plugin_generate(p.path());
        assert_ne!(out.code, 0, "{kind}: cmp generate: {}", out.stdout);
        assert_eq!(out.stdout, "", "{kind}");
        assert!(out.stderr.contains(want), "{kind}: {}", out.stderr);
        assert!(!p.exists("generated"), "{kind}");
    }
}

/// Item 6: text that is not UTF-8 is located at its first bad byte, in every format.
#[test]
fn invalid_encodings_are_located_in_every_format() {
    let p = Platform::new(MINIMAL, &[]);
    std::fs::create_dir_all(p.path().join("overlays")).unwrap();
    std::fs::write(
        p.path().join("overlays/dev.toml"),
        b"[services.api]\ntag = \"caf\xe9\"\n",
    )
    .unwrap();
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error[KG001]: overlays/dev.toml is not valid UTF-8: byte 0xE9")
            && out.stderr.contains("--> overlays/dev.toml:2:11")
            && out.stderr.contains("= help: save the file as UTF-8"),
        "{}",
        out.stderr
    );
    let out = p.kgen(&["render", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let first = &json["diagnostics"][0];
    assert_eq!(first["file"], "overlays/dev.toml");
    assert_eq!(first["line"], 2);
    assert_eq!(first["column"], 11);
    let out = p.kgen(&["render", "--format", "github"]);
    assert!(
        out.stderr
            .contains("::error file=overlays/dev.toml,line=2,col=11,title=kgen KG001::"),
        "{}",
        out.stderr
    );
    // UTF-16, as some Windows editors save.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(MINIMAL.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(p.path().join("platform.toml"), utf16).unwrap();
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("platform.toml is UTF-16 text; kgen reads UTF-8")
            && out.stderr.contains("--> platform.toml:1:1")
            && out.stderr.contains("iconv"),
        "{}",
        out.stderr
    );
}

/// Item 9: type errors named for what they are, and a bounded snippet.
#[test]
fn type_errors_are_named_and_snippets_are_bounded() {
    let err = common::fails(
        &minimal_with("").replace("tag = \"1.0.0\"", "tag = 2024-01-01"),
        &[],
    );
    assert!(
        err.contains(
            "error[KG003]: invalid type for `services.api.tag`: a date `2024-01-01`, expected a string in quotes"
        ),
        "{err}"
    );
    let err = common::fails(
        &minimal_with("secrets = [{ name = \"db\", from = 1, key = \"/dev/db\" }]"),
        &[],
    );
    assert!(err.contains("error[KG003]: invalid type"), "{err}");
    assert!(!err.contains("KG001"), "{err}");
    let deep = format!("x = {}{}", "[".repeat(200_000), "]".repeat(200_000));
    let err = common::fails(&format!("{deep}\n{MINIMAL}"), &[]);
    assert!(err.contains("error[KG001]"), "{err:.300}");
    assert!(err.len() < 4096, "{} bytes of snippet", err.len());
}

/// KG010's help says how the value should reach the pods where it is: with
/// `secrets_backend = "external-secrets"` a secret is an environment variable from the
/// Secret `<service>-secrets`, not a file under /mnt/secrets-store; a value of
/// platform.toml whose environments use both backends gets both; an overlay gets its
/// environment's.
#[test]
fn kg010_help_fits_the_secrets_backend() {
    let text = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"
secrets_backend = "external-secrets"

[environments.dev]

[environments.prod]
secrets_backend = "csi"

[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080
env = { DB_PASSWORD = "xK9#mP2$vL5q" }
"#;
    let overlay = "[services.api]\nenv = { API_TOKEN = \"Tr0ub4dor&3-horse\" }\n";
    let stderr = common::fails(text, &[("dev", overlay)]);
    assert_eq!(
        stderr,
        r#"error[KG010]: `DB_PASSWORD` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
  --> platform.toml:16:23
   |
16 | env = { DB_PASSWORD = "************" }
   |                       ^^^^^^^^^^^^^^ secret-looking value
   = help: store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets`: mounted at /mnt/secrets-store/<name> where `secrets_backend` is `csi`, the environment variable `<name>` (from the Secret `<service>-secrets`) where it is `external-secrets`; see docs/platform.md#secrets

error[KG010]: `API_TOKEN` looks like it holds a secret (a literal token); kgen refuses secrets in plain text
 --> overlays/dev.toml:2:21
  |
2 | env = { API_TOKEN = "*****************" }
  |                     ^^^^^^^^^^^^^^^^^^^ secret-looking value
  = help: store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets`: with `secrets_backend = "external-secrets"` it reaches the pods as the environment variable `<name>`, from the Secret `<service>-secrets` (envFrom); see docs/platform.md#secrets

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // One backend everywhere: its own help alone.
    let stderr = common::fails(&text.replace("secrets_backend = \"csi\"\n", ""), &[]);
    assert!(
        stderr.contains("= help: store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets`: with `secrets_backend = \"external-secrets\"` it reaches"),
        "{stderr}"
    );
    let stderr = common::fails(
        &text.replace("secrets_backend = \"external-secrets\"\n", ""),
        &[],
    );
    assert!(
        stderr.contains("= help: store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets` (mounted at /mnt/secrets-store/<name>); see docs/platform.md#secrets"),
        "{stderr}"
    );
}
