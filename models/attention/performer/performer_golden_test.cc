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
  AttentionShape shape;
  shape.max_batch = static_cast<int>(g.scalars.at("batch"));
  shape.num_heads = static_cast<int>(g.scalars.at("heads"));
  shape.seq_len = static_cast<int>(g.scalars.at("seq_len"));
  shape.head_dim = static_cast<int>(g.scalars.at("head_dim"));
  const int features = static_cast<int>(g.scalars.at("features"));
  const std::string kernel = g.texts.at("kernel");
  ASSERT_TRUE(kernel == "softmax" || kernel == "relu") << kernel;
  PerformerAttention attention(shape,
                               kernel == "softmax"
                                   ? PerformerAttention::Kernel::kSoftmax
                                   : PerformerAttention::Kernel::kRelu,
                               features, /*redraw_interval=*/0);
  const GoldenTensor& w = g.tensors.at("features");
  ASSERT_EQ(int64_t(w.values.size()), int64_t(features) * shape.head_dim);
  Tensor projection({features, shape.head_dim});
  for (int64_t e = 0; e < projection.size(); ++e) projection[e] = w.values[e];
  attention.SetProjection(projection);
  ASSERT_EQ(attention.projection()[1], projection[1]);

  const std::vector<float> q = ToFloats(g.tensors.at("q")),
                           k = ToFloats(g.tensors.at("k")),
                           v = ToFloats(g.tensors.at("v")),
                           dout = ToFloats(g.tensors.at("dout"));
  std::vector<uint8_t> mask;
  for (double m : g.tensors.at("mask").values) mask.push_back(m != 0);
  ASSERT_EQ(int64_t(mask.size()), int64_t(shape.max_batch) * shape.seq_len);
  std::vector<float> out(q.size()), dq(q.size()), dk(q.size()), dv(q.size());
  AttentionInputs in;
  in.q = q.data();
  in.k = k.data();
  in.v = v.data();
  in.key_mask = mask.data();
  in.batch = shape.max_batch;
  attention.Forward(in, out.data());
  attention.Backward(dout.data(), {dq.data(), dk.data(), dv.data()});
  constexpr double kRtol = 1e-4;
  std::string report;
  report += CompareWithGolden("out", out.data(), g.tensors.at("out"), kRtol);
  report += CompareWithGolden("dq", dq.data(), g.tensors.at("grad/q"), kRtol);
  report += CompareWithGolden("dk", dk.data(), g.tensors.at("grad/k"), kRtol);
  report += CompareWithGolden("dv", dv.data(), g.tensors.at("grad/v"), kRtol);
  EXPECT_EQ(report, "") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Kernels, PerformerGoldenTest,
                         ::testing::Values("softmax_m12", "relu_m12"));

}  // namespace
}  // namespace lra
