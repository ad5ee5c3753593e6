#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "util/testing/file_size_limit.h"
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
  absl::Status status;
  {
    FileSizeLimit limit(1000);
    ASSERT_TRUE(limit.active());
    status = WriteFileAtomic(path, std::string(100000, 'x'));
  }
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

// The streaming writer: nothing at `path` until Commit(), the whole file
// after it.
TEST(FilesTest, AtomicFileWriterShowsTheFileOnlyOnCommit) {
  const std::string path = TestTmpPath("streamed.txt");
  AtomicFileWriter writer(path);
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.Append("first ").ok());
  // More than the writer's buffer, so part of it reaches the file.
  ASSERT_TRUE(writer.Append(std::string(3 << 20, 'x')).ok());
  EXPECT_FALSE(FileExists(path));
  EXPECT_TRUE(FileExists(writer.temporary_path()));
  ASSERT_TRUE(writer.Commit().ok());
  std::string contents;
  ASSERT_TRUE(ReadFile(path, &contents).ok());
  EXPECT_EQ(contents, "first " + std::string(3 << 20, 'x'));
  EXPECT_FALSE(FileExists(writer.temporary_path()));
}

// A writer given up before Commit() (its caller hit an error) removes its
// temporary file and leaves the old file as it was.
TEST(FilesTest, AbandonedAtomicFileWriterLeavesTheOldFile) {
  const std::string path = TestTmpPath("abandoned.txt");
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  std::string temp;
  {
    AtomicFileWriter writer(path);
    ASSERT_TRUE(writer.Open().ok());
    ASSERT_TRUE(writer.Append(std::string(3 << 20, 'x')).ok());
    temp = writer.temporary_path();
    EXPECT_TRUE(FileExists(temp));
  }
  EXPECT_FALSE(FileExists(temp));
  std::string contents;
  ASSERT_TRUE(ReadFile(path, &contents).ok());
  EXPECT_EQ(contents, "old");
}

// Sets the file's modification time `seconds` into the past.
void Age(const std::string& path, int seconds) {
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = time(nullptr) - seconds;
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

// The id of a process that has exited.
pid_t DeadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

TEST(FilesTest, RemovesStaleTemporariesOfDeadWritersOnly) {
  const std::string dir = TestTmpPath("stale");
  ASSERT_TRUE(MakeDirs(dir).ok());
  const std::string dead = std::to_string(DeadPid());
  const std::string alive = std::to_string(getpid());
  struct Case {
    std::string name;
    int age_seconds;
    bool removed;
  };
  const std::vector<Case> cases = {
      {"shard-a.tmp." + dead, 120, true},         // killed writer
      {"shard-b.tmp." + dead, 0, false},          // may still be renaming
      {"shard-c.tmp." + alive, 120, false},       // writer still running
      {"shard-d.tmp." + alive, 2 * 86400, true},  // no write takes a day
      {"other-e.tmp." + dead, 120, false},        // another prefix
      {"shard-f.tmp.x" + dead, 120, false},       // not a pid
      {"shard-g", 120, false},                    // not a temporary file
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(WriteFileAtomic(dir + "/" + c.name, "x").ok());
    Age(dir + "/" + c.name, c.age_seconds);
  }
  EXPECT_EQ(RemoveStaleTemporaries(dir, "shard-"), 2);
  for (const Case& c : cases) {
    EXPECT_EQ(FileExists(dir + "/" + c.name), !c.removed) << c.name;
  }
  EXPECT_EQ(RemoveStaleTemporaries(TestTmpPath("no-such-dir"), ""), 0);
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
