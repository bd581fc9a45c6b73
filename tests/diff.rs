//! `kgen diff` end to end: real temporary git repositories built with git2 from the
//! repository's own platform, rendered by the built binary, then diffed.
//!
//! Expected outputs are exact. The parts that depend on the moment (commit ids) or on
//! how many objects the renderer emits per environment (unchanged counts) are
//! written as tokens and filled in from the repository under test:
//! `<base>`/`<head>` short commit ids, `<BASE>`/`<HEAD>` full ones, `{u:dev-5}` the
//! number of files in dev at the base minus 5, `{U:dev-5}` the same right-aligned in
//! 9 columns (the text table), `{u:dev+cluster nonprod}` the files of both. Files are
//! grouped as `kgen diff` groups them, and named as it prints the groups: an
//! environment by its name (`dev`), what is rendered once per cluster by its cluster
//! (`cluster nonprod`: dev's and staging's; `cluster prod`: prod's), kgen's plugin
//! configuration as `platform-wide`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{kgen_in, Output, Platform};
use git2::{Repository, Signature, Time};

/// A git repository in a temporary directory holding a copy of the example platform.
struct Repo {
    p: Platform,
    /// Where platform.toml lives, relative to the repository root ("" or "deploy").
    sub: String,
    git: Repository,
    commits: usize,
}

impl Repo {
    /// The example platform, with known tags, rendered and committed on `main`.
    fn new() -> Repo {
        Repo::in_subdir("")
    }

    fn in_subdir(sub: &str) -> Repo {
        let example = Platform::example();
        let p = Platform::empty();
        for (rel, text) in [
            ("platform.toml", example.read("platform.toml")),
            ("overlays/dev.toml", example.read("overlays/dev.toml")),
            (
                "overlays/staging.toml",
                example.read("overlays/staging.toml"),
            ),
            ("overlays/prod.toml", example.read("overlays/prod.toml")),
        ] {
            p.write(&join(sub, rel), &text);
        }
        let git = common::git::init(p.path());
        let r = Repo {
            p,
            sub: sub.to_string(),
            git,
            commits: 0,
        };
        // Known starting values, whatever the example platform says today.
        r.set(
            "overlays/dev.toml",
            &["services", "main-api", "tag"],
            "1.4.0",
        );
        r.set(
            "overlays/dev.toml",
            &["services", "aux-service", "tag"],
            "2.1.0",
        );
        r.set(
            "overlays/prod.toml",
            &["services", "main-api", "tag"],
            "1.3.2",
        );
        r.render();
        r
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.p.path().join(join(&self.sub, rel))
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Replaces `from` (which must occur) with `to` in a file under the platform directory.
    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(
            text.contains(from),
            "{rel} does not contain {from:?}:\n{text}"
        );
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// Sets a value in a TOML file, keeping the rest (tables are created as needed).
    fn set(&self, rel: &str, keys: &[&str], value: impl Into<toml_edit::Value>) {
        let mut doc: toml_edit::DocumentMut = self.read(rel).parse().unwrap();
        let mut item = doc.as_item_mut();
        for k in keys {
            item = &mut item[*k];
        }
        *item = toml_edit::value(value);
        self.write(rel, &doc.to_string());
    }

    fn render(&self) {
        let out = self.kgen(&["render"]);
        assert_eq!(out.code, 0, "render failed: {}{}", out.stdout, out.stderr);
    }

    /// Commits the whole working tree (additions, changes, deletions) on HEAD.
    fn commit(&mut self, message: &str) -> String {
        self.commits += 1;
        let sig = Signature::new(
            "kgen test",
            "test@kgen.dev",
            &Time::new(1_700_000_000 + self.commits as i64 * 60, 0),
        )
        .unwrap();
        common::git::commit_all(&self.git, &sig, message).to_string()
    }

    /// Runs kgen in the platform directory.
    fn kgen(&self, args: &[&str]) -> Output {
        kgen_in(&self.p.path().join(&self.sub), args)
    }

    /// Files under generated/ at `commit` (path under generated/ → blob id).
    fn generated_at(&self, commit: &str) -> BTreeMap<String, git2::Oid> {
        let tree = self
            .git
            .find_commit(git2::Oid::from_str(commit).unwrap())
            .unwrap()
            .tree()
            .unwrap();
        let mut out = BTreeMap::new();
        let gen = join(&self.sub, "generated");
        let sub = tree
            .get_path(Path::new(&gen))
            .unwrap()
            .to_object(&self.git)
            .unwrap();
        sub.peel_to_tree()
            .unwrap()
            .walk(git2::TreeWalkMode::PreOrder, |root, e| {
                if e.kind() == Some(git2::ObjectType::Blob) {
                    out.insert(format!("{root}{}", e.name().unwrap()), e.id());
                }
                git2::TreeWalkResult::Ok
            })
            .unwrap();
        out
    }

    /// Number of files under generated/ at `commit` that belong to `group` (`dev`,
    /// `cluster nonprod`, as printed) and that `kgen diff` reads (YAML: not the
    /// Terraform hand-off).
    fn files_in(&self, commit: &str, group: &str) -> usize {
        self.generated_at(commit)
            .keys()
            .filter(|p| kgen::manifest_set::is_yaml(p))
            .filter(|p| group_label(p) == group)
            .count()
    }

    /// The oracle: files of `group` (`dev`, `cluster nonprod`; YAML, as `kgen diff`
    /// reads) whose bytes differ between two commits, as (changed, added, removed)
    /// paths under generated/, sorted. With one object per file, these are the
    /// resources kgen diff must report.
    fn differing(&self, a: &str, b: &str, group: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
        let (fa, fb) = (self.generated_at(a), self.generated_at(b));
        let in_env = |p: &&String| kgen::manifest_set::is_yaml(p) && group_label(p) == group;
        let changed = fa
            .iter()
            .filter(|(p, o)| fb.get(*p).is_some_and(|ob| ob != *o))
            .map(|(p, _)| p)
            .filter(in_env)
            .cloned()
            .collect();
        let added = fb
            .keys()
            .filter(|p| !fa.contains_key(*p))
            .filter(in_env)
            .cloned()
            .collect();
        let removed = fa
            .keys()
            .filter(|p| !fb.contains_key(*p))
            .filter(in_env)
            .cloned()
            .collect();
        (changed, added, removed)
    }

    /// The object in generated/`path` at `commit`, parsed.
    fn object_at(&self, commit: &str, path: &str) -> serde_json::Value {
        let oid = self.generated_at(commit)[path];
        let blob = self.git.find_blob(oid).unwrap();
        serde_norway::from_slice(blob.content()).unwrap()
    }

    /// `{environment, cluster, apiVersion, kind, namespace, name}` of the object at
    /// `path` (`environment` or `cluster` null, as the path says).
    fn identity_at(&self, commit: &str, path: &str) -> serde_json::Value {
        let v = self.object_at(commit, path);
        let s = |x: &serde_json::Value| x.as_str().unwrap_or("").to_string();
        let group = kgen::manifest_set::group_of(path);
        serde_json::json!({
            "environment": group.environment(),
            "cluster": group.cluster(),
            "apiVersion": s(&v["apiVersion"]),
            "kind": s(&v["kind"]),
            "namespace": s(&v["metadata"]["namespace"]),
            "name": s(&v["metadata"]["name"]),
        })
    }

    /// `dev: Kind namespace/name` (or `cluster nonprod: Kind name`) of the object at
    /// `path`.
    fn label_at(&self, commit: &str, path: &str) -> String {
        let id = self.identity_at(commit, path);
        let ns = id["namespace"].as_str().unwrap();
        let name = id["name"].as_str().unwrap();
        format!(
            "{}: {} {}",
            group_label(path),
            id["kind"].as_str().unwrap(),
            if ns.is_empty() {
                name.to_string()
            } else {
                format!("{ns}/{name}")
            }
        )
    }

    /// Fills the tokens of an expected output (see the module doc).
    fn expand(&self, expected: &str, base: &str, head: Option<&str>) -> String {
        let mut s = expected
            .replace("<BASE>", base)
            .replace("<base>", &base[..7]);
        if let Some(h) = head {
            s = s.replace("<HEAD>", h).replace("<head>", &h[..7]);
        }
        let mut out = String::new();
        let mut rest = s.as_str();
        while let Some(i) = rest.find(['{']) {
            let (before, after) = rest.split_at(i);
            out.push_str(before);
            let kind = after.as_bytes().get(1).copied();
            let close = after.find('}');
            match (kind, close) {
                (Some(k @ (b'u' | b'U')), Some(end)) if after.as_bytes().get(2) == Some(&b':') => {
                    let spec = &after[3..end];
                    let (env, minus) = match spec.rsplit_once('-') {
                        Some((e, m)) if m.parse::<usize>().is_ok() => (e, m.parse().unwrap()),
                        _ => (spec, 0),
                    };
                    let n = if env == "all" {
                        self.generated_at(base)
                            .keys()
                            .filter(|p| kgen::manifest_set::is_yaml(p))
                            .count()
                    } else {
                        env.split('+')
                            .map(|e| self.files_in(base, e))
                            .sum::<usize>()
                    } - minus;
                    if k == b'U' {
                        out.push_str(&format!("{n:>9}"));
                    } else {
                        out.push_str(&n.to_string());
                    }
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push('{');
                    rest = &after[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// The group of a file under generated/, as `kgen diff` prints it: `dev`,
/// `cluster nonprod`, `platform-wide`.
fn group_label(path: &str) -> String {
    kgen::manifest_set::group_of(path).to_string()
}

fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

#[track_caller]
fn assert_text(actual: &str, expected: &str) {
    if actual != expected {
        panic!(
            "output differs\n--- expected\n{expected}\n--- actual\n{actual}\n--- diff\n{}",
            similar::TextDiff::from_lines(expected, actual).unified_diff()
        );
    }
}

// ---------------------------------------------------------------- text

#[test]
fn text_tag_moving_backwards_is_a_risk() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    r.set(
        "overlays/dev.toml",
        &["services", "main-api", "tag"],
        "1.3.2",
    );
    r.render();
    let c1 = r.commit("dev: main-api back to 1.3.2");

    let out = r.kgen(&["diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    // Every object of main-api carries the version label: each of its files changed.
    let (changed, added, removed) = r.differing(&c0, &c1, "dev");
    assert!(added.is_empty() && removed.is_empty());
    assert!(
        changed.iter().all(|p| p.starts_with("dev/main-api/")),
        "{changed:?}"
    );
    let n = changed.len();
    assert!(n >= 5, "{changed:?}");
    // A tag bump: every difference follows from the version, so the service is one
    // line (the risk is still there).
    let expected = format!(
        r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (1):
  ! dev: Deployment dev-main-api/main-api: image tag of container `main-api` moves backwards: 1.4.0 → 1.3.2

Summary:
                   added  changed  removed  unchanged
  dev                  0  {n:>7}        0  {{U:dev-{n}}}
  cluster nonprod      0        0        0  {{U:cluster nonprod}}
  total                0  {n:>7}        0  {{U:dev+cluster nonprod-{n}}}

Changed ({n}):
  ~ dev: service main-api: version 1.4.0 → 1.3.2 (container `main-api`: image tag 1.4.0 → 1.3.2); nothing else changes in its {n} objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash  (generated/dev/main-api/)
"#
    );
    assert_text(&out.stdout, &r.expand(&expected, &c0, Some(&c1)));

    // JSON keeps every object, with its diff, marked as part of the version line.
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let objects: Vec<serde_json::Value> = changed.iter().map(|p| r.identity_at(&c1, p)).collect();
    let main_api =
        |tag: &str| format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/kontaxa/main-api:{tag}");
    assert_eq!(
        json["versions"],
        serde_json::json!([{
            "environment": "dev",
            "service": "main-api",
            "path": "dev/main-api/",
            "from": "1.4.0",
            "to": "1.3.2",
            "images": [{"container": "main-api", "from": main_api("1.4.0"), "to": main_api("1.3.2")}],
            "objects": objects,
            "summary": format!("version 1.4.0 → 1.3.2 (container `main-api`: image tag 1.4.0 → 1.3.2); nothing else changes in its {n} objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash"),
        }])
    );
    let entries = json["changed"].as_array().unwrap();
    assert_eq!(entries.len(), n);
    assert!(entries.iter().all(|c| c["version_only"] == true));
    let config_map = entries.iter().find(|c| c["kind"] == "ConfigMap").unwrap();
    assert_eq!(
        config_map["diff"],
        "--- a/generated/dev/main-api/configmap.yaml
+++ b/generated/dev/main-api/configmap.yaml
@@ -8,10 +8,10 @@
     app.kubernetes.io/managed-by: kgen
     app.kubernetes.io/name: main-api
     app.kubernetes.io/part-of: kontaxa
-    app.kubernetes.io/version: \"1.4.0\"
+    app.kubernetes.io/version: \"1.3.2\"
   name: main-api-config
   namespace: dev-main-api
 data:
   APP_NAME: main-api
   ENVIRONMENT: dev
-  VERSION: \"1.4.0\"
+  VERSION: \"1.3.2\"
"
    );

    // Markdown: the same line, and no collapsible diff.
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev", "--format", "markdown",
    ]);
    assert!(
        out.stdout.ends_with(&format!(
            "#### Changed ({n})\n\n- **dev** · service `main-api`: version 1.4.0 → 1.3.2 (container `main-api`: image tag 1.4.0 → 1.3.2); nothing else changes in its {n} objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash (`generated/dev/main-api/`)\n\n"
        )),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("<details>"));

    assert!(
        !out.stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );

    // --exit-code: 1 with differences.
    let out = r.kgen(&[
        "diff",
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--env",
        "dev",
        "--exit-code",
    ]);
    assert_eq!(out.code, 1);
    // Other environments (and the clusters they run on: prod's, and nonprod, which
    // --env staging brings in) did not change.
    let out = r.kgen(&[
        "diff",
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--env",
        "prod",
        "--env",
        "staging",
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let envs = r.files_in(&c0, "prod") + r.files_in(&c0, "staging");
    let clusters = r.files_in(&c0, "cluster prod") + r.files_in(&c0, "cluster nonprod");
    assert_text(
        &out.stdout,
        &r.expand(
            &format!(
                "kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)\n\
                 no differences: {} resources are the same ({envs} in 2 environments, {clusters} in 2 clusters)\n",
                envs + clusters
            ),
            &c0,
            Some(&c1),
        ),
    );

    // With another change to the Deployment, it keeps its own diff; the rest collapse.
    r.set(
        "overlays/dev.toml",
        &["services", "main-api", "tag"],
        "1.4.1",
    );
    r.set(
        "overlays/dev.toml",
        &["services", "main-api", "env", "EXTRA"],
        "1",
    );
    r.render();
    let c2 = r.commit("dev: main-api 1.4.1 with EXTRA");
    let out = r.kgen(&["diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (changed2, _, _) = r.differing(&c1, &c2, "dev");
    let m = changed2.len();
    assert!(
        out.stdout.contains(&format!(
            "Changed ({m}):\n  ~ dev: service main-api: version 1.3.2 → 1.4.1; nothing else changes in {} of its objects but kgen's version label and the ConfigMap's VERSION; Deployment `main-api` changes more, shown on its own  (generated/dev/main-api/)\n  ~ dev: Deployment dev-main-api/main-api  (generated/dev/main-api/deployment.yaml)\n\ndev: Deployment dev-main-api/main-api\n--- a/generated/dev/main-api/deployment.yaml\n",
            m - 1
        )),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.matches("\n--- a/generated/").count(), 1);
}

#[test]
fn selector_change_and_stale_working_tree() {
    let mut r = Repo::new();
    // What is deployed: a Deployment whose selector was different (edited by hand).
    r.edit(
        "generated/dev/main-api/deployment.yaml",
        "  selector:\n    matchLabels:\n      app.kubernetes.io/instance: main-api\n",
        "  selector:\n    matchLabels:\n      app.kubernetes.io/instance: main-api-v1\n",
    );
    let c0 = r.commit("init, selector edited");

    // Default base: merge base of HEAD and main = HEAD; head: the working tree.
    let out = r.kgen(&["diff", "--env", "dev", "--exit-code"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let expected = r#"kgen diff: base <base> (merge base of HEAD and main) → head working tree
warning: generated/ at HEAD (working tree) is stale: 1 file differs from its inputs; this diff shows the render of the inputs (run `kgen render` and commit the result):
  generated/dev/main-api/deployment.yaml

Risks (1):
  ! dev: Deployment dev-main-api/main-api: spec.selector changes; it is immutable, so the sync fails until the Deployment is deleted and recreated

Summary:
                   added  changed  removed  unchanged
  dev                  0        1        0  {U:dev-1}
  cluster nonprod      0        0        0  {U:cluster nonprod}
  total                0        1        0  {U:dev+cluster nonprod-1}

Changed (1):
  ~ dev: Deployment dev-main-api/main-api  (generated/dev/main-api/deployment.yaml)

dev: Deployment dev-main-api/main-api
--- a/generated/dev/main-api/deployment.yaml
+++ b/generated/dev/main-api/deployment.yaml
@@ -12,7 +12,7 @@
 spec:
   selector:
     matchLabels:
-      app.kubernetes.io/instance: main-api-v1
+      app.kubernetes.io/instance: main-api
       app.kubernetes.io/name: main-api
   template:
     metadata:
"#;
    assert_text(&out.stdout, &r.expand(expected, &c0, None));
}

#[test]
fn moved_and_reformatted_files_are_not_changes() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    // Move one file, and rewrite another with other key order and flow style.
    std::fs::rename(
        r.path("generated/dev/main-api/service.yaml"),
        r.path("generated/dev/main-api/svc.yaml"),
    )
    .unwrap();
    let cm = r.read("generated/dev/aux-service/configmap.yaml");
    let header = cm.lines().next().unwrap();
    let value: serde_json::Value = serde_norway::from_str(&cm).unwrap();
    r.write(
        "generated/dev/aux-service/configmap.yaml",
        &format!(
            "{header}\ndata: {}\nmetadata: {}\nkind: ConfigMap\napiVersion: v1\n",
            value["data"], value["metadata"]
        ),
    );
    let c1 = r.commit("move and reformat");

    // Deployed: c1 (moved + reformatted). Rendered: c0's inputs. Same resources.
    let out = r.kgen(&[
        "diff",
        "--base",
        "HEAD",
        "--head",
        "HEAD~1",
        "--env",
        "dev",
        "--exit-code",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let expected = r#"kgen diff: base HEAD (<base>) → head HEAD~1 (<head>)
no differences: {u:dev+cluster nonprod} resources are the same ({u:dev} in 1 environment, {u:cluster nonprod} in 1 cluster)

Moved, not changed (1):
  = dev: Service dev-main-api/main-api  (generated/dev/main-api/svc.yaml → generated/dev/main-api/service.yaml)
"#;
    assert_text(&out.stdout, &r.expand(expected, &c1, Some(&c0)));

    // The other way round, the head's committed generated/ is stale (3 files).
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        json["stale"],
        serde_json::json!({"place": "HEAD", "files": [
            "dev/aux-service/configmap.yaml",
            "dev/main-api/service.yaml",
            "dev/main-api/svc.yaml",
        ]})
    );
    assert_eq!(json["summary"]["changed"], 0);
    assert_eq!(json["moved"].as_array().unwrap().len(), 0);
    let out = r.kgen(&["diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev"]);
    assert!(
        out.stdout.contains(
            "warning: generated/ at HEAD is stale: 3 files differ from its inputs; this diff shows the render of the inputs (run `kgen render` and commit the result):\n  generated/dev/aux-service/configmap.yaml\n  generated/dev/main-api/service.yaml\n  generated/dev/main-api/svc.yaml\nno differences: "
        ),
        "{}",
        out.stdout
    );
    // Argo CD deploys the committed files: a stale head fails --exit-code even with
    // no difference to show, and the Markdown names the files (review 26).
    let out = r.kgen(&[
        "diff",
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--env",
        "dev",
        "--exit-code",
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev", "--format", "markdown",
    ]);
    assert!(
        out.stdout.contains(
            "> [!WARNING]\n> generated/ at HEAD is stale: 3 files differ from its inputs; this diff shows the render of the inputs. Run `kgen render` and commit the result. Argo CD deploys the committed files, so until then a hand edit in them ships:\n>\n> - `generated/dev/aux-service/configmap.yaml`\n> - `generated/dev/main-api/service.yaml`\n> - `generated/dev/main-api/svc.yaml`\n\n"
        ),
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------- markdown

#[test]
fn markdown_replicas_change_in_a_manual_environment() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    // prod: the HPA floor goes up (an HPA owns the replica count).
    r.set(
        "overlays/prod.toml",
        &["services", "main-api", "autoscaling", "min"],
        4,
    );
    r.render();
    let c1 = r.commit("prod: main-api min 4");

    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "prod", "--format", "markdown",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = r#"### kgen diff

Base: `HEAD~1` (`<base>`) → head: `HEAD` (`<head>`)

| Where | Added | Changed | Removed | Unchanged |
|---|---:|---:|---:|---:|
| prod | 0 | 1 | 0 | {u:prod-1} |
| cluster prod | 0 | 0 | 0 | {u:cluster prod} |
| **Total** | **0** | **1** | **0** | **{u:prod+cluster prod-1}** |

#### ⚠️ Risks (1)

- **prod**: Argo CD syncs this environment manually: 1 change (0 added, 1 changed, 0 removed) waits until someone syncs it

#### Changed (1)

<details>
<summary><b>prod</b> · <code>HorizontalPodAutoscaler main-api/main-api</code>: <code>spec.minReplicas</code></summary>

```diff
--- a/generated/prod/main-api/hpa.yaml
+++ b/generated/prod/main-api/hpa.yaml
@@ -24,7 +24,7 @@
         averageUtilization: 80
         type: Utilization
     type: Resource
-  minReplicas: 3
+  minReplicas: 4
   scaleTargetRef:
     apiVersion: apps/v1
     kind: Deployment
```

</details>

"#;
    assert_text(&out.stdout, &r.expand(expected, &c0, Some(&c1)));
}

#[test]
fn markdown_is_capped_with_an_honest_note() {
    let mut r = Repo::new();
    r.commit("init");
    // Every Deployment, Service and ConfigMap changes in every environment.
    r.set("platform.toml", &["defaults", "port"], 8081);
    r.render();
    r.commit("port 8081");
    let report = kgen::ops::diff::diff(&kgen::ops::diff::DiffOptions {
        platform: r.path("platform.toml"),
        base: Some("HEAD~1".into()),
        head: Some("HEAD".into()),
        envs: vec![],
        ignore: Vec::new(),
    })
    .unwrap();
    let changed = report.diff.changed.len();
    assert!(changed >= 12, "{changed}");

    // The same change in every environment's Deployments, Services and NetworkPolicies
    // (main-api's and aux-service's alike, their names factored out): three groups.
    let full = kgen::diff_format::markdown(&report, kgen::diff_format::MARKDOWN_LIMIT);
    let same = |md: &str| md.matches("<summary><b>The same change in").count();
    assert_eq!(same(&full), 3, "{full}");
    assert!(!full.contains("not shown"));
    let lines = [
        "- The same change in 6 Deployments in 3 environments (dev, prod and staging): `containers[{name}].ports[http].containerPort` 8000 → 8081 (one diff shown below)\n",
        "- The same change in 6 NetworkPolicies in 3 environments (dev, prod and staging): `spec.ingress[0].ports[0].port` 8000 → 8081, `spec.ingress[1].ports[0].port` 8000 → 8081 (one diff shown below)\n",
        "- The same change in 6 Services in 3 environments (dev, prod and staging): `spec.ports[http].port` 8000 → 8081 (one diff shown below)\n",
    ];
    for l in lines {
        assert!(full.contains(l), "{full}");
    }

    // Capped: every change keeps its line; diffs go, from the last.
    let diffs = full.find("<details>").unwrap();
    let limit = diffs + (full.len() - diffs) / 2;
    let capped = kgen::diff_format::markdown(&report, limit);
    for l in lines {
        assert!(capped.contains(l), "{capped}");
    }
    let shown = same(&capped);
    assert!(shown > 0 && shown < 3, "{shown} of 3");
    assert!(capped.len() <= limit + 400, "{}", capped.len());
    // The lists of the groups (of the risks and info lines too) come last: small, they
    // fit after the diffs that did not.
    assert!(
        capped.contains(&format!(
            "\n… the {} of {} listed above",
            if shown == 2 { "diff" } else { "diffs" },
            if shown == 2 { "1 change" } else { "2 changes" },
        )) && capped.ends_with(" listed above not shown (the comment is capped below GitHub's 65,536-character limit; in GitHub Actions the job summary of the `kgen diff` run holds up to 1 MB of it, and `kgen diff --format json` or the text output all of it)\n"),
        "{capped}"
    );
    // What is shown is whole: every opened section and fence is closed.
    assert_eq!(
        capped.matches("<details>").count(),
        capped.matches("</details>").count()
    );
    assert_eq!(capped.matches("```").count() % 2, 0);
}

#[test]
fn markdown_goes_to_the_step_summary_in_github_actions() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    r.set(
        "overlays/dev.toml",
        &["services", "aux-service", "tag"],
        "2.2.0",
    );
    r.render();
    let c1 = r.commit("dev: aux 2.2.0");
    let summary = r.p.path().join("step-summary.md");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(["diff", "--base", "HEAD~1", "--head", "HEAD"])
        .current_dir(r.p.path())
        .env("NO_COLOR", "1")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("kgen diff: base HEAD~1"));
    let md = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown",
    ]);
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), md.stdout);
    let (changed, _, _) = r.differing(&c0, &c1, "dev");
    let row = format!("| dev | 0 | {} | 0 |", changed.len());
    assert!(md.stdout.contains(&row), "{}", md.stdout);
}

// ---------------------------------------------------------------- json

#[test]
fn json_service_added_and_removed() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    // A new service everywhere; aux-service switched off in staging. main-api's URL
    // of it reads `namespaces['aux-service']`, which only enabled services have: in
    // staging it points at a stand-in instead.
    let mut platform = r.read("platform.toml");
    platform.push_str("\n[services.worker]\nimage = \"kontaxa/worker\"\ntag = \"0.1.0\"\n");
    r.write("platform.toml", &platform);
    r.set(
        "overlays/staging.toml",
        &["services", "aux-service", "enabled"],
        false,
    );
    r.set(
        "overlays/staging.toml",
        &["services", "main-api", "env", "AUX_SERVICE_URL"],
        "http://aux-stub.staging.kontaxa.io",
    );
    r.render();
    let c1 = r.commit("add worker, drop aux-service from staging");

    let out = r.kgen(&[
        "diff",
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--env",
        "staging",
        "--format",
        "json",
        "--exit-code",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);

    // The document starts with the version and both sides, exactly.
    let top = r.expand(
        r#"{
  "version": 2,
  "base": {
    "source": "commit",
    "ref": "HEAD~1",
    "commit": "<BASE>",
    "how": null
  },
  "head": {
    "source": "commit",
    "ref": "HEAD",
    "commit": "<HEAD>",
    "how": null
  },
  "base_is_head": null,
  "stale": null,
  "summary": {
"#,
        &c0,
        Some(&c1),
    );
    assert_text(&out.stdout[..top.len()], &top);
    let keys = [
        "version", "base", "head", "stale", "summary", "risks", "added", "removed", "changed",
        "moved", "services", "versions", "notes",
    ];
    let at: Vec<usize> = keys
        .iter()
        .map(|k| out.stdout.find(&format!("\n  \"{k}\": ")).unwrap())
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "top-level keys in the documented order"
    );

    // The rest, value by value, against the oracle (files that differ between
    // commits). --env staging covers staging's files and those of its cluster, nonprod.
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let (changed, added, removed) = r.differing(&c0, &c1, "staging");
    let (cluster_changed, cluster_added, cluster_removed) =
        r.differing(&c0, &c1, "cluster nonprod");
    assert_eq!(changed, ["staging/main-api/deployment.yaml"]);
    assert!(
        cluster_added.is_empty() && cluster_removed.is_empty(),
        "{cluster_added:?} {cluster_removed:?}"
    );
    assert!(
        added.iter().all(|p| p.starts_with("staging/worker/")),
        "{added:?}"
    );
    assert!(
        removed
            .iter()
            .all(|p| p.starts_with("staging/aux-service/")),
        "{removed:?}"
    );
    assert!(
        added.len() >= 6 && removed.len() >= 7,
        "{added:?} {removed:?}"
    );
    let entry = |commit: &str, p: &String| {
        let mut id = r.identity_at(commit, p);
        id["path"] = p.as_str().into();
        id
    };
    let unchanged = r.files_in(&c0, "staging") - changed.len() - removed.len();
    let cluster_unchanged = r.files_in(&c0, "cluster nonprod") - cluster_changed.len();
    let counts = serde_json::json!({
        "added": added.len(), "changed": changed.len(), "removed": removed.len(), "unchanged": unchanged,
    });
    let cluster_counts = serde_json::json!({
        "added": 0, "changed": cluster_changed.len(), "removed": 0, "unchanged": cluster_unchanged,
    });
    let mut summary = serde_json::json!({
        "added": added.len(), "changed": cluster_changed.len() + changed.len(),
        "removed": removed.len(), "unchanged": unchanged + cluster_unchanged,
    });
    summary["environments"] = serde_json::json!({ "staging": counts });
    summary["clusters"] = serde_json::json!({ "nonprod": cluster_counts });
    // --env leaves the platform-wide file (kgen's plugin configuration) out.
    summary["platform"] = serde_json::Value::Null;
    assert_eq!(json["summary"], summary);
    let entries = |commit: &str, ps: &[String]| {
        serde_json::Value::Array(ps.iter().map(|p| entry(commit, p)).collect())
    };
    assert_eq!(json["added"], entries(&c1, &added));
    assert_eq!(json["removed"], entries(&c0, &removed));
    let changed_paths: Vec<&str> = json["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    // Environments first (staging), then clusters (nonprod), each by path.
    assert_eq!(changed_paths, [changed, cluster_changed.clone()].concat());
    // Apart from main-api's URL, only Argo CD objects that list namespaces may
    // change: staging's, and dev's beside them in nonprod's directory (worker is new
    // there too).
    assert!(
        cluster_changed
            .iter()
            .all(|p| p.starts_with("argocd/nonprod/")),
        "{cluster_changed:?}"
    );
    assert!(
        cluster_changed.contains(&"argocd/nonprod/applicationset-staging.yaml".to_string())
            && cluster_changed.contains(&"argocd/nonprod/applicationset-dev.yaml".to_string()),
        "{cluster_changed:?}"
    );
    assert_eq!(json["moved"], serde_json::json!([]));
    // aux-service's IRSA role leaves nonprod's Terraform hand-off.
    assert_eq!(
        json["notes"],
        serde_json::json!(["generated/terraform/nonprod.json, the Terraform hand-off of cluster nonprod, changes: Argo CD does not apply it and this diff does not compare it; review it and apply it with Terraform"])
    );

    // Both services are units, with their objects inside.
    assert_eq!(
        json["services"],
        serde_json::json!([
            {"environment": "staging", "service": "aux-service", "status": "removed",
             "path": "staging/aux-service/", "objects": entries(&c0, &removed)},
            {"environment": "staging", "service": "worker", "status": "added",
             "path": "staging/worker/", "objects": entries(&c1, &added)},
        ])
    );
    assert_eq!(json["versions"], serde_json::json!([]));
    // One risk for the removed service, not one per object (nor hpa-removed: the
    // workload goes with it).
    assert_eq!(
        json["risks"],
        serde_json::json!([{
            "code": "removed",
            "environment": "staging",
            "cluster": null,
            "resource": null,
            "service": "aux-service",
            "message": format!("removed: a prune deletes its {} objects from the cluster, namespace `staging-aux-service` with everything in it", removed.len()),
        }])
    );

    // The text shows each service once, its objects inside.
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "staging",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let inside = |commit: &str, ps: &[String], dir: &str| -> String {
        ps.iter()
            .map(|p| {
                let label = r.label_at(commit, p);
                format!(
                    "      {}  ({})\n",
                    label.split_once(": ").unwrap().1,
                    p.strip_prefix(dir).unwrap()
                )
            })
            .collect()
    };
    let expected = format!(
        "Risks (1):
  ! staging: service aux-service: removed: a prune deletes its {k} objects from the cluster, namespace `staging-aux-service` with everything in it

Info (1):
  i staging: Deployment staging-main-api/main-api: the pod template changes (env AUX_SERVICE_URL) with the same images: a rolling update replaces its pods when Argo CD syncs

Summary:
                   added  changed  removed  unchanged
  staging          {a:>5}  {sc:>7}  {k:>7}  {su:>9}
  cluster nonprod      0  {nc:>7}        0  {nu:>9}
  total            {a:>5}  {tc:>7}  {k:>7}  {tu:>9}

Added ({a}):
  + staging: service worker, {a} objects  (generated/staging/worker/)
{added_inside}
Removed ({k}):
  - staging: service aux-service, {k} objects  (generated/staging/aux-service/)
{removed_inside}
Changed (",
        k = removed.len(),
        a = added.len(),
        nc = cluster_changed.len(),
        nu = cluster_unchanged,
        sc = 1,
        su = unchanged,
        tc = cluster_changed.len() + 1,
        tu = unchanged + cluster_unchanged,
        added_inside = inside(&c1, &added, "staging/worker/"),
        removed_inside = inside(&c0, &removed, "staging/aux-service/"),
    );
    assert!(out.stdout.contains(&expected), "{}", out.stdout);

    // Markdown: the same, as nested lists.
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "staging", "--format", "markdown",
    ]);
    let md_inside = |commit: &str, ps: &[String], dir: &str| -> String {
        ps.iter()
            .map(|p| {
                let label = r.label_at(commit, p);
                format!(
                    "  - `{}` (`{}`)\n",
                    label.split_once(": ").unwrap().1,
                    p.strip_prefix(dir).unwrap()
                )
            })
            .collect()
    };
    let expected = format!(
        "#### ⚠️ Risks (1)

- **staging** · service `aux-service`: removed: a prune deletes its {k} objects from the cluster, namespace `staging-aux-service` with everything in it

#### ℹ️ Info (1)

- **staging** · `Deployment staging-main-api/main-api`: the pod template changes (env AUX_SERVICE_URL) with the same images: a rolling update replaces its pods when Argo CD syncs

#### Added ({a})

- **staging** · service `worker`: {a} objects (`generated/staging/worker/`)
{}
#### Removed ({k})

- **staging** · service `aux-service`: {k} objects (`generated/staging/aux-service/`)
{}
#### Changed (",
        md_inside(&c1, &added, "staging/worker/"),
        md_inside(&c0, &removed, "staging/aux-service/"),
        k = removed.len(),
        a = added.len(),
    );
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
}

#[test]
fn json_namespace_move_and_service_type_risks() {
    let mut r = Repo::new();
    // Deployed: main-api's Service as a NodePort with a fixed clusterIP (edited by hand).
    // The render leaves clusterIP unset, which the API server keeps as it is
    // (`patchAllocatedValues`): no service-cluster-ip risk.
    r.edit(
        "generated/dev/main-api/service.yaml",
        "spec:\n",
        "spec:\n  clusterIP: 10.96.0.10\n",
    );
    r.edit(
        "generated/dev/main-api/service.yaml",
        "  type: ClusterIP\n",
        "  type: NodePort\n",
    );
    let c0 = r.commit("init, service edited");
    // Rendered: aux-service moves to namespace `aux` in dev.
    r.set(
        "overlays/dev.toml",
        &["services", "aux-service", "namespace"],
        "aux",
    );
    r.render();
    r.commit("dev: aux-service in namespace aux");

    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let risks: Vec<String> = json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let res = &r["resource"];
            format!(
                "{} {} {}/{}: {}",
                r["code"].as_str().unwrap(),
                res["kind"].as_str().unwrap_or("-"),
                res["namespace"].as_str().unwrap_or("-"),
                res["name"].as_str().unwrap_or("-"),
                r["message"].as_str().unwrap()
            )
        })
        .collect();
    // Every namespaced object of aux-service moves (from dev's `dev-aux-service`); its
    // Namespace is removed, and so is the namespace's default-deny NetworkPolicy
    // (named after the namespace: the new namespace gets its own).
    let mut moved: Vec<(String, String, String)> = r
        .generated_at(&c0)
        .keys()
        .filter(|p| p.starts_with("dev/aux-service/"))
        .map(|p| r.identity_at(&c0, p))
        .filter(|id| id["kind"] != "Namespace" && id["name"] != "dev-aux-service-default-deny")
        .map(|id| {
            let s = |k: &str| id[k].as_str().unwrap().to_string();
            (s("apiVersion"), s("kind"), s("name"))
        })
        .collect();
    moved.sort();
    assert!(moved.len() >= 6, "{moved:?}");
    // One risk for the service (its moved objects, its old Namespace and that
    // namespace's default-deny NetworkPolicy), worded for dev's automated sync with
    // prune, and the IRSA role's trust subject, which Terraform must change.
    let expected = vec![
        "service-type Service dev-main-api/main-api: spec.type changes NodePort → ClusterIP; the Service's ports and addresses change (a cloud load balancer may be created or deleted)".to_string(),
        format!(
            "namespace-change - -/-: moves from namespace `dev-aux-service` to `aux` ({} objects): at the next sync Argo CD creates them in `aux` and then prunes the old ones and namespace `dev-aux-service` with everything in it: its pods start anew, and what controllers made in `dev-aux-service` (Secrets, leases) does not move",
            moved.len() + 2
        ),
        "namespace-change ServiceAccount aux/aux-service: the IRSA role `arn:aws:iam::111111111111:role/dev-aux-service` trusts `system:serviceaccount:dev-aux-service:aux-service`: pods in `aux` get no AWS credentials until Terraform applies the new trust subject `system:serviceaccount:aux:aux-service` (generated/terraform/, the Terraform hand-off); apply it before syncing".to_string(),
    ];
    assert_eq!(json["risks"][1]["service"], "aux-service");
    assert_eq!(risks, expected);
    let changed: Vec<(&str, &serde_json::Value)> = json["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["path"].as_str().unwrap(), &c["fields"]))
        .collect();
    let service = serde_json::json!(["spec.clusterIP", "spec.type"]);
    assert!(
        changed.contains(&("dev/main-api/service.yaml", &service)),
        "{changed:?}"
    );
    // main-api reaches aux-service at `namespaces['aux-service']`: its URL follows.
    let url =
        serde_json::json!(["spec.template.spec.containers[main-api].env[AUX_SERVICE_URL].value"]);
    assert!(
        changed.contains(&("dev/main-api/deployment.yaml", &url)),
        "{changed:?}"
    );
    // Apart from these, only Argo CD objects that list namespaces may change (dev's,
    // in the directory of its cluster, nonprod).
    assert!(
        changed
            .iter()
            .all(|(p, _)| *p == "dev/main-api/service.yaml"
                || *p == "dev/main-api/deployment.yaml"
                || p.starts_with("argocd/nonprod/")),
        "{changed:?}"
    );
    assert_eq!(json["summary"]["added"], moved.len() + 2);
    assert_eq!(json["summary"]["removed"], moved.len() + 2);
}

// ---------------------------------------------------------------- clusters

/// What is rendered once per cluster (its Argo CD directory, monitoring values and
/// namespaces) belongs to the cluster: `--env staging` brings in nonprod, the
/// cluster staging shares with dev, and not prod's.
#[test]
fn cluster_files_belong_to_their_cluster_and_come_with_its_environments() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    r.edit(
        "platform.toml",
        "retention = \"15d\"",
        "retention = \"30d\"",
    );
    r.render();
    let c1 = r.commit("monitoring: 30 days");

    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "staging",
    ]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    let expected = r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Summary:
                   added  changed  removed  unchanged
  staging              0        0        0  {U:staging}
  cluster nonprod      0        1        0  {U:cluster nonprod-1}
  total                0        1        0  {U:staging+cluster nonprod-1}

Changed (1):
  ~ cluster nonprod: Helm values monitoring  (generated/values/nonprod/monitoring.yaml)

cluster nonprod: Helm values monitoring
--- a/generated/values/nonprod/monitoring.yaml
+++ b/generated/values/nonprod/monitoring.yaml
@@ -40,7 +40,7 @@
     podMonitorSelectorNilUsesHelmValues: false
     probeSelectorNilUsesHelmValues: false
     replicas: 2
-    retention: "15d"
+    retention: "30d"
     ruleSelectorNilUsesHelmValues: false
     serviceMonitorSelectorNilUsesHelmValues: false
     storageSpec:
"#;
    assert_text(&out.stdout, &r.expand(expected, &c0, Some(&c1)));

    // prod's cluster has prod's name, but they are two groups, each named as what it
    // is; the cluster's own Applications sync by hand (its only environment does), so
    // the change waits for a sync of the cluster, not of the environment.
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "prod",
    ]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    let expected = r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (1):
  ! cluster prod: Argo CD syncs this cluster's Applications manually: 1 change (0 added, 1 changed, 0 removed) waits until someone syncs them

Summary:
                added  changed  removed  unchanged
  prod              0        0        0  {U:prod}
  cluster prod      0        1        0  {U:cluster prod-1}
  total             0        1        0  {U:prod+cluster prod-1}

Changed (1):
  ~ cluster prod: Helm values monitoring  (generated/values/prod/monitoring.yaml)

cluster prod: Helm values monitoring
--- a/generated/values/prod/monitoring.yaml
"#;
    let expected = r.expand(expected, &c0, Some(&c1));
    assert!(
        out.stdout.starts_with(&expected),
        "expected to start with:\n{expected}\nactual:\n{}",
        out.stdout
    );
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "prod", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let changed: Vec<&str> = json["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["values/prod/monitoring.yaml"]);
    assert_eq!(json["changed"][0]["environment"], serde_json::Value::Null);
    assert_eq!(json["changed"][0]["cluster"], "prod");
    let (p, cp) = (r.files_in(&c0, "prod"), r.files_in(&c0, "cluster prod"));
    assert_eq!(
        json["summary"],
        serde_json::json!({
            "added": 0, "changed": 1, "removed": 0, "unchanged": p + cp - 1,
            "environments": {"prod": {"added": 0, "changed": 0, "removed": 0, "unchanged": p}},
            "clusters": {"prod": {"added": 0, "changed": 1, "removed": 0, "unchanged": cp - 1}},
            "platform": null,
        })
    );
    assert_eq!(
        json["risks"],
        serde_json::json!([{
            "code": "manual-sync",
            "environment": null,
            "cluster": "prod",
            "resource": null,
            "service": null,
            "message": "Argo CD syncs this cluster's Applications manually: 1 change (0 added, 1 changed, 0 removed) waits until someone syncs them",
        }])
    );

    // A cluster named otherwise whose environments all sync by hand syncs by hand
    // too: its changes wait as well.
    r.edit("platform.toml", "[clusters.prod]", "[clusters.live]");
    r.edit("platform.toml", "cluster = \"prod\"", "cluster = \"live\"");
    r.render();
    r.commit("prod's cluster is live");
    r.edit(
        "platform.toml",
        "retention = \"30d\"",
        "retention = \"45d\"",
    );
    r.render();
    r.commit("monitoring: 45 days");
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "prod", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["summary"]["clusters"]["live"]["changed"], 1);
    assert_eq!(json["summary"]["environments"]["prod"]["changed"], 0);
    assert!(json["summary"]["clusters"].get("prod").is_none());
    let risks: Vec<(&str, &str)> = json["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap(), r["cluster"].as_str().unwrap()))
        .collect();
    assert_eq!(risks, [("manual-sync", "live")]);
}

/// The summary names what it counts: the repository's platform has 3 environments
/// and 2 clusters (one of them with an environment's name), and kgen's plugin
/// configuration belongs to neither. A change in an environment and one in a
/// cluster-level setting are counted, and wait for a manual sync, each where it is.
#[test]
fn summary_counts_environments_clusters_and_platform_wide_files_apart() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    let out = r.kgen(&["diff", "--base", "HEAD", "--head", "HEAD"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    assert_text(
        &out.stdout,
        &r.expand(
            "kgen diff: base HEAD (<base>) → head HEAD (<head>)
no differences: {u:all} resources are the same ({u:dev+prod+staging} in 3 environments, {u:cluster nonprod+cluster prod} in 2 clusters, 1 platform-wide)
",
            &c0,
            Some(&c0),
        ),
    );

    r.set(
        "overlays/prod.toml",
        &["services", "main-api", "autoscaling", "min"],
        4,
    );
    r.edit(
        "platform.toml",
        "addons.external-dns = { domain_filters = [\"kontaxa.io\"] }",
        "addons.external-dns = { domain_filters = [\"kontaxa.io\", \"kontaxa.com\"] }",
    );
    r.render();
    let c1 = r.commit("prod: main-api min 4; cluster prod: external-dns for kontaxa.com too");
    let out = r.kgen(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    let expected = r#"kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)

Risks (2):
  ! prod: Argo CD syncs this environment manually: 1 change (0 added, 1 changed, 0 removed) waits until someone syncs it
  ! cluster prod: Argo CD syncs this cluster's Applications manually: 1 change (0 added, 1 changed, 0 removed) waits until someone syncs them

Summary:
                   added  changed  removed  unchanged
  dev                  0        0        0  {U:dev}
  prod                 0        1        0  {U:prod-1}
  staging              0        0        0  {U:staging}
  cluster nonprod      0        0        0  {U:cluster nonprod}
  cluster prod         0        1        0  {U:cluster prod-1}
  platform-wide        0        0        0  {U:platform-wide}
  total                0        2        0  {U:all-2}

Changed (2):
  ~ prod: HorizontalPodAutoscaler main-api/main-api  (generated/prod/main-api/hpa.yaml)
  ~ cluster prod: Helm values external-dns  (generated/values/prod/external-dns.yaml)

prod: HorizontalPodAutoscaler main-api/main-api
"#;
    let expected = r.expand(expected, &c0, Some(&c1));
    assert!(
        out.stdout.starts_with(&expected),
        "expected to start with:\n{expected}\nactual:\n{}",
        out.stdout
    );
    assert!(out.stdout.contains(
        "\ncluster prod: Helm values external-dns\n--- a/generated/values/prod/external-dns.yaml\n"
    ));

    // Markdown: the same rows.
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = r.expand(
        "| Where | Added | Changed | Removed | Unchanged |
|---|---:|---:|---:|---:|
| dev | 0 | 0 | 0 | {u:dev} |
| prod | 0 | 1 | 0 | {u:prod-1} |
| staging | 0 | 0 | 0 | {u:staging} |
| cluster nonprod | 0 | 0 | 0 | {u:cluster nonprod} |
| cluster prod | 0 | 1 | 0 | {u:cluster prod-1} |
| platform-wide | 0 | 0 | 0 | 1 |
| **Total** | **0** | **2** | **0** | **{u:all-2}** |

#### ⚠️ Risks (2)

- **prod**: Argo CD syncs this environment manually: 1 change (0 added, 1 changed, 0 removed) waits until someone syncs it
- **cluster prod**: Argo CD syncs this cluster's Applications manually: 1 change (0 added, 1 changed, 0 removed) waits until someone syncs them
",
        &c0,
        Some(&c1),
    );
    assert!(out.stdout.contains(&expected), "{}", out.stdout);

    // JSON: environments and clusters under their own keys.
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let counts = |changed: usize, group: &str| {
        serde_json::json!({"added": 0, "changed": changed, "removed": 0,
            "unchanged": r.files_in(&c0, group) - changed})
    };
    assert_eq!(
        json["summary"],
        serde_json::json!({
            "added": 0,
            "changed": 2,
            "removed": 0,
            "unchanged": r.generated_at(&c0).keys().filter(|p| kgen::manifest_set::is_yaml(p)).count() - 2,
            "environments": {"dev": counts(0, "dev"), "prod": counts(1, "prod"), "staging": counts(0, "staging")},
            "clusters": {"nonprod": counts(0, "cluster nonprod"), "prod": counts(1, "cluster prod")},
            "platform": counts(0, "platform-wide"),
        })
    );
    let manual = |environment: Option<&str>, cluster: Option<&str>, what: &str, them: &str| {
        serde_json::json!({
            "code": "manual-sync", "environment": environment, "cluster": cluster,
            "resource": null, "service": null,
            "message": format!("Argo CD syncs {what} manually: 1 change (0 added, 1 changed, 0 removed) waits until someone syncs {them}"),
        })
    };
    assert_eq!(
        json["risks"],
        serde_json::json!([
            manual(Some("prod"), None, "this environment", "it"),
            manual(None, Some("prod"), "this cluster's Applications", "them"),
        ])
    );
    let changed: Vec<serde_json::Value> = json["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            serde_json::json!([
                c["environment"],
                c["cluster"],
                c["kind"],
                c["name"],
                c["path"]
            ])
        })
        .collect();
    assert_eq!(
        changed,
        [
            serde_json::json!([
                "prod",
                null,
                "HorizontalPodAutoscaler",
                "main-api",
                "prod/main-api/hpa.yaml"
            ]),
            serde_json::json!([
                null,
                "prod",
                "",
                "values/prod/external-dns.yaml",
                "values/prod/external-dns.yaml"
            ]),
        ]
    );
}

/// The Terraform hand-off is not YAML and not compared, but a reviewer must know it
/// changes (new roles to create before Argo CD syncs what uses them): a note, for the
/// clusters in scope.
#[test]
fn a_changed_terraform_hand_off_is_a_note() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    r.edit(
        "platform.toml",
        "aws_account = \"111111111111\", eks_name = \"kontaxa-nonprod\"",
        "aws_account = \"444444444444\", eks_name = \"kontaxa-nonprod\"",
    );
    r.render();
    let c1 = r.commit("nonprod: another account");
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "staging",
    ]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    let expected = r.expand(
        "kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)
note: generated/terraform/nonprod.json, the Terraform hand-off of cluster nonprod, changes: Argo CD does not apply it and this diff does not compare it; review it and apply it with Terraform
",
        &c0,
        Some(&c1),
    );
    assert!(out.stdout.starts_with(&expected), "{}", out.stdout);
    // prod's cluster is out of scope, and its hand-off did not change.
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "prod",
    ]);
    assert!(!out.stdout.contains("note:"), "{}", out.stdout);
}

// ---------------------------------------------------------------- refs and layout

#[test]
fn default_base_is_the_merge_base_with_the_default_branch() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    // main moves on (prod), a feature branch from c0 changes dev.
    r.git
        .branch(
            "feature",
            &r.git.head().unwrap().peel_to_commit().unwrap(),
            false,
        )
        .unwrap();
    r.set(
        "overlays/prod.toml",
        &["services", "main-api", "tag"],
        "1.3.3",
    );
    r.render();
    let c1 = r.commit("main: prod 1.3.3");
    r.git.set_head("refs/heads/feature").unwrap();
    r.git
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    assert!(r.read("overlays/prod.toml").contains("\"1.3.2\""));
    r.set(
        "overlays/dev.toml",
        &["services", "aux-service", "tag"],
        "2.2.0",
    );
    r.render();
    let c2 = r.commit("feature: dev aux 2.2.0");

    let json = |args: &[&str]| -> serde_json::Value {
        let out = r.kgen(args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap()
    };
    let j = json(&["diff", "--format", "json"]);
    assert_eq!(j["base"]["commit"], c0.as_str());
    assert_eq!(j["base"]["ref"], "main");
    assert_eq!(j["base"]["how"], "merge base of HEAD and main");
    assert_eq!(j["head"]["source"], "working-tree");
    // Only the feature's change: prod's move on main is not in the diff.
    assert_eq!(j["summary"]["environments"]["prod"]["changed"], 0);
    let (changed, _, _) = r.differing(&c0, &c2, "dev");
    assert!(changed.len() >= 6, "{changed:?}");
    assert_eq!(
        j["summary"]["environments"]["dev"]["changed"],
        changed.len()
    );

    // origin/HEAD wins over main when it exists.
    let c1_oid = git2::Oid::from_str(&c1).unwrap();
    r.git
        .reference("refs/remotes/origin/trunk", c1_oid, true, "test")
        .unwrap();
    r.git
        .reference_symbolic(
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/trunk",
            true,
            "test",
        )
        .unwrap();
    let j = json(&["diff", "--format", "json"]);
    assert_eq!(j["base"]["ref"], "origin/trunk");
    assert_eq!(j["base"]["how"], "merge base of HEAD and origin/trunk");
    assert_eq!(j["base"]["commit"], c0.as_str());

    // --base names a ref explicitly: main's tip, so prod differs too.
    let j = json(&["diff", "--base", "main", "--format", "json"]);
    assert_eq!(j["base"]["commit"], c1.as_str());
    let (changed, _, _) = r.differing(&c1, &c2, "prod");
    assert!(changed.len() >= 5, "{changed:?}");
    assert_eq!(
        j["summary"]["environments"]["prod"]["changed"],
        changed.len()
    );
}

#[test]
fn platform_in_a_subdirectory() {
    let mut r = Repo::in_subdir("deploy");
    let c0 = r.commit("init");
    r.set(
        "overlays/dev.toml",
        &["services", "main-api", "tag"],
        "1.5.0",
    );
    r.render();
    let c1 = r.commit("dev 1.5.0");
    let paths = |out: Output| -> Vec<String> {
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let j: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(j["stale"], serde_json::Value::Null);
        assert_eq!(j["risks"], serde_json::json!([]));
        j["changed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"].as_str().unwrap().to_string())
            .collect()
    };
    let args = [
        "diff",
        "--base",
        "HEAD~1",
        "--format",
        "json",
        "--exit-code",
    ];
    let (expected, _, _) = r.differing(&c0, &c1, "dev");
    assert!(expected.contains(&"dev/main-api/deployment.yaml".to_string()));
    // From the platform's directory (default --platform), working tree and --head.
    assert_eq!(paths(r.kgen(&args)), expected);
    let mut with_head = args.to_vec();
    with_head.extend(["--head", "HEAD"]);
    assert_eq!(paths(r.kgen(&with_head)), expected);
    // From the repository root with --platform deploy/platform.toml.
    let mut from_root = with_head.clone();
    from_root.extend(["--platform", "deploy/platform.toml"]);
    assert_eq!(paths(kgen_in(r.p.path(), &from_root)), expected);
}

/// With no default branch to compare with (a branch of another name, a shallow
/// clone), the base is HEAD itself: nothing committed is compared, which the output
/// says as a warning instead of "no differences" (newcomer review 14, review 26), and
/// `--exit-code`, or a run in GitHub Actions, exits 3.
#[test]
fn a_base_that_is_head_itself_is_said() {
    let mut r = Repo::new();
    r.commit("rendered");
    r.git
        .find_branch("main", git2::BranchType::Local)
        .unwrap()
        .rename("trunk", false)
        .unwrap();
    let out = r.kgen(&["diff"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let head = r.git.head().unwrap().target().unwrap().to_string();
    assert!(
        out.stdout.starts_with(&format!(
            "kgen diff: base HEAD ({}) → head working tree\n\
             warning: nothing compared: the base is HEAD itself, so changes already committed do not show: no default branch (`origin/HEAD`, `main`, `origin/main`, `master`, `origin/master`) shares history with HEAD; pass `--base REF`, or fetch the history\n\
             nothing to compare: the base is the head (",
            &head[..7],
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with(" resources rendered the same as committed)\n"),
        "{}",
        out.stdout
    );
    let out = r.kgen(&["diff", "--exit-code"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let actions = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(["diff", "--format", "markdown"])
        .current_dir(r.p.path())
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert_eq!(actions.status.code(), Some(3));
    let md = String::from_utf8(actions.stdout).unwrap();
    assert!(
        md.contains("> [!WARNING]\n> Nothing compared: the base is HEAD itself, so changes already committed do not show: no default branch"),
        "{md}"
    );
    assert!(
        md.contains("\nNothing to compare: the base is the head ("),
        "{md}"
    );
    // An explicit base is what was asked for: no warning.
    let out = r.kgen(&["diff", "--base", "HEAD", "--exit-code"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("nothing compared"), "{}", out.stdout);
    // A shallow clone of the branch (as actions/checkout makes): its `origin/HEAD` is
    // the branch itself, whose merge base with HEAD is HEAD.
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.p.path().display());
    common::git::run(
        clones.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "trunk", &url, "c",
        ],
    );
    let out = kgen_in(&clones.path().join("c"), &["diff"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("warning: nothing compared: the base is HEAD itself, so changes already committed do not show: this is a shallow clone, whose history stops short (actions/checkout fetches one commit unless `fetch-depth: 0`)"),
        "{}",
        out.stdout
    );
    // A shallow clone of `main` itself (a push build): HEAD is its merge base rightly,
    // and the diff is what a full clone says (verification review 30).
    let out = kgen_in(&clones.path().join("c"), &["diff"]);
    assert!(out.stdout.contains("nothing compared"), "{}", out.stdout);
    common::git::run(&clones.path().join("c"), &["branch", "-m", "main"]);
    common::git::run(
        &clones.path().join("c"),
        &["update-ref", "refs/remotes/origin/main", "HEAD"],
    );
    common::git::run(
        &clones.path().join("c"),
        &[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ],
    );
    let out = kgen_in(&clones.path().join("c"), &["diff", "--exit-code"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("nothing compared"), "{}", out.stdout);
    assert!(out.stdout.contains("\nno differences: "), "{}", out.stdout);
}

#[test]
fn exit_codes_and_errors() {
    let mut r = Repo::new();
    r.commit("init");
    // No differences: 0, with or without --exit-code.
    let out = r.kgen(&["diff", "--exit-code"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("\nno differences: "), "{}", out.stdout);
    // A change in the working tree: 1 with --exit-code, 0 without.
    r.set(
        "overlays/dev.toml",
        &["services", "main-api", "tag"],
        "1.4.1",
    );
    assert_eq!(r.kgen(&["diff", "--exit-code"]).code, 1);
    assert_eq!(r.kgen(&["diff"]).code, 0);
    // Unknown ref: a git failure, 3.
    let out = r.kgen(&["diff", "--base", "no-such-ref"]);
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("cannot resolve `no-such-ref`: no branch, tag or commit of that name"),
        "{}",
        out.stderr
    );
    // Unknown environment: usage, 2.
    assert_eq!(r.kgen(&["diff", "--env", "qa"]).code, 2);
    // Invalid inputs at the head ref: 2, with the diagnostic.
    r.set(
        "overlays/dev.toml",
        &["services", "main-api", "replicas"],
        "three",
    );
    r.commit("broken");
    let out = r.kgen(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("overlays/dev.toml"), "{}", out.stderr);
    // diff writes nothing, and its closing line does not claim it.
    assert!(
        out.stderr.ends_with("error: 1 error; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)\n"),
        "{}",
        out.stderr
    );
    // Not a git repository: 3.
    let plain = Platform::example();
    let out = plain.kgen(&["diff"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("not inside a git repository"),
        "{}",
        out.stderr
    );
}

#[test]
fn text_is_coloured_for_a_terminal() {
    let mut r = Repo::new();
    r.commit("init");
    r.set(
        "overlays/dev.toml",
        &["services", "main-api", "tag"],
        "1.3.9",
    );
    // Not only a version change: the Deployment keeps its own (coloured) diff.
    r.set(
        "overlays/dev.toml",
        &["services", "main-api", "env", "EXTRA"],
        "1",
    );
    let report = kgen::ops::diff::diff(&kgen::ops::diff::DiffOptions {
        platform: r.path("platform.toml"),
        base: None,
        head: None,
        envs: vec!["dev".into()],
        ignore: Vec::new(),
    })
    .unwrap();
    let coloured = kgen::diff_format::text(&report, true);
    assert!(coloured.contains("\x1b[32m+        image: "), "{coloured}");
    assert!(coloured.contains("\x1b[31m-        image: "), "{coloured}");
    assert!(coloured.contains("\x1b[33m!\x1b[0m dev: Deployment dev-main-api/main-api: image tag"));
    let plain = kgen::diff_format::text(&report, false);
    assert!(!plain.contains('\x1b'));
}

// ---------------------------------------------------------------- --ignore

#[test]
fn ignore_kinds_names_and_fields() {
    let mut r = Repo::new();
    let c0 = r.commit("init");
    // prod: main-api 1.3.2 → 1.4.0, and its HPA floor goes up.
    r.set(
        "overlays/prod.toml",
        &["services", "main-api", "tag"],
        "1.4.0",
    );
    r.set(
        "overlays/prod.toml",
        &["services", "main-api", "autoscaling", "min"],
        4,
    );
    r.render();
    let c1 = r.commit("prod: main-api 1.4.0, min 4");
    let (changed, _, _) = r.differing(&c0, &c1, "prod");
    let n = changed.len();
    assert!(changed.contains(&"prod/main-api/hpa.yaml".to_string()));
    let diff = |more: &[&str]| {
        let mut args = vec![
            "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "prod",
        ];
        args.extend_from_slice(more);
        r.kgen(&args)
    };
    let line = |k: usize| {
        format!("  ~ prod: service main-api: version 1.3.2 → 1.4.0 (container `main-api`: image tag 1.3.2 → 1.4.0); nothing else changes in its {k} objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash  (generated/prod/main-api/)\n")
    };
    let line_but_hpa = |k: usize| {
        format!("  ~ prod: service main-api: version 1.3.2 → 1.4.0 (container `main-api`: image tag 1.3.2 → 1.4.0); nothing else changes in {k} of its objects but kgen's version label, the ConfigMap's VERSION and the pods' config hash; HorizontalPodAutoscaler `main-api` changes more, shown on its own  (generated/prod/main-api/)\n")
    };

    // Without a rule: the HPA has a change of its own, the rest is one line.
    let out = diff(&[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "Changed ({n}):\n{}  ~ prod: HorizontalPodAutoscaler main-api/main-api  (generated/prod/main-api/hpa.yaml)\n",
            line_but_hpa(n - 1)
        )),
        "{}",
        out.stdout
    );

    // Its field ignored, the HPA is only a version change too.
    let rule = "kind=HorizontalPodAutoscaler,field=spec.minReplicas";
    let out = diff(&["--ignore", rule]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = format!(
        "kgen diff: base HEAD~1 (<base>) → head HEAD (<head>)
note: --ignore `{rule}`: the field is ignored in 1 object

Risks (1):
  ! prod: Argo CD syncs this environment manually: {n} changes (0 added, {n} changed, 0 removed) wait until someone syncs it

Summary:
                added  changed  removed  unchanged
  prod              0  {n:>7}        0  {{U:prod-{n}}}
  cluster prod      0        0        0  {{U:cluster prod}}
  total             0  {n:>7}        0  {{U:prod+cluster prod-{n}}}

Changed ({n}):
{}",
        line(n)
    );
    assert_text(&out.stdout, &r.expand(&expected, &c0, Some(&c1)));

    // The whole HPA left out: not counted, not listed (kinds match in any case).
    let out = diff(&[
        "--ignore",
        "kind=horizontalpodautoscaler",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["summary"]["changed"], n - 1);
    assert_eq!(
        json["notes"],
        serde_json::json!([
            "--ignore `kind=horizontalpodautoscaler` left out 1 object that differs"
        ])
    );
    assert!(json["changed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["kind"] != "HorizontalPodAutoscaler"));

    // A field of every object, and a rule that matches nothing that differs.
    let out = diff(&[
        "--ignore",
        "field=metadata.labels[\"app.kubernetes.io/version\"]",
        "--ignore",
        "kind=ConfigMap,name=other-*",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        json["notes"],
        serde_json::json!([
            format!("--ignore `field=metadata.labels[\"app.kubernetes.io/version\"]`: the field is ignored in {n} objects"),
            "--ignore `kind=ConfigMap,name=other-*` matched nothing that differs",
        ])
    );
    // Objects whose only change was the label are unchanged now.
    let left: Vec<&str> = json["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["ConfigMap", "Deployment", "HorizontalPodAutoscaler"]);
    // The path is from the top: the pod template's labels are another field.
    assert_eq!(
        json["changed"][0]["fields"],
        serde_json::json!(["data.VERSION"])
    );
    assert!(json["changed"][1]["fields"]
        .as_array()
        .unwrap()
        .contains(&"spec.template.metadata.labels[\"app.kubernetes.io/version\"]".into()));

    // Bad rules: exit 2, with what was meant.
    for (rule, says) in [
        ("knd=Deployment", "unknown key `knd`; did you mean `kind`?"),
        ("kind", "`kind` needs a value: `kind=VALUE`;"),
        ("nmae", "`nmae` is not `key=value` (did you mean `name=VALUE`?);"),
        ("field=spec[x", "field path `spec[x` has an unclosed `[`"),
        (
            "kind=Deploymnet",
            "no object of kind `Deploymnet` is rendered at the head or differs at the base; did you mean `Deployment`?",
        ),
        (
            "kind=HorizontalPodAutoscaler,field=spec.minReplics",
            "no object it applies to has the field `spec.minReplics`; did you mean `spec.minReplicas`?",
        ),
        (
            "kind=ConfigMap,name=main-api-confg",
            "no object that differs is named `main-api-confg`; did you mean `main-api-config`?",
        ),
    ] {
        let out = diff(&["--ignore", rule]);
        assert_eq!(out.code, 2, "{rule}: {}{}", out.stdout, out.stderr);
        assert_eq!(out.stdout, "", "{rule}");
        assert!(
            out.stderr.contains(&format!("--ignore `{rule}`: {says}")),
            "{rule}: {}",
            out.stderr
        );
    }
}

/// In a manual environment the ApplicationSet never deletes an Application
/// (`applicationsSync: create-update`): a removed service's Application stays, and the
/// risk says to delete it by hand, not that a prune deletes its objects (newcomer
/// review 23, #1).
#[test]
fn a_service_removed_from_a_manual_environment_keeps_its_application() {
    let mut r = Repo::new();
    r.commit("init");
    r.set(
        "overlays/prod.toml",
        &["services", "aux-service", "enabled"],
        false,
    );
    r.set(
        "overlays/prod.toml",
        &["services", "main-api", "env", "AUX_SERVICE_URL"],
        "http://aux-stub.kontaxa.io",
    );
    r.render();
    r.commit("drop aux-service from prod");
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "prod",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("  ! prod: service aux-service: "))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        line.starts_with("  ! prod: service aux-service: removed, but the environment's ApplicationSet never deletes an Application (applicationsSync: create-update): `prod-aux-service` stays, cannot render (its source is gone) and keeps its ")
            && line.ends_with(" running; delete it by hand once this is merged (`argocd app delete prod-aux-service`, which deletes them through its resources finalizer)"),
        "{line}"
    );
    assert!(
        !out.stdout.contains("a prune deletes its"),
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------- review 26

/// The risks of a change, as `code group resource-or-service: message` lines.
fn risk_lines(json: &serde_json::Value, key: &str) -> Vec<String> {
    json[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let group = r["environment"]
                .as_str()
                .map(str::to_string)
                .or_else(|| r["cluster"].as_str().map(|c| format!("cluster {c}")))
                .unwrap_or_default();
            let what = match (r["resource"]["kind"].as_str(), r["service"].as_str()) {
                (Some(kind), _) => format!(" {kind} {}", r["resource"]["name"].as_str().unwrap()),
                (None, Some(s)) => format!(" service {s}"),
                _ => String::new(),
            };
            format!(
                "{} {group}{what}: {}",
                r["code"].as_str().unwrap(),
                r["message"].as_str().unwrap()
            )
        })
        .collect()
}

/// prod turns from manual to automated sync: its ApplicationSet's template gains
/// automated prune and selfHeal and loses `applicationsSync: create-update`, and its
/// cluster's Applications too. What applies the change is prod's bootstrap as deployed
/// now, which syncs by hand: the manual-sync risk is read from the base.
#[test]
fn manual_to_automated_sync_is_a_risk() {
    let mut r = Repo::new();
    r.commit("init");
    r.set("platform.toml", &["environments", "prod", "sync"], "auto");
    r.render();
    r.commit("prod: automated sync");
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "prod", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let risks = risk_lines(&json, "risks");
    assert!(risks.contains(&"sync-automated cluster prod ApplicationSet prod: sync becomes automated: once this is applied, Argo CD syncs every Application it generates (`prod-aux-service` and `prod-main-api`) as soon as it is OutOfSync, so every change merged earlier and never synced by hand is applied at once; prune: every object its source no longer has is deleted, including those deliberately left in the cluster until now; selfHeal: any change made by hand in the cluster (a hotfix applied with kubectl) is reverted".to_string()), "{risks:#?}");
    assert!(risks.contains(&"applications-sync cluster prod ApplicationSet prod: applicationsSync: create-update is dropped: the ApplicationSet controller now deletes every Application of this set that it no longer generates, including any kept after its service was removed earlier, and each one's resources finalizer deletes all its objects from the cluster; list them first (`argocd app list -l app.kubernetes.io/managed-by=kgen`)".to_string()), "{risks:#?}");
    assert!(risks.contains(&"sync-automated cluster prod: 11 Applications (`prod-baseline`, `prod-baseline-custom`, `prod-bootstrap`, `prod-cert-manager`, `prod-cluster-autoscaler`, `prod-external-dns`, `prod-ingress-nginx`, `prod-metrics-server`, `prod-monitoring`, `prod-secrets-store-csi-driver` and `prod-secrets-store-csi-driver-provider-aws`): sync becomes automated: once this is applied, Argo CD syncs each of them as soon as it is OutOfSync, so every change merged earlier and never synced by hand is applied at once; prune: every object its source no longer has is deleted, including those deliberately left in the cluster until now; selfHeal: any change made by hand in the cluster (a hotfix applied with kubectl) is reverted".to_string()), "{risks:#?}");
    // The head's platform says prod syncs automatically, but the bootstrap that
    // applies this change syncs by hand until it is synced once.
    assert!(
        risks.iter().any(|r| r.starts_with(
            "manual-sync cluster prod: Argo CD syncs this cluster's Applications manually: "
        )),
        "{risks:#?}"
    );
}

/// Autoscaling turned on drops `spec.replicas`: a client-side apply deletes the field,
/// and the API server defaults it to 1.
#[test]
fn dropping_replicas_for_autoscaling_is_a_risk() {
    let mut r = Repo::new();
    let staging = r.read("overlays/staging.toml");
    r.write(
        "overlays/staging.toml",
        &staging.replace(
            "[services.aux-service]\n",
            "[services.aux-service]\nreplicas = 3\nautoscaling = { enabled = false }\n",
        ),
    );
    r.render();
    r.commit("staging: aux-service 3 replicas, no autoscaling");
    r.write("overlays/staging.toml", &staging);
    r.render();
    r.commit("staging: aux-service autoscales");
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "staging", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        risk_lines(&json, "risks"),
        ["replicas-dropped staging Deployment aux-service: spec.replicas (3) is removed: Argo CD applies it client-side, so the sync deletes the field and the API server defaults it to 1: all but one of its 3 pods terminate until the HorizontalPodAutoscaler scales it up again; to avoid it, before syncing remove `replicas` from its last applied configuration (`kubectl apply edit-last-applied deployment/aux-service -n staging-aux-service`), and the sync leaves the live count alone"]
    );
}

/// A head that does not validate: the Markdown says so, with the diagnostics, on
/// stdout and in the job summary, and the exit code is still 2.
#[test]
fn an_invalid_head_writes_a_markdown_failure() {
    let mut r = Repo::new();
    r.commit("init");
    let prod = r.read("overlays/prod.toml");
    r.write(
        "overlays/prod.toml",
        &prod.replace("tag = \"1.3.2\"", "tag = 1.3.2"),
    );
    let summary = tempfile::NamedTempFile::new().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(["diff", "--format", "markdown"])
        .current_dir(r.p.path())
        .env("NO_COLOR", "1")
        .env("GITHUB_STEP_SUMMARY", summary.path())
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let md = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        md.starts_with("### kgen diff\n\n> [!CAUTION]\n> The head does not validate: no diff. Fix the errors below (`kgen validate` shows them too) and push again.\n\n```text\nerror"),
        "{md}"
    );
    // The diagnostics are those printed on stderr.
    let first = stderr.lines().next().unwrap();
    assert!(md.contains(first), "{md}\n{stderr}");
    assert_eq!(std::fs::read_to_string(summary.path()).unwrap(), md);
}

/// staging is removed: the cluster's add-ons move to dev's project, which gains the
/// cluster-scoped kinds they need; that is a risk, named kind by kind.
#[test]
fn a_project_that_allows_more_is_a_risk() {
    let mut r = Repo::new();
    r.commit("init");
    let mut doc: toml_edit::DocumentMut = r.read("platform.toml").parse().unwrap();
    doc["environments"]
        .as_table_mut()
        .unwrap()
        .remove("staging");
    r.write("platform.toml", &doc.to_string());
    std::fs::remove_file(r.path("overlays/staging.toml")).unwrap();
    r.render();
    r.commit("no staging");
    let out = r.kgen(&[
        "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let risks = risk_lines(&json, "risks");
    let widened: Vec<&String> = risks
        .iter()
        .filter(|r| r.starts_with("project-widened"))
        .collect();
    assert_eq!(
        widened,
        ["project-widened cluster nonprod AppProject dev: the project now allows cluster-scoped `MutatingWebhookConfiguration` (admissionregistration.k8s.io), `ValidatingWebhookConfiguration` (admissionregistration.k8s.io), `CustomResourceDefinition` (apiextensions.k8s.io), `APIService` (apiregistration.k8s.io), `ClusterIssuer` (cert-manager.io), `IngressClass` (networking.k8s.io), `ClusterRole` (rbac.authorization.k8s.io), `ClusterRoleBinding` (rbac.authorization.k8s.io), `CSIDriver` (storage.k8s.io) and `StorageClass` (storage.k8s.io) (of these, `MutatingWebhookConfiguration` and `ValidatingWebhookConfiguration`: can change or refuse any API request; `CustomResourceDefinition`: defines or redefines API types cluster-wide; `APIService`: routes a whole API group to a service; `ClusterRole` and `ClusterRoleBinding`: cluster-admin equivalent, a binding can grant any role); destinations every namespace on https://kubernetes.default.svc, `cert-manager` on https://kubernetes.default.svc, `external-dns` on https://kubernetes.default.svc, `ingress-nginx` on https://kubernetes.default.svc, `kube-system` on https://kubernetes.default.svc and `monitoring` on https://kubernetes.default.svc; source repositories `https://aws.github.io/secrets-store-csi-driver-provider-aws`, `https://charts.jetstack.io`, `https://kubernetes-sigs.github.io/external-dns/`, `https://kubernetes-sigs.github.io/metrics-server/`, `https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts`, `https://kubernetes.github.io/autoscaler`, `https://kubernetes.github.io/ingress-nginx` and `https://prometheus-community.github.io/helm-charts`: every Application in it may deploy these from now on, and so may anyone who can create or edit an Application in the project"],
        "{risks:#?}"
    );
}

// A namespace change moves every object of every service: one risk per service,
// worded by the environment's sync policy (dev: automated with prune; prod: manual,
// its ApplicationSet `create-update`), and what follows from the move: main-api's TLS
// certificate issued again and its host claimed twice, aux-service's IRSA role
// trusting the old namespace.
#[test]
fn a_namespace_move_is_one_risk_per_service() {
    let mut r = Repo::new();
    r.commit("init");
    r.set(
        "platform.toml",
        &["environments", "dev", "namespace"],
        "d-{{ service }}",
    );
    r.set(
        "platform.toml",
        &["environments", "prod", "namespace"],
        "prod-{{ service }}",
    );
    r.render();
    r.commit("namespaces");
    let out = r.kgen(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    let risks =
        &out.stdout[out.stdout.find("Risks (").unwrap()..out.stdout.find("\nSummary:").unwrap()];
    assert_text(
        risks,
        r#"Risks (12):
  ! dev: service aux-service: moves from namespace `dev-aux-service` to `d-aux-service` (12 objects): at the next sync Argo CD creates them in `d-aux-service` and then prunes the old ones and namespace `dev-aux-service` with everything in it: its pods start anew, and what controllers made in `dev-aux-service` (Secrets, leases) does not move
  ! dev: service main-api: moves from namespace `dev-main-api` to `d-main-api` (13 objects): at the next sync Argo CD creates them in `d-main-api` and then prunes the old ones and namespace `dev-main-api` with everything in it: its pods start anew, and what controllers made in `dev-main-api` (Secrets, leases) does not move
  ! dev: Ingress d-main-api/main-api: cert-manager issues its TLS certificate (`main-api-tls`, ClusterIssuer `letsencrypt-prod`) again in `d-main-api`: the Secret stays in `dev-main-api`, the new Ingress has no certificate until the new one is issued, and Let's Encrypt allows 5 certificates for the same set of hosts a week
  ! dev: Ingress d-main-api/main-api: claims the same host `api.dev.kontaxa.io` as the old Ingress in `dev-main-api`, which stays until Argo CD prunes it (automated sync with prune; PruneLast, so after the rest of the sync): ingress-nginx's admission webhook (on by default) refuses an Ingress whose host and path another one already has, so the sync fails on this one; delete the old one as you sync (`kubectl delete ingress -n dev-main-api main-api`), and the host has no route until the new one is created
  ! dev: ServiceAccount d-aux-service/aux-service: the IRSA role `arn:aws:iam::111111111111:role/dev-aux-service` trusts `system:serviceaccount:dev-aux-service:aux-service`: pods in `d-aux-service` get no AWS credentials until Terraform applies the new trust subject `system:serviceaccount:d-aux-service:aux-service` (generated/terraform/, the Terraform hand-off); apply it before syncing
  ! prod: service aux-service: moves from namespace `aux-service` to `prod-aux-service` (12 objects): a sync creates them in `prod-aux-service`, but nothing is deleted: the old ones and namespace `aux-service` with everything in it stay until someone syncs `prod-aux-service` with prune (`argocd app sync prod-aux-service --prune`), which deletes them
  ! prod: service main-api: moves from namespace `main-api` to `prod-main-api` (13 objects): a sync creates them in `prod-main-api`, but nothing is deleted: the old ones and namespace `main-api` with everything in it stay until someone syncs `prod-main-api` with prune (`argocd app sync prod-main-api --prune`), which deletes them
  ! prod: Ingress prod-main-api/main-api: cert-manager issues its TLS certificate (`main-api-tls`, ClusterIssuer `letsencrypt-prod`) again in `prod-main-api`: the Secret stays in `main-api`, the new Ingress has no certificate until the new one is issued, and Let's Encrypt allows 5 certificates for the same set of hosts a week
  ! prod: Ingress prod-main-api/main-api: claims the same host `api.kontaxa.io` as the old Ingress in `main-api`, which stays until someone syncs `prod-main-api` with prune (`argocd app sync prod-main-api --prune`): ingress-nginx's admission webhook (on by default) refuses an Ingress whose host and path another one already has, so the sync fails on this one; delete the old one as you sync (`kubectl delete ingress -n main-api main-api`), and the host has no route until the new one is created
  ! prod: ServiceAccount prod-aux-service/aux-service: the IRSA role `arn:aws:iam::333333333333:role/prod-aux-service` trusts `system:serviceaccount:aux-service:aux-service`: pods in `prod-aux-service` get no AWS credentials until Terraform applies the new trust subject `system:serviceaccount:prod-aux-service:aux-service` (generated/terraform/, the Terraform hand-off); apply it before syncing
  ! prod: Argo CD syncs this environment manually: 50 changes (25 added, 0 changed, 25 removed) wait until someone syncs it
  ! cluster prod: Argo CD syncs this cluster's Applications manually: 2 changes (0 added, 2 changed, 0 removed) wait until someone syncs them
"#,
    );
}
