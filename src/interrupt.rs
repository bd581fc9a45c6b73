//! SIGINT, SIGTERM and SIGHUP during `kgen render`: the files the run has created
//! and not finished are removed, and kgen exits with 128 + the signal's number (130,
//! 143, 129).
//!
//! What is removed is only what this process created and has not finished: its
//! temporary files (`.kgen-<pid>-<n>.tmp`, renamed over a stale file once complete)
//! and a new file it is still writing under its name in a directory it created.
//! Every such file is registered here when it is created (`O_EXCL`: the name was
//! free, so it cannot be a file anyone else wrote) and unregistered once it is
//! complete. A file a previous render completed is never registered, so never
//! removed; a file this run completed stays (it is whole: the tree is then part
//! old, part new, every file complete, as after a failed write). Files written
//! unnamed (`O_TMPFILE`) vanish with the process on their own. The checkout lock is
//! released by the OS when the process exits; its (empty) file stays, as after
//! every render (removing a locked file would let a third process lock a new one
//! while a second holds the old). Nothing is written before every environment has
//! rendered and validated, so a signal before that leaves `generated/` untouched.
//!
//! How: signal-hook's handler only writes to a pipe; a thread of kgen's reads it,
//! then takes [`GATE`] exclusively (waiting for any file being created and
//! registered at that moment), removes the registered files and exits with
//! `_exit`, still holding the gate, so no file is created after the removal.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Held shared while a file is created and registered; exclusively, and never
/// released, by the thread that handles a signal.
static GATE: RwLock<()> = RwLock::new(());

/// The files created and not finished, by id: a handle on the directory and the name.
type Files = HashMap<u64, (Arc<OwnedFd>, String)>;
static UNFINISHED: Mutex<Option<Files>> = Mutex::new(None);

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Whether `generated/` is being written (for the message).
static WRITING: AtomicBool = AtomicBool::new(false);

/// A registered file, unregistered when dropped (once it is complete, renamed, or
/// removed by its writer).
#[must_use]
pub(crate) struct Unfinished(u64);

impl Drop for Unfinished {
    fn drop(&mut self) {
        let mut files = UNFINISHED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(files) = files.as_mut() {
            files.remove(&self.0);
        }
    }
}

/// Creates a file with `create` (which must create `name` in `dir` exclusively)
/// and registers it until the returned [`Unfinished`] is dropped.
pub(crate) fn create(
    dir: &Arc<OwnedFd>,
    name: &str,
    create: impl FnOnce() -> rustix::io::Result<OwnedFd>,
) -> rustix::io::Result<(OwnedFd, Unfinished)> {
    let _creating = GATE.read().unwrap_or_else(|e| e.into_inner());
    let fd = create()?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    UNFINISHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(id, (Arc::clone(dir), name.to_string()));
    Ok((fd, Unfinished(id)))
}

/// Marks the start (true) and the end of writing `generated/`.
pub(crate) fn writing(on: bool) {
    WRITING.store(on, Ordering::Relaxed);
}

/// Installs the handling of SIGINT, SIGTERM and SIGHUP for the rest of the process
/// (once; later calls do nothing). Without it (any command but a writing render) a
/// signal kills kgen as usual: the next render removes what it left.
pub fn install() {
    #[cfg(unix)]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            // If this fails (no pipe or thread can be made), signals keep their
            // default action: kgen dies, and the next render cleans up.
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return;
            };
            let _ = std::thread::Builder::new()
                .name("kgen-signals".into())
                .spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        stop(signal);
                    }
                });
        });
    }
}

/// Removes the unfinished files and exits with 128 + `signal`.
#[cfg(unix)]
fn stop(signal: i32) -> ! {
    use std::io::Write as _;
    // Never released: a writer waiting to create a file waits until the exit.
    let _gate = GATE.write().unwrap_or_else(|e| e.into_inner());
    let files = UNFINISHED.lock().unwrap_or_else(|e| e.into_inner());
    let mut removed = 0;
    for (dir, name) in files.iter().flat_map(|f| f.values()) {
        if rustix::fs::unlinkat(dir, name.as_str(), rustix::fs::AtFlags::empty()).is_ok() {
            removed += 1;
        }
    }
    let name = match signal {
        signal_hook::consts::SIGINT => "SIGINT",
        signal_hook::consts::SIGTERM => "SIGTERM",
        _ => "SIGHUP",
    };
    let message = message(name, WRITING.load(Ordering::Relaxed), removed);
    let _ = std::io::stderr().write_all(message.as_bytes());
    signal_hook::low_level::exit(128 + signal)
}

/// What kgen prints when a signal stops a render.
fn message(signal: &str, writing: bool, removed: usize) -> String {
    if writing {
        let removed = match removed {
            0 => String::new(),
            n => format!(
                " ({} removed)",
                crate::diagnostic::plural(n, "unfinished file")
            ),
        };
        format!(
            "\nkgen: interrupted ({signal}) while writing generated/{removed}: every file there is complete, either as before or as this render made it. Run kgen render again to finish\n",
        )
    } else {
        format!("\nkgen: interrupted ({signal}); nothing was written to generated/\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(
            message("SIGINT", false, 0),
            "\nkgen: interrupted (SIGINT); nothing was written to generated/\n"
        );
        assert_eq!(
            message("SIGTERM", true, 1),
            "\nkgen: interrupted (SIGTERM) while writing generated/ (1 unfinished file removed): every file there is complete, either as before or as this render made it. Run kgen render again to finish\n"
        );
    }

    #[test]
    fn a_finished_file_is_unregistered() {
        let dir = tempfile::tempdir().unwrap();
        let fd = Arc::new(
            rustix::fs::open(
                dir.path(),
                rustix::fs::OFlags::DIRECTORY,
                rustix::fs::Mode::empty(),
            )
            .unwrap(),
        );
        let (_file, unfinished) = create(&fd, "x", || {
            rustix::fs::openat(
                &*fd,
                "x",
                rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CREATE | rustix::fs::OFlags::EXCL,
                rustix::fs::Mode::from_raw_mode(0o644),
            )
        })
        .unwrap();
        let id = unfinished.0;
        let registered = |id| {
            UNFINISHED
                .lock()
                .unwrap()
                .as_ref()
                .is_some_and(|f| f.contains_key(&id))
        };
        assert!(registered(id));
        drop(unfinished);
        assert!(!registered(id));
    }
}
