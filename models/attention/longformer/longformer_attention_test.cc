#include "models/attention/longformer/longformer_attention.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/block_sparse/pattern_testing.h"
#include "models/attention/testing/plugin_testing.h"

namespace lra {
namespace {

absl::StatusOr<std::unique_ptr<Attention>> Create(
    const std::vector<PluginParam>& params, const AttentionShape& shape) {
  return CreatePlugin(LongformerAttentionPlugin(), params, shape);
}

absl::StatusOr<LongformerOptions> Resolve(
    const std::vector<PluginParam>& params, const AttentionShape& shape) {
  absl::StatusOr<PluginParams> resolved =
      ResolvePluginParamsOf(LongformerAttentionPlugin(), params);
  if (!resolved.ok()) return resolved.status();
  return LongformerOptionsFromParams(*resolved, shape);
}

TEST(LongformerPatternTest, CoversExactlyTheAllowedPairs) {
  for (int n : {1, 5, 37, 64, 130, 300}) {
    for (int window : {1, 2, 9, 64, 129, 512}) {
      for (const std::vector<int>& global :
           {std::vector<int>{}, std::vector<int>{0}, std::vector<int>{0, 3},
            std::vector<int>{2, 4, n - 1}}) {
        for (bool causal : {false, true}) {
          LongformerOptions options;
          options.window = window;
          options.causal = causal;
          for (int g : global) {
            if (g >= 0 && g < n) options.global.push_back(g);
          }
          std::sort(options.global.begin(), options.global.end());
          options.global.erase(
              std::unique(options.global.begin(), options.global.end()),
              options.global.end());
          absl::StatusOr<BlockSparsePattern> p = LongformerPattern(options, n);
          ASSERT_TRUE(p.ok()) << p.status();
          EXPECT_TRUE(PatternCoversExactly(
              *p,
              [&](int i, int j) { return LongformerAllows(options, i, j); }))
              << "N " << n << " window " << window << " globals "
              << options.global.size() << " causal " << causal;
        }
      }
    }
  }
}

TEST(LongformerPatternTest, WindowFollowsLra) {
  LongformerOptions options;  // window 512: offsets -255 .. +256
  EXPECT_TRUE(LongformerAllows(options, 1000, 745));
  EXPECT_FALSE(LongformerAllows(options, 1000, 744));
  EXPECT_TRUE(LongformerAllows(options, 1000, 1256));
  EXPECT_FALSE(LongformerAllows(options, 1000, 1257));
  options.global = {3};
  EXPECT_TRUE(LongformerAllows(options, 1000, 3));
  EXPECT_TRUE(LongformerAllows(options, 3, 1999));
}

TEST(LongformerPatternTest, WorkGrowsLinearlyInLength) {
  LongformerOptions options;
  options.global = {0};
  absl::StatusOr<BlockSparsePattern> a = LongformerPattern(options, 4096);
  absl::StatusOr<BlockSparsePattern> b = LongformerPattern(options, 16384);
  ASSERT_TRUE(a.ok() && b.ok());
  const double ratio = static_cast<double>(b->ScoreTiles()) / a->ScoreTiles();
  EXPECT_LT(ratio, 4.2);
  // Window tiles plus one gathered global tile per query tile, plus the
  // global row over all keys: about 11 of full attention's 64 tiles.
  EXPECT_LT(a->ScoreTiles(), 64 * 12);
}

TEST(LongformerOptionsTest, ClsIsGlobalUnderClsPooling) {
  AttentionShape shape;
  shape.seq_len = 20;
  shape.cls_token = true;
  absl::StatusOr<LongformerOptions> options = Resolve({}, shape);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->global, std::vector<int>{0});
  // Token positions shift past CLS.
  options = Resolve({TextParam("global_positions", "4, 0")}, shape);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->global, (std::vector<int>{0, 1, 5}));
  options = Resolve({FlagParam("cls_global", false)}, shape);
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->global.empty());
  shape.cls_token = false;
  options = Resolve({TextParam("global_positions", "4")}, shape);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->global, std::vector<int>{4});
}

TEST(LongformerOptionsTest, RejectsBadParameters) {
  AttentionShape shape;
  shape.seq_len = 20;
  shape.cls_token = true;
  for (const auto& [param, text] :
       std::vector<std::pair<PluginParam, std::string>>{
           {NumberParam("window", 0), "window"},
           {TextParam("global_positions", "1,x"), "global_positions"},
           {TextParam("global_positions", "-1"), "global_positions"},
           {TextParam("global_positions", "19"), "past the sequence"}}) {
    absl::StatusOr<LongformerOptions> options = Resolve({param}, shape);
    ASSERT_FALSE(options.ok());
    EXPECT_NE(options.status().message().find(text), std::string::npos)
        << options.status();
  }
}

TEST(LongformerAttentionTest, MatchesDenseReference) {
  struct Case {
    std::vector<PluginParam> params;
    int n;
    bool cls;
  };
  const std::vector<Case> cases = {
      {{}, 130, true},  // window covers everything; CLS global
      {{NumberParam("window", 9)}, 37, true},
      {{NumberParam("window", 16), TextParam("global_positions", "3,100")},
       150,
       false},
      {{NumberParam("window", 20), TextParam("global_positions", "7"),
        FlagParam("causal", true)},
       140,
       true},
  };
  for (const Case& c : cases) {
    DenseComparison dc;
    dc.seq_len = c.n;
    AttentionShape shape = dc.Shape();
    shape.cls_token = c.cls;
    absl::StatusOr<LongformerOptions> options = Resolve(c.params, shape);
    ASSERT_TRUE(options.ok()) << options.status();
    auto attention = Create(c.params, shape);
    ASSERT_TRUE(attention.ok()) << attention.status();
    EXPECT_TRUE(MatchesDenseReference(
        **attention, dc,
        [&](int, int i, int j) { return LongformerAllows(*options, i, j); }))
        << "N " << c.n;
  }
}

}  // namespace
}  // namespace lra
