//! The PersistentVolumeClaims of a `deployment` or `worker` service's `claim` volumes
//! (`<service>-<volume>`), shared by its pods; a StatefulSet gets one per pod instead,
//! from its `volumeClaimTemplates` (`statefulset`). Argo CD never deletes a claim
//! ([`KEEP`]): data outlives the volume's or the service's removal.
//!
//! The claim is in the workload's sync wave (the default, 0), not an earlier one: a
//! claim of a `WaitForFirstConsumer` StorageClass (EBS's, gp3 and gp2) stays `Pending`
//! until a pod uses it, which Argo CD's health of a claim calls `Progressing`
//! (gitops-engine/pkg/health/health_pvc.go, `getCorev1PVCHealth`), and a sync waits
//! for every object of a wave to be healthy before the next wave
//! (gitops-engine/pkg/sync/sync_context.go, `Sync`: running tasks of a multi-step
//! sync): in an earlier wave, the claim would wait for a pod that waits for it
//! (argoproj/argo-cd#12840). In one wave, Argo CD applies the claim (by kind order)
//! before the Deployment, and the pod binds it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::{labels, meta};
use crate::spec::{PlatformSpec, ServiceSpec, VolumeSource, VolumeSpec};

/// Name of the claim of volume `volume`.
pub fn name(svc: &ServiceSpec, volume: &str) -> String {
    format!("{}-{volume}", svc.name)
}

/// Sync options of a claim: Argo CD never deletes it, by pruning or with the
/// Application: the data outlives a removed volume or service (delete it by hand).
pub const KEEP: (&str, &str) = (
    "argocd.argoproj.io/sync-options",
    "Prune=false,Delete=false",
);

/// The claim of `v`, if it is a claim volume.
pub fn build(
    platform: &PlatformSpec,
    svc: &ServiceSpec,
    v: &VolumeSpec,
) -> Option<PersistentVolumeClaim> {
    let VolumeSource::Claim {
        size,
        storage_class,
        access_mode,
    } = &v.source
    else {
        return None;
    };
    let mut metadata = meta(
        &name(svc, &v.name),
        Some(&svc.namespace),
        labels::service(platform, svc),
    );
    metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(KEEP.0.to_string(), KEEP.1.to_string());
    Some(PersistentVolumeClaim {
        metadata,
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![access_mode.as_str().into()]),
            storage_class_name: storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(size.clone()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}
