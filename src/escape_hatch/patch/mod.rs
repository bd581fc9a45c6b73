//! Patches on kgen's rendered objects: JSON merge patches (RFC 7386) and JSON
//! Patches (RFC 6902), written in TOML or as YAML files, per service and environment.
//!
//! A service's patches come from its layers (`[defaults]` < `[services.<name>]` < the
//! overlay's `[services.<name>]`), merged by name like sidecars ([`resolve`]). They
//! apply after rendering and before validation, in name order, to the service's own
//! objects of the patch's `kind` (and `name`), with the `json-patch` crate ([`apply`]).
//! Three things are errors, located at the patch: a patch that matches no object
//! (KG043; a `[defaults]` patch only when it matches nothing in any service), an
//! operation that does not apply (KG044), and a patch that touches a field kgen owns
//! (KG045): the object's identity, a selector, the labels kgen set, the image of a
//! container kgen rendered (what `bump-image` manages). So is a patch that drops what
//! kgen rendered (KG048, `drops`): an `add` over a list or map kgen filled, or kgen's own
//! volumes and mounts taken out of a pod.
//!
//! This module holds what a patch is; [`resolve`] reads a service's patches from its
//! layers, [`apply`] applies them, `owned` knows the fields kgen owns, and [`paths`]
//! turns paths into patches and objects into spans and field paths.

pub mod apply;
mod drops;
mod owned;
pub mod paths;
pub mod resolve;

use serde_json::Value;

use self::paths::{toml_span, toml_span_at, yaml_path};
use crate::source::{FileId, Origin, Sources};
use crate::validate::FieldPath;

/// What a patch does.
#[derive(Debug, Clone)]
pub enum Body {
    /// RFC 7386.
    Merge(Value),
    /// RFC 6902: the operations as written (each checked to be one), and parsed.
    Json(Vec<Value>, Vec<json_patch::PatchOperation>),
}

/// Where a patch's body was written, to point at a part of it.
#[derive(Debug, Clone)]
pub enum BodyAt {
    /// In a TOML file, at this key path (`services.api.patches.waf.merge`).
    Toml { file: FileId, keys: Vec<Seg> },
    /// A whole YAML file.
    Yaml { file: FileId },
}

/// A segment of a path into TOML or YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// One resolved patch of a service in an environment.
#[derive(Debug, Clone)]
pub struct Patch {
    pub name: String,
    pub kind: String,
    pub target: Option<String>,
    pub body: Body,
    pub at: BodyAt,
    /// The patch's `kind` (or its table, when `kind` is missing).
    pub kind_origin: Origin,
    /// The patch's `name`, when it has one.
    pub name_origin: Option<Origin>,
    /// From `[defaults]`: it may match nothing in some services.
    pub from_defaults: bool,
    /// The file the body is in, for the header of patched files.
    pub source: String,
}

impl Patch {
    /// Where `segs` (a path inside the body) is written: its key, or for a JSON
    /// Patch operation's field, its value.
    pub fn origin(&self, sources: &Sources, segs: &[Seg]) -> Origin {
        match &self.at {
            BodyAt::Toml { file, keys } => {
                let mut all = keys.clone();
                all.extend_from_slice(segs);
                let text = &sources.get(*file).text;
                let span = toml_span(text, &all).unwrap_or(self.kind_origin.span.clone());
                Origin::new(*file, span)
            }
            BodyAt::Yaml { file } => {
                let text = &sources.get(*file).text;
                let path = segs.iter().fold(FieldPath::root(), |p, s| match s {
                    Seg::Key(k) => p.key(k),
                    Seg::Index(i) => p.index(*i),
                });
                let value = matches!(segs.last(), Some(Seg::Key(k)) if k == "path" || k == "from");
                let span = crate::validate::locate::locate(text, path.as_str(), value);
                Origin::new(*file, span)
            }
        }
    }

    /// Where the value at `segs` (a path inside the body) is written.
    pub fn value_origin(&self, sources: &Sources, segs: &[Seg]) -> Origin {
        match &self.at {
            BodyAt::Toml { file, keys } => {
                let mut all = keys.clone();
                all.extend_from_slice(segs);
                let text = &sources.get(*file).text;
                let span = toml_span_at(text, &all, true).unwrap_or(self.kind_origin.span.clone());
                Origin::new(*file, span)
            }
            BodyAt::Yaml { file } => {
                let text = &sources.get(*file).text;
                let span = crate::validate::locate::locate_value(text, &yaml_path(segs));
                Origin::new(*file, span)
            }
        }
    }

    fn describe(&self) -> &'static str {
        match self.body {
            Body::Merge(_) => "JSON merge patch",
            Body::Json(..) => "JSON Patch",
        }
    }
}
