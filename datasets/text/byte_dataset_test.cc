#include "datasets/text/byte_dataset.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

using ::testing::ElementsAre;

TEST(ByteDatasetTest, OffsetsIdsAndPadsOneSegment) {
  ByteDataset dataset(/*segment_len=*/4, /*num_segments=*/1,
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

TEST(ByteDatasetTest, PadsEachSegmentOnItsOwn) {
  ByteDataset dataset(/*segment_len=*/3, /*num_segments=*/2,
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

}  // namespace
}  // namespace lra
