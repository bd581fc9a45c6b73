//! What a patch would drop of what kgen rendered (KG048): a JSON Patch `add` that lands
//! on a list or map kgen filled, which RFC 6902 makes a replacement (section 4.1: "If
//! the target location specifies an object member that does exist, that member's value
//! is replaced"), and kgen's own volumes and mounts (`tmp`, `secrets-store`,
//! `files-<n>`) that a patch takes out of a pod, leaving a read-only root file system
//! without its writable `/tmp`, or a container without the files and secrets kgen
//! mounts for it.

use serde_json::Value;

use super::owned::POD_TEMPLATES;
use super::paths::{field_of, pointer};
use super::{Body, Seg};

/// One thing a patch would drop.
pub(super) struct Dropped {
    /// Where in the patch's body: the operation's `path`, or the merge patch's key.
    pub segs: Vec<Seg>,
    pub message: String,
    pub help: String,
    /// The field of the object it drops.
    pub field: String,
}

/// The `add` operations of a JSON Patch whose path is an existing, non-empty list or
/// map of `target` (not an index of a list: that `add` inserts). An operation of the
/// same patch that removed or replaced that path first makes the `add` deliberate.
pub(super) fn overwriting_adds(body: &Body, target: &Value) -> Vec<Dropped> {
    let Body::Json(_, ops) = body else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        // `copy` and `move` are an `add` at their `path` too (RFC 6902 4.4, 4.5).
        let (json_patch::PatchOperation::Add(_)
        | json_patch::PatchOperation::Copy(_)
        | json_patch::PatchOperation::Move(_)) = op
        else {
            continue;
        };
        let path = op.path().as_str();
        let Some((parent, _)) = path.rsplit_once('/') else {
            continue;
        };
        if pointer(target, parent).is_none_or(Value::is_array) {
            continue;
        }
        let earlier = ops[..i].iter().any(|o| o.path().as_str() == path);
        let verb = match op {
            json_patch::PatchOperation::Copy(_) => "copies to",
            json_patch::PatchOperation::Move(_) => "moves to",
            _ => "adds",
        };
        let Some(existing) = pointer(target, path).filter(|_| !earlier) else {
            continue;
        };
        let (count, what) = match existing {
            Value::Array(a) if !a.is_empty() => {
                (a.len(), if a.len() == 1 { "entry" } else { "entries" })
            }
            Value::Object(m) if !m.is_empty() => {
                (m.len(), if m.len() == 1 { "key" } else { "keys" })
            }
            _ => continue,
        };
        out.push(Dropped {
            field: field_of(path, target),
            segs: vec![Seg::Index(i), Seg::Key("path".into())],
            message: format!(
                "operation {i} {verb} `{}`, which replaces the {count} {what} kgen renders there ({}): an `add`, `copy` or `move` to an existing member replaces it (RFC 6902)",
                field_of(path, target),
                names(existing)
            ),
            help: if existing.is_array() {
                format!("append with `add` at `{path}/-` (one operation per entry), so that what kgen renders stays; to replace the whole list on purpose, use `replace`")
            } else {
                format!("add each key with `add` at `{path}/<key>`, so that what kgen renders stays; to replace the whole map on purpose, use `replace`")
            },
        });
    }
    out
}

/// Whether kgen renders a volume of this name itself (KG018 reserves them).
fn kgen_volume(name: &str) -> bool {
    name == "tmp" || name == "secrets-store" || name.starts_with("files-")
}

/// kgen's own volumes and mounts that `before` has and `after` (the object patched)
/// lacks, with the pointer of the list each was in. `touched`: what the patch writes,
/// to point at the operation or key that took the list away.
pub(super) fn dropped_volumes(
    before: &Value,
    after: &Value,
    touched: &[(String, Vec<Seg>)],
) -> Vec<Dropped> {
    let mut out = Vec::new();
    for template in POD_TEMPLATES {
        let spec = &format!("{template}/spec");
        let Some(pod) = pointer(before, spec) else {
            continue;
        };
        let names_at = |v: &Value, list: &str| -> Vec<String> {
            pointer(v, list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("name").and_then(Value::as_str))
                .filter(|n| kgen_volume(n))
                .map(str::to_string)
                .collect()
        };
        let mut lists = vec![(format!("{spec}/volumes"), "volume".to_string())];
        for kind in ["containers", "initContainers"] {
            for (i, c) in pod
                .get(kind)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                // A container the patch took out takes its mounts with it.
                if container_at(after, &format!("{spec}/{kind}"), name).is_none() {
                    continue;
                }
                lists.push((
                    format!("{spec}/{kind}/{i}/volumeMounts"),
                    format!("mount of container `{name}`"),
                ));
            }
        }
        for (list, what) in lists {
            let after_list = after_list_pointer(before, after, &list);
            let kept = names_at(after, &after_list);
            let gone: Vec<String> = names_at(before, &list)
                .into_iter()
                .filter(|n| !kept.contains(n))
                .collect();
            if gone.is_empty() {
                continue;
            }
            let segs = touched
                .iter()
                .find(|(p, _)| {
                    p == &list
                        || list.starts_with(&format!("{p}/"))
                        || p.starts_with(&format!("{list}/"))
                })
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            let each: Vec<String> = gone
                .iter()
                .map(|n| format!("`{n}` ({})", purpose(n)))
                .collect();
            let field = field_of(&list, before);
            out.push(Dropped {
                segs,
                message: format!(
                    "it drops the {what}{} {} that kgen renders at `{field}`",
                    if gone.len() > 1 { "s" } else { "" },
                    each.join(" and ")
                ),
                help: format!(
                    "append to the list instead, with a JSON Patch `add` at `{list}/-`: a merge patch, an `add` or a `replace` of the whole list replaces kgen's entries"
                ),
                field,
            });
        }
    }
    out
}

/// The index of the container named `name` in the list at `containers`.
fn container_at(v: &Value, containers: &str, name: &str) -> Option<usize> {
    pointer(v, containers)
        .and_then(Value::as_array)?
        .iter()
        .position(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

/// The pointer of a container's mount list in `after`, found by the container's name
/// (a patch may have inserted containers before it); other lists keep their pointer.
fn after_list_pointer(before: &Value, after: &Value, list: &str) -> String {
    let Some(container) = list.strip_suffix("/volumeMounts") else {
        return list.to_string();
    };
    let Some((containers, _)) = container.rsplit_once('/') else {
        return list.to_string();
    };
    let name = pointer(before, container)
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    container_at(after, containers, name)
        .map(|j| format!("{containers}/{j}/volumeMounts"))
        .unwrap_or_else(|| list.to_string())
}

/// What kgen's volume of this name is for.
fn purpose(name: &str) -> &'static str {
    match name {
        "tmp" => "the writable /tmp of a container whose root file system is read-only",
        "secrets-store" => "the service's secrets, mounted by the CSI driver",
        _ => "the service's `files`",
    }
}

/// The names of a list's entries (or a map's keys), a few of them, for a message.
fn names(v: &Value) -> String {
    let all: Vec<String> = match v {
        Value::Array(a) => a
            .iter()
            .map(|e| match e.get("name").and_then(Value::as_str) {
                Some(n) => n.to_string(),
                None => e.to_string(),
            })
            .collect(),
        Value::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut shown: Vec<String> = all.iter().take(4).map(|n| format!("`{n}`")).collect();
    if all.len() > 4 {
        shown.push(format!("{} more", all.len() - 4));
    }
    shown.join(", ")
}
