#!/bin/bash
# tools/dup_classes.py on hand-made scans of a small tree: declarations and
# BUILD rules pass, a function written twice fails, and so does a scan whose
# cut-off could hide a row that is not boilerplate.
set -u
script="$PWD/tools/dup_classes.py"
cd "$TEST_TMPDIR"
fails=0
check() {  # check NAME COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi
}
cat >consts_a.h <<'X'
namespace lra {
inline constexpr int kVocabSize = 5;
inline constexpr int kNumClasses = 2;
inline constexpr int kSeqLen = 64;
inline constexpr int kTrainSize = 100;
}  // namespace lra
X
sed 's/k/kk/' consts_a.h >consts_b.h
cat >sum_a.cc <<'X'
float Sum(const float* x, int n) {
  float total = 0;
  for (int i = 0; i < n; ++i) {
    total += x[i] * x[i];
  }
  return total / n;
}
X
sed 's/Sum/Total/' sum_a.cc >sum_b.cc
printf 'cc_library(\n    name = "a",\n    srcs = ["a.cc"],\n    deps = [":b"],\n)\n\n' >BUILD.bazel
header() {  # header TOTAL MARKED
  echo "$1 pairs of places (6 files read), each sharing runs of 6 or more identical or same-shape lines (2 by shape alone, $2 of those marked boilerplate)"
}
{ header 3 1
  echo "D1 consts_a.h:1-6 ~ consts_b.h:1-6 shape"
  echo "D2 BUILD.bazel:1-5 ~ BUILD.bazel:1-5"
  echo "D3 consts_a.h:1-6 ~ consts_b.h:1-6 shape boilerplate"
} >clean.txt
python3 "$script" <clean.txt >clean.out
check "declarations, BUILD and boilerplate pass" test $? -eq 0
check "the declarations are counted" grep -q '^  declarative  1$' clean.out
check "the BUILD rule is counted" grep -q '^  build        1$' clean.out
{ header 4 1
  echo "D1 sum_a.cc:1-7 ~ sum_b.cc:1-7 shape"
  echo "D2 consts_a.h:1-6 ~ consts_b.h:1-6 shape"
  echo "D3 BUILD.bazel:1-5 ~ BUILD.bazel:1-5"
  echo "D4 consts_a.h:1-6 ~ consts_b.h:1-6 shape boilerplate"
} >code.txt
python3 "$script" <code.txt >code.out
check "a function written twice fails" test $? -eq 1
check "and is listed as code" grep -q '^code (.*declarative): D1 sum_a.cc:1-7' code.out
{ header 10 1
  echo "D1 consts_a.h:1-6 ~ consts_b.h:1-6 shape"
  echo "(+9 more pairs)"
} >cut.txt
python3 "$script" <cut.txt >cut.out
check "a cut-off hiding non-boilerplate rows fails" test $? -eq 1
check "and says so" grep -q 'raise --most' cut.out
if ((fails > 0)); then cat clean.out code.out cut.out; exit 1; fi
echo PASS
