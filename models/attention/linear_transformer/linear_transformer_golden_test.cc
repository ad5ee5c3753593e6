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
  AttentionShape shape;
  shape.max_batch = static_cast<int>(g.scalars.at("batch"));
  shape.num_heads = static_cast<int>(g.scalars.at("heads"));
  shape.seq_len = static_cast<int>(g.scalars.at("seq_len"));
  shape.head_dim = static_cast<int>(g.scalars.at("head_dim"));
  LinearTransformerAttention attention(shape,
                                       /*causal=*/g.scalars.at("causal") != 0,
                                       static_cast<float>(g.scalars.at("eps")));

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

INSTANTIATE_TEST_SUITE_P(Modes, LinearTransformerGoldenTest,
                         ::testing::Values("bidirectional", "causal"));

}  // namespace
}  // namespace lra
