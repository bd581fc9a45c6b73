//! What an add-on's pinned chart version supports: the cluster's Kubernetes version
//! (the preset's ranges), and, for the External Secrets Operator, the
//! `external-secrets.io` API version the environments write.

use crate::addons::{self, Preset};
use crate::merge::Located;
use crate::resolve::{Amend, Resolver};
use crate::rules;
use crate::source::Origin;

impl Resolver<'_> {
    /// A pinned chart version whose releases need another Kubernetes version than the
    /// cluster's (the preset's `kubernetes` ranges and `min_kubernetes`).
    pub(super) fn check_kubernetes_support(
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

    /// ExternalSecrets and ClusterSecretStores at `external-secrets.io/v1` (the
    /// default) on a cluster whose External Secrets Operator (the preset) is a chart
    /// from before `v1` was served: one error at the add-on, naming who writes `v1`.
    fn check_external_secrets_v1(
        &mut self,
        c: &crate::spec::ClusterSpec,
        environments: &[&crate::spec::EnvSpec],
    ) {
        use crate::crd::external_secrets::API_VERSION_V1BETA1;
        for a in &c.addons {
            if a.preset.is_none_or(|p| p.name != "external-secrets")
                || addons::external_secrets_serves_v1(&a.version) != Some(false)
            {
                continue;
            }
            let on_cluster = || environments.iter().filter(|e| e.cluster == c.name);
            // The stores follow the environments' setting (render::baseline).
            if on_cluster().any(|e| e.external_secrets.api_version == API_VERSION_V1BETA1) {
                continue;
            }
            let mut envs: Vec<&str> = on_cluster()
                .filter(|e| e.secrets_backend == crate::spec::SecretsBackend::ExternalSecrets)
                .map(|e| e.name.as_str())
                .collect();
            envs.sort_unstable();
            let stores = !c.baseline.secret_stores.is_empty();
            let who = match (envs.as_slice(), stores) {
                ([], false) => continue,
                ([], true) => format!("cluster `{}` writes its ClusterSecretStores", c.name),
                (envs, _) => {
                    let and_stores = if stores {
                        format!(" (and cluster `{}` its ClusterSecretStores)", c.name)
                    } else {
                        String::new()
                    };
                    match envs {
                        [one] => {
                            format!("environment `{one}` writes its ExternalSecrets{and_stores}")
                        }
                        many => format!(
                            "environments {} write their ExternalSecrets{and_stores}",
                            many.iter()
                                .map(|e| format!("`{e}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }
                }
            };
            self.error(
                rules::INVALID_VALUE,
                a.origin.clone(),
                format!(
                    "{who} at `external-secrets.io/v1`, which add-on `{}` (chart {}) does not serve: its CRDs serve `v1` from chart {} on (before, only `v1alpha1` and `v1beta1`)",
                    a.name,
                    a.version,
                    addons::ESO_V1_SERVED_SINCE
                ),
            )
            .help(format!(
                "pin chart {} or later (kgen's preset was checked against {}); or, until the operator is upgraded, set `api_version = \"v1beta1\"` under `[external_secrets]` (or each environment's `external_secrets`) for the environments of cluster `{}`",
                addons::ESO_V1_SERVED_SINCE,
                a.preset.map_or("", |p| p.checked_version),
                c.name
            ));
        }
    }

    /// ExternalSecrets and ClusterSecretStores at `external-secrets.io/v1beta1` on a
    /// cluster whose External Secrets Operator (the preset) no longer serves it.
    pub(in crate::resolve) fn check_external_secrets_api_version(
        &mut self,
        clusters: &[crate::spec::ClusterSpec],
        environments: &[&crate::spec::EnvSpec],
    ) {
        use crate::crd::external_secrets::API_VERSION_V1BETA1;
        for c in clusters {
            self.check_external_secrets_v1(c, environments);
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
                    let d = self.error(
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
                    d.envs = envs.iter().map(|e| e.to_string()).collect();
                    d.envs.sort();
                }
            }
        }
    }
}
