//! The platform roles of the baseline (admin, developer, viewer, monitoring reader):
//! the Kubernetes groups each binds.

use std::collections::BTreeSet;

use crate::input::{BaselineLayer, RoleLayer};
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::rules;
use crate::source::Origin;
use crate::spanned::Spanned;
use crate::spec::{PlatformRole, RoleSpec};

impl<'a> Resolver<'a> {
    pub(super) fn roles(&mut self, layers: &Layers<'a, BaselineLayer>) -> Vec<RoleSpec> {
        let mut out = Vec::new();
        for role in PlatformRole::ALL {
            let get = |l: &'a BaselineLayer| -> Option<&'a Spanned<RoleLayer>> {
                let r = &l.roles.as_ref()?.value;
                match role {
                    PlatformRole::Admin => r.admin.as_ref(),
                    PlatformRole::Developer => r.developer.as_ref(),
                    PlatformRole::Viewer => r.viewer.as_ref(),
                    PlatformRole::MonitoringReader => r.monitoring_reader.as_ref(),
                }
            };
            if !layers.any(get) {
                continue;
            }
            let header = layers.pick(get).map(|r| r.origin).expect("declared");
            let Some(groups) = layers.pick(|l| get(l)?.value.groups.as_ref()) else {
                self.error(
                    rules::MISSING_KEY,
                    header,
                    format!("role `{}` has no `groups`", role.key()),
                )
                .help("add `groups = [\"platform-admins\"]`: the Kubernetes groups your EKS access entries map IAM principals to");
                continue;
            };
            let mut seen = BTreeSet::new();
            let mut list = Vec::new();
            for g in groups.value {
                let origin = Origin::new(groups.origin.file, g.span.clone());
                if g.value.trim().is_empty() || g.value.starts_with("system:") {
                    self.error(
                        rules::INVALID_VALUE,
                        origin,
                        format!("`{}` cannot be a platform role's group", g.value),
                    )
                    .help("name a group of your own (`system:` groups are Kubernetes'), like `platform-admins`");
                    continue;
                }
                if seen.insert(g.value.clone()) {
                    list.push(g.value.clone());
                }
            }
            if groups.value.is_empty() {
                self.error(
                    rules::INVALID_VALUE,
                    groups.origin.clone(),
                    format!("role `{}` binds no group", role.key()),
                )
                .help("list at least one group, or remove the role");
                continue;
            }
            out.push(RoleSpec {
                role,
                groups: list,
                origin: header,
            });
        }
        out
    }
}
