//! EBS StorageClasses of the baseline: volume type, encryption and KMS key, and the
//! provisioned IOPS and throughput each type allows.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::input::StorageClassLayer;
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::rules;
use crate::source::Origin;
use crate::spec::{BindingMode, ReclaimPolicy, StorageClassSpec};
/// EBS volume types the EBS CSI driver provisions.
const EBS_TYPES: &[&str] = &["gp3", "gp2", "io1", "io2", "st1", "sc1"];

impl<'a> Resolver<'a> {
    pub(super) fn storage_class(
        &mut self,
        name: &str,
        header: Origin,
        l: &Layers<'a, StorageClassLayer>,
        ctx: &Value,
    ) -> Option<StorageClassSpec> {
        self.object_name("StorageClass", name, &header);
        let type_ = match l.pick(|l| l.type_.as_ref()) {
            Some(t) if EBS_TYPES.contains(&t.value.as_str()) => t.value.clone(),
            Some(t) => {
                let hint = crate::diagnostic::did_you_mean(t.value, EBS_TYPES.iter().copied());
                let d = self.error(
                    rules::INVALID_VALUE,
                    t.origin.clone(),
                    format!("`{}` is not an EBS volume type", t.value),
                );
                d.label = hint;
                d.help = Some(format!("use one of: {}", EBS_TYPES.join(", ")));
                return None;
            }
            None => "gp3".to_string(),
        };
        let mut parameters = BTreeMap::from([("type".to_string(), type_.clone())]);
        let encrypted = l.pick(|l| l.encrypted.as_ref()).is_none_or(|e| *e.value);
        parameters.insert("encrypted".into(), encrypted.to_string());
        if let Some(k) = l.pick(|l| l.kms_key.as_ref()) {
            if !encrypted {
                self.error(
                    rules::INVALID_VALUE,
                    k.origin.clone(),
                    format!("StorageClass `{name}` names a KMS key but `encrypted = false`"),
                )
                .help("remove `kms_key`, or encrypt the volumes");
            }
            if let Some(key) = self.template_value(&k, ctx) {
                if !key.starts_with("arn:aws") || !key.contains(":kms:") {
                    self.error(
                        rules::INVALID_VALUE,
                        k.origin.clone(),
                        format!("`{key}` is not a KMS key ARN"),
                    )
                    .help("write `arn:aws:kms:<region>:<account>:key/<id>`; the EBS CSI driver wants the full ARN");
                }
                parameters.insert("kmsKeyId".into(), key);
            }
        }
        let iops = l.pick(|l| l.iops.as_ref());
        let throughput = l.pick(|l| l.throughput.as_ref());
        // The EBS limits (AWS documentation, "Amazon EBS volume types"; gp3 raised in 2025).
        let iops_range = match type_.as_str() {
            "gp3" => Some((3000, 80_000)),
            "io1" => Some((100, 64_000)),
            "io2" => Some((100, 256_000)),
            _ => None,
        };
        match (&iops, iops_range) {
            (Some(i), Some((min, max))) => {
                self.int_in_range(*i.value, min, max, &i.origin, &format!("iops of {type_}"));
                parameters.insert("iops".into(), i.value.to_string());
            }
            (Some(i), None) => {
                self.error(
                    rules::INVALID_VALUE,
                    i.origin.clone(),
                    format!("`{type_}` volumes have no provisioned IOPS"),
                )
                .help("remove `iops`, or use `type = \"gp3\"`, `\"io1\"` or `\"io2\"`");
            }
            (None, _) if type_ == "io1" || type_ == "io2" => {
                self.error(
                    rules::MISSING_KEY,
                    header.clone(),
                    format!("StorageClass `{name}` of type `{type_}` has no `iops`"),
                )
                .help("provisioned-IOPS volumes need their IOPS: add `iops = 3000`, say");
            }
            (None, _) => {}
        }
        if let Some(t) = &throughput {
            if type_ == "gp3" {
                if self
                    .int_in_range(*t.value, 125, 2000, &t.origin, "throughput of gp3")
                    .is_some()
                {
                    // gp3 allows 0.25 MiB/s per provisioned IOPS.
                    let iops = iops.as_ref().map_or(3000, |i| *i.value);
                    if *t.value * 4 > iops {
                        self.error(
                            rules::OUT_OF_RANGE,
                            t.origin.clone(),
                            format!("{} MiB/s is more than gp3 allows with {iops} IOPS (0.25 MiB/s per IOPS)", t.value),
                        )
                        .help(format!("raise `iops` to at least {}, or lower `throughput`", *t.value * 4));
                    }
                }
                parameters.insert("throughput".into(), t.value.to_string());
            } else {
                self.error(
                    rules::INVALID_VALUE,
                    t.origin.clone(),
                    format!("only gp3 volumes take a `throughput`, not `{type_}`"),
                )
                .help("remove `throughput`, or use `type = \"gp3\"`");
            }
        }
        Some(StorageClassSpec {
            name: name.to_string(),
            parameters,
            reclaim_policy: l
                .pick(|l| l.reclaim_policy.as_ref())
                .map_or(ReclaimPolicy::Delete, |r| *r.value),
            binding_mode: l
                .pick(|l| l.binding_mode.as_ref())
                .map_or(BindingMode::WaitForFirstConsumer, |b| *b.value),
            allow_expansion: l
                .pick(|l| l.allow_expansion.as_ref())
                .is_none_or(|a| *a.value),
            default: l.pick(|l| l.default.as_ref()).is_some_and(|d| *d.value),
            origin: header,
        })
    }
}
