//! One diagnostic for the same finding in several environments.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::workspace::GENERATED_DIR;

/// The same finding in several environments (a value from platform.toml or
/// `[defaults]`, a file under `manifests/_all/`) becomes one diagnostic whose target
/// names every environment: `generated/{dev,prod}/api/deployment.yaml`. A message
/// that names the environment (a namespace `dev-api`) names them the same way:
/// `{dev,prod}-api`.
pub(super) fn collapse_environments(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    type Key = (&'static str, String, Option<(usize, usize)>, String, String);
    let mut out: Vec<Diagnostic> = Vec::new();
    // Of each diagnostic: its environments, and its message with theirs left out.
    let mut envs: Vec<(Vec<String>, Option<String>)> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let prefix = format!("{GENERATED_DIR}/");
    for d in diags {
        let split = d.target.as_ref().and_then(|t| {
            let rest = t.file.strip_prefix(&prefix)?;
            let (env, rest) = rest.split_once('/')?;
            Some((env.to_string(), rest.to_string(), t.field.clone()))
        });
        let (Some(origin), Some((env, rest, field))) = (&d.origin, split) else {
            out.push(d);
            envs.push((Vec::new(), None));
            continue;
        };
        let template = without_env(&d.message, &env);
        let at = Some((origin.file.0, origin.span.start));
        // The same message word for word does not depend on the environment, even
        // where it has the environment's name in it (a cluster named like it): it
        // is matched as it is, and kept as it is.
        let same: Key = (d.code, d.message.clone(), at, rest.clone(), field.clone());
        let key: Key = (
            d.code,
            template.clone().unwrap_or_else(|| d.message.clone()),
            at,
            rest,
            field,
        );
        match index.get(&same).or_else(|| index.get(&key)) {
            Some(&i) => {
                if out[i].message == d.message {
                    envs[i].1 = None;
                }
                envs[i].0.push(env);
                crate::diagnostic::add_envs(&mut out[i], &d.envs);
            }
            None => {
                index.insert(same, out.len());
                index.insert(key, out.len());
                out.push(d);
                envs.push((vec![env], template));
            }
        }
    }
    for (d, (mut envs, template)) in out.iter_mut().zip(envs) {
        envs.sort();
        if envs.len() > 1 {
            let all = format!("{{{}}}", envs.join(","));
            if let Some(t) = &mut d.target {
                if let Some((_, rest)) =
                    t.file.strip_prefix(&prefix).and_then(|r| r.split_once('/'))
                {
                    t.file = format!("{prefix}{all}/{rest}");
                }
            }
            if let Some(template) = template {
                d.message = template.replace(ENV_MARK, &all);
            }
        }
    }
    out
}

/// Stands for the environment's name in a message (see [`without_env`]).
const ENV_MARK: &str = "\u{0}";

/// `message` with each whole-word `env` (between characters that are not letters,
/// digits, `_` or `.`) as [`ENV_MARK`]; `None` when it names no environment.
fn without_env(message: &str, env: &str) -> Option<String> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut out = String::with_capacity(message.len());
    let mut found = false;
    let mut rest = message;
    while let Some(i) = rest.find(env) {
        let before = rest[..i].chars().next_back().or(out.chars().next_back());
        let after = rest[i + env.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_none_or(|c| !word(c)) && after.is_none_or(|c| !word(c)) {
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
