#!/usr/bin/env bash
# Builds the kgen binary users get (Cargo.toml's `dist` profile) with profile-guided
# optimisation: an instrumented build first, which runs the training workload below and
# records which branches and calls are hot; then the real build, which lays out and
# inlines the code by those counts. docs/performance.md ("Session 9") has the figures.
#
#   scripts/pgo-build.sh [--target TRIPLE]
#
# It prints the path of the binary on its last line of stdout. Needs rustup's
# `llvm-tools` component (for llvm-profdata, matching rustc's LLVM): it is added when
# missing. The instrumented binary must run on this machine, so TRIPLE must be one this
# machine runs (the release workflow builds natively for each target).
#
# The training workload renders this repository's platform and every example, into an
# empty tree, again (nothing to write) and with --check; validates them; runs
# `cmp generate` as the Argo CD plugin does; and renders a generated platform of 300
# services (scripts/gen-platform.py, when python3 is there). Each platform is copied
# (without generated/) to a scratch directory: the repository is not touched.
#
#   CARGO_TARGET_DIR   as for cargo (default target/); the instrumented build goes to
#                      its `pgo-generate` subdirectory, so that the two builds do not
#                      rebuild each other's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

target_args=()
triple=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) triple="$2"; target_args=(--target "$2"); shift 2 ;;
    *) echo "pgo-build.sh: unknown argument \`$1\` (usage: scripts/pgo-build.sh [--target TRIPLE])" >&2; exit 2 ;;
  esac
done

sysroot=$(rustc --print sysroot)
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  echo "pgo-build.sh: adding rustup's llvm-tools component (llvm-profdata)" >&2
  rustup component add llvm-tools >&2
fi

out=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fixed path: it is part of the instrumented build's flags, which a new path would
# rebuild from scratch.
profiles="$out/pgo-generate/profiles"

bin_path() { # $1: target dir
  if [ -n "$triple" ]; then echo "$1/$triple/dist/kgen"; else echo "$1/dist/kgen"; fi
}

echo "pgo-build.sh: instrumented build" >&2
CARGO_TARGET_DIR="$out/pgo-generate" RUSTFLAGS="-Cprofile-generate=$profiles" \
  cargo build --profile dist --locked ${target_args[@]+"${target_args[@]}"} --bin kgen >&2
trainee=$(bin_path "$out/pgo-generate")

# The training workload, on a copy of each platform without its generated/ tree. Every
# step must succeed: a profile from a binary that failed early would leave most of kgen
# cold, silently.
train() { # $1: directory holding platform.toml, $2: a name for its copy
  local dir="$work/platforms/$2"
  mkdir -p "$dir"
  local entry
  for entry in "$1"/* "$1"/.[!.]*; do
    [ -e "$entry" ] || continue
    case "${entry##*/}" in
      generated | target | .git | examples) ;;
      *) cp -R "$entry" "$dir/" ;;
    esac
  done
  # (`&&`, not `set -e`: errexit does not apply inside an `if` condition.)
  if ! (
    cd "$dir" &&
      "$trainee" render -q &&
      "$trainee" render -q &&
      "$trainee" render --check -q &&
      "$trainee" validate -q
  ) >"$work/train.log" 2>&1; then
    cat "$work/train.log" >&2
    echo "pgo-build.sh: training on $1 failed (above)" >&2
    exit 1
  fi
}

echo "pgo-build.sh: training" >&2
rm -rf "$profiles"
mkdir -p "$profiles"
train "$root" repository
for example in "$root"/examples/*/platform.toml; do
  dir=$(dirname "$example")
  train "$dir" "example-$(basename "$dir")"
done
# As the Argo CD plugin runs it: the manifests of one service of one environment on
# stdout, for each service of the repository's first environment (its directories in
# generated/ are the services', and the monitoring's, which is not one: at least one
# run must succeed).
(
  cd "$work/platforms/repository"
  overlays=(overlays/*.toml)
  env_name=$(basename "${overlays[0]}" .toml)
  ran=0
  for dir in generated/"$env_name"/*/; do
    if ARGOCD_ENV_KGEN_ENV="$env_name" ARGOCD_ENV_KGEN_SERVICE="$(basename "$dir")" \
      "$trainee" cmp generate >/dev/null 2>&1; then
      ran=$((ran + 1))
    fi
  done
  [ "$ran" -gt 0 ] || { echo "pgo-build.sh: \`cmp generate\` failed for every service of $env_name" >&2; exit 1; }
)
if command -v python3 >/dev/null; then
  python3 scripts/gen-platform.py 300 "$work/generated-300" >/dev/null
  train "$work/generated-300" generated-300
fi

merged="$work/merged.profdata"
"$profdata" merge -o "$merged" "$profiles" >&2

echo "pgo-build.sh: optimised build" >&2
RUSTFLAGS="-Cprofile-use=$merged" \
  cargo build --profile dist --locked ${target_args[@]+"${target_args[@]}"} --bin kgen >&2
bin_path "$out"
