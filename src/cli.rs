//! The command line of the `kgen` binary: clap's definitions of every command, flag
//! and help text (docs/cli.md describes them), and the conversions from its option
//! values to the library's types.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use kgen::diagnostic::Format;
use kgen::diff_format::DiffFormat;

#[derive(Parser)]
#[command(
    name = "kgen",
    version,
    about = "Compile a typed platform.toml into validated Kubernetes YAML under generated/"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MessageFormat {
    Human,
    Json,
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DiffFormatArg {
    Text,
    Markdown,
    Json,
}

#[derive(clap::Args)]
pub struct Common {
    /// The platform file; generated/ and overlays/ are next to it.
    #[arg(long, default_value = "platform.toml", value_name = "FILE")]
    pub platform: PathBuf,
    /// How problems are printed.
    #[arg(long, value_enum, default_value = "human")]
    pub format: MessageFormat,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// Leave out objects, or fields of objects: comma-separated filters
        /// kind=KIND, name=NAME, namespace=NS, field=PATH (globs * and ?), e.g.
        /// `kind=Deployment,field=spec.replicas` (repeatable; see docs/diff.md).
        #[arg(long, value_name = "RULE")]
        ignore: Vec<String>,
    },
    /// Set a service's image tag and/or digest (or a sidecar's or init container's) in
    /// one environment's overlay (only the value's bytes change), then re-render that
    /// environment.
    #[command(group(clap::ArgGroup::new("target").required(true).args(["service", "image"])))]
    BumpImage {
        #[command(flatten)]
        common: Common,
        /// The service to update.
        #[arg(value_name = "SERVICE")]
        service: Option<String>,
        /// Update this sidecar or init container of SERVICE instead of its own image
        /// (`[services.SERVICE.sidecars.NAME]` or `.init_containers.NAME`).
        #[arg(long, value_name = "NAME", requires = "service")]
        container: Option<String>,
        /// Update every service, sidecar and init container using this image repository
        /// instead: REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:… or REGISTRY/REPO:TAG@sha256:….
        #[arg(long, value_name = "IMAGE", conflicts_with_all = ["service", "container", "tag", "digest"])]
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
    /// Set an add-on's Helm chart version (`[addons.ADDON] chart_version`, or with
    /// --cluster `[clusters.CLUSTER.addons.ADDON]`; `monitoring` for `[monitoring]`) in
    /// platform.toml (only the value's bytes change), then re-render what it changes.
    BumpChart {
        #[command(flatten)]
        common: Common,
        /// The add-on (a name under [addons]), or `monitoring` for the monitoring stack.
        #[arg(value_name = "ADDON")]
        addon: String,
        /// The new chart version: exact, e.g. 1.16.2 or v1.16.2 (no ranges, no `latest`).
        #[arg(long, value_name = "VERSION")]
        version: String,
        /// Set the version for this cluster only (a [clusters.<name>] table).
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
        /// Only edit platform.toml (still validated); do not re-render generated/.
        #[arg(long)]
        no_render: bool,
        /// Commit exactly the changed files with git (author: $GIT_AUTHOR_NAME/$GIT_AUTHOR_EMAIL,
        /// else github-actions[bot]).
        #[arg(long)]
        commit: bool,
    },
    /// Copy image tags and digests (of the services, their sidecars and init
    /// containers) from one environment to another (all services, or the ones named),
    /// then re-render the target environment.
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
pub enum CmpCommand {
    /// Print one application's manifests as a YAML stream, the exact bytes of its
    /// committed files joined by `---` lines. The environment and service come from
    /// ARGOCD_ENV_KGEN_ENV / ARGOCD_ENV_KGEN_SERVICE or the `env` / `service`
    /// parameters (ARGOCD_APP_PARAMETERS, PARAM_ENV / PARAM_SERVICE); the platform
    /// file is ./platform.toml or ARGOCD_ENV_KGEN_PLATFORM. On any problem: nothing on
    /// stdout, the error on stderr, a non-zero exit.
    Generate,
    /// Exit 0, printing the platform file, when the current directory holds a kgen
    /// platform (a platform file with a [platform] table); exit 1 otherwise.
    Discover,
    /// Print the parameter announcements (JSON) the Argo CD UI shows.
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
            Command::Diff { .. } | Command::Cmp { .. } | Command::Schema { .. } => {
                MessageFormat::Human
            }
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
            DiffFormatArg::Text => DiffFormat::Text,
            DiffFormatArg::Markdown => DiffFormat::Markdown,
            DiffFormatArg::Json => DiffFormat::Json,
        }
    }
}
