//! `kgen bump-image`: golden overlay edits (only the value's bytes change),
//! idempotence, rollback, digests, `--image`, `--commit`, GitHub Actions outputs,
//! and concurrent bumps.

mod common;
#[path = "fixtures/bump/support.rs"]
mod support;

use kgen::ops::bump_image::{self, BumpOptions, Target};
use kgen::Error;
use support::*;

fn opts(service: &str, tag: Option<&str>, digest: Option<&str>) -> BumpOptions {
    BumpOptions {
        env: "dev".into(),
        target: Target::Service(service.into()),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
        render: true,
        commit: false,
    }
}

/// Runs one golden case: `before.toml` as overlays/dev.toml, bump, compare with `after.toml`.
fn golden(case: &str, o: &BumpOptions) -> Checkout {
    let c = Checkout::new();
    let before = fixture(case, "before.toml");
    c.write("overlays/dev.toml", &before);
    let update = bump_image::bump_image(&c.platform(), o, |_| {}).unwrap();
    assert!(update.changed());
    assert_eq!(
        c.read("overlays/dev.toml"),
        fixture(case, "after.toml"),
        "case {case}"
    );
    assert!(c.is_fresh(), "generated/ follows the new overlay");
    c
}

#[test]
fn golden_comments_are_kept() {
    golden("comments", &opts("main-api", Some("1.4.1"), None));
    assert_only_value_changed(
        &fixture("comments", "before.toml"),
        &fixture("comments", "after.toml"),
        "\"1.4.0\"",
        "\"1.4.1\"",
    );
}

#[test]
fn golden_blank_lines_are_kept() {
    golden("blank_lines", &opts("main-api", Some("1.4.1"), None));
    assert_only_value_changed(
        &fixture("blank_lines", "before.toml"),
        &fixture("blank_lines", "after.toml"),
        "1.4.0",
        "1.4.1",
    );
}

#[test]
fn golden_odd_spacing_and_literal_quotes_are_kept() {
    golden("odd_spacing", &opts("main-api", Some("1.4.1"), None));
    assert_only_value_changed(
        &fixture("odd_spacing", "before.toml"),
        &fixture("odd_spacing", "after.toml"),
        "'1.4.0'",
        "'1.4.1'",
    );
}

#[test]
fn golden_dotted_keys() {
    golden("dotted", &opts("main-api", Some("1.4.1"), None));
    assert_only_value_changed(
        &fixture("dotted", "before.toml"),
        &fixture("dotted", "after.toml"),
        "1.4.0",
        "1.4.1",
    );
}

#[test]
fn golden_dotted_keys_get_a_dotted_digest_line() {
    golden(
        "dotted_digest",
        &opts("aux-service", Some("2.2.0"), Some(DIGEST_A)),
    );
}

#[test]
fn golden_inline_table() {
    golden("inline", &opts("main-api", Some("1.4.1"), None));
    assert_only_value_changed(
        &fixture("inline", "before.toml"),
        &fixture("inline", "after.toml"),
        "1.4.0",
        "1.4.1",
    );
}

#[test]
fn golden_inline_table_gets_the_digest_after_the_tag() {
    golden(
        "inline_digest",
        &opts("aux-service", Some("2.2.0"), Some(DIGEST_A)),
    );
}

#[test]
fn golden_missing_service_entry_is_added_after_the_last_service() {
    golden("missing_service", &opts("main-api", Some("1.4.1"), None));
}

#[test]
fn golden_missing_key_is_added_at_the_end_of_the_table() {
    golden("missing_key", &opts("main-api", Some("1.4.1"), None));
}

#[test]
fn golden_tag_and_digest_keep_the_quoting_style() {
    let c = golden(
        "digest_and_tag",
        &opts("main-api", Some("1.4.1"), Some(DIGEST_A)),
    );
    let deployment = c.read("generated/dev/main-api/deployment.yaml");
    assert!(
        deployment.contains(&format!("kontaxa/main-api:1.4.1@{DIGEST_A}")),
        "the digest pins the image, the tag stays readable:\n{deployment}"
    );
    let cm = c.read("generated/dev/main-api/configmap.yaml");
    assert!(cm.contains("VERSION: \"1.4.1\""), "{cm}");
}

#[test]
fn crlf_line_endings_are_kept() {
    // Built here rather than committed, so no git setting can normalise the fixture.
    let before = fixture("comments", "before.toml").replace('\n', "\r\n");
    let after = fixture("comments", "after.toml").replace('\n', "\r\n");
    let c = Checkout::new();
    c.write("overlays/dev.toml", &before);
    bump_image::bump_image(
        &c.platform(),
        &opts("main-api", Some("1.4.1"), None),
        |_| {},
    )
    .unwrap();
    assert_eq!(c.read("overlays/dev.toml"), after);

    // An added key uses CRLF too.
    let before = fixture("missing_key", "before.toml").replace('\n', "\r\n");
    let after = fixture("missing_key", "after.toml").replace('\n', "\r\n");
    c.write("overlays/dev.toml", &before);
    bump_image::bump_image(
        &c.platform(),
        &opts("main-api", Some("1.4.1"), None),
        |_| {},
    )
    .unwrap();
    assert_eq!(c.read("overlays/dev.toml"), after);
}

#[test]
fn invalid_toml_is_reported_and_nothing_is_touched() {
    let c = Checkout::new();
    c.write("overlays/dev.toml", &fixture("invalid", "before.toml"));
    let before = c.snapshot();
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("KG001"), "{err}");
    assert!(err.contains("overlays/dev.toml:2"), "{err}");
    assert_eq!(c.snapshot(), before, "no file changed");
}

/// The bare checkout without `overlays/dev.toml`, aux-service tagged in platform.toml
/// so that dev is valid without an overlay.
fn without_dev_overlay() -> Checkout {
    let c = Checkout::bare();
    let platform = c.read("platform.toml").replace(
        "image = \"kontaxa/aux-service\"",
        "image = \"kontaxa/aux-service\"\ntag = \"2.0.0\"",
    );
    c.write("platform.toml", &platform);
    std::fs::remove_file(c.path("overlays/dev.toml")).unwrap();
    c
}

#[test]
fn a_missing_overlay_file_is_created() {
    let c = without_dev_overlay();
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        c.read("overlays/dev.toml"),
        "[services.main-api]\ntag = \"1.4.1\"\n"
    );
    assert!(
        stdout(&out).contains("created overlays/dev.toml"),
        "{}",
        stdout(&out)
    );
}

/// A new overlay starts with its siblings' `#:schema` line, or with one pointing at
/// `overlay.schema.json` next to platform.toml, so editors keep checking it
/// (newcomer review 13).
#[test]
fn a_created_overlay_keeps_the_schema_line() {
    let c = without_dev_overlay();
    // No sibling has one, and there is no schema file: none.
    let bump = |tag: &str| {
        let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", tag]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = c.read("overlays/dev.toml");
        std::fs::remove_file(c.path("overlays/dev.toml")).unwrap();
        text
    };
    assert_eq!(bump("1.4.1"), "[services.main-api]\ntag = \"1.4.1\"\n");
    c.write("overlay.schema.json", "{}");
    assert_eq!(
        bump("1.4.2"),
        "#:schema ../overlay.schema.json\n\n[services.main-api]\ntag = \"1.4.2\"\n"
    );
    c.write(
        "overlays/prod.toml",
        &format!("#:schema ../../schemas/overlay.json\n{}", PROD),
    );
    assert_eq!(
        bump("1.4.3"),
        "#:schema ../../schemas/overlay.json\n\n[services.main-api]\ntag = \"1.4.3\"\n"
    );
}

/// The first bump of a rendered environment that has no overlay creates it, and every
/// file rendered for the environment changes (its header names the overlay): the
/// summary counts them and says why; with an empty overlay committed first, the bump
/// changes only what the image changes (docs/github-actions.md).
#[test]
fn creating_the_overlay_of_a_rendered_environment_says_every_header_changes() {
    let c = Checkout::bare();
    // Tags in platform.toml, so that dev is valid without an overlay.
    let platform = c
        .read("platform.toml")
        .replace(
            "image = \"kontaxa/aux-service\"",
            "image = \"kontaxa/aux-service\"\ntag = \"2.0.0\"",
        )
        .replace(
            "image = \"kontaxa/main-api\"",
            "image = \"kontaxa/main-api\"\ntag = \"1.3.2\"",
        );
    c.write("platform.toml", &platform);
    std::fs::remove_file(c.path("overlays/dev.toml")).unwrap();
    let out = c.run(&["render", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // dev's 24 files and its ApplicationSet in the cluster's bootstrap.
    assert_eq!(
        stdout(&out),
        "dev: main-api  1.3.2 → 1.4.1\n\
         created overlays/dev.toml; rendered dev into generated/: 0 added, 26 changed, 0 removed\n"
    );
    // A note is a diagnostic: stderr (docs/cli.md#output-streams).
    assert_eq!(
        stderr(&out),
        "note: overlays/dev.toml is new, so the header of every file rendered for dev now names it; commit an empty overlay before the first deploy to keep deploy commits to what the image changes (docs/github-actions.md)\n"
    );

    // The same with an empty overlay rendered first: only main-api's files change.
    c.write("overlays/dev.toml", "");
    assert!(c.run(&["render", "-q"]).status.success());
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "dev: main-api  1.3.2 → 1.4.2\n\
         updated overlays/dev.toml; rendered dev into generated/: 0 added, 10 changed, 0 removed\n"
    );
}

#[test]
fn bumping_to_the_current_value_changes_nothing() {
    let c = Checkout::new();
    let before = c.snapshot();
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "dev: main-api  already at 1.4.0, nothing to do\n"
    );
    assert_eq!(c.snapshot(), before);

    // Twice the same bump: the second is a no-op.
    let o = opts("main-api", Some("1.4.1"), Some(DIGEST_A));
    assert!(bump_image::bump_image(&c.platform(), &o, |_| {})
        .unwrap()
        .changed());
    let after_first = c.snapshot();
    let second = bump_image::bump_image(&c.platform(), &o, |_| {}).unwrap();
    assert!(!second.changed());
    assert!(second.files.is_empty());
    assert_eq!(c.snapshot(), after_first);
}

#[test]
fn invalid_tag_or_digest_is_refused_before_anything_is_read() {
    let c = Checkout::new();
    let before = c.snapshot();
    for args in [
        &["bump-image", "main-api", "--env", "dev", "--tag=-rc1"][..],
        &["bump-image", "main-api", "--env", "dev", "--tag", "latest"],
        &[
            "bump-image",
            "main-api",
            "--env",
            "dev",
            "--digest",
            "sha256:abc",
        ],
        &["bump-image", "main-api", "--env", "dev"],
        &["bump-image", "main-api", "--env", "qa", "--tag", "1.0.0"],
        &["bump-image", "main-apj", "--env", "dev", "--tag", "1.0.0"],
    ] {
        let out = c.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("kgen: error: "),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(c.snapshot(), before);
    // A token given as the tag is refused as the flag's value, not at the overlay line
    // it would have been written to (review 28, F10), and never echoed.
    let token = format!("ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8");
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", &token]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "kgen: error: --tag: the value looks like a secret (a GitHub token); kgen refuses secrets in plain text, and a tag names an image version: pass the tag the image was pushed with\n"
    );
    assert_eq!(c.snapshot(), before);
}

#[test]
fn a_new_tag_alone_is_refused_when_a_digest_pins_the_image() {
    let c = Checkout::new();
    bump_image::bump_image(
        &c.platform(),
        &opts("main-api", Some("1.4.1"), Some(DIGEST_A)),
        |_| {},
    )
    .unwrap();
    let before = c.snapshot();
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("pinned to digest"),
        "{}",
        stderr(&out)
    );
    assert_eq!(c.snapshot(), before);
    // With the new digest it goes through, both values change in place.
    let u = bump_image::bump_image(
        &c.platform(),
        &opts("main-api", Some("1.4.2"), Some(DIGEST_B)),
        |_| {},
    )
    .unwrap();
    assert_eq!(u.changes[0].before.to_string(), format!("1.4.1@{DIGEST_A}"));
    assert_eq!(u.changes[0].after.to_string(), format!("1.4.2@{DIGEST_B}"));
    assert_eq!(
        c.read("overlays/dev.toml"),
        DEV.replace(
            "tag = \"1.4.0\"",
            &format!("tag = \"1.4.2\"\ndigest = \"{DIGEST_B}\"")
        )
    );
}

#[test]
fn a_failing_compile_writes_nothing() {
    let c = Checkout::new();
    // aux-service is broken in dev: bumping main-api must not write a half-valid state.
    c.write(
        "overlays/dev.toml",
        &DEV.replace("tag = \"2.1.0\"", "tag = \"2.1.0\"\nreplicas = -1"),
    );
    let before = c.snapshot();
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("overlays/dev.toml"),
        "{}",
        stderr(&out)
    );
    assert_eq!(c.snapshot(), before);
}

#[cfg(unix)]
#[test]
fn a_failing_write_of_generated_restores_the_overlay() {
    let c = Checkout::new();
    // generated/dev/main-api becomes a symbolic link: kgen refuses to write through it
    // after the overlay has been written, so the overlay must be put back.
    let real = c.path("elsewhere");
    std::fs::rename(c.path("generated/dev/main-api"), &real).unwrap();
    std::os::unix::fs::symlink(&real, c.path("generated/dev/main-api")).unwrap();
    let before = c.snapshot();
    let err = bump_image::bump_image(
        &c.platform(),
        &opts("main-api", Some("1.4.1"), None),
        |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(c.snapshot(), before, "every file is as it was");
    assert_eq!(c.read("overlays/dev.toml"), DEV);
}

#[test]
fn temporary_overlay_files_of_a_dead_process_are_removed() {
    // A bump killed between writing the new overlay and renaming it leaves
    // `.kgen-<pid>-<random>.tmp` in overlays/ (4194305 is above Linux's largest pid).
    let c = Checkout::new();
    let temp = |pid: u32| {
        format!(
            "overlays/{}{pid}-abc{}",
            kgen::write::TEMP_PREFIX,
            kgen::write::TEMP_SUFFIX
        )
    };
    let stale = temp(4_194_305);
    // A live process's file (this test's own pid) and files that only look like kgen's.
    let live = temp(std::process::id());
    let foreign = [
        "overlays/.kgen-notes.tmp",
        "overlays/kgen-4194305-abc.tmp",
        "overlays/notes.txt",
    ];
    c.write(&stale, "[services.main-api]\ntag = \"1.");
    c.write(&live, "being written");
    for f in foreign {
        c.write(f, "not kgen's");
    }
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !c.path(&stale).exists(),
        "the abandoned temporary file is still there"
    );
    assert_eq!(c.read(&live), "being written");
    for f in foreign {
        assert_eq!(c.read(f), "not kgen's", "{f}");
    }
    assert!(c.read("overlays/dev.toml").contains("tag = \"1.4.1\""));
}

#[test]
fn no_render_edits_only_the_overlay_but_still_validates() {
    let c = Checkout::new();
    let before = c.snapshot();
    let out = c.run(&[
        "bump-image",
        "main-api",
        "--env",
        "dev",
        "--tag",
        "1.4.1",
        "--no-render",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = c.snapshot();
    assert_eq!(changed_files(&before, &after), ["overlays/dev.toml"]);
    assert!(!c.is_fresh());
}

#[test]
fn image_matches_every_service_using_the_repository() {
    let c = Checkout::bare();
    // A third service that runs the main-api image with another command, as workers do.
    let platform = c.read("platform.toml")
        + "\n[services.worker]\nimage = \"kontaxa/main-api\"\ntag = \"1.0.0\"\n";
    c.write("platform.toml", &platform);
    c.render();
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/kontaxa/main-api:1.5.0";
    let out = c.run(&["bump-image", "--image", image, "--env", "dev"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        c.read("overlays/dev.toml"),
        DEV.replace("tag = \"1.4.0\"", "tag = \"1.5.0\"")
            + "\n[services.worker]\ntag = \"1.5.0\"\n"
    );
    let s = stdout(&out);
    assert!(s.contains("main-api  1.4.0 → 1.5.0"), "{s}");
    assert!(s.contains("worker    1.0.0 → 1.5.0"), "{s}");
    assert!(!s.contains("aux-service"), "{s}");
    assert!(c.is_fresh());

    // Without the registry, the platform registry is assumed (as in platform.toml).
    let out = c.run(&[
        "bump-image",
        "--image",
        "kontaxa/main-api:1.5.1",
        "--env",
        "dev",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(c.read("overlays/dev.toml").matches("1.5.1").count(), 2);

    // A repository nobody uses is an error that lists the images.
    let out = c.run(&[
        "bump-image",
        "--image",
        "ghcr.io/acme/other:1",
        "--env",
        "dev",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("kontaxa/aux-service (aux-service)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn github_outputs_and_step_summary() {
    let c = Checkout::new();
    let outputs = c.path("gh-output");
    let summary = c.path("gh-summary");
    std::fs::write(&outputs, "earlier=1\n").unwrap();
    let before = c.snapshot();
    let out = c
        .kgen(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"])
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut after = c.snapshot();
    after.remove("gh-output");
    after.remove("gh-summary");
    let mut before = before;
    before.remove("gh-output");
    let files = changed_files(&before, &after);
    assert!(files.contains(&"overlays/dev.toml".to_string()));
    assert!(files.contains(&"generated/dev/main-api/configmap.yaml".to_string()));
    assert_eq!(
        std::fs::read_to_string(&outputs).unwrap(),
        format!(
            "earlier=1\nchanged=true\nprevious=1.4.0\ncurrent=1.4.1\nfiles<<KGEN_EOF\n{}\nKGEN_EOF\ncommit=\n",
            files.join("\n")
        )
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("### kgen bump-image: dev\n"), "{md}");
    assert!(
        md.contains("| `main-api` | `1.4.0` | **`1.4.1`** |"),
        "{md}"
    );

    // Nothing to do: changed=false, no files.
    std::fs::write(&outputs, "").unwrap();
    let out = c
        .kgen(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"])
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(&outputs).unwrap(),
        "changed=false\nprevious=1.4.1\ncurrent=1.4.1\nfiles=\ncommit=\n"
    );
}

#[test]
fn commit_has_the_message_author_and_exactly_the_changed_files() {
    let c = Checkout::new();
    let repo = c.git_init();
    let head_before = repo.head().unwrap().peel_to_commit().unwrap().id();
    let before = c.snapshot();
    let outputs = c.path(".git/gh-output");
    let out = c
        .kgen(&[
            "bump-image",
            "main-api",
            "--env",
            "dev",
            "--tag",
            "1.4.1",
            "--commit",
        ])
        .env("GIT_AUTHOR_NAME", "Release Bot")
        .env("GIT_AUTHOR_EMAIL", "release@example.com")
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let changed = changed_files(&before, &c.snapshot());

    let head = repo.head().unwrap();
    assert_eq!(head.shorthand().ok(), Some("main"), "the branch moved");
    let commit = head.peel_to_commit().unwrap();
    assert_eq!(commit.parent_id(0).unwrap(), head_before);
    assert_eq!(
        commit.message().ok(),
        Some("deploy(dev): main-api 1.4.0 → 1.4.1")
    );
    assert_eq!(commit.author().name().ok(), Some("Release Bot"));
    assert_eq!(commit.author().email().ok(), Some("release@example.com"));
    assert_eq!(commit.committer().name().ok(), Some("github-actions[bot]"));
    assert_eq!(
        commit.committer().email().ok(),
        Some("41898282+github-actions[bot]@users.noreply.github.com")
    );
    assert_eq!(commit_paths(&repo, &commit), changed);
    assert!(
        changed.len() > 1,
        "overlay and generated files: {changed:?}"
    );

    let mut so = git2::StatusOptions::new();
    so.include_ignored(false).include_untracked(true);
    let statuses = repo.statuses(Some(&mut so)).unwrap();
    let dirty: Vec<String> = statuses
        .iter()
        .map(|s| format!("{:?} {:?}", s.path(), s.status()))
        .collect();
    assert!(
        dirty.is_empty(),
        "the working tree is clean after the commit: {dirty:?}"
    );
    let gh = std::fs::read_to_string(&outputs).unwrap();
    assert!(gh.contains(&format!("commit={}\n", commit.id())), "{gh}");
}

#[test]
fn commit_defaults_to_the_actions_bot_and_details_digests() {
    let c = Checkout::new();
    let repo = c.git_init();
    let out = c.run(&[
        "bump-image",
        "main-api",
        "--env",
        "dev",
        "--tag",
        "1.4.1",
        "--digest",
        DIGEST_A,
        "--commit",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit.author().name().ok(), Some("github-actions[bot]"));
    assert_eq!(
        commit.author().email().ok(),
        Some("41898282+github-actions[bot]@users.noreply.github.com")
    );
    assert_eq!(
        commit.message().unwrap(),
        format!("deploy(dev): main-api 1.4.0 → 1.4.1\n\n- main-api: 1.4.0 → 1.4.1@{DIGEST_A}\n")
    );
}

#[test]
fn commit_works_on_a_detached_head() {
    let c = Checkout::new();
    let repo = c.git_init();
    let start = repo.head().unwrap().peel_to_commit().unwrap().id();
    repo.set_head_detached(start).unwrap();
    let out = c.run(&[
        "bump-image",
        "aux-service",
        "--env",
        "dev",
        "--tag",
        "2.2.0",
        "--commit",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(repo.head_detached().unwrap(), "HEAD stays detached");
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        commit.parent_id(0).unwrap(),
        start,
        "HEAD moved to the new commit"
    );
    assert_eq!(
        commit.message().ok(),
        Some("deploy(dev): aux-service 2.1.0 → 2.2.0")
    );
    let main = repo.find_branch("main", git2::BranchType::Local).unwrap();
    assert_eq!(main.get().target(), Some(start), "the branch did not move");
}

#[test]
fn commit_is_refused_when_other_changes_are_staged() {
    let c = Checkout::new();
    let repo = c.git_init();
    let start = repo.head().unwrap().peel_to_commit().unwrap().id();
    c.write("notes.txt", "unrelated\n");
    c.write(
        "platform.toml",
        &(c.read("platform.toml") + "# a comment\n"),
    );
    let mut index = repo.index().unwrap();
    index.add_path(std::path::Path::new("notes.txt")).unwrap();
    index
        .add_path(std::path::Path::new("platform.toml"))
        .unwrap();
    index.write().unwrap();
    let before = c.snapshot();
    let out = c.run(&[
        "bump-image",
        "main-api",
        "--env",
        "dev",
        "--tag",
        "1.4.1",
        "--commit",
    ]);
    // Refused, nothing written: exit 2 (newcomer review 8, #16).
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("staged changes to 2 other files"), "{err}");
    assert!(err.contains("notes.txt, platform.toml"), "{err}");
    assert_eq!(c.snapshot(), before, "nothing written");
    assert_eq!(repo.head().unwrap().peel_to_commit().unwrap().id(), start);
}

#[test]
fn commit_is_refused_when_the_overlay_has_uncommitted_edits() {
    let c = Checkout::new();
    let repo = c.git_init();
    c.write(
        "overlays/dev.toml",
        &DEV.replace("replicas = 1", "replicas = 2"),
    );
    let before = c.snapshot();
    let out = c.run(&[
        "bump-image",
        "main-api",
        "--env",
        "dev",
        "--tag",
        "1.4.1",
        "--commit",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("overlays/dev.toml already has uncommitted changes"),
        "{}",
        stderr(&out)
    );
    assert_eq!(c.snapshot(), before);
    assert_eq!(
        repo.head()
            .unwrap()
            .peel_to_commit()
            .unwrap()
            .message()
            .ok(),
        Some("initial")
    );
}

#[test]
fn concurrent_bumps_of_different_services_both_survive() {
    let c = Checkout::new();
    for round in 0..3 {
        let main_tag = format!("1.5.{round}");
        let aux_tag = format!("2.5.{round}");
        let a = c
            .kgen(&["bump-image", "main-api", "--env", "dev", "--tag", &main_tag])
            .spawn()
            .unwrap();
        let b = c
            .kgen(&[
                "bump-image",
                "aux-service",
                "--env",
                "dev",
                "--tag",
                &aux_tag,
            ])
            .spawn()
            .unwrap();
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(a.status.success(), "{}", stderr(&a));
        assert!(b.status.success(), "{}", stderr(&b));
        let overlay = c.read("overlays/dev.toml");
        assert!(
            overlay.contains(&format!("tag = \"{main_tag}\"")),
            "{overlay}"
        );
        assert!(
            overlay.contains(&format!("tag = \"{aux_tag}\"")),
            "{overlay}"
        );
        assert!(c.is_fresh(), "generated/ has both updates");
    }
}

#[test]
fn lock_file_is_ignored_by_the_repository() {
    let gitignore = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".gitignore"),
    )
    .unwrap();
    assert!(gitignore.lines().any(|l| l.trim() == ".kgen.lock"));
}

#[test]
fn library_errors_are_usage_errors() {
    let c = Checkout::new();
    let e = bump_image::bump_image(&c.platform(), &opts("nope", Some("1.0.0"), None), |_| {})
        .unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e:?}");
    assert_eq!(e.exit_code(), 2);
}

/// Outside GitHub Actions, `--commit` commits as the repository's git identity, the
/// one `git commit` would use; in Actions too, when one is configured.
#[test]
fn commit_uses_the_repositorys_git_identity() {
    for in_actions in [false, true] {
        let c = Checkout::new();
        let repo = c.git_init();
        let mut cfg = repo.config().unwrap();
        cfg.set_str("user.name", "Dana Deploy").unwrap();
        cfg.set_str("user.email", "dana@example.com").unwrap();
        let mut cmd = c.kgen(&[
            "bump-image",
            "main-api",
            "--env",
            "dev",
            "--tag",
            "1.4.1",
            "--commit",
        ]);
        if !in_actions {
            cmd.env_remove("GITHUB_ACTIONS");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let commit = repo.head().unwrap().peel_to_commit().unwrap();
        for who in [commit.author(), commit.committer()] {
            assert_eq!(
                who.name().ok(),
                Some("Dana Deploy"),
                "in actions: {in_actions}"
            );
            assert_eq!(who.email().ok(), Some("dana@example.com"));
        }
    }
}

/// Outside GitHub Actions with no identity anywhere, `--commit` is refused before
/// anything is written, as `git commit` would refuse.
#[test]
fn commit_without_an_identity_outside_actions_is_refused_before_writing() {
    let c = Checkout::new();
    let repo = c.git_init();
    let head = repo.head().unwrap().target().unwrap();
    let before = c.snapshot();
    let out = c
        .kgen(&[
            "bump-image",
            "main-api",
            "--env",
            "dev",
            "--tag",
            "1.4.1",
            "--commit",
        ])
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("git config user.name"),
        "{}",
        stderr(&out)
    );
    assert_eq!(c.snapshot(), before, "nothing written");
    assert_eq!(repo.head().unwrap().target().unwrap(), head);
}

/// `commit.gpgSign`: the deploy commit is signed as configured (here with an SSH key).
#[test]
fn commit_is_signed_when_the_repository_asks_for_it() {
    let c = Checkout::new();
    let repo = c.git_init();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("id_ed25519");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "kgen-test", "-f"])
        .arg(&key)
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: ssh-keygen is not available");
        return;
    }
    if std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: git is not installed");
        return;
    }
    let mut cfg = repo.config().unwrap();
    cfg.set_str("user.name", "Dana Deploy").unwrap();
    cfg.set_str("user.email", "dana@example.com").unwrap();
    cfg.set_bool("commit.gpgsign", true).unwrap();
    cfg.set_str("gpg.format", "ssh").unwrap();
    cfg.set_str("user.signingkey", key.to_str().unwrap())
        .unwrap();
    let before = c.snapshot();
    let out = c
        .kgen(&[
            "bump-image",
            "main-api",
            "--env",
            "dev",
            "--tag",
            "1.4.1",
            "--commit",
        ])
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    let (sig, _) = repo.extract_signature(&commit.id(), None).unwrap();
    assert!(
        std::str::from_utf8(&sig)
            .unwrap()
            .contains("BEGIN SSH SIGNATURE"),
        "signed with the SSH key"
    );
    assert_eq!(commit.author().name().ok(), Some("Dana Deploy"));
    assert_eq!(
        commit.message().ok(),
        Some("deploy(dev): main-api 1.4.0 → 1.4.1")
    );
    assert_eq!(
        commit_paths(&repo, &commit),
        changed_files(&before, &c.snapshot())
    );
}

/// Issue 21, item 8: git refuses to move the branch (a leftover `main.lock`); the
/// work tree *and the index* are put back, git's whole message is printed, and a
/// retry once the lock is gone succeeds.
#[test]
fn a_refused_commit_restores_the_index_and_prints_the_whole_message() {
    let c = Checkout::new();
    let repo = c.git_init();
    let head_before = repo.head().unwrap().peel_to_commit().unwrap().id();
    let before = c.snapshot();
    let lock = c.path(".git/refs/heads/main.lock");
    std::fs::write(&lock, "").unwrap();
    let args = [
        "bump-image",
        "main-api",
        "--env",
        "dev",
        "--tag",
        "1.4.1",
        "--commit",
    ];
    let out = c.run(&args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("main.lock"), "{err}");
    assert!(
        !err.trim_end().ends_with("for writing:") && !err.contains("for writing: ;"),
        "git's message is cut off: {err}"
    );
    assert!(err.contains("remove the `.lock` file"), "{err}");
    assert_eq!(c.snapshot(), before, "the work tree is restored");
    let statuses = repo.statuses(None).unwrap();
    let dirty: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != git2::Status::IGNORED)
        .map(|s| format!("{:?} {}", s.status(), s.path().unwrap_or("")))
        .collect();
    assert!(dirty.is_empty(), "the index is not restored: {dirty:?}");
    assert_eq!(
        repo.head().unwrap().peel_to_commit().unwrap().id(),
        head_before
    );
    // The retry, once the lock is gone, commits.
    std::fs::remove_file(&lock).unwrap();
    let out = c.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(
        repo.head().unwrap().peel_to_commit().unwrap().id(),
        head_before
    );
}

/// Issue 21, item 7: a `.kgen.lock` that is a link (dangling or not) is refused; no
/// file is created or opened where it points.
#[cfg(unix)]
#[test]
fn a_linked_lock_file_is_never_followed() {
    let c = Checkout::new();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("created-by-kgen");
    std::os::unix::fs::symlink(&target, c.path(".kgen.lock")).unwrap();
    let before = c.snapshot();
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            ".kgen.lock is a symbolic link; kgen does not follow links for its lock file"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!target.exists(), "a file was created through the link");
    assert_eq!(c.snapshot(), before);
}

/// A manifest kgen did not write, in a directory Argo CD deploys, is refused by
/// `bump-image` (and `promote`, `bump-chart`: the same transaction) as by `render`:
/// KG307, exit 2, nothing written.
#[test]
fn a_foreign_manifest_in_generated_is_refused_before_writing() {
    let c = Checkout::new();
    c.write(
        "generated/dev/main-api/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
    );
    let before = c.snapshot();
    let out = c.run(&["bump-image", "main-api", "--env", "dev", "--tag", "1.4.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("error[KG307]: generated/dev/main-api/extra.yaml was not written by kgen"),
        "{}",
        stderr(&out)
    );
    assert_eq!(c.snapshot(), before, "nothing written");
}

/// A tag older than the one it replaces is marked as `promote` marks it, with a note
/// on stderr (cli29 #13); `--format json` says `backwards: true`.
#[test]
fn bump_image_says_when_a_tag_moves_backwards() {
    let c = Checkout::bare();
    let args = [
        "bump-image",
        "main-api",
        "--env",
        "dev",
        "--tag",
        "1.2.4",
        "--no-render",
    ];
    let out = c.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "dev: main-api  1.4.0 → 1.2.4  (moves backwards)\n\
         updated overlays/dev.toml (not rendered: run `kgen render` before committing)\n"
    );
    // After the overlay's warnings (KG037: `replicas` with autoscaling).
    let err = stderr(&out);
    assert!(
        err.starts_with("warning[KG037]")
            && err.ends_with("\n\nnote: this moves dev to an older version than it runs (a rollback? `kgen diff` shows it as the risk image-downgrade)\n"),
        "{err}"
    );
    // --quiet: neither the report nor the note.
    c.write("overlays/dev.toml", DEV);
    let out = c.run(&[&args[..], &["-q"]].concat());
    assert_eq!(stdout(&out), "");
    assert!(!stderr(&out).contains("note:"), "{}", stderr(&out));
    c.write("overlays/dev.toml", DEV);
    let out = c.run(&[&args[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["summary"]["changes"][0]["backwards"], true);
    assert_eq!(stderr(&out), "");
}
