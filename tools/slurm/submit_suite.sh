#!/bin/bash
# Submits a suite to Slurm as a job array: one array task per run of the
# suite (task I runs `lra run --shard=I/N`, N = the suite's run count), all
# writing into one shared results folder that `lra status` and
# `lra leaderboard` read as they are. Every task runs with --resume, so a
# task that was pre-empted, timed out or failed and is submitted again
# continues from its run's last checkpoint.
#
#   tools/slurm/submit_suite.sh --suite=configs/suites/smoke.pbtxt \
#       --results=/shared/lra-results [--mpi=P] [--left] [--cpus=N] \
#       [--launcher=auto|srun|mpirun] [--mpirun_grace=S] [--lra=PATH] \
#       [--lra_args="--stop_after_steps=100"] [--dry_run] \
#       [-- SBATCH_OPTIONS...]
#
#   --results   the shared folder (on a file system every node sees)
#   --mpi=P     each array task is an MPI job of P ranks (sbatch --ntasks=P;
#               the runs' train.micro_batches must be a multiple of P)
#   --launcher  how an MPI task starts its ranks: srun --mpi=pmix (every rank
#               a task of a Slurm job step), or mpirun inside the allocation;
#               auto (default): srun when `srun --mpi=list` on the node lists
#               pmix, else mpirun
#   --mpirun_grace=S  under mpirun: the seconds its ranks get to finish a
#               step and save after a SIGTERM to mpirun itself (default 60;
#               mpirun's own default, 1 s, kills them first). OpenMPI 4.1's
#               mpirun on SIGTERM sends its ranks SIGCONT, waits S
#               (odls_base_sigkill_timeout), sends SIGTERM, waits S again,
#               then SIGKILL; Slurm's KillWait still bounds it. Set it above
#               one step plus a checkpoint save.
#   --left      only the runs not done yet (missing, unfinished, failed), as
#               `lra status` lists them: the way to resubmit after failures
#   --cpus=N    CPUs per rank (sbatch --cpus-per-task; default 2)
#   --lra=PATH  the lra binary (default bazel-bin/lra/lra); it is copied into
#               RESULTS/.slurm/ so that every task of the array runs the same
#               binary even if the workspace is rebuilt meanwhile
#   --dry_run   print the batch script instead of submitting it
# Anything after `--` goes to sbatch (--partition, --time, --account, ...).
# With --time, add --signal=TERM@300 (without B:, so that every rank of the
# job step gets it) so lra saves its state before the limit (it stops at the
# next step boundary on SIGTERM and exits 143).
set -euo pipefail

workspace="$(cd "$(dirname "$0")/../.." && pwd)"
suite="" results="" mpi=0 launcher=auto left=0 cpus=2 lra="" lra_args="" dry_run=0
mpirun_grace=60
sbatch_args=()
while (($#)); do
  case "$1" in
    --suite=*) suite="${1#*=}" ;;
    --results=*) results="${1#*=}" ;;
    --mpi=*) mpi="${1#*=}" ;;
    --launcher=*) launcher="${1#*=}" ;;
    --mpirun_grace=*) mpirun_grace="${1#*=}" ;;
    --left) left=1 ;;
    --cpus=*) cpus="${1#*=}" ;;
    --lra=*) lra="${1#*=}" ;;
    --lra_args=*) lra_args="${1#*=}" ;;
    --dry_run) dry_run=1 ;;
    --) shift; sbatch_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "submit_suite: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$suite" || -z "$results" ]]; then
  echo "submit_suite: --suite=FILE and --results=DIR are required (see --help)" >&2
  exit 2
fi
[[ "$suite" = /* ]] || suite="$PWD/$suite"
[[ "$results" = /* ]] || results="$PWD/$results"
lra="${lra:-$workspace/bazel-bin/lra/lra}"
if [[ ! -x "$lra" ]]; then
  echo "submit_suite: no lra binary at $lra (bazel build //lra, or --lra=PATH)" >&2
  exit 2
fi
if ! [[ "$mpirun_grace" =~ ^[0-9]+$ ]] || ((mpirun_grace < 1)); then
  echo "submit_suite: --mpirun_grace=$mpirun_grace is not a number of seconds" >&2
  exit 2
fi
if ! [[ "$mpi" =~ ^[0-9]+$ ]]; then
  echo "submit_suite: --mpi=$mpi is not a number of ranks" >&2
  exit 2
fi
case "$launcher" in
  auto | srun | mpirun) ;;
  *) echo "submit_suite: --launcher=$launcher: allowed: auto, srun, mpirun" >&2; exit 2 ;;
esac
mkdir -p "$results/.slurm/logs"

# The suite's runs, in order, with their state in the results folder.
status="$(BUILD_WORKSPACE_DIRECTORY="$workspace" "$lra" status --suite="$suite" --results="$results")"
header="$(head -n1 <<<"$status")"
name="$(sed -E 's/^suite ([^:]*):.*/\1/' <<<"$header")"
count="$(sed -E 's/^suite [^:]*: ([0-9]+) runs planned.*/\1/' <<<"$header")"
if ! [[ "$count" =~ ^[0-9]+$ ]] || ((count == 0)); then
  echo "submit_suite: cannot read the run count from: $header" >&2
  exit 1
fi
# Run lines follow the blank line, in the suite's order.
mapfile -t states < <(awk 'seen && NF { print $1 } !NF { seen = 1 }' <<<"$status" | head -n "$count")
indices=()
for ((i = 0; i < count; i++)); do
  case "${states[i]:-missing}" in
    done | stale) ((left)) || indices+=("$i") ;;  # stale: lra run reports it
    *) indices+=("$i") ;;
  esac
done
if ((left)); then
  skipped=$((count - ${#indices[@]}))
  echo "submit_suite: $skipped of $count runs are done or stale; submitting ${#indices[@]}" >&2
fi
if ((${#indices[@]} == 0)); then
  echo "submit_suite: nothing left to run in suite $name" >&2
  exit 0
fi
array="$(IFS=,; echo "${indices[*]}")"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
binary="$results/.slurm/lra-$stamp"
script="$results/.slurm/$name-$stamp.sbatch"
if ((!dry_run)); then
  cp "$lra" "$binary"
fi
ntasks=$((mpi > 0 ? mpi : 1))
{
  echo "#!/bin/bash"
  echo "# Suite $name, $count runs: array task I trains run I (lra run --shard=I/$count)."
  echo "#SBATCH --job-name=lra-$name"
  echo "#SBATCH --array=$array"
  echo "#SBATCH --ntasks=$ntasks"
  echo "#SBATCH --cpus-per-task=$cpus"
  echo "#SBATCH --output=$results/.slurm/logs/%x-%A_%a.out"
  echo "#SBATCH --requeue"
  echo "set -u"
  echo "export BUILD_WORKSPACE_DIRECTORY='$workspace'"
  echo "export OMP_NUM_THREADS=$cpus"
  echo "cd '$workspace'"
  echo "args=(run --suite='$suite' --out='$results' --resume --shard=\"\$SLURM_ARRAY_TASK_ID/$count\" $lra_args)"
  if ((mpi > 0)); then
    echo "# One MPI job of \$SLURM_NTASKS ranks; mpirun takes the hosts from Slurm."
    echo "# A session folder of its own: array tasks that start mpirun at the same"
    echo "# moment on one node otherwise race to create OpenMPI's shared one."
    echo "export TMPDIR=\"\${TMPDIR:-/tmp}/lra-\$SLURM_JOB_ID\""
    echo "mkdir -p \"\$TMPDIR\""
    echo "launcher=$launcher"
    echo "if [[ \$launcher = auto ]]; then"
    echo "  launcher=mpirun"
    echo "  srun --mpi=list 2>&1 | grep -qw pmix && launcher=srun"
    echo "fi"
    echo "if [[ \$launcher = srun ]]; then"
    echo "  # Every rank a task of this job step: Slurm's signals (--signal=TERM@T,"
    echo "  # pre-emption) reach each rank directly."
    echo "  srun --mpi=pmix --kill-on-bad-exit=0 '$binary' \"\${args[@]}\" &"
    echo "else"
    echo "  # SIGTERM to mpirun (pre-emption signals every process): it passes the"
    echo "  # signal on after $mpirun_grace s and kills the ranks $mpirun_grace s later, time"
    echo "  # to finish the step and save (its default, 1 s, is not)."
    echo "  mpirun -np \"\$SLURM_NTASKS\" --bind-to none --mca odls_base_sigkill_timeout $mpirun_grace -x OMP_NUM_THREADS -x BUILD_WORKSPACE_DIRECTORY '$binary' \"\${args[@]}\" &"
    echo "fi"
    echo "pid=\$!"
    echo "echo \"submit_suite: ranks started by \$launcher\""
    echo "# Slurm's SIGTERM to this shell (pre-emption, --signal=B:TERM@T, scancel"
    echo "# --batch) goes to the ranks on this node, not to mpirun, which would kill"
    echo "# them before they save. One rank's signal stops every rank at the next"
    echo "# step boundary (the stop flag travels in the step's all-reduce)."
    echo "if [[ \$launcher = srun ]]; then"
    echo "  trap 'scancel --signal=TERM \"\$SLURM_JOB_ID\"' TERM  # Every step, not this shell."
    echo "else"
    echo "  trap 'pkill -TERM -P \"\$pid\"' TERM"
    echo "fi"
    echo "while true; do wait \"\$pid\"; rc=\$?; kill -0 \"\$pid\" 2>/dev/null || break; done"
    echo "rm -rf \"\$TMPDIR\""
    echo "exit \$rc"
  else
    echo "exec '$binary' \"\${args[@]}\""
  fi
} >"$script.tmp"
if ((dry_run)); then
  cat "$script.tmp"
  rm -f "$script.tmp"
  exit 0
fi
mv "$script.tmp" "$script"
job="$(sbatch --parsable "${sbatch_args[@]}" "$script")"
echo "submit_suite: job array $job: ${#indices[@]} task(s) of suite $name (script $script)"
echo "  progress:  squeue -j ${job%%;*}; logs in $results/.slurm/logs/"
echo "  status:    lra status --suite=$suite --results=$results"
mpi_flag=""
((mpi > 0)) && mpi_flag=" --mpi=$mpi"
((mpi > 0)) && [[ $launcher != auto ]] && mpi_flag+=" --launcher=$launcher"
((mpi > 0)) && ((mpirun_grace != 60)) && mpi_flag+=" --mpirun_grace=$mpirun_grace"
echo "  resubmit what is left: $0 --suite=$suite --results=$results --left$mpi_flag"
