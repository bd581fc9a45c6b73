#!/usr/bin/env bash
# Whole-process benchmark of kgen: for N = 100, 1,000 and 5,000 services x 3
# environments, times each scenario with /usr/bin/time (wall seconds and max RSS),
# median of RUNS runs, and prints a Markdown table (docs/performance.md holds one).
#
#   scripts/bench.sh [N...]        default: 100 1000 5000; RUNS=5 by default
#   CALLS=1 scripts/bench.sh ...   platforms whose services call each other, with
#                                  NetworkPolicies (read by scripts/gen-platform.py)
#
# Scenarios:
#   full     kgen render into an empty generated/
#   noop     kgen render again, nothing changed (writes zero files)
#   one-tag  kgen render after one service's tag changed in one overlay
#   check    kgen render --check on a fresh tree
#   cmp      kgen cmp generate for one application (when the command exists)
#   cp       cp -r of the rendered tree: the file system's floor for `full`
#
# The platforms live in memory (/dev/shm) when the machine has it, so that the
# figures are kgen's and not the disk's; BENCH_DIR=path puts them elsewhere (e.g. on
# the disk a repository lives on). N = 5,000 runs min(RUNS, 3) times, so the whole
# script takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)
runs=${RUNS:-5}
cargo build --release --quiet
kgen=$PWD/target/release/kgen
base=${BENCH_DIR:-}
if [ -z "$base" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  base=/dev/shm
fi
work=$(mktemp -d "${base:-${TMPDIR:-/tmp}}/kgen-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "platforms in $work ($(df -P "$work" | awk 'NR==2 {print $1}'))"
results=$work/results.tsv
: >"$results"

measure() { # scenario n setup-cmd cmd...
  local scenario=$1 n=$2 setup=$3
  shift 3
  local times=$runs
  [ "$n" -lt 5000 ] || [ "$times" -le 3 ] || times=3
  for _ in $(seq "$times"); do
    (cd "$dir" && eval "$setup")
    (cd "$dir" && /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1) || true
    echo -e "$scenario\t$n\t$(cat "$work/t")" >>"$results"
  done
}

for n in "${sizes[@]}"; do
  dir=$work/p$n
  python3 scripts/gen-platform.py "$n" "$dir"
  measure full "$n" "rm -rf generated" "$kgen" render
  measure noop "$n" "true" "$kgen" render
  # Alternate the tag of one service so every run rewrites that service's files.
  measure one-tag "$n" "sed -i '0,/tag = \"1.0.0\"/s//tag = \"9.9.9\"/;t;0,/tag = \"9.9.9\"/s//tag = \"1.0.0\"/' overlays/dev.toml" "$kgen" render
  "$kgen" render --platform "$dir/platform.toml" >/dev/null
  measure check "$n" "true" "$kgen" render --check
  measure cp "$n" "rm -rf ../copy" cp -r generated ../copy
  rm -rf "$work/copy"
  if "$kgen" cmp --help >/dev/null 2>&1; then
    measure cmp "$n" "true" env ARGOCD_ENV_KGEN_ENV=dev ARGOCD_ENV_KGEN_SERVICE=svc-00000 "$kgen" cmp generate
  fi
done

# cmp on this repository's own platform: a few milliseconds, below /usr/bin/time's
# resolution, so timed here with the shell's clock (microseconds), 20 runs.
example=$work/example
mkdir -p "$example"
cp -r platform.toml overlays "$example/"
cmp_times=()
for _ in $(seq 20); do
  start=$EPOCHREALTIME
  (cd "$example" && ARGOCD_ENV_KGEN_ENV=dev ARGOCD_ENV_KGEN_SERVICE=main-api "$kgen" cmp generate >/dev/null)
  end=$EPOCHREALTIME
  cmp_times+=("$(python3 -c "print(($end - $start) * 1000)")")
done

python3 - "$results" "$runs" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    scenario, n, wall, rss = line.split()
    rows[(scenario, int(n))].append((float(wall), int(rss)))
ns = sorted({n for _, n in rows})
scenarios = [s for s in ["full", "noop", "one-tag", "check", "cmp", "cp"] if any((s, n) in rows for n in ns)]
print(f"median of {sys.argv[2]} runs (3 at N = 5,000); wall seconds / max RSS MB")
print()
print("| scenario | " + " | ".join(f"N = {n:,}" for n in ns) + " |")
print("|---|" + "---|" * len(ns))
for s in scenarios:
    cells = []
    for n in ns:
        v = rows.get((s, n))
        if not v:
            cells.append("-")
            continue
        wall = statistics.median(w for w, _ in v)
        rss = statistics.median(r for _, r in v) / 1024
        cells.append(f"{wall:.3f} s / {rss:.0f} MB")
    print(f"| {s} | " + " | ".join(cells) + " |")
PY
python3 -c 'import statistics, sys; t = sorted(map(float, sys.argv[1:])); print(f"\ncmp generate on this repository platform (dev/main-api), 20 runs: median {statistics.median(t):.1f} ms, best {t[0]:.1f} ms")' "${cmp_times[@]}"
