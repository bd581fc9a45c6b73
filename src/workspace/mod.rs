//! Loading a platform: `platform.toml` and `overlays/<env>.toml`, parsed with spans.
//!
//! A `Workspace` is what every command works on (like cargo's): the platform
//! directory, the source texts, and the parsed input files. It can be loaded from
//! disk or from in-memory texts (a git ref for `kgen diff`, a test).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::error::{Error, Result};
use crate::input::{OverlayFile, PlatformFile};
use crate::input_check::{self, LeftOut};
use crate::source::{FileId, Origin, Sources};
use crate::{rules, secret_scan};

mod newlines;
mod secret_remedy;
mod toml_errors;

use toml_errors::{name_the_type, toml_diagnostic, toml_error_diagnostic};

/// Name of the directory holding overlays, next to platform.toml.
pub const OVERLAY_DIR: &str = "overlays";
/// Name of the output directory, next to platform.toml.
pub const GENERATED_DIR: &str = "generated";
/// The platform file kgen looks for when `--platform` is not given.
pub const PLATFORM_FILE: &str = "platform.toml";

/// Largest input file (platform.toml or an overlay), in bytes. Larger files are
/// refused before they are read in full.
pub const MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;
/// Most services a platform may declare.
pub const MAX_SERVICES: usize = 5_000;
/// Most environments a platform may declare.
pub const MAX_ENVIRONMENTS: usize = 100;
/// Most service × environment pairs (each renders about seven files).
pub const MAX_INSTANCES: usize = 20_000;

/// The input texts of a platform, before parsing.
#[derive(Debug, Clone)]
pub struct InputFiles {
    /// Display name of the platform file (usually `platform.toml`) and its text.
    pub platform: (String, String),
    /// Overlays: environment name (file stem), display path, text.
    pub overlays: Vec<(String, String, String)>,
}

#[derive(Debug, Clone)]
pub struct Overlay {
    pub file: FileId,
    pub data: OverlayFile,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    /// Directory that holds platform.toml.
    pub root: PathBuf,
    pub sources: Sources,
    pub platform_file: FileId,
    pub platform: PlatformFile,
    /// Overlays by environment name.
    pub overlays: BTreeMap<String, Overlay>,
    /// The hand-written manifests under `manifests/` and the patch files, read by
    /// [`Workspace::load`] (and by `kgen diff` from a commit, and the plugin): see
    /// `escape_hatch::files`. Empty after [`Workspace::parse`] alone.
    pub escape_hatch: crate::escape_hatch::files::Inputs,
    /// What reading found that does not stop resolving: [`Workspace::parse`]
    /// resolves the input when it holds errors (a secret-looking literal, a mistyped
    /// or unknown key, an overlay naming an unknown service or environment) and fails
    /// with those and resolving's own, so that one run shows every mistake; what is
    /// left here when it succeeds are warnings, which `resolve` reports.
    pub deferred: Vec<Diagnostic>,
    /// What reading left out of each file: mistaken keys and values (and the tables
    /// that held them), and secret-looking values. What `resolve` finds there follows
    /// from those errors and is not reported again ([`LeftOut::hides`]).
    pub left_out: BTreeMap<FileId, LeftOut>,
    /// The environments whose overlay could not be read (a TOML syntax error, a
    /// required key missing): with their errors, the others are resolved for what
    /// else to report, and these are not, since their settings are not known.
    pub unread: BTreeMap<String, FileId>,
}

impl Workspace {
    /// Reads `platform` (a platform.toml) and every `overlays/*.toml` next to it.
    ///
    /// Symbolic links are followed only inside the platform directory (the real
    /// path of the directory holding `platform`): a platform file or overlay whose
    /// real path is elsewhere is refused, so a committed link cannot make kgen read
    /// (and echo in an error) a file outside the repository.
    pub fn load(platform: &Path) -> Result<Workspace> {
        Workspace::load_for(platform, &[])
    }

    /// [`load`](Self::load) for a run of the environments `envs` (all when empty): an
    /// environment platform.toml does not define is a usage error, even when reading
    /// found errors (they would hide it), as long as platform.toml could be read.
    pub fn load_for(platform: &Path, envs: &[String]) -> Result<Workspace> {
        crate::stages::time(crate::stages::Stage::Load, || {
            Workspace::load_untimed(platform, envs)
        })
    }

    fn load_untimed(platform: &Path, envs: &[String]) -> Result<Workspace> {
        let root = platform
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        // A directory that does not exist: the platform file is what is missing.
        let real_root = root.canonicalize().map_err(|e| {
            let shown = if e.kind() == std::io::ErrorKind::NotFound {
                platform
            } else {
                &root
            };
            Error::io("read", shown, e)
        })?;
        let text = read_input(&real_root, platform)?;
        let display = platform
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "platform.toml".into());
        let overlays = read_overlays(&real_root, &root.join(OVERLAY_DIR))?;
        let mut ws = Workspace::parse_leniently(
            root.clone(),
            InputFiles {
                platform: (display, text),
                overlays,
            },
        )?;
        let known = ws.environment_names();
        if let Some(unknown) = envs.iter().find(|e| !known.contains(&e.as_str())) {
            return Err(crate::resolve::unknown_environment(unknown, &known));
        }
        let read = crate::escape_hatch::files::DiskReader::new(&root)
            .and_then(|reader| crate::escape_hatch::files::read(&mut ws, &reader, None));
        // With reading errors, the escape hatch's own checks run with them (see
        // `reading_errors`), unless its files could not be read.
        if read.is_err() {
            ws.escape_hatch = Default::default();
        }
        // Under `--env`, the errors of other environments say so (as `compile` does).
        let selection = crate::selection::Selection::new(&ws, None, envs);
        let mut ws = ws
            .reading_errors(read.is_ok())
            .map_err(|e| selection.mark(e))?;
        read?;
        ws.deferred
            .extend(crate::repo_path::repo_path_warning(&ws, &real_root));
        Ok(ws)
    }

    /// Parses input texts. `root` is where `generated/` lives.
    pub fn parse(root: PathBuf, files: InputFiles) -> Result<Workspace> {
        Workspace::parse_leniently(root, files)?.reading_errors(false)
    }

    /// Parses the input texts of one environment (`files` holds its overlay, if any)
    /// and reads the escape hatch's files with `read_hatch`, for the Argo CD plugin.
    /// With reading errors, what else is reported comes from `env` alone, the
    /// escape hatch's errors included, as [`load`](Self::load) reports it for every
    /// environment.
    pub fn parse_environment(
        root: PathBuf,
        files: InputFiles,
        env: Option<&str>,
        read_hatch: impl FnOnce(&mut Workspace) -> Result<()>,
    ) -> Result<Workspace> {
        let mut ws = Workspace::parse_leniently(root, files)?;
        let read = read_hatch(&mut ws);
        if read.is_err() {
            ws.escape_hatch = Default::default();
        }
        // An environment platform.toml does not define is the caller's error to
        // report; the reading errors then come with what all environments show.
        let only: Vec<String> = env
            .filter(|e| ws.environment_names().contains(e))
            .map(str::to_string)
            .into_iter()
            .collect();
        // What reading found in another environment's table of platform.toml is not
        // this environment's (docs/argocd-cmp.md): that environment is not resolved.
        if let [env] = only.as_slice() {
            let platform_file = ws.platform_file;
            let tables = ws.environment_tables();
            ws.deferred.retain(|d| {
                d.origin
                    .as_ref()
                    .filter(|o| o.file == platform_file)
                    .and_then(|o| tables.iter().find(|(_, at)| at.contains(&o.span.start)))
                    .is_none_or(|(e, _)| e == env)
            });
        }
        let ws = ws.reading_errors_of(&only, read.is_ok())?;
        read?;
        Ok(ws)
    }

    /// The workspace, or its reading errors with what resolving what could be read
    /// finds (so that one run shows them all), and with `hatch`, what the escape
    /// hatch finds in the parts of the platform no error is in
    /// (`compile::add_clean_errors`).
    fn reading_errors(self, hatch: bool) -> Result<Workspace> {
        self.reading_errors_of(&[], hatch)
    }

    /// [`reading_errors`](Self::reading_errors), resolving only the environments
    /// `only` (all when empty) for what else to report: the Argo CD plugin reads one
    /// environment's overlay, and the others, resolved without theirs, would show
    /// mistakes that are not there (a tag that only their overlay sets).
    fn reading_errors_of(self, only: &[String], hatch: bool) -> Result<Workspace> {
        if !self.deferred.iter().any(Diagnostic::is_error) {
            return Ok(self);
        }
        // The environments whose overlay could not be read are not resolved: what
        // their overlay sets is not known.
        let mut only = only.to_vec();
        let known = self.environment_names();
        if known.iter().any(|e| self.unread.contains_key(*e)) {
            if only.is_empty() {
                only = known.iter().map(|e| e.to_string()).collect();
            }
            only.retain(|e| !self.unread.contains_key(e));
            if only.is_empty() {
                return Err(Error::invalid_input(
                    self.deferred.clone(),
                    self.sources.clone(),
                ));
            }
        }
        Err(match crate::resolve::resolve_partial(&self, &only) {
            Err((e, partial)) if hatch => crate::compile::add_clean_errors(&self, e, partial),
            Err((e, _)) => e,
            Ok(_) => Error::invalid_input(self.deferred.clone(), self.sources.clone()),
        })
    }

    /// [`Workspace::parse`], keeping the reading errors (`deferred`) in the workspace.
    fn parse_leniently(root: PathBuf, files: InputFiles) -> Result<Workspace> {
        // Texts that did not come through `load` (a git ref, a test) get the same limit.
        let texts = std::iter::once(&files.platform)
            .map(|(d, t)| (d, t))
            .chain(files.overlays.iter().map(|(_, d, t)| (d, t)));
        for (display, text) in texts {
            if text.len() as u64 > MAX_FILE_SIZE {
                return Err(too_large(display));
            }
        }
        let mut sources = Sources::default();
        let mut diags = Vec::new();
        let (pdisplay, ptext) = files.platform;
        let platform_file = sources.add(pdisplay.clone(), root.join(&pdisplay), ptext);
        let mut overlay_files = Vec::new();
        for (env, display, text) in files.overlays {
            overlay_files.push((env, sources.add(display.clone(), root.join(&display), text)));
        }
        // Each file is parsed once (in parallel), keeping spans. Secrets are looked
        // for first: each value refused is recorded in `sources`, so that no later
        // message or snippet of the run can echo it (the edge masks it everywhere),
        // and the other mistakes are still reported in the same run.
        use rayon::prelude::*;
        let all_files: Vec<FileId> = std::iter::once(platform_file)
            .chain(overlay_files.iter().map(|f| f.1))
            .collect();
        let sources_ref = &sources;
        let mut parsed: Vec<_> = all_files
            .par_iter()
            .map(|&file| {
                let text = &sources_ref.get(file).text;
                let mut doc = toml::de::DeTable::parse(text);
                // CRLF in multi-line strings read as LF: the same bytes on Windows.
                if let (Ok(doc), true) = (&mut doc, text.contains('\r')) {
                    newlines::crlf_to_lf(text, doc.get_mut());
                }
                doc
            })
            .collect();
        let remedies = {
            let doc = |i: usize| parsed[i].as_ref().ok().map(|d| d.get_ref());
            let overlays: Vec<(&str, _)> = overlay_files
                .iter()
                .enumerate()
                .map(|(i, (env, _))| (env.as_str(), doc(i + 1)))
                .collect();
            let (all, each) = secret_remedy::remedies(doc(0), &overlays);
            std::iter::once(all).chain(each).collect::<Vec<_>>()
        };
        let secrets: Vec<Diagnostic> = all_files
            .par_iter()
            .zip(&parsed)
            .zip(&remedies)
            .flat_map_iter(|((&file, doc), &remedy)| {
                let found = match doc {
                    Ok(doc) => secret_scan::scan_document(doc.get_ref()),
                    Err(_) => Vec::new(),
                };
                found.into_iter().map(move |f| {
                    let remedy = secret_remedy::remedy_at(&f.path, remedy);
                    secret_diagnostic(file, f, remedy)
                })
            })
            .collect();
        // Each refused value as written, as read (a TOML string's escapes decoded),
        // and as a message would quote it (`{:?}`), line by line too; and its place,
        // where no other rule is to report anything (its own error says it all).
        let mut refused = Vec::new();
        let mut secret_places = Vec::new();
        for d in &secrets {
            if let Some(o) = &d.origin {
                secret_places.push(o.clone());
                if let Some(raw) = sources.get(o.file).text.get(o.span.clone()) {
                    refused.push(raw.to_string());
                    if let Ok(t) = format!("v = {raw}").parse::<toml::Table>() {
                        if let Some(v) = t.get("v").and_then(toml::Value::as_str) {
                            refused.push(v.to_string());
                            refused.push(format!("{v:?}"));
                            refused.extend(v.lines().map(str::to_string));
                        }
                    }
                }
            }
        }
        let mut deferred = secrets;
        let overlay_docs = parsed.split_off(1);
        let platform_doc = parsed.pop().expect("the platform file was parsed");
        let (platform, overlays_read) = rayon::join(
            || {
                let mut d = Vec::new();
                let (p, left_out): (Option<PlatformFile>, _) =
                    read_toml(sources_ref, platform_file, platform_doc, &mut d);
                (p, d, left_out)
            },
            || {
                overlay_files
                    .par_iter()
                    .zip(overlay_docs)
                    .map(|((env, id), doc)| {
                        let mut d = Vec::new();
                        let (data, left_out) =
                            read_toml::<OverlayFile>(sources_ref, *id, doc, &mut d);
                        (env.clone(), *id, data, d, left_out)
                    })
                    .collect::<Vec<_>>()
            },
        );
        let (platform, platform_diags, platform_left_out) = platform;
        let mut left_out = BTreeMap::from([(platform_file, platform_left_out)]);
        diags.extend(platform_diags);
        let mut overlays = BTreeMap::new();
        let mut unread = BTreeMap::new();
        for (env, id, data, mut d, l) in overlays_read {
            overlay_baseline_help(&mut d, &sources, &env);
            diags.extend(d);
            left_out.insert(id, l);
            match data {
                Some(data) => {
                    overlays.insert(env, Overlay { file: id, data });
                }
                None => {
                    unread.insert(env, id);
                }
            }
        }
        // Where a secret-looking value is written, in any file, nothing else is
        // reported: its own error says it all.
        for o in secret_places {
            left_out.entry(o.file).or_default().entries.push(o.span);
        }

        // The parsed documents borrowed the texts until here.
        for value in &refused {
            sources.add_secret(value);
        }
        let Some(platform) = platform else {
            diags.extend(deferred);
            return Err(Error::invalid_input(diags, sources));
        };
        let mut too_big = Vec::new();
        check_sizes(&platform, platform_file, &mut too_big);
        check_overlay_names(&platform, &overlays, &sources, &mut deferred);
        // An oversized platform is not resolved. Otherwise the files, read without
        // their mistaken keys and values, go on, and those errors with the others;
        // the environments of the overlays that could not be read are left out.
        let stop = !too_big.is_empty();
        diags.extend(too_big);
        if stop {
            diags.extend(deferred);
            return Err(Error::invalid_input(diags, sources));
        }
        diags.append(&mut deferred);
        narrow_addon_keys(&platform, platform_file, &overlays, &sources, &mut diags);
        cluster_vars_help(
            &mut diags,
            &sources,
            platform_file,
            left_out.get(&platform_file),
        );
        let deferred = diags;
        let ws = Workspace {
            root,
            sources,
            platform_file,
            platform,
            overlays,
            escape_hatch: Default::default(),
            deferred,
            left_out,
            unread,
        };
        Ok(ws)
    }

    pub fn generated_dir(&self) -> PathBuf {
        self.root.join(GENERATED_DIR)
    }

    /// Environment names in platform.toml, sorted.
    pub fn environment_names(&self) -> Vec<&str> {
        self.platform
            .environments
            .keys()
            .map(|k| k.value.as_str())
            .collect()
    }

    /// Where each environment's tables are in platform.toml, as byte ranges: from a
    /// header `[environments.<env>...]` to the next header (the header's line
    /// included, so that an error at it is in its table), and `<env>`'s inline table
    /// under `[environments]`. A header names its environment even when its table
    /// could not be read. What tells which environment a reading error concerns.
    pub fn environment_tables(&self) -> Vec<(String, Range<usize>)> {
        let text = &self.sources.get(self.platform_file).text;
        let mut out = Vec::new();
        let mut open: Option<(String, usize)> = None;
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if let Some(key) = crate::resolve::header_key(line) {
                if let Some((env, start)) = open.take() {
                    out.push((env, start..offset));
                }
                if let [t, env, ..] = key.as_slice() {
                    if t == "environments" {
                        open = Some((env.clone(), offset));
                    }
                }
            }
            offset += line.len();
        }
        if let Some((env, start)) = open {
            out.push((env, start..text.len()));
        }
        let inline = self
            .platform
            .environments
            .iter()
            .filter(|(_, v)| !out.iter().any(|(_, r)| r.contains(&v.span.start)))
            .map(|(k, v)| (k.value.clone(), v.span.clone()))
            .collect::<Vec<_>>();
        out.extend(inline);
        out
    }

    /// Service names in platform.toml, sorted.
    pub fn service_names(&self) -> Vec<&str> {
        self.platform
            .services
            .keys()
            .map(|k| k.value.as_str())
            .collect()
    }
}

/// Reads an input file: a regular file whose real path is inside `real_root`, at
/// most [`MAX_FILE_SIZE`] bytes of UTF-8. Anything else at `path` (a dangling link, a
/// directory, a FIFO, a device) is an error: an input file is never silently skipped.
pub fn read_input(real_root: &Path, path: &Path) -> Result<String> {
    use std::io::Read as _;
    // Named as the user would: `overlays/dev.toml`, not `./overlays/dev.toml`.
    let shown = path.strip_prefix(".").unwrap_or(path);
    let real = match path.canonicalize() {
        Ok(real) => real,
        Err(e) => {
            if let Ok(target) = std::fs::read_link(path) {
                return Err(Error::BadInput {
                    path: shown.to_path_buf(),
                    message: format!(
                        "{} is a symbolic link to {}, which does not exist",
                        shown.display(),
                        target.display()
                    ),
                });
            }
            return Err(Error::io("read", shown, e));
        }
    };
    if !real.starts_with(real_root) {
        return Err(Error::BadInput {
            path: shown.to_path_buf(),
            message: format!(
                "{} is a symbolic link to {}, outside the platform directory {}; kgen reads only files inside it",
                shown.display(),
                real.display(),
                real_root.display()
            ),
        });
    }
    // Looked at before opening: opening a FIFO for reading would wait for a writer.
    let meta = std::fs::metadata(&real).map_err(|e| Error::io("read", shown, e))?;
    if !meta.is_file() {
        return Err(not_a_regular_file(shown, &meta));
    }
    let file = open_for_reading(&real).map_err(|e| Error::io("read", shown, e))?;
    let meta = file.metadata().map_err(|e| Error::io("read", shown, e))?;
    if !meta.is_file() {
        return Err(not_a_regular_file(shown, &meta));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", shown, e))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large(&shown.display().to_string()));
    }
    decode(&shown.display().to_string(), bytes)
}

/// Decodes the bytes of the input file `display` as UTF-8. Text that is not UTF-8 is
/// invalid input located at its first bad byte (`file:line:column`, in every message
/// format), with what to do about it: UTF-16 (a byte-order mark, or NUL bytes, as
/// some Windows editors save) is named as such.
pub fn decode(display: &str, bytes: Vec<u8>) -> Result<String> {
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e.into_bytes(),
    };
    let utf16 = bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0xFE, 0xFF])
        || bytes.iter().take(1024).any(|&b| b == 0);
    let error = std::str::from_utf8(&bytes).err();
    let (offset, message, help) = if utf16 {
        (
            0,
            format!("{display} is UTF-16 text; kgen reads UTF-8"),
            "save the file as UTF-8 (in most editors: \"Save with encoding\" → UTF-8; or `iconv -f UTF-16 -t UTF-8`)",
        )
    } else {
        let at = error.map_or(0, |e| e.valid_up_to());
        (
            at,
            format!(
                "{display} is not valid UTF-8: byte 0x{:02X} does not start or continue a character",
                bytes.get(at).copied().unwrap_or(0)
            ),
            "save the file as UTF-8 (kgen reads UTF-8 only; a Latin-1 or Windows-1252 file has such bytes in accented letters and symbols)",
        )
    };
    // The text shown is the valid prefix and the rest with each bad byte replaced,
    // so the line and column of `offset` are those of the file.
    let text = if utf16 {
        String::new()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let mut sources = Sources::default();
    let file = sources.add(display.to_string(), PathBuf::from(display), text);
    let d = Diagnostic::error(rules::TOML_SYNTAX, message)
        .at(Origin::new(file, offset..offset + usize::from(!utf16)))
        .label("not UTF-8")
        .help(help);
    Err(Error::invalid(vec![d], sources))
}

/// Reads the overlay at `path` (`overlays/<env>.toml`) with [`read_input`]: `None`
/// when nothing is there, an error when something is there but is not a readable
/// regular file inside the platform directory (a dangling link, a FIFO, a directory).
/// Every command that reads overlays from disk reads them through this function, so
/// that no command renders an environment without an overlay that exists.
pub fn read_overlay(real_root: &Path, path: &Path) -> Result<Option<String>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
        Ok(_) => read_input(real_root, path).map(Some),
    }
}

/// Opens `path` for reading without blocking on a FIFO swapped in after the check.
fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The error for an input path that is not a regular file.
fn not_a_regular_file(path: &Path, meta: &std::fs::Metadata) -> Error {
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            if ft.is_fifo() {
                "a FIFO (named pipe)"
            } else if ft.is_socket() {
                "a socket"
            } else if ft.is_block_device() || ft.is_char_device() {
                "a device"
            } else {
                "not a regular file"
            }
        }
        #[cfg(not(unix))]
        {
            "not a regular file"
        }
    };
    Error::BadInput {
        path: path.to_path_buf(),
        message: format!(
            "{} is {what}, not a regular file; kgen reads only regular files as input",
            path.display()
        ),
    }
}

/// The error for an input file larger than [`MAX_FILE_SIZE`].
fn too_large(display: &str) -> Error {
    Error::Usage(format!(
        "{display} is larger than {} MiB, kgen's limit for an input file\n  help: split the platform into several platform directories, each with its own platform.toml (see docs/security.md#limits)",
        MAX_FILE_SIZE / (1024 * 1024)
    ))
}

/// Lists `dir/*.toml` as (stem, display path, text), sorted by name, each read with
/// [`read_overlay`]. A missing directory is fine; a `*.toml` entry that is not a
/// readable regular file (a directory, a FIFO, a dangling link) is an error.
fn read_overlays(real_root: &Path, dir: &Path) -> Result<Vec<(String, String, String)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(text) = read_overlay(real_root, &path)? {
            out.push((stem.clone(), format!("{OVERLAY_DIR}/{stem}.toml"), text));
        }
    }
    out.sort();
    Ok(out)
}

/// The error for a secret-looking string found by `secret_scan::scan_toml`.
fn secret_diagnostic(
    file: FileId,
    found: secret_scan::Located,
    remedy: secret_scan::Remedy,
) -> Diagnostic {
    Diagnostic::error(
        rules::SECRET_LITERAL,
        format!(
            "`{}` looks like it holds a secret ({}); kgen refuses secrets in plain text",
            found.key, found.finding.what
        ),
    )
    .at(Origin::new(file, found.span))
    .redacted()
    .label("secret-looking value")
    .help(remedy.help())
}

/// Reads one parsed TOML file into `T`, turning a syntax error, or every unknown
/// key, wrong type and missing key (`input_check`), into located diagnostics; also
/// what reading left out to go on (see `input_check::repaired`).
fn read_toml<'i, T: serde::de::DeserializeOwned + schemars::JsonSchema>(
    sources: &Sources,
    file: FileId,
    doc: std::result::Result<toml::Spanned<toml::de::DeTable<'i>>, toml::de::Error>,
    diags: &mut Vec<Diagnostic>,
) -> (Option<T>, LeftOut) {
    let text = &sources.get(file).text;
    let error = match doc {
        Ok(doc) => match T::deserialize(toml::de::Deserializer::from(doc)) {
            Ok(v) => return (Some(v), LeftOut::default()),
            Err(first) => {
                // serde stopped at the first error; look for the others in this file.
                // The file was scanned for secrets (none found): the edge masks
                // whatever else looks secret in these messages and snippets.
                let start = diags.len();
                let found = input_check::every_error::<T>(text, &first);
                for f in &found {
                    let value = text.get(f.span.clone()).unwrap_or("");
                    let message = name_the_type(&f.message, value);
                    let origin = Origin::new(file, f.span.clone());
                    let mut d = toml_error_diagnostic(&message, origin, f.key.as_deref());
                    // A key of a table inside this one: where it belongs.
                    if let (None, Some(meant)) = (&d.label, &f.meant) {
                        d.label = Some(format!("did you mean `{meant}`?"));
                    }
                    if diags.len() == start || diags.last() != Some(&d) {
                        diags.push(d);
                    }
                }
                // Without its mistakes, the file is read on, so that the later stages
                // report theirs in this run too (these errors still fail it).
                return input_check::repaired::<T>(text, &found);
            }
        },
        Err(syntax) => syntax,
    };
    let span = error.span().unwrap_or(0..0);
    diags.push(toml_diagnostic(text, file, error.message(), span));
    (None, LeftOut::default())
}

/// `[baseline]` in an overlay (KG002): the baseline is its cluster's, shared by every
/// environment on it; the help says where it is written.
fn overlay_baseline_help(diags: &mut [Diagnostic], sources: &Sources, env: &str) {
    for d in diags.iter_mut().filter(|d| d.code == rules::UNKNOWN_KEY) {
        let Some(o) = &d.origin else { continue };
        if sources.get(o.file).text.get(o.span.clone()) == Some("baseline") {
            d.help = Some(format!(
                "the baseline belongs to the cluster, shared by its environments: write it under `[baseline]` (every cluster) or `[clusters.<cluster>.baseline]` (the cluster of `{env}`) in platform.toml (docs/baseline.md)"
            ));
        }
    }
}

/// A cluster's own value written as a key of `[clusters.<name>]` (KG002): the EKS
/// cluster's name, its account or VPC are the cluster's `vars`, which templates and
/// add-on defaults read; the help says so.
/// `platform` is what reading platform.toml left out: the unknown key is one of a
/// `[clusters.<name>]` table's when that table lost it.
fn cluster_vars_help(
    diags: &mut [Diagnostic],
    sources: &Sources,
    platform_file: FileId,
    platform: Option<&LeftOut>,
) {
    let Some(platform) = platform else { return };
    let of_a_cluster = |o: &Origin| {
        o.file == platform_file
            && platform.holders.iter().any(|h| {
                matches!(h.path.as_slice(), [clusters, _] if clusters == "clusters")
                    && h.extent.start <= o.span.start
                    && o.span.end <= h.extent.end
            })
    };
    for d in diags.iter_mut().filter(|d| d.code == rules::UNKNOWN_KEY) {
        let Some(o) = &d.origin else { continue };
        if !of_a_cluster(o) {
            continue;
        }
        let key = sources.get(o.file).text.get(o.span.clone()).unwrap_or("");
        let var = match key {
            "cluster_name" | "eks_name" | "eks_cluster" | "eks_cluster_name" => "eks_name",
            "account" | "account_id" | "aws_account" | "region" | "aws_region" | "vpc_id"
            | "vpc" => key,
            _ => continue,
        };
        d.label = None;
        d.help = Some(format!(
            "a cluster's own values are its variables: write `vars = {{ {var} = \"...\" }}` under this table and use them as `{{{{ cluster.{var} }}}}` in templates (docs/platform.md){}",
            if var == "eks_name" {
                "; add-ons that take `cluster_name` default to `eks_name` (docs/addons.md)"
            } else {
                ""
            }
        ));
    }
}

/// An unknown key of a preset's `[addons.<name>]` (in platform.toml, a cluster's
/// table or an overlay) is helped with that preset's keys, not every preset's.
fn narrow_addon_keys(
    platform: &PlatformFile,
    platform_file: FileId,
    overlays: &BTreeMap<String, Overlay>,
    sources: &Sources,
    diags: &mut [Diagnostic],
) {
    let tables = platform
        .addons
        .keys()
        .chain(
            platform
                .clusters
                .values()
                .flat_map(|c| c.value.addons.keys()),
        )
        .map(|k| (platform_file, k))
        .chain(
            overlays
                .values()
                .flat_map(|o| o.data.addons.keys().map(|k| (o.file, k))),
        );
    let tables: Vec<_> = tables.collect();
    for d in diags.iter_mut().filter(|d| d.code == rules::UNKNOWN_KEY) {
        let Some(o) = d.origin.clone() else { continue };
        // The add-on whose name comes last before the key (a `[header]` table's span is
        // its header's): a key of another table is left as it is, as its list of
        // allowed keys is not an add-on's (`narrow_unknown_key` checks).
        let within = tables
            .iter()
            .filter(|(file, k)| *file == o.file && k.span.start <= o.span.start)
            .max_by_key(|(_, k)| k.span.start);
        let Some((_, name)) = within else { continue };
        let Some(preset) = crate::addons::preset(&name.value) else {
            continue;
        };
        let key = sources.get(o.file).text.get(o.span.clone()).unwrap_or("");
        crate::addons::narrow_unknown_key(d, key, preset);
    }
}

/// The numbers of services and environments stay within kgen's limits.
fn check_sizes(platform: &PlatformFile, file: FileId, diags: &mut Vec<Diagnostic>) {
    let services = platform.services.len();
    let envs = platform.environments.len();
    let at = |key: Option<&crate::spanned::Spanned<String>>| {
        Origin::new(file, key.map_or(0..0, |k| k.span.clone()))
    };
    let mut too_many = |what: String, limit: usize, origin: Origin| {
        diags.push(
            Diagnostic::error(rules::OUT_OF_RANGE, format!("{what}, more than kgen's limit of {limit}"))
                .at(origin)
                .help("split the platform into several platform directories (each with its own platform.toml); see docs/security.md#limits"),
        );
    };
    if services > MAX_SERVICES {
        let origin = at(platform.services.keys().nth(MAX_SERVICES));
        too_many(
            format!("platform.toml declares {services} services"),
            MAX_SERVICES,
            origin,
        );
    }
    if envs > MAX_ENVIRONMENTS {
        let origin = at(platform.environments.keys().nth(MAX_ENVIRONMENTS));
        too_many(
            format!("platform.toml declares {envs} environments"),
            MAX_ENVIRONMENTS,
            origin,
        );
    } else if services <= MAX_SERVICES && services * envs > MAX_INSTANCES {
        too_many(
            format!(
                "{services} services in {envs} environments make {} service instances",
                services * envs
            ),
            MAX_INSTANCES,
            at(None),
        );
    }
}

/// Every overlay must belong to an environment, and name only services that exist.
fn check_overlay_names(
    platform: &PlatformFile,
    overlays: &BTreeMap<String, Overlay>,
    sources: &Sources,
    diags: &mut Vec<Diagnostic>,
) {
    let envs: Vec<&str> = platform
        .environments
        .keys()
        .map(|k| k.value.as_str())
        .collect();
    let services: Vec<&str> = platform.services.keys().map(|k| k.value.as_str()).collect();
    for (env, overlay) in overlays {
        if !envs.contains(&env.as_str()) {
            let display = &sources.get(overlay.file).display;
            let mut d = Diagnostic::error(
                rules::UNKNOWN_ENVIRONMENT,
                format!("overlay `{display}` is for environment `{env}`, which platform.toml does not define"),
            )
            .at(Origin::new(overlay.file, 0..0));
            // An environment's short or long form (`develop` for `dev`, `production`
            // for `prod`) is as likely a slip as a typo.
            let abbreviated = || {
                envs.iter()
                    .find(|e| e.len() >= 3 && (env.starts_with(**e) || e.starts_with(env.as_str())))
                    .map(|e| format!("did you mean `{e}`?"))
            };
            // An environment is named by a DNS-1123 label: a file named otherwise
            // (`Staging.toml`) can only be renamed.
            let valid = crate::names::check_dns1123_label(env).is_ok();
            d = d.help(match did_you_mean(env, envs.iter().copied()).or_else(abbreviated) {
                Some(s) if !valid => format!(
                    "{s} Rename the file (an environment's name is a DNS-1123 label: lower case letters, digits and `-`)"
                ),
                None if !valid => format!(
                    "an overlay is named after its environment: rename the file to `{OVERLAY_DIR}/<env>.toml` for one of {} (an environment's name is a DNS-1123 label: lower case letters, digits and `-`)",
                    envs.join(", ")
                ),
                Some(s) => format!(
                    "{s} Rename the file, or add `[environments.{env}]` to platform.toml (known environments: {})",
                    envs.join(", ")
                ),
                None => format!(
                    "an overlay is named after its environment: rename the file to `{OVERLAY_DIR}/<env>.toml` for one of {}, or add `[environments.{env}]` to platform.toml",
                    envs.join(", ")
                ),
            });
            diags.push(d);
        }
        for name in overlay.data.services.keys() {
            // A map lookup, not a scan: overlays of large platforms name every service.
            if !platform.services.contains_key(name.value.as_str()) {
                let mut d = Diagnostic::error(
                    rules::UNKNOWN_SERVICE,
                    format!(
                        "overlay names service `{}`, which platform.toml does not define",
                        name.value
                    ),
                )
                .at(Origin::new(overlay.file, name.span.clone()));
                if let Some(s) = did_you_mean(&name.value, services.iter().copied()) {
                    d = d.label(s);
                }
                d = d.help(format!(
                    "an overlay can only change services declared under [services] in platform.toml (known: {})",
                    services.join(", ")
                ));
                diags.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{InputFiles, Workspace};

    fn tables(platform: &str) -> Vec<(String, String)> {
        let files = InputFiles {
            platform: ("platform.toml".into(), platform.into()),
            overlays: vec![],
        };
        let ws = Workspace::parse_leniently(".".into(), files).unwrap();
        ws.environment_tables()
            .into_iter()
            .map(|(env, at)| (env, platform[at].trim().to_string()))
            .collect()
    }

    #[test]
    fn an_environments_tables_run_from_its_header_to_the_next_or_are_its_inline_table() {
        let text = "[platform]\nname = \"p\"\nrepo = \"https://g/p.git\"\n\n[environments.dev]\ncluster = \"a\"\n\n[environments.dev.vars]\nx = \"1\"\n[services.api]\nimage = \"i\"\n";
        assert_eq!(
            tables(text),
            [
                ("dev".into(), "[environments.dev]\ncluster = \"a\"".into()),
                ("dev".into(), "[environments.dev.vars]\nx = \"1\"".into()),
            ]
        );
        let text = "[platform]\nname = \"p\"\nrepo = \"https://g/p.git\"\n\n[environments]\ndev = { cluster = \"a\" }\nprod = { cluster = \"b\" }\n";
        assert_eq!(
            tables(text),
            [
                ("dev".into(), "{ cluster = \"a\" }".into()),
                ("prod".into(), "{ cluster = \"b\" }".into()),
            ]
        );
    }
}
