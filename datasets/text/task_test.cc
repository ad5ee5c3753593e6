#include "datasets/text/task.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datasets/text/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace text {
namespace {

using ::testing::HasSubstr;

TEST(TextTaskTest, FillsDefaultsAndChecksTheParamsBlock) {
  TaskConfig task;
  task.set_name("text");
  task.set_seq_len(1000);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  EXPECT_EQ(task.text().min_length(), 1000);
  EXPECT_EQ(task.text().max_length(), 4000);
  EXPECT_EQ(task.text().num_cues(), 15);
  EXPECT_EQ(task.text().max_margin(), 5);

  TaskConfig other;
  other.set_name("text");
  other.mutable_listops();
  EXPECT_THAT(std::string(kTaskEntry.resolve_params(&other).message()),
              HasSubstr("task 'text' has parameters of another task"));

  // The stand-in's fields are only checked when they are used.
  TaskConfig short_task;
  short_task.set_seq_len(100);
  EXPECT_THAT(std::string(kTaskEntry.resolve_params(&short_task).message()),
              HasSubstr("task.text.num_cues = 15 is invalid"));
  short_task.mutable_text()->set_data_dir("imdb");
  EXPECT_TRUE(kTaskEntry.resolve_params(&short_task).ok());
}

TaskConfig StandIn() {
  TaskConfig task;
  task.set_name("text");
  task.set_seq_len(512);
  task.set_train_size(40);
  task.set_val_size(10);
  task.set_test_size(10);
  task.set_data_seed(5);
  task.mutable_text()->set_min_length(300);
  task.mutable_text()->set_max_length(700);
  task.mutable_text()->set_num_cues(5);
  task.mutable_text()->set_max_margin(3);
  return task;
}

TEST(TextTaskTest, StandInSplitMatchesTheGenerator) {
  TaskConfig task = StandIn();
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  auto dataset = kTaskEntry.make(task, Split::kVal, "");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const Dataset& d = **dataset;
  EXPECT_EQ(d.size(), 10);
  EXPECT_EQ(d.seq_len(), 512);
  EXPECT_EQ(d.vocab_size(), 257);
  EXPECT_EQ(d.num_classes(), 2);
  EXPECT_EQ(d.num_segments(), 1);
  std::vector<int32_t> tokens(512), expected(512);
  int padded = 0;
  for (int64_t i = 0; i < d.size(); ++i) {
    const int32_t label = d.Get(i, tokens.data());
    EXPECT_EQ(label, GenerateTextExample(task.text(), 512, 5, Split::kVal, i,
                                         expected.data()));
    EXPECT_EQ(tokens, expected);
    padded += tokens.back() == 0;
  }
  // Lengths 300..700 against seq_len 512: both padded and full examples.
  EXPECT_GT(padded, 0);
  EXPECT_LT(padded, 10);
}

std::string MakeImdb() {
  const std::string dir = FreshTestDir("aclImdb");
  for (const char* subset : {"train", "test"}) {
    for (int i = 0; i < 6; ++i) {
      const bool pos = i % 2 == 0;
      const std::string folder =
          absl::StrCat(dir, "/", subset, pos ? "/pos" : "/neg");
      std::filesystem::create_directories(folder);
      std::ofstream(absl::StrCat(folder, "/", i, pos ? "_8.txt" : "_3.txt"))
          << subset << " review " << i << (pos ? " good" : " bad");
    }
  }
  return dir;
}

TEST(TextTaskTest, LoadsImdbWithTestAsValidation) {
  const std::string dir = MakeImdb();
  TaskConfig task;
  task.set_name("text");
  task.set_seq_len(16);
  task.set_train_size(6);
  task.set_val_size(6);
  task.set_test_size(4);
  task.mutable_text()->set_data_dir(dir);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  auto train = kTaskEntry.make(task, Split::kTrain, "");
  auto val = kTaskEntry.make(task, Split::kVal, "");
  auto test = kTaskEntry.make(task, Split::kTest, "");
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_TRUE(val.ok()) << val.status();
  ASSERT_TRUE(test.ok()) << test.status();
  std::vector<int32_t> tokens(16);
  auto text_of = [&](const Dataset& d, int64_t i, int32_t* label) {
    *label = d.Get(i, tokens.data());
    std::string text;
    for (int32_t id : tokens) {
      if (id != 0) text += static_cast<char>(id - 1);
    }
    return text;
  };
  int positives = 0;
  for (int64_t i = 0; i < 6; ++i) {
    int32_t label;
    const std::string text = text_of(**train, i, &label);
    EXPECT_EQ(text.substr(0, 13), "train review ");
    // Label 1 for pos/ (even file ids here).
    EXPECT_EQ(label, (text[13] - '0') % 2 == 0 ? 1 : 0) << text;
    positives += label;
  }
  EXPECT_EQ(positives, 3);
  // Val and test both read test/ in the same shuffled order.
  for (int64_t i = 0; i < 4; ++i) {
    int32_t val_label, test_label;
    const std::string v = text_of(**val, i, &val_label);
    EXPECT_EQ(v, text_of(**test, i, &test_label));
    EXPECT_EQ(val_label, test_label);
    EXPECT_EQ(v.substr(0, 12), "test review ");
  }
  // Reviews are cut to seq_len: "test review 0 good" is 18 bytes.
  tokens.assign(16, 0);
  (*val)->Get(0, tokens.data());
  EXPECT_NE(tokens[15], 0);

  task.set_test_size(7);
  auto too_many = kTaskEntry.make(task, Split::kTest, "");
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(std::string(too_many.status().message()),
              HasSubstr("task.text.data_dir = '" + dir +
                        "' has 6 reviews in test/ but task.test_size = 7"));

  task.mutable_text()->set_data_dir("no_such_dir");
  auto missing = kTaskEntry.make(task, Split::kTrain, "/ws");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("'/ws/no_such_dir/train/neg' does not exist"));
}

}  // namespace
}  // namespace text
}  // namespace lra
