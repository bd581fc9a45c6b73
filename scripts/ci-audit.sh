#!/usr/bin/env bash
# Supply-chain audit, run by .ci/run: cargo-deny with the policy in deny.toml
# (known vulnerabilities, unsound and unmaintained crates, licences, sources)
# against the RustSec advisory database snapshot in ../shared/advisory-db, offline.
# Skipped, with the reason printed, where ../shared is absent. docs/security.md.
set -euo pipefail
cd "$(dirname "$0")/.."

snapshot=../shared/advisory-db
if [ ! -d "$snapshot/crates" ]; then
  echo "ci-audit: skipped: no advisory database snapshot at $snapshot (CI has no network to fetch one)"
  exit 0
fi

# Pinned: the database directory name below is cargo-deny's, for the db-urls in deny.toml.
version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $version"; then
  start=$(date +%s)
  cargo install cargo-deny --locked --version "$version" --quiet
  echo "ci-audit: installed cargo-deny $version in $(( $(date +%s) - start ))s"
fi

# cargo-deny reads `cargo metadata` for every target (Windows-only crates too).
cargo fetch --locked --quiet

# cargo-deny opens an advisory database only as a git checkout under db-path: make
# one from the snapshot, dated as the snapshot (so staleness is judged honestly).
db=target/advisory-dbs/advisory-db-3157b0e258782691
rm -rf "$db"
mkdir -p "$db"
cp -R "$snapshot/." "$db/"
date=$(grep -o '20[0-9][0-9]-[0-1][0-9]-[0-3][0-9]' "$snapshot/SNAPSHOT.md" | head -n 1 || true)
date=${date:-$(date -u +%Y-%m-%d)}
(
  cd "$db"
  git init --quiet
  git add --all
  GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
    git -c user.name=kgen-ci -c user.email=ci@kgen.invalid -c commit.gpgsign=false \
    commit --quiet --message "RustSec advisory-db snapshot of $date"
)
echo "ci-audit: advisory database snapshot of $date ($(find "$db/crates" -name '*.md' | wc -l | tr -d ' ') advisories)"

cargo deny --frozen check
