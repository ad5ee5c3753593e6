#include "lra/validate.h"

#include <string>

#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

absl::StatusOr<Suite> Load(const std::string& name) {
  return LoadSuite(TestWorkspace() + "/lra/testdata/" + name, TestWorkspace());
}

TEST(LoadSuiteTest, ExpandsGridWithFilesAndInlineConfigs) {
  absl::StatusOr<Suite> suite = Load("tiny_suite.pbtxt");
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(suite->name, "tiny");
  ASSERT_EQ(suite->runs.size(), 2u);
  // Inline configs come before files, each in the order written.
  EXPECT_EQ(suite->runs[0].id, "listops/wide");
  EXPECT_EQ(suite->runs[1].id, "listops/tiny");
  const RunConfig& run = suite->runs[1].config;
  // Defaults filled from the task and the train defaults.
  EXPECT_EQ(run.model().vocab_size(), 16);
  EXPECT_EQ(run.model().num_classes(), 10);
  EXPECT_EQ(run.train().schedule(), SCHEDULE_CONSTANT);
  EXPECT_FLOAT_EQ(run.train().beta2(), 0.98f);
  EXPECT_EQ(run.task().label(), "listops");
}

TEST(LoadSuiteTest, NegativeBatchNamesFileLineAndField) {
  absl::StatusOr<Suite> suite = Load("bad_batch_suite.pbtxt");
  ASSERT_FALSE(suite.ok());
  std::string message(suite.status().message());
  EXPECT_NE(message.find("bad_batch_suite.pbtxt:8"), std::string::npos)
      << message;
  EXPECT_NE(message.find("batch_size = -3"), std::string::npos) << message;
  EXPECT_NE(message.find("allowed: an integer > 0"), std::string::npos)
      << message;
}

TEST(LoadSuiteTest, UnknownAttentionListsRegisteredNames) {
  absl::StatusOr<Suite> suite = Load("bad_attention_suite.pbtxt");
  ASSERT_FALSE(suite.ok());
  std::string message(suite.status().message());
  EXPECT_NE(message.find("bad_attention_suite.pbtxt:"), std::string::npos)
      << message;
  EXPECT_NE(message.find("no_such_attention"), std::string::npos) << message;
  EXPECT_NE(message.find("full"), std::string::npos) << message;
}

TEST(LoadSuiteTest, UnknownTaskNamesTheTaskAndAllowedNames) {
  absl::StatusOr<Suite> suite = Load("bad_task_suite.pbtxt");
  ASSERT_FALSE(suite.ok());
  std::string message(suite.status().message());
  EXPECT_NE(message.find("bad_task_suite.pbtxt:3"), std::string::npos)
      << message;
  EXPECT_NE(message.find("listopz"), std::string::npos) << message;
  EXPECT_NE(message.find("listops"), std::string::npos) << message;
}

}  // namespace
}  // namespace lra
