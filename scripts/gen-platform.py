#!/usr/bin/env python3
"""Writes a synthetic kgen platform of N services x 3 environments into DIR.

Realistic on purpose: every service has an image, env vars, config entries with
templates, probes, autoscaling, and every third one an IRSA role and two secrets
(Secrets Manager + SSM), so each service renders 6 or 7 objects per environment.
Overlays set per-environment tags and replicas for every service.

With CALLS=1 in the environment, every service also `calls` the next three (so each
is called by the previous three) and NetworkPolicies are on with restricted egress:
each service gets a NetworkPolicy admitting its callers and allowing egress to its
callees, and each namespace a default-deny policy (3 more files per service and
environment). Without it the output is unchanged.

usage: [CALLS=1] scripts/gen-platform.py N DIR
"""
import os
import sys


def main() -> None:
    n = int(sys.argv[1])
    out = sys.argv[2]
    calls = os.environ.get("CALLS", "") not in ("", "0")
    os.makedirs(os.path.join(out, "overlays"), exist_ok=True)
    p = [
        "[platform]",
        'name = "bench"',
        'repo = "https://github.com/acme/bench.git"',
        'registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"',
        'aws_region = "eu-west-1"',
        "",
        "[defaults]",
        "port = 8000",
        'probes = { liveness = "/health", readiness = "/ready" }',
        'resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "500m", memory = "256Mi" } }',
        "autoscaling = { min = 2, max = 5, cpu = 70 }",
        "",
    ]
    if calls:
        p += ["[network_policy]", 'egress = "restricted"', ""]
    envs = [("dev", "auto", "111111111111"), ("staging", "auto", "222222222222"), ("prod", "manual", "333333333333")]
    for name, sync, account in envs:
        p += [
            f"[environments.{name}]",
            # A cluster of its own: the environments deploy the same namespaces.
            f'cluster = "https://{name}.k8s.acme.io"',
            f'sync = "{sync}"',
            f'vars = {{ aws_account = "{account}", domain = "{name}.acme.io" }}',
            "",
        ]
    for i in range(n):
        s = f"svc-{i:05d}"
        p += [
            f"[services.{s}]",
            f'image = "acme/{s}"',
            f'env = {{ LOG_LEVEL = "info", PEER_URL = "http://svc-{(i + 1) % n:05d}.svc-{(i + 1) % n:05d}.svc.cluster.local:8000" }}',
            'config = { ENVIRONMENT = "{{ env.name }}", SERVICE = "{{ service }}", DOMAIN = "{{ service }}.{{ env.domain }}" }',
        ]
        if calls:
            callees = ", ".join(f'"svc-{(i + k) % n:05d}"' for k in (1, 2, 3) if k < n)
            if callees:
                p.append(f"calls = [{callees}]")
        if i % 3 == 0:
            p += [
                'iam_role = "arn:aws:iam::{{ env.aws_account }}:role/{{ env.name }}-{{ service }}"',
                "secrets = [",
                '  { name = "db-password", from = "secretsmanager", key = "{{ env.name }}/{{ service }}/db", json_key = "password" },',
                '  { name = "api-endpoint", from = "ssm", key = "/{{ env.name }}/{{ service }}/endpoint" },',
                "]",
            ]
        p.append("")
    with open(os.path.join(out, "platform.toml"), "w") as f:
        f.write("\n".join(p))
    for e, (name, _, _) in enumerate(envs):
        o = []
        for i in range(n):
            o += [f"[services.svc-{i:05d}]", f'tag = "1.{e}.{i % 50}"']
            if name == "prod":
                o.append("autoscaling = { min = 3, max = 10 }")
            o.append("")
        with open(os.path.join(out, "overlays", f"{name}.toml"), "w") as f:
            f.write("\n".join(o))


if __name__ == "__main__":
    main()
