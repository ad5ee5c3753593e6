#include "datasets/cross_segment/task.h"

#include <vector>

#include "datasets/cross_segment/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace cross_segment {
namespace {

using ::testing::HasSubstr;

TEST(CrossSegmentTaskTest, Defaults) {
  TaskConfig task;
  task.set_name("cross_segment");
  task.set_seq_len(1024);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  EXPECT_EQ(task.cross_segment().key_length(), 1);
  EXPECT_EQ(task.cross_segment().num_values(), 10);

  TaskConfig tiny;
  tiny.set_seq_len(1);
  EXPECT_THAT(std::string(kTaskEntry.resolve_params(&tiny).message()),
              HasSubstr("task.cross_segment.key_length = 1 is invalid"));
  TaskConfig other;
  other.set_seq_len(64);
  other.mutable_recall();
  EXPECT_FALSE(kTaskEntry.resolve_params(&other).ok());
}

TEST(CrossSegmentTaskTest, BuildsASplitTheOracleAgreesWith) {
  TaskConfig task;
  task.set_name("cross_segment");
  task.set_seq_len(64);
  task.set_train_size(100);
  task.set_val_size(10);
  task.set_test_size(10);
  task.mutable_cross_segment()->set_key_length(2);
  task.mutable_cross_segment()->set_num_values(3);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  auto dataset = kTaskEntry.make(task, Split::kTrain, "");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ((*dataset)->size(), 100);
  EXPECT_EQ((*dataset)->seq_len(), 64);
  EXPECT_EQ((*dataset)->vocab_size(), kVocabSize);
  EXPECT_EQ((*dataset)->num_classes(), 10);
  std::vector<int32_t> tokens(64), expected(64);
  for (int64_t i = 0; i < 100; ++i) {
    const int32_t label = (*dataset)->Get(i, tokens.data());
    EXPECT_EQ(CrossSegmentAnswer(tokens, 2, 3), label);
    EXPECT_EQ(GenerateCrossSegmentExample(task.cross_segment(), 64, 0,
                                          Split::kTrain, i, expected.data()),
              label);
    EXPECT_EQ(tokens, expected);
  }
}

}  // namespace
}  // namespace cross_segment
}  // namespace lra
