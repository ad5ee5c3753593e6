// The Text task as the registry in //datasets:dataset sees it: LRA's
// byte-level IMDb classification, read from aclImdb's files when
// task.text.data_dir is set and otherwise the synthetic stand-in of
// generator.h. Tokens are byte + 1 (vocabulary 257, 0 = padding); labels
// are 1 = positive, 0 = negative.
#ifndef LRA_DATASETS_TEXT_TASK_H_
#define LRA_DATASETS_TEXT_TASK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/common/task_entry.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace text {

// LRA's released configuration cuts reviews to 1000 bytes (the paper: 4000).
inline constexpr int kDefaultSeqLen = 1000;
// IMDb has 25000 reviews in each of train and test; LRA validates on test.
inline constexpr int kDefaultTrainSize = 25000;
inline constexpr int kDefaultValSize = 25000;
inline constexpr int kDefaultTestSize = 25000;
inline constexpr int kVocabSize = 257;
inline constexpr int kNumClasses = 2;

// Fills zero fields of task.text with the stand-in's defaults (min_length
// 1000, max_length 4000, num_cues 15, max_margin 5) and, when no data_dir
// is set, validates them against task.seq_len. Errors name the field as
// "task.text.FIELD".
absl::Status ResolveTextParams(TaskConfig* task);

// Builds one split of a resolved config. With data_dir, train reads
// DATA_DIR/train and both val and test read DATA_DIR/test, as LRA does; a
// split of n examples takes the first n reviews of the directory in an
// order shuffled by data_seed (so val and test are the same reviews when
// their sizes are equal). Relative data_dir is resolved against
// `workspace_dir`.
absl::StatusOr<std::unique_ptr<Dataset>> MakeTextDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The task's entry in the registry.
inline constexpr TaskEntry kTaskEntry = {
    "text",          kDefaultSeqLen,     kDefaultTrainSize,
    kDefaultValSize, kDefaultTestSize,   kVocabSize,
    kNumClasses,     /*num_segments=*/1, &ResolveTextParams,
    &MakeTextDataset};

}  // namespace text
}  // namespace lra

#endif  // LRA_DATASETS_TEXT_TASK_H_
