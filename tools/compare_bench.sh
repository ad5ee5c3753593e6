#!/usr/bin/env bash
# Compares one training step of our encoder with PyTorch 1.13 on the benchmark
# model (configs/models/bench.pbtxt) and prints a Markdown table per length.
#
# Usage: tools/compare_bench.sh [LENS]        e.g. tools/compare_bench.sh 1024,2048,4096
# Environment:
#   BATCH=8                  batch size for both sides
#   BAZEL_STARTUP="..."      Bazel startup options, e.g. "--output_base=/root/.cache/bazel-me"
#   OUT_DIR=out/compare_bench  where the two raw CSV files are kept
#
# The two benchmarks run one after the other, never together: on two cores
# each would halve the other's figures. Run it on a quiet machine; timings are
# only meaningful side by side in one run. Exits non-zero if either side
# failed or a length is missing from either side (the table still shows what
# there is).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
LENS="${1:-1024,2048}"
BATCH="${BATCH:-8}"
OUT_DIR="${OUT_DIR:-out/compare_bench}"
MODEL=configs/models/bench.pbtxt
PYTHON=/usr/bin/python3

if ! [[ "$LENS" =~ ^[0-9]+(,[0-9]+)*$ ]]; then
  echo "compare_bench: LENS='$LENS': want comma-separated lengths, e.g. 1024,2048" >&2
  exit 2
fi
if ! [[ "$BATCH" =~ ^[1-9][0-9]*$ ]]; then
  echo "compare_bench: BATCH='$BATCH': want a positive integer" >&2
  exit 2
fi
if [[ ! -f "$MODEL" ]]; then
  echo "compare_bench: $MODEL is missing; both sides must run the same model" >&2
  exit 2
fi
mkdir -p "$OUT_DIR"
ours_csv="$OUT_DIR/ours.csv"
torch_csv="$OUT_DIR/pytorch.csv"
rm -f "$ours_csv" "$torch_csv"
status=0

echo "== ours: bazel run //lra -- bench (seq_len $LENS, batch $BATCH)" >&2
# shellcheck disable=SC2086  # BAZEL_STARTUP is a list of options.
if ! bazel ${BAZEL_STARTUP:-} run -c opt //lra -- bench --model_file="$MODEL" \
    --seq_len="$LENS" --batch="$BATCH" --format=csv >"$ours_csv"; then
  echo "compare_bench: lra bench failed; its output is in $ours_csv" >&2
  status=1
fi

echo "== PyTorch: tools/bench_torch.py (seq_len $LENS, batch $BATCH)" >&2
if ! env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" tools/bench_torch.py \
    --model="$MODEL" --seq_len="$LENS" --batch="$BATCH" >"$torch_csv"; then
  echo "compare_bench: bench_torch.py failed; its output is in $torch_csv" >&2
  status=1
fi

"$PYTHON" - "$ours_csv" "$torch_csv" "$LENS" "$BATCH" <<'PY' || status=1
"""Joins the two CSV files into one Markdown table per length."""
import csv
import sys


def read_rows(path):
    """Rows of a bench CSV, by the names of its header line (lra bench has
    more columns than bench_torch.py); log lines are skipped."""
    rows = []
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return rows
    header = None
    for fields in csv.reader(lines):
        if fields[:1] == ["variant"]:
            header = fields
            continue
        if header is None or len(fields) != len(header):
            continue
        row = dict(zip(header, (f.strip() for f in fields)))
        try:
            row["seq_len"] = int(row["seq_len"])
            row["batch"] = int(row["batch"])
            for key in ("step_ms", "tokens_per_s", "peak_rss_mb"):
                row[key] = float(row[key])
        except (KeyError, ValueError):
            continue
        rows.append(row)
    return rows


ours_path, torch_path, lens, batch = sys.argv[1:5]
ours = [r for r in read_rows(ours_path) if r["variant"] != "pytorch"]
torch = {r["seq_len"]: r for r in read_rows(torch_path) if r["variant"] == "pytorch"}
complete = True
for n in (int(s) for s in lens.split(",")):
    print(f"\n### seq_len {n}, batch {batch}\n")
    print("| variant | step ms | tokens/s | peak RSS MB | speed-up vs PyTorch |")
    print("|---|---:|---:|---:|---:|")
    base = torch.get(n)
    mine = [r for r in ours if r["seq_len"] == n]
    for r in mine:
        speedup = f"{base['step_ms'] / r['step_ms']:.2f}x" if base and r["step_ms"] > 0 else "n/a"
        print(f"| ours ({r['variant']}) | {r['step_ms']:.1f} | {r['tokens_per_s']:.0f} "
              f"| {r['peak_rss_mb']:.0f} | {speedup} |")
    if base:
        print(f"| PyTorch 1.13 | {base['step_ms']:.1f} | {base['tokens_per_s']:.0f} "
              f"| {base['peak_rss_mb']:.0f} | 1.00x |")
    if not mine:
        print("| ours | missing | | | |")
    if not base:
        print("| PyTorch 1.13 | missing | | | |")
    complete &= bool(mine) and base is not None
sys.exit(0 if complete else 1)
PY
exit "$status"
