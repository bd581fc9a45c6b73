//! Writes are atomic and contained: a render killed at any moment leaves every file
//! either as it was or as the new render wants it (never truncated), its temporary
//! files are removed by the next run, a read-only or unwritable `generated/` is a
//! clear error (exit 3), and files kgen did not write are never removed or
//! overwritten.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Platform, MINIMAL, MINIMAL_WARNINGS};

/// Every file under `dir` (not following links): relative path → bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::snapshot(dir, &[])
}

/// A small deterministic generator for the kill delays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[cfg(unix)]
#[test]
fn a_killed_render_leaves_every_file_old_or_new() {
    let (p, versions) = common::synthetic(150);
    // The two complete trees, and how long a render takes.
    let mut trees = Vec::new();
    let mut took = Duration::ZERO;
    for v in &versions {
        common::set_files(&p, v);
        let start = Instant::now();
        let out = p.kgen(&["render"]);
        took = took.max(start.elapsed());
        assert_eq!(out.code, 0, "{}", out.stderr);
        trees.push(snapshot(&p.path().join("generated")));
    }
    assert_eq!(trees[0].len(), trees[1].len());
    assert!(trees[0].len() > 1000, "{} files", trees[0].len());
    let differing = trees[0].iter().filter(|(k, v)| trees[1][*k] != **v).count();
    assert!(
        differing > 400,
        "only {differing} files differ between the versions"
    );

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Rng(seed | 1);
    let mut killed_midway = 0;
    for round in 0..12 {
        let version = (round % 2) as usize;
        common::set_files(&p, &versions[version]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_kgen"))
            .arg("render")
            .current_dir(p.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = Duration::from_millis(rng.below(took.as_millis() as u64 + 1));
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_midway += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        let now = snapshot(&p.path().join("generated"));
        for (rel, bytes) in &now {
            if common::is_temp(rel) {
                continue;
            }
            let old = trees[0].get(rel);
            let new = trees[1].get(rel);
            assert!(
                old == Some(bytes) || new == Some(bytes),
                "round {round} (seed {seed}, killed after {delay:?}): {rel} is neither version ({} bytes)",
                bytes.len()
            );
        }
        for rel in trees[0].keys() {
            assert!(now.contains_key(rel), "round {round}: {rel} disappeared");
        }
    }
    assert!(
        killed_midway > 0,
        "no render was killed before it finished (seed {seed})"
    );

    // The next complete run leaves the new tree and no temporary file.
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let last = snapshot(&p.path().join("generated"));
    assert!(
        !last.keys().any(|k| common::is_temp(k)),
        "temporary files left behind"
    );
    assert_eq!(last, trees[1]);
    assert_eq!(p.kgen(&["render", "--check"]).code, 0);
}

#[cfg(unix)]
#[test]
fn temporary_files_of_a_dead_process_are_removed_on_the_next_run() {
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render"]).code, 0);
    // A pid that does not run (pid_max is at most 2^22 on Linux).
    let stale = format!(
        "generated/dev/api/{}4194305-abc{}",
        kgen::write::TEMP_PREFIX,
        kgen::write::TEMP_SUFFIX
    );
    let foreign = "generated/dev/api/.kgen-notes.tmp";
    p.write(&stale, "half a fi");
    p.write(foreign, "not kgen's");
    // `render --check` lists the abandoned one (`git add -A` would commit it) as extra.
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!(
            "extra:   {stale}\n\
             generated/ is out of date: 0 stale, 0 missing, 1 extra; run `kgen render` and commit the result\n"
        )
    );
    assert_eq!(p.kgen(&["render"]).code, 0);
    assert_eq!(p.kgen(&["render", "--check"]).code, 0);
    assert!(
        !p.exists(&stale),
        "the abandoned temporary file is still there"
    );
    assert!(
        p.exists(foreign),
        "a file that only looks like kgen's was removed"
    );
}

/// Runs kgen so that the file system's permissions apply (root ignores them: then
/// run as `nobody`, with setpriv, if that is possible).
fn kgen_unprivileged(p: &Platform, args: &[&str]) -> Option<common::Output> {
    let is_root = Command::new("id").arg("-u").output().ok()?.stdout == b"0\n";
    let mut cmd = if is_root {
        let ok = Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return None;
        }
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_kgen"),
        ]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_kgen"))
    };
    let out = cmd
        .args(args)
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    Some(common::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(unix)]
fn chmod_tree(dir: &Path, dirs: u32, files: u32) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if dir.is_dir() { dirs } else { files };
    if dir.is_dir() {
        for e in std::fs::read_dir(dir).unwrap() {
            chmod_tree(&e.unwrap().path(), dirs, files);
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn a_read_only_generated_directory_is_a_clear_error() {
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render"]).code, 0);
    let before = snapshot(&p.path().join("generated"));
    p.write("platform.toml", &MINIMAL.replace("1.0.0", "1.0.1"));
    chmod_tree(p.path(), 0o755, 0o644);
    chmod_tree(&p.path().join("generated"), 0o555, 0o444);
    let Some(out) = kgen_unprivileged(&p, &["render"]) else {
        eprintln!("skipped: running as root without setpriv, permissions cannot be tested");
        chmod_tree(&p.path().join("generated"), 0o755, 0o644);
        return;
    };
    chmod_tree(&p.path().join("generated"), 0o755, 0o644);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .starts_with("kgen: error: cannot create a temporary file in ")
            && out.stderr.contains("generated/dev/api")
            && out.stderr.contains("Permission denied"),
        "{}",
        out.stderr
    );
    assert_eq!(
        snapshot(&p.path().join("generated")),
        before,
        "a file changed"
    );
}

#[cfg(unix)]
#[test]
fn a_missing_generated_directory_that_cannot_be_created_is_a_clear_error() {
    let p = Platform::new(MINIMAL, &[]);
    chmod_tree(p.path(), 0o555, 0o444);
    let out = kgen_unprivileged(&p, &["render"]);
    chmod_tree(p.path(), 0o755, 0o644);
    let Some(out) = out else {
        eprintln!("skipped: running as root without setpriv, permissions cannot be tested");
        return;
    };
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .starts_with("kgen: error: cannot create directory ")
            && out.stderr.contains("Permission denied"),
        "{}",
        out.stderr
    );
    assert!(!p.exists("generated"));
}

#[test]
fn a_missing_generated_directory_is_created() {
    let p = Platform::new(MINIMAL, &[]);
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!p.exists("generated"), "--check wrote something");
    assert_eq!(p.kgen(&["render"]).code, 0);
    assert!(p.exists("generated/dev/api/deployment.yaml"));
}

#[test]
fn files_kgen_did_not_write_are_never_removed_or_overwritten() {
    let p = Platform::new(
        &format!("{MINIMAL}\n[services.web]\nimage = \"acme/web\"\ntag = \"1.0.0\"\n"),
        &[],
    );
    assert_eq!(p.kgen(&["render"]).code, 0);
    // Files without kgen's header, next to directories kgen owns (a manifest in a
    // directory an Application deploys is refused: see below).
    let foreign = [
        ("generated/dev/notes.yaml", "owner: me\n"),
        ("generated/dev/web/custom.yaml", "kind: ConfigMap\n"),
        ("generated/README.md", "hand-written\n"),
        ("generated/dev/api/.keep", ""),
    ];
    for (rel, text) in foreign {
        p.write(rel, text);
    }
    // Removing a service removes its generated files, and only those.
    p.write("platform.toml", MINIMAL);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!p.exists("generated/dev/web/deployment.yaml"));
    for (rel, text) in foreign {
        assert_eq!(p.read(rel), text, "{rel} was touched");
    }
    // A manifest kgen did not write, in a directory Argo CD deploys, stops the render
    // (KG307): Argo CD would apply it unchecked. --check lists it; nothing is touched.
    p.write("generated/dev/api/notes.yaml", "owner: me\n");
    let before = p.generated();
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        MINIMAL_WARNINGS.to_string()
            + r#"error[KG307]: generated/dev/api/notes.yaml was not written by kgen, but Argo CD deploys every manifest in its directory: it would reach the cluster without kgen's checks
 --> generated/dev/api/notes.yaml:1:1
  |
1 | owner: me
  | ^^^^^^^^^
  = help: to keep it, move it to `manifests/dev/api/notes.yaml`: kgen then validates it and writes it here with a header (docs/escape-hatch.md); or delete it. kgen will not remove a file it did not write

error: 1 error and 2 warnings; nothing was written
"#
    );
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "foreign: generated/dev/api/notes.yaml (not written by kgen, in a directory Argo CD deploys)\n\
         generated/ is out of date: 0 stale, 0 missing, 0 extra, 1 foreign (move hand-written files out of generated/ first); run `kgen render` and commit the result\n"
    );
    assert_eq!(p.generated(), before, "nothing may be touched");
    std::fs::remove_file(p.path().join("generated/dev/api/notes.yaml")).unwrap();
    // A file kgen would write, but that it did not write, stops the render.
    let path = "generated/dev/api/deployment.yaml";
    p.write(path, "my own deployment\n");
    p.write("platform.toml", &MINIMAL.replace("1.0.0", "1.0.2"));
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("was not written by kgen"),
        "{}",
        out.stderr
    );
    assert_eq!(p.read(path), "my own deployment\n");
}

/// A symbolic link in `generated/` is foreign as a hand-written file is (KG307), and
/// more: kgen writes none, and Argo CD follows a link to a file in the repository
/// (and applies what it points to), so any link there is refused, whatever its
/// name or target. It is never read, followed or removed.
#[cfg(unix)]
#[test]
fn a_symbolic_link_in_generated_is_foreign_and_never_followed() {
    use std::os::unix::fs::symlink;
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render"]).code, 0);
    let before = snapshot(&p.path().join("generated"));
    let crb = "kind: ClusterRoleBinding\nmetadata: {name: pwn}\n";
    p.write("unreviewed/crb.yaml", crb);
    // A link to a manifest of the repository, in a directory an Application deploys.
    symlink(
        "../../../unreviewed/crb.yaml",
        p.path().join("generated/dev/api/crb.yaml"),
    )
    .unwrap();
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "foreign: generated/dev/api/crb.yaml (a symbolic link: kgen writes none in generated/, and Argo CD follows links)\n\
         generated/ is out of date: 0 stale, 0 missing, 0 extra, 1 foreign (move hand-written files out of generated/ first); run `kgen render` and commit the result\n"
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stderr,
        "error[KG307]: generated/dev/api/crb.yaml is a symbolic link: kgen writes none in generated/, and Argo CD follows links, so what it points to would reach the cluster without kgen's checks
  = help: delete the link (kgen will not remove what it did not write); to deploy a hand-written manifest, put the file itself at `manifests/dev/api/crb.yaml`: kgen then validates it and writes it here with a header (docs/escape-hatch.md)

"
        .to_string()
            + MINIMAL_WARNINGS
            + "error: 1 error and 2 warnings; nothing was written\n"
    );
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("error[KG307]: generated/dev/api/crb.yaml is a symbolic link"),
        "{}",
        out.stderr
    );
    // Absolute, dangling, to a directory, under any name, in any directory of
    // generated/ (values/ too): each is listed, none is followed.
    std::fs::remove_file(p.path().join("generated/dev/api/crb.yaml")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.yaml"), crb).unwrap();
    let links = [
        ("generated/dev/api/abs.yml", outside.path().join("x.yaml")),
        ("generated/dev/api/gone.json", "nowhere.json".into()),
        ("generated/dev/api/notes", outside.path().join("x.yaml")),
        ("generated/dev/sub", outside.path().to_path_buf()),
        ("generated/values.yaml", "dev/api/deployment.yaml".into()),
    ];
    for (rel, target) in &links {
        symlink(target, p.path().join(rel)).unwrap();
    }
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let why = "(a symbolic link: kgen writes none in generated/, and Argo CD follows links)";
    assert_eq!(
        out.stdout,
        format!(
            "foreign: generated/dev/api/abs.yml {why}\n\
             foreign: generated/dev/api/gone.json {why}\n\
             foreign: generated/dev/api/notes {why}\n\
             foreign: generated/dev/sub {why}\n\
             foreign: generated/values.yaml {why}\n\
             generated/ is out of date: 0 stale, 0 missing, 0 extra, 5 foreign (move hand-written files out of generated/ first); run `kgen render` and commit the result\n"
        )
    );
    assert_eq!(p.kgen(&["render"]).code, 2);
    for (rel, target) in &links {
        assert_eq!(&std::fs::read_link(p.path().join(rel)).unwrap(), target);
    }
    assert_eq!(
        std::fs::read_to_string(outside.path().join("x.yaml")).unwrap(),
        crb
    );
    for (rel, _) in &links {
        std::fs::remove_file(p.path().join(rel)).unwrap();
    }
    assert_eq!(snapshot(&p.path().join("generated")), before);
    assert_eq!(p.kgen(&["render", "--check"]).code, 0);
}

/// A first render killed while it fills a new directory, or stopped by a full disk,
/// leaves files empty or cut short, before or inside kgen's header: the next render
/// takes them as its own and replaces them (`render --check` lists them as stale
/// until then), rather than refusing them as hand-written.
#[test]
fn files_a_killed_first_render_left_empty_or_cut_short_are_replaced() {
    let p = Platform::new(MINIMAL, &[]);
    assert_eq!(p.kgen(&["render"]).code, 0);
    let whole = snapshot(&p.path().join("generated"));
    p.write("generated/dev/api/deployment.yaml", "");
    p.write("generated/dev/api/service.yaml", "# Generated by k");
    p.write(
        "generated/dev/api/serviceaccount.yaml",
        "# Generated by kgen from platf",
    );
    // A file of a service the inputs no longer have, cut short: extra, removed.
    p.write("generated/dev/gone/deployment.yaml", "");
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "stale:   generated/dev/api/deployment.yaml\n\
         stale:   generated/dev/api/service.yaml\n\
         stale:   generated/dev/api/serviceaccount.yaml\n\
         extra:   generated/dev/gone/deployment.yaml\n\
         generated/ is out of date: 3 stale, 0 missing, 1 extra; run `kgen render` and commit the result\n"
    );
    let out = p.kgen(&["render", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(snapshot(&p.path().join("generated")), whole);
    // Anything else without kgen's header is still not kgen's to overwrite.
    p.write("generated/dev/api/service.yaml", "# Generated by hand\n");
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "kgen: error: generated/dev/api/service.yaml exists and was not written by kgen (it has no kgen header); kgen will not overwrite it. Move it out of generated, or delete it\n"
    );
}

/// A file where kgen must create a directory (a service's, an environment's) is
/// found before anything is written, as a directory where a file goes is: the
/// render stops with exit 3 and changes nothing, and `render --check` reports the
/// same obstruction (exit 3) instead of files to render.
#[test]
fn a_file_where_a_directory_goes_stops_the_render_before_any_write() {
    let two_envs = MINIMAL.replace(
        "[environments.dev]\nsync = \"auto\"\n",
        "[environments.dev]\nsync = \"auto\"\n\n[environments.staging]\nsync = \"auto\"\ncluster = \"https://staging.example.com\"\n",
    );
    let p = Platform::new(&two_envs, &[]);
    assert_eq!(p.kgen(&["render", "-q"]).code, 0);
    std::fs::remove_dir_all(p.path().join("generated/staging/api")).unwrap();
    p.write("generated/staging/api", "x\n");
    // Every environment changes: dev sorts first, and must not be written either.
    p.write("platform.toml", &two_envs.replace("1.0.0", "1.0.1"));
    let before = snapshot(&p.path().join("generated"));
    let error = "kgen: error: cannot create directory generated/staging/api: a file is in the way. Move it out of generated, or delete it\n";
    for args in [&["render"][..], &["render", "--check"], &["validate"]] {
        let out = p.kgen(args);
        assert_eq!(out.code, 3, "{args:?}: {}{}", out.stdout, out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(out.stderr.ends_with(error), "{args:?}: {}", out.stderr);
        assert_eq!(snapshot(&p.path().join("generated")), before, "{args:?}");
    }
    // The same for an environment's directory, and for a render of one environment.
    std::fs::remove_file(p.path().join("generated/staging/api")).unwrap();
    std::fs::remove_dir_all(p.path().join("generated/staging")).unwrap();
    p.write("generated/staging", "x\n");
    let before = snapshot(&p.path().join("generated"));
    let error = "kgen: error: cannot create directory generated/staging: a file is in the way. Move it out of generated, or delete it\n";
    for args in [
        &["render"][..],
        &["render", "--check"],
        &["render", "--env", "staging"],
    ] {
        let out = p.kgen(args);
        assert_eq!(out.code, 3, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.ends_with(error), "{args:?}: {}", out.stderr);
        assert_eq!(snapshot(&p.path().join("generated")), before, "{args:?}");
    }
    std::fs::remove_file(p.path().join("generated/staging")).unwrap();
    assert_eq!(p.kgen(&["render", "-q"]).code, 0);
    assert_eq!(p.kgen(&["render", "--check"]).code, 0);
}

/// A failure of the file system in the middle of writing (here a read-only
/// directory of one environment) cannot be undone: the error says that
/// `generated/` is partly updated, and how many files were written before it.
#[cfg(unix)]
#[test]
fn a_write_that_fails_midway_says_the_tree_is_partly_updated() {
    let two_envs = MINIMAL.replace(
        "[environments.dev]\nsync = \"auto\"\n",
        "[environments.dev]\nsync = \"auto\"\n\n[environments.staging]\nsync = \"auto\"\ncluster = \"https://staging.example.com\"\n",
    );
    let p = Platform::new(&two_envs, &[]);
    assert_eq!(p.kgen(&["render", "-q"]).code, 0);
    p.write("platform.toml", &two_envs.replace("1.0.0", "1.0.1"));
    // Writable by whoever runs kgen (`nobody` when the tests run as root), but one
    // directory of staging.
    chmod_tree(p.path(), 0o777, 0o666);
    chmod_tree(&p.path().join("generated/staging/api"), 0o555, 0o444);
    let out = kgen_unprivileged(&p, &["render", "-q"]);
    chmod_tree(p.path(), 0o755, 0o644);
    let Some(out) = out else {
        eprintln!("skipped: running as root without setpriv, permissions cannot be tested");
        return;
    };
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    // dev's files (written first or alongside) are new, staging's old.
    let written = p
        .generated()
        .iter()
        .filter(|(rel, text)| rel.starts_with("dev/") && text.contains("1.0.1"))
        .count();
    let stderr = out.stderr.lines().last().unwrap_or("");
    // The environments are written in parallel: when staging fails before any of dev's
    // files is written, nothing changed, and the error says only what failed.
    if written == 0 && !stderr.contains("partly updated") {
        assert_eq!(
            stderr,
            "kgen: error: cannot create a temporary file in ./generated/staging/api: Permission denied (os error 13)"
        );
        assert_eq!(p.kgen(&["render", "-q"]).code, 0);
        assert_eq!(p.kgen(&["render", "--check"]).code, 0);
        return;
    }
    assert!(written > 0, "{}", out.stderr);
    assert!(
        stderr.starts_with("kgen: error: cannot create a temporary file in ")
            && stderr.contains("generated/staging/api: Permission denied (os error 13); generated/ is partly updated: ")
            && stderr.ends_with(" already written or removed before this error (a failing file system cannot be undone). Fix the cause and run `kgen render` again; `kgen render --check` lists what is still out of date"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("partly updated: {written} file")),
        "{written} written: {stderr}"
    );
    assert_eq!(p.kgen(&["render", "-q"]).code, 0);
    assert_eq!(p.kgen(&["render", "--check"]).code, 0);
}
