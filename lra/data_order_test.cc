#include "lra/data_order.h"

#include <algorithm>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace lra {
namespace {

// Lengths 1..size in a scrambled order, so index order says nothing.
std::vector<int> Lengths(int size) {
  std::vector<int> lengths(size);
  for (int i = 0; i < size; ++i) lengths[i] = 1 + (i * 37) % size;
  return lengths;
}

std::vector<int64_t> Epoch(DataOrder& order, int64_t size, int64_t epoch) {
  std::vector<int64_t> indices;
  for (int64_t p = epoch * size; p < (epoch + 1) * size; ++p) {
    indices.push_back(order.Index(p));
  }
  return indices;
}

// Mean over batches of (longest - shortest) length in the batch.
double MeanSpread(const std::vector<int64_t>& positions_to_index,
                  const std::vector<int>& lengths, int batch, int64_t first) {
  double sum = 0;
  int count = 0;
  for (size_t start = first; start + batch <= positions_to_index.size();
       start += batch) {
    int lo = 1 << 30, hi = 0;
    for (int b = 0; b < batch; ++b) {
      lo = std::min(lo, lengths[positions_to_index[start + b]]);
      hi = std::max(hi, lengths[positions_to_index[start + b]]);
    }
    sum += hi - lo;
    ++count;
  }
  return sum / count;
}

TEST(DataOrderTest, EveryEpochIsAPermutation) {
  const int size = 101;
  DataOrder plain(size, 7);
  DataOrder bucketed(Lengths(size), 7, 8, 4);
  for (DataOrder* order : {&plain, &bucketed}) {
    for (int epoch = 0; epoch < 3; ++epoch) {
      std::vector<int64_t> indices = Epoch(*order, size, epoch);
      std::set<int64_t> distinct(indices.begin(), indices.end());
      EXPECT_EQ(distinct.size(), size_t{size});
      EXPECT_EQ(*distinct.begin(), 0);
      EXPECT_EQ(*distinct.rbegin(), size - 1);
    }
  }
}

TEST(DataOrderTest, BucketedBatchesHoldSimilarLengths) {
  const int size = 512, batch = 8;
  const std::vector<int> lengths = Lengths(size);
  DataOrder plain(size, 3);
  DataOrder bucketed(lengths, 3, batch, 8);
  const double plain_spread =
      MeanSpread(Epoch(plain, size, 0), lengths, batch, 0);
  const double bucketed_spread =
      MeanSpread(Epoch(bucketed, size, 0), lengths, batch, 0);
  // Uniform lengths 1..512: a random batch of 8 spans about 400; a window of
  // 64 sorted examples cut into 8 spans about 512 / 64 * 7 = 56 per batch.
  EXPECT_GT(plain_spread, 250);
  EXPECT_LT(bucketed_spread, 100);
}

TEST(DataOrderTest, BatchesStayAlignedWhenAnEpochStartsInsideABatch) {
  // 100 examples, batches of 8: epoch 1 starts at position 100, inside the
  // batch of positions 96..103; its later batches (from 104) are bucketed.
  const int size = 100, batch = 8;
  const std::vector<int> lengths = Lengths(size);
  DataOrder bucketed(lengths, 5, batch, 4);
  std::vector<int64_t> stream;
  for (int64_t p = 0; p < 2 * size; ++p) stream.push_back(bucketed.Index(p));
  DataOrder plain(size, 5);
  std::vector<int64_t> plain_stream;
  for (int64_t p = 0; p < 2 * size; ++p) plain_stream.push_back(plain.Index(p));
  // Batches from position 104 to 192 lie inside epoch 1.
  std::vector<int64_t> tail(stream.begin() + 104, stream.begin() + 192);
  std::vector<int64_t> plain_tail(plain_stream.begin() + 104,
                                  plain_stream.begin() + 192);
  EXPECT_LT(MeanSpread(tail, lengths, batch, 0),
            MeanSpread(plain_tail, lengths, batch, 0) / 2);
}

TEST(DataOrderTest, APureFunctionOfSeedAndPosition) {
  const int size = 64;
  DataOrder a(Lengths(size), 11, 4, 4), b(Lengths(size), 11, 4, 4);
  DataOrder other_seed(Lengths(size), 12, 4, 4);
  // b is read from a later epoch first, as after a resume.
  std::vector<int64_t> late_b = Epoch(b, size, 2);
  std::vector<int64_t> first_a = Epoch(a, size, 0);
  EXPECT_EQ(Epoch(a, size, 2), late_b);
  EXPECT_EQ(Epoch(b, size, 0), first_a);
  EXPECT_NE(Epoch(other_seed, size, 0), first_a);
  EXPECT_NE(Epoch(a, size, 1), first_a);
}

TEST(DataOrderTest, UnbucketedOrderIsTheTrainersOriginalShuffle) {
  // Fisher-Yates driven by Mix64 from (seed, epoch): pinned so that moving
  // the order out of the trainer changed no run's data.
  DataOrder order(5, 42);
  std::vector<int64_t> perm = {0, 1, 2, 3, 4};
  uint64_t state = Mix64(42 ^ Mix64(1));
  for (int64_t i = 4; i > 0; --i) {
    state = Mix64(state);
    std::swap(perm[i], perm[state % (i + 1)]);
  }
  EXPECT_EQ(Epoch(order, 5, 0), perm);
}

}  // namespace
}  // namespace lra
