#!/bin/bash
# Times two builds of `lra` side by side: each case runs with BEFORE, then
# AFTER, and the whole list repeats REPS times (default 2), so drift of the
# machine shows as spread within a column rather than as a difference.
# Cases: full attention at 1024 and 4096 tokens, bigbird and performer at
# 4096, and configs/models/bench.pbtxt with an S4D and an LRU mixer at 4096;
# batch 8, median of 5 timed steps after 2 untimed ones. Run it on a quiet
# machine (nothing else running, no build).
#   tools/bench_before_after.sh BEFORE_LRA AFTER_LRA [REPS]
# Build BEFORE from a worktree of the old commit
# (git worktree add /tmp/before <commit> && cd /tmp/before && bazel build //lra)
# and copy both binaries out of bazel-bin first.
set -euo pipefail
cd "$(dirname "$0")/.."
before="$1" after="$2" reps="${3:-2}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in s4d lru; do
  sed "s/attention { name: \"full\" }/mixer { name: \"$m\" }/" \
    configs/models/bench.pbtxt >"$tmp/bench-$m.pbtxt"
done
cases=(
  "--seq_len=1024,4096"
  "--attention=bigbird --seq_len=4096"
  "--attention=performer --seq_len=4096"
  "--model_file=$tmp/bench-s4d.pbtxt --seq_len=4096"
  "--model_file=$tmp/bench-lru.pbtxt --seq_len=4096"
)
for ((rep = 1; rep <= reps; ++rep)); do
  for c in "${cases[@]}"; do
    for side in before after; do
      bin="$before"
      [[ "$side" == after ]] && bin="$after"
      echo "## $side, run $rep: ${c//$tmp\//}"
      # shellcheck disable=SC2086  # a case is several flags
      "$bin" bench $c --steps=5 --warmup=2 2>/dev/null
    done
  done
done
