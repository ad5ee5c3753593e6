#include "datasets/pathfinder/render.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "datasets/pathfinder/png_io.h"
#include "datasets/pathfinder/task.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace pathfinder {
namespace {

// Frame colours, distinguishable with the common colour-vision deficiencies.
constexpr uint8_t kConnectedColour[3] = {40, 110, 230};    // blue, label 1
constexpr uint8_t kSeparateColour[3] = {240, 150, 20};     // orange, label 0
constexpr uint8_t kBackgroundColour[3] = {255, 255, 255};  // between tiles
constexpr int kFrame = 4;
constexpr int kGap = 4;
constexpr int kMinTilePixels = 128;

}  // namespace

absl::Status WriteContactSheet(const std::string& path, int resolution,
                               const std::vector<std::vector<uint8_t>>& images,
                               const std::vector<int32_t>& labels) {
  const int count = static_cast<int>(
      std::min<int64_t>(images.size(), kMaxContactSheetImages));
  if (count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": a contact sheet needs at least one image"));
  }
  const int scale = std::max(1, kMinTilePixels / resolution);
  const int tile = resolution * scale + 2 * kFrame;
  const int columns =
      static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
  const int rows = (count + columns - 1) / columns;
  const int width = columns * tile + (columns + 1) * kGap;
  const int height = rows * tile + (rows + 1) * kGap;
  std::vector<uint8_t> sheet(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < sheet.size(); i += 3) {
    std::copy(kBackgroundColour, kBackgroundColour + 3, sheet.begin() + i);
  }
  for (int k = 0; k < count; ++k) {
    const int left = kGap + (k % columns) * (tile + kGap);
    const int top = kGap + (k / columns) * (tile + kGap);
    const uint8_t* frame = labels[k] == 1 ? kConnectedColour : kSeparateColour;
    for (int y = 0; y < tile; ++y) {
      for (int x = 0; x < tile; ++x) {
        uint8_t* out = sheet.data() +
                       (static_cast<size_t>(top + y) * width + left + x) * 3;
        const int ix = x - kFrame, iy = y - kFrame;
        if (ix < 0 || iy < 0 || ix >= resolution * scale ||
            iy >= resolution * scale) {
          std::copy(frame, frame + 3, out);
          continue;
        }
        const uint8_t value =
            images[k]
                  [static_cast<size_t>(iy / scale) * resolution + ix / scale];
        out[0] = out[1] = out[2] = value;
      }
    }
  }
  return WriteRgbPng(path, width, height, sheet.data());
}

absl::Status WritePathfinderPngs(const TaskConfig& task, Split split,
                                 int64_t count, const std::string& out_dir,
                                 const std::string& workspace_dir) {
  if (count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("count = ", count, " (allowed: > 0)"));
  }
  TaskConfig resolved = task;
  RETURN_IF_ERROR(resolved.name() == "pathx"
                      ? ResolvePathXParams(&resolved)
                      : ResolvePathfinderParams(&resolved));
  // Only the requested images: generated images do not depend on the split
  // size, and official ones are the first of their split.
  resolved.set_train_size(static_cast<int32_t>(count));
  resolved.set_val_size(static_cast<int32_t>(count));
  resolved.set_test_size(static_cast<int32_t>(count));
  resolved.mutable_pathfinder()->clear_cache_dir();
  ASSIGN_OR_RETURN(std::unique_ptr<PathfinderDataset> dataset,
                   BuildPathfinderDataset(resolved, split, workspace_dir));

  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat(out_dir, ": cannot create folder (",
                                            error.message(), ")"));
  }
  const int resolution = dataset->resolution();
  std::vector<std::vector<uint8_t>> sheet_images;
  std::vector<int32_t> labels;
  std::string label_lines;
  std::vector<uint8_t> pixels(int64_t{resolution} * resolution);
  for (int64_t i = 0; i < count; ++i) {
    const int32_t label = dataset->GetPixels(i, pixels.data());
    const std::string name = absl::StrCat("sample_", i, ".png");
    RETURN_IF_ERROR(WriteGrayPng(absl::StrCat(out_dir, "/", name), resolution,
                                 resolution, pixels.data()));
    absl::StrAppend(&label_lines, name, " ", label, "\n");
    if (i < kMaxContactSheetImages) {
      sheet_images.push_back(pixels);
      labels.push_back(label);
    }
  }
  // Every file (the PNGs too, see png_io.h) is written to a temporary file
  // beside it and renamed into place: a failed or killed render leaves each
  // file either as it was or whole, never half-written.
  RETURN_IF_ERROR(
      WriteFileAtomic(absl::StrCat(out_dir, "/labels.txt"), label_lines));
  return WriteContactSheet(absl::StrCat(out_dir, "/contact_sheet.png"),
                           resolution, sheet_images, labels);
}

}  // namespace pathfinder
}  // namespace lra
