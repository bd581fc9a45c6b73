//! The add-ons of a cluster: `[addons.<name>]` < `[clusters.<name>.addons.<addon>]` <
//! the overlay's `[addons.<addon>]` of the cluster's environment (when the cluster hosts
//! only that one), merged leaf by leaf, `values` deeply; every value checked, the
//! preset's typed settings turned into Helm values, and the add-on's identity decided.
//!
//! This module merges the layers and decides each add-on's chart, release, namespace,
//! identity and values; its typed settings, Helm values, placement, the chart's
//! support of the cluster and what a chart that is not a preset declares it creates
//! are checked in modules of their own.

mod chart_support;
mod footprint;
mod placement;
mod settings;
mod values;

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Value;

use self::settings::typed_origin;
use self::values::{layers_values, values_origin};
use super::{Amend, Resolver};
use crate::addons::TYPED_SETTINGS as TYPED;
use crate::addons::{self, Preset};
use crate::diagnostic::did_you_mean;
use crate::input::{AddonLayer, ClusterLayer, WorkloadIdentity};
use crate::merge::{Layers, Located};
use crate::source::Origin;
use crate::spec::AddonSettings;
use crate::spec::{AddonIdentity, AddonSpec, PodSecurityLevel};
use crate::{names, rules};

/// Names kgen gives its own per-cluster Applications and directories.
pub const RESERVED_ADDON_NAMES: &[&str] = &[
    "monitoring",
    "namespaces",
    "bootstrap",
    "baseline",
    "baseline-custom",
];

/// The cluster variable `cluster_name` defaults to (`[clusters.<name>] vars`).
pub const EKS_NAME_VAR: &str = "eks_name";

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
        self.check_node_autoscalers(cluster, &out);
        out
    }

    /// KG035: Karpenter and the Cluster Autoscaler on one cluster both add and remove
    /// its nodes, each undoing what the other decides (docs/addons.md).
    fn check_node_autoscalers(&mut self, cluster: &str, addons: &[AddonSpec]) {
        let of = |preset: &str| {
            addons
                .iter()
                .find(|a| a.preset.is_some_and(|p| p.name == preset))
        };
        let (Some(karpenter), Some(autoscaler)) = (of("karpenter"), of("cluster-autoscaler"))
        else {
            return;
        };
        self.warning(
            rules::NODE_AUTOSCALERS,
            autoscaler.origin.clone(),
            format!(
                "cluster `{cluster}` runs both Karpenter (add-on `{}`) and the Cluster Autoscaler (add-on `{}`): both add and remove its nodes, and each undoes what the other decides",
                karpenter.name, autoscaler.name
            ),
        )
        .help(format!(
            "keep one: Karpenter for NodePools, the Cluster Autoscaler for managed node groups; to keep both while migrating, disable one on this cluster (`[clusters.{cluster}.addons.{}] enabled = false`) once its nodes are gone, and make sure they never scale the same nodes",
            autoscaler.name
        ));
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
        let mut refused: Vec<Origin> = Vec::new();
        for key in TYPED {
            if let Some(at) = typed_origin(layers, key) {
                if !takes.contains(key) {
                    refused.push(at.clone());
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
        let checked_from = self.diags.len();
        let mut settings = self.addon_settings(cluster, &namespace, &release, layers, ctx);
        // A setting refused whole is not checked inside too.
        let kept: Vec<crate::diagnostic::Diagnostic> = self
            .diags
            .split_off(checked_from)
            .into_iter()
            .filter(|d| {
                d.origin.as_ref().is_none_or(|o| {
                    !refused.iter().any(|r| {
                        r.file == o.file && r.span.start <= o.span.start && o.span.end <= r.span.end
                    })
                })
            })
            .collect();
        self.diags.extend(kept);
        settings.kubernetes_version = kubernetes_version;
        // `cluster_name` defaults to the cluster's `eks_name` variable, when it has one.
        let default_cluster_name =
            settings.cluster_name.is_none() && takes.contains(&"cluster_name");
        if default_cluster_name {
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
        // A chart that is not a preset names its ServiceAccount (`service_account`).
        let declared_sa = layers
            .pick(|l| l.service_account.as_ref())
            .filter(|_| preset.is_none())
            .and_then(|s| {
                self.check_label("service_account", s.value, s.origin.clone())
                    .then(|| s.value.clone())
            });
        let identity = layers.pick(|l| l.iam_role.as_ref()).and_then(|r| {
            let sa = match (preset.and_then(|p| p.service_account), &declared_sa) {
                (Some(sa), _) => sa.name.replace("{release}", &release),
                (None, Some(sa)) => sa.clone(),
                (None, None) => {
                    match preset {
                        // A preset without a ServiceAccount to annotate calls no AWS API.
                        Some(p) => self.error(rules::KIND_MISMATCH, r.origin.clone(), format!("add-on `{name}` takes no `iam_role`: the `{}` preset needs no IAM role of its own (docs/addons.md says each preset's identity)", p.name))
                            .help("remove `iam_role`"),
                        None => self.error(rules::MISSING_KEY, r.origin.clone(), format!("add-on `{name}` has an `iam_role` but no `service_account`: kgen does not know which of its chart's ServiceAccounts the role is for"))
                            .help("name it: `service_account = \"<the chart's ServiceAccount>\"` (the Terraform hand-off then trusts it), and with IRSA set its annotation under `values` as the chart documents it"),
                    };
                    return None;
                }
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
                service_account: sa,
            })
        });
        if let Some(i) = identity
            .as_ref()
            .filter(|i| i.mode == WorkloadIdentity::Irsa)
        {
            settings.irsa_role = Some(i.role_arn.clone());
        }

        // Values: the preset's, then `values` (deeply, lowest layer first).
        let mut values = preset.map_or_else(
            || serde_json::json!({}),
            |p| values::preset_values(p, &settings),
        );
        // What the typed settings decided, against what none of them would (KG034,
        // once the add-on's errors are known: a value refused is not warned of too).
        let overridden = preset.map(|p| {
            let base = AddonSettings {
                release: settings.release.clone(),
                namespace: settings.namespace.clone(),
                cluster: settings.cluster.clone(),
                kubernetes_version: settings.kubernetes_version,
                // A default is no typed setting: the cluster's `eks_name`, the
                // platform's `aws_region`.
                cluster_name: settings
                    .cluster_name
                    .clone()
                    .filter(|_| default_cluster_name),
                region: settings
                    .region
                    .clone()
                    .filter(|_| layers.pick(|l| l.region.as_ref()).is_none()),
                ..AddonSettings::default()
            };
            (p, base)
        });
        self.merge_values_tables(&mut values, layers_values(layers), ctx);
        if let (None, Some(i)) = (preset, &identity) {
            self.check_irsa_annotation(name, i, layers, &values);
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
        if let Some((p, base)) = overridden.filter(|_| self.error_count() == before) {
            self.check_values_override(p, name, layers, &settings, &base);
        }

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
        let mut footprint = preset.map(|p| (p.footprint)(&settings)).unwrap_or_default();
        self.declared_footprint(preset, layers, header, name, &mut footprint);
        if let Some(p) = preset {
            footprint.custom_resources = (p.custom_resources)(&values)
                .into_iter()
                .map(|r| {
                    let at = values_origin(layers, r.because).unwrap_or_else(|| header.clone());
                    (r, at)
                })
                .collect();
        }
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
