// Sinkhorn attention against an independent PyTorch implementation (goldens
// made by tools/make_learnable_golden.py: forward and every gradient, with
// padding), and against the dense softmax reference where it reduces to full
// attention (one block: the sorted partner is the block itself).
#include "models/attention/sinkhorn/sinkhorn_attention.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/attention/testing/dense_reference.h"
#include "models/attention/testing/golden_attention.h"
#include "models/attention/testing/golden_file.h"
#include "models/attention/testing/plugin_testing.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Attention>> Make(
    const std::vector<PluginParam>& params, const AttentionShape& shape) {
  return CreatePlugin(SinkhornAttentionPlugin(), params, shape);
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

// Forward output and the gradients in q, k, v and the sorting network match
// PyTorch to 1e-4 relative (to each tensor's scale).
TEST_P(GoldenTest, MatchesPyTorch) {
  absl::StatusOr<GoldenFile> golden = ReadGoldenFile(
      "models/attention/sinkhorn/testdata/" + GetParam() + ".txt");
  ASSERT_TRUE(golden.ok()) << golden.status();
  const GoldenFile& g = *golden;
  absl::StatusOr<AttentionShape> shape = GoldenAttentionShape(g);
  ASSERT_TRUE(shape.ok()) << shape.status();
  absl::StatusOr<std::unique_ptr<Attention>> made =
      Make({NumberParam("block", g.scalars.at("block")),
            NumberParam("iterations", g.scalars.at("iterations")),
            NumberParam("temperature", g.scalars.at("temperature"))},
           *shape);
  ASSERT_TRUE(made.ok()) << made.status();
  Attention& attention = **made;
  attention.InitParameters(1);
  absl::StatusOr<int> loaded = LoadGoldenParameters(g, attention);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, 1);
  absl::StatusOr<std::string> report =
      CompareForwardBackwardWithGolden(g, *shape, attention, /*rtol=*/1e-4);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, "") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest,
                         ::testing::Values("block4", "block3_no_iterations"));

// With one block, the sorted partner is the block itself (S = 1): every key
// appears twice with the same score, so the output and gradients are those of
// full softmax attention.
TEST(SinkhornTest, OneBlockIsFullAttention) {
  const int B = 2, H = 2, N = 29, Dh = 8;
  AttentionShape shape;
  shape.max_batch = B;
  shape.num_heads = H;
  shape.seq_len = N;
  shape.head_dim = Dh;
  absl::StatusOr<std::unique_ptr<Attention>> made =
      Make({NumberParam("block", 32)}, shape);
  ASSERT_TRUE(made.ok()) << made.status();
  (*made)->InitParameters(3);
  const int64_t count = int64_t(B) * H * N * Dh;
  const std::vector<float> q = RandomValues(count, 1, 1.5f),
                           k = RandomValues(count, 2, 1.5f),
                           v = RandomValues(count, 3, 1.0f),
                           dout = RandomValues(count, 4, 1.0f);
  std::vector<uint8_t> mask(B * N, 1);
  for (int j = 20; j < N; ++j) mask[N + j] = 0;
  std::vector<float> out(count), dq(count), dk(count), dv(count);
  AttentionInputs in;
  in.q = q.data();
  in.k = k.data();
  in.v = v.data();
  in.key_mask = mask.data();
  in.batch = B;
  (*made)->Forward(in, out.data());
  (*made)->Backward(dout.data(), {dq.data(), dk.data(), dv.data()});
  const DenseAllowedFn allowed =
      DenseAllowWithPadding(DenseAllowAll(), mask.data(), N);
  ExpectMatchesDenseReference(q.data(), k.data(), v.data(), B, H, N, Dh,
                              allowed, dout.data(), out.data(), dq.data(),
                              dk.data(), dv.data(), 1e-5, 1e-5);
}

TEST(SinkhornTest, RejectsBadParams) {
  AttentionShape shape;
  shape.seq_len = 10;
  EXPECT_THAT(
      std::string(Make({NumberParam("block", 65)}, shape).status().message()),
      HasSubstr("allowed: a whole number from 1 to 64"));
  EXPECT_THAT(
      std::string(
          Make({NumberParam("temperature", 0)}, shape).status().message()),
      HasSubstr("'temperature' of attention 'sinkhorn' is 0"));
  EXPECT_THAT(
      std::string(
          Make({NumberParam("iterations", 1.5)}, shape).status().message()),
      HasSubstr("'iterations' of attention 'sinkhorn' is 1.5"));
}

}  // namespace
}  // namespace lra
