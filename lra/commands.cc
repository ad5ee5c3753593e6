#include "lra/commands.h"

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/text_proto.h"
#include "datasets/data_check.h"
#include "datasets/data_tools.h"
#include "datasets/dataset.h"
#include "datasets/listops/check.h"
#include "datasets/pathfinder/render.h"
#include "eval/results.h"
#include "eval/tables.h"
#include "lra/bench.h"
#include "lra/evaluate.h"
#include "lra/runner.h"
#include "lra/trainer.h"
#include "lra/validate.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "models/sequence/builtin.h"
#include "proto/result.pb.h"
#include "util/status_macros.h"

namespace lra {
namespace {

absl::Status ParseShard(const std::string& text, int* shard, int* count) {
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], shard) ||
      !absl::SimpleAtoi(parts[1], count) || *count < 1 || *shard < 0 ||
      *shard >= *count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard=", text, ": allowed: I/N with 0 <= I < N, e.g. 0/4"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunCommand(const RunCommandOptions& options) {
  if (options.suite.empty()) {
    return absl::InvalidArgumentError(
        "run needs --suite=FILE, e.g. --suite=configs/suites/smoke.pbtxt");
  }
  int shard = 0, shards = 1;
  absl::Status status = ParseShard(options.shard, &shard, &shards);
  if (!status.ok()) return status;
  const std::string workspace = WorkspaceDir();
  absl::StatusOr<Suite> suite =
      LoadSuite(ResolvePath(workspace, options.suite), workspace);
  if (!suite.ok()) return suite.status();
  SuiteRunOptions run_options;
  run_options.out_dir = ResolvePath(workspace, options.out);
  run_options.workspace_dir = workspace;
  run_options.resume = options.resume;
  run_options.shard = shard;
  run_options.shards = shards;
  run_options.stop_after_steps = options.stop_after_steps;
  run_options.log = &std::cerr;
  // Ctrl-C or `kill`: the running run saves its state at the next step
  // boundary and the suite stops there.
  ScopedStopSignals stop_signals;
  absl::StatusOr<SuiteSummary> summary = RunSuite(*suite, run_options);
  if (!summary.ok()) return summary.status();
  if (summary->stop_signal != 0) {
    std::string resume =
        absl::StrCat("lra run --suite=", options.suite, " --out=", options.out);
    if (shards > 1) absl::StrAppend(&resume, " --shard=", options.shard);
    absl::StrAppend(&resume, " --resume");
    std::string where =
        summary->stopped_run_dir.empty()
            ? std::string("before its next run started")
            : absl::StrCat("at step ", summary->stopped_at_step,
                           "; its state is in ", summary->stopped_run_dir,
                           "/checkpoint.last");
    return absl::CancelledError(
        absl::StrCat("suite '", suite->name, "' stopped by ",
                     summary->stop_signal == SIGINT ? "SIGINT" : "SIGTERM", " ",
                     where, ". Resume with:\n  ", resume));
  }
  std::cerr << "suite " << suite->name << ": " << summary->trained
            << " trained, " << summary->skipped << " already done, "
            << summary->failed << " failed";
  if (summary->interrupted > 0) {
    std::cerr << ", " << summary->interrupted
              << " stopped early (--resume continues)";
  }
  std::cerr << "\n";
  if (summary->failed > 0) {
    return absl::AbortedError(
        absl::StrCat(summary->failed, " run(s) of suite '", suite->name,
                     "' failed; their errors are above and in failed.pbtxt in "
                     "their folders"));
  }
  return absl::OkStatus();
}

namespace {

// The task to look at: a .pbtxt when given, else the named task's defaults,
// pointed at --data_dir when given.
absl::StatusOr<TaskConfig> DataTask(const DataCommandOptions& options) {
  TaskConfig task;
  if (!options.task_file.empty()) {
    absl::Status status =
        LoadTextProto(ResolvePath(WorkspaceDir(), options.task_file), &task);
    if (!status.ok()) return status;
  } else {
    task.set_name(options.task);
  }
  if (!options.data_dir.empty()) {
    // Checked first, so that an unknown task name gets the registry's
    // message with every task rather than the list of tasks with files.
    absl::Status status = ResolveTaskDefaults(&task);
    if (!status.ok()) return status;
    status = SetOfficialDataDir(options.data_dir, &task);
    if (!status.ok()) return status;
  }
  absl::Status status = ResolveTaskDefaults(&task);
  if (!status.ok()) return status;
  return task;
}

// `data check --tsv=FILE`: one ListOps file, as before --data_dir existed.
absl::Status CheckOneListOpsTsv(const DataCommandOptions& options) {
  if (options.task != "listops" || !options.task_file.empty() ||
      !options.data_dir.empty()) {
    return absl::InvalidArgumentError(
        "data check: --tsv=FILE is a ListOps file and goes alone with "
        "--task=listops (allowed: --tsv, or --data_dir / --task_file for "
        "every split)");
  }
  const std::string path = ResolvePath(WorkspaceDir(), options.tsv);
  absl::StatusOr<ListOpsCheckReport> report = CheckListOpsTsv(path);
  if (!report.ok()) return report.status();
  std::cout << FormatCheckReport(*report);
  std::cout << "verdict: OK: " << report->rows << " rows of " << path
            << " are well-formed";
  if (report->labels_agree < report->rows) {
    std::cout << "; " << report->rows - report->labels_agree
              << " Target labels differ from our evaluator's (first "
              << "disagreement above)";
  }
  std::cout << "\n";
  return absl::OkStatus();
}

absl::Status DataCheck(const DataCommandOptions& options) {
  if (!options.tsv.empty()) return CheckOneListOpsTsv(options);
  absl::StatusOr<TaskConfig> task = DataTask(options);
  if (!task.ok()) return task.status();
  absl::StatusOr<DataCheckReport> report = CheckTaskData(*task, WorkspaceDir());
  if (!report.ok()) return report.status();
  std::cout << FormatDataCheckReport(*report);
  return absl::OkStatus();
}

std::string TaskLabel(const TaskConfig& task) {
  return task.label().empty() ? task.name() : task.label();
}

absl::Status DataStats(const DataCommandOptions& options) {
  absl::StatusOr<TaskConfig> task = DataTask(options);
  if (!task.ok()) return task.status();
  const int64_t count =
      options.count > 0 ? options.count : DefaultSampleCount(*task);
  absl::StatusOr<int> vocab = TaskVocabSize(*task);
  absl::StatusOr<int> classes = TaskNumClasses(*task);
  if (!vocab.ok()) return vocab.status();
  if (!classes.ok()) return classes.status();
  std::cout << "task: " << TaskLabel(*task) << " (" << task->name()
            << "), seq_len " << task->seq_len() << ", vocabulary " << *vocab
            << ", " << *classes << " classes, data_seed " << task->data_seed()
            << "\n"
            << "data: "
            << (ReadsOfficialFiles(*task, Split::kTrain) ||
                        ReadsOfficialFiles(*task, Split::kTest)
                    ? "official files"
                    : "generated")
            << "\n"
            << "splits: train " << task->train_size() << ", val "
            << task->val_size() << ", test " << task->test_size()
            << " examples; statistics of the first " << count
            << " of each (--count)\n"
            << std::flush;
  for (Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
    absl::StatusOr<SplitSample> sample =
        SampleSplit(*task, split, count, WorkspaceDir());
    if (!sample.ok()) return sample.status();
    std::cout << FormatSplitSample(TaskLabel(*task), *sample) << std::flush;
  }
  return absl::OkStatus();
}

absl::Status DataBench(const DataCommandOptions& options) {
  absl::StatusOr<TaskConfig> task = DataTask(options);
  if (!task.ok()) return task.status();
  absl::StatusOr<GenerationBench> bench = BenchGeneration(
      *task, options.count > 0 ? options.count : DefaultSampleCount(*task),
      options.threads > 0 ? options.threads
                          : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)),
      WorkspaceDir());
  if (!bench.ok()) return bench.status();
  bench->task = TaskLabel(*task);
  std::cout << FormatGenerationBench(*bench);
  return absl::OkStatus();
}

}  // namespace

absl::Status DataCommand(const std::string& subcommand,
                         const DataCommandOptions& options) {
  if (subcommand == "check") return DataCheck(options);
  if (subcommand == "stats") return DataStats(options);
  if (subcommand == "bench") return DataBench(options);
  if (subcommand == "render") {
    TaskConfig task;
    if (!options.task_file.empty()) {
      absl::Status status =
          LoadTextProto(ResolvePath(WorkspaceDir(), options.task_file), &task);
      if (!status.ok()) return status;
    } else {
      task.set_name(options.task);
    }
    if (task.name() != "pathfinder" && task.name() != "pathx") {
      return absl::InvalidArgumentError(absl::StrCat(
          "data render: task '", task.name(),
          "' has no images to render (allowed: pathfinder, pathx)"));
    }
    if (options.resolution > 0) {
      task.mutable_pathfinder()->set_resolution(options.resolution);
      task.set_seq_len(options.resolution * options.resolution);
    }
    if (options.out.empty()) {
      return absl::InvalidArgumentError("data render needs --out=DIR");
    }
    const int64_t count = options.count > 0 ? options.count : 16;
    const std::string out = ResolvePath(WorkspaceDir(), options.out);
    absl::Status status = pathfinder::WritePathfinderPngs(
        task, Split::kTrain, count, out, WorkspaceDir());
    if (!status.ok()) return status;
    std::cout << "wrote " << count
              << " images, labels.txt and contact_sheet.png to " << out << "\n";
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("data: unknown subcommand '", subcommand,
                   "' (allowed: check, stats, bench, render)"));
}

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
  sweep.set_threads(bench.threads > 0
                        ? bench.threads
                        : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
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
      CpuModelName(), bench.peak_gflops,
      options.threads > 0 ? options.threads
                          : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
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

namespace {

void PrintParams(const std::vector<PluginParamSpec>& params) {
  if (params.empty()) std::cout << "  parameters: none\n";
  for (const PluginParamSpec& spec : params) {
    std::string value;
    switch (spec.type) {
      case PluginParamSpec::Type::kNumber:
        value = absl::StrCat("number, default ", spec.default_number);
        break;
      case PluginParamSpec::Type::kText:
        value = absl::StrCat("text, default \"", spec.default_text, "\"");
        break;
      case PluginParamSpec::Type::kFlag:
        value = absl::StrCat("flag, default ",
                             spec.default_flag ? "true" : "false");
        break;
    }
    std::cout << "  param " << spec.name << " (" << value << "): " << spec.help
              << "\n";
  }
}

const char* YesNo(bool value) { return value ? "yes" : "no"; }

const char* TreatmentName(AttentionExemption::Treatment treatment) {
  switch (treatment) {
    case AttentionExemption::Treatment::kFreezeStructure:
      return "checked with its structure frozen";
    case AttentionExemption::Treatment::kSkip:
      return "skipped";
  }
  return "?";
}

void PrintAttention(const AttentionPlugin& plugin) {
  const AttentionCapabilities& caps = plugin.capabilities;
  std::cout << "\n"
            << plugin.name << ": " << plugin.description << "\n"
            << "  complexity " << caps.complexity << "; key padding mask "
            << YesNo(caps.key_padding_mask) << "; causal " << YesNo(caps.causal)
            << "; own parameters " << YesNo(caps.learnable) << "\n"
            << "  shared QK " << YesNo(caps.shared_qk) << "; reads the layer "
            << "input " << YesNo(caps.needs_layer_input)
            << "; parameters sized by length "
            << YesNo(caps.length_dependent_parameters)
            << "; redraws structure while training "
            << YesNo(caps.redraws_structure) << "\n";
  if (caps.exemptions.empty()) {
    std::cout << "  conformance exemptions: none\n";
  }
  for (const AttentionExemption& exemption : caps.exemptions) {
    std::cout << "  conformance exemption: " << exemption.check << " "
              << TreatmentName(exemption.treatment) << ": " << exemption.reason
              << "\n";
  }
  PrintParams(plugin.params);
}

}  // namespace

absl::Status EvalCommand(const EvalCommandOptions& options) {
  if (options.run.empty() || options.task_file.empty()) {
    return absl::InvalidArgumentError(
        "eval needs --run=RESULT_DIR (a run's folder, e.g. "
        "results/smoke/listops/tiny) and --task_file=FILE (a TaskConfig "
        ".pbtxt)");
  }
  const std::string workspace = WorkspaceDir();
  CheckpointEvalOptions eval_options;
  eval_options.run_dir = ResolvePath(workspace, options.run);
  eval_options.task_file = ResolvePath(workspace, options.task_file);
  eval_options.workspace_dir = workspace;
  ASSIGN_OR_RETURN(eval_options.split, ParseSplitName(options.split));
  eval_options.count = options.count;
  eval_options.threads = options.threads;
  ASSIGN_OR_RETURN(CheckpointEval eval, EvaluateCheckpoint(eval_options));
  std::cout << FormatCheckpointEval(eval);
  return absl::OkStatus();
}

absl::Status ListCommand() {
  const ModelPlugins& plugins = BuiltinPlugins();
  std::cout << "attention variants (select with model.attention.name, set "
               "parameters with attention.param):\n";
  for (const std::string& name : plugins.attention->Names()) {
    ASSIGN_OR_RETURN(const AttentionPlugin* plugin,
                     plugins.attention->Find(name));
    PrintAttention(*plugin);
  }
  std::cout << "\ntoken mixers other than attention (select with "
               "model.mixer.name; the default is multi-head attention):\n";
  const std::vector<std::string> mixers = plugins.mixers->Names();
  if (mixers.empty()) std::cout << "  none registered\n";
  for (const std::string& name : mixers) {
    ASSIGN_OR_RETURN(const MixerPlugin* mixer, plugins.mixers->Find(name));
    std::cout << "\n"
              << name << ": " << mixer->description << "\n"
              << "  complexity " << mixer->capabilities.complexity
              << "; key padding mask "
              << YesNo(mixer->capabilities.key_padding_mask) << "\n";
    PrintParams(mixer->params);
  }
  PrintSequencePlugins(*BuiltinPlugins().sequence, std::cout);
  std::cout << "\ntasks (select with task.name; look at one with `lra data "
               "stats|bench --task=NAME`):\n  "
            << absl::StrJoin(TaskNames(), ", ") << "\n";
  return absl::OkStatus();
}

}  // namespace lra
