#include "util/testing/test_paths.h"

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "util/files.h"

namespace lra {
namespace {

TEST(TestPathsTest, TmpPathIsUnderTestTmpdirAndNotCreated) {
  const std::string path = TestTmpPath("not_made");
  EXPECT_TRUE(absl::EndsWith(path, "/not_made")) << path;
  EXPECT_FALSE(FileExists(path));
}

TEST(TestPathsTest, EmptyDirRemovesWhatWasThere) {
  const std::string dir = EmptyTestDir("emptied");
  WriteTestFile(dir + "/a/b.txt", "x");
  ASSERT_TRUE(FileExists(dir + "/a/b.txt"));
  EXPECT_EQ(EmptyTestDir("emptied"), dir);
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(TestPathsTest, FreshDirIsGoneAndMakeDirKeepsContents) {
  const std::string dir = MakeTestTmpDir("kept");
  WriteTestFile(dir + "/f", "y");
  EXPECT_EQ(MakeTestTmpDir("kept"), dir);
  EXPECT_TRUE(FileExists(dir + "/f"));
  EXPECT_EQ(FreshTestDir("kept"), dir);
  EXPECT_FALSE(FileExists(dir));
}

TEST(TestPathsTest, WriteTestFileWritesBytes) {
  const std::string path =
      WriteTestFile(TestTmpPath("written/nul.bin"), std::string("a\0b", 3));
  std::string contents;
  ASSERT_TRUE(ReadFile(path, &contents).ok());
  EXPECT_EQ(contents, std::string("a\0b", 3));
}

}  // namespace
}  // namespace lra
