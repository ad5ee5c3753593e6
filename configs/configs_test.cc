// Validates every checked-in config as `lra run` (and `lra bench`) would:
// suites whole; tasks against the task registry; models against the
// attention registry (and against their task where the file name says
// "<model>-<task>"); training recipes field by field. The fixtures in
// configs/testdata prove that each check can fail.
#include <dirent.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "config/text_proto.h"
#include "config/validation.h"
#include "gtest/gtest.h"
#include "lra/validate.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

std::vector<std::string> Pbtxt(const std::string& folder) {
  std::vector<std::string> files;
  DIR* dir = opendir((TestWorkspace() + "/configs/" + folder).c_str());
  if (dir == nullptr) return files;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (absl::EndsWith(name, ".pbtxt")) {
      files.push_back("configs/" + folder + "/" + name);
    }
  }
  closedir(dir);
  return files;
}

template <typename Message>
absl::Status Load(const std::string& file, Message* message,
                  ConfigOrigin* origin) {
  origin->source = std::make_shared<ConfigSource>();
  return LoadTextProto(TestWorkspace() + "/" + file, message,
                       origin->source.get());
}

absl::Status ValidateTaskFile(const std::string& file) {
  TaskConfig task;
  ConfigOrigin origin;
  absl::Status status = Load(file, &task, &origin);
  if (!status.ok()) return status;
  return ResolveAndValidateTask(&task, origin);
}

absl::Status ValidateTrainFile(const std::string& file) {
  TrainConfig train;
  ConfigOrigin origin;
  absl::Status status = Load(file, &train, &origin);
  if (!status.ok()) return status;
  ResolveTrainDefaults(&train);
  return ValidateTrain(train, origin);
}

// "configs/models/bigbird-listops.pbtxt" is checked against
// configs/tasks/listops.pbtxt; a name with no task file after its last dash
// (bench.pbtxt, quick.pbtxt, s4d-quick.pbtxt) is checked without a task.
absl::Status ValidateModelFile(const std::string& file) {
  ModelConfig model;
  ConfigOrigin origin;
  absl::Status status = Load(file, &model, &origin);
  if (!status.ok()) return status;
  const std::string base = file.substr(file.rfind('/') + 1);
  const size_t dash = base.rfind('-');
  const std::string task_file =
      dash == std::string::npos
          ? std::string()
          : "configs/tasks/" + base.substr(dash + 1);  // "listops.pbtxt"
  if (task_file.empty() || !std::ifstream(task_file).good()) {
    return ResolveAndValidateModelWithoutTask(&model, origin);
  }
  TaskConfig task;
  ConfigOrigin task_origin;
  status = Load(task_file, &task, &task_origin);
  if (!status.ok()) return status;
  status = ResolveAndValidateTask(&task, task_origin);
  if (!status.ok()) return status;
  return ResolveAndValidateModel(&model, task, origin);
}

TEST(ConfigsTest, EverySuiteLoadsAndValidates) {
  std::vector<std::string> suites = Pbtxt("suites");
  ASSERT_GE(suites.size(), 2u);
  for (const std::string& file : suites) {
    absl::StatusOr<Suite> suite =
        LoadSuite(TestWorkspace() + "/" + file, TestWorkspace());
    EXPECT_TRUE(suite.ok()) << file << ": " << suite.status();
    if (suite.ok()) {
      EXPECT_FALSE(suite->runs.empty()) << file;
    }
  }
}

TEST(ConfigsTest, EveryModelValidatesAgainstTheRegistry) {
  std::vector<std::string> models = Pbtxt("models");
  ASSERT_GE(models.size(), 3u);
  bool saw_bench = false;
  for (const std::string& file : models) {
    EXPECT_TRUE(ValidateModelFile(file).ok())
        << file << ": " << ValidateModelFile(file);
    saw_bench |= absl::EndsWith(file, "/bench.pbtxt");
  }
  EXPECT_TRUE(saw_bench);
}

TEST(ConfigsTest, EveryTaskValidatesAgainstTheTaskRegistry) {
  std::vector<std::string> tasks = Pbtxt("tasks");
  ASSERT_GE(tasks.size(), 6u);
  for (const std::string& file : tasks) {
    EXPECT_TRUE(ValidateTaskFile(file).ok())
        << file << ": " << ValidateTaskFile(file);
  }
}

TEST(ConfigsTest, EveryTrainRecipeValidates) {
  std::vector<std::string> trains = Pbtxt("train");
  ASSERT_GE(trains.size(), 6u);
  for (const std::string& file : trains) {
    EXPECT_TRUE(ValidateTrainFile(file).ok())
        << file << ": " << ValidateTrainFile(file);
  }
}

// quick-ssm.pbtxt is the quick suite with the state-space mixers in place of
// attention: every grid's tasks and training must stay those of quick.pbtxt,
// so the two suites' columns compare models on one budget.
TEST(ConfigsTest, QuickSsmSuiteKeepsTheQuickSuitesTasksAndBudgets) {
  SuiteConfig quick, ssm;
  ConfigOrigin quick_origin, ssm_origin;
  ASSERT_TRUE(Load("configs/suites/quick.pbtxt", &quick, &quick_origin).ok());
  ASSERT_TRUE(Load("configs/suites/quick-ssm.pbtxt", &ssm, &ssm_origin).ok());
  ASSERT_EQ(quick.grid_size(), ssm.grid_size());
  for (int i = 0; i < quick.grid_size(); ++i) {
    RunGrid a = quick.grid(i), b = ssm.grid(i);
    // Where the quick suite gives full attention the pixel input layers
    // (quick-pixels.pbtxt), the mixers get the same (-pixels files).
    ASSERT_EQ(a.model_file_size(), 1) << "grid " << i;
    const std::string suffix =
        a.model_file(0) == "configs/models/quick-pixels.pbtxt" ? "-pixels"
                                                                : "";
    EXPECT_EQ(b.model_file_size(), 2) << "grid " << i;
    for (const std::string& file : b.model_file()) {
      EXPECT_TRUE(file == "configs/models/s4d-quick" + suffix + ".pbtxt" ||
                  file == "configs/models/lru-quick" + suffix + ".pbtxt")
          << "grid " << i << ": " << file;
    }
    a.clear_model_file();
    b.clear_model_file();
    EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString())
        << "grid " << i << " of quick-ssm.pbtxt differs from quick.pbtxt";
  }
}

// The checks above can fail: each bad fixture is refused with its file, line
// and what is wrong.
void ExpectRefused(const absl::Status& status, const std::string& where,
                   const std::string& what) {
  ASSERT_FALSE(status.ok()) << where;
  EXPECT_NE(status.message().find(where), std::string::npos) << status;
  EXPECT_NE(status.message().find(what), std::string::npos) << status;
}

TEST(ConfigsTest, BadFixturesAreRefused) {
  ExpectRefused(ValidateModelFile("configs/testdata/bad_attention_model.pbtxt"),
                "bad_attention_model.pbtxt:", "no_such_variant");
  ExpectRefused(ValidateModelFile("configs/testdata/bad_param_model.pbtxt"),
                "bad_param_model.pbtxt:", "window");
  ExpectRefused(ValidateTaskFile("configs/testdata/bad_task.pbtxt"),
                "bad_task.pbtxt", "listopz");
  ExpectRefused(ValidateTrainFile("configs/testdata/bad_train.pbtxt"),
                "bad_train.pbtxt:2: batch_size", "batch_size = 0");
}

TEST(ConfigsTest, LraListOpsSuiteMatchesTheReleasedConfiguration) {
  absl::StatusOr<Suite> suite = LoadSuite(
      TestWorkspace() + "/configs/suites/lra-listops.pbtxt", TestWorkspace());
  ASSERT_TRUE(suite.ok()) << suite.status();
  ASSERT_EQ(suite->runs.size(), 1u);
  const RunConfig& run = suite->runs[0].config;
  EXPECT_EQ(run.task().seq_len(), 2000);
  EXPECT_EQ(run.task().train_size(), 96000);
  EXPECT_EQ(run.model().num_layers(), 4);
  EXPECT_EQ(run.model().d_model(), 512);
  EXPECT_EQ(run.model().num_heads(), 8);
  EXPECT_EQ(run.model().mlp_dim(), 1024);
  EXPECT_EQ(run.model().pooling(), POOLING_CLS);
  EXPECT_EQ(run.train().batch_size(), 32);
  EXPECT_EQ(run.train().steps(), 5000);
  EXPECT_FLOAT_EQ(run.train().learning_rate(), 0.05f);
  EXPECT_EQ(run.train().schedule(), SCHEDULE_RSQRT);
  EXPECT_EQ(run.train().warmup_steps(), 1000);
  EXPECT_FLOAT_EQ(run.train().weight_decay(), 0.1f);
}

}  // namespace
}  // namespace lra
