//! The man pages of `kgen man`: what clap_mangen makes of a command's definition
//! (name, synopsis, description, options, commands, version), and the sections clap
//! knows nothing of: EXAMPLES (a command's long help after `Examples:`), FILES (the
//! top-level help's note on where platform.toml is found), EXIT STATUS and
//! ENVIRONMENT, the same on every page (docs/cli.md says the same).

use std::io::Write;
use std::path::Path;

use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

/// A roff request without arguments.
const NO_ARGS: [&str; 0] = [];

/// The heading a command's long help (`after_long_help`) starts its examples with.
pub const EXAMPLES_HEADING: &str = "Examples:";

/// The exit codes, as docs/cli.md lists them.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success (for render --check: generated/ is fresh)."),
    (
        "1",
        "Differences found (render --check, diff --exit-code); cmp discover: not a kgen platform; validate - or validate FILE: no objects read (without --allow-empty).",
    ),
    (
        "2",
        "Invalid input or usage: nothing was written.",
    ),
    (
        "3",
        "An I/O or git operation failed (an unreadable path, a file kgen did not write at the path of one it must write, a read-only directory, --commit without a git identity).",
    ),
    ("101", "Internal error: a bug in kgen (please report it with the message)."),
    (
        "129, 130, 143",
        "kgen render stopped by SIGHUP, SIGINT (Ctrl-C) or SIGTERM (128 + the signal): it removed the files it had not finished; every file in generated/ is whole.",
    ),
    (
        "141",
        "The reader of standard output went away (kgen schema | head -1): kgen stops quietly, as a process killed by SIGPIPE.",
    ),
];

/// The environment variables kgen reads, as docs/cli.md lists them.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "NO_COLOR",
        "Set and not empty: no colour with --color auto (the default).",
    ),
    (
        "CLICOLOR_FORCE",
        "Set, not empty and not 0: colour with --color auto even when the output is not a terminal (NO_COLOR wins).",
    ),
    (
        "CLICOLOR",
        "0: no colour with --color auto (CLICOLOR_FORCE wins).",
    ),
    (
        "TERM",
        "dumb: no colour with --color auto (CLICOLOR_FORCE wins).",
    ),
    (
        "GITHUB_OUTPUT, GITHUB_STEP_SUMMARY",
        "Set by GitHub Actions: bump-image, bump-chart and promote append their outputs to GITHUB_OUTPUT and a summary to GITHUB_STEP_SUMMARY; diff appends its report to GITHUB_STEP_SUMMARY.",
    ),
    (
        "GITHUB_ACTIONS",
        "true: --commit falls back to github-actions[bot] when no git identity is configured.",
    ),
    (
        "GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME, GIT_COMMITTER_EMAIL",
        "Who --commit commits as, before the repository's git configuration.",
    ),
    (
        "ARGOCD_ENV_KGEN_ENV, ARGOCD_ENV_KGEN_SERVICE",
        "kgen cmp generate: the environment and the service of the application (or the env and service parameters in ARGOCD_APP_PARAMETERS).",
    ),
    (
        "ARGOCD_ENV_KGEN_PLATFORM",
        "kgen cmp: the platform file, relative to the source directory (default platform.toml).",
    ),
];

/// The page of `cmd` (a built command: see [`write_pages`]; the top-level one may be
/// unbuilt).
pub fn page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let after = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|t| t.to_string());
    let has_options = cmd.get_arguments().any(|a| !a.is_hide_set());
    let has_commands = cmd.get_subcommands().any(|c| !c.is_hide_set());
    let has_version = cmd
        .get_version()
        .or_else(|| cmd.get_long_version())
        .is_some();
    let man = Man::new(cmd);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if has_options {
        man.render_options_section(&mut out)?;
    }
    if has_commands {
        man.render_subcommands_section(&mut out)?;
    }
    let mut roff = Roff::default();
    if let Some(after) = after {
        let (notes, examples) = match after.split_once(EXAMPLES_HEADING) {
            Some((notes, examples)) => (notes, Some(examples)),
            None => (after.as_str(), None),
        };
        if !notes.trim().is_empty() {
            roff.control("SH", ["FILES"]);
            for line in notes.trim().lines() {
                roff.text([roman(line)]);
            }
        }
        if let Some(examples) = examples {
            roff.control("SH", ["EXAMPLES"]);
            // As written: one command a line, no filling.
            roff.control("nf", NO_ARGS);
            for line in examples.trim_matches('\n').lines() {
                roff.text([roman(line.strip_prefix("  ").unwrap_or(line))]);
            }
            roff.control("fi", NO_ARGS);
        }
    }
    roff.control("SH", ["EXIT STATUS"]);
    definitions(&mut roff, EXIT_STATUS);
    roff.control("SH", ["ENVIRONMENT"]);
    definitions(&mut roff, ENVIRONMENT);
    roff.to_writer(&mut out)?;
    if has_version {
        man.render_version_section(&mut out)?;
    }
    Ok(out)
}

/// A `.TP` list: each term in bold, its meaning under it.
fn definitions(roff: &mut Roff, items: &[(&str, &str)]) {
    for (term, meaning) in items {
        roff.control("TP", NO_ARGS);
        roff.text([bold(*term)]);
        roff.text([roman(*meaning)]);
    }
}

/// Writes the page of `cmd` and of every command under it (not hidden) into `dir`:
/// `kgen.1`, `kgen-render.1`, `kgen-cmp-generate.1`...
pub fn write_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
    fn write(cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            write(sub, dir)?;
        }
        let name = Man::new(cmd.clone()).get_filename();
        let mut file = std::fs::File::create(dir.join(name))?;
        file.write_all(&page(cmd)?)?;
        file.flush()
    }
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    write(cmd, dir)
}
