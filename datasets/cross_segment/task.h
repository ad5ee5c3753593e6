// The cross-segment carry task (beyond LRA; see generator.h) as the
// registry in //datasets:dataset sees it: the label is in the first
// key_length tokens, the rest of task.seq_len is filler.
#ifndef LRA_DATASETS_CROSS_SEGMENT_TASK_H_
#define LRA_DATASETS_CROSS_SEGMENT_TASK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/common/task_entry.h"
#include "datasets/cross_segment/generator.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace cross_segment {

inline constexpr int kDefaultSeqLen = 1024;
inline constexpr int kDefaultTrainSize = 50000;
inline constexpr int kDefaultValSize = 5000;
inline constexpr int kDefaultTestSize = 5000;
inline constexpr int kNumClasses = kNumValues;

// Fills zero fields of task.cross_segment (key_length 1, num_values 10) and
// validates them. Errors name the field as "task.cross_segment.FIELD".
absl::Status ResolveCrossSegmentParams(TaskConfig* task);

// Builds one split of a resolved config.
absl::StatusOr<std::unique_ptr<Dataset>> MakeCrossSegmentDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The task's entry in the registry.
inline constexpr TaskEntry kTaskEntry = {"cross_segment",
                                         kDefaultSeqLen,
                                         kDefaultTrainSize,
                                         kDefaultValSize,
                                         kDefaultTestSize,
                                         kVocabSize,
                                         kNumClasses,
                                         /*num_segments=*/1,
                                         &ResolveCrossSegmentParams,
                                         &MakeCrossSegmentDataset};

}  // namespace cross_segment
}  // namespace lra

#endif  // LRA_DATASETS_CROSS_SEGMENT_TASK_H_
