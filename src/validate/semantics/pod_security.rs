//! Pod Security Admission of a service's namespace (KG117): a pod that the level its
//! namespace enforces refuses. The workload is accepted, and its controller never
//! creates a pod (`FailedCreate`, "violates PodSecurity"). The checks follow the Pod
//! Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards)
//! for the fields kgen writes or a patch or hand-written manifest may change:
//!
//! - `baseline` and `restricted` refuse what uses the node, as KG206 finds it (the
//!   node's network, process or IPC namespace, a `hostPath`, a privileged container,
//!   a `hostPort`), capabilities added beyond the baseline set, and a seccomp profile
//!   of type `Unconfined`;
//! - `restricted` also refuses a container that may escalate privileges
//!   (`allowPrivilegeEscalation` not `false`), may run as root (`runAsNonRoot` not
//!   `true`, or `runAsUser: 0`), has no `RuntimeDefault` or `Localhost` seccomp
//!   profile, does not drop `ALL` capabilities or adds one other than
//!   `NET_BIND_SERVICE`, and a volume of another type than those it allows.
//!
//! As the admission plugin's checks do (kubernetes
//! `staging/src/k8s.io/pod-security-admission/policy`: `check_runAsNonRoot.go`,
//! `check_runAsUser.go`, `check_restrictedVolumes.go`, `check_seccompProfile_*.go`,
//! `check_capabilities_*.go`, `check_allowPrivilegeEscalation.go`): a pod-level
//! `runAsNonRoot: false` is refused whatever its containers say, and a pod in a user
//! namespace (`hostUsers: false`) may run as root (`relaxPolicyForUserNamespacePod`).
//!
//! The namespace's level is the service's `pod_security` (a namespace several
//! services share enforces the least strict of theirs, so it admits at least what the
//! service's level admits). kgen's own pods satisfy `restricted`.

use serde_json::Value;

use super::Checker;
use crate::rules;
use crate::spec::PodSecurityLevel;
use crate::validate::semantics::pod_template;
use crate::validate::{arr_at, bool_at, str_at, FieldPath, Finding};

/// Capabilities `baseline` lets a container add.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Volume types `restricted` allows.
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

impl Checker<'_, '_> {
    /// KG117 for what a service's namespace level refuses in its pods.
    pub(super) fn pod_security(&mut self) {
        let Some(svc) = self.s.service else {
            return;
        };
        if svc.pod_security == PodSecurityLevel::Privileged {
            return;
        }
        // A hand-written object in another namespace is that namespace's.
        if self.s.namespace().is_some_and(|ns| ns != svc.namespace) {
            return;
        }
        let Some((pp, _, pod)) = pod_template(self.s) else {
            return;
        };
        let level = svc.pod_security;
        let (kind, name) = (self.s.kind(), self.s.name());
        let found = refused(level, &pp, pod);
        if found.is_empty() {
            return;
        }
        // A use a policy rule still flags is that rule's to report; once the rule is
        // waived, what the namespace refuses is left (the trap KG117 is for).
        let waived: Vec<String> = crate::validate::applicable_waivers(self.s)
            .into_iter()
            .map(|(rule, _)| rule)
            .collect();
        for (field, what, rule) in found {
            if rule.is_some_and(|r| !waived.iter().any(|w| w == r)) {
                continue;
            }
            let help = if rule == Some(rules::HOST_ACCESS) {
                format!(
                    "a node agent that needs the node: set `pod_security = \"privileged\"` on service `{}` (its namespace then admits such pods), with KG206 waived and its reason; otherwise remove the host access",
                    svc.name
                )
            } else {
                format!(
                    "kgen writes this field so that `restricted` admits the pod: leave it so, or set `pod_security` on service `{}` to a level that admits it (`\"baseline\"`, `\"privileged\"`), with the policy rule waived and its reason",
                    svc.name
                )
            };
            self.push(
                Finding::error(
                    rules::POD_SECURITY_REFUSED,
                    &field,
                    format!(
                        "{what}, which namespace `{}` refuses at its Pod Security level `{}`: {kind} `{name}` would create no pod",
                        svc.namespace,
                        level.as_str()
                    ),
                )
                .key("pod_security")
                .help(help),
            );
        }
    }
}

/// What `level` refuses in the pod `pod` (at `pp`), each field with what it does and
/// the policy rule that flags it too (KG203, KG205, KG206, KG207), if one does.
fn refused(
    level: PodSecurityLevel,
    pp: &FieldPath,
    pod: &Value,
) -> Vec<(FieldPath, String, Option<&'static str>)> {
    let mut out: Vec<(FieldPath, String, Option<&'static str>)> =
        crate::validate::policy::host_uses(pp, pod)
            .into_iter()
            .map(|(f, what)| (f, what, Some(rules::HOST_ACCESS)))
            .collect();
    let restricted = level == PodSecurityLevel::Restricted;
    let pod_sc = pod.get("securityContext");
    let pod_seccomp = pod_sc
        .and_then(|sc| sc.get("seccompProfile"))
        .and_then(|p| str_at(p, "type"));
    if pod_seccomp == Some("Unconfined") {
        out.push((
            pp.key("securityContext").key("seccompProfile").key("type"),
            "the pods run without a seccomp profile (Unconfined)".to_string(),
            Some(rules::SECCOMP_UNSET),
        ));
    }
    if restricted {
        for (i, v) in arr_at(pod, "volumes").iter().enumerate() {
            let kind = v
                .as_object()
                .and_then(|m| m.keys().find(|k| *k != "name"))
                .map_or("", String::as_str);
            if !kind.is_empty() && kind != "hostPath" && !RESTRICTED_VOLUMES.contains(&kind) {
                out.push((
                    pp.key("volumes").index(i).key(kind),
                    format!(
                        "volume `{}` is of type `{kind}`",
                        str_at(v, "name").unwrap_or("")
                    ),
                    None,
                ));
            }
        }
    }
    // In a user namespace, root in the pod is not root on the node.
    let user_namespace = bool_at(pod, "hostUsers") == Some(false);
    let root_checked = restricted && !user_namespace;
    let pod_non_root = pod_sc.and_then(|sc| bool_at(sc, "runAsNonRoot"));
    let pod_user = pod_sc
        .and_then(|sc| sc.get("runAsUser"))
        .and_then(Value::as_i64);
    if root_checked && pod_non_root == Some(false) {
        out.push((
            pp.key("securityContext").key("runAsNonRoot"),
            "the pods may run as root (runAsNonRoot: false)".to_string(),
            Some(rules::RUN_AS_ROOT),
        ));
    }
    if root_checked && pod_user == Some(0) {
        out.push((
            pp.key("securityContext").key("runAsUser"),
            "the pods run as root (runAsUser: 0)".to_string(),
            Some(rules::RUN_AS_ROOT),
        ));
    }
    for list in ["initContainers", "containers"] {
        for (i, c) in arr_at(pod, list).iter().enumerate() {
            let sc = c.get("securityContext");
            let at = |key: &str| pp.key(list).index(i).key("securityContext").key(key);
            // Named only when something is refused (kgen's own containers never are).
            let who = || format!("container `{}`", str_at(c, "name").unwrap_or(""));
            let seccomp = sc
                .and_then(|sc| sc.get("seccompProfile"))
                .and_then(|p| str_at(p, "type"));
            if seccomp == Some("Unconfined") {
                out.push((
                    at("seccompProfile").key("type"),
                    format!("{} runs without a seccomp profile (Unconfined)", who()),
                    Some(rules::SECCOMP_UNSET),
                ));
            }
            let caps = sc.and_then(|sc| sc.get("capabilities"));
            for (j, cap) in caps
                .map_or(&[][..], |c| arr_at(c, "add"))
                .iter()
                .enumerate()
            {
                let cap = cap.as_str().unwrap_or("");
                let allowed = if restricted {
                    cap == "NET_BIND_SERVICE"
                } else {
                    BASELINE_CAPABILITIES.contains(&cap)
                };
                if !allowed {
                    out.push((
                        at("capabilities").key("add").index(j),
                        format!("{} adds the capability {cap}", who()),
                        Some(rules::PRIVILEGE_ESCALATION),
                    ));
                }
            }
            if !restricted {
                continue;
            }
            if sc.and_then(|sc| bool_at(sc, "allowPrivilegeEscalation")) != Some(false) {
                out.push((
                    at("allowPrivilegeEscalation"),
                    format!(
                        "{} may gain privileges (allowPrivilegeEscalation is not false)",
                        who()
                    ),
                    Some(rules::PRIVILEGE_ESCALATION),
                ));
            }
            let non_root = sc
                .and_then(|sc| bool_at(sc, "runAsNonRoot"))
                .or(pod_non_root);
            if root_checked && non_root != Some(true) {
                out.push((
                    at("runAsNonRoot"),
                    format!("{} may run as root (runAsNonRoot is not true)", who()),
                    Some(rules::RUN_AS_ROOT),
                ));
            }
            if root_checked
                && sc
                    .and_then(|sc| sc.get("runAsUser"))
                    .and_then(Value::as_i64)
                    == Some(0)
            {
                out.push((
                    at("runAsUser"),
                    format!("{} runs as root (runAsUser: 0)", who()),
                    Some(rules::RUN_AS_ROOT),
                ));
            }
            if !matches!(
                seccomp.or(pod_seccomp),
                Some("RuntimeDefault" | "Localhost")
            ) && seccomp != Some("Unconfined")
                && !(seccomp.is_none() && pod_seccomp == Some("Unconfined"))
            {
                out.push((
                    at("seccompProfile"),
                    format!(
                        "{} has no RuntimeDefault or Localhost seccomp profile",
                        who()
                    ),
                    Some(rules::SECCOMP_UNSET),
                ));
            }
            let drops_all = caps
                .map_or(&[][..], |c| arr_at(c, "drop"))
                .iter()
                .any(|d| d.as_str() == Some("ALL"));
            if !drops_all {
                out.push((
                    at("capabilities").key("drop"),
                    format!("{} does not drop ALL capabilities", who()),
                    Some(rules::PRIVILEGE_ESCALATION),
                ));
            }
        }
    }
    out
}
