#include "datasets/common/packed_dataset.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

using ::testing::ElementsAre;

TEST(PackedDatasetTest, OffsetsIdsAndPadsOneSegment) {
  PackedDataset dataset(/*segment_len=*/4, /*num_segments=*/1,
                        /*vocab_size=*/257, /*num_classes=*/2, /*id_offset=*/1);
  const std::vector<uint8_t> short_text = {0, 255};
  const std::vector<uint8_t> long_text = {10, 11, 12, 13, 14, 15};
  dataset.Add(absl::MakeConstSpan(short_text), 1);
  dataset.Add(absl::MakeConstSpan(long_text), 0);
  EXPECT_EQ(dataset.size(), 2);
  EXPECT_EQ(dataset.seq_len(), 4);
  EXPECT_EQ(dataset.num_segments(), 1);
  std::vector<int32_t> tokens(4, -1);
  EXPECT_EQ(dataset.Get(0, tokens.data()), 1);
  // Byte 0 becomes id 1 and byte 255 id 256; 0 is left for padding.
  EXPECT_THAT(tokens, ElementsAre(1, 256, 0, 0));
  EXPECT_EQ(dataset.Get(1, tokens.data()), 0);
  EXPECT_THAT(tokens, ElementsAre(11, 12, 13, 14));
  EXPECT_EQ(dataset.segment(1, 0).size(), 4u);
}

TEST(PackedDatasetTest, PadsEachSegmentOnItsOwn) {
  PackedDataset dataset(/*segment_len=*/3, /*num_segments=*/2,
                        /*vocab_size=*/257, /*num_classes=*/2, /*id_offset=*/1);
  const std::vector<uint8_t> first = {'a'};
  const std::vector<uint8_t> second = {'b', 'c', 'd', 'e'};
  const absl::Span<const uint8_t> segments[] = {first, second};
  dataset.Add(absl::MakeConstSpan(segments), 1);
  EXPECT_EQ(dataset.seq_len(), 6);
  EXPECT_EQ(dataset.num_segments(), 2);
  std::vector<int32_t> tokens(6, -1);
  EXPECT_EQ(dataset.Get(0, tokens.data()), 1);
  EXPECT_THAT(tokens, ElementsAre('a' + 1, 0, 0, 'b' + 1, 'c' + 1, 'd' + 1));
}

// ListOps' use: ids stored as they are, cut to the length, empty examples
// all padding.
TEST(PackedDatasetTest, StoresIdsWithoutOffsetAndTruncates) {
  PackedDataset dataset(/*segment_len=*/4, /*num_segments=*/1,
                        /*vocab_size=*/16, /*num_classes=*/10,
                        /*id_offset=*/0);
  const std::vector<uint8_t> short_ids = {5, 6};
  const std::vector<uint8_t> long_ids = {1, 2, 3, 4, 5, 6};
  dataset.Add(absl::MakeConstSpan(short_ids), 7);
  dataset.Add(absl::MakeConstSpan(long_ids), 3);
  dataset.Add(absl::Span<const uint8_t>(), 0);
  EXPECT_EQ(dataset.size(), 3);
  EXPECT_EQ(dataset.vocab_size(), 16);
  EXPECT_EQ(dataset.num_classes(), 10);
  std::vector<int32_t> tokens(4, -1);
  EXPECT_EQ(dataset.Get(0, tokens.data()), 7);
  EXPECT_THAT(tokens, ElementsAre(5, 6, 0, 0));
  EXPECT_EQ(dataset.Get(1, tokens.data()), 3);
  EXPECT_THAT(tokens, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(dataset.Get(2, tokens.data()), 0);
  EXPECT_THAT(tokens, ElementsAre(0, 0, 0, 0));
  EXPECT_EQ(dataset.segment(0, 0).size(), 2u);
  EXPECT_EQ(dataset.segment(1, 0).size(), 4u);
}

}  // namespace
}  // namespace lra
