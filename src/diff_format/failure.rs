//! The Markdown `kgen diff --format markdown` writes when there is no diff to show:
//! the head does not validate, or a ref or the repository cannot be read. A pull
//! request's comment is then replaced by the reason, rather than left describing a
//! diff that no longer exists. The error itself is still reported on stderr, once,
//! by the binary, and the exit code stays that of the error.

use std::fmt::Write as _;

use crate::diagnostic::{self, Format};
use crate::error::Error;
use crate::repo_path::RepoPaths;

/// A fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// `### kgen diff`, a `[!CAUTION]` saying why there is no diff, and the error as
/// `kgen` prints it (diagnostics without colour).
pub fn markdown_failure(e: &Error) -> String {
    let (headline, body) = match e {
        Error::Invalid(inv) => (
            "The head does not validate: no diff. Fix the errors below (`kgen validate` shows them too) and push again.",
            diagnostic::render_invalid_in(inv, Format::Human, false, &RepoPaths::default()),
        ),
        other => (
            "kgen diff failed: no diff.",
            format!(
                "kgen: error: {}\n",
                diagnostic::mask_text(&other.to_string())
            ),
        ),
    };
    let fence = fence(&body);
    let mut out = String::new();
    let _ = writeln!(out, "### kgen diff\n");
    let _ = writeln!(out, "> [!CAUTION]\n> {headline}\n");
    let _ = writeln!(out, "{fence}text\n{}\n{fence}", body.trim_end());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_longer_than_the_text_s_backticks() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }

    #[test]
    fn another_error_is_named() {
        let md = markdown_failure(&Error::Usage("no branch, tag or commit named `x`".into()));
        assert_eq!(
            md,
            "### kgen diff\n\n> [!CAUTION]\n> kgen diff failed: no diff.\n\n```text\nkgen: error: no branch, tag or commit named `x`\n```\n"
        );
    }
}
