//! What a chart that is not a preset declares it creates (`crd_groups`,
//! `cluster_kinds`, `other_namespaces`; its `service_account` is read with the
//! add-on's identity): kgen knows the footprint of its presets, and
//! of any other chart only what these say. Its Argo CD project admits the kinds and
//! namespaces, and its CRDs count as installed (KG306). Refused on a preset; a chart
//! that declares no `cluster_kinds` is a warning, as its project would refuse
//! whatever it creates at cluster scope.

use super::{Amend, Resolver};
use crate::addons::{Footprint, Preset};
use crate::input::AddonLayer;
use crate::merge::Layers;
use crate::source::Origin;
use crate::{names, rules};

impl Resolver<'_> {
    pub(super) fn declared_footprint(
        &mut self,
        preset: Option<&Preset>,
        layers: &Layers<'_, AddonLayer>,
        header: &Origin,
        name: &str,
        footprint: &mut Footprint,
    ) {
        let declared = [
            ("crd_groups", layers.pick(|l| l.crd_groups.as_ref())),
            ("cluster_kinds", layers.pick(|l| l.cluster_kinds.as_ref())),
            (
                "other_namespaces",
                layers.pick(|l| l.other_namespaces.as_ref()),
            ),
        ];
        if let (Some(p), Some(sa)) = (preset, layers.pick(|l| l.service_account.as_ref())) {
            self.error(
                rules::KIND_MISMATCH,
                sa.origin.clone(),
                format!(
                    "`service_account` is not a setting of the `{}` preset",
                    p.name
                ),
            )
            .help("kgen knows the ServiceAccount of its presets: remove `service_account`");
        }
        if let Some(p) = preset {
            for (key, list) in declared {
                let Some(list) = list else { continue };
                self.error(
                    rules::KIND_MISMATCH,
                    list.origin.clone(),
                    format!("`{key}` is not a setting of the `{}` preset", p.name),
                )
                .help(format!(
                    "kgen knows what its presets create: remove `{key}`"
                ));
            }
            return;
        }
        let [(_, groups), (_, kinds), (_, namespaces)] = declared;
        for g in groups.iter().flat_map(|l| l.value) {
            let at = Origin::new(
                groups.as_ref().map_or(header.file, |l| l.origin.file),
                g.span.clone(),
            );
            match names::check_crd_group(&g.value) {
                Ok(()) => footprint.crd_groups.push(g.value.clone()),
                Err(e) => {
                    self.error(rules::INVALID_VALUE, at, e);
                }
            }
        }
        match &kinds {
            None => {
                let d = self.warning(
                    rules::INVALID_VALUE,
                    header.clone(),
                    format!("kgen does not know what the chart of add-on `{name}` creates at cluster scope: its Argo CD project admits none of it, and Argo CD refuses to sync a kind the project does not permit"),
                );
                d.label = Some("no `cluster_kinds`".into());
                d.help = Some("list the cluster-scoped kinds the chart creates (`helm template` shows them) as `cluster_kinds = [\"rbac.authorization.k8s.io/ClusterRole\", \"rbac.authorization.k8s.io/ClusterRoleBinding\"]`, or `cluster_kinds = []` when there are none".into());
            }
            Some(list) => {
                for k in list.value {
                    let at = Origin::new(list.origin.file, k.span.clone());
                    match parse_kind(&k.value) {
                        Ok(kind) => footprint.cluster_kinds.push(kind),
                        Err(e) => {
                            self.error(rules::INVALID_VALUE, at, e)
                                .help("write `group/Kind`, like `storage.k8s.io/CSIDriver`, or a kind of the core group alone, like `PersistentVolume`");
                        }
                    }
                }
            }
        }
        for n in namespaces.iter().flat_map(|l| l.value) {
            let file = namespaces.as_ref().map_or(header.file, |l| l.origin.file);
            if self.check_label("namespace", &n.value, Origin::new(file, n.span.clone())) {
                footprint.namespaces.push(n.value.clone());
            }
        }
    }
}

/// `group/Kind` or a core `Kind` as `(group, Kind)`.
fn parse_kind(s: &str) -> Result<(String, String), String> {
    let (group, kind) = s.rsplit_once('/').unwrap_or(("", s));
    let kind_ok = kind.starts_with(|c: char| c.is_ascii_uppercase())
        && kind.chars().all(|c| c.is_ascii_alphanumeric());
    if !kind_ok {
        return Err(format!(
            "`{kind}` is not a kind (`CamelCase` letters and digits, like `ClusterRole`)"
        ));
    }
    if !group.is_empty() {
        names::check_crd_group(group).map_err(|e| format!("`{s}`: {e}"))?;
    } else if let Some((_, g)) = NOT_CORE.iter().find(|(k, _)| *k == kind) {
        return Err(format!(
            "`{kind}` is not a kind of the core group: did you mean `{g}/{kind}`?"
        ));
    }
    Ok((group.to_string(), kind.to_string()))
}

/// Cluster-scoped kinds of Kubernetes' named API groups, which a chart's `helm
/// template` shows with their group (`apiVersion: rbac.authorization.k8s.io/v1`) and a
/// reader may list without it.
const NOT_CORE: [(&str, &str); 16] = [
    ("ClusterRole", "rbac.authorization.k8s.io"),
    ("ClusterRoleBinding", "rbac.authorization.k8s.io"),
    ("CustomResourceDefinition", "apiextensions.k8s.io"),
    ("StorageClass", "storage.k8s.io"),
    ("CSIDriver", "storage.k8s.io"),
    ("CSINode", "storage.k8s.io"),
    ("VolumeAttachment", "storage.k8s.io"),
    (
        "MutatingWebhookConfiguration",
        "admissionregistration.k8s.io",
    ),
    (
        "ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io",
    ),
    ("ValidatingAdmissionPolicy", "admissionregistration.k8s.io"),
    (
        "ValidatingAdmissionPolicyBinding",
        "admissionregistration.k8s.io",
    ),
    ("PriorityClass", "scheduling.k8s.io"),
    ("IngressClass", "networking.k8s.io"),
    ("APIService", "apiregistration.k8s.io"),
    ("RuntimeClass", "node.k8s.io"),
    ("CertificateSigningRequest", "certificates.k8s.io"),
];

#[cfg(test)]
mod tests {
    use super::parse_kind;

    #[test]
    fn kinds() {
        assert_eq!(
            parse_kind("storage.k8s.io/CSIDriver"),
            Ok(("storage.k8s.io".into(), "CSIDriver".into()))
        );
        assert_eq!(
            parse_kind("PersistentVolume"),
            Ok((String::new(), "PersistentVolume".into()))
        );
        assert!(parse_kind("storage.k8s.io/csidriver").is_err());
        assert_eq!(
            parse_kind("ClusterRole"),
            Err("`ClusterRole` is not a kind of the core group: did you mean `rbac.authorization.k8s.io/ClusterRole`?".into())
        );
        assert!(parse_kind("Storage_K8s/CSIDriver").is_err());
        assert!(parse_kind("").is_err());
    }
}
