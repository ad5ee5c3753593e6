// The `lra` subcommands as library functions, so tests can call them; each
// command is defined in its own file, lra/command_<name>.cc. (`leaderboard`
// and `status` are eval's: eval/commands.h.)
#ifndef LRA_COMMANDS_H_
#define LRA_COMMANDS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/config.pb.h"

namespace lra {

// `lra run` (command_run.cc).
struct RunCommandOptions {
  std::string suite;
  std::string out = "results";
  bool resume = false;
  std::string shard = "0/1";
  int64_t stop_after_steps = 0;
  double allreduce_bucket_mb = 1.0;  // See TrainOptions.
};

// Validates the whole suite first (nothing is written on a config error),
// then trains its runs. Fails when any run failed.
absl::Status RunCommand(const RunCommandOptions& options);

// `lra data` (command_data.cc).
struct DataCommandOptions {
  std::string task = "listops";  // Task name (defaults of that task) ...
  std::string task_file;         // ... or a TaskConfig .pbtxt.
  // `check`, `stats`, `bench`: official data of the task (text, retrieval,
  // image: the loader's folder; pathfinder, pathx: official_dir; listops: a
  // folder holding basic_{train,val,test}.tsv), replacing the config's.
  std::string data_dir;
  std::string tsv;  // `check`: one ListOps TSV file to check.
  // `stats`: examples described per split; `bench`: examples timed (0 =
  // DefaultSampleCount: 2000, or 500 for Pathfinder); `render`: images to
  // write (0 = 16). Capped at the split's size.
  int64_t count = 0;
  int threads = 0;     // `bench`: threads (0 = all cores).
  int resolution = 0;  // `render`: Pathfinder side (0 = task's).
  std::string out;     // `render`: output folder.
};

// `lra data check|stats|bench|render`.
absl::Status DataCommand(const std::string& subcommand,
                         const DataCommandOptions& options);

// `lra bench` (command_bench.cc).
struct BenchCommandOptions {
  std::string model;
  std::string attention;
  std::string seq_len;
  int batch = 8;
  int warmup = 2;
  int steps = 5;
  int threads = 0;
  std::string format = "csv";
  // --sweep: every registered variant over `seq_len`, stored as a
  // BenchSweep in <out>/bench/sweep.pbtxt.
  bool sweep = false;
  std::string out = "results";
  // A variant whose step takes longer than this is not run at longer lengths.
  double max_step_seconds = 120;
  // A TaskConfig .pbtxt: batches take the real lengths of its train split's
  // first examples, padded to seq_len as training pads them. An empty
  // seq_len then means the task's.
  std::string lengths_from;
};

// The model `lra bench` measures: `model_file` (relative to the workspace)
// with `attention` as its variant when given (its parameters then dropped),
// validated against the attention registry; it must set vocab_size and
// num_classes itself, having no task.
absl::StatusOr<ModelConfig> LoadBenchModel(const std::string& model_file,
                                           const std::string& attention);

absl::Status BenchCommand(const BenchCommandOptions& options);

// `lra list` (command_list.cc).
absl::Status ListCommand();

// `lra eval` (command_eval.cc).
struct EvalCommandOptions {
  std::string run;        // A run's folder.
  std::string task_file;  // A TaskConfig .pbtxt.
  std::string split = "test";
  int64_t count = 0;  // Examples from the split's start; 0 = all.
  int threads = 0;    // 0 = the run's.
};

// `lra eval`: the run's best-validation checkpoint on a task file's split;
// prints accuracy, loss and the number of examples.
absl::Status EvalCommand(const EvalCommandOptions& options);

}  // namespace lra

#endif  // LRA_COMMANDS_H_
