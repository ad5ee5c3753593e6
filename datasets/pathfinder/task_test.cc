#include "datasets/pathfinder/task.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/pathfinder/official.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace pathfinder {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// A small, fast config: 32 pixels, short contours.
TaskConfig SmallTask(int size) {
  TaskConfig task;
  task.set_name("pathfinder");
  task.set_train_size(size);
  task.set_val_size(size);
  task.set_test_size(size);
  task.set_data_seed(9);
  task.mutable_pathfinder()->set_contour_length(6);
  EXPECT_TRUE(ResolvePathfinderParams(&task).ok());
  return task;
}

std::vector<int32_t> Tokens(const Dataset& data, int64_t index,
                            int32_t* label) {
  std::vector<int32_t> tokens(data.seq_len());
  *label = data.Get(index, tokens.data());
  return tokens;
}

TEST(PathfinderTaskTest, ResolvesLraDefaults) {
  TaskConfig task;
  task.set_name("pathfinder");
  task.set_seq_len(kDefaultSeqLen);  // As the registry fills it.
  ASSERT_TRUE(ResolvePathfinderParams(&task).ok());
  EXPECT_EQ(task.pathfinder().resolution(), 32);
  EXPECT_EQ(task.pathfinder().contour_length(), 14);
  EXPECT_EQ(task.pathfinder().distractors(), 5);
  EXPECT_EQ(task.seq_len(), 1024);

  TaskConfig pathx;
  pathx.set_name("pathx");
  pathx.set_seq_len(kPathXSeqLen);
  ASSERT_TRUE(ResolvePathXParams(&pathx).ok());
  EXPECT_EQ(pathx.pathfinder().resolution(), 128);
  EXPECT_EQ(pathx.pathfinder().distractors(), 8);
  EXPECT_EQ(pathx.seq_len(), 16384);

  // seq_len follows the resolution when left at the registry default.
  TaskConfig large;
  large.set_name("pathfinder");
  large.set_seq_len(kDefaultSeqLen);
  large.mutable_pathfinder()->set_resolution(64);
  ASSERT_TRUE(ResolvePathfinderParams(&large).ok());
  EXPECT_EQ(large.seq_len(), 4096);

  // 20 pixels (the quick suite's short version): 400 tokens.
  TaskConfig small;
  small.set_name("pathfinder");
  small.set_seq_len(kDefaultSeqLen);
  small.mutable_pathfinder()->set_resolution(20);
  small.mutable_pathfinder()->set_contour_length(4);
  ASSERT_TRUE(ResolvePathfinderParams(&small).ok());
  EXPECT_EQ(small.seq_len(), 400);
}

TEST(PathfinderTaskTest, ErrorsNameTheField) {
  TaskConfig task;
  task.set_name("pathfinder");
  task.set_seq_len(2048);
  absl::Status status = ResolvePathfinderParams(&task);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.seq_len = 2048 does not match "
                        "task.pathfinder.resolution = 32 (allowed: 1024"));

  TaskConfig other;
  other.set_name("pathfinder");
  other.mutable_listops()->set_max_depth(3);
  status = ResolvePathfinderParams(&other);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.params: task 'pathfinder' has parameters of "
                        "another task"));

  TaskConfig bad;
  bad.set_name("pathx");
  bad.mutable_pathfinder()->set_resolution(100);
  status = ResolvePathXParams(&bad);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.pathfinder.resolution = 100 is invalid"));
}

TEST(PathfinderTaskTest, TokensArePixelsPlusOneWithoutPadding) {
  const TaskConfig task = SmallTask(40);
  absl::StatusOr<std::unique_ptr<PathfinderDataset>> data =
      BuildPathfinderDataset(task, Split::kTrain, "");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ((*data)->storage(), PathfinderDataset::Storage::kRaw);
  EXPECT_EQ((*data)->seq_len(), 1024);
  EXPECT_EQ((*data)->vocab_size(), 257);
  EXPECT_EQ((*data)->num_classes(), 2);
  std::vector<uint8_t> pixels(1024);
  for (int i = 0; i < 40; ++i) {
    int32_t label = 0;
    const std::vector<int32_t> tokens = Tokens(**data, i, &label);
    EXPECT_EQ((*data)->GetPixels(i, pixels.data()), label);
    bool has_black = false, has_white = false;
    for (int k = 0; k < 1024; ++k) {
      ASSERT_EQ(tokens[k], pixels[k] + 1);
      has_black |= tokens[k] == 1;
      has_white |= tokens[k] == 256;
    }
    // Black pixels are token 1, never padding; markers reach 256.
    EXPECT_TRUE(has_black && has_white);
  }
  // DescribeDataset sees full-length examples (no padding).
  const DatasetStats stats = DescribeDataset(**data);
  EXPECT_EQ(stats.min_tokens, 1024);
  EXPECT_EQ(stats.max_tokens, 1024);
  EXPECT_EQ(stats.full_examples, 40);
  EXPECT_EQ(stats.label_histogram[0] + stats.label_histogram[1], 40);
}

TEST(PathfinderTaskTest, OnTheFlyAndCachedSplitsEqualTheInMemoryOne) {
  const TaskConfig task = SmallTask(24);
  auto raw = BuildPathfinderDataset(task, Split::kVal, "");
  ASSERT_TRUE(raw.ok());

  // 1100 images of 1 KiB do not fit in 1 MiB: drawn on the fly. The first
  // images are the same whatever the split size.
  TaskConfig big = task;
  big.set_val_size(1100);
  big.mutable_pathfinder()->set_max_memory_mb(1);
  auto lazy = BuildPathfinderDataset(big, Split::kVal, "");
  ASSERT_TRUE(lazy.ok());
  EXPECT_EQ((*lazy)->storage(), PathfinderDataset::Storage::kOnTheFly);
  EXPECT_EQ((*lazy)->stored_bytes(), 0);
  EXPECT_EQ((*lazy)->size(), 1100);

  TaskConfig cached = task;
  const std::string cache = FreshTestDir("cache");
  cached.mutable_pathfinder()->set_cache_dir(cache);
  auto written = BuildPathfinderDataset(cached, Split::kVal, "");
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ((*written)->storage(), PathfinderDataset::Storage::kCompressed);
  const std::string shard = CacheShardPath(
      cache, CacheFingerprint(*MakePathfinderParams(task.pathfinder()), 9),
      Split::kVal, 0);
  ASSERT_TRUE(std::filesystem::exists(shard));
  auto read = BuildPathfinderDataset(cached, Split::kVal, "");
  ASSERT_TRUE(read.ok());

  for (int i = 0; i < 24; ++i) {
    int32_t label = 0, other = 0;
    const std::vector<int32_t> expected = Tokens(**raw, i, &label);
    EXPECT_EQ(Tokens(**lazy, i, &other), expected) << i;
    EXPECT_EQ(other, label);
    EXPECT_EQ(Tokens(**written, i, &other), expected) << i;
    EXPECT_EQ(other, label);
    EXPECT_EQ(Tokens(**read, i, &other), expected) << i;
    EXPECT_EQ(other, label);
  }

  // A damaged shard is regenerated and rewritten.
  std::filesystem::resize_file(shard, 100);
  auto repaired = BuildPathfinderDataset(cached, Split::kVal, "");
  ASSERT_TRUE(repaired.ok());
  int32_t label = 0, other = 0;
  EXPECT_EQ(Tokens(**repaired, 5, &other), Tokens(**raw, 5, &label));
  EXPECT_GT(std::filesystem::file_size(shard), 100u);

  // Another seed is another fingerprint, so another file.
  cached.set_data_seed(10);
  ASSERT_TRUE(BuildPathfinderDataset(cached, Split::kVal, "").ok());
  int shards = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cache)) {
    shards += entry.path().extension() == ".zshard";
  }
  EXPECT_EQ(shards, 2);
}

// Opening the cache removes the temporary shard file a run killed while
// writing left behind.
TEST(PathfinderTaskTest, OpeningTheCacheRemovesKilledRunsTemporaryShards) {
  TaskConfig task = SmallTask(24);
  const std::string cache = EmptyTestDir("cache_stale");
  task.mutable_pathfinder()->set_cache_dir(cache);
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  const std::string temp = CacheShardPath(cache, 1, Split::kVal, 0) + ".tmp." +
                           std::to_string(child);
  std::ofstream(temp) << "half a shard";
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = time(nullptr) - 120;
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(utimensat(AT_FDCWD, temp.c_str(), times, 0), 0);
  ASSERT_TRUE(BuildPathfinderDataset(task, Split::kVal, "").ok());
  EXPECT_FALSE(std::filesystem::exists(temp));
}

TEST(PathfinderTaskTest, LoadsOfficialFilesThroughTheConfig) {
  const std::string root = FreshTestDir("release");
  const TaskConfig task = SmallTask(4);
  ASSERT_TRUE(WriteOfficialFolder(*MakePathfinderParams(task.pathfinder()),
                                  /*data_seed=*/3, 50, 10,
                                  root + "/curv_baseline")
                  .ok());
  TaskConfig official = task;
  // Relative to the workspace.
  official.mutable_pathfinder()->set_official_dir("release");
  const std::string workspace =
      std::filesystem::path(root).parent_path().string();
  auto test = BuildPathfinderDataset(official, Split::kTest, workspace);
  ASSERT_TRUE(test.ok()) << test.status();
  // The test split is the last 10%: images 45..49 of the folder.
  const PathfinderGenerator generator(*MakePathfinderParams(task.pathfinder()));
  GeneratorScratch scratch;
  std::vector<uint8_t> expected(1024), pixels(1024);
  for (int i = 0; i < 4; ++i) {
    const int label =
        generator.Generate(3, Split::kTrain, 45 + i, &scratch, expected.data());
    EXPECT_EQ((*test)->GetPixels(i, pixels.data()), label);
    EXPECT_EQ(pixels, expected);
  }
  // More than the split holds is an error naming the sizes.
  official.set_test_size(6);
  auto too_many = BuildPathfinderDataset(official, Split::kTest, workspace);
  EXPECT_THAT(std::string(too_many.status().message()),
              HasSubstr("has 5 test images (80/10/10 of 50) but "
                        "task.test_size = 6 (allowed: <= 5)"));
}

TEST(PathfinderTaskTest, RegisteredAsPathfinderAndPathx) {
  EXPECT_THAT(TaskNames(), Contains("pathfinder"));
  EXPECT_THAT(TaskNames(), Contains("pathx"));
  TaskConfig task;
  task.set_name("pathx");
  EXPECT_EQ(*TaskVocabSize(task), 257);
  EXPECT_EQ(*TaskNumClasses(task), 2);
  ASSERT_TRUE(ResolveTaskDefaults(&task).ok());
  EXPECT_EQ(task.seq_len(), 16384);
  EXPECT_EQ(task.train_size(), 160000);

  TaskConfig small = SmallTask(6);
  small.clear_seq_len();
  auto data = MakeDataset(small, Split::kTest, "");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ((*data)->seq_len(), 1024);
  EXPECT_EQ((*data)->size(), 6);
}

TEST(PathfinderTaskTest, SpeedAndInkFigures) {
  TaskConfig task = SmallTask(1);
  absl::StatusOr<GenerationSpeed> speed =
      MeasureGenerationSpeed(task, 50, /*threads=*/1);
  ASSERT_TRUE(speed.ok());
  EXPECT_EQ(speed->images, 50);
  EXPECT_GT(speed->images_per_second, 0);
  EXPECT_GE(speed->mean_attempts, 1);
  EXPECT_THAT(FormatGenerationSpeed(*speed), HasSubstr("images/s"));

  task.set_train_size(300);
  auto data = BuildPathfinderDataset(task, Split::kTrain, "");
  ASSERT_TRUE(data.ok());
  const InkStats ink = DescribeInk(**data, 300);
  EXPECT_EQ(ink.images[0] + ink.images[1], 300);
  // Both classes carry the same ink, within a few percent.
  EXPECT_NEAR(ink.mean_ink[0] / ink.mean_ink[1], 1.0, 0.05);
  EXPECT_GT(ink.mean_lit_fraction[0], 0.05);
  EXPECT_THAT(FormatInkStats(ink), HasSubstr("label 1: "));
}

}  // namespace
}  // namespace pathfinder
}  // namespace lra
