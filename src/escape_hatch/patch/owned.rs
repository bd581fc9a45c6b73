//! The fields kgen owns in a rendered object (its identity, selectors, the labels kgen
//! set, the images of the containers it rendered) and the fields a patch writes, as
//! JSON pointers.

use serde_json::Value;

use super::paths::{escape, pointer};
use super::{Body, Seg};
/// The pod templates of a workload, as JSON pointers (a CronJob's is in its job
/// template).
pub(super) const POD_TEMPLATES: &[&str] = &["/spec/template", "/spec/jobTemplate/spec/template"];

/// JSON pointers of the fields kgen owns in a rendered object.
pub(super) fn owned_pointers(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = [
        "/apiVersion",
        "/kind",
        "/metadata/name",
        "/metadata/namespace",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let labels = |v: &Value, at: &str, out: &mut Vec<String>| {
        if let Some(m) = pointer(v, &format!("{at}/labels")).and_then(Value::as_object) {
            for k in m.keys() {
                out.push(format!("{at}/labels/{}", escape(k)));
            }
        }
    };
    labels(v, "/metadata", &mut out);
    for sel in [
        "/spec/selector",
        "/spec/podSelector",
        "/spec/jobTemplate/spec/selector",
    ] {
        if pointer(v, sel).is_some() {
            out.push(sel.to_string());
        }
    }
    for t in POD_TEMPLATES {
        if pointer(v, t).is_none() {
            continue;
        }
        labels(v, &format!("{t}/metadata"), &mut out);
        for list in ["containers", "initContainers"] {
            let at = format!("{t}/spec/{list}");
            for (i, c) in pointer(v, &at)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if c.get("image").is_some() {
                    out.push(format!("{at}/{i}/image"));
                }
            }
        }
    }
    out
}

pub(super) fn why_owned(pointer: &str) -> &'static str {
    if pointer.ends_with("/image") {
        "the image kgen renders from `image`, `tag` and `digest`, which `kgen bump-image` sets"
    } else if pointer.contains("/labels/") {
        "a label kgen sets: selectors, NetworkPolicies and Argo CD rely on it"
    } else if pointer.ends_with("elector") {
        "the selector that matches the service's pods; a Deployment's is immutable"
    } else {
        "the object's identity: its file, references to it and Argo CD's tracking follow it"
    }
}

pub(super) fn owned_help(pointer: &str) -> String {
    if pointer.ends_with("/image") {
        "set `image`, `tag` or `digest` in platform.toml or the overlay (or run `kgen bump-image`); to add a container, append it with a JSON Patch `add` at `/spec/template/spec/containers/-`; a merge patch replaces a whole list, so it cannot change one container: use a JSON Patch".into()
    } else if pointer.contains("/labels/") {
        "add labels of your own (they merge), or set `labels`/`pod_labels` of the service".into()
    } else {
        "kgen keeps these fields consistent across objects: change the service's settings instead"
            .into()
    }
}

/// Whether a patch at `touched` changes the owned `owned` (one is inside the other).
pub(super) fn overlaps(touched: &str, owned: &str) -> bool {
    touched == owned
        || owned.starts_with(&format!("{touched}/"))
        || touched.starts_with(&format!("{owned}/"))
}

/// JSON pointers a patch writes, each with where it is written in the body.
pub(super) fn touched(body: &Body, target: &Value) -> Vec<(String, Vec<Seg>)> {
    let mut out = Vec::new();
    match body {
        Body::Merge(m) => merge_leaves(m, Some(target), "", &mut Vec::new(), &mut out),
        Body::Json(_, ops) => {
            for (i, op) in ops.iter().enumerate() {
                let segs = vec![Seg::Index(i), Seg::Key("path".into())];
                match op {
                    json_patch::PatchOperation::Test(_) => {}
                    json_patch::PatchOperation::Move(m) => {
                        out.push((
                            m.from.as_str().to_string(),
                            vec![Seg::Index(i), Seg::Key("from".into())],
                        ));
                        out.push((op.path().as_str().to_string(), segs));
                    }
                    _ => out.push((op.path().as_str().to_string(), segs)),
                }
            }
        }
    }
    out
}

/// The leaves of a merge patch: where it replaces or removes a value.
pub(super) fn merge_leaves(
    patch: &Value,
    target: Option<&Value>,
    at: &str,
    segs: &mut Vec<Seg>,
    out: &mut Vec<(String, Vec<Seg>)>,
) {
    let Some(map) = patch.as_object() else {
        out.push((at.to_string(), segs.clone()));
        return;
    };
    if !target.is_some_and(Value::is_object) && !at.is_empty() && target.is_some() {
        // An object replaces a value that is not one.
        out.push((at.to_string(), segs.clone()));
        return;
    }
    for (k, v) in map {
        segs.push(Seg::Key(k.clone()));
        let child = format!("{at}/{}", escape(k));
        merge_leaves(v, target.and_then(|t| t.get(k)), &child, segs, out);
        segs.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_overlap_when_one_is_inside_the_other() {
        assert!(overlaps("/spec/selector", "/spec/selector"));
        assert!(overlaps("/spec", "/spec/selector"));
        assert!(overlaps("/spec/selector/matchLabels/x", "/spec/selector"));
        assert!(!overlaps(
            "/spec/template/spec/containers/0/env/-",
            "/spec/template/spec/containers/0/image"
        ));
        assert!(!overlaps("/spec/selectorx", "/spec/selector"));
    }

    #[test]
    fn merge_patch_leaves() {
        let target = serde_json::json!({"metadata": {"annotations": {"a": "1"}}, "spec": {"x": 1}});
        let patch =
            serde_json::json!({"metadata": {"annotations": {"b": "2"}}, "spec": {"x": {"y": 1}}});
        let mut out = Vec::new();
        merge_leaves(&patch, Some(&target), "", &mut Vec::new(), &mut out);
        let ptrs: Vec<&str> = out.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(ptrs, ["/metadata/annotations/b", "/spec/x"]);
    }
}
