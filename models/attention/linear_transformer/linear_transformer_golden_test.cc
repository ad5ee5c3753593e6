// Pins the "linear_transformer" plugin to an independent PyTorch
// implementation (tools/make_lowrank_golden.py, float64, autograd, weight by
// weight over an explicit N x N matrix): forward output and the gradients in
// q, k, v, bidirectional and causal, with padding (including a padded first
// position, whose causal query sees no key) and an entirely padded example.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "models/attention/linear_transformer/linear_transformer_attention.h"
#include "models/attention/testing/golden_attention.h"
#include "models/attention/testing/golden_file.h"

namespace lra {
namespace {

class LinearTransformerGoldenTest
    : public ::testing::TestWithParam<std::string> {};

TEST_P(LinearTransformerGoldenTest, MatchesPyTorch) {
  absl::StatusOr<GoldenFile> golden = ReadGoldenFile(
      "models/attention/linear_transformer/testdata/" + GetParam() + ".txt");
  ASSERT_TRUE(golden.ok()) << golden.status();
  const GoldenFile& g = *golden;
  absl::StatusOr<AttentionShape> shape = GoldenAttentionShape(g);
  ASSERT_TRUE(shape.ok()) << shape.status();
  LinearTransformerAttention attention(*shape,
                                       /*causal=*/g.scalars.at("causal") != 0,
                                       static_cast<float>(g.scalars.at("eps")));
  absl::StatusOr<std::string> report =
      CompareForwardBackwardWithGolden(g, *shape, attention, /*rtol=*/1e-4);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, "") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Modes, LinearTransformerGoldenTest,
                         ::testing::Values("bidirectional", "causal"));

}  // namespace
}  // namespace lra
