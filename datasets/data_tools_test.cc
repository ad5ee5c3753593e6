#include "datasets/data_tools.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

// Every registered task at its defaults, with small splits.
std::vector<TaskConfig> SmallTasks() {
  std::vector<TaskConfig> tasks;
  for (const std::string& name : TaskNames()) {
    TaskConfig task;
    task.set_name(name);
    task.set_train_size(24);
    task.set_val_size(12);
    task.set_test_size(12);
    task.set_data_seed(5);
    EXPECT_TRUE(ResolveTaskDefaults(&task).ok()) << name;
    tasks.push_back(task);
  }
  return tasks;
}

TEST(DataToolsTest, PrefixTaskShortensOneSplitAndDropsTheCache) {
  TaskConfig task;
  task.set_name("pathfinder");
  task.mutable_pathfinder()->set_cache_dir("cache/pathfinder");
  ASSERT_TRUE(ResolveTaskDefaults(&task).ok());
  TaskConfig prefix = PrefixTask(task, Split::kVal, 100);
  EXPECT_EQ(prefix.train_size(), 160000);
  EXPECT_EQ(prefix.val_size(), 100);
  EXPECT_EQ(prefix.pathfinder().cache_dir(), "");
  // A count of 0 or beyond the split keeps its size.
  EXPECT_EQ(PrefixTask(task, Split::kVal, 0).val_size(), 20000);
  EXPECT_EQ(PrefixTask(task, Split::kVal, 30000).val_size(), 20000);
}

// The point of the prefix: its examples are the whole split's first ones,
// for every task, so statistics of a prefix describe the real split.
TEST(DataToolsTest, PrefixesAreTheFirstExamplesOfEveryTask) {
  for (const TaskConfig& task : SmallTasks()) {
    for (Split split : {Split::kTrain, Split::kTest}) {
      auto whole = MakeDataset(task, split, "");
      ASSERT_TRUE(whole.ok()) << task.name() << ": " << whole.status();
      auto prefix = MakeDataset(PrefixTask(task, split, 5), split, "");
      ASSERT_TRUE(prefix.ok()) << task.name() << ": " << prefix.status();
      ASSERT_EQ((*prefix)->size(), 5) << task.name();
      // Describing the first 5 of the whole split sees the same examples.
      const DatasetStats head = DescribeDataset(**whole, 5);
      const DatasetStats all = DescribeDataset(**prefix);
      EXPECT_EQ(head.size, 5);
      EXPECT_EQ(head.label_histogram, all.label_histogram) << task.name();
      EXPECT_EQ(head.mean_tokens, all.mean_tokens) << task.name();
      const int n = (*whole)->seq_len();
      std::vector<int32_t> a(n), b(n);
      for (int64_t i = 0; i < 5; ++i) {
        EXPECT_EQ((*whole)->Get(i, a.data()), (*prefix)->Get(i, b.data()))
            << task.name() << " example " << i;
        EXPECT_EQ(a, b) << task.name() << " example " << i;
      }
    }
  }
}

TEST(DataToolsTest, SampleSplitDescribesTheFirstExamples) {
  TaskConfig task;
  task.set_name("listops");
  task.set_seq_len(128);
  task.set_train_size(300);
  task.mutable_listops()->set_min_length(20);
  task.mutable_listops()->set_max_length(100);
  task.mutable_listops()->set_max_depth(5);
  ASSERT_TRUE(ResolveTaskDefaults(&task).ok());
  absl::StatusOr<SplitSample> sample = SampleSplit(task, Split::kTrain, 50, "");
  ASSERT_TRUE(sample.ok()) << sample.status();
  EXPECT_EQ(sample->split_size, 300);
  EXPECT_EQ(sample->stats.size, 50);
  EXPECT_GT(sample->stats.min_tokens, 20);
  EXPECT_LT(sample->stats.max_tokens, 100);
  int64_t labelled = 0;
  for (int64_t count : sample->stats.label_histogram) labelled += count;
  EXPECT_EQ(labelled, 50);
  EXPECT_THAT(FormatSplitSample("listops", *sample),
              HasSubstr("== listops train (first 50 of 300 examples, built "
                        "in "));
  sample = SampleSplit(task, Split::kVal, 5000, "");
  ASSERT_TRUE(sample.ok()) << sample.status();
  EXPECT_EQ(sample->stats.size, 2000);
  EXPECT_THAT(FormatSplitSample("listops", *sample),
              HasSubstr("(all 2000 examples, built in "));
}

TEST(DataToolsTest, SampleSplitCountsRetrievalDocumentsOneByOne) {
  TaskConfig task;
  task.set_name("retrieval");
  task.set_seq_len(3000);
  task.mutable_retrieval()->set_min_length(1000);
  task.mutable_retrieval()->set_max_length(2000);
  absl::Status status = ResolveTaskDefaults(&task);
  ASSERT_TRUE(status.ok()) << status;
  absl::StatusOr<SplitSample> sample = SampleSplit(task, Split::kTest, 20, "");
  ASSERT_TRUE(sample.ok()) << sample.status();
  EXPECT_EQ(sample->stats.num_segments, 2);
  // Each document is 1000..2000 bytes; a pair's total would be 2x that.
  EXPECT_GE(sample->stats.min_tokens, 1000);
  EXPECT_LE(sample->stats.max_tokens, 2000);
  EXPECT_EQ(sample->stats.full_examples, 0);
  EXPECT_THAT(FormatDatasetStats(sample->stats),
              HasSubstr("seq_len: 6000 (2 documents of 3000)\n"));
}

TEST(DataToolsTest, PathfinderSampleShowsInkPerClass) {
  TaskConfig task;
  task.set_name("pathfinder");
  ASSERT_TRUE(ResolveTaskDefaults(&task).ok());
  absl::StatusOr<SplitSample> sample = SampleSplit(task, Split::kVal, 30, "");
  ASSERT_TRUE(sample.ok()) << sample.status();
  EXPECT_EQ(sample->split_size, 20000);
  EXPECT_EQ(sample->stats.size, 30);
  EXPECT_THAT(sample->extra, HasSubstr("label 0: "));
  EXPECT_THAT(sample->extra, HasSubstr("label 1: "));
}

TEST(DataToolsTest, BenchGenerationTimesEveryTask) {
  for (const TaskConfig& task : SmallTasks()) {
    absl::StatusOr<GenerationBench> bench =
        BenchGeneration(task, 100, /*threads=*/1, "", /*min_seconds=*/0);
    ASSERT_TRUE(bench.ok()) << task.name() << ": " << bench.status();
    EXPECT_EQ(bench->examples, 24) << task.name();  // Capped at the split.
    EXPECT_EQ(bench->split_size, 24);
    EXPECT_EQ(bench->source, "generated");
    EXPECT_GT(bench->examples_per_second, 0) << task.name();
    EXPECT_GT(bench->mean_tokens, 0) << task.name();
    EXPECT_LE(bench->mean_tokens, bench->seq_len) << task.name();
    EXPECT_NEAR(bench->tokens_per_second,
                bench->examples_per_second * bench->mean_tokens,
                1e-6 * bench->tokens_per_second);
    EXPECT_THAT(FormatGenerationBench(*bench),
                HasSubstr(" train: 24 of 24 examples generated on 1 thread "
                          "in "));
  }
  TaskConfig task = SmallTasks()[0];
  EXPECT_FALSE(BenchGeneration(task, 0, 1, "").ok());
}

// A resolved Text config reading an aclImdb folder of three reviews.
TaskConfig SmallImdbTask() {
  const std::string dir = FreshTestDir("imdb");
  for (const char* file : {"/train/pos/1_9.txt", "/train/neg/2_1.txt",
                           "/test/pos/3_8.txt", "/test/neg/4_2.txt"}) {
    const std::string path = dir + file;
    std::filesystem::create_directories(
        std::filesystem::path(path).parent_path());
    std::ofstream(path) << "A review of " << file;
  }
  TaskConfig task;
  task.set_name("text");
  task.mutable_text()->set_data_dir(dir);
  EXPECT_TRUE(ResolveTaskDefaults(&task).ok());
  return task;
}

TEST(DataToolsTest, OfficialFilesAreSampledAndTimedToo) {
  const TaskConfig task = SmallImdbTask();
  EXPECT_TRUE(ReadsOfficialFiles(task, Split::kTrain));
  absl::StatusOr<SplitSample> sample = SampleSplit(task, Split::kTest, 2, "");
  ASSERT_TRUE(sample.ok()) << sample.status();
  EXPECT_EQ(sample->split_size, 25000);
  EXPECT_EQ(sample->stats.size, 2);
  EXPECT_EQ(sample->stats.label_histogram, (std::vector<int64_t>{1, 1}));
  absl::StatusOr<GenerationBench> bench = BenchGeneration(task, 2, 1, "", 0);
  ASSERT_TRUE(bench.ok()) << bench.status();
  EXPECT_EQ(bench->source, "loaded from files");
  // More than the folder holds: the loader's error says where the size of
  // the shortened split came from.
  sample = SampleSplit(task, Split::kTrain, 5, "");
  ASSERT_FALSE(sample.ok());
  EXPECT_THAT(std::string(sample.status().message()),
              HasSubstr("train: building its first 5 of 25000 examples "
                        "(--count): task.text.data_dir = '"));
  bench = BenchGeneration(task, 5, 1, "", 0);
  EXPECT_THAT(std::string(bench.status().message()),
              HasSubstr("train: building its first 5 of 25000 examples"));
}

TEST(DataToolsTest, DefaultCountsAnswerInSeconds) {
  for (const TaskConfig& task : SmallTasks()) {
    const bool drawn = task.name() == "pathfinder" || task.name() == "pathx";
    EXPECT_EQ(DefaultSampleCount(task), drawn ? 500 : 2000) << task.name();
    EXPECT_FALSE(ReadsOfficialFiles(task, Split::kVal)) << task.name();
  }
}

}  // namespace
}  // namespace lra
