// Helpers for fuzz targets whose parser reads files: one scratch folder per
// process, and writing the fuzzer's bytes into it.
#ifndef FUZZ_FUZZ_FILES_H_
#define FUZZ_FUZZ_FILES_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace lra {
namespace fuzz {

// A folder private to this process, made on first use under $TEST_TMPDIR,
// else $TMPDIR, else /tmp, and removed at exit.
const std::string& ScratchDir();

// Writes `size` bytes to `path` (replacing it); aborts when that fails, since
// a fuzz run that cannot write its input tests nothing.
void WriteBytes(const std::string& path, const uint8_t* data, size_t size);
void WriteBytes(const std::string& path, const std::string& data);

// Removes `path` and everything under it; ignores errors.
void RemoveTree(const std::string& path);

// Makes `dir` and its parents; aborts when that fails.
void MakeDir(const std::string& dir);

}  // namespace fuzz
}  // namespace lra

// The libFuzzer entry point every target defines.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#endif  // FUZZ_FUZZ_FILES_H_
