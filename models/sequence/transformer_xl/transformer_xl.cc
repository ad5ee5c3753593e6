#include "models/sequence/transformer_xl/transformer_xl.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "models/rng.h"
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
  // Memory reaching before the sequence start is always masked, so it need
  // not be held.
  m_ = std::min(options.mem_len, (g_ - 1) * s_);
  const int64_t B = shape.max_seqs, S = s_, D = d_;
  for (int i = 0; i < g_ * layers_; ++i) {
    inputs_.emplace_back(std::vector<int64_t>{B, S, D});
    if (options.freeze_memory)
      frozen_.emplace_back(std::vector<int64_t>{B, S, D});
  }
  seg_mask_.assign(static_cast<size_t>(g_) * B * S, 0);
  seg_out_ = Tensor({B, S, D});
  dseg_ = Tensor({B, S, D});
}

absl::StatusOr<std::unique_ptr<TokenMixer>> TransformerXl::MakeMixer(
    const MixerShape& shape, ScratchBuffers* scratch) {
  RelativeAttentionShape attention;
  attention.max_seqs = shape.max_seqs;
  attention.seg_len = s_;
  attention.mem_len = m_;
  attention.d_model = d_;
  attention.heads = options_.heads;
  attention.qkv_dim = options_.qkv_dim;
  attention.attention_dropout = options_.attention_dropout;
  attention.broken_position_gradient = options_.broken_position_gradient;
  auto mixer = std::make_unique<RelativeAttention>(attention, scratch);
  mixers_.push_back(mixer.get());
  return std::unique_ptr<TokenMixer>(std::move(mixer));
}

void TransformerXl::FillMemory(int l, int g) {
  RelativeAttention& mixer = *mixers_[l];
  const int B = step_.seqs, S = s_, M = m_, D = d_;
  const std::vector<Tensor>& source =
      options_.freeze_memory && frozen_ready_ ? frozen_ : inputs_;
  float* mem = mixer.memory();          // [B', M, D]
  uint8_t* mask = mixer.memory_mask();  // [B', M]
  for (int t = 0; t < M; ++t) {
    const int pos = g * S - M + t;
    for (int b = 0; b < B; ++b) {
      float* dst = mem + (static_cast<int64_t>(b) * M + t) * D;
      uint8_t& real = mask[static_cast<int64_t>(b) * M + t];
      if (pos < 0) {
        std::memset(dst, 0, sizeof(float) * D);
        real = 0;
        continue;
      }
      const int seg = pos / S, off = pos % S;
      std::memcpy(dst,
                  source[seg * layers_ + l].data() +
                      (static_cast<int64_t>(b) * S + off) * D,
                  sizeof(float) * D);
      real =
          seg_mask_[(static_cast<size_t>(seg) * shape_.max_seqs + b) * S + off];
    }
  }
}

void TransformerXl::RunSegment(BlockList& blocks, int g) {
  BlockStep step;
  step.seqs = step_.seqs;
  step.key_mask =
      seg_mask_.data() + static_cast<size_t>(g) * shape_.max_seqs * s_;
  step.training = step_.training;
  // Each segment's dropout masks are its own and the same when recomputed.
  step.dropout_seed = DeriveSeed(step_.dropout_seed, 0x7e1000 + g);
  for (int l = 0; l < layers_; ++l) {
    FillMemory(l, g);
    blocks[l]->Forward(
        Input(g, l).data(), step,
        l + 1 < layers_ ? Input(g, l + 1).data() : seg_out_.data());
  }
}

void TransformerXl::Forward(BlockList& blocks, const float* x,
                            const SequenceStep& step, float* out,
                            uint8_t* pool_mask) {
  step_ = step;
  const int B = step.seqs, S = s_, D = d_, N = n_;
  for (int l = 0; l < layers_; ++l) {
    mixers_[l]->SetLayerNorm(&blocks[l]->ln1_weights(),
                             &blocks[l]->ln1_grads());
  }
  for (int g = 0; g < g_; ++g) {
    float* in = Input(g, 0).data();  // [B', S, D]
    uint8_t* mask =
        seg_mask_.data() + static_cast<size_t>(g) * shape_.max_seqs * S;
    for (int b = 0; b < B; ++b) {
      for (int t = 0; t < S; ++t) {
        const int pos = g * S + t;
        float* dst = in + (static_cast<int64_t>(b) * S + t) * D;
        if (pos < N) {
          std::memcpy(dst, x + (static_cast<int64_t>(b) * N + pos) * D,
                      sizeof(float) * D);
          mask[b * S + t] = step.key_mask[static_cast<int64_t>(b) * N + pos];
        } else {
          std::memset(dst, 0, sizeof(float) * D);
          mask[b * S + t] = 0;
        }
      }
    }
    RunSegment(blocks, g);
    const float* y = seg_out_.data();
    for (int b = 0; b < B; ++b) {
      const int count = std::min(S, N - g * S);
      std::memcpy(out + (static_cast<int64_t>(b) * N + g * S) * D,
                  y + static_cast<int64_t>(b) * S * D,
                  sizeof(float) * count * D);
    }
  }
  std::memcpy(pool_mask, step.key_mask, static_cast<size_t>(B) * N);
  if (options_.freeze_memory && !frozen_ready_) {
    for (size_t i = 0; i < inputs_.size(); ++i) {
      std::memcpy(frozen_[i].data(), inputs_[i].data(),
                  sizeof(float) * inputs_[i].size());
    }
    frozen_ready_ = true;
  }
}

void TransformerXl::Backward(BlockList& blocks, const float* dout, float* dx) {
  const int B = step_.seqs, S = s_, D = d_, N = n_;
  for (int g = g_ - 1; g >= 0; --g) {
    // The last segment's state is still in the blocks; the others are
    // recomputed from their stored inputs and memory.
    if (g != g_ - 1) RunSegment(blocks, g);
    const int count = std::min(S, N - g * S);
    float* dy = dseg_.data();  // [B', S, D]
    for (int b = 0; b < B; ++b) {
      float* row = dy + static_cast<int64_t>(b) * S * D;
      std::memcpy(row, dout + (static_cast<int64_t>(b) * N + g * S) * D,
                  sizeof(float) * count * D);
      std::memset(row + static_cast<int64_t>(count) * D, 0,
                  sizeof(float) * (S - count) * D);
    }
    for (int l = layers_ - 1; l >= 0; --l) blocks[l]->Backward(dy);
    // Nothing flows into the memory: this segment's input gradient is all.
    for (int b = 0; b < B; ++b) {
      std::memcpy(dx + (static_cast<int64_t>(b) * N + g * S) * D,
                  dy + static_cast<int64_t>(b) * S * D,
                  sizeof(float) * count * D);
    }
  }
}

namespace {

absl::Status Bad(const std::string& plugin, const std::string& param,
                 double value, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat("sequence '", plugin,
                                                 "': param ", param, " = ",
                                                 value, " is invalid; ", rule));
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
      "positions and the u, v biases; pools the mean over real tokens. "
      "Brings its own attention (model.attention must be unset or full)";
  plugin.params = {
      PluginParamSpec::Number("segment_len", 512,
                              "tokens per segment (the last one is padded)"),
      PluginParamSpec::Number(
          "mem_len", 512,
          "cached positions before the segment each layer attends to (may "
          "span several segments; 0 = none)"),
  };
  plugin.capabilities = {true, true,
                         "O(N / S) segments of O(S (S + M)) attention"};
  const std::string name = plugin.name;
  plugin.factory = [name, freeze_memory, broken](const PluginParams& params,
                                                 const SequenceShape& shape,
                                                 const ModelConfig& model)
      -> absl::StatusOr<std::unique_ptr<SequenceHandler>> {
    ASSIGN_OR_RETURN(double segment, params.Number("segment_len"));
    if (segment < 1 || segment != static_cast<int>(segment)) {
      return Bad(name, "segment_len", segment, "must be an integer >= 1");
    }
    ASSIGN_OR_RETURN(double mem, params.Number("mem_len"));
    if (mem < 0 || mem != static_cast<int>(mem)) {
      return Bad(name, "mem_len", mem, "must be an integer >= 0");
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
    TransformerXlOptions options;
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
