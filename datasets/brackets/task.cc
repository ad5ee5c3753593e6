#include "datasets/brackets/task.h"

#include "datasets/common/generated_dataset.h"
#include "datasets/common/task_config.h"
#include "util/status_macros.h"

namespace lra {
namespace brackets {

absl::Status ResolveBracketsParams(TaskConfig* task) {
  RETURN_IF_ERROR(CheckParamsCase(*task, TaskConfig::kBrackets, "brackets"));
  BracketsConfig* config = task->mutable_brackets();
  if (config->max_length() == 0) config->set_max_length(task->seq_len());
  if (config->min_length() == 0) {
    config->set_min_length(config->max_length() / 2);
  }
  if (config->max_depth() == 0) {
    config->set_max_depth(config->max_length() / 2);
  }
  if (config->min_span() == 0) config->set_min_span(config->min_length() / 4);
  return ValidateBracketsConfig(*config, task->seq_len(), "task.brackets.");
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeBracketsDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  return MakeGeneratedTaskDataset(task, split, kTaskEntry, /*id_offset=*/0,
                                  task.brackets(), &GenerateBracketsExample);
}

}  // namespace brackets
}  // namespace lra
