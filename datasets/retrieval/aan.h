// Reader for LRA's Retrieval files (new_aan_pairs.{train,eval,test}.tsv
// from lra_release): one pair per line, five tab-separated fields
// `label id1 id2 text1 text2`, no header. LRA reads the label as a float
// (files have "0"/"1" or "0.0"/"1.0") and feeds each text's raw bytes, cut
// to the document length, to a dual encoder.
#ifndef LRA_DATASETS_RETRIEVAL_AAN_H_
#define LRA_DATASETS_RETRIEVAL_AAN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lra {
namespace retrieval {

struct PairExamples {
  std::vector<std::vector<uint8_t>> first;   // text1, cut
  std::vector<std::vector<uint8_t>> second;  // text2, cut
  std::vector<int32_t> labels;               // 1 = related
};

// One parsed line, valid only during the callback. Texts are whole (not
// cut) and exclude the line end.
struct AanRow {
  int64_t line = 0;  // 1-based line in the file.
  int32_t label = 0;
  absl::string_view id1, id2;
  absl::string_view text1, text2;
};

// Reads `path` and calls `row_fn` for each line in order, stopping after
// `max_rows` rows. A missing file is NotFound naming it; a malformed line
// (not five fields, a label other than 0/1) is InvalidArgument as
// "PATH:LINE: what (allowed: ...)". An error returned by `row_fn` stops the
// reading and is returned.
absl::Status ForEachAanTsvRow(
    const std::string& path, int64_t max_rows,
    const std::function<absl::Status(const AanRow&)>& row_fn);

// Reads up to `max_rows` pairs, each text cut to `max_bytes`. A missing
// file is NotFound naming it; a malformed line is InvalidArgument as
// "PATH:LINE: what (allowed: ...)".
absl::StatusOr<PairExamples> ReadAanTsv(const std::string& path,
                                        int64_t max_rows, int max_bytes);

// The file name of a split: "new_aan_pairs.train.tsv", ".eval.tsv" (LRA's
// validation) or ".test.tsv".
std::string AanFileName(bool train, bool eval);

}  // namespace retrieval
}  // namespace lra

#endif  // LRA_DATASETS_RETRIEVAL_AAN_H_
