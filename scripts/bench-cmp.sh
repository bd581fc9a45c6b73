#!/usr/bin/env bash
# Benchmark of `kgen cmp generate` (the Argo CD plugin): one application rendered the
# way the plugin server runs it, on this repository's platform and on a synthetic
# platform of N services x 3 environments (scripts/gen-platform.py). Prints the
# median and best wall time of RUNS runs, and the peak memory of one run.
#
# usage: scripts/bench-cmp.sh [N] [RUNS]     (defaults: 1000 services, 20 runs)
# env:   KGEN=path/to/kgen to skip the release build.
# Targets: under 10 ms on the example platform, under 50 ms with 1,000 services.
set -euo pipefail

n=${1:-1000}
runs=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${KGEN:-}" ]]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin kgen
    KGEN="$root/target/release/kgen"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/example" "$work/synthetic"
cp -r "$root/platform.toml" "$root/overlays" "$work/example/"
python3 "$root/scripts/gen-platform.py" "$n" "$work/synthetic"

# bench LABEL DIR ENV SERVICE
bench() {
    local label=$1 dir=$2 env=$3 svc=$4
    local run=(env -i PATH="$PATH" ARGOCD_APP_NAME="$env-$svc" ARGOCD_APP_SOURCE_PATH=.
        ARGOCD_ENV_KGEN_ENV="$env" ARGOCD_ENV_KGEN_SERVICE="$svc" "$KGEN" cmp generate)
    (cd "$dir" && "${run[@]}" >/dev/null) # warm the page cache
    local times=()
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(date +%s%N)
        (cd "$dir" && "${run[@]}" >/dev/null)
        t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000 )))
    done
    local sorted best median
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    best=$(head -1 <<<"$sorted")
    median=$(sed -n "$(( (runs + 1) / 2 ))p" <<<"$sorted")
    local rss=""
    if [[ -x /usr/bin/time ]]; then
        rss=$(cd "$dir" && /usr/bin/time -f '%M' "${run[@]}" 2>&1 >/dev/null | tail -1)
        rss=", peak RSS $(( rss / 1024 )) MiB"
    fi
    printf '%-40s median %6.1f ms, best %6.1f ms (%d runs%s)\n' "$label" \
        "$(bc -l <<<"$median/1000" 2>/dev/null || echo "$median")" \
        "$(bc -l <<<"$best/1000" 2>/dev/null || echo "$best")" "$runs" "$rss"
}

bench "example: prod/aux-service" "$work/example" prod aux-service
bench "example: dev/main-api" "$work/example" dev main-api
bench "$n services: prod/svc-00000" "$work/synthetic" prod svc-00000
bench "$n services: dev/svc-$(printf %05d $((n - 1)))" "$work/synthetic" dev "svc-$(printf %05d $((n - 1)))"
