//! GitHub Actions conventions: step outputs (`$GITHUB_OUTPUT`) and the job summary
//! (`$GITHUB_STEP_SUMMARY`). Outside Actions (variables unset) these do nothing.

use std::io::Write as _;
use std::path::PathBuf;

fn file_from(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn append(var: &str, text: &str) -> std::io::Result<bool> {
    let Some(path) = file_from(var) else {
        return Ok(false);
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(true)
}

/// Appends step outputs to `$GITHUB_OUTPUT`. Values may span lines (heredoc syntax
/// with a delimiter that does not occur in the value). Returns false outside Actions.
pub fn set_outputs(outputs: &[(&str, &str)]) -> std::io::Result<bool> {
    let mut text = String::new();
    for (name, value) in outputs {
        if value.contains('\n') {
            let mut delim = String::from("KGEN_EOF");
            while value.contains(&delim) {
                delim.push('_');
            }
            text.push_str(&format!("{name}<<{delim}\n{value}\n{delim}\n"));
        } else {
            text.push_str(&format!("{name}={value}\n"));
        }
    }
    append("GITHUB_OUTPUT", &text)
}

/// Appends Markdown to `$GITHUB_STEP_SUMMARY`. Returns false outside Actions.
pub fn append_step_summary(markdown: &str) -> std::io::Result<bool> {
    append("GITHUB_STEP_SUMMARY", markdown)
}

/// A remark of a command about what it did (not a problem in the input, which is a
/// `Diagnostic`): a sidecar left at another version by `bump-image`, a version that
/// moves backwards, a cluster `bump-chart` does not reach, a new overlay. Printed on
/// stderr as `note: …`, or with `--format github` as a workflow command, so that it
/// shows among the run's annotations and not only in its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// `::warning` (something to act on) or `::notice` (something to know).
    pub warning: bool,
    /// The annotation's title (`kgen bump-image: api/migrate stays at 2.3.0`).
    pub title: String,
    pub text: String,
}

impl Note {
    pub fn warning(title: impl Into<String>, text: impl Into<String>) -> Note {
        Note {
            warning: true,
            title: title.into(),
            text: text.into(),
        }
    }

    pub fn notice(title: impl Into<String>, text: impl Into<String>) -> Note {
        Note {
            warning: false,
            ..Note::warning(title, text)
        }
    }
}

/// The notes as `note: …` lines, or with [`Format::Github`] as `::warning title=…::…`
/// and `::notice title=…::…` workflow commands (properties and data escaped as GitHub
/// asks: `%`, `\r`, `\n`, and in properties `:` and `,`).
pub fn render_notes(notes: &[Note], format: crate::diagnostic::Format) -> String {
    let mut out = String::new();
    for n in notes {
        if format == crate::diagnostic::Format::Github {
            let level = if n.warning { "warning" } else { "notice" };
            out.push_str(&crate::diagnostic::github_file_annotation(
                level, None, &n.title, &n.text,
            ));
        } else {
            out.push_str(&format!("note: {}\n", n.text));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Format;

    #[test]
    fn notes_as_lines_or_workflow_commands() {
        let notes = [
            Note::warning(
                "kgen bump-image: api/migrate stays at 2.3.0",
                "`api/migrate` stays at 2.3.0 in dev: 100% sure,\nreally",
            ),
            Note::notice("kgen promote", "overlays/prod.toml is new"),
        ];
        assert_eq!(
            render_notes(&notes, Format::Human),
            "note: `api/migrate` stays at 2.3.0 in dev: 100% sure,\nreally\nnote: overlays/prod.toml is new\n"
        );
        assert_eq!(
            render_notes(&notes, Format::Github),
            "::warning title=kgen bump-image%3A api/migrate stays at 2.3.0::`api/migrate` stays at 2.3.0 in dev: 100%25 sure,%0Areally\n::notice title=kgen promote::overlays/prod.toml is new\n"
        );
    }
}
