//! Comparing two manifest sets, resource by resource, and calling out the risks.
//!
//! `kgen diff` (`ops::diff`) reads the two sides; this module compares them and says
//! what the change means, one subject per submodule:
//!
//! - `compare`: matching resources by identity (added, removed, changed, moved; a
//!   renamed Job that runs again; a service added or removed as a whole);
//! - `fields`: what differs inside a changed resource (field paths, a unified diff);
//! - `versions`: a tag bump collapsed into one line per service;
//! - `groups`: the same change in many services or objects, said once;
//! - `moves`: a service moved to another namespace, one risk per service;
//! - `images`: container images, their tags, and how tags compare as versions;
//! - `risks`: the risks and info of a comparison, in the order they are listed;
//! - `workloads`: the rules for workload objects (StatefulSets, Jobs, CronJobs,
//!   Services, claims); `diff_platform` has those of the platform layer;
//! - `report`: what is reported (the sides, the stale warning, the counts per group).
//!
//! `diff_format` prints a report; `diff_ignore` is `--ignore`.

mod compare;
mod fields;
mod groups;
mod images;
mod moves;
mod pods;
mod report;
mod risks;
#[cfg(test)]
mod testing;
mod versions;
mod workloads;

pub use crate::diff_ignore::IgnoreRule;
pub use crate::diff_platform::{HeadNodePools, HeadStorageClasses};
pub use crate::manifest_set::Group;
pub use compare::{
    compare, compare_opts, compare_with, service_dir, Changed, CompareOptions, Moved, ServiceUnit,
};
pub(crate) use fields::{differing_keys, push_key};
pub use fields::{unified_diff, CONTEXT_LINES};
pub use groups::{
    changed_line, finding_groups, plural_kind, same_changes, version_groups, FindingGroup,
    SameChange, VersionGroup, GROUP_MIN,
};
pub(crate) use images::parse_version;
pub use images::{compare_versions, split_image};
pub use report::{Counts, DiffReport, ManifestDiff, Side, Stale};
pub(crate) use risks::{and_list, kubectl_delete, scalar, scalar_or, verb};
pub use risks::{Risk, RiskKind};
pub use versions::{Churn, VersionChange};
