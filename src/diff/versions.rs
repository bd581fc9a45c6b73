//! A new version is one line per service: the changes of an object that follow from
//! its service's version alone (`Churn`: kgen's version label, the ConfigMap's
//! `VERSION`, the pods' config hash, container images) collapse, service by service,
//! into one `VersionChange`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::compare::{service_dir, Changed};
use super::images::{container_images, split_image};
use super::risks::and_list;
use crate::manifest_set::{Identity, Resource};

/// The differences of one object that follow from its service's version alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Churn {
    /// kgen's version label (`app.kubernetes.io/version`) before and after, when it
    /// changes (None on a side without the label).
    pub label: Option<(Option<String>, Option<String>)>,
    /// (container, old image, new image) of each container whose image changes.
    pub images: Vec<(String, String, String)>,
    /// The ConfigMap's `VERSION` changes.
    pub version_data: bool,
    /// The pods' `kgen.dev/config-hash` changes (a hash of the ConfigMaps, which carry
    /// the version label and `VERSION`).
    pub config_hash: bool,
}

/// The changes of a service that follow from its new version alone (a tag bump): one
/// line instead of one diff per object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionChange {
    pub environment: String,
    pub service: String,
    /// `prod/main-api/`, under `generated/`.
    pub dir: String,
    /// The version label before and after.
    pub from: Option<String>,
    pub to: Option<String>,
    /// (container, old image, new image), once per container.
    pub images: Vec<(String, String, String)>,
    pub version_data: bool,
    pub config_hash: bool,
    /// The objects whose changes this line stands for, in file order.
    pub objects: Vec<Identity>,
    /// The service's other changed objects, whose changes go beyond the version (a
    /// Deployment whose replicas change too): shown on their own.
    pub others: Vec<Identity>,
}

impl VersionChange {
    /// `version 1.3.2 → 1.3.1 (container `main-api`: image tag 1.3.2 → 1.3.1); nothing
    /// else changes in its 10 objects but kgen's version label, the ConfigMap's VERSION
    /// and the pods' config hash`.
    pub fn summary(&self) -> String {
        self.line(false)
    }

    /// The line, or with `group` the part of it that many services share: the
    /// service's name as `{service}` and no count of objects.
    pub(crate) fn line(&self, group: bool) -> String {
        let named = |s: &str| {
            if group {
                s.replace(self.service.as_str(), "{service}")
            } else {
                s.to_string()
            }
        };
        let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(none)".into());
        let mut s = format!("version {} → {}", v(&self.from), v(&self.to));
        let images: Vec<String> = self
            .images
            .iter()
            .map(|(c, old, new)| match (split_image(old), split_image(new)) {
                (Some((or, ot)), Some((nr, nt)))
                    if or == nr
                        && ot != nt
                        && old.contains('@') == new.contains('@')
                        && !old.contains('@') =>
                {
                    format!("container `{}`: image tag {ot} → {nt}", named(c))
                }
                _ => format!(
                    "container `{}`: image {} → {}",
                    named(c),
                    named(old),
                    named(new)
                ),
            })
            .collect();
        if !images.is_empty() {
            s.push_str(&format!(" ({})", images.join(", ")));
        }
        let mut what = vec!["kgen's version label".to_string()];
        if self.version_data {
            what.push("the ConfigMap's VERSION".into());
        }
        if self.config_hash {
            what.push("the pods' config hash".into());
        }
        let others: Vec<String> = self
            .others
            .iter()
            .map(|o| format!("{} `{}`", o.kind, named(&o.name)))
            .collect();
        let verb = if others.len() == 1 {
            "changes"
        } else {
            "change"
        };
        if group {
            s.push_str(&format!(
                "; nothing else changes in their{} objects but {}",
                if others.is_empty() { "" } else { " other" },
                and_list(&what)
            ));
            if !others.is_empty() {
                s.push_str(&format!(
                    "; in each, {} {verb} more, shown on {} own",
                    and_list(&others),
                    if others.len() == 1 { "its" } else { "their" },
                ));
            }
            return s;
        }
        if self.others.is_empty() {
            s.push_str(&format!(
                "; nothing else changes in its {} but {}",
                crate::diagnostic::plural(self.objects.len(), "object"),
                and_list(&what)
            ));
            return s;
        }
        s.push_str(&format!(
            "; nothing else changes in {} of its objects but {}; {} {verb} more, shown on {} own",
            self.objects.len(),
            and_list(&what),
            and_list(&others),
            if others.len() == 1 { "its" } else { "their" },
        ));
        s
    }
}

/// Groups the changes that follow from a service's version alone (one version label
/// change in the service, every other difference derived from it), marking them
/// `version_only`. A Job that replaces another is never grouped: it runs again.
pub(super) fn version_changes(changed: &mut [Changed]) -> Vec<VersionChange> {
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, c) in changed.iter().enumerate() {
        if c.churn.is_none() || c.replaces.is_some() {
            continue;
        }
        if let Some((env, svc)) = service_dir(&c.path) {
            groups
                .entry((env.to_string(), svc.to_string()))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for ((env, svc), members) in groups {
        let labels: BTreeSet<&(Option<String>, Option<String>)> = members
            .iter()
            .filter_map(|&i| changed[i].churn.as_ref()?.label.as_ref())
            .collect();
        let [(from, to)] = labels.into_iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        let mut v = VersionChange {
            environment: env.clone(),
            service: svc.clone(),
            dir: format!("{env}/{svc}/"),
            from: from.clone(),
            to: to.clone(),
            images: Vec::new(),
            version_data: false,
            config_hash: false,
            objects: Vec::new(),
            others: changed
                .iter()
                .enumerate()
                .filter(|(i, c)| {
                    !members.contains(i)
                        && service_dir(&c.path) == Some((env.as_str(), svc.as_str()))
                })
                .map(|(_, c)| c.id.clone())
                .collect(),
        };
        for &i in &members {
            let c = &mut changed[i];
            let churn = c.churn.as_ref().expect("grouped");
            for img in &churn.images {
                if !v.images.iter().any(|x| x.0 == img.0) {
                    v.images.push(img.clone());
                }
            }
            v.version_data |= churn.version_data;
            v.config_hash |= churn.config_hash;
            v.objects.push(c.id.clone());
            c.version_only = true;
        }
        out.push(v);
    }
    out
}

/// Whether every differing field of an object follows from its service's version, and
/// if so, what they are.
pub(super) fn churn(b: &Resource, h: &Resource, fields: &[String]) -> Option<Churn> {
    let quoted = |k: &str| format!("[{}]", Value::String(k.to_string()));
    let label = quoted(crate::render::labels::VERSION);
    let hash = quoted(crate::render::pod::CONFIG_HASH_ANNOTATION);
    let mut c = Churn::default();
    let mut label_changes = false;
    for f in fields {
        if f.ends_with(&format!("labels{label}")) {
            label_changes = true;
        } else if f.ends_with(&format!("annotations{hash}")) {
            c.config_hash = true;
        } else if h.id.kind == "ConfigMap" && f == "data.VERSION" {
            c.version_data = true;
        } else if f.ends_with(".image")
            && (f.contains("containers[") || f.contains("initContainers["))
        {
            // Images are listed below, from both values.
        } else {
            return None;
        }
    }
    if label_changes {
        let version = |v: &Value| {
            v["metadata"]["labels"][crate::render::labels::VERSION]
                .as_str()
                .map(str::to_string)
        };
        c.label = Some((version(&b.value), version(&h.value)));
    }
    let (mut bi, mut hi) = (BTreeMap::new(), BTreeMap::new());
    container_images(&b.value, &mut bi);
    container_images(&h.value, &mut hi);
    for (name, new) in &hi {
        if let Some(old) = bi.get(name) {
            if old != new {
                c.images.push((name.clone(), old.clone(), new.clone()));
            }
        }
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::diff::compare::compare;
    use crate::diff::testing::set;

    #[test]
    fn a_tag_bump_is_one_version_change_per_service() {
        let labels =
            |v: &str| json!({"app.kubernetes.io/version": v, "app.kubernetes.io/name": "web"});
        let deploy = |v: &str, hash: &str, replicas: u32| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "n", "labels": labels(v)},
                "spec": {"replicas": replicas, "template": {
                    "metadata": {"labels": labels(v), "annotations": {"kgen.dev/config-hash": hash}},
                    "spec": {"containers": [{"name": "web", "image": format!("reg/web:{v}")}]}}}})
        };
        let config = |v: &str| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "web-config", "namespace": "n", "labels": labels(v)},
                "data": {"VERSION": v, "A": "1"}})
        };
        let service = |v: &str| {
            json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "n", "labels": labels(v)},
                "spec": {"ports": [{"name": "http", "port": 80}]}})
        };
        let side = |v: &str, hash: &str, replicas: u32| {
            set(&[
                ("dev/web/configmap.yaml", config(v)),
                ("dev/web/deployment.yaml", deploy(v, hash, replicas)),
                ("dev/web/service.yaml", service(v)),
            ])
        };
        let d = compare(&side("1.0", "a", 2), &side("1.1", "b", 2), &BTreeSet::new());
        assert_eq!(d.changed.len(), 3);
        assert!(d.changed.iter().all(|c| c.version_only));
        assert_eq!(d.versions.len(), 1);
        let v = &d.versions[0];
        assert_eq!(
            v.summary(),
            "version 1.0 → 1.1 (container `web`: image tag 1.0 → 1.1); nothing else changes in its 3 objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash"
        );
        // Another change keeps the Deployment out of the line.
        let d = compare(&side("1.0", "a", 2), &side("1.1", "b", 3), &BTreeSet::new());
        assert_eq!(d.versions[0].objects.len(), 2);
        assert!(
            !d.changed
                .iter()
                .find(|c| c.id.kind == "Deployment")
                .unwrap()
                .version_only
        );
        assert_eq!(
            d.versions[0].summary(),
            "version 1.0 → 1.1; nothing else changes in 2 of its objects but kgen's version label and the ConfigMap's VERSION; Deployment `web` changes more, shown on its own"
        );
        // No version label change: nothing collapses (a config hash alone is a change).
        let d = compare(&side("1.0", "a", 2), &side("1.0", "b", 2), &BTreeSet::new());
        assert!(d.versions.is_empty() && !d.changed[0].version_only);
    }
}
