// Evaluating a run's best-validation checkpoint on another task
// configuration (`lra eval`): typically a model trained on generated data
// checked against the official files of the same task.
#ifndef LRA_EVALUATE_H_
#define LRA_EVALUATE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "datasets/dataset_base.h"
#include "lra/trainer.h"
#include "proto/config.pb.h"

namespace lra {

struct CheckpointEvalOptions {
  // A run's folder (results/<suite>/<task>/<model>): its result.pbtxt, or for
  // an interrupted run its checkpoint.last, says which model it trained, and
  // checkpoint.best holds the weights evaluated.
  std::string run_dir;
  // A TaskConfig .pbtxt; its relative paths are taken against workspace_dir.
  std::string task_file;
  std::string workspace_dir;
  Split split = Split::kTest;
  int64_t count = 0;  // Examples from the split's start; 0 = all.
  int threads = 0;    // 0 = the threads the run was trained with.
};

struct CheckpointEval {
  EvalFigures figures;
  RunConfig run;    // The run's config (task, model, training).
  TaskConfig task;  // The task evaluated on, defaults filled.
  Split split = Split::kTest;
  int64_t best_step = 0;   // Step of the best-validation checkpoint.
  std::string checkpoint;  // Its path.
  // A finished run's recorded test figures (when `finished`), for comparison.
  bool finished = false;
  double recorded_test_accuracy = 0;
};

// Loads the run's model and best checkpoint and evaluates it on `split` of
// the task in `task_file`, batch by batch as the trainer does (the run's
// batch size, seed and step), so the same task gives the run's own test
// figures. The task must agree with the model: the same vocabulary size as
// the run's task, the model's number of classes and documents per example,
// and no more positions than the model has (its max_len, or the length it
// was trained at); a mismatch is InvalidArgument naming both values and both
// files.
absl::StatusOr<CheckpointEval> EvaluateCheckpoint(
    const CheckpointEvalOptions& options);

// "validation" | "test" | "train" (also "val") to a Split, else
// InvalidArgument listing what is allowed.
absl::StatusOr<Split> ParseSplitName(const std::string& name);

// What `lra eval` prints: the run, checkpoint, task and split, then one line
// "accuracy A (C/N correct), loss L, examples N".
std::string FormatCheckpointEval(const CheckpointEval& eval);

}  // namespace lra

#endif  // LRA_EVALUATE_H_
