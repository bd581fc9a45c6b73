#!/usr/bin/env bash
# Hook for .ci/run (which runs every scripts/ci-*.sh): an outside referee for the
# Kubernetes versions kgen supports. Every Kubernetes object kgen wrote in generated/
# (and, when examples/ exists, in a fresh render of every examples/**/platform.toml)
# is validated strictly (unknown fields are errors) against the published schemas of
# Kubernetes 1.29 (the oldest kgen supports, OLDEST_KUBERNETES in
# src/resolve/clusters.rs) and 1.33 (the API kgen's own validation uses), with
# kubernetes-validate from PyPI. Custom resources are left to tests/conformance.rs.
# Installs the validator into a virtual environment when missing; skips (exit 0,
# saying so) when it cannot be installed. docs/dependencies.md, "Kubernetes versions".
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: the schemas bundled with the validator, and the JSON Schema engine under it.
validator=1.37.0
engine=4.26.0
versions=(1.29 1.33)

venv="${TMPDIR:-/tmp}/kgen-kubernetes-validate-$validator"
installed() {
  "$venv/bin/python" - "$validator" "$engine" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
sys.exit(version("kubernetes-validate") != sys.argv[1] or version("jsonschema") != sys.argv[2])
PY
}
if ! installed; then
  if ! command -v python3 >/dev/null 2>&1; then
    echo "skipped: python3 is not installed, so kubernetes-validate cannot be installed"
    exit 0
  fi
  start=$(date +%s)
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" >/dev/null 2>&1 &&
         "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
           "kubernetes-validate==$validator" "jsonschema==$engine"; }; then
    rm -rf "$venv"
    echo "skipped: pip could not install kubernetes-validate $validator (see the messages above)"
    exit 0
  fi
  echo "installed kubernetes-validate $validator in $(( $(date +%s) - start ))s"
fi

trees=("generated=generated")

# Every platform under examples/, rendered afresh by this kgen into a scratch copy.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -d examples ]; then
  platforms=$(find examples -name platform.toml -not -path '*/generated/*' | sort)
  if [ -n "$platforms" ]; then
    kgen=${KGEN:-${CARGO_TARGET_DIR:-target}/debug/kgen}
    if [ ! -x "$kgen" ]; then
      cargo build --locked --quiet --bin kgen
    fi
    n=0
    while IFS= read -r platform; do
      dir=$(dirname "$platform")
      n=$((n + 1))
      copy="$work/$n"
      cp -R "$dir" "$copy"
      rm -rf "$copy/generated"
      if ! "$kgen" render --platform "$copy/platform.toml" >"$work/render.log" 2>&1; then
        cat "$work/render.log"
        echo "FAIL $platform does not render"
        exit 1
      fi
      trees+=("$copy/generated=$dir/generated")
    done <<<"$platforms"
  fi
fi

args=()
for v in "${versions[@]}"; do args+=(--version "$v"); done
echo "kubernetes-validate $validator (jsonschema $engine), strict, Kubernetes ${versions[*]}"
"$venv/bin/python" scripts/check-kube-versions.py "${args[@]}" "${trees[@]}"
