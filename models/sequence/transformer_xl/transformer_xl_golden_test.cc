// Pins one transformer_xl layer (the handler with one pre-LN block and its
// RelativeAttention) to an independent PyTorch implementation
// (tools/make_sequence_golden.py: float64, autograd, segment by segment with
// the memory detached): forward output, the input gradient and every
// parameter's gradient, over three segments with memory longer than a
// segment, a short padded last segment and a masked position inside it.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "models/attention/testing/golden_file.h"
#include "models/block.h"
#include "models/builtin.h"
#include "models/sequence/transformer_xl/transformer_xl.h"

namespace lra {
namespace {

constexpr double kRtol = 1e-4;

PluginParam Number(const std::string& name, double value) {
  PluginParam p;
  p.set_name(name);
  p.set_number(value);
  return p;
}

TEST(TransformerXlGoldenTest, OneLayerMatchesPyTorch) {
  absl::StatusOr<GoldenFile> golden = ReadGoldenFile(
      "models/sequence/transformer_xl/testdata/layer_three_segments.txt");
  ASSERT_TRUE(golden.ok()) << golden.status();
  const GoldenFile& g = *golden;
  auto size = [&](const char* name) {
    return static_cast<int>(g.scalars.at(name));
  };
  const int B = size("batch"), N = size("seq_len"), D = size("d_model");
  ModelConfig config;
  config.set_d_model(D);
  config.set_num_layers(1);
  config.set_num_heads(size("heads"));
  config.set_qkv_dim(size("qkv_dim"));
  config.set_mlp_dim(size("mlp_dim"));
  config.mutable_sequence()->set_name("transformer_xl");
  *config.mutable_sequence()->add_param() =
      Number("segment_len", size("segment_len"));
  *config.mutable_sequence()->add_param() = Number("mem_len", size("mem_len"));
  SequenceShape shape;
  shape.max_seqs = B;
  shape.seq_len = N;
  shape.d_model = D;
  shape.num_layers = 1;
  absl::StatusOr<std::unique_ptr<SequenceHandler>> made =
      BuiltinPlugins().sequence->Create(config.sequence(), shape, config);
  ASSERT_TRUE(made.ok()) << made.status();
  std::unique_ptr<SequenceHandler> handler = *std::move(made);
  ScratchBuffers scratch;
  MixerShape mixer_shape;
  mixer_shape.max_seqs = B;
  mixer_shape.seq_len = handler->block_seq_len();
  mixer_shape.d_model = D;
  absl::StatusOr<std::unique_ptr<TokenMixer>> mixer =
      handler->MakeMixer(mixer_shape, &scratch);
  ASSERT_TRUE(mixer.ok()) << mixer.status();
  ASSERT_NE(*mixer, nullptr);
  BlockShape block_shape;
  block_shape.max_seqs = B;
  block_shape.seq_len = handler->block_seq_len();
  block_shape.d_model = D;
  block_shape.mlp_dim = size("mlp_dim");
  BlockList blocks;
  blocks.push_back(
      std::make_unique<Block>(block_shape, *std::move(mixer), &scratch));
  int loaded = 0;
  blocks[0]->ForEachWeight([&](const std::string& name, Tensor& value,
                               Tensor& grad, const WeightSpec&) {
    absl::StatusOr<const GoldenTensor*> t = g.Tensor("param/" + name);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_EQ(static_cast<int64_t>((*t)->values.size()), value.size()) << name;
    const std::vector<float> values = ToFloats(**t);
    std::copy(values.begin(), values.end(), value.data());
    grad.Zero();
    ++loaded;
  });
  // ln1, wq wk wv wr u v wo bo, ln2, mlp.
  EXPECT_EQ(loaded, 2 + 8 + 2 + 4);

  const std::vector<float> x = ToFloats(g.tensors.at("x"));
  const std::vector<float> dout = ToFloats(g.tensors.at("dout"));
  std::vector<uint8_t> mask;
  for (double m : g.tensors.at("mask").values) mask.push_back(m != 0);
  ASSERT_EQ(static_cast<int>(x.size()), B * N * D);
  ASSERT_EQ(static_cast<int>(mask.size()), B * N);
  std::vector<float> out(B * N * D), dx(B * N * D);
  std::vector<uint8_t> pool(B * N);
  SequenceStep step;
  step.seqs = B;
  step.key_mask = mask.data();
  handler->Forward(blocks, x.data(), step, out.data(), pool.data());
  handler->Backward(blocks, dout.data(), dx.data());
  std::string report =
      CompareWithGolden("out", out.data(), g.tensors.at("out"), kRtol);
  report +=
      CompareWithGolden("grad of x", dx.data(), g.tensors.at("grad/x"), kRtol);
  blocks[0]->ForEachWeight(
      [&](const std::string& name, Tensor&, Tensor& grad, const WeightSpec&) {
        report += CompareWithGolden("grad of " + name, grad.data(),
                                    g.tensors.at("grad/" + name), kRtol);
      });
  EXPECT_EQ(report, "");
}

}  // namespace
}  // namespace lra
