// Pins the "linformer" plugin to an independent PyTorch implementation
// (tools/make_lowrank_golden.py, float64, autograd): forward output and the
// gradients in q, k, v and in the projections E (and F), with padding, for
// a shared projection with k < N and separate projections with k > N.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "models/attention/linformer/linformer_attention.h"
#include "models/attention/testing/golden_attention.h"
#include "models/attention/testing/golden_file.h"

namespace lra {
namespace {

class LinformerGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LinformerGoldenTest, MatchesPyTorch) {
  absl::StatusOr<GoldenFile> golden = ReadGoldenFile(
      "models/attention/linformer/testdata/" + GetParam() + ".txt");
  ASSERT_TRUE(golden.ok()) << golden.status();
  const GoldenFile& g = *golden;
  absl::StatusOr<AttentionShape> shape = GoldenAttentionShape(g);
  ASSERT_TRUE(shape.ok()) << shape.status();
  const bool share_kv = g.scalars.at("share_kv") != 0;
  LinformerAttention attention(*shape, static_cast<int>(g.scalars.at("k")),
                               share_kv);
  absl::StatusOr<int> loaded = LoadGoldenParameters(g, attention);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, share_kv ? 1 : 2);
  absl::StatusOr<std::string> report =
      CompareForwardBackwardWithGolden(g, *shape, attention, /*rtol=*/1e-4);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(*report, "") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Cases, LinformerGoldenTest,
                         ::testing::Values("shared_k4", "separate_k12"));

}  // namespace
}  // namespace lra
