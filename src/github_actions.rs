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
