//! The pipeline, in one place: resolve → render → emit.
//!
//! Every command that needs rendered output (render, check, validate, diff, the
//! Argo CD plugin, bump-image) calls `compile`; nothing touches the disk here.

use crate::diagnostic::Diagnostic;
use crate::emit::{self, Tree};
use crate::error::Result;
use crate::render::{self, Object};
use crate::resolve;
use crate::spec::PlatformSpec;
use crate::workspace::Workspace;

/// Everything one run produces, in memory.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub spec: PlatformSpec,
    pub objects: Vec<Object>,
    pub tree: Tree,
    /// Non-blocking diagnostics.
    pub warnings: Vec<Diagnostic>,
    /// Directories under `generated/` this run owns (`""` means all of it).
    pub scopes: Vec<String>,
}

/// Compiles every environment, or only `envs` when not empty.
pub fn compile(ws: &Workspace, envs: &[String]) -> Result<Compiled> {
    let spec = resolve::resolve(ws, envs)?;
    let mut objects = Vec::new();
    for env in &spec.environments {
        objects.extend(render::environment(&spec, env));
    }
    let tree = emit::emit(&spec, &objects);
    let scopes = if envs.is_empty() {
        vec![String::new()]
    } else {
        spec.environments
            .iter()
            .flat_map(|e| [e.name.clone(), format!("argocd/{}", e.name)])
            .collect()
    };
    Ok(Compiled {
        spec,
        objects,
        tree,
        warnings: Vec::new(),
        scopes,
    })
}
