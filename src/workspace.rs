//! Loading a platform: `platform.toml` and `overlays/<env>.toml`, parsed with spans.
//!
//! A `Workspace` is what every command works on (like cargo's): the platform
//! directory, the source texts, and the parsed input files. It can be loaded from
//! disk or from in-memory texts (a git ref for `kgen diff`, a test).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::error::{Error, Result};
use crate::input::{OverlayFile, PlatformFile};
use crate::source::{FileId, Origin, Sources};
use crate::{input_check, rules, secret_scan};

/// Name of the directory holding overlays, next to platform.toml.
pub const OVERLAY_DIR: &str = "overlays";
/// Name of the output directory, next to platform.toml.
pub const GENERATED_DIR: &str = "generated";

/// Largest input file (platform.toml or an overlay), in bytes. Larger files are
/// refused before they are read in full.
pub const MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;
/// Most services a platform may declare.
pub const MAX_SERVICES: usize = 5_000;
/// Most environments a platform may declare.
pub const MAX_ENVIRONMENTS: usize = 100;
/// Most service × environment pairs (each renders about seven files).
pub const MAX_INSTANCES: usize = 20_000;

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
    /// The hand-written manifests under `manifests/` and the patch files, read by
    /// [`Workspace::load`] (and by `kgen diff` from a commit, and the plugin): see
    /// `escape_hatch::files`. Empty after [`Workspace::parse`] alone.
    pub escape_hatch: crate::escape_hatch::files::Inputs,
}

impl Workspace {
    /// Reads `platform` (a platform.toml) and every `overlays/*.toml` next to it.
    ///
    /// Symbolic links are followed only inside the platform directory (the real
    /// path of the directory holding `platform`): a platform file or overlay whose
    /// real path is elsewhere is refused, so a committed link cannot make kgen read
    /// (and echo in an error) a file outside the repository.
    pub fn load(platform: &Path) -> Result<Workspace> {
        let root = platform
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let real_root = root
            .canonicalize()
            .map_err(|e| Error::io("read", &root, e))?;
        let text = read_input(&real_root, platform)?;
        let display = platform
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "platform.toml".into());
        let overlays = read_overlays(&real_root, &root.join(OVERLAY_DIR))?;
        let mut ws = Workspace::parse(
            root.clone(),
            InputFiles {
                platform: (display, text),
                overlays,
            },
        )?;
        let reader = crate::escape_hatch::files::DiskReader::new(&root)?;
        crate::escape_hatch::files::read(&mut ws, &reader, None)?;
        Ok(ws)
    }

    /// Parses input texts. `root` is where `generated/` lives.
    pub fn parse(root: PathBuf, files: InputFiles) -> Result<Workspace> {
        // Texts that did not come through `load` (a git ref, a test) get the same limit.
        let texts = std::iter::once(&files.platform)
            .map(|(d, t)| (d, t))
            .chain(files.overlays.iter().map(|(_, d, t)| (d, t)));
        for (display, text) in texts {
            if text.len() as u64 > MAX_FILE_SIZE {
                return Err(too_large(display));
            }
        }
        let mut sources = Sources::default();
        let mut diags = Vec::new();
        let (pdisplay, ptext) = files.platform;
        let platform_file = sources.add(pdisplay.clone(), root.join(&pdisplay), ptext);
        let mut overlay_files = Vec::new();
        for (env, display, text) in files.overlays {
            overlay_files.push((env, sources.add(display.clone(), root.join(&display), text)));
        }
        // Each file is parsed once (in parallel), keeping spans. Secrets are looked
        // for first, and alone: no later message may echo one.
        use rayon::prelude::*;
        let all_files: Vec<FileId> = std::iter::once(platform_file)
            .chain(overlay_files.iter().map(|f| f.1))
            .collect();
        let sources_ref = &sources;
        let mut parsed: Vec<_> = all_files
            .par_iter()
            .map(|&file| toml::de::DeTable::parse(&sources_ref.get(file).text))
            .collect();
        let secrets: Vec<Diagnostic> = all_files
            .par_iter()
            .zip(&parsed)
            .flat_map_iter(|(&file, doc)| {
                let found = match doc {
                    Ok(doc) => secret_scan::scan_document(doc.get_ref()),
                    Err(_) => Vec::new(),
                };
                found.into_iter().map(move |f| secret_diagnostic(file, f))
            })
            .collect();
        if !secrets.is_empty() {
            drop(parsed);
            return Err(Error::invalid(secrets, sources));
        }
        let overlay_docs = parsed.split_off(1);
        let platform_doc = parsed.pop().expect("the platform file was parsed");
        let (platform, overlays_read) = rayon::join(
            || {
                let mut d = Vec::new();
                let p: Option<PlatformFile> =
                    read_toml(sources_ref, platform_file, platform_doc, &mut d);
                (p, d)
            },
            || {
                overlay_files
                    .par_iter()
                    .zip(overlay_docs)
                    .map(|((env, id), doc)| {
                        let mut d = Vec::new();
                        let data = read_toml::<OverlayFile>(sources_ref, *id, doc, &mut d);
                        (env.clone(), *id, data, d)
                    })
                    .collect::<Vec<_>>()
            },
        );
        let (platform, platform_diags) = platform;
        diags.extend(platform_diags);
        let mut overlays = BTreeMap::new();
        for (env, id, data, d) in overlays_read {
            diags.extend(d);
            if let Some(data) = data {
                overlays.insert(env, Overlay { file: id, data });
            }
        }

        let Some(platform) = platform else {
            return Err(Error::invalid(diags, sources));
        };
        check_sizes(&platform, platform_file, &mut diags);
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
            escape_hatch: Default::default(),
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

/// Reads an input file: a regular file whose real path is inside `real_root`, at
/// most [`MAX_FILE_SIZE`] bytes of UTF-8.
pub fn read_input(real_root: &Path, path: &Path) -> Result<String> {
    use std::io::Read as _;
    let real = path
        .canonicalize()
        .map_err(|e| Error::io("read", path, e))?;
    if !real.starts_with(real_root) {
        return Err(Error::Usage(format!(
            "{} is a symbolic link to {}, outside the platform directory {}; kgen reads only files inside it",
            path.display(),
            real.display(),
            real_root.display()
        )));
    }
    let file = std::fs::File::open(&real).map_err(|e| Error::io("read", path, e))?;
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large(&path.display().to_string()));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::io(
            "read",
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })
}

/// The error for an input file larger than [`MAX_FILE_SIZE`].
fn too_large(display: &str) -> Error {
    Error::Usage(format!(
        "{display} is larger than {} MiB, kgen's limit for an input file",
        MAX_FILE_SIZE / (1024 * 1024)
    ))
}

/// Lists `dir/*.toml` as (stem, display path, text), sorted by name. A missing directory is fine.
fn read_overlays(real_root: &Path, dir: &Path) -> Result<Vec<(String, String, String)>> {
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
        let text = read_input(real_root, &path)?;
        out.push((stem.clone(), format!("{OVERLAY_DIR}/{stem}.toml"), text));
    }
    out.sort();
    Ok(out)
}

/// The error for a secret-looking string found by `secret_scan::scan_toml`.
fn secret_diagnostic(file: FileId, found: secret_scan::Located) -> Diagnostic {
    Diagnostic::error(
        rules::SECRET_LITERAL,
        format!(
            "`{}` looks like it holds a secret ({}); kgen refuses secrets in plain text",
            found.path.rsplit('.').next().unwrap_or(""),
            found.finding.what
        ),
    )
    .at(Origin::new(file, found.span))
    .redacted()
    .label("secret-looking value")
    .help("store the value in AWS Secrets Manager or SSM Parameter Store and list it under the service's `secrets` (mounted at /mnt/secrets-store/<name>); see docs/platform.md#secrets")
}

/// Reads one parsed TOML file into `T`, turning a syntax error, or every unknown
/// key, wrong type and missing key (`input_check`), into located diagnostics.
fn read_toml<'i, T: serde::de::DeserializeOwned + schemars::JsonSchema>(
    sources: &Sources,
    file: FileId,
    doc: std::result::Result<toml::Spanned<toml::de::DeTable<'i>>, toml::de::Error>,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    let text = &sources.get(file).text;
    let error = match doc {
        Ok(doc) => match T::deserialize(toml::de::Deserializer::from(doc)) {
            Ok(v) => return Some(v),
            Err(first) => {
                // serde stopped at the first error; look for the others in this file.
                let mut last_line = None;
                let start = diags.len();
                for found in input_check::every_error::<T>(text, &first) {
                    let d = toml_diagnostic(text, file, &found.message, found.span, &mut last_line);
                    // Errors on a masked line all read the same: say it once.
                    if diags.len() == start || diags.last() != Some(&d) {
                        diags.push(d);
                    }
                }
                return None;
            }
        },
        Err(syntax) => syntax,
    };
    let span = error.span().unwrap_or(0..0);
    diags.push(toml_diagnostic(
        text,
        file,
        error.message(),
        span,
        &mut None,
    ));
    None
}

/// A toml/serde error at `span` of `text` as a diagnostic; its snippet is masked
/// when its line holds a secret-looking value. `last_line` keeps the last line looked
/// at (its span and whether it holds a secret), so that many errors on one long line
/// scan it once.
fn toml_diagnostic(
    text: &str,
    file: FileId,
    message: &str,
    span: Range<usize>,
    last_line: &mut Option<(Range<usize>, bool)>,
) -> Diagnostic {
    let mut d = toml_error_diagnostic(message, Origin::new(file, span.clone()));
    // The snippet shows the line of the error: mask it if it holds a secret
    // (a file that is not valid TOML is not scanned by `scan_toml`).
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let (bounds, secret_line) = match last_line {
        Some((bounds, secret)) if bounds.start <= start && start <= bounds.end => {
            (bounds.clone(), *secret)
        }
        _ => {
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let bounds = line_start..line_end;
            let secret = secret_scan::scan("", text.get(bounds.clone()).unwrap_or("")).is_some();
            *last_line = Some((bounds.clone(), secret));
            (bounds, secret)
        }
    };
    let (line_start, line_end) = (bounds.start, bounds.end);
    let line = text.get(bounds).unwrap_or("");
    if secret_line || secret_scan::scan("", &d.message).is_some() {
        let indent = line.len() - line.trim_start().len();
        d.origin = Some(Origin::new(file, line_start + indent..line_end));
        d.message = "invalid TOML on a line that holds a secret-looking value (not shown)".into();
        d.redact = true;
    }
    d
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

/// The numbers of services and environments stay within kgen's limits.
fn check_sizes(platform: &PlatformFile, file: FileId, diags: &mut Vec<Diagnostic>) {
    let services = platform.services.len();
    let envs = platform.environments.len();
    let at = |key: Option<&crate::spanned::Spanned<String>>| {
        Origin::new(file, key.map_or(0..0, |k| k.span.clone()))
    };
    let mut too_many = |what: String, limit: usize, origin: Origin| {
        diags.push(
            Diagnostic::error(rules::OUT_OF_RANGE, format!("{what}, more than kgen's limit of {limit}"))
                .at(origin)
                .help("split the platform into several platform directories (each with its own platform.toml); see docs/security.md#limits"),
        );
    };
    if services > MAX_SERVICES {
        let origin = at(platform.services.keys().nth(MAX_SERVICES));
        too_many(
            format!("platform.toml declares {services} services"),
            MAX_SERVICES,
            origin,
        );
    }
    if envs > MAX_ENVIRONMENTS {
        let origin = at(platform.environments.keys().nth(MAX_ENVIRONMENTS));
        too_many(
            format!("platform.toml declares {envs} environments"),
            MAX_ENVIRONMENTS,
            origin,
        );
    } else if services <= MAX_SERVICES && services * envs > MAX_INSTANCES {
        too_many(
            format!(
                "{services} services in {envs} environments make {} service instances",
                services * envs
            ),
            MAX_INSTANCES,
            at(None),
        );
    }
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
