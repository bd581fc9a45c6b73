//! Who may talk to a service: the services it `calls` (which their NetworkPolicies
//! admit), and the sources of its public traffic (its public route itself is
//! `route`'s).
//!
//! `calls` may only name services declared in platform.toml that have a Service to
//! call. Sources (`service.source_cidrs`, `[ingress] alb.source_cidrs`) are written
//! into NetworkPolicies: where NetworkPolicies are off they restrict nothing (a warning).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Amend, Resolver};
use crate::diagnostic::did_you_mean;
use crate::input::ServiceLayer;
use crate::merge::Layers;
use crate::rules;
use crate::source::Origin;
use crate::spec::{EnvSpec, ServiceSpec, WorkloadKind};

impl<'a> Resolver<'a> {
    /// The services a service calls; each must be declared in platform.toml.
    pub(super) fn calls(
        &mut self,
        name: &str,
        layers: &Layers<'a, ServiceLayer>,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<String> {
        let Some(list) = layers.pick(|l| l.calls.as_ref()) else {
            return Vec::new();
        };
        origins.insert("calls".into(), list.origin.clone());
        let services = &self.platform_file().services;
        for (i, callee) in list.value.iter().enumerate() {
            if list.value[..i].iter().any(|c| c.value == callee.value) {
                // At each copy after the first, with how many there are in all.
                let n = list
                    .value
                    .iter()
                    .filter(|c| c.value == callee.value)
                    .count();
                let (times, label) = if n == 2 {
                    ("twice".to_string(), "listed twice")
                } else {
                    (format!("{n} times"), "listed again")
                };
                self.warning(
                    rules::DUPLICATE,
                    Origin::new(list.origin.file, callee.span.clone()),
                    format!(
                        "service `{name}` lists `{}` in `calls` {times}",
                        callee.value
                    ),
                )
                .label(label)
                .help("remove this entry (a copy-paste slip?), or name the service that was meant");
                continue;
            }
            if !services.contains_key(callee.value.as_str()) {
                // Every name, only when one is wrong (not per service that calls).
                let known: Vec<&'a str> = services.keys().map(|k| k.value.as_str()).collect();
                let hint = did_you_mean(&callee.value, known.iter().copied());
                let d = self.error(
                    rules::UNKNOWN_SERVICE,
                    Origin::new(list.origin.file, callee.span.clone()),
                    format!(
                        "service `{name}` calls `{}`, which platform.toml does not define",
                        callee.value
                    ),
                );
                if let Some(h) = hint {
                    d.label = Some(h);
                }
                d.help = Some(format!(
                    "`calls` names services declared under [services] (known: {})",
                    known.join(", ")
                ));
            }
        }
        let calls = Calls::written(name, layers, services);
        let mut out = Vec::new();
        for (callee, at) in calls.callees {
            origins.insert(format!("calls.{callee}"), at);
            out.push(callee.to_string());
        }
        out
    }

    /// A service that calls a service disabled in the environment (not in `callers`,
    /// the `calls` of every enabled service): nothing answers (and no NetworkPolicy
    /// rule is written for the call). And one that calls a service without a Service
    /// ([`no_service`]): an error at the entry. Every enabled service's `calls` is
    /// checked, also of a service with errors of its own; and a callee with errors
    /// (not in `env.services`) is judged by the kind it is written with: a `worker`,
    /// `cronjob` or `job` never has a Service, whatever its errors, while whether a
    /// `deployment` or `daemonset` has one depends on settings that may be the
    /// mistaken ones (it is judged once they are right).
    pub(super) fn check_calls(&mut self, env: &EnvSpec, callers: &[Calls<'_>]) {
        // Looked up, not scanned: every service's `calls` on a large platform.
        let by_name: HashMap<&str, &ServiceSpec> =
            env.services.iter().map(|s| (s.name.as_str(), s)).collect();
        let kinds: HashMap<&str, WorkloadKind> = callers.iter().map(|c| (c.name, c.kind)).collect();
        let mut found = Vec::new();
        let mut serviceless = Vec::new();
        for caller in callers {
            for (callee, at) in &caller.callees {
                let Some(&kind) = kinds.get(callee) else {
                    // At the entry, as the errors below.
                    found.push((Some(at.clone()), caller.name, *callee));
                    continue;
                };
                let why = match by_name.get(callee) {
                    Some(s) => no_service(s, env),
                    None => never_a_service(callee, kind),
                };
                if let Some(why) = why {
                    serviceless.push((at.clone(), caller.name, *callee, why));
                }
            }
        }
        for (origin, caller, callee, why) in serviceless {
            self.error(
                rules::UNKNOWN_SERVICE,
                origin,
                format!(
                    "service `{caller}` calls `{callee}`, {}: there is no Service `{callee}` to connect to",
                    why.problem
                ),
            )
            .label("no Service to call")
            .help(format!(
                "`calls` names the services `{caller}` connects to through their Service (their NetworkPolicies admit it on the Service's ports); {}",
                why.advice
            ));
        }
        for (origin, caller, callee) in found {
            let origin = origin.unwrap_or_else(|| Origin::new(self.pf, 0..0));
            self.warning(
                rules::UNKNOWN_SERVICE,
                origin,
                format!(
                    "service `{caller}` calls `{callee}`, which is disabled in environment `{}` (`enabled = false`): its calls will fail there",
                    env.name
                ),
            )
            .label(format!("disabled in {}", env.name))
            .help(format!(
                "enable `{callee}` in {}, or remove it from `{caller}`'s `calls` in that environment's overlay",
                env.name
            ));
        }
    }

    /// `source_cidrs` in environments without NetworkPolicies: they are written into
    /// NetworkPolicies only, so there they restrict nothing. One warning per line,
    /// naming the environments.
    pub(super) fn check_source_cidrs(&mut self, envs: &[EnvSpec]) {
        // Where each is written, what it is, and the environments it restricts nothing in.
        let mut unused: BTreeMap<_, (&Origin, String, Vec<&str>)> = BTreeMap::new();
        for env in envs.iter().filter(|e| e.network_policy.is_none()) {
            let services = env.services.iter().filter_map(|s| {
                let e = s.service.as_ref()?;
                let at = s.origins.get("service.source_cidrs")?;
                (!e.source_cidrs.is_empty())
                    .then(|| (at, format!("`service.source_cidrs` of `{}`", s.name)))
            });
            let alb = env
                .origins
                .get("ingress.alb.source_cidrs")
                .filter(|_| !env.ingress.alb.source_cidrs.is_empty())
                .map(|at| (at, "`alb.source_cidrs`".to_string()));
            for (at, what) in services.chain(alb) {
                let key = (at.file, at.span.start, at.span.end);
                let entry = unused.entry(key).or_insert((at, what, Vec::new()));
                entry.2.push(&env.name);
            }
        }
        for (at, what, envs) in unused.into_values() {
            let quoted: Vec<String> = envs.iter().map(|e| format!("`{e}`")).collect();
            let (noun, list) = match quoted.as_slice() {
                [one] => ("environment", one.clone()),
                [rest @ .., last] => ("environments", format!("{} and {last}", rest.join(", "))),
                [] => continue,
            };
            let d = self.warning(
                rules::INVALID_VALUE,
                at.clone(),
                format!("{what} restrict nothing in {noun} {list}: they are written into NetworkPolicies only, and NetworkPolicies are off there (whoever reaches the load balancer or node port reaches the pods)"),
            )
            .label("no NetworkPolicy to write them into")
            .help("turn NetworkPolicies on (`[network_policy]` in platform.toml, or `network_policy = {}` under `[environments.<env>]` or in the overlay's `[environment]`), or remove `source_cidrs`");
            // About those environments: a run of others leaves it for theirs.
            d.envs = envs.iter().map(|e| e.to_string()).collect();
            d.envs.sort();
        }
    }
}

/// Why a service has no Service in an environment, for a caller's `calls`.
struct NoService {
    /// What the callee is, after "calls `x`, ".
    problem: String,
    /// What to do, after the help's first clause.
    advice: String,
}

/// A service's `calls` as its layers in one environment write them, and the kind it
/// is written with: what the checks between services need of it, whether or not it
/// resolves.
pub(super) struct Calls<'a> {
    pub name: &'a str,
    pub kind: WorkloadKind,
    /// Each service it names that platform.toml declares, once, where it is written.
    pub callees: Vec<(&'a str, Origin)>,
}

impl<'a> Calls<'a> {
    pub fn written(
        name: &'a str,
        layers: &Layers<'a, ServiceLayer>,
        services: &'a crate::input::ServiceLayers,
    ) -> Calls<'a> {
        let list = layers.pick(|l| l.calls.as_ref());
        let mut seen: HashSet<&str> = HashSet::new();
        let callees = list
            .as_ref()
            .into_iter()
            .flat_map(|list| {
                list.value
                    .iter()
                    .map(move |c| (c, Origin::new(list.origin.file, c.span.clone())))
            })
            .filter_map(|(c, at)| {
                let (declared, _) = services.get_key_value(c.value.as_str())?;
                seen.insert(declared.value.as_str())
                    .then_some((declared.value.as_str(), at))
            })
            .collect();
        Calls {
            name,
            kind: super::workload::written_kind(layers),
            callees,
        }
    }
}

/// Why `svc` has no Service in `env`, or `None` when it has one to call. A `worker`,
/// `cronjob` and `job` never have one; a `deployment` has one unless
/// `service.enabled = false`; a `daemonset` only when it sets `port` or `service`; a
/// `statefulset` always has its headless Service (`<service>-headless`), even with
/// `service.enabled = false`, and its pods are called through it.
fn no_service(svc: &ServiceSpec, env: &EnvSpec) -> Option<NoService> {
    let (name, kind) = (&svc.name, svc.kind());
    match kind {
        _ if svc.service.is_some() => None,
        WorkloadKind::Statefulset => None,
        WorkloadKind::Worker | WorkloadKind::Cronjob | WorkloadKind::Job => {
            never_a_service(name, kind)
        }
        WorkloadKind::Deployment => Some(NoService {
            problem: format!(
                "whose Service is off in environment `{}` (`service.enabled = false`)",
                env.name
            ),
            advice: format!(
                "turn `{name}`'s Service back on in that environment, or remove `{name}` from `calls`"
            ),
        }),
        WorkloadKind::Daemonset => Some(NoService {
            problem: format!(
                "a `daemonset` without a Service in environment `{}`",
                env.name
            ),
            advice: format!(
                "a daemonset gets a Service only when it sets `port` or a `service` table itself, not `service.enabled = false` (docs/platform.md#kinds): set `port` under [services.{name}], or remove `{name}` from `calls`"
            ),
        }),
    }
}

/// Why a service `name` of `kind` never has a Service, whatever its settings: a
/// `worker`, `cronjob` or `job`. `None` for the other kinds.
fn never_a_service(name: &str, kind: WorkloadKind) -> Option<NoService> {
    matches!(
        kind,
        WorkloadKind::Worker | WorkloadKind::Cronjob | WorkloadKind::Job
    )
    .then(|| NoService {
        problem: format!("a `{}`, which has no port and no Service", kind.as_str()),
        advice: format!(
            "remove `{name}` from it: a `{}` only makes connections. If it takes its work from a queue or a database, that is what to call; if it serves requests, make it a `deployment` (or a `statefulset`) with a `port`",
            kind.as_str()
        ),
    })
}
