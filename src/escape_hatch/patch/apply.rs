//! Applying a service's patches to its rendered objects: which objects each patch
//! matches, the operations that do not apply, the fields kgen owns that a patch may
//! not change, and the `[defaults]` patches that matched nothing.

use super::drops::{dropped_volumes, overwriting_adds, Dropped};
use super::owned::{merge_leaves, overlaps, owned_help, owned_pointers, touched, why_owned};
use super::paths::field_of;
use super::{Body, Patch, Seg};
use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::render::Object;
use crate::rules;
use crate::source::{Origin, Sources};

/// What patches did to one object: for its header, and to point its findings at them.
#[derive(Debug, Clone, Default)]
pub struct Patched {
    /// `name (file)` of each patch applied.
    pub applied: Vec<String>,
    /// Fields the patches set (rendered paths) and where each was written.
    pub fields: Vec<(String, Origin)>,
    /// The fields of the values JSON Patch operations write, at their keys.
    pub keys: Vec<(String, Origin)>,
}

/// Applies `patches` to the rendered `objects` of one service. Returns what was
/// patched, by object path; `matched` counts the objects each `[defaults]` patch
/// matched (by its kind's origin), for [`unmatched_defaults`]. `hand_written`: the
/// kind, name and file of each of the service's hand-written objects (which patches
/// do not apply to), for the help of a patch meant for one of them.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    patches: &[Patch],
    objects: &mut [Object],
    hand_written: &[(&str, &str, &str)],
    sources: &Sources,
    env: &str,
    service: &str,
    matched: &mut Vec<(Origin, String, usize)>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Patched> {
    let mut out: BTreeMap<String, Patched> = BTreeMap::new();
    for patch in patches {
        let targets: Vec<usize> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.kind() == patch.kind
                    && patch
                        .target
                        .as_deref()
                        .is_none_or(|n| o.value["metadata"]["name"].as_str() == Some(n))
            })
            .map(|(i, _)| i)
            .collect();
        if patch.from_defaults {
            let key = (patch.kind_origin.clone(), patch.name.clone());
            match matched
                .iter_mut()
                .find(|(o, n, _)| (o, n) == (&key.0, &key.1))
            {
                Some(m) => m.2 += targets.len(),
                None => matched.push((key.0, key.1, targets.len())),
            }
        }
        if targets.is_empty() {
            if !patch.from_defaults {
                let present: Vec<String> = objects
                    .iter()
                    .filter(|o| !o.kind().is_empty())
                    .map(|o| match o.kind() {
                        // Named after the environment: the same list in every one.
                        "Namespace" => "Namespace".to_string(),
                        kind => format!(
                            "{kind} {}",
                            o.value["metadata"]["name"].as_str().unwrap_or("")
                        ),
                    })
                    .collect();
                let name_miss = patch
                    .name_origin
                    .clone()
                    .filter(|_| objects.iter().any(|o| o.kind() == patch.kind));
                let named = patch
                    .target
                    .as_ref()
                    .map(|n| format!(" named `{n}`"))
                    .unwrap_or_default();
                let mut d = Diagnostic::error(
                        rules::PATCH_NO_MATCH,
                        format!(
                            "patch `{}` matches no object: service `{service}` has no {}{named}",
                            patch.name, patch.kind
                        ),
                    )
                    // The kind matches: then the name is what to change.
                    .at(name_miss
                        .clone()
                        .unwrap_or_else(|| patch.kind_origin.clone()))
                    .target(
                        format!("{}/{env}/{service}", crate::workspace::GENERATED_DIR),
                        if name_miss.is_some() { "metadata.name" } else { "kind" },
                    )
                    .help(format!(
                        "its objects: {}; patch one of them, or move the patch to the overlays of the environments that have it",
                        present.join(", ")
                    ));
                if let Some(hint) = near_miss(patch, objects) {
                    d = d.label(hint);
                }
                if let Some((.., file)) = hand_written.iter().find(|(k, n, _)| {
                    *k == patch.kind && patch.target.as_deref().is_none_or(|t| t == *n)
                }) {
                    d = d.help(format!(
                        "hand-written objects are not patched: edit {file} itself (a patch applies to kgen's objects: {})",
                        present.join(", ")
                    ));
                }
                diags.push(d);
            }
            continue;
        }
        for i in targets {
            let object = &mut objects[i];
            let owned = owned_pointers(&object.value);
            let touched = touched(&patch.body, &object.value);
            let mut refused = false;
            for (pointer, segs) in &touched {
                if let Some(o) = owned.iter().find(|o| overlaps(pointer, o)) {
                    diags.push(
                        Diagnostic::error(
                            rules::PATCH_OWNED_FIELD,
                            format!(
                                "patch `{}` changes `{}` of {} `{}`, which kgen owns ({})",
                                patch.name,
                                field_of(pointer, &object.value),
                                object.kind(),
                                object.value["metadata"]["name"].as_str().unwrap_or(""),
                                why_owned(o)
                            ),
                        )
                        .at(patch.origin(sources, segs))
                        .target(
                            format!("{}/{}", crate::workspace::GENERATED_DIR, object.path),
                            field_of(o, &object.value),
                        )
                        .help(owned_help(o)),
                    );
                    refused = true;
                    break;
                }
            }
            if refused {
                continue;
            }
            let drops = |object: &Object, dropped: Vec<Dropped>, diags: &mut Vec<Diagnostic>| {
                for d in dropped {
                    diags.push(
                        Diagnostic::error(
                            rules::PATCH_DROPS_RENDERED,
                            format!(
                                "patch `{}` of {} `{}`: {}",
                                patch.name,
                                object.kind(),
                                object.value["metadata"]["name"].as_str().unwrap_or(""),
                                d.message
                            ),
                        )
                        .at(patch.origin(sources, &d.segs))
                        .target(
                            format!("{}/{}", crate::workspace::GENERATED_DIR, object.path),
                            d.field,
                        )
                        .help(d.help),
                    );
                }
            };
            let overwrites = overwriting_adds(&patch.body, &object.value);
            if !overwrites.is_empty() {
                drops(object, overwrites, diags);
                continue;
            }
            // kgen's own volumes and mounts, compared before and after: a merge patch
            // or a `replace` of a whole list takes them away too.
            let before = object.value.clone();
            match &patch.body {
                Body::Merge(m) => json_patch::merge(&mut object.value, m),
                Body::Json(_, ops) => {
                    if let Err(e) = json_patch::patch(&mut object.value, ops) {
                        let segs = vec![Seg::Index(e.operation), Seg::Key("path".into())];
                        let what = match e.kind {
                            json_patch::PatchErrorKind::TestFailed => {
                                // The value the object has there (the patch's earlier
                                // operations applied: json-patch undoes them only on
                                // error, so this is the object as the test saw it).
                                let found = object
                                    .value
                                    .pointer(e.path.as_str())
                                    .map(|v| format!(": the object has {v} there"))
                                    .unwrap_or_else(|| ": the object has nothing there".into());
                                format!("its `test` of `{}` failed{found}", e.path.as_str())
                            }
                            json_patch::PatchErrorKind::InvalidFromPointer => {
                                "its `from` does not exist in the object".to_string()
                            }
                            json_patch::PatchErrorKind::CannotMoveInsideItself => {
                                "it moves a value inside itself".to_string()
                            }
                            _ => format!(
                                "the path `{}` does not exist in the object",
                                e.path.as_str()
                            ),
                        };
                        let meant = match e.kind {
                            json_patch::PatchErrorKind::TestFailed
                            | json_patch::PatchErrorKind::InvalidFromPointer
                            | json_patch::PatchErrorKind::CannotMoveInsideItself => None,
                            _ => meant_path(&object.value, e.path.as_str()),
                        };
                        let mut d = Diagnostic::error(
                                rules::PATCH_FAILED,
                                format!(
                                    "operation {} of JSON Patch `{}` does not apply to {} `{}`: {what}",
                                    e.operation,
                                    patch.name,
                                    object.kind(),
                                    object.value["metadata"]["name"].as_str().unwrap_or("")
                                ),
                            )
                            .at(patch.origin(sources, &segs))
                            .target(format!("{}/{}", crate::workspace::GENERATED_DIR, object.path), "(root)")
                            .help(if matches!(e.kind, json_patch::PatchErrorKind::TestFailed) {
                                "a `test` passes only when the value at `path` equals its `value` exactly (type included: `\"1\"` is not `1`): write the value the object has, or take the `test` out"
                            } else {
                                "`add` needs the parent to exist: `/-` appends to a list that must be there (a container without `env` has no `env` list: add it whole, `path: .../env` with a list as `value`); `remove` and `replace` need the path itself. To see the object as kgen renders it, take the patch out and run `kgen render`"
                            });
                        if let Some(meant) = meant {
                            d = d.label(format!("did you mean `{meant}`?"));
                        }
                        diags.push(d);
                        continue;
                    }
                }
            }
            let dropped = dropped_volumes(&before, &object.value, &touched);
            if !dropped.is_empty() {
                object.value = before;
                drops(object, dropped, diags);
                continue;
            }
            let entry = out.entry(object.path.clone()).or_default();
            entry.applied.push(format!(
                "{} ({}, {})",
                patch.name,
                patch.describe(),
                patch.source
            ));
            for (pointer, segs) in &touched {
                entry.fields.push((
                    field_of(pointer, &object.value),
                    patch.origin(sources, segs),
                ));
            }
            // Each value a JSON Patch operation writes, at its own line: a finding
            // about it points there, not at the operation's `path`.
            for (pointer, segs) in op_values(&patch.body, &before) {
                let field = field_of(&pointer, &object.value);
                entry
                    .keys
                    .push((field.clone(), patch.origin(sources, &segs)));
                entry
                    .fields
                    .push((field, patch.value_origin(sources, &segs)));
            }
        }
    }
    out
}

/// The path a JSON Patch's `path` that does not exist in `object` was meant to be: its
/// first key the object lacks replaced by the closest field that the kind's schema
/// allows there or the object has (`/spec/template/spec/containers/0/envv/-` →
/// `.../env/-`). None when no field is close, or the key is right and missing (an
/// `env` list the container does not have yet).
fn meant_path(object: &Value, path: &str) -> Option<String> {
    let tokens: Vec<&str> = path.split('/').skip(1).collect();
    let mut at = object;
    for (i, token) in tokens.iter().enumerate() {
        let key = token.replace("~1", "/").replace("~0", "~");
        let next = match at {
            Value::Object(map) => map.get(&key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|n| items.get(n)),
            _ => return None,
        };
        if let Some(next) = next {
            at = next;
            continue;
        }
        let Value::Object(map) = at else {
            return None;
        };
        let parent = format!("/{}", tokens[..i].join("/"));
        let parent = if i == 0 { "" } else { parent.as_str() };
        let mut known = crate::validate::schema::builtin_known_fields(object, parent);
        known.extend(map.keys().cloned());
        let meant = crate::diagnostic::closest(&key, known.iter().map(String::as_str))?;
        if meant == key {
            return None;
        }
        let mut fixed: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
        fixed[i] = meant.replace('~', "~0").replace('/', "~1");
        return Some(format!("/{}", fixed.join("/")));
    }
    None
}

/// The leaves of the values of a JSON Patch's `add` and `replace` operations: their
/// pointers in the object, and where each is written in the body.
fn op_values(body: &Body, before: &Value) -> Vec<(String, Vec<Seg>)> {
    let mut out = Vec::new();
    // How many entries earlier operations appended to each list.
    let mut appended: BTreeMap<String, usize> = BTreeMap::new();
    if let Body::Json(_, ops) = body {
        for (i, op) in ops.iter().enumerate() {
            let (path, value) = match op {
                json_patch::PatchOperation::Add(a) => (a.path.as_str(), &a.value),
                json_patch::PatchOperation::Replace(r) => (r.path.as_str(), &r.value),
                _ => continue,
            };
            // `/-` appends: the entry's index is the list's length before it, so
            // that a finding about the entry points at this operation's value.
            let path = match path.strip_suffix("/-") {
                Some(list) => {
                    let n = appended.entry(list.to_string()).or_default();
                    let len = before
                        .pointer(list)
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    *n += 1;
                    format!("{list}/{}", len + *n - 1)
                }
                None => path.to_string(),
            };
            let mut segs = vec![Seg::Index(i), Seg::Key("value".into())];
            if value.is_object() {
                // The value itself, for a finding about a field inside it that none of
                // its leaves is (`volumes[1].hostPath`).
                out.push((path.clone(), segs.clone()));
            }
            merge_leaves(value, None, &path, &mut segs, &mut out);
        }
    }
    out
}

/// The object a patch that matched nothing (KG043) was probably meant for: a kind
/// of the service's objects close to the patch's, or when the kind is right, a
/// name of that kind close to the patch's `name`.
fn near_miss(patch: &Patch, objects: &[Object]) -> Option<String> {
    if objects.iter().any(|o| o.kind() == patch.kind) {
        let target = patch.target.as_deref()?;
        let names = objects
            .iter()
            .filter(|o| o.kind() == patch.kind)
            .filter_map(|o| o.value["metadata"]["name"].as_str());
        did_you_mean(target, names).map(|h| format!("the kind matches, the name does not: {h}"))
    } else {
        did_you_mean(&patch.kind, objects.iter().map(Object::kind))
    }
}

/// `[defaults]` patches that matched no object of any service (KG043).
pub fn unmatched_defaults(matched: &[(Origin, String, usize)]) -> Vec<Diagnostic> {
    matched
        .iter()
        .filter(|(_, _, n)| *n == 0)
        .map(|(origin, name, _)| {
            Diagnostic::error(
                rules::PATCH_NO_MATCH,
                format!("patch `{name}` of [defaults] matches no object of any service"),
            )
            .at(origin.clone())
            .help("check its `kind` and `name` against the rendered objects; a [defaults] patch may match nothing in some services, but not in all")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::meant_path;
    use serde_json::json;

    /// A misspelt key of a JSON Patch path is named as the kind's schema or the
    /// object spells it; a right key the object lacks is not "corrected".
    #[test]
    fn a_path_is_meant_as_the_schema_spells_it() {
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "x"}]}}}
        });
        let meant = |p: &str| meant_path(&deployment, p);
        assert_eq!(
            meant("/spec/template/spec/containers/0/envv/-").as_deref(),
            Some("/spec/template/spec/containers/0/env/-")
        );
        assert_eq!(
            meant("/spec/tempalte/metadata").as_deref(),
            Some("/spec/template/metadata")
        );
        assert_eq!(meant("/spec/template/spec/containers/0/env/-"), None);
        assert_eq!(meant("/spec/template/spec/containers/3/env"), None);
    }
}
