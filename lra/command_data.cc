// `lra data check|stats|bench|render`: a task's data, generated or official.
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "config/text_proto.h"
#include "datasets/data_check.h"
#include "datasets/data_tools.h"
#include "datasets/dataset.h"
#include "datasets/listops/check.h"
#include "datasets/pathfinder/render.h"
#include "lra/commands.h"
#include "util/cpu.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {

namespace {

// The task as given: the .pbtxt of --task_file, else just --task's name.
absl::StatusOr<TaskConfig> GivenTask(const DataCommandOptions& options) {
  TaskConfig task;
  if (!options.task_file.empty()) {
    RETURN_IF_ERROR(
        LoadTextProto(ResolvePath(WorkspaceDir(), options.task_file), &task));
  } else {
    task.set_name(options.task);
  }
  return task;
}

// The task to look at: a .pbtxt when given, else the named task's defaults,
// pointed at --data_dir when given.
absl::StatusOr<TaskConfig> DataTask(const DataCommandOptions& options) {
  ASSIGN_OR_RETURN(TaskConfig task, GivenTask(options));
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
      ThreadsOrAllCores(options.threads), WorkspaceDir());
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
    ASSIGN_OR_RETURN(TaskConfig task, GivenTask(options));
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

}  // namespace lra
