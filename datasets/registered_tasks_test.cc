// The tasks of issue 4 through the registry, as the trainer and `lra data`
// reach them: defaults, vocabulary, classes, segments, and small splits of
// every stand-in.
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

using ::testing::IsSupersetOf;

TEST(RegisteredTasksTest, AreListed) {
  EXPECT_THAT(TaskNames(), IsSupersetOf({"brackets", "cross_segment", "image",
                                         "recall", "retrieval", "text"}));
}

TEST(RegisteredTasksTest, ResolveToLraDefaults) {
  struct Case {
    const char* name;
    int seq_len, train, val, test, vocab, classes;
  };
  const Case cases[] = {
      {"text", 1000, 25000, 25000, 25000, 257, 2},
      {"retrieval", 4000, 147086, 18090, 17437, 257, 2},
      {"image", 1024, 45000, 5000, 10000, 257, 10},
      {"recall", 1024, 50000, 5000, 5000, 44, 10},
      {"brackets", 1024, 50000, 5000, 5000, 5, 2},
      {"cross_segment", 1024, 50000, 5000, 5000, 27, 10},
  };
  for (const Case& c : cases) {
    TaskConfig task;
    task.set_name(c.name);
    ASSERT_TRUE(ResolveTaskDefaults(&task).ok()) << c.name;
    EXPECT_EQ(task.seq_len(), c.seq_len) << c.name;
    EXPECT_EQ(task.train_size(), c.train) << c.name;
    EXPECT_EQ(task.val_size(), c.val) << c.name;
    EXPECT_EQ(task.test_size(), c.test) << c.name;
    EXPECT_EQ(*TaskVocabSize(task), c.vocab) << c.name;
    EXPECT_EQ(*TaskNumClasses(task), c.classes) << c.name;
    // The params block is filled in, so the run records what it used.
    EXPECT_NE(task.params_case(), TaskConfig::PARAMS_NOT_SET) << c.name;
  }
}

// A small version of each task, the kind a quick suite would run.
std::vector<TaskConfig> SmallTasks() {
  std::vector<TaskConfig> tasks(6);
  tasks[0].set_name("text");
  tasks[0].set_seq_len(256);
  tasks[0].mutable_text()->set_min_length(250);
  tasks[0].mutable_text()->set_max_length(256);
  tasks[0].mutable_text()->set_num_cues(5);
  tasks[1].set_name("retrieval");
  tasks[1].set_seq_len(256);
  tasks[1].mutable_retrieval()->set_min_length(200);
  tasks[1].mutable_retrieval()->set_max_length(256);
  tasks[1].mutable_retrieval()->set_num_refs(4);
  tasks[1].mutable_retrieval()->set_changed_refs(2);
  tasks[2].set_name("image");
  tasks[2].set_seq_len(576);
  tasks[2].mutable_image()->set_image_size(24);
  tasks[3].set_name("recall");
  tasks[3].set_seq_len(64);
  tasks[4].set_name("brackets");
  tasks[4].set_seq_len(64);
  tasks[5].set_name("cross_segment");
  tasks[5].set_seq_len(64);
  for (TaskConfig& task : tasks) {
    task.set_train_size(60);
    task.set_val_size(20);
    task.set_test_size(20);
    task.set_data_seed(1);
  }
  return tasks;
}

TEST(RegisteredTasksTest, SmallSplitsBuildAndDescribe) {
  for (const TaskConfig& task : SmallTasks()) {
    auto dataset = MakeDataset(task, Split::kTrain, "");
    ASSERT_TRUE(dataset.ok()) << task.name() << ": " << dataset.status();
    const Dataset& d = **dataset;
    EXPECT_EQ(d.size(), 60);
    // The registry's facts are the built dataset's.
    const int segments = *TaskNumSegments(task);
    EXPECT_EQ(segments, task.name() == "retrieval" ? 2 : 1) << task.name();
    EXPECT_EQ(d.num_segments(), segments) << task.name();
    EXPECT_EQ(d.vocab_size(), *TaskVocabSize(task)) << task.name();
    EXPECT_EQ(d.num_classes(), *TaskNumClasses(task)) << task.name();
    EXPECT_EQ(d.seq_len(), segments * task.seq_len()) << task.name();
    const DatasetStats stats = DescribeDataset(d);
    int64_t labelled = 0;
    int used_classes = 0;
    for (int64_t count : stats.label_histogram) {
      labelled += count;
      used_classes += count > 0;
    }
    EXPECT_EQ(labelled, 60) << task.name();
    EXPECT_GE(used_classes, 2) << task.name();
    EXPECT_GT(stats.min_tokens, 0) << task.name();
    // Every id is inside the vocabulary.
    std::vector<int32_t> tokens(d.seq_len());
    for (int64_t i = 0; i < d.size(); ++i) {
      d.Get(i, tokens.data());
      for (int32_t id : tokens) {
        ASSERT_GE(id, 0);
        ASSERT_LT(id, d.vocab_size()) << task.name();
      }
    }
  }
}

}  // namespace
}  // namespace lra
