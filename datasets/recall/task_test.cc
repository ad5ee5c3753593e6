#include "datasets/recall/task.h"

#include <vector>

#include "datasets/recall/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace recall {
namespace {

using ::testing::HasSubstr;

TEST(RecallTaskTest, DefaultsFillSeqLen) {
  TaskConfig task;
  task.set_name("recall");
  task.set_seq_len(1024);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  EXPECT_EQ(task.recall().key_length(), 2);
  EXPECT_EQ(task.recall().num_pairs(), 340);
  EXPECT_EQ(task.recall().num_values(), 10);
  EXPECT_EQ(RecallLength(340, 2), 1023);

  TaskConfig tiny;
  tiny.set_seq_len(20);
  EXPECT_THAT(std::string(kTaskEntry.resolve_params(&tiny).message()),
              HasSubstr("task.recall.num_pairs = 5 is invalid"));
}

TEST(RecallTaskTest, BuildsASplitTheOracleAgreesWith) {
  TaskConfig task;
  task.set_name("recall");
  task.set_seq_len(64);
  task.set_train_size(100);
  task.set_val_size(10);
  task.set_test_size(10);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  EXPECT_EQ(task.recall().num_pairs(), 20);
  auto dataset = kTaskEntry.make(task, Split::kTrain, "");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ((*dataset)->size(), 100);
  EXPECT_EQ((*dataset)->seq_len(), 64);
  EXPECT_EQ((*dataset)->vocab_size(), 44);
  EXPECT_EQ((*dataset)->num_classes(), 10);
  std::vector<int32_t> tokens(64), expected(64);
  for (int64_t i = 0; i < 100; ++i) {
    const int32_t label = (*dataset)->Get(i, tokens.data());
    EXPECT_EQ(RecallAnswer(tokens, 2), label);
    EXPECT_EQ(GenerateRecallExample(task.recall(), 64, 0, Split::kTrain, i,
                                    expected.data()),
              label);
    EXPECT_EQ(tokens, expected);
  }
}

}  // namespace
}  // namespace recall
}  // namespace lra
