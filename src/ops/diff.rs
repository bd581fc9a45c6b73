//! `kgen diff`: what will change in the cluster, resource by resource.
//!
//! The base side is what is deployed now: the files committed under `generated/` at
//! the base ref (default: the merge base of `HEAD` with the default branch). The
//! head side is what will be deployed after merge: the render of the head's inputs
//! (default: the working tree; for a ref, its platform.toml and overlays read from
//! git). Everything is read from the object database; nothing is checked out or
//! written.
//!
//! Files that are byte-identical on both sides at the same path are unchanged
//! resources and are never parsed (compared by git blob id), so a large platform
//! with a small change costs one render plus a hash per file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::Oid;
use rayon::prelude::*;

use crate::compile::compile;
use crate::diff::{self, DiffReport, IgnoreRule, Side, Stale};
use crate::emit::is_generated;
use crate::error::{Error, Result};
use crate::git_ref::{self, GitRepo};
use crate::manifest_set::{group_of, is_yaml, Group, ManifestSet, Resource};
use crate::render::argocd;
use crate::spec::SyncMode;
use crate::workspace::{InputFiles, Workspace, GENERATED_DIR, OVERLAY_DIR};

#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// The platform file (in the working tree; for `head`, its path inside the repository is used).
    pub platform: PathBuf,
    /// Base ref; None for the merge base of HEAD with the default branch.
    pub base: Option<String>,
    /// Head ref; None for the working tree.
    pub head: Option<String>,
    /// Only these environments (all when empty).
    pub envs: Vec<String>,
    /// `--ignore` rules, as written (`kind=Deployment,field=spec.replicas`; see
    /// `diff_ignore`).
    pub ignore: Vec<String>,
}

/// Compares the manifests committed at the base with the render of the head.
pub fn diff(opts: &DiffOptions) -> Result<DiffReport> {
    let rules = opts
        .ignore
        .iter()
        .map(|r| IgnoreRule::parse(r))
        .collect::<Result<Vec<_>>>()?;
    let git = GitRepo::discover(&opts.platform)?;
    let platform_path = git.path_in_repo(&opts.platform)?;
    let (dir, file_name) = match platform_path.rsplit_once('/') {
        Some((d, f)) => (d.to_string(), f.to_string()),
        None => (String::new(), platform_path.clone()),
    };
    let generated = git_ref::join(&dir, GENERATED_DIR);

    let base_ref = match &opts.base {
        Some(r) => git.resolve(r)?,
        None => git.default_base()?,
    };
    let base = Side {
        name: Some(base_ref.name.clone()),
        commit: Some(base_ref.commit.clone()),
        how: base_ref.how.clone(),
    };

    // The head: a workspace, and where its own generated/ is.
    let (ws, head, head_generated) = match &opts.head {
        None => {
            let ws = Workspace::load(&opts.platform)?;
            let gen = HeadGenerated::Disk(ws.generated_dir());
            (ws, Side::working_tree(), gen)
        }
        Some(r) => {
            let h = git.resolve(r)?;
            let ws = workspace_at(&git, &h.commit, r, &dir, &file_name)?;
            let side = Side {
                name: Some(h.name.clone()),
                commit: Some(h.commit.clone()),
                how: None,
            };
            (ws, side, HeadGenerated::Commit(h.commit))
        }
    };
    let compiled = compile(&ws, &opts.envs)?;
    // Resources are grouped by environment, and what is rendered once per cluster by
    // cluster (see `group_of`): a cluster syncs by hand when its own Applications do
    // (some environment on it does).
    let spec = &compiled.run.spec;
    let mut manual: BTreeSet<Group> = spec
        .environments
        .iter()
        .filter(|e| e.sync == SyncMode::Manual)
        .map(|e| Group::Environment(e.name.clone()))
        .chain(
            spec.clusters
                .iter()
                .filter(|c| argocd::cluster_sync(spec, c) == SyncMode::Manual)
                .map(|c| Group::Cluster(c.name.clone())),
        )
        .collect();

    // The environments asked for, and the clusters they run on (whose files cover
    // them too).
    let scope: BTreeSet<Group> = opts
        .envs
        .iter()
        .map(|e| Group::Environment(e.clone()))
        .chain(
            spec.environments
                .iter()
                .filter(|e| opts.envs.contains(&e.name))
                .map(|e| Group::Cluster(e.cluster.clone())),
        )
        .collect();
    let in_scope = |path: &str| opts.envs.is_empty() || scope.contains(&group_of(path));

    // Head: the render, with the blob id each file would have if committed.
    let head_files: Vec<(&String, &String, Oid)> = compiled
        .tree
        .files
        .par_iter()
        .filter(|(p, _)| in_scope(p))
        .map(|(p, text)| (p, text, git_ref::blob_id(text.as_bytes())))
        .collect();
    let head_oids: BTreeMap<&str, Oid> = head_files
        .iter()
        .map(|(p, _, o)| (p.as_str(), *o))
        .collect();

    // Base: the committed files, by blob id.
    let base_listing: BTreeMap<String, Oid> = git
        .list_files(&base_ref.commit, &generated)?
        .into_iter()
        .filter(|(p, _)| in_scope(p))
        .collect();

    let mut unchanged: BTreeMap<Group, usize> = BTreeMap::new();
    let mut head_texts = Vec::new();
    for (path, text, oid) in &head_files {
        if is_yaml(path) && base_listing.get(path.as_str()) == Some(oid) {
            *unchanged.entry(group_of(path)).or_default() += 1;
        } else if is_yaml(path) {
            head_texts.push(((*path).clone(), (*text).clone()));
        }
    }
    let mut base_texts = Vec::new();
    let mut foreign = 0;
    for (path, oid) in &base_listing {
        if !is_yaml(path) || head_oids.get(path.as_str()) == Some(oid) {
            continue;
        }
        let bytes = git.blob(*oid)?;
        if !is_generated(&bytes) {
            foreign += 1;
            continue;
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::Other(format!(
                "generated/{path} at {} is not UTF-8 text",
                base.describe()
            ))
        })?;
        base_texts.push((path.clone(), text));
    }

    let base_set = ManifestSet::parse(&base_texts)?;
    // A cluster's Argo CD objects are applied by its bootstrap as deployed now.
    crate::diff_platform::base_manual_clusters(&base_set, &mut manual);
    let head_set = ManifestSet::parse(&head_texts)?;
    if !rules.is_empty() {
        // Every kind of the head's render (identical files included) and of the base's
        // objects that differ: what a rule may name.
        let mut kinds: BTreeSet<String> = head_files
            .iter()
            .filter(|(p, _, _)| is_yaml(p))
            .flat_map(|(_, text, _)| {
                text.lines()
                    .filter_map(|l| l.strip_prefix("kind: "))
                    .map(|k| k.trim().trim_matches('"').to_string())
            })
            .collect();
        kinds.extend(base_set.resources.keys().map(|id| id.kind.clone()));
        kinds.remove("");
        crate::diff_ignore::check_against(
            &rules,
            &kinds,
            base_set
                .resources
                .values()
                .chain(head_set.resources.values()),
        )?;
    }
    let (head_pools, head_storage) = head_platform(&head_files)?;
    let dirs = |paths: &mut dyn Iterator<Item = &str>| -> BTreeSet<String> {
        paths
            .filter(|p| is_yaml(p))
            .filter_map(diff::service_dir)
            .map(|(e, s)| format!("{e}/{s}"))
            .collect()
    };
    let compare_opts = diff::CompareOptions {
        manual,
        head_pools,
        head_storage,
        base_dirs: Some(dirs(&mut base_listing.keys().map(String::as_str))),
        head_dirs: Some(dirs(&mut head_files.iter().map(|(p, _, _)| p.as_str()))),
        ignore: rules,
    };
    let mut d = diff::compare_opts(&base_set, &head_set, &compare_opts);
    for (group, n) in &unchanged {
        d.count_unchanged(group, *n);
    }

    let mut notes = Vec::new();
    let mut base_is_head = None;
    // In a shallow clone the default branch may be the checked-out one itself
    // (`origin/HEAD` of a clone of the pull request's branch): its merge base is HEAD.
    // A checkout of the default branch itself (a push build of `main`) has HEAD as
    // its merge base rightly.
    let shallow_at_head = git.is_shallow()
        && git
            .resolve("HEAD")
            .is_ok_and(|h| h.commit == base_ref.commit)
        && !git.head_is_main_branch(&base_ref.name);
    if opts.base.is_none() && (base_ref.how.is_none() || shallow_at_head) {
        // The fallback compares the head with HEAD: a pull request's changes that are
        // committed do not show. Said, since "no differences" would be believed.
        let why = if git.is_shallow() {
            "this is a shallow clone, whose history stops short (actions/checkout fetches one commit unless `fetch-depth: 0`)"
        } else {
            "no default branch (`origin/HEAD`, `main`, `origin/main`, `master`, `origin/master`) shares history with HEAD"
        };
        base_is_head = Some(why.to_string());
    }
    if foreign > 0 {
        notes.push(format!(
            "{} under generated/ at the base {} not written by kgen (no kgen header) and {} ignored",
            git_ref_plural(foreign),
            if foreign == 1 { "was" } else { "were" },
            if foreign == 1 { "is" } else { "are" },
        ));
    }
    notes.extend(handoff_notes(&git, &base_listing, &head_oids)?);
    for (side, set) in [("the base", &base_set), ("the head", &head_set)] {
        for dup in &set.duplicates {
            notes.push(duplicate_note(side, dup, set));
        }
    }
    notes.append(&mut d.ignore_notes);

    let stale_files = match &head_generated {
        HeadGenerated::Disk(dir) => stale_on_disk(dir, &compiled.tree.files, &in_scope)?,
        HeadGenerated::Commit(commit) => {
            let listing: BTreeMap<String, Oid> = git
                .list_files(commit, &generated)?
                .into_iter()
                .filter(|(p, _)| in_scope(p))
                .collect();
            stale_at_commit(&git, &listing, &head_oids)?
        }
    };
    let stale = (!stale_files.is_empty()).then(|| Stale {
        place: match &opts.head {
            None => "HEAD (working tree)".to_string(),
            Some(r) => r.clone(),
        },
        files: stale_files,
    });

    Ok(DiffReport {
        base,
        head,
        base_is_head,
        stale,
        diff: d,
        notes,
    })
}

/// The head's platform objects the risks need, changed or not: its Karpenter
/// NodePools and its StorageClasses. Only the few files that hold one are parsed, in
/// one pass.
fn head_platform(
    head_files: &[(&String, &String, Oid)],
) -> Result<(diff::HeadNodePools, diff::HeadStorageClasses)> {
    let files: Vec<(String, String)> = head_files
        .iter()
        .filter(|(p, text, _)| {
            is_yaml(p)
                && (text.contains("\nkind: NodePool\n") || text.contains("\nkind: StorageClass\n"))
        })
        .map(|(p, text, _)| ((*p).clone(), (*text).clone()))
        .collect();
    let mut pools = diff::HeadNodePools::new();
    let mut classes_of: BTreeMap<String, BTreeMap<String, (String, bool)>> = BTreeMap::new();
    for r in ManifestSet::parse(&files)?.resources.into_values() {
        let Some(cluster) = r.id.group.cluster() else {
            continue;
        };
        if r.id.kind == "NodePool" && r.id.api_version.starts_with("karpenter.sh/") {
            // pool → the EC2NodeClass it names.
            if let Some(class) =
                r.value["spec"]["template"]["spec"]["nodeClassRef"]["name"].as_str()
            {
                pools
                    .entry(cluster.to_string())
                    .or_default()
                    .insert(r.id.name.clone(), class.to_string());
            }
        } else if r.id.kind == "StorageClass" && r.id.api_version.starts_with("storage.k8s.io/") {
            // class → its name and whether it allows volume expansion; the default
            // class also under "", for claims that name none.
            let class = (
                r.id.name.clone(),
                r.value["allowVolumeExpansion"].as_bool().unwrap_or(false),
            );
            let classes = classes_of.entry(cluster.to_string()).or_default();
            if r.value["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
                == "true"
            {
                classes.insert(String::new(), class.clone());
            }
            classes.insert(r.id.name.clone(), class);
        }
    }
    // StorageClasses by environment: those of its cluster, which
    // `argocd/<cluster>/applicationset-<env>.yaml` names.
    let mut storage = diff::HeadStorageClasses::new();
    for (path, _, _) in head_files {
        let Some((cluster, file)) = path
            .strip_prefix("argocd/")
            .and_then(|rest| rest.split_once('/'))
        else {
            continue;
        };
        let Some(env) = file
            .strip_prefix("applicationset-")
            .and_then(|f| f.strip_suffix(".yaml"))
        else {
            continue;
        };
        if let Some(classes) = classes_of.get(cluster) {
            storage.insert(env.to_string(), classes.clone());
        }
    }
    Ok((pools, storage))
}

/// What `kgen diff` does not compare but a reviewer must know: a Terraform hand-off
/// (`terraform/<cluster>.json`, not YAML) that is new, changed or removed. Argo CD does
/// not apply it; the roles and queues it describes must exist before what uses them.
fn handoff_notes(
    git: &GitRepo,
    base: &BTreeMap<String, Oid>,
    head: &BTreeMap<&str, Oid>,
) -> Result<Vec<String>> {
    let handoff = |p: &str| !is_yaml(p) && matches!(group_of(p), Group::Cluster(_));
    let mut paths: BTreeSet<&str> = head.keys().copied().filter(|p| handoff(p)).collect();
    for (p, oid) in base {
        if handoff(p) && !head.contains_key(p.as_str()) && is_generated(&git.blob(*oid)?) {
            paths.insert(p);
        }
    }
    let mut out = Vec::new();
    for p in paths {
        let what = match (base.get(p), head.get(p)) {
            (Some(b), Some(h)) if b == h => continue,
            (Some(_), Some(_)) => "changes",
            (None, _) => "is new",
            (_, None) => "is removed",
        };
        out.push(format!(
            "generated/{p}, the Terraform hand-off of {}, {what}: Argo CD does not apply it and this diff does not compare it; review it and apply it with Terraform",
            group_of(p)
        ));
    }
    Ok(out)
}

/// Appends the Markdown report to `$GITHUB_STEP_SUMMARY` when it is set (in GitHub
/// Actions), capped at the job summary's limit rather than the comment's, so it holds
/// what a pull-request comment cuts; returns whether it did.
pub fn publish_step_summary(report: &DiffReport) -> Result<bool> {
    let md = crate::diff_format::markdown(report, crate::diff_format::STEP_SUMMARY_LIMIT);
    crate::github_actions::append_step_summary(&md)
        .map_err(|e| Error::io("append to", "$GITHUB_STEP_SUMMARY", e))
}

/// Appends the Markdown of a `kgen diff` that failed (`diff_format::markdown_failure`)
/// to `$GITHUB_STEP_SUMMARY` when it is set; returns whether it did.
pub fn publish_failure_summary(e: &Error) -> Result<bool> {
    let md = crate::diff_format::markdown_failure(e);
    crate::github_actions::append_step_summary(&md)
        .map_err(|e| Error::io("append to", "$GITHUB_STEP_SUMMARY", e))
}

fn git_ref_plural(n: usize) -> String {
    crate::diagnostic::plural(n, "file")
}

fn duplicate_note(side: &str, dup: &Resource, set: &ManifestSet) -> String {
    let first = set
        .resources
        .get(&dup.id)
        .map(|r| r.path.as_str())
        .unwrap_or("?");
    format!(
        "{} is defined twice in {side} (generated/{first} and generated/{}); the first is compared",
        dup.id, dup.path
    )
}

enum HeadGenerated {
    Disk(PathBuf),
    Commit(String),
}

/// The workspace at `commit`: `dir/file_name` and `dir/overlays/*.toml`, read from git.
fn workspace_at(
    git: &GitRepo,
    commit: &str,
    refname: &str,
    dir: &str,
    file_name: &str,
) -> Result<Workspace> {
    let platform_path = git_ref::join(dir, file_name);
    let text = git.read_text(commit, &platform_path)?.ok_or_else(|| {
        Error::Usage(format!(
            "{refname} has no {platform_path}; pass the platform's path in the repository with --platform"
        ))
    })?;
    let mut overlays = Vec::new();
    for (name, oid) in git.list_files(commit, &git_ref::join(dir, OVERLAY_DIR))? {
        let Some(stem) = name.strip_suffix(".toml") else {
            continue;
        };
        if stem.contains('/') {
            continue;
        }
        let text = crate::workspace::decode(
            &format!("{OVERLAY_DIR}/{name} (at {refname})"),
            git.blob(oid)?,
        )?;
        overlays.push((stem.to_string(), format!("{OVERLAY_DIR}/{name}"), text));
    }
    let root = git
        .workdir()
        .map(|w| {
            if dir.is_empty() {
                w.to_path_buf()
            } else {
                w.join(dir)
            }
        })
        .unwrap_or_else(|| PathBuf::from(dir));
    let mut ws = Workspace::parse(
        root,
        InputFiles {
            platform: (file_name.to_string(), text),
            overlays,
        },
    )?;
    // Hand-written manifests and patch files, as committed.
    let reader = crate::escape_hatch::files::GitReader { git, commit, dir };
    crate::escape_hatch::files::read(&mut ws, &reader, None)?;
    Ok(ws)
}

/// Files of the render that differ from or are missing in `dir`, and files there
/// that kgen wrote but no longer renders (within scope), sorted.
fn stale_on_disk(
    dir: &Path,
    tree: &BTreeMap<String, String>,
    in_scope: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Vec<String>> {
    let mut out: Vec<String> = tree
        .par_iter()
        .filter(|(p, _)| in_scope(p))
        .filter_map(|(p, text)| match std::fs::read(dir.join(p)) {
            Ok(bytes) if bytes == text.as_bytes() => None,
            _ => Some(p.clone()),
        })
        .collect();
    let mut found = Vec::new();
    walk(dir, "", &mut found)?;
    for rel in found {
        if in_scope(&rel) && !tree.contains_key(&rel) {
            let path = dir.join(&rel);
            if let Ok(bytes) = std::fs::read(&path) {
                if is_generated(&bytes) {
                    out.push(rel);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Regular files under `dir` (not following symbolic links), relative, `/`-separated.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let ty = entry.file_type().map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = git_ref::join(prefix, &name);
        if ty.is_dir() {
            walk(&entry.path(), &rel, out)?;
        } else if ty.is_file() {
            out.push(rel);
        }
    }
    Ok(())
}

/// Like `stale_on_disk`, for a committed `generated/` listed by blob id.
fn stale_at_commit(
    git: &GitRepo,
    listing: &BTreeMap<String, Oid>,
    rendered: &BTreeMap<&str, Oid>,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (path, oid) in rendered {
        if listing.get(*path) != Some(oid) {
            out.push(path.to_string());
        }
    }
    for (path, oid) in listing {
        if !rendered.contains_key(path.as_str()) && is_generated(&git.blob(*oid)?) {
            out.push(path.clone());
        }
    }
    out.sort();
    Ok(out)
}
