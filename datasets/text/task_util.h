// Small helpers shared by the task packages of issue 4 (text, retrieval,
// image, recall, brackets): split sizes, workspace-relative paths and the
// check that a config's `params` block belongs to the task.
#ifndef LRA_DATASETS_TEXT_TASK_UTIL_H_
#define LRA_DATASETS_TEXT_TASK_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {

// task.train_size, task.val_size or task.test_size.
int64_t SplitSize(const TaskConfig& task, Split split);

// `path` itself when absolute or when `workspace_dir` is empty, otherwise
// `workspace_dir`/`path`.
std::string ResolvePath(const std::string& path,
                        const std::string& workspace_dir);

// InvalidArgument unless task.params is unset or is the block `block_name`
// (e.g. "text"), whose oneof case is `expected`.
absl::Status CheckParamsCase(const TaskConfig& task,
                             TaskConfig::ParamsCase expected,
                             absl::string_view block_name);

// A stable fingerprint of a token sequence under `seed`, for assigning
// generated sequences to splits (see random.h's Fingerprint64).
uint64_t FingerprintIds(absl::Span<const int32_t> ids, uint64_t seed);

// The error of a config field: "FIELD = VALUE is invalid (allowed: ...)".
absl::Status FieldError(absl::string_view field, absl::string_view value,
                        absl::string_view allowed);

}  // namespace lra

#endif  // LRA_DATASETS_TEXT_TASK_UTIL_H_
