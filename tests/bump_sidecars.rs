//! `kgen bump-image --container` and `kgen promote` for sidecars and init containers:
//! exact overlay text before and after (only the value's bytes change, comments
//! stay), idempotence, validation before anything is written, `--image` matching a
//! sidecar's or init container's repository, exit codes, GitHub Actions outputs and
//! summary, the commit message; and the overlay edit's invariants (the `overlay_edit`
//! fuzz check) for container edits in every TOML form.

mod common;
#[path = "../.fuzz/common.rs"]
mod fuzz;

use std::collections::BTreeMap;
use std::process::Command;

use common::{Output, Platform};
use git2::Signature;
use kgen::overlay_edit::{ContainerList, ContainerRef, Edit, Field};

/// Two services; `api` has a sidecar (`proxy`, with the liveness probe KG202 asks a
/// sidecar for) and an init container (`migrate`) that runs the api's own image.
const PLATFORM: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
namespace = "dev-{{ service }}"
sync = "auto"

[environments.prod]
namespace = "prod-{{ service }}"
sync = "manual"

[defaults]
resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "500m", memory = "256Mi" } }
probes = { liveness = "/health", readiness = "/health" }

[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080

[services.api.sidecars.proxy]
image = "acme/proxy"
tag = "2.1.0"
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { cpu = "200m", memory = "128Mi" } }
probes = { liveness = { exec = ["/bin/healthcheck"] } }

[services.api.init_containers.migrate]
image = "acme/api"
tag = "1.0.0"
command = ["/app/migrate"]
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { cpu = "200m", memory = "128Mi" } }

[services.web]
image = "acme/web"
tag = "3.0.0"
port = 8080
"#;

/// dev's overlay: comments, odd spacing and single quotes that must survive.
const DEV: &str = "# dev: CI bumps the tags here.

[services.api]
tag = \"1.1.0\"   # the api

[services.api.sidecars.proxy]
tag   =   '2.1.5'  # the proxy, pinned by hand

[services.web]
replicas = 1
";

const DIGEST: &str = "sha256:0f2b8e4d6a1c3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f";

/// The platform, dev's overlay, rendered.
fn platform() -> Platform {
    let p = Platform::new(PLATFORM, &[("dev", DEV)]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    p
}

/// Every file but the lock and the GitHub Actions files.
fn snapshot(p: &Platform) -> BTreeMap<String, Vec<u8>> {
    common::snapshot(p.path(), &[".git", ".kgen.lock", "gh-output", "gh-summary"])
}

fn changed_files(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut out: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The image of container `name` in a rendered Deployment.
fn image_of(p: &Platform, path: &str, name: &str) -> String {
    let v: serde_json::Value = serde_norway::from_str(&p.read(path)).unwrap();
    let spec = &v["spec"]["template"]["spec"];
    spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(spec["initContainers"].as_array().into_iter().flatten())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name} in {path}"))["image"]
        .as_str()
        .unwrap()
        .to_string()
}

fn empty_home() -> std::path::PathBuf {
    let home = std::env::temp_dir().join("kgen-tests-empty-home");
    std::fs::create_dir_all(&home).unwrap();
    home
}

/// kgen in the platform directory, writing GitHub Actions outputs and summary there.
fn kgen_in_actions(p: &Platform, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(args)
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .env("GITHUB_OUTPUT", p.path().join("gh-output"))
        .env("GITHUB_STEP_SUMMARY", p.path().join("gh-summary"))
        .env("GIT_AUTHOR_NAME", "Release Bot")
        .env("GIT_AUTHOR_EMAIL", "release@example.com")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        // In Actions, with no git identity configured (not the machine's ~/.gitconfig).
        .env("GITHUB_ACTIONS", "true")
        .env("HOME", empty_home())
        .env("XDG_CONFIG_HOME", empty_home())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_sidecar_tag_changes_only_its_bytes_and_is_idempotent() {
    let p = platform();
    let before = snapshot(&p);
    let out = p.kgen(&[
        "bump-image",
        "api",
        "--container",
        "proxy",
        "--env",
        "dev",
        "--tag",
        "2.2.0",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "dev: api/proxy  2.1.5 → 2.2.0\n\
         updated overlays/dev.toml; rendered dev into generated/: 0 added, 1 changed, 0 removed\n"
    );
    // No note; the render's one warning is dev's skew of `api` (1.1.0) and its
    // `migrate` (1.0.0), which the fixture has on purpose (KG218).
    assert!(!out.stderr.contains("note:"), "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("warning[KG218]: init container `migrate`")
            && out.stderr.matches("warning[").count() == 1,
        "{}",
        out.stderr
    );
    assert_eq!(
        p.read("overlays/dev.toml"),
        "# dev: CI bumps the tags here.

[services.api]
tag = \"1.1.0\"   # the api

[services.api.sidecars.proxy]
tag   =   '2.2.0'  # the proxy, pinned by hand

[services.web]
replicas = 1
"
    );
    // Only the sidecar's image moved: the version label follows the service's own tag.
    assert_eq!(
        changed_files(&before, &snapshot(&p)),
        ["generated/dev/api/deployment.yaml", "overlays/dev.toml"]
    );
    let deployment = "generated/dev/api/deployment.yaml";
    assert_eq!(
        image_of(&p, deployment, "proxy"),
        "registry.example.com/acme/proxy:2.2.0"
    );
    assert_eq!(
        image_of(&p, deployment, "api"),
        "registry.example.com/acme/api:1.1.0"
    );
    assert_eq!(
        image_of(&p, deployment, "migrate"),
        "registry.example.com/acme/api:1.0.0"
    );
    assert_eq!(
        p.kgen(&["render", "--check"]).code,
        0,
        "generated/ is fresh"
    );

    // Again: nothing to do, nothing written.
    let before = snapshot(&p);
    let out = p.kgen(&[
        "bump-image",
        "api",
        "--container",
        "proxy",
        "--env",
        "dev",
        "--tag",
        "2.2.0",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "dev: api/proxy  already at 2.2.0, nothing to do\n"
    );
    assert_eq!(snapshot(&p), before);
}

#[test]
fn a_container_the_overlay_does_not_mention_gets_a_table_after_its_service() {
    let p = platform();
    let out = p.kgen(&[
        "bump-image",
        "api",
        "--container",
        "migrate",
        "--env",
        "dev",
        "--tag",
        "1.1.0",
        "--digest",
        DIGEST,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!(
            "dev: api/migrate  1.0.0 → 1.1.0@{DIGEST}\n\
             updated overlays/dev.toml; rendered dev into generated/: 0 added, 1 changed, 0 removed\n"
        )
    );
    assert_eq!(
        p.read("overlays/dev.toml"),
        format!(
            "# dev: CI bumps the tags here.

[services.api]
tag = \"1.1.0\"   # the api

[services.api.sidecars.proxy]
tag   =   '2.1.5'  # the proxy, pinned by hand

[services.api.init_containers.migrate]
tag = \"1.1.0\"
digest = \"{DIGEST}\"

[services.web]
replicas = 1
"
        )
    );
    assert_eq!(
        image_of(&p, "generated/dev/api/deployment.yaml", "migrate"),
        format!("registry.example.com/acme/api:1.1.0@{DIGEST}")
    );

    // Pinned to a digest now: a new tag alone is refused, and nothing is written.
    let before = snapshot(&p);
    let out = p.kgen(&[
        "bump-image",
        "api",
        "--container",
        "migrate",
        "--env",
        "dev",
        "--tag",
        "1.2.0",
    ]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!("kgen: error: `api/migrate` is pinned to digest {DIGEST} in dev; a new tag alone would keep deploying that digest. Pass the new image's --digest as well\n")
    );
    assert_eq!(snapshot(&p), before);
}

#[test]
fn an_unknown_container_is_refused_with_a_suggestion() {
    let p = platform();
    let before = snapshot(&p);
    let bump = |args: &[&str]| {
        let mut all = vec!["bump-image"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--env", "dev", "--tag", "9.9.9"]);
        p.kgen(&all)
    };

    let out = bump(&["api", "--container", "proxi"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "kgen: error: unknown container `proxi` in service `api` (did you mean `proxy`?); its sidecars and init containers in dev: proxy (sidecar), migrate (init container)\n"
    );
    let out = bump(&["web", "--container", "proxy"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "kgen: error: service `web` has no sidecars or init containers in dev; --container names one of them (`[services.web.sidecars.<name>]` or `[services.web.init_containers.<name>]`); to set the service's own image, leave --container out\n"
    );
    // An unknown service is checked first.
    let out = bump(&["apj", "--container", "proxy"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "kgen: error: unknown service `apj` (did you mean `api`?); platform.toml defines: api, web\n"
    );
    // --container needs a service, and does not go with --image.
    let out = p.kgen(&[
        "bump-image",
        "--container",
        "proxy",
        "--env",
        "dev",
        "--tag",
        "1",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = p.kgen(&[
        "bump-image",
        "--image",
        "acme/proxy:2.2.0",
        "--container",
        "proxy",
        "--env",
        "dev",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
    assert_eq!(snapshot(&p), before, "nothing written");
}

#[test]
fn the_edited_overlay_is_validated_before_anything_is_written() {
    // The overlay has a mistake elsewhere: the bump reports it, located, and writes nothing.
    let p = platform();
    let broken = DEV.replace("replicas = 1", "replicas = \"one\"");
    p.write("overlays/dev.toml", &broken);
    let before = snapshot(&p);
    let out = p.kgen(&[
        "bump-image",
        "api",
        "--container",
        "proxy",
        "--env",
        "dev",
        "--tag",
        "2.2.0",
    ]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("--> overlays/dev.toml:10:12"),
        "{}",
        out.stderr
    );
    assert_eq!(snapshot(&p), before);
    assert_eq!(p.read("overlays/dev.toml"), broken);
}

#[test]
fn image_matches_the_init_container_that_runs_the_services_image() {
    let p = platform();
    let before = snapshot(&p);
    let out = kgen_in_actions(
        &p,
        &[
            "bump-image",
            "--image",
            "registry.example.com/acme/api:1.2.0",
            "--env",
            "dev",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "dev: api          1.1.0 → 1.2.0\n\
         dev: api/migrate  1.0.0 → 1.2.0\n\
         updated overlays/dev.toml; rendered dev into generated/: 0 added, 5 changed, 0 removed\n"
    );
    assert_eq!(
        p.read("overlays/dev.toml"),
        "# dev: CI bumps the tags here.

[services.api]
tag = \"1.2.0\"   # the api

[services.api.sidecars.proxy]
tag   =   '2.1.5'  # the proxy, pinned by hand

[services.api.init_containers.migrate]
tag = \"1.2.0\"

[services.web]
replicas = 1
"
    );
    let files = changed_files(&before, &snapshot(&p));
    assert_eq!(
        files,
        [
            "generated/dev/api/configmap.yaml",
            "generated/dev/api/deployment.yaml",
            "generated/dev/api/pdb.yaml",
            "generated/dev/api/service.yaml",
            "generated/dev/api/serviceaccount.yaml",
            "overlays/dev.toml",
        ]
    );
    assert_eq!(
        p.read("gh-output"),
        format!(
            "changed=true\nprevious<<KGEN_EOF\napi=1.1.0\napi/migrate=1.0.0\nKGEN_EOF\n\
             current<<KGEN_EOF\napi=1.2.0\napi/migrate=1.2.0\nKGEN_EOF\n\
             files<<KGEN_EOF\n{}\nKGEN_EOF\ncommit=\n",
            files.join("\n")
        )
    );
    assert_eq!(
        p.read("gh-summary"),
        "### kgen bump-image: dev\n\n\
         | service / container | before | after |\n|---|---|---|\n\
         | `api` | `1.1.0` | **`1.2.0`** |\n\
         | `api/migrate` | `1.0.0` | **`1.2.0`** |\n\n\
         Changed 6 files.\n\n"
    );

    // The sidecar's repository matches the sidecar only; the error lists every image.
    let out = p.kgen(&["bump-image", "--image", "acme/proxy:2.2.0", "--env", "dev"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "dev: api/proxy  2.1.5 → 2.2.0\n\
         updated overlays/dev.toml; rendered dev into generated/: 0 added, 1 changed, 0 removed\n"
    );
    let out = p.kgen(&["bump-image", "--image", "acme/nope:1", "--env", "dev"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "kgen: error: no service in `dev` uses the image repository `registry.example.com/acme/nope`; the images are: registry.example.com/acme/api (api), registry.example.com/acme/proxy (api/proxy), registry.example.com/acme/api (api/migrate), registry.example.com/acme/web (web)\n"
    );
    // A misspelt image gets a "did you mean" (newcomer review 15, #11).
    let out = p.kgen(&["bump-image", "--image", "acme/apx:1", "--env", "dev"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with("kgen: error: no service in `dev` uses the image repository `registry.example.com/acme/apx` (did you mean `registry.example.com/acme/api`?); the images are: "),
        "{}",
        out.stderr
    );
}

/// `bump-image SERVICE --tag` moves the service's own container; an init container
/// running the same repository (a migration) stays, and a note says so, with the
/// command that moves both (migration review 27, F8).
#[test]
fn a_service_bump_names_the_init_container_it_leaves_behind() {
    let p = platform();
    let out = p.kgen(&["bump-image", "api", "--env", "dev", "--tag", "1.2.0"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "dev: api  1.1.0 → 1.2.0\n\
         updated overlays/dev.toml; rendered dev into generated/: 0 added, 5 changed, 0 removed\n"
    );
    // The render that follows warns too (KG218), at the tag that lags.
    assert_eq!(
        out.stderr,
        "warning[KG218]: init container `migrate` runs registry.example.com/acme/api at 1.0.0 but container `api` runs it at 1.2.0 in environment `dev`: one pod, two versions of one image (a migration ahead of or behind the code it migrates)
  --> platform.toml:31:7
   |
31 | tag = \"1.0.0\"
   |       ^^^^^^^ container `api` runs 1.2.0
   = in: generated/dev/api/deployment.yaml: spec.template.spec.initContainers[1].image
   = help: run one version in every container of the repository: `kgen bump-image --image registry.example.com/acme/api:1.2.0 --env dev` moves them all; or set `tag = \"1.2.0\"` in `[services.api.init_containers.migrate]` (at the line shown, or for dev alone in its overlay); if the skew is deliberate, waive it on the service with `waivers = [{ rule = \"KG218\", reason = \"...\" }]`

note: `api/migrate` runs the same image repository and stays at 1.0.0 in dev: a migration that runs the service's image should move with it; `kgen bump-image --image registry.example.com/acme/api:<tag> --env dev` moves every container of that repository\n"
    );
    // As the documented workflow runs it (`--format github`), the note is an
    // annotation of the run, not a line lost in its log (newcomer review 33, F1),
    // and so is the render's warning, on the line of the tag.
    let out = p.kgen(&[
        "bump-image",
        "api",
        "--env",
        "dev",
        "--tag",
        "1.2.1",
        "--format",
        "github",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "::warning file=platform.toml,line=31,col=7,title=kgen KG218::init container `migrate` runs registry.example.com/acme/api at 1.0.0 but container `api` runs it at 1.2.1 in environment `dev`: one pod, two versions of one image (a migration ahead of or behind the code it migrates)%0Acontainer `api` runs 1.2.1%0Ahelp: run one version in every container of the repository: `kgen bump-image --image registry.example.com/acme/api:1.2.1 --env dev` moves them all; or set `tag = \"1.2.1\"` in `[services.api.init_containers.migrate]` (at the line shown, or for dev alone in its overlay); if the skew is deliberate, waive it on the service with `waivers = [{ rule = \"KG218\", reason = \"...\" }]`
::warning title=kgen bump-image%3A api/migrate stays at 1.0.0 in dev::`api/migrate` runs the same image repository and stays at 1.0.0 in dev: a migration that runs the service's image should move with it; `kgen bump-image --image registry.example.com/acme/api:<tag> --env dev` moves every container of that repository\n"
    );
    // Moved with --image: nothing is left behind, no note.
    let out = p.kgen(&["bump-image", "--image", "acme/api:1.2.1", "--env", "dev"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
}

/// In `--format json`, `image` names the slot (`service` or `service/container`), as
/// everything bump-image prints does, and `repository` the image (docs/cli.md).
#[test]
fn json_names_each_image_by_its_slot_and_repository() {
    let p = platform();
    assert_eq!(
        p.kgen(&["bump-image", "api", "--env", "dev", "--tag", "1.2.0"])
            .code,
        0
    );
    let out = p.kgen(&[
        "bump-image",
        "--image",
        "acme/api:1.2.0",
        "--env",
        "dev",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["summary"]["changes"],
        serde_json::json!([{
            "image": "api/migrate",
            "service": "api",
            "repository": "registry.example.com/acme/api",
            "before": {"tag": "1.0.0", "digest": null},
            "after": {"tag": "1.2.0", "digest": null},
            "backwards": false,
        }])
    );
    assert_eq!(
        v["summary"]["unchanged"],
        serde_json::json!([{
            "image": "api",
            "repository": "registry.example.com/acme/api",
            "tag": "1.2.0",
            "digest": null,
        }])
    );
}

#[test]
fn github_outputs_summary_and_commit_name_the_container() {
    let p = platform();
    p.write(".gitignore", ".kgen.lock\ngh-output\ngh-summary\n");
    let repo = common::git::init(p.path());
    let sig = Signature::now("Test", "test@example.com").unwrap();
    common::git::commit_all(&repo, &sig, "initial");

    let out = kgen_in_actions(
        &p,
        &[
            "bump-image",
            "api",
            "--container",
            "proxy",
            "--env",
            "dev",
            "--tag",
            "2.2.0",
            "--commit",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        commit.message().unwrap(),
        "deploy(dev): api/proxy 2.1.5 → 2.2.0"
    );
    assert_eq!(commit.author().name().ok(), Some("Release Bot"));
    assert_eq!(
        out.stdout,
        format!(
            "dev: api/proxy  2.1.5 → 2.2.0\n\
             updated overlays/dev.toml; rendered dev into generated/: 0 added, 1 changed, 0 removed\n\
             committed {} (2 files)\n",
            &commit.id().to_string()[..12]
        )
    );
    // One image, but a container: the outputs say which one.
    assert_eq!(
        p.read("gh-output"),
        format!(
            "changed=true\nprevious=api/proxy=2.1.5\ncurrent=api/proxy=2.2.0\n\
             files<<KGEN_EOF\ngenerated/dev/api/deployment.yaml\noverlays/dev.toml\nKGEN_EOF\n\
             commit={}\n",
            commit.id()
        )
    );
    assert_eq!(
        p.read("gh-summary"),
        format!(
            "### kgen bump-image: dev\n\n\
             | service / container | before | after |\n|---|---|---|\n\
             | `api/proxy` | `2.1.5` | **`2.2.0`** |\n\n\
             Changed 2 files in commit `{}`.\n\n",
            &commit.id().to_string()[..12]
        )
    );

    // Nothing to do: changed=false, the container still named.
    std::fs::write(p.path().join("gh-output"), "").unwrap();
    let out = kgen_in_actions(
        &p,
        &[
            "bump-image",
            "api",
            "--container",
            "proxy",
            "--env",
            "dev",
            "--tag",
            "2.2.0",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        p.read("gh-output"),
        "changed=false\nprevious=api/proxy=2.2.0\ncurrent=api/proxy=2.2.0\nfiles=\ncommit=\n"
    );
}

#[test]
fn promote_copies_sidecar_and_init_container_images() {
    let p = platform();
    // prod pins the proxy's digest, which dev does not have: it is removed.
    p.write(
        "overlays/prod.toml",
        &format!(
            "# prod: synced by hand.

[services.api.sidecars.proxy]
tag = \"2.0.0\"
digest = \"{DIGEST}\"   # pinned
"
        ),
    );
    assert_eq!(p.kgen(&["render"]).code, 0);
    let out = p.kgen(&["promote", "--from", "dev", "--to", "prod"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!(
            "promote dev → prod\n  \
             api          1.0.0 → 1.1.0\n  \
             api/proxy    2.0.0@{DIGEST} → 2.1.5\n  \
             api/migrate  1.0.0 (already equal)\n  \
             web          3.0.0 (already equal)\n\
             updated overlays/prod.toml; rendered prod into generated/: 0 added, 5 changed, 0 removed\n"
        )
    );
    assert_eq!(
        p.read("overlays/prod.toml"),
        "# prod: synced by hand.

[services.api]
tag = \"1.1.0\"

[services.api.sidecars.proxy]
tag = \"2.1.5\"
"
    );
    let deployment = "generated/prod/api/deployment.yaml";
    assert_eq!(
        image_of(&p, deployment, "proxy"),
        "registry.example.com/acme/proxy:2.1.5"
    );
    assert_eq!(
        image_of(&p, deployment, "api"),
        "registry.example.com/acme/api:1.1.0"
    );
    assert_eq!(p.kgen(&["render", "--check"]).code, 0);

    // Again: prod runs what dev runs.
    let out = p.kgen(&["promote", "--from", "dev", "--to", "prod", "api"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "promote dev → prod\n  \
         api          1.1.0 (already equal)\n  \
         api/proxy    2.1.5 (already equal)\n  \
         api/migrate  1.0.0 (already equal)\n\
         prod already runs what dev runs: nothing to do\n"
    );
}

/// The overlay edit's invariants (parses, means exactly the old document with that
/// one value changed, keeps every comment, reads back) for container edits of every
/// form: tables, dotted keys, inline tables, missing tables, CRLF.
#[test]
fn container_edits_keep_the_overlay_edit_invariants() {
    let texts = [
        "",
        "# only a comment\n",
        "[services.api]\ntag = \"1\"\n",
        "[services.api]\ntag = \"1\"\n\n[services.web]\ntag = \"2\"\n",
        "[services.api.sidecars.proxy]\nimage = \"envoy\" # pinned\ntag = '1'\n",
        "[services.api]\nsidecars.proxy.tag = \"1\"\nsidecars.proxy.digest = \"sha256:1\"\n",
        "services.api.tag = \"1\"\nservices.api.sidecars.proxy.tag = \"1\"\n",
        "[services]\napi = { tag = \"1\", sidecars = { proxy = { tag = \"1\" } } }\n",
        "[services]\napi = { tag = \"1\" }\n",
        "[services.api.init_containers.migrate.resources]\nlimits = { cpu = \"1\" }\n",
        "[services.api]\r\ntag = \"1\"\r\n# next\r\n[services.web]\r\ntag = \"2\"\r\n",
        "[services.api]\ninit_containers = { migrate = { tag = \"1\", digest = \"sha256:1\" } }\n",
    ];
    let containers = [
        ContainerRef::new(ContainerList::Sidecars, "proxy"),
        ContainerRef::new(ContainerList::InitContainers, "migrate"),
    ];
    let mut applied = 0;
    for text in texts {
        for c in &containers {
            for field in [Field::Tag, Field::Digest] {
                for edit in [
                    Edit::set("api", field, "2.0"),
                    Edit::remove("api", field),
                    Edit::set("new", field, "2.0"),
                ] {
                    let edit = edit.in_container(Some(c.clone()));
                    fuzz::check_edit(text, &edit);
                    applied += usize::from(
                        kgen::overlay_edit::apply(text, std::slice::from_ref(&edit))
                            .is_ok_and(|e| e.changed()),
                    );
                }
            }
        }
    }
    assert!(applied > 40, "only {applied} edits changed something");
    // The fuzz target reaches container edits too (bit 7 of the control byte).
    let mut input = vec![0x80u8];
    input.extend_from_slice(b"2.0\n[services.api]\ntag = \"1\"\n");
    fuzz::check_overlay_edit(&input);
}
