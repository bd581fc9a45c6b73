//! The `kgen` binary: parses the command line, calls the library, prints the result.
//! Exit codes (docs/cli.md): 0 ok, 1 differences found, 2 invalid input or usage,
//! 3 I/O or git failure, 101 internal error (a bug).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use kgen::diagnostic::{self, Diagnostic, Format};
use kgen::ops;
use kgen::{Error, Workspace};

#[derive(Parser)]
#[command(
    name = "kgen",
    version,
    about = "Compile a typed platform.toml into validated Kubernetes YAML under generated/"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum MessageFormat {
    Human,
    Json,
    Github,
}

#[derive(clap::Args)]
struct Common {
    /// The platform file; generated/ and overlays/ are next to it.
    #[arg(long, default_value = "platform.toml", value_name = "FILE")]
    platform: PathBuf,
    /// How problems are printed.
    #[arg(long, value_enum, default_value = "human")]
    format: MessageFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Render every environment into generated/ (only changed files are written).
    Render {
        #[command(flatten)]
        common: Common,
        /// Render only this environment (repeatable).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Write nothing; exit 1 listing every stale, missing or extra file.
        #[arg(long)]
        check: bool,
    },
    /// Check the platform as `render` would, writing nothing.
    Validate {
        #[command(flatten)]
        common: Common,
        /// Validate only this environment (repeatable).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
    },
    /// Print the JSON Schema of platform.toml (or of an overlay file).
    Schema {
        /// Print the schema of overlays/<env>.toml instead.
        #[arg(long)]
        overlay: bool,
    },
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("kgen: internal error (a bug in kgen, please report it): {msg}{at}");
    }));
    let cli = Cli::parse();
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(code) => code,
        Err(_) => ExitCode::from(101),
    }
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Render {
            common,
            envs,
            check,
        } => with_workspace(&common, |ws| {
            let opts = ops::render::RenderOptions { envs };
            if check {
                let s = ops::render::check(ws, &opts)?;
                print_warnings(&s.warnings, ws, &common);
                print!("{}", s.report());
                Ok(if s.comparison.is_fresh() { 0 } else { 1 })
            } else {
                let s = ops::render::render(ws, &opts)?;
                print_warnings(&s.warnings, ws, &common);
                println!("{}", s.line());
                Ok(0)
            }
        }),
        Command::Validate { common, envs } => with_workspace(&common, |ws| {
            let compiled = kgen::compile::compile(ws, &envs)?;
            print_warnings(&compiled.warnings, ws, &common);
            if matches!(common.format, MessageFormat::Human) {
                println!(
                    "valid: {} in {}, {}",
                    diagnostic::plural(compiled.objects.len(), "object"),
                    diagnostic::plural(compiled.spec.environments.len(), "environment"),
                    diagnostic::plural(compiled.warnings.len(), "warning"),
                );
            } else if matches!(common.format, MessageFormat::Json) {
                print!(
                    "{}",
                    diagnostic::render_json(&compiled.warnings, &ws.sources)
                );
            }
            Ok(0)
        }),
        Command::Schema { overlay } => {
            let s = if overlay {
                ops::schema::overlay_schema()
            } else {
                ops::schema::platform_schema()
            };
            print!("{s}");
            ExitCode::SUCCESS
        }
    }
}

fn format_of(common: &Common) -> Format {
    match common.format {
        MessageFormat::Human => Format::Human,
        MessageFormat::Json => Format::Json,
        MessageFormat::Github => Format::Github,
    }
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn print_warnings(warnings: &[Diagnostic], ws: &Workspace, common: &Common) {
    if !warnings.is_empty() {
        eprint!(
            "{}",
            diagnostic::render(warnings, &ws.sources, format_of(common), color())
        );
    }
}

/// Loads the workspace, runs `f`, and turns errors into messages and exit codes.
fn with_workspace(common: &Common, f: impl FnOnce(&Workspace) -> kgen::Result<u8>) -> ExitCode {
    let result = Workspace::load(&common.platform).and_then(|ws| f(&ws));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => report(&e, common),
    }
}

fn report(e: &Error, common: &Common) -> ExitCode {
    let mut err = std::io::stderr().lock();
    match e {
        Error::Invalid(inv) => {
            let format = format_of(common);
            let text = diagnostic::render(&inv.diagnostics, &inv.sources, format, color());
            if format == Format::Json {
                print!("{text}");
            } else {
                let _ = write!(err, "{text}");
            }
        }
        other => {
            let _ = writeln!(err, "kgen: error: {other}");
        }
    }
    ExitCode::from(e.exit_code() as u8)
}
