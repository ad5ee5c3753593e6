#include "datasets/data_tools.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "datasets/common/task_config.h"
#include "datasets/pathfinder/task.h"

namespace lra {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void SetSplitSize(Split split, int64_t size, TaskConfig* task) {
  switch (split) {
    case Split::kTrain:
      task->set_train_size(size);
      break;
    case Split::kVal:
      task->set_val_size(size);
      break;
    case Split::kTest:
      task->set_test_size(size);
      break;
  }
}

// Runs `fn` with OpenMP limited to `threads`, restoring the limit after.
template <typename Fn>
auto WithThreads(int threads, Fn fn) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  auto result = fn();
  omp_set_num_threads(before);
  return result;
}

// "5.0M", "312k" or "950".
std::string Short(double value) {
  if (value >= 1e6) return absl::StrFormat("%.1fM", value / 1e6);
  if (value >= 1e4) return absl::StrFormat("%.0fk", value / 1e3);
  return absl::StrFormat("%.0f", value);
}

// A loader's error about a shortened split names the shortened size (e.g.
// "task.train_size = 2000"); say where that size came from.
absl::Status PrefixError(const absl::Status& status, Split split,
                         int64_t prefix_size, int64_t split_size) {
  if (prefix_size == split_size) return status;
  return absl::Status(status.code(),
                      absl::StrCat(SplitName(split), ": building its first ",
                                   prefix_size, " of ", split_size,
                                   " examples (--count): ", status.message()));
}

}  // namespace

bool ReadsOfficialFiles(const TaskConfig& task, Split split) {
  switch (task.params_case()) {
    case TaskConfig::kListops:
      return !(split == Split::kTrain ? task.listops().train_tsv()
               : split == Split::kVal ? task.listops().val_tsv()
                                      : task.listops().test_tsv())
                  .empty();
    case TaskConfig::kText:
      return !task.text().data_dir().empty();
    case TaskConfig::kRetrieval:
      return !task.retrieval().data_dir().empty();
    case TaskConfig::kImage:
      return !task.image().data_dir().empty();
    case TaskConfig::kPathfinder:
      return !task.pathfinder().official_dir().empty();
    default:
      return false;
  }
}

int64_t DefaultSampleCount(const TaskConfig& task) {
  return task.params_case() == TaskConfig::kPathfinder ? 500 : 2000;
}

TaskConfig PrefixTask(const TaskConfig& task, Split split, int64_t count) {
  TaskConfig prefix = task;
  const int64_t size = SplitSize(task, split);
  if (count > 0 && count < size) SetSplitSize(split, count, &prefix);
  if (prefix.params_case() == TaskConfig::kPathfinder) {
    prefix.mutable_pathfinder()->clear_cache_dir();
  }
  return prefix;
}

absl::StatusOr<SplitSample> SampleSplit(const TaskConfig& task, Split split,
                                        int64_t count,
                                        const std::string& workspace_dir) {
  SplitSample sample;
  sample.split = split;
  sample.split_size = SplitSize(task, split);
  const auto start = Clock::now();
  const TaskConfig prefix = PrefixTask(task, split, count);
  absl::StatusOr<std::unique_ptr<Dataset>> data =
      MakeDataset(prefix, split, workspace_dir);
  if (!data.ok()) {
    return PrefixError(data.status(), split, SplitSize(prefix, split),
                       sample.split_size);
  }
  sample.build_seconds = SecondsSince(start);
  sample.stats = DescribeDataset(**data);
  if (task.params_case() == TaskConfig::kPathfinder) {
    sample.extra = pathfinder::FormatInkStats(
        pathfinder::DescribeInk(**data, (*data)->size()));
  }
  return sample;
}

std::string FormatSplitSample(const std::string& task_name,
                              const SplitSample& sample) {
  std::string out =
      absl::StrCat("== ", task_name, " ", SplitName(sample.split), " (");
  if (sample.stats.size < sample.split_size) {
    absl::StrAppend(&out, "first ", sample.stats.size, " of ",
                    sample.split_size);
  } else {
    absl::StrAppend(&out, "all ", sample.split_size);
  }
  absl::StrAppendFormat(&out, " examples, built in %.2f s)\n",
                        sample.build_seconds);
  absl::StrAppend(&out, FormatDatasetStats(sample.stats), sample.extra);
  return out;
}

absl::StatusOr<GenerationBench> BenchGeneration(
    const TaskConfig& task, int64_t count, int threads,
    const std::string& workspace_dir, double min_seconds) {
  if (count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--count=", count, " (allowed: > 0)"));
  }
  GenerationBench bench;
  bench.task = task.label().empty() ? task.name() : task.label();
  bench.source = ReadsOfficialFiles(task, Split::kTrain) ? "loaded from files"
                                                         : "generated";
  bench.split_size = task.train_size();
  bench.examples = std::min<int64_t>(count, bench.split_size);
  bench.threads = std::max(threads, 1);
  const TaskConfig prefix = PrefixTask(task, Split::kTrain, bench.examples);
  // Each build makes the same examples from scratch.
  int builds = 0;
  double seconds = 0;
  std::unique_ptr<Dataset> data;
  while (builds == 0 || (seconds < min_seconds && builds < 50)) {
    data.reset();
    const auto start = Clock::now();
    absl::StatusOr<std::unique_ptr<Dataset>> built = WithThreads(
        bench.threads,
        [&] { return MakeDataset(prefix, Split::kTrain, workspace_dir); });
    if (!built.ok()) {
      return PrefixError(built.status(), Split::kTrain, bench.examples,
                         bench.split_size);
    }
    seconds += SecondsSince(start);
    ++builds;
    data = *std::move(built);
  }
  bench.build_seconds = seconds / builds;
  bench.seq_len = data->seq_len();
  // Reading back touches every example once through Get(), as training
  // does; for splits drawn on the fly that is where the drawing happens.
  const auto start = Clock::now();
  const DatasetStats stats = DescribeDataset(*data);
  const double read_seconds = SecondsSince(start);
  bench.mean_tokens = stats.mean_tokens * stats.num_segments;
  bench.examples_per_second =
      bench.examples / std::max(bench.build_seconds, 1e-9);
  bench.tokens_per_second = bench.examples_per_second * bench.mean_tokens;
  bench.read_examples_per_second =
      bench.examples / std::max(read_seconds, 1e-9);
  return bench;
}

std::string FormatGenerationBench(const GenerationBench& bench) {
  const double per_example =
      bench.examples_per_second > 0 ? 1 / bench.examples_per_second : 0;
  return absl::StrFormat(
      "%s train: %d of %d examples %s on %d thread%s in %.3f s: %s "
      "examples/s, %s tokens/s (%.1f tokens per example, seq_len %d); %.1f "
      "us per example, so the whole split takes %.1f s at this rate; read "
      "back through Get() at %s examples/s\n",
      bench.task, bench.examples, bench.split_size, bench.source, bench.threads,
      bench.threads == 1 ? "" : "s", bench.build_seconds,
      Short(bench.examples_per_second), Short(bench.tokens_per_second),
      bench.mean_tokens, bench.seq_len, 1e6 * per_example,
      bench.split_size * per_example, Short(bench.read_examples_per_second));
}

}  // namespace lra
