// One pre-LN transformer block, the unit the encoder loops over:
//   x_mid = x + dropout(mixer(LN1(x)))
//   x_out = x_mid + dropout(dropout(GELU(LN2(x_mid) W1 + b1)) W2 + b2)
// Forward keeps what Backward needs; Backward runs the same steps reversed.
#ifndef LRA_MODELS_BLOCK_H_
#define LRA_MODELS_BLOCK_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "models/layers.h"
#include "models/linear.h"
#include "models/mixer.h"
#include "models/packed_mixer.h"
#include "models/parameters.h"
#include "models/scratch.h"
#include "models/tensor.h"

namespace lra {

// Dropout sites: each gets its own seed under a step's dropout seed, so masks
// are pure functions of (seed, layer, site).
enum DropoutSite {
  kSiteEmbed,
  kSiteMixerOut,
  kSiteMlpAct,
  kSiteMlpOut,
  kSiteMixer,
};
// The seed of `site` in `layer` (-1 for sites before the first block).
uint64_t DropoutSiteSeed(uint64_t seed, int layer, DropoutSite site);

struct BlockShape {
  int max_seqs = 1;  // B'
  int seq_len = 1;   // N
  int d_model = 1;   // D
  int mlp_dim = 1;   // M
  float dropout = 0.0f;
  int index = 0;  // layer index: names "layer{index}." and dropout seeds
};

// What changes from step to step.
struct BlockStep {
  int seqs = 0;                       // B' <= max_seqs
  const uint8_t* key_mask = nullptr;  // [B', N], 1 = real position
  bool training = false;
  uint64_t dropout_seed = 0;  // the step's seed; sites derive from it
  // The real rows of key_mask, packed (see PackedRows in layers.h), or
  // nullptr. When set, x_in and x_out are [R, D] packed rows and every
  // row-wise layer runs on those rows only; needs SupportsPackedRows().
  // Dropout masks are drawn so that each real element gets the same mask as
  // in the padded layout.
  const PackedRows* packed = nullptr;
};

// A block's own weights (the mixer holds its own); used for values and for
// gradients.
struct BlockWeights {
  BlockWeights(int64_t d, int64_t m) : ln1(d), ln2(d), mlp(d, m, d) {}
  LayerNormWeights ln1, ln2;
  MlpWeights mlp;
};

class Block {
 public:
  Block(const BlockShape& shape, std::unique_ptr<TokenMixer> mixer,
        ScratchBuffers* scratch);

  // "layer{i}.ln1.*", the mixer's ("layer{i}.attn.*"), "layer{i}.ln2.*",
  // "layer{i}.mlp.*", in that order.
  void ForEachWeight(const WeightVisitor& fn);
  TokenMixer& mixer() { return *mixer_; }
  // Whether Forward accepts step.packed: the mixer runs on packed rows.
  bool SupportsPackedRows() const {
    return packed_mixer_ != nullptr && packed_mixer_->packed_rows_supported();
  }
  // LN1's values and gradients, for a mixer that normalises context rows of
  // its own with the block's LN1 (Transformer-XL's cached memory).
  LayerNormWeights& ln1_weights() { return w_.ln1; }
  LayerNormWeights& ln1_grads() { return g_.ln1; }

  // x_in, x_out: [B', N, D] (with step.packed: [R, D]). x_in must stay
  // alive and unchanged until Backward (it is read there).
  void Forward(const float* x_in, const BlockStep& step, float* x_out);
  // On entry dx [B', N, D] ([R, D] packed) holds d(x_out); on return
  // d(x_in). Adds into the parameter gradients.
  void Backward(float* dx);

 private:
  BlockShape shape_;
  BlockWeights w_, g_;
  std::unique_ptr<TokenMixer> mixer_;
  PackedRowsMixer* packed_mixer_;  // mixer_ as a PackedRowsMixer, or null
  Linear fc1_, fc2_;

  // State of the last Forward. Row buffers [rows, ...] hold B' N padded
  // rows, or R packed rows; they are sized for PackedCapacity(B' N) rows.
  const float* x_in_ = nullptr;  // [rows, D]
  int seqs_ = 0;
  int64_t rows_ = 0;     // rows of the last Forward (B' N or R)
  bool packed_ = false;  // the last Forward ran on packed rows
  bool dropout_active_ = false;
  Tensor ln1_;                           // [rows, D]
  Tensor ln1_mean_, ln1_rstd_;           // [rows]
  Tensor x_mid_;                         // [rows, D]
  Tensor ln2_;                           // [rows, D]
  Tensor ln2_mean_, ln2_rstd_;           // [rows]
  Tensor mlp_pre_;                       // [rows, M] before GELU
  Tensor mlp_act_;                       // [rows, M] after GELU and dropout
  std::vector<uint8_t> mixer_out_mask_;  // [rows, D]
  std::vector<uint8_t> mlp_act_mask_;    // [rows, M]
  std::vector<uint8_t> mlp_out_mask_;    // [rows, D]
  // Shared temporaries.
  ScratchRef branch_;    // [rows, D] a branch's output or gradient
  ScratchRef d_normed_;  // [rows, D] gradient of an LN output
  ScratchRef d_mlp_;     // [rows, M]
};

}  // namespace lra

#endif  // LRA_MODELS_BLOCK_H_
