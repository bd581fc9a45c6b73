//! One error per place and rule (see [`once_per_place`]).

use crate::diagnostic::Diagnostic;

/// One error per place and rule: a template in a shared layer that is wrong in
/// every environment (`host = "API.{{ env.domain }}"`) gives one message per
/// environment, each naming its own value; the first is kept and says how many more
/// there were. Warnings stay one per environment or cluster (KG032 names the cluster
/// whose baseline lacks the object). `diags` is sorted ([`crate::diagnostic::sort`]).
pub(super) fn once_per_place(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut out: Vec<(Diagnostic, usize)> = Vec::new();
    for d in diags {
        if let Some((last, more)) = out.last_mut() {
            if d.is_error()
                && d.origin.is_some()
                && last.origin == d.origin
                && last.code == d.code
                && last.severity == d.severity
                && last.help == d.help
                && last.label == d.label
            {
                *more += 1;
                crate::diagnostic::add_envs(last, &d.envs);
                continue;
            }
        }
        out.push((d, 0));
    }
    out.into_iter()
        .map(|(mut d, more)| {
            if more > 0 {
                // Before the advice, which renders as the help line.
                if d.help.is_none() {
                    if let Some((problem, advice)) = crate::diagnostic::split_advice(&d.message) {
                        d.message = problem;
                        d.help = Some(advice);
                    }
                }
                d.message
                    .push_str(&format!(" (and {more} more like it from this line)"));
            }
            d
        })
        .collect()
}
