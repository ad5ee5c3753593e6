#include "config/suite.h"

#include <string>

#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

absl::StatusOr<Suite> Expand(const std::string& name) {
  return ExpandSuite(TestWorkspace() + "/lra/testdata/" + name,
                     TestWorkspace());
}

TEST(ExpandSuiteTest, InlineConfigsComeBeforeFilesWithoutDefaults) {
  absl::StatusOr<Suite> suite = Expand("tiny_suite.pbtxt");
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(suite->name, "tiny");
  ASSERT_EQ(suite->runs.size(), 2u);
  EXPECT_EQ(suite->runs[0].config.model().name(), "wide");
  EXPECT_EQ(suite->runs[1].config.model().name(), "tiny");
  // Expansion fills nothing in: that is //lra:validate's job.
  EXPECT_EQ(suite->runs[1].config.model().vocab_size(), 0);
  EXPECT_EQ(suite->runs[1].config.train().schedule(), SCHEDULE_UNSPECIFIED);
  EXPECT_TRUE(suite->runs[0].id.empty());
}

TEST(ExpandSuiteTest, MissingModelFileNamesTheFieldAndPath) {
  absl::StatusOr<Suite> suite = Expand("missing_file_suite.pbtxt");
  ASSERT_FALSE(suite.ok());
  EXPECT_EQ(suite.status().code(), absl::StatusCode::kNotFound);
  std::string message(suite.status().message());
  EXPECT_NE(message.find("missing_file_suite.pbtxt:4"), std::string::npos)
      << message;
  EXPECT_NE(message.find("no_such_model.pbtxt"), std::string::npos) << message;
}

TEST(ExpandSuiteTest, ReservedSuiteNameIsRefused) {
  const std::string dir = MakeTestTmpDir("reserved");
  ASSERT_TRUE(WriteFileAtomic(dir + "/s.pbtxt", "name: \"bench\"\n").ok());
  absl::StatusOr<Suite> suite = ExpandSuite(dir + "/s.pbtxt", dir);
  ASSERT_FALSE(suite.ok());
  EXPECT_NE(suite.status().message().find("reserved for bench sweeps"),
            std::string::npos)
      << suite.status();
}

TEST(ExpandSuiteTest, SuiteNameWithSlashIsRefusedNamingFileAndField) {
  const std::string dir = MakeTestTmpDir("slash");
  ASSERT_TRUE(WriteFileAtomic(dir + "/s.pbtxt", "name: \"../up\"\n").ok());
  absl::StatusOr<Suite> suite = ExpandSuite(dir + "/s.pbtxt", dir);
  ASSERT_FALSE(suite.ok());
  const std::string message(suite.status().message());
  EXPECT_NE(message.find("s.pbtxt:1: name = \"../up\": allowed: 1 to 100 "
                         "characters from A-Z a-z 0-9 . _ + -"),
            std::string::npos)
      << message;
}

PlannedRun MakeRun(const std::string& task, const std::string& model,
                   const std::string& train) {
  PlannedRun run;
  run.config.mutable_task()->set_name(task);
  run.config.mutable_model()->set_name(model);
  run.config.mutable_train()->set_name(train);
  return run;
}

TEST(AssignRunIdsTest, TrainNameOnlyWhereARecipeRepeats) {
  Suite suite;
  suite.name = "s";
  suite.runs = {MakeRun("listops", "a", "x"), MakeRun("listops", "b", "x"),
                MakeRun("listops", "b", "")};
  ASSERT_TRUE(AssignRunIds(&suite).ok());
  EXPECT_EQ(suite.runs[0].id, "listops/a");
  EXPECT_EQ(suite.runs[1].id, "listops/b.x");
  EXPECT_EQ(suite.runs[2].id, "listops/b.default");
}

TEST(AssignRunIdsTest, UnnamedModelTakesItsAttentionName) {
  Suite suite;
  suite.name = "s";
  suite.runs = {MakeRun("text", "", "")};
  suite.runs[0].config.mutable_model()->mutable_attention()->set_name("local");
  suite.runs[0].config.mutable_task()->set_label("text-4k");
  ASSERT_TRUE(AssignRunIds(&suite).ok());
  EXPECT_EQ(suite.runs[0].id, "text-4k/local");
}

TEST(AssignRunIdsTest, TwoRunsInOneFolderAreAnError) {
  Suite suite;
  suite.name = "s";
  suite.runs = {MakeRun("listops", "a", "x"), MakeRun("listops", "a", "x")};
  absl::Status status = AssignRunIds(&suite);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("would both write listops/a.x"),
            std::string::npos)
      << status;
}

TEST(ShardRunsTest, ShardsPartitionTheRuns) {
  std::vector<PlannedRun> runs = {MakeRun("t", "a", ""), MakeRun("t", "b", ""),
                                  MakeRun("t", "c", "")};
  auto a = ShardRuns(runs, 0, 2), b = ShardRuns(runs, 1, 2);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].config.model().name(), "a");
  EXPECT_EQ(a[1].config.model().name(), "c");
  EXPECT_EQ(b[0].config.model().name(), "b");
}

// Suites built in code skip validation; their folders are checked anyway.
TEST(AssignRunIdsTest, NamesThatLeaveTheResultsFolderAreRefused) {
  for (const PlannedRun& run :
       {MakeRun("listops", "../../../escaped", "default"),
        MakeRun("..", "tiny", "default"), MakeRun("listops", "tiny", "a/b"),
        MakeRun("listops", "", "default")}) {
    Suite suite;
    suite.name = "s";
    suite.runs = {run, MakeRun("listops", "other", "x")};
    // An empty model name falls back to "transformer": only the others fail.
    const bool expect_ok = run.config.model().name().empty();
    EXPECT_EQ(AssignRunIds(&suite).ok(), expect_ok)
        << run.config.ShortDebugString();
  }
  Suite suite;
  suite.name = "..";
  suite.runs = {MakeRun("listops", "tiny", "default")};
  EXPECT_FALSE(AssignRunIds(&suite).ok());
}

}  // namespace
}  // namespace lra
