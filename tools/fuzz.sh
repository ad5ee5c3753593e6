#!/bin/bash
# Builds every fuzz target of fuzz/ with clang and libFuzzer
# (bazel build --config=fuzz) and runs each for SECONDS (default 60), one
# after another, starting from its checked-in corpus. Prints per target the
# CPU seconds, executions, coverage (cov: edges, ft: features), corpus size
# and crashes.
# New corpus inputs go to $FUZZ_OUT/corpus/<target>, crashes, leaks, OOMs
# and timeouts to $FUZZ_OUT/findings/<target> (FUZZ_OUT defaults to
# /tmp/lra-fuzz); copy a finding into fuzz/corpus/<target>/ as
# regression-<what>.<ext> once it is fixed.
#   tools/fuzz.sh [SECONDS] [TARGET[=SECONDS]...]
# TARGET=SECONDS gives that target its own time (e.g. to top each target up
# to the same total across sessions).
# FUZZ_PARALLEL=1 runs all targets at once, each for SECONDS of wall time
# (on a shared machine under nice, each gets what CPU is left: the cpu_s
# column says how much, user + system).
# FUZZ_JOBS=N runs N targets at a time, the next starting as one ends, in
# the order given (longest first packs best). With N = the core count on an
# otherwise idle machine each target gets a core, so its CPU seconds are
# close to its wall seconds.
# FUZZ_TIMEOUT (default 10) is libFuzzer's -timeout: seconds of wall time
# one input may take before it counts as a finding. Raise it when the
# fuzzers share the machine or run under nice: a starved process passes
# the wall-time limit on an input that is fast on its own.
# FUZZ_TMPDIR (default /dev/shm when writable, else TMPDIR) is where the
# targets write each input as a file for the loader to read: on a disk
# file system that write, truncate and unlink per execution costs more
# kernel time (and journal and writeback threads) than the parsing itself.
# Each fuzzer runs with OMP_NUM_THREADS=1 unless OMP_NUM_THREADS is set.
# Exits non-zero when any target found something.
set -uo pipefail
bazel="${BAZEL:-bazel}"  # e.g. BAZEL="bazel --output_base=/tmp/ob" to keep a clang build apart
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
out="${FUZZ_OUT:-/tmp/lra-fuzz}"
timeout="${FUZZ_TIMEOUT:-10}"
above_0() { [[ "$1" =~ ^[0-9]+$ && "$1" =~ [1-9] ]]; }  # a whole number > 0
whole() {  # whole WHAT VALUE: exits 2 unless VALUE is a whole number > 0
  above_0 "$2" && return
  echo "tools/fuzz.sh: $1 is '$2': it must be a whole number above 0" >&2
  exit 2
}
whole SECONDS "$seconds"
whole FUZZ_TIMEOUT "$timeout"
[[ -n "${FUZZ_JOBS:-}" ]] && whole FUZZ_JOBS "$FUZZ_JOBS"
targets=()
declare -A budget  # target -> seconds of wall time, where not SECONDS
for arg in "$@"; do
  t="${arg%%=*}"
  targets+=("$t")
  [[ "$arg" == *=* ]] || continue
  budget[$t]="${arg#*=}"
  # libFuzzer takes -max_total_time=0 as no limit: refuse it too.
  if ! above_0 "${budget[$t]}"; then
    echo "tools/fuzz.sh: '$arg': the time after '=' must be whole seconds above 0" >&2
    exit 2
  fi
done
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(sed -n 's/^ *name = "\([a-z_]*_fuzz\)",$/\1/p' fuzz/BUILD.bazel)
fi
for t in "${targets[@]}"; do budget[$t]="${budget[$t]:-$seconds}"; done
scratch_base="${FUZZ_TMPDIR:-}"
if [[ -z "$scratch_base" ]]; then
  scratch_base="${TMPDIR:-/tmp}"
  [[ -d /dev/shm && -w /dev/shm ]] && scratch_base=/dev/shm
fi
# One folder for this run, removed at the end: a fuzzer stopped by a signal
# leaves its scratch files behind (libFuzzer exits without atexit handlers).
scratch="$(mktemp -d "$scratch_base/lra-fuzz-run.XXXXXX")" || exit 1
trap 'rm -rf "$scratch"' EXIT
labels=()
for t in "${targets[@]}"; do labels+=("//fuzz:$t"); done
$bazel build --config=fuzz "${labels[@]}" || exit 1
bin="$($bazel info --config=fuzz bazel-bin 2>/dev/null)"
run_target() {  # run_target TARGET: one libFuzzer run, its CPU seconds in $out/TARGET.cpu
  local t="$1"
  mkdir -p "$out/corpus/$t" "$out/findings/$t"
  # A declared size must never make a loader allocate without bound:
  # -malloc_limit_mb makes any single allocation over 256 MiB a finding.
  local timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f '%U %S' -o "$out/$t.cpu")
  # One OpenMP thread (unless OMP_NUM_THREADS says otherwise): the
  # pathfinder loader decodes in an OpenMP loop, and a second thread's start
  # and spin on one small input cost more than the decode and take the core
  # of the next job under FUZZ_JOBS.
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" TMPDIR="$scratch" "${timer[@]}" "$bin/fuzz/$t" -max_total_time="${budget[$t]}" -print_final_stats=1 \
    -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout="$timeout" -max_len=8192 \
    -artifact_prefix="$out/findings/$t/" "$out/corpus/$t" "fuzz/corpus/$t" \
    >"$out/$t.log" 2>&1
}
found=0
report() {  # report TARGET: its line of the table
  local t="$1" log="$out/$1.log"
  local execs last cov ft size n slow cpu
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  size=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  cpu=$(awk '/^[0-9.]+ [0-9.]+$/ {printf "%.0f", $1 + $2}' "$out/$t.cpu" 2>/dev/null)
  # slow-unit-*: an input that took over 10 s of wall time (-report_slow_units),
  # which a stopped or starved process also produces: listed, not a finding.
  n=$(find "$out/findings/$t" -type f ! -name 'slow-unit-*' | wc -l)
  slow=$(find "$out/findings/$t" -type f -name 'slow-unit-*' | wc -l)
  printf '%-26s %8s %10s %7s %7s %7s %8s %5s\n' "$t" "${cpu:-?}" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "${size:-?}" "$n" "$slow"
  if ((n > 0)); then
    found=1
    grep -m3 -E 'ERROR|SUMMARY' "$log" | sed 's/^/    /'
  fi
}
jobs=1
[[ "${FUZZ_PARALLEL:-0}" == 1 ]] && jobs=${#targets[@]}
[[ -n "${FUZZ_JOBS:-}" ]] && jobs="$FUZZ_JOBS"
if ((jobs > 1)); then
  running=0
  for t in "${targets[@]}"; do
    if ((running >= jobs)); then
      wait -n
      running=$((running - 1))
    fi
    echo "$(date -u +%H:%M:%S) start $t (${budget[$t]} s)"
    run_target "$t" &
    running=$((running + 1))
  done
  wait
fi
printf '%-26s %8s %10s %7s %7s %7s %8s %5s\n' target cpu_s execs cov ft corpus findings slow
for t in "${targets[@]}"; do
  ((jobs > 1)) || run_target "$t"
  report "$t"
done
echo "logs and findings in $out"
exit "$found"
