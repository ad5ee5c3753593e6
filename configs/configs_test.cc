// Loads and validates every checked-in config, so a typo in a .pbtxt fails CI
// rather than a user's run.
#include <dirent.h>

#include <string>
#include <vector>

#include "config/test_paths.h"
#include "config/text_proto.h"
#include "gtest/gtest.h"
#include "lra/validate.h"
#include "models/encoder.h"

namespace lra {
namespace {

std::vector<std::string> Pbtxt(const std::string& folder) {
  std::vector<std::string> files;
  DIR* dir = opendir((TestWorkspace() + "/configs/" + folder).c_str());
  if (dir == nullptr) return files;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.size() > 6 && name.substr(name.size() - 6) == ".pbtxt") {
      files.push_back("configs/" + folder + "/" + name);
    }
  }
  closedir(dir);
  return files;
}

TEST(ConfigsTest, EverySuiteLoadsAndValidates) {
  std::vector<std::string> suites = Pbtxt("suites");
  ASSERT_GE(suites.size(), 2u);
  for (const std::string& file : suites) {
    absl::StatusOr<Suite> suite =
        LoadSuite(TestWorkspace() + "/" + file, TestWorkspace());
    EXPECT_TRUE(suite.ok()) << file << ": " << suite.status();
    if (suite.ok()) EXPECT_FALSE(suite->runs.empty()) << file;
  }
}

TEST(ConfigsTest, EveryModelTaskAndTrainFileParses) {
  int count = 0;
  for (const std::string& file : Pbtxt("models")) {
    ModelConfig model;
    absl::Status status = LoadTextProto(TestWorkspace() + "/" + file, &model);
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_TRUE(ResolveModelDefaults(&model).ok()) << file;
    ++count;
  }
  for (const std::string& file : Pbtxt("tasks")) {
    TaskConfig task;
    EXPECT_TRUE(LoadTextProto(TestWorkspace() + "/" + file, &task).ok())
        << file;
    ++count;
  }
  for (const std::string& file : Pbtxt("train")) {
    TrainConfig train;
    EXPECT_TRUE(LoadTextProto(TestWorkspace() + "/" + file, &train).ok())
        << file;
    ++count;
  }
  EXPECT_GE(count, 4);
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
