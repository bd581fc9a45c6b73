#!/usr/bin/env bash
# Validates .github/workflows/*.yml and action.yml against the GitHub workflow and
# action schemas vendored by check-jsonschema (PyPI). Installs check-jsonschema into
# a virtual environment when it is not on PATH; if pip cannot install it (no Python,
# no network), says so and skips instead of failing.
set -euo pipefail
cd "$(dirname "$0")/.."

workflows=(.github/workflows/*.yml)
actions=(action.yml)

if ! command -v check-jsonschema >/dev/null 2>&1; then
  venv="${TMPDIR:-/tmp}/kgen-check-jsonschema"
  if [ ! -x "$venv/bin/check-jsonschema" ]; then
    if ! command -v python3 >/dev/null 2>&1; then
      echo "skipped: python3 is not installed, so check-jsonschema cannot be installed"
      exit 0
    fi
    if ! { python3 -m venv "$venv" >/dev/null 2>&1 \
           && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'check-jsonschema>=0.29'; }; then
      echo "skipped: pip could not install check-jsonschema (see the messages above)"
      exit 0
    fi
  fi
  PATH="$venv/bin:$PATH"
fi

check-jsonschema --version
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
check-jsonschema --builtin-schema vendor.github-actions "${actions[@]}"
