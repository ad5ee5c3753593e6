#include "datasets/pathfinder/image_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/file_size_limit.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace pathfinder {
namespace {

using ::testing::HasSubstr;

// A mostly black image with a few strokes, like a Pathfinder image.
std::vector<uint8_t> Image(int seed, int side = 32) {
  std::vector<uint8_t> pixels(side * side, 0);  // [side, side]
  for (int k = 0; k < 40; ++k)
    pixels[(seed * 131 + k * 29) % (side * side)] = 200 + k;
  return pixels;
}

TEST(ImageStoreTest, RawAndCompressedStoresReadBackWhatWasPut) {
  for (bool compressed : {false, true}) {
    ImageStore store(5, 32 * 32, compressed);
    for (int i = 0; i < 5; ++i) store.Put(i, Image(i).data(), i % 2);
    std::vector<uint8_t> pixels(32 * 32);
    for (int i = 0; i < 5; ++i) {
      store.Read(i, pixels.data());
      EXPECT_EQ(pixels, Image(i)) << compressed << " " << i;
      EXPECT_EQ(store.label(i), i % 2);
    }
    if (compressed) {
      // Mostly black images shrink several times.
      EXPECT_LT(store.stored_bytes(), 5 * 32 * 32 / 3);
    } else {
      EXPECT_EQ(store.stored_bytes(), 5 * 32 * 32);
    }
  }
}

TEST(ImageStoreTest, CheckBlobAcceptsOnlyWholeStreamsOfTheRightSize) {
  const std::string blob = CompressImage(Image(3).data(), 32 * 32);
  EXPECT_TRUE(CheckBlob(blob, 32 * 32));
  EXPECT_FALSE(CheckBlob(blob, 32 * 32 + 1));
  EXPECT_FALSE(CheckBlob(blob.substr(0, blob.size() - 3), 32 * 32));
  EXPECT_FALSE(CheckBlob("garbage", 32 * 32));
}

CacheShard MakeShard(int64_t first, int count) {
  CacheShard shard;
  shard.first_index = first;
  for (int i = 0; i < count; ++i) {
    shard.labels.push_back(i % 2);
    shard.blobs.push_back(CompressImage(Image(first + i).data(), 32 * 32));
  }
  return shard;
}

TEST(ImageStoreTest, ShardRoundTrip) {
  const std::string dir = FreshTestDir("shards");
  const std::string path = CacheShardPath(dir, 0xabcdef, Split::kVal, 2);
  EXPECT_THAT(path, HasSubstr("pathfinder-0000000000abcdef-val-00002.zshard"));
  const CacheShard shard = MakeShard(2 * kImagesPerShard, 7);
  // The folder is created on the way.
  ASSERT_TRUE(WriteCacheShard(path, 0xabcdef, 32, Split::kVal, shard).ok());
  absl::StatusOr<CacheShard> read = ReadCacheShard(
      path, 0xabcdef, 32, Split::kVal, 2 * kImagesPerShard, 32 * 32);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->labels, shard.labels);
  EXPECT_EQ(read->blobs, shard.blobs);
}

// A shard that cannot be moved into place (a folder holds its name): the
// error names the shard and no temporary file is left in the cache folder.
TEST(ImageStoreTest, FailedShardWriteLeavesNoTemporaryFile) {
  const std::string dir = FreshTestDir("failed_shard");
  const std::string path = CacheShardPath(dir, 1, Split::kTrain, 0);
  std::filesystem::create_directories(path + "/x");
  const absl::Status status =
      WriteCacheShard(path, 1, 32, Split::kTrain, MakeShard(0, 5));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("cannot write cache shard: " + path + ": rename"));
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::ElementsAre(
                         std::filesystem::path(path).filename().string()));
}

// A full disk (here the file-size limit, which fails write() the same way):
// the error names the shard, an earlier copy stays whole and no temporary
// file is left.
TEST(ImageStoreTest, FullDiskLeavesTheEarlierShard) {
  const std::string dir = FreshTestDir("full_shard");
  const std::string path = CacheShardPath(dir, 1, Split::kTrain, 0);
  ASSERT_TRUE(
      WriteCacheShard(path, 1, 32, Split::kTrain, MakeShard(0, 5)).ok());
  std::ifstream in(path, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
  absl::Status status;
  {
    FileSizeLimit limit(64);
    ASSERT_TRUE(limit.active());
    status = WriteCacheShard(path, 1, 32, Split::kTrain, MakeShard(0, 9));
  }
  EXPECT_THAT(
      std::string(status.message()),
      HasSubstr("cannot write cache shard: " + path + ": write failed"));
  std::ifstream again(path, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)),
                        std::istreambuf_iterator<char>()),
            before);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::ElementsAre(
                         std::filesystem::path(path).filename().string()));
}

// The temporary file of a run killed while writing a shard (its process is
// gone) is removed; that of a writer still running is kept.
TEST(ImageStoreTest, StaleTemporaryShardsAreRemoved) {
  const std::string dir = EmptyTestDir("stale_shards");
  const std::string path = CacheShardPath(dir, 1, Split::kTrain, 0);
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  const std::string dead = path + ".tmp." + std::to_string(child);
  const std::string alive = path + ".tmp." + std::to_string(getpid());
  for (const std::string& temp : {dead, alive}) {
    std::ofstream(temp) << "half a shard";
    struct timespec times[2];
    times[0].tv_sec = times[1].tv_sec = time(nullptr) - 120;
    times[0].tv_nsec = times[1].tv_nsec = 0;
    ASSERT_EQ(utimensat(AT_FDCWD, temp.c_str(), times, 0), 0);
  }
  EXPECT_EQ(RemoveStaleCacheTemporaries(dir), 1);
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(alive));
}

TEST(ImageStoreTest, ShardOfAnotherConfigOrDamagedIsDataLoss) {
  const std::string dir = FreshTestDir("bad_shards");
  const std::string path = CacheShardPath(dir, 1, Split::kTrain, 0);
  ASSERT_TRUE(
      WriteCacheShard(path, 1, 32, Split::kTrain, MakeShard(0, 5)).ok());
  // Another fingerprint, resolution, split or first index.
  for (const auto& status :
       {ReadCacheShard(path, 2, 32, Split::kTrain, 0, 32 * 32).status(),
        ReadCacheShard(path, 1, 64, Split::kTrain, 0, 64 * 64).status(),
        ReadCacheShard(path, 1, 32, Split::kTest, 0, 32 * 32).status(),
        ReadCacheShard(path, 1, 32, Split::kTrain, 5, 32 * 32).status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(status.message()), HasSubstr(path));
  }
  // Truncated: the last image is cut short.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << bytes.substr(0, bytes.size() - 10);
  absl::StatusOr<CacheShard> read =
      ReadCacheShard(path, 1, 32, Split::kTrain, 0, 32 * 32);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  // Missing.
  read = ReadCacheShard(dir + "/none.zshard", 1, 32, Split::kTrain, 0, 1024);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pathfinder
}  // namespace lra
