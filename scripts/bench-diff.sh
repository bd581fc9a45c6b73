#!/usr/bin/env bash
# Benchmark of `kgen diff`: two commits of a synthetic platform of N services x 3
# environments (scripts/gen-platform.py) that differ in ten services (their image tag
# in every environment). Prints the wall time of each run and the best and median.
#
# usage: scripts/bench-diff.sh [N] [RUNS]     (defaults: 1000 services, 5 runs)
# env:   KGEN=path/to/kgen to skip the release build.
# Target: under one second for 1,000 services x 3 environments.
set -euo pipefail

n=${1:-1000}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${KGEN:-}" ]]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    KGEN="$root/target/release/kgen"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
python3 "$root/scripts/gen-platform.py" "$n" "$work"
git init --quiet --initial-branch=main
git config user.name bench
git config user.email bench@kgen.invalid
"$KGEN" render >/dev/null
git add -A && git commit --quiet -m "base: $n services"

# Ten services get a new tag in every environment.
for f in overlays/*.toml; do
    python3 - "$f" <<'EOF'
import re, sys
path = sys.argv[1]
text = open(path).read()
for i in range(10):
    text = re.sub(rf'(\[services\.svc-{i:05d}\]\ntag = )"[^"]*"', r'\g<1>"9.9.9"', text)
open(path, "w").write(text)
EOF
done
"$KGEN" render >/dev/null
git add -A && git commit --quiet -m "head: ten services changed"

files=$(git ls-files generated | wc -l)
echo "platform: $n services x 3 environments, $files files under generated/"
"$KGEN" diff --base HEAD~1 --head HEAD --format json |
    python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("diff: %(changed)d changed, %(added)d added, %(removed)d removed, %(unchanged)d unchanged" % s)'

bench() {
    local label=$1; shift
    local times=()
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(date +%s%N)
        "$KGEN" "$@" >/dev/null
        t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000000 )))
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    local best median
    best=$(echo "$sorted" | head -1)
    median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
    echo "$label: best ${best} ms, median ${median} ms (runs: ${times[*]})"
}

bench "kgen diff --base HEAD~1 --head HEAD (text)" diff --base HEAD~1 --head HEAD
bench "kgen diff --base HEAD~1 (working tree, text)" diff --base HEAD~1
bench "kgen diff --base HEAD~1 --head HEAD --format markdown" diff --base HEAD~1 --head HEAD --format markdown
