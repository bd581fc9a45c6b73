//! Bounded work: huge or adversarial input ends with a clear error (or a result),
//! never with a hang or an out-of-memory kill. Sizes are chosen to keep each test
//! fast: just past each limit, not at the scale of the attack. The limits are listed
//! in docs/security.md.

mod common;

use common::{Platform, MINIMAL};
use kgen::workspace::{
    InputFiles, Workspace, MAX_ENVIRONMENTS, MAX_FILE_SIZE, MAX_INSTANCES, MAX_SERVICES,
};

fn parse(platform: String, overlays: Vec<(&str, String)>) -> kgen::Result<Workspace> {
    Workspace::parse(
        "/platform".into(),
        InputFiles {
            platform: ("platform.toml".into(), platform),
            overlays: overlays
                .into_iter()
                .map(|(e, t)| (e.to_string(), format!("overlays/{e}.toml"), t))
                .collect(),
        },
    )
}

/// The messages of an invalid-input error.
fn messages(r: kgen::Result<impl Sized>) -> Vec<String> {
    match r {
        Err(kgen::Error::Invalid(inv)) => inv
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect(),
        Err(other) => vec![other.to_string()],
        Ok(_) => panic!("expected an error"),
    }
}

fn compile(platform: &str) -> kgen::Result<kgen::compile::Compiled> {
    let ws = parse(platform.to_string(), vec![])?;
    kgen::compile::compile(&ws, &[])
}

#[test]
fn a_50_mb_platform_file_is_refused_before_it_is_read() {
    let p = Platform::empty();
    // 50 MB of comments (sparse writes would be faster, but this is what CI sees).
    let line = format!("# {}\n", "x".repeat(1021));
    let text = line.repeat(50 * 1024);
    assert!(text.len() >= 50 * 1024 * 1024);
    p.write("platform.toml", &text);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "kgen: error: platform.toml is larger than 8 MiB, kgen's limit for an input file\n  help: split the platform into several platform directories, each with its own platform.toml (see docs/security.md#limits)\n"
    );
    // An overlay too.
    let p = Platform::new(MINIMAL, &[]);
    p.write("overlays/dev.toml", &text[..(MAX_FILE_SIZE as usize + 1)]);
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("overlays/dev.toml is larger than 8 MiB"),
        "{}",
        out.stderr
    );
}

#[test]
fn texts_from_elsewhere_have_the_same_size_limit() {
    let big = format!("{MINIMAL}#{}\n", "x".repeat(MAX_FILE_SIZE as usize));
    assert_eq!(
        messages(parse(big, vec![])),
        ["platform.toml is larger than 8 MiB, kgen's limit for an input file\n  help: split the platform into several platform directories, each with its own platform.toml (see docs/security.md#limits)"]
    );
}

#[cfg(unix)]
#[test]
fn an_endless_platform_file_is_refused() {
    // /dev/zero as platform.toml would be read forever.
    let p = Platform::empty();
    let out = common::kgen_in(p.path(), &["render", "--platform", "/dev/zero"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "kgen: error: /dev/zero is a device, not a regular file; kgen reads only regular files as input\n"
    );
}

#[test]
fn too_many_services() {
    let mut text = MINIMAL.to_string();
    for i in 0..MAX_SERVICES {
        text.push_str(&format!("[services.s{i}]\nimage = \"a/b\"\n"));
    }
    let m = messages(parse(text, vec![]));
    assert_eq!(
        m,
        [format!(
            "KG007: platform.toml declares {} services, more than kgen's limit of {MAX_SERVICES}",
            MAX_SERVICES + 1
        )]
    );
}

#[test]
fn too_many_environments_and_instances() {
    let mut text = MINIMAL.to_string();
    for i in 0..MAX_ENVIRONMENTS {
        text.push_str(&format!("[environments.e{i}]\n"));
    }
    let m = messages(parse(text, vec![]));
    assert_eq!(
        m,
        [format!(
            "KG007: platform.toml declares {} environments, more than kgen's limit of {MAX_ENVIRONMENTS}",
            MAX_ENVIRONMENTS + 1
        )]
    );
    // Within both limits, but too many pairs.
    let services = MAX_INSTANCES / 50 + 1;
    let mut text = MINIMAL.to_string();
    for i in 1..50 {
        text.push_str(&format!("[environments.e{i}]\n"));
    }
    for i in 1..services {
        text.push_str(&format!("[services.s{i}]\nimage = \"a/b\"\n"));
    }
    let m = messages(parse(text, vec![]));
    assert_eq!(
        m,
        [format!(
            "KG007: {services} services in 50 environments make {} service instances, more than kgen's limit of {MAX_INSTANCES}",
            services * 50
        )]
    );
}

#[test]
fn deeply_nested_tables_and_arrays_are_refused() {
    for body in [
        format!("x = {}1{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("x = {}1{}", "{a=".repeat(100_000), "}".repeat(100_000)),
        format!("[{}]", vec!["a"; 100_000].join(".")),
        format!("{} = 1", vec!["a"; 100_000].join(".")),
    ] {
        let m = messages(parse(format!("{MINIMAL}\n{body}\n"), vec![]));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].starts_with("KG001: invalid TOML: "), "{m:?}");
        assert!(m[0].contains("recursion"), "{m:?}");
    }
}

#[test]
fn long_adversarial_strings_are_scanned_in_linear_time() {
    // Each of these took quadratic time in the secret scanner (minutes at 1 MB, in a release build).
    for unit in ["eyJ.", "a://", "$(", "{{", "${", "a://x:", "xoxa-", "SG."] {
        let value = unit.repeat(300_000 / unit.len());
        for key in ["DB_PASSWORD", "LOG_LEVEL"] {
            let _ = kgen::secret_scan::scan(key, &value);
        }
        let _ = kgen::secret_scan::scan_toml(&format!(
            "x = {}",
            toml_edit::Value::from(value.as_str())
        ));
    }
}

fn template_error(template: &str) -> String {
    let text = MINIMAL.replace(
        "port = 8080",
        &format!("env = {{ X = {} }}", toml_edit::Value::from(template)),
    );
    let m = messages(compile(&text));
    assert_eq!(m.len(), 1, "{template}: {m:?}");
    assert!(m[0].starts_with("KG013: "), "{template}: {m:?}");
    m[0].clone()
}

#[test]
fn templates_that_expand_exponentially_stop() {
    for (template, expected) in [
        ("{{ \"x\" * 1000000000 }}", "the `*` and `**` operators are not available"),
        ("{{ [1] * 99999999 }}", "the `*` and `**` operators are not available"),
        ("{% set a = 'xx' %}{% set a = a ~ a %}{{ a }}", "`{% set %}` is not available"),
        (
            "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
            "`{% macro %}` is not available",
        ),
        (
            "{% for x in [1] recursive %}{{ loop([1]) }}{{ loop([1]) }}{% endfor %}",
            "recursive loops are not available",
        ),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
            "ran for too long",
        ),
        (
            "{{ range(100000)|join('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') }}",
            "larger than the limit of 65536 bytes",
        ),
        (
            "{{ 'abcdefgh'|list|string|list|string|list|string|list|string|list|string|list|string }}",
            "larger than the limit of 65536 bytes",
        ),
        (
            "{{ 'xxxxxxxxxxxxxxxx'|replace('x', 'yyyyyyyyyyyyyyyy')|replace('y', 'zzzzzzzzzzzzzzzz')|replace('z', 'wwwwwwwwwwwwwwwwwwwww') }}",
            "larger than the limit of 65536 bytes",
        ),
        (&format!("{{% for i in range(100000) %}}{}{{% endfor %}}", "x".repeat(100)), "more than the limit of 65536 bytes"),
        ("{{ x }", "template syntax error"),
    ] {
        let m = template_error(template);
        assert!(m.contains(expected), "{template}: {m}");
    }
}

#[test]
fn a_long_template_is_refused() {
    let m = template_error(&format!(
        "{{{{ service }}}}{}",
        "x".repeat(kgen::template::MAX_SOURCE)
    ));
    assert!(m.contains("more than the limit of 8192"), "{m}");
}

#[test]
fn a_large_valid_platform_renders() {
    // Many services within the limits work (the bench covers time: scripts/bench-diff.sh).
    let mut text = MINIMAL.to_string();
    for i in 0..500 {
        text.push_str(&format!(
            "[services.s{i}]\nimage = \"a/b\"\ntag = \"1.0.{i}\"\n"
        ));
    }
    let compiled = compile(&text).unwrap_or_else(|e| panic!("{:?}", messages(Err::<(), _>(e))));
    assert!(compiled.tree.files.len() > 500 * 3);
}

#[test]
fn thousands_of_errors_in_a_large_file_render_quickly() {
    // Each diagnostic used to rescan the file from its start for its line (quadratic:
    // 20 s for 5,000 errors after 7 MB in a debug build); now lines are indexed once.
    let mut text = format!("{}\n", "#".repeat(2_000_000));
    text.push_str(MINIMAL);
    for i in 0..2_000 {
        text.push_str(&format!(
            "[services.s{i}]\nimage = \"a/b\"\ntag = \"1\"\nport = 0\n"
        ));
    }
    let inv = match compile(&text) {
        Err(kgen::Error::Invalid(inv)) => inv,
        other => panic!("{:?}", other.err()),
    };
    assert_eq!(inv.diagnostics.len(), 2_000);
    for format in [
        kgen::diagnostic::Format::Human,
        kgen::diagnostic::Format::Json,
        kgen::diagnostic::Format::Github,
    ] {
        let out = kgen::diagnostic::render(&inv.diagnostics, &inv.sources, format, false);
        assert!(out.contains("platform.toml"));
    }
}
