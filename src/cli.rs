//! The command line of the `kgen` binary: clap's definitions of every command, flag
//! and help text (docs/cli.md describes them), and the conversions from its option
//! values to the library's types.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum, ValueHint};
use kgen::diagnostic::Format;
use kgen::diff_format::DiffFormat;

#[derive(Parser)]
#[command(
    name = "kgen",
    version = env!("KGEN_VERSION"),
    about = "Compile a typed platform.toml into validated Kubernetes YAML under generated/",
    after_help = "Without --platform, kgen looks for platform.toml in the current directory and then in each parent, as cargo finds Cargo.toml."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after its name (listed apart in each
/// command's help, after its own).
#[derive(clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// When to colour output: auto (on a terminal, unless NO_COLOR is set, TERM=dumb
    /// or CLICOLOR=0; CLICOLOR_FORCE=1 forces it), always, never.
    #[arg(
        long,
        value_enum,
        global = true,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorWhen,
    /// Print only problems: no summary line, no progress.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print the time each stage took (load, resolve, render, validate, emit,
    /// write) on stderr.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// `--format` of the commands that report problems. The names are shared with
/// `kgen diff --format` (human, json; markdown is diff's own, github these commands').
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// rustc-style diagnostics and one summary line, for people.
    Human,
    /// One JSON object on stdout (docs/cli.md, "JSON output").
    Json,
    /// GitHub Actions workflow commands, paths relative to the repository root.
    Github,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormatArg {
    /// Text for a terminal (`text` is accepted too).
    #[value(alias = "text")]
    Human,
    /// Markdown for a pull-request comment.
    Markdown,
    /// One JSON object (docs/diff.md).
    Json,
}

#[derive(clap::Args)]
pub struct Common {
    /// The platform file; generated/ and overlays/ are next to it
    /// [default: platform.toml here or in the nearest parent directory].
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub platform: Option<PathBuf>,
    /// How problems are printed.
    #[arg(long, value_enum, default_value = "human")]
    pub format: MessageFormat,
}

#[derive(Subcommand)]
pub enum Command {
    /// Render every environment into generated/ (only changed files are written).
    #[command(after_long_help = RENDER_EXAMPLES)]
    Render {
        #[command(flatten)]
        common: Common,
        /// Render only this environment (repeatable).
        #[arg(long = "env", value_name = "NAME", value_hint = ValueHint::Other)]
        envs: Vec<String>,
        /// Write nothing; exit 1 listing every stale, missing, extra or foreign file
        /// (foreign: a manifest kgen did not write, in a directory Argo CD deploys).
        #[arg(long)]
        check: bool,
    },
    /// Check the platform as `render` would, writing nothing.
    ///
    /// With PATHs, validate those YAML/JSON files and directories instead
    /// (kubeconform-style: multi-document streams, core kinds built in; `-` reads
    /// standard input).
    #[command(after_long_help = VALIDATE_EXAMPLES)]
    Validate {
        #[command(flatten)]
        common: Common,
        /// Validate only this environment (repeatable).
        #[arg(long = "env", value_name = "NAME", value_hint = ValueHint::Other)]
        envs: Vec<String>,
        /// Also validate against the CRD schemas in DIR ({group}/{kind}_{version}.json).
        #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
        schema_dir: Option<PathBuf>,
        #[command(flatten)]
        paths: kgen::ops::validate::ManifestPaths,
    },
    /// Show what will change in the cluster: the manifests committed at --base
    /// against the render of --head, resource by resource, risks first.
    #[command(after_long_help = DIFF_EXAMPLES)]
    Diff {
        /// The platform file; its path inside the repository is used at each ref
        /// [default: platform.toml here or in the nearest parent directory].
        #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
        platform: Option<PathBuf>,
        /// What is deployed now [default: merge base of HEAD with the default branch, else HEAD].
        #[arg(long, value_name = "REF", value_hint = ValueHint::Other)]
        base: Option<String>,
        /// What will be deployed [default: the working tree's inputs].
        #[arg(long, value_name = "REF", value_hint = ValueHint::Other)]
        head: Option<String>,
        /// Compare only this environment (repeatable).
        #[arg(long = "env", value_name = "NAME", value_hint = ValueHint::Other)]
        envs: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: DiffFormatArg,
        /// Exit 1 when there are differences, 0 when there are none.
        #[arg(long)]
        exit_code: bool,
        /// Leave out objects, or fields of objects: comma-separated filters
        /// kind=KIND, name=NAME, namespace=NS, field=PATH (globs * and ?), e.g.
        /// `kind=Deployment,field=spec.replicas` (repeatable; see docs/diff.md).
        #[arg(long, value_name = "RULE", value_hint = ValueHint::Other)]
        ignore: Vec<String>,
    },
    /// Set a service's image tag and/or digest (or a sidecar's or init container's) in
    /// one environment's overlay (only the value's bytes change), then re-render that
    /// environment.
    #[command(
        group(clap::ArgGroup::new("target").required(true).args(["service", "image"])),
        after_long_help = BUMP_IMAGE_EXAMPLES
    )]
    BumpImage {
        #[command(flatten)]
        common: Common,
        /// The service to update.
        #[arg(value_name = "SERVICE", value_hint = ValueHint::Other)]
        service: Option<String>,
        /// Update this sidecar or init container of SERVICE instead of its own image
        /// (`[services.SERVICE.sidecars.NAME]` or `.init_containers.NAME`).
        #[arg(long, value_name = "NAME", value_hint = ValueHint::Other, requires = "service")]
        container: Option<String>,
        /// Update every service, sidecar and init container using this image repository
        /// instead: REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:… or REGISTRY/REPO:TAG@sha256:….
        #[arg(long, value_name = "IMAGE", value_hint = ValueHint::Other, conflicts_with_all = ["service", "container", "tag", "digest"])]
        image: Option<String>,
        /// The environment whose overlays/<env>.toml is edited.
        #[arg(long, value_name = "NAME", value_hint = ValueHint::Other)]
        env: String,
        /// The new image tag.
        #[arg(long, value_name = "TAG", value_hint = ValueHint::Other)]
        tag: Option<String>,
        /// The new image digest (pins the image; the tag stays for people).
        #[arg(long, value_name = "sha256:HEX", value_hint = ValueHint::Other)]
        digest: Option<String>,
        /// Only edit the overlay (still validated); do not re-render generated/.
        #[arg(long)]
        no_render: bool,
        /// Commit exactly the changed files with git, as the repository's git identity
        /// (user.name/user.email, GIT_AUTHOR_*; signed when commit.gpgSign is set);
        /// github-actions[bot] only in GitHub Actions when none is configured.
        #[arg(long)]
        commit: bool,
    },
    /// Set an add-on's Helm chart version (`[addons.ADDON] chart_version`, or with
    /// --cluster `[clusters.CLUSTER.addons.ADDON]`; `monitoring` for `[monitoring]`) in
    /// platform.toml (only the value's bytes change), then re-render what it changes.
    #[command(after_long_help = BUMP_CHART_EXAMPLES)]
    BumpChart {
        #[command(flatten)]
        common: Common,
        /// The add-on (a name under [addons]), or `monitoring` for the monitoring stack.
        #[arg(value_name = "ADDON", value_hint = ValueHint::Other)]
        addon: String,
        /// The new chart version: exact, e.g. 1.16.2 or v1.16.2 (no ranges, no `latest`).
        #[arg(long, value_name = "VERSION", value_hint = ValueHint::Other)]
        version: String,
        /// Set the version for this cluster only (a [clusters.<name>] table).
        #[arg(long, value_name = "NAME", value_hint = ValueHint::Other)]
        cluster: Option<String>,
        /// Only edit platform.toml (still validated); do not re-render generated/.
        #[arg(long)]
        no_render: bool,
        /// Commit exactly the changed files with git, as the repository's git identity
        /// (user.name/user.email, GIT_AUTHOR_*; signed when commit.gpgSign is set);
        /// github-actions[bot] only in GitHub Actions when none is configured.
        #[arg(long)]
        commit: bool,
    },
    /// Copy image tags and digests (of the services, their sidecars and init
    /// containers) from one environment to another (all services, or the ones named),
    /// then re-render the target environment.
    #[command(after_long_help = PROMOTE_EXAMPLES)]
    Promote {
        #[command(flatten)]
        common: Common,
        /// The environment to copy from.
        #[arg(long, value_name = "ENV", value_hint = ValueHint::Other)]
        from: String,
        /// The environment whose overlay is edited.
        #[arg(long, value_name = "ENV", value_hint = ValueHint::Other)]
        to: String,
        /// Services to promote [default: every service].
        #[arg(value_name = "SERVICE", value_hint = ValueHint::Other)]
        services: Vec<String>,
        /// Only edit the overlay (still validated); do not re-render generated/.
        #[arg(long)]
        no_render: bool,
        /// Commit exactly the changed files with git, as the repository's git identity
        /// (user.name/user.email, GIT_AUTHOR_*; signed when commit.gpgSign is set);
        /// github-actions[bot] only in GitHub Actions when none is configured.
        #[arg(long)]
        commit: bool,
    },
    /// Argo CD config management plugin: run by the repo-server's kgen sidecar in an
    /// application's source directory (docs/argocd-cmp.md).
    #[command(after_long_help = CMP_EXAMPLES)]
    Cmp {
        #[command(subcommand)]
        command: CmpCommand,
    },
    /// Print the JSON Schema of platform.toml (or of an overlay file).
    #[command(after_long_help = SCHEMA_EXAMPLES)]
    Schema {
        /// Print the schema of overlays/<env>.toml instead.
        #[arg(long)]
        overlay: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    ///
    /// bash: `kgen completions bash > ~/.local/share/bash-completion/completions/kgen`;
    /// zsh: `kgen completions zsh > "${fpath[1]}/_kgen"`;
    /// fish: `kgen completions fish > ~/.config/fish/completions/kgen.fish`;
    /// PowerShell: `kgen completions powershell >> $PROFILE` (every new session; `kgen
    /// completions powershell | Out-String | Invoke-Expression` loads it in this one only).
    #[command(after_long_help = COMPLETIONS_EXAMPLES)]
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the kgen(1) man page, or with --dir write one page per command
    /// (kgen.1, kgen-render.1, ...) into DIR.
    #[command(after_long_help = MAN_EXAMPLES)]
    Man {
        /// Write kgen.1 and a page for every command into this directory.
        #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum CmpCommand {
    /// Print one application's manifests as a YAML stream, the exact bytes of its
    /// committed files joined by `---` lines. The environment and service come from
    /// ARGOCD_ENV_KGEN_ENV / ARGOCD_ENV_KGEN_SERVICE or the `env` / `service`
    /// parameters (ARGOCD_APP_PARAMETERS, PARAM_ENV / PARAM_SERVICE); the platform
    /// file is ./platform.toml or ARGOCD_ENV_KGEN_PLATFORM. On any problem: nothing on
    /// stdout, the error on stderr, a non-zero exit.
    #[command(after_long_help = CMP_GENERATE_EXAMPLES)]
    Generate,
    /// Exit 0, printing the platform file, when the current directory holds a kgen
    /// platform (a platform file with a [platform] table); exit 1 otherwise.
    #[command(after_long_help = CMP_DISCOVER_EXAMPLES)]
    Discover,
    /// Print the parameter announcements (JSON) the Argo CD UI shows.
    #[command(after_long_help = CMP_PARAMETERS_EXAMPLES)]
    Parameters,
}

impl Command {
    /// How this command's problems are printed: its `--format`, human for the
    /// commands without one.
    pub fn message_format(&self) -> MessageFormat {
        match self {
            Command::Render { common, .. }
            | Command::Validate { common, .. }
            | Command::BumpImage { common, .. }
            | Command::BumpChart { common, .. }
            | Command::Promote { common, .. } => common.format,
            Command::Diff {
                format: DiffFormatArg::Json,
                ..
            } => MessageFormat::Json,
            Command::Diff { .. }
            | Command::Cmp { .. }
            | Command::Schema { .. }
            | Command::Completions { .. }
            | Command::Man { .. } => MessageFormat::Human,
        }
    }
}

impl Command {
    /// The command's name in JSON output (`render-check` for `render --check`).
    pub fn json_name(&self) -> &'static str {
        match self {
            Command::Render { check: true, .. } => "render-check",
            Command::Render { .. } => "render",
            Command::Validate { .. } => "validate",
            Command::Diff { .. } => "diff",
            Command::BumpImage { .. } => "bump-image",
            Command::BumpChart { .. } => "bump-chart",
            Command::Promote { .. } => "promote",
            Command::Cmp { .. } => "cmp",
            Command::Schema { .. } => "schema",
            Command::Completions { .. } => "completions",
            Command::Man { .. } => "man",
        }
    }
}

impl From<MessageFormat> for Format {
    fn from(f: MessageFormat) -> Format {
        match f {
            MessageFormat::Human => Format::Human,
            MessageFormat::Json => Format::Json,
            MessageFormat::Github => Format::Github,
        }
    }
}

impl From<DiffFormatArg> for DiffFormat {
    fn from(f: DiffFormatArg) -> DiffFormat {
        match f {
            DiffFormatArg::Human => DiffFormat::Text,
            DiffFormatArg::Markdown => DiffFormat::Markdown,
            DiffFormatArg::Json => DiffFormat::Json,
        }
    }
}

// The EXAMPLES of each command's long help (`--help`, not `-h`) and man page
// (`kgen::man` finds them under `Examples:`). docs/cli.md#examples lists every one:
// tests/cli.rs checks that each is there.

const RENDER_EXAMPLES: &str = "\
Examples:
  kgen render                                  # every environment, into generated/
  kgen render --env dev                        # one environment and its cluster's files
  kgen render --check                          # write nothing; exit 1 when generated/ is stale
  kgen render --check --format github          # the same in CI, as pull-request annotations";

const VALIDATE_EXAMPLES: &str = "\
Examples:
  kgen validate                                # the platform, as render checks it
  kgen validate --env prod --format json       # one environment, for a program
  kgen validate k8s/                           # hand-written manifests, kubeconform-style
  kgen validate generated --schema-dir crds    # also against CRD schemas in crds/{group}/{kind}_{version}.json
  helm template ./chart | kgen validate -      # a YAML stream on standard input";

const DIFF_EXAMPLES: &str = "\
Examples:
  kgen diff                                    # the working tree against the merge base
  kgen diff --base main --format markdown      # a pull-request comment
  kgen diff --exit-code --env prod             # exit 1 when prod changes
  kgen diff --ignore kind=Deployment,field=spec.replicas";

const BUMP_IMAGE_EXAMPLES: &str = "\
Examples:
  kgen bump-image main-api --env dev --tag 1.4.1
  kgen bump-image main-api --env prod --tag 1.4.1 --commit
  kgen bump-image web --container log-shipper --env staging --tag 2.33.0
  kgen bump-image --image registry.example.com/acme/api:1.2.3 --env staging";

const BUMP_CHART_EXAMPLES: &str = "\
Examples:
  kgen bump-chart cert-manager --version v1.22.0
  kgen bump-chart cert-manager --version v1.23.0 --cluster prod
  kgen bump-chart cert-manager --version v1.22.0 --commit";

const PROMOTE_EXAMPLES: &str = "\
Examples:
  kgen promote --from dev --to staging         # every service
  kgen promote --from staging --to prod main-api --commit";

const CMP_EXAMPLES: &str = "\
Examples:
  ARGOCD_ENV_KGEN_ENV=dev ARGOCD_ENV_KGEN_SERVICE=main-api kgen cmp generate
  kgen cmp discover
  kgen cmp parameters";

const CMP_GENERATE_EXAMPLES: &str = "\
Examples:
  ARGOCD_ENV_KGEN_ENV=dev ARGOCD_ENV_KGEN_SERVICE=main-api kgen cmp generate";

const CMP_DISCOVER_EXAMPLES: &str = "\
Examples:
  kgen cmp discover";

const CMP_PARAMETERS_EXAMPLES: &str = "\
Examples:
  kgen cmp parameters";

const SCHEMA_EXAMPLES: &str = "\
Examples:
  kgen schema > platform.schema.json
  kgen schema --overlay > overlay.schema.json";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  kgen completions bash > ~/.local/share/bash-completion/completions/kgen
  kgen completions zsh > \"${fpath[1]}/_kgen\"
  kgen completions fish > ~/.config/fish/completions/kgen.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  kgen man | man -l -
  kgen man --dir ~/.local/share/man/man1";
