#include "datasets/common/task_config.h"

#include <string>

#include "gtest/gtest.h"

namespace lra {
namespace {

TEST(TaskConfigTest, SplitSizeReadsTheSplitsField) {
  TaskConfig task;
  task.set_train_size(10);
  task.set_val_size(20);
  task.set_test_size(30);
  EXPECT_EQ(SplitSize(task, Split::kTrain), 10);
  EXPECT_EQ(SplitSize(task, Split::kVal), 20);
  EXPECT_EQ(SplitSize(task, Split::kTest), 30);
}

TEST(TaskConfigTest, ParamsCaseAcceptsItsBlockOrNone) {
  TaskConfig task;
  task.set_name("text");
  EXPECT_TRUE(CheckParamsCase(task, TaskConfig::kText, "text").ok());
  task.mutable_text();
  EXPECT_TRUE(CheckParamsCase(task, TaskConfig::kText, "text").ok());
  task.mutable_listops();
  const absl::Status status = CheckParamsCase(task, TaskConfig::kText, "text");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "task.params: task 'text' has parameters of another task (field "
            "10) (allowed: a `text { ... }` block, or none for the defaults)");
}

TEST(TaskConfigTest, FieldErrorSaysWhatIsAllowed) {
  EXPECT_EQ(FieldError("task.text.cues", "0", "1..8").message(),
            "task.text.cues = 0 is invalid (allowed: 1..8)");
}

TEST(TaskConfigTest, LengthRangeNamesTheFieldOutOfRange) {
  EXPECT_TRUE(CheckLengthRange(1, 1, "task.text.").ok());
  EXPECT_EQ(CheckLengthRange(0, 5, "task.text.").message(),
            "task.text.min_length = 0 is invalid (allowed: >= 1)");
  EXPECT_EQ(CheckLengthRange(4, 3, "task.retrieval.").message(),
            "task.retrieval.max_length = 3 is invalid (allowed: >= "
            "min_length = 4)");
}

}  // namespace
}  // namespace lra
