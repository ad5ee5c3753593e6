// Fuzz target: checkpoint files (lra/checkpoint.h), loaded into a model of
// two tensors ("embed" [2, 3] and "head" [4]). The first byte picks what the
// rest is: even, a whole checkpoint file; odd, the payload inside one, which
// the target compresses and checksums as SaveCheckpoint does so that the
// fuzzer reaches the record parser behind the CRC. A load that fails must
// leave the tensors unchanged.
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/fuzz_files.h"
#include "lra/checkpoint.h"
#include "models/tensor.h"

namespace {

std::string WrapPayload(const std::string& payload) {
  uLongf compressed_size = compressBound(payload.size());
  std::string file(24 + compressed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(&file[24]), &compressed_size,
                reinterpret_cast<const Bytef*>(payload.data()), payload.size(),
                Z_BEST_SPEED) != Z_OK) {
    std::abort();
  }
  file.resize(24 + compressed_size);
  const uint64_t raw_size = payload.size();
  const uint32_t crc =
      crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), payload.size());
  std::memcpy(&file[0], "LRACKPT1", 8);
  std::memcpy(&file[8], &raw_size, 8);
  std::memcpy(&file[16], &crc, 4);
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string path = lra::fuzz::ScratchDir() + "/checkpoint.bin";
  lra::fuzz::WriteBytes(path, (data[0] & 1) ? WrapPayload(rest) : rest);
  lra::Tensor embed({2, 3});
  lra::Tensor head({4});
  for (int i = 0; i < 6; ++i) embed.data()[i] = 0.5f + i;
  for (int i = 0; i < 4; ++i) head.data()[i] = -1.0f - i;
  const lra::NamedTensors tensors = {{"embed", &embed}, {"head", &head}};
  int64_t step = -7;
  std::string metadata = "unchanged";
  const absl::Status status =
      lra::LoadCheckpoint(path, &step, &metadata, tensors);
  if (!status.ok()) {
    bool unchanged = step == -7 && metadata == "unchanged";
    for (int i = 0; i < 6; ++i) unchanged &= embed.data()[i] == 0.5f + i;
    for (int i = 0; i < 4; ++i) unchanged &= head.data()[i] == -1.0f - i;
    if (!unchanged) std::abort();
  }
  return 0;
}
