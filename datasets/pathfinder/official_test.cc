#include "datasets/pathfinder/official.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datasets/pathfinder/generator.h"
#include "datasets/pathfinder/png_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace pathfinder {
namespace {

using ::testing::HasSubstr;

PathfinderParams SmallParams() {
  PathfinderConfig config;
  config.set_resolution(32);
  config.set_contour_length(6);
  return *MakePathfinderParams(config);
}

constexpr int kImages = 48;
constexpr int kPerBatch = 4;  // 12 batches: "10.npy" must sort after "9.npy".

// LRA's layout with the difficulty folder under a release root.
std::string WriteRelease(const std::string& name) {
  const std::string root = FreshTestDir(name);
  EXPECT_TRUE(WriteOfficialFolder(SmallParams(), /*data_seed=*/4, kImages,
                                  kPerBatch, root + "/curv_baseline")
                  .ok());
  return root;
}

TEST(OfficialTest, FindsTheDifficultyFolderOrItsParent) {
  const std::string root = WriteRelease("find");
  const std::string folder = root + "/curv_baseline";
  EXPECT_EQ(*FindOfficialFolder(folder, 14), folder);
  EXPECT_EQ(*FindOfficialFolder(root, 6), folder);
  absl::StatusOr<std::string> missing = FindOfficialFolder(root, 14);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr(root + "/curv_contour_length_14/metadata"));
  missing = FindOfficialFolder(root, 10);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("contour_length = 10 has no folder"));
}

TEST(OfficialTest, ReadsMetadataInOrderAndImagesAsWritten) {
  const std::string folder = WriteRelease("read") + "/curv_baseline";
  absl::StatusOr<std::vector<OfficialEntry>> entries =
      ReadOfficialMetadata(folder);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), static_cast<size_t>(kImages));
  for (int i = 0; i < kImages; ++i) {
    EXPECT_EQ((*entries)[i].path,
              absl::StrCat(folder, "/imgs/", i / kPerBatch, "/sample_",
                           i % kPerBatch, ".png"));
  }
  EXPECT_EQ((*entries)[0].origin, folder + "/metadata/0.npy:1");
  EXPECT_EQ((*entries)[41].origin, folder + "/metadata/10.npy:2");

  // The images and labels are the generator's, in index order.
  ImageStore store(kImages, 32 * 32, /*compressed=*/false);
  ASSERT_TRUE(LoadOfficialImages(*entries, 0, kImages, 32, &store).ok());
  const PathfinderGenerator generator(SmallParams());
  GeneratorScratch scratch;
  std::vector<uint8_t> expected(32 * 32), pixels(32 * 32);
  for (int i = 0; i < kImages; ++i) {
    const int label =
        generator.Generate(4, Split::kTrain, i, &scratch, expected.data());
    store.Read(i, pixels.data());
    EXPECT_EQ(pixels, expected) << i;
    EXPECT_EQ(store.label(i), label);
    EXPECT_EQ((*entries)[i].label, label);
  }
}

TEST(OfficialTest, SplitsEightyTenTen) {
  EXPECT_EQ(OfficialSplitRange(200000, Split::kTrain),
            std::make_pair(int64_t{0}, int64_t{160000}));
  EXPECT_EQ(OfficialSplitRange(200000, Split::kVal),
            std::make_pair(int64_t{160000}, int64_t{180000}));
  EXPECT_EQ(OfficialSplitRange(200000, Split::kTest),
            std::make_pair(int64_t{180000}, int64_t{200000}));
  EXPECT_EQ(OfficialSplitRange(48, Split::kVal),
            std::make_pair(int64_t{38}, int64_t{43}));
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

TEST(OfficialTest, MalformedMetadataNamesFileAndLine) {
  const std::string folder = WriteRelease("malformed") + "/curv_baseline";
  const std::string file = folder + "/metadata/3.npy";
  WriteText(file, "imgs/3 sample_0.png 0 1 1.0 6\nimgs/3 sample_1.png\n");
  absl::StatusOr<std::vector<OfficialEntry>> entries =
      ReadOfficialMetadata(folder);
  EXPECT_THAT(std::string(entries.status().message()),
              HasSubstr(file + ":2: has 2 fields (allowed: at least 4"));

  WriteText(file, "\nimgs/3 sample_0.png 0 7 1.0 6\n");
  entries = ReadOfficialMetadata(folder);
  EXPECT_THAT(std::string(entries.status().message()),
              HasSubstr(file + ":2: label (field 4) = '7' (allowed: 0 or 1)"));

  WriteText(file, std::string("\x93NUMPY\x01\x00", 8) + "binary");
  entries = ReadOfficialMetadata(folder);
  EXPECT_THAT(std::string(entries.status().message()),
              HasSubstr(file + ":1: a binary NumPy file"));

  const std::string empty = FreshTestDir("empty");
  std::filesystem::create_directories(empty + "/metadata");
  entries = ReadOfficialMetadata(empty);
  EXPECT_THAT(std::string(entries.status().message()),
              HasSubstr("no *.npy metadata files"));
}

TEST(OfficialTest, ImagePathsThatLeaveTheFolderAreRefused) {
  const std::string folder = WriteRelease("escape") + "/curv_baseline";
  const std::string file = folder + "/metadata/5.npy";
  // A real file outside the folder: the refusal must come from the path,
  // not from a failed read.
  WriteText(folder + "/../outside.png", "x");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/etc passwd 0 1\n",
       "image subfolder (field 1) = '/etc' is an "
       "absolute path"},
      {"imgs/5 sample_0.png 0 1\n.. outside.png 1 0\n",
       ":2: image subfolder (field 1) = '..' has a '..' component"},
      {"imgs/5/../../.. outside.png 1 0\n",
       ":1: image subfolder (field 1) = 'imgs/5/../../..' has a '..'"},
      {"imgs/5 ../../outside.png 1 0\n",
       ":1: image file name (field 2) = '../../outside.png' has a '..'"},
      {"imgs/5 /etc/passwd 1 0\n",
       ":1: image file name (field 2) = '/etc/passwd' is an absolute path"},
      {"imgs//5 sample_0.png 1 0\n",
       ":1: image subfolder (field 1) = "
       "'imgs//5' has an empty or '.'"},
  };
  for (const auto& [text, expected] : cases) {
    WriteText(file, text);
    absl::StatusOr<std::vector<OfficialEntry>> entries =
        ReadOfficialMetadata(folder);
    EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
    EXPECT_THAT(std::string(entries.status().message()),
                HasSubstr(file + (expected[0] == ':' ? "" : ":1: ") + expected))
        << text;
  }
}

// Every file under `dir`, relative to it.
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.push_back(std::filesystem::relative(entry.path(), dir).string());
    }
  }
  return files;
}

TEST(OfficialTest, FailedExportLeavesNoHalfWrittenFile) {
  // An image that cannot be moved into place (a folder holds its name):
  // the error names it, no metadata lists the images, and no temporary
  // file is left.
  std::string folder = FreshTestDir("export_png") + "/curv_baseline";
  std::filesystem::create_directories(folder + "/imgs/2/sample_1.png");
  absl::Status status =
      WriteOfficialFolder(SmallParams(), 4, kImages, kPerBatch, folder);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(folder + "/imgs/2/sample_1.png: cannot move"));
  for (const std::string& file : FilesUnder(folder)) {
    EXPECT_THAT(file, ::testing::Not(HasSubstr(".tmp"))) << file;
    EXPECT_THAT(file, ::testing::Not(HasSubstr("metadata/"))) << file;
  }
  EXPECT_FALSE(ReadOfficialMetadata(folder).ok());

  // A metadata file that cannot be written: the error names it and no
  // temporary file is left.
  folder = FreshTestDir("export_metadata") + "/curv_baseline";
  std::filesystem::create_directories(folder + "/metadata/3.npy");
  status = WriteOfficialFolder(SmallParams(), 4, kImages, kPerBatch, folder);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(folder + "/metadata/3.npy"));
  const std::vector<std::string> files = FilesUnder(folder);
  EXPECT_EQ(files.size(), static_cast<size_t>(kImages + 3));  // 0-2.npy
  for (const std::string& file : files) {
    EXPECT_THAT(file, ::testing::Not(HasSubstr(".tmp"))) << file;
  }
}

TEST(OfficialTest, MissingCorruptOrWrongSizeImagesNameThePngAndItsLine) {
  const std::string folder = WriteRelease("images") + "/curv_baseline";
  absl::StatusOr<std::vector<OfficialEntry>> entries =
      ReadOfficialMetadata(folder);
  ASSERT_TRUE(entries.ok());
  ImageStore store(kImages, 32 * 32, /*compressed=*/true);

  const std::string missing = folder + "/imgs/2/sample_1.png";
  std::filesystem::remove(missing);
  absl::Status status = LoadOfficialImages(*entries, 0, kImages, 32, &store);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr(missing));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("listed at " + folder + "/metadata/2.npy:2"));
  // Images before the broken one load fine.
  EXPECT_TRUE(LoadOfficialImages(*entries, 0, 9, 32, &store).ok());

  const std::string corrupt = folder + "/imgs/0/sample_3.png";
  WriteText(corrupt, "not a png");
  status = LoadOfficialImages(*entries, 0, 9, 32, &store);
  EXPECT_THAT(std::string(status.message()), HasSubstr(corrupt));
  EXPECT_THAT(std::string(status.message()), HasSubstr("metadata/0.npy:4"));

  const std::string small = folder + "/imgs/0/sample_2.png";
  const std::vector<uint8_t> pixels(16 * 16, 9);
  ASSERT_TRUE(WriteGrayPng(small, 16, 16, pixels.data()).ok());
  status = LoadOfficialImages(*entries, 0, 9, 32, &store);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(small + ": image is 16x16 pixels (allowed: 32x32)"));
}

}  // namespace
}  // namespace pathfinder
}  // namespace lra
