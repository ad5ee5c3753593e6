#include "lra/suite.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "datasets/dataset.h"
#include "models/builtin.h"
#include "models/encoder.h"

namespace lra {
namespace {

absl::Status FieldError(const ConfigOrigin& origin, const std::string& field,
                        const std::string& value, const std::string& allowed) {
  return absl::InvalidArgumentError(
      absl::StrCat(origin.Where(field), " = ", value, ": allowed: ", allowed));
}

// Turns an error from a library (which knows the field but not the file)
// into one that also names the file and line of the message it came from.
absl::Status WithOrigin(const ConfigOrigin& origin,
                        const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(origin.Where(""), ": ", status.message()));
}

std::string Num(double value) { return absl::StrFormat("%g", value); }

absl::Status ValidateTrain(const TrainConfig& t, const ConfigOrigin& o) {
  if (t.batch_size() <= 0)
    return FieldError(o, "batch_size", Num(t.batch_size()), "an integer > 0");
  if (t.steps() <= 0)
    return FieldError(o, "steps", Num(t.steps()), "an integer > 0");
  if (!(t.learning_rate() > 0))
    return FieldError(o, "learning_rate", Num(t.learning_rate()), "> 0");
  if (t.warmup_steps() < 0)
    return FieldError(o, "warmup_steps", Num(t.warmup_steps()), ">= 0");
  if (t.schedule() == SCHEDULE_RSQRT && t.warmup_steps() <= 0)
    return FieldError(o, "warmup_steps", Num(t.warmup_steps()),
                      "> 0 with SCHEDULE_RSQRT (it sets the decay's scale)");
  if (!(t.beta1() >= 0 && t.beta1() < 1))
    return FieldError(o, "beta1", Num(t.beta1()), "in [0, 1)");
  if (!(t.beta2() >= 0 && t.beta2() < 1))
    return FieldError(o, "beta2", Num(t.beta2()), "in [0, 1)");
  if (!(t.eps() > 0)) return FieldError(o, "eps", Num(t.eps()), "> 0");
  if (!(t.weight_decay() >= 0))
    return FieldError(o, "weight_decay", Num(t.weight_decay()), ">= 0");
  if (!(t.grad_clip() >= 0))
    return FieldError(o, "grad_clip", Num(t.grad_clip()), ">= 0 (0 = off)");
  if (t.eval_every() <= 0)
    return FieldError(o, "eval_every", Num(t.eval_every()), "an integer > 0");
  if (t.eval_batches() < 0)
    return FieldError(o, "eval_batches", Num(t.eval_batches()),
                      ">= 0 (0 = whole split)");
  if (t.test_batches() < 0)
    return FieldError(o, "test_batches", Num(t.test_batches()),
                      ">= 0 (0 = whole split)");
  if (t.threads() < 0)
    return FieldError(o, "threads", Num(t.threads()), ">= 0 (0 = all cores)");
  if (t.log_every() < 0)
    return FieldError(o, "log_every", Num(t.log_every()), ">= 0 (0 = auto)");
  return absl::OkStatus();
}

absl::Status ValidateModel(const ModelConfig& m, const TaskConfig& task,
                           const ConfigOrigin& o) {
  if (m.d_model() <= 0)
    return FieldError(o, "d_model", Num(m.d_model()), "an integer > 0");
  if (m.num_layers() <= 0)
    return FieldError(o, "num_layers", Num(m.num_layers()), "an integer > 0");
  if (m.num_heads() <= 0)
    return FieldError(o, "num_heads", Num(m.num_heads()), "an integer > 0");
  if (m.qkv_dim() <= 0 || m.qkv_dim() % m.num_heads() != 0)
    return FieldError(
        o, "qkv_dim", Num(m.qkv_dim()),
        absl::StrCat("a positive multiple of num_heads (", m.num_heads(), ")"));
  if (m.mlp_dim() <= 0)
    return FieldError(o, "mlp_dim", Num(m.mlp_dim()), "an integer > 0");
  if (!(m.dropout() >= 0 && m.dropout() < 1))
    return FieldError(o, "dropout", Num(m.dropout()), "in [0, 1)");
  if (!(m.attention_dropout() >= 0 && m.attention_dropout() < 1))
    return FieldError(o, "attention_dropout", Num(m.attention_dropout()),
                      "in [0, 1)");
  absl::StatusOr<int> vocab = TaskVocabSize(task);
  if (!vocab.ok()) return vocab.status();
  if (m.vocab_size() < *vocab)
    return FieldError(o, "vocab_size", Num(m.vocab_size()),
                      absl::StrCat(">= ", *vocab, ", the vocabulary of task '",
                                   task.name(), "' (0 = take the task's)"));
  absl::StatusOr<int> classes = TaskNumClasses(task);
  if (!classes.ok()) return classes.status();
  if (m.num_classes() != *classes)
    return FieldError(o, "num_classes", Num(m.num_classes()),
                      absl::StrCat(*classes, ", the classes of task '",
                                   task.name(), "' (0 = take the task's)"));
  // A mixer other than attention (ModelConfig.mixer) is checked against
  // the mixer registry instead of the attention one.
  if (!m.mixer().name().empty() && m.mixer().name() != kAttentionMixerName) {
    absl::StatusOr<PluginParams> mixer =
        BuiltinPlugins().mixers->ResolveParams(m.mixer());
    if (!mixer.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(o.Where("mixer"), ": ", mixer.status().message()));
    }
  } else if (m.attention().name().empty())
    return FieldError(
        o, "attention.name", "''",
        absl::StrCat("one of the registered variants: ",
                     absl::StrJoin(BuiltinPlugins().attention->Names(), ", ")));
  absl::StatusOr<PluginParams> params =
      m.attention().name().empty()
          ? absl::StatusOr<PluginParams>(PluginParams())
          : BuiltinPlugins().attention->ResolveParams(m.attention());
  if (!params.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.Where("attention"), ": ", params.status().message()));
  }
  int positions = task.seq_len() + (m.pooling() == POOLING_CLS ? 1 : 0);
  if (m.max_len() != 0 && m.max_len() < positions)
    return FieldError(
        o, "max_len", Num(m.max_len()),
        absl::StrCat(">= ", positions, " (the task's seq_len plus CLS), or 0"));
  return absl::OkStatus();
}

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

std::string ConfigOrigin::Where(const std::string& field) const {
  std::string path = prefix;
  if (!field.empty())
    path = path.empty() ? field : absl::StrCat(prefix, ".", field);
  std::string location = source ? source->Locate(path) : "<config>";
  if (path.empty()) return location;
  return absl::StrCat(location, ": ", path);
}

void ResolveTrainDefaults(TrainConfig* t) {
  if (t->schedule() == SCHEDULE_UNSPECIFIED) t->set_schedule(SCHEDULE_CONSTANT);
  if (t->beta1() == 0) t->set_beta1(0.9f);
  if (t->beta2() == 0) t->set_beta2(0.98f);
  if (t->eps() == 0) t->set_eps(1e-9f);
  if (t->eval_every() == 0 && t->steps() > 0) {
    t->set_eval_every(std::max(1, t->steps() / 10));
  }
  if (t->name().empty()) t->set_name("default");
}

absl::Status ResolveAndValidateRun(PlannedRun* run) {
  TaskConfig* task = run->config.mutable_task();
  ModelConfig* model = run->config.mutable_model();
  TrainConfig* train = run->config.mutable_train();
  absl::Status status = WithOrigin(run->task_origin, ResolveTaskDefaults(task));
  if (!status.ok()) return status;
  if (task->label().empty()) task->set_label(task->name());
  if (model->vocab_size() == 0) {
    absl::StatusOr<int> vocab = TaskVocabSize(*task);
    if (!vocab.ok()) return WithOrigin(run->task_origin, vocab.status());
    model->set_vocab_size(*vocab);
  }
  if (model->num_classes() == 0) {
    absl::StatusOr<int> classes = TaskNumClasses(*task);
    if (!classes.ok()) return WithOrigin(run->task_origin, classes.status());
    model->set_num_classes(*classes);
  }
  absl::StatusOr<int> segments = TaskNumSegments(*task);
  if (!segments.ok()) return WithOrigin(run->task_origin, segments.status());
  if (model->num_segments() == 0) model->set_num_segments(*segments);
  if (model->num_segments() != *segments) {
    return FieldError(
        run->model_origin, "num_segments", absl::StrCat(model->num_segments()),
        absl::StrCat(*segments, ", the documents per example of task '",
                     task->name(), "' (0 = take the task's)"));
  }
  status = WithOrigin(run->model_origin, ResolveModelDefaults(model));
  if (!status.ok()) return status;
  if (model->name().empty()) {
    model->set_name(model->attention().name().empty()
                        ? "transformer"
                        : model->attention().name());
  }
  status = ValidateModel(*model, *task, run->model_origin);
  if (!status.ok()) return status;
  ResolveTrainDefaults(train);
  return ValidateTrain(*train, run->train_origin);
}

absl::StatusOr<Suite> LoadSuite(const std::string& path,
                                const std::string& workspace_dir) {
  SuiteConfig config;
  auto source = std::make_shared<ConfigSource>();
  absl::Status status = LoadTextProto(path, &config, source.get());
  if (!status.ok()) return status;
  Suite suite;
  suite.path = path;
  suite.name = config.name();
  ConfigOrigin suite_origin{source, ""};
  // "bench" is where `lra bench --sweep` stores its sweeps.
  if (suite.name.empty() || suite.name == "bench" ||
      suite.name.find_first_of("/ \t") != std::string::npos) {
    return FieldError(suite_origin, "name", absl::StrCat("'", suite.name, "'"),
                      "a non-empty name without '/' or spaces, other than "
                      "'bench' (reserved for bench sweeps)");
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
    status = LoadFiles(grid.task_file(), grid_origin, "task_file",
                       workspace_dir, &tasks);
    if (!status.ok()) return status;
    status = LoadFiles(grid.model_file(), grid_origin, "model_file",
                       workspace_dir, &models);
    if (!status.ok()) return status;
    status = LoadFiles(grid.train_file(), grid_origin, "train_file",
                       workspace_dir, &trains);
    if (!status.ok()) return status;
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
  // A run's folder is <task label>/<model name>; the train name is added only
  // where one task and model are trained with several recipes.
  std::map<std::string, int> base_count;
  for (PlannedRun& run : suite.runs) {
    status = ResolveAndValidateRun(&run);
    if (!status.ok()) return status;
    run.id =
        absl::StrCat(run.config.task().label(), "/", run.config.model().name());
    ++base_count[run.id];
  }
  std::set<std::string> ids;
  for (PlannedRun& run : suite.runs) {
    if (base_count[run.id] > 1)
      absl::StrAppend(&run.id, ".", run.config.train().name());
    if (!ids.insert(run.id).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          run.model_origin.Where("name"), ": two runs of suite '", suite.name,
          "' would both write ", run.id,
          "; give the task a `label`, the model a distinct `name`, or the "
          "train a distinct `name`"));
    }
  }
  return suite;
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
