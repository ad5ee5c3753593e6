#include <algorithm>
#include <cmath>
#include <memory>
#include <ostream>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/block_sparse/block_sparse_attention.h"
#include "models/attention/block_sparse/pattern.h"
#include "models/attention/block_sparse/pattern_testing.h"
#include "models/attention/full/full_attention.h"
#include "models/attention/testing/qkv_testing.h"
#include "models/rng.h"

namespace lra {
namespace {

TEST(BlockSparsePatternBuilderTest, KeepsMasksOnlyForPartlyAllowedTiles) {
  BlockSparsePatternBuilder builder(100);
  builder.AddQueryBlock({0, 10, false});
  builder.AddKeys({0, 64, false}, [](int i, int j) { return true; });
  builder.AddKeys({64, 36, false}, [](int i, int j) { return false; });
  builder.AddKeys({64, 36, false}, [](int i, int j) { return j <= 64 + i; });
  absl::StatusOr<BlockSparsePattern> pattern = std::move(builder).Build();
  ASSERT_TRUE(pattern.ok()) << pattern.status();
  ASSERT_EQ(pattern->query_blocks.size(), 1u);
  EXPECT_EQ(pattern->query_blocks[0].num_keys, 2);  // the empty tile dropped
  ASSERT_EQ(pattern->key_blocks.size(), 2u);
  EXPECT_EQ(pattern->key_blocks[0].mask, -1);
  EXPECT_EQ(pattern->key_blocks[1].mask, 0);
  EXPECT_EQ(pattern->masks.size(), 64u);
  EXPECT_EQ(pattern->masks[0], 1u);       // row 0: key 64 only
  EXPECT_EQ(pattern->masks[3], 0b1111u);  // row 3: keys 64..67
  EXPECT_EQ(pattern->AllowedPairs(),
            10 * 64 + (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10));
  EXPECT_FALSE(pattern->Allows(pattern->key_blocks[1], 0, 1));
  EXPECT_TRUE(pattern->Allows(pattern->key_blocks[1], 1, 1));
}

TEST(BlockSparsePatternBuilderTest, RejectsBadTiles) {
  {
    BlockSparsePatternBuilder builder(10);
    builder.AddKeys({0, 5, false});
    EXPECT_FALSE(std::move(builder).Build().ok());
  }
  {
    BlockSparsePatternBuilder builder(100);
    builder.AddQueryBlock({0, 65, false});
    absl::Status status = std::move(builder).Build().status();
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("1 to 64"), std::string::npos) << status;
  }
  {
    BlockSparsePatternBuilder builder(10);
    builder.AddQueryBlock({5, 6, false});
    EXPECT_FALSE(std::move(builder).Build().ok());
  }
  {
    BlockSparsePatternBuilder builder(10, {3, 10});
    EXPECT_FALSE(std::move(builder).Build().ok());
  }
  {
    BlockSparsePatternBuilder builder(10, {3, 4});
    builder.AddQueryBlock({0, 10, false});
    builder.AddKeys({1, 2, true});
    EXPECT_FALSE(std::move(builder).Build().ok());
  }
}

// A pattern that exercises every path of the engine: natural query and key
// tiles of random sizes and offsets, gathered keys, and gathered query rows
// whose pairs are split between a natural and a gathered query block (so
// that rows merge softmax states from several blocks). Pairs are allowed
// with probability `density`; the union is exactly that random matrix.
struct RandomPattern {
  BlockSparsePattern pattern;
  std::vector<uint8_t> allowed;  // [N, N]
};

RandomPattern MakeRandomPattern(int n, uint64_t seed, double density) {
  RandomPattern out;
  out.allowed.resize(static_cast<size_t>(n) * n);
  for (int e = 0; e < n * n; ++e) {
    out.allowed[e] = UniformFloat(seed, e) < density;
  }
  std::vector<int32_t> perm(n);
  for (int i = 0; i < n; ++i) perm[i] = i;
  for (int i = n - 1; i > 0; --i) {
    std::swap(perm[i], perm[RandomBits(seed + 1, i) % (i + 1)]);
  }
  const int gathered = n / 3;
  std::vector<int32_t> gather(perm.begin(), perm.begin() + gathered);
  std::vector<uint8_t> in_gather(n, 0);
  for (int32_t p : gather) in_gather[p] = 1;
  const std::vector<uint8_t>& a = out.allowed;
  auto allowed = [&](int i, int j) { return a[i * n + j] != 0; };
  // Which block covers (i, j): rows in the gather list hand their odd keys to
  // gathered query blocks; keys in the gather list come from gathered tiles.
  auto by_gathered_rows = [&](int i, int j) {
    return in_gather[i] && (j % 2 == 1);
  };
  auto natural_keys = [&](int i, int j) {
    return allowed(i, j) && !by_gathered_rows(i, j) && !in_gather[j];
  };
  auto gathered_keys = [&](int i, int j) {
    return allowed(i, j) && !by_gathered_rows(i, j) && in_gather[j];
  };
  auto gathered_rows = [&](int i, int j) {
    return allowed(i, j) && by_gathered_rows(i, j);
  };
  BlockSparsePatternBuilder builder(n, gather);
  uint64_t draw = 0;
  auto size = [&](int left) {
    const int s = 1 + static_cast<int>(RandomBits(seed + 2, draw++) % 64);
    return std::min(s, left);
  };
  for (int i0 = 0; i0 < n;) {
    const int rows = size(n - i0);
    builder.AddQueryBlock({i0, rows, false});
    for (int j0 = 0; j0 < n;) {
      const int cols = size(n - j0);
      builder.AddKeys({j0, cols, false}, natural_keys);
      j0 += cols;
    }
    builder.AddGatheredKeyRange(0, gathered, gathered_keys);
    i0 += rows;
  }
  for (int g0 = 0; g0 < gathered;) {
    const int rows = size(gathered - g0);
    builder.AddQueryBlock({g0, rows, true});
    builder.AddKeyRange(0, n, gathered_rows);
    g0 += rows;
  }
  absl::StatusOr<BlockSparsePattern> pattern = std::move(builder).Build();
  EXPECT_TRUE(pattern.ok()) << pattern.status();
  if (pattern.ok()) out.pattern = *std::move(pattern);
  return out;
}

struct EngineCase {
  int batch, heads, n, dh;
  bool padding;
  double density;
};

void PrintTo(const EngineCase& c, std::ostream* os) {
  *os << "B=" << c.batch << " H=" << c.heads << " N=" << c.n << " Dh=" << c.dh
      << (c.padding ? " padded" : "") << " density=" << c.density;
}

class BlockSparseEngineTest : public ::testing::TestWithParam<EngineCase> {};

TEST_P(BlockSparseEngineTest, MatchesDenseReference) {
  const EngineCase c = GetParam();
  // One pattern per head, so that the per-head lookup is exercised too.
  std::vector<BlockSparsePattern> patterns;
  std::vector<std::vector<uint8_t>> allowed;
  for (int h = 0; h < c.heads; ++h) {
    RandomPattern rp = MakeRandomPattern(c.n, 100 + h, c.density);
    ASSERT_TRUE(PatternCoversExactly(rp.pattern, [&](int i, int j) {
      return rp.allowed[i * c.n + j] != 0;
    }));
    patterns.push_back(std::move(rp.pattern));
    allowed.push_back(std::move(rp.allowed));
  }
  DenseComparison dc;
  dc.batch = c.batch;
  dc.heads = c.heads;
  dc.seq_len = c.n;
  dc.head_dim = c.dh;
  dc.padding = c.padding;
  AttentionShape shape = dc.Shape();
  shape.max_batch = c.batch + 1;  // a smaller batch than the workspace
  auto attention = BlockSparseAttention::Create(shape, std::move(patterns));
  ASSERT_TRUE(attention.ok()) << attention.status();
  EXPECT_TRUE(MatchesDenseReference(**attention, dc, [&](int h, int i, int j) {
    return allowed[h][i * c.n + j] != 0;
  }));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BlockSparseEngineTest,
    ::testing::Values(EngineCase{1, 1, 1, 4, false, 1.0},
                      EngineCase{2, 1, 1, 4, true, 1.0},  // all padding
                      EngineCase{2, 2, 37, 8, true, 0.3},
                      EngineCase{2, 2, 64, 16, false, 0.5},
                      EngineCase{3, 2, 130, 5, true, 0.2},
                      EngineCase{1, 1, 97, 40, true, 0.05},  // empty rows
                      EngineCase{1, 2, 150, 32, true, 0.6}));

// A pattern that keeps every pair, tiled oddly (query rows in blocks of 50,
// keys through a reversed gather list), must reproduce "full" exactly,
// attention dropout included: both use the same element stream.
TEST(BlockSparseEngineTest, AllPairsEqualsFullAttentionWithDropout) {
  const int B = 2, H = 3, N = 131, Dh = 16;
  std::vector<int32_t> reversed(N);
  for (int i = 0; i < N; ++i) reversed[i] = N - 1 - i;
  BlockSparsePatternBuilder builder(N, reversed);
  for (int i0 = 0; i0 < N; i0 += 50) {
    builder.AddQueryBlock({i0, std::min(50, N - i0), false});
    builder.AddKeyRange(0, 40, [](int, int) { return true; });
    builder.AddGatheredKeyRange(0, N - 40, [](int, int) { return true; });
  }
  absl::StatusOr<BlockSparsePattern> pattern = std::move(builder).Build();
  ASSERT_TRUE(pattern.ok()) << pattern.status();
  ASSERT_TRUE(PatternCoversExactly(*pattern, [](int, int) { return true; }));

  AttentionShape shape;
  shape.max_batch = B;
  shape.num_heads = H;
  shape.seq_len = N;
  shape.head_dim = Dh;
  shape.attention_dropout = 0.3f;
  auto sparse = BlockSparseAttention::Create(shape, {*pattern});
  ASSERT_TRUE(sparse.ok()) << sparse.status();
  FullAttention full(shape);
  const SparseTestInputs in = MakeSparseTestInputs(B, H, N, Dh, 11);
  const int64_t count = in.count;
  const std::vector<float>&q = in.q, &k = in.k, &v = in.v, &dout = in.dout;
  const std::vector<uint8_t>& mask = in.mask;
  std::vector<float> out_s(count), dq_s(count), dk_s(count), dv_s(count);
  std::vector<float> out_f(count), dq_f(count), dk_f(count), dv_f(count);
  (*sparse)->Forward({q.data(), k.data(), v.data(), mask.data(), B, true, 5},
                     out_s.data());
  (*sparse)->Backward(dout.data(), {dq_s.data(), dk_s.data(), dv_s.data()});
  full.Forward({q.data(), k.data(), v.data(), mask.data(), B, true, 5},
               out_f.data());
  full.Backward(dout.data(), {dq_f.data(), dk_f.data(), dv_f.data()});
  for (int64_t e = 0; e < count; ++e) {
    ASSERT_NEAR(out_s[e], out_f[e], 1e-5 * (1 + std::fabs(out_f[e]))) << e;
    ASSERT_NEAR(dq_s[e], dq_f[e], 1e-4 * (1 + std::fabs(dq_f[e]))) << e;
    ASSERT_NEAR(dk_s[e], dk_f[e], 1e-4 * (1 + std::fabs(dk_f[e]))) << e;
    ASSERT_NEAR(dv_s[e], dv_f[e], 1e-4 * (1 + std::fabs(dv_f[e]))) << e;
  }
  // Dropout is really on: evaluation mode differs.
  std::vector<float> out_eval(count);
  (*sparse)->Forward({q.data(), k.data(), v.data(), mask.data(), B, false, 5},
                     out_eval.data());
  EXPECT_NE(out_eval, out_s);
}

TEST(BlockSparseEngineTest, GradientCheckWithPadding) {
  const int B = 2, H = 1, N = 45, Dh = 4;
  RandomPattern rp = MakeRandomPattern(N, 7, 0.4);
  AttentionShape shape;
  shape.max_batch = B;
  shape.num_heads = H;
  shape.seq_len = N;
  shape.head_dim = Dh;
  auto attention = BlockSparseAttention::Create(shape, {rp.pattern});
  ASSERT_TRUE(attention.ok()) << attention.status();
  const int64_t count = int64_t{B} * H * N * Dh;
  std::vector<float> q = SparseTestValues(count, 5, 2.0f),
                     k = SparseTestValues(count, 6, 2.0f),
                     v = SparseTestValues(count, 7);
  const std::vector<float> r = SparseTestValues(count, 8);
  const std::vector<uint8_t> mask = SparseTestKeyMask(B, N);
  EXPECT_TRUE(CheckQkvGradients(**attention, B, mask.data(), q, k, v, r,
                                /*max_entries=*/120));
}

TEST(BlockSparseEngineTest, RejectsMismatchedPatterns) {
  AttentionShape shape;
  shape.num_heads = 3;
  shape.seq_len = 10;
  shape.head_dim = 4;
  BlockSparsePatternBuilder builder(10);
  builder.AddQueryBlock({0, 10, false});
  builder.AddKeys({0, 10, false});
  BlockSparsePattern p = *std::move(builder).Build();
  EXPECT_FALSE(BlockSparseAttention::Create(shape, {p, p}).ok());
  EXPECT_TRUE(BlockSparseAttention::Create(shape, {p, p, p}).ok());
  shape.seq_len = 11;
  EXPECT_FALSE(BlockSparseAttention::Create(shape, {p}).ok());
}

}  // namespace
}  // namespace lra
