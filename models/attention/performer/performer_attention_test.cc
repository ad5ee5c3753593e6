// The Performer's own tests: forward against a pairwise double-precision
// evaluation of FAVOR+ with the plugin's own features but no stabiliser (so
// the stabilisers are shown to cancel), backward against central
// differences of that reference, for both kernels with padding; the error
// against exact softmax attention falls as the feature count grows; the
// features are orthogonal in blocks and a pure function of (seed, layer,
// step / K). The conformance suite covers the rest.
#include "models/attention/performer/performer_attention.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/attention/testing/dense_reference.h"
#include "models/attention/testing/qkv_testing.h"
#include "models/internal/grad_check.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

using Kernel = PerformerAttention::Kernel;

// Features of row x in double, without any stabiliser.
std::vector<double> Phi(const double* x, const Tensor& w, int Dh,
                        Kernel kernel) {
  const int M = w.dim(0);
  const double scale = kernel == Kernel::kSoftmax ? std::pow(Dh, -0.25) : 1.0;
  double sq = 0;
  for (int a = 0; a < Dh; ++a) sq += x[a] * x[a] * scale * scale;
  std::vector<double> phi(M);
  for (int m = 0; m < M; ++m) {
    double dot = 0;
    for (int a = 0; a < Dh; ++a) dot += double(w[int64_t(m) * Dh + a]) * x[a];
    dot *= scale;
    phi[m] = kernel == Kernel::kSoftmax
                 ? std::exp(dot - sq / 2) / std::sqrt(double(M))
                 : std::max(dot, 0.0) / std::sqrt(double(M)) +
                       PerformerAttention::kReluEpsilon;
  }
  return phi;
}

// <out, r> of FAVOR+, weight by weight, in double.
double ReferenceObjective(const std::vector<double>& q,
                          const std::vector<double>& k,
                          const std::vector<double>& v,
                          const std::vector<uint8_t>& mask,
                          const std::vector<float>& r, int B, int H, int N,
                          int Dh, const Tensor& w, Kernel kernel,
                          std::vector<double>* out) {
  auto weight = [&](int64_t base, int i, int j) {
    const std::vector<double> fq = Phi(&q[base + i * Dh], w, Dh, kernel);
    const std::vector<double> fk = Phi(&k[base + j * Dh], w, Dh, kernel);
    double dot = 0;
    for (size_t m = 0; m < fq.size(); ++m) dot += fq[m] * fk[m];
    return dot;
  };
  return WeightedAttentionObjective(v, mask.data(), r, B, H, N, Dh,
                                    /*causal=*/false, 0.0, weight, out);
}

class PerformerTest : public ::testing::TestWithParam<Kernel> {};

TEST_P(PerformerTest, MatchesPairwiseReference) {
  const Kernel kernel = GetParam();
  const int B = 3, H = 2, N = 11, Dh = 4, M = 10;
  AttentionShape shape{B, H, N, Dh, 0.0f, 0, 7};
  PerformerAttention attention(shape, kernel, M, 0);
  const Tensor& w = attention.projection();
  const int64_t count = int64_t(B) * H * N * Dh;
  // Large enough inputs that the stabilisers matter in float.
  const auto [q, k, v, r] = RandomQkv(count, 3.0f);
  std::vector<uint8_t> mask(B * N, 1);
  for (int j = N - N / 3; j < N; ++j) mask[N + j] = 0;
  for (int j = 0; j < N; ++j) mask[2 * N + j] = 0;  // entirely padded
  const auto [out, dq, dk, dv] = RunForwardBackward(
      attention, q, k, v, r, mask.data(), B, /*training=*/true);

  std::vector<double> qd(q.begin(), q.end()), kd(k.begin(), k.end()),
      vd(v.begin(), v.end()), ref(count);
  ReferenceObjective(qd, kd, vd, mask, r, B, H, N, Dh, w, kernel, &ref);
  for (int64_t e = 0; e < count; ++e) {
    ASSERT_NEAR(out[e], ref[e], 1e-5 + 1e-5 * std::fabs(ref[e])) << "out " << e;
  }
  const auto objective = [&] {
    return ReferenceObjective(qd, kd, vd, mask, r, B, H, N, Dh, w, kernel,
                              nullptr);
  };
  EXPECT_TRUE(internal::CheckDoubleGradients(
      objective, {{"dq", &qd, &dq}, {"dk", &kd, &dk}, {"dv", &vd, &dv}},
      /*h=*/1e-6, /*stride=*/2, /*abs_tol=*/2e-4, /*rel_tol=*/1e-3));
}

INSTANTIATE_TEST_SUITE_P(Kernels, PerformerTest,
                         ::testing::Values(Kernel::kSoftmax, Kernel::kRelu));

// Mean absolute error of the softmax kernel against exact softmax attention,
// averaged over several draws of the features.
double SoftmaxError(int features) {
  const int B = 2, H = 2, N = 32, Dh = 8;
  const int64_t count = int64_t(B) * H * N * Dh;
  const std::vector<float> q = RandomValues(count, 11, 0.5f),
                           k = RandomValues(count, 12, 0.5f),
                           v = RandomValues(count, 13);
  std::vector<double> exact(count);
  DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh,
                       DenseAllowAll(), exact.data());
  double error = 0;
  const int draws = 6;
  for (int d = 0; d < draws; ++d) {
    AttentionShape shape{B, H, N, Dh, 0.0f, 0, uint64_t(100 + d)};
    PerformerAttention attention(shape, Kernel::kSoftmax, features, 0);
    std::vector<float> out(count);
    attention.Forward({q.data(), k.data(), v.data(), nullptr, B, false, 0},
                      out.data());
    for (int64_t e = 0; e < count; ++e) error += std::fabs(out[e] - exact[e]);
  }
  return error / (draws * count);
}

TEST(PerformerTest, SoftmaxErrorFallsWithFeatures) {
  double previous = 1e30;
  double first = 0;
  for (int features : {16, 64, 256, 1024}) {
    const double error = SoftmaxError(features);
    std::printf("features %d: mean |error| %.3g\n", features, error);
    if (features == 16) first = error;
    // Monte Carlo error ~ 1/sqrt(M): four times the features should halve
    // it (measured ratios 0.43, 0.54, 0.48); ask for a quarter less at each
    // step, so a stalled estimator fails.
    EXPECT_LT(error, 0.75 * previous) << features;
    previous = error;
  }
  // 64 times the features, about an eighth of the error; ask for a quarter.
  EXPECT_LT(previous, first / 4);
}

TEST(PerformerTest, FeaturesAreOrthogonalInBlocks) {
  const int Dh = 8, M = 20;
  AttentionShape shape{1, 1, 4, Dh, 0.0f, 0, 3};
  PerformerAttention attention(shape, Kernel::kSoftmax, M, 0);
  const Tensor& w = attention.projection();
  for (int r = 0; r < M; ++r) {
    for (int s = r + 1; s < M && s / Dh == r / Dh; ++s) {
      double dot = 0;
      for (int a = 0; a < Dh; ++a) dot += double(w[r * Dh + a]) * w[s * Dh + a];
      EXPECT_NEAR(dot, 0.0, 1e-4) << r << " " << s;
    }
  }
}

TEST(PerformerTest, RedrawIsAPureFunctionOfSeedLayerAndEpoch) {
  AttentionShape shape{1, 1, 4, 8, 0.0f, 2, 3};
  PerformerAttention a(shape, Kernel::kSoftmax, 16, 5);
  PerformerAttention b(shape, Kernel::kSoftmax, 16, 5);
  auto same = [](const Tensor& x, const Tensor& y) {
    for (int64_t e = 0; e < x.size(); ++e) {
      if (x[e] != y[e]) return false;
    }
    return true;
  };
  const Tensor initial = a.projection();
  a.SetStep(4);
  EXPECT_TRUE(same(a.projection(), initial));  // step 4 / 5 = epoch 0
  a.SetStep(5);
  EXPECT_FALSE(same(a.projection(), initial));
  const Tensor epoch1 = a.projection();
  a.SetStep(12);  // epoch 2
  EXPECT_FALSE(same(a.projection(), epoch1));
  b.SetStep(7);  // epoch 1, reached directly
  EXPECT_TRUE(same(b.projection(), epoch1));
  a.SetStep(1);
  EXPECT_TRUE(same(a.projection(), initial));
  AttentionShape other_layer = shape;
  other_layer.layer_index = 3;
  PerformerAttention c(other_layer, Kernel::kSoftmax, 16, 5);
  EXPECT_FALSE(same(c.projection(), initial));
  // Without redraws, SetStep changes nothing.
  PerformerAttention fixed(shape, Kernel::kSoftmax, 16, 0);
  fixed.SetStep(1000);
  EXPECT_TRUE(same(fixed.projection(), initial));
}

TEST(PerformerTest, RejectsBadParams) {
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(PerformerAttentionPlugin()).ok());
  AttentionShape shape{1, 1, 8, 4, 0.0f, 0, 0};
  PluginConfig config;
  config.set_name("performer");
  *config.add_param() = TextParam("kernel", "cosine");
  EXPECT_THAT(std::string(registry.Create(config, shape).status().message()),
              ::testing::HasSubstr("'kernel' of attention 'performer'"));
  config.mutable_param(0)->set_text("softmax");
  EXPECT_TRUE(registry.Create(config, shape).ok());
  *config.add_param() = NumberParam("features", 0);
  EXPECT_THAT(std::string(registry.Create(config, shape).status().message()),
              ::testing::HasSubstr("'features' of attention 'performer'"));
}

}  // namespace
}  // namespace lra
