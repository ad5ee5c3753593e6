#include "datasets/listops/tsv.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "datasets/common/file_errors.h"
#include "datasets/listops/evaluator.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace listops {
namespace {

constexpr absl::string_view kHeader = "Source\tTarget";

}  // namespace

absl::Status ForEachListOpsTsvRow(
    const std::string& path, int64_t max_rows,
    const std::function<absl::Status(const TsvRow&)>& row_fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ListOps TSV file '", path, "'"));
  }
  std::string raw;
  int64_t line = 0;
  if (!std::getline(in, raw)) {
    return LineError(path, 1,
                     "empty file (allowed: header Source<TAB>Target, then "
                     "rows)");
  }
  ++line;
  if (absl::StripSuffix(raw, "\r") != kHeader) {
    return LineError(path, line,
                     absl::StrCat("header is '", Excerpt(raw),
                                  "' (allowed: Source<TAB>Target)"));
  }
  Evaluator evaluator;
  std::vector<uint8_t> ids;
  int64_t rows = 0;
  while ((max_rows < 0 || rows < max_rows) && std::getline(in, raw)) {
    ++line;
    // Python's csv module ends lines with CRLF; accept LF too.
    const absl::string_view text = absl::StripSuffix(raw, "\r");
    const std::vector<absl::string_view> columns = absl::StrSplit(text, '\t');
    if (columns.size() != 2) {
      return LineError(
          path, line,
          absl::StrCat(columns.size(), " tab-separated column(s) in '",
                       Excerpt(text),
                       "' (allowed: exactly 2, Source<TAB>Target)"));
    }
    TsvRow row;
    row.line = line;
    if (!absl::SimpleAtoi(columns[1], &row.label) || row.label < 0 ||
        row.label >= kNumClasses) {
      return LineError(path, line,
                       absl::StrCat("label '", Excerpt(columns[1]),
                                    "' (allowed: an integer 0..9)"));
    }
    ids.clear();
    evaluator.Reset();
    int64_t open_parens = 0;
    int64_t position = 0;
    for (absl::string_view piece :
         absl::StrSplit(columns[0], ' ', absl::SkipEmpty())) {
      ++position;
      if (piece == "(") {
        ++open_parens;
        continue;
      }
      if (piece == ")") {
        if (--open_parens < 0) {
          return LineError(path, line,
                           absl::StrCat("')' at token ", position,
                                        " closes nothing (unbalanced "
                                        "parentheses)"));
        }
        continue;
      }
      const int32_t id = TokenId(piece);
      if (id < 0) {
        return LineError(
            path, line,
            absl::StrCat("unknown token '", Excerpt(piece), "' at token ",
                         position, " (allowed: ", AllowedTokensText(), ")"));
      }
      absl::Status pushed = evaluator.Push(id);
      if (!pushed.ok()) return LineError(path, line, pushed.message());
      ids.push_back(static_cast<uint8_t>(id));
    }
    if (open_parens != 0) {
      return LineError(path, line,
                       absl::StrCat(open_parens,
                                    " '(' never closed (unbalanced "
                                    "parentheses)"));
    }
    absl::StatusOr<int> value = evaluator.Finish();
    if (!value.ok()) return LineError(path, line, value.status().message());
    row.ids = ids;
    row.value = *value;
    row.depth = evaluator.max_depth();
    RETURN_IF_ERROR(row_fn(row));
    ++rows;
  }
  if (in.bad()) {
    return absl::DataLossError(
        absl::StrCat(path, ":", line, ": read error after this line"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ListOpsExamples> ReadListOpsTsv(const std::string& path,
                                               int64_t max_rows) {
  ListOpsExamples examples;
  RETURN_IF_ERROR(ForEachListOpsTsvRow(path, max_rows, [&](const TsvRow& row) {
    examples.ids.emplace_back(row.ids.begin(), row.ids.end());
    examples.labels.push_back(row.label);
    return absl::OkStatus();
  }));
  return examples;
}

absl::StatusOr<std::string> FormatSource(absl::Span<const uint8_t> ids) {
  // Only a well-formed expression is formatted; its value is not needed.
  RETURN_IF_ERROR(Evaluate(ids).status());
  // Pass 1: the number of arguments of the operator at each position, since
  // an operator with n arguments opens n + 1 parentheses before its name.
  std::vector<int> num_args(ids.size(), 0);
  std::vector<size_t> open;  // Positions of the open operators.
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id == kPadId) break;
    if (id != kCloseId && !open.empty()) ++num_args[open.back()];
    if (IsOperatorId(id)) open.push_back(i);
    if (id == kCloseId) open.pop_back();
  }
  // Pass 2: LRA nests (((op a1) a2) ... ]) in binary pairs, so an operator
  // reads "( ( ... ( OP", each argument " ARG )", and the end " ] )".
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id == kPadId) break;
    if (id == kCloseId) {
      out += " ] )";
      --depth;
    } else {
      if (depth > 0) out += ' ';
      if (IsOperatorId(id)) {
        for (int k = 0; k <= num_args[i]; ++k) out += "( ";
        absl::StrAppend(&out, TokenText(id));
        ++depth;
        continue;
      }
      absl::StrAppend(&out, TokenText(id));
    }
    // A finished digit or operator is one argument of its parent.
    if (depth > 0) out += " )";
  }
  return out;
}

absl::Status WriteListOpsTsv(const std::string& path,
                             const ListOpsExamples& examples) {
  if (examples.ids.size() != examples.labels.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "WriteListOpsTsv: ", examples.ids.size(), " sequences but ",
        examples.labels.size(), " labels (allowed: the same number)"));
  }
  // A temporary file beside `path`, renamed into place once complete: an
  // error part-way (a bad example, a full disk) leaves an earlier file at
  // `path` as it was and nothing half-written.
  AtomicFileWriter out(path);
  RETURN_IF_ERROR(out.Open());
  RETURN_IF_ERROR(out.Append(absl::StrCat(kHeader, "\r\n")));
  for (size_t i = 0; i < examples.ids.size(); ++i) {
    absl::StatusOr<std::string> source = FormatSource(examples.ids[i]);
    if (!source.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "WriteListOpsTsv: example ", i, ": ", source.status().message()));
    }
    RETURN_IF_ERROR(
        out.Append(absl::StrCat(*source, "\t", examples.labels[i], "\r\n")));
  }
  return out.Commit();
}

}  // namespace listops
}  // namespace lra
