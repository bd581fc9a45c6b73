//! The escape hatch's smaller messages: a help for invalid YAML (KG115), for a patch of
//! a hand-written object (KG043), one error for a file under `manifests/_all/` however
//! many environments it is in (KG041, KG114), and a warning for an `unchecked_kinds`
//! entry that a schema directory makes dead (KG047).

mod common;

use common::{assert_stderr, Platform};

/// Two environments, each with namespaces of its own.
const BASE: &str = r###"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"
namespace = "{{ env.name }}-{{ service }}"

[environments.prod]
sync = "manual"
namespace = "{{ env.name }}-{{ service }}"

[services.api]
image = "acme/api"
tag = "1.0.0"
probes = { liveness = "/health", readiness = "/ready" }
"###;

/// KG115 says where to look: the parser gives up after the unclosed `{`.
#[test]
fn invalid_yaml_has_a_help() {
    let p = Platform::new(BASE, &[]);
    p.write(
        "manifests/_all/api/bad.yaml",
        r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data: {a: "1",
  b: "2"
"###,
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG115]: not valid YAML: did not find expected ',' or '}'
 --> manifests/_all/api/bad.yaml:6:8
  |
6 |   b: "2"
  |        ^
  = help: the caret is where the parser gave up, which may be after the mistake: look above it for an unclosed `{`, `[` or quote, a tab in the indentation, or a `key: value` indented differently from its siblings (kgen reads YAML 1.2, docs/escape-hatch.md)

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG043 for a patch of a hand-written object names the file to edit.
#[test]
fn a_patch_of_a_hand_written_object_says_to_edit_the_file() {
    let p = Platform::new(
        &format!(
            "{BASE}{}",
            r###"
[services.api.patches.verbs]
kind = "Role"
json = [{ op = "add", path = "/rules/0/verbs/-", value = "list" }]
"###
        ),
        &[],
    );
    p.write(
        "manifests/_all/api/role.yaml",
        r###"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: api-reader
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get]
"###,
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG043]: patch `verbs` matches no object: service `api` has no Role
  --> platform.toml:20:8
   |
20 | kind = "Role"
   |        ^^^^^^
   = in: generated/{dev,prod}/api: kind
   = help: hand-written objects are not patched: edit manifests/_all/api/role.yaml itself (a patch applies to kgen's objects: Namespace, ServiceAccount api, ConfigMap api-config, Deployment api, Service api, PodDisruptionBudget api)

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG041 and KG114 of a file under `_all` are one error each, naming both
/// environments (in the path, and in the namespace of the message).
#[test]
fn errors_of_a_file_for_every_environment_are_reported_once() {
    let p = Platform::new(BASE, &[]);
    p.write(
        "manifests/_all/api/dup.yaml",
        r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data: {a: "2"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data: {a: "3"}
"###,
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG041]: two hand-written objects would be written to one file: a ConfigMap named `extra` is already defined
  --> manifests/_all/api/dup.yaml:10:9
   |
10 |   name: extra
   |         ^^^^^
   = in: generated/{dev,prod}/api/manifest-configmap-extra.yaml: metadata.name
   = help: kgen writes each hand-written object to `manifest-<kind>-<name>.yaml`; rename one of them (the other is in manifests/_all/api/dup.yaml)

error[KG114]: ConfigMap `api-config` in namespace `{dev,prod}-api` is defined more than once: the last one applied wins
  --> manifests/_all/api/dup.yaml:16:9
   |
16 |   name: api-config
   |         ^^^^^^^^^^
   = in: generated/{dev,prod}/api/manifest-configmap-api-config.yaml: metadata.name

error: 2 errors and 0 warnings; nothing was written
"###,
    );
}

/// An unchecked kind whose schema a directory has: the entry is dead (a warning).
#[test]
fn an_unchecked_kind_with_a_schema_in_schema_dirs_is_warned_about() {
    let p = Platform::new(
        &BASE.replace(
            "\n[environments.dev]\n",
            r###"
[manifests]
schema_dirs = ["schemas"]
unchecked_kinds = [
  { api_version = "example.com/v1", kind = "Widget", reason = "no schema published" },
]

[environments.dev]
"###,
        ),
        &[],
    );
    p.write(
        "schemas/example.com/widget_v1.json",
        r###"{"type": "object", "properties": {"spec": {"type": "object"}}}
"###,
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_stderr(
        &out.stderr,
        r###"warning[KG047]: `example.com/v1 Widget` is allowed without a schema, but `schemas` of `schema_dirs` has its schema, which wins: the entry has no effect
 --> platform.toml:9:44
  |
9 |   { api_version = "example.com/v1", kind = "Widget", reason = "no schema published" },
  |                                            ^^^^^^^^
  = help: remove the entry: its objects are validated against the schema

"###,
    );
}
