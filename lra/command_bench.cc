// `lra bench`: training-step time, FLOPs and memory per length, of one model
// or (--sweep) of every registered token mixer.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/text_proto.h"
#include "eval/results.h"
#include "eval/tables.h"
#include "lra/bench.h"
#include "lra/commands.h"
#include "lra/trainer.h"
#include "lra/validate.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "models/mixer.h"
#include "proto/result.pb.h"
#include "util/cpu.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {

// What a sweep measures: every registered attention variant and every other
// registered token mixer (s4d, lru) at its defaults, each sequence handler
// (SweepSequenceConfigs, over the bench model's attention), then every other
// token-mixer configuration (attention with parameters, or a mixer plugin) that
// a finished or running run in `results_dir` trained, so the leaderboard never
// shows a configuration with another one's figures.
struct SweepConfig {
  std::string
      label;  // AttentionConfigLabel: "sparse_transformer (mode=strided)"
  PluginConfig attention;
  PluginConfig mixer;     // set for a mixer plugin instead of attention
  PluginConfig sequence;  // set for a sequence handler (over the model's)
};

std::vector<SweepConfig> SweepConfigs(const std::string& results_dir) {
  std::vector<SweepConfig> configs;
  auto add = [&](const PluginConfig& attention, const PluginConfig& mixer) {
    SweepConfig config;
    config.attention = attention;
    config.mixer = mixer;
    config.label =
        AttentionConfigLabel(mixer.name().empty() ? attention : mixer);
    for (const SweepConfig& c : configs) {
      if (c.label == config.label) return;
    }
    configs.push_back(std::move(config));
  };
  for (const std::string& variant : BuiltinPlugins().attention->Names()) {
    PluginConfig attention;
    attention.set_name(variant);
    add(attention, PluginConfig());
  }
  for (const std::string& name : BuiltinPlugins().mixers->Names()) {
    if (name == kAttentionMixerName) continue;  // measured as attention above
    PluginConfig mixer;
    mixer.set_name(name);
    add(PluginConfig(), mixer);
  }
  for (const PluginConfig& sequence : SweepSequenceConfigs()) {
    configs.push_back(
        {sequence.name(), PluginConfig(), PluginConfig(), sequence});
  }
  // A results folder that does not exist yet has nothing more to measure.
  absl::StatusOr<ResultSet> results = LoadResults(results_dir);
  if (!results.ok()) return configs;
  for (const RunRecord& run : results->runs) {
    if (!run.result.has_config()) continue;
    const ModelConfig& model = run.result.config().model();
    const bool mixer = !model.mixer().name().empty() &&
                       model.mixer().name() != kAttentionMixerName;
    if (mixer) {
      add(PluginConfig(), model.mixer());
    } else {
      PluginConfig attention = model.attention();
      if (attention.name().empty()) attention.set_name("full");
      add(attention, PluginConfig());
    }
  }
  return configs;
}

// Measures every configuration of SweepConfigs at every length, smallest first.
// Once a variant fails or exceeds the time budget, its longer lengths are
// recorded as skipped, so the table shows them rather than dropping them.
absl::Status BenchSweepCommand(const ModelConfig& base_model,
                               const std::vector<int>& lengths,
                               const BenchOptions& bench,
                               const BenchCommandOptions& options) {
  const std::string workspace = WorkspaceDir();
  const std::string dir = ResolvePath(workspace, options.out) + "/bench";
  absl::Status status = MakeDirs(dir);
  if (!status.ok()) return status;
  BenchSweep sweep;
  *sweep.mutable_model() = base_model;
  sweep.set_threads(ThreadsOrAllCores(bench.threads));
  sweep.set_machine(MachineDescription());
  sweep.set_cpu_model(CpuModelName());
  sweep.set_matmul_peak_gflops(bench.peak_gflops);
  sweep.set_lengths_from(options.lengths_from);
  sweep.set_git_revision(GitRevision(workspace));
  sweep.set_started(
      absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()));
  std::vector<BenchRow> rows;
  std::cout << BenchCsvHeader() << "\n" << std::flush;
  for (const SweepConfig& config :
       SweepConfigs(ResolvePath(workspace, options.out))) {
    ModelConfig model = base_model;
    const bool is_mixer = !config.mixer.name().empty();
    const bool is_sequence = !config.sequence.name().empty();
    if (is_sequence) {
      *model.mutable_sequence() = config.sequence;
    } else if (is_mixer) {
      model.clear_attention();
      *model.mutable_mixer() = config.mixer;
    } else {
      model.clear_mixer();
      *model.mutable_attention() = config.attention;
    }
    const PluginConfig& measured = is_sequence ? config.sequence
                                   : is_mixer  ? config.mixer
                                               : config.attention;
    const std::string variant = measured.name();
    const std::string label = is_sequence ? BenchVariant(model) : config.label;
    std::string skip_reason;
    for (int n : lengths) {
      BenchRow row;
      row.variant = variant;
      row.seq_len = n;
      row.batch = bench.batch;
      row.cpu = CpuModelName();
      row.peak_gflops = bench.peak_gflops;
      if (!skip_reason.empty()) {
        row.error = skip_reason;
      } else {
        std::cerr << "bench: " << label << " at " << n << "...\n";
        row = BenchTrainingStep(model, n, bench);
        if (!row.error.empty()) {
          skip_reason = absl::StrCat("skipped: failed at ", n);
        } else if (row.step_ms > 1000 * options.max_step_seconds) {
          skip_reason =
              absl::StrCat("skipped: over the ", options.max_step_seconds,
                           " s step budget at ", n);
        }
      }
      // The CSV names the configuration; the sweep keeps name and params.
      row.variant = absl::StrReplaceAll(label, {{", ", "; "}});
      std::cout << BenchCsvRow(row) << "\n" << std::flush;
      BenchPoint* point = sweep.add_point();
      point->set_variant(variant);
      point->set_seq_len(row.seq_len);
      point->set_batch(row.batch);
      point->set_step_ms(row.step_ms);
      point->set_tokens_per_second(row.tokens_per_s);
      point->set_peak_rss_mb(row.peak_rss_mb);
      point->set_error(row.error);
      point->set_mean_length(row.mean_length);
      point->set_flops_per_step(row.flops_per_step);
      point->set_achieved_gflops(row.achieved_gflops);
      point->set_peak_fraction(row.peak_fraction);
      point->set_flops_scope(row.flops_scope);
      *point->mutable_attention_param() = measured.param();
      rows.push_back(row);
      // Written after every point: a sweep cut short keeps what it measured.
      status = WriteTextProtoAtomic(dir + "/sweep.pbtxt", sweep);
      if (!status.ok()) return status;
    }
  }
  sweep.set_finished(
      absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()));
  status = WriteTextProtoAtomic(dir + "/sweep.pbtxt", sweep);
  if (!status.ok()) return status;
  std::cerr << "bench: sweep written to " << dir << "/sweep.pbtxt\n";
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> LoadBenchModel(const std::string& model_file,
                                           const std::string& attention) {
  ModelConfig model;
  ConfigOrigin origin{std::make_shared<ConfigSource>(), ""};
  RETURN_IF_ERROR(LoadTextProto(ResolvePath(WorkspaceDir(), model_file), &model,
                                origin.source.get()));
  if (!attention.empty()) {
    model.mutable_attention()->set_name(attention);
    model.mutable_attention()->clear_param();
  }
  RETURN_IF_ERROR(ResolveAndValidateModelWithoutTask(&model, origin));
  // Without a task, the bench draws tokens 1..vocab_size-1 and labels
  // 0..num_classes-1 itself.
  if (model.vocab_size() < 2 || model.num_classes() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin.Where("vocab_size"),
        ": a bench model needs vocab_size >= 2 and num_classes >= 1 (it "
        "has no task to take them from)"));
  }
  return model;
}

absl::Status BenchCommand(const BenchCommandOptions& options) {
  ASSIGN_OR_RETURN(ModelConfig model,
                   LoadBenchModel(options.model, options.attention));
  if (options.format != "csv" && options.format != "md") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format=", options.format, ": allowed: csv, md"));
  }
  if (options.batch <= 0 || options.steps <= 0 || options.warmup < 0) {
    return absl::InvalidArgumentError(
        "--batch and --steps must be > 0 and --warmup >= 0");
  }
  BenchOptions bench;
  bench.batch = options.batch;
  bench.warmup_steps = options.warmup;
  bench.timed_steps = options.steps;
  bench.threads = options.threads;
  bench.workspace_dir = WorkspaceDir();
  std::string seq_len = options.seq_len;
  if (!options.lengths_from.empty()) {
    TaskConfig task;
    ConfigOrigin origin{std::make_shared<ConfigSource>(), ""};
    RETURN_IF_ERROR(
        LoadTextProto(ResolvePath(bench.workspace_dir, options.lengths_from),
                      &task, origin.source.get()));
    RETURN_IF_ERROR(ResolveAndValidateTask(&task, origin));
    if (seq_len.empty()) seq_len = absl::StrCat(task.seq_len());
    bench.lengths_from = task;
  }
  if (seq_len.empty()) seq_len = "1024,2048,4096";
  std::vector<int> lengths;
  for (absl::string_view part : absl::StrSplit(seq_len, ',')) {
    int n;
    if (!absl::SimpleAtoi(part, &n) || n <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--seq_len=", seq_len,
          ": allowed: positive integers separated by commas, e.g. 1024,2048"));
    }
    lengths.push_back(n);
  }
  bench.peak_gflops = MeasurePeakInChild(options.threads);
  std::cerr << absl::StrFormat(
      "bench: CPU %s; fp32 matmul peak %.1f GFLOP/s (oneDNN 1024^3, best of "
      "5, %d threads)\n",
      CpuModelName(), bench.peak_gflops, ThreadsOrAllCores(options.threads));
  if (options.sweep) return BenchSweepCommand(model, lengths, bench, options);
  std::vector<BenchRow> rows;
  if (options.format == "csv")
    std::cout << BenchCsvHeader() << "\n" << std::flush;
  for (int n : lengths) {
    BenchRow row = BenchTrainingStep(model, n, bench);
    if (!row.error.empty()) {
      std::cerr << "bench: " << row.variant << " at " << n << ": " << row.error
                << "\n";
    } else if (bench.lengths_from.has_value()) {
      std::cerr << absl::StrFormat(
          "bench: seq_len %d: mean real length %.1f tokens per document "
          "(train examples of %s)\n",
          n, row.mean_length, options.lengths_from);
    }
    if (options.format == "csv")
      std::cout << BenchCsvRow(row) << "\n" << std::flush;
    rows.push_back(row);
  }
  if (options.format == "md") std::cout << BenchTable(rows);
  return absl::OkStatus();
}

}  // namespace lra
