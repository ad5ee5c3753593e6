// Pins one transformer_xl layer (the handler with one pre-LN block and its
// RelativeAttention) to an independent PyTorch implementation
// (tools/make_sequence_golden.py: float64, autograd, segment by segment with
// the memory detached): forward output, the input gradient and every
// parameter's gradient, over three segments with memory longer than a
// segment, a short padded last segment and a masked position inside it.
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "config/plugin_param.h"
#include "gtest/gtest.h"
#include "models/attention/testing/golden_file.h"
#include "models/block.h"
#include "models/sequence/golden_layer.h"
#include "models/sequence/transformer_xl/relative_attention.h"

namespace lra {
namespace {

constexpr double kRtol = 1e-4;

TEST(TransformerXlGoldenTest, OneLayerMatchesPyTorch) {
  absl::StatusOr<std::unique_ptr<GoldenLayer>> run = RunGoldenLayer(
      "models/sequence/transformer_xl/testdata/layer_three_segments.txt",
      [](const GoldenFile& g, ModelConfig* config) {
        PluginConfig& sequence = *config->mutable_sequence();
        sequence.set_name("transformer_xl");
        *sequence.add_param() =
            NumberParam("segment_len", g.scalars.at("segment_len"));
        *sequence.add_param() = NumberParam("mem_len", g.scalars.at("mem_len"));
      });
  ASSERT_TRUE(run.ok()) << run.status();
  GoldenLayer& layer = **run;
  // The handler brings its own mixer: relative attention over the memory.
  ASSERT_NE(dynamic_cast<RelativeAttention*>(&layer.blocks[0]->mixer()),
            nullptr);
  // ln1, wq wk wv wr u v wo bo, ln2, mlp.
  EXPECT_EQ(layer.loaded, 2 + 8 + 2 + 4);
  const GoldenFile& g = layer.golden;
  std::string report =
      CompareWithGolden("out", layer.out.data(), g.tensors.at("out"), kRtol);
  report += CompareWithGolden("grad of x", layer.dx.data(),
                              g.tensors.at("grad/x"), kRtol);
  layer.ForEachWeight(
      [&](const std::string& name, Tensor&, Tensor& grad, const WeightSpec&) {
        report += CompareWithGolden("grad of " + name, grad.data(),
                                    g.tensors.at("grad/" + name), kRtol);
      });
  EXPECT_EQ(report, "");
}

}  // namespace
}  // namespace lra
