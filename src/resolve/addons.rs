//! The add-ons of a cluster: `[addons.<name>]` < `[clusters.<name>.addons.<addon>]` <
//! the overlay's `[addons.<addon>]` of the cluster's environment (when the cluster hosts
//! only that one), merged leaf by leaf, `values` deeply; every value checked, the
//! preset's typed settings turned into Helm values, and the add-on's identity decided.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Value;

use super::{Amend, Resolver};
use crate::addons::{self, Preset};
use crate::diagnostic::did_you_mean;
use crate::input::{AddonLayer, ClusterLayer, WorkloadIdentity};
use crate::merge::{Layers, Located};
use crate::source::{FileId, Origin};
use crate::spec::{AddonIdentity, AddonSettings, AddonSpec, CpuMem, PodSecurityLevel, Resources};
use crate::{names, quantity, rules};

/// Names kgen gives its own per-cluster Applications and directories.
pub const RESERVED_ADDON_NAMES: &[&str] = &[
    "monitoring",
    "namespaces",
    "bootstrap",
    "baseline",
    "baseline-custom",
];

/// The settings of `[addons.<name>]` that only some presets take, and their key.
const TYPED: &[&str] = &[
    "replicas",
    "resources",
    "priority_class",
    "tolerations",
    "node_selector",
    "cluster_name",
    "region",
    "vpc_id",
    "domain_filters",
    "txt_owner_id",
    "policy",
    "service_type",
    "node_ports",
    "ingress_class",
    "install_crds",
    "log_group",
    "interruption_queue",
    "sync_secrets",
    "rotation_interval",
];

impl<'a> Resolver<'a> {
    /// Every add-on of `cluster`, by name.
    pub(super) fn addons(
        &mut self,
        cluster: &str,
        kubernetes_version: (u32, u32),
        cluster_layer: Option<&'a ClusterLayer>,
        only_env: Option<&str>,
        envs: &[&str],
        ctx: &Value,
    ) -> Vec<AddonSpec> {
        let platform = &self.platform_file().addons;
        let overlay = |env: &str| {
            self.ws
                .overlays
                .get(env)
                .map(|o| (o.file, &o.data.addons))
                .filter(|(_, a)| !a.is_empty())
        };
        if only_env.is_none() {
            for env in envs {
                if let Some((file, map)) = overlay(env) {
                    let key = map.keys().next().expect("not empty");
                    self.error(
                        rules::SHARED_CLUSTER_SETTING,
                        Origin::new(file, key.span.clone()),
                        format!("overlays/{env}.toml configures add-on `{}`, but `{env}` shares cluster `{cluster}` with other environments, which run one copy of it", key.value),
                    )
                    .help(format!("configure the add-on for the cluster under `[clusters.{cluster}.addons.{}]` in platform.toml", key.value));
                }
            }
        }
        let overlay = only_env.and_then(overlay);
        let mut names: BTreeSet<&'a str> = platform.keys().map(|k| k.value.as_str()).collect();
        if let Some(c) = cluster_layer {
            names.extend(c.addons.keys().map(|k| k.value.as_str()));
        }
        if let Some((_, map)) = overlay {
            names.extend(map.keys().map(|k| k.value.as_str()));
        }
        let mut out = Vec::new();
        for name in names {
            let mut layers: Layers<AddonLayer> = Layers::new();
            let mut header = None;
            if let Some((k, v)) = platform.get_key_value(name) {
                layers.push(self.pf, &v.value);
                header = Some(self.at(&k.span));
            }
            if let Some((k, v)) = cluster_layer.and_then(|c| c.addons.get_key_value(name)) {
                layers.push(self.pf, &v.value);
                header.get_or_insert_with(|| self.at(&k.span));
            }
            if let Some((file, map)) = overlay {
                if let Some((k, v)) = map.get_key_value(name) {
                    layers.push(file, &v.value);
                    header.get_or_insert_with(|| Origin::new(file, k.span.clone()));
                }
            }
            let header = header.expect("declared somewhere");
            if layers
                .pick(|l| l.enabled.as_ref())
                .is_some_and(|e| !*e.value)
            {
                continue;
            }
            if let Some(a) = self.addon(cluster, kubernetes_version, name, &header, &layers, ctx) {
                out.push(a);
            }
        }
        // Two add-ons (or an add-on and the monitoring stack) with one release in one
        // namespace would be one Helm release written by two Applications.
        let mut seen: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        let mut clashes = Vec::new();
        for a in &out {
            if let Some(first) = seen.insert((&a.namespace, &a.release), &a.name) {
                clashes.push((
                    a.origin.clone(),
                    first.to_string(),
                    a.name.clone(),
                    a.release.clone(),
                ));
            }
        }
        for (origin, first, second, release) in clashes {
            self.error(
                rules::DUPLICATE,
                origin,
                format!("add-ons `{first}` and `{second}` are both release `{release}` in one namespace of cluster `{cluster}`"),
            )
            .help("give one of them another `release` or `namespace`");
        }
        out
    }

    fn addon(
        &mut self,
        cluster: &str,
        kubernetes_version: (u32, u32),
        name: &str,
        header: &Origin,
        layers: &Layers<'a, AddonLayer>,
        ctx: &Value,
    ) -> Option<AddonSpec> {
        let before = self.error_count();
        if let Err(e) = names::check_dns1123_label(name) {
            self.error(
                rules::INVALID_NAME,
                header.clone(),
                format!("add-on name: {e}"),
            );
            return None;
        }
        if RESERVED_ADDON_NAMES.contains(&name) {
            self.error(rules::RESERVED, header.clone(), format!("`{name}` cannot be an add-on's name: kgen names its own `<cluster>-{name}` Application so"))
                .help(if name == "monitoring" {
                    "kube-prometheus-stack is configured under [monitoring]; give another add-on another name"
                } else {
                    "choose another name"
                });
            return None;
        }
        let known: Vec<&str> = addons::PRESETS.iter().map(|p| p.name).collect();
        let preset: Option<&'static Preset> = match layers.pick(|l| l.preset.as_ref()) {
            Some(p) => match addons::preset(p.value) {
                Some(found) => Some(found),
                None => {
                    let d = self.error(
                        rules::UNKNOWN_REFERENCE,
                        p.origin.clone(),
                        format!("`{}` is not one of kgen's add-on presets", p.value),
                    );
                    if let Some(s) = did_you_mean(p.value, known.iter().copied()) {
                        d.label = Some(s);
                    }
                    d.help = Some(format!("the presets are {}; for another chart, leave `preset` out and set `chart`, `repo` and `chart_version`", known.join(", ")));
                    return None;
                }
            },
            None => addons::preset(name),
        };
        let chart = layers
            .pick(|l| l.chart.as_ref())
            .map(|c| c.value.clone())
            .or_else(|| preset.map(|p| p.chart.to_string()));
        let repo = layers.pick(|l| l.repo.as_ref());
        if let Some(r) = &repo {
            let ok = (r.value.starts_with("https://")
                || r.value.starts_with("http://")
                || r.value.starts_with("oci://"))
                && !r.value.contains(char::is_whitespace);
            if !ok {
                self.error(rules::INVALID_VALUE, r.origin.clone(), format!("`{}` is not a Helm repository URL", r.value))
                    .help("write the chart repository's URL (`https://charts.jetstack.io`) or an OCI registry path (`oci://public.ecr.aws/karpenter`)");
            }
        }
        let repo = repo
            .map(|r| r.value.clone())
            .or_else(|| preset.map(|p| p.repo.to_string()));
        let (Some(chart), Some(repo)) = (chart, repo) else {
            let d = self.error(
                rules::MISSING_KEY,
                header.clone(),
                format!(
                    "add-on `{name}` is not one of kgen's presets, and sets no `chart` and `repo`"
                ),
            );
            if let Some(s) = did_you_mean(name, known.iter().copied()) {
                d.label = Some(s);
            }
            d.help = Some(format!(
                "name a preset (`preset = \"...\"`, or a table named after one: {}), or set `chart`, `repo` and `chart_version` for any Helm chart",
                known.join(", ")
            ));
            return None;
        };
        // The Application `<cluster>-<name>` is also the `app.kubernetes.io/instance`
        // label of everything it deploys (label tracking): at most 63 characters, as
        // admission checks (KG305). Caught here, at the add-on's header.
        let application = format!("{cluster}-{name}");
        if application.len() > 63 {
            let room = 63usize.saturating_sub(cluster.len() + 1);
            let help = match preset {
                Some(p) => {
                    let short = short_addon_name(p.name);
                    let example = if short.len() <= room {
                        format!(", e.g. `[addons.{short}]` with `preset = \"{}\"`", p.name)
                    } else {
                        String::new()
                    };
                    format!(
                        "give the add-on a name of at most {room} characters and keep the chart with `preset`{example}"
                    )
                }
                None => format!("give the add-on a name of at most {room} characters"),
            };
            self.error(
                rules::APPLICATION_NAME,
                header.clone(),
                format!(
                    "add-on `{name}` of cluster `{cluster}` would be the Argo CD Application `{application}`, {} characters; with label tracking Argo CD writes it as the `app.kubernetes.io/instance` label, which holds at most 63",
                    application.len()
                ),
            )
            .help(help);
        }
        let version = match layers.pick(|l| l.chart_version.as_ref()) {
            Some(v) => {
                if !super::is_chart_version(v.value) {
                    self.error(rules::INVALID_VALUE, v.origin.clone(), format!("`{}` is not an exact chart version", v.value))
                        .help("pin one version, e.g. `chart_version = \"1.16.2\"` (no ranges, no `latest`): an upgrade is a reviewed change (`kgen bump-chart`)");
                }
                v.value.clone()
            }
            None => {
                let hint = preset
                    .map(|p| format!(" (kgen's preset was checked against {})", p.checked_version))
                    .unwrap_or_default();
                self.error(
                    rules::MISSING_KEY,
                    header.clone(),
                    format!("add-on `{name}` has no `chart_version`"),
                )
                .help(format!(
                    "pin the chart, e.g. `chart_version = \"{}\"`{hint}",
                    preset.map_or("1.0.0", |p| p.checked_version)
                ));
                String::new()
            }
        };
        if let (Some(p), Some(v)) = (preset, layers.pick(|l| l.chart_version.as_ref())) {
            self.check_kubernetes_support(p, name, cluster, kubernetes_version, &v);
        }
        let dns = |this: &mut Self,
                   v: Option<Located<&String>>,
                   default: Option<&str>,
                   what: &str|
         -> Option<String> {
            match v {
                Some(v) => {
                    if let Err(e) = names::check_dns1123_label(v.value) {
                        this.error(
                            rules::INVALID_NAME,
                            v.origin.clone(),
                            format!("{what}: {e}"),
                        );
                    }
                    Some(v.value.clone())
                }
                None => default.map(str::to_string),
            }
        };
        let Some(namespace) = dns(
            self,
            layers.pick(|l| l.namespace.as_ref()),
            preset.map(|p| p.namespace),
            "add-on namespace",
        ) else {
            self.error(
                rules::MISSING_KEY,
                header.clone(),
                format!("add-on `{name}` has no `namespace`"),
            )
            .help(
                "set the namespace to install the chart into, e.g. `namespace = \"cert-manager\"`",
            );
            return None;
        };
        let release = dns(
            self,
            layers.pick(|l| l.release.as_ref()),
            Some(name),
            "release name",
        )
        .unwrap_or_default();
        if release.len() > 53 {
            self.error(
                rules::INVALID_NAME,
                header.clone(),
                format!("release name `{release}` is longer than Helm's 53 characters"),
            );
        }

        // Typed settings: each must be one the preset takes.
        let takes: &[&str] = preset.map_or(&[], |p| p.settings);
        for key in TYPED {
            if let Some(at) = typed_origin(layers, key) {
                if !takes.contains(key) {
                    let who = preset.map_or_else(
                        || format!("`{chart}`, which is not a preset"),
                        |p| format!("the `{}` preset", p.name),
                    );
                    self.error(
                        rules::KIND_MISMATCH,
                        at,
                        format!("`{key}` is not a setting of {who}"),
                    )
                    .help(if takes.is_empty() {
                        "pass the chart's own values under `values = { ... }`".to_string()
                    } else {
                        format!(
                            "its settings are {}; anything else goes under `values`",
                            takes.join(", ")
                        )
                    });
                }
            }
        }
        let mut settings = self.addon_settings(cluster, name, &namespace, &release, layers, ctx);
        settings.kubernetes_version = kubernetes_version;
        // `cluster_name` defaults to the cluster's `eks_name` variable, when it has one.
        if settings.cluster_name.is_none() && takes.contains(&"cluster_name") {
            settings.cluster_name = cluster_var(ctx, EKS_NAME_VAR);
        }

        // Identity.
        let mode = layers
            .pick(|l| l.workload_identity.as_ref())
            .map(|m| *m.value)
            .or_else(|| {
                self.platform_file()
                    .platform
                    .value
                    .workload_identity
                    .as_ref()
                    .map(|w| w.value)
            })
            .unwrap_or(WorkloadIdentity::Irsa);
        let identity = layers.pick(|l| l.iam_role.as_ref()).and_then(|r| {
            let Some(sa) = preset.and_then(|p| p.service_account) else {
                self.error(rules::KIND_MISMATCH, r.origin.clone(), format!("add-on `{name}` takes no `iam_role`: kgen does not know where its chart sets its ServiceAccount"))
                    .help("set the ServiceAccount annotation under `values` as the chart documents it");
                return None;
            };
            let arn = self.render_template(r.value, &r.origin, ctx)?;
            if !super::is_iam_role_arn(&arn) {
                self.error(rules::INVALID_VALUE, r.origin.clone(), format!("`{arn}` is not an IAM role ARN"))
                    .help("write `arn:aws:iam::<12-digit account>:role/<name>`; templates like `{{ cluster.account }}` help");
                return None;
            }
            Some(AddonIdentity {
                role_arn: arn,
                mode,
                service_account: sa.name.replace("{release}", &release),
            })
        });
        if let Some(i) = identity
            .as_ref()
            .filter(|i| i.mode == WorkloadIdentity::Irsa)
        {
            settings.irsa_role = Some(i.role_arn.clone());
        }

        // Values: the preset's, then `values` (deeply, lowest layer first).
        let mut values = preset.map_or_else(|| serde_json::json!({}), |p| (p.values)(&settings));
        if let (Some(role), Some(sa)) =
            (&settings.irsa_role, preset.and_then(|p| p.service_account))
        {
            let mut path: Vec<&str> = sa.annotations.to_vec();
            path.push("eks.amazonaws.com/role-arn");
            addons::set(&mut values, &path, serde_json::json!(role));
        }
        for (file, table) in layers_values(layers) {
            let mut json = toml_to_json(&table.value);
            self.render_json_templates(&mut json, &Origin::new(file, table.span.clone()), ctx);
            addons::merge(&mut values, json);
        }

        if let Some(p) = preset {
            self.check_needed_settings(p, name, cluster, header, layers, &settings, &values);
        }
        if let (Some(p), Some(i)) = (preset, &identity) {
            self.check_service_account_name(p, name, &namespace, i, layers, &values);
        }
        if let Some(p) = preset {
            for problem in (p.check_values)(&settings, &values) {
                let at = values_origin(layers, &problem.path).unwrap_or_else(|| header.clone());
                self.error(
                    rules::INVALID_VALUE,
                    at,
                    format!("add-on `{name}`: {}", problem.message),
                )
                .help(problem.help);
            }
        }
        self.addon_placement(cluster, name, header, &settings, &values);

        let wave = layers
            .pick(|l| l.sync_wave.as_ref())
            .and_then(|w| {
                self.int_in_range(
                    *w.value,
                    i64::from(crate::render::argocd::bootstrap_wave::PROJECTS) + 1,
                    100,
                    &w.origin,
                    "sync_wave",
                )
            })
            .map_or_else(
                || preset.map_or(crate::render::argocd::bootstrap_wave::ADDONS, |p| p.wave),
                |w| w as i32,
            );
        let footprint = preset.map(|p| (p.footprint)(&settings)).unwrap_or_default();
        (self.error_count() == before).then(|| AddonSpec {
            name: name.to_string(),
            preset,
            repo,
            chart,
            version,
            release,
            namespace,
            values,
            wave,
            server_side_apply: layers
                .pick(|l| l.server_side_apply.as_ref())
                .map_or_else(|| preset.is_some_and(|p| p.server_side_apply), |s| *s.value),
            pod_security: layers.pick(|l| l.pod_security.as_ref()).map_or_else(
                || preset.map_or(PodSecurityLevel::Restricted, |p| p.pod_security),
                |p| *p.value,
            ),
            identity,
            footprint,
            origin: header.clone(),
        })
    }

    /// Records where the add-on's pods run, checked against the cluster's NodePools
    /// with the services' placement: the typed `tolerations` and `node_selector`, else
    /// the `tolerations` and `nodeSelector` at the top of its Helm values, else none
    /// (the chart's defaults: most charts set neither). Values that place pods deeper
    /// in the tree (per component, as kube-prometheus-stack does) are not guessed at:
    /// such an add-on is not checked.
    fn addon_placement(
        &mut self,
        cluster: &str,
        name: &str,
        header: &Origin,
        s: &AddonSettings,
        values: &serde_json::Value,
    ) {
        let (node_selector, tolerations, origin, written) = if let Some(origin) =
            &s.placement_origin
        {
            (
                s.node_selector.clone(),
                s.tolerations.clone(),
                origin.clone(),
                true,
            )
        } else {
            let top = values.as_object();
            let selector = top.and_then(|t| t.get("nodeSelector"));
            let tolerations = top.and_then(|t| t.get("tolerations"));
            if selector.is_none() && tolerations.is_none() && nested_placement(values, 0) {
                return;
            }
            let Some(node_selector) = selector.map_or(Some(BTreeMap::new()), |v| {
                v.as_object().map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
            }) else {
                return;
            };
            let Some(tolerations) = tolerations.map_or(Some(Vec::new()), json_tolerations) else {
                return;
            };
            (node_selector, tolerations, header.clone(), false)
        };
        self.refs.push(super::references::BaselineRef {
            cluster: cluster.to_string(),
            target: super::references::Target::Placement {
                who: format!("add-on `{name}`"),
                node_selector,
                tolerations,
                written,
            },
            origin,
        });
    }

    /// The typed settings of one add-on, checked and rendered.
    fn addon_settings(
        &mut self,
        cluster: &str,
        name: &str,
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
            let q = |this: &mut Self, v: Option<Located<&String>>| {
                v.map(|v| {
                    if let Err(e) = quantity::parse_non_negative(v.value) {
                        this.error(rules::INVALID_QUANTITY, v.origin.clone(), e);
                    }
                    v.value.clone()
                })
            };
            s.resources = Some(Resources {
                requests: CpuMem {
                    cpu: q(
                        self,
                        layers.pick(|l| l.resources.as_ref()?.requests.as_ref()?.cpu.as_ref()),
                    ),
                    memory: q(
                        self,
                        layers.pick(|l| l.resources.as_ref()?.requests.as_ref()?.memory.as_ref()),
                    ),
                },
                limits: CpuMem {
                    cpu: q(
                        self,
                        layers.pick(|l| l.resources.as_ref()?.limits.as_ref()?.cpu.as_ref()),
                    ),
                    memory: q(
                        self,
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
            for t in list.value {
                s.tolerations.push(crate::spec::Toleration {
                    key: t.key.as_ref().map(|k| k.value.clone()),
                    operator: t
                        .operator
                        .as_ref()
                        .map_or(crate::spec::TolerationOperator::Equal, |o| o.value),
                    value: t.value.as_ref().map(|v| v.value.clone()),
                    effect: t.effect.as_ref().map(|e| e.value),
                    seconds: t.seconds.as_ref().map(|x| x.value),
                });
            }
        }
        for (k, e) in layers.map(|l| Some(&l.node_selector)) {
            if let Err(err) = names::check_label_key(k) {
                self.error(
                    rules::INVALID_KEY,
                    e.key.clone(),
                    format!("node label key: {err}"),
                );
                continue;
            }
            s.node_selector.insert(k.to_string(), e.value.value.clone());
        }
        if let Some(p) = layers.pick(|l| l.priority_class.as_ref()) {
            self.refs.push(super::references::BaselineRef {
                cluster: cluster.to_string(),
                target: super::references::Target::PriorityClass(p.value.clone()),
                origin: p.origin,
            });
        }
        if !s.tolerations.is_empty() || !s.node_selector.is_empty() {
            let origin = layers
                .pick(|l| l.tolerations.as_ref())
                .map(|t| t.origin)
                .or_else(|| {
                    layers
                        .map(|l| Some(&l.node_selector))
                        .into_values()
                        .next()
                        .map(|e| e.key)
                })
                .expect("tolerations or a node selector are set");
            s.placement_origin = Some(origin);
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
        let _ = name;
        s
    }

    /// Renders every string of a values tree as a template (`{{ cluster.<var> }}`).
    fn render_json_templates(&mut self, v: &mut serde_json::Value, origin: &Origin, ctx: &Value) {
        match v {
            serde_json::Value::String(s) if crate::template::Templates::is_template(s) => {
                if let Some(out) = self.render_template(s, origin, ctx) {
                    *s = out;
                }
            }
            serde_json::Value::Array(items) => {
                for i in items {
                    self.render_json_templates(i, origin, ctx);
                }
            }
            serde_json::Value::Object(m) => {
                for (_, i) in m.iter_mut() {
                    self.render_json_templates(i, origin, ctx);
                }
            }
            _ => {}
        }
    }
}

/// The cluster variable `cluster_name` defaults to (`[clusters.<name>] vars`).
pub const EKS_NAME_VAR: &str = "eks_name";

impl Resolver<'_> {
    /// A pinned chart version whose releases need another Kubernetes version than the
    /// cluster's (the preset's `kubernetes` ranges and `min_kubernetes`).
    fn check_kubernetes_support(
        &mut self,
        p: &Preset,
        name: &str,
        cluster: &str,
        kube: (u32, u32),
        version: &Located<&String>,
    ) {
        let Some(k) = addons::kube_support(p, version.value) else {
            return;
        };
        let shown = |(a, b): (u32, u32)| format!("{a}.{b}");
        let (needs, fits) = match (k.min, k.max) {
            (Some(min), _) if kube < min => (
                format!("needs Kubernetes {} or later", shown(min)),
                format!("{} or later", shown(min)),
            ),
            (_, Some(max)) if kube > max => (
                format!("supports Kubernetes up to {}", shown(max)),
                format!("{} or earlier", shown(max)),
            ),
            _ => return,
        };
        let layer = self.platform_file().clusters.get(cluster);
        let (runs, fix) = match layer.map(|c| c.value.kubernetes_version.is_some()) {
            Some(true) => (
                format!("cluster `{cluster}` runs {}", shown(kube)),
                format!("or, if the cluster runs {fits}, correct `kubernetes_version` under `[clusters.{cluster}]`"),
            ),
            Some(false) => (
                format!("cluster `{cluster}` is taken to run {} (no `kubernetes_version` is set for it)", shown(kube)),
                format!("or, if the cluster runs {fits}, set `kubernetes_version` under `[clusters.{cluster}]`"),
            ),
            None => (
                format!("cluster `{cluster}` is taken to run {} (kgen knows it only by its server)", shown(kube)),
                format!("or, if the cluster runs {fits}, declare it under `[clusters.<name>]` with its `kubernetes_version`"),
            ),
        };
        self.error(
            rules::INVALID_VALUE,
            version.origin.clone(),
            format!(
                "chart {} of add-on `{name}` {needs}, but {runs}: {}",
                version.value, k.source
            ),
        )
        .help(format!(
            "pin a chart version that supports Kubernetes {} (kgen's preset was checked against {}); {fix}",
            shown(kube),
            p.checked_version
        ));
    }

    /// The settings a preset cannot do without (errors) and should have (warnings).
    /// `values` that set the setting's values path count as setting it.
    #[allow(clippy::too_many_arguments)]
    fn check_needed_settings(
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

    /// `values` that rename the ServiceAccount of an add-on with an IAM role: the
    /// Terraform hand-off would name another one than the chart creates.
    #[allow(clippy::too_many_arguments)]
    fn check_service_account_name(
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

    /// ExternalSecrets and ClusterSecretStores at `external-secrets.io/v1beta1` on a
    /// cluster whose External Secrets Operator (the preset) no longer serves it.
    pub(super) fn check_external_secrets_api_version(
        &mut self,
        clusters: &[crate::spec::ClusterSpec],
        environments: &[crate::spec::EnvSpec],
    ) {
        use crate::crd::external_secrets::API_VERSION_V1BETA1;
        for c in clusters {
            for a in &c.addons {
                if a.preset.is_none_or(|p| p.name != "external-secrets")
                    || addons::external_secrets_serves_v1beta1(&a.version, &a.values) != Some(false)
                {
                    continue;
                }
                let mut groups: Vec<(Origin, Vec<&str>)> = Vec::new();
                for e in environments.iter().filter(|e| {
                    e.cluster == c.name
                        && e.secrets_backend == crate::spec::SecretsBackend::ExternalSecrets
                        && e.external_secrets.api_version == API_VERSION_V1BETA1
                }) {
                    let origin = e
                        .origins
                        .get("external_secrets.api_version")
                        .cloned()
                        .unwrap_or_else(|| e.origin.clone());
                    match groups.iter_mut().find(|(o, _)| *o == origin) {
                        Some((_, envs)) => envs.push(&e.name),
                        None => groups.push((origin, vec![&e.name])),
                    }
                }
                let since = addons::chart_version_order(addons::ESO_UNSAFE_SERVE_V1BETA1_SINCE);
                let serve = "`values = { crds = { unsafeServeV1Beta1 = true } }`";
                let again = if addons::chart_version_order(&a.version) >= since {
                    format!("; or, while v1beta1 resources are migrated, serve it again with {serve} under `[addons.{}]` (deprecated upstream)", a.name)
                } else {
                    format!(
                        "; or pin a chart before {}, or one from {} on with {serve}",
                        addons::ESO_V1BETA1_UNSERVED_SINCE,
                        addons::ESO_UNSAFE_SERVE_V1BETA1_SINCE
                    )
                };
                let stores = if c.baseline.secret_stores.is_empty() {
                    String::new()
                } else {
                    format!(" (and cluster `{}` its ClusterSecretStores)", c.name)
                };
                for (origin, envs) in groups {
                    let who = match envs.as_slice() {
                        [one] => format!("environment `{one}` writes its"),
                        many => format!(
                            "environments {} write their",
                            many.iter()
                                .map(|e| format!("`{e}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    self.error(
                        rules::INVALID_VALUE,
                        origin,
                        format!(
                            "{who} ExternalSecrets{stores} at `{API_VERSION_V1BETA1}`, which add-on `{}` (chart {}) does not serve: its CRDs serve only `external-secrets.io/v1` since chart {}",
                            a.name,
                            a.version,
                            addons::ESO_V1BETA1_UNSERVED_SINCE
                        ),
                    )
                    .help(format!(
                        "remove `api_version = \"v1beta1\"`: kgen then writes `v1`, which the operator serves since v0.16{again}"
                    ));
                }
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

/// A shorter name for an add-on of `preset`: its initials, or the name its project uses.
fn short_addon_name(preset: &str) -> String {
    match preset {
        // The AWS Secrets and Configuration Provider, as AWS names it.
        "secrets-store-csi-driver-provider-aws" => "ascp".to_string(),
        _ => preset.split('-').filter_map(|w| w.chars().next()).collect(),
    }
}

/// The cluster variable `var` (`[clusters.<name>] vars`), when the cluster has it.
fn cluster_var(ctx: &Value, var: &str) -> Option<String> {
    let v = ctx.get_attr("cluster").ok()?.get_attr(var).ok()?;
    v.as_str().map(str::to_string)
}

/// The `values` table of the highest layer that sets `path`.
fn values_origin(layers: &Layers<'_, AddonLayer>, path: &[&str]) -> Option<Origin> {
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

/// Where a typed setting is set, if any layer sets it.
fn typed_origin<'a>(layers: &Layers<'a, AddonLayer>, key: &str) -> Option<Origin> {
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

/// The `values` tables of every layer, lowest first.
fn layers_values<'a>(
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

/// Whether Helm values set `nodeSelector`, `tolerations` or `affinity` below their top
/// level (per component).
fn nested_placement(v: &serde_json::Value, depth: usize) -> bool {
    match v {
        serde_json::Value::Object(m) => m.iter().any(|(k, v)| {
            (depth > 0 && matches!(k.as_str(), "nodeSelector" | "tolerations" | "affinity"))
                || nested_placement(v, depth + 1)
        }),
        serde_json::Value::Array(a) => a.iter().any(|v| nested_placement(v, depth + 1)),
        _ => false,
    }
}

/// Tolerations written as Helm values (Kubernetes' own shape), or `None` when they are
/// not a list of objects kgen can read.
fn json_tolerations(v: &serde_json::Value) -> Option<Vec<crate::spec::Toleration>> {
    use crate::spec::TolerationOperator;
    v.as_array()?
        .iter()
        .map(|t| {
            let t = t.as_object()?;
            let text = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
            Some(crate::spec::Toleration {
                key: text("key"),
                operator: match text("operator").as_deref() {
                    Some("Exists") => TolerationOperator::Exists,
                    None | Some("Equal") => TolerationOperator::Equal,
                    Some(_) => return None,
                },
                value: text("value"),
                effect: match text("effect").as_deref() {
                    None => None,
                    Some(e) => Some(serde_json::from_value(serde_json::json!(e)).ok()?),
                },
                seconds: t.get("tolerationSeconds").and_then(|v| v.as_i64()),
            })
        })
        .collect()
}
