//! Where files are written: comparing a `Tree` with `generated/` on disk, and
//! bringing the disk up to date.
//!
//! Rules: only files whose bytes differ are written; every write is atomic (a new
//! file is written unnamed and then linked under its name, a changed one is written
//! to a temporary file in the same directory and renamed over it; see [`apply`]); a file kgen no longer
//! produces is removed only if it starts with kgen's header; a file without that
//! header is never overwritten or removed; symbolic links are never followed.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::emit::Tree;
use crate::error::{Error, Result};

/// Temporary files are `.kgen-<pid>-<random>.tmp`, next to the file they replace.
/// A process killed between creating one and renaming it leaves it behind; the next
/// `apply` removes those whose process is gone.
pub const TEMP_PREFIX: &str = ".kgen-";
pub const TEMP_SUFFIX: &str = ".tmp";

/// What `apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

/// Writes missing and stale files and removes extra ones, as found by `compare`.
///
/// Through directory handles: every directory on the way is opened once, relative to
/// its parent and without following a link (`O_NOFOLLOW`), so each directory is
/// checked for links once, and a link put in place after `compare` is refused, not
/// followed. In a directory the run created, a missing file is created under its
/// name (`O_EXCL`): nothing was there to protect. In any other, a missing file is
/// created whole: written unnamed (`O_TMPFILE`) and then linked under its name, which
/// fails rather than replace a file that appeared meanwhile; a stale file is written
/// to a temporary file next to it and renamed over it. Either way a reader, or a
/// killed run, sees the old file or the new one, never part of one; a run killed
/// while it fills a new directory may leave part of a new file there, which the next
/// render replaces (and `render --check` reports until then).
pub fn apply(dir: &Path, tree: &Tree, c: &Comparison) -> Result<Outcome> {
    let files: Vec<(&str, &[u8], bool)> = c
        .missing
        .iter()
        .map(|r| (r, false))
        .chain(c.stale.iter().map(|r| (r, true)))
        .map(|(rel, replace)| (rel.as_str(), tree.files[rel].as_bytes(), replace))
        .collect();
    apply_parts(dir, c, |write| write(&files))
}

/// [`apply`] for the files of a [`Pending`] (those `Comparer` kept: the missing and
/// stale ones), uncompressed a chunk at a time.
pub fn apply_pending(dir: &Path, pending: &Pending, c: &Comparison) -> Result<Outcome> {
    apply_parts(dir, c, |write| pending.each_part(write))
}

/// [`apply`], the missing and stale files of `c` given by `each_part` to the
/// function it is called with, in parts.
fn apply_parts(
    dir: &Path,
    c: &Comparison,
    each_part: impl FnOnce(&WritePart<'_>) -> Result<()>,
) -> Result<Outcome> {
    use rayon::prelude::*;
    // From here, a signal that stops the run says generated/ may be part new.
    crate::interrupt::writing(true);
    ensure_dir(dir)?;
    // Files written or removed so far: after the first, a failure leaves the tree
    // part old, part new, and the error says so.
    let changed = std::sync::atomic::AtomicUsize::new(0);
    let partly = |error: Error| match changed.load(std::sync::atomic::Ordering::Relaxed) {
        0 => error,
        n => Error::PartlyWritten {
            dir: dir.to_path_buf(),
            changed: n,
            error: Box::new(error),
        },
    };
    // The directories written into (relative to `dir`, "" for `dir` itself).
    let leaves: std::collections::BTreeSet<&str> = c
        .missing
        .iter()
        .chain(&c.stale)
        .map(|rel| rel.rsplit_once('/').map_or("", |(d, _)| d))
        .collect();
    if !leaves.is_empty() {
        let handles = DirHandles::open(dir, leaves.into_iter())?;
        let changed = &changed;
        each_part(&|files| {
            // By directory (the files' indices), each opened once for the part.
            let mut by_dir: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
            for (i, (rel, _, _)) in files.iter().enumerate() {
                let d = rel.rsplit_once('/').map_or("", |(d, _)| d);
                by_dir.entry(d).or_default().push(i);
            }
            by_dir.par_iter().try_for_each(|(d, indices)| {
                let (dir_fd, fresh) = handles.open_leaf(d)?;
                // Counted once per directory (the counter is shared by the threads).
                let mut written = 0;
                let result = indices.iter().try_for_each(|&i| {
                    let (rel, bytes, replace) = files[i];
                    let name = rel.rsplit_once('/').map_or(rel, |(_, name)| name);
                    dirfd::write_file(&dir_fd, dir, d, name, bytes, replace, fresh)?;
                    written += 1;
                    Ok(())
                });
                changed.fetch_add(written, std::sync::atomic::Ordering::Relaxed);
                result
            })
        })
        .map_err(partly)?;
    }
    for rel in &c.extra {
        let path = dir.join(rel);
        fs::remove_file(&path).map_err(|e| partly(Error::io("remove", &path, e)))?;
        changed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        remove_empty_parents(dir, &path);
    }
    if c.covers_all {
        for path in &c.temp_files {
            if is_abandoned(
                &path.file_name().unwrap_or_default().to_string_lossy(),
                path,
            ) {
                let _ = fs::remove_file(path);
            }
        }
    } else {
        remove_abandoned_temp_files(dir);
    }
    Ok(Outcome {
        added: c.missing.clone(),
        changed: c.stale.clone(),
        removed: c.extra.clone(),
        unchanged: c.unchanged,
    })
}

/// Open handles on the directories above the ones `apply` writes into (the leaves
/// are opened, written and closed one at a time, so the number of open descriptors
/// stays small).
struct DirHandles<'a> {
    root_path: &'a Path,
    /// By path relative to the root ("" is the root); true for one this run created.
    open: std::collections::HashMap<String, (DirFd, bool)>,
    /// The leaves this run created, which later parts open again.
    fresh_leaves: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl<'a> DirHandles<'a> {
    /// Opens (creating as needed) the root and every proper ancestor of `leaves`.
    fn open<'b>(root: &'a Path, leaves: impl Iterator<Item = &'b str>) -> Result<Self> {
        let root_fd = dirfd::open_root(root)?;
        let mut handles = DirHandles {
            root_path: root,
            open: std::collections::HashMap::from([(String::new(), (DirFd::new(root_fd), false))]),
            fresh_leaves: Default::default(),
        };
        for leaf in leaves {
            let mut end = 0;
            while let Some(i) = leaf[end..].find('/') {
                end += i;
                let ancestor = &leaf[..end];
                if !handles.open.contains_key(ancestor) {
                    let (fd, created) = handles.open_child(ancestor)?;
                    handles
                        .open
                        .insert(ancestor.to_string(), (DirFd::new(fd), created));
                }
                end += 1;
            }
        }
        Ok(handles)
    }

    /// Opens `rel` (creating it if missing) relative to its parent, which is open;
    /// true with it when this run created it.
    fn open_child(&self, rel: &str) -> Result<(std::os::fd::OwnedFd, bool)> {
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let (parent_fd, _) = self
            .open
            .get(parent)
            .expect("a directory's parent is opened before it");
        dirfd::open_or_create_dir(parent_fd, &self.root_path.join(rel), name)
    }

    /// A handle on the directory `rel` (whose ancestors are open), for writing into
    /// it, and whether this run created it.
    fn open_leaf(&self, rel: &str) -> Result<(DirFd, bool)> {
        if let Some((fd, fresh)) = self.open.get(rel) {
            return Ok((DirFd::clone(fd), *fresh));
        }
        let (fd, created) = self.open_child(rel)?;
        let mut fresh_leaves = self.fresh_leaves.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = if created {
            fresh_leaves.insert(rel.to_string())
        } else {
            fresh_leaves.contains(rel)
        };
        Ok((DirFd::new(fd), fresh))
    }
}

/// A directory handle, shared with the registry of unfinished files
/// (src/interrupt.rs), which removes them through it if a signal stops the run.
type DirFd = std::sync::Arc<std::os::fd::OwnedFd>;

mod dirfd;

mod compare;
pub use compare::{compare, foreign, is_manifest_name, Comparer, Comparison};

mod pending;
pub use pending::Pending;
use pending::WritePart;

/// Creates `path`'s parent directories and writes `bytes` atomically. A file that
/// exists keeps its permissions (an edited platform.toml stays as readable as it
/// was); a new one gets the umask's (0644 under the usual 022), as any editor's.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    ensure_dir(parent)?;
    let existing = fs::metadata(path).ok().map(|m| m.permissions());
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(NEW_FILE_MODE));
    }
    let mut tmp = builder
        .tempfile_in(parent)
        .map_err(|e| Error::io("create a temporary file in", parent, e))?;
    if let Some(permissions) = existing {
        tmp.as_file()
            .set_permissions(permissions)
            .map_err(|e| Error::io("set the permissions of", tmp.path().to_path_buf(), e))?;
    }
    // No fsync: rename is atomic for every reader and for a killed process (each
    // file is old or new, never truncated); fsyncing 20,000 files would cost seconds.
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    Ok(())
}

/// The mode of the files kgen creates, before the umask: 0666, as `touch` and
/// editors create files (0644 under the usual umask 022).
pub(crate) const NEW_FILE_MODE: u32 = 0o666;

/// Refuses `path` when `root` (the `generated/` directory) or any directory between
/// it and `path` is a symbolic link, so that nothing is read or written outside the
/// tree through a link. Directories that do not exist yet are fine (kgen creates
/// them); `checked` remembers directories already looked at.
pub(super) fn check_no_links(
    root: &Path,
    path: &Path,
    checked: &mut std::collections::HashSet<PathBuf>,
) -> Result<()> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Err(Error::Other(format!(
            "{} is outside {}",
            path.display(),
            root.display()
        )));
    };
    let mut dir = root.to_path_buf();
    let mut components = rel.components().peekable();
    loop {
        if !checked.contains(&dir) {
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(Error::Other(format!(
                        "{} is a symbolic link; kgen does not follow links in generated/. Remove it (kgen writes real directories there)",
                        dir.display()
                    )))
                }
                Ok(m) if !m.is_dir() => return Err(in_the_way(root, &relative(root, &dir))),
                Ok(_) => {
                    checked.insert(dir.clone());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(Error::io("read", &dir, e)),
            }
        }
        let Some(c) = components.next() else {
            return Ok(());
        };
        if !matches!(c, std::path::Component::Normal(_)) {
            return Err(Error::Other(format!(
                "{} is not a path inside {}",
                path.display(),
                root.display()
            )));
        }
        if components.peek().is_none() {
            // The file itself: `read_regular` and the rename deal with it.
            return Ok(());
        }
        dir.push(c);
    }
}

/// The error for a file (or FIFO, ...) at `rel`, under `root`, where kgen must
/// create or open a directory; found before anything is written. An I/O error on
/// that path (exit 3; annotated with the file in GitHub's format).
pub(super) fn in_the_way(root: &Path, rel: &str) -> Error {
    let root = root.strip_prefix(".").unwrap_or(root);
    let path = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let why = if rel.is_empty() {
        "a file is in the way. Move it, or delete it".to_string()
    } else {
        format!(
            "a file is in the way. Move it out of {}, or delete it",
            root.display()
        )
    };
    Error::io(
        "create directory",
        path,
        std::io::Error::new(std::io::ErrorKind::NotADirectory, why),
    )
}

fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) if m.file_type().is_symlink() => Err(Error::Other(format!(
            "{} is a symbolic link; kgen does not write through links in generated/",
            dir.display()
        ))),
        Ok(_) => Err(Error::Other(format!(
            "{} exists and is not a directory",
            dir.display()
        ))),
        Err(_) => fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e)),
    }
}

/// Reads a regular file; `None` if it does not exist. A symlink or directory is an error.
///
/// Opened without following a link and without blocking (a FIFO would otherwise
/// hang), then checked on the open file: one path lookup per file.
pub(super) fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::Other(format!(
                "{} is a symbolic link; kgen does not follow links in generated/. Remove it",
                path.display()
            )))
        }
        Err(_) => return read_regular_slow(path),
    };
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() {
        return Err(Error::Other(format!(
            "{} is in the way: kgen needs to write a file there",
            path.display()
        )));
    }
    // Read as many bytes as the file holds, by the size just read from the open file:
    // no second size query and no read that only finds the end (`read_to_end` makes
    // both). A file that changes meanwhile is another file's race, as before.
    let mut bytes = vec![0; meta.len() as usize];
    let filled = fill(&mut file, &mut bytes).map_err(|e| Error::io("read", path, e))?;
    bytes.truncate(filled);
    Ok(Some(bytes))
}

/// Reads from `file` until `buffer` is full or the file ends; how many bytes it read.
pub(super) fn fill(file: &mut fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read as _;
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// `read_regular` by the path's metadata, for what opening could not tell.
fn read_regular_slow(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
        Ok(m) if m.is_file() => fs::read(path)
            .map(Some)
            .map_err(|e| Error::io("read", path, e)),
        Ok(m) if m.file_type().is_symlink() => Err(Error::Other(format!(
            "{} is a symbolic link; kgen does not follow links in generated/. Remove it",
            path.display()
        ))),
        Ok(_) => Err(Error::Other(format!(
            "{} is in the way: kgen needs to write a file there",
            path.display()
        ))),
    }
}

/// Removes temporary files under `dir` (not following links) left by a kgen process
/// that no longer runs. Best effort: a failure here is not an error.
fn remove_abandoned_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(ft) = entry.file_type() else { continue };
        let path = entry.path();
        if ft.is_dir() {
            remove_abandoned_temp_files(&path);
        } else if ft.is_file() && is_abandoned(&entry.file_name().to_string_lossy(), &path) {
            let _ = fs::remove_file(&path);
        }
    }
}

/// Removes kgen's abandoned temporary files directly in `dir` (not below it): the
/// overlay directory after `bump-image` or `promote` wrote an overlay. Only
/// `.kgen-<pid>-….tmp` regular files whose process is gone; never any other file.
/// Best effort: a failure here is not an error.
pub fn remove_abandoned_temp_files_in(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_file())
            && is_abandoned(&entry.file_name().to_string_lossy(), &path)
        {
            let _ = fs::remove_file(&path);
        }
    }
}

/// The temporary files of `c` (relative to `dir`, the `generated/` directory) that
/// a kgen process that no longer runs left: the next render removes them, and
/// `render --check` lists them as extra until then.
pub fn abandoned_temp_files(dir: &Path, c: &Comparison) -> Vec<String> {
    c.temp_files
        .iter()
        .filter(|path| {
            is_abandoned(
                &path.file_name().unwrap_or_default().to_string_lossy(),
                path,
            )
        })
        .map(|path| relative(dir, path))
        .collect()
}

/// True for `.kgen-<pid>-….tmp` when process `pid` is gone (or, where that cannot be
/// told, when the file is more than an hour old).
fn is_abandoned(name: &str, path: &Path) -> bool {
    let Some(pid) = name
        .strip_prefix(TEMP_PREFIX)
        .filter(|_| name.ends_with(TEMP_SUFFIX))
        .and_then(|rest| rest.split('-').next())
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return false;
    };
    if pid == std::process::id() {
        return false;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return !proc.join(pid.to_string()).exists();
    }
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > std::time::Duration::from_secs(3600))
}

pub(super) fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Removes directories left empty by a removal, up to (not including) `root`.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
