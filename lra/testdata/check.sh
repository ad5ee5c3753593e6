# Sourced by the shell tests of `lra` (cli_test.sh, crash_test.sh,
# dist/mpi_test.sh, dist/no_mpi_test.sh) and by tools/slurm/test_local_slurm.sh:
# the one definition of their checks and of their summary.
failures=0
passes=0

# check NAME CONDITION...: runs CONDITION; counts a pass (and prints
# "ok: NAME" when CHECK_PRINT_PASSES is 1), or prints "FAILED: NAME" and
# counts a failure.
check() {
  local name=$1
  shift
  if "$@"; then
    passes=$((passes + 1))
    if [[ ${CHECK_PRINT_PASSES:-0} == 1 ]]; then echo "ok: $name"; fi
  else
    echo "FAILED: $name"
    failures=$((failures + 1))
  fi
}

# finish [LABEL]: prints the counts (after "LABEL: " when given); the test's
# exit status is whether none failed.
finish() {
  echo "${1:+$1: }$passes passed, $failures failed"
  test "$failures" -eq 0
}
