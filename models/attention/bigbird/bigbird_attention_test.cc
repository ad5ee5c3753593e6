#include "models/attention/bigbird/bigbird_attention.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/block_sparse/pattern_testing.h"
#include "models/attention/testing/plugin_testing.h"

namespace lra {
namespace {

TEST(BigBirdLayoutTest, DefaultIsLrasItcLayout) {
  const BigBirdOptions options;
  const int n = 64 * 64;
  const BigBirdLayout layout = BigBirdHeadLayout(options, n, 42);
  ASSERT_EQ(layout.num_blocks, 64);
  EXPECT_TRUE(layout.global[0]);
  EXPECT_TRUE(layout.global[63]);
  for (int a = 1; a < 63; ++a) {
    EXPECT_FALSE(layout.global[a]);
    // Window of 3 (2 at the edges next to a global block, which is counted
    // once), 2 globals, 3 random.
    const std::vector<int>& keys = layout.keys[a];
    ASSERT_EQ(layout.random[a].size(), 3u);
    for (int r : layout.random[a]) {
      EXPECT_GT(std::abs(r - a), 1) << "random block inside the window";
      EXPECT_NE(r, 0);
      EXPECT_NE(r, 63);
    }
    const int window = std::min(62, a + 1) - std::max(1, a - 1) + 1;
    EXPECT_EQ(keys.size(), 2u + window + 3u) << a;
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  }
}

TEST(BigBirdLayoutTest, RandomBlocksAreFixedBySeedAndDifferByHeadAndLayer) {
  AttentionShape shape;
  shape.seq_len = 2000;
  shape.num_heads = 2;
  shape.seed = 7;
  const BigBirdOptions options;
  auto random = [&](int head) {
    return BigBirdHeadLayout(options, shape.seq_len,
                             BigBirdHeadSeed(shape, head))
        .random;
  };
  const auto head0 = random(0);
  EXPECT_EQ(head0, random(0));
  EXPECT_NE(head0, random(1));
  shape.layer_index = 1;
  EXPECT_NE(head0, random(0));
}

TEST(BigBirdPatternTest, CoversExactlyTheAllowedPairs) {
  for (int n : {1, 5, 37, 64, 130, 333, 700}) {
    for (const BigBirdOptions& options :
         {BigBirdOptions{}, BigBirdOptions{4, 3, 2, 3},
          BigBirdOptions{5, 1, 1, 1}, BigBirdOptions{16, 5, 0, 2},
          BigBirdOptions{100, 3, 2, 1}, BigBirdOptions{64, 3, 3, 0}}) {
      const BigBirdLayout layout = BigBirdHeadLayout(options, n, n);
      absl::StatusOr<BlockSparsePattern> p = BigBirdPattern(layout, n);
      ASSERT_TRUE(p.ok()) << p.status();
      EXPECT_TRUE(PatternCoversExactly(
          *p, [&](int i, int j) { return layout.Allows(i, j); }))
          << "N " << n << " block " << options.block_size;
      EXPECT_TRUE(p->masks.empty());
    }
  }
}

TEST(BigBirdPatternTest, WorkGrowsLinearlyInLength) {
  const BigBirdOptions options;
  auto tiles = [&](int n) {
    absl::StatusOr<BlockSparsePattern> p =
        BigBirdPattern(BigBirdHeadLayout(options, n, 1), n);
    EXPECT_TRUE(p.ok());
    return p.ok() ? p->ScoreTiles() : 0;
  };
  // Per non-global block 8 tiles (7 next to a global block, which is also
  // in its window), plus two global blocks over all keys.
  EXPECT_EQ(tiles(4096), 60 * 8 + 2 * 7 + 2 * 64);
  EXPECT_EQ(tiles(16384), 252 * 8 + 2 * 7 + 2 * 256);
}

TEST(BigBirdAttentionTest, MatchesDenseReference) {
  struct Case {
    std::vector<PluginParam> params;
    int n;
  };
  const std::vector<Case> cases = {
      {{}, 150},
      {{NumberParam("block_size", 8)}, 101},
      {{NumberParam("block_size", 5), NumberParam("random_blocks", 1),
        NumberParam("global_blocks", 1)},
       77},
  };
  for (const Case& c : cases) {
    DenseComparison dc;
    dc.seq_len = c.n;
    AttentionShape shape = dc.Shape();
    shape.seed = 99;
    shape.layer_index = 1;
    absl::StatusOr<PluginParams> params =
        ResolvePluginParamsOf(BigBirdAttentionPlugin(), c.params);
    ASSERT_TRUE(params.ok());
    absl::StatusOr<BigBirdOptions> options = BigBirdOptionsFromParams(*params);
    ASSERT_TRUE(options.ok());
    std::vector<BigBirdLayout> layouts;
    for (int h = 0; h < shape.num_heads; ++h) {
      layouts.push_back(
          BigBirdHeadLayout(*options, c.n, BigBirdHeadSeed(shape, h)));
    }
    auto attention = CreatePlugin(BigBirdAttentionPlugin(), c.params, shape);
    ASSERT_TRUE(attention.ok()) << attention.status();
    EXPECT_TRUE(MatchesDenseReference(
        **attention, dc,
        [&](int h, int i, int j) { return layouts[h].Allows(i, j); }))
        << "N " << c.n;
  }
}

TEST(BigBirdAttentionTest, RejectsBadParameters) {
  AttentionShape shape;
  shape.seq_len = 100;
  shape.head_dim = 4;
  for (const auto& [param, text] :
       std::vector<std::pair<PluginParam, std::string>>{
           {NumberParam("block_size", 0), "block_size"},
           {NumberParam("window_blocks", 2), "odd"},
           {NumberParam("random_blocks", -1), "random_blocks"},
           {NumberParam("global_blocks", 1.5), "global_blocks"}}) {
    auto attention = CreatePlugin(BigBirdAttentionPlugin(), {param}, shape);
    ASSERT_FALSE(attention.ok());
    EXPECT_NE(attention.status().message().find(text), std::string::npos)
        << attention.status();
  }
}

}  // namespace
}  // namespace lra
