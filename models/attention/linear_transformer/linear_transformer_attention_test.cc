// The linear transformer's own tests: forward against a naive O(N^2)
// double-precision evaluation of the same formula (each weight
// phi(q_i).phi(k_j) written out), backward against central differences of
// that reference, in both modes and with padding; causality by prefix sums;
// parameter validation. The conformance suite covers the rest.
#include "models/attention/linear_transformer/linear_transformer_attention.h"

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

double Phi(double x) { return x > 0 ? x + 1 : std::exp(x); }

// <out, r> of linear attention, evaluated pair by pair in double.
double ReferenceObjective(const std::vector<double>& q,
                          const std::vector<double>& k,
                          const std::vector<double>& v,
                          const std::vector<uint8_t>& mask,
                          const std::vector<float>& r, int B, int H, int N,
                          int Dh, bool causal, double eps,
                          std::vector<double>* out) {
  auto weight = [&](int64_t base, int i, int j) {
    double w = 0;
    for (int a = 0; a < Dh; ++a) {
      w += Phi(q[base + i * Dh + a]) * Phi(k[base + j * Dh + a]);
    }
    return w;
  };
  return WeightedAttentionObjective(v, mask.data(), r, B, H, N, Dh, causal, eps,
                                    weight, out);
}

struct Case {
  bool causal;
  int n;
};

class LinearTransformerTest : public ::testing::TestWithParam<Case> {};

TEST_P(LinearTransformerTest, MatchesPairwiseReference) {
  const Case c = GetParam();
  const int B = 2, H = 2, N = c.n, Dh = 4;
  const double eps = 1e-6;
  AttentionShape shape{B, H, N, Dh, 0.0f, 0, 0};
  LinearTransformerAttention attention(shape, c.causal, eps);
  const int64_t count = int64_t(B) * H * N * Dh;
  const auto [q, k, v, r] = RandomQkv(count, 1.5f);
  std::vector<uint8_t> mask(B * N, 1);
  for (int j = N - N / 3; j < N; ++j) mask[N + j] = 0;
  const auto [out, dq, dk, dv] = RunForwardBackward(
      attention, q, k, v, r, mask.data(), B, /*training=*/true);

  std::vector<double> qd(q.begin(), q.end()), kd(k.begin(), k.end()),
      vd(v.begin(), v.end()), ref(count);
  ReferenceObjective(qd, kd, vd, mask, r, B, H, N, Dh, c.causal, eps, &ref);
  for (int64_t e = 0; e < count; ++e) {
    ASSERT_NEAR(out[e], ref[e], 1e-5) << "out " << e;
  }
  // Central differences of the double reference, every 3rd entry.
  const auto objective = [&] {
    return ReferenceObjective(qd, kd, vd, mask, r, B, H, N, Dh, c.causal, eps,
                              nullptr);
  };
  EXPECT_TRUE(internal::CheckDoubleGradients(
      objective, {{"dq", &qd, &dq}, {"dk", &kd, &dk}, {"dv", &vd, &dv}},
      /*h=*/1e-5, /*stride=*/3, /*abs_tol=*/1e-4, /*rel_tol=*/1e-4));
}

INSTANTIATE_TEST_SUITE_P(Modes, LinearTransformerTest,
                         ::testing::Values(Case{false, 13}, Case{true, 13},
                                           Case{false, 1}, Case{true, 30}));

// In causal mode the first query sees only the first key: its output is v_0.
TEST(LinearTransformerTest, CausalFirstRowIsFirstValue) {
  const int N = 5, Dh = 3;
  AttentionShape shape{1, 1, N, Dh, 0.0f, 0, 0};
  LinearTransformerAttention attention(shape, true, 1e-6f);
  const std::vector<float> q = RandomValues(N * Dh, 5),
                           k = RandomValues(N * Dh, 6),
                           v = RandomValues(N * Dh, 7);
  std::vector<float> out(N * Dh);
  attention.Forward({q.data(), k.data(), v.data(), nullptr, 1, false, 0},
                    out.data());
  for (int c = 0; c < Dh; ++c) EXPECT_NEAR(out[c], v[c], 1e-5);
}

TEST(LinearTransformerTest, RejectsBadEps) {
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(LinearTransformerAttentionPlugin()).ok());
  PluginConfig config;
  config.set_name("linear_transformer");
  *config.add_param() = NumberParam("eps", 0);
  AttentionShape shape{1, 1, 8, 4, 0.0f, 0, 0};
  EXPECT_THAT(std::string(registry.Create(config, shape).status().message()),
              ::testing::HasSubstr("'eps' of attention 'linear_transformer'"));
  config.mutable_param(0)->set_number(1e-6);
  EXPECT_TRUE(registry.Create(config, shape).ok());
}

}  // namespace
}  // namespace lra
