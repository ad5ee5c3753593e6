// The smoke suite (the README's one-minute check) must learn: exactly as
// checked in, it reaches a test accuracy clearly above chance.
#include <iostream>
#include <string>

#include "config/text_proto.h"
#include "datasets/dataset.h"
#include "gtest/gtest.h"
#include "lra/runner.h"
#include "lra/validate.h"
#include "proto/result.pb.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

// Stated threshold: at least 0.40 test accuracy and at least 15 points above
// the majority rate, the accuracy of always answering the most frequent
// label of the test split (SplitMajorityRate, computed here rather than
// assumed). Measured (the README's table of suites): 0.533 test accuracy
// against a majority rate of 0.112.
constexpr double kMinAccuracy = 0.40;
constexpr double kMinMarginOverMajority = 0.15;

TEST(SmokeTest, SmokeSuiteLearnsClearlyAboveChance) {
  const std::string workspace = TestWorkspace();
  absl::StatusOr<Suite> suite =
      LoadSuite(workspace + "/configs/suites/smoke.pbtxt", workspace);
  ASSERT_TRUE(suite.ok()) << suite.status();
  ASSERT_EQ(suite->runs.size(), 1u);

  const absl::StatusOr<double> majority =
      SplitMajorityRate(suite->runs[0].config.task(), Split::kTest, workspace);
  ASSERT_TRUE(majority.ok()) << majority.status();

  SuiteRunOptions options;
  options.out_dir = TestTmpPath("smoke");
  options.workspace_dir = workspace;
  absl::StatusOr<SuiteSummary> summary = RunSuite(*suite, options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->trained, 1);
  RunResult result;
  ASSERT_TRUE(LoadTextProto(options.out_dir + "/smoke/" + suite->runs[0].id +
                                "/result.pbtxt",
                            &result)
                  .ok());
  std::cout << "smoke: test accuracy " << result.test_accuracy()
            << " (best val " << result.best_val_accuracy() << " @ "
            << result.best_step() << "), majority class " << *majority << "\n";
  EXPECT_GE(result.test_accuracy(), kMinAccuracy);
  EXPECT_GE(result.test_accuracy(), *majority + kMinMarginOverMajority);
}

}  // namespace
}  // namespace lra
