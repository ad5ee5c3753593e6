// `lra data check`: reads every file of a task's official data with the
// task's own loader (datasets/{listops,text,retrieval,image,pathfinder}/)
// and reports what it found, split by split: examples, labels, token
// lengths and what gets cut at seq_len, plus the checks that make sense for
// the task (ListOps labels recomputed, Pathfinder images decoded at the
// expected size, CIFAR-10 records per batch, no empty documents, ...).
//
// Malformed or missing data is one error naming the file (and its line or
// record); the loaders' own messages are passed through. Facts that are not
// errors but would surprise a user (a split smaller than the config's size,
// ListOps labels our evaluator disagrees with) are warnings in the report.
#ifndef LRA_DATASETS_DATA_CHECK_H_
#define LRA_DATASETS_DATA_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/config.pb.h"

namespace lra {

// What one split (or one source feeding several splits) holds.
struct SplitCheck {
  // "train", "val", "test", or "val, test" for Text, whose validation and
  // test splits both read IMDb's test folder, as in LRA.
  std::string name;
  std::string source;  // Where it was read, e.g. "DIR/train/{pos,neg}".
  int64_t examples = 0;
  // The config's size of the split(s): a run takes the first this many.
  int64_t config_size = 0;
  // Tokens per document as the model sees them (cut at seq_len), over
  // `documents` documents (two per example for Retrieval).
  int64_t documents = 0;
  int64_t min_tokens = 0;
  double mean_tokens = 0;
  int64_t max_tokens = 0;
  // Documents longer than seq_len.
  int64_t truncated = 0;
  std::vector<int64_t> label_histogram;  // [num_classes]
  // Task-specific facts, one line each.
  std::vector<std::string> facts;
};

struct DataCheckReport {
  std::string task;  // Task name.
  int seq_len = 0;   // Per document.
  std::string data;  // The folder or files the config names.
  int64_t files_read = 0;
  std::vector<SplitCheck> splits;
  std::vector<std::string> warnings;
};

// The tasks whose official files `CheckTaskData` reads, sorted.
std::vector<std::string> CheckableTaskNames();

// Points a task config at official data in `dir`: text.data_dir,
// retrieval.data_dir, image.data_dir, pathfinder.official_dir (pathfinder,
// pathx), or listops.{train,val,test}_tsv = DIR/basic_{train,val,test}.tsv.
// Call before ResolveTaskDefaults. Tasks without official data are
// InvalidArgument listing those that have it.
absl::Status SetOfficialDataDir(const std::string& dir, TaskConfig* task);

// Reads every official file a resolved task config names (relative paths
// are resolved against `workspace_dir`). A config that names no files is
// InvalidArgument saying which field to set; missing files are NotFound
// and malformed ones InvalidArgument, each naming the file and the line or
// record.
absl::StatusOr<DataCheckReport> CheckTaskData(const TaskConfig& task,
                                              const std::string& workspace_dir);

// The report, one fact per line, ending with a one-line verdict that starts
// with "verdict: OK".
std::string FormatDataCheckReport(const DataCheckReport& report);

}  // namespace lra

#endif  // LRA_DATASETS_DATA_CHECK_H_
