#include "models/sequence/golden_layer.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "models/attention_mixer.h"
#include "models/block.h"
#include "models/builtin.h"
#include "models/mixer.h"
#include "util/status_macros.h"

namespace lra {

int GoldenLayer::Size(const char* name) const {
  return static_cast<int>(golden.scalars.at(name));
}

void GoldenLayer::ForEachWeight(const WeightVisitor& fn) {
  blocks[0]->ForEachWeight(fn);
  handler->ForEachWeight(fn);
}

namespace {

// The handler, its mixer (or the configured attention) and the block.
absl::Status Build(const ModelConfig& config, GoldenLayer& layer) {
  const int B = layer.Size("batch"), D = layer.Size("d_model");
  SequenceShape shape;
  shape.max_seqs = B;
  shape.seq_len = layer.Size("seq_len");
  shape.d_model = D;
  shape.num_layers = 1;
  ASSIGN_OR_RETURN(layer.handler, BuiltinPlugins().sequence->Create(
                                      config.sequence(), shape, config));
  MixerShape mixer_shape;
  mixer_shape.max_seqs = B;
  mixer_shape.seq_len = layer.handler->block_seq_len();
  mixer_shape.d_model = D;
  ASSIGN_OR_RETURN(std::unique_ptr<TokenMixer> mixer,
                   layer.handler->MakeMixer(mixer_shape, &layer.scratch));
  if (mixer == nullptr) {
    ASSIGN_OR_RETURN(mixer, AttentionMixer::Create(config, mixer_shape,
                                                   *BuiltinPlugins().attention,
                                                   &layer.scratch));
  }
  BlockShape block_shape;
  block_shape.max_seqs = B;
  block_shape.seq_len = layer.handler->block_seq_len();
  block_shape.d_model = D;
  block_shape.mlp_dim = config.mlp_dim();
  layer.blocks.push_back(
      std::make_unique<Block>(block_shape, std::move(mixer), &layer.scratch));
  return absl::OkStatus();
}

// Every parameter from the golden, gradients zeroed.
absl::Status LoadParameters(GoldenLayer& layer) {
  absl::Status status;
  layer.ForEachWeight([&](const std::string& name, Tensor& value, Tensor& grad,
                          const WeightSpec&) {
    if (!status.ok()) return;
    absl::StatusOr<const GoldenTensor*> t =
        layer.golden.Tensor("param/" + name);
    if (!t.ok()) {
      status = t.status();
      return;
    }
    if (static_cast<int64_t>((*t)->values.size()) != value.size()) {
      status = absl::InvalidArgumentError(
          absl::StrCat(name, ": ", (*t)->values.size(), " golden values for ",
                       value.size(), " parameters"));
      return;
    }
    const std::vector<float> values = ToFloats(**t);
    std::copy(values.begin(), values.end(), value.data());
    grad.Zero();
    ++layer.loaded;
  });
  return status;
}

absl::Status SizeIs(const char* name, size_t size, int64_t want) {
  if (static_cast<int64_t>(size) == want) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("golden ", name, " holds ", size, " values, not ", want));
}

// Forward and Backward on the golden's x, mask and dout.
absl::Status Run(GoldenLayer& layer) {
  const GoldenFile& g = layer.golden;
  const int B = layer.Size("batch"), N = layer.Size("seq_len"),
            D = layer.Size("d_model");
  const int P = layer.handler->out_len();
  const std::vector<float> x = ToFloats(g.tensors.at("x"));
  const std::vector<float> dout = ToFloats(g.tensors.at("dout"));
  std::vector<uint8_t> mask;
  for (double m : g.tensors.at("mask").values) mask.push_back(m != 0);
  RETURN_IF_ERROR(SizeIs("x", x.size(), int64_t{B} * N * D));
  RETURN_IF_ERROR(SizeIs("mask", mask.size(), int64_t{B} * N));
  RETURN_IF_ERROR(SizeIs("dout", dout.size(), int64_t{B} * P * D));
  layer.out.assign(static_cast<size_t>(B) * P * D, 0.0f);
  layer.dx.assign(static_cast<size_t>(B) * N * D, 0.0f);
  layer.pool.assign(static_cast<size_t>(B) * P, 0);
  SequenceStep step;
  step.seqs = B;
  step.key_mask = mask.data();
  layer.handler->Forward(layer.blocks, x.data(), step, layer.out.data(),
                         layer.pool.data());
  layer.handler->Backward(layer.blocks, dout.data(), layer.dx.data());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<GoldenLayer>> RunGoldenLayer(
    const std::string& path,
    const std::function<void(const GoldenFile&, ModelConfig*)>& configure) {
  auto layer = std::make_unique<GoldenLayer>();
  ASSIGN_OR_RETURN(layer->golden, ReadGoldenFile(path));
  ModelConfig config;
  config.set_d_model(layer->Size("d_model"));
  config.set_num_layers(1);
  config.set_num_heads(layer->Size("heads"));
  config.set_qkv_dim(layer->Size("qkv_dim"));
  config.set_mlp_dim(layer->Size("mlp_dim"));
  configure(layer->golden, &config);
  RETURN_IF_ERROR(Build(config, *layer));
  RETURN_IF_ERROR(LoadParameters(*layer));
  RETURN_IF_ERROR(Run(*layer));
  return layer;
}

}  // namespace lra
