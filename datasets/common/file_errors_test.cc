#include "datasets/common/file_errors.h"

#include <string>

#include "gtest/gtest.h"

namespace lra {
namespace {

TEST(FileErrorsTest, LineErrorNamesPathAndLine) {
  const absl::Status status = LineError("/data/a.tsv", 12, "bad label 'x'");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "/data/a.tsv:12: bad label 'x'");
}

TEST(FileErrorsTest, ExcerptEscapesAndCuts) {
  EXPECT_EQ(Excerpt("a\tb"), "a\\tb");
  const std::string long_text(50, 'x');
  EXPECT_EQ(Excerpt(long_text), std::string(40, 'x') + "...");
  EXPECT_EQ(Excerpt(std::string(40, 'y')), std::string(40, 'y'));
}

}  // namespace
}  // namespace lra
