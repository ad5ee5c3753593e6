#include "datasets/dataset.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "datasets/brackets/task.h"
#include "datasets/image/task.h"
#include "datasets/listops/task.h"
#include "datasets/listops/tokens.h"
#include "datasets/pathfinder/task.h"
#include "datasets/recall/task.h"
#include "datasets/retrieval/task.h"
#include "datasets/text/task.h"

namespace lra {
namespace {

// What the registry knows about one task.
struct TaskEntry {
  const char* name;
  // Defaults of the task-wide fields.
  int seq_len;
  int train_size;
  int val_size;
  int test_size;
  int vocab_size;  // Including the padding id 0.
  int num_classes;
  // Fills and validates the task's own parameters (the `params` oneof).
  absl::Status (*resolve_params)(TaskConfig* task);
  // Builds a split of a resolved config.
  absl::StatusOr<std::unique_ptr<Dataset>> (*make)(
      const TaskConfig& task, Split split, const std::string& workspace_dir);
};

// The registry. Keep it sorted by name; a new task is one more line.
constexpr TaskEntry kTasks[] = {
    {"brackets", brackets::kDefaultSeqLen, brackets::kDefaultTrainSize,
     brackets::kDefaultValSize, brackets::kDefaultTestSize,
     brackets::kVocabSize, brackets::kNumClasses,
     &brackets::ResolveBracketsParams, &brackets::MakeBracketsDataset},
    {"image", image::kDefaultSeqLen, image::kDefaultTrainSize,
     image::kDefaultValSize, image::kDefaultTestSize, image::kVocabSize,
     image::kNumClasses, &image::ResolveImageParams, &image::MakeImageDataset},
    {"listops", listops::kDefaultSeqLen, listops::kDefaultTrainSize,
     listops::kDefaultValSize, listops::kDefaultTestSize, listops::kVocabSize,
     listops::kNumClasses, &listops::ResolveListOpsParams,
     &listops::MakeListOpsDataset},
    // seq_len follows the resolution (resolution^2); "pathx" is pathfinder
    // at 128 pixels by default.
    {"pathfinder", pathfinder::kDefaultSeqLen, pathfinder::kDefaultTrainSize,
     pathfinder::kDefaultValSize, pathfinder::kDefaultTestSize,
     pathfinder::kVocabSize, pathfinder::kNumClasses,
     &pathfinder::ResolvePathfinderParams, &pathfinder::MakePathfinderDataset},
    {"pathx", pathfinder::kPathXSeqLen, pathfinder::kDefaultTrainSize,
     pathfinder::kDefaultValSize, pathfinder::kDefaultTestSize,
     pathfinder::kVocabSize, pathfinder::kNumClasses,
     &pathfinder::ResolvePathXParams, &pathfinder::MakePathfinderDataset},
    {"recall", recall::kDefaultSeqLen, recall::kDefaultTrainSize,
     recall::kDefaultValSize, recall::kDefaultTestSize, recall::kVocabSize,
     recall::kNumClasses, &recall::ResolveRecallParams,
     &recall::MakeRecallDataset},
    // seq_len is per document; examples are two documents (num_segments 2).
    {"retrieval", retrieval::kDefaultSeqLen, retrieval::kDefaultTrainSize,
     retrieval::kDefaultValSize, retrieval::kDefaultTestSize,
     retrieval::kVocabSize, retrieval::kNumClasses,
     &retrieval::ResolveRetrievalParams, &retrieval::MakeRetrievalDataset},
    {"text", text::kDefaultSeqLen, text::kDefaultTrainSize,
     text::kDefaultValSize, text::kDefaultTestSize, text::kVocabSize,
     text::kNumClasses, &text::ResolveTextParams, &text::MakeTextDataset},
};

absl::StatusOr<const TaskEntry*> FindTask(const TaskConfig& task) {
  for (const TaskEntry& entry : kTasks) {
    if (task.name() == entry.name) return &entry;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "task.name = '", task.name(), "' is not a known task (allowed: ",
      absl::StrJoin(TaskNames(), ", "), ")"));
}

// Replaces 0 by the default and rejects negative values.
absl::Status ResolveCount(absl::string_view field, int default_value,
                          int32_t value, void (TaskConfig::*set)(int32_t),
                          TaskConfig* task) {
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("task.", field, " = ", value,
                     " is invalid (allowed: > 0, or 0 for the default ",
                     default_value, ")"));
  }
  if (value == 0) (task->*set)(default_value);
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> TaskNames() {
  std::vector<std::string> names;
  for (const TaskEntry& entry : kTasks) names.push_back(entry.name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status ResolveTaskDefaults(TaskConfig* task) {
  absl::StatusOr<const TaskEntry*> entry = FindTask(*task);
  if (!entry.ok()) return entry.status();
  const TaskEntry& e = **entry;
  absl::Status status;
  status = ResolveCount("seq_len", e.seq_len, task->seq_len(),
                        &TaskConfig::set_seq_len, task);
  if (!status.ok()) return status;
  status = ResolveCount("train_size", e.train_size, task->train_size(),
                        &TaskConfig::set_train_size, task);
  if (!status.ok()) return status;
  status = ResolveCount("val_size", e.val_size, task->val_size(),
                        &TaskConfig::set_val_size, task);
  if (!status.ok()) return status;
  status = ResolveCount("test_size", e.test_size, task->test_size(),
                        &TaskConfig::set_test_size, task);
  if (!status.ok()) return status;
  return e.resolve_params(task);
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  TaskConfig resolved = task;
  absl::Status status = ResolveTaskDefaults(&resolved);
  if (!status.ok()) return status;
  absl::StatusOr<const TaskEntry*> entry = FindTask(resolved);
  if (!entry.ok()) return entry.status();
  return (*entry)->make(resolved, split, workspace_dir);
}

absl::StatusOr<int> TaskVocabSize(const TaskConfig& task) {
  absl::StatusOr<const TaskEntry*> entry = FindTask(task);
  if (!entry.ok()) return entry.status();
  return (*entry)->vocab_size;
}

absl::StatusOr<int> TaskNumClasses(const TaskConfig& task) {
  absl::StatusOr<const TaskEntry*> entry = FindTask(task);
  if (!entry.ok()) return entry.status();
  return (*entry)->num_classes;
}

absl::StatusOr<int> TaskNumSegments(const TaskConfig& task) {
  absl::StatusOr<const TaskEntry*> entry = FindTask(task);
  if (!entry.ok()) return entry.status();
  // Only retrieval pairs two documents; a table column would be overkill.
  return std::string((*entry)->name) == "retrieval" ? 2 : 1;
}

DatasetStats DescribeDataset(const Dataset& dataset, int64_t max_examples) {
  DatasetStats stats;
  stats.size = max_examples < 0
                   ? dataset.size()
                   : std::min<int64_t>(dataset.size(), max_examples);
  stats.seq_len = dataset.seq_len();
  stats.num_segments = std::max(dataset.num_segments(), 1);
  stats.label_histogram.assign(dataset.num_classes(), 0);
  const int segment_len = dataset.seq_len() / stats.num_segments;
  std::vector<int32_t> tokens(dataset.seq_len());  // [seq_len]
  int64_t total = 0;
  for (int64_t i = 0; i < stats.size; ++i) {
    const int32_t label = dataset.Get(i, tokens.data());
    if (label >= 0 && label < dataset.num_classes()) {
      ++stats.label_histogram[label];
    }
    for (int s = 0; s < stats.num_segments; ++s) {
      const int32_t* segment = tokens.data() + int64_t{s} * segment_len;
      int64_t length = segment_len;
      while (length > 0 && segment[length - 1] == 0) --length;
      if (i == 0 && s == 0) stats.min_tokens = stats.max_tokens = length;
      stats.min_tokens = std::min(stats.min_tokens, length);
      stats.max_tokens = std::max(stats.max_tokens, length);
      if (length == segment_len) ++stats.full_examples;
      total += length;
    }
  }
  if (stats.size > 0) {
    stats.mean_tokens =
        static_cast<double>(total) / (stats.size * stats.num_segments);
  }
  return stats;
}

std::string FormatDatasetStats(const DatasetStats& stats) {
  std::string out;
  absl::StrAppend(&out, "examples: ", stats.size, "\n");
  if (stats.num_segments > 1) {
    absl::StrAppend(&out, "seq_len: ", stats.seq_len, " (", stats.num_segments,
                    " documents of ", stats.seq_len / stats.num_segments,
                    ")\n");
    absl::StrAppendFormat(
        &out, "tokens per document: min %d, mean %.1f, max %d\n",
        stats.min_tokens, stats.mean_tokens, stats.max_tokens);
    absl::StrAppend(
        &out, "documents filling their length: ", stats.full_examples, "\n");
  } else {
    absl::StrAppend(&out, "seq_len: ", stats.seq_len, "\n");
    absl::StrAppendFormat(&out, "tokens: min %d, mean %.1f, max %d\n",
                          stats.min_tokens, stats.mean_tokens,
                          stats.max_tokens);
    absl::StrAppend(&out, "examples filling seq_len: ", stats.full_examples,
                    "\n");
  }
  absl::StrAppend(&out, "labels:");
  for (size_t label = 0; label < stats.label_histogram.size(); ++label) {
    absl::StrAppend(&out, " ", label, "=", stats.label_histogram[label]);
  }
  absl::StrAppend(&out, "\n");
  return out;
}

}  // namespace lra
