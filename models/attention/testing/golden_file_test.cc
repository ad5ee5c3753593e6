#include "models/attention/testing/golden_file.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

std::string WriteTemp(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(GoldenFileTest, ReadsAndCompares) {
  const std::string path = WriteTemp(
      "ok.txt",
      "# comment\nscalar n 3\ntext mode dense\ntensor t 3\n1 -2 0.5\n");
  absl::StatusOr<GoldenFile> g = ReadGoldenFile(path);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(*g->Scalar("n"), 3);
  EXPECT_EQ(g->texts.at("mode"), "dense");
  const GoldenTensor& t = **g->Tensor("t");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3}));
  const float exact[3] = {1.0f, -2.0f, 0.5f};
  EXPECT_EQ(CompareWithGolden("t", exact, t, 1e-4), "");
  // Allowed error 1e-4 * (|want| + 2): 3e-4 at element 0.
  const float close[3] = {1.0002f, -2.0f, 0.5f};
  EXPECT_EQ(CompareWithGolden("t", close, t, 1e-4), "");
  const float off[3] = {1.0f, -2.0f, 0.501f};
  EXPECT_THAT(CompareWithGolden("t", off, t, 1e-4), HasSubstr("t[2]: got"));
  EXPECT_FALSE(g->Tensor("missing").ok());
}

TEST(GoldenFileTest, RejectsMalformedFiles) {
  EXPECT_THAT(std::string(ReadGoldenFile(
                              WriteTemp("short.txt", "tensor t 2,2\n1 2 3\n"))
                              .status()
                              .message()),
              HasSubstr("needs 4 values, found 3"));
  EXPECT_FALSE(ReadGoldenFile(WriteTemp("kind.txt", "blob a b\n")).ok());
  EXPECT_FALSE(ReadGoldenFile("/nonexistent/golden.txt").ok());
}

}  // namespace
}  // namespace lra
