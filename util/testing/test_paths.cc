#include "util/testing/test_paths.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "util/files.h"

namespace lra {

std::string TestWorkspace() {
  const char* root = std::getenv("TEST_SRCDIR");
  return std::string(root != nullptr ? root : ".") + "/lra_harness";
}

std::string TestTmpPath(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  return std::string(root != nullptr ? root : "/tmp") + "/" + name;
}

std::string MakeTestTmpDir(const std::string& name) {
  const std::string dir = TestTmpPath(name);
  absl::Status status = MakeDirs(dir);
  EXPECT_TRUE(status.ok()) << status;
  return dir;
}

std::string FreshTestDir(const std::string& name) {
  const std::string dir = TestTmpPath(name);
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  EXPECT_FALSE(error) << dir << ": " << error.message();
  return dir;
}

std::string EmptyTestDir(const std::string& name) {
  const std::string dir = FreshTestDir(name);
  absl::Status status = MakeDirs(dir);
  EXPECT_TRUE(status.ok()) << status;
  return dir;
}

std::string WriteTestFile(const std::string& path, absl::string_view contents) {
  const std::filesystem::path parent =
      std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    absl::Status status = MakeDirs(parent.string());
    EXPECT_TRUE(status.ok()) << status;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  EXPECT_TRUE(out.good()) << "cannot write " << path;
  return path;
}

}  // namespace lra
