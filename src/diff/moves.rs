//! A service that moves to another namespace (`namespace = "prod-{{ service }}"`): one
//! `namespace-change` risk per service, worded by the environment's sync policy, and
//! the consequences that follow from the move (a TLS certificate issued again, two
//! Ingresses claiming one host, an IAM role that trusts the old namespace).
//!
//! Every object of the service is removed in the old namespace and added in the new one
//! (Kubernetes cannot move an object): with automated sync and prune, Argo CD creates
//! the new ones and prunes the old ones (last: `PruneLast`); with manual sync, a sync
//! creates the new ones and the old ones stay until someone syncs with prune.

use std::collections::{BTreeMap, BTreeSet};

use super::compare::service_dir;
use super::report::ManifestDiff;
use super::risks::{and_list, kubectl_delete, Risk, RiskKind};
use super::workloads::{claim_templates, has_sync_option};
use crate::diagnostic::plural;
use crate::manifest_set::{Group, Identity, Resource};

/// The objects of one service that move from one namespace to another.
struct Move<'a> {
    environment: String,
    service: String,
    from: String,
    to: String,
    /// (base, head) of each object present in both namespaces.
    pairs: Vec<(&'a Resource, &'a Resource)>,
    /// Removed objects of the service in the old namespace with no twin (a
    /// NetworkPolicy named after the namespace), and the old Namespace itself.
    rest: Vec<&'a Resource>,
    old_namespace_removed: bool,
}

/// How an object left behind in `namespace` goes away in `env`'s sync policy.
fn pruned_when(manual: bool, app: &str) -> String {
    if manual {
        format!("until someone syncs `{app}` with prune (`argocd app sync {app} --prune`)")
    } else {
        "until Argo CD prunes it (automated sync with prune; PruneLast, so after the rest of the sync)".into()
    }
}

/// The namespace-change risks of `d` (one per service that moves, and the
/// consequences of the move); returns the removed objects they speak for, which get no
/// risk of their own.
pub(super) fn namespace_moves(
    d: &ManifestDiff,
    manual: &BTreeSet<Group>,
    out: &mut Vec<Risk>,
) -> BTreeSet<Identity> {
    let added: BTreeMap<_, &Resource> = d
        .added
        .iter()
        .map(|r| (r.id.without_namespace(), r))
        .collect();
    let mut moves: BTreeMap<(String, String, String), Move> = BTreeMap::new();
    for r in &d.removed {
        let Some((env, svc)) = service_dir(&r.path) else {
            continue;
        };
        let Some(a) = added.get(&r.id.without_namespace()) else {
            continue;
        };
        if !r.id.is_object()
            || r.id.namespace.is_empty()
            || service_dir(&a.path) != Some((env, svc))
            || has_sync_option(&r.value, "Prune=false")
        {
            continue;
        }
        moves
            .entry((
                format!("{env}/{svc}/"),
                r.id.namespace.clone(),
                a.id.namespace.clone(),
            ))
            .or_insert_with(|| Move {
                environment: env.to_string(),
                service: svc.to_string(),
                from: r.id.namespace.clone(),
                to: a.id.namespace.clone(),
                pairs: Vec::new(),
                rest: Vec::new(),
                old_namespace_removed: false,
            })
            .pairs
            .push((r, a));
    }
    let mut handled = BTreeSet::new();
    for ((dir, _, _), m) in &mut moves {
        handled.extend(m.pairs.iter().map(|(b, _)| b.id.clone()));
        for r in &d.removed {
            if !r.path.starts_with(dir.as_str()) || handled.contains(&r.id) {
                continue;
            }
            let old_ns = r.id.kind == "Namespace" && r.id.name == m.from;
            if old_ns || (r.id.namespace == m.from && !has_sync_option(&r.value, "Prune=false")) {
                m.old_namespace_removed |= old_ns;
                m.rest.push(r);
                handled.insert(r.id.clone());
            }
        }
    }
    for m in moves.values() {
        let group = Group::Environment(m.environment.clone());
        let is_manual = manual.contains(&group);
        let app = format!("{}-{}", m.environment, m.service);
        let (from, to) = (&m.from, &m.to);
        let n = plural(m.pairs.len() + m.rest.len(), "object");
        let namespace = if m.old_namespace_removed {
            format!(" and namespace `{from}` with everything in it")
        } else {
            String::new()
        };
        let message = if is_manual {
            format!(
                "moves from namespace `{from}` to `{to}` ({n}): a sync creates them in `{to}`, but nothing is deleted: the old ones{namespace} stay until someone syncs `{app}` with prune (`argocd app sync {app} --prune`), which deletes them"
            )
        } else {
            format!(
                "moves from namespace `{from}` to `{to}` ({n}): at the next sync Argo CD creates them in `{to}` and then prunes the old ones{namespace}: its pods start anew, and what controllers made in `{from}` (Secrets, leases) does not move"
            )
        };
        let service_risk = |message: String| Risk {
            kind: RiskKind::NamespaceChange,
            group: group.clone(),
            resource: None,
            service: Some(m.service.clone()),
            message,
        };
        out.push(service_risk(message));
        let object_risk = |id: &Identity, message: String| Risk {
            kind: RiskKind::NamespaceChange,
            group: group.clone(),
            resource: Some(id.clone()),
            service: None,
            message,
        };
        let until = pruned_when(is_manual, &app);
        for (b, h) in &m.pairs {
            match h.id.kind.as_str() {
                "StatefulSet" => {
                    let claims = claim_templates(&b.value);
                    if !claims.is_empty() {
                        let claims: Vec<String> = claims
                            .iter()
                            .map(|c| format!("`{c}-{}-<ordinal>`", b.id.name))
                            .collect();
                        out.push(object_risk(
                            &h.id,
                            format!(
                                "its pods' claims ({}) stay in `{from}`: the pods in `{to}` start on new, empty claims (copy the data first)",
                                and_list(&claims)
                            ),
                        ));
                    }
                }
                "Ingress" => ingress_risks(b, h, &until, |msg| out.push(object_risk(&h.id, msg))),
                "ServiceAccount" => {
                    let sa = &h.id.name;
                    if let Some(role) =
                        h.value["metadata"]["annotations"][crate::render::IRSA_ANNOTATION].as_str()
                    {
                        out.push(object_risk(
                            &h.id,
                            format!(
                                "the IRSA role `{role}` trusts `system:serviceaccount:{from}:{sa}`: pods in `{to}` get no AWS credentials until Terraform applies the new trust subject `system:serviceaccount:{to}:{sa}` (generated/terraform/, the Terraform hand-off); apply it before syncing"
                            ),
                        ));
                    } else if m.pairs.iter().any(|(_, p)| {
                        p.id.kind == "SecretProviderClass"
                            && p.value["spec"]["parameters"]["usePodIdentity"] == "true"
                    }) {
                        out.push(object_risk(
                            &h.id,
                            format!(
                                "the EKS Pod Identity association is of `{from}/{sa}`: pods in `{to}` get no AWS credentials until Terraform creates the association of `{to}/{sa}` (generated/terraform/, the Terraform hand-off); apply it before syncing"
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    handled
}

/// What moving an Ingress does: cert-manager issues its certificate again, and the new
/// Ingress claims the hosts the old one keeps until it is pruned (pruned last:
/// `PruneLast`).
fn ingress_risks(b: &Resource, h: &Resource, until: &str, mut push: impl FnMut(String)) {
    let hosts = |v: &serde_json::Value| -> Vec<String> {
        let mut out: Vec<String> = v["spec"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["host"].as_str())
            .map(|h| format!("`{h}`"))
            .collect();
        out.dedup();
        out
    };
    let annotations = &h.value["metadata"]["annotations"];
    let issuer = annotations["cert-manager.io/cluster-issuer"]
        .as_str()
        .map(|i| format!("ClusterIssuer `{i}`"))
        .or_else(|| {
            annotations["cert-manager.io/issuer"]
                .as_str()
                .map(|i| format!("Issuer `{i}`"))
        });
    let secrets: Vec<String> = h.value["spec"]["tls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["secretName"].as_str())
        .map(|s| format!("`{s}`"))
        .collect();
    if let Some(issuer) = issuer.filter(|_| !secrets.is_empty()) {
        push(format!(
            "cert-manager issues its TLS certificate ({}, {issuer}) again in `{}`: the Secret stays in `{}`, the new Ingress has no certificate until the new one is issued, and Let's Encrypt allows 5 certificates for the same set of hosts a week",
            and_list(&secrets),
            h.id.namespace,
            b.id.namespace
        ));
    }
    let (old, new) = (hosts(&b.value), hosts(&h.value));
    let shared: Vec<String> = new.into_iter().filter(|x| old.contains(x)).collect();
    if shared.is_empty() {
        return;
    }
    let hosts = format!(
        "{} {}",
        if shared.len() == 1 { "host" } else { "hosts" },
        and_list(&shared)
    );
    let old_ns = &b.id.namespace;
    let nginx = h.value["spec"]["ingressClassName"]
        .as_str()
        .is_some_and(|c| c.contains("nginx"));
    push(if nginx {
        // ingress-nginx's validating webhook refuses an Ingress whose host and path
        // another Ingress, in any namespace, already has: `validate.nginx.ingress.
        // kubernetes.io` answers "host \"…\" and path \"…\" is already defined in
        // ingress <ns>/<name>", and the chart turns it on with `failurePolicy: Fail`
        // (charts/ingress-nginx values.yaml: `controller.admissionWebhooks.enabled:
        // true`), which kgen's `ingress-nginx` preset leaves as it is.
        format!(
            "claims the same {hosts} as the old Ingress in `{old_ns}`, which stays {until}: ingress-nginx's admission webhook (on by default) refuses an Ingress whose host and path another one already has, so the sync fails on this one; delete the old one as you sync ({}), and the host has no route until the new one is created",
            kubectl_delete(&b.id, "")
        )
    } else {
        format!(
            "claims the same {hosts} as the old Ingress in `{old_ns}`, which stays {until}: until then two Ingresses route the same host"
        )
    });
}
