//! A finding caused by a patch points at the patch (docs/escape-hatch.md), also
//! when the field it reports is kgen's and another field it is about was patched:
//! the semantic checks name those fields (`validate::Finding::also`).

mod common;

use common::assert_stderr;

/// One autoscaled service; min 2, max 6.
const BASE: &str = r###"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.api]
image = "acme/api"
tag = "1.0.0"
probes = { liveness = "/health", readiness = "/ready" }
autoscaling = { min = 2, max = 6 }

"###;

/// KG108 about `maxReplicas` (kgen's, from `max = 6`) points at the patch that set
/// `minReplicas` above it, not at the typed `max`.
#[test]
fn autoscaler_bounds_broken_by_a_patch_point_at_it() {
    let err = common::fails(
        &format!(
            "{BASE}{}",
            r###"[services.api.patches.b-hpa]
kind = "HorizontalPodAutoscaler"
merge = { spec = { minReplicas = 10 } }

"###
        ),
        &[],
    );
    assert_stderr(
        &err,
        r###"error[KG108]: maxReplicas 6 is less than minReplicas 10
  --> platform.toml:17:20
   |
17 | merge = { spec = { minReplicas = 10 } }
   |                    ^^^^^^^^^^^
   = in: generated/dev/api/hpa.yaml: spec.maxReplicas

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG108 about the HPA's cpu target (kgen's) points at the JSON Patch that removed
/// the container's resources, as KG201 about the container does.
#[test]
fn autoscaler_target_broken_by_a_patch_removing_resources_points_at_it() {
    let err = common::fails(
        &format!(
            "{BASE}{}",
            r###"[services.api.patches.no-resources]
kind = "Deployment"
json = [{ op = "remove", path = "/spec/template/spec/containers/0/resources" }]
"###
        ),
        &[],
    );
    assert_stderr(
        &err,
        r###"error[KG108]: the autoscaler targets cpu utilisation, but container `api` of Deployment `api` has no cpu request (spec.template.spec.containers[0].resources.requests)
  --> platform.toml:17:33
   |
17 | json = [{ op = "remove", path = "/spec/template/spec/containers/0/resources" }]
   |                                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/dev/api/hpa.yaml: spec.metrics[0]
   = help: utilisation is a percentage of the pods' request, the sum over their containers and native sidecars (the controller gives up if one has none): set a cpu request on each, or target AverageValue instead

error[KG201]: container `api` sets no cpu request, no memory request, no memory limit
  --> platform.toml:17:33
   |
17 | json = [{ op = "remove", path = "/spec/template/spec/containers/0/resources" }]
   |                                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/dev/api/deployment.yaml: spec.template.spec.containers[0].resources
   = help: without requests the scheduler packs pods blindly, and without a memory limit one pod can starve the node

error: 2 errors and 0 warnings; nothing was written
"###,
    );
}
