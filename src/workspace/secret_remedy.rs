//! What KG010's help says to do instead of a secret-looking value of platform.toml
//! or an overlay (`secret_scan::Remedy`): an add-on's `values` take a Secret's name;
//! a service's secrets reach its pods as files (`secrets_backend = "csi"`) or as
//! environment variables (`"external-secrets"`), which the environment decides. Read
//! from the parsed documents, before they are interpreted (the secret scan runs first).

use crate::secret_scan::{in_addon_values, Remedy};

type DeTable<'i> = toml::de::DeTable<'i>;
type DeValue<'i> = toml::de::DeValue<'i>;

/// The value at `path` of `table`, if it is there.
fn at<'t, 'i>(table: &'t DeTable<'i>, path: &[&str]) -> Option<&'t DeValue<'i>> {
    let (first, rest) = path.split_first()?;
    let (_, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *first)?;
    match (rest.is_empty(), v.get_ref()) {
        (true, v) => Some(v),
        (false, DeValue::Table(t)) => at(t, rest),
        _ => None,
    }
}

fn string<'t>(table: &'t DeTable<'_>, path: &[&str]) -> Option<&'t str> {
    match at(table, path)? {
        DeValue::String(s) => Some(s.as_ref()),
        _ => None,
    }
}

/// The remedies of platform.toml (its services apply to every environment) and of
/// each overlay (its environment's), in the order of `overlays` (`(env, document)`).
pub(super) fn remedies(
    platform: Option<&DeTable<'_>>,
    overlays: &[(&str, Option<&DeTable<'_>>)],
) -> (Remedy, Vec<Remedy>) {
    let default = platform
        .and_then(|p| string(p, &["platform", "secrets_backend"]))
        .unwrap_or("csi");
    let backend_of = |env: &str| -> &str {
        overlays
            .iter()
            .find(|(e, _)| *e == env)
            .and_then(|(_, d)| d.and_then(|d| string(d, &["environment", "secrets_backend"])))
            .or_else(|| platform.and_then(|p| string(p, &["environments", env, "secrets_backend"])))
            .unwrap_or(default)
    };
    let envs: Vec<&str> = match platform.and_then(|p| at(p, &["environments"])) {
        Some(DeValue::Table(t)) => t.iter().map(|(k, _)| k.get_ref().as_ref()).collect(),
        _ => Vec::new(),
    };
    let all = if envs.is_empty() {
        Remedy::of_backends([default])
    } else {
        Remedy::of_backends(envs.iter().map(|e| backend_of(e)))
    };
    let each = overlays
        .iter()
        .map(|(env, _)| Remedy::of_backends([backend_of(env)]))
        .collect();
    (all, each)
}

/// The remedy of a value at `path` of a file whose services' remedy is `services`.
pub(super) fn remedy_at(path: &str, services: Remedy) -> Remedy {
    if in_addon_values(path) {
        Remedy::AddonValues
    } else {
        services
    }
}
