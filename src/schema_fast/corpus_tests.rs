//! The quick walk against the compiled validator on real objects: every object
//! kgen renders for this repository's platform and the examples (their committed
//! `generated/` trees), and thousands of broken variants of them (wrong types,
//! unknown fields, missing fields, bad names and labels, out-of-range numbers,
//! duplicates). For each, the problems found with the quick walk
//! ([`StrictValidator::problems`]) must equal those of the compiled validator alone
//! ([`StrictValidator::problems_compiled`], the path before the quick walk); and
//! the walk compiled ([`super::Plan`]) must pass exactly what the walk passes.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::validate::schema::{builtin, validator};

/// Every YAML document with an `apiVersion` and `kind` under `dir`.
fn objects_under(dir: &Path, out: &mut Vec<(PathBuf, Value)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            objects_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            for doc in serde_norway::Deserializer::from_str(&text) {
                let Ok(value) = Value::deserialize(doc) else {
                    continue;
                };
                if value.get("apiVersion").is_some() && value.get("kind").is_some() {
                    out.push((path.clone(), value));
                }
            }
        }
    }
}

fn corpus() -> Vec<(PathBuf, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    objects_under(&root.join("generated"), &mut out);
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    examples.sort();
    for e in examples {
        objects_under(&e, &mut out);
    }
    objects_under(&root.join("tests"), &mut out);
    out
}

/// Paths (as JSON pointer segments) of every node of `v`.
fn nodes(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                at.push(k.clone());
                nodes(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(i.to_string());
                nodes(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Broken (and some still valid) variants of the node at `path`.
fn variants(object: &Value, path: &[String]) -> Vec<Value> {
    let ptr = pointer(path);
    let node = object.pointer(&ptr).unwrap().clone();
    let mut replacements: Vec<Value> = match &node {
        Value::String(s) => vec![
            json!(7),
            json!(""),
            json!("Not_Valid!"),
            json!("x".repeat(300)),
            json!(format!("{s}=")),
            json!(null),
            json!(true),
        ],
        Value::Number(_) => vec![
            json!("7"),
            json!(-1),
            json!(0),
            json!(1.5),
            json!(1u64 << 40),
        ],
        Value::Bool(b) => vec![json!("true"), json!(!b), json!(1)],
        Value::Null => vec![json!({}), json!("x")],
        Value::Array(items) => {
            let mut v = vec![json!({}), json!([]), json!("x")];
            if let Some(first) = items.first() {
                let mut doubled = items.clone();
                doubled.push(first.clone());
                v.push(Value::Array(doubled));
                v.push(json!([first, 3]));
            }
            v
        }
        Value::Object(map) => {
            let mut v = vec![json!("x"), json!([]), json!({})];
            let mut extra = map.clone();
            extra.insert("zzUnknownField".into(), json!(1));
            v.push(Value::Object(extra));
            let mut odd_key = map.clone();
            odd_key.insert("Bad Key!".into(), json!("v"));
            v.push(Value::Object(odd_key));
            v
        }
    };
    let mut out: Vec<Value> = replacements
        .drain(..)
        .map(|r| {
            let mut o = object.clone();
            *o.pointer_mut(&ptr).unwrap() = r;
            o
        })
        .collect();
    // Without the node (a required field missing, an item fewer).
    if let Some((last, parent)) = path.split_last() {
        let mut o = object.clone();
        match o.pointer_mut(&pointer(parent)).unwrap() {
            Value::Object(map) => {
                map.remove(last);
            }
            Value::Array(items) => {
                items.remove(last.parse::<usize>().unwrap());
            }
            _ => {}
        }
        out.push(o);
    }
    out
}

#[test]
fn the_quick_walk_finds_what_the_compiled_validator_finds() {
    let corpus = corpus();
    assert!(corpus.len() > 300, "only {} objects", corpus.len());
    let (mut objects, mut broken, mut quick_passes) = (0usize, 0usize, 0usize);
    for (i, (path, object)) in corpus.iter().enumerate() {
        let api = object["apiVersion"].as_str().unwrap_or("");
        let kind = object["kind"].as_str().unwrap_or("");
        let Some(b) = builtin(api, kind) else {
            continue;
        };
        let v = validator(b).unwrap();
        objects += 1;
        let mut cases = vec![object.clone()];
        // Every node of one object in five, and the metadata of every object.
        let mut all = Vec::new();
        nodes(object, &mut Vec::new(), &mut all);
        for (j, node) in all.iter().enumerate() {
            if i % 5 == 0 || node.first().is_some_and(|s| s == "metadata") || j % 7 == 0 {
                cases.extend(variants(object, node));
            }
        }
        for case in &cases {
            let quick = v.problems_walked(case);
            let compiled = v.problems_compiled(case);
            assert_eq!(quick, compiled, "{} ({kind}): {case}", path.display());
            // The compiled plan answers what the walk answers, and so finds the same.
            assert_eq!(
                v.plan_passes(case),
                v.quick_passes(case),
                "{} ({kind}): {case}",
                path.display()
            );
            assert_eq!(
                v.problems_static(case),
                compiled,
                "{} ({kind})",
                path.display()
            );
            broken += usize::from(!compiled.is_empty());
            quick_passes += usize::from(v.quick_passes(case));
        }
    }
    assert!(objects > 300, "{objects} objects");
    eprintln!(
        "{objects} objects; {broken} cases with problems; {quick_passes} passed by the quick walk"
    );
    // Every object as rendered passes the quick walk (else it saves nothing).
    for (path, object) in &corpus {
        let api = object["apiVersion"].as_str().unwrap_or("");
        let kind = object["kind"].as_str().unwrap_or("");
        if let Some(b) = builtin(api, kind) {
            let v = validator(b).unwrap();
            if v.problems_compiled(object).is_empty() {
                assert!(v.quick_passes(object), "{}: {object}", path.display());
            }
        }
    }
}
