//! `kgen diff`'s Markdown, for a pull-request comment or a job summary, capped below
//! GitHub's comment limit.

use std::fmt::Write as _;

use super::{
    change_entries, entries, in_dir, no_differences, ChangeEntry, Entry, Groups, STALE_FILES_SHOWN,
};
use crate::diagnostic::plural;
use crate::diff::{
    and_list, changed_line, finding_groups, Changed, DiffReport, FindingGroup, ManifestDiff, Risk,
    SameChange, Side, VersionGroup,
};
use crate::manifest_set::{Identity, Resource};

/// Markdown output stays under this many bytes (GitHub's comment limit is 65,536
/// characters; the rest is room for a sticky-comment marker and a header).
pub const MARKDOWN_LIMIT: usize = 60_000;

/// The job summary's Markdown stays under this many bytes (GitHub takes up to 1 MiB
/// per step).
pub const STEP_SUMMARY_LIMIT: usize = 1_000_000;

/// Where what a cut Markdown left out can be read.
fn where_the_rest_is(limit: usize) -> String {
    if limit <= MARKDOWN_LIMIT {
        "the comment is capped below GitHub's 65,536-character limit; in GitHub Actions the job summary of the `kgen diff` run holds up to 1 MB of it, and `kgen diff --format json` or the text output all of it".into()
    } else {
        "the job summary is capped below GitHub's 1 MiB limit; `kgen diff --format json` or the text output holds all of it".into()
    }
}

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
    match (s.shown_name(), short, &s.how) {
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
    if let Some(w) = report.base_is_head_warning() {
        let _ = writeln!(out, "> [!WARNING]\n> {}.\n", capitalise(&w));
    }
    if let Some(s) = &report.stale {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> {}; this diff shows the render of the inputs. Run `kgen render` and commit the result. Argo CD deploys the committed files, so until then a hand edit in them ships:\n>",
            s.headline()
        );
        for f in s.files.iter().take(STALE_FILES_SHOWN) {
            let _ = writeln!(out, "> - `generated/{f}`");
        }
        if s.files.len() > STALE_FILES_SHOWN {
            let _ = writeln!(out, "> - … {} more", s.files.len() - STALE_FILES_SHOWN);
        }
        out.push('\n');
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

    let _ = writeln!(out, "| Where | Added | Changed | Removed | Unchanged |");
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
        reserve: 0,
        full: false,
        risks_left: 0,
        info_left: 0,
        resources_left: 0,
        diffs_left: 0,
        lists_left: 0,
        lists: Vec::new(),
    };
    if !d.risks.is_empty() {
        budget.push(&format!("#### ⚠️ Risks ({})\n\n", d.risks.len()));
        budget.risks_left = push_findings(&mut budget, &d.risks);
        budget.push("\n");
    }
    if !d.info.is_empty() {
        budget.push(&format!("#### ℹ️ Info ({})\n\n", d.info.len()));
        budget.info_left = push_findings(&mut budget, &d.info);
        budget.push("\n");
    }
    let list = |budget: &mut Budget, title: &str, items: &[Resource], added: bool| {
        if items.is_empty() {
            return;
        }
        let before_heading = budget.out.len();
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
                // A heading with nothing under it would read as "none": it goes too,
                // and the closing line counts what is not shown.
                if left == items.len() {
                    budget.out.truncate(before_heading);
                }
                return;
            }
            left -= n;
        }
        budget.push("\n");
    };
    // The added and removed lists leave room for the one-line summary of every change.
    let groups = Groups::of(d);
    budget.reserve = summaries(d, &groups).len().min(limit / 2);
    list(&mut budget, "Added", &d.added, true);
    budget.full = false;
    list(&mut budget, "Removed", &d.removed, false);
    budget.full = false;
    if !d.moved.is_empty() {
        budget.push(&format!(
            "{} moved to another file without changes.\n\n",
            plural(d.moved.len(), "resource")
        ));
    }
    if !d.changed.is_empty() {
        budget.reserve = 0;
        budget.full = false;
        changed_section(d, &groups, &mut budget);
    }
    // Last, the lists of what the grouped lines stand for.
    budget.full = false;
    budget.reserve = 0;
    let lists = std::mem::take(&mut budget.lists);
    for (i, l) in lists.iter().enumerate() {
        if !budget.push(l) {
            budget.lists_left += lists.len() - i;
            break;
        }
    }
    let mut out = budget.out;
    if budget.risks_left
        + budget.info_left
        + budget.resources_left
        + budget.diffs_left
        + budget.lists_left
        > 0
    {
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
        if budget.diffs_left > 0 {
            what.push(format!(
                "the {} of {} listed above",
                noun(budget.diffs_left, "diff"),
                plural(budget.diffs_left, "change")
            ));
        }
        if budget.lists_left > 0 {
            what.push(format!(
                "the {} of {} listed above",
                noun(budget.lists_left, "member list"),
                plural(budget.lists_left, "group")
            ));
        }
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "… {} not shown ({})",
            and_list(&what),
            where_the_rest_is(limit)
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
    /// Room kept for what comes later (the summaries of the changes).
    reserve: usize,
    /// Something did not fit: nothing more is added to this section.
    full: bool,
    risks_left: usize,
    info_left: usize,
    /// Resources not mentioned at all.
    resources_left: usize,
    /// Changes summarised in one line whose diff was left out.
    diffs_left: usize,
    /// Groups whose list of services or objects was left out.
    lists_left: usize,
    /// The lists of the grouped lines shown, added last.
    lists: Vec<String>,
}

impl Budget {
    /// Appends `s` if it fits (leaving `reserve`); once something did not fit, nothing
    /// more is added to the section (so what is shown of it is a prefix, in order).
    fn push(&mut self, s: &str) -> bool {
        if self.full || self.out.len() + s.len() + self.reserve > self.limit {
            self.full = true;
            return false;
        }
        self.out.push_str(s);
        true
    }
}

/// `a `b` c` with the code spans as HTML (for a `<summary>`), the rest escaped.
fn code_html(s: &str) -> String {
    escape_html(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

fn version_line(v: &crate::diff::VersionChange) -> String {
    format!(
        "- **{}** · service `{}`: {} (`generated/{}`)\n",
        v.environment,
        v.service,
        v.summary(),
        v.dir
    )
}

fn versions_line(d: &ManifestDiff, g: &VersionGroup) -> String {
    format!("- {} (listed below)\n", g.headline(d))
}

fn object_line(c: &Changed) -> String {
    format!("- {}: {}\n", md_resource(&c.id), changed_line(c))
}

fn same_line(d: &ManifestDiff, g: &SameChange) -> String {
    let h = g.headline(d);
    format!(
        "- {}{} (one diff shown below)\n",
        &h[..1].to_uppercase(),
        &h[1..]
    )
}

/// The one-line summaries of every change, as the short Changed section lists them.
fn summaries(d: &ManifestDiff, g: &Groups) -> String {
    change_entries(d, g)
        .into_iter()
        .map(|e| match e {
            ChangeEntry::Version(v) => version_line(v),
            ChangeEntry::Versions(vg) => versions_line(d, vg),
            ChangeEntry::Object(c) => object_line(c),
            ChangeEntry::Same(sc) => same_line(d, sc),
        })
        .collect()
}

/// The members of a group, one line per environment (or cluster).
fn member_lists(lists: Vec<(String, Vec<String>)>) -> String {
    let mut t = String::new();
    for (place, names) in lists {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let _ = writeln!(t, "- **{place}** ({}): {}", names.len(), names.join(", "));
    }
    t
}

fn versions_details(d: &ManifestDiff, g: &VersionGroup) -> String {
    let lists = g
        .by_environment(d)
        .into_iter()
        .map(|(e, s)| (e.to_string(), s.iter().map(|s| s.to_string()).collect()))
        .collect();
    format!(
        "<details>\n<summary>The {}</summary>\n\n{}\n</details>\n\n",
        plural(g.members.len(), "service"),
        member_lists(lists)
    )
}

fn same_details(d: &ManifestDiff, g: &SameChange) -> String {
    let first = &d.changed[g.members[0]];
    let fence = fence_for(&first.diff);
    let h = g.headline(d);
    format!(
        "<details>\n<summary><b>{}{}</b></summary>\n\nThe diff of the first, {}:\n\n{fence}diff\n{}{fence}\n\nAll {}:\n\n{}\n</details>\n\n",
        h[..1].to_uppercase(),
        code_html(&h[1..]),
        md_resource(&first.id),
        first.diff,
        g.members.len(),
        member_lists(g.by_group(d)),
    )
}

/// The Changed section: every change in one line (a version line, a group, or, when
/// everything does not fit, a changed object), then the diffs (one per group), then
/// the lists of a group's members. When all of it fits, a changed object gets no line
/// of its own: its collapsible diff says what changes.
fn changed_section(d: &ManifestDiff, g: &Groups, budget: &mut Budget) {
    let entries = change_entries(d, g);
    let mut lines = String::new();
    let mut blocks = Vec::new();
    let mut lists = Vec::new();
    for e in &entries {
        match e {
            ChangeEntry::Version(v) => lines.push_str(&version_line(v)),
            ChangeEntry::Versions(vg) => {
                lines.push_str(&versions_line(d, vg));
                lists.push(versions_details(d, vg));
            }
            ChangeEntry::Object(c) => blocks.push(details(c)),
            ChangeEntry::Same(sc) => {
                lines.push_str(&same_line(d, sc));
                blocks.push(same_details(d, sc));
            }
        }
    }
    let header = format!("#### Changed ({})\n\n", d.changed.len());
    let whole = lines.len()
        + 1
        + blocks.iter().map(String::len).sum::<usize>()
        + lists.iter().map(String::len).sum::<usize>();
    let short = budget.out.len() + header.len() + whole > budget.limit;
    if !budget.push(&header) {
        budget.resources_left += d.changed.len();
        return;
    }
    // The lines, in order; what has none is counted as not shown.
    let mut summarised = 0;
    for e in &entries {
        let line = match e {
            ChangeEntry::Version(v) => version_line(v),
            ChangeEntry::Versions(vg) => versions_line(d, vg),
            ChangeEntry::Object(c) if short => object_line(c),
            ChangeEntry::Object(_) => continue,
            ChangeEntry::Same(sc) => same_line(d, sc),
        };
        if !budget.push(&line) {
            break;
        }
        summarised += match e {
            ChangeEntry::Version(v) => v.objects.len(),
            ChangeEntry::Versions(vg) => vg
                .members
                .iter()
                .map(|&i| d.versions[i].objects.len())
                .sum(),
            ChangeEntry::Object(_) => 1,
            ChangeEntry::Same(sc) => sc.members.len(),
        };
    }
    if budget.full {
        budget.resources_left += d.changed.len() - summarised;
        return;
    }
    if !lines.is_empty() || short {
        budget.push("\n");
    }
    // Everything fits, or every change has its line above: a diff left out is counted
    // as such.
    for (i, block) in blocks.iter().enumerate() {
        if !budget.push(block) {
            budget.diffs_left += blocks.len() - i;
            break;
        }
    }
    budget.lists.extend(lists);
}

/// Pushes risk or info lines, those alike about many objects once (their objects listed
/// at the end of the comment); returns how many got no line.
fn push_findings(budget: &mut Budget, findings: &[Risk]) -> usize {
    let groups = finding_groups(findings);
    let group_of = |i: usize| groups.iter().find(|g| g.members.contains(&i));
    for (i, r) in findings.iter().enumerate() {
        let (line, list) = match group_of(i) {
            Some(g) if g.members[0] == i => (
                format!("- {} (listed below)\n", g.headline(findings)),
                Some(finding_details(g, findings)),
            ),
            Some(_) => continue,
            None => (md_finding(r), None),
        };
        if !budget.push(&line) {
            // Not shown: this one and the next, but members of a group shown above.
            return (i..findings.len())
                .filter(|&j| group_of(j).is_none_or(|g| g.members[0] >= i))
                .count();
        }
        budget.lists.extend(list);
    }
    0
}

fn finding_details(g: &FindingGroup, findings: &[Risk]) -> String {
    format!(
        "<details>\n<summary>{}</summary>\n\n{}\n</details>\n\n",
        code_html(&g.headline(findings)),
        member_lists(g.by_group(findings))
    )
}
