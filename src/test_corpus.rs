//! Test-only: the strings that equivalence tests feed to a check and to its previous
//! implementation (kept as an oracle) to prove that a faster version answers the
//! same. They come from a fuzzing campaign's corpus (`.fuzz/corpus/`, or the directory
//! `KGEN_FUZZ_CORPUS` names, when there is one), the fuzz seeds and regressions (`.fuzz/`), the repository's own platform
//! and examples and the tests' platforms, cut into whole lines, quoted strings,
//! TOML keys and words, plus generated edge cases: every short string over a small
//! alphabet that matters to the checks, unicode, and long strings.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Most bytes read from one corpus file (fuzz inputs can be large).
const MAX_FILE_BYTES: usize = 64 * 1024;
/// Most strings taken from all the files, so that a test stays in seconds.
const MAX_STRINGS: usize = 400_000;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with(".git") {
                files_under(&path, out);
            }
        } else if path
            .extension()
            .is_none_or(|e| matches!(e.to_str(), Some("toml" | "yaml" | "yml" | "json" | "txt")))
        {
            out.push(path);
        }
    }
}

/// Every input file the strings are taken from.
fn corpus_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    // A fuzzing campaign's corpus (docs/testing.md#fuzzing keeps it in
    // `.fuzz/corpus/`, not committed), or the one `KGEN_FUZZ_CORPUS` names.
    let fuzzed = std::env::var_os("KGEN_FUZZ_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".fuzz/corpus"));
    if fuzzed.is_dir() {
        files_under(&fuzzed, &mut files);
    } else {
        eprintln!(
            "note: no fuzz corpus at {} (set KGEN_FUZZ_CORPUS): the equivalence tests use the seeds, examples and tests only",
            fuzzed.display()
        );
    }
    for dir in [
        ".fuzz/seeds",
        ".fuzz/regressions",
        "examples",
        "tests",
        "overlays",
    ] {
        files_under(&root.join(dir), &mut files);
    }
    files.push(root.join("platform.toml"));
    files
}

/// Pieces of one text: lines, quoted strings, `key =` names and words.
fn pieces(text: &str, out: &mut BTreeSet<String>) {
    // Most pieces recur: allocate only for a new one.
    let mut add = |piece: &str| {
        if !out.contains(piece) {
            out.insert(piece.to_string());
        }
    };
    for line in text.lines() {
        add(line);
        let trimmed = line.trim();
        add(trimmed);
        if let Some((key, value)) = trimmed.split_once('=') {
            add(key.trim().trim_matches('"'));
            add(value.trim().trim_matches('"'));
        }
        for quote in ['"', '\''] {
            for (k, part) in line.split(quote).enumerate() {
                if k % 2 == 1 {
                    add(part);
                }
            }
        }
        for word in line.split(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '{' | '}' | '[' | ']' | '=')
        }) {
            add(word);
            add(word.trim_matches(|c: char| !c.is_alphanumeric()));
        }
    }
}

/// Generated edge cases: every string of up to `len` characters over `alphabet`.
pub fn all_strings(alphabet: &[&str], len: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..len {
        let next: Vec<String> = last
            .iter()
            .flat_map(|s| alphabet.iter().map(move |a| format!("{s}{a}")))
            .collect();
        out.extend(next.iter().cloned());
        last = next;
    }
    out
}

/// Unicode and long strings that every equivalence test adds to its own.
fn edge_cases() -> Vec<String> {
    let mut out: Vec<String> = [
        "",
        " ",
        "\t",
        "\n",
        "é",
        "ß",
        "İ",
        "K",
        "ǅ",
        "Σ",
        "日本",
        "🙂",
        "\u{0}",
        "\u{7f}",
        "a\u{301}",
        "ＡＢＣ",
        "\u{212A}EY",
        "\u{212A}ey",
        "pa\u{17F}\u{17F}word",
        "İD_TOKEN",
        "PASSWORDß",
        "ǄǅǆKey",
        "ΣΣ_SECRET",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for unit in [
        "a", "-", ".", "a.", "a-b.", "/", "x/", "ab", "Ab1", "=", "://", "eyJ",
    ] {
        for n in [62, 63, 64, 252, 253, 254, 300, 5000] {
            out.push(unit.repeat(n / unit.len().max(1)));
        }
    }
    out
}

/// The text of every corpus file (its first [`MAX_FILE_BYTES`], lossily UTF-8).
pub fn texts() -> impl Iterator<Item = String> {
    corpus_files().into_iter().filter_map(|path| {
        let bytes = std::fs::read(&path).ok()?;
        Some(String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_FILE_BYTES)]).into_owned())
    })
}

/// The strings of every corpus file (see the module documentation), deduplicated,
/// with [`edge_cases`].
/// Read once per test process, shared by the tests that use them.
pub fn strings() -> Vec<String> {
    static STRINGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    STRINGS
        .get_or_init(|| {
            let mut set = BTreeSet::new();
            for text in texts() {
                pieces(&text, &mut set);
                if set.len() >= MAX_STRINGS {
                    break;
                }
            }
            set.extend(edge_cases());
            set.into_iter().collect()
        })
        .clone()
}
