// Pins the "linformer" plugin to an independent PyTorch implementation
// (tools/make_lowrank_golden.py, float64, autograd): forward output and the
// gradients in q, k, v and in the projections E (and F), with padding, for
// a shared projection with k < N and separate projections with k > N.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "models/attention/linformer/linformer_attention.h"
#include "models/attention/testing/golden_file.h"

namespace lra {
namespace {

class LinformerGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LinformerGoldenTest, MatchesPyTorch) {
  absl::StatusOr<GoldenFile> golden = ReadGoldenFile(
      "models/attention/linformer/testdata/" + GetParam() + ".txt");
  ASSERT_TRUE(golden.ok()) << golden.status();
  const GoldenFile& g = *golden;
  AttentionShape shape;
  shape.max_batch = static_cast<int>(g.scalars.at("batch"));
  shape.num_heads = static_cast<int>(g.scalars.at("heads"));
  shape.seq_len = static_cast<int>(g.scalars.at("seq_len"));
  shape.head_dim = static_cast<int>(g.scalars.at("head_dim"));
  const bool share_kv = g.scalars.at("share_kv") != 0;
  LinformerAttention attention(shape, static_cast<int>(g.scalars.at("k")),
                               share_kv);
  int loaded = 0;
  attention.ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        absl::StatusOr<const GoldenTensor*> t = g.Tensor("param/" + name);
        ASSERT_TRUE(t.ok()) << t.status();
        ASSERT_EQ(int64_t((*t)->values.size()), value.size()) << name;
        const std::vector<float> values = ToFloats(**t);
        std::copy(values.begin(), values.end(), value.data());
        grad.Zero();
        ++loaded;
      });
  EXPECT_EQ(loaded, share_kv ? 1 : 2);

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
  attention.ForEachParameter(
      [&](const std::string& name, Tensor&, Tensor& grad) {
        report += CompareWithGolden("grad of " + name, grad.data(),
                                    g.tensors.at("grad/" + name), kRtol);
      });
  EXPECT_EQ(report, "") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Cases, LinformerGoldenTest,
                         ::testing::Values("shared_k4", "separate_k12"));

}  // namespace
}  // namespace lra
