#include "datasets/image/task.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datasets/image/cifar.h"
#include "datasets/image/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace image {
namespace {

using ::testing::HasSubstr;

TEST(ImageTaskTest, FillsDefaultsAndChecksSizes) {
  TaskConfig task;
  task.set_name("image");
  task.set_seq_len(1024);
  ASSERT_TRUE(ResolveImageParams(&task).ok());
  EXPECT_EQ(task.image().image_size(), 32);
  EXPECT_FLOAT_EQ(task.image().noise(), 0.25f);

  TaskConfig small = task;
  small.mutable_image()->set_image_size(24);
  EXPECT_THAT(std::string(ResolveImageParams(&small).message()),
              HasSubstr("task.seq_len = 1024 is invalid (allowed: 576"));
  small.set_seq_len(576);
  EXPECT_TRUE(ResolveImageParams(&small).ok());

  // CIFAR files are 32 x 32 whatever the stand-in's size.
  small.mutable_image()->set_data_dir("cifar");
  EXPECT_THAT(std::string(ResolveImageParams(&small).message()),
              HasSubstr("task.image.image_size = 24 is invalid (allowed: 32 "
                        "or unset when data_dir names CIFAR-10 files)"));
}

TEST(ImageTaskTest, StandInSplitMatchesTheGenerator) {
  TaskConfig task;
  task.set_name("image");
  task.set_seq_len(1024);
  task.set_train_size(30);
  task.set_val_size(10);
  task.set_test_size(10);
  task.set_data_seed(9);
  ASSERT_TRUE(ResolveImageParams(&task).ok());
  auto dataset = MakeImageDataset(task, Split::kTest, "");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const Dataset& d = **dataset;
  EXPECT_EQ(d.size(), 10);
  EXPECT_EQ(d.seq_len(), 1024);
  EXPECT_EQ(d.vocab_size(), 257);
  EXPECT_EQ(d.num_classes(), 10);
  std::vector<int32_t> tokens(1024), expected(1024);
  for (int64_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(d.Get(i, tokens.data()),
              GenerateImageExample(task.image(), 9, Split::kTest, i,
                                   expected.data()));
    EXPECT_EQ(tokens, expected);
  }
}

TEST(ImageTaskTest, LoadsCifarBatches) {
  const std::string dir = MakeTestTmpDir("cifar10");
  // Ten records per batch; record r of batch b is uniformly gray with
  // value 10 * b + r and label r.
  auto record = [](int label, int value) {
    std::string bytes(kCifarRecordBytes, static_cast<char>(value));
    bytes[0] = static_cast<char>(label);
    return bytes;
  };
  for (int b = 1; b <= 5; ++b) {
    std::ofstream out(absl::StrCat(dir, "/data_batch_", b, ".bin"),
                      std::ios::binary);
    for (int r = 0; r < 10; ++r) out << record(r, 10 * b + r);
  }
  std::ofstream(dir + "/test_batch.bin", std::ios::binary)
      << record(4, 200) << record(5, 201);
  TaskConfig task;
  task.set_name("image");
  task.set_seq_len(1024);
  task.set_train_size(45);
  task.set_val_size(5);
  task.set_test_size(2);
  task.mutable_image()->set_data_dir(dir);
  ASSERT_TRUE(ResolveImageParams(&task).ok());
  auto train = MakeImageDataset(task, Split::kTrain, "");
  auto val = MakeImageDataset(task, Split::kVal, "");
  auto test = MakeImageDataset(task, Split::kTest, "");
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_TRUE(val.ok()) << val.status();
  ASSERT_TRUE(test.ok()) << test.status();
  std::vector<int32_t> tokens(1024);
  // Gray (v, v, v) stays v; tokens are v + 1.
  EXPECT_EQ((*train)->Get(44, tokens.data()), 4);
  EXPECT_EQ(tokens[0], 54 + 1);
  EXPECT_EQ(tokens[1023], 54 + 1);
  EXPECT_EQ((*val)->Get(0, tokens.data()), 5);
  EXPECT_EQ(tokens[7], 55 + 1);
  EXPECT_EQ((*test)->Get(1, tokens.data()), 5);
  EXPECT_EQ(tokens[0], 201 + 1);

  task.set_val_size(6);
  auto too_many = MakeImageDataset(task, Split::kVal, "");
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(std::string(too_many.status().message()),
              HasSubstr("has 5 images in its val split but task.val_size = "
                        "6"));
}

}  // namespace
}  // namespace image
}  // namespace lra
