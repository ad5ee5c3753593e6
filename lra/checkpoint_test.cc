#include "lra/checkpoint.h"

#include <cstring>
#include <string>

#include "config/text_proto.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

Tensor Filled(std::vector<int64_t> shape, float start) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = start + 0.5f * i;
  return t;
}

TEST(CheckpointTest, RoundTripsTensorsStepAndMetadata) {
  Tensor a = Filled({2, 3}, 1), b = Filled({4}, -7);
  const std::string path = TestTmpPath("round.ckpt");
  ASSERT_TRUE(
      SaveCheckpoint(path, 42, "meta data", {{"a", &a}, {"b", &b}}).ok());
  Tensor a2({2, 3}), b2({4});
  int64_t step = 0;
  std::string meta;
  // Order of the list does not matter; names do.
  ASSERT_TRUE(
      LoadCheckpoint(path, &step, &meta, {{"b", &b2}, {"a", &a2}}).ok());
  EXPECT_EQ(step, 42);
  EXPECT_EQ(meta, "meta data");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a2[i], a[i]);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(b2[i], b[i]);
}

TEST(CheckpointTest, CorruptFileIsRejectedAndTensorsUntouched) {
  Tensor a = Filled({64}, 3);
  const std::string path = TestTmpPath("corrupt.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, 1, "", {{"a", &a}}).ok());
  std::string bytes;
  ASSERT_TRUE(ReadFile(path, &bytes).ok());
  Tensor target({64});
  int64_t step = -1;
  std::string meta;
  // Truncated.
  ASSERT_TRUE(WriteFileAtomic(path, bytes.substr(0, bytes.size() / 2)).ok());
  absl::Status status = LoadCheckpoint(path, &step, &meta, {{"a", &target}});
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(status.message()).find(path), std::string::npos);
  // One flipped byte in the compressed body.
  std::string flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x5a;
  ASSERT_TRUE(WriteFileAtomic(path, flipped).ok());
  EXPECT_FALSE(LoadCheckpoint(path, &step, &meta, {{"a", &target}}).ok());
  // Not a checkpoint at all.
  ASSERT_TRUE(WriteFileAtomic(path, "hello").ok());
  status = LoadCheckpoint(path, &step, &meta, {{"a", &target}});
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(target[i], 0.0f);
  EXPECT_EQ(step, -1);
}

// Found by fuzz/checkpoint_fuzz: a header declaring far more bytes than the
// compressed body can inflate to was allocated before zlib failed.
TEST(CheckpointTest, DeclaredSizeLargerThanFileIsRefusedBeforeAllocating) {
  Tensor a = Filled({4}, 1);
  const std::string path = TestTmpPath("huge.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, 1, "", {{"a", &a}}).ok());
  std::string bytes;
  ASSERT_TRUE(ReadFile(path, &bytes).ok());
  const uint64_t huge = uint64_t{1} << 39;  // 512 GiB.
  std::memcpy(&bytes[8], &huge, sizeof(huge));
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  Tensor target({4});
  int64_t step = -1;
  std::string meta;
  absl::Status status = LoadCheckpoint(path, &step, &meta, {{"a", &target}});
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(status.message()).find("larger than the file"),
            std::string::npos)
      << status;
}

TEST(CheckpointTest, DifferentModelIsRejectedByName) {
  Tensor a = Filled({8}, 0);
  const std::string path = TestTmpPath("model.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, 1, "", {{"layer0.w", &a}}).ok());
  Tensor wrong_size({9}), other({8});
  int64_t step;
  std::string meta;
  absl::Status status =
      LoadCheckpoint(path, &step, &meta, {{"layer0.w", &wrong_size}});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(status.message()).find("layer0.w"), std::string::npos);
  status = LoadCheckpoint(path, &step, &meta, {{"layer1.w", &other}});
  EXPECT_NE(std::string(status.message()).find("layer1.w"), std::string::npos);
  status = LoadCheckpoint(TestTmpPath("missing.ckpt"), &step, &meta,
                          {{"a", &other}});
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace lra
