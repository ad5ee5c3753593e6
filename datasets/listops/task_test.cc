#include "datasets/listops/task.h"

#include <memory>
#include <vector>

#include "datasets/listops/evaluator.h"
#include "datasets/listops/tokens.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace listops {
namespace {

using ::testing::HasSubstr;

TEST(ListOpsTaskTest, FillsLraDefaults) {
  TaskConfig task;
  task.set_name("listops");
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  ASSERT_TRUE(task.has_listops());
  EXPECT_EQ(task.listops().max_depth(), 10);
  EXPECT_EQ(task.listops().min_args(), 2);
  EXPECT_EQ(task.listops().max_args(), 10);
  EXPECT_FLOAT_EQ(task.listops().operator_prob(), 0.25f);
  EXPECT_EQ(task.listops().min_length(), 500);
  EXPECT_EQ(task.listops().max_length(), 2000);
}

TEST(ListOpsTaskTest, KeepsSetFieldsAndNamesInvalidOnes) {
  TaskConfig task;
  task.mutable_listops()->set_max_args(3);
  task.mutable_listops()->set_min_args(4);
  absl::Status status = kTaskEntry.resolve_params(&task);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.listops.max_args = 3 is invalid (allowed: >= "
                        "min_args = 4)"));
}

TaskConfig SmallTask() {
  TaskConfig task;
  task.set_name("listops");
  task.set_seq_len(64);
  task.set_train_size(50);
  task.set_val_size(20);
  task.set_test_size(20);
  task.set_data_seed(11);
  ListOpsConfig* config = task.mutable_listops();
  config->set_max_depth(4);
  config->set_min_args(2);
  config->set_max_args(5);
  config->set_operator_prob(0.4f);
  config->set_min_length(10);
  config->set_max_length(80);
  return task;
}

TEST(ListOpsTaskTest, GeneratedSplitPadsAndTruncates) {
  TaskConfig task = SmallTask();
  task.set_seq_len(32);
  absl::StatusOr<std::unique_ptr<Dataset>> dataset =
      kTaskEntry.make(task, Split::kVal, "");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const Dataset& d = **dataset;
  EXPECT_EQ(d.size(), 20);
  EXPECT_EQ(d.seq_len(), 32);
  EXPECT_EQ(d.vocab_size(), 16);
  EXPECT_EQ(d.num_classes(), 10);
  std::vector<int32_t> tokens(32, -1);  // [seq_len]
  int truncated = 0;
  int padded = 0;
  for (int64_t i = 0; i < d.size(); ++i) {
    const int32_t label = d.Get(i, tokens.data());
    EXPECT_TRUE(IsOperatorId(tokens[0]));
    absl::StatusOr<int> value = Evaluate(tokens);
    if (value.ok()) {
      // Complete expressions: the label is their value and the rest is
      // padding.
      EXPECT_EQ(*value, label);
      EXPECT_EQ(tokens.back(), kPadId);
      ++padded;
    } else {
      // Only expressions longer than seq_len may be cut, and then nothing
      // is padding.
      EXPECT_NE(tokens.back(), kPadId);
      ++truncated;
    }
  }
  // With lengths 11..79 and seq_len 32 both cases occur.
  EXPECT_GT(padded, 0);
  EXPECT_GT(truncated, 0);
}

TEST(ListOpsTaskTest, ReadsTsvRelativeToWorkspace) {
  TaskConfig task = SmallTask();
  task.set_test_size(20);
  task.mutable_listops()->set_test_tsv(
      "datasets/listops/testdata/basic_sample.tsv");
  absl::StatusOr<std::unique_ptr<Dataset>> dataset =
      kTaskEntry.make(task, Split::kTest, ".");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  ASSERT_EQ((*dataset)->size(), 20);
  std::vector<int32_t> tokens(64);
  // First row of the sample: label 2, starts "[MIN [MED [SM 8".
  EXPECT_EQ((*dataset)->Get(0, tokens.data()), 2);
  EXPECT_EQ(std::vector<int32_t>(tokens.begin(), tokens.begin() + 4),
            (std::vector<int32_t>{kMinId, kMedId, kSumModId, DigitId(8)}));

  // Asking for more rows than the file has names the field and the file.
  task.set_test_size(21);
  dataset = kTaskEntry.make(task, Split::kTest, ".");
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(std::string(dataset.status().message()),
              HasSubstr("task.listops.test_tsv = "
                        "'./datasets/listops/testdata/basic_sample.tsv' has "
                        "20 rows but task.test_size = 21"));

  // A missing file names the resolved path.
  task.mutable_listops()->set_test_tsv("missing.tsv");
  dataset = kTaskEntry.make(task, Split::kTest, "/no/such/workspace");
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(std::string(dataset.status().message()),
              HasSubstr("'/no/such/workspace/missing.tsv'"));
}

}  // namespace
}  // namespace listops
}  // namespace lra
