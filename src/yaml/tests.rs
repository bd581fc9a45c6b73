//! Tests of the emitter: round trips through YAML readers, quoting of every
//! ambiguous string, and the quoting fast path held to its reference.

use super::*;
use serde_json::json;

fn reparse(yaml: &str) -> Value {
    serde_norway::from_str::<Value>(yaml)
        .unwrap_or_else(|e| panic!("serde_norway failed: {e}\n---\n{yaml}"))
}

fn assert_round_trip(value: &Value) -> String {
    let yaml = to_string(value);
    assert_eq!(
        &reparse(&yaml),
        value,
        "round trip changed the value:\n{yaml}"
    );
    yaml
}

/// Every string below must be quoted (YAML 1.1 or 1.2 would read it as something else).
const AMBIGUOUS: &[&str] = &[
    "",
    "y",
    "Y",
    "yes",
    "Yes",
    "YES",
    "n",
    "N",
    "no",
    "No",
    "NO",
    "true",
    "True",
    "TRUE",
    "false",
    "False",
    "FALSE",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "null",
    "Null",
    "NULL",
    "~",
    "<<",
    "=",
    "0",
    "1",
    "-1",
    "+1",
    "42",
    "1.5",
    "-1.5",
    "1.",
    ".5",
    "+.5",
    "1e3",
    "1E3",
    "1.0e+3",
    "1e-3",
    "0755",
    "0x1F",
    "0X1f",
    "0o17",
    "0b101",
    "-0b101",
    "1_000",
    "1:20",
    "190:20:30.15",
    "-1:20",
    ".inf",
    ".Inf",
    ".INF",
    "-.inf",
    "-.Inf",
    "+.inf",
    ".nan",
    ".NaN",
    ".NAN",
    "inf",
    "nan",
    "Infinity",
    "-infinity",
    ".",
    "...",
    "._",
    "1.2.3",
    "2024-01-01",
    "2024-1-1",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14T21:59:43.10Z",
    "2001-12-14 21:59:43.10 -5",
    "-",
    "--",
    "---",
    "- x",
    "-x",
    "?",
    "? x",
    "?x",
    ":",
    ":x",
    ",",
    ",x",
    "[",
    "[x]",
    "]",
    "{",
    "{}",
    "}",
    "#",
    "#x",
    "&x",
    "*x",
    "!x",
    "!!str",
    "|",
    "|x",
    ">",
    ">x",
    "'",
    "'x'",
    "\"",
    "\"x\"",
    "%x",
    "@x",
    "`x",
    " x",
    "x ",
    " ",
    "\u{a0}x",
    "x:",
    "a: b",
    "a #b",
    "a\nb",
    "a\tb",
    "\t",
    "a\rb",
    "\u{1}",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{feff}x",
];

/// `is_plain_safe` before its one-pass ASCII branch: the reference.
fn is_plain_safe_reference(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if b"-?:,[]{}#&*!|>'\"%@`".contains(&first) || last == b':' {
        return false;
    }
    if s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace)
        || s.chars().any(needs_escape)
    {
        return false;
    }
    if bytes.windows(2).any(|w| w == b": " || w == b" #") {
        return false;
    }
    !is_reserved_word(s) && !looks_numeric(s)
}

#[test]
fn the_ascii_fast_path_decides_as_the_reference_does() {
    // Every string of up to three characters over an alphabet of the characters
    // that matter (indicators, whitespace, controls, digits, letters of the
    // reserved words, characters beyond ASCII), and the test strings of this module.
    let alphabet: Vec<char> =
        " \t\n\r\x0b\x0c\x1c\x7f#:-?.,0159aeEfnNoOxXyY~<=_/'\"%@`!&*|>[]{}+T\u{e9}\u{a0}\u{2028}"
            .chars()
            .collect();
    let mut strings: Vec<String> = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..3 {
        let next: Vec<String> = last
            .iter()
            .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
            .collect();
        strings.extend(next.iter().cloned());
        last = next;
    }
    strings.extend(AMBIGUOUS.iter().map(|s| s.to_string()));
    // Longer strings, for the eight-bytes-at-a-time scan: one or two characters of
    // the alphabet at every position (and pair of positions) of plain words of 1 to
    // 24 letters, so every lane of every word and the tail are hit.
    for len in 1..=24 {
        let base: Vec<char> = "abcdefghijklmnopqrstuvwx".chars().take(len).collect();
        for i in 0..len {
            for &c in &alphabet {
                let mut one = base.clone();
                one[i] = c;
                strings.push(one.iter().collect());
                for j in i + 1..len {
                    for d in [' ', '#', ':', '\x7f', '\t', '\x1f', '!', '\u{e9}'] {
                        let mut two = one.clone();
                        two[j] = d;
                        strings.push(two.iter().collect());
                    }
                }
            }
        }
    }
    for s in &strings {
        assert_eq!(is_plain_safe(s), is_plain_safe_reference(s), "{s:?}");
        let first = s.bytes().position(|b| b <= 0x20 || b >= 0x7F);
        assert_eq!(
            first_space_control_or_not_ascii(s.as_bytes()),
            first.unwrap_or(s.len()),
            "{s:?}"
        );
    }
}

#[test]
fn ambiguous_strings_are_quoted_and_stay_strings() {
    for s in AMBIGUOUS {
        assert!(!is_plain_safe(s), "{s:?} must not be plain");
        let value = Value::String((*s).to_string());
        assert_round_trip(&value);
        // As a key and as a value inside a mapping and a list, too.
        assert_round_trip(&json!({ *s: *s, "list": [*s] }));
    }
}

#[test]
fn kubernetes_strings_stay_plain() {
    let plain = [
        "app.kubernetes.io/name",
        "nginx:1.2.3",
        "/health",
        "100m",
        "1Gi",
        "0.5Gi",
        "eu-west-1",
        "sha256:4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a",
        "http://aux-service.aux-service.svc.cluster.local:8000",
        "8080/TCP",
        "192.168.0.0/16",
        "v1.2.3",
        "1.0.0-rc1",
        "deadbeef",
        ".git",
        "+x",
        "a-b",
        "foo#bar",
        "a, b",
        "a[0]",
        "it's",
        "Yesterday",
        "nullable",
        "héllo wörld",
        "日本語",
        "C:\\tmp\\x",
    ];
    for s in plain {
        assert!(is_plain_safe(s), "{s:?} should be plain");
        assert_eq!(to_string(&json!(s)), format!("{s}\n"));
        assert_round_trip(&json!({ s: s }));
    }
}

#[test]
fn deployment_exact_output() {
    let deployment = json!({
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "nginx:1.27.0",
                        "args": ["--port", "8080", "-v"],
                        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                        "env": [
                            {"name": "DEBUG", "value": "false"},
                            {"name": "RATIO", "value": "0.5"},
                        ],
                        "resources": {
                            "limits": {"memory": "128Mi"},
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                        },
                        "readinessProbe": {
                            "httpGet": {"path": "/health", "port": "http"},
                            "periodSeconds": 10,
                        },
                        "securityContext": {"readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [],
                    }],
                    "nodeSelector": {},
                },
            },
        },
        "metadata": {
            "name": "web",
            "namespace": "prod",
            "annotations": {"example.com/note": "on", "example.com/ratio": 1.5},
            "labels": {"app.kubernetes.io/name": "web"},
        },
        "kind": "Deployment",
        "apiVersion": "apps/v1",
    });
    let expected = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    example.com/note: "on"
    example.com/ratio: 1.5
  labels:
    app.kubernetes.io/name: web
  name: web
  namespace: prod
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      containers:
      - args:
        - "--port"
        - "8080"
        - "-v"
        env:
        - name: DEBUG
          value: "false"
        - name: RATIO
          value: "0.5"
        image: nginx:1.27.0
        name: web
        ports:
        - containerPort: 8080
          name: http
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /health
            port: http
          periodSeconds: 10
        resources:
          limits:
            memory: 128Mi
          requests:
            cpu: 100m
            memory: 64Mi
        securityContext:
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
        volumeMounts: []
      nodeSelector: {}
"#;
    assert_eq!(to_string(&deployment), expected);
    assert_round_trip(&deployment);
}

#[test]
fn top_level_key_order() {
    let value = json!({
        "zeta": 1, "data": {"b": "2", "a": "1"}, "Zulu": 0, "spec": {}, "metadata": {"name": "x"},
        "kind": "ConfigMap", "apiVersion": "v1", "_": true, "status": null,
    });
    assert_eq!(
        to_string(&value),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nspec: {}\nZulu: 0\n_: true\n\
             data:\n  a: \"1\"\n  b: \"2\"\nstatus: null\nzeta: 1\n"
    );
    // Only the top level gets the Kubernetes order; nested keys are byte-sorted.
    let nested = json!({"kind": "List", "items": [{"spec": 1, "kind": "A", "apiVersion": "v1"}]});
    assert_eq!(
        to_string(&nested),
        "kind: List\nitems:\n- apiVersion: v1\n  kind: A\n  spec: 1\n"
    );
}

#[test]
fn nested_keys_sorted_by_bytes() {
    let value = json!({"m": {"b": 1, "B": 2, "a": 3, "_": 4, "é": 5, "10": 6, "9": 7}});
    assert_eq!(
        to_string(&value),
        "m:\n  \"10\": 6\n  \"9\": 7\n  B: 2\n  _: 4\n  a: 3\n  b: 1\n  é: 5\n"
    );
}

#[test]
fn literal_blocks_for_each_chomping_kind() {
    let cases = [
        ("line one\nline two", "k: |-\n  line one\n  line two\n"),
        ("line one\nline two\n", "k: |\n  line one\n  line two\n"),
        (
            "line one\nline two\n\n",
            "k: |+\n  line one\n  line two\n\n",
        ),
        ("a\n\n\n", "k: |+\n  a\n\n\n"),
        (
            "a\n\n  indented\n\nb",
            "k: |-\n  a\n\n    indented\n\n  b\n",
        ),
        ("\nfirst empty\n", "k: |\n\n  first empty\n"),
        (
            "#!/bin/sh\nexec \"$@\" # run\n",
            "k: |\n  #!/bin/sh\n  exec \"$@\" # run\n",
        ),
        (
            "key: value\n---\n...\n",
            "k: |\n  key: value\n  ---\n  ...\n",
        ),
    ];
    for (s, expected) in cases {
        let value = json!({ "k": s });
        assert_eq!(assert_round_trip(&value), expected, "for {s:?}");
    }
    // Followed by another key, and inside a list item.
    let value = json!({"a": "x\ny\n\n", "b": [{"c": "p\nq", "d": 1}, "r\ns\n"]});
    assert_eq!(
        assert_round_trip(&value),
        "a: |+\n  x\n  y\n\nb:\n- c: |-\n    p\n    q\n  d: 1\n- |\n  r\n  s\n"
    );
    // A top-level multi-line string.
    assert_eq!(assert_round_trip(&json!("x\ny")), "|-\n  x\n  y\n");
}

#[test]
fn multi_line_strings_that_need_double_quotes() {
    let cases = [
        (" leading space\nx\n", r#"k: " leading space\nx\n""#),
        ("\n  indented first\n", r#"k: "\n  indented first\n""#),
        ("trailing \nx", r#"k: "trailing \nx""#),
        ("tab\there\n", r#"k: "tab\there\n""#),
        ("crlf\r\nx", r#"k: "crlf\u000D\nx""#),
        ("\n", r#"k: "\n""#),
        ("\n\n", r#"k: "\n\n""#),
        ("x\n \n", r#"k: "x\n \n""#),
    ];
    for (s, expected) in cases {
        let value = json!({ "k": s });
        assert_eq!(
            assert_round_trip(&value),
            format!("{expected}\n"),
            "for {s:?}"
        );
    }
}

#[test]
fn escapes_in_double_quotes() {
    let value = json!({"k": "say \"hi\" \\ \u{0}\u{1b}\u{7f}\u{85}\u{2028}\u{feff}"});
    assert_eq!(
        assert_round_trip(&value),
        "k: \"say \\\"hi\\\" \\\\ \\u0000\\u001B\\u007F\\u0085\\u2028\\uFEFF\"\n"
    );
}

#[test]
fn unicode_is_kept_as_is() {
    let value =
        json!({"名前": "日本語", "emoji": "🚀 launch", "accent": "café", "quoted": "«x»: y"});
    assert_eq!(
        assert_round_trip(&value),
        "accent: café\nemoji: 🚀 launch\nquoted: \"«x»: y\"\n名前: 日本語\n"
    );
    assert_eq!(assert_round_trip(&json!("ü\nñ\n")), "|\n  ü\n  ñ\n");
}

#[test]
fn scalars_and_empty_containers() {
    assert_eq!(assert_round_trip(&json!({})), "{}\n");
    assert_eq!(assert_round_trip(&json!([])), "[]\n");
    assert_eq!(assert_round_trip(&json!(null)), "null\n");
    assert_eq!(assert_round_trip(&json!(true)), "true\n");
    assert_eq!(assert_round_trip(&json!(-7)), "-7\n");
    assert_eq!(
        assert_round_trip(&json!(u64::MAX)),
        "18446744073709551615\n"
    );
    assert_eq!(assert_round_trip(&json!("")), "\"\"\n");
    let value = json!({"a": {}, "b": [], "c": [{}, [], null, false], "d": {"e": {}}});
    assert_eq!(
        assert_round_trip(&value),
        "a: {}\nb: []\nc:\n- {}\n- []\n- null\n- false\nd:\n  e: {}\n"
    );
}

#[test]
fn floats_read_back_as_floats() {
    let value =
        json!({"a": 1.0, "b": 0.25, "c": -2.5, "d": 1e20, "e": 1.5e-7, "f": 1e-7, "g": -3e300});
    let yaml = assert_round_trip(&value);
    for line in yaml.lines() {
        let number = line.split_once(": ").unwrap().1;
        // YAML 1.1 floats need a dot, and a sign on the exponent.
        assert!(number.contains('.'), "{line}");
        if let Some((_, exp)) = number.split_once(['e', 'E']) {
            assert!(exp.starts_with(['+', '-']), "{line}");
        }
    }
    assert!(
        yaml.contains("a: 1.0\n") && yaml.contains("b: 0.25\n"),
        "{yaml}"
    );
}

#[test]
fn nested_lists_of_lists() {
    let value = json!({"m": [[1, 2], [[3], []], [{"a": 1, "b": [4]}], "x"]});
    assert_eq!(
        assert_round_trip(&value),
        "m:\n- - 1\n  - 2\n- - - 3\n  - []\n- - a: 1\n    b:\n    - 4\n- x\n"
    );
    let top = json!([["a", ["b"]], {"k": [[]]}]);
    assert_eq!(assert_round_trip(&top), "- - a\n  - - b\n- k:\n  - []\n");
}

#[test]
fn very_long_keys_use_explicit_entries() {
    let long = "k".repeat(1500);
    let value =
        json!({ &long: {"a": 1, "b": [1]}, "list": [{ &long: [1, 2] }], "s": { &long: "v" } });
    let yaml = assert_round_trip(&value);
    assert!(
        yaml.contains(&format!("? {long}\n: a: 1\n  b:\n  - 1\n")),
        "{yaml}"
    );
    assert!(
        yaml.contains(&format!("- ? {long}\n  : - 1\n    - 2\n")),
        "{yaml}"
    );
}

#[test]
fn appends_documents() {
    let mut out = String::from("---\n");
    write_document(&json!({"kind": "A"}), &mut out);
    out.push_str("---\n");
    write_document(&json!({"kind": "B"}), &mut out);
    assert_eq!(out, "---\nkind: A\n---\nkind: B\n");
}
