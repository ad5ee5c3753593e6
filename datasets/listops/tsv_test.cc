#include "datasets/listops/tsv.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "datasets/listops/evaluator.h"
#include "datasets/listops/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/file_size_limit.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace listops {
namespace {

using ::testing::HasSubstr;

constexpr char kSample[] = "datasets/listops/testdata/basic_sample.tsv";
constexpr char kMalformed[] = "datasets/listops/testdata/basic_malformed.tsv";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Format(const std::vector<uint8_t>& ids) {
  absl::StatusOr<std::string> text = FormatSource(ids);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(FormatSourceTest, MatchesLraBinaryNesting) {
  EXPECT_EQ(Format({kMaxId, DigitId(2), DigitId(9), kCloseId}),
            "( ( ( [MAX 2 ) 9 ) ] )");
  EXPECT_EQ(Format({kSumModId, DigitId(1), kCloseId}), "( ( [SM 1 ) ] )");
  EXPECT_EQ(Format({DigitId(4)}), "4");
  // [MAX [SM 1 ] 9 ]: the inner expression is one argument of MAX.
  EXPECT_EQ(
      Format({kMaxId, kSumModId, DigitId(1), kCloseId, DigitId(9), kCloseId}),
      "( ( ( [MAX ( ( [SM 1 ) ] ) ) 9 ) ] )");
  EXPECT_FALSE(FormatSource({kMaxId, DigitId(2)}).ok());
}

TEST(TsvTest, ReadsTheCheckedInSample) {
  absl::StatusOr<ListOpsExamples> examples = ReadListOpsTsv(kSample);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->ids.size(), 20u);
  ASSERT_EQ(examples->labels.size(), 20u);
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(*Evaluate(examples->ids[i]), examples->labels[i]) << i;
  }
  // Row 8 (line 9) is "( ( ( ( [MED 5 ) 0 ) ( ( ( ( ( [MIN 0 ) 7 ) 4 ) 2 )
  // ] ) ) ] )" with label 0.
  EXPECT_EQ(examples->ids[7],
            (std::vector<uint8_t>{kMedId, DigitId(5), DigitId(0), kMinId,
                                  DigitId(0), DigitId(7), DigitId(4),
                                  DigitId(2), kCloseId, kCloseId}));
  EXPECT_EQ(examples->labels[7], 0);
  absl::StatusOr<ListOpsExamples> first_three = ReadListOpsTsv(kSample, 3);
  ASSERT_TRUE(first_three.ok());
  EXPECT_EQ(first_three->ids.size(), 3u);
}

TEST(TsvTest, SampleIsWhatTheGeneratorAndWriterMake) {
  // The command in testdata/README.md.
  ListOpsConfig config;
  config.set_max_depth(4);
  config.set_min_args(2);
  config.set_max_args(4);
  config.set_operator_prob(0.4f);
  config.set_min_length(6);
  config.set_max_length(40);
  absl::StatusOr<ListOpsExamples> examples =
      GenerateExamples(config, 7, Split::kTrain, 20);
  ASSERT_TRUE(examples.ok()) << examples.status();
  const std::string path = TestTmpPath("regenerated.tsv");
  ASSERT_TRUE(WriteListOpsTsv(path, *examples).ok());
  EXPECT_EQ(ReadFile(path), ReadFile(kSample));
}

TEST(TsvTest, WriteThenReadRoundTrips) {
  ListOpsExamples examples;
  examples.ids = {{kMaxId, DigitId(2), DigitId(9), kCloseId},
                  {DigitId(3)},
                  {kMedId, kSumModId, DigitId(8), DigitId(7), kCloseId,
                   DigitId(1), DigitId(2), DigitId(9), kCloseId}};
  examples.labels = {9, 3, 2};
  const std::string path = TestTmpPath("roundtrip.tsv");
  ASSERT_TRUE(WriteListOpsTsv(path, examples).ok());
  EXPECT_EQ(ReadFile(path),
            "Source\tTarget\r\n"
            "( ( ( [MAX 2 ) 9 ) ] )\t9\r\n"
            "3\t3\r\n"
            "( ( ( ( ( [MED ( ( ( [SM 8 ) 7 ) ] ) ) 1 ) 2 ) 9 ) ] )\t2\r\n");
  absl::StatusOr<ListOpsExamples> read = ReadListOpsTsv(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->ids, examples.ids);
  EXPECT_EQ(read->labels, examples.labels);
}

// The names in `dir`, sorted.
std::vector<std::string> FileNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

ListOpsExamples TwoExamples() {
  ListOpsExamples examples;
  examples.ids = {{kMaxId, DigitId(2), DigitId(9), kCloseId}, {DigitId(3)}};
  examples.labels = {9, 3};
  return examples;
}

// An example that cannot be written, found part-way: the earlier file stays
// whole and no temporary file is left (the writer used to truncate the file
// first and stop after the examples before the bad one).
TEST(TsvTest, FailedWriteLeavesTheEarlierFile) {
  const std::string dir = EmptyTestDir("tsv_failed_write");
  const std::string path = dir + "/basic_train.tsv";
  ASSERT_TRUE(WriteListOpsTsv(path, TwoExamples()).ok());
  const std::string before = ReadFile(path);
  // A good example, then one that does not nest.
  ListOpsExamples bad;
  bad.ids = {{DigitId(5)}, {kCloseId, kCloseId}};
  bad.labels = {5, 0};
  const absl::Status status = WriteListOpsTsv(path, bad);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("example 1"));
  EXPECT_EQ(ReadFile(path), before);
  EXPECT_THAT(FileNames(dir), ::testing::ElementsAre("basic_train.tsv"));
}

// A full disk (here the file-size limit, which fails write() the same way)
// part-way through: an error naming the file, the earlier file whole, no
// temporary file.
TEST(TsvTest, FullDiskLeavesTheEarlierFile) {
  const std::string dir = EmptyTestDir("tsv_full_disk");
  const std::string path = dir + "/basic_train.tsv";
  ASSERT_TRUE(WriteListOpsTsv(path, TwoExamples()).ok());
  const std::string before = ReadFile(path);
  ListOpsExamples many;
  for (int i = 0; i < 20000; ++i) {
    many.ids.push_back({kMaxId, DigitId(2), DigitId(9), kCloseId});
    many.labels.push_back(9);
  }
  absl::Status status;
  {
    FileSizeLimit limit(4096);
    ASSERT_TRUE(limit.active());
    status = WriteListOpsTsv(path, many);
  }
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(path));
  EXPECT_EQ(ReadFile(path), before);
  EXPECT_THAT(FileNames(dir), ::testing::ElementsAre("basic_train.tsv"));
}

TEST(TsvTest, AcceptsUnixLineEnds) {
  const std::string path = WriteTestFile(
      TestTmpPath("lf.tsv"), "Source\tTarget\n( ( [MIN 4 ) ] )\t4\n");
  absl::StatusOr<ListOpsExamples> read = ReadListOpsTsv(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->labels, std::vector<int32_t>{4});
}

TEST(TsvTest, MalformedFileNamesTheLine) {
  absl::StatusOr<ListOpsExamples> read = ReadListOpsTsv(kMalformed);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr(std::string(kMalformed) +
                        ":3: expression ends with 1 operator(s) still open"));
}

TEST(TsvTest, MalformedRowsGiveErrorsWithFileAndLine) {
  struct Case {
    const char* row;
    const char* expected;
  };
  const Case cases[] = {
      {"( ( [MIN 4 ) ] )", ":3: 1 tab-separated column(s)"},
      {"( ( [MIN 4 ) ] )\t4\textra", ":3: 3 tab-separated column(s)"},
      {"( ( [MIN 4 ) ] )\t10", ":3: label '10' (allowed: an integer 0..9)"},
      {"( ( [MIN 4 ) ] )\tfour", ":3: label 'four'"},
      {"( ( [MIN 4 ) ] )\t", ":3: label ''"},
      {"( ( [MIN 4 ) X ] )\t4", ":3: unknown token 'X' at token 6 (allowed: "},
      {"( ( [MIN 4 ) ] ) )\t4", ":3: ')' at token 8 closes nothing"},
      {"( ( ( [MIN 4 ) ] )\t4", ":3: 1 '(' never closed"},
      {"( ( [MIN 4 ) ] ] )\t4", ":3: token 4 (']') follows a complete"},
      {"( [MIN ] )\t4", ":3: token 2 (']') closes '[MIN' with no arguments"},
      {"\t4", ":3: empty expression"},
  };
  for (const Case& c : cases) {
    const std::string path =
        WriteTestFile(TestTmpPath("bad.tsv"),
                      std::string("Source\tTarget\r\n( ( [MAX 1 ) ] )\t1\r\n") +
                          c.row + "\r\n");
    absl::StatusOr<ListOpsExamples> read = ReadListOpsTsv(path);
    ASSERT_FALSE(read.ok()) << c.row;
    EXPECT_THAT(std::string(read.status().message()),
                HasSubstr(path + c.expected))
        << c.row;
  }
}

TEST(TsvTest, HeaderAndFileErrors) {
  absl::StatusOr<ListOpsExamples> read = ReadListOpsTsv(
      WriteTestFile(TestTmpPath("noheader.tsv"), "( ( [MIN 4 ) ] )\t4\n"));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr("noheader.tsv:1: header is '( ( [MIN 4 ) ] )\\t4' "
                        "(allowed: Source<TAB>Target)"));
  read = ReadListOpsTsv(WriteTestFile(TestTmpPath("empty.tsv"), ""));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr("empty.tsv:1: empty file"));
  read = ReadListOpsTsv("/nonexistent/basic_train.tsv");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr("'/nonexistent/basic_train.tsv'"));
}

}  // namespace
}  // namespace listops
}  // namespace lra
