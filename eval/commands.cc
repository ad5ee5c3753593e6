#include "eval/commands.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "config/suite.h"
#include "config/text_proto.h"
#include "eval/format.h"
#include "eval/html_report.h"
#include "eval/results.h"
#include "eval/status.h"
#include "eval/tables.h"

namespace lra {

absl::StatusOr<std::string> RenderLeaderboard(
    const LeaderboardOptions& options) {
  if (options.format != "md" && options.format != "csv" &&
      options.format != "html") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format=", options.format, ": allowed: md, csv, html"));
  }
  if (options.results_dir.empty()) {
    return absl::InvalidArgumentError(
        "--results is empty: allowed: a folder written by `lra run --out`");
  }
  const std::string dir = ResolvePath(WorkspaceDir(), options.results_dir);
  absl::StatusOr<ResultSet> all = LoadResults(dir);
  if (!all.ok()) return all.status();
  for (const SweepRecord& sweep : all->sweeps) {
    if (sweep.error.empty()) continue;
    std::cerr << "lra: warning: " << sweep.path
              << " is not a readable bench sweep and is left out of the "
                 "efficiency tables: "
              << sweep.error << "\n";
  }
  if (all->runs.empty() && all->sweeps.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no results under ", dir,
        " (expected <suite>/<task>/<run>/result.pbtxt from `lra run "
        "--out=DIR`, or bench/sweep.pbtxt from `lra bench --sweep "
        "--out=DIR`)"));
  }
  ResultFilter filter;
  filter.suites = options.suites;
  filter.tasks = options.tasks;
  filter.models = options.models;
  absl::StatusOr<ResultSet> results = FilterResults(*all, filter);
  if (!results.ok()) return results.status();
  AccuracyOptions accuracy;
  accuracy.group_by_machine = options.group_by_machine;
  Report report = BuildReport(options.results_dir, *results, accuracy);
  if (options.format == "csv") return RenderCsv(report);
  if (options.format == "html") return RenderHtml(report);
  return RenderMarkdown(report);
}

absl::Status LeaderboardCommand(const LeaderboardOptions& options) {
  absl::StatusOr<std::string> text = RenderLeaderboard(options);
  if (!text.ok()) return text.status();
  if (options.out.empty()) {
    std::cout << *text << std::flush;
    return absl::OkStatus();
  }
  const std::string path = ResolvePath(WorkspaceDir(), options.out);
  absl::Status status = WriteFileAtomic(path, *text);
  if (!status.ok()) return status;
  std::cerr << "leaderboard: wrote " << path << "\n";
  return absl::OkStatus();
}

absl::StatusOr<std::string> SuiteStatusText(const StatusOptions& options) {
  if (options.suite_path.empty()) {
    return absl::InvalidArgumentError(
        "status needs --suite=FILE (the suite whose runs to check)");
  }
  if (options.results_dir.empty()) {
    return absl::InvalidArgumentError(
        "--results is empty: allowed: a folder written by `lra run --out`");
  }
  const std::string workspace =
      options.workspace_dir.empty() ? WorkspaceDir() : options.workspace_dir;
  if (!options.load_suite) {
    return absl::InternalError("status: no suite loader given");
  }
  absl::StatusOr<Suite> suite =
      options.load_suite(ResolvePath(workspace, options.suite_path), workspace);
  if (!suite.ok()) return suite.status();
  SuiteStatus status =
      ComputeSuiteStatus(*suite, ResolvePath(workspace, options.results_dir));
  return FormatSuiteStatus(status);
}

absl::Status StatusCommand(const StatusOptions& options) {
  absl::StatusOr<std::string> text = SuiteStatusText(options);
  if (!text.ok()) return text.status();
  std::cout << *text << std::flush;
  return absl::OkStatus();
}

}  // namespace lra
