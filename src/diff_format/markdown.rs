//! `kgen diff`'s Markdown, for a pull-request comment or a job summary, capped below
//! GitHub's comment limit.

use std::fmt::Write as _;

use super::{entries, in_dir, no_differences, Entry, STALE_FILES_SHOWN};
use crate::diagnostic::plural;
use crate::diff::{Changed, DiffReport, Risk, Side};
use crate::manifest_set::{Identity, Resource};

/// Markdown output stays under this many bytes (GitHub's comment limit is 65,536
/// characters; the rest is room for a sticky-comment marker and a header).
pub const MARKDOWN_LIMIT: usize = 60_000;

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
