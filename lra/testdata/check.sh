# Sourced by the shell tests of `lra` (cli_test.sh, crash_test.sh): the one
# definition of their checks and of their summary.
failures=0
passes=0

# check NAME CONDITION...: runs CONDITION; counts a pass, or prints
# "FAILED: NAME" and counts a failure.
check() {
  local name=$1
  shift
  if "$@"; then
    passes=$((passes + 1))
  else
    echo "FAILED: $name"
    failures=$((failures + 1))
  fi
}

# finish: prints the counts; the test's exit status is whether none failed.
finish() {
  echo "$passes passed, $failures failed"
  test "$failures" -eq 0
}
