#include "lra/bench.h"

#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "lra/optimizer.h"
#include "lra/trainer.h"
#include "models/builtin.h"
#include "models/encoder.h"

namespace lra {
namespace {

// Runs in the child: returns "step_ms peak_rss_mb" or "error: ...".
std::string MeasureInChild(const ModelConfig& model, int seq_len,
                           const BenchOptions& options) {
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  omp_set_num_threads(threads);
  auto encoder_or = Encoder::Create(model, {seq_len, options.batch, /*seed=*/1},
                                    BuiltinPlugins());
  if (!encoder_or.ok())
    return absl::StrCat("error: ", encoder_or.status().message());
  Encoder& encoder = **encoder_or;
  encoder.InitParameters(1);
  TrainConfig train;
  train.set_learning_rate(1e-4f);
  train.set_beta1(0.9f);
  train.set_beta2(0.98f);
  train.set_eps(1e-9f);
  train.set_weight_decay(0.1f);
  AdamW optimizer(train, &encoder);
  std::vector<int32_t> tokens(int64_t{options.batch} * seq_len);
  std::vector<int32_t> labels(options.batch);
  uint64_t state = 12345;
  auto next = [&state]() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  // Real tokens only (ids 1..vocab-1): the bench measures unpadded batches.
  for (int32_t& t : tokens) t = 1 + next() % (model.vocab_size() - 1);
  for (int32_t& l : labels) l = next() % model.num_classes();
  std::vector<double> times;
  for (int i = 0; i < options.warmup_steps + options.timed_steps; ++i) {
    auto start = std::chrono::steady_clock::now();
    encoder.ZeroGrad();
    encoder.Forward(tokens.data(), options.batch, /*training=*/true, i);
    int correct;
    encoder.Loss(labels.data(), &correct);
    encoder.Backward();
    optimizer.Step(i + 1, 1e-4);
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (i >= options.warmup_steps) times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  double median = times.empty() ? 0 : times[times.size() / 2];
  return absl::StrFormat("%.6f %.3f", median, PeakRssMb());
}

}  // namespace

BenchRow BenchTrainingStep(const ModelConfig& model, int seq_len,
                           const BenchOptions& options) {
  BenchRow row;
  row.variant = !model.mixer().name().empty()      ? model.mixer().name()
                : model.attention().name().empty() ? "full"
                                                   : model.attention().name();
  row.seq_len = seq_len;
  row.batch = options.batch;
  int fds[2];
  if (pipe(fds) != 0) {
    row.error = "pipe failed";
    return row;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    row.error = "fork failed";
    return row;
  }
  if (pid == 0) {
    close(fds[0]);
    std::string answer = MeasureInChild(model, seq_len, options);
    ssize_t unused = write(fds[1], answer.data(), answer.size());
    (void)unused;
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string answer;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0)
    answer.append(buffer, n);
  close(fds[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (WIFSIGNALED(wstatus)) {
    row.error = absl::StrCat("killed by signal ", WTERMSIG(wstatus),
                             WTERMSIG(wstatus) == 9 ? " (out of memory?)" : "");
    return row;
  }
  if (absl::StartsWith(answer, "error: ") || answer.empty()) {
    row.error = answer.empty() ? "no answer from the measuring process"
                               : answer.substr(7);
    return row;
  }
  std::vector<std::string> parts = absl::StrSplit(answer, ' ');
  if (parts.size() != 2 || !absl::SimpleAtod(parts[0], &row.step_ms) ||
      !absl::SimpleAtod(parts[1], &row.peak_rss_mb)) {
    row.error = absl::StrCat("unreadable answer: ", answer);
    return row;
  }
  row.tokens_per_s =
      row.step_ms > 0 ? 1000.0 * options.batch * seq_len / row.step_ms : 0;
  return row;
}

std::string BenchCsvHeader() {
  return "variant,seq_len,batch,step_ms,tokens_per_s,peak_rss_mb";
}

std::string BenchCsvRow(const BenchRow& row) {
  if (!row.error.empty()) {
    return absl::StrFormat("%s,%d,%d,,,", row.variant, row.seq_len, row.batch);
  }
  return absl::StrFormat("%s,%d,%d,%.1f,%.0f,%.0f", row.variant, row.seq_len,
                         row.batch, row.step_ms, row.tokens_per_s,
                         row.peak_rss_mb);
}

std::string BenchTable(const std::vector<BenchRow>& rows) {
  std::string out =
      "| variant | seq_len | batch | step ms | tokens/s | peak RSS MB |\n"
      "|---|---:|---:|---:|---:|---:|\n";
  for (const BenchRow& row : rows) {
    if (!row.error.empty()) {
      absl::StrAppendFormat(&out, "| %s | %d | %d | %s | | |\n", row.variant,
                            row.seq_len, row.batch, row.error);
    } else {
      absl::StrAppendFormat(&out, "| %s | %d | %d | %.1f | %.0f | %.0f |\n",
                            row.variant, row.seq_len, row.batch, row.step_ms,
                            row.tokens_per_s, row.peak_rss_mb);
    }
  }
  return out;
}

}  // namespace lra
