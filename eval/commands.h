// The `lra leaderboard` and `lra status` subcommands as library functions,
// called by lra/main.cc and by tests.
#ifndef EVAL_COMMANDS_H_
#define EVAL_COMMANDS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/suite.h"

namespace lra {

struct LeaderboardOptions {
  // Results folder (relative paths against the workspace, as everywhere).
  std::string results_dir;
  std::string format = "md";  // md | csv | html
  std::string out;            // File to write; empty = stdout.
  // Filters; empty = all. Suites by folder name, tasks by label or task
  // name, models by model name or attention variant.
  std::vector<std::string> suites, tasks, models;
  // One row per model and machine (RunResult.machine).
  bool group_by_machine = false;
};

// The leaderboard text in the requested format.
absl::StatusOr<std::string> RenderLeaderboard(
    const LeaderboardOptions& options);

// Renders and writes it to options.out (atomically) or stdout.
absl::Status LeaderboardCommand(const LeaderboardOptions& options);

struct StatusOptions {
  std::string results_dir;
  std::string suite_path;
  // Resolves relative paths (of the options and inside the suite); empty =
  // WorkspaceDir().
  std::string workspace_dir;
  // Reads the suite (resolved path, workspace) with its runs' configs as
  // `lra run` trains them, so that results can be compared with them. The
  // `lra` binary passes LoadSuite from //lra:validate; eval links no model
  // code and so cannot fill defaults from the registries itself.
  std::function<absl::StatusOr<Suite>(const std::string& path,
                                      const std::string& workspace_dir)>
      load_suite;
};

// The status text: done / failed / unfinished / stale / missing runs.
absl::StatusOr<std::string> SuiteStatusText(const StatusOptions& options);

// Prints the status to stdout. Succeeds whatever the runs' states; fails
// only when the suite or results cannot be read.
absl::Status StatusCommand(const StatusOptions& options);

}  // namespace lra

#endif  // EVAL_COMMANDS_H_
