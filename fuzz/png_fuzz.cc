// Fuzz target: Pathfinder's PNG images (datasets/pathfinder/png_io.h), read
// both ways the harness reads them: any size, and into a 32x32 buffer.
#include <cstdlib>
#include <vector>

#include "datasets/pathfinder/png_io.h"
#include "fuzz/fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra::fuzz::ScratchDir() + "/image.png";
  lra::fuzz::WriteBytes(path, data, size);
  auto image = lra::pathfinder::ReadGrayPng(path);
  if (image.ok()) {
    if (image->width <= 0 || image->height <= 0 || image->channels != 1 ||
        image->pixels.size() !=
            static_cast<size_t>(image->width) * image->height) {
      std::abort();
    }
  }
  std::vector<uint8_t> pixels(32 * 32);
  (void)lra::pathfinder::ReadGrayPngInto(path, 32, 32, pixels.data());
  return 0;
}
