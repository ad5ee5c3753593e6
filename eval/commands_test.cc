#include "eval/commands.h"

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "config/text_proto.h"
#include "eval/test_fixtures.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

std::string Demo() {
  static const std::string* dir = [] {
    auto* path = new std::string(TestTmpPath("demo"));
    EXPECT_TRUE(WriteDemoResults(*path).ok());
    return path;
  }();
  return *dir;
}

TEST(LeaderboardCommandTest, EveryFormat) {
  LeaderboardOptions options;
  options.results_dir = Demo();
  options.format = "md";
  absl::StatusOr<std::string> md = RenderLeaderboard(options);
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_TRUE(absl::StartsWith(*md, "# Leaderboard"));
  options.format = "csv";
  absl::StatusOr<std::string> csv = RenderLeaderboard(options);
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_TRUE(absl::StartsWith(*csv, "table,source,row,"));
  options.format = "html";
  absl::StatusOr<std::string> html = RenderLeaderboard(options);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_TRUE(absl::StartsWith(*html, "<!DOCTYPE html>"));
}

TEST(LeaderboardCommandTest, WritesTheOutFile) {
  LeaderboardOptions options;
  options.results_dir = Demo();
  options.format = "html";
  options.out = TestTmpPath("out/report.html");
  ASSERT_TRUE(MakeDirs(TestTmpPath("out")).ok());
  ASSERT_TRUE(LeaderboardCommand(options).ok());
  std::string written;
  ASSERT_TRUE(ReadFile(options.out, &written).ok());
  EXPECT_NE(written.find("<svg class=\"chart\""), std::string::npos);
}

TEST(LeaderboardCommandTest, FiltersSelectColumnsAndRows) {
  LeaderboardOptions options;
  options.results_dir = Demo();
  options.tasks = {"text", "image"};
  options.models = {"transformer", "local"};
  absl::StatusOr<std::string> md = RenderLeaderboard(options);
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_NE(md->find("| Model | Text | Image | Avg |"), std::string::npos)
      << *md;
  EXPECT_NE(md->find("| transformer |"), std::string::npos);
  EXPECT_EQ(md->find("| performer |"), std::string::npos);
  // The sweep keeps the filtered models' variants (full, local).
  EXPECT_NE(md->find("| full |"), std::string::npos);
  EXPECT_EQ(md->find("| linformer |"), std::string::npos);

  options.suites = {"smoke"};
  options.tasks = {};
  options.models = {};
  md = RenderLeaderboard(options);
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_NE(md->find("| Model | listops-short | Avg |"), std::string::npos)
      << *md;
}

TEST(LeaderboardCommandTest, ClearErrors) {
  LeaderboardOptions options;
  options.results_dir = Demo();
  options.format = "pdf";
  absl::Status status = RenderLeaderboard(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("allowed: md, csv, html"), std::string::npos);

  options.format = "md";
  options.suites = {"nope"};
  status = RenderLeaderboard(options).status();
  EXPECT_TRUE(absl::IsNotFound(status));
  EXPECT_NE(status.message().find("present: lra, smoke"), std::string::npos)
      << status;

  options.suites = {};
  options.results_dir = TestTmpPath("missing");
  status = RenderLeaderboard(options).status();
  EXPECT_TRUE(absl::IsNotFound(status));

  ASSERT_TRUE(MakeDirs(TestTmpPath("empty")).ok());
  options.results_dir = TestTmpPath("empty");
  status = RenderLeaderboard(options).status();
  EXPECT_TRUE(absl::IsNotFound(status));
  EXPECT_NE(status.message().find("no results under"), std::string::npos);
}

// The suite as written, with run ids: enough for a status of no results.
absl::StatusOr<Suite> ExpandedSuite(const std::string& path,
                                    const std::string& workspace) {
  absl::StatusOr<Suite> suite = ExpandSuite(path, workspace);
  if (!suite.ok()) return suite;
  absl::Status status = AssignRunIds(&*suite);
  if (!status.ok()) return status;
  return suite;
}

TEST(StatusCommandTest, NeedsASuite) {
  StatusOptions options;
  options.results_dir = Demo();
  absl::Status status = SuiteStatusText(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("--suite"), std::string::npos);
}

TEST(StatusCommandTest, RelativePathsAgainstTheWorkspace) {
  const std::string workspace = TestTmpPath("workspace");
  ASSERT_TRUE(MakeDirs(workspace + "/configs").ok());
  ASSERT_TRUE(WriteFileAtomic(workspace + "/configs/s.pbtxt", R"pb(
                name: "s"
                run {
                  task {
                    name: "listops"
                    seq_len: 32
                    train_size: 10
                    val_size: 10
                    test_size: 10
                    listops {
                      max_depth: 2
                      min_args: 2
                      max_args: 3
                      operator_prob: 0.25
                      min_length: 4
                      max_length: 32
                    }
                  }
                  model {
                    name: "m"
                    d_model: 8
                    num_layers: 1
                    num_heads: 1
                    qkv_dim: 8
                    mlp_dim: 8
                    attention { name: "full" }
                  }
                  train { batch_size: 2 steps: 2 learning_rate: 0.01 }
                }
              )pb")
                  .ok());
  StatusOptions options;
  options.results_dir = "results";
  options.suite_path = "configs/s.pbtxt";
  options.workspace_dir = workspace;
  options.load_suite = ExpandedSuite;
  absl::StatusOr<std::string> text = SuiteStatusText(options);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("suite s: 1 runs planned, 0 done"), std::string::npos)
      << *text;
  EXPECT_NE(text->find(workspace + "/results/s"), std::string::npos) << *text;
  EXPECT_NE(text->find("missing      listops/m"), std::string::npos) << *text;
}

}  // namespace
}  // namespace lra
