// Synthesizer against an independent PyTorch implementation (goldens made by
// tools/make_learnable_golden.py: forward and every gradient, each mode), and
// against the dense softmax reference where it reduces to dot-product
// attention.
#include "models/attention/synthesizer/synthesizer_attention.h"

#include <cmath>
#include <cstdint>
#include <map>
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
  return CreatePlugin(SynthesizerAttentionPlugin(), params, shape);
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

// Forward output and the gradients in q, k, v, x and every parameter match
// PyTorch to 1e-4 relative (to each tensor's scale), with padding.
TEST_P(GoldenTest, MatchesPyTorch) {
  absl::StatusOr<GoldenFile> golden = ReadGoldenFile(
      "models/attention/synthesizer/testdata/" + GetParam() + ".txt");
  ASSERT_TRUE(golden.ok()) << golden.status();
  const GoldenFile& g = *golden;
  absl::StatusOr<AttentionShape> shape = GoldenAttentionShape(g);
  ASSERT_TRUE(shape.ok()) << shape.status();
  ASSERT_NE(g.scalars.count("d_model"), 0u);
  absl::StatusOr<std::unique_ptr<Attention>> made =
      Make({TextParam("mode", g.texts.at("mode")),
            NumberParam("factor", g.scalars.at("factor")),
            NumberParam("mix", g.scalars.at("mix")),
            FlagParam("learn_mix", g.scalars.at("learn_mix") != 0)},
           *shape);
  ASSERT_TRUE(made.ok()) << made.status();
  Attention& attention = **made;
  attention.InitParameters(1);
  absl::StatusOr<int> loaded = LoadGoldenParameters(g, attention);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, GoldenParameterCount(g));
  // The file's x makes the comparison include the gradient in x.
  ASSERT_NE(g.tensors.count("x"), 0u);
  absl::StatusOr<std::string> report =
      CompareForwardBackwardWithGolden(g, *shape, attention, /*rtol=*/1e-4);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, "") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Modes, GoldenTest,
                         ::testing::Values("random_dot_factor", "random_full",
                                           "dense_dot", "dense"));

// With mix 0 the synthetic logits vanish and random+dot is softmax attention.
TEST(SynthesizerTest, MixZeroIsDotProductAttention) {
  AttentionShape shape;
  shape.max_batch = 2;
  shape.num_heads = 2;
  shape.seq_len = 23;
  shape.head_dim = 8;
  shape.d_model = 12;
  absl::StatusOr<std::unique_ptr<Attention>> made =
      Make({TextParam("mode", "random+dot"), NumberParam("mix", 0)}, shape);
  ASSERT_TRUE(made.ok()) << made.status();
  (*made)->InitParameters(3);
  const int B = 2, H = 2, N = 23, Dh = 8;
  const int64_t count = int64_t(B) * H * N * Dh;
  const std::vector<float> q = RandomValues(count, 1, 1.5f),
                           k = RandomValues(count, 2, 1.5f),
                           v = RandomValues(count, 3, 1.0f),
                           dout = RandomValues(count, 4, 1.0f),
                           x = RandomValues(B * N * 12, 5, 1.0f);
  std::vector<uint8_t> mask(B * N, 1);
  for (int j = 15; j < N; ++j) mask[N + j] = 0;
  std::vector<float> out(count), dq(count), dk(count), dv(count), dx(x.size());
  AttentionInputs in;
  in.q = q.data();
  in.k = k.data();
  in.v = v.data();
  in.x = x.data();
  in.key_mask = mask.data();
  in.batch = B;
  (*made)->Forward(in, out.data());
  (*made)->Backward(dout.data(), {dq.data(), dk.data(), dv.data(), dx.data()});
  const DenseAllowedFn allowed =
      DenseAllowWithPadding(DenseAllowAll(), mask.data(), N);
  ExpectMatchesDenseReference(q.data(), k.data(), v.data(), B, H, N, Dh,
                              allowed, dout.data(), out.data(), dq.data(),
                              dk.data(), dv.data(), 1e-5, 1e-5);
}

// Fixed random logits are structure of the run: not a parameter, the same
// for the same shape.seed, different for another.
TEST(SynthesizerTest, FixedRandomComesFromTheRunSeed) {
  AttentionShape shape;
  shape.max_batch = 1;
  shape.num_heads = 1;
  shape.seq_len = 9;
  shape.head_dim = 4;
  shape.d_model = 4;
  const std::vector<PluginParam> params = {TextParam("mode", "random"),
                                           FlagParam("learn_random", false)};
  auto run = [&](uint64_t seed) {
    shape.seed = seed;
    std::unique_ptr<Attention> a = *Make(params, shape);
    int visited = 0;
    a->ForEachParameter(
        [&](const std::string&, Tensor&, Tensor&) { ++visited; });
    EXPECT_EQ(visited, 0);
    const std::vector<float> q = RandomValues(36, 1, 1),
                             v = RandomValues(36, 3, 1),
                             x = RandomValues(36, 4, 1);
    std::vector<float> out(36);
    AttentionInputs in;
    in.q = q.data();
    in.k = q.data();
    in.v = v.data();
    in.x = x.data();
    in.batch = 1;
    a->Forward(in, out.data());
    return out;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(SynthesizerTest, RejectsBadParams) {
  AttentionShape shape;
  shape.seq_len = 4;
  EXPECT_THAT(
      std::string(
          Make({TextParam("mode", "dense+random")}, shape).status().message()),
      HasSubstr("allowed: random, dense, random+dot, dense+dot"));
  EXPECT_THAT(
      std::string(Make({NumberParam("factor", 2.5)}, shape).status().message()),
      HasSubstr("'factor' of attention 'synthesizer' is 2.5"));
}

// N x N buffers that no machine holds are refused as out of memory before
// anything is allocated (a bench sweep then reports the length as out of
// memory instead of crashing), while the same model at a small length
// builds.
TEST(SynthesizerTest, RefusesNSquaredBuffersBeyondMemory) {
  AttentionShape shape;
  shape.max_batch = 8;
  shape.num_heads = 4;
  shape.head_dim = 32;
  shape.d_model = 128;
  shape.seq_len = 1 << 20;  // about 300 TB of N x N buffers
  for (const char* mode : {"random", "dense+dot"}) {
    const absl::Status status = Make({TextParam("mode", mode)}, shape).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << mode;
    EXPECT_THAT(std::string(status.message()), HasSubstr("out of memory"))
        << mode;
  }
  shape.seq_len = 64;
  EXPECT_TRUE(Make({TextParam("mode", "random")}, shape).ok());
}

}  // namespace
}  // namespace lra
