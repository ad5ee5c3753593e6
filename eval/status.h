// `lra status`: which runs of a suite are done, failed, unfinished, stale
// (a result made with another config) or missing in a results folder.
#ifndef EVAL_STATUS_H_
#define EVAL_STATUS_H_

#include <string>
#include <vector>

#include "config/suite.h"

namespace lra {

enum class PlannedRunState {
  kDone,
  kFailed,
  kUnfinished,  // Interrupted (or running): `lra run --resume` continues.
  kStale,       // result.pbtxt exists but was made with another config.
  kMissing,
  kNotPlanned,  // A result folder the suite no longer plans.
};

const char* PlannedRunStateName(PlannedRunState state);

struct PlannedRunStatus {
  std::string id;  // "<task label>/<run folder>", as PlannedRun::id.
  PlannedRunState state = PlannedRunState::kMissing;
  std::string detail;  // One line: figures, the error's tail, what differs.
  std::string error;   // A failed run's whole error.
};

struct SuiteStatus {
  std::string suite;
  std::string suite_dir;               // <results>/<suite>.
  std::vector<PlannedRunStatus> runs;  // In the suite's order, then extras.

  int Count(PlannedRunState state) const;
};

// Compares the suite's planned runs with what is under
// `results_dir`/<suite name>/.
SuiteStatus ComputeSuiteStatus(const Suite& suite,
                               const std::string& results_dir);

// A summary line and one aligned line per run.
std::string FormatSuiteStatus(const SuiteStatus& status);

}  // namespace lra

#endif  // EVAL_STATUS_H_
