// `lra eval`: a run's best-validation checkpoint on another task configuration.
#include <iostream>
#include <string>

#include "lra/commands.h"
#include "lra/evaluate.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {

absl::Status EvalCommand(const EvalCommandOptions& options) {
  if (options.run.empty() || options.task_file.empty()) {
    return absl::InvalidArgumentError(
        "eval needs --run=RESULT_DIR (a run's folder, e.g. "
        "results/smoke/listops/tiny) and --task_file=FILE (a TaskConfig "
        ".pbtxt)");
  }
  const std::string workspace = WorkspaceDir();
  CheckpointEvalOptions eval_options;
  eval_options.run_dir = ResolvePath(workspace, options.run);
  eval_options.task_file = ResolvePath(workspace, options.task_file);
  eval_options.workspace_dir = workspace;
  ASSIGN_OR_RETURN(eval_options.split, ParseSplitName(options.split));
  eval_options.count = options.count;
  eval_options.threads = options.threads;
  ASSIGN_OR_RETURN(CheckpointEval eval, EvaluateCheckpoint(eval_options));
  std::cout << FormatCheckpointEval(eval);
  return absl::OkStatus();
}

}  // namespace lra
