// The `lra` command: train suites, check data, benchmark, list variants.
//
//   lra run --suite=configs/suites/smoke.pbtxt [--out=results] [--resume]
//   lra data check --task=text --data_dir=DIR | --task_file=FILE
//   lra data stats|bench --task=NAME [--count=N]
//   lra bench --model_file=configs/models/bench.pbtxt --seq_len=1024,2048
//   --batch=8
//   lra eval --run=results/SUITE/TASK/MODEL --task_file=FILE [--split=test]
//   lra list
//
// Relative paths are resolved against the directory `bazel run` was started
// from. Errors print one message and exit non-zero.
//
// Data-parallel training: `mpirun -np P lra run --suite=...` trains each run
// on P ranks (TrainConfig.micro_batches a multiple of P); see lra/dist/.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "config/text_proto.h"
#include "eval/commands.h"
#include "lra/commands.h"
#include "lra/dist/world.h"
#include "lra/trainer.h"
#include "lra/validate.h"

ABSL_FLAG(std::string, suite, "", "Suite config (.pbtxt) for `run`.");
ABSL_FLAG(std::string, out, "",
          "Output folder: results for `run` and `bench --sweep` (default "
          "results), images for `data render`.");
ABSL_FLAG(std::string, output_file, "",
          "`leaderboard`: file to write (default stdout).");
ABSL_FLAG(bool, resume, false,
          "`run`: continue interrupted runs from their last checkpoint.");
ABSL_FLAG(std::string, shard, "0/1",
          "`run`: I/N runs the runs whose index is I modulo N.");
ABSL_FLAG(int64_t, stop_after_steps, 0,
          "`run`: stop each run after this many steps as if interrupted "
          "(to test --resume); 0 = off.");
ABSL_FLAG(double, allreduce_bucket_mb, 1.0,
          "`run` under mpirun: sum gradients over the ranks in buckets of at "
          "least this many MB, overlapped with the backward pass; 0 = one "
          "buffer after it (lra/dist/README.md).");
ABSL_FLAG(std::string, task, "listops", "`data`: task name.");
ABSL_FLAG(std::string, tsv, "",
          "`data check`: one ListOps TSV file in LRA's format.");
ABSL_FLAG(std::string, task_file, "",
          "`data`: a TaskConfig .pbtxt instead of --task's defaults; `eval`: "
          "the task to evaluate on.");
ABSL_FLAG(std::string, run, "",
          "`eval`: a run's folder (results/<suite>/<task>/<model>), finished "
          "or interrupted; its best-validation checkpoint is evaluated.");
ABSL_FLAG(std::string, split, "test",
          "`eval`: the split evaluated: test, validation or train.");
ABSL_FLAG(std::string, data_dir, "",
          "`data check|stats|bench`: the task's official data (text: "
          "aclImdb; retrieval: the folder of new_aan_pairs.*.tsv; image: "
          "cifar-10-batches-bin; pathfinder, pathx: a difficulty folder or "
          "its parent; listops: the folder of basic_{train,val,test}.tsv).");
ABSL_FLAG(int64_t, count, 0,
          "`data stats`: examples described per split; `data bench`: "
          "examples timed (0 = 2000, or 500 for pathfinder and pathx); "
          "`data render`: images to write (0 = 16); `eval`: examples from "
          "the split's start, rounded up to whole batches (0 = all).");
ABSL_FLAG(int, resolution, 0,
          "`data render`: Pathfinder image side (32, 64, 128, 256).");
ABSL_FLAG(std::string, model_file, "configs/models/bench.pbtxt",
          "`bench`: model config (.pbtxt).");
ABSL_FLAG(std::string, attention, "",
          "`bench`: attention variant to use instead of the model's.");
ABSL_FLAG(std::string, seq_len, "1024,2048,4096",
          "`bench`: lengths, comma-separated.");
ABSL_FLAG(int, batch, 8, "`bench`: batch size.");
ABSL_FLAG(int, warmup, 2, "`bench`: untimed steps before timing.");
ABSL_FLAG(int, steps, 5, "`bench`: timed steps (the median is reported).");
ABSL_FLAG(int, threads, 0,
          "Threads; 0 = all cores (`eval`: 0 = the run's threads).");
ABSL_FLAG(std::string, format, "",
          "`bench`: csv (default) or md; `leaderboard`: md (default), csv or "
          "html.");
ABSL_FLAG(std::string, results, "results",
          "`leaderboard`, `status`: the results folder.");
ABSL_FLAG(std::vector<std::string>, suites, {},
          "`leaderboard`: only these suites (comma-separated).");
ABSL_FLAG(std::vector<std::string>, tasks, {},
          "`leaderboard`: only these task labels or task names.");
ABSL_FLAG(std::vector<std::string>, models, {},
          "`leaderboard`: only these model names or attention variants.");
ABSL_FLAG(bool, group_by_machine, false,
          "`leaderboard`: one row per model and machine.");
ABSL_FLAG(bool, sweep, false,
          "`bench`: measure every registered variant and store the sweep in "
          "<out>/bench/sweep.pbtxt (lengths default to 1K..16K).");
ABSL_FLAG(std::string, lengths_from, "",
          "`bench`: a TaskConfig .pbtxt (e.g. configs/tasks/listops.pbtxt); "
          "each step's batch takes the real lengths of the first examples of "
          "its train split, padded to seq_len as training pads them (seq_len "
          "defaults to the task's).");
ABSL_FLAG(double, max_step_seconds, 120,
          "`bench --sweep`: longer lengths of a variant are skipped once one "
          "step takes longer than this.");

namespace {

constexpr char kUsage[] =
    "lra COMMAND [flags]\n"
    "commands:\n"
    "  run --suite=FILE [--out=DIR] [--resume] [--shard=I/N]\n"
    "      train and evaluate every run of a suite\n"
    "  data check --task=NAME --data_dir=DIR | --task_file=FILE\n"
    "  data check --task=listops --tsv=FILE\n"
    "      read every official data file of a task (text, retrieval, image,\n"
    "      pathfinder, pathx, listops) with its loader: examples, labels,\n"
    "      lengths, task checks; exit 1 or 2 naming the file on bad data\n"
    "  data stats --task=NAME | --task_file=FILE [--data_dir=DIR] "
    "[--count=N]\n"
    "      split sizes; lengths and labels of each split's first N examples\n"
    "  data bench --task=NAME | --task_file=FILE [--count=N] "
    "[--threads=0]\n"
    "      examples and tokens made per second (generated, or loaded)\n"
    "  data render --task=pathfinder [--resolution=32] [--count=16] --out=DIR\n"
    "      write Pathfinder images as PNGs and a contact sheet\n"
    "  bench [--model_file=FILE] [--attention=NAME] [--seq_len=1024,2048] "
    "[--batch=8]\n"
    "        [--format=csv|md] [--sweep --out=DIR] [--lengths_from=TASK_FILE]\n"
    "      time a full training step per length: its analytic FLOPs and the\n"
    "      fraction of this machine's fp32 matmul peak it reached\n"
    "  eval --run=RESULT_DIR --task_file=FILE [--split=test|validation|train]\n"
    "       [--count=N] [--threads=N]\n"
    "      a run's best-validation checkpoint on another task configuration\n"
    "      (e.g. the official files): accuracy, loss, examples\n"
    "  list\n"
    "      print the registered attention variants and tasks\n"
    "  leaderboard [--results=DIR] [--format=md|csv|html] [--output_file=F]\n"
    "              [--suites=A,B] [--tasks=...] [--models=...] "
    "[--group_by_machine]\n"
    "      accuracy and efficiency tables beside the published LRA numbers\n"
    "  status --suite=FILE [--results=DIR]\n"
    "      done, failed, unfinished and missing runs of a suite\n";

std::string OrDefault(const std::string& value, const char* fallback) {
  return value.empty() ? fallback : value;
}

// Which flags each command takes: one meaning per flag name, and a flag
// foreign to the command is an error rather than silently ignored.
struct CommandFlags {
  const char* command;  // "run", "data check", ...
  std::vector<std::string> flags;
};

const std::vector<CommandFlags>& CommandTable() {
  static const auto* table = new std::vector<CommandFlags>{
      {"run",
       {"suite", "out", "resume", "shard", "stop_after_steps",
        "allreduce_bucket_mb"}},
      {"data check", {"task", "task_file", "tsv", "data_dir"}},
      {"data stats", {"task", "task_file", "data_dir", "count"}},
      {"data bench", {"task", "task_file", "data_dir", "count", "threads"}},
      {"data render", {"task", "task_file", "resolution", "count", "out"}},
      {"bench",
       {"model_file", "attention", "seq_len", "batch", "warmup", "steps",
        "threads", "format", "sweep", "out", "max_step_seconds",
        "lengths_from"}},
      {"eval", {"run", "task_file", "split", "count", "threads"}},
      {"list", {}},
      {"leaderboard",
       {"results", "format", "output_file", "suites", "tasks", "models",
        "group_by_machine"}},
      {"status", {"suite", "results"}},
  };
  return *table;
}

// "--name=value" -> "name"; "--noresume" -> "resume" for a bool flag.
std::string FlagName(const std::string& arg, bool* takes_next) {
  std::string name = arg.substr(arg.find_first_not_of('-'));
  const bool has_value = name.find('=') != std::string::npos;
  name = name.substr(0, name.find('='));
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr && name.rfind("no", 0) == 0) {
    const absl::CommandLineFlag* negated =
        absl::FindCommandLineFlag(name.substr(2));
    if (negated != nullptr && negated->IsOfType<bool>()) {
      flag = negated;
      name = name.substr(2);
    }
  }
  *takes_next = !has_value && flag != nullptr && !flag->IsOfType<bool>();
  return name;
}

std::string FlagHelp(const CommandFlags& command) {
  std::string text = absl::StrCat("flags of `lra ", command.command, "`:\n");
  if (command.flags.empty()) absl::StrAppend(&text, "  (none)\n");
  for (const std::string& name : command.flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    absl::StrAppend(&text, "  --", name, " (default \"", flag->DefaultValue(),
                    "\"): ", flag->Help(), "\n");
  }
  return text;
}

// Checks argv against the command table before Abseil parses it. Returns -1
// to go on, else the exit code (0 after --help, 2 on a foreign flag).
int CheckCommandFlags(int argc, char** argv) {
  std::vector<std::string> words, flags;
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      bool takes_next = false;
      const std::string name = FlagName(arg, &takes_next);
      if (name == "help" || name == "h" || name == "helpfull") {
        help = true;
      } else {
        flags.push_back(name);
      }
      if (takes_next) ++i;
    } else {
      words.push_back(arg);
    }
  }
  const CommandFlags* command = nullptr;
  for (const CommandFlags& entry : CommandTable()) {
    const std::string name = entry.command;
    if ((!words.empty() && words[0] == name) ||
        (words.size() > 1 && absl::StrCat(words[0], " ", words[1]) == name)) {
      command = &entry;
    }
  }
  if (command == nullptr) {
    if (help) {
      std::cout << kUsage
                << "\n`lra COMMAND --help` lists a command's flags.\n";
      return 0;
    }
    return -1;  // main() reports the unknown command.
  }
  if (help) {
    std::cout << FlagHelp(*command);
    return 0;
  }
  for (const std::string& name : flags) {
    if (std::find(command->flags.begin(), command->flags.end(), name) ==
        command->flags.end()) {
      std::cerr << "lra: error: --" << name << " is not a flag of `lra "
                << command->command << "`\n"
                << FlagHelp(*command);
      return 2;
    }
  }
  return -1;
}

int Fail(const absl::Status& status) {
  // Paths inside the workspace are shown as the user wrote them.
  std::string message = absl::StrReplaceAll(
      status.message(), {{absl::StrCat(lra::WorkspaceDir(), "/"), ""}});
  std::cerr << "lra: error: " << message << "\n";
  // Stopped by a signal after saving: the shell's 128 + signal number.
  if (status.code() == absl::StatusCode::kCancelled) {
    return 128 + (lra::StopSignalReceived() != 0 ? lra::StopSignalReceived()
                                                 : SIGINT);
  }
  return status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kNotFound
             ? 2
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Under mpirun (or srun) every rank runs this: MPI starts only then, and
  // stops when main returns (lra/dist/world.h).
  lra::ScopedWorld world(&argc, &argv);
  if (!world.status().ok()) return Fail(world.status());
  // Rank 0 speaks for every rank: errors and figures are the same on all of
  // them (LRA_LOG_ALL_RANKS=1 keeps the others' output, for debugging).
  if (lra::World().rank() > 0 && std::getenv("LRA_LOG_ALL_RANKS") == nullptr) {
    std::cerr.rdbuf(nullptr);
    std::cout.rdbuf(nullptr);
  }
  absl::SetProgramUsageMessage(kUsage);
  const int early_exit = CheckCommandFlags(argc, argv);
  if (early_exit >= 0) return early_exit;
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = args[1];
  absl::Status status;
  if (command == "run") {
    lra::RunCommandOptions options;
    options.suite = absl::GetFlag(FLAGS_suite);
    options.out = OrDefault(absl::GetFlag(FLAGS_out), "results");
    options.resume = absl::GetFlag(FLAGS_resume);
    options.shard = absl::GetFlag(FLAGS_shard);
    options.stop_after_steps = absl::GetFlag(FLAGS_stop_after_steps);
    options.allreduce_bucket_mb = absl::GetFlag(FLAGS_allreduce_bucket_mb);
    status = lra::RunCommand(options);
  } else if (command == "data") {
    std::string sub = args.size() > 2 ? args[2] : "";
    lra::DataCommandOptions options;
    options.task = absl::GetFlag(FLAGS_task);
    options.task_file = absl::GetFlag(FLAGS_task_file);
    options.tsv = absl::GetFlag(FLAGS_tsv);
    options.data_dir = absl::GetFlag(FLAGS_data_dir);
    options.count = absl::GetFlag(FLAGS_count);
    options.threads = absl::GetFlag(FLAGS_threads);
    options.resolution = absl::GetFlag(FLAGS_resolution);
    options.out = absl::GetFlag(FLAGS_out);
    status = lra::DataCommand(sub, options);
  } else if (command == "bench") {
    lra::BenchCommandOptions options;
    options.model = absl::GetFlag(FLAGS_model_file);
    options.attention = absl::GetFlag(FLAGS_attention);
    options.seq_len = absl::GetFlag(FLAGS_seq_len);
    options.batch = absl::GetFlag(FLAGS_batch);
    options.warmup = absl::GetFlag(FLAGS_warmup);
    options.steps = absl::GetFlag(FLAGS_steps);
    options.threads = absl::GetFlag(FLAGS_threads);
    options.format = OrDefault(absl::GetFlag(FLAGS_format), "csv");
    options.sweep = absl::GetFlag(FLAGS_sweep);
    options.out = OrDefault(absl::GetFlag(FLAGS_out), "results");
    options.max_step_seconds = absl::GetFlag(FLAGS_max_step_seconds);
    options.lengths_from = absl::GetFlag(FLAGS_lengths_from);
    if (absl::GetFlag(FLAGS_seq_len) == "1024,2048,4096") {
      if (!options.lengths_from.empty()) {
        options.seq_len = "";  // The task's.
      } else if (options.sweep) {
        options.seq_len = "1024,2048,3072,4096,8192,16384";
      }
    }
    status = lra::BenchCommand(options);
  } else if (command == "eval") {
    lra::EvalCommandOptions options;
    options.run = absl::GetFlag(FLAGS_run);
    options.task_file = absl::GetFlag(FLAGS_task_file);
    options.split = absl::GetFlag(FLAGS_split);
    options.count = absl::GetFlag(FLAGS_count);
    options.threads = absl::GetFlag(FLAGS_threads);
    status = lra::EvalCommand(options);
  } else if (command == "list") {
    status = lra::ListCommand();
  } else if (command == "leaderboard") {
    lra::LeaderboardOptions options;
    options.results_dir = absl::GetFlag(FLAGS_results);
    options.format = OrDefault(absl::GetFlag(FLAGS_format), "md");
    options.out = absl::GetFlag(FLAGS_output_file);
    options.suites = absl::GetFlag(FLAGS_suites);
    options.tasks = absl::GetFlag(FLAGS_tasks);
    options.models = absl::GetFlag(FLAGS_models);
    options.group_by_machine = absl::GetFlag(FLAGS_group_by_machine);
    status = lra::LeaderboardCommand(options);
  } else if (command == "status") {
    if (absl::GetFlag(FLAGS_suite).empty()) {
      status = absl::InvalidArgumentError(
          "status needs --suite=FILE (and --results=DIR, default results)");
    } else {
      lra::StatusOptions options;
      options.results_dir = absl::GetFlag(FLAGS_results);
      options.suite_path = absl::GetFlag(FLAGS_suite);
      options.workspace_dir = lra::WorkspaceDir();
      options.load_suite = lra::LoadSuite;
      status = lra::StatusCommand(options);
    }
  } else {
    std::cerr
        << "lra: unknown command '" << command
        << "' (allowed: run, data, bench, eval, list, leaderboard, status)\n\n"
        << kUsage;
    return 2;
  }
  if (!status.ok()) return Fail(status);
  return 0;
}
