//! What admission reads of the rendered objects: each object's path, group, kind,
//! namespace and name, recorded batch by batch while the objects are alive, and the
//! Argo CD objects whole.

use serde_json::Value;

use crate::render::Object;
use crate::source::Origin;

/// What admission needs of one rendered object: its path under `generated/`, group,
/// kind, namespace and name, kept one after the other in one string (22,000 objects
/// at 1,000 services: five strings each took three times the memory).
#[derive(Debug, Clone)]
pub struct Entry {
    text: Box<str>,
    /// Where the path, group, kind and namespace end in `text` (the name ends it).
    ends: [u32; 4],
    namespaced: bool,
    /// For a CustomResourceDefinition: the group and kind it defines.
    pub defines: Option<Box<(String, String)>>,
}

impl Entry {
    fn new(
        path: &str,
        group: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        defines: Option<(String, String)>,
    ) -> Entry {
        let mut text = String::with_capacity(
            path.len() + group.len() + kind.len() + namespace.map_or(0, str::len) + name.len(),
        );
        let mut ends = [0u32; 4];
        for (end, part) in ends
            .iter_mut()
            .zip([path, group, kind, namespace.unwrap_or("")])
        {
            text.push_str(part);
            *end = u32::try_from(text.len()).expect("an object's names fit in 4 GiB");
        }
        text.push_str(name);
        Entry {
            text: text.into_boxed_str(),
            ends,
            namespaced: namespace.is_some(),
            defines: defines.map(Box::new),
        }
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends.get(i).map_or(self.text.len(), |&e| e as usize);
        &self.text[start..end]
    }

    /// Path under `generated/`.
    pub fn path(&self) -> &str {
        self.part(0)
    }

    pub fn group(&self) -> &str {
        self.part(1)
    }

    pub fn kind(&self) -> &str {
        self.part(2)
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespaced.then(|| self.part(3))
    }

    pub fn name(&self) -> &str {
        self.part(4)
    }
}

/// Where a field (a rendered path, `kind`, `metadata.namespace`) of a hand-written
/// object is in its file.
pub type Locator = std::sync::Arc<dyn Fn(&str) -> Origin + Send + Sync>;

/// Every object of a run, recorded batch by batch (the Argo CD objects whole).
#[derive(Default)]
pub struct Inventory {
    pub(super) entries: Vec<Entry>,
    pub(super) argo: Vec<(String, Value)>,
    /// Where objects that are not kgen's rendering came from (a hand-written file),
    /// by path: diagnostics about them point there.
    origins: std::collections::HashMap<String, Locator>,
}

impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory")
            .field("entries", &self.entries)
            .field("argo", &self.argo)
            .field("hand_written", &self.origins.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Inventory {
    /// Records that the object at `path` was written by hand, and how to find its
    /// fields in its file.
    pub fn locate(&mut self, path: &str, locator: Locator) {
        self.origins.insert(path.to_string(), locator);
    }

    /// Where `field` of the hand-written object at `path` is, if it is one.
    pub(super) fn hand_written(&self, path: &str, field: &str) -> Option<Origin> {
        let field = if field == "(root)" { "" } else { field };
        self.origins.get(path).map(|l| l(field))
    }

    pub fn record(&mut self, objects: &[Object]) {
        for o in objects {
            let v = &o.value;
            let Some(kind) = v.get("kind").and_then(Value::as_str) else {
                continue;
            };
            let api = v["apiVersion"].as_str().unwrap_or("");
            let group = api.rsplit_once('/').map_or("", |(g, _)| g);
            let meta = &v["metadata"];
            let defines = (kind == "CustomResourceDefinition").then(|| {
                (
                    v["spec"]["group"].as_str().unwrap_or("").to_string(),
                    v["spec"]["names"]["kind"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                )
            });
            if group == "argoproj.io"
                && matches!(kind, "Application" | "ApplicationSet" | "AppProject")
            {
                self.argo.push((o.path.clone(), v.clone()));
            }
            self.entries.push(Entry::new(
                &o.path,
                group,
                kind,
                meta["namespace"].as_str(),
                meta["name"].as_str().unwrap_or(""),
                defines,
            ));
        }
    }
}
