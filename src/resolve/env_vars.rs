//! Environment variables as the kubelet reads them: `$` in `env` values, references
//! between variables, and the order of the container's `env` list.
//!
//! # What the kubelet does
//!
//! The kubelet builds a container's environment in `makeEnvironmentVariables`
//! (kubernetes/kubernetes, `pkg/kubelet/kubelet_pods.go`):
//!
//! 1. every `envFrom` source first, in list order, copied into a map `tmpEnv` **as they
//!    are**: ConfigMap and Secret values are never expanded (a later source wins a name);
//! 2. then every `env` entry **in list order**: a non-empty `value` becomes
//!    `expansion.Expand(value, expansion.MappingFuncFor(tmpEnv, serviceEnv))` and is stored
//!    in `tmpEnv` under its name (replacing an `envFrom` variable of that name). So a value
//!    sees the `envFrom` variables, the `env` entries *before* it (already expanded) and the
//!    service links (`<SERVICE>_SERVICE_HOST`, ...); never an entry after it.
//!
//! `Expand` (`third_party/forked/golang/expansion/expand.go`, ported as
//! [`kubelet_expand`]) reads `$$` as one literal `$`; `$(NAME)` as the value of `NAME`
//! when the map has it, and as the text `$(NAME)` unchanged when it has not; `$(` without
//! a `)` and any other `$x` as themselves. A substituted value is not scanned again. The
//! API says the same on `EnvVar.value`: "Variable references $(VAR_NAME) are expanded
//! using the previously defined environment variables in the container and any service
//! environment variables. If a variable cannot be resolved, the reference in the input
//! string will be unchanged. Double $$ are reduced to a single $".
//!
//! kgen used to write `env` sorted by name with values as written, so whether
//! `"total $(PRICE) EUR"` expanded depended on whether the variable's name sorted after
//! `PRICE`, and a literal `$$` reached the process as `$`.
//!
//! # What kgen does
//!
//! - A value (after templates) is **literal**: the process sees exactly the text written.
//!   kgen doubles every `$` the kubelet would otherwise read as `$$` or `$(`.
//! - `${NAME}` in an `env` value is a **reference** to the variable `NAME` of the same
//!   container: another `env` entry, a `config` entry (`VERSION` included), or, with the
//!   External Secrets backend, a secret (loaded with `envFrom`). kgen writes it `$(NAME)` and
//!   puts every `env` entry after the entries it references (otherwise by name, so a
//!   platform without references keeps its order). A reference therefore always means the
//!   variable's final value in the container.
//! - Before a `{`, `$$` is one literal `$`: `$${` writes a literal `${`, `$$${X}` a `$`
//!   followed by the reference. A `${` that is not `${NAME}` is an error (KG025), as is a
//!   reference to a variable the container does not have (KG025), a cycle (KG026) and a
//!   reference in a `config` value, which the kubelet never expands (KG027). `config` values
//!   follow the same syntax and are otherwise written as they are.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

// `VERSION`: the ConfigMap key kgen defines in every service, so a variable of every container.
use super::{Amend, Resolver, VERSION_KEY};
use crate::diagnostic::did_you_mean;
use crate::input::ServiceLayer;
use crate::merge::Layers;
use crate::rules;
use crate::source::Origin;
use crate::spec::{EnvSpec, SecretsBackend};

/// A value split into literal text and `${NAME}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Ref(String),
}

/// A `${` that does not start a `${NAME}` reference; `text` is what follows, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Malformed {
    text: String,
}

/// Splits a value into text and references: `${NAME}` is a reference (`NAME`: letters,
/// digits and `_`, not starting with a digit); before a `{`, `$$` is one literal `$`;
/// every other character, `$` included, is literal. Adjacent texts are merged.
fn parse(value: &str) -> Result<Vec<Piece>, Malformed> {
    let b = value.as_bytes();
    let mut pieces = Vec::new();
    let mut text = String::new();
    // `value[done..i]` is literal text not yet copied into `text`.
    let mut done = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        let run = i;
        while b.get(i) == Some(&b'$') {
            i += 1;
        }
        if b.get(i) != Some(&b'{') {
            continue;
        }
        let dollars = i - run;
        text.push_str(&value[done..run]);
        text.extend(std::iter::repeat_n('$', dollars / 2));
        done = i;
        if dollars % 2 == 0 {
            // `$${`: the `{` is literal, copied with the text that follows.
            continue;
        }
        let rest = &value[i + 1..];
        let len = rest
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        let name = &rest[..len];
        if name.is_empty()
            || name.as_bytes()[0].is_ascii_digit()
            || rest.as_bytes().get(len) != Some(&b'}')
        {
            return Err(Malformed {
                text: excerpt(&value[i - 1..]),
            });
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Ref(name.to_string()));
        i += len + 2;
        done = i;
    }
    text.push_str(&value[done..]);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// The start of a malformed `${...`: up to its `}`, or 24 characters.
fn excerpt(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == 24 {
            break;
        }
        out.push(c);
        if c == '}' {
            break;
        }
    }
    out
}

/// The value to write in the container's `env` list: literal text with every `$` the
/// kubelet would read as the start of `$$` or `$(` doubled, references as `$(NAME)`.
/// A literal value (no references) as the kubelet must get it to pass it through
/// unchanged: every `$` it would read as `$$` or `$(` doubled. For the env of sidecars
/// and init containers, whose values are literal.
pub fn kubelet_literal(value: &str) -> String {
    kubelet_value(&[Piece::Text(value.to_string())])
}

fn kubelet_value(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Ref(name) => {
                out.push_str("$(");
                out.push_str(name);
                out.push(')');
            }
            Piece::Text(text) => {
                let after = match pieces.get(i + 1) {
                    Some(Piece::Ref(_)) => Some('$'),
                    Some(Piece::Text(t)) => t.chars().next(),
                    None => None,
                };
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    out.push(c);
                    if c == '$' && matches!(chars.peek().copied().or(after), Some('$' | '(')) {
                        out.push('$');
                    }
                }
            }
        }
    }
    out
}

/// The kubelet's `expansion.Expand` (kubernetes/kubernetes,
/// `third_party/forked/golang/expansion/expand.go`), ported: `$$` is `$`, `$(NAME)` is
/// `lookup(NAME)` or, when that is `None`, `$(NAME)` unchanged; an unclosed `$(` and any
/// other `$x` stay as they are. Substituted values are not scanned again.
pub fn kubelet_expand(value: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> String {
    let b = value.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < b.len() {
        if b[cursor] == b'$' && cursor + 1 < b.len() {
            out.push_str(&value[checkpoint..cursor]);
            let rest = &value[cursor + 1..];
            let advance = match b[cursor + 1] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest[1..].find(')') {
                    Some(j) => {
                        let name = &rest[1..=j];
                        match lookup(name) {
                            Some(v) => out.push_str(&v),
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        j + 2
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    let c = rest.chars().next().expect("not at the end");
                    out.push('$');
                    out.push(c);
                    c.len_utf8()
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.push_str(&value[checkpoint..]);
    out
}

/// The names a value written for the kubelet references with `$(NAME)`.
fn kubelet_references(value: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    kubelet_expand(value, |name| {
        names.insert(name.to_string());
        None
    });
    names
}

/// The container's `env` list: every variable after the variables of `env` its value
/// references (`$(NAME)`, read the kubelet's way), otherwise by name. Without
/// references this is name order. (Resolution refuses cycles; were there one, its
/// variables would come last, by name.)
pub fn kubelet_order(env: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    let deps: BTreeMap<&str, BTreeSet<&str>> = env
        .iter()
        .map(|(name, value)| {
            let refs = kubelet_references(value)
                .iter()
                .filter(|r| r.as_str() != name.as_str())
                .filter_map(|r| env.get_key_value(r).map(|(k, _)| k.as_str()))
                .collect();
            (name.as_str(), refs)
        })
        .collect();
    let (mut order, rest) = topological(&deps);
    order.extend(rest);
    order
        .into_iter()
        .map(|name| (name, env[name].as_str()))
        .collect()
}

/// Kahn's algorithm, taking the first name in order among the variables ready: the
/// order by name with every variable moved after its dependencies. `deps` may only
/// name its own keys. Returns the order and the variables left waiting on a cycle.
fn topological<'a>(deps: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut waiting: BTreeMap<&str, usize> = deps.iter().map(|(k, d)| (*k, d.len())).collect();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, d) in deps {
        for x in d {
            dependents.entry(x).or_default().push(k);
        }
    }
    let mut ready: BTreeSet<&str> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(k, _)| *k)
        .collect();
    let mut order = Vec::with_capacity(deps.len());
    while let Some(k) = ready.pop_first() {
        order.push(k);
        waiting.remove(k);
        for d in dependents.get(k).into_iter().flatten() {
            if let Some(n) = waiting.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(d);
                }
            }
        }
    }
    (order, waiting.into_keys().collect())
}

/// The shortest cycle through `start` among `nodes`, as `[start, ..., start]`.
fn cycle_through<'a>(
    start: &'a str,
    deps: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    nodes: &BTreeSet<&'a str>,
) -> Option<Vec<&'a str>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for &d in deps.get(n).into_iter().flatten() {
            if d == start {
                let mut path = vec![start, n];
                let mut at = n;
                while at != start {
                    at = parent[at];
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            if nodes.contains(d) && !parent.contains_key(d) {
                parent.insert(d, n);
                queue.push_back(d);
            }
        }
    }
    None
}

impl<'a> Resolver<'a> {
    /// Checks the `${NAME}` references of a service's `env` and `config` values (as
    /// templates rendered them) and returns both maps with their values as the
    /// container must get them: `env` values in the kubelet's syntax (see the module
    /// documentation), `config` values as written with `$${` read as `${`.
    pub(super) fn kubelet_env(
        &mut self,
        env: &EnvSpec,
        layers: &Layers<'a, ServiceLayer>,
        env_vars: BTreeMap<String, String>,
        config: BTreeMap<String, String>,
        origins: &BTreeMap<String, Origin>,
    ) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let origin = |field: &str, key: &str| origins.get(&format!("{field}.{key}")).cloned();
        let declared = |field: &str| {
            let prefix = format!("{field}.");
            origins
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
                .collect::<BTreeSet<String>>()
        };
        let secrets: Vec<&str> = layers
            .pick(|l| l.secrets.as_ref())
            .map(|l| l.value.iter().map(|s| s.name.value.as_str()).collect())
            .unwrap_or_default();
        let secret_vars = env.secrets_backend == SecretsBackend::ExternalSecrets;
        let env_names = declared("env");
        let mut known: BTreeSet<String> = env_names.clone();
        known.extend(declared("config"));
        known.insert(VERSION_KEY.to_string());
        if secret_vars {
            known.extend(secrets.iter().map(|s| s.to_string()));
        }

        let mut out_config = BTreeMap::new();
        for (key, value) in config {
            let Some(at) = origin("config", &key) else {
                continue;
            };
            match parse(&value) {
                Err(m) => self.malformed("config entry", &key, &m, &at),
                Ok(pieces) => {
                    if let Some(name) = pieces.iter().find_map(|p| match p {
                        Piece::Ref(n) => Some(n),
                        Piece::Text(_) => None,
                    }) {
                        let needle = format!("${{{name}}}");
                        let at = self.narrow(&at, &needle);
                        self.error(
                            rules::REFERENCE_NOT_EXPANDED,
                            at,
                            format!("config entry `{key}` refers to `{needle}`, but the kubelet does not expand references in config entries"),
                        )
                        .help(format!("config entries reach the container through envFrom exactly as written: move `{key}` to `env`, where `${{NAME}}` references work, or write `$${{` for a literal `${{`"));
                        continue;
                    }
                    let text: String = pieces
                        .into_iter()
                        .map(|p| match p {
                            Piece::Text(t) | Piece::Ref(t) => t,
                        })
                        .collect();
                    out_config.insert(key, text);
                }
            }
        }

        let mut out_env = BTreeMap::new();
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (key, value) in &env_vars {
            let Some(at) = origin("env", key) else {
                continue;
            };
            let pieces = match parse(value) {
                Ok(p) => p,
                Err(m) => {
                    self.malformed("environment variable", key, &m, &at);
                    continue;
                }
            };
            let mut refs = BTreeSet::new();
            for p in &pieces {
                let Piece::Ref(name) = p else { continue };
                if env_names.contains(name) {
                    refs.insert(name.clone());
                } else if !known.contains(name) {
                    self.unknown_reference(key, name, &known, &secrets, &at);
                }
            }
            deps.insert(key.clone(), refs);
            out_env.insert(key.clone(), kubelet_value(&pieces));
        }

        // Cycles, each reported once, at its first variable by name.
        let graph: BTreeMap<&str, BTreeSet<&str>> = deps
            .iter()
            .map(|(k, d)| {
                let d = d
                    .iter()
                    .filter(|n| deps.contains_key(*n))
                    .map(String::as_str)
                    .collect();
                (k.as_str(), d)
            })
            .collect();
        let (_, waiting) = topological(&graph);
        let waiting: BTreeSet<&str> = waiting.into_iter().collect();
        let mut reported: BTreeSet<&str> = BTreeSet::new();
        for &start in &waiting {
            if reported.contains(start) {
                continue;
            }
            let Some(cycle) = cycle_through(start, &graph, &waiting) else {
                continue; // only waits on a cycle reported elsewhere
            };
            if cycle.iter().any(|n| reported.contains(n)) {
                continue;
            }
            reported.extend(cycle.iter().copied());
            let Some(at) = origin("env", start) else {
                continue;
            };
            let needle = format!("${{{}}}", cycle[1]);
            let at = self.narrow(&at, &needle);
            let message = if cycle.len() == 2 {
                format!("environment variable `{start}` refers to itself")
            } else {
                format!(
                    "environment variables refer to each other in a cycle: {}",
                    cycle.join(" → ")
                )
            };
            let label = if cycle.len() == 2 {
                "refers to itself here".to_string()
            } else {
                format!("`{start}` refers to `{}` here", cycle[1])
            };
            self.error(rules::ENV_REFERENCE_CYCLE, at, message)
                .label(label)
                .help("the kubelet defines variables one after another, so a cycle cannot be expanded: write one of the values without the reference (`$${` is a literal `${`)");
        }
        (out_env, out_config)
    }

    fn malformed(&mut self, what: &str, key: &str, m: &Malformed, at: &Origin) {
        let at = self.narrow(at, &m.text);
        self.error(
            rules::ENV_REFERENCE,
            at,
            format!("{what} `{key}`: `{}` is not a reference", m.text),
        )
        .label("`${` starts a reference")
        .help("a reference is `${NAME}`, NAME made of letters, digits and `_` (not starting with a digit); write `$${` for a literal `${`");
    }

    fn unknown_reference(
        &mut self,
        key: &str,
        name: &str,
        known: &BTreeSet<String>,
        secrets: &[&str],
        at: &Origin,
    ) {
        let needle = format!("${{{name}}}");
        let at = self.narrow(at, &needle);
        let hint = did_you_mean(name, known.iter().map(String::as_str));
        let help = if secrets.contains(&name) {
            format!(
                "`{name}` is a secret: with `secrets_backend = \"csi\"` secrets are files under /mnt/secrets-store, not variables; with `secrets_backend = \"external-secrets\"` they are variables a value can reference"
            )
        } else {
            "a reference names a variable of the same container: one of its `env` entries, a `config` entry (or `VERSION`), or, with the external-secrets backend, a secret; a variable set in an overlay exists only in that environment. Write `$${` for a literal `${`".to_string()
        };
        let d = self.error(
            rules::ENV_REFERENCE,
            at,
            format!("environment variable `{key}` refers to `{needle}`, which is not a variable of the container"),
        );
        if let Some(h) = hint {
            d.label = Some(h);
        }
        d.help = Some(help);
    }

    /// The part of `origin` that reads `needle`, when the source has it there exactly
    /// once (a value without templates or escapes); else all of `origin`.
    fn narrow(&self, origin: &Origin, needle: &str) -> Origin {
        let text = &self.ws.sources.get(origin.file).text;
        let Some(source) = text.get(origin.span.clone()) else {
            return origin.clone();
        };
        let mut hits = source.match_indices(needle);
        match (hits.next(), hits.next()) {
            (Some((at, _)), None) => {
                let start = origin.span.start + at;
                Origin::new(origin.file, start..start + needle.len())
            }
            _ => origin.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Piece {
        Piece::Text(s.into())
    }
    fn var(s: &str) -> Piece {
        Piece::Ref(s.into())
    }

    #[test]
    fn values_are_literal_but_for_references() {
        assert_eq!(parse("plain"), Ok(vec![text("plain")]));
        assert_eq!(parse(""), Ok(vec![]));
        assert_eq!(
            parse("total $(PRICE) $$ $x $ EUR"),
            Ok(vec![text("total $(PRICE) $$ $x $ EUR")])
        );
        assert_eq!(
            parse("total ${PRICE} EUR"),
            Ok(vec![text("total "), var("PRICE"), text(" EUR")])
        );
        assert_eq!(parse("${a_1}${B}"), Ok(vec![var("a_1"), var("B")]));
        assert_eq!(parse("$${PRICE}"), Ok(vec![text("${PRICE}")]));
        assert_eq!(parse("$$${PRICE}"), Ok(vec![text("$"), var("PRICE")]));
        assert_eq!(parse("$$$${PRICE}"), Ok(vec![text("$${PRICE}")]));
        assert_eq!(parse("{}$"), Ok(vec![text("{}$")]));
        assert_eq!(parse("é${X}é"), Ok(vec![text("é"), var("X"), text("é")]));
    }

    #[test]
    fn a_dollar_brace_must_be_a_reference() {
        for (bad, text) in [
            ("${server.port:8080}", "${server.port:8080}"),
            ("x ${}", "${}"),
            ("${1X}", "${1X}"),
            ("${X", "${X"),
            ("${X:-default} and more", "${X:-default}"),
            ("$$$${X} ${", "${"),
            ("${ABCDEFGHIJKLMNOPQRSTUVWXYZ-}", "${ABCDEFGHIJKLMNOPQRSTUV"),
        ] {
            assert_eq!(parse(bad), Err(Malformed { text: text.into() }), "{bad}");
        }
    }

    #[test]
    fn the_port_of_expand_reads_like_the_kubelet() {
        let vars = |n: &str| match n {
            "A" => Some("a".to_string()),
            "B" => Some("$(A)".to_string()),
            _ => None,
        };
        for (input, want) in [
            ("$(A)", "a"),
            ("x$(A)y$(A)", "xaya"),
            ("$(B)", "$(A)"), // substituted values are not scanned again
            ("$(C)", "$(C)"),
            ("$$(A)", "$(A)"),
            ("$$$(A)", "$a"),
            ("$$", "$"),
            ("$$$", "$$"),
            ("$", "$"),
            ("a$", "a$"),
            ("$x", "$x"),
            ("$é$(A)", "$éa"),
            ("$(A", "$(A"),
            ("$()", "$()"),
            ("((A))", "((A))"),
        ] {
            assert_eq!(kubelet_expand(input, vars), want, "{input}");
        }
    }

    /// Small deterministic pseudo-random strings over the characters that matter.
    fn samples() -> Vec<String> {
        let alphabet = ['$', '$', '(', ')', '{', '}', 'A', 'B', 'é', ' '];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::new();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 12) as usize;
            let mut s = String::new();
            let mut x = state;
            for _ in 0..len {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                s.push(alphabet[((x >> 33) % alphabet.len() as u64) as usize]);
            }
            out.push(s);
        }
        out
    }

    #[test]
    fn the_kubelet_reads_every_value_as_written() {
        // Every string of literal text, alone or next to references, reaches the process
        // unchanged, whatever variables exist.
        let lookup = |n: &str| Some(format!("<{n}>"));
        for s in samples() {
            let value = kubelet_value(&[text(&s)]);
            assert_eq!(kubelet_expand(&value, lookup), s, "{s:?} written {value:?}");
            assert_eq!(kubelet_expand(&value, |_| None), s, "{s:?}");
            let value = kubelet_value(&[text(&s), var("A"), text(&s), var("B")]);
            assert_eq!(
                kubelet_expand(&value, lookup),
                format!("{s}<A>{s}<B>"),
                "{s:?} written {value:?}"
            );
            assert_eq!(
                kubelet_references(&value),
                BTreeSet::from(["A".to_string(), "B".to_string()]),
                "{value:?}"
            );
        }
    }

    #[test]
    fn parsed_values_mean_what_the_syntax_says() {
        let lookup = |n: &str| Some(format!("<{n}>"));
        for s in samples() {
            let Ok(pieces) = parse(&s) else {
                assert!(s.contains("${"), "{s:?}");
                continue;
            };
            let value = kubelet_value(&pieces);
            if !s.contains("${") {
                // A value without `${` reaches the process byte for byte.
                assert_eq!(kubelet_expand(&value, |_| None), s);
            }
            let meant: String = pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.clone(),
                    Piece::Ref(n) => format!("<{n}>"),
                })
                .collect();
            assert_eq!(
                kubelet_expand(&value, lookup),
                meant,
                "{s:?} written {value:?}"
            );
        }
    }

    #[test]
    fn literal_dollars_are_escaped_only_where_the_kubelet_would_read_them() {
        let w = |s: &str| kubelet_value(&parse(s).unwrap());
        assert_eq!(w("total $(PRICE) EUR"), "total $$(PRICE) EUR");
        assert_eq!(w("a$$b"), "a$$$b");
        assert_eq!(w("$5 or $x or $"), "$5 or $x or $");
        assert_eq!(w("total ${PRICE} EUR"), "total $(PRICE) EUR");
        assert_eq!(w("$$${PRICE}"), "$$$(PRICE)");
        assert_eq!(w("$${PRICE}"), "${PRICE}");
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn names(order: &[(&str, &str)]) -> Vec<String> {
        order.iter().map(|(k, _)| k.to_string()).collect()
    }

    #[test]
    fn order_is_by_name_without_references() {
        let e = env(&[("B", "2"), ("A", "$$(B)"), ("C", "$(UNKNOWN)")]);
        assert_eq!(names(&kubelet_order(&e)), ["A", "B", "C"]);
    }

    #[test]
    fn every_variable_comes_after_the_variables_it_references() {
        let e = env(&[
            ("A", "1"),
            ("GREETING", "hello $(USER_NAME)"),
            ("TOTAL", "$(PRICE) $(CURRENCY)"),
            ("PRICE", "$(BASE)0"),
            ("BASE", "9.9"),
            ("CURRENCY", "EUR"),
            ("USER_NAME", "kgen"),
            ("Z", "$(A)"),
        ]);
        let order = names(&kubelet_order(&e));
        assert_eq!(
            order,
            [
                "A",
                "BASE",
                "CURRENCY",
                "PRICE",
                "TOTAL",
                "USER_NAME",
                "GREETING",
                "Z"
            ]
        );
        // Simulate the kubelet on that list: every reference found its variable.
        let mut defined: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in kubelet_order(&e) {
            let value = kubelet_expand(v, |n| defined.get(n).cloned());
            defined.insert(k.to_string(), value);
        }
        assert_eq!(defined["TOTAL"], "9.90 EUR");
        assert_eq!(defined["GREETING"], "hello kgen");
    }

    #[test]
    fn a_cycle_is_left_for_last() {
        let e = env(&[("A", "$(B)"), ("B", "$(A)"), ("C", "$(C)"), ("D", "x")]);
        // Self-references add no constraint here (resolution refuses them).
        assert_eq!(names(&kubelet_order(&e)), ["C", "D", "A", "B"]);
        let deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::from([
            ("A", BTreeSet::from(["B"])),
            ("B", BTreeSet::from(["C"])),
            ("C", BTreeSet::from(["A"])),
            ("D", BTreeSet::from(["A"])),
            ("E", BTreeSet::from(["E"])),
        ]);
        let (order, waiting) = topological(&deps);
        assert!(order.is_empty());
        let nodes: BTreeSet<&str> = waiting.into_iter().collect();
        assert_eq!(
            cycle_through("A", &deps, &nodes),
            Some(vec!["A", "B", "C", "A"])
        );
        assert_eq!(cycle_through("D", &deps, &nodes), None);
        assert_eq!(cycle_through("E", &deps, &nodes), Some(vec!["E", "E"]));
    }
}
