//! `kgen diff`'s JSON, for bots: one object, pretty-printed, its shape documented in
//! docs/diff.md.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diff::{Counts, DiffReport, Group, Risk, Side};
use crate::manifest_set::{Identity, Resource};

/// The version of the JSON shape (docs/diff.md): 2 since resources, risks and counts
/// say whether they belong to an environment or a cluster (version 1 put both under
/// `environment`).
pub const JSON_VERSION: u32 = 2;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    base: JsonSide<'a>,
    head: JsonSide<'a>,
    /// Why the base is HEAD itself (nothing committed was compared); null otherwise.
    base_is_head: Option<&'a str>,
    stale: Option<JsonStale<'a>>,
    summary: JsonSummary<'a>,
    risks: Vec<JsonRisk<'a>>,
    info: Vec<JsonRisk<'a>>,
    added: Vec<JsonResource<'a>>,
    removed: Vec<JsonResource<'a>>,
    changed: Vec<JsonChanged<'a>>,
    moved: Vec<JsonMoved<'a>>,
    services: Vec<JsonService<'a>>,
    versions: Vec<JsonVersion<'a>>,
    notes: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonService<'a> {
    environment: &'a str,
    service: &'a str,
    /// `added` or `removed`.
    status: &'static str,
    path: &'a str,
    objects: Vec<JsonResource<'a>>,
}

#[derive(Serialize)]
struct JsonVersion<'a> {
    environment: &'a str,
    service: &'a str,
    path: &'a str,
    from: Option<&'a str>,
    to: Option<&'a str>,
    images: Vec<JsonImage<'a>>,
    objects: &'a [Identity],
    summary: String,
}

#[derive(Serialize)]
struct JsonImage<'a> {
    container: &'a str,
    from: &'a str,
    to: &'a str,
}

#[derive(Serialize)]
struct JsonSide<'a> {
    /// `commit` or `working-tree`.
    source: &'static str,
    #[serde(rename = "ref")]
    name: Option<&'a str>,
    commit: Option<&'a str>,
    how: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonStale<'a> {
    place: &'a str,
    files: &'a [String],
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    added: usize,
    changed: usize,
    removed: usize,
    unchanged: usize,
    /// Environment → its counts.
    environments: BTreeMap<&'a str, Counts>,
    /// Cluster → the counts of what is rendered once for it.
    clusters: BTreeMap<&'a str, Counts>,
    /// The counts of the platform-wide files; None when there is none.
    platform: Option<Counts>,
}

#[derive(Serialize)]
struct JsonRisk<'a> {
    code: &'static str,
    /// `environment` and `cluster`.
    #[serde(flatten)]
    group: &'a Group,
    resource: Option<&'a Identity>,
    /// For a risk of a whole service (removed with its objects).
    service: Option<&'a str>,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonResource<'a> {
    #[serde(flatten)]
    id: &'a Identity,
    path: &'a str,
}

#[derive(Serialize)]
struct JsonChanged<'a> {
    #[serde(flatten)]
    id: &'a Identity,
    path: &'a str,
    base_path: &'a str,
    /// A Job renamed because its pod template changed: the Job it replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    replaces: Option<&'a Identity>,
    fields: &'a [String],
    diff: &'a str,
    /// Part of its service's entry in `versions`.
    version_only: bool,
}

#[derive(Serialize)]
struct JsonMoved<'a> {
    #[serde(flatten)]
    id: &'a Identity,
    from: &'a str,
    to: &'a str,
}

fn json_risk(r: &Risk) -> JsonRisk<'_> {
    JsonRisk {
        code: r.kind.code(),
        group: &r.group,
        resource: r.resource.as_ref(),
        service: r.service.as_deref(),
        message: &r.message,
    }
}

fn json_side(s: &Side) -> JsonSide<'_> {
    JsonSide {
        source: if s.commit.is_some() {
            "commit"
        } else {
            "working-tree"
        },
        name: s.name.as_deref(),
        commit: s.commit.as_deref(),
        how: s.how.as_deref(),
    }
}

/// The JSON document (pretty-printed, ending in a newline). Shape: docs/diff.md.
pub fn json(report: &DiffReport) -> String {
    let d = &report.diff;
    let t = d.totals();
    fn resources(rs: &[Resource]) -> Vec<JsonResource<'_>> {
        rs.iter()
            .map(|r| JsonResource {
                id: &r.id,
                path: &r.path,
            })
            .collect()
    }
    let mut environments = BTreeMap::new();
    let mut clusters = BTreeMap::new();
    let mut platform = None;
    for (g, c) in &d.groups {
        match g {
            Group::Environment(e) => {
                environments.insert(e.as_str(), *c);
            }
            Group::Cluster(k) => {
                clusters.insert(k.as_str(), *c);
            }
            Group::Platform => platform = Some(*c),
        }
    }
    let doc = JsonReport {
        version: JSON_VERSION,
        base: json_side(&report.base),
        head: json_side(&report.head),
        base_is_head: report.base_is_head.as_deref(),
        stale: report.stale.as_ref().map(|s| JsonStale {
            place: &s.place,
            files: &s.files,
        }),
        summary: JsonSummary {
            added: t.added,
            changed: t.changed,
            removed: t.removed,
            unchanged: t.unchanged,
            environments,
            clusters,
            platform,
        },
        risks: d.risks.iter().map(json_risk).collect(),
        info: d.info.iter().map(json_risk).collect(),
        added: resources(&d.added),
        removed: resources(&d.removed),
        changed: d
            .changed
            .iter()
            .map(|c| JsonChanged {
                id: &c.id,
                path: &c.path,
                base_path: &c.base_path,
                replaces: c.replaces.as_ref(),
                fields: &c.fields,
                diff: &c.diff,
                version_only: c.version_only,
            })
            .collect(),
        moved: d
            .moved
            .iter()
            .map(|m| JsonMoved {
                id: &m.id,
                from: &m.from,
                to: &m.to,
            })
            .collect(),
        services: d
            .services
            .iter()
            .map(|u| JsonService {
                environment: &u.environment,
                service: &u.service,
                status: if u.added { "added" } else { "removed" },
                path: &u.dir,
                objects: resources(&u.objects),
            })
            .collect(),
        versions: d
            .versions
            .iter()
            .map(|v| JsonVersion {
                environment: &v.environment,
                service: &v.service,
                path: &v.dir,
                from: v.from.as_deref(),
                to: v.to.as_deref(),
                images: v
                    .images
                    .iter()
                    .map(|(c, f, t)| JsonImage {
                        container: c,
                        from: f,
                        to: t,
                    })
                    .collect(),
                objects: &v.objects,
                summary: v.summary(),
            })
            .collect(),
        notes: report.notes.iter().map(String::as_str).collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("the report serialises to JSON");
    s.push('\n');
    s
}
