#include "models/attention/linformer/linformer_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/testing/dense_reference.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

AttentionShape Shape(int batch, int heads, int n, int dh) {
  AttentionShape shape;
  shape.max_batch = batch;
  shape.num_heads = heads;
  shape.seq_len = n;
  shape.head_dim = dh;
  return shape;
}

void SetIdentity(Tensor& m, int n) {
  m.Zero();
  for (int i = 0; i < n; ++i) m[int64_t(i) * n + i] = 1.0f;
}

// With k = N and E = F = identity the projection keeps every key: the output
// and the gradients of q, k, v are those of full softmax attention.
TEST(LinformerAttentionTest, IdentityProjectionIsFullAttention) {
  const int B = 2, H = 2, N = 23, Dh = 8;
  for (bool share : {true, false}) {
    LinformerAttention attention(Shape(B, H, N, Dh), N, share);
    SetIdentity(attention.e(), N);
    SetIdentity(attention.f(), N);
    const int64_t total = int64_t(B) * H * N * Dh;
    const std::vector<float> q = RandomValues(total, 1, 1.5f);
    const std::vector<float> k = RandomValues(total, 2, 1.5f);
    const std::vector<float> v = RandomValues(total, 3, 1.0f);
    const std::vector<float> dout = RandomValues(total, 4, 1.0f);
    std::vector<float> out(total), dq(total), dk(total), dv(total);
    attention.Forward({q.data(), k.data(), v.data(), nullptr, B}, out.data());
    attention.Backward(dout.data(), {dq.data(), dk.data(), dv.data()});
    std::vector<float> ref(total), rq(total), rk(total), rv(total);
    DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh,
                         DenseAllowAll(), ref.data());
    DenseMaskedAttentionBackward(q.data(), k.data(), v.data(), B, H, N, Dh,
                                 DenseAllowAll(), dout.data(), rq.data(),
                                 rk.data(), rv.data());
    for (int64_t e = 0; e < total; ++e) {
      ASSERT_NEAR(out[e], ref[e], 1e-5) << "share " << share << " at " << e;
      ASSERT_NEAR(dq[e], rq[e], 1e-4) << "share " << share << " at " << e;
      ASSERT_NEAR(dk[e], rk[e], 1e-4) << "share " << share << " at " << e;
      ASSERT_NEAR(dv[e], rv[e], 1e-4) << "share " << share << " at " << e;
    }
  }
}

// A padded key is dropped before the projection: the output equals that of
// the same example with the padded rows of K and V set to zero, whatever
// they held, and the projection's gradient at padded columns is zero.
TEST(LinformerAttentionTest, PaddedRowsAreExcludedBeforeProjecting) {
  const int B = 1, H = 2, N = 19, Dh = 4, real = 11;
  LinformerAttention attention(Shape(B, H, N, Dh), 5, /*share_kv=*/false);
  attention.InitParameters(7);
  const int64_t total = int64_t(B) * H * N * Dh;
  std::vector<float> q = RandomValues(total, 1, 1.0f);
  std::vector<float> k = RandomValues(total, 2, 1.0f);
  std::vector<float> v = RandomValues(total, 3, 1.0f);
  std::vector<uint8_t> mask(N, 1);
  for (int j = real; j < N; ++j) mask[j] = 0;
  std::vector<float> k0 = k, v0 = v;
  for (int h = 0; h < H; ++h) {
    for (int j = real; j < N; ++j) {
      for (int x = 0; x < Dh; ++x) {
        k0[(int64_t(h) * N + j) * Dh + x] = 0.0f;
        v0[(int64_t(h) * N + j) * Dh + x] = 0.0f;
        k[(int64_t(h) * N + j) * Dh + x] = 50.0f;
      }
    }
  }
  std::vector<float> masked(total), zeroed(total);
  attention.Forward({q.data(), k.data(), v.data(), mask.data(), B},
                    masked.data());
  std::vector<float> dq(total), dk(total), dv(total);
  const std::vector<float> dout = RandomValues(total, 4, 1.0f);
  attention.Backward(dout.data(), {dq.data(), dk.data(), dv.data()});
  int visited = 0;
  attention.ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        ++visited;
        for (int r = 0; r < 5; ++r) {
          for (int j = real; j < N; ++j) {
            EXPECT_EQ(grad[int64_t(r) * N + j], 0.0f) << name;
          }
        }
      });
  EXPECT_EQ(visited, 2);
  attention.Forward({q.data(), k0.data(), v0.data(), nullptr, B},
                    zeroed.data());
  for (int64_t e = 0; e < total; ++e) {
    EXPECT_NEAR(masked[e], zeroed[e], 1e-6) << e;
  }
}

// A projection to fewer rows than keys is an approximation: with random E the
// output differs from full attention (so the identity test can fail).
TEST(LinformerAttentionTest, RandomProjectionIsNotFullAttention) {
  const int B = 1, H = 1, N = 16, Dh = 8;
  LinformerAttention attention(Shape(B, H, N, Dh), 4, true);
  attention.InitParameters(3);
  const int64_t total = int64_t(B) * H * N * Dh;
  const std::vector<float> q = RandomValues(total, 1, 1.5f);
  const std::vector<float> k = RandomValues(total, 2, 1.5f);
  const std::vector<float> v = RandomValues(total, 3, 1.0f);
  std::vector<float> out(total), ref(total);
  attention.Forward({q.data(), k.data(), v.data(), nullptr, B}, out.data());
  DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh,
                       DenseAllowAll(), ref.data());
  double diff = 0.0;
  for (int64_t e = 0; e < total; ++e) diff += std::fabs(out[e] - ref[e]);
  EXPECT_GT(diff / total, 1e-3);
}

// Mean |out - exact softmax attention| with E = F a row selection: k
// distinct keys chosen at random (row r of E is one-hot at the r-th chosen
// position), averaged over `draws` choices. Attention over a random subset of
// the keys is a ratio estimate of full attention whose error falls as the
// subset grows; with k = N the selection is a permutation and exact.
double SelectionError(int k_rows, int draws) {
  const int B = 2, H = 2, N = 64, Dh = 8;
  const int64_t total = int64_t(B) * H * N * Dh;
  const std::vector<float> q = RandomValues(total, 31, 1.5f);
  const std::vector<float> k = RandomValues(total, 32, 1.5f);
  const std::vector<float> v = RandomValues(total, 33, 1.0f);
  std::vector<double> exact(total);
  DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh,
                       DenseAllowAll(), exact.data());
  double error = 0.0;
  for (int d = 0; d < draws; ++d) {
    // Fisher-Yates shuffle of the positions, a pure function of (k, d).
    std::vector<int> order(N);
    for (int j = 0; j < N; ++j) order[j] = j;
    const uint64_t seed = DeriveSeed(1000 + k_rows, d);
    for (int j = N - 1; j > 0; --j) {
      const int pick =
          std::min(j, static_cast<int>(UniformFloat(seed, j) * float(j + 1)));
      std::swap(order[j], order[pick]);
    }
    LinformerAttention attention(Shape(B, H, N, Dh), k_rows, true);
    attention.e().Zero();
    for (int r = 0; r < k_rows; ++r) {
      attention.e()[int64_t(r) * N + order[r]] = 1.0f;
    }
    std::vector<float> out(total);
    attention.Forward({q.data(), k.data(), v.data(), nullptr, B}, out.data());
    for (int64_t e = 0; e < total; ++e) error += std::fabs(out[e] - exact[e]);
  }
  return error / (double(draws) * total);
}

// The budget k grows 4 -> 8 -> 16 -> 32: each step cuts the error by at least
// 15% (PyTorch estimate of the ratios: 0.71, 0.64, 0.60), and k = N is exact.
TEST(LinformerAttentionTest, ErrorFallsAsProjectedLengthGrows) {
  std::vector<double> errors;
  for (int k_rows : {4, 8, 16, 32}) {
    errors.push_back(SelectionError(k_rows, 8));
    std::printf("k %d: mean |error| %.4g\n", k_rows, errors.back());
  }
  for (size_t i = 1; i < errors.size(); ++i) {
    EXPECT_LT(errors[i], 0.85 * errors[i - 1]) << "step " << i;
  }
  EXPECT_GT(errors.back(), 1e-3);  // still an approximation below N
  const double at_n = SelectionError(64, 2);
  std::printf("k 64 (= N): mean |error| %.3g\n", at_n);
  EXPECT_LT(at_n, 1e-6);
}

TEST(LinformerAttentionTest, FactoryRejectsBadK) {
  const AttentionPlugin plugin = LinformerAttentionPlugin();
  EXPECT_TRUE(plugin.capabilities.length_dependent_parameters);
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(plugin).ok());
  PluginConfig config;
  config.set_name("linformer");
  *config.add_param() = NumberParam("k", 0);
  EXPECT_FALSE(registry.Create(config, Shape(1, 1, 8, 4)).ok());
  config.clear_param();
  *config.add_param() = NumberParam("k", 2.5);
  EXPECT_FALSE(registry.Create(config, Shape(1, 1, 8, 4)).ok());
  config.clear_param();
  EXPECT_TRUE(registry.Create(config, Shape(1, 1, 8, 4)).ok());
}

}  // namespace
}  // namespace lra
