#include "eval/results.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "config/text_proto.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"

namespace lra {
namespace {

namespace fs = std::filesystem;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::TextFormat;

// Sorted names of the sub-folders of `dir` (files and hidden entries are
// skipped).
std::vector<std::string> SubFolders(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::error_code kind_error;
    if (!entry.is_directory(kind_error)) continue;
    std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A folder is a run folder when the trainer wrote anything into it.
bool LooksLikeRunFolder(const std::string& dir) {
  if (FileExists(dir + "/result.pbtxt") || FileExists(dir + "/failed.pbtxt") ||
      FileExists(dir + "/metrics.csv") || FileExists(dir + "/config.pbtxt")) {
    return true;
  }
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (absl::StartsWith(entry.path().filename().string(), "checkpoint")) {
      return true;
    }
  }
  return false;
}

bool Contains(const std::vector<std::string>& values,
              const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Checks that every value of one filter matched something.
absl::Status CheckFilterMatched(const char* flag,
                                const std::vector<std::string>& wanted,
                                const std::set<std::string>& matched,
                                const std::set<std::string>& existing) {
  for (const std::string& value : wanted) {
    if (matched.count(value) == 0) {
      return absl::NotFoundError(absl::StrCat(
          "--", flag, "=", value, " matches no result; present: ",
          existing.empty() ? "nothing" : absl::StrJoin(existing, ", ")));
    }
  }
  return absl::OkStatus();
}

std::string FieldText(const Message& message, const FieldDescriptor* field,
                      int index) {
  TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  std::string text;
  printer.PrintFieldValueToString(message, field, index, &text);
  return std::string(absl::StripAsciiWhitespace(text));
}

// Appends "path=value" (value as in `b`) for every leaf field where `a` and
// `b` differ.
void DiffMessages(const Message& a, const Message& b, const std::string& prefix,
                  std::vector<std::string>* out) {
  const google::protobuf::Descriptor* descriptor = a.GetDescriptor();
  const Reflection* ra = a.GetReflection();
  const Reflection* rb = b.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    std::string path = prefix.empty()
                           ? field->name()
                           : absl::StrCat(prefix, ".", field->name());
    if (field->is_repeated()) {
      std::vector<std::string> ta, tb;
      for (int j = 0; j < ra->FieldSize(a, field); ++j)
        ta.push_back(FieldText(a, field, j));
      for (int j = 0; j < rb->FieldSize(b, field); ++j)
        tb.push_back(FieldText(b, field, j));
      if (ta != tb) {
        out->push_back(absl::StrCat(path, "=[", absl::StrJoin(tb, ", "), "]"));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      DiffMessages(ra->GetMessage(a, field), rb->GetMessage(b, field), path,
                   out);
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      // Strings unquoted: "model.attention.name=local".
      std::string vb = rb->GetString(b, field);
      if (ra->GetString(a, field) != vb) {
        out->push_back(absl::StrCat(path, "=", vb));
      }
    } else {
      std::string va = FieldText(a, field, -1);
      std::string vb = FieldText(b, field, -1);
      if (va != vb) out->push_back(absl::StrCat(path, "=", vb));
    }
  }
}

}  // namespace

std::vector<std::string> ConfigDifferences(const RunConfig& from,
                                           const RunConfig& to) {
  std::vector<std::string> differences;
  DiffMessages(from, to, "", &differences);
  return differences;
}

const char* RunStateName(RunState state) {
  switch (state) {
    case RunState::kDone:
      return "done";
    case RunState::kFailed:
      return "failed";
    case RunState::kUnfinished:
      return "unfinished";
  }
  return "unknown";
}

std::string RunRecord::Id() const {
  return absl::StrCat(suite, "/", task_label, "/", run_folder);
}

std::string RunRecord::ModelName() const {
  if (!result.config().model().name().empty()) {
    return result.config().model().name();
  }
  size_t dot = run_folder.rfind('.');
  return dot == std::string::npos ? run_folder : run_folder.substr(0, dot);
}

std::vector<EvalPoint> ParseMetricsCsv(const std::string& csv) {
  std::vector<EvalPoint> points;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    if (fields.size() < 6) continue;
    int step;
    float train_loss, train_accuracy, val_loss, val_accuracy;
    double wall_seconds;
    // The header line fails the first conversion and is skipped with the
    // other malformed lines.
    if (!absl::SimpleAtoi(fields[0], &step) ||
        !absl::SimpleAtof(fields[1], &train_loss) ||
        !absl::SimpleAtof(fields[2], &train_accuracy) ||
        !absl::SimpleAtof(fields[3], &val_loss) ||
        !absl::SimpleAtof(fields[4], &val_accuracy) ||
        !absl::SimpleAtod(fields[5], &wall_seconds)) {
      continue;
    }
    EvalPoint point;
    point.set_step(step);
    point.set_train_loss(train_loss);
    point.set_train_accuracy(train_accuracy);
    point.set_val_loss(val_loss);
    point.set_val_accuracy(val_accuracy);
    point.set_wall_seconds(wall_seconds);
    points.push_back(point);
  }
  return points;
}

RunRecord LoadRunFolder(const std::string& dir, const std::string& suite,
                        const std::string& task_label,
                        const std::string& run_folder) {
  RunRecord record;
  record.suite = suite;
  record.task_label = task_label;
  record.run_folder = run_folder;
  record.dir = dir;
  const std::string result_path = dir + "/result.pbtxt";
  const std::string failed_path = dir + "/failed.pbtxt";
  // A finished result wins over a failure file: the runner keeps a finished
  // result even when a later attempt with a changed config fails.
  const std::string path = FileExists(result_path)   ? result_path
                           : FileExists(failed_path) ? failed_path
                                                     : "";
  if (path.empty()) {
    record.state = RunState::kUnfinished;
    // The config the run was started with, when it wrote one.
    RunConfig config;
    if (FileExists(dir + "/config.pbtxt") &&
        LoadTextProto(dir + "/config.pbtxt", &config).ok()) {
      *record.result.mutable_config() = config;
    }
    std::string csv;
    if (ReadFile(dir + "/metrics.csv", &csv).ok()) {
      for (const EvalPoint& point : ParseMetricsCsv(csv)) {
        *record.result.add_eval() = point;
      }
    }
    return record;
  }
  absl::Status status = LoadTextProto(path, &record.result);
  if (!status.ok()) {
    record.state = RunState::kFailed;
    record.error = absl::StrCat("unreadable result: ", status.message());
    return record;
  }
  if (record.result.status() == "ok" && path == result_path) {
    record.state = RunState::kDone;
  } else {
    record.state = RunState::kFailed;
    record.error = record.result.error().empty()
                       ? absl::StrCat("status '", record.result.status(),
                                      "' without an error message")
                       : record.result.error();
  }
  return record;
}

absl::StatusOr<ResultSet> LoadResults(const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(absl::StrCat(
        "results folder ", dir,
        " does not exist (expected <dir>/<suite>/<task>/<run>/result.pbtxt, "
        "written by `lra run --out=<dir>`)"));
  }
  ResultSet results;
  for (const std::string& suite : SubFolders(dir)) {
    const std::string suite_dir = absl::StrCat(dir, "/", suite);
    for (const std::string& task : SubFolders(suite_dir)) {
      const std::string task_dir = absl::StrCat(suite_dir, "/", task);
      for (const std::string& run : SubFolders(task_dir)) {
        const std::string run_dir = absl::StrCat(task_dir, "/", run);
        if (!LooksLikeRunFolder(run_dir)) continue;
        results.runs.push_back(LoadRunFolder(run_dir, suite, task, run));
      }
    }
  }
  // Sweeps: DIR/bench/sweep.pbtxt, and any sweep*.pbtxt beside it (sweeps
  // from several machines copied together under distinct names).
  const std::string bench_dir = dir + "/bench";
  std::vector<std::string> sweep_paths;
  for (const auto& entry : fs::directory_iterator(bench_dir, error)) {
    std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "sweep") && absl::EndsWith(name, ".pbtxt")) {
      sweep_paths.push_back(entry.path().string());
    }
  }
  std::sort(sweep_paths.begin(), sweep_paths.end());
  for (const std::string& path : sweep_paths) {
    SweepRecord record;
    record.path = path;
    // An unreadable sweep is kept with its error (and no points), as an
    // unreadable result.pbtxt is kept as a failed run: it never hides the
    // rest of the folder.
    absl::Status status = LoadTextProto(path, &record.sweep);
    if (!status.ok()) {
      record.sweep.Clear();
      record.error = std::string(status.message());
    }
    results.sweeps.push_back(std::move(record));
  }
  std::sort(
      results.runs.begin(), results.runs.end(),
      [](const RunRecord& a, const RunRecord& b) { return a.Id() < b.Id(); });
  return results;
}

absl::StatusOr<ResultSet> FilterResults(const ResultSet& results,
                                        const ResultFilter& filter) {
  std::set<std::string> suites, tasks, models;
  std::set<std::string> matched_suites, matched_tasks, matched_models;
  ResultSet out;
  std::set<std::string> kept_variants;
  for (const RunRecord& run : results.runs) {
    const std::string& task_name = run.result.config().task().name();
    const std::string model = run.ModelName();
    // The names a --models entry may give besides the model's: the
    // attention variant, the token mixer and the sequence handler.
    const ModelConfig& model_config = run.result.config().model();
    std::vector<std::string> variants;
    for (const std::string& name :
         {model_config.attention().name(), model_config.mixer().name(),
          model_config.sequence().name()}) {
      if (!name.empty()) variants.push_back(name);
    }
    suites.insert(run.suite);
    tasks.insert(run.task_label);
    models.insert(model);
    bool suite_ok = filter.suites.empty() || Contains(filter.suites, run.suite);
    bool task_ok = filter.tasks.empty() ||
                   Contains(filter.tasks, run.task_label) ||
                   (!task_name.empty() && Contains(filter.tasks, task_name));
    bool model_ok = filter.models.empty() || Contains(filter.models, model);
    for (const std::string& variant : variants) {
      model_ok = model_ok || Contains(filter.models, variant);
    }
    if (suite_ok) matched_suites.insert(run.suite);
    if (task_ok) {
      matched_tasks.insert(run.task_label);
      matched_tasks.insert(task_name);
    }
    if (model_ok) {
      matched_models.insert(model);
      matched_models.insert(variants.begin(), variants.end());
    }
    if (suite_ok && task_ok && model_ok) {
      out.runs.push_back(run);
      kept_variants.insert(variants.begin(), variants.end());
    }
  }
  for (const SweepRecord& record : results.sweeps) {
    SweepRecord kept = record;
    if (!filter.models.empty()) {
      kept.sweep.clear_point();
      for (const BenchPoint& point : record.sweep.point()) {
        models.insert(point.variant());
        if (Contains(filter.models, point.variant()) ||
            kept_variants.count(point.variant()) > 0) {
          matched_models.insert(point.variant());
          *kept.sweep.add_point() = point;
        }
      }
    }
    if (kept.sweep.point_size() > 0) out.sweeps.push_back(std::move(kept));
  }
  absl::Status status =
      CheckFilterMatched("suites", filter.suites, matched_suites, suites);
  if (status.ok()) {
    status = CheckFilterMatched("tasks", filter.tasks, matched_tasks, tasks);
  }
  if (status.ok()) {
    status =
        CheckFilterMatched("models", filter.models, matched_models, models);
  }
  if (!status.ok()) return status;
  return out;
}

}  // namespace lra
