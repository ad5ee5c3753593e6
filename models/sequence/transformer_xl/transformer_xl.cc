#include "models/sequence/transformer_xl/transformer_xl.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace lra {

TransformerXl::TransformerXl(const SequenceShape& shape,
                             const TransformerXlOptions& options)
    : shape_(shape), options_(options) {
  n_ = shape.seq_len;
  d_ = shape.d_model;
  layers_ = shape.num_layers;
  s_ = std::min(options.segment_len, n_);
  g_ = (n_ + s_ - 1) / s_;
  padded_ = g_ * s_;
  // Memory reaching before the sequence start is always masked, so it need
  // not be held.
  m_ = std::min(options.mem_len, (g_ - 1) * s_);
  const int64_t B = shape.max_seqs, P = padded_, D = d_;
  for (int l = 0; l <= layers_; ++l) {
    inputs_.emplace_back(std::vector<int64_t>{B, P, D});
    if (options.freeze_memory && l < layers_) {
      frozen_.emplace_back(std::vector<int64_t>{B, P, D});
    }
  }
  mask_.assign(static_cast<size_t>(B * P), 0);
  grad_ = Tensor({B, P, D});
}

absl::StatusOr<std::unique_ptr<TokenMixer>> TransformerXl::MakeMixer(
    const MixerShape& shape, ScratchBuffers* scratch) {
  if (shape.seq_len != padded_) {
    return absl::InternalError(
        absl::StrCat("transformer_xl: the mixer of layer ", shape.layer_index,
                     " is built for ", shape.seq_len,
                     " positions, the handler runs blocks on ", padded_));
  }
  RelativeAttentionShape attention;
  attention.max_seqs = shape.max_seqs;
  attention.seg_len = s_;
  attention.num_segments = g_;
  attention.mem_len = m_;
  attention.d_model = d_;
  attention.heads = options_.heads;
  attention.qkv_dim = options_.qkv_dim;
  attention.attention_dropout = options_.attention_dropout;
  attention.separate_memory = options_.freeze_memory;
  attention.broken_position_gradient = options_.broken_position_gradient;
  auto mixer = std::make_unique<RelativeAttention>(attention, scratch);
  mixers_.push_back(mixer.get());
  return std::unique_ptr<TokenMixer>(std::move(mixer));
}

void TransformerXl::Forward(BlockList& blocks, const float* x,
                            const SequenceStep& step, float* out,
                            uint8_t* pool_mask) {
  step_ = step;
  const int B = step.seqs, P = padded_, D = d_, N = n_;
  const bool frozen = options_.freeze_memory && frozen_ready_;
  for (int l = 0; l < layers_; ++l) {
    mixers_[l]->SetLayerNorm(&blocks[l]->ln1_weights(),
                             &blocks[l]->ln1_grads());
    mixers_[l]->SetMemorySource(frozen ? frozen_[l].data() : inputs_[l].data(),
                                frozen);
  }
  // The padded sequence: positions N .. N' - 1 are zero and masked.
  float* in = inputs_[0].data();  // [B', N', D]
  for (int b = 0; b < B; ++b) {
    std::memcpy(in + static_cast<int64_t>(b) * P * D,
                x + static_cast<int64_t>(b) * N * D, sizeof(float) * N * D);
    std::memset(in + (static_cast<int64_t>(b) * P + N) * D, 0,
                sizeof(float) * (P - N) * D);
    uint8_t* mask = mask_.data() + static_cast<int64_t>(b) * P;
    std::memcpy(mask, step.key_mask + static_cast<int64_t>(b) * N, N);
    std::memset(mask + N, 0, P - N);
  }
  BlockStep block_step;
  block_step.seqs = B;
  block_step.key_mask = mask_.data();
  block_step.training = step.training;
  block_step.dropout_seed = step.dropout_seed;
  for (int l = 0; l < layers_; ++l) {
    blocks[l]->Forward(inputs_[l].data(), block_step, inputs_[l + 1].data());
  }
  const float* y = inputs_[layers_].data();
  for (int b = 0; b < B; ++b) {
    std::memcpy(out + static_cast<int64_t>(b) * N * D,
                y + static_cast<int64_t>(b) * P * D, sizeof(float) * N * D);
  }
  std::memcpy(pool_mask, step.key_mask, static_cast<size_t>(B) * N);
  if (options_.pool_last_segment) {
    for (int b = 0; b < B; ++b) {
      uint8_t* pm = pool_mask + static_cast<int64_t>(b) * N;
      int last = N - 1;
      while (last >= 0 && !pm[last]) --last;
      if (last < 0) continue;  // no real token: nothing to pool either way
      std::memset(pm, 0, (last / s_) * s_);
    }
  }
  if (options_.freeze_memory && !frozen_ready_) {
    for (int l = 0; l < layers_; ++l) {
      std::memcpy(frozen_[l].data(), inputs_[l].data(),
                  sizeof(float) * inputs_[l].size());
    }
    frozen_ready_ = true;
  }
}

void TransformerXl::Backward(BlockList& blocks, const float* dout, float* dx) {
  const int B = step_.seqs, P = padded_, D = d_, N = n_;
  float* dy = grad_.data();  // [B', N', D]
  for (int b = 0; b < B; ++b) {
    std::memcpy(dy + static_cast<int64_t>(b) * P * D,
                dout + static_cast<int64_t>(b) * N * D, sizeof(float) * N * D);
    std::memset(dy + (static_cast<int64_t>(b) * P + N) * D, 0,
                sizeof(float) * (P - N) * D);
  }
  // The attention keeps the stop-gradient: nothing reaches a layer input
  // through the memory of a later segment.
  for (int l = layers_ - 1; l >= 0; --l) blocks[l]->Backward(dy);
  for (int b = 0; b < B; ++b) {
    std::memcpy(dx + static_cast<int64_t>(b) * N * D,
                dy + static_cast<int64_t>(b) * P * D, sizeof(float) * N * D);
  }
}

namespace {

// Per layer, for a sequence of n real tokens in segments of S (the handler's
// S = min(segment_len, N), M = min(mem_len, (G - 1) S)): the queries of
// segment g (r_g real tokens) see k_g = min(M, g S) + r_g keys (the memory
// positions before the segment are real tokens whenever the segment holds
// one). Forward FLOPs:
//   projections: Q, K, V and output over the n real rows, 4 * 2 n D Q (a
//                memory row is a row of the same K and V, projected once);
//                the distances' table R Wr once per step, 2 (M + 2S - 1) D Q;
//   core:        content scores (q + u) k, position scores (q + v) r and
//                P V, each 2 r_g k_g Q per segment;
//   mlp:         the block's MLP over the n rows.
// Backward is counted as twice the forward, as for every block (the memory
// rows' key and value gradients go to Wk and Wv only, not further).
ForwardFlops TransformerXlFlops(const PluginParams& params,
                                const ModelConfig& model,
                                const std::vector<int>& lengths, int padded_len,
                                const BlockFlopsFn& block) {
  ForwardFlops flops;
  if (lengths.empty()) return flops;
  int n_max = padded_len;
  for (int n : lengths) n_max = std::max(n_max, n);
  const int segment =
      static_cast<int>(params.Number("segment_len").value_or(512));
  const int s = std::max(1, std::min(segment, n_max));
  const int g = (n_max + s - 1) / s;
  const int m = std::min(
      static_cast<int>(params.Number("mem_len").value_or(512)), (g - 1) * s);
  const double d = model.d_model();
  const double q = model.qkv_dim() > 0 ? model.qkv_dim() : d;
  flops.projections = 2.0 * (m + 2 * s - 1) * d * q;
  for (int n : lengths) {
    flops.projections += 4 * 2.0 * n * d * q;
    for (int start = 0; start < n; start += s) {
      const double rows = std::min(s, n - start);
      const double keys = std::min(m, start) + rows;
      flops.core += 3 * 2 * rows * keys * q;
    }
  }
  flops.mlp = block(lengths).mlp;
  flops *= model.num_layers();
  return flops;
}

SequencePlugin MakePlugin(bool freeze_memory, bool broken) {
  SequencePlugin plugin;
  plugin.name = broken          ? "broken_transformer_xl"
                : freeze_memory ? "transformer_xl_frozen"
                                : "transformer_xl";
  plugin.description =
      "Transformer-XL: segments of segment_len tokens; each layer attends "
      "(bidirectionally) over the segment plus its own inputs at the mem_len "
      "positions before it, cached without gradient, with relative "
      "positions and the u, v biases; pools the mean over real tokens (or "
      "those of the last segment). "
      "Brings its own attention (model.attention must be unset or full)";
  plugin.params = {
      PluginParamSpec::Number("segment_len", 512,
                              "tokens per segment (the last one is padded)"),
      PluginParamSpec::Number(
          "mem_len", 512,
          "cached positions before the segment each layer attends to (may "
          "span several segments; 0 = none)"),
      PluginParamSpec::Text(
          "pool", "tokens",
          "what the encoder averages: \"tokens\" (the real tokens of every "
          "segment) or \"last_segment\" (the real tokens of the last "
          "segment holding any: the answer read after the last segment)"),
  };
  plugin.capabilities = {true, true,
                         "O(N / S) segments of O(S (S + M)) attention"};
  plugin.capabilities.own_mixer = true;
  plugin.flops = TransformerXlFlops;
  const std::string name = plugin.name;
  plugin.factory = [name, freeze_memory, broken](const PluginParams& params,
                                                 const SequenceShape& shape,
                                                 const ModelConfig& model)
      -> absl::StatusOr<std::unique_ptr<SequenceHandler>> {
    ASSIGN_OR_RETURN(double segment, params.Number("segment_len"));
    if (segment < 1 || segment != static_cast<int>(segment)) {
      return SequenceParamError(name, "segment_len", segment,
                                "must be an integer >= 1");
    }
    ASSIGN_OR_RETURN(double mem, params.Number("mem_len"));
    if (mem < 0 || mem != static_cast<int>(mem)) {
      return SequenceParamError(name, "mem_len", mem,
                                "must be an integer >= 0");
    }
    const bool attention_mixer = model.mixer().name().empty() ||
                                 model.mixer().name() == kAttentionMixerName;
    if (!attention_mixer) {
      return absl::InvalidArgumentError(
          absl::StrCat("sequence '", name,
                       "' brings its own relative attention; "
                       "model.mixer must be unset (got '",
                       model.mixer().name(), "')"));
    }
    if ((!model.attention().name().empty() &&
         model.attention().name() != "full") ||
        !model.attention().param().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sequence '", name,
          "' brings its own relative attention; "
          "model.attention must be unset or 'full' without params (got '",
          model.attention().name(), "')"));
    }
    ASSIGN_OR_RETURN(std::string pool, params.Text("pool"));
    if (pool != "tokens" && pool != "last_segment") {
      return absl::InvalidArgumentError(absl::StrCat(
          "sequence '", name, "': param pool = \"", pool,
          "\" is invalid; must be \"tokens\" or \"last_segment\""));
    }
    TransformerXlOptions options;
    options.pool_last_segment = pool == "last_segment";
    options.segment_len = static_cast<int>(segment);
    options.mem_len = static_cast<int>(mem);
    options.heads = model.num_heads();
    options.qkv_dim = model.qkv_dim();
    options.attention_dropout = model.attention_dropout();
    options.freeze_memory = freeze_memory;
    options.broken_position_gradient = broken;
    return std::unique_ptr<SequenceHandler>(new TransformerXl(shape, options));
  };
  return plugin;
}

}  // namespace

SequencePlugin TransformerXlPlugin() { return MakePlugin(false, false); }

SequencePlugin TransformerXlPluginForTesting(bool freeze_memory, bool broken) {
  return MakePlugin(freeze_memory, broken);
}

}  // namespace lra
