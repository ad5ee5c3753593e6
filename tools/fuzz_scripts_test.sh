#!/bin/bash
# tools/fuzz.sh and tools/fuzz_merge.sh against a fake bazel and fake
# libFuzzer binaries (no clang needed): per-target times reach -max_total_time,
# FUZZ_JOBS caps how many run at once, a crash is a finding (non-zero exit)
# and a slow unit is not, a malformed TARGET=SECONDS, SECONDS, FUZZ_JOBS or
# FUZZ_TIMEOUT is refused, fuzzers get one OpenMP thread unless
# OMP_NUM_THREADS is set, and the merge copies only the inputs the fuzzer
# keeps.
set -u
fail() { echo "FAIL: $*"; exit 1; }
most_at_once() {  # the most fake fuzzers running at once, from $events
  sort -k3,3n "$events" | awk '$1 == "start" {n++} $1 == "end" {n--} n > m {m = n} END {print m}'
}
root="$TEST_TMPDIR/repo"
mkdir -p "$root/tools" "$root/bin" "$root/bazel-bin/fuzz"
cp tools/fuzz.sh tools/fuzz_merge.sh "$root/tools/"
events="$TEST_TMPDIR/events"
: >"$events"

cat >"$root/bin/bazel" <<EOF
#!/bin/bash
case "\$1" in
  build) exit 0 ;;
  info) echo "$root/bazel-bin" ;;
  *) exit 1 ;;
esac
EOF
# A fake fuzzer: logs its start, end and -max_total_time, sleeps a second,
# prints libFuzzer's final lines; crash_fuzz writes a crash file, slow_fuzz
# a slow unit. With -merge=1 it copies the inputs holding "NEW" into the
# first corpus folder.
cat >"$root/bin/fake_fuzzer" <<EOF
#!/bin/bash
name="\$(basename "\$0")"
merge=0 prefix="" time="" dirs=()
for a in "\$@"; do
  case "\$a" in
    -merge=1) merge=1 ;;
    -artifact_prefix=*) prefix="\${a#-artifact_prefix=}" ;;
    -max_total_time=*) time="\${a#-max_total_time=}" ;;
    -*) ;;
    *) dirs+=("\$a") ;;
  esac
done
if ((merge)); then
  grep -l NEW "\${dirs[1]}"/* | xargs -r cp -t "\${dirs[0]}"
  exit 0
fi
echo "start \$name \$(date +%s%N) \$time" >>"$events"
echo "tmp \$name \$TMPDIR" >>"$events"
echo "omp \$name \${OMP_NUM_THREADS-unset}" >>"$events"
touch "\${TMPDIR:?}/left-by-\$name"
sleep 1
echo "end \$name \$(date +%s%N)" >>"$events"
echo "#4242 DONE cov: 17 ft: 23 corp: 5/99b lim: 4 exec/s: 4242 rss: 30Mb"
echo "stat::number_of_executed_units: 4242"
case "\$name" in
  crash_fuzz) echo x >"\${prefix}crash-0001"; echo "==1== ERROR: libFuzzer: deadly signal"; exit 1 ;;
  slow_fuzz) echo x >"\${prefix}slow-unit-0001" ;;
esac
exit 0
EOF
chmod +x "$root/bin/bazel" "$root/bin/fake_fuzzer"
for t in a_fuzz b_fuzz c_fuzz slow_fuzz crash_fuzz; do
  ln -s "$root/bin/fake_fuzzer" "$root/bazel-bin/fuzz/$t"
done
export BAZEL="$root/bin/bazel"

# A malformed time is refused before anything runs.
out="$TEST_TMPDIR/bad.out"
FUZZ_OUT="$TEST_TMPDIR/o0" bash "$root/tools/fuzz.sh" 5 a_fuzz=1m >"$out" 2>&1
rc=$?
((rc == 2)) || { cat "$out"; fail "bad time: exit $rc, want 2"; }
grep -q "'a_fuzz=1m': the time after '=' must be whole seconds" "$out" ||
  { cat "$out"; fail "bad time: message"; }
[[ -s "$events" ]] && fail "bad time: a fuzzer ran"

# So are a malformed SECONDS, FUZZ_JOBS and FUZZ_TIMEOUT, each named, and a
# target's time of 0 (libFuzzer's "no limit").
for bad in "FUZZ_JOBS=abc|5|FUZZ_JOBS is 'abc'" "FUZZ_JOBS=0|5|FUZZ_JOBS is '0'" \
  "FUZZ_TIMEOUT=10s|5|FUZZ_TIMEOUT is '10s'" "X=1|2m|SECONDS is '2m'" \
  "X=1|5|'a_fuzz=0': the time after '=' must be whole seconds above 0|a_fuzz=0"; do
  IFS='|' read -r env secs want target <<<"$bad"
  out="$TEST_TMPDIR/bad-env.out"
  env "$env" FUZZ_OUT="$TEST_TMPDIR/o0" bash "$root/tools/fuzz.sh" "$secs" "${target:-a_fuzz}" \
    >"$out" 2>&1
  rc=$?
  ((rc == 2)) || { cat "$out"; fail "$env $secs $target: exit $rc, want 2"; }
  grep -qF "$want" "$out" || { cat "$out"; fail "$env $secs $target: message"; }
  [[ -s "$events" ]] && fail "$env $secs $target: a fuzzer ran"
done

# Two at a time, per-target times, a slow unit that is not a finding,
# scratch files in a folder of FUZZ_TMPDIR that is removed afterwards, one
# OpenMP thread by default.
out="$TEST_TMPDIR/jobs.out"
mkdir -p "$TEST_TMPDIR/scratch"
env -u OMP_NUM_THREADS FUZZ_OUT="$TEST_TMPDIR/o1" FUZZ_JOBS=2 FUZZ_TMPDIR="$TEST_TMPDIR/scratch" \
  bash "$root/tools/fuzz.sh" 7 a_fuzz=3 b_fuzz c_fuzz=11 slow_fuzz >"$out" 2>&1
rc=$?
((rc == 0)) || { cat "$out"; fail "jobs: exit $rc, want 0"; }
for want in "a_fuzz 3" "b_fuzz 7" "c_fuzz 11" "slow_fuzz 7"; do
  grep -q "^start ${want% *} [0-9]* ${want#* }\$" "$events" ||
    { cat "$events"; fail "jobs: want -max_total_time for '$want'"; }
done
most=$(most_at_once)
((most == 2)) || { cat "$events"; fail "jobs: $most fuzzers at once, want 2"; }
grep -q "^tmp a_fuzz $TEST_TMPDIR/scratch/lra-fuzz-run\.[A-Za-z0-9]*\$" "$events" ||
  { cat "$events"; fail "jobs: TMPDIR not a folder of FUZZ_TMPDIR"; }
grep -qx "omp a_fuzz 1" "$events" || { cat "$events"; fail "jobs: OMP_NUM_THREADS not 1"; }
left=$(find "$TEST_TMPDIR/scratch" -mindepth 1 | head -3)
[[ -z "$left" ]] || fail "jobs: scratch left behind: $left"
line=$(grep '^slow_fuzz ' "$out")
read -r _ _ execs cov ft corp findings slow <<<"$line"
[[ "$execs $cov $ft $corp $findings $slow" == "4242 17 23 5 0 1" ]] ||
  { cat "$out"; fail "jobs: slow_fuzz row '$line'"; }

# A crash is a finding: its row counts it, its log lines are shown, exit 1.
# An OMP_NUM_THREADS given is kept.
: >"$events"
out="$TEST_TMPDIR/crash.out"
OMP_NUM_THREADS=3 FUZZ_OUT="$TEST_TMPDIR/o2" FUZZ_PARALLEL=1 \
  bash "$root/tools/fuzz.sh" 2 a_fuzz crash_fuzz >"$out" 2>&1
rc=$?
((rc == 1)) || { cat "$out"; fail "crash: exit $rc, want 1"; }
grep -qE '^crash_fuzz +[^ ]+ +4242 +17 +23 +5 +1 +0$' "$out" ||
  { cat "$out"; fail "crash: row"; }
grep -q 'ERROR: libFuzzer: deadly signal' "$out" || { cat "$out"; fail "crash: log tail"; }
most=$(most_at_once)
((most == 2)) || { cat "$events"; fail "FUZZ_PARALLEL=1: $most at once, want 2"; }
grep -qx "omp a_fuzz 3" "$events" || { cat "$events"; fail "crash: OMP_NUM_THREADS not kept"; }

# The merge adds the inputs the fuzzer keeps, and only those.
mkdir -p "$root/fuzz/corpus/a_fuzz" "$TEST_TMPDIR/o3/corpus/a_fuzz"
echo seed >"$root/fuzz/corpus/a_fuzz/seed"
echo NEW >"$TEST_TMPDIR/o3/corpus/a_fuzz/kept"
echo old >"$TEST_TMPDIR/o3/corpus/a_fuzz/dropped"
out="$TEST_TMPDIR/merge.out"
FUZZ_OUT="$TEST_TMPDIR/o3" bash "$root/tools/fuzz_merge.sh" a_fuzz >"$out" 2>&1 ||
  { cat "$out"; fail "merge: exit $?"; }
got=$(cd "$root/fuzz/corpus/a_fuzz" && ls | tr '\n' ' ')
[[ "$got" == "kept seed " ]] || { cat "$out"; fail "merge: corpus now '$got'"; }
grep -qE '^a_fuzz +1 +2 +4$' "$out" || { cat "$out"; fail "merge: row"; }
echo PASS
