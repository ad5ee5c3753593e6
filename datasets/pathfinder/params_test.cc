#include "datasets/pathfinder/params.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace pathfinder {
namespace {

using ::testing::HasSubstr;

TEST(ParamsTest, StylesFollowLraPerResolution) {
  // Marker radius, paddle thickness and distractor budget per resolution,
  // from LRA's pathfinder.py; 20 pixels is not LRA's and keeps 32's
  // strokes with its budget scaled by the area.
  const struct {
    int resolution;
    double radius, thickness;
    int budget;
  } expected[] = {{20, 1.5, 0.5, 8},
                  {32, 1.5, 0.5, 20},
                  {64, 2.5, 1.0, 22},
                  {128, 3.0, 1.5, 35},
                  {256, 5.0, 2.0, 30}};
  for (const auto& e : expected) {
    const ResolutionStyle* style = FindResolutionStyle(e.resolution);
    ASSERT_NE(style, nullptr) << e.resolution;
    EXPECT_EQ(style->resolution, e.resolution);
    EXPECT_DOUBLE_EQ(style->marker_radius, e.radius);
    EXPECT_DOUBLE_EQ(style->thickness, e.thickness);
    EXPECT_EQ(style->distractor_budget, e.budget);
  }
  EXPECT_EQ(FindResolutionStyle(48), nullptr);
  // Path-X draws its margin from {2, 3}; the others have one margin.
  EXPECT_EQ(FindResolutionStyle(128)->margin_count, 2);
  EXPECT_EQ(FindResolutionStyle(32)->margin_count, 1);
  EXPECT_DOUBLE_EQ(FindResolutionStyle(32)->paddle_length, 2.0);
  // 20 pixels (not LRA's) draws the strokes of 32 on pixel centres, with
  // contours of at most 5 paddles.
  EXPECT_DOUBLE_EQ(FindResolutionStyle(20)->paddle_length, 2.0);
  EXPECT_TRUE(FindResolutionStyle(20)->snap_to_pixel_centres);
  EXPECT_EQ(FindResolutionStyle(20)->margin_count, 1);
  EXPECT_EQ(FindResolutionStyle(20)->max_contour_length, 5);
  EXPECT_EQ(FindResolutionStyle(32)->max_contour_length, kMaxContourLength);
  EXPECT_EQ(FindResolutionStyle(16), nullptr);
}

TEST(ParamsTest, ReferenceDistractorsDivideTheBudgetByTheirLength) {
  // Distractors are a third of the contour long (integer division).
  EXPECT_EQ(ReferenceDistractors(*FindResolutionStyle(32), 14), 20 / 4);
  EXPECT_EQ(ReferenceDistractors(*FindResolutionStyle(32), 6), 20 / 2);
  EXPECT_EQ(ReferenceDistractors(*FindResolutionStyle(64), 9), 22 / 3);
  EXPECT_EQ(ReferenceDistractors(*FindResolutionStyle(128), 14), 35 / 4);
  EXPECT_EQ(ReferenceDistractors(*FindResolutionStyle(256), 14), 30 / 4);
}

TEST(ParamsTest, ResolveFillsDefaults) {
  PathfinderConfig config;
  ASSERT_TRUE(ResolvePathfinderConfig(&config, 128, "task.pathfinder.").ok());
  EXPECT_EQ(config.resolution(), 128);
  EXPECT_EQ(config.contour_length(), 14);
  EXPECT_EQ(config.distractors(), 8);
  EXPECT_EQ(config.max_memory_mb(), 1024);

  absl::StatusOr<PathfinderParams> params = MakePathfinderParams(config);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->contour_length, 14);
  EXPECT_EQ(params->distractor_length, 4);
  EXPECT_EQ(params->distractors, 8);
}

TEST(ParamsTest, MinusOneMeansNoDistractors) {
  PathfinderConfig config;
  config.set_resolution(32);
  config.set_distractors(-1);
  ASSERT_TRUE(ResolvePathfinderConfig(&config, 32, "p.").ok());
  EXPECT_EQ(config.distractors(), -1);
  EXPECT_EQ(MakePathfinderParams(config)->distractors, 0);
}

TEST(ParamsTest, ErrorsNameFieldValueAndAllowed) {
  PathfinderConfig config;
  config.set_resolution(48);
  absl::Status status =
      ResolvePathfinderConfig(&config, 32, "task.pathfinder.");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.pathfinder.resolution = 48 is invalid (allowed: "
                        "20, 32, 64, 128 or 256"));

  config.set_resolution(32);
  config.set_contour_length(15);
  status = ResolvePathfinderConfig(&config, 32, "task.pathfinder.");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.pathfinder.contour_length = 15 is invalid "
                        "(allowed: 4 to 14"));

  config.set_contour_length(3);
  EXPECT_FALSE(ResolvePathfinderConfig(&config, 32, "x.").ok());

  // 20 pixels holds contours of 4 or 5 paddles only.
  config.set_resolution(20);
  config.set_contour_length(6);
  status = ResolvePathfinderConfig(&config, 32, "task.pathfinder.");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.pathfinder.contour_length = 6 is invalid "
                        "(allowed: 4 to 5 paddles at 20 pixels"));
  config.set_contour_length(5);
  EXPECT_TRUE(ResolvePathfinderConfig(&config, 32, "x.").ok());
  config.set_resolution(32);

  config.set_contour_length(9);
  config.set_distractors(-2);
  status = ResolvePathfinderConfig(&config, 32, "task.pathfinder.");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.pathfinder.distractors = -2 is invalid"));

  config.set_distractors(0);
  config.set_max_memory_mb(-5);
  status = ResolvePathfinderConfig(&config, 32, "task.pathfinder.");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task.pathfinder.max_memory_mb = -5 is invalid"));
}

TEST(ParamsTest, DifficultyFoldersOfTheRelease) {
  EXPECT_EQ(DifficultyFolder(6), "curv_baseline");
  EXPECT_EQ(DifficultyFolder(9), "curv_contour_length_9");
  EXPECT_EQ(DifficultyFolder(14), "curv_contour_length_14");
  EXPECT_EQ(DifficultyFolder(10), "");
}

}  // namespace
}  // namespace pathfinder
}  // namespace lra
