//! What a run that renders some environments covers (`kgen render --env`, and
//! `bump-image`, `promote` and `bump-chart --cluster`, which re-render what they
//! change): the environments asked for, the clusters they run on, the directories
//! under `generated/` they own; and which diagnostics concern them.
//!
//! Every environment is still resolved and validated (an AppProject, and a cluster's
//! files, cover every environment of the cluster), so a run finds the problems of the
//! others too. Of those, it prints only the errors, which still fail it (kgen writes
//! nothing while any environment has an error: `generated/` stays what one platform
//! renders), each with a note saying where it is; warnings about other environments
//! are left to the runs that render them. docs/cli.md#kgen-render says so.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::render;
use crate::source::FileId;
use crate::spec::PlatformSpec;
use crate::workspace::{Workspace, GENERATED_DIR};

/// Where a diagnostic is, for [`Selection::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// The platform as a whole (or not known): it concerns every run.
    Platform,
    /// These environments (a cluster's problems: the environments on it).
    Envs(Vec<String>),
}

/// The environments a run renders.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The environments asked for, in platform order; empty: all of them.
    envs: Vec<String>,
    /// Each cluster and the environments on it, in platform order.
    hosted: Vec<(String, Vec<String>)>,
    /// Every environment of the platform.
    known: Vec<String>,
    /// Each overlay file and its environment.
    overlays: BTreeMap<FileId, String>,
    /// platform.toml, and where each environment's tables are in it.
    platform_file: FileId,
    env_tables: Vec<(String, std::ops::Range<usize>)>,
}

impl Selection {
    /// `envs` of the platform `ws` (all when empty); `spec`, when resolved, says which
    /// cluster each environment is on.
    pub fn new(ws: &Workspace, spec: Option<&PlatformSpec>, envs: &[String]) -> Selection {
        let hosted = spec
            .iter()
            .flat_map(|s| {
                s.clusters.iter().map(|c| {
                    let on = s.environments_on(&c.name).map(|e| e.name.clone());
                    (c.name.clone(), on.collect())
                })
            })
            .collect();
        let known: Vec<String> = ws
            .environment_names()
            .into_iter()
            .map(str::to_string)
            .collect();
        let env_tables = ws
            .environment_tables()
            .into_iter()
            .filter(|(env, _)| known.contains(env))
            .collect();
        Selection {
            envs: known.iter().filter(|e| envs.contains(e)).cloned().collect(),
            hosted,
            known,
            overlays: ws
                .overlays
                .iter()
                .map(|(env, o)| (o.file, env.clone()))
                // An overlay that could not be read is its environment's all the same.
                .chain(ws.unread.iter().map(|(env, file)| (*file, env.clone())))
                .collect(),
            platform_file: ws.platform_file,
            env_tables,
        }
    }

    /// Whether the run renders every environment.
    pub fn is_all(&self) -> bool {
        self.envs.is_empty()
    }

    /// How many environments the run renders.
    pub fn environments(&self) -> usize {
        if self.is_all() {
            self.known.len()
        } else {
            self.envs.len()
        }
    }

    /// How many clusters the run renders (the clusters of its environments).
    pub fn clusters(&self) -> usize {
        self.hosted
            .iter()
            .filter(|(_, on)| on.iter().any(|e| self.selects(e)))
            .count()
    }

    fn selects(&self, env: &str) -> bool {
        self.is_all() || self.envs.iter().any(|e| e == env)
    }

    /// The directories (and files) under `generated/` the run owns (`""`: all of it):
    /// the environments' directories and the files of their clusters, which are
    /// re-rendered whole (they cover every environment on the cluster).
    pub fn scopes(&self) -> Vec<String> {
        if self.is_all() {
            return vec![String::new()];
        }
        let mut scopes = self.envs.clone();
        for (cluster, on) in &self.hosted {
            if on.iter().any(|e| self.selects(e)) {
                scopes.push(format!("{}/{cluster}", render::argocd::DIR));
                scopes.push(format!("{}/{cluster}", render::CLUSTERS_DIR));
                scopes.push(format!("{}/{cluster}", render::VALUES_DIR));
                scopes.push(render::terraform::file(cluster));
            }
        }
        scopes
    }

    /// The run's diagnostics: every one when it renders everything; else its own and
    /// the platform's, and the errors of other environments (which still fail it),
    /// each with a note saying so. Warnings of other environments are dropped.
    pub fn apply(
        &self,
        diags: Vec<Diagnostic>,
        sources: &crate::source::Sources,
    ) -> Vec<Diagnostic> {
        if self.is_all() {
            return diags;
        }
        diags
            .into_iter()
            .filter_map(|d| match self.place(&d, sources) {
                Place::Envs(envs) if !envs.iter().any(|e| self.selects(e)) => {
                    d.is_error().then(|| {
                        let note = self.elsewhere(&envs);
                        d.note(note)
                    })
                }
                Place::Envs(_) => Some(self.narrowed(d)),
                Place::Platform => Some(d),
            })
            .collect()
    }

    /// `d` found in several environments (`generated/{dev,prod}/api/...`) as it is in
    /// those of the run (`generated/prod/api/...`).
    fn narrowed(&self, mut d: Diagnostic) -> Diagnostic {
        let Some(t) = d.target.as_mut() else {
            return d;
        };
        let prefix = format!("{GENERATED_DIR}/{{");
        let Some((list, rest)) = t.file.strip_prefix(&prefix).and_then(|r| r.split_once('}'))
        else {
            return d;
        };
        let kept: Vec<&str> = list.split(',').filter(|e| self.selects(e)).collect();
        t.file = match kept.as_slice() {
            [one] => format!("{GENERATED_DIR}/{one}{rest}"),
            many => format!("{GENERATED_DIR}/{{{}}}{rest}", many.join(",")),
        };
        d
    }

    /// [`Selection::apply`] to the diagnostics of an invalid run.
    pub fn mark(&self, e: crate::Error) -> crate::Error {
        match e {
            crate::Error::Invalid(mut inv) => {
                let diags = std::mem::take(&mut inv.diagnostics);
                inv.diagnostics = self.apply(diags, &inv.sources);
                crate::Error::Invalid(inv)
            }
            other => other,
        }
    }

    /// Whether the file at `path` under `generated/` is the run's, or the platform's.
    pub fn concerns_path(&self, path: &str) -> bool {
        match self.place_of_path(path) {
            Place::Platform => true,
            Place::Envs(envs) => envs.iter().any(|e| self.selects(e)),
        }
    }

    /// The note of an error in `envs`, none of which the run renders.
    fn elsewhere(&self, envs: &[String]) -> String {
        let list = envs
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let which = if envs.len() == 1 {
            format!("environment {list}, which this run does not render")
        } else {
            format!("environments {list}, which this run does not render")
        };
        format!("this is in {which}; kgen checks every environment and writes nothing while one has an error, so that generated/ stays consistent")
    }

    /// Where `d` is: the environments it says, else those of its generated file, of
    /// its overlay or hand-written manifest, else the platform.
    fn place(&self, d: &Diagnostic, sources: &crate::source::Sources) -> Place {
        if !d.envs.is_empty() {
            return Place::Envs(d.envs.clone());
        }
        if let Some(t) = &d.target {
            if let Some(path) = t.file.strip_prefix(&format!("{GENERATED_DIR}/")) {
                return self.place_of_path(path);
            }
        }
        let Some(origin) = &d.origin else {
            return Place::Platform;
        };
        if let Some(env) = self.overlays.get(&origin.file) {
            return Place::Envs(vec![env.clone()]);
        }
        // An environment's table of platform.toml.
        if origin.file == self.platform_file {
            let table = self
                .env_tables
                .iter()
                .find(|(_, at)| at.contains(&origin.span.start));
            if let Some((env, _)) = table {
                return Place::Envs(vec![env.clone()]);
            }
        }
        // A hand-written manifest: `manifests/<env>/...`, `manifests/clusters/<c>/...`.
        let display = &sources.get(origin.file).display;
        match display.strip_prefix("manifests/") {
            Some(rest) => self.place_of_path(rest),
            None => Place::Platform,
        }
    }

    /// Where a path under `generated/` (or `manifests/`) is: `<env>/...` (or
    /// `{dev,prod}/...`, a problem found in several), a cluster's files, or the
    /// platform's.
    fn place_of_path(&self, path: &str) -> Place {
        let (first, rest) = path.split_once('/').unwrap_or((path, ""));
        if let Some(list) = first.strip_prefix('{').and_then(|f| f.strip_suffix('}')) {
            return Place::Envs(list.split(',').map(str::to_string).collect());
        }
        if self.known.iter().any(|e| e == first) {
            return Place::Envs(vec![first.to_string()]);
        }
        let cluster = match first {
            _ if first == render::argocd::DIR
                || first == render::CLUSTERS_DIR
                || first == render::VALUES_DIR =>
            {
                rest.split('/').next()
            }
            _ if first == render::TERRAFORM_DIR => rest.strip_suffix(".json"),
            _ => None,
        };
        match cluster.and_then(|c| self.hosted.iter().find(|(name, _)| name == c)) {
            Some((_, on)) => Place::Envs(on.clone()),
            None => Place::Platform,
        }
    }
}
