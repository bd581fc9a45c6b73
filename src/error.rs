//! The error type of every kgen operation.
//!
//! Invalid input is not an exceptional path: it is a list of `Diagnostic`s together
//! with the `Sources` they point into, so the edge can render them. Everything else
//! (I/O, git) carries the path or ref it failed on.

use std::fmt;
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::source::Sources;

#[derive(Debug)]
pub enum Error {
    /// The input is invalid; nothing was written.
    Invalid(Box<Invalid>),
    /// Reading or writing a file failed.
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A command-line usage problem that clap cannot see (unknown `--env`, ...).
    Usage(String),
    /// An input file kgen will not read (a dangling link, a link out of the platform's
    /// directory, a directory, a FIFO): `message` names it, and `path` is kept for
    /// the annotations that point at it.
    BadInput { path: PathBuf, message: String },
    /// A file kgen did not write is at a path kgen must write (a hand-written
    /// `service.yaml` where kgen's goes): kgen cannot replace it, an I/O failure
    /// (exit 3, JSON kind `io`) naming `path`.
    InTheWay { path: PathBuf, message: String },
    /// No platform file was given, and none is in the current directory or any of its
    /// parents (`dir`, where the search started).
    NoPlatform { dir: PathBuf },
    /// `kgen validate -` or `kgen validate FILE` read no object (an empty stream,
    /// as from a producer that failed): exit 1 unless `--allow-empty`; `path` is
    /// `-` for standard input.
    NoObjects { path: PathBuf, message: String },
    /// A git operation failed.
    Git(String),
    /// Any other failure with a complete message.
    Other(String),
    /// Writing `generated/` (`dir`) failed after `changed` of its files were already
    /// written or removed: the tree is part old, part new (`error` says why).
    PartlyWritten {
        dir: PathBuf,
        changed: usize,
        error: Box<Error>,
    },
}

#[derive(Debug)]
pub struct Invalid {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
    /// The command only reads (`kgen validate`): its report does not say that nothing
    /// was written, since it never writes.
    pub read_only: bool,
    /// Errors in the input files: the checks that need the whole platform (and
    /// their warnings) could not run (docs/cli.md#problem-formats), and the closing
    /// line says that they wait.
    pub waiting: bool,
}

impl Error {
    pub fn invalid(diagnostics: Vec<Diagnostic>, sources: Sources) -> Error {
        Error::Invalid(Box::new(Invalid {
            diagnostics,
            sources,
            read_only: false,
            waiting: false,
        }))
    }

    /// Errors in the input files, which the checks that need the whole platform
    /// wait for ([`Invalid::waiting`]), with the input's own warnings where reading
    /// found no error (a unit slip beside the request it makes too large).
    pub fn invalid_input(diagnostics: Vec<Diagnostic>, sources: Sources) -> Error {
        Error::Invalid(Box::new(Invalid {
            diagnostics,
            sources,
            read_only: false,
            waiting: true,
        }))
    }

    /// The error itself, for one that wraps another ([`Error::PartlyWritten`]).
    pub fn cause(&self) -> &Error {
        match self {
            Error::PartlyWritten { error, .. } => error.cause(),
            other => other,
        }
    }

    /// The same error, from a command that writes nothing.
    pub fn read_only(self) -> Error {
        match self {
            Error::Invalid(mut inv) => {
                inv.read_only = true;
                Error::Invalid(inv)
            }
            other => other,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Process exit code for this error, as documented in docs/cli.md.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NoObjects { .. } => 1,
            Error::Invalid(_) | Error::Usage(_) | Error::BadInput { .. } => 2,
            Error::Io { .. }
            | Error::InTheWay { .. }
            | Error::NoPlatform { .. }
            | Error::Git(_)
            | Error::Other(_)
            | Error::PartlyWritten { .. } => 3,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(inv) => {
                let n = inv.diagnostics.iter().filter(|d| d.is_error()).count();
                write!(f, "invalid input: {n} error(s)")
            }
            Error::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Error::NoPlatform { dir } => write!(
                f,
                "no {} in {} or any of its parents: run kgen inside a platform's directory, or pass --platform FILE",
                crate::workspace::PLATFORM_FILE,
                dir.display()
            ),
            Error::Usage(m) | Error::Git(m) | Error::Other(m) => f.write_str(m),
            Error::BadInput { message, .. }
            | Error::InTheWay { message, .. }
            | Error::NoObjects { message, .. } => {
                f.write_str(message)
            }
            Error::PartlyWritten {
                dir,
                changed,
                error,
            } => {
                let dir = dir.strip_prefix(".").unwrap_or(dir);
                write!(
                    f,
                    "{error}; {}/ is partly updated: {} already written or removed before this error (a failing file system cannot be undone). Fix the cause and run `kgen render` again; `kgen render --check` lists what is still out of date",
                    dir.display(),
                    crate::diagnostic::plural(*changed, "file"),
                )
            }
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
