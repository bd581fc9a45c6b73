//! The pattern matching Argo CD's AppProject checks use, reproduced for offline checks.
//!
//! Two matchers, as in Argo CD (v3.6, `pkg/apis/application/v1alpha1/app_project_types.go`
//! `globMatch`, and `types.go` `isResourceInList`):
//!
//! - [`glob`]: gobwas/glob semantics, used for source repositories (with `/` as the
//!   separator: `*` does not cross `/`, `**` does) and for destination servers, names
//!   and namespaces (no separator: `*` crosses anything). `?` is one character,
//!   `{a,b}` alternatives, `[abc]`/`[!abc]`/`[a-z]` a character class. The bare pattern
//!   `*` matches everything, the empty string included.
//! - [`path_match`]: Go's `filepath.Match` semantics, used for the group and kind of
//!   resource allow and deny lists: `*` matches any run of characters but `/`, `?` one
//!   character but `/`, `[...]` a class; a malformed pattern matches nothing.

/// Whether `value` matches the gobwas-style `pattern`; with `separator`, `*` and `?`
/// do not match it (`**` does).
pub fn glob(pattern: &str, value: &str, separator: Option<char>) -> bool {
    if pattern == "*" {
        return true;
    }
    // A pattern with none of the special characters matches itself alone (every
    // character of it is compared as a literal below): most project destinations are
    // plain namespaces and servers, checked for every object of every Application.
    if !pattern.contains(['*', '?', '[', '{', '\\']) {
        return pattern == value;
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    expand_braces(&p)
        .iter()
        .any(|alt| glob_at(alt, 0, &v, 0, separator))
}

/// Every alternative of a pattern with `{a,b}` groups (nested groups included).
fn expand_braces(p: &[char]) -> Vec<Vec<char>> {
    let Some(open) = p.iter().position(|&c| c == '{') else {
        return vec![p.to_vec()];
    };
    let mut depth = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, &c) in p.iter().enumerate().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        // An unclosed brace is a literal character.
        return vec![p.to_vec()];
    };
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let mut alt = p[..open].to_vec();
        alt.extend_from_slice(&p[w[0] + 1..w[1]]);
        alt.extend_from_slice(&p[close + 1..]);
        out.extend(expand_braces(&alt));
    }
    out
}

fn glob_at(p: &[char], pi: usize, v: &[char], vi: usize, sep: Option<char>) -> bool {
    if pi == p.len() {
        return vi == v.len();
    }
    match p[pi] {
        '*' => {
            let super_star = p.get(pi + 1) == Some(&'*');
            let next = if super_star { pi + 2 } else { pi + 1 };
            let mut j = vi;
            loop {
                if glob_at(p, next, v, j, sep) {
                    return true;
                }
                if j == v.len() || (!super_star && Some(v[j]) == sep) {
                    return false;
                }
                j += 1;
            }
        }
        '?' => vi < v.len() && Some(v[vi]) != sep && glob_at(p, pi + 1, v, vi + 1, sep),
        '[' => match class(p, pi) {
            Some((matches, end)) => {
                vi < v.len() && matches(v[vi]) && glob_at(p, end, v, vi + 1, sep)
            }
            None => vi < v.len() && v[vi] == '[' && glob_at(p, pi + 1, v, vi + 1, sep),
        },
        '\\' if pi + 1 < p.len() => {
            vi < v.len() && v[vi] == p[pi + 1] && glob_at(p, pi + 2, v, vi + 1, sep)
        }
        c => vi < v.len() && v[vi] == c && glob_at(p, pi + 1, v, vi + 1, sep),
    }
}

/// The character class starting at `p[start] == '['`: a matcher and the index after
/// its `]`, or `None` when it is not closed.
#[allow(clippy::type_complexity)]
fn class(p: &[char], start: usize) -> Option<(Box<dyn Fn(char) -> bool + '_>, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let body_start = i;
    while i < p.len() && (p[i] != ']' || i == body_start) {
        i += 1;
    }
    if i >= p.len() {
        return None;
    }
    let body = &p[body_start..i];
    let matches = move |c: char| {
        let mut k = 0;
        let mut hit = false;
        while k < body.len() {
            if k + 2 < body.len() && body[k + 1] == '-' {
                hit |= body[k] <= c && c <= body[k + 2];
                k += 3;
            } else {
                hit |= body[k] == c;
                k += 1;
            }
        }
        hit != negate
    };
    Some((Box::new(matches), i + 1))
}

/// Go's `filepath.Match` on a name without separators (group and kind names).
pub fn path_match(pattern: &str, value: &str) -> bool {
    // No special character: the pattern matches itself alone, as below.
    if !pattern.contains(['*', '?', '[', '\\']) {
        return pattern == value;
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // `filepath.Match` treats `/` as the separator; group and kind names have none,
    // and its `{}` has no special meaning: no brace expansion here.
    if p.contains(&'{') {
        return pattern == value;
    }
    glob_at(&p, 0, &v, 0, Some('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_limit_single_stars() {
        let sep = Some('/');
        assert!(glob(
            "https://github.com/org/*",
            "https://github.com/org/repo",
            sep
        ));
        assert!(!glob(
            "https://github.com/org/*",
            "https://github.com/org/a/b",
            sep
        ));
        assert!(glob(
            "https://github.com/org/**",
            "https://github.com/org/a/b",
            sep
        ));
        assert!(glob("*", "", sep));
        assert!(glob("*", "anything/at/all", sep));
        assert!(glob("team-*", "team-a/b", None));
        assert!(!glob("team-?", "team-ab", None));
        assert!(glob("team-?", "team-a", None));
    }

    #[test]
    fn braces_and_classes() {
        assert!(glob("{dev,staging}-*", "staging-api", None));
        assert!(!glob("{dev,staging}-*", "prod-api", None));
        assert!(glob("ns-[a-c]", "ns-b", None));
        assert!(!glob("ns-[!a-c]", "ns-b", None));
        assert!(glob("", "", None));
        assert!(!glob("", "x", None));
    }

    /// The shortcut for patterns without special characters decides as the general
    /// matcher does, on every pair of short strings over an alphabet that holds the
    /// separator, brace and bracket ends and a non-ASCII character.
    #[test]
    fn literal_patterns_match_as_the_general_matcher_does() {
        let alphabet = ['a', 'b', '/', '-', '.', ']', '}', ',', '!', 'é'];
        let mut words = vec![String::new()];
        for len in 1..=3 {
            let mut next = Vec::new();
            for w in words.iter().filter(|w| w.chars().count() == len - 1) {
                for c in alphabet {
                    next.push(format!("{w}{c}"));
                }
            }
            words.extend(next);
        }
        for p in &words {
            let pc: Vec<char> = p.chars().collect();
            for v in &words {
                let vc: Vec<char> = v.chars().collect();
                for sep in [None, Some('/')] {
                    let general = expand_braces(&pc)
                        .iter()
                        .any(|alt| glob_at(alt, 0, &vc, 0, sep));
                    assert_eq!(glob(p, v, sep), general || p == "*", "{p:?} {v:?} {sep:?}");
                }
                assert_eq!(
                    path_match(p, v),
                    glob_at(&pc, 0, &vc, 0, Some('/')),
                    "{p:?} {v:?}"
                );
            }
        }
    }

    #[test]
    fn filepath_match_for_kinds() {
        assert!(path_match("*", ""));
        assert!(path_match("*", "apps"));
        assert!(path_match("Cluster*", "ClusterRole"));
        assert!(!path_match("", "apps"));
        assert!(path_match("", ""));
        assert!(!path_match("Role", "ClusterRole"));
    }
}
