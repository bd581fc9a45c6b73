//! The public route of a service: `ingress = { host, path }`, or several hosts and
//! paths (`hosts = [...]`, `paths = [...]`), every host routing every path.
//!
//! A service with an `ingress` table is public and needs a host in every environment
//! it runs in. `host` and `hosts` are one setting in two forms (so are `path` and
//! `paths`): one table may not write both (KG019, at the second key), and the form
//! written in the highest layer wins, whichever form a lower layer wrote (an overlay's
//! `host` replaces platform.toml's `hosts`). A list is not empty and names each host
//! (path) once (KG015); each host is a template and a DNS name (KG005), each path a
//! template and a prefix the API server takes (KG016). Two public services of one
//! environment cannot route the same host and path (KG015), whichever of their hosts
//! and paths they share.

use std::collections::BTreeMap;

use minijinja::Value;

use super::{Amend, Resolver};
use crate::input::{ServiceIngressLayer, ServiceLayer};
use crate::merge::{Layers, Located};
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{EnvSpec, IngressRoute};
use crate::{names, rules};

/// Path of an ingress route when neither `ingress.path` nor `ingress.paths` is set.
pub const DEFAULT_INGRESS_PATH: &str = "/";

/// A list of templates as written (`hosts = [...]`).
type TemplateList = Spanned<Vec<Spanned<String>>>;

/// A setting written as one value (`host`) or as a list (`hosts`).
struct Form {
    single: &'static str,
    list: &'static str,
    get_single: fn(&ServiceIngressLayer) -> Option<&Spanned<String>>,
    get_list: fn(&ServiceIngressLayer) -> Option<&TemplateList>,
}

const HOST: Form = Form {
    single: "host",
    list: "hosts",
    get_single: |t| t.host.as_ref(),
    get_list: |t| t.hosts.as_ref(),
};

const PATH: Form = Form {
    single: "path",
    list: "paths",
    get_single: |t| t.path.as_ref(),
    get_list: |t| t.paths.as_ref(),
};

/// The values of a [`Form`] as written, each with where it is and its origin key
/// (`ingress.host`, or `ingress.hosts[1]`).
type Written<'a> = Vec<(&'a String, Origin, String)>;

impl<'a> Resolver<'a> {
    /// The public route of a service, `None` when it is private (or broken: the error is pushed).
    pub(super) fn service_ingress(
        &mut self,
        name: &str,
        layers: &Layers<'a, ServiceLayer>,
        env: &EnvSpec,
        ctx: &Value,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Option<IngressRoute> {
        let table = layers.pick(|l| l.ingress.as_deref())?;
        origins.insert("ingress".into(), table.origin.clone());
        if layers
            .pick(|l| l.ingress.as_ref()?.enabled.as_ref())
            .is_some_and(|e| !*e.value)
        {
            return None;
        }
        let hosts = self.written(name, layers, &HOST);
        let paths = self.written(name, layers, &PATH);
        if hosts.as_ref().is_some_and(|h| h.is_empty()) {
            self.error(
                rules::MISSING_KEY,
                table.origin.clone(),
                format!(
                    "service `{name}` is public (it has `ingress`) but has no `ingress.host` in environment `{}`",
                    env.name
                ),
            )
            .label("no `host` here")
            .help(format!(
                "add `host = \"...\"` to this table, or `hosts = [...]` for several (a template such as `api.{{{{ env.domain }}}}` serves every environment), or set it under [services.{name}] in overlays/{}.toml; `enabled = false` keeps the service private",
                env.name
            ));
            return None;
        }
        // Every host and path is checked, whichever of the two settings is broken.
        let mut ok = hosts.is_some() && paths.is_some();
        let default_path = paths.as_ref().is_some_and(|p| p.is_empty());
        let mut route = IngressRoute {
            hosts: Vec::new(),
            paths: Vec::new(),
        };
        for (value, origin, key) in hosts.unwrap_or_default() {
            origins.insert(key, origin.clone());
            let Some(host) = self.render_template(value, &origin, ctx) else {
                ok = false;
                continue;
            };
            if let Err(e) = check_host(&host) {
                self.error(
                    rules::INVALID_NAME,
                    origin,
                    format!("ingress host of `{name}` in {}: {e}", env.name),
                )
                .help("write a lower-case DNS name such as `api.example.com` (a leading `*.` is allowed)");
                ok = false;
            } else if route.hosts.contains(&host) {
                self.twice(name, "hosts", "host", &host, origin);
                ok = false;
            } else {
                route.hosts.push(host);
            }
        }
        for (value, origin, key) in paths.unwrap_or_default() {
            origins.insert(key, origin.clone());
            let Some(path) = self.render_template(value, &origin, ctx) else {
                ok = false;
                continue;
            };
            if let Err(e) = names::check_ingress_path(&path) {
                self.error(rules::INVALID_PATH, origin, e);
                ok = false;
            } else if route.paths.contains(&path) {
                self.twice(name, "paths", "path", &path, origin);
                ok = false;
            } else {
                route.paths.push(path);
            }
        }
        if default_path {
            route.paths.push(DEFAULT_INGRESS_PATH.to_string());
        }
        ok.then_some(route)
    }

    /// The values of `form` from the highest layer that writes it in either form, `[]`
    /// when none does, `None` (the error pushed) when that layer's table writes both
    /// forms, or an empty list.
    fn written(
        &mut self,
        name: &str,
        layers: &Layers<'a, ServiceLayer>,
        form: &Form,
    ) -> Option<Written<'a>> {
        let get_single = |l: &'a ServiceLayer| (form.get_single)(l.ingress.as_deref()?);
        let get_list = |l: &'a ServiceLayer| (form.get_list)(l.ingress.as_deref()?);
        let single = layers.height_of(get_single);
        let list = layers.height_of(get_list);
        if single.is_some() && single == list {
            let one = layers.pick(get_single)?.origin;
            let many = layers.pick(get_list)?.origin;
            let second = if one.span.start > many.span.start {
                (form.single, form.list, one)
            } else {
                (form.list, form.single, many)
            };
            self.both(name, form, second.0, second.1, second.2);
            return None;
        }
        if single > list {
            let one = layers.pick(get_single)?;
            return Some(vec![(
                one.value,
                one.origin,
                format!("ingress.{}", form.single),
            )]);
        }
        let Some(Located { value, origin, .. }) = layers.pick(get_list) else {
            return Some(Vec::new());
        };
        if value.is_empty() {
            self.error(
                rules::INVALID_VALUE,
                origin,
                format!("`ingress.{}` of `{name}` is empty", form.list),
            )
            .label(format!("no {} listed", form.single))
            .help(format!(
                "list at least one {} (`{} = [\"...\"]`), or write `{} = \"...\"` for one",
                form.single, form.list, form.single
            ));
            return None;
        }
        Some(
            value
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (
                        &v.value,
                        Origin::new(origin.file, v.span.clone()),
                        format!("ingress.{}[{i}]", form.list),
                    )
                })
                .collect(),
        )
    }

    /// One `ingress` table writes both forms of a setting: the error is at the key
    /// written second, `key`, the other being `other`.
    fn both(&mut self, name: &str, form: &Form, key: &str, other: &str, value: Origin) {
        let text = &self.ws.sources.get(value.file).text;
        let at = crate::source::key_before(text, value.span.start)
            .map_or(value.clone(), |span| Origin::new(value.file, span));
        self.error(
            rules::INVALID_VALUE,
            at,
            format!("`ingress` of `{name}` sets both `{other}` and `{key}`"),
        )
        .label(format!("`{other}` is set too"))
        .help(format!(
            "pick one: `{} = \"...\"` for one {}, or `{} = [...]` for several",
            form.single, form.single, form.list
        ));
    }

    /// A host or path listed twice (the same after rendering), at the second copy.
    fn twice(&mut self, name: &str, list: &str, what: &str, value: &str, at: Origin) {
        self.error(
            rules::DUPLICATE,
            at,
            format!("`ingress.{list}` of `{name}` lists the {what} `{value}` twice"),
        )
        .label("listed again")
        .help("remove this entry (each is routed once)");
    }

    /// Two public services of one environment routing the same host and path: one
    /// error per host of the later service, at that host, naming the paths.
    pub(super) fn check_routes(&mut self, env: &EnvSpec) {
        let mut seen: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        let mut clashes = Vec::new();
        for svc in &env.services {
            let Some(r) = &svc.ingress else { continue };
            for (i, host) in r.hosts.iter().enumerate() {
                // The first service each shared path clashes with, in the order written.
                let mut shared: Vec<(&str, &str)> = Vec::new();
                for path in &r.paths {
                    if let Some(&first) = seen.get(&(host.as_str(), path.as_str())) {
                        shared.push((first, path));
                    } else {
                        seen.insert((host, path), &svc.name);
                    }
                }
                let origin = svc
                    .origins
                    .get(&format!("ingress.hosts[{i}]"))
                    .or_else(|| svc.origins.get("ingress.host"))
                    .or_else(|| svc.origins.get("ingress"))
                    .cloned();
                let mut firsts: Vec<&str> = Vec::new();
                for (f, _) in &shared {
                    if !firsts.contains(f) {
                        firsts.push(f);
                    }
                }
                for first in firsts {
                    let routes: Vec<String> = shared
                        .iter()
                        .filter(|(f, _)| *f == first)
                        .map(|(_, p)| format!("`{host}{p}`"))
                        .collect();
                    let routes = match routes.split_last() {
                        Some((last, rest)) if !rest.is_empty() => {
                            format!("{} and {last}", rest.join(", "))
                        }
                        _ => routes.join(""),
                    };
                    clashes.push((origin.clone(), first.to_string(), svc.name.clone(), routes));
                }
            }
        }
        for (origin, first, second, routes) in clashes {
            let Some(origin) = origin else { continue };
            self.error(
                rules::DUPLICATE,
                origin,
                format!(
                    "services `{first}` and `{second}` both route {routes} in environment `{}`",
                    env.name
                ),
            )
            .help("give each public service its own host (or path)");
        }
    }
}

/// An Ingress host: a lower-case DNS-1123 subdomain, optionally starting with `*.`.
pub fn check_host(host: &str) -> Result<(), String> {
    let name = host.strip_prefix("*.").unwrap_or(host);
    names::check_dns1123_subdomain(name)?;
    // The API server refuses an IP (networking `validateIngressRules`).
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "`{host}` is an IP address; an Ingress host must be a DNS name"
        ));
    }
    if !name.contains('.') {
        return Err(format!("`{host}` is not a fully qualified host name"));
    }
    Ok(())
}
