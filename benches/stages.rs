//! `cargo bench --bench stages [-- DIR]`: times each in-process stage of a render
//! (load, resolve, render, emit, compare) on a platform directory, median of 5 runs.
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
        ("emit", vec![]),
        ("compare", vec![]),
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
        let tree = kgen::emit::emit(&spec, &objs);
        let t4 = Instant::now();
        let _ =
            kgen::write::compare(&ws.generated_dir(), &tree, &[String::new()]).expect("compare");
        let t5 = Instant::now();
        objects = objs.len();
        for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0]
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
