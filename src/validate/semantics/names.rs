//! Names and metadata: object names per kind (a Service name is a DNS-1035 label, a
//! CronJob name at most 52 characters), label keys and values, annotation keys and
//! their total size.

use serde_json::Value;

use super::{Checker, MAX_ANNOTATIONS_BYTES};
use crate::validate::{map_at, str_at, FieldPath, Finding};
use crate::{names, rules};

impl Checker<'_, '_> {
    pub(super) fn metadata(&mut self, path: &FieldPath, meta: Option<&Value>, top: bool) {
        let Some(meta) = meta else {
            return;
        };
        if top {
            if let Some(name) = str_at(meta, "name") {
                self.object_name(&path.key("name"), name);
            }
            if let Some(ns) = str_at(meta, "namespace") {
                if let Err(e) = names::check_dns1123_label(ns) {
                    self.push(
                        Finding::error(
                            rules::OBJECT_NAME,
                            &path.key("namespace"),
                            format!("namespace: {e}"),
                        )
                        .key("namespace"),
                    );
                }
            }
        }
        if let Some(labels) = map_at(meta, "labels") {
            let lp = path.key("labels");
            for (k, v) in labels {
                let fp = || lp.key(k);
                if let Err(e) = names::check_label_key(k) {
                    self.push(Finding::error(rules::METADATA, &fp(), e));
                } else if let Some(Err(e)) = v.as_str().map(names::check_label_value) {
                    self.push(
                        Finding::error(rules::METADATA, &fp(), format!("label `{k}`: {e}"))
                            .help("label values are at most 63 characters; keep long or free-form text in annotations"),
                    );
                }
            }
        }
        if let Some(annotations) = map_at(meta, "annotations") {
            let ap = || path.key("annotations");
            let mut size = 0;
            for (k, v) in annotations {
                size += k.len() + v.as_str().map_or(0, str::len);
                if let Err(e) = names::check_label_key(k) {
                    let e = e.replace("is not a valid label key", "is not a valid annotation key");
                    self.push(Finding::error(rules::METADATA, &ap().key(k), e));
                }
            }
            if size > MAX_ANNOTATIONS_BYTES {
                self.push(Finding::error(
                    rules::METADATA,
                    &ap(),
                    format!("the annotations hold {size} bytes; the API server refuses more than {MAX_ANNOTATIONS_BYTES} (256 KiB)"),
                ));
            }
        }
    }

    /// Name rules per kind.
    fn object_name(&mut self, path: &FieldPath, name: &str) {
        let kind = self.kind().to_string();
        let result = match kind.as_str() {
            "Namespace" => names::check_dns1123_label(name),
            "Service" => check_dns1035_label(name),
            "CronJob" => names::check_dns1123_subdomain(name).and_then(|()| {
                max_len(
                    name,
                    52,
                    "a CronJob name",
                    "its Jobs' names add an 11-character suffix",
                )
            }),
            "Job" => names::check_dns1123_subdomain(name).and_then(|()| {
                max_len(
                    name,
                    63,
                    "a Job name",
                    "it becomes the value of the `job-name` label",
                )
            }),
            _ => names::check_dns1123_subdomain(name),
        };
        if let Err(e) = result {
            let mut f = Finding::error(rules::OBJECT_NAME, path, format!("{kind} name: {e}"));
            if kind == "Service" {
                f = f.help("a Service name becomes a DNS name: rename the service so that it starts with a letter");
            }
            self.push(f);
        }
    }
}

/// A DNS-1035 label (a Service name): a DNS-1123 label that starts with a letter.
pub fn check_dns1035_label(s: &str) -> Result<(), String> {
    names::check_dns1123_label(s)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "{s:?} is not a valid DNS-1035 label: it must start with a lowercase letter (use at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit)"
        ));
    }
    Ok(())
}

fn max_len(s: &str, max: usize, what: &str, why: &str) -> Result<(), String> {
    if s.len() > max {
        Err(format!(
            "{s:?} is {} characters long; {what} is at most {max}, because {why}",
            s.len()
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn service_names_are_dns_1035_labels() {
        let s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1api"}, "spec": {"ports": [{"port": 80}]}});
        let got = findings(&s);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "KG103");
        assert!(
            got[0]
                .2
                .starts_with("Service name: \"1api\" is not a valid DNS-1035 label"),
            "{}",
            got[0].2
        );
        assert_eq!(check_dns1035_label("api-1"), Ok(()));
    }
}
