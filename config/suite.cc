#include "config/suite.h"

#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "config/validation.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// Reads a list of messages from files named in a grid.
template <typename Message>
absl::Status LoadFiles(
    const google::protobuf::RepeatedPtrField<std::string>& files,
    const ConfigOrigin& grid_origin, const char* field,
    const std::string& workspace_dir,
    std::vector<std::pair<Message, ConfigOrigin>>* out) {
  for (int i = 0; i < files.size(); ++i) {
    std::string path = ResolvePath(workspace_dir, files[i]);
    Message message;
    auto source = std::make_shared<ConfigSource>();
    absl::Status status = LoadTextProto(path, &message, source.get());
    if (!status.ok()) {
      if (absl::IsNotFound(status)) {
        return absl::NotFoundError(absl::StrCat(
            grid_origin.Where(absl::StrCat(field, "[", i, "]")), ": file '",
            files[i], "' not found (resolved to ", path, ")"));
      }
      return status;
    }
    out->push_back({std::move(message), ConfigOrigin{source, ""}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Suite> ExpandSuite(const std::string& path,
                                  const std::string& workspace_dir) {
  SuiteConfig config;
  auto source = std::make_shared<ConfigSource>();
  RETURN_IF_ERROR(LoadTextProto(path, &config, source.get()));
  Suite suite;
  suite.path = path;
  suite.name = config.name();
  ConfigOrigin suite_origin{source, ""};
  // "bench" is where `lra bench --sweep` stores its sweeps.
  RETURN_IF_ERROR(ValidateSafeName(suite_origin, "name", suite.name));
  if (suite.name == "bench") {
    return FieldError(suite_origin, "name", "\"bench\"",
                      "any other name ('bench' is reserved for bench sweeps)");
  }
  for (int i = 0; i < config.run_size(); ++i) {
    PlannedRun run;
    run.config = config.run(i);
    std::string prefix = absl::StrCat("run[", i, "]");
    run.task_origin = {source, prefix + ".task"};
    run.model_origin = {source, prefix + ".model"};
    run.train_origin = {source, prefix + ".train"};
    suite.runs.push_back(std::move(run));
  }
  for (int g = 0; g < config.grid_size(); ++g) {
    const RunGrid& grid = config.grid(g);
    std::string prefix = absl::StrCat("grid[", g, "]");
    ConfigOrigin grid_origin{source, prefix};
    std::vector<std::pair<TaskConfig, ConfigOrigin>> tasks;
    std::vector<std::pair<ModelConfig, ConfigOrigin>> models;
    std::vector<std::pair<TrainConfig, ConfigOrigin>> trains;
    for (int i = 0; i < grid.task_size(); ++i)
      tasks.push_back(
          {grid.task(i), {source, absl::StrCat(prefix, ".task[", i, "]")}});
    for (int i = 0; i < grid.model_size(); ++i)
      models.push_back(
          {grid.model(i), {source, absl::StrCat(prefix, ".model[", i, "]")}});
    for (int i = 0; i < grid.train_size(); ++i)
      trains.push_back(
          {grid.train(i), {source, absl::StrCat(prefix, ".train[", i, "]")}});
    RETURN_IF_ERROR(LoadFiles(grid.task_file(), grid_origin, "task_file",
                              workspace_dir, &tasks));
    RETURN_IF_ERROR(LoadFiles(grid.model_file(), grid_origin, "model_file",
                              workspace_dir, &models));
    RETURN_IF_ERROR(LoadFiles(grid.train_file(), grid_origin, "train_file",
                              workspace_dir, &trains));
    if (tasks.empty() || models.empty() || trains.empty()) {
      return FieldError(grid_origin, "",
                        "a grid without tasks, models or trains",
                        "at least one of each (task or task_file, model or "
                        "model_file, train or train_file)");
    }
    for (const auto& task : tasks) {
      for (const auto& model : models) {
        for (const auto& train : trains) {
          PlannedRun run;
          *run.config.mutable_task() = task.first;
          *run.config.mutable_model() = model.first;
          *run.config.mutable_train() = train.first;
          run.task_origin = task.second;
          run.model_origin = model.second;
          run.train_origin = train.second;
          suite.runs.push_back(std::move(run));
        }
      }
    }
  }
  if (suite.runs.empty()) {
    return FieldError(suite_origin, "run", "nothing",
                      "at least one `run { ... }` or `grid { ... }`");
  }
  return suite;
}

std::string RunTaskLabel(const TaskConfig& task) {
  return task.label().empty() ? task.name() : task.label();
}

std::string RunModelName(const ModelConfig& model) {
  if (!model.name().empty()) return model.name();
  return model.attention().name().empty() ? "transformer"
                                          : model.attention().name();
}

std::string RunTrainName(const TrainConfig& train) {
  return train.name().empty() ? "default" : train.name();
}

absl::Status AssignRunIds(Suite* suite) {
  // A run's folder is <task label>/<model name>; the train name is added only
  // where one task and model are trained with several recipes.
  std::map<std::string, int> base_count;
  // Every part of the folder is checked here too, for suites built in code
  // rather than read and validated: none may climb out of --out.
  if (!IsSafeName(suite->name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("suite name \"", absl::CHexEscape(suite->name),
                     "\": allowed: ", kSafeNameAllowed));
  }
  for (PlannedRun& run : suite->runs) {
    RETURN_IF_ERROR(ValidateSafeName(run.task_origin, "label",
                                     RunTaskLabel(run.config.task())));
    RETURN_IF_ERROR(ValidateSafeName(run.model_origin, "name",
                                     RunModelName(run.config.model())));
    RETURN_IF_ERROR(ValidateSafeName(run.train_origin, "name",
                                     RunTrainName(run.config.train())));
    run.id = absl::StrCat(RunTaskLabel(run.config.task()), "/",
                          RunModelName(run.config.model()));
    ++base_count[run.id];
  }
  std::set<std::string> ids;
  for (PlannedRun& run : suite->runs) {
    if (base_count[run.id] > 1)
      absl::StrAppend(&run.id, ".", RunTrainName(run.config.train()));
    if (!ids.insert(run.id).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          run.model_origin.Where("name"), ": two runs of suite '", suite->name,
          "' would both write ", run.id,
          "; give the task a `label`, the model a distinct `name`, or the "
          "train a distinct `name`"));
    }
  }
  return absl::OkStatus();
}

std::vector<PlannedRun> ShardRuns(const std::vector<PlannedRun>& runs,
                                  int shard, int count) {
  std::vector<PlannedRun> out;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (static_cast<int>(i % count) == shard) out.push_back(runs[i]);
  }
  return out;
}

}  // namespace lra
