//! The terminal a run talks to: `--color`, `--quiet` and `--verbose` resolved
//! against the environment (`NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, `TERM`, whether
//! each stream is a terminal), and the progress line on stderr.

use std::io::IsTerminal;

use crate::cli::{ColorWhen, Global};
use kgen::stages;

/// `--color`, `--quiet`, `--verbose`, resolved against the environment.
pub(crate) struct Term {
    /// Colour on stderr (diagnostics) and on stdout (the diff).
    pub(crate) color_err: bool,
    pub(crate) color_out: bool,
    pub(crate) quiet: bool,
    pub(crate) verbose: bool,
    /// stderr is an interactive terminal (progress may be shown).
    pub(crate) interactive: bool,
}

impl Term {
    pub(crate) fn new(g: &Global) -> Term {
        let interactive = std::io::stderr().is_terminal();
        Term {
            color_err: wants_color(g.color, interactive),
            color_out: wants_color(g.color, std::io::stdout().is_terminal()),
            quiet: g.quiet,
            verbose: g.verbose,
            interactive: interactive && !g.quiet,
        }
    }
}

/// `--color auto`: never when NO_COLOR is set (and not empty), always when
/// CLICOLOR_FORCE is set (not empty, not `0`), never when `TERM=dumb` or
/// `CLICOLOR=0`, else when the stream is a terminal. `always` and `never` override
/// every variable.
pub(crate) fn wants_color(when: ColorWhen, tty: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    let is = |name: &str, value: &str| std::env::var_os(name).is_some_and(|v| v == value);
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                false
            } else if set("CLICOLOR_FORCE") {
                true
            } else if is("TERM", "dumb") || is("CLICOLOR", "0") {
                false
            } else {
                tty
            }
        }
    }
}

/// The progress line: an indicatif spinner on stderr, only on an interactive terminal,
/// and only once a run has taken a second (a quick run prints its one line, nothing
/// else). Cleared (dropped) before anything is printed: `Ctx::settle` (main.rs).
pub(crate) struct Progress {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    pub(crate) fn start(term: &Term) -> Option<Progress> {
        use std::sync::atomic::Ordering;
        use std::time::Duration;
        if !term.interactive {
            return None;
        }
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        // Debug builds only: a test shows the progress line at once
        // (tests/cli.rs), not after a second.
        let wait = if cfg!(debug_assertions) && std::env::var_os("KGEN_TEST_PROGRESS").is_some() {
            0
        } else {
            20
        };
        let thread = std::thread::spawn(move || {
            for _ in 0..wait {
                std::thread::sleep(Duration::from_millis(50));
                if flag.load(Ordering::Relaxed) {
                    return;
                }
            }
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .expect("a valid template"),
            );
            // The label only moves forward (`stages::progress_label`).
            let mut rank = None;
            while !flag.load(Ordering::Relaxed) {
                let label = stages::progress_label(rank);
                rank = label.map(|(r, _)| r);
                let stage = label.map_or("working", |(_, l)| l);
                let (done, total) = stages::services();
                bar.set_message(if total > 0 && rank >= Some(2) {
                    format!("{stage}: {done}/{total} services rendered")
                } else {
                    stage.to_string()
                });
                bar.tick();
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Some(Progress {
            done,
            thread: Some(thread),
        })
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
