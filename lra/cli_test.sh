#!/bin/bash
# The `lra` command end to end: config errors exit non-zero with one message
# naming file, line and field; earlier results survive failed runs; `data
# check` passes a small well-formed folder of every loader and names the file
# (and line or record) of a malformed one; `data stats` and `data bench` run
# for every registered task; list works.
set -u
ws="$TEST_SRCDIR/lra_harness"
lra="$ws/lra/lra"
pathfinder_tool="$ws/datasets/pathfinder/pathfinder_tool"
export BUILD_WORKSPACE_DIRECTORY="$ws"
out="$TEST_TMPDIR/out"
source "$ws/lra/testdata/check.sh"

# 1. A config error: exit 2, one message with file:line and field, nothing written.
"$lra" run --suite=lra/testdata/bad_batch_suite.pbtxt --out="$out" >"$TEST_TMPDIR/o" 2>"$TEST_TMPDIR/e"
rc=$?
check "bad config exits 2 (got $rc)" test "$rc" -eq 2
check "bad config names file:line" grep -q "bad_batch_suite.pbtxt:8" "$TEST_TMPDIR/e"
check "bad config names the field" grep -q "batch_size = -3" "$TEST_TMPDIR/e"
check "bad config says what is allowed" grep -q "allowed" "$TEST_TMPDIR/e"
check "bad config writes nothing" test ! -e "$out"
cat "$TEST_TMPDIR/e"

# 1b. A model name that would climb out of --out (../../../escaped) is
#     refused at validation, naming file, line, field and what is allowed;
#     nothing is written anywhere (issue 13).
escape_root="$TEST_TMPDIR/escape_root"
mkdir -p "$escape_root/a/b"
"$lra" run --suite=lra/testdata/escape_suite.pbtxt --out="$escape_root/a/b/out" >"$TEST_TMPDIR/o" 2>"$TEST_TMPDIR/e"
rc=$?
check "escaping model name exits 2 (got $rc)" test "$rc" -eq 2
check "escaping model name names file:line and field" grep -q 'escape_suite.pbtxt:7: .*name = "../../../escaped": allowed: 1 to 100 characters from A-Z a-z 0-9' "$TEST_TMPDIR/e"
check "escaping model name writes no file" test -z "$(find "$escape_root" -mindepth 1 ! -type d)"
check "escaping model name makes no folder" test -z "$(find "$escape_root" -mindepth 1 -type d ! -path "$escape_root/a" ! -path "$escape_root/a/b")"
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
"$lra" leaderboard --results="$out" --format=html --output_file="$TEST_TMPDIR/report.html" 2>&1
check "html report written" grep -q "<svg" "$TEST_TMPDIR/report.html"
"$lra" status --suite=lra/testdata/tiny_suite.pbtxt --results="$out" >"$TEST_TMPDIR/o" 2>&1
check "status shows both runs done" grep -q "2 done" "$TEST_TMPDIR/o"

# 4c. eval: the best checkpoint on the same task file gives the run's own
#     test accuracy exactly; another vocabulary or classes, or a longer
#     sequence than the model has positions for, is one clear error.
run_dir="$out/tiny/listops/tiny"
"$lra" eval --run="$run_dir" --task_file=lra/testdata/tiny_task.pbtxt >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "eval exits 0 (got $rc)" test "$rc" -eq 0
recorded=$(awk '/^test_accuracy:/{printf "%.6f", $2}' "$run_dir/result.pbtxt")
check "eval reproduces the recorded test accuracy ($recorded)" \
  grep -Eq "^accuracy $recorded \([0-9]+/16 correct\), loss [0-9.]+, examples 16$" "$TEST_TMPDIR/o"
check "eval names the split" grep -q "^evaluated on: task 'listops' (seq_len 24), test split$" "$TEST_TMPDIR/o"
cat "$TEST_TMPDIR/o"
"$lra" eval --run="$run_dir" --task_file=lra/testdata/tiny_task.pbtxt --split=validation >"$TEST_TMPDIR/o" 2>&1
check "eval --split=validation" grep -q "), validation split$" "$TEST_TMPDIR/o"
"$lra" eval --run="$run_dir" --task_file=lra/testdata/tiny_brackets_task.pbtxt >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "eval on another vocabulary exits 2 (got $rc)" test "$rc" -eq 2
check "eval names both vocabularies and files" grep -q \
  "^lra: error: vocabulary size does not match: lra/testdata/tiny_brackets_task.pbtxt (task 'brackets') has 5, the model of .*tiny/result.pbtxt has 16" "$TEST_TMPDIR/o"
cat "$TEST_TMPDIR/o"
"$lra" eval --run="$run_dir" --task_file=lra/testdata/tiny_long_task.pbtxt >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "eval on a longer task exits 2 (got $rc)" test "$rc" -eq 2
check "eval names both lengths" grep -q "has seq_len 48 (49 positions per document with CLS), the model of .* has 25 positions" "$TEST_TMPDIR/o"
"$lra" eval --run="$run_dir" --task_file=lra/testdata/tiny_task.pbtxt --split=dev >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "eval on an unknown split exits 2 (got $rc)" test "$rc" -eq 2
"$lra" eval --run="$run_dir" --task_file=lra/testdata/tiny_task.pbtxt --suite=x >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "eval refuses a foreign flag (got $rc)" test "$rc" -eq 2
"$lra" eval --help >"$TEST_TMPDIR/o" 2>&1
check "eval --help lists its flags" test "$(grep -c '^  --' "$TEST_TMPDIR/o")" -eq 5

# 5. Missing suite file.
"$lra" run --suite=lra/testdata/nope.pbtxt --out="$out" 2>"$TEST_TMPDIR/e"
rc=$?
check "missing suite exits 2 (got $rc)" test "$rc" -eq 2
check "missing suite names path" grep -q "nope.pbtxt" "$TEST_TMPDIR/e"

data_check() {  # data_check ARGS...: `lra data check ARGS`, output in o, status in rc
  "$lra" data check "$@" >"$TEST_TMPDIR/o" 2>&1
  rc=$?
}

# 6. data check on the official-format sample, and on a malformed file.
data_check --task=listops --tsv=datasets/listops/testdata/basic_sample.tsv
check "data check exits 0 (got $rc)" test "$rc" -eq 0
check "data check agrees on every label" grep -Eq "^labels agree: ([0-9]+)/\1$" "$TEST_TMPDIR/o"
cat "$TEST_TMPDIR/o"
data_check --task=listops --tsv=datasets/listops/testdata/basic_malformed.tsv
check "malformed data exits non-zero (got $rc)" test "$rc" -ne 0
check "malformed data names a line" grep -q "basic_malformed.tsv:[0-9]" "$TEST_TMPDIR/o"
cat "$TEST_TMPDIR/o"

# 6a. data check on a folder of every loader: exit 0 with the counts; a
#     malformed or missing file exits non-zero naming it.
data="$TEST_TMPDIR/data"
expect_ok() {  # expect_ok NAME PATTERN... (on $TEST_TMPDIR/o, rc in $rc)
  local name=$1
  shift
  check "$name exits 0 (got $rc)" test "$rc" -eq 0
  for pattern in "$@"; do
    check "$name prints '$pattern'" grep -q -e "$pattern" "$TEST_TMPDIR/o"
  done
  check "$name ends with the verdict" sh -c "tail -n 1 '$TEST_TMPDIR/o' | grep -q '^verdict: OK'"
}
expect_error() {  # expect_error NAME PATTERN (one error line naming a file)
  check "$1 exits non-zero (got $rc)" test "$rc" -ne 0
  check "$1 names '$2'" grep -q -e "$2" "$TEST_TMPDIR/o"
  check "$1 is one line" test "$(wc -l <"$TEST_TMPDIR/o")" -eq 1
}
data_check_fails() {  # data_check_fails NAME PATTERN ARGS...: data_check ARGS, then expect_error
  local name="$1" pattern="$2"
  shift 2
  data_check "$@"
  expect_error "$name" "$pattern"
}

# ListOps: basic_{train,val,test}.tsv in a folder.
mkdir -p "$data/listops"
for split in train val test; do
  cp "$ws/datasets/listops/testdata/basic_sample.tsv" "$data/listops/basic_$split.tsv"
done
data_check --task=listops --data_dir="$data/listops"
expect_ok "listops check" "^== val: .*basic_val.tsv$" "^examples: 20$" \
  "^labels agree with our evaluator: 20/20$" "^files read: 3$" \
  "warning: task.train_size = 96000 but" "^rows also in train: 20$"
cp "$ws/datasets/listops/testdata/basic_malformed.tsv" "$data/listops/basic_test.tsv"
data_check_fails "malformed listops" "basic_test.tsv:3: " --task=listops --data_dir="$data/listops"
rm "$data/listops/basic_test.tsv"
data_check_fails "missing listops file" "basic_test.tsv" --task=listops --data_dir="$data/listops"

# Text: aclImdb's layout.
imdb="$data/aclImdb"
mkdir -p "$imdb"/{train,test}/{pos,neg}
printf 'A great film.' >"$imdb/train/pos/1_9.txt"
printf 'Loved it.' >"$imdb/train/pos/2_8.txt"
printf 'Dull.' >"$imdb/train/neg/3_2.txt"
printf 'Fine.' >"$imdb/test/pos/4_7.txt"
printf 'Bad.' >"$imdb/test/neg/5_1.txt"
data_check --task=text --data_dir="$imdb"
expect_ok "text check" "^== train: .*aclImdb/train/{pos,neg}$" "^examples: 3$" \
  "^reviews: neg 1 (ratings 1-4), pos 2 (ratings 7-10)$" "^== val, test: " \
  "^tokens: min 5, mean 9.0, max 13; 0 of 3 cut to seq_len$" "^files read: 5$"
printf 'x' >"$imdb/test/neg/notes.md"
data_check_fails "malformed text" "aclImdb/test/neg/notes.md" --task=text --data_dir="$imdb"
rm "$imdb/test/neg/notes.md"
: >"$imdb/train/neg/6_3.txt"
data_check_fails "empty review" "aclImdb/train/neg/6_3.txt' is empty" --task=text --data_dir="$imdb"
rm "$imdb/train/neg/6_3.txt"

# Retrieval: new_aan_pairs.{train,eval,test}.tsv.
aan="$data/aan"
mkdir -p "$aan"
for split in train eval test; do
  printf '1\taan/A\taan/B\tFirst paper\tSecond paper\n0\taan/A\taan/C\tshort\tlonger text\n' \
    >"$aan/new_aan_pairs.$split.tsv"
done
data_check --task=retrieval --data_dir="$aan"
expect_ok "retrieval check" "^== val: .*new_aan_pairs.eval.tsv$" "^examples: 2$" \
  "^labels: 0=1 1=1$" "^tokens per document: min 5, mean 9.8, max 12; 0 of 4 cut" \
  "^distinct document ids: 3"
printf '1\taan/A\taan/B\tok\tok\n1\taan/A\ttext only\n' >"$aan/new_aan_pairs.eval.tsv"
data_check_fails "malformed retrieval" "new_aan_pairs.eval.tsv:2: has 3 tab-separated fields" --task=retrieval --data_dir="$aan"

# Image: CIFAR-10 batches, 10 records each (labels 0..9), test 20.
cifar="$data/cifar"
mkdir -p "$cifar"
cifar_batch() {  # cifar_batch FILE RECORDS
  : >"$1"
  for ((r = 0; r < $2; r++)); do
    printf "\\x0$((r % 10))" >>"$1"
    head -c 3072 /dev/zero >>"$1"
  done
}
for b in 1 2 3 4 5; do cifar_batch "$cifar/data_batch_$b.bin" 10; done
cifar_batch "$cifar/test_batch.bin" 20
data_check --task=image --data_dir="$cifar"
expect_ok "image check" "^examples: 45$" "^examples: 5$" "^examples: 20$" \
  "^labels: 0=2 1=2 2=2 3=2 4=2 5=2 6=2 7=2 8=2 9=2$" \
  "^records per batch: data_batch_1.bin 10, .*data_batch_5.bin 10$" "^files read: 6$"
head -c $((3073 * 4 + 100)) "$cifar/test_batch.bin" >"$cifar/cut.bin"
mv "$cifar/cut.bin" "$cifar/data_batch_2.bin"
data_check_fails "truncated CIFAR batch" "data_batch_2.bin: record 4 is cut short" --task=image --data_dir="$cifar"
rm "$cifar/test_batch.bin"
data_check_fails "missing CIFAR batch" "data_batch_2.bin" --task=image --data_dir="$cifar"

# Pathfinder: LRA's layout written by pathfinder_tool (20 images, 8 per batch).
pf="$data/pathfinder32/curv_contour_length_14"
"$pathfinder_tool" export --resolution=32 --count=20 --images_per_batch=8 --out="$pf" >/dev/null 2>&1
data_check --task=pathfinder --data_dir="$data/pathfinder32"
expect_ok "pathfinder check" "^examples: 16$" "^PNGs decoded: 16, all 32x32 8-bit grayscale$" \
  "^files read: 23$" "^data: .*curv_contour_length_14$"
"$pathfinder_tool" render --resolution=64 --count=1 --out="$TEST_TMPDIR/big" >/dev/null 2>&1
cp "$TEST_TMPDIR/big/sample_0.png" "$pf/imgs/1/sample_3.png"
data_check_fails "wrong-size PNG" "imgs/1/sample_3.png: image is 64x64 pixels (allowed: 32x32) (listed at .*metadata/1.npy:4)" --task=pathfinder --data_dir="$data/pathfinder32"
echo "not a png" >"$pf/imgs/1/sample_3.png"
data_check_fails "non-PNG" "imgs/1/sample_3.png" --task=pathfinder --data_dir="$data/pathfinder32"
data_check_fails "missing pathfinder folder" "nowhere/metadata" --task=pathx --data_dir="$data/nowhere"

# A task without files, and the old one-file form.
data_check_fails "recall has no files" "allowed: image, listops, pathfinder, pathx, retrieval, text" --task=recall --data_dir="$data"

# 6b. stats and bench for every registered task (as `lra list` prints them,
#     the same list as the error for an unknown task), on a few examples;
#     official files too.
tasks=$(echo $("$lra" list 2>&1 | sed -n '/^tasks /{n;p}' | tr -d ','))
check "tasks listed" test "$(echo $tasks | wc -w)" -ge 8
check "the unknown-task error lists the same tasks" grep -q "allowed: ${tasks// /, })" \
  <("$lra" data stats --task=nope 2>&1)
for task in $tasks; do
  "$lra" data stats --task="$task" --count=12 >"$TEST_TMPDIR/o" 2>&1
  rc=$?
  check "stats $task exits 0 (got $rc)" test "$rc" -eq 0
  check "stats $task reports three prefixes" test "$(grep -c "^== $task .* (first 12 of [0-9]* examples, built in" "$TEST_TMPDIR/o")" -eq 3
  check "stats $task shows labels" grep -q "^labels: 0=" "$TEST_TMPDIR/o"
  "$lra" data bench --task="$task" --count=12 --threads=1 >"$TEST_TMPDIR/o" 2>&1
  rc=$?
  check "bench $task exits 0 (got $rc)" test "$rc" -eq 0
  check "bench $task prints the rates" grep -Eq "^$task train: 12 of [0-9]+ examples generated on 1 thread in .* examples/s, .* tokens/s" "$TEST_TMPDIR/o"
done
"$lra" data stats --task=retrieval --data_dir="$aan" --count=1 >"$TEST_TMPDIR/o" 2>&1
check "stats of official files" grep -q "^== retrieval train (first 1 of 147086 examples" "$TEST_TMPDIR/o"
check "stats says the data is files" grep -q "^data: official files$" "$TEST_TMPDIR/o"
"$lra" data bench --task=text --data_dir="$imdb" --count=2 --threads=1 >"$TEST_TMPDIR/o" 2>&1
check "bench of official files" grep -q "^text train: 2 of 25000 examples loaded from files" "$TEST_TMPDIR/o"
cat "$TEST_TMPDIR/o"

# 6c. Pathfinder images a person can look at.
"$lra" data render --task=pathfinder --resolution=32 --count=4 --out="$TEST_TMPDIR/render" >/dev/null 2>&1
check "render writes PNGs" test -s "$TEST_TMPDIR/render/sample_3.png"
check "render writes a contact sheet" test -s "$TEST_TMPDIR/render/contact_sheet.png"
"$lra" data stats --task=nope >"$TEST_TMPDIR/o" 2>&1
check "unknown task lists tasks" grep -q "allowed: .*listops.*pathfinder" "$TEST_TMPDIR/o"

# 7. list, bench and unknown commands.
"$lra" list >"$TEST_TMPDIR/o" 2>&1
check "list shows full attention" grep -q "^full" "$TEST_TMPDIR/o"
check "list shows capabilities" grep -q "^  shared QK no; reads the layer input no" "$TEST_TMPDIR/o"
check "list shows exemptions or none" grep -q "^  conformance exemption" "$TEST_TMPDIR/o"
check "list shows the mixer registry" grep -q "^token mixers other than attention" "$TEST_TMPDIR/o"
"$lra" bench --model_file=configs/models/bench.pbtxt --seq_len=16,32 --batch=1 \
  --warmup=0 --steps=1 --threads=1 >"$TEST_TMPDIR/o" 2>"$TEST_TMPDIR/e"
rc=$?
check "bench exits 0 (got $rc)" test "$rc" -eq 0
check "bench prints the CSV header" test "$(head -n 1 "$TEST_TMPDIR/o")" = \
  "variant,seq_len,batch,step_ms,tokens_per_s,peak_rss_mb,mean_length,gflop_per_step,gflops,peak_gflops,peak_fraction,flops_scope,cpu"
check "bench prints a row per length" grep -Eq "^full,32,1,[0-9]+\.[0-9],[0-9]+,[0-9]+,32\.0,[0-9.e+-]+,[0-9]+\.[0-9]+,[0-9]+\.[0-9],[0-9]+\.[0-9]+,all,[^,]+$" "$TEST_TMPDIR/o"
check "bench prints two rows" test "$(wc -l <"$TEST_TMPDIR/o")" -eq 3
# configs/models/bench.pbtxt at 16 tokens (mean pooling, no CLS), 2 layers of
# d 128, qkv 128, MLP 256, 10 classes: per layer 8*16*128*128 (projections)
# + 4*16*16*128 (attention) + 4*16*128*256 (MLP) = 4325376, head
# 2*(128*256 + 256*10) = 70656; forward 8721408, with backward x3 = 26164224.
check "bench counts the step's FLOPs" grep -q "^full,16,1,[^,]*,[^,]*,[^,]*,16\.0,0\.0261642," "$TEST_TMPDIR/o"
check "bench records the CPU model" grep -q ",all,$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | tr ',' ';')$" "$TEST_TMPDIR/o"
check "bench reports the matmul peak" grep -q "^bench: CPU .*; fp32 matmul peak [0-9.]* GFLOP/s" "$TEST_TMPDIR/e"
cat "$TEST_TMPDIR/o" "$TEST_TMPDIR/e"
# Lengths drawn from a task: the first train examples' real lengths, the
# same every time; seq_len defaults to the task's (24).
"$lra" data stats --task_file=lra/testdata/tiny_task.pbtxt --count=4 >"$TEST_TMPDIR/stats" 2>&1
task_mean=$(sed -n '/^== listops train/,/^==/{s/^tokens: min [0-9]*, mean \([0-9.]*\),.*/\1/p}' "$TEST_TMPDIR/stats" | head -1)
for i in 1 2; do
  "$lra" bench --model_file=configs/models/bench.pbtxt --lengths_from=lra/testdata/tiny_task.pbtxt \
    --batch=2 --warmup=0 --steps=2 --threads=1 >"$TEST_TMPDIR/o$i" 2>"$TEST_TMPDIR/e$i"
  rc=$?
  check "bench --lengths_from exits 0 (got $rc)" test "$rc" -eq 0
done
check "the task's first train examples' mean length ($task_mean)" test -n "$task_mean"
check "bench --lengths_from prints the mean real length" \
  grep -q "^bench: seq_len 24: mean real length $task_mean tokens per document" "$TEST_TMPDIR/e1"
check "bench --lengths_from has it in its row" grep -q "^full,24,2,[^,]*,[^,]*,[^,]*,$task_mean," "$TEST_TMPDIR/o1"
check "bench --lengths_from is deterministic" test "$(cut -d, -f7,8 "$TEST_TMPDIR/o1")" = "$(cut -d, -f7,8 "$TEST_TMPDIR/o2")"
cat "$TEST_TMPDIR/o1" "$TEST_TMPDIR/e1" "$TEST_TMPDIR/stats"
# A sweep also measures each configuration trained in its results folder,
# under its own name and parameters (so the leaderboard never borrows).
sweep_dir="$TEST_TMPDIR/sweep_results"
mkdir -p "$sweep_dir/s/listops/local-w4"
cat >"$sweep_dir/s/listops/local-w4/result.pbtxt" <<'PB'
status: "done"
config {
  model { name: "local-w4" attention { name: "local" param { name: "mode" text: "sliding" } param { name: "window" number: 4 } } }
}
PB
# A trained handler with a mixer inside: measured at the bench's segment
# length (512), named by both.
mkdir -p "$sweep_dir/s/listops/rmt-isab"
cat >"$sweep_dir/s/listops/rmt-isab/result.pbtxt" <<'PB'
status: "done"
config {
  model { name: "rmt-isab" mixer { name: "isab" } sequence { name: "rmt" param { name: "memory_slots" number: 4 } param { name: "segment_len" number: 8 } } }
}
PB
"$lra" bench --sweep --out="$sweep_dir" --model_file=configs/models/bench.pbtxt \
  --seq_len=16 --batch=1 --warmup=0 --steps=1 --threads=1 >"$TEST_TMPDIR/o" 2>"$TEST_TMPDIR/e"
rc=$?
check "bench --sweep exits 0 (got $rc)" test "$rc" -eq 0
check "the sweep measures the trained configuration" grep -Eq "^local \(mode=sliding; window=4\),16,1,[0-9]+\.[0-9]," "$TEST_TMPDIR/o"
check "the sweep measures the default too" grep -Eq "^local,16,1," "$TEST_TMPDIR/o"
check "the sweep measures the state-space mixers" grep -Eq "^s4d,16,1,[0-9]+\.[0-9]," "$TEST_TMPDIR/o"
check "the sweep measures transformer_xl by its own name" grep -Eq "^transformer_xl,16,1,[0-9]+\.[0-9]," "$TEST_TMPDIR/o"
check "the sweep measures rmt over the model's attention" grep -Eq "^rmt \(full\),16,1,[0-9]+\.[0-9]," "$TEST_TMPDIR/o"
check "the sweep measures global_memory" grep -Eq "^global_memory \(full\),16,1,[0-9]+\.[0-9]," "$TEST_TMPDIR/o"
check "the sweep measures the trained handler with its mixer" grep -Eq "^rmt \(isab; memory_slots=4\),16,1,[0-9]+\.[0-9]," "$TEST_TMPDIR/o"
check "the sweep labels the handler's points" grep -q '^  label: "rmt (isab, memory_slots=4)"' "$sweep_dir/bench/sweep.pbtxt"
check "the sweep keeps the parameters" grep -q 'name: "window"' "$sweep_dir/bench/sweep.pbtxt"
check "the sweep records the CPU model" grep -q '^cpu_model: "' "$sweep_dir/bench/sweep.pbtxt"
check "the sweep records the matmul peak" grep -q '^matmul_peak_gflops: ' "$sweep_dir/bench/sweep.pbtxt"
check "the sweep records each point's FLOPs" grep -q '^  flops_per_step: ' "$sweep_dir/bench/sweep.pbtxt"
cat "$TEST_TMPDIR/o"
# A model with a sequence handler is named by it (and by the attention it
# runs, unless it brings its own).
for handler in transformer_xl rmt; do
  label="transformer_xl \(segment_len=8\)"
  test "$handler" = rmt && label="rmt \(full; segment_len=8\)"
  { cat configs/models/bench.pbtxt
    echo "sequence { name: \"$handler\" param { name: \"segment_len\" number: 8 } }"
  } >"$TEST_TMPDIR/$handler.pbtxt"
  "$lra" bench --model_file="$TEST_TMPDIR/$handler.pbtxt" --seq_len=16 --batch=1 \
    --warmup=0 --steps=1 --threads=1 >"$TEST_TMPDIR/o" 2>"$TEST_TMPDIR/e"
  check "bench names the $handler model by its handler" grep -Eq "^$label,16,1,[0-9]+\.[0-9]," "$TEST_TMPDIR/o"
  cat "$TEST_TMPDIR/o" "$TEST_TMPDIR/e"
done
"$lra" run --model_file=x --suite=lra/testdata/tiny_suite.pbtxt >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "a flag foreign to the command exits 2 (got $rc)" test "$rc" -eq 2
check "the foreign flag is named" grep -q "^lra: error: --model_file is not a flag of \`lra run\`" "$TEST_TMPDIR/o"
check "the command's flags are listed" grep -q "^  --suite " "$TEST_TMPDIR/o"
"$lra" data bench --help >"$TEST_TMPDIR/o" 2>&1
rc=$?
check "help exits 0 (got $rc)" test "$rc" -eq 0
check "help lists the command's flags" grep -q "^  --threads (default \"0\"): Threads; 0 = all cores" "$TEST_TMPDIR/o"
check "help lists only the command's flags" test "$(grep -c '^  --' "$TEST_TMPDIR/o")" -eq 5
"$lra" frobnicate >/dev/null 2>&1
rc=$?
check "unknown command exits 2 (got $rc)" test "$rc" -eq 2

finish
