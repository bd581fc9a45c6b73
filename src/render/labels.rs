//! The labels every object carries: the recommended `app.kubernetes.io/*` set.
//!
//! The selector of a service's pods is the stable subset (`name` and `instance`): it
//! never contains the version, because a Deployment's selector is immutable.
//!
//! Argo CD's label tracking (`application.resourceTrackingMethod: label` or
//! `annotation+label`) overwrites the label `app.kubernetes.io/instance` in the
//! `metadata.labels` of every object it applies with the Application's name (argo-cd
//! `util/argo/resource_tracking.go`, `SetAppInstance`, calling `util/kube/kube.go`
//! `SetAppInstanceLabel`, at commit 37ee0097), but not in pod templates (it does that
//! only for the legacy key `applications.argoproj.io/app-name`). Selectors of pods may
//! use [`INSTANCE`]; a selector of other objects (the ServiceMonitor's, of Services)
//! uses [`objects_of`], which leaves it out.

use std::collections::BTreeMap;

use crate::names;
use crate::spec::{PlatformSpec, ServiceSpec};

pub const NAME: &str = "app.kubernetes.io/name";
pub const INSTANCE: &str = "app.kubernetes.io/instance";
pub const VERSION: &str = "app.kubernetes.io/version";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "kgen";
/// On a StatefulSet's headless Service (`<service>-headless`), with the value `"true"`:
/// tells it apart from the ClusterIP Service, whose labels are otherwise the same, so
/// that the ServiceMonitor can leave it out (see `monitoring::service_monitor`).
pub const HEADLESS: &str = "kgen.dev/headless";

/// Labels of objects that belong to no service (namespaces, monitoring, Argo CD).
pub fn platform(platform: &PlatformSpec) -> BTreeMap<String, String> {
    BTreeMap::from([
        (PART_OF.to_string(), platform.name.clone()),
        (MANAGED_BY.to_string(), MANAGER.to_string()),
    ])
}

/// The immutable selector of a service's pods.
pub fn selector(svc: &ServiceSpec) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_string(), svc.name.clone()),
        (INSTANCE.to_string(), svc.name.clone()),
    ])
}

/// The labels that pick out a service's own objects (not its pods) in its namespace:
/// `app.kubernetes.io/name` and `app.kubernetes.io/managed-by: kgen`. Not
/// [`INSTANCE`], which Argo CD's label tracking rewrites on every object it applies
/// (see the module's documentation): a ServiceMonitor selecting by it would select no
/// Service under label tracking. Every object of the service carries these (see
/// [`service`]); a service's name is unique in its namespace among kgen's, and
/// `managed-by` keeps out other tools' objects that share the name.
pub fn objects_of(svc: &ServiceSpec) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_string(), svc.name.clone()),
        (MANAGED_BY.to_string(), MANAGER.to_string()),
    ])
}

/// All labels of a service's objects and of its pod template: selector, version (when
/// it is a valid label value), part-of, managed-by, and the service's own `labels`
/// (never in a selector). kgen's own keys win; resolve refuses a `labels` key with one
/// of kgen's prefixes, so none is dropped here in practice.
pub fn service(platform: &PlatformSpec, svc: &ServiceSpec) -> BTreeMap<String, String> {
    let mut l = selector(svc);
    l.extend(self::platform(platform));
    if let Some(tag) = &svc.tag {
        if names::check_label_value(tag).is_ok() {
            l.insert(VERSION.to_string(), tag.clone());
        }
    }
    add_extra(&mut l, svc);
    l
}

/// Adds the service's own `labels` to `labels`, keeping the keys already there.
fn add_extra(labels: &mut BTreeMap<String, String>, svc: &ServiceSpec) {
    for (k, v) in &svc.labels {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
}
