// One pre-LN transformer block, the unit the encoder loops over:
//   x_mid = x + dropout(mixer(LN1(x)))
//   x_out = x_mid + dropout(dropout(GELU(LN2(x_mid) W1 + b1)) W2 + b2)
// Forward keeps what Backward needs; Backward runs the same steps reversed.
#ifndef LRA_MODELS_BLOCK_H_
#define LRA_MODELS_BLOCK_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "models/linear.h"
#include "models/mixer.h"
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
  // LN1's values and gradients, for a mixer that normalises context rows of
  // its own with the block's LN1 (Transformer-XL's cached memory).
  LayerNormWeights& ln1_weights() { return w_.ln1; }
  LayerNormWeights& ln1_grads() { return g_.ln1; }

  // x_in, x_out: [B', N, D]. x_in must stay alive and unchanged until
  // Backward (it is read there).
  void Forward(const float* x_in, const BlockStep& step, float* x_out);
  // On entry dx [B', N, D] holds d(x_out); on return d(x_in). Adds into the
  // parameter gradients.
  void Backward(float* dx);

 private:
  BlockShape shape_;
  BlockWeights w_, g_;
  std::unique_ptr<TokenMixer> mixer_;
  Linear fc1_, fc2_;

  // State of the last Forward.
  const float* x_in_ = nullptr;  // [B', N, D]
  int seqs_ = 0;
  bool dropout_active_ = false;
  Tensor ln1_;                           // [B', N, D]
  Tensor ln1_mean_, ln1_rstd_;           // [B', N]
  Tensor x_mid_;                         // [B', N, D]
  Tensor ln2_;                           // [B', N, D]
  Tensor ln2_mean_, ln2_rstd_;           // [B', N]
  Tensor mlp_pre_;                       // [B', N, M] before GELU
  Tensor mlp_act_;                       // [B', N, M] after GELU and dropout
  std::vector<uint8_t> mixer_out_mask_;  // [B', N, D]
  std::vector<uint8_t> mlp_act_mask_;    // [B', N, M]
  std::vector<uint8_t> mlp_out_mask_;    // [B', N, D]
  // Shared temporaries.
  ScratchRef branch_;    // [B', N, D] a branch's output or gradient
  ScratchRef d_normed_;  // [B', N, D] gradient of an LN output
  ScratchRef d_mlp_;     // [B', N, M]
};

}  // namespace lra

#endif  // LRA_MODELS_BLOCK_H_
