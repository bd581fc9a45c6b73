#!/usr/bin/env bash
# kgen against peers on one workload, run alternately so that the machine's load
# falls on every contestant alike: N services x 3 environments (scripts/gen-platform.py;
# benches/peer/platform.jsonnet renders the same services for jrsonnet).
#
#   scripts/bench-peer.sh [N]          default N = 1000, RUNS=7 rounds
#
# Each round runs, one after the other: kgen `full` (render into an empty tree),
# `cp -r` of kgen's tree (the file system's floor for writing it), jrsonnet (when
# installed: `cargo install jrsonnet --version 0.5.0-pre98 --locked`), kgen `noop`
# (render again, nothing changed) and `check` (`render --check`); with KGEN_BASE=path
# (another kgen build, e.g. main's) its full, noop and check too. It prints the median
# wall time and max RSS of each, and ratios against cp and jrsonnet.
#
#   KGEN=path        kgen binary (default: target/release/kgen, built here)
#   KGEN_BASE=path   a second kgen binary, measured alike, with ratios new/base
#   JRSONNET=path    jrsonnet binary (default: from PATH)
#   INSTR=1          also count user-space instructions of one run of each with
#                    valgrind --tool=callgrind (minutes: about 50x slower)
#   INSTR_THREADS=n  kgen's threads in those runs (RAYON_NUM_THREADS); 1 gives counts
#                    that repeat to 0.1%, all threads (the default) vary by up to 2%
#                    with where the pool happens to free the object trees
#   SYSCALLS=1       also count system calls of one run of each with strace -c -f
#   CMP_RUNS=n       runs of `cmp generate` on this repository's platform (dev/main-api,
#                    as the Argo CD plugin runs it), alternately with KGEN_BASE's: median
#                    and best wall time (default 50; 0 skips it)
#   BENCH_DIR=path   where platforms go (default /dev/shm when there is one)
#   CALLS=1          gen-platform.py's services call each other, NetworkPolicies on
#                    (read by gen-platform.py; jrsonnet's platform has no calls then)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-1000}
runs=${RUNS:-7}
if [ -z "${KGEN:-}" ]; then
  nice -n 5 cargo build --release --quiet --bin kgen
  KGEN=${CARGO_TARGET_DIR:-$root/target}/release/kgen
fi
JRSONNET=${JRSONNET:-$(command -v jrsonnet || true)}
base=${BENCH_DIR:-}
if [ -z "$base" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  base=/dev/shm
fi
work=$(mktemp -d "${base:-${TMPDIR:-/tmp}}/kgen-peer.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "N = $n, $runs rounds, in $work ($(df -P "$work" | awk 'NR==2 {print $1}'))"
python3 scripts/gen-platform.py "$n" "$work/p"
results=$work/results.tsv
: >"$results"

# contestant name, setup command (in $work/p), command...
contestants=()
add() { contestants+=("$1"$'\x1f'"$2"$'\x1f'"${*:3}"); }
add "kgen full" "rm -rf generated" "$KGEN" render
[ -z "${KGEN_BASE:-}" ] || add "base full" "rm -rf generated" "$KGEN_BASE" render
add "cp -r" "rm -rf ../copy" cp -r generated ../copy
[ -z "$JRSONNET" ] || add "jrsonnet" "rm -rf ../jsonnet-out && mkdir ../jsonnet-out" "$JRSONNET" --ext-code "n=$n" -S -c -m ../jsonnet-out "$root/benches/peer/platform.jsonnet"
add "kgen noop" "true" "$KGEN" render
add "kgen check" "true" "$KGEN" render --check
if [ -n "${KGEN_BASE:-}" ]; then
  add "base noop" "true" "$KGEN_BASE" render
  add "base check" "true" "$KGEN_BASE" render --check
fi

run_one() { # setup cmd -> writes "wall-seconds max-rss-KiB" to $work/t
  (cd "$work/p" && eval "$1")
  # Wall time from the clock in nanoseconds (time's %e has only centiseconds); the
  # same /usr/bin/time wraps every contestant, for its max RSS.
  local t0 t1
  t0=$(date +%s%N)
  (cd "$work/p" && /usr/bin/time -f "%M" -o "$work/rss" "${@:2}" >/dev/null 2>&1) || true
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 ))e-6 $(tail -1 "$work/rss")" >"$work/t"
}
"$KGEN" render --platform "$work/p/platform.toml" >/dev/null
for round in $(seq "$runs"); do
  for c in "${contestants[@]}"; do
    IFS=$'\x1f' read -r name setup cmd <<<"$c"
    # shellcheck disable=SC2086 # the command is a word list
    run_one "$setup" $cmd
    echo -e "$name\t$(cat "$work/t")" >>"$results"
  done
  # The noop/check contestants need kgen's tree in place, which the last full left.
  "$KGEN" render --platform "$work/p/platform.toml" >/dev/null
done
files=$(find "$work/p/generated" -type f | wc -l)
jfiles=$( [ -d "$work/jsonnet-out" ] && find "$work/jsonnet-out" -type f | wc -l || echo 0)
echo "kgen tree: $files files, $(du -sk "$work/p/generated" | cut -f1) KiB; jrsonnet: $jfiles files"

count() { # what name -> "instructions" or "syscalls", one run
  local what=$1 name=$2 c setup cmd
  for c in "${contestants[@]}"; do
    IFS=$'\x1f' read -r cname setup cmd <<<"$c"
    [ "$cname" = "$name" ] || continue
    (cd "$work/p" && eval "$setup")
    if [ "$what" = instr ]; then
      # shellcheck disable=SC2086
      (cd "$work/p" && ${INSTR_THREADS:+env RAYON_NUM_THREADS=$INSTR_THREADS} valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" $cmd >/dev/null 2>"$work/cg.err") || true
      grep -o 'Collected : [0-9]*' "$work/cg.err" | awk '{printf "%.2f G", $3/1e9}'
    else
      # shellcheck disable=SC2086
      (cd "$work/p" && strace -c -f -o "$work/st.out" $cmd >/dev/null 2>&1) || true
      awk '/total/ {print $(NF-1) " calls"}' "$work/st.out"
    fi
    "$KGEN" render --platform "$work/p/platform.toml" >/dev/null
  done
}
extra=()
if [ "${INSTR:-}" = 1 ] || [ "${SYSCALLS:-}" = 1 ]; then
  for c in "${contestants[@]}"; do
    IFS=$'\x1f' read -r name _ _ <<<"$c"
    cell=""
    [ "${INSTR:-}" != 1 ] || cell="$(count instr "$name")"
    [ "${SYSCALLS:-}" != 1 ] || cell="$cell${cell:+, }$(count sys "$name")"
    extra+=("$name"$'\t'"$cell")
  done
fi
printf '%s\n' "${extra[@]}" >"$work/extra.tsv"

# `cmp generate` on this repository's own platform: a few milliseconds, timed in one
# Python process (no shell between runs), both builds alternately.
cmp_runs=${CMP_RUNS:-50}
if [ "$cmp_runs" -gt 0 ]; then
  mkdir -p "$work/example"
  cp -r "$root/platform.toml" "$root/overlays" "$work/example/"
  python3 - "$work/example" "$cmp_runs" "$KGEN" ${KGEN_BASE:+"$KGEN_BASE"} >"$work/cmp.txt" <<'PY'
import os, statistics, subprocess, sys, time
where, runs, bins = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
env = {"PATH": os.environ["PATH"], "ARGOCD_APP_NAME": "dev-main-api",
       "ARGOCD_APP_SOURCE_PATH": ".", "ARGOCD_ENV_KGEN_ENV": "dev",
       "ARGOCD_ENV_KGEN_SERVICE": "main-api"}
times = {b: [] for b in bins}
for b in bins:  # warm the page cache
    subprocess.run([b, "cmp", "generate"], cwd=where, env=env, check=True, stdout=subprocess.DEVNULL)
for _ in range(runs):
    for b in bins:
        t0 = time.perf_counter()
        subprocess.run([b, "cmp", "generate"], cwd=where, env=env, check=True, stdout=subprocess.DEVNULL)
        times[b].append((time.perf_counter() - t0) * 1000)
for name, b in zip(["kgen", "base"], bins):
    t = times[b]
    print(f"cmp generate, this repository's platform (dev/main-api), {name}: median {statistics.median(t):.1f} ms, best {min(t):.1f} ms ({runs} runs)")
PY
fi

python3 - "$results" "$runs" "$work/extra.tsv" <<'PY'
import collections, statistics, sys
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    name, wall, rss = line.rstrip("\n").split("\t")[0], *line.split("\t")[1].split()
    rows.setdefault(name, []).append((float(wall), int(rss)))
extra = {}
for line in open(sys.argv[3]):
    if "\t" in line:
        k, v = line.rstrip("\n").split("\t", 1)
        extra[k] = v
med = {k: statistics.median(w for w, _ in v) for k, v in rows.items()}
def ratio(a, b):
    return f"{med[a] / med[b]:.2f}x" if a in med and b in med and med[b] > 0 else "-"
print(f"\nmedian of {sys.argv[2]} rounds, run alternately")
print()
cols = ["wall", "max RSS", "/ cp -r", "/ jrsonnet"]
has_base = any(k.startswith("base ") for k in rows)
if has_base:
    cols.append("new / base")
if extra:
    cols.append("user instructions, system calls (one run)")
print("| | " + " | ".join(cols) + " |")
print("|---|" + "---|" * len(cols))
for k, v in rows.items():
    rss = statistics.median(r for _, r in v) / 1024
    cells = [f"{med[k]:.3f} s", f"{rss:.0f} MB", ratio(k, "cp -r"), ratio(k, "jrsonnet")]
    if has_base:
        other = k.replace("kgen ", "base ") if k.startswith("kgen ") else None
        cells.append(ratio(k, other) if other else "")
    if extra:
        cells.append(extra.get(k, ""))
    print(f"| {k} | " + " | ".join(cells) + " |")
PY
[ ! -s "$work/cmp.txt" ] || { echo; cat "$work/cmp.txt"; }
