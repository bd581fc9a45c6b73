//! Environment variables as the kubelet reads them: values are literal, `${NAME}` is a
//! reference written `$(NAME)`, the `env` list puts every variable after the variables it
//! references, and every misuse is a located error (exit 2, nothing written).

mod common;

use std::collections::BTreeMap;

use common::{fails, Platform, MINIMAL};

/// MINIMAL with a second environment, probes (no warnings) and the given `env` and
/// `config` tables (and any other lines) for the service `api`.
fn platform(service_lines: &str) -> String {
    format!(
        "{}probes = {{ liveness = \"/health\", readiness = \"/ready\" }}\n{service_lines}\n",
        MINIMAL.replace(
            "[environments.dev]\nsync = \"auto\"\n",
            "[environments.dev]\nsync = \"auto\"\n\n[environments.staging]\ncluster = \"https://staging.example.com\"\n"
        )
    )
}

/// Renders `text`, expecting success; returns the platform.
fn renders(text: &str) -> Platform {
    let p = Platform::new(text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr, "");
    p
}

/// The lines of the container's `env` list in a rendered deployment.yaml.
fn env_block(deployment: &str) -> String {
    let start = deployment.find("      - env:\n").expect("an env list");
    let end = deployment[start..]
        .find("        envFrom:\n")
        .expect("envFrom")
        + start;
    deployment[start..end].to_string()
}

/// What the process sees: the kubelet's algorithm run on the rendered objects (envFrom
/// ConfigMap and Secret first, as they are; then `env` in list order, each value
/// expanded from the variables before it).
fn kubelet_environment(
    deployment: &str,
    config_map: &str,
    secrets: &[(&str, &str)],
) -> BTreeMap<String, String> {
    let cm: serde_json::Value = serde_norway::from_str(config_map).unwrap();
    let mut vars: BTreeMap<String, String> = cm["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    vars.extend(secrets.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let d: serde_json::Value = serde_norway::from_str(deployment).unwrap();
    for e in d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
    {
        let value =
            kgen::resolve::kubelet_expand(e["value"].as_str().unwrap(), |n| vars.get(n).cloned());
        vars.insert(e["name"].as_str().unwrap().to_string(), value);
    }
    vars
}

#[test]
fn values_are_literal_and_references_come_after_their_variables() {
    let p = renders(&platform(
        r#"env = { A_TOTAL = "total ${PRICE} EUR", PRICE = "9.99", PATTERN = "$(date) costs $5 and $$", LITERAL = "$${PRICE}", DOLLAR_PRICE = "$$${PRICE}", RELEASE = "v${VERSION} in ${ENVIRONMENT}" }
config = { ENVIRONMENT = "{{ env.name }}", BRACES = "$${HOME} stays $(HOME)" }"#,
    ));
    let deployment = p.read("generated/dev/api/deployment.yaml");
    // A_TOTAL and DOLLAR_PRICE sort before PRICE but reference it: they follow it. The
    // rest keeps name order; references to config entries (VERSION, ENVIRONMENT) need
    // none, envFrom being read first. `$(` and `$$` the user wrote are escaped.
    assert_eq!(
        env_block(&deployment),
        r#"      - env:
        - name: LITERAL
          value: ${PRICE}
        - name: PATTERN
          value: $$(date) costs $5 and $$$
        - name: PRICE
          value: "9.99"
        - name: A_TOTAL
          value: total $(PRICE) EUR
        - name: DOLLAR_PRICE
          value: $$$(PRICE)
        - name: RELEASE
          value: v$(VERSION) in $(ENVIRONMENT)
"#
    );
    let config_map = p.read("generated/dev/api/configmap.yaml");
    assert!(
        config_map.ends_with(
            "data:\n  BRACES: ${HOME} stays $(HOME)\n  ENVIRONMENT: dev\n  VERSION: \"1.0.0\"\n"
        ),
        "{config_map}"
    );
    let seen = kubelet_environment(&deployment, &config_map, &[]);
    let want = [
        ("A_TOTAL", "total 9.99 EUR"),
        ("BRACES", "${HOME} stays $(HOME)"),
        ("DOLLAR_PRICE", "$9.99"),
        ("ENVIRONMENT", "dev"),
        ("LITERAL", "${PRICE}"),
        ("PATTERN", "$(date) costs $5 and $$"),
        ("PRICE", "9.99"),
        ("RELEASE", "v1.0.0 in dev"),
        ("VERSION", "1.0.0"),
    ];
    let want: BTreeMap<String, String> = want
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(seen, want);
}

#[test]
fn without_references_the_order_is_by_name() {
    let p = renders(&platform(r#"env = { B = "2", A = "1", C = "$(B)" }"#));
    assert_eq!(
        env_block(&p.read("generated/dev/api/deployment.yaml")),
        "      - env:\n        - name: A\n          value: \"1\"\n        - name: B\n          value: \"2\"\n        - name: C\n          value: $$(B)\n"
    );
}

#[test]
fn a_reference_can_name_a_secret_loaded_from_external_secrets() {
    let text = platform(
        r#"env = { DATABASE_URL = "postgres://app:${DB_PASSWORD}@db:5432/app" }
secrets = [{ name = "DB_PASSWORD", from = "secretsmanager", key = "dev/api/db" }]"#,
    )
    .replace(
        "[platform]\n",
        "[platform]\nsecrets_backend = \"external-secrets\"\n",
    );
    // The ClusterSecretStore is created outside kgen: declared as provided, so
    // KG032 has nothing to warn about.
    let text =
        format!("{text}\n[baseline]\nprovided = {{ secret_stores = [\"aws-secrets-manager\"] }}\n");
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // The one warning: nothing kgen deploys installs the External Secrets CRDs.
    assert!(
        out.stderr.starts_with("warning[KG306]: ExternalSecret (external-secrets.io) is a custom resource whose CRD no Application installs"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("warning[").count(), 1, "{}", out.stderr);
    let deployment = p.read("generated/dev/api/deployment.yaml");
    assert_eq!(
        env_block(&deployment),
        "      - env:\n        - name: DATABASE_URL\n          value: postgres://app:$(DB_PASSWORD)@db:5432/app\n"
    );
    let seen = kubelet_environment(
        &deployment,
        &p.read("generated/dev/api/configmap.yaml"),
        &[("DB_PASSWORD", "s3cr3t")],
    );
    assert_eq!(seen["DATABASE_URL"], "postgres://app:s3cr3t@db:5432/app");
}

#[test]
fn a_reference_to_an_unknown_variable() {
    // Reported once, though the platform has two environments.
    let err = fails(
        &platform(r#"env = { TOTAL = "total ${PRCE} EUR", PRICE = "9.99" }"#),
        &[],
    );
    assert_eq!(
        err,
        "error[KG025]: environment variable `TOTAL` refers to `${PRCE}`, which is not a variable of the container
  --> platform.toml:17:24
   |
17 | env = { TOTAL = \"total ${PRCE} EUR\", PRICE = \"9.99\" }
   |                        ^^^^^^^ did you mean `PRICE`?
   = help: a reference names a variable of the same container: one of its `env` entries, a `config` entry (or `VERSION`), or, with the external-secrets backend, a secret; a variable set in an overlay exists only in that environment. Write `$${` for a literal `${`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"
    );
}

#[test]
fn a_variable_set_in_one_overlay_only() {
    let err = fails(
        &platform(r#"env = { TOTAL = "total ${PRICE} EUR" }"#),
        &[("staging", "[services.api]\nenv = { PRICE = \"9.99\" }\n")],
    );
    assert!(
        err.starts_with("error[KG025]: environment variable `TOTAL` refers to `${PRICE}`, which is not a variable of the container\n  --> platform.toml:17:24\n"),
        "{err}"
    );
    assert!(
        err.ends_with("error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)\n"),
        "{err}"
    );
}

#[test]
fn a_secret_mounted_as_a_file_is_not_a_variable() {
    let err = fails(
        &platform(
            r#"env = { DATABASE_URL = "postgres://app:${DB_PASSWORD}@db:5432/app" }
secrets = [{ name = "DB_PASSWORD", from = "secretsmanager", key = "dev/api/db" }]
iam_role = "arn:aws:iam::123456789012:role/api""#,
        ),
        &[],
    );
    assert_eq!(
        err,
        "error[KG025]: environment variable `DATABASE_URL` refers to `${DB_PASSWORD}`, which is not a variable of the container
  --> platform.toml:17:40
   |
17 | env = { DATABASE_URL = \"postgres://app:${DB_PASSWORD}@db:5432/app\" }
   |                                        ^^^^^^^^^^^^^^
   = help: `DB_PASSWORD` is a secret: with `secrets_backend = \"csi\"` secrets are files under /mnt/secrets-store, not variables; with `secrets_backend = \"external-secrets\"` they are variables a value can reference

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"
    );
}

#[test]
fn a_dollar_brace_that_is_not_a_reference() {
    let err = fails(
        &platform(r#"env = { JAVA_OPTS = "-Dport=${server.port}" }"#),
        &[],
    );
    assert_eq!(
        err,
        "error[KG025]: environment variable `JAVA_OPTS`: `${server.port}` is not a reference
  --> platform.toml:17:29
   |
17 | env = { JAVA_OPTS = \"-Dport=${server.port}\" }
   |                             ^^^^^^^^^^^^^^ `${` starts a reference
   = help: a reference is `${NAME}`, NAME made of letters, digits and `_` (not starting with a digit); write `$${` for a literal `${`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"
    );
}

#[test]
fn references_in_a_cycle() {
    let err = fails(
        &platform(r#"env = { A = "${B}", B = "x${C}", C = "${A}", D = "${D}:/bin", E = "${A}" }"#),
        &[],
    );
    assert_eq!(
        err,
        "error[KG026]: environment variables refer to each other in a cycle: A → B → C → A
  --> platform.toml:17:14
   |
17 | env = { A = \"${B}\", B = \"x${C}\", C = \"${A}\", D = \"${D}:/bin\", E = \"${A}\" }
   |              ^^^^ `A` refers to `B` here
   = help: the kubelet defines variables one after another, so a cycle cannot be expanded: write one of the values without the reference (`$${` is a literal `${`)

error[KG026]: environment variable `D` refers to itself
  --> platform.toml:17:51
   |
17 | env = { A = \"${B}\", B = \"x${C}\", C = \"${A}\", D = \"${D}:/bin\", E = \"${A}\" }
   |                                                   ^^^^ refers to itself here
   = help: the kubelet defines variables one after another, so a cycle cannot be expanded: write one of the values without the reference (`$${` is a literal `${`)

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"
    );
}

#[test]
fn a_reference_in_a_config_entry() {
    let err = fails(&platform(r#"config = { GREETING = "hello ${USER}" }"#), &[]);
    assert_eq!(
        err,
        "error[KG027]: config entry `GREETING` refers to `${USER}`, but the kubelet does not expand references in config entries
  --> platform.toml:17:30
   |
17 | config = { GREETING = \"hello ${USER}\" }
   |                              ^^^^^^^
   = help: config entries reach the container through envFrom exactly as written: move `GREETING` to `env`, where `${NAME}` references work, or write `$${` for a literal `${`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"
    );
}

#[test]
fn references_are_read_after_templates() {
    // Next to a template, the error points at the reference...
    let err = fails(
        &platform(r#"env = { URL = "{{ env.name }}-${MISSING}" }"#),
        &[],
    );
    assert!(
        err.starts_with("error[KG025]: environment variable `URL` refers to `${MISSING}`, which is not a variable of the container\n  --> platform.toml:17:31\n"),
        "{err}"
    );
    // ...and at the whole value when only the template's output has it.
    let err = fails(&platform(r#"env = { URL = "{{ '$' }}{MISSING}" }"#), &[]);
    assert!(
        err.starts_with("error[KG025]: environment variable `URL` refers to `${MISSING}`, which is not a variable of the container\n  --> platform.toml:17:15\n"),
        "{err}"
    );
}

/// KG039: a number whose text TOML does not keep is written as TOML reads it, with a
/// warning at the value (migration review 27, F11); a plain number passes silently.
#[test]
fn a_number_whose_text_is_not_kept_is_a_warning() {
    let text = platform("env = { RATIO = 1.10, WORKERS = 4, NEG = -2 }\nconfig = { LIMIT = 0x1F }");
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = text.lines().position(|l| l.starts_with("env = ")).unwrap() + 1;
    assert_eq!(
        out.stderr,
        format!(
            r#"warning[KG039]: `RATIO` is written `1.10`, a TOML number, which kgen writes as "1.1"
  --> platform.toml:{line}:17
   |
{line} | env = {{ RATIO = 1.10, WORKERS = 4, NEG = -2 }}
   |                 ^^^^
   = help: quote it to keep the text (`RATIO = "1.10"`), or write the number as kgen writes it (`RATIO = 1.1`)

warning[KG039]: `LIMIT` is written `0x1F`, a TOML number, which kgen writes as "31"
  --> platform.toml:{}:20
   |
{} | config = {{ LIMIT = 0x1F }}
   |                    ^^^^
   = help: quote it to keep the text (`LIMIT = "0x1F"`), or write the number as kgen writes it (`LIMIT = 31`)

"#,
            line + 1,
            line + 1
        )
    );
    assert!(p
        .read("generated/dev/api/deployment.yaml")
        .contains("value: \"1.1\"\n"));
}
