//! Diagnostics: problems found in the input, as data.
//!
//! Every stage reports problems by returning `Diagnostic`s that carry a rule code, a
//! message, the input location (`Origin`) and, when known, the generated file and
//! field the value ends up in. They are rendered exactly once, at the edge, in one of
//! three formats: human (rustc-style with a snippet), JSON, or GitHub annotations.

use std::fmt::Write as _;

use serde::Serialize;

use crate::repo_path::RepoPaths;
use crate::rules;
use crate::source::{Origin, Sources};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The generated object and field a diagnostic ends up in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Path of the generated file, e.g. `generated/prod/main-api/hpa.yaml`.
    pub file: String,
    /// Dotted field path inside the object, e.g. `spec.minReplicas`.
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable rule code, documented in docs/rules.md (`KG002`).
    pub code: &'static str,
    pub message: String,
    pub origin: Option<Origin>,
    /// Short text printed under the caret.
    pub label: Option<String>,
    pub help: Option<String>,
    pub target: Option<Target>,
    /// The value at `origin` must not be shown: the snippet masks it (secrets).
    pub redact: bool,
    /// The whole line of `origin` must not be shown (a line that holds a
    /// secret-looking value in a file that is not valid TOML): the snippet masks it.
    pub redact_line: bool,
    /// The environments the problem is in, when the stage that found it knows them
    /// and neither `target` nor an overlay `origin` says it (a `calls` of
    /// platform.toml to a service disabled in one environment). Empty: as `target`
    /// and `origin` say, or the platform as a whole. See `selection`.
    pub envs: Vec<String>,
    /// A remark printed after the target (`= note: ...`): why a problem outside
    /// what the run was asked for still counts (see `selection`).
    pub note: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            origin: None,
            label: None,
            help: None,
            target: None,
            redact: false,
            redact_line: false,
            envs: Vec::new(),
            note: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, origin: Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    pub fn at_opt(mut self, origin: Option<Origin>) -> Self {
        self.origin = origin;
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn target(mut self, file: impl Into<String>, field: impl Into<String>) -> Self {
        self.target = Some(Target {
            file: file.into(),
            field: field.into(),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Masks the value at the origin in snippets (for secret-looking values).
    pub fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Github,
}

/// Sorts diagnostics by file and position so that output is stable.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.origin.as_ref().map(|o| (o.file, o.span.start)),
                d.severity,
                d.code,
                d.message.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// Removes each diagnostic equal to the one before it but for `envs` (the same
/// mistake in a shared layer, found once per environment), keeping the environments
/// of both. `diags` is sorted ([`sort`]).
pub fn dedup(diags: &mut Vec<Diagnostic>) {
    diags.dedup_by(|later, kept| {
        // Compared without their environments, which are set aside, not copied.
        let (later_envs, kept_envs) = (
            std::mem::take(&mut later.envs),
            std::mem::take(&mut kept.envs),
        );
        let same = later == kept;
        kept.envs = kept_envs;
        later.envs = later_envs;
        if same {
            add_envs(kept, &later.envs);
        }
        same
    });
}

/// Adds `envs` to the environments of `d` (kept sorted, without duplicates).
pub fn add_envs(d: &mut Diagnostic, envs: &[String]) {
    for e in envs {
        if let Err(i) = d.envs.binary_search(e) {
            d.envs.insert(i, e.clone());
        }
    }
}

/// The one masking rule, applied to every diagnostic as it is rendered, in every
/// format: each secret-looking piece of the message, label, help and target
/// (`secret_scan::mask_message`: a known secret shape, or a random-looking token) is
/// replaced by `***`, and a snippet whose value at the origin looks like a secret is
/// masked (the rest of the snippet line is masked as it is printed: each string the
/// secret scan would refuse whole, `secret_scan::mask_line`, and every value refused
/// in the run, before a long line is cut to its window). Rules need not (and cannot
/// reliably) mask the values they quote.
pub fn masked(d: &Diagnostic, sources: &Sources) -> Diagnostic {
    let mut d = d.clone();
    let mask = |s: &mut String| {
        if let Some(m) = sources.mask_secrets(s) {
            *s = m;
        }
        if let Some(m) = crate::secret_scan::mask_message(s) {
            *s = m;
        }
    };
    mask(&mut d.message);
    if let Some(l) = d.label.as_mut() {
        mask(l);
    }
    if let Some(h) = d.help.as_mut() {
        mask(h);
    }
    if let Some(n) = d.note.as_mut() {
        mask(n);
    }
    if let Some(t) = d.target.as_mut() {
        mask(&mut t.field);
    }
    if d.help.is_none() {
        if let Some((problem, advice)) = split_advice(&d.message) {
            d.help = Some(advice);
            d.message = problem;
        }
    }
    if !d.redact {
        if let Some(o) = &d.origin {
            let value = sources
                .get(o.file)
                .text
                .get(o.span.clone())
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\'']);
            // An inline table or array is no one value: each string in it is
            // judged under its own key as the line is printed (`mask_line`), so
            // that a key written in it (`secret = "shop-shared"`, a Secret's name)
            // does not mask the whole table.
            let compound = value.starts_with('{') || value.starts_with('[');
            if value.len() <= 64 * 1024 && !compound && crate::secret_scan::looks_secret(value) {
                d.redact = true;
            }
        }
    }
    d
}

/// Words that start the advice at the end of a message (`<problem>: use …`).
const ADVICE_VERBS: &[&str] = &[
    "use", "write", "start", "put", "leave", "remove", "save", "split", "rename", "add", "set",
    "quote", "pass", "move", "keep", "give", "choose", "drop", "replace", "suffixes", "a plain",
];

/// A message `<problem>: <advice>` (the advice starting with one of
/// [`ADVICE_VERBS`]) as the problem and the advice, so that every error whose rule
/// wrote how to fix it into its message shows it as a help line, in every format.
pub(crate) fn split_advice(message: &str) -> Option<(String, String)> {
    let mut from = 0;
    while let Some(i) = message[from..].find(": ").map(|i| from + i) {
        let rest = &message[i + 2..];
        if starts_with_advice(rest) && i > 0 {
            return Some((message[..i].to_string(), rest.to_string()));
        }
        from = i + 2;
    }
    // "...: it contains a tag, so put the tag in `tag`": the reason stays, the advice
    // after ", so " is the help.
    let i = message.find(", so ")?;
    let rest = &message[i + 5..];
    starts_with_advice(rest).then(|| (message[..i].to_string(), rest.to_string()))
}

/// Whether `text` starts with one of [`ADVICE_VERBS`] as a word.
fn starts_with_advice(text: &str) -> bool {
    ADVICE_VERBS.iter().any(|v| {
        text.strip_prefix(v)
            .is_some_and(|after| after.starts_with(' ') || after.starts_with(','))
    })
}

/// [`masked`] for a text that is not a diagnostic (an I/O or usage error).
pub fn mask_text(text: &str) -> std::borrow::Cow<'_, str> {
    match crate::secret_scan::mask_message(text) {
        Some(m) => std::borrow::Cow::Owned(m),
        None => std::borrow::Cow::Borrowed(text),
    }
}

pub fn render(diags: &[Diagnostic], sources: &Sources, format: Format, color: bool) -> String {
    render_in(diags, sources, format, color, &RepoPaths::default())
}

/// [`render`], with GitHub annotations naming files relative to `repo`'s top level.
pub fn render_in(
    diags: &[Diagnostic],
    sources: &Sources,
    format: Format,
    color: bool,
    repo: &RepoPaths,
) -> String {
    match format {
        Format::Github => render_github_in(diags, sources, repo),
        Format::Human => render_human(diags, sources, color),
        Format::Json => render_json(diags, sources),
    }
}

/// [`render`] for a command that writes nothing (`kgen validate`): the closing line
/// counts errors and warnings without saying that nothing was written.
pub fn render_read_only(
    diags: &[Diagnostic],
    sources: &Sources,
    format: Format,
    color: bool,
) -> String {
    render_read_only_in(diags, sources, format, color, &RepoPaths::default())
}

/// [`render_read_only`], with GitHub annotations naming files relative to `repo`.
pub fn render_read_only_in(
    diags: &[Diagnostic],
    sources: &Sources,
    format: Format,
    color: bool,
    repo: &RepoPaths,
) -> String {
    match format {
        Format::Github => render_github_in(diags, sources, repo),
        Format::Human => render_human_footer(diags, sources, color, false, false),
        Format::Json => render_json(diags, sources),
    }
}

/// The closing line's note when some checks wait for the errors to be fixed
/// ([`crate::error::Invalid::waiting`]).
pub const WAITING: &str =
    "the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)";

/// Invalid input as [`render_in`] or [`render_read_only_in`] show it (as its command
/// says), the closing line saying which checks wait.
pub fn render_invalid_in(
    inv: &crate::error::Invalid,
    format: Format,
    color: bool,
    repo: &RepoPaths,
) -> String {
    match format {
        Format::Human => render_human_footer(
            &inv.diagnostics,
            &inv.sources,
            color,
            !inv.read_only,
            inv.waiting,
        ),
        _ => render_in(&inv.diagnostics, &inv.sources, format, color, repo),
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Most errors about the shape of the input files (KG001–KG004: syntax, unknown keys,
/// wrong types, missing keys) the human format prints in one run. A file with a
/// systematic mistake can have thousands; the others are counted, and listed by
/// `--format json`.
pub const MAX_SHOWN_INPUT_ERRORS: usize = 50;

/// Widest snippet line printed, in characters (longer lines are cut around the column).
pub const SNIPPET_WIDTH: usize = 160;

/// An error about the shape of an input file (see [`MAX_SHOWN_INPUT_ERRORS`]).
fn is_input_shape_error(d: &Diagnostic) -> bool {
    d.is_error()
        && matches!(
            d.code,
            rules::TOML_SYNTAX | rules::UNKNOWN_KEY | rules::WRONG_TYPE | rules::MISSING_KEY
        )
}

/// rustc-style output: `error[KG002]: message`, ` --> file:line:col`, a snippet.
/// Prints at most [`MAX_SHOWN_INPUT_ERRORS`] input-shape errors and says how many more
/// there are; the closing count includes them.
pub fn render_human(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    render_human_footer(diags, sources, color, true, false)
}

/// [`render_human`], saying "nothing was written" after the errors when `writes`,
/// and that some checks wait ([`WAITING`]) when `waiting`.
fn render_human_footer(
    diags: &[Diagnostic],
    sources: &Sources,
    color: bool,
    writes: bool,
    waiting: bool,
) -> String {
    let diags: Vec<Diagnostic> = diags.iter().map(|d| masked(d, sources)).collect();
    let diags = diags.as_slice();
    let p = Paint { on: color };
    let mut out = String::new();
    let mut input_errors = 0;
    for d in diags {
        if is_input_shape_error(d) {
            input_errors += 1;
            if input_errors > MAX_SHOWN_INPUT_ERRORS {
                continue;
            }
        }
        let (word, code) = match d.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        let _ = writeln!(
            out,
            "{}{}",
            p.wrap(code, &format!("{word}[{}]", d.code)),
            p.wrap("1", &format!(": {}", d.message))
        );
        let gutter_width;
        if let Some(origin) = &d.origin {
            let file = sources.get(origin.file);
            let (line, col) = file.line_col(origin.span.start);
            let num = line.to_string();
            gutter_width = num.len();
            let pad = " ".repeat(gutter_width);
            let _ = writeln!(
                out,
                "{pad}{} {}:{line}:{col}",
                p.wrap("1;34", "-->"),
                file.display
            );
            let line_str = file.line_text(line);
            let mut masked;
            let text = if d.redact_line {
                let indent = line_str.len() - line_str.trim_start().len();
                masked = format!(
                    "{}{}",
                    &line_str[..indent],
                    "*".repeat(line_str[indent..].chars().count())
                );
                masked.as_str()
            } else if let Some(m) = crate::secret_scan::mask_line(line_str) {
                // Another secret-looking token on the line (not the value at fault).
                masked = m;
                if d.redact {
                    masked = mask(&masked, col - 1, origin.span.len());
                }
                masked.as_str()
            } else if d.redact {
                masked = mask(line_str, col - 1, origin.span.len());
                // The same text elsewhere on the line (another value) is masked too.
                let value = file
                    .text
                    .get(origin.span.clone())
                    .unwrap_or("")
                    .trim_matches(['"', '\''])
                    .lines()
                    .next()
                    .unwrap_or("");
                if value.len() >= 4 {
                    masked = masked.replace(value, &"*".repeat(value.chars().count()));
                }
                masked.as_str()
            } else {
                line_str
            };
            // A value refused as a secret elsewhere in the run, on this line: masked
            // on the whole line, before it is cut to a window that could cut the
            // value in two.
            let recorded = sources.mask_secrets(text);
            let text = recorded.as_deref().unwrap_or(text);
            let bar = p.wrap("1;34", "|");
            // A long line (a minified value, arrays nested 200,000 deep) is shown as
            // a window of at most SNIPPET_WIDTH characters around the column.
            let start_col = col - 1;
            let chars = text.chars().count();
            let (shown, start_col) = if chars > SNIPPET_WIDTH {
                let from = start_col.saturating_sub(SNIPPET_WIDTH / 3);
                let to = (from + SNIPPET_WIDTH).min(chars);
                let window: String = text.chars().skip(from).take(to - from).collect();
                let before = if from > 0 { "…" } else { "" };
                let after = if to < chars { "…" } else { "" };
                (
                    format!("{before}{window}{after}"),
                    start_col - from + before.chars().count(),
                )
            } else {
                (text.to_string(), start_col)
            };
            let text = shown.as_str();
            let _ = writeln!(out, "{pad} {bar}");
            let _ = writeln!(out, "{} {bar} {}", p.wrap("1;34", &num), expand_tabs(text));
            // Caret under the span, limited to this line, in terminal columns: a tab is
            // shown as TAB_WIDTH spaces, CJK and emoji take two columns, combining
            // marks none (unicode-width, as rustc does).
            let span_chars = file
                .text
                .get(origin.span.clone())
                .unwrap_or("")
                .split('\n')
                .next()
                .unwrap_or("")
                .chars()
                .count();
            let indent = " ".repeat(columns(text.chars().take(start_col)));
            let width = columns(text.chars().skip(start_col).take(span_chars)).max(1);
            let carets = p.wrap(code, &"^".repeat(width));
            match &d.label {
                Some(label) => {
                    let _ = writeln!(out, "{pad} {bar} {indent}{carets} {}", p.wrap(code, label));
                }
                None => {
                    let _ = writeln!(out, "{pad} {bar} {indent}{carets}");
                }
            }
        } else {
            gutter_width = 1;
        }
        let pad = " ".repeat(gutter_width);
        if let Some(t) = &d.target {
            let _ = writeln!(out, "{pad} = in: {}: {}", t.file, t.field);
        }
        if let Some(note) = &d.note {
            let _ = writeln!(out, "{pad} = {} {note}", p.wrap("1", "note:"));
        }
        if let Some(help) = &d.help {
            let _ = writeln!(out, "{pad} = {} {help}", p.wrap("1", "help:"));
        }
        out.push('\n');
    }
    if let Some(hidden) = input_errors
        .checked_sub(MAX_SHOWN_INPUT_ERRORS)
        .filter(|&n| n > 0)
    {
        let _ = writeln!(
            out,
            "... and {} (KG001-KG004) not shown: kgen prints the first {MAX_SHOWN_INPUT_ERRORS} of them; `--format json` lists every one\n",
            plural(hidden, "more input error")
        );
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        let _ = writeln!(
            out,
            "{}",
            p.wrap(
                "1;31",
                &format!(
                    "error: {}{}{}{}",
                    plural(errors, "error"),
                    // Where checks wait, so do most warnings: none is not a count.
                    if waiting && warnings == 0 {
                        String::new()
                    } else {
                        format!(" and {}", plural(warnings, "warning"))
                    },
                    if writes { "; nothing was written" } else { "" },
                    if waiting {
                        format!("; {WAITING}")
                    } else {
                        String::new()
                    }
                )
            )
        );
    }
    out
}

/// How many columns a tab takes in a snippet (rustc uses 4 too).
const TAB_WIDTH: usize = 4;

/// `line` with every tab as [`TAB_WIDTH`] spaces, so the carets below line up.
fn expand_tabs(line: &str) -> std::borrow::Cow<'_, str> {
    if line.contains('\t') {
        line.replace('\t', &" ".repeat(TAB_WIDTH)).into()
    } else {
        line.into()
    }
}

/// Terminal columns `chars` take once printed (tabs as [`TAB_WIDTH`] spaces).
fn columns(chars: impl Iterator<Item = char>) -> usize {
    use unicode_width::UnicodeWidthChar;
    chars
        .map(|c| match c {
            '\t' => TAB_WIDTH,
            c => c.width().unwrap_or(0),
        })
        .sum()
}

/// `line` with `len` bytes from character `start_col` replaced by `*` (quotes kept).
fn mask(line: &str, start_col: usize, len: usize) -> String {
    let start = line
        .char_indices()
        .nth(start_col)
        .map_or(line.len(), |(i, _)| i);
    let end = (start + len).min(line.len());
    let end = (end..=line.len())
        .find(|i| line.is_char_boundary(*i))
        .unwrap_or(line.len());
    let value = &line[start..end];
    let inner: String = value
        .char_indices()
        .map(|(i, c)| {
            let edge = i == 0 || i + c.len_utf8() == value.len();
            if edge && (c == '"' || c == '\'') {
                c
            } else {
                '*'
            }
        })
        .collect();
    format!("{}{inner}{}", &line[..start], &line[end..])
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    /// The text under the caret in the human format (`did you mean `port`?`).
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generated_file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// One JSON array of objects with `severity`, `code`, `message`, `file`, `line`,
/// `column`, `label`, `help`, `generated_file`, `field`, `note` (each optional one
/// absent when the diagnostic has none).
pub fn render_json(diags: &[Diagnostic], sources: &Sources) -> String {
    let mut s =
        serde_json::to_string_pretty(&json_value(diags, sources)).expect("diagnostics serialise");
    s.push('\n');
    s
}

/// The diagnostics as a JSON array (the `diagnostics` of kgen's JSON output).
pub fn json_value(diags: &[Diagnostic], sources: &Sources) -> serde_json::Value {
    let diags: Vec<Diagnostic> = diags.iter().map(|d| masked(d, sources)).collect();
    let diags = diags.as_slice();
    let items: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| {
            let loc = d.origin.as_ref().map(|o| {
                let f = sources.get(o.file);
                let (l, c) = f.line_col(o.span.start);
                (f.display.as_str(), l, c)
            });
            JsonDiagnostic {
                severity: d.severity,
                code: d.code,
                message: &d.message,
                file: loc.map(|l| l.0),
                line: loc.map(|l| l.1),
                column: loc.map(|l| l.2),
                label: d.label.as_deref(),
                help: d.help.as_deref(),
                generated_file: d.target.as_ref().map(|t| t.file.as_str()),
                field: d.target.as_ref().map(|t| t.field.as_str()),
                note: d.note.as_deref(),
            }
        })
        .collect();
    serde_json::to_value(&items).expect("diagnostics serialise")
}

/// GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`,
/// the message followed by the label, `note: …` and `help: …` lines when the
/// diagnostic has them, with paths as kgen shows them (see [`render_github_in`]).
pub fn render_github(diags: &[Diagnostic], sources: &Sources) -> String {
    render_github_in(diags, sources, &RepoPaths::default())
}

/// [`render_github`] naming files relative to the repository's top level, as GitHub
/// needs to put the annotation on the right file.
pub fn render_github_in(diags: &[Diagnostic], sources: &Sources, repo: &RepoPaths) -> String {
    let diags: Vec<Diagnostic> = diags.iter().map(|d| masked(d, sources)).collect();
    let diags = diags.as_slice();
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = Vec::new();
        if let Some(o) = &d.origin {
            let f = sources.get(o.file);
            let (l, c) = f.line_col(o.span.start);
            props.push(format!(
                "file={}",
                gh_property(&repo.name(&f.path, &f.display))
            ));
            props.push(format!("line={l}"));
            props.push(format!("col={c}"));
        }
        props.push(format!(
            "title={}",
            gh_property(&format!("kgen {}", d.code))
        ));
        // The message, then what the human format prints under the caret (a "did you
        // mean"), the note and the help, a line each.
        let mut msg = d.message.clone();
        if let Some(l) = &d.label {
            msg.push('\n');
            msg.push_str(l);
        }
        if let Some(n) = &d.note {
            msg.push_str("\nnote: ");
            msg.push_str(n);
        }
        if let Some(h) = &d.help {
            msg.push_str("\nhelp: ");
            msg.push_str(h);
        }
        let _ = writeln!(out, "::{level} {}::{}", props.join(","), gh_data(&msg));
    }
    out
}

/// One annotation about a file as a whole (a stale generated file, an unreadable
/// input): `::error file=…,title=…::message`, `file` as GitHub names it.
pub fn github_file_annotation(level: &str, file: Option<&str>, title: &str, msg: &str) -> String {
    let mut props = Vec::new();
    if let Some(f) = file {
        props.push(format!("file={}", gh_property(f)));
    }
    props.push(format!("title={}", gh_property(title)));
    format!("::{level} {}::{}\n", props.join(","), gh_data(msg))
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// "did you mean `x`?" for a misspelt name among `candidates`.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate a misspelt `name` is closest to, if one is close enough (by edit
/// distance, a transposition counting once), for a "did you mean" of another shape;
/// else the one candidate `name` abbreviates (`prod` for `production`: at least three
/// characters, and no other candidate starts with them).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    let mut prefix_of: Vec<&str> = Vec::new();
    for c in candidates {
        let d = strsim::damerau_levenshtein(name, c);
        let close = d <= (c.chars().count() / 3).max(1) || strsim::jaro_winkler(name, c) > 0.88;
        if close && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
        if name.chars().count() >= 3 && c.len() > name.len() && c.starts_with(name) {
            prefix_of.push(c);
        }
    }
    best.map(|(_, c)| c).or(match prefix_of.as_slice() {
        [only] => Some(*only),
        _ => None,
    })
}

/// The path (`spec.replicas`, `registry/team/api`: segments joined by `sep`) a
/// misspelt `written` was meant to be: among the paths beside it (same parent) when
/// there are any, by their last segment, else among them all (a misspelt parent).
/// Whole paths alone would find any sibling close for the long prefix they share.
pub fn closest_path<'a>(
    written: &str,
    sep: char,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<String> {
    if let Some((parent, leaf)) = written.rsplit_once(sep) {
        let siblings: Vec<&str> = candidates
            .clone()
            .into_iter()
            .filter_map(|p| p.strip_prefix(parent)?.strip_prefix(sep))
            .filter(|rest| !rest.contains(sep))
            .collect();
        if !siblings.is_empty() {
            return closest(leaf, siblings).map(|l| format!("{parent}{sep}{l}"));
        }
    }
    closest(written, candidates).map(str::to_string)
}

/// The option a value outside a fixed set was meant to be: the one it equals but for
/// case (`tcp` for `TCP`), else the closest ([`closest`]).
pub fn meant_option<'a>(value: &str, options: &[&'a str]) -> Option<&'a str> {
    options
        .iter()
        .copied()
        .find(|o| o.eq_ignore_ascii_case(value))
        .or_else(|| closest(value, options.iter().copied()))
        .filter(|o| *o != value)
}

#[cfg(test)]
mod tests {
    use super::split_advice;

    #[test]
    fn an_abbreviation_is_meant_when_one_candidate_starts_with_it() {
        use super::closest;
        let envs = ["dev", "production", "staging"];
        assert_eq!(closest("prod", envs), Some("production"));
        assert_eq!(closest("stag", envs), Some("staging"));
        assert_eq!(closest("pr", envs), None, "too short to abbreviate");
        assert_eq!(
            closest("pro", ["production", "protection"]),
            None,
            "two candidates"
        );
        assert_eq!(closest("prdo", ["prod", "dev"]), Some("prod"));
    }

    #[test]
    fn an_option_is_meant_by_its_case_or_its_spelling() {
        use super::meant_option;
        let types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
        assert_eq!(meant_option("ClusterIp", &types), Some("ClusterIP"));
        assert_eq!(meant_option("clusterip", &types), Some("ClusterIP"));
        assert_eq!(meant_option("LoadBalancr", &types), Some("LoadBalancer"));
        assert_eq!(meant_option("Headless", &types), None);
        assert_eq!(meant_option("tcp", &["TCP", "UDP", "SCTP"]), Some("TCP"));
    }

    #[test]
    fn advice_after_a_colon_or_after_so_becomes_the_help() {
        assert_eq!(
            split_advice("\"Main_API\" is not a valid name: use lowercase letters"),
            Some((
                "\"Main_API\" is not a valid name".into(),
                "use lowercase letters".into()
            ))
        );
        assert_eq!(
            split_advice("\"a:1\" is not a valid image repository: it contains a tag, so put the tag in `tag`"),
            Some((
                "\"a:1\" is not a valid image repository: it contains a tag".into(),
                "put the tag in `tag`".into()
            ))
        );
        assert_eq!(split_advice("no advice here: it is what it is"), None);
        assert_eq!(split_advice("it failed, so what"), None);
    }
}
