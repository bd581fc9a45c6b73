//! A service's patches in an environment, from its layers: merged by name, each body
//! parsed and checked (a malformed JSON Patch operation, a secret-looking value, one
//! of kgen's template variables) before it is applied.

use std::ops::Range;

use serde_json::Value;

use super::{Body, BodyAt, Patch, Seg};
use crate::diagnostic::Diagnostic;
use crate::input::{PatchLayer, ServiceLayer};
use crate::merge::Layers;
use crate::rules;
use crate::source::Origin;
use crate::workspace::Workspace;
/// The patches of `service` in `env` (in name order); problems go to `diags`.
pub fn resolve(
    ws: &Workspace,
    env: &str,
    service: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Patch> {
    let pf = ws.platform_file;
    let mut layers: Layers<ServiceLayer> = Layers::new();
    if let Some(d) = &ws.platform.defaults {
        layers.push_base(pf, &d.value);
    }
    let Some(svc) = ws.platform.services.get(service) else {
        return Vec::new();
    };
    layers.push(pf, &svc.value);
    if let Some(o) = ws.overlays.get(env) {
        if let Some(l) = o.data.services.get(service) {
            layers.push(o.file, &l.value);
        }
    }
    let mut out = Vec::new();
    for (name, (key_origin, entry)) in layers.entries(|l| Some(&l.patches)) {
        if entry
            .pick(|p| p.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            continue;
        }
        let kind = entry.pick(|p| p.kind.as_ref());
        let Some(kind) = kind else {
            diags.push(
                Diagnostic::error(rules::PATCH_INVALID, format!("patch `{name}` has no `kind`"))
                    .at(key_origin.clone())
                    .help("name the kind of the objects it patches, e.g. `kind = \"Ingress\"` (and `name`, when the service has several)"),
            );
            continue;
        };
        let has_body = |p: &PatchLayer| p.merge.is_some() || p.json.is_some() || p.file.is_some();
        let Some((file, layer, base)) = entry.highest(has_body) else {
            diags.push(
                Diagnostic::error(
                    rules::PATCH_INVALID,
                    format!("patch `{name}` has no `merge`, `json` or `file`: it changes nothing"),
                )
                .at(key_origin.clone())
                .help("give it a JSON merge patch (`merge = { ... }`), a JSON Patch (`json = [{ op = ..., path = ... }]`) or a YAML file of either (`file = \"patches/x.yaml\"`)"),
            );
            continue;
        };
        let set = [
            layer.merge.is_some(),
            layer.json.is_some(),
            layer.file.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        let prefix: Vec<Seg> = if base {
            ["defaults", "patches", name]
                .iter()
                .map(|s| Seg::Key(s.to_string()))
                .collect()
        } else {
            ["services", service, "patches", name]
                .iter()
                .map(|s| Seg::Key(s.to_string()))
                .collect()
        };
        let layer_origin = |span: &Range<usize>| Origin::new(file, span.clone());
        if set > 1 {
            let span = layer
                .json
                .as_ref()
                .map(|j| j.span.clone())
                .or_else(|| layer.file.as_ref().map(|f| f.span.clone()))
                .unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    rules::PATCH_INVALID,
                    format!("patch `{name}` sets more than one of `merge`, `json` and `file`"),
                )
                .at(layer_origin(&span))
                .help("one patch is one merge patch, one JSON Patch or one file: split it into two patches"),
            );
            continue;
        }
        let shown = ws.sources.get(file).display.clone();
        let (body, at, source) = if let Some(m) = &layer.merge {
            if !m.value.is_object() {
                diags.push(
                    Diagnostic::error(rules::PATCH_INVALID, format!("the merge patch `{name}` is not a table"))
                        .at(layer_origin(&m.span))
                        .help("a merge patch on an object is a table of the fields it sets: `merge = { metadata = { annotations = { ... } } }`"),
                );
                continue;
            }
            let mut keys = prefix.clone();
            keys.push(Seg::Key("merge".into()));
            (
                Body::Merge(m.value.clone()),
                BodyAt::Toml { file, keys },
                shown,
            )
        } else if let Some(j) = &layer.json {
            let mut keys = prefix.clone();
            keys.push(Seg::Key("json".into()));
            let at = BodyAt::Toml { file, keys };
            let ops: Vec<Value> = j.value.iter().map(|o| o.value.clone()).collect();
            match parse_ops(&ops) {
                Ok(parsed) => (Body::Json(ops, parsed), at, shown),
                Err((i, e)) => {
                    let origin = Origin::new(file, j.value[i].span.clone());
                    diags.push(malformed(name, i, &e, origin));
                    continue;
                }
            }
        } else {
            let f = layer.file.as_ref().expect("one of the three is set");
            let origin = layer_origin(&f.span);
            let Some(rel) = crate::escape_hatch::files::inside(&f.value) else {
                diags.push(
                    Diagnostic::error(
                        rules::PATCH_INVALID,
                        format!(
                            "patch file `{}` is not a path inside the platform directory",
                            f.value
                        ),
                    )
                    .at(origin)
                    .help(
                        "write it relative to platform.toml, without `..`, e.g. `patches/waf.yaml`",
                    ),
                );
                continue;
            };
            let Some(&id) = ws.escape_hatch.patch_files.get(&rel) else {
                diags.push(
                    Diagnostic::error(
                        rules::PATCH_INVALID,
                        format!("patch file `{}` does not exist", f.value),
                    )
                    .at(origin)
                    .help("the path is relative to platform.toml's directory"),
                );
                continue;
            };
            let text = &ws.sources.get(id).text;
            let value: Value = match crate::yaml_input::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    let at = e.index.unwrap_or(0).min(text.len());
                    diags.push(match &e.duplicate {
                        Some(d) => {
                            crate::yaml_input::duplicate_key_diagnostic(id, text, 0, text, at, d)
                        }
                        None => {
                            Diagnostic::error(rules::YAML, format!("not valid YAML: {}", e.message))
                                .at(Origin::new(id, at..at + 1))
                                .help(crate::manifest_docs::YAML_SYNTAX_HELP)
                        }
                    });
                    continue;
                }
            };
            let at = BodyAt::Yaml { file: id };
            let source = ws.sources.get(id).display.clone();
            match value {
                Value::Object(_) => (Body::Merge(value), at, source),
                Value::Array(ops) => match parse_ops(&ops) {
                    Ok(parsed) => (Body::Json(ops, parsed), at, source),
                    Err((i, e)) => {
                        let span = crate::validate::locate::locate(text, &format!("[{i}]"), false);
                        diags.push(malformed(name, i, &e, Origin::new(id, span)));
                        continue;
                    }
                },
                _ => {
                    diags.push(
                        Diagnostic::error(rules::PATCH_INVALID, format!("patch file `{}` holds neither a mapping (a JSON merge patch) nor a list (a JSON Patch)", f.value))
                            .at(Origin::new(id, 0..0))
                            .help("write the fields to set as a YAML mapping, or a list of `op`/`path`/`value` operations"),
                    );
                    continue;
                }
            }
        };
        let patch = Patch {
            name: name.to_string(),
            kind: kind.value.clone(),
            target: entry.pick(|p| p.name.as_ref()).map(|n| n.value.clone()),
            body,
            at,
            kind_origin: kind.origin.clone(),
            name_origin: entry.pick(|p| p.name.as_ref()).map(|n| n.origin),
            from_defaults: base,
            source,
        };
        // Secret-looking values: by their shape (the TOML files were scanned so before
        // they were read; a YAML patch file here), and an environment variable's by
        // its name (`{ name = "DB_PASSWORD", value = "..." }`).
        let mut found = Vec::new();
        match &patch.body {
            Body::Merge(m) => secrets_in(m, &mut Vec::new(), &mut found),
            Body::Json(ops, _) => {
                for (i, op) in ops.iter().enumerate() {
                    secrets_in(op, &mut vec![Seg::Index(i)], &mut found);
                }
            }
        }
        if !found.is_empty() {
            for (segs, what) in found {
                diags.push(
                    Diagnostic::error(
                        rules::SECRET_LITERAL,
                        format!("a value of patch `{name}` looks like a secret ({what}); kgen refuses secrets in plain text"),
                    )
                    .at(patch.value_origin(&ws.sources, &segs))
                    .redacted()
                    .label("secret-looking value")
                    .help("keep the value in AWS Secrets Manager or SSM and reference it (the service's `secrets`, an ExternalSecret, a SecretProviderClass); see docs/security.md#secrets"),
                );
            }
            continue;
        }
        // kgen does not template patches: a `{{ env.x }}` reaches the cluster as is.
        let mut templated = Vec::new();
        match &patch.body {
            Body::Merge(m) => kgen_templates_in(m, &mut Vec::new(), &mut templated),
            Body::Json(ops, _) => {
                for (i, op) in ops.iter().enumerate() {
                    kgen_templates_in(op, &mut vec![Seg::Index(i)], &mut templated);
                }
            }
        }
        for segs in templated {
            diags.push(
                Diagnostic::warning(
                    rules::PATCH_INVALID,
                    format!("a value of patch `{name}` holds a kgen template variable, which kgen does not expand: patch values are literal and reach the cluster as written"),
                )
                .at(patch.value_origin(&ws.sources, &segs))
                .help("write the value itself; for a value per environment, put the patch (or only its value) in each environment's overlay under `[services.<name>.patches.<patch>]`"),
            );
        }
        out.push(patch);
    }
    out
}

/// The strings of `v` that use one of kgen's template variables (`{{ env.x }}`,
/// `{{ cluster.name }}`, ...): other `{{ }}` (a PrometheusRule's `{{ $labels.x }}`, a
/// Helm-style annotation) are the object's own.
fn kgen_templates_in(v: &Value, segs: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    const VARIABLES: &[&str] = &["env", "cluster", "service", "platform", "namespaces"];
    match v {
        Value::String(s) => {
            let uses = s.match_indices("{{").any(|(i, _)| {
                let rest = s[i + 2..].trim_start();
                VARIABLES.iter().any(|var| {
                    rest.strip_prefix(var).is_some_and(|after| {
                        !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
                })
            });
            if uses {
                out.push(segs.clone());
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                segs.push(Seg::Index(i));
                kgen_templates_in(item, segs, out);
                segs.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                segs.push(Seg::Key(k.clone()));
                kgen_templates_in(item, segs, out);
                segs.pop();
            }
        }
        _ => {}
    }
}

fn malformed(name: &str, i: usize, e: &str, origin: Origin) -> Diagnostic {
    Diagnostic::error(
        rules::PATCH_FAILED,
        format!("operation {i} of JSON Patch `{name}` is not a JSON Patch operation: {e}"),
    )
    .at(origin)
    .help("an operation is `{ op = \"add\" | \"remove\" | \"replace\" | \"move\" | \"copy\" | \"test\", path = \"/a/b\", ... }` (RFC 6902): `value` for add, replace and test, `from` for move and copy")
}

fn parse_ops(ops: &[Value]) -> Result<Vec<json_patch::PatchOperation>, (usize, String)> {
    ops.iter()
        .enumerate()
        .map(|(i, o)| serde_json::from_value(o.clone()).map_err(|e| (i, e.to_string())))
        .collect()
}

/// Secret-looking strings of a patch body (see [`resolve`]), as paths into it.
fn secrets_in(v: &Value, segs: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, &'static str)>) {
    match v {
        Value::String(s) => {
            if let Some(f) = crate::secret_scan::scan("", s) {
                out.push((segs.clone(), f.what));
            }
        }
        Value::Array(items) => {
            let before = out.len();
            for (i, item) in items.iter().enumerate() {
                segs.push(Seg::Index(i));
                secrets_in(item, segs, out);
                segs.pop();
            }
            // An argument judged by the flag before it (`["--password", "hunter2"]`).
            for (i, f) in crate::secret_scan::scan_flag_values(items.iter().map(Value::as_str)) {
                segs.push(Seg::Index(i));
                if out[before..].iter().all(|(s, _)| s != segs) {
                    out.push((segs.clone(), f.what));
                }
                segs.pop();
            }
        }
        Value::Object(map) => {
            let name = map.get("name").and_then(Value::as_str);
            let literal = map.get("value").and_then(Value::as_str);
            if let (Some(n), Some(l)) = (name, literal) {
                if crate::secret_scan::scan("", l).is_none() {
                    if let Some(f) = crate::secret_scan::scan(n, l) {
                        segs.push(Seg::Key("value".into()));
                        out.push((segs.clone(), f.what));
                        segs.pop();
                    }
                }
            }
            for (k, item) in map {
                segs.push(Seg::Key(k.clone()));
                secrets_in(item, segs, out);
                segs.pop();
            }
        }
        _ => {}
    }
}
