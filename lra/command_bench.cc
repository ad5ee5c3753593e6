// `lra bench`: training-step time, FLOPs and memory per length, of one model
// or (--sweep) of every registered token mixer.
#include <algorithm>
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
// registered token mixer (s4d, lru, isab) at its defaults, each sequence
// handler (SweepSequenceConfigs, over the bench model's attention), then
// every other configuration that a finished or running run in `results_dir`
// trained: its token mixer (attention with parameters, or a mixer plugin),
// and its sequence handler with the mixer it ran (segment_len set to the
// bench's 512, BenchSequenceConfig), so the leaderboard never shows a
// configuration with another one's figures.
struct SweepConfig {
  // The row's name: AttentionConfigLabel of the mixer ("sparse_transformer
  // (mode=strided)"), or BenchVariant of a handler's model ("rmt (full)").
  std::string label;
  PluginConfig attention;  // empty: the bench model's
  PluginConfig mixer;      // set for a mixer plugin instead of attention
  PluginConfig sequence;   // set for a sequence handler
};

// The bench model with `config`'s plugins set.
ModelConfig SweepModel(const ModelConfig& base, const SweepConfig& config) {
  ModelConfig model = base;
  if (!config.mixer.name().empty()) {
    model.clear_attention();
    *model.mutable_mixer() = config.mixer;
  } else if (!config.attention.name().empty()) {
    model.clear_mixer();
    *model.mutable_attention() = config.attention;
  }
  if (config.sequence.name().empty()) {
    model.clear_sequence();
  } else {
    *model.mutable_sequence() = config.sequence;
  }
  return model;
}

// `config` without the parameters set to their declared defaults, sorted:
// two spellings of one configuration compare equal.
template <typename Registry>
PluginConfig WithoutDefaults(const Registry& registry,
                             const PluginConfig& config) {
  auto plugin = registry.Find(config.name());
  if (!plugin.ok()) return config;
  PluginConfig out;
  out.set_name(config.name());
  for (const PluginParam& param : config.param()) {
    bool is_default = false;
    for (const PluginParamSpec& spec : (*plugin)->params) {
      if (spec.name != param.name()) continue;
      is_default =
          (param.has_number() && param.number() == spec.default_number) ||
          (param.has_text() && param.text() == spec.default_text) ||
          (param.has_flag() && param.flag() == spec.default_flag);
    }
    if (!is_default) *out.add_param() = param;
  }
  std::sort(out.mutable_param()->begin(), out.mutable_param()->end(),
            [](const PluginParam& a, const PluginParam& b) {
              return a.name() < b.name();
            });
  return out;
}

std::vector<SweepConfig> SweepConfigs(const std::string& results_dir,
                                      const ModelConfig& base) {
  std::vector<SweepConfig> configs;
  const ModelPlugins& plugins = BuiltinPlugins();
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
  // Handler rows are compared without default-valued parameters, so that
  // a trained configuration equal to the defaults is measured once.
  std::vector<std::string> handler_keys;
  auto add_handler = [&](SweepConfig config) {
    SweepConfig key = config;
    key.sequence = WithoutDefaults(*plugins.sequence, config.sequence);
    if (!key.mixer.name().empty()) {
      key.mixer = WithoutDefaults(*plugins.mixers, key.mixer);
    } else if (!key.attention.name().empty()) {
      key.attention = WithoutDefaults(*plugins.attention, key.attention);
    }
    const std::string canonical = BenchVariant(SweepModel(base, key));
    for (const std::string& k : handler_keys) {
      if (k == canonical) return;
    }
    handler_keys.push_back(canonical);
    config.label = BenchVariant(SweepModel(base, config));
    configs.push_back(std::move(config));
  };
  for (const std::string& variant : plugins.attention->Names()) {
    PluginConfig attention;
    attention.set_name(variant);
    add(attention, PluginConfig());
  }
  for (const std::string& name : plugins.mixers->Names()) {
    if (name == kAttentionMixerName) continue;  // measured as attention above
    PluginConfig mixer;
    mixer.set_name(name);
    add(PluginConfig(), mixer);
  }
  for (const PluginConfig& sequence : SweepSequenceConfigs()) {
    SweepConfig config;
    config.sequence = sequence;
    add_handler(config);
  }
  // A results folder that does not exist yet has nothing more to measure.
  absl::StatusOr<ResultSet> results = LoadResults(results_dir);
  if (!results.ok()) return configs;
  for (const RunRecord& run : results->runs) {
    if (!run.result.has_config()) continue;
    const ModelConfig& model = run.result.config().model();
    const bool mixer = !model.mixer().name().empty() &&
                       model.mixer().name() != kAttentionMixerName;
    PluginConfig attention = model.attention();
    if (attention.name().empty()) attention.set_name("full");
    if (mixer) {
      add(PluginConfig(), model.mixer());
    } else {
      add(attention, PluginConfig());
    }
    if (!model.sequence().name().empty()) {
      SweepConfig config;
      config.sequence = BenchSequenceConfig(model.sequence());
      if (mixer) {
        config.mixer = model.mixer();
      } else {
        config.attention = attention;
      }
      add_handler(config);
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
       SweepConfigs(ResolvePath(workspace, options.out), base_model)) {
    const ModelConfig model = SweepModel(base_model, config);
    const bool is_mixer = !config.mixer.name().empty();
    const bool is_sequence = !config.sequence.name().empty();
    const PluginConfig& measured = is_sequence ? config.sequence
                                   : is_mixer  ? config.mixer
                                               : config.attention;
    const std::string variant = measured.name();
    const std::string& label = config.label;
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
      if (is_sequence) *point->mutable_sequence() = model.sequence();
      if (!UsesAttentionMixer(model)) *point->mutable_mixer() = model.mixer();
      point->set_label(label);
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
