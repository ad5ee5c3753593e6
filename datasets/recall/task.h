// The associative recall task (beyond LRA; see generator.h) as the registry
// in //datasets:dataset sees it. Difficulty is set by length: by default
// the pairs fill task.seq_len.
#ifndef LRA_DATASETS_RECALL_TASK_H_
#define LRA_DATASETS_RECALL_TASK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/common/task_entry.h"
#include "datasets/dataset_base.h"
#include "datasets/recall/generator.h"
#include "proto/config.pb.h"

namespace lra {
namespace recall {

inline constexpr int kDefaultSeqLen = 1024;
inline constexpr int kDefaultTrainSize = 50000;
inline constexpr int kDefaultValSize = 5000;
inline constexpr int kDefaultTestSize = 5000;
inline constexpr int kNumClasses = kNumValues;

// Fills zero fields of task.recall (key_length 2, num_values 10; num_pairs
// as many as fit in task.seq_len, e.g. 340 for 1024) and validates them. Errors
// name the field as "task.recall.FIELD".
absl::Status ResolveRecallParams(TaskConfig* task);

// Builds one split of a resolved config.
absl::StatusOr<std::unique_ptr<Dataset>> MakeRecallDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The task's entry in the registry.
inline constexpr TaskEntry kTaskEntry = {
    "recall",          kDefaultSeqLen,     kDefaultTrainSize,
    kDefaultValSize,   kDefaultTestSize,   kVocabSize,
    kNumClasses,       /*num_segments=*/1, &ResolveRecallParams,
    &MakeRecallDataset};

}  // namespace recall
}  // namespace lra

#endif  // LRA_DATASETS_RECALL_TASK_H_
