// Pins the "performer" plugin to an independent PyTorch implementation
// (tools/make_lowrank_golden.py, float64, autograd, weight by weight and
// without stabilisers): forward output and the gradients in q, k, v for the
// softmax and the relu kernel, with padding and an entirely padded example.
// The random feature directions come from the file, so the comparison is
// exact.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "models/attention/performer/performer_attention.h"
#include "models/attention/testing/golden_attention.h"
#include "models/attention/testing/golden_file.h"
#include "models/tensor.h"

namespace lra {
namespace {

class PerformerGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PerformerGoldenTest, MatchesPyTorch) {
  absl::StatusOr<GoldenFile> golden = ReadGoldenFile(
      "models/attention/performer/testdata/" + GetParam() + ".txt");
  ASSERT_TRUE(golden.ok()) << golden.status();
  const GoldenFile& g = *golden;
  absl::StatusOr<AttentionShape> shape = GoldenAttentionShape(g);
  ASSERT_TRUE(shape.ok()) << shape.status();
  const int features = static_cast<int>(g.scalars.at("features"));
  const std::string kernel = g.texts.at("kernel");
  ASSERT_TRUE(kernel == "softmax" || kernel == "relu") << kernel;
  PerformerAttention attention(*shape,
                               kernel == "softmax"
                                   ? PerformerAttention::Kernel::kSoftmax
                                   : PerformerAttention::Kernel::kRelu,
                               features, /*redraw_interval=*/0);
  const GoldenTensor& w = g.tensors.at("features");
  ASSERT_EQ(int64_t(w.values.size()), int64_t(features) * shape->head_dim);
  Tensor projection({features, shape->head_dim});
  for (int64_t e = 0; e < projection.size(); ++e) projection[e] = w.values[e];
  attention.SetProjection(projection);
  ASSERT_EQ(attention.projection()[1], projection[1]);
  absl::StatusOr<std::string> report =
      CompareForwardBackwardWithGolden(g, *shape, attention, /*rtol=*/1e-4);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, "") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Kernels, PerformerGoldenTest,
                         ::testing::Values("softmax_m12", "relu_m12"));

}  // namespace
}  // namespace lra
