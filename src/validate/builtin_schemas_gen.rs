//! Writes and checks `builtin_schemas.rs`: the hardened schema of every built-in kind,
//! generated from its type (`schema::KINDS`) and [`strict_schema_owned`], split into
//! roots and definitions. `KGEN_BLESS=1 cargo test --lib builtin_schemas` rewrites the
//! file; without it, the test fails when the file differs from the types.

use std::collections::BTreeMap;

use serde_json::Value;

use super::builtin_schemas::{DEFS, ROOTS};
use super::schema::{validator, KINDS};
use crate::schema_dir::{has_key, strict_schema_owned};

/// Each kind's (prepare, root without `$defs`), and every definition by name.
type Split = (Vec<(bool, Value)>, BTreeMap<String, Value>);

fn split() -> Split {
    let mut roots = Vec::new();
    let mut defs: BTreeMap<String, Value> = BTreeMap::new();
    for k in &KINDS {
        let mut whole = strict_schema_owned((k.schema)());
        let prepare = has_key(&whole, &["default", "x-kubernetes-list-map-keys"]);
        let own = whole
            .as_object_mut()
            .and_then(|m| m.remove("$defs"))
            .unwrap_or_default();
        for (name, def) in own.as_object().into_iter().flatten() {
            // Looked up as written in a `$ref` (see `schema_fast::Defs`).
            assert!(!name.contains(['/', '~', '%']), "definition name {name}");
            if let Some(seen) = defs.get(name) {
                assert_eq!(
                    seen, def,
                    "definition {name} differs between kinds (a shared store cannot hold both)"
                );
            }
            defs.insert(name.clone(), def.clone());
        }
        roots.push((prepare, whole));
    }
    (roots, defs)
}

fn raw(json: &str) -> String {
    assert!(!json.contains("\"###"), "a schema holds \"###");
    format!("r###\"{json}\"###")
}

fn render((roots, defs): &Split) -> String {
    let mut out = String::from(
        "//! The hardened JSON Schemas of kgen's built-in kinds (see `schema`) as JSON text:\n\
         //! each kind's root (without `$defs`) and every definition once, by name. Generated\n\
         //! from the types with `strict_schema`: do not edit; `KGEN_BLESS=1 cargo test --lib\n\
         //! builtin_schemas` rewrites it, and that test fails when it is out of date. Kept as\n\
         //! text so that a command parses only the definitions its objects reach, instead of\n\
         //! generating and hardening every schema it uses.\n\n\
         /// (apiVersion, kind, prepare, root), index for index with `schema::KINDS`;\n\
         /// `prepare`: the whole schema has `default` or `x-kubernetes-list-map-keys` keys.\n",
    );
    out.push_str(&format!(
        "pub(super) static ROOTS: [(&str, &str, bool, &str); {}] = [\n",
        roots.len()
    ));
    for (k, (prepare, root)) in KINDS.iter().zip(roots) {
        out.push_str(&format!(
            "    ({:?}, {:?}, {prepare}, {}),\n",
            k.api_version,
            k.kind,
            raw(&root.to_string())
        ));
    }
    out.push_str("];\n\n");
    out.push_str(&format!(
        "pub(super) const N_DEFS: usize = {};\n\n",
        defs.len()
    ));
    out.push_str("/// The definitions, by name in name order.\n");
    out.push_str("pub(super) static DEFS: [(&str, &str); N_DEFS] = [\n");
    for (name, def) in defs {
        out.push_str(&format!("    ({name:?}, {}),\n", raw(&def.to_string())));
    }
    out.push_str("];\n");
    out
}

#[test]
fn builtin_schemas_are_those_of_the_types() {
    let split = split();
    if std::env::var_os("KGEN_BLESS").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/validate/builtin_schemas.rs"
        );
        std::fs::write(path, render(&split)).unwrap();
        return;
    }
    let stale = "src/validate/builtin_schemas.rs is out of date: KGEN_BLESS=1 cargo test --lib builtin_schemas rewrites it";
    let (roots, defs) = split;
    assert_eq!(ROOTS.len(), KINDS.len(), "{stale}");
    for ((k, (prepare, root)), (api_version, kind, p, text)) in KINDS.iter().zip(&roots).zip(ROOTS)
    {
        assert_eq!((k.api_version, k.kind), (api_version, kind), "{stale}");
        assert_eq!(*prepare, p, "{kind}: {stale}");
        let parsed: Value = serde_json::from_str(text).unwrap();
        assert_eq!(&parsed, root, "{kind}: {stale}");
    }
    let names: Vec<&str> = DEFS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        defs.keys().map(String::as_str).collect::<Vec<_>>(),
        "{stale}"
    );
    for ((name, text), def) in DEFS.iter().zip(defs.values()) {
        let parsed: Value = serde_json::from_str(text).unwrap();
        assert_eq!(&parsed, def, "{name}: {stale}");
    }
}

/// What a validator walks (its root and, through `$ref`, the definitions) is the
/// whole hardened schema of its type.
#[test]
fn validators_see_the_whole_schema() {
    for k in &KINDS {
        let v = validator(k).unwrap();
        let mut whole = strict_schema_owned((k.schema)());
        let defs = whole
            .as_object_mut()
            .and_then(|m| m.remove("$defs"))
            .unwrap_or_default();
        assert_eq!(v.root_schema(), &whole, "{}", k.kind);
        for (name, def) in defs.as_object().into_iter().flatten() {
            assert_eq!(v.definition(name), Some(def), "{} {name}", k.kind);
        }
    }
}
