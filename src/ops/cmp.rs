//! `kgen cmp ...`: kgen as an Argo CD config management plugin.
//!
//! Argo CD's plugin server (`argocd-cmp-server`, in a sidecar of the repo-server) runs
//! these commands in the application's source directory, with the Application's
//! `spec.source.plugin.env` as `ARGOCD_ENV_*` variables and its parameters as JSON in
//! `ARGOCD_APP_PARAMETERS` and as `PARAM_<NAME>` variables (see `cmp_params` and
//! docs/argocd-cmp.md):
//!
//! - [`generate`]: the manifests of one application (one service in one environment),
//!   as the exact bytes of the files `kgen render` commits under
//!   `generated/<env>/<service>/`, joined into one YAML stream (see [`Generated::stream`]);
//! - [`discover`]: whether the source directory holds a kgen platform;
//! - [`parameters`]: the parameter announcements for the Argo CD UI.
//!
//! Each is a function of the source directory and the variables (passed in, so tests
//! need no process). They read the platform file and, at most, one overlay (with
//! [`workspace::read_input`], as `kgen render` does: within the size limit); they
//! write nothing, open no connection and keep no cache, so concurrent runs cannot
//! interfere. Every problem is an error (the binary prints nothing on stdout then):
//! an empty stream that exits 0 would let Argo CD prune every resource of the
//! application.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::cmp_params::{
    self, argocd_env, Announcement, Parameter, ENV_PARAM, ENV_VAR, INFO_PARAMS, PARAMETERS_VAR,
    PLATFORM_FILE, PLATFORM_VAR, SERVICE_PARAM, SERVICE_VAR,
};
use crate::compile::compile_service;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::error::{Error, Result};
use crate::names;
use crate::resolve;
use crate::spec::PlatformSpec;
use crate::workspace::{self, InputFiles, Workspace, OVERLAY_DIR};

/// The variables a plugin command sees, only those with a non-empty value: an empty
/// value counts as not set. (Argo CD does pass empty values on: `KGEN_ENV: ""` in an
/// Application arrives as `ARGOCD_ENV_KGEN_ENV=` — cmpserver/plugin/plugin.go,
/// `environ`, drops only nameless entries. kgen reads such a value as "not given"
/// rather than as an environment named ``.)
#[derive(Debug, Clone, Default)]
pub struct Vars(BTreeMap<String, String>);

impl Vars {
    /// The variables of this process.
    pub fn from_process() -> Vars {
        Vars::from_pairs(
            std::env::vars_os().filter_map(|(k, v): (OsString, OsString)| {
                Some((k.into_string().ok()?, v.into_string().ok()?))
            }),
        )
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Vars {
        Vars(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A plugin variable as written in the Application (`KGEN_ENV`), read with
    /// Argo CD's prefix (`ARGOCD_ENV_KGEN_ENV`).
    pub fn plugin_env(&self, var: &str) -> Option<&str> {
        self.get(&argocd_env(var))
    }
}

/// A value and where it came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    pub value: String,
    /// `ARGOCD_ENV_KGEN_ENV` or `parameter \`env\``.
    pub from: String,
}

/// The application to render, as the Application asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub env: Option<Given>,
    pub service: Option<Given>,
}

/// Reads the environment and service from the plugin variables and the parameters.
///
/// A parameter arrives twice (pkg/apis/application/v1alpha1/types.go,
/// `ApplicationSourcePluginParameters.Environ`): in the JSON of `ARGOCD_APP_PARAMETERS`
/// and as `PARAM_ENV` / `PARAM_SERVICE`. When the JSON is there, it says which
/// parameters the Application sets, and a `PARAM_*` variable must repeat it: Argo CD
/// writes both from the same list, so a difference means one of them was set
/// elsewhere (the sidecar container's own environment, which the plugin server passes
/// on to kgen, or by hand). Without the JSON (a hand-run), `PARAM_*` alone count.
///
/// A value given both as a parameter and as a plugin variable (`ARGOCD_ENV_KGEN_ENV`)
/// must agree too; otherwise which one wins would depend on a rule nobody remembers
/// while reading the Application.
pub fn selection(vars: &Vars) -> Result<Selection> {
    let json = vars.get(PARAMETERS_VAR);
    let params = match json {
        Some(json) => cmp_params::parse_parameters(json).map_err(Error::Usage)?,
        None => Vec::new(),
    };
    let mut by_name: BTreeMap<&str, &Parameter> = BTreeMap::new();
    for p in &params {
        let known = [ENV_PARAM, SERVICE_PARAM];
        if known.contains(&p.name.as_str()) {
            by_name.insert(p.name.as_str(), p);
        } else if !INFO_PARAMS.contains(&p.name.as_str()) {
            // `environment` is too far from `env` for the edit distance: spelt out,
            // it is the likeliest mistake.
            // A case slip (`ENV`) or a misspelt long form (`enviroment`) too.
            let lower = p.name.to_ascii_lowercase();
            let long = match lower.as_str() {
                "env" => Some(ENV_PARAM),
                "service" => Some(SERVICE_PARAM),
                "environment" | "envname" | "env_name" | "environment_name" => Some(ENV_PARAM),
                "svc" | "service_name" | "servicename" | "app" | "application" => {
                    Some(SERVICE_PARAM)
                }
                _ => crate::diagnostic::closest(&lower, ["environment", "application"]).map(|c| {
                    if c == "environment" {
                        ENV_PARAM
                    } else {
                        SERVICE_PARAM
                    }
                }),
            };
            let hint = long
                .map(|k| format!("did you mean `{k}`?"))
                .or_else(|| did_you_mean(&p.name, known))
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "{PARAMETERS_VAR}: unknown parameter `{}`{hint}; kgen's parameters are `env` and `service` (and `{}`, which it shows in the UI and does not read)",
                p.name,
                INFO_PARAMS.join("` and `")
            )));
        }
    }
    let pick = |param: &str, var: &str| -> Result<Option<Given>> {
        // The parameter's string as the JSON gives it (possibly empty).
        let json_string = match by_name.get(param) {
            Some(p) => match &p.string {
                Some(s) => Some(s.as_str()),
                None => {
                    return Err(Error::Usage(format!(
                        "{PARAMETERS_VAR}: parameter `{param}` must be a string (`string: ...`), not an array or a map"
                    )))
                }
            },
            None => None,
        };
        let param_var = cmp_params::param_var(param);
        let from_param_var = vars.get(&param_var);
        // Where a variable Argo CD did not write can come from.
        const ELSEWHERE: &str =
            "the sidecar container's env, which the plugin server passes on, or a hand-run";
        let from_param = match (json_string, from_param_var) {
            (Some(j), Some(v)) if j != v => {
                return Err(Error::Usage(format!(
                    "{param_var} is `{v}` but parameter `{param}` in {PARAMETERS_VAR} is `{j}`; Argo CD sets both from the Application's spec.source.plugin.parameters, so one of them was set elsewhere ({ELSEWHERE})"
                )))
            }
            (None, Some(v)) if json.is_some() => {
                return Err(Error::Usage(format!(
                    "{param_var} is `{v}` but {PARAMETERS_VAR} sets no parameter `{param}`; Argo CD sets both from the Application's spec.source.plugin.parameters, so {param_var} was set elsewhere ({ELSEWHERE}): remove it, or set the parameter `{param}` in the Application"
                )))
            }
            // Empty counts as unset.
            (Some(""), _) => None,
            (Some(j), _) => Some(Given {
                value: j.to_string(),
                from: format!("parameter `{param}`"),
            }),
            (None, v) => v.map(|v| Given {
                value: v.to_string(),
                from: param_var.clone(),
            }),
        };
        let from_env = vars.plugin_env(var).map(|v| Given {
            value: v.to_string(),
            from: argocd_env(var),
        });
        match (from_param, from_env) {
            (Some(p), Some(e)) if p.value != e.value => Err(Error::Usage(format!(
                "{} is `{}` but {} is `{}`; set the {param} once (the ApplicationSets kgen generates set {var})",
                p.from, p.value, e.from, e.value
            ))),
            (Some(p), _) => Ok(Some(p)),
            (None, e) => Ok(e),
        }
    };
    Ok(Selection {
        env: pick(ENV_PARAM, ENV_VAR)?,
        service: pick(SERVICE_PARAM, SERVICE_VAR)?,
    })
}

/// Platform files up to this size are compiled by `cmp generate` on one thread.
///
/// The plugin renders one application: for a small platform the work is a few
/// milliseconds, and starting the second worker thread and handing work between the
/// two costs more than it saves (`docs/performance.md`, session 10: on this
/// repository's platform a call went from 4.8 to 3.8 ms, median of 50). From about
/// 50 KB of input on, two threads win (a 100-service platform: 8.4 ms with two, 9.0 ms
/// with one).
pub const ONE_THREAD_MAX_BYTES: u64 = 32 * 1024;

/// How many threads `cmp generate` should compile on in `dir`: one when its platform
/// file is small (see [`ONE_THREAD_MAX_BYTES`]), else `None` (one per core, rayon's
/// default). Decided from the file's size alone, before anything is read: the pool
/// has to be set up before its first use. A platform file that cannot be found is
/// `None`: `generate` reports it.
pub fn generate_threads(dir: &Path, vars: &Vars) -> Option<usize> {
    let path = platform_file(dir, vars).ok()?;
    let len = std::fs::metadata(path).ok()?.len();
    (len <= ONE_THREAD_MAX_BYTES).then_some(1)
}

/// The platform file: `platform.toml`, or `KGEN_PLATFORM`, a relative path that must
/// stay inside the source directory `dir` (also through symbolic links).
pub fn platform_file(dir: &Path, vars: &Vars) -> Result<PathBuf> {
    let (rel, from) = match vars.plugin_env(PLATFORM_VAR) {
        Some(p) => (p, argocd_env(PLATFORM_VAR)),
        None => (PLATFORM_FILE, String::new()),
    };
    let escapes = Path::new(rel)
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes {
        return Err(Error::Usage(format!(
            "{from}: `{rel}` is not a path inside the source directory; write it relative to the Application's source path, without `..`"
        )));
    }
    let path = dir.join(rel);
    let shown = if from.is_empty() {
        format!("no `{rel}` in the source directory")
    } else {
        format!("{from}: no `{rel}` in the source directory")
    };
    let meta = std::fs::metadata(&path).map_err(|e| {
        Error::Usage(format!("{shown} ({e}); the Application's source path must be the directory of the platform file"))
    })?;
    if !meta.is_file() {
        return Err(Error::Usage(format!("{shown}: it is not a file")));
    }
    check_inside(dir, &path)?;
    Ok(path)
}

/// The real path of the source directory `dir` (symbolic links resolved).
fn real_dir(dir: &Path) -> Result<PathBuf> {
    dir.canonicalize().map_err(|e| Error::io("resolve", dir, e))
}

/// Refuses a file whose real path (symbolic links resolved) is outside `dir`.
fn check_inside(dir: &Path, path: &Path) -> Result<()> {
    let real_dir = real_dir(dir)?;
    let real = path
        .canonicalize()
        .map_err(|e| Error::io("resolve", path, e))?;
    if real.starts_with(&real_dir) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{} leads outside the source directory (to {}); kgen reads only files inside it",
            path.display(),
            real.display()
        )))
    }
}

/// Loads the platform for one environment: the platform file and, when `env` is a
/// plausible environment name, its overlay (the other overlays are not read: they
/// cannot change this environment's files).
fn load(dir: &Path, platform: &Path, env: Option<&str>) -> Result<Workspace> {
    let real_dir = real_dir(dir)?;
    // `./platform.toml` is `platform.toml`: written without the `./`, errors name the
    // file as `kgen render` does.
    let platform = platform.strip_prefix(".").unwrap_or(platform);
    let text = workspace::read_input(&real_dir, platform)?;
    let root = platform
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let display = platform
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| PLATFORM_FILE.into());
    let mut overlays = Vec::new();
    if let Some(env) = env.filter(|e| names::check_dns1123_label(e).is_ok()) {
        let rel = format!("{OVERLAY_DIR}/{env}.toml");
        let path = root.join(&rel);
        // Through the loader `kgen render` uses: an overlay that exists but cannot be
        // read (a dangling link, a FIFO, a directory) is an error, never "no overlay".
        if path.canonicalize().is_ok() {
            check_inside(dir, &path)?;
        }
        if let Some(text) = workspace::read_overlay(&real_dir, &path)? {
            overlays.push((env.to_string(), rel, text));
        }
    }
    // Only `env` is resolved for what to report with reading errors: the others'
    // overlays are not read.
    let known_env = env.filter(|e| names::check_dns1123_label(e).is_ok());
    Workspace::parse_environment(
        root.clone(),
        InputFiles {
            platform: (display, text),
            overlays,
        },
        known_env,
        |ws| {
            // Hand-written manifests: every environment's and this one's (`clusters/`
            // is deployed from generated/, never by the plugin); and the patch files.
            let reader = crate::escape_hatch::files::DiskReader::new(&root)?;
            check_inside(dir, &reader.root)?;
            match known_env.map(crate::escape_hatch::files::plugin_dirs) {
                Some(dirs) => crate::escape_hatch::files::read(ws, &reader, Some(&dirs)),
                None => crate::escape_hatch::files::read(
                    ws,
                    &reader,
                    Some(&[crate::escape_hatch::ALL_ENVIRONMENTS]),
                ),
            }
        },
    )
}

/// Prefixes a usage error with where the offending value came from.
fn given_by(e: Error, given: &Given) -> Error {
    match e {
        Error::Usage(m) => Error::Usage(format!("{}: {m}", given.from)),
        other => other,
    }
}

/// What `kgen cmp generate` prints, and what it found on the way.
#[derive(Debug, Clone)]
pub struct Generated {
    pub env: String,
    pub service: String,
    /// The application's files: path under `generated/` and contents, by path.
    pub files: Vec<(String, String)>,
    /// Non-blocking problems (in `workspace.sources`).
    pub warnings: Vec<Diagnostic>,
    /// The platform as loaded, and as resolved for the environment. Returned rather
    /// than dropped: on a large platform freeing them costs milliseconds, which the
    /// binary saves by exiting right after printing.
    pub workspace: Workspace,
    pub spec: PlatformSpec,
}

impl Generated {
    /// Separator between two files in the stream.
    pub const SEPARATOR: &'static str = "---\n";

    /// The YAML stream: the files in path order, each exactly as committed (its
    /// `# Generated by kgen` header comment, then the object), joined by `---` lines.
    /// Each file ends with a newline, so the stream is the concatenation of
    /// `file₁, "---\n", file₂, ...`; the header comments are YAML comments that
    /// Argo CD ignores.
    pub fn stream(&self) -> String {
        let len = self.files.iter().map(|(_, t)| t.len() + 4).sum();
        let mut out = String::with_capacity(len);
        for (i, (_, text)) in self.files.iter().enumerate() {
            if i > 0 {
                out.push_str(Self::SEPARATOR);
            }
            out.push_str(text);
        }
        out
    }
}

/// The usage error when one of the environment and the service is given (`given`,
/// the `had` one) and not the other (the `what` one, set by `var` or `param`).
fn one_missing(what: &str, var: &str, param: &str, had: &str, given: &Given) -> Error {
    Error::Usage(format!(
        "kgen needs the {what} of the application too (the {had}, `{}`, came from {}): set `{var}` in the Application's spec.source.plugin.env (Argo CD passes it as {}), or the `{param}` parameter",
        given.value,
        given.from,
        argocd_env(var)
    ))
}

/// `kgen cmp generate`: renders and validates one application in memory.
pub fn generate(dir: &Path, vars: &Vars) -> Result<Generated> {
    let sel = selection(vars)?;
    let (env, service) = match (sel.env, sel.service) {
        (Some(env), Some(service)) => (env, service),
        (None, None) => {
            return Err(Error::Usage(format!(
                "kgen needs the environment and the service of the application: set `{ENV_VAR}` and `{SERVICE_VAR}` in the Application's spec.source.plugin.env (Argo CD passes them as {} and {}), or the `{ENV_PARAM}` and `{SERVICE_PARAM}` parameters",
                argocd_env(ENV_VAR),
                argocd_env(SERVICE_VAR)
            )))
        }
        (Some(env), None) => return Err(one_missing("service", SERVICE_VAR, SERVICE_PARAM, "environment", &env)),
        (None, Some(service)) => return Err(one_missing("environment", ENV_VAR, ENV_PARAM, "service", &service)),
    };
    let platform = platform_file(dir, vars)?;
    let ws = load(dir, &platform, Some(&env.value))?;
    let known = ws.environment_names();
    if !known.contains(&env.value.as_str()) {
        return Err(given_by(
            resolve::unknown_environment(&env.value, &known),
            &env,
        ));
    }
    let services = ws.service_names();
    if !services.contains(&service.value.as_str()) {
        return Err(given_by(
            resolve::unknown_service(&service.value, &services),
            &service,
        ));
    }
    let compiled = compile_service(&ws, &env.value, &service.value)?;
    let prefix = format!("{}/{}/", env.value, service.value);
    let files: Vec<(String, String)> = compiled
        .tree
        .files
        .into_iter()
        .filter(|(path, _)| path.starts_with(&prefix))
        .collect();
    if files.is_empty() {
        return Err(Error::Other(format!(
            "no manifests for service `{}` in environment `{}`; refusing to print an empty stream (Argo CD would prune every resource of the application)",
            service.value, env.value
        )));
    }
    Ok(Generated {
        env: env.value,
        service: service.value,
        files,
        warnings: compiled.run.warnings,
        workspace: ws,
        spec: compiled.run.spec,
    })
}

/// `kgen cmp discover`: the platform file when the source directory holds a kgen
/// platform (the file exists and has a `[platform]` table), else why not. A file
/// that has the `[platform]` header but does not parse is still a platform, so that
/// `generate` reports the error with its location rather than Argo CD saying that no
/// plugin matches.
pub fn discover(dir: &Path, vars: &Vars) -> std::result::Result<PathBuf, String> {
    let platform = platform_file(dir, vars).map_err(|e| e.to_string())?;
    let text = real_dir(dir)
        .and_then(|real_dir| workspace::read_input(&real_dir, &platform))
        .map_err(|e| e.to_string())?;
    let header = text.lines().any(|l| {
        let l = l.split('#').next().unwrap_or("").trim();
        l.strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .is_some_and(|name| name.trim() == "platform")
    });
    if header {
        return Ok(platform);
    }
    match toml::from_str::<toml::Table>(&text) {
        Ok(t) if t.get("platform").is_some_and(toml::Value::is_table) => Ok(platform),
        Ok(_) => Err(format!(
            "{} has no [platform] table: it is not a kgen platform",
            platform.display()
        )),
        Err(e) => Err(format!(
            "{} is not a kgen platform (no [platform] table; not valid TOML: {})",
            platform.display(),
            e.message()
        )),
    }
}

/// `kgen cmp parameters`: the announcements for the Argo CD UI, as JSON. `env` and
/// `service` are required strings, with the current values when the Application
/// sets them; `environments` and `services` list what platform.toml defines, so the
/// UI shows the choices.
pub fn parameters(dir: &Path, vars: &Vars) -> Result<String> {
    let sel = selection(vars)?;
    let platform = platform_file(dir, vars)?;
    let env = sel.env.as_ref().map(|g| g.value.as_str());
    let ws = load(dir, &platform, env)?;
    let envs: Vec<String> = ws
        .environment_names()
        .into_iter()
        .map(String::from)
        .collect();
    let services: Vec<String> = ws.service_names().into_iter().map(String::from).collect();
    let list = [
        Announcement::string(
            ENV_PARAM,
            "Environment",
            format!(
                "The environment to render (KGEN_ENV): one of {}",
                envs.join(", ")
            ),
            sel.env.map(|g| g.value),
        ),
        Announcement::string(
            SERVICE_PARAM,
            "Service",
            format!(
                "The service to render (KGEN_SERVICE): one of {}",
                services.join(", ")
            ),
            sel.service.map(|g| g.value),
        ),
        Announcement::list(
            INFO_PARAMS[0],
            "Environments in platform.toml",
            "For reference: the values `env` accepts. Setting it changes nothing.".into(),
            envs,
        ),
        Announcement::list(
            INFO_PARAMS[1],
            "Services in platform.toml",
            "For reference: the values `service` accepts. Setting it changes nothing.".into(),
            services,
        ),
    ];
    Ok(cmp_params::announcements_json(&list))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn selection_from_env_vars_and_parameters() {
        let s = selection(&vars(&[
            ("ARGOCD_ENV_KGEN_ENV", "dev"),
            ("ARGOCD_ENV_KGEN_SERVICE", "api"),
        ]))
        .unwrap();
        assert_eq!(s.env.unwrap().from, "ARGOCD_ENV_KGEN_ENV");
        assert_eq!(s.service.unwrap().value, "api");

        let s = selection(&vars(&[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"env","string":"prod"},{"name":"environments","array":["x"]}]"#,
            ),
            ("ARGOCD_ENV_KGEN_SERVICE", "api"),
        ]))
        .unwrap();
        assert_eq!(
            s.env,
            Some(Given {
                value: "prod".into(),
                from: "parameter `env`".into()
            })
        );

        // The same value both ways is fine; different values are refused.
        let both = |p: &str| {
            selection(&vars(&[
                (
                    "ARGOCD_APP_PARAMETERS",
                    &format!(r#"[{{"name":"env","string":"{p}"}}]"#),
                ),
                ("ARGOCD_ENV_KGEN_ENV", "dev"),
            ]))
        };
        assert!(both("dev").is_ok());
        let e = both("prod").unwrap_err().to_string();
        assert_eq!(e, "parameter `env` is `prod` but ARGOCD_ENV_KGEN_ENV is `dev`; set the env once (the ApplicationSets kgen generates set KGEN_ENV)");

        let e = selection(&vars(&[(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"envv","string":"x"}]"#,
        )]))
        .unwrap_err()
        .to_string();
        let spelt_out = selection(&vars(&[(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"environment","string":"x"}]"#,
        )]))
        .unwrap_err()
        .to_string();
        assert!(
            spelt_out.contains("unknown parameter `environment` (did you mean `env`?)"),
            "{spelt_out}"
        );
        assert!(
            e.contains("unknown parameter `envv` (did you mean `env`?)"),
            "{e}"
        );
        // A case slip and a misspelt long form get the suggestion too; the message
        // names every parameter the plugin announces.
        let unknown = |name: &str| {
            selection(&vars(&[(
                "ARGOCD_APP_PARAMETERS",
                &format!(r#"[{{"name":"{name}","string":"x"}}]"#),
            )]))
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            unknown("ENV"),
            "ARGOCD_APP_PARAMETERS: unknown parameter `ENV` (did you mean `env`?); kgen's parameters are `env` and `service` (and `environments` and `services`, which it shows in the UI and does not read)"
        );
        assert!(unknown("enviroment").contains("(did you mean `env`?)"));
        assert!(unknown("Service").contains("(did you mean `service`?)"));
        let e = selection(&vars(&[(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"env","array":["x"]}]"#,
        )]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("must be a string"), "{e}");
        // Empty values count as unset (Argo CD passes `KGEN_ENV: ""` on as an empty
        // ARGOCD_ENV_KGEN_ENV).
        let s = selection(&vars(&[("ARGOCD_ENV_KGEN_ENV", "")])).unwrap();
        assert_eq!(s.env, None);
    }

    #[test]
    fn selection_without_parameters() {
        // `null` is what Argo CD sends for every Application without parameters
        // (issue 14); `[]`, an empty value and no variable mean the same.
        for params in [Some("null"), Some("[]"), Some(""), None] {
            let mut pairs = vec![
                ("ARGOCD_ENV_KGEN_ENV", "dev"),
                ("ARGOCD_ENV_KGEN_SERVICE", "api"),
            ];
            pairs.extend(params.map(|p| ("ARGOCD_APP_PARAMETERS", p)));
            let s = selection(&vars(&pairs)).unwrap();
            assert_eq!(
                (s.env.unwrap().from, s.service.unwrap().value),
                ("ARGOCD_ENV_KGEN_ENV".to_string(), "api".to_string()),
                "{params:?}"
            );
        }
    }

    #[test]
    fn selection_from_param_variables() {
        // Alone (a hand-run: Argo CD always sends the JSON too).
        let s = selection(&vars(&[("PARAM_ENV", "dev"), ("PARAM_SERVICE", "api")])).unwrap();
        assert_eq!(
            s.env,
            Some(Given {
                value: "dev".into(),
                from: "PARAM_ENV".into()
            })
        );
        assert_eq!(s.service.unwrap().from, "PARAM_SERVICE");

        // With the JSON, as Argo CD sends them: the parameter is named after the JSON.
        let json = r#"[{"name":"env","string":"dev"},{"name":"service","string":"api"}]"#;
        let s = selection(&vars(&[
            ("ARGOCD_APP_PARAMETERS", json),
            ("PARAM_ENV", "dev"),
            ("PARAM_SERVICE", "api"),
        ]))
        .unwrap();
        assert_eq!(s.env.unwrap().from, "parameter `env`");
        // The informational parameters' variables (PARAM_SERVICES_0, ...) are ignored.
        let json =
            r#"[{"array":["dev","prod"],"name":"environments"},{"name":"env","string":"dev"}]"#;
        let s = selection(&vars(&[
            ("ARGOCD_APP_PARAMETERS", json),
            ("PARAM_ENV", "dev"),
            ("PARAM_ENVIRONMENTS_0", "dev"),
            ("PARAM_ENVIRONMENTS_1", "prod"),
        ]))
        .unwrap();
        assert_eq!(s.env.unwrap().value, "dev");

        // Disagreeing with the JSON.
        let e = selection(&vars(&[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"env","string":"dev"}]"#,
            ),
            ("PARAM_ENV", "prod"),
        ]))
        .unwrap_err()
        .to_string();
        assert_eq!(e, "PARAM_ENV is `prod` but parameter `env` in ARGOCD_APP_PARAMETERS is `dev`; Argo CD sets both from the Application's spec.source.plugin.parameters, so one of them was set elsewhere (the sidecar container's env, which the plugin server passes on, or a hand-run)");
        for json in ["null", "[]", r#"[{"name":"env","string":"dev"}]"#] {
            let e = selection(&vars(&[
                ("ARGOCD_APP_PARAMETERS", json),
                ("PARAM_SERVICE", "api"),
            ]))
            .unwrap_err()
            .to_string();
            assert_eq!(e, "PARAM_SERVICE is `api` but ARGOCD_APP_PARAMETERS sets no parameter `service`; Argo CD sets both from the Application's spec.source.plugin.parameters, so PARAM_SERVICE was set elsewhere (the sidecar container's env, which the plugin server passes on, or a hand-run): remove it, or set the parameter `service` in the Application", "{json}");
        }
        // An empty string parameter is unset, and so is its empty PARAM_ENV; a
        // PARAM_ENV with a value is not that parameter.
        let s = selection(&vars(&[
            ("ARGOCD_APP_PARAMETERS", r#"[{"name":"env","string":""}]"#),
            ("PARAM_ENV", ""),
        ]))
        .unwrap();
        assert_eq!(s.env, None);
        let e = selection(&vars(&[
            ("ARGOCD_APP_PARAMETERS", r#"[{"name":"env","string":""}]"#),
            ("PARAM_ENV", "dev"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("PARAM_ENV is `dev` but parameter `env` in ARGOCD_APP_PARAMETERS is ``;"),
            "{e}"
        );

        // Disagreeing with the plugin variable.
        let e = selection(&vars(&[
            ("PARAM_ENV", "prod"),
            ("ARGOCD_ENV_KGEN_ENV", "dev"),
        ]))
        .unwrap_err()
        .to_string();
        assert_eq!(e, "PARAM_ENV is `prod` but ARGOCD_ENV_KGEN_ENV is `dev`; set the env once (the ApplicationSets kgen generates set KGEN_ENV)");
    }

    #[test]
    fn a_small_platform_is_compiled_on_one_thread() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            generate_threads(dir.path(), &Vars::default()),
            None,
            "no platform file"
        );
        let file = dir.path().join("platform.toml");
        std::fs::write(&file, "[platform]\n").unwrap();
        assert_eq!(generate_threads(dir.path(), &Vars::default()), Some(1));
        let at_limit = "#".repeat(ONE_THREAD_MAX_BYTES as usize);
        std::fs::write(&file, &at_limit).unwrap();
        assert_eq!(generate_threads(dir.path(), &Vars::default()), Some(1));
        std::fs::write(&file, format!("{at_limit}\n")).unwrap();
        assert_eq!(generate_threads(dir.path(), &Vars::default()), None);
        // The file the plugin is told to read is the one measured.
        std::fs::write(dir.path().join("small.toml"), "[platform]\n").unwrap();
        let small = vars(&[("ARGOCD_ENV_KGEN_PLATFORM", "small.toml")]);
        assert_eq!(generate_threads(dir.path(), &small), Some(1));
    }

    #[test]
    fn platform_file_stays_inside_the_source_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("platform.toml"), "[platform]\n").unwrap();
        assert!(platform_file(dir.path(), &Vars::default()).is_ok());
        for bad in ["../platform.toml", "/etc/passwd", "a/../../x.toml"] {
            let e = platform_file(dir.path(), &vars(&[("ARGOCD_ENV_KGEN_PLATFORM", bad)]))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("ARGOCD_ENV_KGEN_PLATFORM: `"), "{e}");
            assert!(
                e.contains("is not a path inside the source directory"),
                "{e}"
            );
        }
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("p.toml"), "[platform]\n").unwrap();
            std::os::unix::fs::symlink(outside.path().join("p.toml"), dir.path().join("link.toml"))
                .unwrap();
            let e = platform_file(
                dir.path(),
                &vars(&[("ARGOCD_ENV_KGEN_PLATFORM", "link.toml")]),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("leads outside the source directory"), "{e}");
        }
    }

    #[test]
    fn discover_needs_a_platform_table() {
        let dir = tempfile::tempdir().unwrap();
        assert!(discover(dir.path(), &Vars::default()).is_err());
        std::fs::write(dir.path().join("platform.toml"), "[other]\nx = 1\n").unwrap();
        let e = discover(dir.path(), &Vars::default()).unwrap_err();
        assert!(e.contains("has no [platform] table"), "{e}");
        std::fs::write(
            dir.path().join("platform.toml"),
            "platform = { name = \"x\" }\n",
        )
        .unwrap();
        assert!(discover(dir.path(), &Vars::default()).is_ok());
        // Broken TOML with a [platform] header is a platform: generate reports the error.
        std::fs::write(
            dir.path().join("platform.toml"),
            "[platform] # main\nname = \n",
        )
        .unwrap();
        assert!(discover(dir.path(), &Vars::default()).is_ok());
    }
}
