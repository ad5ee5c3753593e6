#include "datasets/image/cifar.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace image {
namespace {

using ::testing::HasSubstr;

TEST(CifarTest, GrayscaleFollowsTensorFlow) {
  // 255.5 * (0.2989 R + 0.5870 G + 0.1140 B) / 255, truncated.
  EXPECT_EQ(LraGray(0, 0, 0), 0);
  EXPECT_EQ(LraGray(255, 255, 255), 255);  // 255.47
  EXPECT_EQ(LraGray(255, 0, 0), 76);       // 76.37
  EXPECT_EQ(LraGray(0, 255, 0), 149);      // 149.98: truncated, not rounded
  EXPECT_EQ(LraGray(0, 0, 255), 29);       // 29.13
  EXPECT_EQ(LraGray(100, 150, 200), 141);  // 141.02
  EXPECT_EQ(LraGray(1, 1, 1), 1);          // 1.0018
  EXPECT_EQ(LraGray(128, 128, 128), 128);  // 128.24
}

// A record whose pixel p has R = p % 256, G = 0, B = 0, except pixel 0,
// which is (100, 150, 200).
std::string Record(int label) {
  std::string record(kCifarRecordBytes, '\0');
  record[0] = static_cast<char>(label);
  for (int p = 0; p < kCifarPixels; ++p) record[1 + p] = static_cast<char>(p);
  record[1] = 100;
  record[1 + kCifarPixels] = static_cast<char>(150);
  record[1 + 2 * kCifarPixels] = static_cast<char>(200);
  return record;
}

TEST(CifarTest, ReadsRecordsAsGrayImages) {
  const std::string path = EmptyTestDir("cifar_one") + "/batch.bin";
  std::ofstream(path, std::ios::binary) << Record(3) << Record(9);
  absl::StatusOr<GrayImages> images = ReadCifarBatch(path);
  ASSERT_TRUE(images.ok()) << images.status();
  ASSERT_EQ(images->size(), 2);
  EXPECT_EQ(images->labels, (std::vector<int32_t>{3, 9}));
  EXPECT_EQ(images->pixels.size(), 2u * kCifarPixels);
  EXPECT_EQ(images->pixels[0], 141);
  EXPECT_EQ(images->pixels[255], 76);  // R = 255 only.
  EXPECT_EQ(images->pixels[256], 0);   // R = 0.
  EXPECT_EQ(images->pixels[kCifarPixels + 255], 76);
}

TEST(CifarTest, MalformedBatchesNameFileAndRecord) {
  const std::string dir = EmptyTestDir("cifar_bad");
  std::ofstream(dir + "/short.bin", std::ios::binary)
      << Record(1) << Record(2) << std::string(10, 'x');
  absl::StatusOr<GrayImages> images = ReadCifarBatch(dir + "/short.bin");
  ASSERT_FALSE(images.ok());
  EXPECT_THAT(std::string(images.status().message()),
              HasSubstr(dir + "/short.bin: record 2 is cut short: the file "
                              "has 6156 bytes (allowed: a positive multiple "
                              "of 3073"));
  std::ofstream(dir + "/label.bin", std::ios::binary)
      << Record(1) << Record(10);
  images = ReadCifarBatch(dir + "/label.bin");
  ASSERT_FALSE(images.ok());
  EXPECT_THAT(std::string(images.status().message()),
              HasSubstr(dir + "/label.bin: record 1 (byte offset 3073) has "
                              "label 10 (allowed: 0..9)"));
  images = ReadCifarBatch(dir + "/none.bin");
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(images.status().message()),
              HasSubstr("cannot open CIFAR-10 batch '" + dir + "/none.bin'"));
}

TEST(CifarTest, SplitsTheTrainingPoolNinetyTen) {
  const std::string dir = EmptyTestDir("cifar_split");
  // Five batches of 4 records; labels number the records 0..19 mod 10.
  for (int batch = 1; batch <= 5; ++batch) {
    std::ofstream out(absl::StrCat(dir, "/data_batch_", batch, ".bin"),
                      std::ios::binary);
    for (int r = 0; r < 4; ++r) out << Record(((batch - 1) * 4 + r) % 10);
  }
  std::ofstream(dir + "/test_batch.bin", std::ios::binary) << Record(7);
  absl::StatusOr<GrayImages> train = ReadCifarSplit(dir, 0);
  absl::StatusOr<GrayImages> val = ReadCifarSplit(dir, 1);
  absl::StatusOr<GrayImages> test = ReadCifarSplit(dir, 2);
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_TRUE(val.ok()) << val.status();
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(train->size(), 18);
  EXPECT_EQ(train->labels[17], 7);
  EXPECT_EQ(val->labels, (std::vector<int32_t>{8, 9}));  // Records 18, 19.
  EXPECT_EQ(val->pixels.size(), 2u * kCifarPixels);
  EXPECT_EQ(test->labels, (std::vector<int32_t>{7}));

  std::filesystem::remove(dir + "/data_batch_4.bin");
  absl::StatusOr<GrayImages> missing = ReadCifarSplit(dir, 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("data_batch_4.bin"));
}

}  // namespace
}  // namespace image
}  // namespace lra
