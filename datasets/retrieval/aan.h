// Reader for LRA's Retrieval files (new_aan_pairs.{train,eval,test}.tsv
// from lra_release): one pair per line, five tab-separated fields
// `label id1 id2 text1 text2`, no header. LRA reads the label as a float
// (files have "0"/"1" or "0.0"/"1.0") and feeds each text's raw bytes, cut
// to the document length, to a dual encoder.
#ifndef LRA_DATASETS_RETRIEVAL_AAN_H_
#define LRA_DATASETS_RETRIEVAL_AAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lra {
namespace retrieval {

struct PairExamples {
  std::vector<std::vector<uint8_t>> first;   // text1, cut
  std::vector<std::vector<uint8_t>> second;  // text2, cut
  std::vector<int32_t> labels;               // 1 = related
};

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
