#include "datasets/retrieval/aan.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace retrieval {
namespace {

using ::testing::HasSubstr;

std::string Text(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

TEST(AanTest, ReadsPairsAndCutsTexts) {
  const std::string path =
      WriteTestFile(TestTmpPath("pairs.tsv"),
                    "1\taan/P01\taan/P02\tFirst paper text\tSecond\r\n"
                    "0.0\taan/P03\taan/P04\tshort\tAnother long text\n"
                    "1.0\taan/P05\taan/P06\tx\ty\n");
  absl::StatusOr<PairExamples> pairs = ReadAanTsv(path, 10, 8);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  ASSERT_EQ(pairs->labels.size(), 3u);
  EXPECT_EQ(pairs->labels, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(Text(pairs->first[0]), "First pa");
  EXPECT_EQ(Text(pairs->second[0]), "Second");  // "\r" is not text.
  EXPECT_EQ(Text(pairs->first[1]), "short");
  EXPECT_EQ(Text(pairs->second[1]), "Another ");
  // max_rows stops early.
  pairs = ReadAanTsv(path, 2, 8);
  ASSERT_TRUE(pairs.ok());
  EXPECT_EQ(pairs->labels.size(), 2u);
  EXPECT_EQ(AanFileName(true, false), "new_aan_pairs.train.tsv");
  EXPECT_EQ(AanFileName(false, true), "new_aan_pairs.eval.tsv");
  EXPECT_EQ(AanFileName(false, false), "new_aan_pairs.test.tsv");
}

TEST(AanTest, RowsCarryIdsAndWholeTexts) {
  const std::string path =
      WriteTestFile(TestTmpPath("rows.tsv"),
                    "1\taan/P01\taan/P02\tFirst paper text\tSecond\r\n"
                    "0.0\taan/P03\taan/P04\tshort\tAnother long text\n");
  std::vector<std::string> seen;
  absl::Status status = ForEachAanTsvRow(path, 10, [&](const AanRow& row) {
    seen.push_back(absl::StrCat(row.line, " ", row.label, " ", row.id1, " ",
                                row.id2, " [", row.text1, "] [", row.text2,
                                "]"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "1 1 aan/P01 aan/P02 [First paper text] [Second]",
                      "2 0 aan/P03 aan/P04 [short] [Another long text]"}));
  // An error from the callback stops the reading and is returned.
  int calls = 0;
  status = ForEachAanTsvRow(path, 10, [&](const AanRow&) {
    ++calls;
    return absl::CancelledError("stop");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST(AanTest, MalformedLinesNameFileAndLine) {
  std::string path = WriteTestFile(TestTmpPath("bad_fields.tsv"),
                                   "1\ta\tb\tc\td\n0\ta\tb\tc\n");
  absl::StatusOr<PairExamples> pairs = ReadAanTsv(path, 10, 8);
  ASSERT_FALSE(pairs.ok());
  EXPECT_EQ(pairs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(pairs.status().message()),
      HasSubstr(path + ":2: has 4 tab-separated fields (allowed: 5, label "
                       "id1 id2 text1 text2)"));

  path = WriteTestFile(TestTmpPath("bad_label.tsv"),
                       "1\ta\tb\tc\td\n2\ta\tb\tc\td\n");
  pairs = ReadAanTsv(path, 10, 8);
  ASSERT_FALSE(pairs.ok());
  EXPECT_THAT(std::string(pairs.status().message()),
              HasSubstr(path + ":2: label is '2' (allowed: 0 or 1"));

  pairs = ReadAanTsv("/no/such/file.tsv", 10, 8);
  ASSERT_FALSE(pairs.ok());
  EXPECT_EQ(pairs.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(pairs.status().message()),
              HasSubstr("cannot open AAN TSV file '/no/such/file.tsv'"));
}

}  // namespace
}  // namespace retrieval
}  // namespace lra
