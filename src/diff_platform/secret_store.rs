//! External Secrets' ClusterSecretStores: a changed provider, where every
//! ExternalSecret looks its keys up again, and a removed store.

use serde_json::Value;

use super::Finding;
use crate::diff::RiskKind;
use crate::manifest_set::Resource;

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
pub(super) fn changed(b: &Resource, h: &Resource, out: &mut Vec<Finding>) {
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

/// A removed ClusterSecretStore. `could not get ClusterSecretStore`: external-secrets
/// `pkg/controllers/secretstore/client_manager.go`; the ExternalSecret is marked
/// `SecretSyncedError`, and its Secret is left as it is.
pub(super) fn removed() -> Finding {
    (
        RiskKind::SecretStoreRemoved,
        "removed; every ExternalSecret that reads through it fails at its next refresh (`could not get ClusterSecretStore`), and the Secrets they made keep their last values".into(),
    )
}
