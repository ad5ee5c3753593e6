#include "datasets/brackets/task.h"

#include <vector>

#include "datasets/brackets/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace brackets {
namespace {

TEST(BracketsTaskTest, DefaultsFollowSeqLen) {
  TaskConfig task;
  task.set_name("brackets");
  task.set_seq_len(1024);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  EXPECT_EQ(task.brackets().max_length(), 1024);
  EXPECT_EQ(task.brackets().min_length(), 512);
  EXPECT_EQ(task.brackets().max_depth(), 512);
  EXPECT_EQ(task.brackets().min_span(), 128);
  TaskConfig other;
  other.mutable_recall();
  EXPECT_FALSE(kTaskEntry.resolve_params(&other).ok());
}

TEST(BracketsTaskTest, BuildsASplitTheOracleAgreesWith) {
  TaskConfig task;
  task.set_name("brackets");
  task.set_seq_len(64);
  task.set_train_size(10);
  task.set_val_size(100);
  task.set_test_size(10);
  task.set_data_seed(4);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  auto dataset = kTaskEntry.make(task, Split::kVal, "");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ((*dataset)->size(), 100);
  EXPECT_EQ((*dataset)->seq_len(), 64);
  EXPECT_EQ((*dataset)->vocab_size(), 5);
  EXPECT_EQ((*dataset)->num_classes(), 2);
  std::vector<int32_t> tokens(64), expected(64);
  for (int64_t i = 0; i < 100; ++i) {
    const int32_t label = (*dataset)->Get(i, tokens.data());
    EXPECT_EQ(WellNested(tokens), label);
    EXPECT_EQ(GenerateBracketsExample(task.brackets(), 64, 4, Split::kVal, i,
                                      expected.data()),
              label);
    EXPECT_EQ(tokens, expected);
  }
}

}  // namespace
}  // namespace brackets
}  // namespace lra
