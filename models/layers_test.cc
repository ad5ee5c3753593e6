#include "models/layers.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "models/internal/grad_check.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

using internal::CheckGradient;
using internal::GradCheckOptions;

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

TEST(EmbeddingTest, ForwardGathersAndPrependsCls) {
  const int batch = 2, n = 3, d = 4, vocab = 5;
  const std::vector<int32_t> tokens = {1, 0, 4, 2, 2, 3};
  const std::vector<float> table = RandomValues(vocab * d, 1),
                           cls = RandomValues(d, 2);
  std::vector<float> out(batch * (n + 1) * d);
  EmbeddingForward(tokens.data(), batch, n, d, table.data(), cls.data(),
                   out.data());
  for (int b = 0; b < batch; ++b) {
    for (int j = 0; j < d; ++j) EXPECT_EQ(out[b * (n + 1) * d + j], cls[j]);
    for (int t = 0; t < n; ++t) {
      for (int j = 0; j < d; ++j) {
        EXPECT_EQ(out[(b * (n + 1) + t + 1) * d + j],
                  table[tokens[b * n + t] * d + j]);
      }
    }
  }
}

TEST(EmbeddingTest, GradientCheckWithAndWithoutCls) {
  const int batch = 2, n = 4, d = 3, vocab = 5;
  const std::vector<int32_t> tokens = {1, 0, 4, 1, 2, 2, 3, 0};
  for (bool has_cls : {true, false}) {
    std::vector<float> table = RandomValues(vocab * d, 3),
                       cls = RandomValues(d, 4);
    const int n_out = n + (has_cls ? 1 : 0);
    const std::vector<float> r = RandomValues(batch * n_out * d, 5);
    std::vector<float> out(r.size());
    auto f = [&]() {
      EmbeddingForward(tokens.data(), batch, n, d, table.data(),
                       has_cls ? cls.data() : nullptr, out.data());
      return Dot(out, r);
    };
    std::vector<float> dtable(table.size(), 0.0f), dcls(d, 0.0f);
    EmbeddingBackward(r.data(), tokens.data(), batch, n, d, has_cls,
                      dtable.data(), dcls.data());
    EXPECT_TRUE(
        CheckGradient("table", f, table.data(), table.size(), dtable.data()));
    if (has_cls) {
      EXPECT_TRUE(CheckGradient("cls", f, cls.data(), d, dcls.data()));
    }
  }
}

TEST(PositionsTest, LearnedGradientCheck) {
  const int batch = 3, n = 4, d = 2;
  std::vector<float> table = RandomValues(n * d, 6);
  const std::vector<float> x0 = RandomValues(batch * n * d, 7),
                           r = RandomValues(x0.size(), 8);
  std::vector<float> x(x0.size());
  auto f = [&]() {
    x = x0;
    AddPositionsForward(table.data(), batch, n, d, x.data());
    return Dot(x, r);
  };
  std::vector<float> dtable(table.size(), 0.0f);
  AddPositionsBackward(r.data(), batch, n, d, dtable.data());
  EXPECT_TRUE(
      CheckGradient("positions", f, table.data(), table.size(), dtable.data()));
}

TEST(PositionsTest, SinusoidalValues) {
  const int n = 5, d = 6;
  std::vector<float> table(n * d);
  SinusoidalPositions(n, d, table.data());
  EXPECT_FLOAT_EQ(table[0 * d + 0], 0.0f);  // sin(0)
  EXPECT_FLOAT_EQ(table[0 * d + 1], 1.0f);  // cos(0)
  EXPECT_NEAR(table[3 * d + 0], std::sin(3.0), 1e-6);
  EXPECT_NEAR(table[3 * d + 1], std::cos(3.0), 1e-6);
  EXPECT_NEAR(table[3 * d + 4], std::sin(3.0 / std::pow(10000.0, 4.0 / 6)),
              1e-6);
  EXPECT_NEAR(table[3 * d + 5], std::cos(3.0 / std::pow(10000.0, 4.0 / 6)),
              1e-6);
}

TEST(PositionsTest, GridValuesAndGradientCheck) {
  const int rows = 2, cols = 3, d = 4;
  for (int offset : {0, 1}) {
    std::vector<float> row = RandomValues(rows * d, 11),
                       col = RandomValues(cols * d, 12);
    const int n = offset + rows * cols;
    std::vector<float> table(n * d, 7.0f);
    GridPositionsForward(row.data(), col.data(), rows, cols, d, offset,
                         table.data());
    for (int j = 0; j < offset * d; ++j) EXPECT_EQ(table[j], 0.0f);  // CLS
    // Token 5 = row 1, column 2.
    for (int j = 0; j < d; ++j) {
      EXPECT_EQ(table[(offset + 5) * d + j], row[1 * d + j] + col[2 * d + j]);
    }
    const std::vector<float> r = RandomValues(n * d, 13);
    auto f = [&]() {
      GridPositionsForward(row.data(), col.data(), rows, cols, d, offset,
                           table.data());
      return Dot(table, r);
    };
    std::vector<float> drow(row.size(), 0.0f), dcol(col.size(), 0.0f);
    GridPositionsBackward(r.data(), rows, cols, d, offset, drow.data(),
                          dcol.data());
    EXPECT_TRUE(CheckGradient("row", f, row.data(), row.size(), drow.data()));
    EXPECT_TRUE(CheckGradient("col", f, col.data(), col.size(), dcol.data()));
  }
}

TEST(PositionsTest, SinusoidalGridEncodesRowThenColumn) {
  const int rows = 3, cols = 4, d = 6;  // 3 channels for each
  std::vector<float> row(rows * d), col(cols * d), table(rows * cols * d);
  SinusoidalGridTables(rows, cols, d, row.data(), col.data());
  GridPositionsForward(row.data(), col.data(), rows, cols, d, 0, table.data());
  std::vector<float> row1(rows * 3), col1(cols * 3);
  SinusoidalPositions(rows, 3, row1.data());
  SinusoidalPositions(cols, 3, col1.data());
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const float* t = table.data() + (r * cols + c) * d;
      for (int j = 0; j < 3; ++j) {
        EXPECT_EQ(t[j], row1[r * 3 + j]) << r << "," << c << " ch " << j;
        EXPECT_EQ(t[3 + j], col1[c * 3 + j]) << r << "," << c << " ch " << j;
      }
    }
  }
  EXPECT_NEAR(table[(2 * cols + 1) * d + 0], std::sin(2.0), 1e-6);
  EXPECT_NEAR(table[(2 * cols + 1) * d + 4], std::cos(1.0), 1e-6);
}

TEST(LayerNormTest, ForwardNormalises) {
  const int rows = 3, d = 8;
  const std::vector<float> x = RandomValues(rows * d, 9, 3.0f);
  std::vector<float> gamma(d, 1.0f), beta(d, 0.0f), out(rows * d), mean(rows),
      rstd(rows);
  LayerNormForward(x.data(), gamma.data(), beta.data(), rows, d, out.data(),
                   mean.data(), rstd.data());
  for (int r = 0; r < rows; ++r) {
    double s = 0, s2 = 0;
    for (int j = 0; j < d; ++j) {
      s += out[r * d + j];
      s2 += double(out[r * d + j]) * out[r * d + j];
    }
    EXPECT_NEAR(s / d, 0.0, 1e-6);
    EXPECT_NEAR(s2 / d, 1.0, 1e-4);
  }
}

TEST(LayerNormTest, GradientCheck) {
  const int rows = 3, d = 6;
  std::vector<float> x = RandomValues(rows * d, 10, 2.0f),
                     gamma = RandomValues(d, 11), beta = RandomValues(d, 12);
  const std::vector<float> r = RandomValues(rows * d, 13);
  std::vector<float> out(rows * d), mean(rows), rstd(rows);
  auto f = [&]() {
    LayerNormForward(x.data(), gamma.data(), beta.data(), rows, d, out.data(),
                     mean.data(), rstd.data());
    return Dot(out, r);
  };
  f();
  // dx is accumulated: start from a known value and subtract it afterwards.
  std::vector<float> dx(rows * d, 0.25f), dgamma(d, 0.0f), dbeta(d, 0.0f);
  LayerNormBackward(r.data(), x.data(), mean.data(), rstd.data(), gamma.data(),
                    rows, d, dx.data(), dgamma.data(), dbeta.data());
  for (float& v : dx) v -= 0.25f;
  GradCheckOptions options;
  options.epsilon = 1e-3f;
  EXPECT_TRUE(CheckGradient("x", f, x.data(), x.size(), dx.data(), options));
  EXPECT_TRUE(
      CheckGradient("gamma", f, gamma.data(), d, dgamma.data(), options));
  EXPECT_TRUE(CheckGradient("beta", f, beta.data(), d, dbeta.data(), options));
}

TEST(GeluTest, MatchesErfFormulaAndGradient) {
  const int n = 64;
  std::vector<float> x = RandomValues(n, 14, 5.0f);
  x[0] = 0.0f;
  x[1] = -12.0f;
  x[2] = 12.0f;
  std::vector<float> out(n);
  GeluForward(x.data(), n, out.data());
  for (int i = 0; i < n; ++i) {
    const double ref = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
    EXPECT_NEAR(out[i], ref, 1e-6 * (1 + std::fabs(ref))) << x[i];
  }
  const std::vector<float> r = RandomValues(n, 15);
  auto f = [&]() {
    GeluForward(x.data(), n, out.data());
    return Dot(out, r);
  };
  std::vector<float> dx(n);
  GeluBackward(x.data(), r.data(), n, dx.data());
  GradCheckOptions options;
  options.epsilon = 1e-3f;
  EXPECT_TRUE(CheckGradient("x", f, x.data(), n, dx.data(), options));
}

TEST(ReluTest, GradientCheckAwayFromZero) {
  const int n = 16;
  std::vector<float> x = RandomValues(n, 16);
  for (float& v : x) v += v > 0 ? 0.1f : -0.1f;  // keep clear of the kink
  const std::vector<float> r = RandomValues(n, 17);
  std::vector<float> out(n);
  auto f = [&]() {
    ReluForward(x.data(), n, out.data());
    return Dot(out, r);
  };
  f();
  std::vector<float> dx(n);
  ReluBackward(out.data(), r.data(), n, dx.data());
  EXPECT_TRUE(CheckGradient("x", f, x.data(), n, dx.data()));
}

TEST(DropoutTest, MaskIsReproducibleAndHasTheRightRate) {
  const int n = 100000;
  std::vector<uint8_t> a(n), b(n), c(n);
  DropoutMask(7, 0.25f, n, a.data());
  DropoutMask(7, 0.25f, n, b.data());
  DropoutMask(8, 0.25f, n, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  int kept = 0;
  for (uint8_t m : a) kept += m;
  EXPECT_NEAR(kept / double(n), 0.75, 0.01);
}

TEST(DropoutTest, GradientCheckWithFixedMask) {
  const int n = 20;
  const float p = 0.4f;
  std::vector<float> x = RandomValues(n, 18);
  const std::vector<float> r = RandomValues(n, 19);
  std::vector<uint8_t> mask(n);
  DropoutMask(3, p, n, mask.data());
  std::vector<float> out(n);
  auto f = [&]() {
    DropoutApply(x.data(), mask.data(), p, n, out.data());
    return Dot(out, r);
  };
  f();
  for (int i = 0; i < n; ++i) {
    EXPECT_FLOAT_EQ(out[i], mask[i] ? x[i] / (1 - p) : 0.0f);
  }
  std::vector<float> dx(n);
  DropoutApply(r.data(), mask.data(), p, n, dx.data());
  EXPECT_TRUE(CheckGradient("x", f, x.data(), n, dx.data()));
}

TEST(ResidualTest, GradientFlowsToBothInputs) {
  const int n = 10;
  std::vector<float> x = RandomValues(n, 20), y = RandomValues(n, 21);
  const std::vector<float> r = RandomValues(n, 22);
  auto f = [&]() {
    std::vector<float> s = x;
    AddInPlace(y.data(), n, s.data());
    return Dot(s, r);
  };
  // d/dx = d/dy = r.
  EXPECT_TRUE(CheckGradient("x", f, x.data(), n, r.data()));
  EXPECT_TRUE(CheckGradient("y", f, y.data(), n, r.data()));
}

TEST(HeadsTest, SplitThenMergeIsIdentity) {
  const int batch = 2, n = 3, heads = 2, dh = 4;
  const std::vector<float> x = RandomValues(batch * n * heads * dh, 23);
  std::vector<float> split(x.size()), merged(x.size());
  SplitHeads(x.data(), batch, n, heads, dh, split.data());
  // Element (b=1, t=2, h=1, c=3) lands at [1, 1, 2, 3].
  EXPECT_EQ(split[((1 * heads + 1) * n + 2) * dh + 3],
            x[(1 * n + 2) * heads * dh + 1 * dh + 3]);
  MergeHeads(split.data(), batch, n, heads, dh, merged.data());
  EXPECT_EQ(merged, x);
}

TEST(PoolingTest, ClsGradientCheck) {
  const int batch = 2, n = 3, d = 4;
  std::vector<float> x = RandomValues(batch * n * d, 24);
  const std::vector<float> r = RandomValues(batch * d, 25);
  std::vector<float> out(batch * d);
  auto f = [&]() {
    PoolClsForward(x.data(), batch, n, d, out.data());
    return Dot(out, r);
  };
  std::vector<float> dx(x.size(), 0.0f);
  PoolClsBackward(r.data(), batch, n, d, dx.data());
  EXPECT_TRUE(CheckGradient("x", f, x.data(), x.size(), dx.data()));
}

TEST(PoolingTest, MeanOverRealPositionsGradientCheck) {
  const int batch = 3, n = 4, d = 2;
  // Example 2 is all padding and pools to zeros.
  const std::vector<uint8_t> mask = {1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0};
  std::vector<float> x = RandomValues(batch * n * d, 26);
  std::vector<float> out(batch * d);
  PoolMeanForward(x.data(), mask.data(), batch, n, d, out.data());
  EXPECT_NEAR(out[0], (x[0] + x[2] + x[6]) / 3.0, 1e-6);
  EXPECT_NEAR(out[1 * d + 1], x[1 * n * d + 1], 1e-6);
  EXPECT_EQ(out[2 * d], 0.0f);
  const std::vector<float> r = RandomValues(batch * d, 27);
  auto f = [&]() {
    PoolMeanForward(x.data(), mask.data(), batch, n, d, out.data());
    return Dot(out, r);
  };
  std::vector<float> dx(x.size(), 0.0f);
  PoolMeanBackward(r.data(), mask.data(), batch, n, d, dx.data());
  EXPECT_TRUE(CheckGradient("x", f, x.data(), x.size(), dx.data()));
}

TEST(CrossEntropyTest, ValueAccuracyAndGradient) {
  const int batch = 3, classes = 4;
  std::vector<float> logits = RandomValues(batch * classes, 28, 2.0f);
  const std::vector<int32_t> labels = {0, 3, 1};
  std::vector<float> dlogits(logits.size());
  int correct = -1;
  const float loss = SoftmaxCrossEntropy(logits.data(), labels.data(), batch,
                                         classes, dlogits.data(), &correct);
  double ref = 0;
  int hits = 0;
  for (int b = 0; b < batch; ++b) {
    double z = 0;
    int argmax = 0;
    for (int c = 0; c < classes; ++c) {
      z += std::exp(double(logits[b * classes + c]));
      if (logits[b * classes + c] > logits[b * classes + argmax]) argmax = c;
    }
    ref += std::log(z) - logits[b * classes + labels[b]];
    hits += argmax == labels[b];
  }
  EXPECT_NEAR(loss, ref / batch, 1e-6);
  EXPECT_EQ(correct, hits);
  std::vector<float> scratch(logits.size());
  auto f = [&]() {
    return double(SoftmaxCrossEntropy(logits.data(), labels.data(), batch,
                                      classes, scratch.data(), nullptr));
  };
  GradCheckOptions options;
  options.epsilon = 1e-3f;
  options.abs_tol = 2e-4f;
  EXPECT_TRUE(CheckGradient("logits", f, logits.data(), logits.size(),
                            dlogits.data(), options));
}

// --- Packed real rows --------------------------------------------------------

// Three sequences of 10 positions: real lengths 10, 4 and 0, and one real
// position after a padded one (a zero token inside a sequence).
struct PackedFixture {
  static constexpr int kSeqs = 3, kN = 10;
  std::vector<uint8_t> mask;
  std::vector<int32_t> position, seq_start;
  PackedRows rows;
  PackedFixture()
      : mask(kSeqs * kN, 0), position(kSeqs * kN), seq_start(kSeqs + 1) {
    for (int i = 0; i < kN; ++i) mask[i] = 1;
    for (int i = 0; i < 4; ++i) mask[kN + i] = 1;
    mask[kN + 6] = 1;
    PackRows(mask.data(), kSeqs, kN, position.data(), seq_start.data(), &rows);
  }
  bool Real(int b, int i) const { return mask[b * kN + i] != 0; }
};

TEST(PackedRowsTest, PacksRealPositionsInOrder) {
  PackedFixture f;
  EXPECT_EQ(f.rows.count, 15);
  EXPECT_EQ(f.rows.rows, 64);
  EXPECT_EQ(f.rows.seq_start[0], 0);
  EXPECT_EQ(f.rows.seq_start[1], 10);
  EXPECT_EQ(f.rows.seq_start[2], 15);
  EXPECT_EQ(f.rows.seq_start[3], 15);
  EXPECT_EQ(f.rows.position[10], 10);
  EXPECT_EQ(f.rows.position[14], 16);
  EXPECT_EQ(PackedCapacity(64), 64);
  EXPECT_EQ(PackedCapacity(65), 128);
}

TEST(PackedRowsTest, GatherScatterAndHeadsRoundTrip) {
  PackedFixture f;
  const int B = f.kSeqs, N = f.kN, H = 2, Dh = 3, W = H * Dh;
  const std::vector<float> x = RandomValues(B * N * W, 21);
  std::vector<float> packed(f.rows.rows * W, 9.0f);
  GatherRows(x.data(), f.rows, W, packed.data());
  std::vector<float> back(B * N * W, 9.0f);
  ScatterRows(packed.data(), f.rows, W, back.data());
  for (int b = 0; b < B; ++b) {
    for (int i = 0; i < N; ++i) {
      for (int c = 0; c < W; ++c) {
        const int e = (b * N + i) * W + c;
        EXPECT_EQ(back[e], f.Real(b, i) ? x[e] : 0.0f) << b << " " << i;
      }
    }
  }
  for (int64_t e = f.rows.count * W; e < f.rows.rows * W; ++e) {
    ASSERT_EQ(packed[e], 0.0f);
  }
  // Heads: the packed split equals the padded split at real positions and
  // is zero elsewhere; merging back gives the packed rows.
  std::vector<float> heads(B * H * N * Dh, 9.0f), ref(B * H * N * Dh);
  SplitHeadsPacked(packed.data(), f.rows, H, Dh, heads.data());
  SplitHeads(back.data(), B, N, H, Dh, ref.data());
  EXPECT_EQ(heads, ref);
  std::vector<float> merged(f.rows.rows * W, 9.0f);
  MergeHeadsPacked(heads.data(), f.rows, H, Dh, merged.data());
  EXPECT_EQ(merged, packed);
}

TEST(PackedRowsTest, DropoutMaskKeepsThePaddedLayoutsDecisions) {
  PackedFixture f;
  const int W = 5;
  std::vector<uint8_t> padded(f.kSeqs * f.kN * W), packed(f.rows.rows * W, 7);
  DropoutMask(33, 0.4f, padded.size(), padded.data());
  DropoutMaskPacked(33, 0.4f, f.rows, W, packed.data());
  for (int64_t t = 0; t < f.rows.count; ++t) {
    for (int c = 0; c < W; ++c) {
      ASSERT_EQ(packed[t * W + c], padded[f.rows.position[t] * W + c]);
    }
  }
  for (int64_t e = f.rows.count * W; e < f.rows.rows * W; ++e) {
    ASSERT_EQ(packed[e], 0);
  }
}

TEST(PackedRowsTest, EmbeddingAndPoolingMatchThePaddedLayers) {
  // With CLS: position 0 of each sequence is CLS, tokens fill 1..N-1.
  PackedFixture f;
  const int B = f.kSeqs, N = f.kN, L = N - 1, d = 4, vocab = 6;
  std::vector<int32_t> tokens(B * L);
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < L; ++t) {
      tokens[b * L + t] = f.Real(b, t + 1) ? 1 + (b * 7 + t) % (vocab - 1) : 0;
    }
  }
  // CLS is real in every sequence.
  std::vector<uint8_t> mask = f.mask;
  for (int b = 0; b < B; ++b) mask[b * N] = 1;
  std::vector<int32_t> position(B * N), seq_start(B + 1);
  PackedRows rows;
  PackRows(mask.data(), B, N, position.data(), seq_start.data(), &rows);
  const std::vector<float> table = RandomValues(vocab * d, 31),
                           cls = RandomValues(d, 32),
                           pos = RandomValues(N * d, 33);
  std::vector<float> padded(B * N * d);
  EmbeddingForward(tokens.data(), B, L, d, table.data(), cls.data(),
                   padded.data());
  AddPositionsForward(pos.data(), B, N, d, padded.data());
  std::vector<float> packed(rows.rows * d, 9.0f);
  EmbeddingForwardPacked(tokens.data(), rows, L, d, table.data(), cls.data(),
                         pos.data(), packed.data());
  std::vector<float> gathered(rows.rows * d);
  GatherRows(padded.data(), rows, d, gathered.data());
  EXPECT_EQ(packed, gathered);

  // Backward: the same gradients as the padded layers given the upstream
  // gradient at real positions only.
  const std::vector<float> g = RandomValues(rows.rows * d, 34);
  std::vector<float> g_packed = g;
  for (int64_t e = rows.count * d; e < rows.rows * d; ++e) g_packed[e] = 0.0f;
  std::vector<float> g_padded(B * N * d);
  ScatterRows(g_packed.data(), rows, d, g_padded.data());
  std::vector<float> dt1(vocab * d), dc1(d), dp1(N * d);
  std::vector<float> dt2(vocab * d), dc2(d), dp2(N * d);
  AddPositionsBackward(g_padded.data(), B, N, d, dp1.data());
  EmbeddingBackward(g_padded.data(), tokens.data(), B, L, d, true, dt1.data(),
                    dc1.data());
  EmbeddingBackwardPacked(g_packed.data(), tokens.data(), rows, L, d, true,
                          dt2.data(), dc2.data(), dp2.data());
  EXPECT_EQ(dt1, dt2);
  EXPECT_EQ(dc1, dc2);
  EXPECT_EQ(dp1, dp2);

  // Pooling.
  std::vector<float> cls1(B * d), cls2(B * d), mean1(B * d), mean2(B * d);
  PoolClsForward(padded.data(), B, N, d, cls1.data());
  PoolClsForwardPacked(packed.data(), rows, d, cls2.data());
  EXPECT_EQ(cls1, cls2);
  PoolMeanForward(padded.data(), mask.data(), B, N, d, mean1.data());
  PoolMeanForwardPacked(packed.data(), rows, d, mean2.data());
  EXPECT_EQ(mean1, mean2);
  const std::vector<float> dpool = RandomValues(B * d, 35);
  std::vector<float> dx1(B * N * d), dx2(rows.rows * d),
      dx1_packed(rows.rows * d);
  PoolMeanBackward(dpool.data(), mask.data(), B, N, d, dx1.data());
  PoolClsBackward(dpool.data(), B, N, d, dx1.data());
  PoolMeanBackwardPacked(dpool.data(), rows, d, dx2.data());
  PoolClsBackwardPacked(dpool.data(), rows, d, dx2.data());
  GatherRows(dx1.data(), rows, d, dx1_packed.data());
  EXPECT_EQ(dx1_packed, dx2);
}

}  // namespace
}  // namespace lra
