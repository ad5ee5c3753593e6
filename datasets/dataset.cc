#include "datasets/dataset.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "datasets/brackets/task.h"
#include "datasets/cross_segment/task.h"
#include "datasets/image/task.h"
#include "datasets/listops/task.h"
#include "datasets/pathfinder/task.h"
#include "datasets/recall/task.h"
#include "datasets/retrieval/task.h"
#include "datasets/text/task.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// The registry: each task package's entry. Keep it sorted by name; a new
// task is one more line.
constexpr const TaskEntry* kTasks[] = {
    &brackets::kTaskEntry,
    &cross_segment::kTaskEntry,
    &image::kTaskEntry,
    &listops::kTaskEntry,
    &pathfinder::kPathfinderTaskEntry,
    &pathfinder::kPathXTaskEntry,
    &recall::kTaskEntry,
    &retrieval::kTaskEntry,
    &text::kTaskEntry,
};

absl::StatusOr<const TaskEntry*> FindTask(const TaskConfig& task) {
  for (const TaskEntry* entry : kTasks) {
    if (task.name() == entry->name) return entry;
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
  for (const TaskEntry* entry : kTasks) names.push_back(entry->name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status ResolveTaskDefaults(TaskConfig* task) {
  ASSIGN_OR_RETURN(const TaskEntry* entry, FindTask(*task));
  RETURN_IF_ERROR(ResolveCount("seq_len", entry->seq_len, task->seq_len(),
                               &TaskConfig::set_seq_len, task));
  RETURN_IF_ERROR(ResolveCount("train_size", entry->train_size,
                               task->train_size(), &TaskConfig::set_train_size,
                               task));
  RETURN_IF_ERROR(ResolveCount("val_size", entry->val_size, task->val_size(),
                               &TaskConfig::set_val_size, task));
  RETURN_IF_ERROR(ResolveCount("test_size", entry->test_size, task->test_size(),
                               &TaskConfig::set_test_size, task));
  return entry->resolve_params(task);
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  TaskConfig resolved = task;
  RETURN_IF_ERROR(ResolveTaskDefaults(&resolved));
  ASSIGN_OR_RETURN(const TaskEntry* entry, FindTask(resolved));
  return entry->make(resolved, split, workspace_dir);
}

absl::StatusOr<int> TaskVocabSize(const TaskConfig& task) {
  ASSIGN_OR_RETURN(const TaskEntry* entry, FindTask(task));
  return entry->vocab_size;
}

absl::StatusOr<int> TaskNumClasses(const TaskConfig& task) {
  ASSIGN_OR_RETURN(const TaskEntry* entry, FindTask(task));
  return entry->num_classes;
}

absl::StatusOr<int> TaskNumSegments(const TaskConfig& task) {
  ASSIGN_OR_RETURN(const TaskEntry* entry, FindTask(task));
  return entry->num_segments;
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

double MajorityLabelRate(const DatasetStats& stats) {
  if (stats.size <= 0 || stats.label_histogram.empty()) return 0;
  const int64_t most = *std::max_element(stats.label_histogram.begin(),
                                         stats.label_histogram.end());
  return static_cast<double>(most) / stats.size;
}

absl::StatusOr<double> SplitMajorityRate(const TaskConfig& task, Split split,
                                         const std::string& workspace_dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<Dataset> dataset,
                   MakeDataset(task, split, workspace_dir));
  return MajorityLabelRate(DescribeDataset(*dataset));
}

}  // namespace lra
