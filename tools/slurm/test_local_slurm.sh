#!/bin/bash
# A real Slurm on this machine, end to end: writes a single-node slurm.conf
# for localhost, starts munged, slurmctld and slurmd directly (no systemd),
# submits a tiny suite as a job array with tools/slurm/submit_suite.sh, and
# then:
#   1. every array task stops after 4 steps (--stop_after_steps, as if
#      pre-empted): `lra status` lists the runs as unfinished;
#   2. `submit_suite.sh --left` resubmits them; they resume from their
#      checkpoints and finish: `lra status` shows them done; then a running
#      task (plain, and an MPI job of 2 ranks) gets SIGTERM as a pre-empted
#      one would (`scancel --batch --signal=TERM`), saves at the next step
#      boundary, and resumes from that step when resubmitted with --left;
#   3. one array task that is an MPI job of 2 ranks (--mpi=2; srun --mpi=pmix
#      when this Slurm has pmix, else mpirun) trains a suite with
#      micro-batches, and its figures equal the same suite trained plainly;
#   4. `lra leaderboard` reads the shared results folder;
# and shuts the daemons down. Installs nothing: it needs Debian's slurm-wlm
# (slurmctld, slurmd, sbatch, squeue), munge and openmpi-bin, and a built
# lra (bazel build //lra //lra/dist:mpi_collectives_check is not needed).
# Run as root (slurmd starts jobs as their users). Leaves its files in
# ${LRA_SLURM_DIR:-/tmp/lra-slurm-test}. Exit 0 when every check passes.
set -u
workspace="$(cd "$(dirname "$0")/../.." && pwd)"
lra="${LRA:-$workspace/bazel-bin/lra/lra}"
dir="${LRA_SLURM_DIR:-/tmp/lra-slurm-test}"
submit="$workspace/tools/slurm/submit_suite.sh"
CHECK_PRINT_PASSES=1
source "$workspace/lra/testdata/check.sh"
for tool in munged slurmctld slurmd sbatch squeue sinfo mpirun; do
  if ! command -v $tool >/dev/null; then
    echo "test_local_slurm: $tool not found: apt-get install slurm-wlm munge openmpi-bin" >&2
    exit 2
  fi
done
if [[ ! -x "$lra" ]]; then
  echo "test_local_slurm: no lra at $lra: bazel build //lra" >&2
  exit 2
fi

rm -rf "$dir"
mkdir -p "$dir"/{state,spool,munge,results}
chmod 700 "$dir/munge"
host="$(hostname -s)"
cpus="$(nproc)"
memory=$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024 / 2))

# munge: its own key and socket, so that nothing of the system's is touched.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" \
  --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
munge_pid="$(cat "$dir/munge/munged.pid")"

cat >"$dir/slurm.conf" <<CONF
# One node, this machine; written by tools/slurm/test_local_slurm.sh.
ClusterName=lra-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 &
ctld_pid=$!
slurmd -D -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 &
slurmd_pid=$!
stop_daemons() {
  kill "$slurmd_pid" "$ctld_pid" 2>/dev/null
  wait "$slurmd_pid" "$ctld_pid" 2>/dev/null
  kill "$munge_pid" 2>/dev/null
}
trap stop_daemons EXIT

# The node comes up idle within seconds.
for ((i = 0; i < 60; i++)); do
  sinfo -h -o '%T' 2>/dev/null | grep -q idle && break
  sleep 1
done
echo "--- sinfo"
sinfo
check "slurmctld and slurmd are up, the node idle" bash -c "sinfo -h -o '%T' | grep -q idle"

wait_for_job() {  # wait_for_job ID: until no task of the array is queued or running
  for ((i = 0; i < 600; i++)); do
    [[ -z "$(squeue -h -j "$1" 2>/dev/null)" ]] && return 0
    sleep 1
  done
  echo "job $1 still queued after 10 minutes" >&2
  return 1
}
job_of() { sed -nE 's/^submit_suite: job array ([0-9]+).*/\1/p' "$1"; }

results="$dir/results"
suite="$workspace/lra/testdata/tiny_suite.pbtxt"
status() {  # status SUITE [RESULTS]
  BUILD_WORKSPACE_DIRECTORY="$workspace" "$lra" status --suite="$1" --results="${2:-$results}"
}

# 1. The array, every task stopping early as a pre-empted one would.
echo "--- submit (each task stops after 4 steps)"
"$submit" --suite="$suite" --results="$results" --cpus=1 --lra="$lra" \
  --lra_args="--stop_after_steps=4" | tee "$dir/submit1.out"
job="$(job_of "$dir/submit1.out")"
check "first array submitted" test -n "$job"
wait_for_job "$job"
echo "--- lra status after the first array"
status "$suite" | tee "$dir/status1.out"
check "both runs unfinished after the first array" \
  test "$(grep -c '^  unfinished' "$dir/status1.out")" -eq 2

# 2. What is left, resubmitted: resumes from the checkpoints.
echo "--- resubmit what is left"
"$submit" --suite="$suite" --results="$results" --cpus=1 --lra="$lra" --left \
  | tee "$dir/submit2.out"
job="$(job_of "$dir/submit2.out")"
wait_for_job "$job"
echo "--- lra status after the resubmission"
status "$suite" | tee "$dir/status2.out"
check "both runs done after the resubmission" \
  test "$(grep -c '^  done' "$dir/status2.out")" -eq 2
check "the tasks resumed from step 4" \
  bash -c "cat '$results'/.slurm/logs/lra-tiny-${job}_*.out | grep -c 'resuming from step 4' | grep -qx 2"
check "nothing left to submit" \
  bash -c "'$submit' --suite='$suite' --results='$results' --lra='$lra' --left 2>&1 | grep -q 'nothing left'"

# 2b. A real pre-emption signal: SIGTERM to a running task (slowed to 150 ms
# a step) makes lra save at the next step boundary and exit 143; the task
# resubmitted with --left resumes from that step. Plain, then as an MPI job
# of 2 ranks (the batch script passes the signal on to the ranks).
crash_suite="$workspace/lra/testdata/crash_suite.pbtxt"
mpi_env=(env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  OMPI_MCA_btl_vader_single_copy_mechanism=none)
for ranks in 0 2; do
  label=$([[ $ranks = 0 ]] && echo plain || echo "MPI, $ranks ranks")
  run_results="$dir/signal$ranks"
  # crash_suite has 1 micro-batch; the MPI variant needs a multiple of 2.
  signal_suite="$crash_suite"
  if [[ $ranks != 0 ]]; then
    signal_suite="$dir/crash_micro.pbtxt"
    sed 's/train {/train { micro_batches: 2/' "$crash_suite" >"$signal_suite"
  fi
  echo "--- SIGTERM to a running task ($label)"
  "${mpi_env[@]}" LRA_TEST_STEP_DELAY_MS=150 "$submit" --suite="$signal_suite" \
    --results="$run_results" --cpus=1 --lra="$lra" --mpi=$ranks | tee "$dir/submit_sig$ranks.out"
  job="$(job_of "$dir/submit_sig$ranks.out")"
  for ((i = 0; i < 300; i++)); do
    ls "$run_results"/crash/listops/tiny/checkpoint.last >/dev/null 2>&1 && break
    sleep 0.2
  done
  sleep 0.5
  scancel --batch --signal=TERM "${job}_0"
  wait_for_job "$job"
  log="$(ls "$run_results"/.slurm/logs/lra-crash*-"${job}"_0.out)"
  grep -E "stopped by SIGTERM|error" "$log"
  step="$(sed -nE 's/.*stopped by SIGTERM at step ([0-9]+).*/\1/p' "$log")"
  check "$label: SIGTERM saved the state at a step boundary (step ${step:-none})" test -n "$step"
  status "$signal_suite" "$run_results" | tee "$dir/status_sig$ranks.out"
  check "$label: lra status lists the run as unfinished" grep -q '^  unfinished' "$dir/status_sig$ranks.out"
  "${mpi_env[@]}" "$submit" --suite="$signal_suite" --results="$run_results" --cpus=1 \
    --lra="$lra" --mpi=$ranks --left >"$dir/submit_sig${ranks}b.out"
  job="$(job_of "$dir/submit_sig${ranks}b.out")"
  wait_for_job "$job"
  check "$label: the resubmitted task resumed from step ${step:-none}" \
    grep -q "resuming from step ${step:-none} " "$run_results"/.slurm/logs/lra-crash*-"${job}"_0.out
  status "$signal_suite" "$run_results" | tee "$dir/status_sig${ranks}b.out"
  check "$label: done after the resubmission" grep -q '^  done' "$dir/status_sig${ranks}b.out"
done

# 3. An array task that is an MPI job of 2 ranks, against a plain run.
mpi_suite="$workspace/lra/dist/testdata/mpi_suite.pbtxt"
echo "--- submit the MPI suite, 2 ranks per task"
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  OMPI_MCA_btl_vader_single_copy_mechanism=none \
  "$submit" --suite="$mpi_suite" --results="$results" --mpi=2 --cpus=1 \
  --lra="$lra" | tee "$dir/submit3.out"
job="$(job_of "$dir/submit3.out")"
wait_for_job "$job"
status "$mpi_suite" | tee "$dir/status3.out"
check "MPI array: both runs done" \
  test "$(grep -c '^  done' "$dir/status3.out")" -eq 2
BUILD_WORKSPACE_DIRECTORY="$workspace" OMP_NUM_THREADS=1 "$lra" run \
  --suite="$mpi_suite" --out="$dir/plain" 2>/dev/null
figures() {
  grep -Ev '^ *(wall_seconds|steps_per_second|tokens_per_second|peak_rss_mb|started|finished|machine|git_revision|resumed_at):' "$1"
}
for run in listops/tiny listops/dropout; do
  check "MPI array: $run equals the plain run" \
    cmp -s <(figures "$dir/plain/mpi/$run/result.pbtxt") <(figures "$results/mpi/$run/result.pbtxt")
done
grep -h "data parallel" "$results"/.slurm/logs/lra-mpi-${job}_*.out
srun --mpi=list 2>&1 | grep -qw pmix && launcher=srun || launcher=mpirun
check "MPI array: the ranks were started by $launcher" \
  bash -c "cat '$results'/.slurm/logs/lra-mpi-${job}_*.out | grep -c 'ranks started by $launcher' | grep -qx 2"

# 4. The leaderboard over the shared folder.
echo "--- lra leaderboard"
BUILD_WORKSPACE_DIRECTORY="$workspace" "$lra" leaderboard --results="$results" \
  --suites=tiny,mpi | tee "$dir/leaderboard.out"
check "leaderboard lists the runs" grep -q "wide" "$dir/leaderboard.out"

finish test_local_slurm
