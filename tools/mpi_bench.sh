#!/bin/bash
# Step time and all-reduce time per step of data-parallel training, for
# `mpirun -np 1` (plain, no MPI) and `-np 2` (or the counts given), on one
# model and task: the figures lra/dist/README.md's scaling estimate needs.
# Trains a few steps of a one-run suite written on the fly (evaluation cut to
# one batch: the step time excludes it anyway) and prints, per rank count,
# what the trainer reports: mean step time, mean all-reduce time, the part
# of it not hidden behind the backward pass (exposed), and the megabytes
# all-reduced per step (the gradient plus 4 figures). Then, for
# the scaling table of lra/dist/README.md from this one run: the micro-batch
# cost factor k (steps/s of one rank at M = 1 over one rank at the given M,
# from result.pbtxt; an extra one-rank run at M = 1), S (MB per step) and
# num_parameters.
#
#   tools/mpi_bench.sh [--model_file=configs/models/transformer-listops.pbtxt]
#                      [--task_file=configs/tasks/listops.pbtxt]
#                      [--batch=32] [--micro_batches=2] [--steps=10]
#                      [--np="1 2"] [--threads=0] [--allreduce_bucket_mb=1]
#
# --threads is per rank (0: the cores divided by the ranks). Run it on a quiet
# machine; the first step (oneDNN primitive creation) is in the means, so
# use enough steps. Needs bazel-bin/lra/lra (bazel build //lra).
set -euo pipefail
workspace="$(cd "$(dirname "$0")/.." && pwd)"
model="configs/models/transformer-listops.pbtxt"
task="configs/tasks/listops.pbtxt"
batch=32 micro=2 steps=10 nps="1 2" threads=0 bucket_mb=1
for arg in "$@"; do
  case "$arg" in
    --model_file=*) model="${arg#*=}" ;;
    --task_file=*) task="${arg#*=}" ;;
    --allreduce_bucket_mb=*) bucket_mb="${arg#*=}" ;;
    --batch=*) batch="${arg#*=}" ;;
    --micro_batches=*) micro="${arg#*=}" ;;
    --steps=*) steps="${arg#*=}" ;;
    --np=*) nps="${arg#*=}" ;;
    --threads=*) threads="${arg#*=}" ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  esac
done
lra="$workspace/bazel-bin/lra/lra"
[[ -x "$lra" ]] || { echo "mpi_bench: build lra first: bazel build //lra" >&2; exit 2; }
export BUILD_WORKSPACE_DIRECTORY="$workspace"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cores="$(nproc)"
printf "%-4s %-4s %-8s %-12s %-16s %-12s %-10s %s\n" ranks M threads "step ms" "all-reduce ms" "exposed ms" "MB/step" "steps/s"
sps_m="" sps_1="" mb_s="" params=""
# "1m1": one rank at M = 1, the baseline of k.
for np in $nps 1m1; do
  m=$micro
  if [[ $np == 1m1 ]]; then np=1 m=1; fi
  per_rank=$threads
  ((per_rank > 0)) || per_rank=$((cores / np > 0 ? cores / np : 1))
  cat >"$tmp/suite$np.pbtxt" <<SUITE
name: "mpi-bench"
grid {
  task_file: "$task"
  model_file: "$model"
  train {
    batch_size: $batch
    micro_batches: $m
    steps: $steps
    learning_rate: 0.0001
    eval_every: $steps
    eval_batches: 1
    test_batches: 1
    seed: 1
    threads: $per_rank
  }
}
SUITE
  out="$tmp/np$np-m$m"
  if ((np == 1)); then
    OMP_NUM_THREADS=$per_rank "$lra" run --suite="$tmp/suite$np.pbtxt" --out="$out" 2>"$tmp/log$np-$m"
  else
    OMP_NUM_THREADS=$per_rank mpirun -np "$np" --oversubscribe --bind-to none \
      "$lra" run --suite="$tmp/suite$np.pbtxt" --out="$out" \
      --allreduce_bucket_mb="$bucket_mb" 2>"$tmp/log$np-$m"
  fi
  line="$(grep 'data parallel:' "$tmp/log$np-$m" | tail -n1 || true)"
  step_ms="$(sed -E 's/.*step ([0-9.]+) ms.*/\1/' <<<"$line")"
  reduce_ms="$(sed -E 's/.*all-reduce ([0-9.]+) ms.*/\1/' <<<"$line")"
  exposed_ms="$(sed -E 's/.*exposed ([0-9.]+) ms.*/\1/' <<<"$line")"
  mb="$(sed -E 's/.*all-reduce ([0-9.]+) MB per step.*/\1/' <<<"$line")"
  sps="$(grep -h '^steps_per_second:' "$out"/mpi-bench/*/*/result.pbtxt | awk '{ print $2 }')"
  # One rank at M = 1 prints no data-parallel line.
  [[ -n "$line" ]] || step_ms="-" reduce_ms="-" exposed_ms="-" mb="-"
  printf "%-4s %-4s %-8s %-12s %-16s %-12s %-10s %s\n" "$np" "$m" "$per_rank" "$step_ms" "$reduce_ms" "$exposed_ms" "$mb" "$sps"
  if ((np == 1 && m == micro)); then sps_m=$sps; fi
  if ((np == 1 && m == 1)); then sps_1=$sps; fi
  [[ -z "$line" ]] || mb_s=$mb
  params="$(grep -h '^num_parameters:' "$out"/mpi-bench/*/*/result.pbtxt | awk '{ print $2 }')"
done
# k: how much slower one rank trains at M micro-batches than at M = 1.
k="-"
if [[ -n "$sps_m" && -n "$sps_1" ]]; then
  k="$(awk -v a="$sps_1" -v b="$sps_m" 'BEGIN { printf "%.3f", a / b }')"
fi
echo "k (micro-batch cost, -np 1 at M=$micro vs M=1): $k"
echo "S (MB all-reduced per step): ${mb_s:--}"
echo "num_parameters: ${params:--}"
