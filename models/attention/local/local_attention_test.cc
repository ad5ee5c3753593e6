#include "models/attention/local/local_attention.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/block_sparse/pattern_testing.h"
#include "models/attention/testing/plugin_testing.h"

namespace lra {
namespace {

absl::StatusOr<std::unique_ptr<Attention>> Create(
    const std::vector<PluginParam>& params, const AttentionShape& shape) {
  return CreatePlugin(LocalAttentionPlugin(), params, shape);
}

TEST(LocalPatternTest, CoversExactlyTheAllowedPairs) {
  for (int n : {1, 7, 50, 64, 99, 130, 200}) {
    for (bool causal : {false, true}) {
      for (int block : {1, 8, 50, 64, 70, 130}) {
        LocalOptions options{false, block, 50, causal};
        absl::StatusOr<BlockSparsePattern> p = LocalPattern(options, n);
        ASSERT_TRUE(p.ok()) << p.status();
        EXPECT_TRUE(PatternCoversExactly(
            *p, [&](int i, int j) { return LocalAllows(options, i, j); }))
            << "blocks of " << block << ", N " << n << ", causal " << causal;
      }
      for (int window : {1, 2, 9, 50, 128, 129, 500}) {
        LocalOptions options{true, 50, window, causal};
        absl::StatusOr<BlockSparsePattern> p = LocalPattern(options, n);
        ASSERT_TRUE(p.ok()) << p.status();
        EXPECT_TRUE(PatternCoversExactly(
            *p, [&](int i, int j) { return LocalAllows(options, i, j); }))
            << "window " << window << ", N " << n << ", causal " << causal;
      }
    }
  }
}

TEST(LocalPatternTest, DefaultIsLraBlocksOfFifty) {
  LocalOptions options;
  EXPECT_TRUE(LocalAllows(options, 0, 49));
  EXPECT_FALSE(LocalAllows(options, 49, 50));
  EXPECT_TRUE(LocalAllows(options, 120, 100));
  absl::StatusOr<BlockSparsePattern> p = LocalPattern(options, 130);
  ASSERT_TRUE(p.ok());
  // One tile pair per block; key tiles start on a cache line (16 keys), the
  // keys before the block masked: [0, 50), [48, 100) and [96, 130).
  ASSERT_EQ(p->query_blocks.size(), 3u);
  ASSERT_EQ(p->key_blocks.size(), 3u);
  EXPECT_EQ(p->key_blocks[0].mask, -1);
  EXPECT_EQ(p->key_blocks[1].keys.begin, 48);
  EXPECT_EQ(p->key_blocks[1].keys.count, 52);
  EXPECT_EQ(p->key_blocks[2].keys.begin, 96);
  EXPECT_EQ(p->key_blocks[2].keys.count, 34);
  EXPECT_EQ(p->AllowedPairs(), 50 * 50 * 2 + 30 * 30);
}

TEST(LocalPatternTest, SlidingWindowFollowsLongformerConvention) {
  LocalOptions options{true, 50, 4, false};  // offsets -1 .. +2
  EXPECT_FALSE(LocalAllows(options, 10, 8));
  EXPECT_TRUE(LocalAllows(options, 10, 9));
  EXPECT_TRUE(LocalAllows(options, 10, 12));
  EXPECT_FALSE(LocalAllows(options, 10, 13));
}

TEST(LocalPatternTest, WorkGrowsLinearlyInLength) {
  for (bool sliding : {false, true}) {
    LocalOptions options;
    options.sliding = sliding;
    absl::StatusOr<BlockSparsePattern> a = LocalPattern(options, 4096);
    absl::StatusOr<BlockSparsePattern> b = LocalPattern(options, 16384);
    ASSERT_TRUE(a.ok() && b.ok());
    const double ratio = static_cast<double>(b->ScoreTiles()) / a->ScoreTiles();
    EXPECT_NEAR(ratio, 4.0, 0.05) << "sliding " << sliding;
    EXPECT_LE(a->AllowedPairs(), 4096 * 50);
  }
}

struct Case {
  std::vector<PluginParam> params;
  LocalOptions options;
  int n;
};

TEST(LocalAttentionTest, MatchesDenseReference) {
  const std::vector<Case> cases = {
      {{}, LocalOptions{}, 130},
      {{NumberParam("block_size", 8)}, {false, 8, 50, false}, 37},
      {{NumberParam("block_size", 70), FlagParam("causal", true)},
       {false, 70, 50, true},
       150},
      {{TextParam("mode", "sliding"), NumberParam("window", 9)},
       {true, 50, 9, false},
       100},
      {{TextParam("mode", "sliding"), NumberParam("window", 100),
        FlagParam("causal", true)},
       {true, 50, 100, true},
       201},
  };
  for (const Case& c : cases) {
    DenseComparison dc;
    dc.seq_len = c.n;
    AttentionShape shape = dc.Shape();
    auto attention = Create(c.params, shape);
    ASSERT_TRUE(attention.ok()) << attention.status();
    EXPECT_TRUE(MatchesDenseReference(
        **attention, dc,
        [&](int, int i, int j) { return LocalAllows(c.options, i, j); }))
        << "N " << c.n;
  }
}

TEST(LocalAttentionTest, RejectsBadParameters) {
  AttentionShape shape;
  shape.seq_len = 10;
  shape.head_dim = 4;
  for (const auto& [param, text] :
       std::vector<std::pair<PluginParam, std::string>>{
           {NumberParam("block_size", 0), "block_size"},
           {NumberParam("block_size", 2.5), "block_size"},
           {NumberParam("window", -3), "window"},
           {TextParam("mode", "strided"), "blocks, sliding"}}) {
    auto attention = Create({param}, shape);
    ASSERT_FALSE(attention.ok());
    EXPECT_NE(attention.status().message().find(text), std::string::npos)
        << attention.status();
  }
}

}  // namespace
}  // namespace lra
