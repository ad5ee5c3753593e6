#include "fuzz/fuzz_files.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace lra {
namespace fuzz {
namespace {

std::string MakeScratchDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string pattern = std::string(base) + "/lra_fuzz_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("fuzz: mkdtemp");
    std::abort();
  }
  return pattern;
}

}  // namespace

const std::string& ScratchDir() {
  static const std::string* dir = [] {
    auto* made = new std::string(MakeScratchDir());
    std::atexit([] { RemoveTree(ScratchDir()); });
    return made;
  }();
  return *dir;
}

void WriteBytes(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data),
            static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
}

void WriteBytes(const std::string& path, const std::string& data) {
  WriteBytes(path, reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

void RemoveTree(const std::string& path) {
  std::error_code error;
  std::filesystem::remove_all(path, error);
}

void MakeDir(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    std::fprintf(stderr, "fuzz: cannot make %s: %s\n", dir.c_str(),
                 error.message().c_str());
    std::abort();
  }
}

}  // namespace fuzz
}  // namespace lra
