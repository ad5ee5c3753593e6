#include "datasets/retrieval/task.h"

#include <fstream>
#include <string>
#include <vector>

#include "datasets/retrieval/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace retrieval {
namespace {

using ::testing::HasSubstr;

TEST(RetrievalTaskTest, FillsDefaults) {
  TaskConfig task;
  task.set_name("retrieval");
  task.set_seq_len(4000);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  EXPECT_EQ(task.retrieval().min_length(), 2000);
  EXPECT_EQ(task.retrieval().max_length(), 4000);
  EXPECT_EQ(task.retrieval().num_refs(), 8);
  EXPECT_EQ(task.retrieval().changed_refs(), 4);
  EXPECT_EQ(task.retrieval().num_codes(), 120);
  TaskConfig other;
  other.mutable_text();
  EXPECT_FALSE(kTaskEntry.resolve_params(&other).ok());
}

TEST(RetrievalTaskTest, StandInHasTwoSegmentsOfSeqLen) {
  TaskConfig task;
  task.set_name("retrieval");
  task.set_seq_len(600);
  task.set_train_size(12);
  task.set_val_size(6);
  task.set_test_size(6);
  task.set_data_seed(3);
  RetrievalConfig* config = task.mutable_retrieval();
  config->set_min_length(400);
  config->set_max_length(800);
  config->set_num_refs(4);
  config->set_changed_refs(1);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  auto dataset = kTaskEntry.make(task, Split::kTrain, "");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const Dataset& d = **dataset;
  EXPECT_EQ(d.size(), 12);
  EXPECT_EQ(d.seq_len(), 1200);
  EXPECT_EQ(d.num_segments(), 2);
  EXPECT_EQ(d.vocab_size(), 257);
  EXPECT_EQ(d.num_classes(), 2);
  std::vector<int32_t> tokens(1200), expected(1200);
  for (int64_t i = 0; i < d.size(); ++i) {
    const int32_t label = d.Get(i, tokens.data());
    EXPECT_EQ(label,
              GenerateRetrievalExample(task.retrieval(), 600, 3, Split::kTrain,
                                       i, expected.data()));
    EXPECT_EQ(tokens, expected);
    // Both documents start at their segment's start.
    EXPECT_NE(tokens[0], 0);
    EXPECT_NE(tokens[600], 0);
  }
}

TEST(RetrievalTaskTest, LoadsAanFilesValFromEval) {
  const std::string dir = MakeTestTmpDir("tsv_data");
  std::ofstream(dir + "/new_aan_pairs.train.tsv")
      << "1\ta\tb\ttrain one\ttrain two\n0\tc\td\tx\ty\n";
  std::ofstream(dir + "/new_aan_pairs.eval.tsv")
      << "0\ta\tb\teval one\teval two\n";
  TaskConfig task;
  task.set_name("retrieval");
  task.set_seq_len(5);
  task.set_train_size(2);
  task.set_val_size(1);
  task.set_test_size(1);
  task.mutable_retrieval()->set_data_dir(dir);
  ASSERT_TRUE(kTaskEntry.resolve_params(&task).ok());
  auto val = kTaskEntry.make(task, Split::kVal, "");
  ASSERT_TRUE(val.ok()) << val.status();
  std::vector<int32_t> tokens(10);
  EXPECT_EQ((*val)->Get(0, tokens.data()), 0);
  std::vector<int32_t> expected;
  for (char c : std::string("eval eval ")) expected.push_back(c + 1);
  EXPECT_EQ(tokens, expected);
  auto train = kTaskEntry.make(task, Split::kTrain, "");
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ((*train)->Get(1, tokens.data()), 0);
  EXPECT_EQ(tokens,
            (std::vector<int32_t>{'x' + 1, 0, 0, 0, 0, 'y' + 1, 0, 0, 0, 0}));

  task.set_train_size(3);
  auto too_many = kTaskEntry.make(task, Split::kTrain, "");
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(std::string(too_many.status().message()),
              HasSubstr("new_aan_pairs.train.tsv' has 2 rows but "
                        "task.train_size = 3"));
  auto missing = kTaskEntry.make(task, Split::kTest, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("cannot open AAN TSV file '" + dir +
                        "/new_aan_pairs.test.tsv'"));
}

}  // namespace
}  // namespace retrieval
}  // namespace lra
