//! `kgen bump-chart`: set an add-on's chart version (`[addons.<name>] chart_version`,
//! or one cluster's, `[clusters.<c>.addons.<name>] chart_version`; `monitoring` for
//! `[monitoring] chart_version`) in platform.toml, re-render what it changes, and
//! optionally commit exactly the changed files: the chart counterpart of `bump-image`,
//! for Renovate- or Dependabot-style update pull requests.
//!
//! The transaction is `bump-image`'s (`bump_image::transaction::write_edit`): under the checkout
//! lock, the platform file is edited in memory (`overlay_edit::apply_key`: only the
//! value's bytes change, or one line or table is added), the platform is compiled with
//! the edited text, and only if that succeeds are platform.toml and the changed files
//! of `generated/` written, then committed.

use std::collections::BTreeMap;
use std::path::Path;

use crate::compile::{compile, Compiled};
use crate::diagnostic::{did_you_mean, plural, Diagnostic};
use crate::error::{Error, Result};
use crate::lock::CheckoutLock;
use crate::ops::bump_image::transaction::{edit_error, platform_dir, write_edit, EditedInput};
use crate::overlay_edit::{self, KeyEdit};
use crate::source::Sources;
use crate::workspace::{InputFiles, Workspace};
use crate::write;

/// The name that selects `[monitoring]` instead of an add-on.
pub const MONITORING: &str = "monitoring";

/// The key `bump-chart` sets.
const KEY: &str = "chart_version";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BumpChartOptions {
    /// An add-on's name (`[addons.<name>]`), or `monitoring`.
    pub addon: String,
    /// The new chart version (exact: `1.16.2`, `v1.16.2` for an add-on).
    pub version: String,
    /// Set it for this cluster only (`[clusters.<c>.addons.<name>]`).
    pub cluster: Option<String>,
    /// Re-render into `generated/` (default). When false the platform is still
    /// compiled, so an invalid version is still refused.
    pub render: bool,
    /// Commit the changed files with git.
    pub commit: bool,
}

/// What a `bump-chart` did.
#[derive(Debug, Clone)]
pub struct ChartBump {
    pub addon: String,
    pub cluster: Option<String>,
    /// The key set: `addons.cert-manager.chart_version`.
    pub key_path: String,
    /// The version in effect before (the key's value; with `--cluster`, the version
    /// the cluster installed) and the requested one.
    pub previous: Option<String>,
    pub current: String,
    /// True when platform.toml changed.
    pub changed: bool,
    /// Clusters that still install another version after the bump (a cluster's or an
    /// overlay's own `chart_version`), with it.
    pub pinned: Vec<(String, String)>,
    /// Every file written or removed, relative to the platform directory, sorted.
    pub files: Vec<String>,
    pub rendered: Option<write::Outcome>,
    pub commit: Option<String>,
    /// The platform file, relative to the platform directory (`platform.toml`).
    pub platform: String,
    pub warnings: Vec<Diagnostic>,
    pub sources: Sources,
}

impl ChartBump {
    /// `cert-manager` or `cert-manager on prod`.
    fn subject(&self) -> String {
        match &self.cluster {
            Some(c) => format!("{} on {c}", self.addon),
            None => self.addon.clone(),
        }
    }

    fn previous_text(&self) -> &str {
        self.previous.as_deref().unwrap_or("(none)")
    }

    /// The notes, for stderr (`note:` lines or GitHub annotations): the clusters the
    /// change does not reach (their own chart_version overrides it).
    pub fn notes(&self) -> Vec<crate::github_actions::Note> {
        self.pinned
            .iter()
            .map(|(cluster, version)| {
                crate::github_actions::Note::warning(
                    format!("kgen bump-chart: {cluster} keeps {} {version}", self.addon),
                    format!(
                        "cluster `{cluster}` keeps {} {version}: its own chart_version overrides this one (bump it with --cluster {cluster})",
                        self.addon
                    ),
                )
            })
            .collect()
    }

    /// Human report, for stdout: the change (or that there was none), then what was
    /// written and committed ([`notes`](Self::notes) go to stderr).
    pub fn report(&self) -> String {
        let mut out = String::new();
        if self.changed {
            out.push_str(&format!(
                "{}: chart {} → {} ({} in {})\n",
                self.subject(),
                self.previous_text(),
                self.current,
                self.key_path,
                self.platform
            ));
        } else {
            out.push_str(&format!(
                "{}: chart already at {}, nothing to do\n",
                self.subject(),
                self.current
            ));
        }
        if !self.changed {
            return out;
        }
        out.push_str(&format!("updated {}", self.platform));
        match &self.rendered {
            Some(o) => out.push_str(&format!(
                "; rendered into generated/: {} added, {} changed, {} removed\n",
                o.added.len(),
                o.changed.len(),
                o.removed.len()
            )),
            None => out.push_str(" (not rendered: run `kgen render` before committing)\n"),
        }
        if let Some(c) = &self.commit {
            out.push_str(&format!(
                "committed {} ({})\n",
                &c[..c.len().min(12)],
                plural(self.files.len(), "file")
            ));
        }
        out
    }

    /// The step outputs: `changed`, `previous`, `current`, `files`, `commit`.
    pub fn github_outputs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("changed", self.changed.to_string()),
            ("previous", self.previous.clone().unwrap_or_default()),
            ("current", self.current.clone()),
            ("files", self.files.join("\n")),
            ("commit", self.commit.clone().unwrap_or_default()),
        ]
    }

    /// A short Markdown summary for `$GITHUB_STEP_SUMMARY`.
    pub fn step_summary(&self) -> String {
        let mut md = format!("### kgen bump-chart: {}\n\n", self.subject());
        md.push_str("| add-on | cluster | key | before | after |\n|---|---|---|---|---|\n");
        let after = if self.changed {
            format!("**`{}`**", self.current)
        } else {
            "unchanged".to_string()
        };
        md.push_str(&format!(
            "| `{}` | {} | `{}` | `{}` | {after} |\n",
            self.addon,
            self.cluster.as_deref().unwrap_or("every cluster"),
            self.key_path,
            self.previous_text()
        ));
        for (cluster, version) in &self.pinned {
            md.push_str(&format!(
                "| `{}` | {cluster} | its own `chart_version` | `{version}` | unchanged |\n",
                self.addon
            ));
        }
        md.push('\n');
        if self.changed {
            md.push_str(&format!("Changed {}", plural(self.files.len(), "file")));
            if let Some(c) = &self.commit {
                md.push_str(&format!(" in commit `{}`", &c[..c.len().min(12)]));
            }
            md.push_str(".\n\n");
        } else {
            md.push_str("Already up to date: nothing written.\n\n");
        }
        md
    }

    /// Writes the outputs and summary when running in GitHub Actions (no-op elsewhere).
    pub fn publish_to_github_actions(&self) -> Result<()> {
        let outputs = self.github_outputs();
        let pairs: Vec<(&str, &str)> = outputs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::github_actions::set_outputs(&pairs)
            .map_err(|e| Error::io("append to", "$GITHUB_OUTPUT", e))?;
        crate::github_actions::append_step_summary(&self.step_summary())
            .map_err(|e| Error::io("append to", "$GITHUB_STEP_SUMMARY", e))?;
        Ok(())
    }
}

/// Checks the version's form before anything is read: the exact versions the resolver
/// accepts (`is_chart_version` for an add-on, `is_semver` for the monitoring stack).
fn check_version(opts: &BumpChartOptions) -> Result<()> {
    let v = &opts.version;
    let monitoring = opts.addon == MONITORING;
    let ok = if monitoring {
        crate::resolve::is_semver(v)
    } else {
        crate::resolve::is_chart_version(v)
    };
    if ok {
        return Ok(());
    }
    let example = if monitoring {
        "77.0.1"
    } else {
        "1.16.2` or `v1.16.2"
    };
    Err(Error::Usage(format!(
        "--version `{v}` is not an exact chart version; pin one, e.g. `{example}` (no ranges, no `latest`)"
    )))
}

/// The add-ons platform.toml and the overlays declare, by name → where.
fn declared_addons(ws: &Workspace) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in ws.platform.addons.keys() {
        out.entry(name.value.clone())
            .or_default()
            .push(format!("[addons.{}]", name.value));
    }
    for (cluster, c) in &ws.platform.clusters {
        for name in c.value.addons.keys() {
            out.entry(name.value.clone()).or_default().push(format!(
                "[clusters.{}.addons.{}]",
                cluster.value, name.value
            ));
        }
    }
    for (env, o) in &ws.overlays {
        for name in o.data.addons.keys() {
            out.entry(name.value.clone())
                .or_default()
                .push(format!("overlays/{env}.toml [addons.{}]", name.value));
        }
    }
    out
}

/// True when platform.toml or an overlay has a `[monitoring]` table anywhere.
fn declares_monitoring(ws: &Workspace) -> bool {
    ws.platform.monitoring.is_some()
        || ws
            .platform
            .clusters
            .values()
            .any(|c| c.value.monitoring.is_some())
        || ws.overlays.values().any(|o| o.data.monitoring.is_some())
}

/// The table `bump-chart` edits, after checking that the add-on and cluster exist and
/// that the add-on is declared where the edit goes.
fn table_of(ws: &Workspace, opts: &BumpChartOptions) -> Result<Vec<String>> {
    let addon = opts.addon.as_str();
    let monitoring = addon == MONITORING;
    let declared = declared_addons(ws);
    if monitoring {
        if !declares_monitoring(ws) {
            return Err(Error::Usage(
                "this platform has no [monitoring] table: there is no monitoring chart to bump"
                    .into(),
            ));
        }
    } else if !declared.contains_key(addon) {
        let mut known: Vec<&str> = declared.keys().map(String::as_str).collect();
        if declares_monitoring(ws) {
            known.push(MONITORING);
        }
        let hint = did_you_mean(addon, known.iter().copied())
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        return Err(Error::Usage(if known.is_empty() {
            format!("unknown add-on `{addon}`: this platform declares no add-ons ([addons.<name>]) and no [monitoring]")
        } else {
            format!(
                "unknown add-on `{addon}`{hint}; the platform's charts are: {}",
                known.join(", ")
            )
        }));
    }
    let Some(cluster) = &opts.cluster else {
        let top = if monitoring {
            ws.platform.monitoring.is_some()
        } else {
            ws.platform.addons.contains_key(addon)
        };
        if !top {
            let places = if monitoring {
                "only per cluster or in overlays".to_string()
            } else {
                format!("only in {}", declared[addon].join(", "))
            };
            return Err(Error::Usage(format!(
                "`{addon}` is declared {places}, not in platform.toml's [{}]: pass --cluster to set one cluster's version",
                if monitoring { MONITORING.to_string() } else { format!("addons.{addon}") }
            )));
        }
        return Ok(if monitoring {
            vec![MONITORING.to_string()]
        } else {
            vec!["addons".into(), addon.to_string()]
        });
    };
    let clusters: Vec<&str> = ws
        .platform
        .clusters
        .keys()
        .map(|k| k.value.as_str())
        .collect();
    if clusters.is_empty() {
        return Err(Error::Usage(format!(
            "--cluster {cluster}: this platform declares no [clusters] (each environment is a cluster of its own); set the version in platform.toml, or in the environment's overlay (`[addons.{addon}]`)"
        )));
    }
    let Some((_, layer)) = ws.platform.clusters.get_key_value(cluster.as_str()) else {
        let hint = did_you_mean(cluster, clusters.iter().copied())
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "unknown cluster `{cluster}`{hint}; platform.toml declares: {}",
            clusters.join(", ")
        )));
    };
    let installed = if monitoring {
        ws.platform.monitoring.is_some() || layer.value.monitoring.is_some()
    } else {
        ws.platform.addons.contains_key(addon) || layer.value.addons.contains_key(addon)
    };
    if !installed {
        return Err(Error::Usage(format!(
            "`{addon}` is not declared for cluster `{cluster}` (it is declared in {}): add it there first",
            if monitoring {
                "another cluster's [monitoring]".to_string()
            } else {
                declared[addon].join(", ")
            }
        )));
    }
    let mut table = vec!["clusters".to_string(), cluster.clone()];
    if monitoring {
        table.push(MONITORING.into());
    } else {
        table.extend(["addons".to_string(), addon.to_string()]);
    }
    Ok(table)
}

/// The chart version each cluster installs, by cluster.
fn versions_by_cluster(compiled: &Compiled, addon: &str) -> BTreeMap<String, String> {
    compiled
        .run
        .spec
        .clusters
        .iter()
        .filter_map(|c| {
            let v = if addon == MONITORING {
                c.monitoring.as_ref().map(|m| m.chart_version.clone())
            } else {
                c.addons
                    .iter()
                    .find(|a| a.name == addon)
                    .map(|a| a.version.clone())
            };
            Some((c.name.clone(), v?))
        })
        .collect()
}

/// The environments that run on `cluster` (to render only its files).
fn environments_on(ws: &Workspace, cluster: &str) -> Vec<String> {
    ws.platform
        .environments
        .iter()
        .filter(|(_, e)| e.value.cluster.as_ref().is_some_and(|c| c.value == cluster))
        .map(|(k, _)| k.value.clone())
        .collect()
}

/// Runs `kgen bump-chart`. `on_wait` is called if another kgen holds the checkout lock.
pub fn bump_chart(
    platform: &Path,
    opts: &BumpChartOptions,
    on_wait: impl FnOnce(&Path),
) -> Result<ChartBump> {
    check_version(opts)?;
    let root = platform_dir(platform);
    let _lock = CheckoutLock::acquire(&root, on_wait)?;
    let ws = Workspace::load(platform)?;
    let table = table_of(&ws, opts)?;
    let table_refs: Vec<&str> = table.iter().map(String::as_str).collect();
    let edit = KeyEdit::set(&table_refs, KEY, &opts.version);

    let pf = ws.sources.get(ws.platform_file);
    let (display, path, old_text) = (pf.display.clone(), pf.path.clone(), pf.text.clone());
    let envs: Vec<String> = match &opts.cluster {
        Some(c) => environments_on(&ws, c),
        None => Vec::new(),
    };
    // What each cluster installs now (best effort: a platform that does not compile
    // yet may be what this bump repairs).
    let before = compile(&ws, &[])
        .map(|c| versions_by_cluster(&c, &opts.addon))
        .unwrap_or_default();

    let raw = overlay_edit::read_key(&old_text, &table_refs, KEY)
        .map_err(|e| edit_error(e, &display, path.clone(), &old_text))?;
    let previous = match &opts.cluster {
        Some(c) => before.get(c).cloned().or(raw),
        None => raw,
    };
    let mut result = ChartBump {
        addon: opts.addon.clone(),
        cluster: opts.cluster.clone(),
        key_path: edit.key_path(),
        previous: previous.clone(),
        current: opts.version.clone(),
        changed: false,
        pinned: Vec::new(),
        files: Vec::new(),
        rendered: None,
        commit: None,
        platform: display.clone(),
        warnings: Vec::new(),
        sources: ws.sources.clone(),
    };
    if previous.as_deref() == Some(opts.version.as_str()) {
        if opts.cluster.is_none() {
            result.pinned = pinned(&before, &opts.version);
        }
        return Ok(result);
    }

    let (new_text, _) = overlay_edit::apply_key(&old_text, &edit)
        .map_err(|e| edit_error(e, &display, path.clone(), &old_text))?;

    // Compile the platform with the edited text, in memory.
    let overlays: Vec<(String, String, String)> = ws
        .overlays
        .iter()
        .map(|(name, o)| {
            let f = ws.sources.get(o.file);
            (name.clone(), f.display.clone(), f.text.clone())
        })
        .collect();
    let files = InputFiles {
        platform: (display.clone(), new_text.clone()),
        overlays,
    };
    let mut new_ws = Workspace::parse(ws.root.clone(), files)?;
    // The same hand-written manifests and patch files (see `escape_hatch`).
    crate::escape_hatch::files::carry_over(&ws, &mut new_ws);
    let compiled = compile(&new_ws, &envs)?;
    let after = versions_by_cluster(&compiled, &opts.addon);
    if opts.cluster.is_none() {
        result.pinned = pinned(&after, &opts.version);
    }
    result.changed = true;
    result.warnings = compiled.run.warnings.clone();
    result.sources = new_ws.sources.clone();

    let written = write_edit(
        &ws,
        &EditedInput {
            display: &display,
            path,
            text: &new_text,
        },
        &compiled,
        opts.render,
        opts.commit,
        || commit_message(&result),
    )?;
    result.files = written.files;
    result.rendered = written.rendered;
    result.commit = written.commit;
    Ok(result)
}

/// Clusters whose version is not `version`.
fn pinned(versions: &BTreeMap<String, String>, version: &str) -> Vec<(String, String)> {
    versions
        .iter()
        .filter(|(_, v)| v.as_str() != version)
        .map(|(c, v)| (c.clone(), v.clone()))
        .collect()
}

/// `chart(cert-manager): v1.21.1 → v1.22.0`, `chart(cert-manager, prod): …`.
pub fn commit_message(b: &ChartBump) -> String {
    let scope = match &b.cluster {
        Some(c) => format!("{}, {c}", b.addon),
        None => b.addon.clone(),
    };
    format!(
        "chart({scope}): {} → {}\n\nSet {} in {} with `kgen bump-chart`.\n",
        b.previous_text(),
        b.current,
        b.key_path,
        b.platform
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked_like_the_resolver() {
        let opts = |addon: &str, version: &str| BumpChartOptions {
            addon: addon.into(),
            version: version.into(),
            cluster: None,
            render: true,
            commit: false,
        };
        assert!(check_version(&opts("cert-manager", "v1.16.2")).is_ok());
        assert!(check_version(&opts("cert-manager", "1.16.2-rc.1")).is_ok());
        assert!(check_version(&opts("cert-manager", "1.16")).is_err());
        assert!(check_version(&opts("cert-manager", "latest")).is_err());
        assert!(check_version(&opts("cert-manager", "^1.16.2")).is_err());
        // The monitoring stack's versions have no `v`.
        assert!(check_version(&opts(MONITORING, "77.0.1")).is_ok());
        assert!(check_version(&opts(MONITORING, "v77.0.1")).is_err());
    }
}
