#include "lra/suite.h"

#include <string>

#include "gtest/gtest.h"

namespace lra {
namespace {

std::string Workspace() {
  return std::string(std::getenv("TEST_SRCDIR")) + "/lra_harness";
}

absl::StatusOr<Suite> Load(const std::string& name) {
  return LoadSuite(Workspace() + "/lra/testdata/" + name, Workspace());
}

TEST(SuiteTest, ExpandsGridWithFilesAndInlineConfigs) {
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

TEST(SuiteTest, NegativeBatchNamesFileLineAndField) {
  absl::StatusOr<Suite> suite = Load("bad_batch_suite.pbtxt");
  ASSERT_FALSE(suite.ok());
  std::string message(suite.status().message());
  EXPECT_NE(message.find("bad_batch_suite.pbtxt:8"), std::string::npos)
      << message;
  EXPECT_NE(message.find("batch_size = -3"), std::string::npos) << message;
  EXPECT_NE(message.find("allowed: an integer > 0"), std::string::npos)
      << message;
}

TEST(SuiteTest, UnknownAttentionListsRegisteredNames) {
  absl::StatusOr<Suite> suite = Load("bad_attention_suite.pbtxt");
  ASSERT_FALSE(suite.ok());
  std::string message(suite.status().message());
  EXPECT_NE(message.find("bad_attention_suite.pbtxt:"), std::string::npos)
      << message;
  EXPECT_NE(message.find("no_such_attention"), std::string::npos) << message;
  EXPECT_NE(message.find("full"), std::string::npos) << message;
}

TEST(SuiteTest, MissingModelFileNamesTheFieldAndPath) {
  absl::StatusOr<Suite> suite = Load("missing_file_suite.pbtxt");
  ASSERT_FALSE(suite.ok());
  EXPECT_EQ(suite.status().code(), absl::StatusCode::kNotFound);
  std::string message(suite.status().message());
  EXPECT_NE(message.find("missing_file_suite.pbtxt:4"), std::string::npos)
      << message;
  EXPECT_NE(message.find("no_such_model.pbtxt"), std::string::npos) << message;
}

TEST(SuiteTest, UnknownTaskNamesTheTaskAndAllowedNames) {
  absl::StatusOr<Suite> suite = Load("bad_task_suite.pbtxt");
  ASSERT_FALSE(suite.ok());
  std::string message(suite.status().message());
  EXPECT_NE(message.find("bad_task_suite.pbtxt:3"), std::string::npos)
      << message;
  EXPECT_NE(message.find("listopz"), std::string::npos) << message;
  EXPECT_NE(message.find("listops"), std::string::npos) << message;
}

TEST(SuiteTest, ShardsPartitionTheRuns) {
  absl::StatusOr<Suite> suite = Load("tiny_suite.pbtxt");
  ASSERT_TRUE(suite.ok());
  auto a = ShardRuns(suite->runs, 0, 2), b = ShardRuns(suite->runs, 1, 2);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].id, "listops/wide");
  EXPECT_EQ(b[0].id, "listops/tiny");
}

}  // namespace
}  // namespace lra
