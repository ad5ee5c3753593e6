#include "eval/status.h"

#include <cstdlib>
#include <string>

#include "config/suite.h"
#include "config/text_proto.h"
#include "eval/test_fixtures.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

// Three models by two seeds: six planned runs.
constexpr char kSuite[] = R"pb(
  name: "st"
  grid {
    task {
      name: "listops"
      seq_len: 64
      train_size: 100
      val_size: 10
      test_size: 10
      listops {
        max_depth: 3
        min_args: 2
        max_args: 5
        operator_prob: 0.25
        min_length: 8
        max_length: 64
      }
    }
    model {
      name: "transformer"
      d_model: 16
      num_layers: 1
      num_heads: 2
      qkv_dim: 16
      mlp_dim: 32
      attention { name: "full" }
    }
    model {
      name: "small"
      d_model: 8
      num_layers: 1
      num_heads: 2
      qkv_dim: 8
      mlp_dim: 16
      attention { name: "full" }
    }
    model {
      name: "tiny"
      d_model: 8
      num_layers: 1
      num_heads: 1
      qkv_dim: 8
      mlp_dim: 8
      attention { name: "full" }
    }
    train { name: "s1" batch_size: 4 steps: 10 learning_rate: 0.001 seed: 1 }
    train { name: "s2" batch_size: 4 steps: 10 learning_rate: 0.001 seed: 2 }
  }
)pb";

// The suite as written with its run ids and task labels (where the results
// go). The configs are compared as they are, so no other defaults need
// filling (that needs the registries: //lra:validate).
absl::StatusOr<Suite> LoadTestSuite(const std::string& path,
                                    const std::string& workspace) {
  absl::StatusOr<Suite> suite = ExpandSuite(path, workspace);
  if (!suite.ok()) return suite;
  for (PlannedRun& run : suite->runs) {
    run.config.mutable_task()->set_label(RunTaskLabel(run.config.task()));
  }
  absl::Status status = AssignRunIds(&*suite);
  if (!status.ok()) return status;
  return suite;
}

const PlannedRun* Find(const Suite& suite, const std::string& id) {
  for (const PlannedRun& run : suite.runs) {
    if (run.id == id) return &run;
  }
  return nullptr;
}

RunResult Finished(const PlannedRun& run) {
  RunResult result;
  result.set_suite("st");
  *result.mutable_config() = run.config;
  result.set_status("ok");
  result.set_test_accuracy(0.5f);
  result.set_best_val_accuracy(0.55f);
  result.set_best_step(10);
  result.set_wall_seconds(75);
  return result;
}

TEST(SuiteStatusTest, EveryStateOfAPlannedRun) {
  const std::string dir = TestTmpPath("status");
  const std::string suite_path = dir + "/suite.pbtxt";
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFileAtomic(suite_path, kSuite).ok());
  absl::StatusOr<Suite> suite = LoadTestSuite(suite_path, dir);
  ASSERT_TRUE(suite.ok()) << suite.status();
  ASSERT_EQ(suite->runs.size(), 6u);
  const std::string results = dir + "/results";

  // Done: the result's config is the planned one.
  const PlannedRun* done = Find(*suite, "listops/transformer.s1");
  ASSERT_NE(done, nullptr);
  ASSERT_TRUE(WriteFakeRun(results, "transformer.s1", Finished(*done)).ok());
  // Failed.
  RunResult failed = Finished(*Find(*suite, "listops/transformer.s2"));
  failed.set_status("failed");
  failed.set_error("TrainRun: the data file went missing");
  ASSERT_TRUE(WriteFakeRun(results, "transformer.s2", failed).ok());
  // Stale: made with 20 steps, the suite now plans 10.
  RunResult stale = Finished(*Find(*suite, "listops/small.s1"));
  stale.mutable_config()->mutable_train()->set_steps(20);
  ASSERT_TRUE(WriteFakeRun(results, "small.s1", stale).ok());
  // Unfinished: metrics only.
  ASSERT_TRUE(MakeDirs(results + "/st/listops/small.s2").ok());
  ASSERT_TRUE(WriteFileAtomic(results + "/st/listops/small.s2/metrics.csv",
                              "step,train_loss,train_accuracy,val_loss,"
                              "val_accuracy,wall_seconds\n5,1,0.2,1,0.25,1\n")
                  .ok());
  // A run the suite no longer plans.
  RunResult old = Finished(*done);
  old.mutable_config()->mutable_model()->set_name("old");
  ASSERT_TRUE(WriteFakeRun(results, "old", old).ok());

  SuiteStatus status = ComputeSuiteStatus(*suite, results);
  EXPECT_EQ(status.Count(PlannedRunState::kDone), 1);
  EXPECT_EQ(status.Count(PlannedRunState::kFailed), 1);
  EXPECT_EQ(status.Count(PlannedRunState::kStale), 1);
  EXPECT_EQ(status.Count(PlannedRunState::kUnfinished), 1);
  EXPECT_EQ(status.Count(PlannedRunState::kMissing), 2);
  EXPECT_EQ(status.Count(PlannedRunState::kNotPlanned), 1);
  ASSERT_EQ(status.runs.size(), 7u);

  std::string text = FormatSuiteStatus(status);
  EXPECT_NE(text.find("suite st: 6 runs planned, 1 done, 1 failed, 1 "
                      "unfinished, 1 stale, 2 missing"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("test 50.00%, best val 55.00% at step 10, 1m 15s"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("TrainRun: the data file went missing"),
            std::string::npos);
  EXPECT_NE(text.find("train.steps=10"), std::string::npos) << text;
  EXPECT_NE(text.find("last evaluation at step 5 of 10"), std::string::npos)
      << text;
  EXPECT_NE(text.find("missing      listops/tiny.s1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("not in suite listops/old"), std::string::npos) << text;
}

TEST(SuiteStatusTest, NothingRunYet) {
  const std::string dir = TestTmpPath("fresh");
  const std::string suite_path = dir + "/suite.pbtxt";
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFileAtomic(suite_path, kSuite).ok());
  absl::StatusOr<Suite> suite = LoadTestSuite(suite_path, dir);
  ASSERT_TRUE(suite.ok()) << suite.status();
  SuiteStatus status = ComputeSuiteStatus(*suite, dir + "/nothing-here");
  EXPECT_EQ(status.Count(PlannedRunState::kMissing), 6);
}

}  // namespace
}  // namespace lra
