//! The input files of one run, and how byte offsets map to lines and columns.
//!
//! Every diagnostic carries a `FileId` and a byte span; only the edge (the
//! diagnostic renderer) turns them into `file:line:col` and a snippet.

use std::ops::Range;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub usize);

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as shown to users: relative to the platform directory (`overlays/dev.toml`).
    pub display: String,
    /// Path on disk.
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of the start of every line, built on first use: diagnostics look
    /// lines up in O(log n), so thousands of them in a large file stay fast.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// 1-based line and column (in characters) of a byte offset, like [`line_col`].
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let starts = self.line_starts();
        let line = starts.partition_point(|&s| s <= offset);
        let col = self.text[starts[line - 1]..offset].chars().count() + 1;
        (line, col)
    }

    /// The text of the 1-based line `line`, like [`line_text`].
    pub fn line_text(&self, line: usize) -> &str {
        let starts = self.line_starts();
        let Some(&start) = line.checked_sub(1).and_then(|i| starts.get(i)) else {
            return "";
        };
        let end = starts.get(line).map_or(self.text.len(), |&e| e - 1);
        self.text[start..end].trim_end_matches('\r')
    }
}

/// All files read in one run. A `FileId` indexes into it.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
    /// Values refused as secrets (KG010): every message and snippet of the run masks
    /// them wherever they appear (`diagnostic::masked`), whichever rule quotes them.
    secrets: Vec<String>,
}

/// A place in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: FileId,
    pub span: Range<usize>,
}

impl Origin {
    pub fn new(file: FileId, span: Range<usize>) -> Self {
        Origin { file, span }
    }
}

impl Sources {
    /// Records a value refused as a secret (see [`Sources::mask_secrets`]).
    pub fn add_secret(&mut self, value: &str) {
        let value = value.trim().trim_matches(['"', '\'']).trim();
        // Shorter values would mask ordinary words; the scanner refuses none that short.
        if value.chars().count() >= 4 && !self.secrets.iter().any(|s| s == value) {
            self.secrets.push(value.to_string());
            // Longest first: a secret that contains another is masked whole.
            self.secrets
                .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        }
    }

    /// `text` with every recorded secret replaced by as many `*`, or `None` when it
    /// holds none.
    pub fn mask_secrets(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for s in &self.secrets {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(s.as_str()) {
                out = Some(current.replace(s.as_str(), &"*".repeat(s.chars().count())));
            }
        }
        out
    }

    pub fn add(&mut self, display: String, path: PathBuf, text: String) -> FileId {
        self.files.push(SourceFile {
            display,
            path,
            text,
            line_starts: std::sync::OnceLock::new(),
        });
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i), f))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: FileId, offset: usize) -> (usize, usize) {
        line_col(&self.get(id).text, offset)
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    (line, col)
}

/// The full text of the 1-based line `line`, without its line ending.
pub fn line_text(text: &str, line: usize) -> &str {
    text.split('\n')
        .nth(line - 1)
        .unwrap_or("")
        .trim_end_matches('\r')
}

/// The span of the TOML key whose value starts at byte `value_start` of `text`
/// (`hosts` in `hosts = [...]`, or `"hosts"` quoted; the last part of a dotted key),
/// for a finding about the key rather than its value. `None` when no `key =` precedes
/// the value (an array element, a value spanning the key).
pub fn key_before(text: &str, value_start: usize) -> Option<Range<usize>> {
    let before = text.get(..value_start)?.trim_end_matches([' ', '\t']);
    let before = before.strip_suffix('=')?.trim_end_matches([' ', '\t']);
    let end = before.len();
    let start = match before.chars().next_back()? {
        q @ ('"' | '\'') => before[..end - 1].rfind(q)?,
        _ => before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1),
    };
    (start < end).then_some(start..end)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_before_a_value() {
        fn key<'t>(text: &'t str, value: &str) -> Option<&'t str> {
            key_before(text, text.find(value).unwrap()).map(|r| &text[r])
        }
        assert_eq!(
            key("ingress = { host = \"a\", hosts = [\"b\"] }", "[\""),
            Some("hosts")
        );
        assert_eq!(key("ingress.hosts=[\"b\"]", "[\""), Some("hosts"));
        assert_eq!(key("\"hosts\" =\t[\"b\"]", "[\""), Some("\"hosts\""));
        assert_eq!(key("hosts = [\"a\", \"b\"]", "\"b\""), None);
        assert_eq!(key("[\"b\"]", "[\""), None);
    }

    #[test]
    fn the_line_index_agrees_with_the_scan() {
        let mut sources = Sources::default();
        let text = "a = 1\r\nbé = 2\n\nlast";
        let id = sources.add("x".into(), "x".into(), text.into());
        let f = sources.get(id);
        for offset in 0..=text.len() + 2 {
            assert_eq!(f.line_col(offset), line_col(text, offset), "{offset}");
        }
        for line in 1..=5 {
            assert_eq!(f.line_text(line), line_text(text, line), "{line}");
        }
    }

    #[test]
    fn lines_and_columns_are_one_based() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 3));
        assert_eq!(line_text(t, 2), "bé = 2");
    }
}
