#!/bin/bash
# Adds to each checked-in corpus (fuzz/corpus/<target>/) the inputs of a
# fuzzing run's grown corpus ($FUZZ_OUT/corpus/<target>/, as tools/fuzz.sh
# leaves it) that reach coverage the checked-in corpus does not: libFuzzer's
# -merge=1 into a copy of the checked-in corpus, then the new files (named by
# their SHA-1, as libFuzzer names them) are copied in. So the next session
# starts where this one stopped. Uses the fuzz binaries of the last
# `bazel build --config=fuzz` (run tools/fuzz.sh first). Prints per target
# the files before and after and the bytes added.
#   tools/fuzz_merge.sh [TARGET...]
set -uo pipefail
bazel="${BAZEL:-bazel}"
cd "$(dirname "$0")/.."
out="${FUZZ_OUT:-/tmp/lra-fuzz}"
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(sed -n 's/^ *name = "\([a-z_]*_fuzz\)",$/\1/p' fuzz/BUILD.bazel)
fi
bin="$($bazel info --config=fuzz bazel-bin 2>/dev/null)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%-26s %7s %7s %9s\n' target before after bytes
for t in "${targets[@]}"; do
  [[ -d "$out/corpus/$t" ]] || continue
  mkdir -p "$work/$t"
  cp fuzz/corpus/"$t"/* "$work/$t/"
  before=$(find "fuzz/corpus/$t" -type f | wc -l)
  if ! "$bin/fuzz/$t" -merge=1 -rss_limit_mb=2048 -malloc_limit_mb=256 \
      -max_len=8192 "$work/$t" "$out/corpus/$t" >"$work/$t.log" 2>&1; then
    echo "$t: merge failed (log below)" >&2
    tail -5 "$work/$t.log" >&2
    continue
  fi
  bytes=0
  for f in "$work/$t"/*; do
    name="$(basename "$f")"
    if [[ ! -e "fuzz/corpus/$t/$name" ]]; then
      cp "$f" "fuzz/corpus/$t/$name"
      bytes=$((bytes + $(stat -c %s "$f")))
    fi
  done
  after=$(find "fuzz/corpus/$t" -type f | wc -l)
  printf '%-26s %7s %7s %9s\n' "$t" "$before" "$after" "$bytes"
done
