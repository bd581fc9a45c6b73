//! Helpers for the unit tests of `diff`'s modules.

use std::collections::BTreeSet;

use serde_json::Value;

use super::compare;
use crate::manifest_set::ManifestSet;

pub(super) fn set(resources: &[(&str, Value)]) -> ManifestSet {
    let files: Vec<(String, String)> = resources
        .iter()
        .map(|(path, v)| (path.to_string(), serde_json::to_string(v).unwrap()))
        .collect();
    ManifestSet::parse(&files).unwrap()
}

/// (code, message) of every risk and info of a change of one object.
pub(super) fn findings_of(base: Value, head: Value) -> Vec<(&'static str, String)> {
    let d = compare(
        &set(&[("dev/x/a.yaml", base)]),
        &set(&[("dev/x/a.yaml", head)]),
        &BTreeSet::new(),
    );
    d.risks
        .iter()
        .chain(&d.info)
        .map(|r| (r.kind.code(), r.message.clone()))
        .collect()
}
