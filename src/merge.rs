//! Where layers merge: built-in defaults < `[defaults]` < `[services.<name>]` < overlay.
//!
//! Merging is done leaf by leaf: a value is taken from the highest layer that sets
//! it. That one rule gives the documented semantics:
//! - tables merge (each key inside is looked up on its own),
//! - scalars and arrays replace (the whole value comes from one layer),
//! - maps of names (`env`, `config`, `vars`) merge key by key;
//! - maps of named tables (`sidecars`, `volumes`) merge by name, and each entry leaf
//!   by leaf (`entries`).
//!
//! Every picked value keeps its origin (file and span), so a problem found later
//! points at the layer that supplied the value.

use std::collections::BTreeMap;

use crate::input::SpannedMap;
use crate::source::{FileId, Origin};
use crate::spanned::Spanned;

/// A value and the place in the input it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<V> {
    pub value: V,
    pub origin: Origin,
    /// It comes from a base layer (`[defaults]`), which every service shares.
    pub base: bool,
}

/// The layers of one thing (a service, an environment), lowest priority first.
pub struct Layers<'a, T> {
    /// (file, layer, whether it is a base layer such as `[defaults]`).
    layers: Vec<(FileId, &'a T, bool)>,
}

impl<'a, T> Default for Layers<'a, T> {
    fn default() -> Self {
        Layers { layers: Vec::new() }
    }
}

impl<'a, T> Layers<'a, T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a layer above all layers added so far.
    pub fn push(&mut self, file: FileId, layer: &'a T) {
        self.layers.push((file, layer, false));
    }

    /// Adds a base layer (`[defaults]`): values from it are marked `base`.
    pub fn push_base(&mut self, file: FileId, layer: &'a T) {
        self.layers.push((file, layer, true));
    }

    /// The value of one leaf, from the highest layer that sets it.
    pub fn pick<V: 'a>(
        &self,
        get: impl Fn(&'a T) -> Option<&'a Spanned<V>>,
    ) -> Option<Located<&'a V>> {
        self.layers.iter().rev().find_map(|(file, layer, base)| {
            get(layer).map(|s| Located {
                value: &s.value,
                origin: Origin::new(*file, s.span.clone()),
                base: *base,
            })
        })
    }

    /// How high the layer that sets a leaf is (0 is the lowest), as [`pick`] would
    /// choose it: to tell whether one setting was written above another.
    ///
    /// [`pick`]: Layers::pick
    pub fn height_of<V: 'a>(&self, get: impl Fn(&'a T) -> Option<&'a Spanned<V>>) -> Option<usize> {
        self.layers
            .iter()
            .rposition(|(_, layer, _)| get(layer).is_some())
    }

    /// A map merged key by key; each entry keeps the origin of its key and of its value.
    pub fn map<V: 'a>(
        &self,
        get: impl Fn(&'a T) -> Option<&'a SpannedMap<V>>,
    ) -> BTreeMap<&'a str, MapEntry<'a, V>> {
        let mut out = BTreeMap::new();
        for (file, layer, base) in &self.layers {
            if let Some(map) = get(layer) {
                for (k, v) in map {
                    out.insert(
                        k.value.as_str(),
                        MapEntry {
                            key: Origin::new(*file, k.span.clone()),
                            value: Located {
                                value: &v.value,
                                origin: Origin::new(*file, v.span.clone()),
                                base: *base,
                            },
                        },
                    );
                }
            }
        }
        out
    }

    /// A map of named tables (`sidecars`, `volumes`, `ports`) merged by name and, inside
    /// each entry, leaf by leaf: each name gets the layers of its entry, lowest first,
    /// and the origin of its key in the highest layer that names it.
    pub fn entries<V: 'a>(
        &self,
        get: impl Fn(&'a T) -> Option<&'a SpannedMap<V>>,
    ) -> BTreeMap<&'a str, (Origin, Layers<'a, V>)> {
        let mut out: BTreeMap<&'a str, (Origin, Layers<'a, V>)> = BTreeMap::new();
        for (file, layer, base) in &self.layers {
            if let Some(map) = get(layer) {
                for (k, v) in map {
                    let entry = out
                        .entry(k.value.as_str())
                        .or_insert_with(|| (Origin::new(*file, k.span.clone()), Layers::new()));
                    entry.0 = Origin::new(*file, k.span.clone());
                    entry.1.layers.push((*file, &v.value, *base));
                }
            }
        }
        out
    }

    /// Where each name of a map of named tables is written: the origin of its key in
    /// every layer that names it, lowest layer first, each with whether that layer is
    /// a base layer. [`entries`] keeps the highest only: where a value set in the
    /// entry comes from; a finding about what the entry lacks belongs where it is
    /// defined, which may be lower.
    ///
    /// [`entries`]: Layers::entries
    pub fn entry_keys<V: 'a>(
        &self,
        get: impl Fn(&'a T) -> Option<&'a SpannedMap<V>>,
    ) -> BTreeMap<&'a str, Vec<(Origin, bool)>> {
        let mut out: BTreeMap<&'a str, Vec<(Origin, bool)>> = BTreeMap::new();
        for (file, layer, base) in &self.layers {
            for k in get(layer).into_iter().flat_map(|m| m.keys()) {
                out.entry(k.value.as_str())
                    .or_default()
                    .push((Origin::new(*file, k.span.clone()), *base));
            }
        }
        out
    }

    /// Every layer's value of one leaf, lowest first (for values merged deeply).
    pub fn each<V: 'a>(
        &self,
        get: impl Fn(&'a T) -> Option<&'a Spanned<V>>,
    ) -> Vec<(FileId, &'a Spanned<V>)> {
        self.layers
            .iter()
            .filter_map(|(file, layer, _)| get(layer).map(|v| (*file, v)))
            .collect()
    }

    /// The highest layer for which `has` holds: (its file, the layer, whether it is a
    /// base layer).
    pub fn highest(&self, has: impl Fn(&'a T) -> bool) -> Option<(FileId, &'a T, bool)> {
        self.layers
            .iter()
            .rev()
            .find(|(_, l, _)| has(l))
            .map(|(f, l, b)| (*f, *l, *b))
    }

    /// True when any layer has the table `get` returns.
    pub fn any<V: 'a>(&self, get: impl Fn(&'a T) -> Option<&'a V>) -> bool {
        self.layers.iter().any(|(_, l, _)| get(l).is_some())
    }
}

/// One entry of a merged map.
#[derive(Debug, Clone)]
pub struct MapEntry<'a, V> {
    pub key: Origin,
    pub value: Located<&'a V>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ServiceLayer;

    fn layer(text: &str) -> ServiceLayer {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn tables_merge_scalars_and_arrays_replace() {
        let defaults = layer(
            r#"
replicas = 2
resources = { requests = { cpu = "100m", memory = "128Mi" } }
env = { A = "1", B = "2" }
secrets = [{ name = "a", from = "ssm", key = "/a" }, { name = "b", from = "ssm", key = "/b" }]
"#,
        );
        let overlay = layer(
            r#"
replicas = 5
resources = { requests = { memory = "512Mi" } }
env = { B = "3" }
secrets = [{ name = "c", from = "ssm", key = "/c" }]
"#,
        );
        let mut l = Layers::new();
        l.push(FileId(0), &defaults);
        l.push(FileId(1), &overlay);
        assert_eq!(*l.pick(|s| s.replicas.as_ref()).unwrap().value, 5);
        let cpu = l
            .pick(|s| s.resources.as_ref()?.requests.as_ref()?.cpu.as_ref())
            .unwrap();
        assert_eq!(cpu.value, "100m");
        assert_eq!(cpu.origin.file, FileId(0));
        let mem = l
            .pick(|s| s.resources.as_ref()?.requests.as_ref()?.memory.as_ref())
            .unwrap();
        assert_eq!(mem.value, "512Mi");
        assert_eq!(mem.origin.file, FileId(1));
        let env = l.map(|s| Some(&s.env));
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(k, v)| match v.value.value {
                crate::input::EnvValue::Literal(s) => (*k, s.0.as_str()),
                crate::input::EnvValue::From(_) => (*k, "<from>"),
            })
            .collect();
        assert_eq!(env, vec![("A", "1"), ("B", "3")]);
        let secrets = l.pick(|s| s.secrets.as_ref()).unwrap();
        assert_eq!(secrets.value.len(), 1);
        assert_eq!(secrets.value[0].name.value, "c");
    }

    #[test]
    fn entry_keys_lists_every_layer_that_names_an_entry() {
        let defaults = layer("[sidecars.log]\nimage = \"fluent-bit\"\n");
        let service = layer("[sidecars.envoy]\nimage = \"envoy\"\n");
        let overlay = layer("[sidecars.envoy]\ntag = \"1.31.0\"\n[sidecars.log]\ntag = \"3\"\n");
        let mut l = Layers::new();
        l.push_base(FileId(0), &defaults);
        l.push(FileId(0), &service);
        l.push(FileId(1), &overlay);
        let keys = l.entry_keys(|s| Some(&s.sidecars));
        let at = |name: &str| -> Vec<(FileId, bool)> {
            keys[name].iter().map(|(o, base)| (o.file, *base)).collect()
        };
        assert_eq!(at("envoy"), [(FileId(0), false), (FileId(1), false)]);
        assert_eq!(at("log"), [(FileId(0), true), (FileId(1), false)]);
        // `entries` keeps the highest: the overlay's.
        assert_eq!(l.entries(|s| Some(&s.sidecars))["envoy"].0.file, FileId(1));
    }
}
