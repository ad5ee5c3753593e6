// Reading a results folder: every run the trainer left behind (finished,
// failed or interrupted) and every efficiency sweep of `lra bench --sweep`.
//
// Layout (written by lra/runner.cc and lra/commands.cc):
//   DIR/<suite>/<task label>/<run folder>/result.pbtxt   finished run
//   DIR/<suite>/<task label>/<run folder>/failed.pbtxt   failed run
//   DIR/<suite>/<task label>/<run folder>/metrics.csv    (alone: interrupted)
//   DIR/bench/sweep*.pbtxt                               BenchSweep
#ifndef EVAL_RESULTS_H_
#define EVAL_RESULTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/result.pb.h"

namespace lra {

enum class RunState {
  kDone,        // result.pbtxt with status "ok".
  kFailed,      // failed.pbtxt, or a result that cannot be read.
  kUnfinished,  // Only metrics or checkpoints: interrupted or still running.
};

const char* RunStateName(RunState state);

struct RunRecord {
  std::string suite;  // Folder names, as written by the runner.
  std::string task_label;
  std::string run_folder;  // Model name, plus ".<train name>" for recipes.
  std::string dir;         // The run folder's full path.
  RunState state = RunState::kUnfinished;
  // The result as written; for unfinished runs only `eval` (from
  // metrics.csv) is filled.
  RunResult result;
  // Why a failed run failed (the trainer's error, or why its file could not
  // be read).
  std::string error;

  // "<suite>/<task label>/<run folder>".
  std::string Id() const;
  // The model name: from the config when there is one, else the run folder
  // without its ".<train name>" suffix.
  std::string ModelName() const;
};

struct SweepRecord {
  std::string path;
  BenchSweep sweep;   // Empty when the file could not be parsed.
  std::string error;  // Why the file was unreadable; empty when it was read.
};

struct ResultSet {
  std::vector<RunRecord> runs;      // Sorted by Id().
  std::vector<SweepRecord> sweeps;  // Sorted by path.
};

// Reads everything under `dir`. A run folder whose files cannot be parsed is
// returned as failed with the parse error, and an unreadable sweep file with
// its error and no points, so one bad file never hides the others. Fails only
// when `dir` cannot be listed.
absl::StatusOr<ResultSet> LoadResults(const std::string& dir);

// Reads one run folder (as LoadResults does for each).
RunRecord LoadRunFolder(const std::string& dir, const std::string& suite,
                        const std::string& task_label,
                        const std::string& run_folder);

// Parses the trainer's metrics.csv (step,train_loss,train_accuracy,val_loss,
// val_accuracy,wall_seconds) into eval points; malformed lines are skipped.
std::vector<EvalPoint> ParseMetricsCsv(const std::string& csv);

// Where two configs differ, as "field.path=value in `to`" for every leaf
// field (repeated fields as a whole), e.g. {"train.learning_rate=0.001"}.
std::vector<std::string> ConfigDifferences(const RunConfig& from,
                                           const RunConfig& to);

// Which runs and sweeps to keep; an empty list keeps everything. A task
// matches by label or task name, a model by model name or attention variant.
struct ResultFilter {
  std::vector<std::string> suites;
  std::vector<std::string> tasks;
  std::vector<std::string> models;
};

// Applies `filter` to `results`. Each filter value must match at least one
// run: a value that matches nothing is an error listing what exists, so a
// typo is not mistaken for "no results". Sweeps are kept when no model
// filter is given, else reduced to the matching variants.
absl::StatusOr<ResultSet> FilterResults(const ResultSet& results,
                                        const ResultFilter& filter);

}  // namespace lra

#endif  // EVAL_RESULTS_H_
