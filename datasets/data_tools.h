// `lra data stats` and `lra data bench`: quick looks at any registered task
// that never build a whole split. A split's first N examples are built on
// their own (every task's example i is the same whatever the split's size,
// generated or loaded), so LRA-size splits that take minutes to generate
// (Pathfinder's 160k images) answer in seconds.
#ifndef LRA_DATASETS_DATA_TOOLS_H_
#define LRA_DATASETS_DATA_TOOLS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "datasets/dataset.h"
#include "proto/config.pb.h"

namespace lra {

// The config that builds only the first `count` examples of `split` (all
// of them when count <= 0 or larger than the split) and writes nothing to
// disk: Pathfinder's cache_dir is cleared, since a partial split would
// otherwise be written to the shared cache. `task` must be resolved.
TaskConfig PrefixTask(const TaskConfig& task, Split split, int64_t count);

// True when `split` of a resolved task is read from official files (the
// config names them) rather than generated.
bool ReadsOfficialFiles(const TaskConfig& task, Split split);

// How many examples `lra data stats` describes per split and `lra data
// bench` times unless told: 2000, enough for stable figures; 500 for
// Pathfinder and Path-X, whose images take milliseconds each to draw, so
// that every task answers in seconds.
int64_t DefaultSampleCount(const TaskConfig& task);

// Statistics of the first examples of one split.
struct SplitSample {
  Split split = Split::kTrain;
  int64_t split_size = 0;  // The whole split's size in the config.
  double build_seconds = 0;
  DatasetStats stats;  // Over the first stats.size examples.
  std::string extra;   // Task-specific lines (Pathfinder's ink).
};

// Builds the first `count` examples of `split` of a resolved task (all when
// count <= 0) and describes them.
absl::StatusOr<SplitSample> SampleSplit(const TaskConfig& task, Split split,
                                        int64_t count,
                                        const std::string& workspace_dir);

// "== NAME SPLIT (first 2000 of 160000 examples, built in 4.10 s)" or
// "(all 2000 examples, ...)", then FormatDatasetStats and the extra lines.
std::string FormatSplitSample(const std::string& task_name,
                              const SplitSample& sample);

// How fast a task's examples are made: the first `count` training examples
// built on `threads` threads (generated, or read from the official files
// when the config names them), then read back once through Dataset::Get.
struct GenerationBench {
  std::string task;
  std::string source;  // "generated" or "loaded from files".
  int64_t examples = 0;
  int64_t split_size = 0;
  int threads = 1;
  int seq_len = 0;  // Positions per example (both documents for retrieval).
  double mean_tokens = 0;  // Non-padding tokens per example.
  double build_seconds = 0;
  double examples_per_second = 0;
  double tokens_per_second = 0;         // Non-padding tokens.
  double read_examples_per_second = 0;  // Dataset::Get of built examples.
};

// `task` must be resolved; count must be > 0 (it is capped at the train
// split's size); threads <= 0 means 1. Builds that take less than
// `min_seconds` are repeated until that much time has passed (at most 50
// builds) and the mean is reported, so fast tasks are not timed by a few
// milliseconds of noise.
absl::StatusOr<GenerationBench> BenchGeneration(
    const TaskConfig& task, int64_t count, int threads,
    const std::string& workspace_dir, double min_seconds = 1.0);

// One line: "listops train: 2000 of 96000 examples generated on 1 thread
// in 0.100 s: 20k examples/s, 20.1M tokens/s (1009.7 tokens per example,
// seq_len 2000); 50.0 us per example, so the whole split takes 4.8 s at
// this rate; read back through Get() at 1.8M examples/s".
std::string FormatGenerationBench(const GenerationBench& bench);

}  // namespace lra

#endif  // LRA_DATASETS_DATA_TOOLS_H_
