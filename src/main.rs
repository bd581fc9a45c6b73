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

/// mimalloc: rendering allocates many small values across threads; glibc's malloc
/// spent a fifth of a render in its own bookkeeping (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormatArg {
    Text,
    Markdown,
    Json,
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
    ///
    /// With PATHs, validate those YAML/JSON files and directories instead
    /// (kubeconform-style: multi-document streams, core kinds built in).
    Validate {
        #[command(flatten)]
        common: Common,
        /// Validate only this environment (repeatable).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Also validate against the CRD schemas in DIR ({group}/{kind}_{version}.json).
        #[arg(long, value_name = "DIR")]
        schema_dir: Option<PathBuf>,
        /// Hand-written or third-party manifests to validate (files or directories).
        #[arg(value_name = "PATH", conflicts_with = "envs")]
        paths: Vec<PathBuf>,
    },
    /// Show what will change in the cluster: the manifests committed at --base
    /// against the render of --head, resource by resource, risks first.
    Diff {
        /// The platform file; its path inside the repository is used at each ref.
        #[arg(long, default_value = "platform.toml", value_name = "FILE")]
        platform: PathBuf,
        /// What is deployed now [default: merge base of HEAD with the default branch, else HEAD].
        #[arg(long, value_name = "REF")]
        base: Option<String>,
        /// What will be deployed [default: the working tree's inputs].
        #[arg(long, value_name = "REF")]
        head: Option<String>,
        /// Compare only this environment (repeatable).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: DiffFormatArg,
        /// Exit 1 when there are differences, 0 when there are none.
        #[arg(long)]
        exit_code: bool,
    },
    /// Set a service's image tag and/or digest in one environment's overlay (only
    /// the value's bytes change), then re-render that environment.
    #[command(group(clap::ArgGroup::new("target").required(true).args(["service", "image"])))]
    BumpImage {
        #[command(flatten)]
        common: Common,
        /// The service to update.
        #[arg(value_name = "SERVICE")]
        service: Option<String>,
        /// Update every service using this image repository instead:
        /// REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:… or REGISTRY/REPO:TAG@sha256:….
        #[arg(long, value_name = "IMAGE", conflicts_with_all = ["service", "tag", "digest"])]
        image: Option<String>,
        /// The environment whose overlays/<env>.toml is edited.
        #[arg(long, value_name = "NAME")]
        env: String,
        /// The new image tag.
        #[arg(long, value_name = "TAG")]
        tag: Option<String>,
        /// The new image digest (pins the image; the tag stays for people).
        #[arg(long, value_name = "sha256:HEX")]
        digest: Option<String>,
        /// Only edit the overlay (still validated); do not re-render generated/.
        #[arg(long)]
        no_render: bool,
        /// Commit exactly the changed files with git (author: $GIT_AUTHOR_NAME/$GIT_AUTHOR_EMAIL,
        /// else github-actions[bot]).
        #[arg(long)]
        commit: bool,
    },
    /// Copy image tags and digests from one environment to another (all services,
    /// or the ones named), then re-render the target environment.
    Promote {
        #[command(flatten)]
        common: Common,
        /// The environment to copy from.
        #[arg(long, value_name = "ENV")]
        from: String,
        /// The environment whose overlay is edited.
        #[arg(long, value_name = "ENV")]
        to: String,
        /// Services to promote [default: every service].
        #[arg(value_name = "SERVICE")]
        services: Vec<String>,
        /// Only edit the overlay (still validated); do not re-render generated/.
        #[arg(long)]
        no_render: bool,
        /// Commit exactly the changed files with git.
        #[arg(long)]
        commit: bool,
    },
    /// Argo CD config management plugin: run by the repo-server's kgen sidecar in an
    /// application's source directory (docs/argocd-cmp.md).
    Cmp {
        #[command(subcommand)]
        command: CmpCommand,
    },
    /// Print the JSON Schema of platform.toml (or of an overlay file).
    Schema {
        /// Print the schema of overlays/<env>.toml instead.
        #[arg(long)]
        overlay: bool,
    },
}

#[derive(Subcommand)]
enum CmpCommand {
    /// Print one application's manifests as a YAML stream, the exact bytes of its
    /// committed files joined by `---` lines. The environment and service come from
    /// ARGOCD_ENV_KGEN_ENV / ARGOCD_ENV_KGEN_SERVICE or the `env` / `service`
    /// parameters (ARGOCD_APP_PARAMETERS); the platform file is ./platform.toml or
    /// ARGOCD_ENV_KGEN_PLATFORM. On any problem: nothing on stdout, the error on
    /// stderr, a non-zero exit.
    Generate,
    /// Exit 0, printing the platform file, when the current directory holds a kgen
    /// platform (a platform file with a [platform] table); exit 1 otherwise.
    Discover,
    /// Print the parameter announcements (JSON) the Argo CD UI shows.
    Parameters,
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
        run(cli)
    }) {
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
        Command::Validate {
            common,
            envs,
            schema_dir,
            paths,
        } => {
            let result = if paths.is_empty() {
                Workspace::load(&common.platform).and_then(|ws| {
                    ops::validate::validate_platform(&ws, &envs, schema_dir.as_deref())
                })
            } else {
                ops::validate::validate_paths(&paths, schema_dir.as_deref())
            };
            match result {
                Ok(summary) => {
                    if !matches!(common.format, MessageFormat::Json) {
                        print_diagnostics(&summary.warnings, &summary.sources, &common);
                    }
                    match common.format {
                        MessageFormat::Human => println!("{}", summary.line()),
                        MessageFormat::Json => print!(
                            "{}",
                            diagnostic::render_json(&summary.warnings, &summary.sources)
                        ),
                        MessageFormat::Github => {}
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => report(&e, &common),
            }
        }
        Command::Diff {
            platform,
            base,
            head,
            envs,
            format,
            exit_code,
        } => run_diff(
            ops::diff::DiffOptions {
                platform,
                base,
                head,
                envs,
            },
            format,
            exit_code,
        ),
        Command::BumpImage {
            common,
            service,
            image,
            env,
            tag,
            digest,
            no_render,
            commit,
        } => {
            let opts = match (service, image) {
                (_, Some(image)) => ops::bump_image::BumpOptions::from_image(&env, &image),
                (service, None) => Ok(ops::bump_image::BumpOptions {
                    env,
                    target: ops::bump_image::Target::Service(service.unwrap_or_default()),
                    tag,
                    digest,
                    render: true,
                    commit: false,
                }),
            };
            let result = opts.and_then(|mut opts| {
                opts.render = !no_render;
                opts.commit = commit;
                ops::bump_image::bump_image(&common.platform, &opts, waiting_for_lock)
            });
            match result {
                Ok(u) => {
                    print_diagnostics(&u.warnings, &u.sources, &common);
                    print!("{}", u.report());
                    publish(u.publish_to_github_actions(&format!("kgen bump-image: {}", u.env)));
                    ExitCode::SUCCESS
                }
                Err(e) => report(&e, &common),
            }
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
            match ops::promote::promote(&common.platform, &opts, waiting_for_lock) {
                Ok(p) => {
                    print_diagnostics(&p.update.warnings, &p.update.sources, &common);
                    print!("{}", p.report());
                    publish(p.publish_to_github_actions());
                    ExitCode::SUCCESS
                }
                Err(e) => report(&e, &common),
            }
        }
        Command::Cmp { command } => run_cmp(command),
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

/// `kgen cmp ...`: everything is computed before anything is printed, so a failure
/// leaves stdout empty.
fn run_cmp(command: CmpCommand) -> ExitCode {
    let dir = std::path::Path::new(".");
    let vars = ops::cmp::Vars::from_process();
    let common = Common {
        platform: PathBuf::from(kgen::cmp_params::PLATFORM_FILE),
        format: MessageFormat::Human,
    };
    let output = match command {
        CmpCommand::Generate => ops::cmp::generate(dir, &vars).map(|g| {
            print_diagnostics(&g.warnings, &g.workspace.sources, &common);
            let stream = g.stream();
            // The process ends right after printing: freeing a large platform's data
            // would only cost milliseconds that Argo CD waits for.
            std::mem::forget(g);
            stream
        }),
        CmpCommand::Parameters => ops::cmp::parameters(dir, &vars),
        CmpCommand::Discover => match ops::cmp::discover(dir, &vars) {
            Ok(path) => Ok(format!("{}\n", path.display())),
            Err(reason) => {
                eprintln!("kgen: not a kgen platform: {reason}");
                return ExitCode::from(1);
            }
        },
    };
    match output {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("kgen: error: cannot write to stdout: {e}");
                    ExitCode::from(3)
                }
            }
        }
        Err(e) => report(&e, &common),
    }
}

/// `kgen diff`: prints the report; in GitHub Actions also writes the job summary.
fn run_diff(opts: ops::diff::DiffOptions, format: DiffFormatArg, exit_code: bool) -> ExitCode {
    use kgen::diff_format::{self, DiffFormat};
    let common = Common {
        platform: opts.platform.clone(),
        format: MessageFormat::Human,
    };
    let report = match ops::diff::diff(&opts) {
        Ok(r) => r,
        Err(e) => return report(&e, &common),
    };
    let format = match format {
        DiffFormatArg::Text => DiffFormat::Text,
        DiffFormatArg::Markdown => DiffFormat::Markdown,
        DiffFormatArg::Json => DiffFormat::Json,
    };
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let text = diff_format::render(&report, format, color);
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("kgen: error: cannot write to stdout: {e}");
            return ExitCode::from(3);
        }
    }
    if let Err(e) = ops::diff::publish_step_summary(&report) {
        eprintln!("kgen: warning: {e}");
    }
    let differs = report.diff.differences() > 0;
    ExitCode::from(u8::from(exit_code && differs))
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

fn print_diagnostics(diags: &[Diagnostic], sources: &kgen::source::Sources, common: &Common) {
    if !diags.is_empty() {
        eprint!(
            "{}",
            diagnostic::render(diags, sources, format_of(common), color())
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
