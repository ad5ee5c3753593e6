// Fuzz target: Pathfinder's official metadata files
// (datasets/pathfinder/official.h). The bytes are metadata/0.npy of a
// difficulty folder; the images it lists are then loaded at 32x32 from the
// folder, which holds one valid PNG at imgs/0/sample_0.png, so a line that
// names it reaches the decoder. Checks that every listed image path stays
// inside the folder.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "datasets/pathfinder/image_store.h"
#include "datasets/pathfinder/official.h"
#include "datasets/pathfinder/png_io.h"
#include "fuzz/fuzz_files.h"

namespace {

const std::string& Folder() {
  static const std::string* folder = [] {
    auto* dir = new std::string(lra::fuzz::ScratchDir() + "/curv_baseline");
    lra::fuzz::MakeDir(*dir + "/metadata");
    lra::fuzz::MakeDir(*dir + "/imgs/0");
    std::vector<uint8_t> pixels(32 * 32);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = i % 251;
    if (!lra::pathfinder::WriteGrayPng(*dir + "/imgs/0/sample_0.png", 32, 32,
                                       pixels.data())
             .ok()) {
      std::abort();
    }
    return dir;
  }();
  return *folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& folder = Folder();
  lra::fuzz::WriteBytes(folder + "/metadata/0.npy", data, size);
  auto entries = lra::pathfinder::ReadOfficialMetadata(folder);
  if (!entries.ok()) return 0;
  for (const auto& entry : *entries) {
    if (entry.label != 0 && entry.label != 1) std::abort();
    // Every image path stays inside the folder: no absolute subfolder and
    // no ".." component.
    if (entry.path.rfind(folder + "/", 0) != 0) std::abort();
    const std::string rest = entry.path.substr(folder.size());
    if (rest.find("/../") != std::string::npos ||
        rest.size() >= 3 && rest.compare(rest.size() - 3, 3, "/..") == 0) {
      std::abort();
    }
  }
  const int64_t count = std::min<int64_t>(entries->size(), 4);
  if (count == 0) return 0;
  lra::pathfinder::ImageStore store(count, 32 * 32, /*compressed=*/false);
  (void)lra::pathfinder::LoadOfficialImages(*entries, 0, count, 32, &store);
  return 0;
}
