//! kgen: a GitOps manifest compiler.
//!
//! A typed `platform.toml` plus `overlays/<env>.toml` go in; plain, validated,
//! deterministic Kubernetes YAML comes out under `generated/`. The pipeline runs in
//! one direction, one module per stage:
//!
//! `workspace` (load, with spans) → `merge` + `resolve` (effective spec per service
//! and environment) → `render` (typed objects) → `validate` (schema, semantics,
//! policy) → `emit` (deterministic YAML) → `write` (only changed files,
//! atomically). `compile` strings the stages together;
//! `ops` holds one function per command; `diagnostic` renders problems at the edge.

pub mod addons;
pub mod admission;
pub mod cidr;
pub mod cmp_params;
pub mod compile;
pub mod crd;
pub mod diagnostic;
pub mod diff;
pub mod diff_format;
pub mod diff_ignore;
pub mod diff_platform;
pub mod emit;
pub mod error;
pub mod escape_hatch;
pub mod git_commit;
pub mod git_ref;
pub mod github_actions;
pub mod image_ref;
pub mod input;
pub mod input_check;
pub mod interrupt;
pub mod lock;
pub mod man;
pub mod manifest_docs;
pub mod manifest_set;
pub mod merge;
pub mod names;
pub mod ops;
pub mod output;
pub mod overlay_edit;
pub mod quantity;
pub mod render;
pub mod repo_path;
pub mod resolve;
pub mod rules;
pub mod schema_dir;
pub mod schema_fast;
pub mod secret_scan;
pub mod selection;
pub mod source;
pub mod spanned;
pub mod spec;
pub mod stages;
pub mod template;
#[cfg(test)]
mod test_corpus;
pub mod validate;
pub mod workspace;
pub mod write;
pub mod yaml;
pub mod yaml_input;

pub use error::{Error, Result};
pub use workspace::Workspace;
