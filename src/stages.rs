//! Where a run spends its time, stage by stage (`kgen --verbose`), and what it is
//! doing now (the progress line on an interactive terminal).
//!
//! Process-wide counters, updated on the thread that drives the pipeline (the
//! parallel parts are timed from outside, so times are wall-clock and never counted
//! twice). Reading them costs nothing when nobody asks.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The stages of the pipeline, in order (docs/cli.md, `--verbose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Load,
    Resolve,
    Render,
    Validate,
    Emit,
    Write,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Load,
        Stage::Resolve,
        Stage::Render,
        Stage::Validate,
        Stage::Emit,
        Stage::Write,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Load => "load",
            Stage::Resolve => "resolve",
            Stage::Render => "render",
            Stage::Validate => "validate",
            Stage::Emit => "emit",
            Stage::Write => "write",
        }
    }
}

static NANOS: [AtomicU64; 6] = [const { AtomicU64::new(0) }; 6];
static CURRENT: AtomicUsize = AtomicUsize::new(usize::MAX);
static SERVICES_DONE: AtomicUsize = AtomicUsize::new(0);
static SERVICES_TOTAL: AtomicUsize = AtomicUsize::new(0);

/// Runs `f`, adding its wall-clock time to `stage`.
pub fn time<T>(stage: Stage, f: impl FnOnce() -> T) -> T {
    let previous = CURRENT.swap(stage as usize, Ordering::Relaxed);
    let start = Instant::now();
    let out = f();
    NANOS[stage as usize].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    CURRENT.store(previous, Ordering::Relaxed);
    out
}

/// Time spent in each stage so far.
pub fn totals() -> Vec<(Stage, Duration)> {
    Stage::ALL
        .iter()
        .map(|&s| {
            (
                s,
                Duration::from_nanos(NANOS[s as usize].load(Ordering::Relaxed)),
            )
        })
        .collect()
}

/// The stage running now, if any.
pub fn current() -> Option<Stage> {
    Stage::ALL.get(CURRENT.load(Ordering::Relaxed)).copied()
}

/// Services to render in this run (for the progress line).
pub fn add_services_total(n: usize) {
    SERVICES_TOTAL.fetch_add(n, Ordering::Relaxed);
}

/// Services rendered so far.
pub fn add_services_done(n: usize) {
    SERVICES_DONE.fetch_add(n, Ordering::Relaxed);
}

/// (services rendered, services to render) so far.
pub fn services() -> (usize, usize) {
    (
        SERVICES_DONE.load(Ordering::Relaxed),
        SERVICES_TOTAL.load(Ordering::Relaxed),
    )
}

/// The time of every stage so far, together: the clock of `--verbose`'s `total`, and
/// of the `in N ms` of `kgen render`'s summary, so that the two agree. Process-wide,
/// like the counters: a process that runs several commands adds them up.
pub fn elapsed() -> Duration {
    totals().into_iter().map(|(_, d)| d).sum()
}

/// `d` in whole milliseconds, rounded as `--verbose` rounds (`10.6 ms` is 11).
pub fn millis(d: Duration) -> u128 {
    (d.as_nanos() + 500_000) / 1_000_000
}

/// The progress line's label, with its rank: `load`, `resolve`, then one label,
/// `render+validate`, for the stages that run batch by batch while services remain
/// (render, validate, emit and comparing with the disk take turns), then `write`.
/// Never a lower rank than `after` (the rank shown last), so the label only moves
/// forward; `None` before any stage ran.
pub fn progress_label(after: Option<usize>) -> Option<(usize, &'static str)> {
    const LABELS: [&str; 4] = ["load", "resolve", "render+validate", "write"];
    let (done, total) = services();
    let rank = current().map(|stage| match stage {
        Stage::Load => 0,
        Stage::Resolve => 1,
        Stage::Render | Stage::Validate | Stage::Emit => 2,
        Stage::Write if done < total => 2,
        Stage::Write => 3,
    });
    let rank = match (rank, after) {
        (Some(r), Some(a)) => r.max(a),
        (r, a) => r.or(a)?,
    };
    Some((rank, LABELS[rank]))
}

/// `load 3 ms, resolve 1 ms, ...`: one line per stage, for `--verbose`.
pub fn report() -> String {
    let mut out = String::new();
    let mut sum = Duration::ZERO;
    for (stage, d) in totals() {
        sum += d;
        out.push_str(&format!(
            "  {:<9}{:>9.1} ms\n",
            stage.name(),
            d.as_secs_f64() * 1000.0
        ));
    }
    out.push_str(&format!(
        "  {:<9}{:>9.1} ms\n",
        "total",
        sum.as_secs_f64() * 1000.0
    ));
    out
}
