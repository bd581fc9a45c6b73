//! Reading the escape hatch's files into a workspace: every file under `manifests/`
//! next to platform.toml, and the YAML patch files that `patches.<name>.file` names.
//!
//! The same reading works on the working tree ([`DiskReader`]: only regular files
//! whose real path is inside the platform directory, at most
//! [`workspace::MAX_FILE_SIZE`] bytes each, symbolic links to directories not
//! followed) and on a commit (`kgen diff --head <ref>`, through [`Reader`]), so what
//! is rendered from a ref is what is rendered from a checkout of it. The texts join the
//! workspace's sources, so diagnostics point into them. Nothing is interpreted here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::source::FileId;
use crate::workspace::{self, Workspace};

use super::{ALL_ENVIRONMENTS, MANIFESTS_DIR};

/// Most files read under `manifests/` in one run.
pub const MAX_FILES: usize = 10_000;

/// The escape hatch's input files of a workspace, already in its sources.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Files under `manifests/`: path relative to the platform directory
    /// (`manifests/prod/api/vpa.yaml`) and their id, sorted by path.
    pub manifests: Vec<(String, FileId)>,
    /// Patch files named by `file = ...`, by path as written (normalised).
    pub patch_files: BTreeMap<String, FileId>,
    /// Only these top-level directories of `manifests/` were read (the plugin reads
    /// `_all/` and its environment's); `None`: all of them.
    pub only: Option<BTreeSet<String>>,
}

/// Where the files come from: the working tree or a commit.
pub trait Reader {
    /// Every regular file under `dir` (relative to the platform directory),
    /// recursively, as paths relative to the platform directory. A missing
    /// directory has none.
    fn list(&self, dir: &str) -> Result<Vec<String>>;
    /// The text of a file (relative to the platform directory); `None` when there is
    /// no such regular file.
    fn read(&self, rel: &str) -> Result<Option<String>>;
}

/// Files of the working tree, under the platform directory `root`.
pub struct DiskReader {
    pub root: PathBuf,
    /// `root`, symbolic links resolved: no file outside it is read.
    pub real_root: PathBuf,
}

impl DiskReader {
    pub fn new(root: &Path) -> Result<DiskReader> {
        let real_root = root
            .canonicalize()
            .map_err(|e| Error::io("read", root, e))?;
        Ok(DiskReader {
            root: root.to_path_buf(),
            real_root,
        })
    }

    fn walk(&self, dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(()),
            Err(e) => return Err(Error::io("list", dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let ft = entry.file_type().map_err(|e| Error::io("list", dir, e))?;
            let child = format!("{rel}/{name}");
            if ft.is_dir() {
                self.walk(&entry.path(), &child, out)?;
            } else if ft.is_file() || (ft.is_symlink() && entry.path().is_file()) {
                out.push(child);
            }
            if out.len() > MAX_FILES {
                return Err(Error::Usage(format!(
                    "{MANIFESTS_DIR}/ holds more than {MAX_FILES} files, kgen's limit; see docs/escape-hatch.md"
                )));
            }
        }
        Ok(())
    }
}

impl Reader for DiskReader {
    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.walk(&self.root.join(dir), dir, &mut out)?;
        out.sort();
        Ok(out)
    }

    fn read(&self, rel: &str) -> Result<Option<String>> {
        let path = self.root.join(rel);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => workspace::read_input(&self.real_root, &path).map(Some),
            _ => Ok(None),
        }
    }
}

/// A relative path that stays inside the platform directory (no `..`, not absolute),
/// normalised (`./a//b` is `a/b`); `None` otherwise.
pub fn inside(rel: &str) -> Option<String> {
    let p = Path::new(rel);
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?.to_string()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Every `file = ...` of every patch of every layer, normalised, that stays inside
/// the platform directory (others are reported when the patch is resolved).
fn patch_file_names(ws: &Workspace) -> BTreeSet<String> {
    patch_files_of(ws, ws.overlays.keys().map(String::as_str))
}

/// The patch files of platform.toml's layers and of the overlays of `envs`,
/// normalised, inside the platform directory.
pub fn patch_files_of<'a>(ws: &Workspace, envs: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let p = &ws.platform;
    let layers = p
        .defaults
        .iter()
        .map(|d| &d.value)
        .chain(p.services.values().map(|s| &*s.value))
        .chain(
            envs.filter_map(|env| ws.overlays.get(env))
                .flat_map(|o| o.data.services.values().map(|s| &*s.value)),
        );
    layers
        .flat_map(|l| l.patches.values())
        .filter_map(|patch| patch.value.file.as_ref())
        .filter_map(|f| inside(&f.value))
        .collect()
}

/// Every path the plugin reads to render `env` (`kgen cmp generate`), relative to the
/// platform directory: platform.toml, the environment's overlay (whether it exists yet
/// or not), the directories of `manifests/` it reads ([`plugin_dirs`]), the patch files
/// of its layers and the `[manifests] schema_dirs`. Argo CD refreshes an application
/// when a commit touches one of them (`argocd.argoproj.io/manifest-generate-paths`).
pub fn plugin_reads(ws: &Workspace, env: &str) -> Vec<String> {
    let mut out = vec![
        ws.sources.get(ws.platform_file).display.clone(),
        format!("{}/{env}.toml", workspace::OVERLAY_DIR),
    ];
    out.extend(plugin_dirs(env).map(|d| format!("{MANIFESTS_DIR}/{d}")));
    out.extend(patch_files_of(ws, std::iter::once(env)));
    if let Some(section) = &ws.platform.manifests {
        out.extend(
            section
                .value
                .schema_dirs
                .iter()
                .flat_map(|l| &l.value)
                .filter_map(|d| inside(&d.value)),
        );
    }
    let mut seen = BTreeSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}

/// Reads the escape hatch's files into `ws` (its sources and `escape_hatch`).
/// `only`: read only these top-level directories of `manifests/`.
pub fn read(ws: &mut Workspace, reader: &dyn Reader, only: Option<&[&str]>) -> Result<()> {
    let mut inputs = Inputs::default();
    let dirs: Vec<String> = match only {
        Some(list) => list
            .iter()
            .map(|d| format!("{MANIFESTS_DIR}/{d}"))
            .collect(),
        None => vec![MANIFESTS_DIR.to_string()],
    };
    inputs.only = only.map(|l| l.iter().map(|s| s.to_string()).collect());
    let mut names = Vec::new();
    for d in &dirs {
        names.extend(reader.list(d)?);
    }
    if names.len() > MAX_FILES {
        return Err(Error::Usage(format!(
            "{MANIFESTS_DIR}/ holds more than {MAX_FILES} files, kgen's limit; see docs/escape-hatch.md"
        )));
    }
    names.sort();
    names.dedup();
    for rel in names {
        if !super::manifests::is_read(&rel) {
            // A README or another file kgen does not read (reported as a place
            // problem when it is a `.json` manifest).
            if !rel.ends_with(".json") {
                continue;
            }
        }
        let Some(text) = reader.read(&rel)? else {
            continue;
        };
        let id = ws.sources.add(rel.clone(), ws.root.join(&rel), text);
        inputs.manifests.push((rel, id));
    }
    for rel in patch_file_names(ws) {
        if let Some(text) = reader.read(&rel)? {
            let id = ws.sources.add(rel.clone(), ws.root.join(&rel), text);
            inputs.patch_files.insert(rel, id);
        }
    }
    ws.escape_hatch = inputs;
    Ok(())
}

/// The directories the plugin reads for `env`: every environment's, and its own.
pub fn plugin_dirs(env: &str) -> [&str; 2] {
    [ALL_ENVIRONMENTS, env]
}

/// Copies the escape hatch's files of `from` into `to` (a workspace parsed again
/// from edited texts, as `bump-image` does).
pub fn carry_over(from: &Workspace, to: &mut Workspace) {
    let mut inputs = Inputs {
        only: from.escape_hatch.only.clone(),
        ..Inputs::default()
    };
    for (rel, id) in &from.escape_hatch.manifests {
        let f = from.sources.get(*id);
        let new = to
            .sources
            .add(f.display.clone(), f.path.clone(), f.text.clone());
        inputs.manifests.push((rel.clone(), new));
    }
    for (rel, id) in &from.escape_hatch.patch_files {
        let f = from.sources.get(*id);
        let new = to
            .sources
            .add(f.display.clone(), f.path.clone(), f.text.clone());
        inputs.patch_files.insert(rel.clone(), new);
    }
    to.escape_hatch = inputs;
}

/// Files of a commit, for `kgen diff --head <ref>`: `dir` is the platform
/// directory inside the repository.
pub struct GitReader<'a> {
    pub git: &'a crate::git_ref::GitRepo,
    pub commit: &'a str,
    pub dir: &'a str,
}

impl Reader for GitReader<'_> {
    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let listed = self
            .git
            .list_files(self.commit, &crate::git_ref::join(self.dir, dir))?;
        if listed.len() > MAX_FILES {
            return Err(Error::Usage(format!(
                "{MANIFESTS_DIR}/ holds more than {MAX_FILES} files, kgen's limit; see docs/escape-hatch.md"
            )));
        }
        Ok(listed
            .into_keys()
            .filter(|p| !p.split('/').any(|s| s.starts_with('.')))
            .map(|p| format!("{dir}/{p}"))
            .collect())
    }

    fn read(&self, rel: &str) -> Result<Option<String>> {
        let text = self
            .git
            .read_text(self.commit, &crate::git_ref::join(self.dir, rel))?;
        if let Some(t) = &text {
            if t.len() as u64 > workspace::MAX_FILE_SIZE {
                return Err(Error::Usage(format!(
                    "{rel} is larger than {} MiB, kgen's limit for an input file",
                    workspace::MAX_FILE_SIZE / (1024 * 1024)
                )));
            }
        }
        Ok(text)
    }
}
