#include "eval/test_fixtures.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/plugin_param.h"
#include "config/text_proto.h"

namespace lra {
namespace {

std::string RunFolder(const FakeRunSpec& spec, bool with_train_name) {
  return with_train_name ? absl::StrCat(spec.model, ".", spec.train_name)
                         : spec.model;
}

std::string RunDir(const std::string& results_dir, const FakeRunSpec& spec,
                   const std::string& folder) {
  return absl::StrCat(results_dir, "/", spec.suite, "/", spec.task_label, "/",
                      folder);
}

// Chance level of the fake tasks, where curves start.
double Chance(const std::string& task_name) {
  return task_name == "listops" || task_name == "image" ? 0.1 : 0.5;
}

// Validation accuracy at `step`: rising from chance to the final accuracy,
// with a small wiggle that depends on the seed.
double CurveAt(const FakeRunSpec& spec, int step) {
  double chance = Chance(spec.task_name);
  double t = static_cast<double>(step) / spec.steps;
  double rise = 1 - std::exp(-4 * t);
  double wiggle = 0.006 * std::sin(7.0 * t + static_cast<double>(spec.seed));
  return chance + (spec.test_accuracy + 0.01 - chance) * rise + wiggle;
}

}  // namespace

FakeRunSpec Spec(const std::string& task_label, const std::string& model,
                 double accuracy, const std::string& task_name) {
  FakeRunSpec spec;
  spec.task_label = task_label;
  spec.task_name = task_name.empty() ? task_label : task_name;
  spec.model = model;
  spec.attention = model == "transformer" ? "full" : model;
  spec.test_accuracy = accuracy;
  return spec;
}

int CountOccurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

RunResult FakeRunResult(const FakeRunSpec& spec) {
  RunResult result;
  result.set_suite(spec.suite);
  RunConfig* config = result.mutable_config();
  TaskConfig* task = config->mutable_task();
  task->set_name(spec.task_name);
  task->set_label(spec.task_label);
  task->set_seq_len(spec.seq_len);
  task->set_train_size(1000);
  task->set_val_size(100);
  task->set_test_size(100);
  task->set_data_seed(1);
  ModelConfig* model = config->mutable_model();
  model->set_name(spec.model);
  model->set_d_model(64);
  model->set_num_layers(2);
  model->set_num_heads(4);
  model->set_qkv_dim(64);
  model->set_mlp_dim(128);
  model->mutable_attention()->set_name(spec.attention);
  for (const PluginParam& param : spec.attention_params) {
    *model->mutable_attention()->add_param() = param;
  }
  TrainConfig* train = config->mutable_train();
  train->set_name(spec.train_name);
  train->set_seed(spec.seed);
  train->set_batch_size(32);
  train->set_steps(spec.steps);
  train->set_learning_rate(spec.learning_rate);
  train->set_eval_every(spec.steps / 10);
  float best = -1;
  for (int i = 1; i <= 10; ++i) {
    int step = spec.steps * i / 10;
    EvalPoint* point = result.add_eval();
    point->set_step(step);
    point->set_val_accuracy(static_cast<float>(CurveAt(spec, step)));
    point->set_train_accuracy(static_cast<float>(CurveAt(spec, step) + 0.02));
    point->set_val_loss(1.0f);
    point->set_train_loss(1.0f);
    point->set_wall_seconds(0.5 * step);
    if (point->val_accuracy() > best) {
      best = point->val_accuracy();
      result.set_best_step(step);
      result.set_best_val_accuracy(best);
    }
  }
  result.set_test_accuracy(static_cast<float>(spec.test_accuracy));
  result.set_test_loss(1.0f);
  result.set_steps_per_second(2.0);
  result.set_peak_rss_mb(512);
  result.set_num_parameters(123456);
  result.set_wall_seconds(0.5 * spec.steps);
  result.set_threads(2);
  result.set_machine(spec.machine);
  result.set_git_revision("0123456789ab");
  result.set_started("2026-01-01T00:00:00Z");
  result.set_finished("2026-01-01T01:00:00Z");
  result.set_status("ok");
  return result;
}

absl::Status WriteFakeRun(const std::string& results_dir,
                          const std::string& folder, const RunResult& result) {
  const TaskConfig& task = result.config().task();
  const std::string dir = absl::StrCat(results_dir, "/", result.suite(), "/",
                                       task.label(), "/", folder);
  absl::Status status = MakeDirs(dir);
  if (!status.ok()) return status;
  return WriteTextProtoAtomic(
      dir + (result.status() == "failed" ? "/failed.pbtxt" : "/result.pbtxt"),
      result);
}

absl::Status WriteFinishedRun(const std::string& results_dir,
                              const FakeRunSpec& spec, bool with_train_name) {
  return WriteFakeRun(results_dir, RunFolder(spec, with_train_name),
                      FakeRunResult(spec));
}

absl::Status WriteFailedRun(const std::string& results_dir,
                            const FakeRunSpec& spec, const std::string& error,
                            bool with_train_name) {
  RunResult failed;
  failed.set_suite(spec.suite);
  *failed.mutable_config() = FakeRunResult(spec).config();
  failed.set_status("failed");
  failed.set_error(error);
  failed.set_machine(spec.machine);
  return WriteFakeRun(results_dir, RunFolder(spec, with_train_name), failed);
}

absl::Status WriteUnfinishedRun(const std::string& results_dir,
                                const FakeRunSpec& spec, int last_step) {
  const std::string dir = RunDir(results_dir, spec, spec.model);
  absl::Status status = MakeDirs(dir);
  if (!status.ok()) return status;
  std::string csv =
      "step,train_loss,train_accuracy,val_loss,val_accuracy,wall_seconds\n";
  for (int i = 1; i <= 10; ++i) {
    int step = spec.steps * i / 10;
    if (step > last_step) break;
    absl::StrAppendFormat(&csv, "%d,1.0,%.6f,1.0,%.6f,%.3f\n", step,
                          CurveAt(spec, step) + 0.02, CurveAt(spec, step),
                          0.5 * step);
  }
  return WriteFileAtomic(dir + "/metrics.csv", csv);
}

BenchSweep FakeSweep(const std::vector<FakeBenchPoint>& points, int batch) {
  BenchSweep sweep;
  ModelConfig* model = sweep.mutable_model();
  model->set_name("bench");
  model->set_d_model(128);
  model->set_num_layers(2);
  model->set_num_heads(4);
  model->set_qkv_dim(128);
  model->set_mlp_dim(256);
  sweep.set_threads(2);
  sweep.set_machine("host-a (Test CPU, 2 cores)");
  sweep.set_git_revision("0123456789ab");
  for (const FakeBenchPoint& p : points) {
    BenchPoint* point = sweep.add_point();
    point->set_variant(p.variant);
    point->set_seq_len(p.seq_len);
    point->set_batch(batch);
    for (const PluginParam& param : p.attention_params) {
      *point->add_attention_param() = param;
    }
    if (p.error.empty()) {
      point->set_step_ms(p.step_ms);
      point->set_tokens_per_second(1000.0 * batch * p.seq_len / p.step_ms);
      point->set_peak_rss_mb(p.peak_rss_mb);
    } else {
      point->set_error(p.error);
    }
  }
  return sweep;
}

absl::Status WriteSweep(const std::string& results_dir, const BenchSweep& sweep,
                        const std::string& name) {
  absl::Status status = MakeDirs(results_dir + "/bench");
  if (!status.ok()) return status;
  return WriteTextProtoAtomic(absl::StrCat(results_dir, "/bench/", name),
                              sweep);
}

absl::Status WriteTwoConfigurationResults(const std::string& results_dir,
                                          bool measure_strided) {
  FakeRunSpec full;
  full.model = "transformer";
  full.attention = "full";
  full.test_accuracy = 0.36;
  FakeRunSpec fixed = full;
  fixed.model = "sparse-fixed";
  fixed.attention = "sparse_transformer";
  fixed.test_accuracy = 0.30;
  FakeRunSpec strided = fixed;
  strided.model = "sparse-strided";
  const PluginParam mode = TextParam("mode", "strided");
  strided.attention_params = {mode};
  strided.test_accuracy = 0.25;
  for (const FakeRunSpec& spec : {full, fixed, strided}) {
    absl::Status status = WriteFinishedRun(results_dir, spec);
    if (!status.ok()) return status;
  }
  std::vector<FakeBenchPoint> points;
  for (int n : {1024, 2048, 4096}) {
    const double k = n / 1024.0;
    points.push_back({"full", n, 100 * k * k, 500 * k * k, ""});
    points.push_back({"sparse_transformer", n, 40 * k * k, 200 * k * k, ""});
    if (measure_strided) {
      points.push_back({"sparse_transformer", n, 20 * k, 100 * k, "", {mode}});
    }
  }
  return WriteSweep(results_dir, FakeSweep(points));
}

absl::Status WriteDemoResults(const std::string& results_dir) {
  struct Task {
    const char* name;
    int seq_len;
    int steps;
  };
  const Task tasks[] = {{"listops", 2000, 5000},
                        {"text", 1000, 20000},
                        {"retrieval", 4000, 5000},
                        {"image", 1024, 35000},
                        {"pathfinder", 1024, 62400}};
  struct Model {
    const char* name;
    const char* attention;
    double accuracy[5];
  };
  const Model models[] = {
      {"transformer", "full", {0.371, 0.642, 0.581, 0.418, 0.713}},
      {"local", "local", {0.168, 0.531, 0.537, 0.405, 0.662}},
      {"linformer", "linformer", {0.352, 0.548, 0.529, 0.381, 0.748}},
      {"performer", "performer", {0.189, 0.651, 0.540, 0.425, 0.764}},
  };
  absl::Status status;
  for (const Model& model : models) {
    for (int t = 0; t < 5; ++t) {
      FakeRunSpec spec;
      spec.suite = "lra";
      spec.task_label = tasks[t].name;
      spec.task_name = tasks[t].name;
      spec.seq_len = tasks[t].seq_len;
      spec.steps = tasks[t].steps;
      spec.model = model.name;
      spec.attention = model.attention;
      spec.test_accuracy = model.accuracy[t];
      spec.train_name = "lra";
      if (std::string(model.name) == "performer" &&
          spec.task_label == "retrieval") {
        status = WriteFailedRun(
            results_dir, spec,
            "TrainRun: allocating the attention workspace for batch 32 x 2 "
            "documents x 4000 tokens: std::bad_alloc (out of memory)");
      } else if (std::string(model.name) == "linformer" &&
                 spec.task_label == "image") {
        status = WriteUnfinishedRun(results_dir, spec, 21000);
      } else if (std::string(model.name) == "transformer" &&
                 spec.task_label == "listops") {
        // Three seeds of one recipe: one cell with mean and std.
        const double offsets[] = {0.0, 0.012, -0.008};
        for (int s = 0; s < 3 && status.ok(); ++s) {
          spec.seed = s + 1;
          spec.train_name = absl::StrCat("s", s + 1);
          spec.test_accuracy = model.accuracy[t] + offsets[s];
          status = WriteFinishedRun(results_dir, spec, true);
        }
      } else {
        status = WriteFinishedRun(results_dir, spec);
      }
      if (!status.ok()) return status;
    }
  }
  FakeRunSpec smoke;
  smoke.suite = "smoke";
  smoke.task_label = "listops-short";
  smoke.seq_len = 64;
  smoke.steps = 3000;
  smoke.test_accuracy = 0.612;
  status = WriteFinishedRun(results_dir, smoke);
  if (!status.ok()) return status;

  std::vector<FakeBenchPoint> points;
  const int lengths[] = {1024, 2048, 3072, 4096, 8192, 16384};
  for (int i = 0; i < 6; ++i) {
    double k = lengths[i] / 1024.0;
    // Full attention: quadratic time and memory, over budget at 8K.
    if (i < 5) {
      points.push_back({"full", lengths[i], 95 * k + 30 * k * k,
                        180 + 40 * k + 55 * k * k, ""});
    } else {
      points.push_back({"full", lengths[i], 0, 0,
                        "skipped: over the 2 s step budget at 8192"});
    }
    points.push_back({"local", lengths[i], 88 * k + 4, 170 + 52 * k, ""});
    points.push_back({"linformer", lengths[i], 80 * k + 6, 165 + 47 * k, ""});
    if (i < 5) {
      points.push_back(
          {"performer", lengths[i], 120 * k + 10, 175 + 60 * k, ""});
    } else {
      points.push_back({"performer", lengths[i], 0, 0,
                        "killed by signal 9 (out of memory?)"});
    }
  }
  return WriteSweep(results_dir, FakeSweep(points));
}

std::vector<std::string> HostileNames() {
  return {"<img src=x onerror=alert(1)>",
          "\"quoted\"",
          "a|b",
          "</script>",
          "<svg onload=window.pwned=1>",
          "x<script>window.pwned=1</script>",
          "a,b & c&amp;"};
}

absl::Status WriteHostileNameResults(const std::string& results_dir) {
  const std::vector<std::string> names = HostileNames();
  for (size_t i = 0; i < names.size(); ++i) {
    FakeRunSpec spec;
    spec.suite = "hostile";
    spec.model = names[i];
    spec.test_accuracy = 0.3 + 0.01 * i;
    if (i == 0) spec.machine = names[0];
    absl::Status status =
        WriteFakeRun(results_dir, absl::StrCat("m", i), FakeRunResult(spec));
    if (!status.ok()) return status;
  }
  FakeRunSpec failing;
  failing.suite = "hostile";
  failing.model = "failing";
  failing.task_label = "text";
  failing.task_name = "text";
  RunResult failed;
  failed.set_suite(failing.suite);
  *failed.mutable_config() = FakeRunResult(failing).config();
  failed.set_status("failed");
  failed.set_error("loss is nan at step 3 <script>window.pwned=1</script>");
  return WriteFakeRun(results_dir, "failing", failed);
}

}  // namespace lra
