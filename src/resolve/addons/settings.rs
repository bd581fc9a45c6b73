//! The typed settings of an add-on (`replicas`, `resources`, `cluster_name`,
//! `region`, ...): each checked and recorded for the preset to turn into Helm values,
//! and the settings a preset needs (errors) or should have (warnings).

use minijinja::Value;

use super::values::values_origin;
use super::EKS_NAME_VAR;
use crate::addons::Preset;
use crate::input::AddonLayer;
use crate::merge::{Layers, Located};
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spec::{AddonSettings, CpuMem, Resources};
use crate::{names, quantity, rules};

impl<'a> Resolver<'a> {
    /// The typed settings of one add-on, checked and rendered.
    pub(super) fn addon_settings(
        &mut self,
        cluster: &str,
        namespace: &str,
        release: &str,
        layers: &Layers<'a, AddonLayer>,
        ctx: &Value,
    ) -> AddonSettings {
        let mut s = AddonSettings {
            release: release.to_string(),
            namespace: namespace.to_string(),
            cluster: cluster.to_string(),
            ..Default::default()
        };
        s.replicas = layers
            .pick(|l| l.replicas.as_ref())
            .and_then(|r| self.int_in_range(*r.value, 1, 100, &r.origin, "replicas"))
            .map(|n| n as u32);
        if layers.pick(|l| l.resources.as_ref()).is_some() {
            let q = |this: &mut Self, path: &str, v: Option<Located<&String>>| {
                v.map(|v| {
                    match quantity::parse_non_negative(v.value) {
                        Ok(_) => this.unit_slip(path, v.value, &v.origin),
                        Err(e) => {
                            this.error(rules::INVALID_QUANTITY, v.origin.clone(), e);
                        }
                    }
                    v.value.clone()
                })
            };
            for (what, request, limit) in [
                (
                    "cpu",
                    layers.pick(|l| l.resources.as_ref()?.requests.as_ref()?.cpu.as_ref()),
                    layers.pick(|l| l.resources.as_ref()?.limits.as_ref()?.cpu.as_ref()),
                ),
                (
                    "memory",
                    layers.pick(|l| l.resources.as_ref()?.requests.as_ref()?.memory.as_ref()),
                    layers.pick(|l| l.resources.as_ref()?.limits.as_ref()?.memory.as_ref()),
                ),
            ] {
                let (Some(request), Some(limit)) = (request, limit) else {
                    continue;
                };
                let parse = |v: &Located<&String>| quantity::parse_non_negative(v.value).ok();
                if let (Some(r), Some(l)) = (parse(&request), parse(&limit)) {
                    self.request_within_limit(
                        what,
                        (r, l),
                        (request.value, limit.value),
                        request.origin.clone(),
                    );
                }
            }
            s.resources = Some(Resources {
                requests: CpuMem {
                    cpu: q(
                        self,
                        "resources.requests.cpu",
                        layers.pick(|l| l.resources.as_ref()?.requests.as_ref()?.cpu.as_ref()),
                    ),
                    memory: q(
                        self,
                        "resources.requests.memory",
                        layers.pick(|l| l.resources.as_ref()?.requests.as_ref()?.memory.as_ref()),
                    ),
                },
                limits: CpuMem {
                    cpu: q(
                        self,
                        "resources.limits.cpu",
                        layers.pick(|l| l.resources.as_ref()?.limits.as_ref()?.cpu.as_ref()),
                    ),
                    memory: q(
                        self,
                        "resources.limits.memory",
                        layers.pick(|l| l.resources.as_ref()?.limits.as_ref()?.memory.as_ref()),
                    ),
                },
            });
        }
        s.priority_class = layers.pick(|l| l.priority_class.as_ref()).map(|p| {
            if let Err(e) = names::check_dns1123_subdomain(p.value) {
                self.error(
                    rules::INVALID_NAME,
                    p.origin.clone(),
                    format!("priority_class: {e}"),
                );
            }
            p.value.clone()
        });
        if let Some(list) = layers.pick(|l| l.tolerations.as_ref()) {
            s.tolerations = self.tolerations(list);
        }
        s.node_selector = self.node_selector(layers.map(|l| Some(&l.node_selector)));
        if let Some(p) = layers.pick(|l| l.priority_class.as_ref()) {
            self.refs.push(crate::resolve::references::BaselineRef {
                cluster: cluster.to_string(),
                target: crate::resolve::references::Target::PriorityClass(p.value.clone()),
                origin: p.origin,
            });
        }
        if !s.tolerations.is_empty() || !s.node_selector.is_empty() {
            s.tolerations_origin = layers.pick(|l| l.tolerations.as_ref()).map(|t| t.origin);
            // A node selector is what most often fits no pool: the finding points there.
            s.placement_origin = layers
                .map(|l| Some(&l.node_selector))
                .into_values()
                .next()
                .map(|e| e.key)
                .or_else(|| s.tolerations_origin.clone());
        }
        let text = |this: &mut Self, v: Option<Located<&String>>| {
            v.and_then(|v| this.render_template(v.value, &v.origin, ctx))
        };
        s.cluster_name = text(self, layers.pick(|l| l.cluster_name.as_ref()));
        s.region = text(self, layers.pick(|l| l.region.as_ref())).or_else(|| {
            self.platform_file()
                .platform
                .value
                .aws_region
                .as_ref()
                .map(|r| r.value.clone())
        });
        s.vpc_id = text(self, layers.pick(|l| l.vpc_id.as_ref()));
        s.txt_owner_id = text(self, layers.pick(|l| l.txt_owner_id.as_ref()));
        s.log_group = text(self, layers.pick(|l| l.log_group.as_ref()));
        s.interruption_queue = text(self, layers.pick(|l| l.interruption_queue.as_ref()));
        s.ingress_class = layers.pick(|l| l.ingress_class.as_ref()).map(|c| {
            if let Err(e) = names::check_dns1123_subdomain(c.value) {
                self.error(
                    rules::INVALID_NAME,
                    c.origin.clone(),
                    format!("ingress_class: {e}"),
                );
            }
            c.value.clone()
        });
        s.policy = layers.pick(|l| l.policy.as_ref()).map(|p| {
            if !["sync", "upsert-only", "create-only"].contains(&p.value.as_str()) {
                self.error(rules::INVALID_VALUE, p.origin.clone(), format!("`{}` is not an external-dns policy", p.value))
                    .help("write `upsert-only` (never deletes records), `sync` (also deletes them) or `create-only`");
            }
            p.value.clone()
        });
        if let Some(list) = layers.pick(|l| l.domain_filters.as_ref()) {
            for d in list.value {
                let at = Origin::new(list.origin.file, d.span.clone());
                if let Err(e) = crate::resolve::check_host(&d.value) {
                    self.error(rules::INVALID_VALUE, at, format!("domain filter: {e}"));
                }
                s.domain_filters.push(d.value.clone());
            }
        }
        s.service_type = layers.pick(|l| l.service_type.as_ref()).map(|t| *t.value);
        if let Some(np) = layers.pick(|l| l.node_ports.as_ref()) {
            let port = |this: &mut Self, v: Option<Located<&i64>>| {
                v.and_then(|v| this.int_in_range(*v.value, 30000, 32767, &v.origin, "node port"))
                    .map(|n| n as u16)
            };
            s.node_ports = (
                port(self, layers.pick(|l| l.node_ports.as_ref()?.http.as_ref())),
                port(self, layers.pick(|l| l.node_ports.as_ref()?.https.as_ref())),
            );
            if let Some(t) = layers
                .pick(|l| l.service_type.as_ref())
                .filter(|t| *t.value == crate::spec::ServiceType::ClusterIP)
            {
                let (line, _) = self
                    .ws
                    .sources
                    .get(t.origin.file)
                    .line_col(t.origin.span.start);
                let file = &self.ws.sources.get(t.origin.file).display;
                self.error(
                    rules::KIND_MISMATCH,
                    np.origin.clone(),
                    format!("`node_ports` does not apply to `service_type = \"ClusterIP\"` ({file}:{line}): a ClusterIP Service has no node ports"),
                )
                .help("remove `node_ports`, or set `service_type = \"NodePort\"` (behind an ALB) or `\"LoadBalancer\"`");
            }
        }
        s.install_crds = layers.pick(|l| l.install_crds.as_ref()).map(|b| *b.value);
        s.sync_secrets = layers.pick(|l| l.sync_secrets.as_ref()).map(|b| *b.value);
        s.rotation_interval = layers.pick(|l| l.rotation_interval.as_ref()).map(|r| {
            if !crate::resolve::is_go_duration(r.value) {
                self.error(
                    rules::INVALID_VALUE,
                    r.origin.clone(),
                    format!("`{}` is not a Go duration", r.value),
                )
                .help("write a duration like `2m` or `1h`");
            }
            r.value.clone()
        });
        s
    }
}

impl Resolver<'_> {
    /// The settings a preset cannot do without (errors) and should have (warnings).
    /// `values` that set the setting's values path count as setting it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_needed_settings(
        &mut self,
        p: &Preset,
        name: &str,
        cluster: &str,
        header: &Origin,
        layers: &Layers<'_, AddonLayer>,
        s: &AddonSettings,
        values: &serde_json::Value,
    ) {
        let declared = self.platform_file().clusters.contains_key(cluster);
        for n in p.required {
            let written = n.values_path.iter().try_fold(values, |v, k| v.get(*k));
            let given = written.is_some_and(|v| match v {
                serde_json::Value::Null => false,
                serde_json::Value::String(t) => !t.trim().is_empty(),
                _ => true,
            });
            if given {
                continue;
            }
            if let Some(at) = values_origin(layers, n.values_path) {
                let path = n.values_path.join(".");
                self.error(
                    rules::INVALID_VALUE,
                    at,
                    format!("`values` of add-on `{name}` set `{path}` empty: {}", n.why),
                )
                .help(format!(
                    "remove `{path}` from `values`; {}",
                    needed_help(n.key, name, cluster, declared)
                ));
                continue;
            }
            match setting_text(s, n.key) {
                Some(_) => {
                    let at = typed_origin(layers, n.key).unwrap_or_else(|| header.clone());
                    self.error(
                        rules::INVALID_VALUE,
                        at,
                        format!("`{}` of add-on `{name}` is empty: {}", n.key, n.why),
                    )
                    .help(needed_help(n.key, name, cluster, declared));
                }
                None => {
                    // `cluster_name`'s default depends on the cluster: say which one.
                    let of = if n.key == "cluster_name" {
                        format!(" of cluster `{cluster}`")
                    } else {
                        String::new()
                    };
                    self.error(
                        rules::MISSING_KEY,
                        header.clone(),
                        format!("add-on `{name}`{of} has no `{}`: {}", n.key, n.why),
                    )
                    .help(needed_help(n.key, name, cluster, declared));
                }
            }
        }
        for n in p.recommended {
            if typed_origin(layers, n.key).is_none()
                && values_origin(layers, n.values_path).is_none()
            {
                self.warning(
                    rules::MISSING_KEY,
                    header.clone(),
                    format!("add-on `{name}` sets no `{}`: {}", n.key, n.why),
                )
                .help(needed_help(n.key, name, cluster, declared));
            }
        }
    }
}

/// A required setting's resolved text (`None` when unset).
fn setting_text<'s>(s: &'s AddonSettings, key: &str) -> Option<&'s str> {
    match key {
        "cluster_name" => s.cluster_name.as_deref(),
        "region" => s.region.as_deref(),
        "vpc_id" => s.vpc_id.as_deref(),
        "txt_owner_id" => s.txt_owner_id.as_deref(),
        "log_group" => s.log_group.as_deref(),
        "interruption_queue" => s.interruption_queue.as_deref(),
        other => unreachable!("`{other}` is not a text setting a preset can require"),
    }
}

/// How to give an add-on a setting it needs.
fn needed_help(key: &str, name: &str, cluster: &str, declared: bool) -> String {
    match key {
        "cluster_name" if declared => format!(
            "set `cluster_name` (the EKS cluster's name; a template, e.g. `\"myapp-{{{{ cluster.name }}}}\"`) under `[addons.{name}]` or `[clusters.{cluster}.addons.{name}]`, or give the cluster `vars = {{ {EKS_NAME_VAR} = \"...\" }}` under `[clusters.{cluster}]`, which kgen uses by default"
        ),
        "cluster_name" => format!(
            "set `cluster_name` (the EKS cluster's name; a template, e.g. `\"myapp-{{{{ cluster.name }}}}\"`) under `[addons.{name}]`"
        ),
        "region" => format!(
            "set `region = \"eu-west-1\"` (a template) under `[addons.{name}]`, or `aws_region` under `[platform]`, the default of every add-on's `region`"
        ),
        "domain_filters" => "list the zones it may write, e.g. `domain_filters = [\"example.com\"]`, and limit its IAM role to them; `domain_filters = []` says every zone is meant".to_string(),
        other => format!("set `{other}` under `[addons.{name}]`"),
    }
}

/// Where a typed setting is set, if any layer sets it.
pub(super) fn typed_origin<'a>(layers: &Layers<'a, AddonLayer>, key: &str) -> Option<Origin> {
    let o = match key {
        "replicas" => layers.pick(|l| l.replicas.as_ref()).map(|v| v.origin),
        "resources" => layers.pick(|l| l.resources.as_ref()).map(|v| v.origin),
        "priority_class" => layers.pick(|l| l.priority_class.as_ref()).map(|v| v.origin),
        "tolerations" => layers.pick(|l| l.tolerations.as_ref()).map(|v| v.origin),
        "node_selector" => layers
            .map(|l| Some(&l.node_selector))
            .into_values()
            .next()
            .map(|e| e.key),
        "cluster_name" => layers.pick(|l| l.cluster_name.as_ref()).map(|v| v.origin),
        "region" => layers.pick(|l| l.region.as_ref()).map(|v| v.origin),
        "vpc_id" => layers.pick(|l| l.vpc_id.as_ref()).map(|v| v.origin),
        "domain_filters" => layers.pick(|l| l.domain_filters.as_ref()).map(|v| v.origin),
        "txt_owner_id" => layers.pick(|l| l.txt_owner_id.as_ref()).map(|v| v.origin),
        "policy" => layers.pick(|l| l.policy.as_ref()).map(|v| v.origin),
        "service_type" => layers.pick(|l| l.service_type.as_ref()).map(|v| v.origin),
        "node_ports" => layers.pick(|l| l.node_ports.as_ref()).map(|v| v.origin),
        "ingress_class" => layers.pick(|l| l.ingress_class.as_ref()).map(|v| v.origin),
        "install_crds" => layers.pick(|l| l.install_crds.as_ref()).map(|v| v.origin),
        "log_group" => layers.pick(|l| l.log_group.as_ref()).map(|v| v.origin),
        "interruption_queue" => layers
            .pick(|l| l.interruption_queue.as_ref())
            .map(|v| v.origin),
        "sync_secrets" => layers.pick(|l| l.sync_secrets.as_ref()).map(|v| v.origin),
        "rotation_interval" => layers
            .pick(|l| l.rotation_interval.as_ref())
            .map(|v| v.origin),
        _ => None,
    };
    o
}
