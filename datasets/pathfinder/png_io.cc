#include "datasets/pathfinder/png_io.h"

#include <png.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace pathfinder {
namespace {

// Frees libpng's reader state on every path out of a read.
class ImageReader {
 public:
  ImageReader() {
    std::memset(&image_, 0, sizeof(image_));
    image_.version = PNG_IMAGE_VERSION;
  }
  ~ImageReader() { png_image_free(&image_); }
  png_image* get() { return &image_; }

 private:
  png_image image_;
};

absl::Status PngError(const std::string& path, const png_image& image,
                      absl::string_view action) {
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": cannot ", action, " PNG (libpng: ", image.message, ")"));
}

// Opens the file first so that a missing file is reported as such, not as
// a libpng message.
absl::Status BeginRead(const std::string& path, png_image* image) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open (", std::strerror(errno), ")"));
  }
  std::fclose(file);
  if (!png_image_begin_read_from_file(image, path.c_str())) {
    return PngError(path, *image, "read");
  }
  image->format = PNG_FORMAT_GRAY;
  return absl::OkStatus();
}

// Encodes in memory, then writes atomically (a temporary file beside `path`
// renamed into place), so a failed or killed write never leaves a
// half-written PNG where an earlier one was.
absl::Status Write(const std::string& path, int width, int height,
                   uint32_t format, const uint8_t* pixels) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = format;
  // The first call (no buffer) gives an upper bound of the size.
  png_alloc_size_t bytes = 0;
  std::string encoded;
  bool ok = png_image_write_to_memory(&image, nullptr, &bytes,
                                      /*convert_to_8bit=*/0, pixels,
                                      /*row_stride=*/0, /*colormap=*/nullptr);
  if (ok) {
    encoded.resize(bytes);
    ok = png_image_write_to_memory(&image, encoded.data(), &bytes,
                                   /*convert_to_8bit=*/0, pixels,
                                   /*row_stride=*/0, /*colormap=*/nullptr);
  }
  if (!ok) {
    absl::Status status = PngError(path, image, "write");
    png_image_free(&image);
    return status;
  }
  encoded.resize(bytes);
  return WriteFileAtomic(path, encoded);
}

}  // namespace

absl::StatusOr<PngImage> ReadGrayPng(const std::string& path) {
  ImageReader reader;
  RETURN_IF_ERROR(BeginRead(path, reader.get()));
  PngImage out;
  out.width = static_cast<int>(reader.get()->width);
  out.height = static_cast<int>(reader.get()->height);
  out.channels = 1;
  out.pixels.resize(PNG_IMAGE_SIZE(*reader.get()));
  if (!png_image_finish_read(reader.get(), /*background=*/nullptr,
                             out.pixels.data(), /*row_stride=*/0,
                             /*colormap=*/nullptr)) {
    return PngError(path, *reader.get(), "decode");
  }
  return out;
}

absl::Status ReadGrayPngInto(const std::string& path, int width, int height,
                             uint8_t* pixels) {
  ImageReader reader;
  RETURN_IF_ERROR(BeginRead(path, reader.get()));
  const png_image& image = *reader.get();
  if (static_cast<int>(image.width) != width ||
      static_cast<int>(image.height) != height) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": image is ", image.width, "x", image.height,
                     " pixels (allowed: ", width, "x", height, ")"));
  }
  if (!png_image_finish_read(reader.get(), /*background=*/nullptr, pixels,
                             /*row_stride=*/0, /*colormap=*/nullptr)) {
    return PngError(path, *reader.get(), "decode");
  }
  return absl::OkStatus();
}

absl::Status WriteGrayPng(const std::string& path, int width, int height,
                          const uint8_t* pixels) {
  return Write(path, width, height, PNG_FORMAT_GRAY, pixels);
}

absl::Status WriteRgbPng(const std::string& path, int width, int height,
                         const uint8_t* pixels) {
  return Write(path, width, height, PNG_FORMAT_RGB, pixels);
}

}  // namespace pathfinder
}  // namespace lra
