//! OCI image references: syntax of repositories (with an optional registry host), tags
//! and digests, following the grammar of the distribution `reference` package, and the
//! split of a full `REGISTRY/REPO[:TAG][@DIGEST]` string as given on a command line.
//!
//! kgen keeps the repository, tag and digest in separate fields, so
//! [`check_repository`] refuses a tag or digest inside the repository.

use std::fmt;

/// Docker's limit on the length of a whole repository name, host included.
const MAX_NAME_LEN: usize = 255;
const TAG_RULE: &str =
    "use 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', like 1.2.4";

/// Checks an image tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn check_tag(s: &str) -> Result<(), String> {
    if s.starts_with("sha256:") || s.starts_with("sha512:") || s.starts_with('@') {
        return Err(format!(
            "{s:?} is not a valid image tag: it looks like a digest, so put it in `digest` instead"
        ));
    }
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !ok && (s.contains("{{") || s.contains("{%")) {
        return Err(format!(
            "{s:?} is not a valid image tag: write the tag itself; `tag` is not a template field (templates are expanded only in the fields docs/platform.md#templates lists), and each environment's overlay sets its own tag"
        ));
    }
    if !ok {
        return Err(format!("{s:?} is not a valid image tag: {TAG_RULE}"));
    }
    if s.len() > 128 {
        return Err(format!(
            "{s:?} is too long for an image tag ({} characters): {TAG_RULE}",
            s.len()
        ));
    }
    Ok(())
}

/// Checks an image digest: `sha256:` and 64 lowercase hex digits, `sha384:` and 96, or
/// `sha512:` and 128 (the algorithms containerd's go-digest knows).
pub fn check_digest(s: &str) -> Result<(), String> {
    if let Some(rest) = s.strip_prefix('@') {
        if check_digest(rest).is_ok() {
            return Err(format!(
                "{s:?} is not a valid image digest: leave out the leading '@'"
            ));
        }
    }
    let Some((algorithm, hex)) = s.split_once(':') else {
        return Err(format!(
            "{s:?} is not a valid image digest: write it as sha256: followed by 64 lowercase hex digits, like sha256:{}",
            "0".repeat(64)
        ));
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "{s:?} is not a valid image digest: the algorithm {algorithm:?} is not supported, use sha256, sha384 or sha512"
            ))
        }
    };
    if let Some(c) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(format!(
            "{s:?} is not a valid image digest: write {algorithm}: followed by lowercase hex digits (0-9, a-f), as the registry prints it; this one contains {c:?}"
        ));
    }
    if hex.len() != want {
        return Err(format!(
            "{s:?} is not a valid image digest: write {algorithm}: followed by exactly {want} hex digits, as the registry prints it; this one has {}",
            hex.len()
        ));
    }
    Ok(())
}

/// `repository` as pulled: behind the platform's `registry` unless its first
/// component is a registry host already (`ghcr.io/acme/api`, `localhost:5000/api`).
pub fn with_registry(registry: Option<&str>, repository: &str) -> String {
    match registry {
        Some(reg) if !has_registry_host(repository) => {
            format!("{}/{}", reg.trim_end_matches('/'), repository)
        }
        _ => repository.to_string(),
    }
}

/// Whether two image repositories are one, as pulled: each behind the platform's
/// `registry` ([`with_registry`]) unless it names a registry host, so that
/// `acme/api` and `registry.example.com/acme/api` are one under that registry.
/// `bump-image --image` matches images with it, and KG218 (a pod running one
/// repository at two versions) groups a pod's containers with it.
pub fn same_repository(registry: Option<&str>, a: &str, b: &str) -> bool {
    with_registry(registry, a) == with_registry(registry, b)
}

/// True when the first path component is a registry host (contains '.' or ':' or is
/// "localhost"), like Docker's reference parser. A name without '/' has no host.
pub fn has_registry_host(repo: &str) -> bool {
    match repo.split_once('/') {
        Some((first, _)) => first.contains(['.', ':']) || first == "localhost",
        None => false,
    }
}

/// Checks an image repository: path components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
/// separated by '/', optionally preceded by a registry `host[:port]`.
pub fn check_repository(s: &str) -> Result<(), String> {
    let invalid = |why: String| Err(format!("{s:?} is not a valid image repository: {why}"));
    if s.is_empty() {
        return invalid("write a name like nginx or registry.example.com/team/app".into());
    }
    if let Some(i) = s.find("://") {
        return invalid(format!(
            "leave out the scheme {:?}, like {}",
            &s[..i + 3],
            &s[i + 3..]
        ));
    }
    if s.contains('@') {
        return invalid(
            "it contains a digest, so put the digest in `digest` and keep only the name here"
                .into(),
        );
    }
    let (host, path) = if has_registry_host(s) {
        let (host, path) = s.split_once('/').unwrap_or((s, ""));
        (Some(host), path)
    } else {
        (None, s)
    };
    let components: Vec<&str> = path.split('/').collect();
    if components.last().is_some_and(|c| c.contains(':')) {
        return invalid(
            "it contains a tag, so put the tag in `tag` and keep only the name here".into(),
        );
    }
    if s.len() > MAX_NAME_LEN {
        return Err(format!(
            "{s:?} is too long for an image repository ({} characters): use at most {MAX_NAME_LEN}",
            s.len()
        ));
    }
    if let Some(host) = host {
        if !is_host(host) {
            return invalid(format!(
                "the registry host {host:?} must be a host name or IP address with an optional numeric port, like registry.example.com:5000"
            ));
        }
    }
    for c in components {
        if c.is_empty() {
            return invalid("it has an empty path component, so remove the extra '/'".into());
        }
        if !is_path_component(c) {
            let lower = c.to_ascii_lowercase();
            let like = if is_path_component(&lower) {
                format!(", like {lower:?}")
            } else {
                String::new()
            };
            return invalid(format!(
                "the path component {c:?} must be lowercase letters and digits, optionally separated by '.', '_', '__' or '-'{like}"
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && (b[i].is_ascii_lowercase() || b[i].is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// A host name, IPv4 address or bracketed IPv6 address, with an optional numeric port.
fn is_host(h: &str) -> bool {
    let (name_ok, port) = if let Some(rest) = h.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        let v6_ok = !v6.is_empty() && v6.bytes().all(|c| c.is_ascii_hexdigit() || c == b':');
        match after {
            "" => (v6_ok, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (v6_ok, Some(port)),
                None => return false,
            },
        }
    } else {
        let (name, port) = match h.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (h, None),
        };
        let name_ok = name.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        });
        (name_ok, port)
    };
    name_ok && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

/// An image reference split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The repository, with its registry host when one was given.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Splits "REGISTRY/REPO[:TAG][@DIGEST]" as given on a command line, e.g.
/// "123.dkr.ecr.eu-west-1.amazonaws.com/kontaxa/main-api:1.2.4", and checks each part.
///
/// The tag is what follows the last ':' after the last '/', so the ':' of a registry
/// port is never taken for a tag; as in Docker, "localhost:5000" alone is the
/// repository "localhost" with the tag "5000".
pub fn parse_image_ref(s: &str) -> Result<ImageRef, String> {
    let (name, digest) = match s.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (s, None),
    };
    let last_component = name.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match name[last_component..].rfind(':') {
        Some(i) => (
            &name[..last_component + i],
            Some(&name[last_component + i + 1..]),
        ),
        None => (name, None),
    };
    if repository.is_empty() {
        return Err(format!(
            "{s:?} is not a valid image reference: write REPOSITORY[:TAG][@DIGEST], like ghcr.io/acme/api:1.2.3"
        ));
    }
    check_repository(repository)?;
    if let Some(tag) = tag {
        if tag.is_empty() {
            return Err(format!(
                "{s:?} is not a valid image reference: the tag after ':' is empty, so remove the ':' or write a tag"
            ));
        }
        check_tag(tag)?;
    }
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    Ok(ImageRef {
        repository: repository.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256: &str = "sha256:0f2b8e4d6a1c3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f";

    #[test]
    fn tags() {
        for ok in [
            "1.2.4",
            "v1.2.4",
            "latest",
            "_x",
            "A-b_c.D",
            &"t".repeat(128),
        ] {
            assert_eq!(check_tag(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check_tag("-rc1").unwrap_err(),
            r#""-rc1" is not a valid image tag: use 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', like 1.2.4"#
        );
        assert_eq!(
            check_tag("1.2.4+build.5").unwrap_err(),
            r#""1.2.4+build.5" is not a valid image tag: use 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', like 1.2.4"#
        );
        assert_eq!(
            check_tag(SHA256).unwrap_err(),
            format!("{SHA256:?} is not a valid image tag: it looks like a digest, so put it in `digest` instead")
        );
        assert_eq!(
            check_tag(&"t".repeat(129)).unwrap_err(),
            format!("\"{}\" is too long for an image tag (129 characters): use 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', like 1.2.4", "t".repeat(129))
        );
        for bad in ["", ".x", "a b", "a:b", "a/b", "é"] {
            assert!(check_tag(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn digests() {
        assert_eq!(check_digest(SHA256), Ok(()));
        assert_eq!(check_digest(&format!("sha512:{}", "ab".repeat(64))), Ok(()));
        assert_eq!(
            check_digest("0f2b8e4d").unwrap_err(),
            format!(
                "\"0f2b8e4d\" is not a valid image digest: write it as sha256: followed by 64 lowercase hex digits, like sha256:{}",
                "0".repeat(64)
            )
        );
        assert_eq!(
            check_digest("md5:abc").unwrap_err(),
            r#""md5:abc" is not a valid image digest: the algorithm "md5" is not supported, use sha256, sha384 or sha512"#
        );
        assert_eq!(
            check_digest("sha256:abc").unwrap_err(),
            r#""sha256:abc" is not a valid image digest: write sha256: followed by exactly 64 hex digits, as the registry prints it; this one has 3"#
        );
        let upper = SHA256.to_uppercase().replace("SHA256", "sha256");
        assert_eq!(
            check_digest(&upper).unwrap_err(),
            format!("{upper:?} is not a valid image digest: write sha256: followed by lowercase hex digits (0-9, a-f), as the registry prints it; this one contains 'F'")
        );
        assert_eq!(
            check_digest(&format!("@{SHA256}")).unwrap_err(),
            format!("\"@{SHA256}\" is not a valid image digest: leave out the leading '@'")
        );
        assert!(check_digest(&format!("sha512:{}", "a".repeat(64)))
            .unwrap_err()
            .contains(
                "followed by exactly 128 hex digits, as the registry prints it; this one has 64"
            ));
        assert!(check_digest(&format!("SHA256:{}", "a".repeat(64)))
            .unwrap_err()
            .contains("the algorithm \"SHA256\" is not supported"));
        assert!(check_digest("").is_err());
        assert!(check_digest("sha256:").is_err());
    }

    #[test]
    fn registry_host() {
        for yes in [
            "123.dkr.ecr.eu-west-1.amazonaws.com/kontaxa/main-api",
            "ghcr.io/acme/api",
            "localhost/app",
            "localhost:5000/app",
            "registry:5000/app",
            "[::1]:5000/app",
        ] {
            assert!(has_registry_host(yes), "{yes}");
        }
        for no in [
            "nginx",
            "library/nginx",
            "acme/api",
            "localhost",
            "docker.io",
        ] {
            assert!(!has_registry_host(no), "{no}");
        }
    }

    #[test]
    fn repositories() {
        for ok in [
            "nginx",
            "kontaxa/main-api",
            "123.dkr.ecr.eu-west-1.amazonaws.com/kontaxa/main-api",
            "ghcr.io/acme/api",
            "localhost:5000/a/b/c",
            "registry.example.com:5000/team/app",
            "[::1]:5000/app",
            "[fe80::1]/app",
            "10.0.0.1:5000/app",
            "acme/a.b_c__d--e",
            "My-Registry.example.com/app",
        ] {
            assert_eq!(check_repository(ok), Ok(()), "{ok}");
        }
        let msg = |s: &str| check_repository(s).expect_err(s);
        assert_eq!(
            msg("kontaxa/main-api:1.2.4"),
            r#""kontaxa/main-api:1.2.4" is not a valid image repository: it contains a tag, so put the tag in `tag` and keep only the name here"#
        );
        assert_eq!(
            msg(&format!("nginx@{SHA256}")),
            format!("\"nginx@{SHA256}\" is not a valid image repository: it contains a digest, so put the digest in `digest` and keep only the name here")
        );
        assert_eq!(
            msg("kontaxa/Main-API"),
            r#""kontaxa/Main-API" is not a valid image repository: the path component "Main-API" must be lowercase letters and digits, optionally separated by '.', '_', '__' or '-', like "main-api""#
        );
        assert_eq!(
            msg("acme/api_"),
            r#""acme/api_" is not a valid image repository: the path component "api_" must be lowercase letters and digits, optionally separated by '.', '_', '__' or '-'"#
        );
        assert_eq!(
            msg("acme//api"),
            r#""acme//api" is not a valid image repository: it has an empty path component, so remove the extra '/'"#
        );
        assert_eq!(
            msg("https://ghcr.io/acme/api"),
            r#""https://ghcr.io/acme/api" is not a valid image repository: leave out the scheme "https://", like ghcr.io/acme/api"#
        );
        assert_eq!(
            msg("registry.example.com:http/app"),
            r#""registry.example.com:http/app" is not a valid image repository: the registry host "registry.example.com:http" must be a host name or IP address with an optional numeric port, like registry.example.com:5000"#
        );
        assert_eq!(
            msg(""),
            r#""" is not a valid image repository: write a name like nginx or registry.example.com/team/app"#
        );
        let long = format!("ghcr.io/{}", "a".repeat(250));
        assert!(msg(&long).contains("is too long for an image repository (258 characters)"));
        for bad in [
            "nginx:latest",
            "localhost:5000",
            "ghcr.io/",
            "/app",
            "app/",
            "a b",
            "a___b",
            "a..b",
            "-a",
            "reg-.io/app",
            "[::1/app",
            "reg.io:/app",
        ] {
            assert!(check_repository(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn image_refs() {
        let r =
            parse_image_ref("123.dkr.ecr.eu-west-1.amazonaws.com/kontaxa/main-api:1.2.4").unwrap();
        assert_eq!(
            r,
            ImageRef {
                repository: "123.dkr.ecr.eu-west-1.amazonaws.com/kontaxa/main-api".into(),
                tag: Some("1.2.4".into()),
                digest: None
            }
        );
        let r = parse_image_ref("localhost:5000/app").unwrap();
        assert_eq!((r.repository.as_str(), r.tag), ("localhost:5000/app", None));
        let r = parse_image_ref("localhost:5000/app:v2").unwrap();
        assert_eq!(
            (r.repository.as_str(), r.tag.as_deref()),
            ("localhost:5000/app", Some("v2"))
        );
        let full = format!("ghcr.io/acme/api:1.0@{SHA256}");
        let r = parse_image_ref(&full).unwrap();
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.digest.as_deref(), Some(SHA256));
        assert_eq!(r.to_string(), full);
        let r = parse_image_ref(&format!("nginx@{SHA256}")).unwrap();
        assert_eq!((r.repository.as_str(), r.tag), ("nginx", None));
        let r = parse_image_ref("nginx").unwrap();
        assert_eq!(
            (r.repository.as_str(), r.tag, r.digest),
            ("nginx", None, None)
        );

        assert_eq!(
            parse_image_ref("ghcr.io/acme/api:").unwrap_err(),
            r#""ghcr.io/acme/api:" is not a valid image reference: the tag after ':' is empty, so remove the ':' or write a tag"#
        );
        assert_eq!(
            parse_image_ref(":1.0").unwrap_err(),
            r#"":1.0" is not a valid image reference: write REPOSITORY[:TAG][@DIGEST], like ghcr.io/acme/api:1.2.3"#
        );
        assert_eq!(
            parse_image_ref("acme/api:v1+x").unwrap_err(),
            r#""v1+x" is not a valid image tag: use 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', like 1.2.4"#
        );
        assert_eq!(
            parse_image_ref("Acme/api:1").unwrap_err(),
            r#""Acme/api" is not a valid image repository: the path component "Acme" must be lowercase letters and digits, optionally separated by '.', '_', '__' or '-', like "acme""#
        );
        assert!(parse_image_ref("nginx@sha256:abc")
            .unwrap_err()
            .contains("followed by exactly 64 hex digits"));
        assert!(parse_image_ref("").is_err());
        assert!(parse_image_ref("nginx:1.0 ").is_err());
        assert!(parse_image_ref("a@b@c").is_err());
    }
}
