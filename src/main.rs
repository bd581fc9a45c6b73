//! The `kgen` binary: parses the command line (`cli`), calls the library, prints the
//! result, and renders an error once, in `report`.
//! Exit codes (docs/cli.md): 0 ok, 1 differences found, 2 invalid input or usage,
//! 3 I/O or git failure, 101 internal error (a bug).

mod cli;
mod term;

use std::io::Write;
use std::process::ExitCode;

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use cli::{Cli, CmpCommand, Command, MessageFormat};
use kgen::diagnostic::{self, Diagnostic, Format};
use kgen::github_actions::render_notes;
use kgen::repo_path::RepoPaths;
use kgen::source::Sources;
use kgen::{ops, stages, Error, Workspace};
use term::{Progress, Term};

/// mimalloc: rendering allocates many small values across threads; glibc's malloc
/// spent a fifth of a render in its own bookkeeping (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process. mimalloc asks for them on its
/// arena (`madvise(MADV_HUGEPAGE)`), so the first touch of each 2 MiB of heap zeroes
/// all of it. That pays off for a render of a large platform (about 15% less wall
/// time at 1,000 services) but is most of the cost of a short process such as the
/// Argo CD plugin's `cmp generate`, which touches a few MiB on several threads
/// (measured: 7.8 ms → 6.5 ms and 29 → 17 MB on this repository's platform; see
/// docs/performance.md). Best effort: a kernel without the setting changes nothing.
fn small_process_pages() {
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

/// Sets up the thread pool of `kgen cmp generate` before anything runs on it: for a
/// small platform, the main thread alone (`use_current_thread`: no worker thread is
/// started; see `ops::cmp::generate_threads`), else one thread per core as usual.
/// Best effort: if the pool cannot be set up, rayon's default is used.
fn plugin_threads() {
    let vars = ops::cmp::Vars::from_process();
    if let Some(n) = ops::cmp::generate_threads(Path::new("."), &vars) {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .use_current_thread()
            .build_global();
    }
}

/// Whether the command line names `kgen cmp` before clap has read it: clap's
/// parsing allocates enough to fault in a fresh huge page (measured), so the plugin
/// turns them off first. The first word that is not an option is the command; a
/// global option with a separate value before it (`--color never cmp`) hides it, and
/// then the pages are turned off after parsing, a little later.
fn names_cmp_early() -> bool {
    std::env::args_os()
        .skip(1)
        .find(|a| !a.as_encoded_bytes().starts_with(b"-"))
        .is_some_and(|a| a == "cmp")
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        // The reader went away (`kgen schema | head -1`): not a bug. Exit quietly,
        // with the status a process killed by SIGPIPE has (128 + 13), as `yes | head`
        // does, so that `set -o pipefail` still sees the output was cut short.
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // One line, no backtrace (even with RUST_BACKTRACE set): a message for people
        // and logs, not a stack dump, and never the input that caused it.
        eprintln!(
            "kgen: internal error (a bug in kgen {}, please report it): {msg}{at}",
            env!("KGEN_VERSION")
        );
    }));
    if names_cmp_early() {
        small_process_pages();
    }
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    cli.command.find_platform();
    if matches!(cli.command, Command::Cmp { .. }) {
        small_process_pages();
    }
    if let Command::Cmp {
        command: CmpCommand::Generate,
        ..
    } = &cli.command
    {
        plugin_threads();
    }
    let term = Term::new(&cli.global);
    let timed = !matches!(cli.command, Command::Cmp { .. });
    match std::panic::catch_unwind(move || {
        // Debug builds only: lets tests check the report above (tests/regressions.rs).
        #[cfg(debug_assertions)]
        if std::env::var_os("KGEN_TEST_PANIC").is_some() {
            panic!("KGEN_TEST_PANIC is set");
        }
        let format = cli.command.message_format();
        let name = cli.command.json_name();
        let repo = if format == MessageFormat::Github {
            RepoPaths::discover(&cli.command.base_dir())
        } else {
            RepoPaths::default()
        };
        let progress = cli
            .command
            .shows_progress()
            .then(|| Progress::start(&term))
            .flatten();
        let ctx = Ctx {
            term,
            format,
            repo,
            progress: std::cell::RefCell::new(progress),
        };
        let result = run(cli.command, &ctx);
        ctx.settle();
        // `kgen cmp` runs none of the timed stages: no table of zeros.
        if ctx.term.verbose && timed {
            eprint!("kgen: time by stage\n{}", stages::report());
        }
        result.unwrap_or_else(|e| report(&no_platform(e), name, &ctx))
    }) {
        Ok(code) => code,
        Err(_) => ExitCode::from(101),
    }
}

/// What every command needs to print: the terminal's settings, the format, and how
/// GitHub names files.
struct Ctx {
    term: Term,
    format: MessageFormat,
    repo: RepoPaths,
    /// The progress line while it may show: [`Ctx::settle`] clears it.
    progress: std::cell::RefCell<Option<Progress>>,
}

impl Ctx {
    /// Stops the progress line and clears it from the terminal, for good: called
    /// before anything is printed, so that no output lands on the spinner's line.
    fn settle(&self) {
        drop(self.progress.borrow_mut().take());
    }

    /// Prints `text` on stdout, the progress line cleared first.
    fn out(&self, text: &str) -> kgen::Result<()> {
        self.settle();
        write_stdout(text.as_bytes())
    }

    /// Prints `text` on stderr, the progress line cleared first.
    fn err(&self, text: &str) {
        self.settle();
        if !text.is_empty() {
            eprint!("{text}");
        }
    }
}

/// A clap error. With `--format json` on the command line, as kgen's JSON (exit 2),
/// except for `kgen cmp`, whose stdout holds manifests only; otherwise as clap prints
/// it (help and version included, on stdout: a closed stdout exits 141, as
/// everywhere).
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args
        .windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    let command = command_word(&args);
    if !json
        || command == Some("cmp")
        || matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
    {
        let printed = e.print().and_then(|()| std::io::stdout().flush());
        if printed.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) {
            closed_stdout();
        }
        return ExitCode::from(e.exit_code() as u8);
    }
    let message = e.render().to_string();
    print!(
        "{}",
        kgen::output::usage_error(command.unwrap_or("kgen"), message.trim_end())
    );
    ExitCode::from(2)
}

/// The command of a command line clap refused: its first word that is neither an
/// option nor the value of `--color WHEN` (the only global option with a value).
fn command_word(args: &[String]) -> Option<&str> {
    let mut value_next = false;
    for a in args {
        if std::mem::take(&mut value_next) {
            continue;
        }
        if a == "--color" {
            value_next = true;
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

/// Runs one command, printing its result; an error is returned, for `report`.
fn run(command: Command, ctx: &Ctx) -> kgen::Result<ExitCode> {
    let json = ctx.format == MessageFormat::Json;
    let quiet = ctx.term.quiet;
    match command {
        Command::Render {
            common,
            envs,
            check,
        } => {
            // A writing render serialises with bump-image, promote and bump-chart.
            let _lock = if check {
                None
            } else {
                ops::render::lock(&common.platform(), waiting_for_lock)?
            };
            let ws = Workspace::load_for(&common.platform(), &envs)?;
            let opts = ops::render::RenderOptions { envs };
            if check {
                let s = ops::render::check(&ws, &opts)?;
                let stale = !s.comparison.is_fresh();
                if json {
                    ctx.out(&kgen::output::check(&s, &ws.sources))?;
                } else {
                    print_diagnostics(&s.warnings, &ws.sources, ctx);
                    if ctx.format == MessageFormat::Github {
                        ctx.err(&stale_annotations(&s.comparison, &ws, ctx));
                    }
                    // --quiet: the list of stale files (the problems), not the
                    // closing verdict (a summary line); the exit code says it.
                    ctx.out(&if quiet { s.list() } else { s.report() })?;
                }
                Ok(ExitCode::from(u8::from(stale)))
            } else {
                let s = ops::render::render(&ws, &opts)?;
                if json {
                    ctx.out(&kgen::output::render(&s, &ws.sources))?;
                } else {
                    print_diagnostics(&s.warnings, &ws.sources, ctx);
                    if !quiet {
                        ctx.out(&format!("{}\n", s.line()))?;
                    }
                }
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
                let ws =
                    Workspace::load_for(&common.platform(), &envs).map_err(Error::read_only)?;
                ops::validate::validate_platform(&ws, &envs, schema_dir.as_deref())
                    .map_err(Error::read_only)?
            } else {
                // Inside a platform's tree, its `[manifests]` schemas apply too.
                let platforms = ops::validate::platform_schemas(&paths, common.platform.as_deref())
                    .map_err(Error::read_only)?;
                ops::validate::validate_paths(&paths, schema_dir.as_deref(), &platforms)
                    .map_err(Error::read_only)?
            };
            match common.format {
                MessageFormat::Json => ctx.out(&kgen::output::validate(&summary))?,
                MessageFormat::Human => {
                    print_diagnostics(&summary.warnings, &summary.sources, ctx);
                    if !quiet {
                        ctx.out(&format!("{}\n", summary.line()))?;
                    }
                }
                MessageFormat::Github => {
                    print_diagnostics(&summary.warnings, &summary.sources, ctx)
                }
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
                platform: platform.unwrap_or_else(find_platform),
                base,
                head,
                envs,
                ignore,
            };
            // diff writes nothing: its errors' closing line does not say so.
            let report = match ops::diff::diff(&opts).map_err(Error::read_only) {
                Ok(report) => report,
                Err(e) => {
                    // The pull request's comment and the job summary say why there is
                    // no diff; the error itself is reported below, as for any command.
                    ctx.settle();
                    if format == cli::DiffFormatArg::Markdown {
                        let md = kgen::diff_format::markdown_failure(&e);
                        let _ = write_stdout(md.as_bytes());
                    }
                    if let Err(e) = ops::diff::publish_failure_summary(&e) {
                        eprintln!("kgen: warning: {e}");
                    }
                    return Err(e);
                }
            };
            let text = kgen::diff_format::render(&report, format.into(), ctx.term.color_out);
            ctx.settle();
            let mut stdout = std::io::stdout().lock();
            let written = stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush());
            drop(stdout);
            // In GitHub Actions, the job summary too (also when the reader of stdout
            // went away).
            if let Err(e) = ops::diff::publish_step_summary(&report) {
                eprintln!("kgen: warning: {e}");
            }
            match written {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => closed_stdout(),
                Err(e) => return Err(Error::io("write to", "stdout", e)),
                Ok(()) => {}
            }
            let in_actions = std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true");
            Ok(ExitCode::from(report.exit_status(exit_code, in_actions)))
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
            let u = ops::bump_image::bump_image(&common.platform(), &opts, waiting_for_lock)?;
            if json {
                ctx.out(&kgen::output::bump_image(&u))?;
            } else {
                print_diagnostics(&u.warnings, &u.sources, ctx);
                if !quiet {
                    ctx.out(&u.report())?;
                    ctx.err(&render_notes(&u.notes(), ctx.format.into()));
                }
            }
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
            let b = ops::bump_chart::bump_chart(&common.platform(), &opts, waiting_for_lock)?;
            if json {
                ctx.out(&kgen::output::bump_chart(&b))?;
            } else {
                print_diagnostics(&b.warnings, &b.sources, ctx);
                if !quiet {
                    ctx.out(&b.report())?;
                    ctx.err(&render_notes(&b.notes(), ctx.format.into()));
                }
            }
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
            let p = ops::promote::promote(&common.platform(), &opts, waiting_for_lock)?;
            if json {
                ctx.out(&kgen::output::promote(&p))?;
            } else {
                print_diagnostics(&p.update.warnings, &p.update.sources, ctx);
                if !quiet {
                    ctx.out(&p.report())?;
                    ctx.err(&render_notes(&p.notes(), ctx.format.into()));
                }
            }
            publish(p.publish_to_github_actions());
            Ok(ExitCode::SUCCESS)
        }
        Command::Cmp { command } => run_cmp(command, ctx),
        Command::Schema { overlay } => {
            let s = if overlay {
                ops::schema::overlay_schema()
            } else {
                ops::schema::platform_schema()
            };
            ctx.out(&s)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "kgen", &mut out);
            write_stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir } => {
            let cmd = Cli::command();
            match dir {
                Some(dir) => {
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| Error::io("create directory", &dir, e))?;
                    kgen::man::write_pages(cmd, &dir)
                        .map_err(|e| Error::io("write man pages into", &dir, e))?;
                    if !quiet {
                        ctx.out(&format!("wrote man pages into {}\n", dir.display()))?;
                    }
                }
                None => {
                    let out =
                        kgen::man::page(cmd).map_err(|e| Error::io("write to", "stdout", e))?;
                    write_stdout(&out)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes `bytes` on stdout. When its reader went away (`kgen schema | head -1`,
/// EPIPE), exits at once, quietly, with 141 ([`closed_stdout`]).
fn write_stdout(bytes: &[u8]) -> kgen::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => closed_stdout(),
        Err(e) => Err(Error::io("write to", "stdout", e)),
    }
}

/// The reader of stdout went away: not a failure of kgen's. Exit quietly, with the
/// status a process killed by SIGPIPE has (128 + 13), as `yes | head` does, so that
/// `set -o pipefail` still sees the output was cut short (docs/cli.md, exit codes).
fn closed_stdout() -> ! {
    std::process::exit(141)
}

/// Where `find_platform` looked for `platform.toml` and found none: its failure to
/// load is then reported as no platform anywhere up from there ([`no_platform`]).
static SEARCHED_IN_VAIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// `platform.toml` in the current directory or the nearest parent that has one (as
/// cargo finds Cargo.toml); `platform.toml` (which then fails to load) when none does.
fn find_platform() -> PathBuf {
    let default = PathBuf::from(kgen::workspace::PLATFORM_FILE);
    let Ok(cwd) = std::env::current_dir() else {
        return default;
    };
    for (up, dir) in cwd.ancestors().enumerate() {
        if dir.join(kgen::workspace::PLATFORM_FILE).is_file() {
            let mut p = PathBuf::new();
            for _ in 0..up {
                p.push("..");
            }
            p.push(kgen::workspace::PLATFORM_FILE);
            return p;
        }
    }
    let _ = SEARCHED_IN_VAIN.set(cwd);
    default
}

/// `e`, or when it is the failure to read the default `platform.toml` that
/// `find_platform` looked for in vain, that no platform is there or above.
fn no_platform(e: Error) -> Error {
    match (&e, SEARCHED_IN_VAIN.get()) {
        (Error::Io { path, source, .. }, Some(dir))
            if source.kind() == std::io::ErrorKind::NotFound
                && path == Path::new(kgen::workspace::PLATFORM_FILE) =>
        {
            Error::NoPlatform { dir: dir.clone() }
        }
        _ => e,
    }
}

impl cli::Common {
    /// The platform file (set by `Command::find_platform`).
    fn platform(&self) -> PathBuf {
        self.platform.clone().unwrap_or_else(find_platform)
    }
}

impl Command {
    /// Resolves a missing `--platform` once, before anything runs.
    fn find_platform(&mut self) {
        match self {
            Command::Render { common, .. }
            | Command::BumpImage { common, .. }
            | Command::BumpChart { common, .. }
            | Command::Promote { common, .. } => {
                common.platform.get_or_insert_with(find_platform);
            }
            Command::Validate { common, paths, .. } if paths.is_empty() => {
                common.platform.get_or_insert_with(find_platform);
            }
            Command::Diff { platform, .. } => {
                platform.get_or_insert_with(find_platform);
            }
            _ => {}
        }
    }

    /// Where relative paths in the command's output start: the platform's directory,
    /// or the current one.
    fn base_dir(&self) -> PathBuf {
        let platform = match self {
            Command::Render { common, .. }
            | Command::BumpImage { common, .. }
            | Command::BumpChart { common, .. }
            | Command::Promote { common, .. }
            | Command::Validate { common, .. } => common.platform.clone(),
            Command::Diff { platform, .. } => platform.clone(),
            _ => None,
        };
        platform
            .as_deref()
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Commands that can run long enough for a progress line.
    fn shows_progress(&self) -> bool {
        matches!(
            self,
            Command::Render { .. }
                | Command::Validate { .. }
                | Command::Diff { .. }
                | Command::BumpImage { .. }
                | Command::BumpChart { .. }
                | Command::Promote { .. }
        )
    }
}

/// `render --check --format github`: one annotation per stale, missing, extra or
/// foreign file, named relative to the repository root.
fn stale_annotations(c: &kgen::write::Comparison, ws: &Workspace, ctx: &Ctx) -> String {
    let dir = ws.generated_dir();
    let mut out = String::new();
    let groups: [(&[String], &str); 4] = [
        (
            &c.stale,
            "differs from a fresh render: run `kgen render` and commit the result",
        ),
        (
            &c.missing,
            "is missing: run `kgen render` and commit the result",
        ),
        (
            &c.extra,
            "is no longer generated: run `kgen render` to remove it, and commit",
        ),
        (
            &c.foreign,
            "was not written by kgen, in a directory Argo CD deploys: move it out of generated/",
        ),
    ];
    for (files, why) in groups {
        for f in files {
            let shown = format!("{}/{f}", kgen::workspace::GENERATED_DIR);
            let name = ctx.repo.name(&dir.join(f), &shown);
            out.push_str(&diagnostic::github_file_annotation(
                "error",
                Some(&name),
                "kgen render --check",
                &format!("{name} {why}"),
            ));
        }
    }
    out
}

/// `kgen cmp ...`: everything is computed before anything is printed, so a failure
/// leaves stdout empty.
fn run_cmp(command: CmpCommand, ctx: &Ctx) -> kgen::Result<ExitCode> {
    let dir = std::path::Path::new(".");
    let vars = ops::cmp::Vars::from_process();
    let text = match command {
        CmpCommand::Generate => {
            // The plugin writes nothing: its errors say nothing about writing.
            let g = ops::cmp::generate(dir, &vars).map_err(Error::read_only)?;
            print_diagnostics(&g.warnings, &g.workspace.sources, ctx);
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
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Prints non-blocking diagnostics (warnings) on stderr.
fn print_diagnostics(diags: &[Diagnostic], sources: &Sources, ctx: &Ctx) {
    ctx.settle();
    if !diags.is_empty() {
        eprint!(
            "{}",
            diagnostic::render_in(
                diags,
                sources,
                ctx.format.into(),
                ctx.term.color_err,
                &ctx.repo
            )
        );
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

/// Prints an error (invalid input as diagnostics in the command's format; with
/// `--format json`, kgen's JSON on stdout) and returns its exit code.
fn report(e: &Error, command: &str, ctx: &Ctx) -> ExitCode {
    ctx.settle();
    let format: Format = ctx.format.into();
    if format == Format::Json {
        // Only a closed stdout can fail this: then exit 141, as everywhere.
        let _ = write_stdout(kgen::output::error(command, e).as_bytes());
        return ExitCode::from(e.exit_code() as u8);
    }
    let mut err = std::io::stderr().lock();
    match e {
        Error::Invalid(inv) => {
            let color = ctx.term.color_err;
            let text = diagnostic::render_invalid_in(inv, format, color, &ctx.repo);
            let _ = write!(err, "{text}");
        }
        other => {
            // The same masking as diagnostics get (a path or a value quoted in an
            // I/O, git or usage error).
            let text = diagnostic::mask_text(&other.to_string()).into_owned();
            if format == Format::Github {
                let file = match other.cause() {
                    Error::Io { path, .. }
                    | Error::BadInput { path, .. }
                    | Error::InTheWay { path, .. } => {
                        Some(ctx.repo.name(path, &path.display().to_string()))
                    }
                    _ => None,
                };
                let _ = write!(
                    err,
                    "{}",
                    diagnostic::github_file_annotation("error", file.as_deref(), "kgen", &text)
                );
            }
            let _ = writeln!(err, "kgen: error: {text}");
        }
    }
    ExitCode::from(e.exit_code() as u8)
}
