//! The transaction that writes an edited overlay (or platform.toml), the changed files
//! of `generated/` and the commit, or puts every file back as it was.
//!
//! The transaction (`update`, shared with `kgen promote`) is ordered so that
//! nothing is ever half-done:
//! 1. take the checkout lock (`lock`), then load the workspace: the overlay is read
//!    *after* the lock, so a concurrent bump's update is never lost;
//! 2. edit the overlay text in memory (`overlay_edit`: only the value's bytes change);
//! 3. parse and compile the environment with the edited text: if anything is
//!    invalid, report it (located in the edited file) and write nothing;
//! 4. with `--commit`, check the git index before writing anything;
//! 5. write the overlay atomically (and remove the temporary files a killed run left
//!    next to it), then the changed files of `generated/<env>/`; if any of that
//!    fails, every file is put back as it was;
//! 6. commit exactly the changed files.

use std::path::{Path, PathBuf};

use super::images::{effective, repository};
use super::report::{commit_message, ServiceChange, Unchanged, Update};
use super::Kind;
use crate::compile::compile;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::git_commit;
use crate::overlay_edit::{self, Edit, EditError};
use crate::rules;
use crate::source::{Origin, Sources};
use crate::workspace::{InputFiles, Workspace, OVERLAY_DIR};
use crate::write;
/// The platform directory (where `overlays/`, `generated/` and the lock live).
pub(crate) fn platform_dir(platform: &Path) -> PathBuf {
    platform
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Turns an overlay edit error into a located diagnostic.
pub(crate) fn edit_error(e: EditError, display: &str, path: PathBuf, text: &str) -> Error {
    let mut sources = Sources::default();
    let file = sources.add(display.to_string(), path, text.to_string());
    let code = if e.syntax {
        rules::TOML_SYNTAX
    } else {
        rules::WRONG_TYPE
    };
    let d = Diagnostic::error(code, e.message).at(Origin::new(file, e.span.unwrap_or(0..0)));
    Error::invalid(vec![d], sources)
}

/// Files put back as they were when a later step fails.
#[derive(Default)]
struct Rollback {
    /// Path and original bytes (`None`: the file did not exist).
    saved: Vec<(PathBuf, Option<Vec<u8>>)>,
    generated: PathBuf,
}

impl Rollback {
    fn save(&mut self, path: PathBuf) -> Result<()> {
        let bytes = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        self.saved.push((path, bytes));
        Ok(())
    }

    /// Restores every saved file; returns a note on anything that could not be restored.
    fn restore(self) -> Option<String> {
        let mut failed = Vec::new();
        for (path, bytes) in self.saved.into_iter().rev() {
            let r = match &bytes {
                Some(b) => write::write_atomic(&path, b).err().map(|e| e.to_string()),
                None => match std::fs::remove_file(&path) {
                    Ok(()) => {
                        remove_empty_dirs(&self.generated, &path);
                        None
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => Some(format!("cannot remove {}: {e}", path.display())),
                },
            };
            failed.extend(r);
        }
        (!failed.is_empty()).then(|| failed.join("; "))
    }
}

/// Removes directories under `root` left empty by a rollback.
fn remove_empty_dirs(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// The `#:schema` line a new overlay starts with, so that editors keep completing
/// and checking it (docs/platform.md): the first line of the first overlay that has
/// one; else, when `overlay.schema.json` is next to platform.toml (`kgen schema
/// --overlay > overlay.schema.json`), a line pointing at it; else none.
fn schema_line(ws: &Workspace) -> String {
    let sibling = ws.overlays.values().find_map(|o| {
        let first = ws.sources.get(o.file).text.lines().next()?;
        first
            .starts_with("#:schema ")
            .then(|| format!("{}\n", first.trim_end()))
    });
    sibling.unwrap_or_else(|| {
        if ws.root.join("overlay.schema.json").is_file() {
            "#:schema ../overlay.schema.json\n".to_string()
        } else {
            String::new()
        }
    })
}

/// Applies `edits` to the overlay of `env` as one transaction (see the module doc).
/// The caller holds the checkout lock and loaded `ws` after taking it.
pub(crate) fn update(
    ws: &Workspace,
    env: &str,
    edits: &[Edit],
    unchanged: Vec<Unchanged>,
    kind: Kind<'_>,
    render: bool,
    commit: bool,
) -> Result<Update> {
    let display = format!("{OVERLAY_DIR}/{env}.toml");
    let overlay_path = ws.root.join(&display);
    let original: Option<&str> = ws
        .overlays
        .get(env)
        .map(|o| ws.sources.get(o.file).text.as_str());
    // A new overlay starts as its siblings do: with their `#:schema` line.
    let schema_line = if original.is_none() {
        schema_line(ws)
    } else {
        String::new()
    };
    let old_text = original.unwrap_or(&schema_line);

    let edited = overlay_edit::apply(old_text, edits)
        .map_err(|e| edit_error(e, &display, overlay_path.clone(), old_text))?;
    let mut result = Update {
        env: env.to_string(),
        overlay: display.clone(),
        overlay_created: original.is_none(),
        changes: Vec::new(),
        unchanged,
        files: Vec::new(),
        rendered: None,
        commit: None,
        warnings: Vec::new(),
        sources: ws.sources.clone(),
        left_behind: Vec::new(),
    };
    if !edited.changed() {
        result.overlay_created = false;
        return Ok(result);
    }

    // Compile the environment with the edited overlay, in memory.
    let mut overlays: Vec<(String, String, String)> = ws
        .overlays
        .iter()
        .filter(|(name, _)| name.as_str() != env)
        .map(|(name, o)| {
            let f = ws.sources.get(o.file);
            (name.clone(), f.display.clone(), f.text.clone())
        })
        .collect();
    overlays.push((env.to_string(), display.clone(), edited.text.clone()));
    overlays.sort();
    let pf = ws.sources.get(ws.platform_file);
    let files = InputFiles {
        platform: (pf.display.clone(), pf.text.clone()),
        overlays,
    };
    let mut new_ws = Workspace::parse(ws.root.clone(), files)?;
    crate::escape_hatch::files::carry_over(ws, &mut new_ws);
    let compiled = compile(&new_ws, &[env.to_string()])?;

    let mut seen = Vec::new();
    for a in &edited.applied {
        let key = (&a.service, &a.container);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let c = a.container.as_ref();
        result.changes.push(ServiceChange {
            service: a.service.clone(),
            container: a.container.clone(),
            before: effective(ws, env, &a.service, c),
            after: effective(&new_ws, env, &a.service, c),
            repository: repository(&new_ws, env, &a.service, c),
        });
    }
    result.warnings = compiled.run.warnings.clone();
    result.sources = new_ws.sources.clone();

    let written = write_edit(
        ws,
        &EditedInput {
            display: &display,
            path: overlay_path,
            text: &edited.text,
        },
        &compiled,
        render,
        commit,
        || commit_message(env, &result.changes, kind),
    )?;
    result.files = written.files;
    result.rendered = written.rendered;
    result.commit = written.commit;
    Ok(result)
}

/// An input file (an overlay, platform.toml) with its new text.
pub(crate) struct EditedInput<'a> {
    /// Relative to the platform directory: `overlays/dev.toml`, `platform.toml`.
    pub display: &'a str,
    pub path: PathBuf,
    pub text: &'a str,
}

/// What `write_edit` wrote and committed.
pub(crate) struct Written {
    /// Every file written or removed, relative to the platform directory, sorted.
    pub files: Vec<String>,
    /// What happened in `generated/` (None without `render`).
    pub rendered: Option<write::Outcome>,
    /// The commit made with `commit`.
    pub commit: Option<String>,
}

/// Writes an edited input file and (with `render`) the files of `compiled` that
/// differ from `generated/`, as one transaction, then (with `commit`) commits exactly
/// those files with `message()`. The git index is checked before anything is written;
/// if a write or the commit fails, every file is put back as it was. Shared by
/// `bump-image`, `promote` and `bump-chart`.
pub(crate) fn write_edit(
    ws: &Workspace,
    input: &EditedInput<'_>,
    compiled: &crate::compile::Compiled,
    render: bool,
    commit: bool,
    message: impl FnOnce() -> String,
) -> Result<Written> {
    let generated = ws.generated_dir();
    let comparison = if render {
        Some(write::compare(
            &generated,
            &compiled.tree,
            &compiled.run.scopes,
        )?)
    } else {
        None
    };
    // A manifest kgen did not write in a directory Argo CD deploys: refused as by
    // `kgen render` (KG307), before anything is written.
    if let Some(c) = comparison.as_ref().filter(|c| !c.foreign.is_empty()) {
        return Err(crate::ops::render::foreign_files(
            ws,
            c,
            compiled.run.warnings.clone(),
        ));
    }
    let mut files = vec![input.display.to_string()];
    if let Some(c) = &comparison {
        for rel in c.missing.iter().chain(&c.stale).chain(&c.extra) {
            files.push(format!("{}/{rel}", crate::workspace::GENERATED_DIR));
        }
    }
    files.sort();
    files.dedup();

    // Refuse to commit before anything is written.
    let prepared = if commit {
        Some(git_commit::prepare(&ws.root, &files)?)
    } else {
        None
    };

    let mut rollback = Rollback {
        generated: generated.clone(),
        ..Rollback::default()
    };
    rollback.save(input.path.clone())?;
    if let Some(c) = &comparison {
        for rel in c.missing.iter().chain(&c.stale).chain(&c.extra) {
            rollback.save(generated.join(rel))?;
        }
    }
    let fail = |rollback: Rollback, e: Error| -> Error {
        match rollback.restore() {
            // Every file is back as it was: generated/ is not partly updated.
            None => match e {
                Error::PartlyWritten { error, .. } => *error,
                e => e,
            },
            Some(note) => Error::Other(format!(
                "{e}; restoring the previous files also failed ({note}): check `git status`"
            )),
        }
    };

    if let Err(e) = write::write_atomic(&input.path, input.text.as_bytes()) {
        return Err(fail(rollback, e));
    }
    if let Some(dir) = input.path.parent() {
        // A run killed between writing the new file and renaming it left its
        // temporary file here.
        write::remove_abandoned_temp_files_in(dir);
    }
    let mut written = Written {
        files: Vec::new(),
        rendered: None,
        commit: None,
    };
    if let Some(c) = &comparison {
        match write::apply(&generated, &compiled.tree, c) {
            Ok(outcome) => written.rendered = Some(outcome),
            Err(e) => return Err(fail(rollback, e)),
        }
    }
    written.files = files;
    if let Some(prepared) = prepared {
        match prepared.commit(&message()) {
            Ok(oid) => written.commit = oid,
            Err(e) => return Err(fail(rollback, e)),
        }
    }
    Ok(written)
}
