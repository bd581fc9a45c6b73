//! Volumes of the pods (scratch directories and persistent claims, with their mounts)
//! and the files of the `<service>-files` ConfigMap, mounted beside them.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::input::{FileLayer, VolumeLayer};
use crate::merge::Layers;
use crate::resolve::{Amend, Resolver};
use crate::source::Origin;
use crate::spec::{
    AccessMode, EnvSpec, FileSpec, Placement, VolumeSource, VolumeSpec, WorkloadKind,
};
use crate::{names, quantity, rules};
/// Volume names kgen uses itself.
pub const OWN_VOLUME_NAMES: &[&str] = &["tmp", "secrets-store"];
/// Mount paths kgen uses itself.
pub const OWN_MOUNTS: &[&str] = &["/tmp", "/mnt/secrets-store"];
/// The help of a volume size that is not a quantity.
const SIZE_HELP: &str = "a size is a number with a suffix: `Ki`, `Mi`, `Gi`, `Ti` for powers of 1024 (as disks and memory are usually counted) or `k`, `M`, `G`, `T` for powers of 1000, e.g. `\"10Gi\"`";

impl<'a> Resolver<'a> {
    /// Volumes of the pods.
    pub(in crate::resolve) fn volumes(
        &mut self,
        entries: BTreeMap<&'a str, (Origin, Layers<'a, VolumeLayer>)>,
        claims_allowed: bool,
        kind: &str,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<VolumeSpec> {
        let mut out: Vec<VolumeSpec> = Vec::new();
        for (name, (key_origin, layers)) in entries {
            let field = format!("volumes.{name}");
            origins.insert(field.clone(), key_origin.clone());
            if let Err(e) = names::check_dns1123_label(name) {
                self.error(
                    rules::INVALID_NAME,
                    key_origin.clone(),
                    format!("volume name: {e}"),
                );
                continue;
            }
            if OWN_VOLUME_NAMES.contains(&name) || name.starts_with("files") {
                self.error(
                    rules::RESERVED,
                    key_origin.clone(),
                    format!("volume name `{name}` is kgen's own"),
                )
                .help("kgen uses `tmp`, `secrets-store` and `files*` itself; choose another name");
                continue;
            }
            let Some(mount) = layers.pick(|l| l.mount.as_ref()) else {
                self.error(
                    rules::MISSING_KEY,
                    key_origin.clone(),
                    format!("volume `{name}` has no `mount`"),
                )
                .help(
                    "add the path the main container mounts it at, e.g. `mount = \"/var/lib/app\"`",
                );
                continue;
            };
            origins.insert(format!("{field}.mount"), mount.origin.clone());
            if !mount.value.starts_with('/') || mount.value.split('/').any(|c| c == "..") {
                self.error(
                    rules::INVALID_PATH,
                    mount.origin.clone(),
                    format!(
                        "mount path `{}` is not an absolute path without `..`",
                        mount.value
                    ),
                );
                continue;
            }
            if OWN_MOUNTS
                .iter()
                .any(|m| mount.value.trim_end_matches('/') == *m)
            {
                self.error(rules::RESERVED, mount.origin.clone(), format!("`{}` is where kgen mounts its own volume", mount.value))
                    .help("kgen mounts a writable `/tmp` and the secrets at `/mnt/secrets-store`; mount this volume elsewhere");
                continue;
            }
            // `/data` and `/data/` are one directory.
            let path = normal_mount(mount.value);
            if let Some(other) = out.iter().find(|v| v.mount == path) {
                self.error(
                    rules::DUPLICATE,
                    mount.origin.clone(),
                    format!(
                        "volumes `{}` and `{name}` are both mounted at `{path}`",
                        other.name
                    ),
                )
                .help("a directory holds one volume: mount this one elsewhere, or use one volume for both (sidecars mount it under `mounts` too)");
                continue;
            }
            let read_only = layers
                .pick(|l| l.read_only.as_ref())
                .is_some_and(|r| *r.value);
            let empty = layers.pick(|l| l.empty_dir.as_ref());
            let claim = layers.pick(|l| l.claim.as_ref());
            let source = match (empty, claim) {
                (Some(_), Some(c)) => {
                    self.error(rules::INVALID_VALUE, c.origin.clone(), format!("volume `{name}` sets both `empty_dir` and `claim`"))
                        .help("a volume is a scratch directory (`empty_dir`) or a persistent claim (`claim`), not both");
                    continue;
                }
                (_, Some(c)) => {
                    origins.insert(format!("{field}.claim"), c.origin.clone());
                    if !claims_allowed {
                        self.error(
                            rules::KIND_MISMATCH,
                            c.origin.clone(),
                            format!("a `{kind}` cannot have a volume claim (`volumes.{name}.claim`)"),
                        )
                        .help("persistent volumes belong to a `deployment`, `worker` or `statefulset`; use `empty_dir` for scratch space");
                        continue;
                    }
                    let Some(size) = layers.pick(|l| l.claim.as_ref()?.size.as_ref()) else {
                        self.error(
                            rules::MISSING_KEY,
                            c.origin.clone(),
                            format!("volume claim `{name}` has no `size`"),
                        )
                        .help("add the size to request, e.g. `size = \"10Gi\"`");
                        continue;
                    };
                    origins.insert(format!("{field}.claim.size"), size.origin.clone());
                    match quantity::parse_non_negative(size.value) {
                        Ok(q) if q.is_zero() => {
                            self.error(
                                rules::INVALID_QUANTITY,
                                size.origin.clone(),
                                "a volume claim of size 0".into(),
                            )
                            .help("request the size the volume needs, e.g. `size = \"10Gi\"`");
                        }
                        Ok(_) => {}
                        Err(e) => {
                            self.error(rules::INVALID_QUANTITY, size.origin.clone(), e)
                                .help(SIZE_HELP);
                        }
                    }
                    let storage_class = layers
                        .pick(|l| l.claim.as_ref()?.storage_class.as_ref())
                        .map(|s| {
                            origins
                                .insert(format!("{field}.claim.storage_class"), s.origin.clone());
                            if let Err(e) = names::check_dns1123_subdomain(s.value) {
                                self.error(
                                    rules::INVALID_NAME,
                                    s.origin.clone(),
                                    format!("storage_class: {e}"),
                                );
                            }
                            s.value.clone()
                        });
                    VolumeSource::Claim {
                        size: size.value.clone(),
                        storage_class,
                        access_mode: layers
                            .pick(|l| l.claim.as_ref()?.access_mode.as_ref())
                            .map_or(crate::spec::AccessMode::ReadWriteOnce, |a| *a.value),
                    }
                }
                (_, None) => {
                    let size_limit = layers
                        .pick(|l| l.empty_dir.as_ref()?.size_limit.as_ref())
                        .map(|s| {
                            origins
                                .insert(format!("{field}.empty_dir.size_limit"), s.origin.clone());
                            if let Err(e) = quantity::parse_non_negative(s.value) {
                                self.error(rules::INVALID_QUANTITY, s.origin.clone(), e)
                                    .help(SIZE_HELP);
                            }
                            s.value.clone()
                        });
                    VolumeSource::EmptyDir {
                        size_limit,
                        memory: layers
                            .pick(|l| l.empty_dir.as_ref()?.memory.as_ref())
                            .is_some_and(|m| *m.value),
                    }
                }
            };
            out.push(VolumeSpec {
                name: name.to_string(),
                mount: path,
                read_only,
                source,
            });
        }
        out
    }

    /// The claims of a `deployment` or `worker` that can run `most` pods: one claim
    /// serves them all, which a ReadWriteOncePod claim cannot do at all (the API server
    /// lets one pod use it and the others never start), and a ReadWriteOnce claim
    /// only on one node (an EBS volume attaches to one node at a time; a pod on
    /// another node waits on a Multi-Attach error, and the spread over nodes makes
    /// that likely). Unless a node selector holds every pod on one node, each such
    /// claim is an error (KG019) at its `claim`.
    pub(in crate::resolve) fn check_shared_claims(
        &mut self,
        kind: WorkloadKind,
        env: &EnvSpec,
        most: u32,
        volumes: &[VolumeSpec],
        placement: &Placement,
        origins: &BTreeMap<String, Origin>,
    ) {
        if !matches!(kind, WorkloadKind::Deployment | WorkloadKind::Worker) || most <= 1 {
            return;
        }
        let one_node = placement
            .node_selector
            .contains_key(crate::render::pod::NODE_KEY);
        for v in volumes {
            let VolumeSource::Claim { access_mode, .. } = &v.source else {
                continue;
            };
            let problem = match access_mode {
                AccessMode::ReadWriteOncePod => "only one pod at a time can use it: the others would never start",
                AccessMode::ReadWriteOnce if !one_node => "it attaches to one node at a time (as an EBS volume does), so pods scheduled on other nodes would wait on Multi-Attach errors",
                _ => continue,
            };
            let Some(origin) = origins.get(&format!("volumes.{}.claim", v.name)) else {
                continue;
            };
            // Where the count is written, often an overlay far from the claim.
            let count = ["autoscaling.max", "replicas"].iter().find_map(|key| {
                let o = origins.get(*key)?;
                let file = self.ws.sources.get(o.file);
                let (line, _) = file.line_col(o.span.start);
                let text = file.text.get(o.span.clone()).unwrap_or("").trim();
                Some(format!(
                    "the pod count comes from `{key} = {text}` at {}:{line}",
                    file.display
                ))
            });
            let d = self.error(
                rules::INVALID_VALUE,
                origin.clone(),
                format!(
                    "volume `{}` is one {} claim shared by up to {most} pods of this {} in environment `{}`: {problem}",
                    v.name,
                    access_mode.as_str(),
                    kind.as_str(),
                    env.name,
                ),
            )
            .help("run one replica (`replicas = 1`, and no `autoscaling` or `autoscaling.max = 1`; with `rollout.strategy = \"recreate\"` a new pod does not wait for the old one's volume), give the claim a `ReadWriteMany` storage class such as EFS (`access_mode = \"ReadWriteMany\"`), or make the service a `statefulset`, whose pods get a claim each");
            if let Some(note) = count {
                d.note = Some(note);
            }
        }
    }

    /// Files of the `<service>-files` ConfigMap.
    pub(in crate::resolve) fn files(
        &mut self,
        entries: BTreeMap<&'a str, (Origin, Layers<'a, FileLayer>)>,
        volumes: &[VolumeSpec],
        ctx: &Value,
        origins: &mut BTreeMap<String, Origin>,
    ) -> Vec<FileSpec> {
        let mut out: Vec<FileSpec> = Vec::new();
        for (key, (key_origin, layers)) in entries {
            let field = format!("files.{key}");
            origins.insert(field.clone(), key_origin.clone());
            if let Err(e) = names::check_config_map_key(key) {
                self.error(
                    rules::INVALID_KEY,
                    key_origin.clone(),
                    format!("file name: {e}"),
                );
                continue;
            }
            let Some(path) = layers.pick(|l| l.path.as_ref()) else {
                self.error(rules::MISSING_KEY, key_origin.clone(), format!("file `{key}` has no `path`"))
                    .help(format!("add the absolute path of the file in the container, e.g. `path = \"/etc/app/{key}\"`"));
                continue;
            };
            origins.insert(format!("{field}.path"), path.origin.clone());
            let p = path.value.as_str();
            if !p.starts_with('/')
                || p.ends_with('/')
                || p.split('/').any(|c| c == ".." || c == ".")
                || p.matches('/').count() < 2
            {
                self.error(rules::INVALID_PATH, path.origin.clone(), format!("`{p}` is not an absolute file path in a directory"))
                    .help("write the file's full path, e.g. `/etc/app/app.yaml` (the directory /etc/app is mounted with kgen's files only)");
                continue;
            }
            let dir = p.rsplit_once('/').map(|(d, _)| d).unwrap_or("/");
            if OWN_MOUNTS.contains(&dir) || volumes.iter().any(|v| v.mount == dir) {
                self.error(
                    rules::DUPLICATE,
                    path.origin.clone(),
                    format!("`{dir}` is already a mount (a volume, `/tmp` or the secrets)"),
                )
                .help("put the file in a directory of its own");
                continue;
            }
            if let Some(other) = out.iter().find(|f| f.path == p) {
                self.error(
                    rules::DUPLICATE,
                    path.origin.clone(),
                    format!("files `{}` and `{key}` have the same path", other.key),
                );
                continue;
            }
            let Some(content) = layers.pick(|l| l.content.as_ref()) else {
                self.error(
                    rules::MISSING_KEY,
                    key_origin.clone(),
                    format!("file `{key}` has no `content`"),
                )
                .help("add the file's text, e.g. `content = \"\"\"...\"\"\"`");
                continue;
            };
            origins.insert(format!("{field}.content"), content.origin.clone());
            self.scan_secret(key, content.value, &content.origin);
            let Some(text) = self.render_keyed(key, content.value, &content.origin, ctx) else {
                continue;
            };
            out.push(FileSpec {
                key: key.to_string(),
                path: p.to_string(),
                content: text,
            });
        }
        out
    }
}

/// A mount path without its trailing slashes (`/data/` is `/data`), as it is rendered
/// and compared.
fn normal_mount(path: &str) -> String {
    match path.trim_end_matches('/') {
        "" => "/".to_string(),
        p => p.to_string(),
    }
}
