#include "util/files.h"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

TEST(FilesTest, MissingFileIsNotFoundWithPath) {
  std::string contents;
  absl::Status status = ReadFile("/nonexistent/dir/t.pbtxt", &contents);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(status.message()).find("/nonexistent/dir/t.pbtxt"),
            std::string::npos);
}

TEST(FilesTest, AtomicWriteReplacesWholeFile) {
  const std::string path = TestTmpPath("atomic.txt");
  ASSERT_TRUE(WriteFileAtomic(path, "first version, long").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second").ok());
  std::string contents;
  ASSERT_TRUE(ReadFile(path, &contents).ok());
  EXPECT_EQ(contents, "second");
  EXPECT_FALSE(FileExists(path + ".tmp." + std::to_string(getpid())));
}

TEST(FilesTest, AtomicWriteIntoMissingFolderFailsWithPath) {
  absl::Status status = WriteFileAtomic(TestTmpPath("no/such/f.txt"), "x");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("/no/such/f.txt"),
            std::string::npos)
      << status.message();
}

// A write that fails part-way (here the file-size limit, which fails write()
// as a full disk does) names the file and the reason, removes its temporary
// file and leaves the earlier contents in place.
TEST(FilesTest, FailedWriteLeavesOldFileAndNoTemporary) {
  const std::string path = TestTmpPath("full.txt");
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit small = saved;
  small.rlim_cur = 1000;
  std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  absl::Status status = WriteFileAtomic(path, std::string(100000, 'x'));
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, SIG_DFL);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(path + ": write failed (File too large)"),
            std::string::npos)
      << status.message();
  std::string contents;
  ASSERT_TRUE(ReadFile(path, &contents).ok());
  EXPECT_EQ(contents, "old");
  EXPECT_FALSE(FileExists(path + ".tmp." + std::to_string(getpid())));
}

// /dev/full fails every write with ENOSPC: the message shows the reason a
// user sees on a full disk.
TEST(FilesTest, DiskFullIsNamed) {
  const std::string path = TestTmpPath("to-full");
  const std::string temp = path + ".tmp." + std::to_string(getpid());
  if (symlink("/dev/full", temp.c_str()) != 0) {
    GTEST_SKIP() << "cannot link /dev/full";
  }
  // O_TRUNC on the link opens /dev/full itself.
  absl::Status status = WriteFileAtomic(path, "data");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("No space left on device"), std::string::npos)
      << status.message();
  EXPECT_FALSE(FileExists(path));
  EXPECT_FALSE(FileExists(temp));
}

TEST(FilesTest, ResolvePathUsesWorkspace) {
  EXPECT_EQ(ResolvePath("/ws", "configs/a.pbtxt"), "/ws/configs/a.pbtxt");
  EXPECT_EQ(ResolvePath("/ws", "/abs/a.pbtxt"), "/abs/a.pbtxt");
  EXPECT_EQ(ResolvePath("", "rel"), "rel");
  EXPECT_EQ(ResolvePath("/ws", ""), "");
}

TEST(FilesTest, MakeDirsCreatesParents) {
  const std::string dir = TestTmpPath("a/b/c");
  ASSERT_TRUE(MakeDirs(dir).ok());
  EXPECT_TRUE(FileExists(dir));
  ASSERT_TRUE(WriteFileAtomic(TestTmpPath("a/file"), "x").ok());
  EXPECT_FALSE(MakeDirs(TestTmpPath("a/file")).ok());
}

}  // namespace
}  // namespace lra
