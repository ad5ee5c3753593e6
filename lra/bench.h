// Timing a full training step (forward, backward, AdamW) at several lengths,
// with the step's analytic FLOPs (lra/flops.h) and the fraction of this
// machine's measured fp32 matmul peak (lra/peak_probe.h) it reached.
#ifndef LRA_BENCH_H_
#define LRA_BENCH_H_

#include <optional>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace lra {

struct BenchRow {
  std::string variant;
  int seq_len = 0;
  int batch = 0;
  double step_ms = 0;       // Median over the timed steps.
  double tokens_per_s = 0;  // batch * seq_len / step time (padding included).
  double peak_rss_mb = 0;   // Peak resident memory of the process.
  // Real (non-padding) tokens per document, mean over the timed steps'
  // batches: seq_len without --lengths_from.
  double mean_length = 0;
  // TrainingStepFlops(...).total over the real tokens, mean over the timed
  // steps' batches, and its scope ("all", "no_mixer_core", ...).
  double flops_per_step = 0;
  std::string flops_scope;
  double achieved_gflops = 0;  // flops_per_step / median step time.
  double peak_gflops = 0;      // The machine's matmul peak (0 = unknown).
  double peak_fraction = 0;    // achieved_gflops / peak_gflops.
  std::string cpu;             // CpuModelName().
  std::string error;           // Set when the measurement failed.
};

struct BenchOptions {
  int batch = 8;
  int warmup_steps = 2;
  int timed_steps = 5;
  int threads = 0;  // 0 = all cores.
  // When set, step i (warmup included) takes the real lengths of examples
  // [i * batch, (i + 1) * batch) of this task's train split (generated or
  // read as training would, in index order, so the same every time), each
  // document cut to or padded to its share of seq_len as training pads it;
  // else every position of every example is a real token.
  std::optional<TaskConfig> lengths_from;
  std::string workspace_dir;  // Resolves lengths_from's relative paths.
  double peak_gflops = 0;     // MeasurePeakInChild(), copied into rows.
};

// The name of a bench row: the mixer or attention label ("full",
// "local (window=4)"), or for a model with a sequence handler the handler's
// label, followed by the attention it runs in parentheses unless it brings
// its own mixer: "transformer_xl", "rmt (full)",
// "rmt (full, segment_len=256)".
std::string BenchVariant(const ModelConfig& model);

// The sequence handlers `lra bench --sweep` measures: each registered one at
// its defaults, with segment_len 512 wherever it is a parameter (the bench
// model's reference segment length).
std::vector<PluginConfig> SweepSequenceConfigs();

// A handler configuration as the bench measures it: `config`'s parameters
// with segment_len set to the bench's 512 where the handler declares it (the
// parameter left out when 512 is its default, so that the label names only
// what differs). An unknown handler is returned unchanged.
PluginConfig BenchSequenceConfig(const PluginConfig& config);

// Measures one length in a child process of its own, so that peak memory is
// that length's alone and a crash or out-of-memory shows as an error row.
BenchRow BenchTrainingStep(const ModelConfig& model, int seq_len,
                           const BenchOptions& options);

// MeasureMatmulPeakGflops on `threads` threads (0 = all cores) in a child
// process (the parent stays free of OpenMP, which does not survive fork);
// 0 when it failed.
double MeasurePeakInChild(int threads);

std::string BenchCsvHeader();
std::string BenchCsvRow(const BenchRow& row);
// A Markdown table of rows.
std::string BenchTable(const std::vector<BenchRow>& rows);

}  // namespace lra

#endif  // LRA_BENCH_H_
