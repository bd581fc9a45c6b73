//! What kgen refuses (or warns about) in the add-ons of a cluster before it writes
//! anything: a preset's required and recommended settings, chart versions that do not
//! support the cluster's Kubernetes version, Application names over 63 characters,
//! ServiceAccount renames under an IAM role, `node_ports` on a ClusterIP Service,
//! ExternalSecrets at a version the operator no longer serves, and a Cluster Autoscaler
//! of another minor version than the cluster's (docs/addons.md, "What kgen checks").

mod common;

use common::{fails, Platform, GRAFANA_ADMIN};

/// One declared cluster at Kubernetes 1.30 with one environment and one service (with
/// probes, so that a successful render prints nothing).
const BASE: &str = r#"[platform]
name = "acme"
repo = "https://github.com/acme/platform.git"
registry = "registry.example.com"
aws_region = "eu-west-1"

[clusters.prod]
kubernetes_version = "1.30"

[environments.prod]
cluster = "prod"

[services.api]
image = "acme/api"
tag = "1.0.0"
port = 8080
probes = { liveness = "/health", readiness = "/ready" }
"#;

/// BASE with `edits` (`(from, to)` replacements) and `addons` appended.
fn platform(edits: &[(&str, &str)], addons: &str) -> String {
    let mut text = BASE.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    format!("{text}\n{addons}")
}

/// Renders `text`, expecting success; returns stderr and the platform.
fn renders(text: &str) -> (String, Platform) {
    let p = Platform::new(text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    (out.stderr, p)
}

const NO_AWS_REGION: (&str, &str) = ("aws_region = \"eu-west-1\"\n", "");

#[test]
fn a_missing_required_setting_is_refused_at_the_add_ons_header() {
    let text = platform(
        &[NO_AWS_REGION],
        r#"[addons.karpenter]
chart_version = "1.14.1"

[addons.fluent-bit]
chart_version = "0.2.0"
"#,
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG004]: add-on `karpenter` of cluster `prod` has no `cluster_name`: the chart refuses to render without `settings.clusterName`
  --> platform.toml:18:9
   |
18 | [addons.karpenter]
   |         ^^^^^^^^^
   = help: set `cluster_name` (the EKS cluster's name; a template, e.g. `"myapp-{{ cluster.name }}"`) under `[addons.karpenter]` or `[clusters.prod.addons.karpenter]`, or give the cluster `vars = { eks_name = "..." }` under `[clusters.prod]`, which kgen uses by default

error[KG004]: add-on `fluent-bit` has no `region`: the chart would send the logs to `us-east-1`, its default `cloudWatchLogs.region`
  --> platform.toml:21:9
   |
21 | [addons.fluent-bit]
   |         ^^^^^^^^^^
   = help: set `region = "eu-west-1"` (a template) under `[addons.fluent-bit]`, or `aws_region` under `[platform]`, the default of every add-on's `region`

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn cluster_autoscaler_needs_a_cluster_name_and_a_region() {
    // A cluster kgen knows only by its server has no variables: the help says so.
    let text = platform(
        &[
            NO_AWS_REGION,
            ("[clusters.prod]\nkubernetes_version = \"1.30\"\n\n", ""),
            (
                "cluster = \"prod\"",
                "cluster = \"https://prod.example.com\"",
            ),
        ],
        "[addons.cluster-autoscaler]\nchart_version = \"9.59.0\"\n",
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG004]: add-on `cluster-autoscaler` has no `region`: the chart requires `awsRegion` with `cloudProvider: aws` (without it the autoscaler asks the instance metadata service, which pods often cannot reach)
  --> platform.toml:15:9
   |
15 | [addons.cluster-autoscaler]
   |         ^^^^^^^^^^^^^^^^^^
   = help: set `region = "eu-west-1"` (a template) under `[addons.cluster-autoscaler]`, or `aws_region` under `[platform]`, the default of every add-on's `region`

error[KG004]: add-on `cluster-autoscaler` of cluster `prod` has no `cluster_name`: without `autoDiscovery.clusterName` the chart renders no Deployment
  --> platform.toml:15:9
   |
15 | [addons.cluster-autoscaler]
   |         ^^^^^^^^^^^^^^^^^^
   = help: set `cluster_name` (the EKS cluster's name; a template, e.g. `"myapp-{{ cluster.name }}"`) under `[addons.cluster-autoscaler]`

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn cluster_name_defaults_to_the_clusters_eks_name() {
    let text = platform(
        &[(
            "kubernetes_version = \"1.30\"\n",
            "kubernetes_version = \"1.30\"\nvars = { eks_name = \"acme-prod-eks\" }\n",
        )],
        r#"[addons.karpenter]
chart_version = "1.14.1"

[addons.aws-load-balancer-controller]
chart_version = "3.5.0"
"#,
    );
    let (stderr, p) = renders(&text);
    assert_eq!(stderr, "");
    let karpenter = p.read("generated/values/prod/karpenter.yaml");
    assert!(
        karpenter.contains(
            "settings:\n  clusterName: acme-prod-eks\n  interruptionQueue: acme-prod-eks\n"
        ),
        "{karpenter}"
    );
    let alb = p.read("generated/values/prod/aws-load-balancer-controller.yaml");
    assert!(alb.contains("\nclusterName: acme-prod-eks\n"), "{alb}");
    // `cluster_name` set on the add-on wins.
    let text = text.replace(
        "[addons.karpenter]\n",
        "[addons.karpenter]\ncluster_name = \"other\"\n",
    );
    let (_, p) = renders(&text);
    assert!(p
        .read("generated/values/prod/karpenter.yaml")
        .contains("  clusterName: other\n"));
}

#[test]
fn values_that_set_a_required_setting_s_values_path_count_as_setting_it() {
    // The chart gets `settings.clusterName` from `values`: kgen does not refuse it.
    let text = platform(
        &[],
        r#"[addons.karpenter]
chart_version = "1.14.1"
values = { settings = { clusterName = "from-values" } }

[addons.external-dns]
chart_version = "1.21.1"
values = { domainFilters = ["example.com"] }
"#,
    );
    let (stderr, p) = renders(&text);
    assert_eq!(stderr, "");
    assert!(p
        .read("generated/values/prod/karpenter.yaml")
        .contains("  clusterName: from-values\n"));
    // `values` that empty it are refused where they do, even over `cluster_name`.
    let text = platform(
        &[],
        r#"[addons.karpenter]
chart_version = "1.14.1"
cluster_name = "acme"
values = { settings = { clusterName = "" } }
"#,
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG019]: `values` of add-on `karpenter` set `settings.clusterName` empty: the chart refuses to render without `settings.clusterName`
  --> platform.toml:22:10
   |
22 | values = { settings = { clusterName = "" } }
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: remove `settings.clusterName` from `values`; set `cluster_name` (the EKS cluster's name; a template, e.g. `"myapp-{{ cluster.name }}"`) under `[addons.karpenter]` or `[clusters.prod.addons.karpenter]`, or give the cluster `vars = { eks_name = "..." }` under `[clusters.prod]`, which kgen uses by default

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn an_empty_required_setting_is_refused_where_it_is_written() {
    let text = platform(
        &[],
        "[addons.karpenter]\nchart_version = \"1.14.1\"\ncluster_name = \"\"\n",
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG019]: `cluster_name` of add-on `karpenter` is empty: the chart refuses to render without `settings.clusterName`
  --> platform.toml:21:16
   |
21 | cluster_name = ""
   |                ^^
   = help: set `cluster_name` (the EKS cluster's name; a template, e.g. `"myapp-{{ cluster.name }}"`) under `[addons.karpenter]` or `[clusters.prod.addons.karpenter]`, or give the cluster `vars = { eks_name = "..." }` under `[clusters.prod]`, which kgen uses by default

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn node_ports_on_a_cluster_ip_service_are_refused() {
    let text = platform(
        &[],
        r#"[addons.ingress-nginx]
chart_version = "4.15.1"
service_type = "ClusterIP"
node_ports = { http = 30080 }
"#,
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG028]: `node_ports` does not apply to `service_type = "ClusterIP"` (platform.toml:21): a ClusterIP Service has no node ports
  --> platform.toml:22:14
   |
22 | node_ports = { http = 30080 }
   |              ^^^^^^^^^^^^^^^^
   = help: remove `node_ports`, or set `service_type = "NodePort"` (behind an ALB) or `"LoadBalancer"`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // With a node port Service they are what the ALB's target groups use.
    let (stderr, _) = renders(&text.replace("\"ClusterIP\"", "\"NodePort\""));
    assert_eq!(stderr, "");
}

/// KG034: `values` that set what a typed setting sets are used, with a warning at the
/// `values` table; values the typed settings leave alone, and a typed setting's own
/// default (`cluster_name` from nothing here), warn of nothing (newcomer review 6, #4).
#[test]
fn values_that_override_a_typed_setting_are_a_warning() {
    let text = platform(
        &[],
        r#"[addons.external-dns]
chart_version = "1.21.1"
domain_filters = ["acme.example.com"]
values = { domainFilters = ["other.example.com"], interval = "5m" }
"#,
    );
    let (stderr, p) = renders(&text);
    assert_eq!(
        stderr,
        r#"warning[KG034]: `values` of add-on `external-dns` set `domainFilters`, which the typed setting `domain_filters` of the add-on sets too: the value in `values` is used
  --> platform.toml:22:12
   |
22 | values = { domainFilters = ["other.example.com"], interval = "5m" }
   |            ^^^^^^^^^^^^^
   = help: remove `domainFilters` from `values` and keep `domain_filters` (docs/addons.md lists each preset's settings and the values they set), or remove `domain_filters`

"#
    );
    let values = p.read("generated/values/prod/external-dns.yaml");
    assert!(values.contains("- other.example.com"), "{values}");
    let (stderr, _) = renders(&text.replace("domainFilters = [\"other.example.com\"], ", ""));
    assert_eq!(stderr, "");
    // Written as a table of its own, the key is found there too.
    let (stderr, _) = renders(&platform(
        &[],
        "[addons.external-dns]\nchart_version = \"1.21.1\"\ndomain_filters = [\"acme.example.com\"]\n\n[addons.external-dns.values]\ninterval = \"5m\"\ndomainFilters = [\"other.example.com\"]\n",
    ));
    assert!(
        stderr.contains("  --> platform.toml:25:1\n   |\n25 | domainFilters = [\"other.example.com\"]\n   | ^^^^^^^^^^^^^\n"),
        "{stderr}"
    );
    // The setting that decides the value is named: `replicas`, `iam_role`.
    let text = platform(
        &[],
        r#"[addons.cert-manager]
chart_version = "v1.21.1"
replicas = 3
iam_role = "arn:aws:iam::123456789012:role/cm"
values = { replicaCount = 1, serviceAccount = { annotations = { "eks.amazonaws.com/role-arn" = "arn:aws:iam::123456789012:role/other" } } }
"#,
    );
    let (stderr, _) = renders(&text);
    // Written as the chart's default, the setting still decides the value (docs review).
    let (default_written, _) = renders(&text.replace("replicas = 3", "replicas = 2"));
    assert!(
        default_written.starts_with("warning[KG034]: `values` of add-on `cert-manager` set `replicaCount`, which the typed setting `replicas` of the add-on sets too"),
        "{default_written}"
    );
    assert_eq!(
        stderr,
        r#"warning[KG034]: `values` of add-on `cert-manager` set `replicaCount`, which the typed setting `replicas` of the add-on sets too: the value in `values` is used
  --> platform.toml:23:12
   |
23 | values = { replicaCount = 1, serviceAccount = { annotations = { "eks.amazonaws.com/role-arn" = "arn:aws:iam::123456789012:role/other" } } }
   |            ^^^^^^^^^^^^
   = help: remove `replicaCount` from `values` and keep `replicas` (docs/addons.md lists each preset's settings and the values they set), or remove `replicas`

warning[KG034]: `values` of add-on `cert-manager` set `serviceAccount.annotations."eks.amazonaws.com/role-arn"`, which the typed setting `iam_role` of the add-on sets too: the value in `values` is used
  --> platform.toml:23:65
   |
23 | values = { replicaCount = 1, serviceAccount = { annotations = { "eks.amazonaws.com/role-arn" = "arn:aws:iam::123456789012:role/other" } } }
   |                                                                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: remove `serviceAccount.annotations."eks.amazonaws.com/role-arn"` from `values` and keep `iam_role` (docs/addons.md lists each preset's settings and the values they set), or remove `iam_role`

"#
    );
}

/// KG035: Karpenter and the Cluster Autoscaler on one cluster (newcomer review 9, #8).
#[test]
fn karpenter_and_the_cluster_autoscaler_on_one_cluster_are_a_warning() {
    let text = platform(
        &[(
            "kubernetes_version = \"1.30\"\n",
            "kubernetes_version = \"1.30\"\nvars = { eks_name = \"acme-prod\" }\n",
        )],
        "[addons.karpenter]\nchart_version = \"1.14.1\"\niam_role = \"arn:aws:iam::123456789012:role/karpenter\"\ninterruption_queue = \"acme-prod\"\n\n[addons.cluster-autoscaler]\nchart_version = \"9.46.6\"\niam_role = \"arn:aws:iam::123456789012:role/ca\"\n",
    );
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["render"]);
    assert_eq!(
        out.stderr,
        r#"warning[KG035]: cluster `prod` runs both Karpenter (add-on `karpenter`) and the Cluster Autoscaler (add-on `cluster-autoscaler`): both add and remove its nodes, and each undoes what the other decides
  --> platform.toml:25:9
   |
25 | [addons.cluster-autoscaler]
   |         ^^^^^^^^^^^^^^^^^^
   = help: keep one: Karpenter for NodePools, the Cluster Autoscaler for managed node groups; to keep both while migrating, disable one on this cluster (`[clusters.prod.addons.cluster-autoscaler] enabled = false`) once its nodes are gone, and make sure they never scale the same nodes

"#
    );
}

/// An add-on's typed placement and resources are checked as a service's are: the
/// tolerations, node labels and requests the API server refuses are errors at the
/// line (newcomer review 6, #2 and #3).
#[test]
fn an_add_on_s_pod_settings_are_checked_as_a_service_s() {
    let text = platform(
        &[],
        r#"[addons.metrics-server]
chart_version = "3.13.1"
tolerations = [{ key = "a", operator = "Exists", value = "x" }, { key = "b", value = "y", seconds = 30 }]
node_selector = { role = "x y" }
resources = { requests = { cpu = "2", memory = "64Mi" }, limits = { cpu = "1", memory = "128Mi" } }
"#,
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG019]: a toleration with `operator = "Exists"` has no `value`
  --> platform.toml:21:58
   |
21 | tolerations = [{ key = "a", operator = "Exists", value = "x" }, { key = "b", value = "y", seconds = 30 }]
   |                                                          ^^^
   = help: remove `value`, or use `operator = "Equal"`

error[KG019]: `seconds` applies to `effect = "NoExecute"` only
  --> platform.toml:21:101
   |
21 | tolerations = [{ key = "a", operator = "Exists", value = "x" }, { key = "b", value = "y", seconds = 30 }]
   |                                                                                                     ^^
   = help: `seconds` is how long the pod stays on a node after a `NoExecute` taint appears on it: add `effect = "NoExecute"`, or remove `seconds`

error[KG019]: node label value: "x y" is not a valid label value
  --> platform.toml:22:26
   |
22 | node_selector = { role = "x y" }
   |                          ^^^^^
   = help: use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or leave it empty

error[KG020]: cpu request 2 is larger than its limit 1
  --> platform.toml:23:34
   |
23 | resources = { requests = { cpu = "2", memory = "64Mi" }, limits = { cpu = "1", memory = "128Mi" } }
   |                                  ^^^
   = help: the API server rejects a request above its limit: lower `resources.requests.cpu` or raise `resources.limits.cpu`

error: 4 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// `[monitoring] namespace` is a namespace: a DNS-1123 label, checked at its line
/// (a dotted name failed only at output, with no location: newcomer review 6, #8).
#[test]
fn the_monitoring_namespace_is_checked_as_a_namespace() {
    let text = platform(
        &[],
        &format!("[monitoring]\nchart_version = \"77.0.0\"\nnamespace = \"mon.itoring\"\n\n[baseline]\nprovided = {{ storage_classes = [\"gp3\"] }}\n{GRAFANA_ADMIN}"),
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG005]: monitoring namespace: "mon.itoring" is not a valid DNS-1123 label
  --> platform.toml:21:13
   |
21 | namespace = "mon.itoring"
   |             ^^^^^^^^^^^^^ did you mean `mon-itoring`?
   = help: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// KG013 in a cluster's settings names the undefined variable, suggests the one
/// meant, and lists what such a template can use: no `env` or `service` there
/// (newcomer review 6, #13).
#[test]
fn an_undefined_variable_in_an_add_on_template_is_named() {
    let text = platform(
        &[(
            "kubernetes_version = \"1.30\"\n",
            "kubernetes_version = \"1.30\"\nvars = { eks_name = \"acme-prod\" }\n",
        )],
        "[addons.cert-manager]\nchart_version = \"v1.21.1\"\niam_role = \"arn:aws:iam::123456789012:role/{{ cluster.eks_nme }}\"\n",
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG013]: undefined value in template: `cluster.eks_nme` is undefined (did you mean `cluster.eks_name`?)
  --> platform.toml:22:12
   |
22 | iam_role = "arn:aws:iam::123456789012:role/{{ cluster.eks_nme }}"
   |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: templates of a cluster's settings can use `cluster.name`, `cluster.server`, `cluster.destination_name`, `cluster.kubernetes_version`, the cluster's `vars` as `cluster.<var>`, and `platform.name`, `platform.repo`, `platform.registry`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// KG013 for a variable one cluster has and another lacks names the cluster without
/// it and the one with it (newcomer review 6, #13); a cluster's own value written as
/// a key of its table is pointed to `vars` (KG002).
#[test]
fn a_cluster_variable_missing_from_one_cluster_names_it() {
    let two = (
        "[environments.prod]\ncluster = \"prod\"\n",
        "[clusters.dev]\nserver = \"https://dev.example.com\"\nkubernetes_version = \"1.30\"\n\n[environments.dev]\ncluster = \"dev\"\n\n[environments.prod]\ncluster = \"prod\"\n",
    );
    let text = platform(
        &[
            (
                "kubernetes_version = \"1.30\"\n",
                "kubernetes_version = \"1.30\"\nvars = { eks_name = \"acme-prod\" }\n",
            ),
            two,
        ],
        "[addons.cert-manager]\nchart_version = \"v1.21.1\"\niam_role = \"arn:aws:iam::123456789012:role/{{ cluster.eks_name }}\"\n",
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG013]: undefined value in template: `cluster.eks_name` is undefined for cluster `dev`, whose `vars` have no `eks_name` (`prod` has it)
  --> platform.toml:29:12
   |
29 | iam_role = "arn:aws:iam::123456789012:role/{{ cluster.eks_name }}"
   |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: add `eks_name = "..."` to the `vars` of `[clusters.dev]`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    let text = platform(
        &[(
            "kubernetes_version = \"1.30\"\n",
            "kubernetes_version = \"1.30\"\ncluster_name = \"acme-prod\"\n",
        )],
        "",
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG002]: unknown key `cluster_name`
 --> platform.toml:9:1
  |
9 | cluster_name = "acme-prod"
  | ^^^^^^^^^^^^
  = help: a cluster's own values are its variables: write `vars = { eks_name = "..." }` under this table and use them as `{{ cluster.eks_name }}` in templates (docs/platform.md); add-ons that take `cluster_name` default to `eks_name` (docs/addons.md)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// KG023: a cluster table of settings alone whose name is close to a cluster that
/// hosts environments is that cluster's, misspelt: an error with "did you mean", not
/// a warning under which its settings silently apply nowhere (newcomer review 6,
/// #14). A cluster with a destination of its own and no environment yet stays a
/// warning.
#[test]
fn a_misspelt_cluster_of_an_override_table_is_an_error() {
    let text = platform(
        &[],
        "[addons.cert-manager]\nchart_version = \"v1.21.1\"\n\n[clusters.prd.addons.cert-manager]\nreplicas = 3\n",
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG023]: cluster `prd` hosts no environment; nothing is rendered for it
  --> platform.toml:22:11
   |
22 | [clusters.prd.addons.cert-manager]
   |           ^^^ did you mean `prod`?
   = help: its settings apply to no cluster: name the table after the cluster, `[clusters.prod...]`, or place an environment on `prd`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    let (stderr, _) = renders(&format!(
        "{text}\n[clusters.prd]\nserver = \"https://prd.example.com\"\n"
    ));
    assert!(
        stderr.starts_with("warning[KG023]: cluster `prd` hosts no environment"),
        "{stderr}"
    );
}

/// A chart that is not a preset declares the cluster-scoped kinds it creates and the
/// other namespaces it writes into: its project admits them; without
/// `cluster_kinds`, a warning; on a preset, an error (newcomer review 12, #2).
#[test]
fn a_plain_chart_declares_its_cluster_kinds() {
    let chart = "[addons.ebs]\nchart = \"aws-ebs-csi-driver\"\nrepo = \"https://kubernetes-sigs.github.io/aws-ebs-csi-driver\"\nchart_version = \"2.28.0\"\nnamespace = \"ebs\"\n";
    let (stderr, _) = renders(&platform(&[], chart));
    assert_eq!(
        stderr,
        r#"warning[KG019]: kgen does not know what the chart of add-on `ebs` creates at cluster scope: its Argo CD project admits none of it, and Argo CD refuses to sync a kind the project does not permit
  --> platform.toml:19:9
   |
19 | [addons.ebs]
   |         ^^^ no `cluster_kinds`
   = help: list the cluster-scoped kinds the chart creates (`helm template` shows them) as `cluster_kinds = ["rbac.authorization.k8s.io/ClusterRole", "rbac.authorization.k8s.io/ClusterRoleBinding"]`, or `cluster_kinds = []` when there are none

"#
    );
    let (stderr, p) = renders(&platform(
        &[],
        &format!("{chart}cluster_kinds = [\"storage.k8s.io/CSIDriver\", \"PersistentVolume\"]\nother_namespaces = [\"kube-system\"]\n"),
    ));
    assert_eq!(stderr, "");
    let project = p.read("generated/argocd/prod/appproject-prod.yaml");
    assert!(
        project.contains("  - group: storage.k8s.io\n    kind: CSIDriver\n"),
        "{project}"
    );
    assert!(
        project.contains("  - group: \"\"\n    kind: PersistentVolume\n"),
        "{project}"
    );
    assert!(
        project.contains("  - namespace: kube-system\n"),
        "{project}"
    );
    let err = fails(
        &platform(
            &[],
            "[addons.cert-manager]\nchart_version = \"v1.21.1\"\ncluster_kinds = []\n",
        ),
        &[],
    );
    assert_eq!(
        err,
        r#"error[KG028]: `cluster_kinds` is not a setting of the `cert-manager` preset
  --> platform.toml:21:17
   |
21 | cluster_kinds = []
   |                 ^^
   = help: kgen knows what its presets create: remove `cluster_kinds`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A chart that is not a preset takes an `iam_role` for the `service_account` it
/// names: the Terraform hand-off trusts it; with IRSA and no annotation in `values`, a
/// warning; without `service_account`, an error (newcomer review 12, #7).
#[test]
fn a_plain_chart_s_role_reaches_the_terraform_hand_off() {
    let chart = "[addons.ebs]\nchart = \"aws-ebs-csi-driver\"\nrepo = \"https://kubernetes-sigs.github.io/aws-ebs-csi-driver\"\nchart_version = \"2.28.0\"\nnamespace = \"kube-system\"\ncluster_kinds = []\niam_role = \"arn:aws:iam::111111111111:role/ebs\"\n";
    let annotated = format!("{chart}service_account = \"ebs-csi-controller-sa\"\nvalues = {{ controller = {{ serviceAccount = {{ annotations = {{ \"eks.amazonaws.com/role-arn\" = \"arn:aws:iam::111111111111:role/ebs\" }} }} }} }}\n");
    let (stderr, p) = renders(&platform(&[], &annotated));
    assert_eq!(stderr, "");
    let handoff = p.read("generated/terraform/prod.json");
    assert!(
        handoff
            .contains("\"subject\": \"system:serviceaccount:kube-system:ebs-csi-controller-sa\""),
        "{handoff}"
    );
    // Not annotated: the pods would run without the role.
    let (stderr, _) = renders(&platform(
        &[],
        &format!("{chart}service_account = \"ebs-csi-controller-sa\"\n"),
    ));
    assert!(
        stderr.starts_with("warning[KG019]: add-on `ebs`'s `values` do not annotate a ServiceAccount with its `iam_role`"),
        "{stderr}"
    );
    // No ServiceAccount named: which one the role is for is unknown.
    let err = fails(&platform(&[], chart), &[]);
    assert!(
        err.starts_with("error[KG004]: add-on `ebs` has an `iam_role` but no `service_account`"),
        "{err}"
    );
}

/// An add-on's typed `resources` without their unit: the KG006 warning, as a
/// service's (verification 13, #5).
#[test]
fn an_add_on_s_resources_without_their_unit_are_a_warning() {
    let (stderr, _) = renders(&platform(
        &[],
        "[addons.metrics-server]\nchart_version = \"3.13.1\"\nresources = { requests = { cpu = \"500\" } }\n",
    ));
    assert!(
        stderr.starts_with("warning[KG006]: `resources.requests.cpu`: `500` is 500 CPUs"),
        "{stderr}"
    );
}

/// A misspelt `cluster` is one error (KG023), not also the clash of the cluster of its
/// own the environment was placed on to go on checking (newcomer review 11, #5).
#[test]
fn a_misspelt_cluster_of_an_environment_is_one_error() {
    let text = platform(&[("cluster = \"prod\"", "cluster = \"prdo\"")], "");
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG023]: environment `prod` runs on cluster `prdo`, which is neither a `[clusters.<name>]` table nor an API server URL
  --> platform.toml:11:11
   |
11 | cluster = "prdo"
   |           ^^^^^^ did you mean `prod`?
   = help: use one of the declared clusters (prod), or an API server URL such as `https://kubernetes.default.svc`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    let text = format!(
        "{text}\n[environments.staging]\ncluster = \"prdo\"\nnamespace = \"staging-{{{{ service }}}}\"\n"
    )
    .replace("cluster = \"prdo\"\n\n[services", "cluster = \"prod\"\n\n[services");
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG023]: environment `staging` runs on cluster `prdo`, which is neither a `[clusters.<name>]` table nor an API server URL
  --> platform.toml:21:11
   |
21 | cluster = "prdo"
   |           ^^^^^^ did you mean `prod`?
   = help: use one of the declared clusters (prod), or an API server URL such as `https://kubernetes.default.svc`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// A setting a preset does not take is one error, not also its value's (a domain
/// filter checked for a preset without any); an `iam_role` on a preset that needs
/// none says so (newcomer review 6, #23).
#[test]
fn a_setting_a_preset_does_not_take_is_one_error() {
    let text = platform(
        &[],
        "[addons.metrics-server]\nchart_version = \"3.13.1\"\niam_role = \"arn:aws:iam::123456789012:role/x\"\ndomain_filters = [\"x\"]\n",
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG028]: add-on `metrics-server` takes no `iam_role`: the `metrics-server` preset needs no IAM role of its own (docs/addons.md says each preset's identity)
  --> platform.toml:21:12
   |
21 | iam_role = "arn:aws:iam::123456789012:role/x"
   |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: remove `iam_role`

error[KG028]: `domain_filters` is not a setting of the `metrics-server` preset
  --> platform.toml:22:18
   |
22 | domain_filters = ["x"]
   |                  ^^^^^
   = help: its settings are replicas, resources, priority_class, tolerations, node_selector; anything else goes under `values`

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

#[test]
fn external_dns_without_domain_filters_is_a_warning() {
    let text = platform(&[], "[addons.external-dns]\nchart_version = \"1.21.1\"\n");
    let (stderr, p) = renders(&text);
    assert_eq!(
        stderr,
        r#"warning[KG004]: add-on `external-dns` sets no `domain_filters`: external-dns may then write records in every Route 53 zone its IAM role can reach
  --> platform.toml:19:9
   |
19 | [addons.external-dns]
   |         ^^^^^^^^^^^^
   = help: list the zones it may write, e.g. `domain_filters = ["example.com"]`, and limit its IAM role to them; `domain_filters = []` says every zone is meant

"#
    );
    assert!(p.exists("generated/values/prod/external-dns.yaml"));
    // An explicit empty list means every zone, on purpose.
    let (stderr, _) = renders(&format!("{text}domain_filters = []\n"));
    assert_eq!(stderr, "");
}

#[test]
fn v1beta1_external_secrets_on_an_operator_that_no_longer_serves_them_are_refused() {
    let eso = |chart: &str, values: &str| {
        platform(
            &[(
                "aws_region = \"eu-west-1\"\n",
                "aws_region = \"eu-west-1\"\nsecrets_backend = \"external-secrets\"\n",
            )],
            &format!(
                "[external_secrets]\napi_version = \"v1beta1\"\n\n[addons.external-secrets]\nchart_version = \"{chart}\"\n{values}"
            ),
        )
    };
    assert_eq!(
        fails(&eso("2.9.0", ""), &[]),
        r#"error[KG019]: environment `prod` writes its ExternalSecrets at `external-secrets.io/v1beta1`, which add-on `external-secrets` (chart 2.9.0) does not serve: its CRDs serve only `external-secrets.io/v1` since chart 0.17.0
  --> platform.toml:21:15
   |
21 | api_version = "v1beta1"
   |               ^^^^^^^^^
   = help: remove `api_version = "v1beta1"`: kgen then writes `v1`, which the operator serves since v0.16; or, while v1beta1 resources are migrated, serve it again with `values = { crds = { unsafeServeV1Beta1 = true } }` under `[addons.external-secrets]` (deprecated upstream)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // Between 0.17.0 and 1.3.1 the chart has no value to serve it again.
    let asked = "values = { crds = { unsafeServeV1Beta1 = true } }\n";
    let err = fails(&eso("1.2.1", asked), &[]);
    assert!(
        err.contains("= help: remove `api_version = \"v1beta1\"`: kgen then writes `v1`, which the operator serves since v0.16; or pin a chart before 0.17.0, or one from 1.3.1 on with `values = { crds = { unsafeServeV1Beta1 = true } }`\n"),
        "{err}"
    );
    // Another error of the environment does not hold it back (newcomer review 6, #18).
    let err = fails(
        &eso("2.9.0", "").replace(
            "api_version = \"v1beta1\"\n",
            "api_version = \"v1beta1\"\nrefresh_interval = \"1 hour\"\n",
        ),
        &[],
    );
    assert!(
        err.contains("error[KG019]: `1 hour` is not a Go duration"),
        "{err}"
    );
    assert!(err.contains("error[KG019]: environment `prod` writes its ExternalSecrets at `external-secrets.io/v1beta1`"), "{err}");
    assert!(
        err.ends_with("error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)\n"),
        "{err}"
    );
    // Served again on purpose, or by a chart that still serves it.
    renders(&eso("2.9.0", asked));
    renders(&eso("0.16.2", ""));
}

/// The other way round (charts review 25): a chart from before `v1` was served, while
/// kgen writes `v1` (the default).
#[test]
fn v1_external_secrets_on_an_operator_that_does_not_serve_them_yet_are_refused() {
    let eso = |chart: &str, api: &str| {
        platform(
            &[(
                "aws_region = \"eu-west-1\"\n",
                "aws_region = \"eu-west-1\"\nsecrets_backend = \"external-secrets\"\n",
            )],
            &format!(
                "[external_secrets]\n{api}\n[addons.external-secrets]\nchart_version = \"{chart}\"\n"
            ),
        )
    };
    assert_eq!(
        fails(&eso("0.15.1", ""), &[]),
        r#"error[KG019]: environment `prod` writes its ExternalSecrets at `external-secrets.io/v1`, which add-on `external-secrets` (chart 0.15.1) does not serve: its CRDs serve `v1` from chart 0.16.0 on (before, only `v1alpha1` and `v1beta1`)
  --> platform.toml:22:9
   |
22 | [addons.external-secrets]
   |         ^^^^^^^^^^^^^^^^
   = help: pin chart 0.16.0 or later (kgen's preset was checked against 2.9.0); or, until the operator is upgraded, set `api_version = "v1beta1"` under `[external_secrets]` (or each environment's `external_secrets`) for the environments of cluster `prod`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    renders(&eso("0.15.1", "api_version = \"v1beta1\"\n"));
    renders(&eso("0.16.0", ""));
}

#[test]
fn values_that_rename_the_service_account_of_an_iam_role_are_refused() {
    let text = platform(
        &[],
        r#"[addons.external-dns]
chart_version = "1.21.1"
domain_filters = ["example.com"]
iam_role = "arn:aws:iam::123456789012:role/dns"
values = { serviceAccount = { name = "dns" } }
"#,
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG019]: `values` of add-on `external-dns` rename its ServiceAccount (`serviceAccount.name = "dns"`), but its `iam_role` is for the ServiceAccount `external-dns`: kgen writes the IRSA trust subject `system:serviceaccount:external-dns:external-dns` in the Terraform hand-off, so the renamed one could not assume the role
  --> platform.toml:23:10
   |
23 | values = { serviceAccount = { name = "dns" } }
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: remove `serviceAccount.name` from `values`: kgen names the ServiceAccount after the release; to name it otherwise, set `release = "..."`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // cluster-autoscaler's ServiceAccount is under `rbac`, and with Pod Identity the
    // hand-off is an association.
    let text = platform(
        &[],
        r#"[addons.cluster-autoscaler]
chart_version = "9.59.0"
cluster_name = "acme"
workload_identity = "pod-identity"
iam_role = "arn:aws:iam::123456789012:role/ca"

[addons.cluster-autoscaler.values.rbac.serviceAccount]
name = "ca"
"#,
    );
    let err = fails(&text, &[]);
    assert!(
        err.starts_with("error[KG019]: `values` of add-on `cluster-autoscaler` rename its ServiceAccount (`rbac.serviceAccount.name = \"ca\"`), but its `iam_role` is for the ServiceAccount `cluster-autoscaler`: kgen writes the Pod Identity association of `kube-system/cluster-autoscaler` in the Terraform hand-off, so the renamed one could not assume the role\n  --> platform.toml:25:28\n"),
        "{err}"
    );
    // Without an IAM role, or naming it as kgen does, `values` may set it.
    let (stderr, _) = renders(&platform(
        &[],
        r#"[addons.external-dns]
chart_version = "1.21.1"
domain_filters = ["example.com"]
values = { serviceAccount = { name = "dns" } }
"#,
    ));
    assert_eq!(stderr, "");
    let (stderr, _) = renders(&platform(
        &[],
        r#"[addons.external-dns]
chart_version = "1.21.1"
domain_filters = ["example.com"]
iam_role = "arn:aws:iam::123456789012:role/dns"
values = { serviceAccount = { name = "external-dns" } }
"#,
    ));
    assert_eq!(stderr, "");
}

#[test]
fn a_chart_that_needs_a_newer_kubernetes_is_refused_at_its_version() {
    let csi = "[addons.secrets-store-csi-driver]\nchart_version = \"1.6.0\"\n";
    let on_129 = platform(
        &[(
            "kubernetes_version = \"1.30\"",
            "kubernetes_version = \"1.29\"",
        )],
        csi,
    );
    assert_eq!(
        fails(&on_129, &[]),
        r#"error[KG019]: chart 1.6.0 of add-on `secrets-store-csi-driver` needs Kubernetes 1.30 or later, but cluster `prod` runs 1.29: its Chart.yaml says `kubeVersion: ">=1.30.0-0"` since 1.6.0, and Argo CD renders the chart with the cluster's version
  --> platform.toml:20:17
   |
20 | chart_version = "1.6.0"
   |                 ^^^^^^^
   = help: pin a chart version that supports Kubernetes 1.29 (kgen's preset was checked against 1.5.6); or, if the cluster runs 1.30 or later, correct `kubernetes_version` under `[clusters.prod]`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // A cluster without `kubernetes_version` is taken as the oldest kgen supports.
    let unset = platform(&[("kubernetes_version = \"1.30\"\n", "")], csi);
    let err = fails(&unset, &[]);
    assert!(
        err.contains("but cluster `prod` is taken to run 1.29 (no `kubernetes_version` is set for it): ")
            && err.contains("or, if the cluster runs 1.30 or later, set `kubernetes_version` under `[clusters.prod]`\n"),
        "{err}"
    );
    // On 1.30 it installs; 1.5.6 installs anywhere.
    renders(&platform(&[], csi));
    renders(&on_129.replace("\"1.6.0\"", "\"1.5.6\""));
}

#[test]
fn a_preset_s_minimum_kubernetes_holds_for_releases_kgen_did_not_read() {
    // secrets-store-csi-driver needs 1.30 from 1.6.0 on: a later release (not read)
    // keeps that floor, and is refused on 1.29 at its version.
    let csi = |version: &str, kube: &str| {
        platform(
            &[(
                "kubernetes_version = \"1.30\"",
                &format!("kubernetes_version = \"{kube}\""),
            )],
            &format!("[addons.secrets-store-csi-driver]\nchart_version = \"{version}\"\n"),
        )
    };
    assert_eq!(
        fails(&csi("1.7.2", "1.29"), &[]),
        r#"error[KG019]: chart 1.7.2 of add-on `secrets-store-csi-driver` needs Kubernetes 1.30 or later, but cluster `prod` runs 1.29: its Chart.yaml says `kubeVersion: ">=1.30.0-0"` since 1.6.0, and Argo CD renders the chart with the cluster's version
  --> platform.toml:20:17
   |
20 | chart_version = "1.7.2"
   |                 ^^^^^^^
   = help: pin a chart version that supports Kubernetes 1.29 (kgen's preset was checked against 1.5.6); or, if the cluster runs 1.30 or later, correct `kubernetes_version` under `[clusters.prod]`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // On 1.30 and later it is not refused (there is no maximum to know).
    renders(&csi("1.7.2", "1.30"));
    renders(&csi("1.7.2", "1.36"));
    // A pre-release of 1.6.0 comes before the floor.
    renders(&csi("1.6.0-rc.1", "1.29"));
}

#[test]
fn a_chart_made_for_an_older_kubernetes_is_refused_at_its_version() {
    let text = platform(
        &[(
            "kubernetes_version = \"1.30\"",
            "kubernetes_version = \"1.34\"",
        )],
        r#"[addons.karpenter]
chart_version = "1.5.0"
cluster_name = "acme"

[addons.cluster-autoscaler]
chart_version = "9.46.0"
cluster_name = "acme"
"#,
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG019]: chart 1.5.0 of add-on `karpenter` supports Kubernetes up to 1.33, but cluster `prod` runs 1.34: Karpenter checks the cluster's version against its `MinK8sVersion` and `MaxK8sVersion` and refuses others ("karpenter is not compatible with kubernetes version")
  --> platform.toml:20:17
   |
20 | chart_version = "1.5.0"
   |                 ^^^^^^^
   = help: pin a chart version that supports Kubernetes 1.34 (kgen's preset was checked against 1.14.1); or, if the cluster runs 1.33 or earlier, correct `kubernetes_version` under `[clusters.prod]`

error[KG019]: chart 9.46.0 of add-on `cluster-autoscaler` supports Kubernetes up to 1.32, but cluster `prod` runs 1.34: the Cluster Autoscaler's README pairs each Kubernetes version with the charts made for it, and kgen runs the autoscaler of the cluster's version
  --> platform.toml:24:17
   |
24 | chart_version = "9.46.0"
   |                 ^^^^^^^^
   = help: pin a chart version that supports Kubernetes 1.34 (kgen's preset was checked against 9.59.0); or, if the cluster runs 1.32 or earlier, correct `kubernetes_version` under `[clusters.prod]`

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // Karpenter 1.6.6 runs on 1.34, 1.7.0 did not yet (its range went back to 1.33).
    let karpenter = |version: &str| {
        platform(
            &[(
                "kubernetes_version = \"1.30\"",
                "kubernetes_version = \"1.34\"",
            )],
            &format!(
                "[addons.karpenter]\nchart_version = \"{version}\"\ncluster_name = \"acme\"\n"
            ),
        )
    };
    renders(&karpenter("1.6.6"));
    assert!(fails(&karpenter("1.7.0"), &[]).contains("supports Kubernetes up to 1.33"));
    // A release kgen did not read is not checked.
    renders(&karpenter("1.15.0"));
}

#[test]
fn a_cluster_autoscaler_of_another_minor_version_is_refused() {
    let ca = |kube: &str, values: &str| {
        platform(
            &[(
                "kubernetes_version = \"1.30\"",
                &format!("kubernetes_version = \"{kube}\""),
            )],
            &format!(
                "[addons.cluster-autoscaler]\nchart_version = \"9.59.0\"\ncluster_name = \"acme\"\n{values}"
            ),
        )
    };
    assert_eq!(
        fails(
            &ca("1.33", "values = { image = { tag = \"v1.32.7\" } }\n"),
            &[]
        ),
        r#"error[KG019]: add-on `cluster-autoscaler`: the Cluster Autoscaler image `v1.32.7` is not of Kubernetes 1.33, the cluster's version: the autoscaler must match the cluster's minor version
  --> platform.toml:22:10
   |
22 | values = { image = { tag = "v1.32.7" } }
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: leave `image.tag` out (kgen writes `v1.33.6`, the newest release of 1.33 it knows), or set a v1.33.x tag

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    assert_eq!(
        fails(&ca("1.37", ""), &[]),
        r#"error[KG019]: add-on `cluster-autoscaler`: kgen knows no Cluster Autoscaler release for Kubernetes 1.37, so the chart's own image would run, whatever its version: the autoscaler must match the cluster's minor version
  --> platform.toml:19:9
   |
19 | [addons.cluster-autoscaler]
   |         ^^^^^^^^^^^^^^^^^^
   = help: set the newest release of 1.37 (a `cluster-autoscaler-1.37.<patch>` tag of kubernetes/autoscaler): `values = { image = { tag = "v1.37.<patch>" } }`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    let (_, p) = renders(&ca("1.37", "values = { image = { tag = \"v1.37.0\" } }\n"));
    assert!(p
        .read("generated/values/prod/cluster-autoscaler.yaml")
        .contains("image:\n  tag: v1.37.0\n"));
}

#[test]
fn an_application_name_over_63_characters_is_refused_at_the_add_ons_header() {
    // 26 characters of cluster name + `-` + the preset's 37.
    let cluster = "production-eu-west-1-green";
    let text = platform(
        &[
            ("[clusters.prod]", &format!("[clusters.{cluster}]")),
            ("cluster = \"prod\"", &format!("cluster = \"{cluster}\"")),
        ],
        "[addons.secrets-store-csi-driver-provider-aws]\nchart_version = \"3.1.1\"\n",
    );
    assert_eq!(
        fails(&text, &[]),
        r#"error[KG305]: add-on `secrets-store-csi-driver-provider-aws` of cluster `production-eu-west-1-green` would be the Argo CD Application `production-eu-west-1-green-secrets-store-csi-driver-provider-aws`, 64 characters; with label tracking Argo CD writes it as the `app.kubernetes.io/instance` label, which holds at most 63
  --> platform.toml:19:9
   |
19 | [addons.secrets-store-csi-driver-provider-aws]
   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: give the add-on a name of at most 36 characters and keep the chart with `preset`, e.g. `[addons.ascp]` with `preset = "secrets-store-csi-driver-provider-aws"`

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // As the help says.
    let (stderr, p) = renders(&text.replace(
        "[addons.secrets-store-csi-driver-provider-aws]\n",
        "[addons.ascp]\npreset = \"secrets-store-csi-driver-provider-aws\"\n",
    ));
    assert_eq!(stderr, "");
    assert!(p.exists(&format!("generated/argocd/{cluster}/application-ascp.yaml")));
}

/// Every preset at the version kgen checked it against, with what it needs, on a
/// cluster every one of them supports: no error, no warning but KG035 (Karpenter and
/// the Cluster Autoscaler together), every Application written,
/// and the committed tree is fresh (`render --check` exits 0); `validate` agrees.
#[test]
fn every_preset_with_what_it_needs_renders_without_a_word() {
    let text = platform(
        &[(
            "kubernetes_version = \"1.30\"\n",
            "kubernetes_version = \"1.30\"\nvars = { eks_name = \"acme-prod\" }\n",
        )],
        r#"[addons.aws-load-balancer-controller]
chart_version = "3.5.0"
iam_role = "arn:aws:iam::123456789012:role/alb"

[addons.cert-manager]
chart_version = "v1.21.1"

[addons.cluster-autoscaler]
chart_version = "9.59.0"
iam_role = "arn:aws:iam::123456789012:role/ca"

[addons.external-dns]
chart_version = "1.21.1"
domain_filters = ["example.com"]
iam_role = "arn:aws:iam::123456789012:role/dns"
values = { serviceAccount = { name = "external-dns" } }

[addons.external-secrets]
chart_version = "2.9.0"

[addons.fluent-bit]
chart_version = "0.2.0"

[addons.ingress-nginx]
chart_version = "4.15.1"
service_type = "NodePort"
node_ports = { http = 30080, https = 30443 }

[addons.karpenter]
chart_version = "1.14.1"

[addons.metrics-server]
chart_version = "3.13.1"

[addons.sealed-secrets]
chart_version = "2.18.5"

[addons.secrets-store-csi-driver]
chart_version = "1.6.0"

[addons.secrets-store-csi-driver-provider-aws]
chart_version = "3.1.1"
"#,
    );
    let p = Platform::new(&text, &[]);
    // Nothing but that Karpenter and the Cluster Autoscaler scale the same cluster.
    let both = r#"warning[KG035]: cluster `prod` runs both Karpenter (add-on `karpenter`) and the Cluster Autoscaler (add-on `cluster-autoscaler`): both add and remove its nodes, and each undoes what the other decides
  --> platform.toml:27:9
   |
27 | [addons.cluster-autoscaler]
   |         ^^^^^^^^^^^^^^^^^^
   = help: keep one: Karpenter for NodePools, the Cluster Autoscaler for managed node groups; to keep both while migrating, disable one on this cluster (`[clusters.prod.addons.cluster-autoscaler] enabled = false`) once its nodes are gone, and make sure they never scale the same nodes

"#;
    let out = p.kgen(&["validate"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, both), "{}", out.stdout);
    let out = p.kgen(&["render"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, both), "{}", out.stdout);
    for addon in [
        "aws-load-balancer-controller",
        "cert-manager",
        "cluster-autoscaler",
        "external-dns",
        "external-secrets",
        "fluent-bit",
        "ingress-nginx",
        "karpenter",
        "metrics-server",
        "sealed-secrets",
        "secrets-store-csi-driver",
        "secrets-store-csi-driver-provider-aws",
    ] {
        assert!(
            p.exists(&format!("generated/argocd/prod/application-{addon}.yaml")),
            "{addon}"
        );
    }
    let ca = p.read("generated/values/prod/cluster-autoscaler.yaml");
    assert!(ca.contains("  clusterName: acme-prod\n"), "{ca}");
    assert!(ca.contains("awsRegion: eu-west-1\n"), "{ca}");
    assert!(ca.contains("  tag: v1.30.7\n"), "{ca}");
    let out = p.kgen(&["render", "--check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// `kgen validate` runs the same checks: exit 2, the same diagnostic, nothing written.
#[test]
fn validate_refuses_what_render_refuses() {
    let text = platform(
        &[NO_AWS_REGION],
        "[addons.fluent-bit]\nchart_version = \"0.2.0\"\n",
    );
    let p = Platform::new(&text, &[]);
    let out = p.kgen(&["validate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error[KG004]: add-on `fluent-bit` has no `region`: the chart would send the logs to `us-east-1`, its default `cloudWatchLogs.region`\n  --> platform.toml:18:9\n"),
        "{}",
        out.stderr
    );
    assert!(!p.exists("generated"));
}

/// The ESO check names every environment whose `api_version` it refuses, grouped by
/// where it is written, and the cluster's ClusterSecretStores when it has some.
#[test]
fn v1beta1_external_secrets_are_refused_where_each_environment_sets_them() {
    let text = platform(
        &[
            (
                "aws_region = \"eu-west-1\"\n",
                "aws_region = \"eu-west-1\"\nsecrets_backend = \"external-secrets\"\n",
            ),
            (
                "[environments.prod]\ncluster = \"prod\"\n",
                "[environments.prod]\ncluster = \"prod\"\nnamespace = \"prod-{{ service }}\"\n\n[environments.stage]\ncluster = \"prod\"\nnamespace = \"stage-{{ service }}\"\n",
            ),
        ],
        r#"[baseline.secret_stores.aws]
provider = "secrets-manager"
namespaces = ["prod-api", "stage-api"]

[addons.external-secrets]
chart_version = "2.9.0"
"#,
    );
    let both = text.replace(
        "[baseline.secret_stores.aws]",
        "[external_secrets]\napi_version = \"v1beta1\"\n\n[baseline.secret_stores.aws]",
    );
    assert_eq!(
        fails(&both, &[]),
        r#"error[KG019]: environments `prod`, `stage` write their ExternalSecrets (and cluster `prod` its ClusterSecretStores) at `external-secrets.io/v1beta1`, which add-on `external-secrets` (chart 2.9.0) does not serve: its CRDs serve only `external-secrets.io/v1` since chart 0.17.0
  --> platform.toml:26:15
   |
26 | api_version = "v1beta1"
   |               ^^^^^^^^^
   = help: remove `api_version = "v1beta1"`: kgen then writes `v1`, which the operator serves since v0.16; or, while v1beta1 resources are migrated, serve it again with `values = { crds = { unsafeServeV1Beta1 = true } }` under `[addons.external-secrets]` (deprecated upstream)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // One environment's overlay: the error points there and names that one.
    let overlay = [(
        "stage",
        "[environment.external_secrets]\napi_version = \"v1beta1\"\n",
    )];
    assert_eq!(
        fails(&text, &overlay),
        r#"error[KG019]: environment `stage` writes its ExternalSecrets (and cluster `prod` its ClusterSecretStores) at `external-secrets.io/v1beta1`, which add-on `external-secrets` (chart 2.9.0) does not serve: its CRDs serve only `external-secrets.io/v1` since chart 0.17.0
 --> overlays/stage.toml:2:15
  |
2 | api_version = "v1beta1"
  |               ^^^^^^^^^
  = help: remove `api_version = "v1beta1"`: kgen then writes `v1`, which the operator serves since v0.16; or, while v1beta1 resources are migrated, serve it again with `values = { crds = { unsafeServeV1Beta1 = true } }` under `[addons.external-secrets]` (deprecated upstream)

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // At `v1`, the default, it renders.
    renders(&text);
}

/// An unknown key of a preset's table is helped with the keys that preset takes, in
/// platform.toml, a cluster's table and an overlay alike (KG002 is made where the TOML
/// is read, which knows every preset's keys).
#[test]
fn an_unknown_key_of_a_preset_lists_the_keys_it_takes() {
    let text = platform(
        &[(
            "kubernetes_version = \"1.30\"\n",
            "kubernetes_version = \"1.30\"\naddons = { metrics-server = { chart_version = \"3.13.1\", replica = 2 } }\n",
        )],
        "[addons.external-dns]\nchart_version = \"1.21.1\"\ndomain_filter = [\"acme.io\"]\n\n[monitoring]\nprometheus_replica = 2\n",
    );
    let err = fails(
        &text,
        &[("prod", "[addons.external-dns]\ntxt_owner = \"x\"\n")],
    );
    let helps: Vec<&str> = err
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("= help:") || l.starts_with("error[KG002]"))
        .collect();
    let external_dns = "= help: the keys the `external-dns` preset takes are: enabled, preset, chart, repo, chart_version, namespace, release, values, sync_wave, server_side_apply, iam_role, workload_identity, pod_security, resources, priority_class, tolerations, node_selector, domain_filters, txt_owner_id, policy";
    assert_eq!(
        helps,
        [
            "error[KG002]: unknown key `replica`",
            "= help: the keys the `metrics-server` preset takes are: enabled, preset, chart, repo, chart_version, namespace, release, values, sync_wave, server_side_apply, iam_role, workload_identity, pod_security, replicas, resources, priority_class, tolerations, node_selector",
            "error[KG002]: unknown key `domain_filter`",
            external_dns,
            // `[monitoring]` after an add-on's table keeps its own keys (newcomer
            // review 6, #7).
            "error[KG002]: unknown key `prometheus_replica`",
            "= help: the keys allowed here are: enabled, chart_version, chart_repo, namespace, retention, prometheus_storage, prometheus_replicas, grafana_storage, alertmanager_storage, alertmanager_replicas, storage_class, values",
            "error[KG002]: unknown key `txt_owner`",
            external_dns,
        ],
        "{err}"
    );
    assert!(
        err.contains("^^^^^^^^^^^^^ did you mean `domain_filters`?"),
        "{err}"
    );
    assert!(err.contains("^^^^^^^ did you mean `replicas`?"), "{err}");
}

/// KG306 for what an add-on's chart creates with its values: the AWS Load Balancer
/// Controller with `enableCertManager` creates cert-manager's Certificate (and Issuer,
/// unless `certManager.issuerRef` names one), whose CRDs cert-manager must install in
/// an earlier sync wave; both are in wave -3 unless the add-on says otherwise.
#[test]
fn alb_with_cert_manager_values_needs_cert_manager_installed_before_it() {
    let alb = |extra: &str| {
        platform(
            &[],
            &format!(
                r#"[addons.aws-load-balancer-controller]
chart_version = "3.5.0"
cluster_name = "acme-prod"
values = {{ enableCertManager = true{extra} }}

[addons.cert-manager]
chart_version = "v1.21.1"
"#
            ),
        )
    };
    // Same wave as cert-manager: a warning at `values`, and the render goes on.
    let (stderr, p) = renders(&alb(""));
    assert_eq!(
        stderr,
        r#"warning[KG306]: add-on `aws-load-balancer-controller` creates Certificate, Issuer (cert-manager.io) with its values (`enableCertManager`), custom resources whose CRDs no Application installs before it (bootstrap generated/argocd/prod/): its sync fails until they exist
  --> platform.toml:22:10
   |
22 | values = { enableCertManager = true }
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/argocd/prod/application-aws-load-balancer-controller.yaml: spec
   = help: `prod-cert-manager` installs them in sync wave -3, not before this add-on's -3: set `sync_wave = -2` on the add-on so that it syncs after; or leave out the values that create them

"#
    );
    assert!(p.exists("generated/argocd/prod/application-aws-load-balancer-controller.yaml"));
    // `validate` says the same, and exits 0 (a warning).
    let out = p.kgen(&["validate"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, stderr.as_str()));
    // After cert-manager's wave: nothing to say.
    let (stderr, p) = renders(&alb("").replace(
        "cluster_name = \"acme-prod\"\n",
        "cluster_name = \"acme-prod\"\nsync_wave = -2\n",
    ));
    assert_eq!(stderr, "");
    // cert-manager issues the webhook's certificate: nothing for Argo CD to ignore.
    let app = p.read("generated/argocd/prod/application-aws-load-balancer-controller.yaml");
    assert!(!app.contains("ignoreDifferences"), "{app}");
    assert!(!app.contains("RespectIgnoreDifferences"), "{app}");
    // cert-manager off on the cluster (the wave does not help then); an issuer of the
    // user's own: only the serving Certificate.
    let text =
        alb(", certManager = { issuerRef = { name = \"ca\", kind = \"ClusterIssuer\" } }").replace(
            "cluster_name = \"acme-prod\"\n",
            "cluster_name = \"acme-prod\"\nsync_wave = -1\n",
        ) + "\n[clusters.prod.addons.cert-manager]\nenabled = false\n";
    let (stderr, _) = renders(&text);
    assert_eq!(
        stderr,
        r#"warning[KG306]: add-on `aws-load-balancer-controller` creates Certificate (cert-manager.io) with its values (`enableCertManager`), custom resources whose CRDs no Application installs before it (bootstrap generated/argocd/prod/): its sync fails until they exist
  --> platform.toml:23:10
   |
23 | values = { enableCertManager = true, certManager = { issuerRef = { name = "ca", kind = "ClusterIssuer" } } }
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/argocd/prod/application-aws-load-balancer-controller.yaml: spec
   = help: install cert-manager (the `cert-manager` add-on preset) on cluster `prod`, in an earlier sync wave than this add-on's -1; or leave out the values that create them

"#
    );
    // `enableCertManager = false` creates nothing of cert-manager's.
    let (stderr, _) =
        renders(&alb("").replace("enableCertManager = true", "enableCertManager = false"));
    assert_eq!(stderr, "");
}

/// Without cert-manager, the AWS Load Balancer Controller's chart generates its webhook
/// certificate on each render (Helm's `genCA`), which Argo CD does on every commit: the
/// Application keeps the pair it applied first (argo20 review, #2).
#[test]
fn alb_keeps_the_webhook_certificate_it_generated_first() {
    let text = platform(
        &[],
        "[addons.aws-load-balancer-controller]\nchart_version = \"3.5.0\"\ncluster_name = \"acme-prod\"\n",
    );
    let (stderr, p) = renders(&text);
    assert_eq!(stderr, "");
    let app = p.read("generated/argocd/prod/application-aws-load-balancer-controller.yaml");
    assert!(
        app.contains(
            "  ignoreDifferences:
  - jsonPointers:
    - /data
    kind: Secret
    name: aws-load-balancer-tls
    namespace: ingress-system
  - group: admissionregistration.k8s.io
    jqPathExpressions:
    - .webhooks[]?.clientConfig.caBundle
    kind: MutatingWebhookConfiguration
    name: aws-load-balancer-webhook
  - group: admissionregistration.k8s.io
    jqPathExpressions:
    - .webhooks[]?.clientConfig.caBundle
    kind: ValidatingWebhookConfiguration
    name: aws-load-balancer-webhook
"
        ),
        "{app}"
    );
    assert!(
        app.contains("    - ApplyOutOfSyncOnly=true\n    - RespectIgnoreDifferences=true\n"),
        "{app}"
    );
    // A certificate given in the values is the same on every render.
    let (stderr, p) = renders(&text.replace(
        "cluster_name = \"acme-prod\"\n",
        "cluster_name = \"acme-prod\"\nvalues = { webhookTLS = { caCert = \"ca\", cert = \"crt\", key = \"k\" } }\n",
    ));
    assert_eq!(stderr, "");
    let app = p.read("generated/argocd/prod/application-aws-load-balancer-controller.yaml");
    assert!(!app.contains("ignoreDifferences"), "{app}");
}

/// The same check covers the ServiceMonitors (and PrometheusRules, PodMonitors) a
/// preset's chart creates when its values ask for them: the Prometheus Operator's
/// CRDs come with `[monitoring]` (wave -2), before external-dns (-1), after
/// cert-manager (-3).
#[test]
fn service_monitors_of_add_ons_need_the_prometheus_operator_before_them() {
    let text = platform(
        &[],
        r#"[addons.external-dns]
chart_version = "1.21.1"
domain_filters = ["example.com"]
values = { serviceMonitor = { enabled = true } }

[addons.cert-manager]
chart_version = "v1.21.1"
values = { prometheus = { servicemonitor = { enabled = true } } }
"#,
    );
    let (stderr, _) = renders(&text);
    assert_eq!(
        stderr,
        r#"warning[KG306]: add-on `external-dns` creates ServiceMonitor (monitoring.coreos.com) with its values (`serviceMonitor.enabled`), custom resources whose CRDs no Application installs before it (bootstrap generated/argocd/prod/): its sync fails until they exist
  --> platform.toml:22:10
   |
22 | values = { serviceMonitor = { enabled = true } }
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/argocd/prod/application-external-dns.yaml: spec
   = help: install the Prometheus Operator (kube-prometheus-stack, `[monitoring]`) on cluster `prod`, in an earlier sync wave than this add-on's -1; or leave out the values that create them

warning[KG306]: add-on `cert-manager` creates ServiceMonitor (monitoring.coreos.com) with its values (`prometheus.servicemonitor.enabled`), custom resources whose CRDs no Application installs before it (bootstrap generated/argocd/prod/): its sync fails until they exist
  --> platform.toml:26:10
   |
26 | values = { prometheus = { servicemonitor = { enabled = true } } }
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/argocd/prod/application-cert-manager.yaml: spec
   = help: install the Prometheus Operator (kube-prometheus-stack, `[monitoring]`) on cluster `prod` (it syncs at wave -2) and set `sync_wave = -1` on this add-on so that it syncs after; or leave out the values that create them

"#
    );
    // With `[monitoring]`, external-dns syncs after it; cert-manager does not.
    let (stderr, _) = renders(&format!(
        "{text}\n[monitoring]\nchart_version = \"77.0.0\"\n\n[baseline]\nprovided = {{ storage_classes = [\"gp3\"] }}\n{GRAFANA_ADMIN}"
    ));
    assert_eq!(
        stderr,
        r#"warning[KG306]: add-on `cert-manager` creates ServiceMonitor (monitoring.coreos.com) with its values (`prometheus.servicemonitor.enabled`), custom resources whose CRDs no Application installs before it (bootstrap generated/argocd/prod/): its sync fails until they exist
  --> platform.toml:26:10
   |
26 | values = { prometheus = { servicemonitor = { enabled = true } } }
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = in: generated/argocd/prod/application-cert-manager.yaml: spec
   = help: `prod-monitoring` installs them in sync wave -2, not before this add-on's -3: set `sync_wave = -1` on the add-on so that it syncs after; or leave out the values that create them

"#
    );
}

/// KG010: in an add-on's `values`, a `{ name, value }` entry (a chart's `env` or
/// `extraEnv`) has its value judged by its name, as a container's environment
/// variable is: a literal `DB_PASSWORD` is refused; a `LOG_LEVEL` passes (newcomer
/// review 6, #1).
#[test]
fn a_literal_password_in_an_add_on_env_list_is_refused() {
    let text = platform(
        &[],
        r#"[addons.podinfo]
chart = "podinfo"
repo = "https://stefanprodan.github.io/podinfo"
chart_version = "6.7.1"
namespace = "podinfo"
values = { extraEnv = [{ name = "LOG_LEVEL", value = "debug" }, { name = "DB_PASSWORD", value = "hunter2hunter2" }] }
"#,
    );
    let stderr = fails(&text, &[]);
    assert_eq!(
        stderr,
        r#"error[KG010]: `DB_PASSWORD` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
  --> platform.toml:24:97
   |
24 | values = { extraEnv = [{ name = "LOG_LEVEL", value = "debug" }, { name = "DB_PASSWORD", value = "**************" }] }
   |                                                                                                 ^^^^^^^^^^^^^^^^ secret-looking value
   = help: store the value in AWS Secrets Manager or SSM Parameter Store, bring it into the add-on's namespace as a Secret with an ExternalSecret (or write a SealedSecret) under manifests/clusters/<cluster>/, and give the chart that Secret's name: most charts take the name of an existing Secret instead of the value (`existingSecret`, `auth.existingSecret`: see the chart's values.yaml); see docs/security.md#secrets

error: 1 error; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
}

/// KG010: every string of an add-on's `values` is judged by its key too, as `env`
/// is, at the value's line: a chart's `adminPassword` or `auth.password` in plain
/// text is refused; references (`existingSecret`, `passwordSecretRef`), empty
/// strings, templates, booleans and numbers pass.
#[test]
fn a_literal_password_in_add_on_values_is_refused_where_it_is_written() {
    let text = platform(
        &[],
        r#"[addons.podinfo]
chart = "podinfo"
repo = "https://stefanprodan.github.io/podinfo"
chart_version = "6.7.1"
namespace = "podinfo"
cluster_kinds = []
values = { replicaCount = 2, auth = { password = "xK9#mP2$vL5q", existingSecret = "podinfo-auth" } }

[clusters.prod.addons.podinfo]
values = { adminPassword = "Tr0ub4dor&3-horse", passwordSecretRef = { name = "db", key = "password" }, token = "", redis = { enabled = true, port = 6379 } }
"#,
    );
    let stderr = fails(&text, &[]);
    assert_eq!(
        stderr,
        r#"error[KG010]: `password` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
  --> platform.toml:25:50
   |
25 | values = { replicaCount = 2, auth = { password = "************", existingSecret = "podinfo-auth" } }
   |                                                  ^^^^^^^^^^^^^^ secret-looking value
   = help: store the value in AWS Secrets Manager or SSM Parameter Store, bring it into the add-on's namespace as a Secret with an ExternalSecret (or write a SealedSecret) under manifests/clusters/<cluster>/, and give the chart that Secret's name: most charts take the name of an existing Secret instead of the value (`existingSecret`, `auth.existingSecret`: see the chart's values.yaml); see docs/security.md#secrets

error[KG010]: `adminPassword` looks like it holds a secret (a literal password); kgen refuses secrets in plain text
  --> platform.toml:28:28
   |
28 | values = { adminPassword = "*****************", passwordSecretRef = { name = "db", key = "password" }, token = "", redis = { enabled = true, port = 6379 } }
   |                            ^^^^^^^^^^^^^^^^^^^ secret-looking value
   = help: store the value in AWS Secrets Manager or SSM Parameter Store, bring it into the add-on's namespace as a Secret with an ExternalSecret (or write a SealedSecret) under manifests/clusters/<cluster>/, and give the chart that Secret's name: most charts take the name of an existing Secret instead of the value (`existingSecret`, `auth.existingSecret`: see the chart's values.yaml); see docs/security.md#secrets

error: 2 errors; nothing was written; the checks that need the whole platform, and the warnings of its objects, wait until these are fixed (docs/cli.md#problem-formats)
"#
    );
    // Without the two literals, the rest passes and is written as is.
    let text = text
        .replace("password = \"xK9#mP2$vL5q\", ", "")
        .replace("adminPassword = \"Tr0ub4dor&3-horse\", ", "");
    let (stderr, p) = renders(&text);
    assert_eq!(stderr, "");
    let values = p.read("generated/values/prod/podinfo.yaml");
    assert!(values.contains("existingSecret: podinfo-auth"), "{values}");
}
