//! `kgen promote`: copying image tags and digests between environments with the
//! guarantees of `bump-image` (format kept, validated, atomic, rolled back, committed).

mod common;
#[path = "fixtures/bump/support.rs"]
mod support;

use kgen::ops::promote::{self, PromoteOptions};
use support::*;

fn opts(from: &str, to: &str, services: &[&str]) -> PromoteOptions {
    PromoteOptions {
        from: from.into(),
        to: to.into(),
        services: services.iter().map(|s| s.to_string()).collect(),
        render: true,
        commit: false,
    }
}

/// staging runs main-api 1.4.0 (prod has 1.3.2); aux-service is equal.
fn staged() -> Checkout {
    let c = Checkout::new();
    c.write("overlays/staging.toml", &STAGING.replace("1.3.2", "1.4.0"));
    c.render();
    c
}

#[test]
fn promote_copies_what_differs_and_says_what_is_equal() {
    let c = staged();
    let before = c.snapshot();
    let out = c.run(&["promote", "--from", "staging", "--to", "prod"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "promote staging → prod\n  main-api     1.3.2 → 1.4.0\n  aux-service  2.0.5 (already equal)\n\
         updated overlays/prod.toml; rendered prod into generated/: 0 added, 5 changed, 0 removed\n"
            .replace("0 added, 5 changed", &{
                // The number of files follows the renderers; read it from the disk.
                let n = changed_files(&before, &c.snapshot()).len() - 1;
                format!("0 added, {n} changed")
            })
    );
    // Only the value's bytes changed; the comment after it stays.
    assert_only_value_changed(
        PROD,
        &c.read("overlays/prod.toml"),
        "\"1.3.2\"",
        "\"1.4.0\"",
    );
    assert!(c
        .read("overlays/prod.toml")
        .contains("tag = \"1.4.0\"   # promoted from staging"));
    assert!(c.is_fresh());
    let changed = changed_files(&before, &c.snapshot());
    assert!(
        changed
            .iter()
            .all(|f| f == "overlays/prod.toml" || f.starts_with("generated/prod/main-api/")),
        "{changed:?}"
    );
}

/// Promoting the wrong way moves the target to older versions: each such line says
/// so, and a note says what to do (newcomer review 14).
#[test]
fn promote_says_when_a_version_moves_backwards() {
    let wrong_way = [
        "promote",
        "--from",
        "prod",
        "--to",
        "staging",
        "--no-render",
    ];
    let out = staged().run(&wrong_way);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "promote prod → staging\n  main-api     1.4.0 → 1.3.2  (moves backwards)\n  aux-service  2.0.5 (already equal)\n\
         updated overlays/staging.toml (not rendered: run `kgen render` before committing)\n"
    );
    // The note is a diagnostic: stderr (docs/cli.md#output-streams).
    assert_eq!(
        stderr(&out),
        "note: 1 of these moves staging to an older version than it runs: promote the other way, or name only the services meant (`kgen diff` shows it as the risk image-downgrade)\n"
    );
    // In JSON too, for CI.
    let out = staged().run(&[&wrong_way[..], &["--format", "json"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["summary"]["changes"][0]["image"], "main-api");
    assert_eq!(v["summary"]["changes"][0]["backwards"], true);
}

#[test]
fn promote_only_the_named_services_and_skip_those_without_an_image_version() {
    let c = Checkout::new();
    let out = c.run(&["promote", "--from", "dev", "--to", "staging", "main-api"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        c.read("overlays/staging.toml"),
        STAGING.replacen("1.3.2", "1.4.0", 1)
    );

    // dev without an aux-service tag: nothing to copy, so it is skipped.
    c.write(
        "overlays/dev.toml",
        "[services.main-api]\ntag = \"1.4.0\"\n",
    );
    let p = promote::promote(&c.platform(), &opts("dev", "staging", &[]), |_| {}).unwrap();
    assert_eq!(
        p.skipped,
        [(
            "aux-service".to_string(),
            "no tag or digest in dev".to_string()
        )]
    );
    assert!(!p.update.changed());
    assert!(
        p.report()
            .contains("staging already runs what dev runs: nothing to do"),
        "{}",
        p.report()
    );
}

#[test]
fn promote_copies_digests_and_removes_a_pin_the_source_does_not_have() {
    let c = Checkout::new();
    c.write(
        "overlays/dev.toml",
        &DEV.replace(
            "tag = \"1.4.0\"",
            &format!("tag = \"1.4.0\"\ndigest = \"{DIGEST_A}\""),
        ),
    );
    promote::promote(
        &c.platform(),
        &opts("dev", "staging", &["main-api"]),
        |_| {},
    )
    .unwrap();
    let pinned = STAGING.replacen(
        "tag = \"1.3.2\"",
        &format!("tag = \"1.4.0\"\ndigest = \"{DIGEST_A}\""),
        1,
    );
    assert_eq!(c.read("overlays/staging.toml"), pinned);
    assert!(c
        .read("generated/staging/main-api/deployment.yaml")
        .contains(&format!(":1.4.0@{DIGEST_A}")));

    // dev moves on to a tag without a digest: promoting must drop staging's pin,
    // or staging would keep running the old digest.
    c.write("overlays/dev.toml", &DEV.replace("1.4.0", "1.5.0"));
    let p = promote::promote(
        &c.platform(),
        &opts("dev", "staging", &["main-api"]),
        |_| {},
    )
    .unwrap();
    assert_eq!(p.update.changes[0].after.to_string(), "1.5.0");
    assert_eq!(
        c.read("overlays/staging.toml"),
        STAGING.replacen("1.3.2", "1.5.0", 1)
    );
    assert!(c.is_fresh_env("staging"));
}

#[test]
fn promote_when_everything_is_equal_writes_nothing() {
    let c = Checkout::new();
    let before = c.snapshot();
    let out = c.run(&["promote", "--from", "staging", "--to", "prod"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "promote staging → prod\n  aux-service  2.0.5 (already equal)\n  main-api     1.3.2 (already equal)\nprod already runs what staging runs: nothing to do\n"
    );
    assert_eq!(c.snapshot(), before);
}

#[test]
fn promote_usage_errors() {
    let c = Checkout::new();
    let before = c.snapshot();
    for args in [
        &["promote", "--from", "dev", "--to", "dev"][..],
        &["promote", "--from", "dve", "--to", "prod"],
        &["promote", "--from", "dev", "--to", "prod", "nope"],
    ] {
        let out = c.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).starts_with("kgen: error: "),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(c.snapshot(), before);
}

#[cfg(unix)]
#[test]
fn promote_rolls_back_every_file_when_writing_generated_fails() {
    let c = Checkout::new();
    // Both services move; aux-service's files are written before main-api's, which fail.
    c.write(
        "overlays/staging.toml",
        &STAGING.replace("1.3.2", "1.4.0").replace("2.0.5", "2.1.0"),
    );
    c.render();
    let real = c.path("elsewhere");
    std::fs::rename(c.path("generated/prod/main-api"), &real).unwrap();
    std::os::unix::fs::symlink(&real, c.path("generated/prod/main-api")).unwrap();
    let before = c.snapshot();
    let err = promote::promote(&c.platform(), &opts("staging", "prod", &[]), |_| {}).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(
        c.snapshot(),
        before,
        "overlay and generated/prod/aux-service are restored"
    );
}

#[test]
fn promote_commit_and_outputs() {
    let c = staged();
    c.write(
        "overlays/staging.toml",
        &STAGING.replace("1.3.2", "1.4.0").replace("2.0.5", "2.1.0"),
    );
    c.render();
    let repo = c.git_init();
    let before = c.snapshot();
    let outputs = c.path(".git/gh-output");
    let out = c
        .kgen(&["promote", "--from", "staging", "--to", "prod", "--commit"])
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        commit.message().unwrap(),
        "deploy(prod): aux-service 2.1.0, main-api 1.4.0\n\n- aux-service: 2.0.5 → 2.1.0\n- main-api: 1.3.2 → 1.4.0\n\nPromoted from staging with `kgen promote`.\n"
    );
    let changed = changed_files(&before, &c.snapshot());
    assert_eq!(commit_paths(&repo, &commit), changed);
    let gh = std::fs::read_to_string(&outputs).unwrap();
    assert!(
        gh.starts_with("changed=true\nprevious<<KGEN_EOF\naux-service=2.0.5\nmain-api=1.3.2\nKGEN_EOF\ncurrent<<KGEN_EOF\naux-service=2.1.0\nmain-api=1.4.0\nKGEN_EOF\n"),
        "{gh}"
    );
    assert!(gh.ends_with(&format!("commit={}\n", commit.id())), "{gh}");
}

#[test]
fn promote_single_service_commit_message() {
    let c = staged();
    let repo = c.git_init();
    let out = c.run(&[
        "promote", "--from", "staging", "--to", "prod", "main-api", "--commit",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        commit.message().unwrap(),
        "deploy(prod): main-api 1.3.2 → 1.4.0\n\nPromoted from staging with `kgen promote`.\n"
    );
}
