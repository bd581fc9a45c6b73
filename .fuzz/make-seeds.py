#!/usr/bin/env python3
"""Writes the seed corpora under .fuzz/seeds/ from the repository's test platforms.

usage: .fuzz/make-seeds.py   (from anywhere; rewrites .fuzz/seeds/)
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
MARK = "\n#@overlay "
FILE_MARK = "\n#@file "


def platform_input(platform, overlays):
    out = platform
    for env, text in overlays:
        out += MARK + env + "\n" + text
    return out


def with_files(text, files):
    """Appends the escape hatch's files (manifests/..., patch files) to a fuzz input."""
    for rel, body in files:
        text += FILE_MARK + rel + "\n" + body
    return text


def tree(d, sub):
    """Every file under d/sub, as (path relative to d, text)."""
    out = []
    for p in sorted(glob.glob(os.path.join(d, sub, "**", "*"), recursive=True)):
        if os.path.isfile(p):
            out.append((os.path.relpath(p, d).replace(os.sep, "/"), read(p)))
    return out


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def main():
    seeds = os.path.join(FUZZ, "seeds")
    shutil.rmtree(seeds, ignore_errors=True)
    for t in ("parse", "compile", "overlay_edit", "template"):
        os.makedirs(os.path.join(seeds, t))
    inputs = {}
    # The repository's own platform.
    overlays = [(os.path.basename(p)[:-5], read(p)) for p in sorted(glob.glob(os.path.join(ROOT, "overlays", "*.toml")))]
    inputs["example"] = platform_input(read(os.path.join(ROOT, "platform.toml")), overlays)
    # The minimal platform of the tests (tests/common/mod.rs).
    common = read(os.path.join(ROOT, "tests", "common", "mod.rs"))
    minimal = re.search(r'pub const MINIMAL: &str = r#"(.*?)"#;', common, re.S).group(1)
    inputs["minimal"] = minimal
    inputs["minimal-overlay"] = platform_input(minimal, [("dev", '[environment]\nvars = { a = "b" }\n[services.api]\ntag = "1.0.1"\nreplicas = 3\n')])
    # A synthetic platform (scripts/gen-platform.py).
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["python3", os.path.join(ROOT, "scripts", "gen-platform.py"), "3", d], check=True)
        ov = [(os.path.basename(p)[:-5], read(p)) for p in sorted(glob.glob(os.path.join(d, "overlays", "*.toml")))]
        inputs["synthetic"] = platform_input(read(os.path.join(d, "platform.toml")), ov)
    # The example platforms (examples/*/platform.toml and their overlays).
    for d in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "platform.toml"))):
        d = os.path.dirname(d)
        ov = [(os.path.basename(p)[:-5], read(p)) for p in sorted(glob.glob(os.path.join(d, "overlays", "*.toml")))]
        files = tree(d, "manifests") + tree(d, "patches")
        inputs["examples-" + os.path.basename(d)] = with_files(platform_input(read(os.path.join(d, "platform.toml")), ov), files)
    # The platforms the integration tests write (add-ons, baseline, escape hatch,
    # workloads...): every `const X: &str = r#"[platform]..."#;` in tests/*.rs; a
    # constant that is a TOML fragment (`[services.api.patches.waf]`...) is appended to
    # its file's first platform (or to MINIMAL), and an `[environment]` constant is
    # that platform's dev overlay.
    # The files a test writes under manifests/ and patches/ from a constant
    # (`("patches/gomemlimit.yaml", GOMEMLIMIT)`) go with its file's fragments.
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "*.rs"))):
        stem = os.path.basename(path)[:-3]
        source = read(path)
        consts = re.findall(r'const (\w+): &str = r(#+)"(.*?)"\2;', source, re.S)
        bodies = {name: body for name, _, body in consts}
        files = [(rel, bodies[c]) for rel, c in re.findall(r'\(\s*"((?:manifests|patches)/[^"]+)",\s*(\w+),?\s*\)', source) if c in bodies]
        files = list(dict.fromkeys(files))
        base = None
        for name, _, body in consts:
            lines = [l.strip() for l in body.splitlines() if l.strip() and not l.strip().startswith("#")]
            first = lines[0] if lines else ""
            if first == "[platform]":
                base = base or body
                inputs[f"tests-{stem}-{name}"] = body
            elif first == "[environment]":
                inputs[f"tests-{stem}-{name}"] = platform_input(base or minimal, [("dev", body)])
            elif first.startswith("["):
                inputs[f"tests-{stem}-{name}"] = with_files((base or minimal) + "\n" + body, files)
    for t in ("parse", "compile"):
        for name, text in inputs.items():
            with open(os.path.join(seeds, t, name), "w", encoding="utf-8") as f:
                f.write(text)
    # overlay_edit: every overlay under tests/ and overlays/, with a few edits each.
    overlay_files = sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.toml"), recursive=True))
    overlay_files += sorted(glob.glob(os.path.join(ROOT, "overlays", "*.toml")))
    edits = [(0, "1.2.3"), (1, "sha256:" + "ab" * 32), (2, ""), (4, "2.0.0"), (8, "v9")]
    for path in overlay_files:
        text = read(path)
        rel = os.path.relpath(path, ROOT).replace(os.sep, "_")
        for i, (ctrl, value) in enumerate(edits):
            with open(os.path.join(seeds, "overlay_edit", f"{rel}-{i}"), "wb") as f:
                f.write(bytes([ctrl]) + value.encode() + b"\n" + text.encode())
    # template: the documented forms.
    templates = [
        "{{ env.name }}/{{ service }}/db",
        "arn:aws:iam::{{ env.aws_account }}:role/{{ env.name }}-{{ service }}",
        "{% if env.production %}prod{% else %}{{ env.name|upper }}{% endif %}",
        "{% for i in range(3) %}{{ i }}-{% endfor %}",
        '{{ service|replace("-", "_")|title }}',
        '{{ [service, env.name]|join(".") }}',
        '{{ platform.registry|default("docker.io") }}',
        '{{ "a,b"|split(",")|list|length }}',
    ]
    # Issue 21: literals inside templates (scanned as secrets since).
    templates += [
        "{{ env.x | default('Tr1cky-Passw0rd-2024') }}",
        "{{ 'Tr1cky-Passw0rd-2024' }}",
    ]
    # The templates written in the seed platforms (`{{ namespaces['aux-service'] }}`,
    # `{{ cluster.aws_account }}`...): one per set of expressions.
    shapes = {tuple(re.findall(r"\{[{%].*?[}%]\}", t)) for t in templates}
    for text in inputs.values():
        for t in sorted(set(re.findall(r'"([^"\n]*\{[{%][^"\n]*)"', text))):
            shape = tuple(re.findall(r"\{[{%].*?[}%]\}", t))
            if shape not in shapes:
                shapes.add(shape)
                templates.append(t)
    for i, t in enumerate(templates):
        with open(os.path.join(seeds, "template", f"seed-{i}"), "w", encoding="utf-8") as f:
            f.write(t)


if __name__ == "__main__":
    main()
