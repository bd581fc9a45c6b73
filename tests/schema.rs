//! The committed JSON Schemas are what `kgen schema` prints, and the example
//! platform validates against them (checked by the `jsonschema` crate, an outside
//! referee for the schema kgen derives).

mod common;

use common::repo_root;

fn committed(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("docs").join(name)).unwrap()
}

#[test]
fn committed_schemas_are_fresh() {
    let platform = common::kgen_in(&repo_root(), &["schema"]);
    assert_eq!(platform.code, 0);
    assert!(
        platform.stdout == committed("platform.schema.json"),
        "docs/platform.schema.json is stale: run `kgen schema > docs/platform.schema.json`"
    );
    let overlay = common::kgen_in(&repo_root(), &["schema", "--overlay"]);
    assert!(
        overlay.stdout == committed("overlay.schema.json"),
        "docs/overlay.schema.json is stale: run `kgen schema --overlay > docs/overlay.schema.json`"
    );
}

fn toml_as_json(path: &std::path::Path) -> serde_json::Value {
    let value: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::to_value(value).unwrap()
}

#[test]
fn example_platform_and_overlays_validate_against_the_schemas() {
    let root = repo_root();
    let schema: serde_json::Value =
        serde_json::from_str(&committed("platform.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc = toml_as_json(&root.join("platform.toml"));
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");

    let schema: serde_json::Value =
        serde_json::from_str(&committed("overlay.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for env in ["dev", "staging", "prod"] {
        let doc = toml_as_json(&root.join(format!("overlays/{env}.toml")));
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{env}: {errors:?}");
    }
}

#[test]
fn schema_rejects_unknown_keys() {
    let schema: serde_json::Value =
        serde_json::from_str(&committed("platform.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut doc = toml_as_json(&repo_root().join("platform.toml"));
    doc["services"]["main-api"]["replcas"] = serde_json::json!(3);
    assert!(!validator.is_valid(&doc));
}

#[test]
fn platform_toml_points_editors_at_the_schema() {
    let text = std::fs::read_to_string(repo_root().join("platform.toml")).unwrap();
    assert!(text.starts_with("#:schema ./docs/platform.schema.json\n"));
}

/// `waivers` are refused (KG200) in `[defaults]` and in an overlay's services, and
/// accepted under `[services.<name>]` and `[platform]`: the schemas say the same, so an
/// editor flags them where kgen does.
#[test]
fn schemas_refuse_waivers_where_kgen_does() {
    let waiver = serde_json::json!([{ "rule": "KG202", "reason": "a reason" }]);
    let platform: serde_json::Value =
        serde_json::from_str(&committed("platform.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&platform).unwrap();
    let mut doc = toml_as_json(&repo_root().join("platform.toml"));
    doc["services"]["main-api"]["waivers"] = waiver.clone();
    doc["platform"]["waivers"] = waiver.clone();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    doc["defaults"]["waivers"] = waiver.clone();
    assert!(
        !validator.is_valid(&doc),
        "waivers in [defaults] pass the schema"
    );

    let overlay: serde_json::Value =
        serde_json::from_str(&committed("overlay.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&overlay).unwrap();
    let mut doc = toml_as_json(&repo_root().join("overlays/dev.toml"));
    assert!(validator.is_valid(&doc));
    doc["services"]["main-api"]["waivers"] = waiver;
    assert!(
        !validator.is_valid(&doc),
        "waivers in an overlay's service pass the schema"
    );
}
