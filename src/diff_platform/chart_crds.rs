//! The CustomResourceDefinitions a removed chart Application installed, by API group:
//! from kgen's preset of the chart (whether it installed its CRDs read back from the
//! removed values file) or the monitoring stack's footprint.

use serde_json::Value;

use crate::manifest_set::Resource;

/// The API groups of the CRDs a removed chart Application (`app`, installing `chart`
/// from `repo`) installed: from kgen's preset of that chart (with `install_crds` read
/// back from the removed values file), or the monitoring stack's footprint. None for a
/// chart kgen knows nothing about.
pub(super) fn crd_groups(
    app: &Resource,
    repo: &str,
    chart: &str,
    removed: &[Resource],
) -> Option<Vec<String>> {
    // kube-prometheus-stack, wherever it is pulled from (`[monitoring] repo` may name a mirror).
    if chart == crate::render::argocd::MONITORING_CHART {
        return Some(
            crate::render::monitoring::CHART_FOOTPRINT
                .crd_groups()
                .into_iter()
                .map(str::to_string)
                .collect(),
        );
    }
    let preset = crate::addons::PRESETS
        .iter()
        .find(|p| p.chart == chart && p.repo.strip_prefix("oci://").unwrap_or(p.repo) == repo)?;
    let settings = |install_crds| crate::spec::AddonSettings {
        install_crds: Some(install_crds),
        ..Default::default()
    };
    let with = (preset.footprint)(&settings(true)).crd_groups;
    let without = (preset.footprint)(&settings(false)).crd_groups;
    if with == without {
        return Some(with);
    }
    // The preset takes `install_crds`: the removed values file says which it was.
    let values = values_of(app, removed);
    let off = (preset.values)(&settings(false));
    let on = (preset.values)(&settings(true));
    let mut turned_off = values.is_some();
    if let Some(v) = values {
        let mut paths = Vec::new();
        leaf_paths(&off, &mut Vec::new(), &mut paths);
        for path in paths {
            let (o, n) = (pointer(&off, &path), pointer(&on, &path));
            if o != n && pointer(v, &path) != o {
                turned_off = false;
            }
        }
    }
    Some(if turned_off { without } else { with })
}

/// The removed values file a chart Application read (`$values/…/generated/<path>`).
fn values_of<'a>(app: &Resource, removed: &'a [Resource]) -> Option<&'a Value> {
    let spec = &app.value["spec"];
    let files: Vec<&str> = spec["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["helm"]["valueFiles"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    removed
        .iter()
        .filter(|r| !r.id.is_object() && r.id.group == app.id.group)
        .find(|r| {
            files
                .iter()
                .any(|f| f.ends_with(&format!("generated/{}", r.path)))
        })
        .map(|r| &r.value)
}

/// The paths of `v`'s leaves (a scalar, an array, an empty object), appended to `out`.
fn leaf_paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v.as_object() {
        Some(m) if !m.is_empty() => {
            for (k, child) in m {
                at.push(k.clone());
                leaf_paths(child, at, out);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

/// The value at `path` in `v`, `null` where there is none.
fn pointer<'a>(v: &'a Value, path: &[String]) -> &'a Value {
    path.iter().fold(v, |at, k| &at[k.as_str()])
}
