#include "datasets/text/task_util.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "datasets/random.h"

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

std::string ResolvePath(const std::string& path,
                        const std::string& workspace_dir) {
  if (absl::StartsWith(path, "/") || workspace_dir.empty()) return path;
  return absl::StrCat(workspace_dir, "/", path);
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

uint64_t FingerprintIds(absl::Span<const int32_t> ids, uint64_t seed) {
  uint64_t h = MixBits(seed ^ (ids.size() * 0x9e3779b97f4a7c15ULL));
  for (int32_t id : ids) h = MixBits(h ^ static_cast<uint32_t>(id)) + id;
  return MixBits(h);
}

absl::Status FieldError(absl::string_view field, absl::string_view value,
                        absl::string_view allowed) {
  return absl::InvalidArgumentError(absl::StrCat(
      field, " = ", value, " is invalid (allowed: ", allowed, ")"));
}

}  // namespace lra
