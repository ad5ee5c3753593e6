// The ListOps task as the registry in //datasets:dataset sees it: LRA's
// defaults, config validation and the Dataset factory (generated splits, or
// LRA's TSV files when the config names them).
#ifndef LRA_DATASETS_LISTOPS_TASK_H_
#define LRA_DATASETS_LISTOPS_TASK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/common/task_entry.h"
#include "datasets/dataset_base.h"
#include "datasets/listops/tokens.h"
#include "proto/config.pb.h"

namespace lra {
namespace listops {

// LRA's defaults for the task-wide fields.
inline constexpr int kDefaultSeqLen = 2000;
inline constexpr int kDefaultTrainSize = 96000;
inline constexpr int kDefaultValSize = 2000;
inline constexpr int kDefaultTestSize = 2000;

// Fills zero ("unset" in proto3) fields of task.listops with LRA's defaults
// (max_depth 10, min_args 2, max_args 10, operator_prob 0.25, min_length
// 500, max_length 2000), creating the message if needed, then validates it.
// Errors name the field as "task.listops.FIELD". Task-wide fields (seq_len,
// sizes) are left to the registry.
absl::Status ResolveListOpsParams(TaskConfig* task);

// Builds one split of a resolved config: read from the split's TSV file
// when set (first `size` rows; relative paths are resolved against
// `workspace_dir`), otherwise generated.
absl::StatusOr<std::unique_ptr<Dataset>> MakeListOpsDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The task's entry in the registry.
inline constexpr TaskEntry kTaskEntry = {
    "listops",          kDefaultSeqLen,     kDefaultTrainSize,
    kDefaultValSize,    kDefaultTestSize,   kVocabSize,
    kNumClasses,        /*num_segments=*/1, &ResolveListOpsParams,
    &MakeListOpsDataset};

}  // namespace listops
}  // namespace lra

#endif  // LRA_DATASETS_LISTOPS_TASK_H_
