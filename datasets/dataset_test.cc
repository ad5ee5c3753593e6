#include "datasets/dataset.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "datasets/listops/evaluator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST(DatasetTest, SplitNames) {
  EXPECT_EQ(SplitName(Split::kTrain), "train");
  EXPECT_EQ(SplitName(Split::kVal), "val");
  EXPECT_EQ(SplitName(Split::kTest), "test");
}

TEST(DatasetTest, ResolvesListOpsDefaults) {
  TaskConfig task;
  task.set_name("listops");
  task.set_val_size(500);  // Set fields are kept.
  ASSERT_TRUE(ResolveTaskDefaults(&task).ok());
  EXPECT_EQ(task.seq_len(), 2000);
  EXPECT_EQ(task.train_size(), 96000);
  EXPECT_EQ(task.val_size(), 500);
  EXPECT_EQ(task.test_size(), 2000);
  EXPECT_EQ(task.listops().max_depth(), 10);
  EXPECT_EQ(task.listops().max_args(), 10);
  EXPECT_EQ(task.listops().max_length(), 2000);
  EXPECT_EQ(*TaskVocabSize(task), 16);
  EXPECT_EQ(*TaskNumClasses(task), 10);
  // Other tasks register too; the list is sorted.
  const std::vector<std::string> names = TaskNames();
  EXPECT_THAT(names, Contains("listops"));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(DatasetTest, UnknownTaskNamesFieldValueAndAllowed) {
  TaskConfig task;
  task.set_name("listopz");
  const std::string expected =
      "task.name = 'listopz' is not a known task (allowed: " +
      absl::StrJoin(TaskNames(), ", ") + ")";
  absl::StatusOr<std::unique_ptr<Dataset>> dataset =
      MakeDataset(task, Split::kTrain, "");
  ASSERT_FALSE(dataset.ok());
  EXPECT_EQ(dataset.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(dataset.status().message()), HasSubstr(expected));
  EXPECT_THAT(std::string(TaskVocabSize(task).status().message()),
              HasSubstr(expected));
  EXPECT_THAT(std::string(TaskNumClasses(task).status().message()),
              HasSubstr(expected));
  EXPECT_FALSE(ResolveTaskDefaults(&task).ok());
}

TEST(DatasetTest, ValidationErrorsNameTheField) {
  struct Case {
    void (*edit)(TaskConfig*);
    const char* expected;
  };
  const Case cases[] = {
      {[](TaskConfig* t) { t->set_seq_len(-1); },
       "task.seq_len = -1 is invalid (allowed: > 0, or 0 for the default "
       "2000)"},
      {[](TaskConfig* t) { t->set_train_size(-5); },
       "task.train_size = -5 is invalid"},
      {[](TaskConfig* t) { t->set_val_size(-1); }, "task.val_size = -1"},
      {[](TaskConfig* t) { t->set_test_size(-1); }, "task.test_size = -1"},
      {[](TaskConfig* t) { t->mutable_listops()->set_max_depth(-2); },
       "task.listops.max_depth = -2 is invalid (allowed: >= 1)"},
      {[](TaskConfig* t) { t->mutable_listops()->set_min_args(-1); },
       "task.listops.min_args = -1"},
      {[](TaskConfig* t) { t->mutable_listops()->set_max_args(1); },
       "task.listops.max_args = 1 is invalid (allowed: >= min_args = 2)"},
      {[](TaskConfig* t) { t->mutable_listops()->set_operator_prob(2); },
       "task.listops.operator_prob = 2 is invalid (allowed: 0 <= "
       "operator_prob <= 1)"},
      {[](TaskConfig* t) { t->mutable_listops()->set_max_length(400); },
       "task.listops.max_length = 400 is invalid (allowed: >= min_length + "
       "2 = 502"},
      {[](TaskConfig* t) { t->mutable_listops()->set_min_length(5000); },
       "task.listops.max_length = 2000 is invalid"},
  };
  for (const Case& c : cases) {
    TaskConfig task;
    task.set_name("listops");
    c.edit(&task);
    absl::StatusOr<std::unique_ptr<Dataset>> dataset =
        MakeDataset(task, Split::kVal, "");
    ASSERT_FALSE(dataset.ok()) << c.expected;
    EXPECT_EQ(dataset.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(dataset.status().message()), HasSubstr(c.expected));
  }
}

TEST(DatasetTest, MakesSmallListOpsSplitsAndDescribesThem) {
  TaskConfig task;
  task.set_name("listops");
  task.set_seq_len(128);
  task.set_train_size(300);
  task.set_val_size(40);
  task.set_test_size(40);
  task.mutable_listops()->set_min_length(20);
  task.mutable_listops()->set_max_length(100);
  task.mutable_listops()->set_max_depth(5);
  for (Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
    absl::StatusOr<std::unique_ptr<Dataset>> dataset =
        MakeDataset(task, split, "");
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    const Dataset& d = **dataset;
    EXPECT_EQ(d.size(), split == Split::kTrain ? 300 : 40);
    std::vector<int32_t> tokens(128);  // [seq_len]
    for (int64_t i = 0; i < d.size(); ++i) {
      const int32_t label = d.Get(i, tokens.data());
      EXPECT_EQ(*listops::Evaluate(tokens), label);
    }
    const DatasetStats stats = DescribeDataset(d);
    EXPECT_EQ(stats.size, d.size());
    EXPECT_GT(stats.min_tokens, 20);
    EXPECT_LT(stats.max_tokens, 100);
    EXPECT_EQ(stats.full_examples, 0);
    int64_t labelled = 0;
    for (int64_t count : stats.label_histogram) labelled += count;
    EXPECT_EQ(labelled, d.size());
    EXPECT_TRUE(absl::StrContains(FormatDatasetStats(stats), "tokens: min "));
  }
}

TEST(DatasetTest, MajorityLabelRateIsTheShareOfTheCommonestLabel) {
  DatasetStats stats;
  EXPECT_EQ(MajorityLabelRate(stats), 0);
  stats.size = 8;
  stats.label_histogram = {1, 5, 2};
  EXPECT_DOUBLE_EQ(MajorityLabelRate(stats), 5.0 / 8);

  TaskConfig task;
  task.set_name("listops");
  task.set_seq_len(128);
  task.set_train_size(10);
  task.set_val_size(10);
  task.set_test_size(30);
  task.mutable_listops()->set_min_length(20);
  task.mutable_listops()->set_max_length(100);
  task.mutable_listops()->set_max_depth(5);
  absl::StatusOr<std::unique_ptr<Dataset>> test =
      MakeDataset(task, Split::kTest, "");
  ASSERT_TRUE(test.ok()) << test.status();
  absl::StatusOr<double> rate = SplitMajorityRate(task, Split::kTest, "");
  ASSERT_TRUE(rate.ok()) << rate.status();
  EXPECT_DOUBLE_EQ(*rate, MajorityLabelRate(DescribeDataset(**test)));
  EXPECT_GE(*rate, 0.1);  // Ten classes: the commonest has at least a tenth.
  task.set_name("nope");
  EXPECT_FALSE(SplitMajorityRate(task, Split::kTest, "").ok());
}

}  // namespace
}  // namespace lra
