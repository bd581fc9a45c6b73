//! Where each value of a resolved service came from, by field path (`replicas`,
//! `autoscaling.min`, `env.LOG_LEVEL`, and `service`: the service's table header).
//!
//! Built in a `BTreeMap` while the service is resolved, then kept as one sorted
//! slice: the resolved platform holds a map per service (3,000 of them at 1,000
//! services × 3 environments) for its whole run, and a B-tree's nodes, about half
//! full, took twice the bytes of the entries.

use std::collections::BTreeMap;

use crate::source::Origin;

/// Origins by field path, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(Box<[(Box<str>, Origin)]>);

impl Origins {
    /// The origin of `key`.
    pub fn get(&self, key: &str) -> Option<&Origin> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Every entry, in the order of the paths.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Origin)> {
        self.0.iter().map(|(k, o)| (&**k, o))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<BTreeMap<String, Origin>> for Origins {
    fn from(map: BTreeMap<String, Origin>) -> Self {
        Origins(
            map.into_iter()
                .map(|(k, o)| (k.into_boxed_str(), o))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_the_map_held_in_its_order() {
        let at = |i: usize| Origin::new(crate::source::FileId(0), i..i + 1);
        let map: BTreeMap<String, Origin> = ["replicas", "autoscaling.min", "env.A", "env.B"]
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), at(i)))
            .collect();
        let origins = Origins::from(map.clone());
        for (k, o) in &map {
            assert_eq!(origins.get(k), Some(o));
        }
        assert_eq!(origins.get("env"), None);
        assert_eq!(origins.get("zzz"), None);
        assert!(origins
            .iter()
            .map(|(k, _)| k)
            .eq(map.keys().map(String::as_str)));
        assert_eq!(origins.len(), 4);
    }
}
