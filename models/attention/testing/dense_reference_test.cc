#include "models/attention/testing/dense_reference.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/full/full_attention.h"
#include "models/attention/testing/qkv_testing.h"
#include "models/internal/grad_check.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

TEST(DenseReferenceTest, TwoKeysByHand) {
  // One query, two keys, Dh = 1: weights are softmax(q k_j / 1).
  const float q[2] = {1.0f, 0.5f}, k[2] = {0.0f, 2.0f}, v[2] = {3.0f, -1.0f};
  double out[2];
  DenseMaskedAttention(q, k, v, 1, 1, 2, 1, DenseAllowAll(), out);
  const double w1 = 1.0 / (1.0 + std::exp(-2.0));  // row 0: scores 0, 2
  EXPECT_NEAR(out[0], (1 - w1) * 3.0 + w1 * -1.0, 1e-12);
  const double w2 = 1.0 / (1.0 + std::exp(-1.0));  // row 1: scores 0, 1
  EXPECT_NEAR(out[1], (1 - w2) * 3.0 + w2 * -1.0, 1e-12);
  // Causal: row 0 sees only key 0.
  DenseMaskedAttention(q, k, v, 1, 1, 2, 1, DenseAllowCausal(), out);
  EXPECT_EQ(out[0], 3.0);
  EXPECT_NEAR(out[1], (1 - w2) * 3.0 + w2 * -1.0, 1e-12);
}

TEST(DenseReferenceTest, MatchesFullAttentionWithPadding) {
  const int B = 2, H = 2, N = 37, Dh = 8;
  const int64_t count = int64_t(B) * H * N * Dh;
  const auto [q, k, v, dout] = RandomQkv(count, 2.0f);
  std::vector<uint8_t> key_mask(B * N, 1);
  for (int j = 30; j < N; ++j) key_mask[N + j] = 0;
  FullAttention full(AttentionShape{B, H, N, Dh, 0.0f, 0, 0});
  const auto [out, dq, dk, dv] = RunForwardBackward(
      full, q, k, v, dout, key_mask.data(), B, /*training=*/false);

  // "full" outputs zero at a padded query and passes it no gradient: the
  // reference allows such a row no key.
  const uint8_t* mask = key_mask.data();
  const DenseAllowedFn allowed = DenseAllowWithPadding(
      [mask, N](int b, int, int i, int) { return mask[b * N + i] != 0; }, mask,
      N);
  std::vector<float> rout(count), rdq(count), rdk(count), rdv(count);
  DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh, allowed,
                       rout.data());
  DenseMaskedAttentionBackward(q.data(), k.data(), v.data(), B, H, N, Dh,
                               allowed, dout.data(), rdq.data(), rdk.data(),
                               rdv.data());
  for (int64_t e = 0; e < count; ++e) {
    ASSERT_NEAR(out[e], rout[e], 2e-5) << "out " << e;
    ASSERT_NEAR(dq[e], rdq[e], 1e-4) << "dq " << e;
    ASSERT_NEAR(dk[e], rdk[e], 1e-4) << "dk " << e;
    ASSERT_NEAR(dv[e], rdv[e], 1e-4) << "dv " << e;
  }
  // Padded keys of example 1 get exactly zero key and value gradients.
  for (int h = 0; h < H; ++h) {
    for (int j = 30; j < N; ++j) {
      for (int x = 0; x < Dh; ++x) {
        const int64_t e = ((int64_t(1) * H + h) * N + j) * Dh + x;
        EXPECT_EQ(rdk[e], 0.0f);
        EXPECT_EQ(rdv[e], 0.0f);
      }
    }
  }
}

// The backward is checked against central differences of the double forward,
// with an arbitrary pattern so that the mask handling is exercised too.
TEST(DenseReferenceTest, BackwardMatchesCentralDifferences) {
  const int B = 2, H = 1, N = 9, Dh = 3;
  const int64_t count = int64_t(B) * H * N * Dh;
  std::vector<float> q = RandomValues(count, 5), k = RandomValues(count, 6),
                     v = RandomValues(count, 7);
  const std::vector<float> dout = RandomValues(count, 8);
  // Banded pattern with row 4 of example 1 empty.
  const DenseAllowedFn allowed = [](int b, int, int i, int j) {
    if (b == 1 && i == 4) return false;
    return std::abs(i - j) <= 2 || j == 0;
  };
  std::vector<double> dq(count), dk(count), dv(count);
  DenseMaskedAttentionBackward(q.data(), k.data(), v.data(), B, H, N, Dh,
                               allowed, dout.data(), dq.data(), dk.data(),
                               dv.data());
  std::vector<double> out(count);
  auto objective = [&]() {
    DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh, allowed,
                         out.data());
    double s = 0.0;
    for (int64_t e = 0; e < count; ++e) s += out[e] * dout[e];
    return s;
  };
  const float eps = 1.0f / 1024.0f;  // exact in float, so x +- eps is exact
  for (auto [values, grad] :
       {std::pair{&q, &dq}, std::pair{&k, &dk}, std::pair{&v, &dv}}) {
    for (int64_t e = 0; e < count; ++e) {
      const double numeric =
          internal::CentralDifference(objective, &(*values)[e], eps);
      ASSERT_NEAR(numeric, (*grad)[e], 1e-5) << e;
    }
  }
  // The empty row outputs zero and its query gets no gradient.
  objective();
  for (int x = 0; x < Dh; ++x) {
    const int64_t e = ((int64_t(1) * H) * N + 4) * Dh + x;
    EXPECT_EQ(out[e], 0.0);
    EXPECT_EQ(dq[e], 0.0);
  }
}

TEST(DenseReferenceTest, ExplicitMatrixPattern) {
  const int N = 3, Dh = 2;
  const std::vector<float> q = RandomValues(N * Dh, 9),
                           k = RandomValues(N * Dh, 10),
                           v = RandomValues(N * Dh, 11);
  // Row i attends only to key 2 - i: the output is that value row exactly.
  const uint8_t mask[9] = {0, 0, 1, 0, 1, 0, 1, 0, 0};
  std::vector<float> out(N * Dh);
  DenseMaskedAttention(q.data(), k.data(), v.data(), 1, 1, N, Dh,
                       DenseAllowFromMatrix(mask, N), out.data());
  for (int i = 0; i < N; ++i) {
    for (int x = 0; x < Dh; ++x) {
      EXPECT_EQ(out[i * Dh + x], v[(2 - i) * Dh + x]);
    }
  }
}

// The shared-QK gradient covers both roles: central differences in qk of
// <out(qk, qk, v), dout> match it.
TEST(DenseReferenceTest, SharedQkGradientMatchesCentralDifferences) {
  const int B = 1, H = 2, N = 9, Dh = 4;
  const int64_t count = int64_t(B) * H * N * Dh;
  std::vector<float> qk = RandomValues(count, 11, 1.5f);
  const std::vector<float> v = RandomValues(count, 12),
                           dout = RandomValues(count, 13);
  std::vector<uint8_t> key_mask(N, 1);
  key_mask[N - 1] = key_mask[N - 2] = 0;
  const DenseAllowedFn allowed =
      DenseAllowWithPadding(DenseAllowAll(), key_mask.data(), N);
  std::vector<double> dqk(count), dv(count), out(count);
  DenseMaskedAttentionBackwardSharedQK(qk.data(), v.data(), B, H, N, Dh,
                                       allowed, dout.data(), dqk.data(),
                                       dv.data());
  auto objective = [&]() {
    DenseMaskedAttention(qk.data(), qk.data(), v.data(), B, H, N, Dh, allowed,
                         out.data());
    double sum = 0.0;
    for (int64_t e = 0; e < count; ++e) sum += out[e] * dout[e];
    return sum;
  };
  double largest_key_part = 0.0;
  std::vector<double> dq(count), dk(count), dv2(count);
  DenseMaskedAttentionBackward(qk.data(), qk.data(), v.data(), B, H, N, Dh,
                               allowed, dout.data(), dq.data(), dk.data(),
                               dv2.data());
  for (int64_t e = 0; e < count; ++e) {
    const float saved = qk[e];
    const float step = 1e-3f;
    qk[e] = saved + step;
    const double plus = objective();
    qk[e] = saved - step;
    const double minus = objective();
    qk[e] = saved;
    const double h = double(saved + step) - double(saved - step);
    EXPECT_NEAR((plus - minus) / h, dqk[e], 1e-4) << "element " << e;
    EXPECT_NEAR(dqk[e], dq[e] + dk[e], 1e-12);
    largest_key_part = std::max(largest_key_part, std::fabs(dk[e]));
  }
  // The key role matters here, so a gradient that dropped it would fail.
  EXPECT_GT(largest_key_part, 1e-2);
}

}  // namespace
}  // namespace lra
