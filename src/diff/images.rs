//! Container images and their tags: where a manifest names them, how a reference
//! splits into repository and tag, and how two tags compare as versions (for the
//! `image-downgrade` risk and the version line).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

/// Containers (and init containers) anywhere in `v`, by name → image.
pub(super) fn container_images(v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "containers" || k == "initContainers" {
                    if let Value::Array(items) = child {
                        for c in items {
                            if let (Some(n), Some(i)) = (c["name"].as_str(), c["image"].as_str()) {
                                out.insert(n.to_string(), i.to_string());
                            }
                        }
                    }
                } else {
                    container_images(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| container_images(i, out)),
        _ => {}
    }
}

/// (container, old tag, new tag) for each container whose image tag moves to a lower version.
pub(super) fn image_downgrades(base: &Value, head: &Value) -> Vec<(String, String, String)> {
    let (mut b, mut h) = (BTreeMap::new(), BTreeMap::new());
    container_images(base, &mut b);
    container_images(head, &mut h);
    let mut out = Vec::new();
    for (name, old) in &b {
        let Some(new) = h.get(name) else { continue };
        let (Some((old_repo, old_tag)), Some((new_repo, new_tag))) =
            (split_image(old), split_image(new))
        else {
            continue;
        };
        if old_repo == new_repo && compare_versions(new_tag, old_tag) == Some(Ordering::Less) {
            out.push((name.clone(), old_tag.to_string(), new_tag.to_string()));
        }
    }
    out
}

/// `registry/repo:tag@digest` → (`registry/repo`, `tag`); None without a tag.
pub fn split_image(image: &str) -> Option<(&str, &str)> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    let colon = without_digest[slash..].rfind(':')? + slash;
    Some((&without_digest[..colon], &without_digest[colon + 1..]))
}

/// Compares semver-ish tags (`1.4.0`, `v2.10`, `1.0.0-rc.1`) numerically; None when
/// either is not a version (`latest`, a commit hash).
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let (an, ap) = parse_version(a)?;
    let (bn, bp) = parse_version(b)?;
    let len = an.len().max(bn.len());
    for i in 0..len {
        let (x, y) = (
            an.get(i).copied().unwrap_or(0),
            bn.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Equal => {}
            other => return Some(other),
        }
    }
    Some(match (ap, bp) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => compare_prerelease(x, y),
    })
}

/// `v1.2.3-rc.1+build` → ([1, 2, 3], Some("rc.1")).
pub(crate) fn parse_version(tag: &str) -> Option<(Vec<u64>, Option<&str>)> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let t = t.split('+').next().unwrap_or(t);
    let (core, pre) = match t.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (t, None),
    };
    let nums = core
        .split('.')
        .map(|p| {
            (!p.is_empty() && p.len() <= 18 && p.bytes().all(|c| c.is_ascii_digit()))
                .then(|| p.parse::<u64>().ok())
                .flatten()
        })
        .collect::<Option<Vec<u64>>>()?;
    // A bare number with 7+ digits is more likely a build id or a date than a version
    // tag, but it still orders numerically; plain hex hashes fail above.
    Some((nums, pre))
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let mut xs = a.split('.');
    let mut ys = b.split('.');
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.3.2", "1.4.0"), Some(Ordering::Less));
        assert_eq!(compare_versions("1.10.0", "1.9.9"), Some(Ordering::Greater));
        assert_eq!(compare_versions("v2", "2.0.0"), Some(Ordering::Equal));
        assert_eq!(
            compare_versions("1.0.0-rc.1", "1.0.0"),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_versions("1.0.0-rc.2", "1.0.0-rc.10"),
            Some(Ordering::Less)
        );
        assert_eq!(compare_versions("latest", "1.0"), None);
        assert_eq!(compare_versions("deadbeef", "1.0"), None);
    }

    #[test]
    fn images_split() {
        assert_eq!(
            split_image("reg.io:5000/team/app:1.2.3@sha256:abc"),
            Some(("reg.io:5000/team/app", "1.2.3"))
        );
        assert_eq!(split_image("reg.io:5000/team/app"), None);
    }
}
