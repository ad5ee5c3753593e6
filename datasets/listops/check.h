// Data check for ListOps TSV files (behind `lra data`): reads a file in
// LRA's format and reports its size, token lengths, depths, label histogram,
// duplicates and how many labels agree with our evaluator.
#ifndef LRA_DATASETS_LISTOPS_CHECK_H_
#define LRA_DATASETS_LISTOPS_CHECK_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "datasets/listops/tsv.h"

namespace lra {

struct ListOpsCheckReport {
  std::string path;
  int64_t rows = 0;
  // Tokens per row after dropping parentheses (what the model sees before
  // padding or truncation).
  int64_t min_tokens = 0;
  double mean_tokens = 0;
  int64_t max_tokens = 0;
  // Nesting depth per row (a lone digit is 1).
  int min_depth = 0;
  double mean_depth = 0;
  int max_depth = 0;
  // Rows per label in the Target column.
  std::array<int64_t, 10> label_histogram = {};
  // Rows whose token sequence equals an earlier row's.
  int64_t duplicate_rows = 0;
  // Rows whose Target equals the evaluator's value.
  int64_t labels_agree = 0;
  // The first row whose Target differs from the evaluator's value (line 0
  // when every label agrees), so a report can point at it.
  int64_t first_disagreement_line = 0;
  int32_t first_disagreement_label = 0;
  int first_disagreement_value = 0;
  // When a seq_len was given: rows with more tokens, which the model sees
  // cut to seq_len.
  int seq_len = 0;
  int64_t truncated_rows = 0;
};

// Reads the whole file. Malformed rows are errors "PATH:LINE: ..."; a
// disagreeing label is not an error but is counted. `seq_len` > 0 counts
// the rows longer than it. `on_row`, when set, also sees every row (e.g. to
// compare splits).
absl::StatusOr<ListOpsCheckReport> CheckListOpsTsv(
    const std::string& path, int seq_len = 0,
    const std::function<void(const listops::TsvRow&)>& on_row = nullptr);

// Human-readable summary, one fact per line, ending with the line
// "labels agree: N/M" (and a newline); the first disagreeing row, if any,
// is named on the line before it as "PATH:LINE".
std::string FormatCheckReport(const ListOpsCheckReport& report);

}  // namespace lra

#endif  // LRA_DATASETS_LISTOPS_CHECK_H_
