//! SIGINT, SIGTERM or SIGHUP during `kgen render` (src/interrupt.rs): kgen removes
//! the files it has not finished (temporary files above all), releases the checkout
//! lock and exits with 128 + the signal; every file a previous render completed is
//! intact, and every file is whole (old or new), never cut short.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Platform;

/// Every file under `dir`: relative path → bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::snapshot(dir, &[])
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The state after an interrupted render: no temporary file, the lock free, every
/// file one of the two complete versions, none of the old tree's files gone, and
/// the file kgen does not own untouched.
fn assert_clean(p: &Platform, trees: &[BTreeMap<String, Vec<u8>>; 2], what: &str) {
    let now = snapshot(&p.path().join("generated"));
    let temps: Vec<_> = now.keys().filter(|k| common::is_temp(k)).collect();
    assert!(temps.is_empty(), "{what}: temporary files left: {temps:?}");
    for (rel, bytes) in &now {
        assert!(
            trees[0].get(rel) == Some(bytes) || trees[1].get(rel) == Some(bytes),
            "{what}: {rel} is neither version ({} bytes)",
            bytes.len()
        );
    }
    for rel in trees[0].keys() {
        assert!(now.contains_key(rel), "{what}: {rel} disappeared");
    }
    // The lock is free (the process that held it is gone, and nothing else has it).
    kgen::lock::CheckoutLock::acquire(p.path(), |_| panic!("{what}: the lock is still held"))
        .unwrap();
}

/// Renders both versions once (so each has its complete tree), with a file kgen
/// does not own in generated/; returns the trees and the longest render's time.
fn complete_trees(
    p: &Platform,
    versions: &[Vec<(String, String)>; 2],
) -> ([BTreeMap<String, Vec<u8>>; 2], Duration) {
    p.write("generated/NOTES.txt", "hand-written, not kgen's\n");
    let mut took = Duration::ZERO;
    let mut trees: [BTreeMap<String, Vec<u8>>; 2] = Default::default();
    for (i, v) in versions.iter().enumerate() {
        common::set_files(p, v);
        let start = Instant::now();
        let out = p.kgen(&["render", "--quiet"]);
        took = took.max(start.elapsed());
        assert_eq!(out.code, 0, "{}", out.stderr);
        trees[i] = snapshot(&p.path().join("generated"));
    }
    let differing = trees[0].iter().filter(|(k, v)| trees[1][*k] != **v).count();
    assert!(differing > 400, "only {differing} files differ");
    (trees, took)
}

/// SIGINT, SIGTERM and SIGHUP at different moments of an update render: each run
/// either finished (0) or stopped with 128 + the signal, and left no temporary file,
/// no lock, and every file whole. At least one must have been stopped while it
/// wrote, or the test proves nothing (it retries with later and earlier delays).
#[test]
fn a_signal_during_a_render_removes_its_unfinished_files_and_exits_128_plus_it() {
    let (p, versions) = common::synthetic(150);
    let (trees, took) = complete_trees(&p, &versions);
    let signals = [("INT", 130), ("TERM", 143), ("HUP", 129)];
    let (mut stopped, mut stopped_writing) = (0, 0);
    for round in 0..24 {
        if round >= 9 && stopped_writing > 0 {
            break;
        }
        let version = round % 2;
        common::set_files(&p, &versions[version]);
        let before = snapshot(&p.path().join("generated"));
        let (name, code) = signals[round % 3];
        let child = Command::new(env!("CARGO_BIN_EXE_kgen"))
            .args(["render", "--quiet"])
            .current_dir(p.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // From a third of the render's time to all of it, in steps (the writes
        // come last).
        let delay = took.mul_f64(0.35 + 0.65 * ((round * 7) % 24) as f64 / 24.0);
        std::thread::sleep(delay);
        signal(child.id(), name);
        let (status, stderr) = wait(child);
        let what = format!("round {round}, SIG{name} after {delay:?}");
        match status {
            Some(0) => {}
            Some(c) if c == code => {
                stopped += 1;
                assert!(
                    stderr.contains(&format!("kgen: interrupted (SIG{name})")),
                    "{what}: {stderr}"
                );
                if stderr.contains("while writing generated/") {
                    stopped_writing += 1;
                } else {
                    assert!(
                        stderr.ends_with("; nothing was written to generated/\n"),
                        "{what}: {stderr}"
                    );
                    let now = snapshot(&p.path().join("generated"));
                    let changed: Vec<_> = now
                        .iter()
                        .filter(|(k, v)| before.get(*k) != Some(v))
                        .map(|(k, _)| k)
                        .collect();
                    assert!(
                        changed.is_empty() && now.len() == before.len(),
                        "{what}: generated/ changed: {changed:?}"
                    );
                }
            }
            other => panic!("{what}: exit {other:?}, expected 0 or {code}: {stderr}"),
        }
        assert_clean(&p, &trees, &what);
    }
    assert!(
        stopped > 0,
        "no render was interrupted: every one finished first"
    );
    if stopped_writing == 0 {
        eprintln!("note: no signal arrived while generated/ was being written (only before)");
    }
    // The next render completes the tree.
    common::set_files(&p, &versions[1]);
    assert_eq!(p.kgen(&["render", "--quiet"]).code, 0);
    assert!(snapshot(&p.path().join("generated")) == trees[1]);
}

/// The kgen process strace runs (its only child).
fn traced_pid(strace: u32) -> Option<u32> {
    let children =
        std::fs::read_to_string(format!("/proc/{strace}/task/{strace}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// With every rename held up 50 ms (strace's fault injection), a render's
/// temporary files wait, complete, to be renamed over the stale files: a SIGINT
/// then must remove them, and leave every stale file as it was. Skipped, with the
/// reason printed, where strace is missing or may not trace.
#[test]
fn sigint_removes_the_temporary_files_of_a_render_held_up_in_its_renames() {
    let usable = Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !usable {
        eprintln!("skipped: strace is missing or cannot trace here (no ptrace)");
        return;
    }
    let (p, versions) = common::synthetic(30);
    let (trees, _) = complete_trees(&p, &versions);
    common::set_files(&p, &versions[0]);
    let child = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=rename,renameat,renameat2",
        ])
        .args(["-e", "inject=rename,renameat,renameat2:delay_enter=50000"])
        .arg(env!("CARGO_BIN_EXE_kgen"))
        .args(["render", "--quiet"])
        .current_dir(p.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for a temporary file, then interrupt kgen (not strace).
    let generated = p.path().join("generated");
    let start = Instant::now();
    let mut seen = 0;
    while start.elapsed() < Duration::from_secs(120) {
        seen = snapshot(&generated)
            .keys()
            .filter(|k| common::is_temp(k))
            .count();
        if seen > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(seen > 0, "no temporary file appeared in two minutes");
    let pid = traced_pid(child.id()).expect("kgen's pid");
    signal(pid, "INT");
    let (status, stderr) = wait(child);
    assert_eq!(status, Some(130), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("kgen: interrupted"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.starts_with("kgen: interrupted (SIGINT) while writing generated/ (")
            && line.contains(" unfinished file")
            && line.ends_with(" removed): every file there is complete, either as before or as this render made it. Run kgen render again to finish"),
        "{line}"
    );
    assert_clean(&p, &trees, "held-up renames");
    let out = p.kgen(&["render", "--quiet"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(snapshot(&generated) == trees[0]);
}
