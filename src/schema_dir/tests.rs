//! Tests of the schema referee on toy schemas and the upstream CRD schemas.

use super::*;
use serde_json::json;

/// A private schema directory with one hand-written CRD schema.
fn toy_dir(schema: &Value) -> (PathBuf, SchemaDir) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "kgen-schema-dir-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(dir.join("example.com")).unwrap();
    std::fs::write(dir.join("example.com/widget_v1.json"), schema.to_string()).unwrap();
    let schema_dir = SchemaDir::open(&dir).unwrap();
    (dir, schema_dir)
}

fn toy_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["mode"],
                "properties": {
                    "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                    "port": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true},
                    "note": {"type": "string", "nullable": true},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"x": {"type": "string"}}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "items": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
                    },
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                    "embedded": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}},
                    "checked": {"type": "string", "x-kubernetes-validations": [{"rule": "self != 'x'", "message": "no x"}]},
                    "blob": {"type": "string", "format": "byte"}
                }
            }
        }
    })
}

fn widget(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"}, "spec": spec})
}

#[test]
fn injects_additional_properties_false_only_where_structural() {
    let strict = strict_schema(&toy_schema());
    assert_eq!(strict["additionalProperties"], false);
    let spec = &strict["properties"]["spec"];
    assert_eq!(spec["additionalProperties"], false);
    assert_eq!(
        spec["properties"]["items"]["items"]["additionalProperties"],
        false
    );
    // preserve-unknown-fields and explicit additionalProperties are left alone.
    assert!(spec["properties"]["free"]
        .get("additionalProperties")
        .is_none());
    assert_eq!(
        spec["properties"]["labels"]["additionalProperties"],
        json!({"type": "string"})
    );
    // int-or-string and nullable become type lists.
    assert_eq!(
        spec["properties"]["port"]["type"],
        json!(["integer", "string"])
    );
    assert!(spec["properties"]["port"].get("anyOf").is_none());
    assert_eq!(
        spec["properties"]["note"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(spec["properties"]["tags"]["uniqueItems"], true);
    // metadata becomes a strict ObjectMeta.
    assert_eq!(
        strict["properties"]["metadata"]["additionalProperties"],
        false
    );
    // The upstream value is untouched.
    assert!(toy_schema().get("additionalProperties").is_none());
}

#[test]
fn toy_schema_behaves_like_a_strict_api_server() {
    let (tmp, mut dir) = toy_dir(&toy_schema());
    // Defaults fill the required `mode`; int-or-string, nullable, free-form,
    // embedded resources and CEL rules are accepted.
    let ok = widget(json!({
        "port": "http",
        "note": null,
        "free": {"x": "1", "anything": {"goes": true}},
        "labels": {"a": "b"},
        "items": [{"name": "one"}, {"name": "two"}],
        "tags": ["a", "b"],
        "embedded": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {}},
        "checked": "x",
        "blob": "aGVsbG8="
    }));
    assert_eq!(dir.validate(&ok), Ok(()));
    assert_eq!(dir.validate(&widget(json!({"port": 8080}))), Ok(()));

    let bad = widget(json!({
        "mode": "c",
        "port": 1.5,
        "items": [{"name": "one"}, {"name": "one"}],
        "tags": ["a", "a"],
        "embedded": {"apiVersion": "v1", "extra": 1},
        "blob": "not base64!",
        "labels": {"app.kubernetes.io/name": 3}
    }));
    let problems = dir.validate(&bad).unwrap_err();
    let expected_prefixes = [
        "spec.blob: ",
        "spec.embedded.extra: unknown field",
        "spec.items[1]: duplicate entry with key name=\"one\"",
        "spec.labels[\"app.kubernetes.io/name\"]: expected string, got integer",
        "spec.mode: ",
        "spec.port: expected integer or string, got number",
        "spec.tags: ",
    ];
    assert_eq!(problems.len(), expected_prefixes.len(), "{problems:#?}");
    for (problem, prefix) in problems.iter().zip(expected_prefixes) {
        assert!(
            problem.starts_with(prefix),
            "{problem:?} should start with {prefix:?}"
        );
    }

    // Without the default, a missing required field would be reported.
    let mut no_default = toy_schema();
    no_default["properties"]["spec"]["properties"]["mode"]
        .as_object_mut()
        .unwrap()
        .remove("default");
    let (tmp2, mut dir2) = toy_dir(&no_default);
    assert_eq!(
        dir2.validate(&widget(json!({}))),
        Err(vec!["spec.mode: required field missing".to_string()])
    );
    std::fs::remove_dir_all(tmp).unwrap();
    std::fs::remove_dir_all(tmp2).unwrap();
}

#[test]
fn metadata_is_checked_like_object_meta() {
    let (tmp, mut dir) = toy_dir(&toy_schema());
    let mut object = widget(json!({}));
    object["metadata"] = json!({
        "namespace": "Not_A_Label",
        "labelz": {},
        "labels": {"ok": "yes", "bad key!": "v", "long": "x".repeat(64)},
        "annotations": {"argocd.argoproj.io/sync-wave": "1"}
    });
    let problems = dir.validate(&object).unwrap_err();
    assert_eq!(problems.len(), 5, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("metadata.labels.long: ")),
        "{problems:#?}"
    );
    assert!(
        problems.contains(&"metadata.labelz: unknown field".to_string()),
        "{problems:#?}"
    );
    assert!(
        problems.contains(&"metadata.name: required field missing".to_string()),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("metadata.namespace: ")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("metadata.labels: ")),
        "{problems:#?}"
    );
    std::fs::remove_dir_all(tmp).unwrap();
}

#[test]
fn unknown_kind_and_malformed_objects() {
    let (tmp, mut dir) = toy_dir(&toy_schema());
    let display = dir.dir().display().to_string();
    assert_eq!(
        dir.validate(
            &json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Foo", "metadata": {"name": "x"}})
        ),
        Err(vec![format!(
            "no schema for argoproj.io/v1alpha1 Foo in {display}"
        )])
    );
    assert_eq!(
        dir.validate(&json!({"apiVersion": "v1", "kind": "ConfigMap"})),
        Err(vec![format!("no schema for v1 ConfigMap in {display}")])
    );
    assert_eq!(
        dir.validate(&json!({"kind": 3})),
        Err(vec![
            "apiVersion: required field missing".to_string(),
            "kind: expected string, got integer".to_string()
        ])
    );
    assert_eq!(
        dir.validate(&json!({"apiVersion": "example.com/../v1", "kind": "Widget"})),
        Err(vec![format!(
            "no schema for example.com/../v1 Widget in {display}"
        )])
    );
    assert_eq!(
        dir.validate(&json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}})),
        Err(vec!["metadata: required field missing".to_string()])
    );
    assert_eq!(
        dir.validate(&json!([])),
        Err(vec!["(root): expected object, got array".to_string()])
    );
    // Unknown top-level fields are rejected too.
    let mut object = widget(json!({}));
    object["status"] = json!({});
    assert_eq!(
        dir.validate(&object),
        Err(vec!["status: unknown field".to_string()])
    );
    std::fs::remove_dir_all(tmp).unwrap();
}

#[test]
fn open_rejects_missing_directory() {
    assert!(SchemaDir::open(Path::new("/nonexistent/kgen/schemas")).is_err());
    let file = std::env::temp_dir().join(format!("kgen-schema-dir-file-{}", std::process::id()));
    std::fs::write(&file, "{}").unwrap();
    assert!(SchemaDir::open(&file).is_err());
    std::fs::remove_file(file).unwrap();
}

#[test]
fn paths_render_readably() {
    let instance = json!({"spec": {"list": [{"a.b/c": {"0": 1}}]}});
    assert_eq!(render_pointer("", &instance), "");
    assert_eq!(
        render_pointer("/spec/list/0/a.b~1c/0", &instance),
        "spec.list[0][\"a.b/c\"].0"
    );
    assert!(is_base64(""));
    assert!(is_base64("aGk="));
    assert!(!is_base64("aGk"));
    assert!(!is_base64("a=Gk"));
}

/// Every upstream schema in the shared directory compiles after hardening.
#[test]
fn every_upstream_schema_compiles() {
    let Some(mut dir) = upstream_schema_dir() else {
        return;
    };
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.dir().join("index.json")).unwrap())
            .unwrap();
    let entries: Vec<(String, String, String)> = index_entries(&index);
    assert!(entries.len() >= 20, "index lists {} schemas", entries.len());
    for (group, version, kind) in entries {
        // An object with only apiVersion/kind/metadata reaches the compiled
        // validator; its problems (missing spec, ...) are irrelevant here.
        let object = json!({"apiVersion": format!("{group}/{version}"), "kind": kind, "metadata": {"name": "x"}});
        if let Err(problems) = dir.validate(&object) {
            for problem in problems {
                assert!(
                    !problem.starts_with("no schema") && !problem.starts_with("cannot"),
                    "{group}/{version} {kind}: {problem}"
                );
            }
        }
    }
}

/// (group, version, kind) of every file listed in `index.json`.
fn index_entries(index: &Value) -> Vec<(String, String, String)> {
    let list = index
        .get("schemas")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter_map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
            Some((s("group")?, s("version")?, s("kind")?))
        })
        .collect()
}

/// `problems` walks until [`WALKS_BEFORE_COMPILING`] instances were tried, then
/// compiles the validator and uses it alone; the problems are the same either way.
#[test]
fn problems_switch_to_the_compiled_validator_after_enough_walks() {
    fn no_defs(_: &str) -> Option<&'static Value> {
        None
    }
    let plain = json!({"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["a", "b"]}}},
    }});
    let schema = strict_schema(&plain);
    let whole = schema.clone();
    let v = StrictValidator::split(schema, false, no_defs, Box::new(move || whole.clone()));
    let good = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"mode": "a"}});
    let bad = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"mode": "z"}});
    assert!(v.problems_walked(&good).is_empty());
    assert!(
        v.validator.get().is_none(),
        "the walk passed it: nothing compiled"
    );
    for _ in 0..WALKS_BEFORE_COMPILING {
        assert!(v.problems(&good).is_empty());
    }
    assert!(
        v.validator.get().is_none(),
        "{WALKS_BEFORE_COMPILING} walks"
    );
    assert!(v.problems(&good).is_empty());
    assert!(v.validator.get().is_some(), "compiled after that");
    let compiled = StrictValidator::new(&plain).unwrap();
    assert_eq!(v.problems(&bad), compiled.problems_compiled(&bad));
    assert!(!v.problems(&bad).is_empty());
}

/// An unknown field names the known field it is closest to, and a value outside an
/// `enum` the option (`meant`, the "did you mean" of KG101).
#[test]
fn problems_name_what_a_misspelling_meant() {
    let (tmp, mut dir) = toy_dir(&toy_schema());
    let mut object = widget(json!({"mode": "B", "prot": 1}));
    object["metadata"]["lables"] = json!({});
    let meant: Vec<(String, Option<String>)> = dir
        .problems(&object)
        .unwrap()
        .into_iter()
        .map(|p| (p.path, p.meant))
        .collect();
    assert_eq!(
        meant,
        [
            ("metadata.lables".to_string(), Some("labels".to_string())),
            ("spec.mode".to_string(), Some("b".to_string())),
            ("spec.prot".to_string(), Some("port".to_string())),
        ]
    );
    std::fs::remove_dir_all(tmp).unwrap();
}
