#!/bin/bash
# lra_no_mpi, the lra built without MPI (//lra:lra_no_mpi, the same code as
# //lra:lra without the MPI world backend): trained alone it is one rank and
# finishes a tiny suite; started as one of several ranks of a launcher's job
# (the variables mpirun and srun set: OMPI_COMM_WORLD_SIZE, PMIX_RANK, ...)
# it refuses with "built without MPI" and writes nothing; a launcher's job of
# one rank is just this process. And it has no libmpi among its shared
# libraries (ldd). No mpirun needed.
set -u
ws="$TEST_SRCDIR/lra_harness"
lra="$ws/lra/lra_no_mpi"
export BUILD_WORKSPACE_DIRECTORY="$ws"
export OMP_NUM_THREADS=1
source "$ws/lra/testdata/check.sh"
suite=lra/testdata/crash_suite.pbtxt
run=crash/listops/tiny

# Alone: one rank, trains to the end.
out="$TEST_TMPDIR/alone"
"$lra" run --suite=$suite --out="$out" 2>"$TEST_TMPDIR/e"
rc=$?
check "alone: exits 0 (got $rc)" test $rc -eq 0
[ $rc -eq 0 ] || cat "$TEST_TMPDIR/e"
check "alone: result written" test -s "$out/$run/result.pbtxt"
check "alone: one process, no data-parallel line" \
  bash -c "! grep -q 'data parallel' '$TEST_TMPDIR/e'"

# As one of several ranks: refused before anything is written.
refused() {  # refused NAME VAR=VALUE...
  local name=$1
  shift
  local out="$TEST_TMPDIR/refused-$name"
  env "$@" "$lra" run --suite=$suite --out="$out" >"$TEST_TMPDIR/e" 2>&1
  local rc=$?
  check "$name: exits non-zero (got $rc)" test $rc -ne 0
  check "$name: says it was built without MPI" \
    grep -q "built without MPI" "$TEST_TMPDIR/e"
  check "$name: writes nothing" test ! -e "$out/$run"
}
refused "mpirun -np 2, rank 0" OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0
refused "mpirun -np 2, rank 1" OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=1
refused "srun --mpi=pmix -n 2, rank 1" PMIX_RANK=1
refused "srun --mpi=pmix -n 2, rank 0" PMIX_RANK=0 SLURM_NTASKS=2

# A launcher's job of one rank is this process alone.
out="$TEST_TMPDIR/np1"
OMPI_COMM_WORLD_SIZE=1 OMPI_COMM_WORLD_RANK=0 \
  "$lra" run --suite=$suite --out="$out" 2>"$TEST_TMPDIR/e"
rc=$?
check "mpirun -np 1: exits 0 (got $rc)" test $rc -eq 0
check "mpirun -np 1: result written" test -s "$out/$run/result.pbtxt"

# No MPI linked: no libmpi among the binary's shared libraries (Bazel links
# the workspace's own libraries statically into a cc_binary; -lmpi would
# appear here).
if command -v ldd >/dev/null; then
  ldd "$lra" >"$TEST_TMPDIR/ldd" 2>&1
  check "ldd lists the binary's libraries" grep -q "libc.so" "$TEST_TMPDIR/ldd"
  check "no libmpi linked" bash -c "! grep -q 'libmpi' '$TEST_TMPDIR/ldd'"
fi

finish
