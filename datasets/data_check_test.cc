#include "datasets/data_check.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datasets/dataset.h"
#include "datasets/image/cifar.h"
#include "datasets/pathfinder/official.h"
#include "datasets/pathfinder/params.h"
#include "datasets/pathfinder/png_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A resolved config of `name` reading official data from `dir`.
TaskConfig Task(const std::string& name, const std::string& dir,
                int seq_len = 0) {
  TaskConfig task;
  task.set_name(name);
  task.set_seq_len(seq_len);
  EXPECT_TRUE(SetOfficialDataDir(dir, &task).ok());
  EXPECT_TRUE(ResolveTaskDefaults(&task).ok());
  return task;
}

std::string Message(const absl::StatusOr<DataCheckReport>& report) {
  return report.ok() ? "(ok)" : std::string(report.status().message());
}

TEST(DataCheckTest, ListOpsReadsEverySplitAndRecomputesLabels) {
  const std::string dir = EmptyTestDir("listops");
  const std::string sample = "datasets/listops/testdata/basic_sample.tsv";
  for (const char* split : {"train", "val", "test"}) {
    fs::copy_file(sample, absl::StrCat(dir, "/basic_", split, ".tsv"));
  }
  // seq_len 20 cuts some of the sample's rows (10..30 tokens).
  absl::StatusOr<DataCheckReport> report =
      CheckTaskData(Task("listops", dir, 20), "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->files_read, 3);
  ASSERT_EQ(report->splits.size(), 3u);
  const SplitCheck& train = report->splits[0];
  EXPECT_EQ(train.name, "train");
  EXPECT_EQ(train.examples, 20);
  EXPECT_EQ(train.min_tokens, 10);
  EXPECT_EQ(train.max_tokens, 30);
  EXPECT_GT(train.truncated, 0);
  EXPECT_LT(train.truncated, 20);
  EXPECT_EQ(train.label_histogram,
            (std::vector<int64_t>{1, 2, 3, 2, 1, 4, 1, 2, 2, 2}));
  EXPECT_THAT(train.facts,
              ::testing::Contains("labels agree with our evaluator: 20/20"));
  // The three files are the same rows: every val and test row leaks.
  EXPECT_THAT(report->splits[1].facts,
              ::testing::Contains("rows also in train: 20"));
  EXPECT_THAT(train.facts,
              ::testing::Not(::testing::Contains(HasSubstr("also in train"))));
  // LRA's sizes (96000/2000/2000) exceed the 20 rows: warnings, not errors.
  EXPECT_EQ(report->warnings.size(), 3u);
  const std::string text = FormatDataCheckReport(*report);
  EXPECT_THAT(text, HasSubstr("== val: " + dir + "/basic_val.tsv\n"));
  EXPECT_THAT(text, HasSubstr("warning: task.train_size = 96000 but the "
                              "train split has 20 examples: a run with this "
                              "config fails (allowed: train_size <= 20)\n"));
  EXPECT_THAT(text, HasSubstr("verdict: OK: 3 splits, 60 examples from 3 "
                              "files, all well-formed; 3 warnings above\n"));

  fs::remove(dir + "/basic_val.tsv");
  report = CheckTaskData(Task("listops", dir), "");
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(report), HasSubstr(dir + "/basic_val.tsv"));

  fs::copy_file("datasets/listops/testdata/basic_malformed.tsv",
                dir + "/basic_val.tsv");
  report = CheckTaskData(Task("listops", dir), "");
  EXPECT_THAT(Message(report), HasSubstr(dir + "/basic_val.tsv:3: "));
}

TEST(DataCheckTest, TextCountsReviewsAndNamesBadFiles) {
  const std::string dir = EmptyTestDir("imdb");
  WriteTestFile(dir + "/train/pos/1_9.txt", "Great.");
  WriteTestFile(dir + "/train/pos/2_8.txt", std::string(150, 'a'));  // Cut.
  WriteTestFile(dir + "/train/neg/3_1.txt", "Bad film");
  WriteTestFile(dir + "/test/pos/4_10.txt", "Fine");
  WriteTestFile(dir + "/test/neg/5_2.txt", "Dull");
  TaskConfig task = Task("text", dir, 100);
  task.set_train_size(3);
  task.set_val_size(2);
  task.set_test_size(2);
  absl::StatusOr<DataCheckReport> report = CheckTaskData(task, "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->files_read, 5);
  ASSERT_EQ(report->splits.size(), 2u);
  const SplitCheck& train = report->splits[0];
  EXPECT_EQ(train.examples, 3);
  EXPECT_EQ(train.label_histogram, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(train.min_tokens, 6);
  EXPECT_EQ(train.max_tokens, 150);
  EXPECT_EQ(train.truncated, 1);
  EXPECT_EQ(report->splits[1].name, "val, test");
  EXPECT_EQ(report->splits[1].examples, 2);
  EXPECT_TRUE(report->warnings.empty());
  EXPECT_THAT(FormatDataCheckReport(*report),
              HasSubstr("tokens: min 6, mean 54.7, max 150; 1 of 3 cut to "
                        "seq_len\nreviews: neg 1 (ratings 1-4), pos 2 "
                        "(ratings 7-10)\n"));

  WriteTestFile(dir + "/test/neg/6_3.txt", "");
  report = CheckTaskData(task, "");
  EXPECT_THAT(Message(report),
              HasSubstr("IMDb review '" + dir + "/test/neg/6_3.txt' is empty"));
  fs::remove_all(dir + "/test/neg");
  report = CheckTaskData(task, "");
  EXPECT_THAT(Message(report), HasSubstr("IMDb directory '" + dir +
                                         "/test/neg' does not exist"));
}

TEST(DataCheckTest, RetrievalReadsThreeFilesAndRejectsEmptyDocuments) {
  const std::string dir = EmptyTestDir("aan");
  const std::string rows =
      "1\taan/A\taan/B\tFirst paper text\tSecond paper\n"
      "0\taan/A\taan/C\tshort\tAnother text that is long\n";
  for (const char* split : {"train", "eval", "test"}) {
    WriteTestFile(absl::StrCat(dir, "/new_aan_pairs.", split, ".tsv"), rows);
  }
  // One test pair is new (C, A is not A, C).
  WriteTestFile(dir + "/new_aan_pairs.test.tsv",
                "1\taan/A\taan/B\tFirst paper text\tSecond paper\n"
                "0\taan/C\taan/A\tshort\tAnother text that is long\n");
  TaskConfig task = Task("retrieval", dir, 16);
  absl::StatusOr<DataCheckReport> report = CheckTaskData(task, "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->files_read, 3);
  ASSERT_EQ(report->splits.size(), 3u);
  const SplitCheck& val = report->splits[1];
  EXPECT_EQ(val.source, dir + "/new_aan_pairs.eval.tsv");
  EXPECT_EQ(val.examples, 2);
  EXPECT_EQ(val.documents, 4);
  EXPECT_EQ(val.label_histogram, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(val.min_tokens, 5);
  EXPECT_EQ(val.max_tokens, 25);
  EXPECT_EQ(val.truncated, 1);
  EXPECT_THAT(val.facts,
              ::testing::Contains("distinct document ids: 3; pairs of a "
                                  "document with itself: 0"));
  EXPECT_THAT(val.facts,
              ::testing::Contains("pairs (id1, id2) also in train: 2"));
  EXPECT_THAT(report->splits[2].facts,
              ::testing::Contains("pairs (id1, id2) also in train: 1"));
  EXPECT_THAT(FormatDataCheckReport(*report),
              HasSubstr("tokens per document: min 5, mean "));

  WriteTestFile(dir + "/new_aan_pairs.test.tsv",
                rows + "1\taan/D\taan/E\tsome text\t\n");
  report = CheckTaskData(task, "");
  EXPECT_THAT(Message(report), HasSubstr(dir + "/new_aan_pairs.test.tsv:3: "
                                               "text2 (field 5) is empty"));
  WriteTestFile(dir + "/new_aan_pairs.test.tsv", rows + "1\taan/D\ttext\n");
  report = CheckTaskData(task, "");
  EXPECT_THAT(Message(report),
              HasSubstr(dir + "/new_aan_pairs.test.tsv:3: has 3 "
                              "tab-separated fields"));
}

// A CIFAR-10 batch of `records` images, label r % 10, pixels all `value`.
std::string CifarBatch(int records, uint8_t value) {
  std::string bytes;
  for (int r = 0; r < records; ++r) {
    bytes.push_back(static_cast<char>(r % 10));
    bytes.append(3 * image::kCifarPixels, static_cast<char>(value));
  }
  return bytes;
}

TEST(DataCheckTest, ImageReportsBatchesAndNamesTheCutRecord) {
  const std::string dir = EmptyTestDir("cifar");
  for (int batch = 1; batch <= 5; ++batch) {
    WriteTestFile(image::CifarBatchPath(dir, batch), CifarBatch(10, 100));
  }
  WriteTestFile(image::CifarBatchPath(dir, 0), CifarBatch(20, 255));
  absl::StatusOr<DataCheckReport> report =
      CheckTaskData(Task("image", dir), "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->files_read, 6);
  ASSERT_EQ(report->splits.size(), 3u);
  EXPECT_EQ(report->splits[0].examples, 45);
  EXPECT_EQ(report->splits[1].examples, 5);
  EXPECT_EQ(report->splits[2].examples, 20);
  EXPECT_EQ(report->splits[2].label_histogram, std::vector<int64_t>(10, 2));
  EXPECT_EQ(report->splits[0].min_tokens, 1024);
  EXPECT_THAT(report->splits[0].facts,
              ::testing::Contains(
                  "records per batch: data_batch_1.bin 10, data_batch_2.bin "
                  "10, data_batch_3.bin 10, data_batch_4.bin 10, "
                  "data_batch_5.bin 10"));
  // Gray 255 stays white under LRA's weights.
  EXPECT_THAT(
      report->splits[2].facts,
      ::testing::Contains("mean gray level: 255.0 (LRA's grayscale, 0..255)"));

  WriteTestFile(
      image::CifarBatchPath(dir, 3),
      CifarBatch(10, 100).substr(0, 4 * image::kCifarRecordBytes + 7));
  report = CheckTaskData(Task("image", dir), "");
  EXPECT_THAT(Message(report), HasSubstr(image::CifarBatchPath(dir, 3) +
                                         ": record 4 is cut short"));
  fs::remove(image::CifarBatchPath(dir, 0));
  WriteTestFile(image::CifarBatchPath(dir, 3), CifarBatch(10, 100));
  report = CheckTaskData(Task("image", dir), "");
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(report), HasSubstr(dir + "/test_batch.bin"));
}

TEST(DataCheckTest, PathfinderDecodesEveryImage) {
  const std::string dir = EmptyTestDir("pathfinder");
  PathfinderConfig config;
  config.set_resolution(32);
  config.set_contour_length(6);
  ASSERT_TRUE(pathfinder::WriteOfficialFolder(
                  *pathfinder::MakePathfinderParams(config), /*data_seed=*/3,
                  /*count=*/20, /*images_per_batch=*/8, dir)
                  .ok());
  absl::StatusOr<DataCheckReport> report =
      CheckTaskData(Task("pathfinder", dir), "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->files_read, 3 + 20);  // 3 metadata files, 20 PNGs.
  ASSERT_EQ(report->splits.size(), 3u);
  EXPECT_EQ(report->splits[0].examples, 16);
  EXPECT_EQ(report->splits[1].examples, 2);
  EXPECT_EQ(report->splits[2].examples, 2);
  int64_t labelled = 0;
  for (const SplitCheck& split : report->splits) {
    labelled += split.label_histogram[0] + split.label_histogram[1];
  }
  EXPECT_EQ(labelled, 20);
  EXPECT_THAT(
      report->splits[0].facts,
      ::testing::Contains("PNGs decoded: 16, all 32x32 8-bit grayscale"));

  // Path-X expects 128 x 128 images.
  report = CheckTaskData(Task("pathx", dir), "");
  EXPECT_THAT(Message(report),
              HasSubstr("image is 32x32 pixels (allowed: 128x128)"));
  EXPECT_THAT(Message(report), HasSubstr("metadata/0.npy:1"));

  const std::string bad = dir + "/imgs/2/sample_1.png";
  WriteTestFile(bad, "not a png");
  report = CheckTaskData(Task("pathfinder", dir), "");
  EXPECT_THAT(Message(report), HasSubstr(bad));
  EXPECT_THAT(Message(report), HasSubstr("metadata/2.npy:2"));
}

TEST(DataCheckTest, TasksWithoutFilesSaySo) {
  TaskConfig task;
  task.set_name("recall");
  absl::Status status = SetOfficialDataDir("/data", &task);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("task 'recall' has no official data files (allowed: "
                        "image, listops, pathfinder, pathx, retrieval, "
                        "text)"));
  task.set_name("text");
  ASSERT_TRUE(ResolveTaskDefaults(&task).ok());
  absl::StatusOr<DataCheckReport> report = CheckTaskData(task, "");
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(report), HasSubstr("setting text.data_dir"));
}

}  // namespace
}  // namespace lra
