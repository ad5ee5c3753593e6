#include "models/attention/sparse_transformer/sparse_transformer_attention.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/block_sparse/pattern_testing.h"
#include "models/attention/testing/plugin_testing.h"

namespace lra {
namespace {

absl::StatusOr<SparseTransformerOptions> Resolve(
    const std::vector<PluginParam>& params, const AttentionShape& shape) {
  absl::StatusOr<PluginParams> resolved =
      ResolvePluginParamsOf(SparseTransformerAttentionPlugin(), params);
  if (!resolved.ok()) return resolved.status();
  return SparseTransformerOptionsFromParams(*resolved, shape);
}

TEST(SparseTransformerPatternTest, CoversExactlyTheAllowedPairs) {
  for (int n : {1, 2, 7, 37, 64, 130, 201}) {
    for (bool strided : {false, true}) {
      for (auto [block, summary] : std::vector<std::pair<int, int>>{
               {1, 0}, {3, 1}, {8, 2}, {50, 10}, {70, 0}, {70, 70}}) {
        for (bool causal : {false, true}) {
          for (bool cls : {false, true}) {
            SparseTransformerOptions options{strided, block, summary, causal,
                                             cls};
            absl::StatusOr<BlockSparsePattern> p =
                SparseTransformerPattern(options, n);
            ASSERT_TRUE(p.ok()) << p.status();
            EXPECT_TRUE(PatternCoversExactly(*p,
                                             [&](int i, int j) {
                                               return SparseTransformerAllows(
                                                   options, i, j);
                                             }))
                << (strided ? "strided" : "fixed") << " l " << block << " c "
                << summary << " N " << n << " causal " << causal << " cls "
                << cls;
          }
        }
      }
    }
  }
}

TEST(SparseTransformerPatternTest, FixedPatternIsLras) {
  SparseTransformerOptions o;  // fixed, l = 50, c = 10, bidirectional
  EXPECT_TRUE(SparseTransformerAllows(o, 60, 99));    // own block
  EXPECT_TRUE(SparseTransformerAllows(o, 60, 50));    // own block
  EXPECT_TRUE(SparseTransformerAllows(o, 60, 0));     // offset 0: summary
  EXPECT_TRUE(SparseTransformerAllows(o, 60, 140));   // offset 40: summary
  EXPECT_TRUE(SparseTransformerAllows(o, 60, 149));   // offset 49: summary
  EXPECT_FALSE(SparseTransformerAllows(o, 60, 139));  // offset 39
  EXPECT_FALSE(SparseTransformerAllows(o, 60, 1));
  o.causal = true;
  EXPECT_FALSE(SparseTransformerAllows(o, 60, 140));
  EXPECT_TRUE(SparseTransformerAllows(o, 60, 40));
  // With a global CLS the pattern shifts by one position.
  o = SparseTransformerOptions();
  o.cls_global = true;
  EXPECT_TRUE(SparseTransformerAllows(o, 0, 77));
  EXPECT_TRUE(SparseTransformerAllows(o, 77, 0));
  EXPECT_TRUE(SparseTransformerAllows(o, 61, 141));  // token 60 -> token 140
  EXPECT_FALSE(SparseTransformerAllows(o, 61, 140));
}

TEST(SparseTransformerPatternTest, StridedPattern) {
  SparseTransformerOptions o;
  o.strided = true;
  o.block_size = 10;
  EXPECT_TRUE(SparseTransformerAllows(o, 50, 41));
  EXPECT_FALSE(SparseTransformerAllows(o, 50, 40 - 1));
  EXPECT_TRUE(SparseTransformerAllows(o, 50, 0));
  EXPECT_TRUE(SparseTransformerAllows(o, 50, 90));
  EXPECT_FALSE(SparseTransformerAllows(o, 50, 91));
}

TEST(SparseTransformerPatternTest, GathersSummariesIntoFewTiles) {
  SparseTransformerOptions o;
  absl::StatusOr<BlockSparsePattern> p = SparseTransformerPattern(o, 4096);
  ASSERT_TRUE(p.ok());
  // 81 whole blocks of 11 summaries, then offsets 0 and 40..45 of the last
  // block. Per block of 50 rows: its own tile plus ceil(898 / 64) = 15
  // summary tiles, about a quarter of full attention's 64 per 64 rows.
  EXPECT_EQ(p->gather.size(), 11u * 81 + 7);
  EXPECT_LE(p->ScoreTiles(), 82 * 16);
  o.strided = true;
  p = SparseTransformerPattern(o, 4096);
  ASSERT_TRUE(p.ok());
  EXPECT_LE(p->ScoreTiles(), 64 * 4 + 50 * 4);
}

TEST(SparseTransformerOptionsTest, ReadsParameters) {
  AttentionShape shape;
  shape.seq_len = 100;
  shape.cls_token = true;
  absl::StatusOr<SparseTransformerOptions> o = Resolve({}, shape);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->strided);
  EXPECT_EQ(o->block_size, 50);
  EXPECT_EQ(o->summary, 10);
  EXPECT_TRUE(o->cls_global);
  o = Resolve({FlagParam("cls_global", false)}, shape);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->cls_global);
  for (const auto& [param, text] :
       std::vector<std::pair<PluginParam, std::string>>{
           {NumberParam("block_size", 0), "block_size"},
           {NumberParam("c", 51), "'c'"},
           {TextParam("pattern", "axial"), "fixed, strided"}}) {
    o = Resolve({param}, shape);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.status().message().find(text), std::string::npos) << o.status();
  }
}

TEST(SparseTransformerAttentionTest, MatchesDenseReference) {
  struct Case {
    std::vector<PluginParam> params;
    int n;
    bool cls;
  };
  const std::vector<Case> cases = {
      {{}, 130, true},
      {{NumberParam("block_size", 8), NumberParam("c", 2)}, 101, false},
      {{NumberParam("block_size", 8), NumberParam("c", 2),
        FlagParam("causal", true)},
       90,
       true},
      {{TextParam("pattern", "strided"), NumberParam("block_size", 7)},
       150,
       true},
      {{TextParam("pattern", "strided"), NumberParam("block_size", 12),
        FlagParam("causal", true)},
       100,
       false},
  };
  for (const Case& c : cases) {
    DenseComparison dc;
    dc.seq_len = c.n;
    AttentionShape shape = dc.Shape();
    shape.cls_token = c.cls;
    absl::StatusOr<SparseTransformerOptions> options = Resolve(c.params, shape);
    ASSERT_TRUE(options.ok()) << options.status();
    auto attention =
        CreatePlugin(SparseTransformerAttentionPlugin(), c.params, shape);
    ASSERT_TRUE(attention.ok()) << attention.status();
    EXPECT_TRUE(MatchesDenseReference(**attention, dc,
                                      [&](int, int i, int j) {
                                        return SparseTransformerAllows(*options,
                                                                       i, j);
                                      }))
        << "N " << c.n;
  }
}

}  // namespace
}  // namespace lra
