#include "eval/status.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "config/text_proto.h"
#include "eval/results.h"
#include "eval/tables.h"

namespace lra {
namespace {

namespace fs = std::filesystem;

std::string DoneDetail(const RunResult& result) {
  return absl::StrFormat("test %.2f%%, best val %.2f%% at step %d, %s",
                         100 * result.test_accuracy(),
                         100 * result.best_val_accuracy(), result.best_step(),
                         FormatWallTime(result.wall_seconds()));
}

// Every "<task>/<run>" folder under `suite_dir` that holds run files.
std::vector<std::string> RunFoldersOnDisk(const std::string& suite_dir) {
  std::vector<std::string> ids;
  std::error_code error;
  for (const auto& task : fs::directory_iterator(suite_dir, error)) {
    std::error_code kind_error;
    if (!task.is_directory(kind_error)) continue;
    for (const auto& run : fs::directory_iterator(task.path(), error)) {
      if (!run.is_directory(kind_error)) continue;
      const std::string dir = run.path().string();
      if (FileExists(dir + "/result.pbtxt") ||
          FileExists(dir + "/failed.pbtxt") ||
          FileExists(dir + "/metrics.csv") ||
          FileExists(dir + "/checkpoint.last") ||
          FileExists(dir + "/config.pbtxt")) {
        ids.push_back(absl::StrCat(task.path().filename().string(), "/",
                                   run.path().filename().string()));
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

const char* PlannedRunStateName(PlannedRunState state) {
  switch (state) {
    case PlannedRunState::kDone:
      return "done";
    case PlannedRunState::kFailed:
      return "failed";
    case PlannedRunState::kUnfinished:
      return "unfinished";
    case PlannedRunState::kStale:
      return "stale";
    case PlannedRunState::kMissing:
      return "missing";
    case PlannedRunState::kNotPlanned:
      return "not in suite";
  }
  return "unknown";
}

int SuiteStatus::Count(PlannedRunState state) const {
  return static_cast<int>(std::count_if(
      runs.begin(), runs.end(),
      [state](const PlannedRunStatus& run) { return run.state == state; }));
}

SuiteStatus ComputeSuiteStatus(const Suite& suite,
                               const std::string& results_dir) {
  SuiteStatus status;
  status.suite = suite.name;
  status.suite_dir = absl::StrCat(results_dir, "/", suite.name);
  std::set<std::string> planned;
  for (const PlannedRun& run : suite.runs) {
    planned.insert(run.id);
    PlannedRunStatus line;
    line.id = run.id;
    const std::string dir = absl::StrCat(status.suite_dir, "/", run.id);
    std::error_code error;
    if (!fs::is_directory(dir, error)) {
      line.state = PlannedRunState::kMissing;
      status.runs.push_back(line);
      continue;
    }
    size_t slash = run.id.find('/');
    RunRecord record = LoadRunFolder(dir, suite.name, run.id.substr(0, slash),
                                     run.id.substr(slash + 1));
    switch (record.state) {
      case RunState::kDone: {
        std::vector<std::string> differences =
            ConfigDifferences(record.result.config(), run.config);
        if (differences.empty()) {
          line.state = PlannedRunState::kDone;
          line.detail = DoneDetail(record.result);
        } else {
          line.state = PlannedRunState::kStale;
          if (differences.size() > 3) {
            differences.resize(3);
            differences.push_back("…");
          }
          line.detail = absl::StrCat(
              "result.pbtxt was made with another config; the suite now has ",
              absl::StrJoin(differences, ", "),
              " (move the folder away to train it again)");
        }
        break;
      }
      case RunState::kFailed:
        line.state = PlannedRunState::kFailed;
        line.error = record.error;
        line.detail = ErrorTail(record.error, 100);
        break;
      case RunState::kUnfinished: {
        line.state = record.result.eval_size() > 0 ||
                             FileExists(dir + "/checkpoint.last") ||
                             FileExists(dir + "/config.pbtxt")
                         ? PlannedRunState::kUnfinished
                         : PlannedRunState::kMissing;
        if (record.result.eval_size() > 0) {
          const EvalPoint& last =
              record.result.eval(record.result.eval_size() - 1);
          line.detail = absl::StrFormat(
              "last evaluation at step %d of %d (val %.2f%%); `lra run "
              "--resume` continues it",
              last.step(), run.config.train().steps(),
              100 * last.val_accuracy());
        } else if (line.state == PlannedRunState::kUnfinished) {
          line.detail =
              "started, no evaluation yet; `lra run --resume` "
              "continues it";
        }
        break;
      }
    }
    status.runs.push_back(line);
  }
  for (const std::string& id : RunFoldersOnDisk(status.suite_dir)) {
    if (planned.count(id) > 0) continue;
    PlannedRunStatus line;
    line.id = id;
    line.state = PlannedRunState::kNotPlanned;
    line.detail = "results of a run the suite does not plan (any more)";
    status.runs.push_back(line);
  }
  return status;
}

std::string FormatSuiteStatus(const SuiteStatus& status) {
  int planned = 0;
  for (const PlannedRunStatus& run : status.runs) {
    if (run.state != PlannedRunState::kNotPlanned) ++planned;
  }
  std::string text = absl::StrFormat(
      "suite %s: %d runs planned, %d done, %d failed, %d unfinished, %d "
      "stale, %d missing (results in %s)\n",
      status.suite, planned, status.Count(PlannedRunState::kDone),
      status.Count(PlannedRunState::kFailed),
      status.Count(PlannedRunState::kUnfinished),
      status.Count(PlannedRunState::kStale),
      status.Count(PlannedRunState::kMissing), status.suite_dir);
  int extra = status.Count(PlannedRunState::kNotPlanned);
  if (extra > 0) {
    absl::StrAppend(&text, "  and ", extra,
                    " result folders the suite does not plan\n");
  }
  size_t width = 3;
  for (const PlannedRunStatus& run : status.runs) {
    width = std::max(width, run.id.size());
  }
  absl::StrAppend(&text, "\n");
  for (const PlannedRunStatus& run : status.runs) {
    absl::StrAppend(
        &text,
        absl::StrFormat("  %-12s %-*s  %s", PlannedRunStateName(run.state),
                        static_cast<int>(width), run.id, run.detail));
    // Trailing spaces are noise when there is no detail.
    while (!text.empty() && text.back() == ' ') text.pop_back();
    text += "\n";
  }
  return text;
}

}  // namespace lra
