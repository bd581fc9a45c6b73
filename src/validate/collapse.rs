//! One diagnostic for the same finding in several environments.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::workspace::GENERATED_DIR;

/// The same finding in several environments becomes one diagnostic that names them
/// all. A finding's environment is the one its target is rendered for
/// (`generated/<env>/…`, a finding of the rendered objects) or, without one, the one
/// environment of [`Diagnostic::envs`] (a finding of resolving an environment, such
/// as a secret key outside its prefixes, KG022). Findings at one place of the input,
/// with one rule and one message but for the environment's name, are one: a value
/// from platform.toml or `[defaults]`, a file under `manifests/_all/`. The target
/// names every environment (`generated/{dev,prod}/api/deployment.yaml`), and so do
/// the message, label and help where they name it (a namespace `dev-api` becomes
/// `{dev,prod}-api`); a label or help that differs otherwise (the prefixes each
/// environment may read) lists each environment's, separated by `; `.
pub(crate) fn collapse_environments(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    type Key = (
        &'static str,
        bool,
        String,
        Option<(usize, usize)>,
        String,
        String,
    );
    let mut out: Vec<Diagnostic> = Vec::new();
    // Of each diagnostic: its environments, its message with theirs left out, and
    // each environment's label and help.
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let prefix = format!("{GENERATED_DIR}/");
    for d in diags {
        let split = match &d.target {
            Some(t) => t.file.strip_prefix(&prefix).and_then(|rest| {
                let (env, rest) = rest.split_once('/')?;
                Some((env.to_string(), rest.to_string(), t.field.clone()))
            }),
            None => match d.envs.as_slice() {
                [env] => Some((env.clone(), String::new(), String::new())),
                _ => None,
            },
        };
        let (Some(origin), Some((env, rest, field))) = (&d.origin, split) else {
            out.push(d);
            groups.push(Group::default());
            continue;
        };
        let template = without_env(&d.message, &env);
        let at = Some((origin.file.0, origin.span.start));
        // The same message word for word does not depend on the environment, even
        // where it has the environment's name in it (a cluster named like it): it
        // is matched as it is, and kept as it is.
        let same: Key = (
            d.code,
            d.is_error(),
            d.message.clone(),
            at,
            rest.clone(),
            field.clone(),
        );
        let key: Key = (
            d.code,
            d.is_error(),
            template.clone().unwrap_or_else(|| d.message.clone()),
            at,
            rest,
            field,
        );
        let each = (env.clone(), d.label.clone(), d.help.clone());
        match index.get(&same).or_else(|| index.get(&key)) {
            Some(&i) => {
                if out[i].message == d.message {
                    groups[i].template = None;
                }
                groups[i].envs.push(env);
                groups[i].each.push(each);
                crate::diagnostic::add_envs(&mut out[i], &d.envs);
            }
            None => {
                index.insert(same, out.len());
                index.insert(key, out.len());
                out.push(d);
                groups.push(Group {
                    envs: vec![env],
                    template,
                    each: vec![each],
                });
            }
        }
    }
    for (d, mut g) in out.iter_mut().zip(groups) {
        g.envs.sort();
        if g.envs.len() > 1 {
            let all = format!("{{{}}}", g.envs.join(","));
            if let Some(t) = &mut d.target {
                if let Some((_, rest)) =
                    t.file.strip_prefix(&prefix).and_then(|r| r.split_once('/'))
                {
                    t.file = format!("{prefix}{all}/{rest}");
                }
            }
            if let Some(template) = &g.template {
                d.message = template.replace(ENV_MARK, &all);
            }
            g.each.sort();
            d.label = merged(&g.each, &all, |(_, l, _)| l.as_deref());
            d.help = merged(&g.each, &all, |(_, _, h)| h.as_deref());
        }
    }
    out
}

/// The diagnostics of one finding in several environments, as they are merged.
#[derive(Default)]
struct Group {
    envs: Vec<String>,
    /// The message with the environment's name left out ([`without_env`]); `None`
    /// when it names none or is the same word for word in every environment.
    template: Option<String>,
    /// Each environment's label and help, by environment.
    each: Vec<(String, Option<String>, Option<String>)>,
}

/// One label (or help) for the environments `all` (`{dev,prod}`) from each one's:
/// the same text in all, or the same but for the environment's name (named `all`),
/// or else each distinct one, in the order of the environments, separated by `; `.
fn merged(
    each: &[(String, Option<String>, Option<String>)],
    all: &str,
    get: impl Fn(&(String, Option<String>, Option<String>)) -> Option<&str>,
) -> Option<String> {
    let first = get(each.first()?);
    if each.iter().all(|e| get(e) == first) {
        return first.map(str::to_string);
    }
    let templates: Vec<Option<String>> = each
        .iter()
        .map(|e| get(e).map(|t| without_env(t, &e.0).unwrap_or_else(|| t.to_string())))
        .collect();
    if templates.iter().all(|t| *t == templates[0]) {
        return templates[0].as_ref().map(|t| t.replace(ENV_MARK, all));
    }
    let mut distinct: Vec<&str> = Vec::new();
    for text in each.iter().filter_map(&get) {
        if !distinct.contains(&text) {
            distinct.push(text);
        }
    }
    Some(distinct.join("; "))
}

/// Stands for the environment's name in a message (see [`without_env`]).
const ENV_MARK: &str = "\u{0}";

/// `message` with each whole-word `env` (after a character that is not a letter,
/// digit or `_`, before one that is not a letter, digit, `_` or `.`) as
/// [`ENV_MARK`]; `None` when it names no environment.
fn without_env(message: &str, env: &str) -> Option<String> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    // After a `.`, the last part of a dotted name (`[environments.dev]`), not one in
    // its middle (`dev.example.com`), which the `.` after it excludes.
    let word_before = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(message.len());
    let mut found = false;
    let mut rest = message;
    while let Some(i) = rest.find(env) {
        let before = rest[..i].chars().next_back().or(out.chars().next_back());
        let after = rest[i + env.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_none_or(|c| !word_before(c)) && after.is_none_or(|c| !word(c)) {
            out.push_str(ENV_MARK);
            found = true;
        } else {
            out.push_str(env);
        }
        rest = &rest[i + env.len()..];
    }
    out.push_str(rest);
    found.then_some(out)
}
