//! An AppProject's permissions, checked the way Argo CD checks them.
//!
//! Read from the AppProject object itself (as emitted), not from kgen's spec, so the
//! check is an outside view of what kgen wrote. Follows Argo CD v3.6
//! `pkg/apis/application/v1alpha1/app_project_types.go`: `IsSourcePermitted`,
//! `IsDestinationPermitted` / `isDestinationMatched`, `IsGroupKindNamePermitted`, and
//! `util/git/git.go` `NormalizeGitURL` for repository URLs. The notable rules:
//!
//! - a `!pattern` entry denies what it matches and counts as a match for everything
//!   else (so a list of only `!x` permits every other value);
//! - an absent or empty `clusterResourceWhitelist` denies every cluster-scoped kind,
//!   an absent `namespaceResourceWhitelist` permits every namespaced kind (an empty
//!   one denies them all);
//! - destinations match the cluster's server or its name (Argo CD resolves either
//!   to the registered cluster: offline, only the in-cluster pair
//!   `https://kubernetes.default.svc` / `in-cluster` is known to be the same).

use serde_json::Value;

use super::glob::{glob, path_match};

/// The in-cluster cluster, as Argo CD registers it.
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";
pub const IN_CLUSTER_NAME: &str = "in-cluster";

/// A destination cluster as Argo CD resolves it: its server URL and its name, as far
/// as they are known offline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cluster {
    pub server: String,
    pub name: String,
}

impl Cluster {
    /// From an Application's `destination` (`server` or `name`).
    pub fn of_destination(destination: &Value) -> Cluster {
        let field = |key: &str| destination.get(key).and_then(Value::as_str).unwrap_or("");
        Cluster::of(field("server"), field("name"))
    }

    /// The cluster of a destination's `server` and `name` (`""` when not set).
    pub fn of(server: &str, name: &str) -> Cluster {
        let server = server.trim_end_matches('/').to_string();
        let name = name.to_string();
        match (server.as_str(), name.as_str()) {
            (IN_CLUSTER_SERVER, _) | ("", IN_CLUSTER_NAME) => Cluster {
                server: IN_CLUSTER_SERVER.into(),
                name: IN_CLUSTER_NAME.into(),
            },
            _ => Cluster { server, name },
        }
    }

    /// How a message names it: the server, else the name.
    pub fn shown(&self) -> &str {
        if self.server.is_empty() {
            &self.name
        } else {
            &self.server
        }
    }
}

/// One AppProject's rules.
pub struct Project<'a> {
    pub name: &'a str,
    spec: &'a Value,
}

impl<'a> Project<'a> {
    pub fn new(object: &'a Value) -> Project<'a> {
        Project {
            name: object["metadata"]["name"].as_str().unwrap_or(""),
            spec: &object["spec"],
        }
    }

    fn list(&self, key: &str) -> Option<&'a Vec<Value>> {
        self.spec.get(key).and_then(Value::as_array)
    }

    /// `IsSourcePermitted`: whether Applications of this project may read `repo_url`.
    pub fn source_permitted(&self, repo_url: &str) -> bool {
        let url = normalize_git_url(repo_url);
        let mut matched = false;
        for pattern in self.list("sourceRepos").into_iter().flatten() {
            let Some(pattern) = pattern.as_str() else {
                continue;
            };
            if let Some(denied) = pattern.strip_prefix('!') {
                if glob(&normalize_git_url(denied), &url, Some('/')) {
                    return false;
                }
                matched = true;
            } else if pattern == "*" || glob(&normalize_git_url(pattern), &url, Some('/')) {
                matched = true;
            }
        }
        matched
    }

    /// `IsDestinationPermitted`: whether objects may go to `namespace` on `cluster`.
    pub fn destination_permitted(&self, cluster: &Cluster, namespace: &str) -> bool {
        destinations_permit(&self.destinations(), cluster, namespace)
    }

    /// The `destinations` list, each entry's fields read once.
    pub fn destinations(&self) -> Vec<Destination<'a>> {
        self.list("destinations")
            .into_iter()
            .flatten()
            .map(|item| {
                let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
                Destination {
                    name: Pattern::new(field("name")),
                    server: Pattern::new(field("server")),
                    namespace: Pattern::new(field("namespace")),
                }
            })
            .collect()
    }
}

/// One entry of an AppProject's `destinations` (absent fields are empty).
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    pub name: Pattern<'a>,
    pub server: Pattern<'a>,
    pub namespace: Pattern<'a>,
}

/// A destination pattern (`globMatch`; a `!pattern` matches what the pattern does
/// not), taken apart once: its `!`, and whether it has any special character (else
/// it matches itself alone).
#[derive(Debug, Clone, Copy)]
pub struct Pattern<'a> {
    body: &'a str,
    negated: bool,
    literal: bool,
}

impl<'a> Pattern<'a> {
    fn new(pattern: &'a str) -> Pattern<'a> {
        let (body, negated) = match pattern.strip_prefix('!') {
            Some(p) => (p, true),
            None => (pattern, false),
        };
        let literal = !body
            .bytes()
            .any(|b| matches!(b, b'*' | b'?' | b'[' | b'{' | b'\\'));
        Pattern {
            body,
            negated,
            literal,
        }
    }

    /// Whether `value` matches (or, negated, does not match) the pattern.
    fn matches(&self, value: &str) -> bool {
        let m = if self.literal {
            self.body == value
        } else {
            glob(self.body, value, None)
        };
        m != self.negated
    }
}

/// A project's destinations indexed by namespace, for asking about many namespaces.
pub struct Destinations<'a> {
    all: Vec<Destination<'a>>,
    /// When no pattern is negated, whether a destination matches is one OR over
    /// the entries, and an entry whose namespace is a literal other than the one
    /// asked about cannot match: the entries by literal namespace, and the others.
    index: Option<(ByNamespace<'a>, Vec<Destination<'a>>)>,
}

/// Destinations by the literal namespace of their pattern.
type ByNamespace<'a> = std::collections::HashMap<&'a str, Vec<Destination<'a>>>;

impl<'a> Destinations<'a> {
    pub fn new(all: Vec<Destination<'a>>) -> Destinations<'a> {
        let negated = all
            .iter()
            .any(|d| d.name.negated || d.server.negated || d.namespace.negated);
        let index = (!negated).then(|| {
            let mut by_ns = ByNamespace::new();
            let mut others = Vec::new();
            for d in &all {
                if d.namespace.literal {
                    by_ns.entry(d.namespace.body).or_default().push(*d);
                } else {
                    others.push(*d);
                }
            }
            (by_ns, others)
        });
        Destinations { all, index }
    }

    /// [`destinations_permit`], looking only at the entries that can match.
    pub fn permit(&self, cluster: &Cluster, namespace: &str) -> bool {
        match &self.index {
            None => destinations_permit(&self.all, cluster, namespace),
            Some((by_ns, others)) => {
                by_ns
                    .get(namespace)
                    .is_some_and(|l| destinations_permit(l, cluster, namespace))
                    || destinations_permit(others, cluster, namespace)
            }
        }
    }
}

/// [`Project::destination_permitted`] on a project's destinations read beforehand.
pub fn destinations_permit(
    destinations: &[Destination<'_>],
    cluster: &Cluster,
    namespace: &str,
) -> bool {
    let mut matched = false;
    for d in destinations {
        let name_m = !cluster.name.is_empty() && d.name.matches(&cluster.name);
        let server_m = !cluster.server.is_empty() && d.server.matches(&cluster.server);
        let ns_m = d.namespace.matches(namespace);
        if d.name.negated && !name_m {
            return false;
        }
        if d.server.negated && !server_m && ns_m {
            return false;
        }
        if d.namespace.negated && !ns_m && server_m {
            return false;
        }
        if (server_m || name_m) && ns_m {
            matched = true;
        }
    }
    matched
}

impl<'a> Project<'a> {
    /// `IsGroupKindNamePermitted`: whether the project may deploy this kind.
    pub fn kind_permitted(&self, group: &str, kind: &str, name: &str, namespaced: bool) -> bool {
        let in_list = |key: &str| {
            self.list(key).is_some_and(|l| {
                l.iter().any(|item| {
                    let f = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
                    path_match(f("kind"), kind)
                        && path_match(f("group"), group)
                        && (namespaced || f("name").is_empty() || path_match(f("name"), name))
                })
            })
        };
        if namespaced {
            let whitelisted = self.list("namespaceResourceWhitelist").is_none()
                || in_list("namespaceResourceWhitelist");
            whitelisted && !in_list("namespaceResourceBlacklist")
        } else {
            in_list("clusterResourceWhitelist") && !in_list("clusterResourceBlacklist")
        }
    }
}

/// `globMatch` with negation: a `!pattern` "matches" what the pattern does not (the
/// reference [`Pattern`] is held to).
#[cfg(test)]
fn matches(pattern: &str, value: &str) -> bool {
    match pattern.strip_prefix('!') {
        Some(p) => !glob(p, value, None),
        None => glob(pattern, value, None),
    }
}

/// `NormalizeGitURL`: lower case, no `.git` suffix, SSH forms reduced to `host/path`.
pub fn normalize_git_url(url: &str) -> String {
    let mut u = url.trim().to_lowercase();
    if let Some(rest) = u.strip_prefix("ssh://") {
        u = rest.to_string();
    }
    // scp-like `user@host:org/repo` → `host/org/repo`.
    if !u.contains("://") {
        if let Some((userhost, path)) = u.split_once(':') {
            let host = userhost.rsplit('@').next().unwrap_or(userhost);
            u = format!("{host}/{}", path.trim_start_matches('/'));
        }
    } else if let Some((scheme, rest)) = u.split_once("://") {
        // `git@host/...` after `ssh://`: drop the user.
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        u = format!("{scheme}://{rest}");
    }
    u.strip_suffix(".git").map(str::to_string).unwrap_or(u)
}

#[cfg(test)]
mod tests {
    /// The index by namespace decides as the whole list does.
    #[test]
    fn indexed_destinations_permit_as_the_list_does() {
        let pats = ["", "*", "a", "b", "!a", "a*", "https://x"];
        let clusters = [
            Cluster {
                server: "https://x".into(),
                name: String::new(),
            },
            Cluster {
                server: String::new(),
                name: "a".into(),
            },
            Cluster {
                server: "https://y".into(),
                name: "b".into(),
            },
        ];
        let mut lists: Vec<Vec<(&str, &str, &str)>> = vec![vec![]];
        for n in pats {
            for sv in pats {
                for ns in pats {
                    lists.push(vec![(n, sv, ns)]);
                    lists.push(vec![(n, sv, ns), ("", "https://x", "b"), ("a", "", "*")]);
                }
            }
        }
        for list in lists {
            let all: Vec<Destination> = list
                .iter()
                .map(|(n, sv, ns)| Destination {
                    name: Pattern::new(n),
                    server: Pattern::new(sv),
                    namespace: Pattern::new(ns),
                })
                .collect();
            let indexed = Destinations::new(all.clone());
            for c in &clusters {
                for ns in ["", "a", "b", "ab", "c"] {
                    assert_eq!(
                        indexed.permit(c, ns),
                        destinations_permit(&all, c, ns),
                        "{list:?} {c:?} {ns:?}"
                    );
                }
            }
        }
    }

    /// A pattern taken apart once decides as `matches` on the whole pattern.
    #[test]
    fn patterns_taken_apart_match_as_matches_does() {
        let patterns = [
            "", "!", "*", "!*", "a", "!a", "a*", "!a*", "{a,b}", "!{a,b}", "[ab]", "a\\*", "!!a",
            "é", "?", "!?",
        ];
        let values = ["", "a", "b", "ab", "a*", "!a", "é", "c"];
        for p in patterns {
            for v in values {
                assert_eq!(Pattern::new(p).matches(v), matches(p, v), "{p:?} {v:?}");
            }
        }
    }

    use super::*;
    use serde_json::json;

    fn project(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    #[test]
    fn sources_normalise_and_negate() {
        let p = project(json!({"sourceRepos": ["https://github.com/Acme/Platform.git"]}));
        let p = Project::new(&p);
        assert!(p.source_permitted("https://github.com/acme/platform"));
        assert!(!p.source_permitted("https://github.com/acme/other"));
        let deny = project(json!({"sourceRepos": ["!https://github.com/evil/*"]}));
        let deny = Project::new(&deny);
        assert!(deny.source_permitted("https://github.com/acme/platform"));
        assert!(!deny.source_permitted("https://github.com/evil/x"));
        let none = project(json!({}));
        assert!(!Project::new(&none).source_permitted("https://github.com/acme/platform"));
        assert_eq!(
            normalize_git_url("git@github.com:acme/platform.git"),
            "github.com/acme/platform"
        );
    }

    #[test]
    fn destinations_match_server_or_name_and_namespace() {
        let p = project(json!({"destinations": [
            {"server": "https://kubernetes.default.svc", "namespace": "api"},
            {"name": "prod", "namespace": "team-*"},
        ]}));
        let p = Project::new(&p);
        let in_cluster = Cluster::of_destination(&json!({"name": "in-cluster"}));
        assert!(p.destination_permitted(&in_cluster, "api"));
        assert!(!p.destination_permitted(&in_cluster, "kube-system"));
        let prod = Cluster::of_destination(&json!({"name": "prod"}));
        assert!(p.destination_permitted(&prod, "team-a"));
        assert!(!p.destination_permitted(&prod, "api"));
        // An entry without a namespace admits only an empty one (cluster-scoped apps).
        let c = project(json!({"destinations": [{"server": "https://x"}]}));
        let x = Cluster::of_destination(&json!({"server": "https://x/"}));
        assert!(Project::new(&c).destination_permitted(&x, ""));
        assert!(!Project::new(&c).destination_permitted(&x, "a"));
        let neg = project(
            json!({"destinations": [{"server": "https://x", "namespace": "!kube-system"}]}),
        );
        assert!(Project::new(&neg).destination_permitted(&x, "a"));
        assert!(!Project::new(&neg).destination_permitted(&x, "kube-system"));
    }

    #[test]
    fn kinds_follow_the_whitelist_rules() {
        let p = project(json!({"clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]}));
        let p = Project::new(&p);
        assert!(p.kind_permitted("", "Namespace", "x", false));
        assert!(!p.kind_permitted("rbac.authorization.k8s.io", "ClusterRole", "x", false));
        assert!(p.kind_permitted("apps", "Deployment", "x", true));
        let none = project(json!({"namespaceResourceWhitelist": []}));
        assert!(!Project::new(&none).kind_permitted("apps", "Deployment", "x", true));
        assert!(!Project::new(&none).kind_permitted("", "Namespace", "x", false));
        let star = project(
            json!({"clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            "namespaceResourceBlacklist": [{"group": "", "kind": "Secret"}]}),
        );
        assert!(Project::new(&star).kind_permitted("", "Namespace", "x", false));
        assert!(!Project::new(&star).kind_permitted("", "Secret", "x", true));
    }
}
