#include "datasets/recall/task.h"

#include <algorithm>
#include <memory>
#include <string>

#include "datasets/common/generated_dataset.h"
#include "datasets/common/task_config.h"
#include "datasets/recall/generator.h"
#include "util/status_macros.h"

namespace lra {
namespace recall {
namespace {

absl::Status ResolveRecallParams(TaskConfig* task) {
  RETURN_IF_ERROR(CheckParamsCase(*task, TaskConfig::kRecall, "recall"));
  RecallConfig* config = task->mutable_recall();
  if (config->key_length() == 0) config->set_key_length(2);
  if (config->num_values() == 0) config->set_num_values(kNumValues);
  if (config->num_pairs() == 0 && config->key_length() > 0) {
    // As many pairs as fit, leaving the rest of validation to report a
    // seq_len too short for even the fewest pairs.
    const int fit = (task->seq_len() - 1 - config->key_length()) /
                    (config->key_length() + 1);
    config->set_num_pairs(std::max(fit, 1));
  }
  return ValidateRecallConfig(*config, task->seq_len(), "task.recall.");
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeRecallDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  return MakeGeneratedTaskDataset(task, split, kTaskEntry, /*id_offset=*/0,
                                  task.recall(), &GenerateRecallExample);
}

}  // namespace

const TaskEntry kTaskEntry = {"recall",
                              /*seq_len=*/1024,
                              /*train_size=*/50000,
                              /*val_size=*/5000,
                              /*test_size=*/5000,
                              kVocabSize,
                              kNumValues,
                              /*num_segments=*/1,
                              &ResolveRecallParams,
                              &MakeRecallDataset};

}  // namespace recall
}  // namespace lra
