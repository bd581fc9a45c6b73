//! Printing a `DiffReport`: text for a terminal, Markdown for a pull-request
//! comment, JSON for bots.
//!
//! All three put the risks, then the info, before the diffs. Markdown is capped below GitHub's
//! 65,536-character comment limit and says honestly how much it left out. The JSON
//! shape is documented in docs/diff.md and versioned (`"version": 2`); fields are
//! only ever added within a version.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::diagnostic::plural;
use crate::diff::{
    Changed, Counts, DiffReport, Group, ManifestDiff, Moved, Risk, ServiceUnit, Side, VersionChange,
};
use crate::manifest_set::{Identity, Resource};

/// The version of the JSON shape (docs/diff.md): 2 since resources, risks and counts
/// say whether they belong to an environment or a cluster (version 1 put both under
/// `environment`).
pub const JSON_VERSION: u32 = 2;

/// Markdown output stays under this many bytes (GitHub's comment limit is 65,536
/// characters; the rest is room for a sticky-comment marker and a header).
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Output format of `kgen diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

/// Renders `report` in `format`; `color` only applies to text.
pub fn render(report: &DiffReport, format: DiffFormat, color: bool) -> String {
    match format {
        DiffFormat::Text => text(report, color),
        DiffFormat::Markdown => markdown(report, MARKDOWN_LIMIT),
        DiffFormat::Json => json(report),
    }
}

// ---------------------------------------------------------------- text

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn cyan(&self, s: &str) -> String {
        self.wrap("36", s)
    }
}

fn risk_line(r: &Risk) -> String {
    match (&r.resource, &r.service) {
        (Some(id), _) => format!("{}: {}: {}", r.group, id.short(), r.message),
        (None, Some(svc)) => format!("{}: service {svc}: {}", r.group, r.message),
        (None, None) => format!("{}: {}", r.group, r.message),
    }
}

/// What an added or removed list shows, in order: a whole service (once, with its
/// objects), or one object.
enum Entry<'a> {
    Unit(&'a ServiceUnit),
    Object(&'a Resource),
}

/// The entries of `items` (added or removed), each service that is added or removed
/// as a whole in the place of its first object.
fn entries<'a>(d: &'a ManifestDiff, items: &'a [Resource], added: bool) -> Vec<Entry<'a>> {
    let mut out = Vec::new();
    let mut shown = std::collections::BTreeSet::new();
    for r in items {
        let unit = d.services.iter().find(|u| {
            u.added == added
                && r.path.starts_with(&u.dir)
                && r.id.group.environment() == Some(u.environment.as_str())
        });
        match unit {
            Some(u) => {
                if shown.insert(u.dir.as_str()) {
                    out.push(Entry::Unit(u));
                }
            }
            None => out.push(Entry::Object(r)),
        }
    }
    out
}

/// What the changed list shows, in order: a service's version change (once, where
/// its first object is), or one changed object.
enum ChangeEntry<'a> {
    Version(&'a VersionChange),
    Object(&'a Changed),
}

fn change_entries(d: &ManifestDiff) -> Vec<ChangeEntry<'_>> {
    let mut out = Vec::new();
    let mut shown = std::collections::BTreeSet::new();
    for c in &d.changed {
        if !c.version_only {
            out.push(ChangeEntry::Object(c));
            continue;
        }
        if let Some(v) = d.versions.iter().find(|v| v.objects.contains(&c.id)) {
            if shown.insert(v.dir.as_str()) {
                out.push(ChangeEntry::Version(v));
            }
        }
    }
    out
}

/// An object's file, relative to its service's directory.
fn in_dir<'a>(path: &'a str, dir: &str) -> &'a str {
    path.strip_prefix(dir).unwrap_or(path)
}

fn no_differences(report: &DiffReport) -> String {
    let t = report.diff.totals();
    let mut s = format!(
        "no differences: {} {} the same",
        plural(t.unchanged, "resource"),
        if t.unchanged == 1 { "is" } else { "are" }
    );
    let parts = breakdown(&report.diff);
    if !parts.is_empty() {
        let _ = write!(s, " ({})", parts.join(", "));
    }
    s
}

/// `72 in 3 environments`, `59 in 2 clusters`, `1 platform-wide`: the resources of
/// each kind of group (unchanged, added, changed and removed alike).
fn breakdown(d: &ManifestDiff) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |groups: Vec<&Counts>, what: Option<&str>| {
        if groups.is_empty() {
            return;
        }
        let n: usize = groups.iter().map(|c| c.differences() + c.unchanged).sum();
        out.push(match what {
            Some(what) => format!("{n} in {}", plural(groups.len(), what)),
            None => format!("{n} platform-wide"),
        });
    };
    let of = |keep: fn(&Group) -> bool| -> Vec<&Counts> {
        d.groups
            .iter()
            .filter(|(g, _)| keep(g))
            .map(|(_, c)| c)
            .collect()
    };
    add(
        of(|g| matches!(g, Group::Environment(_))),
        Some("environment"),
    );
    add(of(|g| matches!(g, Group::Cluster(_))), Some("cluster"));
    add(of(|g| matches!(g, Group::Platform)), None);
    out
}

/// Text for a terminal (`color`) or a log.
pub fn text(report: &DiffReport, color: bool) -> String {
    let p = Paint(color);
    let d = &report.diff;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!(
            "kgen diff: base {} → head {}",
            report.base.describe(),
            report.head.describe()
        ))
    );
    if let Some(s) = &report.stale {
        let _ = writeln!(
            out,
            "{} {}; this diff shows the render of the inputs (run `kgen render` and commit the result)",
            p.yellow("warning:"),
            s.headline()
        );
    }
    for n in &report.notes {
        let _ = writeln!(out, "{} {n}", p.yellow("note:"));
    }
    if d.differences() == 0 {
        let _ = writeln!(out, "{}", no_differences(report));
        write_moved_text(&mut out, &d.moved, &p);
        return out;
    }
    if !d.risks.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold(&format!("Risks ({}):", d.risks.len())));
        for r in &d.risks {
            let _ = writeln!(out, "  {} {}", p.yellow("!"), risk_line(r));
        }
    }
    if !d.info.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold(&format!("Info ({}):", d.info.len())));
        for r in &d.info {
            let _ = writeln!(out, "  {} {}", p.cyan("i"), risk_line(r));
        }
    }

    let _ = writeln!(out, "\n{}", p.bold("Summary:"));
    // One row per environment, then per cluster, then platform-wide.
    let rows: Vec<(String, Counts)> = d
        .groups
        .iter()
        .map(|(g, c)| (g.to_string(), *c))
        .chain(std::iter::once(("total".to_string(), d.totals())))
        .collect();
    let w = rows.iter().map(|(e, _)| e.len()).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "  {:<w$}  {:>5}  {:>7}  {:>7}  {:>9}",
        "", "added", "changed", "removed", "unchanged"
    );
    for (e, c) in &rows {
        let _ = writeln!(
            out,
            "  {:<w$}  {:>5}  {:>7}  {:>7}  {:>9}",
            e, c.added, c.changed, c.removed, c.unchanged
        );
    }

    let list = |out: &mut String, title: &str, sign: String, items: &[Resource], added: bool| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n{}", p.bold(&format!("{title} ({}):", items.len())));
        for e in entries(d, items, added) {
            match e {
                Entry::Object(r) => {
                    let _ = writeln!(out, "  {sign} {}  (generated/{})", r.id, r.path);
                }
                Entry::Unit(u) => {
                    let _ = writeln!(
                        out,
                        "  {sign} {}: service {}, {}  (generated/{})",
                        u.environment,
                        u.service,
                        plural(u.objects.len(), "object"),
                        u.dir
                    );
                    for r in &u.objects {
                        let _ =
                            writeln!(out, "      {}  ({})", r.id.short(), in_dir(&r.path, &u.dir));
                    }
                }
            }
        }
    };
    list(&mut out, "Added", p.green("+"), &d.added, true);
    list(&mut out, "Removed", p.red("-"), &d.removed, false);
    write_moved_text(&mut out, &d.moved, &p);

    if !d.changed.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.bold(&format!("Changed ({}):", d.changed.len()))
        );
        for e in change_entries(d) {
            match e {
                ChangeEntry::Object(c) => {
                    let _ = writeln!(
                        out,
                        "  {} {}  (generated/{}{})",
                        p.yellow("~"),
                        c.id,
                        c.path,
                        match &c.replaces {
                            Some(old) => format!(", replaces {}: the Job runs again", old.name),
                            None => String::new(),
                        }
                    );
                }
                ChangeEntry::Version(v) => {
                    let _ = writeln!(
                        out,
                        "  {} {}: service {}: {}  (generated/{})",
                        p.yellow("~"),
                        v.environment,
                        v.service,
                        v.summary(),
                        v.dir
                    );
                }
            }
        }
        for c in d.changed.iter().filter(|c| !c.version_only) {
            let _ = writeln!(out, "\n{}", p.bold(&c.id.to_string()));
            for line in c.diff.lines() {
                let painted = if line.starts_with("+++") || line.starts_with("---") {
                    p.bold(line)
                } else if line.starts_with('+') {
                    p.green(line)
                } else if line.starts_with('-') {
                    p.red(line)
                } else if line.starts_with("@@") {
                    p.cyan(line)
                } else {
                    line.to_string()
                };
                let _ = writeln!(out, "{painted}");
            }
        }
    }
    out
}

fn write_moved_text(out: &mut String, moved: &[Moved], p: &Paint) {
    if moved.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        p.bold(&format!("Moved, not changed ({}):", moved.len()))
    );
    for m in moved {
        let _ = writeln!(
            out,
            "  = {}  (generated/{} → generated/{})",
            m.id, m.from, m.to
        );
    }
}

// ---------------------------------------------------------------- markdown

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A code fence longer than any run of backticks in `body`.
fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn md_resource(id: &Identity) -> String {
    format!("**{}** · `{}`", id.group, id.short())
}

/// One risk or info line of the Markdown.
fn md_finding(r: &Risk) -> String {
    match (&r.resource, &r.service) {
        (Some(id), _) => format!("- {}: {}\n", md_resource(id), r.message),
        (None, Some(svc)) => format!("- **{}** · service `{svc}`: {}\n", r.group, r.message),
        (None, None) => format!("- **{}**: {}\n", r.group, r.message),
    }
}

fn md_side(s: &Side) -> String {
    let short = s.commit.as_deref().map(|c| &c[..c.len().min(7)]);
    match (&s.name, short, &s.how) {
        (_, Some(c), Some(how)) => format!("`{c}` ({how})"),
        (Some(n), Some(c), None) => format!("`{n}` (`{c}`)"),
        (Some(n), None, _) => format!("`{n}`"),
        (None, Some(c), None) => format!("`{c}`"),
        (None, None, _) => "working tree".into(),
    }
}

/// Markdown for a pull-request comment or a job summary, at most `limit` bytes
/// (plus a truncation note of under 200 bytes when something was left out).
pub fn markdown(report: &DiffReport, limit: usize) -> String {
    let d = &report.diff;
    let mut out = String::new();
    let _ = writeln!(out, "### kgen diff\n");
    let _ = writeln!(
        out,
        "Base: {} → head: {}\n",
        md_side(&report.base),
        md_side(&report.head)
    );
    if let Some(s) = &report.stale {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> {}; this diff shows the render of the inputs. Run `kgen render` and commit the result.\n",
            s.headline()
        );
    }
    for n in &report.notes {
        let _ = writeln!(out, "> [!NOTE]\n> {n}\n");
    }
    if d.differences() == 0 {
        let _ = writeln!(out, "{}.", capitalise(&no_differences(report)));
        if !d.moved.is_empty() {
            let _ = writeln!(
                out,
                "\n{} moved to another file without changes.",
                plural(d.moved.len(), "resource")
            );
        }
        return out;
    }

    let _ = writeln!(out, "| | Added | Changed | Removed | Unchanged |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for (e, c) in &d.groups {
        let _ = writeln!(
            out,
            "| {e} | {} | {} | {} | {} |",
            c.added, c.changed, c.removed, c.unchanged
        );
    }
    let t = d.totals();
    let _ = writeln!(
        out,
        "| **Total** | **{}** | **{}** | **{}** | **{}** |\n",
        t.added, t.changed, t.removed, t.unchanged
    );

    // Everything below is added while it fits; what does not is counted.
    let mut budget = Budget {
        out,
        limit,
        full: false,
        risks_left: 0,
        info_left: 0,
        resources_left: 0,
    };
    if !d.risks.is_empty() {
        budget.push(&format!("#### ⚠️ Risks ({})\n\n", d.risks.len()));
        for (i, r) in d.risks.iter().enumerate() {
            if !budget.push(&md_finding(r)) {
                budget.risks_left = d.risks.len() - i;
                break;
            }
        }
        budget.push("\n");
    }
    if !d.info.is_empty() {
        budget.push(&format!("#### ℹ️ Info ({})\n\n", d.info.len()));
        for (i, r) in d.info.iter().enumerate() {
            if !budget.push(&md_finding(r)) {
                budget.info_left = d.info.len() - i;
                break;
            }
        }
        budget.push("\n");
    }
    let list = |budget: &mut Budget, title: &str, items: &[Resource], added: bool| {
        if items.is_empty() {
            return;
        }
        if !budget.push(&format!("#### {title} ({})\n\n", items.len())) {
            budget.resources_left += items.len();
            return;
        }
        let mut left = items.len();
        for e in entries(d, items, added) {
            let (text, n) = match e {
                Entry::Object(r) => (
                    format!("- {} (`generated/{}`)\n", md_resource(&r.id), r.path),
                    1,
                ),
                Entry::Unit(u) => {
                    let mut t = format!(
                        "- **{}** · service `{}`: {} (`generated/{}`)\n",
                        u.environment,
                        u.service,
                        plural(u.objects.len(), "object"),
                        u.dir
                    );
                    for r in &u.objects {
                        let _ =
                            writeln!(t, "  - `{}` (`{}`)", r.id.short(), in_dir(&r.path, &u.dir));
                    }
                    (t, u.objects.len())
                }
            };
            if !budget.push(&text) {
                budget.resources_left += left;
                return;
            }
            left -= n;
        }
        budget.push("\n");
    };
    list(&mut budget, "Added", &d.added, true);
    list(&mut budget, "Removed", &d.removed, false);
    if !d.moved.is_empty() {
        budget.push(&format!(
            "{} moved to another file without changes.\n\n",
            plural(d.moved.len(), "resource")
        ));
    }
    if !d.changed.is_empty() {
        if budget.push(&format!("#### Changed ({})\n\n", d.changed.len())) {
            // The services whose changes follow from their version first, one line each,
            // then a collapsible diff per other object.
            let mut left = d.changed.len();
            let mut fits = true;
            for v in &d.versions {
                if !budget.push(&format!(
                    "- **{}** · service `{}`: {} (`generated/{}`)\n",
                    v.environment,
                    v.service,
                    v.summary(),
                    v.dir
                )) {
                    fits = false;
                    break;
                }
                left -= v.objects.len();
            }
            if fits && !d.versions.is_empty() {
                budget.push("\n");
            }
            for c in d.changed.iter().filter(|c| !c.version_only) {
                if !fits || !budget.push(&details(c)) {
                    fits = false;
                    break;
                }
                left -= 1;
            }
            if !fits {
                budget.resources_left += left;
            }
        } else {
            budget.resources_left += d.changed.len();
        }
    }
    let mut out = budget.out;
    if budget.risks_left + budget.info_left + budget.resources_left > 0 {
        let mut what = Vec::new();
        if budget.risks_left > 0 {
            what.push(format!(
                "{} more {}",
                budget.risks_left,
                noun(budget.risks_left, "risk")
            ));
        }
        if budget.info_left > 0 {
            what.push(format!(
                "{} more info {}",
                budget.info_left,
                noun(budget.info_left, "line")
            ));
        }
        if budget.resources_left > 0 {
            what.push(format!(
                "{} more {}",
                budget.resources_left,
                noun(budget.resources_left, "resource")
            ));
        }
        let _ = writeln!(
            out,
            "\n… {} not shown (the comment is capped below GitHub's 65,536-character limit); run `kgen diff` locally to see everything.",
            what.join(" and ")
        );
    }
    out
}

fn noun(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// One collapsible section for a changed resource.
fn details(c: &Changed) -> String {
    const SHOWN_FIELDS: usize = 3;
    let mut fields: Vec<String> = c
        .fields
        .iter()
        .take(SHOWN_FIELDS)
        .map(|f| format!("<code>{}</code>", escape_html(f)))
        .collect();
    if c.fields.len() > SHOWN_FIELDS {
        fields.push(format!("{} more", c.fields.len() - SHOWN_FIELDS));
    }
    let fence = fence_for(&c.diff);
    let replaces = match &c.replaces {
        Some(old) => format!(
            " (replaces <code>{}</code>: the Job runs again)",
            escape_html(&old.name)
        ),
        None => String::new(),
    };
    format!(
        "<details>\n<summary><b>{}</b> · <code>{}</code>{replaces}: {}</summary>\n\n{fence}diff\n{}{fence}\n\n</details>\n\n",
        escape_html(&c.id.group.to_string()),
        escape_html(&c.id.short()),
        fields.join(", "),
        c.diff,
    )
}

struct Budget {
    out: String,
    limit: usize,
    full: bool,
    risks_left: usize,
    info_left: usize,
    resources_left: usize,
}

impl Budget {
    /// Appends `s` if it fits; once something did not fit, nothing more is added
    /// (so what is shown is a prefix, in order).
    fn push(&mut self, s: &str) -> bool {
        if self.full || self.out.len() + s.len() > self.limit {
            self.full = true;
            return false;
        }
        self.out.push_str(s);
        true
    }
}

// ---------------------------------------------------------------- json

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    base: JsonSide<'a>,
    head: JsonSide<'a>,
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
