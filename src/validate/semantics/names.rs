//! Names and metadata: object names per kind (a Service name is a DNS-1035 label, a
//! CronJob or StatefulSet name at most 52 characters), label keys and values,
//! annotation keys and their total size, and the values of Argo CD's hook
//! annotations.
//!
//! Argo CD reads `argocd.argoproj.io/hook` as a comma-separated list and keeps the
//! phases it knows (gitops-engine `hook.Types`, `common.NewHookType`: PreSync, Sync,
//! PostSync, SyncFail, Skip), silently dropping the others; an object with the
//! annotation is a hook whatever its value (`hook.IsHook`), so with no known phase
//! it is never applied: `presync` never runs. `PreDelete` and `PostDelete` are
//! recognised by the application controller only as the annotation's whole value
//! (`isHookOfType` compares it). `argocd.argoproj.io/hook-delete-policy` is read the
//! same way (`hook.DeletePolicies`): an unknown policy is dropped, and with none left
//! the default, BeforeHookCreation, applies.

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use serde_json::{Map, Value};

use super::{Checker, MAX_ANNOTATIONS_BYTES};
use crate::diagnostic::did_you_mean;
use crate::validate::FxHasher;
use crate::validate::{map_at, str_at, FieldPath, Finding};
use crate::{names, rules};

/// Argo CD's hook annotation.
pub const HOOK_ANNOTATION: &str = "argocd.argoproj.io/hook";
/// Argo CD's hook deletion policy annotation.
pub const HOOK_DELETE_POLICY_ANNOTATION: &str = "argocd.argoproj.io/hook-delete-policy";
/// The sync phases a hook may run in (several, comma-separated).
const HOOK_PHASES: &[&str] = &["PreSync", "Sync", "PostSync", "SyncFail", "Skip"];
/// Deletion hooks: the annotation's only value.
const DELETION_HOOKS: &[&str] = &["PreDelete", "PostDelete"];
/// Hook deletion policies every Argo CD release knows.
const HOOK_DELETE_POLICIES: &[&str] = &["BeforeHookCreation", "HookSucceeded", "HookFailed"];

/// [`names::check_label_key`], remembering the keys found valid (per thread, up to
/// [`KNOWN_KEYS`]): every object carries the same few label and annotation keys, and
/// the check is a pure function of the key.
fn check_label_key(key: &str) -> Result<(), String> {
    const KNOWN_KEYS: usize = 1024;
    thread_local! {
        static VALID: RefCell<HashSet<String, BuildHasherDefault<FxHasher>>> =
            RefCell::default();
    }
    if VALID.with_borrow(|valid| valid.contains(key)) {
        return Ok(());
    }
    names::check_label_key(key)?;
    VALID.with_borrow_mut(|valid| {
        if valid.len() < KNOWN_KEYS {
            valid.insert(key.to_string());
        }
    });
    Ok(())
}

impl Checker<'_, '_> {
    pub(super) fn metadata(&mut self, path: &FieldPath, meta: Option<&Value>, top: bool) {
        let Some(meta) = meta else {
            return;
        };
        if top {
            if let Some(name) = str_at(meta, "name") {
                self.object_name(&path.key("name"), name);
            }
            if let Some(ns) = str_at(meta, "namespace") {
                if let Err(e) = names::check_dns1123_label(ns) {
                    self.push(
                        Finding::error(
                            rules::OBJECT_NAME,
                            &path.key("namespace"),
                            format!("namespace: {e}"),
                        )
                        .key("namespace"),
                    );
                }
            }
        }
        if let Some(labels) = map_at(meta, "labels") {
            // The path is built only for a finding: most labels have none.
            for (k, v) in labels {
                let fp = || path.key("labels").key(k);
                if let Err(e) = check_label_key(k) {
                    self.push(Finding::error(rules::METADATA, &fp(), e));
                } else if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                    self.push(
                        Finding::error(rules::METADATA, &fp(), format!("label `{k}`: {e}"))
                            .help("label values are at most 63 characters; keep long or free-form text in annotations"),
                    );
                }
            }
        }
        if let Some(annotations) = map_at(meta, "annotations") {
            let ap = || path.key("annotations");
            let mut size = 0;
            for (k, v) in annotations {
                size += k.len() + v.as_str().map_or(0, str::len);
                if let Err(e) = check_label_key(k) {
                    let e = e.replace("is not a valid label key", "is not a valid annotation key");
                    self.push(Finding::error(rules::METADATA, &ap().key(k), e));
                }
            }
            if size > MAX_ANNOTATIONS_BYTES {
                self.push(Finding::error(
                    rules::METADATA,
                    &ap(),
                    format!("the annotations hold {size} bytes; the API server refuses more than {MAX_ANNOTATIONS_BYTES} (256 KiB)"),
                ));
            }
            if top {
                self.argocd_hook(&ap(), annotations);
            }
        }
    }

    /// The values of Argo CD's hook annotations (see the module documentation).
    fn argocd_hook(&mut self, ap: &FieldPath, annotations: &Map<String, Value>) {
        let list = |v: &'_ str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let suggest = |value: &str, known: &[&str]| {
            known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(value))
                .map(|k| format!("did you mean `{k}`?"))
                .or_else(|| did_you_mean(value, known.iter().copied()))
        };
        if let Some(v) = annotations.get(HOOK_ANNOTATION).and_then(Value::as_str) {
            let at = ap.key(HOOK_ANNOTATION);
            let phases = list(v);
            let whole = v.trim();
            if phases.is_empty() {
                self.push(
                    Finding::error(
                        rules::METADATA,
                        &at,
                        format!("the Argo CD hook annotation is empty: Argo CD treats the {} as a hook with no phase and never applies it", self.kind()),
                    )
                    .key("hook")
                    .help("name a phase (PreSync, Sync, PostSync, SyncFail, PreDelete, PostDelete or Skip), or remove the annotation"),
                );
            } else if !DELETION_HOOKS.contains(&whole) {
                for p in &phases {
                    let problem = if DELETION_HOOKS.contains(&p.as_str()) {
                        Some((
                            format!("the Argo CD hook `{p}` is one of the list {v:?}: Argo CD recognises a deletion hook only when it is the annotation's whole value, so the object never runs as a {p} hook"),
                            None,
                        ))
                    } else if HOOK_PHASES.contains(&p.as_str()) {
                        None
                    } else {
                        let known: Vec<&str> =
                            HOOK_PHASES.iter().chain(DELETION_HOOKS).copied().collect();
                        Some((
                            format!(
                                "`{p}` is not an Argo CD hook phase: Argo CD drops it{}",
                                if phases.len() == 1 {
                                    format!(", and a {} whose only hook phase is unknown is never applied", self.kind())
                                } else {
                                    " and runs the hook in the other phases only".to_string()
                                }
                            ),
                            suggest(p, &known),
                        ))
                    };
                    if let Some((message, label)) = problem {
                        let mut f = Finding::error(rules::METADATA, &at, message)
                            .key("hook")
                            .help("the phases are PreSync, Sync, PostSync, SyncFail and Skip (several, comma-separated), or PreDelete or PostDelete alone; they are case-sensitive");
                        if let Some(l) = label {
                            f = f.label(l);
                        }
                        self.push(f);
                    }
                }
            }
        }
        if let Some(v) = annotations
            .get(HOOK_DELETE_POLICY_ANNOTATION)
            .and_then(Value::as_str)
        {
            let at = ap.key(HOOK_DELETE_POLICY_ANNOTATION);
            for p in list(v) {
                if HOOK_DELETE_POLICIES.contains(&p.as_str()) {
                    continue;
                }
                if p == "Never" {
                    // gitops-engine added `Never` late: older releases drop it.
                    self.push(
                        Finding::warning(
                            rules::METADATA,
                            &at,
                            "the hook deletion policy `Never` is known only to recent Argo CD releases: older ones drop it and delete the hook before creating the next one (BeforeHookCreation)",
                        )
                        .key("hook"),
                    );
                    continue;
                }
                let mut f = Finding::error(
                    rules::METADATA,
                    &at,
                    format!("`{p}` is not an Argo CD hook deletion policy: Argo CD drops it (with no policy left, the default BeforeHookCreation applies)"),
                )
                .key("hook")
                .help("use BeforeHookCreation, HookSucceeded or HookFailed (several, comma-separated); they are case-sensitive");
                if let Some(l) = suggest(&p, HOOK_DELETE_POLICIES) {
                    f = f.label(l);
                }
                self.push(f);
            }
        }
    }

    /// Name rules per kind.
    fn object_name(&mut self, path: &FieldPath, name: &str) {
        let kind = self.kind().to_string();
        let result = match kind.as_str() {
            "Namespace" => names::check_dns1123_label(name),
            "Service" => check_dns1035_label(name),
            "CronJob" => names::check_dns1123_subdomain(name).and_then(|()| {
                max_len(
                    name,
                    52,
                    "a CronJob name",
                    "its Jobs' names add an 11-character suffix",
                )
            }),
            // A StatefulSet's pods carry the label `controller-revision-hash:
            // <name>-<hash>` (its ControllerRevision's name, the hash up to 10
            // characters), and a label value is at most 63 characters.
            "StatefulSet" => names::check_dns1123_label(name).and_then(|()| {
                max_len(
                    name,
                    52,
                    "a StatefulSet name",
                    "its pods' `controller-revision-hash` label is the name and an 11-character suffix",
                )
            }),
            "Job" => names::check_dns1123_subdomain(name).and_then(|()| {
                max_len(
                    name,
                    63,
                    "a Job name",
                    "it becomes the value of the `job-name` label",
                )
            }),
            _ => names::check_dns1123_subdomain(name),
        };
        if let Err(e) = result {
            let mut f = Finding::error(rules::OBJECT_NAME, path, format!("{kind} name: {e}"));
            if kind == "Service" {
                f = f.help("a Service name becomes a DNS name: rename the service so that it starts with a letter");
            }
            // A name kgen made from a service's: how long the service's name may be.
            let max = match kind.as_str() {
                "Job" | "Service" => Some(63),
                "CronJob" | "StatefulSet" => Some(52),
                _ => None,
            };
            let svc = self.s.service.filter(|_| !self.s.hand_written);
            if let (Some(max), Some(svc)) = (max, svc) {
                if name.starts_with(&svc.name) && name.len() > max {
                    let added = name.len() - svc.name.len();
                    let how = if kind == "Service" && added > 0 {
                        format!(
                            "kgen names the headless Service `{name}` ({added} characters more than the service)"
                        )
                    } else if added > 0 {
                        format!(
                            "kgen names the {kind} `{}-<hash of its pod template>` ({added} characters more)",
                            svc.name
                        )
                    } else {
                        format!("kgen names the {kind} after the service")
                    };
                    let hook = if kind == "Job" && added > 0 {
                        "; a hook Job (`hook`) keeps the service's name"
                    } else {
                        ""
                    };
                    f = f.help(format!(
                        "{how}: rename service `{}` ({} characters) to at most {}{hook}",
                        svc.name,
                        svc.name.len(),
                        max.saturating_sub(added)
                    ));
                }
            }
            self.push(f);
        }
    }
}

/// A DNS-1035 label (a Service name): a DNS-1123 label that starts with a letter.
pub fn check_dns1035_label(s: &str) -> Result<(), String> {
    names::check_dns1123_label(s)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "{s:?} is not a valid DNS-1035 label: it must start with a lowercase letter (use at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit)"
        ));
    }
    Ok(())
}

fn max_len(s: &str, max: usize, what: &str, why: &str) -> Result<(), String> {
    if s.len() > max {
        Err(format!(
            "{s:?} is {} characters long; {what} is at most {max}, because {why}",
            s.len()
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use serde_json::json;

    /// The remembering check says what the check says, first time and after.
    #[test]
    fn remembered_label_keys() {
        let keys = [
            "app.kubernetes.io/name",
            "app",
            "a/b/c",
            "/x",
            "Bad_Prefix/x",
            "x".repeat(64).leak(),
            "kgen.dev/waive-KG202",
            "",
            "example.com/",
            "ok-key",
        ];
        for _ in 0..2 {
            for k in keys {
                assert_eq!(check_label_key(k), names::check_label_key(k), "{k:?}");
            }
        }
    }

    #[test]
    fn service_names_are_dns_1035_labels() {
        let s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1api"}, "spec": {"ports": [{"port": 80}]}});
        let got = findings(&s);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "KG103");
        assert!(
            got[0]
                .2
                .starts_with("Service name: \"1api\" is not a valid DNS-1035 label"),
            "{}",
            got[0].2
        );
        assert_eq!(check_dns1035_label("api-1"), Ok(()));
    }

    fn hooked(hook: &str, policy: Option<&str>) -> serde_json::Value {
        let mut j = workload(
            "Job",
            json!({"restartPolicy": "Never", "containers": [{"name": "c", "image": "c:1"}]}),
        );
        j["metadata"]["annotations"] = json!({"argocd.argoproj.io/hook": hook});
        if let Some(p) = policy {
            j["metadata"]["annotations"]["argocd.argoproj.io/hook-delete-policy"] = json!(p);
        }
        j
    }

    #[test]
    fn argo_cd_hook_phases() {
        for ok in [
            "PreSync",
            "Sync, PostSync",
            "SyncFail",
            "Skip",
            "PostDelete",
            " PreDelete ",
        ] {
            assert_eq!(messages(&hooked(ok, None)), Vec::<String>::new(), "{ok}");
        }
        let f = all(&hooked("presync", None));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "KG104");
        assert_eq!(
            f[0].field,
            "metadata.annotations[\"argocd.argoproj.io/hook\"]"
        );
        assert_eq!(
            f[0].message,
            "`presync` is not an Argo CD hook phase: Argo CD drops it, and a Job whose only hook phase is unknown is never applied"
        );
        assert_eq!(f[0].label.as_deref(), Some("did you mean `PreSync`?"));
        assert_eq!(f[0].keys, vec!["hook".to_string()]);
        assert_eq!(
            messages(&hooked("PreSync,PostSynk", None)),
            vec!["`PostSynk` is not an Argo CD hook phase: Argo CD drops it and runs the hook in the other phases only"]
        );
        assert_eq!(
            messages(&hooked("PostDelete,PostSync", None)),
            vec!["the Argo CD hook `PostDelete` is one of the list \"PostDelete,PostSync\": Argo CD recognises a deletion hook only when it is the annotation's whole value, so the object never runs as a PostDelete hook"]
        );
        assert_eq!(
            messages(&hooked(" , ", None)),
            vec!["the Argo CD hook annotation is empty: Argo CD treats the Job as a hook with no phase and never applies it"]
        );
    }

    #[test]
    fn argo_cd_hook_delete_policies() {
        assert_eq!(
            messages(&hooked("PreSync", Some("HookSucceeded,BeforeHookCreation"))),
            Vec::<String>::new()
        );
        let f = all(&hooked("PreSync", Some("HookSucceded")));
        assert_eq!(
            f[0].message,
            "`HookSucceded` is not an Argo CD hook deletion policy: Argo CD drops it (with no policy left, the default BeforeHookCreation applies)"
        );
        assert_eq!(f[0].label.as_deref(), Some("did you mean `HookSucceeded`?"));
        let never = all(&hooked("PostSync", Some("Never")));
        assert_eq!(never.len(), 1);
        assert_eq!(never[0].severity, crate::diagnostic::Severity::Warning);
    }
}
