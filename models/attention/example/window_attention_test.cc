// The example plugin's own tests: forward and backward against the dense
// masked reference on its window pattern, the temperature parameter, and
// parameter validation. Shapes, gradients by central differences, padding,
// causality, determinism and batch independence come from the conformance
// suite (models/attention/conformance/), which covers every registered plugin.
#include "models/attention/example/window_attention.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/attention/testing/dense_reference.h"
#include "models/attention/testing/qkv_testing.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

struct Case {
  int window;
  bool causal;
  int n;
};

class WindowAttentionTest : public ::testing::TestWithParam<Case> {};

TEST_P(WindowAttentionTest, MatchesDenseReferenceWithPadding) {
  const Case c = GetParam();
  const int B = 2, H = 2, N = c.n, Dh = 8;
  AttentionShape shape{B, H, N, Dh, 0.0f, 0, 0};
  WindowAttention attention(shape, c.window, c.causal);
  attention.InitParameters(0);
  const int64_t count = int64_t(B) * H * N * Dh;
  const auto [q, k, v, dout] = RandomQkv(count, 1.5f);
  std::vector<uint8_t> key_mask(B * N, 1);
  for (int j = N - N / 3; j < N; ++j) key_mask[N + j] = 0;
  const auto [out, dq, dk, dv] = RunForwardBackward(
      attention, q, k, v, dout, key_mask.data(), B, /*training=*/true);

  const int w = c.window;
  const bool causal = c.causal;
  const DenseAllowedFn allowed = DenseAllowWithPadding(
      [w, causal](int, int, int i, int j) {
        return causal ? (j <= i && i - j <= w) : std::abs(i - j) <= w;
      },
      key_mask.data(), N);
  ExpectMatchesDenseReference(q.data(), k.data(), v.data(), B, H, N, Dh,
                              allowed, dout.data(), out.data(), dq.data(),
                              dk.data(), dv.data(), 1e-5, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Windows, WindowAttentionTest,
                         ::testing::Values(Case{3, false, 37},
                                           Case{0, false, 9}, Case{5, true, 40},
                                           Case{100, false, 21}));

// A temperature t on head h is the same as scaling that head's queries by t.
TEST(WindowAttentionTest, TemperatureScalesScores) {
  const int B = 1, H = 2, N = 12, Dh = 4;
  AttentionShape shape{B, H, N, Dh, 0.0f, 0, 0};
  WindowAttention attention(shape, 4, false);
  attention.InitParameters(0);
  attention.ForEachParameter(
      [](const std::string& name, Tensor& value, Tensor&) {
        ASSERT_EQ(name, "log_temperature");
        ASSERT_EQ(value.size(), 2);
        value[1] = std::log(2.0f);
      });
  const int64_t count = int64_t(B) * H * N * Dh;
  const std::vector<float> q = RandomValues(count, 5),
                           k = RandomValues(count, 6),
                           v = RandomValues(count, 7);
  std::vector<float> out(count);
  attention.Forward({q.data(), k.data(), v.data(), nullptr, B, false, 0},
                    out.data());
  std::vector<float> scaled = q;
  for (int64_t e = N * Dh; e < count; ++e) scaled[e] *= 2.0f;  // head 1
  std::vector<double> ref(count);
  DenseMaskedAttention(
      scaled.data(), k.data(), v.data(), B, H, N, Dh,
      [](int, int, int i, int j) { return std::abs(i - j) <= 4; }, ref.data());
  for (int64_t e = 0; e < count; ++e) EXPECT_NEAR(out[e], ref[e], 1e-5) << e;
}

TEST(WindowAttentionTest, RejectsBadWindow) {
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(WindowAttentionPlugin()).ok());
  PluginConfig config;
  config.set_name("example_window");
  *config.add_param() = NumberParam("window", 2.5);
  AttentionShape shape{1, 1, 8, 4, 0.0f, 0, 0};
  absl::Status status = registry.Create(config, shape).status();
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("'window' of attention 'example_window' is "
                                   "2.5; allowed: a whole number"));
  config.mutable_param(0)->set_number(3);
  EXPECT_TRUE(registry.Create(config, shape).ok());
}

}  // namespace
}  // namespace lra
