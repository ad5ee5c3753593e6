#include "models/attention/full/full_attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/testing/qkv_testing.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

// Dense reference in double: materialises [N, N] per head. Attention dropout
// uses the plugin's documented mask: element (i, j) of head (b, h) is kept
// when KeepElement(DeriveSeed(seed, b * H + h), i * N + j, threshold).
struct Reference {
  int B, H, N, Dh;
  float rate;
  uint64_t seed;
  const std::vector<uint8_t>* mask;  // [B, N] or nullptr

  double Keep(int b, int h, int i, int j) const {
    if (rate <= 0) return 1.0;
    const bool keep =
        KeepElement(DeriveSeed(seed, b * H + h),
                    static_cast<uint64_t>(i) * N + j, DropThreshold(rate));
    return keep ? 1.0 / (1.0 - rate) : 0.0;
  }
  bool Real(int b, int j) const {
    return mask == nullptr || (*mask)[b * N + j];
  }

  // out = dropout(softmax(q k^T / sqrt(Dh) masked)) v at real query
  // positions, zero at padded ones; and, given dout, the input gradients.
  void Run(const std::vector<float>& q, const std::vector<float>& k,
           const std::vector<float>& v, const std::vector<float>* dout,
           std::vector<double>* out, std::vector<double>* dq,
           std::vector<double>* dk, std::vector<double>* dv) const {
    const double scale = 1.0 / std::sqrt(double(Dh));
    out->assign(q.size(), 0.0);
    if (dout) {
      dq->assign(q.size(), 0.0);
      dk->assign(q.size(), 0.0);
      dv->assign(q.size(), 0.0);
    }
    std::vector<double> p(N), pd(N), dp(N), ds(N);
    for (int b = 0; b < B; ++b) {
      for (int h = 0; h < H; ++h) {
        const int64_t base = (int64_t(b) * H + h) * N * Dh;
        for (int i = 0; i < N; ++i) {
          // A padded query outputs zero and passes no gradient.
          if (!Real(b, i)) continue;
          double mx = -std::numeric_limits<double>::infinity();
          for (int j = 0; j < N; ++j) {
            double s = 0;
            for (int x = 0; x < Dh; ++x) {
              s += double(q[base + i * Dh + x]) * k[base + j * Dh + x];
            }
            p[j] = Real(b, j) ? s * scale : -INFINITY;
            mx = std::max(mx, p[j]);
          }
          double sum = 0;
          for (int j = 0; j < N; ++j) {
            p[j] = std::isinf(mx) ? 0.0 : std::exp(p[j] - mx);
            sum += p[j];
          }
          for (int j = 0; j < N; ++j) {
            p[j] = sum > 0 ? p[j] / sum : 0.0;
            pd[j] = p[j] * Keep(b, h, i, j);
            for (int x = 0; x < Dh; ++x) {
              (*out)[base + i * Dh + x] += pd[j] * v[base + j * Dh + x];
            }
          }
          if (!dout) continue;
          double dot = 0;
          for (int j = 0; j < N; ++j) {
            double g = 0;
            for (int x = 0; x < Dh; ++x) {
              g += double((*dout)[base + i * Dh + x]) * v[base + j * Dh + x];
              (*dv)[base + j * Dh + x] += pd[j] * (*dout)[base + i * Dh + x];
            }
            dp[j] = g * Keep(b, h, i, j);
            dot += p[j] * dp[j];
          }
          for (int j = 0; j < N; ++j) {
            ds[j] = p[j] * (dp[j] - dot) * scale;
            for (int x = 0; x < Dh; ++x) {
              (*dq)[base + i * Dh + x] += ds[j] * k[base + j * Dh + x];
              (*dk)[base + j * Dh + x] += ds[j] * q[base + i * Dh + x];
            }
          }
        }
      }
    }
  }
};

struct Case {
  int batch, heads, n, dh;
  bool padding;
  float rate;
};

class FullAttentionReferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(FullAttentionReferenceTest, ForwardAndBackwardMatchDense) {
  const Case c = GetParam();
  AttentionShape shape;
  shape.max_batch = c.batch + 1;  // a smaller batch than the workspace
  shape.num_heads = c.heads;
  shape.seq_len = c.n;
  shape.head_dim = c.dh;
  shape.attention_dropout = c.rate;
  FullAttention attention(shape);
  const int64_t count = int64_t(c.batch) * c.heads * c.n * c.dh;
  const std::vector<float> q = RandomValues(count, 1, 2.0f),
                           k = RandomValues(count, 2, 2.0f),
                           v = RandomValues(count, 3),
                           dout = RandomValues(count, 4);
  std::vector<uint8_t> mask(c.batch * c.n, 1);
  if (c.padding) {
    // Example b keeps its first n - 7 * b - 3 keys; the last example is
    // entirely padding when short enough.
    for (int b = 0; b < c.batch; ++b) {
      const int real = std::max(0, c.n - 7 * b - 3);
      for (int j = real; j < c.n; ++j) mask[b * c.n + j] = 0;
    }
  }
  const uint64_t seed = 77;
  std::vector<float> out(count), dq(count, 9.0f), dk(count, 9.0f),
      dv(count, 9.0f);
  attention.Forward({q.data(), k.data(), v.data(),
                     c.padding ? mask.data() : nullptr, c.batch, true, seed},
                    out.data());
  attention.Backward(dout.data(), {dq.data(), dk.data(), dv.data()});

  Reference ref{
      c.batch, c.heads, c.n, c.dh, c.rate, seed, c.padding ? &mask : nullptr};
  std::vector<double> rout, rdq, rdk, rdv;
  ref.Run(q, k, v, &dout, &rout, &rdq, &rdk, &rdv);
  for (int64_t i = 0; i < count; ++i) {
    ASSERT_NEAR(out[i], rout[i], 2e-5 * (1 + std::fabs(rout[i])))
        << "out " << i;
    ASSERT_NEAR(dq[i], rdq[i], 1e-4 * (1 + std::fabs(rdq[i]))) << "dq " << i;
    ASSERT_NEAR(dk[i], rdk[i], 1e-4 * (1 + std::fabs(rdk[i]))) << "dk " << i;
    ASSERT_NEAR(dv[i], rdv[i], 1e-4 * (1 + std::fabs(rdv[i]))) << "dv " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FullAttentionReferenceTest,
    ::testing::Values(Case{1, 1, 1, 4, false, 0.0f},   // one token
                      Case{2, 2, 64, 8, false, 0.0f},  // exactly one block
                      Case{2, 3, 70, 5, true, 0.0f},   // partial block, padding
                      Case{3, 2, 131, 32, true, 0.0f},
                      Case{2, 2, 97, 16, true, 0.3f},  // attention dropout
                      Case{1, 1, 10, 4, true, 0.0f},
                      // Head widths for every register-tile variant: 40
                      // (masked tail), 64, 128, and 136 (plain loops).
                      Case{1, 2, 70, 40, true, 0.0f},
                      Case{1, 1, 66, 64, true, 0.1f},
                      Case{1, 1, 65, 128, false, 0.0f},
                      Case{1, 1, 20, 136, true, 0.0f}));

TEST(FullAttentionTest, GradientCheckWithPadding) {
  const int B = 2, H = 2, N = 67, Dh = 4;
  AttentionShape shape{B, H, N, Dh, 0.0f, 0, 0};
  FullAttention attention(shape);
  const int64_t count = int64_t(B) * H * N * Dh;
  std::vector<float> q = RandomValues(count, 5, 2.0f),
                     k = RandomValues(count, 6, 2.0f),
                     v = RandomValues(count, 7);
  const std::vector<float> r = RandomValues(count, 8);
  std::vector<uint8_t> mask(B * N, 1);
  for (int j = 50; j < N; ++j) mask[N + j] = 0;
  EXPECT_TRUE(CheckQkvGradients(attention, B, mask.data(), q, k, v, r,
                                /*max_entries=*/150));
}

TEST(FullAttentionTest, DropoutIsReproducibleAndOffInEval) {
  const int B = 1, H = 1, N = 20, Dh = 4;
  AttentionShape shape{B, H, N, Dh, 0.5f, 0, 0};
  FullAttention attention(shape);
  const int64_t count = N * Dh;
  const std::vector<float> q = RandomValues(count, 9),
                           k = RandomValues(count, 10),
                           v = RandomValues(count, 11);
  std::vector<float> a(count), b(count), c(count), e(count);
  attention.Forward({q.data(), k.data(), v.data(), nullptr, B, true, 5},
                    a.data());
  attention.Forward({q.data(), k.data(), v.data(), nullptr, B, true, 5},
                    b.data());
  attention.Forward({q.data(), k.data(), v.data(), nullptr, B, true, 6},
                    c.data());
  attention.Forward({q.data(), k.data(), v.data(), nullptr, B, false, 5},
                    e.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  Reference ref{B, H, N, Dh, 0.0f, 0, nullptr};
  std::vector<double> rout;
  ref.Run(q, k, v, nullptr, &rout, nullptr, nullptr, nullptr);
  for (int64_t i = 0; i < count; ++i) EXPECT_NEAR(e[i], rout[i], 1e-5);
}

}  // namespace
}  // namespace lra
