//! The catalogue of diagnostic codes. Each code is stable and documented in
//! `docs/rules.md`; tests assert on codes, so never renumber one.

/// One entry of the catalogue.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
}

macro_rules! rules {
    ($($konst:ident = $code:literal, $name:literal, $summary:literal;)*) => {
        $(pub const $konst: &str = $code;)*
        /// Every rule, in code order.
        pub const ALL: &[Rule] = &[$(Rule { code: $code, name: $name, summary: $summary },)*];
    };
}

rules! {
    TOML_SYNTAX = "KG001", "toml-syntax", "the file is not valid TOML";
    UNKNOWN_KEY = "KG002", "unknown-key", "a key that kgen does not know (often a typo)";
    WRONG_TYPE = "KG003", "wrong-type", "a value of the wrong type or an unknown choice";
    MISSING_KEY = "KG004", "missing-key", "a required key is missing";
    INVALID_NAME = "KG005", "invalid-name", "a name that is not a DNS-1123 label or subdomain";
    INVALID_QUANTITY = "KG006", "invalid-quantity", "a CPU, memory or storage size that is not a Kubernetes quantity";
    OUT_OF_RANGE = "KG007", "out-of-range", "a number outside its allowed range (ports, replicas, percentages)";
    INVALID_IMAGE = "KG008", "invalid-image", "a malformed image repository, tag or digest";
    AUTOSCALING_BOUNDS = "KG009", "autoscaling-bounds", "autoscaling min greater than max, or below 1";
    SECRET_LITERAL = "KG010", "secret-literal", "a value that looks like a secret, written in plain text";
    UNKNOWN_SERVICE = "KG011", "unknown-service", "an overlay or reference names a service that does not exist, or `calls` one that has no Service";
    UNKNOWN_ENVIRONMENT = "KG012", "unknown-environment", "an overlay file or option names an environment that does not exist";
    TEMPLATE = "KG013", "template", "a template that does not render (undefined variable, syntax, runaway)";
    NO_IMAGE_VERSION = "KG014", "no-image-version", "an image with neither tag nor digest, or tagged `latest`";
    DUPLICATE = "KG015", "duplicate", "two things that must be unique share a name";
    INVALID_PATH = "KG016", "invalid-path", "an HTTP path that does not start with `/`, or a mount or file path that is not absolute";
    INVALID_KEY = "KG017", "invalid-key", "an environment variable or ConfigMap key with invalid characters";
    RESERVED = "KG018", "reserved", "a name kgen reserves for itself";
    INVALID_VALUE = "KG019", "invalid-value", "a value that kgen cannot use (URL, duration, version)";
    REQUESTS_EXCEED_LIMITS = "KG020", "requests-exceed-limits", "a resource request larger than its limit";
    UNKNOWN_PROJECT = "KG021", "unknown-project", "an environment names an Argo CD project that `[argocd] projects` does not list";
    SECRET_PREFIX = "KG022", "secret-prefix", "a secret key outside the secret paths its environment may read or write (`secret_prefixes`)";
    UNKNOWN_CLUSTER = "KG023", "unknown-cluster", "an environment names a cluster that `[clusters]` does not declare, or a cluster hosts no environment";
    SHARED_CLUSTER_SETTING = "KG024", "shared-cluster-setting", "an overlay configures what its environment shares with the other environments of its cluster";
    ENV_REFERENCE = "KG025", "env-reference", "a `${NAME}` reference that names no variable of the container, or a `${` that is not a reference";
    ENV_REFERENCE_CYCLE = "KG026", "env-reference-cycle", "environment variables whose `${NAME}` references form a cycle";
    REFERENCE_NOT_EXPANDED = "KG027", "reference-not-expanded", "a `${NAME}` reference where the kubelet expands none (a `config` entry)";
    KIND_MISMATCH = "KG028", "kind-mismatch", "a setting that does not apply to the service's kind (a port on a worker, a schedule on a Deployment)";
    UNKNOWN_REFERENCE = "KG029", "unknown-reference", "a name that refers to nothing declared (a volume a container mounts, a port a probe names)";
    CRON_SCHEDULE = "KG030", "cron-schedule", "a CronJob schedule or time zone the API server refuses";
    UNKNOWN_BASELINE_OBJECT = "KG031", "unknown-baseline-object", "a reference to a ClusterIssuer, ClusterSecretStore, StorageClass, PriorityClass or EC2NodeClass the cluster's baseline does not declare, or one that cannot serve it";
    UNCHECKED_REFERENCE = "KG032", "unchecked-reference", "a reference to a cluster object of a kind the cluster's baseline declares nothing of, which kgen cannot check";
    NODE_POOL_MISMATCH = "KG033", "node-pool-mismatch", "pods whose node selector, affinity or tolerations fit no declared Karpenter NodePool, or tolerate a taint no node has";
    VALUES_OVERRIDE = "KG034", "values-override", "an add-on's `values` set what one of its typed settings sets (the value in `values` is used)";
    NODE_AUTOSCALERS = "KG035", "node-autoscalers", "Karpenter and the Cluster Autoscaler both on one cluster, both scaling its nodes";
    BUDGET_BLOCKS = "KG036", "budget-blocks-eviction", "a disruption budget whose `min_available` allows no eviction (`100%`, or at least the service's fewest replicas)";
    IGNORED_SETTING = "KG037", "ignored-setting", "a setting an overlay writes that has no effect in its environment (`replicas` where `autoscaling` sets the count)";
    DEFAULT_CREDENTIALS = "KG038", "default-credentials", "Grafana (in the monitoring stack) with the chart's default admin password instead of one from a Secret";
    NUMBER_TEXT = "KG039", "number-text", "a number in `env` or `config` whose text TOML does not keep (`1.10` is the number 1.1): quote it";
    MANIFEST_PLACE = "KG040", "manifest-place", "a file under `manifests/` in a place kgen does not read (an unknown environment, service or cluster, a disabled service, a component kgen writes itself)";
    MANIFEST_OBJECT = "KG041", "manifest-object", "a hand-written object kgen cannot place (no kind or name, `generateName`, no namespace where one is needed, two objects with one file name)";
    PLAIN_SECRET = "KG042", "plain-secret", "a hand-written Secret with data: secrets do not go into git";
    PATCH_NO_MATCH = "KG043", "patch-no-match", "a patch whose kind and name match no rendered object";
    PATCH_FAILED = "KG044", "patch-failed", "a JSON Patch operation that does not apply (a path that does not exist, a failed test, a malformed operation)";
    PATCH_OWNED_FIELD = "KG045", "patch-owned-field", "a patch that changes a field kgen owns (a selector, the labels kgen sets, a container image, the object's identity)";
    PATCH_INVALID = "KG046", "patch-invalid", "a patch without a kind, with none or several of `merge`, `json` and `file`, or whose file is missing or not a patch";
    ESCAPE_HATCH_SETTING = "KG047", "escape-hatch-setting", "a `[manifests]` setting kgen cannot use (a schema directory that is missing or outside the platform, an unchecked kind without a reason)";
    PATCH_DROPS_RENDERED = "KG048", "patch-drops-rendered", "a patch that drops what kgen rendered (a JSON Patch `add` over a list or map kgen filled, kgen's `/tmp`, files or secrets volume or mount)";
    SCHEMA = "KG101", "schema", "an object that does not match the JSON Schema of its kind (unknown field, wrong type, missing field)";
    UNKNOWN_KIND = "KG102", "unknown-kind", "an object of a kind kgen has no schema for";
    OBJECT_NAME = "KG103", "object-name", "a name the API server refuses for that kind (object, namespace, container)";
    METADATA = "KG104", "metadata", "an invalid label or annotation key or value, or annotations too large";
    SELECTOR = "KG105", "selector", "an empty or invalid selector, or one that does not match its pod template";
    PORTS = "KG106", "ports", "a port out of range, an invalid or duplicate port name, a port declared twice in a pod, a target port the pods lack";
    RESOURCES = "KG107", "resources", "a resource quantity that does not parse, or a request above its limit";
    AUTOSCALER = "KG108", "autoscaler", "autoscaler bounds or targets the API server or the controller refuses";
    PROBE = "KG109", "probe", "a probe without exactly one handler, with a bad path or port, or bad thresholds";
    DATA_KEYS = "KG110", "data-keys", "an invalid environment variable name or ConfigMap key, or a ConfigMap over 1 MiB";
    SECRET_PROVIDER = "KG111", "secret-provider", "a SecretProviderClass the CSI driver's AWS provider refuses, or a secret it does not mount";
    VOLUMES = "KG112", "volumes", "a volume or mount the API server refuses (unknown volume, mount path used twice)";
    REFERENCES = "KG113", "references", "a reference to an object that is not rendered (ServiceAccount, ConfigMap, target)";
    DUPLICATE_OBJECT = "KG114", "duplicate-object", "the same object defined twice";
    YAML = "KG115", "yaml", "a file that is not valid YAML, or a document that is not an object";
    FIELD_VALUE = "KG116", "field-value", "a field value the API server refuses (restart policy, Service type, Ingress path, ...)";
    POD_SECURITY_REFUSED = "KG117", "pod-security-refused", "a pod its service's namespace refuses at its Pod Security level (the workload creates no pod)";
    FEATURE_GATE = "KG118", "feature-gate", "a field whose feature gate is off by default in the cluster's Kubernetes version (its API server drops the field)";
    WAIVER = "KG200", "waiver", "a waiver without a reason, of an unknown or unwaivable rule, or outside platform.toml";
    RESOURCES_UNSET = "KG201", "resources-unset", "a container without CPU and memory requests or a memory limit";
    PROBES_UNSET = "KG202", "probes-unset", "a long-running container without a readiness or liveness probe";
    RUN_AS_ROOT = "KG203", "run-as-root", "a container that runs, or may run, as root";
    WRITABLE_ROOT_FS = "KG204", "writable-root-filesystem", "a container whose root filesystem is writable";
    PRIVILEGE_ESCALATION = "KG205", "privilege-escalation", "a container that may escalate privileges or keeps Linux capabilities";
    HOST_ACCESS = "KG206", "host-access", "a privileged container, or a pod using the node's network, processes, ports or files";
    SECCOMP_UNSET = "KG207", "seccomp-unset", "a container without a seccomp profile";
    MUTABLE_IMAGE = "KG208", "mutable-image", "an image without a tag or digest, or tagged `latest`";
    IMAGE_REGISTRY = "KG209", "image-registry", "an image from outside the platform's registries";
    PRODUCTION_REPLICAS = "KG210", "production-replicas", "fewer than 2 replicas (or autoscaling min below 2) in a production environment";
    HPA_REPLICAS = "KG211", "hpa-replicas-conflict", "a workload that sets replicas while an autoscaler scales it";
    DEFAULT_NAMESPACE = "KG212", "default-namespace", "an object in the `default` namespace";
    DEFAULT_SERVICE_ACCOUNT = "KG213", "default-service-account", "pods running as the namespace's `default` service account";
    SECRET_IN_ENV = "KG214", "secret-in-env", "an environment variable whose literal value looks like a secret";
    POD_SECURITY_ADMISSION = "KG215", "pod-security-admission", "a namespace that does not enforce a Pod Security Admission level";
    ENV_FROM_KEY = "KG216", "envfrom-invalid-key", "a ConfigMap key loaded with envFrom that is not a variable name (silently skipped)";
    DAEMONSET_PER_ENVIRONMENT = "KG217", "daemonset-per-environment", "a daemonset service enabled in several environments of one cluster, so each node runs it once per environment";
    IMAGE_VERSION_SKEW = "KG218", "image-version-skew", "containers of one pod that run one image repository at different versions";
    PROJECT_SCOPE = "KG301", "project-scope", "an Argo CD project used on more than one cluster, or an Application whose project its bootstrap does not create";
    NOT_PERMITTED = "KG302", "not-permitted", "a source, destination, namespace or kind that the Application's AppProject does not permit";
    SHARED_OBJECT = "KG303", "shared-object", "an object that two Argo CD Applications on one cluster would both manage";
    NAMESPACE_MISSING = "KG304", "namespace-missing", "an object whose namespace nothing creates before it is applied";
    APPLICATION_NAME = "KG305", "application-name", "two Argo CD Applications with one name, a name over 63 characters, or an ApplicationSet that would not expand";
    CRD_ORDER = "KG306", "crd-order", "a custom resource whose CRD no Application installs before it";
    FOREIGN_FILE = "KG307", "foreign-file", "a file kgen did not write, in a directory an Argo CD Application deploys";
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_is_documented() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md"))
            .expect("docs/rules.md");
        for r in super::ALL {
            assert!(
                docs.contains(&format!("### {}\n**{}.**", r.code, r.name)),
                "docs/rules.md lacks a section for {} ({})",
                r.code,
                r.name
            );
        }
    }

    #[test]
    fn codes_are_unique_and_ordered() {
        let codes: Vec<&str> = super::ALL.iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }
}
