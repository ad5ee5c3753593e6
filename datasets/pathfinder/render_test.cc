#include "datasets/pathfinder/render.h"

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "datasets/pathfinder/png_io.h"
#include "datasets/pathfinder/task.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/file_size_limit.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace pathfinder {
namespace {

TEST(RenderTest, WritesSamplesLabelsAndAContactSheet) {
  TaskConfig task;
  task.set_name("pathfinder");
  task.mutable_pathfinder()->set_contour_length(6);
  const std::string out = FreshTestDir("render");
  ASSERT_TRUE(WritePathfinderPngs(task, Split::kVal, 5, out).ok());

  // The samples are the split's images.
  TaskConfig resolved = task;
  ASSERT_TRUE(ResolvePathfinderParams(&resolved).ok());
  resolved.set_val_size(5);
  auto data = BuildPathfinderDataset(resolved, Split::kVal, "");
  ASSERT_TRUE(data.ok());
  std::vector<uint8_t> expected(32 * 32);
  std::vector<int32_t> labels;
  for (int i = 0; i < 5; ++i) {
    labels.push_back((*data)->GetPixels(i, expected.data()));
    absl::StatusOr<PngImage> image =
        ReadGrayPng(out + "/sample_" + std::to_string(i) + ".png");
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_EQ(image->pixels, expected);
  }
  std::ifstream in(out + "/labels.txt");
  std::string name;
  int label = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(in >> name >> label);
    EXPECT_EQ(name, "sample_" + std::to_string(i) + ".png");
    EXPECT_EQ(label, labels[i]);
  }

  // 3 x 2 tiles of 32 x 4 = 128 pixels framed by 4, 4 apart.
  absl::StatusOr<PngImage> sheet = ReadGrayPng(out + "/contact_sheet.png");
  ASSERT_TRUE(sheet.ok()) << sheet.status();
  EXPECT_EQ(sheet->width, 3 * 136 + 4 * 4);
  EXPECT_EQ(sheet->height, 2 * 136 + 3 * 4);
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

// A render that fails part-way (a full disk; here the file-size limit,
// which fails write() the same way) leaves every file of an earlier render
// whole and no temporary file. PNGs used to be written in place: the first
// one was cut short at the limit.
TEST(RenderTest, FailedRenderLeavesEarlierFilesWhole) {
  TaskConfig task;
  task.set_name("pathfinder");
  task.mutable_pathfinder()->set_contour_length(6);
  const std::string out = FreshTestDir("render_full_disk");
  ASSERT_TRUE(WritePathfinderPngs(task, Split::kVal, 3, out).ok());
  std::map<std::string, std::string> before;
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    before[entry.path().filename().string()] = Contents(entry.path());
  }
  ASSERT_EQ(before.size(), 5u);  // 3 samples, labels, the contact sheet.
  // Smaller than one sample: every write fails part-way.
  constexpr rlim_t kLimit = 100;
  ASSERT_LT(kLimit, before["sample_0.png"].size());
  absl::Status status;
  {
    FileSizeLimit limit(kLimit);
    ASSERT_TRUE(limit.active());
    status = WritePathfinderPngs(task, Split::kTest, 3, out);
  }
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr(out + "/sample_0.png"));
  std::map<std::string, std::string> after;
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    after[entry.path().filename().string()] = Contents(entry.path());
  }
  for (const auto& [name, contents] : before) {
    EXPECT_TRUE(after.count(name) && after[name] == contents)
        << name << " changed or missing";
  }
  EXPECT_EQ(after.size(), before.size()) << "files were added";
}

TEST(RenderTest, FramesAreColouredByLabel) {
  const std::string path = FreshTestDir("sheet") + ".png";
  const std::vector<std::vector<uint8_t>> images(2,
                                                 std::vector<uint8_t>(64 * 64));
  ASSERT_TRUE(WriteContactSheet(path, 64, images, {1, 0}).ok());
  // Read back as RGB through libpng's simplified API via gray would lose
  // the colour; instead compare the gray values of the two frames, which
  // differ (blue and orange have different luminance).
  absl::StatusOr<PngImage> sheet = ReadGrayPng(path);
  ASSERT_TRUE(sheet.ok());
  // 64-pixel images are doubled to 128; tiles are 136 wide, 4 apart.
  EXPECT_EQ(sheet->width, 2 * 136 + 3 * 4);
  const int y = 4 + 1;
  const uint8_t first_frame = sheet->pixels[y * sheet->width + 4 + 1];
  const uint8_t second_frame =
      sheet->pixels[y * sheet->width + 4 + 136 + 4 + 1];
  const uint8_t gap = sheet->pixels[1 * sheet->width + 1];
  EXPECT_NE(first_frame, second_frame);
  EXPECT_EQ(gap, 255);
  // Inside a tile: the (black) image.
  EXPECT_EQ(sheet->pixels[(4 + 60) * sheet->width + 4 + 60], 0);
}

TEST(RenderTest, RejectsNonPositiveCounts) {
  TaskConfig task;
  task.set_name("pathfinder");
  EXPECT_FALSE(WritePathfinderPngs(task, Split::kTrain, 0, "/tmp/x").ok());
}

}  // namespace
}  // namespace pathfinder
}  // namespace lra
