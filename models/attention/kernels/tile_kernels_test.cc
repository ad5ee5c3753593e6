// ScoreTileCols, the score tile of a short last key block, against the full
// 64-column ScoreTile it stands in for: equal bit for bit, with and without
// a bias, for every width of the block.
#include "models/attention/kernels/tile_kernels.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "models/rng.h"

namespace lra::internal {
namespace {

// Values in [-1, 1) from (seed, i).
float Value(uint64_t seed, int64_t i) {
  return static_cast<float>(2.0 *
                                static_cast<double>(RandomBits(seed, i) >> 11) *
                                (1.0 / 9007199254740992.0) -
                            1.0);
}

TEST(ScoreTileColsTest, MatchesScoreTileBitForBit) {
  constexpr int kDh = 32, kStride = kKeyBlock + 16;
  for (int rows : {1, 5, 13, 64}) {
    for (int cols = 1; cols <= kKeyBlock; ++cols) {
      std::vector<float> a(rows * kDh), bt(kDh * kStride, 0.0f);
      for (int i = 0; i < rows * kDh; ++i) a[i] = Value(1, i);
      // Key columns past `cols` are zero, as a short block is padded.
      for (int x = 0; x < kDh; ++x) {
        for (int c = 0; c < cols; ++c)
          bt[x * kStride + c] = Value(2, x * 64 + c);
      }
      std::vector<float> bias(kKeyBlock);
      for (int c = 0; c < kKeyBlock; ++c) {
        bias[c] = c < cols && c % 3 != 1
                      ? 0.0f
                      : -std::numeric_limits<float>::infinity();
      }
      for (const float* b : {static_cast<const float*>(nullptr),
                             static_cast<const float*>(bias.data())}) {
        std::vector<float> want(rows * kKeyBlock, 7.0f),
            got(rows * kKeyBlock, 9.0f);
        ScoreTile(a.data(), rows, kDh, bt.data(), kStride, 0.25f, b,
                  want.data());
        ScoreTileCols(a.data(), rows, kDh, bt.data(), kStride, 0.25f, b, cols,
                      got.data());
        EXPECT_EQ(0, std::memcmp(want.data(), got.data(),
                                 sizeof(float) * want.size()))
            << "rows " << rows << " cols " << cols
            << (b == nullptr ? " no bias" : " bias");
      }
    }
  }
}

}  // namespace
}  // namespace lra::internal
