#!/usr/bin/env python3
"""Render the real kube-prometheus-stack chart with the values kgen wrote, and check that
the monitoring Application's AppProject admits exactly what it creates.

    pip install helm-python-sdk==0.2.2 pyyaml     # Helm's Go SDK as a library: no helm binary
    helm pull prometheus-community/kube-prometheus-stack --version 77.0.0 --untar -d /tmp/chart
    scripts/check-monitoring-chart.py --chart /tmp/chart/kube-prometheus-stack

--chart is the chart with its dependencies under charts/ (what `helm pull` gives, as a
directory or a .tgz). For every cluster with generated/argocd/<cluster>/application-monitoring.yaml it:

1. checks the chart's version is the Application's targetRevision;
2. renders the chart as Argo CD does (release name and namespace from the Application,
   the values file from generated/values/<cluster>/monitoring.yaml, CRDs included, Helm test
   hooks left out: Argo CD runs no hook it cannot map to a sync phase);
3. lists every object outside the release namespace or cluster-scoped (the footprint) and
   compares it with tests/fixtures/monitoring/kube-prometheus-stack-<version>.txt, which
   `cargo test` compares with `monitoring::CHART_FOOTPRINT` (--write rewrites the file);
4. checks the Application's AppProject (generated/argocd/<cluster>/appproject-<project>.yaml):
   every namespace the chart writes into is a destination on the cluster,
   clusterResourceWhitelist is exactly Namespace plus the chart's cluster-scoped kinds, and
   no destination on that cluster is other than kgen's own namespaces (of the Applications
   in that project) or the chart's. (`kgen render` checks the same offline, KG302, against
   `monitoring::CHART_FOOTPRINT`; this checks the footprint itself against the chart.)

Exit 0 when all hold, 1 with a list of differences otherwise, 2 on a usage problem.
Nothing here reaches a cluster or the network.
"""

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
FIXTURES = ROOT / "tests" / "fixtures" / "monitoring"

# Kinds that are cluster-scoped: an object of one of these without a namespace is at
# cluster scope; an object of any other kind without one goes to the release namespace.
CLUSTER_SCOPED = {
    "APIService", "CSIDriver", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "IngressClass", "MutatingWebhookConfiguration", "Namespace",
    "PersistentVolume", "PodSecurityPolicy", "PriorityClass", "RuntimeClass", "StorageClass",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
}
# helm.sh/hook values Argo CD does not run (docs/user-guide/helm.md, "Helm Hooks"): an
# object whose hooks are all of these is never applied.
UNSUPPORTED_HOOKS = {"test", "test-success", "test-failure", "pre-rollback", "post-rollback"}


def yaml_docs(text):
    """The documents of a YAML stream (PyYAML's safe loader, with a plain `=` a string:
    the CRDs have `- =` in enums, which YAML 1.1 reads as its `value` tag)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("tag:yaml.org,2002:value", Loader.construct_yaml_str)
    return [d for d in yaml.load_all(text, Loader=Loader) if d]


def load_yaml_docs(path):
    return yaml_docs(pathlib.Path(path).read_text(encoding="utf-8"))


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def kind_dot_group(group, kind):
    return f"{kind}.{group}" if group else kind


def applied_by_argocd(doc):
    hooks = ((doc.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook")
    if hooks is None or hooks.strip() == "crd-install":
        return True
    types = {h.strip() for h in hooks.split(",") if h.strip()}
    return bool(types - UNSUPPORTED_HOOKS)


def render(chart_path, values, release, namespace):
    """(template path, object) for every object Argo CD would apply."""
    import helm_python as helm

    out = []
    with helm.Chart.load(str(chart_path)) as chart:
        merged = chart.merge_values(values)
        version = chart.version
        rendered = chart.render(values, name=release, namespace=namespace, is_install=True)
        crds = chart.crds if (merged.get("crds") or {}).get("enabled", True) else []
    prefix = chart_name = None
    for path in sorted(rendered):
        chart_name = path.split("/")[0]
        prefix = chart_name + "/"
        base = path.rsplit("/", 1)[-1]
        if not base.endswith((".yaml", ".yml")) or base.startswith("_"):
            continue  # NOTES.txt, helpers
        for doc in yaml_docs(rendered[path]):
            if applied_by_argocd(doc):
                out.append((path[len(prefix):], doc))
    for crd in crds:
        for doc in yaml_docs(crd["data"]):
            out.append((crd["filename"][len(prefix or ""):], doc))
    return version, out


def footprint(objects, release_namespace):
    """Sorted lines, one per object outside the release namespace or cluster-scoped."""
    lines = []
    for template, doc in objects:
        meta = doc.get("metadata") or {}
        kind = doc["kind"]
        group = group_of(doc["apiVersion"])
        ns = meta.get("namespace")
        if ns is None and kind not in CLUSTER_SCOPED:
            ns = release_namespace
        if ns == release_namespace:
            continue
        hook = (meta.get("annotations") or {}).get("helm.sh/hook")
        line = f"{ns or '-'} {kind_dot_group(group, kind)} {meta['name']} {template}"
        if hook:
            line += f" hook={hook.replace(' ', '')}"
        lines.append((ns or "-", kind_dot_group(group, kind), meta["name"], line))
    return [t[-1] for t in sorted(lines)]


def kgen_namespaces(env):
    """The namespaces of kgen's own objects in generated/<env>/."""
    found = set()
    for path in sorted((GENERATED / env).rglob("*.yaml")):
        for doc in load_yaml_docs(path):
            meta = doc.get("metadata") or {}
            if doc.get("kind") == "Namespace":
                found.add(meta["name"])
            elif meta.get("namespace"):
                found.add(meta["namespace"])
    return found


def destination_of(spec):
    """An Application's destination cluster: its server, else its name."""
    d = spec["destination"]
    return d.get("server") or d.get("name")


def project_namespaces(cluster, project):
    """The namespaces kgen's own Applications of `project` on `cluster` deploy into:
    those of the environments whose ApplicationSet is in the cluster's directory, and
    the cluster's shared namespaces."""
    found = set()
    for path in sorted((GENERATED / "argocd" / cluster).glob("applicationset-*.yaml")):
        doc = load_yaml_docs(path)[0]
        if doc["spec"]["template"]["spec"]["project"] == project:
            found |= kgen_namespaces(doc["metadata"]["name"])
    shared = GENERATED / "clusters" / cluster / "namespaces"
    if shared.is_dir():
        found |= {p.stem for p in shared.glob("*.yaml")}
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chart", required=True, help="kube-prometheus-stack chart (dir or .tgz)")
    parser.add_argument("--cluster", dest="env", action="append", help="only this cluster (repeatable)")
    parser.add_argument("--write", action="store_true", help="rewrite the fixture")
    args = parser.parse_args()
    try:
        import helm_python  # noqa: F401
        import yaml  # noqa: F401
    except ImportError as e:
        print(f"{e}: pip install helm-python-sdk==0.2.2 pyyaml", file=sys.stderr)
        return 2

    envs = args.env or sorted(
        p.parent.name for p in (GENERATED / "argocd").glob("*/application-monitoring.yaml")
    )
    if not envs:
        print("no cluster has a monitoring Application", file=sys.stderr)
        return 2
    problems = []
    footprints = {}
    for env in envs:
        app = load_yaml_docs(GENERATED / "argocd" / env / "application-monitoring.yaml")[0]
        chart_src = next(s for s in app["spec"]["sources"] if s.get("chart"))
        release = chart_src["helm"]["releaseName"]
        namespace = app["spec"]["destination"]["namespace"]
        values = load_yaml_docs(GENERATED / "values" / env / "monitoring.yaml")[0]
        version, objects = render(args.chart, values, release, namespace)
        if version != chart_src["targetRevision"]:
            problems.append(
                f"{env}: the chart is {version}, the Application pins {chart_src['targetRevision']}"
            )
            continue
        lines = footprint(objects, namespace)
        footprints[env] = (version, lines)
        print(f"{env}: {len(objects)} objects, {len(lines)} outside namespace {namespace}")

        # The AppProject.
        project, cluster = app["spec"]["project"], destination_of(app["spec"])
        path = GENERATED / "argocd" / env / f"appproject-{project}.yaml"
        if not path.exists():
            problems.append(f"{env}: no {path.relative_to(ROOT)}")
            continue
        proj = load_yaml_docs(path)[0]
        spec = proj["spec"]
        dests = {
            d.get("namespace", "")
            for d in spec.get("destinations", [])
            if (d.get("server") or d.get("name")) == cluster
        }
        chart_ns = {namespace} | {l.split(" ")[0] for l in lines if not l.startswith("- ")}
        for ns in sorted(chart_ns - dests):
            problems.append(f"{env}: the chart writes into {ns}, which {path.relative_to(ROOT)} does not admit")
        mine = project_namespaces(env, project)
        for ns in sorted(dests - chart_ns - mine):
            problems.append(f"{env}: {path.relative_to(ROOT)} admits {ns}, which neither kgen nor the chart writes into")
        whitelist = {kind_dot_group(g["group"], g["kind"]) for g in spec.get("clusterResourceWhitelist", [])}
        chart_kinds = {l.split(" ")[1] for l in lines if l.startswith("- ")}
        want = chart_kinds | {"Namespace"}
        for k in sorted(want - whitelist):
            problems.append(f"{env}: the chart creates {k}, which {path.relative_to(ROOT)} does not admit")
        for k in sorted(whitelist - want):
            problems.append(f"{env}: {path.relative_to(ROOT)} admits {k}, which neither kgen nor the chart creates")

    # The fixture `cargo test` compares with monitoring::CHART_FOOTPRINT.
    by_version = {}
    for env, (version, lines) in footprints.items():
        by_version.setdefault(version, {}).setdefault(tuple(lines), []).append(env)
    for version, variants in by_version.items():
        if len(variants) > 1:
            problems.append(f"{version}: environments differ in footprint: {list(variants.values())}")
            continue
        lines = list(next(iter(variants)))
        fixture = FIXTURES / f"kube-prometheus-stack-{version}.txt"
        text = (
            f"# kube-prometheus-stack {version} rendered with the values kgen writes: every object\n"
            "# outside the release namespace (namespace, Kind.group, name, template, Helm hook;\n"
            "# `-`: cluster-scoped). Written by scripts/check-monitoring-chart.py --write;\n"
            "# cargo test checks monitoring::CHART_FOOTPRINT against it.\n"
            + "".join(l + "\n" for l in lines)
        )
        if args.write:
            FIXTURES.mkdir(parents=True, exist_ok=True)
            fixture.write_text(text, encoding="utf-8")
            print(f"wrote {fixture.relative_to(ROOT)}")
        elif not fixture.exists() or fixture.read_text(encoding="utf-8") != text:
            problems.append(
                f"{fixture.relative_to(ROOT)} is not the chart's footprint (run with --write, then "
                "update monitoring::CHART_FOOTPRINT):\n" + "".join("    " + l + "\n" for l in lines)
            )

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print("the AppProjects admit exactly what the chart creates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
