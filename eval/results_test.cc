#include "eval/results.h"

#include <cstdlib>
#include <string>

#include "config/text_proto.h"
#include "eval/test_fixtures.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

FakeRunSpec Spec(const std::string& suite, const std::string& label,
                 const std::string& model, double accuracy) {
  FakeRunSpec spec = lra::Spec(label, model, accuracy, "listops");
  spec.suite = suite;
  return spec;
}

// Two suites with a finished, a failed, an interrupted and an unreadable run,
// and a sweep.
std::string WriteMixedResults(const std::string& name) {
  const std::string dir = TestTmpPath(name);
  EXPECT_TRUE(
      WriteFinishedRun(dir, Spec("lra", "listops", "transformer", 0.3)).ok());
  EXPECT_TRUE(WriteFailedRun(dir, Spec("lra", "listops", "local", 0),
                             "TrainRun: out of memory at step 3")
                  .ok());
  EXPECT_TRUE(WriteUnfinishedRun(
                  dir, Spec("smoke", "listops-short", "linformer", 0.5), 400)
                  .ok());
  EXPECT_TRUE(MakeDirs(dir + "/lra/text/broken").ok());
  EXPECT_TRUE(
      WriteFileAtomic(dir + "/lra/text/broken/result.pbtxt", "test_acc: {")
          .ok());
  // A folder without run files is not a run.
  EXPECT_TRUE(MakeDirs(dir + "/lra/text/empty").ok());
  EXPECT_TRUE(WriteSweep(dir, FakeSweep({{"full", 1024, 100, 200, ""},
                                         {"local", 1024, 50, 100, ""}}))
                  .ok());
  return dir;
}

TEST(LoadResultsTest, ReadsEveryKindOfRunFolder) {
  const std::string dir = WriteMixedResults("mixed");
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->runs.size(), 4u);
  // Sorted by id.
  EXPECT_EQ(results->runs[0].Id(), "lra/listops/local");
  EXPECT_EQ(results->runs[1].Id(), "lra/listops/transformer");
  EXPECT_EQ(results->runs[2].Id(), "lra/text/broken");
  EXPECT_EQ(results->runs[3].Id(), "smoke/listops-short/linformer");

  const RunRecord& failed = results->runs[0];
  EXPECT_EQ(failed.state, RunState::kFailed);
  EXPECT_EQ(failed.error, "TrainRun: out of memory at step 3");
  EXPECT_EQ(failed.ModelName(), "local");

  const RunRecord& done = results->runs[1];
  EXPECT_EQ(done.state, RunState::kDone);
  EXPECT_FLOAT_EQ(done.result.test_accuracy(), 0.3f);
  EXPECT_EQ(done.result.eval_size(), 10);

  const RunRecord& broken = results->runs[2];
  EXPECT_EQ(broken.state, RunState::kFailed);
  EXPECT_NE(broken.error.find("unreadable result"), std::string::npos)
      << broken.error;

  const RunRecord& unfinished = results->runs[3];
  EXPECT_EQ(unfinished.state, RunState::kUnfinished);
  EXPECT_EQ(unfinished.result.eval_size(), 4);  // Steps 100..400.
  EXPECT_EQ(unfinished.ModelName(), "linformer");

  ASSERT_EQ(results->sweeps.size(), 1u);
  EXPECT_EQ(results->sweeps[0].sweep.point_size(), 2);
}

// Found by results_fuzz: one unreadable sweep file used to fail the whole
// folder, hiding every run.
TEST(LoadResultsTest, UnreadableSweepKeepsTheRuns) {
  const std::string dir = WriteMixedResults("bad-sweep");
  ASSERT_TRUE(
      WriteFileAtomic(dir + "/bench/sweep_b.pbtxt", "point { seq_len: ").ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(results->runs.size(), 4u);
  ASSERT_EQ(results->sweeps.size(), 2u);
  EXPECT_TRUE(results->sweeps[0].error.empty());
  EXPECT_EQ(results->sweeps[0].sweep.point_size(), 2);
  EXPECT_NE(results->sweeps[1].path.find("sweep_b.pbtxt"), std::string::npos);
  EXPECT_FALSE(results->sweeps[1].error.empty());
  EXPECT_EQ(results->sweeps[1].sweep.point_size(), 0);
}

TEST(LoadResultsTest, MissingFolderIsNotFound) {
  absl::StatusOr<ResultSet> results =
      LoadResults(TestTmpPath("does-not-exist"));
  EXPECT_TRUE(absl::IsNotFound(results.status())) << results.status();
}

TEST(LoadResultsTest, ResultWinsOverAnOlderFailure) {
  const std::string dir = TestTmpPath("both");
  FakeRunSpec spec = Spec("lra", "listops", "transformer", 0.3);
  ASSERT_TRUE(WriteFailedRun(dir, spec, "old failure").ok());
  ASSERT_TRUE(WriteFinishedRun(dir, spec).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->runs.size(), 1u);
  EXPECT_EQ(results->runs[0].state, RunState::kDone);
}

TEST(LoadResultsTest, ModelNameFromFolderWithoutConfig) {
  RunRecord record;
  record.run_folder = "transformer.s2";
  EXPECT_EQ(record.ModelName(), "transformer");
  record.run_folder = "local";
  EXPECT_EQ(record.ModelName(), "local");
}

TEST(ParseMetricsCsvTest, SkipsHeaderAndMalformedLines) {
  std::vector<EvalPoint> points = ParseMetricsCsv(
      "step,train_loss,train_accuracy,val_loss,val_accuracy,wall_seconds\n"
      "100,2.0,0.2,2.1,0.25,10.5\n"
      "garbage\n"
      "200,1.5,0.3,1.6,0.35,21.0\n");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[1].step(), 200);
  EXPECT_FLOAT_EQ(points[1].val_accuracy(), 0.35f);
  EXPECT_DOUBLE_EQ(points[0].wall_seconds(), 10.5);
}

TEST(FilterResultsTest, BySuiteTaskAndModel) {
  absl::StatusOr<ResultSet> all = LoadResults(WriteMixedResults("filter"));
  ASSERT_TRUE(all.ok());

  ResultFilter by_suite;
  by_suite.suites = {"smoke"};
  absl::StatusOr<ResultSet> smoke = FilterResults(*all, by_suite);
  ASSERT_TRUE(smoke.ok()) << smoke.status();
  ASSERT_EQ(smoke->runs.size(), 1u);
  EXPECT_EQ(smoke->runs[0].suite, "smoke");
  EXPECT_EQ(smoke->sweeps.size(), 1u);  // Sweeps are not in suites.

  // A task filter matches the label or the task's name.
  ResultFilter by_task;
  by_task.tasks = {"listops"};
  absl::StatusOr<ResultSet> listops = FilterResults(*all, by_task);
  ASSERT_TRUE(listops.ok()) << listops.status();
  EXPECT_EQ(listops->runs.size(), 2u);  // The unfinished run has no config.

  // A model filter matches the model name or the attention variant, and
  // keeps the sweep's matching variants only.
  ResultFilter by_model;
  by_model.models = {"full"};
  absl::StatusOr<ResultSet> full = FilterResults(*all, by_model);
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_EQ(full->runs.size(), 1u);
  EXPECT_EQ(full->runs[0].ModelName(), "transformer");
  ASSERT_EQ(full->sweeps.size(), 1u);
  ASSERT_EQ(full->sweeps[0].sweep.point_size(), 1);
  EXPECT_EQ(full->sweeps[0].sweep.point(0).variant(), "full");
}

// --models matches a run's token mixer and sequence handler too, and keeps
// the sweep's rows of the names it kept.
TEST(FilterResultsTest, ModelsMatchTheMixerAndTheSequenceHandler) {
  const std::string dir = TestTmpPath("filter_plugins");
  RunResult rmt = FakeRunResult(Spec("lra", "listops", "rmt-listops", 0.3));
  rmt.mutable_config()->mutable_model()->mutable_attention()->set_name("full");
  rmt.mutable_config()->mutable_model()->mutable_sequence()->set_name("rmt");
  ASSERT_TRUE(WriteFakeRun(dir, "rmt-listops", rmt).ok());
  RunResult isab = FakeRunResult(Spec("lra", "listops", "isab-listops", 0.3));
  isab.mutable_config()->mutable_model()->clear_attention();
  isab.mutable_config()->mutable_model()->mutable_mixer()->set_name("isab");
  ASSERT_TRUE(WriteFakeRun(dir, "isab-listops", isab).ok());
  ASSERT_TRUE(
      WriteFinishedRun(dir, Spec("lra", "listops", "transformer", 0.3)).ok());
  ASSERT_TRUE(WriteSweep(dir, FakeSweep({{"full", 1024, 100, 200, ""},
                                         {"rmt", 1024, 50, 100, ""},
                                         {"isab", 1024, 40, 90, ""},
                                         {"local", 1024, 40, 90, ""}}))
                  .ok());
  absl::StatusOr<ResultSet> all = LoadResults(dir);
  ASSERT_TRUE(all.ok()) << all.status();

  auto variants = [](const ResultSet& set) {
    std::vector<std::string> names;
    for (const BenchPoint& point : set.sweeps.at(0).sweep.point()) {
      names.push_back(point.variant());
    }
    return names;
  };
  ResultFilter by_handler;
  by_handler.models = {"rmt"};
  absl::StatusOr<ResultSet> handler = FilterResults(*all, by_handler);
  ASSERT_TRUE(handler.ok()) << handler.status();
  ASSERT_EQ(handler->runs.size(), 1u);
  EXPECT_EQ(handler->runs[0].ModelName(), "rmt-listops");
  ASSERT_EQ(handler->sweeps.size(), 1u);
  // rmt's row and that of the attention it ran.
  EXPECT_EQ(variants(*handler), (std::vector<std::string>{"full", "rmt"}));

  ResultFilter by_mixer;
  by_mixer.models = {"isab"};
  absl::StatusOr<ResultSet> mixer = FilterResults(*all, by_mixer);
  ASSERT_TRUE(mixer.ok()) << mixer.status();
  ASSERT_EQ(mixer->runs.size(), 1u);
  EXPECT_EQ(mixer->runs[0].ModelName(), "isab-listops");
  EXPECT_EQ(variants(*mixer), (std::vector<std::string>{"isab"}));
}

TEST(FilterResultsTest, AValueThatMatchesNothingIsAnError) {
  absl::StatusOr<ResultSet> all = LoadResults(WriteMixedResults("typo"));
  ASSERT_TRUE(all.ok());
  ResultFilter filter;
  filter.models = {"transfromer"};
  absl::StatusOr<ResultSet> none = FilterResults(*all, filter);
  ASSERT_TRUE(absl::IsNotFound(none.status())) << none.status();
  EXPECT_NE(none.status().message().find("--models=transfromer"),
            std::string::npos);
  EXPECT_NE(none.status().message().find("transformer"), std::string::npos);
}

TEST(ConfigDifferencesTest, NamesLeafFields) {
  RunConfig a = FakeRunResult(FakeRunSpec()).config();
  RunConfig b = a;
  EXPECT_TRUE(ConfigDifferences(a, b).empty());
  b.mutable_train()->set_learning_rate(0.001f);
  b.mutable_model()->mutable_attention()->set_name("local");
  std::vector<std::string> differences = ConfigDifferences(a, b);
  ASSERT_EQ(differences.size(), 2u);
  EXPECT_EQ(differences[0], "model.attention.name=local");
  EXPECT_EQ(differences[1], "train.learning_rate=0.001");
}

}  // namespace
}  // namespace lra
