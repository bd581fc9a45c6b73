//! `kgen diff`'s text, for a terminal (coloured) or a log.

use std::fmt::Write as _;

use super::{
    change_entries, entries, in_dir, no_differences, wrapped, ChangeEntry, Entry, Groups,
    STALE_FILES_SHOWN,
};
use crate::diagnostic::plural;
use crate::diff::{finding_groups, Counts, DiffReport, Moved, Risk};
use crate::manifest_set::Resource;

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
    if let Some(w) = report.base_is_head_warning() {
        let _ = writeln!(out, "{} {w}", p.yellow("warning:"));
    }
    if let Some(s) = &report.stale {
        let _ = writeln!(
            out,
            "{} {}; this diff shows the render of the inputs (run `kgen render` and commit the result):",
            p.yellow("warning:"),
            s.headline()
        );
        for f in s.files.iter().take(STALE_FILES_SHOWN) {
            let _ = writeln!(out, "  generated/{f}");
        }
        if s.files.len() > STALE_FILES_SHOWN {
            let _ = writeln!(out, "  … {} more", s.files.len() - STALE_FILES_SHOWN);
        }
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
        write_findings(&mut out, &d.risks, &p.yellow("!"));
    }
    if !d.info.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold(&format!("Info ({}):", d.info.len())));
        write_findings(&mut out, &d.info, &p.cyan("i"));
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
        let groups = Groups::of(d);
        for e in change_entries(d, &groups) {
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
                ChangeEntry::Versions(g) => {
                    let _ = writeln!(out, "  {} {}", p.yellow("~"), g.headline(d));
                    for (env, services) in g.by_environment(d) {
                        let names: Vec<String> = services.iter().map(|s| s.to_string()).collect();
                        out.push_str(&wrapped(
                            &format!("      {env} ({}): ", names.len()),
                            "        ",
                            &names,
                            ", ",
                        ));
                    }
                }
                ChangeEntry::Same(g) => {
                    let _ = writeln!(out, "  {} {}", p.yellow("~"), g.headline(d));
                    for (group, names) in g.by_group(d) {
                        out.push_str(&wrapped(
                            &format!("      {group} ({}): ", names.len()),
                            "        ",
                            &names,
                            ", ",
                        ));
                    }
                }
            }
        }
        for (i, c) in d.changed.iter().enumerate() {
            if c.version_only {
                continue;
            }
            let title = match groups.same_of.get(&i).map(|&s| &groups.same[s]) {
                Some(g) if g.members[0] != i => continue,
                Some(g) => format!(
                    "{} (and {} more {} with the same change, listed above)",
                    c.id,
                    g.members.len() - 1,
                    if g.members.len() == 2 {
                        g.kind.clone()
                    } else {
                        crate::diff::plural_kind(&g.kind)
                    }
                ),
                None => c.id.to_string(),
            };
            let _ = writeln!(out, "\n{}", p.bold(&title));
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

/// Risks or info lines, those alike about many objects once, with the objects listed.
fn write_findings(out: &mut String, findings: &[Risk], mark: &str) {
    let groups = finding_groups(findings);
    for (i, r) in findings.iter().enumerate() {
        match groups.iter().find(|g| g.members.contains(&i)) {
            Some(g) if g.members[0] == i => {
                let _ = writeln!(out, "  {mark} {}", g.headline(findings));
                for (group, names) in g.by_group(findings) {
                    out.push_str(&wrapped(
                        &format!("      {group} ({}): ", names.len()),
                        "        ",
                        &names,
                        ", ",
                    ));
                }
            }
            Some(_) => {}
            None => {
                let _ = writeln!(out, "  {mark} {}", risk_line(r));
            }
        }
    }
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
