#include "datasets/listops/check.h"

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

constexpr char kSample[] = "datasets/listops/testdata/basic_sample.tsv";

TEST(CheckTest, SampleAgreesEverywhere) {
  absl::StatusOr<ListOpsCheckReport> report = CheckListOpsTsv(kSample);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows, 20);
  EXPECT_EQ(report->labels_agree, 20);
  EXPECT_EQ(report->duplicate_rows, 0);
  // Figures of the checked-in file (see testdata/README.md).
  EXPECT_EQ(report->min_tokens, 10);
  EXPECT_EQ(report->max_tokens, 30);
  EXPECT_DOUBLE_EQ(report->mean_tokens, 17.7);
  EXPECT_EQ(report->max_depth, 4);
  EXPECT_EQ(report->label_histogram,
            (std::array<int64_t, 10>{1, 2, 3, 2, 1, 4, 1, 2, 2, 2}));
  const std::string text = FormatCheckReport(*report);
  EXPECT_THAT(text, HasSubstr("rows: 20\n"));
  EXPECT_THAT(text, HasSubstr("tokens: min 10, mean 17.7, max 30\n"));
  EXPECT_TRUE(absl::EndsWith(text, "\nlabels agree: 20/20\n")) << text;
}

TEST(CheckTest, CountsDisagreementsAndDuplicates) {
  const std::string path = TestTmpPath("check.tsv");
  std::ofstream(path, std::ios::binary)
      << "Source\tTarget\r\n"
      << "( ( ( [MAX 2 ) 9 ) ] )\t9\r\n"
      << "( ( ( [MAX 2 ) 9 ) ] )\t2\r\n"   // Wrong label, duplicate.
      << "( ( ( [MED 1 ) 8 ) ] )\t4\r\n";  // (1 + 8) / 2 = 4.5 -> 4.
  absl::StatusOr<ListOpsCheckReport> report = CheckListOpsTsv(path);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows, 3);
  EXPECT_EQ(report->labels_agree, 2);
  EXPECT_EQ(report->duplicate_rows, 1);
  EXPECT_EQ(report->first_disagreement_line, 3);
  EXPECT_EQ(report->first_disagreement_label, 2);
  EXPECT_EQ(report->first_disagreement_value, 9);
  const std::string text = FormatCheckReport(*report);
  EXPECT_THAT(text, HasSubstr("first disagreement: " + path +
                              ":3: Target 2, the expression evaluates to 9\n"));
  EXPECT_TRUE(absl::EndsWith(text, "\nlabels agree: 2/3\n"));
}

TEST(CheckTest, CountsRowsLongerThanSeqLen) {
  // The sample's rows have 10..30 tokens.
  absl::StatusOr<ListOpsCheckReport> report = CheckListOpsTsv(kSample, 30);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->truncated_rows, 0);
  int64_t rows = 0;
  report = CheckListOpsTsv(kSample, 9, [&](const listops::TsvRow& row) {
    EXPECT_EQ(row.line, rows + 2);  // After the header.
    ++rows;
  });
  EXPECT_EQ(rows, 20);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->truncated_rows, 20);
  EXPECT_THAT(FormatCheckReport(*report),
              HasSubstr("rows longer than seq_len 9: 20\n"));
}

TEST(CheckTest, MalformedFileIsAnError) {
  absl::StatusOr<ListOpsCheckReport> report =
      CheckListOpsTsv("datasets/listops/testdata/basic_malformed.tsv");
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("basic_malformed.tsv:3: "));
}

}  // namespace
}  // namespace lra
