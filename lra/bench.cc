#include "lra/bench.h"

#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "datasets/dataset.h"
#include "eval/tables.h"
#include "lra/flops.h"
#include "lra/optimizer.h"
#include "lra/peak_probe.h"
#include "lra/trainer.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "models/sequence/sequence.h"
#include "util/status_macros.h"

namespace lra {
namespace {

int Threads(int threads) {
  return threads > 0 ? threads
                     : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
}

// Real tokens of each document of `examples` examples, example i being the
// train split's example (first + i): non-padding positions up to the last
// real one, as DescribeDataset counts them.
absl::StatusOr<std::vector<int>> TaskLengths(const TaskConfig& task_config,
                                             int64_t first, int64_t examples,
                                             int segments,
                                             const std::string& workspace) {
  TaskConfig task = task_config;
  // Generators give example i the same for every size > i: only what the
  // bench reads is made.
  RETURN_IF_ERROR(ResolveTaskDefaults(&task));
  const int64_t needed = first + examples;
  if (task.train_size() > needed) task.set_train_size(needed);
  ASSIGN_OR_RETURN(std::unique_ptr<Dataset> data,
                   MakeDataset(task, Split::kTrain, workspace));
  if (data->num_segments() != segments) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--lengths_from: task '", task.name(), "' has ", data->num_segments(),
        " documents per example, the bench model ", segments));
  }
  const int n = data->seq_len();
  const int doc = n / segments;
  std::vector<int32_t> tokens(n);
  std::vector<int> lengths;
  for (int64_t i = 0; i < examples; ++i) {
    data->Get((first + i) % data->size(), tokens.data());
    for (int s = 0; s < segments; ++s) {
      int length = 0;
      for (int p = 0; p < doc; ++p) {
        if (tokens[s * doc + p] != 0) length = p + 1;
      }
      lengths.push_back(length);
    }
  }
  return lengths;
}
// Runs in the child: returns "step_ms peak_rss_mb mean_length flops" or
// "error: ...".
std::string MeasureInChild(const ModelConfig& model, int seq_len,
                           const BenchOptions& options) {
  omp_set_num_threads(Threads(options.threads));
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
  const int steps = options.warmup_steps + options.timed_steps;
  const int segments = encoder.num_segments();
  const int doc = seq_len / segments;  // Positions per document.
  // Real tokens per document of every step's batch: [steps, batch, segments].
  std::vector<int> lengths;
  if (options.lengths_from.has_value()) {
    absl::StatusOr<std::vector<int>> task_lengths =
        TaskLengths(*options.lengths_from, 0, int64_t{steps} * options.batch,
                    segments, options.workspace_dir);
    if (!task_lengths.ok()) {
      return absl::StrCat("error: ", task_lengths.status().message());
    }
    lengths = std::move(*task_lengths);
    for (int& length : lengths) length = std::min(length, doc);
  } else {
    lengths.assign(int64_t{steps} * options.batch * segments, doc);
  }
  const int64_t batch_tokens = int64_t{options.batch} * seq_len;
  std::vector<int32_t> tokens(steps * batch_tokens);  // [steps, batch, N]
  std::vector<int32_t> labels(options.batch);
  uint64_t state = 12345;
  auto next = [&state]() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  // Ids 1..vocab-1 at real positions, padding (0) after, as training pads.
  for (size_t d = 0; d < lengths.size(); ++d) {
    int32_t* document = tokens.data() + d * doc;
    for (int p = 0; p < doc; ++p) {
      document[p] = p < lengths[d] ? 1 + next() % (model.vocab_size() - 1) : 0;
    }
  }
  for (int32_t& l : labels) l = next() % model.num_classes();
  std::vector<double> times;
  double flops_sum = 0;
  int64_t length_sum = 0, documents = 0;
  for (int i = 0; i < steps; ++i) {
    const int32_t* batch = tokens.data() + i * batch_tokens;
    auto start = std::chrono::steady_clock::now();
    encoder.ZeroGrad();
    encoder.Forward(batch, options.batch, /*training=*/true, i);
    int correct;
    encoder.Loss(labels.data(), &correct);
    encoder.Backward();
    optimizer.Step(i + 1, 1e-4);
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (i < options.warmup_steps) continue;
    times.push_back(ms);
    const auto first = lengths.begin() + int64_t{i} * options.batch * segments;
    const std::vector<int> step_lengths(first,
                                        first + options.batch * segments);
    flops_sum += TrainingStepFlops(encoder.config(), step_lengths, doc).total;
    for (int length : step_lengths) length_sum += length;
    documents += step_lengths.size();
  }
  std::sort(times.begin(), times.end());
  double median = times.empty() ? 0 : times[times.size() / 2];
  return absl::StrFormat(
      "%.6f %.3f %.6f %.6e", median, PeakRssMb(),
      documents > 0 ? static_cast<double>(length_sum) / documents : 0,
      times.empty() ? 0 : flops_sum / times.size());
}

// Runs `measure` in a child process and returns what it returned, or
// "error: ..." when the child died or said nothing.
std::string RunInChild(const std::function<std::string()>& measure) {
  int fds[2];
  if (pipe(fds) != 0) return "error: pipe failed";
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return "error: fork failed";
  if (pid == 0) {
    close(fds[0]);
    std::string answer = measure();
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
    return absl::StrCat("error: killed by signal ", WTERMSIG(wstatus),
                        WTERMSIG(wstatus) == 9 ? " (out of memory?)" : "");
  }
  if (answer.empty()) return "error: no answer from the measuring process";
  return answer;
}

}  // namespace

std::string BenchVariant(const ModelConfig& model) {
  const std::string inner = !model.mixer().name().empty()
                                ? AttentionConfigLabel(model.mixer())
                                : AttentionConfigLabel(model.attention());
  if (model.sequence().name().empty()) return inner;
  const std::string sequence = AttentionConfigLabel(model.sequence());
  absl::StatusOr<const SequencePlugin*> plugin =
      BuiltinPlugins().sequence->Find(model.sequence().name());
  if (plugin.ok() && (*plugin)->capabilities.own_mixer) return sequence;
  // "rmt" -> "rmt (full)"; "rmt (segment_len=256)" -> "rmt (full,
  // segment_len=256)".
  const size_t paren = sequence.find(" (");
  if (paren == std::string::npos)
    return absl::StrCat(sequence, " (", inner, ")");
  return absl::StrCat(sequence.substr(0, paren), " (", inner, ", ",
                      sequence.substr(paren + 2));
}

PluginConfig BenchSequenceConfig(const PluginConfig& config) {
  constexpr double kSegmentLen = 512;
  absl::StatusOr<const SequencePlugin*> plugin =
      BuiltinPlugins().sequence->Find(config.name());
  if (!plugin.ok()) return config;
  PluginConfig out;
  out.set_name(config.name());
  for (const PluginParam& param : config.param()) {
    if (param.name() != "segment_len") *out.add_param() = param;
  }
  for (const PluginParamSpec& spec : (*plugin)->params) {
    if (spec.name == "segment_len" && spec.default_number != kSegmentLen) {
      PluginParam* param = out.add_param();
      param->set_name("segment_len");
      param->set_number(kSegmentLen);
    }
  }
  return out;
}

std::vector<PluginConfig> SweepSequenceConfigs() {
  std::vector<PluginConfig> configs;
  for (const std::string& name : BuiltinPlugins().sequence->Names()) {
    PluginConfig config;
    config.set_name(name);
    configs.push_back(BenchSequenceConfig(config));
  }
  return configs;
}

double MeasurePeakInChild(int threads) {
  const std::string answer = RunInChild([threads] {
    omp_set_num_threads(Threads(threads));
    return absl::StrFormat("%.6f", MeasureMatmulPeakGflops());
  });
  double gflops = 0;
  if (!absl::SimpleAtod(answer, &gflops)) return 0;
  return gflops;
}

BenchRow BenchTrainingStep(const ModelConfig& model, int seq_len,
                           const BenchOptions& options) {
  BenchRow row;
  row.variant = BenchVariant(model);
  row.seq_len = seq_len;
  row.batch = options.batch;
  row.cpu = CpuModelName();
  row.peak_gflops = options.peak_gflops;
  row.flops_scope = TrainingStepFlops(model, {}).scope;
  const std::string answer =
      RunInChild([&] { return MeasureInChild(model, seq_len, options); });
  if (absl::StartsWith(answer, "error: ")) {
    row.error = answer.substr(7);
    return row;
  }
  std::vector<std::string> parts = absl::StrSplit(answer, ' ');
  if (parts.size() != 4 || !absl::SimpleAtod(parts[0], &row.step_ms) ||
      !absl::SimpleAtod(parts[1], &row.peak_rss_mb) ||
      !absl::SimpleAtod(parts[2], &row.mean_length) ||
      !absl::SimpleAtod(parts[3], &row.flops_per_step)) {
    row.error = absl::StrCat("unreadable answer: ", answer);
    return row;
  }
  if (row.step_ms > 0) {
    row.tokens_per_s = 1000.0 * options.batch * seq_len / row.step_ms;
    row.achieved_gflops = row.flops_per_step / (row.step_ms / 1000) / 1e9;
  }
  if (row.peak_gflops > 0) {
    row.peak_fraction = row.achieved_gflops / row.peak_gflops;
  }
  return row;
}

std::string BenchCsvHeader() {
  return "variant,seq_len,batch,step_ms,tokens_per_s,peak_rss_mb,mean_length,"
         "gflop_per_step,gflops,peak_gflops,peak_fraction,flops_scope,cpu";
}

namespace {

// CSV fields hold no commas: "a, b" -> "a; b".
std::string CsvField(const std::string& text) {
  return absl::StrReplaceAll(text, {{",", ";"}});
}

}  // namespace

std::string BenchCsvRow(const BenchRow& row) {
  if (!row.error.empty()) {
    return absl::StrFormat("%s,%d,%d,,,,,,,%.1f,,%s,%s", CsvField(row.variant),
                           row.seq_len, row.batch, row.peak_gflops,
                           row.flops_scope, CsvField(row.cpu));
  }
  return absl::StrFormat(
      "%s,%d,%d,%.1f,%.0f,%.0f,%.1f,%.6g,%.2f,%.1f,%.4f,%s,%s",
      CsvField(row.variant), row.seq_len, row.batch, row.step_ms,
      row.tokens_per_s, row.peak_rss_mb, row.mean_length,
      row.flops_per_step / 1e9, row.achieved_gflops, row.peak_gflops,
      row.peak_fraction, row.flops_scope, CsvField(row.cpu));
}

std::string BenchTable(const std::vector<BenchRow>& rows) {
  std::string out =
      "| variant | seq_len | batch | step ms | tokens/s | peak RSS MB | mean "
      "length | GFLOP/step | GFLOP/s | % of peak |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const BenchRow& row : rows) {
    if (!row.error.empty()) {
      absl::StrAppendFormat(&out, "| %s | %d | %d | %s | | | | | | |\n",
                            row.variant, row.seq_len, row.batch, row.error);
    } else {
      absl::StrAppendFormat(
          &out,
          "| %s | %d | %d | %.1f | %.0f | %.0f | %.1f | %.4g | %.1f | %s |\n",
          row.variant, row.seq_len, row.batch, row.step_ms, row.tokens_per_s,
          row.peak_rss_mb, row.mean_length, row.flops_per_step / 1e9,
          row.achieved_gflops,
          row.peak_gflops > 0 ? absl::StrFormat("%.1f", 100 * row.peak_fraction)
                              : std::string("?"));
    }
  }
  if (!rows.empty()) {
    absl::StrAppendFormat(
        &out,
        "\nCPU: %s; fp32 matmul peak %.1f GFLOP/s (oneDNN 1024^3, best of "
        "5); FLOPs are the analytic count of forward and backward over real "
        "tokens (scope: %s).\n",
        rows[0].cpu, rows[0].peak_gflops, rows[0].flops_scope);
  }
  return out;
}

}  // namespace lra
