// Fuzz target: LRA's Retrieval (AAN) pair files
// (datasets/retrieval/aan.h). The bytes are a whole file, read with a small
// and a large text cut.
#include <cstdlib>

#include "datasets/retrieval/aan.h"
#include "fuzz/fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra::fuzz::ScratchDir() + "/pairs.tsv";
  lra::fuzz::WriteBytes(path, data, size);
  for (int max_bytes : {4, 4000}) {
    auto pairs = lra::retrieval::ReadAanTsv(path, /*max_rows=*/1000, max_bytes);
    if (!pairs.ok()) continue;
    const size_t n = pairs->labels.size();
    if (pairs->first.size() != n || pairs->second.size() != n) std::abort();
    for (size_t i = 0; i < n; ++i) {
      if (pairs->labels[i] != 0 && pairs->labels[i] != 1) std::abort();
      if (pairs->first[i].size() > static_cast<size_t>(max_bytes) ||
          pairs->second[i].size() > static_cast<size_t>(max_bytes)) {
        std::abort();
      }
    }
  }
  return 0;
}
