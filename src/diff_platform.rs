//! `kgen diff`'s risks and info for the platform layer: the add-ons' and the monitoring
//! stack's Argo CD Applications, and the cluster baseline (StorageClasses,
//! PriorityClasses, role bindings, Karpenter's NodePools and EC2NodeClasses,
//! cert-manager's ClusterIssuers, External Secrets' ClusterSecretStores).
//!
//! Each rule says what the API server, Argo CD or the operator does with the change,
//! and cites the upstream code or documentation it follows (docs/diff.md lists them
//! too). `diff::findings` calls in here for every changed, removed and added resource;
//! the rules only read the two manifests (and, for an EC2NodeClass, the head's
//! NodePools), never the platform's inputs: the base is what is deployed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diff::{parse_version, RiskKind};
use crate::manifest_set::{Identity, Resource};

/// What one rule found: its kind and a complete sentence.
pub type Finding = (RiskKind, String);

/// NodePools at the head, by cluster: pool name → the EC2NodeClass it names. Read from every head NodePool, changed or not (see `ops::diff`).
pub type HeadNodePools = BTreeMap<String, BTreeMap<String, String>>;

/// How Karpenter replaces a drifted node: its disruption controller (the disruption
/// docs of aws/karpenter-provider-aws, `website/content/en/docs/concepts/disruption.md`,
/// "Control Flow" and "Drift") taints it, launches the replacement first, then drains it
/// through the Eviction API, within the NodePool's disruption budgets.
const DRIFT_HOW: &str = "each one is tainted, its replacement launched first, then it is drained (its pods evicted within their PodDisruptionBudgets), a few at a time (the pool's spec.disruption.budgets, 10% of its nodes by default)";

fn group(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(g, _)| g)
}

fn is(id: &Identity, api_group: &str, kind: &str) -> bool {
    id.kind == kind && group(&id.api_version) == api_group
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "(unset)".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn changes(fields: &[String]) -> String {
    format!(
        "{} {}",
        and_list(fields),
        if fields.len() == 1 {
            "changes"
        } else {
            "change"
        }
    )
}

/// `kubectl delete <kind> [-n <namespace>] <name>`, quoted.
fn kubectl_delete(id: &Identity) -> String {
    if id.namespace.is_empty() {
        format!("`kubectl delete {} {}`", id.kind.to_lowercase(), id.name)
    } else {
        format!(
            "`kubectl delete {} -n {} {}`",
            id.kind.to_lowercase(),
            id.namespace,
            id.name
        )
    }
}

/// The keys of two objects whose values differ (a missing key and `null` being equal),
/// as `prefix.key`, sorted; `keep` filters the keys.
fn differing_keys(b: &Value, h: &Value, prefix: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let keys: BTreeSet<&String> = [b, h]
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|m| m.keys())
        .filter(|k| keep(k))
        .collect();
    keys.into_iter()
        .filter(|k| b[k.as_str()] != h[k.as_str()])
        .map(|k| format!("{prefix}{k}"))
        .collect()
}

// ---------------------------------------------------------------- changed

/// Risks and info of a resource of the platform layer that changed in place.
pub fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let id = &h.id;
    if is(id, "storage.k8s.io", "StorageClass") {
        storage_class(b, h, out);
    } else if is(id, "scheduling.k8s.io", "PriorityClass") {
        priority_class(b, h, out);
    } else if is(id, "rbac.authorization.k8s.io", "RoleBinding")
        || is(id, "rbac.authorization.k8s.io", "ClusterRoleBinding")
    {
        role_ref(b, h, out);
    } else if is(id, "karpenter.sh", "NodePool") {
        node_pool(b, h, out);
    } else if is(id, "karpenter.k8s.aws", "EC2NodeClass") {
        node_class(b, h, out);
    } else if is(id, "cert-manager.io", "ClusterIssuer") {
        cluster_issuer(b, h, out);
    } else if is(id, "external-secrets.io", "ClusterSecretStore") {
        secret_store(b, h, out);
    } else if is(id, "argoproj.io", "Application") {
        application(b, h, out);
    }
}

/// The annotation that makes a StorageClass the cluster's default
/// (`storageclass.kubernetes.io/is-default-class`, read by the DefaultStorageClass
/// admission plugin, kubernetes `plugin/pkg/admission/storage/storageclass/setdefault`,
/// through `GetDefaultClass` in `pkg/volume/util/storageclass.go`).
const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";

fn is_default_class(v: &Value) -> bool {
    v["metadata"]["annotations"][DEFAULT_CLASS_ANNOTATION] == "true"
}

/// A StorageClass's `parameters`, `provisioner`, `reclaimPolicy` and
/// `volumeBindingMode` cannot change: `ValidateStorageClassUpdate` (kubernetes
/// `pkg/apis/storage/validation/validation.go`) forbids the first three ("updates to
/// parameters are forbidden.") and checks the last with `ValidateImmutableField`. The
/// API server defaults `reclaimPolicy` to `Delete` and `volumeBindingMode` to
/// `Immediate` (`SetDefaults_StorageClass`, `pkg/apis/storage/v1/defaults.go`), so an
/// unset field counts as its default. A PersistentVolume copies the class's parameters
/// and reclaim policy when it is provisioned, so replacing the class changes no
/// existing volume.
fn storage_class(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let normal = |v: &Value| {
        let mut v = v.clone();
        if v["reclaimPolicy"].is_null() {
            v["reclaimPolicy"] = "Delete".into();
        }
        if v["volumeBindingMode"].is_null() {
            v["volumeBindingMode"] = "Immediate".into();
        }
        v
    };
    let (bv, hv) = (normal(&b.value), normal(&h.value));
    // `parameters.iops (6000 → 8000)`, `reclaimPolicy (Delete → Retain)`.
    let mut fields = differing_keys(&bv["parameters"], &hv["parameters"], "parameters.", |_| {
        true
    });
    fields = fields
        .into_iter()
        .map(|f| {
            let k = &f["parameters.".len()..];
            format!(
                "{f} ({} → {})",
                scalar(&bv["parameters"][k]),
                scalar(&hv["parameters"][k])
            )
        })
        .collect();
    for k in ["provisioner", "reclaimPolicy", "volumeBindingMode"] {
        if bv[k] != hv[k] {
            fields.push(format!("{k} ({} → {})", scalar(&bv[k]), scalar(&hv[k])));
        }
    }
    if !fields.is_empty() {
        out.push((
            RiskKind::StorageClassImmutable,
            format!(
                "{}; a StorageClass's parameters, provisioner, reclaimPolicy and volumeBindingMode are immutable, so the sync fails until it is replaced: {}, then sync (Argo CD creates it again); volumes already provisioned keep the parameters and reclaim policy they were made with, only new claims get the new ones",
                changes(&fields),
                kubectl_delete(&h.id)
            ),
        ));
    }
    default_class_change(Some(&b.value), &h.value, out);
}

/// Info when a StorageClass becomes, or stops being, the cluster's default (`base` is
/// None for an added class).
pub fn default_class_change(base: Option<&Value>, head: &Value, out: &mut Vec<Finding>) {
    let was = base.is_some_and(is_default_class);
    match (was, is_default_class(head)) {
        (false, true) => out.push((
            RiskKind::DefaultStorageClass,
            "becomes the cluster's default StorageClass: claims created without a storageClassName get it from now on (claims that exist keep their class)".into(),
        )),
        (true, false) => out.push((
            RiskKind::DefaultStorageClass,
            "is no longer the cluster's default StorageClass: claims created without a storageClassName get the class that is the default now, and stay Pending if there is none".into(),
        )),
        _ => {}
    }
}

/// A PriorityClass's `value` and `preemptionPolicy` cannot change:
/// `ValidatePriorityClassUpdate` (kubernetes `pkg/apis/scheduling/validation/validation.go`:
/// "may not be changed in an update.", and `ValidateImmutableField` on
/// `preemptionPolicy`, which the API server defaults to `PreemptLowerPriority`,
/// `pkg/apis/scheduling/v1/defaults.go`). A pod's priority is resolved when it is
/// admitted (the Priority admission plugin, `plugin/pkg/admission/priority`), which
/// also refuses pods naming a class that does not exist.
fn priority_class(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let policy = |v: &Value| {
        if v["preemptionPolicy"].is_null() {
            "PreemptLowerPriority".to_string()
        } else {
            scalar(&v["preemptionPolicy"])
        }
    };
    let mut parts = Vec::new();
    if b.value["value"] != h.value["value"] {
        parts.push(format!(
            "value changes {} → {}",
            scalar(&b.value["value"]),
            scalar(&h.value["value"])
        ));
    }
    let (bp, hp) = (policy(&b.value), policy(&h.value));
    if bp != hp {
        parts.push(format!("preemptionPolicy changes {bp} → {hp}"));
    }
    if parts.is_empty() {
        return;
    }
    out.push((
        RiskKind::PriorityClassImmutable,
        format!(
            "{}; a PriorityClass's value and preemptionPolicy are immutable, so the sync fails until it is replaced: {}, then sync (meanwhile new pods that name it are refused); running pods keep the priority they were admitted with until they are re-created",
            parts.join(", "),
            kubectl_delete(&h.id)
        ),
    ));
}

/// A binding's `roleRef` cannot change: `ValidateRoleBindingUpdate` and
/// `ValidateClusterRoleBindingUpdate` (kubernetes `pkg/apis/rbac/validation/validation.go`,
/// "cannot change roleRef").
fn role_ref(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (br, hr) = (&b.value["roleRef"], &h.value["roleRef"]);
    if br == hr {
        return;
    }
    let show = |r: &Value| format!("{} `{}`", scalar(&r["kind"]), scalar(&r["name"]));
    out.push((
        RiskKind::RoleRefImmutable,
        format!(
            "roleRef changes {} → {}; a binding's roleRef is immutable, so the sync fails until it is replaced: {}, then sync (its subjects lose the role in between)",
            show(br),
            show(hr),
            kubectl_delete(&h.id)
        ),
    ));
}

/// Karpenter's drift (kubernetes-sigs/karpenter `pkg/controllers/nodeclaim/disruption/drift.go`):
/// a NodeClaim is drifted when its NodePool's hash no longer matches the one it was
/// launched with (`areStaticFieldsDrifted`; `NodePool.Hash` in `pkg/apis/v1/nodepool.go`
/// hashes `spec.template` but its `requirements`, tagged `hash:"ignore"`), or when its
/// labels no longer satisfy the pool's requirements (`areRequirementsDrifted`). So a
/// changed template label, annotation, taint, startup taint, node class reference,
/// `expireAfter` or `terminationGracePeriod` replaces every node of the pool; narrower
/// requirements replace the nodes outside them; wider ones, `weight`, `limits` and
/// `disruption` (the "behavioral fields" of the disruption docs) replace none.
fn node_pool(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (bt, ht) = (&b.value["spec"]["template"], &h.value["spec"]["template"]);
    let mut fields = differing_keys(
        &bt["metadata"],
        &ht["metadata"],
        "spec.template.metadata.",
        |k| matches!(k, "labels" | "annotations"),
    );
    // The API server defaults expireAfter to 720h (the CRD's default); lists are
    // hashed as sets (`SlicesAsSets`).
    let normal = |s: &Value| {
        let mut s = s.clone();
        if let Some(m) = s.as_object_mut() {
            m.remove("requirements");
            m.remove("resources");
            m.entry("expireAfter").or_insert_with(|| "720h".into());
            for key in ["taints", "startupTaints"] {
                if let Some(Value::Array(items)) = m.get_mut(key) {
                    items.sort_by_key(|i| i.to_string());
                }
            }
            m.retain(|_, v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
        }
        s
    };
    fields.extend(differing_keys(
        &normal(&bt["spec"]),
        &normal(&ht["spec"]),
        "spec.template.spec.",
        |_| true,
    ));
    if !fields.is_empty() {
        out.push((
            RiskKind::NodeDrift,
            format!(
                "{}; Karpenter's drift replaces every node of this pool (the pool's template hash changes): {DRIFT_HOW}",
                changes(&fields)
            ),
        ));
        return;
    }
    let narrowed = narrowed_requirements(&bt["spec"]["requirements"], &ht["spec"]["requirements"]);
    if !narrowed.is_empty() {
        out.push((
            RiskKind::NodeDrift,
            format!(
                "spec.template.spec.requirements narrow ({}); Karpenter's drift replaces the nodes of this pool that no longer satisfy them: {DRIFT_HOW}",
                and_list(&narrowed)
            ),
        ));
    }
}

/// A requirement: its operator and values.
type Requirement = (String, BTreeSet<String>);

fn requirements(v: &Value) -> BTreeMap<String, Requirement> {
    v.as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| {
                    let values = r["values"]
                        .as_array()
                        .map(|vs| vs.iter().map(scalar).collect())
                        .unwrap_or_default();
                    Some((
                        r["key"].as_str()?.to_string(),
                        (scalar(&r["operator"]), values),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How the head's requirements exclude nodes the base's admitted, one phrase per key:
/// "`karpenter.sh/capacity-type` no longer admits spot".
fn narrowed_requirements(base: &Value, head: &Value) -> Vec<String> {
    let (b, h) = (requirements(base), requirements(head));
    let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    let show = |(op, values): &Requirement| {
        if values.is_empty() {
            op.clone()
        } else {
            format!("{op} [{}]", list(values))
        }
    };
    let mut out = Vec::new();
    for (key, new) in &h {
        match b.get(key) {
            None => out.push(format!("adds `{key}` {}", show(new))),
            Some(old) if old == new => {}
            Some((op_old, old)) if op_old == "In" && new.0 == "In" => {
                let dropped: BTreeSet<String> = old.difference(&new.1).cloned().collect();
                if !dropped.is_empty() {
                    out.push(format!("`{key}` no longer admits {}", list(&dropped)));
                }
            }
            Some((op_old, old)) if op_old == "NotIn" && new.0 == "NotIn" => {
                let added: BTreeSet<String> = new.1.difference(old).cloned().collect();
                if !added.is_empty() {
                    out.push(format!("`{key}` now excludes {}", list(&added)));
                }
            }
            Some(old) => out.push(format!("`{key}` {} → {}", show(old), show(new))),
        }
    }
    out
}

/// An EC2NodeClass's drift (aws/karpenter-provider-aws `pkg/cloudprovider/drift.go`):
/// its hash covers every field of `EC2NodeClassSpec` (`pkg/apis/v1/ec2nodeclass.go`) but
/// the selector terms, `amiFamily` and `ipPrefixCount` (`hash:"ignore"`), so a change to
/// any other field replaces every node launched from it; the subnet, security group,
/// AMI and capacity reservation terms are resolved, and a node is drifted when what it
/// runs with is no longer among what they select.
fn node_class(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    const RESOLVED: [&str; 4] = [
        "subnetSelectorTerms",
        "securityGroupSelectorTerms",
        "amiSelectorTerms",
        "capacityReservationSelectorTerms",
    ];
    let hashed = differing_keys(&b.value["spec"], &h.value["spec"], "spec.", |k| {
        !RESOLVED.contains(&k) && k != "amiFamily" && k != "ipPrefixCount"
    });
    let resolved = differing_keys(&b.value["spec"], &h.value["spec"], "spec.", |k| {
        RESOLVED.contains(&k)
    });
    let (fields, which) = if !hashed.is_empty() {
        let mut all = hashed;
        all.extend(resolved);
        all.sort();
        (
            all,
            "every node launched from this EC2NodeClass (its hash changes)",
        )
    } else if !resolved.is_empty() {
        (
            resolved,
            "the nodes launched from this EC2NodeClass whose AMI, subnet, security groups or capacity reservation the new terms no longer select",
        )
    } else {
        return;
    };
    out.push((
        RiskKind::NodeDrift,
        format!(
            "{}; Karpenter's drift replaces {which}: {DRIFT_HOW}",
            changes(&fields)
        ),
    ));
}

/// Let's Encrypt's directories, by name.
fn acme_server_name(url: &str) -> Option<&'static str> {
    match url.trim_end_matches('/') {
        "https://acme-v02.api.letsencrypt.org/directory" => Some("production"),
        "https://acme-staging-v02.api.letsencrypt.org/directory" => Some("staging"),
        _ => None,
    }
}

/// A ClusterIssuer that moves to another ACME server: cert-manager registers the
/// account key with the new server (`registerAccount`, cert-manager
/// `pkg/issuer/acme/setup.go`: an account the server does not know is created), and a
/// certificate is issued again only when a re-issuance policy fires
/// (`pkg/controller/certificates/trigger/policies`), which an issuer's spec is not
/// part of: certificates already issued stay until they are renewed.
fn cluster_issuer(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (bs, hs) = (
        &b.value["spec"]["acme"]["server"],
        &h.value["spec"]["acme"]["server"],
    );
    let (Some(old), Some(new)) = (bs.as_str(), hs.as_str()) else {
        return;
    };
    if old == new {
        return;
    }
    let show = |url: &str| match acme_server_name(url) {
        Some(name) => format!("{name} ({url})"),
        None => url.to_string(),
    };
    let untrusted = match acme_server_name(old) {
        Some("staging") => "; the staging certificates browsers do not trust stay in use until then: renew them now with `cmctl renew --all --all-namespaces`",
        _ => "",
    };
    let trusting = match acme_server_name(new) {
        Some("staging") => {
            "; certificates from Let's Encrypt's staging directory are not trusted by browsers"
        }
        _ => "",
    };
    out.push((
        RiskKind::AcmeServer,
        format!(
            "ACME server changes {} → {}: cert-manager registers the issuer's account key with the new server, and certificates already issued are kept until they are renewed{untrusted}{trusting}",
            show(old),
            show(new)
        ),
    ));
}

/// `aws SecretsManager (eu-west-1)`, or the provider's name.
fn provider_label(p: &Value) -> String {
    let Some(m) = p.as_object() else {
        return "(none)".into();
    };
    m.iter()
        .map(|(name, conf)| {
            let service = conf["service"].as_str();
            let region = conf["region"].as_str();
            match (service, region) {
                (Some(s), Some(r)) => format!("{name} {s} ({r})"),
                (Some(s), None) => format!("{name} {s}"),
                (None, Some(r)) => format!("{name} ({r})"),
                (None, None) => name.clone(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A ClusterSecretStore whose provider (service, region, role) changes: the External
/// Secrets Operator reads every ExternalSecret through it again at its next refresh
/// (`pkg/controllers/externalsecret`, `getProviderSecretData`), and one whose keys are
/// not there fails (`SecretSyncedError`), keeping the Secret it made.
fn secret_store(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (bp, hp) = (&b.value["spec"]["provider"], &h.value["spec"]["provider"]);
    if bp == hp {
        return;
    }
    let (old, new) = (provider_label(bp), provider_label(hp));
    let what = if old == new {
        format!("spec.provider changes ({old}: its credentials or role)")
    } else {
        format!("spec.provider changes {old} → {new}")
    };
    out.push((
        RiskKind::SecretStoreProvider,
        format!(
            "{what}; every ExternalSecret that reads through it looks its keys up there at its next refresh, and fails where they are not (the Secrets it made keep their last values)"
        ),
    ));
}

// ---------------------------------------------------------------- Applications

/// An Application's Helm chart source: (repository, chart, version).
fn chart_source(app: &Value) -> Option<(String, String, String)> {
    let spec = &app["spec"];
    let sources: Vec<&Value> = match spec["sources"].as_array() {
        Some(s) => s.iter().collect(),
        None => vec![&spec["source"]],
    };
    sources.into_iter().find_map(|s| {
        Some((
            s["repoURL"].as_str()?.to_string(),
            s["chart"].as_str()?.to_string(),
            scalar(&s["targetRevision"]),
        ))
    })
}

/// (major, minor) of a chart version; None when it is not a version.
fn major_minor(version: &str) -> Option<(u64, u64)> {
    let (nums, _) = parse_version(version)?;
    Some((nums.first().copied()?, nums.get(1).copied().unwrap_or(0)))
}

/// A new major version: the first number grows, or for `0.x` versions (where
/// anything may change, semver §4) the second.
fn is_major_upgrade(old: &str, new: &str) -> Option<bool> {
    let ((om, on), (nm, nn)) = (major_minor(old)?, major_minor(new)?);
    Some(nm > om || (om == 0 && nm == 0 && nn > on))
}

/// An Argo CD Application that installs a Helm chart (an add-on, the monitoring stack)
/// and changes: another chart or repository, another version, another namespace.
fn application(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (Some((b_repo, b_chart, b_version)), Some((h_repo, h_chart, h_version))) =
        (chart_source(&b.value), chart_source(&h.value))
    else {
        return;
    };
    if (&b_repo, &b_chart) != (&h_repo, &h_chart) {
        out.push((
            RiskKind::ChartSource,
            format!(
                "the chart changes from `{b_chart}` ({b_repo}) to `{h_chart}` ({h_repo}): another repository may publish other contents under the same name and version, so read what the new chart renders; Argo CD must be able to pull from the new repository (a private one needs its credentials)"
            ),
        ));
    } else if b_version != h_version {
        let ordering = crate::diff::compare_versions(&h_version, &b_version);
        match (ordering, is_major_upgrade(&b_version, &h_version)) {
            (Some(std::cmp::Ordering::Less), _) => out.push((
                RiskKind::ChartDowngrade,
                format!(
                    "chart `{h_chart}` moves back, {b_version} → {h_version}: at the next sync Argo CD applies the older chart over the newer one's objects (its CRDs too, if it has any); make sure the chart supports going back"
                ),
            )),
            (_, Some(true)) => out.push((
                RiskKind::ChartMajor,
                format!(
                    "chart `{h_chart}` moves to a new major version, {b_version} → {h_version}: read the chart's upgrade notes before merging (renamed or removed values, CRDs to upgrade, objects that must be replaced); Argo CD applies it at the next sync"
                ),
            )),
            (Some(_), _) => out.push((
                RiskKind::ChartVersion,
                format!(
                    "chart `{h_chart}` {b_version} → {h_version}: Argo CD renders and applies the new version at the next sync"
                ),
            )),
            (None, _) => out.push((
                RiskKind::ChartVersion,
                format!(
                    "chart `{h_chart}` {b_version} → {h_version} (not versions kgen can compare: read the chart's changes); Argo CD renders and applies it at the next sync"
                ),
            )),
        }
    }
    let (b_ns, h_ns) = (
        &b.value["spec"]["destination"]["namespace"],
        &h.value["spec"]["destination"]["namespace"],
    );
    if b_ns != h_ns {
        out.push((
            RiskKind::AddonNamespace,
            format!(
                "the release moves from namespace `{}` to `{}`: at the next sync Argo CD creates the chart's namespaced objects in `{}` and prunes those in `{}` (for a while both copies run, or neither); what the add-on created itself in `{}` (Secrets, leases) does not move",
                scalar(b_ns),
                scalar(h_ns),
                scalar(h_ns),
                scalar(b_ns),
                scalar(b_ns)
            ),
        ));
    }
}

/// The API groups of the CRDs a removed chart Application installed: from kgen's
/// preset of that chart (with `install_crds` read back from the removed values file),
/// or the monitoring stack's footprint. None for a chart kgen knows nothing about.
fn crd_groups(app: &Resource, removed: &[Resource]) -> Option<Vec<String>> {
    let (repo, chart, _) = chart_source(&app.value)?;
    // kube-prometheus-stack, wherever it is pulled from (`[monitoring] repo` may name a mirror).
    if chart == crate::render::argocd::MONITORING_CHART {
        return Some(
            crate::render::monitoring::CHART_FOOTPRINT
                .crd_groups()
                .into_iter()
                .map(str::to_string)
                .collect(),
        );
    }
    let preset = crate::addons::PRESETS
        .iter()
        .find(|p| p.chart == chart && p.repo.strip_prefix("oci://").unwrap_or(p.repo) == repo)?;
    let settings = |install_crds| crate::spec::AddonSettings {
        install_crds: Some(install_crds),
        ..Default::default()
    };
    let with = (preset.footprint)(&settings(true)).crd_groups;
    let without = (preset.footprint)(&settings(false)).crd_groups;
    if with == without {
        return Some(with);
    }
    // The preset takes `install_crds`: the removed values file says which it was.
    let values = values_of(app, removed);
    let off = (preset.values)(&settings(false));
    let on = (preset.values)(&settings(true));
    let mut turned_off = values.is_some();
    if let Some(v) = values {
        let mut paths = Vec::new();
        leaf_paths(&off, &mut Vec::new(), &mut paths);
        for path in paths {
            let (o, n) = (pointer(&off, &path), pointer(&on, &path));
            if o != n && pointer(v, &path) != o {
                turned_off = false;
            }
        }
    }
    Some(if turned_off { without } else { with })
}

/// The removed values file a chart Application read (`$values/…/generated/<path>`).
fn values_of<'a>(app: &Resource, removed: &'a [Resource]) -> Option<&'a Value> {
    let spec = &app.value["spec"];
    let files: Vec<&str> = spec["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["helm"]["valueFiles"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    removed
        .iter()
        .filter(|r| !r.id.is_object() && r.id.group == app.id.group)
        .find(|r| {
            files
                .iter()
                .any(|f| f.ends_with(&format!("generated/{}", r.path)))
        })
        .map(|r| &r.value)
}

fn leaf_paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v.as_object() {
        Some(m) if !m.is_empty() => {
            for (k, child) in m {
                at.push(k.clone());
                leaf_paths(child, at, out);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

fn pointer<'a>(v: &'a Value, path: &[String]) -> &'a Value {
    path.iter().fold(v, |at, k| &at[k.as_str()])
}

/// What a removed chart Application means. The bootstrap Application prunes it, and
/// its resources finalizer makes Argo CD delete what it manages first
/// (`finalizeApplicationDeletion`, argo-cd `controller/appcontroller.go`), but
/// `shouldBeDeleted` there skips CustomResourceDefinitions (`!kube.IsCRD(obj)`),
/// objects with `Delete=false` and those marked `helm.sh/resource-policy: keep`: the
/// chart's CRDs, and every custom resource of them, stay with nothing to act on them.
fn removed_application(r: &Resource, removed: &[Resource]) -> Option<Finding> {
    let (_, chart, _) = chart_source(&r.value)?;
    let finalizer = r.value["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| {
            f.iter()
                .any(|x| x == "resources-finalizer.argocd.argoproj.io")
        });
    if !finalizer {
        return Some((
            RiskKind::AddonRemoved,
            format!(
                "removed; the Application has no resources finalizer, so what chart `{chart}` installed stays in the cluster, unmanaged, until deleted by hand"
            ),
        ));
    }
    Some(match crd_groups(r, removed) {
        Some(groups) if !groups.is_empty() => (
            RiskKind::AddonCrdsLeft,
            format!(
                "removed; Argo CD deletes what chart `{chart}` installed but its CustomResourceDefinitions (its cascade deletion skips CRDs), so the custom resources of {} stay in the cluster with no controller: nothing acts on them any more, and those that carry its finalizers cannot be deleted until it is back; delete them, then the CRDs, by hand if they are not wanted, or keep the add-on",
                and_list(&groups.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>())
            ),
        ),
        Some(_) => (
            RiskKind::AddonRemoved,
            format!(
                "removed; Argo CD deletes everything chart `{chart}` installed (the Application's resources finalizer)"
            ),
        ),
        None => (
            RiskKind::AddonRemoved,
            format!(
                "removed; Argo CD deletes everything chart `{chart}` installed (the Application's resources finalizer) but CustomResourceDefinitions: kgen knows nothing of this chart, so if it installs CRDs, their custom resources stay with no controller"
            ),
        ),
    })
}

// ---------------------------------------------------------------- removed

/// What the removal of a resource of the platform layer means; None for the generic
/// rules of `diff::findings`.
pub fn removed(
    r: &Resource,
    d_removed: &[Resource],
    head_pools: &HeadNodePools,
) -> Option<Finding> {
    let id = &r.id;
    if is(id, "argoproj.io", "Application") {
        return removed_application(r, d_removed);
    }
    if is(id, "karpenter.sh", "NodePool") {
        // NodeClaims are owned by their NodePool: deleting it deletes them, and each
        // node is drained and terminated (disruption docs, "Manual Methods": "NodePool
        // Deletion"), all at once: no disruption budget applies to a deletion.
        return Some((
            RiskKind::NodePoolRemoved,
            "removed; Karpenter terminates every node of this pool: the NodePool owns their NodeClaims, so deleting it deletes them, and each node is drained (its pods evicted within their PodDisruptionBudgets) and its instance terminated, all at once, without replacements launched first; pods that no other pool admits stay Pending".into(),
        ));
    }
    if is(id, "karpenter.k8s.aws", "EC2NodeClass") {
        // The class's termination finalizer waits until no NodeClaim uses it
        // (`finalize`, aws/karpenter-provider-aws `pkg/controllers/nodeclass/controller.go`:
        // `WaitingOnNodeClaimTermination`), then deletes its instance profile and launch
        // templates; a NodePool naming a class that is gone or deleting launches nothing.
        let users: Vec<String> = id
            .group
            .cluster()
            .and_then(|c| head_pools.get(c))
            .into_iter()
            .flatten()
            .filter(|(_, class)| **class == id.name)
            .map(|(pool, _)| format!("`{pool}`"))
            .collect();
        return Some(if users.is_empty() {
            (
                RiskKind::Removed,
                "removed; Karpenter deletes it, with its instance profile and launch templates, once no node launched from it is left (its finalizer waits for them)".into(),
            )
        } else {
            (
                RiskKind::NodeClassInUse,
                format!(
                    "removed while NodePool {} still {} it: Karpenter launches no node for {}, and the class stays (Terminating) until the nodes launched from it are gone",
                    and_list(&users),
                    if users.len() == 1 { "names" } else { "name" },
                    if users.len() == 1 { "that pool" } else { "those pools" },
                )
            )
        });
    }
    if is(id, "cert-manager.io", "ClusterIssuer") {
        // A CertificateRequest whose issuer is missing stays Pending (`IssuerNotFound`,
        // "Referenced \"ClusterIssuer\" not found": cert-manager
        // `pkg/controller/certificaterequests/sync.go`).
        return Some((
            RiskKind::IssuerRemoved,
            "removed; the certificates it issued are no longer renewed (their next CertificateRequest stays Pending: `Referenced \"ClusterIssuer\" not found`) and expire at the end of their validity; an Ingress or Certificate made outside kgen may still name it".into(),
        ));
    }
    if is(id, "external-secrets.io", "ClusterSecretStore") {
        // `could not get ClusterSecretStore`: external-secrets
        // `pkg/controllers/secretstore/client_manager.go`; the ExternalSecret is marked
        // `SecretSyncedError`, and its Secret is left as it is.
        return Some((
            RiskKind::SecretStoreRemoved,
            "removed; every ExternalSecret that reads through it fails at its next refresh (`could not get ClusterSecretStore`), and the Secrets they made keep their last values".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requirements_narrow_per_key() {
        let reqs = |families: &[&str], extra: Option<Value>| {
            let mut r = vec![
                json!({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": families}),
                json!({"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}),
            ];
            r.extend(extra);
            Value::Array(r)
        };
        assert_eq!(
            narrowed_requirements(&reqs(&["t3", "t2"], None), &reqs(&["t3", "t3a"], None)),
            ["`karpenter.k8s.aws/instance-family` no longer admits t2"]
        );
        // Wider: nothing.
        assert!(narrowed_requirements(&reqs(&["t3"], None), &reqs(&["t3", "m5"], None)).is_empty());
        assert_eq!(
            narrowed_requirements(
                &reqs(&["t3"], None),
                &reqs(
                    &["t3"],
                    Some(
                        json!({"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]})
                    )
                )
            ),
            ["adds `karpenter.sh/capacity-type` In [spot]"]
        );
    }

    #[test]
    fn chart_versions() {
        assert_eq!(is_major_upgrade("77.0.0", "78.1.0"), Some(true));
        assert_eq!(is_major_upgrade("v1.21.1", "v1.22.0"), Some(false));
        assert_eq!(is_major_upgrade("0.2.0", "0.3.0"), Some(true));
        assert_eq!(is_major_upgrade("0.2.0", "0.2.1"), Some(false));
        assert_eq!(is_major_upgrade("latest", "1.0.0"), None);
    }
}
