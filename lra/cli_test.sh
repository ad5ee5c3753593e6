#!/bin/bash
# The `lra` command end to end: config errors exit non-zero with one message
# naming file, line and field; earlier results survive failed runs; data check
# and list work.
set -u
ws="$TEST_SRCDIR/lra_harness"
lra="$ws/lra/lra"
export BUILD_WORKSPACE_DIRECTORY="$ws"
out="$TEST_TMPDIR/out"
failures=0
passes=0
check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then
    passes=$((passes + 1))
  else
    echo "FAILED: $name"
    failures=$((failures + 1))
  fi
}

# 1. A config error: exit 2, one message with file:line and field, nothing written.
"$lra" run --suite=lra/testdata/bad_batch_suite.pbtxt --out="$out" >"$TEST_TMPDIR/o" 2>"$TEST_TMPDIR/e"
rc=$?
check "bad config exits 2 (got $rc)" test "$rc" -eq 2
check "bad config names file:line" grep -q "bad_batch_suite.pbtxt:8" "$TEST_TMPDIR/e"
check "bad config names the field" grep -q "batch_size = -3" "$TEST_TMPDIR/e"
check "bad config says what is allowed" grep -q "allowed" "$TEST_TMPDIR/e"
check "bad config writes nothing" test ! -e "$out"
cat "$TEST_TMPDIR/e"

# 2. A good suite trains and writes results.
"$lra" run --suite=lra/testdata/tiny_suite.pbtxt --out="$out" 2>"$TEST_TMPDIR/e"
rc=$?
check "tiny suite exits 0 (got $rc)" test "$rc" -eq 0
result="$out/tiny/listops/tiny/result.pbtxt"
check "result written" test -s "$result"
check "metrics written" test -s "$out/tiny/listops/tiny/metrics.csv"
check "progress shows steps/s and ETA" grep -q "steps/s  ETA" "$TEST_TMPDIR/e"
cp "$result" "$TEST_TMPDIR/result.before"

# 3. Failing runs leave earlier results intact: a bad config, then the same
#    suite name with a different recipe.
"$lra" run --suite=lra/testdata/bad_attention_suite.pbtxt --out="$out" 2>"$TEST_TMPDIR/e"
rc=$?
check "unknown attention exits 2 (got $rc)" test "$rc" -eq 2
check "unknown attention lists variants" grep -q "full" "$TEST_TMPDIR/e"
"$lra" run --suite=lra/testdata/tiny_changed_suite.pbtxt --out="$out" 2>"$TEST_TMPDIR/e"
rc=$?
check "changed recipe over finished result exits 1 (got $rc)" test "$rc" -eq 1
check "changed recipe explains" grep -q "different config" "$TEST_TMPDIR/e"
check "earlier result intact" cmp -s "$result" "$TEST_TMPDIR/result.before"

# 4. Rerun of the finished suite skips it.
"$lra" run --suite=lra/testdata/tiny_suite.pbtxt --out="$out" 2>"$TEST_TMPDIR/e"
check "rerun skips" grep -q "2 already done" "$TEST_TMPDIR/e"

# 4b. Leaderboard and status read what the run wrote.
"$lra" leaderboard --results="$out" >"$TEST_TMPDIR/o" 2>&1
check "leaderboard shows the run" grep -q "| tiny |" "$TEST_TMPDIR/o"
"$lra" leaderboard --results="$out" --format=html --out="$TEST_TMPDIR/report.html" 2>&1
check "html report written" grep -q "<svg" "$TEST_TMPDIR/report.html"
"$lra" status --suite=lra/testdata/tiny_suite.pbtxt --results="$out" >"$TEST_TMPDIR/o" 2>&1
check "status shows both runs done" grep -q "2 done" "$TEST_TMPDIR/o"

# 5. Missing suite file.
"$lra" run --suite=lra/testdata/nope.pbtxt --out="$out" 2>"$TEST_TMPDIR/e"
rc=$?
check "missing suite exits 2 (got $rc)" test "$rc" -eq 2
check "missing suite names path" grep -q "nope.pbtxt" "$TEST_TMPDIR/e"

# 6. data check on the official-format sample, and on a malformed file.
"$lra" data check --task=listops --tsv=datasets/listops/testdata/basic_sample.tsv >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "data check exits 0 (got $rc)" test "$rc" -eq 0
check "data check agrees on every label" grep -Eq "^labels agree: ([0-9]+)/\1$" "$TEST_TMPDIR/o"
cat "$TEST_TMPDIR/o"
"$lra" data check --task=listops --tsv=datasets/listops/testdata/basic_malformed.tsv >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "malformed data exits non-zero (got $rc)" test "$rc" -ne 0
check "malformed data names a line" grep -q "basic_malformed.tsv:[0-9]" "$TEST_TMPDIR/o"
cat "$TEST_TMPDIR/o"

# 6b. Pathfinder images a person can look at.
"$lra" data render --task=pathfinder --resolution=32 --count=4 --out="$TEST_TMPDIR/render" >/dev/null 2>&1
check "render writes PNGs" test -s "$TEST_TMPDIR/render/sample_3.png"
check "render writes a contact sheet" test -s "$TEST_TMPDIR/render/contact_sheet.png"
"$lra" data stats --task=nope >"$TEST_TMPDIR/o" 2>&1
check "unknown task lists tasks" grep -q "allowed: .*listops.*pathfinder" "$TEST_TMPDIR/o"

# 7. list and unknown commands.
"$lra" list >"$TEST_TMPDIR/o" 2>&1
check "list shows full attention" grep -q "^full" "$TEST_TMPDIR/o"
"$lra" frobnicate >/dev/null 2>&1
rc=$?
check "unknown command exits 2 (got $rc)" test "$rc" -eq 2

echo "$passes passed, $failures failed"
test "$failures" -eq 0
