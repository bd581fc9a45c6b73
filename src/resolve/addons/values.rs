//! The Helm values of an add-on as written: the layers' `values` tables as JSON, their
//! templates rendered and merged (the monitoring stack's too), where a values path was
//! set, and the checks that `values` keep the ServiceAccount an add-on's IAM role is
//! for and, for a chart that is not a preset, annotate it.

use minijinja::Value;

use crate::addons::Preset;
use crate::input::{AddonLayer, WorkloadIdentity};
use crate::merge::Layers;
use crate::render::IRSA_ANNOTATION;
use crate::resolve::{Amend, Resolver};
use crate::rules;
use crate::source::{FileId, Origin};
use crate::spec::{AddonIdentity, AddonSettings};

impl Resolver<'_> {
    /// Merges `tables` (an add-on's or the monitoring stack's `values` layers, lowest
    /// first) over `values`, each as JSON with its templates rendered and what they
    /// render to judged as an add-on value's (the remedy of a secret: an existing
    /// Secret the chart takes).
    pub(in crate::resolve) fn merge_values_tables<'t>(
        &mut self,
        values: &mut serde_json::Value,
        tables: impl IntoIterator<Item = (FileId, &'t crate::spanned::Spanned<toml::Table>)>,
        ctx: &Value,
    ) {
        for (file, table) in tables {
            let mut json = toml_to_json(&table.value);
            let remedy =
                std::mem::replace(&mut self.remedy, crate::secret_scan::Remedy::AddonValues);
            self.render_json_templates(&mut json, "", &Origin::new(file, table.span.clone()), ctx);
            self.remedy = remedy;
            crate::addons::merge(values, json);
        }
    }

    /// A chart that is not a preset, given a role through IRSA: kgen cannot annotate its
    /// ServiceAccount (it does not know where the chart takes the annotation), so
    /// `values` must, with the role's ARN, or its pods run without the role.
    pub(super) fn check_irsa_annotation(
        &mut self,
        name: &str,
        identity: &AddonIdentity,
        layers: &Layers<'_, AddonLayer>,
        values: &serde_json::Value,
    ) {
        fn annotates(v: &serde_json::Value, arn: &str) -> bool {
            match v {
                serde_json::Value::Object(m) => m.iter().any(|(k, v)| {
                    (k == IRSA_ANNOTATION && v.as_str() == Some(arn)) || annotates(v, arn)
                }),
                serde_json::Value::Array(items) => items.iter().any(|v| annotates(v, arn)),
                _ => false,
            }
        }
        if identity.mode != WorkloadIdentity::Irsa || annotates(values, &identity.role_arn) {
            return;
        }
        let Some(at) = layers.pick(|l| l.iam_role.as_ref()).map(|r| r.origin) else {
            return;
        };
        self.warning(
            rules::INVALID_VALUE,
            at,
            format!(
                "add-on `{name}`'s `values` do not annotate a ServiceAccount with its `iam_role` (`{IRSA_ANNOTATION}`): its pods would run without the role",
            ),
        )
        .help(format!(
            "set the annotation of ServiceAccount `{}` under `values`, where the chart documents it (often `serviceAccount.annotations`), with the same ARN; or use `workload_identity = \"pod-identity\"`, which needs no annotation",
            identity.service_account
        ));
    }

    /// Renders every string of a values tree as a template (`{{ cluster.<var> }}`),
    /// each under its key (`key` for `v` itself).
    pub(in crate::resolve) fn render_json_templates(
        &mut self,
        v: &mut serde_json::Value,
        key: &str,
        origin: &Origin,
        ctx: &Value,
    ) {
        match v {
            // What a template renders to is judged under its key, as in `env`.
            serde_json::Value::String(s) if crate::template::Templates::is_template(s) => {
                if let Some(out) = self.render_keyed(key, s, origin, ctx) {
                    *s = out;
                }
            }
            serde_json::Value::Array(items) => {
                for i in items {
                    self.render_json_templates(i, key, origin, ctx);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, i) in m.iter_mut() {
                    self.render_json_templates(i, k, origin, ctx);
                }
            }
            _ => {}
        }
    }

    /// `values` that rename the ServiceAccount of an add-on with an IAM role: the
    /// Terraform hand-off would name another one than the chart creates.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_service_account_name(
        &mut self,
        p: &Preset,
        name: &str,
        namespace: &str,
        identity: &AddonIdentity,
        layers: &Layers<'_, AddonLayer>,
        values: &serde_json::Value,
    ) {
        let Some(sa) = p.service_account else {
            return;
        };
        let written = sa.name_path.iter().try_fold(values, |v, k| v.get(*k));
        if written == Some(&serde_json::json!(identity.service_account)) {
            return;
        }
        let Some(origin) = values_origin(layers, sa.name_path) else {
            return;
        };
        let path = sa.name_path.join(".");
        let shown = written.map_or_else(
            || "null".to_string(),
            |v| {
                v.as_str()
                    .map_or_else(|| v.to_string(), |s| format!("\"{s}\""))
            },
        );
        let account = &identity.service_account;
        let hand_off = match identity.mode {
            WorkloadIdentity::Irsa => {
                format!("the IRSA trust subject `system:serviceaccount:{namespace}:{account}`")
            }
            WorkloadIdentity::PodIdentity => {
                format!("the Pod Identity association of `{namespace}/{account}`")
            }
        };
        self.error(
            rules::INVALID_VALUE,
            origin,
            format!(
                "`values` of add-on `{name}` rename its ServiceAccount (`{path} = {shown}`), but its `iam_role` is for the ServiceAccount `{account}`: kgen writes {hand_off} in the Terraform hand-off, so the renamed one could not assume the role"
            ),
        )
        .help(format!(
            "remove `{path}` from `values`: kgen names the ServiceAccount after the release; to name it otherwise, set `release = \"...\"`"
        ));
    }
}

impl Resolver<'_> {
    /// KG034: `values` that set a value a typed setting of the add-on also sets. The
    /// value in `values` is used (they are merged last), so the typed setting looks in
    /// force and is not: `domainFilters` in `values` replaces `domain_filters`, a
    /// `replicaCount` leaves the disruption budget kgen made for `replicas` out of step.
    /// `base` are the settings with no typed setting; a path of `values` is one a
    /// typed setting written decides when the setting, alone on `base`, as written or
    /// as one of its probes, changes it (`AddonSettings::probes`): the warning names
    /// those settings.
    pub(super) fn check_values_override(
        &mut self,
        p: &Preset,
        name: &str,
        layers: &Layers<'_, AddonLayer>,
        settings: &AddonSettings,
        base: &AddonSettings,
    ) {
        let base_values = preset_values(p, base);
        // The typed settings written, with what each decides: the values it sets as
        // written, and those its probes change (a setting written as the chart's
        // default still decides its values).
        let written: Vec<(&str, Vec<serde_json::Value>)> = p
            .settings
            .iter()
            .copied()
            .filter(|key| super::settings::typed_origin(layers, key).is_some())
            .chain(settings.irsa_role.is_some().then_some("iam_role"))
            .map(|key| {
                let mut alone = vec![preset_values(p, &base.with_setting(key, settings))];
                alone.extend(base.probes(key).iter().map(|s| preset_values(p, s)));
                (key, alone)
            })
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let ws = self.ws;
        for (file, table) in layers_values(layers) {
            let mut leaves = Vec::new();
            leaf_paths(&toml_to_json(&table.value), &mut Vec::new(), &mut leaves);
            // The paths a written setting decides, with the settings.
            let mut found: Vec<(Vec<String>, Vec<String>)> = Vec::new();
            for path in leaves {
                let at = |v: &'_ serde_json::Value| -> Option<serde_json::Value> {
                    path.iter().try_fold(v, |v, k| v.get(k.as_str())).cloned()
                };
                let deciding: Vec<String> = written
                    .iter()
                    .filter(|(_, alone)| alone.iter().any(|v| at(v) != at(&base_values)))
                    .map(|(key, _)| format!("`{key}`"))
                    .collect();
                if !deciding.is_empty() && seen.insert(path.clone()) {
                    found.push((path, deciding));
                }
            }
            if found.is_empty() {
                continue;
            }
            let paths: Vec<&[String]> = found.iter().map(|(p, _)| p.as_slice()).collect();
            let spans = key_spans(&ws.sources.get(file).text, &table.span, &paths);
            for ((path, deciding), span) in found.into_iter().zip(spans) {
                // As TOML writes the path: a key that is not bare is quoted.
                let dotted = path
                    .iter()
                    .map(|k| {
                        let bare = !k.is_empty()
                            && k.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                        if bare {
                            k.clone()
                        } else {
                            format!("\"{k}\"")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(".");
                let (setting, keep) = match deciding.as_slice() {
                    [one] => (format!("the typed setting {one}"), one.clone()),
                    [more @ .., last] => (
                        format!("the typed settings {} and {last}", more.join(", ")),
                        "the typed settings".to_string(),
                    ),
                    [] => unreachable!("not empty"),
                };
                let at = span.unwrap_or_else(|| table.span.clone());
                self.warning(
                    rules::VALUES_OVERRIDE,
                    Origin::new(file, at),
                    format!(
                        "`values` of add-on `{name}` set `{dotted}`, which {setting} of the add-on sets too: the value in `values` is used"
                    ),
                )
                .help(format!(
                    "remove `{dotted}` from `values` and keep {keep} (docs/addons.md lists each preset's settings and the values they set), or remove {keep}"
                ));
            }
        }
    }
}

/// Where the key at each of `paths` below the `values` table spanning `table` is
/// written in `text`: the file parsed again with spans (once), the table found by its
/// span, the keys followed. None where it cannot be found (the table's own span is
/// used then).
fn key_spans(
    text: &str,
    table: &std::ops::Range<usize>,
    paths: &[&[String]],
) -> Vec<Option<std::ops::Range<usize>>> {
    use toml::de::{DeTable, DeValue};
    fn find<'t, 'i>(t: &'t DeTable<'i>, span: &std::ops::Range<usize>) -> Option<&'t DeTable<'i>> {
        t.iter().find_map(|(_, item)| match item.get_ref() {
            DeValue::Table(inner) if item.span() == *span => Some(inner),
            DeValue::Table(inner) => find(inner, span),
            _ => None,
        })
    }
    fn key_of(t: &DeTable<'_>, path: &[String]) -> Option<std::ops::Range<usize>> {
        let (last, parents) = path.split_last()?;
        let mut t = t;
        for key in parents {
            let (_, item) = t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == key.as_str())?;
            match item.get_ref() {
                DeValue::Table(inner) => t = inner,
                _ => return None,
            }
        }
        t.iter()
            .find(|(k, _)| k.get_ref().as_ref() == last.as_str())
            .map(|(k, _)| k.span())
    }
    let doc = DeTable::parse(text).ok();
    let values = doc.as_ref().and_then(|d| find(d.get_ref(), table));
    paths
        .iter()
        .map(|path| values.and_then(|t| key_of(t, path)))
        .collect()
}

/// A preset's values from `settings`: its `values`, and the IAM role's annotation on
/// its ServiceAccount (IRSA).
pub(super) fn preset_values(p: &Preset, settings: &AddonSettings) -> serde_json::Value {
    let mut values = (p.values)(settings);
    if let (Some(role), Some(sa)) = (&settings.irsa_role, p.service_account) {
        let mut path: Vec<&str> = sa.annotations.to_vec();
        path.push(IRSA_ANNOTATION);
        crate::addons::set(&mut values, &path, serde_json::json!(role));
    }
    values
}

/// The paths of the leaves of a values tree: every value that is not a table (a list
/// is one leaf: it replaces whole).
fn leaf_paths(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                path.push(k.clone());
                leaf_paths(child, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

/// The `values` table of the highest layer that sets `path`.
pub(super) fn values_origin(layers: &Layers<'_, AddonLayer>, path: &[&str]) -> Option<Origin> {
    layers_values(layers)
        .into_iter()
        .rev()
        .find_map(|(file, table)| {
            let json = toml_to_json(&table.value);
            path.iter()
                .try_fold(&json, |v, k| v.get(*k))
                .map(|_| Origin::new(file, table.span.clone()))
        })
}

/// The `values` tables of every layer, lowest first.
pub(super) fn layers_values<'a>(
    layers: &Layers<'a, AddonLayer>,
) -> Vec<(FileId, &'a crate::spanned::Spanned<toml::Table>)> {
    layers.each(|l| l.values.as_ref())
}

/// A TOML value as JSON (dates become strings).
pub fn toml_to_json(t: &toml::Table) -> serde_json::Value {
    fn conv(v: &toml::Value) -> serde_json::Value {
        match v {
            toml::Value::String(s) => serde_json::Value::from(s.clone()),
            toml::Value::Integer(i) => serde_json::Value::from(*i),
            toml::Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            toml::Value::Boolean(b) => serde_json::Value::from(*b),
            toml::Value::Datetime(d) => serde_json::Value::from(d.to_string()),
            toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(conv).collect()),
            toml::Value::Table(t) => {
                serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
            }
        }
    }
    serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
}
