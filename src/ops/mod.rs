//! Commands, one function each over a loaded `Workspace` (like cargo's `ops`).
//! They return data; the binary formats it.

pub mod bump_chart;
pub mod bump_image;
pub mod cmp;
pub mod diff;
pub mod promote;
pub mod render;
pub mod schema;
pub mod validate;
