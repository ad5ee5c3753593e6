// Fuzz target: CIFAR-10 binary batches (datasets/image/cifar.h). The bytes
// are a whole batch file; an accepted file holds whole records whose labels
// are 0..9.
#include <cstdlib>

#include "datasets/image/cifar.h"
#include "fuzz/fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra::fuzz::ScratchDir() + "/data_batch_1.bin";
  lra::fuzz::WriteBytes(path, data, size);
  auto images = lra::image::ReadCifarBatch(path);
  if (!images.ok()) return 0;
  const int64_t n = images->size();
  if (n * lra::image::kCifarRecordBytes != static_cast<int64_t>(size)) {
    std::abort();
  }
  if (static_cast<int64_t>(images->pixels.size()) !=
      n * lra::image::kCifarPixels) {
    std::abort();
  }
  for (int32_t label : images->labels) {
    if (label < 0 || label >= lra::image::kCifarClasses) std::abort();
  }
  return 0;
}
