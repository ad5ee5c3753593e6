// Builds datasets from task configs. Each task package (listops, ...)
// exports a TaskEntry (datasets/common/task_entry.h: name, defaults,
// vocabulary, classes, segments, factory); the registry in dataset.cc lists
// them, and a new task joins by adding its entry there.
#ifndef LRA_DATASETS_DATASET_H_
#define LRA_DATASETS_DATASET_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {

// Names of the registered tasks, sorted.
std::vector<std::string> TaskNames();

// Fills zero ("unset" in proto3) fields with the task's defaults (for
// listops LRA's: seq_len 2000, sizes 96000/2000/2000, max_depth 10, min_args
// 2, max_args 10, operator_prob 0.25, min_length 500, max_length 2000) so
// the trainer can record the resolved config, then validates the result.
// Errors name the field ("task.train_size", "task.listops.max_args"), its
// value and what is allowed.
absl::Status ResolveTaskDefaults(TaskConfig* task);

// Builds the split described by `task` (defaults are resolved first).
// `workspace_dir` resolves relative file paths in the config. Unknown task
// names are InvalidArgument naming `task.name`, the value and the allowed
// names.
absl::StatusOr<std::unique_ptr<Dataset>> MakeDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// Vocabulary size (including padding id 0) and class count of a task
// without building it.
absl::StatusOr<int> TaskVocabSize(const TaskConfig& task);
absl::StatusOr<int> TaskNumClasses(const TaskConfig& task);
// Documents per example (Dataset::num_segments), from the task's entry: 2
// for retrieval, else 1.
absl::StatusOr<int> TaskNumSegments(const TaskConfig& task);

// Summary statistics of a built split (or of its first examples), for logs
// and `lra data`. Lengths are per document: an example of a two-segment
// dataset (retrieval's pairs) is two documents of seq_len / 2 positions,
// each padded on its own.
struct DatasetStats {
  int64_t size = 0;      // Examples described.
  int seq_len = 0;       // Positions per example.
  int num_segments = 1;  // Documents per example.
  // Non-padding tokens per document (up to its last non-zero id).
  int64_t min_tokens = 0;
  double mean_tokens = 0;
  int64_t max_tokens = 0;
  // Documents whose last position is not padding, i.e. that filled or were
  // truncated to their segment's length.
  int64_t full_examples = 0;
  std::vector<int64_t> label_histogram;  // [num_classes]
};
// Describes the first `max_examples` examples (all when < 0 or larger than
// the split).
DatasetStats DescribeDataset(const Dataset& dataset, int64_t max_examples = -1);
// The share of the described examples that carry the most frequent label:
// the accuracy of always answering it (0 when none were described).
double MajorityLabelRate(const DatasetStats& stats);
// MajorityLabelRate of the whole `split` of `task`, which is built for it.
absl::StatusOr<double> SplitMajorityRate(const TaskConfig& task, Split split,
                                         const std::string& workspace_dir);
// One line per fact, e.g. "tokens: min 501, mean 1030.2, max 1998".
std::string FormatDatasetStats(const DatasetStats& stats);

}  // namespace lra

#endif  // LRA_DATASETS_DATASET_H_
