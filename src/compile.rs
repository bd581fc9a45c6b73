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

/// Compiles the platform. Every environment is resolved and validated (an AppProject
/// can span several environments); with `envs`, only their files are kept.
pub fn compile(ws: &Workspace, envs: &[String]) -> Result<Compiled> {
    let spec = resolve::resolve(ws, &[])?;
    if let Some(unknown) = envs
        .iter()
        .find(|e| !spec.environments.iter().any(|s| &&s.name == e))
    {
        return Err(resolve::unknown_environment(
            unknown,
            &ws.environment_names(),
        ));
    }
    let mut objects = render::platform(&spec);
    let scopes = if envs.is_empty() {
        vec![String::new()]
    } else {
        objects.retain(|o| envs.contains(&o.env));
        envs.iter()
            .flat_map(|e| [e.clone(), format!("argocd/{e}")])
            .collect()
    };
    let tree = emit::emit(&spec, &objects);
    Ok(Compiled {
        spec,
        objects,
        tree,
        warnings: Vec::new(),
        scopes,
    })
}
