#include "datasets/packed_dataset.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

using ::testing::ElementsAre;

TEST(PackedDatasetTest, PadsAndTruncatesOnGet) {
  PackedDataset<uint8_t> dataset(/*seq_len=*/4, /*vocab_size=*/16,
                                 /*num_classes=*/10);
  const std::vector<int32_t> short_ids = {5, 6};
  const std::vector<int32_t> long_ids = {1, 2, 3, 4, 5, 6};
  dataset.Add(absl::MakeConstSpan(short_ids), 7);
  dataset.Add(absl::MakeConstSpan(long_ids), 3);
  dataset.Add(absl::Span<const int32_t>(), 0);
  EXPECT_EQ(dataset.size(), 3);
  EXPECT_EQ(dataset.seq_len(), 4);
  EXPECT_EQ(dataset.vocab_size(), 16);
  EXPECT_EQ(dataset.num_classes(), 10);
  std::vector<int32_t> tokens(4, -1);
  EXPECT_EQ(dataset.Get(0, tokens.data()), 7);
  EXPECT_THAT(tokens, ElementsAre(5, 6, 0, 0));
  EXPECT_EQ(dataset.Get(1, tokens.data()), 3);
  EXPECT_THAT(tokens, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(dataset.Get(2, tokens.data()), 0);
  EXPECT_THAT(tokens, ElementsAre(0, 0, 0, 0));
  EXPECT_EQ(dataset.length(0), 2);
  EXPECT_EQ(dataset.length(1), 4);
}

TEST(PackedDatasetTest, WideTokens) {
  PackedDataset<uint16_t> dataset(3, 1000, 2);
  EXPECT_EQ(PackedDataset<uint16_t>::kMaxVocabSize, 65536);
  const std::vector<uint16_t> ids = {999, 256};
  dataset.Add(absl::MakeConstSpan(ids), 1);
  std::vector<int32_t> tokens(3);
  EXPECT_EQ(dataset.Get(0, tokens.data()), 1);
  EXPECT_THAT(tokens, ElementsAre(999, 256, 0));
}

}  // namespace
}  // namespace lra
