#include "lra/evaluate.h"

#include <omp.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/text_proto.h"
#include "datasets/dataset.h"
#include "lra/checkpoint.h"
#include "lra/validate.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "proto/result.pb.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// The run's config and figures: result.pbtxt of a finished run, else the
// run state stored in checkpoint.last by an interrupted one.
absl::StatusOr<RunResult> LoadRunState(const std::string& run_dir,
                                       std::string* source, bool* finished) {
  const std::string result_path = run_dir + "/result.pbtxt";
  const std::string last_path = run_dir + "/checkpoint.last";
  RunResult result;
  if (FileExists(result_path)) {
    RETURN_IF_ERROR(LoadTextProto(result_path, &result));
    *source = result_path;
    *finished = result.status() == "ok";
    return result;
  }
  if (FileExists(last_path)) {
    int64_t step = 0;
    std::string metadata;
    RETURN_IF_ERROR(ReadCheckpointMetadata(last_path, &step, &metadata));
    if (!result.ParseFromString(metadata)) {
      return absl::DataLossError(
          absl::StrCat(last_path, ": corrupt run state in checkpoint"));
    }
    *source = last_path;
    *finished = false;
    return result;
  }
  return absl::NotFoundError(absl::StrCat(
      run_dir,
      ": not a run folder (no result.pbtxt, no checkpoint.last); "
      "allowed: a folder results/<suite>/<task>/<model> written by "
      "`lra run`"));
}

// The model's positions per document: its max_len, or what it was built for
// (the training task's length per document, plus CLS).
int ModelPositions(const ModelConfig& model, const TaskConfig& trained) {
  if (model.max_len() > 0) return model.max_len();
  const int segments = model.num_segments() > 0 ? model.num_segments() : 1;
  return trained.seq_len() / segments +
         (model.pooling() == POOLING_CLS ? 1 : 0);
}

absl::Status CheckTaskFitsModel(const RunConfig& run, const TaskConfig& task,
                                const std::string& run_source,
                                const std::string& task_file) {
  const ModelConfig& model = run.model();
  auto mismatch = [&](const std::string& what, int64_t task_value,
                      int64_t run_value, const std::string& detail) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " does not match: ", task_file, " (task '",
                     task.name(), "') has ", task_value, ", the model of ",
                     run_source, " has ", run_value, detail));
  };
  ASSIGN_OR_RETURN(int vocab, TaskVocabSize(task));
  ASSIGN_OR_RETURN(int trained_vocab, TaskVocabSize(run.task()));
  if (vocab != trained_vocab || vocab > model.vocab_size()) {
    return mismatch("vocabulary size", vocab, trained_vocab,
                    absl::StrCat(" (its task '", run.task().name(),
                                 "'; model vocab_size ", model.vocab_size(),
                                 "): token ids would mean other tokens"));
  }
  ASSIGN_OR_RETURN(int classes, TaskNumClasses(task));
  if (classes != model.num_classes()) {
    return mismatch("number of classes", classes, model.num_classes(), "");
  }
  ASSIGN_OR_RETURN(int segments, TaskNumSegments(task));
  if (segments != model.num_segments()) {
    return mismatch("documents per example", segments, model.num_segments(),
                    "");
  }
  const int positions =
      task.seq_len() / segments + (model.pooling() == POOLING_CLS ? 1 : 0);
  const int model_positions = ModelPositions(model, run.task());
  if (positions > model_positions) {
    const bool cls = model.pooling() == POOLING_CLS;
    return absl::InvalidArgumentError(absl::StrCat(
        "sequence length does not fit: ", task_file, " (task '", task.name(),
        "') has seq_len ", task.seq_len(), " (", positions,
        " positions per document", cls ? " with CLS" : "", "), the model of ",
        run_source, " has ", model_positions, " positions (",
        model.max_len() > 0
            ? absl::StrCat("max_len ", model.max_len())
            : absl::StrCat("trained at seq_len ", run.task().seq_len(),
                           cls ? " plus CLS" : "", ", max_len unset"),
        ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Split> ParseSplitName(const std::string& name) {
  if (name == "test") return Split::kTest;
  if (name == "validation" || name == "val") return Split::kVal;
  if (name == "train") return Split::kTrain;
  return absl::InvalidArgumentError(absl::StrCat(
      "--split=", name, ": allowed: validation (or val), test, train"));
}

absl::StatusOr<CheckpointEval> EvaluateCheckpoint(
    const CheckpointEvalOptions& options) {
  CheckpointEval eval;
  eval.split = options.split;
  std::string run_source;
  ASSIGN_OR_RETURN(RunResult state,
                   LoadRunState(options.run_dir, &run_source, &eval.finished));
  if (!state.has_config()) {
    return absl::FailedPreconditionError(
        absl::StrCat(run_source, ": holds no run config"));
  }
  eval.run = state.config();
  if (eval.finished) eval.recorded_test_accuracy = state.test_accuracy();

  ConfigOrigin origin{std::make_shared<ConfigSource>(), ""};
  RETURN_IF_ERROR(
      LoadTextProto(options.task_file, &eval.task, origin.source.get()));
  RETURN_IF_ERROR(ResolveAndValidateTask(&eval.task, origin));
  RETURN_IF_ERROR(
      CheckTaskFitsModel(eval.run, eval.task, run_source, options.task_file));

  const TrainConfig& train = eval.run.train();
  int threads = options.threads;
  if (threads <= 0) threads = state.threads();
  if (threads <= 0) threads = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  omp_set_num_threads(threads);

  ASSIGN_OR_RETURN(
      std::unique_ptr<Dataset> data,
      MakeDataset(eval.task, options.split, options.workspace_dir));
  // Built at the evaluated length; the position table keeps the trained size.
  ModelConfig model = eval.run.model();
  model.set_max_len(ModelPositions(model, eval.run.task()));
  const int batch_size = train.batch_size() > 0 ? train.batch_size() : 32;
  ASSIGN_OR_RETURN(
      std::unique_ptr<Encoder> encoder,
      Encoder::Create(model, {data->seq_len(), batch_size, train.seed()},
                      BuiltinPlugins()));
  NamedTensors params;
  encoder->ForEachParameter(
      [&params](const std::string& name, Tensor& value, Tensor&) {
        params.push_back({name, &value});
      });
  eval.checkpoint = options.run_dir + "/checkpoint.best";
  if (!FileExists(eval.checkpoint)) {
    return absl::NotFoundError(absl::StrCat(
        eval.checkpoint,
        " is missing: the run has not reached its first evaluation yet"));
  }
  std::string unused;
  absl::Status loaded =
      LoadCheckpoint(eval.checkpoint, &eval.best_step, &unused, params);
  if (!loaded.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        loaded.message(), " (evaluated at seq_len ", data->seq_len(),
        ", trained at ", eval.run.task().seq_len(),
        "; a model whose parameters depend on the length needs the same)"));
  }
  // Structure redrawn as training goes is that of the checkpoint's step.
  encoder->SetStep(eval.best_step);
  std::vector<int32_t> tokens(int64_t{batch_size} * data->seq_len());
  std::vector<int32_t> labels(batch_size);
  const int batches =
      options.count > 0
          ? static_cast<int>((options.count + batch_size - 1) / batch_size)
          : 0;
  ASSIGN_OR_RETURN(eval.figures, Evaluate(*encoder, *data, batch_size, batches,
                                          tokens, labels));
  return eval;
}

std::string FormatCheckpointEval(const CheckpointEval& eval) {
  const char* split = eval.split == Split::kTest  ? "test"
                      : eval.split == Split::kVal ? "validation"
                                                  : "train";
  const std::string task_label =
      eval.task.label().empty() ? eval.task.name() : eval.task.label();
  std::string out = absl::StrFormat(
      "checkpoint: %s (best validation, step %d)\n"
      "model: %s, trained on task '%s' (seq_len %d)\n"
      "evaluated on: task '%s' (seq_len %d), %s split\n",
      eval.checkpoint, eval.best_step, eval.run.model().name(),
      eval.run.task().label().empty() ? eval.run.task().name()
                                      : eval.run.task().label(),
      eval.run.task().seq_len(), task_label, eval.task.seq_len(), split);
  absl::StrAppendFormat(&out,
                        "accuracy %.6f (%d/%d correct), loss %.6f, examples "
                        "%d\n",
                        eval.figures.accuracy, eval.figures.correct,
                        eval.figures.examples, eval.figures.loss,
                        eval.figures.examples);
  if (eval.finished) {
    absl::StrAppendFormat(&out, "the run's recorded test accuracy: %.6f\n",
                          eval.recorded_test_accuracy);
  }
  return out;
}

}  // namespace lra
