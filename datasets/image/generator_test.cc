#include "datasets/image/generator.h"

#include <cstdio>
#include <string>
#include <vector>

#include "datasets/common/probe.h"
#include "datasets/image/oracle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace image {
namespace {

using ::testing::HasSubstr;

ImageConfig Config(int size = 32, float noise = 0.25f) {
  ImageConfig config;
  config.set_image_size(size);
  config.set_noise(noise);
  return config;
}

std::vector<int32_t> Generate(const ImageConfig& config, uint64_t seed,
                              Split split, int64_t index, int32_t* label) {
  std::vector<int32_t> tokens(config.image_size() * config.image_size(), -1);
  *label = GenerateImageExample(config, seed, split, index, tokens.data());
  return tokens;
}

TEST(ImageGeneratorTest, DeterministicBySeedSplitAndIndex) {
  int32_t a_label, b_label, label;
  const auto a = Generate(Config(), 1, Split::kTrain, 5, &a_label);
  const auto b = Generate(Config(), 1, Split::kTrain, 5, &b_label);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a_label, b_label);
  EXPECT_NE(Generate(Config(), 1, Split::kTrain, 6, &label), a);
  EXPECT_NE(Generate(Config(), 1, Split::kVal, 5, &label), a);
  EXPECT_NE(Generate(Config(), 2, Split::kTrain, 5, &label), a);
  for (int32_t id : a) {
    EXPECT_GE(id, 1);
    EXPECT_LE(id, 256);
  }
}

TEST(ImageGeneratorTest, TheOracleReadsTheClassOffThePicture) {
  // Counting objects and holes after smoothing and thresholding recovers
  // the label, so the label is determined by the image.
  std::vector<int> seen(kNumShapeClasses, 0), right(kNumShapeClasses, 0);
  const int n = 1000;
  for (int64_t i = 0; i < n; ++i) {
    int32_t label;
    const auto tokens = Generate(Config(), 3, Split::kTest, i, &label);
    ++seen[label];
    right[label] += ClassifyShapes(DescribeImage(tokens, 32)) == label;
  }
  int correct = 0;
  for (int c = 0; c < kNumShapeClasses; ++c) {
    EXPECT_GT(seen[c], n / 20) << ShapeClassName(c);
    EXPECT_GE(right[c], seen[c] * 0.9) << ShapeClassName(c);
    correct += right[c];
  }
  const double accuracy = static_cast<double>(correct) / n;
  std::printf("oracle accuracy at 32 x 32, noise 0.25: %.3f\n", accuracy);
  EXPECT_GT(accuracy, 0.98);
}

struct Features {
  probe::Matrix histograms;
  std::vector<int> labels;
};

Features Collect(Split split, int n, bool plant_leak) {
  Features out;
  for (int64_t i = 0; i < n; ++i) {
    int32_t label;
    auto tokens = Generate(Config(), 4, split, i, &label);
    // The leak: disk images use even pixel values only.
    if (plant_leak && label == 0) {
      for (int32_t& id : tokens) id = ((id - 1) & ~1) + 1;
    }
    out.histograms.push_back(probe::TokenHistogram(tokens, 257));
    out.labels.push_back(label);
  }
  return out;
}

TEST(ImageGeneratorTest, ThePixelHistogramCarriesNoLabel) {
  const Features train = Collect(Split::kTrain, 1500, false);
  const Features test = Collect(Split::kVal, 1500, false);
  const double by_histogram = probe::LinearProbeAccuracy(
      train.histograms, train.labels, test.histograms, test.labels, 10);
  // Chance is 0.1; 1500 test images put 3 standard deviations at 0.023.
  EXPECT_LT(by_histogram, 0.13);
  std::printf("linear probe on the pixel histogram: %.3f\n", by_histogram);
}

TEST(ImageGeneratorTest, TheHistogramProbeWouldSeeAHistogramLeak) {
  const Features train = Collect(Split::kTrain, 800, true);
  const Features test = Collect(Split::kVal, 800, true);
  // Disks (a tenth of the images) are now told apart from the rest, which
  // lifts the accuracy from 0.1 to about 0.2.
  EXPECT_GT(probe::LinearProbeAccuracy(train.histograms, train.labels,
                                       test.histograms, test.labels, 10),
            0.16);
}

TEST(ImageGeneratorTest, ValidationNamesTheField) {
  EXPECT_TRUE(ValidateImageStandIn(Config(), 1024, "task.image.").ok());
  EXPECT_TRUE(ValidateImageStandIn(Config(24), 576, "task.image.").ok());
  EXPECT_THAT(
      std::string(
          ValidateImageStandIn(Config(16), 256, "task.image.").message()),
      HasSubstr("task.image.image_size = 16 is invalid (allowed: "
                "24..64)"));
  EXPECT_THAT(
      std::string(
          ValidateImageStandIn(Config(24), 1024, "task.image.").message()),
      HasSubstr("task.seq_len = 1024 is invalid (allowed: 576 = "
                "task.image.image_size^2)"));
  EXPECT_THAT(
      std::string(
          ValidateImageStandIn(Config(32, -1), 1024, "task.image.").message()),
      HasSubstr("task.image.noise = -1 is invalid"));
}

}  // namespace
}  // namespace image
}  // namespace lra
