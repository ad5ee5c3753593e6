#include "util/files.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace lra {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(FilesTest, MissingFileIsNotFoundWithPath) {
  std::string contents;
  absl::Status status = ReadFile("/nonexistent/dir/t.pbtxt", &contents);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(status.message()).find("/nonexistent/dir/t.pbtxt"),
            std::string::npos);
}

TEST(FilesTest, AtomicWriteReplacesWholeFile) {
  const std::string path = TempDir() + "/atomic.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "first version, long").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second").ok());
  std::string contents;
  ASSERT_TRUE(ReadFile(path, &contents).ok());
  EXPECT_EQ(contents, "second");
  EXPECT_FALSE(FileExists(path + ".tmp." + std::to_string(getpid())));
}

TEST(FilesTest, AtomicWriteIntoMissingFolderFailsWithPath) {
  absl::Status status = WriteFileAtomic(TempDir() + "/no/such/f.txt", "x");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("/no/such/f.txt"),
            std::string::npos)
      << status.message();
}

TEST(FilesTest, ResolvePathUsesWorkspace) {
  EXPECT_EQ(ResolvePath("/ws", "configs/a.pbtxt"), "/ws/configs/a.pbtxt");
  EXPECT_EQ(ResolvePath("/ws", "/abs/a.pbtxt"), "/abs/a.pbtxt");
  EXPECT_EQ(ResolvePath("", "rel"), "rel");
  EXPECT_EQ(ResolvePath("/ws", ""), "");
}

TEST(FilesTest, MakeDirsCreatesParents) {
  const std::string dir = TempDir() + "/a/b/c";
  ASSERT_TRUE(MakeDirs(dir).ok());
  EXPECT_TRUE(FileExists(dir));
  ASSERT_TRUE(WriteFileAtomic(TempDir() + "/a/file", "x").ok());
  EXPECT_FALSE(MakeDirs(TempDir() + "/a/file").ok());
}

}  // namespace
}  // namespace lra
