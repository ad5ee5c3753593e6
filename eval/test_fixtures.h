// Fake results for tests: runs and sweeps written in the trainer's layout,
// with figures chosen by the test (nothing is trained), and the small helpers
// the eval tests share.
#ifndef EVAL_TEST_FIXTURES_H_
#define EVAL_TEST_FIXTURES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/result.pb.h"

namespace lra {

struct FakeRunSpec {
  std::string suite = "suite";
  std::string task_label = "listops";
  std::string task_name = "listops";
  int seq_len = 2000;
  std::string model = "transformer";
  std::string attention = "full";
  std::string train_name = "default";
  uint64_t seed = 1;
  float learning_rate = 0.05f;
  int steps = 1000;
  double test_accuracy = 0.36;  // Fraction, as the trainer writes it.
  std::string machine = "host-a (Test CPU, 2 cores)";
  std::vector<PluginParam> attention_params;
};

// A spec of `model` (attention "full" for "transformer", else the model's
// name) on the task labelled `task_label`, whose task name is `task_name`
// (the label when empty), with test accuracy `accuracy`.
FakeRunSpec Spec(const std::string& task_label, const std::string& model,
                 double accuracy, const std::string& task_name = "");

// How many times `needle` occurs in `text` (overlapping ones included).
int CountOccurrences(const std::string& text, const std::string& needle);

// A finished RunResult with a learning curve that rises to about the test
// accuracy (deterministic in the spec).
RunResult FakeRunResult(const FakeRunSpec& spec);

// Writes `result` as <dir>/<suite>/<task label>/<folder>/result.pbtxt, or
// failed.pbtxt when its status is "failed".
absl::Status WriteFakeRun(const std::string& results_dir,
                          const std::string& folder, const RunResult& result);

// Writes a finished run (folder = model name, or model.train_name when
// `with_train_name`).
absl::Status WriteFinishedRun(const std::string& results_dir,
                              const FakeRunSpec& spec,
                              bool with_train_name = false);

// Writes a failed run with `error`.
absl::Status WriteFailedRun(const std::string& results_dir,
                            const FakeRunSpec& spec, const std::string& error,
                            bool with_train_name = false);

// Writes only metrics.csv with evaluations up to `last_step`, as an
// interrupted run leaves it.
absl::Status WriteUnfinishedRun(const std::string& results_dir,
                                const FakeRunSpec& spec, int last_step);

struct FakeBenchPoint {
  std::string variant;
  int seq_len;
  double step_ms;  // Ignored when `error` is set.
  double peak_rss_mb;
  std::string error;
  std::vector<PluginParam> attention_params;  // empty: the defaults
};

BenchSweep FakeSweep(const std::vector<FakeBenchPoint>& points, int batch = 8);

absl::Status WriteSweep(const std::string& results_dir, const BenchSweep& sweep,
                        const std::string& name = "sweep.pbtxt");

// A full demonstration: an "lra" suite over LRA's five tasks with four
// variants (three seeds of one, a failed run, an unfinished run), a "smoke"
// suite with a short ListOps, and a sweep over 1K-16K with out-of-memory and
// over-budget points. Used by the browser test and for screenshots.
absl::Status WriteDemoResults(const std::string& results_dir);

// Two configurations of one variant: "transformer" (full), "sparse-fixed"
// (sparse_transformer at its defaults) and "sparse-strided"
// (sparse_transformer, mode=strided) trained on ListOps, and a sweep of full
// and sparse_transformer at 1K-4K (step time 100 and 40 ms at 1K, growing as
// N^2); with `measure_strided`, the sweep also measured mode=strided (20 ms at
// 1K, growing as N).
absl::Status WriteTwoConfigurationResults(const std::string& results_dir,
                                          bool measure_strided);

// Names a shared results folder could carry to a reader: HTML that would run
// a script, quotes, table separators, a closing script tag, CSV separators.
std::vector<std::string> HostileNames();

// One finished ListOps run per HostileNames() entry as the model name (in
// folders m0, m1, ...; the names never reach a path), the first on a machine
// described as HostileNames()[0], and a failed run whose model is "failing"
// and whose error is a script tag. For the escaping tests of every format.
absl::Status WriteHostileNameResults(const std::string& results_dir);

}  // namespace lra

#endif  // EVAL_TEST_FIXTURES_H_
