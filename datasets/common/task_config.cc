#include "datasets/common/task_config.h"

#include "absl/strings/str_cat.h"

namespace lra {

int64_t SplitSize(const TaskConfig& task, Split split) {
  switch (split) {
    case Split::kTrain:
      return task.train_size();
    case Split::kVal:
      return task.val_size();
    case Split::kTest:
      return task.test_size();
  }
  return 0;
}

absl::Status CheckParamsCase(const TaskConfig& task,
                             TaskConfig::ParamsCase expected,
                             absl::string_view block_name) {
  if (task.params_case() == expected ||
      task.params_case() == TaskConfig::PARAMS_NOT_SET) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("task.params: task '", task.name(),
                   "' has parameters of another task (field ",
                   static_cast<int>(task.params_case()), ") (allowed: a `",
                   block_name, " { ... }` block, or none for the defaults)"));
}

absl::Status FieldError(absl::string_view field, absl::string_view value,
                        absl::string_view allowed) {
  return absl::InvalidArgumentError(absl::StrCat(
      field, " = ", value, " is invalid (allowed: ", allowed, ")"));
}

absl::Status CheckLengthRange(int min_length, int max_length,
                              absl::string_view field_prefix) {
  if (min_length < 1) {
    return FieldError(absl::StrCat(field_prefix, "min_length"),
                      absl::StrCat(min_length), ">= 1");
  }
  if (max_length < min_length) {
    return FieldError(absl::StrCat(field_prefix, "max_length"),
                      absl::StrCat(max_length),
                      absl::StrCat(">= min_length = ", min_length));
  }
  return absl::OkStatus();
}

}  // namespace lra
