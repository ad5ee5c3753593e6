// The long-distance bracket matching task (beyond LRA; see generator.h) as
// the registry in //datasets:dataset sees it. Difficulty is set by length:
// by default sequences fill seq_len / 2 to seq_len and the swapped pairs of
// negatives span at least a quarter of the shortest length.
#ifndef LRA_DATASETS_BRACKETS_TASK_H_
#define LRA_DATASETS_BRACKETS_TASK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/brackets/generator.h"
#include "datasets/common/task_entry.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace brackets {

inline constexpr int kDefaultSeqLen = 1024;
inline constexpr int kDefaultTrainSize = 50000;
inline constexpr int kDefaultValSize = 5000;
inline constexpr int kDefaultTestSize = 5000;

// Fills zero fields of task.brackets (max_length = seq_len, min_length =
// max_length / 2, max_depth = max_length / 2, i.e. no limit, min_span =
// min_length / 4) and validates them. Errors name the field as
// "task.brackets.FIELD".
absl::Status ResolveBracketsParams(TaskConfig* task);

// Builds one split of a resolved config.
absl::StatusOr<std::unique_ptr<Dataset>> MakeBracketsDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The task's entry in the registry.
inline constexpr TaskEntry kTaskEntry = {
    "brackets",          kDefaultSeqLen,     kDefaultTrainSize,
    kDefaultValSize,     kDefaultTestSize,   kVocabSize,
    kNumClasses,         /*num_segments=*/1, &ResolveBracketsParams,
    &MakeBracketsDataset};

}  // namespace brackets
}  // namespace lra

#endif  // LRA_DATASETS_BRACKETS_TASK_H_
