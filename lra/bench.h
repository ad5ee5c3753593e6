// Timing a full training step (forward, backward, AdamW) at several lengths.
#ifndef LRA_BENCH_H_
#define LRA_BENCH_H_

#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace lra {

struct BenchRow {
  std::string variant;
  int seq_len = 0;
  int batch = 0;
  double step_ms = 0;       // Median over the timed steps.
  double tokens_per_s = 0;  // batch * seq_len / step time.
  double peak_rss_mb = 0;   // Peak resident memory of the process.
  std::string error;        // Set when the measurement failed.
};

struct BenchOptions {
  int batch = 8;
  int warmup_steps = 2;
  int timed_steps = 5;
  int threads = 0;  // 0 = all cores.
};

// Measures one length in a child process of its own, so that peak memory is
// that length's alone and a crash or out-of-memory shows as an error row.
BenchRow BenchTrainingStep(const ModelConfig& model, int seq_len,
                           const BenchOptions& options);

std::string BenchCsvHeader();
std::string BenchCsvRow(const BenchRow& row);
// A Markdown table of rows.
std::string BenchTable(const std::vector<BenchRow>& rows);

}  // namespace lra

#endif  // LRA_BENCH_H_
