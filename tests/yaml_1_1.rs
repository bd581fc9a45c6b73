//! YAML 1.1 habits in hand-written manifests and patch files: kgen reads YAML 1.2
//! (serde_norway), where `0644` and `yes` are strings, so the schema refuses them
//! where a number or a boolean goes; the help says what kubectl would have read and
//! what to write, and the caret is at the value (also inside a JSON Patch's value).

mod common;

use common::{assert_stderr, Platform};

const BASE: &str = r###"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[environments.dev]
sync = "auto"

[services.api]
image = "acme/api"
tag = "1.0.0"
probes = { liveness = "/health", readiness = "/ready" }

"###;

/// A hand-written PriorityClass with `value: 01000` and `globalDefault: yes`.
#[test]
fn yaml_1_1_octal_and_boolean_in_a_manifest() {
    let p = Platform::new(BASE, &[]);
    p.write(
        "manifests/clusters/dev/extras/pc.yaml",
        r###"apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: batch
value: 01000
globalDefault: yes
"###,
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG101]: value: expected integer, got string (schema of scheduling.k8s.io/v1 PriorityClass)
 --> manifests/clusters/dev/extras/pc.yaml:5:8
  |
5 | value: 01000
  |        ^^^^^
  = in: generated/clusters/dev/extras/manifest-priorityclass-batch.yaml: value
  = help: `01000` is a string here: kgen reads YAML 1.2, where a leading 0 does not make an octal number (YAML 1.1, as kubectl reads it, takes it as 512); write `0o1000` (YAML 1.2's octal, also TOML's) or the decimal `512`

error[KG101]: globalDefault: expected boolean, got string (schema of scheduling.k8s.io/v1 PriorityClass)
 --> manifests/clusters/dev/extras/pc.yaml:6:16
  |
6 | globalDefault: yes
  |                ^^^
  = in: generated/clusters/dev/extras/manifest-priorityclass-batch.yaml: globalDefault
  = help: `yes` is a string here: kgen reads YAML 1.2, where only `true` and `false` are booleans (YAML 1.1 takes `yes` as true); write `true`

error: 2 errors and 0 warnings; nothing was written
"###,
    );
}

/// BASE with a JSON Patch file adding a ConfigMap volume of `defaultMode: <mode>`.
fn with_mode_patch(mode: &str) -> Platform {
    let p = Platform::new(
        &format!(
            "{BASE}{}",
            r###"[services.api.patches.mode]
kind = "Deployment"
file = "patches/mode.yaml"
"###
        ),
        &[],
    );
    p.write(
        "patches/mode.yaml",
        &format!(
            r###"- op: add
  path: /spec/template/spec/volumes/-
  value:
    name: v
    configMap:
      name: api-config
      defaultMode: {mode}
"###
        ),
    );
    p
}

/// `defaultMode: 0644` in the value of a patch file's `add`: located at the value's
/// line, not at the operation's `path`.
#[test]
fn yaml_1_1_octal_in_a_json_patch_value() {
    let p = with_mode_patch("0644");
    assert_stderr(
        &p.refused(),
        r###"error[KG101]: spec.template.spec.volumes[1].configMap.defaultMode: expected integer, got string (schema of apps/v1 Deployment)
 --> patches/mode.yaml:7:20
  |
7 |       defaultMode: 0644
  |                    ^^^^
  = in: generated/dev/api/deployment.yaml: spec.template.spec.volumes[1].configMap.defaultMode
  = help: `0644` is a string here: kgen reads YAML 1.2, where a leading 0 does not make an octal number (YAML 1.1, as kubectl reads it, takes it as 420); write `0o644` (YAML 1.2's octal, also TOML's) or the decimal `420`

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// `0o644`, YAML 1.2's octal, is the integer 420.
#[test]
fn yaml_1_2_octal_is_read_as_a_number() {
    let p = with_mode_patch("0o644");
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        p.read("generated/dev/api/deployment.yaml")
            .contains("      - configMap:\n          defaultMode: 420\n          name: api-config\n        name: v\n"),
        "{}",
        p.read("generated/dev/api/deployment.yaml")
    );
}
