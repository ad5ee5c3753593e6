// Reading and writing PNG files with libpng's simplified API, for
// Pathfinder's official images, `lra data render` and contact sheets.
#ifndef LRA_DATASETS_PATHFINDER_PNG_IO_H_
#define LRA_DATASETS_PATHFINDER_PNG_IO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lra {
namespace pathfinder {

// A decoded 8-bit image, row-major, `channels` bytes per pixel.
struct PngImage {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // [height, width, channels]
};

// Reads any PNG as 8-bit grayscale (colour, palette and 16-bit files are
// converted by libpng). Errors name the path: missing file, not a PNG,
// truncated or corrupt data.
absl::StatusOr<PngImage> ReadGrayPng(const std::string& path);

// Same, but the image must be width x height; decodes straight into
// `pixels` ([height, width]).
absl::Status ReadGrayPngInto(const std::string& path, int width, int height,
                             uint8_t* pixels);

// Writes an 8-bit grayscale ([height, width]) or RGB ([height, width, 3])
// image atomically: encoded in memory, written to a temporary file beside
// `path` and renamed into place, so a failed write leaves an earlier file
// whole and no temporary file behind.
absl::Status WriteGrayPng(const std::string& path, int width, int height,
                          const uint8_t* pixels);
absl::Status WriteRgbPng(const std::string& path, int width, int height,
                         const uint8_t* pixels);

}  // namespace pathfinder
}  // namespace lra

#endif  // LRA_DATASETS_PATHFINDER_PNG_IO_H_
