//! What of a platform with errors can still be rendered: the escape hatch's checks
//! (patches, hand-written manifests) of the services that resolved without errors
//! run in the same run as the errors (`compile`), so that one run reports them all.

use std::collections::BTreeSet;

use super::*;

/// A service or an environment resolved as far as it goes: with `ok` false, it had
/// errors, and the values at fault were left out or replaced by defaults. Such a
/// spec is never rendered (the run fails), but the checks of its other values that
/// need the whole platform still run on it (the references to baseline objects, see
/// `check_references`): a mistyped `metrics.port` hides nothing but itself.
pub(super) struct Resolved<T> {
    pub(super) spec: T,
    pub(super) ok: bool,
    /// Of an environment with errors: its services with errors, or all of them when
    /// its own settings have errors (see [`Partial`]).
    pub(super) broken: Vec<String>,
}

/// The platform as far as it resolved, when it has errors. Nothing of it is written:
/// `compile` renders the services that are not [`Partial::unfit`] only to check
/// their patches and hand-written manifests.
#[derive(Debug)]
pub struct Partial {
    /// Every environment that resolved, those with errors included (with all their
    /// services, those with errors included, their values at fault left out).
    pub spec: PlatformSpec,
    /// `(environment, service)`: the services whose rendering an error may change
    /// (an error in their own settings, in their environment's, or a reading error
    /// in their table). They are not rendered, so their patches and hand-written
    /// manifests wait for the errors to be fixed.
    pub unfit: BTreeSet<(String, String)>,
}

impl Partial {
    /// `None` when every service's rendering may be wrong: a reading error outside
    /// the tables of the services, the add-ons and the baseline (which no service's
    /// objects are made of), or an error of `diags` (the run's) outside those and
    /// the environments' (whose errors make their services unfit already): in the
    /// clusters' settings, `[platform]`, `[monitoring]`...
    pub(super) fn of(
        ws: &Workspace,
        mut spec: PlatformSpec,
        unfit: Vec<Resolved<EnvSpec>>,
        diags: &[Diagnostic],
    ) -> Option<Partial> {
        let read = read_errors_by_service(ws)?;
        for d in diags
            .iter()
            .filter(|d| d.is_error() && !ws.deferred.contains(d))
        {
            let o = d.origin.as_ref()?;
            let overlay = ws.overlays.values().any(|ov| ov.file == o.file);
            if o.file != ws.platform_file && !overlay {
                // A patch file, a manifest: no setting of a service.
                continue;
            }
            let table = table_at(&ws.sources.get(o.file).text, o.span.start);
            let harmless = match table.first().map(String::as_str) {
                Some("services" | "addons") => true,
                Some("environments" | "defaults" | "baseline") => !overlay,
                Some("environment") => overlay,
                _ => false,
            };
            if !harmless {
                return None;
            }
        }
        let mut out = BTreeSet::new();
        for e in &unfit {
            for s in &e.spec.services {
                if e.broken.contains(&s.name) {
                    out.insert((e.spec.name.clone(), s.name.clone()));
                }
            }
        }
        spec.environments.extend(unfit.into_iter().map(|e| e.spec));
        let order: Vec<&str> = ws
            .platform
            .environments
            .keys()
            .map(|k| k.value.as_str())
            .collect();
        spec.environments
            .sort_by_key(|e| order.iter().position(|n| *n == e.name));
        for env in &mut spec.environments {
            env.services.sort_by(|a, b| a.name.cmp(&b.name));
            for s in &env.services {
                if read.contains(&(None, s.name.clone()))
                    || read.contains(&(Some(env.name.clone()), s.name.clone()))
                {
                    out.insert((env.name.clone(), s.name.clone()));
                }
            }
        }
        Some(Partial { spec, unfit: out })
    }
}

/// The services with a reading error in their table (`None`: in platform.toml, so
/// in every environment; `Some(env)`: in the environment's overlay); `None` when a
/// reading error is elsewhere than in a service, an add-on or the baseline.
fn read_errors_by_service(ws: &Workspace) -> Option<BTreeSet<(Option<String>, String)>> {
    let mut out = BTreeSet::new();
    for d in ws.deferred.iter().filter(|d| d.is_error()) {
        let o = d.origin.as_ref()?;
        let (env, services) = if o.file == ws.platform_file {
            (None, &ws.platform.services)
        } else if let Some((name, overlay)) = ws.overlays.iter().find(|(_, ov)| ov.file == o.file) {
            (Some(name.clone()), &overlay.data.services)
        } else {
            // Another file (a patch file, a manifest): no service's settings.
            continue;
        };
        let table = table_at(&ws.sources.get(o.file).text, o.span.start);
        let service = match table.first().map(String::as_str) {
            Some("services") => table.get(1).cloned().or_else(|| {
                // `[services]` with the service as an inline table.
                services
                    .iter()
                    .find(|(_, v)| v.span.contains(&o.span.start))
                    .map(|(k, _)| k.value.clone())
            }),
            Some("addons") => continue,
            Some("baseline") if env.is_none() => continue,
            _ => None,
        };
        out.insert((env, service?));
    }
    Some(out)
}

/// The dotted key of the table header (`[a.b]`, `[[a.b]]`) nearest before `pos` in
/// the TOML `text`, or on `pos`'s line; empty before the first header.
pub(crate) fn table_at(text: &str, pos: usize) -> Vec<String> {
    // To the end of `pos`'s line: an error at a table's header is in that table.
    let end = text
        .get(pos..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |n| pos + n);
    let before = text.get(..end).unwrap_or(text);
    before
        .lines()
        .rev()
        .find_map(header_key)
        .unwrap_or_default()
}

/// The dotted key of `line` when it is a table header (`[a.b]`, `[[a.b]]`).
pub(crate) fn header_key(line: &str) -> Option<Vec<String>> {
    let inner = line.trim_start().strip_prefix('[')?.trim_start_matches('[');
    let path = &inner[..inner.find(']')?];
    Some(
        path.split('.')
            .map(|k| k.trim().trim_matches(['"', '\'']).to_string())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::table_at;

    #[test]
    fn the_table_of_a_position_is_that_of_the_header_before_it_or_on_its_line() {
        let text = "[platform]\nname = \"x\"\n\n[services.api]\nport = 80\n";
        let header = text.find("api]").unwrap();
        assert_eq!(table_at(text, header), ["services", "api"]);
        assert_eq!(
            table_at(text, text.find("port").unwrap()),
            ["services", "api"]
        );
        assert_eq!(table_at(text, text.find("name").unwrap()), ["platform"]);
        assert_eq!(table_at(text, 0), ["platform"]);
        assert!(table_at("a = 1\n[b]\n", 0).is_empty());
    }
}
