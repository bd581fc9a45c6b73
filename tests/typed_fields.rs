//! Typed forms of what used to need a patch (migrate27): `valueFrom` environment
//! variables, the service's secrets and ConfigMap in sidecars and init containers, the
//! main port's name, and a read-only mount in one container.

mod common;

use common::{fails, Platform, MINIMAL};

/// MINIMAL with probes (no warnings), a second environment and `lines` for `api`.
fn platform(lines: &str) -> String {
    format!(
        "{}probes = {{ liveness = \"/health\", readiness = \"/ready\" }}\n{lines}\n",
        MINIMAL.replace(
            "[environments.dev]\nsync = \"auto\"\n",
            "[environments.dev]\nsync = \"auto\"\n\n[environments.staging]\ncluster = \"https://staging.example.com\"\n"
        )
    )
}

/// Renders, expecting success and no findings; returns the platform.
fn renders(text: &str, overlays: &[(&str, &str)]) -> Platform {
    let p = Platform::new(text, overlays);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr, "");
    p
}

/// The lines of `yaml` from the first line equal to `from` up to (not including) the
/// next line equal to `to`.
fn block(yaml: &str, from: &str, to: &str) -> String {
    let start = yaml
        .find(&format!("\n{from}\n"))
        .unwrap_or_else(|| panic!("{from:?} in\n{yaml}"))
        + 1;
    let end = yaml[start..]
        .find(&format!("\n{to}\n"))
        .unwrap_or_else(|| panic!("{to:?} in\n{yaml}"))
        + start
        + 1;
    yaml[start..end].to_string()
}

#[test]
fn value_from_env_in_every_form_ordered_before_its_references() {
    let p = renders(
        &platform(
            r#"env.POD_NAME = { field = "metadata.name" }
env.APP = { field = "metadata.labels['app.kubernetes.io/name']" }
env.GOMAXPROCS = { resource = "limits.cpu" }
env.MEMORY_MIB = { resource = "limits.memory", divisor = "1Mi" }
env.CURRENCY = { config_map = "shared-{{ env.name }}", key = "currency", optional = true }
env.STRIPE_KEY = { secret = "stripe", key = "api-key" }
env.A_GREETING = "hello from ${POD_NAME}"
env.PLAIN = "x""#,
        ),
        &[(
            "staging",
            "[services.api]\nenv.POD_NAME = { field = \"spec.nodeName\" }\n",
        )],
    );
    let dev = p.read("generated/dev/api/deployment.yaml");
    assert_eq!(
        block(&dev, "      - env:", "        envFrom:"),
        "      - env:
        - name: APP
          valueFrom:
            fieldRef:
              fieldPath: metadata.labels['app.kubernetes.io/name']
        - name: CURRENCY
          valueFrom:
            configMapKeyRef:
              key: currency
              name: shared-dev
              optional: true
        - name: GOMAXPROCS
          valueFrom:
            resourceFieldRef:
              resource: limits.cpu
        - name: MEMORY_MIB
          valueFrom:
            resourceFieldRef:
              divisor: 1Mi
              resource: limits.memory
        - name: PLAIN
          value: x
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: A_GREETING
          value: hello from $(POD_NAME)
        - name: STRIPE_KEY
          valueFrom:
            secretKeyRef:
              key: api-key
              name: stripe
"
    );
    // An overlay replaces the whole entry, for its environment only.
    let staging = p.read("generated/staging/api/deployment.yaml");
    assert!(
        staging.contains(
            "        - name: POD_NAME\n          valueFrom:\n            fieldRef:\n              fieldPath: spec.nodeName\n"
        ),
        "{staging}"
    );
    assert!(staging.contains("name: shared-staging\n"), "{staging}");
}

#[test]
fn a_value_from_table_the_api_server_would_refuse() {
    let err = fails(
        &platform(
            r#"env.NODE = { field = "spec.nodename" }
env.APP = { field = "metadata.labels.app" }
env.CPU = { resource = "limits.cpu", divisor = "1Mi" }
env.DB = { config_map = "db" }
env.TWO = { field = "metadata.name", resource = "limits.cpu" }
env.STRAY = { resource = "limits.cpu", key = "k" }
env.NONE = {}"#,
        ),
        &[],
    );
    common::assert_stderr(
        &err,
        r#"error[KG019]: `env.NODE` reads pod field "spec.nodename", which the downward API does not offer to environment variables
  --> platform.toml:17:22
   |
17 | env.NODE = { field = "spec.nodename" }
   |                      ^^^^^^^^^^^^^^^ did you mean `spec.nodeName`?
   = help: use metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP or status.podIPs

error[KG019]: `env.APP` reads pod field "metadata.labels.app", which the downward API does not offer to environment variables
  --> platform.toml:18:21
   |
18 | env.APP = { field = "metadata.labels.app" }
   |                     ^^^^^^^^^^^^^^^^^^^^^ did you mean `metadata.labels['app']`?
   = help: use metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP or status.podIPs

error[KG019]: divisor "1Mi" is not one the API server accepts for limits.cpu
  --> platform.toml:19:48
   |
19 | env.CPU = { resource = "limits.cpu", divisor = "1Mi" }
   |                                                ^^^^^
   = help: write one of: 1m, 1

error[KG004]: `env.DB` reads the ConfigMap `db` but not which key
  --> platform.toml:20:10
   |
20 | env.DB = { config_map = "db" }
   |          ^^^^^^^^^^^^^^^^^^^^^
   = help: add `key = "<key>"`: { config_map = "db", key = "<key>" }

error[KG019]: `env.TWO` sets both `field` and `resource`; a variable reads one source
  --> platform.toml:21:49
   |
21 | env.TWO = { field = "metadata.name", resource = "limits.cpu" }
   |                                                 ^^^^^^^^^^^^
   = help: keep one of them; for two values, use two variables

error[KG002]: `key` does not apply to a variable read from `resource` (`env.STRAY`)
  --> platform.toml:22:46
   |
22 | env.STRAY = { resource = "limits.cpu", key = "k" }
   |                                              ^^^
   = help: `divisor` and `container` go with `resource`; `key` and `optional` with `config_map` and `secret`

error[KG004]: `env.NONE` says nothing to read: a table under `env` reads the variable's value from one of `field`, `resource`, `config_map` or `secret`
  --> platform.toml:23:12
   |
23 | env.NONE = {}
   |            ^^
   = help: write one of { field = "metadata.name" }, { resource = "limits.cpu" }, { config_map = "<name>", key = "<key>" } or { secret = "<name>", key = "<key>" }, or a literal value such as `NONE = "text"`

error: 7 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#,
    );
}

/// The name of the Secret a variable reads is a reference, not a secret: an error on
/// its line shows it (verification review 30, F7: it was masked as `"***********"`,
/// judged by the key `secret`), while a secret elsewhere on the line is masked.
#[test]
fn an_error_on_a_secret_reference_shows_the_secrets_name() {
    let err = fails(
        &platform(
            r#"env.X = { secret = "shop-shared", key = "currency", divisor = "1Mi" }
env.Y = { secret = "app-secrets-8f7d6c5b4a", key = "currency", optional = "yes" }"#,
        ),
        &[],
    );
    common::assert_stderr(
        &err,
        r#"error[KG002]: `divisor` does not apply to a variable read from `secret` (`env.X`)
  --> platform.toml:17:63
   |
17 | env.X = { secret = "shop-shared", key = "currency", divisor = "1Mi" }
   |                                                               ^^^^^
   = help: `divisor` and `container` go with `resource`; `key` and `optional` with `config_map` and `secret`

error[KG003]: invalid type for `services.api.env.Y.optional`: string "yes", expected `true` or `false`
  --> platform.toml:18:75
   |
18 | env.Y = { secret = "app-secrets-8f7d6c5b4a", key = "currency", optional = "yes" }
   |                                                                           ^^^^^
   = help: write `true` without quotes (a boolean)

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#,
    );
    // A secret written in the same table is masked all the same (and refused).
    let token = format!("ghp_{}", "16C7e42F292c6912E7710c838347Ae178B4a");
    let err = fails(
        &platform(&format!(
            r#"env.Z = {{ secret = "shop-shared", key = "currency", optional = "{token}" }}"#
        )),
        &[],
    );
    assert!(!err.contains(&token), "{err}");
    assert!(
        err.contains(r#"env.Z = { secret = "shop-shared", key = "currency", optional = "****"#),
        "{err}"
    );
}

/// An overlay's env table replaces platform.toml's whole: one that gives only the new
/// `key` reads nothing, and the help says why (verification review 30).
#[test]
fn an_overlay_table_that_only_changes_the_key_says_tables_are_not_merged() {
    let err = fails(
        &platform("env = { CUR = { config_map = \"shared\", key = \"currency\" } }"),
        &[(
            "staging",
            "[services.api]\nenv = { CUR = { key = \"currency2\" } }\n",
        )],
    );
    assert!(
        err.contains("  = help: an overlay's table for `CUR` replaces platform.toml's whole (tables are not merged key by key): give where it reads from (its `config_map`, or the Secret's name) beside the `key`; the forms are "),
        "{err}"
    );
}

#[test]
fn a_list_under_env_names_the_tables() {
    let err = fails(&platform("env = { X = [1] }"), &[]);
    assert!(
        err.contains("error[KG003]: invalid type for `services.api.env.X`: sequence, expected a string in quotes, number or boolean, or a table such as { field = \"metadata.name\" }\n"),
        "{err}"
    );
    assert!(
        err.contains("   = help: an environment variable is a literal (a string, number or boolean) or a table that reads its value when the pod starts: { field = \"metadata.name\" }, { resource = \"limits.cpu\" }, { config_map = \"<name>\", key = \"<key>\" } or { secret = \"<name>\", key = \"<key>\" } (docs/platform.md#environment-variables-and-references)\n"),
        "{err}"
    );
}

const CONTAINERS: &str = r#"secrets = [{ name = "DB_PASSWORD", from = "secretsmanager", key = "api/db" }]
config = { MODE = "x" }
volumes.logs = { mount = "/var/log/api" }

[services.api.init_containers.migrate]
image = "acme/api"
tag = "1.0.0"
secrets = true
config = true
env = { POD = { field = "metadata.name" }, LEVEL = "debug" }
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "64Mi" } }

[services.api.sidecars.shipper]
image = "acme/shipper"
tag = "1.0.0"
mounts = { logs = { path = "/logs", read_only = true } }
probes = { liveness = { exec = ["true"] } }
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "64Mi" } }
"#;

#[test]
fn init_containers_get_the_services_secrets_and_config_and_a_sidecar_mounts_read_only() {
    let text = platform(CONTAINERS).replace(
        "[environments.dev]\nsync = \"auto\"\n",
        "[environments.dev]\nsync = \"auto\"\nsecrets_backend = \"external-secrets\"\n",
    );
    let text = text.replace(
        "[environments.staging]\n",
        "[environments.staging]\nsecrets_backend = \"external-secrets\"\n",
    );
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let dev = p.read("generated/dev/api/deployment.yaml");
    assert_eq!(
        block(&dev, "      initContainers:", "      securityContext:"),
        "      initContainers:
      - image: registry.example.com/acme/shipper:1.0.0
        imagePullPolicy: IfNotPresent
        livenessProbe:
          exec:
            command:
            - \"true\"
        name: shipper
        resources:
          limits:
            memory: 64Mi
          requests:
            cpu: 10m
            memory: 32Mi
        restartPolicy: Always
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
        - mountPath: /logs
          name: logs
          readOnly: true
      - env:
        - name: LEVEL
          value: debug
        - name: POD
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        envFrom:
        - configMapRef:
            name: api-config
        - secretRef:
            name: api-secrets
        image: registry.example.com/acme/api:1.0.0
        imagePullPolicy: IfNotPresent
        name: migrate
        resources:
          limits:
            memory: 64Mi
          requests:
            cpu: 10m
            memory: 32Mi
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
"
    );
    // The main container still mounts the volume writable.
    assert!(
        dev.contains(
            "        - mountPath: /var/log/api\n          name: logs\n      initContainers:\n"
        ),
        "{dev}"
    );
}

#[test]
fn with_the_csi_backend_an_init_container_mounts_the_secrets() {
    let text = platform(&format!(
        "iam_role = \"arn:aws:iam::111111111111:role/api\"\n{CONTAINERS}"
    ));
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let dev = p.read("generated/dev/api/deployment.yaml");
    let migrate = block(&dev, "        name: migrate", "      securityContext:");
    assert!(
        migrate.ends_with(
            "        volumeMounts:
        - mountPath: /tmp
          name: tmp
        - mountPath: /mnt/secrets-store
          name: secrets-store
          readOnly: true
"
        ),
        "{migrate}"
    );
    assert!(!dev.contains("secretRef"), "{dev}");
}

#[test]
fn secrets_in_a_container_of_a_service_without_secrets() {
    let err = fails(
        &platform(
            r#"[services.api.init_containers.migrate]
image = "acme/api"
tag = "1.0.0"
secrets = true
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "64Mi" } }"#,
        ),
        &[],
    );
    common::assert_stderr(
        &err,
        "error[KG019]: `init_containers.migrate.secrets = true`, but the service has no `secrets`
  --> platform.toml:20:11
   |
20 | secrets = true
   |           ^^^^
   = help: list the secrets under the service's `secrets`, or remove `secrets = true`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
",
    );
}

#[test]
fn a_writable_mount_of_a_read_only_volume() {
    let err = fails(
        &platform(
            r#"volumes.logs = { mount = "/var/log/api", read_only = true }

[services.api.sidecars.shipper]
image = "acme/shipper"
tag = "1.0.0"
mounts = { logs = { path = "/logs", read_only = false } }
probes = { liveness = { exec = ["true"] } }
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "64Mi" } }"#,
        ),
        &[],
    );
    assert!(
        err.starts_with("error[KG019]: `sidecars.shipper` mounts volume `logs` writable, but the volume is read-only (`volumes.logs.read_only`)\n  --> platform.toml:22:49\n"),
        "{err}"
    );
}

#[test]
fn the_main_port_takes_its_name_everywhere_kgen_refers_to_it() {
    let text = platform(
        r#"port_name = "web"
ingress = { host = "api.example.com" }
metrics = {}"#,
    )
    .replace(
        "[services.api]",
        &format!("[ingress]\nclass = \"alb\"\n\n[monitoring]\nchart_version = \"77.0.0\"\n{}\n[baseline]\nprovided = {{ storage_classes = [\"gp3\"] }}\n\n[services.api]", common::GRAFANA_ADMIN.trim_start()),
    );
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let dev = p.read("generated/dev/api/deployment.yaml");
    assert!(
        dev.contains("        - containerPort: 8080\n          name: web\n"),
        "{dev}"
    );
    assert!(
        dev.contains("        livenessProbe:\n          httpGet:\n            path: /health\n            port: web\n"),
        "{dev}"
    );
    assert!(!dev.contains("http\n"), "{dev}");
    let svc = p.read("generated/dev/api/service.yaml");
    assert!(
        svc.contains("  - name: web\n    port: 8080\n    protocol: TCP\n    targetPort: web\n"),
        "{svc}"
    );
    let ing = p.read("generated/dev/api/ingress.yaml");
    assert!(
        ing.contains("            port:\n              name: web\n"),
        "{ing}"
    );
    assert!(ing.contains("healthcheck-path: /ready\n"), "{ing}");
    let sm = p.read("generated/dev/api/servicemonitor.yaml");
    assert!(sm.contains("port: web\n"), "{sm}");
}

#[test]
fn a_port_name_that_is_not_one() {
    let err = fails(&platform("port_name = \"Redis_Main\""), &[]);
    common::assert_stderr(
        &err,
        "error[KG005]: port_name: \"Redis_Main\" is not a valid port name: use at most 15 lowercase letters, digits and '-', with at least one letter and no leading, trailing or doubled '-', like http or grpc-web
  --> platform.toml:17:13
   |
17 | port_name = \"Redis_Main\"
   |             ^^^^^^^^^^^^ did you mean `redis-main`?
   = help: a port name is an IANA service name: at most 15 lowercase letters, digits and `-`, with at least one letter, not starting or ending with `-` and without `--`, e.g. `redis` or `web`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
",
    );
    let err = fails(
        &platform("port_name = \"admin\"\nports = { admin = 9000 }"),
        &[],
    );
    assert!(
        err.starts_with("error[KG005]: port name: `admin` is the name of the main port (`port`)\n"),
        "{err}"
    );
}

#[test]
fn a_resource_of_a_container_the_pod_does_not_have() {
    let err = fails(
        &platform(
            r#"env.PROXY_CPU = { resource = "limits.cpu", container = "proxi" }

[services.api.sidecars.proxy]
image = "acme/proxy"
tag = "1.0.0"
probes = { liveness = { exec = ["true"] } }
resources = { requests = { cpu = "10m", memory = "32Mi" }, limits = { memory = "64Mi" } }"#,
        ),
        &[],
    );
    common::assert_stderr(
        &err,
        "error[KG029]: `env.PROXY_CPU` reads the resources of container `proxi`, which the pod does not have
  --> platform.toml:17:17
   |
17 | env.PROXY_CPU = { resource = \"limits.cpu\", container = \"proxi\" }
   |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ did you mean `proxy`?
   = help: the pod's containers are: api, proxy

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
",
    );
}

/// [`platform`] with `ingress` for `api` and the cluster issuer provided (no KG032).
fn public(ingress: &str) -> String {
    platform(&format!(
        "{ingress}\n\n[baseline]\nprovided = {{ issuers = [\"letsencrypt-prod\"] }}"
    ))
}

/// An Ingress's rules: every host, in the order written, routes every path, in the
/// order written (`hosts`, `paths`: what a second host or path used to need a patch for).
const TWO_BY_TWO_RULES: &str = r#"  rules:
  - host: api.example.com
    http:
      paths:
      - backend:
          service:
            name: api
            port:
              name: http
        path: /api
        pathType: Prefix
      - backend:
          service:
            name: api
            port:
              name: http
        path: /v2
        pathType: Prefix
  - host: api.example.org
    http:
      paths:
      - backend:
          service:
            name: api
            port:
              name: http
        path: /api
        pathType: Prefix
      - backend:
          service:
            name: api
            port:
              name: http
        path: /v2
        pathType: Prefix
"#;

const INGRESS_HEAD: &str =
    "# Generated by kgen from platform.toml. Do not edit: change the inputs and run `kgen render`.
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  annotations:
";

const INGRESS_META: &str = r#"  labels:
    app.kubernetes.io/instance: api
    app.kubernetes.io/managed-by: kgen
    app.kubernetes.io/name: api
    app.kubernetes.io/part-of: acme
    app.kubernetes.io/version: "1.0.0"
  name: api
  namespace: api
spec:
"#;

#[test]
fn two_hosts_by_two_paths_with_nginx_and_tls() {
    let p = renders(
        &public(
            r#"ingress = { hosts = ["api.example.com", "api.example.org"], paths = ["/api", "/v2"] }"#,
        ),
        &[],
    );
    let expected = format!(
        "{INGRESS_HEAD}    cert-manager.io/cluster-issuer: letsencrypt-prod
    external-dns.alpha.kubernetes.io/hostname: api.example.com,api.example.org
{INGRESS_META}  ingressClassName: nginx
{TWO_BY_TWO_RULES}  tls:
  - hosts:
    - api.example.com
    - api.example.org
    secretName: api-tls
"
    );
    for env in ["dev", "staging"] {
        let ing = p.read(&format!("generated/{env}/api/ingress.yaml"));
        common::assert_stderr(&ing, &expected);
    }
}

#[test]
fn two_hosts_by_two_paths_with_alb() {
    let text = platform(
        r#"ingress = { hosts = ["api.example.com", "api.example.org"], paths = ["/api", "/v2"] }"#,
    )
    .replace(
        "[services.api]",
        "[ingress]\nclass = \"alb\"\nalb = { certificate_arn = \"arn:aws:acm:eu-west-1:123456789012:certificate/abc\", group = \"public\" }\n\n[services.api]",
    );
    let p = renders(&text, &[]);
    let expected = format!(
        r#"{INGRESS_HEAD}    alb.ingress.kubernetes.io/certificate-arn: arn:aws:acm:eu-west-1:123456789012:certificate/abc
    alb.ingress.kubernetes.io/group.name: public
    alb.ingress.kubernetes.io/healthcheck-path: /ready
    alb.ingress.kubernetes.io/listen-ports: "[{{\"HTTP\": 80}}, {{\"HTTPS\": 443}}]"
    alb.ingress.kubernetes.io/scheme: internet-facing
    alb.ingress.kubernetes.io/ssl-redirect: "443"
    alb.ingress.kubernetes.io/target-type: ip
    external-dns.alpha.kubernetes.io/hostname: api.example.com,api.example.org
{INGRESS_META}  ingressClassName: alb
{TWO_BY_TWO_RULES}  tls:
  - hosts:
    - api.example.com
    - api.example.org
"#
    );
    common::assert_stderr(&p.read("generated/dev/api/ingress.yaml"), &expected);
}

/// An overlay's `host` replaces platform.toml's `hosts` (and `hosts` a `host`): the two
/// forms are one setting, taken from the highest layer that writes either; `paths`
/// merges on its own.
#[test]
fn an_overlay_replaces_hosts_with_host_and_host_with_hosts() {
    let p = renders(
        &public(
            r#"ingress = { hosts = ["api.example.com", "api.example.org"], paths = ["/api", "/v2"] }"#,
        ),
        &[(
            "staging",
            "[services.api]\ningress = { host = \"api.{{ env.name }}.example.com\" }\n",
        )],
    );
    let staging = p.read("generated/staging/api/ingress.yaml");
    assert!(
        staging
            .contains("    external-dns.alpha.kubernetes.io/hostname: api.staging.example.com\n"),
        "{staging}"
    );
    assert!(
        staging.contains("  rules:\n  - host: api.staging.example.com\n    http:\n      paths:\n"),
        "{staging}"
    );
    assert!(!staging.contains("api.example.org"), "{staging}");
    assert_eq!(staging.matches("pathType: Prefix").count(), 2, "{staging}");
    assert!(
        staging.ends_with(
            "  tls:\n  - hosts:\n    - api.staging.example.com\n    secretName: api-tls\n"
        ),
        "{staging}"
    );

    let p = renders(
        &public(r#"ingress = { host = "api.example.com" }"#),
        &[(
            "staging",
            "[services.api.ingress]\nhosts = [\"www.example.com\", \"example.com\"]\n",
        )],
    );
    let dev = p.read("generated/dev/api/ingress.yaml");
    assert_eq!(dev.matches("- host: ").count(), 1, "{dev}");
    let staging = p.read("generated/staging/api/ingress.yaml");
    assert!(
        staging.contains(
            "    external-dns.alpha.kubernetes.io/hostname: www.example.com,example.com\n"
        ),
        "{staging}"
    );
    assert!(
        staging.contains("  - host: www.example.com\n")
            && staging.contains("  - host: example.com\n"),
        "{staging}"
    );
    assert_eq!(staging.matches("        path: /\n").count(), 2, "{staging}");
}

/// KG015 looks at every host and path of both services: `web` routes `www.example.com/`
/// through its second host, which `api` routes too; the error is at that host.
#[test]
fn two_services_routing_one_host_and_path_through_a_second_host() {
    let err = fails(
        &public(
            r#"ingress = { host = "www.example.com", paths = ["/", "/api"] }

[services.web]
image = "acme/web"
tag = "1.0.0"
port = 8080
probes = { liveness = "/health", readiness = "/ready" }
ingress = { hosts = ["example.com", "www.example.com"], paths = ["/v2", "/"] }"#,
        ),
        &[(
            "staging",
            "[services.web]\ningress = { host = \"web.example.com\" }\n",
        )],
    );
    common::assert_stderr(
        &err,
        "error[KG015]: services `api` and `web` both route `www.example.com/` in environment `dev`
  --> platform.toml:24:37
   |
24 | ingress = { hosts = [\"example.com\", \"www.example.com\"], paths = [\"/v2\", \"/\"] }
   |                                     ^^^^^^^^^^^^^^^^^
   = help: give each public service its own host (or path)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
",
    );
}
