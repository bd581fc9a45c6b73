//! Loading a platform: `platform.toml` and `overlays/<env>.toml`, parsed with spans.
//!
//! A `Workspace` is what every command works on (like cargo's): the platform
//! directory, the source texts, and the parsed input files. It can be loaded from
//! disk or from in-memory texts (a git ref for `kgen diff`, a test).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::error::{Error, Result};
use crate::input::{OverlayFile, PlatformFile};
use crate::rules;
use crate::source::{FileId, Origin, Sources};

/// Name of the directory holding overlays, next to platform.toml.
pub const OVERLAY_DIR: &str = "overlays";
/// Name of the output directory, next to platform.toml.
pub const GENERATED_DIR: &str = "generated";

/// The input texts of a platform, before parsing.
#[derive(Debug, Clone)]
pub struct InputFiles {
    /// Display name of the platform file (usually `platform.toml`) and its text.
    pub platform: (String, String),
    /// Overlays: environment name (file stem), display path, text.
    pub overlays: Vec<(String, String, String)>,
}

#[derive(Debug, Clone)]
pub struct Overlay {
    pub file: FileId,
    pub data: OverlayFile,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    /// Directory that holds platform.toml.
    pub root: PathBuf,
    pub sources: Sources,
    pub platform_file: FileId,
    pub platform: PlatformFile,
    /// Overlays by environment name.
    pub overlays: BTreeMap<String, Overlay>,
}

impl Workspace {
    /// Reads `platform` (a platform.toml) and every `overlays/*.toml` next to it.
    pub fn load(platform: &Path) -> Result<Workspace> {
        let text = std::fs::read_to_string(platform).map_err(|e| Error::io("read", platform, e))?;
        let root = platform
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let display = platform
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "platform.toml".into());
        let overlays = read_overlays(&root.join(OVERLAY_DIR))?;
        Workspace::parse(
            root,
            InputFiles {
                platform: (display, text),
                overlays,
            },
        )
    }

    /// Parses input texts. `root` is where `generated/` lives.
    pub fn parse(root: PathBuf, files: InputFiles) -> Result<Workspace> {
        let mut sources = Sources::default();
        let mut diags = Vec::new();
        let (pdisplay, ptext) = files.platform;
        let platform_file = sources.add(pdisplay.clone(), root.join(&pdisplay), ptext);
        let platform: Option<PlatformFile> = parse_toml(&sources, platform_file, &mut diags);

        let mut overlays = BTreeMap::new();
        for (env, display, text) in files.overlays {
            let id = sources.add(display.clone(), root.join(&display), text);
            if let Some(data) = parse_toml::<OverlayFile>(&sources, id, &mut diags) {
                overlays.insert(env, Overlay { file: id, data });
            }
        }

        let Some(platform) = platform else {
            return Err(Error::invalid(diags, sources));
        };
        check_overlay_names(&platform, &overlays, &sources, &mut diags);
        if diags.iter().any(Diagnostic::is_error) {
            return Err(Error::invalid(diags, sources));
        }
        Ok(Workspace {
            root,
            sources,
            platform_file,
            platform,
            overlays,
        })
    }

    pub fn generated_dir(&self) -> PathBuf {
        self.root.join(GENERATED_DIR)
    }

    /// Environment names in platform.toml, sorted.
    pub fn environment_names(&self) -> Vec<&str> {
        self.platform
            .environments
            .keys()
            .map(|k| k.value.as_str())
            .collect()
    }

    /// Service names in platform.toml, sorted.
    pub fn service_names(&self) -> Vec<&str> {
        self.platform
            .services
            .keys()
            .map(|k| k.value.as_str())
            .collect()
    }
}

/// Lists `dir/*.toml` as (stem, display path, text), sorted by name. A missing directory is fine.
fn read_overlays(dir: &Path) -> Result<Vec<(String, String, String)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| Error::io("read", &path, e))?;
        if !meta.is_file() {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        out.push((stem.clone(), format!("{OVERLAY_DIR}/{stem}.toml"), text));
    }
    out.sort();
    Ok(out)
}

/// Parses one TOML file into `T`, turning a parse error into a located diagnostic.
fn parse_toml<T: serde::de::DeserializeOwned>(
    sources: &Sources,
    file: FileId,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    let text = &sources.get(file).text;
    match toml::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            diags.push(toml_error_diagnostic(e.message(), Origin::new(file, span)));
            None
        }
    }
}

/// Classifies a toml/serde error message into a kgen diagnostic with a helpful hint.
fn toml_error_diagnostic(message: &str, origin: Origin) -> Diagnostic {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, expected) = split_expected(rest);
        let mut d =
            Diagnostic::error(rules::UNKNOWN_KEY, format!("unknown key `{name}`")).at(origin);
        if let Some(s) = did_you_mean(&name, expected.iter().map(String::as_str)) {
            d = d.label(s);
        }
        if !expected.is_empty() {
            d = d.help(format!(
                "the keys allowed here are: {}",
                expected.join(", ")
            ));
        }
        return d;
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (name, expected) = split_expected(rest);
        let mut d =
            Diagnostic::error(rules::WRONG_TYPE, format!("unknown value `{name}`")).at(origin);
        if let Some(s) = did_you_mean(&name, expected.iter().map(String::as_str)) {
            d = d.label(s);
        }
        if !expected.is_empty() {
            d = d.help(format!("write one of: {}", expected.join(", ")));
        }
        return d;
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        return Diagnostic::error(rules::MISSING_KEY, format!("missing required key `{name}`"))
            .at(origin)
            .label(format!("add `{name} = ...` to this table"))
            .help("see docs/platform.md for every key, its type and its default");
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let friendly = message
            .replace("expected u32", "expected a non-negative integer")
            .replace("expected i64", "expected an integer")
            .replace("expected a boolean", "expected `true` or `false`")
            .replace("expected a string", "expected a string in quotes");
        return Diagnostic::error(rules::WRONG_TYPE, friendly)
            .at(origin)
            .help("see docs/platform.md for the type of every key (numbers and booleans are written without quotes)");
    }
    Diagnostic::error(rules::TOML_SYNTAX, format!("invalid TOML: {message}"))
        .at(origin)
        .help("see https://toml.io for the syntax")
}

/// From "x`, expected one of `a`, `b`" returns ("x", ["a", "b"]).
fn split_expected(rest: &str) -> (String, Vec<String>) {
    let mut parts = rest.splitn(2, '`');
    let name = parts.next().unwrap_or("").to_string();
    let tail = parts.next().unwrap_or("");
    let expected = tail
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect();
    (name, expected)
}

/// Every overlay must belong to an environment, and name only services that exist.
fn check_overlay_names(
    platform: &PlatformFile,
    overlays: &BTreeMap<String, Overlay>,
    sources: &Sources,
    diags: &mut Vec<Diagnostic>,
) {
    let envs: Vec<&str> = platform
        .environments
        .keys()
        .map(|k| k.value.as_str())
        .collect();
    let services: Vec<&str> = platform.services.keys().map(|k| k.value.as_str()).collect();
    for (env, overlay) in overlays {
        if !envs.contains(&env.as_str()) {
            let display = &sources.get(overlay.file).display;
            let mut d = Diagnostic::error(
                rules::UNKNOWN_ENVIRONMENT,
                format!("overlay `{display}` is for environment `{env}`, which platform.toml does not define"),
            )
            .at(Origin::new(overlay.file, 0..0));
            let hint = did_you_mean(env, envs.iter().copied())
                .map(|s| format!("{s} Rename the file, or "))
                .unwrap_or_default();
            d = d.help(format!(
                "{hint}add `[environments.{env}]` to platform.toml (known environments: {})",
                envs.join(", ")
            ));
            diags.push(d);
        }
        for name in overlay.data.services.keys() {
            // A map lookup, not a scan: overlays of large platforms name every service.
            if !platform.services.contains_key(name.value.as_str()) {
                let mut d = Diagnostic::error(
                    rules::UNKNOWN_SERVICE,
                    format!(
                        "overlay names service `{}`, which platform.toml does not define",
                        name.value
                    ),
                )
                .at(Origin::new(overlay.file, name.span.clone()));
                if let Some(s) = did_you_mean(&name.value, services.iter().copied()) {
                    d = d.label(s);
                }
                d = d.help(format!(
                    "an overlay can only change services declared under [services] in platform.toml (known: {})",
                    services.join(", ")
                ));
                diags.push(d);
            }
        }
    }
}
