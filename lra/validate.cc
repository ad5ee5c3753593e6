#include "lra/validate.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/validation.h"
#include "datasets/dataset.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// The attention variant is registered and its parameters are declared.
absl::Status ValidateAttention(const ModelConfig& m, const ConfigOrigin& o) {
  // A mixer other than attention (ModelConfig.mixer) is checked against the
  // mixer registry instead of the attention one.
  if (!m.mixer().name().empty() && m.mixer().name() != kAttentionMixerName) {
    absl::StatusOr<PluginParams> mixer =
        BuiltinPlugins().mixers->ResolveParams(m.mixer());
    if (!mixer.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(o.Where("mixer"), ": ", mixer.status().message()));
    }
    if (m.attention().name().empty()) return absl::OkStatus();
  }
  if (m.attention().name().empty())
    return FieldError(
        o, "attention.name", "''",
        absl::StrCat("one of the registered variants: ",
                     absl::StrJoin(BuiltinPlugins().attention->Names(), ", ")));
  absl::StatusOr<PluginParams> params =
      BuiltinPlugins().attention->ResolveParams(m.attention());
  if (!params.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.Where("attention"), ": ", params.status().message()));
  }
  return absl::OkStatus();
}

// What the model must agree on with the task and the registries.
absl::Status ValidateModelAgainstTask(const ModelConfig& m,
                                      const TaskConfig& task,
                                      const ConfigOrigin& o) {
  ASSIGN_OR_RETURN(int vocab, TaskVocabSize(task));
  if (m.vocab_size() < vocab)
    return FieldError(o, "vocab_size", FormatNumber(m.vocab_size()),
                      absl::StrCat(">= ", vocab, ", the vocabulary of task '",
                                   task.name(), "' (0 = take the task's)"));
  ASSIGN_OR_RETURN(int classes, TaskNumClasses(task));
  if (m.num_classes() != classes)
    return FieldError(o, "num_classes", FormatNumber(m.num_classes()),
                      absl::StrCat(classes, ", the classes of task '",
                                   task.name(), "' (0 = take the task's)"));
  RETURN_IF_ERROR(ValidateAttention(m, o));
  // The ordinal pixel input reads tokens as gray levels: on a byte or
  // symbol vocabulary of the same size (text is 257 too) it would be
  // meaningless, not an error the encoder could see.
  if (m.pixel_intensity() && !task.has_image() && !task.has_pathfinder())
    return FieldError(o, "pixel_intensity", "true",
                      absl::StrCat("false for task '", task.name(),
                                   "': only image and pathfinder tasks have "
                                   "pixel tokens"));
  if (UsesGridPositions(m)) {
    ASSIGN_OR_RETURN(int segments, TaskNumSegments(task));
    const int length = task.seq_len() / segments;
    if (m.grid_width() <= 0 || length % m.grid_width() != 0)
      return FieldError(o, "grid_width", FormatNumber(m.grid_width()),
                        absl::StrCat("a divisor of ", length,
                                     ", the document length of "
                                     "task '",
                                     task.name(),
                                     "' (0 = take the task's image "
                                     "size)"));
  }
  int positions = task.seq_len() + (m.pooling() == POOLING_CLS ? 1 : 0);
  if (m.max_len() != 0 && m.max_len() < positions)
    return FieldError(
        o, "max_len", FormatNumber(m.max_len()),
        absl::StrCat(">= ", positions, " (the task's seq_len plus CLS), or 0"));
  return absl::OkStatus();
}

// The row length of a task's 2-D layout, for 2-D positions with grid_width
// 0: an image's or a pathfinder image's side (the task's defaults resolved).
absl::StatusOr<int> TaskGridWidth(const TaskConfig& task,
                                  const ConfigOrigin& o) {
  if (task.has_image()) return task.image().image_size();
  if (task.has_pathfinder()) return task.pathfinder().resolution();
  return FieldError(
      o, "grid_width", "0",
      absl::StrCat("the tokens per row of 2-D positions, set explicitly: "
                   "task '",
                   task.name(),
                   "' has no image size to take it from (image and "
                   "pathfinder tasks have one)"));
}

}  // namespace

absl::Status ResolveAndValidateTask(TaskConfig* task,
                                    const ConfigOrigin& origin) {
  RETURN_IF_ERROR(WithOrigin(origin, ResolveTaskDefaults(task)));
  if (task->label().empty()) task->set_label(task->name());
  RETURN_IF_ERROR(ValidateSafeName(origin, "label", task->label()));
  // What the model takes from the task must be known, or the error is the
  // task's (and names its file).
  RETURN_IF_ERROR(WithOrigin(origin, TaskVocabSize(*task).status()));
  RETURN_IF_ERROR(WithOrigin(origin, TaskNumClasses(*task).status()));
  return WithOrigin(origin, TaskNumSegments(*task).status());
}

absl::Status ResolveAndValidateModel(ModelConfig* model, const TaskConfig& task,
                                     const ConfigOrigin& origin) {
  if (model->vocab_size() == 0) {
    ASSIGN_OR_RETURN(int vocab, TaskVocabSize(task));
    model->set_vocab_size(vocab);
  }
  if (model->num_classes() == 0) {
    ASSIGN_OR_RETURN(int classes, TaskNumClasses(task));
    model->set_num_classes(classes);
  }
  ASSIGN_OR_RETURN(int segments, TaskNumSegments(task));
  if (model->num_segments() == 0) model->set_num_segments(segments);
  if (model->num_segments() != segments) {
    return FieldError(
        origin, "num_segments", absl::StrCat(model->num_segments()),
        absl::StrCat(segments, ", the documents per example of task '",
                     task.name(), "' (0 = take the task's)"));
  }
  RETURN_IF_ERROR(WithOrigin(origin, ResolveModelDefaults(model)));
  if (UsesGridPositions(*model) && model->grid_width() == 0) {
    ASSIGN_OR_RETURN(int width, TaskGridWidth(task, origin));
    model->set_grid_width(width);
  }
  if (model->name().empty()) model->set_name(RunModelName(*model));
  RETURN_IF_ERROR(ValidateModelShape(*model, origin));
  return ValidateModelAgainstTask(*model, task, origin);
}

absl::Status ResolveAndValidateModelWithoutTask(ModelConfig* model,
                                                const ConfigOrigin& origin) {
  RETURN_IF_ERROR(WithOrigin(origin, ResolveModelDefaults(model)));
  if (model->name().empty()) model->set_name(RunModelName(*model));
  RETURN_IF_ERROR(ValidateModelShape(*model, origin));
  return ValidateAttention(*model, origin);
}

absl::Status ResolveAndValidateRun(PlannedRun* run) {
  TaskConfig* task = run->config.mutable_task();
  RETURN_IF_ERROR(ResolveAndValidateTask(task, run->task_origin));
  RETURN_IF_ERROR(ResolveAndValidateModel(run->config.mutable_model(), *task,
                                          run->model_origin));
  TrainConfig* train = run->config.mutable_train();
  ResolveTrainDefaults(train);
  return ValidateTrain(*train, run->train_origin);
}

absl::StatusOr<Suite> LoadSuite(const std::string& path,
                                const std::string& workspace_dir) {
  ASSIGN_OR_RETURN(Suite suite, ExpandSuite(path, workspace_dir));
  for (PlannedRun& run : suite.runs) {
    RETURN_IF_ERROR(ResolveAndValidateRun(&run));
  }
  RETURN_IF_ERROR(AssignRunIds(&suite));
  return suite;
}

}  // namespace lra
