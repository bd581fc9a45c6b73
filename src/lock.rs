//! The checkout lock: commands that edit input files (`bump-image`, `promote`,
//! `bump-chart`) take an exclusive lock on `<platform dir>/.kgen.lock` for their
//! whole read → edit → render → write (→ commit) sequence, so two of them running at
//! once in one checkout serialise instead of one silently losing the other's update.
//! `kgen render` (not `--check`) takes it too, before it reads its inputs, so it
//! cannot write files from inputs a bump changes meanwhile over the bump's.
//!
//! The lock is an advisory OS file lock (`flock` on Unix, `LockFileEx` on Windows)
//! held by the open file: it is released when the `CheckoutLock` is dropped, and by
//! the OS if the process dies. The file itself is empty and stays (it is in
//! `.gitignore`). Whoever holds the lock must re-read the files it edits after
//! taking it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Name of the lock file, next to platform.toml.
pub const LOCK_FILE: &str = ".kgen.lock";

/// An exclusive lock on a checkout, released on drop.
#[derive(Debug)]
pub struct CheckoutLock {
    _file: File,
    path: PathBuf,
}

impl CheckoutLock {
    /// Takes the lock of the platform directory `dir`, waiting for it if another
    /// process holds it. `on_wait` is called once, before waiting, so the caller can
    /// say why nothing is happening.
    pub fn acquire(dir: &Path, on_wait: impl FnOnce(&Path)) -> Result<CheckoutLock> {
        let path = dir.join(LOCK_FILE);
        let file = open(&path, true);
        Self::lock(path, file, on_wait)
    }

    /// [`acquire`](Self::acquire) for `kgen render`, which may run where the lock file
    /// cannot be created (a read-only checkout, where nothing can edit the inputs
    /// either): then an existing lock file is opened for reading (a lock needs no
    /// more), and when there is none, or it cannot be opened, no lock is taken.
    pub fn acquire_if_possible(
        dir: &Path,
        on_wait: impl FnOnce(&Path),
    ) -> Result<Option<CheckoutLock>> {
        use std::io::ErrorKind;
        let path = dir.join(LOCK_FILE);
        let cannot_write = |e: &std::io::Error| {
            matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            )
        };
        let file = match open(&path, true) {
            // No platform directory: nothing to lock, and reading platform.toml
            // reports the missing path itself.
            Err(e) if e.kind() == ErrorKind::NotFound && !dir.is_dir() => return Ok(None),
            Err(e) if cannot_write(&e) => match open(&path, false) {
                Err(e) if cannot_write(&e) || e.kind() == ErrorKind::NotFound => return Ok(None),
                other => other,
            },
            other => other,
        };
        Self::lock(path, file, on_wait).map(Some)
    }

    fn lock(
        path: PathBuf,
        file: std::io::Result<File>,
        on_wait: impl FnOnce(&Path),
    ) -> Result<CheckoutLock> {
        let file = match file {
            Ok(f) => f,
            #[cfg(unix)]
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(Error::Usage(format!(
                    "{} is a symbolic link; kgen does not follow links for its lock file. Remove it (kgen creates the file itself)",
                    path.display()
                )))
            }
            Err(e) => return Err(Error::io("open the lock file", &path, e)),
        };
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(Error::Usage(format!(
                "{} is not a regular file; remove it (kgen creates the lock file itself)",
                path.display()
            )));
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                on_wait(&path);
                file.lock().map_err(|e| Error::io("lock", &path, e))?;
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
        }
        Ok(CheckoutLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens the lock file at `path`, creating it when `write`; never through a link
/// (a committed or dangling `.kgen.lock` link would otherwise make kgen create or
/// open a file wherever it points) and without blocking on a FIFO.
fn open(path: &Path, write: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    if write {
        options.create(true).truncate(false).write(true);
    } else {
        options.read(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = CheckoutLock::acquire(dir.path(), |_| panic!("nobody holds it")).unwrap();
        let d = dir.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let _second = CheckoutLock::acquire(&d, |_| tx.send(()).unwrap()).unwrap();
        });
        rx.recv().unwrap(); // the second one had to wait
        drop(first);
        t.join().unwrap();
    }
}
