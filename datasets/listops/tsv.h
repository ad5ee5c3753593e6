// Reader and writer for LRA's ListOps TSV files (basic_train.tsv etc.):
// a header "Source<TAB>Target", then one row per example whose Source is the
// expression with parentheses around every binary nesting, e.g.
// "( ( ( [MAX 2 ) 9 ) ] )", and whose Target is the label 0..9.
#ifndef LRA_DATASETS_LISTOPS_TSV_H_
#define LRA_DATASETS_LISTOPS_TSV_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "datasets/listops/tokens.h"

namespace lra {
namespace listops {

// One parsed row, valid only during the callback.
struct TsvRow {
  int64_t line = 0;               // 1-based line in the file.
  absl::Span<const uint8_t> ids;  // Tokens without parentheses.
  int32_t label = 0;              // Target column.
  int value = 0;                  // What the evaluator computes.
  int depth = 0;                  // Nesting depth (a digit alone is 1).
};

// Reads `path` and calls `row_fn` for each row in order. Stops after
// `max_rows` rows when max_rows >= 0. Every malformed row (wrong column
// count, unknown token, label not in 0..9, unbalanced brackets or
// parentheses, an operator without arguments) is an error
// "PATH:LINE: what is wrong (allowed: ...)"; a missing file names the path.
// An error returned by `row_fn` stops the reading and is returned.
absl::Status ForEachListOpsTsvRow(
    const std::string& path, int64_t max_rows,
    const std::function<absl::Status(const TsvRow&)>& row_fn);

// Reads the first `max_rows` rows (all when max_rows < 0) with the labels of
// the file (not recomputed).
absl::StatusOr<ListOpsExamples> ReadListOpsTsv(const std::string& path,
                                               int64_t max_rows = -1);

// The official parenthesised Source text of a valid expression, e.g.
// [MAX 2 9 ] -> "( ( ( [MAX 2 ) 9 ) ] )". Errors for invalid expressions.
absl::StatusOr<std::string> FormatSource(absl::Span<const uint8_t> ids);

// Writes `examples` in LRA's format: the header, then "Source<TAB>Target"
// rows with CRLF line ends, as Python's csv module wrote the released files.
absl::Status WriteListOpsTsv(const std::string& path,
                             const ListOpsExamples& examples);

}  // namespace listops
}  // namespace lra

#endif  // LRA_DATASETS_LISTOPS_TSV_H_
