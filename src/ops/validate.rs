//! `kgen validate`: everything `kgen render` checks, writing nothing; and
//! `kgen validate PATH...`: hand-written or third-party YAML, kubeconform-style.
//!
//! For files, every document of every `.yaml`/`.yml`/`.json` file (directories are
//! walked, hidden entries skipped) is one object (a `v1 List` is its items). Each
//! object is checked like a rendered one, against a schema found in this order:
//! kgen's core Kubernetes kinds, then `--schema-dir` (CRD schemas laid out
//! `{group}/{kind}_{version}.json`), then the schemas of the custom resources kgen
//! emits (which only know the fields kgen sets). An object whose kind has no
//! schema is reported (KG102), never skipped. Problems point at the line of the
//! field in the file (see `validate::locate`). The same object twice (KG114) is
//! only reported within one file, and references to objects that are not among
//! the files (KG113) are not reported: they may be created elsewhere. Rules that
//! need a platform (registries, production replicas) do not apply to files; a
//! policy rule is waived on an object with the annotation
//! `kgen.dev/waive-<RULE>: "<reason>"`. The rules between objects (an autoscaler and
//! what it scales, a Service and the pods it selects) relate the objects of one
//! directory, as kgen writes one per service and environment. The files may not hold every Service, so
//! KG202 asks for a readiness probe on pods a Service among them selects, and on
//! pods none selects whose containers declare ports (their Service may be
//! elsewhere); a pod with no port and no Service is a worker, which needs none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::Value;

use crate::compile::compile;
use crate::diagnostic::{self, Diagnostic};
use crate::error::{Error, Result};
use crate::escape_hatch::schema::Schemas;
use crate::rules;
use crate::schema_dir::SchemaDir;
use crate::source::{FileId, Origin, Sources};
use crate::validate::{self, locate, schema, FieldPath, Finding, Subject};
use crate::workspace::{Workspace, GENERATED_DIR};

/// What a successful validation found.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Objects validated.
    pub objects: usize,
    /// Environments (platform) or files (paths) they came from.
    pub sources_count: usize,
    /// `environment` or `file`.
    pub noun: &'static str,
    /// Non-blocking diagnostics.
    pub warnings: Vec<Diagnostic>,
    /// The files the diagnostics point into.
    pub sources: Sources,
    /// kgen's own files that hold data for another tool (Helm values, the Terraform
    /// hand-off), recognised by their header and not validated as objects.
    pub skipped: Vec<String>,
}

impl Summary {
    /// `valid: 42 objects in 3 environments, 0 warnings`.
    pub fn line(&self) -> String {
        let skipped = if self.skipped.is_empty() {
            String::new()
        } else {
            format!(
                " (and {} of kgen's that are not Kubernetes objects, skipped: Helm values, the Terraform hand-off, the plugin configuration)",
                diagnostic::plural(self.skipped.len(), "file")
            )
        };
        format!(
            "valid: {} in {}, {}{skipped}",
            diagnostic::plural(self.objects, "object"),
            diagnostic::plural(self.sources_count, self.noun),
            diagnostic::plural(self.warnings.len(), "warning"),
        )
    }
}

/// Validates the platform as `render` would (every environment, or only `envs`).
/// With `schema_dir`, objects whose kinds it has a schema for are also validated
/// against that (upstream) schema.
pub fn validate_platform(
    ws: &Workspace,
    envs: &[String],
    schema_dir: Option<&Path>,
) -> Result<Summary> {
    // The objects are only needed for the upstream schemas: keep them only then.
    let (compiled, objects) = match schema_dir {
        Some(_) => crate::compile::compile_with_objects(ws, envs)?,
        None => (compile(ws, envs)?, Vec::new()),
    };
    let mut warnings = compiled.run.warnings;
    // A manifest kgen did not write where Argo CD deploys: `render` refuses it
    // (KG307), and so does this.
    let on_disk = crate::write::compare(&ws.generated_dir(), &compiled.tree, &compiled.run.scopes)?;
    if !on_disk.foreign.is_empty() {
        return Err(crate::ops::render::foreign_files(ws, &on_disk, warnings));
    }
    if let Some(dir) = schema_dir {
        let mut dir = open_schema_dir(dir)?;
        let mut found = Vec::new();
        for o in &objects {
            let (Some(api), Some(kind)) = (
                o.value.get("apiVersion").and_then(Value::as_str),
                o.value.get("kind").and_then(Value::as_str),
            ) else {
                continue;
            };
            if !dir.has_schema(api, kind) {
                continue;
            }
            let problems = dir.problems(&o.value).unwrap_or_default();
            for f in upstream_findings(&o.value, api, kind, &dir, problems) {
                let svc = compiled
                    .run
                    .spec
                    .environments
                    .iter()
                    .find(|e| e.name == o.env)
                    .and_then(|e| {
                        e.services
                            .iter()
                            .find(|s| Some(&s.name) == o.service.as_ref())
                    });
                let origin = svc.and_then(|s| {
                    f.keys
                        .iter()
                        .find_map(|k| s.origins.get(k))
                        .or_else(|| s.origins.get(validate::SERVICE_ORIGIN))
                        .cloned()
                });
                found.push(validate::to_diagnostic(
                    f,
                    origin,
                    format!("{GENERATED_DIR}/{}", o.path),
                ));
            }
        }
        if found.iter().any(Diagnostic::is_error) {
            found.extend(warnings);
            diagnostic::sort(&mut found);
            return Err(Error::invalid(found, ws.sources.clone()));
        }
        warnings.extend(found);
    }
    Ok(Summary {
        objects: compiled.run.object_count,
        sources_count: compiled.run.environments,
        noun: "environment",
        warnings,
        sources: ws.sources.clone(),
        skipped: Vec::new(),
    })
}

/// `--schema-dir DIR`: a directory that cannot be read is an I/O error naming it
/// (exit 3, as for a PATH).
fn open_schema_dir(dir: &Path) -> Result<SchemaDir> {
    SchemaDir::open(dir).map_err(|e| Error::io("read --schema-dir", dir, e))
}

fn upstream_findings(
    object: &Value,
    api: &str,
    kind: &str,
    dir: &SchemaDir,
    problems: Vec<crate::schema_dir::Problem>,
) -> Vec<Finding> {
    let mut found = schema::findings(object, api, kind, problems);
    for f in &mut found {
        f.message = f.message.replace(
            &format!("(schema of {api} {kind})"),
            &format!("(schema of {api} {kind} in {})", dir.dir().display()),
        );
    }
    found
}

/// One object read from a file.
struct Doc {
    file: FileId,
    /// Byte offset of the document in the file.
    start: usize,
    /// The document's text.
    text: String,
    /// Path prefix inside the document (`items[2]` for an item of a List).
    prefix: FieldPath,
    value: Value,
}

/// The CRD schemas a platform names for its hand-written manifests (`[manifests]
/// schema_dirs` and `unchecked_kinds`), for each of `paths`: `platform`'s when given,
/// else those of the nearest platform.toml at or above the path (the files `kgen
/// validate PATH...` checks are mostly a platform's own output), else none.
pub fn platform_schemas(
    paths: &[PathBuf],
    platform: Option<&Path>,
) -> Result<Vec<Option<Rc<Schemas>>>> {
    let mut loaded: BTreeMap<PathBuf, Rc<Schemas>> = BTreeMap::new();
    let mut out = Vec::new();
    for p in paths {
        // Standard input is read as if it were a file in the current directory.
        let p = if is_stdin(p) { Path::new(".") } else { p };
        let found = match platform {
            Some(pf) => Some(pf.to_path_buf()),
            None => p.canonicalize().ok().and_then(|real| {
                real.ancestors()
                    .map(|d| d.join(crate::workspace::PLATFORM_FILE))
                    .find(|f| f.is_file())
            }),
        };
        let Some(found) = found else {
            out.push(None);
            continue;
        };
        if let Some(s) = loaded.get(&found) {
            out.push(Some(Rc::clone(s)));
            continue;
        }
        let ws = Workspace::load(&found)?;
        let mut diags = ws.deferred.clone();
        let schemas = Schemas::new(&ws, &mut diags);
        if diags.iter().any(Diagnostic::is_error) {
            return Err(Error::invalid(diags, ws.sources.clone()));
        }
        let schemas = Rc::new(schemas);
        loaded.insert(found, Rc::clone(&schemas));
        out.push(Some(schemas));
    }
    Ok(out)
}

/// The manifests `kgen validate PATH...` reads (the command line's).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ManifestPaths {
    /// Hand-written or third-party manifests to validate (files or directories; `-`
    /// for standard input).
    #[arg(value_name = "PATH", value_hint = clap::ValueHint::AnyPath, conflicts_with = "envs")]
    pub paths: Vec<PathBuf>,
    /// Accept standard input, or a file named as a PATH, that holds no object (empty,
    /// or only comments and `---`). Without it that is an error (exit 1), so that
    /// `helm template ... | kgen validate -` fails when helm does.
    #[arg(long, requires = "paths")]
    pub allow_empty: bool,
}

impl std::ops::Deref for ManifestPaths {
    type Target = [PathBuf];
    fn deref(&self) -> &[PathBuf] {
        &self.paths
    }
}

/// Validates YAML files and directories. A kind that is not a core Kubernetes kind
/// is validated against `schema_dir` (`--schema-dir`) when it has the kind's schema,
/// else as the platform of its PATH says (`platforms`, one per path, from
/// [`platform_schemas`]; empty for none): its `[manifests] schema_dirs`, kgen's own
/// schemas, its `unchecked_kinds`. Standard input or a file named in `paths` that
/// holds no object is an error ([`Error::NoObjects`]) unless `allow_empty`; a
/// directory may hold empty files.
pub fn validate_paths(
    manifests: &ManifestPaths,
    schema_dir: Option<&Path>,
    platforms: &[Option<Rc<Schemas>>],
) -> Result<Summary> {
    let paths = &manifests.paths;
    let mut dir = schema_dir.map(open_schema_dir).transpose()?;
    let mut files = Vec::new();
    // The index in `paths` each file was found under.
    let mut under = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        collect(p, true, &mut files)?;
        under.resize(files.len(), i);
    }
    let mut platform_of: BTreeMap<FileId, Option<&Schemas>> = BTreeMap::new();
    let mut sources = Sources::default();
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut docs: Vec<Doc> = Vec::new();
    let mut skipped = Vec::new();
    for (path, &i) in files.iter().zip(&under) {
        let (text, display) = if is_stdin(path) {
            let text = std::io::read_to_string(std::io::stdin())
                .map_err(|e| Error::io("read", STDIN, e))?;
            (text, STDIN.to_string())
        } else {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
            (text, path.to_string_lossy().replace('\\', "/"))
        };
        if crate::emit::is_generated_data(&text) {
            skipped.push(display);
            continue;
        }
        let id = sources.add(display.clone(), path.clone(), text.clone());
        platform_of.insert(id, platforms.get(i).and_then(Option::as_deref));
        let (objects, problems) = (docs.len(), diags.len());
        read_documents(id, &text, &mut docs, &mut diags);
        // Named on the command line (a file found in a directory may be empty).
        let named = path == &paths[i];
        if named && !manifests.allow_empty && docs.len() == objects && diags.len() == problems {
            return Err(Error::NoObjects {
                path: path.clone(),
                message: no_objects(&display),
            });
        }
    }

    // Each object on its own, then all of them together.
    let subjects: Vec<Subject> = docs.iter().map(|d| Subject::bare(&d.value)).collect();
    let mut findings: Vec<Vec<Finding>> = docs
        .iter()
        .zip(&subjects)
        .map(|(d, s)| {
            let platform = platform_of.get(&d.file).copied().flatten();
            validate::check_object(s, schema_of(&d.value, dir.as_mut(), platform))
        })
        .collect();
    // Files may hold several clusters' manifests (generated/<env>/...), so the same
    // object twice is only a mistake within one file; the policy rules between
    // objects (an autoscaler and the workload it scales) look at everything.
    let mut by_file: std::collections::BTreeMap<FileId, Vec<usize>> = Default::default();
    for (i, d) in docs.iter().enumerate() {
        by_file.entry(d.file).or_default().push(i);
    }
    for indices in by_file.values() {
        let set: Vec<Subject> = indices.iter().map(|&i| subjects[i]).collect();
        let index = validate::SetIndex::new(&set);
        for (j, f) in validate::semantics::check_set(&set, &index, false) {
            findings[indices[j]].push(f);
        }
    }
    // The policy rules between objects (an autoscaler and the workload it scales, a
    // Service and the pods it selects) look at the objects of one directory together:
    // a tree such as generated/ holds one directory per service and environment, and
    // the same Deployment of another environment (another cluster) is not this one.
    let mut by_dir: std::collections::BTreeMap<PathBuf, Vec<usize>> = Default::default();
    for (i, d) in docs.iter().enumerate() {
        let dir = sources
            .get(d.file)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        by_dir.entry(dir).or_default().push(i);
    }
    for indices in by_dir.values() {
        let set: Vec<Subject> = indices.iter().map(|&i| subjects[i]).collect();
        let index = validate::SetIndex::new(&set);
        for (j, f) in validate::policy::check_set(&set, &index, false) {
            findings[indices[j]].push(f);
        }
    }

    for (d, found) in docs.iter().zip(findings) {
        let display = sources.get(d.file).display.clone();
        // Waivers written as annotations, and those kgen wrote in its header (the
        // waivers of the service it rendered the object for).
        let mut waivers = crate::emit::waived_in_header(&sources.get(d.file).text);
        for (rule, reason, key) in validate::annotation_waivers(&d.value) {
            let field = d.prefix.key("metadata").key("annotations").key(&key);
            if let Some((_, message, help)) = validate::waiver_problem(&rule, &reason) {
                let span = locate::locate(&d.text, field.as_str(), false);
                diags.push(
                    Diagnostic::error(rules::WAIVER, message)
                        .at(Origin::new(
                            d.file,
                            d.start + span.start..d.start + span.end,
                        ))
                        .help(help)
                        .target(display.clone(), field.as_str()),
                );
            } else {
                waivers.push(rule);
            }
        }
        for mut f in found {
            if validate::policy::is_waivable(f.code) && waivers.iter().any(|w| w == f.code) {
                continue;
            }
            let full = join(&d.prefix, &f.field);
            let key_only = f.code == rules::SCHEMA
                && (f.message.contains(": unknown field")
                    || f.message.contains(": required field missing"));
            let span = locate::locate(&d.text, &full, !key_only);
            let origin = Origin::new(d.file, d.start + span.start..d.start + span.end);
            f.field = full;
            diags.push(validate::to_diagnostic(f, Some(origin), display.clone()));
        }
    }
    diagnostic::sort(&mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Error::invalid(diags, sources));
    }
    Ok(Summary {
        objects: docs.len(),
        sources_count: files.len() - skipped.len(),
        noun: "file",
        warnings: diags,
        sources,
        skipped,
    })
}

/// `prefix.field` as one rendered path.
fn join(prefix: &FieldPath, field: &str) -> String {
    match (prefix.as_str(), field) {
        ("", f) => f.to_string(),
        (p, "") => p.to_string(),
        (p, f) if f.starts_with('[') => format!("{p}{f}"),
        (p, f) => format!("{p}.{f}"),
    }
}

/// Schema findings for a hand-written object: core kinds, then the schema
/// directory, then kgen's own custom resources; KG102 when none knows the kind.
fn schema_of(
    object: &Value,
    dir: Option<&mut SchemaDir>,
    platform: Option<&Schemas>,
) -> Vec<Finding> {
    let stripped = schema::without_nulls(object);
    let object = stripped.as_ref().unwrap_or(object);
    let (api, kind) = match schema::type_meta(object) {
        Ok(t) => t,
        Err(found) => return found,
    };
    let builtin = schema::builtin(api, kind);
    if let Some(b) = builtin.filter(|b| b.source == schema::Source::Core) {
        return match schema::validator(b) {
            Ok(v) => schema::findings(object, api, kind, v.problems_static(object)),
            Err(e) => vec![Finding::error(rules::SCHEMA, &FieldPath::root(), e)],
        };
    }
    let has_dir = dir.is_some();
    if let Some(dir) = dir {
        if dir.has_schema(api, kind) {
            return match dir.problems(object) {
                Ok(problems) => upstream_findings(object, api, kind, dir, problems),
                Err(e) => vec![crate::escape_hatch::schema::schema_error(e)],
            };
        }
    }
    if let Some(schemas) = platform {
        return schemas.findings(object);
    }
    match builtin.map(|b| (b, schema::validator(b))) {
        Some((_, Ok(v))) => schema::findings(object, api, kind, v.problems(object))
            .into_iter()
            .map(|f| {
                f.help(format!(
                    "kgen's built-in schema of {kind} covers the fields kgen emits; for the full CRD pass `--schema-dir DIR` (upstream schemas in {{group}}/{{kind}}_{{version}}.json layout)"
                ))
            })
            .collect(),
        Some((_, Err(e))) => vec![Finding::error(rules::SCHEMA, &FieldPath::root(), e)],
        None => vec![schema::unknown_kind(api, kind, has_dir)],
    }
}

/// Splits a file into documents, parses each, and expands `List`s.
fn read_documents(file: FileId, text: &str, docs: &mut Vec<Doc>, diags: &mut Vec<Diagnostic>) {
    for d in crate::manifest_docs::read(file, text, diags) {
        docs.push(Doc {
            file,
            start: d.start,
            text: d.text.to_string(),
            prefix: d.prefix,
            value: d.value,
        });
    }
}

/// How diagnostics name standard input (`kgen validate -`).
const STDIN: &str = "<stdin>";

/// The error for standard input or a named file (`display`) without any object.
fn no_objects(display: &str) -> String {
    let (what, hint) = if display == STDIN {
        (
            "standard input is",
            " (did the command writing to it fail?)",
        )
    } else {
        ("the file is", "")
    };
    format!("no objects in {display}: {what} empty or holds only comments and `---`{hint}. Pass --allow-empty to accept input with no objects")
}

/// `-`: standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The files under `path`: `-` (standard input), itself if it is not a directory
/// (whatever its extension: a FIFO such as `/dev/stdin` from a pipe or `<(...)` is read
/// as a file), else every `.yaml`, `.yml` and `.json` regular file below it, sorted,
/// hidden entries skipped (a FIFO below it is never opened: reading it could wait
/// forever).
fn collect(path: &Path, explicit: bool, out: &mut Vec<PathBuf>) -> Result<()> {
    if explicit && is_stdin(path) {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
    if !meta.is_dir() {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if explicit || (meta.is_file() && matches!(ext, "yaml" | "yml" | "json")) {
            out.push(path.to_path_buf());
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::io("read directory", path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for e in entries {
        collect(&e, false, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `kgen validate FILE` on `yaml`: (line, code, message) of every diagnostic.
    fn validate_yaml(yaml: &str) -> Vec<(usize, String, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifests.yaml");
        std::fs::write(&path, yaml).unwrap();
        let (diags, sources) = match validate_paths(
            &ManifestPaths {
                paths: vec![path],
                allow_empty: true,
            },
            None,
            &[],
        ) {
            Ok(summary) => (summary.warnings, summary.sources),
            Err(Error::Invalid(inv)) => (inv.diagnostics, inv.sources),
            Err(e) => panic!("{e:?}"),
        };
        diags
            .iter()
            .map(|d| {
                let o = d.origin.as_ref().expect("located");
                let text = &sources.get(o.file).text;
                let line = text[..o.span.start].matches('\n').count() + 1;
                (line, d.code.to_string(), d.message.clone())
            })
            .collect()
    }

    #[test]
    fn hand_written_workloads_of_every_kind() {
        let yaml = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: app
  annotations:
    argocd.argoproj.io/hook: presync
    kgen.dev/waive-KG201: "fixture"
    kgen.dev/waive-KG203: "fixture"
    kgen.dev/waive-KG204: "fixture"
    kgen.dev/waive-KG205: "fixture"
    kgen.dev/waive-KG207: "fixture"
    kgen.dev/waive-KG213: "fixture"
spec:
  template:
    spec:
      restartPolicy: Never
      initContainers:
        - name: wait
          image: registry.example.com/wait:1
          livenessProbe:
            exec:
              command: ["true"]
      containers:
        - name: migrate
          image: registry.example.com/migrate:1
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: app
  annotations:
    kgen.dev/waive-KG201: "fixture"
    kgen.dev/waive-KG203: "fixture"
    kgen.dev/waive-KG204: "fixture"
    kgen.dev/waive-KG205: "fixture"
    kgen.dev/waive-KG207: "fixture"
    kgen.dev/waive-KG213: "fixture"
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      tolerations:
        - key: dedicated
          operator: Exists
          value: db
      containers:
        - name: db
          image: registry.example.com/db:15
          livenessProbe:
            tcpSocket: {port: 5432}
          volumeMounts:
            - name: data
              mountPath: /var/lib/db
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 10Gi
"#;
        assert_eq!(
            validate_yaml(yaml),
            vec![
                (7, "KG104".to_string(), "`presync` is not an Argo CD hook phase: Argo CD drops it, and a Job whose only hook phase is unknown is never applied".to_string()),
                (21, "KG109".to_string(), "init container `wait` has a liveness probe: the API server refuses them on an init container without restartPolicy: Always, which runs to completion".to_string()),
                (51, "KG116".to_string(), "the toleration of `dedicated` has operator Exists and value \"db\": Exists matches any value and takes none".to_string()),
            ]
        );
    }
}
