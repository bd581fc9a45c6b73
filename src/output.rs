//! kgen's JSON output (`--format json`): one object on stdout per run, for every
//! command and every outcome: success, findings, stale files, I/O and git errors,
//! usage errors. The shape is documented in docs/cli.md ("JSON output") and
//! versioned: `version` changes only when a field is removed or changes meaning;
//! fields may be added within a version.
//!
//! ```json
//! {"version": 1, "command": "render", "outcome": "ok", "exit_code": 0,
//!  "diagnostics": [], "summary": {...}}
//! ```

use serde_json::{json, Map, Value};

use crate::diagnostic;
use crate::error::Error;
use crate::ops;
use crate::source::Sources;
use crate::write::Outcome;

/// The version of the JSON output's shape (the `version` field).
pub const JSON_VERSION: u32 = 1;

/// The envelope every JSON output starts with.
fn envelope(command: &str, outcome: &str, exit_code: u8, diagnostics: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("version".into(), json!(JSON_VERSION));
    m.insert("command".into(), json!(command));
    m.insert("outcome".into(), json!(outcome));
    m.insert("exit_code".into(), json!(exit_code));
    m.insert("diagnostics".into(), diagnostics);
    m
}

fn finish(m: Map<String, Value>) -> String {
    let mut s = serde_json::to_string_pretty(&Value::Object(m)).expect("JSON serialises");
    s.push('\n');
    s
}

fn outcome_json(o: &Outcome) -> Value {
    json!({
        "added": o.added.iter().map(|f| format!("generated/{f}")).collect::<Vec<_>>(),
        "changed": o.changed.iter().map(|f| format!("generated/{f}")).collect::<Vec<_>>(),
        "removed": o.removed.iter().map(|f| format!("generated/{f}")).collect::<Vec<_>>(),
        "unchanged": o.unchanged,
    })
}

/// `kgen render` succeeded.
pub fn render(s: &ops::render::RenderSummary, sources: &Sources) -> String {
    let mut m = envelope(
        "render",
        "ok",
        0,
        diagnostic::json_value(&s.warnings, sources),
    );
    m.insert(
        "summary".into(),
        json!({
            "environments": s.environments,
            "clusters": s.clusters,
            "files": s.files,
            "objects": s.objects,
            "warnings": s.warnings.len(),
            "elapsed_ms": crate::stages::millis(s.elapsed) as u64,
        }),
    );
    m.insert("written".into(), outcome_json(&s.outcome));
    finish(m)
}

/// `kgen render --check` ran: `fresh` (exit 0) or `stale` (exit 1).
pub fn check(s: &ops::render::CheckSummary, sources: &Sources) -> String {
    let c = &s.comparison;
    let fresh = c.is_fresh();
    let mut m = envelope(
        "render-check",
        if fresh { "fresh" } else { "stale" },
        u8::from(!fresh),
        diagnostic::json_value(&s.warnings, sources),
    );
    let names = |v: &[String]| {
        v.iter()
            .map(|f| format!("generated/{f}"))
            .collect::<Vec<_>>()
    };
    m.insert(
        "files".into(),
        json!({
            "stale": names(&c.stale),
            "missing": names(&c.missing),
            "extra": names(&c.extra),
            "foreign": names(&c.foreign),
            "unchanged": c.unchanged,
        }),
    );
    finish(m)
}

/// `kgen validate` found no error.
pub fn validate(s: &ops::validate::Summary) -> String {
    let mut m = envelope(
        "validate",
        "ok",
        0,
        diagnostic::json_value(&s.warnings, &s.sources),
    );
    let warnings = s.warnings.len();
    m.insert(
        "summary".into(),
        json!({
            "objects": s.objects,
            s.noun.to_string() + "s": s.sources_count,
            "warnings": warnings,
            "skipped": s.skipped,
        }),
    );
    finish(m)
}

fn image_changes(u: &ops::bump_image::report::Update) -> Value {
    json!({
        "environment": u.env,
        "overlay": u.overlay,
        "changed": u.changed(),
        // `image` names the slot (`service` or `service/container`), as everything
        // bump-image prints does; the image itself is `repository` (docs/cli.md).
        "changes": u.changes.iter().map(|c| json!({
            "image": c.name(),
            "service": c.service,
            "repository": c.repository,
            "before": {"tag": c.before.tag, "digest": c.before.digest},
            "after": {"tag": c.after.tag, "digest": c.after.digest},
            "backwards": c.moves_backwards(),
        })).collect::<Vec<_>>(),
        "unchanged": u.unchanged.iter().map(|x| json!({
            "image": x.name, "repository": x.repository,
            "tag": x.version.tag, "digest": x.version.digest,
        })).collect::<Vec<_>>(),
        "files": u.files,
        "written": u.rendered.as_ref().map(outcome_json),
        "commit": u.commit,
    })
}

/// `kgen bump-image` succeeded (changed or not).
pub fn bump_image(u: &ops::bump_image::report::Update) -> String {
    let mut m = envelope(
        "bump-image",
        "ok",
        0,
        diagnostic::json_value(&u.warnings, &u.sources),
    );
    m.insert("summary".into(), image_changes(u));
    finish(m)
}

/// `kgen promote` succeeded (changed or not).
pub fn promote(p: &ops::promote::Promotion) -> String {
    let u = &p.update;
    let mut m = envelope(
        "promote",
        "ok",
        0,
        diagnostic::json_value(&u.warnings, &u.sources),
    );
    let mut summary = image_changes(u);
    summary["from"] = json!(p.from);
    summary["to"] = json!(p.to);
    summary["skipped"] = p
        .skipped
        .iter()
        .map(|(name, why)| json!({"image": name, "reason": why}))
        .collect();
    m.insert("summary".into(), summary);
    finish(m)
}

/// `kgen bump-chart` succeeded (changed or not).
pub fn bump_chart(b: &ops::bump_chart::ChartBump) -> String {
    let mut m = envelope(
        "bump-chart",
        "ok",
        0,
        diagnostic::json_value(&b.warnings, &b.sources),
    );
    m.insert(
        "summary".into(),
        json!({
            "addon": b.addon,
            "cluster": b.cluster,
            "key": b.key_path,
            "previous": b.previous,
            "current": b.current,
            "changed": b.changed,
            "pinned": b.pinned.iter().map(|(c, v)| json!({"cluster": c, "version": v})).collect::<Vec<_>>(),
            "files": b.files,
            "written": b.rendered.as_ref().map(outcome_json),
            "commit": b.commit,
        }),
    );
    finish(m)
}

/// Any command failed: `invalid` (diagnostics, exit 2, and `waiting`: the checks that
/// wait for the errors to be fixed, or null) or `error` (usage, I/O, git: an `error`
/// object with `kind`, `message` and, for I/O, `path`).
pub fn error(command: &str, e: &Error) -> String {
    let code = e.exit_code() as u8;
    match e {
        Error::Invalid(inv) => {
            let mut m = envelope(
                command,
                "invalid",
                code,
                diagnostic::json_value(&inv.diagnostics, &inv.sources),
            );
            // The human closing line's note, for bots: which checks wait.
            m.insert(
                "waiting".into(),
                if inv.waiting {
                    json!(diagnostic::WAITING)
                } else {
                    Value::Null
                },
            );
            finish(m)
        }
        other => {
            let mut m = envelope(command, "error", code, json!([]));
            let (kind, path) = match other.cause() {
                Error::Io { path, .. } | Error::InTheWay { path, .. } => {
                    ("io", Some(path.display().to_string()))
                }
                Error::BadInput { path, .. } | Error::NoObjects { path, .. } => {
                    ("input", Some(path.display().to_string()))
                }
                Error::Usage(_) => ("usage", None),
                Error::NoPlatform { .. } => {
                    ("io", Some(crate::workspace::PLATFORM_FILE.to_string()))
                }
                Error::Git(_) => ("git", None),
                _ => ("other", None),
            };
            m.insert(
                "error".into(),
                json!({
                    "kind": kind,
                    "message": diagnostic::mask_text(&other.to_string()),
                    "path": path.as_deref().map(diagnostic::mask_text),
                }),
            );
            finish(m)
        }
    }
}

/// A command-line usage error found before the command ran (clap's).
pub fn usage_error(command: &str, message: &str) -> String {
    let mut m = envelope(command, "error", 2, json!([]));
    m.insert(
        "error".into(),
        json!({"kind": "usage", "message": message, "path": Value::Null}),
    );
    finish(m)
}
