// What a task package tells the registry (//datasets:dataset) about one
// task: its name, the defaults of the task-wide fields, its vocabulary,
// classes and segments per example, and its two functions. Each task's
// task.h declares its entry (`listops::kTaskEntry`, ...), defined in its
// task.cc (image and pathfinder: inline in task.h); the registry is a list
// of them.
#ifndef LRA_DATASETS_COMMON_TASK_ENTRY_H_
#define LRA_DATASETS_COMMON_TASK_ENTRY_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {

struct TaskEntry {
  const char* name;
  // Defaults of the task-wide fields.
  int seq_len;
  int train_size;
  int val_size;
  int test_size;
  int vocab_size;  // Including the padding id 0.
  int num_classes;
  // Documents per example (Dataset::num_segments): 2 for retrieval's pairs,
  // which a dual encoder encodes separately; 1 otherwise.
  int num_segments;
  // Fills and validates the task's own parameters (the `params` oneof).
  absl::Status (*resolve_params)(TaskConfig* task);
  // Builds a split of a resolved config; relative paths in it are resolved
  // against `workspace_dir`.
  absl::StatusOr<std::unique_ptr<Dataset>> (*make)(
      const TaskConfig& task, Split split, const std::string& workspace_dir);
};

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_TASK_ENTRY_H_
