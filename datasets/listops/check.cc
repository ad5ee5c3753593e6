#include "datasets/listops/check.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "datasets/listops/tsv.h"
#include "util/status_macros.h"

namespace lra {

absl::StatusOr<ListOpsCheckReport> CheckListOpsTsv(
    const std::string& path, int seq_len,
    const std::function<void(const listops::TsvRow&)>& on_row) {
  ListOpsCheckReport report;
  report.path = path;
  report.seq_len = seq_len;
  int64_t total_tokens = 0;
  int64_t total_depth = 0;
  // Whole rows as strings: exact duplicate detection, about one byte per
  // token (~100 MB for the official training file).
  absl::flat_hash_set<std::string> seen;
  RETURN_IF_ERROR(listops::ForEachListOpsTsvRow(
      path, /*max_rows=*/-1, [&](const listops::TsvRow& row) {
        const int64_t tokens = static_cast<int64_t>(row.ids.size());
        if (report.rows == 0) {
          report.min_tokens = report.max_tokens = tokens;
          report.min_depth = report.max_depth = row.depth;
        }
        report.min_tokens = std::min(report.min_tokens, tokens);
        report.max_tokens = std::max(report.max_tokens, tokens);
        report.min_depth = std::min(report.min_depth, row.depth);
        report.max_depth = std::max(report.max_depth, row.depth);
        total_tokens += tokens;
        total_depth += row.depth;
        ++report.label_histogram[row.label];
        if (row.label == row.value) {
          ++report.labels_agree;
        } else if (report.first_disagreement_line == 0) {
          report.first_disagreement_line = row.line;
          report.first_disagreement_label = row.label;
          report.first_disagreement_value = row.value;
        }
        if (seq_len > 0 && tokens > seq_len) ++report.truncated_rows;
        if (on_row) on_row(row);
        if (!seen.emplace(row.ids.begin(), row.ids.end()).second) {
          ++report.duplicate_rows;
        }
        ++report.rows;
        return absl::OkStatus();
      }));
  if (report.rows > 0) {
    report.mean_tokens = static_cast<double>(total_tokens) / report.rows;
    report.mean_depth = static_cast<double>(total_depth) / report.rows;
  }
  return report;
}

std::string FormatCheckReport(const ListOpsCheckReport& report) {
  std::string out;
  absl::StrAppend(&out, "file: ", report.path, "\n");
  absl::StrAppend(&out, "rows: ", report.rows, "\n");
  absl::StrAppendFormat(&out, "tokens: min %d, mean %.1f, max %d\n",
                        report.min_tokens, report.mean_tokens,
                        report.max_tokens);
  absl::StrAppendFormat(&out, "depth: min %d, mean %.2f, max %d\n",
                        report.min_depth, report.mean_depth, report.max_depth);
  absl::StrAppend(&out, "labels:");
  for (int label = 0; label < 10; ++label) {
    absl::StrAppend(&out, " ", label, "=", report.label_histogram[label]);
  }
  absl::StrAppend(&out, "\n");
  if (report.seq_len > 0) {
    absl::StrAppend(&out, "rows longer than seq_len ", report.seq_len, ": ",
                    report.truncated_rows, "\n");
  }
  absl::StrAppend(&out, "duplicate rows: ", report.duplicate_rows, "\n");
  if (report.first_disagreement_line > 0) {
    absl::StrAppend(&out, "first disagreement: ", report.path, ":",
                    report.first_disagreement_line, ": Target ",
                    report.first_disagreement_label,
                    ", the expression evaluates to ",
                    report.first_disagreement_value, "\n");
  }
  absl::StrAppend(&out, "labels agree: ", report.labels_agree, "/", report.rows,
                  "\n");
  return out;
}

}  // namespace lra
