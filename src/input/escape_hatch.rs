//! The input of the escape hatch: `[manifests]` (the CRD schemas hand-written
//! manifests are validated against, and the kinds allowed without one) and the
//! `patches` of a service (`[defaults]`, `[services.<name>]`, an overlay's
//! `[services.<name>]`). What they do: `crate::escape_hatch`, docs/escape-hatch.md.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spanned::Spanned;

/// `[manifests]`: how hand-written manifests (under `manifests/` next to platform.toml)
/// and patched objects are validated.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestsSection {
    /// Directories of CRD schemas, relative to platform.toml, laid out like kubeconform's
    /// (`{group}/{kind-lowercase}_{version}.json`, the `openAPIV3Schema` of each CRD
    /// version). A hand-written or patched custom resource is validated against its
    /// schema, strictly (unknown fields are errors). The first directory that has the
    /// kind wins.
    #[serde(default)]
    pub schema_dirs: Option<Spanned<Vec<Spanned<String>>>>,
    /// Kinds a hand-written manifest may use without any schema, each with a written
    /// reason: `[{ api_version = "example.com/v1", kind = "Widget", reason = "..." }]`.
    /// Objects of these kinds are still checked for everything but their schema.
    #[serde(default)]
    pub unchecked_kinds: Option<Spanned<Vec<UncheckedKindLayer>>>,
    /// The bootstrap sync wave of a cluster component's Application
    /// (`manifests/clusters/<cluster>/<component>/`), by component name, on every
    /// cluster that has it: `{ smoke-tests = 1 }`. From -3 (with the operators) on;
    /// -1 (after the operators, the baseline's custom resources and the monitoring
    /// stack) when not set. An earlier component's objects need their namespaces
    /// made by it or by an earlier Application (KG304).
    #[serde(default)]
    pub sync_waves: Option<Spanned<crate::input::SpannedMap<i64>>>,
}

/// `{ api_version = "example.com/v1", kind = "Widget", reason = "the vendor publishes no schema" }`
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UncheckedKindLayer {
    /// `apiVersion` of the kind, e.g. `example.com/v1`.
    pub api_version: Spanned<String>,
    /// The kind, e.g. `Widget`.
    pub kind: Spanned<String>,
    /// Why its objects cannot be validated against a schema. Required, not empty
    /// (KG047).
    // Optional to serde: a missing reason is KG047 with the other `[manifests]`
    // errors, not a missing key that would hold them back to the next run.
    #[serde(default)]
    pub reason: Option<Spanned<String>>,
}

/// One patch on the rendered objects of a service, by name:
/// `[services.<name>.patches.<patch>]`. Exactly one of `merge`, `json` and `file`.
/// Patches apply after rendering and before validation, in name order; a higher
/// layer's patch of the same name is merged into the lower one's, key by key (its
/// `merge`, `json` or `file` replaces the lower one's whole).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchLayer {
    /// `false` switches the patch off (in one environment's overlay, say). Default: `true`.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// Kind of the objects patched, e.g. `Ingress`, `Deployment` (required).
    #[serde(default)]
    pub kind: Option<Spanned<String>>,
    /// Name of the object patched. Default: every object of `kind` of the service.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// A JSON merge patch (RFC 7386), written as a TOML table:
    /// `{ metadata = { annotations = { "nginx.ingress.kubernetes.io/enable-modsecurity" = "true" } } }`.
    /// Tables merge; anything else (lists included) replaces; an empty string does not
    /// remove (TOML has no null): use a JSON Patch `remove` for that.
    #[serde(default)]
    pub merge: Option<Spanned<serde_json::Value>>,
    /// A JSON Patch (RFC 6902): a list of operations,
    /// `[{ op = "add", path = "/spec/template/spec/containers/0/env/-", value = { name = "X", value = "1" } }]`.
    #[serde(default)]
    pub json: Option<Spanned<Vec<Spanned<serde_json::Value>>>>,
    /// A YAML file holding the patch, relative to platform.toml: a mapping is a JSON
    /// merge patch, a list a JSON Patch.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
}
