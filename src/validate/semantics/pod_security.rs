//! Pod Security Admission of a service's namespace: a pod that uses the node (its
//! network, process or IPC namespace, a `hostPath`, a privileged container, a
//! `hostPort`, as KG206 finds them) in a namespace that enforces `restricted` or
//! `baseline`, both of which refuse it (the Pod Security Standards; the
//! `PodSecurity` admission plugin checks each pod the controller creates). The
//! workload is accepted, and its controller never creates a pod. The namespace's
//! level is the service's `pod_security` (a namespace several services share enforces
//! the least strict of theirs, so it admits at least what the service's does).

use super::Checker;
use crate::rules;
use crate::spec::PodSecurityLevel;
use crate::validate::semantics::pod_template;
use crate::validate::Finding;

impl Checker<'_, '_> {
    /// KG117 for every use of the node of a service's pods below `privileged`.
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
        let level = svc.pod_security.as_str();
        let (kind, name) = (self.s.kind(), self.s.name());
        for (field, what) in crate::validate::policy::host_uses(&pp, pod) {
            self.push(
                Finding::error(
                    rules::POD_SECURITY_REFUSED,
                    &field,
                    format!(
                        "{what}, which namespace `{}` refuses at its Pod Security level `{level}`: {kind} `{name}` would create no pod",
                        svc.namespace
                    ),
                )
                .key("pod_security")
                .help(format!(
                    "a node agent that needs the node: set `pod_security = \"privileged\"` on service `{}` (its namespace then admits such pods), with KG206 waived and its reason; otherwise remove the host access",
                    svc.name
                )),
            );
        }
    }
}
