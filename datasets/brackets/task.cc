#include "datasets/brackets/task.h"

#include <memory>
#include <string>

#include "datasets/brackets/generator.h"
#include "datasets/common/generated_dataset.h"
#include "datasets/common/task_config.h"
#include "util/status_macros.h"

namespace lra {
namespace brackets {
namespace {

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

}  // namespace

const TaskEntry kTaskEntry = {"brackets",
                              /*seq_len=*/1024,
                              /*train_size=*/50000,
                              /*val_size=*/5000,
                              /*test_size=*/5000,   kVocabSize,
                              kNumClasses,
                              /*num_segments=*/1,   &ResolveBracketsParams,
                              &MakeBracketsDataset};

}  // namespace brackets
}  // namespace lra
