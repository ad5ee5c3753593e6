#include "datasets/retrieval/aan.h"

#include <algorithm>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "datasets/common/file_errors.h"
#include "util/status_macros.h"

namespace lra {
namespace retrieval {
namespace {

std::vector<uint8_t> Cut(absl::string_view text, int max_bytes) {
  const size_t kept = std::min<size_t>(text.size(), max_bytes);
  return std::vector<uint8_t>(text.begin(), text.begin() + kept);
}

}  // namespace

std::string AanFileName(bool train, bool eval) {
  return absl::StrCat("new_aan_pairs.",
                      train ? "train" : (eval ? "eval" : "test"), ".tsv");
}

absl::Status ForEachAanTsvRow(
    const std::string& path, int64_t max_rows,
    const std::function<absl::Status(const AanRow&)>& row_fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open AAN TSV file '", path, "'"));
  }
  std::string raw;
  int64_t rows = 0;
  AanRow row;
  while (rows < max_rows && std::getline(in, raw)) {
    ++row.line;
    const absl::string_view text = absl::StripSuffix(raw, "\r");
    const std::vector<absl::string_view> fields = absl::StrSplit(text, '\t');
    if (fields.size() != 5) {
      return LineError(
          path, row.line,
          absl::StrCat("has ", fields.size(),
                       " tab-separated fields (allowed: 5, label id1 id2 "
                       "text1 text2)"));
    }
    double value = 0;
    if (!absl::SimpleAtod(fields[0], &value) || (value != 0 && value != 1)) {
      return LineError(path, row.line,
                       absl::StrCat("label is '", Excerpt(fields[0]),
                                    "' (allowed: 0 or 1, e.g. 1 or 1.0)"));
    }
    row.label = value == 1 ? 1 : 0;
    row.id1 = fields[1];
    row.id2 = fields[2];
    row.text1 = fields[3];
    row.text2 = fields[4];
    RETURN_IF_ERROR(row_fn(row));
    ++rows;
  }
  if (in.bad()) {
    return absl::DataLossError(
        absl::StrCat("error reading AAN TSV file '", path, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PairExamples> ReadAanTsv(const std::string& path,
                                        int64_t max_rows, int max_bytes) {
  PairExamples out;
  RETURN_IF_ERROR(ForEachAanTsvRow(path, max_rows, [&](const AanRow& row) {
    out.labels.push_back(row.label);
    out.first.push_back(Cut(row.text1, max_bytes));
    out.second.push_back(Cut(row.text2, max_bytes));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace retrieval
}  // namespace lra
