#include "datasets/cross_segment/task.h"

#include <memory>
#include <string>

#include "datasets/common/generated_dataset.h"
#include "datasets/common/task_config.h"
#include "datasets/cross_segment/generator.h"
#include "util/status_macros.h"

namespace lra {
namespace cross_segment {
namespace {

absl::Status ResolveCrossSegmentParams(TaskConfig* task) {
  RETURN_IF_ERROR(
      CheckParamsCase(*task, TaskConfig::kCrossSegment, "cross_segment"));
  CrossSegmentConfig* config = task->mutable_cross_segment();
  if (config->key_length() == 0) config->set_key_length(1);
  if (config->num_values() == 0) config->set_num_values(kNumValues);
  return ValidateCrossSegmentConfig(*config, task->seq_len(),
                                    "task.cross_segment.");
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeCrossSegmentDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  return MakeGeneratedTaskDataset(task, split, kTaskEntry, /*id_offset=*/0,
                                  task.cross_segment(),
                                  &GenerateCrossSegmentExample);
}

}  // namespace

const TaskEntry kTaskEntry = {"cross_segment",
                              /*seq_len=*/1024,
                              /*train_size=*/50000,
                              /*val_size=*/5000,
                              /*test_size=*/5000,
                              kVocabSize,
                              kNumValues,
                              /*num_segments=*/1,
                              &ResolveCrossSegmentParams,
                              &MakeCrossSegmentDataset};

}  // namespace cross_segment
}  // namespace lra
