//! `kgen schema`: the JSON Schema of platform.toml, derived from the input types.

use crate::input::{OverlayFile, PlatformFile};

/// The JSON Schema of platform.toml, pretty-printed with a trailing newline.
pub fn platform_schema() -> String {
    let schema = schemars::schema_for!(PlatformFile);
    let mut s = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    s.push('\n');
    s
}

/// The JSON Schema of an overlay file.
pub fn overlay_schema() -> String {
    let schema = schemars::schema_for!(OverlayFile);
    let mut s = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    s.push('\n');
    s
}
