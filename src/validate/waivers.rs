//! Waivers: which waivers apply to an object (the service's, the platform's and the
//! object's own `kgen.dev/waive-<RULE>` annotations), the waiver that suppresses a
//! finding, and KG200 for malformed waivers.

use serde_json::Value;

use super::{policy, Finding, Subject, Waived, WAIVER_ANNOTATION_PREFIX};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::rules;
use crate::source::Origin;
use crate::spec::{PlatformSpec, Waiver};

/// Waivers that apply to an object, most specific first: the service's, the
/// platform's, then the object's own `kgen.dev/waive-<RULE>` annotations.
pub fn applicable_waivers(subject: &Subject) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let from_spec = |w: &Waiver| (w.rule.clone(), w.reason.clone());
    if let Some(svc) = subject.service {
        out.extend(svc.waivers.iter().map(from_spec));
    }
    if let Some(p) = subject.platform {
        out.extend(p.waivers.iter().map(from_spec));
    }
    out.extend(
        annotation_waivers(subject.value)
            .into_iter()
            .map(|(r, why, _)| (r, why)),
    );
    out
}

/// `kgen.dev/waive-<RULE>` annotations of an object: (rule, reason, annotation key).
pub fn annotation_waivers(object: &Value) -> Vec<(String, String, String)> {
    let Some(annotations) = object
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    annotations
        .iter()
        .filter_map(|(k, v)| {
            let rule = k.strip_prefix(WAIVER_ANNOTATION_PREFIX)?;
            Some((
                rule.to_string(),
                v.as_str().unwrap_or("").to_string(),
                k.clone(),
            ))
        })
        .collect()
}

/// The waiver that suppresses `f`, if any (only policy rules can be waived, and
/// only with a reason).
pub(super) fn waiver_for(f: &Finding, waivers: &[(String, String)]) -> Option<Waived> {
    if !policy::is_waivable(f.code) {
        return None;
    }
    waivers
        .iter()
        .find(|(rule, reason)| rule == f.code && !reason.trim().is_empty())
        .map(|(rule, reason)| Waived {
            rule: rule.clone(),
            reason: one_line(reason),
        })
}

/// A reason as one line of a YAML comment: whitespace runs become one space.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What is wrong with one waiver (`rule` and `reason` as written), if anything:
/// (problem with the rule or the reason, message, help).
pub fn waiver_problem(rule: &str, reason: &str) -> Option<(WaiverPart, String, String)> {
    if rules::ALL.iter().all(|r| r.code != rule) {
        let waivable = rules::ALL
            .iter()
            .map(|r| r.code)
            .filter(|c| policy::is_waivable(c));
        let hint = did_you_mean(rule, waivable)
            .map(|h| format!("{h} "))
            .unwrap_or_default();
        return Some((
            WaiverPart::Rule,
            format!("waiver names `{rule}`, which is not a kgen rule"),
            format!("{hint}policy rules are KG201-KG218; see docs/rules.md"),
        ));
    }
    if !policy::is_waivable(rule) {
        return Some((
            WaiverPart::Rule,
            format!("{rule} cannot be waived: only policy rules (KG201-KG218) can"),
            "schema, semantic and input errors describe objects the cluster or kgen would refuse; fix the input instead".into(),
        ));
    }
    if reason.trim().is_empty() {
        return Some((
            WaiverPart::Reason,
            format!("the waiver of {rule} has no reason"),
            "write why the rule does not apply here, e.g. reason = \"batch worker: no HTTP endpoint to probe\"; it is shown in the generated files".into(),
        ));
    }
    None
}

/// Which part of a waiver a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaiverPart {
    Rule,
    Reason,
}

/// KG200 for every malformed waiver of the platform and its services (each
/// reported once, although services appear in every environment).
pub(super) fn check_waivers(spec: &PlatformSpec) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut seen: Vec<Origin> = Vec::new();
    let lists = std::iter::once(&spec.waivers).chain(
        spec.environments
            .iter()
            .flat_map(|e| e.services.iter().map(|s| &s.waivers)),
    );
    for list in lists {
        let mut rules_seen: Vec<&str> = Vec::new();
        for w in list {
            if seen.contains(&w.rule_origin) {
                continue;
            }
            seen.push(w.rule_origin.clone());
            if let Some((part, message, help)) = waiver_problem(&w.rule, &w.reason) {
                let origin = match part {
                    WaiverPart::Rule => w.rule_origin.clone(),
                    WaiverPart::Reason => w.reason_origin.clone(),
                };
                out.push(
                    Diagnostic::error(rules::WAIVER, message)
                        .at(origin)
                        .help(help),
                );
            } else if rules_seen.contains(&w.rule.as_str()) {
                out.push(
                    Diagnostic::error(rules::WAIVER, format!("{} is waived twice here", w.rule))
                        .at(w.rule_origin.clone())
                        .help("keep one waiver per rule, with one reason"),
                );
            }
            rules_seen.push(&w.rule);
        }
    }
    out
}
