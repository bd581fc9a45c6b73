//! File system calls relative to directory handles (`openat` and friends), through
//! rustix: safe wrappers over the system calls, already in the tree under tempfile.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::{TEMP_PREFIX, TEMP_SUFFIX};
use crate::error::{Error, Result};
use crate::interrupt;

fn link_error(path: &Path) -> Error {
    Error::Other(format!(
        "{} is a symbolic link; kgen does not follow links in generated/. Remove it (kgen writes real directories there)",
        path.display()
    ))
}

fn nul_error(path: &Path) -> Error {
    Error::Other(format!(
        "{} has a NUL character in its name",
        path.display()
    ))
}

/// Opens the root directory (which exists) without following a link.
pub(super) fn open_root(root: &Path) -> Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(root)
    {
        Ok(f) => Ok(OwnedFd::from(f)),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(link_error(root)),
        Err(e) => Err(Error::io("open", root, e)),
    }
}

fn open_dir_at(parent: BorrowedFd<'_>, name: &str) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Opens the directory `name` in `parent` (full path `path`, for messages),
/// creating it if it is missing; a link there is refused, never followed. True with
/// it when this call created it.
pub(super) fn open_or_create_dir(
    parent: &OwnedFd,
    path: &Path,
    name: &str,
) -> Result<(OwnedFd, bool)> {
    if name.contains('\0') {
        return Err(nul_error(path));
    }
    let mut tried = false;
    let mut created = false;
    loop {
        match open_dir_at(parent.as_fd(), name) {
            Ok(fd) => return Ok((fd, created)),
            Err(Errno::NOENT) if !tried => {
                match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o777)) {
                    Ok(()) => created = true,
                    Err(Errno::EXIST) => {}
                    Err(e) => return Err(Error::io("create directory", path, e.into())),
                }
                tried = true;
            }
            Err(e @ (Errno::LOOP | Errno::NOTDIR)) => {
                // A link is refused as such; anything else in the way is an I/O
                // error on its path (exit 3, annotated with the file), as the
                // directory creation of the path-based write reported it.
                return Err(match std::fs::symlink_metadata(path) {
                    Ok(m) if m.file_type().is_symlink() => link_error(path),
                    _ => Error::io("create directory", path, e.into()),
                });
            }
            Err(e) => return Err(Error::io("open", path, e.into())),
        }
    }
}

fn write_all(fd: &OwnedFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Writes `bytes` as `name` in the directory `dir` (`root`/`rel_dir`): a new file
/// (`replace` false) is created under its name, directly in a directory this run
/// created (`fresh`: nothing was there to protect, and one system call is saved
/// per file), else whole (written unnamed, then linked); an existing one is
/// replaced by renaming a temporary file over it.
pub(super) fn write_file(
    dir: &Arc<OwnedFd>,
    root: &Path,
    rel_dir: &str,
    name: &str,
    bytes: &[u8],
    replace: bool,
    fresh: bool,
) -> Result<()> {
    if name.contains('\0') {
        return Err(nul_error(&root.join(rel_dir).join(name)));
    }
    if !replace && fresh && create_new(dir, root, rel_dir, name, bytes)? {
        return Ok(());
    }
    if !replace && create_whole(dir.as_fd(), root, rel_dir, name, bytes)? {
        return Ok(());
    }
    replace_with_temp(dir, root, rel_dir, name, bytes)
}

/// Opens `name` in `dir` for writing, as a new file (`O_EXCL`: `EEXIST` when the name
/// exists; no link followed), mode [`super::NEW_FILE_MODE`] less the umask.
fn open_new(dir: BorrowedFd<'_>, name: &str) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(super::NEW_FILE_MODE),
    )
}

/// Creates `name` in `dir` holding `bytes`, under its name from the start (`O_EXCL`,
/// no link followed). False when the name exists: the caller replaces instead.
fn create_new(
    dir: &Arc<OwnedFd>,
    root: &Path,
    rel_dir: &str,
    name: &str,
    bytes: &[u8],
) -> Result<bool> {
    let path = || root.join(rel_dir).join(name);
    // Registered until written whole: a signal meanwhile removes it.
    let (fd, _unfinished) = match interrupt::create(dir, name, || open_new(dir.as_fd(), name)) {
        Ok(created) => created,
        Err(Errno::EXIST) => return Ok(false),
        Err(e) => return Err(Error::io("create", path(), e.into())),
    };
    write_all(&fd, bytes).map_err(|e| Error::io("write", path(), e))?;
    Ok(true)
}

/// How unnamed files get their name: 0 not known yet, 1 `linkat(AT_EMPTY_PATH)`,
/// 2 through `/proc/self/fd`, 3 not at all (no `O_TMPFILE` here: temporary files).
static LINK_MODE: AtomicU8 = AtomicU8::new(0);

/// Creates `name` in `dir` holding `bytes`, complete or not at all: the bytes go
/// to an unnamed file that is then linked under the name. False when that cannot
/// be done here (no `O_TMPFILE`) or the name exists: the caller replaces instead.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn create_whole(
    dir: BorrowedFd<'_>,
    root: &Path,
    rel_dir: &str,
    name: &str,
    bytes: &[u8],
) -> Result<bool> {
    let mode = LINK_MODE.load(Ordering::Relaxed);
    if mode == 3 {
        return Ok(false);
    }
    let fd = match rustix::fs::openat(
        dir,
        c".",
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(super::NEW_FILE_MODE),
    ) {
        Ok(fd) => fd,
        Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => {
            LINK_MODE.store(3, Ordering::Relaxed);
            return Ok(false);
        }
        Err(e) => {
            return Err(Error::io(
                "create a temporary file in",
                root.join(rel_dir),
                e.into(),
            ))
        }
    };
    write_all(&fd, bytes).map_err(|e| Error::io("write", root.join(rel_dir).join(name), e))?;
    let linked = |how: u8| -> rustix::io::Result<()> {
        if how == 1 {
            rustix::fs::linkat(&fd, c"", dir, name, AtFlags::EMPTY_PATH)
        } else {
            use std::os::fd::AsRawFd as _;
            let proc_path = format!("/proc/self/fd/{}", fd.as_raw_fd());
            rustix::fs::linkat(
                rustix::fs::CWD,
                proc_path.as_str(),
                dir,
                name,
                AtFlags::SYMLINK_FOLLOW,
            )
        }
    };
    let mut result = linked(if mode == 2 { 2 } else { 1 });
    if mode == 0 {
        // The first file tells which way works here.
        if matches!(result, Err(Errno::NOENT | Errno::PERM | Errno::INVAL)) {
            result = linked(2);
            if matches!(result, Err(e) if e != Errno::EXIST) {
                LINK_MODE.store(3, Ordering::Relaxed);
                return Ok(false);
            }
            LINK_MODE.store(2, Ordering::Relaxed);
        } else if result.is_ok() {
            LINK_MODE.store(1, Ordering::Relaxed);
        }
    }
    match result {
        Ok(()) => Ok(true),
        // The name appeared since `compare`: replace it as a stale file.
        Err(Errno::EXIST) => Ok(false),
        Err(e) => Err(Error::io("create", root.join(rel_dir).join(name), e.into())),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn create_whole(_: BorrowedFd<'_>, _: &Path, _: &str, _: &str, _: &[u8]) -> Result<bool> {
    let _ = &LINK_MODE;
    Ok(false)
}

/// Writes `bytes` to a temporary file in `dir` (`.kgen-<pid>-<n>.tmp`), then renames
/// it to `name`, replacing what is there.
fn replace_with_temp(
    dir: &Arc<OwnedFd>,
    root: &Path,
    rel_dir: &str,
    name: &str,
    bytes: &[u8],
) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let pid = *PID.get_or_init(std::process::id);
    // Registered until renamed or removed: a signal meanwhile removes it.
    let (tmp, fd, _unfinished) = loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = format!("{TEMP_PREFIX}{pid}-{n}{TEMP_SUFFIX}");
        match interrupt::create(dir, &tmp, || open_new(dir.as_fd(), &tmp)) {
            Ok((fd, unfinished)) => break (tmp, fd, unfinished),
            Err(Errno::EXIST) => continue,
            Err(e) => {
                return Err(Error::io(
                    "create a temporary file in",
                    root.join(rel_dir),
                    e.into(),
                ))
            }
        }
    };
    let unlink = || {
        let _ = rustix::fs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
    };
    if let Err(e) = write_all(&fd, bytes) {
        unlink();
        return Err(Error::io("write", root.join(rel_dir).join(&tmp), e));
    }
    drop(fd);
    if let Err(e) = rustix::fs::renameat(dir, tmp.as_str(), dir, name) {
        unlink();
        return Err(Error::io(
            "replace",
            root.join(rel_dir).join(name),
            e.into(),
        ));
    }
    Ok(())
}
