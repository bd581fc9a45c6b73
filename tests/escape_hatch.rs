//! The escape hatch (issue 18): hand-written manifests under `manifests/` and patches
//! on kgen's rendered objects. Golden output of both mechanisms; one bad input per
//! error with its exact stderr (file, line, column, help); `render --check`, the
//! plugin (`kgen cmp generate`) and `kgen diff` see them.

mod common;

use std::path::Path;

use common::{assert_stderr, Platform};

/// Two environments on a cluster each, one public service, CRD schemas for the
/// VerticalPodAutoscaler and KEDA (copied from examples/escape-hatch/schemas).
const BASE: &str = r###"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"

[manifests]
schema_dirs = ["schemas"]

[environments.dev]
sync = "auto"
namespace = "{{ env.name }}-{{ service }}"
vars = { queue = "dev-jobs" }

[environments.prod]
sync = "manual"
namespace = "{{ env.name }}-{{ service }}"
vars = { queue = "prod-jobs" }

[ingress]
class = "nginx"
cluster_issuer = "letsencrypt"

[baseline]
provided = { issuers = ["letsencrypt"] }

[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080
probes = { liveness = "/health", readiness = "/ready" }
env = { LOG_FORMAT = "json" }
ingress = { host = "api-{{ env.name }}.example.com" }

"###;

/// A platform made of `text`, the CRD schemas and `files`.
fn platform(text: &str, files: &[(&str, &str)]) -> Platform {
    let p = Platform::new(text, &[]);
    let schemas = common::repo_root().join("examples/escape-hatch/schemas");
    for (rel, content) in common::read_tree(&schemas) {
        p.write(&format!("schemas/{rel}"), &content);
    }
    for (rel, content) in files {
        p.write(rel, content);
    }
    p
}

/// BASE with `[services.api.patches.<name>]` on the Deployment, from the YAML file
/// `patches/<name>.yaml` holding `body`.
fn with_patch_file(name: &str, body: &str) -> Platform {
    let text = format!(
        "{BASE}\n[services.api.patches.{name}]\nkind = \"Deployment\"\nfile = \"patches/{name}.yaml\"\n"
    );
    platform(&text, &[(&format!("patches/{name}.yaml"), body)])
}

fn assert_file(p: &Platform, rel: &str, expected: &str) {
    let actual = p.read(rel);
    assert!(
        actual == expected,
        "{rel} differs:\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    common::git::run(dir, args);
}

// ---------------------------------------------------------------------------------
// Golden output
// ---------------------------------------------------------------------------------

const GOLDEN_PATCHES: &str = r###"
# A JSON merge patch: the WAF on the Ingress.
[services.api.patches.waf]
kind = "Ingress"
merge = { metadata = { annotations = { "nginx.ingress.kubernetes.io/enable-modsecurity" = "true" } } }

# A JSON Patch in a YAML file: one more container environment value.
[services.api.patches.gomemlimit]
kind = "Deployment"
file = "patches/gomemlimit.yaml"
"###;

const VPA: &str = r###"# Recommendations only: the HPA scales on CPU.
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata:
  name: api
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api
  updatePolicy:
    updateMode: "Off"
"###;

const SCALED_OBJECT: &str = r###"apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: "{{ service }}-queue"
spec:
  scaleTargetRef:
    name: "{{ service }}"
  minReplicaCount: 2
  maxReplicaCount: 10
  triggers:
    - type: aws-sqs-queue
      metadata:
        queueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/{{ env.queue }}"
        queueLength: "20"
        awsRegion: eu-west-1
"###;

const PRIORITY_CLASS: &str = r###"apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: batch-low
value: 100
globalDefault: false
description: "Batch jobs that may wait."
"###;

const GOMEMLIMIT: &str = r###"# Container 0 is the service's own.
- op: add
  path: /spec/template/spec/containers/0/env/-
  value:
    name: GOMEMLIMIT
    valueFrom:
      resourceFieldRef:
        containerName: api
        resource: limits.memory
"###;

/// The platform of the golden test: both mechanisms, every kind of place.
fn golden() -> Platform {
    let text = format!("{BASE}{GOLDEN_PATCHES}");
    platform(
        &text,
        &[
            ("manifests/_all/api/vpa.yaml", VPA),
            ("manifests/_all/api/scaledobject.tmpl.yaml", SCALED_OBJECT),
            (
                "manifests/clusters/prod/extras/priorityclass.yaml",
                PRIORITY_CLASS,
            ),
            ("patches/gomemlimit.yaml", GOMEMLIMIT),
        ],
    )
}

/// `[manifests] sync_waves` moves a component's Application in the bootstrap (a
/// Secret Grafana needs syncs with the monitoring stack, at -2); a component no
/// cluster has, or a wave before the operators', is KG047 (newcomer review 13).
#[test]
fn a_component_syncs_at_the_wave_sync_waves_gives_it() {
    let with = |waves: &str| {
        let text = BASE.replace(
            "schema_dirs = [\"schemas\"]\n",
            &format!("schema_dirs = [\"schemas\"]\nsync_waves = {waves}\n"),
        );
        platform(
            &text,
            &[(
                "manifests/clusters/prod/extras/priorityclass.yaml",
                PRIORITY_CLASS,
            )],
        )
    };
    let p = with("{ extras = -2 }");
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let app = p.read("generated/argocd/prod/application-extras.yaml");
    assert!(
        app.contains("  annotations:\n    argocd.argoproj.io/sync-wave: \"-2\"\n"),
        "{app}"
    );
    let out = with("{ extra = -2, extras = -4 }").kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let found = common::diagnostics_with(&out.stderr, "KG047");
    assert_eq!(found.len(), 2, "{}", out.stderr);
    assert!(
        found[0].starts_with(
            "error[KG047]: `sync_waves` names `extra`, which is no component of any cluster"
        ),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("^^^^^ did you mean `extras`?"),
        "{}",
        found[0]
    );
    assert!(
        found[1].starts_with(
            "error[KG047]: component `extras` cannot sync at wave -4: the earliest is -3"
        ),
        "{}",
        found[1]
    );
}

#[test]
fn golden_output_of_hand_written_manifests_and_patches() {
    let p = golden();
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_stderr(
        &out.stderr,
        r###"warning[KG306]: ScaledObject (keda.sh) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap generated/argocd/dev/, generated/argocd/prod/): the apply fails until the CRD exists
 --> manifests/_all/api/scaledobject.tmpl.yaml:2:7
  |
2 | kind: ScaledObject
  |       ^^^^^^^^^^^^
  = in: generated/{dev,prod}/api/manifest-scaledobject-api-queue.yaml: kind
  = help: install its operator on the cluster before syncing; if the cluster has it without this platform, say so: `[baseline] provided = { crd_groups = ["keda.sh"] }` (docs/argocd.md#crds)

warning[KG306]: VerticalPodAutoscaler (autoscaling.k8s.io) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap generated/argocd/dev/, generated/argocd/prod/): the apply fails until the CRD exists
 --> manifests/_all/api/vpa.yaml:3:7
  |
3 | kind: VerticalPodAutoscaler
  |       ^^^^^^^^^^^^^^^^^^^^^
  = in: generated/{dev,prod}/api/manifest-verticalpodautoscaler-api.yaml: kind
  = help: install its operator on the cluster before syncing; if the cluster has it without this platform, say so: `[baseline] provided = { crd_groups = ["autoscaling.k8s.io"] }` (docs/argocd.md#crds)

"###,
    );
    let files: Vec<String> = p.generated().into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        files,
        [
            "argocd/cmp/plugin.yaml",
            "argocd/dev/applicationset-dev.yaml",
            "argocd/dev/appproject-dev.yaml",
            "argocd/dev/bootstrap.yaml",
            "argocd/prod/application-extras.yaml",
            "argocd/prod/applicationset-prod.yaml",
            "argocd/prod/appproject-prod.yaml",
            "argocd/prod/bootstrap.yaml",
            "clusters/prod/extras/manifest-priorityclass-batch-low.yaml",
            "dev/api/configmap.yaml",
            "dev/api/deployment.yaml",
            "dev/api/ingress.yaml",
            "dev/api/manifest-scaledobject-api-queue.yaml",
            "dev/api/manifest-verticalpodautoscaler-api.yaml",
            "dev/api/namespace.yaml",
            "dev/api/pdb.yaml",
            "dev/api/service.yaml",
            "dev/api/serviceaccount.yaml",
            "prod/api/configmap.yaml",
            "prod/api/deployment.yaml",
            "prod/api/ingress.yaml",
            "prod/api/manifest-scaledobject-api-queue.yaml",
            "prod/api/manifest-verticalpodautoscaler-api.yaml",
            "prod/api/namespace.yaml",
            "prod/api/pdb.yaml",
            "prod/api/service.yaml",
            "prod/api/serviceaccount.yaml",
            "terraform/dev.json",
            "terraform/prod.json"
        ]
    );
    assert_file(
        &p,
        "generated/dev/api/manifest-scaledobject-api-queue.yaml",
        r###"# Generated by kgen from manifests/_all/api/scaledobject.tmpl.yaml + platform.toml. Do not edit: change the inputs and run `kgen render`.
# Hand-written: edit manifests/_all/api/scaledobject.tmpl.yaml (docs/escape-hatch.md)
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: api-queue
  namespace: dev-api
spec:
  maxReplicaCount: 10
  minReplicaCount: 2
  scaleTargetRef:
    name: api
  triggers:
  - metadata:
      awsRegion: eu-west-1
      queueLength: "20"
      queueURL: https://sqs.eu-west-1.amazonaws.com/123456789012/dev-jobs
    type: aws-sqs-queue
"###,
    );
    assert_file(
        &p,
        "generated/prod/api/manifest-scaledobject-api-queue.yaml",
        r###"# Generated by kgen from manifests/_all/api/scaledobject.tmpl.yaml + platform.toml. Do not edit: change the inputs and run `kgen render`.
# Hand-written: edit manifests/_all/api/scaledobject.tmpl.yaml (docs/escape-hatch.md)
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: api-queue
  namespace: prod-api
spec:
  maxReplicaCount: 10
  minReplicaCount: 2
  scaleTargetRef:
    name: api
  triggers:
  - metadata:
      awsRegion: eu-west-1
      queueLength: "20"
      queueURL: https://sqs.eu-west-1.amazonaws.com/123456789012/prod-jobs
    type: aws-sqs-queue
"###,
    );
    assert_file(
        &p,
        "generated/prod/api/manifest-verticalpodautoscaler-api.yaml",
        r###"# Generated by kgen from manifests/_all/api/vpa.yaml + platform.toml. Do not edit: change the inputs and run `kgen render`.
# Hand-written: edit manifests/_all/api/vpa.yaml (docs/escape-hatch.md)
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata:
  name: api
  namespace: prod-api
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api
  updatePolicy:
    updateMode: "Off"
"###,
    );
    assert_file(
        &p,
        "generated/clusters/prod/extras/manifest-priorityclass-batch-low.yaml",
        r###"# Generated by kgen from manifests/clusters/prod/extras/priorityclass.yaml. Do not edit: change the inputs and run `kgen render`.
# Hand-written: edit manifests/clusters/prod/extras/priorityclass.yaml (docs/escape-hatch.md)
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: batch-low
description: Batch jobs that may wait.
globalDefault: false
value: 100
"###,
    );
    assert_file(
        &p,
        "generated/argocd/prod/application-extras.yaml",
        r###"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  annotations:
    argocd.argoproj.io/sync-wave: "-1"
  labels:
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/part-of: acme
    kgen.dev/cluster: prod
  name: prod-extras
  namespace: argocd
spec:
  destination:
    server: https://kubernetes.default.svc
  project: prod
  revisionHistoryLimit: 10
  source:
    path: generated/clusters/prod/extras
    repoURL: https://github.com/acme/platform.git
    targetRevision: HEAD
  syncPolicy:
    retry:
      backoff:
        duration: 5s
        factor: 2
        maxDuration: 3m
      limit: 5
    syncOptions:
    - PrunePropagationPolicy=foreground
    - PruneLast=true
    - ApplyOutOfSyncOnly=true
"###,
    );
    assert_file(
        &p,
        "generated/argocd/prod/appproject-prod.yaml",
        r###"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  annotations:
    argocd.argoproj.io/sync-wave: "-5"
  labels:
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/part-of: acme
    kgen.dev/cluster: prod
  name: prod
  namespace: argocd
spec:
  clusterResourceWhitelist:
  - group: ""
    kind: Namespace
  - group: scheduling.k8s.io
    kind: PriorityClass
  description: "acme: environment prod and cluster prod (generated by kgen)"
  destinations:
  - server: https://kubernetes.default.svc
  - namespace: prod-api
    server: https://kubernetes.default.svc
  sourceRepos:
  - https://github.com/acme/platform.git
"###,
    );
    assert_file(
        &p,
        "generated/prod/api/ingress.yaml",
        r###"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
# Patched: waf (JSON merge patch, platform.toml)
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt
    external-dns.alpha.kubernetes.io/hostname: api-prod.example.com
    nginx.ingress.kubernetes.io/enable-modsecurity: "true"
  labels:
    app.kubernetes.io/instance: api
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: api
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: api
  namespace: prod-api
spec:
  ingressClassName: nginx
  rules:
  - host: api-prod.example.com
    http:
      paths:
      - backend:
          service:
            name: api
            port:
              name: http
        path: /
        pathType: Prefix
  tls:
  - hosts:
    - api-prod.example.com
    secretName: api-tls
"###,
    );
    assert_file(
        &p,
        "generated/prod/api/deployment.yaml",
        r###"# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
# Patched: gomemlimit (JSON Patch, patches/gomemlimit.yaml)
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app.kubernetes.io/instance: api
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: api
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: api
  namespace: prod-api
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/instance: api
      app.kubernetes.io/name: api
  template:
    metadata:
      annotations:
        kgen.dev/config-hash: "8c315d73d4eb141a"
      labels:
        app.kubernetes.io/instance: api
        app.kubernetes.io/managed-by: kgen
        app.kubernetes.io/name: api
        app.kubernetes.io/part-of: acme
        app.kubernetes.io/version: "1.0.0"
    spec:
      containers:
      - env:
        - name: LOG_FORMAT
          value: json
        - name: GOMEMLIMIT
          valueFrom:
            resourceFieldRef:
              containerName: api
              resource: limits.memory
        envFrom:
        - configMapRef:
            name: api-config
        image: registry.example.com/acme/api:1.0.0
        imagePullPolicy: IfNotPresent
        livenessProbe:
          httpGet:
            path: /health
            port: http
        name: api
        ports:
        - containerPort: 8080
          name: http
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /ready
            port: http
        resources:
          limits:
            cpu: 500m
            memory: 256Mi
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
        volumeMounts:
        - mountPath: /tmp
          name: tmp
      securityContext:
        fsGroup: 10001
        runAsGroup: 10001
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: api
      topologySpreadConstraints:
      - labelSelector:
          matchLabels:
            app.kubernetes.io/instance: api
            app.kubernetes.io/name: api
        matchLabelKeys:
        - pod-template-hash
        maxSkew: 1
        nodeTaintsPolicy: Honor
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
      - labelSelector:
          matchLabels:
            app.kubernetes.io/instance: api
            app.kubernetes.io/name: api
        matchLabelKeys:
        - pod-template-hash
        maxSkew: 1
        nodeTaintsPolicy: Honor
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
      volumes:
      - emptyDir: {}
        name: tmp
"###,
    );
}

#[test]
fn rendering_is_deterministic() {
    let a = golden();
    let b = golden();
    assert_eq!(a.kgen(&["render"]).code, 0);
    assert_eq!(b.kgen(&["render"]).code, 0);
    assert_eq!(a.generated(), b.generated());
}

/// SealedSecrets and ExternalSecrets are fine (secrets stay out of git); a kind
/// allowed without a schema, with a reason, renders; a waiver by annotation shows in
/// the header.
#[test]
fn sealed_and_external_secrets_unchecked_kinds_and_annotation_waivers_are_accepted() {
    let text = BASE.replace(
        "schema_dirs = [\"schemas\"]\n",
        "schema_dirs = [\"schemas\"]\nunchecked_kinds = [{ api_version = \"bitnami.com/v1alpha1\", kind = \"SealedSecret\", reason = \"the controller publishes no schema\" }]\n",
    );
    let p = platform(
        &text,
        &[
            ("manifests/prod/api/secrets.yaml", SECRETS),
            ("manifests/prod/api/job.yaml", JOB),
        ],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_file(
        &p,
        "generated/prod/api/manifest-sealedsecret-db.yaml",
        SEALED_OUT,
    );
    assert!(p.exists("generated/prod/api/manifest-externalsecret-api-keys.yaml"));
    let job = p.read("generated/prod/api/manifest-job-warmup.yaml");
    assert!(
        job.starts_with("# Generated by kgen from manifests/prod/api/job.yaml + platform.toml. Do not edit: change the inputs and run `kgen render`.\n# Hand-written: edit manifests/prod/api/job.yaml (docs/escape-hatch.md)\n# Waived: KG204 (the warm-up tool writes its cache next to its binary)\napiVersion: batch/v1\n"),
        "{job}"
    );
    assert!(!p.exists("generated/dev/api/manifest-job-warmup.yaml"));
}

const SECRETS: &str = r###"apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: db
spec:
  encryptedData:
    password: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: api-keys
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: aws
  target:
    name: api-keys
  data:
    - secretKey: key
      remoteRef:
        key: prod/api/keys
"###;

const SEALED_OUT: &str = r###"# Generated by kgen from manifests/prod/api/secrets.yaml + platform.toml. Do not edit: change the inputs and run `kgen render`.
# Hand-written: edit manifests/prod/api/secrets.yaml (docs/escape-hatch.md)
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: db
  namespace: prod-api
spec:
  encryptedData:
    password: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq
"###;

const JOB: &str = r###"apiVersion: batch/v1
kind: Job
metadata:
  name: warmup
  annotations:
    kgen.dev/waive-KG204: "the warm-up tool writes its cache next to its binary"
spec:
  template:
    spec:
      restartPolicy: Never
      serviceAccountName: api
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: warmup
          image: registry.example.com/acme/warmup:1.0.0
          resources:
            requests: { cpu: 50m, memory: 64Mi }
            limits: { memory: 64Mi }
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
"###;

// ---------------------------------------------------------------------------------
// render --check, the plugin, diff
// ---------------------------------------------------------------------------------

#[test]
fn render_check_sees_hand_written_manifests_and_patch_files() {
    let p = golden();
    assert_eq!(p.kgen(&["render"]).code, 0);
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // An edited manifest, an edited patch file: stale.
    p.write(
        "manifests/_all/api/vpa.yaml",
        &VPA.replace("\"Off\"", "\"Initial\""),
    );
    p.write(
        "patches/gomemlimit.yaml",
        &GOMEMLIMIT.replace("limits.memory", "requests.memory"),
    );
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout,
        "stale:   generated/dev/api/deployment.yaml\nstale:   generated/dev/api/manifest-verticalpodautoscaler-api.yaml\nstale:   generated/prod/api/deployment.yaml\nstale:   generated/prod/api/manifest-verticalpodautoscaler-api.yaml\ngenerated/ is out of date: 4 stale, 0 missing, 0 extra; run `kgen render` and commit the result\n"
    );

    // A removed manifest: its files are extra; a new one: missing.
    assert_eq!(p.kgen(&["render"]).code, 0);
    std::fs::remove_file(
        p.path()
            .join("manifests/clusters/prod/extras/priorityclass.yaml"),
    )
    .unwrap();
    p.write(
        "manifests/dev/api/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: \"1\"\n",
    );
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, CHECK_AFTER_MOVE);
}

#[test]
fn plugin_output_includes_hand_written_and_patched_objects() {
    let p = golden();
    assert_eq!(p.kgen(&["render"]).code, 0);
    for env in ["dev", "prod"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
            .args(["cmp", "generate"])
            .current_dir(p.path())
            .env("NO_COLOR", "1")
            .env("ARGOCD_ENV_KGEN_ENV", env)
            .env("ARGOCD_ENV_KGEN_SERVICE", "api")
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Exactly the committed files of the service, hand-written ones included.
        let expected: Vec<String> = p
            .generated()
            .into_iter()
            .filter(|(f, _)| f.starts_with(&format!("{env}/api/")))
            .map(|(_, t)| t)
            .collect();
        assert_eq!(stdout, expected.join("---\n"));
        for needle in [
            "kind: VerticalPodAutoscaler\n",
            "kind: ScaledObject\n",
            "# Patched: waf (JSON merge patch, platform.toml)\n",
            "# Patched: gomemlimit (JSON Patch, patches/gomemlimit.yaml)\n",
        ] {
            assert!(stdout.contains(needle), "{env}: no {needle:?} in\n{stdout}");
        }
    }
}

#[test]
fn diff_shows_hand_written_manifests_and_patches_and_removal_is_a_risk() {
    let p = golden();
    assert_eq!(p.kgen(&["render"]).code, 0);
    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-qm", "base"]);
    // Remove the VPA, add a ConfigMap by hand, patch the Ingress once more.
    std::fs::remove_file(p.path().join("manifests/_all/api/vpa.yaml")).unwrap();
    p.write(
        "manifests/prod/api/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: \"1\"\n",
    );
    let text = p.read("platform.toml").replace(
        "\"nginx.ingress.kubernetes.io/enable-modsecurity\" = \"true\"",
        "\"nginx.ingress.kubernetes.io/enable-modsecurity\" = \"true\", \"nginx.ingress.kubernetes.io/enable-owasp-core-rules\" = \"true\"",
    );
    p.write("platform.toml", &text);
    assert_eq!(p.kgen(&["render"]).code, 0);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-qm", "head"]);
    let out = p.kgen(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout;
    for needle in [
        "  ! dev: VerticalPodAutoscaler dev-api/api: removed; a prune deletes it from the cluster\n",
        // prod syncs by hand: nothing is pruned until someone syncs with prune.
        "  ! prod: VerticalPodAutoscaler prod-api/api: removed; nothing deletes it until someone syncs with prune, which deletes it from the cluster\n",
        "  + prod: ConfigMap prod-api/extra  (generated/prod/api/manifest-configmap-extra.yaml)\n",
        "  - dev: VerticalPodAutoscaler dev-api/api  (generated/dev/api/manifest-verticalpodautoscaler-api.yaml)\n",
        "  ~ prod: Ingress prod-api/api  (generated/prod/api/ingress.yaml)\n",
        "+    nginx.ingress.kubernetes.io/enable-owasp-core-rules: \"true\"\n",
    ] {
        assert!(text.contains(needle), "no {needle:?} in\n{text}");
    }
}

/// An envoy sidecar's config file from a hand-written ConfigMap, mounted by a patch.
const ENVOY_CONFIG: &str = r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: envoy-config
data:
  envoy.yaml: |
    admin: { address: { socket_address: { port_value: 9901 } } }
  level: info
"###;

const ENVOY_PATCH: &str = r###"[services.api.sidecars.envoy]
image = "envoyproxy/envoy"
tag = "v1.31.0"
resources = { requests = { cpu = "50m", memory = "64Mi" }, limits = { memory = "128Mi" } }
probes = { liveness = { exec = ["/bin/true"] } }

[services.api.patches.envoy-config]
kind = "Deployment"
file = "patches/envoy-config.yaml"
"###;

/// The sidecar is init container 0 (native sidecars).
const ENVOY_MOUNT: &str = r###"- op: add
  path: /spec/template/spec/volumes/-
  value:
    name: envoy-config
    configMap:
      name: envoy-config
- op: add
  path: /spec/template/spec/initContainers/0/volumeMounts/-
  value:
    name: envoy-config
    mountPath: /etc/envoy
    readOnly: true
"###;

/// The config hash of `env`'s api Deployment.
fn config_hash(p: &Platform, env: &str) -> String {
    let text = p.read(&format!("generated/{env}/api/deployment.yaml"));
    let line = text
        .lines()
        .find(|l| l.contains("kgen.dev/config-hash:"))
        .unwrap_or_else(|| panic!("no config hash in\n{text}"));
    line.trim().to_string()
}

/// Newcomer review 33, F4: a pod template's config hash covers the hand-written
/// ConfigMaps its final (patched) template uses, so a change to one rolls the pods;
/// a pod template that uses none keeps its hash; the order of the keys does not
/// matter; the plugin gives the same bytes; `kgen diff` reports the rollout.
#[test]
fn a_hand_written_config_map_a_patch_mounts_rolls_the_pods() {
    let text = format!("{BASE}{ENVOY_PATCH}");
    let p = platform(
        &text,
        &[
            ("manifests/_all/api/envoy-config.yaml", ENVOY_CONFIG),
            ("patches/envoy-config.yaml", ENVOY_MOUNT),
        ],
    );
    // The hash without the mount: the service's own ConfigMap only.
    let own = platform(&text.replace("[services.api.patches.envoy-config]\nkind = \"Deployment\"\nfile = \"patches/envoy-config.yaml\"\n", ""), &[("manifests/_all/api/envoy-config.yaml", ENVOY_CONFIG)]);
    let out = own.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        config_hash(&own, "dev"),
        "kgen.dev/config-hash: \"8c315d73d4eb141a\""
    );

    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        config_hash(&p, "dev"),
        "kgen.dev/config-hash: f888c6bb4d913d2f"
    );
    assert_eq!(
        config_hash(&p, "prod"),
        "kgen.dev/config-hash: f888c6bb4d913d2f"
    );
    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-qm", "base"]);

    // The same data, keys in another order: the same bytes.
    p.write(
        "manifests/_all/api/envoy-config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: envoy-config\ndata:\n  level: info\n  envoy.yaml: |\n    admin: { address: { socket_address: { port_value: 9901 } } }\n",
    );
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // A changed config file: the ConfigMap and the Deployments are stale.
    p.write(
        "manifests/_all/api/envoy-config.yaml",
        &ENVOY_CONFIG.replace("level: info", "level: debug"),
    );
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout,
        "stale:   generated/dev/api/deployment.yaml\nstale:   generated/dev/api/manifest-configmap-envoy-config.yaml\nstale:   generated/prod/api/deployment.yaml\nstale:   generated/prod/api/manifest-configmap-envoy-config.yaml\ngenerated/ is out of date: 4 stale, 0 missing, 0 extra; run `kgen render` and commit the result\n"
    );
    assert_eq!(p.kgen(&["render"]).code, 0);
    assert_eq!(
        config_hash(&p, "dev"),
        "kgen.dev/config-hash: \"6573ce62f806cc71\""
    );

    // The plugin's bytes are the committed files'.
    assert_plugin_output_is_committed(&p);

    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-qm", "head"]);
    let out = p.kgen(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "  i dev: Deployment dev-api/api: the pod template changes (config hash) with the same images: a rolling update replaces its 2 pods when Argo CD syncs\n",
        "  i prod: Deployment prod-api/api: the pod template changes (config hash) with the same images: a rolling update replaces its 2 pods at the next sync by hand\n",
        "-  level: info\n+  level: debug\n",
    ] {
        assert!(out.stdout.contains(needle), "no {needle:?} in\n{}", out.stdout);
    }
}

/// `kgen cmp generate` (the Argo CD plugin) for dev's `api` prints exactly the files
/// `kgen render` wrote for it, joined as one stream.
fn assert_plugin_output_is_committed(p: &Platform) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"))
        .args(["cmp", "generate"])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .env("ARGOCD_ENV_KGEN_ENV", "dev")
        .env("ARGOCD_ENV_KGEN_SERVICE", "api")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<String> = p
        .generated()
        .into_iter()
        .filter(|(f, _)| f.starts_with("dev/api/"))
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        expected.join("---\n")
    );
}

/// A ConfigMap written by hand for another service of the namespace: the hash covers
/// it in `kgen render` and in the plugin, which compiles one service, alike.
#[test]
fn the_plugin_hashes_a_config_map_of_another_service_of_the_namespace() {
    let text = format!(
        "{}\n[services.api.patches.shared]\nkind = \"Deployment\"\njson = [{{ op = \"add\", path = \"/spec/template/spec/containers/0/envFrom/-\", value = {{ configMapRef = {{ name = \"shared-settings\" }} }} }}]\n\n[services.web]\nimage = \"acme/web\"\ntag = \"1.0.0\"\nport = 8080\nprobes = {{ liveness = \"/health\", readiness = \"/ready\" }}\nnamespace = \"{{{{ env.name }}}}-api\"\n",
        BASE
    );
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared-settings\ndata:\n  REGION: eu-west-1\n";
    let p = platform(&text, &[("manifests/_all/web/shared.yaml", cm)]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let before = config_hash(&p, "dev");
    p.write(
        "manifests/_all/web/shared.yaml",
        &cm.replace("eu-west-1", "eu-central-1"),
    );
    assert_eq!(p.kgen(&["render"]).code, 0);
    assert_ne!(config_hash(&p, "dev"), before);
    assert_plugin_output_is_committed(&p);
}

const CHECK_AFTER_MOVE: &str = "stale:   generated/argocd/prod/appproject-prod.yaml\nmissing: generated/dev/api/manifest-configmap-extra.yaml\nextra:   generated/argocd/prod/application-extras.yaml\nextra:   generated/clusters/prod/extras/manifest-priorityclass-batch-low.yaml\ngenerated/ is out of date: 1 stale, 1 missing, 2 extra; run `kgen render` and commit the result\n";

// ---------------------------------------------------------------------------------
// Bad input: one test per error
// ---------------------------------------------------------------------------------

/// KG040: a directory named after no environment, with the known ones.
#[test]
fn manifest_for_an_unknown_environment() {
    let p = platform(
        BASE,
        &[(
            "manifests/stage/api/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  a: "1"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG040]: manifests/stage/api/cm.yaml: there is no environment `stage`
 --> manifests/stage/api/cm.yaml:1:1
  |
1 | apiVersion: v1
  | ^
  = help: known environments: dev, prod; or `manifests/_all/<service>/` for every environment

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG040: a directory named after no service, with a suggestion.
#[test]
fn manifest_for_an_unknown_service() {
    let p = platform(
        BASE,
        &[(
            "manifests/dev/apii/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  a: "1"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG040]: manifests/dev/apii/cm.yaml: there is no service `apii`
 --> manifests/dev/apii/cm.yaml:1:1
  |
1 | apiVersion: v1
  | ^
  = help: did you mean `api`? known services: api

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG040: a file that is not in `<env>/<service>/`.
#[test]
fn manifest_outside_the_layout() {
    let p = platform(
        BASE,
        &[(
            "manifests/dev/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  a: "1"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG040]: manifests/dev/cm.yaml is not where kgen reads hand-written manifests
 --> manifests/dev/cm.yaml:1:1
  |
1 | apiVersion: v1
  | ^
  = help: hand-written manifests go in manifests/<env>/<service>/, manifests/_all/<service>/ (every environment) or manifests/clusters/<cluster>/<component>/ (docs/escape-hatch.md)

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG040: a cluster component named like one kgen writes itself.
#[test]
fn manifest_for_a_kgen_component() {
    let p = platform(
        BASE,
        &[(
            "manifests/clusters/prod/bootstrap/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  namespace: tools
data:
  a: "1"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG040]: manifests/clusters/prod/bootstrap/cm.yaml: kgen writes the component `bootstrap` of cluster `prod` itself
 --> manifests/clusters/prod/bootstrap/cm.yaml:1:1
  |
1 | apiVersion: v1
  | ^
  = help: choose another directory name for the component, e.g. `extras`; kgen writes the Application `<cluster>-<component>` for it

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG041: `generateName` instead of a name.
#[test]
fn manifest_named_by_generate_name() {
    let p = platform(
        BASE,
        &[(
            "manifests/dev/api/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  generateName: extra-
data:
  a: "1"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG041]: this ConfigMap has no `metadata.name`
 --> manifests/dev/api/cm.yaml:3:1
  |
3 | metadata:
  | ^^^^^^^^
  = help: Argo CD cannot track an object named by `generateName` (each sync would create another): give it a fixed `metadata.name`

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG041: two hand-written objects that would be written to one file.
#[test]
fn two_objects_with_one_file_name() {
    let p = platform(
        BASE,
        &[
            (
                "manifests/_all/api/a.yaml",
                r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  a: "1"
"###,
            ),
            (
                "manifests/dev/api/b.yaml",
                r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  a: "1"
"###,
            ),
        ],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG041]: two hand-written objects would be written to one file: a ConfigMap named `extra` is already defined
 --> manifests/dev/api/b.yaml:4:9
  |
4 |   name: extra
  |         ^^^^^
  = in: generated/dev/api/manifest-configmap-extra.yaml: metadata.name
  = help: kgen writes each hand-written object to `manifest-<kind>-<name>.yaml`; rename one of them (the other is in manifests/_all/api/a.yaml)

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG041: a namespaced object of a cluster component names no namespace.
#[test]
fn cluster_component_object_without_namespace() {
    let p = platform(
        BASE,
        &[(
            "manifests/clusters/prod/extras/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  a: "1"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG041]: ConfigMap `extra` is namespaced, but has no `metadata.namespace`
 --> manifests/clusters/prod/extras/cm.yaml:3:1
  |
3 | metadata:
  | ^^^^^^^^
  = help: a cluster's component has no namespace of its own: write the namespace of each namespaced object

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG042: a `kind: Secret` with data is refused, the value never shown.
#[test]
fn secret_with_data() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/secret.yaml",
            r###"apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: aHVudGVyMg==
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG042]: Secret `db` holds data in `data`: a secret committed to git is no secret (base64 is not encryption)
 --> manifests/prod/api/secret.yaml:6:1
  |
6 | data:
  | ^^^^
  = help: keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) instead, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG042 and KG010 in one run: the Secret's data is refused, and a secret elsewhere
/// in the same object is reported with it, not on the run after the data is gone.
#[test]
fn secret_with_data_and_a_secret_elsewhere() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/secret.yaml",
            r###"apiVersion: v1
kind: Secret
metadata:
  name: db
  annotations:
    url: "postgres://app:s3cr3tPassw0rd@db.internal:5432/app"
data:
  password: aHVudGVyMg==
"###,
        )],
    );
    let stderr = p.refused();
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
    assert_stderr(
        &stderr,
        r###"error[KG010]: `metadata.annotations.url` looks like it holds a secret (a password inside a URL); kgen refuses secrets in plain text
 --> manifests/prod/api/secret.yaml:6:10
  |
6 |     url: "**************************************************"
  |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ secret-looking value
  = help: keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) beside this manifest to bring it in, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets

error[KG042]: Secret `db` holds data in `data`: a secret committed to git is no secret (base64 is not encryption)
 --> manifests/prod/api/secret.yaml:7:1
  |
7 | data:
  | ^^^^
  = help: keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) instead, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets

error: 2 errors and 0 warnings; nothing was written
"###,
    );
}

/// A misspelt field or value of a hand-written manifest gets a "did you mean": a field
/// among those the schema allows there, a value among the options of its check.
#[test]
fn misspellings_in_a_manifest_get_a_did_you_mean() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/svc.yaml",
            r###"apiVersion: v1
kind: Service
metadata:
  name: extra
  lables: {team: core}
spec:
  type: ClusterIp
  ports:
  - port: 80
    protocol: tcp
    targetPrt: 8080
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG101]: metadata.lables: unknown field (schema of v1 Service)
 --> manifests/prod/api/svc.yaml:5:3
  |
5 |   lables: {team: core}
  |   ^^^^^^ did you mean `labels`?
  = in: generated/prod/api/manifest-service-extra.yaml: metadata.lables
  = help: Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference

error[KG116]: unsupported Service type "ClusterIp"
 --> manifests/prod/api/svc.yaml:7:9
  |
7 |   type: ClusterIp
  |         ^^^^^^^^^ did you mean `ClusterIP`?
  = in: generated/prod/api/manifest-service-extra.yaml: spec.type
  = help: use ClusterIP, NodePort, LoadBalancer or ExternalName

error[KG106]: unsupported protocol "tcp"
  --> manifests/prod/api/svc.yaml:10:15
   |
10 |     protocol: tcp
   |               ^^^ did you mean `TCP`?
   = in: generated/prod/api/manifest-service-extra.yaml: spec.ports[0].protocol
   = help: use TCP, UDP or SCTP

error[KG101]: spec.ports[0].targetPrt: unknown field (schema of v1 Service)
  --> manifests/prod/api/svc.yaml:11:5
   |
11 |     targetPrt: 8080
   |     ^^^^^^^^^ did you mean `targetPort`?
   = in: generated/prod/api/manifest-service-extra.yaml: spec.ports[0].targetPrt
   = help: Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference

error: 4 errors and 0 warnings; nothing was written
"###,
    );
}

/// KG304: a cluster component's object in a namespace nobody creates; the help names
/// the two fixes that exist, and the second one (the Namespace next to it) renders
/// (newcomer review 6, #16).
#[test]
fn a_component_object_in_a_namespace_nobody_creates() {
    const QUOTA: &str = r###"apiVersion: v1
kind: ResourceQuota
metadata:
  name: tools-quota
  namespace: tools
spec:
  hard:
    pods: "10"
"###;
    let p = platform(
        BASE,
        &[("manifests/clusters/prod/extras/quota.yaml", QUOTA)],
    );
    assert_stderr(
        &errors_of(&p.refused()),
        r###"error[KG304]: ResourceQuota `tools-quota` is in namespace `tools`, which neither `prod-extras` nor an Application synced before it creates: the apply fails (namespaces "tools" not found)
 --> manifests/clusters/prod/extras/quota.yaml:5:14
  |
5 |   namespace: tools
  |              ^^^^^
  = in: generated/clusters/prod/extras/manifest-resourcequota-tools-quota.yaml: metadata.namespace
  = help: put the object in the Application that creates its namespace (an object of a service's namespace goes under `manifests/<env>/<service>/`, without `namespace:`), or create the namespace in this one: a hand-written `kind: Namespace` named `tools` next to it (see docs/argocd.md#namespaces)

error: 1 error and 0 warnings; nothing was written
"###,
    );
    let p = platform(
        BASE,
        &[
            ("manifests/clusters/prod/extras/quota.yaml", QUOTA),
            (
                "manifests/clusters/prod/extras/namespace.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tools\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n",
            ),
        ],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A service's namespace, created by the service's Application: the help sends the
    // object there (a second Namespace object would be KG303; newcomer review 7).
    let p = platform(
        BASE,
        &[(
            "manifests/clusters/prod/extras/quota.yaml",
            &QUOTA.replace("namespace: tools", "namespace: prod-api"),
        )],
    );
    let stderr = p.refused();
    assert!(
        stderr.contains("  = help: `prod-api` creates namespace `prod-api`, but is not synced before `prod-extras`: put the object in it (an object of a service's namespace goes under `manifests/<env>/<service>/`, without `namespace:`; see docs/argocd.md#namespaces)\n"),
        "{stderr}"
    );
    // An add-on's namespace: the component syncs after the add-on (newcomer review 19).
    let p = platform(
        &format!("{BASE}\n[addons.ingress-nginx]\nchart_version = \"4.15.1\"\n"),
        &[(
            "manifests/clusters/prod/extras/quota.yaml",
            &QUOTA.replace("namespace: tools", "namespace: ingress-nginx"),
        )],
    );
    let stderr = p.refused();
    assert!(
        stderr.contains("  = help: `prod-ingress-nginx` creates namespace `ingress-nginx` in sync wave -1, not before `prod-extras` (wave -1): sync component `extras` after it with `[manifests] sync_waves = { extras = 0 }` (docs/escape-hatch.md#cluster-components-and-their-wave)\n"),
        "{stderr}"
    );
    // A Secret there may be one the add-on's own pods wait for (verification review 22).
    let p = platform(
        &format!("{BASE}\n[addons.ingress-nginx]\nchart_version = \"4.15.1\"\n"),
        &[(
            "manifests/clusters/prod/extras/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\n  namespace: ingress-nginx\n",
        )],
    );
    let stderr = p.refused();
    assert!(
        stderr.contains("  = help: `prod-ingress-nginx` creates namespace `ingress-nginx` in sync wave -1, not before `prod-extras` (wave -1). If `prod-ingress-nginx`'s own pods need this Secret (one its values name, like Grafana's admin Secret), no later wave helps, since they wait for it: create the namespace and the Secret with the cluster, before Argo CD's first sync; otherwise sync component `extras` after it with `[manifests] sync_waves = { extras = 0 }` (docs/escape-hatch.md#cluster-components-and-their-wave)\n"),
        "{stderr}"
    );
    let p = platform(
        &format!("{BASE}\n[addons.ingress-nginx]\nchart_version = \"4.15.1\"\n").replace(
            "schema_dirs = [\"schemas\"]\n",
            "schema_dirs = [\"schemas\"]\nsync_waves = { extras = 0 }\n",
        ),
        &[(
            "manifests/clusters/prod/extras/quota.yaml",
            &QUOTA.replace("namespace: tools", "namespace: ingress-nginx"),
        )],
    );
    // (Both environments share one implicit cluster here, so the add-on is KG303.)
    let out = p.kgen(&["render"]);
    assert!(!out.stderr.contains("KG304"), "{}", out.stderr);
}

/// KG010: a password inside a URL, in a ConfigMap written by hand; masked.
#[test]
fn secret_looking_literal_in_a_manifest() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  url: "postgres://app:s3cr3tPassw0rd@db.internal:5432/app"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG010]: `data.url` looks like it holds a secret (a password inside a URL); kgen refuses secrets in plain text
 --> manifests/prod/api/cm.yaml:6:8
  |
6 |   url: "**************************************************"
  |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ secret-looking value
  = help: keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) beside this manifest to bring it in, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG010: a literal value under a secret-looking environment variable name.
#[test]
fn secret_looking_env_value_in_a_manifest() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/job.yaml",
            r###"apiVersion: batch/v1
kind: Job
metadata:
  name: warmup
  annotations:
    kgen.dev/waive-KG204: "the warm-up tool writes its cache next to its binary"
spec:
  template:
    spec:
      restartPolicy: Never
      serviceAccountName: api
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: warmup
          image: registry.example.com/acme/warmup:1.0.0
          env:
            - name: DB_PASSWORD
              value: hunter2hunter2
          resources:
            requests: { cpu: 50m, memory: 64Mi }
            limits: { memory: 64Mi }
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG010]: `spec.template.spec.containers[0].env[0].value` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
  --> manifests/prod/api/job.yaml:22:22
   |
22 |               value: **************
   |                      ^^^^^^^^^^^^^^ secret-looking value
   = help: keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) beside this manifest to bring it in, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG010: any string of a hand-written object is judged by the key it is stored
/// under too, as platform.toml's `env` is: an annotation `acme.com/password` with a
/// literal is refused (as it is on a service in platform.toml), while references
/// (`existingSecret`, `*-secret-name`, a `*SecretKeyRef`, a password file), empty
/// strings, placeholders and an ExternalSecret's `secretKey` pass.
#[test]
fn a_literal_under_a_secret_looking_key_of_a_manifest_is_refused() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  annotations:
    acme.com/password: "xK9#mP2$vL5q"
    acme.com/db-secret-name: db-credentials
    acme.com/password-file: /etc/acme/password
    acme.com/api-token: ""
    acme.com/admin-password: "${ADMIN_PASSWORD}"
data:
  existingSecret: grafana-admin
  passwordSecretRef: db-credentials
  enabled: "true"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG010]: `metadata.annotations["acme.com/password"]` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
 --> manifests/prod/api/cm.yaml:6:24
  |
6 |     acme.com/password: "************"
  |                        ^^^^^^^^^^^^^^ secret-looking value
  = help: keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) beside this manifest to bring it in, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets

error: 1 error and 0 warnings; nothing was written
"###,
    );
    // Without it, the rest passes.
    let p = platform(BASE, &[]);
    p.write(
        "manifests/prod/api/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  annotations:\n    acme.com/db-secret-name: db-credentials\n    acme.com/password-file: /etc/acme/password\n    acme.com/api-token: \"\"\n    acme.com/admin-password: \"${ADMIN_PASSWORD}\"\ndata:\n  existingSecret: grafana-admin\n  passwordSecretRef: db-credentials\n  enabled: \"true\"\n",
    );
    let out = p.kgen(&["render"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

/// KG013: a template variable that does not exist, once for every environment.
#[test]
fn template_with_an_undefined_variable() {
    let p = platform(
        BASE,
        &[(
            "manifests/_all/api/cm.tmpl.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  queue: "{{ env.queues }}"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG013]: undefined value in template: `env.queues` is undefined (did you mean `env.queue`?)
 --> manifests/_all/api/cm.tmpl.yaml:6:10
  |
6 |   queue: "{{ env.queues }}"
  |          ^^^^^^^^^^^^^^^^^^
  = help: templates in hand-written manifests see what platform.toml's strings see: `service`, `env.name`, `env.<var>`, `cluster.name`, `cluster.<var>`, `namespaces['<service>']`, `platform.name` (a cluster's component: `cluster` and `platform` only)

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG306 is silenced for the CRDs a chart that is not a preset says it installs
/// (`crd_groups`), in a sync wave before the services; a group without a dot is
/// refused where it is written (newcomer review 6, #20).
#[test]
fn a_plain_chart_add_on_installs_the_crds_it_names() {
    const VPA: &str = r###"apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata:
  name: api
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api
"###;
    // One environment: the add-on is installed once.
    let base = BASE.replace(
        "[environments.prod]\nsync = \"manual\"\nnamespace = \"{{ env.name }}-{{ service }}\"\nvars = { queue = \"prod-jobs\" }\n",
        "",
    );
    assert_ne!(base, BASE);
    let addon = |groups: &str| {
        format!(
            "{base}[addons.vpa]\nchart = \"vertical-pod-autoscaler\"\nrepo = \"https://kubernetes.github.io/autoscaler\"\nchart_version = \"10.0.0\"\nnamespace = \"vpa\"\nsync_wave = -3\ncrd_groups = {groups}\ncluster_kinds = [\"apiextensions.k8s.io/CustomResourceDefinition\", \"rbac.authorization.k8s.io/ClusterRole\", \"rbac.authorization.k8s.io/ClusterRoleBinding\"]\n"
        )
    };
    let p = platform(
        &addon("[\"autoscaling.k8s.io\"]"),
        &[("manifests/_all/api/vpa.yaml", VPA)],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("KG306"), "{}", out.stderr);
    // Without the group, the warning.
    let p = platform(&addon("[]"), &[("manifests/_all/api/vpa.yaml", VPA)]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("warning[KG306]: VerticalPodAutoscaler"),
        "{}",
        out.stderr
    );
    let p = platform(&addon("[\"vpa\"]"), &[("manifests/_all/api/vpa.yaml", VPA)]);
    let stderr = p.refused();
    assert!(
        stderr.starts_with("error[KG019]: `vpa` is not a CRD's API group: a CRD's group has a dot, like `example.com`\n"),
        "{stderr}"
    );
    // A CRD the cluster has without the platform (an EKS add-on, Terraform): listed
    // under `[baseline] provided` (newcomer review 8, #5), checked the same way.
    let provided = |groups: &str| {
        base.replace(
            "provided = { issuers = [\"letsencrypt\"] }",
            &format!("provided = {{ issuers = [\"letsencrypt\"], crd_groups = {groups} }}"),
        )
    };
    let p = platform(
        &provided("[\"autoscaling.k8s.io\"]"),
        &[("manifests/_all/api/vpa.yaml", VPA)],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("KG306"), "{}", out.stderr);
    let p = platform(
        &provided("[\"vpa\"]"),
        &[("manifests/_all/api/vpa.yaml", VPA)],
    );
    let stderr = p.refused();
    assert!(
        stderr.starts_with("error[KG005]: provided.crd_groups: `vpa` is not a CRD's API group: a CRD's group has a dot, like `example.com`\n"),
        "{stderr}"
    );
    let p = platform(
        &provided("[\"Autoscaling.K8s.io\"]"),
        &[("manifests/_all/api/vpa.yaml", VPA)],
    );
    let stderr = p.refused();
    assert!(
        stderr.contains("(did you mean `autoscaling.k8s.io`?)"),
        "{stderr}"
    );
}

/// The policy's help for a hand-written workload names its manifest's fields and the
/// waiver annotation, not platform.toml keys (newcomer review 9, #7).
#[test]
fn policy_help_for_a_hand_written_workload_names_manifest_fields() {
    const HELPER: &str = r###"apiVersion: apps/v1
kind: Deployment
metadata:
  name: helper
spec:
  selector:
    matchLabels: { app: helper }
  template:
    metadata:
      labels: { app: helper }
    spec:
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: helper
          image: registry.example.com/acme/helper:1.0.0
          resources: { requests: { cpu: 10m, memory: 16Mi }, limits: { memory: 32Mi } }
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
"###;
    let p = platform(BASE, &[("manifests/_all/api/helper.yaml", HELPER)]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("  = help: a container that hangs is never restarted without one: add a livenessProbe (`exec: { command: [/bin/healthcheck] }`), or waive KG202 with the annotation `kgen.dev/waive-KG202: \"<reason>\"`\n"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("probes = {"), "{}", out.stderr);
}

/// KG101: a field of the wrong type, per the CRD schema of `[manifests] schema_dirs`, at its line.
#[test]
fn custom_resource_against_its_crd_schema() {
    let p = platform(
        BASE,
        &[(
            "manifests/_all/api/vpa.yaml",
            r###"apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata:
  name: api
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api
  recommenders: 3
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"warning[KG306]: VerticalPodAutoscaler (autoscaling.k8s.io) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap generated/argocd/dev/, generated/argocd/prod/): the apply fails until the CRD exists
 --> manifests/_all/api/vpa.yaml:2:7
  |
2 | kind: VerticalPodAutoscaler
  |       ^^^^^^^^^^^^^^^^^^^^^
  = in: generated/{dev,prod}/api/manifest-verticalpodautoscaler-api.yaml: kind
  = help: install its operator on the cluster before syncing; if the cluster has it without this platform, say so: `[baseline] provided = { crd_groups = ["autoscaling.k8s.io"] }` (docs/argocd.md#crds)

error[KG101]: spec.recommenders: expected array, got integer (schema of autoscaling.k8s.io/v1 VerticalPodAutoscaler in schemas)
  --> manifests/_all/api/vpa.yaml:10:17
   |
10 |   recommenders: 3
   |                 ^
   = in: generated/{dev,prod}/api/manifest-verticalpodautoscaler-api.yaml: spec.recommenders

error: 1 error and 1 warning; nothing was written
"###,
    );
}

/// KG101: a field the CRD does not declare (a typo) is an error, not pruned silently.
#[test]
fn custom_resource_with_an_unknown_field() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/so.yaml",
            r###"apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: api
spec:
  scaleTargetRef:
    name: api
  pollingIntervall: 30
  triggers:
    - type: cpu
      metricType: Utilization
      metadata:
        value: "60"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"warning[KG306]: ScaledObject (keda.sh) is a custom resource whose CRD no Application installs before the Applications that use it (bootstrap generated/argocd/prod/): the apply fails until the CRD exists
 --> manifests/prod/api/so.yaml:2:7
  |
2 | kind: ScaledObject
  |       ^^^^^^^^^^^^
  = in: generated/prod/api/manifest-scaledobject-api.yaml: kind
  = help: install its operator on the cluster before syncing; if the cluster has it without this platform, say so: `[baseline] provided = { crd_groups = ["keda.sh"] }` (docs/argocd.md#crds)

error[KG101]: spec.pollingIntervall: unknown field (schema of keda.sh/v1alpha1 ScaledObject in schemas)
 --> manifests/prod/api/so.yaml:8:3
  |
8 |   pollingIntervall: 30
  |   ^^^^^^^^^^^^^^^^ did you mean `pollingInterval`?
  = in: generated/prod/api/manifest-scaledobject-api.yaml: spec.pollingIntervall
  = help: Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference

error: 1 error and 1 warning; nothing was written
"###,
    );
}

/// KG102: a kind no schema directory has, and not allowed without one.
#[test]
fn kind_without_a_schema() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/rollout.yaml",
            r###"apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: api
spec:
  replicas: 2
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG102]: no schema for argoproj.io/v1alpha1 Rollout: it cannot be validated
 --> manifests/prod/api/rollout.yaml:2:7
  |
2 | kind: Rollout
  |       ^^^^^^^
  = in: generated/prod/api/manifest-rollout-api.yaml: kind
  = help: no directory of `[manifests] schema_dirs` (schemas) has argoproj.io/rollout_v1alpha1.json: add the CRD's openAPIV3Schema there as argoproj.io/rollout_v1alpha1.json, or allow the kind without a schema, with a reason, in `[manifests] unchecked_kinds` (docs/escape-hatch.md#schemas)

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG047: a kind allowed without a schema needs a reason.
#[test]
fn unchecked_kind_without_a_reason() {
    let text = BASE.replace("schema_dirs = [\"schemas\"]\n", "schema_dirs = [\"schemas\"]\nunchecked_kinds = [{ api_version = \"argoproj.io/v1alpha1\", kind = \"Rollout\", reason = \" \" }]\n");
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG047]: `argoproj.io/v1alpha1 Rollout` is allowed without a schema, but with no reason
 --> platform.toml:8:87
  |
8 | unchecked_kinds = [{ api_version = "argoproj.io/v1alpha1", kind = "Rollout", reason = " " }]
  |                                                                                       ^^^
  = help: write why its objects cannot be validated, e.g. reason = "the vendor publishes no CRD schema"; or add its schema to a `schema_dirs` directory

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG047: an entry without `reason` at all is the same error, at its kind, reported
/// with the other `[manifests]` errors of the run (a missing schema directory here),
/// not a missing key that holds them back (newcomer review 6, #18).
#[test]
fn unchecked_kind_with_no_reason_key_and_another_manifests_error() {
    let text = BASE.replace("schema_dirs = [\"schemas\"]\n", "schema_dirs = [\"schemas\", \"crds\"]\nunchecked_kinds = [{ api_version = \"argoproj.io/v1alpha1\", kind = \"Rollout\" }]\n");
    let p = platform(&text, &[]);
    let stderr = p.refused();
    let firsts: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        firsts,
        [
            "error[KG047]: schema directory `crds` cannot be read: No such file or directory (os error 2)",
            "error[KG047]: `argoproj.io/v1alpha1 Rollout` is allowed without a schema, but with no reason",
            "error: 2 errors and 0 warnings; nothing was written",
        ],
        "{stderr}"
    );
    assert!(stderr.contains(" --> platform.toml:8:67\n"), "{stderr}");
}

/// KG047: a schema directory that does not exist.
#[test]
fn missing_schema_directory() {
    let text = BASE.replace(
        "schema_dirs = [\"schemas\"]\n",
        "schema_dirs = [\"schemas\", \"crds\"]\n",
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG047]: schema directory `crds` cannot be read: No such file or directory (os error 2)
 --> platform.toml:7:27
  |
7 | schema_dirs = ["schemas", "crds"]
  |                           ^^^^^^
  = help: create it with the CRD schemas, laid out `{group}/{kind-lowercase}_{version}.json` (kubeconform's layout), or remove it from `schema_dirs`

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG201-KG213: a hand-written Job is held to the policy rules of kgen's own, located in its file.
#[test]
fn policy_rules_on_a_hand_written_job() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/job.yaml",
            r###"apiVersion: batch/v1
kind: Job
metadata:
  name: warmup
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: warmup
          image: registry.example.com/acme/warmup:1.0.0
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"warning[KG213]: the pods run as the namespace's `default` service account
 --> manifests/prod/api/job.yaml:7:5
  |
7 |     spec:
  |     ^^^^
  = in: generated/prod/api/manifest-job-warmup.yaml: spec.template.spec.serviceAccountName
  = help: give the workload a ServiceAccount of its own, so its permissions (and IAM role) are its own

error[KG201]: container `warmup` sets no cpu request, no memory request, no memory limit
  --> manifests/prod/api/job.yaml:10:9
   |
10 |         - name: warmup
   |         ^^^^^^^^^^^^^^
   = in: generated/prod/api/manifest-job-warmup.yaml: spec.template.spec.containers[0].resources
   = help: without requests the scheduler packs pods blindly, and without a memory limit one pod can starve the node

error[KG203]: container `warmup` may run as root (no runAsNonRoot: true and no runAsUser)
  --> manifests/prod/api/job.yaml:10:9
   |
10 |         - name: warmup
   |         ^^^^^^^^^^^^^^
   = in: generated/prod/api/manifest-job-warmup.yaml: spec.template.spec.containers[0].securityContext.runAsNonRoot
   = help: set runAsNonRoot: true and a non-zero runAsUser in the pod's securityContext

error[KG204]: container `warmup` can write to its root filesystem
  --> manifests/prod/api/job.yaml:10:9
   |
10 |         - name: warmup
   |         ^^^^^^^^^^^^^^
   = in: generated/prod/api/manifest-job-warmup.yaml: spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem
   = help: set readOnlyRootFilesystem: true and mount an emptyDir where the program writes (kgen mounts one at /tmp)

error[KG205]: container `warmup` keeps the default Linux capabilities (capabilities.drop has no ALL)
  --> manifests/prod/api/job.yaml:10:9
   |
10 |         - name: warmup
   |         ^^^^^^^^^^^^^^
   = in: generated/prod/api/manifest-job-warmup.yaml: spec.template.spec.containers[0].securityContext.capabilities.drop

error[KG205]: container `warmup` may gain privileges (allowPrivilegeEscalation is not false)
  --> manifests/prod/api/job.yaml:10:9
   |
10 |         - name: warmup
   |         ^^^^^^^^^^^^^^
   = in: generated/prod/api/manifest-job-warmup.yaml: spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation

warning[KG207]: container `warmup` runs without a seccomp profile
  --> manifests/prod/api/job.yaml:10:9
   |
10 |         - name: warmup
   |         ^^^^^^^^^^^^^^
   = in: generated/prod/api/manifest-job-warmup.yaml: spec.template.spec.containers[0].securityContext.seccompProfile
   = help: set seccompProfile: { type: RuntimeDefault } in the pod's securityContext

error: 5 errors and 2 warnings; nothing was written
"###,
    );
}

/// KG200: a waiver by annotation needs a reason; the finding it meant to waive stays.
#[test]
fn waiver_annotation_without_a_reason() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/job.yaml",
            r###"apiVersion: batch/v1
kind: Job
metadata:
  name: warmup
  annotations:
    kgen.dev/waive-KG204: ""
spec:
  template:
    spec:
      restartPolicy: Never
      serviceAccountName: api
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: warmup
          image: registry.example.com/acme/warmup:1.0.0
          resources:
            requests: { cpu: 50m, memory: 64Mi }
            limits: { memory: 64Mi }
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG200]: the waiver of KG204 has no reason
 --> manifests/prod/api/job.yaml:6:27
  |
6 |     kgen.dev/waive-KG204: ""
  |                           ^^
  = help: write why the rule does not apply here, e.g. reason = "batch worker: no HTTP endpoint to probe"; it is shown in the generated files

error[KG204]: container `warmup` can write to its root filesystem
  --> manifests/prod/api/job.yaml:23:11
   |
23 |           securityContext:
   |           ^^^^^^^^^^^^^^^
   = in: generated/prod/api/manifest-job-warmup.yaml: spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem
   = help: set readOnlyRootFilesystem: true and mount an emptyDir where the program writes (kgen mounts one at /tmp)

error: 2 errors and 0 warnings; nothing was written
"###,
    );
}

/// KG114: a hand-written object with the kind, namespace and name of one kgen renders.
#[test]
fn duplicate_of_a_rendered_object() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/svc.yaml",
            r###"apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector:
    app.kubernetes.io/name: api
    app.kubernetes.io/instance: api
  ports:
    - name: http
      port: 80
      targetPort: 8080
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG114]: Service `api` in namespace `prod-api` is defined more than once: the last one applied wins
 --> manifests/prod/api/svc.yaml:4:9
  |
4 |   name: api
  |         ^^^
  = in: generated/prod/api/manifest-service-api.yaml: metadata.name

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG302: a hand-written object in a namespace the environment's AppProject does not permit, at its `namespace`.
#[test]
fn namespace_the_project_does_not_permit() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/cm.yaml",
            r###"apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  namespace: kube-system
data:
  a: "1"
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG302]: ConfigMap `extra` is in namespace `kube-system`, which project `prod` does not permit on `https://kubernetes.default.svc`: Argo CD fails the sync of `prod-api` ("namespace kube-system is not permitted in project 'prod'")
 --> manifests/prod/api/cm.yaml:5:14
  |
5 |   namespace: kube-system
  |              ^^^^^^^^^^^
  = in: generated/prod/api/manifest-configmap-extra.yaml: metadata.namespace

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG302: a cluster-scoped kind in a service's directory, which its project does not whitelist.
#[test]
fn kind_the_project_does_not_permit() {
    let p = platform(
        BASE,
        &[(
            "manifests/prod/api/pc.yaml",
            r###"apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: api-high
value: 1000
"###,
        )],
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG302]: PriorityClass `api-high` is a kind project `prod` does not permit (`clusterResourceWhitelist`): Argo CD fails the sync of `prod-api` ("resource scheduling.k8s.io:PriorityClass is not permitted in project prod")
 --> manifests/prod/api/pc.yaml:2:7
  |
2 | kind: PriorityClass
  |       ^^^^^^^^^^^^^
  = in: generated/prod/api/manifest-priorityclass-api-high.yaml: kind

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG043: a patch whose kind matches none of the service's objects, once for both environments.
#[test]
fn patch_matching_no_object() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.waf]
kind = "Ingres"
merge = { metadata = { annotations = { "nginx.ingress.kubernetes.io/enable-modsecurity" = "true" } } }
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG043]: patch `waf` matches no object: service `api` has no Ingres
  --> platform.toml:36:8
   |
36 | kind = "Ingres"
   |        ^^^^^^^^ did you mean `Ingress`?
   = in: generated/{dev,prod}/api: kind
   = help: its objects: Namespace, ServiceAccount api, ConfigMap api-config, Deployment api, Service api, Ingress api, PodDisruptionBudget api; patch one of them, or move the patch to the overlays of the environments that have it

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG043: a patch whose kind matches and whose name is a near miss, at its `name`.
#[test]
fn patch_naming_no_object_of_its_kind() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.cfg]
kind = "ConfigMap"
name = "api-conifg"
merge = { metadata = { labels = { team = "shop" } } }
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG043]: patch `cfg` matches no object: service `api` has no ConfigMap named `api-conifg`
  --> platform.toml:37:8
   |
37 | name = "api-conifg"
   |        ^^^^^^^^^^^^ the kind matches, the name does not: did you mean `api-config`?
   = in: generated/{dev,prod}/api: metadata.name
   = help: its objects: Namespace, ServiceAccount api, ConfigMap api-config, Deployment api, Service api, Ingress api, PodDisruptionBudget api; patch one of them, or move the patch to the overlays of the environments that have it

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG106: a hand-written Service may target a native sidecar's named port only on
/// clusters from Kubernetes 1.32 (kubernetes/kubernetes#127976); before that the
/// endpoints controller searches `containers` alone.
#[test]
fn a_service_targeting_a_sidecar_port_by_name_needs_kubernetes_1_32() {
    let sidecar = "[services.api.sidecars.proxy]\nimage = \"acme/proxy\"\ntag = \"1.0.0\"\nports = { admin = { port = 9901, expose = false } }\nprobes = { liveness = { tcp = \"admin\" } }\nresources = { requests = { cpu = \"50m\", memory = \"32Mi\" }, limits = { memory = \"32Mi\" } }\n";
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api-admin\nspec:\n  selector:\n    app.kubernetes.io/name: api\n  ports:\n    - name: admin\n      port: 9901\n      targetPort: admin\n";
    let text = format!("{BASE}{sidecar}");
    let p = platform(&text, &[("manifests/dev/api/admin-service.yaml", service)]);
    let stderr = p.refused();
    assert!(
        stderr.contains("error[KG106]: target port `admin` is a port of native sidecars only: Services route to those from Kubernetes 1.32 on, and the cluster of environment `dev` runs 1.29\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("= help: target the port by number (`targetPort: 9901`), or set the cluster's `kubernetes_version = \"1.32\"` once it runs 1.32\n"),
        "{stderr}"
    );
    // From 1.32 the same manifest is fine (prod on the same cluster: one cluster, one
    // destination, KG015).
    let newer = text
        .replace(
            "[environments.dev]\n",
            "[clusters.dev]\nkubernetes_version = \"1.32\"\n\n[environments.dev]\ncluster = \"dev\"\n",
        )
        .replace("[environments.prod]\n", "[environments.prod]\ncluster = \"dev\"\n");
    let p = platform(&newer, &[("manifests/dev/api/admin-service.yaml", service)]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// KG118: a preStop `sleep` a patch adds needs PodLifecycleSleepAction, on by default
/// from Kubernetes 1.30; a 1.29 API server drops it and refuses the empty hook
/// (external review 31, F3). Located at the patch's operation; fine from 1.30.
#[test]
fn a_sleep_hook_needs_kubernetes_1_30() {
    let patch = "[services.api.patches.drain]\nkind = \"Deployment\"\njson = [{ op = \"add\", path = \"/spec/template/spec/containers/0/lifecycle\", value = { preStop = { sleep = { seconds = 5 } } } }]\n";
    let text = format!("{BASE}{patch}");
    let p = platform(&text, &[]);
    let stderr = p.refused();
    assert!(
        stderr.contains("error[KG118]: a lifecycle hook's `sleep` action needs the feature gate PodLifecycleSleepAction, on by default from Kubernetes 1.30; the cluster runs 1.29 (its `kubernetes_version`, 1.29 unless set), whose API server drops the field, and then refuses the pod when the hook has no other handler (\"must specify a handler type\")\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("= help: remove the field, or, once the cluster runs 1.30, set `kubernetes_version = \"1.30\"` in `[clusters.{dev,prod}]` (an environment that names its cluster by URL declares it there first, with that URL as `server`: docs/platform.md#clusters)\n"),
        "{stderr}"
    );
    assert!(stderr.contains("--> platform.toml:"), "{stderr}");
    let newer = text
        .replace(
            "[environments.dev]\n",
            "[clusters.dev]\nkubernetes_version = \"1.30\"\n\n[environments.dev]\ncluster = \"dev\"\n",
        )
        .replace("[environments.prod]\n", "[environments.prod]\ncluster = \"dev\"\n");
    let p = platform(&newer, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A whole number written as a float in a hand-written manifest is the integer, as
/// kubectl sends it: `port: 8.0e1` is written `port: 80`, and `targetPort: 1000.0` is
/// port 1000, not "out of range" (external review 31, F1 and F2).
#[test]
fn whole_floats_in_a_manifest_are_integers() {
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api-extra\nspec:\n  selector:\n    app.kubernetes.io/name: api\n  ports:\n    - name: http\n      port: 8.0e1\n      targetPort: 8080.0\n";
    let p = platform(BASE, &[("manifests/dev/api/extra.yaml", service)]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = p.read("generated/dev/api/manifest-service-api-extra.yaml");
    assert!(
        written.contains("  - name: http\n    port: 80\n    targetPort: 8080\n"),
        "{written}"
    );
}

/// KG043: a `[defaults]` patch may miss some services, not all.
#[test]
fn defaults_patch_matching_nothing_anywhere() {
    let text = BASE.replace("[services.api]\n", "[defaults.patches.team]\nkind = \"CronJob\"\nmerge = { metadata = { labels = { team = \"shop\" } } }\n\n[services.api]\n");
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG043]: patch `team` of [defaults] matches no object of any service
  --> platform.toml:27:8
   |
27 | kind = "CronJob"
   |        ^^^^^^^^^
   = help: check its `kind` and `name` against the rendered objects; a [defaults] patch may match nothing in some services, but not in all

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG044: `remove` of a path the rendered object does not have.
#[test]
fn json_patch_path_that_does_not_exist() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.drop-probe]
kind = "Deployment"
json = [{ op = "remove", path = "/spec/template/spec/containers/0/startupProbe" }]
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG044]: operation 0 of JSON Patch `drop-probe` does not apply to Deployment `api`: the path `/spec/template/spec/containers/0/startupProbe` does not exist in the object
  --> platform.toml:37:33
   |
37 | json = [{ op = "remove", path = "/spec/template/spec/containers/0/startupProbe" }]
   |                                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/{dev,prod}/api/deployment.yaml: (root)
   = help: `add` needs the parent to exist: `/-` appends to a list that must be there (a container without `env` has no `env` list: add it whole, `path: .../env` with a list as `value`); `remove` and `replace` need the path itself. To see the object as kgen renders it, take the patch out and run `kgen render`

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG044: a failed `test` says what the object has there, and what a `test` needs
/// (newcomer review 6, #19).
#[test]
fn json_patch_test_that_fails() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.svc]
kind = "Service"
json = [{ op = "test", path = "/spec/type", value = "NodePort" }]
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG044]: operation 0 of JSON Patch `svc` does not apply to Service `api`: its `test` of `/spec/type` failed: the object has "ClusterIP" there
  --> platform.toml:37:31
   |
37 | json = [{ op = "test", path = "/spec/type", value = "NodePort" }]
   |                               ^^^^^^^^^^^^
   = in: generated/{dev,prod}/api/service.yaml: (root)
   = help: a `test` passes only when the value at `path` equals its `value` exactly (type included: `"1"` is not `1`): write the value the object has, or take the `test` out

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG101: an unknown field in the value a JSON Patch operation writes is at its key,
/// as in a hand-written manifest, with "did you mean" (newcomer review 6, #19).
#[test]
fn json_patch_value_with_an_unknown_field() {
    let p = with_patch_file(
        "gomemlimit",
        r###"- op: add
  path: /spec/template/spec/containers/0/env/-
  value:
    name: GOMEMLIMIT
    valu: "200MiB"
"###,
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG101]: spec.template.spec.containers[0].env[1].valu: unknown field (schema of apps/v1 Deployment)
 --> patches/gomemlimit.yaml:5:5
  |
5 |     valu: "200MiB"
  |     ^^^^ did you mean `value`?
  = in: generated/{dev,prod}/api/deployment.yaml: spec.template.spec.containers[0].env[1].valu
  = help: Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG044: in a YAML patch file, at the operation's line.
#[test]
fn json_patch_file_path_that_does_not_exist() {
    let p = with_patch_file(
        "gomemlimit",
        r###"# Appends to the env of container 0.
- op: add
  path: /spec/template/spec/containers/0/envv/-
  value:
    name: GOMEMLIMIT
    value: "200MiB"
"###,
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG044]: operation 0 of JSON Patch `gomemlimit` does not apply to Deployment `api`: the path `/spec/template/spec/containers/0/envv/-` does not exist in the object
 --> patches/gomemlimit.yaml:3:9
  |
3 |   path: /spec/template/spec/containers/0/envv/-
  |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ did you mean `/spec/template/spec/containers/0/env/-`?
  = in: generated/{dev,prod}/api/deployment.yaml: (root)
  = help: `add` needs the parent to exist: `/-` appends to a list that must be there (a container without `env` has no `env` list: add it whole, `path: .../env` with a list as `value`); `remove` and `replace` need the path itself. To see the object as kgen renders it, take the patch out and run `kgen render`

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG045: the image belongs to `bump-image`.
#[test]
fn patch_changing_the_image() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.pin]
kind = "Deployment"
json = [{ op = "replace", path = "/spec/template/spec/containers/0/image", value = "registry.example.com/acme/api:0.9.0" }]
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG045]: patch `pin` changes `spec.template.spec.containers[0].image` of Deployment `api`, which kgen owns (the image kgen renders from `image`, `tag` and `digest`, which `kgen bump-image` sets)
  --> platform.toml:37:34
   |
37 | json = [{ op = "replace", path = "/spec/template/spec/containers/0/image", value = "registry.example.com/acme/api:0.9.0" }]
   |                                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/{dev,prod}/api/deployment.yaml: spec.template.spec.containers[0].image
   = help: set `image`, `tag` or `digest` in platform.toml or the overlay (or run `kgen bump-image`); to add a container, append it with a JSON Patch `add` at `/spec/template/spec/containers/-`; a merge patch replaces a whole list, so it cannot change one container: use a JSON Patch

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG048: an `add` at an existing list replaces it (RFC 6902): the typed `env` would
/// be lost without a word (migration review 27, F1).
#[test]
fn json_patch_add_over_the_env_kgen_renders() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.env-refs]
kind = "Deployment"
json = [{ op = "add", path = "/spec/template/spec/containers/0/env", value = [{ name = "POD_NAME", valueFrom = { fieldRef = { fieldPath = "metadata.name" } } }] }]
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG048]: patch `env-refs` of Deployment `api`: operation 0 adds `spec.template.spec.containers[0].env`, which replaces the 1 entry kgen renders there (`LOG_FORMAT`): an `add`, `copy` or `move` to an existing member replaces it (RFC 6902)
  --> platform.toml:37:30
   |
37 | json = [{ op = "add", path = "/spec/template/spec/containers/0/env", value = [{ name = "POD_NAME", valueFrom = { fieldRef = { fieldPath = "metadata.name" } } }]…
   |                              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/{dev,prod}/api/deployment.yaml: spec.template.spec.containers[0].env
   = help: append with `add` at `/spec/template/spec/containers/0/env/-` (one operation per entry), so that what kgen renders stays; to replace the whole list on purpose, use `replace`

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG048: `copy` and `move` add at their `path` too (RFC 6902 4.4, 4.5): copying a
/// list over the one kgen renders replaces it (verification review 30).
#[test]
fn json_patch_copy_over_the_env_kgen_renders() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.copy-env]
kind = "Deployment"
json = [{ op = "copy", from = "/spec/template/spec/volumes", path = "/spec/template/spec/containers/0/env" }]
"###
    );
    let p = platform(&text, &[]);
    let err = p.refused();
    assert!(
        err.starts_with("error[KG048]: patch `copy-env` of Deployment `api`: operation 0 copies to `spec.template.spec.containers[0].env`, which replaces the 1 entry kgen renders there (`LOG_FORMAT`)"),
        "{err}"
    );
}

/// KG048: a merge patch replaces a whole list, kgen's `/tmp` volume with it; the
/// message points at the patch, not at the mount left without its volume.
#[test]
fn merge_patch_dropping_the_tmp_volume() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.extra]
kind = "Deployment"
merge = { spec = { template = { spec = { volumes = [{ name = "extra", emptyDir = {} }] } } } }
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG048]: patch `extra` of Deployment `api`: it drops the volume `tmp` (the writable /tmp of a container whose root file system is read-only) that kgen renders at `spec.template.spec.volumes`
  --> platform.toml:37:42
   |
37 | merge = { spec = { template = { spec = { volumes = [{ name = "extra", emptyDir = {} }] } } } }
   |                                          ^^^^^^^
   = in: generated/{dev,prod}/api/deployment.yaml: spec.template.spec.volumes
   = help: append to the list instead, with a JSON Patch `add` at `/spec/template/spec/volumes/-`: a merge patch, an `add` or a `replace` of the whole list replaces kgen's entries

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG045: a Deployment's selector is immutable, and kgen's.
#[test]
fn patch_changing_the_selector() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.sel]
kind = "Deployment"
merge = { spec = { selector = { matchLabels = { tier = "web" } } } }
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG045]: patch `sel` changes `spec.selector.matchLabels.tier` of Deployment `api`, which kgen owns (the selector that matches the service's pods; a Deployment's is immutable)
  --> platform.toml:37:49
   |
37 | merge = { spec = { selector = { matchLabels = { tier = "web" } } } }
   |                                                 ^^^^
   = in: generated/{dev,prod}/api/deployment.yaml: spec.selector
   = help: kgen keeps these fields consistent across objects: change the service's settings instead

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG045: a label kgen sets, at its key; labels of one's own are fine.
#[test]
fn patch_changing_a_kgen_label() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.lbl]
kind = "Service"
merge = { metadata = { labels = { "app.kubernetes.io/name" = "web", team = "shop" } } }
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG045]: patch `lbl` changes `metadata.labels["app.kubernetes.io/name"]` of Service `api`, which kgen owns (a label kgen sets: selectors, NetworkPolicies and Argo CD rely on it)
  --> platform.toml:37:35
   |
37 | merge = { metadata = { labels = { "app.kubernetes.io/name" = "web", team = "shop" } } }
   |                                   ^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/{dev,prod}/api/service.yaml: metadata.labels["app.kubernetes.io/name"]
   = help: add labels of your own (they merge), or set `labels`/`pod_labels` of the service

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG046: a patch with no `merge`, `json` or `file`.
#[test]
fn patch_without_a_body() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.empty]
kind = "Deployment"
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG046]: patch `empty` has no `merge`, `json` or `file`: it changes nothing
  --> platform.toml:35:23
   |
35 | [services.api.patches.empty]
   |                       ^^^^^
   = help: give it a JSON merge patch (`merge = { ... }`), a JSON Patch (`json = [{ op = ..., path = ... }]`) or a YAML file of either (`file = "patches/x.yaml"`)

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG046: a patch that names no kind.
#[test]
fn patch_without_a_kind() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.nokind]
merge = { metadata = { annotations = { team = "shop" } } }
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG046]: patch `nokind` has no `kind`
  --> platform.toml:35:23
   |
35 | [services.api.patches.nokind]
   |                       ^^^^^^
   = help: name the kind of the objects it patches, e.g. `kind = "Ingress"` (and `name`, when the service has several)

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG046: a `file` that is not there.
#[test]
fn patch_file_that_does_not_exist() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.f]
kind = "Deployment"
file = "patches/missing.yaml"
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG046]: patch file `patches/missing.yaml` does not exist
  --> platform.toml:37:8
   |
37 | file = "patches/missing.yaml"
   |        ^^^^^^^^^^^^^^^^^^^^^^
   = help: the path is relative to platform.toml's directory

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG010: a literal value under a secret-looking variable name added by a patch; masked.
#[test]
fn secret_in_a_toml_patch() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.envs]
kind = "Deployment"
json = [{ op = "add", path = "/spec/template/spec/containers/0/env/-", value = { name = "DB_PASSWORD", value = "hunter2hunter2" } }]
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG010]: a value of patch `envs` looks like a secret (a literal password); kgen refuses secrets in plain text
  --> platform.toml:37:112
   |
37 | json = [{ op = "add", path = "/spec/template/spec/containers/0/env/-", value = { name = "DB_PASSWORD", value = "**************" } }]
   |                                                                                                                ^^^^^^^^^^^^^^^^ secret-looking value
   = help: keep the value in AWS Secrets Manager or SSM and reference it (the service's `secrets`, an ExternalSecret, a SecretProviderClass); see docs/security.md#secrets

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG010: the same in a YAML patch file.
#[test]
fn secret_in_a_patch_file() {
    let p = with_patch_file(
        "env",
        r###"- op: add
  path: /spec/template/spec/containers/0/env/-
  value:
    name: DB_PASSWORD
    value: "hunter2hunter2"
"###,
    );
    assert_stderr(
        &p.refused(),
        r###"error[KG010]: a value of patch `env` looks like a secret (a literal password); kgen refuses secrets in plain text
 --> patches/env.yaml:5:12
  |
5 |     value: "**************"
  |            ^^^^^^^^^^^^^^^^ secret-looking value
  = help: keep the value in AWS Secrets Manager or SSM and reference it (the service's `secrets`, an ExternalSecret, a SecretProviderClass); see docs/security.md#secrets

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG106: the patched object must pass every check; the error points at the value the
/// JSON Patch operation wrote.
#[test]
fn patched_object_still_validated() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.port]
kind = "Deployment"
json = [{ op = "replace", path = "/spec/template/spec/containers/0/ports/0/containerPort", value = 99999 }]
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG106]: container port 99999 is out of range 1-65535
  --> platform.toml:37:100
   |
37 | json = [{ op = "replace", path = "/spec/template/spec/containers/0/ports/0/containerPort", value = 99999 }]
   |                                                                                                    ^^^^^
   = in: generated/{dev,prod}/api/deployment.yaml: spec.template.spec.containers[0].ports[0].containerPort

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

/// KG101 and KG104: an annotation key the API server refuses, at the patch.
#[test]
fn patched_annotation_still_validated() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.ann]
kind = "Ingress"
merge = { metadata = { annotations = { "bad key!" = "x" } } }
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &p.refused(),
        r###"error[KG101]: metadata.annotations: invalid key: "bad key!" does not match "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$" (schema of networking.k8s.io/v1 Ingress)
  --> platform.toml:37:40
   |
37 | merge = { metadata = { annotations = { "bad key!" = "x" } } }
   |                                        ^^^^^^^^^^
   = in: generated/{dev,prod}/api/ingress.yaml: metadata.annotations

error[KG104]: "bad key!" is not a valid annotation key: the key must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit
  --> platform.toml:37:40
   |
37 | merge = { metadata = { annotations = { "bad key!" = "x" } } }
   |                                        ^^^^^^^^^^
   = in: generated/{dev,prod}/api/ingress.yaml: metadata.annotations["bad key!"]

error: 2 errors and 0 warnings; nothing was written
"###,
    );
}

/// A hand-written manifest that is a link out of the platform directory is refused
/// before it is read.
#[cfg(unix)]
#[test]
fn manifest_linking_outside_the_platform_is_refused() {
    let p = platform(BASE, &[]);
    std::fs::create_dir_all(p.path().join("manifests/dev/api")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", p.path().join("manifests/dev/api/x.yaml")).unwrap();
    let err = p.refused();
    assert!(
        err.starts_with("kgen: error: manifests/dev/api/x.yaml is a symbolic link to /etc/hostname, outside the platform directory "),
        "{err}"
    );
}

/// `bump-image` and `bump-chart` re-render with the same hand-written manifests and
/// patches: nothing of theirs is dropped, and the tree stays fresh.
#[test]
fn bump_image_and_bump_chart_keep_the_escape_hatch() {
    let p = golden();
    // The add-on runs once per cluster: prod gets a cluster of its own (two
    // environments on one server would both install the chart, KG303).
    let text = format!(
        "{}\n[addons.ingress-nginx]\nchart_version = \"4.15.1\"\n",
        p.read("platform.toml").replace(
            "[environments.prod]\n",
            "[environments.prod]\ncluster = \"https://prod.example.com\"\n"
        )
    );
    p.write("platform.toml", &text);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let before = p.generated();

    let out = p.kgen(&["bump-image", "api", "--env", "dev", "--tag", "1.0.1"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let out = p.kgen(&["bump-chart", "ingress-nginx", "--version", "4.15.2"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let after = p.generated();
    let names = |t: &[(String, String)]| t.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(&before));
    let deployment = p.read("generated/dev/api/deployment.yaml");
    assert!(
        deployment.contains("image: registry.example.com/acme/api:1.0.1\n"),
        "{deployment}"
    );
    assert!(deployment.contains("name: GOMEMLIMIT\n"), "{deployment}");
    assert!(p.exists("generated/dev/api/manifest-verticalpodautoscaler-api.yaml"));
    assert!(p.exists("generated/clusters/prod/extras/manifest-priorityclass-batch-low.yaml"));
}

/// Patches from `[defaults]` (matching where they can), an overlay's own patch, and a
/// patch switched off in one environment.
#[test]
fn defaults_overlay_and_disabled_patches() {
    let text = BASE.replace(
        "[services.api]\n",
        "[defaults.patches.team]\nkind = \"Deployment\"\nmerge = { metadata = { annotations = { \"example.com/team\" = \"shop\" } } }\n\n[services.api]\n",
    ) + "\n[services.api.patches.waf]\nkind = \"Ingress\"\nmerge = { metadata = { annotations = { \"nginx.ingress.kubernetes.io/enable-modsecurity\" = \"true\" } } }\n";
    let p = platform(
        &text,
        &[
            ("overlays/dev.toml", "[services.api.patches.waf]\nenabled = false\n"),
            (
                "overlays/prod.toml",
                "[services.api.patches.body-limit]\nkind = \"Ingress\"\nname = \"api\"\nmerge = { metadata = { annotations = { \"nginx.ingress.kubernetes.io/proxy-body-size\" = \"1m\" } } }\n",
            ),
        ],
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for env in ["dev", "prod"] {
        let d = p.read(&format!("generated/{env}/api/deployment.yaml"));
        assert!(
            d.contains("# Patched: team (JSON merge patch, platform.toml)\n"),
            "{d}"
        );
        assert!(d.contains("    example.com/team: shop\n"), "{d}");
    }
    let dev = p.read("generated/dev/api/ingress.yaml");
    assert!(
        !dev.contains("Patched") && !dev.contains("modsecurity"),
        "{dev}"
    );
    let prod = p.read("generated/prod/api/ingress.yaml");
    assert!(
        prod.starts_with("# Generated by kgen from platform.toml + overlays/prod.toml. Do not edit: change the inputs and run `kgen render`.\n# Patched: body-limit (JSON merge patch, overlays/prod.toml)\n# Patched: waf (JSON merge patch, platform.toml)\n"),
        "{prod}"
    );
    assert!(
        prod.contains("    nginx.ingress.kubernetes.io/proxy-body-size: 1m\n"),
        "{prod}"
    );
}

/// kgen does not template patches: a value using one of kgen's template variables
/// (`{{ env.x }}`, `{{ cluster.name }}`) is warned about, once (not once per
/// environment); the object's own `{{ }}` (a PrometheusRule's `{{ $labels.x }}`) is
/// not.
#[test]
fn a_kgen_template_in_a_patch_is_warned_about() {
    let text = format!(
        "{}{}",
        BASE,
        r###"
[services.api.patches.waf]
kind = "Ingress"
merge = { metadata = { annotations = { "example.com/acl" = "arn:aws:wafv2:eu-west-1:{{ cluster.account }}:regional/webacl/x", "example.com/note" = "{{ $labels.instance }}", "example.com/plain" = "{{ environment }}" } } }
"###
    );
    let p = platform(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning["))
        .collect();
    assert_eq!(
        warnings,
        ["warning[KG046]: a value of patch `waf` holds a kgen template variable, which kgen does not expand: patch values are literal and reach the cluster as written"],
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--> platform.toml:37:60"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("= help: write the value itself"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------
// secret_prefixes on the final objects
// ---------------------------------------------------------------------------------

/// BASE with the External Secrets backend, `secret_prefixes` per environment and,
/// with `secrets`, the service's own secret (so kgen renders its ExternalSecret).
fn with_prefixes(secrets: bool) -> String {
    let mut t = BASE
        .replace(
            "registry = \"registry.example.com\"\n",
            "registry = \"registry.example.com\"\nsecrets_backend = \"external-secrets\"\n",
        )
        .replace(
            "[environments.dev]\n",
            "[environments.dev]\nsecret_prefixes = [\"dev/\"]\n",
        )
        .replace(
            "[environments.prod]\n",
            "[environments.prod]\nsecret_prefixes = [\"prod/\"]\n",
        )
        .replace(
            "provided = { issuers = [\"letsencrypt\"] }",
            "provided = { issuers = [\"letsencrypt\"], secret_stores = [\"aws-secrets-manager\"] }",
        );
    if secrets {
        t = t.replace(
            "env = { LOG_FORMAT = \"json\" }\n",
            "env = { LOG_FORMAT = \"json\" }\nsecrets = [{ name = \"DB_PASSWORD\", from = \"secretsmanager\", key = \"{{ env.name }}/api/db\" }]\n",
        );
    }
    t
}

/// The errors of a refused render (its warnings left out), and its last line.
fn errors_of(stderr: &str) -> String {
    stderr
        .split("\n\n")
        .filter(|block| !block.starts_with("warning["))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// KG022: a patch that points kgen's ExternalSecret at another environment's secret,
/// at the patch operation.
#[test]
fn patch_reading_another_environments_secret() {
    let text = format!(
        "{}{}",
        with_prefixes(true),
        r###"
[services.api.patches.db]
kind = "ExternalSecret"
json = [{ op = "replace", path = "/spec/data/0/remoteRef/key", value = "prod/api/db" }]
"###
    );
    let p = platform(&text, &[]);
    assert_stderr(
        &errors_of(&p.refused()),
        r###"error[KG022]: secret key `prod/api/db` is outside the secret paths of environment `dev`
  --> platform.toml:41:72
   |
41 | json = [{ op = "replace", path = "/spec/data/0/remoteRef/key", value = "prod/api/db" }]
   |                                                                        ^^^^^^^^^^^^^ dev may only read `dev/`
   = in: generated/dev/api/externalsecret.yaml: spec.data[0].remoteRef.key
   = help: point `remoteRef.key` at a secret of this environment; the allowed prefixes are `secret_prefixes` of [environments.dev]

error: 1 error and 1 warning; nothing was written
"###,
    );
}

/// A schema of ExternalSecret's `data` and `dataFrom` (what a user copies from the CRD).
const EXTERNAL_SECRET_SCHEMA: &str = r###"{"type": "object", "properties": {
  "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
  "spec": {"type": "object", "properties": {
    "secretStoreRef": {"type": "object", "properties": {"kind": {"type": "string"}, "name": {"type": "string"}}},
    "target": {"type": "object", "properties": {"name": {"type": "string"}}},
    "data": {"type": "array", "items": {"type": "object", "properties": {
      "secretKey": {"type": "string"},
      "remoteRef": {"type": "object", "properties": {"key": {"type": "string"}}}}}},
    "dataFrom": {"type": "array", "items": {"type": "object", "properties": {
      "extract": {"type": "object", "properties": {"key": {"type": "string"}}},
      "find": {"type": "object", "properties": {"path": {"type": "string"},
        "name": {"type": "object", "properties": {"regexp": {"type": "string"}}}}}}}}}}}}
"###;

const FOREIGN_SECRETS: &str = r###"apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: payments
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: aws-secrets-manager
  target:
    name: payments
  data:
    - secretKey: own
      remoteRef:
        key: dev/api/own
    - secretKey: stripe
      remoteRef:
        key: prod/payments/stripe
  dataFrom:
    - extract:
        key: dev/api/bundle
    - find:
        name:
          regexp: "^stripe"
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: payments
spec:
  provider: aws
  parameters:
    objects: |
      - objectName: "dev/api/own"
        objectType: "secretsmanager"
      - objectName: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/stripe-AbCdEf"
        objectType: "secretsmanager"
      - objectName: "dev/api/keys"
        objectType: "secretsmanager"
        objectAlias: "keys"
        failoverObject:
          objectName: "arn:aws:secretsmanager:eu-central-1:111122223333:secret:prod/api/keys-XyZ012"
"###;

/// KG022: a hand-written ExternalSecret and SecretProviderClass reading another
/// environment's secrets (and a `find` that could read anything), at their lines.
#[test]
fn hand_written_objects_reading_another_environments_secrets() {
    let p = platform(
        &with_prefixes(false),
        &[
            ("manifests/dev/api/payments.yaml", FOREIGN_SECRETS),
            (
                "schemas/external-secrets.io/externalsecret_v1.json",
                EXTERNAL_SECRET_SCHEMA,
            ),
        ],
    );
    assert_stderr(
        &errors_of(&p.refused()),
        r###"error[KG022]: secret key `prod/payments/stripe` is outside the secret paths of environment `dev`
  --> manifests/dev/api/payments.yaml:17:14
   |
17 |         key: prod/payments/stripe
   |              ^^^^^^^^^^^^^^^^^^^^ dev may only read `dev/`
   = in: generated/dev/api/manifest-externalsecret-payments.yaml: spec.data[1].remoteRef.key
   = help: point `remoteRef.key` at a secret of this environment; the allowed prefixes are `secret_prefixes` of [environments.dev]

error[KG022]: `find` without a `path` reads the secrets its name or tags match under any path, outside the secret paths of environment `dev`
  --> manifests/dev/api/payments.yaml:21:7
   |
21 |     - find:
   |       ^^^^ dev may only read `dev/`
   = in: generated/dev/api/manifest-externalsecret-payments.yaml: spec.dataFrom[1].find
   = help: add `path` with a prefix of this environment's secrets (`secret_prefixes` of [environments.dev])

error[KG022]: secret key `arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/stripe-AbCdEf` is outside the secret paths of environment `dev`
  --> manifests/dev/api/payments.yaml:35:22
   |
35 |       - objectName: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/stripe-AbCdEf"
   |                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ dev may only read `dev/`
   = in: generated/dev/api/manifest-secretproviderclass-payments.yaml: spec.parameters.objects
   = help: point `objectName` at a secret of this environment; the allowed prefixes are `secret_prefixes` of [environments.dev]

error[KG022]: secret key `arn:aws:secretsmanager:eu-central-1:111122223333:secret:prod/api/keys-XyZ012` is outside the secret paths of environment `dev`
  --> manifests/dev/api/payments.yaml:41:24
   |
41 |           objectName: "arn:aws:secretsmanager:eu-central-1:111122223333:secret:prod/api/keys-XyZ012"
   |                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ dev may only read `dev/`
   = in: generated/dev/api/manifest-secretproviderclass-payments.yaml: spec.parameters.objects
   = help: point `objectName` at a secret of this environment; the allowed prefixes are `secret_prefixes` of [environments.dev]

error: 4 errors and 2 warnings; nothing was written
"###,
    );

    // Under the environment's prefixes (a `find` with a `path` too), it renders.
    p.write(
        "manifests/dev/api/payments.yaml",
        &FOREIGN_SECRETS
            .replace("prod/payments/stripe", "dev/payments/stripe")
            .replace("prod/api/keys", "dev/api/keys")
            .replace(
                "    - find:\n",
                "    - find:\n        path: dev/payments/\n",
            ),
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// KG022 for writing too: a hand-written PushSecret that would write dev's secret into
/// prod's path in the store, at its line; under dev's prefix it renders.
#[test]
fn hand_written_push_secret_writing_another_environments_secret() {
    const PUSH_SECRET_SCHEMA: &str = r###"{"type": "object", "properties": {
  "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
  "spec": {"type": "object", "properties": {
    "secretStoreRefs": {"type": "array", "items": {"type": "object", "properties": {
      "kind": {"type": "string"}, "name": {"type": "string"}}}},
    "selector": {"type": "object", "properties": {"secret": {"type": "object", "properties": {
      "name": {"type": "string"}}}}},
    "data": {"type": "array", "items": {"type": "object", "properties": {
      "match": {"type": "object", "properties": {
        "secretKey": {"type": "string"},
        "remoteRef": {"type": "object", "properties": {
          "remoteKey": {"type": "string"}, "property": {"type": "string"}}}}}}}}}}}}
"###;
    const PUSH: &str = r###"apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata:
  name: mirror
spec:
  secretStoreRefs:
    - name: aws-secrets-manager
      kind: ClusterSecretStore
  selector:
    secret:
      name: api-token
  data:
    - match:
        secretKey: token
        remoteRef:
          remoteKey: prod/api/token
"###;
    let p = platform(
        &with_prefixes(false),
        &[
            ("manifests/dev/api/push.yaml", PUSH),
            (
                "schemas/external-secrets.io/pushsecret_v1alpha1.json",
                PUSH_SECRET_SCHEMA,
            ),
        ],
    );
    let stderr = p.refused();
    let errors = errors_of(&stderr);
    let first = errors.split("\n\n").next().unwrap_or_default();
    assert_stderr(
        first,
        r###"error[KG022]: secret key `prod/api/token` is outside the secret paths of environment `dev`
  --> manifests/dev/api/push.yaml:16:22
   |
16 |           remoteKey: prod/api/token
   |                      ^^^^^^^^^^^^^^ dev may only write `dev/`
   = in: generated/dev/api/manifest-pushsecret-mirror.yaml: spec.data[0].match.remoteRef.remoteKey
   = help: point `remoteRef.remoteKey` at a secret of this environment; the allowed prefixes are `secret_prefixes` of [environments.dev]"###,
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap_or("")
            .starts_with("error: 1 error and "),
        "{stderr}"
    );

    p.write(
        "manifests/dev/api/push.yaml",
        &PUSH.replace("prod/api/token", "dev/api/token"),
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A SecretProviderClass written by hand next to a service with `secrets` is its own:
/// only kgen's (`<service>-secrets`) must mount the service's secrets (KG111), so an
/// extra one renders, under either backend.
#[test]
fn hand_written_secret_provider_class_is_not_the_services() {
    const SPC: &str = r###"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: payments
spec:
  provider: aws
  parameters:
    objects: |
      - objectName: "prod/payments/stripe"
        objectType: "secretsmanager"
"###;
    let csi = BASE.replace(
        "env = { LOG_FORMAT = \"json\" }\n",
        "env = { LOG_FORMAT = \"json\" }\nsecrets = [{ name = \"db-password\", from = \"secretsmanager\", key = \"{{ env.name }}/api/db\" }]\niam_role = \"arn:aws:iam::111122223333:role/api\"\n",
    );
    let external = with_prefixes(true).replace("secret_prefixes = [\"prod/\"]\n", "");
    for text in [csi, external] {
        let p = platform(&text, &[("manifests/prod/api/spc.yaml", SPC)]);
        let out = p.kgen(&["render"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_file(
            &p,
            "generated/prod/api/manifest-secretproviderclass-payments.yaml",
            r###"# Generated by kgen from manifests/prod/api/spc.yaml + platform.toml. Do not edit: change the inputs and run `kgen render`.
# Hand-written: edit manifests/prod/api/spc.yaml (docs/escape-hatch.md)
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: payments
  namespace: prod-api
spec:
  parameters:
    objects: |
      - objectName: "prod/payments/stripe"
        objectType: "secretsmanager"
  provider: aws
"###,
        );
    }
}

// ---------------------------------------------------------------------------------
// Flow style
// ---------------------------------------------------------------------------------

/// A hand-written manifest in flow style (`{...}`, `[...]`, over lines too): the
/// problems point at the key or value inside the braces, not at the line's first key.
#[test]
fn flow_style_problems_point_inside_the_braces() {
    const FLOW: &str = r###"apiVersion: v1
kind: ConfigMap
metadata: {name: extra, lables: {team: a}}
data: {
  x: "1",
  y: [1, 2]
}
"###;
    let p = platform(BASE, &[("manifests/prod/api/flow.yaml", FLOW)]);
    assert_stderr(
        &errors_of(&p.refused()),
        r###"error[KG101]: metadata.lables: unknown field (schema of v1 ConfigMap)
 --> manifests/prod/api/flow.yaml:3:25
  |
3 | metadata: {name: extra, lables: {team: a}}
  |                         ^^^^^^ did you mean `labels`?
  = in: generated/prod/api/manifest-configmap-extra.yaml: metadata.lables
  = help: Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference

error[KG101]: data.y: expected string, got array (schema of v1 ConfigMap)
 --> manifests/prod/api/flow.yaml:6:6
  |
6 |   y: [1, 2]
  |      ^^^^^^
  = in: generated/prod/api/manifest-configmap-extra.yaml: data.y

error: 2 errors and 0 warnings; nothing was written
"###,
    );
}

/// A Secret with data in flow style has its values on the line the error points at:
/// they are masked there, as every secret in a snippet is (KG042).
#[test]
fn a_flow_style_secret_is_masked_in_its_error() {
    const SECRET: &str = r###"apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: "Tr0ub4dor&3xyz", user: app}
"###;
    let p = platform(BASE, &[("manifests/prod/api/s.yaml", SECRET)]);
    let stderr = p.refused();
    assert!(!stderr.contains("Tr0ub4dor"), "{stderr}");
    assert_stderr(
        &errors_of(&stderr),
        r###"error[KG042]: Secret `db` holds data in `stringData`: a secret committed to git is no secret (base64 is not encryption)
 --> manifests/prod/api/s.yaml:4:13
  |
4 | stringData: ***************************************
  |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ the Secret's data
  = help: keep the value in AWS Secrets Manager or SSM and write an ExternalSecret (or a SecretProviderClass) instead, or encrypt it as a SealedSecret; see docs/escape-hatch.md#secrets

error: 1 error and 0 warnings; nothing was written
"###,
    );
}

// ---------------------------------------------------------------------------------
// Duplicate YAML keys
// ---------------------------------------------------------------------------------

const DUPLICATE_KEYS: &str = r###"apiVersion: v1
kind: ConfigMap
metadata: {name: two-data}
data:
  x: "1"
data:
  y: "2"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two-a}
data: {a: "1", a: "2"}
"###;

/// KG115: a key written twice in one mapping of a hand-written manifest (block and
/// flow style) or of a patch file, at the second, naming the line of the first; also
/// for `kgen validate PATH`, which reads files the same way.
#[test]
fn duplicate_yaml_keys_are_refused() {
    let text = format!(
        "{BASE}{}",
        r###"
[services.api.patches.ann]
kind = "Ingress"
file = "patches/ann.yaml"
"###
    );
    let p = platform(
        &text,
        &[
            ("manifests/_all/api/dup.yaml", DUPLICATE_KEYS),
            (
                "patches/ann.yaml",
                "metadata:\n  annotations:\n    a: \"1\"\n    b: \"2\"\n    a: \"3\"\n",
            ),
        ],
    );
    const MANIFEST_ERRORS: &str = r###"error[KG115]: not valid YAML: the key `data` is written twice in one mapping (first on line 4)
 --> manifests/_all/api/dup.yaml:6:1
  |
6 | data:
  | ^^^^ written again here
  = help: keep one `data`, holding what both should: the keys of a YAML mapping are unique; kubectl refuses the file, and a reader that accepts it keeps only the last value

error[KG115]: not valid YAML: the key `a` is written twice in one mapping (first on line 12)
  --> manifests/_all/api/dup.yaml:12:16
   |
12 | data: {a: "1", a: "2"}
   |                ^ written again here
   = help: keep one `a`, holding what both should: the keys of a YAML mapping are unique; kubectl refuses the file, and a reader that accepts it keeps only the last value
"###;
    assert_stderr(
        &p.refused(),
        &format!(
            r###"{MANIFEST_ERRORS}
error[KG115]: not valid YAML: the key `a` is written twice in one mapping (first on line 3)
 --> patches/ann.yaml:5:5
  |
5 |     a: "3"
  |     ^ written again here
  = help: keep one `a`, holding what both should: the keys of a YAML mapping are unique; kubectl refuses the file, and a reader that accepts it keeps only the last value

error: 3 errors and 0 warnings; nothing was written
"###
        ),
    );
    let out = p.kgen(&["validate", "manifests/_all/api/dup.yaml"]);
    assert_eq!(out.code, 2);
    assert_stderr(
        &out.stderr,
        &format!("{MANIFEST_ERRORS}\nerror: 2 errors and 0 warnings\n"),
    );
}

// ---------------------------------------------------------------------------------
// Schema files: a whole CRD, a schema that declares nothing
// ---------------------------------------------------------------------------------

/// What `kubectl get crd widgets.example.com -o json` prints (trimmed).
const WIDGET_CRD: &str = r###"{
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.example.com"},
  "spec": {
    "group": "example.com",
    "names": {"kind": "Widget", "listKind": "WidgetList", "plural": "widgets", "singular": "widget"},
    "scope": "Namespaced",
    "versions": [
      {"name": "v1alpha1", "served": false, "storage": false,
       "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
      {"name": "v1", "served": true, "storage": true,
       "schema": {"openAPIV3Schema": {"type": "object", "properties": {
         "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
         "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}
    ]
  }
}
"###;

const WIDGET: &str = r###"apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
spec:
  size: 3
  colour: red
"###;

/// A schema file that is the whole CRD is read as the CRD: the schema of the object's
/// version checks it (KG101 for a field it does not declare).
#[test]
fn a_whole_crd_as_schema_file_checks_its_version() {
    let p = platform(
        BASE,
        &[
            ("schemas/example.com/widget_v1.json", WIDGET_CRD),
            ("manifests/prod/api/widget.yaml", WIDGET),
        ],
    );
    assert_stderr(
        &errors_of(&p.refused()),
        r###"error[KG101]: spec.colour: unknown field (schema of example.com/v1 Widget in schemas)
 --> manifests/prod/api/widget.yaml:7:3
  |
7 |   colour: red
  |   ^^^^^^
  = in: generated/prod/api/manifest-widget-w1.yaml: spec.colour
  = help: Kubernetes refuses unknown fields under strict validation; check the spelling against the API reference

error: 1 error and 1 warning; nothing was written
"###,
    );
    p.write(
        "manifests/prod/api/widget.yaml",
        &WIDGET.replace("  colour: red\n", ""),
    );
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A schema that declares no field (`{}`, `true`, `{"type": "object"}`) would accept
/// everything, unknown fields included, and bypass `unchecked_kinds`' reason: KG101
/// at the object, with how to get the real schema.
#[test]
fn a_schema_that_declares_nothing_is_refused() {
    for schema in ["{}", "true", "{\"type\": \"object\"}"] {
        let p = platform(
            BASE,
            &[
                ("schemas/example.com/widget_v1.json", schema),
                ("manifests/prod/api/widget.yaml", WIDGET),
            ],
        );
        assert_stderr(
            &errors_of(&p.refused()),
            r###"error[KG101]: schema ./schemas/example.com/widget_v1.json accepts every object: it declares no fields (no `properties`), so nothing of example.com/v1 Widget would be checked
 --> manifests/prod/api/widget.yaml:2:7
  |
2 | kind: Widget
  |       ^^^^^^
  = in: generated/prod/api/manifest-widget-w1.yaml: kind
  = help: write the CRD's schema there: the whole CRD (`kubectl get crd <plural>.example.com -o json`), or its version's openAPIV3Schema (`... | jq '.spec.versions[] | select(.name=="v1") | .schema.openAPIV3Schema'`); to use the kind without a schema, remove the file and give a reason in `[manifests] unchecked_kinds`

error: 1 error and 1 warning; nothing was written
"###,
        );
    }
}
