//! external-dns's Helm values: who owns the DNS records it wrote, and whether it may
//! delete them.
//!
//! external-dns marks each record it creates with a TXT record naming its owner
//! (`--txt-owner-id`, the chart's `txtOwnerId`) and changes only the records whose TXT
//! record names that owner: kubernetes-sigs/external-dns `docs/registry/registry.md`
//! (the owner ID is "unique to the deployment of external-dns and ... doesn't change
//! for the lifetime of the deployment"), `registry/txt.go` (the owner read from each
//! TXT record) and `plan/plan.go` (a record of another owner is neither updated nor
//! deleted, nor taken over).

use super::Finding;
use crate::diff::{scalar, RiskKind};
use crate::manifest_set::Resource;

/// A values file whose `txtOwnerId` or `policy` changes (the chart's keys; only
/// external-dns's values have them).
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
    let (bo, ho) = (&b.value["txtOwnerId"], &h.value["txtOwnerId"]);
    if (bo.is_string() || ho.is_string()) && bo != ho {
        out.push((
            RiskKind::DnsOwner,
            format!(
                "external-dns's txtOwnerId changes {} → {}: the records it created name the old owner in their TXT records, so it no longer updates or deletes them, and cannot create a record whose name one of them holds; keep the old owner, or change the owner in those TXT records first",
                scalar(bo),
                scalar(ho)
            ),
        ));
    }
    let (bp, hp) = (&b.value["policy"], &h.value["policy"]);
    if hp.as_str() == Some("sync") && bp != hp {
        out.push((
            RiskKind::DnsOwner,
            format!(
                "external-dns's policy changes {} → sync: it now deletes the records it owns that no Service or Ingress asks for",
                scalar(bp)
            ),
        ));
    }
}
