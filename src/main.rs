//! The `kgen` binary: parses the command line (`cli`), calls the library, prints the
//! result, and renders an error once, in `report`.
//! Exit codes (docs/cli.md): 0 ok, 1 differences found, 2 invalid input or usage,
//! 3 I/O or git failure, 101 internal error (a bug).

mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, CmpCommand, Command, MessageFormat};
use kgen::diagnostic::{self, Diagnostic, Format};
use kgen::source::Sources;
use kgen::{ops, Error, Workspace};

/// mimalloc: rendering allocates many small values across threads; glibc's malloc
/// spent a fifth of a render in its own bookkeeping (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        // One line, no backtrace (even with RUST_BACKTRACE set): a message for people
        // and logs, not a stack dump, and never the input that caused it.
        eprintln!(
            "kgen: internal error (a bug in kgen {}, please report it): {msg}{at}",
            env!("CARGO_PKG_VERSION")
        );
    }));
    let cli = Cli::parse();
    match std::panic::catch_unwind(|| {
        // Debug builds only: lets tests check the report above (tests/regressions.rs).
        #[cfg(debug_assertions)]
        if std::env::var_os("KGEN_TEST_PANIC").is_some() {
            panic!("KGEN_TEST_PANIC is set");
        }
        let format = cli.command.message_format().into();
        run(cli.command).unwrap_or_else(|e| report(&e, format))
    }) {
        Ok(code) => code,
        Err(_) => ExitCode::from(101),
    }
}

/// Runs one command, printing its result; an error is returned, for `report`.
fn run(command: Command) -> kgen::Result<ExitCode> {
    match command {
        Command::Render {
            common,
            envs,
            check,
        } => {
            let ws = Workspace::load(&common.platform)?;
            let opts = ops::render::RenderOptions { envs };
            let format = common.format.into();
            if check {
                let s = ops::render::check(&ws, &opts)?;
                print_diagnostics(&s.warnings, &ws.sources, format);
                print!("{}", s.report());
                Ok(ExitCode::from(u8::from(!s.comparison.is_fresh())))
            } else {
                let s = ops::render::render(&ws, &opts)?;
                print_diagnostics(&s.warnings, &ws.sources, format);
                println!("{}", s.line());
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Validate {
            common,
            envs,
            schema_dir,
            paths,
        } => {
            let summary = if paths.is_empty() {
                let ws = Workspace::load(&common.platform).map_err(Error::read_only)?;
                ops::validate::validate_platform(&ws, &envs, schema_dir.as_deref())
                    .map_err(Error::read_only)?
            } else {
                ops::validate::validate_paths(&paths, schema_dir.as_deref())
                    .map_err(Error::read_only)?
            };
            if !matches!(common.format, MessageFormat::Json) {
                print_diagnostics(&summary.warnings, &summary.sources, common.format.into());
            }
            match common.format {
                MessageFormat::Human => println!("{}", summary.line()),
                MessageFormat::Json => print!(
                    "{}",
                    diagnostic::render_json(&summary.warnings, &summary.sources)
                ),
                MessageFormat::Github => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            platform,
            base,
            head,
            envs,
            format,
            exit_code,
            ignore,
        } => {
            let opts = ops::diff::DiffOptions {
                platform,
                base,
                head,
                envs,
                ignore,
            };
            let report = ops::diff::diff(&opts)?;
            let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal();
            let text = kgen::diff_format::render(&report, format.into(), color);
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(Error::io("write to", "stdout", e));
                }
            }
            // In GitHub Actions, the job summary too.
            if let Err(e) = ops::diff::publish_step_summary(&report) {
                eprintln!("kgen: warning: {e}");
            }
            let differs = report.diff.differences() > 0;
            Ok(ExitCode::from(u8::from(exit_code && differs)))
        }
        Command::BumpImage {
            common,
            service,
            container,
            image,
            env,
            tag,
            digest,
            no_render,
            commit,
        } => {
            let mut opts = match image {
                Some(image) => ops::bump_image::BumpOptions::from_image(&env, &image)?,
                None => ops::bump_image::BumpOptions {
                    env,
                    target: match container {
                        Some(container) => ops::bump_image::Target::Container {
                            service: service.unwrap_or_default(),
                            container,
                        },
                        None => ops::bump_image::Target::Service(service.unwrap_or_default()),
                    },
                    tag,
                    digest,
                    render: true,
                    commit: false,
                },
            };
            opts.render = !no_render;
            opts.commit = commit;
            let u = ops::bump_image::bump_image(&common.platform, &opts, waiting_for_lock)?;
            print_diagnostics(&u.warnings, &u.sources, common.format.into());
            print!("{}", u.report());
            publish(u.publish_to_github_actions(&format!("kgen bump-image: {}", u.env)));
            Ok(ExitCode::SUCCESS)
        }
        Command::BumpChart {
            common,
            addon,
            version,
            cluster,
            no_render,
            commit,
        } => {
            let opts = ops::bump_chart::BumpChartOptions {
                addon,
                version,
                cluster,
                render: !no_render,
                commit,
            };
            let b = ops::bump_chart::bump_chart(&common.platform, &opts, waiting_for_lock)?;
            print_diagnostics(&b.warnings, &b.sources, common.format.into());
            print!("{}", b.report());
            publish(b.publish_to_github_actions());
            Ok(ExitCode::SUCCESS)
        }
        Command::Promote {
            common,
            from,
            to,
            services,
            no_render,
            commit,
        } => {
            let opts = ops::promote::PromoteOptions {
                from,
                to,
                services,
                render: !no_render,
                commit,
            };
            let p = ops::promote::promote(&common.platform, &opts, waiting_for_lock)?;
            print_diagnostics(&p.update.warnings, &p.update.sources, common.format.into());
            print!("{}", p.report());
            publish(p.publish_to_github_actions());
            Ok(ExitCode::SUCCESS)
        }
        Command::Cmp { command } => run_cmp(command),
        Command::Schema { overlay } => {
            let s = if overlay {
                ops::schema::overlay_schema()
            } else {
                ops::schema::platform_schema()
            };
            print!("{s}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `kgen cmp ...`: everything is computed before anything is printed, so a failure
/// leaves stdout empty.
fn run_cmp(command: CmpCommand) -> kgen::Result<ExitCode> {
    let dir = std::path::Path::new(".");
    let vars = ops::cmp::Vars::from_process();
    let text = match command {
        CmpCommand::Generate => {
            let g = ops::cmp::generate(dir, &vars)?;
            print_diagnostics(&g.warnings, &g.workspace.sources, Format::Human);
            let stream = g.stream();
            // The process ends right after printing: freeing a large platform's data
            // would only cost milliseconds that Argo CD waits for.
            std::mem::forget(g);
            stream
        }
        CmpCommand::Parameters => ops::cmp::parameters(dir, &vars)?,
        CmpCommand::Discover => match ops::cmp::discover(dir, &vars) {
            Ok(path) => format!("{}\n", path.display()),
            Err(reason) => {
                eprintln!("kgen: not a kgen platform: {reason}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("write to", "stdout", e))?;
    Ok(ExitCode::SUCCESS)
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Prints non-blocking diagnostics (warnings) on stderr.
fn print_diagnostics(diags: &[Diagnostic], sources: &Sources, format: Format) {
    if !diags.is_empty() {
        eprint!("{}", diagnostic::render(diags, sources, format, color()));
    }
}

fn waiting_for_lock(lock: &std::path::Path) {
    eprintln!(
        "kgen: waiting for another kgen command in this checkout to finish ({})",
        lock.display()
    );
}

/// GitHub Actions outputs are a convenience: failing to write them is a warning.
fn publish(result: kgen::Result<()>) {
    if let Err(e) = result {
        eprintln!("kgen: warning: {e}");
    }
}

/// Prints an error (invalid input as diagnostics in `format`, JSON on stdout) and
/// returns its exit code.
fn report(e: &Error, format: Format) -> ExitCode {
    let mut err = std::io::stderr().lock();
    match e {
        Error::Invalid(inv) => {
            let text = if inv.read_only {
                diagnostic::render_read_only(&inv.diagnostics, &inv.sources, format, color())
            } else {
                diagnostic::render(&inv.diagnostics, &inv.sources, format, color())
            };
            if format == Format::Json {
                print!("{text}");
            } else {
                let _ = write!(err, "{text}");
            }
        }
        other => {
            // The same masking as diagnostics get (a path or a value quoted in an
            // I/O, git or usage error).
            let _ = writeln!(
                err,
                "kgen: error: {}",
                diagnostic::mask_text(&other.to_string())
            );
        }
    }
    ExitCode::from(e.exit_code() as u8)
}
