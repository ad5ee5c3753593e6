// The Image task as the registry in //datasets:dataset sees it: LRA's
// grayscale CIFAR-10, read from the binary batches when task.image.data_dir
// is set and otherwise the procedural stand-in of generator.h. Tokens are
// pixel + 1 (vocabulary 257, 0 = padding, which images never need),
// row-major; 10 classes.
#ifndef LRA_DATASETS_IMAGE_TASK_H_
#define LRA_DATASETS_IMAGE_TASK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/common/task_entry.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace image {

inline constexpr int kDefaultSeqLen = 1024;
inline constexpr int kDefaultTrainSize = 45000;
inline constexpr int kDefaultValSize = 5000;
inline constexpr int kDefaultTestSize = 10000;
inline constexpr int kVocabSize = 257;
inline constexpr int kNumClasses = 10;

// Fills zero fields of task.image with the defaults (image_size 32, noise
// 0.25) and validates them: seq_len must be image_size^2, and CIFAR files
// are 32 x 32. Errors name the field as "task.image.FIELD".
absl::Status ResolveImageParams(TaskConfig* task);

// Builds one split of a resolved config: the first `size` images of
// CIFAR-10's train (first 90% of the training batches), val (last 10%) or
// test split, or the stand-in. Relative data_dir is resolved against
// `workspace_dir`.
absl::StatusOr<std::unique_ptr<Dataset>> MakeImageDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The task's entry in the registry.
inline constexpr TaskEntry kTaskEntry = {
    "image",          kDefaultSeqLen,     kDefaultTrainSize,
    kDefaultValSize,  kDefaultTestSize,   kVocabSize,
    kNumClasses,      /*num_segments=*/1, &ResolveImageParams,
    &MakeImageDataset};

}  // namespace image
}  // namespace lra

#endif  // LRA_DATASETS_IMAGE_TASK_H_
