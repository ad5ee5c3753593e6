#include "config/test_paths.h"

#include <cstdlib>

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

}  // namespace lra
