//! `cargo bench --bench stages [-- DIR]`: times each in-process stage of a render
//! (load, resolve, render, validate, emit, compare with `generated/`, write into an
//! empty directory) on a platform directory, median of 5 runs. Stage by stage, the
//! whole platform at once (`compile` streams environment by environment instead).
//! Without DIR it generates a 1,000-service platform with scripts/gen-platform.py.
//! Prints a table; asserts nothing (speed targets live here, not in tests).

use std::path::PathBuf;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let dir = std::env::temp_dir().join("kgen-bench-1000");
            if !dir.join("platform.toml").exists() {
                let status = std::process::Command::new("python3")
                    .arg(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/scripts/gen-platform.py"
                    ))
                    .arg("1000")
                    .arg(&dir)
                    .status()
                    .expect("run scripts/gen-platform.py");
                assert!(status.success());
            }
            dir
        });
    let platform = dir.join("platform.toml");
    let mut stages: Vec<(&str, Vec<Duration>)> = vec![
        ("load", vec![]),
        ("resolve", vec![]),
        ("render", vec![]),
        ("validate", vec![]),
        ("emit", vec![]),
        ("compare", vec![]),
        ("write", vec![]),
        ("total", vec![]),
    ];
    let mut objects = 0;
    for _ in 0..5 {
        let t0 = Instant::now();
        let ws = kgen::Workspace::load(&platform).expect("load");
        let t1 = Instant::now();
        let spec = kgen::resolve::resolve(&ws, &[]).expect("resolve");
        let t2 = Instant::now();
        let objs = kgen::render::platform(&spec);
        let t3 = Instant::now();
        let report = kgen::validate::check(&spec, &objs);
        assert!(
            !report
                .diagnostics
                .iter()
                .any(kgen::diagnostic::Diagnostic::is_error),
            "the platform does not validate"
        );
        let t4 = Instant::now();
        let tree = kgen::emit::emit_with_waivers(&spec, &objs, &report.waived);
        let t5 = Instant::now();
        let _ =
            kgen::write::compare(&ws.generated_dir(), &tree, &[String::new()]).expect("compare");
        let t6 = Instant::now();
        // A full render's writes: every file into an empty directory next to DIR.
        let out = dir.with_file_name(format!("kgen-bench-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let t7 = Instant::now();
        let c = kgen::write::compare(&out, &tree, &[String::new()]).expect("compare empty");
        kgen::write::apply(&out, &tree, &c).expect("write");
        let t8 = Instant::now();
        std::fs::remove_dir_all(&out).expect("remove the written tree");
        objects = objs.len();
        for (i, d) in [
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t4 - t3,
            t5 - t4,
            t6 - t5,
            t8 - t7,
            (t6 - t0) + (t8 - t7),
        ]
        .into_iter()
        .enumerate()
        {
            stages[i].1.push(d);
        }
    }
    println!(
        "platform: {} ({objects} objects), median of 5 runs",
        dir.display()
    );
    println!("{:<10} {:>10}", "stage", "ms");
    for (name, times) in stages {
        println!("{name:<10} {:>10.1}", median(times).as_secs_f64() * 1000.0);
    }
}
