#include "datasets/pathfinder/png_io.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace pathfinder {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> Gradient(int width, int height) {
  std::vector<uint8_t> pixels(width * height);  // [height, width]
  for (int i = 0; i < width * height; ++i) pixels[i] = (i * 37 + 11) % 256;
  return pixels;
}

TEST(PngIoTest, GrayRoundTripIsExact) {
  const std::string path = TestTmpPath("gray.png");
  const std::vector<uint8_t> pixels = Gradient(32, 24);
  ASSERT_TRUE(WriteGrayPng(path, 32, 24, pixels.data()).ok());
  absl::StatusOr<PngImage> image = ReadGrayPng(path);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, 32);
  EXPECT_EQ(image->height, 24);
  EXPECT_EQ(image->pixels, pixels);
  std::vector<uint8_t> into(32 * 24);
  ASSERT_TRUE(ReadGrayPngInto(path, 32, 24, into.data()).ok());
  EXPECT_EQ(into, pixels);
}

TEST(PngIoTest, ColourFilesAreReadAsGray) {
  const std::string path = TestTmpPath("rgb.png");
  // Equal channels stay the same value in gray.
  std::vector<uint8_t> rgb(4 * 4 * 3);
  for (int i = 0; i < 16; ++i)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = i * 16;
  ASSERT_TRUE(WriteRgbPng(path, 4, 4, rgb.data()).ok());
  absl::StatusOr<PngImage> image = ReadGrayPng(path);
  ASSERT_TRUE(image.ok()) << image.status();
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(image->pixels[i], i * 16, 1);
}

TEST(PngIoTest, WrongSizeNamesFileAndSizes) {
  const std::string path = TestTmpPath("small.png");
  const std::vector<uint8_t> pixels = Gradient(30, 30);
  ASSERT_TRUE(WriteGrayPng(path, 30, 30, pixels.data()).ok());
  std::vector<uint8_t> into(32 * 32);
  absl::Status status = ReadGrayPngInto(path, 32, 32, into.data());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(path + ": image is 30x30 pixels (allowed: 32x32)"));
}

TEST(PngIoTest, MissingTruncatedAndCorruptFilesAreErrorsNamingThePath) {
  const std::string missing = TestTmpPath("missing.png");
  absl::StatusOr<PngImage> image = ReadGrayPng(missing);
  EXPECT_EQ(image.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr(missing));

  const std::string good = TestTmpPath("good.png");
  const std::vector<uint8_t> pixels = Gradient(32, 32);
  ASSERT_TRUE(WriteGrayPng(good, 32, 32, pixels.data()).ok());
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  const std::string truncated = TestTmpPath("truncated.png");
  std::ofstream(truncated, std::ios::binary)
      << bytes.substr(0, bytes.size() / 2);
  std::vector<uint8_t> into(32 * 32);
  absl::Status status = ReadGrayPngInto(truncated, 32, 32, into.data());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(truncated));

  const std::string garbage = TestTmpPath("garbage.png");
  std::ofstream(garbage, std::ios::binary) << "not a png at all";
  image = ReadGrayPng(garbage);
  EXPECT_FALSE(image.ok());
  EXPECT_THAT(std::string(image.status().message()), HasSubstr(garbage));
}

TEST(PngIoTest, UnwritablePathIsAnError) {
  const std::vector<uint8_t> pixels = Gradient(4, 4);
  absl::Status status =
      WriteGrayPng("/nonexistent-folder/x.png", 4, 4, pixels.data());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("/nonexistent-folder/x.png"));
}

}  // namespace
}  // namespace pathfinder
}  // namespace lra
