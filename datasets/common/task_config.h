// Helpers over a TaskConfig shared by the task packages: split sizes, the
// check that a config's `params` block belongs to the task, and the shape
// of a config field's error.
#ifndef LRA_DATASETS_COMMON_TASK_CONFIG_H_
#define LRA_DATASETS_COMMON_TASK_CONFIG_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {

// task.train_size, task.val_size or task.test_size.
int64_t SplitSize(const TaskConfig& task, Split split);

// InvalidArgument unless task.params is unset or is the block `block_name`
// (e.g. "text"), whose oneof case is `expected`.
absl::Status CheckParamsCase(const TaskConfig& task,
                             TaskConfig::ParamsCase expected,
                             absl::string_view block_name);

// The error of a config field: "FIELD = VALUE is invalid (allowed: ...)".
absl::Status FieldError(absl::string_view field, absl::string_view value,
                        absl::string_view allowed);

// The document-length range of a generated stand-in:
// FieldError on `field_prefix`min_length unless min_length >= 1, and on
// `field_prefix`max_length unless max_length >= min_length.
absl::Status CheckLengthRange(int min_length, int max_length,
                              absl::string_view field_prefix);

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_TASK_CONFIG_H_
